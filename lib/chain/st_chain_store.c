/* st_chain_store: how the chain lays out what it stores: tipsets and their records, lists of
 * CIDs, message metas, named tipset keys (st_chain_int.h has the layout). Part of st_chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/st_chain_int.h"
#include "codec/st_cbor.h"
#include "codec/st_token.h"

/* ---- tipsets ---- */

void st_tipset_init(st_tipset *t) {
  *t = (st_tipset){0};
  st_tipset_key_init(&t->key);
}

void st_tipset_free(st_tipset *t) {
  for (size_t i = 0; i < t->n; i++) st_block_header_free(&t->blocks[i]);
  free(t->blocks);
  st_tipset_key_free(&t->key);
  st_tipset_init(t);
}

void st_tipset_exec_init(st_tipset_exec *e) {
  *e = (st_tipset_exec){0};
  mpz_inits(e->next_base_fee, e->weight, NULL);
}

void st_tipset_exec_free(st_tipset_exec *e) { mpz_clears(e->next_base_fee, e->weight, NULL); }

void st_ch_exec_copy(st_tipset_exec *dst, const st_tipset_exec *src) {
  dst->state_root = src->state_root;
  dst->receipts_root = src->receipts_root;
  dst->applied_root = src->applied_root;
  mpz_set(dst->next_base_fee, src->next_base_fee);
  mpz_set(dst->weight, src->weight);
}

st_code st_tipset_to_json(const st_tipset *t, char network, json_t **out, st_err *err) {
  *out = NULL;
  json_t *cids = NULL, *blocks = json_array();
  st_code code = st_tipset_key_to_json(&t->key, &cids, err);
  for (size_t i = 0; i < t->n && !code; i++) {
    json_t *b;
    if (!(code = st_block_header_to_json(&t->blocks[i], network, &b, err))) json_array_append_new(blocks, b);
  }
  if (code) {
    json_decref(cids);
    json_decref(blocks);
    return code;
  }
  *out = json_pack("{so so sI}", "Cids", cids, "Blocks", blocks, "Height", (json_int_t)t->height);
  return *out ? ST_OK : st_err_set(err, ST_ENOMEM, "out of memory writing a tipset");
}

/* ---- the store's objects ---- */

void st_ch_meta_key(const char *prefix, const st_cid *cid, char out[ST_CID_STR_MAX + 48]) {
  char s[ST_CID_STR_MAX];
  st_cid_to_string(cid, s);
  snprintf(out, ST_CID_STR_MAX + 48, "%s%s", prefix, s);
}

st_code st_ch_put_cbor(st_cs_txn *t, const st_buf *b, st_cid *cid, st_err *err) {
  st_cid_of_cbor(b->data, b->len, cid);
  return t ? st_cs_put(t, cid, b->data, b->len, err) : ST_OK;
}

/* A CBOR array of CIDs, stored; its CID in *cid. */
st_code st_ch_put_cid_list(st_cs_txn *t, const st_cid *cids, size_t n, st_cid *cid, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_cbor_put_array(&b, n);
  for (size_t i = 0; i < n; i++) st_cbor_put_cid(&b, &cids[i]);
  st_code code = st_buf_status(&b, err);
  if (!code) code = st_ch_put_cbor(t, &b, cid, err);
  st_buf_free(&b);
  return code;
}

static st_code read_cid_list(const uint8_t *p, size_t len, st_cid **out, size_t *n, st_err *err) {
  st_cbor_reader r;
  st_cbor_reader_init(&r, p, len, err);
  uint64_t count = 0;
  st_code code = st_cbor_read_array(&r, &count);
  if (!code && count > ST_CHAIN_MAX_ARRAY)
    code = st_err_set(err, ST_EINVAL, "a CID list of %llu items", (unsigned long long)count);
  *out = NULL;
  *n = 0;
  if (!code && count && !(*out = calloc((size_t)count, sizeof **out)))
    code = st_err_set(err, ST_ENOMEM, "out of memory reading a CID list");
  for (uint64_t i = 0; i < count && !code; i++) code = st_cbor_read_cid(&r, &(*out)[i]);
  if (!code) code = st_cbor_finish(&r);
  if (code) {
    free(*out);
    *out = NULL;
    return code;
  }
  *n = (size_t)count;
  return ST_OK;
}

/* The message meta [BLS list CID, secp list CID] for these secp message CIDs (stored unless t
 * is NULL). */
st_code st_ch_msg_meta(st_cs_txn *t, const st_cid *secp, size_t n, st_cid *meta, st_err *err) {
  st_cid bls, sl;
  st_code code = st_ch_put_cid_list(t, NULL, 0, &bls, err);
  if (!code) code = st_ch_put_cid_list(t, secp, n, &sl, err);
  if (code) return code;
  st_buf b = ST_BUF_INIT;
  st_cbor_put_array(&b, 2);
  st_cbor_put_cid(&b, &bls);
  st_cbor_put_cid(&b, &sl);
  code = st_buf_status(&b, err);
  if (!code) code = st_ch_put_cbor(t, &b, meta, err);
  st_buf_free(&b);
  return code;
}

/* The secp message CIDs a block's meta lists. */
st_code st_ch_meta_messages(st_cs_txn *t, const st_cid *meta, st_cid **cids, size_t *n, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_code code = st_cs_get(t, meta, &b, err);
  st_cid bls, secp;
  if (!code) {
    st_cbor_reader r;
    st_cbor_reader_init(&r, b.data, b.len, err);
    code = st_cbor_expect_array(&r, 2, "message meta");
    if (!code) code = st_cbor_read_cid(&r, &bls);
    if (!code) code = st_cbor_read_cid(&r, &secp);
    if (!code) code = st_cbor_finish(&r);
  }
  st_buf_reset(&b);
  if (!code) code = st_cs_get(t, &secp, &b, err);
  if (!code) code = read_cid_list(b.data, b.len, cids, n, err);
  st_buf_free(&b);
  return code;
}

/* The object cid names, decoded into out with decode. */
static st_code load_object(st_cs_txn *t, const st_cid *cid,
                           st_code (*decode)(const uint8_t *, size_t, void *, st_err *), void *out, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_code code = st_cs_get(t, cid, &b, err);
  if (!code) code = decode(b.data, b.len, out, err);
  st_buf_free(&b);
  return code;
}

static st_code decode_signed(const uint8_t *p, size_t n, void *out, st_err *err) {
  return st_signed_message_decode(p, n, out, err);
}
static st_code decode_block(const uint8_t *p, size_t n, void *out, st_err *err) {
  return st_block_header_decode(p, n, out, err);
}
static st_code decode_state(const uint8_t *p, size_t n, void *out, st_err *err) {
  return st_state_decode(p, n, out, err);
}

st_code st_ch_load_signed(st_cs_txn *t, const st_cid *cid, st_signed_message *out, st_err *err) {
  return load_object(t, cid, decode_signed, out, err);
}

st_code st_ch_load_block(st_cs_txn *t, const st_cid *cid, st_block_header *out, st_err *err) {
  return load_object(t, cid, decode_block, out, err);
}

st_code st_ch_load_state(st_cs_txn *t, const st_cid *root, st_state *out, st_err *err) {
  return load_object(t, root, decode_state, out, err);
}

st_code st_ch_load_tipset(st_cs_txn *t, const st_tipset_key *key, st_tipset *out, st_err *err) {
  st_tipset_free(out);
  if (!key->n) return st_err_set(err, ST_EINVAL, "empty tipset key");
  out->blocks = calloc(key->n, sizeof *out->blocks);
  if (!out->blocks) return st_err_set(err, ST_ENOMEM, "out of memory loading a tipset");
  st_code code = ST_OK;
  for (size_t i = 0; i < key->n && !code; i++) {
    st_block_header_init(&out->blocks[i]);
    out->n++;
    code = st_ch_load_block(t, &key->cids[i], &out->blocks[i], err);
  }
  if (!code) code = st_tipset_key_set(&out->key, key->cids, key->n, err);
  if (!code) out->height = out->blocks[0].height;
  if (code) st_tipset_free(out);
  return code;
}

/* ---- tipset records ---- */

void st_ch_record_init(st_ch_record *r) {
  r->height = 0;
  st_tipset_exec_init(&r->exec);
  st_tipset_key_init(&r->parent);
}

void st_ch_record_free(st_ch_record *r) {
  st_tipset_exec_free(&r->exec);
  st_tipset_key_free(&r->parent);
}

st_code st_ch_put_record(st_cs_txn *t, const st_tipset_key *key, const st_ch_record *r, st_err *err) {
  st_buf b = ST_BUF_INIT, pk = ST_BUF_INIT;
  st_tipset_key_bytes(&r->parent, &pk);
  st_cbor_put_array(&b, 7);
  st_cbor_put_int(&b, r->height);
  st_cbor_put_bigint(&b, r->exec.weight);
  st_cbor_put_cid(&b, &r->exec.state_root);
  st_cbor_put_cid(&b, &r->exec.receipts_root);
  st_cbor_put_bigint(&b, r->exec.next_base_fee);
  st_cbor_put_bytes(&b, pk.data, pk.len);
  st_cbor_put_cid(&b, &r->exec.applied_root);
  st_cid kc;
  st_code code = st_tipset_key_cid(key, &kc, err);
  char mk[ST_CID_STR_MAX + 48];
  if (!code) {
    st_ch_meta_key("ts:", &kc, mk);
    code = st_buf_status(&b, err);
  }
  if (!code) code = st_cs_put_meta(t, mk, b.data, b.len, err);
  st_buf_free(&b);
  st_buf_free(&pk);
  return code;
}

st_code st_ch_get_record(st_cs_txn *t, const st_tipset_key *key, st_ch_record *r, st_err *err) {
  st_cid kc;
  st_code code = st_tipset_key_cid(key, &kc, err);
  if (code) return code;
  char mk[ST_CID_STR_MAX + 48];
  st_ch_meta_key("ts:", &kc, mk);
  st_buf b = ST_BUF_INIT;
  if ((code = st_cs_get_meta(t, mk, &b, NULL))) {
    st_buf_free(&b);
    return st_err_set(err, ST_ENOENT, "tipset %s is not known", mk + 3);
  }
  st_cbor_reader rd;
  st_cbor_reader_init(&rd, b.data, b.len, err);
  const uint8_t *pk;
  size_t pklen;
  code = st_cbor_expect_array(&rd, 7, "tipset record");
  if (!code) code = st_cbor_read_int(&rd, &r->height);
  if (!code) code = st_cbor_read_bigint(&rd, r->exec.weight);
  if (!code) code = st_cbor_read_cid(&rd, &r->exec.state_root);
  if (!code) code = st_cbor_read_cid(&rd, &r->exec.receipts_root);
  if (!code) code = st_cbor_read_bigint(&rd, r->exec.next_base_fee);
  if (!code) code = st_cbor_read_bytes(&rd, &pk, &pklen);
  if (!code) code = st_tipset_key_from_bytes(pk, pklen, &r->parent, err);
  if (!code) code = st_cbor_read_cid(&rd, &r->exec.applied_root);
  st_buf_free(&b);
  return code;
}

/* The CIDs a tipset applied, from its record. */
st_code st_ch_applied_of(st_cs_txn *t, const st_tipset_key *key, st_cid **cids, size_t *n, st_err *err) {
  *cids = NULL;
  *n = 0;
  st_ch_record r;
  st_ch_record_init(&r);
  st_buf b = ST_BUF_INIT;
  st_code code = st_ch_get_record(t, key, &r, err);
  if (!code) code = st_cs_get(t, &r.exec.applied_root, &b, err);
  if (!code) code = read_cid_list(b.data, b.len, cids, n, err);
  st_buf_free(&b);
  st_ch_record_free(&r);
  return code;
}

st_code st_ch_get_key(st_cs_txn *t, const char *name, st_tipset_key *key, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_code code = st_cs_get_meta(t, name, &b, err);
  if (!code) code = st_tipset_key_from_bytes(b.data, b.len, key, err);
  st_buf_free(&b);
  return code;
}

st_code st_ch_put_key(st_cs_txn *t, const char *name, const st_tipset_key *key, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_tipset_key_bytes(key, &b);
  st_code code = st_cs_put_meta(t, name, b.data, b.len, err);
  st_buf_free(&b);
  return code;
}

st_code st_ch_load_at(st_cs_txn *t, const st_tipset_key *key, st_tipset *top, st_ch_record *rec, st_state *state,
                      st_err *err) {
  st_tipset_key head;
  st_tipset_key_init(&head);
  st_code code = key ? ST_OK : st_ch_get_key(t, "head", &head, err);
  if (!key) key = &head;
  if (!code && top) code = st_ch_load_tipset(t, key, top, err);
  if (!code && rec) code = st_ch_get_record(t, key, rec, err);
  if (!code && state) code = st_ch_load_state(t, &rec->exec.state_root, state, err);
  st_tipset_key_free(&head);
  return code;
}
