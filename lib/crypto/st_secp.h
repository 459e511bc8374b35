/* st_secp: secp256k1 keys and Filecoin signatures (libsecp256k1).
 *
 * A Filecoin secp256k1 signature is 65 bytes, r || s || v (v the recovery id 0..3), over
 * BLAKE2b-256 of the signed bytes (for messages, the bytes of the unsigned message's CID). It
 * is verified by recovering the public key and comparing its address with the signer's, as
 * Lotus does. Secret keys are 32 bytes; callers own them and should wipe them with
 * st_secure_zero when done.
 *
 * Every out is initialised on return, success or not (st_err.h): a key, signature, address or
 * random buffer that could not be made is all zero. */
#ifndef ST_SECP_H
#define ST_SECP_H

#include <stddef.h>
#include <stdint.h>

#include "codec/st_address.h"
#include "core/st_err.h"

#define ST_SECP_SECKEY_LEN 32
#define ST_SECP_PUBKEY_LEN 65 /* uncompressed: 0x04 || x || y */
#define ST_SECP_SIG_LEN 65

/* Fills sk with a fresh key from the kernel's random source. */
st_code st_secp_keygen(uint8_t sk[ST_SECP_SECKEY_LEN], st_err *err);
st_code st_secp_seckey_check(const uint8_t sk[ST_SECP_SECKEY_LEN], st_err *err);
st_code st_secp_pubkey(const uint8_t sk[ST_SECP_SECKEY_LEN], uint8_t pub[ST_SECP_PUBKEY_LEN], st_err *err);
/* Accepts a 33-byte compressed or 65-byte uncompressed key and returns the uncompressed form. */
st_code st_secp_pubkey_parse(const uint8_t *in, size_t len, uint8_t pub[ST_SECP_PUBKEY_LEN], st_err *err);
/* The f1/t1 address of a secret key. */
st_code st_secp_address(const uint8_t sk[ST_SECP_SECKEY_LEN], st_address *out, st_err *err);

/* Deterministic (RFC 6979) recoverable signature over blake2b-256(msg). */
st_code st_secp_sign(const uint8_t sk[ST_SECP_SECKEY_LEN], const uint8_t *msg, size_t len, uint8_t sig[ST_SECP_SIG_LEN],
                     st_err *err);
st_code st_secp_recover(const uint8_t sig[ST_SECP_SIG_LEN], const uint8_t *msg, size_t len,
                        uint8_t pub[ST_SECP_PUBKEY_LEN], st_err *err);
/* ST_OK if sig over msg was made by the key behind signer (a secp256k1 address). */
st_code st_secp_verify(const uint8_t sig[ST_SECP_SIG_LEN], const uint8_t *msg, size_t len, const st_address *signer,
                       st_err *err);

/* Reads n bytes from the kernel's CSPRNG. */
st_code st_random_bytes(uint8_t *out, size_t n, st_err *err);
/* Wipes secrets in a way the compiler may not remove. */
void st_secure_zero(void *p, size_t n);

#endif
