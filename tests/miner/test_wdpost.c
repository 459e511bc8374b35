/* st_wdpost against the in-process daemon of tests/nodefx.c, with real sealed 2 KiB sectors:
 * a deadline proven and submitted with the seed's log lines; a sector whose cache folder is
 * gone is skipped (the ERROR line names the path), the rest of the partition is still proven
 * and the skipped sector turns faulty; with the folder back, st_wdpost_recover declares it and
 * the next post restores the power; gone again before its deadline, st_wdpost_declare_faults
 * declares it faulty at once. Submitting after Close, with changed randomness, and
 * recovering after FaultCutoff are refused. `proving check` (st_wdpost_check_deadline) finds a
 * missing folder quickly and a damaged replica with --slow. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "core/st_fs.h"
#include "core/st_log.h"
#include "miner/st_wdpost.h"
#include "nodefx.h"
#include "rpc/st_node_api.h"

static nodefx F;
static char logpath[300];

static char *read_log(void) {
  st_buf b = ST_BUF_INIT;
  st_err err;
  assert_int_equal(st_fs_read_file(logpath, 1 << 24, &b, &err), ST_OK);
  char *s = strdup(st_buf_cstr(&b));
  st_buf_free(&b);
  return s;
}

/* A post of deadline d's next instance proving one partition of `sectors` sectors (found by
 * locate; NULL: the fixture's store), refused before Open; its skipped count. */
static size_t post(nodefx *f, uint64_t d, size_t sectors, st_sector_locate_fn locate) {
  return nf_post_deadline_with(
      f, d, &(nf_post_opts){.locate = locate, .check_sectors = true, .sectors = sectors, .refused_before_open = true});
}

static void test_prove_skip_recover(void **state) {
  nodefx *f = *state;
  st_err err;
  uint64_t d = nf_miner_with_sectors(f, 2);
  assert_int_equal(nf_deadline_of(f, 2), d); /* one partition holds both */
  assert_int_equal(nf_power(f), 4096);

  /* a clean deadline: both proven, the seed's lines in order */
  assert_int_equal(post(f, d, 2, NULL), 0);
  char *log = read_log();
  const char *run = strstr(log, "\tINFO\tstorageminer\trunning windowPost\t{\"chain-random\": \"");
  assert_non_null(run);
  assert_non_null(strstr(run, "\"deadline\": {\"CurrentEpoch\":"));
  assert_non_null(strstr(run, ", \"skipped\": 0}\n"));
  const char *gen = strstr(run, "\tINFO\tstorageminer\tgenerating windowPost\t{\"sectors\": 2}\n");
  assert_non_null(gen);
  assert_non_null(strstr(gen, "\tINFO\tstorageminer\tsubmitting window PoSt\t{\"elapsed\": "));
  free(log);
  assert_int_equal(nf_power(f), 4096);

  /* sector 2's cache folder gone: skipped, logged with its path, the rest still proven */
  char cache[700], moved[720];
  snprintf(cache, sizeof cache, "%s/cache/s-t01000-2", f->store);
  snprintf(moved, sizeof moved, "%s.away", cache);
  assert_int_equal(rename(cache, moved), 0);
  assert_int_equal(post(f, d, 1, NULL), 1);
  log = read_log();
  char want[900];
  snprintf(want, sizeof want,
           "\tERROR\tstorageminer\twhen running wdpost for partition 0, got err could not read from path=\"%s/p_aux\"",
           cache);
  assert_non_null(strstr(log, want));
  assert_non_null(strstr(log, ", \"skipped\": 1}\n"));
  free(log);
  nf_assert_rpc(f, "StateMinerFaults", "[\"t01000\", []]", "[2,1]");
  assert_int_equal(nf_power(f), 2048);

  /* still gone: nothing to declare */
  st_wdpost_cfg cfg;
  nf_wdpost_cfg(f, &cfg);
  st_deadline_info di;
  nf_next_instance(f, d, &di);
  while (nf_height(f) >= di.fault_cutoff) { /* the instance after the one under way */
    nf_mine_next(f);
    nf_next_instance(f, d, &di);
  }
  uint64_t declared = 9;
  st_cid cid;
  assert_int_equal(st_wdpost_recover(&cfg, &di, nf_height(f), &declared, &cid, &err), ST_OK);
  assert_int_equal(declared, 0);
  /* back: declared before the cutoff, recovered by the next post */
  assert_int_equal(rename(moved, cache), 0);
  assert_int_equal(st_wdpost_recover(&cfg, &di, nf_height(f), &declared, &cid, &err), ST_OK);
  assert_int_equal(declared, 1);
  assert_int_equal(nf_landed(f, &cid), 0);
  nf_assert_rpc(f, "StateMinerRecoveries", "[\"t01000\", []]", "[2,1]");
  /* declared already: nothing more to send */
  assert_int_equal(st_wdpost_recover(&cfg, &di, nf_height(f), &declared, &cid, &err), ST_OK);
  assert_int_equal(declared, 0);
  assert_int_equal(post(f, d, 2, NULL), 0);
  nf_assert_rpc(f, "StateMinerFaults", "[\"t01000\", []]", "[0]");
  assert_int_equal(nf_power(f), 4096);

  /* gone again, seen before its deadline: declared faulty at once (Lotus's checkNextFaults), so
   * no proof tries it; once back, recovered */
  nf_next_instance(f, d, &di);
  while (nf_height(f) >= di.fault_cutoff) {
    nf_mine_next(f);
    nf_next_instance(f, d, &di);
  }
  assert_int_equal(rename(cache, moved), 0);
  assert_int_equal(st_wdpost_declare_faults(&cfg, &di, nf_height(f), &declared, &cid, &err), ST_OK);
  assert_int_equal(declared, 1);
  assert_int_equal(nf_landed(f, &cid), 0);
  nf_assert_rpc(f, "StateMinerFaults", "[\"t01000\", []]", "[2,1]");
  assert_int_equal(st_wdpost_declare_faults(&cfg, &di, nf_height(f), &declared, &cid, &err), ST_OK);
  assert_int_equal(declared, 0); /* faulty already */
  assert_int_equal(rename(moved, cache), 0);
  assert_int_equal(st_wdpost_recover(&cfg, &di, nf_height(f), &declared, &cid, &err), ST_OK);
  assert_int_equal(declared, 1);
  assert_int_equal(nf_landed(f, &cid), 0);
  assert_int_equal(post(f, d, 2, NULL), 0);
  nf_assert_rpc(f, "StateMinerFaults", "[\"t01000\", []]", "[0]");

  /* refusals: a recovery past FaultCutoff, a submission past Close or on other randomness */
  nf_next_instance(f, d, &di);
  assert_int_equal(st_wdpost_recover(&cfg, &di, di.fault_cutoff, &declared, &cid, &err), ST_ERANGE);
  tu_assert_err_contains(&err, "FaultCutoff");
  assert_int_equal(declared, 0);
  /* the epoch before it too: a message sent then lands at FaultCutoff at the earliest */
  assert_int_equal(st_wdpost_declare_faults(&cfg, &di, di.fault_cutoff - 1, &declared, &cid, &err), ST_ERANGE);
  tu_assert_err_contains(&err, "is passed or next");
  assert_int_equal(declared, 0);
  tu_assert_zeroed(&cid, sizeof cid); /* not the last recovery's */
  nf_mine_to(f, di.challenge + 1);
  st_wdpost_batch b;
  st_wdpost_batch_init(&b);
  assert_int_equal(st_wdpost_prove(&cfg, &di, nf_height(f), NULL, &b, &err), ST_OK);
  tu_poison(&cid, sizeof cid);
  assert_int_equal(st_wdpost_submit(&cfg, &b, di.close - 1, &cid, &err), ST_ERANGE);
  tu_assert_err_contains(&err, "too late to send its proofs");
  tu_assert_zeroed(&cid, sizeof cid);
  b.rand[0] ^= 1;
  assert_int_equal(st_wdpost_submit(&cfg, &b, nf_height(f), &cid, &err), ST_ECONFLICT);
  tu_assert_err_contains(&err, "the chain changed below deadline");
  /* a failed proof leaves the batch empty, not the last one */
  assert_int_equal(b.nmsgs, 1);
  di.index = 1000;
  assert_int_not_equal(st_wdpost_prove(&cfg, &di, nf_height(f), NULL, &b, &err), ST_OK);
  assert_int_equal(b.nmsgs, 0);
  assert_null(b.msgs);
  assert_int_equal(b.partitions, 0);
  st_wdpost_batch_free(&b);
}

static void check_sectors(nodefx *f, uint64_t d, bool slow, const char *bad2) {
  st_wdpost_cfg cfg;
  nf_wdpost_cfg(f, &cfg);
  st_wdpost_check *v;
  size_t n;
  st_err err;
  if (st_wdpost_check_deadline(&cfg, d, slow, &v, &n, &err)) fail_msg("check: %s", err.msg);
  assert_int_equal(n, 2);
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(v[i].partition, 0);
    assert_int_equal(v[i].sector, i + 1);
    assert_non_null(strstr(v[i].paths.cache, f->store));
  }
  if (!v[0].good) fail_msg("sector 1: %s", v[0].error);
  if (!bad2 && !v[1].good) fail_msg("sector 2: %s", v[1].error);
  if (bad2 && (v[1].good || !strstr(v[1].error, bad2)))
    fail_msg("sector 2 (%s): \"%s\" lacks \"%s\"", v[1].good ? "good" : "bad", v[1].error, bad2);
  free(v);
}

/* proving check on deadline d: quick and slow, a missing folder, a replica only a proof finds
 * damaged, and a deadline that does not exist. */
static void test_check_deadline(void **state) {
  nodefx *f = *state;
  uint64_t d = nf_deadline_of(f, 1);
  check_sectors(f, d, false, NULL);
  check_sectors(f, d, true, NULL);
  char cache[700], moved[720], want[900];
  snprintf(cache, sizeof cache, "%s/cache/s-t01000-2", f->store);
  snprintf(moved, sizeof moved, "%s.away", cache);
  assert_int_equal(rename(cache, moved), 0);
  snprintf(want, sizeof want, "could not read from path=\"%s/p_aux\": No such file or directory", cache);
  check_sectors(f, d, false, want);
  check_sectors(f, d, true, want);
  assert_int_equal(rename(moved, cache), 0);
  /* every leaf of the replica changed, its size kept: only the slow check sees it */
  char sealed[700];
  snprintf(sealed, sizeof sealed, "%s/sealed/s-t01000-2", f->store);
  st_buf keep = ST_BUF_INIT, bad = ST_BUF_INIT;
  st_err err;
  assert_int_equal(st_fs_read_file(sealed, 1 << 20, &keep, &err), ST_OK);
  st_buf_append(&bad, keep.data, keep.len);
  memset(bad.data, 0x55, bad.len);
  assert_int_equal(st_fs_write_atomic(sealed, bad.data, bad.len, 0644, &err), ST_OK);
  check_sectors(f, d, false, NULL);
  check_sectors(f, d, true, "its proof does not verify: sector 2: challenge");
  assert_int_equal(st_fs_write_atomic(sealed, keep.data, keep.len, 0644, &err), ST_OK);
  st_buf_free(&keep);
  st_buf_free(&bad);
  /* an empty deadline has nothing to check; one past the last is the node's error */
  st_wdpost_cfg cfg;
  nf_wdpost_cfg(f, &cfg);
  st_wdpost_check *v;
  size_t n;
  st_deadline_info now;
  assert_int_equal(st_node_proving_deadline(f->c, NF_MINER, NULL, &now, &err), ST_OK);
  assert_int_equal(st_wdpost_check_deadline(&cfg, (d + 1) % (uint64_t)now.policy.deadlines, true, &v, &n, &err), ST_OK);
  assert_int_equal(n, 0);
  free(v);
  assert_int_not_equal(st_wdpost_check_deadline(&cfg, 1000, false, &v, &n, &err), ST_OK);
  tu_assert_err_contains(&err, "checking deadline 1000");
}

/* A deadline without partitions gives an empty batch and no log line. */
static void test_empty_deadline(void **state) {
  nodefx *f = *state;
  st_wdpost_cfg cfg;
  nf_wdpost_cfg(f, &cfg);
  st_deadline_info now;
  st_err err;
  assert_int_equal(st_node_proving_deadline(f->c, NF_MINER, NULL, &now, &err), ST_OK);
  uint64_t d = (nf_deadline_of(f, 1) + 5) % (uint64_t)now.policy.deadlines;
  st_deadline_info di;
  nf_next_instance(f, d, &di);
  st_wdpost_batch b;
  st_wdpost_batch_init(&b);
  if (st_wdpost_prove(&cfg, &di, nf_height(f), NULL, &b, &err)) fail_msg("%s", err.msg);
  if (b.nmsgs) fail_msg("deadline %llu: %zu messages, %zu partitions", (unsigned long long)d, b.nmsgs, b.partitions);
  assert_int_equal(b.partitions, 0);
  st_wdpost_batch_free(&b);
}

/* No sector of the deadline can be read: no message at all (as Lotus), so the deadline stays
 * unproven and cron faults it (the seed's "proven 0"), and the poster says why. */
static void test_nothing_readable(void **state) {
  nodefx *f = *state;
  st_wdpost_cfg cfg;
  nf_wdpost_cfg(f, &cfg);
  uint64_t d = nf_deadline_of(f, 1);
  char cache[2][700], moved[2][720];
  for (int i = 0; i < 2; i++) {
    snprintf(cache[i], sizeof cache[i], "%s/cache/s-t01000-%d", f->store, i + 1);
    snprintf(moved[i], sizeof moved[i], "%.699s.away", cache[i]);
    assert_int_equal(rename(cache[i], moved[i]), 0);
  }
  st_deadline_info di;
  nf_next_instance(f, d, &di);
  st_wdpost_batch b;
  st_wdpost_batch_init(&b);
  st_err err;
  if (st_wdpost_prove(&cfg, &di, nf_height(f), NULL, &b, &err)) fail_msg("%s", err.msg);
  assert_int_equal(b.nmsgs, 0);
  assert_int_equal(b.partitions, 0);
  assert_int_equal(b.skipped, 2);
  assert_int_equal(b.sectors, 0);
  st_wdpost_batch_free(&b);
  char *log = read_log(), want[200];
  snprintf(want, sizeof want,
           "\tWARN\tstorageminer\tno sector of deadline %llu could be read (2 skipped): nothing to submit\n",
           (unsigned long long)d);
  assert_non_null(strstr(log, want));
  free(log);
  for (int i = 0; i < 2; i++) assert_int_equal(rename(moved[i], cache[i]), 0);
}

/* The registry has no location for sector 2: it is skipped with the reason, sector 1 is still
 * proven, and the post lands (it no longer fails the whole deadline). */
static st_code locate_but_2(void *ctx, uint64_t miner, uint64_t sector, st_sector_paths *out, st_err *err) {
  if (sector == 2)
    return st_err_set(err, ST_ENOENT, "the registry has no location for sector t0%llu-2", (unsigned long long)miner);
  return nf_locate(ctx, miner, sector, out, err);
}

static void test_no_location(void **state) {
  nodefx *f = *state;
  assert_int_equal(post(f, nf_deadline_of(f, 2), 1, locate_but_2), 1);
  char *log = read_log();
  assert_non_null(strstr(log, "got err could not locate sector 2: the registry has no location for sector t01000-2"));
  free(log);
}

static int setup(void **state) {
  nf_open(&F);
  snprintf(logpath, sizeof logpath, "%s/poster.log", F.dir);
  assert_int_equal(st_log_set_file(logpath, NULL), ST_OK);
  *state = &F;
  return 0;
}

static int teardown(void **state) {
  st_log_set_file(NULL, NULL);
  nf_close(*state);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_prove_skip_recover), cmocka_unit_test(test_check_deadline),
                                     cmocka_unit_test(test_empty_deadline), cmocka_unit_test(test_nothing_readable),
                                     cmocka_unit_test(test_no_location)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
