/* st_cid: content identifiers (CIDv1) in binary and multibase base32 form.
 *
 * Chain objects are addressed by CIDv1 dag-cbor + BLAKE2b-256 ("bafy2bzace..."); sector
 * commitments by fil-commitment-unsealed (comm_d / comm_p, "baga6ea4seaq...") and
 * fil-commitment-sealed (comm_r, "bagboea4b5abc..."). Binary form:
 *   uvarint(version=1) uvarint(codec) uvarint(multihash code) uvarint(digest length) digest
 * The string form is 'b' followed by lowercase unpadded base32 of the bytes. CIDv0 and other
 * multibases are rejected with a message saying so.
 *
 * Every out is initialised on return, success or not (st_err.h): a CID that could not be read
 * is all zero (codec 0, digest_len 0), and so is *used. */
#ifndef ST_CID_H
#define ST_CID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/st_buf.h"
#include "core/st_err.h"

#define ST_CID_MAX_DIGEST 64
#define ST_CID_MAX_BYTES 96
#define ST_CID_STR_MAX 160

enum {
  ST_CODEC_RAW = 0x55,
  ST_CODEC_DAG_CBOR = 0x71,
  ST_CODEC_FIL_UNSEALED = 0xf101,
  ST_CODEC_FIL_SEALED = 0xf102,
};

enum {
  ST_MH_IDENTITY = 0x00,
  ST_MH_SHA2_256 = 0x12,
  ST_MH_SHA2_256_TRUNC254_PADDED = 0x1012,
  ST_MH_POSEIDON_BLS12_381_A1_FC1 = 0xb401,
  ST_MH_BLAKE2B_256 = 0xb220,
};

typedef struct st_cid {
  uint64_t codec;
  uint64_t mh_code;
  size_t digest_len;
  uint8_t digest[ST_CID_MAX_DIGEST];
} st_cid;

/* The CID of a DAG-CBOR object: dag-cbor codec, BLAKE2b-256 of the bytes. */
void st_cid_of_cbor(const void *data, size_t len, st_cid *out);
/* A sector commitment (32 bytes) as a CID: unsealed = comm_d/comm_p, sealed = comm_r. */
void st_cid_of_commitment(const uint8_t comm[32], bool sealed, st_cid *out);

size_t st_cid_to_bytes(const st_cid *c, uint8_t out[ST_CID_MAX_BYTES]);
/* Parses a binary CID at p. With used == NULL the CID must fill all len bytes; otherwise
 * *used gets the number of bytes it took. */
st_code st_cid_from_bytes(const uint8_t *p, size_t len, st_cid *out, size_t *used, st_err *err);

void st_cid_append_string(st_buf *b, const st_cid *c);
/* Writes the string form into out (at least ST_CID_STR_MAX bytes). */
void st_cid_to_string(const st_cid *c, char out[ST_CID_STR_MAX]);
st_code st_cid_parse(const char *s, st_cid *out, st_err *err);

bool st_cid_equal(const st_cid *a, const st_cid *b);
const char *st_cid_codec_name(uint64_t codec);

#endif
