/* Tests for st_secp: the published Filecoin signing vector, sign/recover/verify round trips,
 * and every tampering a verifier must catch. */
#include "testutil.h"

#include <string.h>

#include "codec/st_address.h"
#include "codec/st_cid.h"
#include "core/st_encoding.h"
#include "crypto/st_secp.h"

/* filecoin-project/serialization-vectors, message_signing.json (secp256k1 entry): the key, its
 * address, the unsigned message's CID bytes (what Lotus signs) and the signature. */
#define VEC_PRIV_B64 "sC23s2GtwGXq/4DbBoTqToIUCA4ESOJjjaMas6WLsZM="
#define VEC_ADDR "t1slxh2kv3vwz3japfiyyd7rkw6p7tm4pt4wo5wyq"
#define VEC_CID "bafy2bzacebyfjqfsq6lapiktpquxmvt7akarfqqiwyo27fwvwbvy4n7i2j3tw"
#define VEC_CID_HEX "0171a0e402207054c0b2879607a1537c2976567f028112c208b61daf96d5b06b8e37e8d2773b"
#define VEC_SIG_B64 "3rqEdesPlYdrEVzNAbhfTQoXf8QseeE5e4HBRo+PiQNPZYTr8gkAiguku2SZFsC0p6QBpeprnEcQakZSnNB5XgA="

static void b64(const char *s, st_buf *out) {
  st_err err;
  if (st_base64_decode(s, strlen(s), true, out, &err)) fail_msg("%s", err.msg);
}

static void test_published_vector(void **state) {
  (void)state;
  st_buf sk = ST_BUF_INIT, want_sig = ST_BUF_INIT, msg = ST_BUF_INIT;
  b64(VEC_PRIV_B64, &sk);
  b64(VEC_SIG_B64, &want_sig);
  tu_hex(VEC_CID_HEX, &msg);
  assert_int_equal(sk.len, 32);
  assert_int_equal(want_sig.len, ST_SECP_SIG_LEN);

  st_err err;
  st_address addr, want_addr;
  assert_int_equal(st_secp_address(sk.data, &addr, &err), ST_OK);
  assert_int_equal(st_address_parse(VEC_ADDR, &want_addr, NULL, &err), ST_OK);
  assert_true(st_address_equal(&addr, &want_addr));

  st_cid c;
  assert_int_equal(st_cid_parse(VEC_CID, &c, &err), ST_OK);
  uint8_t raw[ST_CID_MAX_BYTES];
  size_t n = st_cid_to_bytes(&c, raw);
  assert_int_equal(n, msg.len);
  assert_memory_equal(raw, msg.data, n);

  uint8_t sig[ST_SECP_SIG_LEN];
  assert_int_equal(st_secp_sign(sk.data, msg.data, msg.len, sig, &err), ST_OK);
  assert_string_equal(tu_tohex(sig, sizeof sig), tu_tohex(want_sig.data, want_sig.len));
  assert_int_equal(st_secp_verify(want_sig.data, msg.data, msg.len, &want_addr, &err), ST_OK);
  st_buf_free(&sk);
  st_buf_free(&want_sig);
  st_buf_free(&msg);
}

static void test_tampering(void **state) {
  (void)state;
  uint8_t sk[32], sig[65], bad[65];
  st_err err;
  st_address addr, other;
  assert_int_equal(st_secp_keygen(sk, &err), ST_OK);
  assert_int_equal(st_secp_address(sk, &addr, &err), ST_OK);
  assert_int_equal(st_address_protocol(&addr), ST_ADDR_SECP256K1);
  const char *msg = "SubmitWindowedPoSt deadline 30";
  assert_int_equal(st_secp_sign(sk, (const uint8_t *)msg, strlen(msg), sig, &err), ST_OK);
  assert_int_equal(st_secp_verify(sig, (const uint8_t *)msg, strlen(msg), &addr, &err), ST_OK);

  /* another message */
  assert_int_equal(st_secp_verify(sig, (const uint8_t *)"x", 1, &addr, &err), ST_ECRYPTO);
  tu_assert_err_contains(&err, "not made by the signer's key");
  /* each byte of r, s and v flipped */
  for (size_t i = 0; i < 65; i++) {
    memcpy(bad, sig, 65);
    bad[i] ^= i == 64 ? 1 : 0x40;
    assert_int_equal(st_secp_verify(bad, (const uint8_t *)msg, strlen(msg), &addr, NULL), ST_ECRYPTO);
  }
  memcpy(bad, sig, 65);
  bad[64] = 4;
  assert_int_equal(st_secp_verify(bad, (const uint8_t *)msg, strlen(msg), &addr, &err), ST_ECRYPTO);
  tu_assert_err_contains(&err, "recovery id 4 is not 0 to 3");
  /* r = n (the group order) is not a valid scalar */
  memcpy(bad, sig, 65);
  st_buf order = ST_BUF_INIT;
  tu_hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", &order);
  memcpy(bad, order.data, 32);
  assert_int_equal(st_secp_verify(bad, (const uint8_t *)msg, strlen(msg), &addr, &err), ST_ECRYPTO);
  st_buf_free(&order);
  /* the wrong signer, and a signer that is not an f1 address */
  uint8_t sk2[32];
  assert_int_equal(st_secp_keygen(sk2, &err), ST_OK);
  assert_int_equal(st_secp_address(sk2, &other, &err), ST_OK);
  assert_int_equal(st_secp_verify(sig, (const uint8_t *)msg, strlen(msg), &other, &err), ST_ECRYPTO);
  assert_int_equal(st_address_from_id(1003, &other, &err), ST_OK);
  assert_int_equal(st_secp_verify(sig, (const uint8_t *)msg, strlen(msg), &other, &err), ST_ECRYPTO);
  tu_assert_err_contains(&err, "not a secp256k1");
  st_secure_zero(sk, sizeof sk);
  st_secure_zero(sk2, sizeof sk2);
}

static void test_keys(void **state) {
  (void)state;
  st_err err;
  uint8_t zero[32] = {0}, pub[65], pub2[65], sig[65];
  assert_int_equal(st_secp_seckey_check(zero, &err), ST_ECRYPTO);
  /* what cannot be made is all zero (st_err.h) */
  tu_poison(pub, sizeof pub);
  assert_int_equal(st_secp_pubkey(zero, pub, &err), ST_ECRYPTO);
  tu_assert_zeroed(pub, sizeof pub);
  st_address addr;
  tu_poison(&addr, sizeof addr);
  assert_int_equal(st_secp_address(zero, &addr, &err), ST_ECRYPTO);
  tu_assert_zeroed(&addr, sizeof addr);
  tu_poison(sig, sizeof sig);
  assert_int_equal(st_secp_sign(zero, (const uint8_t *)"m", 1, sig, &err), ST_ECRYPTO);
  tu_assert_zeroed(sig, sizeof sig);
  sig[64] = 4;
  tu_poison(pub, sizeof pub);
  assert_int_equal(st_secp_recover(sig, (const uint8_t *)"m", 1, pub, &err), ST_ECRYPTO);
  tu_assert_zeroed(pub, sizeof pub);
  memset(sig, 0, sizeof sig); /* r = s = 0: nothing recovers */
  tu_poison(pub, sizeof pub);
  assert_int_equal(st_secp_recover(sig, (const uint8_t *)"m", 1, pub, &err), ST_ECRYPTO);
  tu_assert_zeroed(pub, sizeof pub);
  /* compressed and uncompressed forms of the vector key parse to the same point */
  json_t *v = tu_load_vectors("vectors.json");
  st_buf unc = ST_BUF_INIT;
  tu_hex(json_string_value(json_object_get(json_array_get(json_object_get(v, "addresses"), 0), "pubkey_uncompressed")),
         &unc);
  uint8_t comp[33];
  comp[0] = (uint8_t)(0x02 | (unc.data[64] & 1));
  memcpy(comp + 1, unc.data + 1, 32);
  assert_int_equal(st_secp_pubkey_parse(comp, 33, pub, &err), ST_OK);
  assert_int_equal(st_secp_pubkey_parse(unc.data, 65, pub2, &err), ST_OK);
  assert_memory_equal(pub, pub2, 65);
  assert_memory_equal(pub, unc.data, 65);
  comp[0] = 0x05;
  assert_int_equal(st_secp_pubkey_parse(comp, 33, pub, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "not a point on the curve");
  tu_assert_zeroed(pub, sizeof pub); /* it held the parsed key */
  tu_poison(pub, sizeof pub);
  assert_int_equal(st_secp_pubkey_parse(comp, 20, pub, &err), ST_EINVAL);
  tu_assert_zeroed(pub, sizeof pub);
  st_buf_free(&unc);
  json_decref(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_published_vector), cmocka_unit_test(test_tampering),
                                     cmocka_unit_test(test_keys)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
