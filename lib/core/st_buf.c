/* st_buf: growable byte buffer with a sticky out-of-memory flag. */
#include "core/st_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void st_buf_init(st_buf *b) { *b = (st_buf)ST_BUF_INIT; }

void st_buf_free(st_buf *b) {
  free(b->data);
  st_buf_init(b);
}

void st_buf_reset(st_buf *b) {
  b->len = 0;
  b->failed = false;
  if (b->data) b->data[0] = 0;
}

bool st_buf_reserve(st_buf *b, size_t extra) {
  if (b->failed) return false;
  if (extra > SIZE_MAX - b->len - 1) {
    b->failed = true;
    return false;
  }
  size_t need = b->len + extra + 1; /* +1: trailing NUL */
  if (need <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  uint8_t *p = realloc(b->data, cap);
  if (!p) {
    b->failed = true;
    return false;
  }
  b->data = p;
  b->cap = cap;
  return true;
}

void st_buf_append(st_buf *b, const void *p, size_t n) {
  if (!st_buf_reserve(b, n)) return;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = 0;
}

void st_buf_putc(st_buf *b, uint8_t c) { st_buf_append(b, &c, 1); }

void st_buf_puts(st_buf *b, const char *s) { st_buf_append(b, s, strlen(s)); }

void st_buf_printf(st_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->failed = true;
    return;
  }
  if ((size_t)n < sizeof small) {
    st_buf_append(b, small, (size_t)n);
    return;
  }
  if (!st_buf_reserve(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

const char *st_buf_cstr(const st_buf *b) { return b->data ? (const char *)b->data : ""; }

st_code st_buf_status(const st_buf *b, st_err *err) {
  if (b->failed) return st_err_set(err, ST_ENOMEM, "out of memory growing a buffer past %zu bytes", b->len);
  return ST_OK;
}

uint8_t *st_buf_take(st_buf *b, size_t *len) {
  if (!b->data) st_buf_reserve(b, 0);
  uint8_t *p = b->data;
  if (len) *len = b->len;
  st_buf_init(b);
  return p;
}
