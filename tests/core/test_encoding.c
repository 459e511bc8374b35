/* Tests for st_encoding: RFC 4648 vectors for base32 and base64, strict rejections, and strict
 * decimals. */
#include "testutil.h"

#include <string.h>

#include "core/st_encoding.h"

static const char *const PLAIN[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const B32[] = {"", "my", "mzxq", "mzxw6", "mzxw6yq", "mzxw6ytb", "mzxw6ytboi"};
static const char *const B64[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

static void test_rfc4648(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof PLAIN / sizeof PLAIN[0]; i++) {
    st_buf b = ST_BUF_INIT, d = ST_BUF_INIT;
    st_err err;
    st_base32_append(&b, (const uint8_t *)PLAIN[i], strlen(PLAIN[i]));
    assert_string_equal(st_buf_cstr(&b), B32[i]);
    assert_int_equal(st_base32_decode(B32[i], strlen(B32[i]), &d, &err), ST_OK);
    assert_string_equal(st_buf_cstr(&d), PLAIN[i]);
    st_buf_reset(&b);
    st_buf_reset(&d);
    st_base64_append(&b, (const uint8_t *)PLAIN[i], strlen(PLAIN[i]), true);
    assert_string_equal(st_buf_cstr(&b), B64[i]);
    assert_int_equal(st_base64_decode(B64[i], strlen(B64[i]), true, &d, &err), ST_OK);
    assert_string_equal(st_buf_cstr(&d), PLAIN[i]);
    /* unpadded form (DAG-JSON bytes) */
    st_buf_reset(&b);
    st_buf_reset(&d);
    st_base64_append(&b, (const uint8_t *)PLAIN[i], strlen(PLAIN[i]), false);
    assert_null(strchr(st_buf_cstr(&b), '='));
    assert_int_equal(st_base64_decode(st_buf_cstr(&b), b.len, false, &d, &err), ST_OK);
    assert_string_equal(st_buf_cstr(&d), PLAIN[i]);
    st_buf_free(&b);
    st_buf_free(&d);
  }
}

static void rejects(st_code (*dec)(const char *, size_t, st_buf *, st_err *), const char *s, const char *want) {
  st_buf d = ST_BUF_INIT;
  st_err err = {0};
  assert_int_equal(dec(s, strlen(s), &d, &err), ST_EINVAL);
  tu_assert_err_contains(&err, want);
  st_buf_free(&d);
}

static st_code b64pad(const char *s, size_t n, st_buf *o, st_err *e) { return st_base64_decode(s, n, true, o, e); }
static st_code b64raw(const char *s, size_t n, st_buf *o, st_err *e) { return st_base64_decode(s, n, false, o, e); }

static void test_rejections(void **state) {
  (void)state;
  rejects(st_hex_decode, "0g", "invalid hex character 'g' at position 1");
  rejects(st_hex_decode, "abc", "odd number of hex digits (3)");
  rejects(st_base32_decode, "MY", "invalid base32 character 'M' at position 0");
  rejects(st_base32_decode, "m", "cannot encode whole bytes");
  rejects(st_base32_decode, "mz", "non-canonical base32");
  rejects(st_base32_decode, "my======", "invalid base32 character '='");
  rejects(b64pad, "Zg=", "not a multiple of 4");
  rejects(b64pad, "Zh==", "non-canonical base64");
  rejects(b64pad, "Z===", "invalid base64 character '='");
  rejects(b64pad, "Zm9v\n", "not a multiple of 4");
  rejects(b64raw, "Zg==", "invalid base64 character '='");
  rejects(b64raw, "Z", "cannot encode whole bytes");
  uint8_t out[2];
  st_err err;
  assert_int_equal(st_hex_decode_exact("abcd", out, 2, &err), ST_OK);
  assert_int_equal(st_hex_decode_exact("abcdef", out, 2, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "expected 4 hex digits (2 bytes), got 6");
}

/* A decode that fails appends nothing (st_err.h): out keeps what it held, still NUL-terminated,
 * though the decoders write whole groups before they find the fault ("mz" is one byte and a
 * non-zero tail, "Zm9vYh==" a whole group and a bad tail). A fixed array is zeroed. */
static void test_failed_decode_leaves_out(void **state) {
  (void)state;
  static const struct {
    st_code (*dec)(const char *, size_t, st_buf *, st_err *);
    const char *text;
  } CASES[] = {{st_hex_decode, "ab0g"},  {st_base32_decode, "mzxw6ytbo!"},
               {st_base32_decode, "mz"}, {b64pad, "Zm9vYh=="},
               {b64raw, "Zm9vZm9v!"},    {b64raw, "Zm9vYh"}};
  for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
    st_buf d = ST_BUF_INIT;
    st_err err;
    st_buf_puts(&d, "kept");
    assert_int_equal(CASES[i].dec(CASES[i].text, strlen(CASES[i].text), &d, &err), ST_EINVAL);
    assert_int_equal(d.len, 4);
    assert_string_equal(st_buf_cstr(&d), "kept");
    st_buf_free(&d);
  }
  uint8_t out[2];
  st_err err;
  tu_poison(out, sizeof out);
  assert_int_equal(st_hex_decode_exact("abcdef", out, 2, &err), ST_EINVAL);
  tu_assert_zeroed(out, sizeof out);
  tu_poison(out, sizeof out);
  assert_int_equal(st_hex_decode_exact("zz00", out, 2, &err), ST_EINVAL);
  tu_assert_zeroed(out, sizeof out);
}

static void test_parse_u64(void **state) {
  (void)state;
  uint64_t v;
  st_err err;
  assert_int_equal(st_parse_u64("18446744073709551615", "--id", &v, &err), ST_OK);
  assert_true(v == UINT64_MAX);
  assert_int_equal(st_parse_u64("18446744073709551616", "--id", &v, &err), ST_ERANGE);
  assert_true(v == 0); /* a failure leaves the out zero, not the last good value (st_err.h) */
  assert_int_equal(st_parse_u64("-1", "--id", &v, &err), ST_EINVAL);
  assert_string_equal(err.msg, "--id: \"-1\" is not an unsigned decimal number");
  assert_int_equal(st_parse_u64("", "--id", &v, &err), ST_EINVAL);
  v = 7;
  assert_int_equal(st_parse_u64("1 ", "--id", &v, &err), ST_EINVAL);
  assert_true(v == 0);
}

/* base58btc: bitcoin's published cases (src/test/data/base58_encode_decode.json). */
static void test_base58(void **state) {
  (void)state;
  static const struct {
    const char *hex, *b58;
  } cases[] = {{"", ""},
               {"61", "2g"},
               {"626262", "a3gV"},
               {"636363", "aPEr"},
               {"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
               {"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
               {"516b6fcd0f", "ABnLTmg"},
               {"bf4f89001e670274dd", "3SEo3LWLoPntC"},
               {"572e4794", "3EFU7m"},
               {"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
               {"10c8511e", "Rt5zm"},
               {"00000000000000000000", "1111111111"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    st_buf raw = ST_BUF_INIT, out = ST_BUF_INIT;
    assert_int_equal(st_hex_decode(cases[i].hex, strlen(cases[i].hex), &raw, NULL), ST_OK);
    st_base58_append(&out, raw.data, raw.len);
    assert_false(out.failed);
    assert_string_equal(st_buf_cstr(&out), cases[i].b58);
    st_buf_free(&raw);
    st_buf_free(&out);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_rfc4648), cmocka_unit_test(test_rejections),
                                     cmocka_unit_test(test_failed_decode_leaves_out), cmocka_unit_test(test_parse_u64),
                                     cmocka_unit_test(test_base58)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
