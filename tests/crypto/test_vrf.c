/* Tests for st_vrf: the published ECVRF-SECP256K1-SHA256-TAI proof, verification of random
 * proofs, and rejection of every tampered byte, wrong key and wrong input. */
#include "testutil.h"

#include <string.h>

#include "crypto/st_secp.h"
#include "crypto/st_vrf.h"

/* vechain/go-ecvrf vrf_test.go (Test_Secp256K1Sha256Tai_vrf_Verify_bad_message): a proof for
 * alpha "sample" under this key; the same test verifies it fails for "Hello VeChain". */
#define VEC_SK "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"
#define VEC_PI \
  "031f4dbca087a1972d04a07a779b7df1caa99e0f5db2aa21f3aecc4f9e10e85d08748c9fbe6b95d17359707bfb8e8ab0c93ba0c515333adcb8b64f372c535e115ccf66ebf5abe6fadb01b5efb37c0a0ec9"
#define VEC_BETA "612065e309e937ef46c2ef04d5886b9c6efd2991ac484ec64a9b014366fc5d81"

static void test_published_vector(void **state) {
  (void)state;
  st_buf sk = ST_BUF_INIT, want = ST_BUF_INIT;
  tu_hex(VEC_SK, &sk);
  tu_hex(VEC_PI, &want);
  assert_int_equal(want.len, ST_VRF_PROOF_LEN);
  uint8_t pi[ST_VRF_PROOF_LEN], beta[32], pub[65];
  st_err err;
  assert_int_equal(st_vrf_prove(sk.data, (const uint8_t *)"sample", 6, pi, beta, &err), ST_OK);
  assert_string_equal(tu_tohex(pi, sizeof pi), VEC_PI);
  assert_string_equal(tu_tohex(beta, 32), VEC_BETA);
  assert_int_equal(st_secp_pubkey(sk.data, pub, &err), ST_OK);
  memset(beta, 0, 32);
  assert_int_equal(st_vrf_verify(pub, 65, (const uint8_t *)"sample", 6, want.data, beta, &err), ST_OK);
  assert_string_equal(tu_tohex(beta, 32), VEC_BETA);
  assert_int_equal(st_vrf_verify(pub, 65, (const uint8_t *)"Hello VeChain", 13, want.data, beta, &err), ST_ECRYPTO);
  tu_assert_err_contains(&err, "proof does not verify");
  assert_int_equal(st_vrf_proof_to_hash(want.data, beta, &err), ST_OK);
  assert_string_equal(tu_tohex(beta, 32), VEC_BETA);
  st_buf_free(&sk);
  st_buf_free(&want);
}

static void test_random_and_tampered(void **state) {
  (void)state;
  st_err err;
  for (int round = 0; round < 8; round++) {
    uint8_t sk[32], pub[65], pi[ST_VRF_PROOF_LEN], pi2[ST_VRF_PROOF_LEN], beta[32], beta2[32], bad[ST_VRF_PROOF_LEN];
    uint8_t alpha[40];
    assert_int_equal(st_secp_keygen(sk, &err), ST_OK);
    assert_int_equal(st_secp_pubkey(sk, pub, &err), ST_OK);
    assert_int_equal(st_random_bytes(alpha, sizeof alpha, &err), ST_OK);
    size_t alen = (size_t)round * 5;
    assert_int_equal(st_vrf_prove(sk, alpha, alen, pi, beta, &err), ST_OK);
    /* deterministic */
    assert_int_equal(st_vrf_prove(sk, alpha, alen, pi2, beta2, &err), ST_OK);
    assert_memory_equal(pi, pi2, sizeof pi);
    assert_int_equal(st_vrf_verify(pub, 65, alpha, alen, pi, beta2, &err), ST_OK);
    assert_memory_equal(beta, beta2, 32);
    /* compressed key verifies too */
    uint8_t comp[33];
    comp[0] = (uint8_t)(0x02 | (pub[64] & 1));
    memcpy(comp + 1, pub + 1, 32);
    assert_int_equal(st_vrf_verify(comp, 33, alpha, alen, pi, NULL, &err), ST_OK);
    /* every byte of the proof matters */
    for (size_t i = 0; i < sizeof pi; i++) {
      memcpy(bad, pi, sizeof pi);
      bad[i] ^= 0x01;
      assert_int_equal(st_vrf_verify(pub, 65, alpha, alen, bad, NULL, NULL), ST_ECRYPTO);
    }
    /* a different input */
    alpha[0] ^= 1;
    assert_int_equal(st_vrf_verify(pub, 65, alpha, alen + 1, pi, NULL, NULL), ST_ECRYPTO);
    /* another key */
    uint8_t sk2[32], pub2[65];
    assert_int_equal(st_secp_keygen(sk2, &err), ST_OK);
    assert_int_equal(st_secp_pubkey(sk2, pub2, &err), ST_OK);
    assert_int_equal(st_vrf_verify(pub2, 65, alpha, alen, pi, NULL, NULL), ST_ECRYPTO);
  }
}

static void test_malformed(void **state) {
  (void)state;
  st_err err;
  uint8_t sk[32], pub[65], pi[ST_VRF_PROOF_LEN];
  assert_int_equal(st_secp_keygen(sk, &err), ST_OK);
  assert_int_equal(st_secp_pubkey(sk, pub, &err), ST_OK);
  assert_int_equal(st_vrf_prove(sk, (const uint8_t *)"a", 1, pi, NULL, &err), ST_OK);
  uint8_t bad[ST_VRF_PROOF_LEN], beta[ST_VRF_OUTPUT_LEN];
  memcpy(bad, pi, sizeof bad);
  bad[0] = 0x04; /* not a compressed point */
  tu_poison(beta, sizeof beta);
  assert_int_equal(st_vrf_verify(pub, 65, (const uint8_t *)"a", 1, bad, beta, &err), ST_ECRYPTO);
  tu_assert_err_contains(&err, "Gamma is not a compressed curve point");
  tu_assert_zeroed(beta, sizeof beta); /* no output of a proof that fails (st_err.h) */
  tu_poison(beta, sizeof beta);
  assert_int_equal(st_vrf_proof_to_hash(bad, beta, &err), ST_ECRYPTO);
  tu_assert_zeroed(beta, sizeof beta);
  /* a key that is not one: no proof, no output */
  uint8_t zero[32] = {0}, pi0[ST_VRF_PROOF_LEN];
  tu_poison(pi0, sizeof pi0);
  tu_poison(beta, sizeof beta);
  assert_int_equal(st_vrf_prove(zero, (const uint8_t *)"a", 1, pi0, beta, &err), ST_ECRYPTO);
  tu_assert_zeroed(pi0, sizeof pi0);
  tu_assert_zeroed(beta, sizeof beta);
  memcpy(bad, pi, sizeof bad);
  memset(bad + 49, 0xff, 32); /* s >= n */
  assert_int_equal(st_vrf_verify(pub, 65, (const uint8_t *)"a", 1, bad, NULL, &err), ST_ECRYPTO);
  tu_assert_err_contains(&err, "s is zero or not below the curve order");
  assert_int_equal(st_vrf_verify(pub, 64, (const uint8_t *)"a", 1, pi, NULL, &err), ST_ECRYPTO);
  tu_assert_err_contains(&err, "invalid public key");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_published_vector),
                                     cmocka_unit_test(test_random_and_tampered), cmocka_unit_test(test_malformed)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
