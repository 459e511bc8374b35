/* st_poseidon: neptune's Poseidon (Grain constants, Cauchy MDS, MerkleTree tag), plain and fast. */
#include "proofs/st_poseidon.h"

#include <blst.h>
#include <pthread.h>
#include <string.h>

#include "core/st_endian.h"
#include "proofs/st_fr.h"

#define MAX_T 17
#define FULL_ROUNDS 8
#define MAX_ROUNDS (FULL_ROUNDS + 59)

typedef struct params {
  unsigned t, rp;
  blst_fr tag;
  blst_fr rc[MAX_ROUNDS][MAX_T];  /* Grain's constants, t per round */
  blst_fr crc[MAX_ROUNDS][MAX_T]; /* folded: a partial round adds crc[r][0] only */
  blst_fr m[MAX_T][MAX_T];        /* the MDS matrix */
  blst_fr pre[MAX_T][MAX_T];      /* the last full round's matrix before the partial rounds */
  blst_fr sp_m00[MAX_ROUNDS];     /* partial round r's sparse matrix: [[m00, v], [w, I]] */
  blst_fr sp_v[MAX_ROUNDS][MAX_T];
  blst_fr sp_w[MAX_ROUNDS][MAX_T];
  unsigned mults;
} params;

static const unsigned ARITIES[] = {2, 4, 8, 11, 16};
static const unsigned PARTIAL_ROUNDS[] = {55, 56, 57, 57, 59};
#define N_ARITIES (sizeof ARITIES / sizeof ARITIES[0])

static params g_params[N_ARITIES];
static int g_ready[N_ARITIES];
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static int slot(unsigned arity) {
  for (unsigned i = 0; i < N_ARITIES; i++)
    if (ARITIES[i] == arity) return (int)i;
  return -1;
}

bool st_poseidon_arity_ok(unsigned arity) { return slot(arity) >= 0; }

static void fr_from_u64(blst_fr *out, uint64_t v) {
  const uint64_t limbs[4] = {v, 0, 0, 0};
  blst_fr_from_uint64(out, limbs);
}

static void fr_from_le(blst_fr *out, const uint8_t in[32]) {
  const uint64_t limbs[4] = {st_le64_get(in), st_le64_get(in + 8), st_le64_get(in + 16), st_le64_get(in + 24)};
  blst_fr_from_uint64(out, limbs);
}

static void fr_to_le(uint8_t out[32], const blst_fr *in) {
  uint64_t limbs[4];
  blst_uint64_from_fr(limbs, in);
  for (int i = 0; i < 4; i++) st_le64_put(out + 8 * i, limbs[i]);
}

static bool fr_is_zero(const blst_fr *a) {
  static const blst_fr zero;
  return memcmp(a, &zero, sizeof zero) == 0;
}

/* ---- the Grain LFSR (neptune round_constants.rs) ---- */

typedef struct grain {
  uint8_t bits[80];
} grain;

static void append_bits(uint8_t *bits, unsigned *n, unsigned count, uint64_t v) {
  for (unsigned i = count; i-- > 0;) bits[(*n)++] = (uint8_t)((v >> i) & 1);
}

static uint8_t grain_step(grain *g) {
  uint8_t b = g->bits[62] ^ g->bits[51] ^ g->bits[38] ^ g->bits[23] ^ g->bits[13] ^ g->bits[0];
  memmove(g->bits, g->bits + 1, 79);
  g->bits[79] = b;
  return b;
}

/* Self-shrinking: of each pair, the second bit is output when the first is 1. */
static uint8_t grain_bit(grain *g) {
  for (;;) {
    uint8_t first = grain_step(g), second = grain_step(g);
    if (first) return second;
  }
}

static void grain_init(grain *g, unsigned t, unsigned rf, unsigned rp) {
  unsigned n = 0;
  append_bits(g->bits, &n, 2, 1);    /* field: prime order */
  append_bits(g->bits, &n, 4, 1);    /* S-box, as neptune writes it (it applies x^5) */
  append_bits(g->bits, &n, 12, 255); /* Fr's bit length */
  append_bits(g->bits, &n, 12, t);
  append_bits(g->bits, &n, 10, rf);
  append_bits(g->bits, &n, 10, rp);
  append_bits(g->bits, &n, 30, 0x3fffffff);
  for (int i = 0; i < 160; i++) grain_step(g);
}

/* The next constant: 255 bits, most significant first, redrawn while >= r. */
static void grain_constant(grain *g, blst_fr *out) {
  for (;;) {
    uint8_t be[32] = {0}, le[32];
    for (int i = 0; i < 255; i++) {
      int pos = i + 1; /* bit 0 of the 256-bit big-endian value is always 0 */
      be[pos / 8] |= (uint8_t)(grain_bit(g) << (7 - pos % 8));
    }
    for (int i = 0; i < 32; i++) le[i] = be[31 - i];
    if (st_fr_is_valid(le)) {
      fr_from_le(out, le);
      return;
    }
  }
}

/* ---- matrices over Fr, n x n, row-major in MAX_T-wide arrays ---- */

static void mat_mul(unsigned n, blst_fr out[MAX_T][MAX_T], const blst_fr a[MAX_T][MAX_T],
                    const blst_fr b[MAX_T][MAX_T]) {
  blst_fr r[MAX_T][MAX_T];
  for (unsigned i = 0; i < n; i++)
    for (unsigned j = 0; j < n; j++) {
      blst_fr acc, p;
      fr_from_u64(&acc, 0);
      for (unsigned k = 0; k < n; k++) {
        blst_fr_mul(&p, &a[i][k], &b[k][j]);
        blst_fr_add(&acc, &acc, &p);
      }
      r[i][j] = acc;
    }
  memcpy(out, r, sizeof r);
}

/* Gauss-Jordan; the Cauchy matrix's square submatrices are all invertible. */
static void mat_inverse(unsigned n, blst_fr out[MAX_T][MAX_T], const blst_fr in[MAX_T][MAX_T]) {
  blst_fr a[MAX_T][MAX_T], inv[MAX_T][MAX_T];
  memcpy(a, in, sizeof a);
  for (unsigned i = 0; i < n; i++)
    for (unsigned j = 0; j < n; j++) fr_from_u64(&inv[i][j], i == j);
  for (unsigned c = 0; c < n; c++) {
    unsigned p = c;
    while (p < n && fr_is_zero(&a[p][c])) p++;
    if (p == n) continue; /* singular: cannot happen for a Cauchy matrix */
    if (p != c)
      for (unsigned j = 0; j < n; j++) {
        blst_fr x = a[c][j];
        a[c][j] = a[p][j];
        a[p][j] = x;
        x = inv[c][j];
        inv[c][j] = inv[p][j];
        inv[p][j] = x;
      }
    blst_fr f;
    blst_fr_inverse(&f, &a[c][c]);
    for (unsigned j = 0; j < n; j++) {
      blst_fr_mul(&a[c][j], &a[c][j], &f);
      blst_fr_mul(&inv[c][j], &inv[c][j], &f);
    }
    for (unsigned r = 0; r < n; r++) {
      if (r == c || fr_is_zero(&a[r][c])) continue;
      blst_fr k = a[r][c], x;
      for (unsigned j = 0; j < n; j++) {
        blst_fr_mul(&x, &k, &a[c][j]);
        blst_fr_sub(&a[r][j], &a[r][j], &x);
        blst_fr_mul(&x, &k, &inv[c][j]);
        blst_fr_sub(&inv[r][j], &inv[r][j], &x);
      }
    }
  }
  memcpy(out, inv, sizeof inv);
}

/* out = m . v (column vector), n elements. */
static void mat_apply(unsigned n, const blst_fr m[MAX_T][MAX_T], blst_fr *v) {
  blst_fr r[MAX_T];
  for (unsigned i = 0; i < n; i++) {
    blst_fr p;
    blst_fr_mul(&r[i], &m[i][0], &v[0]);
    for (unsigned j = 1; j < n; j++) {
      blst_fr_mul(&p, &m[i][j], &v[j]);
      blst_fr_add(&r[i], &r[i], &p);
    }
  }
  memcpy(v, r, n * sizeof *v);
}

/* ---- the constants of one arity ---- */

static void build(params *p, unsigned arity, unsigned rp) {
  memset(p, 0, sizeof *p);
  unsigned t = arity + 1, h = FULL_ROUNDS / 2, rounds = FULL_ROUNDS + rp;
  p->t = t;
  p->rp = rp;
  fr_from_u64(&p->tag, (1ULL << arity) - 1);
  grain g;
  grain_init(&g, t, FULL_ROUNDS, rp);
  for (unsigned r = 0; r < rounds; r++)
    for (unsigned i = 0; i < t; i++) grain_constant(&g, &p->rc[r][i]);
  for (unsigned i = 0; i < t; i++)
    for (unsigned j = 0; j < t; j++) {
      blst_fr x;
      fr_from_u64(&x, i + j + t);
      blst_fr_inverse(&p->m[i][j], &x);
    }

  /* Fold the partial rounds' constants: what round r adds to elements 1.. passes through its
   * S-box unchanged, so it is added after the MDS instead, to round r + 1's constants. */
  memcpy(p->crc, p->rc, sizeof p->crc);
  for (unsigned r = h; r < h + rp; r++) {
    blst_fr rest[MAX_T];
    fr_from_u64(&rest[0], 0);
    for (unsigned i = 1; i < t; i++) rest[i] = p->crc[r][i];
    mat_apply(t, p->m, rest);
    for (unsigned i = 0; i < t; i++) blst_fr_add(&p->crc[r + 1][i], &p->crc[r + 1][i], &rest[i]);
  }

  /* Factor each partial round's matrix A = A'' . A', A' = diag(1, A-hat) and A'' sparse, from
   * the last round back; A' commutes with a round that touches only element 0, so it joins the
   * round before: A(r - 1) = A'(r) . M, and the first one joins the last full round (pre). */
  blst_fr a[MAX_T][MAX_T];
  memcpy(a, p->m, sizeof a);
  for (unsigned r = h + rp; r-- > h;) {
    blst_fr hat[MAX_T][MAX_T] = {0}, hat_inv[MAX_T][MAX_T], ap[MAX_T][MAX_T] = {0};
    for (unsigned i = 1; i < t; i++)
      for (unsigned j = 1; j < t; j++) hat[i - 1][j - 1] = a[i][j];
    mat_inverse(t - 1, hat_inv, hat);
    p->sp_m00[r] = a[0][0];
    for (unsigned i = 1; i < t; i++) p->sp_w[r][i] = a[i][0];
    for (unsigned j = 1; j < t; j++) { /* v = a's row 0 (from column 1) . A-hat^-1 */
      blst_fr acc, x;
      fr_from_u64(&acc, 0);
      for (unsigned k = 1; k < t; k++) {
        blst_fr_mul(&x, &a[0][k], &hat_inv[k - 1][j - 1]);
        blst_fr_add(&acc, &acc, &x);
      }
      p->sp_v[r][j] = acc;
    }
    for (unsigned i = 0; i < t; i++)
      for (unsigned j = 0; j < t; j++) fr_from_u64(&ap[i][j], 0);
    fr_from_u64(&ap[0][0], 1);
    for (unsigned i = 1; i < t; i++)
      for (unsigned j = 1; j < t; j++) ap[i][j] = a[i][j];
    mat_mul(t, a, ap, p->m);
  }
  memcpy(p->pre, a, sizeof a);
  /* in (t - 1) + out 1, full rounds 3t (S-box) + t^2 (MDS) but the last t (one row), partial
   * 3 + (2t - 1) */
  p->mults = t + FULL_ROUNDS * (3 * t + t * t) - (t - 1) * t + rp * (3 + 2 * t - 1);
}

static const params *get(unsigned arity) {
  int s = slot(arity);
  if (s < 0) return NULL;
  if (__atomic_load_n(&g_ready[s], __ATOMIC_ACQUIRE)) return &g_params[s];
  pthread_mutex_lock(&g_lock);
  if (!g_ready[s]) {
    build(&g_params[s], arity, PARTIAL_ROUNDS[s]);
    __atomic_store_n(&g_ready[s], 1, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&g_lock);
  return &g_params[s];
}

unsigned st_poseidon_mults(unsigned arity) {
  const params *p = get(arity);
  return p ? p->mults : 0;
}

/* ---- the permutation ---- */

static inline void quintic(blst_fr *x) {
  blst_fr x2, x4;
  blst_fr_sqr(&x2, x);
  blst_fr_sqr(&x4, &x2);
  blst_fr_mul(x, &x4, x);
}

static void load(const params *p, const uint8_t *in, blst_fr *s) {
  s[0] = p->tag;
  for (unsigned i = 1; i < p->t; i++) fr_from_le(&s[i], in + 32 * (i - 1));
}

static void full_round(const params *p, const blst_fr *c, const blst_fr m[MAX_T][MAX_T], blst_fr *s) {
  for (unsigned i = 0; i < p->t; i++) {
    blst_fr_add(&s[i], &s[i], &c[i]);
    quintic(&s[i]);
  }
  mat_apply(p->t, m, s);
}

void st_poseidon_hash_plain(unsigned arity, const uint8_t *in, uint8_t out[32]) {
  const params *p = get(arity);
  if (!p) {
    memset(out, 0, 32);
    return;
  }
  blst_fr s[MAX_T];
  load(p, in, s);
  unsigned h = FULL_ROUNDS / 2;
  for (unsigned r = 0; r < FULL_ROUNDS + p->rp; r++) {
    if (r >= h && r < h + p->rp) {
      for (unsigned i = 0; i < p->t; i++) blst_fr_add(&s[i], &s[i], &p->rc[r][i]);
      quintic(&s[0]);
      mat_apply(p->t, p->m, s);
    } else {
      full_round(p, p->rc[r], p->m, s);
    }
  }
  fr_to_le(out, &s[1]);
}

void st_poseidon_hash(unsigned arity, const uint8_t *in, uint8_t out[32]) {
  const params *p = get(arity);
  if (!p) {
    memset(out, 0, 32);
    return;
  }
  unsigned t = p->t, h = FULL_ROUNDS / 2;
  blst_fr s[MAX_T];
  load(p, in, s);
  for (unsigned r = 0; r < h; r++) full_round(p, p->crc[r], r + 1 == h ? p->pre : p->m, s);
  for (unsigned r = h; r < h + p->rp; r++) {
    blst_fr_add(&s[0], &s[0], &p->crc[r][0]);
    quintic(&s[0]);
    blst_fr x0 = s[0], x;
    blst_fr_mul(&s[0], &p->sp_m00[r], &x0);
    for (unsigned i = 1; i < t; i++) {
      blst_fr_mul(&x, &p->sp_v[r][i], &s[i]);
      blst_fr_add(&s[0], &s[0], &x);
      blst_fr_mul(&x, &p->sp_w[r][i], &x0);
      blst_fr_add(&s[i], &s[i], &x);
    }
  }
  for (unsigned r = h + p->rp; r + 1 < FULL_ROUNDS + p->rp; r++) full_round(p, p->crc[r], p->m, s);
  /* the last round: only state[1] is output, so only row 1 of the MDS is applied */
  unsigned last = FULL_ROUNDS + p->rp - 1;
  blst_fr y, x;
  for (unsigned i = 0; i < t; i++) {
    blst_fr_add(&s[i], &s[i], &p->crc[last][i]);
    quintic(&s[i]);
    blst_fr_mul(&x, &p->m[1][i], &s[i]);
    if (i) blst_fr_add(&y, &y, &x);
    else y = x;
  }
  fr_to_le(out, &y);
}
