/* st_cron: what runs without a message: the reward actor's block rewards and the cron actor's
 * work at every epoch (the market's settlement, then each miner's deadline end). */
#include "chain/st_cron.h"

#include <stdlib.h>

#include "chain/st_actor_state.h"
#include "chain/st_deadline.h"
#include "chain/st_market.h"

st_code st_actors_award_block(st_vm *vm, uint64_t miner, int64_t win_count, st_err *err) {
  st_state_actor *r = st_state_get(vm->state, ST_ID_REWARD);
  if (!r || win_count <= 0) return ST_OK;
  mpz_t amount;
  mpz_init_set_si(amount, vm->net->block_reward);
  mpz_mul_si(amount, amount, win_count);
  if (mpz_cmp(amount, r->balance) > 0) mpz_set(amount, r->balance);
  st_code code = st_state_transfer(vm->state, ST_ID_REWARD, miner, amount, err);
  mpz_clear(amount);
  return code;
}

/* Takes a penalty from the miner: locked funds first, then the available balance, the rest as
 * fee debt; all of it is burnt. */
static st_code penalize(st_vm *vm, uint64_t id, st_miner_state *m, const mpz_t fee, st_err *err) {
  st_state_actor *a = st_state_get(vm->state, id);
  mpz_t from_locked, avail, paid;
  mpz_inits(from_locked, avail, paid, NULL);
  mpz_set(from_locked, fee);
  if (mpz_cmp(from_locked, m->locked_funds) > 0) mpz_set(from_locked, m->locked_funds);
  mpz_sub(m->locked_funds, m->locked_funds, from_locked);
  mpz_sub(paid, fee, from_locked); /* still owed */
  st_miner_available(m, a->balance, avail);
  if (mpz_cmp(paid, avail) > 0) {
    mpz_sub(avail, paid, avail);
    mpz_add(m->fee_debt, m->fee_debt, avail);
    mpz_sub(paid, paid, avail);
  }
  mpz_add(paid, paid, from_locked);
  st_code code = st_actors_burn(vm, id, paid, err);
  mpz_clears(from_locked, avail, paid, NULL);
  return code;
}

/* Removes sectors from their partition as terminated; pledge is released (expired) or burnt. */
static st_code terminate(st_vm *vm, uint64_t id, st_miner_state *m, st_partition *pt, const st_bitfield *sectors,
                         bool burn_pledge, st_err *err) {
  st_code code = ST_OK;
  st_bitfield_iter it;
  uint64_t n;
  mpz_t total;
  mpz_init(total);
  st_bitfield deals = ST_BITFIELD_INIT;
  st_bitfield_iter_init(&it, sectors);
  while (st_bitfield_iter_next(&it, &n) && !code) {
    st_sector_onchain *s = st_miner_sector(m, n);
    if (!s) continue;
    mpz_add(total, total, s->initial_pledge);
    if (burn_pledge) code = st_bitfield_union(&deals, &s->deals, &deals, err); /* ended early: its deals are slashed */
    st_miner_remove_sector(m, n);
  }
  if (!code) code = st_market_sectors_terminated(vm, id, &deals, vm->epoch, err);
  st_bitfield_free(&deals);
  if (mpz_cmp(total, m->locked_funds) > 0) mpz_set(total, m->locked_funds);
  mpz_sub(m->locked_funds, m->locked_funds, total);
  if (burn_pledge && !code) code = st_actors_burn(vm, id, total, err);
  if (!code) code = st_bitfield_union(&pt->terminated, sectors, &pt->terminated, err);
  if (!code) code = st_bitfield_subtract(&pt->faults, sectors, &pt->faults, err);
  if (!code) code = st_bitfield_subtract(&pt->recoveries, sectors, &pt->recoveries, err);
  mpz_clear(total);
  return code;
}

/* One partition at its deadline's end. Missed (no post this period): every live sector is
 * faulty, and declared recoveries lapse. Then sectors faulty too long are terminated, and expired
 * ones removed; *faulty counts the faults left. */
static st_code end_partition(st_vm *vm, uint64_t id, st_miner_state *m, st_deadline_state *dl, size_t p, int64_t epoch,
                             uint64_t *faulty, st_err *err) {
  st_partition *pt = &dl->partitions[p];
  st_bitfield live = ST_BITFIELD_INIT, x = ST_BITFIELD_INIT, old = ST_BITFIELD_INIT, expired = ST_BITFIELD_INIT;
  st_code code = st_bitfield_subtract(&pt->sectors, &pt->terminated, &live, err);
  if (code || !st_bitfield_count(&live)) {
    st_bitfield_free(&live);
    return code;
  }
  if (!st_bitfield_has(&dl->post_submissions, p)) {
    code = st_bitfield_subtract(&live, &pt->faults, &x, err);
    if (!code) st_miner_mark_faulty(m, &x, epoch);
    if (!code) code = st_bitfield_union(&pt->faults, &live, &pt->faults, err);
    st_bitfield_clear(&pt->recoveries);
  }
  st_bitfield_iter it;
  uint64_t n;
  st_bitfield_iter_init(&it, &live);
  while (!code && st_bitfield_iter_next(&it, &n)) {
    st_sector_onchain *s = st_miner_sector(m, n);
    if (!s) continue;
    if (s->fault_epoch >= 0 && epoch - s->fault_epoch >= vm->net->fault_max_age) code = st_bitfield_set(&old, n, err);
    else if (s->expiration <= epoch) code = st_bitfield_set(&expired, n, err);
  }
  if (!code && st_bitfield_count(&old)) code = terminate(vm, id, m, pt, &old, true, err);
  if (!code && st_bitfield_count(&expired)) code = terminate(vm, id, m, pt, &expired, false, err);
  if (!code) code = st_bitfield_subtract(&pt->faults, &pt->terminated, &x, err);
  if (!code) *faulty += st_bitfield_count(&x);
  st_bitfield_free(&live);
  st_bitfield_free(&x);
  st_bitfield_free(&old);
  st_bitfield_free(&expired);
  return code;
}

/* A deadline's end: each partition (end_partition), then the fault fee for the faults left. */
static st_code end_deadline(st_vm *vm, uint64_t id, st_miner_state *m, uint64_t idx, int64_t epoch, st_err *err) {
  st_deadline_state *dl = &m->deadlines[idx];
  uint64_t faulty = 0;
  st_code code = ST_OK;
  for (size_t p = 0; p < dl->npartitions && !code; p++) code = end_partition(vm, id, m, dl, p, epoch, &faulty, err);
  st_bitfield_clear(&dl->post_submissions);
  if (!code && faulty && vm->net->fault_fee) {
    mpz_t fee;
    mpz_init_set_si(fee, vm->net->fault_fee);
    mpz_mul_ui(fee, fee, (unsigned long)faulty);
    code = penalize(vm, id, m, fee, err);
    mpz_clear(fee);
  }
  return code;
}

/* Pre-commits not proven in time lose their deposit. */
static st_code expire_precommits(st_vm *vm, uint64_t id, st_miner_state *m, int64_t epoch, st_err *err) {
  mpz_t total;
  mpz_init(total);
  for (size_t i = 0; i < m->nprecommits;) {
    st_precommit *p = &m->precommits[i];
    if (p->precommit_epoch + vm->net->max_prove_commit_duration < epoch) {
      mpz_add(total, total, p->deposit);
      st_miner_remove_precommit(m, p->number);
    } else {
      i++;
    }
  }
  if (mpz_cmp(total, m->precommit_deposits) > 0) mpz_set(total, m->precommit_deposits);
  mpz_sub(m->precommit_deposits, m->precommit_deposits, total);
  st_code code = st_actors_burn(vm, id, total, err);
  mpz_clear(total);
  return code;
}

st_code st_actors_cron(st_vm *vm, int64_t epoch, st_err *err) {
  if (!vm->env) return ST_OK;
  st_code code = st_market_cron(vm, epoch, err);
  if (code) return code;
  /* collect the miners first: terminating and burning changes the actor array */
  uint64_t *ids = NULL;
  size_t n = 0;
  for (size_t i = 0; i < vm->state->n; i++)
    if (vm->state->actors[i].kind == ST_ACTOR_MINER) {
      uint64_t *g = realloc(ids, (n + 1) * sizeof *g);
      if (!g) {
        free(ids);
        return st_err_set(err, ST_ENOMEM, "out of memory in cron");
      }
      ids = g;
      ids[n++] = vm->state->actors[i].id;
    }
  for (size_t i = 0; i < n && !code; i++) {
    st_miner_state m;
    code = st_actors_load_miner(vm->env, vm->state, ids[i], &m, err);
    st_deadline_info di;
    if (!code) st_actors_current_deadline(vm->net, &m, epoch, &di);
    bool ends = !code && di.index < (uint64_t)vm->net->deadlines && epoch == st_deadline_last(&di);
    bool worker = !code && m.pending_worker && epoch >= m.pending_worker_epoch;
    if (!code && (ends || worker)) {
      if (worker) {
        m.worker = m.pending_worker;
        m.pending_worker = 0;
        m.pending_worker_epoch = 0;
      }
      if (ends) code = end_deadline(vm, ids[i], &m, di.index, epoch, err);
      if (!code && ends) code = expire_precommits(vm, ids[i], &m, epoch, err);
      if (!code && ends && di.index == (uint64_t)vm->net->deadlines - 1)
        m.proving_period_start += vm->net->proving_period;
      if (!code) code = st_actors_save_miner(vm, ids[i], &m, NULL, err);
      if (!code && ends) code = st_actors_update_claim(vm, ids[i], &m, NULL, err);
    }
    st_miner_state_free(&m);
    if (code) st_err_wrap(err, code, "cron at epoch %lld, miner t0%llu", (long long)epoch, (unsigned long long)ids[i]);
  }
  free(ids);
  return code;
}
