/* st_chain: the node's chain: genesis, blocks and tipsets, applying them, the heaviest head,
 * and the lookups the API serves.
 *
 * Execution is deferred, as in Filecoin: a block at height h carries the state root, receipts
 * and base fee that result from applying its parent tipset's messages, and its own messages are
 * applied when a child is built on it. Each tipset's result (state root, receipts root, next
 * base fee, weight) is recorded once, when the tipset is first formed.
 *
 * A block is accepted in one chain-store transaction: its messages, the tipset it joins (blocks
 * at the same height with the same parents), that tipset's execution, and, if it is now the
 * heaviest, the new head with its height index and message index. A failure at any step, or a
 * kill -9, leaves the store as it was.
 *
 * A block's miner is a miner actor that won the election (st_consensus), or, while the network
 * has no power at the election's lookback, an account making a bootstrap block. Executing a
 * tipset runs cron for each epoch since its parent (null rounds too), its messages, the block
 * rewards, and cron for its own epoch; its weight is Filecoin's (st_consensus_weight).
 *
 * Outputs (st_err.h): every out is initialised on return, success or not. The reads of a
 * tipset, an exec, a block, a message or a state take their out initialised by the caller (its
 * _init) and replace it, so one may be read into again: it holds the result, or is empty (as
 * its _init leaves it) on failure. Every other out (actor state, message lookups, base info,
 * lists) is initialised by the function: pass it uninitialised or empty. Lists are NULL with a
 * count of 0 on failure.
 *
 * The code is in parts by concern, st_chain_*.c, sharing st_chain_int.h (which lists them and
 * the store's layout). */
#ifndef ST_CHAIN_H
#define ST_CHAIN_H

#include <gmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/st_chain_types.h"
#include "chain/st_genesis.h"
#include "chain/st_market.h"
#include "chain/st_miner_state.h"
#include "chain/st_mpool.h"
#include "chain/st_network.h"
#include "chain/st_state.h"
#include "core/st_err.h"

typedef struct st_chain st_chain;

/* A tipset: its blocks in canonical order, its key, its height. */
typedef struct st_tipset {
  st_block_header *blocks;
  size_t n;
  st_tipset_key key;
  int64_t height;
} st_tipset;
void st_tipset_init(st_tipset *t);
void st_tipset_free(st_tipset *t);
/* Lotus's TipSet JSON: {"Cids": [...], "Blocks": [...], "Height": n}; *out NULL on failure. */
st_code st_tipset_to_json(const st_tipset *t, char network, json_t **out, st_err *err);

/* The result of applying a tipset's messages. */
typedef struct st_tipset_exec {
  st_cid state_root, receipts_root;
  st_cid applied_root; /* the CIDs of the messages applied, in order (one per receipt) */
  mpz_t next_base_fee;
  mpz_t weight; /* the tipset's own weight */
} st_tipset_exec;
void st_tipset_exec_init(st_tipset_exec *e);
void st_tipset_exec_free(st_tipset_exec *e);

/* Opens the chain in repo (its chain/ folder), creating it from g on first use. A repo made
 * from another genesis is refused. */
st_code st_chain_open(const char *repo, const st_genesis *g, st_chain **out, st_err *err);
void st_chain_close(st_chain *c);
const st_network *st_chain_network(const st_chain *c);
uint64_t st_chain_genesis_time(const st_chain *c);
/* The epoch at unix time now (genesis time + epoch x block delay). */
int64_t st_chain_epoch_at(const st_chain *c, uint64_t now);

st_code st_chain_head(st_chain *c, st_tipset *out, st_err *err);
st_code st_chain_genesis(st_chain *c, st_tipset *out, st_err *err);
st_code st_chain_tipset(st_chain *c, const st_tipset_key *key, st_tipset *out, st_err *err);
/* The head chain's tipset at height, or the one below it if height was a null round. */
st_code st_chain_tipset_at(st_chain *c, int64_t height, st_tipset *out, st_err *err);
st_code st_chain_exec(st_chain *c, const st_tipset_key *key, st_tipset_exec *out, st_err *err);

st_code st_chain_block(st_chain *c, const st_cid *cid, st_block_header *out, st_err *err);
/* A message by the CID it is stored and indexed under: a secp256k1 message's signed CID (the CID
 * MpoolPush returns and blocks list). */
st_code st_chain_message(st_chain *c, const st_cid *cid, st_signed_message *out, st_err *err);
/* A block's messages, with their CIDs (the signed CIDs). Caller frees each and the arrays. */
st_code st_chain_block_messages(st_chain *c, const st_block_header *b, st_signed_message **msgs, st_cid **cids,
                                size_t *n, st_err *err);
/* The CIDs of the messages a tipset applied, in order (one per receipt). Caller frees. */
st_code st_chain_applied(st_chain *c, const st_tipset_key *key, st_cid **cids, size_t *n, st_err *err);
/* The receipts of a tipset's messages (in the order they were applied). */
st_code st_chain_receipts(st_chain *c, const st_cid *receipts_root, st_receipt **out, size_t *n, st_err *err);

/* Any stored object's raw bytes by CID (blocks, messages, states, receipts), into out (its
 * content replaced; empty on failure, ST_ENOENT naming the CID when absent); and whether it is
 * stored (false on failure). */
st_code st_chain_object(st_chain *c, const st_cid *cid, st_buf *out, st_err *err);
st_code st_chain_has_object(st_chain *c, const st_cid *cid, bool *has, st_err *err);

/* The state after key's messages (the state a child of it builds on); NULL key: the head. */
st_code st_chain_state(st_chain *c, const st_tipset_key *key, st_state *out, st_err *err);

/* Where a message was applied on the head chain. */
typedef struct st_msg_lookup {
  st_tipset_key tipset; /* the tipset that included it */
  int64_t height;
  st_receipt receipt;
} st_msg_lookup;
void st_msg_lookup_free(st_msg_lookup *l);
/* ST_ENOENT if the head chain has not applied it (yet). */
st_code st_chain_search_msg(st_chain *c, const st_cid *msg, st_msg_lookup *out, st_err *err);

/* Checks and stores a block with its messages (those already stored may be left out), forms its
 * tipset, applies it, and moves the head if that tipset is now the heaviest. *new_head says so. */
st_code st_chain_submit_block(st_chain *c, const st_block_header *b, const st_signed_message *msgs, size_t nmsgs,
                              bool *new_head, uint64_t now, st_err *err);

/* Builds and signs a block for epoch with messages chosen from pool; the caller submits it.
 * out is the template (initialised by the caller): if its Miner is set, it is a miner's block,
 * and its Ticket, ElectionProof, BeaconEntries and WinPoStProof are kept (MinerCreateBlock);
 * sk is then the worker's key. Otherwise it is a bootstrap block by the account whose key is
 * sk. Parents, when the template has none, are the head. On failure out may be partly filled
 * (free it either way) and there are no messages. */
st_code st_chain_build_block(st_chain *c, const uint8_t sk[32], int64_t epoch, st_mpool *pool, st_block_header *out,
                             st_signed_message **msgs, size_t *nmsgs, st_err *err);

const uint8_t *st_chain_beacon_pub(const st_chain *c); /* 65 bytes */

/* The state of miner id, or of the power actor, after key (NULL: the head). */
st_code st_chain_miner_state(st_chain *c, const st_tipset_key *key, uint64_t id, st_miner_state *out, st_err *err);
st_code st_chain_power_state(st_chain *c, const st_tipset_key *key, st_power_state *out, st_err *err);
/* The market's and the verified registry's state at key. */
st_code st_chain_market_state(st_chain *c, const st_tipset_key *key, st_market_state *out, st_err *err);
st_code st_chain_verifreg_state(st_chain *c, const st_tipset_key *key, st_verifreg_state *out, st_err *err);
/* Randomness as the VM draws it on key's chain (NULL: the head): from tickets, or from the
 * beacon entries the blocks carry. out is zeroed on failure. */
st_code st_chain_randomness(st_chain *c, const st_tipset_key *key, bool beacon, int64_t dst, int64_t round,
                            const uint8_t *entropy, size_t elen, uint8_t out[32], st_err *err);

/* Whether a bootstrap block (an account's, no election) may be made for round on top of the head
 * without null rounds allowing it: nobody has power at the election's lookback, read as block
 * checks read it (after null rounds the lookback may be the head itself). *head_height gets the
 * head's height; both outs are false and 0 on failure. */
st_code st_chain_bootstrap_allowed(st_chain *c, int64_t round, bool *allowed, int64_t *head_height, st_err *err);

/* What a miner needs to try for round on top of key (NULL: the head); MinerGetBaseInfo's
 * chain part (the beacon entries come from the beacon). */
typedef struct st_base_info {
  mpz_t miner_power, network_power; /* quality-adjusted, at the lookback */
  bool eligible;                    /* meets the consensus minimum at the lookback */
  uint64_t worker;                  /* the worker's account ID, at the parent state */
  st_address worker_key;            /* its key address */
  uint64_t sector_size;
  uint64_t *sectors; /* the active sectors at the lookback, for WinningPoSt */
  uint8_t (*comm_r)[32];
  size_t nsectors;
  int64_t parent_height;
  st_chain_bytes parent_ticket; /* the parent's smallest ticket */
  st_tipset_key parent;
} st_base_info;
void st_base_info_init(st_base_info *b);
void st_base_info_free(st_base_info *b);
st_code st_chain_base_info(st_chain *c, const st_tipset_key *key, uint64_t miner, int64_t round, st_base_info *out,
                           st_err *err);

/* Applies m on the state after key's tipset (NULL key: the head) at the next epoch, with no base
 * fee, and keeps nothing (gas estimates, StateCall); size is the signed message's size; why gets
 * the failure's reason ("" if none). rc (initialised by the caller) is set only when the message
 * was applied (st_vm_apply). */
st_code st_chain_call(st_chain *c, const st_tipset_key *key, const st_message *m, size_t size, st_receipt *rc,
                      char why[ST_ERR_MSG_MAX], st_err *err);

/* The node's message pool, kept in the store (st_mpool's journal; st_chain_pool.c). keep stores
 * sm under cid, and forgets replaced (if not NULL), in one synced transaction; forget drops
 * cids; kept reads every message kept, in no particular order (*out NULL and *n 0 on failure;
 * the caller frees each and the array). */
st_code st_chain_pool_keep(st_chain *c, const st_signed_message *sm, const st_cid *cid, const st_cid *replaced,
                           st_err *err);
st_code st_chain_pool_forget(st_chain *c, const st_cid *cids, size_t n, st_err *err);
st_code st_chain_pool_kept(st_chain *c, st_signed_message **out, size_t *n, st_err *err);

/* Calls fn for every head change, after the change is committed, with the messages of the
 * tipsets the change reverted (a reorganisation), so a message pool can take them back. */
typedef void (*st_chain_head_fn)(void *ctx, const st_tipset *head, const st_signed_message *reverted, size_t nreverted);
void st_chain_on_head(st_chain *c, st_chain_head_fn fn, void *ctx);

#endif
