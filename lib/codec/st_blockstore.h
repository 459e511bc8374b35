/* st_blockstore: where IPLD structures (st_hamt, st_amt) load and store their nodes.
 *
 * A seam of two calls, so a HAMT or an AMT works over the chain store inside one LMDB
 * transaction as well as over the memory store below (tests, benchmarks). Contracts:
 *   get appends the bytes stored under cid to out; ST_ENOENT (naming the CID) if absent.
 *   put stores bytes under cid (the caller computed cid from the bytes); storing a CID that is
 *   already there is a no-op and succeeds.
 * The memory store counts what it is asked to put (puts, bytes), so a benchmark can report the
 * bytes a change writes. */
#ifndef ST_BLOCKSTORE_H
#define ST_BLOCKSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "codec/st_cid.h"
#include "core/st_buf.h"
#include "core/st_err.h"

typedef struct st_blockstore {
  st_code (*get)(void *ctx, const st_cid *cid, st_buf *out, st_err *err);
  st_code (*put)(void *ctx, const st_cid *cid, const void *data, size_t len, st_err *err);
  void *ctx;
} st_blockstore;

/* A store in memory (an open-addressed table keyed by CID). */
typedef struct st_memstore st_memstore;
st_code st_memstore_new(st_memstore **out, st_err *err); /* *out NULL on failure */
void st_memstore_free(st_memstore *m);
/* The st_blockstore view of m (valid while m lives). */
st_blockstore st_memstore_view(st_memstore *m);
/* Calls to put so far, and the bytes they carried (new or not), since the last reset. */
typedef struct st_memstore_stats {
  uint64_t puts, put_bytes, gets, get_bytes, objects, stored_bytes;
} st_memstore_stats;
void st_memstore_stats_get(const st_memstore *m, st_memstore_stats *out);
void st_memstore_stats_reset(st_memstore *m); /* zeroes puts, put_bytes, gets, get_bytes */

#endif
