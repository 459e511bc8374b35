/* st_node_api_chain: ChainHead, ChainGetTipSet(ByHeight), ChainGetBlock and ChainGetMessage, as
 * heads (height, key, ticket) or whole chain types. */
#include "rpc/st_node_api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void st_node_head_init(st_node_head *h) {
  memset(h, 0, sizeof *h);
  st_tipset_key_init(&h->key);
  st_tipset_key_init(&h->parents);
}

void st_node_head_free(st_node_head *h) {
  st_tipset_key_free(&h->key);
  st_tipset_key_free(&h->parents);
  st_chain_bytes_free(&h->min_ticket);
}

/* Lotus's TipSet JSON ({Cids, Blocks, Height}) into out (initialised). */
static st_code tipset_from_json(const json_t *r, const char *method, st_tipset *out, st_err *err) {
  const json_t *blocks = json_object_get(r, "Blocks"), *h = json_object_get(r, "Height");
  size_t n = json_array_size(blocks);
  char what[64];
  snprintf(what, sizeof what, "%s: Cids", method);
  if (!json_is_integer(h)) return na_bad(err, method, "Height");
  if (!n) return na_bad(err, method, "Blocks");
  out->height = json_integer_value(h);
  if (st_tipset_key_from_json(json_object_get(r, "Cids"), what, &out->key, err)) return ST_EINVAL;
  if (out->key.n != n) return na_bad(err, method, "Cids, one for each block");
  if (!(out->blocks = calloc(n, sizeof *out->blocks))) return st_err_set(err, ST_ENOMEM, "out of memory");
  for (out->n = 0; out->n < n; out->n++) st_block_header_init(&out->blocks[out->n]);
  for (size_t i = 0; i < n; i++)
    if (st_block_header_from_json(json_array_get(blocks, i), &out->blocks[i], err))
      return st_err_wrap(err, ST_EINVAL, "%s: Blocks[%zu]", method, i);
  return ST_OK;
}

/* A tipset's JSON (method: the call it came from, for errors) into *out: its height and key,
 * and its first block's (the least ticket's) ticket and parents. */
static st_code head_from_json(const json_t *r, const char *method, st_node_head *out, st_err *err) {
  st_node_head_free(out);
  st_node_head_init(out);
  st_tipset ts;
  st_tipset_init(&ts);
  st_code code = tipset_from_json(r, method, &ts, err);
  if (!code) {
    out->height = ts.height;
    out->key = ts.key; /* taken over */
    st_tipset_key_init(&ts.key);
    const st_block_header *b = &ts.blocks[0];
    if (b->has_ticket)
      code = st_chain_bytes_set(&out->min_ticket, b->ticket_vrf_proof.data, b->ticket_vrf_proof.len, err);
    if (!code) code = st_tipset_key_set(&out->parents, b->parents, b->n_parents, err);
  }
  st_tipset_free(&ts);
  return code;
}

/* On failure *out is emptied, as st_node_head_init leaves it. */
static st_code head_done(st_node_head *out, st_code code) {
  if (code) {
    st_node_head_free(out);
    st_node_head_init(out);
  }
  return code;
}

st_code st_node_chain_head(st_rpc_client *c, st_node_head *out, st_err *err) {
  json_t *r;
  st_code code = na_call(c, "ChainHead", NULL, &r, err);
  if (!code) code = head_from_json(r, "ChainHead", out, err);
  json_decref(r);
  return head_done(out, code);
}

st_code st_node_chain_tipset(st_rpc_client *c, const st_tipset_key *key, st_node_head *out, st_err *err) {
  json_t *k = NULL, *r = NULL;
  st_code code = st_tipset_key_to_json(key, &k, err); /* before out (which may hold key) is reset */
  if (!code) code = na_call(c, "ChainGetTipSet", json_pack("[o]", k), &r, err);
  if (!code) code = head_from_json(r, "ChainGetTipSet", out, err);
  json_decref(r);
  return head_done(out, code);
}

static st_code tipset_call(st_rpc_client *c, const char *method, json_t *params, st_tipset *out, st_err *err) {
  st_tipset_init(out);
  json_t *r;
  st_code code = na_call(c, method, params, &r, err);
  if (!code) code = tipset_from_json(r, method, out, err);
  json_decref(r);
  if (code) st_tipset_free(out);
  return code;
}

st_code st_node_tipset(st_rpc_client *c, const st_tipset_key *key, st_tipset *out, st_err *err) {
  if (!key) return tipset_call(c, "ChainHead", NULL, out, err);
  json_t *k = NULL;
  st_code code = st_tipset_key_to_json(key, &k, err);
  if (!code) return tipset_call(c, "ChainGetTipSet", json_pack("[o]", k), out, err);
  st_tipset_init(out);
  return code;
}

st_code st_node_tipset_at(st_rpc_client *c, int64_t height, st_tipset *out, st_err *err) {
  return tipset_call(c, "ChainGetTipSetByHeight", json_pack("[I []]", (json_int_t)height), out, err);
}

/* Calls method on a CID and reads its answer into out with a chain type's from_json. */
typedef st_code (*from_json_fn)(const json_t *j, void *out, st_err *err);

static st_code by_cid(st_rpc_client *c, const char *method, const st_cid *cid, from_json_fn from_json, void *out,
                      st_err *err) {
  json_t *r;
  st_code code = na_call(c, method, json_pack("[o]", st_chain_json_cid(cid)), &r, err);
  if (!code && from_json(r, out, err)) code = st_err_wrap(err, ST_EINVAL, "%s", method);
  json_decref(r);
  return code;
}

static st_code block_from_json(const json_t *j, void *out, st_err *err) {
  return st_block_header_from_json(j, out, err);
}

static st_code message_from_json(const json_t *j, void *out, st_err *err) { return st_message_from_json(j, out, err); }

st_code st_node_block(st_rpc_client *c, const st_cid *cid, st_block_header *out, st_err *err) {
  st_block_header_init(out);
  st_code code = by_cid(c, "ChainGetBlock", cid, block_from_json, out, err);
  if (code) st_block_header_free(out), st_block_header_init(out);
  return code;
}

st_code st_node_message(st_rpc_client *c, const st_cid *cid, st_message *out, st_err *err) {
  st_message_init(out);
  st_code code = by_cid(c, "ChainGetMessage", cid, message_from_json, out, err);
  if (code) st_message_free(out), st_message_init(out);
  return code;
}

st_code st_node_tipsets_back(st_rpc_client *c, st_tipset *first, uint64_t count, st_tipset **out, size_t *n,
                             st_err *err) {
  size_t cap = 0;
  st_code code = ST_OK;
  *out = NULL;
  *n = 0;
  for (st_tipset ts = *first; !code;) {
    if (*n == cap) {
      st_tipset *grown = realloc(*out, (cap = cap ? 2 * cap : 32) * sizeof *grown);
      if (!grown) {
        st_tipset_free(&ts);
        return st_err_set(err, ST_ENOMEM, "out of memory");
      }
      *out = grown;
    }
    (*out)[(*n)++] = ts;
    const st_block_header *b = &ts.blocks[0];
    if (*n >= count || !b->n_parents) break;
    st_tipset_key parents = {b->parents, b->n_parents}; /* borrowed from the list */
    code = st_node_tipset(c, &parents, &ts, err);
  }
  return code;
}

void st_node_tipsets_free(st_tipset *v, size_t n) {
  for (size_t i = 0; i < n; i++) st_tipset_free(&v[i]);
  free(v);
}
