/* Tests for codec/st_bitfield: the run-list set operations, the "0,2,4-6" notation and the RLE+
 * codec, which must accept and reject exactly what go-bitfield's decoder (rle/rleplus_reader.go)
 * does. */
#include "testutil.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "codec/st_bitfield.h"

#define TOP (UINT64_MAX - 1) /* 2^64-2: the largest settable index */

/* ------------------------------------------------------------------ helpers */

static void parse_ok(const char *s, st_bitfield *bf) {
  st_err err = {0};
  if (st_bitfield_parse_ranges(s, bf, &err) != ST_OK) fail_msg("parse_ranges(\"%s\"): %s", s, err.msg);
}

static void format(const st_bitfield *bf, st_buf *out) {
  st_buf_reset(out);
  st_bitfield_format_ranges(bf, out);
}

static void assert_formats_as(const st_bitfield *bf, const char *want) {
  st_buf b = ST_BUF_INIT;
  format(bf, &b);
  assert_string_equal(st_buf_cstr(&b), want);
  st_buf_free(&b);
}

/* bf holds exactly the set that want ("0,2,4-6") names; independent of how sets are formatted. */
static void assert_set(const st_bitfield *bf, const char *want) {
  st_bitfield w = ST_BITFIELD_INIT;
  parse_ok(want, &w);
  if (!st_bitfield_equal(bf, &w)) {
    st_buf got = ST_BUF_INIT;
    format(bf, &got);
    fail_msg("bitfield is {%s}, want {%s}", st_buf_cstr(&got), want);
  }
  st_bitfield_free(&w);
}

/* Checks the in-memory invariant that st_bitfield_equal relies on: sorted, disjoint,
 * non-adjacent runs of length >= 1 that end at or before 2^64-1. */
static void assert_canonical(const st_bitfield *bf) {
  for (size_t i = 0; i < bf->n; i++) {
    assert_true(bf->runs[i].len >= 1);
    assert_true(bf->runs[i].len <= UINT64_MAX - bf->runs[i].start);
    if (i) assert_true(bf->runs[i].start > bf->runs[i - 1].start + bf->runs[i - 1].len);
  }
}

static void encode_ok(const st_bitfield *bf, st_buf *out) {
  st_err err = {0};
  if (st_bitfield_encode(bf, out, &err) != ST_OK) fail_msg("encode: %s", err.msg);
}

static void decode_ok(const st_buf *enc, st_bitfield *bf) {
  st_err err = {0};
  if (st_bitfield_decode(enc->data, enc->len, bf, &err) != ST_OK)
    fail_msg("decode(%s): %s", tu_tohex(enc->data, enc->len), err.msg);
  assert_canonical(bf);
}

/* Encodes bf, decodes the result and checks it comes back equal. */
static void assert_roundtrip(const st_bitfield *bf) {
  st_buf enc = ST_BUF_INIT;
  st_bitfield back = ST_BITFIELD_INIT;
  encode_ok(bf, &enc);
  assert_true(enc.len == 0 || enc.data[enc.len - 1] != 0); /* minimal */
  decode_ok(&enc, &back);
  assert_true(st_bitfield_equal(bf, &back));
  st_bitfield_free(&back);
  st_buf_free(&enc);
}

/* ---- a hand-written RLE+ bit stream, bits LSB-first ---- */

typedef struct bits {
  st_buf buf;
  uint64_t n; /* bits written */
} bits;

static void bits_put(bits *b, uint64_t v, unsigned n) {
  for (unsigned i = 0; i < n; i++, b->n++) {
    if (b->n % 8 == 0) st_buf_putc(&b->buf, 0);
    if ((v >> i) & 1) b->buf.data[b->buf.len - 1] |= (uint8_t)(1u << (b->n % 8));
  }
}

/* Version 0 and the value of the first run. */
static void bits_header(bits *b, unsigned first_val) {
  bits_put(b, 0, 2);
  bits_put(b, first_val, 1);
}

static void run1(bits *b) { bits_put(b, 1, 1); }

/* "01" + 4 bits: lengths 0..15 (0 ends the stream, 1 is legal but not canonical). */
static void run4(bits *b, unsigned len) {
  bits_put(b, 0, 1);
  bits_put(b, 1, 1);
  bits_put(b, len, 4);
}

/* "00" + the given varint bytes, as they are (they may be malformed). */
static void run_varint_raw(bits *b, const uint8_t *v, size_t n) {
  bits_put(b, 0, 2);
  for (size_t i = 0; i < n; i++) bits_put(b, v[i], 8);
}

/* "00" + the minimal varint of len. */
static void run_varint(bits *b, uint64_t len) {
  bits_put(b, 0, 2);
  while (len >= 0x80) {
    bits_put(b, (len & 0x7f) | 0x80, 8);
    len >>= 7;
  }
  bits_put(b, len, 8);
}

/* The form go-bitfield's writer picks: "1", 4-bit for 2..15, varint from 16. */
static void run_canonical(bits *b, uint64_t len) {
  if (len == 1) run1(b);
  else if (len < 16) run4(b, (unsigned)len);
  else run_varint(b, len);
}

/* Drops trailing zero bytes, as an encoder would (the reader reads zeros past the end). */
static void bits_trim(bits *b) {
  while (b->buf.len && b->buf.data[b->buf.len - 1] == 0) b->buf.len--;
}

/* For inputs meant to fail on something else: a final 1 bit so that the last byte is not
 * zero (whatever follows the fault is never read). */
static void bits_seal(bits *b) { bits_put(b, 1, 1); }

static void expect_decoded(const st_buf *enc, const char *want) {
  st_bitfield bf = ST_BITFIELD_INIT;
  parse_ok("7,9-11", &bf); /* decode must replace this */
  decode_ok(enc, &bf);
  assert_set(&bf, want);
  st_bitfield_free(&bf);
}

static void expect_rejected(const st_buf *enc, const char *needle) {
  st_bitfield bf = ST_BITFIELD_INIT;
  st_err err = {0};
  parse_ok("7,9-11", &bf);
  assert_int_equal(st_bitfield_decode(enc->data, enc->len, &bf, &err), ST_EINVAL);
  assert_int_equal(err.code, ST_EINVAL);
  tu_assert_err_contains(&err, needle);
  assert_int_equal(bf.n, 0);
  assert_int_equal(st_bitfield_count(&bf), 0);
  st_bitfield_free(&bf);
}

static void expect_hex_decoded(const char *hex, const char *want) {
  st_buf enc = ST_BUF_INIT;
  tu_hex(hex, &enc);
  expect_decoded(&enc, want);
  st_buf_free(&enc);
}

static void expect_hex_rejected(const char *hex, const char *needle) {
  st_buf enc = ST_BUF_INIT;
  tu_hex(hex, &enc);
  expect_rejected(&enc, needle);
  st_buf_free(&enc);
}

static void expect_parse_error(const char *s, st_code code, const char *needle) {
  st_bitfield bf = ST_BITFIELD_INIT;
  st_err err = {0};
  parse_ok("1-3", &bf);
  assert_int_equal(st_bitfield_parse_ranges(s, &bf, &err), code);
  tu_assert_err_contains(&err, needle);
  assert_int_equal(bf.n, 0);
  st_bitfield_free(&bf);
}

/* ------------------------------------------------------------------ vectors */

/* Both ways: the set string parsed encodes to hex; hex decoded formats as the set string. */
static void check_vector(const char *set, const char *hex) {
  st_bitfield parsed = ST_BITFIELD_INIT, decoded = ST_BITFIELD_INIT;
  st_buf enc = ST_BUF_INIT, want = ST_BUF_INIT;

  parse_ok(set, &parsed);
  encode_ok(&parsed, &enc);
  assert_string_equal(tu_tohex(enc.data, enc.len), hex);

  tu_hex(hex, &want);
  decode_ok(&want, &decoded);
  assert_formats_as(&decoded, set);
  assert_true(st_bitfield_equal(&parsed, &decoded));

  st_buf_free(&want);
  st_buf_free(&enc);
  st_bitfield_free(&decoded);
  st_bitfield_free(&parsed);
}

static void test_vectors(void **state) {
  (void)state;
  json_t *v = tu_load_vectors("vectors.json");
  json_t *arr = json_object_get(v, "rleplus");
  assert_true(json_is_array(arr));
  assert_true(json_array_size(arr) > 0);
  size_t i;
  json_t *e;
  json_array_foreach(arr, i, e) {
    const char *set = json_string_value(json_object_get(e, "set"));
    const char *hex = json_string_value(json_object_get(e, "hex"));
    assert_non_null(set);
    assert_non_null(hex);
    check_vector(set, hex);
  }
  json_decref(v);
}

/* The bit builder itself reproduces two vectors, so the hand-made inputs below mean what
 * they say. */
static void test_builder_matches_vectors(void **state) {
  (void)state;
  bits b = {ST_BUF_INIT, 0};
  bits_header(&b, 0); /* "5": 5 zeros, 1 one */
  run4(&b, 5);
  run1(&b);
  bits_trim(&b);
  assert_string_equal(tu_tohex(b.buf.data, b.buf.len), "b002");
  st_buf_free(&b.buf);

  b = (bits){ST_BUF_INIT, 0};
  bits_header(&b, 0); /* "100": 100 zeros (varint), 1 one */
  run_varint(&b, 100);
  run1(&b);
  bits_trim(&b);
  assert_string_equal(tu_tohex(b.buf.data, b.buf.len), "802c");
  st_buf_free(&b.buf);
}

/* ------------------------------------------------------------------ decoder rejections */

static void test_reject_trailing_zero_byte(void **state) {
  (void)state;
  expect_hex_rejected("00", "not minimally encoded");
  expect_hex_rejected("0c00", "not minimally encoded");
  expect_hex_rejected("7c47220200", "not minimally encoded");
}

static void test_reject_version(void **state) {
  (void)state;
  /* "0c" is {0}; set version 1, 2, 3 in its low two bits */
  expect_hex_rejected("0d", "invalid RLE+ version 1");
  expect_hex_rejected("0e", "invalid RLE+ version 2");
  expect_hex_rejected("0f", "invalid RLE+ version 3");
  expect_hex_rejected("ff", "version");
}

/* The bad varint as the first run, and again after runs that set bits 0-2 and 4 (which must
 * not survive the error). */
static void expect_varint_rejected(const uint8_t *v, size_t n, const char *needle) {
  for (int later = 0; later < 2; later++) {
    bits b = {ST_BUF_INIT, 0};
    bits_header(&b, 1);
    if (later) {
      run4(&b, 3);
      run1(&b);
      run1(&b);
    }
    run_varint_raw(&b, v, n);
    bits_seal(&b);
    expect_rejected(&b.buf, needle);
    st_buf_free(&b.buf);
  }
}

static void test_reject_varint_too_long(void **state) {
  (void)state;
  uint8_t v[12];
  memset(v, 0xff, sizeof v);
  v[10] = 0x01; /* 10 continuation bytes, then a last one: 11 bytes */
  expect_varint_rejected(v, 11, "run too long");
  v[10] = 0x80; /* never ends */
  v[11] = 0x80;
  expect_varint_rejected(v, 12, "run too long");
  memset(v, 0x80, sizeof v); /* zero payload bits, still too many bytes */
  v[10] = 0x01;
  expect_varint_rejected(v, 11, "run too long");
}

static void test_reject_varint_past_64_bits(void **state) {
  (void)state;
  uint8_t v[10];
  memset(v, 0xff, 9);
  v[9] = 0x02; /* bit 64 */
  expect_varint_rejected(v, 10, "run too long");
  v[9] = 0x7f;
  expect_varint_rejected(v, 10, "run too long");
  memset(v, 0x80, 9);
  v[9] = 0x02; /* exactly 2^64 */
  expect_varint_rejected(v, 10, "run too long");
}

static void test_reject_varint_not_minimal(void **state) {
  (void)state;
  const uint8_t one_extra[] = {0x81, 0x00};        /* 1 written in 2 bytes */
  const uint8_t zero_extra[] = {0x80, 0x00};       /* 0 written in 2 bytes */
  const uint8_t long_extra[] = {0x90, 0x80, 0x00}; /* 16 written in 3 bytes */
  expect_varint_rejected(one_extra, sizeof one_extra, "invalid run");
  expect_varint_rejected(zero_extra, sizeof zero_extra, "invalid run");
  expect_varint_rejected(long_extra, sizeof long_extra, "invalid run");
  /* a 10-byte varint ending in 0 is not minimal either */
  uint8_t v[10];
  memset(v, 0xff, 9);
  v[9] = 0x00;
  expect_varint_rejected(v, 10, "invalid run");
}

static void test_reject_overflow(void **state) {
  (void)state;
  /* 2^64-1 zeros, then one more bit */
  bits b = {ST_BUF_INIT, 0};
  bits_header(&b, 0);
  run_varint(&b, UINT64_MAX);
  run1(&b);
  bits_seal(&b);
  expect_rejected(&b.buf, "overflow");
  st_buf_free(&b.buf);

  /* 2^63 ones, then 2^63 zeros: 2^64 in all */
  b = (bits){ST_BUF_INIT, 0};
  bits_header(&b, 1);
  run_varint(&b, UINT64_C(1) << 63);
  run_varint(&b, UINT64_C(1) << 63);
  bits_seal(&b);
  expect_rejected(&b.buf, "overflow");
  st_buf_free(&b.buf);

  /* 2^64-2 zeros, one 1, then one more zero bit (a 4-bit run of 2 overflows too) */
  b = (bits){ST_BUF_INIT, 0};
  bits_header(&b, 0);
  run_varint(&b, UINT64_MAX - 1);
  run1(&b);
  run4(&b, 2);
  bits_seal(&b);
  expect_rejected(&b.buf, "overflow");
  st_buf_free(&b.buf);
}

/* A buffer of n bytes: version 0, first run ones, then runs of 1 to the end (alternating bits). */
static void alternating(size_t n, st_buf *out) {
  for (size_t i = 0; i < n; i++) st_buf_putc(out, i == 0 ? 0xfc : 0xff);
}

static void test_reject_too_large(void **state) {
  (void)state;
  st_buf enc = ST_BUF_INIT;
  st_bitfield bf = ST_BITFIELD_INIT;

  alternating(ST_BITFIELD_MAX_ENCODED, &enc); /* exactly 32 KiB: accepted */
  decode_ok(&enc, &bf);
  /* 5 runs of 1 in the first byte, 8 in each other: 262141 runs, ones first */
  assert_int_equal(st_bitfield_count(&bf), 131071);
  assert_int_equal(bf.n, 131071);
  assert_true(st_bitfield_has(&bf, 0) && !st_bitfield_has(&bf, 1) && st_bitfield_has(&bf, 262140));
  assert_false(st_bitfield_has(&bf, 262141));

  st_buf_putc(&enc, 0xff); /* one byte more */
  expect_rejected(&enc, "larger than the 32768-byte limit");

  st_bitfield_free(&bf);
  st_buf_free(&enc);
}

/* ------------------------------------------------------------------ accepted, not canonical */

static void test_accept_noncanonical(void **state) {
  (void)state;
  bits b;

  /* {0}: a run of 1 written in the 4-bit form */
  b = (bits){ST_BUF_INIT, 0};
  bits_header(&b, 1);
  run4(&b, 1);
  bits_trim(&b);
  assert_string_equal(tu_tohex(b.buf.data, b.buf.len), "34");
  expect_decoded(&b.buf, "0");
  st_buf_free(&b.buf);

  /* {5}: 5 zeros written as a varint, 1 one as a varint */
  b = (bits){ST_BUF_INIT, 0};
  bits_header(&b, 0);
  run_varint(&b, 5);
  run_varint(&b, 1);
  bits_trim(&b);
  expect_decoded(&b.buf, "5");
  st_buf_free(&b.buf);

  /* {3-4}: 3 zeros in the 4-bit form, then 2 ones as a varint */
  b = (bits){ST_BUF_INIT, 0};
  bits_header(&b, 0);
  run4(&b, 3);
  run_varint(&b, 2);
  bits_trim(&b);
  expect_decoded(&b.buf, "3-4");
  st_buf_free(&b.buf);

  /* {0}, then an explicit trailing run of 7 zeros (the encoder drops it) */
  b = (bits){ST_BUF_INIT, 0};
  bits_header(&b, 1);
  run1(&b);
  run4(&b, 7);
  bits_trim(&b);
  expect_decoded(&b.buf, "0");
  st_buf_free(&b.buf);

  /* {0}, an explicit end (4-bit run of 0), then bits that are never read */
  b = (bits){ST_BUF_INIT, 0};
  bits_header(&b, 1);
  run1(&b);
  run4(&b, 0);
  bits_put(&b, 0xff, 8);
  expect_decoded(&b.buf, "0");
  st_buf_free(&b.buf);

  /* The same with a varint 0 as the end marker */
  b = (bits){ST_BUF_INIT, 0};
  bits_header(&b, 1);
  run1(&b);
  run_varint(&b, 0);
  bits_put(&b, 0xff, 8);
  expect_decoded(&b.buf, "0");
  st_buf_free(&b.buf);

  /* Leading zero run of 0 length ends at once: the empty set, whatever the first value */
  b = (bits){ST_BUF_INIT, 0};
  bits_header(&b, 1);
  run4(&b, 0);
  bits_seal(&b);
  expect_decoded(&b.buf, "");
  st_buf_free(&b.buf);

  expect_hex_decoded("", "");
  expect_hex_decoded("04", ""); /* first value 1, then runs of length 0 */
}

static void test_accept_extremes(void **state) {
  (void)state;
  bits b;

  /* 2^64-1 ones: the whole index space */
  b = (bits){ST_BUF_INIT, 0};
  bits_header(&b, 1);
  run_varint(&b, UINT64_MAX);
  bits_trim(&b);
  expect_decoded(&b.buf, "0-18446744073709551614");
  st_buf_free(&b.buf);

  /* 2^64-2 zeros and a one at the largest index */
  b = (bits){ST_BUF_INIT, 0};
  bits_header(&b, 0);
  run_varint(&b, TOP);
  run1(&b);
  bits_trim(&b);
  expect_decoded(&b.buf, "18446744073709551614");
  st_buf_free(&b.buf);

  /* 2^64-1 zeros only: empty, total exactly 2^64-1 is not an overflow */
  b = (bits){ST_BUF_INIT, 0};
  bits_header(&b, 0);
  run_varint(&b, UINT64_MAX);
  bits_trim(&b);
  expect_decoded(&b.buf, "");
  st_buf_free(&b.buf);
}

/* Re-encoding a non-canonical input gives the canonical bytes. */
static void test_reencode_canonical(void **state) {
  (void)state;
  st_buf in = ST_BUF_INIT, out = ST_BUF_INIT;
  st_bitfield bf = ST_BITFIELD_INIT;
  tu_hex("34", &in); /* {0} with a 4-bit run */
  decode_ok(&in, &bf);
  encode_ok(&bf, &out);
  assert_string_equal(tu_tohex(out.data, out.len), "0c");
  st_bitfield_free(&bf);
  st_buf_free(&out);
  st_buf_free(&in);
}

/* ------------------------------------------------------------------ encoder */

static void test_encode_appends(void **state) {
  (void)state;
  st_buf out = ST_BUF_INIT;
  st_bitfield bf = ST_BITFIELD_INIT;
  st_buf_putc(&out, 0x00); /* a zero byte before: must not be trimmed */
  encode_ok(&bf, &out);    /* empty set: adds nothing */
  assert_int_equal(out.len, 1);
  parse_ok("0", &bf);
  encode_ok(&bf, &out);
  assert_string_equal(tu_tohex(out.data, out.len), "000c");
  st_bitfield_free(&bf);
  st_buf_free(&out);
}

static void test_encode_run_forms(void **state) {
  (void)state;
  /* Run and gap lengths at every form boundary: "1", 4-bit (2..15), varints of 1, 2, 3 and 9 bytes */
  static const uint64_t lens[] = {1, 2, 15, 16, 127, 128, 1u << 14, UINT64_C(1) << 62};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    for (uint64_t first = 0; first < 3; first++) {
      /* ones at [first*1000, +len) and [first*1000 + 2*len, +len): a gap of len zeros between */
      st_bitfield bf = ST_BITFIELD_INIT;
      st_err err = {0};
      assert_int_equal(st_bitfield_set_range(&bf, first * 1000, lens[i], &err), ST_OK);
      assert_int_equal(st_bitfield_set_range(&bf, first * 1000 + 2 * lens[i], lens[i], &err), ST_OK);
      assert_int_equal(bf.n, 2);
      assert_roundtrip(&bf);
      st_bitfield_free(&bf);
    }
  }
  st_bitfield bf = ST_BITFIELD_INIT;
  parse_ok("18446744073709551614", &bf);
  assert_roundtrip(&bf);
  parse_ok("0-18446744073709551614", &bf);
  assert_roundtrip(&bf);
  parse_ok("1-18446744073709551613", &bf);
  assert_roundtrip(&bf);
  parse_ok("9223372036854775808-18446744073709551614", &bf); /* a gap of 2^63 */
  assert_roundtrip(&bf);
  st_bitfield_free(&bf);
}

/* The encoder picks the form for each length exactly at the boundaries (1 | 2..15 | 16..),
 * for runs of ones and of zeros: checked against the bit builder, not just by round trip. */
static void test_encode_canonical_forms(void **state) {
  (void)state;
  static const uint64_t lens[] = {1, 2, 3, 14, 15, 16, 17, 127, 128, 16383, 16384, UINT64_C(1) << 62};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    for (int ones_first = 0; ones_first < 2; ones_first++) {
      /* ones_first: [0, len) and a one at 2*len; else: len zeros, then one, len zeros, len ones */
      st_bitfield bf = ST_BITFIELD_INIT;
      st_err err = {0};
      st_buf got = ST_BUF_INIT;
      bits want = {ST_BUF_INIT, 0};
      uint64_t L = lens[i];
      bits_header(&want, (unsigned)ones_first);
      if (ones_first) {
        assert_int_equal(st_bitfield_set_range(&bf, 0, L, &err), ST_OK);
        assert_int_equal(st_bitfield_set(&bf, 2 * L, &err), ST_OK);
        run_canonical(&want, L);
        run_canonical(&want, L);
        run1(&want);
      } else {
        assert_int_equal(st_bitfield_set(&bf, L, &err), ST_OK);
        assert_int_equal(st_bitfield_set_range(&bf, 2 * L + 1, L, &err), ST_OK);
        run_canonical(&want, L);
        run1(&want);
        run_canonical(&want, L);
        run_canonical(&want, L);
      }
      bits_trim(&want);
      encode_ok(&bf, &got);
      assert_int_equal(got.len, want.buf.len);
      assert_memory_equal(got.data, want.buf.data, got.len);
      st_buf_free(&want.buf);
      st_buf_free(&got);
      st_bitfield_free(&bf);
    }
  }
}

/* ------------------------------------------------------------------ "0,2,4-6" */

/* Parsing: any order, overlaps and adjacent pieces merge into canonical runs. */
static void test_parse(void **state) {
  (void)state;
  static const struct {
    const char *in, *same_as;
    size_t runs;
  } cases[] = {
      {"", "", 0},
      {"0", "0", 1},
      {"5,1-3,2,0", "0-3,5", 2},
      {"1,2,3", "1-3", 1},
      {"3-3", "3", 1},
      {"1, 3 , 5-6", "1,3,5-6", 3},
      {" 7", "7", 1},
      {"10-20,15-30,31", "10-31", 1},
      {"9,8,7,6", "6-9", 1},
      {"18446744073709551614", "18446744073709551614", 1},
      {"18446744073709551613-18446744073709551614,0", "0,18446744073709551613,18446744073709551614", 2},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    st_bitfield bf = ST_BITFIELD_INIT;
    parse_ok(cases[i].in, &bf);
    assert_canonical(&bf);
    assert_int_equal(bf.n, cases[i].runs);
    assert_set(&bf, cases[i].same_as);
    st_bitfield_free(&bf);
  }
  st_bitfield bf = ST_BITFIELD_INIT;
  parse_ok("2-4,7", &bf);
  assert_int_equal(st_bitfield_count(&bf), 4);
  assert_true(st_bitfield_has(&bf, 2) && st_bitfield_has(&bf, 4) && st_bitfield_has(&bf, 7));
  assert_false(st_bitfield_has(&bf, 1) || st_bitfield_has(&bf, 5) || st_bitfield_has(&bf, 8));
  st_bitfield_free(&bf);
}

/* Formatting, in the notation of the published vectors: runs shorter than 4 one by one. */
static void test_format(void **state) {
  (void)state;
  static const struct {
    const char *set, *text;
  } cases[] = {
      {"", ""},
      {"0", "0"},
      {"0-1", "0,1"},
      {"0-2", "0,1,2"},
      {"0-3", "0-3"},
      {"0,2,4-6,11-27", "0,2,4,5,6,11-27"},
      {"5,10-13,20-21", "5,10-13,20,21"},
      {"18446744073709551612-18446744073709551614", "18446744073709551612,18446744073709551613,18446744073709551614"},
      {"18446744073709551611-18446744073709551614", "18446744073709551611-18446744073709551614"},
      {"0-18446744073709551614", "0-18446744073709551614"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    st_bitfield bf = ST_BITFIELD_INIT;
    parse_ok(cases[i].set, &bf);
    assert_formats_as(&bf, cases[i].text);
    st_bitfield_free(&bf);
  }
  /* appends to what the buffer holds */
  st_buf b = ST_BUF_INIT;
  st_bitfield bf = ST_BITFIELD_INIT;
  parse_ok("1,3", &bf);
  st_buf_puts(&b, "faults=");
  st_bitfield_format_ranges(&bf, &b);
  assert_string_equal(st_buf_cstr(&b), "faults=1,3");
  st_bitfield_free(&bf);
  st_buf_free(&b);
}

static void test_parse_errors(void **state) {
  (void)state;
  expect_parse_error("3-1", ST_EINVAL, "ends (1) before it starts (3)");
  expect_parse_error("1,,2", ST_EINVAL, "expected a number at position 2");
  expect_parse_error("x", ST_EINVAL, "expected a number at position 0");
  expect_parse_error("18446744073709551615", ST_ERANGE, "larger than 2^64-2");
  expect_parse_error("99999999999999999999999", ST_ERANGE, "larger than 2^64-2");
  expect_parse_error("0-18446744073709551615", ST_ERANGE, "larger than 2^64-2");
  expect_parse_error("-1", ST_EINVAL, "expected a number");
  expect_parse_error("1,", ST_EINVAL, "expected a number");
  expect_parse_error("1-", ST_EINVAL, "expected a number");
  expect_parse_error("1 2", ST_EINVAL, "unexpected '2'");
  expect_parse_error("1;2", ST_EINVAL, "unexpected ';'");
  expect_parse_error(" ", ST_EINVAL, "expected a number");
}

/* ------------------------------------------------------------------ large indexes */

static void test_large_indexes(void **state) {
  (void)state;
  st_bitfield bf = ST_BITFIELD_INIT;
  st_err err = {0};

  assert_int_equal(st_bitfield_set(&bf, TOP, &err), ST_OK);
  assert_true(st_bitfield_has(&bf, TOP));
  assert_false(st_bitfield_has(&bf, UINT64_MAX));
  assert_false(st_bitfield_has(&bf, TOP - 1));
  assert_int_equal(st_bitfield_count(&bf), 1);

  /* Every range reaching past 2^64-2 fails with ST_ERANGE and leaves bf alone */
  static const struct {
    uint64_t start, len;
  } bad[] = {{UINT64_MAX, 1}, {TOP, 2}, {TOP - 1, 3}, {1, UINT64_MAX}, {UINT64_MAX, UINT64_MAX}, {TOP, UINT64_MAX - 5}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    st_err_clear(&err);
    assert_int_equal(st_bitfield_set_range(&bf, bad[i].start, bad[i].len, &err), ST_ERANGE);
    tu_assert_err_contains(&err, "2^64-2");
    assert_set(&bf, "18446744073709551614");
  }
  assert_int_equal(st_bitfield_set(&bf, UINT64_MAX, &err), ST_ERANGE);

  /* The whole space: 2^64-1 bits */
  assert_int_equal(st_bitfield_set_range(&bf, 0, UINT64_MAX, &err), ST_OK);
  assert_set(&bf, "0-18446744073709551614");
  assert_true(st_bitfield_count(&bf) == UINT64_MAX);
  assert_int_equal(st_bitfield_set_range(&bf, 5, 0, &err), ST_OK); /* empty range: no-op */
  assert_int_equal(bf.n, 1);

  /* Set operations at the top */
  st_bitfield a = ST_BITFIELD_INIT, b = ST_BITFIELD_INIT, out = ST_BITFIELD_INIT;
  parse_ok("0,18446744073709551610-18446744073709551614", &a);
  parse_ok("18446744073709551612-18446744073709551614", &b);
  assert_int_equal(st_bitfield_subtract(&a, &b, &out, &err), ST_OK);
  assert_set(&out, "0,18446744073709551610-18446744073709551611");
  assert_int_equal(st_bitfield_intersect(&a, &bf, &out, &err), ST_OK);
  assert_true(st_bitfield_equal(&out, &a));
  assert_int_equal(st_bitfield_union(&a, &bf, &out, &err), ST_OK);
  assert_true(st_bitfield_equal(&out, &bf));

  /* Iterating the last bits stops after 2^64-2 */
  st_bitfield_iter it;
  uint64_t x;
  st_bitfield_iter_init(&it, &b);
  assert_true(st_bitfield_iter_next(&it, &x) && x == TOP - 2);
  assert_true(st_bitfield_iter_next(&it, &x) && x == TOP - 1);
  assert_true(st_bitfield_iter_next(&it, &x) && x == TOP);
  assert_false(st_bitfield_iter_next(&it, &x));
  assert_true(x == 0); /* no bit: the out is 0, not the last one */

  st_bitfield_free(&out);
  st_bitfield_free(&b);
  st_bitfield_free(&a);
  st_bitfield_free(&bf);
}

/* ------------------------------------------------------------------ basics */

static void test_copy_clear_equal(void **state) {
  (void)state;
  st_bitfield a = ST_BITFIELD_INIT, b = ST_BITFIELD_INIT;
  st_err err = {0};
  assert_true(st_bitfield_equal(&a, &b));
  parse_ok("1-3,9", &a);
  assert_false(st_bitfield_equal(&a, &b));
  assert_int_equal(st_bitfield_copy(&a, &b, &err), ST_OK);
  assert_true(st_bitfield_equal(&a, &b));
  assert_int_equal(st_bitfield_copy(&a, &a, &err), ST_OK);
  assert_set(&a, "1-3,9");
  st_bitfield_clear(&b);
  assert_int_equal(st_bitfield_count(&b), 0);
  assert_false(st_bitfield_has(&b, 1));
  assert_false(st_bitfield_equal(&a, &b));
  parse_ok("1-2,9", &b);
  assert_false(st_bitfield_equal(&a, &b)); /* same number of runs, different content */
  st_bitfield_free(&a);
  st_bitfield_free(&b);
  assert_null(a.runs);
  assert_int_equal(a.n, 0);
}

/* A set operation that fails leaves its out empty (st_err.h), not what it held before, also
 * when out is one of the inputs. Valid bitfields cannot make union fail but by running out of
 * memory; a run past 2^64-2 (which no public call builds) makes it fail with ST_ERANGE. */
static void test_failed_union_leaves_out_empty(void **state) {
  (void)state;
  st_run past = {TOP, 2};
  st_bitfield bad = {&past, 1, 1}, b = ST_BITFIELD_INIT, out = ST_BITFIELD_INIT;
  st_err err = {0};
  parse_ok("1-3", &b);
  parse_ok("5,7", &out);
  assert_int_equal(st_bitfield_union(&bad, &b, &out, &err), ST_ERANGE);
  assert_int_equal(out.n, 0);
  assert_int_equal(st_bitfield_union(&b, &bad, &b, &err), ST_ERANGE);
  assert_int_equal(b.n, 0);
  st_bitfield_free(&out);
  st_bitfield_free(&b);
}

static void test_set_range_merges(void **state) {
  (void)state;
  st_bitfield bf = ST_BITFIELD_INIT;
  st_err err = {0};
  assert_int_equal(st_bitfield_set_range(&bf, 10, 5, &err), ST_OK); /* 10-14 */
  assert_int_equal(st_bitfield_set_range(&bf, 20, 5, &err), ST_OK); /* 20-24 */
  assert_int_equal(st_bitfield_set_range(&bf, 0, 2, &err), ST_OK);  /* insert before */
  assert_int_equal(st_bitfield_set_range(&bf, 30, 1, &err), ST_OK); /* append */
  assert_set(&bf, "0-1,10-14,20-24,30");
  assert_int_equal(st_bitfield_set(&bf, 15, &err), ST_OK); /* touches the end of 10-14 */
  assert_int_equal(st_bitfield_set(&bf, 19, &err), ST_OK); /* touches the start of 20-24 */
  assert_set(&bf, "0-1,10-15,19-24,30");
  assert_int_equal(st_bitfield_set_range(&bf, 16, 3, &err), ST_OK); /* fills the gap exactly */
  assert_set(&bf, "0-1,10-24,30");
  assert_int_equal(st_bitfield_set_range(&bf, 2, 28, &err), ST_OK); /* bridges everything */
  assert_set(&bf, "0-30");
  assert_int_equal(st_bitfield_set_range(&bf, 5, 3, &err), ST_OK); /* inside */
  assert_set(&bf, "0-30");
  assert_int_equal(bf.n, 1);
  st_bitfield_free(&bf);
}

/* ------------------------------------------------------------------ randomized model */

#define NBITS 300
#define ROUNDS 3000

typedef struct model {
  bool bit[NBITS];
} model;

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void) { /* xorshift64 */
  uint64_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return rng_state = x;
}

static uint64_t rnd_below(uint64_t n) { return rnd() % n; }

/* A random set in [0, NBITS), built with a mix of set_range and set, in random order. */
static void random_set(st_bitfield *bf, model *m) {
  st_err err = {0};
  memset(m, 0, sizeof *m);
  st_bitfield_clear(bf);
  unsigned ops = (unsigned)rnd_below(14);
  for (unsigned k = 0; k < ops; k++) {
    uint64_t start = rnd_below(NBITS);
    uint64_t maxlen = NBITS - start < 40 ? NBITS - start : 40;
    uint64_t len = rnd_below(4) == 0 ? 1 : rnd_below(maxlen + 1);
    st_code rc =
        len == 1 && rnd_below(2) ? st_bitfield_set(bf, start, &err) : st_bitfield_set_range(bf, start, len, &err);
    assert_int_equal(rc, ST_OK);
    for (uint64_t i = start; i < start + len; i++) m->bit[i] = true;
  }
}

static void assert_matches(const st_bitfield *bf, const model *m) {
  assert_canonical(bf);
  uint64_t count = 0;
  for (uint64_t i = 0; i < NBITS; i++) {
    if (st_bitfield_has(bf, i) != m->bit[i])
      fail_msg("bit %llu: bitfield %d, model %d", (unsigned long long)i, !m->bit[i], m->bit[i]);
    count += m->bit[i];
  }
  assert_false(st_bitfield_has(bf, NBITS));
  assert_false(st_bitfield_has(bf, UINT64_MAX));
  assert_int_equal(st_bitfield_count(bf), count);

  st_bitfield_iter it;
  uint64_t x, want = 0, seen = 0;
  st_bitfield_iter_init(&it, bf);
  while (st_bitfield_iter_next(&it, &x)) {
    while (want < NBITS && !m->bit[want]) want++;
    assert_int_equal(x, want);
    want++;
    seen++;
  }
  assert_int_equal(seen, count);
}

typedef st_code (*setop_fn)(const st_bitfield *, const st_bitfield *, st_bitfield *, st_err *);

enum { OP_UNION, OP_INTERSECT, OP_SUBTRACT };

static const struct {
  const char *name;
  setop_fn fn;
  int kind;
} setops[] = {
    {"union", st_bitfield_union, OP_UNION},
    {"intersect", st_bitfield_intersect, OP_INTERSECT},
    {"subtract", st_bitfield_subtract, OP_SUBTRACT},
};

static void model_op(int kind, const model *a, const model *b, model *out) {
  for (size_t i = 0; i < NBITS; i++) {
    switch (kind) {
      case OP_UNION: out->bit[i] = a->bit[i] || b->bit[i]; break;
      case OP_INTERSECT: out->bit[i] = a->bit[i] && b->bit[i]; break;
      default: out->bit[i] = a->bit[i] && !b->bit[i]; break;
    }
  }
}

static void copy_ok(const st_bitfield *src, st_bitfield *dst) {
  st_err err = {0};
  assert_int_equal(st_bitfield_copy(src, dst, &err), ST_OK);
}

/* op(a, b) into a fresh bitfield, into a copy of a (out == a) and into a copy of b (out == b). */
static void check_setop(size_t op, const st_bitfield *a, const model *ma, const st_bitfield *b, const model *mb) {
  st_err err = {0};
  model want;
  st_bitfield out = ST_BITFIELD_INIT, alias = ST_BITFIELD_INIT;
  model_op(setops[op].kind, ma, mb, &want);

  parse_ok("0-400", &out); /* results replace what was there */
  assert_int_equal(setops[op].fn(a, b, &out, &err), ST_OK);
  assert_matches(&out, &want);

  copy_ok(a, &alias);
  assert_int_equal(setops[op].fn(&alias, b, &alias, &err), ST_OK);
  assert_true(st_bitfield_equal(&alias, &out));

  copy_ok(b, &alias);
  assert_int_equal(setops[op].fn(a, &alias, &alias, &err), ST_OK);
  assert_true(st_bitfield_equal(&alias, &out));

  st_bitfield_free(&alias);
  st_bitfield_free(&out);
}

/* op(a, a) with out == a as well. */
static void check_self_op(size_t op, const st_bitfield *a, const model *ma) {
  st_err err = {0};
  model want;
  st_bitfield self = ST_BITFIELD_INIT;
  model_op(setops[op].kind, ma, ma, &want);
  copy_ok(a, &self);
  assert_int_equal(setops[op].fn(&self, &self, &self, &err), ST_OK);
  assert_matches(&self, &want);
  st_bitfield_free(&self);
}

static void check_text_roundtrip(const st_bitfield *bf) {
  st_buf text = ST_BUF_INIT;
  st_bitfield back = ST_BITFIELD_INIT;
  st_bitfield_format_ranges(bf, &text);
  parse_ok(st_buf_cstr(&text), &back);
  assert_true(st_bitfield_equal(bf, &back));
  st_bitfield_free(&back);
  st_buf_free(&text);
}

static void test_random_model(void **state) {
  (void)state;
  st_bitfield a = ST_BITFIELD_INIT, b = ST_BITFIELD_INIT;
  model ma, mb;
  rng_state = 0x9e3779b97f4a7c15u;
  for (int round = 0; round < ROUNDS; round++) {
    random_set(&a, &ma);
    random_set(&b, &mb);
    assert_matches(&a, &ma);
    assert_matches(&b, &mb);
    for (size_t op = 0; op < sizeof setops / sizeof setops[0]; op++) {
      check_setop(op, &a, &ma, &b, &mb);
      check_setop(op, &b, &mb, &a, &ma);
      check_self_op(op, &a, &ma);
    }
    assert_roundtrip(&a);
    check_text_roundtrip(&a);
  }
  st_bitfield_free(&a);
  st_bitfield_free(&b);
}

/* Random sets spread over the whole 64-bit range (gaps and runs of every encoding form),
 * built by appending; encode -> decode must give them back. */
static void test_random_roundtrip_wide(void **state) {
  (void)state;
  st_err err = {0};
  rng_state = 0x2545f4914f6cdd1du;
  for (int round = 0; round < 2000; round++) {
    st_bitfield bf = ST_BITFIELD_INIT;
    uint64_t pos = rnd_below(3) == 0 ? 0 : rnd() >> (4 + rnd_below(60)), count = 0;
    unsigned runs = (unsigned)rnd_below(20);
    for (unsigned k = 0; k < runs; k++) {
      uint64_t len = 1 + (rnd() >> (6 + rnd_below(58)));
      assert_int_equal(st_bitfield_set_range(&bf, pos, len, &err), ST_OK);
      count += len;
      pos += len + 1 + (rnd() >> (6 + rnd_below(58)));
    }
    assert_int_equal(bf.n, runs);
    assert_true(st_bitfield_count(&bf) == count);
    assert_roundtrip(&bf);
    check_text_roundtrip(&bf);
    st_bitfield_free(&bf);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vectors),
      cmocka_unit_test(test_builder_matches_vectors),
      cmocka_unit_test(test_reject_trailing_zero_byte),
      cmocka_unit_test(test_reject_version),
      cmocka_unit_test(test_reject_varint_too_long),
      cmocka_unit_test(test_reject_varint_past_64_bits),
      cmocka_unit_test(test_reject_varint_not_minimal),
      cmocka_unit_test(test_reject_overflow),
      cmocka_unit_test(test_reject_too_large),
      cmocka_unit_test(test_accept_noncanonical),
      cmocka_unit_test(test_accept_extremes),
      cmocka_unit_test(test_reencode_canonical),
      cmocka_unit_test(test_encode_appends),
      cmocka_unit_test(test_encode_run_forms),
      cmocka_unit_test(test_encode_canonical_forms),
      cmocka_unit_test(test_parse),
      cmocka_unit_test(test_format),
      cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_large_indexes),
      cmocka_unit_test(test_copy_clear_equal),
      cmocka_unit_test(test_failed_union_leaves_out_empty),
      cmocka_unit_test(test_set_range_merges),
      cmocka_unit_test(test_random_model),
      cmocka_unit_test(test_random_roundtrip_wide),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
