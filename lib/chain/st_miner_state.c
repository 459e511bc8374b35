/* st_miner_state: miner and power actor state, their CBOR forms and power sums.
 *
 * Miner state, a CBOR array of 13:
 *   [owner, worker, pending_worker, pending_worker_epoch, sector_size, window_post_proof,
 *    peer_id, precommit_deposits, locked_funds, fee_debt, proving_period_start,
 *    allocated (RLE+), precommits, sectors, deadlines, multiaddrs]  -- 16 items
 *   precommit = [number, seal_proof, sealed_cid, seal_rand_epoch, expiration, deposit,
 *                precommit_epoch, deal_weight, verified_deal_weight, deal_ids (RLE+)]
 *   sector    = [number, seal_proof, sealed_cid, activation, expiration, deal_weight,
 *                verified_deal_weight, initial_pledge, fault_epoch, deal_ids (RLE+)]
 *   multiaddrs = [bytes...], binary multiaddrs (ChangeMultiaddrs)
 *   deadline  = [[partition...], post_submissions]; partition = [sectors, faults, recoveries,
 *                terminated], each RLE+ bytes
 * Power state: [total_raw, total_qa, miners_above_min, [[miner, raw, qa]...]]. */
#include "chain/st_miner_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/st_chain_types.h"
#include "codec/st_cbor.h"
#include "codec/st_token.h"

static void precommit_init(st_precommit *p) {
  memset(p, 0, sizeof *p);
  mpz_inits(p->deposit, p->deal_weight, p->verified_deal_weight, NULL);
  st_bitfield_init(&p->deals);
}
static void precommit_free(st_precommit *p) {
  mpz_clears(p->deposit, p->deal_weight, p->verified_deal_weight, NULL);
  st_bitfield_free(&p->deals);
}
void st_sector_onchain_init(st_sector_onchain *s) {
  memset(s, 0, sizeof *s);
  mpz_inits(s->deal_weight, s->verified_deal_weight, s->initial_pledge, NULL);
  s->fault_epoch = -1;
  st_bitfield_init(&s->deals);
}
void st_sector_onchain_free(st_sector_onchain *s) {
  mpz_clears(s->deal_weight, s->verified_deal_weight, s->initial_pledge, NULL);
  st_bitfield_free(&s->deals);
}

json_t *st_sector_onchain_to_json(const st_sector_onchain *s) {
  return json_pack("{so sI so sI sI so so so ss ss sI ss sn si ss}", "SectorNumber", st_chain_json_u64(s->number),
                   "SealProof", (json_int_t)s->seal_proof, "SealedCID", st_chain_json_cid(&s->sealed_cid), "Activation",
                   (json_int_t)s->activation, "Expiration", (json_int_t)s->expiration, "DealWeight",
                   st_chain_json_bigint(s->deal_weight), "VerifiedDealWeight",
                   st_chain_json_bigint(s->verified_deal_weight), "InitialPledge",
                   st_chain_json_bigint(s->initial_pledge), "ExpectedDayReward", "0", "ExpectedStoragePledge", "0",
                   "PowerBaseEpoch", (json_int_t)s->activation, "ReplacedDayReward", "0", "SectorKeyCID", "Flags", 0,
                   "DailyFee", "0");
}

/* An integer field of j into out. */
static st_code int_field(const json_t *j, const char *what, const char *name, int64_t *out, st_err *err) {
  const json_t *v = json_object_get(j, name);
  if (!json_is_integer(v)) return st_err_set(err, ST_EINVAL, "%s.%s: must be an integer", what, name);
  *out = json_integer_value(v);
  return ST_OK;
}

st_code st_sector_onchain_from_json(const json_t *j, const char *what, st_sector_onchain *out, st_err *err) {
  char path[96];
  st_sector_onchain_init(out);
  if (!json_is_object(j)) return st_err_set(err, ST_EINVAL, "%s: must be a SectorOnChainInfo object", what);
  st_code code = st_chain_json_u64_value(json_object_get(j, "SectorNumber"), &out->number)
                     ? ST_OK
                     : st_err_set(err, ST_EINVAL, "%s.SectorNumber: must be an unsigned integer", what);
  if (!code) code = int_field(j, what, "SealProof", &out->seal_proof, err);
  snprintf(path, sizeof path, "%s.SealedCID", what);
  if (!code) code = st_chain_json_get_cid(json_object_get(j, "SealedCID"), path, &out->sealed_cid, err);
  if (!code) code = int_field(j, what, "Activation", &out->activation, err);
  if (!code) code = int_field(j, what, "Expiration", &out->expiration, err);
  static const char *const AMOUNTS[] = {"DealWeight", "VerifiedDealWeight", "InitialPledge"};
  mpz_ptr amounts[] = {out->deal_weight, out->verified_deal_weight, out->initial_pledge};
  for (size_t i = 0; i < 3 && !code; i++) {
    snprintf(path, sizeof path, "%s.%s", what, AMOUNTS[i]);
    code = st_chain_json_get_bigint(json_object_get(j, AMOUNTS[i]), path, amounts[i], err);
  }
  if (code) {
    st_sector_onchain_free(out);
    st_sector_onchain_init(out);
  }
  return code;
}

static void partition_free(st_partition *p) {
  st_bitfield_free(&p->sectors);
  st_bitfield_free(&p->faults);
  st_bitfield_free(&p->recoveries);
  st_bitfield_free(&p->terminated);
}

st_code st_miner_state_init(st_miner_state *m, size_t ndeadlines, st_err *err) {
  memset(m, 0, sizeof *m);
  st_buf_init(&m->peer_id);
  mpz_inits(m->precommit_deposits, m->locked_funds, m->fee_debt, NULL);
  st_bitfield_init(&m->allocated);
  if (ndeadlines && !(m->deadlines = calloc(ndeadlines, sizeof *m->deadlines)))
    return st_err_set(err, ST_ENOMEM, "out of memory for deadlines");
  m->ndeadlines = ndeadlines;
  return ST_OK;
}

void st_miner_state_free(st_miner_state *m) {
  st_buf_free(&m->peer_id);
  mpz_clears(m->precommit_deposits, m->locked_funds, m->fee_debt, NULL);
  st_bitfield_free(&m->allocated);
  for (size_t i = 0; i < m->nprecommits; i++) precommit_free(&m->precommits[i]);
  free(m->precommits);
  for (size_t i = 0; i < m->nsectors; i++) st_sector_onchain_free(&m->sectors[i]);
  free(m->sectors);
  for (size_t d = 0; d < m->ndeadlines; d++) {
    for (size_t p = 0; p < m->deadlines[d].npartitions; p++) partition_free(&m->deadlines[d].partitions[p]);
    free(m->deadlines[d].partitions);
    st_bitfield_free(&m->deadlines[d].post_submissions);
  }
  free(m->deadlines);
  for (size_t i = 0; i < m->nmultiaddrs; i++) st_buf_free(&m->multiaddrs[i]);
  memset(m, 0, sizeof *m);
}

/* ---- encoding ---- */

void st_miner_state_encode(const st_miner_state *m, st_buf *b) {
  st_cbor_put_array(b, 16);
  st_cbor_put_uint(b, m->owner);
  st_cbor_put_uint(b, m->worker);
  st_cbor_put_uint(b, m->pending_worker);
  st_cbor_put_int(b, m->pending_worker_epoch);
  st_cbor_put_uint(b, m->sector_size);
  st_cbor_put_int(b, m->window_post_proof);
  st_cbor_put_bytes(b, m->peer_id.data, m->peer_id.len);
  st_cbor_put_bigint(b, m->precommit_deposits);
  st_cbor_put_bigint(b, m->locked_funds);
  st_cbor_put_bigint(b, m->fee_debt);
  st_cbor_put_int(b, m->proving_period_start);
  st_chain_put_bitfield(b, &m->allocated);
  st_cbor_put_array(b, m->nprecommits);
  for (size_t i = 0; i < m->nprecommits; i++) {
    const st_precommit *p = &m->precommits[i];
    st_cbor_put_array(b, 10);
    st_cbor_put_uint(b, p->number);
    st_cbor_put_int(b, p->seal_proof);
    st_cbor_put_cid(b, &p->sealed_cid);
    st_cbor_put_int(b, p->seal_rand_epoch);
    st_cbor_put_int(b, p->expiration);
    st_cbor_put_bigint(b, p->deposit);
    st_cbor_put_int(b, p->precommit_epoch);
    st_cbor_put_bigint(b, p->deal_weight);
    st_cbor_put_bigint(b, p->verified_deal_weight);
    st_chain_put_bitfield(b, &p->deals);
  }
  st_cbor_put_array(b, m->nsectors);
  for (size_t i = 0; i < m->nsectors; i++) {
    const st_sector_onchain *s = &m->sectors[i];
    st_cbor_put_array(b, 10);
    st_cbor_put_uint(b, s->number);
    st_cbor_put_int(b, s->seal_proof);
    st_cbor_put_cid(b, &s->sealed_cid);
    st_cbor_put_int(b, s->activation);
    st_cbor_put_int(b, s->expiration);
    st_cbor_put_bigint(b, s->deal_weight);
    st_cbor_put_bigint(b, s->verified_deal_weight);
    st_cbor_put_bigint(b, s->initial_pledge);
    st_cbor_put_int(b, s->fault_epoch);
    st_chain_put_bitfield(b, &s->deals);
  }
  st_cbor_put_array(b, m->ndeadlines);
  for (size_t d = 0; d < m->ndeadlines; d++) {
    const st_deadline_state *dl = &m->deadlines[d];
    st_cbor_put_array(b, 2);
    st_cbor_put_array(b, dl->npartitions);
    for (size_t p = 0; p < dl->npartitions; p++) {
      const st_partition *pt = &dl->partitions[p];
      st_cbor_put_array(b, 4);
      st_chain_put_bitfield(b, &pt->sectors);
      st_chain_put_bitfield(b, &pt->faults);
      st_chain_put_bitfield(b, &pt->recoveries);
      st_chain_put_bitfield(b, &pt->terminated);
    }
    st_chain_put_bitfield(b, &dl->post_submissions);
  }
  st_cbor_put_array(b, m->nmultiaddrs);
  for (size_t i = 0; i < m->nmultiaddrs; i++) st_cbor_put_bytes(b, m->multiaddrs[i].data, m->multiaddrs[i].len);
}

static st_code read_items(st_cbor_reader *r, uint64_t *n, size_t limit, const char *what) {
  st_code code = st_cbor_read_array(r, n);
  if (!code && *n > limit)
    code = st_err_set(r->err, ST_EINVAL, "%s: %llu items cannot fit", what, (unsigned long long)*n);
  return code;
}

/* The info and funds: the first 12 fields. */
static st_code read_info(st_cbor_reader *r, st_miner_state *m) {
  const uint8_t *peer;
  size_t npeer;
  st_code code = st_cbor_read_uint(r, &m->owner);
  if (!code) code = st_cbor_read_uint(r, &m->worker);
  if (!code) code = st_cbor_read_uint(r, &m->pending_worker);
  if (!code) code = st_cbor_read_int(r, &m->pending_worker_epoch);
  if (!code) code = st_cbor_read_uint(r, &m->sector_size);
  if (!code) code = st_cbor_read_int(r, &m->window_post_proof);
  if (!code) code = st_cbor_read_bytes(r, &peer, &npeer);
  if (!code) {
    st_buf_append(&m->peer_id, peer, npeer);
    code = st_buf_status(&m->peer_id, r->err);
  }
  if (!code) code = st_cbor_read_bigint(r, m->precommit_deposits);
  if (!code) code = st_cbor_read_bigint(r, m->locked_funds);
  if (!code) code = st_cbor_read_bigint(r, m->fee_debt);
  if (!code) code = st_cbor_read_int(r, &m->proving_period_start);
  if (!code) code = st_chain_read_bitfield(r, &m->allocated);
  return code;
}

static st_code read_precommits(st_cbor_reader *r, size_t len, st_miner_state *m) {
  uint64_t n = 0;
  st_code code = read_items(r, &n, len, "miner precommits");
  if (!code && n && !(m->precommits = calloc(n, sizeof *m->precommits)))
    code = st_err_set(r->err, ST_ENOMEM, "out of memory");
  for (uint64_t i = 0; i < n && !code; i++) {
    st_precommit *p = &m->precommits[i];
    precommit_init(p);
    m->nprecommits++;
    code = st_cbor_expect_array(r, 10, "precommit");
    if (!code) code = st_cbor_read_uint(r, &p->number);
    if (!code) code = st_cbor_read_int(r, &p->seal_proof);
    if (!code) code = st_cbor_read_cid(r, &p->sealed_cid);
    if (!code) code = st_cbor_read_int(r, &p->seal_rand_epoch);
    if (!code) code = st_cbor_read_int(r, &p->expiration);
    if (!code) code = st_cbor_read_bigint(r, p->deposit);
    if (!code) code = st_cbor_read_int(r, &p->precommit_epoch);
    if (!code) code = st_cbor_read_bigint(r, p->deal_weight);
    if (!code) code = st_cbor_read_bigint(r, p->verified_deal_weight);
    if (!code) code = st_chain_read_bitfield(r, &p->deals);
    if (!code && i && p->number <= m->precommits[i - 1].number)
      code = st_err_set(r->err, ST_EINVAL, "precommits are not in sector order");
  }
  return code;
}

static st_code read_sectors(st_cbor_reader *r, size_t len, st_miner_state *m) {
  uint64_t n = 0;
  st_code code = read_items(r, &n, len, "miner sectors");
  if (!code && n && !(m->sectors = calloc(n, sizeof *m->sectors)))
    code = st_err_set(r->err, ST_ENOMEM, "out of memory");
  for (uint64_t i = 0; i < n && !code; i++) {
    st_sector_onchain *s = &m->sectors[i];
    st_sector_onchain_init(s);
    m->nsectors++;
    code = st_cbor_expect_array(r, 10, "sector");
    if (!code) code = st_cbor_read_uint(r, &s->number);
    if (!code) code = st_cbor_read_int(r, &s->seal_proof);
    if (!code) code = st_cbor_read_cid(r, &s->sealed_cid);
    if (!code) code = st_cbor_read_int(r, &s->activation);
    if (!code) code = st_cbor_read_int(r, &s->expiration);
    if (!code) code = st_cbor_read_bigint(r, s->deal_weight);
    if (!code) code = st_cbor_read_bigint(r, s->verified_deal_weight);
    if (!code) code = st_cbor_read_bigint(r, s->initial_pledge);
    if (!code) code = st_cbor_read_int(r, &s->fault_epoch);
    if (!code) code = st_chain_read_bitfield(r, &s->deals);
    if (!code && i && s->number <= m->sectors[i - 1].number)
      code = st_err_set(r->err, ST_EINVAL, "sectors are not in order");
  }
  return code;
}

static st_code read_deadline(st_cbor_reader *r, size_t len, st_deadline_state *dl) {
  uint64_t np = 0;
  st_code code = st_cbor_expect_array(r, 2, "deadline");
  if (!code) code = read_items(r, &np, len, "partitions");
  if (!code && np && !(dl->partitions = calloc(np, sizeof *dl->partitions)))
    code = st_err_set(r->err, ST_ENOMEM, "out of memory");
  if (!code) dl->npartitions = np;
  for (uint64_t p = 0; p < np && !code; p++) {
    st_partition *pt = &dl->partitions[p];
    code = st_cbor_expect_array(r, 4, "partition");
    if (!code) code = st_chain_read_bitfield(r, &pt->sectors);
    if (!code) code = st_chain_read_bitfield(r, &pt->faults);
    if (!code) code = st_chain_read_bitfield(r, &pt->recoveries);
    if (!code) code = st_chain_read_bitfield(r, &pt->terminated);
  }
  return code ? code : st_chain_read_bitfield(r, &dl->post_submissions);
}

static st_code read_multiaddrs(st_cbor_reader *r, st_miner_state *m) {
  uint64_t n = 0;
  st_code code = read_items(r, &n, ST_MINER_MAX_MULTIADDRS, "miner multiaddrs");
  for (uint64_t i = 0; i < n && !code; i++) {
    const uint8_t *a;
    size_t na;
    st_buf_init(&m->multiaddrs[i]);
    m->nmultiaddrs++;
    code = st_cbor_read_bytes(r, &a, &na);
    if (!code) st_buf_append(&m->multiaddrs[i], a, na);
    if (!code) code = st_buf_status(&m->multiaddrs[i], r->err);
  }
  return code;
}

st_code st_miner_state_decode(const uint8_t *buf, size_t len, st_miner_state *m, st_err *err) {
  st_code code = st_miner_state_init(m, 0, err);
  if (code) return code;
  st_cbor_reader r;
  st_cbor_reader_init(&r, buf, len, err);
  uint64_t n = 0;
  code = st_cbor_expect_array(&r, 16, "miner state");
  if (!code) code = read_info(&r, m);
  if (!code) code = read_precommits(&r, len, m);
  if (!code) code = read_sectors(&r, len, m);
  if (!code) code = read_items(&r, &n, 4096, "miner deadlines");
  if (!code && n && !(m->deadlines = calloc(n, sizeof *m->deadlines)))
    code = st_err_set(err, ST_ENOMEM, "out of memory");
  if (!code) m->ndeadlines = n;
  for (uint64_t d = 0; d < m->ndeadlines && !code; d++) code = read_deadline(&r, len, &m->deadlines[d]);
  if (!code) code = read_multiaddrs(&r, m);
  if (!code) code = st_cbor_finish(&r);
  if (!code) return ST_OK;
  st_miner_state_free(m);
  st_miner_state_init(m, 0, NULL); /* empty; with no deadlines it cannot fail */
  return st_err_wrap(err, code, "miner state");
}

/* ---- lookups ---- */

#define FIND(arr, n, num, out)                     \
  do {                                             \
    size_t lo = 0, hi = (n);                       \
    while (lo < hi) {                              \
      size_t mid = lo + (hi - lo) / 2;             \
      if ((arr)[mid].number < (num)) lo = mid + 1; \
      else hi = mid;                               \
    }                                              \
    (out) = lo;                                    \
  } while (0)

st_precommit *st_miner_precommit(st_miner_state *m, uint64_t number) {
  size_t i;
  FIND(m->precommits, m->nprecommits, number, i);
  return i < m->nprecommits && m->precommits[i].number == number ? &m->precommits[i] : NULL;
}

st_sector_onchain *st_miner_sector(st_miner_state *m, uint64_t number) {
  size_t i;
  FIND(m->sectors, m->nsectors, number, i);
  return i < m->nsectors && m->sectors[i].number == number ? &m->sectors[i] : NULL;
}

st_precommit *st_miner_add_precommit(st_miner_state *m, uint64_t number) {
  st_precommit *a = realloc(m->precommits, (m->nprecommits + 1) * sizeof *a);
  if (!a) return NULL;
  m->precommits = a;
  size_t i;
  FIND(m->precommits, m->nprecommits, number, i);
  memmove(&a[i + 1], &a[i], (m->nprecommits - i) * sizeof *a);
  m->nprecommits++;
  precommit_init(&a[i]);
  a[i].number = number;
  return &a[i];
}

st_sector_onchain *st_miner_add_sector(st_miner_state *m, uint64_t number) {
  st_sector_onchain *a = realloc(m->sectors, (m->nsectors + 1) * sizeof *a);
  if (!a) return NULL;
  m->sectors = a;
  size_t i;
  FIND(m->sectors, m->nsectors, number, i);
  memmove(&a[i + 1], &a[i], (m->nsectors - i) * sizeof *a);
  m->nsectors++;
  st_sector_onchain_init(&a[i]);
  a[i].number = number;
  return &a[i];
}

void st_miner_remove_precommit(st_miner_state *m, uint64_t number) {
  st_precommit *p = st_miner_precommit(m, number);
  if (!p) return;
  size_t i = (size_t)(p - m->precommits);
  precommit_free(p);
  memmove(&m->precommits[i], &m->precommits[i + 1], (m->nprecommits - i - 1) * sizeof *p);
  m->nprecommits--;
}

void st_miner_remove_sector(st_miner_state *m, uint64_t number) {
  st_sector_onchain *s = st_miner_sector(m, number);
  if (!s) return;
  size_t i = (size_t)(s - m->sectors);
  st_sector_onchain_free(s);
  memmove(&m->sectors[i], &m->sectors[i + 1], (m->nsectors - i - 1) * sizeof *s);
  m->nsectors--;
}

void st_miner_mark_faulty(st_miner_state *m, const st_bitfield *sectors, int64_t epoch) {
  st_bitfield_iter it;
  uint64_t n;
  st_bitfield_iter_init(&it, sectors);
  while (st_bitfield_iter_next(&it, &n)) {
    st_sector_onchain *s = st_miner_sector(m, n);
    if (s && s->fault_epoch < 0) s->fault_epoch = epoch;
  }
}

st_code st_miner_locate(const st_miner_state *m, uint64_t number, uint64_t *dl, uint64_t *part, st_err *err) {
  for (size_t d = 0; d < m->ndeadlines; d++)
    for (size_t p = 0; p < m->deadlines[d].npartitions; p++)
      if (st_bitfield_has(&m->deadlines[d].partitions[p].sectors, number)) {
        *dl = d;
        *part = p;
        return ST_OK;
      }
  return st_err_set(err, ST_ENOENT, "sector %llu is in no partition", (unsigned long long)number);
}

/* ---- power ---- */

void st_qa_power_for_weight(uint64_t size, int64_t duration, const mpz_t deal_weight, const mpz_t verified_weight,
                            mpz_t out) {
  if (duration <= 0) {
    mpz_set_ui(out, size);
    return;
  }
  mpz_t st, base, sum, q;
  mpz_inits(st, base, sum, q, NULL);
  mpz_set_ui(st, size);
  mpz_mul_ui(st, st, (unsigned long)duration);
  mpz_sub(base, st, deal_weight);
  mpz_sub(base, base, verified_weight);
  mpz_mul_ui(sum, base, 10);
  mpz_addmul_ui(sum, deal_weight, 10);
  mpz_addmul_ui(sum, verified_weight, 100);
  mpz_mul_2exp(q, sum, 20);
  mpz_fdiv_q(q, q, st);
  mpz_fdiv_q_ui(q, q, 10);
  mpz_mul_ui(out, q, size);
  mpz_fdiv_q_2exp(out, out, 20);
  mpz_clears(st, base, sum, q, NULL);
}

static void sector_qa(const st_miner_state *m, const st_sector_onchain *s, mpz_t out) {
  st_qa_power_for_weight(m->sector_size, s->expiration - s->activation, s->deal_weight, s->verified_deal_weight, out);
}

st_code st_miner_active(const st_miner_state *m, st_bitfield *out, st_err *err) {
  st_bitfield_clear(out);
  st_bitfield x = ST_BITFIELD_INIT;
  st_code code = ST_OK;
  for (size_t d = 0; d < m->ndeadlines && !code; d++)
    for (size_t p = 0; p < m->deadlines[d].npartitions && !code; p++) {
      const st_partition *pt = &m->deadlines[d].partitions[p];
      code = st_bitfield_subtract(&pt->sectors, &pt->faults, &x, err);
      if (!code) code = st_bitfield_subtract(&x, &pt->terminated, &x, err);
      if (!code) code = st_bitfield_union(out, &x, out, err);
    }
  st_bitfield_free(&x);
  if (code) st_bitfield_clear(out);
  return code;
}

st_code st_miner_power(const st_miner_state *m, mpz_t raw, mpz_t qa, st_err *err) {
  mpz_set_ui(raw, 0);
  mpz_set_ui(qa, 0);
  st_bitfield active = ST_BITFIELD_INIT;
  st_code code = st_miner_active(m, &active, err);
  mpz_t one;
  mpz_init(one);
  st_bitfield_iter it;
  uint64_t n;
  st_bitfield_iter_init(&it, &active);
  while (st_bitfield_iter_next(&it, &n)) {
    const st_sector_onchain *s = st_miner_sector((st_miner_state *)m, n);
    if (!s) continue;
    mpz_add_ui(raw, raw, m->sector_size);
    sector_qa(m, s, one);
    mpz_add(qa, qa, one);
  }
  st_bitfield_free(&active);
  mpz_clear(one);
  return code;
}

/* Counted sector by sector, without sets to build: a view of the state cannot fail. */
void st_miner_counts_of(const st_miner_state *m, st_miner_counts *out) {
  *out = (st_miner_counts){0};
  for (size_t d = 0; d < m->ndeadlines; d++)
    for (size_t p = 0; p < m->deadlines[d].npartitions; p++) {
      const st_partition *pt = &m->deadlines[d].partitions[p];
      st_bitfield_iter it;
      uint64_t n;
      st_bitfield_iter_init(&it, &pt->sectors);
      while (st_bitfield_iter_next(&it, &n)) {
        if (st_bitfield_has(&pt->terminated, n)) continue;
        out->live++;
        if (st_bitfield_has(&pt->faults, n)) out->faulty++;
        else out->active++;
        if (st_bitfield_has(&pt->recoveries, n)) out->recovering++;
      }
    }
}

void st_miner_available(const st_miner_state *m, const mpz_t balance, mpz_t out) {
  mpz_sub(out, balance, m->precommit_deposits);
  mpz_sub(out, out, m->locked_funds);
  mpz_sub(out, out, m->fee_debt);
  if (mpz_sgn(out) < 0) mpz_set_ui(out, 0);
}

/* ---- the power actor ---- */

void st_power_state_init(st_power_state *p) {
  memset(p, 0, sizeof *p);
  mpz_inits(p->total_raw, p->total_qa, NULL);
}

void st_power_state_free(st_power_state *p) {
  for (size_t i = 0; i < p->nclaims; i++) mpz_clears(p->claims[i].raw, p->claims[i].qa, NULL);
  free(p->claims);
  mpz_clears(p->total_raw, p->total_qa, NULL);
  memset(p, 0, sizeof *p);
}

void st_power_state_encode(const st_power_state *p, st_buf *b) {
  st_cbor_put_array(b, 4);
  st_cbor_put_bigint(b, p->total_raw);
  st_cbor_put_bigint(b, p->total_qa);
  st_cbor_put_uint(b, p->miners_above_min);
  st_cbor_put_array(b, p->nclaims);
  for (size_t i = 0; i < p->nclaims; i++) {
    st_cbor_put_array(b, 3);
    st_cbor_put_uint(b, p->claims[i].miner);
    st_cbor_put_bigint(b, p->claims[i].raw);
    st_cbor_put_bigint(b, p->claims[i].qa);
  }
}

st_code st_power_state_decode(const uint8_t *buf, size_t len, st_power_state *p, st_err *err) {
  st_power_state_init(p);
  st_cbor_reader r;
  st_cbor_reader_init(&r, buf, len, err);
  uint64_t n = 0;
  st_code code = st_cbor_expect_array(&r, 4, "power state");
  if (!code) code = st_cbor_read_bigint(&r, p->total_raw);
  if (!code) code = st_cbor_read_bigint(&r, p->total_qa);
  if (!code) code = st_cbor_read_uint(&r, &p->miners_above_min);
  if (!code) code = read_items(&r, &n, len, "power claims");
  if (!code && n && !(p->claims = calloc(n, sizeof *p->claims))) code = st_err_set(err, ST_ENOMEM, "out of memory");
  for (uint64_t i = 0; i < n && !code; i++) {
    st_power_claim *c = &p->claims[i];
    mpz_inits(c->raw, c->qa, NULL);
    p->nclaims++;
    code = st_cbor_expect_array(&r, 3, "claim");
    if (!code) code = st_cbor_read_uint(&r, &c->miner);
    if (!code) code = st_cbor_read_bigint(&r, c->raw);
    if (!code) code = st_cbor_read_bigint(&r, c->qa);
    if (!code && i && c->miner <= p->claims[i - 1].miner)
      code = st_err_set(err, ST_EINVAL, "claims are not in miner order");
  }
  if (!code) code = st_cbor_finish(&r);
  if (!code) return ST_OK;
  st_power_state_free(p);
  st_power_state_init(p);
  return st_err_wrap(err, code, "power state");
}

st_power_claim *st_power_claim_of(st_power_state *p, uint64_t miner) {
  for (size_t i = 0; i < p->nclaims; i++)
    if (p->claims[i].miner == miner) return &p->claims[i];
  return NULL;
}

st_code st_power_add_miner(st_power_state *p, uint64_t miner, st_err *err) {
  if (st_power_claim_of(p, miner))
    return st_err_set(err, ST_EEXIST, "miner t0%llu has a claim already", (unsigned long long)miner);
  st_power_claim *a = realloc(p->claims, (p->nclaims + 1) * sizeof *a);
  if (!a) return st_err_set(err, ST_ENOMEM, "out of memory adding a claim");
  p->claims = a;
  size_t i = p->nclaims;
  while (i > 0 && a[i - 1].miner > miner) {
    a[i] = a[i - 1];
    i--;
  }
  a[i].miner = miner;
  mpz_inits(a[i].raw, a[i].qa, NULL);
  p->nclaims++;
  return ST_OK;
}

st_code st_power_set_claim(st_power_state *p, uint64_t miner, const mpz_t raw, const mpz_t qa, int64_t min_power,
                           st_err *err) {
  st_power_claim *c = st_power_claim_of(p, miner);
  if (!c) return st_err_set(err, ST_ENOENT, "miner t0%llu has no power claim", (unsigned long long)miner);
  bool was = mpz_cmp_si(c->raw, min_power) >= 0 && mpz_sgn(c->raw) > 0;
  bool now = mpz_cmp_si(raw, min_power) >= 0 && mpz_sgn(raw) > 0;
  mpz_sub(p->total_raw, p->total_raw, c->raw);
  mpz_sub(p->total_qa, p->total_qa, c->qa);
  mpz_set(c->raw, raw);
  mpz_set(c->qa, qa);
  mpz_add(p->total_raw, p->total_raw, raw);
  mpz_add(p->total_qa, p->total_qa, qa);
  if (was && !now) p->miners_above_min--;
  if (!was && now) p->miners_above_min++;
  return ST_OK;
}

bool st_power_eligible(const st_power_state *p, uint64_t miner, int64_t min_power) {
  const st_power_claim *c = st_power_claim_of((st_power_state *)p, miner);
  if (!c || mpz_sgn(c->raw) <= 0) return false;
  if (mpz_cmp_si(c->raw, min_power) >= 0) return true;
  return p->miners_above_min < ST_CONSENSUS_MIN_MINERS;
}
