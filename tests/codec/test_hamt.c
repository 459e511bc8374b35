/* Tests for codec/st_hamt: root CIDs published by ref-fvm's fvm_ipld_hamt (the Rust twin of
 * go-hamt-ipld v3, SHA-256 keys), the canonical form under any order of operations, a
 * reference model, the path-only cost of a change, and the rejection of malformed nodes. */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/st_cbor.h"
#include "codec/st_hamt.h"
#include "crypto/st_hash.h"

#define EMPTY_MAP "bafy2bzaceamp42wmmgr2g2ymg46euououzfyck7szknvfacqscohrvaikwfay"

/* ------------------------------------------------------------------ helpers */

static uint64_t rng_state;
static uint64_t rnd(void) { return tu_xorshift(&rng_state); }
static void shuffle(unsigned *a, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = rnd() % i;
    unsigned t = a[i - 1];
    a[i - 1] = a[j];
    a[j] = t;
  }
}

typedef struct fx {
  st_memstore *ms;
  st_blockstore bs;
} fx;

static void fx_init(fx *f) {
  st_err err = {0};
  if (st_memstore_new(&f->ms, &err)) fail_msg("memstore: %s", err.msg);
  f->bs = st_memstore_view(f->ms);
}

static st_hamt *new_ok(fx *f, unsigned bw) {
  st_err err = {0};
  st_hamt *h;
  if (st_hamt_new(f->bs, bw, &h, &err)) fail_msg("new: %s", err.msg);
  return h;
}

static st_hamt *load_ok(fx *f, const st_cid *c, unsigned bw) {
  st_err err = {0};
  st_hamt *h;
  if (st_hamt_load(f->bs, c, bw, &h, &err)) fail_msg("load: %s", err.msg);
  return h;
}

/* Sets key to a CBOR item given as raw bytes. */
static void set_raw(st_hamt *h, const void *k, size_t kl, const void *v, size_t vl) {
  st_err err = {0};
  if (st_hamt_set(h, k, kl, v, vl, &err)) fail_msg("set: %s", err.msg);
}

/* Sets text key k to the CBOR byte string v (ref-fvm's BytesKey values). */
static void set_str(st_hamt *h, const char *k, const char *v) {
  st_buf b = ST_BUF_INIT;
  st_cbor_put_bytes(&b, v, strlen(v));
  set_raw(h, k, strlen(k), b.data, b.len);
  st_buf_free(&b);
}

static bool del_ok(st_hamt *h, const void *k, size_t kl) {
  st_err err = {0};
  bool found;
  if (st_hamt_delete(h, k, kl, &found, &err)) fail_msg("delete: %s", err.msg);
  return found;
}

static void flush_ok(st_hamt *h, st_cid *c) {
  st_err err = {0};
  if (st_hamt_flush(h, c, &err)) fail_msg("flush: %s", err.msg);
}

static void assert_root(st_hamt *h, const char *want) {
  st_cid c;
  char s[ST_CID_STR_MAX];
  flush_ok(h, &c);
  st_cid_to_string(&c, s);
  assert_string_equal(s, want);
}

static void assert_stats(fx *f, uint64_t gets, uint64_t puts, uint64_t get_bytes, uint64_t put_bytes) {
  st_memstore_stats s;
  st_memstore_stats_get(f->ms, &s);
  if (s.gets != gets || s.puts != puts || s.get_bytes != get_bytes || s.put_bytes != put_bytes)
    fail_msg("stats r=%llu w=%llu br=%llu bw=%llu, want r=%llu w=%llu br=%llu bw=%llu", (unsigned long long)s.gets,
             (unsigned long long)s.puts, (unsigned long long)s.get_bytes, (unsigned long long)s.put_bytes,
             (unsigned long long)gets, (unsigned long long)puts, (unsigned long long)get_bytes,
             (unsigned long long)put_bytes);
}

static void fx_free(fx *f) { st_memstore_free(f->ms); }

static void put_block(fx *f, const st_buf *b, st_cid *c) {
  st_err err = {0};
  st_cid_of_cbor(b->data, b->len, c);
  if (f->bs.put(f->bs.ctx, c, b->data, b->len, &err)) fail_msg("put: %s", err.msg);
}

/* ------------------------------------------------------------------ published values */

/* The empty root [h'', []] is Filecoin's EmptyMapCid (specs-actors, builtin-actors; ref-fvm
 * ipld/hamt/tests/hamt_tests.rs reload_empty: stats w=2 bw=6 for two puts). */
static void test_empty(void **state) {
  (void)state;
  fx f;
  fx_init(&f);
  st_hamt *h = new_ok(&f, 5);
  st_cid c;
  st_buf b = ST_BUF_INIT;
  st_err err = {0};
  assert_root(h, EMPTY_MAP);
  flush_ok(h, &c);
  assert_int_equal(f.bs.get(f.bs.ctx, &c, &b, &err), ST_OK);
  assert_string_equal(tu_tohex(b.data, b.len), "824080");
  st_hamt *h2 = load_ok(&f, &c, 5);
  assert_root(h2, EMPTY_MAP);
  assert_stats(&f, 2, 1, 6, 3); /* our one flush writes; the clean reload writes nothing */
  st_buf_free(&b);
  st_hamt_free(h2);
  st_hamt_free(h);
  fx_free(&f);
}

/* ref-fvm hamt_tests.rs test_set_if_absent (default config: bitwidth 8): stats w=1 bw=63. */
static void test_fvm_set_if_absent(void **state) {
  (void)state;
  fx f;
  fx_init(&f);
  st_hamt *h = new_ok(&f, 8);
  set_str(h, "favorite-animal", "owl bear");
  assert_root(h, "bafy2bzaced2tgnlsq4n2ioe6ldy75fw3vlrrkyfv4bq6didbwoob2552zvpuk");
  assert_stats(&f, 0, 1, 0, 63);
  st_hamt_free(h);
  fx_free(&f);
}

/* ref-fvm hamt_tests.rs set_with_no_effect_does_not_put: bitwidth 1, keys "0".."29" -> "filler",
 * then "favorite-animal" -> "bright green bear"; stats w=18 bw=1282 over both flushes, and the
 * same set again writes nothing. */
static void test_fvm_set_no_effect(void **state) {
  (void)state;
  fx f;
  fx_init(&f);
  st_hamt *h = new_ok(&f, 1);
  char k[16];
  for (int i = 0; i < 30; i++) {
    snprintf(k, sizeof k, "%d", i);
    set_str(h, k, "filler");
  }
  assert_root(h, "bafy2bzacebjilcrsqa4uyxuh36gllup4rlgnvwgeywdm5yqq2ks4jrsj756qq");
  set_str(h, "favorite-animal", "bright green bear");
  assert_root(h, "bafy2bzacea7biyabzk7v7le2rrlec5tesjbdnymh5sk4lfprxibg4rtudwtku");
  assert_stats(&f, 0, 18, 0, 1282);
  set_str(h, "favorite-animal", "bright green bear");
  assert_root(h, "bafy2bzacea7biyabzk7v7le2rrlec5tesjbdnymh5sk4lfprxibg4rtudwtku");
  assert_stats(&f, 0, 18, 0, 1282);
  st_hamt_free(h);
  fx_free(&f);
}

/* ref-fvm hamt_tests.rs delete (bitwidth 8): stats r=1 w=2 br=79 bw=139. */
static void test_fvm_delete(void **state) {
  (void)state;
  fx f;
  fx_init(&f);
  st_hamt *h = new_ok(&f, 8);
  st_cid c;
  set_str(h, "foo", "cat dog bear");
  set_str(h, "bar", "cat dog");
  set_str(h, "baz", "cat");
  assert_root(h, "bafy2bzacebql36crv4odvxzstx2ubaczmawy2tlljxezvorcsoqeyyojxkrom");
  flush_ok(h, &c);
  st_hamt *h2 = load_ok(&f, &c, 8);
  assert_true(del_ok(h2, "foo", 3));
  assert_false(del_ok(h2, "nonexistent", 11));
  assert_root(h2, "bafy2bzaced7up7wkm7cirieh5bs4iyula5inrprihmjzozmku3ywvekzzmlyi");
  assert_stats(&f, 1, 2, 79, 139);
  st_hamt_free(h2);
  st_hamt_free(h);
  fx_free(&f);
}

/* ref-fvm hamt_tests.rs delete_case (bitwidth 8): key [0] -> bytes "Test data", then deleted;
 * stats r=1 w=2 br=31 bw=34. */
static void test_fvm_delete_case(void **state) {
  (void)state;
  fx f;
  fx_init(&f);
  st_hamt *h = new_ok(&f, 8);
  st_cid c;
  uint8_t k = 0;
  st_buf v = ST_BUF_INIT;
  st_cbor_put_bytes(&v, "Test data", 9);
  set_raw(h, &k, 1, v.data, v.len);
  assert_root(h, "bafy2bzaceb2hikcc6tfuuuuehjstbiq356oruwx6ejyse77zupq445unranv6");
  flush_ok(h, &c);
  st_hamt *h2 = load_ok(&f, &c, 8);
  assert_true(del_ok(h2, &k, 1));
  assert_root(h2, EMPTY_MAP);
  assert_stats(&f, 1, 2, 31, 34);
  st_buf_free(&v);
  st_hamt_free(h2);
  st_hamt_free(h);
  fx_free(&f);
}

/* ref-fvm hamt_tests.rs set_delete_many(200) (bitwidth 5): keys and values "0".."399";
 * stats w=94 bw=11737 over its four flushes. */
static void test_fvm_set_delete_many(void **state) {
  (void)state;
  fx f;
  fx_init(&f);
  st_hamt *h = new_ok(&f, 5);
  char k[16];
  for (int i = 0; i < 200; i++) snprintf(k, sizeof k, "%d", i), set_str(h, k, k);
  assert_root(h, "bafy2bzaceczhz54xmmz3xqnbmvxfbaty3qprr6dq7xh5vzwqbirlsnbd36z7a");
  for (int i = 200; i < 400; i++) snprintf(k, sizeof k, "%d", i), set_str(h, k, k);
  assert_root(h, "bafy2bzacecxcp736xkl2mcyjlors3tug6vdlbispbzxvb75xlrhthiw2xwxvw");
  for (int i = 200; i < 400; i++) snprintf(k, sizeof k, "%d", i), assert_true(del_ok(h, k, strlen(k)));
  assert_root(h, "bafy2bzaceczhz54xmmz3xqnbmvxfbaty3qprr6dq7xh5vzwqbirlsnbd36z7a");
  for (int i = 0; i < 200; i++) snprintf(k, sizeof k, "%d", i), assert_true(del_ok(h, k, strlen(k)));
  assert_root(h, EMPTY_MAP);
  assert_stats(&f, 0, 94, 0, 11737);
  st_hamt_free(h);
  fx_free(&f);
}

/* ref-fvm hamt_tests.rs for_each(200) (bitwidth 5): after a reload, "10", "80", "81" set to
 * "modified-N" and "30" deleted. */
static void test_fvm_for_each(void **state) {
  (void)state;
  fx f;
  fx_init(&f);
  st_hamt *h = new_ok(&f, 5);
  st_cid c;
  char k[16];
  for (int i = 0; i < 200; i++) snprintf(k, sizeof k, "%d", i), set_str(h, k, k);
  assert_root(h, "bafy2bzaceczhz54xmmz3xqnbmvxfbaty3qprr6dq7xh5vzwqbirlsnbd36z7a");
  flush_ok(h, &c);
  st_hamt *h2 = load_ok(&f, &c, 5);
  set_str(h2, "10", "modified-10");
  set_str(h2, "80", "modified-80");
  set_str(h2, "81", "modified-81");
  assert_true(del_ok(h2, "30", 2));
  assert_false(del_ok(h2, "300", 3));
  assert_root(h2, "bafy2bzacebln5j7tdfavh2qqhio6mgaoq6mm2jbmcex2ngcmi3uqlx5k3mov4");
  st_hamt_free(h2);
  st_hamt_free(h);
  fx_free(&f);
}

/* ref-fvm hamt_tests.rs clean_child_ordering (bitwidth 5): uvarint keys 100..194 -> 42 (CBOR
 * 0x182a), reload, delete 104 and 108; stats r=3 w=11 br=1449 bw=1751. */
static void test_fvm_clean_child_ordering(void **state) {
  (void)state;
  fx f;
  fx_init(&f);
  st_hamt *h = new_ok(&f, 5);
  st_cid c;
  const uint8_t v42[] = {0x18, 0x2a};
  uint8_t k[2];
  for (unsigned i = 100; i < 195; i++) {
    k[0] = (uint8_t)(i < 128 ? i : (i & 0x7f) | 0x80), k[1] = 1;
    set_raw(h, k, i < 128 ? 1 : 2, v42, 2);
  }
  assert_root(h, "bafy2bzacebqox3gtng4ytexyacr6zmaliyins3llnhbnfbcrqmhzuhmuuawqk");
  flush_ok(h, &c);
  st_hamt *h2 = load_ok(&f, &c, 5);
  k[0] = 104;
  assert_true(del_ok(h2, k, 1));
  k[0] = 108;
  assert_true(del_ok(h2, k, 1));
  assert_root(h2, "bafy2bzacedlyeuub3mo4aweqs7zyxrbldsq2u4a2taswubudgupglu2j4eru6");
  flush_ok(h2, &c);
  st_hamt_free(load_ok(&f, &c, 5));
  assert_stats(&f, 3, 11, 1449, 1751);
  st_hamt_free(h2);
  st_hamt_free(h);
  fx_free(&f);
}

/* ------------------------------------------------------------------ canonical form */

static void key_of(unsigned i, char k[24], size_t *kl) { *kl = (size_t)snprintf(k, 24, "key-%u", i); }

static void set_num(st_hamt *h, unsigned i, uint64_t v) {
  char k[24];
  size_t kl;
  st_buf b = ST_BUF_INIT;
  key_of(i, k, &kl);
  st_cbor_put_uint(&b, v);
  set_raw(h, k, kl, b.data, b.len);
  st_buf_free(&b);
}

/* 2,000 keys inserted in several orders, half deleted in random orders: the root equals the one
 * built from the survivors alone. Bitwidth 5 and 2 (deep trees, many collapses). */
static void test_canonical(void **state) {
  (void)state;
  enum { N = 2000 };
  static unsigned ord[N];
  const unsigned bws[] = {5, 2};
  rng_state = 0x9e3779b97f4a7c15ull;
  for (size_t b = 0; b < 2; b++) {
    fx f;
    fx_init(&f);
    st_cid want, got, full, first_full;
    st_hamt *ref = new_ok(&f, bws[b]);
    for (unsigned i = 0; i < N; i += 2) set_num(ref, i, i);
    flush_ok(ref, &want);
    for (int round = 0; round < 4; round++) {
      st_hamt *h = new_ok(&f, bws[b]);
      for (unsigned i = 0; i < N; i++) ord[i] = i;
      shuffle(ord, N);
      for (unsigned i = 0; i < N; i++) set_num(h, ord[i], ord[i]);
      flush_ok(h, &full);
      if (round == 0) first_full = full;
      assert_true(st_cid_equal(&full, &first_full));
      shuffle(ord, N);
      for (unsigned i = 0; i < N; i++) {
        if (ord[i] % 2 == 0) continue;
        char k[24];
        size_t kl;
        key_of(ord[i], k, &kl);
        assert_true(del_ok(h, k, kl));
        if (i % 397 == 0) flush_ok(h, &got); /* interleave flushes */
      }
      flush_ok(h, &got);
      assert_true(st_cid_equal(&got, &want));
      st_hamt_free(h);
    }
    st_hamt_free(ref);
    fx_free(&f);
  }
}

/* ------------------------------------------------------------------ reference model */

enum { REF_N = 10000 };
typedef struct model {
  bool present[REF_N];
  uint64_t val[REF_N];
  unsigned seen;
  uint8_t last_hash[32];
  char last_key[24];
  size_t last_kl;
} model;

static st_code each_cb(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen, st_err *err) {
  (void)err;
  model *m = ctx;
  unsigned i;
  uint64_t v;
  st_cbor_reader r;
  uint8_t hs[32];
  char k[24];
  assert_true(klen < sizeof k);
  memcpy(k, key, klen);
  k[klen] = 0;
  assert_int_equal(sscanf(k, "key-%u", &i), 1);
  assert_true(i < REF_N && m->present[i]);
  st_cbor_reader_init(&r, val, vlen, NULL);
  assert_int_equal(st_cbor_read_uint(&r, &v), ST_OK);
  assert_true(v == m->val[i]);
  /* pointer order, depth first: digests ascend, except inside a bucket (keys ascend there) */
  st_sha256(key, klen, hs);
  if (m->seen && memcmp(m->last_hash, hs, 32) > 0)
    assert_true(memcmp(m->last_key, k, klen < m->last_kl ? klen : m->last_kl) <= 0);
  memcpy(m->last_hash, hs, 32);
  memcpy(m->last_key, k, klen);
  m->last_kl = klen;
  m->seen++;
  return ST_OK;
}

static void check_model(st_hamt *h, model *m) {
  st_err err = {0};
  unsigned n = 0;
  for (unsigned i = 0; i < REF_N; i += 7) {
    char k[24];
    size_t kl;
    bool found;
    st_buf b = ST_BUF_INIT;
    key_of(i, k, &kl);
    if (st_hamt_get(h, k, kl, &b, &found, &err)) fail_msg("get: %s", err.msg);
    assert_true(found == m->present[i]);
    if (found) {
      st_cbor_reader r;
      uint64_t v;
      st_cbor_reader_init(&r, b.data, b.len, NULL);
      assert_int_equal(st_cbor_read_uint(&r, &v), ST_OK);
      assert_true(v == m->val[i]);
    } else {
      assert_int_equal(b.len, 0);
    }
    st_buf_free(&b);
  }
  for (unsigned i = 0; i < REF_N; i++) n += m->present[i];
  m->seen = 0;
  if (st_hamt_each(h, each_cb, m, &err)) fail_msg("each: %s", err.msg);
  assert_int_equal(m->seen, n);
}

static void test_model(void **state) {
  (void)state;
  static model m;
  fx f;
  fx_init(&f);
  st_hamt *h = new_ok(&f, 5);
  st_cid c;
  rng_state = 12345;
  memset(&m, 0, sizeof m);
  for (unsigned step = 0; step < 40000; step++) {
    unsigned i = (unsigned)(rnd() % REF_N);
    if (rnd() % 3) {
      uint64_t v = rnd() % 1000;
      set_num(h, i, v);
      m.present[i] = true, m.val[i] = v;
    } else {
      char k[24];
      size_t kl;
      key_of(i, k, &kl);
      assert_true(del_ok(h, k, kl) == m.present[i]);
      m.present[i] = false;
    }
    if (step % 10000 == 9999) {
      check_model(h, &m);
      flush_ok(h, &c);
      st_hamt_free(h);
      h = load_ok(&f, &c, 5);
      check_model(h, &m);
    }
  }
  st_hamt_free(h);
  fx_free(&f);
}

/* ------------------------------------------------------------------ cost of one change */

static void test_path_only(void **state) {
  (void)state;
  enum { N = 100000 };
  fx f;
  fx_init(&f);
  st_hamt *h = new_ok(&f, 5);
  st_cid c, c2;
  st_memstore_stats s;
  for (unsigned i = 0; i < N; i++) set_num(h, i, i);
  flush_ok(h, &c);
  print_message("100000 keys: %zu nodes cached after flush\n", st_hamt_cached_nodes(h));
  st_hamt_free(h);
  h = load_ok(&f, &c, 5);
  st_memstore_stats_reset(f.ms);
  set_num(h, 4242, 7);
  flush_ok(h, &c2);
  st_memstore_stats_get(f.ms, &s);
  print_message("set one key: gets %llu (%llu bytes), puts %llu (%llu bytes)\n", (unsigned long long)s.gets,
                (unsigned long long)s.get_bytes, (unsigned long long)s.puts, (unsigned long long)s.put_bytes);
  assert_true(s.gets >= 2 && s.gets <= 5); /* the path below the root */
  assert_int_equal(s.puts, s.gets + 1);    /* the path and the root */
  assert_true(s.put_bytes < 8 * 1024);     /* a few nodes, not the tree */
  assert_int_equal(st_hamt_cached_nodes(h), s.gets + 1);
  char k[24];
  size_t kl;
  key_of(777, k, &kl);
  st_memstore_stats_reset(f.ms);
  assert_true(del_ok(h, k, kl));
  flush_ok(h, &c2);
  st_memstore_stats_get(f.ms, &s);
  print_message("delete one key: gets %llu, puts %llu (%llu bytes)\n", (unsigned long long)s.gets,
                (unsigned long long)s.puts, (unsigned long long)s.put_bytes);
  assert_true(s.puts <= s.gets + 1 + 5 && s.put_bytes < 8 * 1024);
  st_hamt_free(h);
  fx_free(&f);
}

/* ------------------------------------------------------------------ malformed nodes */

/* A key (from "m0", "m1", ...) whose index at depth 0 for bitwidth bw is idx; skip: how many
 * such keys to pass over first. */
static void key_with_index(unsigned bw, unsigned idx, unsigned skip, char k[16]) {
  for (unsigned i = 0;; i++) {
    uint8_t hs[32];
    snprintf(k, 16, "m%u", i);
    st_sha256(k, strlen(k), hs);
    if ((unsigned)(hs[0] >> (8 - bw)) == idx && skip-- == 0) return;
  }
}

static void put_kv(st_buf *b, const char *k) {
  st_cbor_put_array(b, 2);
  st_cbor_put_bytes(b, k, strlen(k));
  st_cbor_put_uint(b, 1);
}

/* Stores b as a block and asserts that loading it as a root (bitwidth bw) fails with needle. */
static void assert_rejected(fx *f, const st_buf *b, unsigned bw, const char *needle) {
  st_cid c;
  st_err err = {0};
  st_hamt *h = (st_hamt *)1;
  put_block(f, b, &c);
  assert_int_equal(st_hamt_load(f->bs, &c, bw, &h, &err), ST_EINVAL);
  assert_null(h);
  tu_assert_err_contains(&err, needle);
}

static void hex_rejected(fx *f, const char *hex, unsigned bw, const char *needle) {
  st_buf b = ST_BUF_INIT;
  tu_hex(hex, &b);
  assert_rejected(f, &b, bw, needle);
  st_buf_free(&b);
}

static void test_malformed(void **state) {
  (void)state;
  fx f;
  fx_init(&f);
  char k1[16], k2[16], ko[16];
  uint8_t bm = 0x01; /* index 0 (bitwidth 1: keys whose hash starts with bit 0) */
  key_with_index(1, 0, 0, k1);
  key_with_index(1, 0, 1, k2);
  key_with_index(1, 1, 0, ko);
  if (strcmp(k1, k2) > 0) {
    char t[16];
    memcpy(t, k1, 16), memcpy(k1, k2, 16), memcpy(k2, t, 16);
  }
  /* [bitfield, pointers] by hand; the CID in the link below is raw, not dag-cbor */
  hex_rejected(&f, "82410180", 5, "bitmap has 1 bits set but there are 0 pointers");
  hex_rejected(&f, "8241048180", 1, "bitmap bit 2 is at or past 2^1");
  hex_rejected(&f, "8245010000000080", 5, "bitmap of 5 bytes has bits at or past 2^5");
  hex_rejected(&f, "824200018180", 5, "bitmap has a leading zero byte");
  hex_rejected(&f, "8241018180", 5, "pointer 0: empty bucket");
  hex_rejected(&f,
               "8241018184" /* 4 KVs: */ "82416101824162018241630182416401", 5,
               "pointer 0: bucket of 4 KVs (at most 3)");
  hex_rejected(&f, "8241018105", 5, "pointer 0 at offset 4 is unsigned integer, neither a link nor a bucket");
  hex_rejected(&f, "82408000", 5, "1 trailing byte after the item");
  hex_rejected(&f, "82410181d82a582500015512200000000000000000000000000000000000000000000000000000000000000000", 5,
               "pointer 0: link is not dag-cbor");
  const char *bad[][3] = {
      {k2, k1, "keys not sorted"}, {k1, k1, "repeated key"}, {ko, NULL, "key hashes to index 1, not 0"}};
  for (size_t i = 0; i < 3; i++) {
    st_buf b = ST_BUF_INIT;
    st_cbor_put_array(&b, 2);
    st_cbor_put_bytes(&b, &bm, 1);
    st_cbor_put_array(&b, 1);
    st_cbor_put_array(&b, bad[i][1] ? 2 : 1);
    put_kv(&b, bad[i][0]);
    if (bad[i][1]) put_kv(&b, bad[i][1]);
    assert_rejected(&f, &b, 1, bad[i][2]);
    st_buf_free(&b);
  }
  /* A non-root node with one KV must be a bucket in its parent: the root loads, a get fails. */
  st_buf child = ST_BUF_INIT, root = ST_BUF_INIT, out = ST_BUF_INIT;
  st_cid cc, rc;
  st_err err = {0};
  bool found = true;
  uint8_t hs[32];
  unsigned idx1;
  st_sha256(k1, strlen(k1), hs);
  idx1 = (hs[0] >> 6) & 1; /* k1's index at depth 1, bitwidth 1 */
  st_cbor_put_array(&child, 2);
  uint8_t cbm = (uint8_t)(1u << idx1);
  st_cbor_put_bytes(&child, &cbm, 1);
  st_cbor_put_array(&child, 1);
  st_cbor_put_array(&child, 1);
  put_kv(&child, k1);
  put_block(&f, &child, &cc);
  st_cbor_put_array(&root, 2);
  st_cbor_put_bytes(&root, &bm, 1);
  st_cbor_put_array(&root, 1);
  st_cbor_put_cid(&root, &cc);
  put_block(&f, &root, &rc);
  st_hamt *h = load_ok(&f, &rc, 1);
  assert_int_equal(st_hamt_get(h, k1, strlen(k1), &out, &found, &err), ST_EINVAL);
  assert_false(found);
  tu_assert_err_contains(&err, "non-root node with no links and 1 KVs");
  tu_assert_err_contains(&err, "at depth 1");
  st_hamt_free(h);
  st_buf_free(&child), st_buf_free(&root), st_buf_free(&out);
  fx_free(&f);
}

/* Bad arguments: bitwidths, a value that is not one CBOR item, a missing root. */
static void test_arguments(void **state) {
  (void)state;
  fx f;
  fx_init(&f);
  st_err err = {0};
  st_hamt *h = (st_hamt *)1;
  st_cid c;
  assert_int_equal(st_hamt_new(f.bs, 0, &h, &err), ST_EINVAL);
  assert_null(h);
  assert_int_equal(st_hamt_new(f.bs, 9, &h, &err), ST_EINVAL);
  h = new_ok(&f, 5);
  const uint8_t two[] = {0x01, 0x02};
  assert_int_equal(st_hamt_set(h, "k", 1, two, 2, &err), ST_EINVAL);
  assert_int_equal(st_hamt_set(h, "k", 1, two, 0, &err), ST_EINVAL);
  assert_root(h, EMPTY_MAP);
  st_hamt_free(h);
  st_cid_parse("bafy2bzacecosy45hp4sz2t4o4flxvntnwjy7yaq43bykci22xycpeuj542lse", &c, NULL);
  h = (st_hamt *)1;
  assert_int_equal(st_hamt_load(f.bs, &c, 5, &h, &err), ST_ENOENT);
  assert_null(h);
  tu_assert_err_contains(&err, "is not in the store");
  fx_free(&f);
}

/* ------------------------------------------------------------------ fuzz */

static st_code count_cb(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, st_err *err) {
  (void)k, (void)kl, (void)v, (void)vl, (void)err;
  ++*(unsigned *)ctx;
  return ST_OK;
}

/* Random mutations of a valid root (bitwidth 3: links and buckets) never crash: each either
 * loads and walks, or fails with a message. */
static void test_fuzz(void **state) {
  (void)state;
  fx f;
  fx_init(&f);
  st_hamt *h = new_ok(&f, 3);
  st_cid c;
  st_buf orig = ST_BUF_INIT, b = ST_BUF_INIT, out = ST_BUF_INIT;
  st_err err = {0};
  unsigned loaded = 0;
  for (unsigned i = 0; i < 60; i++) set_num(h, i, i * 1000);
  flush_ok(h, &c);
  assert_int_equal(f.bs.get(f.bs.ctx, &c, &orig, &err), ST_OK);
  rng_state = 777;
  for (int it = 0; it < 3000; it++) {
    st_buf_reset(&b);
    st_buf_append(&b, orig.data, orig.len);
    for (int m = 1 + (int)(rnd() % 3); m > 0; m--) {
      size_t at = rnd() % b.len;
      switch (rnd() % 4) {
        case 0: b.data[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
        case 1: b.data[at] = (uint8_t)rnd(); break;
        case 2: b.len = at + 1; break;
        default: memmove(b.data + at, b.data + at + 1, b.len - at - 1), b.len--; break;
      }
      if (!b.len) st_buf_putc(&b, 0x80);
    }
    st_cid mc;
    st_hamt *m;
    put_block(&f, &b, &mc);
    if (st_hamt_load(f.bs, &mc, 3, &m, &err)) {
      assert_true(err.msg[0] != 0);
      continue;
    }
    unsigned n = 0;
    bool found;
    loaded++;
    (void)st_hamt_each(m, count_cb, &n, &err);
    for (unsigned i = 0; i < 60; i += 5) {
      char k[24];
      size_t kl;
      key_of(i, k, &kl);
      st_buf_reset(&out);
      (void)st_hamt_get(m, k, kl, &out, &found, &err);
      (void)st_hamt_delete(m, k, kl, &found, &err);
    }
    (void)st_hamt_set(m, "key-1", 5, "\x01", 1, &err);
    (void)st_hamt_flush(m, &mc, &err);
    st_hamt_free(m);
  }
  print_message("fuzz: %u of 3000 mutated roots loaded\n", loaded);
  st_buf_free(&orig), st_buf_free(&b), st_buf_free(&out);
  st_hamt_free(h);
  fx_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_fvm_set_if_absent),
      cmocka_unit_test(test_fvm_set_no_effect),
      cmocka_unit_test(test_fvm_delete),
      cmocka_unit_test(test_fvm_delete_case),
      cmocka_unit_test(test_fvm_set_delete_many),
      cmocka_unit_test(test_fvm_for_each),
      cmocka_unit_test(test_fvm_clean_child_ordering),
      cmocka_unit_test(test_canonical),
      cmocka_unit_test(test_model),
      cmocka_unit_test(test_path_only),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_arguments),
      cmocka_unit_test(test_fuzz),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
