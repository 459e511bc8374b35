/* st_node_api (lib/rpc), the calls spacetime-miner's views, init, run and doctor make, against
 * the in-process daemon of tests/nodefx.c with a miner of two sectors: each typed answer equals
 * the node's JSON; StateMinerInfo gives the multiaddr ChangeMultiaddrs set; StateWaitMsg gives the receipt. Then the
 * rule of st_err.h: with the node away, every call fails naming its method and leaves each out zeroed, emptied or
 * cleared as the header says. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "codec/st_multiaddr.h"
#include "miner/st_miner_msgs.h"
#include "nodefx.h"
#include "rpc/st_node_api.h"

static uint64_t dl; /* the deadline of sectors 1 and 2 */

/* The decimal string at path (a.b) of the node's answer to method for t01000. */
static void assert_big(nodefx *f, const char *method, const char *key, const char *sub, const mpz_t got) {
  json_t *r = nf_rpc(f, method, "[\"t01000\", []]");
  const json_t *v = key ? json_object_get(r, key) : r;
  if (sub) v = json_object_get(v, sub);
  char *text = mpz_get_str(NULL, 10, got);
  assert_non_null(json_string_value(v));
  assert_string_equal(text, json_string_value(v));
  free(text);
  json_decref(r);
}

static void test_answers(void **state) {
  nodefx *f = *state;
  dl = nf_miner_with_sectors(f, 2);
  assert_int_equal(nf_post_deadline(f, dl), 0);
  st_err err;

  st_node_power p;
  st_node_power_init(&p);
  assert_int_equal(st_node_miner_power(f->c, NF_MINER, &p, &err), ST_OK);
  assert_int_equal(mpz_get_ui(p.raw), 4096);
  assert_big(f, "StateMinerPower", "MinerPower", "QualityAdjPower", p.qa);
  assert_big(f, "StateMinerPower", "TotalPower", "RawBytePower", p.total_raw);
  assert_big(f, "StateMinerPower", "TotalPower", "QualityAdjPower", p.total_qa);
  st_node_power_free(&p);

  st_node_miner_funds fu;
  st_node_miner_funds_init(&fu);
  assert_int_equal(st_node_get_miner_funds(f->c, NF_MINER, &fu, &err), ST_OK);
  assert_true(mpz_sgn(fu.balance) > 0);
  assert_big(f, "StateReadState", "Balance", NULL, fu.balance);
  assert_big(f, "StateReadState", "State", "PreCommitDeposits", fu.precommit_deposits);
  assert_big(f, "StateReadState", "State", "LockedFunds", fu.locked_funds);
  st_node_miner_funds_free(&fu);

  mpz_t m;
  mpz_init(m);
  assert_int_equal(st_node_miner_available(f->c, NF_MINER, m, &err), ST_OK);
  assert_big(f, "StateMinerAvailableBalance", NULL, NULL, m);
  assert_int_equal(st_node_wallet_balance(f->c, &f->account, m, &err), ST_OK);
  assert_true(mpz_sgn(m) > 0);
  st_address nobody;
  st_address_from_id(4242, &nobody, NULL);
  assert_int_equal(st_node_wallet_balance(f->c, &nobody, m, &err), ST_OK); /* unknown: 0 */
  assert_int_equal(mpz_sgn(m), 0);
  mpz_clear(m);

  st_node_sector_count n;
  assert_int_equal(st_node_get_sector_count(f->c, NF_MINER, &n, &err), ST_OK);
  assert_int_equal(n.live, 2);
  assert_int_equal(n.active, 2);
  assert_int_equal(n.faulty, 0);

  /* every deadline's PostSubmissions, and one of them */
  st_bitfield *posted;
  size_t np;
  st_deadline_info cur;
  assert_int_equal(st_node_proving_deadline(f->c, NF_MINER, NULL, &cur, &err), ST_OK);
  assert_int_equal(st_node_posted(f->c, NF_MINER, NULL, &posted, &np, &err), ST_OK);
  assert_int_equal(np, (size_t)cur.policy.deadlines);
  assert_int_equal(cur.index, dl); /* the post just landed */
  for (size_t d = 0; d < np; d++) assert_int_equal(st_bitfield_count(&posted[d]), d == dl ? 1 : 0);
  st_node_bitfields_free(posted, np);
  st_bitfield one;
  st_bitfield_init(&one);
  assert_int_equal(st_node_post_submissions(f->c, NF_MINER, dl, NULL, &one, &err), ST_OK);
  assert_true(st_bitfield_has(&one, 0));
  assert_int_equal(st_node_post_submissions(f->c, NF_MINER, 1000, NULL, &one, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "StateMinerDeadlines: the node's answer has no valid deadline entry");
  assert_int_equal(st_bitfield_count(&one), 0); /* cleared */
  st_bitfield_free(&one);
}

static void test_info_and_wait(void **state) {
  nodefx *f = *state;
  st_err err;
  st_node_miner_info info;
  assert_int_equal(st_node_get_miner_info(f->c, NF_MINER, &info, &err), ST_OK);
  assert_int_equal(info.nmultiaddrs, 0);
  uint8_t addr[ST_MULTIADDR_MAX];
  size_t len;
  assert_int_equal(st_multiaddr_from_text("/ip4/127.0.0.1/tcp/2345/http", addr, sizeof addr, &len, &err), ST_OK);
  st_buf p = ST_BUF_INIT;
  st_params_change_multiaddrs(addr, len, &p);
  st_cid cid;
  assert_int_equal(nf_push(f, NF_MINER, ST_METHOD_CHANGE_MULTIADDRS, &p, "0", 0, &cid, &err), ST_OK);
  st_buf_free(&p);
  assert_int_equal(nf_landed(f, &cid), 0);
  nf_mine_next(f);
  nf_mine_next(f);
  st_node_lookup l;
  assert_int_equal(st_node_wait_msg(f->c, &cid, 1, &l, &err), ST_OK);
  assert_true(l.found);
  assert_int_equal(l.exit_code, 0);
  assert_true(l.height > 0);
  assert_int_equal(st_node_get_miner_info(f->c, NF_MINER, &info, &err), ST_OK);
  assert_int_equal(info.nmultiaddrs, 1);
  assert_int_equal(info.multiaddr_len, len);
  assert_memory_equal(info.multiaddr, addr, len);
}

/* ---------------------------------------------------------------- the node away */

#define ASSERT_FAILS(call, method)                \
  do {                                            \
    assert_int_equal((call), ST_EUNAVAIL);        \
    tu_assert_err_contains(&err, method ": the"); \
  } while (0)

static void test_outs_on_failure(void **state) {
  nodefx *f = *state;
  st_rpc_client *c = nf_dead_client();
  st_err err;
  /* structs with _init and _free: empty; numbers, CIDs and buffers: zero */
  st_node_head h;
  st_node_head_init(&h);
  assert_int_equal(st_node_chain_head(f->c, &h, &err), ST_OK); /* holding a head */
  ASSERT_FAILS(st_node_chain_head(c, &h, &err), "ChainHead");
  assert_int_equal(h.height, 0);
  assert_int_equal(h.key.n, 0);
  assert_int_equal(h.min_ticket.len, 0);
  st_node_head_free(&h);
  st_node_base_info bi;
  st_node_base_info_init(&bi);
  ASSERT_FAILS(st_node_get_base_info(c, NF_MINER, 5, NULL, &bi, &err), "MinerGetBaseInfo");
  assert_false(bi.present);
  assert_int_equal(bi.nsectors, 0);
  st_node_base_info_free(&bi);
  uint8_t r[32];
  tu_poison(r, sizeof r);
  ASSERT_FAILS(st_node_randomness(c, true, 1, 5, NULL, 0, NULL, r, &err), "StateGetRandomnessFromBeacon");
  tu_assert_zeroed(r, sizeof r);
  uint8_t pi[ST_VRF_PROOF_LEN];
  tu_poison(pi, sizeof pi);
  ASSERT_FAILS(st_node_vrf(c, &f->account, r, sizeof r, pi, &err), "WalletVRF");
  tu_assert_zeroed(pi, sizeof pi);
  st_network net;
  uint64_t genesis = 9;
  tu_poison(&net, sizeof net);
  ASSERT_FAILS(st_node_network(c, &net, &genesis, &err), "StateGetNetworkParams");
  tu_assert_zeroed(&net, sizeof net);
  assert_int_equal(genesis, 0);
  st_cid cid;
  tu_poison(&cid, sizeof cid);
  ASSERT_FAILS(st_node_send(c, &f->account, NF_MINER, 16, NULL, 0, NULL, &cid, &err), "MpoolPushMessage");
  tu_assert_zeroed(&cid, sizeof cid);
  bool found = true;
  tu_poison(&cid, sizeof cid);
  ASSERT_FAILS(st_node_pending_find(c, &f->account, &f->account, 0, NULL, 0, &found, &cid, &err), "MpoolPending");
  assert_false(found);
  tu_assert_zeroed(&cid, sizeof cid);
  st_deadline_info di;
  tu_poison(&di, sizeof di);
  ASSERT_FAILS(st_node_proving_deadline(c, NF_MINER, NULL, &di, &err), "StateMinerProvingDeadline");
  tu_assert_zeroed(&di, sizeof di);
  st_bitfield bf;
  st_bitfield_init(&bf);
  assert_int_equal(st_bitfield_set(&bf, 3, &err), ST_OK);
  ASSERT_FAILS(st_node_post_submissions(c, NF_MINER, 0, NULL, &bf, &err), "StateMinerDeadlines");
  assert_int_equal(st_bitfield_count(&bf), 0);
  st_bitfield_free(&bf);
  st_bitfield *all = (st_bitfield *)&bf;
  size_t n = 9;
  ASSERT_FAILS(st_node_posted(c, NF_MINER, NULL, &all, &n, &err), "StateMinerDeadlines");
  assert_null(all);
  assert_int_equal(n, 0);
  st_node_lookup l;
  tu_poison(&l, sizeof l);
  ASSERT_FAILS(st_node_search_msg(c, &cid, &l, &err), "StateSearchMsg");
  tu_assert_zeroed(&l, sizeof l);
  tu_poison(&l, sizeof l);
  ASSERT_FAILS(st_node_wait_msg(c, &cid, 1, &l, &err), "StateWaitMsg");
  tu_assert_zeroed(&l, sizeof l);
  uint64_t id = 9;
  ASSERT_FAILS(st_node_lookup_id(c, &f->account, &id, &err), "StateLookupID");
  assert_int_equal(id, 0);
  st_address key;
  tu_poison(&key, sizeof key);
  ASSERT_FAILS(st_node_account_key(c, &f->account, &key, &err), "StateAccountKey");
  tu_assert_zeroed(&key, sizeof key);
  /* the caller's numbers: 0 */
  mpz_t a, b;
  mpz_init_set_ui(a, 5);
  mpz_init_set_ui(b, 5);
  ASSERT_FAILS(st_node_market_balance(c, &f->account, a, b, &err), "StateMarketBalance");
  assert_true(!mpz_sgn(a) && !mpz_sgn(b));
  mpz_set_ui(a, 5);
  ASSERT_FAILS(st_node_datacap(c, &f->account, a, &err), "StateVerifiedClientStatus");
  assert_int_equal(mpz_sgn(a), 0);
  mpz_set_ui(a, 5);
  ASSERT_FAILS(st_node_miner_available(c, NF_MINER, a, &err), "StateMinerAvailableBalance");
  assert_int_equal(mpz_sgn(a), 0);
  mpz_set_ui(a, 5);
  ASSERT_FAILS(st_node_wallet_balance(c, &f->account, a, &err), "WalletBalance");
  assert_int_equal(mpz_sgn(a), 0);
  mpz_clears(a, b, NULL);
  st_node_power p;
  st_node_power_init(&p);
  mpz_set_ui(p.raw, 5);
  p.has_min_power = true;
  ASSERT_FAILS(st_node_miner_power(c, NF_MINER, &p, &err), "StateMinerPower");
  assert_true(!mpz_sgn(p.raw) && !p.has_min_power);
  st_node_power_free(&p);
  st_node_miner_funds fu;
  st_node_miner_funds_init(&fu);
  mpz_set_ui(fu.balance, 5);
  ASSERT_FAILS(st_node_get_miner_funds(c, NF_MINER, &fu, &err), "StateReadState");
  assert_int_equal(mpz_sgn(fu.balance), 0);
  st_node_miner_funds_free(&fu);
  st_node_sector_count sc;
  tu_poison(&sc, sizeof sc);
  ASSERT_FAILS(st_node_get_sector_count(c, NF_MINER, &sc, &err), "StateMinerSectorCount");
  tu_assert_zeroed(&sc, sizeof sc);
  st_node_miner_info mi;
  tu_poison(&mi, sizeof mi);
  ASSERT_FAILS(st_node_get_miner_info(c, NF_MINER, &mi, &err), "StateMinerInfo");
  tu_assert_zeroed(&mi, sizeof mi);
  int64_t deal = 9;
  ASSERT_FAILS(st_node_find_deal(c, &(st_deal_proposal){0}, 100, NF_MINER, &deal, &err), "StateMarketDeals");
  assert_int_equal(deal, -1);
  st_rpc_client_close(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_answers), cmocka_unit_test(test_info_and_wait),
                                     cmocka_unit_test(test_outs_on_failure)};
  return cmocka_run_group_tests(tests, nf_group_setup, nf_group_teardown);
}
