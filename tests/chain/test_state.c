/* Tests for st_state: lookups by ID and key address, transfers, the journal that undoes a
 * failed message (including actors it created), and a root that is the same for the same state
 * however it was built and different after any change. */
#include "testutil.h"

#include <string.h>

#include "chain/st_state.h"
#include "codec/st_cbor.h"

static st_address key_addr(uint8_t seed) {
  uint8_t data[20];
  memset(data, seed, sizeof data);
  st_address a;
  st_address_from_actor_data(data, sizeof data, &a); /* any robust address will do */
  return a;
}

static void build(st_state *s, bool reverse) {
  st_state_init(s);
  st_err err;
  for (int k = 0; k < 3; k++) {
    int i = reverse ? 2 - k : k;
    st_address a = key_addr((uint8_t)(i + 1));
    st_state_actor *act;
    assert_int_equal(st_state_create(s, ST_ID_FIRST_ACCOUNT + (uint64_t)i, ST_ACTOR_ACCOUNT, &a, &act, &err), ST_OK);
    mpz_set_ui(act->balance, 1000u * (unsigned)(i + 1));
  }
  assert_int_equal(st_state_create(s, ST_ID_BURNT, ST_ACTOR_BURNT, NULL, NULL, &err), ST_OK);
}

static void root_of(const st_state *s, st_cid *root) {
  st_buf blob = ST_BUF_INIT;
  st_state_root(s, &blob, root);
  st_buf_free(&blob);
}

static void test_root(void **state) {
  (void)state;
  st_state a, b;
  build(&a, false);
  build(&b, true);
  st_cid ra, rb;
  root_of(&a, &ra);
  root_of(&b, &rb);
  assert_true(st_cid_equal(&ra, &rb));
  char text[ST_CID_STR_MAX];
  st_cid_to_string(&ra, text);
  assert_memory_equal(text, "bafy2bzace", 10);

  /* each kind of change moves the root, and undoing it moves it back */
  st_state_actor *x = st_state_get(&b, 101);
  x->nonce++;
  root_of(&b, &rb);
  assert_false(st_cid_equal(&ra, &rb));
  x->nonce--;
  mpz_add_ui(x->balance, x->balance, 1);
  root_of(&b, &rb);
  assert_false(st_cid_equal(&ra, &rb));
  mpz_sub_ui(x->balance, x->balance, 1);
  b.next_id++;
  root_of(&b, &rb);
  assert_false(st_cid_equal(&ra, &rb));
  b.next_id--;
  root_of(&b, &rb);
  assert_true(st_cid_equal(&ra, &rb));

  /* the encoding reads back to the same root; bad encodings are refused */
  st_buf blob = ST_BUF_INIT;
  st_state_encode(&a, &blob);
  st_state c;
  st_state_init(&c);
  st_err err;
  assert_int_equal(st_state_decode(blob.data, blob.len, &c, &err), ST_OK);
  st_cid rc;
  root_of(&c, &rc);
  assert_true(st_cid_equal(&ra, &rc));
  assert_int_equal(st_state_decode(blob.data, blob.len - 1, &c, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "could not decode the state");
  st_buf_free(&blob);
  st_state_clear(&a);
  st_state_clear(&b);
  st_state_clear(&c);
}

static void test_lookup_transfer_journal(void **state) {
  (void)state;
  st_state s;
  build(&s, false);
  st_err err;
  st_state_actor *act;
  st_address k2 = key_addr(2), id101;
  assert_int_equal(st_state_lookup(&s, &k2, &act, &err), ST_OK);
  assert_int_equal(act->id, 101);
  assert_int_equal(st_address_from_id(101, &id101, &err), ST_OK);
  assert_int_equal(st_state_lookup(&s, &id101, &act, &err), ST_OK);
  st_address unknown = key_addr(9);
  assert_int_equal(st_state_lookup(&s, &unknown, &act, &err), ST_ENOENT);
  tu_assert_err_contains(&err, "not found");
  assert_int_equal(st_state_create(&s, ST_STATE_NEW_ID, ST_ACTOR_ACCOUNT, &k2, NULL, &err), ST_EEXIST);
  tu_assert_err_contains(&err, "address is already actor t0101");

  mpz_t amt, total0, total1;
  mpz_inits(amt, total0, total1, NULL);
  st_state_total(&s, total0);
  st_cid before, after;
  root_of(&s, &before);

  /* a message that creates an account, moves funds, bumps a nonce ... and fails */
  st_state_mark(&s);
  st_state_actor *fresh;
  assert_int_equal(st_state_create(&s, ST_STATE_NEW_ID, ST_ACTOR_ACCOUNT, &unknown, &fresh, &err), ST_OK);
  assert_int_equal(fresh->id, ST_ID_FIRST_NEW);
  mpz_set_ui(amt, 700);
  assert_int_equal(st_state_transfer(&s, 100, ST_ID_FIRST_NEW, amt, &err), ST_OK);
  act = st_state_get(&s, 100);
  assert_int_equal(st_state_touch(&s, act, &err), ST_OK);
  act->nonce = 5;
  mpz_set_ui(amt, 10000);
  assert_int_equal(st_state_transfer(&s, 101, 102, amt, &err), ST_ERANGE);
  st_state_revert(&s);
  root_of(&s, &after);
  assert_true(st_cid_equal(&before, &after));
  assert_null(st_state_get(&s, ST_ID_FIRST_NEW));
  assert_int_equal(s.next_id, ST_ID_FIRST_NEW);

  /* the same, kept */
  st_state_mark(&s);
  mpz_set_ui(amt, 250);
  assert_int_equal(st_state_transfer(&s, 102, 100, amt, &err), ST_OK);
  st_state_commit(&s);
  assert_int_equal(mpz_get_ui(st_state_get(&s, 100)->balance), 1250);
  assert_int_equal(mpz_get_ui(st_state_get(&s, 102)->balance), 2750);
  st_state_total(&s, total1);
  assert_int_equal(mpz_cmp(total0, total1), 0);
  mpz_clears(amt, total0, total1, NULL);
  st_state_clear(&s);
}

static void test_codes(void **state) {
  (void)state;
  st_cid c;
  st_actor_code(ST_ACTOR_ACCOUNT, &c);
  char text[ST_CID_STR_MAX];
  st_cid_to_string(&c, text);
  /* raw + identity("fil/1/account"), as Lotus's v0 account actor */
  assert_string_equal(text, "bafkqadlgnfwc6mjpmfrwg33vnz2a");
  st_actor_kind k;
  st_err err;
  assert_int_equal(st_actor_kind_of_code(&c, &k, &err), ST_OK);
  assert_int_equal(k, ST_ACTOR_ACCOUNT);
  st_actor_code(ST_ACTOR_MINER, &c);
  st_cid_to_string(&c, text);
  assert_string_equal(text, "bafkqaetgnfwc6mjpon2g64tbm5sw22lomvza");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_root), cmocka_unit_test(test_lookup_transfer_journal),
                                     cmocka_unit_test(test_codes)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
