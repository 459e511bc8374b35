/* st_doctor_facts: doctor's facts, gathered phase by phase. */
#include "miner/st_doctor_facts.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/st_fs.h"
#include "core/st_proc.h"
#include "miner/st_miner_api.h"
#include "registry/st_registry_client.h"
#include "rpc/st_apiinfo.h"

void st_doctor_facts_init(st_doctor_facts *f) {
  memset(f, 0, sizeof *f);
  mpz_inits(f->balance, f->min_balance, NULL);
}

void st_doctor_facts_free(st_doctor_facts *f) {
  free(f->deadlines);
  free(f->sectors);
  free(f->nodes);
  json_decref(f->cluster);
  mpz_clears(f->balance, f->min_balance, NULL);
  memset(f, 0, sizeof *f);
}

static void copy(char *dst, size_t n, const char *src) { snprintf(dst, n, "%s", src ? src : ""); }
#define COPY(dst, src) copy((dst), sizeof(dst), (src))

/* ---------------------------------------------------------------- the daemon and the miner */

static void gather_daemon(const st_doctor_opts *o, st_doctor_facts *f) {
  if (!o->node) {
    COPY(f->node_error, o->node_error);
    return;
  }
  f->node_reached = true;
  st_node_head h;
  st_node_head_init(&h);
  st_err err;
  if (st_node_chain_head(o->node, &h, &err)) COPY(f->head_error, err.msg);
  else f->head_ok = true, f->height = h.height;
  st_node_head_free(&h);
}

static const char *str_of(const json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : "";
}

static int64_t int_of(const json_t *o, const char *key) { return json_integer_value(json_object_get(o, key)); }

static void run_from_json(const json_t *j, st_doctor_run *out) {
  memset(out, 0, sizeof *out);
  out->pid = int_of(j, "PID");
  out->started_at = int_of(j, "StartedAt");
  COPY(out->mode, str_of(j, "Mode"));
  COPY(out->dist_path, str_of(j, "DistPath"));
  COPY(out->server_api, str_of(j, "ServerAPI"));
  COPY(out->log_file, str_of(j, "LogFile"));
  const json_t *p = json_object_get(j, "Poster");
  if (!p) return;
  out->has_poster = true;
  out->posts_landed = int_of(p, "PostsLanded");
  out->posts_failed = int_of(p, "PostsFailed");
  out->sectors_proven = int_of(p, "SectorsProven");
  out->sectors_skipped = int_of(p, "SectorsSkipped");
}

static void gather_run(const st_doctor_opts *o, st_doctor_facts *f) {
  if (!o->miner) {
    COPY(f->miner_error, o->miner_error);
    return;
  }
  st_err err;
  json_t *r;
  if (st_miner_api_call(o->miner, "MinerRunInfo", NULL, &r, &err)) {
    COPY(f->miner_error, err.msg);
    return;
  }
  f->running = true;
  run_from_json(r, &f->run);
  json_decref(r);
}

/* ---------------------------------------------------------------- files */

static void gather_log(const st_doctor_opts *o, st_doctor_facts *f) {
  COPY(f->log_path, o->log_file ? o->log_file : f->run.log_file);
  if (!f->log_path[0]) return;
  f->log_since = f->running ? f->run.started_at : 0;
  st_err err;
  if (st_doctor_scan_log(f->log_path, ST_DOCTOR_START_LINE, f->log_since, ST_DOCTOR_LOG_TAIL, &f->log, &err)) {
    COPY(f->log_error, err.msg);
    return;
  }
  f->log_scanned = true;
  struct stat st;
  for (size_t i = 0; i < f->log.npaths; i++) f->log_path_exists[i] = !stat(f->log.paths[i], &st);
}

/* A path the poster could not read: where it is, if it is under a storage node's folder. */
static void note_misplaced(st_doctor_facts *f, const char *missing) {
  struct stat st;
  char found[ST_PATH_MAX];
  const char *dist = f->run.dist_path;
  if (f->misplaced[0] || !*dist || !stat(missing, &st) || !st_doctor_find_under(dist, missing, found, sizeof found))
    return;
  COPY(f->misplaced, missing);
  COPY(f->misplaced_at, found);
}

/* ---------------------------------------------------------------- the chain */

static void gather_deadlines(const st_doctor_opts *o, st_doctor_facts *f) {
  st_err err;
  size_t nd = (size_t)f->cur.policy.deadlines;
  if (!(f->deadlines = calloc(nd + 1, sizeof *f->deadlines))) {
    COPY(f->deadlines_error, "out of memory");
    return;
  }
  for (size_t dl = 0; dl < nd; dl++) {
    st_node_partition *parts;
    size_t np;
    if (st_node_partitions(o->node, o->cfg->miner, dl, NULL, &parts, &np, &err)) {
      COPY(f->deadlines_error, err.msg);
      return;
    }
    st_doctor_deadline *d = &f->deadlines[f->ndeadlines++];
    d->partitions = np;
    for (size_t i = 0; i < np; i++)
      d->live += st_bitfield_count(&parts[i].live), d->faulty += st_bitfield_count(&parts[i].faulty);
    st_node_partitions_free(parts, np);
  }
  st_bitfield posted;
  st_bitfield_init(&posted);
  if (f->cur.index < nd && st_node_post_submissions(o->node, o->cfg->miner, f->cur.index, NULL, &posted, &err))
    COPY(f->deadlines_error, err.msg);
  else f->deadlines_ok = true, f->proven_now = st_bitfield_count(&posted);
  st_bitfield_free(&posted);
}

static void gather_chain(const st_doctor_opts *o, st_doctor_facts *f) {
  st_err err;
  if (st_node_get_sector_count(o->node, o->cfg->miner, &f->counts, &err) ||
      st_node_proving_deadline(o->node, o->cfg->miner, NULL, &f->cur, &err)) {
    COPY(f->chain_error, err.msg);
    return;
  }
  f->chain_ok = true;
  gather_deadlines(o, f);
}

static void gather_balance(const st_doctor_opts *o, st_doctor_facts *f) {
  st_err err;
  if (st_node_wallet_balance(o->node, &o->cfg->worker, f->balance, &err)) COPY(f->balance_error, err.msg);
  else f->balance_ok = true;
}

/* ---------------------------------------------------------------- the running miner's sectors */

static st_code add_sector(st_doctor_facts *f, uint64_t dl, const json_t *e, st_err *err) {
  st_doctor_sector *grown = realloc(f->sectors, (f->nsectors + 1) * sizeof *grown);
  if (!grown) return st_err_set(err, ST_ENOMEM, "out of memory");
  f->sectors = grown;
  st_doctor_sector *s = &f->sectors[f->nsectors++];
  memset(s, 0, sizeof *s);
  s->deadline = dl;
  s->partition = int_of(e, "Partition");
  s->sector = int_of(e, "Sector");
  s->good = json_is_true(json_object_get(e, "Good"));
  const char *why = json_string_value(json_object_get(e, "Err"));
  COPY(s->error, why ? why : "bad");
  return ST_OK;
}

/* ProvingCheck of every deadline with partitions, as the poster reads the files. */
static void gather_sectors(const st_doctor_opts *o, st_doctor_facts *f) {
  f->paths_checked = true;
  for (uint64_t dl = 0; dl < f->ndeadlines; dl++) {
    if (!f->deadlines[dl].partitions) continue;
    st_err err;
    json_t *res, *e;
    st_code code = st_miner_api_call(o->miner, "ProvingCheck", json_pack("[I b]", (json_int_t)dl, false), &res, &err);
    size_t i;
    json_array_foreach(res, i, e) if (!code) code = add_sector(f, dl, e, &err);
    json_decref(res);
    if (code) {
      f->paths_failed = true;
      f->paths_failed_deadline = dl;
      COPY(f->paths_error, err.msg);
      return;
    }
  }
}

/* The files the poster reported it could not read (`path="..."` in its reasons). */
static void note_sectors_misplaced(st_doctor_facts *f) {
  for (size_t i = 0; i < f->nsectors; i++) {
    const char *p = f->sectors[i].good ? NULL : strstr(f->sectors[i].error, "path=\"");
    if (!p) continue;
    char missing[ST_PATH_MAX];
    snprintf(missing, sizeof missing, "%.*s", (int)strcspn(p + 6, "\""), p + 6);
    note_misplaced(f, missing);
  }
}

/* ---------------------------------------------------------------- where the registry is */

/* Whether the registry at url places a sector of this miner (the first ProvingCheck saw) where
 * this host has it: its sealed file exists at the path the registry gives under the run's
 * dist-path (any registry passes when there is no sector to ask about). Another cluster's
 * registry may know a miner of the same ID, but not these files. */
static bool knows_miner(const st_doctor_facts *f, const char *url) {
  if (!f->nsectors) return true;
  st_regc *rc = NULL;
  char path[ST_REG_PATH_MAX];
  st_storage_node node;
  struct stat st;
  bool ok = !st_regc_open(url, NULL, &rc, NULL) &&
            !st_regc_resolve(rc, f->cfg.miner, (uint64_t)f->sectors[0].sector, ST_KIND_SEALED, f->run.dist_path, path,
                             &node, NULL) &&
            !stat(path, &st);
  st_regc_close(rc);
  return ok;
}

/* A candidate registry: taken if it knows this miner's sectors, else kept as the fallback. */
static void consider(st_doctor_facts *f, const char *url, const char *repo, const char *how) {
  if (f->reg_verified || !*url) return;
  bool ok = knows_miner(f, url);
  if (!ok && f->reg_url[0]) return;
  COPY(f->reg_url, url);
  COPY(f->reg_repo, repo);
  snprintf(f->reg_how, sizeof f->reg_how, "%s%s", how, ok ? "" : " (it does not know this miner's sectors)");
  f->reg_verified = ok;
}

/* The registries spacetime-server runs on this host serve (each repo's api file). */
static void consider_servers(st_doctor_facts *f) {
  st_proc_cmd *v;
  size_t n;
  char how[1024], repo[4096], path[4200], url[512];
  if (st_proc_find("spacetime-server", "run", &v, &n, NULL)) return;
  for (size_t i = 0; i < n; i++) {
    st_apiinfo_repo(st_proc_flag(&v[i], "repo"), ".spacetime-server", repo, sizeof repo);
    snprintf(path, sizeof path, "%s/api", repo);
    if (st_fs_read_line(path, url, sizeof url, NULL)) url[0] = 0;
    snprintf(how, sizeof how, "spacetime-server runs on this host (pid %d, repo %.900s)", (int)v[i].pid, repo);
    if (*url && !strcmp(url, f->reg_url) && !f->reg_repo[0]) { /* the one recorded: now its repo and pid are known */
      COPY(f->reg_repo, repo);
      snprintf(f->reg_how, sizeof f->reg_how, "%s%s", how, f->reg_verified ? "; it holds this miner's sectors" : "");
    }
    consider(f, url, repo, how);
  }
  st_proc_cmds_free(v, n);
}

/* The registries other spacetime-miner runs on this host use (the seed's sealer). */
static void consider_miners(st_doctor_facts *f) {
  st_proc_cmd *v;
  size_t n;
  char how[1024];
  if (st_proc_find("spacetime-miner", "run", &v, &n, NULL)) return;
  for (size_t i = 0; i < n; i++) {
    const char *u = st_proc_flag(&v[i], "server-api"), *mode = st_proc_flag(&v[i], "mode");
    if (!u) continue;
    snprintf(how, sizeof how, "the %s on this host (pid %d) runs with --server-api %s", mode ? mode : "miner",
             (int)v[i].pid, u);
    consider(f, u, "", how);
  }
  st_proc_cmds_free(v, n);
}

/* A registry the run was not told of: the one doctor was given, else the one this repo's miner
 * last ran with (run records it), a spacetime-server run on this host, or another
 * spacetime-miner's --server-api. With several, the one that knows this miner's sectors. */
static void find_registry(const st_doctor_opts *o, st_doctor_facts *f) {
  if (o->server_api) {
    COPY(f->reg_url, o->server_api);
    COPY(f->reg_how, "--server-api given to doctor");
    return;
  }
  char how[1024], path[4200], url[512];
  snprintf(path, sizeof path, "%s/server-api", f->repo);
  if (!st_fs_read_line(path, url, sizeof url, NULL) && url[0]) {
    snprintf(how, sizeof how, "this repo's miner last ran with --server-api %.500s (%.400s)", url, path);
    consider(f, url, "", how);
  }
  consider_servers(f);
  consider_miners(f);
}

/* The run's command line, for the evidence and the restart command. */
static void gather_cmdline(st_doctor_facts *f) {
  st_proc_cmd c;
  if (st_proc_cmdline((pid_t)f->run.pid, &c, NULL)) return;
  st_proc_cmd_text(&c, f->cmdline, sizeof f->cmdline);
  st_proc_cmd_free(&c);
}

/* The run's registry: whether it answers, and its storage nodes. */
static void gather_registry(st_doctor_facts *f) {
  f->reg_checked = true;
  st_regc *rc = NULL;
  st_err err;
  st_code code = st_regc_open(f->run.server_api, NULL, &rc, &err);
  if (!code) code = st_regc_health(rc, &f->reg_schema, &err);
  if (code) COPY(f->reg_error, err.msg);
  else if (st_regc_nodes(rc, &f->nodes, &f->nnodes, &err)) f->reg_ok = true, COPY(f->nodes_error, err.msg);
  else f->reg_ok = f->nodes_ok = true;
  st_regc_close(rc);
}

/* ---------------------------------------------------------------- all of it */

void st_doctor_gather(const st_doctor_opts *o, st_doctor_facts *f) {
  st_doctor_facts_free(f);
  st_doctor_facts_init(f);
  COPY(f->repo, o->repo);
  COPY(f->node_repo, o->node_repo);
  f->cfg = *o->cfg;
  f->now = (int64_t)time(NULL);
  if (o->min_balance) mpz_set(f->min_balance, o->min_balance);
  gather_daemon(o, f);
  gather_run(o, f);
  gather_log(o, f);
  for (size_t i = 0; f->log_scanned && i < f->log.npaths; i++)
    if (!f->log_path_exists[i]) note_misplaced(f, f->log.paths[i]);
  f->misplaced_in_log = f->misplaced[0] != 0;
  if (f->head_ok) gather_chain(o, f);
  if (f->deadlines_ok && f->running) gather_sectors(o, f);
  note_sectors_misplaced(f);
  if (f->running && !f->run.server_api[0]) {
    find_registry(o, f);
    gather_cmdline(f);
  }
  if (f->running && f->run.server_api[0]) gather_registry(f);
  if (f->running) {
    st_err err;
    f->cluster_ok = !st_miner_api_call(o->miner, "Cluster", NULL, &f->cluster, &err);
    if (!f->cluster_ok) COPY(f->cluster_error, err.msg);
  }
  if (f->head_ok) gather_balance(o, f);
}
