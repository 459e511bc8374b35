/* st_node_api_state: the network's parameters, actors and their addresses, where a message
 * landed (StateSearchMsg, StateWaitMsg), chain randomness, and AuthNew. */
#include "rpc/st_node_api_int.h"

#include <string.h>

#include "core/st_encoding.h"
#include "rpc/st_jwt.h"

st_code st_node_randomness(st_rpc_client *c, bool beacon, int64_t dst, int64_t round, const uint8_t *entropy,
                           size_t elen, const st_tipset_key *key, uint8_t out[32], st_err *err) {
  const char *m = beacon ? "StateGetRandomnessFromBeacon" : "StateGetRandomnessFromTickets";
  json_t *r;
  st_code code = na_call(
      c, m, json_pack("[I I o o]", (json_int_t)dst, (json_int_t)round, na_bytes_json(entropy, elen), na_key_json(key)),
      &r, err);
  if (!code) code = na_b64_field(r, m, "randomness", out, 32, err);
  json_decref(r);
  if (code) memset(out, 0, 32);
  return code;
}

st_code st_node_search_msg(st_rpc_client *c, const st_cid *msg, st_node_lookup *out, st_err *err) {
  memset(out, 0, sizeof *out);
  json_t *r;
  st_code code =
      na_call(c, "StateSearchMsg", json_pack("[[] o I b]", st_chain_json_cid(msg), (json_int_t)-1, 1), &r, err);
  if (!code && !json_is_null(r)) code = na_lookup_from_json(r, "StateSearchMsg", out, err);
  json_decref(r);
  if (code) memset(out, 0, sizeof *out);
  return code;
}

st_code st_node_network(st_rpc_client *c, st_network *out, uint64_t *genesis_time, st_err *err) {
  json_t *r;
  st_code code = na_call(c, "StateGetNetworkParams", NULL, &r, err);
  if (!code && st_network_from_json(json_object_get(r, "Spacetime"), out, err))
    code = st_err_wrap(err, ST_EINVAL, "StateGetNetworkParams: Spacetime");
  else if (!code && !st_chain_json_u64_value(json_object_get(r, "GenesisTimestamp"), genesis_time))
    code = na_bad(err, "StateGetNetworkParams", "GenesisTimestamp");
  json_decref(r);
  if (code) {
    memset(out, 0, sizeof *out);
    *genesis_time = 0;
  }
  return code;
}

st_code st_node_lookup_id(st_rpc_client *c, const st_address *a, uint64_t *id, st_err *err) {
  *id = 0;
  json_t *r;
  st_code code = na_call(c, "StateLookupID", na_addr_param(a), &r, err);
  if (code) return code;
  st_address got;
  if (!json_is_string(r) || st_address_parse(json_string_value(r), &got, NULL, NULL) || st_address_id(&got, id, NULL))
    code = na_bad(err, "StateLookupID", "ID address");
  json_decref(r);
  if (code) *id = 0;
  return code;
}

st_code st_node_account_key(st_rpc_client *c, const st_address *a, st_address *key, st_err *err) {
  memset(key, 0, sizeof *key);
  json_t *r;
  st_code code = na_call(c, "StateAccountKey", na_addr_param(a), &r, err);
  if (code) return code;
  if (!json_is_string(r) || st_address_parse(json_string_value(r), key, NULL, NULL))
    code = na_bad(err, "StateAccountKey", "key address");
  json_decref(r);
  if (code) memset(key, 0, sizeof *key);
  return code;
}

st_code st_node_wait_msg(st_rpc_client *c, const st_cid *msg, int64_t confidence, st_node_lookup *out, st_err *err) {
  memset(out, 0, sizeof *out);
  json_t *r;
  st_code code =
      na_call(c, "StateWaitMsg",
              json_pack("[o I I b]", st_chain_json_cid(msg), (json_int_t)confidence, (json_int_t)-1, 1), &r, err);
  if (!code) code = na_lookup_from_json(r, "StateWaitMsg", out, err);
  json_decref(r);
  if (code) memset(out, 0, sizeof *out);
  return code;
}

st_code st_node_actor(st_rpc_client *c, const st_address *a, st_actor *out, st_err *err) {
  static const char M[] = "StateGetActor";
  st_actor_init(out);
  json_t *r;
  st_code code = na_call(c, M, na_addr_param(a), &r, err);
  if (!code && (st_chain_json_get_cid(json_object_get(r, "Code"), "StateGetActor: Code", &out->code, err) ||
                st_chain_json_get_cid(json_object_get(r, "Head"), "StateGetActor: Head", &out->head, err) ||
                st_chain_json_get_bigint(json_object_get(r, "Balance"), "StateGetActor: Balance", out->balance, err)))
    code = ST_EINVAL;
  if (!code && !st_chain_json_u64_value(json_object_get(r, "Nonce"), &out->nonce)) code = na_bad(err, M, "Nonce");
  json_decref(r);
  if (code) st_actor_free(out), st_actor_init(out);
  return code;
}

st_code st_node_auth_new(st_rpc_client *c, unsigned perms, st_buf *token, st_err *err) {
  json_t *r;
  st_code code = na_call(c, "AuthNew", json_pack("[o]", st_perms_to_json(perms)), &r, err);
  if (!code && (!json_is_string(r) || st_base64_decode(json_string_value(r), json_string_length(r), true, token, NULL)))
    code = na_bad(err, "AuthNew", "token");
  json_decref(r);
  return code;
}
