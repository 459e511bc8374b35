/* st_hasher: the two hashes of a sector's trees, behind one interface.
 *
 * Filecoin builds tree_d and comm_p with SHA-256 trunc254, and tree_c, tree_r_last, the label
 * columns and comm_r with Poseidon (st_poseidon, MerkleTree domain, arity = the node count).
 * Callers only ever call hasher->hash on n consecutive 32-byte nodes (n = 2 for comm_r and
 * binary trees, 8 for oct-tree nodes, the layer count for a column). */
#ifndef ST_HASHER_H
#define ST_HASHER_H
#include <stddef.h>
#include <stdint.h>

typedef struct st_hasher {
  const char *name;
  /* out = H(nodes[0] || ... || nodes[n-1]); out is a valid Fr and may alias nodes. */
  void (*hash)(const uint8_t *nodes, size_t n, uint8_t out[32]);
} st_hasher;

/* trunc254(SHA-256(concatenation)): SHA-256 with the top two bits of byte 31 cleared. */
extern const st_hasher st_hasher_sha254;
/* Poseidon of arity n: n must be 2, 4, 8, 11 or 16 (st_poseidon_arity_ok). */
extern const st_hasher st_hasher_poseidon;
/* The hasher sealing uses for tree_c, tree_r_last and comm_r: Poseidon. */
const st_hasher *st_hasher_sealing(void);

/* comm_r = H(comm_c || comm_r_last). */
void st_comm_r(const st_hasher *h, const uint8_t comm_c[32], const uint8_t comm_r_last[32], uint8_t out[32]);

#endif
