/* st_vm: message checks, execution with a journal, gas and fees. */
#include "chain/st_vm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/st_cbor.h"

const char *st_exit_code_name(int64_t code) {
  switch (code) {
    case ST_EXIT_OK: return "";
    case ST_EXIT_SYS_SENDER_INVALID: return "SysErrSenderInvalid";
    case ST_EXIT_SYS_SENDER_STATE_INVALID: return "SysErrSenderStateInvalid";
    case ST_EXIT_SYS_INVALID_METHOD: return "SysErrInvalidMethod";
    case ST_EXIT_SYS_INVALID_RECEIVER: return "SysErrInvalidReceiver";
    case ST_EXIT_SYS_INSUFFICIENT_FUNDS: return "SysErrInsufficientFunds";
    case ST_EXIT_SYS_OUT_OF_GAS: return "SysErrOutOfGas";
    case ST_EXIT_ILLEGAL_ARGUMENT: return "ErrIllegalArgument";
    case ST_EXIT_NOT_FOUND: return "ErrNotFound";
    case ST_EXIT_FORBIDDEN: return "ErrForbidden";
    case ST_EXIT_INSUFFICIENT_FUNDS: return "ErrInsufficientFunds";
    case ST_EXIT_ILLEGAL_STATE: return "ErrIllegalState";
    case ST_EXIT_SERIALIZATION: return "ErrSerialization";
    default: return "unknown";
  }
}

int64_t st_vm_inclusion_gas(size_t size) { return ST_GAS_INCLUSION_BASE + ST_GAS_INCLUSION_PER_BYTE * (int64_t)size; }

void st_vm_init(st_vm *vm, st_state *state, const st_network *net, uint64_t miner, const mpz_t base_fee,
                int64_t epoch) {
  *vm = (st_vm){.state = state, .net = net, .miner = miner, .epoch = epoch};
  mpz_init_set(vm->base_fee, base_fee);
}

void st_vm_clear(st_vm *vm) { mpz_clear(vm->base_fee); }

void st_vm_fees_init(st_vm_fees *f) { mpz_inits(f->to_miner, f->burnt, f->refund, NULL); }
void st_vm_fees_clear(st_vm_fees *f) { mpz_clears(f->to_miner, f->burnt, f->refund, NULL); }

/* ---- methods ---- */

int64_t st_vm_abort(st_vm_call *c, int64_t exit, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->vm->why, sizeof c->vm->why, fmt, ap);
  va_end(ap);
  return exit;
}

void st_vm_params_init(st_vm_params *p, const st_message *m) {
  st_err_clear(&p->err);
  st_cbor_reader_init(&p->r, m->params.data, m->params.len, &p->err);
}

int64_t st_vm_bad_params(st_vm_call *c, const st_vm_params *p, const char *method) {
  if (p->err.code == ST_ENOMEM) return st_vm_fail(c, ST_ENOMEM, &p->err); /* the params may be fine */
  return st_vm_abort(c, ST_EXIT_SERIALIZATION, "%s params: %s", method, p->err.msg);
}

/* ---- checks ---- */

st_code st_vm_check_message(const st_network *net, const st_message *m, size_t size, st_err *err) {
  st_code code = st_message_check(m, err);
  if (code) return code;
  int64_t inclusion = st_vm_inclusion_gas(size);
  if (m->gas_limit < inclusion)
    return st_err_set(err, ST_EINVAL,
                      "GasLimit %lld is below the %lld gas it costs to include this message (%zu bytes)",
                      (long long)m->gas_limit, (long long)inclusion, size);
  if (m->gas_limit > net->block_gas_limit)
    return st_err_set(err, ST_EINVAL, "GasLimit %lld is above the block gas limit %lld", (long long)m->gas_limit,
                      (long long)net->block_gas_limit);
  if (mpz_cmp(m->gas_fee_cap, m->gas_premium) < 0) return st_err_set(err, ST_EINVAL, "GasFeeCap is below GasPremium");
  return ST_OK;
}

/* ---- apply ---- */

int64_t st_vm_fail(st_vm_call *c, st_code code, const st_err *err) {
  if (!c->failed) {
    c->failed = code ? code : ST_EINTERNAL;
    if (err) c->failure = *err;
    else st_err_set(&c->failure, c->failed, "%s", st_code_str(c->failed));
  }
  return ST_EXIT_ILLEGAL_STATE;
}

int64_t st_vm_error(st_vm_call *c, st_code code, const st_err *err, const char *what) {
  if (code != ST_ENOMEM && code != ST_EIO && code != ST_EINTERNAL)
    return st_vm_abort(c, ST_EXIT_ILLEGAL_STATE, "%s: %s", what, err->msg);
  st_err e = *err;
  st_err_wrap(&e, code, "%s", what);
  return st_vm_fail(c, code, &e);
}

/* Runs the message's call inside the journal; returns its exit code. */
static int64_t execute(st_vm_call *c, st_vm_method_lookup lookup) {
  st_state *s = c->vm->state;
  const st_message *m = c->msg;
  st_err err;
  c->gas += ST_GAS_CALL;
  st_state_actor *to;
  if (st_state_lookup(s, &m->to, &to, NULL)) {
    st_addr_protocol p = st_address_protocol(&m->to);
    if (p != ST_ADDR_SECP256K1 && p != ST_ADDR_BLS) return ST_EXIT_SYS_INVALID_RECEIVER;
    c->gas += ST_GAS_CREATE_ACTOR;
    st_code code = st_state_create(s, ST_STATE_NEW_ID, ST_ACTOR_ACCOUNT, &m->to, &to, &err);
    if (code) return st_vm_fail(c, code, &err);
  }
  c->to = to->id;
  if (mpz_sgn(m->value)) {
    c->gas += ST_GAS_TRANSFER;
    st_code code = st_state_transfer(s, c->from, c->to, m->value, &err);
    if (code == ST_ERANGE) return ST_EXIT_SYS_INSUFFICIENT_FUNDS;
    if (code) return st_vm_fail(c, code, &err);
  }
  if (m->method == 0) return ST_EXIT_OK;
  st_vm_method_fn fn = lookup(st_state_get(s, c->to)->kind, m->method);
  return fn ? fn(c) : ST_EXIT_SYS_INVALID_METHOD;
}

/* Lotus's over-estimation rule: of the unused gas, a share is burnt when GasLimit is more than
 * 1.1 x GasUsed. Returns the gas to burn. */
static int64_t overestimation_burn(int64_t limit, int64_t used) {
  if (used == 0) return limit;
  int64_t over = limit - (11 * used) / 10;
  if (over < 0) return 0;
  if (over > used) over = used;
  mpz_t g;
  mpz_init_set_si(g, limit - used);
  mpz_mul_si(g, g, over);
  mpz_tdiv_q_ui(g, g, (unsigned long)used);
  int64_t burn = mpz_get_si(g);
  mpz_clear(g);
  return burn;
}

static void compute_fees(const st_vm *vm, const st_message *m, int64_t used, st_vm_fees *f) {
  mpz_t cost, price, t;
  mpz_inits(cost, price, t, NULL);
  mpz_mul_si(cost, m->gas_fee_cap, m->gas_limit);
  mpz_set_ui(f->burnt, 0);
  if (!vm->net->burn_base_fee) {
    mpz_add(price, vm->base_fee, m->gas_premium);
    if (mpz_cmp(price, m->gas_fee_cap) > 0) mpz_set(price, m->gas_fee_cap);
    mpz_mul_si(f->to_miner, price, used);
  } else {
    mpz_set(price, vm->base_fee); /* the base fee actually paid */
    if (mpz_cmp(price, m->gas_fee_cap) > 0) mpz_set(price, m->gas_fee_cap);
    mpz_mul_si(f->burnt, price, used + overestimation_burn(m->gas_limit, used));
    mpz_sub(t, m->gas_fee_cap, price);
    if (mpz_cmp(t, m->gas_premium) > 0) mpz_set(t, m->gas_premium);
    mpz_mul_si(f->to_miner, t, m->gas_limit);
  }
  mpz_sub(f->refund, cost, f->to_miner);
  mpz_sub(f->refund, f->refund, f->burnt);
  mpz_clears(cost, price, t, NULL);
}

/* The checks that make a message inapplicable (ST_EINVAL, the state unchanged); then the sender
 * puts up GasLimit x GasFeeCap and its nonce moves on, whatever the call does. */
static st_code take_deposit(st_vm *vm, const st_message *m, uint64_t *from, st_err *err) {
  st_state *s = vm->state;
  char from_text[ST_ADDR_STR_MAX]; /* formatted only for an error: it costs more than a transfer */
  st_state_actor *sender;
  if (st_state_lookup(s, &m->from, &sender, NULL)) {
    st_address_text(&m->from, from_text);
    return st_err_set(err, ST_EINVAL, "sender %s does not exist", from_text);
  }
  if (sender->kind != ST_ACTOR_ACCOUNT) {
    st_address_text(&m->from, from_text);
    return st_err_set(err, ST_EINVAL, "sender %s is a %s actor, not an account", from_text,
                      st_actor_kind_name(sender->kind));
  }
  if (m->nonce != sender->nonce) {
    st_address_text(&m->from, from_text);
    return st_err_set(err, ST_EINVAL, "nonce %llu of %s is not its next nonce %llu", (unsigned long long)m->nonce,
                      from_text, (unsigned long long)sender->nonce);
  }
  if (!st_state_get(s, vm->miner))
    return st_err_set(err, ST_EINVAL, "the block's miner t0%llu does not exist", (unsigned long long)vm->miner);
  mpz_t cost;
  mpz_init(cost);
  mpz_mul_si(cost, m->gas_fee_cap, m->gas_limit);
  st_code code = ST_OK;
  if (mpz_cmp(sender->balance, cost) < 0) {
    st_address_text(&m->from, from_text);
    char *have = mpz_get_str(NULL, 10, sender->balance), *need = mpz_get_str(NULL, 10, cost);
    code = st_err_set(err, ST_EINVAL, "sender %s has %s attoFIL, less than GasLimit x GasFeeCap = %s", from_text, have,
                      need);
    free(have);
    free(need);
  } else {
    mpz_sub(sender->balance, sender->balance, cost);
    sender->nonce++;
    *from = sender->id;
  }
  mpz_clear(cost);
  return code;
}

/* Runs the call in the journal, kept only if it succeeds: its exit code, vm->why and the gas it
 * is charged (at most GasLimit). */
static int64_t run_call(st_vm_call *c, st_vm_method_lookup lookup) {
  st_vm *vm = c->vm;
  const st_message *m = c->msg;
  vm->why[0] = 0;
  st_state_mark(vm->state);
  int64_t exit = execute(c, lookup);
  if (!exit && c->gas > m->gas_limit) exit = ST_EXIT_SYS_OUT_OF_GAS;
  if (exit == ST_EXIT_SYS_OUT_OF_GAS)
    snprintf(vm->why, sizeof vm->why, "out of gas: %lld used, GasLimit %lld", (long long)c->gas,
             (long long)m->gas_limit);
  else if (exit && !vm->why[0]) snprintf(vm->why, sizeof vm->why, "%s", st_exit_code_name(exit));
  if (exit == ST_EXIT_SYS_OUT_OF_GAS || c->gas > m->gas_limit) c->gas = m->gas_limit;
  if (exit) {
    st_state_revert(vm->state);
    st_buf_reset(&c->ret);
  } else {
    st_state_commit(vm->state);
  }
  return exit;
}

/* Pays out the deposit for gas used: the refund to the sender, the miner's share, the burn. */
static st_code settle(st_vm *vm, const st_message *m, uint64_t from, int64_t gas, st_vm_fees *fees, st_err *err) {
  st_state *s = vm->state;
  st_vm_fees local;
  st_vm_fees *f = fees ? fees : &local;
  if (!fees) st_vm_fees_init(&local);
  compute_fees(vm, m, gas, f);
  /* the actors may have moved in memory: look them up again */
  mpz_add(st_state_get(s, from)->balance, st_state_get(s, from)->balance, f->refund);
  mpz_add(st_state_get(s, vm->miner)->balance, st_state_get(s, vm->miner)->balance, f->to_miner);
  st_code code = ST_OK;
  if (mpz_sgn(f->burnt)) {
    st_state_actor *burnt = st_state_get(s, ST_ID_BURNT);
    if (burnt) mpz_add(burnt->balance, burnt->balance, f->burnt);
    else code = st_err_set(err, ST_EINTERNAL, "the burnt-funds actor t099 is missing");
  }
  if (!fees) st_vm_fees_clear(&local);
  return code;
}

st_code st_vm_run(st_vm *vm, st_vm_method_lookup lookup, const st_message *m, size_t size, st_receipt *receipt,
                  st_vm_fees *fees, st_err *err) {
  uint64_t from = 0;
  st_code code = take_deposit(vm, m, &from, err);
  if (code) return code;
  st_vm_call c = {.vm = vm, .msg = m, .from = from, .gas = st_vm_inclusion_gas(size)};
  st_buf_init(&c.ret);
  int64_t exit = run_call(&c, lookup);
  if (c.failed) {
    code = c.failed;
    if (err) *err = c.failure;
  }
  if (!code) code = settle(vm, m, from, c.gas, fees, err);
  if (!code) code = st_buf_status(&c.ret, err);
  if (!code) code = st_chain_bytes_set(&receipt->ret, c.ret.data, c.ret.len, err);
  if (!code) {
    receipt->exit_code = exit;
    receipt->gas_used = c.gas;
  }
  st_buf_free(&c.ret);
  return code;
}
void st_vm_next_base_fee(const st_network *net, const mpz_t base_fee, int64_t gas_limit_sum, size_t nblocks,
                         mpz_t out) {
  int64_t target = net->block_gas_target;
  mpz_t delta, change;
  mpz_inits(delta, change, NULL);
  /* delta = gas_limit_sum x 5/4 / nblocks - target, within [-target, target] */
  if (nblocks) {
    mpz_set_si(delta, gas_limit_sum);
    mpz_mul_ui(delta, delta, 5);
    mpz_fdiv_q_ui(delta, delta, 4 * (unsigned long)nblocks);
  }
  mpz_sub_ui(delta, delta, (unsigned long)target);
  if (mpz_cmp_si(delta, target) > 0) mpz_set_si(delta, target);
  if (mpz_cmp_si(delta, -target) < 0) mpz_set_si(delta, -target);
  /* floor division, as go-state-types' big.Div (a falling fee rounds down, as in Lotus) */
  mpz_mul(change, base_fee, delta);
  mpz_fdiv_q_ui(change, change, (unsigned long)target);
  mpz_fdiv_q_ui(change, change, 8);
  mpz_add(out, base_fee, change);
  if (mpz_cmp_si(out, net->min_base_fee) < 0) mpz_set_si(out, net->min_base_fee);
  mpz_clears(delta, change, NULL);
}
