/* st_chain_state: reads through the VM's environment at a tipset: actor state, randomness, a
 * message called without keeping its effects, and the base a miner needs to try a round. Part
 * of st_chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/st_actor_state.h"
#include "chain/st_chain_int.h"
#include "chain/st_consensus.h"
#include "chain/st_methods.h"

/* A read at key (NULL: the head) with the VM's environment over it: fn runs with the state
 * after key and the tipset of key as the top. */
typedef struct env_read env_read;
typedef st_code (*env_read_fn)(env_read *r, st_ch_env *env, st_state *state, st_err *err);

struct env_read {
  st_chain *c;
  const st_tipset_key *key;
  env_read_fn fn;
  const st_tipset *top;
  /* arguments and results */
  uint64_t id;
  void *obj;
  bool beacon;
  int64_t dst, round;
  const uint8_t *entropy;
  size_t elen;
  uint8_t *out;
  const st_message *msg;
  size_t size;
  st_receipt *rc;
  char *why;
  st_base_info *info;
  int64_t *height;
};

static st_code rd_env(st_cs_txn *t, void *v, st_err *err) {
  env_read *r = v;
  st_tipset top;
  st_tipset_init(&top);
  st_state state;
  st_state_init(&state);
  st_ch_record rec;
  st_ch_record_init(&rec);
  st_ch_env env;
  st_ch_env_init(&env, r->c, t, false);
  st_code code = st_ch_load_at(t, r->key, &top, &rec, &state, err);
  if (!code) code = st_ch_env_top(&env, &top, err);
  r->top = &top;
  if (!code) code = r->fn(r, &env, &state, err);
  r->top = NULL;
  st_ch_env_free(&env);
  st_ch_record_free(&rec);
  st_state_clear(&state);
  st_tipset_free(&top);
  return code;
}

static st_code env_read_run(st_chain *c, env_read *r, st_err *err) {
  r->c = c;
  return st_ch_read(c, rd_env, r, err);
}

/* ---- actor state ---- */

/* Each loader initialises its out: the state, or empty on failure (st_actor_state.h,
 * st_market.h); the callers initialise it first for a read that fails before it runs. */
static st_code do_miner(env_read *r, st_ch_env *env, st_state *state, st_err *err) {
  return st_actors_load_miner(&env->env, state, r->id, r->obj, err);
}
static st_code do_power(env_read *r, st_ch_env *env, st_state *state, st_err *err) {
  return st_actors_load_power(&env->env, state, r->obj, err);
}
static st_code do_market(env_read *r, st_ch_env *env, st_state *state, st_err *err) {
  return st_market_load(&env->env, state, r->obj, err);
}
static st_code do_verifreg(env_read *r, st_ch_env *env, st_state *state, st_err *err) {
  return st_verifreg_load(&env->env, state, r->obj, err);
}

static st_code read_actor(st_chain *c, const st_tipset_key *key, env_read_fn fn, uint64_t id, void *out, st_err *err) {
  env_read r = {.key = key, .fn = fn, .id = id, .obj = out};
  return env_read_run(c, &r, err);
}

st_code st_chain_miner_state(st_chain *c, const st_tipset_key *key, uint64_t id, st_miner_state *out, st_err *err) {
  st_miner_state_init(out, 0, NULL); /* no deadlines: it cannot fail */
  return read_actor(c, key, do_miner, id, out, err);
}

st_code st_chain_power_state(st_chain *c, const st_tipset_key *key, st_power_state *out, st_err *err) {
  st_power_state_init(out);
  return read_actor(c, key, do_power, 0, out, err);
}

st_code st_chain_market_state(st_chain *c, const st_tipset_key *key, st_market_state *out, st_err *err) {
  st_market_state_init(out);
  return read_actor(c, key, do_market, 0, out, err);
}

st_code st_chain_verifreg_state(st_chain *c, const st_tipset_key *key, st_verifreg_state *out, st_err *err) {
  st_verifreg_state_init(out);
  return read_actor(c, key, do_verifreg, 0, out, err);
}

/* ---- randomness and calls ---- */

static st_code do_rand(env_read *r, st_ch_env *env, st_state *state, st_err *err) {
  (void)state;
  return st_ch_env_randomness(env, r->beacon, r->dst, r->round, r->entropy, r->elen, r->out, err);
}

st_code st_chain_randomness(st_chain *c, const st_tipset_key *key, bool beacon, int64_t dst, int64_t round,
                            const uint8_t *entropy, size_t elen, uint8_t out[32], st_err *err) {
  env_read r = {.key = key,
                .fn = do_rand,
                .beacon = beacon,
                .dst = dst,
                .round = round,
                .entropy = entropy,
                .elen = elen,
                .out = out};
  st_code code = env_read_run(c, &r, err);
  if (code) memset(out, 0, 32);
  return code;
}

static st_code do_call(env_read *r, st_ch_env *env, st_state *state, st_err *err) {
  st_state_actor *sender;
  if (st_state_lookup(state, &r->msg->from, &sender, NULL)) return st_err_set(err, ST_EINVAL, "sender not found");
  mpz_t zero;
  mpz_init(zero);
  st_vm vm;
  st_vm_init(&vm, state, &r->c->net, sender->id, zero, r->top->height + 1);
  vm.env = &env->env;
  st_code code = st_vm_apply(&vm, r->msg, r->size, r->rc, NULL, err);
  snprintf(r->why, ST_ERR_MSG_MAX, "%s", vm.why);
  st_vm_clear(&vm);
  mpz_clear(zero);
  return code;
}

st_code st_chain_call(st_chain *c, const st_tipset_key *key, const st_message *m, size_t size, st_receipt *rc,
                      char why[ST_ERR_MSG_MAX], st_err *err) {
  why[0] = 0;
  env_read r = {.key = key, .fn = do_call, .msg = m, .size = size, .rc = rc, .why = why};
  return env_read_run(c, &r, err);
}

/* ---- bootstrap blocks ---- */

static st_code do_bootstrap(env_read *r, st_ch_env *env, st_state *state, st_err *err) {
  (void)state;
  st_state lb;
  st_state_init(&lb);
  *r->height = r->top->height;
  st_code code = st_ch_state_at(env, r->round - r->c->net.election_lookback, &lb, err);
  if (!code) code = st_consensus_bootstrap_allowed(&env->env, &lb, r->obj, err);
  st_state_clear(&lb);
  return code;
}

st_code st_chain_bootstrap_allowed(st_chain *c, int64_t round, bool *allowed, int64_t *head_height, st_err *err) {
  *allowed = false;
  *head_height = 0;
  env_read r = {.fn = do_bootstrap, .round = round, .obj = allowed, .height = head_height};
  st_code code = env_read_run(c, &r, err);
  if (code) *allowed = false, *head_height = 0;
  return code;
}

/* ---- a miner's base ---- */

void st_base_info_init(st_base_info *b) {
  memset(b, 0, sizeof *b);
  mpz_inits(b->miner_power, b->network_power, NULL);
  st_tipset_key_init(&b->parent);
}

void st_base_info_free(st_base_info *b) {
  mpz_clears(b->miner_power, b->network_power, NULL);
  free(b->sectors);
  free(b->comm_r);
  st_chain_bytes_free(&b->parent_ticket);
  st_tipset_key_free(&b->parent);
  memset(b, 0, sizeof *b);
}

/* The power at the lookback state lb: the miner's, the network's, and whether it may win. */
static st_code base_power(env_read *r, st_ch_env *env, st_state *lb, bool at_lookback, st_base_info *bi, st_err *err) {
  st_power_state p;
  st_code code = st_actors_load_power(&env->env, lb, &p, err);
  st_power_claim *claim = code ? NULL : st_power_claim_of(&p, r->id);
  if (claim) mpz_set(bi->miner_power, claim->qa);
  if (!code) mpz_set(bi->network_power, p.total_qa);
  bi->eligible = !code && at_lookback && st_power_eligible(&p, r->id, r->c->net.consensus_min_power);
  st_power_state_free(&p);
  return code;
}

/* The sectors WinningPoSt challenges: the miner's active sectors at the lookback (lm). */
static st_code base_sectors(const st_miner_state *lm, st_base_info *bi, st_err *err) {
  st_code code = st_consensus_active_sectors(lm, &bi->sectors, &bi->nsectors, err);
  if (!code && bi->nsectors && !(bi->comm_r = calloc(bi->nsectors, sizeof *bi->comm_r)))
    code = st_err_set(err, ST_ENOMEM, "out of memory");
  for (size_t i = 0; !code && i < bi->nsectors; i++) {
    st_sector_onchain *s = st_miner_sector((st_miner_state *)lm, bi->sectors[i]);
    if (s) memcpy(bi->comm_r[i], s->sealed_cid.digest, 32);
  }
  return code;
}

static st_code do_base_info(env_read *r, st_ch_env *env, st_state *state, st_err *err) {
  if (r->round <= r->top->height) /* before anything is loaded: nothing to free */
    return st_err_set(err, ST_EINVAL, "round %lld is not above the base tipset's height %lld", (long long)r->round,
                      (long long)r->top->height);
  st_base_info *bi = r->info;
  st_state lb;
  st_state_init(&lb);
  st_miner_state m, lm;
  st_code code = st_actors_load_miner(&env->env, state, r->id, &m, err);
  if (!code) code = st_ch_state_at(env, r->round - r->c->net.election_lookback, &lb, err);
  bool at_lookback = false; /* a miner then */
  if (!code) at_lookback = !st_actors_load_miner(&env->env, &lb, r->id, &lm, NULL);
  else st_miner_state_init(&lm, 0, NULL);
  if (!code) code = base_power(r, env, &lb, at_lookback, bi, err);
  bi->worker = m.worker;
  bi->sector_size = m.sector_size;
  st_state_actor *w = st_state_get(state, m.worker);
  if (w) bi->worker_key = w->robust;
  if (!code && at_lookback) code = base_sectors(&lm, bi, err);
  bi->parent_height = r->top->height;
  if (!code)
    code = st_chain_bytes_set(&bi->parent_ticket, r->top->blocks[0].ticket_vrf_proof.data,
                              r->top->blocks[0].ticket_vrf_proof.len, err);
  if (!code) code = st_tipset_key_set(&bi->parent, r->top->key.cids, r->top->key.n, err);
  st_miner_state_free(&lm);
  st_miner_state_free(&m);
  st_state_clear(&lb);
  return code;
}

st_code st_chain_base_info(st_chain *c, const st_tipset_key *key, uint64_t miner, int64_t round, st_base_info *out,
                           st_err *err) {
  st_base_info_init(out);
  env_read r = {.key = key, .fn = do_base_info, .id = miner, .round = round, .info = out};
  st_code code = env_read_run(c, &r, err);
  if (code) {
    st_base_info_free(out);
    st_base_info_init(out);
  }
  return code;
}
