/* st_proving: the miner actor's proving methods: SubmitWindowedPoSt (a deadline's partitions
 * proven, skipped sectors made faulty, recoveries proven), DeclareFaults and
 * DeclareFaultsRecovered. The rules are in docs/consensus.md. */
#include "chain/st_proving.h"

#include <stdlib.h>
#include <string.h>

#include "chain/st_actor_state.h"
#include "chain/st_deadline.h"
#include "chain/st_rand.h"
#include "codec/st_cbor.h"
#include "proofs/st_post.h"
#include "proofs/st_sector.h"

/* ---------------------------------------------------------------- faults and recoveries */

/* Reads [[Deadline, Partition, Sectors]...] and checks each target's deadline and partition. */
typedef struct decl {
  uint64_t deadline, partition;
  st_bitfield sectors;
} decl;

static void decls_free(decl *d, size_t n) {
  for (size_t i = 0; i < n; i++) st_bitfield_free(&d[i].sectors);
  free(d);
}

static int64_t read_decls(st_vm_call *c, const char *method, decl **out, size_t *n) {
  st_vm_params rd;
  st_vm_params_init(&rd, c->msg);
  uint64_t k = 0;
  *out = NULL;
  *n = 0;
  st_code code = st_cbor_expect_array(&rd.r, 1, method);
  if (!code) code = st_cbor_read_array(&rd.r, &k);
  if (!code && k > 3000)
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: %llu declarations, more than 3000", method,
                       (unsigned long long)k);
  if (!code && k && !(*out = calloc(k, sizeof **out))) return st_vm_fail(c, ST_ENOMEM, NULL);
  for (uint64_t i = 0; i < k && !code; i++) {
    decl *d = &(*out)[i];
    (*n)++;
    code = st_cbor_expect_array(&rd.r, 3, "declaration");
    if (!code) code = st_cbor_read_uint(&rd.r, &d->deadline);
    if (!code) code = st_cbor_read_uint(&rd.r, &d->partition);
    if (!code) code = st_chain_read_bitfield(&rd.r, &d->sectors);
  }
  if (!code) code = st_cbor_finish(&rd.r);
  return code ? st_vm_bad_params(c, &rd, method) : ST_EXIT_OK;
}

/* validateFRDeclarationDeadline: the target is the next instance of the deadline, before its cutoff. */
static int64_t check_decl(st_vm_call *c, const st_miner_state *m, const decl *d, const char *method,
                          st_partition **pt) {
  st_deadline_policy p;
  st_deadline_policy_of(c->vm->net, &p);
  if (d->deadline >= m->ndeadlines)
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: deadline %llu does not exist (%zu deadlines)", method,
                       (unsigned long long)d->deadline, m->ndeadlines);
  st_deadline_info now, target;
  st_deadline_new(&p, m->proving_period_start, d->deadline, c->vm->epoch, &now);
  st_deadline_next_not_elapsed(&now, &target);
  if (st_deadline_fault_cutoff_passed(&target))
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT,
                       "%s: deadline %llu's fault cutoff (epoch %lld) has passed at epoch %lld", method,
                       (unsigned long long)d->deadline, (long long)target.fault_cutoff, (long long)c->vm->epoch);
  const st_deadline_state *dl = &m->deadlines[d->deadline];
  if (d->partition >= dl->npartitions)
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: deadline %llu has no partition %llu", method,
                       (unsigned long long)d->deadline, (unsigned long long)d->partition);
  *pt = &m->deadlines[d->deadline].partitions[d->partition];
  st_bitfield outside = ST_BITFIELD_INIT;
  st_err err;
  st_code code = st_bitfield_subtract(&d->sectors, &(*pt)->sectors, &outside, &err);
  bool bad = st_bitfield_count(&outside) > 0;
  st_bitfield_free(&outside);
  if (code) return st_vm_error(c, code, &err, method);
  if (bad)
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: some sectors are not in deadline %llu partition %llu", method,
                       (unsigned long long)d->deadline, (unsigned long long)d->partition);
  return ST_EXIT_OK;
}

/* One declaration's sectors, less the terminated ones: declared faults become faulty and stop
 * recovering; declared recoveries must be faulty, and start recovering. */
static int64_t apply_decl(st_vm_call *c, st_miner_state *m, st_partition *pt, const decl *d, bool recover,
                          const char *method) {
  st_bitfield x = ST_BITFIELD_INIT;
  st_err err;
  int64_t exit = ST_EXIT_OK;
  st_code code = st_bitfield_subtract(&d->sectors, &pt->terminated, &x, &err);
  if (!code) code = st_bitfield_subtract(&x, &pt->faults, &x, &err); /* not faulty yet */
  if (!code && recover && st_bitfield_count(&x))
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: %llu of the sectors are not faulty", method,
                       (unsigned long long)st_bitfield_count(&x));
  else if (!code && recover) code = st_bitfield_union(&pt->recoveries, &d->sectors, &pt->recoveries, &err);
  else if (!code) {
    st_miner_mark_faulty(m, &x, c->vm->epoch);
    code = st_bitfield_union(&pt->faults, &x, &pt->faults, &err);
    if (!code) code = st_bitfield_subtract(&pt->recoveries, &d->sectors, &pt->recoveries, &err);
  }
  st_bitfield_free(&x);
  return code ? st_vm_error(c, code, &err, method) : exit;
}

/* Recoveries need the miner's fee debt paid first: it is burnt from the available balance. */
static int64_t pay_fee_debt(st_vm_call *c, st_miner_state *m, const char *method) {
  if (!mpz_sgn(m->fee_debt)) return ST_EXIT_OK;
  mpz_t avail;
  mpz_init(avail);
  st_state_actor *a = st_state_get(c->vm->state, c->to);
  mpz_sub(avail, a->balance, m->precommit_deposits);
  mpz_sub(avail, avail, m->locked_funds);
  st_err err;
  st_code code = ST_OK;
  int64_t exit = ST_EXIT_OK;
  if (mpz_cmp(avail, m->fee_debt) < 0)
    exit = st_vm_abort(c, ST_EXIT_INSUFFICIENT_FUNDS, "%s: the miner's fee debt must be paid first", method);
  else if (!(code = st_actors_burn(c->vm, c->to, m->fee_debt, &err))) mpz_set_ui(m->fee_debt, 0);
  mpz_clear(avail);
  return code ? st_vm_error(c, code, &err, method) : exit;
}

static int64_t declare(st_vm_call *c, bool recover, const char *method) {
  decl *d;
  size_t n;
  int64_t exit = read_decls(c, method, &d, &n);
  st_miner_call mc = {0};
  if (!exit) exit = st_actors_load_call(c, &mc);
  if (!exit) exit = st_actors_require_caller(c, &mc.m, true, method);
  for (size_t i = 0; i < n && !exit; i++) {
    st_partition *pt = NULL;
    exit = check_decl(c, &mc.m, &d[i], method, &pt);
    if (!exit) exit = apply_decl(c, &mc.m, pt, &d[i], recover, method);
  }
  if (!exit && recover) exit = pay_fee_debt(c, &mc.m, method);
  if (!exit) exit = st_actors_commit_miner(c, &mc.m, !recover);
  if (mc.loaded) st_miner_state_free(&mc.m);
  decls_free(d, n);
  return exit;
}

int64_t st_miner_declare_faults(st_vm_call *c) { return declare(c, false, "DeclareFaults"); }
int64_t st_miner_declare_faults_recovered(st_vm_call *c) { return declare(c, true, "DeclareFaultsRecovered"); }

/* ---------------------------------------------------------------- SubmitWindowedPoSt */

static const char *const POST = "SubmitWindowedPoSt";

typedef struct post_part {
  uint64_t index;
  st_bitfield skipped;
} post_part;

/* SubmitWindowedPoStParams, with the one proof they must carry. */
typedef struct post_params {
  uint64_t deadline;
  post_part parts[ST_POSTED_PARTITIONS_MAX];
  size_t np;
  int64_t proof_type, cc_epoch;
  const uint8_t *proof, *cc_rand;
  size_t nproof, ncc;
} post_params;

static int64_t read_post(st_vm_call *c, post_params *p) {
  st_vm_params rd;
  st_vm_params_init(&rd, c->msg);
  uint64_t nparts = 0, nproofs = 0;
  st_code code = st_cbor_expect_array(&rd.r, 5, "SubmitWindowedPoStParams");
  if (!code) code = st_cbor_read_uint(&rd.r, &p->deadline);
  if (!code) code = st_cbor_read_array(&rd.r, &nparts);
  if (!code && nparts > ST_POSTED_PARTITIONS_MAX)
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: %llu partitions, more than %d per message", POST,
                       (unsigned long long)nparts, ST_POSTED_PARTITIONS_MAX);
  for (uint64_t i = 0; i < nparts && !code; i++) {
    post_part *pp = &p->parts[p->np++];
    st_bitfield_init(&pp->skipped);
    code = st_cbor_expect_array(&rd.r, 2, "PoStPartition");
    if (!code) code = st_cbor_read_uint(&rd.r, &pp->index);
    if (!code) code = st_chain_read_bitfield(&rd.r, &pp->skipped);
  }
  if (!code) code = st_cbor_read_array(&rd.r, &nproofs);
  if (!code && nproofs != 1)
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: expected exactly one proof, got %llu", POST,
                       (unsigned long long)nproofs);
  if (!code) code = st_cbor_expect_array(&rd.r, 2, "PoStProof");
  if (!code) code = st_cbor_read_int(&rd.r, &p->proof_type);
  if (!code) code = st_cbor_read_bytes(&rd.r, &p->proof, &p->nproof);
  if (!code) code = st_cbor_read_int(&rd.r, &p->cc_epoch);
  if (!code) code = st_cbor_read_bytes(&rd.r, &p->cc_rand, &p->ncc);
  if (!code) code = st_cbor_finish(&rd.r);
  return code ? st_vm_bad_params(c, &rd, POST) : ST_EXIT_OK;
}

/* The caller, the proof type, the deadline (the one open now, *di), and the chain commit: an
 * epoch in the deadline's challenge window and the chain's randomness at it. */
static int64_t check_post(st_vm_call *c, const st_miner_state *m, const post_params *p, st_deadline_info *di) {
  st_vm *vm = c->vm;
  int64_t exit = st_actors_require_caller(c, m, true, POST);
  if (!exit && p->proof_type != m->window_post_proof)
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: proof type %lld is not the miner's %lld", POST,
                       (long long)p->proof_type, (long long)m->window_post_proof);
  st_actors_current_deadline(vm->net, m, vm->epoch, di);
  if (!exit && p->deadline >= m->ndeadlines)
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: deadline %llu does not exist (%zu deadlines)", POST,
                       (unsigned long long)p->deadline, m->ndeadlines);
  if (!exit && (p->deadline != di->index || !st_deadline_is_open(di)))
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: invalid deadline %llu at epoch %lld, expected %llu", POST,
                       (unsigned long long)p->deadline, (long long)vm->epoch, (unsigned long long)di->index);
  if (!exit && (p->cc_epoch < di->challenge || p->cc_epoch >= vm->epoch))
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: ChainCommitEpoch %lld must be in [%lld, %lld)", POST,
                       (long long)p->cc_epoch, (long long)di->challenge, (long long)vm->epoch);
  if (!exit && p->ncc > 32)
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: ChainCommitRand is %zu bytes, more than 32", POST, p->ncc);
  uint8_t want[32];
  st_err err;
  st_code code = ST_OK;
  if (!exit)
    code = vm->env->randomness(vm->env->ctx, false, ST_DST_POST_CHAIN_COMMIT, p->cc_epoch, NULL, 0, want, &err);
  if (!exit && code) exit = st_vm_error(c, code, &err, POST);
  if (!exit && (p->ncc != 32 || memcmp(want, p->cc_rand, 32)))
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: ChainCommitRand is not the chain's randomness at epoch %lld",
                       POST, (long long)p->cc_epoch);
  return exit;
}

/* Partition i of the post: listed once, in the deadline, not proven yet this period. */
static int64_t check_partition(st_vm_call *c, const st_deadline_state *dl, const post_params *p, size_t i) {
  uint64_t idx = p->parts[i].index;
  for (size_t j = 0; j < i; j++)
    if (p->parts[j].index == idx)
      return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: partition %llu is listed twice", POST,
                         (unsigned long long)idx);
  if (idx >= dl->npartitions)
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: deadline %llu has no partition %llu", POST,
                       (unsigned long long)p->deadline, (unsigned long long)idx);
  if (st_bitfield_has(&dl->post_submissions, idx))
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: partition %llu of deadline %llu is already proven this period",
                       POST, (unsigned long long)idx, (unsigned long long)p->deadline);
  return ST_EXIT_OK;
}

/* The sectors a proof covers, in partition order. */
typedef struct post_sectors {
  st_post_public_sector *pub;
  size_t n, cap;
} post_sectors;

static int64_t add_sector(st_vm_call *c, st_miner_state *m, uint64_t number, post_sectors *ps) {
  st_sector_onchain *s = st_miner_sector(m, number);
  if (!s) return st_vm_abort(c, ST_EXIT_ILLEGAL_STATE, "%s: sector %llu has no info", POST, (unsigned long long)number);
  if (ps->n == ps->cap) {
    size_t cap = ps->cap ? ps->cap * 2 : 16;
    st_post_public_sector *g = realloc(ps->pub, cap * sizeof *g);
    if (!g) return st_vm_fail(c, ST_ENOMEM, NULL);
    ps->pub = g;
    ps->cap = cap;
  }
  ps->pub[ps->n].number = number;
  memcpy(ps->pub[ps->n].comm_r, s->sealed_cid.digest, 32);
  ps->n++;
  return ST_EXIT_OK;
}

/* Adds a partition's proven sectors: its live ones (it must have some, and skip only live ones)
 * less the faults that are not recovering and the skipped ones. */
static int64_t add_partition(st_vm_call *c, st_miner_state *m, const st_partition *pt, const post_part *pp,
                             post_sectors *ps) {
  st_bitfield live = ST_BITFIELD_INIT, x = ST_BITFIELD_INIT, proven = ST_BITFIELD_INIT;
  st_err err;
  int64_t exit = ST_EXIT_OK;
  st_code code = st_bitfield_subtract(&pt->sectors, &pt->terminated, &live, &err);
  if (!code && !st_bitfield_count(&live))
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: partition %llu has no live sectors", POST,
                       (unsigned long long)pp->index);
  if (!code && !exit) code = st_bitfield_subtract(&pp->skipped, &live, &x, &err);
  if (!code && !exit && st_bitfield_count(&x))
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: skipped sectors are not live in partition %llu", POST,
                       (unsigned long long)pp->index);
  if (!code && !exit) code = st_bitfield_subtract(&pt->faults, &pt->recoveries, &x, &err);
  if (!code && !exit) code = st_bitfield_subtract(&live, &x, &proven, &err);
  if (!code && !exit) code = st_bitfield_subtract(&proven, &pp->skipped, &proven, &err);
  st_bitfield_iter it;
  uint64_t n;
  st_bitfield_iter_init(&it, &proven);
  while (!code && !exit && st_bitfield_iter_next(&it, &n)) exit = add_sector(c, m, n, ps);
  st_bitfield_free(&live);
  st_bitfield_free(&x);
  st_bitfield_free(&proven);
  return code ? st_vm_error(c, code, &err, POST) : exit;
}

/* Checks the proof over the proven sectors (none: nothing to check), with the randomness of the
 * deadline's challenge epoch. */
static int64_t verify_post(st_vm_call *c, const st_miner_state *m, const st_deadline_info *di, const post_params *p,
                           const post_sectors *ps) {
  if (!ps->n) return ST_EXIT_OK;
  uint8_t rand[32];
  st_err err;
  st_code code = st_actors_randomness(c->vm, true, ST_DST_WINDOW_POST, di->challenge, c->to, rand, &err);
  st_rand_to_fr(rand);
  c->gas += ST_GAS_VERIFY_POST_PER_SECTOR * (int64_t)ps->n;
  if (code) return st_vm_error(c, code, &err, POST);
  if (st_window_post_verify(st_sector_by_size(m->sector_size), rand, ps->pub, ps->n, p->proof, p->nproof, &err))
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: invalid PoSt for deadline %llu: %s", POST,
                       (unsigned long long)p->deadline, err.msg);
  return ST_EXIT_OK;
}

/* What a proof changes in its partition: skipped sectors become faults, recoveries it proved stop
 * being faults, and the partition is proven for this period. *power_changed if faults came or
 * went. */
static st_code apply_partition(st_miner_state *m, st_deadline_state *dl, const post_part *pp, int64_t epoch,
                               bool *power_changed, st_err *err) {
  st_partition *pt = &dl->partitions[pp->index];
  st_bitfield x = ST_BITFIELD_INIT;
  st_code code = st_bitfield_subtract(&pp->skipped, &pt->faults, &x, err); /* new faults */
  if (!code) {
    if (st_bitfield_count(&x)) *power_changed = true;
    st_miner_mark_faulty(m, &x, epoch);
    code = st_bitfield_union(&pt->faults, &pp->skipped, &pt->faults, err);
  }
  if (!code) code = st_bitfield_subtract(&pt->recoveries, &pp->skipped, &x, err); /* recovered now */
  if (!code) {
    if (st_bitfield_count(&x)) *power_changed = true;
    code = st_bitfield_subtract(&pt->faults, &x, &pt->faults, err);
  }
  st_bitfield_iter it;
  uint64_t n;
  st_bitfield_iter_init(&it, &x);
  while (!code && st_bitfield_iter_next(&it, &n)) {
    st_sector_onchain *s = st_miner_sector(m, n);
    if (s) s->fault_epoch = -1;
  }
  st_bitfield_clear(&pt->recoveries);
  if (!code) code = st_bitfield_set(&dl->post_submissions, pp->index, err);
  st_bitfield_free(&x);
  return code;
}

int64_t st_miner_submit_windowed_post(st_vm_call *c) {
  post_params p = {.proof_type = -1};
  int64_t exit = read_post(c, &p);
  st_miner_call mc = {0};
  if (!exit) exit = st_actors_load_call(c, &mc);
  st_deadline_info di;
  if (!exit) exit = check_post(c, &mc.m, &p, &di);
  st_deadline_state *dl = exit ? NULL : &mc.m.deadlines[p.deadline];
  post_sectors ps = {0};
  for (size_t i = 0; i < p.np && !exit; i++) {
    exit = check_partition(c, dl, &p, i);
    if (!exit) exit = add_partition(c, &mc.m, &dl->partitions[p.parts[i].index], &p.parts[i], &ps);
  }
  if (!exit) exit = verify_post(c, &mc.m, &di, &p, &ps);
  bool power_changed = false;
  st_err err;
  st_code code = ST_OK;
  for (size_t i = 0; i < p.np && !exit && !code; i++)
    code = apply_partition(&mc.m, dl, &p.parts[i], c->vm->epoch, &power_changed, &err);
  if (code) exit = st_vm_error(c, code, &err, POST);
  if (!exit) exit = st_actors_commit_miner(c, &mc.m, power_changed);
  for (size_t i = 0; i < p.np; i++) st_bitfield_free(&p.parts[i].skipped);
  free(ps.pub);
  if (mc.loaded) st_miner_state_free(&mc.m);
  return exit;
}
