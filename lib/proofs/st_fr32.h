/* st_fr32: Filecoin's Fr32 padding, which makes arbitrary bytes into field elements.
 *
 * Every 127 raw bytes (1016 bits, read least significant bit first) are cut into four 254-bit
 * units; each unit becomes a 32-byte little-endian element whose top two bits are zero. So 127
 * raw bytes become 128 padded bytes (rust-fil-proofs fr32/src/padding.rs). The streaming
 * padder takes input in any chunks and emits whole 128-byte blocks. */
#ifndef ST_FR32_H
#define ST_FR32_H
#include <stddef.h>
#include <stdint.h>
#include "core/st_err.h"

#define ST_FR32_RAW 127
#define ST_FR32_PADDED 128

void st_fr32_pad_block(const uint8_t in[ST_FR32_RAW], uint8_t out[ST_FR32_PADDED]);
/* Fails (ST_EINVAL) if an element has either of its top two bits set, naming the element; out
 * is zeroed then. */
st_code st_fr32_unpad_block(const uint8_t in[ST_FR32_PADDED], uint8_t out[ST_FR32_RAW], st_err *err);

/* The padded size of n raw bytes rounded up to whole blocks, and the raw size of a padded size. */
static inline uint64_t st_fr32_padded_size(uint64_t raw) {
  return (raw + ST_FR32_RAW - 1) / ST_FR32_RAW * ST_FR32_PADDED;
}
static inline uint64_t st_fr32_unpadded_size(uint64_t padded) { return padded / ST_FR32_PADDED * ST_FR32_RAW; }

/* Streaming padder: st_fr32_padder_write hands each finished 128-byte block to emit;
 * st_fr32_padder_finish zero-fills and emits the last partial block, if any. */
typedef st_code (*st_fr32_emit)(void *arg, const uint8_t block[ST_FR32_PADDED], st_err *err);
typedef struct st_fr32_padder {
  uint8_t pending[ST_FR32_RAW];
  size_t npending;
  uint64_t raw_total;
  st_fr32_emit emit;
  void *arg;
} st_fr32_padder;
void st_fr32_padder_init(st_fr32_padder *p, st_fr32_emit emit, void *arg);
st_code st_fr32_padder_write(st_fr32_padder *p, const void *data, size_t len, st_err *err);
st_code st_fr32_padder_finish(st_fr32_padder *p, st_err *err);

#endif
