/* st_parent_cache: the SDR parent cache file, as rust-fil-proofs makes it, so that labeling
 * reads each node's 14 parents instead of recomputing them (ChaCha8 and 48 BLAKE2b calls a node).
 *
 * The file holds, for every node in order, 14 LE u32 parents (6 base, 8 expander): nodes * 56
 * bytes. It lives in $FIL_PROOFS_PARENT_CACHE, else /var/tmp/filecoin-parents, under
 * rust-fil-proofs' name v28-sdr-parent-<hex>.cache, hex = SHA-256("poseidon_hasher" || the
 * StackedGraph's identifier || the 4 Feistel keys LE64 || LE32(nodes)) (cache.rs, cache_path), so
 * the two programs share their files. That name omits the API version; a graph whose version is
 * not the one its porep id implies (V1_0_0 for seal proofs 0..4, else V1_1_0) gets "-V1_x_0"
 * before ".cache", so it never reads the other version's file.
 *
 * A missing file is made once: written streaming under a temporary name (bounded memory),
 * hashed as it is written, checked against the published digest of its name where one is known
 * (rust-fil-proofs' parent_cache.json, all 10 production graphs), then renamed into place. A
 * file present is mapped read-only; one of the wrong size is made again, and with
 * FIL_PROOFS_VERIFY_CACHE=1 (as rust-fil-proofs' setting) one whose digest is not the published
 * one is made again too.
 *
 * Every out is initialised on return, success or not (st_err.h): a failed open leaves the cache
 * empty (data NULL), which st_parent_cache_close accepts. */
#ifndef ST_PARENT_CACHE_H
#define ST_PARENT_CACHE_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/st_endian.h"
#include "core/st_err.h"
#include "proofs/st_graph.h"

#define ST_PARENT_CACHE_ENTRY (ST_PARENTS * 4) /* bytes a node */
#define ST_PARENT_CACHE_NAME_MAX 96

typedef struct st_parent_cache {
  const uint8_t *data; /* nodes * 56 bytes, mapped read-only */
  uint64_t nodes;
  size_t len;
  char path[PATH_MAX];
  bool made;         /* this open wrote the file */
  bool digest_known; /* digest holds the file's SHA-256 (made, or verified, by this open) */
  uint8_t digest[32];
} st_parent_cache;

/* $FIL_PROOFS_PARENT_CACHE if set and not empty, else /var/tmp/filecoin-parents. */
const char *st_parent_cache_dir(void);
/* The file name (no folder) of g's cache. */
void st_parent_cache_name(const st_graph *g, char out[ST_PARENT_CACHE_NAME_MAX]);
/* The published digest (64 hex digits) of a file name, or NULL when none is published. */
const char *st_parent_cache_published(const char *name);

/* Opens g's cache, making it first when it is missing or of the wrong size. */
st_code st_parent_cache_open(st_parent_cache *pc, const st_graph *g, st_err *err);
void st_parent_cache_close(st_parent_cache *pc);
/* SHA-256 of the whole file: the one computed by open when known, else hashed from the map. */
st_code st_parent_cache_digest(st_parent_cache *pc, uint8_t out[32], st_err *err);

/* Lets the pages of nodes [from, to) go from this process's memory (the file keeps them; a
 * later read maps them again): labeling reads the cache once, in order, so it releases what it
 * has read and the cache does not add its size to the seal's resident memory. */
void st_parent_cache_release(const st_parent_cache *pc, uint64_t from, uint64_t to);

/* Node v's 14 parents, 6 base then 8 expander (v < nodes). */
static inline void st_parent_cache_get(const st_parent_cache *pc, uint64_t v, uint32_t out[ST_PARENTS]) {
  const uint8_t *p = pc->data + v * ST_PARENT_CACHE_ENTRY;
  for (int i = 0; i < ST_PARENTS; i++) out[i] = st_le32_get(p + 4 * i);
}

#endif
