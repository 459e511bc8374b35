/* st_fr32: bit-level Fr32 padding, one 127-byte block at a time. */
#include "proofs/st_fr32.h"

#include <string.h>

/* Unit u of a block starts at bit 254*u of the raw bytes: byte 254u/8, shift 254u%8. */
#define UNIT_BYTE(u) ((254 * (u)) >> 3)
#define UNIT_SHIFT(u) ((254 * (u)) & 7)

void st_fr32_pad_block(const uint8_t in[ST_FR32_RAW], uint8_t out[ST_FR32_PADDED]) {
  for (size_t u = 0; u < 4; u++) {
    size_t o = UNIT_BYTE(u), s = UNIT_SHIFT(u);
    uint8_t *dst = out + u * 32;
    for (size_t k = 0; k < 32; k++) {
      unsigned v = in[o + k] >> s;
      if (s && o + k + 1 < ST_FR32_RAW) v |= (unsigned)in[o + k + 1] << (8 - s);
      dst[k] = (uint8_t)v;
    }
    dst[31] &= 0x3f;
  }
}

st_code st_fr32_unpad_block(const uint8_t in[ST_FR32_PADDED], uint8_t out[ST_FR32_RAW], st_err *err) {
  memset(out, 0, ST_FR32_RAW);
  for (size_t u = 0; u < 4; u++)
    if (in[u * 32 + 31] & 0xc0)
      return st_err_set(err, ST_EINVAL, "fr32: element %zu of the block has its top two bits set", u);
  for (size_t u = 0; u < 4; u++) {
    size_t o = UNIT_BYTE(u), s = UNIT_SHIFT(u);
    const uint8_t *src = in + u * 32;
    for (size_t k = 0; k < 32; k++) {
      unsigned v = src[k];
      out[o + k] |= (uint8_t)(v << s);
      if (s && o + k + 1 < ST_FR32_RAW) out[o + k + 1] |= (uint8_t)(v >> (8 - s));
    }
  }
  return ST_OK;
}

void st_fr32_padder_init(st_fr32_padder *p, st_fr32_emit emit, void *arg) {
  p->npending = 0;
  p->raw_total = 0;
  p->emit = emit;
  p->arg = arg;
}

st_code st_fr32_padder_write(st_fr32_padder *p, const void *data, size_t len, st_err *err) {
  const uint8_t *in = data;
  uint8_t block[ST_FR32_PADDED];
  p->raw_total += len;
  while (len) {
    if (p->npending == 0 && len >= ST_FR32_RAW) {
      st_fr32_pad_block(in, block);
      st_code rc = p->emit(p->arg, block, err);
      if (rc) return rc;
      in += ST_FR32_RAW;
      len -= ST_FR32_RAW;
      continue;
    }
    size_t take = ST_FR32_RAW - p->npending;
    if (take > len) take = len;
    memcpy(p->pending + p->npending, in, take);
    p->npending += take;
    in += take;
    len -= take;
    if (p->npending == ST_FR32_RAW) {
      st_fr32_pad_block(p->pending, block);
      p->npending = 0;
      st_code rc = p->emit(p->arg, block, err);
      if (rc) return rc;
    }
  }
  return ST_OK;
}

st_code st_fr32_padder_finish(st_fr32_padder *p, st_err *err) {
  if (p->npending == 0) return ST_OK;
  memset(p->pending + p->npending, 0, ST_FR32_RAW - p->npending);
  uint8_t block[ST_FR32_PADDED];
  st_fr32_pad_block(p->pending, block);
  p->npending = 0;
  return p->emit(p->arg, block, err);
}
