/* st_token: token amounts and other big integers.
 *
 * Amounts are attoFIL (10^-18 FIL) held in GMP integers. In CBOR a big integer is a byte string:
 * empty for zero, else a sign byte (0x00 positive, 0x01 negative) and the big-endian magnitude
 * (go-state-types big.Int), at most 128 bytes. We decode only the canonical form (no leading
 * zero byte, no signed zero), which is all Lotus ever writes, so every amount has one encoding.
 * FIL text follows Lotus: "52812.59398882125816547" (no trailing zeros, "0" for zero); parsing
 * accepts an optional "FIL" or "attoFIL" suffix.
 *
 * An mpz_t out is the caller's, initialised (mpz_init) before the call; every out is
 * initialised on return, success or not (st_err.h): a number that could not be read is 0. */
#ifndef ST_TOKEN_H
#define ST_TOKEN_H

#include <gmp.h>

#include "codec/st_cbor.h"
#include "core/st_buf.h"
#include "core/st_err.h"

#define ST_BIGINT_MAX_BYTES 128

/* Raw bigint bytes (no CBOR header). */
void st_bigint_append_bytes(st_buf *out, const mpz_t v);
st_code st_bigint_from_bytes(const uint8_t *p, size_t len, mpz_t out, st_err *err);
/* As a CBOR byte string. */
void st_cbor_put_bigint(st_buf *b, const mpz_t v);
st_code st_cbor_read_bigint(st_cbor_reader *r, mpz_t out);

/* attoFIL -> "1.5" (unitless, as lotus-miner info prints balances). */
void st_fil_format(const mpz_t atto, st_buf *out);
/* attoFIL -> "1.5 FIL" in out (n bytes, cut short as snprintf cuts). */
void st_fil_text(const mpz_t atto, char *out, size_t n);
/* "1.5", "1.5 FIL", "1500 attoFIL" -> attoFIL. */
st_code st_fil_parse(const char *s, mpz_t atto, st_err *err);

#endif
