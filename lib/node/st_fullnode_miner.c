/* st_fullnode_miner: the state of miners: info, power, deadlines, partitions, sectors, funds,
 * as Lotus's StateMiner* and StateSector* methods give them (go-state-types' JSON). */
#include "chain/st_deadline.h"
#include "codec/st_varint.h"
#include "core/st_encoding.h"
#include "node/st_fullnode_int.h"
#include "proofs/st_sector.h"

/* A miner at a tipset: the state after it. */
typedef struct miner_view {
  st_tipset ts;
  uint64_t id;
  mpz_t balance;
  st_miner_state m;
  bool loaded; /* m is initialised (st_chain_miner_state initialises it, whatever it returns) */
} miner_view;

static void miner_view_free(miner_view *v) {
  st_tipset_free(&v->ts);
  mpz_clear(v->balance);
  if (v->loaded) st_miner_state_free(&v->m);
}

/* The miner addr names at tsk (empty: the head). v is initialised whatever this returns. */
static st_code miner_at(st_fullnode *n, const st_address *addr, const st_tipset_key *tsk, miner_view *v, st_err *err) {
  mpz_init(v->balance);
  v->id = 0;
  v->loaded = false;
  st_code code = fn_tipset(n, tsk, &v->ts, err);
  if (!code) code = fn_miner_id(n, &v->ts, addr, &v->id, v->balance, err);
  if (code) return code;
  v->loaded = true;
  return st_chain_miner_state(n->chain, &v->ts.key, v->id, &v->m, err);
}

/* A partition's sets, as Lotus's Partition interface names them. */
enum { PS_ALL, PS_FAULTY, PS_RECOVERING, PS_LIVE, PS_ACTIVE };

static st_code partition_set(const st_partition *p, int which, st_bitfield *out, st_err *err) {
  switch (which) {
    case PS_ALL: return st_bitfield_copy(&p->sectors, out, err);
    case PS_FAULTY: return st_bitfield_copy(&p->faults, out, err);
    case PS_RECOVERING: return st_bitfield_copy(&p->recoveries, out, err);
    case PS_LIVE: return st_bitfield_subtract(&p->sectors, &p->terminated, out, err);
    default: {
      st_code code = st_bitfield_subtract(&p->sectors, &p->terminated, out, err);
      return code ? code : st_bitfield_subtract(out, &p->faults, out, err);
    }
  }
}

/* The union of one set over every partition (miner.AllPartSectors); out is replaced. */
static st_code all_partitions(const st_miner_state *m, int which, st_bitfield *out, st_err *err) {
  st_bitfield one;
  st_bitfield_init(&one);
  st_bitfield_clear(out);
  st_code code = ST_OK;
  for (size_t d = 0; d < m->ndeadlines && !code; d++)
    for (size_t p = 0; p < m->deadlines[d].npartitions && !code; p++) {
      code = partition_set(&m->deadlines[d].partitions[p], which, &one, err);
      if (!code) code = st_bitfield_union(out, &one, out, err);
    }
  st_bitfield_free(&one);
  return code;
}

/* miner.SectorPreCommitOnChainInfo. */
static json_t *precommit_json(const st_precommit *p) {
  json_t *info =
      json_pack("{sI so so sI sn sI sn}", "SealProof", (json_int_t)p->seal_proof, "SectorNumber",
                st_chain_json_u64(p->number), "SealedCID", st_chain_json_cid(&p->sealed_cid), "SealRandEpoch",
                (json_int_t)p->seal_rand_epoch, "DealIDs", "Expiration", (json_int_t)p->expiration, "UnsealedCid");
  return json_pack("{so so sI}", "Info", info, "PreCommitDeposit", st_chain_json_bigint(p->deposit), "PreCommitEpoch",
                   (json_int_t)p->precommit_epoch);
}

/* [SectorOnChainInfo]: every sector (filter NULL), or those in filter, each of which must exist. */
static st_code sectors_json(st_miner_state *m, const st_bitfield *filter, json_t **result, st_err *err) {
  json_t *arr = json_array();
  if (!filter)
    for (size_t i = 0; i < m->nsectors; i++) json_array_append_new(arr, st_sector_onchain_to_json(&m->sectors[i]));
  st_bitfield_iter it;
  uint64_t num;
  if (filter) st_bitfield_iter_init(&it, filter);
  while (filter && st_bitfield_iter_next(&it, &num)) {
    const st_sector_onchain *s = st_miner_sector(m, num);
    if (!s) {
      json_decref(arr);
      return st_err_set(err, ST_ENOENT, "failed to load sectors: can't find sector %llu", (unsigned long long)num);
    }
    json_array_append_new(arr, st_sector_onchain_to_json(s));
  }
  *result = arr;
  return ST_OK;
}

/* MinerInfo.PeerId: the peer ID in base58 if the bytes are a multihash (peer.IDFromBytes),
 * else null, as Lotus. */
static json_t *peer_id_json(const st_buf *p) {
  uint64_t code, len;
  size_t u1, u2;
  if (!p->len || st_uvarint_get(p->data, p->len, &code, &u1, NULL) ||
      st_uvarint_get(p->data + u1, p->len - u1, &len, &u2, NULL) || len != p->len - u1 - u2)
    return json_null();
  st_buf b = ST_BUF_INIT;
  st_base58_append(&b, p->data, p->len);
  json_t *j = b.failed ? json_null() : json_string(st_buf_cstr(&b));
  st_buf_free(&b);
  return j;
}

static json_t *miner_info_json(const st_fullnode *n, const st_miner_state *m) {
  const st_sector_info *info = st_sector_by_window_proof((int)m->window_post_proof);
  bool pending = m->pending_worker != 0;
  json_t *o = json_object();
  json_object_set_new(o, "Owner", fn_id_json(n, m->owner));
  json_object_set_new(o, "Worker", fn_id_json(n, m->worker));
  json_object_set_new(o, "NewWorker", pending ? fn_id_json(n, m->pending_worker) : json_string("<empty>"));
  json_object_set_new(o, "ControlAddresses", json_null());
  json_object_set_new(o, "WorkerChangeEpoch", json_integer(pending ? m->pending_worker_epoch : -1));
  json_object_set_new(o, "PeerId", peer_id_json(&m->peer_id));
  json_t *ma = json_array();
  for (size_t i = 0; i < m->nmultiaddrs; i++)
    json_array_append_new(ma, fn_bytes_json(m->multiaddrs[i].data, m->multiaddrs[i].len));
  json_object_set_new(o, "Multiaddrs", m->nmultiaddrs ? ma : (json_decref(ma), json_null()));
  json_object_set_new(o, "WindowPoStProofType", json_integer(m->window_post_proof));
  json_object_set_new(o, "SectorSize", st_chain_json_u64(m->sector_size));
  json_object_set_new(o, "WindowPoStPartitionSectors", st_chain_json_u64(info ? info->window_partition : 0));
  json_object_set_new(o, "ConsensusFaultElapsed", json_integer(-1));
  json_object_set_new(o, "PendingOwnerAddress", json_null());
  json_object_set_new(o, "Beneficiary", fn_id_json(n, m->owner));
  json_object_set_new(o, "BeneficiaryTerm", json_pack("{ss ss si}", "Quota", "0", "UsedQuota", "0", "Expiration", 0));
  json_object_set_new(o, "PendingBeneficiaryTerm", json_null());
  return o;
}

/* ---- the methods: each one's part of a miner at a tipset (q->data of the shared run) ---- */

/* A method's answer from the miner it names. Every miner method's args start with the
 * fn_addr_tsk_args of the miner, which r_miner loads before it calls the method's part. */
typedef struct miner_part {
  st_code (*fn)(st_rpc_req *q, miner_view *v, st_err *err);
} miner_part;

static st_code r_miner(st_rpc_req *q, st_err *err) {
  const fn_addr_tsk_args *at = q->args;
  miner_view v;
  st_code code = miner_at(q->ctx, &at->addr, &at->tsk, &v, err);
  if (!code) code = ((const miner_part *)q->data)->fn(q, &v, err);
  miner_view_free(&v);
  return code;
}

static st_code info(st_rpc_req *q, miner_view *v, st_err *err) {
  (void)err;
  q->result = miner_info_json(q->ctx, &v->m);
  return ST_OK;
}

static json_t *claim_json(const mpz_t raw, const mpz_t qa) {
  return json_pack("{so so}", "RawBytePower", st_chain_json_bigint(raw), "QualityAdjPower", st_chain_json_bigint(qa));
}

static st_code power(st_rpc_req *q, miner_view *v, st_err *err) {
  st_fullnode *n = q->ctx;
  st_power_state p;
  st_code code = st_chain_power_state(n->chain, &v->ts.key, &p, err); /* initialises p either way */
  if (!code) {
    const st_power_claim *c = st_power_claim_of(&p, v->id);
    mpz_t zero;
    mpz_init(zero);
    q->result = json_pack("{so so sb}", "MinerPower", c ? claim_json(c->raw, c->qa) : claim_json(zero, zero),
                          "TotalPower", claim_json(p.total_raw, p.total_qa), "HasMinPower",
                          c && st_power_eligible(&p, v->id, st_chain_network(n->chain)->consensus_min_power));
    mpz_clear(zero);
  }
  st_power_state_free(&p);
  return code;
}

/* The deadline current at the view's height (NewDeadlineInfoFromOffsetAndEpoch). */
static void current_deadline(st_fullnode *n, const miner_view *v, st_deadline_info *d) {
  st_deadline_policy pol;
  st_deadline_policy_of(st_chain_network(n->chain), &pol);
  st_deadline_at(&pol, v->m.proving_period_start, v->ts.height, d);
}

static st_code proving_deadline(st_rpc_req *q, miner_view *v, st_err *err) {
  (void)err;
  st_deadline_info d;
  current_deadline(q->ctx, v, &d);
  st_deadline_next_not_elapsed(&d, &d); /* it has not elapsed, so NextNotElapsed keeps it */
  q->result = st_deadline_info_to_json(&d);
  return ST_OK;
}

static st_code deadlines(st_rpc_req *q, miner_view *v, st_err *err) {
  (void)err;
  json_t *arr = json_array();
  for (size_t d = 0; d < v->m.ndeadlines; d++)
    json_array_append_new(
        arr, json_pack("{so si ss}", "PostSubmissions", st_chain_json_bitfield(&v->m.deadlines[d].post_submissions),
                       "DisputableProofCount", 0, "DailyFee", "0"));
  q->result = arr;
  return ST_OK;
}

static st_code p_deadline_index(const json_t *params, void *args, st_err *err) {
  return fn_parse_addr_num_tsk(params, "deadline index", args, err);
}

static st_code p_sector_number(const json_t *params, void *args, st_err *err) {
  return fn_parse_addr_num_tsk(params, "sector number", args, err);
}

static st_code partitions(st_rpc_req *q, miner_view *v, st_err *err) {
  static const char *const NAMES[] = {"AllSectors", "FaultySectors", "RecoveringSectors", "LiveSectors",
                                      "ActiveSectors"};
  uint64_t dl = ((fn_addr_num_tsk_args *)q->args)->num;
  if (dl >= v->m.ndeadlines)
    return st_err_set(err, ST_EINVAL, "failed to load the deadline: deadline %llu does not exist (the miner has %zu)",
                      (unsigned long long)dl, v->m.ndeadlines);
  const st_deadline_state *d = &v->m.deadlines[dl];
  json_t *arr = json_array();
  st_bitfield bf;
  st_bitfield_init(&bf);
  st_code code = ST_OK;
  for (size_t p = 0; p < d->npartitions && !code; p++) {
    json_t *o = json_object();
    for (int which = PS_ALL; which <= PS_ACTIVE && !code; which++)
      if (!(code = partition_set(&d->partitions[p], which, &bf, err)))
        json_object_set_new(o, NAMES[which], st_chain_json_bitfield(&bf));
    json_array_append_new(arr, o);
  }
  st_bitfield_free(&bf);
  /* Lotus appends to a nil slice: no partitions is null */
  if (!code) q->result = json_array_size(arr) ? json_incref(arr) : json_null();
  json_decref(arr);
  return code;
}

/* StateMinerSectors [addr, filter (a bitfield, or null for every sector), tsk]. */
typedef struct sectors_args {
  fn_addr_tsk_args at;
  bool all;
  st_bitfield filter;
} sectors_args;

static st_code p_state_miner_sectors(const json_t *params, void *args, st_err *err) {
  sectors_args *a = args;
  st_bitfield_init(&a->filter);
  const json_t *f = json_array_get(params, 1);
  a->all = !f || json_is_null(f); /* Lotus: a nil filter is every sector */
  st_code code = fn_param_addr(params, 0, &a->at.addr, err);
  if (!code && !a->all) code = st_chain_json_get_bitfield(f, "param 2 (sector numbers)", &a->filter, err);
  return code ? code : fn_param_tsk(params, 2, &a->at.tsk, err);
}

static void free_sectors(void *args) {
  sectors_args *a = args;
  st_tipset_key_free(&a->at.tsk);
  st_bitfield_free(&a->filter);
}

static st_code sectors(st_rpc_req *q, miner_view *v, st_err *err) {
  const sectors_args *a = q->args;
  return sectors_json(&v->m, a->all ? NULL : &a->filter, &q->result, err);
}

/* Sectors (as [SectorOnChainInfo]) or a set (as a bitfield) over every partition. */
static st_code across_partitions(st_rpc_req *q, miner_view *v, int which, bool as_sectors, st_err *err) {
  st_bitfield bf;
  st_bitfield_init(&bf);
  st_code code = all_partitions(&v->m, which, &bf, err);
  if (!code && as_sectors) code = sectors_json(&v->m, &bf, &q->result, err);
  else if (!code) q->result = st_chain_json_bitfield(&bf);
  st_bitfield_free(&bf);
  return code;
}

static st_code active_sectors(st_rpc_req *q, miner_view *v, st_err *err) {
  return across_partitions(q, v, PS_ACTIVE, true, err);
}

static st_code faults(st_rpc_req *q, miner_view *v, st_err *err) {
  return across_partitions(q, v, PS_FAULTY, false, err);
}

static st_code recoveries(st_rpc_req *q, miner_view *v, st_err *err) {
  return across_partitions(q, v, PS_RECOVERING, false, err);
}

static st_code sector_info(st_rpc_req *q, miner_view *v, st_err *err) {
  (void)err;
  const st_sector_onchain *s = st_miner_sector(&v->m, ((fn_addr_num_tsk_args *)q->args)->num);
  q->result = s ? st_sector_onchain_to_json(s) : json_null(); /* Lotus: null when there is no such sector */
  return ST_OK;
}

static st_code precommit_info(st_rpc_req *q, miner_view *v, st_err *err) {
  const st_precommit *p = st_miner_precommit(&v->m, ((fn_addr_num_tsk_args *)q->args)->num);
  if (p) q->result = precommit_json(p);
  else if (q->version == 0) /* the v0 API's wrapper turns v1's null into this error */
    return st_err_set(err, ST_ENOENT, "precommit info does not exist");
  else q->result = json_null();
  return ST_OK;
}

static st_code available_balance(st_rpc_req *q, miner_view *v, st_err *err) {
  (void)err;
  mpz_t avail;
  mpz_init(avail);
  st_miner_available(&v->m, v->balance, avail);
  q->result = st_chain_json_bigint(avail);
  mpz_clear(avail);
  return ST_OK;
}

/* StateReadState for a miner: {Balance, Code, State} with the miner state's fund fields and
 * period (our subset of miner.State; other actors' states are not readable here). */
static st_code read_state(st_rpc_req *q, miner_view *v, st_err *err) {
  (void)err;
  mpz_t pledge;
  mpz_init(pledge);
  for (size_t i = 0; i < v->m.nsectors; i++) mpz_add(pledge, pledge, v->m.sectors[i].initial_pledge);
  st_deadline_info d;
  current_deadline(q->ctx, v, &d);
  st_cid code_cid;
  st_actor_code(ST_ACTOR_MINER, &code_cid);
  json_t *state =
      json_pack("{so so so so sI sI}", "PreCommitDeposits", st_chain_json_bigint(v->m.precommit_deposits),
                "LockedFunds", st_chain_json_bigint(v->m.locked_funds), "FeeDebt", st_chain_json_bigint(v->m.fee_debt),
                "InitialPledge", st_chain_json_bigint(pledge), "ProvingPeriodStart",
                (json_int_t)v->m.proving_period_start, "CurrentDeadline", (json_int_t)d.index);
  q->result = json_pack("{so so so}", "Balance", st_chain_json_bigint(v->balance), "Code", st_chain_json_cid(&code_cid),
                        "State", state);
  mpz_clear(pledge);
  return ST_OK;
}

static st_code sector_count(st_rpc_req *q, miner_view *v, st_err *err) {
  (void)err;
  st_miner_counts c;
  st_miner_counts_of(&v->m, &c);
  q->result = json_pack("{so so so}", "Live", st_chain_json_u64(c.live), "Active", st_chain_json_u64(c.active),
                        "Faulty", st_chain_json_u64(c.faulty));
  return ST_OK;
}

/* StateMinerSectorAllocated [addr, number, tsk]: whether the miner has used the number. */
static st_code sector_allocated(st_rpc_req *q, miner_view *v, st_err *err) {
  (void)err;
  q->result = json_boolean(st_bitfield_has(&v->m.allocated, ((fn_addr_num_tsk_args *)q->args)->num));
  return ST_OK;
}

/* [addr, SectorPreCommitInfo, tsk]: the info must be an object; its fields change nothing here. */
static st_code p_precommit_info(const json_t *params, void *args, st_err *err) {
  fn_addr_tsk_args *a = args;
  st_code code = fn_param_addr(params, 0, &a->addr, err);
  if (!code && !json_is_object(json_array_get(params, 1)))
    code = st_err_set(err, ST_EINVAL, "param 2 (sector pre-commit info): must be an object");
  return code ? code : fn_param_tsk(params, 2, &a->tsk, err);
}

/* StateMinerPreCommitDepositForPower and StateMinerInitialPledgeCollateral: on this chain both
 * are the network's flat sector pledge (the deposit at PreCommitSector becomes the pledge at
 * ProveCommitSector; docs/ARCHITECTURE.md), whatever the sector's size or deals. */
static st_code sector_pledge(st_rpc_req *q, miner_view *v, st_err *err) {
  (void)v, (void)err;
  mpz_t pledge;
  mpz_init_set_si(pledge, st_chain_network(((st_fullnode *)q->ctx)->chain)->sector_pledge);
  q->result = st_chain_json_bigint(pledge);
  mpz_clear(pledge);
  return ST_OK;
}

/* A method of the miner at [addr, (more params,) tsk]: its args and the part it answers with. */
#define FN_MINER_ARGS(name_, min, max, parse_, args_t, free_fn, part)                                       \
  {                                                                                                         \
    .name = "Filecoin." name_, .perm = ST_PERM_READ, .min_params = min, .max_params = max, .parse = parse_, \
    .args_size = sizeof(args_t), .free_args = free_fn, .run = r_miner, .data = &(const miner_part) {        \
      part                                                                                                  \
    }                                                                                                       \
  }
#define FN_MINER(name_, part) FN_MINER_ARGS(name_, 1, 2, fn_parse_addr_tsk, fn_addr_tsk_args, fn_free_addr_tsk, part)
#define FN_MINER_INDEX(name_, parse_, part) \
  FN_MINER_ARGS(name_, 2, 3, parse_, fn_addr_num_tsk_args, fn_free_addr_tsk, part)

static const st_rpc_method METHODS[] = {
    FN_MINER("StateMinerInfo", info),
    FN_MINER("StateMinerPower", power),
    FN_MINER("StateMinerProvingDeadline", proving_deadline),
    FN_MINER("StateMinerDeadlines", deadlines),
    FN_MINER_INDEX("StateMinerPartitions", p_deadline_index, partitions),
    FN_MINER_ARGS("StateMinerSectors", 1, 3, p_state_miner_sectors, sectors_args, free_sectors, sectors),
    FN_MINER("StateMinerActiveSectors", active_sectors),
    FN_MINER("StateMinerFaults", faults),
    FN_MINER("StateMinerRecoveries", recoveries),
    FN_MINER_INDEX("StateSectorGetInfo", p_sector_number, sector_info),
    FN_MINER_INDEX("StateSectorPreCommitInfo", p_sector_number, precommit_info),
    FN_MINER("StateMinerAvailableBalance", available_balance),
    FN_MINER("StateReadState", read_state),
    FN_MINER("StateMinerSectorCount", sector_count),
    FN_MINER_INDEX("StateMinerSectorAllocated", p_sector_number, sector_allocated),
    FN_MINER_ARGS("StateMinerPreCommitDepositForPower", 2, 3, p_precommit_info, fn_addr_tsk_args, fn_free_addr_tsk,
                  sector_pledge),
    FN_MINER_ARGS("StateMinerInitialPledgeCollateral", 2, 3, p_precommit_info, fn_addr_tsk_args, fn_free_addr_tsk,
                  sector_pledge),
};

fn_slice fn_miner_methods(void) { return (fn_slice){METHODS, sizeof METHODS / sizeof METHODS[0]}; }
