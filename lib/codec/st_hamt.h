/* st_hamt: Filecoin's HAMT (go-hamt-ipld v3, fvm_ipld_hamt), byte-exact, over an st_blockstore.
 *
 * It holds the chain's state tree (keys: address bytes) and a miner's pre-commits (keys:
 * uvarint sector numbers); its root CID is consensus, so every node must encode exactly as
 * go-hamt-ipld v3 writes it (SHA-256 key hashing, as the actors configure it; Filecoin uses
 * bitwidth 5). Encoding (DAG-CBOR; objects are CIDv1 dag-cbor + BLAKE2b-256):
 *   Node    = [bitfield: bytes, pointers: [Pointer, ...]]
 *   bitfield: the bitmap as a big-endian integer's minimal bytes (big.Int.Bytes(): no leading
 *             zero byte; the empty bitmap is h''); bit i is the integer's bit i.
 *   Pointer = link (tag 42, a child Node) | bucket: [[key: bytes, value: any CBOR item], ...]
 *             1..3 KVs, sorted by key bytes (shorter first on a common prefix), keys unique.
 * Key k's index at depth d is bits [d*bw, d*bw+bw) of SHA-256(k), most significant bit first;
 * the pointer for index i sits at popcount(bitmap & ((1<<i)-1)). A full bucket receiving a
 * fourth key becomes a child node holding all four one level down. After a delete a child
 * with no links and at most 3 KVs collapses into one sorted bucket in its parent (CHAMP), so
 * the root CID depends only on the set of keys and values. The empty HAMT is [h'', []]
 * (bafy2bzaceamp42wmmgr2g2ymg46euououzfyck7szknvfacqscohrvaikwfay, Filecoin's EmptyMapCid).
 *
 * Decoding rejects, naming the fault: a bitmap with a leading zero byte or a bit at or past
 * 2^bitwidth, a popcount that differs from the pointer count, an empty bucket or one over 3,
 * keys unsorted or repeated, a key whose hash does not give its pointer's index, a link that is
 * not dag-cbor, an empty or collapsible (no links, <= 3 KVs) non-root node, trailing bytes.
 *
 * Memory: nodes load on first touch and stay cached as a tree of structs; a change loads and
 * re-encodes only the nodes on its path, and flush writes only dirty nodes (children first).
 * The cache keeps every node touched since the last flush; when a flush leaves more than
 * ST_HAMT_CACHE_NODES nodes loaded it drops all clean ones but the root. st_hamt_each keeps
 * only its path: nodes it loads are dropped once walked.
 *
 * Contracts: an st_hamt is used by one thread at a time. A get, set or delete that fails leaves
 * the HAMT as it was (nodes it loaded may stay cached); a flush that fails leaves it as it was
 * but for nodes already written. Values are stored verbatim; keys are any bytes. */
#ifndef ST_HAMT_H
#define ST_HAMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/st_blockstore.h"
#include "codec/st_cid.h"
#include "core/st_buf.h"
#include "core/st_err.h"

#define ST_HAMT_BUCKET 3
#define ST_HAMT_CACHE_NODES 65536

typedef struct st_hamt st_hamt;

/* An empty HAMT. bitwidth 1..8 (ST_EINVAL otherwise). *out NULL on failure. */
st_code st_hamt_new(st_blockstore bs, unsigned bitwidth, st_hamt **out, st_err *err);
/* Loads (and checks) the root node stored under root. *out NULL on failure. */
st_code st_hamt_load(st_blockstore bs, const st_cid *root, unsigned bitwidth, st_hamt **out, st_err *err);
void st_hamt_free(st_hamt *h); /* NULL is fine */

/* Appends key's value (its CBOR bytes) to val and sets *found; absent: val untouched, *found
 * false. On failure *found is false and val untouched. */
st_code st_hamt_get(st_hamt *h, const void *key, size_t klen, st_buf *val, bool *found, st_err *err);
/* Sets key to val, which must be exactly one well-formed DAG-CBOR item (ST_EINVAL otherwise).
 * Setting the value a key already has changes nothing (nothing to flush). */
st_code st_hamt_set(st_hamt *h, const void *key, size_t klen, const void *val, size_t vlen, st_err *err);
/* Removes key; *found says whether it was there (false on failure). */
st_code st_hamt_delete(st_hamt *h, const void *key, size_t klen, bool *found, st_err *err);
/* Writes the changed nodes and sets *root to the root's CID (zeroed on failure). */
st_code st_hamt_flush(st_hamt *h, st_cid *root, st_err *err);

/* Calls fn for every key/value in pointer order, depth first (go-hamt-ipld's ForEach order);
 * a non-OK return from fn stops the walk and is returned. The pointers are valid during the
 * call only; fn must not change h. */
typedef st_code (*st_hamt_each_fn)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                                   st_err *err);
st_code st_hamt_each(st_hamt *h, st_hamt_each_fn fn, void *ctx, st_err *err);

/* Nodes now loaded in memory (for tests and benchmarks). */
size_t st_hamt_cached_nodes(const st_hamt *h);

#endif
