/* st_fullnode_state: the state group: the network's parameters, actors and their addresses, a
 * message's params decoded, a message called without a trace on chain (StateCall), where a
 * message landed (search and wait), and chain randomness. */
#include <stdio.h>
#include <time.h>

#include "chain/st_methods.h"
#include "chain/st_params.h"
#include "core/st_clock.h"
#include "node/st_fullnode_int.h"

/* StateGetNetworkParams: Lotus's fields, plus (our extension) "Spacetime", every network
 * parameter (st_network_to_json), and "GenesisTimestamp", so a miner needs no genesis file. */
static st_code r_state_get_network_params(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  (void)err;
  const st_network *net = st_chain_network(n->chain);
  char minp[32];
  snprintf(minp, sizeof minp, "%lld", (long long)net->consensus_min_power);
  q->result =
      json_pack("{ss sI ss sI so sI}", "NetworkName", net->name, "BlockDelaySecs", (json_int_t)net->block_delay,
                "ConsensusMinerMinPower", minp, "PreCommitChallengeDelay", (json_int_t)net->precommit_challenge_delay,
                "Spacetime", st_network_to_json(net), "GenesisTimestamp", (json_int_t)st_chain_genesis_time(n->chain));
  return ST_OK;
}

/* The actor args' address names at args' tipset; st is the state it lives in (clear it). */
static st_code actor_at(st_fullnode *n, const fn_addr_tsk_args *a, st_state *st, st_state_actor **act, st_err *err) {
  *act = NULL;
  st_code code = fn_state(n, &a->tsk, st, err);
  return code ? code : st_state_lookup(st, &a->addr, act, err);
}

static st_code r_state_get_actor(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_state st;
  st_state_actor *act;
  st_code code = actor_at(n, q->args, &st, &act, err);
  if (!code) {
    st_actor out;
    st_actor_init(&out);
    st_actor_code(act->kind, &out.code);
    out.head = act->head;
    out.nonce = act->nonce;
    mpz_set(out.balance, act->balance);
    code = st_actor_to_json(&out, &q->result, err);
    st_actor_free(&out);
  }
  st_state_clear(&st);
  return code;
}

static st_code r_state_lookup_id(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  const fn_addr_tsk_args *a = q->args;
  st_state st;
  st_state_actor *act = NULL;
  st_address id;
  st_code code = fn_state(n, &a->tsk, &st, err);
  if (!code && st_state_lookup(&st, &a->addr, &act, NULL)) {
    q->code = 11; /* Lotus: ErrActorNotFound */
    code = st_err_set(err, ST_ENOENT, "actor not found");
  }
  if (!code) code = st_address_from_id(act->id, &id, err);
  if (!code) q->result = fn_addr_json(n, &id);
  st_state_clear(&st);
  return code;
}

static st_code r_state_account_key(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  const fn_addr_tsk_args *a = q->args;
  st_addr_protocol p = st_address_protocol(&a->addr);
  if (p == ST_ADDR_SECP256K1 || p == ST_ADDR_BLS || p == ST_ADDR_DELEGATED) {
    q->result = fn_addr_json(n, &a->addr);
    return ST_OK;
  }
  if (p == ST_ADDR_ACTOR) return st_err_set(err, ST_EINVAL, "cannot resolve actor address to key address");
  st_state st;
  st_state_actor *act;
  st_code code = actor_at(n, a, &st, &act, err);
  if (!code && !act->robust.len) code = st_err_set(err, ST_EINVAL, "actor is not an account: it has no key address");
  if (!code) q->result = fn_addr_json(n, &act->robust);
  st_state_clear(&st);
  return code;
}

/* StateDecodeParams [to, method, params (base64), tsk]: the params as JSON, by the method table
 * of the kind of actor `to` is at tsk. */
typedef struct decode_args {
  fn_addr_tsk_args at; /* to, tsk */
  uint64_t method;
  st_buf raw;
} decode_args;

static st_code p_state_decode_params(const json_t *params, void *args, st_err *err) {
  decode_args *a = args;
  st_code code = fn_param_addr(params, 0, &a->at.addr, err);
  if (!code) code = st_rpc_param_u64(params, 1, "method", &a->method, err);
  if (!code) code = st_rpc_param_bytes(params, 2, "params", true, &a->raw, err);
  return code ? code : fn_param_tsk(params, 3, &a->at.tsk, err);
}

static void free_decode(void *args) {
  decode_args *a = args;
  st_tipset_key_free(&a->at.tsk);
  st_buf_free(&a->raw);
}

static st_code r_state_decode_params(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  const decode_args *a = q->args;
  st_state st;
  st_state_actor *act;
  const char *name, *schema;
  st_code code = actor_at(n, &a->at, &st, &act, err);
  if (!code && !st_vm_method_info(act->kind, a->method, &name, &schema))
    code = st_err_set(err, ST_EINVAL, "a %s actor has no method %llu", st_actor_kind_name(act->kind),
                      (unsigned long long)a->method);
  else if (!code && (code = st_params_to_json(schema, a->raw.data, a->raw.len, &q->result, err)))
    st_err_wrap(err, code, "%s params", name);
  st_state_clear(&st);
  return code;
}

/* ---- where a message landed ---- */

static st_code lookup_json(const st_cid *cid, const st_msg_lookup *l, json_t **out, st_err *err) {
  json_t *rc = NULL, *ts = NULL;
  st_code code = st_receipt_to_json(&l->receipt, &rc, err);
  if (!code) code = st_tipset_key_to_json(&l->tipset, &ts, err);
  if (code) {
    json_decref(rc);
    json_decref(ts);
    return code;
  }
  *out = json_pack("{so so sn so sI}", "Message", st_chain_json_cid(cid), "Receipt", rc, "ReturnDec", "TipSet", ts,
                   "Height", (json_int_t)l->height);
  return ST_OK;
}

/* StateSearchMsg v1: [fromTSK, cid, limit, allowReplaced]; v0: [cid]. */
static st_code p_search_v1(const json_t *params, void *args, st_err *err) {
  return fn_param_cid(params, 1, &((fn_cid_args *)args)->cid, err);
}

static st_code r_state_search_msg(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  const st_cid *cid = &((fn_cid_args *)q->args)->cid;
  st_msg_lookup l;
  st_code code = st_chain_search_msg(n->chain, cid, &l, err);
  if (code == ST_ENOENT) {
    q->result = json_null(); /* Lotus: null when not found */
    code = ST_OK;
  } else if (!code) {
    code = lookup_json(cid, &l, &q->result, err);
  }
  st_msg_lookup_free(&l);
  return code;
}

/* StateWaitMsg [cid, confidence] (v1: then limit, allowReplaced). */
typedef struct wait_args {
  st_cid cid;
  int64_t confidence;
} wait_args;

static st_code p_state_wait_msg(const json_t *params, void *args, st_err *err) {
  wait_args *a = args;
  st_code code = fn_param_cid(params, 0, &a->cid, err);
  return code ? code : st_rpc_param_i64(params, 1, "confidence", &a->confidence, err);
}

/* The message's lookup once it is confidence epochs deep; *done false while it is not. */
static st_code wait_step(st_fullnode *n, const wait_args *a, bool *done, json_t **result, st_err *err) {
  st_msg_lookup l;
  *done = false;
  st_code code = st_chain_search_msg(n->chain, &a->cid, &l, err);
  if (!code) {
    st_tipset head;
    st_tipset_init(&head);
    code = st_chain_head(n->chain, &head, err);
    *done = !code && head.height - l.height >= a->confidence;
    st_tipset_free(&head);
    if (*done) code = lookup_json(&a->cid, &l, result, err);
  } else if (code == ST_ENOENT) {
    code = ST_OK;
  }
  st_msg_lookup_free(&l);
  return code;
}

/* One look: the lookup once the message is confidence epochs deep, else not_yet. The JSON-RPC
 * layer parks the call and looks again at each new head, for at most ten minutes
 * (st_rpc_park.h): a waiter holds no thread, and one whose client hangs up is freed at once. */
static st_code r_state_wait_msg(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  pthread_mutex_lock(&n->pool_mu);
  bool stopping = n->stopping;
  pthread_mutex_unlock(&n->pool_mu);
  if (stopping) return st_err_set(err, ST_EUNAVAIL, "the node is stopping");
  bool done;
  st_code code = wait_step(n, q->args, &done, &q->result, err);
  if (!code && !done) q->not_yet = true;
  return code;
}

/* ---- randomness ---- */

/* [DST, epoch, entropy (base64 or null), TSK]: DrawRandomness on the tipset's chain. */
typedef struct rand_args {
  int64_t dst, epoch;
  st_buf entropy;
  st_tipset_key tsk;
} rand_args;

static st_code p_randomness(const json_t *params, void *args, st_err *err) {
  rand_args *a = args;
  st_code code = st_rpc_param_i64(params, 0, "domain separation tag", &a->dst, err);
  if (!code) code = st_rpc_param_i64(params, 1, "epoch", &a->epoch, err);
  if (!code) code = st_rpc_param_bytes(params, 2, "entropy", true, &a->entropy, err);
  return code ? code : fn_param_tsk(params, 3, &a->tsk, err);
}

static void free_rand(void *args) {
  rand_args *a = args;
  st_buf_free(&a->entropy);
  st_tipset_key_free(&a->tsk);
}

static st_code randomness(st_fullnode *n, const rand_args *a, bool beacon, json_t **result, st_err *err) {
  st_tipset ts;
  uint8_t out[32];
  st_code code = fn_tipset(n, &a->tsk, &ts, err);
  if (!code)
    code = st_chain_randomness(n->chain, &ts.key, beacon, a->dst, a->epoch, a->entropy.data, a->entropy.len, out, err);
  if (!code) *result = fn_bytes_json(out, sizeof out);
  st_tipset_free(&ts);
  return code;
}

static st_code r_randomness_from_tickets(st_rpc_req *q, st_err *err) {
  return randomness(q->ctx, q->args, false, &q->result, err);
}

static st_code r_randomness_from_beacon(st_rpc_req *q, st_err *err) {
  return randomness(q->ctx, q->args, true, &q->result, err);
}

/* StateNetworkName: the genesis's network name. */
static st_code r_state_network_name(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  (void)err;
  q->result = json_string(st_chain_network(n->chain)->name);
  return ST_OK;
}

/* StateNetworkVersion [tsk]: ST_NETWORK_VERSION at every tipset (no upgrades). */
static st_code r_state_network_version(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_tipset ts;
  st_code code = fn_tipset(n, &((fn_tsk_args *)q->args)->tsk, &ts, err);
  if (!code) q->result = json_integer(ST_NETWORK_VERSION);
  st_tipset_free(&ts);
  return code;
}

/* The ID addresses of the actors at tsk's state, in ID order: every one, or the miners only. */
static st_code list_actors(st_rpc_req *q, bool miners_only, st_err *err) {
  st_fullnode *n = q->ctx;
  st_state st;
  st_code code = fn_state(n, &((fn_tsk_args *)q->args)->tsk, &st, err);
  if (!code) {
    json_t *arr = json_array();
    for (size_t i = 0; i < st.n; i++)
      if (!miners_only || st.actors[i].kind == ST_ACTOR_MINER)
        json_array_append_new(arr, fn_id_json(n, st.actors[i].id));
    q->result = arr;
  }
  st_state_clear(&st);
  return code;
}

/* StateListMiners [tsk] ([] when none) and StateListActors [tsk]. */
static st_code r_state_list_miners(st_rpc_req *q, st_err *err) { return list_actors(q, true, err); }
static st_code r_state_list_actors(st_rpc_req *q, st_err *err) { return list_actors(q, false, err); }

/* StateCall's params: [Message, tsk]. */
typedef struct call_args {
  st_message m;
  st_tipset_key tsk;
} call_args;

static st_code p_state_call(const json_t *params, void *args, st_err *err) {
  call_args *a = args;
  st_message_init(&a->m);
  if (st_message_from_json(json_array_get(params, 0), &a->m, err))
    return st_err_wrap(err, ST_EINVAL, "param 1 (message)");
  if (!a->m.to.len || !a->m.from.len)
    return st_err_set(err, ST_EINVAL, "param 1 (message): %s address is undefined", !a->m.to.len ? "To" : "From");
  return fn_param_tsk(params, 1, &a->tsk, err);
}

static void free_call(void *args) {
  st_message_free(&((call_args *)args)->m);
  st_tipset_key_free(&((call_args *)args)->tsk);
}

/* ExecutionTrace of a call: the top call alone (the VM records no internal sends). */
static json_t *call_trace(const st_fullnode *n, const st_message *m, const st_receipt *rc) {
  return json_pack("{s{so so so sI so sI sI sb} s{sI so sI} sn sn}", "Msg", "From", fn_addr_json(n, &m->from), "To",
                   fn_addr_json(n, &m->to), "Value", st_chain_json_bigint(m->value), "Method", (json_int_t)m->method,
                   "Params", fn_bytes_json(m->params.data, m->params.len), "ParamsCodec",
                   (json_int_t)(m->params.len ? ST_CODEC_DAG_CBOR : 0), "GasLimit", (json_int_t)m->gas_limit,
                   "ReadOnly", 0, "MsgRct", "ExitCode", (json_int_t)rc->exit_code, "Return",
                   fn_bytes_json(rc->ret.data, rc->ret.len), "ReturnCodec",
                   (json_int_t)(rc->ret.len ? ST_CODEC_DAG_CBOR : 0), "GasCharges", "Subcalls");
}

/* StateCall [msg, tsk]: msg applied on the state after tsk and kept nowhere, as Lotus's Call:
 * GasLimit 0 becomes the block gas limit, the nonce is the sender's, no base fee is charged. A
 * message that fails is an answer (its exit code, and Error saying why), not an RPC error. */
static st_code r_state_call(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  call_args *a = q->args;
  st_state st;
  st_state_actor *sender;
  st_code code = fn_state(n, &a->tsk, &st, err);
  if (!code && st_state_lookup(&st, &a->m.from, &sender, err)) code = st_err_wrap(err, ST_EINVAL, "call from");
  if (!code) {
    a->m.nonce = sender->nonce;
    if (!a->m.gas_limit) a->m.gas_limit = st_chain_network(n->chain)->block_gas_limit;
  }
  st_state_clear(&st);
  st_receipt rc;
  st_receipt_init(&rc);
  char why[ST_ERR_MSG_MAX];
  uint64_t t0 = st_clock_ms();
  if (!code)
    code = st_chain_call(n->chain, a->tsk.n ? &a->tsk : NULL, &a->m, st_message_size(&a->m) + 69, &rc, why, err);
  json_t *msg = NULL, *rct = NULL;
  st_cid cid;
  if (!code) code = st_message_cid(&a->m, &cid, err);
  if (!code) code = st_message_to_json(&a->m, n->network, &msg, err);
  if (!code) code = st_receipt_to_json(&rc, &rct, err);
  if (!code)
    q->result = json_pack("{so so so sn so ss sI}", "MsgCid", st_chain_json_cid(&cid), "Msg", msg, "MsgRct", rct,
                          "GasCost", "ExecutionTrace", call_trace(n, &a->m, &rc), "Error", rc.exit_code ? why : "",
                          "Duration", (json_int_t)((st_clock_ms() - t0) * 1000000));
  if (code) json_decref(msg), json_decref(rct);
  st_receipt_free(&rc);
  return code;
}

/* The FIL that is not circulating at key's state: every miner's locked part (balance less
 * st_miner_available) and the market's locked escrow. */
static st_code locked_funds(st_fullnode *n, const st_tipset_key *key, st_state *st, mpz_t out, st_err *err) {
  mpz_set_ui(out, 0);
  mpz_t avail;
  mpz_init(avail);
  st_code code = ST_OK;
  for (size_t i = 0; i < st->n && !code; i++) {
    const st_state_actor *a = &st->actors[i];
    if (a->kind != ST_ACTOR_MINER) continue;
    st_miner_state m;
    if (!(code = st_chain_miner_state(n->chain, key, a->id, &m, err))) {
      st_miner_available(&m, a->balance, avail);
      mpz_add(out, out, a->balance);
      mpz_sub(out, out, avail);
    }
    st_miner_state_free(&m);
  }
  mpz_clear(avail);
  if (code) return code;
  st_market_state ms;
  if (!(code = st_chain_market_state(n->chain, key, &ms, err)))
    for (size_t i = 0; i < ms.nbalances; i++) mpz_add(out, out, ms.balances[i].locked);
  st_market_state_free(&ms);
  return code;
}

/* StateCirculatingSupply [tsk]: every balance, less the burnt funds actor's, the reward actor's
 * (FIL not mined yet) and what is locked (locked_funds); never below 0. */
static st_code r_state_circulating_supply(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_tipset ts;
  st_state st;
  st_state_init(&st);
  mpz_t total, locked;
  mpz_inits(total, locked, NULL);
  st_code code = fn_tipset(n, &((fn_tsk_args *)q->args)->tsk, &ts, err);
  if (!code) code = st_chain_state(n->chain, &ts.key, &st, err);
  if (!code) code = locked_funds(n, &ts.key, &st, locked, err);
  if (!code) {
    st_state_total(&st, total);
    const uint64_t out_ids[] = {ST_ID_BURNT, ST_ID_REWARD};
    for (size_t i = 0; i < 2; i++) {
      const st_state_actor *a = st_state_get(&st, out_ids[i]);
      if (a) mpz_sub(total, total, a->balance);
    }
    mpz_sub(total, total, locked);
    if (mpz_sgn(total) < 0) mpz_set_ui(total, 0);
    q->result = st_chain_json_bigint(total);
  }
  mpz_clears(total, locked, NULL);
  st_state_clear(&st);
  st_tipset_free(&ts);
  return code;
}

static const st_rpc_method METHODS[] = {
    ST_RPC_NOARGS("StateNetworkName", ST_PERM_READ, r_state_network_name),
    ST_RPC_METHOD("StateNetworkVersion", ST_PERM_READ, 0, 1, fn_parse_tsk, fn_tsk_args, fn_free_tsk,
                  r_state_network_version),
    ST_RPC_METHOD("StateListMiners", ST_PERM_READ, 0, 1, fn_parse_tsk, fn_tsk_args, fn_free_tsk, r_state_list_miners),
    ST_RPC_METHOD("StateListActors", ST_PERM_READ, 0, 1, fn_parse_tsk, fn_tsk_args, fn_free_tsk, r_state_list_actors),
    ST_RPC_METHOD("StateCall", ST_PERM_READ, 1, 2, p_state_call, call_args, free_call, r_state_call),
    ST_RPC_METHOD("StateCirculatingSupply", ST_PERM_READ, 0, 1, fn_parse_tsk, fn_tsk_args, fn_free_tsk,
                  r_state_circulating_supply),
    ST_RPC_NOARGS("StateGetNetworkParams", ST_PERM_READ, r_state_get_network_params),
    ST_RPC_METHOD("StateGetActor", ST_PERM_READ, 1, 2, fn_parse_addr_tsk, fn_addr_tsk_args, fn_free_addr_tsk,
                  r_state_get_actor),
    ST_RPC_METHOD("StateLookupID", ST_PERM_READ, 1, 2, fn_parse_addr_tsk, fn_addr_tsk_args, fn_free_addr_tsk,
                  r_state_lookup_id),
    ST_RPC_METHOD("StateAccountKey", ST_PERM_READ, 1, 2, fn_parse_addr_tsk, fn_addr_tsk_args, fn_free_addr_tsk,
                  r_state_account_key),
    ST_RPC_METHOD("StateDecodeParams", ST_PERM_READ, 3, 4, p_state_decode_params, decode_args, free_decode,
                  r_state_decode_params),
    ST_RPC_METHOD_V("StateSearchMsg", ST_RPC_V1, ST_PERM_READ, 2, 4, p_search_v1, fn_cid_args, NULL,
                    r_state_search_msg),
    ST_RPC_METHOD_V("StateSearchMsg", ST_RPC_V0, ST_PERM_READ, 1, 1, fn_parse_cid, fn_cid_args, NULL,
                    r_state_search_msg),
    ST_RPC_METHOD_WAIT("StateWaitMsg", ST_RPC_V1, ST_PERM_READ, 2, 4, p_state_wait_msg, wait_args, r_state_wait_msg,
                       ST_FULLNODE_WAIT_S),
    ST_RPC_METHOD_WAIT("StateWaitMsg", ST_RPC_V0, ST_PERM_READ, 2, 2, p_state_wait_msg, wait_args, r_state_wait_msg,
                       ST_FULLNODE_WAIT_S),
    ST_RPC_METHOD("StateGetRandomnessFromTickets", ST_PERM_READ, 3, 4, p_randomness, rand_args, free_rand,
                  r_randomness_from_tickets),
    ST_RPC_METHOD("StateGetRandomnessFromBeacon", ST_PERM_READ, 3, 4, p_randomness, rand_args, free_rand,
                  r_randomness_from_beacon),
};

fn_slice fn_state_methods(void) { return (fn_slice){METHODS, sizeof METHODS / sizeof METHODS[0]}; }
