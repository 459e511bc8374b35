/* Tests for st_wincount: every golden file of lotus chain/types/testdata (tests/vectors/poisson),
 * rebuilt byte for byte the way electionproof_test.go writes it; ComputeWinCount on fixed
 * proofs (values from an independent Python transcription of electionproof.go that reproduces
 * the same golden files), the edge cases, the cap, and the mean win count over many proofs. */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/st_wincount.h"

#define GOLDEN_DIR ST_VECTORS_DIR "/poisson"

/* The library does not link libm, so neither does this test: constants from Python's math module. */
#define E_MINUS_1 0.36787944117144233  /* exp(-1) */
#define E_MINUS_2_5 0.0820849986238988 /* exp(-2.5) */
#define E_MINUS_5 0.006737946999085467 /* exp(-5) */
static double absd(double x) { return x < 0 ? -x : x; }

static char *golden(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", GOLDEN_DIR, name);
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  st_buf b = ST_BUF_INIT;
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) st_buf_append(&b, chunk, n);
  fclose(f);
  return (char *)st_buf_take(&b, NULL);
}

static void put_mpz(st_buf *b, const mpz_t v) {
  char *s = mpz_get_str(NULL, 10, v);
  st_buf_puts(b, s);
  free(s);
}

/* TestExpFunction: x from 0 in steps of (5 << 256) / 255, 256 lines "x,y" after "x, y". */
static void check_exp(const char *name) {
  char *want = golden(name);
  mpz_t x, y, step;
  mpz_inits(x, y, step, NULL);
  mpz_set_ui(step, 5);
  mpz_mul_2exp(step, step, 256);
  mpz_fdiv_q_ui(step, step, 255);
  st_buf got = ST_BUF_INIT;
  st_buf_puts(&got, "x, y\n");
  for (int i = 0; i < 256; i++) {
    st_wincount_expneg(x, y);
    put_mpz(&got, x);
    st_buf_putc(&got, ',');
    put_mpz(&got, y);
    st_buf_putc(&got, '\n');
    mpz_add(x, x, step);
  }
  assert_string_equal(st_buf_cstr(&got), want);
  /* and line by line from the file's own x values */
  int lines = 0;
  char *save = NULL;
  for (char *line = strtok_r(strchr(want, '\n') + 1, "\n", &save); line; line = strtok_r(NULL, "\n", &save), lines++) {
    char *comma = strchr(line, ',');
    assert_non_null(comma);
    *comma = '\0';
    assert_int_equal(mpz_set_str(x, line, 10), 0);
    st_wincount_expneg(x, y);
    char *s = mpz_get_str(NULL, 10, y);
    assert_string_equal(s, comma + 1);
    free(s);
  }
  assert_int_equal(lines, 256);
  st_buf_free(&got);
  mpz_clears(x, y, step, NULL);
  free(want);
}

/* TestLambdaFunction__P-T: lambda(P, T), no newline. */
static void check_lambda(const char *name) {
  char *want = golden(name);
  char p[64], t[64];
  assert_int_equal(sscanf(name, "TestLambdaFunction__%63[0-9]-%63[0-9].golden", p, t), 2);
  mpz_t power, total, lam;
  mpz_inits(power, total, lam, NULL);
  assert_int_equal(mpz_set_str(power, p, 10), 0);
  assert_int_equal(mpz_set_str(total, t, 10), 0);
  st_wincount_lambda(power, total, lam);
  char *s = mpz_get_str(NULL, 10, lam);
  assert_string_equal(s, want);
  free(s);
  /* the test's target: lambda = 5 x P / T as a double */
  assert_true(absd(mpz_get_d(lam) / 0x1p256 - 5.0 * atof(p) / atof(t)) < 1e-12);
  mpz_clears(power, total, lam, NULL);
  free(want);
}

/* TestPoissonFunction__lam-B-S: lambda = B << (256 - S); "icdf", then the icdf from init and the
 * next 15. */
static void check_poisson(const char *name) {
  char *want = golden(name);
  unsigned long base, shift;
  assert_int_equal(sscanf(name, "TestPoissonFunction__lam-%lu-%lu.golden", &base, &shift), 2);
  assert_true(shift <= 256);
  mpz_t lam;
  mpz_init_set_ui(lam, base);
  mpz_mul_2exp(lam, lam, 256 - shift);
  st_poisson p;
  st_poisson_init(&p, lam);
  st_buf got = ST_BUF_INIT;
  st_buf_puts(&got, "icdf\n");
  put_mpz(&got, p.icdf);
  st_buf_putc(&got, '\n');
  for (int i = 0; i < 15; i++) {
    st_poisson_next(&p);
    put_mpz(&got, p.icdf);
    st_buf_putc(&got, '\n');
  }
  assert_int_equal(p.k, 15);
  assert_string_equal(st_buf_cstr(&got), want);
  st_poisson_clear(&p);
  mpz_clear(lam);
  st_buf_free(&got);
  free(want);
}

static void test_golden_files(void **state) {
  (void)state;
  DIR *dir = opendir(GOLDEN_DIR);
  assert_non_null(dir);
  int exp = 0, lambda = 0, poisson = 0;
  struct dirent *e;
  while ((e = readdir(dir))) {
    const char *n = e->d_name;
    if (n[0] == '.') continue;
    if (!strcmp(n, "TestExpFunction.golden")) check_exp(n), exp++;
    else if (!strncmp(n, "TestLambdaFunction__", 20)) check_lambda(n), lambda++;
    else if (!strncmp(n, "TestPoissonFunction__lam-", 25)) check_poisson(n), poisson++;
    else fail_msg("unexpected file %s in %s", n, GOLDEN_DIR);
  }
  closedir(dir);
  /* lotus's electionproof_test.go: one exp table, three lambdas, seven Poisson rates */
  assert_int_equal(exp, 1);
  assert_int_equal(lambda, 3);
  assert_int_equal(poisson, 7);
}

static void test_expneg(void **state) {
  (void)state;
  mpz_t x, y;
  mpz_inits(x, y, NULL);
  st_wincount_expneg(x, y); /* e^0 = 1 exactly */
  assert_int_equal(mpz_sizeinbase(y, 2), 257);
  assert_int_equal(mpz_scan1(y, 0), 256);
  /* far outside the approximation's range the numerator goes negative: Go's floor-rounding
   * shifts and Euclidean division give this value, truncation would not */
  mpz_set_ui(x, 50);
  mpz_mul_2exp(x, x, 256);
  st_wincount_expneg(x, y);
  char *s = mpz_get_str(NULL, 10, y);
  assert_string_equal(s, "-58060357881828531844487348262182581510744846906981217951805166369972614");
  free(s);
  mpz_clears(x, y, NULL);
}

static int64_t wc(const void *proof, size_t len, unsigned long power, unsigned long total) {
  mpz_t p, t;
  mpz_init_set_ui(p, power);
  mpz_init_set_ui(t, total);
  int64_t j = st_wincount(proof, len, p, t);
  mpz_clears(p, t, NULL);
  return j;
}

static void be64(uint64_t v, uint8_t out[8]) {
  for (int i = 0; i < 8; i++) out[i] = (uint8_t)(v >> (56 - 8 * i));
}

static void test_wincount_fixed(void **state) {
  (void)state;
  uint8_t proof[8];
  /* a proof whose blake2b-256 starts 0000254f...: tiny h, many wins; power = total reaches the cap */
  be64(101173, proof);
  assert_int_equal(wc(proof, 8, 1, 2), 13);
  assert_int_equal(wc(proof, 8, 1, 1), ST_MAX_WIN_COUNT);
  assert_int_equal(wc(proof, 8, 20, 100), 8);
  assert_int_equal(wc(proof, 8, 1, 1000), 2);
  /* a proof whose hash starts ff6ce27b: above every icdf */
  be64(104, proof);
  assert_int_equal(wc(proof, 8, 1, 2), 0);
  assert_int_equal(wc(proof, 8, 1, 1), 0);
  /* zero power, zero total */
  be64(101173, proof);
  assert_int_equal(wc(proof, 8, 0, 100), 0);
  assert_int_equal(wc(proof, 8, 100, 0), 0);
  assert_int_equal(wc(proof, 8, 0, 0), 0);
  /* the proofs of lotus's TestWinCounts, 5 bytes little-endian of i + 1000000, at 20/100, 1/2, 1/1 */
  static const int64_t want[8][3] = {{1, 2, 5}, {1, 3, 6}, {1, 3, 6},  {2, 5, 8},
                                     {3, 5, 8}, {0, 1, 3}, {5, 8, 12}, {1, 2, 5}};
  for (uint64_t i = 0; i < 8; i++) {
    uint64_t w = i + 1000000;
    uint8_t le[5] = {(uint8_t)w, (uint8_t)(w >> 8), (uint8_t)(w >> 16), (uint8_t)(w >> 24), (uint8_t)(w >> 32)};
    assert_int_equal(wc(le, 5, 20, 100), want[i][0]);
    assert_int_equal(wc(le, 5, 1, 2), want[i][1]);
    assert_int_equal(wc(le, 5, 1, 1), want[i][2]);
  }
  /* the empty proof and power above the total (lambda 50, 15): Lotus does not refuse them */
  assert_int_equal(wc("", 0, 10, 1), 15);
  assert_int_equal(wc("", 0, 1, 2), 5);
  assert_int_equal(wc("spacetime", 9, 1, 2), 3);
  assert_int_equal(wc("spacetime", 9, 1, 1000000000000000000UL), 0);
}

/* At share 1/2 (lambda 2.5) the win count is Poisson(2.5) capped at 15 (the cap removes about
 * 1e-9 of the mean); over n proofs the mean is within 5 standard deviations, sqrt(2.5 / n). */
static void test_wincount_mean(void **state) {
  (void)state;
  const int n = 20000;
  int64_t sum = 0, max = 0;
  int zeros = 0;
  for (int i = 0; i < n; i++) {
    uint8_t proof[8];
    be64((uint64_t)i, proof);
    int64_t j = wc(proof, 8, 1, 2);
    assert_true(j >= 0 && j <= ST_MAX_WIN_COUNT);
    sum += j;
    max = j > max ? j : max;
    zeros += j == 0;
  }
  /* one standard deviation of the mean, sqrt(2.5 / 20000), and of the share of zeros,
   * sqrt(e^-2.5 (1 - e^-2.5) / 20000) */
  assert_int_equal(n, 20000);
  const double sd_mean = 0.011180339887498949, sd_zeros = 0.0019409669191515517;
  double mean = (double)sum / n;
  assert_true(absd(mean - 2.5) < 5 * sd_mean);
  assert_int_equal(sum, 49492); /* the Python transcription's total for these proofs */
  assert_true(absd((double)zeros / n - E_MINUS_2_5) < 5 * sd_zeros);
  assert_true(max < ST_MAX_WIN_COUNT);
}

/* lotus's TestWinCounts: 1000000 proofs, 5 bytes little-endian of i + 1000000, at 1/5 of the
 * power: the mean is within 1% of 1. */
static void test_lotus_win_counts(void **state) {
  (void)state;
  mpz_t power, total;
  mpz_init_set_ui(power, 20);
  mpz_init_set_ui(total, 100);
  uint64_t sum = 0;
  for (uint64_t i = 0; i < 1000000; i++) {
    uint64_t w = i + 1000000;
    uint8_t proof[5] = {(uint8_t)w, (uint8_t)(w >> 8), (uint8_t)(w >> 16), (uint8_t)(w >> 24), (uint8_t)(w >> 32)};
    sum += (uint64_t)st_wincount(proof, sizeof proof, power, total);
  }
  double mean = (double)sum / 1e6;
  assert_true(mean >= 0.99 && mean <= 1.01);
  assert_int_equal(sum, 999445); /* the Python transcription's total */
  mpz_clears(power, total, NULL);
}

static void test_poisson_iterator(void **state) {
  (void)state;
  /* lambda 0: pmf(0) = 1, so every icdf is 0 */
  mpz_t lam;
  mpz_init(lam);
  st_poisson p;
  st_poisson_init(&p, lam);
  assert_int_equal(mpz_sgn(p.icdf), 0);
  st_poisson_next(&p);
  assert_int_equal(mpz_sgn(p.icdf), 0);
  st_poisson_clear(&p);
  /* lambda 1: icdf falls toward 0 and stays at or above it */
  mpz_set_ui(lam, 1);
  mpz_mul_2exp(lam, lam, 256);
  st_poisson_init(&p, lam);
  mpz_t prev;
  mpz_init_set(prev, p.icdf);
  assert_true(absd(mpz_get_d(p.icdf) / 0x1p256 - (1 - E_MINUS_1)) < 1e-15);
  for (int k = 1; k <= 40; k++) {
    st_poisson_next(&p);
    assert_true(mpz_cmp(p.icdf, prev) <= 0);
    assert_true(mpz_sgn(p.icdf) >= 0);
    mpz_set(prev, p.icdf);
  }
  st_poisson_clear(&p);
  mpz_clears(lam, prev, NULL);
}

static void test_expected_per_epoch(void **state) {
  (void)state;
  mpz_t p, t;
  mpz_inits(p, t, NULL);
  assert_true(st_wincount_expected_per_epoch(p, t) == 0);
  mpz_set_ui(p, 5);
  assert_true(st_wincount_expected_per_epoch(p, t) == 0); /* total 0 */
  mpz_set_ui(t, 10);
  assert_true(absd(st_wincount_expected_per_epoch(p, t) - (1 - E_MINUS_2_5)) < 1e-15);
  mpz_set_ui(p, 10);
  assert_true(absd(st_wincount_expected_per_epoch(p, t) - (1 - E_MINUS_5)) < 1e-15); /* 0.99326 */
  mpz_set_ui(p, 0);
  assert_true(st_wincount_expected_per_epoch(p, t) == 0);
  /* a tiny share: about 5 x share, without cancellation */
  mpz_set_ui(p, 1);
  mpz_ui_pow_ui(t, 10, 30);
  double e = st_wincount_expected_per_epoch(p, t);
  assert_true(absd(e / 5e-30 - 1) < 1e-12);
  mpz_clears(p, t, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_golden_files),       cmocka_unit_test(test_expneg),
      cmocka_unit_test(test_wincount_fixed),     cmocka_unit_test(test_wincount_mean),
      cmocka_unit_test(test_lotus_win_counts),   cmocka_unit_test(test_poisson_iterator),
      cmocka_unit_test(test_expected_per_epoch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
