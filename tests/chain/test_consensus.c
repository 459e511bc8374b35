/* Tests for storage power consensus on a real chain with a real sealed 2 KiB sector: a miner is
 * created, pre-commits, prove-commits (PoRep checked against the beacon's seed) and lands in a
 * deadline; a WindowPoSt keeps its power; a tampered proof, a wrong deadline and a post after
 * Close are refused with exit 16 and change nothing; a missed deadline makes the sector faulty,
 * removes its power and charges the fault fee; a recovery plus the next post restores it. Once
 * the miner has power, every block is elected (ticket, win count, WinningPoSt, worker
 * signature) and bad ones are refused with their reason. Last, two fixed keys at 2:1 power win
 * in proportion over many rounds. */
#include "testutil.h"

#include "chainfx.h"

#include <string.h>
#include <time.h>

#include "chain/st_actors.h"
#include "chain/st_beacon.h"
#include "chain/st_chain.h"
#include "chain/st_consensus.h"
#include "chain/st_deadline.h"
#include "chain/st_rand.h"
#include "chain/st_wincount.h"
#include "codec/st_cbor.h"
#include "codec/st_token.h"
#include "crypto/st_secp.h"
#include "crypto/st_vrf.h"
#include "proofs/st_porep.h"
#include "proofs/st_post.h"
#include "proofs/st_seal.h"

#define MINER FX_MINER
#define SECTOR 1

static void power_of(fx *f, mpz_t raw) {
  st_power_state p;
  assert_int_equal(st_chain_power_state(f->c, NULL, &p, NULL), ST_OK);
  st_power_claim *c = st_power_claim_of(&p, FX_MINER);
  assert_non_null(c);
  mpz_set(raw, c->raw);
  st_power_state_free(&p);
}

/* Seals, pre-commits and prove-commits sector SECTOR of MINER, checking the refusals on the way. */
static void commit_sector(fx *f) {
  fx_sector s;
  assert_int_equal(fx_precommit(f, SECTOR, NULL, NULL, 0, fx_head_height(f) + 3000, &s), 0);
  assert_int_equal(fx_prove_commit(f, &s, true), 0);
}

/* SubmitWindowedPoSt params for deadline d, partition 0, proving SECTOR (or a tampered proof). */
static void post_params(fx *f, uint64_t d, const st_deadline_info *di, bool tamper, st_buf *p) {
  st_err err;
  st_buf e = ST_BUF_INIT;
  st_rand_entropy_id(MINER, &e);
  uint8_t rand[32], cc[32];
  assert_int_equal(st_chain_randomness(f->c, NULL, true, ST_DST_WINDOW_POST, di->challenge, e.data, e.len, rand, &err),
                   ST_OK);
  st_rand_to_fr(rand);
  assert_int_equal(st_chain_randomness(f->c, NULL, false, ST_DST_POST_CHAIN_COMMIT, di->challenge, NULL, 0, cc, &err),
                   ST_OK);
  st_sector_paths paths;
  assert_int_equal(st_sector_paths_make(f->store, MINER, SECTOR, &paths, NULL), ST_OK);
  st_post_sector s = {SECTOR, {0}, paths.sealed, paths.cache};
  memcpy(s.comm_r, f->comm_r, 32);
  st_post_result res;
  memset(&res, 0, sizeof res);
  st_post_options opt = {0};
  if (st_window_post_prove(fx_info2k(), rand, &s, 1, &opt, &res, &err)) fail_msg("window post: %s", err.msg);
  assert_int_equal(res.nskipped, 0);
  if (tamper) res.proof.data[res.proof.len - 3] ^= 1;
  p->len = 0;
  st_cbor_put_array(p, 5);
  st_cbor_put_uint(p, d);
  st_cbor_put_array(p, 1);
  st_cbor_put_array(p, 2);
  st_cbor_put_uint(p, 0);
  st_cbor_put_bytes(p, NULL, 0); /* nothing skipped */
  st_cbor_put_array(p, 1);
  st_cbor_put_array(p, 2);
  st_cbor_put_int(p, fx_info2k()->window_proof);
  st_cbor_put_bytes(p, res.proof.data, res.proof.len);
  st_cbor_put_int(p, di->challenge);
  st_cbor_put_bytes(p, cc, 32);
  st_post_result_free(&res);
  st_buf_free(&e);
}

static void next_instance(fx *f, uint64_t d, int64_t from, st_deadline_info *out) {
  st_miner_state m;
  fx_miner_state(f, &m);
  st_deadline_policy pol;
  st_deadline_policy_of(st_chain_network(f->c), &pol);
  st_deadline_info now;
  st_deadline_new(&pol, m.proving_period_start, d, from, &now);
  st_deadline_next_not_elapsed(&now, out);
  st_miner_state_free(&m);
}

static void assert_power(fx *f, long raw) {
  mpz_t r;
  mpz_init(r);
  power_of(f, r);
  assert_int_equal(mpz_get_si(r), raw);
  mpz_clear(r);
}

static void test_lifecycle(void **state) {
  (void)state;
  fx *f = calloc(1, sizeof *f);
  fx_setup(f, 2, -1);
  fx_mine_to(f, 3);
  fx_create_miner(f, 0);
  commit_sector(f);
  /* the sector is in a deadline and partition, with its power */
  st_miner_state m;
  fx_miner_state(f, &m);
  uint64_t d, part;
  assert_int_equal(st_miner_locate(&m, SECTOR, &d, &part, NULL), ST_OK);
  assert_int_equal(part, 0);
  assert_int_equal(mpz_get_si(m.locked_funds), st_chain_network(f->c)->sector_pledge);
  st_miner_state_free(&m);
  assert_power(f, 2048);

  /* the next instance of its deadline: refusals first, then a valid post */
  st_deadline_info di;
  next_instance(f, d, fx_head_height(f), &di);
  fx_mine_to(f, di.open - 1);
  st_cid head_before;
  {
    st_state_actor *a;
    st_state st;
    st_state_init(&st);
    assert_int_equal(st_chain_state(f->c, NULL, &st, NULL), ST_OK);
    a = st_state_get(&st, MINER);
    head_before = a->head;
    st_state_clear(&st);
  }
  st_buf p = ST_BUF_INIT;
  post_params(f, d, &di, true, &p);
  assert_int_equal(fx_call(f, 0, MINER, 5, &p, "0"), ST_EXIT_ILLEGAL_ARGUMENT); /* invalid proof */
  post_params(f, d, &di, false, &p);
  p.data[1] = (uint8_t)((d + 1) % 12);                                          /* the deadline field (a small uint) */
  assert_int_equal(fx_call(f, 0, MINER, 5, &p, "0"), ST_EXIT_ILLEGAL_ARGUMENT); /* wrong deadline */
  {
    st_state st;
    st_state_init(&st);
    assert_int_equal(st_chain_state(f->c, NULL, &st, NULL), ST_OK);
    assert_true(st_cid_equal(&st_state_get(&st, MINER)->head, &head_before)); /* nothing changed */
    st_state_clear(&st);
  }
  post_params(f, d, &di, false, &p);
  assert_int_equal(fx_call(f, 0, MINER, 5, &p, "0"), 0);
  fx_miner_state(f, &m);
  assert_true(st_bitfield_has(&m.deadlines[d].post_submissions, 0));
  st_miner_state_free(&m);
  assert_power(f, 2048);
  /* after Close: refused */
  fx_mine_to(f, di.close + 1);
  assert_int_equal(fx_call(f, 0, MINER, 5, &p, "0"), ST_EXIT_ILLEGAL_ARGUMENT);
  assert_power(f, 2048);

  /* the next instance passes unproven: faulty, no power, the fee charged from the pledge */
  st_deadline_info di2;
  next_instance(f, d, fx_head_height(f), &di2);
  fx_mine_to(f, di2.close + 1);
  fx_miner_state(f, &m);
  assert_true(st_bitfield_has(&m.deadlines[d].partitions[0].faults, SECTOR));
  assert_int_equal(mpz_get_si(m.locked_funds),
                   st_chain_network(f->c)->sector_pledge - st_chain_network(f->c)->fault_fee);
  st_miner_state_free(&m);
  assert_power(f, 0);

  /* a recovery before the cutoff, then the next post restores the power */
  st_buf r = ST_BUF_INIT;
  st_bitfield one = ST_BITFIELD_INIT;
  st_bitfield_set(&one, SECTOR, NULL);
  st_buf bf = ST_BUF_INIT;
  st_bitfield_encode(&one, &bf, NULL);
  st_cbor_put_array(&r, 1);
  st_cbor_put_array(&r, 1);
  st_cbor_put_array(&r, 3);
  st_cbor_put_uint(&r, d);
  st_cbor_put_uint(&r, 0);
  st_cbor_put_bytes(&r, bf.data, bf.len);
  assert_int_equal(fx_call(f, 0, MINER, 11, &r, "0"), 0);
  fx_miner_state(f, &m);
  assert_true(st_bitfield_has(&m.deadlines[d].partitions[0].recoveries, SECTOR));
  st_miner_state_free(&m);
  assert_power(f, 0);
  st_deadline_info di3;
  next_instance(f, d, fx_head_height(f), &di3);
  fx_mine_to(f, di3.open - 1);
  post_params(f, d, &di3, false, &p);
  assert_int_equal(fx_call(f, 0, MINER, 5, &p, "0"), 0);
  assert_power(f, 2048);
  fx_miner_state(f, &m);
  assert_int_equal(st_bitfield_count(&m.deadlines[d].partitions[0].faults), 0);
  st_miner_state_free(&m);

  /* elected blocks from here on, once the lookback sees the power: bad ones are refused */
  fx_mine_to(f, fx_head_height(f) + st_chain_network(f->c)->election_lookback + 2);
  int64_t h = fx_head_height(f) + 1;
  st_block_header b;
  struct {
    const char *want;
    int tamper;
  } cases[] = {{"wrong ticket", 1}, {"wrong win count", 2}, {"bad WinningPoSt", 3}, {"BlockSig is not", 4}};
  st_err err;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    st_block_header_init(&b);
    while (!fx_elect(f, MINER, 0, h, &b)) { /* a round the miner lost: try the next */
      st_block_header_free(&b);
      st_block_header_init(&b);
      h++;
    }
    if (cases[k].tamper == 1) b.ticket_vrf_proof.data[40] ^= 1;
    if (cases[k].tamper == 2) b.win_count++;
    if (cases[k].tamper == 3) b.win_post_proof[0].proof_bytes.data[b.win_post_proof[0].proof_bytes.len - 2] ^= 1;
    st_signed_message *msgs = NULL;
    size_t n = 0;
    assert_int_equal(st_chain_build_block(f->c, f->sk[0], h, f->pool, &b, &msgs, &n, &err), ST_OK);
    if (cases[k].tamper == 4) b.block_sig.data[10] ^= 1;
    assert_int_equal(st_chain_submit_block(f->c, &b, msgs, n, NULL, (uint64_t)time(NULL), &err), ST_EINVAL);
    tu_assert_err_contains(&err, cases[k].want);
    for (size_t i = 0; i < n; i++) st_signed_message_free(&msgs[i]);
    free(msgs);
    st_block_header_free(&b);
  }
  /* a bootstrap block is refused now that the network has power */
  st_block_header_init(&b);
  fx_add_beacons(f, &b, fx_head_height(f), h);
  st_signed_message *msgs = NULL;
  size_t n = 0;
  assert_int_equal(st_chain_build_block(f->c, f->sk[1], h, f->pool, &b, &msgs, &n, &err), ST_OK);
  assert_int_equal(st_chain_submit_block(f->c, &b, msgs, n, NULL, (uint64_t)time(NULL), &err), ST_EINVAL);
  tu_assert_err_contains(&err, "blocks come from elected miners");
  for (size_t i = 0; i < n; i++) st_signed_message_free(&msgs[i]);
  free(msgs);
  st_block_header_free(&b);
  /* a second miner with no power cannot make a block */
  fx_create_miner(f, 1);
  fx_mine_to(f, fx_head_height(f) + st_chain_network(f->c)->election_lookback + 1);
  h = fx_head_height(f) + 1;
  st_block_header_init(&b);
  (void)fx_elect(f, MINER + 1, 1, h, &b);
  b.has_election_proof = true;
  b.win_count = 1;
  msgs = NULL;
  n = 0;
  assert_int_equal(st_chain_build_block(f->c, f->sk[1], h, f->pool, &b, &msgs, &n, &err), ST_OK);
  assert_int_equal(st_chain_submit_block(f->c, &b, msgs, n, NULL, (uint64_t)time(NULL), &err), ST_EINVAL);
  tu_assert_err_contains(&err, "is below the minimum power");
  for (size_t i = 0; i < n; i++) st_signed_message_free(&msgs[i]);
  free(msgs);
  st_block_header_free(&b);
  /* the liveness rule: with power, a bootstrap block follows only bootstrap-after-nulls null rounds */
  int64_t k = st_chain_network(f->c)->bootstrap_after_nulls, top = fx_head_height(f);
  assert_true(k > 0);
  for (int64_t nulls = k - 1; nulls <= k; nulls++) {
    st_block_header_init(&b);
    fx_add_beacons(f, &b, top, top + 1 + nulls);
    msgs = NULL;
    n = 0;
    assert_int_equal(st_chain_build_block(f->c, f->sk[1], top + 1 + nulls, f->pool, &b, &msgs, &n, &err), ST_OK);
    st_code got = st_chain_submit_block(f->c, &b, msgs, n, NULL, (uint64_t)time(NULL), &err);
    if (nulls < k) {
      assert_int_equal(got, ST_EINVAL);
      tu_assert_err_contains(&err, "this one follows 4");
    } else {
      if (got) fail_msg("a bootstrap block after %lld null rounds: %s", (long long)nulls, err.msg);
      assert_int_equal(fx_head_height(f), top + 1 + nulls);
    }
    for (size_t i = 0; i < n; i++) st_signed_message_free(&msgs[i]);
    free(msgs);
    st_block_header_free(&b);
  }
  /* the block reward and fees reached the miner: its balance grew past what it was sent */
  {
    st_state st;
    st_state_init(&st);
    assert_int_equal(st_chain_state(f->c, NULL, &st, NULL), ST_OK);
    mpz_t sent;
    mpz_init_set_str(sent, "10000000000000000000", 10);
    assert_true(mpz_cmp(st_state_get(&st, MINER)->balance, sent) > 0);
    mpz_clear(sent);
    st_state_clear(&st);
  }
  st_bitfield_free(&one);
  st_buf_free(&bf);
  st_buf_free(&r);
  st_buf_free(&p);
  fx_teardown(f);
  free(f);
}

/* Two miners at 2:1 power over 3000 rounds with fixed keys and beacon: each round's win count
 * is Poisson with lambda 10/3 and 5/3 (capped at 15). The share of the first is 2/3 with a
 * standard deviation of about 0.005 over ~15000 wins; we allow 5 of them (0.025). */
static void test_two_to_one(void **state) {
  (void)state;
  uint8_t beacon_sk[32], sk[2][32];
  memset(beacon_sk, 7, 32);
  memset(sk[0], 11, 32);
  memset(sk[1], 13, 32);
  mpz_t power[2], total;
  mpz_init_set_ui(power[0], 2 * 2048);
  mpz_init_set_ui(power[1], 2048);
  mpz_init_set_ui(total, 3 * 2048);
  int64_t wins[2] = {0, 0};
  for (int64_t round = 1; round <= 3000; round++) {
    uint8_t entry[ST_BEACON_ENTRY_LEN];
    assert_int_equal(st_beacon_make(beacon_sk, (uint64_t)round, entry, NULL), ST_OK);
    for (int i = 0; i < 2; i++) {
      uint8_t alpha[32], pi[ST_VRF_PROOF_LEN], beta[32];
      st_consensus_election_alpha(entry, sizeof entry, round, MINER + (uint64_t)i, alpha);
      assert_int_equal(st_vrf_prove(sk[i], alpha, 32, pi, beta, NULL), ST_OK);
      wins[i] += st_wincount(pi, sizeof pi, power[i], total);
    }
  }
  double share = (double)wins[0] / (double)(wins[0] + wins[1]);
  print_message("2:1 power: %lld and %lld wins, share %.4f (expected 0.6667)\n", (long long)wins[0], (long long)wins[1],
                share);
  assert_true(share > 2.0 / 3 - 0.025 && share < 2.0 / 3 + 0.025);
  assert_true(wins[0] + wins[1] > 14000 && wins[0] + wins[1] < 16000); /* 5 per round expected */
  mpz_clears(power[0], power[1], total, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_lifecycle), cmocka_unit_test(test_two_to_one)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
