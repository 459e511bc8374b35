/* st_vproof: a sector's WindowPoSt or WinningPoSt vanilla proof in the exact bytes rust-fil-proofs
 * writes and Lotus and Curio pass around (filecoin-proofs FallbackPoStSectorProof), so that our
 * proofs can be checked by Filecoin's tools and theirs by ours; and Lotus's WindowPoStVerifyInfo
 * JSON, the public inputs such a proof is checked against.
 *
 * Layout (bincode 1.x legacy: little-endian, lengths u64, enum variants u32, usize u64,
 * [u8; 32] raw; rust-fil-proofs filecoin-proofs/src/types/mod.rs FallbackPoStSectorProof,
 * storage-proofs-post/src/fallback/vanilla.rs Proof and SectorProof,
 * storage-proofs-core/src/merkle/proof.rs; Curio lib/proof/post_vproof_bin_decode.go):
 *
 *   sector_id u64 | comm_r[32] | u64 1 (Vec<SectorProof>, one) |
 *   u64 count (inclusion_proofs) | count x MerkleProof | comm_c[32] | comm_r_last[32]
 *   MerkleProof = u32 variant, then
 *     0 Single: root[32] leaf[32] path
 *     1 Sub:    base_proof sub_proof root[32] leaf[32]
 *     2 Top:    base_proof sub_proof top_proof root[32] leaf[32]
 *   path = u64 levels, each: u64 (arity - 1), the siblings (32 bytes each, in order, the node
 *   itself left out), u64 index (the node's position among its arity).
 *
 * tree_r_last's shape fixes every length: Single for 2 KiB to 512 MiB (base arity 8), Sub for
 * 32 GiB (8 sub-trees under one 8-ary node), Top for 64 GiB (8, 8, 2). A sector proof of size
 * S with c challenges is st_vproof_sector_len bytes (32 GiB, c = 10: 24,960). Lotus and Curio
 * hold a partition's vanilla proofs as a list of these per-sector byte strings
 * (filecoin-ffi GenerateWindowPoStWithVanilla's [][]byte); st_post writes them concatenated,
 * which splits back at the fixed per-sector length.
 *
 * The decoder is strict: every length, variant and index is checked against the shape before
 * anything is allocated, every 32-byte value must be a field element, no byte is left over, and
 * an error names the byte offset and the field. The check compares a decoded proof with the
 * sector it must prove (rust-fil-proofs' FallbackPoSt verify, plus comm_r_last itself).
 *
 * st_porep writes and reads its proof (a Vec<Vec<stacked::Proof>>) with the same pieces: the
 * bincode integers, MerkleProofs over any tree shape (tree_d's binary Single proofs too) and the
 * strict reader, whose errors name the byte, the caller's context and the field.
 *
 * Every out is initialised on return, success or not (st_err.h): a sector or verify info that
 * could not be read is empty (its _free is safe), a number read is 0, a node or MerkleProof is
 * zero (its siblings buffer included); an st_buf written to may hold part of a proof. */
#ifndef ST_VPROOF_H
#define ST_VPROOF_H
#include <stddef.h>
#include <stdint.h>
#include "core/st_buf.h"
#include "core/st_err.h"
#include "proofs/st_merkle.h"
#include "proofs/st_sector.h"

/* MerkleProof variants. */
enum { ST_VPROOF_SINGLE = 0, ST_VPROOF_SUB = 1, ST_VPROOF_TOP = 2 };

/* The variant a sector size's proofs take, one inclusion proof's bytes, and one sector's proof
 * with challenges inclusion proofs. */
unsigned st_vproof_variant(const st_sector_info *info);
size_t st_vproof_inclusion_len(const st_sector_info *info);
size_t st_vproof_sector_len(const st_sector_info *info, size_t challenges);

/* Writing one sector's proof: the head, then count inclusion proofs, then the tail. A path is
 * what st_tree_reader_prove gives for leaf index of tree_r_last (index below the sector's
 * nodes); root is the tree's root, comm_r_last. */
void st_vproof_put_head(st_buf *b, uint64_t sector_id, const uint8_t comm_r[32], size_t count);
void st_vproof_put_inclusion(st_buf *b, const st_sector_info *info, uint64_t index, const uint8_t leaf[32],
                             const uint8_t *siblings, const uint8_t root[32]);
void st_vproof_put_tail(st_buf *b, const uint8_t comm_c[32], const uint8_t comm_r_last[32]);

typedef struct st_vproof_inclusion {
  uint64_t index; /* the leaf the path's index fields name */
  uint8_t root[32];
  uint8_t leaf[32];
  uint8_t *siblings; /* st_tree_path_len bytes in st_merkle's order (base levels bottom up, sub, top) */
} st_vproof_inclusion;

/* ---- The pieces st_porep shares ---- */

void st_vproof_put_u32(st_buf *b, uint32_t v);
void st_vproof_put_u64(st_buf *b, uint64_t v);

/* The MerkleProof variant of a tree shape (Single without sub and top levels, else Sub or Top)
 * and one MerkleProof's bytes over it. */
unsigned st_vproof_shape_variant(const st_tree_shape *s);
size_t st_vproof_merkle_len(const st_tree_shape *s);
/* Writes the MerkleProof of leaf index (below st_tree_leaves(s)) of a tree of shape s: leaf and
 * siblings as st_tree_reader_prove gives them, root the tree's. */
void st_vproof_put_merkle(st_buf *b, const st_tree_shape *s, uint64_t index, const uint8_t leaf[32],
                          const uint8_t *siblings, const uint8_t root[32]);

/* A strict reader of p[0..len), p being at offset base of the whole input. Its errors say
 * "NAME: byte N: WHERE[PATH[LEVEL].]FIELD: what", WHERE being the caller's context (e.g.
 * "inclusion_proofs[3].", or ""). */
typedef struct st_vproof_reader {
  const uint8_t *p;
  size_t len, off, base;
  const char *name; /* "vanilla proof", "porep proof" */
  char where[192];  /* set by the caller */
  const char *path; /* inside a MerkleProof: "path", "base_proof", "sub_proof", "top_proof" */
  long level;       /* the path element being read, or -1 */
  st_err *err;
} st_vproof_reader;
void st_vproof_reader_init(st_vproof_reader *r, const char *name, const uint8_t *p, size_t len, size_t base,
                           st_err *err);
/* Fails with code naming the byte at (relative) offset at and field. */
st_code st_vproof_fail(const st_vproof_reader *r, st_code code, size_t at, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
st_code st_vproof_get_u32(st_vproof_reader *r, const char *field, uint32_t *v);
st_code st_vproof_get_u64(st_vproof_reader *r, const char *field, uint64_t *v);
/* A u64 the shape fixes (a length): another value fails, "V, want WANT<unit>". */
st_code st_vproof_expect_u64(st_vproof_reader *r, const char *field, uint64_t want, const char *unit);
/* 32 bytes that must be a field element. */
st_code st_vproof_get_node(st_vproof_reader *r, const char *field, uint8_t out[32]);
/* One MerkleProof over s: the variant s implies ("want V (Name) for TREE"), every length and
 * index checked against s, every value a field element. ip->siblings must hold
 * st_tree_path_len(s) bytes; ip->index gets the leaf the index fields name. */
st_code st_vproof_get_merkle(st_vproof_reader *r, const st_tree_shape *s, const char *tree, st_vproof_inclusion *ip);
/* Fails unless every byte was read ("N bytes after WHAT"). */
st_code st_vproof_reader_end(const st_vproof_reader *r, const char *what);

typedef struct st_vproof_sector {
  uint64_t sector_id;
  uint8_t comm_r[32];
  uint8_t comm_c[32];
  uint8_t comm_r_last[32];
  size_t count;
  st_vproof_inclusion *proofs; /* count of them */
  uint8_t *siblings;           /* where the proofs' siblings live */
} st_vproof_sector;
void st_vproof_sector_free(st_vproof_sector *s);

/* Decodes exactly p[0..len) as one sector's proof for a sector of info's size with challenges
 * inclusion proofs. base is p's offset in the whole input: errors say
 * "vanilla proof: byte N: FIELD: what is wrong". */
st_code st_vproof_decode(const st_sector_info *info, size_t challenges, const uint8_t *p, size_t len, size_t base,
                         st_vproof_sector *out, st_err *err);

/* Checks a decoded proof of sector number with comm_r: the proof's sector_id and comm_r are
 * those, H(comm_c || comm_r_last) == comm_r (st_hasher_sealing), and inclusion proof n has
 * root comm_r_last, is for leaf challenges[n] (s->count of them) and hashes up to its root.
 * The first fault is the error, e.g. "sector 5: challenge 3 (leaf 123): path does not lead to
 * comm_r_last". */
st_code st_vproof_check(const st_sector_info *info, const st_vproof_sector *s, uint64_t number,
                        const uint8_t comm_r[32], const uint64_t *challenges, st_err *err);

/* Lotus's WindowPoStVerifyInfo (go-state-types proof), as JSON:
 * {"Randomness": base64, "Proofs": [...], "ChallengedSectors": [{"SealProof": n,
 * "SectorNumber": n, "SealedCID": {"/": "bagboea4b5abc..."}}], "Prover": n}. Proofs is not
 * read (it holds the SNARK). A SealProof may be any of the V1, V1_1, SyntheticPoRep or NiPoRep
 * ids (0 to 19) of the five sizes; SealedCID must be fil-commitment-sealed. */
typedef struct st_vproof_public_sector {
  const st_sector_info *info;
  int seal_proof; /* as given */
  uint64_t number;
  uint8_t comm_r[32];
} st_vproof_public_sector;

typedef struct st_vproof_window_info {
  uint8_t randomness[32]; /* with byte 31 &= 0x3f, as Lotus gives it to the prover */
  uint64_t prover;
  st_vproof_public_sector *sectors;
  size_t nsectors;
} st_vproof_window_info;
st_code st_vproof_window_info_parse(const char *text, size_t len, st_vproof_window_info *out, st_err *err);
void st_vproof_window_info_free(st_vproof_window_info *vi);

#endif
