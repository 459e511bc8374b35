/* spacetime genesis new, spacetime daemon: make a network's genesis file, and run its node
 * (chain, message pool, wallet, JSON-RPC API). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "chain/st_beacon.h"
#include "chain/st_chain.h"
#include "chain/st_consensus.h"
#include "chain/st_genesis.h"
#include "codec/st_token.h"
#include "commands.h"
#include "core/st_cli.h"
#include "core/st_fs.h"
#include "core/st_log.h"
#include "crypto/st_secp.h"
#include "net/st_http_server.h"
#include "rpc/st_apiinfo.h"
#include "rpc/st_explorer.h"
#include "rpc/st_fullnode.h"
#include "rpc/st_jsonrpc.h"
#include "rpc/st_jwt.h"

/* ---------------------------------------------------------------- genesis new */

static int genesis_new(int argc, char **argv) {
  /* the fixed flags, then one per network parameter (--block-delay, ...) */
  enum { F_NETWORK, F_ACCOUNT, F_TIMESTAMP, F_POOL, F_OUT, NFIXED };
  st_flag flags[NFIXED + 32];
  flags[F_NETWORK] = (st_flag)ST_FLAG("network", ST_FLAG_VALUE, "NAME", "devnet (default), testnet2020 or mainnet");
  flags[F_ACCOUNT] = (st_flag)ST_FLAG("account", ST_FLAG_LIST, "ADDR=FIL", "a pre-funded key address (repeatable)");
  flags[F_TIMESTAMP] = (st_flag)ST_FLAG("timestamp", ST_FLAG_VALUE, "UNIX", "when epoch 0 starts (default: now)");
  flags[F_POOL] = (st_flag)ST_FLAG("reward-pool", ST_FLAG_VALUE, "FIL", "the reward actor's balance (default 1000000)");
  flags[F_OUT] = (st_flag)ST_FLAG("out", ST_FLAG_VALUE, "FILE", "where to write the genesis (required)");
  for (size_t i = 0; i < ST_NETWORK_NPARAMS; i++)
    flags[NFIXED + i] = (st_flag)ST_FLAG(ST_NETWORK_PARAMS[i].flag, ST_FLAG_VALUE, "N", ST_NETWORK_PARAMS[i].help);
  st_cli cli = {flags, NFIXED + ST_NETWORK_NPARAMS, {0}, 0, false};
  int rc = st_cli_start(
      &cli, argc, argv, 0, "spacetime genesis new",
      "[--network NAME] [--account ADDR=FIL ...] [--PARAM N ...] --out FILE",
      "Write a genesis file: the network's parameters (each can be overridden), the pre-funded accounts and the start time.");
  if (rc >= 0) return rc;
  if (!flags[F_OUT].set) return st_cli_fail("--out FILE is required (run 'spacetime genesis new --help')");
  st_genesis g;
  st_genesis_init(&g);
  st_err err;
  st_code code = st_network_profile(flags[F_NETWORK].set ? flags[F_NETWORK].value : "devnet", &g.network, &err);
  for (size_t i = 0; i < ST_NETWORK_NPARAMS && !code; i++)
    if (flags[NFIXED + i].set) code = st_network_set(&g.network, flags[NFIXED + i].name, flags[NFIXED + i].value, &err);
  if (!code) code = st_network_check(&g.network, &err);
  for (int i = 0; i < flags[F_ACCOUNT].nvalues && !code; i++)
    code = st_genesis_add_account(&g, flags[F_ACCOUNT].values[i], &err);
  uint64_t ts = (uint64_t)time(NULL);
  if (!code && flags[F_TIMESTAMP].set) code = st_parse_u64(flags[F_TIMESTAMP].value, "--timestamp", &ts, &err);
  g.timestamp = ts;
  if (!code) code = st_fil_parse(flags[F_POOL].set ? flags[F_POOL].value : "1000000", g.reward_pool, &err);
  /* the beacon's secret key goes beside the genesis, for the daemon that runs the beacon */
  uint8_t beacon_sk[32];
  char key_path[4200];
  snprintf(key_path, sizeof key_path, "%s.beacon-key", flags[F_OUT].value);
  if (!code) code = st_genesis_new_beacon(&g, beacon_sk, &err);
  if (!code) code = st_fs_write_atomic(key_path, beacon_sk, sizeof beacon_sk, 0600, &err);
  st_secure_zero(beacon_sk, sizeof beacon_sk);
  if (!code) code = st_genesis_write(&g, flags[F_OUT].value, &err);
  if (!code)
    printf("wrote %s: network %s, %zu accounts, epoch 0 at %llu; beacon key %s\n", flags[F_OUT].value, g.network.name,
           g.naccounts, (unsigned long long)g.timestamp, key_path);
  st_genesis_clear(&g);
  return code ? st_cli_fail("%s", err.msg) : 0;
}

int st_cmd_genesis(int argc, char **argv) {
  static const st_cli_verb verbs[] = {{"new", genesis_new, "write a genesis file"}};
  return st_cli_dispatch("spacetime genesis", verbs, 1, argc, argv);
}

/* ---------------------------------------------------------------- daemon */

typedef struct daemon_ctx {
  st_chain *chain;
  st_fullnode node;
  bool standing_by; /* the producer waits: the network has power */
} daemon_ctx;

static void on_head(void *ctx, const st_tipset *head, const st_signed_message *reverted, size_t nreverted) {
  daemon_ctx *d = ctx;
  st_fullnode_head_changed(&d->node, head, reverted, nreverted);
  if (nreverted)
    st_logf("chain", ST_LOG_WARN, "reorganisation: %zu message(s) of reverted tipsets went back to the pool",
            nreverted);
  char cid[ST_CID_STR_MAX];
  st_cid_to_string(&head->key.cids[0], cid);
  st_logf("chain", ST_LOG_INFO, "new head at height %lld: %zu block(s), first %s", (long long)head->height, head->n,
          cid);
}

static void health(void *ctx, const st_http_request *req, st_http_response *resp) {
  daemon_ctx *d = ctx;
  if (st_explorer_serve(req, resp)) return;
  if (strcmp(req->path, "/health")) {
    st_http_reply_error(resp, 404, "no such page %.200s (the explorer is at /, the API is POST /rpc/v0 and /rpc/v1)",
                        req->path);
    return;
  }
  st_tipset head;
  st_tipset_init(&head);
  st_err err;
  if (st_chain_head(d->chain, &head, &err)) st_http_reply_error(resp, 500, "%s", err.msg);
  else st_http_reply_json(resp, 200, json_pack("{ss sI}", "status", "ok", "height", (json_int_t)head.height));
  st_tipset_free(&head);
}

/* Reads a beacon key file (32 bytes); ST_ENOENT if there is none. */
static st_code read_beacon_key(const char *path, uint8_t sk[32], st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_code code = st_fs_read_file(path, 1024, &b, err);
  if (!code && b.len != 32)
    code = st_err_set(err, ST_EINVAL, "beacon key path=\"%s\" is %zu bytes, not 32", path, b.len);
  if (!code) memcpy(sk, b.data, 32);
  if (b.data) st_secure_zero(b.data, b.len);
  st_buf_free(&b);
  return code;
}

/* The beacon's secret key, for the node: --beacon-key FILE, else FILE.beacon-key beside
 * --genesis FILE (as 'genesis new' writes it), else the repo's copy (repo/beacon-key). Its public
 * key must be the genesis's beacon. A key from outside the repo is kept there (0600), so a
 * restart without --genesis still has it. No key at all is not an error: *have says so. */
static st_code beacon_key(const char *repo, const char *flag, const char *genesis, st_fullnode *node, bool *have,
                          st_err *err) {
  char beside[4200], kept[4200];
  snprintf(kept, sizeof kept, "%s/beacon-key", repo);
  snprintf(beside, sizeof beside, "%s.beacon-key", genesis ? genesis : "");
  uint8_t sk[32], old[32];
  const char *path = flag ? flag : genesis ? beside : kept;
  st_code code = read_beacon_key(path, sk, err);
  if (code == ST_ENOENT && !flag && genesis) code = read_beacon_key(path = kept, sk, err);
  if (code && code != ST_ENOENT && !strstr(err->msg, "beacon key")) st_err_wrap(err, code, "beacon key");
  if (code == ST_ENOENT && flag) st_err_wrap(err, code, "--beacon-key");
  *have = !code;
  if (code == ST_ENOENT && !flag) code = ST_OK; /* none: the daemon runs without the beacon */
  if (*have && (code = st_fullnode_set_beacon_key(node, sk, err))) {
    *have = false;
    char why[ST_ERR_MSG_MAX];
    snprintf(why, sizeof why, "%s", err->msg);
    code = st_err_set(err, code, "beacon key path=\"%s\": %s: %s", path, why,
                      path == kept
                          ? "it is another chain's (pass --beacon-key FILE, or remove it to run without the beacon)"
                          : "use the FILE.beacon-key that 'genesis new' wrote beside this chain's genesis FILE");
  }
  /* remember it in the repo, replacing a copy from another chain */
  if (*have && path != kept && (read_beacon_key(kept, old, NULL) || memcmp(old, sk, sizeof sk)))
    code = st_fs_write_atomic(kept, sk, sizeof sk, 0600, err);
  st_secure_zero(sk, sizeof sk);
  st_secure_zero(old, sizeof old);
  return code;
}

/* Builds and submits this epoch's block for the producer, if the head is behind it. */
static void produce(daemon_ctx *d, const st_address *producer) {
  st_err err;
  int64_t epoch = st_chain_epoch_at(d->chain, (uint64_t)time(NULL));
  st_tipset head;
  st_tipset_init(&head);
  if (st_chain_head(d->chain, &head, &err) || epoch <= head.height) {
    st_tipset_free(&head);
    return;
  }
  /* bootstrap blocks only while nobody has power at the election's lookback */
  st_tipset lb;
  st_tipset_init(&lb);
  int64_t at = epoch - st_chain_network(d->chain)->election_lookback;
  bool powered = false;
  if (!st_chain_tipset_at(d->chain, at > 0 ? at : 0, &lb, NULL)) {
    st_power_state ps; /* initialised by the call, whatever it returns */
    powered = !st_chain_power_state(d->chain, &lb.key, &ps, NULL) && mpz_sgn(ps.total_qa) > 0;
    st_power_state_free(&ps);
  }
  st_tipset_free(&lb);
  if (powered != d->standing_by) {
    d->standing_by = powered;
    st_logf("chain", ST_LOG_INFO,
            powered
                ? "the network has power at the lookback: blocks now come from elected miners, the producer stands by"
                : "no power at the lookback: the producer makes the blocks");
  }
  /* the liveness rule: power, but no miner made a block for bootstrap-after-nulls rounds */
  const st_network *net = st_chain_network(d->chain);
  bool nulls = powered && st_consensus_bootstrap_by_nulls(net, head.height, epoch);
  if (nulls)
    st_logf(
        "chain", ST_LOG_WARN,
        "no miner made a block in the last %lld rounds: the producer makes height %lld (bootstrap-after-nulls %lld)",
        (long long)(epoch - head.height - 1), (long long)epoch, (long long)net->bootstrap_after_nulls);
  if (powered && !nulls) {
    st_tipset_free(&head);
    return;
  }
  uint8_t sk[32];
  st_block_header b;
  st_block_header_init(&b);
  st_signed_message *msgs = NULL;
  size_t n = 0;
  st_code code = ST_OK;
  /* the beacon's entries for the rounds since the head, so miners can draw beacon randomness */
  for (int64_t r = st_consensus_first_beacon_round(head.height, epoch); d->node.has_beacon && r <= epoch && !code;
       r++) {
    uint8_t e[ST_BEACON_ENTRY_LEN];
    code = st_beacon_make(d->node.beacon_sk, (uint64_t)r, e, &err);
    if (!code) code = st_block_header_add_beacon(&b, (uint64_t)r, e, sizeof e, &err);
  }
  st_tipset_free(&head);
  if (!code) code = st_fullnode_wallet_key(&d->node, producer, sk, &err);
  if (!code) {
    pthread_mutex_lock(&d->node.pool_mu);
    code = st_chain_build_block(d->chain, sk, epoch, d->node.pool, &b, &msgs, &n, &err);
    pthread_mutex_unlock(&d->node.pool_mu);
  }
  st_secure_zero(sk, sizeof sk);
  if (!code) code = st_chain_submit_block(d->chain, &b, msgs, n, NULL, (uint64_t)time(NULL), &err);
  if (code) st_logf("chain", ST_LOG_ERROR, "could not produce the block at height %lld: %s", (long long)epoch, err.msg);
  else st_logf("chain", ST_LOG_INFO, "produced the block at height %lld with %zu message(s)", (long long)epoch, n);
  for (size_t i = 0; i < n; i++) st_signed_message_free(&msgs[i]);
  free(msgs);
  st_block_header_free(&b);
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
  };
  st_cli cli = {flags, sizeof flags / sizeof flags[0], {0}, 0, false};
  int rc = st_cli_start(&cli, argc, argv, 0, "spacetime daemon",
                        "[--repo DIR] [--genesis FILE] [--api PORT] [--producer ADDR] [--beacon-key FILE]",
                        "Run the chain node: store, message pool, wallet and the JSON-RPC API.");
  if (rc >= 0) return rc;
  st_err err;
  char repo[4096], gpath[4200], listen[300], maddr[ST_APIINFO_ADDR_MAX];
  const char *home = getenv("HOME");
  snprintf(repo, sizeof repo, "%s", cli.flags[0].set ? cli.flags[0].value : "");
  if (!repo[0]) snprintf(repo, sizeof repo, "%s/.spacetime", home && *home ? home : ".");
  if (mkdir(repo, 0700) && errno != EEXIST)
    return st_cli_fail("could not create repo path=\"%s\": %s", repo, strerror(errno));
  snprintf(gpath, sizeof gpath, "%s/genesis.json", repo);
  st_genesis g;
  st_genesis_init(&g);
  st_code code;
  if (cli.flags[1].set) {
    code = st_genesis_read(cli.flags[1].value, &g, &err);
    if (!code) code = st_genesis_write(&g, gpath, &err); /* a restart needs no --genesis */
  } else {
    code = st_genesis_read(gpath, &g, &err);
    if (code == ST_ENOENT)
      code = st_err_set(
          &err, ST_EINVAL,
          "this repo has no chain yet: start it with --genesis FILE (make one with 'spacetime genesis new')");
  }
  uint64_t port = 1234;
  if (!code && cli.flags[2].set && (st_parse_u64(cli.flags[2].value, "--api", &port, &err) || port > 65535))
    code = st_err_set(&err, ST_EINVAL, "--api must be a port number from 0 to 65535");
  snprintf(listen, sizeof listen, "%s:%llu", cli.flags[3].set ? cli.flags[3].value : "127.0.0.1",
           (unsigned long long)port);
  st_address producer;
  if (!code && cli.flags[4].set && st_address_parse(cli.flags[4].value, &producer, NULL, &err))
    code = st_err_wrap(&err, ST_EINVAL, "--producer");
  daemon_ctx d = {0};
  uint8_t secret[ST_JWT_SECRET_LEN];
  char keystore[4200];
  snprintf(keystore, sizeof keystore, "%s/keystore", repo);
  if (!code) code = st_apiinfo_secret(repo, secret, &err);
  if (!code) code = st_chain_open(repo, &g, &d.chain, &err);
  bool node_ok = false;
  if (!code) node_ok = !(code = st_fullnode_init(&d.node, d.chain, keystore, secret, ST_VERSION, &err));
  bool beacon = false;
  if (!code)
    code = beacon_key(repo, cli.flags[5].set ? cli.flags[5].value : NULL, cli.flags[1].set ? cli.flags[1].value : NULL,
                      &d.node, &beacon, &err);
  if (!code && !beacon)
    st_logf(
        "chain", ST_LOG_WARN,
        "no beacon key (--beacon-key FILE, or the FILE.beacon-key beside --genesis FILE): this daemon cannot give beacon entries "
        "(StateGetBeaconEntry, MinerGetBaseInfo)");
  if (!code && cli.flags[4].set) {
    uint8_t sk[32];
    if (st_fullnode_wallet_key(&d.node, &producer, sk, &err)) code = st_err_wrap(&err, ST_EINVAL, "--producer");
    st_secure_zero(sk, sizeof sk);
  }
  /* the stop signals go to sigtimedwait below, not to any thread */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  size_t nmethods;
  const st_rpc_method *methods = st_fullnode_methods(&nmethods);
  st_rpc_opts ro = {.methods = methods,
                    .nmethods = nmethods,
                    .ctx = &d.node,
                    .jwt_secret = secret,
                    .fallback = health,
                    .fallback_ctx = &d};
  st_rpc *rpc = NULL;
  st_http_server *http = NULL;
  if (!code) code = st_rpc_new(&ro, &rpc, &err);
  if (!code) code = st_rpc_serve(rpc, listen, 8, &http, &err);
  char *token = NULL;
  if (!code) {
    char bound[300];
    snprintf(bound, sizeof bound, "%s:%u", cli.flags[3].set ? cli.flags[3].value : "127.0.0.1",
             st_http_server_port(http));
    code = st_multiaddr_from_listen(bound, maddr, sizeof maddr, &err);
  }
  if (!code) code = st_jwt_create(secret, ST_PERM_ALL, &token, &err);
  if (!code) code = st_apiinfo_write_token(repo, token, &err);
  if (!code) code = st_apiinfo_write_api(repo, maddr, &err);
  free(token);
  st_secure_zero(secret, sizeof secret);
  if (!code) {
    st_chain_on_head(d.chain, on_head, &d);
    st_tipset head;
    st_tipset_init(&head);
    if (!st_chain_head(d.chain, &head, &err))
      st_logf("chain", ST_LOG_INFO, "spacetime daemon: network %s, head at height %lld, API on %s (repo %s)",
              g.network.name, (long long)head.height, maddr, repo);
    st_tipset_free(&head);
    for (;;) {
      if (cli.flags[4].set) produce(&d, &producer);
      /* wake at the next epoch boundary, or at once on a stop signal */
      uint64_t now = (uint64_t)time(NULL), delay = (uint64_t)g.network.block_delay;
      uint64_t next = g.timestamp + ((now - g.timestamp) / delay + 1) * delay;
      struct timespec ts = {(time_t)(next > now ? next - now : 1), 0};
      if (!cli.flags[4].set) ts.tv_sec = 3600;
      int sig = sigtimedwait(&stop, NULL, &ts);
      if (sig > 0) {
        st_logf("chain", ST_LOG_INFO, "stopping on signal %d", sig);
        break;
      }
    }
    st_apiinfo_remove_api(repo, NULL);
  }
  if (node_ok) st_fullnode_stop(&d.node); /* waits in progress end, so the server can stop */
  st_http_server_stop(http);
  st_rpc_free(rpc);
  if (node_ok) st_fullnode_free(&d.node);
  st_chain_close(d.chain);
  st_genesis_clear(&g);
  return code ? st_cli_fail("%s", err.msg) : 0;
}
