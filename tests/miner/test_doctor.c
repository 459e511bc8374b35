/* st_doctor_facts and st_doctor: doctor's facts gathered from the in-process daemon of
 * tests/nodefx.c, the miner's own API (st_miner_api) over real sealed 2 KiB sectors, a registry
 * on loopback and poster logs, then each rule's findings checked word for word with their
 * evidence and fixes: the daemon away or silent; the miner not running; before the miner exists,
 * with no sector, healthy, with a skipped sector, with every sector faulty and with the current
 * deadline half over; the seed's incident (the files on a storage node the poster was not told
 * of, found through the registry the repo's miner last ran with); the registry answering, down,
 * and its nodes' heartbeats fresh, never sent, stale and failing; the worker's balance. Cases the
 * daemon does not produce on demand (a failing balance or deadline read) are set in the facts,
 * which is all the rules read. */
#include "testutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codec/st_token.h"
#include "core/st_fs.h"
#include "core/st_proc.h"
#include "miner/st_cluster.h"
#include "miner/st_doctor.h"
#include "miner/st_miner_api.h"
#include "nodefx.h"
#include "registry/st_registry_client.h"
#include "registry/st_registry_server.h"

#define TOKEN "doctor-test-token-0123456"
static char repo[400], node_repo[400], logpath[400], cmdline[8192];
static st_miner_config cfg;
static st_doctor_facts facts;
static st_doctor_report report;

/* ---------------------------------------------------------------- helpers */

typedef struct diag_opts {
  st_rpc_client *node, *miner;
  const char *node_error, *miner_error, *log_file, *server_api, *min_fil;
} diag_opts;

static void diagnose(const diag_opts *d) {
  mpz_t min;
  mpz_init(min);
  assert_int_equal(st_fil_parse(d->min_fil ? d->min_fil : "1", min, NULL), ST_OK);
  st_doctor_opts o = {.repo = repo,
                      .node_repo = node_repo,
                      .cfg = &cfg,
                      .node = d->node,
                      .node_error = d->node_error,
                      .miner = d->miner,
                      .miner_error = d->miner_error,
                      .log_file = d->log_file,
                      .server_api = d->server_api,
                      .min_balance = min};
  st_doctor_gather(&o, &facts);
  st_doctor_diagnose(&facts, &report);
  mpz_clear(min);
}

static const st_doctor_finding *finding(st_doctor_check c) { return &report.f[c]; }

static void assert_starts(const char *got, const char *prefix) {
  if (strncmp(got, prefix, strlen(prefix))) fail_msg("\"%s\" does not start with \"%s\"", got, prefix);
}

static void assert_not_run(st_doctor_check c) {
  if (report.f[c].check) fail_msg("check %d ran: %s", (int)c, report.f[c].summary);
}

static void assert_finding(st_doctor_check c, const char *check, st_doctor_level l, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void assert_finding(st_doctor_check c, const char *check, st_doctor_level l, const char *fmt, ...) {
  const st_doctor_finding *f = finding(c);
  char want[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(want, sizeof want, fmt, ap);
  va_end(ap);
  if (!f->check) fail_msg("%s did not run", check);
  assert_string_equal(f->check, check);
  if (f->level != l || strcmp(f->summary, want))
    fail_msg("%s: [%s] %s\n want [%s] %s", check, st_doctor_level_name(f->level), f->summary, st_doctor_level_name(l),
             want);
}

static void assert_line(const st_doctor_lines *l, size_t i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void assert_line(const st_doctor_lines *l, size_t i, const char *fmt, ...) {
  char want[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(want, sizeof want, fmt, ap);
  va_end(ap);
  if (i >= l->n) fail_msg("line %zu of %zu lines, want: %s", i, l->n, want);
  assert_string_equal(l->v[i], want);
}

static void assert_cause_has(st_doctor_check c, const char *needle) {
  if (!strstr(finding(c)->cause, needle)) fail_msg("cause \"%s\" lacks \"%s\"", finding(c)->cause, needle);
}

/* A log line's timestamp now, as st_log writes it. */
static void stamp(char out[40]) {
  time_t t = time(NULL);
  struct tm tm;
  localtime_r(&t, &tm);
  strftime(out, 40, "%Y-%m-%dT%H:%M:%S.000%z", &tm);
}

/* The poster log: its start-up line, then each of lines as an ERROR line (NULL-terminated). */
static void write_log(const char *const *lines) {
  char ts[40];
  stamp(ts);
  FILE *f = fopen(logpath, "w");
  assert_non_null(f);
  fprintf(f, "%s\tINFO\tstorageminer\tspacetime-miner starting\t{}\n", ts);
  for (size_t i = 0; lines && lines[i]; i++) fprintf(f, "%s\tERROR\tstorageminer\t%s\n", ts, lines[i]);
  fclose(f);
}

static void write_server_api(const char *url) {
  char path[500];
  st_err err;
  snprintf(path, sizeof path, "%s/server-api", repo);
  assert_int_equal(st_fs_write_atomic(path, url, strlen(url), 0644, &err), ST_OK);
}

/* `spacetime-miner run`'s API over the fixture's store, and a client of it. */
typedef struct run {
  st_miner_api *api;
  st_rpc_client *c;
} run;

static void run_start(nodefx *f, run *r, const char *server_api, const char *log_file) {
  st_miner_api_cfg ac = {.repo = repo,
                         .cfg = &cfg,
                         .mode = "all",
                         .dist_path = f->store,
                         .server_api = server_api,
                         .server_token = TOKEN,
                         .node = &f->api,
                         .post = {.parallel = 2, .timeout_ms = 5000},
                         .listen = "127.0.0.1:0",
                         .log_file = log_file};
  st_err err;
  st_apiinfo ai;
  if (st_miner_api_start(&ac, &r->api, &err)) fail_msg("miner API: %s", err.msg);
  assert_int_equal(st_apiinfo_resolve(NULL, repo, &ai, &err), ST_OK);
  assert_int_equal(st_rpc_client_open(&ai, &r->c, &err), ST_OK);
  /* and joins the miner's cluster, as run does (a registry that is not there: it cannot) */
  st_cluster *c;
  int64_t machine;
  if (!st_cluster_open_repo(server_api, TOKEN, repo, cfg.miner, &c, &err)) {
    st_cluster_join(c, cfg.miner, "sealer,poster", "test", 3600, &machine, &err);
    st_cluster_close(c);
  }
}

static void run_stop(run *r) {
  st_rpc_client_close(r->c);
  st_miner_api_stop(r->api);
}

static void worker_text(char out[ST_ADDR_STR_MAX]) { st_address_format(&cfg.worker, 't', out, NULL); }

/* The proven finding's deadline table: its header and deadline d's row. */
static void assert_table(uint64_t d, uint64_t live, uint64_t faulty) {
  const st_doctor_lines *e = &finding(ST_DOCTOR_CHECK_PROVEN)->evidence;
  assert_line(e, 0, "%-10s%-9s%-12s%-8s%s", "deadline", "sectors", "partitions", "proven", "faulty");
  if (d == facts.cur.index)
    assert_line(e, 1, "%-10llu%-9llu%-12zu%-8llu%llu (current, open %lld epochs)", (unsigned long long)d,
                (unsigned long long)live, (size_t)1, (unsigned long long)facts.proven_now, (unsigned long long)faulty,
                (long long)(facts.cur.current_epoch - facts.cur.open));
  else
    assert_line(e, 1, "%-10llu%-9llu%-12zu%-8s%llu", (unsigned long long)d, (unsigned long long)live, (size_t)1, "-",
                (unsigned long long)faulty);
}

static uint64_t the_deadline; /* the one holding sectors 1 and 2 */

/* doctor's --server-api where a run has none, so that doctor does not look for registries on
 * this host (other programs' registries there would change the findings) */
#define DEAD_REGISTRY "http://127.0.0.1:1"

/* ---------------------------------------------------------------- no daemon, no miner */

static void test_unreachable(void **state) {
  (void)state;
  diagnose(&(diag_opts){.node_error = "the node: could not connect to 127.0.0.1:1",
                        .miner_error = "its repo has no api file"});
  assert_finding(ST_DOCTOR_CHECK_DAEMON, "daemon", ST_DOCTOR_FAIL,
                 "the daemon cannot be reached: the node: could not connect to 127.0.0.1:1");
  assert_int_equal(finding(ST_DOCTOR_CHECK_DAEMON)->fix.n, 1);
  assert_line(&finding(ST_DOCTOR_CHECK_DAEMON)->fix, 0, "spacetime daemon --repo %s", node_repo);
  assert_int_equal(finding(ST_DOCTOR_CHECK_DAEMON)->evidence.n, 0);
  assert_string_equal(finding(ST_DOCTOR_CHECK_DAEMON)->cause, "");
  assert_finding(ST_DOCTOR_CHECK_MINER, "miner", ST_DOCTOR_FAIL, "the miner is not running: its repo has no api file");
  assert_string_equal(finding(ST_DOCTOR_CHECK_MINER)->cause,
                      "nothing proves its sectors, so each deadline is missed and its sectors turn faulty");
  assert_line(&finding(ST_DOCTOR_CHECK_MINER)->fix, 0,
              "spacetime-miner run --repo %s --node-repo %s --dist-path DIR --server-api URL --log-file %s/poster.log",
              repo, node_repo, repo);
  for (st_doctor_check c = ST_DOCTOR_CHECK_POWER; c < ST_DOCTOR_NCHECKS; c++) assert_not_run(c);
  assert_int_equal(st_doctor_problems(&report), 2);

  /* reached, but silent; a miner API that does not answer */
  st_rpc_client *node = nf_dead_client(), *miner = nf_dead_client();
  diagnose(&(diag_opts){.node = node, .miner = miner});
  const st_doctor_finding *d = finding(ST_DOCTOR_CHECK_DAEMON);
  assert_int_equal(d->level, ST_DOCTOR_FAIL);
  assert_starts(d->summary, "the daemon does not answer: ChainHead: the node");
  assert_line(&d->fix, 0, "restart it: spacetime daemon --repo %s", node_repo);
  assert_starts(finding(ST_DOCTOR_CHECK_MINER)->summary, "the miner is not running: miner API MinerRunInfo: the node");
  assert_not_run(ST_DOCTOR_CHECK_POWER);
  assert_not_run(ST_DOCTOR_CHECK_BALANCE);
  st_rpc_client_close(node);
  st_rpc_client_close(miner);
}

/* ---------------------------------------------------------------- before the miner, no sector */

static void test_before_the_miner(void **state) {
  nodefx *f = *state;
  nf_mine_to(f, 3);
  char none[500], worker[ST_ADDR_STR_MAX], have[96];
  snprintf(none, sizeof none, "%s/none.log", f->dir);
  diagnose(&(diag_opts){.node = f->c, .miner_error = "down", .log_file = none});
  assert_finding(ST_DOCTOR_CHECK_DAEMON, "daemon", ST_DOCTOR_OK, "the daemon answers; head at height %lld",
                 (long long)nf_height(f));
  const st_doctor_finding *p = finding(ST_DOCTOR_CHECK_POWER);
  assert_int_equal(p->level, ST_DOCTOR_WARN);
  assert_starts(p->summary, "could not read the miner from the chain: StateMinerSectorCount: ");
  assert_not_run(ST_DOCTOR_CHECK_PROVEN);
  assert_not_run(ST_DOCTOR_CHECK_PATHS);
  assert_finding(ST_DOCTOR_CHECK_LOG, "poster log", ST_DOCTOR_WARN,
                 "could not read the log path=\"%s\": No such file or directory", none);
  assert_line(&finding(ST_DOCTOR_CHECK_LOG)->fix, 0, "point doctor at the poster's log with --log-file FILE");

  /* the worker's balance, against --min-balance */
  worker_text(worker);
  assert_true(mpz_sgn(facts.balance) > 0);
  st_fil_text(facts.balance, have, sizeof have);
  assert_finding(ST_DOCTOR_CHECK_BALANCE, "worker balance", ST_DOCTOR_OK, "the worker %s holds %s", worker, have);
  diagnose(&(diag_opts){.node = f->c, .miner_error = "down", .min_fil = "1000000"});
  assert_finding(ST_DOCTOR_CHECK_BALANCE, "worker balance", ST_DOCTOR_WARN, "the worker %s holds %s, below 1000000 FIL",
                 worker, have);
  assert_cause_has(ST_DOCTOR_CHECK_BALANCE, "the worker pays the gas of every SubmitWindowedPoSt");
  assert_line(&finding(ST_DOCTOR_CHECK_BALANCE)->fix, 0,
              "spacetime send %s 10   # from the node's default wallet; add --from ADDR to choose", worker);
  facts.balance_ok = false;
  snprintf(facts.balance_error, sizeof facts.balance_error, "WalletBalance: the node: gone");
  st_doctor_diagnose(&facts, &report);
  assert_finding(ST_DOCTOR_CHECK_BALANCE, "worker balance", ST_DOCTOR_WARN,
                 "could not read the worker's balance: WalletBalance: the node: gone");

  /* no miner and no log: nothing to say of a log */
  assert_not_run(ST_DOCTOR_CHECK_LOG);
  /* a log with errors, no miner: all of it counts */
  snprintf(logpath, sizeof logpath, "%s/poster.log", f->dir);
  const char *const errs[] = {"when running wdpost for partition 3, got err the proof is bad", NULL};
  write_log(errs);
  diagnose(&(diag_opts){.node = f->c, .miner_error = "down", .log_file = logpath});
  const st_doctor_finding *l = finding(ST_DOCTOR_CHECK_LOG);
  assert_int_equal(l->level, ST_DOCTOR_FAIL);
  assert_starts(l->summary, "1 ERROR line(s) in ");
  assert_null(strstr(l->summary, "since the poster started"));
  assert_line(&l->evidence, 0, "the last: %s", facts.log.last);
  assert_non_null(strstr(facts.log.last, errs[0]));
  assert_string_equal(l->cause, "the poster logged errors (the seed's third check: grep -ai error poster.log)");
  assert_line(&l->fix, 0, "read the lines above; 'grep -a ERROR %s | tail' shows the rest", logpath);
  write_log(NULL);
  diagnose(&(diag_opts){.node = f->c, .miner_error = "down", .log_file = logpath});
  assert_finding(ST_DOCTOR_CHECK_LOG, "poster log", ST_DOCTOR_OK, "no ERROR line in %s (0 older)", logpath);
}

static void test_no_sector(void **state) {
  nodefx *f = *state;
  nf_create_miner(f);
  diagnose(&(diag_opts){.node = f->c, .miner_error = "down"});
  assert_finding(ST_DOCTOR_CHECK_POWER, "power", ST_DOCTOR_WARN, "no sector is committed yet: Committed 0 B");
  assert_cause_has(ST_DOCTOR_CHECK_POWER, "sectors count once their ProveCommitSector lands");
  assert_line(&finding(ST_DOCTOR_CHECK_POWER)->fix, 0, "spacetime-miner sectors pledge --repo %s --node-repo %s", repo,
              node_repo);
  assert_line(&finding(ST_DOCTOR_CHECK_POWER)->fix, 1,
              "spacetime-miner sectors list --repo %s --node-repo %s   # to watch them seal", repo, node_repo);
  assert_finding(ST_DOCTOR_CHECK_PROVEN, "proven", ST_DOCTOR_OK, "no deadline holds sectors yet");
  assert_int_equal(finding(ST_DOCTOR_CHECK_PROVEN)->evidence.n, 0);
  /* the deadlines unreadable */
  facts.deadlines_ok = false;
  snprintf(facts.deadlines_error, sizeof facts.deadlines_error, "StateMinerPartitions: gone");
  st_doctor_diagnose(&facts, &report);
  assert_finding(ST_DOCTOR_CHECK_PROVEN, "proven", ST_DOCTOR_WARN,
                 "could not read the deadlines: StateMinerPartitions: gone");
}

/* ---------------------------------------------------------------- a running miner */

static void test_healthy(void **state) {
  nodefx *f = *state;
  nf_commit_sectors(f, 1, 2);
  the_deadline = nf_deadline_of(f, 1);
  assert_int_equal(nf_post_deadline(f, the_deadline), 0);
  write_log(NULL);
  run r;
  run_start(f, &r, NULL, logpath);
  diagnose(&(diag_opts){.node = f->c, .miner = r.c, .server_api = DEAD_REGISTRY});
  pid_t pid = getpid();
  assert_finding(ST_DOCTOR_CHECK_MINER, "miner", ST_DOCTOR_OK, "the miner runs (pid %d, mode all, dist-path %s)",
                 (int)pid, f->store);
  assert_finding(ST_DOCTOR_CHECK_POWER, "power", ST_DOCTOR_OK, "Committed 4 KiB, Proving 4 KiB (0 B Faulty)");
  assert_finding(
      ST_DOCTOR_CHECK_PROVEN, "proven", ST_DOCTOR_OK,
      "no deadline holding sectors missed its WindowPoSt (1 deadline(s): 1 past their Challenge this period, 0 "
      "not yet; no faulty sectors)");
  assert_int_equal(facts.cur.index, the_deadline);
  assert_int_equal(facts.proven_now, 1);
  assert_table(the_deadline, 2, 0);
  assert_line(&finding(ST_DOCTOR_CHECK_PROVEN)->evidence, 2,
              "the running poster (pid %d) since it started: 0 post(s) landed, 0 failed, 0 sector(s) proven, 0 skipped "
              "as unreadable",
              (int)pid);
  assert_int_equal(finding(ST_DOCTOR_CHECK_PROVEN)->fix.n, 0);
  assert_finding(ST_DOCTOR_CHECK_LOG, "poster log", ST_DOCTOR_OK,
                 "no ERROR line in %s since the poster started (0 older)", logpath);
  assert_finding(ST_DOCTOR_CHECK_PATHS, "sector paths", ST_DOCTOR_OK,
                 "the poster can read all 2 sector(s) where it looks for them");
  assert_not_run(ST_DOCTOR_CHECK_REGISTRY);
  assert_not_run(ST_DOCTOR_CHECK_HEARTBEAT);

  /* without --server-api, and a registry doctor was told of: a warning */
  const st_doctor_finding *s = finding(ST_DOCTOR_CHECK_SERVER_API);
  assert_finding(ST_DOCTOR_CHECK_SERVER_API, "server-api", ST_DOCTOR_WARN,
                 "the miner (sealer and poster) (pid %d) runs without --server-api", (int)pid);
  assert_line(&s->evidence, 0, "it was started as: %s", cmdline);
  assert_line(&s->evidence, 1, "a registry is there: --server-api given to doctor");
  assert_int_equal(s->evidence.n, 2);
  assert_cause_has(ST_DOCTOR_CHECK_SERVER_API, "without --server-api the poster builds sector paths as ");
  assert_cause_has(ST_DOCTOR_CHECK_SERVER_API, "/sealed/s-t01000-N");
  assert_line(&s->fix, 0, "restart it with the registry's address:");
  assert_line(&s->fix, 1, "kill %d", (int)pid);
  assert_line(&s->fix, 2,
              "%s --server-api=http://127.0.0.1:1 --server-token-file=<a file holding the registry's write token>",
              cmdline);
  assert_int_equal(st_doctor_problems(&report), 1);
  /* the fix's other forms: a poster needs no token, a known repo gives it, no command line */
  snprintf(facts.run.mode, sizeof facts.run.mode, "poster");
  facts.cmdline[0] = 0;
  st_doctor_diagnose(&facts, &report);
  assert_finding(ST_DOCTOR_CHECK_SERVER_API, "server-api", ST_DOCTOR_WARN,
                 "the poster (pid %d) runs without --server-api", (int)pid);
  assert_line(&s->fix, 1, "stop the miner (pid %d) and start it again with: --server-api=http://127.0.0.1:1", (int)pid);
  snprintf(facts.run.mode, sizeof facts.run.mode, "all");
  snprintf(facts.reg_repo, sizeof facts.reg_repo, "/srv");
  st_doctor_diagnose(&facts, &report);
  assert_line(&s->fix, 1,
              "stop the miner (pid %d) and start it again with: --server-api=http://127.0.0.1:1 "
              "--server-token-file=/srv/token",
              (int)pid);
  /* no registry anywhere: nothing to say */
  facts.reg_url[0] = 0;
  st_doctor_diagnose(&facts, &report);
  assert_finding(ST_DOCTOR_CHECK_SERVER_API, "server-api", ST_DOCTOR_OK,
                 "no --server-api and no registry on this host: sector paths resolve under %s/{sealed,cache}",
                 f->store);
  assert_int_equal(st_doctor_problems(&report), 0);
  assert_finding(ST_DOCTOR_CHECK_CLUSTER, "cluster", ST_DOCTOR_OK, "1 live process(es): 1 sealer(s), 1 poster(s)");

  /* the cluster's rules, on facts: no live poster; a sector under a lapsed lease; a process
   * that died without leaving */
  json_t *saved = facts.cluster;
  int64_t now = json_integer_value(json_object_get(saved, "now"));
  facts.cluster = json_pack("{s:[{s:I, s:s, s:I, s:s, s:I, s:I, s:n}], s:[], s:I}", "machines", "id", (json_int_t)4,
                            "host", "h1", "pid", (json_int_t)77, "roles", "sealer", "last_contact", (json_int_t)now,
                            "alive", (json_int_t)1, "stopped", "lapsed_sectors", "now", (json_int_t)now);
  st_doctor_diagnose(&facts, &report);
  assert_finding(ST_DOCTOR_CHECK_CLUSTER, "cluster", ST_DOCTOR_FAIL,
                 "no live poster in t01000's cluster (1 live process(es))");
  assert_cause_has(ST_DOCTOR_CHECK_CLUSTER, "every deadline holding them faults at its Close");
  assert_line(&finding(ST_DOCTOR_CHECK_CLUSTER)->fix, 0, "spacetime-miner run --mode=poster --repo %s --dist-path=%s",
              repo, f->store);
  json_decref(facts.cluster);
  facts.cluster = json_pack(
      "{s:[{s:I, s:s, s:I, s:s, s:I, s:I, s:n}, {s:I, s:s, s:I, s:s, s:I, s:I, s:n}], s:[{s:I, s:s, s:I, s:I}], s:I}",
      "machines", "id", (json_int_t)4, "host", "h1", "pid", (json_int_t)77, "roles", "poster", "last_contact",
      (json_int_t)now, "alive", (json_int_t)1, "stopped", "id", (json_int_t)5, "host", "h2", "pid", (json_int_t)78,
      "roles", "sealer", "last_contact", (json_int_t)(now - 40), "alive", (json_int_t)0, "stopped", "lapsed_sectors",
      "number", (json_int_t)9, "state", "WaitSeed", "owner", (json_int_t)5, "lease_until", (json_int_t)(now - 38),
      "now", (json_int_t)now);
  st_doctor_diagnose(&facts, &report);
  assert_finding(ST_DOCTOR_CHECK_CLUSTER, "cluster", ST_DOCTOR_WARN,
                 "1 sector(s) under way wait under a lapsed lease (0 live sealer(s))");
  assert_line(&finding(ST_DOCTOR_CHECK_CLUSTER)->evidence, 0,
              "machine 5 (h2, pid 78, sealer): last contact 40s ago, it never left");
  assert_line(&finding(ST_DOCTOR_CHECK_CLUSTER)->evidence, 1, "sector 9 (WaitSeed): machine 5's lease lapsed 38s ago");
  json_array_clear(json_object_get(facts.cluster, "lapsed_sectors"));
  st_doctor_diagnose(&facts, &report);
  assert_finding(ST_DOCTOR_CHECK_CLUSTER, "cluster", ST_DOCTOR_WARN,
                 "1 process(es) of the cluster stopped answering (1 live)");
  json_decref(facts.cluster);
  facts.cluster = saved;
  run_stop(&r);

  /* a run without --log-file */
  run_start(f, &r, NULL, NULL);
  diagnose(&(diag_opts){.node = f->c, .miner = r.c, .server_api = DEAD_REGISTRY});
  assert_finding(ST_DOCTOR_CHECK_LOG, "poster log", ST_DOCTOR_WARN, "the poster (pid %d) writes no log file", (int)pid);
  assert_cause_has(ST_DOCTOR_CHECK_LOG, "without --log-file the log goes to its stderr only");
  assert_line(&finding(ST_DOCTOR_CHECK_LOG)->fix, 0,
              "restart it with --log-file, e.g. --log-file %s/poster.log (or give doctor --log-file FILE)", repo);
  run_stop(&r);
}

/* A sector the poster skips, then every sector faulty, then the deadline half over unproven. */
static void test_faults(void **state) {
  nodefx *f = *state;
  char cache[700], moved[720];
  snprintf(cache, sizeof cache, "%s/cache/s-t01000-2", f->store);
  snprintf(moved, sizeof moved, "%s/cache-s-t01000-2.away", f->dir);
  assert_int_equal(rename(cache, moved), 0);
  assert_int_equal(nf_post_deadline(f, the_deadline), 1);
  write_log(NULL);
  run r;
  run_start(f, &r, NULL, logpath);
  diagnose(&(diag_opts){.node = f->c, .miner = r.c, .server_api = DEAD_REGISTRY});
  const st_doctor_finding *p = finding(ST_DOCTOR_CHECK_POWER);
  assert_finding(ST_DOCTOR_CHECK_POWER, "power", ST_DOCTOR_FAIL,
                 "Committed 4 KiB but Proving only 2 KiB (2 KiB Faulty, 50.00%%)");
  assert_line(&p->evidence, 0, "1 of 2 committed sector(s) are faulty on chain (StateMinerSectorCount)");
  assert_line(&p->evidence, 1,
              "the miner started %llds ago: faults from while it was down clear once it declares their recovery",
              (long long)(facts.now - facts.run.started_at));
  assert_cause_has(ST_DOCTOR_CHECK_POWER, "(the seed's first check)");
  assert_line(&p->fix, 0,
              "find why the poster cannot prove them in the findings below; once it can read them it declares the "
              "recovery by itself, and the power returns after their next deadline");
  assert_finding(
      ST_DOCTOR_CHECK_PROVEN, "proven", ST_DOCTOR_WARN,
      "no deadline holding sectors missed its WindowPoSt, but 1 of them have faulty sectors the poster skipped");
  assert_table(the_deadline, 2, 1);
  assert_cause_has(ST_DOCTOR_CHECK_PROVEN, "when the poster skips it as unreadable");
  assert_line(&finding(ST_DOCTOR_CHECK_PROVEN)->fix, 0,
              "see 'sector paths' and 'poster log' below for why; 'spacetime-miner proving deadlines --repo %s' shows "
              "the table",
              repo);
  /* ProvingCheck finds it missing, and it is nowhere under the dist-path */
  const st_doctor_finding *s = finding(ST_DOCTOR_CHECK_PATHS);
  assert_finding(ST_DOCTOR_CHECK_PATHS, "sector paths", ST_DOCTOR_FAIL,
                 "the poster cannot read 1 of 2 sector(s) where it looks for them");
  assert_line(&s->evidence, 0,
              "sector 2 (deadline %llu, partition 0): could not read from path=\"%s/p_aux\": No such file or directory "
              "(os error 2)",
              (unsigned long long)the_deadline, cache);
  assert_string_equal(s->cause, "the files are missing, or their storage node is not mounted on this host");
  assert_line(&s->fix, 0,
              "mount the storage node or restore the files, then 'spacetime-miner proving check N --repo %s' says "
              "good; the poster declares the recovery by itself",
              repo);
  /* unreadable sectors make a missing --server-api a failure */
  assert_int_equal(finding(ST_DOCTOR_CHECK_SERVER_API)->level, ST_DOCTOR_FAIL);
  /* more than five shown: the rest counted */
  facts.nsectors = 0;
  for (int i = 0; i < 7; i++) {
    st_doctor_sector *g = realloc(facts.sectors, (facts.nsectors + 1) * sizeof *g);
    assert_non_null(g);
    facts.sectors = g;
    facts.sectors[facts.nsectors++] = (st_doctor_sector){.deadline = 0, .partition = 0, .sector = i, .good = false};
    snprintf(facts.sectors[i].error, sizeof facts.sectors[i].error, "bad");
  }
  st_doctor_diagnose(&facts, &report);
  assert_int_equal(s->evidence.n, 6);
  assert_line(&s->evidence, 5, "... and 2 more ('spacetime-miner proving check N --only-bad')");
  /* ProvingCheck fails */
  facts.paths_failed = true;
  facts.paths_failed_deadline = 4;
  snprintf(facts.paths_error, sizeof facts.paths_error, "miner API ProvingCheck: gone");
  st_doctor_diagnose(&facts, &report);
  assert_finding(ST_DOCTOR_CHECK_PATHS, "sector paths", ST_DOCTOR_WARN,
                 "could not check deadline 4: miner API ProvingCheck: gone");
  assert_int_equal(s->evidence.n, 0);
  assert_int_equal(rename(moved, cache), 0);

  /* its next instance passes unproven: every sector faulty */
  st_deadline_info di;
  nf_next_instance(f, the_deadline, &di);
  if (nf_height(f) >= di.open) { /* the one just proven */
    nf_mine_to(f, di.close);
    nf_next_instance(f, the_deadline, &di);
  }
  nf_mine_to(f, di.close + 1);
  diagnose(&(diag_opts){.node = f->c, .miner = r.c, .server_api = DEAD_REGISTRY});
  assert_finding(ST_DOCTOR_CHECK_POWER, "power", ST_DOCTOR_FAIL,
                 "Committed 4 KiB but Proving only 0 B (4 KiB Faulty, 100.00%%)");
  assert_finding(ST_DOCTOR_CHECK_PROVEN, "proven", ST_DOCTOR_FAIL,
                 "1 of 1 deadline(s) holding sectors were not proven (every sector faulty)");
  assert_cause_has(ST_DOCTOR_CHECK_PROVEN, "the seed's second check");
  assert_table(the_deadline, 2, 2);
  /* its next instance half over and still not proven */
  nf_next_instance(f, the_deadline, &di);
  nf_mine_to(f, di.open + di.policy.challenge_window / 2);
  diagnose(&(diag_opts){.node = f->c, .miner = r.c, .server_api = DEAD_REGISTRY});
  assert_int_equal(facts.cur.index, the_deadline);
  assert_finding(ST_DOCTOR_CHECK_PROVEN, "proven", ST_DOCTOR_FAIL,
                 "1 of 1 deadline(s) holding sectors were not proven (every sector faulty); the current one is half "
                 "over and not proven");
  assert_table(the_deadline, 2, 2);
  run_stop(&r);
}

/* ---------------------------------------------------------------- the seed's incident */

/* Sector n's files move onto the storage node's folder, and the registry records them there. */
static void move_to_node(nodefx *f, st_regc *reg, int64_t node, uint64_t n) {
  static const char *const KIND[] = {"sealed", "cache"};
  st_err err;
  for (int k = 0; k < 2; k++) {
    char from[700], to[900], dir[800];
    snprintf(from, sizeof from, "%s/%s/s-t01000-%llu", f->store, KIND[k], (unsigned long long)n);
    snprintf(dir, sizeof dir, "%s/nfs/10.0.0.7/%s", f->store, KIND[k]);
    assert_int_equal(st_fs_mkdir_p(dir, 0755, &err), ST_OK);
    snprintf(to, sizeof to, "%s/s-t01000-%llu", dir, (unsigned long long)n);
    assert_int_equal(rename(from, to), 0);
    st_sector_location loc = {
        .miner = NF_MINER, .sector = n, .kind = k ? ST_KIND_CACHE : ST_KIND_SEALED, .node = node, .primary = true};
    assert_int_equal(st_regc_declare(reg, &loc, &err), ST_OK);
  }
}

static void test_incident(void **state) {
  nodefx *f = *state;
  char url[64], missing[800], found[800];
  st_err err;
  st_regc *reg;
  st_registry_server *srv = nf_registry_start(f->dir, "doctor-test-token-0123456", url, &reg);
  st_storage_node node = {.host = "10.0.0.7", .group = 1, .mount_host = "10.0.0.7", .mount_type = "nfs", .weight = 10};
  if (st_regc_node_add(reg, &node, &node, &err)) fail_msg("add: %s", err.msg);
  move_to_node(f, reg, node.id, 1);
  move_to_node(f, reg, node.id, 2);
  snprintf(missing, sizeof missing, "%s/cache/s-t01000-1/p_aux", f->store);
  snprintf(found, sizeof found, "%s/nfs/10.0.0.7/cache/s-t01000-1/p_aux", f->store);
  char line[1200];
  snprintf(line, sizeof line,
           "when running wdpost for partition 0, got err could not read from path=\"%s\": No such file or directory "
           "(os error 2)",
           missing);
  const char *const errs[] = {line, NULL};
  write_log(errs);
  write_server_api(url); /* the registry the repo's miner last ran with: it knows these sectors */

  /* the poster as the seed started it, without --server-api */
  run r;
  run_start(f, &r, NULL, logpath);
  diagnose(&(diag_opts){.node = f->c, .miner = r.c});
  pid_t pid = getpid();
  const st_doctor_finding *l = finding(ST_DOCTOR_CHECK_LOG), *p = finding(ST_DOCTOR_CHECK_PATHS),
                          *s = finding(ST_DOCTOR_CHECK_SERVER_API);
  assert_finding(ST_DOCTOR_CHECK_LOG, "poster log", ST_DOCTOR_FAIL,
                 "1 ERROR line(s) in %s since the poster started, from %s to %s", logpath, facts.log.first_at,
                 facts.log.last_at);
  assert_line(&l->evidence, 1, "could not read %s: it does not exist", missing);
  char cause[2200];
  snprintf(cause, sizeof cause,
           "the poster looks for sector files where they are not: %s is missing, but the sector lives at %s, a "
           "storage node's folder (see 'server-api')",
           missing, found);
  assert_string_equal(l->cause, cause);
  assert_line(&l->fix, 0, "restart the poster with --server-api (see 'server-api' below)");
  assert_finding(ST_DOCTOR_CHECK_PATHS, "sector paths", ST_DOCTOR_FAIL,
                 "the poster cannot read 2 of 2 sector(s) where it looks for them");
  snprintf(cause, sizeof cause,
           "their files are on a storage node's folder (%s) that the poster does not know of (see 'server-api')",
           found);
  assert_string_equal(p->cause, cause);
  assert_line(&p->fix, 0, "restart the poster with --server-api (see 'server-api' below)");
  assert_finding(ST_DOCTOR_CHECK_SERVER_API, "server-api", ST_DOCTOR_FAIL,
                 "the miner (sealer and poster) (pid %d) runs without --server-api", (int)pid);
  assert_true(facts.reg_verified);
  assert_line(&s->evidence, 1, "a registry is there: this repo's miner last ran with --server-api %s (%s/server-api)",
              url, repo);
  assert_line(&s->evidence, 2, "it looks for %s, which does not exist; the sector is at %s", missing, found);
  assert_line(&s->fix, 2, "%s --server-api=%s --server-token-file=<a file holding the registry's write token>", cmdline,
              url);
  /* told by doctor's --server-api */
  diagnose(&(diag_opts){.node = f->c, .miner = r.c, .server_api = url});
  assert_line(&s->evidence, 1, "a registry is there: --server-api given to doctor");
  run_stop(&r);

  /* the fix: the run with the registry, whose node has never heartbeated */
  run_start(f, &r, url, logpath);
  write_log(NULL);
  diagnose(&(diag_opts){.node = f->c, .miner = r.c, .server_api = DEAD_REGISTRY});
  assert_finding(ST_DOCTOR_CHECK_SERVER_API, "server-api", ST_DOCTOR_OK,
                 "the miner (sealer and poster) runs with --server-api %s", url);
  assert_finding(ST_DOCTOR_CHECK_REGISTRY, "registry", ST_DOCTOR_OK, "the registry at %s answers (schema %d)", url,
                 st_registry_server_schema(srv));
  assert_finding(ST_DOCTOR_CHECK_PATHS, "sector paths", ST_DOCTOR_OK,
                 "the poster can read all 2 sector(s) where it looks for them");
  const st_doctor_finding *h = finding(ST_DOCTOR_CHECK_HEARTBEAT);
  assert_finding(ST_DOCTOR_CHECK_HEARTBEAT, "storage heartbeats", ST_DOCTOR_WARN,
                 "1 of 1 storage node(s) have a stale or failing heartbeat");
  assert_line(&h->evidence, 0, "node %lld (nfs 10.0.0.7): never heartbeated", (long long)node.id);
  assert_cause_has(ST_DOCTOR_CHECK_HEARTBEAT, "only on nodes heartbeated in the last 60 s");
  assert_line(&h->fix, 0,
              "run a sealer with --server-api on the host that mounts them, or heartbeat one by hand: spacetime-server "
              "storage-nodes heartbeat ID --path <dist>/<type>/<host> --server-api %s",
              url);
  /* heartbeated: fresh, then stale, then failing */
  st_storage_node got;
  assert_int_equal(st_regc_heartbeat(reg, node.id, 1 << 30, 1 << 29, NULL, &got, &err), ST_OK);
  diagnose(&(diag_opts){.node = f->c, .miner = r.c, .server_api = DEAD_REGISTRY});
  assert_finding(ST_DOCTOR_CHECK_HEARTBEAT, "storage heartbeats", ST_DOCTOR_OK,
                 "1 storage node(s), each heartbeated in the last 60 s");
  int64_t beat = facts.nodes[0].last_heartbeat;
  facts.now = beat + 100;
  st_doctor_diagnose(&facts, &report);
  assert_line(&h->evidence, 0, "node %lld (nfs 10.0.0.7): last heartbeat 100s ago", (long long)node.id);
  assert_int_equal(st_regc_heartbeat(reg, node.id, 0, 0, "the mount is gone", &got, &err), ST_OK);
  diagnose(&(diag_opts){.node = f->c, .miner = r.c, .server_api = DEAD_REGISTRY});
  assert_line(&h->evidence, 0, "node %lld (nfs 10.0.0.7): last heartbeat %llds ago, error: the mount is gone",
              (long long)node.id, (long long)(facts.now - facts.nodes[0].last_heartbeat));
  facts.nodes_ok = false;
  snprintf(facts.nodes_error, sizeof facts.nodes_error, "the registry answered HTTP 500");
  st_doctor_diagnose(&facts, &report);
  assert_finding(ST_DOCTOR_CHECK_HEARTBEAT, "storage heartbeats", ST_DOCTOR_WARN,
                 "could not list the storage nodes: the registry answered HTTP 500");
  run_stop(&r);

  /* a registry that does not answer */
  run_start(f, &r, "http://127.0.0.1:1", logpath);
  diagnose(&(diag_opts){.node = f->c, .miner = r.c, .server_api = DEAD_REGISTRY});
  const st_doctor_finding *g = finding(ST_DOCTOR_CHECK_REGISTRY);
  assert_int_equal(g->level, ST_DOCTOR_FAIL);
  assert_starts(g->summary, "the registry at http://127.0.0.1:1 does not answer: ");
  assert_string_equal(
      g->cause,
      "the poster asks the registry where each sector lives; without an answer it cannot find any sector file");
  assert_line(&g->fix, 0,
              "start it ('spacetime-server run --repo DIR --listen HOST:PORT'), or restart the miner with the right "
              "--server-api");
  assert_not_run(ST_DOCTOR_CHECK_HEARTBEAT);
  run_stop(&r);
  st_regc_close(reg);
  st_registry_server_stop(srv);
}

static int setup(void **state) {
  nf_group_setup(state);
  nodefx *f = *state;
  snprintf(repo, sizeof repo, "%s/miner", f->dir);
  snprintf(node_repo, sizeof node_repo, "%s/node", f->dir);
  snprintf(logpath, sizeof logpath, "%s/poster.log", f->dir);
  cfg = (st_miner_config){.miner = NF_MINER, .owner = f->account, .worker = f->account, .info = nf_info2k()};
  st_err err;
  assert_int_equal(st_miner_config_write(repo, &cfg, &err), ST_OK);
  st_proc_cmd c;
  assert_int_equal(st_proc_cmdline(getpid(), &c, &err), ST_OK);
  st_proc_cmd_text(&c, cmdline, sizeof cmdline);
  st_proc_cmd_free(&c);
  st_doctor_facts_init(&facts);
  st_doctor_report_init(&report);
  return 0;
}

static int teardown(void **state) {
  st_doctor_report_free(&report);
  st_doctor_facts_free(&facts);
  return nf_group_teardown(state);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_unreachable), cmocka_unit_test(test_before_the_miner),
                                     cmocka_unit_test(test_no_sector),   cmocka_unit_test(test_healthy),
                                     cmocka_unit_test(test_faults),      cmocka_unit_test(test_incident)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
