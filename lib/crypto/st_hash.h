/* st_hash: SHA-256 (OpenSSL) and BLAKE2b at any digest length (libb2).
 *
 * BLAKE2b here is BLAKE2b with the output-length parameter set, as Filecoin uses it: a 4-byte
 * address checksum is blake2b(outlen=4), not a truncated BLAKE2b-256. */
#ifndef ST_HASH_H
#define ST_HASH_H

#include <stddef.h>
#include <stdint.h>

#include <blake2.h>

#include "core/st_err.h"

#define ST_SHA256_LEN 32
#define ST_BLAKE2B_MAX 64

void st_sha256(const void *data, size_t len, uint8_t out[ST_SHA256_LEN]);

typedef struct st_sha256_ctx {
  void *md; /* EVP_MD_CTX */
} st_sha256_ctx;

/* On failure ctx holds no context (st_sha256_free is still safe). */
st_code st_sha256_init(st_sha256_ctx *ctx, st_err *err);
void st_sha256_update(st_sha256_ctx *ctx, const void *data, size_t len);
/* Writes the digest and resets ctx for reuse. */
void st_sha256_final(st_sha256_ctx *ctx, uint8_t out[ST_SHA256_LEN]);
void st_sha256_free(st_sha256_ctx *ctx);

/* outlen in 1..64. */
void st_blake2b(uint8_t *out, size_t outlen, const void *data, size_t len);
static inline void st_blake2b_256(const void *data, size_t len, uint8_t out[32]) { st_blake2b(out, 32, data, len); }

typedef struct st_blake2b_ctx {
  blake2b_state s;
  size_t outlen;
} st_blake2b_ctx;

void st_blake2b_init(st_blake2b_ctx *ctx, size_t outlen);
void st_blake2b_update(st_blake2b_ctx *ctx, const void *data, size_t len);
void st_blake2b_final(st_blake2b_ctx *ctx, uint8_t *out);

#endif
