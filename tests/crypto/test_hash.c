/* Tests for st_hash: SHA-256 and BLAKE2b known answers (FIPS 180-4, RFC 7693), streaming
 * equals one-shot at every split, and variable BLAKE2b lengths. */
#include "testutil.h"

#include <string.h>

#include "crypto/st_hash.h"

static void test_sha256(void **state) {
  (void)state;
  uint8_t d[32];
  st_sha256("", 0, d);
  assert_string_equal(tu_tohex(d, 32), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  st_sha256("abc", 3, d);
  assert_string_equal(tu_tohex(d, 32), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  st_sha256(m, strlen(m), d);
  assert_string_equal(tu_tohex(d, 32), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  st_sha256_ctx ctx;
  st_err err;
  assert_int_equal(st_sha256_init(&ctx, &err), ST_OK);
  for (size_t split = 0; split <= strlen(m); split++) {
    uint8_t s[32];
    st_sha256_update(&ctx, m, split);
    st_sha256_update(&ctx, m + split, strlen(m) - split);
    st_sha256_final(&ctx, s); /* final also resets, so the loop reuses ctx */
    assert_memory_equal(s, d, 32);
  }
  st_sha256_free(&ctx);
}

static void test_blake2b(void **state) {
  (void)state;
  uint8_t d[64];
  st_blake2b(d, 64, "abc", 3);
  assert_string_equal(tu_tohex(d, 64),
                      "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                      "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
  st_blake2b_256("abc", 3, d);
  assert_string_equal(tu_tohex(d, 32), "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  /* the secp256k1 address vector: payload = blake2b-160 of the public key */
  json_t *v = tu_load_vectors("vectors.json");
  json_t *a = json_array_get(json_object_get(v, "addresses"), 0);
  st_buf pub = ST_BUF_INIT;
  tu_hex(json_string_value(json_object_get(a, "pubkey_uncompressed")), &pub);
  st_blake2b(d, 20, pub.data, pub.len);
  assert_string_equal(tu_tohex(d, 20), json_string_value(json_object_get(a, "payload")));
  st_buf_free(&pub);
  json_decref(v);
  /* streaming */
  uint8_t data[300];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7);
  uint8_t one[32], two[32];
  st_blake2b(one, 32, data, sizeof data);
  for (size_t split = 0; split <= sizeof data; split += 13) {
    st_blake2b_ctx ctx;
    st_blake2b_init(&ctx, 32);
    st_blake2b_update(&ctx, data, split);
    st_blake2b_update(&ctx, data + split, sizeof data - split);
    st_blake2b_final(&ctx, two);
    assert_memory_equal(one, two, 32);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_sha256), cmocka_unit_test(test_blake2b)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
