/* st_fullnode_int: what the full node's method groups share, private to lib/node: the node's
 * state, each group's slice of the method table, the param readers of the parse phase, the
 * common argument shapes, and the lookups and JSON writers of the run phase. Every out is
 * initialised on return, success or not (st_err.h). */
#ifndef ST_FULLNODE_INT_H
#define ST_FULLNODE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "chain/st_beacon.h"
#include "chain/st_mpool.h"
#include "crypto/st_wallet.h"
#include "node/st_fullnode.h"

struct st_fullnode {
  st_rpc_method *methods; /* the table: every group's slice */
  size_t nmethods;
  st_chain *chain;
  st_mpool *pool;
  pthread_mutex_t pool_mu; /* the pool, the wallet's nonce assignment, and the fields below */
  bool stopping;           /* set by st_fullnode_stop: StateWaitMsg answers that the node is stopping */
  st_wallet wallet;
  uint8_t jwt_secret[ST_JWT_SECRET_LEN];
  char network; /* 't' or 'f', for addresses in replies */
  const char *version;
  bool has_beacon;                   /* beacon_sk is set (st_fullnode_set_beacon_key) */
  uint8_t beacon_sk[32];             /* the beacon's secret key (st_beacon), wiped by _free */
  pthread_mutex_t notify_mu;         /* notify_subs */
  struct fn_notify_sub *notify_subs; /* open ChainNotify channels */
};

/* ---- the method table: one slice per group ---- */

typedef struct fn_slice {
  const st_rpc_method *methods;
  size_t n;
} fn_slice;

fn_slice fn_common_methods(void);
fn_slice fn_chain_methods(void);
fn_slice fn_state_methods(void);
fn_slice fn_miner_methods(void);
fn_slice fn_market_methods(void);
fn_slice fn_mpool_methods(void);
fn_slice fn_wallet_methods(void);
fn_slice fn_mining_methods(void);
fn_slice fn_notify_methods(void);

/* ---- parse: param i of params, named in errors ("param 2 (epoch): ...") ---- */

st_code fn_param_addr(const json_t *params, size_t i, st_address *out, st_err *err);
st_code fn_param_cid(const json_t *params, size_t i, st_cid *out, st_err *err);
/* A tipset key; [], null or absent is the empty key, which means the head. */
st_code fn_param_tsk(const json_t *params, size_t i, st_tipset_key *out, st_err *err);
/* A member of a JSON object as Go's encoding/json finds it: case-insensitively, the last match
 * winning. */
const json_t *fn_field(const json_t *o, const char *key);

/* The common argument shapes, with their parse and free. */
typedef struct fn_tsk_args {
  st_tipset_key tsk;
} fn_tsk_args;
typedef struct fn_cid_args {
  st_cid cid;
} fn_cid_args;
typedef struct fn_addr_args {
  st_address addr;
} fn_addr_args;
typedef struct fn_addr_tsk_args {
  st_address addr;
  st_tipset_key tsk;
} fn_addr_tsk_args;
typedef struct fn_num_tsk_args {
  uint64_t num;
  st_tipset_key tsk;
} fn_num_tsk_args;
typedef struct fn_addr_num_tsk_args { /* starts as fn_addr_tsk_args does */
  fn_addr_tsk_args at;
  uint64_t num;
} fn_addr_num_tsk_args;
st_code fn_parse_tsk(const json_t *params, void *args, st_err *err);      /* [tsk] */
st_code fn_parse_cid(const json_t *params, void *args, st_err *err);      /* [cid] */
st_code fn_parse_addr(const json_t *params, void *args, st_err *err);     /* [addr] */
st_code fn_parse_addr_tsk(const json_t *params, void *args, st_err *err); /* [addr, tsk] */
/* [number, tsk] and [addr, number, tsk]; what names the number ("deal ID"). */
st_code fn_parse_num_tsk(const json_t *params, const char *what, fn_num_tsk_args *a, st_err *err);
st_code fn_parse_addr_num_tsk(const json_t *params, const char *what, fn_addr_num_tsk_args *a, st_err *err);
void fn_free_tsk(void *args);
void fn_free_num_tsk(void *args);
void fn_free_addr_tsk(void *args);

/* ---- run: lookups ---- */

/* The tipset of tsk; the empty key is the head. */
st_code fn_tipset(st_fullnode *n, const st_tipset_key *tsk, st_tipset *out, st_err *err);
/* The state after the tipset of tsk (the empty key: the head). */
st_code fn_state(st_fullnode *n, const st_tipset_key *tsk, st_state *out, st_err *err);
/* The parent tipset of t, replacing it (t is left as it was on failure). */
st_code fn_parent(st_fullnode *n, st_tipset *t, st_err *err);
/* The miner actor a names at ts's state: its ID and (balance non-NULL) its balance; an error
 * names the address when it is not a miner. */
st_code fn_miner_id(st_fullnode *n, const st_tipset *ts, const st_address *a, uint64_t *id, mpz_t balance, st_err *err);
/* The key address a stands for (an ID address through the head's state). */
st_code fn_key_address(st_fullnode *n, const st_address *a, st_address *out, st_err *err);
/* The beacon's entry for round, once the round has started by the wall clock. */
st_code fn_beacon_entry(st_fullnode *n, int64_t round, uint8_t out[ST_BEACON_ENTRY_LEN], st_err *err);

/* ---- run: JSON ---- */

json_t *fn_addr_json(const st_fullnode *n, const st_address *a);
json_t *fn_id_json(const st_fullnode *n, uint64_t id);
/* base64 of the bytes; null for none, as Go writes a nil []byte. */
json_t *fn_bytes_json(const uint8_t *p, size_t len);

/* The pool's start (st_fullnode_new): the messages kept in the chain store go back in (those the
 * head's state refuses are forgotten), and from then on every message the pool takes is kept
 * there before it enters, and forgotten when pruned. */
st_code fn_mpool_open(st_fullnode *n, st_err *err);

/* ChainNotify's part of st_fullnode_head_changed, and of st_fullnode_free. */
void fn_notify_head(st_fullnode *n, const st_tipset *head);
void fn_notify_free_all(st_fullnode *n);

#endif
