/* st_vrf: ECVRF-SECP256K1-SHA256-TAI (draft-irtf-cfrg-vrf-06, suite 0xFE) on libsecp256k1.
 * Hand-written because no Debian library offers a VRF on secp256k1; the arithmetic is all
 * libsecp256k1's public API, so only the protocol steps live here. */
#include "crypto/st_vrf.h"

#include <secp256k1.h>
#include <string.h>

#include "crypto/st_hash.h"
#include "crypto/st_secp.h"

#define SUITE 0xFE
#define PT_LEN 33
#define C_LEN 16
#define S_LEN 32

static const secp256k1_context *ctx_static(void) { return secp256k1_context_static; }

static void point_bytes(const secp256k1_pubkey *p, uint8_t out[PT_LEN]) {
  size_t len = PT_LEN;
  secp256k1_ec_pubkey_serialize(ctx_static(), out, &len, p, SECP256K1_EC_COMPRESSED);
}

/* ECVRF_hash_to_curve_try_and_increment: H = string_to_point(0x02 || SHA256(suite || 0x01 || PK || alpha || ctr)). */
static st_code hash_to_curve(const uint8_t pk[PT_LEN], const uint8_t *alpha, size_t alen, secp256k1_pubkey *h,
                             st_err *err) {
  st_sha256_ctx sha;
  st_code rc = st_sha256_init(&sha, err);
  if (rc) return rc;
  const uint8_t prefix[2] = {SUITE, 0x01};
  uint8_t cand[PT_LEN];
  cand[0] = 0x02;
  for (unsigned ctr = 0; ctr < 256; ctr++) {
    uint8_t c = (uint8_t)ctr;
    st_sha256_update(&sha, prefix, 2);
    st_sha256_update(&sha, pk, PT_LEN);
    st_sha256_update(&sha, alpha, alen);
    st_sha256_update(&sha, &c, 1);
    st_sha256_final(&sha, cand + 1);
    if (secp256k1_ec_pubkey_parse(ctx_static(), h, cand, PT_LEN)) {
      st_sha256_free(&sha);
      return ST_OK;
    }
  }
  st_sha256_free(&sha);
  return st_err_set(err, ST_ECRYPTO, "vrf: no curve point found in 256 tries");
}

/* ECVRF_hash_points: the first 16 bytes of SHA256(suite || 0x02 || H || Gamma || U || V). */
static void hash_points(const secp256k1_pubkey *pts[4], uint8_t c[C_LEN]) {
  uint8_t buf[2 + 4 * PT_LEN], digest[32];
  buf[0] = SUITE;
  buf[1] = 0x02;
  for (int i = 0; i < 4; i++) point_bytes(pts[i], buf + 2 + i * PT_LEN);
  st_sha256(buf, sizeof buf, digest);
  memcpy(c, digest, C_LEN);
}

static void gamma_to_hash(const uint8_t gamma[PT_LEN], uint8_t beta[ST_VRF_OUTPUT_LEN]) {
  uint8_t buf[2 + PT_LEN];
  buf[0] = SUITE;
  buf[1] = 0x03;
  memcpy(buf + 2, gamma, PT_LEN);
  st_sha256(buf, sizeof buf, beta);
}

/* out = a*P (a copy of P multiplied by scalar a). */
static int mul(const secp256k1_pubkey *p, const uint8_t a[32], secp256k1_pubkey *out) {
  *out = *p;
  return secp256k1_ec_pubkey_tweak_mul(ctx_static(), out, a);
}

/* out = a*B. Goes through st_secp_pubkey, whose context is randomized: a may be secret (x, k). */
static st_code base_mul(const uint8_t a[32], secp256k1_pubkey *out, st_err *err) {
  uint8_t pub[ST_SECP_PUBKEY_LEN];
  st_code rc = st_secp_pubkey(a, pub, err);
  if (rc) return rc;
  if (!secp256k1_ec_pubkey_parse(ctx_static(), out, pub, sizeof pub))
    return st_err_set(err, ST_EINTERNAL, "vrf: derived point does not parse");
  return ST_OK;
}

/* out = s*P - c*Q, with sP given. */
static int sub(const secp256k1_pubkey *sp, const secp256k1_pubkey *q, const uint8_t c32[32], secp256k1_pubkey *out) {
  secp256k1_pubkey cq;
  if (!mul(q, c32, &cq) || !secp256k1_ec_pubkey_negate(ctx_static(), &cq)) return 0;
  const secp256k1_pubkey *both[2] = {sp, &cq};
  return secp256k1_ec_pubkey_combine(ctx_static(), out, both, 2);
}

static st_code prove(const uint8_t sk[32], const uint8_t *alpha, size_t alen, uint8_t pi[ST_VRF_PROOF_LEN],
                     uint8_t beta[ST_VRF_OUTPUT_LEN], st_err *err) {
  uint8_t ycomp[PT_LEN], hbytes[PT_LEN], hdigest[32], k[32], c32[32] = {0}, s[32];
  secp256k1_pubkey y, h, gamma, u, v;
  st_code rc = base_mul(sk, &y, err);
  if (rc) return rc;
  point_bytes(&y, ycomp);
  rc = hash_to_curve(ycomp, alpha, alen, &h, err);
  if (rc) return rc;
  point_bytes(&h, hbytes);
  if (!mul(&h, sk, &gamma)) return st_err_set(err, ST_ECRYPTO, "vrf: Gamma = x*H failed");

  /* k = RFC 6979 nonce for key sk and message h_string; libsecp256k1 hashes nothing itself,
   * so it gets SHA256(h_string) exactly as draft-06 section 5.4.2.1 feeds RFC 6979. */
  st_sha256(hbytes, PT_LEN, hdigest);
  unsigned attempt = 0;
  for (;; attempt++) {
    if (attempt > 64 || !secp256k1_nonce_function_rfc6979(k, hdigest, sk, NULL, NULL, attempt))
      return st_err_set(err, ST_ECRYPTO, "vrf: nonce generation failed");
    if (secp256k1_ec_seckey_verify(ctx_static(), k)) break;
  }
  int ok = base_mul(k, &u, NULL) == ST_OK && mul(&h, k, &v);
  if (!ok) {
    st_secure_zero(k, sizeof k);
    return st_err_set(err, ST_ECRYPTO, "vrf: computing k*B and k*H failed");
  }
  const secp256k1_pubkey *pts[4] = {&h, &gamma, &u, &v};
  hash_points(pts, c32 + 16);

  /* s = k + c*x mod n */
  memcpy(s, sk, 32);
  ok = secp256k1_ec_seckey_tweak_mul(ctx_static(), s, c32) && secp256k1_ec_seckey_tweak_add(ctx_static(), s, k);
  st_secure_zero(k, sizeof k);
  if (!ok) return st_err_set(err, ST_ECRYPTO, "vrf: s = k + c*x failed");
  point_bytes(&gamma, pi);
  memcpy(pi + PT_LEN, c32 + 16, C_LEN);
  memcpy(pi + PT_LEN + C_LEN, s, S_LEN);
  st_secure_zero(s, sizeof s);
  if (beta) gamma_to_hash(pi, beta);
  return ST_OK;
}

/* Returns rc, zeroing pi and beta (each where given) when rc is a failure. */
static st_code done(st_code rc, uint8_t *pi, uint8_t *beta) {
  if (rc && pi) memset(pi, 0, ST_VRF_PROOF_LEN);
  if (rc && beta) memset(beta, 0, ST_VRF_OUTPUT_LEN);
  return rc;
}

st_code st_vrf_prove(const uint8_t sk[32], const uint8_t *alpha, size_t alen, uint8_t pi[ST_VRF_PROOF_LEN],
                     uint8_t beta[ST_VRF_OUTPUT_LEN], st_err *err) {
  return done(prove(sk, alpha, alen, pi, beta, err), pi, beta);
}

st_code st_vrf_proof_to_hash(const uint8_t pi[ST_VRF_PROOF_LEN], uint8_t beta[ST_VRF_OUTPUT_LEN], st_err *err) {
  secp256k1_pubkey gamma;
  if (!secp256k1_ec_pubkey_parse(ctx_static(), &gamma, pi, PT_LEN) || (pi[0] != 0x02 && pi[0] != 0x03))
    return done(st_err_set(err, ST_ECRYPTO, "vrf: invalid proof: Gamma is not a compressed curve point"), NULL, beta);
  gamma_to_hash(pi, beta);
  return ST_OK;
}

static st_code verify(const uint8_t *pub, size_t publen, const uint8_t *alpha, size_t alen,
                      const uint8_t pi[ST_VRF_PROOF_LEN], uint8_t beta[ST_VRF_OUTPUT_LEN], st_err *err) {
  secp256k1_pubkey y, gamma, h, sb, u, v, sh;
  uint8_t ycomp[PT_LEN], c32[32] = {0}, s[32], c2[C_LEN];
  if ((publen != 33 && publen != 65) || !secp256k1_ec_pubkey_parse(ctx_static(), &y, pub, publen))
    return st_err_set(err, ST_ECRYPTO, "vrf: invalid public key");
  if (!secp256k1_ec_pubkey_parse(ctx_static(), &gamma, pi, PT_LEN) || (pi[0] != 0x02 && pi[0] != 0x03))
    return st_err_set(err, ST_ECRYPTO, "vrf: invalid proof: Gamma is not a compressed curve point");
  memcpy(c32 + 16, pi + PT_LEN, C_LEN);
  memcpy(s, pi + PT_LEN + C_LEN, S_LEN);
  if (!secp256k1_ec_seckey_verify(ctx_static(), s))
    return st_err_set(err, ST_ECRYPTO, "vrf: invalid proof: s is zero or not below the curve order");
  point_bytes(&y, ycomp);
  st_code rc = hash_to_curve(ycomp, alpha, alen, &h, err);
  if (rc) return rc;
  int ok = base_mul(s, &sb, NULL) == ST_OK;
  /* U = s*B - c*Y and V = s*H - c*Gamma; a point at infinity means the proof is invalid. */
  if (!ok || !sub(&sb, &y, c32, &u) || !mul(&h, s, &sh) || !sub(&sh, &gamma, c32, &v))
    return st_err_set(err, ST_ECRYPTO, "vrf: proof does not verify");
  const secp256k1_pubkey *pts[4] = {&h, &gamma, &u, &v};
  hash_points(pts, c2);
  if (memcmp(c2, pi + PT_LEN, C_LEN)) return st_err_set(err, ST_ECRYPTO, "vrf: proof does not verify");
  if (beta) gamma_to_hash(pi, beta);
  return ST_OK;
}

st_code st_vrf_verify(const uint8_t *pub, size_t publen, const uint8_t *alpha, size_t alen,
                      const uint8_t pi[ST_VRF_PROOF_LEN], uint8_t beta[ST_VRF_OUTPUT_LEN], st_err *err) {
  return done(verify(pub, publen, alpha, alen, pi, beta, err), NULL, beta);
}
