/* st_fullnode: one handler per JSON-RPC method; params are checked and named, results follow
 * docs/lotus-api.md (null vs [] included). */
#include "rpc/st_fullnode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <strings.h>

#include "chain/st_beacon.h"
#include "chain/st_deadline.h"
#include "chain/st_methods.h"
#include "chain/st_params.h"
#include "chain/st_vm.h"
#include "codec/st_varint.h"
#include "core/st_encoding.h"
#include "crypto/st_secp.h"
#include "crypto/st_vrf.h"
#include "proofs/st_sector.h"

/* ---- params ---- */

static st_code p_addr(json_t *params, size_t i, st_address *out, st_err *err) {
  const json_t *v = json_array_get(params, i);
  if (!json_is_string(v)) return st_err_set(err, ST_EINVAL, "param %zu (address): must be a string like t01000", i + 1);
  st_code code = st_address_parse(json_string_value(v), out, NULL, err);
  return code ? st_err_wrap(err, ST_EINVAL, "param %zu (address)", i + 1) : ST_OK;
}

static st_code p_cid(json_t *params, size_t i, st_cid *out, st_err *err) {
  char path[32];
  snprintf(path, sizeof path, "param %zu (CID)", i + 1);
  st_code code = st_chain_json_get_cid(json_array_get(params, i), path, out, err);
  return code ? st_err_wrap(err, ST_EINVAL, "%s", "bad params") : ST_OK;
}

/* A tipset key param: [] or absent means the head. */
static st_code p_tsk(st_fullnode *n, json_t *params, size_t i, st_tipset *out, st_err *err) {
  const json_t *v = json_array_get(params, i);
  if (!v || json_is_null(v) || (json_is_array(v) && !json_array_size(v))) return st_chain_head(n->chain, out, err);
  char path[40];
  snprintf(path, sizeof path, "param %zu (tipset key)", i + 1);
  st_tipset_key k;
  st_tipset_key_init(&k);
  st_code code = st_tipset_key_from_json(v, path, &k, err);
  if (code) code = ST_EINVAL;
  if (!code) code = st_chain_tipset(n->chain, &k, out, err);
  st_tipset_key_free(&k);
  return code;
}

static json_t *addr_json(const st_fullnode *n, const st_address *a) {
  char s[ST_ADDR_STR_MAX];
  if (st_address_format(a, n->network, s, NULL)) return json_null();
  return json_string(s);
}

/* A refusal by the node (not a malformed request): JSON-RPC code 1 with the reason. */
static st_code refuse(const st_rpc_call *call, st_code code) {
  if (call->code) *call->code = ST_RPC_ERROR;
  return code;
}

/* ---- chain ---- */

static st_code m_version(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  (void)params;
  (void)err;
  /* the versions a Lotus client checks: 2.3.0 on v1, 1.5.0 on v0 */
  json_int_t api = call->version == 0 ? 66816 : 131840;
  *result = json_pack("{ss sI sI ss}", "Version", n->version, "APIVersion", api, "BlockDelay",
                      (json_int_t)st_chain_network(n->chain)->block_delay, "Agent", "spacetime");
  return ST_OK;
}

/* StateGetNetworkParams: Lotus's fields, plus (our extension) "Spacetime", every network
 * parameter (st_network_to_json), and "GenesisTimestamp", so a miner needs no genesis file. */
static st_code m_state_get_network_params(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                          st_err *err) {
  st_fullnode *n = ctx;
  (void)call;
  (void)params;
  (void)err;
  const st_network *net = st_chain_network(n->chain);
  char minp[32];
  snprintf(minp, sizeof minp, "%lld", (long long)net->consensus_min_power);
  *result =
      json_pack("{ss sI ss sI so sI}", "NetworkName", net->name, "BlockDelaySecs", (json_int_t)net->block_delay,
                "ConsensusMinerMinPower", minp, "PreCommitChallengeDelay", (json_int_t)net->precommit_challenge_delay,
                "Spacetime", st_network_to_json(net), "GenesisTimestamp", (json_int_t)st_chain_genesis_time(n->chain));
  return ST_OK;
}

static st_code tipset_result(st_fullnode *n, st_tipset *ts, st_code code, json_t **result, st_err *err) {
  if (!code) code = st_tipset_to_json(ts, n->network, result, err);
  st_tipset_free(ts);
  return code;
}

static st_code m_chain_head(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  (void)call;
  (void)params;
  st_tipset ts;
  st_tipset_init(&ts);
  return tipset_result(n, &ts, st_chain_head(n->chain, &ts, err), result, err);
}

static st_code m_chain_genesis(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  (void)call;
  (void)params;
  st_tipset ts;
  st_tipset_init(&ts);
  return tipset_result(n, &ts, st_chain_genesis(n->chain, &ts, err), result, err);
}

static st_code m_chain_get_tipset(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  const json_t *v = json_array_get(params, 0);
  if (!json_is_array(v) || !json_array_size(v))
    return st_err_set(err, ST_EINVAL, "param 1 (tipset key): must be a non-empty array of CIDs");
  st_tipset ts;
  st_tipset_init(&ts);
  st_code code = p_tsk(n, params, 0, &ts, err);
  return tipset_result(n, &ts, code == ST_EINVAL ? code : (code ? refuse(call, code) : code), result, err);
}

static st_code m_chain_get_tipset_by_height(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                            st_err *err) {
  st_fullnode *n = ctx;
  const json_t *h = json_array_get(params, 0);
  if (!json_is_integer(h)) return st_err_set(err, ST_EINVAL, "param 1 (height): must be an integer");
  if (json_integer_value(h) < 0)
    return st_err_set(err, ST_EINVAL, "param 1 (height): height %lld is negative", (long long)json_integer_value(h));
  st_tipset from, ts;
  st_tipset_init(&from);
  st_tipset_init(&ts);
  st_code code = p_tsk(n, params, 1, &from, err);
  if (!code && json_integer_value(h) > from.height)
    code = refuse(call, st_err_set(err, ST_EINVAL,
                                   "looking for tipset with height greater than start point, req: %lld, head: %lld",
                                   (long long)json_integer_value(h), (long long)from.height));
  if (!code && (code = st_chain_tipset_at(n->chain, json_integer_value(h), &ts, err))) refuse(call, code);
  st_tipset_free(&from);
  return tipset_result(n, &ts, code, result, err);
}

static st_code m_chain_get_block(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  st_cid cid;
  st_code code = p_cid(params, 0, &cid, err);
  if (code) return code;
  st_block_header b;
  st_block_header_init(&b);
  if ((code = st_chain_block(n->chain, &cid, &b, err))) refuse(call, code);
  if (!code) code = st_block_header_to_json(&b, n->network, result, err);
  st_block_header_free(&b);
  return code;
}

static void free_msgs(st_signed_message *m, st_cid *cids, size_t k) {
  for (size_t i = 0; i < k; i++) st_signed_message_free(&m[i]);
  free(m);
  free(cids);
}

static st_code m_chain_get_block_messages(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                          st_err *err) {
  st_fullnode *n = ctx;
  st_cid cid;
  st_code code = p_cid(params, 0, &cid, err);
  if (code) return code;
  st_block_header b;
  st_block_header_init(&b);
  st_signed_message *msgs = NULL;
  st_cid *cids = NULL;
  size_t k = 0;
  if ((code = st_chain_block(n->chain, &cid, &b, err)) ||
      (code = st_chain_block_messages(n->chain, &b, &msgs, &cids, &k, err)))
    refuse(call, code);
  json_t *secp = json_array(), *cj = json_array();
  for (size_t i = 0; i < k && !code; i++) {
    json_t *m;
    if (!(code = st_signed_message_to_json(&msgs[i], n->network, &m, err))) json_array_append_new(secp, m);
    json_array_append_new(cj, st_chain_json_cid(&cids[i]));
  }
  if (!code) *result = json_pack("{s[] so so}", "BlsMessages", "SecpkMessages", secp, "Cids", cj);
  else {
    json_decref(secp);
    json_decref(cj);
  }
  free_msgs(msgs, cids, k);
  st_block_header_free(&b);
  return code;
}

static st_code m_chain_get_message(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  st_cid cid;
  st_code code = p_cid(params, 0, &cid, err);
  if (code) return code;
  st_signed_message sm;
  st_signed_message_init(&sm);
  if ((code = st_chain_message(n->chain, &cid, &sm, err))) refuse(call, code);
  if (!code) code = st_message_to_json(&sm.message, n->network, result, err);
  st_signed_message_free(&sm);
  return code;
}

/* The parent tipset of a block, and its execution (messages in apply order, receipts). */
static st_code parent_of(st_fullnode *n, const st_cid *block, st_tipset *parent, st_tipset_exec *ex, bool *genesis,
                         st_err *err) {
  st_block_header b;
  st_block_header_init(&b);
  st_code code = st_chain_block(n->chain, block, &b, err);
  *genesis = !code && b.n_parents == 0;
  if (!code && !*genesis) {
    st_tipset_key k;
    st_tipset_key_init(&k);
    code = st_tipset_key_set(&k, b.parents, b.n_parents, err);
    if (!code) code = st_chain_tipset(n->chain, &k, parent, err);
    if (!code) code = st_chain_exec(n->chain, &k, ex, err);
    st_tipset_key_free(&k);
  }
  st_block_header_free(&b);
  return code;
}

/* The messages a tipset applied, in order, as [{"Cid", "Message"}]. */
static st_code applied_messages(st_fullnode *n, const st_tipset *ts, json_t *out, st_err *err) {
  st_cid *cids = NULL;
  size_t k = 0;
  st_code code = st_chain_applied(n->chain, &ts->key, &cids, &k, err);
  for (size_t i = 0; i < k && !code; i++) {
    st_signed_message sm;
    st_signed_message_init(&sm);
    json_t *m = NULL;
    code = st_chain_message(n->chain, &cids[i], &sm, err);
    if (!code) code = st_message_to_json(&sm.message, n->network, &m, err);
    if (!code) json_array_append_new(out, json_pack("{so so}", "Cid", st_chain_json_cid(&cids[i]), "Message", m));
    st_signed_message_free(&sm);
  }
  free(cids);
  return code;
}

static st_code m_chain_get_parent_messages(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                           st_err *err) {
  st_fullnode *n = ctx;
  st_cid cid;
  st_code code = p_cid(params, 0, &cid, err);
  if (code) return code;
  st_tipset parent;
  st_tipset_init(&parent);
  st_tipset_exec ex;
  st_tipset_exec_init(&ex);
  bool genesis = false;
  if ((code = parent_of(n, &cid, &parent, &ex, &genesis, err))) refuse(call, code);
  json_t *arr = json_array();
  if (!code && !genesis) code = applied_messages(n, &parent, arr, err);
  /* Lotus gives null, not [], for none */
  if (!code) *result = json_array_size(arr) ? json_incref(arr) : json_null();
  json_decref(arr);
  st_tipset_exec_free(&ex);
  st_tipset_free(&parent);
  return code;
}

static st_code m_chain_get_parent_receipts(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                           st_err *err) {
  st_fullnode *n = ctx;
  st_cid cid;
  st_code code = p_cid(params, 0, &cid, err);
  if (code) return code;
  st_tipset parent;
  st_tipset_init(&parent);
  st_tipset_exec ex;
  st_tipset_exec_init(&ex);
  bool genesis = false;
  if ((code = parent_of(n, &cid, &parent, &ex, &genesis, err))) refuse(call, code);
  st_receipt *rc = NULL;
  size_t k = 0;
  if (!code && genesis) *result = json_null();
  if (!code && !genesis) code = st_chain_receipts(n->chain, &ex.receipts_root, &rc, &k, err);
  if (!code && !genesis) {
    json_t *arr = json_array();
    for (size_t i = 0; i < k && !code; i++) {
      json_t *r;
      if (!(code = st_receipt_to_json(&rc[i], &r, err))) json_array_append_new(arr, r);
    }
    if (!code) *result = arr;
    else json_decref(arr);
  }
  for (size_t i = 0; i < k; i++) st_receipt_free(&rc[i]);
  free(rc);
  st_tipset_exec_free(&ex);
  st_tipset_free(&parent);
  return code;
}

/* ---- state ---- */

static st_code state_at(st_fullnode *n, json_t *params, size_t i, st_state *st, st_err *err) {
  st_tipset ts;
  st_tipset_init(&ts);
  st_code code = p_tsk(n, params, i, &ts, err);
  if (!code) code = st_chain_state(n->chain, &ts.key, st, err);
  st_tipset_free(&ts);
  return code;
}

static st_code m_state_get_actor(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  st_address a;
  st_code code = p_addr(params, 0, &a, err);
  if (code) return code;
  st_state st;
  st_state_init(&st);
  st_state_actor *act = NULL;
  if ((code = state_at(n, params, 1, &st, err)) || (code = st_state_lookup(&st, &a, &act, err))) refuse(call, code);
  if (!code) {
    st_actor out;
    st_actor_init(&out);
    st_actor_code(act->kind, &out.code);
    out.head = act->head;
    out.nonce = act->nonce;
    mpz_set(out.balance, act->balance);
    code = st_actor_to_json(&out, result, err);
    st_actor_free(&out);
  }
  st_state_clear(&st);
  return code;
}

/* StateDecodeParams [to, method, params (base64), tsk]: the params as JSON, by the method table
 * of the kind of actor `to` is at tsk. */
/* ---- market and verified registry ---- */

/* params[ai] as an actor ID at the tipset params[ti] (kept in ts; free it). *found is false when
 * the address has no actor there. */
static st_code actor_id_at(st_fullnode *n, const st_rpc_call *call, json_t *params, size_t ai, size_t ti, st_tipset *ts,
                           uint64_t *id, bool *found, st_err *err) {
  st_tipset_init(ts);
  *found = false;
  st_address a;
  st_code code = p_addr(params, ai, &a, err);
  if (code) return code;
  if ((code = p_tsk(n, params, ti, ts, err))) return code == ST_EINVAL ? code : refuse(call, code);
  st_state st;
  st_state_init(&st);
  st_state_actor *act = NULL;
  if ((code = st_chain_state(n->chain, &ts->key, &st, err))) refuse(call, code);
  if (!code && !st_state_lookup(&st, &a, &act, NULL)) {
    *found = true;
    *id = act->id;
  }
  st_state_clear(&st);
  return code;
}

static st_code m_state_market_balance(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                      st_err *err) {
  st_fullnode *n = ctx;
  st_tipset ts;
  uint64_t id = 0;
  bool found;
  st_code code = actor_id_at(n, call, params, 0, 1, &ts, &id, &found, err);
  st_market_state m;
  st_market_state_init(&m);
  if (!code && found && (code = st_chain_market_state(n->chain, &ts.key, &m, err))) refuse(call, code);
  if (!code) {
    mpz_t escrow, locked;
    mpz_inits(escrow, locked, NULL);
    if (found) st_market_balance_of(&m, id, escrow, locked);
    *result = json_pack("{so so}", "Escrow", st_chain_json_bigint(escrow), "Locked", st_chain_json_bigint(locked));
    mpz_clears(escrow, locked, NULL);
  }
  st_market_state_free(&m);
  st_tipset_free(&ts);
  return code;
}

static st_code m_state_market_deals(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  st_tipset ts;
  st_tipset_init(&ts);
  st_code code = p_tsk(n, params, 0, &ts, err);
  if (code) {
    st_tipset_free(&ts);
    return code == ST_EINVAL ? code : refuse(call, code);
  }
  st_market_state m;
  if ((code = st_chain_market_state(n->chain, &ts.key, &m, err))) refuse(call, code);
  if (!code) {
    json_t *o = json_object();
    for (size_t i = 0; i < m.ndeals; i++) {
      char key[24];
      snprintf(key, sizeof key, "%llu", (unsigned long long)m.deals[i].id);
      json_object_set_new(o, key, st_market_deal_to_json(&m.deals[i]));
    }
    *result = o;
  }
  st_market_state_free(&m);
  st_tipset_free(&ts);
  return code;
}

static st_code m_state_market_storage_deal(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                           st_err *err) {
  st_fullnode *n = ctx;
  uint64_t id;
  if (!st_chain_json_u64_value(json_array_get(params, 0), &id))
    return st_err_set(err, ST_EINVAL, "param 1 (deal ID): must be an unsigned integer");
  st_tipset ts;
  st_tipset_init(&ts);
  st_code code = p_tsk(n, params, 1, &ts, err);
  if (code) {
    st_tipset_free(&ts);
    return code == ST_EINVAL ? code : refuse(call, code);
  }
  st_market_state m;
  if ((code = st_chain_market_state(n->chain, &ts.key, &m, err))) refuse(call, code);
  const st_market_deal *d = code ? NULL : st_market_deal_of(&m, id);
  if (!code && !d) code = refuse(call, st_err_set(err, ST_ENOENT, "deal %llu not found", (unsigned long long)id));
  if (!code) *result = st_market_deal_to_json(d);
  st_market_state_free(&m);
  st_tipset_free(&ts);
  return code;
}

/* Datacap (clients) or allowance (verifiers), null when the address has none. */
static st_code verifreg_status(st_fullnode *n, const st_rpc_call *call, json_t *params, bool verifier, json_t **result,
                               st_err *err) {
  st_tipset ts;
  uint64_t id = 0;
  bool found;
  st_code code = actor_id_at(n, call, params, 0, 1, &ts, &id, &found, err);
  st_verifreg_state v;
  st_verifreg_state_init(&v);
  if (!code && found && (code = st_chain_verifreg_state(n->chain, &ts.key, &v, err))) refuse(call, code);
  if (!code) {
    const st_verifreg_entry *e = !found     ? NULL
                                 : verifier ? st_verifreg_find(v.verifiers, v.nverifiers, id)
                                            : st_verifreg_find(v.clients, v.nclients, id);
    *result = e ? st_chain_json_bigint(e->amount) : json_null();
  }
  st_verifreg_state_free(&v);
  st_tipset_free(&ts);
  return code;
}

static st_code m_state_verified_client_status(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                              st_err *err) {
  return verifreg_status(ctx, call, params, false, result, err);
}

static st_code m_state_verifier_status(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                       st_err *err) {
  return verifreg_status(ctx, call, params, true, result, err);
}

static st_code m_state_verified_registry_root_key(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                                  st_err *err) {
  st_fullnode *n = ctx;
  (void)params;
  int64_t root = st_chain_network(n->chain)->verifreg_root;
  if (!root)
    return refuse(
        call, st_err_set(err, ST_ENOENT, "this network has no verified registry root key (genesis --verifreg-root)"));
  st_address a;
  st_address_from_id((uint64_t)root, &a, NULL);
  *result = addr_json(n, &a);
  return ST_OK;
}

static st_code m_state_decode_params(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  st_address a;
  uint64_t method;
  st_code code = p_addr(params, 0, &a, err);
  if (code) return code;
  if (!st_chain_json_u64_value(json_array_get(params, 1), &method))
    return st_err_set(err, ST_EINVAL, "param 2 (method): must be a non-negative integer");
  const json_t *b64 = json_array_get(params, 2);
  st_buf raw = ST_BUF_INIT;
  if (!json_is_string(b64) && !json_is_null(b64))
    return st_err_set(err, ST_EINVAL, "param 3 (params): must be base64 text");
  if (json_is_string(b64) && st_base64_decode(json_string_value(b64), json_string_length(b64), true, &raw, err))
    return st_err_wrap(err, ST_EINVAL, "param 3 (params)");
  st_state st;
  st_state_init(&st);
  st_state_actor *act = NULL;
  const char *name, *schema;
  if ((code = state_at(n, params, 3, &st, err)) || (code = st_state_lookup(&st, &a, &act, err))) refuse(call, code);
  else if (!st_vm_method_info(act->kind, method, &name, &schema))
    code = refuse(call, st_err_set(err, ST_EINVAL, "a %s actor has no method %llu", st_actor_kind_name(act->kind),
                                   (unsigned long long)method));
  else if ((code = st_params_to_json(schema, raw.data, raw.len, result, err)))
    refuse(call, st_err_wrap(err, code, "%s params", name));
  st_state_clear(&st);
  st_buf_free(&raw);
  return code;
}

static st_code m_state_lookup_id(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  st_address a, id;
  st_code code = p_addr(params, 0, &a, err);
  if (code) return code;
  st_state st;
  st_state_init(&st);
  st_state_actor *act = NULL;
  if ((code = state_at(n, params, 1, &st, err))) refuse(call, code);
  if (!code && st_state_lookup(&st, &a, &act, NULL)) {
    if (call->code) *call->code = 11; /* Lotus: ErrActorNotFound */
    code = st_err_set(err, ST_ENOENT, "actor not found");
  }
  if (!code) code = st_address_from_id(act->id, &id, err);
  if (!code) *result = addr_json(n, &id);
  st_state_clear(&st);
  return code;
}

static st_code m_state_account_key(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  st_address a;
  st_code code = p_addr(params, 0, &a, err);
  if (code) return code;
  st_addr_protocol p = st_address_protocol(&a);
  if (p == ST_ADDR_SECP256K1 || p == ST_ADDR_BLS || p == ST_ADDR_DELEGATED) {
    *result = addr_json(n, &a);
    return ST_OK;
  }
  if (p == ST_ADDR_ACTOR)
    return refuse(call, st_err_set(err, ST_EINVAL, "cannot resolve actor address to key address"));
  st_state st;
  st_state_init(&st);
  st_state_actor *act = NULL;
  if ((code = state_at(n, params, 1, &st, err)) || (code = st_state_lookup(&st, &a, &act, err))) refuse(call, code);
  if (!code && !act->robust.len)
    code = refuse(call, st_err_set(err, ST_EINVAL, "actor is not an account: it has no key address"));
  if (!code) *result = addr_json(n, &act->robust);
  st_state_clear(&st);
  return code;
}

static st_code lookup_json(st_fullnode *n, const st_cid *cid, const st_msg_lookup *l, json_t **out, st_err *err) {
  json_t *rc = NULL, *ts = NULL;
  st_code code = st_receipt_to_json(&l->receipt, &rc, err);
  if (!code) code = st_tipset_key_to_json(&l->tipset, &ts, err);
  if (code) {
    json_decref(rc);
    json_decref(ts);
    return code;
  }
  (void)n;
  *out = json_pack("{so so sn so sI}", "Message", st_chain_json_cid(cid), "Receipt", rc, "ReturnDec", "TipSet", ts,
                   "Height", (json_int_t)l->height);
  return ST_OK;
}

static st_code m_state_search_msg(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  size_t at = call->version == 0 ? 0 : 1; /* v1: [fromTSK, cid, limit, allowReplaced] */
  st_cid cid;
  st_code code = p_cid(params, at, &cid, err);
  if (code) return code;
  st_msg_lookup l;
  code = st_chain_search_msg(n->chain, &cid, &l, err);
  if (code == ST_ENOENT) {
    *result = json_null(); /* Lotus: null when not found */
    code = ST_OK;
  } else if (!code) {
    code = lookup_json(n, &cid, &l, result, err);
  } else {
    refuse(call, code);
  }
  st_msg_lookup_free(&l);
  return code;
}

static st_code wait_msg(st_fullnode *n, const st_rpc_call *call, const st_cid *cid, int64_t confidence, json_t **result,
                        st_err *err);

static st_code m_state_wait_msg(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  st_cid cid;
  st_code code = p_cid(params, 0, &cid, err);
  if (code) return code;
  const json_t *conf = json_array_get(params, 1);
  if (conf && !json_is_integer(conf)) return st_err_set(err, ST_EINVAL, "param 2 (confidence): must be an integer");
  int64_t confidence = conf ? json_integer_value(conf) : 0;
  /* each wait holds a server thread: at most ST_FULLNODE_MAX_WAITS at once, so reads go on */
  pthread_mutex_lock(&n->pool_mu);
  bool full = n->waiters >= ST_FULLNODE_MAX_WAITS;
  if (!full) n->waiters++;
  pthread_mutex_unlock(&n->pool_mu);
  if (full)
    return refuse(call, st_err_set(err, ST_EUNAVAIL,
                                   "%d StateWaitMsg calls are waiting already: poll with StateSearchMsg instead",
                                   ST_FULLNODE_MAX_WAITS));
  code = wait_msg(n, call, &cid, confidence, result, err);
  pthread_mutex_lock(&n->pool_mu);
  n->waiters--;
  pthread_mutex_unlock(&n->pool_mu);
  return code;
}

/* wait for the message, then for confidence more epochs on top; at most 10 minutes, and not
 * past the node's shutdown */
static st_code wait_msg(st_fullnode *n, const st_rpc_call *call, const st_cid *cidp, int64_t confidence,
                        json_t **result, st_err *err) {
  st_cid cid = *cidp;
  st_code code;
  time_t deadline = time(NULL) + 600;
  for (;;) {
    st_msg_lookup l;
    code = st_chain_search_msg(n->chain, &cid, &l, err);
    if (!code) {
      st_tipset head;
      st_tipset_init(&head);
      code = st_chain_head(n->chain, &head, err);
      bool deep = !code && head.height - l.height >= confidence;
      st_tipset_free(&head);
      if (!code && deep) code = lookup_json(n, &cid, &l, result, err);
      st_msg_lookup_free(&l);
      if (code || deep) return code ? refuse(call, code) : ST_OK;
    } else {
      st_msg_lookup_free(&l);
      if (code != ST_ENOENT) return refuse(call, code);
    }
    if (time(NULL) >= deadline)
      return refuse(call, st_err_set(err, ST_EUNAVAIL, "gave up waiting for the message after 10 minutes"));
    pthread_mutex_lock(&n->pool_mu);
    bool stopping = n->stopping;
    uint64_t seen = n->head_changes;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    while (!stopping && n->head_changes == seen && pthread_cond_timedwait(&n->head_cv, &n->pool_mu, &ts) == 0)
      stopping = n->stopping;
    pthread_mutex_unlock(&n->pool_mu);
    if (stopping) return refuse(call, st_err_set(err, ST_EUNAVAIL, "the node is stopping"));
  }
}

/* ---- message pool ---- */

static st_code push(st_fullnode *n, const st_rpc_call *call, const st_signed_message *sm, st_cid *cid, st_err *err) {
  st_state st;
  st_state_init(&st);
  st_code code = st_chain_state(n->chain, NULL, &st, err);
  if (!code) code = st_mpool_add(n->pool, &st, sm, cid, err);
  st_state_clear(&st);
  return code ? refuse(call, code) : ST_OK;
}

static st_code m_mpool_push(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  st_signed_message sm;
  st_signed_message_init(&sm);
  st_code code = st_signed_message_from_json(json_array_get(params, 0), &sm, err);
  if (code) {
    st_signed_message_free(&sm);
    return st_err_wrap(err, ST_EINVAL, "param 1 (signed message)");
  }
  st_cid cid;
  pthread_mutex_lock(&n->pool_mu);
  code = push(n, call, &sm, &cid, err);
  pthread_mutex_unlock(&n->pool_mu);
  if (!code) *result = st_chain_json_cid(&cid);
  st_signed_message_free(&sm);
  return code;
}

/* Fills GasLimit, GasPremium and GasFeeCap where they are 0 (see the header). */
/* A member of a JSON object as Go's encoding/json finds it: case-insensitively, the last match
 * winning. */
static json_t *jfield(const json_t *o, const char *key) {
  const char *k;
  json_t *v, *found = NULL;
  json_object_foreach((json_t *)o, k, v) if (!strcasecmp(k, key)) found = v;
  return found;
}

static st_code estimate(st_fullnode *n, st_message *m, st_err *err) {
  st_tipset head;
  st_tipset_init(&head);
  st_tipset_exec ex;
  st_tipset_exec_init(&ex);
  st_state st;
  st_state_init(&st);
  st_code code = st_chain_head(n->chain, &head, err);
  if (!code) code = st_chain_exec(n->chain, &head.key, &ex, err);
  if (!code) code = st_chain_state(n->chain, &head.key, &st, err);
  if (!code && !mpz_sgn(m->gas_premium)) mpz_set_ui(m->gas_premium, 100);
  if (!code && !mpz_sgn(m->gas_fee_cap)) {
    mpz_mul_ui(m->gas_fee_cap, ex.next_base_fee, 2);
    mpz_add(m->gas_fee_cap, m->gas_fee_cap, m->gas_premium);
  }
  if (!code && mpz_cmp(m->gas_premium, m->gas_fee_cap) > 0)
    mpz_set(m->gas_premium, m->gas_fee_cap); /* as Lotus caps it */
  if (!code && m->gas_limit == 0) {
    /* run it on a copy of the head state with the block's whole gas and no fee */
    const st_network *net = st_chain_network(n->chain);
    st_message trial;
    st_message_init(&trial);
    code = st_message_copy(&trial, m, err);
    st_state_actor *sender = NULL;
    if (!code && st_state_lookup(&st, &m->from, &sender, NULL)) code = st_err_set(err, ST_EINVAL, "sender not found");
    if (!code) {
      trial.gas_limit = net->block_gas_limit;
      mpz_set_ui(trial.gas_fee_cap, 0);
      mpz_set_ui(trial.gas_premium, 0);
      trial.nonce = sender->nonce;
      st_receipt rc;
      st_receipt_init(&rc);
      char why[ST_ERR_MSG_MAX];
      code = st_chain_call(n->chain, &trial, st_message_size(&trial) + 69, &rc, why, err);
      if (!code && rc.exit_code)
        code = st_err_set(err, ST_EINVAL, "the message would fail with exit code %lld (%s): %s",
                          (long long)rc.exit_code, st_exit_code_name(rc.exit_code), why);
      if (!code) {
        m->gas_limit = rc.gas_used + rc.gas_used / 4;
        if (m->gas_limit > net->block_gas_limit) m->gas_limit = net->block_gas_limit;
      }
      st_receipt_free(&rc);
    }
    st_message_free(&trial);
  }
  st_state_clear(&st);
  st_tipset_exec_free(&ex);
  st_tipset_free(&head);
  return code;
}

static st_code m_gas_estimate(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  st_message m;
  st_message_init(&m);
  st_code code = st_message_from_json(json_array_get(params, 0), &m, err);
  if (code) {
    st_message_free(&m);
    return st_err_wrap(err, ST_EINVAL, "param 1 (message)");
  }
  if (!m.to.len || !m.from.len)
    code =
        st_err_set(err, ST_EINVAL, !m.to.len ? "message To address is undefined" : "message From address is undefined");
  if (!code && (code = estimate(n, &m, err))) refuse(call, code);
  if (!code) code = st_message_to_json(&m, n->network, result, err);
  st_message_free(&m);
  return code;
}

/* A wallet key's name in the keystore: "wallet-<t address>". */
#define WALLET_PREFIX "wallet-"
static st_code wallet_name(const st_address *addr, char name[ST_ADDR_STR_MAX + 16], st_err *err) {
  char text[ST_ADDR_STR_MAX];
  st_code code = st_address_format(addr, 't', text, err);
  if (!code) snprintf(name, ST_ADDR_STR_MAX + 16, WALLET_PREFIX "%s", text);
  return code;
}

/* Stores a secp256k1 key under its address's name; *addr gets the address. */
static st_code wallet_put(const st_keystore *ks, const st_keyinfo *ki, st_address *addr, st_err *err) {
  char name[ST_ADDR_STR_MAX + 16];
  st_code code = st_secp_address(ki->priv, addr, err);
  if (!code) code = wallet_name(addr, name, err);
  if (!code) code = st_keystore_put(ks, name, ki, err);
  return code;
}

st_code st_fullnode_wallet_new_offline(const char *keystore_dir, st_address *addr, st_err *err) {
  st_keystore ks;
  st_keyinfo ki = {.type = ST_KEY_SECP256K1};
  st_code code = st_keystore_open(&ks, keystore_dir, err);
  if (!code) code = st_secp_keygen(ki.priv, err);
  if (!code) code = wallet_put(&ks, &ki, addr, err);
  st_secure_zero(&ki, sizeof ki);
  return code;
}

st_code st_fullnode_wallet_key(st_fullnode *n, const st_address *addr, uint8_t sk[32], st_err *err) {
  char name[ST_ADDR_STR_MAX + 16];
  st_code code = wallet_name(addr, name, err);
  if (code) return code;
  st_keyinfo ki;
  code = st_keystore_get(&n->wallet, name, &ki, NULL);
  if (code) return st_err_set(err, ST_ENOENT, "the wallet has no key for %s", name + strlen(WALLET_PREFIX));
  memcpy(sk, ki.priv, 32);
  st_secure_zero(&ki, sizeof ki);
  return ST_OK;
}

/* The key address an address stands for (an ID address through the state). */
static st_code key_address(st_fullnode *n, const st_address *a, st_address *out, st_err *err) {
  if (st_address_protocol(a) != ST_ADDR_ID) {
    *out = *a;
    return ST_OK;
  }
  st_state st;
  st_state_init(&st);
  st_state_actor *act = NULL;
  st_code code = st_chain_state(n->chain, NULL, &st, err);
  if (!code) code = st_state_lookup(&st, a, &act, err);
  if (!code && !act->robust.len) code = st_err_set(err, ST_EINVAL, "actor has no key address");
  if (!code) *out = act->robust;
  st_state_clear(&st);
  return code;
}

static st_code m_mpool_push_message(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  st_signed_message sm;
  st_signed_message_init(&sm);
  st_code code = st_message_from_json(json_array_get(params, 0), &sm.message, err);
  if (code) {
    st_signed_message_free(&sm);
    return st_err_wrap(err, ST_EINVAL, "param 1 (message)");
  }
  const json_t *spec = json_array_get(params, 1);
  if (spec && !json_is_null(spec) && !json_is_object(spec))
    code = st_err_set(err, ST_EINVAL, "param 2 (send spec): must be an object or null");
  if (!code && sm.message.nonce)
    code = refuse(call, st_err_set(err, ST_EINVAL, "MpoolPushMessage expects message nonce to be 0, was %llu",
                                   (unsigned long long)sm.message.nonce));
  uint8_t sk[32];
  st_address from;
  if (!code && (code = key_address(n, &sm.message.from, &from, err))) refuse(call, code);
  if (!code && (code = st_fullnode_wallet_key(n, &from, sk, err))) refuse(call, code);
  if (!code) sm.message.from = from;
  mpz_t max_fee;
  mpz_init(max_fee);
  const json_t *mf = json_is_object(spec) ? jfield(spec, "MaxFee") : NULL;
  if (!code && mf && !json_is_null(mf) && st_chain_json_get_bigint(mf, "param 2 (send spec): MaxFee", max_fee, err))
    code = ST_EINVAL;
  if (!code && (code = estimate(n, &sm.message, err))) refuse(call, code);
  if (!code && mpz_sgn(max_fee) && sm.message.gas_limit > 0) { /* Lotus's capGasFee */
    mpz_t total;
    mpz_init(total);
    mpz_mul_si(total, sm.message.gas_fee_cap, sm.message.gas_limit);
    if (mpz_cmp(total, max_fee) > 0) {
      mpz_fdiv_q_ui(sm.message.gas_fee_cap, max_fee, (unsigned long)sm.message.gas_limit);
      if (mpz_cmp(sm.message.gas_premium, sm.message.gas_fee_cap) > 0)
        mpz_set(sm.message.gas_premium, sm.message.gas_fee_cap);
    }
    mpz_clear(total);
  }
  mpz_clear(max_fee);
  pthread_mutex_lock(&n->pool_mu);
  st_state st;
  st_state_init(&st);
  if (!code && (code = st_chain_state(n->chain, NULL, &st, err))) refuse(call, code);
  if (!code && (code = st_mpool_nonce(n->pool, &st, &from, &sm.message.nonce, err))) refuse(call, code);
  if (!code && (code = st_signed_message_sign_secp(&sm, sk, err))) refuse(call, code);
  st_cid cid;
  if (!code) code = push(n, call, &sm, &cid, err);
  st_state_clear(&st);
  pthread_mutex_unlock(&n->pool_mu);
  st_secure_zero(sk, sizeof sk);
  if (!code) code = st_signed_message_to_json(&sm, n->network, result, err);
  st_signed_message_free(&sm);
  return code;
}

static st_code m_mpool_pending(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  (void)call;
  (void)params;
  json_t *arr = json_array();
  st_code code = ST_OK;
  pthread_mutex_lock(&n->pool_mu);
  const st_signed_message **pending;
  size_t k = st_mpool_pending(n->pool, &pending);
  for (size_t i = 0; i < k && !code; i++) {
    json_t *m;
    if (!(code = st_signed_message_to_json(pending[i], n->network, &m, err))) json_array_append_new(arr, m);
  }
  pthread_mutex_unlock(&n->pool_mu);
  if (code) json_decref(arr);
  else *result = arr;
  return code;
}

static st_code m_mpool_get_nonce(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  st_address a;
  st_code code = p_addr(params, 0, &a, err);
  if (code) return code;
  st_state st;
  st_state_init(&st);
  uint64_t nonce = 0;
  pthread_mutex_lock(&n->pool_mu);
  if ((code = st_chain_state(n->chain, NULL, &st, err)) || (code = st_mpool_nonce(n->pool, &st, &a, &nonce, err)))
    refuse(call, code);
  pthread_mutex_unlock(&n->pool_mu);
  if (!code) *result = st_chain_json_u64(nonce);
  st_state_clear(&st);
  return code;
}

/* ---- wallet ---- */

static st_code m_wallet_new(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  const json_t *t = json_array_get(params, 0);
  bool secp = (json_is_string(t) && !strcmp(json_string_value(t), "secp256k1")) ||
              (json_is_integer(t) && json_integer_value(t) == 1);
  if (!secp)
    return st_err_set(err, ST_EINVAL, "param 1 (key type): only \"secp256k1\" keys are supported (no BLS library)");
  st_keyinfo ki = {.type = ST_KEY_SECP256K1};
  st_address a;
  st_code code = st_secp_keygen(ki.priv, err);
  if (!code) code = wallet_put(&n->wallet, &ki, &a, err);
  /* the first key becomes the default */
  st_keyinfo dflt;
  if (!code && st_keystore_get(&n->wallet, "default", &dflt, NULL) == ST_ENOENT)
    code = st_keystore_put(&n->wallet, "default", &ki, err);
  st_secure_zero(&ki, sizeof ki);
  st_secure_zero(&dflt, sizeof dflt);
  if (code) return refuse(call, code);
  *result = addr_json(n, &a);
  return ST_OK;
}

static st_code m_wallet_list(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  (void)params;
  st_buf names = ST_BUF_INIT;
  st_code code = st_keystore_list(&n->wallet, &names, err);
  if (code) {
    st_buf_free(&names);
    return refuse(call, code);
  }
  json_t *arr = json_array();
  const char *p = st_buf_cstr(&names);
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    size_t pre = strlen(WALLET_PREFIX);
    if (len > pre && !strncmp(p, WALLET_PREFIX, pre)) {
      char addr[ST_ADDR_STR_MAX];
      snprintf(addr, sizeof addr, "%.*s", (int)(len - pre), p + pre);
      st_address a;
      if (!st_address_parse(addr, &a, NULL, NULL)) json_array_append_new(arr, addr_json(n, &a));
    }
    p += len + (nl ? 1 : 0);
  }
  st_buf_free(&names);
  *result = arr;
  return ST_OK;
}

static st_code m_wallet_balance(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  st_address a;
  st_code code = p_addr(params, 0, &a, err);
  if (code) return code;
  st_state st;
  st_state_init(&st);
  st_state_actor *act;
  if ((code = st_chain_state(n->chain, NULL, &st, err))) refuse(call, code);
  if (!code)
    *result = st_state_lookup(&st, &a, &act, NULL) ? json_string("0")
                                                   : st_chain_json_bigint(act->balance); /* Lotus: "0" for unknown */
  st_state_clear(&st);
  return code;
}

static st_code m_wallet_default(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  (void)params;
  st_keyinfo ki;
  st_code code = st_keystore_get(&n->wallet, "default", &ki, NULL);
  if (code) return refuse(call, st_err_set(err, ST_ENOENT, "failed to get default key: key info not found"));
  st_address a;
  code = st_secp_address(ki.priv, &a, err);
  st_secure_zero(&ki, sizeof ki);
  if (code) return refuse(call, code);
  *result = addr_json(n, &a);
  return ST_OK;
}

/* WalletSign's and WalletVRF's params: [Addr, "base64"]: the bytes into raw and the key of
 * Addr's key address into sk (zero it after use). */
static st_code p_key_and_data(st_fullnode *n, const st_rpc_call *call, json_t *params, st_buf *raw, uint8_t sk[32],
                              st_err *err) {
  st_address a, key;
  st_code code = p_addr(params, 0, &a, err);
  if (code) return code;
  const json_t *data = json_array_get(params, 1);
  if (!json_is_string(data)) return st_err_set(err, ST_EINVAL, "param 2 (data): must be base64");
  if (st_base64_decode(json_string_value(data), json_string_length(data), true, raw, err))
    return st_err_wrap(err, ST_EINVAL, "param 2 (data)");
  if ((code = key_address(n, &a, &key, err)) || (code = st_fullnode_wallet_key(n, &key, sk, err))) refuse(call, code);
  return code;
}

static st_code m_wallet_sign(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_buf raw = ST_BUF_INIT;
  uint8_t sk[32], sig[ST_SECP_SIG_LEN];
  st_code code = p_key_and_data(ctx, call, params, &raw, sk, err);
  if (!code && (code = st_secp_sign(sk, raw.data, raw.len, sig, err))) refuse(call, code);
  st_secure_zero(sk, sizeof sk);
  st_signature s;
  if (!code) code = st_signature_set(&s, ST_SIG_SECP256K1, sig, sizeof sig, err);
  if (!code) code = st_signature_to_json(&s, result, err);
  st_buf_free(&raw);
  return code;
}

static st_code m_wallet_export(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  st_address a, key;
  st_code code = p_addr(params, 0, &a, err);
  if (code) return code;
  uint8_t sk[32];
  if ((code = key_address(n, &a, &key, err)) || (code = st_fullnode_wallet_key(n, &key, sk, err)))
    return refuse(call, code);
  st_buf b64 = ST_BUF_INIT;
  st_base64_append(&b64, sk, sizeof sk, true);
  st_secure_zero(sk, sizeof sk);
  *result = json_pack("{ss ss}", "Type", "secp256k1", "PrivateKey", st_buf_cstr(&b64));
  st_secure_zero(b64.data, b64.len);
  st_buf_free(&b64);
  return ST_OK;
}

static st_code m_wallet_import(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  const json_t *ki = json_array_get(params, 0), *type = json_object_get(ki, "Type"),
               *pk = json_object_get(ki, "PrivateKey");
  if (!json_is_string(type) || strcmp(json_string_value(type), "secp256k1") || !json_is_string(pk))
    return st_err_set(err, ST_EINVAL,
                      "param 1 (key info): must be {\"Type\": \"secp256k1\", \"PrivateKey\": \"<base64>\"}");
  st_buf raw = ST_BUF_INIT;
  st_code code = st_base64_decode(json_string_value(pk), json_string_length(pk), true, &raw, err);
  if (!code && raw.len != 32)
    code = st_err_set(err, ST_EINVAL, "param 1 (key info): PrivateKey is %zu bytes, not 32", raw.len);
  if (code) {
    st_buf_free(&raw);
    return st_err_wrap(err, ST_EINVAL, "param 1 (key info)");
  }
  st_keyinfo k = {.type = ST_KEY_SECP256K1};
  memcpy(k.priv, raw.data, 32);
  st_secure_zero(raw.data, raw.len);
  st_buf_free(&raw);
  st_address a;
  code = st_secp_seckey_check(k.priv, err);
  if (!code) code = wallet_put(&n->wallet, &k, &a, err);
  st_secure_zero(&k, sizeof k);
  if (code) return refuse(call, code);
  *result = addr_json(n, &a);
  return ST_OK;
}

/* ---- blocks and auth ---- */

static st_code m_sync_submit_block(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  const json_t *bm = json_array_get(params, 0);
  if (!json_is_object(bm))
    return st_err_set(err, ST_EINVAL,
                      "param 1 (block): must be {\"Header\": ..., \"BlsMessages\": [...], \"SecpkMessages\": [...]}");
  st_block_header b;
  st_block_header_init(&b);
  st_code code = st_block_header_from_json(json_object_get(bm, "Header"), &b, err);
  if (code) code = st_err_wrap(err, ST_EINVAL, "param 1 (block): Header");
  const json_t *bls = json_object_get(bm, "BlsMessages"), *secp = json_object_get(bm, "SecpkMessages");
  if (!code && json_array_size(bls))
    code = st_err_set(err, ST_EINVAL, "param 1 (block): BLS messages are not supported");
  size_t k = json_array_size(secp);
  if (k > ST_CHAIN_MAX_ARRAY)
    code = st_err_set(err, ST_EINVAL, "param 1 (block): more than %d messages", ST_CHAIN_MAX_ARRAY);
  st_signed_message *msgs = k && !code ? calloc(k, sizeof *msgs) : NULL;
  if (k && !code && !msgs) code = st_err_set(err, ST_ENOMEM, "out of memory reading a block");
  size_t have = 0;
  /* the messages come from the pool (pushed before), or from the store */
  pthread_mutex_lock(&n->pool_mu);
  for (size_t i = 0; i < k && !code; i++) {
    st_cid cid;
    char path[64];
    snprintf(path, sizeof path, "param 1 (block): SecpkMessages[%zu]", i);
    if ((code = st_chain_json_get_cid(json_array_get(secp, i), path, &cid, err))) {
      code = ST_EINVAL;
      break;
    }
    st_signed_message_init(&msgs[have]);
    const st_signed_message *waiting = st_mpool_find(n->pool, &cid);
    bool found = waiting != NULL;
    if (found) {
      code = st_message_copy(&msgs[have].message, &waiting->message, err);
      msgs[have].signature = waiting->signature;
    }
    if (!found && st_chain_message(n->chain, &cid, &msgs[have], NULL)) {
      char s[ST_CID_STR_MAX];
      st_cid_to_string(&cid, s);
      code = refuse(call, st_err_set(err, ST_ENOENT, "message %s is unknown: push it first (MpoolPush)", s));
    }
    have++;
  }
  pthread_mutex_unlock(&n->pool_mu);
  bool moved = false;
  if (!code && (code = st_chain_submit_block(n->chain, &b, msgs, have, &moved, (uint64_t)time(NULL), err)))
    refuse(call, code);
  for (size_t i = 0; i < have; i++) st_signed_message_free(&msgs[i]);
  free(msgs);
  st_block_header_free(&b);
  if (!code) *result = json_null();
  return code;
}

static st_code m_auth_new(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  unsigned perms = 0;
  st_code code = st_perms_from_json(json_array_get(params, 0), &perms, err);
  if (code) return st_err_wrap(err, ST_EINVAL, "param 1 (permissions)");
  char *token = NULL;
  if ((code = st_jwt_create(n->jwt_secret, perms, &token, err))) return refuse(call, code);
  st_buf b64 = ST_BUF_INIT;
  st_base64_append(&b64, (const uint8_t *)token, strlen(token), true); /* Lotus returns []byte: base64 of the JWT */
  free(token);
  *result = json_string(st_buf_cstr(&b64));
  st_buf_free(&b64);
  return ST_OK;
}

static st_code m_auth_verify(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  const json_t *t = json_array_get(params, 0);
  if (!json_is_string(t)) return st_err_set(err, ST_EINVAL, "param 1 (token): must be a string");
  unsigned perms = 0;
  if (st_jwt_verify(n->jwt_secret, json_string_value(t), &perms, err))
    return refuse(call, st_err_wrap(err, ST_EPERM, "JWT Verification failed"));
  json_t *arr = json_array();
  for (unsigned p = ST_PERM_READ; p <= ST_PERM_ADMIN; p <<= 1)
    if (perms & p) json_array_append_new(arr, json_string(st_perm_name(p)));
  *result = arr;
  return ST_OK;
}

/* ---- ChainNotify ---- */

typedef struct st_notify_sub {
  st_rpc_chan *ch;
  st_tipset last; /* the head the channel saw last */
  struct st_notify_sub *next;
} st_notify_sub;

static json_t *head_change(st_fullnode *n, const char *type, const st_tipset *t) {
  json_t *v = NULL;
  if (st_tipset_to_json(t, n->network, &v, NULL)) return NULL;
  return json_pack("{ssso}", "Type", type, "Val", v);
}

/* The parent of t (replacing it). */
static st_code notify_parent(st_fullnode *n, st_tipset *t, st_err *err) {
  if (!t->n) return st_err_set(err, ST_ENOENT, "empty tipset");
  st_tipset_key pk = {t->blocks[0].parents, t->blocks[0].n_parents};
  st_tipset p;
  st_tipset_init(&p);
  st_code code = st_chain_tipset(n->chain, &pk, &p, err);
  if (code) {
    st_tipset_free(&p);
    return code;
  }
  st_tipset_free(t);
  *t = p;
  return ST_OK;
}

/* The batch from old to new: reverts from old downward, then applies in ascending height; NULL
 * when there is nothing to send. */
static json_t *changes(st_fullnode *n, const st_tipset_key *old_key, const st_tipset_key *new_key) {
  if (st_tipset_key_equal(old_key, new_key)) return NULL;
  st_tipset a, b;
  st_tipset_init(&a);
  st_tipset_init(&b);
  json_t *reverts = json_array(), *applies = json_array();
  st_code code = st_chain_tipset(n->chain, old_key, &a, NULL);
  if (!code) code = st_chain_tipset(n->chain, new_key, &b, NULL);
  for (int steps = 0; !code && !st_tipset_key_equal(&a.key, &b.key); steps++) {
    if (steps > 2 * ST_FULLNODE_NOTIFY_DEPTH) {
      code = ST_ERANGE;
    } else if (a.height >= b.height) {
      json_array_append_new(reverts, head_change(n, "revert", &a));
      code = notify_parent(n, &a, NULL);
    } else {
      json_array_append_new(applies, head_change(n, "apply", &b));
      code = notify_parent(n, &b, NULL);
    }
  }
  st_tipset_free(&a);
  st_tipset_free(&b);
  if (code) { /* too deep, or a lookup failed: just the new head */
    json_array_clear(reverts);
    json_array_clear(applies);
    st_tipset t;
    st_tipset_init(&t);
    if (!st_chain_tipset(n->chain, new_key, &t, NULL)) json_array_append_new(applies, head_change(n, "apply", &t));
    st_tipset_free(&t);
  }
  for (size_t i = json_array_size(applies); i > 0; i--) json_array_append(reverts, json_array_get(applies, i - 1));
  json_decref(applies);
  if (!json_array_size(reverts)) {
    json_decref(reverts);
    return NULL;
  }
  return reverts;
}

static void sub_free(st_notify_sub *s) {
  st_rpc_chan_release(s->ch);
  st_tipset_free(&s->last);
  free(s);
}

/* A channel closed (cancelled, or its connection ended): forget it. */
static void notify_closed(void *ctx, st_rpc_chan *ch) {
  st_fullnode *n = ctx;
  pthread_mutex_lock(&n->notify_mu);
  for (st_notify_sub **pp = &n->notify_subs; *pp; pp = &(*pp)->next)
    if ((*pp)->ch == ch) {
      st_notify_sub *s = *pp;
      *pp = s->next;
      sub_free(s);
      break;
    }
  pthread_mutex_unlock(&n->notify_mu);
}

static st_code m_chain_notify(void *ctx, const st_rpc_call *call, json_t *params, st_rpc_chan *ch, st_err *err) {
  (void)call, (void)params;
  st_fullnode *n = ctx;
  st_notify_sub *s = calloc(1, sizeof *s);
  if (!s) return st_err_set(err, ST_ENOMEM, "out of memory");
  st_tipset_init(&s->last);
  pthread_mutex_lock(&n->notify_mu);
  st_code code = st_chain_head(n->chain, &s->last, err);
  json_t *cur = code ? NULL : head_change(n, "current", &s->last);
  if (!code && !cur) code = st_err_set(err, ST_EINTERNAL, "the head could not be written as JSON");
  if (!code) {
    s->ch = st_rpc_chan_hold(ch);
    st_rpc_chan_on_close(ch, notify_closed, n);
    st_rpc_chan_send(ch, json_pack("[o]", cur));
    s->next = n->notify_subs;
    n->notify_subs = s;
  }
  pthread_mutex_unlock(&n->notify_mu);
  if (code) {
    st_tipset_free(&s->last);
    free(s);
  }
  return code;
}

static void notify_head(st_fullnode *n, const st_tipset *head) {
  pthread_mutex_lock(&n->notify_mu);
  for (st_notify_sub **pp = &n->notify_subs; *pp;) {
    st_notify_sub *s = *pp;
    json_t *batch = changes(n, &s->last.key, &head->key);
    bool ok = true;
    if (batch) {
      ok = st_rpc_chan_send(s->ch, batch);
      st_tipset t;
      st_tipset_init(&t);
      if (!st_chain_tipset(n->chain, &head->key, &t, NULL)) {
        st_tipset_free(&s->last);
        s->last = t;
      } else st_tipset_free(&t);
    }
    if (!ok && st_rpc_chan_closed(s->ch)) { /* closed: drop it (its on_close finds nothing) */
      *pp = s->next;
      sub_free(s);
      continue;
    }
    pp = &s->next;
  }
  pthread_mutex_unlock(&n->notify_mu);
}

/* ---- storage power consensus ---- */

/* base58btc, as libp2p writes peer IDs. */
static void base58_append(st_buf *out, const uint8_t *p, size_t n) {
  static const char ALPHABET[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  size_t zeros = 0;
  while (zeros < n && !p[zeros]) zeros++;
  size_t cap = (n - zeros) * 138 / 100 + 1, len = 0;
  uint8_t *d = calloc(cap, 1); /* base 58 digits, least significant first */
  if (!d) {
    out->failed = true;
    return;
  }
  for (size_t i = zeros; i < n; i++) {
    unsigned carry = p[i];
    size_t j = 0;
    for (; j < len || carry; j++) {
      carry += 256u * d[j];
      d[j] = (uint8_t)(carry % 58);
      carry /= 58;
    }
    len = j;
  }
  for (size_t i = 0; i < zeros; i++) st_buf_append(out, "1", 1);
  for (size_t i = len; i-- > 0;) st_buf_append(out, &ALPHABET[d[i]], 1);
  free(d);
}

/* MinerInfo.PeerId: the peer ID in base58 if the bytes are a multihash (peer.IDFromBytes),
 * else null, as Lotus. */
static json_t *peer_id_json(const st_buf *p) {
  uint64_t code, len;
  size_t u1, u2;
  if (!p->len || st_uvarint_get(p->data, p->len, &code, &u1, NULL) ||
      st_uvarint_get(p->data + u1, p->len - u1, &len, &u2, NULL) || len != p->len - u1 - u2)
    return json_null();
  st_buf b = ST_BUF_INIT;
  base58_append(&b, p->data, p->len);
  json_t *j = b.failed ? json_null() : json_string(st_buf_cstr(&b));
  st_buf_free(&b);
  return j;
}

static json_t *id_json(const st_fullnode *n, uint64_t id) {
  st_address a;
  st_address_from_id(id, &a, NULL);
  return addr_json(n, &a);
}

static json_t *bytes_json(const uint8_t *p, size_t len) {
  if (!len) return json_null();
  st_buf b = ST_BUF_INIT;
  st_base64_append(&b, p, len, true);
  json_t *j = b.failed ? NULL : json_stringn((const char *)b.data, b.len);
  st_buf_free(&b);
  return j;
}

/* WalletVRF (our extension): the ECVRF proof and output of the key behind address over data;
 * with BLS, Lotus's miner gets its VRFs from WalletSign (a BLS signature is a VRF); ECVRF needs
 * its own call, so the miner holds no key. */
static st_code m_wallet_vrf(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_buf raw = ST_BUF_INIT;
  uint8_t sk[32], pi[ST_VRF_PROOF_LEN], beta[32];
  st_code code = p_key_and_data(ctx, call, params, &raw, sk, err);
  if (!code && (code = st_vrf_prove(sk, raw.data, raw.len, pi, beta, err))) refuse(call, code);
  st_secure_zero(sk, sizeof sk);
  if (!code)
    *result = json_pack("{so so}", "Proof", bytes_json(pi, sizeof pi), "Output", bytes_json(beta, sizeof beta));
  st_buf_free(&raw);
  return code;
}

static json_t *beacon_entry_json(uint64_t round, const uint8_t *data, size_t len) {
  return json_pack("{so so}", "Round", st_chain_json_u64(round), "Data", bytes_json(data, len));
}

/* miner.SectorOnChainInfo as go-state-types v19 writes it (DealIDs is not in its JSON). */
static json_t *sector_json(const st_sector_onchain *s) {
  json_t *o = json_object();
  json_object_set_new(o, "SectorNumber", st_chain_json_u64(s->number));
  json_object_set_new(o, "SealProof", json_integer(s->seal_proof));
  json_object_set_new(o, "SealedCID", st_chain_json_cid(&s->sealed_cid));
  json_object_set_new(o, "Activation", json_integer(s->activation));
  json_object_set_new(o, "Expiration", json_integer(s->expiration));
  json_object_set_new(o, "DealWeight", st_chain_json_bigint(s->deal_weight));
  json_object_set_new(o, "VerifiedDealWeight", st_chain_json_bigint(s->verified_deal_weight));
  json_object_set_new(o, "InitialPledge", st_chain_json_bigint(s->initial_pledge));
  json_object_set_new(o, "ExpectedDayReward", json_string("0"));
  json_object_set_new(o, "ExpectedStoragePledge", json_string("0"));
  json_object_set_new(o, "PowerBaseEpoch", json_integer(s->activation));
  json_object_set_new(o, "ReplacedDayReward", json_string("0"));
  json_object_set_new(o, "SectorKeyCID", json_null());
  json_object_set_new(o, "Flags", json_integer(0));
  json_object_set_new(o, "DailyFee", json_string("0"));
  return o;
}

/* miner.SectorPreCommitOnChainInfo. */
static json_t *precommit_json(const st_precommit *p) {
  json_t *info = json_object();
  json_object_set_new(info, "SealProof", json_integer(p->seal_proof));
  json_object_set_new(info, "SectorNumber", st_chain_json_u64(p->number));
  json_object_set_new(info, "SealedCID", st_chain_json_cid(&p->sealed_cid));
  json_object_set_new(info, "SealRandEpoch", json_integer(p->seal_rand_epoch));
  json_object_set_new(info, "DealIDs", json_null());
  json_object_set_new(info, "Expiration", json_integer(p->expiration));
  json_object_set_new(info, "UnsealedCid", json_null());
  return json_pack("{so so sI}", "Info", info, "PreCommitDeposit", st_chain_json_bigint(p->deposit), "PreCommitEpoch",
                   (json_int_t)p->precommit_epoch);
}

/* A miner at a tipset: the state after it. */
typedef struct miner_view {
  st_tipset ts;
  uint64_t id;
  mpz_t balance;
  st_miner_state m;
  bool loaded; /* m holds the miner's state */
} miner_view;

static void miner_view_free(miner_view *v) {
  st_tipset_free(&v->ts);
  mpz_clear(v->balance);
  if (v->loaded) st_miner_state_free(&v->m);
}

/* The actor an address names at ts's state, which must be a miner. */
static st_code miner_id_at(st_fullnode *n, const st_tipset *ts, const st_address *a, uint64_t *id, mpz_t balance,
                           st_err *err) {
  char text[ST_ADDR_STR_MAX] = "?";
  st_address_format(a, n->network, text, NULL);
  st_state st;
  st_state_init(&st);
  st_state_actor *act = NULL;
  st_code code = st_chain_state(n->chain, &ts->key, &st, err);
  if (!code && st_state_lookup(&st, a, &act, NULL))
    code = st_err_set(err, ST_ENOENT, "failed to load miner actor: actor %s not found", text);
  if (!code && act->kind != ST_ACTOR_MINER)
    code = st_err_set(err, ST_EINVAL, "failed to load miner actor state: %s is not a miner (its actor is %s)", text,
                      st_actor_kind_name(act->kind));
  if (!code) {
    *id = act->id;
    if (balance) mpz_set(balance, act->balance);
  }
  st_state_clear(&st);
  return code;
}

/* params[ai] (a miner's address) at params[ti] (a tipset key, [] or absent: the head). Free v
 * whatever this returns. */
static st_code miner_at(st_fullnode *n, const st_rpc_call *call, json_t *params, size_t ai, size_t ti, miner_view *v,
                        st_err *err) {
  st_tipset_init(&v->ts);
  mpz_init(v->balance);
  v->id = 0;
  v->loaded = false;
  st_address a;
  st_code code = p_addr(params, ai, &a, err);
  if (code) return code;
  if ((code = p_tsk(n, params, ti, &v->ts, err))) return code == ST_EINVAL ? code : refuse(call, code);
  if ((code = miner_id_at(n, &v->ts, &a, &v->id, v->balance, err))) return refuse(call, code);
  code = st_chain_miner_state(n->chain, &v->ts.key, v->id, &v->m, err);
  v->loaded = true; /* st_chain_miner_state initialises it either way */
  return code ? refuse(call, code) : ST_OK;
}

/* A partition's sets, as Lotus's Partition interface names them. */
enum { PS_ALL, PS_FAULTY, PS_RECOVERING, PS_LIVE, PS_ACTIVE };

static st_code partition_set(const st_partition *p, int which, st_bitfield *out, st_err *err) {
  switch (which) {
    case PS_ALL: return st_bitfield_copy(&p->sectors, out, err);
    case PS_FAULTY: return st_bitfield_copy(&p->faults, out, err);
    case PS_RECOVERING: return st_bitfield_copy(&p->recoveries, out, err);
    case PS_LIVE: return st_bitfield_subtract(&p->sectors, &p->terminated, out, err);
    default: {
      st_code code = st_bitfield_subtract(&p->sectors, &p->terminated, out, err);
      return code ? code : st_bitfield_subtract(out, &p->faults, out, err);
    }
  }
}

/* The union of one set over every partition (miner.AllPartSectors); out is replaced. */
static st_code all_partitions(const st_miner_state *m, int which, st_bitfield *out, st_err *err) {
  st_bitfield one;
  st_bitfield_init(&one);
  st_bitfield_clear(out);
  st_code code = ST_OK;
  for (size_t d = 0; d < m->ndeadlines && !code; d++)
    for (size_t p = 0; p < m->deadlines[d].npartitions && !code; p++) {
      code = partition_set(&m->deadlines[d].partitions[p], which, &one, err);
      if (!code) code = st_bitfield_union(out, &one, out, err);
    }
  st_bitfield_free(&one);
  return code;
}

/* [SectorOnChainInfo]: every sector (filter NULL), or those in filter, each of which must exist. */
static st_code sectors_json(st_miner_state *m, const st_bitfield *filter, json_t **result, st_err *err) {
  json_t *arr = json_array();
  if (!filter)
    for (size_t i = 0; i < m->nsectors; i++) json_array_append_new(arr, sector_json(&m->sectors[i]));
  st_bitfield_iter it;
  uint64_t num;
  if (filter) st_bitfield_iter_init(&it, filter);
  while (filter && st_bitfield_iter_next(&it, &num)) {
    const st_sector_onchain *s = st_miner_sector(m, num);
    if (!s) {
      json_decref(arr);
      return st_err_set(err, ST_ENOENT, "failed to load sectors: can't find sector %llu", (unsigned long long)num);
    }
    json_array_append_new(arr, sector_json(s));
  }
  *result = arr;
  return ST_OK;
}

static st_code m_state_miner_info(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  miner_view v;
  st_code code = miner_at(n, call, params, 0, 1, &v, err);
  if (!code) {
    const st_miner_state *m = &v.m;
    const st_sector_info *info = st_sector_by_window_proof((int)m->window_post_proof);
    bool pending = m->pending_worker != 0;
    json_t *o = json_object();
    json_object_set_new(o, "Owner", id_json(n, m->owner));
    json_object_set_new(o, "Worker", id_json(n, m->worker));
    json_object_set_new(o, "NewWorker", pending ? id_json(n, m->pending_worker) : json_string("<empty>"));
    json_object_set_new(o, "ControlAddresses", json_null());
    json_object_set_new(o, "WorkerChangeEpoch", json_integer(pending ? m->pending_worker_epoch : -1));
    json_object_set_new(o, "PeerId", peer_id_json(&m->peer_id));
    json_t *ma = json_array();
    for (size_t i = 0; i < m->nmultiaddrs; i++)
      json_array_append_new(ma, bytes_json(m->multiaddrs[i].data, m->multiaddrs[i].len));
    json_object_set_new(o, "Multiaddrs", m->nmultiaddrs ? ma : (json_decref(ma), json_null()));
    json_object_set_new(o, "WindowPoStProofType", json_integer(m->window_post_proof));
    json_object_set_new(o, "SectorSize", st_chain_json_u64(m->sector_size));
    json_object_set_new(o, "WindowPoStPartitionSectors", st_chain_json_u64(info ? info->window_partition : 0));
    json_object_set_new(o, "ConsensusFaultElapsed", json_integer(-1));
    json_object_set_new(o, "PendingOwnerAddress", json_null());
    json_object_set_new(o, "Beneficiary", id_json(n, m->owner));
    json_object_set_new(o, "BeneficiaryTerm", json_pack("{ss ss si}", "Quota", "0", "UsedQuota", "0", "Expiration", 0));
    json_object_set_new(o, "PendingBeneficiaryTerm", json_null());
    *result = o;
  }
  miner_view_free(&v);
  return code;
}

static json_t *claim_json(const mpz_t raw, const mpz_t qa) {
  return json_pack("{so so}", "RawBytePower", st_chain_json_bigint(raw), "QualityAdjPower", st_chain_json_bigint(qa));
}

static st_code m_state_miner_power(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  miner_view v;
  st_code code = miner_at(n, call, params, 0, 1, &v, err);
  st_power_state p;
  bool have_p = !code;
  if (!code && (code = st_chain_power_state(n->chain, &v.ts.key, &p, err))) refuse(call, code);
  if (!code) {
    const st_power_claim *c = st_power_claim_of(&p, v.id);
    mpz_t zero;
    mpz_init(zero);
    *result = json_pack("{so so sb}", "MinerPower", c ? claim_json(c->raw, c->qa) : claim_json(zero, zero),
                        "TotalPower", claim_json(p.total_raw, p.total_qa), "HasMinPower",
                        c && st_power_eligible(&p, v.id, st_chain_network(n->chain)->consensus_min_power));
    mpz_clear(zero);
  }
  if (have_p) st_power_state_free(&p); /* st_chain_power_state initialises it either way */
  miner_view_free(&v);
  return code;
}

static st_code m_state_miner_proving_deadline(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                              st_err *err) {
  st_fullnode *n = ctx;
  miner_view v;
  st_code code = miner_at(n, call, params, 0, 1, &v, err);
  if (!code) {
    /* the deadline current at the tipset's height (NewDeadlineInfoFromOffsetAndEpoch), which
     * has not elapsed, so NextNotElapsed keeps it */
    st_deadline_policy pol;
    st_deadline_policy_of(st_chain_network(n->chain), &pol);
    st_deadline_info d;
    st_deadline_at(&pol, v.m.proving_period_start, v.ts.height, &d);
    st_deadline_next_not_elapsed(&d, &d);
    *result = st_deadline_info_to_json(&d);
  }
  miner_view_free(&v);
  return code;
}

static st_code m_state_miner_deadlines(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                       st_err *err) {
  st_fullnode *n = ctx;
  miner_view v;
  st_code code = miner_at(n, call, params, 0, 1, &v, err);
  if (!code) {
    json_t *arr = json_array();
    for (size_t d = 0; d < v.m.ndeadlines; d++)
      json_array_append_new(
          arr, json_pack("{so si ss}", "PostSubmissions", st_chain_json_bitfield(&v.m.deadlines[d].post_submissions),
                         "DisputableProofCount", 0, "DailyFee", "0"));
    *result = arr;
  }
  miner_view_free(&v);
  return code;
}

static st_code m_state_miner_partitions(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                        st_err *err) {
  st_fullnode *n = ctx;
  uint64_t dl;
  if (!st_chain_json_u64_value(json_array_get(params, 1), &dl))
    return st_err_set(err, ST_EINVAL, "param 2 (deadline index): must be a non-negative integer");
  miner_view v;
  st_code code = miner_at(n, call, params, 0, 2, &v, err);
  if (!code && dl >= v.m.ndeadlines)
    code = refuse(call, st_err_set(err, ST_EINVAL,
                                   "failed to load the deadline: deadline %llu does not exist (the miner has %zu)",
                                   (unsigned long long)dl, v.m.ndeadlines));
  if (!code) {
    static const char *const NAMES[] = {"AllSectors", "FaultySectors", "RecoveringSectors", "LiveSectors",
                                        "ActiveSectors"};
    const st_deadline_state *d = &v.m.deadlines[dl];
    json_t *arr = json_array();
    st_bitfield bf;
    st_bitfield_init(&bf);
    for (size_t p = 0; p < d->npartitions && !code; p++) {
      json_t *o = json_object();
      for (int which = PS_ALL; which <= PS_ACTIVE && !code; which++)
        if (!(code = partition_set(&d->partitions[p], which, &bf, err)))
          json_object_set_new(o, NAMES[which], st_chain_json_bitfield(&bf));
      json_array_append_new(arr, o);
    }
    st_bitfield_free(&bf);
    /* Lotus appends to a nil slice: no partitions is null */
    if (!code) *result = json_array_size(arr) ? json_incref(arr) : json_null();
    json_decref(arr);
  }
  miner_view_free(&v);
  return code;
}

static st_code m_state_miner_sectors(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  const json_t *f = json_array_get(params, 1);
  bool all = !f || json_is_null(f); /* Lotus: a nil filter is every sector */
  st_bitfield filter;
  st_bitfield_init(&filter);
  st_code code = all ? ST_OK : st_chain_json_get_bitfield(f, "param 2 (sector numbers)", &filter, err);
  if (code) {
    st_bitfield_free(&filter);
    return code;
  }
  miner_view v;
  code = miner_at(n, call, params, 0, 2, &v, err);
  if (!code && (code = sectors_json(&v.m, all ? NULL : &filter, result, err))) refuse(call, code);
  miner_view_free(&v);
  st_bitfield_free(&filter);
  return code;
}

static st_code m_state_miner_active_sectors(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                            st_err *err) {
  st_fullnode *n = ctx;
  miner_view v;
  st_bitfield active;
  st_bitfield_init(&active);
  st_code code = miner_at(n, call, params, 0, 1, &v, err);
  if (!code &&
      ((code = all_partitions(&v.m, PS_ACTIVE, &active, err)) || (code = sectors_json(&v.m, &active, result, err))))
    refuse(call, code);
  st_bitfield_free(&active);
  miner_view_free(&v);
  return code;
}

static st_code miner_set(void *ctx, const st_rpc_call *call, json_t *params, int which, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  miner_view v;
  st_bitfield bf;
  st_bitfield_init(&bf);
  st_code code = miner_at(n, call, params, 0, 1, &v, err);
  if (!code && (code = all_partitions(&v.m, which, &bf, err))) refuse(call, code);
  if (!code) *result = st_chain_json_bitfield(&bf);
  st_bitfield_free(&bf);
  miner_view_free(&v);
  return code;
}

static st_code m_state_miner_faults(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  return miner_set(ctx, call, params, PS_FAULTY, result, err);
}

static st_code m_state_miner_recoveries(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                        st_err *err) {
  return miner_set(ctx, call, params, PS_RECOVERING, result, err);
}

static st_code p_sector_number(json_t *params, size_t i, uint64_t *out, st_err *err) {
  if (!st_chain_json_u64_value(json_array_get(params, i), out))
    return st_err_set(err, ST_EINVAL, "param %zu (sector number): must be a non-negative integer", i + 1);
  return ST_OK;
}

static st_code m_state_sector_get_info(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                       st_err *err) {
  st_fullnode *n = ctx;
  uint64_t num;
  st_code code = p_sector_number(params, 1, &num, err);
  if (code) return code;
  miner_view v;
  code = miner_at(n, call, params, 0, 2, &v, err);
  if (!code) {
    const st_sector_onchain *s = st_miner_sector(&v.m, num);
    *result = s ? sector_json(s) : json_null(); /* Lotus: null when there is no such sector */
  }
  miner_view_free(&v);
  return code;
}

static st_code m_state_sector_precommit_info(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                             st_err *err) {
  st_fullnode *n = ctx;
  uint64_t num;
  st_code code = p_sector_number(params, 1, &num, err);
  if (code) return code;
  miner_view v;
  code = miner_at(n, call, params, 0, 2, &v, err);
  if (!code) {
    const st_precommit *p = st_miner_precommit(&v.m, num);
    if (p) *result = precommit_json(p);
    else if (call->version == 0) /* the v0 API's wrapper turns v1's null into this error */
      code = refuse(call, st_err_set(err, ST_ENOENT, "precommit info does not exist"));
    else *result = json_null();
  }
  miner_view_free(&v);
  return code;
}

static st_code m_state_miner_available_balance(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                               st_err *err) {
  st_fullnode *n = ctx;
  miner_view v;
  st_code code = miner_at(n, call, params, 0, 1, &v, err);
  if (!code) {
    mpz_t avail;
    mpz_init(avail);
    st_miner_available(&v.m, v.balance, avail);
    *result = st_chain_json_bigint(avail);
    mpz_clear(avail);
  }
  miner_view_free(&v);
  return code;
}

/* StateReadState for a miner: {Balance, Code, State} with the miner state's fund fields and
 * period (our subset of miner.State; other actors' states are not readable here). */
static st_code m_state_read_state(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  miner_view v;
  st_code code = miner_at(n, call, params, 0, 1, &v, err);
  if (!code) {
    mpz_t pledge;
    mpz_init(pledge);
    for (size_t i = 0; i < v.m.nsectors; i++) mpz_add(pledge, pledge, v.m.sectors[i].initial_pledge);
    st_deadline_policy pol;
    st_deadline_policy_of(st_chain_network(n->chain), &pol);
    st_deadline_info d;
    st_deadline_at(&pol, v.m.proving_period_start, v.ts.height, &d);
    st_cid code_cid;
    st_actor_code(ST_ACTOR_MINER, &code_cid);
    json_t *state =
        json_pack("{so so so so sI sI}", "PreCommitDeposits", st_chain_json_bigint(v.m.precommit_deposits),
                  "LockedFunds", st_chain_json_bigint(v.m.locked_funds), "FeeDebt", st_chain_json_bigint(v.m.fee_debt),
                  "InitialPledge", st_chain_json_bigint(pledge), "ProvingPeriodStart",
                  (json_int_t)v.m.proving_period_start, "CurrentDeadline", (json_int_t)d.index);
    *result = json_pack("{so so so}", "Balance", st_chain_json_bigint(v.balance), "Code", st_chain_json_cid(&code_cid),
                        "State", state);
    mpz_clear(pledge);
  }
  miner_view_free(&v);
  return code;
}

static st_code m_state_miner_sector_count(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                          st_err *err) {
  st_fullnode *n = ctx;
  miner_view v;
  st_code code = miner_at(n, call, params, 0, 1, &v, err);
  if (!code) {
    st_miner_counts c;
    st_miner_counts_of(&v.m, &c);
    *result = json_pack("{so so so}", "Live", st_chain_json_u64(c.live), "Active", st_chain_json_u64(c.active),
                        "Faulty", st_chain_json_u64(c.faulty));
  }
  miner_view_free(&v);
  return code;
}

/* [DST, epoch, entropy (base64 or null), TSK]: DrawRandomness on the tipset's chain. */
static st_code randomness(st_fullnode *n, const st_rpc_call *call, json_t *params, bool beacon, json_t **result,
                          st_err *err) {
  const json_t *dst = json_array_get(params, 0), *ep = json_array_get(params, 1), *ent = json_array_get(params, 2);
  if (!json_is_integer(dst)) return st_err_set(err, ST_EINVAL, "param 1 (domain separation tag): must be an integer");
  if (!json_is_integer(ep)) return st_err_set(err, ST_EINVAL, "param 2 (epoch): must be an integer");
  st_buf e = ST_BUF_INIT;
  st_code code = ST_OK;
  if (ent && !json_is_null(ent) &&
      (!json_is_string(ent) || st_base64_decode(json_string_value(ent), json_string_length(ent), true, &e, NULL)))
    code = st_err_set(err, ST_EINVAL, "param 3 (entropy): must be base64 or null");
  st_tipset ts;
  st_tipset_init(&ts);
  if (!code && (code = p_tsk(n, params, 3, &ts, err)) && code != ST_EINVAL) refuse(call, code);
  uint8_t out[32];
  if (!code && (code = st_chain_randomness(n->chain, &ts.key, beacon, json_integer_value(dst), json_integer_value(ep),
                                           e.data, e.len, out, err)))
    refuse(call, code);
  if (!code) *result = bytes_json(out, sizeof out);
  st_tipset_free(&ts);
  st_buf_free(&e);
  return code;
}

static st_code m_state_get_randomness_from_tickets(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                                   st_err *err) {
  return randomness(ctx, call, params, false, result, err);
}

static st_code m_state_get_randomness_from_beacon(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                                  st_err *err) {
  return randomness(ctx, call, params, true, result, err);
}

/* The beacon's entry for round, once the round has started by the wall clock. */
static st_code beacon_entry(st_fullnode *n, int64_t round, uint8_t out[ST_BEACON_ENTRY_LEN], st_err *err) {
  if (!n->has_beacon)
    return st_err_set(
        err, ST_EUNAVAIL,
        "this daemon has no beacon key, so it cannot give beacon entries: ask the daemon that runs the beacon "
        "(started with --beacon-key FILE)");
  int64_t now = st_chain_epoch_at(n->chain, (uint64_t)time(NULL));
  if (round > now)
    return st_err_set(err, ST_EUNAVAIL, "the beacon entry for round %lld is not out yet: the current epoch is %lld",
                      (long long)round, (long long)now);
  return st_beacon_make(n->beacon_sk, (uint64_t)(round < 0 ? 0 : round), out, err);
}

static st_code m_state_get_beacon_entry(void *ctx, const st_rpc_call *call, json_t *params, json_t **result,
                                        st_err *err) {
  st_fullnode *n = ctx;
  const json_t *ep = json_array_get(params, 0);
  if (!json_is_integer(ep)) return st_err_set(err, ST_EINVAL, "param 1 (epoch): must be an integer");
  int64_t round = json_integer_value(ep) < 0 ? 0 : json_integer_value(ep); /* as Lotus */
  uint8_t e[ST_BEACON_ENTRY_LEN];
  st_code code = beacon_entry(n, round, e, err);
  if (code) return refuse(call, code);
  *result = beacon_entry_json((uint64_t)round, e, sizeof e);
  return ST_OK;
}

/* The tipset whose state elects a block at round on top of from: the one at round - lookback,
 * or the last before it (the chain's rule). */
static st_code lookback_tipset(st_fullnode *n, const st_tipset *from, int64_t round, st_tipset *out, st_err *err) {
  int64_t h = round - st_chain_network(n->chain)->election_lookback;
  if (h < 0) h = 0;
  st_code code = st_chain_tipset(n->chain, &from->key, out, err);
  while (!code && out->height > h && out->n && out->blocks[0].n_parents) code = notify_parent(n, out, err);
  return code;
}

static st_code m_miner_get_base_info(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  st_address a;
  st_code code = p_addr(params, 0, &a, err);
  if (code) return code;
  const json_t *ep = json_array_get(params, 1);
  if (!json_is_integer(ep)) return st_err_set(err, ST_EINVAL, "param 2 (epoch): must be an integer");
  int64_t round = json_integer_value(ep);
  st_tipset ts, lb;
  st_tipset_init(&ts);
  st_tipset_init(&lb);
  st_base_info bi;
  st_base_info_init(&bi);
  st_miner_state lm;
  bool have_lm = false, none = false;
  uint64_t id = 0;
  if ((code = p_tsk(n, params, 2, &ts, err)) && code != ST_EINVAL) refuse(call, code);
  if (!code && round - ts.height > ST_CHAIN_MAX_ARRAY)
    code = refuse(
        call,
        st_err_set(
            err, ST_EINVAL,
            "epoch %lld is %lld rounds past the base tipset (height %lld): a block carries at most %d beacon entries",
            (long long)round, (long long)(round - ts.height), (long long)ts.height, ST_CHAIN_MAX_ARRAY));
  if (!code && (code = miner_id_at(n, &ts, &a, &id, NULL, err)))
    refuse(call, st_err_wrap(err, code, "loading miner in current state"));
  if (!code && (code = st_chain_base_info(n->chain, &ts.key, id, round, &bi, err))) refuse(call, code);
  if (!code && (code = lookback_tipset(n, &ts, round, &lb, err))) refuse(call, code);
  if (!code) {
    st_err e2;
    have_lm = true; /* st_chain_miner_state initialises it either way */
    code = st_chain_miner_state(n->chain, &lb.key, id, &lm, &e2);
    none = code == ST_ENOENT; /* not a miner yet at the lookback: null, as Lotus */
    if (none) code = ST_OK;
    else if (code) refuse(call, st_err_set(err, code, "%s", e2.msg));
  }
  /* the beacon's entries for the rounds since the base tipset, and its entry at the base */
  uint8_t e[ST_BEACON_ENTRY_LEN];
  if (!code && !none && (code = beacon_entry(n, round, e, err)))
    refuse(call, code); /* the latest round first: is it out? */
  json_t *entries = json_array(), *sectors = json_array(), *prev = NULL;
  for (int64_t r = ts.height + 1; !code && !none && r <= round; r++)
    if (!(code = beacon_entry(n, r, e, err)))
      json_array_append_new(entries, beacon_entry_json((uint64_t)r, e, sizeof e));
    else refuse(call, code);
  if (!code && !none) {
    if (!(code = beacon_entry(n, ts.height, e, err))) prev = beacon_entry_json((uint64_t)ts.height, e, sizeof e);
    else refuse(call, code);
  }
  for (size_t i = 0; !code && !none && i < bi.nsectors; i++) {
    const st_sector_onchain *s = st_miner_sector(&lm, bi.sectors[i]);
    if (s)
      json_array_append_new(sectors, json_pack("{sI so sn so}", "SealProof", (json_int_t)s->seal_proof, "SectorNumber",
                                               st_chain_json_u64(s->number), "SectorKey", "SealedCID",
                                               st_chain_json_cid(&s->sealed_cid)));
  }
  if (!code && none) *result = json_null();
  else if (!code) {
    json_t *out = json_object();
    json_object_set_new(out, "MinerPower", st_chain_json_bigint(bi.miner_power));
    json_object_set_new(out, "NetworkPower", st_chain_json_bigint(bi.network_power));
    json_object_set_new(out, "Sectors", json_incref(sectors));
    json_object_set_new(out, "WorkerKey", bi.worker_key.len ? addr_json(n, &bi.worker_key) : json_string("<empty>"));
    json_object_set_new(out, "SectorSize", st_chain_json_u64(bi.sector_size));
    json_object_set_new(out, "PrevBeaconEntry", json_incref(prev));
    json_object_set_new(out, "BeaconEntries", json_incref(entries));
    json_object_set_new(out, "EligibleForMining", json_boolean(bi.eligible));
    *result = out;
  }
  json_decref(entries);
  json_decref(sectors);
  json_decref(prev);
  if (have_lm) st_miner_state_free(&lm);
  st_base_info_free(&bi);
  st_tipset_free(&lb);
  st_tipset_free(&ts);
  return code;
}

/* The byte field of a block template ("param 1 (block template): Ticket.VRFProof: ..."). */
static st_code template_bytes(const json_t *v, const char *what, st_buf *out, st_err *err) {
  st_err e2;
  if (!v || json_is_null(v)) return ST_OK;
  if (!json_is_string(v))
    return st_err_set(err, ST_EINVAL, "param 1 (block template): %s: must be base64 or null", what);
  if (st_base64_decode(json_string_value(v), json_string_length(v), true, out, &e2))
    return st_err_set(err, ST_EINVAL, "param 1 (block template): %s: %s", what, e2.msg);
  if (out->len > ST_CHAIN_MAX_BYTES)
    return st_err_set(err, ST_EINVAL, "param 1 (block template): %s: longer than %u bytes", what, ST_CHAIN_MAX_BYTES);
  return ST_OK;
}

/* api.BlockTemplate into a header template for st_chain_build_block: Miner, Parents, Ticket,
 * ElectionProof (Eproof), BeaconEntries (BeaconValues) and WinPoStProof (WinningPoStProof). */
static st_code template_from_json(const json_t *t, st_block_header *h, int64_t *epoch, uint64_t *timestamp,
                                  st_err *err) {
  const char *bad = "param 1 (block template)";
  if (!json_is_object(t))
    return st_err_set(err, ST_EINVAL, "%s: must be an object {\"Miner\", \"Parents\", \"Ticket\", \"Eproof\", ...}",
                      bad);
  const json_t *miner = jfield(t, "Miner"), *ep = jfield(t, "Epoch"), *tsv = jfield(t, "Timestamp");
  if (!json_is_string(miner) || st_address_parse(json_string_value(miner), &h->miner, NULL, NULL) || !h->miner.len)
    return st_err_set(err, ST_EINVAL, "%s: Miner: must be the miner's address", bad);
  if (!json_is_integer(ep)) return st_err_set(err, ST_EINVAL, "%s: Epoch: must be an integer", bad);
  *epoch = json_integer_value(ep);
  *timestamp = 0;
  if (tsv && !json_is_null(tsv) && !st_chain_json_u64_value(tsv, timestamp))
    return st_err_set(err, ST_EINVAL, "%s: Timestamp: must be a non-negative integer", bad);
  st_tipset_key k;
  st_tipset_key_init(&k);
  st_code code = st_tipset_key_from_json(jfield(t, "Parents"), "param 1 (block template): Parents", &k, err);
  if (code) code = ST_EINVAL;
  if (!code && k.n) code = st_block_header_set_parents(h, k.cids, k.n, err);
  st_tipset_key_free(&k);
  st_buf b = ST_BUF_INIT;
  const json_t *ticket = jfield(t, "Ticket"), *eproof = jfield(t, "Eproof");
  if (!code && ticket && !json_is_null(ticket)) {
    if (!json_is_object(ticket))
      code = st_err_set(err, ST_EINVAL, "%s: Ticket: must be {\"VRFProof\": \"<base64>\"} or null", bad);
    if (!code) code = template_bytes(jfield(ticket, "VRFProof"), "Ticket.VRFProof", &b, err);
    if (!code) code = st_chain_bytes_set(&h->ticket_vrf_proof, b.data, b.len, err);
    h->has_ticket = !code;
  }
  if (!code && eproof && !json_is_null(eproof)) {
    const json_t *wc = jfield(eproof, "WinCount");
    if (!json_is_object(eproof) || (wc && !json_is_integer(wc)))
      code =
          st_err_set(err, ST_EINVAL, "%s: Eproof: must be {\"WinCount\": N, \"VRFProof\": \"<base64>\"} or null", bad);
    st_buf_reset(&b);
    if (!code) code = template_bytes(jfield(eproof, "VRFProof"), "Eproof.VRFProof", &b, err);
    if (!code) code = st_chain_bytes_set(&h->election_vrf_proof, b.data, b.len, err);
    h->win_count = wc ? json_integer_value(wc) : 0;
    h->has_election_proof = !code;
  }
  const json_t *bv = jfield(t, "BeaconValues"), *wp = jfield(t, "WinningPoStProof");
  if (!code && bv && !json_is_null(bv) && (!json_is_array(bv) || json_array_size(bv) > ST_CHAIN_MAX_ARRAY))
    code =
        st_err_set(err, ST_EINVAL, "%s: BeaconValues: must be an array (at most %d) of {\"Round\", \"Data\"} or null",
                   bad, ST_CHAIN_MAX_ARRAY);
  for (size_t i = 0; !code && i < json_array_size(bv); i++) {
    const json_t *e = json_array_get(bv, i);
    uint64_t round;
    char what[64];
    snprintf(what, sizeof what, "BeaconValues[%zu].Data", i);
    if (!json_is_object(e) || !st_chain_json_u64_value(jfield(e, "Round"), &round))
      code =
          st_err_set(err, ST_EINVAL, "%s: BeaconValues[%zu]: must be {\"Round\": N, \"Data\": \"<base64>\"}", bad, i);
    st_buf_reset(&b);
    if (!code) code = template_bytes(jfield(e, "Data"), what, &b, err);
    if (!code) code = st_block_header_add_beacon(h, round, b.data, b.len, err);
  }
  if (!code && wp && !json_is_null(wp) && (!json_is_array(wp) || json_array_size(wp) > ST_CHAIN_MAX_ARRAY))
    code = st_err_set(err, ST_EINVAL,
                      "%s: WinningPoStProof: must be an array of {\"PoStProof\", \"ProofBytes\"} or null", bad);
  for (size_t i = 0; !code && i < json_array_size(wp); i++) {
    const json_t *e = json_array_get(wp, i), *pp = jfield(e, "PoStProof");
    char what[64];
    snprintf(what, sizeof what, "WinningPoStProof[%zu].ProofBytes", i);
    if (!json_is_object(e) || !json_is_integer(pp))
      code = st_err_set(err, ST_EINVAL,
                        "%s: WinningPoStProof[%zu]: must be {\"PoStProof\": N, \"ProofBytes\": \"<base64>\"}", bad, i);
    st_buf_reset(&b);
    if (!code) code = template_bytes(jfield(e, "ProofBytes"), what, &b, err);
    if (!code) code = st_block_header_add_post_proof(h, json_integer_value(pp), b.data, b.len, err);
  }
  st_buf_free(&b);
  return code;
}

static int cmp_sender_nonce(const void *pa, const void *pb) {
  const st_signed_message *a = *(const st_signed_message *const *)pa, *b = *(const st_signed_message *const *)pb;
  if (a->message.from.len != b->message.from.len) return a->message.from.len < b->message.from.len ? -1 : 1;
  int c = memcmp(a->message.from.bytes, b->message.from.bytes, a->message.from.len);
  if (c) return c;
  return a->message.nonce < b->message.nonce ? -1 : a->message.nonce > b->message.nonce;
}

/* MinerCreateBlock's given messages: each goes into the node's pool (if it is neither there nor
 * on chain), so SyncSubmitBlock finds it; and into *tmp, a pool of just these checked against
 * the parent state, which the block is built from. */
static st_code given_messages(st_fullnode *n, const st_rpc_call *call, const st_tipset *parent,
                              const st_signed_message *msgs, size_t k, st_mpool **tmp, st_err *err) {
  const st_signed_message **order = calloc(k ? k : 1, sizeof *order);
  if (!order) return st_err_set(err, ST_ENOMEM, "out of memory");
  st_state head, pst;
  st_state_init(&head);
  st_state_init(&pst);
  st_code code = st_mpool_new(st_chain_network(n->chain), tmp, err);
  if (!code) code = st_chain_state(n->chain, &parent->key, &pst, err);
  pthread_mutex_lock(&n->pool_mu);
  if (!code) code = st_chain_state(n->chain, NULL, &head, err);
  for (size_t i = 0; i < k && !code; i++) {
    order[i] = &msgs[i];
    st_cid cid;
    st_signed_message stored;
    st_signed_message_init(&stored);
    char s[ST_CID_STR_MAX] = "?";
    if (!(code = st_signed_message_cid(&msgs[i], &cid, err))) st_cid_to_string(&cid, s);
    st_err e2;
    if (!code && !st_mpool_find(n->pool, &cid) && st_chain_message(n->chain, &cid, &stored, NULL) &&
        st_mpool_add(n->pool, &head, &msgs[i], NULL, &e2))
      code = st_err_set(err, e2.code, "Messages[%zu] (%s): the message pool refused it: %s", i, s, e2.msg);
    st_signed_message_free(&stored);
  }
  pthread_mutex_unlock(&n->pool_mu);
  if (!code) qsort(order, k, sizeof *order, cmp_sender_nonce);
  for (size_t i = 0; i < k && !code; i++) {
    st_err e2;
    if (st_mpool_add(*tmp, &pst, order[i], NULL, &e2))
      code = st_err_set(err, e2.code, "Messages[%zu] cannot go in a block on these parents: %s",
                        (size_t)(order[i] - msgs), e2.msg);
  }
  st_state_clear(&pst);
  st_state_clear(&head);
  free(order);
  return code ? refuse(call, code) : ST_OK;
}

/* Builds the block of a parsed template (h, with Miner and maybe Parents set) and writes
 * BlockMsg; msgs are the template's Messages when given. */
static st_code create_block(st_fullnode *n, const st_rpc_call *call, st_block_header *h, int64_t epoch, uint64_t stamp,
                            const st_signed_message *msgs, size_t k, bool given, json_t **result, st_err *err) {
  /* the parents (the head when none are given) and the miner's worker there */
  st_tipset ts;
  st_tipset_init(&ts);
  st_tipset_key pk = {h->parents, h->n_parents};
  st_code code = h->n_parents ? st_chain_tipset(n->chain, &pk, &ts, err) : st_chain_head(n->chain, &ts, err);
  if (code) refuse(call, st_err_wrap(err, code, "failed to load parent tipset"));
  if (!code && !h->n_parents) code = st_block_header_set_parents(h, ts.key.cids, ts.key.n, err);
  const st_network *net = st_chain_network(n->chain);
  uint64_t want = st_chain_genesis_time(n->chain) + (uint64_t)epoch * (uint64_t)net->block_delay;
  if (!code && epoch <= ts.height)
    code = refuse(call, st_err_set(err, ST_EINVAL, "Epoch %lld is not above the parent tipset's height %lld",
                                   (long long)epoch, (long long)ts.height));
  if (!code && stamp && stamp != want)
    code = refuse(call,
                  st_err_set(err, ST_EINVAL,
                             "Timestamp %llu is not the epoch's: genesis time + Epoch x block delay = %llu (or send 0)",
                             (unsigned long long)stamp, (unsigned long long)want));
  uint64_t id = 0;
  if (!code && (code = miner_id_at(n, &ts, &h->miner, &id, NULL, err))) refuse(call, code);
  st_miner_state m;
  bool have_m = false;
  if (!code) {
    code = st_chain_miner_state(n->chain, &ts.key, id, &m, err);
    have_m = true; /* initialised either way */
    if (code) refuse(call, code);
  }
  st_state st;
  st_state_init(&st);
  uint8_t sk[32];
  st_address worker_key = {0};
  if (!code && (code = st_chain_state(n->chain, &ts.key, &st, err))) refuse(call, code);
  if (!code) {
    const st_state_actor *w = st_state_get(&st, m.worker);
    if (!w || !w->robust.len || st_address_protocol(&w->robust) != ST_ADDR_SECP256K1)
      code = refuse(call, st_err_set(err, ST_EINVAL, "failed to get miner worker: t0%llu has no secp256k1 key address",
                                     (unsigned long long)m.worker));
    else worker_key = w->robust;
  }
  if (!code && (code = st_fullnode_wallet_key(n, &worker_key, sk, err)))
    refuse(call, st_err_wrap(err, code, "failed to sign new block with the worker's key"));
  if (!code) code = st_address_from_id(id, &h->miner, err);
  st_mpool *tmp = NULL;
  if (!code && given) code = given_messages(n, call, &ts, msgs, k, &tmp, err);
  st_signed_message *built = NULL;
  size_t nbuilt = 0;
  if (!code && given) {
    if ((code = st_chain_build_block(n->chain, sk, epoch, tmp, h, &built, &nbuilt, err))) refuse(call, code);
  } else if (!code) {
    pthread_mutex_lock(&n->pool_mu);
    code = st_chain_build_block(n->chain, sk, epoch, n->pool, h, &built, &nbuilt, err);
    pthread_mutex_unlock(&n->pool_mu);
    if (code) refuse(call, code);
  }
  st_secure_zero(sk, sizeof sk);
  if (!code && given && nbuilt != k)
    code = refuse(
        call,
        st_err_set(
            err, ST_EINVAL,
            "only %zu of the %zu Messages can go in this block: the others would not apply (nonce, funds) or pass the block gas limit",
            nbuilt, k));
  json_t *hj = NULL, *secp = nbuilt ? json_array() : json_null(); /* Lotus appends to nil slices: none is null */
  for (size_t i = 0; i < nbuilt && !code; i++) {
    st_cid cid;
    if (!(code = st_signed_message_cid(&built[i], &cid, err))) json_array_append_new(secp, st_chain_json_cid(&cid));
  }
  if (!code) code = st_block_header_to_json(h, n->network, &hj, err);
  if (!code) *result = json_pack("{so sn so}", "Header", hj, "BlsMessages", "SecpkMessages", json_incref(secp));
  json_decref(secp);
  for (size_t i = 0; i < nbuilt; i++) st_signed_message_free(&built[i]);
  free(built);
  st_mpool_free(tmp);
  st_state_clear(&st);
  if (have_m) st_miner_state_free(&m);
  st_tipset_free(&ts);
  return code;
}

static st_code m_miner_create_block(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  const json_t *t = json_array_get(params, 0);
  st_block_header h;
  st_block_header_init(&h);
  int64_t epoch = 0;
  uint64_t stamp = 0;
  st_code code = template_from_json(t, &h, &epoch, &stamp, err);
  /* the messages: null means the node chooses them from its pool (our extension) */
  const json_t *mj = json_is_object(t) ? jfield(t, "Messages") : NULL;
  bool given = mj && !json_is_null(mj);
  size_t k = given ? json_array_size(mj) : 0;
  if (!code && given && (!json_is_array(mj) || k > ST_CHAIN_MAX_ARRAY))
    code = st_err_set(err, ST_EINVAL,
                      "param 1 (block template): Messages: must be an array of at most %d signed messages, or null",
                      ST_CHAIN_MAX_ARRAY);
  st_signed_message *msgs = k && !code ? calloc(k, sizeof *msgs) : NULL;
  if (k && !code && !msgs) code = st_err_set(err, ST_ENOMEM, "out of memory");
  size_t have = 0;
  for (size_t i = 0; i < k && !code; i++, have++) {
    st_signed_message_init(&msgs[i]);
    if (st_signed_message_from_json(json_array_get(mj, i), &msgs[i], err))
      code = st_err_wrap(err, ST_EINVAL, "param 1 (block template): Messages[%zu]", i);
    else if (msgs[i].signature.type != ST_SIG_SECP256K1)
      code = st_err_set(
          err, ST_EINVAL,
          "param 1 (block template): Messages[%zu]: only secp256k1 messages are supported (no BLS library)", i);
  }
  if (!code) code = create_block(n, call, &h, epoch, stamp, msgs, have, given, result, err);
  for (size_t i = 0; i < have; i++) st_signed_message_free(&msgs[i]);
  free(msgs);
  st_block_header_free(&h);
  return code;
}

/* ---- table ---- */

#define M(name, perm, min, max, fn) \
  { "Filecoin." name, perm, 0, min, max, fn, NULL }
static const st_rpc_method METHODS[] = {
    M("Version", ST_PERM_READ, 0, 0, m_version),
    M("ChainHead", ST_PERM_READ, 0, 0, m_chain_head),
    M("StateGetNetworkParams", ST_PERM_READ, 0, 0, m_state_get_network_params),
    M("ChainGetTipSet", ST_PERM_READ, 1, 1, m_chain_get_tipset),
    M("ChainGetTipSetByHeight", ST_PERM_READ, 1, 2, m_chain_get_tipset_by_height),
    M("ChainGetBlock", ST_PERM_READ, 1, 1, m_chain_get_block),
    M("ChainGetBlockMessages", ST_PERM_READ, 1, 1, m_chain_get_block_messages),
    M("ChainGetMessage", ST_PERM_READ, 1, 1, m_chain_get_message),
    M("ChainGetParentMessages", ST_PERM_READ, 1, 1, m_chain_get_parent_messages),
    M("ChainGetParentReceipts", ST_PERM_READ, 1, 1, m_chain_get_parent_receipts),
    M("ChainGetGenesis", ST_PERM_READ, 0, 0, m_chain_genesis),
    M("MpoolPush", ST_PERM_WRITE, 1, 1, m_mpool_push),
    M("MpoolPushMessage", ST_PERM_SIGN, 1, 2, m_mpool_push_message),
    M("MpoolPending", ST_PERM_READ, 0, 1, m_mpool_pending),
    M("MpoolGetNonce", ST_PERM_READ, 1, 1, m_mpool_get_nonce),
    M("WalletNew", ST_PERM_WRITE, 1, 1, m_wallet_new),
    M("WalletList", ST_PERM_WRITE, 0, 0, m_wallet_list),
    M("WalletBalance", ST_PERM_READ, 1, 1, m_wallet_balance),
    M("WalletDefaultAddress", ST_PERM_WRITE, 0, 0, m_wallet_default),
    M("WalletSign", ST_PERM_SIGN, 2, 2, m_wallet_sign),
    M("WalletVRF", ST_PERM_SIGN, 2, 2, m_wallet_vrf),
    M("WalletExport", ST_PERM_ADMIN, 1, 1, m_wallet_export),
    M("WalletImport", ST_PERM_ADMIN, 1, 1, m_wallet_import),
    M("StateGetActor", ST_PERM_READ, 1, 2, m_state_get_actor),
    M("StateLookupID", ST_PERM_READ, 1, 2, m_state_lookup_id),
    M("StateAccountKey", ST_PERM_READ, 1, 2, m_state_account_key),
    M("StateDecodeParams", ST_PERM_READ, 3, 4, m_state_decode_params),
    M("StateMarketBalance", ST_PERM_READ, 1, 2, m_state_market_balance),
    M("StateMarketDeals", ST_PERM_READ, 0, 1, m_state_market_deals),
    M("StateMarketStorageDeal", ST_PERM_READ, 1, 2, m_state_market_storage_deal),
    M("StateVerifiedClientStatus", ST_PERM_READ, 1, 2, m_state_verified_client_status),
    M("StateVerifierStatus", ST_PERM_READ, 1, 2, m_state_verifier_status),
    M("StateVerifiedRegistryRootKey", ST_PERM_READ, 0, 1, m_state_verified_registry_root_key),
    {"Filecoin.StateSearchMsg", ST_PERM_READ, ST_RPC_V1, 2, 4, m_state_search_msg, NULL},
    {"Filecoin.StateSearchMsg", ST_PERM_READ, ST_RPC_V0, 1, 1, m_state_search_msg, NULL},
    {"Filecoin.StateWaitMsg", ST_PERM_READ, ST_RPC_V1, 2, 4, m_state_wait_msg, NULL},
    {"Filecoin.StateWaitMsg", ST_PERM_READ, ST_RPC_V0, 2, 2, m_state_wait_msg, NULL},
    M("GasEstimateMessageGas", ST_PERM_READ, 1, 3, m_gas_estimate),
    M("SyncSubmitBlock", ST_PERM_WRITE, 1, 1, m_sync_submit_block),
    M("StateMinerInfo", ST_PERM_READ, 1, 2, m_state_miner_info),
    M("StateMinerPower", ST_PERM_READ, 1, 2, m_state_miner_power),
    M("StateMinerProvingDeadline", ST_PERM_READ, 1, 2, m_state_miner_proving_deadline),
    M("StateMinerDeadlines", ST_PERM_READ, 1, 2, m_state_miner_deadlines),
    M("StateMinerPartitions", ST_PERM_READ, 2, 3, m_state_miner_partitions),
    M("StateMinerSectors", ST_PERM_READ, 1, 3, m_state_miner_sectors),
    M("StateMinerActiveSectors", ST_PERM_READ, 1, 2, m_state_miner_active_sectors),
    M("StateMinerFaults", ST_PERM_READ, 1, 2, m_state_miner_faults),
    M("StateMinerRecoveries", ST_PERM_READ, 1, 2, m_state_miner_recoveries),
    M("StateSectorGetInfo", ST_PERM_READ, 2, 3, m_state_sector_get_info),
    M("StateSectorPreCommitInfo", ST_PERM_READ, 2, 3, m_state_sector_precommit_info),
    M("StateMinerAvailableBalance", ST_PERM_READ, 1, 2, m_state_miner_available_balance),
    M("StateReadState", ST_PERM_READ, 1, 2, m_state_read_state),
    M("StateMinerSectorCount", ST_PERM_READ, 1, 2, m_state_miner_sector_count),
    M("StateGetRandomnessFromTickets", ST_PERM_READ, 3, 4, m_state_get_randomness_from_tickets),
    M("StateGetRandomnessFromBeacon", ST_PERM_READ, 3, 4, m_state_get_randomness_from_beacon),
    {"Filecoin.StateGetBeaconEntry", ST_PERM_READ, ST_RPC_V1, 1, 1, m_state_get_beacon_entry, NULL},
    {"Filecoin.BeaconGetEntry", ST_PERM_READ, ST_RPC_V0, 1, 1, m_state_get_beacon_entry, NULL}, /* v0's name */
    M("MinerGetBaseInfo", ST_PERM_READ, 2, 3, m_miner_get_base_info),
    M("MinerCreateBlock", ST_PERM_WRITE, 1, 1, m_miner_create_block),
    M("AuthNew", ST_PERM_ADMIN, 1, 1, m_auth_new),
    M("AuthVerify", ST_PERM_READ, 1, 1, m_auth_verify),
    {"Filecoin.ChainNotify", ST_PERM_READ, 0, 0, 0, NULL, m_chain_notify},
};
#undef M

const st_rpc_method *st_fullnode_methods(size_t *n) {
  *n = sizeof METHODS / sizeof METHODS[0];
  return METHODS;
}

st_code st_fullnode_init(st_fullnode *n, st_chain *chain, const char *keystore_dir,
                         const uint8_t jwt_secret[ST_JWT_SECRET_LEN], const char *version, st_err *err) {
  *n = (st_fullnode){.chain = chain, .network = 't', .version = version};
  memcpy(n->jwt_secret, jwt_secret, ST_JWT_SECRET_LEN);
  pthread_mutex_init(&n->pool_mu, NULL);
  pthread_cond_init(&n->head_cv, NULL);
  pthread_mutex_init(&n->notify_mu, NULL);
  st_code code = st_keystore_open(&n->wallet, keystore_dir, err);
  if (!code) code = st_mpool_new(st_chain_network(chain), &n->pool, err);
  if (code) st_fullnode_free(n);
  return code;
}

void st_fullnode_free(st_fullnode *n) {
  st_mpool_free(n->pool);
  n->pool = NULL;
  pthread_mutex_destroy(&n->pool_mu);
  pthread_cond_destroy(&n->head_cv);
  while (n->notify_subs) { /* the HTTP server has stopped, so every channel has closed already */
    st_notify_sub *s = n->notify_subs;
    n->notify_subs = s->next;
    sub_free(s);
  }
  pthread_mutex_destroy(&n->notify_mu);
  st_secure_zero(n->jwt_secret, sizeof n->jwt_secret);
  st_secure_zero(n->beacon_sk, sizeof n->beacon_sk);
  n->has_beacon = false;
}

st_code st_fullnode_set_beacon_key(st_fullnode *n, const uint8_t sk[32], st_err *err) {
  uint8_t pub[ST_SECP_PUBKEY_LEN];
  st_code code = st_secp_pubkey(sk, pub, err);
  if (code) return code;
  if (memcmp(pub, st_chain_beacon_pub(n->chain), sizeof pub))
    return st_err_set(err, ST_EINVAL, "the key's public key is not this chain's beacon (the genesis's \"beacon\")");
  memcpy(n->beacon_sk, sk, sizeof n->beacon_sk);
  n->has_beacon = true;
  return ST_OK;
}

void st_fullnode_stop(st_fullnode *n) {
  pthread_mutex_lock(&n->pool_mu);
  n->stopping = true;
  pthread_cond_broadcast(&n->head_cv);
  pthread_mutex_unlock(&n->pool_mu);
}

void st_fullnode_head_changed(void *ctx, const st_tipset *head, const st_signed_message *reverted, size_t nreverted) {
  st_fullnode *n = ctx;
  st_state st;
  st_state_init(&st);
  pthread_mutex_lock(&n->pool_mu);
  if (!st_chain_state(n->chain, NULL, &st, NULL)) {
    st_mpool_prune(n->pool, &st);
    /* nonce order, so each one finds its predecessor waiting; the ones the new chain applied
     * (or that no longer fit) are refused, which is what we want */
    for (size_t i = 0; i < nreverted; i++) st_mpool_add(n->pool, &st, &reverted[i], NULL, NULL);
  }
  n->head_changes++;
  pthread_cond_broadcast(&n->head_cv);
  pthread_mutex_unlock(&n->pool_mu);
  st_state_clear(&st);
  notify_head(n, head);
}
