/* st_varint: minimal unsigned LEB128, limited to 63 bits as in multiformats/go-varint. */
#include "codec/st_varint.h"

size_t st_uvarint_put(uint64_t v, uint8_t out[ST_UVARINT_MAX]) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  out[n++] = (uint8_t)v;
  return n;
}

st_code st_uvarint_get(const uint8_t *p, size_t len, uint64_t *v, size_t *used, st_err *err) {
  uint64_t x = 0;
  *v = 0;
  *used = 0;
  for (size_t i = 0; i < 9; i++) {
    if (i >= len) return st_err_set(err, ST_EINVAL, "varint is truncated after %zu bytes", i);
    uint8_t b = p[i];
    x |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      if (b == 0 && i > 0) return st_err_set(err, ST_EINVAL, "varint is not minimally encoded");
      *v = x;
      *used = i + 1;
      return ST_OK;
    }
  }
  return st_err_set(err, ST_ERANGE, "varint is longer than 9 bytes (larger than 2^63-1)");
}
