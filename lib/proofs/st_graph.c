/* st_graph: bucket-sampled DRG and Feistel expander parents. */
#include "proofs/st_graph.h"

#include <string.h>

#include "core/st_endian.h"
#include "crypto/st_hash.h"

static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void st_graph_init(st_graph *g, uint64_t nodes, const uint8_t porep_id[32]) {
  memset(g, 0, sizeof *g);
  g->nodes = nodes;
  uint8_t buf[64];
  static const char DRG_TAG[] = "spacetime-sdr-drg-v1";
  static const char EXP_TAG[] = "spacetime-sdr-feistel-v1";
  memcpy(buf, DRG_TAG, sizeof DRG_TAG - 1);
  memcpy(buf + sizeof DRG_TAG - 1, porep_id, 32);
  st_sha256(buf, sizeof DRG_TAG - 1 + 32, g->drg_seed);
  uint8_t k[32];
  memcpy(buf, EXP_TAG, sizeof EXP_TAG - 1);
  memcpy(buf + sizeof EXP_TAG - 1, porep_id, 32);
  st_sha256(buf, sizeof EXP_TAG - 1 + 32, k);
  for (int i = 0; i < 3; i++) g->feistel_keys[i] = st_le64_get(k + 8 * i);
  g->feistel_domain = nodes * ST_EXP_DEGREE;
  unsigned bits = 0;
  while ((1ULL << bits) < g->feistel_domain) bits++;
  g->feistel_half_bits = (bits + 1) / 2;
}

void st_graph_drg_parents(const st_graph *g, uint64_t v, uint64_t out[ST_DRG_DEGREE]) {
  if (v <= 1) {
    for (int i = 0; i < ST_DRG_DEGREE; i++) out[i] = 0;
    return;
  }
  uint8_t buf[40], h[32];
  memcpy(buf, g->drg_seed, 32);
  st_le64_put(buf + 32, v);
  st_sha256(buf, sizeof buf, h);
  uint64_t state = st_le64_get(h) ^ st_le64_get(h + 8) ^ st_le64_get(h + 16) ^ st_le64_get(h + 24);
  const uint64_t m_prime = ST_DRG_DEGREE - 1;
  uint64_t meta = v * m_prime;
  unsigned buckets = 0;
  while ((1ULL << buckets) < meta) buckets++; /* ceil(log2(meta)) */
  for (uint64_t i = 0; i < m_prime; i++) {
    uint64_t bucket = splitmix64(&state) % buckets + 1;
    uint64_t largest = meta < (1ULL << bucket) ? meta : (1ULL << bucket);
    uint64_t smallest = largest >> 1 > 2 ? largest >> 1 : 2;
    uint64_t distance = smallest + splitmix64(&state) % (largest - smallest + 1);
    uint64_t parent = (meta - distance) / m_prime;
    out[i] = parent == v ? v - 1 : parent;
  }
  out[m_prime] = v - 1;
}

static uint64_t feistel(const st_graph *g, uint64_t x) {
  unsigned hb = g->feistel_half_bits;
  uint64_t mask = (1ULL << hb) - 1;
  uint64_t left = x >> hb, right = x & mask;
  for (int r = 0; r < 3; r++) {
    uint64_t s = right ^ g->feistel_keys[r];
    uint64_t f = splitmix64(&s) & mask;
    uint64_t next = left ^ f;
    left = right;
    right = next;
  }
  return (left << hb) | right;
}

void st_graph_exp_parents(const st_graph *g, uint64_t v, uint64_t out[ST_EXP_DEGREE]) {
  for (uint64_t i = 0; i < ST_EXP_DEGREE; i++) {
    uint64_t y = feistel(g, v * ST_EXP_DEGREE + i);
    while (y >= g->feistel_domain) y = feistel(g, y); /* cycle-walk back into the domain */
    out[i] = y / ST_EXP_DEGREE;
  }
}
