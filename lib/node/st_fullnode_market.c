/* st_fullnode_market: the storage market's and the verified registry's state: escrow, deals,
 * datacap and verifiers, as Lotus's StateMarket* and StateVerif* methods give them. */
#include <stdio.h>

#include "node/st_fullnode_int.h"

/* The actor ID a names at tsk's tipset (kept in ts; free it); *found is false when a has no
 * actor there. */
static st_code actor_id_at(st_fullnode *n, const fn_addr_tsk_args *a, st_tipset *ts, uint64_t *id, bool *found,
                           st_err *err) {
  *found = false;
  *id = 0;
  st_state st;
  st_state_init(&st);
  st_state_actor *act = NULL;
  st_code code = fn_tipset(n, &a->tsk, ts, err);
  if (!code) code = st_chain_state(n->chain, &ts->key, &st, err);
  if (!code && !st_state_lookup(&st, &a->addr, &act, NULL)) {
    *found = true;
    *id = act->id;
  }
  st_state_clear(&st);
  return code;
}

static st_code r_state_market_balance(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_tipset ts;
  uint64_t id;
  bool found;
  st_market_state m;
  st_market_state_init(&m);
  st_code code = actor_id_at(n, q->args, &ts, &id, &found, err);
  if (!code && found) code = st_chain_market_state(n->chain, &ts.key, &m, err);
  if (!code) {
    mpz_t escrow, locked;
    mpz_inits(escrow, locked, NULL);
    if (found) st_market_balance_of(&m, id, escrow, locked);
    q->result = json_pack("{so so}", "Escrow", st_chain_json_bigint(escrow), "Locked", st_chain_json_bigint(locked));
    mpz_clears(escrow, locked, NULL);
  }
  st_market_state_free(&m);
  st_tipset_free(&ts);
  return code;
}

/* The market's state at tsk (m is initialised either way). */
static st_code market_at(st_fullnode *n, const st_tipset_key *tsk, st_market_state *m, st_err *err) {
  st_tipset ts;
  st_code code = fn_tipset(n, tsk, &ts, err);
  if (!code) code = st_chain_market_state(n->chain, &ts.key, m, err);
  else st_market_state_init(m);
  st_tipset_free(&ts);
  return code;
}

static st_code r_state_market_deals(st_rpc_req *q, st_err *err) {
  st_market_state m;
  st_code code = market_at(q->ctx, &((fn_tsk_args *)q->args)->tsk, &m, err);
  if (!code) {
    json_t *o = json_object();
    for (size_t i = 0; i < m.ndeals; i++) {
      char key[24];
      snprintf(key, sizeof key, "%llu", (unsigned long long)m.deals[i].id);
      json_object_set_new(o, key, st_market_deal_to_json(&m.deals[i]));
    }
    q->result = o;
  }
  st_market_state_free(&m);
  return code;
}

static st_code p_state_market_storage_deal(const json_t *params, void *args, st_err *err) {
  return fn_parse_num_tsk(params, "deal ID", args, err);
}

static st_code r_state_market_storage_deal(st_rpc_req *q, st_err *err) {
  const fn_num_tsk_args *a = q->args;
  st_market_state m;
  st_code code = market_at(q->ctx, &a->tsk, &m, err);
  const st_market_deal *d = code ? NULL : st_market_deal_of(&m, a->num);
  if (!code && !d) code = st_err_set(err, ST_ENOENT, "deal %llu not found", (unsigned long long)a->num);
  if (!code) q->result = st_market_deal_to_json(d);
  st_market_state_free(&m);
  return code;
}

/* Datacap (clients) or allowance (verifiers), null when the address has none. */
static st_code verifreg_status(st_fullnode *n, const fn_addr_tsk_args *a, bool verifier, json_t **result, st_err *err) {
  st_tipset ts;
  uint64_t id;
  bool found;
  st_verifreg_state v;
  st_verifreg_state_init(&v);
  st_code code = actor_id_at(n, a, &ts, &id, &found, err);
  if (!code && found) code = st_chain_verifreg_state(n->chain, &ts.key, &v, err);
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

static st_code r_state_verified_client_status(st_rpc_req *q, st_err *err) {
  return verifreg_status(q->ctx, q->args, false, &q->result, err);
}

static st_code r_state_verifier_status(st_rpc_req *q, st_err *err) {
  return verifreg_status(q->ctx, q->args, true, &q->result, err);
}

static st_code r_state_verified_registry_root_key(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  int64_t root = st_chain_network(n->chain)->verifreg_root;
  if (!root)
    return st_err_set(err, ST_ENOENT, "this network has no verified registry root key (genesis --verifreg-root)");
  st_address a;
  st_address_from_id((uint64_t)root, &a, NULL);
  q->result = fn_addr_json(n, &a);
  return ST_OK;
}

static const st_rpc_method METHODS[] = {
    ST_RPC_METHOD("StateMarketBalance", ST_PERM_READ, 1, 2, fn_parse_addr_tsk, fn_addr_tsk_args, fn_free_addr_tsk,
                  r_state_market_balance),
    ST_RPC_METHOD("StateMarketDeals", ST_PERM_READ, 0, 1, fn_parse_tsk, fn_tsk_args, fn_free_tsk, r_state_market_deals),
    ST_RPC_METHOD("StateMarketStorageDeal", ST_PERM_READ, 1, 2, p_state_market_storage_deal, fn_num_tsk_args,
                  fn_free_num_tsk, r_state_market_storage_deal),
    ST_RPC_METHOD("StateVerifiedClientStatus", ST_PERM_READ, 1, 2, fn_parse_addr_tsk, fn_addr_tsk_args,
                  fn_free_addr_tsk, r_state_verified_client_status),
    ST_RPC_METHOD("StateVerifierStatus", ST_PERM_READ, 1, 2, fn_parse_addr_tsk, fn_addr_tsk_args, fn_free_addr_tsk,
                  r_state_verifier_status),
    ST_RPC_METHOD("StateVerifiedRegistryRootKey", ST_PERM_READ, 0, 1, fn_parse_tsk, fn_tsk_args, fn_free_tsk,
                  r_state_verified_registry_root_key),
};

fn_slice fn_market_methods(void) { return (fn_slice){METHODS, sizeof METHODS / sizeof METHODS[0]}; }
