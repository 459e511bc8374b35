/* st_graph: the SDR parent graph, seeded by the porep id.
 *
 * Each node v of a layer has 6 DRG parents in the same layer (bucket sampling, as
 * rust-fil-proofs' BucketGraph: 5 drawn from log-spaced buckets behind v, the last is v-1) and,
 * from layer 2 on, 8 expander parents in the previous layer (a Feistel permutation of the
 * N*8 edge slots, parent = permute(8v+i)/8, as rust-fil-proofs' StackedGraph). Node 0 has no
 * parents. The randomness is ours, not Filecoin's: a SHA-256 of the graph seed and v seeds a
 * splitmix64 stream for the buckets, and the Feistel rounds are splitmix64 keyed from the
 * porep id. The construction is in docs/proofs.md. */
#ifndef ST_GRAPH_H
#define ST_GRAPH_H
#include <stdint.h>
#include "proofs/st_sector.h"

typedef struct st_graph {
  uint64_t nodes;
  uint8_t drg_seed[32];
  uint64_t feistel_keys[3];
  unsigned feistel_half_bits;
  uint64_t feistel_domain; /* nodes * 8 */
} st_graph;

void st_graph_init(st_graph *g, uint64_t nodes, const uint8_t porep_id[32]);
/* v >= 1. */
void st_graph_drg_parents(const st_graph *g, uint64_t v, uint64_t out[ST_DRG_DEGREE]);
void st_graph_exp_parents(const st_graph *g, uint64_t v, uint64_t out[ST_EXP_DEGREE]);

#endif
