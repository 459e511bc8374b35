/* spacetime-miner doctor: the seed's diagnosis without reading logs by hand. It runs the seed's
 * three checks (Committed against Proving power, proven partitions per deadline, ERROR lines in
 * the poster log), then the configuration the seed's operator found wrong by hand: a poster
 * without --server-api, an unreachable registry, sector files the poster cannot read, stale
 * storage-node heartbeats and a low worker balance. Each finding carries its evidence, its
 * cause and the exact fix. Exit status: 0 all well, 2 problems found, 1 doctor could not run. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "codec/st_token.h"
#include "core/st_buf.h"
#include "core/st_fs.h"
#include "core/st_proc.h"
#include "miner.h"
#include "miner/st_doctor.h"
#include "miner/st_miner_repo.h"
#include "registry/st_registry_client.h"
#include "rpc/st_node_api.h"

#define STALE_SECS 60 /* the registry's default: older heartbeats make a node unallocatable */
#define LOG_TAIL (8u << 20)

typedef enum { OK, WARN, FAIL } level;
static const char *const LEVEL[] = {"ok", "warn", "fail"};

typedef struct finding {
  const char *check;
  level lvl;
  char summary[1024], cause[1536];
  json_t *evidence, *fix; /* arrays of lines */
} finding;

/* The findings, in the order they print: the seed's three checks first. */
enum { F_DAEMON, F_MINER, F_POWER, F_PROVEN, F_LOG, F_SERVER_API, F_REGISTRY, F_PATHS, F_HEARTBEAT, F_BALANCE, F_N };
static const char *const CHECK[F_N] = {"daemon",        "miner",        "power",
                                       "proven",        "poster log",   "server-api",
                                       "registry",      "sector paths", "storage heartbeats",
                                       "worker balance"};

typedef struct doctor {
  st_cli cli;
  char repo[4096], node_repo[4096], addr[32];
  st_miner_config cfg;
  st_rpc_client *node, *miner;
  json_t *run; /* MinerRunInfo, NULL when the miner is not running */
  finding f[F_N];
  /* what the checks share */
  size_t bad_sectors;
  char misplaced[ST_PATH_MAX], misplaced_at[ST_PATH_MAX]; /* a file the poster looks for, and where it is */
  char reg_url[512], reg_how[1100], reg_repo[4096];
  bool reg_verified; /* the registry found places the probe sector's files where they are */
  uint64_t probe;    /* a sector of this miner, to ask registries about */
  bool have_probe;
} doctor;

static finding *set(doctor *d, int which, level l, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static finding *set(doctor *d, int which, level l, const char *fmt, ...) {
  finding *f = &d->f[which];
  f->check = CHECK[which];
  f->lvl = l;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->summary, sizeof f->summary, fmt, ap);
  va_end(ap);
  return f;
}

static void line_to(json_t **arr, const char *fmt, va_list ap) {
  char buf[2048];
  vsnprintf(buf, sizeof buf, fmt, ap);
  if (!*arr) *arr = json_array();
  json_array_append_new(*arr, json_string(buf));
}
static void evidence(finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void evidence(finding *f, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  line_to(&f->evidence, fmt, ap);
  va_end(ap);
}
static void fix(finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fix(finding *f, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  line_to(&f->fix, fmt, ap);
  va_end(ap);
}
static void cause(finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cause(finding *f, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->cause, sizeof f->cause, fmt, ap);
  va_end(ap);
}

static json_t *node_call(doctor *d, const char *method, json_t *params, st_err *err) {
  return miner_call_on(d->node, "", method, params, err);
}
static json_t *miner_call(doctor *d, const char *method, json_t *params, st_err *err) {
  return miner_call_on(d->miner, MINER_API_PREFIX, method, params, err);
}
static const char *run_str(const doctor *d, const char *key) {
  const char *s = json_string_value(json_object_get(d->run, key));
  return s ? s : "";
}
static int64_t run_int(const doctor *d, const char *key) { return json_integer_value(json_object_get(d->run, key)); }
/* "poster", "sealer", or "miner (sealer and poster)" for mode all */
static const char *role(const doctor *d) {
  const char *m = run_str(d, "Mode");
  return !strcmp(m, "all") ? "miner (sealer and poster)" : m;
}

/* ---------------------------------------------------------------- where the registry is */

/* Whether the registry at url places the probe sector where this host has it: its sealed
 * file exists at the path the registry gives under the poster's dist-path (any registry passes
 * when there is no sector to ask about). Another cluster's registry may know a miner of the same
 * ID, but not these files. */
static bool knows_miner(const doctor *d, const char *url) {
  if (!d->have_probe) return true;
  st_regc *rc = NULL;
  char path[ST_REG_PATH_MAX];
  st_storage_node node;
  struct stat st;
  bool ok = !st_regc_open(url, NULL, &rc, NULL) &&
            !st_regc_resolve(rc, d->cfg.miner, d->probe, ST_KIND_SEALED, run_str(d, "DistPath"), path, &node, NULL) &&
            !stat(path, &st);
  st_regc_close(rc);
  return ok;
}

/* A candidate registry: taken if it knows this miner's sectors, else kept as the fallback. */
static void consider(doctor *d, const char *url, const char *repo, const char *how) {
  if (d->reg_verified || !*url) return;
  bool ok = knows_miner(d, url);
  if (!ok && d->reg_url[0]) return;
  snprintf(d->reg_url, sizeof d->reg_url, "%s", url);
  snprintf(d->reg_repo, sizeof d->reg_repo, "%s", repo);
  snprintf(d->reg_how, sizeof d->reg_how, "%s%s", how, ok ? "" : " (it does not know this miner's sectors)");
  d->reg_verified = ok;
}

/* A registry on this host that the poster was not told of: a spacetime-server run (its repo's
 * api file), or another spacetime-miner started with --server-api (the seed's sealer). With
 * several, the one that knows this miner's sectors. */
static void find_registry(doctor *d) {
  const st_flag *flag = st_cli_flag(&d->cli, "server-api");
  if (flag && flag->set) {
    snprintf(d->reg_url, sizeof d->reg_url, "%s", flag->value);
    snprintf(d->reg_how, sizeof d->reg_how, "--server-api given to doctor");
    return;
  }
  st_proc_cmd *v;
  size_t n;
  char how[1024], repo[4096], path[4200], url[512];
  /* first the registry this repo's miner last ran with (run records it) */
  snprintf(path, sizeof path, "%s/server-api", d->repo);
  if (!st_fs_read_line(path, url, sizeof url, NULL) && url[0]) {
    snprintf(how, sizeof how, "this repo's miner last ran with --server-api %.500s (%.400s)", url, path);
    consider(d, url, "", how);
  }
  if (!st_proc_find("spacetime-server", "run", &v, &n, NULL)) {
    for (size_t i = 0; i < n; i++) {
      const char *r = st_proc_flag(&v[i], "repo"), *home = getenv("HOME");
      if (r) snprintf(repo, sizeof repo, "%s", r);
      else snprintf(repo, sizeof repo, "%s/.spacetime-server", home && *home ? home : ".");
      snprintf(path, sizeof path, "%s/api", repo);
      if (st_fs_read_line(path, url, sizeof url, NULL)) url[0] = 0;
      snprintf(how, sizeof how, "spacetime-server runs on this host (pid %d, repo %.900s)", (int)v[i].pid, repo);
      if (*url && !strcmp(url, d->reg_url) &&
          !d->reg_repo[0]) { /* the one recorded: now its repo (for the token) and pid are known */
        snprintf(d->reg_repo, sizeof d->reg_repo, "%s", repo);
        snprintf(d->reg_how, sizeof d->reg_how, "%s%s", how, d->reg_verified ? "; it holds this miner's sectors" : "");
      }
      consider(d, url, repo, how);
    }
    st_proc_cmds_free(v, n);
  }
  if (st_proc_find("spacetime-miner", "run", &v, &n, NULL)) return;
  for (size_t i = 0; i < n; i++) {
    const char *u = st_proc_flag(&v[i], "server-api"), *mode = st_proc_flag(&v[i], "mode");
    if (!u) continue;
    snprintf(how, sizeof how, "the %s on this host (pid %d) runs with --server-api %s", mode ? mode : "miner",
             (int)v[i].pid, u);
    consider(d, u, "", how);
  }
  st_proc_cmds_free(v, n);
}

/* ---------------------------------------------------------------- the seed's three checks */

static void check_power(doctor *d, json_t *counts) {
  int64_t size = (int64_t)d->cfg.info->size, live = json_integer_value(json_object_get(counts, "Live")),
          faulty = json_integer_value(json_object_get(counts, "Faulty"));
  char c[32], p[32], fl[32];
  miner_bytes_str(live * size, c, sizeof c);
  miner_bytes_str((live - faulty) * size, p, sizeof p);
  miner_bytes_str(faulty * size, fl, sizeof fl);
  if (!live) {
    finding *f = set(d, F_POWER, WARN, "no sector is committed yet: Committed 0 B");
    cause(f,
          "sectors count once their ProveCommitSector lands; nothing has been pledged, or sealing is still under way");
    fix(f, "spacetime-miner sectors pledge --repo %s --node-repo %s", d->repo, d->node_repo);
    fix(f, "spacetime-miner sectors list --repo %s --node-repo %s   # to watch them seal", d->repo, d->node_repo);
    return;
  }
  if (!faulty) {
    set(d, F_POWER, OK, "Committed %s, Proving %s (0 B Faulty)", c, p);
    return;
  }
  finding *f = set(d, F_POWER, FAIL, "Committed %s but Proving only %s (%s Faulty, %.2f%%)", c, p, fl,
                   100.0 * (double)faulty / (double)live);
  evidence(f, "%lld of %lld committed sector(s) are faulty on chain (StateMinerSectorCount)", (long long)faulty,
           (long long)live);
  if (d->run)
    evidence(f, "the miner started %llds ago: faults from while it was down clear once it declares their recovery",
             (long long)((int64_t)time(NULL) - run_int(d, "StartedAt")));
  cause(
      f,
      "the chain marks a sector faulty when its deadline closes without a WindowPoSt that proves it, or when the poster skips it as "
      "unreadable; a faulty sector has no power and pays a fee at each of its deadlines. Committed far above Proving means the poster "
      "is not proving (the seed's first check)");
  fix(f,
      "find why the poster cannot prove them in the findings below; once it can read them it declares the recovery by itself, and the power "
      "returns after their next deadline");
}

static void check_proven(doctor *d, const st_deadline_info *cur, st_node_partition **parts, const size_t *np,
                         uint64_t proven_now) {
  size_t missed = 0, partial = 0, with = 0;
  finding tmp = {0};
  evidence(&tmp, "%-10s%-9s%-12s%-8s%s", "deadline", "sectors", "partitions", "proven", "faulty");
  for (uint64_t dl = 0; dl < (uint64_t)cur->policy.deadlines; dl++) {
    uint64_t live = 0, faulty = 0;
    for (size_t i = 0; i < np[dl]; i++)
      live += st_bitfield_count(&parts[dl][i].live), faulty += st_bitfield_count(&parts[dl][i].faulty);
    if (!live) continue;
    with++;
    missed += faulty == live;
    partial += faulty && faulty < live;
    if (dl == cur->index)
      evidence(&tmp, "%-10llu%-9llu%-12zu%-8llu%llu (current, open %lld epochs)", (unsigned long long)dl,
               (unsigned long long)live, np[dl], (unsigned long long)proven_now, (unsigned long long)faulty,
               (long long)(cur->current_epoch - cur->open));
    else
      evidence(&tmp, "%-10llu%-9llu%-12zu%-8s%llu", (unsigned long long)dl, (unsigned long long)live, np[dl], "-",
               (unsigned long long)faulty);
  }
  bool late = cur->index < (uint64_t)cur->policy.deadlines && np[cur->index] &&
              cur->current_epoch - cur->open >= cur->policy.challenge_window / 2 && proven_now < np[cur->index];
  finding *f;
  if (!with) {
    f = set(d, F_PROVEN, OK, "no deadline holds sectors yet");
    json_decref(tmp.evidence);
    return;
  }
  if (missed || late) {
    f = set(d, F_PROVEN, FAIL, "%zu of %zu deadline(s) holding sectors were not proven (every sector faulty)%s", missed,
            with, late ? "; the current one is half over and not proven" : "");
    cause(
        f,
        "a deadline is proven by a SubmitWindowedPoSt for each partition between its Open and Close; 'proven' counts the partitions "
        "proven in the current deadline (the chain clears it when the deadline ends, and marks what was not proven faulty). Proven 0 "
        "with sectors to prove is the seed's second check");
  } else if (partial) {
    f = set(d, F_PROVEN, WARN,
            "every deadline holding sectors was proven, but %zu of them have faulty sectors the poster skipped",
            partial);
    cause(
        f,
        "a sector turns faulty when the poster skips it as unreadable, or when its deadline passes unproven (the miner was down, a post did "
        "not land)");
  } else
    f = set(d, F_PROVEN, OK, "every deadline holding sectors was proven (%zu deadline(s), no faulty sectors)", with);
  f->evidence = tmp.evidence;
  json_t *p = json_object_get(d->run, "Poster");
  if (p)
    evidence(
        f,
        "the running poster (pid %lld) since it started: %lld post(s) landed, %lld failed, %lld sector(s) proven, %lld skipped as unreadable",
        (long long)run_int(d, "PID"), (long long)json_integer_value(json_object_get(p, "PostsLanded")),
        (long long)json_integer_value(json_object_get(p, "PostsFailed")),
        (long long)json_integer_value(json_object_get(p, "SectorsProven")),
        (long long)json_integer_value(json_object_get(p, "SectorsSkipped")));
  if (f->lvl != OK)
    fix(f,
        "see 'sector paths' and 'poster log' below for why; 'spacetime-miner proving deadlines --repo %s' shows the table",
        d->repo);
}

/* A path the poster could not read: where it is, if it is under a storage node's folder. */
static void note_misplaced(doctor *d, const char *missing) {
  struct stat st;
  char found[ST_PATH_MAX];
  const char *dist = run_str(d, "DistPath");
  if (d->misplaced[0] || !*dist || !stat(missing, &st) || !st_doctor_find_under(dist, missing, found, sizeof found))
    return;
  snprintf(d->misplaced, sizeof d->misplaced, "%s", missing);
  snprintf(d->misplaced_at, sizeof d->misplaced_at, "%s", found);
}

static void check_log(doctor *d) {
  const st_flag *flag = st_cli_flag(&d->cli, "log-file");
  const char *path = flag && flag->set ? flag->value : run_str(d, "LogFile");
  if (!*path) {
    if (!d->run) return; /* nothing to read, and the miner finding says why */
    finding *f = set(d, F_LOG, WARN, "the poster (pid %lld) writes no log file", (long long)run_int(d, "PID"));
    cause(f, "without --log-file the log goes to its stderr only, and neither you nor doctor can grep it later");
    fix(f, "restart it with --log-file, e.g. --log-file %s/poster.log (or give doctor --log-file FILE)", d->repo);
    return;
  }
  static st_doctor_log lg;
  st_err err;
  int64_t since = d->run ? run_int(d, "StartedAt") : 0;
  if (st_doctor_scan_log(path, "\tspacetime-miner starting\t", since, LOG_TAIL, &lg, &err)) {
    finding *f = set(d, F_LOG, WARN, "%s", err.msg);
    fix(f, "point doctor at the poster's log with --log-file FILE");
    return;
  }
  for (size_t i = 0; i < lg.npaths; i++) note_misplaced(d, lg.paths[i]);
  if (!lg.errors) {
    set(d, F_LOG, OK, "no ERROR line in %s%s%s (%zu older)", path, since ? " since the poster started" : "",
        lg.partial ? " (its last 8 MiB)" : "", lg.older);
    return;
  }
  finding *f = set(d, F_LOG, FAIL, "%zu ERROR line(s) in %s%s, from %s to %s", lg.errors, path,
                   since ? " since the poster started" : "", lg.first_at, lg.last_at);
  evidence(f, "the last: %s", lg.last);
  for (size_t i = 0; i < lg.npaths; i++) {
    struct stat st;
    evidence(f, "could not read %s: %s", lg.paths[i], stat(lg.paths[i], &st) ? "it does not exist" : "it exists now");
  }
  if (d->misplaced[0]) {
    cause(
        f,
        "the poster looks for sector files where they are not: %s is missing, but the sector lives at %s, a storage node's folder (see "
        "'server-api')",
        d->misplaced, d->misplaced_at);
    fix(f, "restart the poster with --server-api (see 'server-api' below)");
  } else if (lg.npaths) {
    cause(
        f,
        "the poster could not read these sector files: they are gone, or their storage node is not mounted on this host");
    fix(f,
        "mount the storage node or restore the files; 'spacetime-miner proving check N' says good when the poster can read them");
  } else {
    cause(f, "the poster logged errors (the seed's third check: grep -ai error poster.log)");
    fix(f, "read the lines above; 'grep -a ERROR %s | tail' shows the rest", path);
  }
}

/* ---------------------------------------------------------------- configuration */

static void check_paths(doctor *d, const st_deadline_info *cur, const size_t *np) {
  size_t total = 0;
  finding tmp = {0};
  for (uint64_t dl = 0; dl < (uint64_t)cur->policy.deadlines; dl++) {
    if (!np[dl]) continue;
    st_err err;
    json_t *res = miner_call(d, "ProvingCheck", json_pack("[I b]", (json_int_t)dl, false), &err), *e;
    if (!res) {
      set(d, F_PATHS, WARN, "could not check deadline %llu: %s", (unsigned long long)dl, err.msg);
      json_decref(tmp.evidence);
      return;
    }
    size_t i;
    json_array_foreach(res, i, e) {
      total++;
      if (!d->have_probe) d->probe = (uint64_t)json_integer_value(json_object_get(e, "Sector")), d->have_probe = true;
      if (json_is_true(json_object_get(e, "Good"))) continue;
      const char *why = json_string_value(json_object_get(e, "Err"));
      if (d->bad_sectors++ < 5)
        evidence(&tmp, "sector %lld (deadline %llu, partition %lld): %s",
                 (long long)json_integer_value(json_object_get(e, "Sector")), (unsigned long long)dl,
                 (long long)json_integer_value(json_object_get(e, "Partition")), why ? why : "bad");
      const char *p = why ? strstr(why, "path=\"") : NULL;
      if (p) {
        char missing[ST_PATH_MAX];
        snprintf(missing, sizeof missing, "%.*s", (int)strcspn(p + 6, "\""), p + 6);
        note_misplaced(d, missing);
      }
    }
    json_decref(res);
  }
  finding *f;
  if (!d->bad_sectors) f = set(d, F_PATHS, OK, "the poster can read all %zu sector(s) where it looks for them", total);
  else {
    f = set(d, F_PATHS, FAIL, "the poster cannot read %zu of %zu sector(s) where it looks for them", d->bad_sectors,
            total);
    if (d->bad_sectors > 5)
      evidence(&tmp, "... and %zu more ('spacetime-miner proving check N --only-bad')", d->bad_sectors - 5);
    if (d->misplaced[0]) {
      cause(f, "their files are on a storage node's folder (%s) that the poster does not know of (see 'server-api')",
            d->misplaced_at);
      fix(f, "restart the poster with --server-api (see 'server-api' below)");
    } else {
      cause(f, "the files are missing, or their storage node is not mounted on this host");
      fix(f,
          "mount the storage node or restore the files, then 'spacetime-miner proving check N --repo %s' says good; the poster declares the "
          "recovery by itself",
          d->repo);
    }
  }
  f->evidence = tmp.evidence;
}

static void check_server_api(doctor *d) {
  const char *url = run_str(d, "ServerAPI"), *dist = run_str(d, "DistPath"), *mode = run_str(d, "Mode");
  if (*url) {
    set(d, F_SERVER_API, OK, "the %s runs with --server-api %s", role(d), url);
    return;
  }
  find_registry(d);
  if (!d->reg_url[0] && !d->misplaced[0]) {
    set(d, F_SERVER_API, OK,
        "no --server-api and no registry on this host: sector paths resolve under %s/{sealed,cache}", dist);
    return;
  }
  finding *f = set(d, F_SERVER_API, d->misplaced[0] || d->bad_sectors ? FAIL : WARN,
                   "the %s (pid %lld) runs without --server-api", role(d), (long long)run_int(d, "PID"));
  pid_t pid = (pid_t)run_int(d, "PID");
  st_proc_cmd c;
  char text[8192] = ""; /* its command line: the evidence, and the restart command with flags added */
  if (!st_proc_cmdline(pid, &c, NULL)) {
    st_proc_cmd_text(&c, text, sizeof text);
    evidence(f, "it was started as: %s", text);
    st_proc_cmd_free(&c);
  }
  if (d->reg_url[0]) evidence(f, "a registry is there: %s", d->reg_how);
  if (d->misplaced[0])
    evidence(f, "it looks for %s, which does not exist; the sector is at %s", d->misplaced, d->misplaced_at);
  cause(
      f,
      "without --server-api the poster builds sector paths as %s/sealed/s-t0%llu-N and %s/cache/s-t0%llu-N. The registry knows, from its "
      "storage_nodes table, that they live on storage nodes mounted as %s/<type>/<host>/..., so the poster cannot read them, skips them, "
      "and the chain faults them (the seed's incident)",
      dist, (unsigned long long)d->cfg.miner, dist, (unsigned long long)d->cfg.miner, dist);
  char add[2600];
  const char *u = d->reg_url[0] ? d->reg_url : "http://<registry host>:3456";
  if (strcmp(mode, "poster") && d->reg_repo[0])
    snprintf(add, sizeof add, "--server-api=%s --server-token \"$(cat %.900s/token)\"", u, d->reg_repo);
  else if (strcmp(mode, "poster"))
    snprintf(add, sizeof add, "--server-api=%s --server-token <the registry's write token>", u);
  else snprintf(add, sizeof add, "--server-api=%s", u);
  fix(f, "restart it with the registry's address:");
  if (!text[0]) {
    fix(f, "stop the miner (pid %d) and start it again with: %s", (int)pid, add);
    return;
  }
  fix(f, "kill %d", (int)pid);
  fix(f, "%s %s", text, add);
}

static void check_registry(doctor *d) {
  const char *url = run_str(d, "ServerAPI");
  if (!*url) return;
  st_regc *rc = NULL;
  st_err err;
  int schema = 0;
  st_code code = st_regc_open(url, NULL, &rc, &err);
  if (!code) code = st_regc_health(rc, &schema, &err);
  if (code) {
    finding *f = set(d, F_REGISTRY, FAIL, "the registry at %s does not answer: %s", url, err.msg);
    cause(f, "the poster asks the registry where each sector lives; without an answer it cannot find any sector file");
    fix(f,
        "start it ('spacetime-server run --repo DIR --listen HOST:PORT'), or restart the miner with the right --server-api");
    st_regc_close(rc);
    return;
  }
  set(d, F_REGISTRY, OK, "the registry at %s answers (schema %d)", url, schema);
  st_storage_node *nodes = NULL;
  size_t n = 0;
  if (st_regc_nodes(rc, &nodes, &n, &err)) {
    set(d, F_HEARTBEAT, WARN, "could not list the storage nodes: %s", err.msg);
    st_regc_close(rc);
    return;
  }
  int64_t now = (int64_t)time(NULL);
  size_t stale = 0;
  finding tmp = {0};
  for (size_t i = 0; i < n; i++) {
    const st_storage_node *s = &nodes[i];
    bool old = !s->last_heartbeat || now - s->last_heartbeat > STALE_SECS;
    if (!old && !s->heartbeat_err[0]) continue;
    stale++;
    if (s->last_heartbeat)
      evidence(&tmp, "node %lld (%s %s): last heartbeat %llds ago%s%s", (long long)s->id, s->mount_type, s->host,
               (long long)(now - s->last_heartbeat), s->heartbeat_err[0] ? ", error: " : "", s->heartbeat_err);
    else evidence(&tmp, "node %lld (%s %s): never heartbeated", (long long)s->id, s->mount_type, s->host);
  }
  finding *f;
  if (!stale) f = set(d, F_HEARTBEAT, OK, "%zu storage node(s), each heartbeated in the last %d s", n, STALE_SECS);
  else {
    f = set(d, F_HEARTBEAT, WARN, "%zu of %zu storage node(s) have a stale or failing heartbeat", stale, n);
    cause(
        f,
        "the registry allocates new sectors only on nodes heartbeated in the last %d s; a sealer started with --server-api heartbeats the "
        "nodes mounted under its --dist-path every 20 s",
        STALE_SECS);
    fix(f,
        "run a sealer with --server-api on the host that mounts them, or heartbeat one by hand: spacetime-server storage-nodes heartbeat ID "
        "--path <dist>/<type>/<host> --server-api %s",
        url);
  }
  f->evidence = tmp.evidence;
  free(nodes);
  st_regc_close(rc);
}

static void check_balance(doctor *d) {
  st_err err;
  char worker[ST_ADDR_STR_MAX], have[96], min_text[96];
  st_address_format(&d->cfg.worker, 't', worker, NULL);
  json_t *wb = node_call(d, "WalletBalance", json_pack("[s]", worker), &err);
  if (!wb) {
    set(d, F_BALANCE, WARN, "could not read the worker's balance: %s", err.msg);
    return;
  }
  const st_flag *flag = st_cli_flag(&d->cli, "min-balance");
  mpz_t bal, min;
  mpz_inits(bal, min, NULL);
  if (json_is_string(wb)) mpz_set_str(bal, json_string_value(wb), 10);
  st_fil_parse(flag && flag->set ? flag->value : "1", min, NULL);
  miner_fil_str(wb, have, sizeof have);
  st_buf b = ST_BUF_INIT;
  st_fil_format(min, &b);
  snprintf(min_text, sizeof min_text, "%s", st_buf_cstr(&b));
  st_buf_free(&b);
  if (mpz_cmp(bal, min) >= 0) set(d, F_BALANCE, OK, "the worker %s holds %s FIL", worker, have);
  else {
    finding *f = set(d, F_BALANCE, WARN, "the worker %s holds %s FIL, below %s FIL", worker, have, min_text);
    cause(
        f,
        "the worker pays the gas of every SubmitWindowedPoSt, recovery and commit; when it runs dry, posts stop landing and sectors turn faulty");
    fix(f, "spacetime send %s 10   # from the node's default wallet; add --from ADDR to choose", worker);
  }
  mpz_clears(bal, min, NULL);
  json_decref(wb);
}

/* ---------------------------------------------------------------- the command */

static void chain_checks(doctor *d) {
  st_err err;
  json_t *counts = node_call(d, "StateMinerSectorCount", json_pack("[s []]", d->addr), &err);
  st_deadline_info cur;
  if (!counts || st_node_proving_deadline(d->node, d->cfg.miner, NULL, &cur, &err)) {
    set(d, F_POWER, WARN, "could not read the miner from the chain: %s", err.msg);
    json_decref(counts);
    return;
  }
  check_power(d, counts);
  json_decref(counts);
  size_t nd = (size_t)cur.policy.deadlines;
  st_node_partition **parts = calloc(nd, sizeof *parts);
  size_t *np = calloc(nd, sizeof *np);
  bool ok = parts && np;
  for (size_t dl = 0; ok && dl < nd; dl++)
    ok = !st_node_partitions(d->node, d->cfg.miner, dl, NULL, &parts[dl], &np[dl], &err);
  st_bitfield posted;
  st_bitfield_init(&posted);
  if (ok && cur.index < nd) ok = !st_node_post_submissions(d->node, d->cfg.miner, cur.index, NULL, &posted, &err);
  if (ok) check_proven(d, &cur, parts, np, st_bitfield_count(&posted));
  else set(d, F_PROVEN, WARN, "could not read the deadlines: %s", err.msg);
  st_bitfield_free(&posted);
  if (ok && d->miner) check_paths(d, &cur, np);
  for (size_t dl = 0; parts && dl < nd; dl++) st_node_partitions_free(parts[dl], np[dl]);
  free(parts);
  free(np);
}

static void print_text(doctor *d, size_t problems) {
  printf("spacetime-miner doctor: miner %s (repo %s)\n\n", d->addr, d->repo);
  for (int i = 0; i < F_N; i++) {
    finding *f = &d->f[i];
    if (!f->check) continue;
    printf("[%s] %s: %s\n", f->lvl == OK ? " OK " : f->lvl == WARN ? "WARN" : "FAIL", f->check, f->summary);
    size_t k;
    json_t *e;
    if (f->lvl == OK) continue;
    json_array_foreach(f->evidence, k, e)
        printf("       %s%s\n", k ? "          " : "evidence: ", json_string_value(e));
    if (f->cause[0]) printf("       cause:    %s\n", f->cause);
    json_array_foreach(f->fix, k, e) printf("       %s%s\n", k ? "          " : "fix:      ", json_string_value(e));
  }
  if (problems) printf("\n%zu problem(s) found; the fixes are above.\n", problems);
  else printf("\nNo problems found.\n");
}

int miner_cmd_doctor(int argc, char **argv) {
  st_flag flags[] = {
      REPO_FLAG,
      NODE_FLAG,
      JSON_FLAG,
      ST_FLAG("log-file", ST_FLAG_VALUE, "FILE", "the poster's log (default: the running miner's --log-file)"),
      ST_FLAG("server-api", ST_FLAG_VALUE, "URL",
              "the registry, if the miner was not told (default: found on this host)"),
      ST_FLAG("min-balance", ST_FLAG_VALUE, "FIL", "warn when the worker holds less (default 1)")};
  static doctor d;
  memset(&d, 0, sizeof d);
  d.cli = (st_cli){flags, sizeof flags / sizeof flags[0], {0}, 0, false};
  int rc = st_cli_start(
      &d.cli, argc, argv, 0, "spacetime-miner doctor",
      "[--json] [--log-file FILE] [--server-api URL] [--min-balance FIL]",
      "What is wrong with this miner, why, and the exact fix: the seed's three checks (power, proven, the poster log) and the "
      "configuration (server-api, registry, sector paths, heartbeats, worker balance). Exit status 2 when problems are found.");
  if (rc >= 0) return rc;
  st_err err;
  mpz_t probe;
  mpz_init(probe);
  const st_flag *mb = st_cli_flag(&d.cli, "min-balance");
  bool bad_min = mb->set && st_fil_parse(mb->value, probe, &err);
  mpz_clear(probe);
  if (bad_min) return st_cli_fail("--min-balance: %s", err.msg);
  miner_repo_of(&d.cli, "repo", ".spacetime-miner", d.repo);
  miner_repo_of(&d.cli, "node-repo", ".spacetime", d.node_repo);
  if (st_miner_config_read(d.repo, &d.cfg, &err)) return st_cli_fail("%s", err.msg);
  snprintf(d.addr, sizeof d.addr, "t0%llu", (unsigned long long)d.cfg.miner);
  if (miner_connect_node(&d.cli, &d.node, &err)) {
    finding *f = set(&d, F_DAEMON, FAIL, "the daemon cannot be reached: %s", err.msg);
    fix(f, "spacetime daemon --repo %s", d.node_repo);
    st_rpc_client_close(d.node);
    d.node = NULL;
  } else {
    json_t *head = node_call(&d, "ChainHead", NULL, &err);
    if (head)
      set(&d, F_DAEMON, OK, "the daemon answers; head at height %lld",
          (long long)json_integer_value(json_object_get(head, "Height")));
    else {
      finding *f = set(&d, F_DAEMON, FAIL, "the daemon does not answer: %s", err.msg);
      fix(f, "restart it: spacetime daemon --repo %s", d.node_repo);
    }
    json_decref(head);
  }
  if (miner_connect_self(d.repo, &d.miner, &err) || !(d.run = miner_call(&d, "MinerRunInfo", NULL, &err))) {
    finding *f = set(&d, F_MINER, FAIL, "the miner is not running: %s", err.msg);
    cause(f, "nothing proves its sectors, so each deadline is missed and its sectors turn faulty");
    fix(f, "spacetime-miner run --repo %s --node-repo %s --dist-path DIR --server-api URL --log-file %s/poster.log",
        d.repo, d.node_repo, d.repo);
    st_rpc_client_close(d.miner);
    d.miner = NULL;
  } else
    set(&d, F_MINER, OK, "the miner runs (pid %lld, mode %s, dist-path %s)", (long long)run_int(&d, "PID"),
        run_str(&d, "Mode"), run_str(&d, "DistPath"));
  check_log(&d); /* first: the paths in its ERROR lines are the seed's evidence */
  if (d.node && d.f[F_DAEMON].lvl == OK) chain_checks(&d);
  if (d.run) {
    check_server_api(&d);
    check_registry(&d);
  }
  if (d.node && d.f[F_DAEMON].lvl == OK) check_balance(&d);
  size_t problems = 0;
  for (int i = 0; i < F_N; i++) problems += d.f[i].check && d.f[i].lvl != OK;
  if (st_cli_has(&d.cli, "json")) {
    json_t *arr = json_array();
    for (int i = 0; i < F_N; i++) {
      finding *f = &d.f[i];
      if (!f->check) continue;
      json_array_append_new(
          arr, json_pack("{ss ss ss ss so so}", "check", f->check, "status", LEVEL[f->lvl], "summary", f->summary,
                         "cause", f->cause, "evidence", f->evidence ? json_incref(f->evidence) : json_array(), "fix",
                         f->fix ? json_incref(f->fix) : json_array()));
    }
    json_t *o = json_pack("{ss so sI}", "miner", d.addr, "findings", arr, "problems", (json_int_t)problems);
    miner_print_json(o);
    json_decref(o);
  } else print_text(&d, problems);
  for (int i = 0; i < F_N; i++) json_decref(d.f[i].evidence), json_decref(d.f[i].fix);
  json_decref(d.run);
  st_rpc_client_close(d.node);
  st_rpc_client_close(d.miner);
  return problems ? 2 : 0;
}
