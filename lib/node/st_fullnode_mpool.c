/* st_fullnode_mpool: the message pool and gas group: pushing signed messages, signing and
 * pushing with the wallet (nonce and gas filled in), the pending list, nonces, gas estimates;
 * and the pool's journal in the chain store, read back at start. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/st_log.h"
#include "crypto/st_secp.h"
#include "node/st_fullnode_int.h"

/* ---- the pool's journal: every message in the pool is kept in the chain store ---- */

static st_code journal_keep(void *ctx, const st_signed_message *sm, const st_cid *cid, const st_cid *replaced,
                            st_err *err) {
  return st_chain_pool_keep(((st_fullnode *)ctx)->chain, sm, cid, replaced, err);
}

static void journal_forget(void *ctx, const st_cid *cids, size_t n) {
  st_err err;
  if (st_chain_pool_forget(((st_fullnode *)ctx)->chain, cids, n, &err))
    st_logf("mpool", ST_LOG_WARN, "could not forget %zu message(s) that left the pool (the next start drops them): %s",
            n, err.msg);
}

static int by_nonce(const void *a, const void *b) {
  uint64_t x = ((const st_signed_message *)a)->message.nonce, y = ((const st_signed_message *)b)->message.nonce;
  return x < y ? -1 : x > y;
}

/* Adds the kept messages back against the head's state, in nonce order so each finds its
 * predecessor waiting, and forgets those the pool refuses now (applied, or no longer valid). */
static st_code restore(st_fullnode *n, st_signed_message *kept, size_t k, st_err *err) {
  qsort(kept, k, sizeof *kept, by_nonce);
  st_cid *dropped = calloc(k, sizeof *dropped);
  size_t ndropped = 0;
  if (!dropped) return st_err_set(err, ST_ENOMEM, "out of memory reading back the message pool");
  st_state st;
  st_state_init(&st);
  st_code code = st_chain_state(n->chain, NULL, &st, err);
  for (size_t i = 0; i < k && !code; i++) {
    st_err why;
    if (!st_mpool_add(n->pool, &st, &kept[i], NULL, &why)) continue;
    if ((code = st_signed_message_cid(&kept[i], &dropped[ndropped], err))) break;
    char s[ST_CID_STR_MAX];
    st_cid_to_string(&dropped[ndropped++], s);
    st_logf("mpool", ST_LOG_DEBUG, "message %s stays out of the pool: %s", s, why.msg);
  }
  if (!code) code = st_chain_pool_forget(n->chain, dropped, ndropped, err);
  if (!code)
    st_logf("mpool", ST_LOG_INFO,
            "%zu message(s) back in the pool from the chain store, %zu dropped (applied, or no longer valid)",
            k - ndropped, ndropped);
  st_state_clear(&st);
  free(dropped);
  return code;
}

st_code fn_mpool_open(st_fullnode *n, st_err *err) {
  st_signed_message *kept;
  size_t k;
  st_code code = st_chain_pool_kept(n->chain, &kept, &k, err);
  if (!code && k) code = restore(n, kept, k, err);
  for (size_t i = 0; i < k; i++) st_signed_message_free(&kept[i]);
  free(kept);
  if (code) return st_err_wrap(err, code, "the message pool kept in the chain store");
  st_mpool_set_journal(n->pool, &(st_mpool_journal){.keep = journal_keep, .forget = journal_forget, .ctx = n});
  return ST_OK;
}

typedef struct signed_args {
  st_signed_message sm;
} signed_args;

static st_code p_mpool_push(const json_t *params, void *args, st_err *err) {
  signed_args *a = args;
  st_signed_message_init(&a->sm);
  st_code code = st_signed_message_from_json(json_array_get(params, 0), &a->sm, err);
  return code ? st_err_wrap(err, ST_EINVAL, "param 1 (signed message)") : ST_OK;
}

static void free_signed(void *args) { st_signed_message_free(&((signed_args *)args)->sm); }

static st_code r_mpool_push(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_cid cid;
  st_state st;
  st_state_init(&st);
  pthread_mutex_lock(&n->pool_mu); /* the pool is checked against the head's state */
  st_code code = st_chain_state(n->chain, NULL, &st, err);
  if (!code) code = st_mpool_add(n->pool, &st, &((signed_args *)q->args)->sm, &cid, err);
  pthread_mutex_unlock(&n->pool_mu);
  st_state_clear(&st);
  if (!code) q->result = st_chain_json_cid(&cid);
  return code;
}

/* ---- gas ---- */

/* The gas a message uses on the head state with the block's whole gas and no fee, x 1.25
 * (capped at the block gas limit); a message that would fail is refused with its exit code. */
static st_code estimate_limit(st_fullnode *n, st_state *st, st_message *m, st_err *err) {
  const st_network *net = st_chain_network(n->chain);
  st_message trial;
  st_message_init(&trial);
  st_code code = st_message_copy(&trial, m, err);
  st_state_actor *sender = NULL;
  if (!code && st_state_lookup(st, &m->from, &sender, NULL)) code = st_err_set(err, ST_EINVAL, "sender not found");
  st_receipt rc;
  st_receipt_init(&rc);
  char why[ST_ERR_MSG_MAX];
  if (!code) {
    trial.gas_limit = net->block_gas_limit;
    mpz_set_ui(trial.gas_fee_cap, 0);
    mpz_set_ui(trial.gas_premium, 0);
    trial.nonce = sender->nonce;
    code = st_chain_call(n->chain, NULL, &trial, st_message_size(&trial) + 69, &rc, why, err);
  }
  if (!code && rc.exit_code)
    code = st_err_set(err, ST_EINVAL, "the message would fail with exit code %lld (%s): %s", (long long)rc.exit_code,
                      st_exit_code_name(rc.exit_code), why);
  if (!code) {
    m->gas_limit = rc.gas_used + rc.gas_used / 4;
    if (m->gas_limit > net->block_gas_limit) m->gas_limit = net->block_gas_limit;
  }
  st_receipt_free(&rc);
  st_message_free(&trial);
  return code;
}

/* Fills GasLimit, GasPremium and GasFeeCap where they are 0 (st_fullnode.h says how). */
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
  if (!code && m->gas_limit == 0) code = estimate_limit(n, &st, m, err);
  st_state_clear(&st);
  st_tipset_exec_free(&ex);
  st_tipset_free(&head);
  return code;
}

/* A message param (MpoolPushMessage, GasEstimateMessageGas) and the send spec's MaxFee. */
typedef struct message_args {
  st_signed_message sm; /* the message; signed by MpoolPushMessage */
  mpz_t max_fee;        /* 0: none */
} message_args;

/* Param 1, the message. */
static st_code parse_message_only(const json_t *params, message_args *a, st_err *err) {
  st_signed_message_init(&a->sm);
  mpz_init(a->max_fee);
  st_code code = st_message_from_json(json_array_get(params, 0), &a->sm.message, err);
  return code ? st_err_wrap(err, ST_EINVAL, "param 1 (message)") : ST_OK;
}

static st_code parse_message(const json_t *params, message_args *a, st_err *err) {
  if (parse_message_only(params, a, err)) return ST_EINVAL;
  const json_t *spec = json_array_get(params, 1);
  if (spec && !json_is_null(spec) && !json_is_object(spec))
    return st_err_set(err, ST_EINVAL, "param 2 (send spec): must be an object or null");
  const json_t *mf = json_is_object(spec) ? fn_field(spec, "MaxFee") : NULL;
  if (mf && !json_is_null(mf) && st_chain_json_get_bigint(mf, "param 2 (send spec): MaxFee", a->max_fee, err))
    return ST_EINVAL;
  return ST_OK;
}

static void free_message(void *args) {
  message_args *a = args;
  st_signed_message_free(&a->sm);
  mpz_clear(a->max_fee);
}

static st_code p_gas_estimate(const json_t *params, void *args, st_err *err) {
  message_args *a = args;
  st_code code = parse_message(params, a, err);
  if (!code && (!a->sm.message.to.len || !a->sm.message.from.len))
    code = st_err_set(err, ST_EINVAL,
                      !a->sm.message.to.len ? "message To address is undefined" : "message From address is undefined");
  return code;
}

static st_code r_gas_estimate(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_message *m = &((message_args *)q->args)->sm.message;
  st_code code = estimate(n, m, err);
  return code ? code : st_message_to_json(m, n->network, &q->result, err);
}

/* ---- MpoolPushMessage ---- */

static st_code p_mpool_push_message(const json_t *params, void *args, st_err *err) {
  message_args *a = args;
  st_code code = parse_message(params, a, err);
  if (!code && a->sm.message.nonce)
    code = st_err_set(err, ST_EINVAL, "MpoolPushMessage expects message nonce to be 0, was %llu",
                      (unsigned long long)a->sm.message.nonce);
  return code;
}

/* Lotus's capGasFee: GasFeeCap x GasLimit at most max_fee. */
static void cap_gas_fee(st_message *m, const mpz_t max_fee) {
  if (!mpz_sgn(max_fee) || m->gas_limit <= 0) return;
  mpz_t total;
  mpz_init(total);
  mpz_mul_si(total, m->gas_fee_cap, m->gas_limit);
  if (mpz_cmp(total, max_fee) > 0) {
    mpz_fdiv_q_ui(m->gas_fee_cap, max_fee, (unsigned long)m->gas_limit);
    if (mpz_cmp(m->gas_premium, m->gas_fee_cap) > 0) mpz_set(m->gas_premium, m->gas_fee_cap);
  }
  mpz_clear(total);
}

/* The pool's next nonce for from, the signature, and the push, under the pool lock and on one
 * read of the head's state. */
static st_code sign_and_push(st_fullnode *n, st_signed_message *sm, const uint8_t sk[32], st_err *err) {
  st_state st;
  st_state_init(&st);
  st_cid cid;
  pthread_mutex_lock(&n->pool_mu);
  st_code code = st_chain_state(n->chain, NULL, &st, err);
  if (!code) code = st_mpool_nonce(n->pool, &st, &sm->message.from, &sm->message.nonce, err);
  if (!code) code = st_signed_message_sign_secp(sm, sk, err);
  if (!code) code = st_mpool_add(n->pool, &st, sm, &cid, err);
  pthread_mutex_unlock(&n->pool_mu);
  st_state_clear(&st);
  return code;
}

static st_code r_mpool_push_message(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  message_args *a = q->args;
  st_address from;
  uint8_t sk[32] = {0};
  st_code code = fn_key_address(n, &a->sm.message.from, &from, err);
  if (!code) code = st_wallet_key(&n->wallet, &from, sk, err);
  if (!code) {
    a->sm.message.from = from;
    code = estimate(n, &a->sm.message, err);
  }
  if (!code) {
    cap_gas_fee(&a->sm.message, a->max_fee);
    code = sign_and_push(n, &a->sm, sk, err);
  }
  st_secure_zero(sk, sizeof sk);
  return code ? code : st_signed_message_to_json(&a->sm, n->network, &q->result, err);
}

static st_code r_mpool_pending(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
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
  else q->result = arr;
  return code;
}

static st_code r_mpool_get_nonce(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_state st;
  st_state_init(&st);
  uint64_t nonce = 0;
  pthread_mutex_lock(&n->pool_mu);
  st_code code = st_chain_state(n->chain, NULL, &st, err);
  if (!code) code = st_mpool_nonce(n->pool, &st, &((fn_addr_args *)q->args)->addr, &nonce, err);
  pthread_mutex_unlock(&n->pool_mu);
  if (!code) q->result = st_chain_json_u64(nonce);
  st_state_clear(&st);
  return code;
}

/* ---- GasEstimateFeeCap, GasEstimateGasPremium, MpoolSelect ---- */

#define FEE_CAP_MAX_QUEUE 300 /* 1.125^300 x 256 still fits Lotus's uint64 factor */

typedef struct fee_cap_args {
  message_args m;
  int64_t max_queue_blocks;
  st_tipset_key tsk;
} fee_cap_args;

static st_code p_fee_cap(const json_t *params, void *args, st_err *err) {
  fee_cap_args *a = args;
  st_code code = parse_message_only(params, &a->m, err);
  if (!code) code = st_rpc_param_i64(params, 1, "max queue blocks", &a->max_queue_blocks, err);
  if (!code && (a->max_queue_blocks < 0 || a->max_queue_blocks > FEE_CAP_MAX_QUEUE))
    code = st_err_set(err, ST_EINVAL, "param 2 (max queue blocks): %lld is outside 0 to %d",
                      (long long)a->max_queue_blocks, FEE_CAP_MAX_QUEUE);
  return code ? code : fn_param_tsk(params, 2, &a->tsk, err);
}

static void free_fee_cap(void *args) {
  fee_cap_args *a = args;
  free_message(&a->m);
  st_tipset_key_free(&a->tsk);
}

/* GasEstimateFeeCap [msg, maxqueueblks, tsk]: as Lotus: the tipset's parent base fee grown by
 * 1.125 (the base fee's largest step) for each block it may wait, in 1/256 steps, plus the
 * message's GasPremium. */
static st_code r_fee_cap(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  fee_cap_args *a = q->args;
  st_tipset ts;
  st_code code = fn_tipset(n, &a->tsk, &ts, err);
  if (!code) {
    mpz_t fee;
    mpz_init(fee);
    double factor = pow(1.0 + 1.0 / 8, (double)a->max_queue_blocks);
    mpz_mul_ui(fee, ts.blocks[0].parent_base_fee, (unsigned long)(factor * 256));
    mpz_fdiv_q_2exp(fee, fee, 8);
    mpz_add(fee, fee, a->m.sm.message.gas_premium);
    q->result = st_chain_json_bigint(fee);
    mpz_clear(fee);
  }
  st_tipset_free(&ts);
  return code;
}

typedef struct premium_args {
  uint64_t nblocks;
  st_address sender;
  int64_t gas_limit;
  st_tipset_key tsk;
} premium_args;

static st_code p_premium(const json_t *params, void *args, st_err *err) {
  premium_args *a = args;
  st_code code = st_rpc_param_u64(params, 0, "blocks to inclusion", &a->nblocks, err);
  if (!code && a->nblocks > 1000)
    code = st_err_set(err, ST_EINVAL, "param 1 (blocks to inclusion): %llu is more than 1000",
                      (unsigned long long)a->nblocks);
  if (!code) code = fn_param_addr(params, 1, &a->sender, err);
  if (!code) code = st_rpc_param_i64(params, 2, "gas limit", &a->gas_limit, err);
  return code ? code : fn_param_tsk(params, 3, &a->tsk, err);
}

static void free_premium(void *args) { st_tipset_key_free(&((premium_args *)args)->tsk); }

typedef struct priced {
  mpz_t premium;
  int64_t limit;
} priced;

static int by_premium_desc(const void *x, const void *y) {
  return mpz_cmp(((const priced *)y)->premium, ((const priced *)x)->premium);
}

/* The premiums (with their gas limits) of the messages the tipsets of the last 2 x nblocks epochs
 * below ts carried, and how many blocks held them. */
static st_code recent_premiums(st_fullnode *n, st_tipset *ts, uint64_t nblocks, priced **out, size_t *k, size_t *blocks,
                               st_err *err) {
  *out = NULL;
  *k = *blocks = 0;
  size_t cap = 0;
  st_code code = ST_OK;
  for (uint64_t i = 0; i < 2 * nblocks && ts->height > 0 && !code; i++) {
    if ((code = fn_parent(n, ts, err))) break;
    *blocks += ts->n;
    for (size_t b = 0; b < ts->n && !code; b++) {
      st_signed_message *msgs;
      st_cid *cids;
      size_t m;
      if ((code = st_chain_block_messages(n->chain, &ts->blocks[b], &msgs, &cids, &m, err))) break;
      if (*k + m > cap) {
        size_t want = (*k + m) * 2;
        priced *grown = realloc(*out, want * sizeof *grown);
        if (!grown) code = st_err_set(err, ST_ENOMEM, "out of memory estimating the gas premium");
        else *out = grown, cap = want;
      }
      for (size_t j = 0; j < m; j++) {
        if (!code) {
          mpz_init_set((*out)[*k].premium, msgs[j].message.gas_premium);
          (*out)[(*k)++].limit = msgs[j].message.gas_limit;
        }
        st_signed_message_free(&msgs[j]);
      }
      free(msgs);
      free(cids);
    }
  }
  return code;
}

#define MIN_GAS_PREMIUM 100000 /* Lotus's MinGasPremium, attoFIL per gas */

/* GasEstimateGasPremium [nblocksincl, sender, gaslimit, tsk]: as Lotus: the premiums of the
 * messages in the last 2 x nblocksincl epochs, highest first; walking down them until half the
 * blocks' gas target and 5% more is used; the mean of the premium there and the one before; at
 * least 100,000 attoFIL. Lotus then adds noise of about 0.5%, to spread many nodes' choices;
 * this answer is exact, so a script gets the same answer twice. */
static st_code r_premium(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  premium_args *a = q->args;
  st_tipset ts;
  priced *p = NULL;
  size_t k = 0, blocks = 0;
  st_code code = fn_tipset(n, &a->tsk, &ts, err);
  if (!code) code = recent_premiums(n, &ts, a->nblocks ? a->nblocks : 1, &p, &k, &blocks, err);
  if (!code) {
    if (k) qsort(p, k, sizeof *p, by_premium_desc); /* p is NULL when no message was found */
    int64_t target = st_chain_network(n->chain)->block_gas_target;
    int64_t at = target * (int64_t)blocks / 2 + target * (int64_t)blocks / 40;
    mpz_t prev1, prev2;
    mpz_inits(prev1, prev2, NULL);
    for (size_t i = 0; i < k; i++) {
      mpz_set(prev2, prev1);
      mpz_set(prev1, p[i].premium);
      if ((at -= p[i].limit) < 0) break;
    }
    if (mpz_sgn(prev2)) {
      mpz_add(prev1, prev1, prev2);
      mpz_fdiv_q_2exp(prev1, prev1, 1);
    }
    if (mpz_cmp_ui(prev1, MIN_GAS_PREMIUM) < 0) mpz_set_ui(prev1, MIN_GAS_PREMIUM);
    q->result = st_chain_json_bigint(prev1);
    mpz_clears(prev1, prev2, NULL);
  }
  for (size_t i = 0; i < k; i++) mpz_clear(p[i].premium);
  free(p);
  st_tipset_free(&ts);
  return code;
}

typedef struct select_args {
  st_tipset_key tsk;
  double ticket_quality;
} select_args;

static st_code p_mpool_select(const json_t *params, void *args, st_err *err) {
  select_args *a = args;
  st_code code = fn_param_tsk(params, 0, &a->tsk, err);
  const json_t *tq = json_array_get(params, 1);
  if (!code && !json_is_number(tq)) code = st_err_set(err, ST_EINVAL, "param 2 (ticket quality): must be a number");
  if (!code) a->ticket_quality = json_number_value(tq);
  return code;
}

static void free_select(void *args) { st_tipset_key_free(&((select_args *)args)->tsk); }

/* MpoolSelect [tsk, ticketQuality]: the messages a block on tsk would carry now: by premium,
 * within the block gas limit, nonces in a row (st_mpool_select). One block per epoch here, so
 * the ticket's quality (Lotus's guess at how many blocks share the epoch) changes nothing. */
static st_code r_mpool_select(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_state st;
  const st_signed_message **chosen = NULL;
  json_t *arr = json_array();
  pthread_mutex_lock(&n->pool_mu);
  st_code code = fn_state(n, &((select_args *)q->args)->tsk, &st, err);
  size_t cap = st_mpool_size(n->pool), k = 0;
  if (!code && cap && !(chosen = calloc(cap, sizeof *chosen)))
    code = st_err_set(err, ST_ENOMEM, "out of memory choosing messages");
  if (!code && cap) k = st_mpool_select(n->pool, &st, st_chain_network(n->chain)->block_gas_limit, chosen, cap);
  for (size_t i = 0; i < k && !code; i++) {
    json_t *m;
    if (!(code = st_signed_message_to_json(chosen[i], n->network, &m, err))) json_array_append_new(arr, m);
  }
  pthread_mutex_unlock(&n->pool_mu);
  free(chosen);
  st_state_clear(&st);
  if (code) json_decref(arr);
  else q->result = arr;
  return code;
}

static const st_rpc_method METHODS[] = {
    ST_RPC_METHOD("MpoolPush", ST_PERM_WRITE, 1, 1, p_mpool_push, signed_args, free_signed, r_mpool_push),
    ST_RPC_METHOD("MpoolPushMessage", ST_PERM_SIGN, 1, 2, p_mpool_push_message, message_args, free_message,
                  r_mpool_push_message),
    ST_RPC_METHOD("MpoolPending", ST_PERM_READ, 0, 1, fn_parse_tsk, fn_tsk_args, fn_free_tsk, r_mpool_pending),
    ST_RPC_METHOD("MpoolGetNonce", ST_PERM_READ, 1, 1, fn_parse_addr, fn_addr_args, NULL, r_mpool_get_nonce),
    ST_RPC_METHOD("GasEstimateMessageGas", ST_PERM_READ, 1, 3, p_gas_estimate, message_args, free_message,
                  r_gas_estimate),
    ST_RPC_METHOD("GasEstimateFeeCap", ST_PERM_READ, 3, 3, p_fee_cap, fee_cap_args, free_fee_cap, r_fee_cap),
    ST_RPC_METHOD("GasEstimateGasPremium", ST_PERM_READ, 4, 4, p_premium, premium_args, free_premium, r_premium),
    ST_RPC_METHOD("MpoolSelect", ST_PERM_READ, 2, 2, p_mpool_select, select_args, free_select, r_mpool_select),
};

fn_slice fn_mpool_methods(void) { return (fn_slice){METHODS, sizeof METHODS / sizeof METHODS[0]}; }
