/* st_vrf: ECVRF over secp256k1 with SHA-256 and try-and-increment hashing to the curve.
 *
 * The construction is draft-irtf-cfrg-vrf-06 section 5 with suite byte 0xFE, the same as
 * vechain/go-ecvrf's Secp256k1Sha256Tai, whose published proof is among our tests; the full
 * description is in docs/ecvrf.md. Proofs are 81 bytes: Gamma (33, compressed) || c (16) || s (32).
 * The output beta is SHA-256(0xFE || 0x03 || Gamma), 32 bytes. Built from libsecp256k1's
 * public API (point parsing, tweak-add/mul, combine) and its RFC 6979 nonce function.
 *
 * Every out is initialised on return, success or not (st_err.h): on failure pi and beta (where
 * given; beta may be NULL) are all zero. */
#ifndef ST_VRF_H
#define ST_VRF_H

#include <stddef.h>
#include <stdint.h>

#include "core/st_err.h"

#define ST_VRF_PROOF_LEN 81
#define ST_VRF_OUTPUT_LEN 32

st_code st_vrf_prove(const uint8_t sk[32], const uint8_t *alpha, size_t alen, uint8_t pi[ST_VRF_PROOF_LEN],
                     uint8_t beta[ST_VRF_OUTPUT_LEN], st_err *err);
/* pub is 33 or 65 bytes. On ST_OK, beta (if non-NULL) gets the VRF output. */
st_code st_vrf_verify(const uint8_t *pub, size_t publen, const uint8_t *alpha, size_t alen,
                      const uint8_t pi[ST_VRF_PROOF_LEN], uint8_t beta[ST_VRF_OUTPUT_LEN], st_err *err);
/* The output of a proof, without verifying it. */
st_code st_vrf_proof_to_hash(const uint8_t pi[ST_VRF_PROOF_LEN], uint8_t beta[ST_VRF_OUTPUT_LEN], st_err *err);

#endif
