/* st_hasher: SHA-256 trunc254 (tree_d, comm_p) and Poseidon (tree_c, tree_r_last, comm_r). */
#include "proofs/st_hasher.h"

#include <string.h>

#include "crypto/st_hash.h"
#include "proofs/st_fr.h"
#include "proofs/st_poseidon.h"

static void sha254(const uint8_t *nodes, size_t n, uint8_t out[32]) {
  st_sha256(nodes, n * 32, out);
  st_fr_trunc254(out);
}

const st_hasher st_hasher_sha254 = {"sha256-trunc254", sha254};

static void poseidon(const uint8_t *nodes, size_t n, uint8_t out[32]) { st_poseidon_hash((unsigned)n, nodes, out); }

const st_hasher st_hasher_poseidon = {"poseidon", poseidon};

const st_hasher *st_hasher_sealing(void) { return &st_hasher_poseidon; }

void st_comm_r(const st_hasher *h, const uint8_t comm_c[32], const uint8_t comm_r_last[32], uint8_t out[32]) {
  uint8_t pair[64];
  memcpy(pair, comm_c, 32);
  memcpy(pair + 32, comm_r_last, 32);
  h->hash(pair, 2, out);
}
