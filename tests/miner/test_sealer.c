/* st_sealer against the in-process daemon of tests/nodefx.c and a registry server on
 * loopback (the cluster's database), sealing real 2 KiB sectors: pledged sectors reach Proving
 * with their power, their files where the registry placed them (<dist>/nfs/<host>/...); a
 * sealer dropped at any state (as by kill -9) is taken over by another machine once its lease
 * lapses, not before, without sending a message twice, even when it died between sending and
 * recording; the dropped sealer, stepped again, changes nothing; a failed proof is shown with
 * its error and retried; and a number the chain holds with another sealed CID is never adopted
 * nor its files written. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/st_log.h"
#include "db/st_db.h"
#include "miner/st_cluster.h"
#include "miner/st_sealer.h"
#include "nodefx.h"
#include "registry/st_registry_client.h"
#include "registry/st_registry_server.h"

static nodefx F;
static char dbpath[300], dist[300];

static void config(nodefx *f, st_cluster *c, int64_t machine, st_regc *reg, st_sealer_cfg *cfg) {
  *cfg = (st_sealer_cfg){.cluster = c,
                         .machine = machine,
                         .node = f->c,
                         .miner = NF_MINER,
                         .sender = f->account,
                         .info = nf_info2k(),
                         .registry = reg,
                         .dist_path = reg ? dist : f->store,
                         .group = -1,
                         .confidence = 2,
                         .lifetime = 3000,
                         .max_retries = 2};
}

static const st_sealing_sector *find(const st_sealing_sector *v, size_t n, uint64_t number) {
  for (size_t i = 0; i < n; i++)
    if (v[i].number == number) return &v[i];
  fail_msg("sector %llu not listed", (unsigned long long)number);
  static const st_sealing_sector none;
  return &none;
}

static void state_of(st_sealer *s, uint64_t number, char out[32]) {
  st_sealing_sector *v;
  size_t n;
  assert_int_equal(st_sealer_list(s, &v, &n, NULL), ST_OK);
  snprintf(out, 32, "%s", find(v, n, number)->state);
  free(v);
}

/* Steps the sealer and the chain until sector number is in state (at most rounds rounds). */
static void run_until(nodefx *f, st_sealer *s, uint64_t number, const char *state, int rounds) {
  st_err err;
  char now[32] = "";
  for (int i = 0; i < rounds; i++) {
    int changed;
    if (st_sealer_step(s, &changed, &err)) fail_msg("step: %s", err.msg);
    state_of(s, number, now);
    if (!strcmp(now, state)) return;
    nf_mine_next(f);
  }
  fail_msg("sector %llu is %s after %d rounds, not %s", (unsigned long long)number, now, rounds, state);
}

static size_t pending(nodefx *f) {
  json_t *p = nf_rpc(f, "MpoolPending", "[[]]");
  size_t n = json_array_size(p);
  json_decref(p);
  return n;
}

static void test_sealer(void **state) {
  nodefx *f = *state;
  st_err err;
  nf_mine_to(f, 3);
  nf_create_miner(f);

  /* a registry with one nfs storage node */
  char url[64];
  st_regc *reg;
  st_registry_server *srv = nf_registry_start(f->dir, "sealer-test-token-0123", url, &reg);
  st_storage_node node = {.group = 1, .capacity = 1 << 30, .available = 1 << 30, .weight = 10};
  snprintf(node.host, sizeof node.host, "10.0.0.7");
  snprintf(node.mount_host, sizeof node.mount_host, "10.0.0.7");
  snprintf(node.mount_type, sizeof node.mount_type, "nfs");
  st_storage_node added;
  assert_int_equal(st_regc_node_add(reg, &node, &added, &err), ST_OK);
  assert_int_equal(st_regc_heartbeat(reg, added.id, 1 << 30, 1 << 30, NULL, NULL, &err), ST_OK);

  snprintf(f->store, sizeof f->store, "%s/nfs/10.0.0.7", dist); /* where blocks' WinningPoSt finds them */
  st_cluster *cl;
  int64_t ma, mb;
  assert_int_equal(st_cluster_open(url, "sealer-test-token-0123", NULL, NF_MINER, &cl, &err), ST_OK);
  assert_int_equal(st_cluster_join(cl, NF_MINER, "sealer", "test", 1, &ma, &err), ST_OK);
  assert_int_equal(st_cluster_join(cl, NF_MINER, "sealer", "test", 1, &mb, &err), ST_OK);
  st_sealer_cfg cfg, cfg_b;
  config(f, cl, ma, reg, &cfg);
  config(f, cl, mb, reg, &cfg_b);
  st_sealer *s, *sb;
  assert_int_equal(st_sealer_open(&cfg, &s, &err), ST_OK);
  uint64_t a, b;
  assert_int_equal(st_sealer_pledge(s, &a, &err), ST_OK);
  assert_int_equal(st_sealer_pledge(s, &b, &err), ST_OK);
  assert_int_equal(a, 1);
  assert_int_equal(b, 2);
  size_t inflight;
  assert_int_equal(st_sealer_in_flight(s, &inflight, &err), ST_OK);
  assert_int_equal(inflight, 2);

  /* dropped with its PreCommit sent: another machine takes it over once the lease (1 s) lapses,
   * waits for that message and sends no other */
  run_until(f, s, 1, "PreCommitWait", 20);
  assert_int_equal(st_sealer_open(&cfg_b, &sb, &err), ST_OK);
  int changed;
  assert_int_equal(st_sealer_step(sb, &changed, &err), ST_OK);
  assert_int_equal(changed, 0); /* still held by the first */
  st_sealing_sector one;
  bool listed;
  assert_int_equal(st_sealer_get(sb, 1, &one, &listed, &err), ST_OK);
  assert_true(listed && one.owner == ma && one.held);
  sleep(2);
  nf_mine_next(f);
  assert_int_equal(st_sealer_step(sb, &changed, &err), ST_OK);
  assert_int_equal(st_sealer_get(sb, 1, &one, &listed, &err), ST_OK);
  assert_true(listed && one.owner == mb && one.held);
  assert_int_equal(pending(f), 0); /* the PreCommit landed; nothing sent again */
  char before[32];
  state_of(sb, 1, before);
  assert_int_equal(st_sealer_step(s, &changed, &err), ST_OK); /* the old holder, continued: changes nothing */
  assert_int_equal(changed, 0);
  char after[32];
  state_of(sb, 1, after);
  assert_string_equal(before, after);
  st_sealer_close(s);
  s = sb;
  cfg = cfg_b;
  run_until(f, s, 1, "Proving", 200);
  run_until(f, s, 2, "Proving", 200);
  assert_int_equal(nf_power(f), 4096);
  st_sealing_sector *v;
  size_t n;
  assert_int_equal(st_sealer_list(s, &v, &n, &err), ST_OK);
  char root[400], sealed[500];
  snprintf(root, sizeof root, "%s/nfs/10.0.0.7", dist);
  assert_string_equal(find(v, n, 1)->root, root);
  assert_string_equal(find(v, n, 1)->error, "");
  free(v);
  struct stat st;
  snprintf(sealed, sizeof sealed, "%s/sealed/s-t01000-1", root);
  assert_int_equal(stat(sealed, &st), 0);
  st_reg_found *found;
  size_t nf;
  assert_int_equal(st_regc_find(reg, NF_MINER, 2, &found, &nf, &err), ST_OK);
  assert_int_equal(nf, 2); /* sealed and cache, on the node */
  free(found);
  assert_int_equal(st_sealer_in_flight(s, &inflight, &err), ST_OK);
  assert_int_equal(inflight, 0);

  /* died between sending the PreCommit and recording it: the pool's message is adopted */
  uint64_t c;
  assert_int_equal(st_sealer_pledge(s, &c, &err), ST_OK);
  run_until(f, s, c, "PreCommitWait", 20);
  assert_int_equal(pending(f), 1);
  st_db *db;
  char dburl[320];
  snprintf(dburl, sizeof dburl, "sqlite:%s", dbpath);
  assert_int_equal(st_db_open(dburl, &db, &err), ST_OK);
  assert_int_equal(st_db_exec(db, "UPDATE sealing SET state = 'PreCommitting', precommit_cid = NULL WHERE number = 3",
                              0, NULL, NULL, NULL, &err),
                   ST_OK);
  st_db_close(db);
  assert_int_equal(st_sealer_step(s, &changed, &err), ST_OK);
  assert_int_equal(pending(f), 1); /* not sent again */

  /* the proof fails (its tree_d is gone): CommitFailed with the error, retried, then fixed */
  char paux[500], saved[520];
  snprintf(paux, sizeof paux, "%s/cache/s-t01000-3/sc-02-data-tree-d.dat", root);
  snprintf(saved, sizeof saved, "%s.saved", paux);
  run_until(f, s, c, "WaitSeed", 40);
  assert_int_equal(rename(paux, saved), 0);
  run_until(f, s, c, "CommitFailed", 40);
  assert_int_equal(st_sealer_list(s, &v, &n, &err), ST_OK);
  assert_non_null(strstr(find(v, n, c)->error, "could not read from path=\""));
  assert_non_null(strstr(find(v, n, c)->error, "sc-02-data-tree-d.dat"));
  assert_int_equal(find(v, n, c)->retries, 1);
  free(v);
  assert_int_equal(rename(saved, paux), 0);
  run_until(f, s, c, "Proving", 200);
  assert_int_equal(nf_power(f), 6144);

  /* a row whose number the chain holds with another sealed CID (as a sealer that ran alone
   * beside the cluster would leave): never adopted, its files never written; Removed */
  char sealed3[500];
  snprintf(sealed3, sizeof sealed3, "%s/sealed/s-t01000-3", root);
  struct stat before3, after3;
  assert_int_equal(stat(sealed3, &before3), 0);
  assert_int_equal(st_db_open(dburl, &db, &err), ST_OK);
  assert_int_equal(st_db_exec(db,
                              "UPDATE sealing SET state = 'PreCommit1', comm_r = '"
                              "0101010101010101010101010101010101010101010101010101010101010101' WHERE number = 3",
                              0, NULL, NULL, NULL, &err),
                   ST_OK);
  st_db_close(db);
  run_until(f, s, 3, "Removed", 5);
  assert_int_equal(st_sealer_list(s, &v, &n, &err), ST_OK);
  assert_non_null(strstr(find(v, n, 3)->error, "sector number 3 is on chain with another sealed CID"));
  free(v);
  assert_int_equal(stat(sealed3, &after3), 0);
  assert_true(before3.st_mtim.tv_sec == after3.st_mtim.tv_sec && before3.st_mtim.tv_nsec == after3.st_mtim.tv_nsec &&
              before3.st_ino == after3.st_ino);
  assert_int_equal(st_sealer_in_flight(s, &inflight, &err), ST_OK);
  assert_int_equal(inflight, 0); /* nobody works on it */

  st_sealer_close(s);
  st_cluster_close(cl);
  st_regc_close(reg);
  st_registry_server_stop(srv);
}

static int setup(void **state) {
  nf_open(&F);
  snprintf(dbpath, sizeof dbpath, "%s/registry.db", F.dir); /* nf_registry_start's */
  snprintf(dist, sizeof dist, "%s/dist", F.dir);
  *state = &F;
  return 0;
}

static int teardown(void **state) {
  st_log_set_stderr(true);
  nf_close(*state);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_sealer)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
