/* st_token: big integers as Filecoin encodes them, and FIL decimal text. */
#include "codec/st_token.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FIL_DECIMALS 18

void st_bigint_append_bytes(st_buf *out, const mpz_t v) {
  if (mpz_sgn(v) == 0) return;
  size_t n = (mpz_sizeinbase(v, 2) + 7) / 8;
  if (!st_buf_reserve(out, n + 1)) return;
  out->data[out->len] = mpz_sgn(v) < 0 ? 0x01 : 0x00;
  size_t written = 0;
  mpz_export(out->data + out->len + 1, &written, 1, 1, 1, 0, v);
  out->len += written + 1;
  out->data[out->len] = 0;
}

st_code st_bigint_from_bytes(const uint8_t *p, size_t len, mpz_t out, st_err *err) {
  mpz_set_ui(out, 0);
  if (len == 0) return ST_OK;
  if (len > ST_BIGINT_MAX_BYTES)
    return st_err_set(err, ST_EINVAL, "big integer of %zu bytes is longer than %d", len, ST_BIGINT_MAX_BYTES);
  if (p[0] > 1) return st_err_set(err, ST_EINVAL, "big integer sign byte must be 0x00 or 0x01, got 0x%02x", p[0]);
  if (len == 1) return st_err_set(err, ST_EINVAL, "non-canonical big integer: zero must be an empty byte string");
  if (p[1] == 0) return st_err_set(err, ST_EINVAL, "non-canonical big integer: magnitude has a leading zero byte");
  mpz_import(out, len - 1, 1, 1, 1, 0, p + 1);
  if (p[0] == 1) mpz_neg(out, out);
  return ST_OK;
}

void st_cbor_put_bigint(st_buf *b, const mpz_t v) {
  st_buf tmp = ST_BUF_INIT;
  st_bigint_append_bytes(&tmp, v);
  if (tmp.failed) b->failed = true;
  else st_cbor_put_bytes(b, tmp.data, tmp.len);
  st_buf_free(&tmp);
}

st_code st_cbor_read_bigint(st_cbor_reader *r, mpz_t out) {
  size_t off = r->off;
  const uint8_t *p;
  size_t n;
  st_code rc = st_cbor_read_bytes(r, &p, &n);
  if (rc) {
    mpz_set_ui(out, 0);
    return rc;
  }
  rc = st_bigint_from_bytes(p, n, out, r->err);
  return rc ? st_err_wrap(r->err, rc, "cbor: big integer at offset %zu", off) : ST_OK;
}

void st_fil_format(const mpz_t atto, st_buf *out) {
  mpz_t q, rem, scale;
  mpz_inits(q, rem, scale, NULL);
  mpz_ui_pow_ui(scale, 10, FIL_DECIMALS);
  mpz_abs(q, atto);
  mpz_tdiv_qr(q, rem, q, scale);
  char *whole = mpz_get_str(NULL, 10, q);
  if (mpz_sgn(atto) < 0) st_buf_putc(out, '-');
  st_buf_puts(out, whole ? whole : "?");
  free(whole);
  if (mpz_sgn(rem) != 0) {
    char frac[FIL_DECIMALS + 2];
    char *digits = mpz_get_str(NULL, 10, rem);
    size_t nd = digits ? strlen(digits) : 0;
    memset(frac, '0', FIL_DECIMALS - nd);
    memcpy(frac + FIL_DECIMALS - nd, digits, nd);
    free(digits);
    size_t len = FIL_DECIMALS;
    while (len > 0 && frac[len - 1] == '0') len--;
    st_buf_putc(out, '.');
    st_buf_append(out, frac, len);
  }
  mpz_clears(q, rem, scale, NULL);
}

void st_fil_text(const mpz_t atto, char *out, size_t n) {
  st_buf b = ST_BUF_INIT;
  st_fil_format(atto, &b);
  snprintf(out, n, "%s FIL", st_buf_cstr(&b));
  st_buf_free(&b);
}

st_code st_fil_parse(const char *s, mpz_t atto, st_err *err) {
  mpz_set_ui(atto, 0);
  size_t numlen = strspn(s, ".0123456789");
  const char *suffix = s + numlen;
  while (isspace((unsigned char)*suffix)) suffix++;
  size_t slen = strlen(suffix);
  while (slen && isspace((unsigned char)suffix[slen - 1])) slen--;
  bool atto_unit = false;
  if (slen == 0 || (slen == 3 && !strncasecmp(suffix, "fil", 3))) {
    atto_unit = false;
  } else if ((slen == 7 && !strncasecmp(suffix, "attofil", 7)) || (slen == 4 && !strncasecmp(suffix, "afil", 4))) {
    atto_unit = true;
  } else {
    return st_err_set(err, ST_EINVAL, "invalid amount \"%s\": unrecognized suffix \"%.*s\" (use FIL or attoFIL)", s,
                      (int)slen, suffix);
  }
  if (numlen > 50)
    return st_err_set(err, ST_EINVAL, "invalid amount: number of %zu characters is too long (at most 50)", numlen);
  const char *dot = memchr(s, '.', numlen);
  size_t intlen = dot ? (size_t)(dot - s) : numlen;
  size_t fraclen = dot ? numlen - intlen - 1 : 0;
  if ((dot && memchr(dot + 1, '.', fraclen)) || intlen + fraclen == 0)
    return st_err_set(err, ST_EINVAL, "invalid amount \"%s\": not a decimal number", s);
  size_t scale = atto_unit ? 0 : FIL_DECIMALS;
  for (size_t i = 0; i < fraclen; i++) {
    if (i >= scale && dot[1 + i] != '0')
      return st_err_set(err, ST_EINVAL,
                        "invalid amount \"%s\": more than %zu decimal places (1 attoFIL is the smallest unit)", s,
                        scale);
  }
  char digits[64 + FIL_DECIMALS];
  size_t n = 0;
  memcpy(digits, s, intlen);
  n += intlen;
  size_t keep = fraclen < scale ? fraclen : scale;
  memcpy(digits + n, dot ? dot + 1 : "", keep);
  n += keep;
  memset(digits + n, '0', scale - keep);
  n += scale - keep;
  digits[n] = '\0';
  if (n == 0) { /* only zero decimals past the unit's scale, e.g. ".0 attoFIL" */
    mpz_set_ui(atto, 0);
    return ST_OK;
  }
  if (mpz_set_str(atto, digits, 10) != 0) {
    mpz_set_ui(atto, 0);
    return st_err_set(err, ST_EINVAL, "invalid amount \"%s\": not a decimal number", s);
  }
  return ST_OK;
}
