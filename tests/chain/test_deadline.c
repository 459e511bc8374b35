/* Tests for st_deadline: every "deadlines" vector (the seed's log line among them), the cases of
 * go-state-types dline/deadline_test.go and specs-actors builtin/quantize_test.go, quantizing
 * checked against its definition, st_deadline_at, the zero-length deadline after the last,
 * the proving period offset (specs-actors miner_test.go TestConstruction: t01000 created at
 * epoch 0 gets period start -2222), and the two JSON shapes. */
#include "testutil.h"

#include <string.h>

#include "chain/st_deadline.h"
#include "core/st_json.h"

/* The policy of dline/deadline_test.go: mainnet's. */
static const st_deadline_policy MAINNET = {
    .proving_period = 2880, .challenge_window = 60, .deadlines = 48, .challenge_lookback = 20, .fault_cutoff = 70};
static const st_deadline_policy TESTNET2020 = {
    .proving_period = 3456, .challenge_window = 96, .deadlines = 36, .challenge_lookback = 20, .fault_cutoff = 20};

static int64_t get_int(const json_t *o, const char *key) {
  const json_t *v = json_object_get(o, key);
  if (!json_is_integer(v)) fail_msg("vector field \"%s\" is missing or not an integer", key);
  return json_integer_value(v);
}

static char *compact(const json_t *j) {
  st_buf b = ST_BUF_INIT;
  st_json_append(&b, j);
  return (char *)st_buf_take(&b, NULL);
}

static void test_vectors(void **state) {
  (void)state;
  json_t *all = tu_load_vectors("vectors.json");
  const json_t *vs = json_object_get(all, "deadlines");
  assert_true(json_is_array(vs));
  assert_true(json_array_size(vs) >= 2);
  size_t i;
  const json_t *v;
  json_array_foreach(vs, i, v) {
    const json_t *params = json_object_get(v, "params");
    st_deadline_policy p = {
        .proving_period = get_int(params, "proving_period"),
        .challenge_window = get_int(params, "challenge_window"),
        .deadlines = get_int(params, "deadlines"),
        .challenge_lookback = get_int(params, "challenge_lookback"),
        .fault_cutoff = get_int(params, "fault_cutoff"),
    };
    int64_t cur = get_int(v, "current_epoch"), start = get_int(v, "period_start"), index = get_int(v, "index");
    st_deadline_info d;
    st_deadline_new(&p, start, (uint64_t)index, cur, &d);
    assert_int_equal(d.current_epoch, cur);
    assert_int_equal(d.period_start, start);
    assert_int_equal(d.index, index);
    assert_int_equal(d.open, get_int(v, "open"));
    assert_int_equal(d.close, get_int(v, "close"));
    assert_int_equal(d.challenge, get_int(v, "challenge"));
    assert_int_equal(d.fault_cutoff, get_int(v, "fault_cutoff"));
    assert_memory_equal(&d.policy, &p, sizeof p);
    /* the same deadline found from the miner's offset and the epoch alone */
    st_deadline_info at;
    st_deadline_at(&p, start % p.proving_period, cur, &at);
    assert_memory_equal(&at, &d, sizeof d);
    st_deadline_at(&p, start, cur, &at); /* an offset seed past the period is reduced */
    assert_memory_equal(&at, &d, sizeof d);
    /* the seed's log form: the seven fields, in order, from the vector's own values */
    char want[512];
    snprintf(
        want, sizeof want,
        "{\"CurrentEpoch\":%lld,\"PeriodStart\":%lld,\"Index\":%lld,\"Open\":%lld,\"Close\":%lld,\"Challenge\":%lld,"
        "\"FaultCutoff\":%lld}",
        (long long)cur, (long long)start, (long long)index, (long long)get_int(v, "open"),
        (long long)get_int(v, "close"), (long long)get_int(v, "challenge"), (long long)get_int(v, "fault_cutoff"));
    json_t *j = st_deadline_info_seed_json(&d);
    char *got = compact(j);
    assert_string_equal(got, want);
    free(got);
    json_decref(j);
  }
  /* the first vector is the seed's own line */
  const json_t *seed = json_array_get(vs, 0);
  st_deadline_info d;
  st_deadline_new(&TESTNET2020, get_int(seed, "period_start"), (uint64_t)get_int(seed, "index"),
                  get_int(seed, "current_epoch"), &d);
  json_t *j = st_deadline_info_seed_json(&d);
  char *got = compact(j);
  assert_string_equal(got,
                      "{\"CurrentEpoch\":43710,\"PeriodStart\":40830,\"Index\":30,\"Open\":43710,\"Close\":43806,"
                      "\"Challenge\":43690,\"FaultCutoff\":43690}");
  free(got);
  json_decref(j);
  assert_true(st_deadline_is_open(&d)); /* CurrentEpoch == Open: it had just opened */
  assert_true(st_deadline_fault_cutoff_passed(&d));
  json_decref(all);
}

static void test_policy_of(void **state) {
  (void)state;
  st_network n;
  st_deadline_policy p;
  assert_int_equal(st_network_profile("testnet2020", &n, NULL), ST_OK);
  st_deadline_policy_of(&n, &p);
  assert_memory_equal(&p, &TESTNET2020, sizeof p);
  assert_int_equal(st_network_profile("mainnet", &n, NULL), ST_OK);
  st_deadline_policy_of(&n, &p);
  assert_memory_equal(&p, &MAINNET, sizeof p);
}

/* dline/deadline_test.go: "pre-open", "proving period boundary", "deadline boundaries", "period expired". */
static void test_predicates(void **state) {
  (void)state;
  const st_deadline_policy *p = &MAINNET;
  const int64_t PP = 2880, CW = 60, CL = 20, FDC = 70;
  st_deadline_info d, nx;

  /* pre-open */
  st_deadline_new(p, FDC + 1, 0, 0, &d);
  assert_int_equal(d.current_epoch, 0);
  assert_int_equal(d.period_start, FDC + 1);
  assert_int_equal(d.index, 0);
  assert_int_equal(d.open, FDC + 1);
  assert_int_equal(d.close, FDC + 1 + CW);
  assert_int_equal(d.challenge, FDC + 1 - CL);
  assert_int_equal(d.fault_cutoff, 1);
  assert_false(st_deadline_period_started(&d));
  assert_false(st_deadline_period_elapsed(&d));
  assert_false(st_deadline_is_open(&d));
  assert_false(st_deadline_has_elapsed(&d));
  assert_int_equal(st_deadline_last(&d), FDC + 1 + CW - 1);
  assert_false(st_deadline_fault_cutoff_passed(&d));
  assert_int_equal(st_deadline_period_end(&d), FDC + 1 + PP - 1);
  st_deadline_new(p, FDC - 1, 0, 0, &d);
  assert_true(st_deadline_fault_cutoff_passed(&d));

  /* proving period boundary */
  const int64_t ps = 50000;
  st_deadline_new(p, ps, 0, ps - 1, &d);
  assert_false(st_deadline_period_started(&d));
  assert_false(st_deadline_period_elapsed(&d));
  assert_int_equal(st_deadline_period_end(&d), ps + PP - 1);
  st_deadline_new(p, ps, 0, ps, &d);
  assert_true(st_deadline_period_started(&d));
  assert_false(st_deadline_period_elapsed(&d));
  st_deadline_new(p, ps, 47, ps + PP, &d);
  assert_true(st_deadline_period_started(&d));
  assert_true(st_deadline_period_elapsed(&d));
  assert_false(st_deadline_is_open(&d));
  assert_true(st_deadline_has_elapsed(&d));

  /* deadline boundaries */
  st_deadline_new(p, ps, 0, ps, &d);
  assert_int_equal(d.open, ps);
  assert_int_equal(d.close, ps + CW);
  assert_int_equal(d.challenge, ps - CL);
  assert_int_equal(d.fault_cutoff, ps - FDC);
  assert_true(st_deadline_is_open(&d));
  assert_false(st_deadline_has_elapsed(&d));
  assert_int_equal(st_deadline_last(&d) + 1, d.close);
  assert_true(st_deadline_fault_cutoff_passed(&d));
  st_deadline_new(p, ps, 0, ps - 1, &d); /* before deadline zero opens: the next not elapsed is itself */
  assert_false(st_deadline_is_open(&d));
  assert_false(st_deadline_has_elapsed(&d));
  assert_true(st_deadline_fault_cutoff_passed(&d));
  st_deadline_next_not_elapsed(&d, &nx);
  assert_int_equal(nx.period_start, ps);
  assert_int_equal(nx.index, 0);
  st_deadline_new(p, ps, 1, ps, &d); /* deadline one during deadline zero */
  assert_false(st_deadline_is_open(&d));
  assert_false(st_deadline_has_elapsed(&d));
  assert_true(st_deadline_fault_cutoff_passed(&d));
  st_deadline_next_not_elapsed(&d, &nx);
  assert_int_equal(nx.period_start, ps);
  assert_int_equal(nx.index, 1);
  st_deadline_new(p, ps, 0, ps + CW - 1, &d); /* last epoch of deadline zero */
  assert_true(st_deadline_is_open(&d));
  st_deadline_next_not_elapsed(&d, &nx);
  assert_int_equal(nx.period_start, ps);
  st_deadline_new(p, ps, 0, ps + CW, &d); /* deadline zero over: the next period's */
  assert_false(st_deadline_is_open(&d));
  assert_true(st_deadline_has_elapsed(&d));
  st_deadline_next_not_elapsed(&d, &nx);
  assert_int_equal(nx.period_start, ps + PP);
  assert_int_equal(nx.index, 0);
  assert_int_equal(nx.open, ps + PP);
  assert_int_equal(nx.current_epoch, ps + CW);
  st_deadline_next_not_elapsed(&d, &d); /* out may be d */
  assert_memory_equal(&d, &nx, sizeof d);
}

/* The zero-length deadline, index == deadlines: the period is over ("period expired"). */
static void test_period_over(void **state) {
  (void)state;
  st_deadline_info d;
  st_deadline_new(&MAINNET, 0, 48, 2880, &d);
  assert_int_equal(d.index, 48);
  assert_int_equal(d.open, 2880);
  assert_int_equal(d.close, 2880);
  assert_int_equal(d.challenge, 2880);
  assert_int_equal(d.fault_cutoff, 0);
  assert_true(st_deadline_period_started(&d));
  assert_true(st_deadline_period_elapsed(&d));
  assert_false(st_deadline_is_open(&d));
  assert_true(st_deadline_has_elapsed(&d));
  assert_true(st_deadline_fault_cutoff_passed(&d));
  assert_int_equal(st_deadline_period_end(&d), 2879);
  assert_int_equal(st_deadline_last(&d), 2879);
  /* the seed's network: Open = Close = Challenge = PeriodStart + 3456 */
  st_deadline_new(&TESTNET2020, 40830, 36, 43710, &d);
  assert_int_equal(d.open, 44286);
  assert_int_equal(d.close, 44286);
  assert_int_equal(d.challenge, 44286);
  assert_int_equal(d.fault_cutoff, 0);
  assert_false(st_deadline_is_open(&d)); /* zero length: never open */
  /* any index past the last is the same zero-length deadline */
  st_deadline_new(&TESTNET2020, 40830, UINT64_MAX, 43710, &d);
  assert_int_equal(d.open, 44286);
  assert_int_equal(d.fault_cutoff, 0);
}

/* dline/deadline_test.go "period start": for period starts 60, PP + 60, 5 PP + 60 and 60 - PP,
 * NextNotElapsed is the first instance, stepping a period at a time, that has not elapsed. Go
 * runs it for the zero-length deadline; here also for real ones. */
static void test_next_not_elapsed(void **state) {
  (void)state;
  const st_deadline_policy *p = &MAINNET;
  const int64_t PP = 2880;
  const int64_t starts[] = {60, PP + 60, 5 * PP + 60, 60 - PP};
  const uint64_t indexes[] = {48, 0, 17, 47};
  for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++)
    for (size_t k = 0; k < sizeof indexes / sizeof indexes[0]; k++)
      for (int64_t cur = -99999; cur < 99999; cur += (indexes[k] == 48 ? 1 : 7)) {
        st_deadline_info d, got, want;
        st_deadline_new(p, starts[s], indexes[k], cur, &d);
        st_deadline_next_not_elapsed(&d, &got);
        want = d;
        while (st_deadline_has_elapsed(&want)) st_deadline_new(p, want.period_start + PP, indexes[k], cur, &want);
        if (memcmp(&got, &want, sizeof got))
          fail_msg("start %lld index %llu epoch %lld: period start %lld, want %lld", (long long)starts[s],
                   (unsigned long long)indexes[k], (long long)cur, (long long)got.period_start,
                   (long long)want.period_start);
      }
  /* the seed's deadline 30, looked at a day later, is the next period's */
  st_deadline_info d, nx;
  st_deadline_new(&TESTNET2020, 40830, 30, 43710 + 3456, &d);
  st_deadline_next_not_elapsed(&d, &nx);
  assert_int_equal(nx.period_start, 40830 + 3456);
  assert_int_equal(nx.open, 43710 + 3456);
  assert_true(st_deadline_is_open(&nx));
}

static void test_quantize(void **state) {
  (void)state;
  /* specs-actors builtin/quantize_test.go */
  assert_int_equal(st_quantize_up(0, 1, 0), 0);
  assert_int_equal(st_quantize_up(123456789, 1, 0), 123456789);
  assert_int_equal(st_quantize_up(42, 10, 0), 50);
  assert_int_equal(st_quantize_up(16000, 100, 0), 16000);
  assert_int_equal(st_quantize_up(-5, 10, 0), 0);
  assert_int_equal(st_quantize_up(-50, 10, 0), -50);
  assert_int_equal(st_quantize_up(-53, 10, 0), -50);
  assert_int_equal(st_quantize_up(4, 5, 1), 6);
  assert_int_equal(st_quantize_up(0, 5, 1), 1);
  assert_int_equal(st_quantize_up(-6, 5, 1), -4);
  assert_int_equal(st_quantize_up(2, 10, 4), 4);
  assert_int_equal(st_quantize_up(9, 5, 28), 13);
  assert_int_equal(st_quantize_up(10000, 100, 2000000), 10000);
  assert_int_equal(st_quantize_down(1337, 1, 0), 1337);
  assert_int_equal(st_quantize_down(6666, 10, 0), 6660);
  assert_int_equal(st_quantize_down(50, 10, 0), 50);
  assert_int_equal(st_quantize_down(59, 10, 0), 50);
  assert_int_equal(st_quantize_down(20, 10, 1), 11);
  assert_int_equal(st_quantize_down(11, 10, 1), 11);
  /* negative offsets: offset mod unit truncates in Go (-1 mod 5 = -1), the grid is the same */
  assert_int_equal(st_quantize_up(4, 5, -1), 4);
  assert_int_equal(st_quantize_up(5, 5, -1), 9);
  assert_int_equal(st_quantize_up(-3, 5, -1), -1);
  assert_int_equal(st_quantize_up(-7, 5, -1), -6);
  assert_int_equal(st_quantize_down(-3, 5, -1), -6);
  assert_int_equal(st_quantize_down(3, 5, -1), -1);
  assert_int_equal(st_quantize_down(0, 2880, -2222), -2222);
  /* against the definition: the grid point at or above (up), at or below (down) */
  for (int64_t unit = 1; unit <= 12; unit++)
    for (int64_t off = -30; off <= 30; off++)
      for (int64_t e = -60; e <= 60; e++) {
        int64_t up = st_quantize_up(e, unit, off), down = st_quantize_down(e, unit, off);
        int64_t m = ((off % unit) + unit) % unit;
        if (((up % unit) + unit) % unit != m || up < e || up - unit >= e || ((down % unit) + unit) % unit != m ||
            down > e || down + unit <= e)
          fail_msg("unit %lld offset %lld epoch %lld: up %lld, down %lld", (long long)unit, (long long)off,
                   (long long)e, (long long)up, (long long)down);
      }
}

static void test_deadline_at(void **state) {
  (void)state;
  st_deadline_info d;
  /* the seed's miner: offset 40830 mod 3456 = 2814 */
  st_deadline_at(&TESTNET2020, 2814, 43710, &d);
  assert_int_equal(d.period_start, 40830);
  assert_int_equal(d.index, 30);
  assert_int_equal(d.open, 43710);
  st_deadline_at(&TESTNET2020, 2814, 43709, &d); /* the epoch before: deadline 29 */
  assert_int_equal(d.index, 29);
  assert_true(st_deadline_is_open(&d));
  st_deadline_at(&TESTNET2020, 2814, 40830 + 3456 - 1, &d); /* the last epoch of the period */
  assert_int_equal(d.period_start, 40830);
  assert_int_equal(d.index, 35);
  st_deadline_at(&TESTNET2020, 2814, 40830 + 3456, &d); /* the next period */
  assert_int_equal(d.period_start, 40830 + 3456);
  assert_int_equal(d.index, 0);
  /* before the first whole period: the period started before epoch 0 */
  st_deadline_at(&TESTNET2020, 2814, 100, &d);
  assert_int_equal(d.period_start, 2814 - 3456);
  assert_int_equal(d.index, (100 - (2814 - 3456)) / 96);
  assert_true(st_deadline_is_open(&d));
  /* specs-actors TestConstruction: period start -2222 at epoch 0 on mainnet, deadline 37 */
  st_deadline_at(&MAINNET, 658, 0, &d);
  assert_int_equal(d.period_start, -2222);
  assert_int_equal(d.index, 37);
  assert_int_equal(d.open, -2222 + 37 * 60);
  /* every epoch of two periods lies in the deadline st_deadline_at names */
  for (int64_t cur = 0; cur < 2 * 3456; cur++) {
    st_deadline_at(&TESTNET2020, 2814, cur, &d);
    if (!st_deadline_is_open(&d) || d.index >= 36 || d.period_start > cur || cur - d.period_start >= 3456)
      fail_msg("epoch %lld: deadline %llu of the period at %lld", (long long)cur, (unsigned long long)d.index,
               (long long)d.period_start);
  }
}

static void test_proving_period_offset(void **state) {
  (void)state;
  st_address a;
  assert_int_equal(st_address_from_id(1000, &a, NULL), ST_OK);
  /* specs-actors miner_test.go TestConstruction: t01000 at epoch 0, period 2880, starts at
   * -2222, i.e. offset 658 */
  assert_int_equal(st_proving_period_offset(&a, 0, 2880), 658);
  assert_int_equal(st_quantize_down(0, 2880, 658), -2222);
  /* the same seed, 43 00e807 || 00 x 8, for the 2020 period (checked with Python's hashlib) */
  int64_t o = st_proving_period_offset(&a, 0, 3456);
  assert_int_equal(o, 2386);
  assert_int_equal(st_proving_period_offset(&a, -1, 3456), 1876); /* BE_i64(-1) = ff x 8 */
  assert_int_equal(st_proving_period_offset(&a, 40000, 3456), 113);
  /* determinism and range, over miners and epochs */
  int differ = 0;
  for (uint64_t id = 1000; id < 1100; id++)
    for (int64_t epoch = -3; epoch < 400; epoch += 37) {
      assert_int_equal(st_address_from_id(id, &a, NULL), ST_OK);
      int64_t x = st_proving_period_offset(&a, epoch, 3456);
      assert_true(x >= 0 && x < 3456);
      assert_int_equal(x, st_proving_period_offset(&a, epoch, 3456));
      assert_true(st_proving_period_offset(&a, epoch, 1) == 0);
      differ += x != o;
    }
  assert_true(differ > 1000); /* the offsets spread: nearly all differ from t01000's */
  /* a different epoch changes the seed */
  assert_int_equal(st_address_from_id(1000, &a, NULL), ST_OK);
  int same = 0;
  for (int64_t epoch = 1; epoch <= 50; epoch++) same += st_proving_period_offset(&a, epoch, 2880) == 658;
  assert_true(same < 5);
}

static void test_json(void **state) {
  (void)state;
  st_deadline_info d;
  st_deadline_new(&TESTNET2020, 40830, 30, 43710, &d);
  json_t *j = st_deadline_info_to_json(&d);
  assert_int_equal(json_object_size(j), 12);
  char *got = compact(j);
  assert_string_equal(
      got,
      "{\"CurrentEpoch\":43710,\"PeriodStart\":40830,\"Index\":30,\"Open\":43710,\"Close\":43806,\"Challenge\":43690,"
      "\"FaultCutoff\":43690,\"WPoStPeriodDeadlines\":36,\"WPoStProvingPeriod\":3456,\"WPoStChallengeWindow\":96,"
      "\"WPoStChallengeLookback\":20,\"FaultDeclarationCutoff\":20}");
  free(got);
  json_decref(j);
  j = st_deadline_info_seed_json(&d);
  assert_int_equal(json_object_size(j), 7);
  json_decref(j);
  /* negative epochs stay numbers; an index past 2^63 - 1 becomes a decimal string */
  st_deadline_new(&MAINNET, -2222, UINT64_MAX, 0, &d);
  j = st_deadline_info_to_json(&d);
  assert_int_equal(json_integer_value(json_object_get(j, "PeriodStart")), -2222);
  assert_int_equal(json_integer_value(json_object_get(j, "Open")), 658);
  assert_string_equal(json_string_value(json_object_get(j, "Index")), "18446744073709551615");
  json_decref(j);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vectors),
      cmocka_unit_test(test_policy_of),
      cmocka_unit_test(test_predicates),
      cmocka_unit_test(test_period_over),
      cmocka_unit_test(test_next_not_elapsed),
      cmocka_unit_test(test_quantize),
      cmocka_unit_test(test_deadline_at),
      cmocka_unit_test(test_proving_period_offset),
      cmocka_unit_test(test_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
