/* st_fullnode: one handler per JSON-RPC method; params are checked and named, results follow
 * docs/lotus-api.md (null vs [] included). */
#include "rpc/st_fullnode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/st_vm.h"
#include "core/st_encoding.h"
#include "crypto/st_secp.h"

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

static json_t *big_json(const mpz_t v) {
  char *s = mpz_get_str(NULL, 10, v);
  json_t *j = json_string(s);
  free(s);
  return j;
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
  if (!json_is_array(v) || !json_array_size(v)) return st_err_set(err, ST_EINVAL, "param 1 (tipset key): must be a non-empty array of CIDs");
  st_tipset ts;
  st_tipset_init(&ts);
  st_code code = p_tsk(n, params, 0, &ts, err);
  return tipset_result(n, &ts, code == ST_EINVAL ? code : (code ? refuse(call, code) : code), result, err);
}

static st_code m_chain_get_tipset_by_height(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  const json_t *h = json_array_get(params, 0);
  if (!json_is_integer(h)) return st_err_set(err, ST_EINVAL, "param 1 (height): must be an integer");
  if (json_integer_value(h) < 0) return st_err_set(err, ST_EINVAL, "param 1 (height): height %lld is negative", (long long)json_integer_value(h));
  st_tipset from, ts;
  st_tipset_init(&from);
  st_tipset_init(&ts);
  st_code code = p_tsk(n, params, 1, &from, err);
  if (!code && json_integer_value(h) > from.height)
    code = refuse(call, st_err_set(err, ST_EINVAL, "looking for tipset with height greater than start point, req: %lld, head: %lld",
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

static st_code m_chain_get_block_messages(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  st_cid cid;
  st_code code = p_cid(params, 0, &cid, err);
  if (code) return code;
  st_block_header b;
  st_block_header_init(&b);
  st_signed_message *msgs = NULL;
  st_cid *cids = NULL;
  size_t k = 0;
  if ((code = st_chain_block(n->chain, &cid, &b, err)) || (code = st_chain_block_messages(n->chain, &b, &msgs, &cids, &k, err))) refuse(call, code);
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
static st_code parent_of(st_fullnode *n, const st_cid *block, st_tipset *parent, st_tipset_exec *ex, bool *genesis, st_err *err) {
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

static st_code m_chain_get_parent_messages(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
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

static st_code m_chain_get_parent_receipts(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
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
  if (p == ST_ADDR_ACTOR) return refuse(call, st_err_set(err, ST_EINVAL, "cannot resolve actor address to key address"));
  st_state st;
  st_state_init(&st);
  st_state_actor *act = NULL;
  if ((code = state_at(n, params, 1, &st, err)) || (code = st_state_lookup(&st, &a, &act, err))) refuse(call, code);
  if (!code && !act->robust.len) code = refuse(call, st_err_set(err, ST_EINVAL, "actor is not an account: it has no key address"));
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
  *out = json_pack("{so so sn so sI}", "Message", st_chain_json_cid(cid), "Receipt", rc, "ReturnDec", "TipSet", ts, "Height", (json_int_t)l->height);
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

static st_code wait_msg(st_fullnode *n, const st_rpc_call *call, const st_cid *cid, int64_t confidence, json_t **result, st_err *err);

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
    return refuse(call, st_err_set(err, ST_EUNAVAIL, "%d StateWaitMsg calls are waiting already: poll with StateSearchMsg instead",
                                   ST_FULLNODE_MAX_WAITS));
  code = wait_msg(n, call, &cid, confidence, result, err);
  pthread_mutex_lock(&n->pool_mu);
  n->waiters--;
  pthread_mutex_unlock(&n->pool_mu);
  return code;
}

/* wait for the message, then for confidence more epochs on top; at most 10 minutes, and not
 * past the node's shutdown */
static st_code wait_msg(st_fullnode *n, const st_rpc_call *call, const st_cid *cidp, int64_t confidence, json_t **result, st_err *err) {
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
    if (time(NULL) >= deadline) return refuse(call, st_err_set(err, ST_EUNAVAIL, "gave up waiting for the message after 10 minutes"));
    pthread_mutex_lock(&n->pool_mu);
    bool stopping = n->stopping;
    uint64_t seen = n->head_changes;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    while (!stopping && n->head_changes == seen && pthread_cond_timedwait(&n->head_cv, &n->pool_mu, &ts) == 0) stopping = n->stopping;
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
  if (!code && mpz_cmp(m->gas_premium, m->gas_fee_cap) > 0) mpz_set(m->gas_premium, m->gas_fee_cap); /* as Lotus caps it */
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
        code = st_err_set(err, ST_EINVAL, "the message would fail with exit code %lld (%s): %s", (long long)rc.exit_code, st_exit_code_name(rc.exit_code), why);
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
  if (!m.to.len || !m.from.len) code = st_err_set(err, ST_EINVAL, !m.to.len ? "message To address is undefined" : "message From address is undefined");
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
static st_code wallet_put(st_fullnode *n, const st_keyinfo *ki, st_address *addr, st_err *err) {
  char name[ST_ADDR_STR_MAX + 16];
  st_code code = st_secp_address(ki->priv, addr, err);
  if (!code) code = wallet_name(addr, name, err);
  if (!code) code = st_keystore_put(&n->wallet, name, ki, err);
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
  if (spec && !json_is_null(spec) && !json_is_object(spec)) code = st_err_set(err, ST_EINVAL, "param 2 (send spec): must be an object or null");
  if (!code && sm.message.nonce)
    code = refuse(call, st_err_set(err, ST_EINVAL, "MpoolPushMessage expects message nonce to be 0, was %llu", (unsigned long long)sm.message.nonce));
  uint8_t sk[32];
  st_address from;
  if (!code && (code = key_address(n, &sm.message.from, &from, err))) refuse(call, code);
  if (!code && (code = st_fullnode_wallet_key(n, &from, sk, err))) refuse(call, code);
  if (!code) sm.message.from = from;
  if (!code && (code = estimate(n, &sm.message, err))) refuse(call, code);
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
  if ((code = st_chain_state(n->chain, NULL, &st, err)) || (code = st_mpool_nonce(n->pool, &st, &a, &nonce, err))) refuse(call, code);
  pthread_mutex_unlock(&n->pool_mu);
  if (!code) *result = st_chain_json_u64(nonce);
  st_state_clear(&st);
  return code;
}

/* ---- wallet ---- */

static st_code m_wallet_new(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  const json_t *t = json_array_get(params, 0);
  bool secp = (json_is_string(t) && !strcmp(json_string_value(t), "secp256k1")) || (json_is_integer(t) && json_integer_value(t) == 1);
  if (!secp) return st_err_set(err, ST_EINVAL, "param 1 (key type): only \"secp256k1\" keys are supported (no BLS library)");
  st_keyinfo ki = {.type = ST_KEY_SECP256K1};
  st_address a;
  st_code code = st_secp_keygen(ki.priv, err);
  if (!code) code = wallet_put(n, &ki, &a, err);
  /* the first key becomes the default */
  st_keyinfo dflt;
  if (!code && st_keystore_get(&n->wallet, "default", &dflt, NULL) == ST_ENOENT) code = st_keystore_put(&n->wallet, "default", &ki, err);
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
  if (!code) *result = st_state_lookup(&st, &a, &act, NULL) ? json_string("0") : big_json(act->balance); /* Lotus: "0" for unknown */
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

static st_code m_wallet_sign(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  st_address a, key;
  st_code code = p_addr(params, 0, &a, err);
  if (code) return code;
  const json_t *data = json_array_get(params, 1);
  if (!json_is_string(data)) return st_err_set(err, ST_EINVAL, "param 2 (data): must be base64");
  st_buf raw = ST_BUF_INIT;
  if (st_base64_decode(json_string_value(data), json_string_length(data), true, &raw, err)) {
    st_buf_free(&raw);
    return st_err_wrap(err, ST_EINVAL, "param 2 (data)");
  }
  uint8_t sk[32], sig[ST_SECP_SIG_LEN];
  if ((code = key_address(n, &a, &key, err)) || (code = st_fullnode_wallet_key(n, &key, sk, err))) refuse(call, code);
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
  if ((code = key_address(n, &a, &key, err)) || (code = st_fullnode_wallet_key(n, &key, sk, err))) return refuse(call, code);
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
  const json_t *ki = json_array_get(params, 0), *type = json_object_get(ki, "Type"), *pk = json_object_get(ki, "PrivateKey");
  if (!json_is_string(type) || strcmp(json_string_value(type), "secp256k1") || !json_is_string(pk))
    return st_err_set(err, ST_EINVAL, "param 1 (key info): must be {\"Type\": \"secp256k1\", \"PrivateKey\": \"<base64>\"}");
  st_buf raw = ST_BUF_INIT;
  st_code code = st_base64_decode(json_string_value(pk), json_string_length(pk), true, &raw, err);
  if (!code && raw.len != 32) code = st_err_set(err, ST_EINVAL, "param 1 (key info): PrivateKey is %zu bytes, not 32", raw.len);
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
  if (!code) code = wallet_put(n, &k, &a, err);
  st_secure_zero(&k, sizeof k);
  if (code) return refuse(call, code);
  *result = addr_json(n, &a);
  return ST_OK;
}

/* ---- blocks and auth ---- */

static st_code m_sync_submit_block(void *ctx, const st_rpc_call *call, json_t *params, json_t **result, st_err *err) {
  st_fullnode *n = ctx;
  const json_t *bm = json_array_get(params, 0);
  if (!json_is_object(bm)) return st_err_set(err, ST_EINVAL, "param 1 (block): must be {\"Header\": ..., \"BlsMessages\": [...], \"SecpkMessages\": [...]}");
  st_block_header b;
  st_block_header_init(&b);
  st_code code = st_block_header_from_json(json_object_get(bm, "Header"), &b, err);
  if (code) code = st_err_wrap(err, ST_EINVAL, "param 1 (block): Header");
  const json_t *bls = json_object_get(bm, "BlsMessages"), *secp = json_object_get(bm, "SecpkMessages");
  if (!code && json_array_size(bls)) code = st_err_set(err, ST_EINVAL, "param 1 (block): BLS messages are not supported");
  size_t k = json_array_size(secp);
  if (k > ST_CHAIN_MAX_ARRAY) code = st_err_set(err, ST_EINVAL, "param 1 (block): more than %d messages", ST_CHAIN_MAX_ARRAY);
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
  if (!code && (code = st_chain_submit_block(n->chain, &b, msgs, have, &moved, (uint64_t)time(NULL), err))) refuse(call, code);
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
  if (st_jwt_verify(n->jwt_secret, json_string_value(t), &perms, err)) return refuse(call, st_err_wrap(err, ST_EPERM, "JWT Verification failed"));
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

/* ---- table ---- */

#define M(name, perm, min, max, fn) {"Filecoin." name, perm, 0, min, max, fn, NULL}
static const st_rpc_method METHODS[] = {
    M("Version", ST_PERM_READ, 0, 0, m_version),
    M("ChainHead", ST_PERM_READ, 0, 0, m_chain_head),
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
    M("WalletExport", ST_PERM_ADMIN, 1, 1, m_wallet_export),
    M("WalletImport", ST_PERM_ADMIN, 1, 1, m_wallet_import),
    M("StateGetActor", ST_PERM_READ, 1, 2, m_state_get_actor),
    M("StateLookupID", ST_PERM_READ, 1, 2, m_state_lookup_id),
    M("StateAccountKey", ST_PERM_READ, 1, 2, m_state_account_key),
    {"Filecoin.StateSearchMsg", ST_PERM_READ, ST_RPC_V1, 2, 4, m_state_search_msg, NULL},
    {"Filecoin.StateSearchMsg", ST_PERM_READ, ST_RPC_V0, 1, 1, m_state_search_msg, NULL},
    {"Filecoin.StateWaitMsg", ST_PERM_READ, ST_RPC_V1, 2, 4, m_state_wait_msg, NULL},
    {"Filecoin.StateWaitMsg", ST_PERM_READ, ST_RPC_V0, 2, 2, m_state_wait_msg, NULL},
    M("GasEstimateMessageGas", ST_PERM_READ, 1, 3, m_gas_estimate),
    M("SyncSubmitBlock", ST_PERM_WRITE, 1, 1, m_sync_submit_block),
    M("AuthNew", ST_PERM_ADMIN, 1, 1, m_auth_new),
    M("AuthVerify", ST_PERM_READ, 1, 1, m_auth_verify),
    {"Filecoin.ChainNotify", ST_PERM_READ, 0, 0, 0, NULL, m_chain_notify},
};
#undef M

const st_rpc_method *st_fullnode_methods(size_t *n) {
  *n = sizeof METHODS / sizeof METHODS[0];
  return METHODS;
}

st_code st_fullnode_init(st_fullnode *n, st_chain *chain, const char *keystore_dir, const uint8_t jwt_secret[ST_JWT_SECRET_LEN],
                         const char *version, st_err *err) {
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
