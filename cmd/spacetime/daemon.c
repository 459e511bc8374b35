/* spacetime genesis new, spacetime daemon: make a network's genesis file, and run its node
 * (lib/node: st_daemon with its repo, st_daemon_repo). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/st_genesis.h"
#include "codec/st_token.h"
#include "commands.h"
#include "core/st_cli.h"
#include "core/st_fs.h"
#include "core/st_log.h"
#include "crypto/st_secp.h"
#include "node/st_daemon.h"
#include "node/st_daemon_repo.h"
#include "registry/st_registry_client.h"
#include "rpc/st_apiinfo.h"

/* ---------------------------------------------------------------- genesis new */

static int genesis_new(int argc, char **argv) {
  /* the fixed flags, then one per network parameter (--block-delay, ...) */
  enum { NFIXED = 5, NPARAMS_MAX = 32 };
  st_flag flags[NFIXED + NPARAMS_MAX] = {
      ST_FLAG("network", ST_FLAG_VALUE, "NAME", "devnet (default), testnet2020 or mainnet"),
      ST_FLAG("account", ST_FLAG_LIST, "ADDR=FIL", "a pre-funded key address (repeatable)"),
      ST_FLAG("timestamp", ST_FLAG_VALUE, "UNIX", "when epoch 0 starts (default: now)"),
      ST_FLAG("reward-pool", ST_FLAG_VALUE, "FIL", "the reward actor's balance (default 1000000)"),
      ST_FLAG("out", ST_FLAG_VALUE, "FILE", "where to write the genesis (required)")};
  size_t nparams = ST_NETWORK_NPARAMS < NPARAMS_MAX ? ST_NETWORK_NPARAMS : NPARAMS_MAX;
  for (size_t i = 0; i < nparams; i++)
    flags[NFIXED + i] = (st_flag)ST_FLAG(ST_NETWORK_PARAMS[i].flag, ST_FLAG_VALUE, "N", ST_NETWORK_PARAMS[i].help);
  st_cli cli = {flags, NFIXED + nparams, {0}, 0, false};
  int rc = st_cli_start(
      &cli, argc, argv, 0, "spacetime genesis new",
      "[--network NAME] [--account ADDR=FIL ...] [--PARAM N ...] --out FILE",
      "Write a genesis file: the network's parameters (each can be overridden), the pre-funded accounts and the start "
      "time.");
  if (rc >= 0) return rc;
  const char *out = st_cli_value(&cli, "out", NULL);
  if (!out) return st_cli_fail("--out FILE is required (run 'spacetime genesis new --help')");
  st_genesis g;
  st_genesis_init(&g);
  st_err err;
  st_code code = st_network_profile(st_cli_value(&cli, "network", "devnet"), &g.network, &err);
  for (size_t i = 0; i < nparams && !code; i++) {
    const char *v = st_cli_value(&cli, ST_NETWORK_PARAMS[i].flag, NULL);
    if (v) code = st_network_set(&g.network, ST_NETWORK_PARAMS[i].flag, v, &err);
  }
  if (!code) code = st_network_check(&g.network, &err);
  const st_flag *accounts = st_cli_flag(&cli, "account");
  for (int i = 0; i < accounts->nvalues && !code; i++) code = st_genesis_add_account(&g, accounts->values[i], &err);
  uint64_t ts = (uint64_t)time(NULL);
  if (!code) code = st_cli_u64(&cli, "timestamp", 0, UINT64_MAX, NULL, &ts, &err);
  g.timestamp = ts;
  if (!code) code = st_fil_parse(st_cli_value(&cli, "reward-pool", "1000000"), g.reward_pool, &err);
  /* the beacon's secret key goes beside the genesis, for the daemon that runs the beacon */
  uint8_t beacon_sk[32];
  char key_path[4200];
  snprintf(key_path, sizeof key_path, "%s.beacon-key", out);
  if (!code) code = st_genesis_new_beacon(&g, beacon_sk, &err);
  if (!code) code = st_fs_write_atomic(key_path, beacon_sk, sizeof beacon_sk, 0600, &err);
  st_secure_zero(beacon_sk, sizeof beacon_sk);
  if (!code) code = st_genesis_write(&g, out, &err);
  if (!code)
    printf("wrote %s: network %s, %zu accounts, epoch 0 at %llu; beacon key %s\n", out, g.network.name, g.naccounts,
           (unsigned long long)g.timestamp, key_path);
  st_genesis_clear(&g);
  return code ? st_cli_fail("%s", err.msg) : 0;
}

int st_cmd_genesis(int argc, char **argv) {
  static const st_cli_verb verbs[] = {{"new", genesis_new, "write a genesis file"}};
  return st_cli_dispatch("spacetime genesis", verbs, 1, argc, argv);
}

/* ---------------------------------------------------------------- daemon */

/* The registry's /health, into the daemon's /health; logged when it changes (and at start). */
static void check_registry(st_daemon *d, st_regc *reg, bool *was_up, bool first) {
  st_err err;
  int schema;
  bool up = !st_regc_health(reg, &schema, &err);
  st_daemon_set_registry(d, st_regc_url(reg), up, up ? "" : err.msg);
  if (up && (first || !*was_up))
    st_logf("chain", ST_LOG_INFO, "registry %s answers (schema %d)", st_regc_url(reg), schema);
  else if (!up && (first || *was_up))
    st_logf("chain", ST_LOG_WARN, "registry %s does not answer: %s (the chain goes on; /health shows it)",
            st_regc_url(reg), err.msg);
  *was_up = up;
}

/* Waits until the next epoch's boundary (an hour when nothing is done each epoch), or a stop
 * signal: its number, or 0. */
static int wait_epoch(const st_genesis *g, bool each_epoch, const sigset_t *stop) {
  uint64_t now = (uint64_t)time(NULL), delay = (uint64_t)g->network.block_delay;
  uint64_t next = g->timestamp + ((now - g->timestamp) / delay + 1) * delay;
  struct timespec ts = {(time_t)(next > now ? next - now : 1), 0};
  if (!each_epoch) ts.tv_sec = 3600;
  int sig = sigtimedwait(stop, NULL, &ts);
  return sig > 0 ? sig : 0;
}

int st_cmd_daemon(int argc, char **argv) {
  st_flag flags[] = {
      ST_FLAG("repo", ST_FLAG_VALUE, "DIR", "the node's folder (default ~/.spacetime)"),
      ST_FLAG("genesis", ST_FLAG_VALUE, "FILE", "the genesis file (needed on first start; kept in the repo)"),
      ST_FLAG("api", ST_FLAG_VALUE, "PORT", "API port on 127.0.0.1 (default 1234; 0 picks a free one)"),
      ST_FLAG("api-host", ST_FLAG_VALUE, "IP", "API address (default 127.0.0.1)"),
      ST_FLAG("producer", ST_FLAG_VALUE, "ADDR",
              "build each epoch's block as this wallet address while no miner has power (bootstrap)"),
      ST_FLAG("beacon-key", ST_FLAG_VALUE, "FILE",
              "the beacon's secret key (default: the genesis FILE's FILE.beacon-key; kept in the repo)"),
      ST_FLAG("server-api", ST_FLAG_VALUE, "URL[,URL...]",
              "the cluster's registry (spacetime-server): checked at start and each epoch, shown in /health "
              "and /metrics (default $SPACETIME_SERVER_API)"),
      ST_FLAG("bootstrap", ST_FLAG_VALUE, "true|false",
              "Lotus's flag for dialing bootstrap peers: accepted; this daemon has no peers to dial"),
  };
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(&cli, argc, argv, 0, "spacetime daemon",
                        "[--repo DIR] [--genesis FILE] [--api PORT] [--producer ADDR] [--beacon-key FILE] "
                        "[--server-api URL] [--bootstrap=false]",
                        "Run the chain node: store, message pool, wallet and the JSON-RPC API.");
  if (rc >= 0) return rc;
  const char *bootstrap = st_cli_value(&cli, "bootstrap", NULL);
  if (bootstrap && strcmp(bootstrap, "true") && strcmp(bootstrap, "false"))
    return st_cli_fail("--bootstrap must be true or false, not \"%s\"", bootstrap);
  if (bootstrap)
    st_logf("chain", ST_LOG_INFO, "--bootstrap=%s: this daemon has no libp2p peers to dial; nothing to do", bootstrap);
  const char *server_api = st_cli_value(&cli, "server-api", getenv("SPACETIME_SERVER_API"));
  const char *genesis_file = st_cli_value(&cli, "genesis", NULL), *host = st_cli_value(&cli, "api-host", "127.0.0.1");
  const char *producer_text = st_cli_value(&cli, "producer", NULL);
  st_err err;
  char repo[ST_DAEMON_REPO_MAX], listen[300], maddr[ST_APIINFO_ADDR_MAX];
  st_genesis g;
  uint64_t port = 1234;
  st_address producer;
  uint8_t secret[ST_JWT_SECRET_LEN], beacon_sk[32];
  bool beacon = false;
  st_daemon *d = NULL;
  st_code code = st_daemon_repo_open(st_cli_value(&cli, "repo", NULL), repo, &err);
  if (!code) code = st_daemon_repo_genesis(repo, genesis_file, &g, &err);
  else st_genesis_init(&g);
  if (!code && st_cli_u64(&cli, "api", 0, 65535, NULL, &port, NULL))
    code = st_err_set(&err, ST_EINVAL, "--api must be a port number from 0 to 65535");
  snprintf(listen, sizeof listen, "%s:%llu", host, (unsigned long long)port);
  if (!code && producer_text && st_address_parse(producer_text, &producer, NULL, &err))
    code = st_err_wrap(&err, ST_EINVAL, "--producer");
  if (!code) code = st_apiinfo_secret(repo, secret, &err);
  if (!code)
    code = st_daemon_repo_beacon_key(repo, st_cli_value(&cli, "beacon-key", NULL), genesis_file, &g, beacon_sk, &beacon,
                                     &err);
  st_daemon_config cfg = {.repo = repo,
                          .genesis = &g,
                          .listen = listen,
                          .jwt_secret = secret,
                          .version = ST_VERSION,
                          .beacon_sk = beacon ? beacon_sk : NULL,
                          .log_heads = true};
  /* the stop signals go to sigtimedwait below, not to any thread the
   * daemon starts */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  if (!code) code = st_daemon_start(&cfg, &d, &err);
  st_secure_zero(beacon_sk, sizeof beacon_sk);
  if (!code && !beacon)
    st_logf("chain", ST_LOG_WARN,
            "no beacon key (--beacon-key FILE, or the FILE.beacon-key beside --genesis FILE): this daemon cannot give "
            "beacon entries (StateGetBeaconEntry, MinerGetBaseInfo)");
  if (!code && producer_text && st_fullnode_check_key(st_daemon_fullnode(d), &producer, &err))
    code = st_err_wrap(&err, ST_EINVAL, "--producer");
  if (!code) code = st_daemon_repo_publish(repo, secret, host, st_daemon_port(d), maddr, &err);
  st_secure_zero(secret, sizeof secret);
  if (!code) {
    st_tipset head;
    st_tipset_init(&head);
    if (!st_chain_head(st_daemon_chain(d), &head, &err))
      st_logf("chain", ST_LOG_INFO, "spacetime daemon: network %s, head at height %lld, API on %s (repo %s)",
              g.network.name, (long long)head.height, maddr, repo);
    st_tipset_free(&head);
    st_regc *reg = NULL;
    if (server_api && st_regc_open(server_api, NULL, &reg, &err))
      st_logf("chain", ST_LOG_WARN, "--server-api: %s; the daemon runs without reporting the registry", err.msg);
    int sig = 0;
    bool was_up = false, first = true;
    while (!sig) {
      if (producer_text) st_daemon_produce(d, &producer); /* first: a slow registry must not delay a block */
      if (reg) check_registry(d, reg, &was_up, first);
      first = false;
      sig = wait_epoch(&g, producer_text != NULL || reg, &stop);
    }
    st_regc_close(reg);
    st_logf("chain", ST_LOG_INFO, "stopping on signal %d", sig);
    st_apiinfo_remove_api(repo, NULL);
  }
  st_daemon_stop(d);
  st_genesis_clear(&g);
  return code ? st_cli_fail("%s", err.msg) : 0;
}
