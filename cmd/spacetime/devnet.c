/* spacetime devnet: the whole cluster on this machine with one command. It makes the keys and
 * the genesis, starts the daemon (with a bootstrap producer), the registry on SQLite with one
 * storage node at <dist>/nfs/127.0.0.1, and N miners, each as --sealers sealer and --posters
 * poster processes on one repo sharing the registry's database (the seed's `ps`), pledges
 * their sectors, and prints what happens until Ctrl-C or --epochs. Every program is a child process (st_proc) of
 * the same build, so what runs is what an operator runs by hand; the folder keeps it all, and a
 * second run starts the same cluster again (devnet.json records it). */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chain/st_network.h"
#include "client/st_miner_client.h"
#include "codec/st_address.h"
#include "commands.h"
#include "core/st_buf.h"
#include "core/st_cli.h"
#include "core/st_fs.h"
#include "core/st_proc.h"
#include "crypto/st_secp.h"
#include "crypto/st_wallet.h"
#include "miner/st_miner_repo.h"
#include "rpc/st_apiinfo.h"
#include "rpc/st_node_api.h"
#include "rpc/st_rpc_client.h"

#define MAX_MINERS 8
#define MAX_PROCS 8 /* sealers and posters of one miner, each */
#define PATH 4096
#define DIR_MAX 3000 /* the folder; what is under it fits in PATH */
#define SUB_MAX 3100

typedef struct dv_miner {
  char repo[SUB_MAX], owner[ST_ADDR_STR_MAX], actor[32]; /* actor: "t0<id>" */
  uint64_t id;                                           /* the miner's actor ID */
  pid_t pid[2 * MAX_PROCS];                              /* its sealers, then its posters */
  char pname[2 * MAX_PROCS][48];                         /* their names, as their logs */
  size_t nprocs;
  st_miner_client api;
  int64_t committed, proving, posts, blocks; /* what was last reported */
  char sealing[256];
} dv_miner;

typedef struct devnet {
  char dir[DIR_MAX], bin[DIR_MAX], node[SUB_MAX], srv[SUB_MAX], dist[SUB_MAX], logs[SUB_MAX], url[512], token[512];
  char explorer[ST_APIINFO_ADDR_MAX]; /* the daemon's base URL: the explorer is at / */
  char network[32], producer[ST_ADDR_STR_MAX];
  uint64_t nminers, sectors, epochs, sealers, posters;
  bool sectors_set, miners_set, network_set; /* given as flags */
  dv_miner m[MAX_MINERS];
  pid_t daemon, registry;
  st_rpc_client *node_api;
  struct timespec t0;
  bool first_post, first_block;
} devnet;

static volatile sig_atomic_t stopping;
static void on_signal(int sig) { stopping = sig; }

static double elapsed(const devnet *d) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - d->t0.tv_sec) + (double)(now.tv_nsec - d->t0.tv_nsec) / 1e9;
}

/* One progress line: "[  12.3s] ..." */
static void say(const devnet *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const devnet *d, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("[%7.1fs] ", elapsed(d));
  vprintf(fmt, ap);
  printf("\n");
  fflush(stdout);
  va_end(ap);
}

static void nap_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* The last lines of a log, for an error about the program that wrote it: only its last 16 KiB
 * are read (a reused folder's logs keep growing). */
static void show_tail(const char *log, int lines) {
  FILE *f = fopen(log, "r");
  struct stat st;
  if (!f) return;
  if (!fstat(fileno(f), &st) && st.st_size > 16384) fseeko(f, st.st_size - 16384, SEEK_SET);
  st_buf b = ST_BUF_INIT;
  st_code code = st_fs_read_stream(f, log, 16384, &b, NULL);
  fclose(f);
  if (code) {
    st_buf_free(&b);
    return;
  }
  const char *s = st_buf_cstr(&b), *p = s + b.len;
  for (int n = 0; p > s && n <= lines; p--)
    if (p[-1] == '\n' && p != s + b.len) n++;
  fprintf(stderr, "--- the end of %s:\n%s", log, p == s ? s : p + 1);
  st_buf_free(&b);
}

static void log_path(const devnet *d, const char *name, char out[PATH]) {
  snprintf(out, PATH, "%s/%s.log", d->logs, name);
}

/* Runs a setup step (a program of this build) to its end; its output goes to logs/setup.log. */
static st_code run_step(devnet *d, const char *what, char **argv, st_err *err) {
  char log[PATH];
  log_path(d, "setup", log);
  pid_t pid;
  int status = 0;
  st_code code = st_proc_spawn(argv, log, &pid, err);
  if (code) return code;
  while (!st_proc_exited(pid, &status)) {
    if (stopping) {
      st_proc_stop(pid, 5000, NULL);
      return st_err_set(err, ST_EUNAVAIL, "stopped during %s", what);
    }
    nap_ms(50);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ST_OK;
  char how[96];
  st_proc_describe(status, how, sizeof how);
  show_tail(log, 5);
  return st_err_set(err, ST_EINTERNAL, "%s %s (its output is in %s)", what, how, log);
}

static void prog(const devnet *d, const char *name, char out[PATH]) { snprintf(out, PATH, "%s/%s", d->bin, name); }

/* Starts a long-running program; its output goes to logs/<name>.log. */
static st_code start(devnet *d, const char *name, char **argv, pid_t *pid, st_err *err) {
  char log[PATH];
  log_path(d, name, log);
  return st_proc_spawn(argv, log, pid, err);
}

/* Waits until <repo>/api exists (the program serves), while the program runs. */
static st_code wait_api(devnet *d, const char *name, pid_t pid, const char *repo, st_err *err) {
  char addr[ST_APIINFO_ADDR_MAX], log[PATH];
  for (int i = 0; i < 600; i++) {
    if (!st_apiinfo_read_api(repo, addr, sizeof addr, NULL)) return ST_OK;
    int status;
    if (st_proc_exited(pid, &status)) {
      char how[96];
      st_proc_describe(status, how, sizeof how);
      log_path(d, name, log);
      show_tail(log, 8);
      return st_err_set(err, ST_EUNAVAIL, "the %s %s before it served its API (see %s)", name, how, log);
    }
    if (stopping) return st_err_set(err, ST_EUNAVAIL, "stopped while the %s started", name);
    nap_ms(100);
  }
  return st_err_set(err, ST_EUNAVAIL, "the %s did not serve its API within 60 s (see %s/%s.log)", name, d->logs, name);
}

/* A miner's API, through its repo's api and token files. */
static st_code open_miner_api(const dv_miner *miner, st_miner_client *out, st_err *err) {
  st_apiinfo info;
  st_code code = st_apiinfo_resolve(NULL, miner->repo, &info, err);
  return code ? code : st_miner_client_open(&info, miner->actor, out, err);
}

/* The head's height; -1 when the daemon does not answer. */
static int64_t head_height(devnet *d) {
  st_node_head head;
  st_node_head_init(&head);
  int64_t h = st_node_chain_head(d->node_api, &head, NULL) ? -1 : head.height;
  st_node_head_free(&head);
  return h;
}

/* ---------------------------------------------------------------- the folder */

static st_code save_state(const devnet *d, st_err *err) {
  json_t *miners = json_array();
  for (uint64_t i = 0; i < d->nminers; i++)
    json_array_append_new(
        miners, json_pack("{ss ss ss}", "repo", d->m[i].repo, "actor", d->m[i].actor, "owner", d->m[i].owner));
  json_t *o = json_pack("{ss ss so sI}", "network", d->network, "producer", d->producer, "miners", miners, "sectors",
                        (json_int_t)d->sectors);
  char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(o);
  char path[PATH + 16];
  snprintf(path, sizeof path, "%s/devnet.json", d->dir);
  st_code code =
      text ? st_fs_write_atomic(path, text, strlen(text), 0644, err) : st_err_set(err, ST_ENOMEM, "out of memory");
  free(text);
  return code;
}

static st_code load_state(devnet *d, const char *path, st_err *err) {
  json_error_t je;
  json_t *o = json_load_file(path, 0, &je), *miners = json_object_get(o, "miners"), *e;
  if (!o) return st_err_set(err, ST_EINVAL, "%s line %d: %s", path, je.line, je.text);
  const char *net = json_string_value(json_object_get(o, "network")),
             *prod = json_string_value(json_object_get(o, "producer"));
  st_code code = ST_OK;
  if (!net || !prod || !json_is_array(miners) || !json_array_size(miners) || json_array_size(miners) > MAX_MINERS)
    code = st_err_set(err, ST_EINVAL, "%s: needs \"network\", \"producer\" and 1 to %d \"miners\"", path, MAX_MINERS);
  size_t i;
  json_array_foreach(miners, i, e) {
    const char *repo = json_string_value(json_object_get(e, "repo")),
               *actor = json_string_value(json_object_get(e, "actor"));
    st_address a;
    if (code) break;
    if (!repo || !actor) code = st_err_set(err, ST_EINVAL, "%s: miner %zu needs \"repo\" and \"actor\"", path, i);
    else if (st_address_parse(actor, &a, NULL, err) || st_address_id(&a, &d->m[i].id, err))
      code = st_err_wrap(err, ST_EINVAL, "%s: miner %zu's \"actor\"", path, i);
    else {
      snprintf(d->m[i].repo, SUB_MAX, "%s", repo);
      snprintf(d->m[i].actor, sizeof d->m[i].actor, "%s", actor);
    }
  }
  if (!code) {
    snprintf(d->network, sizeof d->network, "%s", net);
    snprintf(d->producer, sizeof d->producer, "%s", prod);
    d->nminers = json_array_size(miners);
    if (!d->sectors_set && json_is_integer(json_object_get(o, "sectors")))
      d->sectors = (uint64_t)json_integer_value(json_object_get(o, "sectors"));
  }
  json_decref(o);
  return code;
}

/* The keys and the genesis: a producer and one owner per miner, each with 1000 FIL. */
static st_code make_genesis(devnet *d, st_err *err) {
  char keystore[PATH + 16], exe[PATH], out[PATH + 16];
  snprintf(keystore, sizeof keystore, "%s/keystore", d->node);
  st_address a;
  st_wallet w;
  st_code code = st_wallet_open(&w, keystore, err);
  if (!code) code = st_wallet_generate(&w, &a, err);
  if (!code) code = st_address_format(&a, 't', d->producer, err);
  for (uint64_t i = 0; i < d->nminers && !code; i++) {
    code = st_wallet_generate(&w, &a, err);
    if (!code) code = st_address_format(&a, 't', d->m[i].owner, err);
  }
  if (code) return code;
  char accounts[MAX_MINERS + 1][ST_ADDR_STR_MAX + 8];
  char *argv[10 + 2 * (MAX_MINERS + 1) + 1];
  int n = 0;
  prog(d, "spacetime", exe);
  snprintf(out, sizeof out, "%s/genesis.json", d->dir);
  argv[n++] = exe, argv[n++] = "genesis", argv[n++] = "new", argv[n++] = "--network", argv[n++] = d->network,
  argv[n++] = "--out", argv[n++] = out;
  argv[n++] = "--verifreg-root", argv[n++] = "100"; /* the producer (t0100) adds verifiers */
  for (uint64_t i = 0; i <= d->nminers; i++) {
    snprintf(accounts[i], sizeof accounts[i], "%s=1000", i ? d->m[i - 1].owner : d->producer);
    argv[n++] = "--account", argv[n++] = accounts[i];
  }
  argv[n] = NULL;
  code = run_step(d, "spacetime genesis new", argv, err);
  if (!code)
    say(d,
        "genesis: %s (network %s; producer %s, also the verified registry's root key, and %llu owner(s), 1000 FIL each)",
        out, d->network, d->producer, (unsigned long long)d->nminers);
  return code;
}

/* ---------------------------------------------------------------- the processes */

static st_code start_daemon(devnet *d, bool fresh, st_err *err) {
  char exe[PATH], genesis[PATH + 16];
  prog(d, "spacetime", exe);
  snprintf(genesis, sizeof genesis, "%s/genesis.json", d->dir);
  char *argv[] = {
      exe,     "daemon", "--repo", d->node, "--api", "0", "--producer", d->producer, fresh ? "--genesis" : NULL,
      genesis, NULL};
  st_apiinfo_remove_api(d->node, NULL); /* a kill -9 leaves it */
  st_code code = start(d, "daemon", argv, &d->daemon, err);
  if (!code) code = wait_api(d, "daemon", d->daemon, d->node, err);
  if (!code) code = st_rpc_client_connect(NULL, d->node, &d->node_api, err);
  int64_t height = code ? -1 : head_height(d);
  char addr[ST_APIINFO_ADDR_MAX] = "";
  st_apiinfo_read_api(d->node, addr, sizeof addr, NULL);
  if (st_multiaddr_to_url(addr, d->explorer, sizeof d->explorer, NULL)) d->explorer[0] = 0;
  if (!code)
    say(d, "daemon up: API %s, head at height %lld (pid %d, log %s/daemon.log)", addr,
        (long long)(height < 0 ? 0 : height), (int)d->daemon, d->logs);
  return code;
}

static st_code start_registry(devnet *d, bool fresh, st_err *err) {
  char exe[PATH], api[PATH + 8], node_dir[PATH + 32];
  prog(d, "spacetime-server", exe);
  char *argv[] = {exe, "run", "--listen", "127.0.0.1:0", "--repo", d->srv, NULL};
  snprintf(api, sizeof api, "%s/api", d->srv);
  unlink(api);
  st_code code = start(d, "registry", argv, &d->registry, err);
  for (int i = 0; !code && i < 600; i++) { /* its api file is a URL, not a multiaddr */
    if (st_fs_read_line(api, d->url, sizeof d->url, NULL)) d->url[0] = 0;
    if (d->url[0]) break;
    int status;
    if (st_proc_exited(d->registry, &status) || stopping)
      code = st_err_set(err, ST_EUNAVAIL, "the registry stopped before it served (see %s/registry.log)", d->logs);
    nap_ms(100);
  }
  if (!code && !d->url[0])
    code = st_err_set(err, ST_EUNAVAIL, "the registry did not serve within 60 s (see %s/registry.log)", d->logs);
  char tpath[PATH + 8];
  snprintf(tpath, sizeof tpath, "%s/token", d->srv);
  if (!code) code = st_fs_read_line(tpath, d->token, sizeof d->token, err);
  if (!code && !d->token[0]) code = st_err_set(err, ST_ENOENT, "the registry wrote no token at %s", tpath);
  /* the children read the token from their environment: no secret on a command line */
  if (!code && setenv("SPACETIME_SERVER_TOKEN", d->token, 1))
    code = st_err_set(err, ST_ENOMEM, "setenv: %s", strerror(errno));
  snprintf(node_dir, sizeof node_dir, "%s/nfs/127.0.0.1", d->dist);
  if (!code && fresh) {
    char *add[] = {exe, "storage-nodes", "add", "--host", "127.0.0.1", "--type", "nfs", "--server-api", d->url, NULL};
    char *hb[] = {exe, "storage-nodes", "heartbeat", "1", "--path", node_dir, "--server-api", d->url, NULL};
    code = run_step(d, "spacetime-server storage-nodes add", add, err);
    if (!code) code = run_step(d, "spacetime-server storage-nodes heartbeat", hb, err);
  }
  if (!code)
    say(d, "registry up: %s on SQLite (%s/registry.db); storage node 1 (nfs 127.0.0.1) at %s", d->url, d->srv,
        node_dir);
  return code;
}

static st_code init_miner(devnet *d, dv_miner *m, st_err *err) {
  char exe[PATH];
  prog(d, "spacetime-miner", exe);
  char *argv[] = {exe, "init", "--repo", m->repo, "--node-repo", d->node, "--owner", m->owner, NULL};
  st_code code = run_step(d, "spacetime-miner init", argv, err);
  st_miner_config cfg;
  if (!code) code = st_miner_config_read(m->repo, &cfg, err);
  if (!code) {
    m->id = cfg.miner;
    snprintf(m->actor, sizeof m->actor, "t0%llu", (unsigned long long)cfg.miner);
    say(d, "miner %s created on chain (owner %s, repo %s)", m->actor, m->owner, m->repo);
  }
  return code;
}

/* One process of miner i: the k-th (from 1) sealer or poster, logging to <logs>/<role>-<i>.log
 * (the first) or <role>-<i>-<k>.log. */
static st_code start_proc(devnet *d, size_t i, const char *role, uint64_t k, st_err *err) {
  dv_miner *m = &d->m[i];
  char exe[PATH], log[PATH], *name = m->pname[m->nprocs];
  prog(d, "spacetime-miner", exe);
  if (k == 1) snprintf(name, sizeof m->pname[0], "%s-%zu", role, i + 1);
  else snprintf(name, sizeof m->pname[0], "%s-%zu-%llu", role, i + 1, (unsigned long long)k);
  snprintf(log, sizeof log, "%s/%s.log", d->logs, name);
  char *argv[] = {exe,           "run",   "--repo",       m->repo, "--node-repo", d->node,
                  "--dist-path", d->dist, "--server-api", d->url,  "--mode",      (char *)role,
                  "--api",       "0",     "--log-file",   log,     NULL};
  st_apiinfo_remove_api(m->repo, NULL); /* the newest process's api file: the one waited for */
  st_code code = start(d, name, argv, &m->pid[m->nprocs], err);
  if (!code) code = wait_api(d, name, m->pid[m->nprocs], m->repo, err);
  if (!code)
    say(d, "miner %s: %s %llu running (pid %d, log %s)", m->actor, role, (unsigned long long)k, (int)m->pid[m->nprocs],
        log);
  m->nprocs++;
  return code;
}

/* The miner's sealers, then its posters (whose API the progress reads), then its pledges. */
static st_code start_miner(devnet *d, size_t i, st_err *err) {
  dv_miner *m = &d->m[i];
  st_code code = ST_OK;
  for (uint64_t k = 1; k <= d->sealers && !code; k++) code = start_proc(d, i, "sealer", k, err);
  for (uint64_t k = 1; k <= d->posters && !code; k++) code = start_proc(d, i, "poster", k, err);
  if (!code) code = open_miner_api(m, &m->api, err);
  uint64_t *list = NULL, number;
  size_t have = 0;
  if (!code) st_miner_client_sectors(&m->api, &list, &have, NULL);
  free(list);
  for (size_t k = have; !code && k < d->sectors; k++) code = st_miner_client_pledge(&m->api, &number, err);
  if (!code)
    say(d,
        "miner %s running: %llu sealer(s) and %llu poster(s) sharing the registry's database; %llu sector(s), %zu new",
        m->actor, (unsigned long long)d->sealers, (unsigned long long)d->posters,
        (unsigned long long)(have > d->sectors ? have : d->sectors), d->sectors > have ? d->sectors - have : 0);
  return code;
}

static void stop_all(devnet *d) {
  for (size_t i = d->nminers; i-- > 0;) {
    st_miner_client_close(&d->m[i].api);
    for (size_t k = d->m[i].nprocs; k-- > 0;) {
      if (d->m[i].pid[k] > 0) st_proc_stop(d->m[i].pid[k], 15000, NULL);
      d->m[i].pid[k] = 0;
    }
  }
  if (d->registry > 0) st_proc_stop(d->registry, 10000, NULL);
  st_rpc_client_close(d->node_api);
  d->node_api = NULL;
  if (d->daemon > 0) st_proc_stop(d->daemon, 15000, NULL);
  d->registry = d->daemon = 0;
}

/* A child that exited on its own: which, and how. */
static bool child_died(devnet *d, char *what, size_t n) {
  int status;
  char how[96];
  for (size_t i = 0; i < d->nminers + 2; i++)
    for (size_t k = 0; k < (i < 2 ? 1 : d->m[i - 2].nprocs); k++) {
      pid_t *p = i == 0 ? &d->daemon : i == 1 ? &d->registry : &d->m[i - 2].pid[k];
      const char *name = i == 0 ? "daemon" : i == 1 ? "registry" : d->m[i - 2].pname[k];
      if (*p <= 0 || !st_proc_exited(*p, &status)) continue;
      st_proc_describe(status, how, sizeof how);
      snprintf(what, n, "the %s (pid %d) %s: see %s/%s.log", name, (int)*p, how, d->logs, name);
      *p = 0;
      return true;
    }
  return false;
}

/* ---------------------------------------------------------------- progress */

/* Reports what changed for one miner: sealing, committed, proving, its first post and block. */
static void watch_miner(devnet *d, dv_miner *m, int64_t height) {
  st_miner_state_count *sum = NULL;
  size_t nsum = 0;
  st_miner_poster_counts ri;
  st_node_sector_count cnt;
  bool have_sum = !st_miner_client_summary(&m->api, &sum, &nsum, NULL),
       have_ri = !st_miner_client_poster(&m->api, &ri, NULL),
       have_cnt = !st_node_get_sector_count(d->node_api, m->id, &cnt, NULL);
  char sealing[256] = "";
  size_t at = 0;
  int64_t proving = 0, in_flight = 0;
  for (size_t i = 0; i < nsum; i++) {
    if (!strcmp(sum[i].state, "Proving")) proving = sum[i].count;
    else if (sum[i].count > 0 && at < sizeof sealing) {
      in_flight += sum[i].count;
      at += (size_t)snprintf(sealing + at, sizeof sealing - at, "%s%lld %s", at ? ", " : "", (long long)sum[i].count,
                             sum[i].state);
    }
  }
  free(sum);
  if (have_sum && strcmp(sealing, m->sealing) && in_flight)
    say(d, "%s: %lld sector(s) sealing (%s)", m->actor, (long long)in_flight, sealing);
  if (have_sum) snprintf(m->sealing, sizeof m->sealing, "%s", sealing);
  int64_t live = have_cnt ? (int64_t)cnt.live : 0;
  if (have_cnt && live != m->committed)
    say(d, "%s: %lld sector(s) committed on chain (ProveCommitSector landed)", m->actor, (long long)live);
  if (have_cnt) m->committed = live;
  if (have_sum && proving != m->proving) say(d, "%s: %lld sector(s) proving", m->actor, (long long)proving);
  if (have_sum) m->proving = proving;
  if (have_ri && ri.posts_landed > m->posts && !d->first_post) {
    say(d, "first WindowPoSt proven: %s's SubmitWindowedPoSt landed (height %lld)", m->actor, (long long)height);
    d->first_post = true;
  }
  if (have_ri && ri.blocks_mined > m->blocks && !d->first_block) {
    say(d, "first block mined: %s won height %lld (WinningPoSt)", m->actor, (long long)ri.last_mined_height);
    d->first_block = true;
  }
  if (have_ri) m->posts = ri.posts_landed, m->blocks = ri.blocks_mined;
}

static void status_line(devnet *d, int64_t height) {
  char line[1024];
  size_t at = (size_t)snprintf(line, sizeof line, "height %lld", (long long)height);
  st_node_power p;
  st_node_power_init(&p);
  for (uint64_t i = 0; i < d->nminers && at < sizeof line; i++) {
    if (st_node_miner_power(d->node_api, d->m[i].id, &p, NULL)) mpz_set_ui(p.raw, 0);
    char s[32];
    st_size_str(mpz_get_d(p.raw), "B", s, sizeof s);
    at += (size_t)snprintf(line + at, sizeof line - at, "; %s: %lld proving, power %s, %lld post(s), %lld block(s)",
                           d->m[i].actor, (long long)d->m[i].proving, s, (long long)d->m[i].posts,
                           (long long)d->m[i].blocks);
  }
  st_node_power_free(&p);
  say(d, "%s", line);
}

/* DIR/env (mode 0600: it holds the node's token): `source DIR/env` puts the programs on the PATH
 * and points them at this cluster as Lotus users expect (FULLNODE_API_INFO, and repos by
 * variable as LOTUS_PATH and LOTUS_MINER_PATH do), so the short commands work as printed.
 * Written at each start: the daemon's port changes. */
static st_code write_env(const devnet *d, st_err *err) {
  char addr[ST_APIINFO_ADDR_MAX], token[600], path[PATH];
  snprintf(path, sizeof path, "%s/token", d->node);
  st_code code = st_apiinfo_read_api(d->node, addr, sizeof addr, err);
  if (!code) code = st_fs_read_line(path, token, sizeof token, err);
  if (code) return st_err_wrap(err, code, "writing %s/env", d->dir);
  st_buf b = ST_BUF_INIT;
  st_buf_printf(&b,
                "# The devnet in %s: run `source %s/env`, then the short commands work, e.g.\n"
                "#   spacetime-miner info; spacetime-miner proving deadlines; spacetime chain list\n"
                "# Rewritten at each start (the API's port changes): source it again after a restart.\n"
                "export PATH=\"%s:$PATH\"\n"
                "export SPACETIME_PATH=\"%s\"\n"
                "export SPACETIME_MINER_PATH=\"%s\"\n"
                "export SPACETIME_SERVER_REPO=\"%s\"\n"
                "export SPACETIME_SERVER_API=\"%s\"\n"
                "export FULLNODE_API_INFO=\"%s:%s\"\n",
                d->dir, d->dir, d->bin, d->node, d->m[0].repo, d->srv, d->url, token, addr);
  snprintf(path, sizeof path, "%s/env", d->dir);
  code = st_buf_status(&b, err);
  if (!code) code = st_fs_write_atomic(path, b.data, b.len, 0600, err);
  st_secure_zero(token, sizeof token);
  if (b.data) st_secure_zero(b.data, b.len);
  st_buf_free(&b);
  return code;
}

static void print_next(const devnet *d) {
  printf("\nThe cluster is up; its folder is %s. In another terminal, try:\n", d->dir);
  printf("  source %s/env    # the programs on the PATH, pointed at this cluster\n", d->dir);
  printf("  spacetime-miner info\n");
  printf("  spacetime-miner proving deadlines\n");
  printf("  spacetime-miner sectors list\n");
  printf("  spacetime-miner doctor\n");
  printf("  spacetime chain list\n");
  printf("  tail -f %s/poster-1.log\n", d->logs);
  printf("To store a file as a verified deal (README, 'Storing data'; the root key is %s):\n", d->producer);
  printf("  spacetime filplus add-verifier --from %s VERIFIER 1048576\n", d->producer);
  printf("  spacetime client deal --miner %s --price 0 --duration 1500 --verified FILE\n", d->m[0].actor);
  if (d->explorer[0]) printf("and open the explorer: %s/\n", d->explorer);
  printf("Ctrl-C stops every process; 'spacetime devnet --dir %s' starts the same cluster again.\n\n", d->dir);
  fflush(stdout);
}

/* ---------------------------------------------------------------- the command */

static st_code self_dir(char out[DIR_MAX], st_err *err) {
  char exe[PATH];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return st_err_set(err, ST_EIO, "could not read /proc/self/exe: %s", strerror(errno));
  exe[n] = 0;
  char *slash = strrchr(exe, '/');
  if (slash) *slash = 0;
  if (strlen(exe) >= DIR_MAX) return st_err_set(err, ST_EINVAL, "the program's folder %s is too long", exe);
  memcpy(out, exe, strlen(exe) + 1);
  const char *need[] = {"spacetime-server", "spacetime-miner"};
  for (size_t i = 0; i < 2; i++) {
    char p[PATH + 32];
    snprintf(p, sizeof p, "%s/%s", out, need[i]);
    if (access(p, X_OK))
      return st_err_set(err, ST_ENOENT, "%s is not beside this spacetime (in %s): build every program with 'make'",
                        need[i], out);
  }
  return ST_OK;
}

/* Whether the folder holds anything but logs/ (which devnet makes first). */
static bool has_files(const char *dir) {
  DIR *dp = opendir(dir);
  struct dirent *e;
  bool any = false;
  while (dp && !any && (e = readdir(dp)))
    any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "logs");
  if (dp) closedir(dp);
  return any;
}

static st_code setup(devnet *d, bool *fresh, st_err *err) {
  char state[PATH + 16], nodes[PATH + 32];
  snprintf(state, sizeof state, "%s/devnet.json", d->dir);
  *fresh = access(state, F_OK) != 0;
  if (!*fresh) {
    char want[32];
    uint64_t miners = d->nminers;
    snprintf(want, sizeof want, "%s", d->network);
    st_code code = load_state(d, state, err);
    if (!code)
      say(d, "reusing %s: network %s, %llu miner(s), %llu sector(s) each", d->dir, d->network,
          (unsigned long long)d->nminers, (unsigned long long)d->sectors);
    if (!code && ((d->miners_set && miners != d->nminers) || (d->network_set && strcmp(want, d->network))))
      say(d, "--miners and --network apply to a new folder only: this one keeps its %llu miner(s) on %s",
          (unsigned long long)d->nminers, d->network);
    return code;
  }
  if (!access(d->node, F_OK))
    return st_err_set(
        err, ST_EEXIST,
        "%s holds a devnet whose setup did not finish (no devnet.json): remove it, or choose another --dir", d->dir);
  if (has_files(d->dir))
    return st_err_set(err, ST_EEXIST, "%s is not empty and holds no devnet (devnet.json): choose a new or empty --dir",
                      d->dir);
  for (uint64_t i = 0; i < d->nminers; i++)
    snprintf(d->m[i].repo, SUB_MAX, "%s/miner-%llu", d->dir, (unsigned long long)i + 1);
  snprintf(nodes, sizeof nodes, "%s/nfs/127.0.0.1", d->dist);
  st_code code = st_fs_mkdir_p(nodes, 0755, err);
  if (!code) code = st_fs_mkdir_p(d->node, 0755, err);
  if (!code) code = make_genesis(d, err);
  return code;
}

int st_cmd_devnet(int argc, char **argv) {
  st_flag flags[] = {
      ST_FLAG("dir", ST_FLAG_VALUE, "DIR", "the devnet's folder (default ./devnet); a second run reuses it"),
      ST_FLAG("miners", ST_FLAG_VALUE, "N",
              "miners, each sealing and proving (default 1, at most 8; a new folder only)"),
      ST_FLAG("sectors", ST_FLAG_VALUE, "N", "committed-capacity sectors each miner pledges (default 2)"),
      ST_FLAG("sealers", ST_FLAG_VALUE, "N", "sealer processes of each miner (default 1, at most 8)"),
      ST_FLAG("posters", ST_FLAG_VALUE, "N", "poster processes of each miner (default 1, at most 8)"),
      ST_FLAG("network", ST_FLAG_VALUE, "NAME",
              "devnet (1 s epochs, 2 KiB sectors; default), testnet2020 or mainnet (a new folder only)"),
      ST_FLAG("epochs", ST_FLAG_VALUE, "N", "stop by itself after N epochs (default: run until Ctrl-C)"),
  };
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(
      &cli, argc, argv, 0, "spacetime devnet",
      "[--dir ./devnet] [--miners N] [--sectors N] [--sealers N] [--posters N] [--network devnet] [--epochs N]",
      "Run the whole cluster on this machine: the daemon, the registry on SQLite with a storage node under the dist-path, "
      "and miners that pledge, seal, prove and mine, printing their progress.");
  if (rc >= 0) return rc;
  static devnet d;
  memset(&d, 0, sizeof d);
  clock_gettime(CLOCK_MONOTONIC, &d.t0);
  st_err err;
  d.nminers = 1;
  d.sectors = 2;
  d.sealers = d.posters = 1;
  if (st_cli_u64(&cli, "miners", 1, MAX_MINERS, NULL, &d.nminers, &err) ||
      st_cli_u64(&cli, "sectors", 0, 1000, NULL, &d.sectors, &err) ||
      st_cli_u64(&cli, "sealers", 1, MAX_PROCS, NULL, &d.sealers, &err) ||
      st_cli_u64(&cli, "posters", 1, MAX_PROCS, NULL, &d.posters, &err))
    return st_cli_fail("%s", err.msg);
  if (st_cli_u64(&cli, "epochs", 1, UINT64_MAX, NULL, &d.epochs, NULL))
    return st_cli_fail("--epochs must be a positive number of epochs");
  snprintf(d.network, sizeof d.network, "%s", st_cli_value(&cli, "network", "devnet"));
  d.miners_set = st_cli_has(&cli, "miners"), d.sectors_set = st_cli_has(&cli, "sectors");
  d.network_set = st_cli_has(&cli, "network");
  st_network net;
  if (st_network_profile(d.network, &net, &err)) return st_cli_fail("--network: %s", err.msg);
  if (self_dir(d.bin, &err)) return st_cli_fail("%s", err.msg);
  const char *dir = st_cli_value(&cli, "dir", "devnet");
  if (st_fs_mkdir_p(dir, 0755, &err)) return st_cli_fail("--dir: %s", err.msg);
  char abs[PATH];
  if (!realpath(dir, abs)) return st_cli_fail("--dir %s: %s", dir, strerror(errno));
  if (strlen(abs) >= DIR_MAX) return st_cli_fail("--dir %s: the path is longer than %d characters", dir, DIR_MAX - 1);
  memcpy(d.dir, abs, strlen(abs) + 1);
  snprintf(d.node, SUB_MAX, "%s/node", d.dir);
  snprintf(d.srv, SUB_MAX, "%s/server", d.dir);
  snprintf(d.dist, SUB_MAX, "%s/dist", d.dir);
  snprintf(d.logs, SUB_MAX, "%s/logs", d.dir);
  if (st_fs_mkdir_p(d.logs, 0755, &err)) return st_cli_fail("%s", err.msg);

  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);

  bool fresh;
  st_code code = setup(&d, &fresh, &err);
  if (!code) code = start_daemon(&d, fresh, &err);
  if (!code) code = start_registry(&d, fresh, &err);
  for (uint64_t i = 0; fresh && i < d.nminers && !code; i++) code = init_miner(&d, &d.m[i], &err);
  if (!code && fresh) code = save_state(&d, &err);
  for (uint64_t i = 0; i < d.nminers && !code; i++) code = start_miner(&d, i, &err);
  if (!code) code = write_env(&d, &err);
  if (code) {
    fprintf(stderr, "ERROR: %s\n", err.msg);
    stop_all(&d);
    return 1;
  }
  print_next(&d);

  int64_t start_height = -1, height = -1, last_status = 0;
  int result = 0;
  char why[PATH + 128];
  while (!stopping) {
    if (child_died(&d, why, sizeof why)) {
      fprintf(stderr, "ERROR: %s\n", why);
      result = 1;
      break;
    }
    int64_t now = head_height(&d);
    if (now >= 0) height = now;
    if (start_height < 0) start_height = height;
    for (uint64_t i = 0; i < d.nminers; i++) watch_miner(&d, &d.m[i], height);
    if (elapsed(&d) - (double)last_status >= 30) {
      status_line(&d, height);
      last_status = (int64_t)elapsed(&d);
    }
    if (d.epochs && start_height >= 0 && height - start_height >= (int64_t)d.epochs) {
      say(&d, "ran %llu epochs (height %lld to %lld): stopping", (unsigned long long)d.epochs, (long long)start_height,
          (long long)height);
      break;
    }
    nap_ms(500);
  }
  if (stopping) say(&d, "%s: stopping", strsignal(stopping));
  stop_all(&d);
  say(&d, "stopped every process; the folder %s keeps the chain, the registry and the sectors (logs in %s)", d.dir,
      d.logs);
  return result;
}
