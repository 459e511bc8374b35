/* st_miner_create against the in-process daemon of tests/nodefx.c: CreateMiner pushed from the
 * account (signed by the node's wallet) and waited for gives the new miners t01000 and t01001,
 * which announce no multiaddr yet; a CreateMinerReturn that is empty, not CBOR or without an ID
 * address is refused; and with the node away the outputs are zero. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "codec/st_cbor.h"
#include "miner/st_miner_create.h"
#include "nodefx.h"
#include "rpc/st_node_api.h"

static uint64_t create(nodefx *f) {
  mpz_t funds;
  mpz_init_set_str(funds, "10000000000000000000", 10);
  st_cid cid, zero = {0};
  st_err err;
  if (st_miner_create_push(f->c, &f->account, &f->account, nf_info2k(), funds, &cid, &err))
    fail_msg("push: %s", err.msg);
  mpz_clear(funds);
  assert_memory_not_equal(&cid, &zero, sizeof cid);
  assert_int_equal(nf_landed(f, &cid), 0);
  nf_mine_next(f); /* the wait asks for one epoch on top */
  nf_mine_next(f);
  uint64_t id = 0;
  if (st_miner_create_wait(f->c, &cid, &id, &err)) fail_msg("wait: %s", err.msg);
  return id;
}

static void test_create(void **state) {
  nodefx *f = *state;
  nf_mine_to(f, 3);
  assert_int_equal(create(f), 1000);
  assert_int_equal(create(f), 1001);
  st_node_miner_info info;
  st_err err;
  assert_int_equal(st_node_get_miner_info(f->c, 1001, &info, &err), ST_OK);
  assert_int_equal(info.nmultiaddrs, 0);
  assert_int_equal(info.multiaddr_len, 0);
  nf_assert_rpc(f, "StateMinerSectorCount", "[\"t01001\", []]", "{\"Live\": 0, \"Active\": 0, \"Faulty\": 0}");
}

static void test_bad_return(void **state) {
  (void)state;
  uint64_t id = 7;
  st_err err;
  assert_int_equal(st_miner_create_return(NULL, 0, &id, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "CreateMiner returned nothing");
  assert_int_equal(id, 0);
  id = 7;
  const uint8_t junk[] = {0x01};
  assert_int_not_equal(st_miner_create_return(junk, sizeof junk, &id, &err), ST_OK);
  assert_int_equal(id, 0);
  /* [IDAddress, RobustAddress] with a key address first */
  st_address key, robust;
  uint8_t pub[65] = {4};
  st_address_from_secp256k1_pubkey(pub, &key);
  st_address_from_actor_data((const uint8_t *)"x", 1, &robust);
  st_buf b = ST_BUF_INIT;
  st_cbor_put_array(&b, 2);
  st_cbor_put_bytes(&b, key.bytes, key.len);
  st_cbor_put_bytes(&b, robust.bytes, robust.len);
  id = 7;
  assert_int_equal(st_miner_create_return(b.data, b.len, &id, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "CreateMiner returned no ID address");
  assert_int_equal(id, 0);
  /* and with the ID first */
  st_address idaddr;
  st_address_from_id(1042, &idaddr, NULL);
  b.len = 0;
  st_cbor_put_array(&b, 2);
  st_cbor_put_bytes(&b, idaddr.bytes, idaddr.len);
  st_cbor_put_bytes(&b, robust.bytes, robust.len);
  assert_int_equal(st_miner_create_return(b.data, b.len, &id, &err), ST_OK);
  assert_int_equal(id, 1042);
  st_buf_free(&b);
}

static void test_node_away(void **state) {
  nodefx *f = *state;
  st_rpc_client *c = nf_dead_client();
  st_err err;
  st_cid cid;
  tu_poison(&cid, sizeof cid);
  mpz_t funds;
  mpz_init_set_ui(funds, 1);
  assert_int_equal(st_miner_create_push(c, &f->account, &f->account, nf_info2k(), funds, &cid, &err), ST_EUNAVAIL);
  mpz_clear(funds);
  tu_assert_err_contains(&err, "MpoolPushMessage");
  tu_assert_zeroed(&cid, sizeof cid);
  uint64_t id = 7;
  assert_int_equal(st_miner_create_wait(c, &cid, &id, &err), ST_EUNAVAIL);
  tu_assert_err_contains(&err, "StateWaitMsg");
  assert_int_equal(id, 0);
  st_rpc_client_close(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_create), cmocka_unit_test(test_bad_return),
                                     cmocka_unit_test(test_node_away)};
  return cmocka_run_group_tests(tests, nf_group_setup, nf_group_teardown);
}
