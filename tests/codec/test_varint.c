/* Tests for st_varint: minimal LEB128 limited to 63 bits, as multiformats requires. */
#include "testutil.h"

#include "codec/st_varint.h"

static void roundtrip(uint64_t v, const char *hex) {
  uint8_t buf[ST_UVARINT_MAX];
  size_t n = st_uvarint_put(v, buf);
  assert_string_equal(tu_tohex(buf, n), hex);
  uint64_t got;
  size_t used;
  st_err err;
  if (v <= (uint64_t)INT64_MAX) {
    assert_int_equal(st_uvarint_get(buf, n, &got, &used, &err), ST_OK);
    assert_true(got == v);
    assert_int_equal(used, n);
  } else {
    assert_int_equal(st_uvarint_get(buf, n, &got, &used, &err), ST_ERANGE);
  }
}

static void rejects(const char *hex, const char *want) {
  st_buf b = ST_BUF_INIT;
  tu_hex(hex, &b);
  uint64_t v = 7;
  size_t used = 7;
  st_err err = {0};
  assert_true(st_uvarint_get(b.data, b.len, &v, &used, &err) != ST_OK);
  tu_assert_err_contains(&err, want);
  assert_true(v == 0 && used == 0); /* zero on failure (st_err.h) */
  st_buf_free(&b);
}

static void test_varints(void **state) {
  (void)state;
  roundtrip(0, "00");
  roundtrip(1, "01");
  roundtrip(127, "7f");
  roundtrip(128, "8001");
  roundtrip(1024, "8008"); /* t01024's payload */
  roundtrip(0xf101, "81e203");
  roundtrip(0xb220, "a0e402");
  roundtrip(INT64_MAX, "ffffffffffffffff7f");
  roundtrip(UINT64_MAX, "ffffffffffffffffff01");
  rejects("", "truncated after 0 bytes");
  rejects("80", "truncated after 1 bytes");
  rejects("8000", "not minimally encoded");
  rejects("ff80", "truncated");
  rejects("ffffffffffffffffff01", "longer than 9 bytes");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_varints)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
