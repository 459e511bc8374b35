/* st_rand: DrawRandomness. */
#include "chain/st_rand.h"

#include "codec/st_address.h"
#include "codec/st_cbor.h"
#include "codec/st_varint.h"
#include "core/st_endian.h"
#include "crypto/st_hash.h"

void st_draw_randomness(const uint8_t *base, size_t blen, int64_t dst, int64_t round, const uint8_t *entropy,
                        size_t elen, uint8_t out[32]) {
  uint8_t head[8 + 32 + 8];
  st_be64_put(head, (uint64_t)dst);
  st_blake2b_256(base, blen, head + 8);
  st_be64_put(head + 40, (uint64_t)round);
  st_blake2b_ctx ctx;
  st_blake2b_init(&ctx, 32);
  st_blake2b_update(&ctx, head, sizeof head);
  if (elen) st_blake2b_update(&ctx, entropy, elen);
  st_blake2b_final(&ctx, out);
}

void st_rand_entropy_id(uint64_t id, st_buf *out) {
  uint8_t a[1 + ST_UVARINT_MAX] = {ST_ADDR_ID}; /* the ID address, written here: it cannot fail */
  st_cbor_put_bytes(out, a, 1 + st_uvarint_put(id, a + 1));
}

void st_rand_to_fr(uint8_t r[32]) { r[31] &= 0x3f; }
