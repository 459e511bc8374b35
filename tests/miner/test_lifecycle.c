/* A miner's life with a real sealed 2 KiB sector, entirely through the daemon's JSON-RPC API
 * on loopback: the miner side uses st_node_api (typed calls), st_miner_msgs (the params) and
 * st_blockprod (block production), as spacetime-miner does. Messages are signed by the node's
 * wallet (MpoolPushMessage); randomness, deadlines, partitions and sectors come from the State
 * methods; once the miner has power, every block is made by st_blockprod_round through
 * MinerGetBaseInfo, WalletVRF, MinerCreateBlock and SyncSubmitBlock. Before that, the chain
 * moves on bootstrap blocks built in-process, as the daemon's producer builds them.
 *
 * Checked: create a miner; pre-commit and prove-commit (the sector lands in a deadline and
 * partition, with its power); a tampered proof, a post for the wrong deadline and a post after
 * Close are each refused by the estimate and, sent anyway, fail on chain with exit 16 and
 * change nothing; a valid post keeps the power; a missed deadline makes the sector faulty,
 * removes its power and charges the fault fee; a recovery plus the next post restores it. The
 * State methods are compared as JSON with non-empty sets. The daemon and its API are
 * tests/nodefx.c's. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chain/st_rand.h"
#include "crypto/st_secp.h"
#include "crypto/st_vrf.h"
#include "miner/st_blockprod.h"
#include "miner/st_miner_msgs.h"
#include "nodefx.h"
#include "proofs/st_post.h"
#include "rpc/st_node_api.h"

#define SECTOR 1

/* The miner actor's head, and its proving period start (cron moves it at a period's end). */
static void miner_head(nodefx *f, char head[128], int64_t *period) {
  json_t *a = nf_rpc(f, "StateGetActor", "[\"t01000\", []]");
  snprintf(head, 128, "%s", json_string_value(json_object_get(json_object_get(a, "Head"), "/")));
  json_decref(a);
  json_t *dl = nf_rpc(f, "StateMinerProvingDeadline", "[\"t01000\", []]");
  *period = json_integer_value(json_object_get(dl, "PeriodStart"));
  json_decref(dl);
}

/* A refused message changes nothing. Null rounds just before it may leave the cron of the
 * period's last epoch to run with its block, which rolls the period over (the head moves):
 * then the check is made again. */
static void send_refused(nodefx *f, uint64_t method, const st_buf *params, int64_t exit_code) {
  st_cid cid;
  st_err err;
  char want[64], before[128], after[128];
  snprintf(want, sizeof want, "the message would fail with exit code %lld", (long long)exit_code);
  for (int attempt = 0;; attempt++) {
    assert_int_equal(nf_push(f, NF_MINER, method, params, "0", 0, &cid, &err), ST_EINVAL);
    tu_assert_err_contains(&err, want);
    int64_t p0, p1;
    miner_head(f, before, &p0);
    assert_int_equal(nf_push(f, NF_MINER, method, params, "0", 500000000, &cid, &err), ST_OK);
    assert_int_equal(nf_landed(f, &cid), exit_code);
    miner_head(f, after, &p1);
    if (p0 == p1 || attempt == 2) {
      assert_string_equal(before, after);
      return;
    }
  }
}

static void post_params(nodefx *f, uint64_t d, const st_deadline_info *di, bool tamper, st_buf *p) {
  st_err err;
  uint8_t rand[32], cc[32];
  nf_randomness(f, true, ST_DST_WINDOW_POST, di->challenge, rand);
  st_rand_to_fr(rand);
  assert_int_equal(st_node_randomness(f->c, false, ST_DST_POST_CHAIN_COMMIT, di->challenge, NULL, 0, NULL, cc, &err),
                   ST_OK);
  st_bitfield one = ST_BITFIELD_INIT;
  st_bitfield_set(&one, SECTOR, NULL);
  st_node_sector *sectors;
  size_t n;
  assert_int_equal(st_node_sectors(f->c, NF_MINER, &one, NULL, &sectors, &n, &err), ST_OK);
  assert_int_equal(n, 1);
  assert_int_equal(sectors[0].number, SECTOR);
  uint8_t comm_r[32];
  memcpy(comm_r, sectors[0].comm_r, 32);
  assert_memory_equal(comm_r, f->comm_r[SECTOR], 32);
  free(sectors);
  st_bitfield_free(&one);
  st_sector_paths paths;
  assert_int_equal(st_sector_paths_make(f->store, NF_MINER, SECTOR, &paths, NULL), ST_OK);
  st_post_sector s = {SECTOR, {0}, paths.sealed, paths.cache};
  memcpy(s.comm_r, comm_r, 32);
  st_post_result res;
  memset(&res, 0, sizeof res);
  st_post_options opt = {0};
  if (st_window_post_prove(nf_info2k(), rand, &s, 1, &opt, &res, &err)) fail_msg("window post: %s", err.msg);
  assert_int_equal(res.nskipped, 0);
  if (tamper) res.proof.data[res.proof.len - 3] ^= 1;
  st_post_partition part = {0, NULL};
  p->len = 0;
  assert_int_equal(st_params_window_post(d, &part, 1, nf_info2k()->window_proof, res.proof.data, res.proof.len,
                                         di->challenge, cc, p, &err),
                   ST_OK);
  st_post_result_free(&res);
}

static long locked_funds(nodefx *f) {
  json_t *rs = nf_rpc(f, "StateReadState", "[\"t01000\", []]");
  long v = atol(json_string_value(json_object_get(json_object_get(rs, "State"), "LockedFunds")));
  json_decref(rs);
  return v;
}

/* Whether partition 0 of deadline d is in its PostSubmissions (StateMinerDeadlines). */
static bool post_submissions_has(nodefx *f, uint64_t d) {
  json_t *r = nf_rpc(f, "StateMinerDeadlines", "[\"t01000\", []]");
  st_bitfield bf = ST_BITFIELD_INIT;
  st_err err;
  if (st_chain_json_get_bitfield(json_object_get(json_array_get(r, d), "PostSubmissions"), "PostSubmissions", &bf,
                                 &err))
    fail_msg("%s", err.msg);
  bool has = st_bitfield_has(&bf, 0);
  st_bitfield_free(&bf);
  json_decref(r);
  return has;
}

static void test_lifecycle(void **state) {
  nodefx *f = *state;
  const st_network *net = st_chain_network(f->chain);
  nf_mine_to(f, 3);
  nf_create_miner(f);
  nf_commit_sectors(f, SECTOR, 1);

  /* in a deadline and partition, with its power, through the State methods */
  uint64_t d = nf_deadline_of(f, SECTOR);
  char params[256], want[512];
  snprintf(params, sizeof params, "[\"t01000\", %llu, []]", (unsigned long long)d);
  nf_assert_rpc(
      f, "StateMinerPartitions", params,
      "[{\"AllSectors\":[1,1],\"FaultySectors\":[0],\"RecoveringSectors\":[0],\"LiveSectors\":[1,1],\"ActiveSectors\":[1,1]}]");
  json_t *sectors = nf_rpc(f, "StateMinerActiveSectors", "[\"t01000\", []]");
  assert_int_equal(json_array_size(sectors), 1);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(sectors, 0), "SectorNumber")), SECTOR);
  json_decref(sectors);
  nf_assert_rpc(f, "StateMinerSectorCount", "[\"t01000\", []]", "{\"Live\":1,\"Active\":1,\"Faulty\":0}");
  nf_assert_rpc(f, "StateSectorPreCommitInfo", "[\"t01000\", 1, []]", "null");
  assert_int_equal(nf_power(f), 2048);
  assert_int_equal(locked_funds(f), net->sector_pledge);

  /* the next instance of its deadline: refusals first (exit 16, nothing changed), then a valid post */
  st_deadline_info di;
  nf_next_instance(f, d, &di);
  nf_mine_to(f, di.open - 1);
  st_buf p = ST_BUF_INIT;
  post_params(f, d, &di, true, &p);
  send_refused(f, ST_METHOD_SUBMIT_WINDOWED_POST, &p, 16); /* invalid proof */
  post_params(f, d, &di, false, &p);
  p.data[1] = (uint8_t)((d + 1) % 12);                     /* the deadline field (a small uint) */
  send_refused(f, ST_METHOD_SUBMIT_WINDOWED_POST, &p, 16); /* wrong deadline */
  assert_int_equal(post_submissions_has(f, d), false);
  post_params(f, d, &di, false, &p);
  nf_send_ok(f, NF_MINER, ST_METHOD_SUBMIT_WINDOWED_POST, &p, "0");
  assert_int_equal(post_submissions_has(f, d), true);
  assert_int_equal(nf_power(f), 2048);
  /* after Close: refused, nothing changed */
  nf_mine_to(f, di.close + 1);
  send_refused(f, ST_METHOD_SUBMIT_WINDOWED_POST, &p, 16);
  assert_int_equal(nf_power(f), 2048);

  /* the next instance passes unproven: faulty, no power, the fault fee charged from the pledge */
  st_deadline_info di2;
  nf_next_instance(f, d, &di2);
  nf_mine_to(f, di2.close + 1);
  nf_assert_rpc(f, "StateMinerFaults", "[\"t01000\", []]", "[1,1]");
  nf_assert_rpc(f, "StateMinerRecoveries", "[\"t01000\", []]", "[0]");
  nf_assert_rpc(f, "StateMinerSectorCount", "[\"t01000\", []]", "{\"Live\":1,\"Active\":0,\"Faulty\":1}");
  nf_assert_rpc(f, "StateMinerActiveSectors", "[\"t01000\", []]", "[]");
  assert_int_equal(nf_power(f), 0);
  assert_int_equal(locked_funds(f), net->sector_pledge - net->fault_fee);

  /* a recovery before the cutoff, then the next post restores the power */
  st_bitfield one = ST_BITFIELD_INIT;
  st_bitfield_set(&one, SECTOR, NULL);
  st_fault_decl decl = {d, 0, &one};
  st_buf r = ST_BUF_INIT;
  st_err err;
  assert_int_equal(st_params_fault_decls(&decl, 1, &r, &err), ST_OK);
  nf_send_ok(f, NF_MINER, ST_METHOD_DECLARE_FAULTS_RECOVERED, &r, "0");
  nf_assert_rpc(f, "StateMinerRecoveries", "[\"t01000\", []]", "[1,1]");
  snprintf(
      want, sizeof want,
      "[{\"AllSectors\":[1,1],\"FaultySectors\":[1,1],\"RecoveringSectors\":[1,1],\"LiveSectors\":[1,1],\"ActiveSectors\":[0]}]");
  nf_assert_rpc(f, "StateMinerPartitions", params, want);
  assert_int_equal(nf_power(f), 0);
  st_deadline_info di3;
  nf_next_instance(f, d, &di3);
  nf_mine_to(f, di3.open - 1);
  post_params(f, d, &di3, false, &p);
  nf_send_ok(f, NF_MINER, ST_METHOD_SUBMIT_WINDOWED_POST, &p, "0");
  assert_int_equal(nf_power(f), 2048);
  nf_assert_rpc(f, "StateMinerFaults", "[\"t01000\", []]", "[0]");
  nf_assert_rpc(f, "StateMinerRecoveries", "[\"t01000\", []]", "[0]");
  nf_assert_rpc(f, "StateMinerSectorCount", "[\"t01000\", []]", "{\"Live\":1,\"Active\":1,\"Faulty\":0}");

  /* the miner made blocks through the API and was paid for them */
  nf_mine_to(f, nf_height(f) + 30);
  print_message("blocks through st_blockprod_round: %lld won, %lld null rounds\n", (long long)f->won,
                (long long)f->nulls);
  assert_true(f->won > 0);
  json_t *rs = nf_rpc(f, "StateReadState", "[\"t01000\", []]");
  mpz_t bal;
  mpz_init_set_str(bal, json_string_value(json_object_get(rs, "Balance")), 10);
  assert_true(mpz_cmp_ui(bal, 10000000000000000000u) > 0);
  mpz_clear(bal);
  json_decref(rs);
  st_bitfield_free(&one);
  st_buf_free(&r);
  st_buf_free(&p);
}

/* Rounds the chain has reached: a round at the head's height builds on the head's parents (a
 * win there would be a sibling of the head's blocks; here the head is this miner's own block,
 * and the deterministic VRFs and proof make the very same block again, which the node knows
 * already), and a round below the head is late: nothing is tried. */
static void test_rounds_behind_head(void **state) {
  nodefx *f = *state;
  st_err err;
  int64_t won = f->won;
  while (f->won == won) nf_mine_next(f); /* the head is t01000's block */
  int64_t h = nf_height(f);
  st_blockprod_result r;
  assert_int_equal(st_blockprod_round(f->c, NF_MINER, h - 1, nf_locate, f->store, NULL, NULL, &r, &err), ST_OK);
  assert_true(r.late);
  assert_false(r.eligible);
  assert_int_equal(r.win_count, 0);
  st_code code = st_blockprod_round(f->c, NF_MINER, h, nf_locate, f->store, NULL, NULL, &r, &err);
  assert_false(r.late);
  assert_true(r.base_height < h);
  assert_true(r.eligible);
  if (code) fail_msg("round %lld again: %s", (long long)h, err.msg);
  json_t *head = nf_rpc(f, "ChainHead", "[]");
  assert_int_equal(json_array_size(json_object_get(head, "Cids")), 1);
  if (r.win_count > 0) {
    char cs[ST_CID_STR_MAX];
    st_cid_to_string(&r.cid, cs);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(head, "Cids"), 0), "/")), cs);
  }
  json_decref(head);
  assert_int_equal(nf_height(f), h);
}

/* The node's refusals reach the caller with the method's name; WalletVRF is the ECVRF of the
 * key it names, and the node refuses a key it does not hold. */
static void test_errors(void **state) {
  nodefx *f = *state;
  st_err err;
  st_node_base_info bi;
  st_node_base_info_init(&bi);
  assert_int_equal(st_node_get_base_info(f->c, 4242, 5, NULL, &bi, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "MinerGetBaseInfo: ");
  tu_assert_err_contains(&err, "t04242");
  st_node_base_info_free(&bi);
  uint8_t alpha[32] = {1, 2, 3}, pi[ST_VRF_PROOF_LEN], beta[32], pub[ST_SECP_PUBKEY_LEN];
  assert_int_equal(st_node_vrf(f->c, &f->account, alpha, sizeof alpha, pi, &err), ST_OK);
  assert_int_equal(st_secp_pubkey(f->sk, pub, &err), ST_OK);
  assert_int_equal(st_vrf_verify(pub, sizeof pub, alpha, sizeof alpha, pi, beta, &err), ST_OK);
  alpha[0] ^= 1;
  assert_int_not_equal(st_vrf_verify(pub, sizeof pub, alpha, sizeof alpha, pi, beta, &err), ST_OK);
  uint8_t other[32];
  st_address stranger;
  assert_int_equal(st_secp_keygen(other, &err), ST_OK);
  assert_int_equal(st_secp_address(other, &stranger, &err), ST_OK);
  assert_int_not_equal(st_node_vrf(f->c, &stranger, alpha, sizeof alpha, pi, &err), ST_OK);
  tu_assert_err_contains(&err, "WalletVRF: ");
  st_deadline_info di;
  assert_int_equal(st_node_proving_deadline(f->c, 100, NULL, &di, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "StateMinerProvingDeadline: ");
  tu_assert_err_contains(&err, "not a miner");
  /* MpoolPushMessage's MaxFee caps GasFeeCap x GasLimit */
  st_message m;
  st_message_init(&m);
  m.from = f->account;
  st_address_from_id(100, &m.to, NULL);
  mpz_set_ui(m.value, 1);
  mpz_t max_fee;
  mpz_init_set_ui(max_fee, 1000000);
  st_cid cid;
  assert_int_equal(st_node_push(f->c, &m, max_fee, &cid, &err), ST_OK);
  json_t *pending = nf_rpc(f, "MpoolPending", "[[]]");
  assert_int_equal(json_array_size(pending), 1);
  const json_t *pm = json_object_get(json_array_get(pending, 0), "Message");
  mpz_t fee;
  mpz_init_set_str(fee, json_string_value(json_object_get(pm, "GasFeeCap")), 10);
  assert_true(mpz_sgn(fee) > 0);
  mpz_mul_si(fee, fee, json_integer_value(json_object_get(pm, "GasLimit")));
  assert_true(mpz_cmp(fee, max_fee) <= 0);
  assert_true(mpz_cmp_ui(fee, 1000000 - (unsigned long)json_integer_value(json_object_get(pm, "GasLimit"))) > 0);
  mpz_clears(fee, max_fee, NULL);
  json_decref(pending);
  st_message_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_errors), cmocka_unit_test(test_lifecycle),
                                     cmocka_unit_test(test_rounds_behind_head)};
  return cmocka_run_group_tests(tests, nf_group_setup, nf_group_teardown);
}