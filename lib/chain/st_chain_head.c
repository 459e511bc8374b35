/* st_chain_head: moving the head: the height index and the message index follow the new
 * chain from where it meets the old one. Part of st_chain. */
#include <stdlib.h>
#include <string.h>

#include "chain/st_chain_int.h"
#include "codec/st_cbor.h"

static st_code index_messages(st_cs_txn *t, const st_tipset *ts, bool add, st_err *err) {
  st_cid *order = NULL;
  size_t n = 0;
  st_code code = st_ch_applied_of(t, &ts->key, &order, &n, err);
  st_buf key = ST_BUF_INIT, rec = ST_BUF_INIT;
  st_tipset_key_bytes(&ts->key, &key);
  if (!code) code = st_buf_status(&key, err);
  for (size_t i = 0; i < n && !code; i++) {
    if (!add) {
      code = st_cs_del_msgidx(t, &order[i], err);
      continue;
    }
    st_buf_reset(&rec);
    st_cbor_put_array(&rec, 3);
    st_cbor_put_bytes(&rec, key.data, key.len);
    st_cbor_put_int(&rec, ts->height);
    st_cbor_put_uint(&rec, i);
    code = st_buf_status(&rec, err);
    if (!code) code = st_cs_put_msgidx(t, &order[i], rec.data, rec.len, err);
  }
  st_buf_free(&key);
  st_buf_free(&rec);
  free(order);
  return code;
}

/* Appends the messages ts applied to *out (for the pool: a reverted tipset's messages go back). */
static st_code collect_applied(st_cs_txn *t, const st_tipset *ts, st_signed_message **out, size_t *n, st_err *err) {
  st_cid *cids = NULL;
  size_t k = 0;
  st_code code = st_ch_applied_of(t, &ts->key, &cids, &k, err);
  st_signed_message *grown = k ? realloc(*out, (*n + k) * sizeof **out) : *out;
  if (!code && k && !grown) code = st_err_set(err, ST_ENOMEM, "out of memory collecting reverted messages");
  if (!code) *out = grown;
  for (size_t i = 0; i < k && !code; i++) {
    st_signed_message_init(&(*out)[*n]);
    code = st_ch_load_signed(t, &cids[i], &(*out)[*n], err);
    (*n)++;
  }
  free(cids);
  return code;
}

/* Whether the height index holds key at height: the tipset is on the head chain. */
static st_code on_head_chain(st_cs_txn *t, const st_tipset_key *key, int64_t height, bool *out, st_err *err) {
  st_buf at = ST_BUF_INIT, kb = ST_BUF_INIT;
  st_tipset_key_bytes(key, &kb);
  st_code code = st_buf_status(&kb, err);
  *out = !code && !st_cs_get_height(t, (uint64_t)height, &at, NULL) && at.len == kb.len &&
         !memcmp(at.data, kb.data, kb.len);
  st_buf_free(&at);
  st_buf_free(&kb);
  return code;
}

/* Walks the new chain down from key to a tipset the height index already has (*fork, its
 * height): *path gets the keys above it, newest first. */
static st_code find_fork(st_cs_txn *t, const st_tipset_key *key, st_tipset_key **path, size_t *npath, int64_t *fork,
                         st_err *err) {
  st_tipset_key cur;
  st_tipset_key_init(&cur);
  st_tipset ts;
  st_tipset_init(&ts);
  st_ch_record r;
  st_ch_record_init(&r);
  st_code code = st_tipset_key_set(&cur, key->cids, key->n, err);
  bool canonical = false;
  while (!code && !(code = st_ch_load_tipset(t, &cur, &ts, err)) &&
         !(code = on_head_chain(t, &cur, ts.height, &canonical, err)) && !canonical) {
    st_tipset_key *np = realloc(*path, (*npath + 1) * sizeof *np);
    if (!np) {
      code = st_err_set(err, ST_ENOMEM, "out of memory switching heads");
      break;
    }
    *path = np;
    st_tipset_key_init(&np[*npath]);
    if ((code = st_tipset_key_set(&np[*npath], cur.cids, cur.n, err))) break;
    (*npath)++;
    st_ch_record_free(&r);
    st_ch_record_init(&r);
    if ((code = st_ch_get_record(t, &cur, &r, err))) break;
    st_tipset_key_free(&cur);
    st_tipset_key_init(&cur);
    code = st_tipset_key_set(&cur, r.parent.cids, r.parent.n, err);
  }
  if (!code) *fork = ts.height;
  st_ch_record_free(&r);
  st_tipset_free(&ts);
  st_tipset_key_free(&cur);
  return code;
}

/* The old chain above the fork leaves the indexes; its messages go to *reverted. */
static st_code leave_old(st_cs_txn *t, int64_t fork, int64_t old_height, st_signed_message **reverted,
                         size_t *nreverted, st_err *err) {
  st_tipset ts;
  st_tipset_init(&ts);
  st_code code = ST_OK;
  for (int64_t h = fork + 1; !code && h <= old_height; h++) {
    st_buf at = ST_BUF_INIT;
    if (!st_cs_get_height(t, (uint64_t)h, &at, NULL)) {
      st_tipset_key k;
      st_tipset_key_init(&k);
      code = st_tipset_key_from_bytes(at.data, at.len, &k, err);
      if (!code) code = st_ch_load_tipset(t, &k, &ts, err);
      if (!code) code = index_messages(t, &ts, false, err);
      if (!code) code = collect_applied(t, &ts, reverted, nreverted, err);
      st_tipset_key_free(&k);
    }
    st_buf_free(&at);
  }
  if (!code) code = st_cs_truncate_heights(t, (uint64_t)fork, err);
  st_tipset_free(&ts);
  return code;
}

/* The new chain enters the indexes, oldest first. */
static st_code enter_new(st_cs_txn *t, const st_tipset_key *path, size_t npath, st_err *err) {
  st_tipset ts;
  st_tipset_init(&ts);
  st_code code = ST_OK;
  for (size_t i = npath; !code && i-- > 0;) {
    st_buf kb = ST_BUF_INIT;
    st_tipset_key_bytes(&path[i], &kb);
    code = st_buf_status(&kb, err);
    if (!code) code = st_ch_load_tipset(t, &path[i], &ts, err);
    if (!code) code = st_cs_put_height(t, (uint64_t)ts.height, kb.data, kb.len, err);
    if (!code) code = index_messages(t, &ts, true, err);
    st_buf_free(&kb);
  }
  st_tipset_free(&ts);
  return code;
}

st_code st_ch_set_head(st_cs_txn *t, const st_tipset_key *key, st_signed_message **reverted, size_t *nreverted,
                       st_err *err) {
  st_tipset_key old;
  st_tipset_key_init(&old);
  st_tipset ts;
  st_tipset_init(&ts);
  st_tipset_key *path = NULL;
  size_t npath = 0;
  int64_t fork = -1;
  st_code code = st_ch_get_key(t, "head", &old, err);
  if (!code) code = st_ch_load_tipset(t, &old, &ts, err);
  if (!code) code = find_fork(t, key, &path, &npath, &fork, err);
  if (!code) code = leave_old(t, fork, ts.height, reverted, nreverted, err);
  if (!code) code = enter_new(t, path, npath, err);
  if (!code) code = st_ch_put_key(t, "head", key, err);
  for (size_t i = 0; i < npath; i++) st_tipset_key_free(&path[i]);
  free(path);
  st_tipset_key_free(&old);
  st_tipset_free(&ts);
  return code;
}
