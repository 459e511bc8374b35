/* st_cbor: canonical DAG-CBOR encoder and strict pull decoder. Hand-written: Debian's CBOR
 * libraries (libcbor, tinycbor) accept non-canonical input, and canonical form is what keeps a
 * CID stable, so the strictness has to live here. */
#include "codec/st_cbor.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAJ_UINT 0
#define MAJ_NINT 1
#define MAJ_BYTES 2
#define MAJ_TEXT 3
#define MAJ_ARRAY 4
#define MAJ_MAP 5
#define MAJ_TAG 6
#define MAJ_SIMPLE 7
#define TAG_CID 42

/* ---------------------------------------------------------------- encoder */

static void put_head(st_buf *b, unsigned major, uint64_t v) {
  uint8_t h[9];
  size_t n;
  uint8_t m = (uint8_t)(major << 5);
  if (v < 24) {
    h[0] = m | (uint8_t)v;
    n = 1;
  } else if (v <= 0xff) {
    h[0] = m | 24;
    n = 2;
  } else if (v <= 0xffff) {
    h[0] = m | 25;
    n = 3;
  } else if (v <= 0xffffffffu) {
    h[0] = m | 26;
    n = 5;
  } else {
    h[0] = m | 27;
    n = 9;
  }
  for (size_t i = 1; i < n; i++) h[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
  st_buf_append(b, h, n);
}

void st_cbor_put_uint(st_buf *b, uint64_t v) { put_head(b, MAJ_UINT, v); }
void st_cbor_put_nint(st_buf *b, uint64_t n) { put_head(b, MAJ_NINT, n); }
void st_cbor_put_int(st_buf *b, int64_t v) {
  if (v >= 0) put_head(b, MAJ_UINT, (uint64_t)v);
  else put_head(b, MAJ_NINT, (uint64_t)(-(v + 1)));
}
void st_cbor_put_bytes(st_buf *b, const void *p, size_t n) {
  put_head(b, MAJ_BYTES, n);
  st_buf_append(b, p, n);
}
void st_cbor_put_text(st_buf *b, const char *s, size_t n) {
  put_head(b, MAJ_TEXT, n);
  st_buf_append(b, s, n);
}
void st_cbor_put_cstr(st_buf *b, const char *s) { st_cbor_put_text(b, s, strlen(s)); }
void st_cbor_put_array(st_buf *b, uint64_t n) { put_head(b, MAJ_ARRAY, n); }
void st_cbor_put_map(st_buf *b, uint64_t n) { put_head(b, MAJ_MAP, n); }
void st_cbor_put_tag(st_buf *b, uint64_t tag) { put_head(b, MAJ_TAG, tag); }
void st_cbor_put_bool(st_buf *b, bool v) { st_buf_putc(b, v ? 0xf5 : 0xf4); }
void st_cbor_put_null(st_buf *b) { st_buf_putc(b, 0xf6); }

void st_cbor_put_float64(st_buf *b, double v) {
  uint64_t bits;
  memcpy(&bits, &v, 8);
  uint8_t h[9] = {0xfb};
  for (int i = 0; i < 8; i++) h[1 + i] = (uint8_t)(bits >> (56 - 8 * i));
  st_buf_append(b, h, 9);
}

void st_cbor_put_cid(st_buf *b, const st_cid *c) {
  uint8_t raw[1 + ST_CID_MAX_BYTES];
  raw[0] = 0x00; /* multibase identity prefix, as DAG-CBOR requires */
  size_t n = st_cid_to_bytes(c, raw + 1);
  st_cbor_put_tag(b, TAG_CID);
  st_cbor_put_bytes(b, raw, n + 1);
}

/* ---------------------------------------------------------------- decoder */

void st_cbor_reader_init(st_cbor_reader *r, const uint8_t *buf, size_t len, st_err *err) {
  r->buf = buf;
  r->len = len;
  r->off = 0;
  r->flags = 0;
  r->max_depth = ST_CBOR_DEFAULT_DEPTH;
  r->err = err;
}

const char *st_cbor_type_name(st_cbor_type t) {
  switch (t) {
    case ST_CBOR_UINT: return "unsigned integer";
    case ST_CBOR_NINT: return "negative integer";
    case ST_CBOR_BYTES: return "byte string";
    case ST_CBOR_TEXT: return "text string";
    case ST_CBOR_ARRAY: return "array";
    case ST_CBOR_MAP: return "map";
    case ST_CBOR_TAG: return "tag";
    case ST_CBOR_FALSE: return "false";
    case ST_CBOR_TRUE: return "true";
    case ST_CBOR_NULL: return "null";
    case ST_CBOR_FLOAT: return "float";
  }
  return "?";
}

static const char *major_name(unsigned major) {
  static const char *const names[] = {"integer", "negative integer", "byte string", "text string", "array", "map",
                                      "tag",     "simple value"};
  return names[major & 7];
}

/* Returns the offset of the first invalid byte, or n if s[0..n) is valid UTF-8. */
static size_t utf8_check(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t need;
    uint32_t cp, min;
    if ((c & 0xe0) == 0xc0) {
      need = 1;
      cp = c & 0x1f;
      min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      need = 2;
      cp = c & 0x0f;
      min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      need = 3;
      cp = c & 0x07;
      min = 0x10000;
    } else {
      return i;
    }
    if (n - i - 1 < need) return i;
    for (size_t k = 1; k <= need; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return n;
}

static st_code fail(st_cbor_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static st_code fail(st_cbor_reader *r, const char *fmt, ...) {
  if (r->err) {
    char msg[ST_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    st_err_set(r->err, ST_EINVAL, "cbor: %s", msg);
  }
  return ST_EINVAL;
}

/* The header's argument: the value of additional information ai, or the 1, 2, 4 or 8 bytes
 * after the initial byte at off, which must be in their shortest form. *p moves past them. */
static st_code read_argument(st_cbor_reader *r, size_t off, unsigned major, unsigned ai, size_t *p, uint64_t *v) {
  *v = ai;
  if (ai >= 24 && ai <= 27) {
    size_t n = (size_t)1 << (ai - 24);
    if (r->len - *p < n)
      return fail(r, "truncated %s header at offset %zu: %zu more bytes needed", major_name(major), off,
                  n - (r->len - *p));
    *v = 0;
    for (size_t i = 0; i < n; i++) *v = (*v << 8) | r->buf[*p + i];
    *p += n;
    bool minimal = (ai == 24 && *v >= 24) || (ai == 25 && *v > 0xff) || (ai == 26 && *v > 0xffff) ||
                   (ai == 27 && *v > 0xffffffffu);
    if (major != MAJ_SIMPLE && !minimal)
      return fail(r, "non-minimal encoding of %s %llu at offset %zu",
                  major <= MAJ_NINT  ? "integer"
                  : major == MAJ_TAG ? "tag"
                                     : "length",
                  (unsigned long long)*v, off);
  } else if (ai >= 28 && ai <= 30) {
    return fail(r, "reserved additional information %u at offset %zu", ai, off);
  } else if (ai == 31) {
    if (major >= MAJ_BYTES && major <= MAJ_MAP)
      return fail(r, "indefinite-length %s at offset %zu (DAG-CBOR requires definite lengths)", major_name(major), off);
    if (major == MAJ_SIMPLE) return fail(r, "unexpected break code at offset %zu", off);
    return fail(r, "invalid additional information 31 for %s at offset %zu", major_name(major), off);
  }
  return ST_OK;
}

/* Major type 7: false, true, null and (where the reader allows them) finite 64-bit floats. */
static st_code decode_simple(st_cbor_reader *r, st_cbor_item *it, unsigned ai, uint64_t v) {
  size_t off = it->off;
  if (ai == 20 || ai == 21 || ai == 22) {
    it->type = ai == 20 ? ST_CBOR_FALSE : ai == 21 ? ST_CBOR_TRUE : ST_CBOR_NULL;
    return ST_OK;
  }
  if (ai == 23) return fail(r, "undefined at offset %zu is not allowed in DAG-CBOR", off);
  if (ai < 24) return fail(r, "simple value %u at offset %zu is not allowed in DAG-CBOR", ai, off);
  if (ai == 24)
    return fail(r, "simple value %llu at offset %zu is not allowed in DAG-CBOR", (unsigned long long)v, off);
  if (!(r->flags & ST_CBOR_ALLOW_FLOATS)) return fail(r, "float at offset %zu is not allowed here", off);
  if (ai != 27)
    return fail(r, "%d-bit float at offset %zu (DAG-CBOR allows only 64-bit floats)", ai == 25 ? 16 : 32, off);
  double d;
  memcpy(&d, &v, 8);
  if (!isfinite(d)) return fail(r, "NaN or infinity at offset %zu is not allowed in DAG-CBOR", off);
  it->type = ST_CBOR_FLOAT;
  it->f = d;
  return ST_OK;
}

/* Decodes the item at r->off into it (all zero on failure); *next gets the offset after its
 * header (after the payload, for byte and text strings). */
static st_code decode_head(st_cbor_reader *r, st_cbor_item *it, size_t *next) {
  memset(it, 0, sizeof *it);
  *next = r->off;
  size_t off = r->off;
  if (off >= r->len) return fail(r, "unexpected end of input at offset %zu (expected an item)", off);
  uint8_t ib = r->buf[off];
  unsigned major = ib >> 5, ai = ib & 31;
  size_t p = off + 1;
  uint64_t v;
  st_code rc = read_argument(r, off, major, ai, &p, &v);
  if (rc) return rc;
  it->off = off;
  it->val = v;
  size_t left = r->len - p;
  switch (major) {
    case MAJ_UINT: it->type = ST_CBOR_UINT; break;
    case MAJ_NINT: it->type = ST_CBOR_NINT; break;
    case MAJ_BYTES:
    case MAJ_TEXT:
      it->type = major == MAJ_BYTES ? ST_CBOR_BYTES : ST_CBOR_TEXT;
      if (v > left)
        return fail(r, "%s of length %llu at offset %zu runs past the end of the input (%zu bytes left)",
                    major_name(major), (unsigned long long)v, off, left);
      it->data = r->buf + p;
      p += (size_t)v;
      if (major == MAJ_TEXT) {
        size_t bad = utf8_check(it->data, (size_t)v);
        if (bad != v)
          return fail(r, "invalid UTF-8 in text string at offset %zu (byte %zu)", off,
                      (size_t)(it->data - r->buf) + bad);
      }
      break;
    case MAJ_ARRAY:
      it->type = ST_CBOR_ARRAY;
      if (v > left)
        return fail(r, "array of %llu items at offset %zu cannot fit in the %zu bytes left", (unsigned long long)v, off,
                    left);
      break;
    case MAJ_MAP:
      it->type = ST_CBOR_MAP;
      if (v > left / 2)
        return fail(r, "map of %llu entries at offset %zu cannot fit in the %zu bytes left", (unsigned long long)v, off,
                    left);
      break;
    case MAJ_TAG:
      if (v != TAG_CID)
        return fail(r, "tag %llu at offset %zu is not allowed (DAG-CBOR allows only tag 42, a CID)",
                    (unsigned long long)v, off);
      it->type = ST_CBOR_TAG;
      break;
    default: /* MAJ_SIMPLE */
      if ((rc = decode_simple(r, it, ai, v))) return rc;
  }
  *next = p;
  return ST_OK;
}

/* decode_head, with it all zero when it fails. */
static st_code head(st_cbor_reader *r, st_cbor_item *it, size_t *next) {
  st_code rc = decode_head(r, it, next);
  if (rc) memset(it, 0, sizeof *it);
  return rc;
}

st_code st_cbor_next(st_cbor_reader *r, st_cbor_item *it) {
  size_t next;
  st_code rc = head(r, it, &next);
  if (!rc) r->off = next;
  return rc;
}

st_code st_cbor_peek(st_cbor_reader *r, st_cbor_item *it) {
  size_t next;
  return head(r, it, &next);
}

st_code st_cbor_finish(st_cbor_reader *r) {
  size_t n = r->len - r->off;
  if (n) return fail(r, "%zu trailing byte%s after the item, at offset %zu", n, n == 1 ? "" : "s", r->off);
  return ST_OK;
}

/* The next item, of type want (true also takes false); it is all zero on failure. */
static st_code expect(st_cbor_reader *r, st_cbor_item *it, st_cbor_type want) {
  st_code rc = st_cbor_peek(r, it);
  if (rc) return rc;
  if (it->type != want && !(want == ST_CBOR_TRUE && it->type == ST_CBOR_FALSE)) {
    rc = fail(r, "expected %s at offset %zu, found %s", want == ST_CBOR_TRUE ? "boolean" : st_cbor_type_name(want),
              it->off, st_cbor_type_name(it->type));
    memset(it, 0, sizeof *it);
    return rc;
  }
  return st_cbor_next(r, it);
}

/* The header value (integer, length) of an item of type want; 0 on failure. */
static st_code expect_val(st_cbor_reader *r, st_cbor_type want, uint64_t *v) {
  st_cbor_item it;
  st_code rc = expect(r, &it, want);
  *v = rc ? 0 : it.val;
  return rc;
}

st_code st_cbor_read_uint(st_cbor_reader *r, uint64_t *v) { return expect_val(r, ST_CBOR_UINT, v); }

st_code st_cbor_read_array(st_cbor_reader *r, uint64_t *n) { return expect_val(r, ST_CBOR_ARRAY, n); }

st_code st_cbor_read_map(st_cbor_reader *r, uint64_t *n) { return expect_val(r, ST_CBOR_MAP, n); }

st_code st_cbor_read_int(st_cbor_reader *r, int64_t *v) {
  st_cbor_item it;
  *v = 0;
  st_code rc = st_cbor_peek(r, &it);
  if (rc) return rc;
  if (it.type != ST_CBOR_UINT && it.type != ST_CBOR_NINT)
    return fail(r, "expected integer at offset %zu, found %s", it.off, st_cbor_type_name(it.type));
  if (it.val > (uint64_t)INT64_MAX) return fail(r, "integer at offset %zu does not fit in 64 signed bits", it.off);
  if ((rc = st_cbor_next(r, &it))) return rc;
  *v = it.type == ST_CBOR_UINT ? (int64_t)it.val : -1 - (int64_t)it.val;
  return ST_OK;
}

/* The payload of a byte or text string (NULL and 0 on failure). */
static st_code expect_string(st_cbor_reader *r, st_cbor_type want, const uint8_t **p, size_t *n) {
  st_cbor_item it;
  st_code rc = expect(r, &it, want);
  *p = it.data;
  *n = (size_t)it.val;
  return rc;
}

st_code st_cbor_read_bytes(st_cbor_reader *r, const uint8_t **p, size_t *n) {
  return expect_string(r, ST_CBOR_BYTES, p, n);
}

st_code st_cbor_read_text(st_cbor_reader *r, const char **s, size_t *n) {
  const uint8_t *p;
  st_code rc = expect_string(r, ST_CBOR_TEXT, &p, n);
  *s = (const char *)p;
  return rc;
}

st_code st_cbor_expect_array(st_cbor_reader *r, uint64_t n, const char *what) {
  st_cbor_item it;
  st_code rc = st_cbor_peek(r, &it);
  if (rc) return rc;
  if (it.type != ST_CBOR_ARRAY || it.val != n) {
    if (it.type == ST_CBOR_ARRAY)
      return fail(r, "%s at offset %zu: expected an array of %llu items, found %llu", what, it.off,
                  (unsigned long long)n, (unsigned long long)it.val);
    return fail(r, "%s at offset %zu: expected an array of %llu items, found %s", what, it.off, (unsigned long long)n,
                st_cbor_type_name(it.type));
  }
  return st_cbor_next(r, &it);
}

st_code st_cbor_expect_bytes(st_cbor_reader *r, size_t n, const char *what, const uint8_t **p) {
  st_cbor_item it;
  *p = NULL;
  st_code rc = st_cbor_peek(r, &it);
  if (rc) return rc;
  if (it.type != ST_CBOR_BYTES)
    return fail(r, "%s at offset %zu: expected a byte string, found %s", what, it.off, st_cbor_type_name(it.type));
  if (it.val != n)
    return fail(r, "%s at offset %zu: expected %zu bytes, found %llu", what, it.off, n, (unsigned long long)it.val);
  if ((rc = st_cbor_next(r, &it))) return rc;
  *p = it.data;
  return ST_OK;
}

st_code st_cbor_read_bool(st_cbor_reader *r, bool *v) {
  st_cbor_item it;
  st_code rc = expect(r, &it, ST_CBOR_TRUE);
  *v = !rc && it.type == ST_CBOR_TRUE;
  return rc;
}

st_code st_cbor_read_null(st_cbor_reader *r) {
  st_cbor_item it;
  return expect(r, &it, ST_CBOR_NULL);
}

bool st_cbor_take_null(st_cbor_reader *r) {
  st_cbor_item it;
  if (st_cbor_peek(r, &it) || it.type != ST_CBOR_NULL) return false;
  r->off++;
  return true;
}

/* The content of tag 42: a byte string holding 0x00 and a binary CID. */
static st_code read_cid_content(st_cbor_reader *r, size_t tag_off, st_cid *c) {
  st_cbor_item it;
  st_code rc = st_cbor_next(r, &it);
  if (rc) return rc;
  if (it.type != ST_CBOR_BYTES)
    return fail(r, "tag 42 at offset %zu must hold a byte string, found %s", tag_off, st_cbor_type_name(it.type));
  if (it.val < 1 || it.data[0] != 0x00)
    return fail(r, "CID at offset %zu lacks the 0x00 multibase prefix DAG-CBOR requires", tag_off);
  st_err tmp;
  if (st_cid_from_bytes(it.data + 1, (size_t)it.val - 1, c, NULL, &tmp))
    return fail(r, "invalid CID at offset %zu: %s", tag_off, tmp.msg);
  return ST_OK;
}

st_code st_cbor_read_cid(st_cbor_reader *r, st_cid *c) {
  st_cbor_item it;
  st_code rc = expect(r, &it, ST_CBOR_TAG);
  if (!rc) rc = read_cid_content(r, it.off, c);
  if (rc) memset(c, 0, sizeof *c);
  return rc;
}

/* DAG-CBOR map key order: shorter keys first, then bytewise. */
static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
  if (an != bn) return an < bn ? -1 : 1;
  return memcmp(a, b, an);
}

st_code st_cbor_skip(st_cbor_reader *r) {
  struct frame {
    uint64_t left; /* items still to read; a map counts keys and values */
    bool is_map;
    const uint8_t *prev_key;
    size_t prev_len;
  } stack[ST_CBOR_DEPTH_LIMIT];
  unsigned depth = 0;
  unsigned max = r->max_depth == 0                    ? ST_CBOR_DEFAULT_DEPTH
                 : r->max_depth > ST_CBOR_DEPTH_LIMIT ? ST_CBOR_DEPTH_LIMIT
                                                      : r->max_depth;
  for (;;) {
    st_cbor_item it;
    st_code rc = st_cbor_next(r, &it);
    if (rc) return rc;
    struct frame *top = depth ? &stack[depth - 1] : NULL;
    if (top && top->is_map && top->left % 2 == 0) {
      if (it.type != ST_CBOR_TEXT)
        return fail(r, "map key at offset %zu is a %s (DAG-CBOR map keys are text strings)", it.off,
                    st_cbor_type_name(it.type));
      if (top->prev_key) {
        int c = key_cmp(top->prev_key, top->prev_len, it.data, (size_t)it.val);
        if (c == 0)
          return fail(r, "duplicate map key \"%.*s\" at offset %zu", (int)(it.val > 64 ? 64 : it.val), it.data, it.off);
        if (c > 0)
          return fail(r, "map key \"%.*s\" at offset %zu is out of canonical order (shorter keys first, then bytewise)",
                      (int)(it.val > 64 ? 64 : it.val), it.data, it.off);
      }
      top->prev_key = it.data;
      top->prev_len = (size_t)it.val;
    }
    if (it.type == ST_CBOR_ARRAY || it.type == ST_CBOR_MAP) {
      if (depth >= max) return fail(r, "nesting deeper than %u levels at offset %zu", max, it.off);
      if (it.val > 0) {
        stack[depth++] = (struct frame){it.type == ST_CBOR_MAP ? 2 * it.val : it.val, it.type == ST_CBOR_MAP, NULL, 0};
        continue;
      }
    } else if (it.type == ST_CBOR_TAG) {
      st_cid c;
      rc = read_cid_content(r, it.off, &c);
      if (rc) return rc;
    }
    /* An item is complete: count it against its containers, closing those that are full. */
    while (depth && --stack[depth - 1].left == 0) depth--;
    if (depth == 0) return ST_OK;
  }
}

st_code st_cbor_validate(const uint8_t *buf, size_t len, unsigned flags, unsigned max_depth, st_err *err) {
  st_cbor_reader r;
  st_cbor_reader_init(&r, buf, len, err);
  r.flags = flags;
  r.max_depth = max_depth ? max_depth : ST_CBOR_DEFAULT_DEPTH;
  st_code rc = st_cbor_skip(&r);
  return rc ? rc : st_cbor_finish(&r);
}
