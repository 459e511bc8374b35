/* Tests for st_poseidon and the sealing hasher: neptune's published hashes for every arity,
 * Lotus's comm_r, rust-fil-proofs' binary tree, Curio's arity-8 multi-hash, and the fast form
 * against the plain one on random inputs. */
#include "testutil.h"

#include <string.h>

#include "crypto/st_secp.h"
#include "proofs/st_fr.h"
#include "proofs/st_hasher.h"
#include "proofs/st_poseidon.h"

static json_t *poseidon_vectors(json_t **all) {
  *all = tu_load_vectors("filecoin-exact.json");
  json_t *p = json_object_get(*all, "poseidon");
  assert_non_null(p);
  return p;
}

static void element(const char *hex, uint8_t out[32]) {
  st_buf b = ST_BUF_INIT;
  tu_hex(hex, &b);
  assert_int_equal(b.len, 32);
  memcpy(out, b.data, 32);
  st_buf_free(&b);
}

static void small(uint64_t v, uint8_t out[32]) {
  memset(out, 0, 32);
  for (int i = 0; i < 8; i++) out[i] = (uint8_t)(v >> (8 * i));
}

static void test_hash_values(void **state) {
  (void)state;
  json_t *all, *p = poseidon_vectors(&all);
  json_t *list = json_object_get(p, "hash_values"), *v;
  size_t i;
  int checked = 0;
  json_array_foreach(list, i, v) {
    unsigned arity = (unsigned)json_integer_value(json_object_get(v, "arity"));
    assert_true(st_poseidon_arity_ok(arity));
    uint8_t in[16 * 32], out[32];
    for (unsigned k = 0; k < arity; k++) small(k, in + 32 * k);
    st_poseidon_hash(arity, in, out);
    assert_string_equal(tu_tohex(out, 32), json_string_value(json_object_get(v, "output")));
    st_poseidon_hash_plain(arity, in, out);
    assert_string_equal(tu_tohex(out, 32), json_string_value(json_object_get(v, "output")));
    checked++;
  }
  assert_int_equal(checked, 5);
  json_decref(all);
}

static void test_comm_r(void **state) {
  (void)state;
  json_t *all, *p = poseidon_vectors(&all);
  json_t *c = json_object_get(p, "comm_r");
  uint8_t comm_c[32], comm_r_last[32], comm_r[32];
  element(json_string_value(json_object_get(c, "comm_c")), comm_c);
  element(json_string_value(json_object_get(c, "comm_r_last")), comm_r_last);
  st_comm_r(st_hasher_sealing(), comm_c, comm_r_last, comm_r);
  assert_string_equal(tu_tohex(comm_r, 32), json_string_value(json_object_get(c, "comm_r")));
  assert_string_equal(st_hasher_sealing()->name, "poseidon");
  json_decref(all);
}

static void test_binary_tree(void **state) {
  (void)state;
  json_t *all, *p = poseidon_vectors(&all);
  json_t *t = json_object_get(p, "binary_tree");
  uint8_t leaves[4 * 32], nodes[2 * 32], root[32];
  small(1, leaves);
  small(0, leaves + 32);
  small(0, leaves + 64);
  small(1, leaves + 96);
  st_hasher_sealing()->hash(leaves, 2, nodes);
  st_hasher_sealing()->hash(leaves + 64, 2, nodes + 32);
  assert_string_equal(tu_tohex(nodes, 32), json_string_value(json_object_get(t, "node_1_0")));
  st_hasher_sealing()->hash(nodes, 2, root);
  assert_string_equal(tu_tohex(root, 32), json_string_value(json_object_get(t, "root")));
  json_decref(all);
}

static void test_arity8_multi(void **state) {
  (void)state;
  json_t *all, *p = poseidon_vectors(&all);
  json_t *m = json_object_get(p, "arity8_multi"), *v;
  uint8_t in[8 * 32], out[32];
  size_t i;
  assert_int_equal(json_array_size(json_object_get(m, "inputs")), 8);
  json_array_foreach(json_object_get(m, "inputs"), i, v) element(json_string_value(v), in + 32 * i);
  st_hasher_sealing()->hash(in, 8, out);
  assert_string_equal(tu_tohex(out, 32), json_string_value(json_object_get(m, "output")));
  json_decref(all);
}

/* The fast form is the plain one: random field elements, every arity. */
static void test_fast_is_plain(void **state) {
  (void)state;
  static const unsigned arities[] = {2, 4, 8, 11, 16};
  for (size_t a = 0; a < sizeof arities / sizeof arities[0]; a++) {
    unsigned arity = arities[a];
    for (int round = 0; round < 50; round++) {
      uint8_t in[16 * 32], fast[32], plain[32];
      st_err err;
      assert_int_equal(st_random_bytes(in, sizeof in, &err), ST_OK);
      for (unsigned k = 0; k < arity; k++) st_fr_trunc254(in + 32 * k);
      st_poseidon_hash(arity, in, fast);
      st_poseidon_hash_plain(arity, in, plain);
      assert_memory_equal(fast, plain, 32);
      assert_true(st_fr_is_valid(fast));
      st_poseidon_hash(arity, in, in); /* in place, as a tree row is rebuilt */
      assert_memory_equal(in, fast, 32);
    }
    assert_true(st_poseidon_mults(arity) > 0);
  }
}

static void test_unknown_arity(void **state) {
  (void)state;
  uint8_t in[3 * 32] = {0}, out[32];
  memset(out, 0xff, sizeof out);
  assert_false(st_poseidon_arity_ok(3));
  st_poseidon_hash(3, in, out);
  static const uint8_t zero[32];
  assert_memory_equal(out, zero, 32);
  assert_int_equal(st_poseidon_mults(3), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hash_values),  cmocka_unit_test(test_comm_r),        cmocka_unit_test(test_binary_tree),
      cmocka_unit_test(test_arity8_multi), cmocka_unit_test(test_fast_is_plain), cmocka_unit_test(test_unknown_arity),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
