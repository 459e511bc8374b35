/* st_hash: SHA-256 through OpenSSL's EVP with the digest fetched once, BLAKE2b through libb2. */
#include "crypto/st_hash.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

/* Fetching the algorithm on every call costs more than hashing a 64-byte node. */
static void fetch_sha256(void) { sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL); }

static const EVP_MD *md(void) {
  pthread_once(&sha256_once, fetch_sha256);
  if (!sha256_md) abort(); /* OpenSSL without SHA-256 cannot run anything here */
  return sha256_md;
}

void st_sha256(const void *data, size_t len, uint8_t out[ST_SHA256_LEN]) {
  if (!EVP_Digest(data, len, out, NULL, md(), NULL)) abort();
}

st_code st_sha256_init(st_sha256_ctx *ctx, st_err *err) {
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  if (!c || !EVP_DigestInit_ex2(c, md(), NULL)) {
    EVP_MD_CTX_free(c);
    ctx->md = NULL;
    return st_err_set(err, ST_ENOMEM, "could not create a SHA-256 context");
  }
  ctx->md = c;
  return ST_OK;
}

void st_sha256_update(st_sha256_ctx *ctx, const void *data, size_t len) {
  if (!EVP_DigestUpdate(ctx->md, data, len)) abort();
}

void st_sha256_final(st_sha256_ctx *ctx, uint8_t out[ST_SHA256_LEN]) {
  if (!EVP_DigestFinal_ex(ctx->md, out, NULL) || !EVP_DigestInit_ex2(ctx->md, NULL, NULL)) abort();
}

void st_sha256_free(st_sha256_ctx *ctx) {
  EVP_MD_CTX_free(ctx->md);
  ctx->md = NULL;
}

void st_blake2b(uint8_t *out, size_t outlen, const void *data, size_t len) {
  if (blake2b(out, data, NULL, outlen, len, 0) != 0) abort(); /* only fails on a bad outlen */
}

void st_blake2b_init(st_blake2b_ctx *ctx, size_t outlen) {
  ctx->outlen = outlen;
  if (blake2b_init(&ctx->s, outlen) != 0) abort();
}

void st_blake2b_update(st_blake2b_ctx *ctx, const void *data, size_t len) { blake2b_update(&ctx->s, data, len); }

void st_blake2b_final(st_blake2b_ctx *ctx, uint8_t *out) { blake2b_final(&ctx->s, out, ctx->outlen); }
