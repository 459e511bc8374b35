/* st_porep: the interactive PoRep vanilla proof a sealer submits with ProveCommitSector.
 *
 * The seed drawn after the pre-commit delay picks challenge nodes; for each, the proof opens
 * the data node in tree_d (against comm_d), the replica node in tree_r_last (against
 * comm_r_last), and the label columns of the node and of its 6 DRG and 8 expander parents in
 * tree_c (against comm_c). The verifier recomputes every label of the challenged node from its
 * parents, checks replica = data + key, and checks comm_r = H(comm_c || comm_r_last).
 *
 * Encoding (DAG-CBOR): [1, comm_c, comm_r_last, [challenge...]] where
 *   challenge = [tree_d path, tree_r_last path, [column x 15]] and column = [labels, tree_c path]
 * (st_tree_put_path gives the path form). Challenge node j (0-based over all partitions) is
 *   LE_bigint(SHA-256(replica_id || seed || LE32(j))) mod (nodes - 1) + 1. */
#ifndef ST_POREP_H
#define ST_POREP_H
#include <stdint.h>
#include "core/st_buf.h"
#include "core/st_err.h"
#include "proofs/st_sector.h"

typedef struct st_porep_public {
  const st_sector_info *info;
  uint64_t miner;
  uint64_t sector;
  uint8_t ticket[32];
  uint8_t seed[32];
  uint8_t comm_d[32];
  uint8_t comm_r[32];
} st_porep_public;

#define ST_POREP_MAX_CHALLENGES 180 /* 10 partitions x 18 at 32 and 64 GiB */
size_t st_porep_challenge_count(const st_sector_info *info);
void st_porep_challenges(const st_sector_info *info, const uint8_t replica_id[32], const uint8_t seed[32],
                         uint64_t *out);
/* Proves from the cache under root (before finalize: layers, tree_d and tree_c are needed).
 * Appends the encoded proof to proof (on failure proof may hold part of it). */
st_code st_porep_prove(const st_porep_public *pub, const char *root, st_buf *proof, st_err *err);
/* ST_OK if the proof checks out; ST_ECRYPTO (or ST_EINVAL for malformed bytes) naming the
 * first thing that does not. */
st_code st_porep_verify(const st_porep_public *pub, const uint8_t *proof, size_t len, st_err *err);

#endif
