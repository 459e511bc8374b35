/* st_node_api_mpool: messages into the node's pool (MpoolPushMessage, signed and gas filled by
 * the node) and what waits there. */
#include "rpc/st_node_api_int.h"

#include <stdlib.h>
#include <string.h>

st_code st_node_push(st_rpc_client *c, const st_message *m, const mpz_t max_fee, st_cid *cid, st_err *err) {
  memset(cid, 0, sizeof *cid);
  st_signed_message sm;
  st_code code = st_node_push_signed(c, m, max_fee, &sm, err);
  if (!code) code = st_signed_message_cid(&sm, cid, err);
  st_signed_message_free(&sm);
  if (code) memset(cid, 0, sizeof *cid);
  return code;
}

st_code st_node_send(st_rpc_client *c, const st_address *from, uint64_t to, uint64_t method, const uint8_t *params,
                     size_t len, const mpz_t max_fee, st_cid *cid, st_err *err) {
  st_message m;
  st_message_init(&m);
  m.from = *from;
  st_address_from_id(to, &m.to, NULL);
  m.method = method;
  st_code code = st_chain_bytes_set(&m.params, params, len, err);
  if (!code) code = st_node_push(c, &m, max_fee, cid, err);
  st_message_free(&m);
  return code;
}

st_code st_node_pending_find(st_rpc_client *c, const st_address *from, const st_address *to, uint64_t method,
                             const uint8_t *params, size_t len, bool *found, st_cid *cid, st_err *err) {
  *found = false;
  memset(cid, 0, sizeof *cid);
  st_signed_message *pending;
  size_t n;
  st_code code = st_node_pending(c, &pending, &n, err);
  for (size_t i = 0; i < n && !code && !*found; i++) {
    const st_message *m = &pending[i].message;
    if (m->method == method && st_address_equal(&m->from, from) && st_address_equal(&m->to, to) &&
        m->params.len == len && (!len || !memcmp(m->params.data, params, len))) {
      *found = true;
      code = st_signed_message_cid(&pending[i], cid, err);
    }
  }
  st_node_messages_free(pending, n);
  if (code) {
    *found = false;
    memset(cid, 0, sizeof *cid);
  }
  return code;
}

void st_node_messages_free(st_signed_message *m, size_t n) {
  for (size_t i = 0; m && i < n; i++) st_signed_message_free(&m[i]);
  free(m);
}

st_code st_node_pending(st_rpc_client *c, st_signed_message **out, size_t *n, st_err *err) {
  *out = NULL;
  *n = 0;
  json_t *r;
  st_code code = na_call(c, "MpoolPending", json_pack("[[]]"), &r, err);
  size_t k = json_array_size(r), done = 0;
  st_signed_message *m = NULL;
  if (!code && !json_is_array(r) && !json_is_null(r)) code = na_bad(err, "MpoolPending", "message list");
  if (!code && k && !(m = calloc(k, sizeof *m))) code = st_err_set(err, ST_ENOMEM, "out of memory");
  for (; !code && done < k; done++) {
    st_signed_message_init(&m[done]);
    if (st_signed_message_from_json(json_array_get(r, done), &m[done], err))
      code = st_err_wrap(err, ST_EINVAL, "MpoolPending: [%zu]", done);
  }
  json_decref(r);
  if (code) st_node_messages_free(m, done), m = NULL, k = 0;
  *out = m;
  *n = k;
  return code;
}

st_code st_node_push_signed(st_rpc_client *c, const st_message *m, const mpz_t max_fee, st_signed_message *out,
                            st_err *err) {
  st_signed_message_init(out);
  st_message copy;
  st_message_init(&copy);
  st_code code = st_message_copy(&copy, m, err);
  json_t *mj = NULL, *r = NULL;
  if (!code) {
    copy.nonce = 0;
    code = st_message_to_json(&copy, 't', &mj, err);
  }
  st_message_free(&copy);
  if (!code) {
    json_t *spec = json_object();
    if (max_fee && mpz_sgn(max_fee) > 0) json_object_set_new(spec, "MaxFee", st_chain_json_bigint(max_fee));
    code = na_call(c, "MpoolPushMessage", json_pack("[o o]", mj, spec), &r, err);
  }
  if (!code && st_signed_message_from_json(r, out, err))
    code = st_err_wrap(err, ST_EINVAL, "MpoolPushMessage: the node's answer");
  json_decref(r);
  if (code) st_signed_message_free(out), st_signed_message_init(out);
  return code;
}
