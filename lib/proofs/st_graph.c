/* st_graph: rust-fil-proofs' BucketGraph (ChaCha8 bucket sampling) and Feistel expander. */
#include "proofs/st_graph.h"

#include <string.h>

#include "core/st_endian.h"
#include "crypto/st_hash.h"
#include "proofs/st_seal.h"

st_api_version st_api_version_of_seal_proof(int seal_proof) {
  return seal_proof >= 0 && seal_proof <= 4 ? ST_API_V1_0_0 : ST_API_V1_1_0;
}

const char *st_api_version_name(st_api_version api) { return api == ST_API_V1_0_0 ? "V1_0_0" : "V1_1_0"; }

/* ---------------------------------------------------------------- ChaCha8 (by hand: see the header) */

#define ROTL32(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
#define QUARTER(a, b, c, d) \
  do {                      \
    a += b;                 \
    d ^= a;                 \
    d = ROTL32(d, 16);      \
    c += d;                 \
    b ^= c;                 \
    b = ROTL32(b, 12);      \
    a += b;                 \
    d ^= a;                 \
    d = ROTL32(d, 8);       \
    c += d;                 \
    b ^= c;                 \
    b = ROTL32(b, 7);       \
  } while (0)

/* Block counter of the 8-round ChaCha keyed by key (8 LE words), as 16 words. */
static void chacha8_words(const uint32_t key[8], uint64_t counter, uint64_t stream, uint32_t out[16]) {
  uint32_t in[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574}; /* "expand 32-byte k" */
  memcpy(in + 4, key, 32);
  in[12] = (uint32_t)counter;
  in[13] = (uint32_t)(counter >> 32);
  in[14] = (uint32_t)stream;
  in[15] = (uint32_t)(stream >> 32);
  uint32_t x[16];
  memcpy(x, in, sizeof x);
  for (int r = 0; r < 8; r += 2) {
    QUARTER(x[0], x[4], x[8], x[12]);
    QUARTER(x[1], x[5], x[9], x[13]);
    QUARTER(x[2], x[6], x[10], x[14]);
    QUARTER(x[3], x[7], x[11], x[15]);
    QUARTER(x[0], x[5], x[10], x[15]);
    QUARTER(x[1], x[6], x[11], x[12]);
    QUARTER(x[2], x[7], x[8], x[13]);
    QUARTER(x[3], x[4], x[9], x[14]);
  }
  for (int i = 0; i < 16; i++) out[i] = x[i] + in[i];
}

void st_chacha8_block(const uint8_t key[32], uint64_t counter, uint64_t stream, uint8_t out[64]) {
  uint32_t k[8], w[16];
  for (int i = 0; i < 8; i++) k[i] = st_le32_get(key + 4 * i);
  chacha8_words(k, counter, stream, w);
  for (int i = 0; i < 16; i++) st_le32_put(out + 4 * i, w[i]);
}

/* ---------------------------------------------------------------- the graph */

static void domain_seed(const char *tag, const uint8_t porep_id[32], uint8_t out[32]) {
  uint8_t buf[64];
  size_t n = strlen(tag);
  memcpy(buf, tag, n);
  memcpy(buf + n, porep_id, 32);
  st_sha256(buf, n + 32, out);
}

void st_graph_init(st_graph *g, uint64_t nodes, const uint8_t porep_id[32], st_api_version api) {
  memset(g, 0, sizeof *g);
  g->nodes = nodes;
  g->api = api;
  memcpy(g->porep_id, porep_id, 32);
  uint8_t h[32];
  domain_seed("Filecoin_DRSample", porep_id, h);
  memcpy(g->drg_seed, h, sizeof g->drg_seed);
  domain_seed("Filecoin_Feistel", porep_id, h);
  for (int i = 0; i < 4; i++) g->feistel_keys[i] = st_le64_get(h + 8 * i);
  g->feistel_domain = nodes * ST_EXP_DEGREE;
  /* the smallest k >= 1 with 4^k >= 8N */
  unsigned k = 1;
  while ((1ULL << (2 * k)) < g->feistel_domain) k++;
  g->feistel_half_bits = k;
}

void st_graph_init_sector(st_graph *g, const st_sector_info *info) {
  uint8_t porep_id[32];
  st_porep_id(info->seal_proof, porep_id);
  st_graph_init(g, st_sector_nodes(info), porep_id, st_api_version_of_seal_proof(info->seal_proof));
}

void st_graph_drg_parents(const st_graph *g, uint64_t v, uint64_t out[ST_DRG_DEGREE]) {
  if (v <= 1) {
    for (int i = 0; i < ST_DRG_DEGREE; i++) out[i] = 0;
    return;
  }
  /* ChaCha8Rng::from_seed(drg_seed || LE32(v)); 5 parents take 10 u64 = 20 words (two blocks) */
  uint32_t key[8], words[32];
  for (int i = 0; i < 7; i++) key[i] = st_le32_get(g->drg_seed + 4 * i);
  key[7] = (uint32_t)v;
  chacha8_words(key, 0, 0, words);
  chacha8_words(key, 1, 0, words + 16);
  const uint64_t m_prime = ST_DRG_DEGREE - 1;
  uint64_t meta = v * m_prime;
  /* ceil(log2(meta)) as rust-fil-proofs computes it in f64: exact for meta < 2^53 */
  uint64_t buckets = 0;
  while ((1ULL << buckets) < meta) buckets++;
  uint64_t *drawn = g->api == ST_API_V1_0_0 ? out : out + 1;
  for (uint64_t i = 0; i < m_prime; i++) {
    uint64_t r1 = (uint64_t)words[4 * i] | (uint64_t)words[4 * i + 1] << 32;
    uint64_t r2 = (uint64_t)words[4 * i + 2] | (uint64_t)words[4 * i + 3] << 32;
    uint64_t bucket = r1 % buckets + 1;
    uint64_t hi = meta < (1ULL << bucket) ? meta : (1ULL << bucket);
    uint64_t lo = hi >> 1 > 2 ? hi >> 1 : 2;
    uint64_t dist = lo + r2 % (hi - lo + 1);
    uint64_t p = (meta - dist) / m_prime;
    drawn[i] = p == v ? v - 1 : p;
  }
  out[g->api == ST_API_V1_0_0 ? m_prime : 0] = v - 1;
}

/* F(R, K): the first 8 bytes (BE) of BLAKE2b-512(BE64(R) || BE64(K)), masked to the half. */
static uint64_t feistel_round(uint64_t right, uint64_t key, uint64_t mask) {
  uint8_t in[16], h[64];
  st_be64_put(in, right);
  st_be64_put(in + 8, key);
  st_blake2b(h, 64, in, sizeof in);
  uint64_t f = 0;
  for (int i = 0; i < 8; i++) f = f << 8 | h[i];
  return f & mask;
}

static uint64_t feistel_encode(const st_graph *g, uint64_t x) {
  unsigned k = g->feistel_half_bits;
  uint64_t mask = (1ULL << k) - 1;
  uint64_t left = (x >> k) & mask, right = x & mask;
  for (int r = 0; r < 3; r++) {
    uint64_t next = left ^ feistel_round(right, g->feistel_keys[r], mask);
    left = right;
    right = next;
  }
  return left << k | right;
}

void st_graph_exp_parents(const st_graph *g, uint64_t v, uint64_t out[ST_EXP_DEGREE]) {
  for (uint64_t i = 0; i < ST_EXP_DEGREE; i++) {
    uint64_t y = feistel_encode(g, v * ST_EXP_DEGREE + i);
    while (y >= g->feistel_domain) y = feistel_encode(g, y); /* cycle-walk back into the domain */
    /* V1_0_0 truncated the slot to 32 bits before dividing (rust-fil-proofs' graph.rs) */
    out[i] = g->api == ST_API_V1_0_0 ? (uint32_t)y / ST_EXP_DEGREE : y / ST_EXP_DEGREE;
  }
}

void st_graph_parents(const st_graph *g, uint64_t v, uint32_t out[ST_PARENTS]) {
  uint64_t p[ST_PARENTS];
  st_graph_drg_parents(g, v, p);
  st_graph_exp_parents(g, v, p + ST_DRG_DEGREE);
  for (int i = 0; i < ST_PARENTS; i++) out[i] = (uint32_t)p[i];
}
