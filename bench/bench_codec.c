/* bench_codec: throughput of the chain codec and of the hashes under it, each as a ratio against
 * a baseline timed in the same run (never an absolute threshold).
 *
 * 1. DAG-CBOR encode (st_cbor_put_* into an st_buf) and strict decode (st_cbor_validate, a typed
 *    walk with st_cbor_read_*, and both) of a Filecoin-shaped block: a 16-field BlockHeader and
 *    500 signed messages in one 2-item array, about 100 KB. Baselines: memcpy of the encoded
 *    bytes (the floor for touching every byte once) and BLAKE2b-256 of them (the CID computation
 *    that always follows encoding, through st_blake2b_256 and libb2's raw blake2b()), so a
 *    ratio says how the codec compares with work a block already costs.
 * 2. SHA-256: st_sha256 and the streaming st_sha256_ctx against OpenSSL's one-shot SHA256() on
 *    64-byte inputs (a Merkle node) and 1 MiB inputs. Ratio = our time / SHA256() time.
 * 3. BLAKE2b-256: st_blake2b against libb2's blake2b() on 32 B, 64 B and 1 MiB inputs.
 *
 * Method: each benchmark is calibrated to about 0.2 s a repetition and warmed up; then the
 * benchmarks of a group run 7 repetitions interleaved (so drift hits baseline and candidate
 * alike) and the median time per operation is reported, with (max-min)/median as the spread.
 * Results are folded into a volatile sink so no work can be optimized away.
 *
 * The header's BLS aggregate and block signature are written as [type, bytes] arrays; Lotus
 * writes a signature as one byte string (type byte || bytes), a difference of 2 bytes a block. */
#include <blake2.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codec/st_address.h"
#include "codec/st_cbor.h"
#include "codec/st_cid.h"
#include "core/st_buf.h"
#include "core/st_err.h"
#include "crypto/st_hash.h"

#define REPS 7
#define REP_NS 200e6  /* target length of one repetition */
#define CALIB_NS 20e6 /* calibration doubles the count until a run takes this long */
#define N_MSGS 500
#define N_PARENTS 5
#define MAX_ENTRIES 4 /* beacon entries and winning PoSt proofs the decoder accepts */
#define MIB ((size_t)1 << 20)

static volatile uint64_t sink;

static void die(const char *what) {
  fprintf(stderr, "bench_codec: %s\n", what);
  exit(1);
}

static void *xmalloc(size_t n) {
  void *p = malloc(n);
  if (!p) die("out of memory");
  return p;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t load64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* ---------------------------------------------------------------- deterministic test data */

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t rng(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * UINT64_C(0x2545f4914f6cdd1d);
}

static void fill_random(uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(rng() >> 56);
}

/* ---------------------------------------------------------------- the block */

typedef struct bref {
  const uint8_t *p;
  size_t n;
} bref;

typedef struct beacon_entry {
  uint64_t round;
  bref data;
} beacon_entry;

typedef struct post_proof {
  int64_t type;
  bref proof;
} post_proof;

typedef struct header {
  bref miner;
  bref ticket;
  int64_t win_count;
  bref election_proof;
  size_t n_beacons;
  beacon_entry beacons[MAX_ENTRIES];
  size_t n_posts;
  post_proof posts[MAX_ENTRIES];
  size_t n_parents;
  st_cid parents[N_PARENTS];
  bref parent_weight;
  int64_t height;
  st_cid state_root, receipts, messages;
  uint64_t bls_type;
  bref bls_aggregate;
  uint64_t timestamp;
  uint64_t sig_type;
  bref block_sig;
  uint64_t fork_signaling;
  bref parent_base_fee;
} header;

typedef struct message {
  uint64_t version;
  bref to, from;
  uint64_t nonce;
  bref value;
  int64_t gas_limit;
  bref gas_fee_cap, gas_premium;
  uint64_t method;
  bref params;
  bref sig; /* signed message's signature: type byte || data */
} message;

typedef struct block {
  header h;
  size_t n_msgs;
  message *msgs; /* room for N_MSGS */
} block;

/* A bump allocator holding every payload the generated block points into. */
typedef struct arena {
  uint8_t *p;
  size_t used, cap;
} arena;

static uint8_t *arena_get(arena *a, size_t n) {
  if (n > a->cap - a->used) die("arena too small");
  uint8_t *p = a->p + a->used;
  a->used += n;
  return p;
}

static bref random_bytes(arena *a, size_t n) {
  uint8_t *p = arena_get(a, n);
  fill_random(p, n);
  return (bref){p, n};
}

/* A positive big integer as Filecoin writes it: 0x00, then a big-endian magnitude of n bytes
 * with a nonzero first byte (the canonical form). */
static bref random_bigint(arena *a, size_t n) {
  uint8_t *p = arena_get(a, n + 1);
  p[0] = 0x00;
  fill_random(p + 1, n);
  p[1] |= 0x01;
  return (bref){p, n + 1};
}

static bref copy_address(arena *a, const st_address *addr) {
  uint8_t *p = arena_get(a, addr->len);
  memcpy(p, addr->bytes, addr->len);
  return (bref){p, addr->len};
}

static bref random_secp_address(arena *a) {
  uint8_t pub[65];
  pub[0] = 0x04;
  fill_random(pub + 1, 64);
  st_address addr;
  st_address_from_secp256k1_pubkey(pub, &addr);
  return copy_address(a, &addr);
}

static void random_cid(st_cid *c) {
  uint8_t obj[64];
  fill_random(obj, sizeof obj);
  st_cid_of_cbor(obj, sizeof obj, c);
}

static void make_block(arena *a, block *b) {
  header *h = &b->h;
  st_address miner;
  if (st_address_from_id(1234, &miner, NULL)) die("st_address_from_id failed");
  h->miner = copy_address(a, &miner);
  h->ticket = random_bytes(a, 81);
  h->win_count = 1;
  h->election_proof = random_bytes(a, 81);
  h->n_beacons = 1;
  h->beacons[0] = (beacon_entry){4500123, random_bytes(a, 96)};
  h->n_posts = 1;
  h->posts[0] = (post_proof){3, random_bytes(a, 192)};
  h->n_parents = N_PARENTS;
  for (size_t i = 0; i < N_PARENTS; i++) random_cid(&h->parents[i]);
  h->parent_weight = random_bigint(a, 8);
  h->height = 3400000;
  random_cid(&h->state_root);
  random_cid(&h->receipts);
  random_cid(&h->messages);
  h->bls_type = 2;
  h->bls_aggregate = random_bytes(a, 96);
  h->timestamp = 1764032400;
  h->sig_type = 1;
  h->block_sig = random_bytes(a, 65);
  h->fork_signaling = 0;
  h->parent_base_fee = random_bigint(a, 3);

  b->n_msgs = N_MSGS;
  for (size_t i = 0; i < N_MSGS; i++) {
    message *m = &b->msgs[i];
    m->version = 0;
    m->to = random_secp_address(a);
    m->from = random_secp_address(a);
    m->nonce = 1000 + rng() % 100000;
    m->value = random_bigint(a, 8);
    m->gas_limit = (int64_t)(1000000 + rng() % 60000000);
    m->gas_fee_cap = random_bigint(a, 4);
    m->gas_premium = random_bigint(a, 3);
    m->method = rng() % 30;
    m->params = random_bytes(a, 36 + rng() % 9); /* 36..44 bytes, about 40 */
    uint8_t *sig = arena_get(a, 66);
    sig[0] = 0x01; /* secp256k1 */
    fill_random(sig + 1, 65);
    m->sig = (bref){sig, 66};
  }
}

/* ---------------------------------------------------------------- encode */

static void put_bref(st_buf *b, bref r) { st_cbor_put_bytes(b, r.p, r.n); }

static void put_header(st_buf *b, const header *h) {
  st_cbor_put_array(b, 16);
  put_bref(b, h->miner);
  st_cbor_put_array(b, 1);
  put_bref(b, h->ticket);
  st_cbor_put_array(b, 2);
  st_cbor_put_int(b, h->win_count);
  put_bref(b, h->election_proof);
  st_cbor_put_array(b, h->n_beacons);
  for (size_t i = 0; i < h->n_beacons; i++) {
    st_cbor_put_array(b, 2);
    st_cbor_put_uint(b, h->beacons[i].round);
    put_bref(b, h->beacons[i].data);
  }
  st_cbor_put_array(b, h->n_posts);
  for (size_t i = 0; i < h->n_posts; i++) {
    st_cbor_put_array(b, 2);
    st_cbor_put_int(b, h->posts[i].type);
    put_bref(b, h->posts[i].proof);
  }
  st_cbor_put_array(b, h->n_parents);
  for (size_t i = 0; i < h->n_parents; i++) st_cbor_put_cid(b, &h->parents[i]);
  put_bref(b, h->parent_weight);
  st_cbor_put_int(b, h->height);
  st_cbor_put_cid(b, &h->state_root);
  st_cbor_put_cid(b, &h->receipts);
  st_cbor_put_cid(b, &h->messages);
  st_cbor_put_array(b, 2);
  st_cbor_put_uint(b, h->bls_type);
  put_bref(b, h->bls_aggregate);
  st_cbor_put_uint(b, h->timestamp);
  st_cbor_put_array(b, 2);
  st_cbor_put_uint(b, h->sig_type);
  put_bref(b, h->block_sig);
  st_cbor_put_uint(b, h->fork_signaling);
  put_bref(b, h->parent_base_fee);
}

static void put_message(st_buf *b, const message *m) {
  st_cbor_put_array(b, 2);
  st_cbor_put_array(b, 10);
  st_cbor_put_uint(b, m->version);
  put_bref(b, m->to);
  put_bref(b, m->from);
  st_cbor_put_uint(b, m->nonce);
  put_bref(b, m->value);
  st_cbor_put_int(b, m->gas_limit);
  put_bref(b, m->gas_fee_cap);
  put_bref(b, m->gas_premium);
  st_cbor_put_uint(b, m->method);
  put_bref(b, m->params);
  put_bref(b, m->sig);
}

static void put_block(st_buf *b, const block *blk) {
  st_cbor_put_array(b, 2);
  put_header(b, &blk->h);
  st_cbor_put_array(b, blk->n_msgs);
  for (size_t i = 0; i < blk->n_msgs; i++) put_message(b, &blk->msgs[i]);
}

/* ---------------------------------------------------------------- typed decode */

#define TRY(expr)                 \
  do {                            \
    st_code rc_ = (expr);         \
    if (rc_ != ST_OK) return rc_; \
  } while (0)

static st_code read_bref(st_cbor_reader *r, bref *out) { return st_cbor_read_bytes(r, &out->p, &out->n); }

static st_code read_count(st_cbor_reader *r, size_t max, size_t *n, const char *what) {
  uint64_t v;
  size_t off = r->off;
  TRY(st_cbor_read_array(r, &v));
  if (v > max)
    return st_err_set(r->err, ST_EINVAL, "%s at offset %zu: %llu items, at most %zu here", what, off,
                      (unsigned long long)v, max);
  *n = (size_t)v;
  return ST_OK;
}

static st_code read_header(st_cbor_reader *r, header *h) {
  TRY(st_cbor_expect_array(r, 16, "BlockHeader"));
  TRY(read_bref(r, &h->miner));
  TRY(st_cbor_expect_array(r, 1, "Ticket"));
  TRY(read_bref(r, &h->ticket));
  TRY(st_cbor_expect_array(r, 2, "ElectionProof"));
  TRY(st_cbor_read_int(r, &h->win_count));
  TRY(read_bref(r, &h->election_proof));
  TRY(read_count(r, MAX_ENTRIES, &h->n_beacons, "BeaconEntries"));
  for (size_t i = 0; i < h->n_beacons; i++) {
    TRY(st_cbor_expect_array(r, 2, "BeaconEntry"));
    TRY(st_cbor_read_uint(r, &h->beacons[i].round));
    TRY(read_bref(r, &h->beacons[i].data));
  }
  TRY(read_count(r, MAX_ENTRIES, &h->n_posts, "WinPoStProof"));
  for (size_t i = 0; i < h->n_posts; i++) {
    TRY(st_cbor_expect_array(r, 2, "PoStProof"));
    TRY(st_cbor_read_int(r, &h->posts[i].type));
    TRY(read_bref(r, &h->posts[i].proof));
  }
  TRY(read_count(r, N_PARENTS, &h->n_parents, "Parents"));
  for (size_t i = 0; i < h->n_parents; i++) TRY(st_cbor_read_cid(r, &h->parents[i]));
  TRY(read_bref(r, &h->parent_weight));
  TRY(st_cbor_read_int(r, &h->height));
  TRY(st_cbor_read_cid(r, &h->state_root));
  TRY(st_cbor_read_cid(r, &h->receipts));
  TRY(st_cbor_read_cid(r, &h->messages));
  TRY(st_cbor_expect_array(r, 2, "BLSAggregate"));
  TRY(st_cbor_read_uint(r, &h->bls_type));
  TRY(read_bref(r, &h->bls_aggregate));
  TRY(st_cbor_read_uint(r, &h->timestamp));
  TRY(st_cbor_expect_array(r, 2, "BlockSig"));
  TRY(st_cbor_read_uint(r, &h->sig_type));
  TRY(read_bref(r, &h->block_sig));
  TRY(st_cbor_read_uint(r, &h->fork_signaling));
  TRY(read_bref(r, &h->parent_base_fee));
  return ST_OK;
}

static st_code read_message(st_cbor_reader *r, message *m) {
  TRY(st_cbor_expect_array(r, 2, "SignedMessage"));
  TRY(st_cbor_expect_array(r, 10, "Message"));
  TRY(st_cbor_read_uint(r, &m->version));
  TRY(read_bref(r, &m->to));
  TRY(read_bref(r, &m->from));
  TRY(st_cbor_read_uint(r, &m->nonce));
  TRY(read_bref(r, &m->value));
  TRY(st_cbor_read_int(r, &m->gas_limit));
  TRY(read_bref(r, &m->gas_fee_cap));
  TRY(read_bref(r, &m->gas_premium));
  TRY(st_cbor_read_uint(r, &m->method));
  TRY(read_bref(r, &m->params));
  TRY(read_bref(r, &m->sig));
  return ST_OK;
}

/* out->msgs must have room for N_MSGS messages. */
static st_code read_block(const uint8_t *buf, size_t len, block *out, st_err *err) {
  st_cbor_reader r;
  st_cbor_reader_init(&r, buf, len, err);
  TRY(st_cbor_expect_array(&r, 2, "Block"));
  TRY(read_header(&r, &out->h));
  TRY(read_count(&r, N_MSGS, &out->n_msgs, "Messages"));
  for (size_t i = 0; i < out->n_msgs; i++) TRY(read_message(&r, &out->msgs[i]));
  return st_cbor_finish(&r);
}

/* ---------------------------------------------------------------- benchmark operations */

typedef struct codec_ctx {
  const block *blk;   /* what encode writes */
  const uint8_t *enc; /* its encoding */
  size_t len;
  uint8_t *dst; /* memcpy target */
  st_buf out;   /* encode buffer, reused across operations */
  block dec;    /* typed-walk output */
} codec_ctx;

static void op_memcpy(void *vc, uint64_t iters) {
  codec_ctx *c = vc;
  uint64_t acc = 0;
  for (uint64_t i = 0; i < iters; i++) {
    memcpy(c->dst, c->enc, c->len);
    __asm__ __volatile__("" : : "r"(c->dst) : "memory"); /* the copy must happen */
    acc ^= c->dst[i % c->len];
  }
  sink ^= acc;
}

static void op_encode(void *vc, uint64_t iters) {
  codec_ctx *c = vc;
  uint64_t acc = 0;
  for (uint64_t i = 0; i < iters; i++) {
    st_buf_reset(&c->out);
    put_block(&c->out, c->blk);
    acc ^= c->out.len ^ c->out.data[c->out.len - 1];
  }
  if (st_buf_status(&c->out, NULL)) die("encode ran out of memory");
  sink ^= acc;
}

static void op_encode_fresh(void *vc, uint64_t iters) {
  const codec_ctx *c = vc;
  uint64_t acc = 0;
  for (uint64_t i = 0; i < iters; i++) {
    st_buf b = ST_BUF_INIT;
    put_block(&b, c->blk);
    if (st_buf_status(&b, NULL)) die("encode ran out of memory");
    acc ^= b.len ^ b.data[b.len - 1];
    st_buf_free(&b);
  }
  sink ^= acc;
}

static void op_validate(void *vc, uint64_t iters) {
  const codec_ctx *c = vc;
  st_err err;
  for (uint64_t i = 0; i < iters; i++)
    if (st_cbor_validate(c->enc, c->len, 0, 0, &err)) die(err.msg);
  sink ^= iters;
}

static void op_walk(void *vc, uint64_t iters) {
  codec_ctx *c = vc;
  st_err err;
  uint64_t acc = 0;
  for (uint64_t i = 0; i < iters; i++) {
    if (read_block(c->enc, c->len, &c->dec, &err)) die(err.msg);
    acc ^= c->dec.msgs[N_MSGS - 1].nonce;
  }
  sink ^= acc;
}

static void op_validate_walk(void *vc, uint64_t iters) {
  codec_ctx *c = vc;
  st_err err;
  uint64_t acc = 0;
  for (uint64_t i = 0; i < iters; i++) {
    if (st_cbor_validate(c->enc, c->len, 0, 0, &err)) die(err.msg);
    if (read_block(c->enc, c->len, &c->dec, &err)) die(err.msg);
    acc ^= c->dec.msgs[N_MSGS - 1].nonce;
  }
  sink ^= acc;
}

typedef struct hash_ctx {
  const uint8_t *in;
  size_t len;
  st_sha256_ctx sha;
} hash_ctx;

/* A benchmark that hashes its hash_ctx's input iters times with call, into d (32 bytes), and
 * folds each digest into the sink: the loop every digest operation shares, written once. A
 * macro, not a function pointer, so that each operation is timed without an indirect call. */
#define DIGEST_OP(name, call)                  \
  static void name(void *vc, uint64_t iters) { \
    hash_ctx *c = vc;                          \
    uint8_t d[32];                             \
    uint64_t acc = 0;                          \
    for (uint64_t i = 0; i < iters; i++) {     \
      call;                                    \
      acc ^= load64(d);                        \
    }                                          \
    sink ^= acc;                               \
  }

DIGEST_OP(op_sha256_raw, if (!SHA256(c->in, c->len, d)) die("SHA256 failed"))
DIGEST_OP(op_st_sha256, st_sha256(c->in, c->len, d))
/* st_sha256_final also resets the context */
DIGEST_OP(op_st_sha256_ctx, st_sha256_update(&c->sha, c->in, c->len); st_sha256_final(&c->sha, d))
DIGEST_OP(op_blake2b_raw, if (blake2b(d, c->in, NULL, 32, c->len, 0) != 0) die("blake2b failed"))
DIGEST_OP(op_st_blake2b, st_blake2b(d, 32, c->in, c->len))
DIGEST_OP(op_st_blake2b_256, st_blake2b_256(c->in, c->len, d))

/* ---------------------------------------------------------------- timing */

typedef void (*bench_fn)(void *ctx, uint64_t iters);

typedef struct bench {
  const char *name;
  bench_fn fn;
  void *ctx;
  size_t bytes;   /* input bytes per operation */
  uint64_t iters; /* operations per repetition */
  double ns[REPS];
  double med, lo, hi; /* ns per operation */
} bench;

static double time_run(const bench *b, uint64_t iters) {
  double t0 = now_ns();
  b->fn(b->ctx, iters);
  return now_ns() - t0;
}

static void calibrate(bench *b) {
  uint64_t n = 1;
  double t;
  for (;;) {
    t = time_run(b, n);
    if (t >= CALIB_NS || n >= (UINT64_C(1) << 40)) break;
    n *= 2;
  }
  double want = REP_NS / (t > 1 ? t : 1) * (double)n;
  b->iters = want < 1 ? 1 : (uint64_t)want;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Calibrates and warms up each benchmark, then runs REPS interleaved repetitions of all. */
static void run_group(bench *bs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    calibrate(&bs[i]);
    time_run(&bs[i], bs[i].iters); /* warm-up */
  }
  for (int r = 0; r < REPS; r++)
    for (size_t i = 0; i < n; i++) bs[i].ns[r] = time_run(&bs[i], bs[i].iters) / (double)bs[i].iters;
  for (size_t i = 0; i < n; i++) {
    double s[REPS];
    memcpy(s, bs[i].ns, sizeof s);
    qsort(s, REPS, sizeof s[0], cmp_double);
    bs[i].med = s[REPS / 2];
    bs[i].lo = s[0];
    bs[i].hi = s[REPS - 1];
  }
}

/* Every benchmark of a group gets bytes of input per operation, and ctx where it has none. */
static void set_input(bench *bs, size_t n, void *ctx, size_t bytes) {
  for (size_t i = 0; i < n; i++) {
    if (!bs[i].ctx) bs[i].ctx = ctx;
    bs[i].bytes = bytes;
  }
}

static double mb_per_s(const bench *b) { return (double)b->bytes / b->med * 1e3; } /* MB = 10^6 bytes */
static double spread_pct(const bench *b) { return (b->hi - b->lo) / b->med * 100.0; }

static void fmt_size(char *out, size_t cap, size_t n) {
  if (n >= MIB && n % MIB == 0) snprintf(out, cap, "%zu MiB", n / MIB);
  else snprintf(out, cap, "%zu B", n);
}

/* ---------------------------------------------------------------- machine */

static void cpu_model(char *out, size_t cap) {
  snprintf(out, cap, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) != 0) continue;
    const char *v = strchr(line, ':');
    if (!v) break;
    v++;
    while (*v == ' ' || *v == '\t') v++;
    snprintf(out, cap, "%s", v);
    out[strcspn(out, "\n")] = 0;
    break;
  }
  fclose(f);
}

static void print_machine(void) {
  char cpu[256], date[64];
  cpu_model(cpu, sizeof cpu);
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &tm);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  double ram = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) / (double)(1u << 30);
  printf("bench_codec  %s\n", date);
  printf("machine: %s, %ld cores, %.1f GiB RAM\n", cpu, cores, ram);
#ifdef __clang__
  const char *cc = "clang " __clang_version__;
#else
  const char *cc = "gcc " __VERSION__;
#endif
  printf("libs: %s, libb2; compiler: %s\n", OpenSSL_version(OPENSSL_VERSION), cc);
  printf(
      "method: median of %d interleaved repetitions of ~%.1f s each after warm-up; "
      "MB = 10^6 bytes; ratio = time / baseline time (< 1 is faster)\n",
      REPS, REP_NS / 1e9);
}

/* ---------------------------------------------------------------- main */

static void bench_codec(void) {
  arena a = {xmalloc(512 * 1024), 0, 512 * 1024};
  block blk = {.msgs = xmalloc(N_MSGS * sizeof(message))};
  make_block(&a, &blk);

  st_buf enc = ST_BUF_INIT;
  put_block(&enc, &blk);
  st_err err;
  if (st_buf_status(&enc, &err)) die(err.msg);

  /* Correctness before speed: the encoding validates, the typed walk reads it back, and
   * re-encoding what the walk read gives the same bytes. */
  codec_ctx c = {.blk = &blk, .enc = enc.data, .len = enc.len, .dst = xmalloc(enc.len), .out = ST_BUF_INIT};
  c.dec.msgs = xmalloc(N_MSGS * sizeof(message));
  if (st_cbor_validate(enc.data, enc.len, 0, 0, &err)) die(err.msg);
  if (read_block(enc.data, enc.len, &c.dec, &err)) die(err.msg);
  st_buf again = ST_BUF_INIT;
  put_block(&again, &c.dec);
  if (again.len != enc.len || memcmp(again.data, enc.data, enc.len) != 0) die("typed walk does not round-trip");
  st_buf_free(&again);

  st_cid cid;
  char cid_str[ST_CID_STR_MAX];
  st_cid_of_cbor(enc.data, enc.len, &cid);
  st_cid_to_string(&cid, cid_str);
  printf("\n### CBOR block: header + %d signed messages, %zu bytes, %s\n\n", N_MSGS, enc.len, cid_str);

  hash_ctx h = {.in = enc.data, .len = enc.len};
  bench bs[] = {
      {.name = "memcpy (baseline)", .fn = op_memcpy},
      {.name = "blake2b() 256, raw libb2 (baseline)", .fn = op_blake2b_raw, .ctx = &h},
      {.name = "st_blake2b_256", .fn = op_st_blake2b_256, .ctx = &h},
      {.name = "encode (st_cbor_put_*, reused st_buf)", .fn = op_encode},
      {.name = "encode (st_cbor_put_*, fresh st_buf)", .fn = op_encode_fresh},
      {.name = "decode: st_cbor_validate", .fn = op_validate},
      {.name = "decode: typed walk (st_cbor_read_*)", .fn = op_walk},
      {.name = "decode: validate + typed walk", .fn = op_validate_walk},
  };
  size_t n = sizeof bs / sizeof bs[0];
  set_input(bs, n, &c, enc.len);
  run_group(bs, n);

  const bench *base_copy = &bs[0], *base_hash = &bs[1];
  printf("| operation | bytes | median ns/op | MB/s | x memcpy | x blake2b-256 | spread |\n");
  printf("|---|--:|--:|--:|--:|--:|--:|\n");
  for (size_t i = 0; i < n; i++)
    printf("| %s | %zu | %.0f | %.0f | %.2f | %.2f | %.1f%% |\n", bs[i].name, bs[i].bytes, bs[i].med, mb_per_s(&bs[i]),
           bs[i].med / base_copy->med, bs[i].med / base_hash->med, spread_pct(&bs[i]));

  st_buf_free(&c.out);
  st_buf_free(&enc);
  free(c.dst);
  free(c.dec.msgs);
  free(blk.msgs);
  free(a.p);
}

/* One comparison: the baseline first, then the candidates, all on h's input. */
static void hash_rows(bench *bs, size_t n, hash_ctx *h) {
  set_input(bs, n, h, h->len);
  run_group(bs, n);
  for (size_t i = 0; i < n; i++) {
    char size[32];
    fmt_size(size, sizeof size, bs[i].bytes);
    printf("| %s | %s | %.1f | %.0f | %.2f | %.1f%% |\n", bs[i].name, size, bs[i].med, mb_per_s(&bs[i]),
           bs[i].med / bs[0].med, spread_pct(&bs[i]));
  }
  fflush(stdout);
}

static void bench_hashes(void) {
  uint8_t *big = xmalloc(MIB);
  fill_random(big, MIB);
  printf("\n### Hashes (ratio against the raw library call on the same input)\n\n");
  printf("| function | input | median ns/op | MB/s | x raw | spread |\n");
  printf("|---|--:|--:|--:|--:|--:|\n");

  static const size_t sha_sizes[] = {64, MIB};
  for (size_t k = 0; k < sizeof sha_sizes / sizeof sha_sizes[0]; k++) {
    hash_ctx h = {.in = big, .len = sha_sizes[k]};
    st_err err;
    if (st_sha256_init(&h.sha, &err)) die(err.msg);
    bench bs[] = {
        {.name = "SHA256() one-shot, OpenSSL (baseline)", .fn = op_sha256_raw},
        {.name = "st_sha256", .fn = op_st_sha256},
        {.name = "st_sha256_ctx update+final", .fn = op_st_sha256_ctx},
    };
    hash_rows(bs, 3, &h);
    st_sha256_free(&h.sha);
  }

  static const size_t b2_sizes[] = {32, 64, MIB};
  for (size_t k = 0; k < sizeof b2_sizes / sizeof b2_sizes[0]; k++) {
    hash_ctx h = {.in = big, .len = b2_sizes[k]};
    bench bs[] = {
        {.name = "blake2b() 256, raw libb2 (baseline)", .fn = op_blake2b_raw},
        {.name = "st_blake2b (outlen 32)", .fn = op_st_blake2b},
    };
    hash_rows(bs, 2, &h);
  }
  free(big);
}

int main(void) {
  double t0 = now_ns();
  print_machine();
  fflush(stdout);
  bench_codec();
  fflush(stdout);
  bench_hashes();
  printf("\ntotal %.1f s\n", (now_ns() - t0) / 1e9);
  return 0;
}
