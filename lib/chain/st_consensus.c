/* st_consensus: election inputs, block checks and tipset weight. */
#include "chain/st_consensus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/st_actor_state.h"
#include "chain/st_beacon.h"
#include "chain/st_rand.h"
#include "chain/st_wincount.h"
#include "crypto/st_secp.h"
#include "crypto/st_vrf.h"
#include "proofs/st_post.h"
#include "proofs/st_sector.h"

void st_consensus_ticket_alpha(const uint8_t *beacon, size_t blen, int64_t h, uint64_t miner,
                               const uint8_t *parent_ticket, size_t tlen, uint8_t out[32]) {
  st_buf e = ST_BUF_INIT;
  st_rand_entropy_id(miner, &e);
  if (tlen) st_buf_append(&e, parent_ticket, tlen);
  st_draw_randomness(beacon, blen, ST_DST_TICKET, h - 1, e.data, e.len, out);
  st_buf_free(&e);
}

void st_consensus_election_alpha(const uint8_t *beacon, size_t blen, int64_t h, uint64_t miner, uint8_t out[32]) {
  st_buf e = ST_BUF_INIT;
  st_rand_entropy_id(miner, &e);
  st_draw_randomness(beacon, blen, ST_DST_ELECTION, h, e.data, e.len, out);
  st_buf_free(&e);
}

void st_consensus_winning_rand(const uint8_t *beacon, size_t blen, int64_t h, uint64_t miner, uint8_t out[32]) {
  st_buf e = ST_BUF_INIT;
  st_rand_entropy_id(miner, &e);
  st_draw_randomness(beacon, blen, ST_DST_WINNING_POST, h, e.data, e.len, out);
  st_rand_to_fr(out);
  st_buf_free(&e);
}

st_code st_consensus_active_sectors(const st_miner_state *m, uint64_t **out, size_t *n, st_err *err) {
  *out = NULL;
  *n = 0;
  st_bitfield all = ST_BITFIELD_INIT;
  st_code code = st_miner_active(m, &all, err);
  uint64_t count = st_bitfield_count(&all);
  if (!code && count && !(*out = calloc((size_t)count, sizeof **out)))
    code = st_err_set(err, ST_ENOMEM, "out of memory listing sectors");
  st_bitfield_iter it;
  uint64_t v;
  st_bitfield_iter_init(&it, &all);
  while (!code && st_bitfield_iter_next(&it, &v)) (*out)[(*n)++] = v;
  st_bitfield_free(&all);
  return code;
}

st_code st_consensus_bootstrap_allowed(const st_vm_env *env, st_state *lookback_state, bool *out, st_err *err) {
  st_power_state p;
  st_code code = st_actors_load_power(env, lookback_state, &p, err);
  *out = !code && mpz_sgn(p.total_qa) == 0;
  st_power_state_free(&p);
  return code;
}

bool st_consensus_bootstrap_by_nulls(const st_network *net, int64_t parent_height, int64_t height) {
  return net->bootstrap_after_nulls > 0 && height - parent_height - 1 >= net->bootstrap_after_nulls;
}

/* The worker's public key, recovered from BlockSig and checked against its address. */
static st_code worker_key(st_state *parent, const st_miner_state *m, const st_block_header *b, uint8_t pub[65],
                          st_err *err) {
  st_state_actor *w = st_state_get(parent, m->worker);
  if (!w || w->kind != ST_ACTOR_ACCOUNT || st_address_protocol(&w->robust) != ST_ADDR_SECP256K1)
    return st_err_set(err, ST_EINVAL, "the miner's worker t0%llu is not a secp256k1 account",
                      (unsigned long long)m->worker);
  if (!b->has_block_sig || b->block_sig.type != ST_SIG_SECP256K1 || b->block_sig.len != ST_SECP_SIG_LEN)
    return st_err_set(err, ST_EINVAL, "the block has no secp256k1 BlockSig");
  st_buf sb = ST_BUF_INIT;
  st_code code = st_block_header_signing_bytes(b, &sb, err);
  if (!code && st_secp_recover(b->block_sig.data, sb.data, sb.len, pub, NULL))
    code = st_err_set(err, ST_EINVAL, "BlockSig is not a valid signature");
  st_address who;
  if (!code) {
    st_address_from_secp256k1_pubkey(pub, &who);
    if (!st_address_equal(&who, &w->robust))
      code = st_err_set(err, ST_EINVAL, "BlockSig is not the worker's signature");
  }
  st_buf_free(&sb);
  return code;
}

int64_t st_consensus_first_beacon_round(int64_t parent_height, int64_t h) {
  int64_t first = parent_height + 1;
  return h - first >= ST_CHAIN_MAX_ARRAY ? h - ST_CHAIN_MAX_ARRAY + 1
                                         : first; /* after a very long gap, the latest ones */
}

st_code st_consensus_check_beacons(const st_consensus_inputs *in, const st_block_header *b, st_err *err) {
  int64_t want = b->height - st_consensus_first_beacon_round(in->parent_height, b->height) + 1;
  if ((int64_t)b->n_beacon_entries != want)
    return st_err_set(err, ST_EINVAL, "the block carries %zu beacon entries, not the %lld for rounds %lld..%lld",
                      b->n_beacon_entries, (long long)want, (long long)(b->height - want + 1), (long long)b->height);
  for (size_t i = 0; i < b->n_beacon_entries; i++) {
    const st_beacon_entry *e = &b->beacon_entries[i];
    uint64_t round = (uint64_t)(b->height - want + 1) + i;
    if (e->round != round)
      return st_err_set(err, ST_EINVAL, "beacon entry %zu is for round %llu, not %llu", i, (unsigned long long)e->round,
                        (unsigned long long)round);
    st_code code = st_beacon_verify(in->beacon_pub, 65, round, e->data.data, e->data.len, err);
    if (code) return code;
  }
  return ST_OK;
}

/* What checking a miner's block reads: the miner now and at the lookback, its worker's key, the
 * power at the lookback and the round's last beacon entry. */
typedef struct block_check {
  uint64_t id;
  st_miner_state m, lm;
  st_power_state lp;
  st_power_claim *claim;
  uint8_t pub[65];
  const st_chain_bytes *beacon;
} block_check;

static st_code load_check(const st_consensus_inputs *in, const st_block_header *b, block_check *k, st_err *err) {
  st_power_state_init(&k->lp);
  st_code code = st_actors_load_miner(in->env, in->parent_state, k->id, &k->m, err);
  if (code) st_miner_state_init(&k->lm, 0, NULL);
  else if (st_actors_load_miner(in->env, in->lookback_state, k->id, &k->lm, NULL))
    code = st_err_set(err, ST_EINVAL, "miner t0%llu did not exist at the election's lookback (%lld epochs back)",
                      (unsigned long long)k->id, (long long)in->net->election_lookback);
  if (!code) code = worker_key(in->parent_state, &k->m, b, k->pub, err);
  if (!code) code = st_consensus_check_beacons(in, b, err);
  if (!code) k->beacon = &b->beacon_entries[b->n_beacon_entries - 1].data;
  if (!code) code = st_actors_load_power(in->env, in->lookback_state, &k->lp, err);
  if (!code) k->claim = st_power_claim_of(&k->lp, k->id);
  if (!code && !st_power_eligible(&k->lp, k->id, in->net->consensus_min_power)) {
    char *raw = k->claim ? mpz_get_str(NULL, 10, k->claim->raw) : NULL;
    code = st_err_set(err, ST_EINVAL,
                      "miner t0%llu is below the minimum power: %s bytes of raw power at the lookback, %lld needed",
                      (unsigned long long)k->id, raw ? raw : "0", (long long)in->net->consensus_min_power);
    free(raw);
  }
  return code;
}

/* The ticket and the election proof: the worker's VRFs over this round's randomness; the win
 * count the election gives. */
static st_code check_election(const st_consensus_inputs *in, const st_block_header *b, const block_check *k,
                              st_err *err) {
  uint8_t alpha[32];
  if (!b->has_ticket || b->ticket_vrf_proof.len != ST_VRF_PROOF_LEN)
    return st_err_set(err, ST_EINVAL, "wrong ticket: the block has no VRF ticket");
  st_consensus_ticket_alpha(k->beacon->data, k->beacon->len, b->height, k->id, in->parent_ticket->data,
                            in->parent_ticket->len, alpha);
  if (st_vrf_verify(k->pub, sizeof k->pub, alpha, sizeof alpha, b->ticket_vrf_proof.data, NULL, NULL))
    return st_err_set(err, ST_EINVAL, "wrong ticket: not the worker's VRF over this round's ticket randomness");
  if (!b->has_election_proof || b->election_vrf_proof.len != ST_VRF_PROOF_LEN)
    return st_err_set(err, ST_EINVAL, "the block has no election proof");
  st_consensus_election_alpha(k->beacon->data, k->beacon->len, b->height, k->id, alpha);
  if (st_vrf_verify(k->pub, sizeof k->pub, alpha, sizeof alpha, b->election_vrf_proof.data, NULL, NULL))
    return st_err_set(err, ST_EINVAL, "bad election proof: not the worker's VRF over this round's election randomness");
  int64_t wins = st_wincount(b->election_vrf_proof.data, b->election_vrf_proof.len, k->claim->qa, k->lp.total_qa);
  if (wins < 1)
    return st_err_set(err, ST_EINVAL, "the miner did not win round %lld (win count 0)", (long long)b->height);
  if (wins != b->win_count)
    return st_err_set(err, ST_EINVAL, "wrong win count: %lld in the block, the election gives %lld",
                      (long long)b->win_count, (long long)wins);
  return ST_OK;
}

/* The WinningPoSt over the miner's active sectors at the lookback. */
static st_code check_winning_post(const st_block_header *b, block_check *k, st_err *err) {
  const st_sector_info *info = st_sector_by_size(k->lm.sector_size);
  if (!info) return st_err_set(err, ST_EINVAL, "miner t0%llu has an unknown sector size", (unsigned long long)k->id);
  if (b->n_win_post_proof != 1 || b->win_post_proof[0].post_proof != info->winning_proof)
    return st_err_set(err, ST_EINVAL, "bad WinningPoSt: the block must carry one proof of type %d",
                      info->winning_proof);
  uint64_t *nums = NULL;
  size_t n = 0;
  st_code code = st_consensus_active_sectors(&k->lm, &nums, &n, err);
  st_post_public_sector *pubs = n ? calloc(n, sizeof *pubs) : NULL;
  if (!code && n && !pubs) code = st_err_set(err, ST_ENOMEM, "out of memory checking a block");
  for (size_t i = 0; i < n && !code; i++) {
    st_sector_onchain *s = st_miner_sector(&k->lm, nums[i]);
    pubs[i].number = nums[i];
    if (s) memcpy(pubs[i].comm_r, s->sealed_cid.digest, 32);
  }
  if (!code) {
    uint8_t rand[32];
    st_consensus_winning_rand(k->beacon->data, k->beacon->len, b->height, k->id, rand);
    st_err why;
    if (st_winning_post_verify(info, k->id, rand, pubs, n, b->win_post_proof[0].proof_bytes.data,
                               b->win_post_proof[0].proof_bytes.len, &why))
      code = st_err_set(err, ST_EINVAL, "bad WinningPoSt: %s", why.msg);
  }
  free(pubs);
  free(nums);
  return code;
}

st_code st_consensus_check_miner_block(const st_consensus_inputs *in, const st_block_header *b, st_err *err) {
  block_check k = {0};
  st_code code = st_address_id(&b->miner, &k.id, err);
  if (code) return st_err_wrap(err, code, "the block's Miner must be an ID address");
  code = load_check(in, b, &k, err);
  if (!code) code = check_election(in, b, &k, err);
  if (!code) code = check_winning_post(b, &k, err);
  st_power_state_free(&k.lp);
  st_miner_state_free(&k.lm);
  st_miner_state_free(&k.m);
  return code;
}

void st_consensus_weight(const mpz_t parent_weight, const mpz_t total_qa, const st_block_header *blocks, size_t n,
                         mpz_t out) {
  if (mpz_sgn(total_qa) <= 0) {
    mpz_add_ui(out, parent_weight, (unsigned long)n);
    return;
  }
  unsigned long log2p = (unsigned long)mpz_sizeinbase(total_qa, 2) - 1;
  int64_t wins = 0;
  for (size_t i = 0; i < n; i++) wins += blocks[i].has_election_proof ? blocks[i].win_count : 0;
  mpz_t x;
  mpz_init_set_ui(x, log2p * 256);
  mpz_add(out, parent_weight, x);
  mpz_mul_si(x, x, wins);
  mpz_fdiv_q_ui(x, x, 10);
  mpz_add(out, out, x);
  mpz_clear(x);
}
