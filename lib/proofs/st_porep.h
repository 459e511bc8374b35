/* st_porep: the interactive PoRep vanilla proof a sealer submits with ProveCommitSector, in the
 * bytes rust-fil-proofs writes: the Vec<Vec<stacked::Proof>> (partitions, then the challenges
 * of each) that filecoin-proofs' SealCommitPhase1Output.vanilla_proofs holds, serialized by
 * bincode 1.x's legacy config (little-endian fixint: lengths u64, enum variants u32, usize u64,
 * [u8; 32] raw, PhantomData nothing). The filecoin-proofs-api wrapper (the VanillaSealProof enum
 * naming the proof type) is not written: the chain knows the sector's proof type.
 *
 * Challenge i of partition k is node LE_bigint(SHA-256(replica_id || seed || LE32(j))) mod
 * (nodes - 1) + 1, j = k * challenges + i (storage-proofs-porep stacked/vanilla/challenges.rs).
 *
 * Layout (storage-proofs-porep src/stacked/vanilla/{params.rs, column_proof.rs, column.rs,
 * labeling_proof.rs, encoding_proof.rs}, storage-proofs-core src/merkle/proof.rs):
 *   u64 partitions | per partition: u64 challenges | per challenge a Proof:
 *   Proof = comm_d_proofs      MerkleProof over tree_d (SHA-256 trunc254, binary: Single)
 *           comm_r_last_proof  MerkleProof over tree_r_last (the sector's shape: Single, Sub, Top)
 *           replica_column_proofs = c_x ColumnProof | u64 6, 6 ColumnProof (drg_parents) |
 *                                   u64 8, 8 ColumnProof (exp_parents)
 *           labeling_proofs    u64 layers, one LabelingProof per layer, layer 1 first
 *           encoding_proof     EncodingProof
 *   ColumnProof = u32 index | u64 layers | the node's label in each layer (32 bytes each) |
 *                 inclusion_proof: MerkleProof over tree_c (the sector's shape)
 *   LabelingProof, EncodingProof = u64 37 | 37 parent labels | u32 layer_index | u64 node
 *   MerkleProof = as st_vproof.h (u32 variant; root, leaf and path elements of u64 (arity-1)
 *                 siblings, then u64 index).
 * A labeling proof of layer 1 carries the 6 DRG parents' layer-1 labels repeated to 37; of layer
 * l > 1 the 6 DRG parents' layer-l labels and the 8 expander parents' layer-(l-1) labels,
 * repeated to 37. The encoding proof is the last layer's (layer_index = layers), its label the
 * key. The sector size fixes every length: st_porep_proof_len bytes (2 KiB: 28,088; 8 MiB:
 * 59,960; 512 MiB: 75,896; 32 GiB, 10 x 18 challenges: 11,014,648).
 *
 * The verifier checks what rust-fil-proofs' vanilla verify checks (stacked/vanilla/
 * proof_scheme.rs verify_all_partitions, params.rs Proof::verify), and more, so that a proof has
 * one encoding: every length, variant and index as the shape says, every 32-byte value a field
 * element, no byte left over; comm_d_proofs' root is comm_d; every tree_c root is one comm_c and
 * every tree_r_last root one comm_r_last, with H(comm_c || comm_r_last) = comm_r; each path's
 * index fields name its node (the challenge, or the column's parent) and the path hashes to its
 * root; each column's index is its node and its hash is the path's leaf; each labeling proof's
 * parents are exactly the columns' rows its layer needs, its layer_index the layer and its node
 * the challenge, and the label it hashes to is the challenge's row; the encoding proof is the last
 * labeling proof's; replica leaf = data leaf + key in Fr. The first fault is the error:
 * "porep proof: byte N: partition K challenge I (node C): FIELD: what", ST_EINVAL for malformed
 * bytes, ST_ECRYPTO for a well-formed proof that does not prove the sector. */
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
#define ST_POREP_LABEL_PARENTS 37   /* parents a labeling or encoding proof carries */
size_t st_porep_challenge_count(const st_sector_info *info);
/* All partitions' challenges, partition 0 first (st_porep_challenge_count of them). */
void st_porep_challenges(const st_sector_info *info, const uint8_t replica_id[32], const uint8_t seed[32],
                         uint64_t *out);
/* The bytes of a proof for a sector of info's size. */
size_t st_porep_proof_len(const st_sector_info *info);
/* Proves from the cache under root (before finalize: layers, tree_d and tree_c are needed).
 * Appends the encoded proof to proof (on failure proof may hold part of it). */
st_code st_porep_prove(const st_porep_public *pub, const char *root, st_buf *proof, st_err *err);
/* ST_OK if the proof checks out; ST_EINVAL for malformed bytes or ST_ECRYPTO, naming the first
 * thing that does not. */
st_code st_porep_verify(const st_porep_public *pub, const uint8_t *proof, size_t len, st_err *err);

#endif
