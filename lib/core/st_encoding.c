/* st_encoding: strict hex, base32 (RFC 4648 lowercase, unpadded), base64 (OpenSSL) and decimals. */
#include "core/st_encoding.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static const char HEX[] = "0123456789abcdef";
static const char B32[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void st_hex_encode(const uint8_t *p, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = HEX[p[i] >> 4];
    out[2 * i + 1] = HEX[p[i] & 15];
  }
  out[2 * n] = '\0';
}

void st_hex_append(st_buf *b, const uint8_t *p, size_t n) {
  if (n > (SIZE_MAX - 1) / 2 || !st_buf_reserve(b, 2 * n)) {
    b->failed = true;
    return;
  }
  st_hex_encode(p, n, (char *)b->data + b->len);
  b->len += 2 * n;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static st_code hex_check(const char *s, size_t slen, st_err *err) {
  for (size_t i = 0; i < slen; i++)
    if (hexval(s[i]) < 0)
      return st_err_set(err, ST_EINVAL, "invalid hex character '%c' at position %zu",
                        s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?', i);
  if (slen % 2) return st_err_set(err, ST_EINVAL, "odd number of hex digits (%zu)", slen);
  return ST_OK;
}

st_code st_hex_decode(const char *s, size_t slen, st_buf *out, st_err *err) {
  st_code rc = hex_check(s, slen, err);
  if (rc) return rc;
  if (!st_buf_reserve(out, slen / 2)) return st_buf_status(out, err);
  for (size_t i = 0; i < slen; i += 2) out->data[out->len++] = (uint8_t)(hexval(s[i]) << 4 | hexval(s[i + 1]));
  out->data[out->len] = 0;
  return ST_OK;
}

st_code st_hex_decode_exact(const char *s, uint8_t *out, size_t n, st_err *err) {
  memset(out, 0, n);
  size_t slen = strlen(s);
  st_code rc = hex_check(s, slen, err);
  if (rc) return rc;
  if (slen != 2 * n) return st_err_set(err, ST_EINVAL, "expected %zu hex digits (%zu bytes), got %zu", 2 * n, n, slen);
  for (size_t i = 0; i < n; i++) out[i] = (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
  return ST_OK;
}

size_t st_base32_encoded_len(size_t n) { return (n * 8 + 4) / 5; }

void st_base32_append(st_buf *b, const uint8_t *p, size_t n) {
  if (!st_buf_reserve(b, st_base32_encoded_len(n))) return;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    acc = (acc << 8) | p[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      b->data[b->len++] = (uint8_t)B32[(acc >> bits) & 31];
    }
  }
  if (bits > 0) b->data[b->len++] = (uint8_t)B32[(acc << (5 - bits)) & 31];
  b->data[b->len] = 0;
}

/* Ends a decode into out that began at length start: on failure out is as it was. */
static st_code decode_done(st_buf *out, size_t start, st_code rc) {
  if (rc && out->data) {
    out->len = start;
    out->data[start] = 0;
  }
  return rc;
}

static st_code base32_decode(const char *s, size_t slen, st_buf *out, st_err *err) {
  size_t rem = slen % 8;
  if (rem == 1 || rem == 3 || rem == 6)
    return st_err_set(err, ST_EINVAL, "base32 text of %zu characters cannot encode whole bytes", slen);
  if (!st_buf_reserve(out, slen * 5 / 8)) return st_buf_status(out, err);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < slen; i++) {
    const char *q = s[i] ? memchr(B32, s[i], 32) : NULL;
    if (!q)
      return st_err_set(err, ST_EINVAL, "invalid base32 character '%c' at position %zu",
                        s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?', i);
    acc = (acc << 5) | (uint32_t)(q - B32);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out->data[out->len++] = (uint8_t)(acc >> bits);
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)))
    return st_err_set(err, ST_EINVAL, "non-canonical base32: unused bits in the last character are not zero");
  out->data[out->len] = 0;
  return ST_OK;
}

st_code st_base32_decode(const char *s, size_t slen, st_buf *out, st_err *err) {
  size_t start = out->len;
  return decode_done(out, start, base32_decode(s, slen, out, err));
}

void st_base64_append(st_buf *b, const uint8_t *p, size_t n, bool pad) {
  size_t enc = 4 * ((n + 2) / 3);
  if (n > (size_t)INT32_MAX || !st_buf_reserve(b, enc)) {
    b->failed = true;
    return;
  }
  int w = EVP_EncodeBlock(b->data + b->len, p, (int)n);
  size_t len = (size_t)w;
  if (!pad)
    while (len > 0 && b->data[b->len + len - 1] == '=') len--;
  b->len += len;
  b->data[b->len] = 0;
}

static bool b64char(char c) { return c && memchr(B64, c, 64); }

static st_code base64_decode(const char *s, size_t slen, bool pad, st_buf *out, st_err *err) {
  size_t body = slen;
  if (pad) {
    if (slen % 4) return st_err_set(err, ST_EINVAL, "base64 text of %zu characters is not a multiple of 4", slen);
    while (body > 0 && slen - body < 2 && s[body - 1] == '=') body--;
  } else if (slen % 4 == 1) {
    return st_err_set(err, ST_EINVAL, "base64 text of %zu characters cannot encode whole bytes", slen);
  }
  for (size_t i = 0; i < body; i++)
    if (!b64char(s[i]))
      return st_err_set(err, ST_EINVAL, "invalid base64 character '%c' at position %zu",
                        s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?', i);
  if (body > (size_t)INT32_MAX) return st_err_set(err, ST_ERANGE, "base64 text too long");
  size_t tail = body % 4; /* 0, 2 or 3 characters in the last group */
  size_t nbytes = body / 4 * 3 + (tail ? tail - 1 : 0);
  /* OpenSSL decodes whole groups only; pad a copy of the last group. */
  char last[4] = {'A', 'A', '=', '='};
  if (!st_buf_reserve(out, nbytes + 3)) return st_buf_status(out, err);
  size_t whole = body - tail;
  if (whole && EVP_DecodeBlock(out->data + out->len, (const unsigned char *)s, (int)whole) < 0)
    return st_err_set(err, ST_EINVAL, "invalid base64");
  if (tail) {
    memcpy(last, s + whole, tail);
    for (size_t i = tail; i < 4; i++) last[i] = '=';
    uint8_t tmp[3];
    if (EVP_DecodeBlock(tmp, (const unsigned char *)last, 4) < 0) return st_err_set(err, ST_EINVAL, "invalid base64");
    /* Canonical form: the bits past the last byte must be zero. */
    int v = (int)((const char *)memchr(B64, last[tail - 1], 64) - B64);
    if ((tail == 2 && (v & 15)) || (tail == 3 && (v & 3)))
      return st_err_set(err, ST_EINVAL, "non-canonical base64: unused bits in the last character are not zero");
    memcpy(out->data + out->len + whole / 4 * 3, tmp, tail - 1);
  }
  out->len += nbytes;
  out->data[out->len] = 0;
  return ST_OK;
}

st_code st_base64_decode(const char *s, size_t slen, bool pad, st_buf *out, st_err *err) {
  size_t start = out->len;
  return decode_done(out, start, base64_decode(s, slen, pad, out, err));
}

st_code st_parse_u64(const char *s, const char *what, uint64_t *out, st_err *err) {
  *out = 0;
  if (!*s) return st_err_set(err, ST_EINVAL, "%s: empty number", what);
  uint64_t v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9')
      return st_err_set(err, ST_EINVAL, "%s: \"%s\" is not an unsigned decimal number", what, s);
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10) return st_err_set(err, ST_ERANGE, "%s: %s is larger than 2^64-1", what, s);
    v = v * 10 + d;
  }
  *out = v;
  return ST_OK;
}

void st_base58_append(st_buf *b, const uint8_t *p, size_t n) {
  static const char ALPHABET[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  size_t zeros = 0;
  while (zeros < n && !p[zeros]) zeros++;
  size_t cap = (n - zeros) * 138 / 100 + 1, len = 0;
  uint8_t *d = calloc(cap, 1); /* base 58 digits, least significant first */
  if (!d) {
    b->failed = true;
    return;
  }
  for (size_t i = zeros; i < n; i++) {
    unsigned carry = p[i];
    size_t j = 0;
    for (; j < len || carry; j++) {
      carry += 256u * d[j];
      d[j] = (uint8_t)(carry % 58);
      carry /= 58;
    }
    len = j;
  }
  for (size_t i = 0; i < zeros; i++) st_buf_putc(b, '1');
  for (size_t i = len; i-- > 0;) st_buf_putc(b, ALPHABET[d[i]]);
  free(d);
}
