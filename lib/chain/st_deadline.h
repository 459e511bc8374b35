/* st_deadline: WindowPoSt deadline arithmetic, exactly as Filecoin (go-state-types dline,
 * specs-actors miner/deadlines.go and quantize.go; filecoin-facts.md section 1).
 *
 * A miner's proving period starts at an offset fixed when the miner is created; the period is
 * cut into `deadlines` windows of `challenge_window` epochs. Deadline i of the period starting
 * at PeriodStart opens at PeriodStart + i x window, closes a window later, draws its challenge
 * `challenge_lookback` epochs before it opens, and stops taking fault declarations
 * `fault_cutoff` epochs before it opens.
 *
 * Epochs are int64 as in Go, and the arithmetic wraps as Go's does instead of being undefined.
 * The policy must be a checked one (st_network_check: every value positive or, for lookback
 * and cutoff, at least 0; deadlines x window = period); a zero period or unit divides by zero,
 * as in Go. */
#ifndef ST_DEADLINE_H
#define ST_DEADLINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "chain/st_network.h"
#include "codec/st_address.h"

#define ST_POSTED_PARTITIONS_MAX 3 /* PoStedPartitionsMax: partitions per SubmitWindowedPoSt */

typedef struct st_deadline_policy {
  int64_t proving_period;     /* WPoStProvingPeriod */
  int64_t challenge_window;   /* WPoStChallengeWindow */
  int64_t deadlines;          /* WPoStPeriodDeadlines */
  int64_t challenge_lookback; /* WPoStChallengeLookback */
  int64_t fault_cutoff;       /* FaultDeclarationCutoff */
} st_deadline_policy;

/* The five values of a network. */
void st_deadline_policy_of(const st_network *n, st_deadline_policy *out);

/* dline.Info. */
typedef struct st_deadline_info {
  int64_t current_epoch;
  int64_t period_start;
  uint64_t index; /* == policy.deadlines: the period is over (a zero-length deadline) */
  int64_t open, close, challenge, fault_cutoff;
  st_deadline_policy policy;
} st_deadline_info;

/* dline.NewInfo. An index of policy.deadlines or more gives the zero-length deadline after the
 * last: Open = Close = Challenge = PeriodStart + period, FaultCutoff 0. */
void st_deadline_new(const st_deadline_policy *p, int64_t period_start, uint64_t index, int64_t current_epoch,
                     st_deadline_info *out);
bool st_deadline_period_started(const st_deadline_info *d);
bool st_deadline_period_elapsed(const st_deadline_info *d);
int64_t st_deadline_period_end(const st_deadline_info *d); /* PeriodStart + PP - 1 */
bool st_deadline_is_open(const st_deadline_info *d);
bool st_deadline_has_elapsed(const st_deadline_info *d);
int64_t st_deadline_last(const st_deadline_info *d); /* Close - 1 */
bool st_deadline_fault_cutoff_passed(const st_deadline_info *d);
/* dline.Info.NextNotElapsed: the next instance of the same index that has not elapsed (d itself
 * when it has not); out may be d. */
void st_deadline_next_not_elapsed(const st_deadline_info *d, st_deadline_info *out);

/* QuantizeUp / QuantizeDown onto the grid unit x k + (offset mod unit), unit > 0: the grid point
 * at or above e, at or below e. A negative offset names the same grid as offset mod unit. */
int64_t st_quantize_up(int64_t e, int64_t unit, int64_t offset);
int64_t st_quantize_down(int64_t e, int64_t unit, int64_t offset);

/* NewDeadlineInfoFromOffsetAndEpoch (miner State.DeadlineInfo): the deadline current at epoch cur
 * for a miner whose proving period offset (or any period start of it) is offset. The period
 * start is the latest one at or before cur, so it may be negative. */
void st_deadline_at(const st_deadline_policy *p, int64_t offset, int64_t cur, st_deadline_info *out);

/* assignProvingPeriodOffset: BE_u64(blake2b-256(addr bytes as a CBOR byte string || BE_i64(epoch))[0..8])
 * mod proving period, in [0, proving_period). addr is the miner's ID address; epoch the one it
 * is created at. */
int64_t st_proving_period_offset(const st_address *miner, int64_t epoch, int64_t proving_period);

/* Lotus's dline.Info JSON (StateMinerProvingDeadline), compact, in this order: CurrentEpoch, PeriodStart, Index, Open,
 * Close, Challenge, FaultCutoff, WPoStPeriodDeadlines, WPoStProvingPeriod, WPoStChallengeWindow,
 * WPoStChallengeLookback, FaultDeclarationCutoff. */
json_t *st_deadline_info_to_json(const st_deadline_info *d);
/* The seed's log form: the first seven of those only, in that order. Index is a number, or a
 * decimal string past 2^63 - 1 (only for an out-of-range index). */
json_t *st_deadline_info_seed_json(const st_deadline_info *d);

#endif
