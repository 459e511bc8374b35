/* st_blockprod: one round of block production, as a Lotus miner's mining loop does it, over
 * the daemon's API (st_node_api): on the head, get the base info for the round, prove the
 * ticket and the election with the worker's key (WalletVRF), and on a win run WinningPoSt over
 * the challenged sectors, let the node make the block with its best messages
 * (MinerCreateBlock) and submit it. Whether a round was already tried is the caller's to know
 * (the poster never runs a round twice). */
#ifndef ST_BLOCKPROD_H
#define ST_BLOCKPROD_H

#include <stdbool.h>
#include <stdint.h>

#include "codec/st_cid.h"
#include "core/st_err.h"
#include "proofs/st_post.h"
#include "proofs/st_sector.h"
#include "rpc/st_rpc_client.h"

/* Where a sector's files are (the registry, or the local dist-path). */
typedef st_code (*st_sector_locate_fn)(void *ctx, uint64_t miner, uint64_t sector, st_sector_paths *out, st_err *err);

/* Called on a win right before the block is made and submitted (a cluster re-checks that it
 * still holds the round); an error stops the round with nothing submitted. */
typedef struct st_blockprod_guard {
  st_code (*check)(void *ctx, int64_t round, st_err *err);
  void *ctx;
} st_blockprod_guard;

typedef struct st_blockprod_result {
  int64_t base_height; /* the tipset the round built on: the head, or the head's parents when
                          the head is a block of this round already (ours becomes its sibling) */
  bool late;           /* the chain was past round already: nothing was tried */
  bool eligible;       /* the miner could run: it existed and met the minimum at the lookback */
  int64_t win_count;   /* 0: no block this round */
  st_cid cid;          /* the block, when won */
  size_t nmsgs;
} st_blockprod_result;

/* Tries round for miner on the head (guard may be NULL), or on the head's parents when the head is at round
 * already (a block of another miner came first: a win makes ours its sibling in the tipset).
 * ST_OK with win_count 0 means the round was lost, the miner is not eligible, or the chain was
 * past round (late); an error means the round could not be run: ST_EIO when it was
 * won but the WinningPoSt could not be made (the challenged sector's files cannot be read: no
 * block this round, also when it is not read within post's timeout_ms: post may be NULL, no
 * timeout), another code for the node or the sector locator; *out is zeroed then. */
st_code st_blockprod_round(st_rpc_client *c, uint64_t miner, int64_t round, st_sector_locate_fn locate, void *ctx,
                           const st_post_options *post, const st_blockprod_guard *guard, st_blockprod_result *out,
                           st_err *err);

#endif
