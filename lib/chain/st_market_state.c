/* st_market_state: the market's and the verified registry's state over their CBOR. */
#include "chain/st_market_state.h"

#include <stdlib.h>
#include <string.h>

#include "chain/st_chain_types.h"
#include "codec/st_cbor.h"
#include "codec/st_token.h"

/* ---------------------------------------------------------------- market state */

void st_market_state_init(st_market_state *m) { memset(m, 0, sizeof *m); }

static void deal_free(st_market_deal *d) { st_deal_proposal_clear(&d->proposal); }

void st_market_state_free(st_market_state *m) {
  for (size_t i = 0; i < m->nbalances; i++) mpz_clears(m->balances[i].escrow, m->balances[i].locked, NULL);
  free(m->balances);
  for (size_t i = 0; i < m->ndeals; i++) deal_free(&m->deals[i]);
  free(m->deals);
  memset(m, 0, sizeof *m);
}

void st_market_state_encode(const st_market_state *m, st_buf *b) {
  st_cbor_put_array(b, 3);
  st_cbor_put_uint(b, m->next_deal_id);
  st_cbor_put_array(b, m->nbalances);
  for (size_t i = 0; i < m->nbalances; i++) {
    st_cbor_put_array(b, 3);
    st_cbor_put_uint(b, m->balances[i].id);
    st_cbor_put_bigint(b, m->balances[i].escrow);
    st_cbor_put_bigint(b, m->balances[i].locked);
  }
  st_cbor_put_array(b, m->ndeals);
  for (size_t i = 0; i < m->ndeals; i++) {
    const st_market_deal *d = &m->deals[i];
    st_cbor_put_array(b, 7);
    st_cbor_put_uint(b, d->id);
    st_deal_proposal_encode(&d->proposal, b);
    st_cbor_put_cid(b, &d->proposal_cid);
    st_cbor_put_int(b, d->sector_start);
    st_cbor_put_int(b, d->last_updated);
    st_cbor_put_int(b, d->slash_epoch);
    st_cbor_put_uint(b, d->sector);
  }
}

st_market_balance *st_market_balance_add(st_market_state *m, uint64_t id) {
  size_t i = 0;
  while (i < m->nbalances && m->balances[i].id < id) i++;
  if (i < m->nbalances && m->balances[i].id == id) return &m->balances[i];
  st_market_balance *b = realloc(m->balances, (m->nbalances + 1) * sizeof *b);
  if (!b) return NULL;
  m->balances = b;
  memmove(&b[i + 1], &b[i], (m->nbalances - i) * sizeof *b);
  m->nbalances++;
  b[i].id = id;
  mpz_inits(b[i].escrow, b[i].locked, NULL);
  return &b[i];
}

st_market_deal *st_market_deal_append(st_market_state *m) {
  st_market_deal *d = realloc(m->deals, (m->ndeals + 1) * sizeof *d);
  if (!d) return NULL;
  m->deals = d;
  d = &d[m->ndeals++];
  memset(d, 0, sizeof *d);
  st_deal_proposal_init(&d->proposal);
  d->sector_start = d->last_updated = d->slash_epoch = -1;
  return d;
}

void st_market_deal_remove(st_market_state *m, size_t i) {
  deal_free(&m->deals[i]);
  memmove(&m->deals[i], &m->deals[i + 1], (m->ndeals - i - 1) * sizeof m->deals[0]);
  m->ndeals--;
}

st_code st_market_state_decode(const uint8_t *p, size_t len, st_market_state *m, st_err *err) {
  st_market_state_init(m);
  st_cbor_reader r;
  st_cbor_reader_init(&r, p, len, err);
  uint64_t n = 0;
  st_code code = st_cbor_expect_array(&r, 3, "market state");
  if (!code) code = st_cbor_read_uint(&r, &m->next_deal_id);
  if (!code) code = st_cbor_read_array(&r, &n);
  for (uint64_t i = 0; i < n && !code; i++) {
    uint64_t id = 0;
    st_market_balance *b = NULL;
    code = st_cbor_expect_array(&r, 3, "market balance");
    if (!code) code = st_cbor_read_uint(&r, &id);
    if (!code && (m->nbalances && m->balances[m->nbalances - 1].id >= id))
      code = st_err_set(err, ST_EINVAL, "market balances out of order at t0%llu", (unsigned long long)id);
    if (!code && !(b = st_market_balance_add(m, id))) code = st_err_set(err, ST_ENOMEM, "out of memory");
    if (!code) code = st_cbor_read_bigint(&r, b->escrow);
    if (!code) code = st_cbor_read_bigint(&r, b->locked);
  }
  if (!code) code = st_cbor_read_array(&r, &n);
  for (uint64_t i = 0; i < n && !code; i++) {
    st_market_deal *d = st_market_deal_append(m);
    if (!d) code = st_err_set(err, ST_ENOMEM, "out of memory");
    if (!code) code = st_cbor_expect_array(&r, 7, "market deal");
    if (!code) code = st_cbor_read_uint(&r, &d->id);
    if (!code) code = st_deal_proposal_read(&r, &d->proposal);
    if (!code) code = st_cbor_read_cid(&r, &d->proposal_cid);
    if (!code) code = st_cbor_read_int(&r, &d->sector_start);
    if (!code) code = st_cbor_read_int(&r, &d->last_updated);
    if (!code) code = st_cbor_read_int(&r, &d->slash_epoch);
    if (!code) code = st_cbor_read_uint(&r, &d->sector);
  }
  if (!code) code = st_cbor_finish(&r);
  if (!code) return ST_OK;
  st_market_state_free(m); /* empty, as _init leaves it */
  return st_err_wrap(err, code, "market state");
}

st_market_deal *st_market_deal_of(const st_market_state *m, uint64_t id) {
  for (size_t i = 0; i < m->ndeals; i++)
    if (m->deals[i].id == id) return &m->deals[i];
  return NULL;
}

void st_market_balance_of(const st_market_state *m, uint64_t id, mpz_t escrow, mpz_t locked) {
  mpz_set_ui(escrow, 0);
  mpz_set_ui(locked, 0);
  for (size_t i = 0; i < m->nbalances; i++)
    if (m->balances[i].id == id) {
      mpz_set(escrow, m->balances[i].escrow);
      mpz_set(locked, m->balances[i].locked);
    }
}

json_t *st_market_deal_to_json(const st_market_deal *d) {
  return json_pack("{so s{sI sI sI}}", "Proposal", st_deal_proposal_to_json(&d->proposal), "State", "SectorStartEpoch",
                   (json_int_t)d->sector_start, "LastUpdatedEpoch", (json_int_t)d->last_updated, "SlashEpoch",
                   (json_int_t)d->slash_epoch);
}

/* ---------------------------------------------------------------- verifreg state */

void st_verifreg_state_init(st_verifreg_state *v) { memset(v, 0, sizeof *v); }

static void entries_free(st_verifreg_entry *e, size_t n) {
  for (size_t i = 0; i < n; i++) mpz_clear(e[i].amount);
  free(e);
}

void st_verifreg_state_free(st_verifreg_state *v) {
  entries_free(v->verifiers, v->nverifiers);
  entries_free(v->clients, v->nclients);
  memset(v, 0, sizeof *v);
}

static void entries_encode(const st_verifreg_entry *e, size_t n, st_buf *b) {
  st_cbor_put_array(b, n);
  for (size_t i = 0; i < n; i++) {
    st_cbor_put_array(b, 2);
    st_cbor_put_uint(b, e[i].id);
    st_cbor_put_bigint(b, e[i].amount);
  }
}

void st_verifreg_state_encode(const st_verifreg_state *v, st_buf *b) {
  st_cbor_put_array(b, 2);
  entries_encode(v->verifiers, v->nverifiers, b);
  entries_encode(v->clients, v->nclients, b);
}

st_verifreg_entry *st_verifreg_find(st_verifreg_entry *list, size_t n, uint64_t id) {
  for (size_t i = 0; i < n; i++)
    if (list[i].id == id) return &list[i];
  return NULL;
}

/* The entry for id, added (zero) in order if missing; NULL on out of memory. */
st_verifreg_entry *st_verifreg_entry_add(st_verifreg_entry **list, size_t *n, uint64_t id) {
  size_t i = 0;
  while (i < *n && (*list)[i].id < id) i++;
  if (i < *n && (*list)[i].id == id) return &(*list)[i];
  st_verifreg_entry *e = realloc(*list, (*n + 1) * sizeof *e);
  if (!e) return NULL;
  *list = e;
  memmove(&e[i + 1], &e[i], (*n - i) * sizeof *e);
  (*n)++;
  e[i].id = id;
  mpz_init(e[i].amount);
  return &e[i];
}

void st_verifreg_entry_remove(st_verifreg_entry *list, size_t *n, uint64_t id) {
  for (size_t i = 0; i < *n; i++)
    if (list[i].id == id) {
      mpz_clear(list[i].amount);
      memmove(&list[i], &list[i + 1], (*n - i - 1) * sizeof *list);
      (*n)--;
      return;
    }
}

static st_code entries_decode(st_cbor_reader *r, st_verifreg_entry **list, size_t *n, const char *what) {
  uint64_t count = 0;
  st_code code = st_cbor_read_array(r, &count);
  for (uint64_t i = 0; i < count && !code; i++) {
    uint64_t id = 0;
    st_verifreg_entry *e = NULL;
    code = st_cbor_expect_array(r, 2, what);
    if (!code) code = st_cbor_read_uint(r, &id);
    if (!code && *n && (*list)[*n - 1].id >= id)
      code = st_err_set(r->err, ST_EINVAL, "%s out of order at t0%llu", what, (unsigned long long)id);
    if (!code && !(e = st_verifreg_entry_add(list, n, id))) code = st_err_set(r->err, ST_ENOMEM, "out of memory");
    if (!code) code = st_cbor_read_bigint(r, e->amount);
  }
  return code;
}

st_code st_verifreg_state_decode(const uint8_t *p, size_t len, st_verifreg_state *v, st_err *err) {
  st_verifreg_state_init(v);
  st_cbor_reader r;
  st_cbor_reader_init(&r, p, len, err);
  st_code code = st_cbor_expect_array(&r, 2, "verified registry state");
  if (!code) code = entries_decode(&r, &v->verifiers, &v->nverifiers, "verifier");
  if (!code) code = entries_decode(&r, &v->clients, &v->nclients, "verified client");
  if (!code) code = st_cbor_finish(&r);
  if (!code) return ST_OK;
  st_verifreg_state_free(v); /* empty, as _init leaves it */
  return st_err_wrap(err, code, "verified registry state");
}
