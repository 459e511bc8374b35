/* st_secp: secp256k1 keys, Filecoin's recoverable signatures, and the kernel CSPRNG. */
#include "crypto/st_secp.h"

#include <errno.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <string.h>
#include <sys/random.h>

#include "crypto/st_hash.h"

void st_secure_zero(void *p, size_t n) { explicit_bzero(p, n); }

st_code st_random_bytes(uint8_t *out, size_t n, st_err *err) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(out + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      st_secure_zero(out, n);
      return st_err_set(err, ST_EIO, "could not read random bytes: %s", strerror(e));
    }
    got += (size_t)r;
  }
  return ST_OK;
}

/* Returns rc, wiping the n bytes of out when rc is a failure. */
static st_code done(st_code rc, uint8_t *out, size_t n) {
  if (rc) st_secure_zero(out, n);
  return rc;
}

/* A signing context, randomized against side channels. Created per call: in libsecp256k1 0.2
 * this is a small allocation, and it keeps the library free of shared mutable state. */
static secp256k1_context *signing_ctx(st_err *err) {
  secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  uint8_t seed[32];
  if (!ctx) {
    st_err_set(err, ST_ENOMEM, "could not create a secp256k1 context");
    return NULL;
  }
  if (st_random_bytes(seed, sizeof seed, err)) {
    secp256k1_context_destroy(ctx);
    return NULL;
  }
  if (!secp256k1_context_randomize(ctx, seed)) {
    secp256k1_context_destroy(ctx);
    st_err_set(err, ST_EINTERNAL, "could not randomize a secp256k1 context");
    return NULL;
  }
  st_secure_zero(seed, sizeof seed);
  return ctx;
}

st_code st_secp_seckey_check(const uint8_t sk[ST_SECP_SECKEY_LEN], st_err *err) {
  if (!secp256k1_ec_seckey_verify(secp256k1_context_static, sk))
    return st_err_set(err, ST_ECRYPTO, "invalid secp256k1 private key (zero or not below the curve order)");
  return ST_OK;
}

st_code st_secp_keygen(uint8_t sk[ST_SECP_SECKEY_LEN], st_err *err) {
  for (int tries = 0; tries < 16; tries++) {
    st_code rc = st_random_bytes(sk, ST_SECP_SECKEY_LEN, err);
    if (rc) return rc;
    if (secp256k1_ec_seckey_verify(secp256k1_context_static, sk)) return ST_OK;
  }
  return done(st_err_set(err, ST_EINTERNAL, "random source produced no valid secp256k1 key in 16 tries"), sk,
              ST_SECP_SECKEY_LEN);
}

static st_code serialize_uncompressed(const secp256k1_pubkey *pk, uint8_t pub[ST_SECP_PUBKEY_LEN]) {
  size_t len = ST_SECP_PUBKEY_LEN;
  secp256k1_ec_pubkey_serialize(secp256k1_context_static, pub, &len, pk, SECP256K1_EC_UNCOMPRESSED);
  return ST_OK;
}

static st_code pubkey(const uint8_t sk[ST_SECP_SECKEY_LEN], uint8_t pub[ST_SECP_PUBKEY_LEN], st_err *err) {
  st_code rc = st_secp_seckey_check(sk, err);
  if (rc) return rc;
  secp256k1_context *ctx = signing_ctx(err);
  if (!ctx) return err ? err->code : ST_EINTERNAL;
  secp256k1_pubkey pk;
  int ok = secp256k1_ec_pubkey_create(ctx, &pk, sk);
  secp256k1_context_destroy(ctx);
  if (!ok) return st_err_set(err, ST_ECRYPTO, "could not derive the public key");
  return serialize_uncompressed(&pk, pub);
}

st_code st_secp_pubkey(const uint8_t sk[ST_SECP_SECKEY_LEN], uint8_t pub[ST_SECP_PUBKEY_LEN], st_err *err) {
  return done(pubkey(sk, pub, err), pub, ST_SECP_PUBKEY_LEN);
}

static st_code pubkey_parse(const uint8_t *in, size_t len, uint8_t pub[ST_SECP_PUBKEY_LEN], st_err *err) {
  if (len != 33 && len != 65)
    return st_err_set(err, ST_EINVAL,
                      "secp256k1 public key must be 33 (compressed) or 65 (uncompressed) bytes, got %zu", len);
  secp256k1_pubkey pk;
  if (!secp256k1_ec_pubkey_parse(secp256k1_context_static, &pk, in, len))
    return st_err_set(err, ST_EINVAL,
                      "invalid secp256k1 public key: not a point on the curve (or wrong prefix byte 0x%02x)", in[0]);
  return serialize_uncompressed(&pk, pub);
}

st_code st_secp_pubkey_parse(const uint8_t *in, size_t len, uint8_t pub[ST_SECP_PUBKEY_LEN], st_err *err) {
  return done(pubkey_parse(in, len, pub, err), pub, ST_SECP_PUBKEY_LEN);
}

st_code st_secp_address(const uint8_t sk[ST_SECP_SECKEY_LEN], st_address *out, st_err *err) {
  uint8_t pub[ST_SECP_PUBKEY_LEN];
  st_code rc = st_secp_pubkey(sk, pub, err);
  if (!rc) st_address_from_secp256k1_pubkey(pub, out);
  else memset(out, 0, sizeof *out);
  return rc;
}

static st_code sign(const uint8_t sk[ST_SECP_SECKEY_LEN], const uint8_t *msg, size_t len, uint8_t sig[ST_SECP_SIG_LEN],
                    st_err *err) {
  st_code rc = st_secp_seckey_check(sk, err);
  if (rc) return rc;
  uint8_t digest[32];
  st_blake2b_256(msg, len, digest);
  secp256k1_context *ctx = signing_ctx(err);
  if (!ctx) return err ? err->code : ST_EINTERNAL;
  secp256k1_ecdsa_recoverable_signature rs;
  int ok = secp256k1_ecdsa_sign_recoverable(ctx, &rs, digest, sk, secp256k1_nonce_function_rfc6979, NULL);
  int recid = 0;
  if (ok) secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, sig, &recid, &rs);
  secp256k1_context_destroy(ctx);
  if (!ok) return st_err_set(err, ST_ECRYPTO, "secp256k1 signing failed");
  sig[64] = (uint8_t)recid;
  return ST_OK;
}

st_code st_secp_sign(const uint8_t sk[ST_SECP_SECKEY_LEN], const uint8_t *msg, size_t len, uint8_t sig[ST_SECP_SIG_LEN],
                     st_err *err) {
  return done(sign(sk, msg, len, sig, err), sig, ST_SECP_SIG_LEN);
}

static st_code recover(const uint8_t sig[ST_SECP_SIG_LEN], const uint8_t *msg, size_t len,
                       uint8_t pub[ST_SECP_PUBKEY_LEN], st_err *err) {
  if (sig[64] > 3) return st_err_set(err, ST_ECRYPTO, "invalid signature: recovery id %u is not 0 to 3", sig[64]);
  secp256k1_ecdsa_recoverable_signature rs;
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(secp256k1_context_static, &rs, sig, sig[64]))
    return st_err_set(err, ST_ECRYPTO, "invalid signature: r or s is not below the curve order");
  uint8_t digest[32];
  st_blake2b_256(msg, len, digest);
  secp256k1_pubkey pk;
  if (!secp256k1_ecdsa_recover(secp256k1_context_static, &pk, &rs, digest))
    return st_err_set(err, ST_ECRYPTO, "invalid signature: no public key recovers from it");
  return serialize_uncompressed(&pk, pub);
}

st_code st_secp_recover(const uint8_t sig[ST_SECP_SIG_LEN], const uint8_t *msg, size_t len,
                        uint8_t pub[ST_SECP_PUBKEY_LEN], st_err *err) {
  return done(recover(sig, msg, len, pub, err), pub, ST_SECP_PUBKEY_LEN);
}

st_code st_secp_verify(const uint8_t sig[ST_SECP_SIG_LEN], const uint8_t *msg, size_t len, const st_address *signer,
                       st_err *err) {
  if (signer->len < 1 || st_address_protocol(signer) != ST_ADDR_SECP256K1)
    return st_err_set(err, ST_ECRYPTO, "signer is not a secp256k1 (f1) address");
  uint8_t pub[ST_SECP_PUBKEY_LEN];
  st_code rc = st_secp_recover(sig, msg, len, pub, err);
  if (rc) return rc;
  st_address got;
  st_address_from_secp256k1_pubkey(pub, &got);
  if (!st_address_equal(&got, signer)) return st_err_set(err, ST_ECRYPTO, "signature was not made by the signer's key");
  return ST_OK;
}
