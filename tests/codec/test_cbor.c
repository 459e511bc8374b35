/* Tests for st_cbor: canonical encoding, every strict-decoder rejection with its offset, the
 * typed pull readers, diagnostic notation / DAG-JSON, and a random round-trip property. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/st_cbor.h"

/* ---- helpers ---- */

static void assert_encodes(void (*put)(st_buf *), const char *hex) {
  st_buf b = ST_BUF_INIT;
  put(&b);
  assert_false(b.failed);
  assert_string_equal(tu_tohex(b.data, b.len), hex);
  st_buf_free(&b);
}

static void assert_uint(uint64_t v, const char *hex) {
  st_buf b = ST_BUF_INIT;
  st_cbor_put_uint(&b, v);
  assert_string_equal(tu_tohex(b.data, b.len), hex);
  st_err err;
  assert_int_equal(st_cbor_validate(b.data, b.len, 0, 0, &err), ST_OK);
  st_cbor_reader r;
  st_cbor_reader_init(&r, b.data, b.len, &err);
  uint64_t got;
  assert_int_equal(st_cbor_read_uint(&r, &got), ST_OK);
  assert_true(got == v);
  st_buf_free(&b);
}

static void assert_int(int64_t v, const char *hex) {
  st_buf b = ST_BUF_INIT;
  st_cbor_put_int(&b, v);
  assert_string_equal(tu_tohex(b.data, b.len), hex);
  st_cbor_reader r;
  st_err err;
  st_cbor_reader_init(&r, b.data, b.len, &err);
  int64_t got;
  assert_int_equal(st_cbor_read_int(&r, &got), ST_OK);
  assert_true(got == v);
  st_buf_free(&b);
}

/* Validation of hex input must fail with a message containing want. */
static void assert_rejects_flags(const char *hex, unsigned flags, const char *want) {
  st_buf b = ST_BUF_INIT;
  tu_hex(hex, &b);
  st_err err = {0};
  st_code rc = st_cbor_validate(b.data, b.len, flags, 0, &err);
  if (rc == ST_OK) fail_msg("%s was accepted, expected: %s", hex, want);
  assert_int_equal(rc, ST_EINVAL);
  assert_true(strncmp(err.msg, "cbor: ", 6) == 0);
  tu_assert_err_contains(&err, want);
  st_buf_free(&b);
}
static void assert_rejects(const char *hex, const char *want) { assert_rejects_flags(hex, 0, want); }

static void assert_accepts_flags(const char *hex, unsigned flags) {
  st_buf b = ST_BUF_INIT;
  tu_hex(hex, &b);
  st_err err = {0};
  if (st_cbor_validate(b.data, b.len, flags, 0, &err)) fail_msg("%s rejected: %s", hex, err.msg);
  st_buf_free(&b);
}
static void assert_accepts(const char *hex) { assert_accepts_flags(hex, 0); }

static void assert_diag(const char *hex, const char *diag, const char *json) {
  st_buf in = ST_BUF_INIT, out = ST_BUF_INIT;
  tu_hex(hex, &in);
  st_err err;
  if (st_cbor_diag(in.data, in.len, ST_CBOR_ALLOW_FLOATS, &out, &err)) fail_msg("%s: %s", hex, err.msg);
  assert_string_equal(st_buf_cstr(&out), diag);
  st_buf_reset(&out);
  if (st_cbor_dagjson(in.data, in.len, ST_CBOR_ALLOW_FLOATS, &out, &err)) fail_msg("%s: %s", hex, err.msg);
  assert_string_equal(st_buf_cstr(&out), json);
  st_buf_free(&in);
  st_buf_free(&out);
}

/* ---- encoder ---- */

static void test_encode_integers(void **state) {
  (void)state;
  assert_uint(0, "00");
  assert_uint(23, "17");
  assert_uint(24, "1818");
  assert_uint(255, "18ff");
  assert_uint(256, "190100");
  assert_uint(65535, "19ffff");
  assert_uint(65536, "1a00010000");
  assert_uint(0xffffffffu, "1affffffff");
  assert_uint(0x100000000ull, "1b0000000100000000");
  assert_uint(UINT64_MAX, "1bffffffffffffffff");
  assert_int(-1, "20");
  assert_int(-24, "37");
  assert_int(-25, "3818");
  assert_int(-256, "38ff");
  assert_int(-257, "390100");
  assert_int(INT64_MAX, "1b7fffffffffffffff");
  assert_int(INT64_MIN, "3b7fffffffffffffff");
}

static void put_misc(st_buf *b) {
  st_cbor_put_array(b, 7);
  st_cbor_put_bytes(b, "\x01\x02", 2);
  st_cbor_put_cstr(b, "IETF");
  st_cbor_put_map(b, 0);
  st_cbor_put_bool(b, true);
  st_cbor_put_bool(b, false);
  st_cbor_put_null(b);
  st_cbor_put_float64(b, 1.5);
}

static void test_encode_misc(void **state) {
  (void)state;
  assert_encodes(put_misc, "874201026449455446a0f5f4f6fb3ff8000000000000");
}

static void put_cid(st_buf *b) {
  st_cid c;
  st_cid_of_cbor("\x80", 1, &c);
  st_cbor_put_cid(b, &c);
}

static void test_encode_cid(void **state) {
  (void)state;
  /* tag 42, bytes(39) = 0x00 multibase prefix + 01 71 a0e402 20 <digest> */
  assert_encodes(put_cid, "d82a5827000171a0e4022045b0cfc220ceec5b7c1c62c4d4193d38e4eba48e8815729ce75f9c0ab0e4c1c0");
  st_buf b = ST_BUF_INIT;
  put_cid(&b);
  st_cbor_reader r;
  st_err err;
  st_cbor_reader_init(&r, b.data, b.len, &err);
  st_cid got, want;
  st_cid_of_cbor("\x80", 1, &want);
  assert_int_equal(st_cbor_read_cid(&r, &got), ST_OK);
  assert_true(st_cid_equal(&got, &want));
  assert_int_equal(st_cbor_finish(&r), ST_OK);
  st_buf_free(&b);
}

/* ---- strict decoder ---- */

static void test_reject_non_minimal(void **state) {
  (void)state;
  assert_rejects("1817", "non-minimal encoding of integer 23 at offset 0");
  assert_rejects("190017", "non-minimal encoding of integer 23 at offset 0");
  assert_rejects("1a0000ffff", "non-minimal encoding of integer 65535 at offset 0");
  assert_rejects("1b00000000ffffffff", "non-minimal encoding of integer 4294967295 at offset 0");
  assert_rejects("3817", "non-minimal encoding of integer 23 at offset 0");
  assert_rejects("580161", "non-minimal encoding of length 1 at offset 0");
  assert_rejects("7800", "non-minimal encoding of length 0 at offset 0");
  assert_rejects("9800", "non-minimal encoding of length 0 at offset 0");
  assert_rejects("b800", "non-minimal encoding of length 0 at offset 0");
  assert_rejects("d9002a4100", "non-minimal encoding of tag 42 at offset 0");
  assert_rejects("8201190005", "non-minimal encoding of integer 5 at offset 2");
}

static void test_reject_indefinite_and_reserved(void **state) {
  (void)state;
  assert_rejects("5f4101ff", "indefinite-length byte string at offset 0");
  assert_rejects("7f6161ff", "indefinite-length text string at offset 0");
  assert_rejects("9f01ff", "indefinite-length array at offset 0");
  assert_rejects("bf616101ff", "indefinite-length map at offset 0");
  assert_rejects("82019f01ff", "indefinite-length array at offset 2");
  assert_rejects("1f", "invalid additional information 31 for integer at offset 0");
  assert_rejects("ff", "unexpected break code at offset 0");
  assert_rejects("1c", "reserved additional information 28 at offset 0");
  assert_rejects("5d", "reserved additional information 29 at offset 0");
  assert_rejects("fe", "reserved additional information 30 at offset 0");
}

static void test_reject_floats_and_simple(void **state) {
  (void)state;
  assert_rejects("fb3ff8000000000000", "float at offset 0 is not allowed here");
  assert_rejects("f93c00", "float at offset 0 is not allowed here");
  assert_accepts_flags("fb3ff8000000000000", ST_CBOR_ALLOW_FLOATS);
  assert_rejects_flags("f93c00", ST_CBOR_ALLOW_FLOATS, "16-bit float at offset 0 (DAG-CBOR allows only 64-bit floats)");
  assert_rejects_flags("fa3fc00000", ST_CBOR_ALLOW_FLOATS, "32-bit float at offset 0");
  assert_rejects_flags("fb7ff8000000000000", ST_CBOR_ALLOW_FLOATS, "NaN or infinity at offset 0");
  assert_rejects_flags("fb7ff0000000000000", ST_CBOR_ALLOW_FLOATS, "NaN or infinity at offset 0");
  assert_rejects("f7", "undefined at offset 0 is not allowed in DAG-CBOR");
  assert_rejects("f0", "simple value 16 at offset 0 is not allowed in DAG-CBOR");
  assert_rejects("f820", "simple value 32 at offset 0 is not allowed in DAG-CBOR");
  assert_accepts("83f4f5f6");
}

static void test_reject_truncation(void **state) {
  (void)state;
  assert_rejects("", "unexpected end of input at offset 0");
  assert_rejects("18", "truncated integer header at offset 0: 1 more bytes needed");
  assert_rejects("5a000000", "truncated byte string header at offset 0");
  assert_rejects("440102", "byte string of length 4 at offset 0 runs past the end of the input (2 bytes left)");
  assert_rejects("63616263ff", "1 trailing byte after the item, at offset 4");
  assert_rejects("830102", "array of 3 items at offset 0 cannot fit in the 2 bytes left");
  assert_rejects("82820102", "unexpected end of input at offset 4");
  assert_rejects("9b0000000100000000", "array of 4294967296 items at offset 0 cannot fit in the 0 bytes left");
  assert_rejects("a30102", "map of 3 entries at offset 0 cannot fit in the 2 bytes left");
  assert_rejects("0000", "1 trailing byte after the item, at offset 1");
  assert_rejects("820102ffff", "2 trailing bytes after the item, at offset 3");
}

static void nested(st_buf *b, unsigned depth) {
  for (unsigned i = 0; i < depth - 1; i++) st_buf_putc(b, 0x81);
  st_buf_putc(b, 0x80);
}

static void test_depth_limit(void **state) {
  (void)state;
  st_buf b = ST_BUF_INIT;
  st_err err;
  nested(&b, ST_CBOR_DEFAULT_DEPTH);
  assert_int_equal(st_cbor_validate(b.data, b.len, 0, 0, &err), ST_OK);
  st_buf_reset(&b);
  nested(&b, ST_CBOR_DEFAULT_DEPTH + 1);
  assert_int_equal(st_cbor_validate(b.data, b.len, 0, 0, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "nesting deeper than 64 levels at offset 64");
  assert_int_equal(st_cbor_validate(b.data, b.len, 0, 100, &err), ST_OK);
  /* A deep input far beyond the hard limit is refused without recursion. */
  st_buf_reset(&b);
  nested(&b, 100000);
  assert_int_equal(st_cbor_validate(b.data, b.len, 0, 1u << 20, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "nesting deeper than 512 levels");
  st_buf_free(&b);
}

static void test_tags(void **state) {
  (void)state;
  assert_rejects("c074323031332d30332d32315432303a30343a30305a",
                 "tag 0 at offset 0 is not allowed (DAG-CBOR allows only tag 42");
  assert_rejects("d82a01", "tag 42 at offset 0 must hold a byte string, found unsigned integer");
  assert_rejects("d82a4101", "CID at offset 0 lacks the 0x00 multibase prefix");
  assert_rejects("d82a40", "CID at offset 0 lacks the 0x00 multibase prefix");
  assert_rejects("d82a43001220", "invalid CID at offset 0: CIDv0 is not supported");
  assert_rejects("d82a4400027100", "invalid CID at offset 0: unsupported CID version 2");
  assert_rejects("8201d82a45000171a0e4", "invalid CID at offset 2");
}

static void test_utf8(void **state) {
  (void)state;
  assert_accepts("62c3a9");     /* é */
  assert_accepts("64f09f9880"); /* U+1F600 */
  assert_rejects("62c328", "invalid UTF-8 in text string at offset 0 (byte 1)");
  assert_rejects("62c080", "invalid UTF-8");     /* overlong */
  assert_rejects("63eda080", "invalid UTF-8");   /* surrogate */
  assert_rejects("64f4908080", "invalid UTF-8"); /* above U+10FFFF */
  assert_rejects("61ff", "invalid UTF-8");
}

static void test_map_keys(void **state) {
  (void)state;
  assert_accepts("a261620162616102"); /* {"b": 1, "aa": 2}: shorter keys first */
  assert_rejects("a10102", "map key at offset 1 is a unsigned integer (DAG-CBOR map keys are text strings)");
  assert_rejects("a2616201616102", "map key \"a\" at offset 4 is out of canonical order");
  assert_rejects("a2616101616102", "duplicate map key \"a\" at offset 4");
  /* keys are checked per map: the inner map may reuse the outer key */
  assert_accepts("a16161a1616101");
}

/* ---- typed readers ---- */

/* A reader over the bytes of hex (held in b, which it replaces), reporting into err. */
static void load(const char *hex, st_buf *b, st_cbor_reader *r, st_err *err) {
  st_buf_reset(b);
  tu_hex(hex, b);
  st_cbor_reader_init(r, b->data, b->len, err);
}

static void test_typed_readers(void **state) {
  (void)state;
  st_buf b = ST_BUF_INIT;
  st_err err;
  st_cbor_reader r;
  load("4101", &b, &r, &err);
  uint64_t u;
  assert_int_equal(st_cbor_read_uint(&r, &u), ST_EINVAL);
  tu_assert_err_contains(&err, "expected unsigned integer at offset 0, found byte string");

  load("3b8000000000000000", &b, &r, &err);
  int64_t i;
  assert_int_equal(st_cbor_read_int(&r, &i), ST_EINVAL);
  tu_assert_err_contains(&err, "integer at offset 0 does not fit in 64 signed bits");

  load("89000000000000000000", &b, &r, &err);
  assert_int_equal(st_cbor_expect_array(&r, 10, "Message"), ST_EINVAL);
  tu_assert_err_contains(&err, "Message at offset 0: expected an array of 10 items, found 9");

  load("a0", &b, &r, &err);
  assert_int_equal(st_cbor_expect_array(&r, 2, "Signature"), ST_EINVAL);
  tu_assert_err_contains(&err, "Signature at offset 0: expected an array of 2 items, found map");

  /* a full walk: [1, -2, h'0102', "hi", true, null, {}] */
  load("870121420102626869f5f6a0", &b, &r, &err);
  uint64_t n;
  const uint8_t *p;
  const char *s;
  size_t len;
  bool flag;
  assert_int_equal(st_cbor_read_array(&r, &n), ST_OK);
  assert_int_equal(n, 7);
  assert_int_equal(st_cbor_read_uint(&r, &u), ST_OK);
  assert_int_equal(u, 1);
  assert_int_equal(st_cbor_read_int(&r, &i), ST_OK);
  assert_int_equal(i, -2);
  assert_int_equal(st_cbor_read_bytes(&r, &p, &len), ST_OK);
  assert_int_equal(len, 2);
  assert_memory_equal(p, "\x01\x02", 2);
  assert_int_equal(st_cbor_read_text(&r, &s, &len), ST_OK);
  assert_int_equal(len, 2);
  assert_memory_equal(s, "hi", 2);
  assert_int_equal(st_cbor_read_bool(&r, &flag), ST_OK);
  assert_true(flag);
  assert_true(st_cbor_take_null(&r));
  assert_int_equal(st_cbor_read_map(&r, &n), ST_OK);
  assert_int_equal(n, 0);
  assert_int_equal(st_cbor_finish(&r), ST_OK);
  st_buf_free(&b);
}

/* A read that fails leaves its outs zero, NULL or 0 (st_err.h). Every typed reader meets an
 * item of another type (null), no item, a reserved header and a tag 42 whose CID is empty; the
 * item readers meet no item, a reserved header and a non-minimal one. */
static void test_failed_reads_zero_outs(void **state) {
  (void)state;
  static const char *const TYPED[] = {"f6", "", "1c", "d82a4100"};
  for (size_t k = 0; k < sizeof TYPED / sizeof TYPED[0]; k++) {
    st_buf b = ST_BUF_INIT;
    tu_hex(TYPED[k], &b);
    st_err err;
    st_cbor_reader r;
    uint64_t u = 7, n = 7;
    int64_t i = 7;
    const uint8_t *p = (const uint8_t *)"x";
    const char *s = "x";
    size_t len = 7;
    bool flag = true;
    st_cid c;
    tu_poison(&c, sizeof c);
    st_cbor_reader_init(&r, b.data, b.len, &err);
    assert_int_equal(st_cbor_read_uint(&r, &u), ST_EINVAL);
    assert_true(u == 0);
    st_cbor_reader_init(&r, b.data, b.len, &err);
    assert_int_equal(st_cbor_read_int(&r, &i), ST_EINVAL);
    assert_true(i == 0);
    st_cbor_reader_init(&r, b.data, b.len, &err);
    assert_int_equal(st_cbor_read_array(&r, &n), ST_EINVAL);
    assert_true(n == 0);
    n = 7;
    st_cbor_reader_init(&r, b.data, b.len, &err);
    assert_int_equal(st_cbor_read_map(&r, &n), ST_EINVAL);
    assert_true(n == 0);
    st_cbor_reader_init(&r, b.data, b.len, &err);
    assert_int_equal(st_cbor_read_bytes(&r, &p, &len), ST_EINVAL);
    assert_true(p == NULL && len == 0);
    len = 7;
    st_cbor_reader_init(&r, b.data, b.len, &err);
    assert_int_equal(st_cbor_read_text(&r, &s, &len), ST_EINVAL);
    assert_true(s == NULL && len == 0);
    p = (const uint8_t *)"x";
    st_cbor_reader_init(&r, b.data, b.len, &err);
    assert_int_equal(st_cbor_expect_bytes(&r, 1, "field", &p), ST_EINVAL);
    assert_null(p);
    st_cbor_reader_init(&r, b.data, b.len, &err);
    assert_int_equal(st_cbor_read_bool(&r, &flag), ST_EINVAL);
    assert_false(flag);
    st_cbor_reader_init(&r, b.data, b.len, &err);
    assert_int_equal(st_cbor_read_cid(&r, &c), ST_EINVAL);
    tu_assert_zeroed(&c, sizeof c);
    st_buf_free(&b);
  }
  static const char *const ITEMS[] = {"", "1c", "1801"};
  for (size_t k = 0; k < sizeof ITEMS / sizeof ITEMS[0]; k++) {
    st_buf b = ST_BUF_INIT;
    tu_hex(ITEMS[k], &b);
    st_err err;
    st_cbor_reader r;
    st_cbor_item it;
    st_cbor_reader_init(&r, b.data, b.len, &err);
    tu_poison(&it, sizeof it);
    assert_int_equal(st_cbor_peek(&r, &it), ST_EINVAL);
    tu_assert_zeroed(&it, sizeof it);
    tu_poison(&it, sizeof it);
    assert_int_equal(st_cbor_next(&r, &it), ST_EINVAL);
    tu_assert_zeroed(&it, sizeof it);
    assert_int_equal(r.off, 0);
    st_buf_free(&b);
  }
}

/* ---- text output ---- */

static void test_diag_and_dagjson(void **state) {
  (void)state;
  assert_diag("00", "0", "0");
  assert_diag("3bffffffffffffffff", "-18446744073709551616", "-18446744073709551616");
  assert_diag("8301820203820405", "[1, [2, 3], [4, 5]]", "[1,[2,3],[4,5]]");
  assert_diag("a2616101616202", "{\"a\": 1, \"b\": 2}", "{\"a\":1,\"b\":2}");
  assert_diag("43010203", "h'010203'", "{\"/\":{\"bytes\":\"AQID\"}}");
  assert_diag("650a22c3a95c", "\"\\n\\\"é\\\\\"", "\"\\n\\\"é\\\\\"");
  assert_diag("fb3ff0000000000000", "1.0", "1.0");
  assert_diag("fbbff8000000000000", "-1.5", "-1.5");
  assert_diag("83f4f5f6", "[false, true, null]", "[false,true,null]");
  assert_diag("d82a5827000171a0e4022045b0cfc220ceec5b7c1c62c4d4193d38e4eba48e8815729ce75f9c0ab0e4c1c0",
              "42(h'000171a0e4022045b0cfc220ceec5b7c1c62c4d4193d38e4eba48e8815729ce75f9c0ab0e4c1c0') / "
              "bafy2bzacebc3bt6cedhoyw34drrmjvazhu4oj25er2ebk4u445pzycvq4ta4a /",
              "{\"/\":\"bafy2bzacebc3bt6cedhoyw34drrmjvazhu4oj25er2ebk4u445pzycvq4ta4a\"}");
}

/* ---- property: random canonical objects validate and consume exactly their bytes ---- */

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static void random_item(st_buf *b, int depth) {
  int kind = (int)(next_rand() % (depth > 4 ? 6 : 9));
  uint64_t v = next_rand() >> (next_rand() % 64);
  switch (kind) {
    case 0: st_cbor_put_uint(b, v); break;
    case 1: st_cbor_put_nint(b, v); break;
    case 2: {
      uint8_t tmp[40];
      size_t n = v % sizeof tmp;
      for (size_t i = 0; i < n; i++) tmp[i] = (uint8_t)next_rand();
      st_cbor_put_bytes(b, tmp, n);
      break;
    }
    case 3: st_cbor_put_cstr(b, (v & 1) ? "spacetime" : ""); break;
    case 4: st_cbor_put_bool(b, v & 1); break;
    case 5: {
      st_cid c;
      st_cid_of_cbor(&v, sizeof v, &c);
      st_cbor_put_cid(b, &c);
      break;
    }
    case 6:
    case 7: {
      uint64_t n = v % 5;
      st_cbor_put_array(b, n);
      for (uint64_t i = 0; i < n; i++) random_item(b, depth + 1);
      break;
    }
    default: { /* map with canonical keys: "a", "b", ..., all of length 1, sorted */
      uint64_t n = v % 4;
      st_cbor_put_map(b, n);
      for (uint64_t i = 0; i < n; i++) {
        char k = (char)('a' + i);
        st_cbor_put_text(b, &k, 1);
        random_item(b, depth + 1);
      }
    }
  }
}

static void test_random_roundtrip(void **state) {
  (void)state;
  for (int round = 0; round < 2000; round++) {
    st_buf b = ST_BUF_INIT;
    random_item(&b, 0);
    st_err err;
    if (st_cbor_validate(b.data, b.len, 0, 0, &err)) fail_msg("round %d: %s", round, err.msg);
    /* every strict prefix is rejected: nothing reads past its input */
    for (size_t cut = 0; cut < b.len; cut += 1 + b.len / 16)
      assert_int_equal(st_cbor_validate(b.data, cut, 0, 0, NULL), ST_EINVAL);
    st_buf_free(&b);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_encode_integers),
      cmocka_unit_test(test_encode_misc),
      cmocka_unit_test(test_encode_cid),
      cmocka_unit_test(test_reject_non_minimal),
      cmocka_unit_test(test_reject_indefinite_and_reserved),
      cmocka_unit_test(test_reject_floats_and_simple),
      cmocka_unit_test(test_reject_truncation),
      cmocka_unit_test(test_depth_limit),
      cmocka_unit_test(test_tags),
      cmocka_unit_test(test_utf8),
      cmocka_unit_test(test_map_keys),
      cmocka_unit_test(test_typed_readers),
      cmocka_unit_test(test_failed_reads_zero_outs),
      cmocka_unit_test(test_diag_and_dagjson),
      cmocka_unit_test(test_random_roundtrip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
