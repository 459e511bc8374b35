/* st_poster: the poster's loop body (DESIGN.md section 10). spacetime-miner calls
 * st_poster_step whenever the head may have moved (each new tipset, and on a timer); each
 * step looks at the head and does what is due:
 *
 *   WindowPoSt   for the current deadline and the next one: prove once the head is
 *                confidence epochs past Challenge, submit once it is confidence epochs past
 *                Open, never at or after Close. Partitions the chain already counts as proven
 *                this period (PostSubmissions) are not proven again, so a poster restarted
 *                inside a deadline (kill -9 included) finishes the deadline if time remains.
 *                A revert below Challenge (other randomness) drops the proof and proves again.
 *   recoveries   for the deadline two ahead of the current one, before its FaultCutoff, once
 *                per deadline instance (st_wdpost_recover).
 *   blocks       for the wall-clock round, once: the round is written to the state file before
 *                it is tried, so a restart never makes a second block for a round.
 *
 * The state file holds only that round; everything else is read back from the chain. */
#ifndef ST_POSTER_H
#define ST_POSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "miner/st_wdpost.h"

typedef struct st_poster_cfg {
  st_wdpost_cfg wd;
  int64_t confidence;     /* epochs past Challenge / Open before proving / submitting */
  bool mine;              /* produce blocks */
  const char *state_path; /* the poster's state file (created if missing) */
} st_poster_cfg;

/* A deadline instance the poster is working on. */
typedef struct st_poster_dl {
  bool active;
  st_deadline_info di;
  bool proven; /* batch holds the proofs */
  st_wdpost_batch batch;
  st_cid *sent; /* submitted messages waiting to land */
  size_t nsent;
  bool done; /* every partition with something to prove is proven on chain */
} st_poster_dl;

typedef struct st_poster_stats {
  uint64_t posts_submitted, posts_landed, posts_failed;
  uint64_t sectors_proven, sectors_skipped; /* in the proofs made (a sector skipped is not readable) */
  uint64_t recoveries_declared;
  uint64_t rounds_tried, blocks_mined;
  int64_t last_mined_height;
} st_poster_stats;

typedef struct st_poster {
  st_poster_cfg cfg;
  int64_t last_round;    /* persisted: the last round a block was tried for */
  st_poster_dl dl[2];    /* the current deadline and the next */
  int64_t recovered_key; /* the instance (period start x deadlines + index) last checked */
  st_poster_stats stats;
} st_poster;

/* Loads (or creates) the state file. cfg is copied; its pointers must outlive the poster. */
st_code st_poster_open(st_poster *p, const st_poster_cfg *cfg, st_err *err);
void st_poster_close(st_poster *p);

/* One step. now_round is the wall-clock epoch (for blocks); 0 skips block production. Errors
 * of one task are logged and do not stop the others; the return is the node being unreachable
 * or the state file failing. */
st_code st_poster_step(st_poster *p, int64_t now_round, st_err *err);

#endif
