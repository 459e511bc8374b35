/* chainfx: the chain fixture shared by tests/chain. */
#include "chainfx.h"

#include <string.h>
#include <time.h>

#include "testutil.h"

#include "chain/st_beacon.h"
#include "chain/st_consensus.h"
#include "chain/st_rand.h"
#include "chain/st_wincount.h"
#include "codec/st_cbor.h"
#include "crypto/st_secp.h"
#include "crypto/st_vrf.h"
#include "miner/st_miner_msgs.h"
#include "proofs/st_porep.h"
#include "proofs/st_post.h"

const st_sector_info *fx_info2k(void) {
  const st_sector_info *i;
  st_sector_lookup("2KiB", &i, NULL);
  return i;
}

void fx_setup(fx *f, int nkeys, int verifreg_root) { fx_setup_net(f, nkeys, verifreg_root, NULL); }

void fx_setup_net(fx *f, int nkeys, int verifreg_root, void (*tweak)(st_network *net)) {
  memset(f, 0, sizeof *f);
  f->nkeys = nkeys;
  tu_tmpdir(f->dir);
  snprintf(f->store, sizeof f->store, "%s/store", f->dir);
  st_genesis_init(&f->g);
  st_err err;
  assert_int_equal(st_network_profile("devnet", &f->g.network, &err), ST_OK);
  f->g.timestamp = (uint64_t)time(NULL) - 100000;
  mpz_set_str(f->g.reward_pool, "1000000000000000000000000", 10);
  assert_int_equal(st_genesis_new_beacon(&f->g, f->beacon_sk, &err), ST_OK);
  for (int i = 0; i < nkeys; i++) {
    assert_int_equal(st_secp_keygen(f->sk[i], &err), ST_OK);
    assert_int_equal(st_secp_address(f->sk[i], &f->addr[i], &err), ST_OK);
    char text[ST_ADDR_STR_MAX], spec[200];
    st_address_format(&f->addr[i], 't', text, &err);
    snprintf(spec, sizeof spec, "%s=100000", text);
    assert_int_equal(st_genesis_add_account(&f->g, spec, &err), ST_OK);
  }
  if (verifreg_root >= 0) f->g.network.verifreg_root = ST_ID_FIRST_ACCOUNT + verifreg_root;
  if (tweak) tweak(&f->g.network);
  assert_int_equal(st_chain_open(f->dir, &f->g, &f->c, &err), ST_OK);
  assert_int_equal(st_mpool_new(st_chain_network(f->c), &f->pool, &err), ST_OK);
}

void fx_teardown(fx *f) {
  st_mpool_free(f->pool);
  st_chain_close(f->c);
  st_genesis_clear(&f->g);
  tu_rmdir(f->dir);
}

int64_t fx_head_height(fx *f) {
  st_tipset h;
  st_tipset_init(&h);
  assert_int_equal(st_chain_head(f->c, &h, NULL), ST_OK);
  int64_t height = h.height;
  st_tipset_free(&h);
  return height;
}

void fx_add_beacons(fx *f, st_block_header *b, int64_t parent_height, int64_t epoch) {
  for (int64_t r = st_consensus_first_beacon_round(parent_height, epoch); r <= epoch; r++) {
    uint8_t e[ST_BEACON_ENTRY_LEN];
    assert_int_equal(st_beacon_make(f->beacon_sk, (uint64_t)r, e, NULL), ST_OK);
    assert_int_equal(st_block_header_add_beacon(b, (uint64_t)r, e, sizeof e, NULL), ST_OK);
  }
}

/* Fills a miner block template for epoch; false if the miner did not win. */
bool fx_elect(fx *f, uint64_t miner, int who, int64_t epoch, st_block_header *b) {
  st_err err;
  st_base_info bi;
  st_base_info_init(&bi);
  assert_int_equal(st_chain_base_info(f->c, NULL, miner, epoch, &bi, &err), ST_OK);
  fx_add_beacons(f, b, bi.parent_height, epoch);
  const st_chain_bytes *beacon = &b->beacon_entries[b->n_beacon_entries - 1].data;
  uint8_t alpha[32], pi[ST_VRF_PROOF_LEN], beta[32];
  st_consensus_ticket_alpha(beacon->data, beacon->len, epoch, miner, bi.parent_ticket.data, bi.parent_ticket.len,
                            alpha);
  assert_int_equal(st_vrf_prove(f->sk[who], alpha, 32, pi, beta, &err), ST_OK);
  b->has_ticket = true;
  st_chain_bytes_set(&b->ticket_vrf_proof, pi, sizeof pi, NULL);
  st_consensus_election_alpha(beacon->data, beacon->len, epoch, miner, alpha);
  assert_int_equal(st_vrf_prove(f->sk[who], alpha, 32, pi, beta, &err), ST_OK);
  b->has_election_proof = true;
  b->win_count = st_wincount(pi, sizeof pi, bi.miner_power, bi.network_power);
  st_chain_bytes_set(&b->election_vrf_proof, pi, sizeof pi, NULL);
  assert_int_equal(st_address_from_id(miner, &b->miner, NULL), ST_OK);
  bool won = b->win_count > 0 && bi.nsectors > 0;
  if (won) {
    uint8_t rand[32];
    st_consensus_winning_rand(beacon->data, beacon->len, epoch, miner, rand);
    st_post_sector *ps = calloc(bi.nsectors, sizeof *ps);
    st_sector_paths *paths = calloc(bi.nsectors, sizeof *paths);
    for (size_t i = 0; i < bi.nsectors; i++) {
      assert_int_equal(st_sector_paths_make(f->store, miner, bi.sectors[i], &paths[i], NULL), ST_OK);
      ps[i] = (st_post_sector){bi.sectors[i], {0}, paths[i].sealed, paths[i].cache};
      memcpy(ps[i].comm_r, bi.comm_r[i], 32);
    }
    st_buf proof = ST_BUF_INIT;
    if (st_winning_post_prove(fx_info2k(), miner, rand, ps, bi.nsectors, NULL, &proof, &err))
      fail_msg("winning post: %s", err.msg);
    assert_int_equal(st_block_header_add_post_proof(b, fx_info2k()->winning_proof, proof.data, proof.len, NULL), ST_OK);
    st_buf_free(&proof);
    free(ps);
    free(paths);
  }
  st_base_info_free(&bi);
  return won;
}

static bool network_has_power(fx *f, int64_t epoch) {
  st_base_info bi;
  st_base_info_init(&bi);
  st_err err;
  bool power = !st_chain_base_info(f->c, NULL, FX_MINER, epoch, &bi, &err) && mpz_sgn(bi.network_power) > 0;
  st_base_info_free(&bi);
  return power;
}

/* One epoch: a bootstrap block while the network has no power, else the miner's block if it
 * wins (a null round if not). Messages come from the pool. */
void fx_mine(fx *f, int64_t epoch) {
  st_err err;
  st_block_header b;
  st_block_header_init(&b);
  bool elected = network_has_power(f, epoch);
  if (elected && !fx_elect(f, FX_MINER, 0, epoch, &b)) {
    st_block_header_free(&b);
    return; /* a null round */
  }
  if (!elected) fx_add_beacons(f, &b, fx_head_height(f), epoch);
  st_signed_message *msgs = NULL;
  size_t n = 0;
  if (st_chain_build_block(f->c, f->sk[0], epoch, f->pool, &b, &msgs, &n, &err))
    fail_msg("build at %lld: %s", (long long)epoch, err.msg);
  if (st_chain_submit_block(f->c, &b, msgs, n, NULL, (uint64_t)time(NULL), &err))
    fail_msg("submit at %lld: %s", (long long)epoch, err.msg);
  st_state st;
  st_state_init(&st);
  assert_int_equal(st_chain_state(f->c, NULL, &st, NULL), ST_OK);
  st_mpool_prune(f->pool, &st);
  st_state_clear(&st);
  for (size_t i = 0; i < n; i++) st_signed_message_free(&msgs[i]);
  free(msgs);
  st_block_header_free(&b);
}

void fx_mine_to(fx *f, int64_t h) {
  for (int64_t e = fx_head_height(f) + 1; e <= h; e++) fx_mine(f, e);
}

void fx_push(fx *f, int who, uint64_t to, uint64_t method, const st_buf *params, const char *value, st_cid *cid) {
  st_signed_message sm;
  st_signed_message_init(&sm);
  sm.message.from = f->addr[who];
  st_address_from_id(to, &sm.message.to, NULL);
  sm.message.nonce = f->nonce[who]++;
  sm.message.method = method;
  mpz_set_str(sm.message.value, value, 10);
  sm.message.gas_limit = 1000000000;
  mpz_set_ui(sm.message.gas_fee_cap, 1000);
  mpz_set_ui(sm.message.gas_premium, 100);
  st_err err;
  if (params) st_chain_bytes_set(&sm.message.params, params->data, params->len, NULL);
  assert_int_equal(st_signed_message_sign_secp(&sm, f->sk[who], &err), ST_OK);
  st_state st;
  st_state_init(&st);
  assert_int_equal(st_chain_state(f->c, NULL, &st, &err), ST_OK);
  if (st_mpool_add(f->pool, &st, &sm, cid, &err)) fail_msg("mpool: %s", err.msg);
  st_state_clear(&st);
  st_signed_message_free(&sm);
}

/* The exit code of an applied message; ret (optional) gets its return value. */
static int64_t receipt_of(fx *f, const st_cid *cid, st_buf *ret) {
  st_msg_lookup l;
  memset(&l, 0, sizeof l);
  st_tipset_key_init(&l.tipset);
  st_receipt_init(&l.receipt);
  st_err err;
  if (st_chain_search_msg(f->c, cid, &l, &err)) fail_msg("message not applied: %s", err.msg);
  int64_t code = l.receipt.exit_code;
  if (ret) st_buf_append(ret, l.receipt.ret.data, l.receipt.ret.len);
  st_msg_lookup_free(&l);
  return code;
}

int64_t fx_call_ret(fx *f, int who, uint64_t to, uint64_t method, const st_buf *params, const char *value,
                    st_buf *ret) {
  st_cid cid;
  fx_push(f, who, to, method, params, value, &cid);
  int64_t h = fx_head_height(f);
  for (int i = 0; i < 40; i++) { /* past null rounds */
    fx_mine(f, ++h);
    if (fx_head_height(f) == h) break;
  }
  return receipt_of(f, &cid, ret);
}

int64_t fx_call(fx *f, int who, uint64_t to, uint64_t method, const st_buf *params, const char *value) {
  return fx_call_ret(f, who, to, method, params, value, NULL);
}

void fx_miner_state(fx *f, st_miner_state *m) {
  assert_int_equal(st_chain_miner_state(f->c, NULL, FX_MINER, m, NULL), ST_OK);
}

void fx_create_miner(fx *f, int who) {
  st_buf p = ST_BUF_INIT;
  st_cbor_put_array(&p, 5);
  st_cbor_put_bytes(&p, f->addr[who].bytes, f->addr[who].len);
  st_cbor_put_bytes(&p, f->addr[who].bytes, f->addr[who].len);
  st_cbor_put_int(&p, fx_info2k()->window_proof);
  st_cbor_put_bytes(&p, "peer", 4);
  st_cbor_put_array(&p, 0);
  assert_int_equal(fx_call(f, who, ST_ID_POWER, 2, &p, "10000000000000000000"), 0);
  st_buf_free(&p);
}

int64_t fx_precommit(fx *f, uint64_t number, const char *data_path, const uint64_t *deals, size_t ndeals,
                     int64_t expiration, fx_sector *s) {
  st_err err;
  memset(s, 0, sizeof *s);
  s->number = number;
  int64_t rand_epoch = fx_head_height(f) - 1;
  st_buf e = ST_BUF_INIT;
  st_rand_entropy_id(FX_MINER, &e);
  s->in = (st_seal_input){
      .info = fx_info2k(), .miner = FX_MINER, .sector = number, .root = f->store, .data_path = data_path};
  assert_int_equal(st_chain_randomness(f->c, NULL, false, ST_DST_SEAL, rand_epoch, e.data, e.len, s->in.ticket, &err),
                   ST_OK);
  st_buf_free(&e);
  if (st_seal(&s->in, &s->out, &err)) fail_msg("seal: %s", err.msg);
  memcpy(f->comm_r, s->out.comm_r, 32);
  st_buf p = ST_BUF_INIT;
  st_params_precommit(fx_info2k()->seal_proof, number, s->out.comm_r, rand_epoch, deals, ndeals, expiration, &p);
  int64_t exit = fx_call(f, 0, FX_MINER, 6, &p, "0");
  st_buf_free(&p);
  return exit;
}

static void prove_commit_params(uint64_t number, const st_buf *proof, st_buf *p) {
  p->len = 0;
  st_params_prove_commit(number, proof->data, proof->len, p);
}

int64_t fx_prove_commit(fx *f, fx_sector *s, bool checks) {
  st_err err;
  st_miner_state m;
  fx_miner_state(f, &m);
  st_precommit *pc = st_miner_precommit(&m, s->number);
  assert_non_null(pc);
  int64_t seed_epoch = pc->precommit_epoch + st_chain_network(f->c)->precommit_challenge_delay;
  st_miner_state_free(&m);
  st_buf p = ST_BUF_INIT, proof = ST_BUF_INIT;
  if (checks) { /* too early: the seed is not drawn yet */
    st_buf_append(&proof, "x", 1);
    prove_commit_params(s->number, &proof, &p);
    assert_int_equal(fx_call(f, 0, FX_MINER, 7, &p, "0"), ST_EXIT_FORBIDDEN);
    proof.len = 0;
  }
  fx_mine_to(f, seed_epoch + 1);
  st_porep_public pub = {.info = fx_info2k(), .miner = FX_MINER, .sector = s->number};
  memcpy(pub.ticket, s->in.ticket, 32);
  memcpy(pub.comm_d, s->out.comm_d, 32);
  memcpy(pub.comm_r, s->out.comm_r, 32);
  st_buf e = ST_BUF_INIT;
  st_rand_entropy_id(FX_MINER, &e);
  assert_int_equal(
      st_chain_randomness(f->c, NULL, true, ST_DST_INTERACTIVE_SEAL, seed_epoch, e.data, e.len, pub.seed, &err), ST_OK);
  st_buf_free(&e);
  if (st_porep_prove(&pub, f->store, &proof, &err)) fail_msg("porep: %s", err.msg);
  if (checks) { /* a tampered PoRep is refused */
    proof.data[proof.len - 5] ^= 1;
    prove_commit_params(s->number, &proof, &p);
    assert_int_equal(fx_call(f, 0, FX_MINER, 7, &p, "0"), ST_EXIT_ILLEGAL_ARGUMENT);
    proof.data[proof.len - 5] ^= 1;
  }
  prove_commit_params(s->number, &proof, &p);
  int64_t exit = fx_call(f, 0, FX_MINER, 7, &p, "0");
  if (!exit) assert_int_equal(st_seal_finalize(fx_info2k(), f->store, FX_MINER, s->number, &err), ST_OK);
  st_buf_free(&proof);
  st_buf_free(&p);
  return exit;
}
