/* Tests for codec/st_amt: root CIDs published by ref-fvm's fvm_ipld_amt tests (which must match
 * go-amt-ipld v4 byte for byte), canonical form under set/delete in any order, a model check
 * across flush+load, that a change writes and loads only its path, rejection of malformed nodes,
 * and a small mutation fuzz of stored nodes. */
#include "testutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/st_amt.h"
#include "codec/st_cbor.h"

/* ------------------------------------------------------------------ helpers */

typedef struct env {
  st_memstore *m;
  st_blockstore bs;
} env;

static void env_new(env *e) {
  st_err err;
  assert_int_equal(st_memstore_new(&e->m, &err), ST_OK);
  e->bs = st_memstore_view(e->m);
}

static st_amt *amt_new(env *e, unsigned bw) {
  st_amt *a;
  st_err err;
  if (st_amt_new(e->bs, bw, &a, &err)) fail_msg("st_amt_new: %s", err.msg);
  return a;
}

/* Sets i to CBOR bytes s (the tbytes(...) values of ref-fvm's tests). */
static void set_bytes(st_amt *a, uint64_t i, const char *s) {
  st_buf b = ST_BUF_INIT;
  st_err err;
  st_cbor_put_bytes(&b, s, strlen(s));
  if (st_amt_set(a, i, b.data, b.len, &err)) fail_msg("set %" PRIu64 ": %s", i, err.msg);
  st_buf_free(&b);
}

static void set_uint(st_amt *a, uint64_t i, uint64_t v) {
  uint8_t buf[9];
  st_buf b = ST_BUF_INIT;
  st_err err;
  st_cbor_put_uint(&b, v);
  memcpy(buf, b.data, b.len);
  if (st_amt_set(a, i, buf, b.len, &err)) fail_msg("set %" PRIu64 ": %s", i, err.msg);
  st_buf_free(&b);
}

static void assert_get_bytes(st_amt *a, uint64_t i, const char *s) {
  st_buf b = ST_BUF_INIT, want = ST_BUF_INIT;
  bool found;
  st_err err;
  if (st_amt_get(a, i, &b, &found, &err)) fail_msg("get %" PRIu64 ": %s", i, err.msg);
  assert_true(found);
  st_cbor_put_bytes(&want, s, strlen(s));
  assert_int_equal(b.len, want.len);
  assert_memory_equal(b.data, want.data, b.len);
  st_buf_free(&b);
  st_buf_free(&want);
}

static void del(st_amt *a, uint64_t i, bool expect) {
  bool found;
  st_err err;
  if (st_amt_delete(a, i, &found, &err)) fail_msg("delete %" PRIu64 ": %s", i, err.msg);
  assert_int_equal(found, expect);
}

static void flush(st_amt *a, st_cid *c) {
  st_err err;
  if (st_amt_flush(a, c, &err)) fail_msg("flush: %s", err.msg);
}

static st_amt *load(env *e, const st_cid *c) {
  st_amt *a;
  st_err err;
  if (st_amt_load(e->bs, c, &a, &err)) fail_msg("load: %s", err.msg);
  return a;
}

static void assert_cid(const st_cid *c, const char *want) {
  char s[ST_CID_STR_MAX];
  st_cid_to_string(c, s);
  assert_string_equal(s, want);
}

static st_memstore_stats stats(env *e) {
  st_memstore_stats s;
  st_memstore_stats_get(e->m, &s);
  return s;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void) { return tu_xorshift(&rng_state); }

static void shuffle(uint64_t *v, size_t n) {
  for (size_t k = n; k > 1; k--) {
    size_t j = rnd() % k;
    uint64_t t = v[k - 1];
    v[k - 1] = v[j];
    v[j] = t;
  }
}

/* ------------------------------------------------------------------ published values */

/* Empty AMTs: [bw, 0, 0, [h'00..', [], []]]. bitwidth 3 is EmptyArrayCid (ref-fvm
 * ipld/amt/tests/amt_tests.rs delete_bug_test; builtin-actors runtime/src/runtime/empty.rs). */
static void test_empty(void **state) {
  (void)state;
  env e;
  env_new(&e);
  st_amt *a = amt_new(&e, 3);
  st_cid c, c2;
  flush(a, &c);
  assert_cid(&c, "bafy2bzacedijw74yui7otvo63nfl3hdq2vdzuy7wx2tnptwed6zml4vvz7wee");
  /* delete_bug_test: set 100000 and delete it gives the empty root again; w:2 bw:18 */
  set_bytes(a, 100000, "foo");
  assert_int_equal(st_amt_height(a), 5);
  del(a, 100000, true);
  assert_int_equal(st_amt_height(a), 0);
  flush(a, &c2);
  assert_true(st_cid_equal(&c, &c2));
  assert_int_equal(stats(&e).puts, 2);
  assert_int_equal(stats(&e).put_bytes, 18);
  st_amt_free(a);
  /* bitwidth 5 (miner sectors), 4 (partition expirations): the same shape, 4- and 2-byte bmap. */
  for (unsigned bw = 1; bw <= 8; bw++) {
    a = amt_new(&e, bw);
    flush(a, &c);
    char s[ST_CID_STR_MAX];
    st_cid_to_string(&c, s);
    print_message("empty AMT bitwidth %u: %s\n", bw, s);
    st_amt_free(a);
  }
  st_memstore_free(e.m);
}

/* ref-fvm amt_tests.rs basic_get_set: set(2, b"foo"). */
static void test_basic_get_set(void **state) {
  (void)state;
  env e;
  env_new(&e);
  st_amt *a = amt_new(&e, 3);
  set_bytes(a, 2, "foo");
  assert_get_bytes(a, 2, "foo");
  assert_int_equal(st_amt_count(a), 1);
  st_cid c;
  flush(a, &c);
  st_amt *b = load(&e, &c);
  assert_get_bytes(b, 2, "foo");
  assert_cid(&c, "bafy2bzacedv5uu5za6oqtnozjvju5lhbgaybayzhw4txiojw7hd47ktgbv5wc");
  st_memstore_stats s = stats(&e);
  assert_int_equal(s.puts, 1);
  assert_int_equal(s.put_bytes, 13);
  assert_int_equal(s.gets, 1);
  st_amt_free(a);
  st_amt_free(b);
  st_memstore_free(e.m);
}

/* ref-fvm amt_tests.rs out_of_range: MAX_INDEX fits (height 21), MAX_INDEX+1 does not. */
static void test_out_of_range(void **state) {
  (void)state;
  env e;
  env_new(&e);
  st_amt *a = amt_new(&e, 3);
  st_err err;
  set_bytes(a, ST_AMT_MAX_INDEX, "what is up");
  assert_int_equal(st_amt_height(a), 21);
  st_buf b = ST_BUF_INIT;
  st_cbor_put_bytes(&b, "what is up", 10);
  assert_int_equal(st_amt_set(a, ST_AMT_MAX_INDEX + 1, b.data, b.len, &err), ST_ERANGE);
  tu_assert_err_contains(&err, "past the max index");
  bool found = true;
  assert_int_equal(st_amt_get(a, UINT64_MAX, &b, &found, &err), ST_ERANGE);
  assert_false(found);
  st_buf_free(&b);
  set_bytes(a, ST_AMT_MAX_INDEX - 1, "what is up");
  assert_int_equal(st_amt_height(a), 21);
  st_cid c;
  flush(a, &c);
  assert_cid(&c, "bafy2bzacecl3zuubhdvkojg6uhbu4mebaehx554q6algfjitqiivvnrqprkxo");
  assert_int_equal(stats(&e).puts, 22);
  assert_int_equal(stats(&e).put_bytes, 1039);
  st_amt_free(a);
  st_memstore_free(e.m);
}

/* ref-fvm amt_tests.rs expand: 2, 11, 79. */
static void test_expand(void **state) {
  (void)state;
  env e;
  env_new(&e);
  st_amt *a = amt_new(&e, 3);
  set_bytes(a, 2, "foo");
  set_bytes(a, 11, "bar");
  set_bytes(a, 79, "baz");
  st_cid c;
  flush(a, &c);
  st_amt *b = load(&e, &c);
  assert_get_bytes(b, 2, "foo");
  assert_get_bytes(b, 11, "bar");
  assert_get_bytes(b, 79, "baz");
  assert_cid(&c, "bafy2bzacecughjbclx3lbqwibrwc6pe7nttlc3qewedsrayghsvh5j5lpofiq");
  st_memstore_stats s = stats(&e); /* BSStats {r: 6, w: 6, br: 261, bw: 261} */
  assert_int_equal(s.puts, 6);
  assert_int_equal(s.put_bytes, 261);
  assert_int_equal(s.gets, 6);
  assert_int_equal(s.get_bytes, 261);
  st_amt_free(a);
  st_amt_free(b);
  st_memstore_free(e.m);
}

/* ref-fvm amt_tests.rs bulk_insert: 0..5000 = b"foo foo bar". */
static void test_bulk_insert(void **state) {
  (void)state;
  env e;
  env_new(&e);
  st_amt *a = amt_new(&e, 3);
  for (uint64_t i = 0; i < 5000; i++) set_bytes(a, i, "foo foo bar");
  assert_int_equal(st_amt_count(a), 5000);
  st_cid c;
  flush(a, &c);
  assert_cid(&c, "bafy2bzacecfquuqzqzlox25aynodzw2qhxijdzfvno6tibyes3kb6nd3f7uxa");
  assert_int_equal(stats(&e).puts, 717);
  assert_int_equal(stats(&e).put_bytes, 94379);
  st_amt *b = load(&e, &c);
  for (uint64_t i = 0; i < 5000; i++) assert_get_bytes(b, i, "foo foo bar");
  assert_int_equal(stats(&e).gets, 717);
  st_amt_free(a);
  st_amt_free(b);
  st_memstore_free(e.m);
}

/* ref-fvm amt_tests.rs delete: delete down to nothing, then 23 and 24 minus 23 == only 24. */
static void test_delete(void **state) {
  (void)state;
  env e;
  env_new(&e);
  st_amt *a = amt_new(&e, 3);
  for (uint64_t i = 0; i < 4; i++) set_bytes(a, i, "cat");
  del(a, 1, true);
  del(a, 1, false);
  assert_int_equal(st_amt_count(a), 3);
  del(a, 0, true);
  del(a, 2, true);
  del(a, 3, true);
  assert_int_equal(st_amt_count(a), 0);
  set_bytes(a, 23, "dog");
  set_bytes(a, 24, "dog");
  del(a, 23, true);
  st_cid c, c2;
  flush(a, &c);
  st_amt *b = amt_new(&e, 3);
  set_bytes(b, 24, "dog");
  flush(b, &c2);
  assert_true(st_cid_equal(&c, &c2));
  assert_cid(&c, "bafy2bzacebnnxpurpb3zqqr22i7ch4uruz6hgykn3ryzoo4hh3ox2m2kufsvg");
  st_amt_free(a);
  st_amt_free(b);
  /* delete_fail_check: absent indices inside and past the range */
  a = amt_new(&e, 3);
  set_bytes(a, 1, "one");
  set_bytes(a, 9, "nine");
  assert_int_equal(st_amt_height(a), 1);
  del(a, 10, false);
  del(a, 0, false);
  del(a, 1000000, false);
  assert_int_equal(st_amt_count(a), 2);
  st_amt_free(a);
  st_memstore_free(e.m);
}

/* ref-fvm amt_tests.rs delete_first_entry and delete_reduce_height. */
static void test_delete_reduce_height(void **state) {
  (void)state;
  env e;
  env_new(&e);
  st_amt *a = amt_new(&e, 3);
  set_bytes(a, 0, "cat");
  set_bytes(a, 27, "cat");
  assert_int_equal(st_amt_height(a), 1);
  del(a, 27, true);
  assert_int_equal(st_amt_height(a), 0);
  st_cid c, c1, c2, c3;
  flush(a, &c);
  assert_cid(&c, "bafy2bzacecmxrjeri2ojuy3riae2mpbnztx2hqggqgkcrxao2nwpga77j2vqe");
  st_amt_free(a);

  a = amt_new(&e, 3);
  set_bytes(a, 1, "thing");
  flush(a, &c1);
  set_bytes(a, 37, "other");
  assert_int_equal(st_amt_height(a), 1);
  flush(a, &c2);
  st_amt *b = load(&e, &c2);
  assert_int_equal(st_amt_height(b), 1);
  del(b, 37, true);
  assert_int_equal(st_amt_count(b), 1);
  assert_int_equal(st_amt_height(b), 0);
  flush(b, &c3);
  assert_true(st_cid_equal(&c1, &c3));
  assert_cid(&c1, "bafy2bzacebmkyah6kppbszluix3g332hntzx6wfdcqcr5hjdsaxri5jhgrdmo");
  st_amt_free(a);
  st_amt_free(b);
  /* a collapse through children not loaded yet: {1, 70} minus 70, from a fresh load */
  a = amt_new(&e, 3);
  set_bytes(a, 1, "thing");
  set_bytes(a, 70, "other");
  assert_int_equal(st_amt_height(a), 2);
  flush(a, &c2);
  b = load(&e, &c2);
  del(b, 70, true);
  assert_int_equal(st_amt_height(b), 0);
  flush(b, &c3);
  assert_true(st_cid_equal(&c1, &c3));
  assert_get_bytes(b, 1, "thing");
  st_amt_free(a);
  st_amt_free(b);
  st_memstore_free(e.m);
}

static st_code count_cb(void *ctx, uint64_t i, const uint8_t *val, size_t vlen, st_err *err) {
  (void)val, (void)vlen, (void)err;
  uint64_t *st = ctx; /* st[0] = count, st[1] = last index + 1 */
  if (st[0] > 0 && i < st[1]) return ST_EINTERNAL;
  st[0]++;
  st[1] = i + 1;
  return ST_OK;
}

/* ref-fvm amt_tests.rs for_each ((i+1) % 3 == 0 for i < 10000) and for_each_mutate. */
static void test_for_each(void **state) {
  (void)state;
  env e;
  env_new(&e);
  st_amt *a = amt_new(&e, 3);
  for (uint64_t i = 0; i < 10000; i++)
    if ((i + 1) % 3 == 0) set_bytes(a, i, "value");
  uint64_t st[2] = {0, 0};
  st_err err;
  assert_int_equal(st_amt_each(a, count_cb, st, &err), ST_OK);
  assert_int_equal(st[0], 3333);
  st_cid c;
  flush(a, &c);
  assert_cid(&c, "bafy2bzaceanqxtbsuyhqgxubiq6vshtbhktmzp2if4g6kxzttxmzkdxmtipcm");
  assert_int_equal(stats(&e).puts, 1431);
  assert_int_equal(stats(&e).put_bytes, 88649);
  st_amt *b = load(&e, &c);
  st[0] = st[1] = 0;
  assert_int_equal(st_amt_each(b, count_cb, st, &err), ST_OK);
  assert_int_equal(st[0], 3333);
  assert_int_equal(st[1], 9998 + 1);
  assert_int_equal(stats(&e).gets, 1431);
  assert_int_equal(stats(&e).get_bytes, 88649);
  st_amt_free(a);
  st_amt_free(b);

  st_memstore_stats_reset(e.m);
  a = amt_new(&e, 3);
  const uint64_t idx[] = {1, 9, 66, 74, 82, 515};
  for (size_t k = 0; k < 6; k++) set_bytes(a, idx[k], "value");
  flush(a, &c);
  assert_cid(&c, "bafy2bzaced44wtasbcukqjqicvxzcyn5up6sorr5khzbdkl6zjeo736f377ew");
  assert_int_equal(stats(&e).puts, 12);
  assert_int_equal(stats(&e).put_bytes, 573);
  st_amt_free(a);
  st_memstore_free(e.m);
}

/* ------------------------------------------------------------------ canonical form */

static void canonical_run(unsigned bw) {
  env e;
  env_new(&e);
  enum { N = 3000 };
  static uint64_t idx[N];
  for (size_t k = 0; k < N; k++) {
    idx[k] = rnd() & ((1u << 30) - 1);
    for (size_t j = 0; j < k; j++)
      if (idx[j] == idx[k]) idx[k] = (idx[k] + 1 + rnd()) & ((1u << 30) - 1), j = (size_t)-1;
  }
  st_amt *a = amt_new(&e, bw);
  for (size_t k = 0; k < N; k++) set_uint(a, idx[k], idx[k] * 7);
  unsigned full_h = st_amt_height(a);
  shuffle(idx, N);
  for (size_t k = N / 2; k < N; k++) del(a, idx[k], true);
  /* the survivors, set directly in another order */
  shuffle(idx, N / 2);
  st_amt *b = amt_new(&e, bw);
  uint64_t mx = 0;
  for (size_t k = 0; k < N / 2; k++) {
    set_uint(b, idx[k], idx[k] * 7);
    if (idx[k] > mx) mx = idx[k];
  }
  st_cid ca, cb;
  flush(a, &ca);
  flush(b, &cb);
  assert_true(st_cid_equal(&ca, &cb));
  assert_int_equal(st_amt_height(a), st_amt_height(b));
  assert_int_equal(st_amt_count(a), N / 2);
  /* delete all but the smallest few: the height shrinks to fit them */
  st_amt *r = load(&e, &ca);
  for (size_t k = 0; k < N / 2; k++)
    if (idx[k] >= 50) del(r, idx[k], true);
  unsigned h = st_amt_height(r), want = 0;
  uint64_t cap = (uint64_t)1 << bw;
  for (size_t k = 0; k < N / 2; k++)
    while (idx[k] < 50 && idx[k] >= cap) cap <<= bw, want++;
  assert_int_equal(h, want);
  assert_true(h < full_h);
  for (size_t k = 0; k < N / 2; k++)
    if (idx[k] < 50) del(r, idx[k], true);
  st_cid ce, empty;
  flush(r, &ce);
  st_amt *z = amt_new(&e, bw);
  flush(z, &empty);
  assert_true(st_cid_equal(&ce, &empty));
  st_amt_free(a);
  st_amt_free(b);
  st_amt_free(r);
  st_amt_free(z);
  st_memstore_free(e.m);
}

static void test_canonical(void **state) {
  (void)state;
  canonical_run(3);
  canonical_run(5);
  canonical_run(1);
}

/* go-amt-ipld amt_test.go TestCidStability: flushing after each append, then deleting backwards
 * gives each earlier root again (also after a load). */
static void test_cid_stability(void **state) {
  (void)state;
  env e;
  env_new(&e);
  enum { N = 500 };
  static st_cid cids[N];
  st_amt *a = amt_new(&e, 3);
  for (uint64_t i = 0; i < N; i++) {
    flush(a, &cids[i]);
    set_uint(a, i, i);
  }
  st_cid c;
  for (uint64_t i = N; i-- > 0;) {
    del(a, i, true);
    flush(a, &c);
    assert_true(st_cid_equal(&c, &cids[i]));
  }
  st_amt *b = load(&e, &cids[N - 1]);
  for (uint64_t i = N - 1; i-- > 0;) {
    del(b, i, true);
    flush(b, &c);
    assert_true(st_cid_equal(&c, &cids[i]));
  }
  st_amt_free(a);
  st_amt_free(b);
  st_memstore_free(e.m);
}

/* ------------------------------------------------------------------ model */

enum { MODEL_N = 3000 };
static uint64_t model[MODEL_N]; /* 0 = absent, else value + 1 */

static st_code model_cb(void *ctx, uint64_t i, const uint8_t *val, size_t vlen, st_err *err) {
  uint64_t *next = ctx;
  st_cbor_reader r;
  uint64_t v;
  st_cbor_reader_init(&r, val, vlen, err);
  if (st_cbor_read_uint(&r, &v) || i >= MODEL_N || i < *next) return ST_EINTERNAL;
  for (uint64_t k = *next; k < i; k++)
    if (model[k]) return ST_EINTERNAL;
  if (model[i] != v + 1) return ST_EINTERNAL;
  *next = i + 1;
  return ST_OK;
}

static void model_check(st_amt *a) {
  uint64_t next = 0, n = 0;
  st_err err;
  assert_int_equal(st_amt_each(a, model_cb, &next, &err), ST_OK);
  for (uint64_t k = next; k < MODEL_N; k++) assert_int_equal(model[k], 0);
  for (uint64_t k = 0; k < MODEL_N; k++) n += model[k] != 0;
  assert_int_equal(st_amt_count(a), n);
}

static void test_model(void **state) {
  (void)state;
  env e;
  env_new(&e);
  const unsigned bws[] = {1, 2, 3, 4, 5, 8};
  for (size_t t = 0; t < sizeof bws / sizeof bws[0]; t++) {
    memset(model, 0, sizeof model);
    st_amt *a = amt_new(&e, bws[t]);
    st_err err;
    st_buf b = ST_BUF_INIT;
    for (int op = 0; op < 20000; op++) {
      uint64_t i = rnd() % (op % 3 ? MODEL_N : 40), r = rnd() % 10;
      if (r < 5) {
        uint64_t v = rnd() % 100000;
        set_uint(a, i, v);
        model[i] = v + 1;
      } else if (r < 8) {
        del(a, i, model[i] != 0);
        model[i] = 0;
      } else {
        bool found;
        st_buf_reset(&b);
        assert_int_equal(st_amt_get(a, i, &b, &found, &err), ST_OK);
        assert_int_equal(found, model[i] != 0);
        if (found) {
          st_cbor_reader rd;
          uint64_t v;
          st_cbor_reader_init(&rd, b.data, b.len, &err);
          assert_int_equal(st_cbor_read_uint(&rd, &v), ST_OK);
          assert_int_equal(v + 1, model[i]);
        }
      }
      if (op % 2500 == 2499) {
        st_cid c;
        flush(a, &c);
        st_amt_free(a);
        a = load(&e, &c);
        model_check(a);
      }
    }
    model_check(a);
    st_buf_free(&b);
    st_amt_free(a);
  }
  st_memstore_free(e.m);
}

/* go-amt-ipld amt_test.go TestMaxRange: MaxIndex round-trips at every bitwidth. */
static void test_max_range(void **state) {
  (void)state;
  env e;
  env_new(&e);
  for (unsigned bw = 1; bw <= ST_AMT_MAX_BITWIDTH; bw++) {
    st_amt *a = amt_new(&e, bw);
    set_bytes(a, ST_AMT_MAX_INDEX, "what is up 1");
    st_cid c;
    flush(a, &c);
    st_amt *b = load(&e, &c);
    assert_get_bytes(b, ST_AMT_MAX_INDEX, "what is up 1");
    uint64_t st[2] = {0, 0};
    st_err err;
    assert_int_equal(st_amt_each(b, count_cb, st, &err), ST_OK);
    assert_int_equal(st[0], 1);
    assert_true(st[1] == UINT64_MAX); /* last index + 1 */
    st_amt_free(a);
    st_amt_free(b);
  }
  st_amt *a;
  st_err err;
  assert_int_equal(st_amt_new(e.bs, 0, &a, &err), ST_EINVAL);
  assert_null(a);
  assert_int_equal(st_amt_new(e.bs, ST_AMT_MAX_BITWIDTH + 1, &a, &err), ST_EINVAL);
  st_memstore_free(e.m);
}

/* ------------------------------------------------------------------ only the path */

static void test_path_only(void **state) {
  (void)state;
  env e;
  env_new(&e);
  st_amt *a = amt_new(&e, 5);
  for (uint64_t i = 0; i < 100000; i++) set_uint(a, i, i);
  st_cid c, c2;
  flush(a, &c);
  st_amt_free(a);
  a = load(&e, &c);
  unsigned h = st_amt_height(a);
  assert_int_equal(h, 3);
  st_memstore_stats_reset(e.m);
  set_uint(a, 54321, 7);
  flush(a, &c2);
  st_memstore_stats s = stats(&e);
  print_message("one change in 100000 entries (bitwidth 5, height %u): %" PRIu64 " puts, %" PRIu64 " bytes; %" PRIu64
                " gets, %" PRIu64 " bytes\n",
                h, s.puts, s.put_bytes, s.gets, s.get_bytes);
  assert_true(s.puts <= h + 1);
  assert_int_equal(s.gets, h);
  /* a second flush writes nothing; a delete also touches only its path */
  flush(a, &c);
  assert_int_equal(stats(&e).puts, s.puts);
  st_memstore_stats_reset(e.m);
  del(a, 99999, true);
  flush(a, &c);
  s = stats(&e);
  assert_true(s.puts <= h + 1);
  assert_int_equal(s.gets, h);
  st_amt_free(a);
  st_memstore_free(e.m);
}

/* ------------------------------------------------------------------ malformed */

static void put_obj(env *e, st_buf *b, st_cid *c) {
  st_err err;
  st_cid_of_cbor(b->data, b->len, c);
  assert_int_equal(e->bs.put(e->bs.ctx, c, b->data, b->len, &err), ST_OK);
}

/* Loads root bytes (and, with idx != UINT64_MAX, gets idx) and expects the error to mention want. */
static void expect_bad(env *e, st_buf *root, uint64_t idx, const char *want) {
  st_cid c;
  st_amt *a = (st_amt *)1;
  st_err err = {0};
  put_obj(e, root, &c);
  st_code rc = st_amt_load(e->bs, &c, &a, &err);
  if (idx != UINT64_MAX) {
    if (rc) fail_msg("load: %s", err.msg);
    st_buf v = ST_BUF_INIT;
    bool found = true;
    rc = st_amt_get(a, idx, &v, &found, &err);
    assert_false(found);
    st_buf_free(&v);
    st_amt_free(a);
  } else {
    assert_null(a);
  }
  assert_int_equal(rc, ST_EINVAL);
  tu_assert_err_contains(&err, want);
}

/* [bw, h, count, [bmap, links, values]] with the given pieces (links: n copies of cid). */
static void mk_root(st_buf *b, uint64_t bw, uint64_t h, uint64_t count, const uint8_t *bm, size_t bl, const st_cid *cid,
                    unsigned nl, unsigned nv) {
  st_buf_reset(b);
  st_cbor_put_array(b, 4);
  st_cbor_put_uint(b, bw);
  st_cbor_put_uint(b, h);
  st_cbor_put_uint(b, count);
  st_cbor_put_array(b, 3);
  st_cbor_put_bytes(b, bm, bl);
  st_cbor_put_array(b, nl);
  for (unsigned k = 0; k < nl; k++) st_cbor_put_cid(b, cid);
  st_cbor_put_array(b, nv);
  for (unsigned k = 0; k < nv; k++) st_cbor_put_uint(b, k);
}

static void test_malformed(void **state) {
  (void)state;
  env e;
  env_new(&e);
  st_buf b = ST_BUF_INIT, n = ST_BUF_INIT;
  const uint8_t one[] = {0x01}, three[] = {0x03}, two[] = {0x02}, four[4] = {1, 0, 0, 0}, high[] = {0x11};
  st_cid child, raw;
  /* a valid leaf node [h'01', [], [0]] for links to point at */
  st_cbor_put_array(&n, 3);
  st_cbor_put_bytes(&n, one, 1);
  st_cbor_put_array(&n, 0);
  st_cbor_put_array(&n, 1);
  st_cbor_put_uint(&n, 0);
  put_obj(&e, &n, &child);
  st_cid_of_commitment((const uint8_t[32]){1}, false, &raw);

  mk_root(&b, 3, 0, 1, three, 1, NULL, 0, 1);
  expect_bad(&e, &b, UINT64_MAX, "bmap has 2 bits set but node has 1 values");
  mk_root(&b, 3, 1, 2, one, 1, &child, 2, 0);
  expect_bad(&e, &b, UINT64_MAX, "bmap has 1 bits set but node has 2 links");
  mk_root(&b, 3, 1, 2, two, 1, &child, 1, 1);
  expect_bad(&e, &b, UINT64_MAX, "both links and values");
  mk_root(&b, 3, 1, 1, one, 1, NULL, 0, 1);
  expect_bad(&e, &b, UINT64_MAX, "values in a node at height > 0");
  mk_root(&b, 3, 0, 1, one, 1, &child, 1, 0);
  expect_bad(&e, &b, UINT64_MAX, "links in a node at height 0");
  mk_root(&b, 5, 0, 1, one, 1, NULL, 0, 1);
  expect_bad(&e, &b, UINT64_MAX, "bmap is 1 bytes, want 4 for bitwidth 5");
  mk_root(&b, 3, 0, 1, four, 4, NULL, 0, 1);
  expect_bad(&e, &b, UINT64_MAX, "bmap is 4 bytes, want 1 for bitwidth 3");
  mk_root(&b, 0, 0, 1, one, 1, NULL, 0, 1);
  expect_bad(&e, &b, UINT64_MAX, "bitwidth 0 outside [1, 18]");
  mk_root(&b, 19, 0, 1, one, 1, NULL, 0, 1);
  expect_bad(&e, &b, UINT64_MAX, "bitwidth 19 outside");
  mk_root(&b, 3, 0, 5, one, 1, NULL, 0, 1);
  expect_bad(&e, &b, UINT64_MAX, "count 5 inconsistent with 1 root slots");
  mk_root(&b, 3, 2, 1, two, 1, &child, 1, 0);
  st_cbor_put_uint(&b, 0); /* trailing */
  expect_bad(&e, &b, UINT64_MAX, "1 trailing byte");
  mk_root(&b, 3, 22, 1, two, 1, &child, 1, 0);
  expect_bad(&e, &b, UINT64_MAX, "height 22 out of bounds for bitwidth 3");
  mk_root(&b, 3, 65, 1, two, 1, &child, 1, 0);
  expect_bad(&e, &b, UINT64_MAX, "height 65 out of bounds");
  mk_root(&b, 3, 0, 9, one, 1, NULL, 0, 1);
  expect_bad(&e, &b, UINT64_MAX, "count 9 too large for height 0");
  mk_root(&b, 2, 0, 1, high, 1, NULL, 0, 1);
  expect_bad(&e, &b, UINT64_MAX, "bmap has bits set past width 4");
  mk_root(&b, 3, 1, 0, (const uint8_t[]){0}, 1, NULL, 0, 0);
  expect_bad(&e, &b, UINT64_MAX, "empty node");
  mk_root(&b, 3, 1, 1, two, 1, &raw, 1, 0);
  expect_bad(&e, &b, UINT64_MAX, "link 1 has codec 0xf101, want dag-cbor");
  st_buf_reset(&b);
  st_cbor_put_array(&b, 3);
  for (int k = 0; k < 3; k++) st_cbor_put_uint(&b, 3);
  expect_bad(&e, &b, UINT64_MAX, "amt root at offset 0: expected an array of 4 items, found 3");
  /* children are checked when loaded: a leaf where links are due, an empty node, links at 0 */
  mk_root(&b, 3, 2, 1, two, 1, &child, 1, 0);
  expect_bad(&e, &b, 64, "values in a node at height > 0");
  st_buf_reset(&n);
  st_cbor_put_array(&n, 3);
  st_cbor_put_bytes(&n, (const uint8_t[]){0}, 1);
  st_cbor_put_array(&n, 0);
  st_cbor_put_array(&n, 0);
  st_cid empty_child;
  put_obj(&e, &n, &empty_child);
  mk_root(&b, 3, 1, 1, two, 1, &empty_child, 1, 0);
  expect_bad(&e, &b, 8, "empty node");
  st_buf_reset(&n);
  st_cbor_put_array(&n, 3);
  st_cbor_put_bytes(&n, one, 1);
  st_cbor_put_array(&n, 1);
  st_cbor_put_cid(&n, &child);
  st_cbor_put_array(&n, 0);
  st_cid link_leaf;
  put_obj(&e, &n, &link_leaf);
  mk_root(&b, 3, 1, 1, two, 1, &link_leaf, 1, 0);
  expect_bad(&e, &b, 8, "links in a node at height 0");
  /* a value that is not one CBOR item */
  st_amt *a = amt_new(&e, 3);
  st_err err;
  assert_int_equal(st_amt_set(a, 1, (const uint8_t[]){0x82, 0x01}, 2, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "amt: value for index 1");
  assert_int_equal(st_amt_count(a), 0);
  st_amt_free(a);
  st_buf_free(&b);
  st_buf_free(&n);
  st_memstore_free(e.m);
}

/* ------------------------------------------------------------------ fuzz */

static st_code nop_cb(void *ctx, uint64_t i, const uint8_t *val, size_t vlen, st_err *err) {
  (void)ctx, (void)i, (void)val, (void)vlen, (void)err;
  return ST_OK;
}

static void mutate(const st_buf *src, st_buf *dst) {
  st_buf_reset(dst);
  st_buf_append(dst, src->data, src->len);
  int muts = 1 + (int)(rnd() % 3);
  for (int k = 0; k < muts && dst->len > 0; k++) {
    size_t at = rnd() % dst->len;
    switch (rnd() % 4) {
      case 0: dst->data[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
      case 1: dst->data[at] = (uint8_t)rnd(); break;
      case 2: dst->len = at; break;
      default:
        memmove(dst->data + at, dst->data + at + 1, dst->len - at - 1);
        dst->len--;
        break;
    }
  }
}

/* Mutated roots and mutated child nodes load, iterate, get, set and flush without crashing;
 * every failure carries a message. */
static void test_fuzz(void **state) {
  (void)state;
  env e;
  env_new(&e);
  st_amt *a = amt_new(&e, 3);
  for (uint64_t i = 0; i < 40; i += 3) set_uint(a, i, i * 1000);
  set_bytes(a, 100, "a value");
  st_cid c;
  flush(a, &c);
  st_amt_free(a);
  st_buf root = ST_BUF_INIT, leaf = ST_BUF_INIT, m = ST_BUF_INIT, r2 = ST_BUF_INIT, v = ST_BUF_INIT;
  st_err err;
  assert_int_equal(e.bs.get(e.bs.ctx, &c, &root, &err), ST_OK);
  /* a leaf node to mutate: [h'ff', [], [0..7 as text]] */
  st_cbor_put_array(&leaf, 3);
  st_cbor_put_bytes(&leaf, (const uint8_t[]){0xff}, 1);
  st_cbor_put_array(&leaf, 0);
  st_cbor_put_array(&leaf, 8);
  for (int k = 0; k < 8; k++) st_cbor_put_cstr(&leaf, "xy");
  int loaded = 0;
  for (int it = 0; it < 4000; it++) {
    st_cid mc;
    if (it % 2 == 0) {
      mutate(&root, &m);
      put_obj(&e, &m, &mc);
    } else { /* root [3, 1, 8, [h'02', [mutated leaf], []]] */
      mutate(&leaf, &m);
      st_cid lc;
      put_obj(&e, &m, &lc);
      mk_root(&r2, 3, 1, 8, (const uint8_t[]){0x02}, 1, &lc, 1, 0);
      put_obj(&e, &r2, &mc);
    }
    st_amt *f;
    err.msg[0] = 0;
    if (st_amt_load(e.bs, &mc, &f, &err) != ST_OK) {
      assert_null(f);
      assert_true(err.msg[0] != 0);
      continue;
    }
    loaded++;
    st_code rc = st_amt_each(f, nop_cb, NULL, &err);
    if (rc) assert_true(err.msg[0] != 0);
    bool found;
    for (uint64_t i = 0; i < 120; i += 7) {
      st_buf_reset(&v);
      (void)st_amt_get(f, i, &v, &found, &err);
    }
    (void)st_amt_get(f, ST_AMT_MAX_INDEX, &v, &found, &err);
    (void)st_amt_delete(f, 9, &found, &err);
    uint8_t one = 0x01;
    (void)st_amt_set(f, 13, &one, 1, &err);
    (void)st_amt_flush(f, &mc, &err);
    st_amt_free(f);
  }
  print_message("fuzz: %d of 4000 mutated AMTs loaded\n", loaded);
  st_buf_free(&root);
  st_buf_free(&leaf);
  st_buf_free(&m);
  st_buf_free(&r2);
  st_buf_free(&v);
  st_memstore_free(e.m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_basic_get_set),
      cmocka_unit_test(test_out_of_range),
      cmocka_unit_test(test_expand),
      cmocka_unit_test(test_bulk_insert),
      cmocka_unit_test(test_delete),
      cmocka_unit_test(test_delete_reduce_height),
      cmocka_unit_test(test_for_each),
      cmocka_unit_test(test_canonical),
      cmocka_unit_test(test_cid_stability),
      cmocka_unit_test(test_model),
      cmocka_unit_test(test_max_range),
      cmocka_unit_test(test_path_only),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_fuzz),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
