/* st_graph: Filecoin's SDR parent graph, bit for bit as rust-fil-proofs builds it.
 *
 * Each node v has 6 base (DRG) parents in its own layer and 8 expander parents in the previous
 * layer (rust-fil-proofs' StackedBucketGraph; shared/reference section 4):
 *  - drg_seed = the first 28 bytes of SHA-256("Filecoin_DRSample" || porep_id). The base parents
 *    of v >= 2 are bucket-sampled from a ChaCha8 stream keyed by drg_seed || LE32(v); nodes 0 and
 *    1 have all parents 0. V1_0_0 puts v-1 last, V1_1_0 first.
 *  - The expander parents are permute(8v + i) / 8 for a 3-round Feistel permutation of the 8N
 *    edge slots whose round function is BLAKE2b-512, keyed by the LE64 words of
 *    SHA-256("Filecoin_Feistel" || porep_id).
 * ChaCha8 is written out here (st_chacha8_block): OpenSSL has only ChaCha20 in the IETF layout. */
#ifndef ST_GRAPH_H
#define ST_GRAPH_H
#include <stdint.h>
#include "proofs/st_sector.h"

/* The proofs API version, which orders the base parents (V1 seal proofs 0..4 use V1_0_0, the
 * V1_1 proofs 5..9 and later ones V1_1_0, whose graph V1_2_0 shares). */
typedef enum st_api_version { ST_API_V1_0_0 = 0, ST_API_V1_1_0 = 1 } st_api_version;
st_api_version st_api_version_of_seal_proof(int seal_proof);
const char *st_api_version_name(st_api_version api); /* "V1_0_0", "V1_1_0" */

#define ST_PARENTS (ST_DRG_DEGREE + ST_EXP_DEGREE) /* 14 */

typedef struct st_graph {
  uint64_t nodes;
  st_api_version api;
  uint8_t porep_id[32];
  uint8_t drg_seed[28];
  uint64_t feistel_keys[4]; /* rounds use keys 0..2; all four name the parent cache */
  uint64_t feistel_domain;  /* nodes * 8 */
  unsigned feistel_half_bits;
} st_graph;

/* nodes >= 2 and at most 2^31 (64 GiB). */
void st_graph_init(st_graph *g, uint64_t nodes, const uint8_t porep_id[32], st_api_version api);
/* The graph a sector of info is sealed with: its node count, st_porep_id and API version. */
void st_graph_init_sector(st_graph *g, const st_sector_info *info);
/* Parents of node v < nodes (any v; nodes 0 and 1 get zeros for the base parents). */
void st_graph_drg_parents(const st_graph *g, uint64_t v, uint64_t out[ST_DRG_DEGREE]);
void st_graph_exp_parents(const st_graph *g, uint64_t v, uint64_t out[ST_EXP_DEGREE]);
/* All 14, as the parent cache holds them: 6 base, then 8 expander. */
void st_graph_parents(const st_graph *g, uint64_t v, uint32_t out[ST_PARENTS]);

/* One 64-byte ChaCha8 block (8 rounds, Bernstein's layout: 64-bit block counter in words 12-13,
 * 64-bit stream in words 14-15), as rand_chacha's ChaCha8Rng produces it. */
void st_chacha8_block(const uint8_t key[32], uint64_t counter, uint64_t stream, uint8_t out[64]);

#endif
