/* st_amt: Filecoin's AMT (array mapped trie), byte-exact with go-amt-ipld v4 and ref-fvm's
 * fvm_ipld_amt (actors v9+). It holds a miner's sectors (bitwidth 5), a deadline's partitions
 * (bitwidth 3) and expiration queues (bitwidth 4 or 5), keyed by uint64 index.
 *
 * Encoding (DAG-CBOR; every object is addressed by CIDv1 dag-cbor + BLAKE2b-256):
 *   Root = [bitWidth, height, count, Node]      the root node is inline
 *   Node = [bmap, [CID...], [value...]]         child nodes are separate objects
 * width = 2^bitWidth; bmap is a byte string of max(1, width/8) bytes, slot i present iff
 * bmap[i/8] & (1 << (i%8)). A node at height 0 holds values (any CBOR item, stored as given)
 * and no links; a node at height > 0 holds links to dag-cbor nodes and no values. Slot s of a
 * node at height h covers indices [s*width^h, (s+1)*width^h) relative to the node. Only the
 * root may be empty, and then height is 0: [bw, 0, 0, [h'00..', [], []]].
 * Canonical form: height is the least that holds the largest index (set grows it by putting
 * the old root under slot 0 of a new one; delete drops empty nodes and then collapses a root
 * that holds only slot 0), so the root CID depends only on the contents.
 * Indices go up to ST_AMT_MAX_INDEX (2^64-2), as go-amt-ipld's MaxIndex.
 *
 * Nodes load lazily through an st_blockstore and stay cached; a change marks its path dirty
 * and st_amt_flush writes only dirty nodes, then the root (nothing if nothing changed).
 * Loading rejects malformed nodes with a message naming what is wrong.
 *
 * Outs (st_err.h): a failed new/load leaves *out NULL; a failed get leaves *found false and
 * val with at most what it held; a failed delete leaves *found false; a failed flush leaves
 * *root zeroed. A failed set or delete leaves the contents as they were (it may have loaded
 * nodes into the cache). */
#ifndef ST_AMT_H
#define ST_AMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/st_blockstore.h"
#include "codec/st_cid.h"
#include "core/st_buf.h"
#include "core/st_err.h"

#define ST_AMT_MAX_INDEX (UINT64_MAX - 1)
#define ST_AMT_MIN_BITWIDTH 1
#define ST_AMT_MAX_BITWIDTH 18
#define ST_AMT_MAX_HEIGHT 64

typedef struct st_amt st_amt;

/* An empty AMT; ST_EINVAL if bitwidth is outside [1, 18]. */
st_code st_amt_new(st_blockstore bs, unsigned bitwidth, st_amt **out, st_err *err);
/* Loads the root object (bitwidth from it); children load when first touched. */
st_code st_amt_load(st_blockstore bs, const st_cid *root, st_amt **out, st_err *err);
void st_amt_free(st_amt *a);

uint64_t st_amt_count(const st_amt *a);
unsigned st_amt_height(const st_amt *a);
unsigned st_amt_bitwidth(const st_amt *a);

/* Appends the CBOR bytes of the value at i to val; *found false (val untouched) if absent.
 * ST_ERANGE if i > ST_AMT_MAX_INDEX. */
st_code st_amt_get(st_amt *a, uint64_t i, st_buf *val, bool *found, st_err *err);
/* Sets the value at i; val must be one whole DAG-CBOR item (ST_EINVAL otherwise). */
st_code st_amt_set(st_amt *a, uint64_t i, const void *val, size_t vlen, st_err *err);
/* Removes the value at i; *found says whether it was there. */
st_code st_amt_delete(st_amt *a, uint64_t i, bool *found, st_err *err);
/* Writes the changed nodes and the root; *root is the root object's CID. */
st_code st_amt_flush(st_amt *a, st_cid *root, st_err *err);

/* Calls fn for each value in ascending index order; a non-OK return from fn stops the walk and
 * is returned as is. */
typedef st_code (*st_amt_each_fn)(void *ctx, uint64_t i, const uint8_t *val, size_t vlen, st_err *err);
st_code st_amt_each(st_amt *a, st_amt_each_fn fn, void *ctx, st_err *err);

#endif
