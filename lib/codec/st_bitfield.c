/* st_bitfield: run-list bitfields and the RLE+ codec. No Debian library speaks RLE+. */
#include "codec/st_bitfield.h"

#include <stdlib.h>
#include <string.h>

void st_bitfield_init(st_bitfield *bf) { *bf = (st_bitfield)ST_BITFIELD_INIT; }

void st_bitfield_free(st_bitfield *bf) {
  free(bf->runs);
  st_bitfield_init(bf);
}

void st_bitfield_clear(st_bitfield *bf) { bf->n = 0; }

static st_code grow(st_bitfield *bf, size_t need, st_err *err) {
  if (need <= bf->cap) return ST_OK;
  size_t cap = bf->cap ? bf->cap * 2 : 8;
  if (cap < need) cap = need;
  st_run *r = realloc(bf->runs, cap * sizeof *r);
  if (!r) return st_err_set(err, ST_ENOMEM, "out of memory growing a bitfield to %zu runs", cap);
  bf->runs = r;
  bf->cap = cap;
  return ST_OK;
}

st_code st_bitfield_copy(const st_bitfield *src, st_bitfield *dst, st_err *err) {
  if (src == dst) return ST_OK;
  st_code rc = grow(dst, src->n, err);
  if (rc) {
    st_bitfield_clear(dst);
    return rc;
  }
  if (src->n) memcpy(dst->runs, src->runs, src->n * sizeof *src->runs);
  dst->n = src->n;
  return ST_OK;
}

static uint64_t run_end(const st_run *r) { return r->start + r->len; }

st_code st_bitfield_set_range(st_bitfield *bf, uint64_t start, uint64_t len, st_err *err) {
  if (len == 0) return ST_OK;
  if (len > UINT64_MAX - start)
    return st_err_set(err, ST_ERANGE, "bitfield range [%llu, +%llu) passes the largest index 2^64-2",
                      (unsigned long long)start, (unsigned long long)len);
  uint64_t end = start + len;
  if (bf->n == 0 || start > run_end(&bf->runs[bf->n - 1])) { /* append */
    st_code rc = grow(bf, bf->n + 1, err);
    if (rc) return rc;
    bf->runs[bf->n++] = (st_run){start, len};
    return ST_OK;
  }
  /* First run that ends at or after start (touching counts), last run that starts at or before end. */
  size_t lo = 0, hi = bf->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (run_end(&bf->runs[mid]) < start) lo = mid + 1;
    else hi = mid;
  }
  size_t i = lo, j = i;
  while (j < bf->n && bf->runs[j].start <= end) j++;
  if (i == j) { /* no overlap: insert at i */
    st_code rc = grow(bf, bf->n + 1, err);
    if (rc) return rc;
    memmove(&bf->runs[i + 1], &bf->runs[i], (bf->n - i) * sizeof *bf->runs);
    bf->runs[i] = (st_run){start, len};
    bf->n++;
    return ST_OK;
  }
  uint64_t s = bf->runs[i].start < start ? bf->runs[i].start : start;
  uint64_t e = run_end(&bf->runs[j - 1]) > end ? run_end(&bf->runs[j - 1]) : end;
  bf->runs[i] = (st_run){s, e - s};
  memmove(&bf->runs[i + 1], &bf->runs[j], (bf->n - j) * sizeof *bf->runs);
  bf->n -= j - i - 1;
  return ST_OK;
}

st_code st_bitfield_set(st_bitfield *bf, uint64_t i, st_err *err) { return st_bitfield_set_range(bf, i, 1, err); }

bool st_bitfield_has(const st_bitfield *bf, uint64_t i) {
  size_t lo = 0, hi = bf->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (run_end(&bf->runs[mid]) <= i) lo = mid + 1;
    else hi = mid;
  }
  return lo < bf->n && bf->runs[lo].start <= i;
}

uint64_t st_bitfield_count(const st_bitfield *bf) {
  uint64_t c = 0;
  for (size_t i = 0; i < bf->n; i++) c += bf->runs[i].len;
  return c;
}

bool st_bitfield_equal(const st_bitfield *a, const st_bitfield *b) {
  return a->n == b->n && (a->n == 0 || !memcmp(a->runs, b->runs, a->n * sizeof *a->runs));
}

/* Builds into a temporary so that out may alias an input; on failure out is emptied. */
static st_code finish_into(st_bitfield *tmp, st_code rc, st_bitfield *out) {
  if (rc) {
    st_bitfield_free(tmp);
    st_bitfield_clear(out);
    return rc;
  }
  st_bitfield_free(out);
  *out = *tmp;
  return ST_OK;
}

st_code st_bitfield_union(const st_bitfield *a, const st_bitfield *b, st_bitfield *out, st_err *err) {
  st_bitfield t = ST_BITFIELD_INIT;
  st_code rc = grow(&t, a->n + b->n, err);
  size_t i = 0, j = 0;
  while (!rc && (i < a->n || j < b->n)) {
    const st_run *r = j >= b->n || (i < a->n && a->runs[i].start <= b->runs[j].start) ? &a->runs[i++] : &b->runs[j++];
    rc = st_bitfield_set_range(&t, r->start, r->len, err);
  }
  return finish_into(&t, rc, out);
}

st_code st_bitfield_intersect(const st_bitfield *a, const st_bitfield *b, st_bitfield *out, st_err *err) {
  st_bitfield t = ST_BITFIELD_INIT;
  st_code rc = ST_OK;
  size_t i = 0, j = 0;
  while (!rc && i < a->n && j < b->n) {
    uint64_t ae = run_end(&a->runs[i]), be = run_end(&b->runs[j]);
    uint64_t s = a->runs[i].start > b->runs[j].start ? a->runs[i].start : b->runs[j].start;
    uint64_t e = ae < be ? ae : be;
    if (s < e) rc = st_bitfield_set_range(&t, s, e - s, err);
    if (ae < be) i++;
    else j++;
  }
  return finish_into(&t, rc, out);
}

st_code st_bitfield_subtract(const st_bitfield *a, const st_bitfield *b, st_bitfield *out, st_err *err) {
  st_bitfield t = ST_BITFIELD_INIT;
  st_code rc = ST_OK;
  size_t j = 0;
  for (size_t i = 0; !rc && i < a->n; i++) {
    uint64_t cur = a->runs[i].start, end = run_end(&a->runs[i]);
    while (j < b->n && run_end(&b->runs[j]) <= cur) j++;
    while (!rc && j < b->n && b->runs[j].start < end) {
      if (b->runs[j].start > cur) rc = st_bitfield_set_range(&t, cur, b->runs[j].start - cur, err);
      if (run_end(&b->runs[j]) > cur) cur = run_end(&b->runs[j]);
      if (cur >= end) break;
      j++;
    }
    if (!rc && cur < end) rc = st_bitfield_set_range(&t, cur, end - cur, err);
  }
  return finish_into(&t, rc, out);
}

void st_bitfield_iter_init(st_bitfield_iter *it, const st_bitfield *bf) {
  it->bf = bf;
  it->run = 0;
  it->off = 0;
}

bool st_bitfield_iter_next(st_bitfield_iter *it, uint64_t *out) {
  *out = 0;
  if (it->run >= it->bf->n) return false;
  const st_run *r = &it->bf->runs[it->run];
  *out = r->start + it->off;
  if (++it->off == r->len) {
    it->run++;
    it->off = 0;
  }
  return true;
}

/* ---------------------------------------------------------------- RLE+ */

typedef struct bitwriter {
  st_buf *out;
  uint32_t acc;
  unsigned nbits;
} bitwriter;

static void put_bits(bitwriter *w, uint32_t v, unsigned n) {
  w->acc |= v << w->nbits;
  w->nbits += n;
  while (w->nbits >= 8) {
    st_buf_putc(w->out, (uint8_t)w->acc);
    w->acc >>= 8;
    w->nbits -= 8;
  }
}

static void put_run(bitwriter *w, uint64_t len) {
  if (len == 1) {
    put_bits(w, 1, 1);
  } else if (len < 16) {
    put_bits(w, 2, 2);
    put_bits(w, (uint32_t)len, 4);
  } else {
    put_bits(w, 0, 2);
    while (len >= 0x80) {
      put_bits(w, (uint32_t)(len & 0x7f) | 0x80, 8);
      len >>= 7;
    }
    put_bits(w, (uint32_t)len, 8);
  }
}

st_code st_bitfield_encode(const st_bitfield *bf, st_buf *out, st_err *err) {
  size_t start = out->len;
  bitwriter w = {out, 0, 0};
  put_bits(&w, 0, 2); /* version */
  if (bf->n == 0) {
    put_bits(&w, 0, 1);
  } else {
    bool ones_first = bf->runs[0].start == 0;
    put_bits(&w, ones_first, 1);
    uint64_t pos = 0;
    for (size_t i = 0; i < bf->n; i++) {
      if (bf->runs[i].start > pos) put_run(&w, bf->runs[i].start - pos);
      put_run(&w, bf->runs[i].len);
      pos = run_end(&bf->runs[i]);
    }
  }
  if (w.nbits) st_buf_putc(out, (uint8_t)w.acc);
  while (out->len > start && out->data[out->len - 1] == 0) out->len--; /* minimal: no trailing zero bytes */
  if (out->data) out->data[out->len] = 0;
  return st_buf_status(out, err);
}

/* Reads bits LSB-first; past the end it reads zeros, as go-bitfield's reader does. */
typedef struct bitreader {
  const uint8_t *p;
  size_t len;
  uint64_t pos; /* in bits */
} bitreader;

static unsigned get_bit(bitreader *r) {
  uint64_t byte = r->pos >> 3;
  unsigned bit = byte < r->len ? (r->p[byte] >> (r->pos & 7)) & 1 : 0;
  r->pos++;
  return bit;
}

static uint32_t get_bits(bitreader *r, unsigned n) {
  uint32_t v = 0;
  for (unsigned i = 0; i < n; i++) v |= (uint32_t)get_bit(r) << i;
  return v;
}

/* go-bitfield decodeBFVarint: at most 10 bytes, minimal, fits in 64 bits. */
static st_code get_varint(bitreader *r, uint64_t *out, st_err *err) {
  uint64_t x = 0;
  unsigned s = 0;
  for (int i = 0;; i++) {
    if (i == 10)
      return st_err_set(err, ST_EINVAL, "RLE+: run too long (varint of more than 10 bytes) at bit %llu",
                        (unsigned long long)r->pos);
    uint8_t b = (uint8_t)get_bits(r, 8);
    if (b < 0x80) {
      if (i == 9 && b > 1)
        return st_err_set(err, ST_EINVAL, "RLE+: run too long (more than 64 bits) at bit %llu",
                          (unsigned long long)r->pos);
      if (b == 0 && s > 0)
        return st_err_set(err, ST_EINVAL, "RLE+: invalid run (varint not minimally encoded) at bit %llu",
                          (unsigned long long)r->pos);
      *out = x | (uint64_t)b << s;
      return ST_OK;
    }
    x |= (uint64_t)(b & 0x7f) << s;
    s += 7;
  }
}

st_code st_bitfield_decode(const uint8_t *p, size_t len, st_bitfield *bf, st_err *err) {
  st_bitfield_clear(bf);
  if (len > ST_BITFIELD_MAX_ENCODED)
    return st_err_set(err, ST_EINVAL, "RLE+: encoded bitfield of %zu bytes is larger than the %d-byte limit", len,
                      ST_BITFIELD_MAX_ENCODED);
  if (len > 0 && p[len - 1] == 0) return st_err_set(err, ST_EINVAL, "RLE+: not minimally encoded (trailing zero byte)");
  bitreader r = {p, len, 0};
  unsigned version = get_bits(&r, 2);
  if (version != 0) return st_err_set(err, ST_EINVAL, "RLE+: invalid RLE+ version %u (expected 0)", version);
  bool val = get_bit(&r);
  uint64_t pos = 0;
  for (;;) {
    uint64_t run = 0;
    if (get_bit(&r)) {
      run = 1;
    } else if (get_bit(&r)) {
      run = get_bits(&r, 4);
    } else {
      st_code rc = get_varint(&r, &run, err);
      if (rc) {
        st_bitfield_clear(bf);
        return rc;
      }
    }
    if (run == 0) return ST_OK;
    if (run > UINT64_MAX - pos) {
      st_bitfield_clear(bf);
      return st_err_set(err, ST_EINVAL, "RLE+: overflow: runs add up past 2^64-1");
    }
    if (val) {
      st_code rc = st_bitfield_set_range(bf, pos, run, err);
      if (rc) {
        st_bitfield_clear(bf);
        return rc;
      }
    }
    pos += run;
    val = !val;
  }
}

/* ---------------------------------------------------------------- "0,2,4-6" */

static st_code parse_index(const char *s, size_t *i, uint64_t *out, st_err *err) {
  size_t start = *i;
  uint64_t v = 0;
  if (s[*i] < '0' || s[*i] > '9')
    return st_err_set(err, ST_EINVAL, "bitfield: expected a number at position %zu, found '%c'", start,
                      s[*i] ? s[*i] : ' ');
  while (s[*i] >= '0' && s[*i] <= '9') {
    unsigned d = (unsigned)(s[*i] - '0');
    if (v > (UINT64_MAX - 1 - d) / 10)
      return st_err_set(err, ST_ERANGE, "bitfield: number at position %zu is larger than 2^64-2", start);
    v = v * 10 + d;
    (*i)++;
  }
  *out = v;
  return ST_OK;
}

st_code st_bitfield_parse_ranges(const char *s, st_bitfield *bf, st_err *err) {
  st_bitfield_clear(bf);
  size_t i = 0;
  if (!*s) return ST_OK;
  for (;;) {
    while (s[i] == ' ') i++;
    uint64_t a = 0, b;
    size_t at = i;
    st_code rc = parse_index(s, &i, &a, err);
    b = a;
    if (!rc && s[i] == '-') {
      i++;
      rc = parse_index(s, &i, &b, err);
      if (!rc && b < a)
        rc = st_err_set(err, ST_EINVAL, "bitfield: range at position %zu ends (%llu) before it starts (%llu)", at,
                        (unsigned long long)b, (unsigned long long)a);
    }
    if (!rc) rc = st_bitfield_set_range(bf, a, b - a + 1, err);
    if (rc) {
      st_bitfield_clear(bf);
      return rc;
    }
    while (s[i] == ' ') i++;
    if (!s[i]) return ST_OK;
    if (s[i] != ',') {
      st_bitfield_clear(bf);
      return st_err_set(err, ST_EINVAL, "bitfield: unexpected '%c' at position %zu (use \"0,2,4-6\")", s[i], i);
    }
    i++;
  }
}

/* Runs shorter than 4 are listed one by one, longer ones as ranges: the notation of the
 * published vectors ("0,1", "0,2,4,5,6,11-27"). */
void st_bitfield_format_ranges(const st_bitfield *bf, st_buf *out) {
  for (size_t i = 0; i < bf->n; i++) {
    if (i) st_buf_putc(out, ',');
    const st_run *r = &bf->runs[i];
    if (r->len >= 4) {
      st_buf_printf(out, "%llu-%llu", (unsigned long long)r->start, (unsigned long long)(r->start + r->len - 1));
      continue;
    }
    for (uint64_t k = 0; k < r->len; k++) st_buf_printf(out, k ? ",%llu" : "%llu", (unsigned long long)(r->start + k));
  }
}
