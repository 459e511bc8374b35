/* st_chain_exec: applying a tipset: cron for each epoch since its parent, its messages in
 * order, the block rewards, cron for its own epoch; the results it records. Part of st_chain. */
#include <stdlib.h>

#include "chain/st_actor_state.h"
#include "chain/st_chain_int.h"
#include "chain/st_consensus.h"
#include "chain/st_cron.h"
#include "chain/st_methods.h"
#include "codec/st_cbor.h"
#include "core/st_log.h"

/* The tipset's messages in the order they apply: blocks in order, each CID once. */
static st_code apply_order(st_cs_txn *t, const st_tipset *ts, st_cid **out, size_t **block_of, size_t *n, st_err *err) {
  *out = NULL;
  *block_of = NULL;
  *n = 0;
  size_t cap = 0;
  st_code code = ST_OK;
  for (size_t b = 0; b < ts->n && !code; b++) {
    st_cid *cids;
    size_t k;
    if ((code = st_ch_meta_messages(t, &ts->blocks[b].messages, &cids, &k, err))) break;
    for (size_t i = 0; i < k && !code; i++) {
      bool seen = false;
      for (size_t j = 0; j < *n && !seen; j++) seen = st_cid_equal(&(*out)[j], &cids[i]);
      if (seen) continue;
      if (*n == cap) {
        cap = cap ? cap * 2 : 64;
        st_cid *nc = realloc(*out, cap * sizeof *nc);
        size_t *nb = realloc(*block_of, cap * sizeof *nb);
        if (nc) *out = nc;
        if (nb) *block_of = nb;
        if (!nc || !nb) code = st_err_set(err, ST_ENOMEM, "out of memory ordering messages");
      }
      if (!code) {
        (*out)[*n] = cids[i];
        (*block_of)[(*n)++] = b;
      }
    }
    free(cids);
  }
  return code;
}

/* Cron for every epoch after the parent's up to and including the tipset's own (null rounds
 * included), as Lotus's ApplyBlocks runs it. */
static st_code run_cron(st_chain *c, st_ch_env *env, st_state *state, int64_t epoch, st_err *err) {
  mpz_t zero;
  mpz_init(zero);
  st_vm vm;
  st_vm_init(&vm, state, &c->net, 0, zero, epoch);
  vm.env = &env->env;
  st_code code = st_actors_cron(&vm, epoch, err);
  st_vm_clear(&vm);
  mpz_clear(zero);
  return code;
}

/* The weight counts the power the tipset was elected on: its parent state's. */
static st_code tipset_weight(st_ch_env *env, st_state *parent_state, const st_tipset *ts, mpz_t out, st_err *err) {
  st_power_state power;
  st_code code = st_actors_load_power(&env->env, parent_state, &power, err);
  if (!code) st_consensus_weight(ts->blocks[0].parent_weight, power.total_qa, ts->blocks, ts->n, out);
  st_power_state_free(&power);
  return code;
}

/* What the tipset's messages leave: the CIDs applied, their receipts, the gas they asked for. */
typedef struct applied {
  st_cid *cids;
  size_t n;
  st_buf receipts; /* the receipts' encodings, one after another */
  int64_t gas_sum; /* GasLimit of every message applied */
} applied;

static void log_exit(const st_cid *cid, int64_t height, const st_receipt *rc, const char *why) {
  char s[ST_CID_STR_MAX];
  st_cid_to_string(cid, s);
  st_logf("vm", ST_LOG_INFO, "message %s at height %lld exited %lld (%s): %s", s, (long long)height,
          (long long)rc->exit_code, st_exit_code_name(rc->exit_code), why);
}

/* One message, in the VM of the block b that carries it: applied (its receipt kept), skipped
 * (a tipset's message that cannot apply, unless strict), or the tipset fails. */
static st_code apply_message(st_chain *c, st_cs_txn *t, st_ch_env *env, st_state *state, const st_tipset *ts,
                             const st_block_header *b, const st_cid *cid, bool strict, applied *a, st_err *err) {
  st_state_actor *miner;
  st_code code = st_state_lookup(state, &b->miner, &miner, err);
  if (code) return code;
  st_vm vm;
  st_vm_init(&vm, state, &c->net, miner->id, b->parent_base_fee, ts->height);
  vm.env = &env->env;
  st_signed_message sm;
  st_signed_message_init(&sm);
  st_receipt rc;
  st_receipt_init(&rc);
  st_buf enc = ST_BUF_INIT;
  st_err why;
  code = st_ch_load_signed(t, cid, &sm, err);
  if (!code) code = st_signed_message_encode(&sm, &enc, err);
  st_code applied_code = code ? code : st_vm_apply(&vm, &sm.message, enc.len, &rc, NULL, &why);
  if (!code && applied_code == ST_EINVAL && !strict) {
    /* skipped: no receipt, no gas */
  } else if (!code && applied_code) {
    code = applied_code;
    if (err) *err = why;
  } else if (!code) {
    code = st_receipt_encode(&rc, &a->receipts, err);
    a->gas_sum += sm.message.gas_limit;
    a->cids[a->n++] = *cid;
    if (rc.exit_code && strict) log_exit(cid, ts->height, &rc, vm.why);
  }
  if (code) {
    char s[ST_CID_STR_MAX];
    st_cid_to_string(cid, s);
    st_err_wrap(err, code, "message %s", s);
  }
  st_buf_free(&enc);
  st_receipt_free(&rc);
  st_signed_message_free(&sm);
  st_vm_clear(&vm);
  return code;
}

/* The tipset's messages in order, each in its block's VM. */
static st_code apply_messages(st_chain *c, st_cs_txn *t, st_ch_env *env, st_state *state, const st_tipset *ts,
                              bool strict, applied *a, st_err *err) {
  st_cid *order = NULL;
  size_t *block_of = NULL, n = 0;
  st_code code = apply_order(t, ts, &order, &block_of, &n, err);
  if (!code && n && !(a->cids = calloc(n, sizeof *a->cids)))
    code = st_err_set(err, ST_ENOMEM, "out of memory applying a tipset");
  for (size_t i = 0; i < n && !code; i++)
    code = apply_message(c, t, env, state, ts, &ts->blocks[block_of[i]], &order[i], strict, a, err);
  free(order);
  free(block_of);
  return code;
}

/* The reward actor pays each block elected (a miner's block with an election proof). */
static st_code award_blocks(st_chain *c, st_state *state, const st_tipset *ts, st_err *err) {
  st_code code = ST_OK;
  for (size_t i = 0; i < ts->n && !code; i++) {
    st_state_actor *miner;
    if (st_state_lookup(state, &ts->blocks[i].miner, &miner, NULL) || miner->kind != ST_ACTOR_MINER ||
        !ts->blocks[i].has_election_proof)
      continue;
    mpz_t zero;
    mpz_init(zero);
    st_vm vm;
    st_vm_init(&vm, state, &c->net, miner->id, zero, ts->height);
    code = st_actors_award_block(&vm, miner->id, ts->blocks[i].win_count, err);
    st_vm_clear(&vm);
    mpz_clear(zero);
  }
  return code;
}

/* Stores the results: the state, the receipts, the list of what was applied; and the next base
 * fee. */
static st_code store_results(st_chain *c, st_cs_txn *t, const st_tipset *ts, const st_state *state, const applied *a,
                             st_tipset_exec *out, st_err *err) {
  st_buf blob = ST_BUF_INIT, receipts = ST_BUF_INIT;
  st_state_root(state, &blob, &out->state_root);
  st_code code = st_buf_status(&blob, err); /* a root over a state cut short would be another chain */
  if (!code) code = st_cs_put(t, &out->state_root, blob.data, blob.len, err);
  if (!code) {
    st_cbor_put_array(&receipts, a->n);
    st_buf_append(&receipts, a->receipts.data, a->receipts.len);
    code = st_buf_status(&receipts, err);
  }
  if (!code) code = st_ch_put_cbor(t, &receipts, &out->receipts_root, err);
  if (!code) code = st_ch_put_cid_list(t, a->cids, a->n, &out->applied_root, err);
  if (!code) st_vm_next_base_fee(&c->net, ts->blocks[0].parent_base_fee, a->gas_sum, ts->n, out->next_base_fee);
  st_buf_free(&blob);
  st_buf_free(&receipts);
  return code;
}

st_code st_ch_exec_tipset(st_chain *c, st_cs_txn *t, const st_tipset *ts, const st_tipset_exec *parent,
                          int64_t parent_height, bool strict, st_tipset_exec *out, st_err *err) {
  st_state state;
  st_state_init(&state);
  st_ch_env env;
  st_ch_env_init(&env, c, t, true);
  applied a = {.receipts = ST_BUF_INIT};
  st_code code = st_ch_env_top(&env, ts, err);
  if (!code) code = st_ch_load_state(t, &parent->state_root, &state, err);
  if (!code) code = tipset_weight(&env, &state, ts, out->weight, err);
  for (int64_t e = parent_height + 1; e < ts->height && !code; e++) code = run_cron(c, &env, &state, e, err);
  if (!code) code = apply_messages(c, t, &env, &state, ts, strict, &a, err);
  if (!code) code = award_blocks(c, &state, ts, err); /* block rewards, then cron for the tipset's own epoch */
  if (!code) code = run_cron(c, &env, &state, ts->height, err);
  if (!code) code = store_results(c, t, ts, &state, &a, out, err);
  st_buf_free(&a.receipts);
  free(a.cids);
  st_state_clear(&state);
  st_ch_env_free(&env);
  return code;
}
