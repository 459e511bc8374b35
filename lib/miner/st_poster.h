/* st_poster: the poster's loop body (DESIGN.md section 10). spacetime-miner calls
 * st_poster_step whenever the head may have moved (each new tipset, and on a timer); each
 * step looks at the head and does what is due. Any number of posters of one miner share the
 * work through the cluster's tables (st_cluster), each piece claimed with a lease and
 * re-checked right before its message or block:
 *
 *   WindowPoSt   for the current deadline and the next one: once the head is confidence epochs
 *                past Challenge, claim partitions the chain does not count as proven
 *                (PostSubmissions) and no other poster holds, at most max_partitions at once;
 *                prove them; submit once the head is confidence epochs past Open, never at or
 *                after Close; then claim more, until every partition is proven or Close. A
 *                partition whose poster died (its lease lapsed) is taken over: its message, if
 *                one was sent, is waited for, else it is proven again. A revert below
 *                Challenge (other randomness) drops the proof and proves again.
 *   declarations for the deadline two ahead of the current one, before its FaultCutoff, once
 *                per deadline instance by one poster: faults for live sectors that cannot be
 *                read, recoveries for faulty ones that can (st_wdpost_declare_faults, _recover).
 *   blocks       for the wall-clock round, once in the whole cluster: the poster that claims
 *                the round first tries it; a round is never taken over (two blocks of one
 *                miner in a round are a consensus fault).
 *
 * Nothing is kept in files: the chain and the cluster's tables hold it all. */
#ifndef ST_POSTER_H
#define ST_POSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "miner/st_cluster.h"
#include "miner/st_wdpost.h"

typedef struct st_poster_cfg {
  st_wdpost_cfg wd;
  int64_t confidence;  /* epochs past Challenge / Open before proving / submitting */
  bool mine;           /* produce blocks */
  st_cluster *cluster; /* where the work is claimed (this thread's handle) */
  int64_t machine;     /* this process in the cluster */
} st_poster_cfg;

/* A WindowPoSt message waited for, and the partitions it proves. */
typedef struct st_poster_sent {
  st_cid cid;
  size_t n;
  uint64_t index[ST_POSTED_PARTITIONS_MAX];
} st_poster_sent;

/* A deadline instance the poster is working on. */
typedef struct st_poster_dl {
  bool active;
  st_deadline_info di;
  bool proven; /* batch holds the proofs of the partitions claimed */
  st_wdpost_batch batch;
  uint64_t *claimed; /* partitions this poster holds (being proven) */
  size_t nclaimed;
  uint64_t nparts;      /* the deadline's partitions, when last claimed */
  st_poster_sent *sent; /* messages waiting to land */
  size_t nsent;
  bool done; /* every partition is proven on chain, or Close has passed */
} st_poster_dl;

typedef struct st_poster_stats {
  uint64_t posts_submitted, posts_landed, posts_failed;
  uint64_t sectors_proven, sectors_skipped; /* in the proofs made (a sector skipped is not readable) */
  uint64_t recoveries_declared;
  uint64_t faults_declared;
  uint64_t rounds_tried, blocks_mined;
  int64_t last_mined_height;
} st_poster_stats;

typedef struct st_poster {
  st_poster_cfg cfg;
  int64_t last_round;    /* the last round claimed or found claimed */
  st_poster_dl dl[2];    /* the current deadline and the next */
  int64_t recovered_key; /* the instance (period start x deadlines + index) last checked */
  st_poster_stats stats;
} st_poster;

/* cfg is copied; its pointers must outlive the poster. */
st_code st_poster_open(st_poster *p, const st_poster_cfg *cfg, st_err *err);
void st_poster_close(st_poster *p);

/* One step. now_round is the wall-clock epoch (for blocks); 0 skips block production. Errors
 * of one task are logged and do not stop the others; the return is the node or the cluster's
 * database being unreachable. */
st_code st_poster_step(st_poster *p, int64_t now_round, st_err *err);
/* Block production alone, for the wall-clock round now_round. spacetime-miner runs it in a
 * thread of its own, with its own st_poster (and connections), and calls st_poster_step with
 * now_round 0: a WinningPoSt stuck on an unreachable storage host then costs rounds, never a
 * deadline's WindowPoSt. */
st_code st_poster_mine(st_poster *p, int64_t now_round, st_err *err);

#endif
