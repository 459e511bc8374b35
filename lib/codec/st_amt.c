/* st_amt: the AMT of go-amt-ipld v4 / fvm_ipld_amt (see st_amt.h for the encoding). In memory a
 * node expands its bmap into width slots of values (height 0) or links (height > 0); a link
 * keeps its CID, the child once loaded, and a dirty flag for flush. */
#include "codec/st_amt.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "codec/st_cbor.h"

typedef struct amt_val {
  size_t len;
  uint8_t b[];
} amt_val;

typedef struct amt_node amt_node;

typedef struct amt_link {
  st_cid cid;     /* valid unless dirty */
  amt_node *node; /* NULL until loaded */
  bool dirty;
} amt_link;

struct amt_node {
  uint32_t n;       /* occupied slots */
  amt_link **links; /* width slots, or NULL */
  amt_val **vals;   /* width slots, or NULL */
};

struct st_amt {
  st_blockstore bs;
  unsigned bw, height;
  uint64_t count;
  amt_node root;
  bool clean; /* root_cid is the CID of the contents */
  st_cid root_cid;
};

static uint64_t nfh(unsigned bw, unsigned h) {
  uint64_t s = (uint64_t)bw * h;
  return s >= 64 ? UINT64_MAX : (uint64_t)1 << s;
}

static size_t bmap_len(unsigned bw) { return bw <= 3 ? 1 : (size_t)1 << (bw - 3); }

static void node_free(amt_node *n, uint32_t w);

static void node_clear(amt_node *n, uint32_t w) {
  for (uint32_t s = 0; n->links && s < w; s++) {
    if (n->links[s]) node_free(n->links[s]->node, w);
    free(n->links[s]);
  }
  for (uint32_t s = 0; n->vals && s < w; s++) free(n->vals[s]);
  free(n->links);
  free(n->vals);
  memset(n, 0, sizeof *n);
}

static void node_free(amt_node *n, uint32_t w) {
  if (!n) return;
  node_clear(n, w);
  free(n);
}

static amt_node *node_new(uint32_t w, bool leaf) {
  amt_node *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  if (leaf) n->vals = calloc(w, sizeof *n->vals);
  else n->links = calloc(w, sizeof *n->links);
  if (!n->vals && !n->links) {
    free(n);
    return NULL;
  }
  return n;
}

static amt_link *link_new(amt_node *child) {
  amt_link *l = calloc(1, sizeof *l);
  if (l) {
    l->node = child;
    l->dirty = true;
  }
  return l;
}

static st_code nomem(st_err *err) { return st_err_set(err, ST_ENOMEM, "amt: out of memory"); }

/* ---- decoding ---- */

/* Reads one Node at r into out (zeroed); leaf says whether it sits at height 0. */
static st_code node_decode(st_cbor_reader *r, unsigned bw, bool leaf, bool allow_empty, amt_node *out, st_err *err) {
  uint32_t w = 1u << bw, pc = 0;
  const uint8_t *bm;
  size_t bl;
  uint64_t nl, nv;
  st_code rc = st_cbor_expect_array(r, 3, "amt node");
  if (!rc) rc = st_cbor_read_bytes(r, &bm, &bl);
  if (rc) return rc;
  if (bl != bmap_len(bw))
    return st_err_set(err, ST_EINVAL, "bmap is %zu bytes, want %zu for bitwidth %u", bl, bmap_len(bw), bw);
  if (w < 8 && (bm[0] >> w) != 0) return st_err_set(err, ST_EINVAL, "bmap has bits set past width %u", w);
  for (size_t k = 0; k < bl; k++) pc += (uint32_t)__builtin_popcount(bm[k]);
  if ((rc = st_cbor_read_array(r, &nl))) return rc;
  if (nl > 0) {
    if (leaf) return st_err_set(err, ST_EINVAL, "links in a node at height 0");
    if (nl != pc) return st_err_set(err, ST_EINVAL, "bmap has %u bits set but node has %" PRIu64 " links", pc, nl);
    if (!(out->links = calloc(w, sizeof *out->links))) return nomem(err);
    for (uint32_t s = 0; s < w; s++) {
      if (!(bm[s / 8] & (1u << (s % 8)))) continue;
      amt_link *l = calloc(1, sizeof *l);
      if (!l) return nomem(err);
      out->links[s] = l;
      out->n++;
      if ((rc = st_cbor_read_cid(r, &l->cid))) return rc;
      if (l->cid.codec != ST_CODEC_DAG_CBOR)
        return st_err_set(err, ST_EINVAL, "link %u has codec 0x%" PRIx64 ", want dag-cbor", s, l->cid.codec);
    }
    if ((rc = st_cbor_read_array(r, &nv))) return rc;
    if (nv > 0) return st_err_set(err, ST_EINVAL, "node has both links and values");
    return ST_OK;
  }
  if ((rc = st_cbor_read_array(r, &nv))) return rc;
  if (nv > 0 && !leaf) return st_err_set(err, ST_EINVAL, "values in a node at height > 0");
  if (nv != pc) return st_err_set(err, ST_EINVAL, "bmap has %u bits set but node has %" PRIu64 " values", pc, nv);
  if (nv == 0) return allow_empty ? ST_OK : st_err_set(err, ST_EINVAL, "empty node");
  if (!(out->vals = calloc(w, sizeof *out->vals))) return nomem(err);
  for (uint32_t s = 0; s < w; s++) {
    if (!(bm[s / 8] & (1u << (s % 8)))) continue;
    size_t o = r->off;
    if ((rc = st_cbor_skip(r))) return rc;
    amt_val *v = malloc(sizeof *v + (r->off - o));
    if (!v) return nomem(err);
    v->len = r->off - o;
    memcpy(v->b, r->buf + o, v->len);
    out->vals[s] = v;
    out->n++;
  }
  return ST_OK;
}

/* Loads l's child (at height h) if it is not loaded yet. */
static st_code link_load(st_amt *a, amt_link *l, unsigned h, st_err *err) {
  if (l->node) return ST_OK;
  st_buf b;
  st_buf_init(&b);
  amt_node *n = calloc(1, sizeof *n);
  st_code rc = n ? a->bs.get(a->bs.ctx, &l->cid, &b, err) : nomem(err);
  if (!rc) {
    st_cbor_reader r;
    st_cbor_reader_init(&r, b.data, b.len, err);
    rc = node_decode(&r, a->bw, h == 0, false, n, err);
    if (!rc) rc = st_cbor_finish(&r);
    if (rc) {
      char cs[ST_CID_STR_MAX];
      st_cid_to_string(&l->cid, cs);
      st_err_wrap(err, rc, "amt: node %s at height %u", cs, h);
    }
  }
  st_buf_free(&b);
  if (rc) {
    if (n) node_free(n, 1u << a->bw);
    return rc;
  }
  l->node = n;
  return ST_OK;
}

/* ---- encoding ---- */

static void node_encode(const amt_node *n, unsigned bw, st_buf *b) {
  uint32_t w = 1u << bw;
  uint8_t bm[(size_t)1 << (ST_AMT_MAX_BITWIDTH - 3)];
  size_t bl = bmap_len(bw);
  memset(bm, 0, bl);
  for (uint32_t s = 0; s < w; s++)
    if ((n->links && n->links[s]) || (n->vals && n->vals[s])) bm[s / 8] |= (uint8_t)(1u << (s % 8));
  st_cbor_put_array(b, 3);
  st_cbor_put_bytes(b, bm, bl);
  st_cbor_put_array(b, n->links ? n->n : 0);
  for (uint32_t s = 0; n->links && s < w; s++)
    if (n->links[s]) st_cbor_put_cid(b, &n->links[s]->cid);
  st_cbor_put_array(b, n->vals ? n->n : 0);
  for (uint32_t s = 0; n->vals && s < w; s++)
    if (n->vals[s]) st_buf_append(b, n->vals[s]->b, n->vals[s]->len);
}

/* Writes the dirty children of n (at height h), deepest first. */
static st_code node_flush(st_amt *a, amt_node *n, unsigned h, st_buf *tmp, st_err *err) {
  for (uint32_t s = 0; h > 0 && n->links && s < (1u << a->bw); s++) {
    amt_link *l = n->links[s];
    if (!l || !l->dirty) continue;
    st_code rc = node_flush(a, l->node, h - 1, tmp, err);
    if (rc) return rc;
    st_buf_reset(tmp);
    node_encode(l->node, a->bw, tmp);
    if ((rc = st_buf_status(tmp, err))) return rc;
    st_cid_of_cbor(tmp->data, tmp->len, &l->cid);
    if ((rc = a->bs.put(a->bs.ctx, &l->cid, tmp->data, tmp->len, err))) return st_err_wrap(err, rc, "amt: put");
    l->dirty = false;
  }
  return ST_OK;
}

/* ---- public ---- */

st_code st_amt_new(st_blockstore bs, unsigned bitwidth, st_amt **out, st_err *err) {
  *out = NULL;
  if (bitwidth < ST_AMT_MIN_BITWIDTH || bitwidth > ST_AMT_MAX_BITWIDTH)
    return st_err_set(err, ST_EINVAL, "amt: bitwidth %u outside [%d, %d]", bitwidth, ST_AMT_MIN_BITWIDTH,
                      ST_AMT_MAX_BITWIDTH);
  st_amt *a = calloc(1, sizeof *a);
  if (!a) return nomem(err);
  a->bs = bs;
  a->bw = bitwidth;
  *out = a;
  return ST_OK;
}

st_code st_amt_load(st_blockstore bs, const st_cid *root, st_amt **out, st_err *err) {
  *out = NULL;
  st_buf b;
  st_buf_init(&b);
  st_amt *a = calloc(1, sizeof *a);
  st_code rc = a ? bs.get(bs.ctx, root, &b, err) : nomem(err);
  if (rc) goto done;
  a->bs = bs;
  st_cbor_reader r;
  st_cbor_reader_init(&r, b.data, b.len, err);
  uint64_t bw, h, maxn;
  if ((rc = st_cbor_expect_array(&r, 4, "amt root")) || (rc = st_cbor_read_uint(&r, &bw))) goto bad;
  if (bw < ST_AMT_MIN_BITWIDTH || bw > ST_AMT_MAX_BITWIDTH) {
    rc = st_err_set(err, ST_EINVAL, "bitwidth %" PRIu64 " outside [%d, %d]", bw, ST_AMT_MIN_BITWIDTH,
                    ST_AMT_MAX_BITWIDTH);
    goto bad;
  }
  a->bw = (unsigned)bw;
  if ((rc = st_cbor_read_uint(&r, &h))) goto bad;
  /* As go-amt-ipld LoadAMT: height <= 64 and the level below the root not already saturated. */
  if (h > ST_AMT_MAX_HEIGHT || (nfh(a->bw, (unsigned)h + 1) == UINT64_MAX && nfh(a->bw, (unsigned)h) == UINT64_MAX)) {
    rc = st_err_set(err, ST_EINVAL, "height %" PRIu64 " out of bounds for bitwidth %u", h, a->bw);
    goto bad;
  }
  a->height = (unsigned)h;
  maxn = nfh(a->bw, a->height + 1);
  if ((rc = st_cbor_read_uint(&r, &a->count))) goto bad;
  if (a->count > maxn) {
    rc = st_err_set(err, ST_EINVAL, "count %" PRIu64 " too large for height %u", a->count, a->height);
    goto bad;
  }
  if ((rc = node_decode(&r, a->bw, h == 0, h == 0, &a->root, err))) goto bad;
  if (h == 0 ? a->count != a->root.n : a->count < a->root.n) {
    rc = st_err_set(err, ST_EINVAL, "count %" PRIu64 " inconsistent with %u root slots at height %u", a->count,
                    a->root.n, a->height);
    goto bad;
  }
  if ((rc = st_cbor_finish(&r))) goto bad;
  a->clean = true;
  a->root_cid = *root;
  *out = a;
  goto done;
bad:;
  char cs[ST_CID_STR_MAX];
  st_cid_to_string(root, cs);
  st_err_wrap(err, rc, "amt: root %s", cs);
done:
  st_buf_free(&b);
  if (rc && a) st_amt_free(a);
  return rc;
}

void st_amt_free(st_amt *a) {
  if (!a) return;
  node_clear(&a->root, 1u << a->bw);
  free(a);
}

uint64_t st_amt_count(const st_amt *a) { return a->count; }
unsigned st_amt_height(const st_amt *a) { return a->height; }
unsigned st_amt_bitwidth(const st_amt *a) { return a->bw; }

static st_code check_index(uint64_t i, st_err *err) {
  if (i <= ST_AMT_MAX_INDEX) return ST_OK;
  return st_err_set(err, ST_ERANGE, "amt: index %" PRIu64 " is past the max index %" PRIu64, i,
                    (uint64_t)ST_AMT_MAX_INDEX);
}

st_code st_amt_get(st_amt *a, uint64_t i, st_buf *val, bool *found, st_err *err) {
  *found = false;
  st_code rc = check_index(i, err);
  if (rc || i >= nfh(a->bw, a->height + 1)) return rc;
  amt_node *n = &a->root;
  for (unsigned h = a->height; h > 0; h--) {
    uint64_t q = nfh(a->bw, h);
    amt_link *l = n->links ? n->links[i / q] : NULL;
    if (!l) return ST_OK;
    if ((rc = link_load(a, l, h - 1, err))) return rc;
    n = l->node;
    i %= q;
  }
  if (!n->vals || !n->vals[i]) return ST_OK;
  st_buf_append(val, n->vals[i]->b, n->vals[i]->len);
  if ((rc = st_buf_status(val, err))) return rc;
  *found = true;
  return ST_OK;
}

/* A new chain of nodes from height h down to a leaf holding v at relative index i. Consumes v. */
static st_code new_path(st_amt *a, unsigned h, uint64_t i, amt_val *v, amt_node **out, st_err *err) {
  uint32_t w = 1u << a->bw, slot[ST_AMT_MAX_HEIGHT + 1];
  for (unsigned k = h; k > 0; k--) {
    slot[k] = (uint32_t)(i / nfh(a->bw, k));
    i %= nfh(a->bw, k);
  }
  amt_node *cur = node_new(w, true);
  if (!cur) {
    free(v);
    return nomem(err);
  }
  cur->vals[i] = v;
  cur->n = 1;
  for (unsigned k = 1; k <= h; k++) {
    amt_node *p = node_new(w, false);
    amt_link *l = p ? link_new(cur) : NULL;
    if (!l) {
      free(p);
      node_free(cur, w);
      return nomem(err);
    }
    p->links[slot[k]] = l;
    p->n = 1;
    cur = p;
  }
  *out = cur;
  return ST_OK;
}

st_code st_amt_set(st_amt *a, uint64_t i, const void *val, size_t vlen, st_err *err) {
  st_code rc = check_index(i, err);
  if (rc) return rc;
  if ((rc = st_cbor_validate(val, vlen, 0, 0, err))) return st_err_wrap(err, rc, "amt: value for index %" PRIu64, i);
  uint32_t w = 1u << a->bw;
  amt_val *v = malloc(sizeof *v + vlen);
  if (!v) return nomem(err);
  v->len = vlen;
  memcpy(v->b, val, vlen);
  unsigned H = a->height;
  while (i >= nfh(a->bw, H + 1)) H++;
  if (H > a->height) {
    /* The new index lies right of everything: its whole path is new (slot >= 1 at the top). */
    amt_node *top, *old = NULL;
    if ((rc = new_path(a, H, i, v, &top, err))) return rc;
    amt_link *bottom = NULL, *below = NULL;
    if (a->root.n > 0) { /* the old root goes under slot 0 of each new level */
      old = malloc(sizeof *old);
      bottom = below = link_new(NULL);
      for (unsigned h = a->height + 1; below && h < H; h++) {
        amt_node *wn = node_new(w, false);
        amt_link *l = wn ? link_new(wn) : NULL;
        if (!l) {
          free(wn);
          node_free(below->node, w);
          free(below);
          below = NULL;
          break;
        }
        wn->links[0] = below;
        wn->n = 1;
        below = l;
      }
      if (!old || !below) {
        if (below) {
          node_free(below->node, w);
          free(below);
        }
        free(old);
        node_free(top, w);
        return nomem(err);
      }
      *old = a->root;
      bottom->node = old;
      top->links[0] = below;
      top->n++;
    } else {
      node_clear(&a->root, w);
    }
    a->root = *top;
    free(top);
    a->height = H;
    a->count++;
    a->clean = false;
    return ST_OK;
  }
  amt_link *path[ST_AMT_MAX_HEIGHT];
  unsigned d = 0, h = H;
  amt_node *n = &a->root;
  uint64_t s = 0;
  for (; h > 0; h--) {
    uint64_t q = nfh(a->bw, h);
    s = i / q;
    amt_link *l = n->links ? n->links[s] : NULL;
    if (!l) break;
    if ((rc = link_load(a, l, h - 1, err))) {
      free(v);
      return rc;
    }
    path[d++] = l;
    n = l->node;
    i %= q;
  }
  if (h > 0) { /* no child at slot s: hang a new path of height h-1 there */
    amt_node *sub;
    if ((rc = new_path(a, h - 1, i % nfh(a->bw, h), v, &sub, err))) return rc;
    amt_link *l = link_new(sub);
    if (!l || (!n->links && !(n->links = calloc(w, sizeof *n->links)))) {
      free(l);
      node_free(sub, w);
      return nomem(err);
    }
    n->links[s] = l;
    n->n++;
    a->count++;
  } else {
    if (!n->vals && !(n->vals = calloc(w, sizeof *n->vals))) {
      free(v);
      return nomem(err);
    }
    if (n->vals[i]) {
      free(n->vals[i]);
    } else {
      n->n++;
      a->count++;
    }
    n->vals[i] = v;
  }
  for (unsigned k = 0; k < d; k++) path[k]->dirty = true;
  a->clean = false;
  return ST_OK;
}

st_code st_amt_delete(st_amt *a, uint64_t i, bool *found, st_err *err) {
  *found = false;
  st_code rc = check_index(i, err);
  if (rc || i >= nfh(a->bw, a->height + 1)) return rc;
  uint32_t w = 1u << a->bw, slot[ST_AMT_MAX_HEIGHT + 1];
  amt_node *p[ST_AMT_MAX_HEIGHT + 1];
  unsigned H = a->height;
  p[0] = &a->root;
  for (unsigned d = 0; d < H; d++) {
    uint64_t q = nfh(a->bw, H - d);
    slot[d] = (uint32_t)(i / q);
    i %= q;
    amt_link *l = p[d]->links ? p[d]->links[slot[d]] : NULL;
    if (!l) return ST_OK;
    if ((rc = link_load(a, l, H - d - 1, err))) return rc;
    p[d + 1] = l->node;
  }
  slot[H] = (uint32_t)i;
  if (!p[H]->vals || !p[H]->vals[i]) return ST_OK;
  /* Nodes at depth >= e become empty. */
  unsigned e = H + 1;
  while (e > 0 && p[e - 1]->n == 1) e--;
  /* Load the nodes the collapse will pull up, before changing anything (a load may fail). */
  if (e > 0) {
    amt_node *cur = p[0];
    bool on = true;
    for (unsigned d = 0; d < H; d++) {
      bool loses = on && d == e - 1;
      bool has0 = cur->links[0] && !(loses && slot[d] == 0);
      if (cur->n - (loses ? 1 : 0) != 1 || !has0) break;
      if ((rc = link_load(a, cur->links[0], H - d - 1, err))) return rc;
      on = on && slot[d] == 0;
      cur = cur->links[0]->node;
    }
  }
  *found = true;
  free(p[H]->vals[slot[H]]);
  p[H]->vals[slot[H]] = NULL;
  p[H]->n--;
  for (unsigned d = H; d-- > 0;) {
    amt_link *l = p[d]->links[slot[d]];
    if (d + 1 >= e) {
      node_free(l->node, w);
      free(l);
      p[d]->links[slot[d]] = NULL;
      p[d]->n--;
    } else {
      l->dirty = true;
    }
  }
  a->count--;
  a->clean = false;
  if (a->root.n == 0) {
    node_clear(&a->root, w);
    a->height = 0;
    return ST_OK;
  }
  while (a->height > 0 && a->root.n == 1 && a->root.links[0]) {
    amt_link *l = a->root.links[0];
    amt_node *child = l->node;
    free(l);
    free(a->root.links);
    a->root = *child;
    free(child);
    a->height--;
  }
  return ST_OK;
}

st_code st_amt_flush(st_amt *a, st_cid *root, st_err *err) {
  if (a->clean) {
    *root = a->root_cid;
    return ST_OK;
  }
  memset(root, 0, sizeof *root);
  st_buf b;
  st_buf_init(&b);
  st_code rc = node_flush(a, &a->root, a->height, &b, err);
  if (!rc) {
    st_buf_reset(&b);
    st_cbor_put_array(&b, 4);
    st_cbor_put_uint(&b, a->bw);
    st_cbor_put_uint(&b, a->height);
    st_cbor_put_uint(&b, a->count);
    node_encode(&a->root, a->bw, &b);
    rc = st_buf_status(&b, err);
  }
  if (!rc) {
    st_cid_of_cbor(b.data, b.len, &a->root_cid);
    rc = a->bs.put(a->bs.ctx, &a->root_cid, b.data, b.len, err);
    if (rc) st_err_wrap(err, rc, "amt: put root");
  }
  st_buf_free(&b);
  if (rc) return rc;
  a->clean = true;
  *root = a->root_cid;
  return ST_OK;
}

static st_code node_each(st_amt *a, amt_node *n, unsigned h, uint64_t off, st_amt_each_fn fn, void *ctx, st_err *err) {
  uint32_t w = 1u << a->bw;
  st_code rc;
  for (uint32_t s = 0; h == 0 && n->vals && s < w; s++) {
    if (!n->vals[s]) continue;
    if (off > ST_AMT_MAX_INDEX - s)
      return st_err_set(err, ST_EINVAL, "amt: value at slot %u lies past the max index", s);
    if ((rc = fn(ctx, off + s, n->vals[s]->b, n->vals[s]->len, err))) return rc;
  }
  uint64_t q = nfh(a->bw, h);
  for (uint32_t s = 0; h > 0 && n->links && s < w; s++) {
    amt_link *l = n->links[s];
    if (!l) continue;
    if (s > 0 && q > (UINT64_MAX - off) / s)
      return st_err_set(err, ST_EINVAL, "amt: node at height %u slot %u lies past index 2^64-1", h, s);
    if ((rc = link_load(a, l, h - 1, err)) || (rc = node_each(a, l->node, h - 1, off + s * q, fn, ctx, err))) return rc;
  }
  return ST_OK;
}

st_code st_amt_each(st_amt *a, st_amt_each_fn fn, void *ctx, st_err *err) {
  return node_each(a, &a->root, a->height, 0, fn, ctx, err);
}
