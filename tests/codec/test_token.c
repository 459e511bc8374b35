/* Tests for codec/st_token: FIL decimal text (as Lotus prints and parses it) and big integers
 * as go-state-types writes them in CBOR (sign byte + big-endian magnitude, canonical only). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "codec/st_cbor.h"
#include "codec/st_token.h"

/* ------------------------------------------------------------------ helpers */

static void set_dec(mpz_t v, const char *dec) {
  if (mpz_set_str(v, dec, 10) != 0) fail_msg("bad decimal in test: %s", dec);
}

static void assert_mpz_dec(const mpz_t v, const char *want) {
  char *got = mpz_get_str(NULL, 10, v);
  assert_string_equal(got, want);
  free(got);
}

static void assert_format(const mpz_t atto, const char *want) {
  st_buf b = ST_BUF_INIT;
  st_fil_format(atto, &b);
  assert_string_equal(st_buf_cstr(&b), want);
  st_buf_free(&b);
}

static void parse_ok(const char *s, mpz_t atto) {
  st_err err = {0};
  if (st_fil_parse(s, atto, &err) != ST_OK) fail_msg("st_fil_parse(\"%s\"): %s", s, err.msg);
}

/* Frees before it asserts, so a failure leaks nothing under ASan. */
static void expect_parse(const char *s, const char *want_atto) {
  mpz_t v;
  st_err err = {0};
  char got[128] = "";
  mpz_init(v);
  st_code rc = st_fil_parse(s, v, &err);
  if (!rc) gmp_snprintf(got, sizeof got, "%Zd", v);
  mpz_clear(v);
  if (rc) fail_msg("st_fil_parse(\"%s\"): %s", s, err.msg);
  assert_string_equal(got, want_atto);
}

static void expect_parse_error(const char *s, const char *needle) {
  mpz_t v;
  st_err err = {0};
  mpz_init_set_ui(v, 42);
  assert_int_equal(st_fil_parse(s, v, &err), ST_EINVAL);
  assert_int_equal(err.code, ST_EINVAL);
  tu_assert_err_contains(&err, needle);
  assert_int_equal(mpz_sgn(v), 0); /* a failed parse leaves 0 (st_err.h) */
  mpz_clear(v);
}

/* A decimal of n characters: "1" and n-1 zeros. */
static char *digits(size_t n) {
  char *s = malloc(n + 1);
  assert_non_null(s);
  memset(s, '0', n);
  s[0] = '1';
  s[n] = '\0';
  return s;
}

/* Reads one CBOR big integer filling the whole buffer. */
static st_code read_cbor(const st_buf *enc, mpz_t out, st_err *err) {
  st_cbor_reader r;
  st_cbor_reader_init(&r, enc->data, enc->len, err);
  st_code rc = st_cbor_read_bigint(&r, out);
  return rc ? rc : st_cbor_finish(&r);
}

/* v -> CBOR -> v, and the CBOR is what want_hex says (when given). */
static void assert_cbor_roundtrip(const mpz_t v, const char *want_hex) {
  st_buf enc = ST_BUF_INIT;
  st_err err = {0};
  mpz_t back;
  mpz_init(back);
  st_cbor_put_bigint(&enc, v);
  if (want_hex) assert_string_equal(tu_tohex(enc.data, enc.len), want_hex);
  mpz_set_ui(back, 7);
  if (read_cbor(&enc, back, &err) != ST_OK) fail_msg("read_bigint: %s", err.msg);
  assert_true(mpz_cmp(v, back) == 0);
  mpz_clear(back);
  st_buf_free(&enc);
}

static void expect_cbor_rejected(const char *hex, const char *needle) {
  st_buf enc = ST_BUF_INIT;
  st_err err = {0};
  mpz_t v;
  mpz_init_set_ui(v, 42);
  tu_hex(hex, &enc);
  assert_int_equal(read_cbor(&enc, v, &err), ST_EINVAL);
  tu_assert_err_contains(&err, needle);
  assert_int_equal(mpz_sgn(v), 0); /* a failed read leaves 0 (st_err.h) */
  mpz_clear(v);
  st_buf_free(&enc);
}

/* ------------------------------------------------------------------ st_fil_format */

static void test_fil_format(void **state) {
  (void)state;
  static const struct {
    const char *atto, *fil;
  } cases[] = {
      {"0", "0"},
      {"1", "0.000000000000000001"},
      {"10", "0.00000000000000001"},
      {"10000000000000000", "0.01"},
      {"999999999999999999", "0.999999999999999999"},
      {"1000000000000000000", "1"},
      {"1000000000000000001", "1.000000000000000001"},
      {"1500000000000000000", "1.5"},
      {"100000000000000000000", "100"},
      {"123456789012345678901234567890", "123456789012.34567890123456789"},
      {"-1", "-0.000000000000000001"},
      {"-1000000000000000000", "-1"},
      {"-1500000000000000000", "-1.5"},
      {"-52812593988821258165470000", "-52812593.98882125816547"},
  };
  mpz_t v;
  mpz_init(v);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    set_dec(v, cases[i].atto);
    assert_format(v, cases[i].fil);
  }
  mpz_clear(v);
}

static void test_fil_format_appends(void **state) {
  (void)state;
  st_buf b = ST_BUF_INIT;
  mpz_t v;
  mpz_init_set_ui(v, 25);
  mpz_mul_ui(v, v, 100000000000000000u); /* 2.5 FIL */
  st_buf_puts(&b, "balance=");
  st_fil_format(v, &b);
  assert_string_equal(st_buf_cstr(&b), "balance=2.5");
  mpz_clear(v);
  st_buf_free(&b);
}

/* st_fil_text: the unit after the number, cut short as snprintf cuts. */
static void test_fil_text(void **state) {
  (void)state;
  mpz_t v;
  mpz_init_set_str(v, "1500000000000000000", 10);
  char text[32], small[6];
  st_fil_text(v, text, sizeof text);
  assert_string_equal(text, "1.5 FIL");
  st_fil_text(v, small, sizeof small);
  assert_string_equal(small, "1.5 F");
  mpz_clear(v);
}

/* The balances `lotus-miner info` printed for the seed miner: parse -> format is exact. */
static void test_fil_seed_balances(void **state) {
  (void)state;
  static const char *const balances[] = {
      "52812.59398882125816547",
      "52211.965497554934544959",
      "600.628491266323620511",
      "945.389642209971088202",
  };
  mpz_t v;
  mpz_init(v);
  for (size_t i = 0; i < sizeof balances / sizeof balances[0]; i++) {
    parse_ok(balances[i], v);
    assert_format(v, balances[i]);
    assert_cbor_roundtrip(v, NULL);
  }
  mpz_clear(v);
}

/* ------------------------------------------------------------------ st_fil_parse */

static void test_fil_parse_accepts(void **state) {
  (void)state;
  static const struct {
    const char *in, *atto;
  } cases[] = {
      {"1", "1000000000000000000"},
      {"1.5", "1500000000000000000"},
      {".5", "500000000000000000"},
      {"5.", "5000000000000000000"},
      {"0", "0"},
      {"0.0", "0"},
      {"007.10", "7100000000000000000"},
      {"0.000000000000000001", "1"},
      {"1.000000000000000000000", "1000000000000000000"}, /* extra zero decimals are still whole attoFIL */
      {"1.5 FIL", "1500000000000000000"},
      {"1.5fil", "1500000000000000000"},
      {"1.5 Fil  ", "1500000000000000000"},
      {"1500 attoFIL", "1500"},
      {"1500afil", "1500"},
      {"1500 AFIL", "1500"},
      {"1500.000 attofil", "1500"},
      {"0 attoFIL", "0"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) expect_parse(cases[i].in, cases[i].atto);
}

static void test_fil_parse_rejects(void **state) {
  (void)state;
  expect_parse_error("", "not a decimal number");
  expect_parse_error(".", "not a decimal number");
  expect_parse_error("FIL", "not a decimal number");
  expect_parse_error(". attoFIL", "not a decimal number");
  expect_parse_error("1.2.3", "not a decimal number");
  expect_parse_error("1..", "not a decimal number");
  expect_parse_error("abc", "unrecognized suffix \"abc\"");
  expect_parse_error("-1", "invalid amount \"-1\"");
  expect_parse_error("1.5 BTC", "unrecognized suffix \"BTC\"");
  expect_parse_error("1.5 FILL", "unrecognized suffix");
  expect_parse_error("1e18", "unrecognized suffix \"e18\"");
  expect_parse_error("0.0000000000000000001", "more than 18 decimal places");
  expect_parse_error("1.0000000000000000005 FIL", "more than 18 decimal places");
  expect_parse_error("1.5 attoFIL", "smallest unit");
  expect_parse_error("1.05afil", "more than 0 decimal places");
}

static void test_fil_parse_length_limit(void **state) {
  (void)state;
  char *s50 = digits(50), *s51 = digits(51);
  char want[50 + 18 + 1];
  snprintf(want, sizeof want, "%s000000000000000000", s50);
  expect_parse(s50, want);
  expect_parse_error(s51, "too long");
  free(s51);
  /* the limit counts the decimals too */
  s51 = digits(51);
  s51[1] = '.';
  expect_parse_error(s51, "too long");
  free(s51);
  free(s50);
}

/* Zero decimals after the point are fine in attoFIL ("0.0 attoFIL" is 0), also with no
 * integer digits, like ".5" in FIL. */
static void test_fil_parse_atto_point_zero(void **state) {
  (void)state;
  expect_parse("0.0 attoFIL", "0");
  expect_parse(".0 FIL", "0");
  expect_parse(".0 attoFIL", "0");
  expect_parse(".000afil", "0");
}

/* Random amounts: format -> parse gives the same number. */
static void test_fil_random_roundtrip(void **state) {
  (void)state;
  gmp_randstate_t rs;
  gmp_randinit_default(rs);
  gmp_randseed_ui(rs, 1);
  mpz_t v, back;
  mpz_inits(v, back, NULL);
  st_buf b = ST_BUF_INIT;
  for (int i = 0; i < 2000; i++) {
    mpz_urandomb(v, rs, 1 + (mp_bitcnt_t)(i % 160)); /* the 50-character limit is ~10^32 FIL */
    st_buf_reset(&b);
    st_fil_format(v, &b);
    parse_ok(st_buf_cstr(&b), back);
    assert_true(mpz_cmp(v, back) == 0);
    if (i & 1) mpz_neg(v, v);
    assert_cbor_roundtrip(v, NULL);
  }
  st_buf_free(&b);
  mpz_clears(v, back, NULL);
  gmp_randclear(rs);
}

/* ------------------------------------------------------------------ CBOR big integers */

static void test_cbor_known_encodings(void **state) {
  (void)state;
  static const struct {
    const char *dec, *hex;
  } cases[] = {
      {"0", "40"},
      {"1", "420001"},
      {"-1", "420101"},
      {"255", "4200ff"},
      {"256", "43000100"},
      {"-256", "43010100"},
      {"1000000000000000000", "4900 0de0b6b3a7640000"},
      {"18446744073709551616", "4a00010000000000000000"}, /* 2^64 */
      {"-18446744073709551616", "4a01010000000000000000"},
  };
  mpz_t v;
  mpz_init(v);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char hex[64];
    size_t n = 0;
    for (const char *p = cases[i].hex; *p; p++)
      if (*p != ' ') hex[n++] = *p;
    hex[n] = '\0';
    set_dec(v, cases[i].dec);
    assert_cbor_roundtrip(v, hex);
  }
  mpz_clear(v);
}

static void test_cbor_large(void **state) {
  (void)state;
  mpz_t v;
  mpz_init(v);

  /* -(2^1000 + 12345): 126 magnitude bytes */
  mpz_ui_pow_ui(v, 2, 1000);
  mpz_add_ui(v, v, 12345);
  mpz_neg(v, v);
  assert_cbor_roundtrip(v, NULL);

  /* 127 magnitude bytes + the sign: exactly the 128-byte limit, both signs */
  mpz_ui_pow_ui(v, 2, 127 * 8);
  mpz_sub_ui(v, v, 1);
  assert_cbor_roundtrip(v, NULL);
  mpz_neg(v, v);
  assert_cbor_roundtrip(v, NULL);

  /* one bit more: 129 bytes, which the reader refuses */
  mpz_ui_pow_ui(v, 2, 127 * 8);
  st_buf enc = ST_BUF_INIT, raw = ST_BUF_INIT;
  st_bigint_append_bytes(&raw, v);
  assert_int_equal(raw.len, 129);
  st_cbor_put_bigint(&enc, v);
  mpz_t back;
  mpz_init(back);
  st_err err = {0};
  assert_int_equal(read_cbor(&enc, back, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "129 bytes is longer than 128");
  st_err_clear(&err);
  assert_int_equal(st_bigint_from_bytes(raw.data, raw.len, back, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "longer than 128");

  mpz_clear(back);
  st_buf_free(&raw);
  st_buf_free(&enc);
  mpz_clear(v);
}

static void test_cbor_rejects(void **state) {
  (void)state;
  expect_cbor_rejected("420201", "sign byte must be 0x00 or 0x01, got 0x02");
  expect_cbor_rejected("4102", "sign byte must be 0x00 or 0x01, got 0x02");
  expect_cbor_rejected("42ff01", "got 0xff");
  expect_cbor_rejected("4100", "zero must be an empty byte string");
  expect_cbor_rejected("4101", "zero must be an empty byte string");
  expect_cbor_rejected("420100", "leading zero byte"); /* negative zero */
  expect_cbor_rejected("43000001", "leading zero byte");
  expect_cbor_rejected("43010001", "leading zero byte");
  expect_cbor_rejected("4100", "cbor: big integer at offset 0");
  expect_cbor_rejected("01", "expected byte string");
  expect_cbor_rejected("6100", "expected byte string");
  expect_cbor_rejected("4200", "cbor"); /* length past the end */
}

/* The offset in the message is that of the big integer inside a larger item. */
static void test_cbor_error_offset(void **state) {
  (void)state;
  st_buf enc = ST_BUF_INIT;
  st_err err = {0};
  st_cbor_reader r;
  uint64_t n, u;
  mpz_t v;
  mpz_init(v);
  tu_hex("8205420100", &enc); /* [5, h'0100'] */
  st_cbor_reader_init(&r, enc.data, enc.len, &err);
  assert_int_equal(st_cbor_read_array(&r, &n), ST_OK);
  assert_int_equal(st_cbor_read_uint(&r, &u), ST_OK);
  assert_int_equal(st_cbor_read_bigint(&r, v), ST_EINVAL);
  tu_assert_err_contains(&err, "cbor: big integer at offset 2: ");
  tu_assert_err_contains(&err, "leading zero byte");
  mpz_clear(v);
  st_buf_free(&enc);
}

/* Errors are optional (st_err.h): a reader without one must still say ST_EINVAL. */
static void test_cbor_reject_without_err(void **state) {
  (void)state;
  static const uint8_t enc[] = {0x41, 0x00}; /* h'00': a non-canonical zero */
  st_cbor_reader r;
  mpz_t v;
  mpz_init(v);
  st_cbor_reader_init(&r, enc, sizeof enc, NULL);
  st_code rc = st_cbor_read_bigint(&r, v);
  mpz_clear(v);
  assert_int_equal(rc, ST_EINVAL);
}

static void test_bigint_raw_bytes(void **state) {
  (void)state;
  st_buf b = ST_BUF_INIT;
  st_err err = {0};
  mpz_t v;
  mpz_init_set_si(v, -258);
  st_buf_putc(&b, 0xaa); /* appends */
  st_bigint_append_bytes(&b, v);
  assert_string_equal(tu_tohex(b.data, b.len), "aa010102");
  mpz_set_ui(v, 0);
  st_bigint_append_bytes(&b, v); /* zero: nothing */
  assert_int_equal(b.len, 4);

  mpz_set_ui(v, 99);
  assert_int_equal(st_bigint_from_bytes(b.data + 1, 3, v, &err), ST_OK);
  assert_mpz_dec(v, "-258");
  assert_int_equal(st_bigint_from_bytes(NULL, 0, v, &err), ST_OK);
  assert_mpz_dec(v, "0");
  mpz_clear(v);
  st_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fil_format),
      cmocka_unit_test(test_fil_format_appends),
      cmocka_unit_test(test_fil_text),
      cmocka_unit_test(test_fil_seed_balances),
      cmocka_unit_test(test_fil_parse_accepts),
      cmocka_unit_test(test_fil_parse_rejects),
      cmocka_unit_test(test_fil_parse_length_limit),
      cmocka_unit_test(test_fil_parse_atto_point_zero),
      cmocka_unit_test(test_fil_random_roundtrip),
      cmocka_unit_test(test_cbor_known_encodings),
      cmocka_unit_test(test_cbor_large),
      cmocka_unit_test(test_cbor_rejects),
      cmocka_unit_test(test_cbor_error_offset),
      cmocka_unit_test(test_cbor_reject_without_err),
      cmocka_unit_test(test_bigint_raw_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
