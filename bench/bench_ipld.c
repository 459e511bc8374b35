/* bench_ipld: what a change costs as the state grows (issue 24), with st_hamt and st_amt against
 * the flat forms the chain uses today, timed in the same run at each size.
 *
 * 1. The state tree with N actors (N = 1,000, 10,000, 100,000). One tipset's change: load the
 *    tree from its root, update 10 actors, write it back and get the new root.
 *      flat: st_state_decode of the stored list, 10 balance changes, st_state_root (today's path)
 *      HAMT: st_hamt_load, 10 st_hamt_set of an actor record keyed by its ID address, flush
 *    A key-address lookup from a loaded tree:
 *      flat: st_state_lookup, a scan of the robust addresses
 *      HAMT: the init actor's address map (key address -> ID) then the state tree (ID -> actor),
 *            both loaded cold from their roots, as Filecoin resolves it
 * 2. A miner with N sectors. One sector's change (a fault, an extension): load, change, write.
 *      flat: st_miner_state_decode of the whole state, one field, st_miner_state_encode (today)
 *      AMT:  st_amt_load of the sectors AMT (bitwidth 5, as actors v9+), one st_amt_set, flush
 * Each line prints the median time of 7 repetitions (each a batch of operations, after a warm-up),
 * the bytes written per change, and the HAMT/AMT time over the flat one. The stores are
 * st_memstore (memory): LMDB's costs come on top of both forms alike.
 *
 * Usage: bench_ipld [MAX_N] (default 100000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/st_miner_state.h"
#include "chain/st_state.h"
#include "codec/st_amt.h"
#include "codec/st_blockstore.h"
#include "codec/st_cbor.h"
#include "codec/st_hamt.h"
#include "codec/st_token.h"

#define REPS 7
#define CHANGED 10 /* actors a tipset changes */

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const st_err *err) {
  fprintf(stderr, "bench_ipld: %s: %s\n", what, err->msg);
  exit(1);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median over REPS of fn run `ops` times (after one warm-up run), in seconds per op. */
typedef void (*op_fn)(void *ctx, uint64_t i);
static double median_per_op(op_fn fn, void *ctx, uint64_t ops) {
  double t[REPS];
  uint64_t k = 0;
  for (uint64_t i = 0; i < ops; i++) fn(ctx, k++);
  for (int r = 0; r < REPS; r++) {
    double t0 = now_s();
    for (uint64_t i = 0; i < ops; i++) fn(ctx, k++);
    t[r] = (now_s() - t0) / (double)ops;
  }
  qsort(t, REPS, sizeof t[0], cmp_double);
  return t[REPS / 2];
}

static uint64_t rnd(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* An actor record as Filecoin's state tree holds it: [code, head, nonce, balance]. */
static void actor_record(uint64_t id, uint64_t nonce, st_buf *out) {
  st_cid code, head;
  st_actor_code(ST_ACTOR_ACCOUNT, &code);
  st_cid_of_cbor(&id, sizeof id, &head);
  st_buf_reset(out);
  st_cbor_put_array(out, 4);
  st_cbor_put_cid(out, &code);
  st_cbor_put_cid(out, &head);
  st_cbor_put_uint(out, nonce);
  mpz_t bal;
  mpz_init_set_ui(bal, 1000000000 + nonce);
  st_cbor_put_bigint(out, bal);
  mpz_clear(bal);
}

static void robust_of(uint64_t id, st_address *a) {
  uint8_t pub[65] = {4};
  memcpy(pub + 1, &id, sizeof id);
  st_address_from_secp256k1_pubkey(pub, a);
}

typedef struct tree_fx {
  uint64_t n, rng;
  st_memstore *ms;
  st_blockstore bs;
  st_cid actors, addresses; /* HAMT roots */
  st_buf flat;              /* the flat state's encoding */
  st_state loaded;          /* the flat state, decoded once (lookups) */
} tree_fx;

static void tree_build(tree_fx *f, uint64_t n) {
  st_err err;
  memset(f, 0, sizeof *f);
  f->n = n;
  f->rng = 88172645463325252ull;
  if (st_memstore_new(&f->ms, &err)) die("memstore", &err);
  f->bs = st_memstore_view(f->ms);
  st_state st;
  st_state_init(&st);
  st_hamt *actors, *addrs;
  if (st_hamt_new(f->bs, 5, &actors, &err) || st_hamt_new(f->bs, 5, &addrs, &err)) die("hamt", &err);
  st_buf rec = ST_BUF_INIT, idkey = ST_BUF_INIT;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t id = ST_ID_FIRST_NEW + i;
    st_address robust, ida;
    robust_of(id, &robust);
    st_state_actor *a;
    if (st_state_create(&st, id, ST_ACTOR_ACCOUNT, &robust, &a, &err)) die("state", &err);
    mpz_set_ui(a->balance, 1000000000);
    st_address_from_id(id, &ida, NULL);
    actor_record(id, 0, &rec);
    if (st_hamt_set(actors, ida.bytes, ida.len, rec.data, rec.len, &err)) die("hamt set", &err);
    st_buf_reset(&idkey);
    st_cbor_put_uint(&idkey, id);
    if (st_hamt_set(addrs, robust.bytes, robust.len, idkey.data, idkey.len, &err)) die("hamt set", &err);
  }
  if (st_hamt_flush(actors, &f->actors, &err) || st_hamt_flush(addrs, &f->addresses, &err)) die("flush", &err);
  st_hamt_free(actors);
  st_hamt_free(addrs);
  st_cid root;
  st_state_root(&st, &f->flat, &root);
  st_state_init(&f->loaded);
  if (st_state_copy(&f->loaded, &st, &err)) die("copy", &err);
  st_state_clear(&st);
  st_buf_free(&rec);
  st_buf_free(&idkey);
}

static void tree_free(tree_fx *f) {
  st_memstore_free(f->ms);
  st_buf_free(&f->flat);
  st_state_clear(&f->loaded);
}

static void flat_tipset(void *ctx, uint64_t k) {
  tree_fx *f = ctx;
  st_state st;
  st_state_init(&st);
  st_err err;
  if (st_state_decode(f->flat.data, f->flat.len, &st, &err)) die("decode", &err);
  for (int j = 0; j < CHANGED; j++) {
    st_state_actor *a = st_state_get(&st, ST_ID_FIRST_NEW + rnd(&f->rng) % f->n);
    mpz_add_ui(a->balance, a->balance, k + 1);
  }
  st_buf blob = ST_BUF_INIT;
  st_cid root;
  st_state_root(&st, &blob, &root);
  st_buf_free(&blob);
  st_state_clear(&st);
}

static void hamt_tipset(void *ctx, uint64_t k) {
  tree_fx *f = ctx;
  st_err err;
  st_hamt *h;
  if (st_hamt_load(f->bs, &f->actors, 5, &h, &err)) die("load", &err);
  st_buf rec = ST_BUF_INIT;
  for (int j = 0; j < CHANGED; j++) {
    uint64_t id = ST_ID_FIRST_NEW + rnd(&f->rng) % f->n;
    st_address ida;
    st_address_from_id(id, &ida, NULL);
    actor_record(id, k + 1, &rec);
    if (st_hamt_set(h, ida.bytes, ida.len, rec.data, rec.len, &err)) die("set", &err);
  }
  st_cid root;
  if (st_hamt_flush(h, &root, &err)) die("flush", &err);
  st_hamt_free(h);
  st_buf_free(&rec);
}

static void flat_lookup(void *ctx, uint64_t k) {
  (void)k;
  tree_fx *f = ctx;
  st_address robust;
  robust_of(ST_ID_FIRST_NEW + rnd(&f->rng) % f->n, &robust);
  st_state_actor *a;
  st_err err;
  if (st_state_lookup(&f->loaded, &robust, &a, &err)) die("lookup", &err);
}

static void hamt_lookup(void *ctx, uint64_t k) {
  (void)k;
  tree_fx *f = ctx;
  st_err err;
  st_address robust, ida;
  robust_of(ST_ID_FIRST_NEW + rnd(&f->rng) % f->n, &robust);
  st_hamt *addrs, *actors;
  st_buf v = ST_BUF_INIT;
  bool found;
  if (st_hamt_load(f->bs, &f->addresses, 5, &addrs, &err) ||
      st_hamt_get(addrs, robust.bytes, robust.len, &v, &found, &err) || !found)
    die("address map", &err);
  st_cbor_reader r;
  uint64_t id;
  st_cbor_reader_init(&r, v.data, v.len, &err);
  if (st_cbor_read_uint(&r, &id)) die("id", &err);
  st_address_from_id(id, &ida, NULL);
  st_buf_reset(&v);
  if (st_hamt_load(f->bs, &f->actors, 5, &actors, &err) || st_hamt_get(actors, ida.bytes, ida.len, &v, &found, &err) ||
      !found)
    die("actors", &err);
  st_hamt_free(addrs);
  st_hamt_free(actors);
  st_buf_free(&v);
}

/* Bytes written by one op, from the store's count. */
static uint64_t bytes_per_op(st_memstore *ms, op_fn fn, void *ctx) {
  st_memstore_stats s;
  st_memstore_stats_reset(ms);
  fn(ctx, 1u << 30);
  st_memstore_stats_get(ms, &s);
  return s.put_bytes;
}

static void bench_tree(uint64_t n) {
  tree_fx f;
  tree_build(&f, n);
  uint64_t ops = n >= 100000 ? 3 : n >= 10000 ? 20 : 200;
  double flat = median_per_op(flat_tipset, &f, ops), hamt = median_per_op(hamt_tipset, &f, ops * 10);
  uint64_t hb = bytes_per_op(f.ms, hamt_tipset, &f);
  printf(
      "state tree %7llu actors  tipset (%d changed): flat %9.3f ms (%8zu bytes)  HAMT %7.3f ms (%6llu bytes)  "
      "HAMT/flat %.4f\n",
      (unsigned long long)n, CHANGED, flat * 1e3, f.flat.len, hamt * 1e3, (unsigned long long)hb, hamt / flat);
  double fl = median_per_op(flat_lookup, &f, ops * 10), hl = median_per_op(hamt_lookup, &f, 2000);
  printf("state tree %7llu actors  key-address lookup:  flat %9.3f us  HAMT (cold, 2 maps) %7.3f us  HAMT/flat %.3f\n",
         (unsigned long long)n, fl * 1e6, hl * 1e6, hl / fl);
  tree_free(&f);
}

typedef struct miner_fx {
  uint64_t n, rng;
  st_memstore *ms;
  st_blockstore bs;
  st_cid sectors; /* AMT root */
  st_buf flat;    /* the flat miner state */
} miner_fx;

/* A sector record the size of miner.SectorOnChainInfo: [number, proof, sealed CID, deal IDs,
 * activation, expiration, deal weight, verified weight, pledge, day reward, storage pledge,
 * replaced age, replaced day reward, sealed CID of the unsealed (none)]. */
static void sector_record(const st_sector_onchain *s, st_buf *out) {
  st_buf_reset(out);
  st_cbor_put_array(out, 14);
  st_cbor_put_uint(out, s->number);
  st_cbor_put_int(out, s->seal_proof);
  st_cbor_put_cid(out, &s->sealed_cid);
  st_cbor_put_array(out, 0);
  st_cbor_put_int(out, s->activation);
  st_cbor_put_int(out, s->expiration);
  st_cbor_put_bigint(out, s->deal_weight);
  st_cbor_put_bigint(out, s->verified_deal_weight);
  st_cbor_put_bigint(out, s->initial_pledge);
  st_cbor_put_bigint(out, s->initial_pledge);
  st_cbor_put_bigint(out, s->initial_pledge);
  st_cbor_put_int(out, 0);
  st_cbor_put_bigint(out, s->deal_weight);
  st_cbor_put_null(out);
}

static void miner_build(miner_fx *f, uint64_t n) {
  st_err err;
  memset(f, 0, sizeof *f);
  f->n = n;
  f->rng = 2463534242ull;
  if (st_memstore_new(&f->ms, &err)) die("memstore", &err);
  f->bs = st_memstore_view(f->ms);
  st_miner_state m;
  if (st_miner_state_init(&m, 48, &err)) die("miner", &err);
  st_amt *a;
  if (st_amt_new(f->bs, 5, &a, &err)) die("amt", &err);
  st_buf rec = ST_BUF_INIT;
  for (uint64_t i = 0; i < n; i++) {
    st_sector_onchain *s = st_miner_add_sector(&m, i);
    if (!s) die("add sector", &(st_err){.msg = "out of memory"});
    s->seal_proof = 8;
    st_cid_of_commitment((const uint8_t[32]){(uint8_t)i, (uint8_t)(i >> 8), (uint8_t)(i >> 16)}, true, &s->sealed_cid);
    s->activation = 100;
    s->expiration = 1000000;
    s->fault_epoch = -1;
    mpz_set_ui(s->initial_pledge, 1000000000000ul);
    sector_record(s, &rec);
    if (st_amt_set(a, i, rec.data, rec.len, &err)) die("amt set", &err);
  }
  if (st_amt_flush(a, &f->sectors, &err)) die("amt flush", &err);
  st_amt_free(a);
  st_miner_state_encode(&m, &f->flat);
  st_miner_state_free(&m);
  st_buf_free(&rec);
}

static void flat_sector_change(void *ctx, uint64_t k) {
  miner_fx *f = ctx;
  st_miner_state m;
  st_err err;
  if (st_miner_state_decode(f->flat.data, f->flat.len, &m, &err)) die("decode", &err);
  st_sector_onchain *s = st_miner_sector(&m, rnd(&f->rng) % f->n);
  s->fault_epoch = (int64_t)k;
  st_buf out = ST_BUF_INIT;
  st_miner_state_encode(&m, &out);
  st_cid c;
  st_cid_of_cbor(out.data, out.len, &c);
  st_buf_free(&out);
  st_miner_state_free(&m);
}

static void amt_sector_change(void *ctx, uint64_t k) {
  miner_fx *f = ctx;
  st_err err;
  st_amt *a;
  if (st_amt_load(f->bs, &f->sectors, &a, &err)) die("load", &err);
  uint64_t i = rnd(&f->rng) % f->n;
  st_sector_onchain s;
  st_sector_onchain_init(&s);
  s.number = i;
  s.seal_proof = 8;
  s.expiration = 1000000 + (int64_t)k;
  st_cid_of_commitment((const uint8_t[32]){(uint8_t)i}, true, &s.sealed_cid);
  st_buf rec = ST_BUF_INIT;
  sector_record(&s, &rec);
  if (st_amt_set(a, i, rec.data, rec.len, &err)) die("set", &err);
  st_cid root;
  if (st_amt_flush(a, &root, &err)) die("flush", &err);
  st_amt_free(a);
  st_buf_free(&rec);
  st_sector_onchain_free(&s);
}

static void bench_miner(uint64_t n) {
  miner_fx f;
  miner_build(&f, n);
  uint64_t ops = n >= 100000 ? 3 : n >= 10000 ? 20 : 200;
  double flat = median_per_op(flat_sector_change, &f, ops), amt = median_per_op(amt_sector_change, &f, 2000);
  uint64_t ab = bytes_per_op(f.ms, amt_sector_change, &f);
  printf(
      "miner %7llu sectors  one sector's change: flat %9.3f ms (%8zu bytes)  AMT %7.3f ms (%6llu bytes)  "
      "AMT/flat %.4f\n",
      (unsigned long long)n, flat * 1e3, f.flat.len, amt * 1e3, (unsigned long long)ab, amt / flat);
  st_memstore_free(f.ms);
  st_buf_free(&f.flat);
}

int main(int argc, char **argv) {
  uint64_t max = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
  for (uint64_t n = 1000; n <= max; n *= 10) bench_tree(n);
  for (uint64_t n = 1000; n <= max; n *= 10) bench_miner(n);
  return 0;
}
