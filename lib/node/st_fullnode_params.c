/* st_fullnode_params: the parse phase's param readers and the common argument shapes, so that
 * every method names a bad param the same way ("param 2 (epoch): must be an integer"). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/st_encoding.h"
#include "node/st_fullnode_int.h"

st_code fn_param_addr(const json_t *params, size_t i, st_address *out, st_err *err) {
  const json_t *v = json_array_get(params, i);
  memset(out, 0, sizeof *out);
  if (!json_is_string(v)) return st_err_set(err, ST_EINVAL, "param %zu (address): must be a string like t01000", i + 1);
  st_code code = st_address_parse(json_string_value(v), out, NULL, err);
  if (code) memset(out, 0, sizeof *out);
  return code ? st_err_wrap(err, ST_EINVAL, "param %zu (address)", i + 1) : ST_OK;
}

st_code fn_param_cid(const json_t *params, size_t i, st_cid *out, st_err *err) {
  char path[32];
  snprintf(path, sizeof path, "param %zu (CID)", i + 1);
  memset(out, 0, sizeof *out);
  st_code code = st_chain_json_get_cid(json_array_get(params, i), path, out, err);
  if (code) memset(out, 0, sizeof *out);
  return code ? st_err_wrap(err, ST_EINVAL, "%s", "bad params") : ST_OK;
}

st_code fn_param_tsk(const json_t *params, size_t i, st_tipset_key *out, st_err *err) {
  const json_t *v = json_array_get(params, i);
  st_tipset_key_init(out);
  if (!v || json_is_null(v)) return ST_OK;
  char path[40];
  snprintf(path, sizeof path, "param %zu (tipset key)", i + 1);
  return st_tipset_key_from_json(v, path, out, err) ? ST_EINVAL : ST_OK;
}

const json_t *fn_field(const json_t *o, const char *key) {
  const char *k;
  json_t *v, *found = NULL;
  json_object_foreach((json_t *)o, k, v) if (!strcasecmp(k, key)) found = v;
  return found;
}

/* ---- the common argument shapes ---- */

st_code fn_parse_tsk(const json_t *params, void *args, st_err *err) {
  return fn_param_tsk(params, 0, &((fn_tsk_args *)args)->tsk, err);
}

st_code fn_parse_cid(const json_t *params, void *args, st_err *err) {
  return fn_param_cid(params, 0, &((fn_cid_args *)args)->cid, err);
}

st_code fn_parse_addr(const json_t *params, void *args, st_err *err) {
  return fn_param_addr(params, 0, &((fn_addr_args *)args)->addr, err);
}

st_code fn_parse_addr_tsk(const json_t *params, void *args, st_err *err) {
  fn_addr_tsk_args *a = args;
  st_code code = fn_param_addr(params, 0, &a->addr, err);
  return code ? code : fn_param_tsk(params, 1, &a->tsk, err);
}

st_code fn_parse_num_tsk(const json_t *params, const char *what, fn_num_tsk_args *a, st_err *err) {
  st_code code = st_rpc_param_u64(params, 0, what, &a->num, err);
  return code ? code : fn_param_tsk(params, 1, &a->tsk, err);
}

st_code fn_parse_addr_num_tsk(const json_t *params, const char *what, fn_addr_num_tsk_args *a, st_err *err) {
  st_code code = fn_param_addr(params, 0, &a->at.addr, err);
  if (!code) code = st_rpc_param_u64(params, 1, what, &a->num, err);
  return code ? code : fn_param_tsk(params, 2, &a->at.tsk, err);
}

void fn_free_num_tsk(void *args) { st_tipset_key_free(&((fn_num_tsk_args *)args)->tsk); }

void fn_free_tsk(void *args) { st_tipset_key_free(&((fn_tsk_args *)args)->tsk); }

void fn_free_addr_tsk(void *args) { st_tipset_key_free(&((fn_addr_tsk_args *)args)->tsk); }
