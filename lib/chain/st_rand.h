/* st_rand: Filecoin's chain randomness (lotus chain/rand/rand.go; filecoin-facts.md 2.3).
 *
 *   DrawRandomness(base, DST, round, entropy)
 *     = blake2b-256(BE_i64(DST) || blake2b-256(base) || BE_i64(round) || entropy)
 *
 * base is a ticket's VRF proof (ticket randomness) or a beacon entry's data (beacon
 * randomness); the domain separation tags are Filecoin's. */
#ifndef ST_RAND_H
#define ST_RAND_H

#include <stddef.h>
#include <stdint.h>

#include "core/st_buf.h"

enum {
  ST_DST_TICKET = 1,
  ST_DST_ELECTION = 2,
  ST_DST_WINNING_POST = 3,
  ST_DST_WINDOW_POST = 4,
  ST_DST_SEAL = 5,
  ST_DST_INTERACTIVE_SEAL = 6,
  ST_DST_DEADLINE_ASSIGNMENT = 7,
  ST_DST_MARKET_CRON = 8,
  ST_DST_POST_CHAIN_COMMIT = 9,
};

void st_draw_randomness(const uint8_t *base, size_t blen, int64_t dst, int64_t round, const uint8_t *entropy,
                        size_t elen, uint8_t out[32]);
/* The usual entropy: actor id's ID address as a CBOR byte string (appended to out). */
void st_rand_entropy_id(uint64_t id, st_buf *out);
/* Randomness handed to the proofs: the top two bits cleared (rand[31] &= 0x3f), so the bytes
 * are a BLS12-381 field element read little-endian, as Lotus does before calling the prover. */
void st_rand_to_fr(uint8_t r[32]);

#endif
