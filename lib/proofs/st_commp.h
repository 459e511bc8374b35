/* st_commp: piece commitments (comm_p) and the unsealed sector commitment (comm_d).
 *
 * comm_p is the root of a binary SHA-256 trunc254 tree over the Fr32-padded piece, zero-padded
 * to the next power of two (at least 128 bytes), leaves taken as they are. Zero padding is
 * done with the precomputed roots of all-zero subtrees, so a small piece in a large padded
 * size costs nothing. The context streams: memory does not grow with the piece.
 *
 * Every out is initialised on return, success or not (st_err.h): on failure commitments are all
 * zero, sizes 0 and offsets 0. */
#ifndef ST_COMMP_H
#define ST_COMMP_H
#include <stddef.h>
#include <stdint.h>
#include "core/st_err.h"
#include "proofs/st_fr32.h"

#define ST_COMMP_MAX_LEVEL 40 /* 32 B << 40 = 32 TiB */

/* The root of an all-zero tree of 32 << level padded bytes (level 0 = one zero node). */
const uint8_t *st_zero_comm(unsigned level);

typedef struct st_commp_ctx {
  st_fr32_padder pad;
  uint8_t stack[ST_COMMP_MAX_LEVEL + 1][32];
  uint64_t present; /* bit l: stack[l] holds a pending left node */
  uint64_t leaves;
} st_commp_ctx;

void st_commp_init(st_commp_ctx *c);
st_code st_commp_write(st_commp_ctx *c, const void *data, size_t len, st_err *err);
/* Takes the raw bytes written so far as the whole piece. padded_size gets the piece size
 * (128 << k), payload_size the raw bytes written. Fails beyond ST_COMMP_MAX_LEVEL. */
st_code st_commp_final(st_commp_ctx *c, uint8_t comm[32], uint64_t *padded_size, uint64_t *payload_size, st_err *err);

/* comm_p of a whole buffer. */
st_code st_commp_of(const void *data, size_t len, uint8_t comm[32], uint64_t *padded_size, st_err *err);
/* comm_p of a file, streamed; errors name the path. */
st_code st_commp_of_file(const char *path, uint8_t comm[32], uint64_t *padded_size, uint64_t *payload_size,
                         st_err *err);

/* Feeds already padded 32-byte leaves (a power of two of them, at least 2 in all) and gives the
 * root: comm_d of a staged sector, or comm_p of padded data. */
void st_commp_push_leaves(st_commp_ctx *c, const uint8_t *leaves, size_t n);

/* A piece of a sector: its commitment and padded size (a power of two, at least 128). */
typedef struct st_piece {
  uint8_t comm_p[32];
  uint64_t size;
} st_piece;

/* The unsealed sector commitment of pieces laid out in the order given, as Filecoin's
 * GenerateUnsealedCID: each piece starts at a multiple of its own size (zero padding pieces
 * fill the gaps), and zeros fill the sector after the last. offsets (optional) get each
 * piece's padded byte offset. No zero region is hashed: st_zero_comm covers it. */
st_code st_commd_of_pieces(uint64_t sector_size, const st_piece *pieces, size_t n, uint8_t comm_d[32],
                           uint64_t *offsets, st_err *err);

/* A piece's raw bytes in a file, and its padded size. */
typedef struct st_piece_file {
  const char *path;
  uint64_t size;
} st_piece_file;

/* Writes the sector's padded data for sealing to out_path (atomically, exactly sector_size
 * bytes): each piece's bytes Fr32-padded at its offset (the layout of st_commd_of_pieces),
 * zeros elsewhere. comm_d gets the root of the staged data, from the blocks as they are
 * written (the zero regions are not read back or hashed). Streams: memory does not grow with
 * the sector. A file longer than its piece holds is refused, naming the path. */
st_code st_stage_sector(const char *out_path, uint64_t sector_size, const st_piece_file *pieces, size_t n,
                        uint8_t comm_d[32], st_err *err);

#endif
