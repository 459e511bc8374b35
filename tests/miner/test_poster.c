/* st_poster driven round by round against the in-process daemon of tests/nodefx.c, with two
 * real sealed 2 KiB sectors. The poster makes every block once the miner has power. Checked:
 * over whole proving periods every deadline holding sectors is proven and nothing turns
 * faulty; blocks are mined and logged; a sector whose cache folder is removed is skipped, turns
 * faulty and loses its power while its partition's other sector stays proven; with the folder
 * back the poster declares the recovery and the power returns; a poster dropped between
 * proving and submitting (as by kill -9) and opened again still proves the deadline; and a
 * round already tried is never tried again after a restart (the cluster's blocks table, on a
 * local file as a lone process keeps it). */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/st_fs.h"
#include "core/st_log.h"
#include "miner/st_cluster.h"
#include "miner/st_poster.h"
#include "nodefx.h"
#include "rpc/st_node_api.h"

static nodefx F;
static char logpath[300], dbpath[300];
static st_cluster *C;
static int64_t M;

static void config(nodefx *f, st_poster_cfg *cfg) {
  *cfg = (st_poster_cfg){.wd = {.node = f->c,
                                .miner = NF_MINER,
                                .sender = f->account,
                                .info = nf_info2k(),
                                .locate = nf_locate,
                                .locate_ctx = f->store,
                                .post = {.parallel = 2, .timeout_ms = 5000}},
                         .confidence = 2,
                         .mine = true,
                         .cluster = C,
                         .machine = M};
}

/* Runs rounds up to h: each one a bootstrap block while those are due, else the poster's. */
static void run_to(nodefx *f, st_poster *p, int64_t h) {
  st_err err;
  for (int64_t e = f->last_round + 1; e <= h; e++) {
    f->last_round = e;
    bool boot = nf_bootstrap_due(f, e);
    if (boot) nf_bootstrap(f, e);
    if (st_poster_step(p, boot ? 0 : e, &err)) fail_msg("poster step at %lld: %s", (long long)e, err.msg);
  }
}

static int64_t period(nodefx *f) { return st_chain_network(f->chain)->proving_period; }

static void test_poster(void **state) {
  nodefx *f = *state;
  st_err err;
  uint64_t d = nf_miner_with_sectors(f, 2);
  assert_int_equal(nf_power(f), 4096);
  st_poster_cfg cfg;
  config(f, &cfg);
  st_poster p;
  assert_int_equal(st_poster_open(&p, &cfg, &err), ST_OK);

  /* two whole periods: proven every time, no faults, blocks made */
  run_to(f, &p, nf_height(f) + 2 * period(f));
  assert_true(p.stats.posts_landed >= 2);
  assert_int_equal(p.stats.posts_failed, 0);
  assert_true(p.stats.blocks_mined > 0);
  nf_assert_rpc(f, "StateMinerFaults", "[\"t01000\", []]", "[0]");
  assert_int_equal(nf_power(f), 4096);
  st_buf log = ST_BUF_INIT;
  assert_int_equal(st_fs_read_file(logpath, 1 << 26, &log, &err), ST_OK);
  assert_non_null(strstr(st_buf_cstr(&log), "\tINFO\tminer\tmined new block\t{\"cid\": \"bafy2bzace"));
  assert_non_null(strstr(st_buf_cstr(&log), "\tINFO\tstorageminer\tgenerating windowPost\t{\"sectors\": 2}"));
  print_message("%llu posts landed, %llu blocks mined in %llu rounds\n", (unsigned long long)p.stats.posts_landed,
                (unsigned long long)p.stats.blocks_mined, (unsigned long long)p.stats.rounds_tried);

  /* sector 2's cache folder removed: skipped, faulty, its power gone; sector 1 still proven */
  char cache[700], moved[720];
  snprintf(cache, sizeof cache, "%s/cache/s-t01000-2", f->store);
  snprintf(moved, sizeof moved, "%s.away", cache);
  assert_int_equal(rename(cache, moved), 0);
  uint64_t landed = p.stats.posts_landed;
  run_to(f, &p, nf_height(f) + period(f) + 5);
  nf_assert_rpc(f, "StateMinerFaults", "[\"t01000\", []]", "[2,1]");
  assert_int_equal(nf_power(f), 2048);
  assert_true(p.stats.posts_landed > landed); /* sector 1's partition was still proven */
  st_buf_reset(&log);
  assert_int_equal(st_fs_read_file(logpath, 1 << 26, &log, &err), ST_OK);
  /* declared faulty before its deadline (the poster checks the deadline two ahead), or, when
   * its deadline was nearer than that, skipped by the proof */
  char want[900];
  snprintf(want, sizeof want,
           "\tERROR\tstorageminer\twhen running wdpost for partition 0, got err could not read from path=\"%s/p_aux\"",
           cache);
  bool skipped = strstr(st_buf_cstr(&log), want) != NULL;
  bool declared = p.stats.faults_declared == 1 &&
                  strstr(st_buf_cstr(&log), "\tWARN\tstorageminer\tdeclare faults Message CID\t{\"cid\": \"bafy");
  print_message("sector 2 unreadable: %s\n", declared ? "declared faulty before its deadline" : "skipped by the proof");
  assert_true(skipped || declared);

  /* back: the poster declares the recovery for a later instance, and the power returns */
  assert_int_equal(rename(moved, cache), 0);
  run_to(f, &p, nf_height(f) + 2 * period(f));
  assert_true(p.stats.recoveries_declared >= 1);
  nf_assert_rpc(f, "StateMinerFaults", "[\"t01000\", []]", "[0]");
  assert_int_equal(nf_power(f), 4096);

  /* dropped after proving, before submitting (as kill -9 would), then opened again */
  st_deadline_info di;
  nf_next_instance(f, d, &di);
  if (nf_height(f) > di.challenge - 5) {
    run_to(f, &p, di.close + 1);
    nf_next_instance(f, d, &di);
  }
  run_to(f, &p, di.challenge + cfg.confidence);
  assert_true(p.dl[0].proven || p.dl[1].proven);
  int64_t tried = p.last_round;
  st_poster_close(&p);
  assert_int_equal(st_cluster_join(C, NF_MINER, "poster", "test", 1, &M, &err), ST_OK); /* a new process */
  sleep(2);                                                                             /* the old lease lapses */
  config(f, &cfg);
  assert_int_equal(st_poster_open(&p, &cfg, &err), ST_OK);
  uint64_t rounds = p.stats.rounds_tried;
  assert_int_equal(st_poster_step(&p, tried, &err), ST_OK); /* that round again: not tried */
  assert_int_equal(p.stats.rounds_tried, rounds);
  run_to(f, &p, di.close + 1);
  assert_int_equal(p.stats.posts_landed, 1);
  nf_assert_rpc(f, "StateMinerFaults", "[\"t01000\", []]", "[0]");
  assert_int_equal(nf_power(f), 4096);
  st_poster_close(&p);
  st_buf_free(&log);
}

static int setup(void **state) {
  nf_open(&F);
  snprintf(logpath, sizeof logpath, "%s/poster.log", F.dir);
  snprintf(dbpath, sizeof dbpath, "%s/sealing.db", F.dir);
  st_err err;
  if (st_cluster_open(NULL, NULL, dbpath, NF_MINER, &C, &err) ||
      st_cluster_join(C, NF_MINER, "poster", "test", 1, &M, &err))
    fail_msg("cluster: %s", err.msg);
  assert_int_equal(st_log_set_file(logpath, NULL), ST_OK);
  st_log_set_stderr(false);
  *state = &F;
  return 0;
}

static int teardown(void **state) {
  st_cluster_close(C);
  st_log_set_file(NULL, NULL);
  st_log_set_stderr(true);
  nf_close(*state);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_poster)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
