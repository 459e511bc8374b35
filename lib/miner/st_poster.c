/* st_poster: one step of the poster's loop; the state file holds the last round tried. */
#include "miner/st_poster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/st_fs.h"
#include "core/st_log.h"
#include "miner/st_blockprod.h"
#include "rpc/st_node_api.h"

#define LOG "storageminer"

/* ---- the state file: {"LastRound": N} ---- */

static st_code load_state(st_poster *p, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_code code = st_fs_read_file(p->cfg.state_path, 4096, &b, err);
  if (code == ST_ENOENT) {
    st_buf_free(&b);
    p->last_round = 0;
    return ST_OK;
  }
  json_error_t je;
  json_t *j = code ? NULL : json_loadb((const char *)b.data, b.len, 0, &je);
  const json_t *r = j ? json_object_get(j, "LastRound") : NULL;
  if (!code && !j)
    code = st_err_set(err, ST_EINVAL, "poster state %s: not JSON: %s at line %d", p->cfg.state_path, je.text, je.line);
  else if (!code && (!json_is_integer(r) || json_integer_value(r) < 0))
    code =
        st_err_set(err, ST_EINVAL, "poster state %s: \"LastRound\" must be a non-negative integer", p->cfg.state_path);
  else if (!code) p->last_round = json_integer_value(r);
  json_decref(j);
  st_buf_free(&b);
  return code;
}

static st_code save_state(st_poster *p, st_err *err) {
  char text[64];
  int n = snprintf(text, sizeof text, "{\"LastRound\": %lld}\n", (long long)p->last_round);
  return st_fs_write_atomic(p->cfg.state_path, text, (size_t)n, 0644, err);
}

st_code st_poster_open(st_poster *p, const st_poster_cfg *cfg, st_err *err) {
  memset(p, 0, sizeof *p);
  p->cfg = *cfg;
  p->recovered_key = -1;
  p->stats.last_mined_height = -1;
  return load_state(p, err);
}

static void dl_reset(st_poster_dl *d) {
  st_wdpost_batch_free(&d->batch);
  free(d->sent);
  memset(d, 0, sizeof *d);
}

void st_poster_close(st_poster *p) {
  for (int i = 0; i < 2; i++) dl_reset(&p->dl[i]);
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

/* Waits for sent messages; false while some are not on chain. When all landed with exit 0 the
 * deadline is done (the chain shows the proofs in the state after their tipset, so asking
 * again at once would prove them twice); when one failed, its partitions are proven again. */
static bool sent_landed(st_poster *p, st_poster_dl *d) {
  bool all_ok = true;
  for (size_t i = 0; i < d->nsent; i++) {
    st_node_lookup l;
    st_err err;
    if (st_node_search_msg(p->cfg.wd.node, &d->sent[i], &l, &err)) {
      st_logf(LOG, ST_LOG_WARN, "checking window PoSt message for deadline %llu: %s", (unsigned long long)d->di.index,
              err.msg);
      return false;
    }
    if (!l.found) return false;
    if (l.exit_code) {
      char cs[ST_CID_STR_MAX];
      st_cid_to_string(&d->sent[i], cs);
      st_logf(LOG, ST_LOG_ERROR, "window PoSt message %s for deadline %llu failed on chain with exit code %lld", cs,
              (unsigned long long)d->di.index, (long long)l.exit_code);
      p->stats.posts_failed++;
      all_ok = false;
    } else {
      p->stats.posts_landed++;
    }
  }
  free(d->sent);
  d->sent = NULL;
  d->nsent = 0;
  st_wdpost_batch_free(&d->batch);
  d->proven = false;
  d->done = all_ok;
  return true;
}

static void work(st_poster *p, st_poster_dl *d, int64_t h) {
  st_err err;
  const st_deadline_info *di = &d->di;
  if (d->done) return;
  if (d->nsent && (!sent_landed(p, d) || d->done)) return;
  if (h >= di->close) {
    st_logf(LOG, ST_LOG_WARN, "deadline %llu closed at epoch %lld before all its partitions were proven",
            (unsigned long long)di->index, (long long)di->close);
    d->done = true;
    return;
  }
  if (!d->proven && h >= di->challenge + p->cfg.confidence) {
    st_bitfield posted;
    st_bitfield_init(&posted);
    st_code code = h >= di->open
                       ? st_node_post_submissions(p->cfg.wd.node, p->cfg.wd.miner, di->index, NULL, &posted, &err)
                       : ST_OK;
    if (!code) code = st_wdpost_prove(&p->cfg.wd, di, h, &posted, &d->batch, &err);
    st_bitfield_free(&posted);
    if (code) {
      st_logf(LOG, ST_LOG_ERROR, "running window post failed: %s", err.msg);
      return;
    }
    p->stats.sectors_proven += d->batch.sectors;
    p->stats.sectors_skipped += d->batch.skipped;
    if (!d->batch.nmsgs) {
      d->done = true;
      return;
    }
    d->proven = true;
  }
  if (d->proven && h >= di->open + p->cfg.confidence) {
    st_cid *cids = calloc(d->batch.nmsgs, sizeof *cids);
    st_code code =
        cids ? st_wdpost_submit(&p->cfg.wd, &d->batch, h, cids, &err) : st_err_set(&err, ST_ENOMEM, "out of memory");
    if (!code) {
      d->sent = cids;
      d->nsent = d->batch.nmsgs;
      p->stats.posts_submitted += d->batch.nmsgs;
      return;
    }
    free(cids);
    st_logf(LOG, code == ST_ECONFLICT ? ST_LOG_WARN : ST_LOG_ERROR,
            "submitting window PoSt for deadline %llu failed: %s", (unsigned long long)di->index, err.msg);
    if (code == ST_ECONFLICT) { /* reverted below Challenge: prove again */
      st_wdpost_batch_free(&d->batch);
      d->proven = false;
    } else if (code == ST_ERANGE) {
      d->done = true;
    }
  }
}

/* Keeps the slots on the current and next instances (work already done carries over); a slot
 * on any other instance is dropped. */
static void track(st_poster *p, const st_deadline_info *cur, const st_deadline_info *nxt) {
  const st_deadline_info *want[2] = {cur, nxt};
  for (int i = 0; i < 2; i++)
    if (p->dl[i].active && !same_instance(&p->dl[i].di, cur) && !same_instance(&p->dl[i].di, nxt)) dl_reset(&p->dl[i]);
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

static void recoveries(st_poster *p, const st_deadline_info *cur, int64_t h) {
  st_deadline_info a, target;
  next_deadline(cur, h, &a);
  next_deadline(&a, h, &target);
  int64_t key = target.period_start * target.policy.deadlines + (int64_t)target.index;
  if (key == p->recovered_key || h >= target.fault_cutoff) return;
  uint64_t n = 0;
  st_cid cid;
  st_err err;
  st_code code = st_wdpost_recover(&p->cfg.wd, &target, h, &n, &cid, &err);
  if (code) {
    st_logf(LOG, ST_LOG_ERROR, "declaring recoveries failed: %s", err.msg);
    return;
  }
  p->stats.recoveries_declared += n;
  p->recovered_key = key;
}

/* ---- blocks ---- */

static st_code mine(st_poster *p, int64_t round, int64_t head, st_err *err) {
  if (!p->cfg.mine || round < head || round <= p->last_round) return ST_OK;
  p->last_round = round;
  st_code code = save_state(p, err); /* before trying: a restart never tries the round again */
  if (code) return code;
  p->stats.rounds_tried++;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  st_blockprod_result r;
  st_err e;
  code = st_blockprod_round(p->cfg.wd.node, p->cfg.wd.miner, round, p->cfg.wd.locate, p->cfg.wd.locate_ctx, &r, &e);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (code) {
    st_logf(LOG, ST_LOG_ERROR, "mining block failed at round %lld: %s", (long long)round, e.msg);
    return ST_OK;
  }
  if (r.late)
    st_logf("miner", ST_LOG_DEBUG, "round %lld: the chain moved past it before it was tried", (long long)round);
  if (r.win_count > 0) {
    char cs[ST_CID_STR_MAX];
    st_cid_to_string(&r.cid, cs);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    st_log("miner", ST_LOG_INFO, "mined new block",
           json_pack("{s:s, s:I, s:I, s:I, s:f}", "cid", cs, "height", (json_int_t)round, "winCount",
                     (json_int_t)r.win_count, "messages", (json_int_t)r.nmsgs, "took", took));
    p->stats.blocks_mined++;
    p->stats.last_mined_height = round;
  }
  return ST_OK;
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
  recoveries(p, &cur, h);
  return ST_OK;
}
