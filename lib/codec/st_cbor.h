/* st_cbor: DAG-CBOR, the canonical CBOR subset Filecoin hashes into CIDs.
 *
 * The encoder writes the shortest form of every header. The decoder accepts only what a
 * canonical DAG-CBOR encoder can produce and rejects everything else with a message that says
 * what is wrong and at which byte offset, e.g.
 *   cbor: non-minimal encoding of integer 5 at offset 3
 * Rejected: non-minimal integers and lengths, indefinite lengths, reserved additional info,
 * floats (unless ST_CBOR_ALLOW_FLOATS; then only finite 64-bit ones), simple values other than
 * false/true/null, tags other than 42 (CID), tag 42 without a valid binary CID, invalid UTF-8,
 * map keys that are not text or not in canonical (length-first) order or repeated, lengths past
 * the end of the buffer, nesting deeper than the reader's limit, and trailing bytes.
 *
 * Readers are pull-style: typed decoders call st_cbor_read_* in the layout they expect;
 * st_cbor_skip walks one whole item with every check above (iteratively, without recursion).
 *
 * Every out is initialised on return, success or not (st_err.h): a reader that fails leaves its
 * item, number or CID zero, its pointers NULL and its lengths 0 (where the reader then stands
 * is unspecified: a failed read ends the decoding). The text forms (diag, dagjson) append to
 * out; on failure out may hold part of the text. */
#ifndef ST_CBOR_H
#define ST_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/st_cid.h"
#include "core/st_buf.h"
#include "core/st_err.h"

/* ---- encoder: appends to an st_buf (check st_buf_status once at the end) ---- */
void st_cbor_put_uint(st_buf *b, uint64_t v);
void st_cbor_put_nint(st_buf *b, uint64_t n); /* the integer -1-n */
void st_cbor_put_int(st_buf *b, int64_t v);
void st_cbor_put_bytes(st_buf *b, const void *p, size_t n);
void st_cbor_put_text(st_buf *b, const char *s, size_t n);
void st_cbor_put_cstr(st_buf *b, const char *s);
void st_cbor_put_array(st_buf *b, uint64_t n);
void st_cbor_put_map(st_buf *b, uint64_t n);
void st_cbor_put_tag(st_buf *b, uint64_t tag);
void st_cbor_put_bool(st_buf *b, bool v);
void st_cbor_put_null(st_buf *b);
void st_cbor_put_float64(st_buf *b, double v);
void st_cbor_put_cid(st_buf *b, const st_cid *c); /* tag 42, bytes 0x00 || binary CID */

/* ---- decoder ---- */
typedef enum st_cbor_type {
  ST_CBOR_UINT,
  ST_CBOR_NINT,
  ST_CBOR_BYTES,
  ST_CBOR_TEXT,
  ST_CBOR_ARRAY,
  ST_CBOR_MAP,
  ST_CBOR_TAG,
  ST_CBOR_FALSE,
  ST_CBOR_TRUE,
  ST_CBOR_NULL,
  ST_CBOR_FLOAT,
} st_cbor_type;

typedef struct st_cbor_item {
  st_cbor_type type;
  size_t off;          /* offset of the item's first byte */
  uint64_t val;        /* UINT value; NINT n (the integer -1-n); BYTES/TEXT/ARRAY/MAP length; TAG number */
  double f;            /* FLOAT value */
  const uint8_t *data; /* BYTES/TEXT payload */
} st_cbor_item;

#define ST_CBOR_DEFAULT_DEPTH 64
#define ST_CBOR_DEPTH_LIMIT 512
enum { ST_CBOR_ALLOW_FLOATS = 1 };

typedef struct st_cbor_reader {
  const uint8_t *buf;
  size_t len;
  size_t off;
  unsigned flags;
  unsigned max_depth;
  st_err *err;
} st_cbor_reader;

void st_cbor_reader_init(st_cbor_reader *r, const uint8_t *buf, size_t len, st_err *err);
const char *st_cbor_type_name(st_cbor_type t);

/* Reads one header and, for byte and text strings, the payload. Containers' contents and a
 * tag's content follow as further items. */
st_code st_cbor_next(st_cbor_reader *r, st_cbor_item *it);
/* Reads the type of the next item without consuming it. */
st_code st_cbor_peek(st_cbor_reader *r, st_cbor_item *it);
/* Consumes one complete item, checking all of it. */
st_code st_cbor_skip(st_cbor_reader *r);
/* ST_OK only if the whole buffer has been consumed. */
st_code st_cbor_finish(st_cbor_reader *r);

st_code st_cbor_read_uint(st_cbor_reader *r, uint64_t *v);
st_code st_cbor_read_int(st_cbor_reader *r, int64_t *v);
st_code st_cbor_read_bytes(st_cbor_reader *r, const uint8_t **p, size_t *n);
st_code st_cbor_read_text(st_cbor_reader *r, const char **s, size_t *n);
st_code st_cbor_read_array(st_cbor_reader *r, uint64_t *n);
/* An array of exactly n items; what names the structure in the error. */
st_code st_cbor_expect_array(st_cbor_reader *r, uint64_t n, const char *what);
/* A byte string of exactly n bytes; what names it in the error. */
st_code st_cbor_expect_bytes(st_cbor_reader *r, size_t n, const char *what, const uint8_t **p);
st_code st_cbor_read_map(st_cbor_reader *r, uint64_t *n);
st_code st_cbor_read_bool(st_cbor_reader *r, bool *v);
st_code st_cbor_read_null(st_cbor_reader *r);
st_code st_cbor_read_cid(st_cbor_reader *r, st_cid *c);
/* True (and consumes it) if the next item is null. */
bool st_cbor_take_null(st_cbor_reader *r);

/* Exactly one well-formed DAG-CBOR item filling buf. max_depth 0 means the default. */
st_code st_cbor_validate(const uint8_t *buf, size_t len, unsigned flags, unsigned max_depth, st_err *err);

/* Validates, then writes the item in CBOR diagnostic notation (RFC 8949 section 8), e.g.
 * [1, h'0102', "x", {"a": true}, 42(h'0001...') / bafy... /]. */
st_code st_cbor_diag(const uint8_t *buf, size_t len, unsigned flags, st_buf *out, st_err *err);
/* Validates, then writes the item as DAG-JSON: bytes {"/":{"bytes":"<base64>"}}, CIDs {"/":"bafy..."}. */
st_code st_cbor_dagjson(const uint8_t *buf, size_t len, unsigned flags, st_buf *out, st_err *err);

#endif
