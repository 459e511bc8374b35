/* st_chain_env: the VM's environment over a chain: actor state objects from the store (or, in a
 * read, kept in memory), and randomness from the tickets and beacon entries of the chain the
 * messages run on. Part of st_chain. */
#include <stdlib.h>
#include <string.h>

#include "chain/st_chain_int.h"
#include "chain/st_rand.h"

struct st_ch_pending_obj {
  st_cid cid;
  uint8_t *data;
  size_t len;
};

static st_code env_get(void *ctx, const st_cid *cid, st_buf *out, st_err *err) {
  st_ch_env *e = ctx;
  for (size_t i = e->nobjs; i-- > 0;)
    if (st_cid_equal(&e->objs[i].cid, cid)) {
      st_buf_append(out, e->objs[i].data, e->objs[i].len);
      return st_buf_status(out, err);
    }
  return st_cs_get(e->t, cid, out, err);
}

static st_code env_put(void *ctx, const st_cid *cid, const uint8_t *data, size_t len, st_err *err) {
  st_ch_env *e = ctx;
  if (e->write) return st_cs_put(e->t, cid, data, len, err);
  st_ch_pending_obj *g = realloc(e->objs, (e->nobjs + 1) * sizeof *g);
  uint8_t *copy = malloc(len ? len : 1);
  if (!g || !copy) {
    if (g) e->objs = g;
    free(copy);
    return st_err_set(err, ST_ENOMEM, "out of memory storing state");
  }
  e->objs = g;
  memcpy(copy, data, len);
  e->objs[e->nobjs++] = (st_ch_pending_obj){*cid, copy, len};
  return ST_OK;
}

/* Walks back from the top to the tipset at round (or the last before it when round was null),
 * or, for a beacon entry, to the first tipset at or above round (the one carrying its entry). */
static st_code env_find(st_ch_env *e, int64_t round, bool first_above, st_tipset_key *out, st_err *err) {
  if (round > e->top_height)
    return st_err_set(err, ST_EINVAL, "randomness for round %lld: the chain is at %lld", (long long)round,
                      (long long)e->top_height);
  st_tipset_key cur, parent;
  st_tipset_key_init(&cur);
  st_tipset_key_init(&parent);
  int64_t h = e->top_height;
  st_code code = st_tipset_key_set(&cur, e->top_key.cids, e->top_key.n, err);
  if (!code) code = st_tipset_key_set(&parent, e->top_parent.cids, e->top_parent.n, err);
  while (!code) {
    if (!first_above && h <= round) break;
    if (!parent.n) break; /* genesis */
    st_ch_record r;
    st_ch_record_init(&r);
    code = st_ch_get_record(e->t, &parent, &r, err);
    if (!code && first_above && r.height < round) {
      st_ch_record_free(&r);
      break;
    }
    if (!code) {
      h = r.height;
      st_tipset_key_free(&cur);
      cur = parent;
      parent = r.parent;
      st_tipset_key_init(&r.parent);
    }
    st_ch_record_free(&r);
  }
  if (!code) {
    st_tipset_key_free(out);
    *out = cur;
    st_tipset_key_init(&cur);
  }
  st_tipset_key_free(&cur);
  st_tipset_key_free(&parent);
  return code;
}

st_code st_ch_env_randomness(void *ctx, bool beacon, int64_t dst, int64_t round, const uint8_t *entropy, size_t elen,
                             uint8_t out[32], st_err *err) {
  st_ch_env *e = ctx;
  if (beacon && round < 1) { /* before the first beacon entry: the beacon's key */
    st_draw_randomness(e->c->beacon_pub, sizeof e->c->beacon_pub, dst, round, entropy, elen, out);
    return ST_OK;
  }
  st_tipset_key key;
  st_tipset_key_init(&key);
  st_block_header b;
  st_block_header_init(&b);
  st_code code = env_find(e, round, beacon, &key, err);
  if (!code) code = st_ch_load_block(e->t, &key.cids[0], &b, err); /* the first block holds the smallest ticket */
  const st_chain_bytes *base = NULL;
  if (!code && !beacon) base = &b.ticket_vrf_proof;
  for (size_t i = 0; !code && beacon && i < b.n_beacon_entries; i++)
    if ((int64_t)b.beacon_entries[i].round == round) base = &b.beacon_entries[i].data;
  if (!code && !base)
    code = st_err_set(err, ST_ENOENT, "no beacon entry for round %lld on this chain", (long long)round);
  if (!code) st_draw_randomness(base->data, base->len, dst, round, entropy, elen, out);
  st_block_header_free(&b);
  st_tipset_key_free(&key);
  return code;
}

void st_ch_env_init(st_ch_env *e, st_chain *c, st_cs_txn *t, bool write) {
  *e = (st_ch_env){.c = c, .t = t, .write = write};
  st_tipset_key_init(&e->top_key);
  st_tipset_key_init(&e->top_parent);
  e->env = (st_vm_env){e, env_get, env_put, st_ch_env_randomness};
}

st_code st_ch_env_top(st_ch_env *e, const st_tipset *top, st_err *err) {
  e->top_height = top->height;
  st_code code = st_tipset_key_set(&e->top_key, top->key.cids, top->key.n, err);
  if (!code) code = st_tipset_key_set(&e->top_parent, top->blocks[0].parents, top->blocks[0].n_parents, err);
  return code;
}

void st_ch_env_free(st_ch_env *e) {
  for (size_t i = 0; i < e->nobjs; i++) free(e->objs[i].data);
  free(e->objs);
  st_tipset_key_free(&e->top_key);
  st_tipset_key_free(&e->top_parent);
}

st_code st_ch_state_at(st_ch_env *e, int64_t h, st_state *out, st_err *err) {
  st_tipset_key key;
  st_tipset_key_init(&key);
  st_ch_record r;
  st_ch_record_init(&r);
  if (h > e->top_height) h = e->top_height; /* after null rounds the lookback may be the top itself */
  st_code code = env_find(e, h < 0 ? 0 : h, false, &key, err);
  if (!code) code = st_ch_get_record(e->t, &key, &r, err);
  if (!code) code = st_ch_load_state(e->t, &r.exec.state_root, out, err);
  st_ch_record_free(&r);
  st_tipset_key_free(&key);
  return code;
}
