/* st_chainstore: the daemon's chain store on LMDB.
 *
 * It keeps content-addressed objects (blocks, messages, states, receipts: CID -> bytes), the
 * tipset chosen at each height, an index from message CID to where it was applied, the node's
 * pooled messages, and a few named values (the head, the genesis). It does not interpret any of them; st_chain does.
 *
 * Every change goes through one write transaction (st_cs_write), so a tipset's objects, its
 * height entry, its messages' index entries and the new head land together or not at all: a
 * kill -9 at any moment leaves the last committed head and everything it refers to. LMDB
 * syncs at commit (no MDB_NOSYNC). Readers never block the writer. */
#ifndef ST_CHAINSTORE_H
#define ST_CHAINSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "codec/st_cid.h"
#include "core/st_buf.h"
#include "core/st_err.h"

typedef struct st_chainstore st_chainstore;
typedef struct st_cs_txn st_cs_txn;

/* Opens (creating) the store in dir/chain. map_bytes is the most it may grow to (0: 64 GiB;
 * only what is written takes disk space). */
st_code st_cs_open(const char *dir, size_t map_bytes, st_chainstore **out, st_err *err);
void st_cs_close(st_chainstore *cs);

/* Runs fn inside one write transaction: commits if it returns ST_OK, aborts otherwise. Write
 * transactions are serialized. */
typedef st_code (*st_cs_write_fn)(st_cs_txn *t, void *ctx, st_err *err);
st_code st_cs_write(st_chainstore *cs, st_cs_write_fn fn, void *ctx, st_err *err);
/* Runs fn inside a read-only snapshot (the st_cs_txn refuses writes). */
st_code st_cs_read(st_chainstore *cs, st_cs_write_fn fn, void *ctx, st_err *err);

/* Objects by CID. put of an existing CID is a no-op (the bytes are the same by definition). */
st_code st_cs_put(st_cs_txn *t, const st_cid *cid, const void *data, size_t len, st_err *err);
/* Appends the object to out; ST_ENOENT names the CID if it is absent. */
st_code st_cs_get(st_cs_txn *t, const st_cid *cid, st_buf *out, st_err *err);
bool st_cs_has(st_cs_txn *t, const st_cid *cid);

/* The record kept for a height on the chosen chain (the caller's encoding; NULL data deletes). */
st_code st_cs_put_height(st_cs_txn *t, uint64_t height, const void *data, size_t len, st_err *err);
st_code st_cs_get_height(st_cs_txn *t, uint64_t height, st_buf *out, st_err *err);
/* Deletes every height record above height (a reorganisation cuts the old branch). */
st_code st_cs_truncate_heights(st_cs_txn *t, uint64_t height, st_err *err);

/* Where a message was applied (the caller's encoding); keyed by the message's CID. */
st_code st_cs_put_msgidx(st_cs_txn *t, const st_cid *msg, const void *data, size_t len, st_err *err);
st_code st_cs_get_msgidx(st_cs_txn *t, const st_cid *msg, st_buf *out, st_err *err);
st_code st_cs_del_msgidx(st_cs_txn *t, const st_cid *msg, st_err *err);

/* The node's message pool, kept so that a restart finds it: signed message CID -> its bytes (the
 * caller's encoding). each calls fn with every value, in key order, and stops at its first error. */
st_code st_cs_put_pooled(st_cs_txn *t, const st_cid *msg, const void *data, size_t len, st_err *err);
st_code st_cs_del_pooled(st_cs_txn *t, const st_cid *msg, st_err *err);
typedef st_code (*st_cs_pooled_fn)(void *ctx, const uint8_t *data, size_t len, st_err *err);
st_code st_cs_each_pooled(st_cs_txn *t, st_cs_pooled_fn fn, void *ctx, st_err *err);

/* Named values ("head", "genesis", ...). */
st_code st_cs_put_meta(st_cs_txn *t, const char *key, const void *data, size_t len, st_err *err);
st_code st_cs_get_meta(st_cs_txn *t, const char *key, st_buf *out, st_err *err);

/* Counts for /metrics and tests. */
typedef struct st_cs_stats {
  uint64_t objects, heights, messages;
  uint64_t bytes_used; /* pages in use x page size */
} st_cs_stats;
st_code st_cs_stat(st_chainstore *cs, st_cs_stats *out, st_err *err);

#endif
