/* spacetime-miner: the storage miner (the seed's lotus-storage-miner). A thin program over
 * lib/miner: `init` makes the miner actor on chain and writes the repo's config; `run` runs the
 * sealer, the poster or both; the views (`info`, `proving deadlines`, `sectors list`) read the
 * chain through the daemon's API and the repo's sealing database. docs/cli.md documents every
 * flag. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chain/st_state.h"
#include "codec/st_cbor.h"
#include "crypto/st_secp.h"
#include "codec/st_token.h"
#include "core/st_cli.h"
#include "core/st_encoding.h"
#include "core/st_fs.h"
#include "core/st_log.h"
#include "miner/st_locator.h"
#include "miner/st_miner_msgs.h"
#include "miner/st_miner_repo.h"
#include "miner/st_node_api.h"
#include "miner/st_poster.h"
#include "miner/st_sealer.h"
#include "rpc/st_apiinfo.h"
#include "rpc/st_rpc_client.h"

#define REPO_FLAG ST_FLAG("repo", ST_FLAG_VALUE, "DIR", "the miner's folder (default ~/.spacetime-miner)")
#define NODE_FLAG ST_FLAG("node-repo", ST_FLAG_VALUE, "DIR", "the daemon's repo, for its api and token (default ~/.spacetime; $FULLNODE_API_INFO wins)")
#define JSON_FLAG ST_FLAG("json", ST_FLAG_BOOL, NULL, "print JSON")

static void repo_of(st_cli *cli, const char *flag, const char *dflt, char out[4096]) {
  const st_flag *f = st_cli_flag(cli, flag);
  const char *home = getenv("HOME");
  if (f && f->set) snprintf(out, 4096, "%s", f->value);
  else snprintf(out, 4096, "%s/%s", home && *home ? home : ".", dflt);
}

static st_code connect_node(st_cli *cli, st_rpc_client **out, st_err *err) {
  char repo[4096];
  repo_of(cli, "node-repo", ".spacetime", repo);
  st_apiinfo info;
  st_code code = st_apiinfo_resolve(getenv(ST_APIINFO_ENV), repo, &info, err);
  if (!code) code = st_rpc_client_open(&info, out, err);
  return code;
}

/* The error line, with a hint when the daemon is away. */
static int fail_err(const st_err *err) {
  if (err->code == ST_EUNAVAIL) return st_cli_fail("%s (is 'spacetime daemon' running?)", err->msg);
  return st_cli_fail("%s", err->msg);
}

/* ---------------------------------------------------------------- init */

/* CreateMiner's return: [IDAddress, RobustAddress]. */
static st_code created_id(const json_t *lookup, uint64_t *id, st_err *err) {
  const json_t *ret = json_object_get(json_object_get(lookup, "Receipt"), "Return");
  st_buf b = ST_BUF_INIT;
  st_code code = json_is_string(ret) ? st_base64_decode(json_string_value(ret), json_string_length(ret), true, &b, err)
                                     : st_err_set(err, ST_EINVAL, "CreateMiner returned nothing");
  st_cbor_reader r;
  st_cbor_reader_init(&r, b.data, b.len, err);
  const uint8_t *p;
  size_t n;
  st_address a;
  if (!code) code = st_cbor_expect_array(&r, 2, "CreateMinerReturn");
  if (!code) code = st_cbor_read_bytes(&r, &p, &n);
  if (!code) code = st_address_from_bytes(p, n, &a, err);
  if (!code && st_address_id(&a, id, NULL)) code = st_err_set(err, ST_EINVAL, "CreateMiner returned no ID address");
  if (code && !err->msg[0]) st_err_set(err, code, "CreateMiner's return is not [IDAddress, RobustAddress]");
  st_buf_free(&b);
  return code;
}

static int cmd_init(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG,
                     ST_FLAG("owner", ST_FLAG_VALUE, "ADDR", "the owner's key address, in the daemon's wallet (required)"),
                     ST_FLAG("worker", ST_FLAG_VALUE, "ADDR", "the worker's key address, in the daemon's wallet (default: the owner)"),
                     ST_FLAG("sector-size", ST_FLAG_VALUE, "SIZE", "2KiB (default), 8MiB, 512MiB, 32GiB or 64GiB"),
                     ST_FLAG("funds", ST_FLAG_VALUE, "FIL", "sent with CreateMiner, for pre-commit deposits and pledges (default 10)")};
  st_cli cli = {flags, sizeof flags / sizeof flags[0], {0}, 0, false};
  int rc = st_cli_start(&cli, argc, argv, 0, "spacetime-miner init", "--owner ADDR [--worker ADDR] [--sector-size SIZE] [--repo DIR]",
                        "Create the miner actor on chain (power.CreateMiner) and write the repo's config.json.");
  if (rc >= 0) return rc;
  char repo[4096], path[ST_PATH_MAX];
  repo_of(&cli, "repo", ".spacetime-miner", repo);
  st_err err;
  st_miner_config c = {0};
  if (!cli.flags[2].set) return st_cli_fail("--owner is required: the key address that owns the miner (see 'spacetime wallet list')");
  if (st_address_parse(cli.flags[2].value, &c.owner, NULL, &err)) return st_cli_fail("--owner: %s", err.msg);
  if (st_address_parse(cli.flags[3].set ? cli.flags[3].value : cli.flags[2].value, &c.worker, NULL, &err)) return st_cli_fail("--worker: %s", err.msg);
  if (st_sector_lookup(cli.flags[4].set ? cli.flags[4].value : "2KiB", &c.info, &err)) return st_cli_fail("--sector-size: %s", err.msg);
  mpz_t funds;
  mpz_init(funds);
  if (st_fil_parse(cli.flags[5].set ? cli.flags[5].value : "10", funds, &err)) {
    mpz_clear(funds);
    return st_cli_fail("--funds: %s", err.msg);
  }
  if (!st_miner_repo_path(repo, "config.json", path, &err) && access(path, F_OK) == 0) {
    mpz_clear(funds);
    return st_cli_fail("%s exists: this repo already holds a miner (use another --repo)", path);
  }
  st_rpc_client *node = NULL;
  st_code code = connect_node(&cli, &node, &err);
  st_message m;
  st_message_init(&m);
  m.from = c.owner;
  st_address_from_id(ST_ID_POWER, &m.to, NULL);
  m.method = ST_METHOD_CREATE_MINER;
  mpz_set(m.value, funds);
  mpz_clear(funds);
  st_buf p = ST_BUF_INIT;
  uint8_t peer[38] = {0x00, 0x24, 0x08, 0x01, 0x12, 0x20}; /* identity multihash of an ed25519 key: a random libp2p ID */
  if (!code) code = st_random_bytes(peer + 6, 32, &err);
  st_params_create_miner(&c.owner, &c.worker, c.info->window_proof, peer, sizeof peer, &p);
  if (!code) code = st_chain_bytes_set(&m.params, p.data, p.len, &err);
  st_cid cid;
  if (!code) code = st_node_push(node, &m, NULL, &cid, &err);
  st_message_free(&m);
  st_buf_free(&p);
  json_t *lookup = NULL;
  if (!code) {
    fprintf(stderr, "waiting for CreateMiner to land ...\n");
    code = st_rpc_client_call(node, "StateWaitMsg", json_pack("[o I I b]", st_chain_json_cid(&cid), (json_int_t)1, (json_int_t)-1, 1), &lookup, &err);
  }
  int64_t exit_code = lookup ? json_integer_value(json_object_get(json_object_get(lookup, "Receipt"), "ExitCode")) : 0;
  if (!code && exit_code) code = st_err_set(&err, ST_EINVAL, "CreateMiner failed on chain with exit code %lld", (long long)exit_code);
  if (!code) code = created_id(lookup, &c.miner, &err);
  json_decref(lookup);
  st_rpc_client_close(node);
  if (!code) code = st_miner_config_write(repo, &c, &err);
  if (code) return fail_err(&err);
  printf("miner t0%llu created; its config is %s/config.json\n", (unsigned long long)c.miner, repo);
  return 0;
}

/* ---------------------------------------------------------------- run */

typedef struct run_ctx {
  char repo[4096], dist[4096], node_repo[4096];
  const char *server_api, *server_token;
  st_miner_config cfg;
  st_apiinfo node;
  st_network net;
  uint64_t genesis;
  bool poster, sealer;
  int64_t group, confidence, pledge;
  st_post_options post;
  size_t partitions;
  mpz_t max_fee;
  volatile sig_atomic_t stop;
} run_ctx;

static void nap(run_ctx *r, int64_t ms) {
  for (int64_t left = ms; left > 0 && !r->stop; left -= 100) {
    struct timespec ts = {0, (left < 100 ? left : 100) * 1000000L};
    nanosleep(&ts, NULL);
  }
}

static st_code open_side(run_ctx *r, st_rpc_client **node, st_locator *loc, st_err *err) {
  st_code code = st_rpc_client_open(&r->node, node, err);
  loc->dist = r->dist;
  loc->reg = NULL;
  if (!code && r->server_api) code = st_regc_open(r->server_api, r->server_token, &loc->reg, err);
  return code;
}

static void *poster_thread(void *arg) {
  run_ctx *r = arg;
  st_rpc_client *node = NULL;
  st_locator loc;
  st_err err;
  char state[ST_PATH_MAX];
  st_poster p;
  bool open = false;
  st_code code = open_side(r, &node, &loc, &err);
  if (!code) code = st_miner_repo_path(r->repo, "poster.state", state, &err);
  st_poster_cfg pc = {.wd = {.node = node, .miner = r->cfg.miner, .sender = r->cfg.worker, .info = r->cfg.info, .locate = st_locator_locate, .locate_ctx = &loc,
                             .post = r->post, .max_partitions = r->partitions, .max_fee = mpz_sgn(r->max_fee) ? r->max_fee : NULL},
                      .confidence = r->confidence, .mine = true, .state_path = state};
  if (!code) open = !(code = st_poster_open(&p, &pc, &err));
  if (code) {
    st_logf("storageminer", ST_LOG_ERROR, "the poster cannot start: %s", err.msg);
    r->stop = 1;
  }
  int64_t pause = r->net.block_delay * 1000 / 4;
  while (!r->stop && open) {
    int64_t round = (int64_t)(((uint64_t)time(NULL) - r->genesis) / (uint64_t)r->net.block_delay);
    if (st_poster_step(&p, round, &err)) st_logf("storageminer", ST_LOG_WARN, "poster: %s", err.msg);
    nap(r, pause < 100 ? 100 : pause);
  }
  if (open) st_poster_close(&p);
  st_regc_close(loc.reg);
  st_rpc_client_close(node);
  return NULL;
}

static void *sealer_thread(void *arg) {
  run_ctx *r = arg;
  st_rpc_client *node = NULL;
  st_locator loc;
  st_err err;
  char db[ST_PATH_MAX];
  st_sealer *s = NULL;
  st_code code = open_side(r, &node, &loc, &err);
  if (!code) code = st_miner_repo_path(r->repo, "sealing.db", db, &err);
  st_sealer_cfg sc = {.node = node, .miner = r->cfg.miner, .sender = r->cfg.worker, .info = r->cfg.info, .registry = loc.reg, .dist_path = r->dist,
                      .group = r->group, .confidence = r->confidence, .lifetime = 2 * 365 * 2880, .max_retries = 5, .retry_secs = 30,
                      .max_fee = mpz_sgn(r->max_fee) ? r->max_fee : NULL};
  if (!code) code = st_sealer_open(&sc, db, &s, &err);
  if (code) {
    st_logf("sectors", ST_LOG_ERROR, "the sealer cannot start: %s", err.msg);
    r->stop = 1;
  }
  while (!r->stop && s) {
    size_t inflight = 0;
    uint64_t n;
    if (r->pledge > 0 && !st_sealer_in_flight(s, &inflight, &err) && (int64_t)inflight < r->pledge && st_sealer_pledge(s, &n, &err))
      st_logf("sectors", ST_LOG_ERROR, "pledge: %s", err.msg);
    int changed = 0;
    if (st_sealer_step(s, &changed, &err)) st_logf("sectors", ST_LOG_WARN, "sealer: %s", err.msg);
    if (!changed) nap(r, r->net.block_delay * 1000 / 2);
  }
  st_sealer_close(s);
  st_regc_close(loc.reg);
  st_rpc_client_close(node);
  return NULL;
}

static run_ctx *the_run;
static void on_stop(int sig) {
  (void)sig;
  if (the_run) the_run->stop = 1;
}

static int cmd_run(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG,
                     ST_FLAG("mode", ST_FLAG_VALUE, "MODE", "sealer, poster or all (default all)"),
                     ST_FLAG("server-api", ST_FLAG_VALUE, "URL", "the registry (spacetime-server), e.g. http://10.0.0.5:3456; without it paths resolve under --dist-path"),
                     ST_FLAG("server-token", ST_FLAG_VALUE, "TOKEN", "the registry's write token (default $SPACETIME_SERVER_TOKEN)"),
                     ST_FLAG("dist-path", ST_FLAG_VALUE, "DIR", "where this host mounts the storage nodes (required)"),
                     ST_FLAG("nosync", ST_FLAG_BOOL, NULL, "start without waiting for the node to sync (it always is: one daemon)"),
                     ST_FLAG("groups", ST_FLAG_VALUE, "N", "the registry group to seal into (default: any)"),
                     ST_FLAG("api", ST_FLAG_VALUE, "PORT", "the miner API port (accepted; the API comes with the operator views)"),
                     ST_FLAG("log-file", ST_FLAG_VALUE, "FILE", "also write the log to FILE, e.g. poster.log"),
                     ST_FLAG("pledge", ST_FLAG_VALUE, "N", "keep N committed-capacity sectors sealing at once (default 0: only 'sectors pledge')"),
                     ST_FLAG("confidence", ST_FLAG_VALUE, "EPOCHS", "epochs past Challenge/Open/seed before acting (default 2)"),
                     ST_FLAG("max-fee", ST_FLAG_VALUE, "FIL", "the most one message may pay in fees (default: no cap)"),
                     ST_FLAG("partitions-per-message", ST_FLAG_VALUE, "N", "partitions per SubmitWindowedPoSt (default and at most 3)"),
                     ST_FLAG("sector-timeout", ST_FLAG_VALUE, "MS", "a sector not read within MS is skipped (default 30000)"),
                     ST_FLAG("parallel", ST_FLAG_VALUE, "N", "sectors read at once by a WindowPoSt (default 8)")};
  st_cli cli = {flags, sizeof flags / sizeof flags[0], {0}, 0, false};
  int rc = st_cli_start(&cli, argc, argv, 0, "spacetime-miner run",
                        "--dist-path DIR [--mode sealer|poster|all] [--server-api URL] [--nosync] [--groups N] [--api PORT] [--log-file FILE]",
                        "Run the sealer, the poster (WindowPoSt, recoveries, blocks) or both.");
  if (rc >= 0) return rc;
  static run_ctx r;
  memset(&r, 0, sizeof r);
  mpz_init(r.max_fee);
  st_err err;
  repo_of(&cli, "repo", ".spacetime-miner", r.repo);
  const char *mode = cli.flags[2].set ? cli.flags[2].value : "all";
  r.poster = !strcmp(mode, "poster") || !strcmp(mode, "all");
  r.sealer = !strcmp(mode, "sealer") || !strcmp(mode, "all");
  if (!r.poster && !r.sealer) return st_cli_fail("--mode must be sealer, poster or all, not \"%s\"", mode);
  if (!cli.flags[5].set) return st_cli_fail("--dist-path is required: the folder under which this host mounts the storage nodes");
  snprintf(r.dist, sizeof r.dist, "%s", cli.flags[5].value);
  r.server_api = cli.flags[3].set ? cli.flags[3].value : NULL;
  r.server_token = cli.flags[4].set ? cli.flags[4].value : getenv("SPACETIME_SERVER_TOKEN");
  uint64_t v;
  r.group = -1;
  if (cli.flags[7].set) {
    if (st_parse_u64(cli.flags[7].value, "--groups", &v, &err)) return st_cli_fail("%s", err.msg);
    r.group = (int64_t)v;
  }
  r.confidence = 2;
  if (cli.flags[11].set) {
    if (st_parse_u64(cli.flags[11].value, "--confidence", &v, &err) || v > 1000) return st_cli_fail("--confidence must be 0 to 1000 epochs");
    r.confidence = (int64_t)v;
  }
  if (cli.flags[10].set) {
    if (st_parse_u64(cli.flags[10].value, "--pledge", &v, &err) || v > 1000) return st_cli_fail("--pledge must be 0 to 1000 sectors");
    r.pledge = (int64_t)v;
  }
  if (cli.flags[12].set && st_fil_parse(cli.flags[12].value, r.max_fee, &err)) return st_cli_fail("--max-fee: %s", err.msg);
  r.partitions = 3;
  if (cli.flags[13].set) {
    if (st_parse_u64(cli.flags[13].value, "--partitions-per-message", &v, &err) || v < 1 || v > 3)
      return st_cli_fail("--partitions-per-message must be 1 to 3");
    r.partitions = (size_t)v;
  }
  r.post = (st_post_options){.parallel = 8, .timeout_ms = 30000};
  if (cli.flags[14].set) {
    if (st_parse_u64(cli.flags[14].value, "--sector-timeout", &v, &err) || v < 1 || v > 3600000) return st_cli_fail("--sector-timeout must be 1 to 3600000 ms");
    r.post.timeout_ms = (unsigned)v;
  }
  if (cli.flags[15].set) {
    if (st_parse_u64(cli.flags[15].value, "--parallel", &v, &err) || v < 1 || v > 256) return st_cli_fail("--parallel must be 1 to 256");
    r.post.parallel = (unsigned)v;
  }
  if (cli.flags[9].set && st_log_set_file(cli.flags[9].value, &err)) return st_cli_fail("--log-file: %s", err.msg);
  if (st_miner_config_read(r.repo, &r.cfg, &err)) return st_cli_fail("%s", err.msg);
  char nrepo[4096];
  repo_of(&cli, "node-repo", ".spacetime", nrepo);
  if (st_apiinfo_resolve(getenv(ST_APIINFO_ENV), nrepo, &r.node, &err)) return fail_err(&err);
  st_rpc_client *node;
  if (st_rpc_client_open(&r.node, &node, &err)) return fail_err(&err);
  st_code code = st_node_network(node, &r.net, &r.genesis, &err);
  st_rpc_client_close(node);
  if (code) return fail_err(&err);
  st_log("storageminer", ST_LOG_INFO, "spacetime-miner starting",
         json_pack("{s:s, s:I, s:s, s:s}", "mode", mode, "miner", (json_int_t)r.cfg.miner, "dist-path", r.dist, "server-api",
                   r.server_api ? r.server_api : ""));
  if (!r.server_api)
    st_logf("storageminer", ST_LOG_WARN,
            "no --server-api: sector paths resolve locally, as %s/sealed/s-t0%llu-N and %s/cache/s-t0%llu-N; storage nodes the registry knows "
            "(%s/<mount type>/<host>/...) will not be found",
            r.dist, (unsigned long long)r.cfg.miner, r.dist, (unsigned long long)r.cfg.miner, r.dist);
  /* run.json tells the views what is running here */
  char runfile[ST_PATH_MAX], rj[512];
  int rn = snprintf(rj, sizeof rj, "{\"mode\": \"%s\", \"pid\": %d}\n", mode, (int)getpid());
  if (st_miner_repo_path(r.repo, "run.json", runfile, &err) || st_fs_write_atomic(runfile, rj, (size_t)rn, 0644, &err)) return st_cli_fail("%s", err.msg);
  the_run = &r;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  pthread_t tp, ts;
  bool have_p = r.poster && !pthread_create(&tp, NULL, poster_thread, &r);
  bool have_s = r.sealer && !pthread_create(&ts, NULL, sealer_thread, &r);
  while (!r.stop) nap(&r, 1000);
  st_logf("storageminer", ST_LOG_INFO, "stopping");
  if (have_p) pthread_join(tp, NULL);
  if (have_s) pthread_join(ts, NULL);
  unlink(runfile);
  mpz_clear(r.max_fee);
  return 0;
}

/* ---------------------------------------------------------------- views */

typedef struct view {
  st_cli cli;
  char repo[4096];
  st_miner_config cfg;
  st_rpc_client *node;
  bool json;
  char addr[32];
} view;

/* Parses flags, reads the config and (if want_node) connects: -1 to go on, else the status. */
static int view_start(view *v, st_flag *flags, size_t n, int argc, char **argv, int maxpos, const char *cmd, const char *args, const char *summary,
                      bool want_node) {
  v->cli = (st_cli){flags, n, {0}, 0, false};
  int rc = st_cli_start(&v->cli, argc, argv, maxpos, cmd, args, summary);
  if (rc >= 0) return rc;
  st_err err;
  repo_of(&v->cli, "repo", ".spacetime-miner", v->repo);
  v->json = st_cli_has(&v->cli, "json");
  if (st_miner_config_read(v->repo, &v->cfg, &err)) return st_cli_fail("%s", err.msg);
  snprintf(v->addr, sizeof v->addr, "t0%llu", (unsigned long long)v->cfg.miner);
  if (want_node && connect_node(&v->cli, &v->node, &err)) return fail_err(&err);
  return -1;
}

static int view_end(view *v, int rc) {
  st_rpc_client_close(v->node);
  return rc;
}

static json_t *view_call(view *v, const char *method, json_t *params, st_err *err) {
  json_t *r = NULL;
  if (st_rpc_client_call(v->node, method, params, &r, err)) st_err_wrap(err, err->code, "%s", method);
  return r;
}

static void print_json(json_t *j) {
  char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  printf("%s\n", text ? text : "null");
  free(text);
}

static int cmd_proving_deadlines(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {0};
  int rc = view_start(&v, flags, 3, argc, argv, 0, "spacetime-miner proving deadlines", "[--json]",
                      "Each deadline's sectors, partitions and partitions proven this period; the current one is marked.", true);
  if (rc >= 0) return view_end(&v, rc);
  st_err err;
  st_deadline_info cur;
  if (st_node_proving_deadline(v.node, v.cfg.miner, NULL, &cur, &err)) return view_end(&v, fail_err(&err));
  json_t *dls = view_call(&v, "StateMinerDeadlines", json_pack("[s []]", v.addr), &err);
  if (!dls) return view_end(&v, fail_err(&err));
  json_t *out = json_array();
  if (!v.json) printf("%-10s%-9s%-12s%s\n", "deadline", "sectors", "partitions", "proven");
  for (uint64_t d = 0; d < (uint64_t)cur.policy.deadlines; d++) {
    st_node_partition *parts;
    size_t np;
    if (st_node_partitions(v.node, v.cfg.miner, d, NULL, &parts, &np, &err)) {
      json_decref(dls);
      json_decref(out);
      return view_end(&v, fail_err(&err));
    }
    uint64_t sectors = 0;
    for (size_t i = 0; i < np; i++) sectors += st_bitfield_count(&parts[i].live);
    st_node_partitions_free(parts, np);
    st_bitfield posted;
    st_bitfield_init(&posted);
    st_chain_json_get_bitfield(json_object_get(json_array_get(dls, d), "PostSubmissions"), "PostSubmissions", &posted, NULL);
    uint64_t proven = st_bitfield_count(&posted);
    st_bitfield_free(&posted);
    bool current = d == cur.index;
    if (v.json)
      json_array_append_new(out, json_pack("{sI sI sI sI sb}", "deadline", (json_int_t)d, "sectors", (json_int_t)sectors, "partitions", (json_int_t)np,
                                           "proven", (json_int_t)proven, "current", current));
    else
      printf("%-10llu%-9llu%-12zu%llu%s\n", (unsigned long long)d, (unsigned long long)sectors, np, (unsigned long long)proven,
             current ? " (current)" : "");
  }
  if (v.json) print_json(out);
  json_decref(out);
  json_decref(dls);
  return view_end(&v, 0);
}

/* Every deadline's partitions (at the head); out[d] / n[d]. */
static st_code all_partitions(view *v, int64_t ndl, st_node_partition **out, size_t *n, st_err *err) {
  for (int64_t d = 0; d < ndl; d++)
    if (st_node_partitions(v->node, v->cfg.miner, (uint64_t)d, NULL, &out[d], &n[d], err)) {
      for (int64_t e = 0; e < d; e++) st_node_partitions_free(out[e], n[e]);
      return err->code;
    }
  return ST_OK;
}

static int cmd_proving_faults(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {0};
  int rc = view_start(&v, flags, 3, argc, argv, 0, "spacetime-miner proving faults", "[--json]",
                      "Every faulty sector with its deadline and partition (recovering ones are marked).", true);
  if (rc >= 0) return view_end(&v, rc);
  st_err err;
  st_deadline_info cur;
  if (st_node_proving_deadline(v.node, v.cfg.miner, NULL, &cur, &err)) return view_end(&v, fail_err(&err));
  st_node_partition *parts[256];
  size_t np[256];
  if (cur.policy.deadlines > 256) return view_end(&v, st_cli_fail("more than 256 deadlines"));
  if (all_partitions(&v, cur.policy.deadlines, parts, np, &err)) return view_end(&v, fail_err(&err));
  json_t *out = json_array();
  if (!v.json) printf("Miner: %s\n%-10s%-11s%-8s%s\n", v.addr, "deadline", "partition", "sector", "recovering");
  for (int64_t d = 0; d < cur.policy.deadlines; d++) {
    for (size_t p = 0; p < np[d]; p++) {
      st_bitfield_iter it;
      st_bitfield_iter_init(&it, &parts[d][p].faulty);
      uint64_t sn;
      while (st_bitfield_iter_next(&it, &sn)) {
        bool rec = st_bitfield_has(&parts[d][p].recovering, sn);
        if (v.json)
          json_array_append_new(out, json_pack("{sI sI sI sb}", "deadline", (json_int_t)d, "partition", (json_int_t)p, "sector", (json_int_t)sn,
                                               "recovering", rec));
        else printf("%-10lld%-11zu%-8llu%s\n", (long long)d, p, (unsigned long long)sn, rec ? "yes" : "no");
      }
    }
    st_node_partitions_free(parts[d], np[d]);
  }
  if (v.json) print_json(out);
  json_decref(out);
  return view_end(&v, 0);
}

static int cmd_proving_deadline(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {0};
  int rc = view_start(&v, flags, 3, argc, argv, 1, "spacetime-miner proving deadline", "N [--json]",
                      "One deadline: its partitions, which are proven this period, and each partition's sectors and faults.", true);
  if (rc >= 0) return view_end(&v, rc);
  st_err err;
  st_deadline_info cur;
  uint64_t d;
  if (v.cli.npos != 1) return view_end(&v, st_cli_fail("give the deadline index, e.g. 'spacetime-miner proving deadline 3'"));
  if (st_parse_u64(v.cli.pos[0], "deadline index", &d, &err)) return view_end(&v, st_cli_fail("%s", err.msg));
  if (st_node_proving_deadline(v.node, v.cfg.miner, NULL, &cur, &err)) return view_end(&v, fail_err(&err));
  if (d >= (uint64_t)cur.policy.deadlines)
    return view_end(&v, st_cli_fail("deadline %llu does not exist: this network has deadlines 0 to %lld", (unsigned long long)d,
                                    (long long)cur.policy.deadlines - 1));
  st_node_partition *parts;
  size_t np;
  st_bitfield posted;
  st_bitfield_init(&posted);
  if (st_node_partitions(v.node, v.cfg.miner, d, NULL, &parts, &np, &err) ||
      st_node_post_submissions(v.node, v.cfg.miner, d, NULL, &posted, &err))
    return view_end(&v, fail_err(&err));
  json_t *arr = json_array();
  if (!v.json)
    printf("Deadline Idx: %llu%s\nPartitions: %zu\nProven Partitions: %llu\n", (unsigned long long)d, d == cur.index ? " (current)" : "", np,
           (unsigned long long)st_bitfield_count(&posted));
  for (size_t p = 0; p < np; p++) {
    st_buf all = ST_BUF_INIT, faults = ST_BUF_INIT;
    st_bitfield_format_ranges(&parts[p].all, &all);
    st_bitfield_format_ranges(&parts[p].faulty, &faults);
    if (v.json)
      json_array_append_new(arr, json_pack("{sI ss ss sb}", "partition", (json_int_t)p, "sectors", st_buf_cstr(&all), "faults", st_buf_cstr(&faults),
                                           "proven", st_bitfield_has(&posted, p)));
    else
      printf("\nPartition Index: %zu\nSectors: %s\nFaults: %s\nProven: %s\n", p, st_buf_cstr(&all), faults.len ? st_buf_cstr(&faults) : "none",
             st_bitfield_has(&posted, p) ? "yes" : "no");
    st_buf_free(&all);
    st_buf_free(&faults);
  }
  if (v.json) {
    json_t *o = json_pack("{sI sb so}", "deadline", (json_int_t)d, "current", d == cur.index, "partitions", arr);
    print_json(o);
    json_decref(o);
  } else json_decref(arr);
  st_bitfield_free(&posted);
  st_node_partitions_free(parts, np);
  return view_end(&v, 0);
}

/* Lotus's SizeStr: 1024-based, three significant digits ("2.69 MiB"); unit "B" or "" (QA). */
static void size_str(const mpz_t bytes, const char *b, char *out, size_t n) {
  static const char *const U[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  double x = mpz_get_d(bytes);
  size_t i = 0;
  while (x >= 1024 && i + 1 < sizeof U / sizeof U[0]) {
    x /= 1024;
    i++;
  }
  snprintf(out, n, "%.3g %s%s", x, U[i], b);
}

static double pct(const mpz_t a, const mpz_t b) { return mpz_sgn(b) ? 100.0 * mpz_get_d(a) / mpz_get_d(b) : 0; }

static void fil_str(const json_t *v, char *out, size_t n) {
  mpz_t x;
  mpz_init(x);
  if (json_is_string(v)) mpz_set_str(x, json_string_value(v), 10);
  st_buf b = ST_BUF_INIT;
  st_fil_format(x, &b);
  snprintf(out, n, "%s", st_buf_cstr(&b));
  st_buf_free(&b);
  mpz_clear(x);
}

static void big_of(const json_t *v, mpz_t out) {
  mpz_set_ui(out, 0);
  if (json_is_string(v)) mpz_set_str(out, json_string_value(v), 10);
}

/* The mode of a running `run` (its run.json), or "not running". */
static void run_mode(const char *repo, char *out, size_t n) {
  char path[ST_PATH_MAX];
  st_buf b = ST_BUF_INIT;
  snprintf(out, n, "not running");
  if (st_miner_repo_path(repo, "run.json", path, NULL) || st_fs_read_file(path, 4096, &b, NULL)) {
    st_buf_free(&b);
    return;
  }
  json_t *j = json_loadb((const char *)b.data, b.len, 0, NULL);
  const json_t *m = json_object_get(j, "mode"), *pid = json_object_get(j, "pid");
  if (json_is_string(m) && json_is_integer(pid) && kill((pid_t)json_integer_value(pid), 0) == 0) snprintf(out, n, "%s", json_string_value(m));
  json_decref(j);
  st_buf_free(&b);
}

static int cmd_info(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {0};
  int rc = view_start(&v, flags, 3, argc, argv, 0, "spacetime-miner info", "[--json]",
                      "The miner's power, proving state, expected wins and balances, as the seed's `info` shows them.", true);
  if (rc >= 0) return view_end(&v, rc);
  st_err err;
  json_t *pw = view_call(&v, "StateMinerPower", json_pack("[s []]", v.addr), &err), *rs = NULL, *counts = NULL, *wb = NULL, *np = NULL, *avj = NULL;
  if (pw) rs = view_call(&v, "StateReadState", json_pack("[s []]", v.addr), &err);
  if (rs) avj = view_call(&v, "StateMinerAvailableBalance", json_pack("[s []]", v.addr), &err);
  if (avj) counts = view_call(&v, "StateMinerSectorCount", json_pack("[s []]", v.addr), &err);
  char worker[ST_ADDR_STR_MAX];
  st_address_format(&v.cfg.worker, 't', worker, NULL);
  if (counts) wb = view_call(&v, "WalletBalance", json_pack("[s]", worker), &err);
  if (wb) np = view_call(&v, "StateGetNetworkParams", NULL, &err);
  if (!np) {
    json_decref(pw), json_decref(rs), json_decref(avj), json_decref(counts), json_decref(wb);
    return view_end(&v, fail_err(&err));
  }
  mpz_t raw, qa, traw, tqa, committed, faulty, proving;
  mpz_inits(raw, qa, traw, tqa, committed, faulty, proving, NULL);
  big_of(json_object_get(json_object_get(pw, "MinerPower"), "RawBytePower"), raw);
  big_of(json_object_get(json_object_get(pw, "MinerPower"), "QualityAdjPower"), qa);
  big_of(json_object_get(json_object_get(pw, "TotalPower"), "RawBytePower"), traw);
  big_of(json_object_get(json_object_get(pw, "TotalPower"), "QualityAdjPower"), tqa);
  mpz_set_ui(committed, (unsigned long)json_integer_value(json_object_get(counts, "Live")));
  mpz_mul_ui(committed, committed, v.cfg.info->size);
  mpz_set_ui(faulty, (unsigned long)json_integer_value(json_object_get(counts, "Faulty")));
  mpz_mul_ui(faulty, faulty, v.cfg.info->size);
  mpz_sub(proving, committed, faulty);
  const json_t *st = json_object_get(rs, "State");
  int64_t delay = json_integer_value(json_object_get(np, "BlockDelaySecs"));
  double per_day = mpz_sgn(tqa) && delay > 0 ? 5.0 * mpz_get_d(qa) / mpz_get_d(tqa) * 86400.0 / (double)delay : 0;
  char mode[64], s1[64], s2[64], s3[64], s4[64], bl[96], pc[96], lk[96], av[96], wbs[96];
  run_mode(v.repo, mode, sizeof mode);
  fil_str(json_object_get(rs, "Balance"), bl, sizeof bl);
  fil_str(json_object_get(st, "PreCommitDeposits"), pc, sizeof pc);
  fil_str(json_object_get(st, "LockedFunds"), lk, sizeof lk);
  fil_str(avj, av, sizeof av);
  fil_str(wb, wbs, sizeof wbs);
  if (v.json) {
    json_t *o = json_pack("{ss ss sI sO sO sO sO sI sI sI sf ss ss ss ss ss ss ss}", "Mode", mode, "Miner", v.addr, "SectorSize", (json_int_t)v.cfg.info->size,
                          "RawBytePower", json_object_get(json_object_get(pw, "MinerPower"), "RawBytePower"), "TotalRawBytePower",
                          json_object_get(json_object_get(pw, "TotalPower"), "RawBytePower"), "QualityAdjPower",
                          json_object_get(json_object_get(pw, "MinerPower"), "QualityAdjPower"), "TotalQualityAdjPower",
                          json_object_get(json_object_get(pw, "TotalPower"), "QualityAdjPower"), "Committed", (json_int_t)mpz_get_ui(committed), "Proving",
                          (json_int_t)mpz_get_ui(proving), "Faulty", (json_int_t)mpz_get_ui(faulty), "ExpectedWinsPerDay", per_day, "MinerBalance",
                          json_string_value(json_object_get(rs, "Balance")), "PreCommit", json_string_value(json_object_get(st, "PreCommitDeposits")),
                          "Locked", json_string_value(json_object_get(st, "LockedFunds")), "Available", json_string_value(avj), "WorkerBalance",
                          json_string_value(wb), "MarketEscrow", "0", "MarketLocked", "0");
    print_json(o);
    json_decref(o);
  } else {
    printf("Mode: %s\n", mode);
    printf("Miner: %s\n", v.addr);
    printf("Sector Size: %s\n", v.cfg.info->name);
    size_str(raw, "B", s1, sizeof s1);
    size_str(traw, "B", s2, sizeof s2);
    printf("Byte Power:   %s / %s (%.4f%%)\n", s1, s2, pct(raw, traw));
    size_str(qa, "", s1, sizeof s1);
    size_str(tqa, "", s2, sizeof s2);
    printf("Actual Power: %s / %s (%.4f%%)\n", s1, s2, pct(qa, tqa));
    size_str(committed, "B", s3, sizeof s3);
    printf("\tCommitted: %s\n", s3);
    size_str(proving, "B", s3, sizeof s3);
    size_str(faulty, "B", s4, sizeof s4);
    printf("\tProving: %s (%s Faulty, %.2f%%)\n", s3, s4, pct(faulty, committed));
    if (per_day > 0) printf("Expected block win rate: %.4f/day (every %.3gs)\n", per_day, 86400.0 / per_day);
    else printf("Expected block win rate: 0/day (no power)\n");
    printf("\nMiner Balance: %s\n\tPreCommit:   %s\n\tLocked:      %s\n\tAvailable:   %s\n", bl, pc, lk, av);
    printf("Worker Balance: %s\nMarket (Escrow):  0\nMarket (Locked):  0\n", wbs);
  }
  mpz_clears(raw, qa, traw, tqa, committed, faulty, proving, NULL);
  json_decref(pw), json_decref(rs), json_decref(avj), json_decref(counts), json_decref(wb), json_decref(np);
  return view_end(&v, 0);
}

static int open_db_sealer(view *v, st_sealer **s) {
  char db[ST_PATH_MAX];
  st_err err;
  st_sealer_cfg sc = {.miner = v->cfg.miner, .info = v->cfg.info};
  if (st_miner_repo_path(v->repo, "sealing.db", db, &err) || st_sealer_open(&sc, db, s, &err)) return st_cli_fail("%s", err.msg);
  return 0;
}

static int cmd_sectors_pledge(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {0};
  int rc = view_start(&v, flags, 3, argc, argv, 0, "spacetime-miner sectors pledge", "[--json]",
                      "Add a committed-capacity sector; a running sealer seals and commits it.", false);
  if (rc >= 0) return rc;
  st_sealer *s;
  if (open_db_sealer(&v, &s)) return 1;
  uint64_t n;
  st_err err;
  st_code code = st_sealer_pledge(s, &n, &err);
  st_sealer_close(s);
  if (code) return st_cli_fail("%s", err.msg);
  if (v.json) printf("{\"SectorNumber\": %llu}\n", (unsigned long long)n);
  else printf("pledged sector %llu\n", (unsigned long long)n);
  return 0;
}

static int cmd_sectors_list(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {0};
  int rc = view_start(&v, flags, 3, argc, argv, 0, "spacetime-miner sectors list", "[--json]", "Every sector the sealer knows, with its state.",
                      false);
  if (rc >= 0) return rc;
  st_sealer *s;
  if (open_db_sealer(&v, &s)) return 1;
  st_sealing_sector *list;
  size_t n;
  st_err err;
  st_code code = st_sealer_list(s, &list, &n, &err);
  st_sealer_close(s);
  if (code) return st_cli_fail("%s", err.msg);
  json_t *out = json_array();
  if (!v.json) printf("%-6s%-22s%-8s%s\n", "ID", "State", "Retries", "Error");
  for (size_t i = 0; i < n; i++) {
    if (v.json)
      json_array_append_new(out, json_pack("{sI ss sI ss ss sI}", "SectorNumber", (json_int_t)list[i].number, "State", list[i].state, "Retries",
                                           (json_int_t)list[i].retries, "Error", list[i].error, "Root", list[i].root, "Updated",
                                           (json_int_t)list[i].updated));
    else printf("%-6llu%-22s%-8lld%s\n", (unsigned long long)list[i].number, list[i].state, (long long)list[i].retries, list[i].error);
  }
  if (v.json) print_json(out);
  json_decref(out);
  free(list);
  return 0;
}

static int cmd_sectors_status(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, NODE_FLAG, JSON_FLAG};
  view v = {0};
  int rc = view_start(&v, flags, 3, argc, argv, 1, "spacetime-miner sectors status", "N [--json]",
                      "One sector: its sealing state, error and files, and what the chain holds for it.", true);
  if (rc >= 0) return view_end(&v, rc);
  st_err err;
  uint64_t num;
  if (v.cli.npos != 1) return view_end(&v, st_cli_fail("give the sector number, e.g. 'spacetime-miner sectors status 1'"));
  if (st_parse_u64(v.cli.pos[0], "sector number", &num, &err)) return view_end(&v, st_cli_fail("%s", err.msg));
  st_sealer *s;
  if (open_db_sealer(&v, &s)) return view_end(&v, 1);
  st_sealing_sector *list;
  size_t n;
  st_code code = st_sealer_list(s, &list, &n, &err);
  st_sealer_close(s);
  if (code) return view_end(&v, st_cli_fail("%s", err.msg));
  const st_sealing_sector *x = NULL;
  for (size_t i = 0; i < n; i++)
    if (list[i].number == num) x = &list[i];
  json_t *onchain = view_call(&v, "StateSectorGetInfo", json_pack("[s I []]", v.addr, (json_int_t)num), &err);
  if (!onchain) {
    free(list);
    return view_end(&v, fail_err(&err));
  }
  if (!x && json_is_null(onchain)) {
    free(list);
    json_decref(onchain);
    return view_end(&v, st_cli_fail("sector %llu of %s is neither in this repo's sealing database nor on chain", (unsigned long long)num, v.addr));
  }
  if (v.json) {
    json_t *o = json_pack("{sI ss ss sI ss sO}", "SectorNumber", (json_int_t)num, "State", x ? x->state : "(not sealed here)", "Error",
                          x ? x->error : "", "Retries", (json_int_t)(x ? x->retries : 0), "Root", x ? x->root : "", "OnChain", onchain);
    print_json(o);
    json_decref(o);
  } else {
    printf("SectorID: %llu\nStatus: %s\n", (unsigned long long)num, x ? x->state : "(not sealed here)");
    if (x && x->root[0]) printf("Storage: %s\n", x->root);
    if (json_is_null(onchain)) printf("OnChain: no\n");
    else
      printf("OnChain: yes\nSealedCID: %s\nActivation: %lld\nExpiration: %lld\n", json_string_value(json_object_get(json_object_get(onchain, "SealedCID"), "/")),
             (long long)json_integer_value(json_object_get(onchain, "Activation")), (long long)json_integer_value(json_object_get(onchain, "Expiration")));
    if (x) printf("Retries: %lld\nLast Error: %s\n", (long long)x->retries, x->error[0] ? x->error : "none");
  }
  free(list);
  json_decref(onchain);
  return view_end(&v, 0);
}

int main(int argc, char **argv) {
  const char *levels = getenv("SPACETIME_LOG_LEVEL");
  st_err err;
  if (levels && *levels && st_log_configure(levels, &err)) return st_cli_fail("SPACETIME_LOG_LEVEL: %s", err.msg);
  static const st_cli_verb verbs[] = {
      {"init", cmd_init, "create the miner actor on chain and write the repo's config"},
      {"run", cmd_run, "run the sealer, the poster or both"},
      {"info", cmd_info, "power, proving state, win rate and balances"},
      {"proving deadlines", cmd_proving_deadlines, "sectors, partitions and proven partitions per deadline"},
      {"proving deadline", cmd_proving_deadline, "one deadline's partitions, sectors and faults"},
      {"proving faults", cmd_proving_faults, "the faulty sectors, by deadline and partition"},
      {"sectors pledge", cmd_sectors_pledge, "add a committed-capacity sector"},
      {"sectors list", cmd_sectors_list, "the sealer's sectors and their states"},
      {"sectors status", cmd_sectors_status, "one sector: sealing state, files and its on-chain info"},
  };
  return st_cli_dispatch("spacetime-miner", verbs, sizeof verbs / sizeof verbs[0], argc - 1, argv + 1);
}
