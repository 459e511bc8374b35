/* Tests for st_address: every published address vector, both networks, and the rejections
 * go-address makes, with its words. */
#include "testutil.h"

#include <string.h>

#include "codec/st_address.h"
#include "core/st_encoding.h"
#include "crypto/st_hash.h"

static void check_string(const st_address *a, const char *want) {
  char text[ST_ADDR_STR_MAX];
  st_err err;
  assert_int_equal(st_address_format(a, 't', text, &err), ST_OK);
  assert_string_equal(text, want);
  /* mainnet: same body, 'f' prefix */
  assert_int_equal(st_address_format(a, 'f', text, &err), ST_OK);
  assert_int_equal(text[0], 'f');
  assert_string_equal(text + 1, want + 1);
  st_address back;
  char net;
  assert_int_equal(st_address_parse(want, &back, &net, &err), ST_OK);
  assert_int_equal(net, 't');
  assert_true(st_address_equal(a, &back));
  /* and through bytes */
  assert_int_equal(st_address_from_bytes(a->bytes, a->len, &back, &err), ST_OK);
  assert_true(st_address_equal(a, &back));
}

static void test_vectors(void **state) {
  (void)state;
  json_t *v = tu_load_vectors("vectors.json");
  json_t *list = json_object_get(v, "addresses");
  size_t i, seen[5] = {0};
  json_t *e;
  json_array_foreach(list, i, e) {
    int proto = (int)json_integer_value(json_object_get(e, "protocol"));
    const char *want = json_string_value(json_object_get(e, "string"));
    st_address a;
    st_buf in = ST_BUF_INIT;
    st_err err;
    switch (proto) {
      case 0:
        assert_int_equal(st_address_from_id((uint64_t)json_integer_value(json_object_get(e, "id")), &a, &err), ST_OK);
        if (json_object_get(e, "bytes"))
          assert_string_equal(tu_tohex(a.bytes, a.len), json_string_value(json_object_get(e, "bytes")));
        break;
      case 1:
        tu_hex(json_string_value(json_object_get(e, "pubkey_uncompressed")), &in);
        assert_int_equal(in.len, 65);
        st_address_from_secp256k1_pubkey(in.data, &a);
        break;
      case 2:
        tu_hex(json_string_value(json_object_get(e, "creation_data")), &in);
        st_address_from_actor_data(in.data, in.len, &a);
        break;
      case 3:
        tu_hex(json_string_value(json_object_get(e, "payload")), &in);
        st_address_from_bls_pubkey(in.data, &a);
        break;
      default: fail_msg("unexpected protocol %d in vectors", proto);
    }
    if (json_object_get(e, "payload")) {
      size_t plen;
      const uint8_t *p = st_address_payload(&a, &plen);
      assert_string_equal(tu_tohex(p, plen), json_string_value(json_object_get(e, "payload")));
    }
    check_string(&a, want);
    seen[proto]++;
    st_buf_free(&in);
  }
  assert_true(seen[0] >= 3 && seen[1] && seen[2] && seen[3]);
  json_decref(v);
}

static void test_checksum_is_blake2b_4(void **state) {
  (void)state;
  /* blake2b with outlen 4 is not blake2b-256 cut to 4 bytes (filecoin-facts section 7) */
  uint8_t four[4], full[32];
  st_blake2b(four, 4, "\x01\xea", 2);
  st_blake2b(full, 32, "\x01\xea", 2);
  assert_memory_not_equal(four, full, 4);
}

/* A rejected text leaves the undefined address and network 0 (st_err.h), not what was read
 * before the fault: a bad checksum used to leave the parsed address behind. */
static void assert_parse_fails(const char *s, const char *want) {
  st_address a;
  char net;
  st_err err = {0};
  tu_poison(&a, sizeof a);
  tu_poison(&net, 1);
  if (st_address_parse(s, &a, &net, &err) == ST_OK) fail_msg("\"%s\" was accepted", s);
  tu_assert_err_contains(&err, want);
  tu_assert_zeroed(&a, sizeof a);
  tu_assert_zeroed(&net, 1);
}

/* A t1 string whose checksum is right but whose payload has the wrong length. */
static void make_t1_with_payload_len(size_t n, char out[ST_ADDR_STR_MAX]) {
  uint8_t raw[64] = {0x01};
  for (size_t i = 0; i < n; i++) raw[1 + i] = (uint8_t)i;
  st_blake2b(raw + 1 + n, 4, raw, n + 1);
  st_buf b = ST_BUF_INIT;
  st_buf_puts(&b, "t1");
  st_base32_append(&b, raw + 1, n + 4);
  strcpy(out, st_buf_cstr(&b));
  st_buf_free(&b);
}

static void test_parse_rejections(void **state) {
  (void)state;
  assert_parse_fails("t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdra", "invalid address checksum");
  assert_parse_fails("t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrr", "non-canonical base32");
  assert_parse_fails("t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdr1", "invalid base32 character '1'");
  assert_parse_fails("t15IHQ5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq", "invalid base32 character 'I'");
  assert_parse_fails("x01024", "unknown address network 'x'");
  assert_parse_fails("t51024", "unknown address protocol '5'");
  assert_parse_fails("t0", "invalid address length");
  assert_parse_fails("t0-1", "is not a digit");
  assert_parse_fails("t09223372036854775808", "must be less than 2^63");
  assert_parse_fails("t099999999999999999999", "more than 19 digits");
  assert_parse_fails("t1aaa", "cannot encode whole bytes");
  assert_parse_fails("t1aaaaa", "need at least 4 for the checksum");
  assert_parse_fails("t1aaaaaaa", "secp256k1 payload must be 20 bytes, got 0");
  assert_parse_fails("t410", "no 'f' after the namespace");
  char s[ST_ADDR_STR_MAX];
  make_t1_with_payload_len(19, s);
  assert_parse_fails(s, "invalid address length: secp256k1 payload must be 20 bytes, got 19");
  char long_addr[200];
  memset(long_addr, 'a', sizeof long_addr - 1);
  long_addr[0] = 't';
  long_addr[1] = '1';
  long_addr[199] = 0;
  assert_parse_fails(long_addr, "invalid address length: 199 characters");
  /* go-address accepts leading zeros in an ID, and so do we */
  st_address a;
  st_err err;
  uint64_t id;
  assert_int_equal(st_address_parse("t001024", &a, NULL, &err), ST_OK);
  assert_int_equal(st_address_id(&a, &id, &err), ST_OK);
  assert_int_equal(id, 1024);
  assert_int_equal(st_address_parse("t09223372036854775807", &a, NULL, &err), ST_OK);
}

static void assert_bytes_fail(const char *hex, const char *want) {
  st_buf b = ST_BUF_INIT;
  tu_hex(hex, &b);
  st_address a;
  st_err err = {0};
  tu_poison(&a, sizeof a);
  assert_true(st_address_from_bytes(b.data, b.len, &a, &err) != ST_OK);
  tu_assert_err_contains(&err, want);
  tu_assert_zeroed(&a, sizeof a);
  st_buf_free(&b);
}

static void test_bytes_rejections(void **state) {
  (void)state;
  assert_bytes_fail("", "empty address");
  assert_bytes_fail("01", "protocol byte without payload");
  assert_bytes_fail("0580", "unknown address protocol 5");
  assert_bytes_fail("00800800", "1 byte after the ID varint");
  assert_bytes_fail("008000", "not minimally encoded");
  assert_bytes_fail("01aabb", "secp256k1 payload must be 20 bytes, got 2");
  assert_bytes_fail("03aabb", "bls payload must be 48 bytes");
  st_buf big = ST_BUF_INIT;
  st_buf_putc(&big, 4);
  for (int i = 0; i < 70; i++) st_buf_putc(&big, 0x0a);
  st_address a;
  st_err err;
  assert_int_equal(st_address_from_bytes(big.data, big.len, &a, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "71 bytes is more than 64");
  st_buf_free(&big);
}

static void test_delegated(void **state) {
  (void)state;
  uint8_t sub[20];
  for (int i = 0; i < 20; i++) sub[i] = (uint8_t)(0xa0 + i);
  st_address a, back;
  st_err err;
  assert_int_equal(st_address_from_delegated(10, sub, sizeof sub, &a, &err), ST_OK);
  assert_string_equal(tu_tohex(a.bytes, 3), "040aa0");
  char text[ST_ADDR_STR_MAX];
  assert_int_equal(st_address_format(&a, 'f', text, &err), ST_OK);
  assert_true(strncmp(text, "f410f", 5) == 0);
  assert_int_equal(st_address_parse(text, &back, NULL, &err), ST_OK);
  assert_true(st_address_equal(&a, &back));
  text[strlen(text) - 3] = text[strlen(text) - 3] == 'a' ? 'b' : 'a';
  assert_parse_fails(text, "invalid address");
  uint8_t big[55] = {0};
  assert_int_equal(st_address_from_delegated(10, big, sizeof big, &a, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "longer than 54");
  tu_poison(&a, sizeof a);
  assert_int_equal(st_address_from_delegated((uint64_t)INT64_MAX + 1, sub, 1, &a, &err), ST_ERANGE);
  tu_assert_zeroed(&a, sizeof a);
}

static void test_id_limits(void **state) {
  (void)state;
  st_address a;
  st_err err;
  tu_poison(&a, sizeof a);
  assert_int_equal(st_address_from_id((uint64_t)INT64_MAX + 1, &a, &err), ST_ERANGE);
  tu_assert_err_contains(&err, "IDs must be less than 2^63");
  tu_assert_zeroed(&a, sizeof a);
  assert_int_equal(st_address_from_id(1003, &a, &err), ST_OK);
  char text[ST_ADDR_STR_MAX];
  assert_int_equal(st_address_format(&a, 't', text, &err), ST_OK);
  assert_string_equal(text, "t01003"); /* the seed's miner */
  assert_int_equal(st_address_format(&a, 'x', text, &err), ST_EINVAL);
  tu_assert_zeroed(text, sizeof text); /* not "t01003" from the last call */
  /* the id of an address that is not an ID address is 0 */
  uint64_t id = 7;
  st_address secp;
  uint8_t pub[65] = {4};
  st_address_from_secp256k1_pubkey(pub, &secp);
  assert_int_equal(st_address_id(&secp, &id, &err), ST_EINVAL);
  assert_true(id == 0);
  assert_string_equal(st_address_protocol_name(ST_ADDR_DELEGATED), "delegated");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vectors),          cmocka_unit_test(test_checksum_is_blake2b_4),
      cmocka_unit_test(test_parse_rejections), cmocka_unit_test(test_bytes_rejections),
      cmocka_unit_test(test_delegated),        cmocka_unit_test(test_id_limits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
