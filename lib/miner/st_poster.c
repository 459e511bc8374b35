/* st_poster: one step of the poster's loop, with its work claimed in the cluster's tables. */
#include "miner/st_poster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/st_log.h"
#include "miner/st_blockprod.h"
#include "rpc/st_node_api.h"

#define LOG "storageminer"

st_code st_poster_open(st_poster *p, const st_poster_cfg *cfg, st_err *err) {
  (void)err;
  memset(p, 0, sizeof *p);
  p->cfg = *cfg;
  p->recovered_key = -1;
  p->stats.last_mined_height = -1;
  return ST_OK;
}

static void dl_reset(st_poster_dl *d) {
  st_wdpost_batch_free(&d->batch);
  free(d->claimed);
  free(d->sent);
  memset(d, 0, sizeof *d);
}

void st_poster_close(st_poster *p) {
  for (int i = 0; i < 2; i++) dl_reset(&p->dl[i]);
}

/* ---- the cluster's rows of a deadline's partitions ---- */

/* keys[3 * i ...] = (period start, deadline, index[i]) */
static int64_t *wd_keys(const st_deadline_info *di, const uint64_t *index, size_t n) {
  int64_t *k = calloc(3 * n + 1, sizeof *k);
  for (size_t i = 0; k && i < n; i++) {
    k[3 * i] = di->period_start;
    k[3 * i + 1] = (int64_t)di->index;
    k[3 * i + 2] = (int64_t)index[i];
  }
  return k;
}

/* Records on the rows of partitions index[0..n) this poster holds (msg_cid as in
 * st_cluster_update). Failures are logged: the rows then lapse, and another poster finds the
 * chain's word. */
static void wd_update(st_poster *p, const st_deadline_info *di, const uint64_t *index, size_t n, const char *msg_cid,
                      bool has_exit, int64_t exit_code, bool done) {
  int64_t *k = wd_keys(di, index, n);
  st_err err;
  if (!k) st_err_set(&err, ST_ENOMEM, "out of memory");
  if (!k || st_cluster_update(p->cfg.cluster, p->cfg.wd.miner, p->cfg.machine, "wdpost", k, n, 3, msg_cid, has_exit,
                              exit_code, done, &err))
    st_logf(LOG, ST_LOG_WARN, "recording deadline %llu's partitions in the cluster: %s", (unsigned long long)di->index,
            err.msg);
  free(k);
}

/* ---- WindowPoSt ---- */

static bool same_instance(const st_deadline_info *a, const st_deadline_info *b) {
  return a->period_start == b->period_start && a->index == b->index;
}

/* The instance after d. */
static void next_deadline(const st_deadline_info *d, int64_t height, st_deadline_info *out) {
  uint64_t i = d->index + 1;
  int64_t ps = d->period_start;
  if (i >= (uint64_t)d->policy.deadlines) {
    i = 0;
    ps += d->policy.proving_period;
  }
  st_deadline_new(&d->policy, ps, i, height, out);
}

static st_code add_sent(st_poster_dl *d, const st_cid *cid, const uint64_t *index, size_t n, st_err *err) {
  st_poster_sent *grown = realloc(d->sent, (d->nsent + 1) * sizeof *grown);
  if (!grown) return st_err_set(err, ST_ENOMEM, "out of memory");
  d->sent = grown;
  st_poster_sent *s = &d->sent[d->nsent++];
  memset(s, 0, sizeof *s);
  s->cid = *cid;
  s->n = n < ST_POSTED_PARTITIONS_MAX ? n : ST_POSTED_PARTITIONS_MAX;
  memcpy(s->index, index, s->n * sizeof *index);
  return ST_OK;
}

/* Waits for sent messages; false while some are not on chain. A message that landed with exit
 * 0 makes its partitions done (the chain shows the proofs only in the state after their
 * tipset, so proving them again at once would prove them twice); one that failed leaves them
 * to be proven again. */
static bool sent_landed(st_poster *p, st_poster_dl *d) {
  st_node_lookup *l = calloc(d->nsent, sizeof *l);
  for (size_t i = 0; l && i < d->nsent; i++) {
    st_err err;
    if (st_node_search_msg(p->cfg.wd.node, &d->sent[i].cid, &l[i], &err))
      st_logf(LOG, ST_LOG_WARN, "checking window PoSt message for deadline %llu: %s", (unsigned long long)d->di.index,
              err.msg);
    else if (l[i].found) continue;
    free(l);
    return false;
  }
  for (size_t i = 0; l && i < d->nsent; i++) {
    char cs[ST_CID_STR_MAX];
    st_cid_to_string(&d->sent[i].cid, cs);
    if (l[i].exit_code) {
      st_logf(LOG, ST_LOG_ERROR, "window PoSt message %s for deadline %llu failed on chain with exit code %lld", cs,
              (unsigned long long)d->di.index, (long long)l[i].exit_code);
      p->stats.posts_failed++;
      wd_update(p, &d->di, d->sent[i].index, d->sent[i].n, "", true, l[i].exit_code, false);
    } else {
      p->stats.posts_landed++;
      wd_update(p, &d->di, d->sent[i].index, d->sent[i].n, NULL, true, 0, true);
    }
  }
  if (!l) return false;
  free(l);
  free(d->sent);
  d->sent = NULL;
  d->nsent = 0;
  free(d->claimed); /* done, or (a failed message) cleared to be claimed and proven again */
  d->claimed = NULL;
  d->nclaimed = 0;
  return true;
}

/* Claims partitions of d to prove: those with no proof on chain (posted, read once Open has
 * come) nor done in the cluster, at most max_partitions. Rows taken over with a message already
 * sent go to d->sent to be waited for. *open_left: partitions neither posted nor done. */
static st_code claim(st_poster *p, st_poster_dl *d, int64_t h, size_t *open_left, st_err *err) {
  const st_deadline_info *di = &d->di;
  *open_left = 0;
  st_node_partition *parts = NULL;
  size_t np = 0;
  st_bitfield posted;
  st_bitfield_init(&posted);
  st_code code = st_node_partitions(p->cfg.wd.node, p->cfg.wd.miner, di->index, NULL, &parts, &np, err);
  d->nparts = code ? 0 : np;
  if (!code && h >= di->open)
    code = st_node_post_submissions(p->cfg.wd.node, p->cfg.wd.miner, di->index, NULL, &posted, err);
  st_node_partitions_free(parts, np);
  uint64_t *want = code ? NULL : calloc(np + 1, sizeof *want);
  size_t nwant = 0;
  if (!code && !want) code = st_err_set(err, ST_ENOMEM, "out of memory");
  for (size_t i = 0; !code && i < np; i++)
    if (!st_bitfield_has(&posted, i)) want[nwant++] = i;
  st_bitfield_free(&posted);
  int64_t *keys = nwant ? wd_keys(di, want, nwant) : NULL;
  if (!code && nwant && !keys) code = st_err_set(err, ST_ENOMEM, "out of memory");
  size_t per = p->cfg.wd.max_partitions && p->cfg.wd.max_partitions <= ST_POSTED_PARTITIONS_MAX
                   ? p->cfg.wd.max_partitions
                   : ST_POSTED_PARTITIONS_MAX;
  json_t *rows = NULL;
  if (!code && nwant)
    code = st_cluster_claim(p->cfg.cluster, p->cfg.wd.miner, p->cfg.machine, "wdpost", keys, nwant, 3, per, true, &rows,
                            err);
  free(keys);
  d->claimed = code || !nwant ? NULL : calloc(nwant, sizeof *d->claimed);
  d->nclaimed = 0;
  if (!code && nwant && !d->claimed) code = st_err_set(err, ST_ENOMEM, "out of memory");
  size_t i;
  const json_t *row;
  json_array_foreach(rows, i, row) {
    if (code) break;
    if (json_is_true(json_object_get(row, "done"))) continue;
    (*open_left)++;
    if (!json_is_true(json_object_get(row, "claimed"))) continue;
    const char *cs = json_string_value(json_object_get(row, "msg_cid"));
    st_cid cid;
    if (cs && !st_cid_parse(cs, &cid, NULL)) { /* sent by its earlier holder: wait for it */
      st_logf(LOG, ST_LOG_INFO, "deadline %llu partition %llu: waiting for the message %s its earlier poster sent",
              (unsigned long long)di->index, (unsigned long long)want[i], cs);
      code = add_sent(d, &cid, &want[i], 1, err);
    } else d->claimed[d->nclaimed++] = want[i];
  }
  json_decref(rows);
  free(want);
  return code;
}

/* The partitions of the deadline not in d->claimed, as a set to skip. */
static st_code unclaimed(const st_poster_dl *d, st_bitfield *skip, st_err *err) {
  st_code code = ST_OK;
  for (uint64_t i = 0; i < d->nparts && !code; i++) {
    bool mine = false;
    for (size_t j = 0; j < d->nclaimed && !mine; j++) mine = d->claimed[j] == i;
    if (!mine) code = st_bitfield_set(skip, i, err);
  }
  return code;
}

static void prove(st_poster *p, st_poster_dl *d, int64_t h) {
  st_err err;
  size_t left = 0;
  free(d->claimed);
  d->claimed = NULL;
  d->nclaimed = 0;
  st_code code = claim(p, d, h, &left, &err);
  if (code) {
    st_logf(LOG, ST_LOG_ERROR, "claiming deadline %llu's partitions failed: %s", (unsigned long long)d->di.index,
            err.msg);
    return;
  }
  if (!left) {
    d->done = true; /* every partition proven (or nothing to prove) */
    return;
  }
  if (!d->nclaimed) return; /* held by other posters, or waiting for a message */
  st_bitfield skip;
  st_bitfield_init(&skip);
  code = unclaimed(d, &skip, &err);
  if (!code) code = st_wdpost_prove(&p->cfg.wd, &d->di, h, &skip, &d->batch, &err);
  st_bitfield_free(&skip);
  if (code) {
    st_logf(LOG, ST_LOG_ERROR, "running window post failed: %s", err.msg);
    return;
  }
  p->stats.sectors_proven += d->batch.sectors;
  p->stats.sectors_skipped += d->batch.skipped;
  /* claimed partitions no message covers have nothing to prove, or nothing that reads: done
   * for this poster (an unreadable one faults at the deadline's end, as in Lotus) */
  size_t kept = 0;
  for (size_t i = 0; i < d->nclaimed; i++) {
    bool covered = false;
    for (size_t m = 0; m < d->batch.nmsgs && !covered; m++)
      for (size_t j = 0; j < d->batch.msgs[m].partitions && !covered; j++)
        covered = d->batch.msgs[m].index[j] == d->claimed[i];
    if (covered) d->claimed[kept++] = d->claimed[i];
    else wd_update(p, &d->di, &d->claimed[i], 1, NULL, false, 0, true);
  }
  d->nclaimed = kept; /* what the batch proves */
  if (d->batch.nmsgs) d->proven = true;
}

static void submit(st_poster *p, st_poster_dl *d, int64_t h) {
  st_err err;
  const st_deadline_info *di = &d->di;
  int64_t *keys = wd_keys(di, d->claimed, d->nclaimed);
  st_code code =
      keys ? st_cluster_check(p->cfg.cluster, p->cfg.wd.miner, p->cfg.machine, "wdpost", keys, d->nclaimed, 3, &err)
           : st_err_set(&err, ST_ENOMEM, "out of memory");
  free(keys);
  if (code) { /* stopped past the lease: another poster has these partitions now */
    st_logf(LOG, ST_LOG_WARN, "not submitting deadline %llu's proof: %s", (unsigned long long)di->index, err.msg);
    st_wdpost_batch_free(&d->batch);
    d->proven = false;
    return;
  }
  st_cid *cids = calloc(d->batch.nmsgs, sizeof *cids);
  code = cids ? st_wdpost_submit(&p->cfg.wd, &d->batch, h, cids, &err) : st_err_set(&err, ST_ENOMEM, "out of memory");
  if (!code) {
    for (size_t m = 0; m < d->batch.nmsgs && !code; m++) {
      char cs[ST_CID_STR_MAX];
      st_cid_to_string(&cids[m], cs);
      wd_update(p, di, d->batch.msgs[m].index, d->batch.msgs[m].partitions, cs, false, 0, false);
      code = add_sent(d, &cids[m], d->batch.msgs[m].index, d->batch.msgs[m].partitions, &err);
    }
    p->stats.posts_submitted += d->batch.nmsgs;
    free(cids);
    st_wdpost_batch_free(&d->batch);
    d->proven = false;
    d->nclaimed = 0; /* now in d->sent */
    return;
  }
  free(cids);
  st_logf(LOG, code == ST_ECONFLICT ? ST_LOG_WARN : ST_LOG_ERROR, "submitting window PoSt for deadline %llu failed: %s",
          (unsigned long long)di->index, err.msg);
  if (code == ST_ECONFLICT) { /* reverted below Challenge: prove again */
    st_wdpost_batch_free(&d->batch);
    d->proven = false;
  } else if (code == ST_ERANGE) {
    d->done = true;
  }
}

/* Close has come, or the slot is dropped: nothing more can be done for the partitions it holds,
 * so their rows are done (else the lease thread would renew them for ever). */
static void close_out(st_poster *p, st_poster_dl *d) {
  if (d->done) return;
  if (d->nclaimed)
    st_logf(LOG, ST_LOG_WARN, "deadline %llu closed at epoch %lld before %zu of its partitions were submitted",
            (unsigned long long)d->di.index, (long long)d->di.close, d->nclaimed);
  if (d->nclaimed) wd_update(p, &d->di, d->claimed, d->nclaimed, NULL, false, 0, true);
  for (size_t i = 0; i < d->nsent; i++) wd_update(p, &d->di, d->sent[i].index, d->sent[i].n, NULL, false, 0, true);
  d->done = true;
}

static void work(st_poster *p, st_poster_dl *d, int64_t h) {
  const st_deadline_info *di = &d->di;
  if (d->done) return;
  if (h >= di->close) {
    close_out(p, d);
    return;
  }
  if (d->nsent && !sent_landed(p, d)) return;
  if (!d->proven && h >= di->challenge + p->cfg.confidence) prove(p, d, h);
  if (d->proven && h >= di->open + p->cfg.confidence) submit(p, d, h);
}

/* Keeps the slots on the current and next instances (work already done carries over); a slot
 * on any other instance is dropped. */
static void track(st_poster *p, const st_deadline_info *cur, const st_deadline_info *nxt) {
  const st_deadline_info *want[2] = {cur, nxt};
  for (int i = 0; i < 2; i++)
    if (p->dl[i].active && !same_instance(&p->dl[i].di, cur) && !same_instance(&p->dl[i].di, nxt)) {
      close_out(p, &p->dl[i]);
      dl_reset(&p->dl[i]);
    }
  for (int w = 0; w < 2; w++) {
    st_poster_dl *have = NULL, *free_slot = NULL;
    for (int i = 0; i < 2; i++) {
      if (p->dl[i].active && same_instance(&p->dl[i].di, want[w])) have = &p->dl[i];
      else if (!p->dl[i].active && !free_slot) free_slot = &p->dl[i];
    }
    if (have) have->di.current_epoch = want[w]->current_epoch;
    else if (free_slot) {
      free_slot->active = true;
      free_slot->di = *want[w];
    }
  }
}

/* ---- declarations ---- */

static void declarations(st_poster *p, const st_deadline_info *cur, int64_t h) {
  st_deadline_info a, target;
  next_deadline(cur, h, &a);
  next_deadline(&a, h, &target);
  int64_t key = target.period_start * target.policy.deadlines + (int64_t)target.index;
  if (key == p->recovered_key || h + 1 >= target.fault_cutoff) return; /* too late (st_wdpost) */
  int64_t k[2] = {target.period_start, (int64_t)target.index};
  json_t *rows = NULL;
  st_err err;
  st_code code =
      st_cluster_claim(p->cfg.cluster, p->cfg.wd.miner, p->cfg.machine, "declarations", k, 1, 2, 0, true, &rows, &err);
  const json_t *row = json_array_get(rows, 0);
  bool mine =
      !code && json_is_true(json_object_get(row, "claimed")) && !json_is_string(json_object_get(row, "msg_cid"));
  json_decref(rows);
  if (code) {
    st_logf(LOG, ST_LOG_ERROR, "claiming deadline %llu's declarations: %s", (unsigned long long)target.index, err.msg);
    return;
  }
  p->recovered_key = key;
  if (!mine) return; /* another poster's, or done */
  uint64_t faults = 0, recovered = 0;
  st_cid cf, cr;
  if ((code = st_cluster_check(p->cfg.cluster, p->cfg.wd.miner, p->cfg.machine, "declarations", k, 1, 2, &err)) ||
      (code = st_wdpost_declare_faults(&p->cfg.wd, &target, h, &faults, &cf, &err)))
    st_logf(LOG, ST_LOG_ERROR, "declaring faults failed: %s", err.msg);
  if (!code && (code = st_wdpost_recover(&p->cfg.wd, &target, h, &recovered, &cr, &err)))
    st_logf(LOG, ST_LOG_ERROR, "declaring recoveries failed: %s", err.msg);
  p->stats.faults_declared += faults;
  p->stats.recoveries_declared += recovered;
  char cs[ST_CID_STR_MAX] = "";
  if (faults || recovered) st_cid_to_string(faults ? &cf : &cr, cs);
  if (!code && st_cluster_update(p->cfg.cluster, p->cfg.wd.miner, p->cfg.machine, "declarations", k, 1, 2,
                                 cs[0] ? cs : NULL, false, 0, true, &err))
    st_logf(LOG, ST_LOG_WARN, "recording deadline %llu's declarations: %s", (unsigned long long)target.index, err.msg);
}

/* ---- blocks ---- */

typedef struct guard_ctx {
  st_poster *p;
} guard_ctx;

static st_code still_round(void *ctx, int64_t round, st_err *err) {
  st_poster *p = ((guard_ctx *)ctx)->p;
  return st_cluster_check(p->cfg.cluster, p->cfg.wd.miner, p->cfg.machine, "blocks", &round, 1, 1, err);
}

static st_code mine(st_poster *p, int64_t round, int64_t head, st_err *err) {
  if (!p->cfg.mine || round < head || round <= p->last_round) return ST_OK;
  p->last_round = round;
  json_t *rows = NULL;
  st_code code =
      st_cluster_claim(p->cfg.cluster, p->cfg.wd.miner, p->cfg.machine, "blocks", &round, 1, 1, 0, false, &rows, err);
  bool mine = !code && json_is_true(json_object_get(json_array_get(rows, 0), "claimed"));
  json_decref(rows);
  if (code || !mine) return code; /* another poster tries this round */
  p->stats.rounds_tried++;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  st_blockprod_result r;
  st_err e;
  guard_ctx g = {p};
  st_blockprod_guard guard = {still_round, &g};
  code = st_blockprod_round(p->cfg.wd.node, p->cfg.wd.miner, round, p->cfg.wd.locate, p->cfg.wd.locate_ctx,
                            &p->cfg.wd.post, &guard, &r, &e);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (code) {
    st_logf(LOG, ST_LOG_ERROR, "mining block failed at round %lld: %s", (long long)round, e.msg);
    return ST_OK;
  }
  if (r.late)
    st_logf("miner", ST_LOG_DEBUG, "round %lld: the chain moved past it before it was tried", (long long)round);
  char cs[ST_CID_STR_MAX] = "";
  if (r.win_count > 0) {
    st_cid_to_string(&r.cid, cs);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    st_log("miner", ST_LOG_INFO, "mined new block",
           json_pack("{s:s, s:I, s:I, s:I, s:f, s:I}", "cid", cs, "height", (json_int_t)round, "winCount",
                     (json_int_t)r.win_count, "messages", (json_int_t)r.nmsgs, "took", took, "machine",
                     (json_int_t)p->cfg.machine));
    p->stats.blocks_mined++;
    p->stats.last_mined_height = round;
  }
  if (st_cluster_update(p->cfg.cluster, p->cfg.wd.miner, p->cfg.machine, "blocks", &round, 1, 1, cs[0] ? cs : NULL,
                        false, 0, true, &e))
    st_logf(LOG, ST_LOG_WARN, "recording round %lld in the cluster: %s", (long long)round, e.msg);
  return ST_OK;
}

st_code st_poster_mine(st_poster *p, int64_t now_round, st_err *err) {
  st_node_head head;
  st_node_head_init(&head);
  st_code code = st_node_chain_head(p->cfg.wd.node, &head, err);
  if (!code) code = mine(p, now_round, head.height, err);
  st_node_head_free(&head);
  return code;
}

st_code st_poster_step(st_poster *p, int64_t now_round, st_err *err) {
  st_node_head head;
  st_node_head_init(&head);
  st_code code = st_node_chain_head(p->cfg.wd.node, &head, err);
  int64_t h = head.height;
  uint64_t mined = p->stats.blocks_mined;
  if (!code && now_round) code = mine(p, now_round, h, err);
  if (!code && p->stats.blocks_mined != mined) { /* our block is the head now */
    code = st_node_chain_head(p->cfg.wd.node, &head, err);
    h = head.height;
  }
  st_node_head_free(&head);
  if (code) return code;
  st_deadline_info cur, nxt;
  if ((code = st_node_proving_deadline(p->cfg.wd.node, p->cfg.wd.miner, NULL, &cur, err))) return code;
  next_deadline(&cur, h, &nxt);
  track(p, &cur, &nxt);
  for (int i = 0; i < 2; i++)
    if (p->dl[i].active) work(p, &p->dl[i], h);
  declarations(p, &cur, h);
  return ST_OK;
}
