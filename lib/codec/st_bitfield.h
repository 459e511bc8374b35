/* st_bitfield: sets of sector numbers and partition indexes, with Filecoin's RLE+ encoding.
 *
 * In memory a bitfield is a sorted list of disjoint, non-adjacent runs of set bits, so set
 * operations cost O(runs), not O(bits). RLE+ (go-bitfield rle/rleplus_writer.go), bits written
 * LSB-first: a 2-bit version (0), the value of the first run, then each run length as "1" (1),
 * "01"+4 bits (2..15) or "00"+varint (>= 16); a trailing run of zeros is dropped and trailing
 * zero bytes trimmed. Decoding rejects exactly what go-bitfield rejects: a trailing zero byte,
 * a version other than 0, a varint run that is too long or not minimal, a total length past
 * 2^64-1; and, like its CBOR decoder, more than 32 KiB of encoded bytes.
 *
 * Results of union/intersect/subtract replace the contents of out, which may be a or b.
 *
 * Bitfields passed to these functions are initialised (st_bitfield_init or ST_BITFIELD_INIT);
 * every out is initialised on return, success or not (st_err.h). A function that replaces a
 * bitfield's contents (copy, union, intersect, subtract, decode, parse_ranges) leaves it empty
 * when it fails, even when out is a or b; set and set_range leave it as it was. */
#ifndef ST_BITFIELD_H
#define ST_BITFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/st_buf.h"
#include "core/st_err.h"

#define ST_BITFIELD_MAX_ENCODED (32 << 10)

typedef struct st_run {
  uint64_t start;
  uint64_t len; /* >= 1, and start + len <= 2^64 - 1 */
} st_run;

typedef struct st_bitfield {
  st_run *runs; /* owned */
  size_t n;
  size_t cap;
} st_bitfield;

#define ST_BITFIELD_INIT \
  { NULL, 0, 0 }

void st_bitfield_init(st_bitfield *bf);
void st_bitfield_free(st_bitfield *bf);
void st_bitfield_clear(st_bitfield *bf);
st_code st_bitfield_copy(const st_bitfield *src, st_bitfield *dst, st_err *err);
/* Adds [start, start+len). Appending in increasing order is O(1). */
st_code st_bitfield_set_range(st_bitfield *bf, uint64_t start, uint64_t len, st_err *err);
st_code st_bitfield_set(st_bitfield *bf, uint64_t i, st_err *err);
bool st_bitfield_has(const st_bitfield *bf, uint64_t i);
uint64_t st_bitfield_count(const st_bitfield *bf);
bool st_bitfield_equal(const st_bitfield *a, const st_bitfield *b);

st_code st_bitfield_union(const st_bitfield *a, const st_bitfield *b, st_bitfield *out, st_err *err);
st_code st_bitfield_intersect(const st_bitfield *a, const st_bitfield *b, st_bitfield *out, st_err *err);
/* a minus b */
st_code st_bitfield_subtract(const st_bitfield *a, const st_bitfield *b, st_bitfield *out, st_err *err);

/* Iterates set bits in increasing order. */
typedef struct st_bitfield_iter {
  const st_bitfield *bf;
  size_t run;
  uint64_t off;
} st_bitfield_iter;
void st_bitfield_iter_init(st_bitfield_iter *it, const st_bitfield *bf);
/* False at the end, with *out 0. */
bool st_bitfield_iter_next(st_bitfield_iter *it, uint64_t *out);

/* RLE+ bytes, appended to out (on failure out may hold part of them). */
st_code st_bitfield_encode(const st_bitfield *bf, st_buf *out, st_err *err);
/* Replaces bf's contents with the set encoded in p[0..len). */
st_code st_bitfield_decode(const uint8_t *p, size_t len, st_bitfield *bf, st_err *err);

/* "0,2,4-6" notation: comma-separated indexes and inclusive ranges, in any order. Formatting
 * lists runs shorter than 4 one by one ("0,2,4,5,6,11-27"), as the published vectors do. */
st_code st_bitfield_parse_ranges(const char *s, st_bitfield *bf, st_err *err);
void st_bitfield_format_ranges(const st_bitfield *bf, st_buf *out);

#endif
