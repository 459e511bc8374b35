/* st_node_api_common: what the group files of st_node_api share: one call with the method named
 * in its error, the node's answer refused by name, and the readers and writers of its JSON. */
#include "rpc/st_node_api_int.h"

#include <stdio.h>
#include <string.h>

#include "core/st_encoding.h"

/* Calls method; on failure the error names it. */
st_code na_call(st_rpc_client *c, const char *method, json_t *params, json_t **result, st_err *err) {
  st_code code = st_rpc_client_call(c, method, params, result, err);
  if (code) st_err_wrap(err, code, "%s", method);
  return code;
}

st_code na_bad(st_err *err, const char *method, const char *what) {
  return st_err_set(err, ST_EINVAL, "%s: the node's answer has no valid %s", method, what);
}

/* A miner's ID address as text ("t01000"). */
const char *na_miner_addr(uint64_t miner, char out[32]) {
  snprintf(out, 32, "t0%llu", (unsigned long long)miner);
  return out;
}

json_t *na_key_json(const st_tipset_key *key) {
  json_t *j = NULL;
  if (!key || !key->n || st_tipset_key_to_json(key, &j, NULL)) return json_array();
  return j;
}

json_t *na_bytes_json(const uint8_t *p, size_t n) {
  if (!n) return json_null();
  st_buf b = ST_BUF_INIT;
  st_base64_append(&b, p, n, true);
  json_t *j = b.failed ? json_null() : json_stringn((const char *)b.data, b.len);
  st_buf_free(&b);
  return j;
}

st_code na_b64_field(const json_t *v, const char *method, const char *what, uint8_t *out, size_t n, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_code code =
      json_is_string(v) ? st_base64_decode(json_string_value(v), json_string_length(v), true, &b, NULL) : ST_EINVAL;
  if (code || b.len != n) code = na_bad(err, method, what);
  else memcpy(out, b.data, n);
  st_buf_free(&b);
  return code;
}

/* A MsgLookup (method: the call it came from, for errors) into *out, which is zeroed. */
st_code na_lookup_from_json(const json_t *r, const char *method, st_node_lookup *out, st_err *err) {
  const json_t *rc = json_object_get(r, "Receipt"), *ex = json_object_get(rc, "ExitCode"),
               *h = json_object_get(r, "Height");
  if (!json_is_integer(ex) || !json_is_integer(h)) return na_bad(err, method, "Receipt.ExitCode and Height");
  out->found = true;
  out->exit_code = json_integer_value(ex);
  out->height = json_integer_value(h);
  const json_t *ret = json_object_get(rc, "Return");
  st_buf b = ST_BUF_INIT;
  if (json_is_string(ret) && !st_base64_decode(json_string_value(ret), json_string_length(ret), true, &b, NULL) &&
      b.len <= sizeof out->ret) {
    if (b.len) memcpy(out->ret, b.data, b.len); /* NULL data when empty */
    out->ret_len = b.len;
  }
  st_buf_free(&b);
  return ST_OK;
}

json_t *na_miner_params(uint64_t miner, const st_tipset_key *key) {
  char addr[32];
  return json_pack("[s o]", na_miner_addr(miner, addr), na_key_json(key));
}

st_code na_int_field(const json_t *o, const char *name, const char *method, int64_t *out, st_err *err) {
  const json_t *v = json_object_get(o, name);
  if (!json_is_integer(v)) return na_bad(err, method, name);
  *out = json_integer_value(v);
  return ST_OK;
}

json_t *na_addr_param(const st_address *a) {
  char text[ST_ADDR_STR_MAX];
  st_address_text(a, text);
  return json_pack("[s []]", text);
}

/* A decimal string field of o (path names it in errors) into out. */
st_code na_big_field(const json_t *o, const char *path, const char *method, mpz_t out, st_err *err) {
  const char *dot = strrchr(path, '.');
  const json_t *v = json_object_get(o, dot ? dot + 1 : path);
  return st_chain_json_get_bigint(v, path, out, NULL) ? na_bad(err, method, path) : ST_OK;
}

/* A call whose result is one attoFIL amount (a decimal string) into out; 0 on failure. */
st_code na_amount_call(st_rpc_client *c, const char *method, json_t *params, mpz_t out, st_err *err) {
  mpz_set_ui(out, 0);
  json_t *r;
  st_code code = na_call(c, method, params, &r, err);
  if (!code && st_chain_json_get_bigint(r, method, out, NULL)) code = na_bad(err, method, "amount");
  json_decref(r);
  if (code) mpz_set_ui(out, 0);
  return code;
}

/* The address a method answers; out is zero (undefined) on failure. */
st_code na_addr_call(st_rpc_client *c, const char *method, json_t *params, st_address *out, st_err *err) {
  memset(out, 0, sizeof *out);
  json_t *r;
  st_code code = na_call(c, method, params, &r, err);
  if (!code && (!json_is_string(r) || st_address_parse(json_string_value(r), out, NULL, NULL))) {
    memset(out, 0, sizeof *out);
    code = na_bad(err, method, "address");
  }
  json_decref(r);
  return code;
}
