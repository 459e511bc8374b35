/* spacetime-miner: the storage miner (the seed's lotus-storage-miner). A thin program over
 * lib/miner: `init` makes the miner actor on chain and writes the repo's config; `run` runs the
 * sealer, the poster or both, and serves the miner's API (st_miner_api). The views are in
 * views.c. docs/cli.md documents every flag. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "codec/st_multiaddr.h"
#include "codec/st_token.h"
#include "core/st_cli.h"
#include "core/st_fs.h"
#include "core/st_log.h"
#include "miner.h"
#include "miner/st_cluster.h"
#include "miner/st_deals.h"
#include "miner/st_locator.h"
#include "miner/st_miner_api.h"
#include "miner/st_miner_create.h"
#include "miner/st_miner_msgs.h"
#include "miner/st_miner_repo.h"
#include "miner/st_poster.h"
#include "miner/st_sealer.h"
#include "rpc/st_apiinfo.h"
#include "rpc/st_node_api.h"
#include "rpc/st_rpc_client.h"

void miner_repo_of(const st_cli *cli, const char *flag, const char *dflt, char out[4096]) {
  st_apiinfo_repo(st_cli_value(cli, flag, NULL), dflt, out, 4096);
}

st_code miner_connect_node(const st_cli *cli, st_rpc_client **out, st_err *err) {
  char repo[4096];
  miner_repo_of(cli, "node-repo", ".spacetime", repo);
  return st_rpc_client_connect(getenv(ST_APIINFO_ENV), repo, out, err);
}

st_code miner_connect_self(const char *repo, st_rpc_client **out, st_err *err) {
  st_code code = st_rpc_client_connect(getenv(ST_MINER_API_ENV), repo, out, err);
  if (code == ST_ENOENT)
    return st_err_set(
        err, ST_EUNAVAIL,
        "the miner is not running: its repo %s has no api file (start it with 'spacetime-miner run --repo %s --dist-path DIR ...')",
        repo, repo);
  return code;
}

void miner_print_json(const json_t *j) {
  char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  printf("%s\n", text ? text : "null");
  free(text);
}

int miner_fail(const st_err *err) {
  if (err->code == ST_EUNAVAIL && !strncmp(err->msg, ST_MINER_API_PREFIX, strlen(ST_MINER_API_PREFIX)))
    return st_cli_fail("%s (is 'spacetime-miner run' running for this repo? after a crash its api file stays behind)",
                       err->msg);
  if (err->code == ST_EUNAVAIL && !strstr(err->msg, "spacetime-miner run"))
    return st_cli_fail("%s (is 'spacetime daemon' running?)", err->msg);
  return st_cli_fail("%s", err->msg);
}

/* ---------------------------------------------------------------- init */

static int cmd_init(int argc, char **argv) {
  st_flag flags[] = {
      REPO_FLAG,
      NODE_FLAG,
      ST_FLAG("owner", ST_FLAG_VALUE, "ADDR", "the owner's key address, in the daemon's wallet (required)"),
      ST_FLAG("worker", ST_FLAG_VALUE, "ADDR", "the worker's key address, in the daemon's wallet (default: the owner)"),
      ST_FLAG("sector-size", ST_FLAG_VALUE, "SIZE", "2KiB (default), 8MiB, 512MiB, 32GiB or 64GiB"),
      ST_FLAG("funds", ST_FLAG_VALUE, "FIL",
              "sent with CreateMiner, for pre-commit deposits and pledges (default 10)")};
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(&cli, argc, argv, 0, "spacetime-miner init",
                        "--owner ADDR [--worker ADDR] [--sector-size SIZE] [--repo DIR]",
                        "Create the miner actor on chain (power.CreateMiner) and write the repo's config.json.");
  if (rc >= 0) return rc;
  char repo[4096], path[ST_PATH_MAX];
  miner_repo_of(&cli, "repo", ".spacetime-miner", repo);
  st_err err;
  st_miner_config c = {0};
  const char *owner = st_cli_value(&cli, "owner", NULL);
  if (!owner)
    return st_cli_fail("--owner is required: the key address that owns the miner (see 'spacetime wallet list')");
  if (st_address_parse(owner, &c.owner, NULL, &err)) return st_cli_fail("--owner: %s", err.msg);
  if (st_address_parse(st_cli_value(&cli, "worker", owner), &c.worker, NULL, &err))
    return st_cli_fail("--worker: %s", err.msg);
  if (st_sector_lookup(st_cli_value(&cli, "sector-size", "2KiB"), &c.info, &err))
    return st_cli_fail("--sector-size: %s", err.msg);
  mpz_t funds;
  mpz_init(funds);
  if (st_fil_parse(st_cli_value(&cli, "funds", "10"), funds, &err)) {
    mpz_clear(funds);
    return st_cli_fail("--funds: %s", err.msg);
  }
  if (!st_miner_repo_path(repo, "config.json", path, &err) && access(path, F_OK) == 0) {
    mpz_clear(funds);
    return st_cli_fail("%s exists: this repo already holds a miner (use another --repo)", path);
  }
  st_rpc_client *node = NULL;
  st_cid cid;
  st_code code = miner_connect_node(&cli, &node, &err);
  if (!code) code = st_miner_create_push(node, &c.owner, &c.worker, c.info, funds, &cid, &err);
  mpz_clear(funds);
  if (!code) {
    fprintf(stderr, "waiting for CreateMiner to land ...\n");
    code = st_miner_create_wait(node, &cid, &c.miner, &err);
  }
  st_rpc_client_close(node);
  if (!code) code = st_miner_config_write(repo, &c, &err);
  if (code) return miner_fail(&err);
  printf("miner t0%llu created; its config is %s/config.json\n", (unsigned long long)c.miner, repo);
  return 0;
}

/* ---------------------------------------------------------------- run */

typedef struct run_ctx {
  char repo[4096], dist[4096], node_repo[4096];
  const char *mode, *server_api, *server_token;
  char token[ST_SERVER_TOKEN_MAX];        /* server_token's text, from the file, the environment or the repo */
  char token_given[ST_SERVER_TOKEN_MAX];  /* --server-token-file's first line */
  char listen[64], log_file[ST_PATH_MAX]; /* the API's address; the log, absolute (for doctor) */
  st_miner_config cfg;
  st_apiinfo node;
  st_network net;
  uint64_t genesis; /* its time */
  uint64_t chain;   /* the genesis block's CID, first 8 bytes of its digest: which chain this is */
  bool poster, sealer;
  int64_t group, confidence;
  int64_t pledge_at_once, pledge_total; /* 0: no pledging by itself; total 0: no total */
  bool pledge_done;                     /* the total is reached (logged once) */
  int64_t machine, lease;               /* this process in the cluster, and its claims' lease in seconds */
  size_t max_sealing;
  st_post_options post;
  size_t partitions;
  mpz_t max_fee;
  st_miner_api *api;
  volatile sig_atomic_t stop;
} run_ctx;

/* --pledge-at-once and --pledge-total: one more committed-capacity sector while fewer than the
 * first are sealing, until the miner's sectors (every one the sealing database holds, any state)
 * reach the second. */
static void pledge_more(run_ctx *r, st_sealer *s) {
  if (r->pledge_at_once <= 0 || r->pledge_done) return;
  st_err err;
  size_t inflight = 0, all = 0;
  st_sealing_sector *list = NULL;
  if (st_sealer_in_flight(s, &inflight, &err) || (int64_t)inflight >= r->pledge_at_once) return;
  if (r->pledge_total && !st_sealer_list(s, &list, &all, &err)) {
    free(list);
    if ((int64_t)all >= r->pledge_total) {
      r->pledge_done = true;
      st_logf("sectors", ST_LOG_INFO, "--pledge-total %lld reached: the miner has %zu sector(s); no more pledges",
              (long long)r->pledge_total, all);
      return;
    }
  }
  uint64_t n;
  if (st_sealer_pledge(s, &n, &err)) st_logf("sectors", ST_LOG_ERROR, "pledge: %s", err.msg);
}

static void nap(run_ctx *r, int64_t ms) {
  for (int64_t left = ms; left > 0 && !r->stop; left -= 100) {
    struct timespec ts = {0, (left < 100 ? left : 100) * 1000000L};
    nanosleep(&ts, NULL);
  }
}

/* A thread's own connections: the node, the registry (for paths) and the cluster. */
static st_code open_side(run_ctx *r, st_rpc_client **node, st_locator *loc, st_cluster **cluster, st_err *err) {
  *cluster = NULL;
  st_code code = st_rpc_client_open(&r->node, node, err);
  loc->dist = r->dist;
  loc->reg = NULL;
  if (!code && r->server_api) code = st_regc_open(r->server_api, r->server_token, &loc->reg, err);
  if (!code) code = st_cluster_open_repo(r->server_api, r->server_token, r->repo, r->cfg.miner, cluster, err);
  return code;
}

/* The poster's two threads, each with its own connections and st_poster: WindowPoSt and
 * declarations (mining false), and block production (mining true), so that a WinningPoSt
 * stuck on a storage host never holds up a deadline, nor, with its shorter timeout, the next
 * rounds. */
static void poster_loop(run_ctx *r, bool mining) {
  st_rpc_client *node = NULL;
  st_locator loc;
  st_cluster *cluster;
  st_err err;
  st_poster p;
  bool open = false;
  st_code code = open_side(r, &node, &loc, &cluster, &err);
  st_poster_cfg pc = {.wd = {.node = node,
                             .miner = r->cfg.miner,
                             .sender = r->cfg.worker,
                             .info = r->cfg.info,
                             .locate = st_locator_locate,
                             .locate_ctx = &loc,
                             .post = r->post,
                             .max_partitions = r->partitions,
                             .max_fee = mpz_sgn(r->max_fee) ? r->max_fee : NULL,
                             .machine = r->machine},
                      .confidence = r->confidence,
                      .mine = mining,
                      .cluster = cluster,
                      .machine = r->machine};
  /* a block made after its epoch is worthless: WinningPoSt gets at most half an epoch to read */
  unsigned half_epoch = (unsigned)(r->net.block_delay * 500);
  if (mining && (!pc.wd.post.timeout_ms || pc.wd.post.timeout_ms > half_epoch)) pc.wd.post.timeout_ms = half_epoch;
  if (!code) open = !(code = st_poster_open(&p, &pc, &err));
  if (code) {
    st_logf("storageminer", ST_LOG_ERROR, "the poster cannot start: %s", err.msg);
    r->stop = 1;
  }
  int64_t pause = r->net.block_delay * 1000 / 4;
  while (!r->stop && open) {
    int64_t round = (int64_t)(((uint64_t)time(NULL) - r->genesis) / (uint64_t)r->net.block_delay);
    if (mining) {
      if (st_poster_mine(&p, round, &err)) st_logf("storageminer", ST_LOG_WARN, "block production: %s", err.msg);
      st_miner_api_set_blocks(r->api, &p.stats);
    } else {
      if (st_poster_step(&p, 0, &err)) st_logf("storageminer", ST_LOG_WARN, "poster: %s", err.msg);
      st_miner_api_set_poster(r->api, &p.stats);
    }
    nap(r, pause < 100 ? 100 : pause);
  }
  if (open) st_poster_close(&p);
  st_cluster_close(cluster);
  st_regc_close(loc.reg);
  st_rpc_client_close(node);
}

static void *poster_thread(void *arg) {
  poster_loop(arg, false);
  return NULL;
}

static void *mining_thread(void *arg) {
  poster_loop(arg, true);
  return NULL;
}

/* Puts the API's address on chain (ChangeMultiaddrs) unless it is there: clients find the
 * miner's deal endpoint from StateMinerInfo, as Lotus clients dial a miner's Multiaddrs. */
static void announce(run_ctx *r, st_rpc_client *node) {
  uint8_t bin[ST_MULTIADDR_MAX];
  size_t len = 0;
  st_err err;
  st_node_miner_info info;
  st_code code = st_multiaddr_from_text(st_miner_api_addr(r->api), bin, sizeof bin, &len, &err);
  if (!code) code = st_node_get_miner_info(node, r->cfg.miner, &info, &err);
  bool same = !code && info.nmultiaddrs && info.multiaddr_len == len && !memcmp(info.multiaddr, bin, len);
  if (code || same) {
    if (code) st_logf("markets", ST_LOG_WARN, "cannot announce the deal address: %s", err.msg);
    return;
  }
  st_buf p = ST_BUF_INIT;
  st_params_change_multiaddrs(bin, len, &p);
  st_cid cid;
  if (st_node_send(node, &r->cfg.worker, r->cfg.miner, ST_METHOD_CHANGE_MULTIADDRS, p.data, p.len,
                   mpz_sgn(r->max_fee) ? r->max_fee : NULL, &cid, &err))
    st_logf("markets", ST_LOG_WARN, "cannot announce the deal address: %s", err.msg);
  else
    st_log("markets", ST_LOG_INFO, "announcing the deal address on chain (ChangeMultiaddrs)",
           json_pack("{s:s}", "addr", st_miner_api_addr(r->api)));
  st_buf_free(&p);
}

static void *sealer_thread(void *arg) {
  run_ctx *r = arg;
  st_rpc_client *node = NULL;
  st_locator loc;
  st_cluster *cluster;
  st_err err;
  char db[ST_PATH_MAX];
  st_sealer *s = NULL;
  st_code code = open_side(r, &node, &loc, &cluster, &err);
  if (!code) code = st_miner_repo_path(r->repo, "sealing.db", db, &err);
  st_sealer_cfg sc = {.cluster = cluster,
                      .machine = r->machine,
                      .max_sectors = r->max_sealing,
                      .node = node,
                      .miner = r->cfg.miner,
                      .sender = r->cfg.worker,
                      .info = r->cfg.info,
                      .registry = loc.reg,
                      .dist_path = r->dist,
                      .group = r->group,
                      .confidence = r->confidence,
                      .lifetime = 2 * 365 * 2880,
                      .max_retries = 5,
                      .retry_secs = 30,
                      .max_fee = mpz_sgn(r->max_fee) ? r->max_fee : NULL};
  if (!code) code = st_sealer_open(&sc, &s, &err);
  st_deals *deals = NULL;
  char dir[ST_PATH_MAX];
  st_deals_cfg dc = {
      .miner = r->cfg.miner, .info = r->cfg.info, .sender = r->cfg.worker, .dir = dir, .max_fee = sc.max_fee};
  if (!code) code = st_miner_repo_path(r->repo, "deals", dir, &err);
  if (!code) code = st_deals_open(&dc, db, &deals, &err);
  if (code) {
    st_logf("sectors", ST_LOG_ERROR, "the sealer cannot start: %s", err.msg);
    r->stop = 1;
  }
  if (!code) announce(r, node);
  while (!r->stop && s) {
    pledge_more(r, s);
    int changed = 0;
    if (st_sealer_step(s, &changed, &err)) st_logf("sectors", ST_LOG_WARN, "sealer: %s", err.msg);
    int moved = 0;
    if (st_deals_step(deals, node, s, &moved, &err)) st_logf("markets", ST_LOG_WARN, "deals: %s", err.msg);
    if (!changed && !moved) nap(r, r->net.block_delay * 1000 / 2);
  }
  st_deals_close(deals);
  st_sealer_close(s);
  st_cluster_close(cluster);
  st_regc_close(loc.reg);
  st_rpc_client_close(node);
  return NULL;
}

/* With a registry: the nodes this host mounts stay allocatable, on a thread of their own (a
 * 512 MiB seal holds the sealer's for a minute). */
static void *heartbeat_thread(void *arg) {
  run_ctx *r = arg;
  st_locator loc = {r->dist, NULL};
  st_err err;
  size_t reported;
  if (st_regc_open(r->server_api, r->server_token, &loc.reg, &err))
    st_logf("sectors", ST_LOG_ERROR, "storage heartbeats: %s", err.msg);
  while (!r->stop && loc.reg) {
    if (st_locator_heartbeat(&loc, &reported, &err)) st_logf("sectors", ST_LOG_WARN, "storage heartbeats: %s", err.msg);
    nap(r, ST_LOCATOR_HEARTBEAT_SECS * 1000);
  }
  st_regc_close(loc.reg);
  return NULL;
}

/* Renews this process's claims every third of their lease; leaves the cluster on a clean stop,
 * which frees its unfinished claims at once. */
static void *lease_thread(void *arg) {
  run_ctx *r = arg;
  st_cluster *c = NULL;
  st_err err;
  if (st_cluster_open_repo(r->server_api, r->server_token, r->repo, r->cfg.miner, &c, &err))
    st_logf("storageminer", ST_LOG_ERROR, "cluster leases: %s", err.msg);
  while (!r->stop && c) {
    if (st_cluster_heartbeat(c, r->cfg.miner, r->machine, &err))
      st_logf("storageminer", ST_LOG_WARN, "renewing the cluster leases of machine %lld: %s", (long long)r->machine,
              err.msg);
    nap(r, r->lease * 1000 / ST_CLUSTER_RENEW_DIV);
  }
  if (c && st_cluster_leave(c, r->cfg.miner, r->machine, &err))
    st_logf("storageminer", ST_LOG_WARN, "leaving the cluster: %s", err.msg);
  st_cluster_close(c);
  return NULL;
}

static run_ctx *the_run;
static void on_stop(int sig) {
  (void)sig;
  if (the_run) the_run->stop = 1;
}

/* The flags after the table's: -1 to go on, else the exit status. */
static int run_flags(const st_cli *cli, run_ctx *r) {
  st_err err;
  miner_repo_of(cli, "repo", ".spacetime-miner", r->repo);
  r->mode = st_cli_value(cli, "mode", "all");
  if (!strcmp(r->mode, "remote-sealer")) r->mode = "sealer"; /* the seed's name */
  r->poster = !strcmp(r->mode, "poster") || !strcmp(r->mode, "all");
  r->sealer = !strcmp(r->mode, "sealer") || !strcmp(r->mode, "all");
  if (!r->poster && !r->sealer)
    return st_cli_fail("--mode must be sealer (or remote-sealer), poster or all, not \"%s\"", r->mode);
  const char *dist = st_cli_value(cli, "dist-path", NULL), *text;
  if (!dist) return st_cli_fail("--dist-path is required: the folder under which this host mounts the storage nodes");
  snprintf(r->dist, sizeof r->dist, "%s", dist);
  r->server_api = st_cli_value(cli, "server-api", NULL);
  /* the token from a file or the environment, never the command line (/proc/PID/cmdline is public) */
  const char *tfile = st_cli_value(cli, "server-token-file", NULL), *tenv = getenv("SPACETIME_SERVER_TOKEN");
  r->server_token = tenv && *tenv ? tenv : NULL;
  if (tfile) {
    if (st_fs_read_line(tfile, r->token_given, sizeof r->token_given, &err))
      return st_cli_fail("--server-token-file: %s", err.msg);
    if (!r->token_given[0]) return st_cli_fail("--server-token-file: path=\"%s\" is missing or empty", tfile);
    r->server_token = r->token_given;
  }
  uint64_t group = 0, confidence = 2, at_once = 0, total = 0, partitions = 3, timeout_ms = 30000, parallel = 8,
           sealing = 4;
  if (st_cli_u64(cli, "groups", 0, INT32_MAX, NULL, &group, &err) ||
      st_cli_u64(cli, "max-sealing", 1, 1000, "sectors", &sealing, &err) ||
      st_cli_u64(cli, "confidence", 0, 1000, "epochs", &confidence, &err) ||
      st_cli_u64(cli, "pledge", 0, 1000, "sectors", &at_once, &err) ||
      st_cli_u64(cli, "pledge-at-once", 0, 1000, "sectors", &at_once, &err) ||
      st_cli_u64(cli, "pledge-total", 0, 10000000, "sectors", &total, &err))
    return st_cli_fail("%s", err.msg);
  if (st_cli_has(cli, "pledge") && st_cli_has(cli, "pledge-at-once"))
    return st_cli_fail("give --pledge-at-once N, not --pledge too (--pledge is its old name)");
  if (st_cli_has(cli, "pledge"))
    st_logf("sectors", ST_LOG_WARN,
            "--pledge %llu is --pledge-at-once %llu: that many sealing at once, with no end; --pledge-total N stops "
            "at N sectors in all",
            (unsigned long long)at_once, (unsigned long long)at_once);
  if (total && !st_cli_has(cli, "pledge") && !st_cli_has(cli, "pledge-at-once"))
    at_once = total < sealing ? total : sealing; /* a total alone: as many at once as this sealer works on */
  if ((text = st_cli_value(cli, "max-fee", NULL)) && st_fil_parse(text, r->max_fee, &err))
    return st_cli_fail("--max-fee: %s", err.msg);
  if (st_cli_u64(cli, "partitions-per-message", 1, 3, NULL, &partitions, &err) ||
      st_cli_u64(cli, "sector-timeout", 1, 3600000, "ms", &timeout_ms, &err) ||
      st_cli_u64(cli, "parallel", 1, 256, NULL, &parallel, &err))
    return st_cli_fail("%s", err.msg);
  r->group = st_cli_has(cli, "groups") ? (int64_t)group : -1;
  r->confidence = (int64_t)confidence;
  r->pledge_at_once = (int64_t)at_once;
  r->pledge_total = (int64_t)total;
  r->max_sealing = (size_t)sealing;
  r->partitions = (size_t)partitions;
  r->post = (st_post_options){.parallel = (unsigned)parallel, .timeout_ms = (unsigned)timeout_ms};
  return -1;
}

/* The log file, the repo's config and the daemon's network; the start-up lines, and the
 * registry recorded for doctor. -1 to go on, else the exit status. */
static int run_connect(const st_cli *cli, run_ctx *r) {
  st_err err;
  const char *log_flag = st_cli_value(cli, "log-file", NULL);
  if (log_flag && st_log_set_file(log_flag, &err)) return st_cli_fail("--log-file: %s", err.msg);
  if (st_miner_config_read(r->repo, &r->cfg, &err)) return st_cli_fail("%s", err.msg);
  if (r->server_api) {
    if (st_miner_repo_server_token(r->repo, r->server_token, r->token, &err)) return st_cli_fail("%s", err.msg);
    if (!r->token[0])
      return st_cli_fail(
          "--server-api needs the registry's write token: pass --server-token-file (the file \"token\" in the "
          "registry's repo) or set SPACETIME_SERVER_TOKEN once; run keeps it in %s/server-token",
          r->repo);
    r->server_token = r->token;
  }
  char nrepo[4096];
  miner_repo_of(cli, "node-repo", ".spacetime", nrepo);
  if (st_apiinfo_resolve(getenv(ST_APIINFO_ENV), nrepo, &r->node, &err)) return miner_fail(&err);
  st_rpc_client *node;
  if (st_rpc_client_open(&r->node, &node, &err)) return miner_fail(&err);
  st_code code = st_node_network(node, &r->net, &r->genesis, &err);
  st_tipset g;
  st_tipset_init(&g);
  if (!code) code = st_node_tipset_at(node, 0, &g, &err);
  if (!code && g.key.n && g.key.cids[0].digest_len >= 8) memcpy(&r->chain, g.key.cids[0].digest, 8);
  st_tipset_free(&g);
  st_rpc_client_close(node);
  if (code) return miner_fail(&err);
  st_log("storageminer", ST_LOG_INFO, "spacetime-miner starting",
         json_pack("{s:s, s:I, s:s, s:s}", "mode", r->mode, "miner", (json_int_t)r->cfg.miner, "dist-path", r->dist,
                   "server-api", r->server_api ? r->server_api : ""));
  if (!r->server_api)
    st_logf(
        "storageminer", ST_LOG_WARN,
        "no --server-api: sector paths resolve locally, as %s/sealed/s-t0%llu-N and %s/cache/s-t0%llu-N; storage nodes the registry knows "
        "(%s/<mount type>/<host>/...) will not be found",
        r->dist, (unsigned long long)r->cfg.miner, r->dist, (unsigned long long)r->cfg.miner, r->dist);
  /* the registry it runs with, for doctor to name when a later run forgets --server-api */
  char recorded[ST_PATH_MAX];
  if (r->server_api && !st_miner_repo_path(r->repo, "server-api", recorded, &err) &&
      st_fs_write_atomic(recorded, r->server_api, strlen(r->server_api), 0644, &err))
    st_logf("storageminer", ST_LOG_WARN, "could not record --server-api in the repo: %s", err.msg);
  return -1;
}

/* A repo is used by one process without --server-api, or by any number with it (the seed's
 * poster and sealers side by side); on the host, st_cluster_host_lock keeps a lone process
 * apart from every other process of the miner. -1 to go on (*lock and *host held), else the
 * exit status. */
static int run_lock(const run_ctx *r, int *lock, int *host) {
  st_err err;
  char lockpath[ST_PATH_MAX];
  bool shared = r->server_api != NULL;
  if (st_miner_repo_path(r->repo, "run.lock", lockpath, &err)) return st_cli_fail("%s", err.msg);
  if ((*lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
    return st_cli_fail("could not open path=\"%s\": %s", lockpath, strerror(errno));
  if (flock(*lock, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB))
    return st_cli_fail("another 'spacetime-miner run' is using the repo %s (it holds %s)%s", r->repo, lockpath,
                       shared ? " without --server-api: stop it, or give it the same --server-api as this one"
                              : ": stop it first, or run every process with --server-api to share the repo (a "
                                "cluster, docs/cluster.md)");
  if (st_cluster_host_lock(r->chain, r->cfg.miner, shared, host, &err)) return st_cli_fail("%s", err.msg);
  return -1;
}

/* Joins the miner's cluster: the leases last twice the epoch (st_cluster_lease_secs). -1 to go
 * on, else the exit status. */
static int run_join(run_ctx *r) {
  st_err err;
  st_cluster *c = NULL;
  r->lease = st_cluster_lease_secs(r->net.block_delay);
  const char *roles = r->poster && r->sealer ? "sealer,poster" : r->poster ? "poster" : "sealer";
  st_code code = st_cluster_open_repo(r->server_api, r->server_token, r->repo, r->cfg.miner, &c, &err);
  if (!code) code = st_cluster_join(c, r->cfg.miner, roles, ST_VERSION, r->lease, &r->machine, &err);
  st_cluster_close(c);
  if (code) return st_cli_fail("joining t0%llu's cluster: %s", (unsigned long long)r->cfg.miner, err.msg);
  char db[ST_PATH_MAX] = ""; /* where a lone process keeps the cluster's tables, for the log */
  if (!r->server_api) st_miner_repo_path(r->repo, "sealing.db", db, &err);
  st_log("storageminer", ST_LOG_INFO, "joined the cluster",
         json_pack("{s:I, s:s, s:s, s:I, s:I}", "machine", (json_int_t)r->machine, "roles", roles, "database",
                   r->server_api ? r->server_api : db, "lease", (json_int_t)r->lease, "pid", (json_int_t)getpid()));
  return -1;
}

/* The miner's API on --api. -1 to go on, else the exit status. */
static int run_api(const st_cli *cli, run_ctx *r) {
  st_err err;
  uint64_t port = 2345;
  const char *log_flag = st_cli_value(cli, "log-file", NULL);
  if (st_cli_u64(cli, "api", 0, 65535, NULL, &port, NULL))
    return st_cli_fail("--api must be a port number from 0 to 65535");
  snprintf(r->listen, sizeof r->listen, "127.0.0.1:%llu", (unsigned long long)port);
  if (log_flag && !realpath(log_flag, r->log_file)) snprintf(r->log_file, sizeof r->log_file, "%s", log_flag);
  st_miner_api_cfg ac = {.repo = r->repo,
                         .cfg = &r->cfg,
                         .mode = r->mode,
                         .dist_path = r->dist,
                         .server_api = r->server_api,
                         .server_token = r->server_token,
                         .node = &r->node,
                         .post = r->post,
                         .listen = r->listen,
                         .log_file = r->log_file,
                         .deal_seal_epochs = st_deal_seal_epochs(&r->net, r->confidence)};
  if (st_miner_api_start(&ac, &r->api, &err)) return st_cli_fail("%s", err.msg);
  st_logf("storageminer", ST_LOG_INFO, "the miner API is on %s (/rpc/v0, /rpc/v1, /metrics)",
          st_miner_api_addr(r->api));
  return -1;
}

/* The threads of the mode, until SIGINT or SIGTERM; then the API stops. */
static int run_serve(run_ctx *r) {
  the_run = r;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  pthread_t tp, tm, ts;
  bool have_p = r->poster && !pthread_create(&tp, NULL, poster_thread, r);
  bool have_m = r->poster && !pthread_create(&tm, NULL, mining_thread, r);
  bool have_s = r->sealer && !pthread_create(&ts, NULL, sealer_thread, r);
  pthread_t th, tl;
  bool have_h = r->sealer && r->server_api && !pthread_create(&th, NULL, heartbeat_thread, r);
  bool have_l = !pthread_create(&tl, NULL, lease_thread, r);
  while (!r->stop) nap(r, 1000);
  st_logf("storageminer", ST_LOG_INFO, "stopping");
  if (have_p) pthread_join(tp, NULL);
  if (have_m) pthread_join(tm, NULL);
  if (have_s) pthread_join(ts, NULL);
  if (have_h) pthread_join(th, NULL);
  if (have_l) pthread_join(tl, NULL); /* after the workers: it leaves the cluster */
  st_miner_api_stop(r->api);
  return 0;
}

static int cmd_run(int argc, char **argv) {
  st_flag flags[] = {
      REPO_FLAG,
      NODE_FLAG,
      ST_FLAG("mode", ST_FLAG_VALUE, "MODE", "sealer (or remote-sealer), poster or all (default all)"),
      ST_FLAG("server-api", ST_FLAG_VALUE, "URL[,URL...]",
              "the registry (spacetime-server), e.g. http://10.0.0.5:3456, or its instances over one database, tried "
              "in turn; without it paths resolve under --dist-path"),
      ST_FLAG("server-token-file", ST_FLAG_VALUE, "FILE",
              "a file holding the registry's write token, e.g. its repo's token (default $SPACETIME_SERVER_TOKEN, "
              "else <repo>/server-token; kept there). It replaces --server-token: a token on the command line is "
              "readable by every local user"),
      ST_FLAG("dist-path", ST_FLAG_VALUE, "DIR", "where this host mounts the storage nodes (required)"),
      ST_FLAG("nosync", ST_FLAG_BOOL, NULL, "start without waiting for the node to sync (it always is: one daemon)"),
      ST_FLAG("groups", ST_FLAG_VALUE, "N", "the registry group to seal into (default: any)"),
      ST_FLAG("max-sealing", ST_FLAG_VALUE, "N", "sectors this sealer works on at once (default 4)"),
      ST_FLAG("api", ST_FLAG_VALUE, "PORT",
              "the miner's API port on 127.0.0.1, for the views and /metrics (default 2345; 0 picks a free one)"),
      ST_FLAG("log-file", ST_FLAG_VALUE, "FILE", "also write the log to FILE, e.g. poster.log"),
      ST_FLAG("pledge-at-once", ST_FLAG_VALUE, "N",
              "pledge committed-capacity sectors by itself, N sealing at once (default 0: only 'sectors pledge')"),
      ST_FLAG("pledge-total", ST_FLAG_VALUE, "N",
              "stop pledging once the miner has N sectors in all (default: no end); alone, it pledges "
              "min(N, --max-sealing) at once"),
      ST_FLAG("pledge", ST_FLAG_VALUE, "N", "the old name of --pledge-at-once (N at once, not N in all)"),
      ST_FLAG("confidence", ST_FLAG_VALUE, "EPOCHS", "epochs past Challenge/Open/seed before acting (default 2)"),
      ST_FLAG("max-fee", ST_FLAG_VALUE, "FIL", "the most one message may pay in fees (default: no cap)"),
      ST_FLAG("partitions-per-message", ST_FLAG_VALUE, "N",
              "partitions per SubmitWindowedPoSt (default and at most 3)"),
      ST_FLAG("sector-timeout", ST_FLAG_VALUE, "MS", "a sector not read within MS is skipped (default 30000)"),
      ST_FLAG("parallel", ST_FLAG_VALUE, "N", "sectors read at once by a WindowPoSt (default 8)")};
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(
      &cli, argc, argv, 0, "spacetime-miner run",
      "--dist-path DIR [--mode sealer|poster|all] [--server-api URL] [--nosync] [--groups N] [--max-sealing N] [--api PORT] [--log-file FILE]",
      "Run the sealer, the poster (WindowPoSt, recoveries, blocks) or both.");
  if (rc >= 0) return rc;
  static run_ctx r;
  memset(&r, 0, sizeof r);
  mpz_init(r.max_fee);
  int lock = -1, host = -1;
  if ((rc = run_flags(&cli, &r)) < 0 && (rc = run_connect(&cli, &r)) < 0 && (rc = run_lock(&r, &lock, &host)) < 0 &&
      (rc = run_join(&r)) < 0 && (rc = run_api(&cli, &r)) < 0)
    rc = run_serve(&r);
  st_cluster_host_unlock(host);
  if (lock >= 0) close(lock);
  mpz_clear(r.max_fee);
  return rc;
}

int main(int argc, char **argv) {
  const char *levels = getenv("SPACETIME_LOG_LEVEL");
  st_err err;
  if (levels && *levels && st_log_configure(levels, &err)) return st_cli_fail("SPACETIME_LOG_LEVEL: %s", err.msg);
  static const st_cli_verb verbs[] = {
      {"init", cmd_init, "create the miner actor on chain and write the repo's config"},
      {"run", cmd_run, "run the sealer, the poster or both, with the miner's API"},
      {"info", miner_cmd_info, "power, proving state, win rate and balances"},
      {"proving info", miner_cmd_proving_info, "the current proving period and deadline, faults and recoveries"},
      {"proving deadlines", miner_cmd_proving_deadlines, "sectors, partitions and proven partitions per deadline"},
      {"proving deadline", miner_cmd_proving_deadline, "one deadline's partitions, sectors and faults"},
      {"proving faults", miner_cmd_proving_faults, "the faulty sectors, by deadline and partition"},
      {"doctor", miner_cmd_doctor,
       "what is wrong with this miner, why, and the exact fix (the seed's checks and the configuration)"},
      {"proving check", miner_cmd_proving_check, "can the poster read (--slow: prove) each sector of a deadline?"},
      {"sectors pledge", miner_cmd_sectors_pledge, "add a committed-capacity sector"},
      {"sectors list", miner_cmd_sectors_list, "the sealer's sectors and their states"},
      {"storage-deals list", miner_cmd_storage_deals_list, "the storage deals this miner took"},
      {"sectors status", miner_cmd_sectors_status, "one sector: sealing state, files and its on-chain info"},
      {"storage list", miner_cmd_storage_list, "the storage the miner's sectors live on, as this host sees it"},
      {"cluster", miner_cmd_cluster,
       "every process of the miner's cluster: host, pid, roles, last contact, what it holds"},
  };
  return st_cli_dispatch("spacetime-miner", verbs, sizeof verbs / sizeof verbs[0], argc - 1, argv + 1);
}
