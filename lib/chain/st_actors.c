/* st_actors: the power and miner actors' methods over st_miner_state. */
#include "chain/st_actors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/st_actor_state.h"
#include "chain/st_deadline.h"
#include "chain/st_market.h"
#include "chain/st_rand.h"
#include "codec/st_cbor.h"
#include "codec/st_token.h"
#include "core/st_endian.h"
#include "proofs/st_commp.h"
#include "proofs/st_porep.h"
#include "proofs/st_sector.h"

/* ---------------------------------------------------------------- helpers */

static void available_balance(st_vm_call *c, const st_miner_state *m, mpz_t out) {
  st_miner_available(m, st_state_get(c->vm->state, c->to)->balance, out);
}

/* ---------------------------------------------------------------- power.CreateMiner */

/* A secp256k1 account for a worker (it signs blocks and VRF tickets). */
static int64_t resolve_account(st_vm_call *c, const st_address *a, bool secp, const char *what, uint64_t *id) {
  st_state_actor *x;
  char text[ST_ADDR_STR_MAX];
  st_address_text(a, text);
  if (st_state_lookup(c->vm->state, a, &x, NULL))
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s %s has no actor", what, text);
  if (x->kind != ST_ACTOR_ACCOUNT)
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s %s is not an account", what, text);
  if (secp && st_address_protocol(&x->robust) != ST_ADDR_SECP256K1)
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT,
                       "%s %s must be a secp256k1 (t1) account: it signs blocks and election tickets", what, text);
  *id = x->id;
  return ST_EXIT_OK;
}

/* The new miner's state, and its zero claim in the power actor. */
static st_code new_miner(st_vm *vm, uint64_t id, const st_address *id_addr, uint64_t owner, uint64_t worker,
                         uint64_t sector_size, int64_t proof, const uint8_t *peer, size_t npeer, int64_t *gas,
                         st_err *err) {
  st_miner_state m;
  st_power_state p;
  st_code code = st_miner_state_init(&m, (size_t)vm->net->deadlines, err);
  if (!code) {
    m.owner = owner;
    m.worker = worker;
    m.sector_size = sector_size;
    m.window_post_proof = proof;
    st_buf_append(&m.peer_id, peer, npeer);
    code = st_buf_status(&m.peer_id, err);
    int64_t offset = st_proving_period_offset(id_addr, vm->epoch, vm->net->proving_period);
    m.proving_period_start = st_quantize_down(vm->epoch, vm->net->proving_period, offset);
  }
  if (!code) code = st_actors_save_miner(vm, id, &m, gas, err);
  if (!code) code = st_actors_load_power(vm->env, vm->state, &p, err);
  else st_power_state_init(&p);
  if (!code) code = st_power_add_miner(&p, id, err);
  if (!code) code = st_actors_save_power(vm, &p, gas, err);
  st_power_state_free(&p);
  st_miner_state_free(&m);
  return code;
}

int64_t st_power_create_miner(st_vm_call *c) {
  st_vm *vm = c->vm;
  if (!vm->env) return st_vm_abort(c, ST_EXIT_ILLEGAL_STATE, "no state store");
  st_vm_params rd;
  st_vm_params_init(&rd, c->msg);
  st_address owner, worker;
  int64_t proof = 0;
  const uint8_t *peer = NULL;
  size_t npeer = 0;
  uint64_t naddrs = 0;
  st_code code = st_cbor_expect_array(&rd.r, 5, "CreateMinerParams");
  if (!code) code = st_address_read(&rd.r, &owner);
  if (!code) code = st_address_read(&rd.r, &worker);
  if (!code) code = st_cbor_read_int(&rd.r, &proof);
  if (!code) code = st_cbor_read_bytes(&rd.r, &peer, &npeer);
  if (!code) code = st_cbor_read_array(&rd.r, &naddrs);
  for (uint64_t i = 0; i < naddrs && !code; i++) code = st_cbor_skip(&rd.r);
  if (!code) code = st_cbor_finish(&rd.r);
  if (code) return st_vm_bad_params(c, &rd, "CreateMiner");
  const st_sector_info *info = st_sector_by_window_proof((int)proof);
  if (!info)
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT,
                       "CreateMiner: WindowPoStProofType %lld is not a window PoSt proof (10..14)", (long long)proof);
  if ((int64_t)info->size < vm->net->min_sector_size || (int64_t)info->size > vm->net->max_sector_size)
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT,
                       "CreateMiner: %s sectors are not allowed on this network (%lld..%lld bytes)", info->name,
                       (long long)vm->net->min_sector_size, (long long)vm->net->max_sector_size);
  uint64_t owner_id, worker_id;
  int64_t exit = resolve_account(c, &owner, false, "owner", &owner_id);
  if (!exit) exit = resolve_account(c, &worker, true, "worker", &worker_id);
  if (exit) return exit;
  /* the miner's robust address: an actor address from the creator and its nonce, as Filecoin's */
  st_state_actor *creator = st_state_get(vm->state, c->from);
  uint8_t seed[ST_ADDR_MAX_BYTES + 8];
  memcpy(seed, creator->robust.bytes, creator->robust.len);
  st_be64_put(seed + creator->robust.len, c->msg->nonce);
  st_address robust;
  st_address_from_actor_data(seed, creator->robust.len + 8, &robust);
  st_err err;
  st_state_actor *a;
  code = st_state_create(vm->state, ST_STATE_NEW_ID, ST_ACTOR_MINER, &robust, &a, &err);
  if (code) return st_vm_error(c, code, &err, "CreateMiner");
  uint64_t id = a->id;
  c->gas += ST_GAS_CREATE_ACTOR;
  if (mpz_sgn(c->msg->value) && (code = st_state_transfer(vm->state, c->to, id, c->msg->value, &err)))
    return st_vm_error(c, code, &err, "CreateMiner");
  st_address id_addr;
  code = st_address_from_id(id, &id_addr, &err);
  if (!code) code = new_miner(vm, id, &id_addr, owner_id, worker_id, info->size, proof, peer, npeer, &c->gas, &err);
  if (code) return st_vm_error(c, code, &err, "CreateMiner");
  /* CreateMinerReturn: [IDAddress, RobustAddress] */
  st_cbor_put_array(&c->ret, 2);
  st_cbor_put_bytes(&c->ret, id_addr.bytes, id_addr.len);
  st_cbor_put_bytes(&c->ret, robust.bytes, robust.len);
  return ST_EXIT_OK;
}

/* ---------------------------------------------------------------- miner: info and funds */

int64_t st_miner_control_addresses(st_vm_call *c) {
  st_miner_call mc = {0};
  int64_t exit = st_actors_load_call(c, &mc);
  if (exit) return exit;
  st_address o, w;
  st_err err;
  st_code code = st_address_from_id(mc.m.owner, &o, &err);
  if (!code) code = st_address_from_id(mc.m.worker, &w, &err);
  if (code) exit = st_vm_error(c, code, &err, "ControlAddresses");
  else {
    st_cbor_put_array(&c->ret, 3);
    st_cbor_put_bytes(&c->ret, o.bytes, o.len);
    st_cbor_put_bytes(&c->ret, w.bytes, w.len);
    st_cbor_put_array(&c->ret, 0);
  }
  st_miner_state_free(&mc.m);
  return exit;
}

int64_t st_miner_change_worker_address(st_vm_call *c) {
  st_vm_params rd;
  st_vm_params_init(&rd, c->msg);
  st_address worker;
  uint64_t ncontrol = 0;
  st_code code = st_cbor_expect_array(&rd.r, 2, "ChangeWorkerAddressParams");
  if (!code) code = st_address_read(&rd.r, &worker);
  if (!code) code = st_cbor_read_array(&rd.r, &ncontrol);
  for (uint64_t i = 0; i < ncontrol && !code; i++) code = st_cbor_skip(&rd.r);
  if (!code) code = st_cbor_finish(&rd.r);
  if (code) return st_vm_bad_params(c, &rd, "ChangeWorkerAddress");
  st_miner_call mc = {0};
  int64_t exit = st_actors_load_call(c, &mc);
  if (exit) return exit;
  uint64_t id = 0;
  exit = st_actors_require_caller(c, &mc.m, false, "ChangeWorkerAddress");
  if (!exit) exit = resolve_account(c, &worker, true, "new worker", &id);
  if (!exit) {
    /* the new key elects only once the election's lookback state knows it */
    mc.m.pending_worker = id == mc.m.worker ? 0 : id;
    mc.m.pending_worker_epoch = id == mc.m.worker ? 0 : c->vm->epoch + c->vm->net->election_lookback + 1;
    exit = st_actors_commit_miner(c, &mc.m, false);
  }
  st_miner_state_free(&mc.m);
  return exit;
}

int64_t st_miner_withdraw_balance(st_vm_call *c) {
  st_vm_params rd;
  st_vm_params_init(&rd, c->msg);
  mpz_t want, avail;
  mpz_inits(want, avail, NULL);
  st_code code = st_cbor_expect_array(&rd.r, 1, "WithdrawBalanceParams");
  if (!code) code = st_cbor_read_bigint(&rd.r, want);
  if (!code) code = st_cbor_finish(&rd.r);
  int64_t exit = code ? st_vm_bad_params(c, &rd, "WithdrawBalance") : ST_EXIT_OK;
  if (!exit && mpz_sgn(want) < 0)
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "WithdrawBalance: negative amount requested");
  st_miner_call mc = {0};
  if (!exit) exit = st_actors_load_call(c, &mc);
  if (!exit) exit = st_actors_require_caller(c, &mc.m, false, "WithdrawBalance");
  st_err err;
  if (!exit) {
    available_balance(c, &mc.m, avail);
    if (mpz_cmp(want, avail) > 0) mpz_set(want, avail);
    if ((code = st_state_transfer(c->vm->state, c->to, mc.m.owner, want, &err)))
      exit = st_vm_error(c, code, &err, "WithdrawBalance");
  }
  if (!exit) st_cbor_put_bigint(&c->ret, want);
  if (mc.loaded) st_miner_state_free(&mc.m);
  mpz_clears(want, avail, NULL);
  return exit;
}

int64_t st_miner_change_multiaddrs(st_vm_call *c) {
  st_vm_params rd;
  st_vm_params_init(&rd, c->msg);
  uint64_t n = 0;
  st_code code = st_cbor_expect_array(&rd.r, 1, "ChangeMultiaddrsParams");
  if (!code) code = st_cbor_read_array(&rd.r, &n);
  if (!code && n > ST_MINER_MAX_MULTIADDRS)
    code =
        st_err_set(&rd.err, ST_EINVAL, "%llu multiaddrs: at most %d", (unsigned long long)n, ST_MINER_MAX_MULTIADDRS);
  const uint8_t *addrs[ST_MINER_MAX_MULTIADDRS];
  size_t lens[ST_MINER_MAX_MULTIADDRS];
  for (uint64_t i = 0; i < n && !code; i++) {
    code = st_cbor_read_bytes(&rd.r, &addrs[i], &lens[i]);
    if (!code && (!lens[i] || lens[i] > 256))
      code = st_err_set(&rd.err, ST_EINVAL, "multiaddr %llu is %zu bytes (1 to 256)", (unsigned long long)i, lens[i]);
  }
  if (!code) code = st_cbor_finish(&rd.r);
  if (code) return st_vm_bad_params(c, &rd, "ChangeMultiaddrs");
  st_miner_call mc = {0};
  int64_t exit = st_actors_load_call(c, &mc);
  if (exit) return exit;
  exit = st_actors_require_caller(c, &mc.m, true, "ChangeMultiaddrs");
  if (!exit) {
    for (size_t i = 0; i < mc.m.nmultiaddrs; i++) st_buf_free(&mc.m.multiaddrs[i]);
    mc.m.nmultiaddrs = 0;
    st_err err;
    for (uint64_t i = 0; i < n && !code; i++) {
      st_buf_init(&mc.m.multiaddrs[i]);
      mc.m.nmultiaddrs++;
      st_buf_append(&mc.m.multiaddrs[i], addrs[i], lens[i]);
      code = st_buf_status(&mc.m.multiaddrs[i], &err);
    }
    exit = code ? st_vm_error(c, code, &err, "ChangeMultiaddrs") : st_actors_commit_miner(c, &mc.m, false);
  }
  st_miner_state_free(&mc.m);
  return exit;
}

/* ---------------------------------------------------------------- sectors */

/* The zero-data comm_d of a sector size: a committed-capacity sector's. */
static st_code cc_comm_d(uint64_t sector_size, uint8_t out[32], st_err *err) {
  unsigned level = 0;
  while ((32ull << level) < sector_size && level < 40) level++;
  if ((32ull << level) != sector_size)
    return st_err_set(err, ST_EINVAL, "sector size %llu is not a power of two", (unsigned long long)sector_size);
  memcpy(out, st_zero_comm(level), 32);
  return ST_OK;
}

/* PreCommitSectorParams (ReplaceCapacity must be false; its three fields are read and left). */
typedef struct precommit_params {
  int64_t seal_proof, rand_epoch, expiration;
  uint64_t number;
  st_cid sealed;
  bool replace;
  st_bitfield deals; /* DealIDs */
} precommit_params;

static int64_t read_precommit(st_vm_call *c, precommit_params *p) {
  st_vm_params rd;
  st_vm_params_init(&rd, c->msg);
  uint64_t ndeals = 0, tmp;
  st_code code = st_cbor_expect_array(&rd.r, 10, "PreCommitSectorParams");
  if (!code) code = st_cbor_read_int(&rd.r, &p->seal_proof);
  if (!code) code = st_cbor_read_uint(&rd.r, &p->number);
  if (!code) code = st_cbor_read_cid(&rd.r, &p->sealed);
  if (!code) code = st_cbor_read_int(&rd.r, &p->rand_epoch);
  if (!code) code = st_cbor_read_array(&rd.r, &ndeals);
  if (!code && ndeals > 256)
    code = st_err_set(&rd.err, ST_EINVAL, "%llu DealIDs: at most 256", (unsigned long long)ndeals);
  for (uint64_t i = 0; i < ndeals && !code; i++) {
    code = st_cbor_read_uint(&rd.r, &tmp);
    if (!code && st_bitfield_has(&p->deals, tmp))
      code = st_err_set(&rd.err, ST_EINVAL, "DealIDs lists deal %llu twice", (unsigned long long)tmp);
    if (!code) code = st_bitfield_set(&p->deals, tmp, &rd.err);
  }
  if (!code) code = st_cbor_read_int(&rd.r, &p->expiration);
  if (!code) code = st_cbor_read_bool(&rd.r, &p->replace);
  for (int i = 0; i < 3 && !code; i++) code = st_cbor_read_uint(&rd.r, &tmp);
  if (!code) code = st_cbor_finish(&rd.r);
  return code ? st_vm_bad_params(c, &rd, "PreCommitSector") : ST_EXIT_OK;
}

/* The checks PreCommitSector makes against the miner and the network: the caller, the proof
 * type, a new sector number, the sealed CID, the epochs, the deals and the deposit. */
static int64_t check_precommit(st_vm_call *c, const st_miner_state *m, const precommit_params *p) {
  st_vm *vm = c->vm;
  const st_sector_info *info = st_sector_by_seal_proof((int)p->seal_proof);
  int64_t exit = st_actors_require_caller(c, m, true, "PreCommitSector");
  if (!exit && (!info || info->size != m->sector_size))
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT,
                       "PreCommitSector: seal proof %lld does not seal this miner's %llu-byte sectors",
                       (long long)p->seal_proof, (unsigned long long)m->sector_size);
  if (!exit && p->number > INT64_MAX)
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "PreCommitSector: sector number %llu is too large",
                       (unsigned long long)p->number);
  if (!exit && st_bitfield_has(&m->allocated, p->number))
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "PreCommitSector: sector number %llu is already allocated",
                       (unsigned long long)p->number);
  if (!exit) {
    uint8_t comm_r[32];
    st_cid check;
    memcpy(comm_r, p->sealed.digest, 32);
    st_cid_of_commitment(comm_r, true, &check);
    if (p->sealed.digest_len != 32 || !st_cid_equal(&check, &p->sealed))
      exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT,
                         "PreCommitSector: SealedCID is not a sealed-sector commitment (fil-commitment-sealed)");
  }
  if (!exit && (p->rand_epoch >= vm->epoch || p->rand_epoch < vm->epoch - vm->net->max_prove_commit_duration))
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "PreCommitSector: SealRandEpoch %lld must be in [%lld, %lld)",
                       (long long)p->rand_epoch, (long long)(vm->epoch - vm->net->max_prove_commit_duration),
                       (long long)vm->epoch);
  if (!exit && p->replace)
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "PreCommitSector: ReplaceCapacity is not supported");
  int64_t min_exp = vm->epoch + vm->net->max_prove_commit_duration + vm->net->proving_period;
  int64_t max_exp = vm->epoch + 5 * 365 * st_network_epochs_per_day(vm->net);
  if (!exit && (p->expiration <= min_exp || p->expiration > max_exp))
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "PreCommitSector: Expiration %lld must be in (%lld, %lld]",
                       (long long)p->expiration, (long long)min_exp, (long long)max_exp);
  uint8_t comm_d[32];
  if (!exit && st_bitfield_count(&p->deals))
    exit = st_market_verify_deals(c, "PreCommitSector", c->to, &p->deals, m->sector_size, p->expiration, comm_d);
  mpz_t avail;
  mpz_init(avail);
  if (!exit) {
    available_balance(c, m, avail);
    if (mpz_cmp_si(avail, vm->net->sector_pledge) < 0) {
      char *have = mpz_get_str(NULL, 10, avail);
      exit = st_vm_abort(c, ST_EXIT_INSUFFICIENT_FUNDS,
                         "PreCommitSector: the deposit is %lld attoFIL, the miner has %s available",
                         (long long)vm->net->sector_pledge, have);
      free(have);
    }
  }
  mpz_clear(avail);
  return exit;
}

/* Records the pre-commit (its deals move into it), locks its deposit and allocates its number. */
static int64_t record_precommit(st_vm_call *c, st_miner_state *m, precommit_params *p) {
  st_vm *vm = c->vm;
  st_precommit *pc = st_miner_add_precommit(m, p->number);
  if (!pc) return st_vm_fail(c, ST_ENOMEM, NULL);
  pc->seal_proof = p->seal_proof;
  pc->sealed_cid = p->sealed;
  pc->seal_rand_epoch = p->rand_epoch;
  pc->expiration = p->expiration;
  mpz_set_si(pc->deposit, vm->net->sector_pledge);
  pc->precommit_epoch = vm->epoch;
  st_bitfield_free(&pc->deals);
  pc->deals = p->deals;
  p->deals = (st_bitfield)ST_BITFIELD_INIT;
  mpz_add(m->precommit_deposits, m->precommit_deposits, pc->deposit);
  st_err err;
  st_code code = st_bitfield_set(&m->allocated, p->number, &err);
  return code ? st_vm_error(c, code, &err, "PreCommitSector") : ST_EXIT_OK;
}

int64_t st_miner_precommit_sector(st_vm_call *c) {
  precommit_params p = {.deals = ST_BITFIELD_INIT};
  int64_t exit = read_precommit(c, &p);
  st_miner_call mc = {0};
  if (!exit) exit = st_actors_load_call(c, &mc);
  if (!exit) exit = check_precommit(c, &mc.m, &p);
  if (!exit) exit = record_precommit(c, &mc.m, &p);
  if (!exit) exit = st_actors_commit_miner(c, &mc.m, false);
  st_bitfield_free(&p.deals);
  if (mc.loaded) st_miner_state_free(&mc.m);
  return exit;
}

/* Is the deadline free to take new sectors (not open now and not the next to open)? */
static bool deadline_mutable(const st_network *net, int64_t pps, uint64_t idx, int64_t epoch) {
  st_deadline_policy p;
  st_deadline_policy_of(net, &p);
  st_deadline_info d, next;
  st_deadline_new(&p, pps, idx, epoch, &d);
  st_deadline_next_not_elapsed(&d, &next);
  return epoch < next.open - p.challenge_window;
}

static uint64_t live_sectors(const st_deadline_state *dl) {
  uint64_t n = 0;
  for (size_t p = 0; p < dl->npartitions; p++)
    n += st_bitfield_count(&dl->partitions[p].sectors) - st_bitfield_count(&dl->partitions[p].terminated);
  return n;
}

/* Filecoin's rule: a deadline neither open nor next, whose last partition has room, then the
 * fewest live sectors, then the lowest index. */
static uint64_t pick_deadline(const st_miner_state *m, const st_network *net, int64_t epoch) {
  const st_sector_info *info = st_sector_by_size(m->sector_size);
  uint64_t psize = info ? info->window_partition : 2;
  uint64_t best = UINT64_MAX, best_open = 0, best_live = 0;
  for (uint64_t d = 0; d < m->ndeadlines; d++) {
    if (!deadline_mutable(net, m->proving_period_start, d, epoch)) continue;
    const st_deadline_state *dl = &m->deadlines[d];
    uint64_t open = dl->npartitions && st_bitfield_count(&dl->partitions[dl->npartitions - 1].sectors) < psize ? 0 : 1;
    uint64_t live = live_sectors(dl);
    if (best == UINT64_MAX || open < best_open || (open == best_open && live < best_live)) {
      best = d;
      best_open = open;
      best_live = live;
    }
  }
  return best == UINT64_MAX ? 0 : best;
}

static st_code assign_sector(st_miner_state *m, const st_network *net, int64_t epoch, uint64_t number, uint64_t *dl_out,
                             uint64_t *part_out, st_err *err) {
  const st_sector_info *info = st_sector_by_size(m->sector_size);
  uint64_t psize = info ? info->window_partition : 2;
  uint64_t d = pick_deadline(m, net, epoch);
  st_deadline_state *dl = &m->deadlines[d];
  if (!dl->npartitions || st_bitfield_count(&dl->partitions[dl->npartitions - 1].sectors) >= psize) {
    st_partition *np = realloc(dl->partitions, (dl->npartitions + 1) * sizeof *np);
    if (!np) return st_err_set(err, ST_ENOMEM, "out of memory adding a partition");
    dl->partitions = np;
    memset(&np[dl->npartitions], 0, sizeof *np);
    dl->npartitions++;
  }
  *dl_out = d;
  *part_out = dl->npartitions - 1;
  return st_bitfield_set(&dl->partitions[dl->npartitions - 1].sectors, number, err);
}

/* The checks ProveCommitSector makes: the caller, the pre-commit and its timing, the deals (they
 * give comm_d), and the proof. */
static int64_t check_prove_commit(st_vm_call *c, st_miner_state *m, uint64_t number, const uint8_t *proof,
                                  size_t nproof) {
  st_vm *vm = c->vm;
  st_precommit *p = NULL;
  int64_t exit = st_actors_require_caller(c, m, true, "ProveCommitSector");
  if (!exit && !(p = st_miner_precommit(m, number)))
    exit = st_vm_abort(c, ST_EXIT_NOT_FOUND, "ProveCommitSector: sector %llu has no pre-commit",
                       (unsigned long long)number);
  int64_t seed_epoch = p ? p->precommit_epoch + vm->net->precommit_challenge_delay : 0;
  if (!exit && vm->epoch <= seed_epoch)
    exit = st_vm_abort(c, ST_EXIT_FORBIDDEN,
                       "ProveCommitSector: sector %llu is proven too early: its seed is drawn at epoch %lld",
                       (unsigned long long)number, (long long)seed_epoch);
  if (!exit && vm->epoch > p->precommit_epoch + vm->net->max_prove_commit_duration)
    exit =
        st_vm_abort(c, ST_EXIT_FORBIDDEN, "ProveCommitSector: the pre-commit of sector %llu expired at epoch %lld",
                    (unsigned long long)number, (long long)(p->precommit_epoch + vm->net->max_prove_commit_duration));
  st_porep_public pub = {.info = st_sector_by_size(m->sector_size), .miner = c->to, .sector = number};
  st_err err;
  st_code code = ST_OK;
  if (!exit) code = st_actors_randomness(vm, false, ST_DST_SEAL, p->seal_rand_epoch, c->to, pub.ticket, &err);
  if (!exit && !code) code = st_actors_randomness(vm, true, ST_DST_INTERACTIVE_SEAL, seed_epoch, c->to, pub.seed, &err);
  if (!exit && !code) code = cc_comm_d(m->sector_size, pub.comm_d, &err);
  if (!exit && code) exit = st_vm_error(c, code, &err, "ProveCommitSector");
  /* a sector with deals holds their pieces: its comm_d is theirs (ComputeDataCommitment) */
  if (!exit && st_bitfield_count(&p->deals))
    exit = st_market_verify_deals(c, "ProveCommitSector", c->to, &p->deals, m->sector_size, p->expiration, pub.comm_d);
  if (!exit) {
    memcpy(pub.comm_r, p->sealed_cid.digest, 32);
    c->gas += ST_GAS_VERIFY_SEAL;
    if (st_porep_verify(&pub, proof, nproof, &err))
      exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "ProveCommitSector: invalid proof for sector %llu: %s",
                         (unsigned long long)number, err.msg);
  }
  return exit;
}

/* The proven sector replaces its pre-commit: its deals are activated, its deposit becomes its
 * pledge, and it joins a deadline's partition. */
static int64_t activate_sector(st_vm_call *c, st_miner_state *m, uint64_t number) {
  st_vm *vm = c->vm;
  st_sector_onchain *s = st_miner_add_sector(m, number);
  if (!s) return st_vm_fail(c, ST_ENOMEM, NULL);
  st_precommit *p = st_miner_precommit(m, number);
  s->seal_proof = p->seal_proof;
  s->sealed_cid = p->sealed_cid;
  s->activation = vm->epoch;
  s->expiration = p->expiration;
  int64_t exit = st_market_activate_deals(c, &p->deals, number, s->deal_weight, s->verified_deal_weight);
  s->deals = p->deals;
  p->deals = (st_bitfield)ST_BITFIELD_INIT;
  mpz_set(s->initial_pledge, p->deposit);
  mpz_sub(m->precommit_deposits, m->precommit_deposits, p->deposit);
  mpz_add(m->locked_funds, m->locked_funds, p->deposit);
  st_miner_remove_precommit(m, number);
  uint64_t dl, part;
  st_err err;
  st_code code = exit ? ST_OK : assign_sector(m, vm->net, vm->epoch, number, &dl, &part, &err);
  return code ? st_vm_error(c, code, &err, "ProveCommitSector") : exit;
}

int64_t st_miner_prove_commit_sector(st_vm_call *c) {
  st_vm_params rd;
  st_vm_params_init(&rd, c->msg);
  uint64_t number = 0;
  const uint8_t *proof = NULL;
  size_t nproof = 0;
  st_code code = st_cbor_expect_array(&rd.r, 2, "ProveCommitSectorParams");
  if (!code) code = st_cbor_read_uint(&rd.r, &number);
  if (!code) code = st_cbor_read_bytes(&rd.r, &proof, &nproof);
  if (!code) code = st_cbor_finish(&rd.r);
  if (code) return st_vm_bad_params(c, &rd, "ProveCommitSector");
  st_miner_call mc = {0};
  int64_t exit = st_actors_load_call(c, &mc);
  if (exit) return exit;
  exit = check_prove_commit(c, &mc.m, number, proof, nproof);
  if (!exit) exit = activate_sector(c, &mc.m, number);
  if (!exit) exit = st_actors_commit_miner(c, &mc.m, true);
  st_miner_state_free(&mc.m);
  return exit;
}
