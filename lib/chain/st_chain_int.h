/* st_chain_int: what the parts of st_chain share; not for other modules. Names start st_ch_.
 *
 * The parts: st_chain_store.c (the store's layout: tipsets, CID lists, message metas, tipset
 * records, named keys), st_chain_env.c (the VM's environment over a chain), st_chain_exec.c
 * (applying a tipset), st_chain_head.c (moving the head and its indexes), st_chain_open.c
 * (opening the chain from its genesis, the lock), st_chain_read.c (reads), st_chain_submit.c
 * (accepting a block), st_chain_build.c (building one), st_chain_state.c (reads of actor state
 * and randomness through the VM's environment) and st_chain_pool.c (the node's pooled messages).
 *
 * What the store holds (keys in the chain store's named values unless said otherwise):
 *   objects        blocks, signed messages, CID lists, message metas, receipt lists, state blobs
 *   genesis, head  a tipset key (the concatenated CID bytes)
 *   ts:<key CID>   the tipset's record: [height, weight, state root, receipts root, next base fee,
 *                  parent key, applied root]
 *   hp:<h>:<CID>   the largest tipset formed so far at height h on the parent with that key CID
 *   heights        height -> key, on the head chain only
 *   msgidx         message CID -> [key, height, receipt index], on the head chain only
 *   mpool          message CID -> the signed message, for each message in the node's pool */
#ifndef ST_CHAIN_INT_H
#define ST_CHAIN_INT_H

#include <pthread.h>

#include "chain/st_chain.h"
#include "chain/st_chainstore.h"
#include "chain/st_vm.h"

struct st_chain {
  st_chainstore *cs;
  st_network net;
  uint64_t genesis_time;
  uint8_t beacon_pub[65];
  pthread_mutex_t mu; /* one transaction at a time, and the head callback */
  st_chain_head_fn on_head;
  void *on_head_ctx;
};

/* ---- st_chain_open.c ---- */

/* Runs fn in a read transaction under the chain's lock. */
st_code st_ch_read(st_chain *c, st_cs_write_fn fn, void *ctx, st_err *err);

/* ---- st_chain_store.c ---- */

/* prefix + the CID's text: the name of a value keyed by a CID. */
void st_ch_meta_key(const char *prefix, const st_cid *cid, char out[ST_CID_STR_MAX + 48]);
/* Stores an encoded object and gives its CID; with t NULL, only the CID (a block being built). */
st_code st_ch_put_cbor(st_cs_txn *t, const st_buf *b, st_cid *cid, st_err *err);
/* A CBOR array of CIDs, stored (unless t is NULL); its CID in *cid. */
st_code st_ch_put_cid_list(st_cs_txn *t, const st_cid *cids, size_t n, st_cid *cid, st_err *err);
/* The message meta [BLS list CID, secp list CID] for these secp message CIDs (stored unless t
 * is NULL). */
st_code st_ch_msg_meta(st_cs_txn *t, const st_cid *secp, size_t n, st_cid *meta, st_err *err);
/* The secp message CIDs a block's meta lists (*cids NULL and *n 0 on failure). */
st_code st_ch_meta_messages(st_cs_txn *t, const st_cid *meta, st_cid **cids, size_t *n, st_err *err);
/* Objects by CID; out initialised, replaced. */
st_code st_ch_load_signed(st_cs_txn *t, const st_cid *cid, st_signed_message *out, st_err *err);
st_code st_ch_load_block(st_cs_txn *t, const st_cid *cid, st_block_header *out, st_err *err);
st_code st_ch_load_state(st_cs_txn *t, const st_cid *root, st_state *out, st_err *err);
/* The tipset of key's blocks; out initialised, replaced (empty on failure). */
st_code st_ch_load_tipset(st_cs_txn *t, const st_tipset_key *key, st_tipset *out, st_err *err);

/* What the chain records of a tipset when it forms it. */
typedef struct st_ch_record {
  int64_t height;
  st_tipset_exec exec;
  st_tipset_key parent;
} st_ch_record;
st_code st_ch_put_record(st_cs_txn *t, const st_tipset_key *key, const st_ch_record *r, st_err *err);
/* ST_ENOENT if the chain never formed the tipset. r initialised. */
st_code st_ch_get_record(st_cs_txn *t, const st_tipset_key *key, st_ch_record *r, st_err *err);
void st_ch_record_init(st_ch_record *r);
void st_ch_record_free(st_ch_record *r);
/* The CIDs a tipset applied, from its record (*cids NULL and *n 0 on failure). */
st_code st_ch_applied_of(st_cs_txn *t, const st_tipset_key *key, st_cid **cids, size_t *n, st_err *err);
/* A tipset key kept under a name ("genesis", "head", "hp:..."); key initialised, replaced. */
st_code st_ch_get_key(st_cs_txn *t, const char *name, st_tipset_key *key, st_err *err);
st_code st_ch_put_key(st_cs_txn *t, const char *name, const st_tipset_key *key, st_err *err);
void st_ch_exec_copy(st_tipset_exec *dst, const st_tipset_exec *src);

/* What the chain holds at key (NULL: the head): each of its tipset, its record and the state
 * after it that is asked for (state needs rec). Each is initialised, and replaced. */
st_code st_ch_load_at(st_cs_txn *t, const st_tipset_key *key, st_tipset *top, st_ch_record *rec, st_state *state,
                      st_err *err);

/* ---- st_chain_env.c ---- */

typedef struct st_ch_pending_obj st_ch_pending_obj;

/* The chain as the messages of one tipset (top) see it. In a write transaction objects go
 * straight to the store (an aborted transaction drops them); otherwise they stay in memory. */
typedef struct st_ch_env {
  st_chain *c;
  st_cs_txn *t;
  bool write;
  st_ch_pending_obj *objs;
  size_t nobjs;
  int64_t top_height;
  st_tipset_key top_key, top_parent;
  st_vm_env env;
} st_ch_env;
/* An environment with no top yet: always safe to st_ch_env_free. */
void st_ch_env_init(st_ch_env *e, st_chain *c, st_cs_txn *t, bool write);
/* The tipset whose messages run: randomness and lookbacks walk back from it. */
st_code st_ch_env_top(st_ch_env *e, const st_tipset *top, st_err *err);
void st_ch_env_free(st_ch_env *e);
/* The VM's randomness (st_vm_env.randomness) on e's chain. */
st_code st_ch_env_randomness(void *e, bool beacon, int64_t dst, int64_t round, const uint8_t *entropy, size_t elen,
                             uint8_t out[32], st_err *err);
/* The state after the tipset at height h (or the last before it) on top's chain; out
 * initialised, replaced. */
st_code st_ch_state_at(st_ch_env *e, int64_t h, st_state *out, st_err *err);

/* ---- st_chain_exec.c ---- */

/* Applies ts's messages on its parent's state (exec and height of the parent). strict (one
 * block being checked on its own): a message that cannot be applied makes the block invalid.
 * Otherwise (a tipset of several blocks) such a message is skipped, as Lotus skips
 * out-of-sequence messages: two valid blocks may carry the same sender's nonce.
 * out->applied_root lists what was applied, in order. */
st_code st_ch_exec_tipset(st_chain *c, st_cs_txn *t, const st_tipset *ts, const st_tipset_exec *parent,
                          int64_t parent_height, bool strict, st_tipset_exec *out, st_err *err);

/* ---- st_chain_head.c ---- */

/* Makes key the head: the heights and message index follow the new chain back to where it
 * meets the old one; the messages of the tipsets it leaves are appended to *reverted. */
st_code st_ch_set_head(st_cs_txn *t, const st_tipset_key *key, st_signed_message **reverted, size_t *nreverted,
                       st_err *err);

#endif
