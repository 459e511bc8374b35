/* st_chain_read: reads of tipsets, blocks, messages, receipts, state and message lookups, each
 * in one read transaction. Part of st_chain. */
#include <stdlib.h>
#include <string.h>

#include "chain/st_chain_int.h"
#include "codec/st_cbor.h"

typedef struct read_ctx {
  st_chain *c;
  const st_tipset_key *key;
  const st_cid *cid;
  int64_t height;
  const char *meta;
  st_tipset *ts;
  st_tipset_exec *exec;
  st_block_header *block;
  st_signed_message *msg;
  st_state *state;
  st_msg_lookup *lookup;
  st_cid **cids;
  size_t *ncids;
} read_ctx;

static st_code rd_meta_tipset(st_cs_txn *t, void *v, st_err *err) {
  read_ctx *r = v;
  st_tipset_key k;
  st_tipset_key_init(&k);
  st_code code = st_ch_get_key(t, r->meta, &k, err);
  if (!code) code = st_ch_load_tipset(t, &k, r->ts, err);
  st_tipset_key_free(&k);
  return code;
}

/* A read that replaces out: on failure, empty makes it empty again (as its _init leaves it). */
static st_code read_into(st_chain *c, st_cs_write_fn fn, read_ctx *r, void (*empty)(void *), void *out, st_err *err) {
  st_code code = st_ch_read(c, fn, r, err);
  if (code) empty(out);
  return code;
}

static void empty_tipset(void *t) { st_tipset_free(t); }
static void empty_state(void *s) { st_state_clear(s); }

static void empty_exec(void *v) {
  st_tipset_exec *e = v;
  e->state_root = e->receipts_root = e->applied_root = (st_cid){0};
  mpz_set_ui(e->next_base_fee, 0);
  mpz_set_ui(e->weight, 0);
}

static void empty_block(void *b) {
  st_block_header_free(b);
  st_block_header_init(b);
}

static void empty_message(void *m) {
  st_signed_message_free(m);
  st_signed_message_init(m);
}

st_code st_chain_head(st_chain *c, st_tipset *out, st_err *err) {
  read_ctx r = {.c = c, .meta = "head", .ts = out};
  return read_into(c, rd_meta_tipset, &r, empty_tipset, out, err);
}

st_code st_chain_genesis(st_chain *c, st_tipset *out, st_err *err) {
  read_ctx r = {.c = c, .meta = "genesis", .ts = out};
  return read_into(c, rd_meta_tipset, &r, empty_tipset, out, err);
}

static st_code rd_tipset(st_cs_txn *t, void *v, st_err *err) {
  read_ctx *r = v;
  /* only tipsets the chain formed: not any list of blocks a caller names */
  st_ch_record rec;
  st_ch_record_init(&rec);
  st_code code = st_ch_get_record(t, r->key, &rec, err);
  st_ch_record_free(&rec);
  return code ? code : st_ch_load_tipset(t, r->key, r->ts, err);
}

st_code st_chain_tipset(st_chain *c, const st_tipset_key *key, st_tipset *out, st_err *err) {
  read_ctx r = {.c = c, .key = key, .ts = out};
  return read_into(c, rd_tipset, &r, empty_tipset, out, err);
}

static st_code rd_tipset_at(st_cs_txn *t, void *v, st_err *err) {
  read_ctx *r = v;
  st_tipset head;
  st_tipset_init(&head);
  st_code code = st_ch_load_at(t, NULL, &head, NULL, NULL, err);
  st_tipset_key k;
  st_tipset_key_init(&k);
  if (!code && r->height > head.height)
    code = st_err_set(err, ST_EINVAL, "height %lld is above the head (%lld)", (long long)r->height,
                      (long long)head.height);
  for (int64_t h = r->height; !code; h--) {
    st_buf at = ST_BUF_INIT;
    st_code found = st_cs_get_height(t, (uint64_t)h, &at, NULL);
    if (!found) {
      st_tipset_key_free(&k);
      st_tipset_key_init(&k);
      code = st_tipset_key_from_bytes(at.data, at.len, &k, err);
      if (!code) code = st_ch_load_tipset(t, &k, r->ts, err);
      st_buf_free(&at);
      break;
    }
    st_buf_free(&at);
    if (h == 0) code = st_err_set(err, ST_EINTERNAL, "the height index has no genesis");
  }
  st_tipset_key_free(&k);
  st_tipset_free(&head);
  return code;
}

st_code st_chain_tipset_at(st_chain *c, int64_t height, st_tipset *out, st_err *err) {
  read_ctx r = {.c = c, .height = height, .ts = out};
  if (height >= 0) return read_into(c, rd_tipset_at, &r, empty_tipset, out, err);
  st_tipset_free(out);
  return st_err_set(err, ST_EINVAL, "height %lld is negative", (long long)height);
}

/* The record of a tipset: its exec (r->exec), or the state after it (r->state). */
static st_code rd_record(st_cs_txn *t, void *v, st_err *err) {
  read_ctx *r = v;
  st_ch_record rec;
  st_ch_record_init(&rec);
  st_code code = st_ch_load_at(t, r->key, NULL, &rec, r->state, err);
  if (!code && r->exec) st_ch_exec_copy(r->exec, &rec.exec);
  st_ch_record_free(&rec);
  return code;
}

st_code st_chain_exec(st_chain *c, const st_tipset_key *key, st_tipset_exec *out, st_err *err) {
  read_ctx r = {.c = c, .key = key, .exec = out};
  return read_into(c, rd_record, &r, empty_exec, out, err);
}

st_code st_chain_state(st_chain *c, const st_tipset_key *key, st_state *out, st_err *err) {
  read_ctx r = {.c = c, .key = key, .state = out};
  return read_into(c, rd_record, &r, empty_state, out, err);
}

static st_code rd_block(st_cs_txn *t, void *v, st_err *err) {
  read_ctx *r = v;
  return st_ch_load_block(t, r->cid, r->block, err);
}

st_code st_chain_block(st_chain *c, const st_cid *cid, st_block_header *out, st_err *err) {
  read_ctx r = {.c = c, .cid = cid, .block = out};
  return read_into(c, rd_block, &r, empty_block, out, err);
}

static st_code rd_message(st_cs_txn *t, void *v, st_err *err) {
  read_ctx *r = v;
  st_buf b = ST_BUF_INIT;
  st_code code = st_cs_get(t, r->cid, &b, err);
  if (!code) {
    /* a signed message, or an unsigned one stored under its own CID */
    if (st_signed_message_decode(b.data, b.len, r->msg, NULL)) {
      st_signed_message_free(r->msg);
      st_signed_message_init(r->msg);
      code = st_message_decode(b.data, b.len, &r->msg->message, err);
    }
  }
  st_buf_free(&b);
  return code;
}

st_code st_chain_message(st_chain *c, const st_cid *cid, st_signed_message *out, st_err *err) {
  read_ctx r = {.c = c, .cid = cid, .msg = out};
  return read_into(c, rd_message, &r, empty_message, out, err);
}

typedef struct msgs_ctx {
  const st_block_header *b;
  st_signed_message *msgs;
  st_cid *cids;
  size_t n;
} msgs_ctx;

static st_code rd_block_messages(st_cs_txn *t, void *v, st_err *err) {
  msgs_ctx *m = v;
  st_code code = st_ch_meta_messages(t, &m->b->messages, &m->cids, &m->n, err);
  if (!code && m->n && !(m->msgs = calloc(m->n, sizeof *m->msgs)))
    code = st_err_set(err, ST_ENOMEM, "out of memory loading messages");
  for (size_t i = 0; i < m->n && !code; i++) {
    st_signed_message_init(&m->msgs[i]);
    code = st_ch_load_signed(t, &m->cids[i], &m->msgs[i], err);
  }
  return code;
}

st_code st_chain_block_messages(st_chain *c, const st_block_header *b, st_signed_message **msgs, st_cid **cids,
                                size_t *n, st_err *err) {
  msgs_ctx m = {b, NULL, NULL, 0};
  st_code code = st_ch_read(c, rd_block_messages, &m, err);
  if (code) {
    for (size_t i = 0; m.msgs && i < m.n; i++) st_signed_message_free(&m.msgs[i]);
    free(m.msgs);
    free(m.cids);
    m = (msgs_ctx){0};
  }
  *msgs = m.msgs;
  *cids = m.cids;
  *n = m.n;
  return code;
}

static st_code rd_applied(st_cs_txn *t, void *v, st_err *err) {
  read_ctx *r = v;
  return st_ch_applied_of(t, r->key, r->cids, r->ncids, err); /* NULL and 0 on failure */
}

st_code st_chain_applied(st_chain *c, const st_tipset_key *key, st_cid **cids, size_t *n, st_err *err) {
  *cids = NULL;
  *n = 0;
  read_ctx r = {.c = c, .key = key, .cids = cids, .ncids = n};
  return st_ch_read(c, rd_applied, &r, err);
}

typedef struct receipts_ctx {
  const st_cid *root;
  st_receipt *out;
  size_t n;
} receipts_ctx;

static st_code rd_receipts(st_cs_txn *t, void *v, st_err *err) {
  receipts_ctx *rc = v;
  st_buf b = ST_BUF_INIT;
  st_code code = st_cs_get(t, rc->root, &b, err);
  st_cbor_reader r;
  uint64_t n = 0;
  if (!code) {
    st_cbor_reader_init(&r, b.data, b.len, err);
    code = st_cbor_read_array(&r, &n);
  }
  if (!code && n > ST_CHAIN_MAX_ARRAY * 16)
    code = st_err_set(err, ST_EINVAL, "receipt list of %llu items", (unsigned long long)n);
  if (!code && n && !(rc->out = calloc((size_t)n, sizeof *rc->out)))
    code = st_err_set(err, ST_ENOMEM, "out of memory reading receipts");
  for (uint64_t i = 0; i < n && !code; i++) {
    st_receipt_init(&rc->out[i]);
    rc->n++;
    code = st_receipt_read(&r, &rc->out[i]);
  }
  st_buf_free(&b);
  return code;
}

st_code st_chain_receipts(st_chain *c, const st_cid *receipts_root, st_receipt **out, size_t *n, st_err *err) {
  receipts_ctx rc = {receipts_root, NULL, 0};
  st_code code = st_ch_read(c, rd_receipts, &rc, err);
  if (code) {
    for (size_t i = 0; i < rc.n; i++) st_receipt_free(&rc.out[i]);
    free(rc.out);
    rc = (receipts_ctx){0};
  }
  *out = rc.out;
  *n = rc.n;
  return code;
}

static st_code rd_search(st_cs_txn *t, void *v, st_err *err) {
  read_ctx *r = v;
  st_buf b = ST_BUF_INIT;
  st_code code = st_cs_get_msgidx(t, r->cid, &b, NULL);
  if (code) {
    st_buf_free(&b);
    char s[ST_CID_STR_MAX];
    st_cid_to_string(r->cid, s);
    return st_err_set(err, ST_ENOENT, "message %s has not been applied on the head chain", s);
  }
  st_cbor_reader rd;
  st_cbor_reader_init(&rd, b.data, b.len, err);
  const uint8_t *kb;
  size_t kl;
  uint64_t idx = 0;
  code = st_cbor_expect_array(&rd, 3, "message index");
  if (!code) code = st_cbor_read_bytes(&rd, &kb, &kl);
  if (!code) code = st_tipset_key_from_bytes(kb, kl, &r->lookup->tipset, err);
  if (!code) code = st_cbor_read_int(&rd, &r->lookup->height);
  if (!code) code = st_cbor_read_uint(&rd, &idx);
  st_buf_free(&b);
  st_ch_record rec;
  st_ch_record_init(&rec);
  if (!code) code = st_ch_get_record(t, &r->lookup->tipset, &rec, err);
  receipts_ctx rc = {&rec.exec.receipts_root, NULL, 0};
  if (!code) code = rd_receipts(t, &rc, err);
  if (!code && idx >= rc.n) code = st_err_set(err, ST_EINTERNAL, "message index points past the receipts");
  if (!code) {
    r->lookup->receipt = rc.out[idx];
    rc.out[idx] = (st_receipt){0};
  }
  for (size_t i = 0; i < rc.n; i++) st_receipt_free(&rc.out[i]);
  free(rc.out);
  st_ch_record_free(&rec);
  return code;
}

static void msg_lookup_init(st_msg_lookup *l) {
  *l = (st_msg_lookup){0};
  st_tipset_key_init(&l->tipset);
  st_receipt_init(&l->receipt);
}

st_code st_chain_search_msg(st_chain *c, const st_cid *msg, st_msg_lookup *out, st_err *err) {
  msg_lookup_init(out);
  read_ctx r = {.c = c, .cid = msg, .lookup = out};
  st_code code = st_ch_read(c, rd_search, &r, err);
  if (code) st_msg_lookup_free(out);
  return code;
}

void st_msg_lookup_free(st_msg_lookup *l) {
  st_tipset_key_free(&l->tipset);
  st_receipt_free(&l->receipt);
  msg_lookup_init(l);
}

typedef struct obj_ctx {
  const st_cid *cid;
  st_buf *out; /* NULL: only whether it is there */
  bool has;
} obj_ctx;

static st_code rd_object(st_cs_txn *t, void *v, st_err *err) {
  obj_ctx *o = v;
  if (!o->out) {
    o->has = st_cs_has(t, o->cid);
    return ST_OK;
  }
  return st_cs_get(t, o->cid, o->out, err);
}

st_code st_chain_object(st_chain *c, const st_cid *cid, st_buf *out, st_err *err) {
  st_buf_init(out);
  obj_ctx o = {.cid = cid, .out = out};
  st_code code = st_ch_read(c, rd_object, &o, err);
  if (code) st_buf_free(out);
  return code;
}

st_code st_chain_has_object(st_chain *c, const st_cid *cid, bool *has, st_err *err) {
  obj_ctx o = {.cid = cid};
  st_code code = st_ch_read(c, rd_object, &o, err);
  *has = !code && o.has;
  return code;
}
