/* Tests for st_cid: the published CID vectors, commitment CIDs, and every parse rejection. */
#include "testutil.h"

#include <string.h>

#include "codec/st_cid.h"

static void test_vectors_dag_cbor(void **state) {
  (void)state;
  json_t *v = tu_load_vectors("vectors.json");
  json_t *cids = json_object_get(v, "cids");
  assert_true(json_array_size(cids) >= 3);
  size_t i;
  json_t *e;
  json_array_foreach(cids, i, e) {
    st_buf data = ST_BUF_INIT;
    tu_hex(json_string_value(json_object_get(e, "data_hex")), &data);
    const char *want = json_string_value(json_object_get(e, "cid"));
    st_cid c, back;
    char text[ST_CID_STR_MAX];
    st_cid_of_cbor(data.data, data.len, &c);
    st_cid_to_string(&c, text);
    assert_string_equal(text, want);
    st_err err;
    assert_int_equal(st_cid_parse(want, &back, &err), ST_OK);
    assert_true(st_cid_equal(&c, &back));
    uint8_t raw[ST_CID_MAX_BYTES];
    size_t n = st_cid_to_bytes(&c, raw);
    assert_int_equal(n, 38);
    assert_string_equal(tu_tohex(raw, 6), "0171a0e40220"); /* v1, dag-cbor, blake2b-256, 32 */
    st_buf_free(&data);
  }
  json_decref(v);
}

static void test_vectors_commitments(void **state) {
  (void)state;
  json_t *v = tu_load_vectors("vectors.json");
  json_t *z = json_object_get(v, "zero_piece_commitments");
  st_buf comm = ST_BUF_INIT;
  tu_hex(json_string_value(json_object_get(z, "2048")), &comm);
  assert_int_equal(comm.len, 32);
  st_cid c, back;
  char text[ST_CID_STR_MAX];
  st_cid_of_commitment(comm.data, false, &c);
  st_cid_to_string(&c, text);
  assert_string_equal(text, json_string_value(json_object_get(z, "cid_2048")));
  st_err err;
  assert_int_equal(st_cid_parse(text, &back, &err), ST_OK);
  assert_int_equal(back.codec, ST_CODEC_FIL_UNSEALED);
  assert_int_equal(back.mh_code, ST_MH_SHA2_256_TRUNC254_PADDED);
  assert_memory_equal(back.digest, comm.data, 32);
  uint8_t raw[ST_CID_MAX_BYTES];
  st_cid_to_bytes(&c, raw);
  assert_string_equal(tu_tohex(raw, 7), "0181e203922020");

  /* comm_r: fil-commitment-sealed + poseidon-bls12_381-a1-fc1; string prefix bagboea4b5abc */
  st_cid_of_commitment(comm.data, true, &c);
  st_cid_to_bytes(&c, raw);
  assert_string_equal(tu_tohex(raw, 8), "0182e20381e80220");
  st_cid_to_string(&c, text);
  assert_true(strncmp(text, "bagboea4b5abc", 13) == 0);
  st_buf_free(&comm);
  json_decref(v);
}

/* A CID that cannot be read is all zero (st_err.h), not half read. */
static void assert_parse_fails(const char *s, const char *want) {
  st_cid c;
  st_err err = {0};
  tu_poison(&c, sizeof c);
  assert_int_equal(st_cid_parse(s, &c, &err), ST_EINVAL);
  tu_assert_err_contains(&err, want);
  tu_assert_zeroed(&c, sizeof c);
}

static void assert_bytes_fail(const char *hex, const char *want) {
  st_buf b = ST_BUF_INIT;
  tu_hex(hex, &b);
  st_cid c;
  st_err err = {0};
  tu_poison(&c, sizeof c);
  assert_true(st_cid_from_bytes(b.data, b.len, &c, NULL, &err) != ST_OK);
  tu_assert_err_contains(&err, want);
  tu_assert_zeroed(&c, sizeof c);
  st_buf_free(&b);
}

static void test_parse_rejections(void **state) {
  (void)state;
  assert_parse_fails("", "empty CID");
  assert_parse_fails("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", "CIDv0");
  assert_parse_fails("zdj7WhuEjrB52m1BisYCtmjH1hSKa7yZ3jEZ9JcXaFRD51wVz", "unsupported multibase prefix 'z'");
  assert_parse_fails("bafy2bzacea456askyutsf7uk4ta2q5aojrlcji4mhaqokbfalgvoq4ueeh4l1", "invalid base32 character '1'");
  assert_parse_fails("BAFY2BZACEA456ASKYUTSF7UK4TA2Q5AOJRLCJI4MHAQOKBFALGVOQ4UEEH4L2",
                     "unsupported multibase prefix 'B'");
  assert_parse_fails("bafy2bzacea456askyutsf7uk4ta2q5aojrlcji4mhaqokbfalgvoq4ueeh4l", "non-canonical base32");
  assert_parse_fails("bafy2bzace", "cannot encode whole bytes");
  assert_bytes_fail("12200000", "CIDv0 is not supported");
  assert_bytes_fail("02710000", "unsupported CID version 2");
  assert_bytes_fail("0171a0e4021f00", "needs a 32-byte digest, got 31");
  assert_bytes_fail("0171a0e40220aabb", "CID digest is truncated: 32 bytes declared, 2 present");
  assert_bytes_fail("017100010000", "1 unexpected byte after the CID");
  assert_bytes_fail("01f100", "CID codec at byte 1: varint is not minimally encoded");
  assert_bytes_fail("0171", "CID multihash code at byte 2: varint is truncated");
  assert_bytes_fail("01710041", "CID multihash digest of 65 bytes is longer than 64");
}

static void test_bytes_with_used(void **state) {
  (void)state;
  st_cid c, got;
  st_cid_of_cbor("x", 1, &c);
  uint8_t raw[ST_CID_MAX_BYTES + 3];
  size_t n = st_cid_to_bytes(&c, raw);
  memcpy(raw + n, "\xaa\xbb\xcc", 3);
  size_t used = 0;
  st_err err;
  assert_int_equal(st_cid_from_bytes(raw, n + 3, &got, &used, &err), ST_OK);
  assert_int_equal(used, n);
  assert_true(st_cid_equal(&c, &got));
  assert_int_equal(st_cid_from_bytes(raw, n + 3, &got, NULL, &err), ST_EINVAL);
  tu_assert_zeroed(&got, sizeof got); /* it was c, read before the trailing bytes */
  used = 7;
  assert_int_equal(st_cid_from_bytes(raw, 3, &got, &used, &err), ST_EINVAL);
  assert_int_equal(used, 0);
  /* identity multihash: any length up to 64 */
  const uint8_t id[] = {0x01, 0x55, 0x00, 0x03, 'a', 'b', 'c'};
  assert_int_equal(st_cid_from_bytes(id, sizeof id, &got, NULL, &err), ST_OK);
  assert_int_equal(got.codec, ST_CODEC_RAW);
  assert_int_equal(got.digest_len, 3);
  assert_string_equal(st_cid_codec_name(ST_CODEC_FIL_SEALED), "fil-commitment-sealed");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vectors_dag_cbor),
      cmocka_unit_test(test_vectors_commitments),
      cmocka_unit_test(test_parse_rejections),
      cmocka_unit_test(test_bytes_with_used),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
