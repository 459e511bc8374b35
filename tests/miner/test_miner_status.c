/* st_miner_status against the in-process daemon of tests/nodefx.c: a miner of two sectors with
 * one of them faulty reads as the node's answers say, with the figures `info` derives (committed,
 * proving and faulty bytes, the expected wins a day); with the node away it fails on its first
 * call and its numbers are 0. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "chain/st_wincount.h"
#include "miner/st_miner_status.h"
#include "nodefx.h"

static void test_status(void **state) {
  nodefx *f = *state;
  uint64_t d = nf_miner_with_sectors(f, 2);
  char cache[700], moved[720];
  snprintf(cache, sizeof cache, "%s/cache/s-t01000-2", f->store);
  snprintf(moved, sizeof moved, "%s/away", f->dir);
  assert_int_equal(rename(cache, moved), 0);
  assert_int_equal(nf_post_deadline(f, d), 1); /* sector 2 skipped: faulty */
  assert_int_equal(rename(moved, cache), 0);
  st_miner_config cfg = {.miner = NF_MINER, .owner = f->account, .worker = f->account, .info = nf_info2k()};
  st_miner_status s;
  st_miner_status_init(&s);
  st_err err;
  if (st_miner_status_read(f->c, &cfg, &s, &err)) fail_msg("%s", err.msg);
  assert_int_equal(s.counts.live, 2);
  assert_int_equal(s.counts.faulty, 1);
  assert_int_equal(mpz_get_ui(s.committed), 4096);
  assert_int_equal(mpz_get_ui(s.faulty), 2048);
  assert_int_equal(mpz_get_ui(s.proving), 2048);
  assert_int_equal(mpz_get_ui(s.power.raw), 2048);
  assert_int_equal(mpz_cmp(s.power.qa, s.power.total_qa), 0); /* the only miner */
  assert_int_equal(s.net.block_delay, st_chain_network(f->chain)->block_delay);
  double want = (double)ST_BLOCKS_PER_EPOCH * 86400.0 / (double)s.net.block_delay;
  assert_true(s.wins_per_day > want * 0.999999 && s.wins_per_day < want * 1.000001);
  assert_true(mpz_sgn(s.funds.balance) > 0);
  assert_true(mpz_sgn(s.worker) > 0);
  assert_int_equal(mpz_sgn(s.escrow), 0);
  assert_int_equal(mpz_sgn(s.locked), 0);
  json_t *av = nf_rpc(f, "StateMinerAvailableBalance", "[\"t01000\", []]");
  char *text = mpz_get_str(NULL, 10, s.available);
  assert_string_equal(text, json_string_value(av));
  free(text);
  json_decref(av);

  /* read again into the same status: replaced; then with the node away: zeros */
  if (st_miner_status_read(f->c, &cfg, &s, &err)) fail_msg("%s", err.msg);
  assert_int_equal(mpz_get_ui(s.committed), 4096);
  st_rpc_client *c = nf_dead_client();
  assert_int_equal(st_miner_status_read(c, &cfg, &s, &err), ST_EUNAVAIL);
  tu_assert_err_contains(&err, "StateMinerPower: ");
  assert_int_equal(mpz_sgn(s.committed), 0);
  assert_int_equal(mpz_sgn(s.funds.balance), 0);
  assert_int_equal(s.counts.live, 0);
  assert_true(s.wins_per_day == 0);
  st_rpc_client_close(c);
  st_miner_status_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_status)};
  return cmocka_run_group_tests(tests, nf_group_setup, nf_group_teardown);
}
