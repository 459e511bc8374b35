/* st_hamt: the HAMT of st_hamt.h, as a tree of cached nodes over an st_blockstore.
 *
 * A node keeps its bitmap little-endian in memory (bit i at bm[i/8] & 1<<(i%8), big.Int's bit
 * i) and its pointers in bitmap order. A link pointer holds its child's CID and, once loaded,
 * the child; the CID is stale while the child is dirty. A KV owns one allocation: key bytes then
 * the value's CBOR bytes. Every change loads before it modifies, so a failure changes nothing. */
#include "codec/st_hamt.h"

#include <stdlib.h>
#include <string.h>

#include "codec/st_cbor.h"
#include "crypto/st_hash.h"

typedef struct hkv {
  uint8_t *key; /* owns key then value */
  size_t klen;
  const uint8_t *val;
  size_t vlen;
} hkv;

typedef struct hnode hnode;

typedef struct hptr {
  unsigned nkv; /* 0: a link */
  hkv kv[ST_HAMT_BUCKET];
  st_cid cid;   /* a link's child CID (stale while child->dirty) */
  hnode *child; /* a link's child once loaded */
} hptr;

struct hnode {
  uint8_t bm[32];
  unsigned n, cap;
  hptr *p;
  bool dirty;
};

struct st_hamt {
  st_blockstore bs;
  unsigned bw;
  hnode *root;
  st_cid root_cid; /* valid while !root->dirty */
  size_t loaded;
};

/* ---- bitmap, hash bits, KVs ---- */

static bool bit_get(const hnode *nd, unsigned i) { return (nd->bm[i >> 3] >> (i & 7)) & 1; }

static void bit_put(hnode *nd, unsigned i, bool v) {
  if (v) nd->bm[i >> 3] |= (uint8_t)(1u << (i & 7));
  else nd->bm[i >> 3] &= (uint8_t) ~(1u << (i & 7));
}

/* The number of set bits below i: the position of index i's pointer. */
static unsigned rank(const hnode *nd, unsigned i) {
  unsigned c = 0;
  for (unsigned j = 0; j < i >> 3; j++) c += (unsigned)__builtin_popcount(nd->bm[j]);
  if (i & 7) c += (unsigned)__builtin_popcount(nd->bm[i >> 3] & ((1u << (i & 7)) - 1));
  return c;
}

/* Bits [d*bw, d*bw+bw) of the digest, MSB first; false past the digest's 256 bits. */
static bool hash_index(const uint8_t hs[32], unsigned d, unsigned bw, unsigned *idx) {
  unsigned start = d * bw, v = 0;
  if (start + bw > 256) return false;
  for (unsigned b = start; b < start + bw; b++) v = v << 1 | ((hs[b >> 3] >> (7 - (b & 7))) & 1);
  *idx = v;
  return true;
}

/* bytes.Compare order. */
static int key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
  int c = memcmp(a, b, al < bl ? al : bl);
  if (c) return c;
  return al < bl ? -1 : al > bl;
}

static bool kv_new(const void *key, size_t klen, const void *val, size_t vlen, hkv *out) {
  uint8_t *m = malloc(klen + vlen + 1);
  if (!m) return false;
  if (klen) memcpy(m, key, klen);
  if (vlen) memcpy(m + klen, val, vlen);
  *out = (hkv){m, klen, m + klen, vlen};
  return true;
}

static void kv_free(hkv *kv) {
  free(kv->key);
  memset(kv, 0, sizeof *kv);
}

static st_code enomem(st_err *err) { return st_err_set(err, ST_ENOMEM, "hamt: out of memory"); }

/* ---- nodes ---- */

static hnode *node_new(st_hamt *h) {
  hnode *nd = calloc(1, sizeof *nd);
  if (nd) h->loaded++;
  return nd;
}

static void node_free(st_hamt *h, hnode *nd) {
  if (!nd) return;
  for (unsigned i = 0; i < nd->n; i++) {
    for (unsigned j = 0; j < nd->p[i].nkv; j++) kv_free(&nd->p[i].kv[j]);
    node_free(h, nd->p[i].child);
  }
  free(nd->p);
  free(nd);
  h->loaded--;
}

/* Opens a zeroed pointer slot at pos (the caller sets the bitmap bit). */
static bool ptr_insert(hnode *nd, unsigned pos) {
  if (nd->n == nd->cap) {
    unsigned cap = nd->cap ? nd->cap * 2 : 2;
    hptr *p = realloc(nd->p, cap * sizeof *p);
    if (!p) return false;
    nd->p = p;
    nd->cap = cap;
  }
  memmove(&nd->p[pos + 1], &nd->p[pos], (nd->n - pos) * sizeof *nd->p);
  memset(&nd->p[pos], 0, sizeof *nd->p);
  nd->n++;
  return true;
}

static void ptr_remove(hnode *nd, unsigned pos, unsigned idx) {
  memmove(&nd->p[pos], &nd->p[pos + 1], (nd->n - pos - 1) * sizeof *nd->p);
  nd->n--;
  bit_put(nd, idx, false);
}

static void node_encode(const hnode *nd, st_buf *b) {
  uint8_t be[32];
  int hi = 31;
  while (hi >= 0 && !nd->bm[hi]) hi--;
  for (int j = 0; j <= hi; j++) be[j] = nd->bm[hi - j];
  st_cbor_put_array(b, 2);
  st_cbor_put_bytes(b, be, (size_t)(hi + 1));
  st_cbor_put_array(b, nd->n);
  for (unsigned i = 0; i < nd->n; i++) {
    const hptr *p = &nd->p[i];
    if (!p->nkv) {
      st_cbor_put_cid(b, &p->cid);
      continue;
    }
    st_cbor_put_array(b, p->nkv);
    for (unsigned j = 0; j < p->nkv; j++) {
      st_cbor_put_array(b, 2);
      st_cbor_put_bytes(b, p->kv[j].key, p->kv[j].klen);
      st_buf_append(b, p->kv[j].val, p->kv[j].vlen);
    }
  }
}

#define BAD(...) (rc = st_err_set(err, ST_EINVAL, "hamt node: " __VA_ARGS__))

/* One bucket at pointer pos (index idx) of a node at depth d. */
static st_code decode_bucket(st_cbor_reader *r, const st_hamt *h, unsigned d, unsigned idx, unsigned pos, hptr *p,
                             st_err *err) {
  uint64_t m;
  st_code rc = st_cbor_read_array(r, &m);
  if (rc) return rc;
  if (m == 0) return BAD("pointer %u: empty bucket", pos);
  if (m > ST_HAMT_BUCKET)
    return BAD("pointer %u: bucket of %llu KVs (at most %d)", pos, (unsigned long long)m, ST_HAMT_BUCKET);
  for (unsigned j = 0; j < m; j++) {
    const uint8_t *key;
    size_t klen;
    if ((rc = st_cbor_expect_array(r, 2, "hamt KV")) || (rc = st_cbor_read_bytes(r, &key, &klen))) return rc;
    size_t voff = r->off;
    if ((rc = st_cbor_skip(r))) return rc;
    if (j) {
      int c = key_cmp(p->kv[j - 1].key, p->kv[j - 1].klen, key, klen);
      if (c == 0) return BAD("pointer %u: repeated key at offset %zu", pos, voff);
      if (c > 0) return BAD("pointer %u: keys not sorted at offset %zu", pos, voff);
    }
    uint8_t hs[32];
    unsigned ki;
    st_sha256(key, klen, hs);
    if (!hash_index(hs, d, h->bw, &ki)) return BAD("node at depth %u is deeper than the hash allows", d);
    if (ki != idx) return BAD("pointer %u: key hashes to index %u, not %u", pos, ki, idx);
    if (!kv_new(key, klen, r->buf + voff, r->off - voff, &p->kv[j])) return enomem(err);
    p->nkv++;
  }
  return ST_OK;
}

/* Decodes and checks a node at depth d (0: the root). *out NULL on failure. */
static st_code node_decode(st_hamt *h, const uint8_t *buf, size_t len, unsigned d, hnode **out, st_err *err) {
  st_cbor_reader r;
  const uint8_t *bmp = NULL;
  size_t bml = 0;
  uint64_t n = 0;
  unsigned width = 1u << h->bw, pc = 0, links = 0, kvs = 0;
  hnode *nd = node_new(h);
  *out = NULL;
  if (!nd) return enomem(err);
  st_cbor_reader_init(&r, buf, len, err);
  st_code rc = st_cbor_expect_array(&r, 2, "hamt node");
  if (!rc) rc = st_cbor_read_bytes(&r, &bmp, &bml);
  if (rc) goto out;
  if (bml && bmp[0] == 0) {
    BAD("bitmap has a leading zero byte");
    goto out;
  }
  if (bml > (width + 7) / 8) {
    BAD("bitmap of %zu bytes has bits at or past 2^%u", bml, h->bw);
    goto out;
  }
  for (size_t j = 0; j < bml; j++) nd->bm[j] = bmp[bml - 1 - j];
  for (unsigned i = 0; i < bml * 8; i++) {
    if (!bit_get(nd, i)) continue;
    if (i >= width) {
      BAD("bitmap bit %u is at or past 2^%u", i, h->bw);
      goto out;
    }
    pc++;
  }
  if ((rc = st_cbor_read_array(&r, &n))) goto out;
  if (n != pc) {
    BAD("bitmap has %u bits set but there are %llu pointers", pc, (unsigned long long)n);
    goto out;
  }
  if (n && !(nd->p = calloc(n, sizeof *nd->p))) {
    rc = enomem(err);
    goto out;
  }
  nd->cap = (unsigned)n;
  for (unsigned idx = 0; idx < width && !rc; idx++) {
    if (!bit_get(nd, idx)) continue;
    unsigned pos = nd->n++;
    hptr *p = &nd->p[pos];
    st_cbor_item it;
    if ((rc = st_cbor_peek(&r, &it))) break;
    if (it.type == ST_CBOR_TAG) {
      if (!(rc = st_cbor_read_cid(&r, &p->cid)) && p->cid.codec != ST_CODEC_DAG_CBOR)
        BAD("pointer %u: link is not dag-cbor (%s)", pos, st_cid_codec_name(p->cid.codec));
      links++;
    } else if (it.type == ST_CBOR_ARRAY) {
      rc = decode_bucket(&r, h, d, idx, pos, p, err);
      kvs += p->nkv;
    } else {
      BAD("pointer %u at offset %zu is %s, neither a link nor a bucket", pos, it.off, st_cbor_type_name(it.type));
    }
  }
  if (rc || (rc = st_cbor_finish(&r))) goto out;
  if (d > 0 && n == 0) BAD("empty non-root node");
  else if (d > 0 && links == 0 && kvs <= ST_HAMT_BUCKET)
    BAD("non-root node with no links and %u KVs (must be a bucket in its parent)", kvs);
out:
  if (rc) {
    node_free(h, nd);
    return rc;
  }
  *out = nd;
  return ST_OK;
}

/* Loads p's child (at depth d) unless it is in memory. */
static st_code load_child(st_hamt *h, hptr *p, unsigned d, st_err *err) {
  if (p->child) return ST_OK;
  st_buf b = ST_BUF_INIT;
  st_code rc = h->bs.get(h->bs.ctx, &p->cid, &b, err);
  if (!rc) rc = st_buf_status(&b, err);
  if (!rc) rc = node_decode(h, b.data, b.len, d, &p->child, err);
  st_buf_free(&b);
  if (rc) {
    char s[ST_CID_STR_MAX];
    st_cid_to_string(&p->cid, s);
    return st_err_wrap(err, rc, "hamt: node %s at depth %u", s, d);
  }
  return ST_OK;
}

/* ---- operations ---- */

static st_code too_deep(st_err *err, unsigned d) {
  return st_err_set(err, ST_ERANGE, "hamt: keys collide past depth %u (the hash has no bits left)", d);
}

/* Puts kv (hashes hs) into nd at depth d; consumes kv on ST_OK only. *changed: a value changed. */
static st_code insert(st_hamt *h, hnode *nd, unsigned d, const uint8_t hs[32], hkv *kv, bool *changed, st_err *err) {
  unsigned idx;
  if (!hash_index(hs, d, h->bw, &idx)) return too_deep(err, d);
  unsigned pos = rank(nd, idx);
  if (!bit_get(nd, idx)) {
    if (!ptr_insert(nd, pos)) return enomem(err);
    bit_put(nd, idx, true);
    nd->p[pos].nkv = 1;
    nd->p[pos].kv[0] = *kv;
    return *changed = nd->dirty = true, ST_OK;
  }
  hptr *p = &nd->p[pos];
  if (!p->nkv) {
    st_code rc = load_child(h, p, d + 1, err);
    if (!rc) rc = insert(h, p->child, d + 1, hs, kv, changed, err);
    if (!rc && *changed) nd->dirty = true;
    return rc;
  }
  unsigned j = 0;
  while (j < p->nkv && key_cmp(p->kv[j].key, p->kv[j].klen, kv->key, kv->klen) < 0) j++;
  if (j < p->nkv && key_cmp(p->kv[j].key, p->kv[j].klen, kv->key, kv->klen) == 0) {
    bool same = p->kv[j].vlen == kv->vlen && memcmp(p->kv[j].val, kv->val, kv->vlen) == 0;
    kv_free(same ? kv : &p->kv[j]);
    if (!same) p->kv[j] = *kv, *changed = nd->dirty = true;
    return ST_OK;
  }
  if (p->nkv < ST_HAMT_BUCKET) {
    memmove(&p->kv[j + 1], &p->kv[j], (p->nkv - j) * sizeof *kv);
    p->kv[j] = *kv;
    p->nkv++;
    return *changed = nd->dirty = true, ST_OK;
  }
  /* A full bucket: a child one level down with copies of its KVs, then kv. */
  hnode *sub = node_new(h);
  if (!sub) return enomem(err);
  st_code rc = ST_OK;
  for (unsigned k = 0; k < p->nkv && !rc; k++) {
    uint8_t khs[32];
    hkv c;
    bool ch = false;
    st_sha256(p->kv[k].key, p->kv[k].klen, khs);
    if (!kv_new(p->kv[k].key, p->kv[k].klen, p->kv[k].val, p->kv[k].vlen, &c)) rc = enomem(err);
    else if ((rc = insert(h, sub, d + 1, khs, &c, &ch, err))) kv_free(&c);
  }
  bool ch = false;
  if (!rc) rc = insert(h, sub, d + 1, hs, kv, &ch, err);
  if (rc) {
    node_free(h, sub);
    return rc;
  }
  for (unsigned k = 0; k < p->nkv; k++) kv_free(&p->kv[k]);
  memset(p, 0, sizeof *p);
  p->child = sub;
  return *changed = nd->dirty = true, ST_OK;
}

/* After a delete below pointer pos: a child with no links and <= 3 KVs becomes one sorted bucket
 * (go-hamt-ipld cleanChild). */
static void clean_child(st_hamt *h, hnode *nd, unsigned pos) {
  hnode *ch = nd->p[pos].child;
  hkv t[ST_HAMT_BUCKET];
  unsigned total = 0;
  for (unsigned i = 0; i < ch->n; i++)
    if (!ch->p[i].nkv || (total += ch->p[i].nkv) > ST_HAMT_BUCKET) return;
  if (total == 0) return;
  total = 0;
  for (unsigned i = 0; i < ch->n; i++)
    for (unsigned j = 0; j < ch->p[i].nkv; j++) {
      hkv kv = ch->p[i].kv[j];
      unsigned k = total++;
      for (; k > 0 && key_cmp(t[k - 1].key, t[k - 1].klen, kv.key, kv.klen) > 0; k--) t[k] = t[k - 1];
      t[k] = kv;
    }
  ch->n = 0; /* the KVs moved */
  node_free(h, ch);
  hptr *p = &nd->p[pos];
  memset(p, 0, sizeof *p);
  p->nkv = total;
  memcpy(p->kv, t, total * sizeof *t);
}

static st_code del(st_hamt *h, hnode *nd, unsigned d, const uint8_t hs[32], const void *key, size_t klen, bool *found,
                   st_err *err) {
  unsigned idx;
  if (!hash_index(hs, d, h->bw, &idx)) return st_err_set(err, ST_EINVAL, "hamt: tree deeper than the hash allows");
  if (!bit_get(nd, idx)) return ST_OK;
  unsigned pos = rank(nd, idx);
  hptr *p = &nd->p[pos];
  if (!p->nkv) {
    st_code rc = load_child(h, p, d + 1, err);
    if (!rc) rc = del(h, p->child, d + 1, hs, key, klen, found, err);
    if (rc || !*found) return rc;
    nd->dirty = true;
    clean_child(h, nd, pos);
    return ST_OK;
  }
  for (unsigned j = 0; j < p->nkv; j++) {
    if (key_cmp(p->kv[j].key, p->kv[j].klen, key, klen)) continue;
    kv_free(&p->kv[j]);
    if (p->nkv == 1) {
      ptr_remove(nd, pos, idx);
    } else {
      memmove(&p->kv[j], &p->kv[j + 1], (p->nkv - j - 1) * sizeof *p->kv);
      p->nkv--;
    }
    return *found = nd->dirty = true, ST_OK;
  }
  return ST_OK;
}

static st_code flush_node(st_hamt *h, hnode *nd, st_cid *cid, st_buf *b, st_err *err) {
  st_code rc = ST_OK;
  for (unsigned i = 0; i < nd->n && !rc; i++)
    if (nd->p[i].child && nd->p[i].child->dirty) rc = flush_node(h, nd->p[i].child, &nd->p[i].cid, b, err);
  if (rc) return rc;
  st_buf_reset(b);
  node_encode(nd, b);
  if ((rc = st_buf_status(b, err))) return rc;
  st_cid tmp;
  st_cid_of_cbor(b->data, b->len, &tmp);
  if ((rc = h->bs.put(h->bs.ctx, &tmp, b->data, b->len, err))) return st_err_wrap(err, rc, "hamt: writing a node");
  *cid = tmp;
  nd->dirty = false;
  return ST_OK;
}

static st_code each_node(st_hamt *h, hnode *nd, unsigned d, st_hamt_each_fn fn, void *ctx, st_err *err) {
  st_code rc = ST_OK;
  for (unsigned i = 0; i < nd->n && !rc; i++) {
    hptr *p = &nd->p[i];
    for (unsigned j = 0; j < p->nkv && !rc; j++)
      rc = fn(ctx, p->kv[j].key, p->kv[j].klen, p->kv[j].val, p->kv[j].vlen, err);
    if (p->nkv || rc) continue;
    bool cached = p->child != NULL;
    if (!(rc = load_child(h, p, d + 1, err))) rc = each_node(h, p->child, d + 1, fn, ctx, err);
    if (!cached) { /* a walk keeps only its path in memory */
      node_free(h, p->child);
      p->child = NULL;
    }
  }
  return rc;
}

/* ---- API ---- */

static st_code hamt_alloc(st_blockstore bs, unsigned bitwidth, st_hamt **out, st_err *err) {
  *out = NULL;
  if (bitwidth < 1 || bitwidth > 8) return st_err_set(err, ST_EINVAL, "hamt: bitwidth %u is not in 1..8", bitwidth);
  if (!bs.get || !bs.put) return st_err_set(err, ST_EINVAL, "hamt: block store without get or put");
  st_hamt *h = calloc(1, sizeof *h);
  if (!h) return enomem(err);
  h->bs = bs;
  h->bw = bitwidth;
  *out = h;
  return ST_OK;
}

st_code st_hamt_new(st_blockstore bs, unsigned bitwidth, st_hamt **out, st_err *err) {
  st_code rc = hamt_alloc(bs, bitwidth, out, err);
  if (rc) return rc;
  if (!((*out)->root = node_new(*out))) {
    st_hamt_free(*out);
    *out = NULL;
    return enomem(err);
  }
  (*out)->root->dirty = true;
  return ST_OK;
}

st_code st_hamt_load(st_blockstore bs, const st_cid *root, unsigned bitwidth, st_hamt **out, st_err *err) {
  st_code rc = hamt_alloc(bs, bitwidth, out, err);
  if (rc) return rc;
  st_hamt *h = *out;
  hptr p = {.cid = *root};
  if ((rc = load_child(h, &p, 0, err))) {
    st_hamt_free(h);
    *out = NULL;
    return st_err_wrap(err, rc, "hamt: loading the root");
  }
  h->root = p.child;
  h->root_cid = *root;
  return ST_OK;
}

void st_hamt_free(st_hamt *h) {
  if (!h) return;
  node_free(h, h->root);
  free(h);
}

st_code st_hamt_get(st_hamt *h, const void *key, size_t klen, st_buf *val, bool *found, st_err *err) {
  uint8_t hs[32];
  hnode *nd = h->root;
  *found = false;
  st_sha256(key, klen, hs);
  for (unsigned d = 0;; d++) {
    unsigned idx;
    if (!hash_index(hs, d, h->bw, &idx)) return st_err_set(err, ST_EINVAL, "hamt: tree deeper than the hash allows");
    if (!bit_get(nd, idx)) return ST_OK;
    hptr *p = &nd->p[rank(nd, idx)];
    if (!p->nkv) {
      st_code rc = load_child(h, p, d + 1, err);
      if (rc) return rc;
      nd = p->child;
      continue;
    }
    for (unsigned j = 0; j < p->nkv; j++) {
      if (key_cmp(p->kv[j].key, p->kv[j].klen, key, klen)) continue;
      st_buf_append(val, p->kv[j].val, p->kv[j].vlen);
      st_code rc = st_buf_status(val, err);
      *found = rc == ST_OK;
      return rc;
    }
    return ST_OK;
  }
}

st_code st_hamt_set(st_hamt *h, const void *key, size_t klen, const void *val, size_t vlen, st_err *err) {
  st_code rc = st_cbor_validate(val, vlen, 0, 0, err);
  if (rc) return st_err_wrap(err, rc, "hamt: value");
  uint8_t hs[32];
  hkv kv;
  bool changed = false;
  st_sha256(key, klen, hs);
  if (!kv_new(key, klen, val, vlen, &kv)) return enomem(err);
  if ((rc = insert(h, h->root, 0, hs, &kv, &changed, err))) kv_free(&kv);
  return rc;
}

st_code st_hamt_delete(st_hamt *h, const void *key, size_t klen, bool *found, st_err *err) {
  uint8_t hs[32];
  *found = false;
  st_sha256(key, klen, hs);
  st_code rc = del(h, h->root, 0, hs, key, klen, found, err);
  if (rc) *found = false;
  return rc;
}

st_code st_hamt_flush(st_hamt *h, st_cid *root, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_code rc = ST_OK;
  if (h->root->dirty) rc = flush_node(h, h->root, &h->root_cid, &b, err);
  st_buf_free(&b);
  if (rc) {
    memset(root, 0, sizeof *root);
    return rc;
  }
  if (h->loaded > ST_HAMT_CACHE_NODES) {
    for (unsigned i = 0; i < h->root->n; i++) {
      node_free(h, h->root->p[i].child);
      h->root->p[i].child = NULL;
    }
  }
  *root = h->root_cid;
  return ST_OK;
}

st_code st_hamt_each(st_hamt *h, st_hamt_each_fn fn, void *ctx, st_err *err) {
  return each_node(h, h->root, 0, fn, ctx, err);
}

size_t st_hamt_cached_nodes(const st_hamt *h) { return h->loaded; }
