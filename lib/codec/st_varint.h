/* st_varint: unsigned LEB128 varints as multiformats uses them (CIDs, ID addresses).
 *
 * Decoding is strict like go-varint: the encoding must be minimal and fit in 63 bits
 * (at most 9 bytes). */
#ifndef ST_VARINT_H
#define ST_VARINT_H

#include <stddef.h>
#include <stdint.h>

#include "core/st_err.h"

#define ST_UVARINT_MAX 10

/* Writes v; returns the number of bytes (1..10). */
size_t st_uvarint_put(uint64_t v, uint8_t out[ST_UVARINT_MAX]);
/* Reads one varint from p[0..len); *used gets its length. Both are 0 on failure. */
st_code st_uvarint_get(const uint8_t *p, size_t len, uint64_t *v, size_t *used, st_err *err);

#endif
