/* st_fullnode_mpool: the pool is durable. Messages MpoolPushMessage and MpoolPush acknowledged
 * (a replacement among them) are back after a restart with the same CIDs, order and nonces; they
 * land once; a message the chain applied but the store still kept (a crash before it was
 * forgotten) is dropped at start, not pooled again; and nonces go on from the pending ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodefx.h"
#include "rpc/st_node_api.h"
#include "testutil.h"

static json_t *pending(nodefx *f) { return nf_rpc(f, "MpoolPending", "[[]]"); }

static const char *cid_of(const json_t *signed_json) {
  return json_string_value(json_object_get(json_object_get(signed_json, "CID"), "/"));
}

static uint64_t pool_nonce(nodefx *f) {
  char params[200], addr[ST_ADDR_STR_MAX];
  st_err err;
  st_address_format(&f->account, 't', addr, &err);
  snprintf(params, sizeof params, "[\"%s\"]", addr);
  json_t *r = nf_rpc(f, "MpoolGetNonce", params);
  uint64_t n = (uint64_t)json_integer_value(r);
  json_decref(r);
  return n;
}

static uint64_t state_nonce(nodefx *f) {
  char params[200], addr[ST_ADDR_STR_MAX];
  st_err err;
  st_address_format(&f->account, 't', addr, &err);
  snprintf(params, sizeof params, "[\"%s\", []]", addr);
  json_t *r = nf_rpc(f, "StateGetActor", params);
  uint64_t n = (uint64_t)json_integer_value(json_object_get(r, "Nonce"));
  json_decref(r);
  return n;
}

static size_t kept(nodefx *f) {
  st_signed_message *msgs;
  size_t n;
  st_err err;
  if (st_chain_pool_kept(f->chain, &msgs, &n, &err)) fail_msg("%s", err.msg);
  for (size_t i = 0; i < n; i++) st_signed_message_free(&msgs[i]);
  free(msgs);
  return n;
}

/* The waiting message m again with twice its premium, signed, through MpoolPush: its CID. */
static st_cid replace(nodefx *f, const json_t *m) {
  st_signed_message sm;
  st_signed_message_init(&sm);
  st_err err;
  assert_int_equal(st_signed_message_from_json(m, &sm, &err), ST_OK);
  mpz_mul_ui(sm.message.gas_premium, sm.message.gas_premium, 2);
  mpz_add(sm.message.gas_fee_cap, sm.message.gas_fee_cap, sm.message.gas_premium);
  assert_int_equal(st_signed_message_sign_secp(&sm, f->sk, &err), ST_OK);
  json_t *j;
  assert_int_equal(st_signed_message_to_json(&sm, 't', &j, &err), ST_OK);
  json_t *params = json_pack("[o]", j);
  char *text = json_dumps(params, JSON_COMPACT);
  json_t *r = nf_rpc(f, "MpoolPush", text);
  st_cid cid;
  assert_int_equal(st_signed_message_cid(&sm, &cid, &err), ST_OK);
  char want[ST_CID_STR_MAX];
  st_cid_to_string(&cid, want);
  assert_string_equal(json_string_value(json_object_get(r, "/")), want);
  json_decref(r);
  free(text);
  json_decref(params);
  st_signed_message_free(&sm);
  return cid;
}

static void test_restart(void **state) {
  nodefx *f = *state;
  char addr[ST_ADDR_STR_MAX], params[200];
  st_err err;
  st_address_format(&f->account, 't', addr, &err);
  snprintf(params, sizeof params, "[\"%s\", []]", addr);
  nf_assert_rpc(f, "StateLookupID", params, "\"t0100\""); /* the account sends to itself, t0100 */
  nf_mine_to(f, 2);
  uint64_t base = state_nonce(f);
  st_cid cids[5];
  for (int i = 0; i < 5; i++)
    if (nf_push(f, 100, 0, NULL, "1", 0, &cids[i], &err)) fail_msg("push %d: %s", i, err.msg);
  json_t *before = pending(f);
  assert_int_equal(json_array_size(before), 5);
  /* the last one replaced by fee: the replaced one is gone for good */
  st_cid replaced = cids[4];
  cids[4] = replace(f, json_array_get(before, 4));
  json_decref(before);
  before = pending(f);
  assert_int_equal(kept(f), 5);
  char s[ST_CID_STR_MAX];

  nf_restart(f);
  json_t *after = pending(f);
  if (!json_equal(before, after))
    fail_msg("the pool after a restart:\n got %s\nwant %s", json_dumps(after, JSON_COMPACT),
             json_dumps(before, JSON_COMPACT));
  for (size_t i = 0; i < 5; i++) {
    st_cid_to_string(&cids[i], s);
    assert_string_equal(cid_of(json_array_get(after, i)), s);
  }
  json_decref(before);
  json_decref(after);
  assert_int_equal(pool_nonce(f), base + 5);

  /* each lands once; the replaced one never */
  for (int i = 0; i < 5; i++) assert_int_equal(nf_landed(f, &cids[i]), 0);
  st_node_lookup l;
  assert_int_equal(st_node_search_msg(f->c, &replaced, &l, &err), ST_OK);
  assert_false(l.found);
  assert_int_equal(state_nonce(f), base + 5);
  after = pending(f);
  assert_int_equal(json_array_size(after), 0);
  json_decref(after);
  assert_int_equal(kept(f), 0); /* forgotten as they were applied */

  /* an applied message still kept (a kill -9 before it was forgotten) is dropped at start */
  st_signed_message sm;
  st_signed_message_init(&sm);
  assert_int_equal(st_chain_message(f->chain, &cids[0], &sm, &err), ST_OK);
  assert_int_equal(st_chain_pool_keep(f->chain, &sm, &cids[0], NULL, &err), ST_OK);
  st_signed_message_free(&sm);
  assert_int_equal(kept(f), 1);
  nf_restart(f);
  assert_int_equal(kept(f), 0);
  after = pending(f);
  assert_int_equal(json_array_size(after), 0);
  json_decref(after);
  assert_int_equal(pool_nonce(f), base + 5);
  /* the next push goes on from there, and lands once */
  st_cid next;
  if (nf_push(f, 100, 0, NULL, "1", 0, &next, &err)) fail_msg("push: %s", err.msg);
  assert_int_equal(nf_landed(f, &next), 0);
  assert_int_equal(state_nonce(f), base + 6);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_restart)};
  return cmocka_run_group_tests(tests, nf_group_setup, nf_group_teardown);
}
