/* st_chain_pool: the node's pooled messages in the chain store, so that a message the pool took
 * survives a kill -9 (st_mpool's journal). Each change is one synced write transaction. Part of
 * st_chain. */
#include <stdlib.h>

#include "chain/st_chain_int.h"

typedef struct pool_ctx {
  const st_signed_message *sm;
  const st_cid *cid, *replaced, *cids;
  size_t n;
  st_buf enc;
  st_signed_message *msgs; /* what st_chain_pool_kept reads */
  size_t nmsgs, cap;
} pool_ctx;

static st_code keep_tx(st_cs_txn *t, void *v, st_err *err) {
  pool_ctx *p = v;
  st_code code = p->replaced ? st_cs_del_pooled(t, p->replaced, err) : ST_OK;
  return code ? code : st_cs_put_pooled(t, p->cid, p->enc.data, p->enc.len, err);
}

st_code st_chain_pool_keep(st_chain *c, const st_signed_message *sm, const st_cid *cid, const st_cid *replaced,
                           st_err *err) {
  pool_ctx p = {.sm = sm, .cid = cid, .replaced = replaced, .enc = ST_BUF_INIT};
  st_code code = st_signed_message_encode(sm, &p.enc, err);
  if (!code) {
    pthread_mutex_lock(&c->mu);
    code = st_cs_write(c->cs, keep_tx, &p, err);
    pthread_mutex_unlock(&c->mu);
  }
  st_buf_free(&p.enc);
  return code ? st_err_wrap(err, code, "could not keep the message in the chain store") : ST_OK;
}

static st_code forget_tx(st_cs_txn *t, void *v, st_err *err) {
  pool_ctx *p = v;
  st_code code = ST_OK;
  for (size_t i = 0; i < p->n && !code; i++) code = st_cs_del_pooled(t, &p->cids[i], err);
  return code;
}

st_code st_chain_pool_forget(st_chain *c, const st_cid *cids, size_t n, st_err *err) {
  if (!n) return ST_OK;
  pool_ctx p = {.cids = cids, .n = n};
  pthread_mutex_lock(&c->mu);
  st_code code = st_cs_write(c->cs, forget_tx, &p, err);
  pthread_mutex_unlock(&c->mu);
  return code;
}

static st_code kept_one(void *v, const uint8_t *data, size_t len, st_err *err) {
  pool_ctx *p = v;
  if (p->nmsgs == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 16;
    st_signed_message *m = realloc(p->msgs, cap * sizeof *m);
    if (!m) return st_err_set(err, ST_ENOMEM, "out of memory reading the pooled messages");
    p->msgs = m;
    p->cap = cap;
  }
  st_signed_message *sm = &p->msgs[p->nmsgs];
  st_signed_message_init(sm);
  st_code code = st_signed_message_decode(data, len, sm, err);
  if (code) {
    st_signed_message_free(sm);
    return st_err_wrap(err, code, "a pooled message in the chain store");
  }
  p->nmsgs++;
  return ST_OK;
}

static st_code kept_tx(st_cs_txn *t, void *v, st_err *err) { return st_cs_each_pooled(t, kept_one, v, err); }

st_code st_chain_pool_kept(st_chain *c, st_signed_message **out, size_t *n, st_err *err) {
  pool_ctx p = {0};
  st_code code = st_ch_read(c, kept_tx, &p, err);
  if (code) {
    for (size_t i = 0; i < p.nmsgs; i++) st_signed_message_free(&p.msgs[i]);
    free(p.msgs);
    p.msgs = NULL;
    p.nmsgs = 0;
  }
  *out = p.msgs;
  *n = p.nmsgs;
  return code;
}
