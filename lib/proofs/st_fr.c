/* st_fr: Fr add/sub/compare on four 64-bit limbs with GMP's mpn functions. */
#include "proofs/st_fr.h"

#include <gmp.h>

_Static_assert(GMP_NUMB_BITS == 64, "st_fr assumes 64-bit GMP limbs without nails");

/* r = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001, least limb first. */
static const mp_limb_t R[4] = {0xffffffff00000001ULL, 0x53bda402fffe5bfeULL, 0x3339d80809a1d805ULL,
                               0x73eda753299d7d48ULL};

static void load(mp_limb_t out[4], const uint8_t a[32]) {
  for (int i = 0; i < 4; i++) {
    mp_limb_t v = 0;
    for (int j = 7; j >= 0; j--) v = (v << 8) | a[i * 8 + j];
    out[i] = v;
  }
}

static void store(uint8_t out[32], const mp_limb_t v[4]) {
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 8; j++) out[i * 8 + j] = (uint8_t)(v[i] >> (8 * j));
}

bool st_fr_is_valid(const uint8_t a[32]) {
  mp_limb_t x[4];
  load(x, a);
  return mpn_cmp(x, R, 4) < 0;
}

void st_fr_add(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]) {
  mp_limb_t x[4], y[4], s[4];
  load(x, a);
  load(y, b);
  /* r < 2^255, so a + b < 2^256 never carries out of four limbs. */
  mpn_add_n(s, x, y, 4);
  if (mpn_cmp(s, R, 4) >= 0) mpn_sub_n(s, s, R, 4);
  store(out, s);
}

void st_fr_sub(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]) {
  mp_limb_t x[4], y[4], d[4];
  load(x, a);
  load(y, b);
  if (mpn_sub_n(d, x, y, 4)) mpn_add_n(d, d, R, 4);
  store(out, d);
}
