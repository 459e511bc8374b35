/* st_actor_state: actor state objects through the VM's environment. */
#include "chain/st_actor_state.h"

#include <stdio.h>

#include "chain/st_rand.h"

static st_code load_object(const st_vm_env *env, const st_cid *cid, st_buf *out, st_err *err) {
  if (!env) return st_err_set(err, ST_EINVAL, "no state store: the actors need the chain's environment");
  return env->get(env->ctx, cid, out, err);
}

st_code st_actors_load(const st_vm_env *env, st_state *s, uint64_t id,
                       st_code (*decode)(const uint8_t *p, size_t len, void *out, st_err *err), void *out,
                       st_err *err) {
  st_state_actor *a = st_state_get(s, id);
  if (!a) return st_err_set(err, ST_ENOENT, "actor t0%llu is missing", (unsigned long long)id);
  static const uint8_t EMPTY[] = {0x80}; /* genesis: the empty list */
  st_cid e;
  st_cid_of_cbor(EMPTY, sizeof EMPTY, &e);
  if (st_cid_equal(&a->head, &e)) return ST_OK;
  st_buf b = ST_BUF_INIT;
  st_code code = load_object(env, &a->head, &b, err);
  if (!code) code = decode(b.data, b.len, out, err);
  st_buf_free(&b);
  return code;
}

st_code st_actors_store_head(st_vm *vm, uint64_t id, const st_buf *b, int64_t *gas, st_err *err) {
  st_code code = st_buf_status(b, err);
  st_cid cid;
  if (!code) {
    st_cid_of_cbor(b->data, b->len, &cid);
    code = vm->env->put(vm->env->ctx, &cid, b->data, b->len, err);
  }
  st_state_actor *a = st_state_get(vm->state, id);
  if (!code && !a) code = st_err_set(err, ST_ENOENT, "actor t0%llu vanished", (unsigned long long)id);
  if (!code) code = st_state_touch(vm->state, a, err);
  if (!code) a->head = cid;
  if (gas) *gas += ST_GAS_STATE_WRITE_PER_BYTE * (int64_t)b->len;
  return code;
}

st_code st_actors_store(st_vm *vm, uint64_t id, void (*encode)(const void *obj, st_buf *out), const void *obj,
                        int64_t *gas, st_err *err) {
  st_buf b = ST_BUF_INIT;
  encode(obj, &b);
  st_code code = st_actors_store_head(vm, id, &b, gas, err);
  st_buf_free(&b);
  return code;
}

st_code st_actors_load_miner(const st_vm_env *env, st_state *s, uint64_t miner, st_miner_state *out, st_err *err) {
  st_state_actor *a = st_state_get(s, miner);
  if (!a || a->kind != ST_ACTOR_MINER) {
    st_miner_state_init(out, 0, NULL);
    return st_err_set(err, ST_ENOENT, "t0%llu is not a miner", (unsigned long long)miner);
  }
  st_buf b = ST_BUF_INIT;
  st_code code = load_object(env, &a->head, &b, err);
  if (code) st_miner_state_init(out, 0, NULL);
  else code = st_miner_state_decode(b.data, b.len, out, err);
  st_buf_free(&b);
  return code;
}

static st_code decode_power(const uint8_t *p, size_t len, void *out, st_err *err) {
  return st_power_state_decode(p, len, out, err);
}

st_code st_actors_load_power(const st_vm_env *env, st_state *s, st_power_state *out, st_err *err) {
  st_power_state_init(out); /* genesis: no claims yet */
  return st_actors_load(env, s, ST_ID_POWER, decode_power, out, err);
}

static void encode_miner(const void *m, st_buf *out) { st_miner_state_encode(m, out); }
static void encode_power(const void *p, st_buf *out) { st_power_state_encode(p, out); }

st_code st_actors_save_miner(st_vm *vm, uint64_t id, const st_miner_state *m, int64_t *gas, st_err *err) {
  return st_actors_store(vm, id, encode_miner, m, gas, err);
}

st_code st_actors_save_power(st_vm *vm, const st_power_state *p, int64_t *gas, st_err *err) {
  return st_actors_store(vm, ST_ID_POWER, encode_power, p, gas, err);
}

st_code st_actors_update_claim(st_vm *vm, uint64_t id, const st_miner_state *m, int64_t *gas, st_err *err) {
  st_power_state p;
  st_code code = st_actors_load_power(vm->env, vm->state, &p, err);
  mpz_t raw, qa;
  mpz_inits(raw, qa, NULL);
  if (!code) code = st_miner_power(m, raw, qa, err);
  if (!code) code = st_power_set_claim(&p, id, raw, qa, vm->net->consensus_min_power, err);
  if (!code) code = st_actors_save_power(vm, &p, gas, err);
  mpz_clears(raw, qa, NULL);
  st_power_state_free(&p);
  return code;
}

st_code st_actors_burn(st_vm *vm, uint64_t from, const mpz_t amount, st_err *err) {
  return mpz_sgn(amount) > 0 ? st_state_transfer(vm->state, from, ST_ID_BURNT, amount, err) : ST_OK;
}

void st_actors_current_deadline(const st_network *net, const st_miner_state *m, int64_t epoch, st_deadline_info *out) {
  st_deadline_policy p;
  st_deadline_policy_of(net, &p);
  int64_t since = epoch - m->proving_period_start;
  uint64_t idx = since < 0 ? 0 : (uint64_t)(since / p.challenge_window);
  if (idx > (uint64_t)p.deadlines) idx = (uint64_t)p.deadlines;
  st_deadline_new(&p, m->proving_period_start, idx, epoch, out);
}

/* ---- for the actors' methods ---- */

st_code st_actors_randomness(st_vm *vm, bool beacon, int64_t dst, int64_t round, uint64_t miner, uint8_t out[32],
                             st_err *err) {
  st_buf e = ST_BUF_INIT;
  if (miner) st_rand_entropy_id(miner, &e);
  st_code code = st_buf_status(&e, err);
  if (!code) code = vm->env->randomness(vm->env->ctx, beacon, dst, round, e.data, e.len, out, err);
  st_buf_free(&e);
  return code;
}

int64_t st_actors_load_call(st_vm_call *c, st_miner_call *mc) {
  st_err err;
  if (!c->vm->env) return st_vm_abort(c, ST_EXIT_ILLEGAL_STATE, "no state store");
  c->gas += ST_GAS_STATE_LOAD;
  st_code code = st_actors_load_miner(c->vm->env, c->vm->state, c->to, &mc->m, &err);
  if (code) {
    st_miner_state_free(&mc->m);
    char what[64];
    snprintf(what, sizeof what, "loading miner t0%llu", (unsigned long long)c->to);
    return st_vm_error(c, code, &err, what);
  }
  mc->loaded = true;
  return ST_EXIT_OK;
}

int64_t st_actors_require_caller(st_vm_call *c, const st_miner_state *m, bool worker_ok, const char *method) {
  if (c->from == m->owner || (worker_ok && c->from == m->worker)) return ST_EXIT_OK;
  return st_vm_abort(c, ST_EXIT_FORBIDDEN, "%s: caller t0%llu is not the miner's %s", method,
                     (unsigned long long)c->from, worker_ok ? "owner or worker" : "owner");
}

int64_t st_actors_commit_miner(st_vm_call *c, const st_miner_state *m, bool power_changed) {
  st_err err;
  st_code code = st_actors_save_miner(c->vm, c->to, m, &c->gas, &err);
  if (!code && power_changed) code = st_actors_update_claim(c->vm, c->to, m, &c->gas, &err);
  if (!code) return ST_EXIT_OK;
  char what[64];
  snprintf(what, sizeof what, "storing miner t0%llu", (unsigned long long)c->to);
  return st_vm_error(c, code, &err, what);
}
