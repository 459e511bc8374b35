/* st_consensus: expected consensus as Filecoin runs it, over our beacon and ECVRF
 * (filecoin-facts.md section 5; DESIGN.md section 6): what a block's miner must prove to make a
 * block, how a validator checks it, and what a tipset weighs.
 *
 * For a block at height h by miner M with worker key W, on a parent tipset P:
 *   BeaconEntries  the beacon's entries for rounds P.height+1 .. h, each verified;
 *   Ticket         VRF_W(DrawRandomness(beacon(h), 1, h-1, CBOR(M) || P's min ticket));
 *   ElectionProof  VRF_W(DrawRandomness(beacon(h), 2, h, CBOR(M))), and its WinCount is the
 *                  Poisson win count of M's quality-adjusted power share at the lookback state;
 *   WinPoStProof   a WinningPoSt over M's active sectors at the lookback state, randomness
 *                  DrawRandomness(beacon(h), 3, h, CBOR(M)) with the top bits cleared;
 *   BlockSig       W's secp256k1 signature; W's public key is recovered from it and checked
 *                  against the worker's address, and the VRFs are verified with that key.
 * M must meet the consensus minimum power at the lookback state. Until the network has any
 * power at the lookback state, the chain moves on bootstrap blocks instead: an account signs
 * with its own key, with no election (the daemon's --producer). A bootstrap block carries
 * either no beacon entries or all of them for its rounds, checked the same way; beacon
 * randomness for a round is only available once a block carrying its entry is on chain. */
#ifndef ST_CONSENSUS_H
#define ST_CONSENSUS_H

#include <gmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/st_chain_types.h"
#include "chain/st_miner_state.h"
#include "chain/st_network.h"
#include "chain/st_state.h"
#include "chain/st_vm.h"
#include "core/st_buf.h"
#include "core/st_err.h"

/* The VRF inputs (alpha) a miner proves and a validator checks. beacon is the data of the
 * beacon entry for round h; parent_ticket the parent tipset's smallest ticket (may be empty). */
void st_consensus_ticket_alpha(const uint8_t *beacon, size_t blen, int64_t h, uint64_t miner,
                               const uint8_t *parent_ticket, size_t tlen, uint8_t out[32]);
void st_consensus_election_alpha(const uint8_t *beacon, size_t blen, int64_t h, uint64_t miner, uint8_t out[32]);
void st_consensus_winning_rand(const uint8_t *beacon, size_t blen, int64_t h, uint64_t miner, uint8_t out[32]);

/* A miner's active sectors, for WinningPoSt, in sector order. Caller frees *out. */
st_code st_consensus_active_sectors(const st_miner_state *m, uint64_t **out, size_t *n, st_err *err);

/* Everything a miner block is checked against. */
typedef struct st_consensus_inputs {
  const st_network *net;
  const uint8_t *beacon_pub; /* 65 bytes, from the genesis */
  const st_vm_env *env;      /* reads actor state objects */
  int64_t parent_height;
  const st_chain_bytes *parent_ticket; /* the parent tipset's smallest ticket */
  st_state *parent_state;              /* the state the block builds on (its ParentStateRoot) */
  st_state *lookback_state;            /* the state at h - election_lookback */
} st_consensus_inputs;

/* Checks a block whose Miner is a miner actor. The error says what is wrong: "wrong ticket",
 * "win count 2 in the block, the election gives 1", "miner t01000 is below the minimum power",
 * "WinningPoSt: ...", "BlockSig is not the worker's signature", ... */
st_code st_consensus_check_miner_block(const st_consensus_inputs *in, const st_block_header *b, st_err *err);
/* The first round whose beacon entry a block at h on a parent at parent_height carries: the
 * next round after the parent, or, after more than ST_CHAIN_MAX_ARRAY rounds, the latest ones. */
int64_t st_consensus_first_beacon_round(int64_t parent_height, int64_t h);
/* The block's BeaconEntries are the beacon's, for rounds parent_height+1 .. h (uses net,
 * beacon_pub and parent_height of in). */
st_code st_consensus_check_beacons(const st_consensus_inputs *in, const st_block_header *b, st_err *err);
/* Whether bootstrap blocks are allowed: no power at the lookback state. */
st_code st_consensus_bootstrap_allowed(const st_vm_env *env, st_state *lookback_state, bool *out, st_err *err);
/* The liveness rule: a bootstrap block at height is also valid, power or not, when the rounds
 * between it and its parent were null at least net->bootstrap_after_nulls times (0: never). */
bool st_consensus_bootstrap_by_nulls(const st_network *net, int64_t parent_height, int64_t height);

/* Filecoin's weight: parent + log2P x 256 + log2P x 256 x sum(WinCount) / 10, log2P =
 * bitlen(total QA power at the tipset's parent state) - 1; with no power, parent + blocks. */
void st_consensus_weight(const mpz_t parent_weight, const mpz_t total_qa, const st_block_header *blocks, size_t n,
                         mpz_t out);

#endif
