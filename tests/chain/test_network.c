/* Tests for st_network: the three profiles (the seed's testnet reproduces its deadline line),
 * overrides by flag name, the consistency checks, and the JSON form round trip. */
#include "testutil.h"

#include <string.h>

#include "chain/st_network.h"

static void test_profiles(void **state) {
  (void)state;
  st_network n;
  st_err err;
  assert_int_equal(st_network_profile("devnet", &n, &err), ST_OK);
  assert_int_equal(n.block_delay, 1);
  assert_int_equal(n.proving_period, 240);
  assert_int_equal(n.deadlines * n.challenge_window, 240);
  assert_int_equal(st_network_check(&n, &err), ST_OK);
  /* the seed's network: Open 43710 = PeriodStart 40830 + 30 x 96, Challenge and FaultCutoff 20 before */
  assert_int_equal(st_network_profile("testnet2020", &n, &err), ST_OK);
  assert_int_equal(40830 + 30 * n.challenge_window, 43710);
  assert_int_equal(43710 - n.challenge_lookback, 43690);
  assert_int_equal(43710 - n.fault_cutoff, 43690);
  assert_int_equal(n.deadlines, 36);
  assert_int_equal(n.block_delay, 25);
  assert_int_equal(st_network_check(&n, &err), ST_OK);
  assert_int_equal(st_network_profile("mainnet", &n, &err), ST_OK);
  assert_int_equal(n.fault_cutoff, 70);
  assert_int_equal(n.burn_base_fee, 1);
  assert_int_equal(st_network_check(&n, &err), ST_OK);
  assert_int_equal(st_network_profile("calibnet", &n, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "network \"calibnet\" is not one of devnet, testnet2020, mainnet");
}

static void test_overrides(void **state) {
  (void)state;
  st_network n;
  st_err err;
  assert_int_equal(st_network_profile("devnet", &n, &err), ST_OK);
  assert_int_equal(st_network_set(&n, "block-delay", "4", &err), ST_OK);
  assert_int_equal(n.block_delay, 4);
  assert_int_equal(st_network_set(&n, "block-delay", "0", &err), ST_EINVAL);
  tu_assert_err_contains(&err, "--block-delay 0 is outside [1, 2^63)");
  assert_int_equal(st_network_set(&n, "block-delay", "-3", &err), ST_EINVAL);
  assert_int_equal(st_network_set(&n, "warp-speed", "9", &err), ST_EINVAL);
  tu_assert_err_contains(&err, "no network parameter \"warp-speed\"");
  assert_int_equal(st_network_set(&n, "deadlines", "10", &err), ST_OK);
  assert_int_equal(st_network_check(&n, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "deadlines (10) x challenge-window (20) must equal proving-period (240)");
  assert_int_equal(st_network_set(&n, "proving-period", "200", &err), ST_OK);
  assert_int_equal(st_network_check(&n, &err), ST_OK);
}

static void test_json(void **state) {
  (void)state;
  st_network n, back;
  st_err err;
  assert_int_equal(st_network_profile("testnet2020", &n, &err), ST_OK);
  json_t *j = st_network_to_json(&n);
  assert_int_equal(json_object_size(j), ST_NETWORK_NPARAMS + 1);
  assert_int_equal(st_network_from_json(j, &back, &err), ST_OK);
  assert_memory_equal(&n, &back, sizeof n);
  json_object_set_new(j, "block_delay", json_string("25"));
  assert_int_equal(st_network_from_json(j, &back, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "network parameter \"block_delay\" must be an integer");
  json_object_set_new(j, "block_delay", json_integer(25));
  json_object_del(j, "fault_cutoff");
  assert_int_equal(st_network_from_json(j, &back, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "network parameter \"fault_cutoff\" is missing");
  json_object_set_new(j, "fault_cutoff", json_integer(20));
  json_object_set_new(j, "colour", json_integer(1));
  assert_int_equal(st_network_from_json(j, &back, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "unknown network parameter \"colour\"");
  json_decref(j);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_profiles), cmocka_unit_test(test_overrides),
                                     cmocka_unit_test(test_json)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
