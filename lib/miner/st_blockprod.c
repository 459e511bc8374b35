/* st_blockprod: a round of block production over the daemon's API. */
#include "miner/st_blockprod.h"

#include <stdlib.h>
#include <string.h>

#include "chain/st_consensus.h"
#include "chain/st_wincount.h"
#include "proofs/st_post.h"
#include "rpc/st_node_api.h"

/* WinningPoSt over the base info's sectors into the template. */
static st_code winning_post(const st_node_base_info *bi, uint64_t miner, const uint8_t rand[32],
                            st_sector_locate_fn locate, void *ctx, const st_post_options *post, st_block_header *t,
                            st_err *err) {
  const st_sector_info *info = st_sector_by_size(bi->sector_size);
  if (!info)
    return st_err_set(err, ST_EINVAL, "the miner's sector size %llu is not supported",
                      (unsigned long long)bi->sector_size);
  st_post_sector *ps = calloc(bi->nsectors + 1, sizeof *ps);
  st_sector_paths *paths = calloc(bi->nsectors + 1, sizeof *paths);
  st_code code = ps && paths ? ST_OK : st_err_set(err, ST_ENOMEM, "out of memory");
  for (size_t i = 0; i < bi->nsectors && !code; i++) {
    code = locate(ctx, miner, bi->sectors[i], &paths[i], err);
    ps[i] = (st_post_sector){bi->sectors[i], {0}, paths[i].sealed, paths[i].cache};
    memcpy(ps[i].comm_r, bi->comm_r[i], 32);
  }
  st_buf proof = ST_BUF_INIT;
  if (!code && st_winning_post_prove(info, miner, rand, ps, bi->nsectors, post, &proof, err))
    code = st_err_wrap(err, ST_EIO, "WinningPoSt");
  if (!code) code = st_block_header_add_post_proof(t, info->winning_proof, proof.data, proof.len, err);
  st_buf_free(&proof);
  free(ps);
  free(paths);
  return code;
}

st_code st_blockprod_round(st_rpc_client *c, uint64_t miner, int64_t round, st_sector_locate_fn locate, void *ctx,
                           const st_post_options *post, const st_blockprod_guard *guard, st_blockprod_result *out,
                           st_err *err) {
  memset(out, 0, sizeof *out);
  st_node_head head;
  st_node_head_init(&head);
  st_node_base_info bi;
  st_node_base_info_init(&bi);
  st_block_header t;
  st_block_header_init(&t);
  st_code code = st_node_chain_head(c, &head, err);
  /* a block of this round came first (another miner's): ours joins it on the same parents */
  if (!code && head.height == round) code = st_node_chain_tipset(c, &head.parents, &head, err);
  out->base_height = head.height;
  out->late = !code && round <= head.height;
  if (!code && !out->late) code = st_node_get_base_info(c, miner, round, &head.key, &bi, err);
  out->eligible = !code && !out->late && bi.present && bi.eligible && mpz_sgn(bi.miner_power) > 0;
  if (!code && out->eligible) {
    const st_chain_bytes *beacon = &bi.entries[bi.nentries - 1].data; /* the round's */
    uint8_t alpha[32], pi[ST_VRF_PROOF_LEN];
    st_consensus_election_alpha(beacon->data, beacon->len, round, miner, alpha);
    code = st_node_vrf(c, &bi.worker_key, alpha, sizeof alpha, pi, err);
    if (!code) {
      out->win_count = st_wincount(pi, sizeof pi, bi.miner_power, bi.network_power);
      t.has_election_proof = true;
      t.win_count = out->win_count;
      code = st_chain_bytes_set(&t.election_vrf_proof, pi, sizeof pi, err);
    }
    if (!code && out->win_count > 0) {
      st_consensus_ticket_alpha(beacon->data, beacon->len, round, miner, head.min_ticket.data, head.min_ticket.len,
                                alpha);
      if (!(code = st_node_vrf(c, &bi.worker_key, alpha, sizeof alpha, pi, err))) {
        t.has_ticket = true;
        code = st_chain_bytes_set(&t.ticket_vrf_proof, pi, sizeof pi, err);
      }
    }
    if (!code && out->win_count > 0) {
      uint8_t rand[32];
      st_consensus_winning_rand(beacon->data, beacon->len, round, miner, rand);
      code = winning_post(&bi, miner, rand, locate, ctx, post, &t, err);
    }
    for (size_t i = 0; !code && out->win_count > 0 && i < bi.nentries; i++)
      code = st_block_header_add_beacon(&t, bi.entries[i].round, bi.entries[i].data.data, bi.entries[i].data.len, err);
    if (!code && out->win_count > 0) {
      t.height = round;
      code = st_address_from_id(miner, &t.miner, err);
      if (!code) code = st_block_header_set_parents(&t, head.key.cids, head.key.n, err);
      if (!code && guard) code = guard->check(guard->ctx, round, err);
      if (!code) code = st_node_create_submit_block(c, &t, &out->cid, &out->nmsgs, err);
    }
  }
  st_block_header_free(&t);
  st_node_base_info_free(&bi);
  st_node_head_free(&head);
  if (code) memset(out, 0, sizeof *out);
  return code;
}
