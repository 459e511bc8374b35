/* st_deadline: dline.Info, QuantizeUp/Down, NewDeadlineInfoFromOffsetAndEpoch and
 * assignProvingPeriodOffset.
 *
 * Epochs are Go int64s there: sums and products wrap, and / and % truncate toward zero, as C's
 * do. The sums and products here wrap the same way (through uint64_t), so even absurd epochs
 * give Go's answer instead of undefined behaviour. */
#include "chain/st_deadline.h"

#include <stdio.h>
#include <stdlib.h>

#include "codec/st_cbor.h"
#include "core/st_buf.h"
#include "crypto/st_hash.h"

static int64_t add(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static int64_t sub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }
static int64_t mul(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }

void st_deadline_policy_of(const st_network *n, st_deadline_policy *out) {
  *out = (st_deadline_policy){
      .proving_period = n->proving_period,
      .challenge_window = n->challenge_window,
      .deadlines = n->deadlines,
      .challenge_lookback = n->challenge_lookback,
      .fault_cutoff = n->fault_cutoff,
  };
}

void st_deadline_new(const st_deadline_policy *p, int64_t period_start, uint64_t index, int64_t current_epoch,
                     st_deadline_info *out) {
  st_deadline_info d = {.current_epoch = current_epoch, .period_start = period_start, .index = index, .policy = *p};
  if (p->deadlines > 0 && index < (uint64_t)p->deadlines) {
    d.open = add(period_start, mul((int64_t)index, p->challenge_window));
    d.close = add(d.open, p->challenge_window);
    d.challenge = sub(d.open, p->challenge_lookback);
    d.fault_cutoff = sub(d.open, p->fault_cutoff);
  } else {
    /* a zero-length deadline just after the last real one; Go leaves FaultCutoff at 0 */
    d.open = d.close = d.challenge = add(period_start, p->proving_period);
    d.fault_cutoff = 0;
  }
  *out = d;
}

bool st_deadline_period_started(const st_deadline_info *d) { return d->current_epoch >= d->period_start; }
bool st_deadline_period_elapsed(const st_deadline_info *d) {
  return d->current_epoch >= add(d->period_start, d->policy.proving_period);
}
int64_t st_deadline_period_end(const st_deadline_info *d) {
  return sub(add(d->period_start, d->policy.proving_period), 1);
}
bool st_deadline_is_open(const st_deadline_info *d) {
  return d->current_epoch >= d->open && d->current_epoch < d->close;
}
bool st_deadline_has_elapsed(const st_deadline_info *d) { return d->current_epoch >= d->close; }
int64_t st_deadline_last(const st_deadline_info *d) { return sub(d->close, 1); }
bool st_deadline_fault_cutoff_passed(const st_deadline_info *d) { return d->current_epoch >= d->fault_cutoff; }

void st_deadline_next_not_elapsed(const st_deadline_info *d, st_deadline_info *out) {
  if (!st_deadline_has_elapsed(d)) {
    *out = *d;
    return;
  }
  const st_deadline_policy *p = &d->policy;
  int64_t offset = d->period_start % p->proving_period;
  if (offset < 0) offset += p->proving_period; /* a period that started before epoch 0 */
  int64_t start = add(mul(d->current_epoch / p->proving_period, p->proving_period), offset);
  while (start > d->current_epoch) start = sub(start, p->proving_period);
  /* this period's instance has closed: take the next period's */
  if (d->current_epoch >= add(start, mul((int64_t)(d->index + 1), p->challenge_window)))
    start = add(start, p->proving_period);
  st_deadline_policy policy = *p; /* out may be d */
  st_deadline_new(&policy, start, d->index, d->current_epoch, out);
}

int64_t st_quantize_up(int64_t e, int64_t unit, int64_t offset) {
  int64_t off = offset % unit;
  int64_t rel = sub(e, off);
  int64_t quotient = rel / unit;
  /* on the grid already, or below its origin, where truncating division has rounded up */
  if (rel % unit == 0 || rel < 0) return add(mul(unit, quotient), off);
  return add(mul(unit, add(quotient, 1)), off);
}

int64_t st_quantize_down(int64_t e, int64_t unit, int64_t offset) {
  int64_t next = st_quantize_up(e, unit, offset);
  return e == next ? next : sub(next, unit);
}

void st_deadline_at(const st_deadline_policy *p, int64_t offset, int64_t cur, st_deadline_info *out) {
  int64_t start = st_quantize_down(cur, p->proving_period, offset);
  uint64_t index = (uint64_t)(sub(cur, start) / p->challenge_window) % (uint64_t)p->deadlines;
  st_deadline_new(p, start, index, cur, out);
}

int64_t st_proving_period_offset(const st_address *miner, int64_t epoch, int64_t proving_period) {
  st_buf seed = ST_BUF_INIT;
  st_cbor_put_bytes(&seed, miner->bytes, miner->len);
  uint64_t e = (uint64_t)epoch;
  for (int shift = 56; shift >= 0; shift -= 8) st_buf_putc(&seed, (uint8_t)(e >> shift));
  if (seed.failed) abort(); /* under 80 bytes: as st_hash, nothing sensible is left to do */
  uint8_t digest[32];
  st_blake2b_256(seed.data, seed.len, digest);
  st_buf_free(&seed);
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | digest[i];
  return (int64_t)(v % (uint64_t)proving_period);
}

/* Index is a uint64 in Go; past 2^63 - 1 (never a real index) it is a decimal string, as in
 * every JSON output here. */
static json_t *index_json(uint64_t v) {
  if (v <= (uint64_t)INT64_MAX) return json_integer((json_int_t)v);
  char s[24];
  snprintf(s, sizeof s, "%llu", (unsigned long long)v);
  return json_string(s);
}

static json_t *seven(const st_deadline_info *d) {
  json_t *j = json_object();
  json_object_set_new(j, "CurrentEpoch", json_integer(d->current_epoch));
  json_object_set_new(j, "PeriodStart", json_integer(d->period_start));
  json_object_set_new(j, "Index", index_json(d->index));
  json_object_set_new(j, "Open", json_integer(d->open));
  json_object_set_new(j, "Close", json_integer(d->close));
  json_object_set_new(j, "Challenge", json_integer(d->challenge));
  json_object_set_new(j, "FaultCutoff", json_integer(d->fault_cutoff));
  return j;
}

json_t *st_deadline_info_to_json(const st_deadline_info *d) {
  json_t *j = seven(d);
  json_object_set_new(j, "WPoStPeriodDeadlines", json_integer(d->policy.deadlines));
  json_object_set_new(j, "WPoStProvingPeriod", json_integer(d->policy.proving_period));
  json_object_set_new(j, "WPoStChallengeWindow", json_integer(d->policy.challenge_window));
  json_object_set_new(j, "WPoStChallengeLookback", json_integer(d->policy.challenge_lookback));
  json_object_set_new(j, "FaultDeclarationCutoff", json_integer(d->policy.fault_cutoff));
  return j;
}

json_t *st_deadline_info_seed_json(const st_deadline_info *d) { return seven(d); }
