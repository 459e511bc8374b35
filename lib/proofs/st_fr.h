/* st_fr: 32-byte little-endian elements of the BLS12-381 scalar field Fr, the values every
 * Filecoin commitment, label and replica node is. Sealing adds the key to the data in Fr
 * (replica = data + key mod r); unsealing subtracts it. Arithmetic is GMP's mpn layer. */
#ifndef ST_FR_H
#define ST_FR_H
#include <stdbool.h>
#include <stdint.h>

/* True if a (little-endian) is less than the field modulus r. */
bool st_fr_is_valid(const uint8_t a[32]);
/* out = a + b mod r; a and b must be valid. out may alias either. */
void st_fr_add(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]);
/* out = a - b mod r; a and b must be valid. out may alias either. */
void st_fr_sub(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]);
/* Clears the top two bits of byte 31, as Filecoin does to SHA-256 outputs ("trunc254") and to
 * randomness before it reaches the prover; the result is always a valid Fr. */
static inline void st_fr_trunc254(uint8_t a[32]) { a[31] &= 0x3f; }

#endif
