/* Tests for st_genesis: --account parsing, the file round trip, refusals that name the field,
 * and the genesis state (built-in actors, accounts from t0100, the reward pool). */
#include "testutil.h"

#include <string.h>

#include "chain/st_genesis.h"

#define A1 "t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq"
#define A2 "t24vg6ut43yw2h2jqydgbg2xq7x6f4kub3bg6as6i"

static void test_accounts(void **state) {
  (void)state;
  st_genesis g;
  st_genesis_init(&g);
  st_err err;
  assert_int_equal(st_genesis_add_account(&g, A1 "=1000.5", &err), ST_OK);
  char *s = mpz_get_str(NULL, 10, g.accounts[0].balance);
  assert_string_equal(s, "1000500000000000000000");
  free(s);
  assert_int_equal(st_genesis_add_account(&g, A1 "=1", &err), ST_EEXIST);
  tu_assert_err_contains(&err, "is listed twice");
  assert_int_equal(st_genesis_add_account(&g, A2 "=1", &err), ST_EINVAL);
  tu_assert_err_contains(&err, "must be a key address");
  assert_int_equal(st_genesis_add_account(&g, A1, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "is not ADDR=FIL");
  assert_int_equal(st_genesis_add_account(&g, "t3xyz=1", &err), ST_EINVAL);
  st_genesis_clear(&g);
}

static void test_file_and_state(void **state) {
  (void)state;
  char dir[256], path[300];
  tu_tmpdir(dir);
  snprintf(path, sizeof path, "%s/genesis.json", dir);
  st_genesis g, back;
  st_genesis_init(&g);
  st_genesis_init(&back);
  st_err err;
  assert_int_equal(st_network_profile("devnet", &g.network, &err), ST_OK);
  g.timestamp = 1764032400;
  mpz_set_str(g.reward_pool, "1000000000000000000000000", 10);
  assert_int_equal(st_genesis_add_account(&g, A1 "=1000", &err), ST_OK);
  uint8_t beacon_sk[32];
  /* a genesis without a beacon key is refused, naming the field */
  assert_int_equal(st_genesis_write(&g, path, &err), ST_OK);
  assert_int_equal(st_genesis_read(path, &back, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "genesis \"beacon\" must be the beacon's secp256k1 public key in hex");
  assert_int_equal(st_genesis_new_beacon(&g, beacon_sk, &err), ST_OK);
  assert_int_equal(st_genesis_write(&g, path, &err), ST_OK);
  assert_int_equal(st_genesis_read(path, &back, &err), ST_OK);
  assert_memory_equal(back.beacon_pub, g.beacon_pub, sizeof g.beacon_pub);
  assert_int_equal(back.timestamp, g.timestamp);
  assert_int_equal(back.naccounts, 1);
  assert_int_equal(mpz_cmp(back.accounts[0].balance, g.accounts[0].balance), 0);
  assert_memory_equal(&back.network, &g.network, sizeof g.network);

  st_state s1, s2;
  st_state_init(&s1);
  st_state_init(&s2);
  assert_int_equal(st_genesis_state(&g, &s1, &err), ST_OK);
  assert_int_equal(st_genesis_state(&back, &s2, &err), ST_OK);
  st_buf b1 = ST_BUF_INIT, b2 = ST_BUF_INIT;
  st_cid r1, r2;
  st_state_root(&s1, &b1, &r1);
  st_state_root(&s2, &b2, &r2);
  assert_true(st_cid_equal(&r1, &r2));
  st_state_actor *a = st_state_get(&s1, 100);
  assert_non_null(a);
  assert_int_equal(a->kind, ST_ACTOR_ACCOUNT);
  assert_int_equal(mpz_cmp(a->balance, g.accounts[0].balance), 0);
  assert_int_equal(mpz_cmp(st_state_get(&s1, ST_ID_REWARD)->balance, g.reward_pool), 0);
  assert_non_null(st_state_get(&s1, ST_ID_BURNT));
  assert_int_equal(st_state_get(&s1, ST_ID_SYSTEM)->kind, ST_ACTOR_SYSTEM); /* id 0 is the system actor's */
  assert_null(st_state_get(&s1, ST_ID_FIRST_NEW));
  assert_int_equal(s1.next_id, ST_ID_FIRST_NEW);
  st_buf_free(&b1);
  st_buf_free(&b2);
  st_state_clear(&s1);
  st_state_clear(&s2);

  /* a damaged file is refused with the field named */
  FILE *f = fopen(path, "w");
  fputs("{\"version\":1,\"network\":{\"name\":\"devnet\"},\"timestamp\":1,\"reward_pool\":\"0\",\"accounts\":[]}", f);
  fclose(f);
  assert_int_equal(st_genesis_read(path, &back, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "genesis \"network\": network parameter \"block_delay\" is missing");
  f = fopen(path, "w");
  fputs("{\"version\":1,", f);
  fclose(f);
  assert_int_equal(st_genesis_read(path, &back, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "malformed JSON at line 1");
  assert_int_equal(back.naccounts, 0); /* a failed read leaves the genesis empty (st_err.h) */
  assert_int_equal(st_genesis_read("/nonexistent/genesis.json", &g, &err), ST_ENOENT);
  assert_int_equal(g.naccounts, 0);
  st_genesis_clear(&g);
  st_genesis_clear(&back);
  tu_rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_accounts), cmocka_unit_test(test_file_and_state)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
