/* st_encoding: hex, base32, base64 and base58 text encodings of byte strings, and unsigned
 * decimals.
 *
 * base32 is RFC 4648 lowercase without padding, the alphabet of Filecoin addresses and of
 * multibase 'b' CIDs. Decoders are strict: they reject characters outside the alphabet,
 * impossible lengths, and non-zero leftover bits (a non-canonical encoding), naming the
 * position of the fault. Decimals are read as strictly (digits only, no sign, no overflow):
 * the numbers that programs, APIs and the registry take as text. base64 uses OpenSSL; hex and
 * base32 are a dozen lines each and no Debian library offers the strict decoding Filecoin needs.
 * base58 (bitcoin's alphabet, as libp2p writes peer IDs) is only encoded.
 *
 * Every out is initialised on return, success or not (st_err.h). The decoders append to an
 * st_buf and append nothing when they fail: out is then as it was. */
#ifndef ST_ENCODING_H
#define ST_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/st_buf.h"
#include "core/st_err.h"

/* Writes 2*n lowercase hex digits and a NUL to out (room for 2*n+1). */
void st_hex_encode(const uint8_t *p, size_t n, char *out);
void st_hex_append(st_buf *b, const uint8_t *p, size_t n);
/* Decodes exactly slen hex digits (either case) and appends the bytes to out. */
st_code st_hex_decode(const char *s, size_t slen, st_buf *out, st_err *err);
/* Decodes into a fixed-size array; the input must be exactly 2*n digits. out is zeroed on failure. */
st_code st_hex_decode_exact(const char *s, uint8_t *out, size_t n, st_err *err);

/* base32 lowercase, no padding. */
size_t st_base32_encoded_len(size_t n);
void st_base32_append(st_buf *b, const uint8_t *p, size_t n);
st_code st_base32_decode(const char *s, size_t slen, st_buf *out, st_err *err);

/* base64 standard alphabet; `pad` selects '=' padding (encode) or requires its absence (decode). */
void st_base64_append(st_buf *b, const uint8_t *p, size_t n, bool pad);
st_code st_base64_decode(const char *s, size_t slen, bool pad, st_buf *out, st_err *err);

/* base58btc: each leading zero byte is a '1', the rest the number in base 58, most significant
 * digit first ("QmYyQS..." for a libp2p peer ID). Sets b's failed flag when out of memory. */
void st_base58_append(st_buf *b, const uint8_t *p, size_t n);

/* Strict unsigned decimal: digits only, no sign, no overflow. what names the value in errors.
 * *out is 0 on failure. */
st_code st_parse_u64(const char *s, const char *what, uint64_t *out, st_err *err);

#endif
