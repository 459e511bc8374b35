/* st_doctor: the rules, one per check, from facts to findings. */
#include "miner/st_doctor.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/st_token.h"
#include "core/st_cli.h"

static const char *const CHECK[ST_DOCTOR_NCHECKS] = {"daemon",   "miner",         "power",
                                                     "proven",   "poster log",    "server-api",
                                                     "registry", "sector paths",  "storage heartbeats",
                                                     "cluster",  "worker balance"};

const char *st_doctor_level_name(st_doctor_level l) {
  static const char *const NAME[] = {"ok", "warn", "fail"};
  return l <= ST_DOCTOR_FAIL ? NAME[l] : "?";
}

void st_doctor_report_init(st_doctor_report *r) { memset(r, 0, sizeof *r); }

static void lines_free(st_doctor_lines *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

void st_doctor_report_free(st_doctor_report *r) {
  for (int i = 0; i < ST_DOCTOR_NCHECKS; i++) {
    lines_free(&r->f[i].evidence);
    lines_free(&r->f[i].fix);
  }
  memset(r, 0, sizeof *r);
}

size_t st_doctor_problems(const st_doctor_report *r) {
  size_t n = 0;
  for (int i = 0; i < ST_DOCTOR_NCHECKS; i++) n += r->f[i].check && r->f[i].level != ST_DOCTOR_OK;
  return n;
}

/* ---------------------------------------------------------------- writing findings */

static st_doctor_finding *set(st_doctor_report *r, st_doctor_check which, st_doctor_level l, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static st_doctor_finding *set(st_doctor_report *r, st_doctor_check which, st_doctor_level l, const char *fmt, ...) {
  st_doctor_finding *f = &r->f[which];
  f->check = CHECK[which];
  f->level = l;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->summary, sizeof f->summary, fmt, ap);
  va_end(ap);
  return f;
}

static void add_line(st_doctor_lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_line(st_doctor_lines *l, const char *fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  char **grown = realloc(l->v, (l->n + 1) * sizeof *grown), *line = strdup(buf);
  if (grown) l->v = grown;
  if (grown && line) l->v[l->n++] = line;
  else free(line);
}
/* A line of evidence, or of the fix, of finding f. */
#define evidence(f, ...) add_line(&(f)->evidence, __VA_ARGS__)
#define fix(f, ...) add_line(&(f)->fix, __VA_ARGS__)

static void cause(st_doctor_finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cause(st_doctor_finding *f, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->cause, sizeof f->cause, fmt, ap);
  va_end(ap);
}

/* Evidence gathered before the finding it belongs to is decided: moved onto f. */
static void take_evidence(st_doctor_finding *f, st_doctor_lines *from) {
  lines_free(&f->evidence);
  f->evidence = *from;
  *from = (st_doctor_lines){NULL, 0};
}

/* "poster", "sealer", or "miner (sealer and poster)" for mode all */
static const char *role(const st_doctor_facts *f) {
  return !strcmp(f->run.mode, "all") ? "miner (sealer and poster)" : f->run.mode;
}

static void bytes_str(int64_t bytes, char *out, size_t n) { st_size_str((double)bytes, "B", out, n); }

/* ---------------------------------------------------------------- the daemon and the miner */

static void check_daemon(const st_doctor_facts *f, st_doctor_report *r) {
  if (!f->node_reached) {
    st_doctor_finding *d =
        set(r, ST_DOCTOR_CHECK_DAEMON, ST_DOCTOR_FAIL, "the daemon cannot be reached: %s", f->node_error);
    fix(d, "spacetime daemon --repo %s", f->node_repo);
  } else if (!f->head_ok) {
    st_doctor_finding *d =
        set(r, ST_DOCTOR_CHECK_DAEMON, ST_DOCTOR_FAIL, "the daemon does not answer: %s", f->head_error);
    fix(d, "restart it: spacetime daemon --repo %s", f->node_repo);
  } else set(r, ST_DOCTOR_CHECK_DAEMON, ST_DOCTOR_OK, "the daemon answers; head at height %lld", (long long)f->height);
}

static void check_miner(const st_doctor_facts *f, st_doctor_report *r) {
  if (f->running) {
    set(r, ST_DOCTOR_CHECK_MINER, ST_DOCTOR_OK, "the miner runs (pid %lld, mode %s, dist-path %s)",
        (long long)f->run.pid, f->run.mode, f->run.dist_path);
    return;
  }
  st_doctor_finding *m = set(r, ST_DOCTOR_CHECK_MINER, ST_DOCTOR_FAIL, "the miner is not running: %s", f->miner_error);
  cause(m, "nothing proves its sectors, so each deadline is missed and its sectors turn faulty");
  fix(m, "spacetime-miner run --repo %s --node-repo %s --dist-path DIR --server-api URL --log-file %s/poster.log",
      f->repo, f->node_repo, f->repo);
}

/* ---------------------------------------------------------------- the seed's three checks */

static void check_power(const st_doctor_facts *f, st_doctor_report *r) {
  if (!f->chain_ok) {
    set(r, ST_DOCTOR_CHECK_POWER, ST_DOCTOR_WARN, "could not read the miner from the chain: %s", f->chain_error);
    return;
  }
  int64_t size = (int64_t)f->cfg.info->size, live = (int64_t)f->counts.live, faulty = (int64_t)f->counts.faulty;
  char c[32], p[32], fl[32];
  bytes_str(live * size, c, sizeof c);
  bytes_str((live - faulty) * size, p, sizeof p);
  bytes_str(faulty * size, fl, sizeof fl);
  if (!live) {
    st_doctor_finding *d = set(r, ST_DOCTOR_CHECK_POWER, ST_DOCTOR_WARN, "no sector is committed yet: Committed 0 B");
    cause(d,
          "sectors count once their ProveCommitSector lands; nothing has been pledged, or sealing is still under way");
    fix(d, "spacetime-miner sectors pledge --repo %s --node-repo %s", f->repo, f->node_repo);
    fix(d, "spacetime-miner sectors list --repo %s --node-repo %s   # to watch them seal", f->repo, f->node_repo);
    return;
  }
  if (!faulty) {
    set(r, ST_DOCTOR_CHECK_POWER, ST_DOCTOR_OK, "Committed %s, Proving %s (0 B Faulty)", c, p);
    return;
  }
  st_doctor_finding *d =
      set(r, ST_DOCTOR_CHECK_POWER, ST_DOCTOR_FAIL, "Committed %s but Proving only %s (%s Faulty, %.2f%%)", c, p, fl,
          100.0 * (double)faulty / (double)live);
  evidence(d, "%lld of %lld committed sector(s) are faulty on chain (StateMinerSectorCount)", (long long)faulty,
           (long long)live);
  if (f->running)
    evidence(d, "the miner started %llds ago: faults from while it was down clear once it declares their recovery",
             (long long)(f->now - f->run.started_at));
  cause(
      d,
      "the chain marks a sector faulty when its deadline closes without a WindowPoSt that proves it, or when the poster skips it as "
      "unreadable; a faulty sector has no power and pays a fee at each of its deadlines. Committed far above Proving means the poster "
      "is not proving (the seed's first check)");
  fix(d,
      "find why the poster cannot prove them in the findings below; once it can read them it declares the recovery by itself, and the power "
      "returns after their next deadline");
}

/* The deadline table of the proven finding; counts the deadlines holding sectors, those missed
 * (every sector faulty) and those partly faulty. */
static void proven_table(const st_doctor_facts *f, st_doctor_lines *table, size_t *with, size_t *missed,
                         size_t *partial) {
  const st_deadline_info *cur = &f->cur;
  st_doctor_finding tmp = {0};
  evidence(&tmp, "%-10s%-9s%-12s%-8s%s", "deadline", "sectors", "partitions", "proven", "faulty");
  for (uint64_t dl = 0; dl < f->ndeadlines; dl++) {
    const st_doctor_deadline *d = &f->deadlines[dl];
    if (!d->live) continue;
    (*with)++;
    *missed += d->faulty == d->live;
    *partial += d->faulty && d->faulty < d->live;
    if (dl == cur->index)
      evidence(&tmp, "%-10llu%-9llu%-12zu%-8llu%llu (current, open %lld epochs)", (unsigned long long)dl,
               (unsigned long long)d->live, d->partitions, (unsigned long long)f->proven_now,
               (unsigned long long)d->faulty, (long long)(cur->current_epoch - cur->open));
    else
      evidence(&tmp, "%-10llu%-9llu%-12zu%-8s%llu", (unsigned long long)dl, (unsigned long long)d->live, d->partitions,
               "-", (unsigned long long)d->faulty);
  }
  *table = tmp.evidence;
}

static void check_proven(const st_doctor_facts *f, st_doctor_report *r) {
  if (!f->chain_ok) return;
  if (!f->deadlines_ok) {
    set(r, ST_DOCTOR_CHECK_PROVEN, ST_DOCTOR_WARN, "could not read the deadlines: %s", f->deadlines_error);
    return;
  }
  const st_deadline_info *cur = &f->cur;
  size_t with = 0, missed = 0, partial = 0;
  st_doctor_lines table;
  proven_table(f, &table, &with, &missed, &partial);
  bool late = cur->index < f->ndeadlines && f->deadlines[cur->index].partitions &&
              cur->current_epoch - cur->open >= cur->policy.challenge_window / 2 &&
              f->proven_now < f->deadlines[cur->index].partitions;
  st_doctor_finding *d;
  if (!with) {
    set(r, ST_DOCTOR_CHECK_PROVEN, ST_DOCTOR_OK, "no deadline holds sectors yet");
    lines_free(&table);
    return;
  }
  if (missed || late) {
    d = set(r, ST_DOCTOR_CHECK_PROVEN, ST_DOCTOR_FAIL,
            "%zu of %zu deadline(s) holding sectors were not proven (every sector faulty)%s", missed, with,
            late ? "; the current one is half over and not proven" : "");
    cause(
        d,
        "a deadline is proven by a SubmitWindowedPoSt for each partition between its Open and Close; 'proven' counts the partitions "
        "proven in the current deadline (the chain clears it when the deadline ends, and marks what was not proven faulty). Proven 0 "
        "with sectors to prove is the seed's second check");
  } else if (partial) {
    d = set(r, ST_DOCTOR_CHECK_PROVEN, ST_DOCTOR_WARN,
            "no deadline holding sectors missed its WindowPoSt, but %zu of them have faulty sectors the poster skipped",
            partial);
    cause(
        d,
        "a sector turns faulty when the poster skips it as unreadable, or when its deadline passes unproven (the miner was down, a post did "
        "not land)");
  } else {
    /* "proven" only where a proof was due: a deadline whose Challenge this period has not come
       has proven nothing yet (its first window may still be ahead) */
    size_t due = 0;
    for (uint64_t dl = 0; dl < f->ndeadlines; dl++)
      due += f->deadlines[dl].live && (dl < cur->index || (dl == cur->index && cur->current_epoch >= cur->challenge));
    d = set(r, ST_DOCTOR_CHECK_PROVEN, ST_DOCTOR_OK,
            "no deadline holding sectors missed its WindowPoSt (%zu deadline(s): %zu past their Challenge this period, "
            "%zu not yet; no faulty sectors)",
            with, due, with - due);
  }
  take_evidence(d, &table);
  if (f->run.has_poster)
    evidence(
        d,
        "the running poster (pid %lld) since it started: %lld post(s) landed, %lld failed, %lld sector(s) proven, %lld skipped as unreadable",
        (long long)f->run.pid, (long long)f->run.posts_landed, (long long)f->run.posts_failed,
        (long long)f->run.sectors_proven, (long long)f->run.sectors_skipped);
  if (d->level != ST_DOCTOR_OK)
    fix(d,
        "see 'sector paths' and 'poster log' below for why; 'spacetime-miner proving deadlines --repo %s' shows the table",
        f->repo);
}

static void check_log(const st_doctor_facts *f, st_doctor_report *r) {
  const char *path = f->log_path;
  if (!*path) {
    if (!f->running) return; /* nothing to read, and the miner finding says why */
    st_doctor_finding *d =
        set(r, ST_DOCTOR_CHECK_LOG, ST_DOCTOR_WARN, "the poster (pid %lld) writes no log file", (long long)f->run.pid);
    cause(d, "without --log-file the log goes to its stderr only, and neither you nor doctor can grep it later");
    fix(d, "restart it with --log-file, e.g. --log-file %s/poster.log (or give doctor --log-file FILE)", f->repo);
    return;
  }
  if (!f->log_scanned) {
    st_doctor_finding *d = set(r, ST_DOCTOR_CHECK_LOG, ST_DOCTOR_WARN, "%s", f->log_error);
    fix(d, "point doctor at the poster's log with --log-file FILE");
    return;
  }
  const st_doctor_log *lg = &f->log;
  const char *since = f->log_since ? " since the poster started" : "";
  if (!lg->errors) {
    set(r, ST_DOCTOR_CHECK_LOG, ST_DOCTOR_OK, "no ERROR line in %s%s%s (%zu older)", path, since,
        lg->partial ? " (its last 8 MiB)" : "", lg->older);
    return;
  }
  st_doctor_finding *d = set(r, ST_DOCTOR_CHECK_LOG, ST_DOCTOR_FAIL, "%zu ERROR line(s) in %s%s, from %s to %s",
                             lg->errors, path, since, lg->first_at, lg->last_at);
  evidence(d, "the last: %s", lg->last);
  for (size_t i = 0; i < lg->npaths; i++)
    evidence(d, "could not read %s: %s", lg->paths[i], f->log_path_exists[i] ? "it exists now" : "it does not exist");
  if (f->misplaced_in_log) {
    cause(
        d,
        "the poster looks for sector files where they are not: %s is missing, but the sector lives at %s, a storage node's folder (see "
        "'server-api')",
        f->misplaced, f->misplaced_at);
    fix(d, "restart the poster with --server-api (see 'server-api' below)");
  } else if (lg->npaths) {
    cause(
        d,
        "the poster could not read these sector files: they are gone, or their storage node is not mounted on this host");
    fix(d,
        "mount the storage node or restore the files; 'spacetime-miner proving check N' says good when the poster can read them");
  } else {
    cause(d, "the poster logged errors (the seed's third check: grep -ai error poster.log)");
    fix(d, "read the lines above; 'grep -a ERROR %s | tail' shows the rest", path);
  }
}

/* ---------------------------------------------------------------- configuration */

/* The sectors ProvingCheck found unreadable (those gathered before a failing call too). */
static size_t bad_sectors(const st_doctor_facts *f) {
  size_t bad = 0;
  for (size_t i = 0; i < f->nsectors; i++) bad += !f->sectors[i].good;
  return bad;
}

static void check_paths(const st_doctor_facts *f, st_doctor_report *r) {
  if (!f->paths_checked) return;
  if (f->paths_failed) {
    set(r, ST_DOCTOR_CHECK_PATHS, ST_DOCTOR_WARN, "could not check deadline %llu: %s",
        (unsigned long long)f->paths_failed_deadline, f->paths_error);
    return;
  }
  size_t bad = bad_sectors(f), shown = 0;
  st_doctor_finding tmp = {0}, *d;
  for (size_t i = 0; i < f->nsectors && shown < 5; i++) {
    const st_doctor_sector *s = &f->sectors[i];
    if (s->good) continue;
    shown++;
    evidence(&tmp, "sector %lld (deadline %llu, partition %lld): %s", (long long)s->sector,
             (unsigned long long)s->deadline, (long long)s->partition, s->error);
  }
  if (!bad)
    d = set(r, ST_DOCTOR_CHECK_PATHS, ST_DOCTOR_OK, "the poster can read all %zu sector(s) where it looks for them",
            f->nsectors);
  else {
    d = set(r, ST_DOCTOR_CHECK_PATHS, ST_DOCTOR_FAIL,
            "the poster cannot read %zu of %zu sector(s) where it looks for them", bad, f->nsectors);
    if (bad > 5) evidence(&tmp, "... and %zu more ('spacetime-miner proving check N --only-bad')", bad - 5);
    if (f->misplaced[0]) {
      cause(d, "their files are on a storage node's folder (%s) that the poster does not know of (see 'server-api')",
            f->misplaced_at);
      fix(d, "restart the poster with --server-api (see 'server-api' below)");
    } else {
      cause(d, "the files are missing, or their storage node is not mounted on this host");
      fix(d,
          "mount the storage node or restore the files, then 'spacetime-miner proving check N --repo %s' says good; the poster declares the "
          "recovery by itself",
          f->repo);
    }
  }
  take_evidence(d, &tmp.evidence);
}

/* The fix of a run without --server-api: the flags to add, and how to restart with them. */
static void server_api_fix(const st_doctor_facts *f, st_doctor_finding *d) {
  char add[2600];
  const char *u = f->reg_url[0] ? f->reg_url : "http://<registry host>:3456", *mode = f->run.mode;
  if (strcmp(mode, "poster") && f->reg_repo[0])
    snprintf(add, sizeof add, "--server-api=%s --server-token-file=%.900s/token", u, f->reg_repo);
  else if (strcmp(mode, "poster"))
    snprintf(add, sizeof add, "--server-api=%s --server-token-file=<a file holding the registry's write token>", u);
  else snprintf(add, sizeof add, "--server-api=%s", u);
  fix(d, "restart it with the registry's address:");
  if (!f->cmdline[0]) {
    fix(d, "stop the miner (pid %d) and start it again with: %s", (int)f->run.pid, add);
    return;
  }
  fix(d, "kill %d", (int)f->run.pid);
  fix(d, "%s %s", f->cmdline, add);
}

static void check_server_api(const st_doctor_facts *f, st_doctor_report *r) {
  if (!f->running) return;
  const char *url = f->run.server_api, *dist = f->run.dist_path;
  if (*url) {
    set(r, ST_DOCTOR_CHECK_SERVER_API, ST_DOCTOR_OK, "the %s runs with --server-api %s", role(f), url);
    return;
  }
  if (!f->reg_url[0] && !f->misplaced[0]) {
    set(r, ST_DOCTOR_CHECK_SERVER_API, ST_DOCTOR_OK,
        "no --server-api and no registry on this host: sector paths resolve under %s/{sealed,cache}", dist);
    return;
  }
  st_doctor_finding *d =
      set(r, ST_DOCTOR_CHECK_SERVER_API, f->misplaced[0] || bad_sectors(f) ? ST_DOCTOR_FAIL : ST_DOCTOR_WARN,
          "the %s (pid %lld) runs without --server-api", role(f), (long long)f->run.pid);
  if (f->cmdline[0]) evidence(d, "it was started as: %s", f->cmdline);
  if (f->reg_url[0]) evidence(d, "a registry is there: %s", f->reg_how);
  if (f->misplaced[0])
    evidence(d, "it looks for %s, which does not exist; the sector is at %s", f->misplaced, f->misplaced_at);
  cause(
      d,
      "without --server-api the poster builds sector paths as %s/sealed/s-t0%llu-N and %s/cache/s-t0%llu-N. The registry knows, from its "
      "storage_nodes table, that they live on storage nodes mounted as %s/<type>/<host>/..., so the poster cannot read them, skips them, "
      "and the chain faults them (the seed's incident)",
      dist, (unsigned long long)f->cfg.miner, dist, (unsigned long long)f->cfg.miner, dist);
  server_api_fix(f, d);
}

static void check_registry(const st_doctor_facts *f, st_doctor_report *r) {
  if (!f->reg_checked) return;
  const char *url = f->run.server_api;
  if (!f->reg_ok) {
    st_doctor_finding *d =
        set(r, ST_DOCTOR_CHECK_REGISTRY, ST_DOCTOR_FAIL, "the registry at %s does not answer: %s", url, f->reg_error);
    cause(d, "the poster asks the registry where each sector lives; without an answer it cannot find any sector file");
    fix(d,
        "start it ('spacetime-server run --repo DIR --listen HOST:PORT'), or restart the miner with the right --server-api");
    return;
  }
  set(r, ST_DOCTOR_CHECK_REGISTRY, ST_DOCTOR_OK, "the registry at %s answers (schema %d)", url, f->reg_schema);
  if (!f->nodes_ok) {
    set(r, ST_DOCTOR_CHECK_HEARTBEAT, ST_DOCTOR_WARN, "could not list the storage nodes: %s", f->nodes_error);
    return;
  }
  size_t stale = 0;
  st_doctor_finding tmp = {0}, *d;
  for (size_t i = 0; i < f->nnodes; i++) {
    const st_storage_node *s = &f->nodes[i];
    bool old = !s->last_heartbeat || f->now - s->last_heartbeat > ST_DOCTOR_STALE_SECS;
    if (!old && !s->heartbeat_err[0]) continue;
    stale++;
    if (s->last_heartbeat)
      evidence(&tmp, "node %lld (%s %s): last heartbeat %llds ago%s%s", (long long)s->id, s->mount_type, s->host,
               (long long)(f->now - s->last_heartbeat), s->heartbeat_err[0] ? ", error: " : "", s->heartbeat_err);
    else evidence(&tmp, "node %lld (%s %s): never heartbeated", (long long)s->id, s->mount_type, s->host);
  }
  if (!stale)
    d = set(r, ST_DOCTOR_CHECK_HEARTBEAT, ST_DOCTOR_OK, "%zu storage node(s), each heartbeated in the last %d s",
            f->nnodes, ST_DOCTOR_STALE_SECS);
  else {
    d = set(r, ST_DOCTOR_CHECK_HEARTBEAT, ST_DOCTOR_WARN,
            "%zu of %zu storage node(s) have a stale or failing heartbeat", stale, f->nnodes);
    cause(
        d,
        "the registry allocates new sectors only on nodes heartbeated in the last %d s; a sealer started with --server-api heartbeats the "
        "nodes mounted under its --dist-path every 20 s",
        ST_DOCTOR_STALE_SECS);
    fix(d,
        "run a sealer with --server-api on the host that mounts them, or heartbeat one by hand: spacetime-server storage-nodes heartbeat ID "
        "--path <dist>/<type>/<host> --server-api %s",
        url);
  }
  take_evidence(d, &tmp.evidence);
}

/* A process that stopped answering this long ago without leaving is still reported. */
#define RECENT_SECS 3600

static void check_cluster(const st_doctor_facts *f, st_doctor_report *r) {
  if (!f->running) return;
  if (!f->cluster_ok) {
    set(r, ST_DOCTOR_CHECK_CLUSTER, ST_DOCTOR_WARN, "could not read the miner's cluster: %s", f->cluster_error);
    return;
  }
  const json_t *ms = json_object_get(f->cluster, "machines"), *m;
  int64_t now = json_integer_value(json_object_get(f->cluster, "now"));
  size_t i, posters = 0, sealers = 0, alive = 0, gone = 0;
  st_doctor_lines ev = {0};
  size_t nstuck = 0;
  json_array_foreach(ms, i, m) {
    const char *roles = json_string_value(json_object_get(m, "roles"));
    int64_t last = json_integer_value(json_object_get(m, "last_contact"));
    if (json_integer_value(json_object_get(m, "alive"))) {
      alive++;
      posters += roles && strstr(roles, "poster");
      sealers += roles && strstr(roles, "sealer");
    } else if (!json_is_integer(json_object_get(m, "stopped")) && now - last <= RECENT_SECS) {
      gone++;
      add_line(&ev, "machine %lld (%s, pid %lld, %s): last contact %llds ago, it never left",
               (long long)json_integer_value(json_object_get(m, "id")), json_string_value(json_object_get(m, "host")),
               (long long)json_integer_value(json_object_get(m, "pid")), roles ? roles : "?", (long long)(now - last));
    }
  }
  const json_t *lapsed = json_object_get(f->cluster, "lapsed_sectors"), *l;
  json_array_foreach(lapsed, i, l) {
    nstuck++;
    add_line(&ev, "sector %lld (%s): machine %lld's lease lapsed %llds ago",
             (long long)json_integer_value(json_object_get(l, "number")),
             json_string_value(json_object_get(l, "state")), (long long)json_integer_value(json_object_get(l, "owner")),
             (long long)(now - json_integer_value(json_object_get(l, "lease_until"))));
  }
  st_doctor_finding *d;
  if (!posters) {
    d = set(r, ST_DOCTOR_CHECK_CLUSTER, ST_DOCTOR_FAIL, "no live poster in t0%llu's cluster (%zu live process(es))",
            (unsigned long long)f->cfg.miner, alive);
    cause(d,
          "nothing proves the miner's sectors: every deadline holding them faults at its Close, and no block is made");
    fix(d, "spacetime-miner run --mode=poster --repo %s --dist-path=%s%s%s", f->repo, f->run.dist_path,
        f->run.server_api[0] ? " --server-api=" : "", f->run.server_api);
  } else if (nstuck) {
    d = set(r, ST_DOCTOR_CHECK_CLUSTER, ST_DOCTOR_WARN,
            "%zu sector(s) under way wait under a lapsed lease (%zu live sealer(s))", nstuck, sealers);
    cause(d,
          "their sealer died or stopped, and no live sealer takes them: none runs, or none of their storage group "
          "(--groups) or, for a deal, of the host that holds the piece");
    fix(d, "spacetime-miner run --mode=sealer --repo %s --dist-path=%s%s%s   # on a host that mounts their storage",
        f->repo, f->run.dist_path, f->run.server_api[0] ? " --server-api=" : "", f->run.server_api);
  } else if (gone) {
    d = set(r, ST_DOCTOR_CHECK_CLUSTER, ST_DOCTOR_WARN, "%zu process(es) of the cluster stopped answering (%zu live)",
            gone, alive);
    cause(d,
          "killed, crashed or paused without leaving; their claims lapsed and the live processes took the work over");
    fix(d, "restart them if they are still wanted; `spacetime-miner cluster` shows what each live one holds");
  } else {
    d = set(r, ST_DOCTOR_CHECK_CLUSTER, ST_DOCTOR_OK, "%zu live process(es): %zu sealer(s), %zu poster(s)", alive,
            sealers, posters);
  }
  take_evidence(d, &ev);
}

static void check_balance(const st_doctor_facts *f, st_doctor_report *r) {
  if (!f->head_ok) return;
  if (!f->balance_ok) {
    set(r, ST_DOCTOR_CHECK_BALANCE, ST_DOCTOR_WARN, "could not read the worker's balance: %s", f->balance_error);
    return;
  }
  char worker[ST_ADDR_STR_MAX], have[96], min_text[96];
  st_address_format(&f->cfg.worker, 't', worker, NULL);
  st_fil_text(f->balance, have, sizeof have);
  st_fil_text(f->min_balance, min_text, sizeof min_text);
  if (mpz_cmp(f->balance, f->min_balance) >= 0) {
    set(r, ST_DOCTOR_CHECK_BALANCE, ST_DOCTOR_OK, "the worker %s holds %s", worker, have);
    return;
  }
  st_doctor_finding *d =
      set(r, ST_DOCTOR_CHECK_BALANCE, ST_DOCTOR_WARN, "the worker %s holds %s, below %s", worker, have, min_text);
  cause(
      d,
      "the worker pays the gas of every SubmitWindowedPoSt, recovery and commit; when it runs dry, posts stop landing and sectors turn faulty");
  fix(d, "spacetime send %s 10   # from the node's default wallet; add --from ADDR to choose", worker);
}

void st_doctor_diagnose(const st_doctor_facts *f, st_doctor_report *out) {
  st_doctor_report_free(out);
  check_daemon(f, out);
  check_miner(f, out);
  check_log(f, out);
  if (f->head_ok) {
    check_power(f, out);
    check_proven(f, out);
    check_paths(f, out);
  }
  check_server_api(f, out);
  check_registry(f, out);
  check_cluster(f, out);
  check_balance(f, out);
}
