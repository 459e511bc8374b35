/* st_wdpost: proving and submitting one deadline's WindowPoSt; declaring recoveries. */
#include "miner/st_wdpost.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/st_actors.h"
#include "chain/st_rand.h"
#include "core/st_encoding.h"
#include "core/st_log.h"
#include "crypto/st_secp.h"
#include "miner/st_miner_msgs.h"
#include "rpc/st_node_api.h"

#define LOG "storageminer"

void st_wdpost_batch_init(st_wdpost_batch *b) { memset(b, 0, sizeof *b); }

void st_wdpost_batch_free(st_wdpost_batch *b) {
  for (size_t i = 0; i < b->nmsgs; i++) st_buf_free(&b->msgs[i].params);
  free(b->msgs);
  memset(b, 0, sizeof *b);
}

static double seconds_since(const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The sectors a post must cover in a partition: live less the faults not recovering. */
static st_code to_prove(const st_node_partition *p, st_bitfield *out, st_err *err) {
  st_bitfield lost;
  st_bitfield_init(&lost);
  st_code code = st_bitfield_subtract(&p->faulty, &p->recovering, &lost, err);
  if (!code) code = st_bitfield_subtract(&p->live, &lost, out, err);
  st_bitfield_free(&lost);
  return code;
}

static const st_node_sector *find_sector(const st_node_sector *s, size_t n, uint64_t number) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s[mid].number == number) return &s[mid];
    if (s[mid].number < number) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

/* Proves the sectors of numbers (in order) with randomness rand (a field element). A sector the
 * locator cannot place (the registry has no location for it) is skipped with that reason, as an
 * unreadable one is, rather than failing the deadline (lotus#10498). */
static st_code prove_sectors(const st_wdpost_cfg *cfg, const uint64_t *numbers, size_t n, const st_node_sector *onchain,
                             size_t nonchain, const uint8_t rand[32], st_post_result *res, double *vanilla,
                             st_err *err) {
  st_post_sector *ps = calloc(n + 1, sizeof *ps);
  st_sector_paths *paths = calloc(n + 1, sizeof *paths);
  st_post_skipped *lost = calloc(n + 1, sizeof *lost);
  size_t np = 0, nlost = 0;
  st_code code = ps && paths && lost ? ST_OK : st_err_set(err, ST_ENOMEM, "out of memory");
  for (size_t i = 0; i < n && !code; i++) {
    const st_node_sector *s = find_sector(onchain, nonchain, numbers[i]);
    st_err why;
    if (!s)
      code = st_err_set(err, ST_ENOENT, "sector %llu of t0%llu is not on chain", (unsigned long long)numbers[i],
                        (unsigned long long)cfg->miner);
    else if (cfg->locate(cfg->locate_ctx, cfg->miner, numbers[i], &paths[np], &why)) {
      lost[nlost].number = numbers[i];
      snprintf(lost[nlost++].error, sizeof lost->error, "could not locate sector %llu: %.440s",
               (unsigned long long)numbers[i], why.msg);
    } else {
      ps[np] = (st_post_sector){numbers[i], {0}, paths[np].sealed, paths[np].cache};
      memcpy(ps[np++].comm_r, s->comm_r, 32);
    }
  }
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (!code) code = st_window_post_prove(cfg->info, rand, ps, np, &cfg->post, res, err);
  if (vanilla) *vanilla = seconds_since(&t0);
  if (!code && nlost) { /* both lists in input order: merge them */
    st_post_skipped *all = calloc(res->nskipped + nlost, sizeof *all);
    if (!all) code = st_err_set(err, ST_ENOMEM, "out of memory");
    size_t j = 0, k = 0, m = 0;
    for (size_t i = 0; i < n && all; i++) {
      if (k < nlost && lost[k].number == numbers[i]) all[m++] = lost[k++];
      else if (j < res->nskipped && res->skipped[j].number == numbers[i]) all[m++] = res->skipped[j++];
    }
    if (all) {
      free(res->skipped);
      res->skipped = all;
      res->nskipped = m;
    }
  }
  free(lost);
  free(ps);
  free(paths);
  return code;
}

/* The numbers of every set bit of the sets, in order, appended to *out. */
static st_code append_numbers(const st_bitfield *bf, uint64_t **out, size_t *n, st_err *err) {
  uint64_t k = st_bitfield_count(bf);
  uint64_t *grown = realloc(*out, (*n + k + 1) * sizeof **out);
  if (!grown) return st_err_set(err, ST_ENOMEM, "out of memory");
  *out = grown;
  st_bitfield_iter it;
  st_bitfield_iter_init(&it, bf);
  uint64_t v;
  while (st_bitfield_iter_next(&it, &v)) (*out)[(*n)++] = v;
  return ST_OK;
}

/* The on-chain sectors in the union of sets. */
static st_code load_sectors(const st_wdpost_cfg *cfg, const st_bitfield *sets, size_t nsets, st_node_sector **out,
                            size_t *n, st_err *err) {
  st_bitfield all;
  st_bitfield_init(&all);
  st_code code = ST_OK;
  for (size_t i = 0; i < nsets && !code; i++) code = st_bitfield_union(&all, &sets[i], &all, err);
  if (!code) code = st_node_sectors(cfg->node, cfg->miner, &all, NULL, out, n, err);
  st_bitfield_free(&all);
  return code;
}

static st_code draw(const st_wdpost_cfg *cfg, int64_t challenge, uint8_t rand[32], uint8_t commit[32], st_err *err) {
  st_buf e = ST_BUF_INIT;
  st_rand_entropy_id(cfg->miner, &e);
  st_code code = st_node_randomness(cfg->node, true, ST_DST_WINDOW_POST, challenge, e.data, e.len, NULL, rand, err);
  if (!code && commit)
    code = st_node_randomness(cfg->node, false, ST_DST_POST_CHAIN_COMMIT, challenge, NULL, 0, NULL, commit, err);
  st_buf_free(&e);
  return code;
}

/* What the messages of one deadline's proof share: the partitions to prove (their indexes in the
 * deadline and the sectors to prove in each), the chain's record of those sectors and the
 * randomness drawn at Challenge. */
typedef struct prove_ctx {
  const st_wdpost_cfg *cfg;
  st_wdpost_batch *b; /* its deadline and randomness; gets the totals */
  const uint64_t *index;
  const st_bitfield *proving;
  size_t nparts;
  const st_node_sector *onchain;
  size_t nonchain;
  uint8_t fr[32], commit[32]; /* the randomness as a field element; the chain commit */
  int64_t height;
} prove_ctx;

/* The skipped sectors of partitions [from, to), one set per partition, each logged as the seed's
 * ERROR line. */
static st_code skipped_sets(const prove_ctx *x, size_t from, size_t to, const st_post_result *res, st_bitfield **out,
                            st_err *err) {
  st_bitfield *skipped = *out = calloc(to - from + 1, sizeof *skipped);
  if (!skipped) return st_err_set(err, ST_ENOMEM, "out of memory");
  st_code code = ST_OK;
  for (size_t i = 0; i < res->nskipped && !code; i++) {
    size_t p = from;
    while (p < to && !st_bitfield_has(&x->proving[p], res->skipped[i].number)) p++;
    st_logf(LOG, ST_LOG_ERROR, "when running wdpost for partition %llu, got err %s",
            (unsigned long long)(p < to ? x->index[p] : 0), res->skipped[i].error);
    if (p < to) code = st_bitfield_set(&skipped[p - from], res->skipped[i].number, err);
  }
  return code;
}

/* The seed's lines for a group of n sectors, of which nskipped could not be read (all of them:
 * no message, as Lotus, so the deadline stays unproven and cron faults the sectors, the seed's
 * "proven 0"). */
static void log_group(const prove_ctx *x, size_t from, size_t to, size_t n, size_t nskipped, double elapsed) {
  const st_wdpost_batch *b = x->b;
  st_buf rb = ST_BUF_INIT;
  st_base64_append(&rb, b->rand, 32, true);
  char hs[24];
  snprintf(hs, sizeof hs, "%lld", (long long)x->height);
  st_log(LOG, ST_LOG_INFO, "running windowPost",
         json_pack("{s:s%, s:o, s:s, s:I}", "chain-random", (const char *)rb.data, rb.len, "deadline",
                   st_deadline_info_seed_json(&b->di), "height", hs, "skipped", (json_int_t)nskipped));
  st_buf_free(&rb);
  if (n == nskipped && from == 0 && to == x->nparts)
    st_logf(LOG, ST_LOG_WARN, "no sector of deadline %llu could be read (%zu skipped): nothing to submit",
            (unsigned long long)b->di.index, nskipped);
  else if (n == nskipped)
    st_logf(
        LOG, ST_LOG_WARN,
        "no sector of deadline %llu's partitions %llu to %llu could be read (%zu skipped): nothing to submit for them",
        (unsigned long long)b->di.index, (unsigned long long)x->index[from], (unsigned long long)x->index[to - 1],
        nskipped);
  else {
    st_log(LOG, ST_LOG_INFO, "generating windowPost", json_pack("{s:I}", "sectors", (json_int_t)(n - nskipped)));
    st_log(LOG, ST_LOG_INFO, "submitting window PoSt", json_pack("{s:f}", "elapsed", elapsed));
  }
}

/* SubmitWindowedPoSt's params for partitions [from, to) with their skipped sets into m. */
static st_code encode_group(const prove_ctx *x, size_t from, size_t to, const st_bitfield *skipped,
                            const st_post_result *res, st_wdpost_msg *m, st_err *err) {
  st_post_partition *pp = calloc(to - from + 1, sizeof *pp);
  if (!pp) return st_err_set(err, ST_ENOMEM, "out of memory");
  for (size_t p = from; p < to; p++) {
    pp[p - from] = (st_post_partition){x->index[p], &skipped[p - from]};
    m->index[p - from] = x->index[p];
  }
  m->params = (st_buf)ST_BUF_INIT;
  m->partitions = to - from;
  st_code code = st_params_window_post(x->b->di.index, pp, to - from, x->cfg->info->window_proof, res->proof.data,
                                       res->proof.len, x->b->di.challenge, x->commit, &m->params, err);
  free(pp);
  if (code) {
    st_buf_free(&m->params);
    m->partitions = 0;
  }
  return code;
}

/* One message's partitions, [from, to) of x's: proves them and encodes the params into m
 * (m->partitions 0: nothing could be read, no message). */
static st_code prove_group(const prove_ctx *x, size_t from, size_t to, st_wdpost_msg *m, st_err *err) {
  m->partitions = 0;
  uint64_t *numbers = NULL;
  size_t n = 0;
  st_code code = ST_OK;
  for (size_t p = from; p < to && !code; p++) code = append_numbers(&x->proving[p], &numbers, &n, err);
  st_post_result res;
  memset(&res, 0, sizeof res);
  double elapsed = 0; /* the proof alone, as Lotus's "elapsed" is GenerateWindowPoSt's time */
  st_bitfield *skipped = NULL;
  if (!code) code = prove_sectors(x->cfg, numbers, n, x->onchain, x->nonchain, x->fr, &res, &elapsed, err);
  if (!code) code = skipped_sets(x, from, to, &res, &skipped, err);
  if (!code) log_group(x, from, to, n, res.nskipped, elapsed);
  if (!code && n != res.nskipped) code = encode_group(x, from, to, skipped, &res, m, err);
  if (!code) {
    x->b->sectors += n - res.nskipped;
    x->b->skipped += res.nskipped;
    x->b->vanilla_secs += elapsed;
  }
  for (size_t p = 0; skipped && p < to - from; p++) st_bitfield_free(&skipped[p]);
  free(skipped);
  st_post_result_free(&res);
  free(numbers);
  return code;
}

/* The partitions of parts with something to prove (Lotus skips the others too), less those in
 * skip: their indexes into index[*k] and their sectors to prove into proving[*k]. */
static st_code select_partitions(const st_node_partition *parts, size_t np, const st_bitfield *skip,
                                 st_bitfield *proving, uint64_t *index, size_t *k, st_err *err) {
  st_code code = ST_OK;
  *k = 0;
  for (size_t p = 0; p < np && !code; p++)
    if ((!skip || !st_bitfield_has(skip, p)) && !(code = to_prove(&parts[p], &proving[*k], err)) &&
        st_bitfield_count(&proving[*k]))
      index[(*k)++] = p;
  return code;
}

/* Proves x's partitions, at most cfg->max_partitions a message, into x->b's messages. */
static st_code prove_groups(prove_ctx *x, st_err *err) {
  const st_wdpost_cfg *cfg = x->cfg;
  st_wdpost_batch *out = x->b;
  size_t k = x->nparts, per = cfg->max_partitions && cfg->max_partitions <= ST_POSTED_PARTITIONS_MAX
                                  ? cfg->max_partitions
                                  : ST_POSTED_PARTITIONS_MAX;
  if (!(out->msgs = calloc((k + per - 1) / per, sizeof *out->msgs))) return st_err_set(err, ST_ENOMEM, "out of memory");
  st_code code = ST_OK;
  for (size_t from = 0; from < k && !code; from += per) {
    size_t to = from + per < k ? from + per : k;
    if (!(code = prove_group(x, from, to, &out->msgs[out->nmsgs], err)) && out->msgs[out->nmsgs].partitions) {
      out->nmsgs++;
      out->partitions += to - from;
    }
  }
  return code;
}

st_code st_wdpost_prove(const st_wdpost_cfg *cfg, const st_deadline_info *di, int64_t height, const st_bitfield *skip,
                        st_wdpost_batch *out, st_err *err) {
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  st_wdpost_batch_free(out);
  out->di = *di;
  out->di.current_epoch = height; /* as logged: the deadline seen from the head */
  st_node_partition *parts = NULL;
  size_t np = 0;
  prove_ctx x = {.cfg = cfg, .b = out, .height = height};
  st_code code = st_node_partitions(cfg->node, cfg->miner, di->index, NULL, &parts, &np, err);
  if (code || !np) {
    if (code) st_wdpost_batch_free(out);
    return code;
  }
  st_bitfield *proving = calloc(np, sizeof *proving);
  uint64_t *index = calloc(np, sizeof *index);
  st_node_sector *onchain = NULL;
  code = proving && index ? select_partitions(parts, np, skip, proving, index, &x.nparts, err)
                          : st_err_set(err, ST_ENOMEM, "out of memory");
  x.index = index;
  x.proving = proving;
  if (!code && x.nparts) code = load_sectors(cfg, proving, x.nparts, &onchain, &x.nonchain, err);
  x.onchain = onchain;
  if (!code && x.nparts && !(code = draw(cfg, di->challenge, out->rand, x.commit, err))) {
    memcpy(x.fr, out->rand, 32);
    st_rand_to_fr(x.fr);
  }
  if (!code && x.nparts) code = prove_groups(&x, err);
  out->prove_secs = seconds_since(&t0);
  if (code) {
    st_err_wrap(err, code, "WindowPoSt for deadline %llu", (unsigned long long)di->index);
    st_wdpost_batch_free(out);
  }
  for (size_t p = 0; proving && p < np; p++) st_bitfield_free(&proving[p]);
  free(proving);
  free(index);
  free(onchain);
  st_node_partitions_free(parts, np);
  return code;
}

st_code st_wdpost_submit(const st_wdpost_cfg *cfg, const st_wdpost_batch *b, int64_t height, st_cid *cids,
                         st_err *err) {
  if (b->nmsgs) memset(cids, 0, b->nmsgs * sizeof *cids);
  if (height + 1 >= b->di.close) /* the message would land at height + 1 at the earliest */
    return st_err_set(err, ST_ERANGE,
                      "deadline %llu closes at epoch %lld and the head is at %lld: too late to send its proofs",
                      (unsigned long long)b->di.index, (long long)b->di.close, (long long)height);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  uint8_t now[32];
  st_code code = draw(cfg, b->di.challenge, now, NULL, err);
  if (!code && memcmp(now, b->rand, 32))
    code =
        st_err_set(err, ST_ECONFLICT, "the chain changed below deadline %llu's Challenge (epoch %lld): proving again",
                   (unsigned long long)b->di.index, (long long)b->di.challenge);
  for (size_t i = 0; i < b->nmsgs && !code; i++) {
    code = st_node_send(cfg->node, &cfg->sender, cfg->miner, ST_METHOD_SUBMIT_WINDOWED_POST, b->msgs[i].params.data,
                        b->msgs[i].params.len, cfg->max_fee, &cids[i], err);
    if (!code) {
      char cs[ST_CID_STR_MAX];
      st_cid_to_string(&cids[i], cs);
      json_t *line = json_pack("{s:I, s:I, s:s, s:f, s:f, s:f}", "deadline", (json_int_t)b->di.index, "partitions",
                               (json_int_t)b->msgs[i].partitions, "cid", cs, "prove", b->prove_secs, "vanilla",
                               b->vanilla_secs, "submit", seconds_since(&t0));
      if (line && cfg->machine > 0) json_object_set_new(line, "machine", json_integer(cfg->machine));
      st_log(LOG, ST_LOG_INFO, "window PoSt submitted", line);
    }
  }
  if (code) memset(cids, 0, b->nmsgs * sizeof *cids);
  return code;
}

/* The sectors of cand whose files prove again, into ok (initialised, empty). */
static st_code readable(const st_wdpost_cfg *cfg, const st_bitfield *cand, const st_node_sector *onchain,
                        size_t nonchain, bool log_bad, st_bitfield *ok, st_err *err) {
  static const uint8_t CHECK[32]; /* any field element: this only reads the challenged leaves */
  uint64_t *numbers = NULL;
  size_t n = 0;
  st_post_result res;
  memset(&res, 0, sizeof res);
  st_code code = append_numbers(cand, &numbers, &n, err);
  if (!code) code = prove_sectors(cfg, numbers, n, onchain, nonchain, CHECK, &res, NULL, err);
  if (!code) code = st_bitfield_copy(cand, ok, err);
  for (size_t i = 0; i < res.nskipped && !code; i++) {
    st_bitfield one;
    st_bitfield_init(&one);
    if (!(code = st_bitfield_set(&one, res.skipped[i].number, err))) code = st_bitfield_subtract(ok, &one, ok, err);
    st_bitfield_free(&one);
    if (log_bad) /* Lotus's line for a sector its fault check finds unreadable */
      st_log(LOG, ST_LOG_WARN, "CheckProvable Sector FAULT: generating vanilla proof",
             json_pack("{s:I, s:s}", "sector", (json_int_t)res.skipped[i].number, "err", res.skipped[i].error));
  }
  st_post_result_free(&res);
  free(numbers);
  return code;
}

/* The sectors of partition p to check: faulty and not recovering (recoveries), or live and
 * not faulty (faults). */
static st_code candidates(const st_node_partition *p, bool faults, st_bitfield *out, st_err *err) {
  return faults ? st_bitfield_subtract(&p->live, &p->faulty, out, err)
                : st_bitfield_subtract(&p->faulty, &p->recovering, out, err);
}

/* A declaration sent at head height lands at height + 1 at the earliest, which must be before
 * the deadline's FaultCutoff: otherwise it would only fail on chain. */
static bool too_late(const st_deadline_info *di, int64_t height, const char *what, st_err *err) {
  if (height + 1 < di->fault_cutoff) return false;
  st_err_set(err, ST_ERANGE,
             "deadline %llu's FaultCutoff (epoch %lld) is passed or next (the head is at %lld): %s wait for its next "
             "period",
             (unsigned long long)di->index, (long long)di->fault_cutoff, (long long)height, what);
  return true;
}

/* Declares recoveries (the candidates that read) or faults (those that do not) of deadline di. */
static st_code declare(const st_wdpost_cfg *cfg, const st_deadline_info *di, int64_t height, bool faults,
                       uint64_t *declared, st_cid *cid, st_err *err) {
  const char *what = faults ? "faults" : "recoveries";
  *declared = 0;
  memset(cid, 0, sizeof *cid);
  if (too_late(di, height, what, err)) return ST_ERANGE;
  st_node_partition *parts = NULL;
  size_t np = 0, nonchain = 0;
  st_code code = st_node_partitions(cfg->node, cfg->miner, di->index, NULL, &parts, &np, err);
  if (code || !np) return code;
  st_bitfield *cand = calloc(np, sizeof *cand), *ok = calloc(np, sizeof *ok), *bad = calloc(np, sizeof *bad);
  st_fault_decl *decls = calloc(np, sizeof *decls);
  st_node_sector *onchain = NULL;
  if (!cand || !ok || !bad || !decls) code = st_err_set(err, ST_ENOMEM, "out of memory");
  for (size_t p = 0; p < np && !code; p++) code = candidates(&parts[p], faults, &cand[p], err);
  if (!code) code = load_sectors(cfg, cand, np, &onchain, &nonchain, err);
  size_t nd = 0;
  for (size_t p = 0; p < np && !code; p++) {
    if (!st_bitfield_count(&cand[p]) || (code = readable(cfg, &cand[p], onchain, nonchain, faults, &ok[p], err)) ||
        (faults && (code = st_bitfield_subtract(&cand[p], &ok[p], &bad[p], err))))
      continue;
    const st_bitfield *decl = faults ? &bad[p] : &ok[p];
    if (!st_bitfield_count(decl)) continue;
    decls[nd++] = (st_fault_decl){di->index, p, decl};
    *declared += st_bitfield_count(decl);
  }
  st_buf params = ST_BUF_INIT;
  if (!code && nd) { /* reading took time: the head again */
    st_node_head head;
    st_node_head_init(&head);
    if (!(code = st_node_chain_head(cfg->node, &head, err)) && too_late(di, head.height, what, err)) code = ST_ERANGE;
    st_node_head_free(&head);
  }
  if (!code && nd && !(code = st_params_fault_decls(decls, nd, &params, err))) {
    code = st_node_send(cfg->node, &cfg->sender, cfg->miner,
                        faults ? ST_METHOD_DECLARE_FAULTS : ST_METHOD_DECLARE_FAULTS_RECOVERED, params.data, params.len,
                        cfg->max_fee, cid, err);
    if (!code) {
      char cs[ST_CID_STR_MAX];
      st_cid_to_string(cid, cs);
      st_log(
          LOG, faults ? ST_LOG_WARN : ST_LOG_INFO,
          faults ? "declare faults Message CID" : "declare faults recovered Message CID",
          json_pack("{s:s, s:I, s:I}", "cid", cs, "deadline", (json_int_t)di->index, "sectors", (json_int_t)*declared));
    }
  }
  if (code) {
    *declared = 0;
    memset(cid, 0, sizeof *cid);
    st_err_wrap(err, code, "%s for deadline %llu", what, (unsigned long long)di->index);
  }
  st_buf_free(&params);
  for (size_t p = 0; p < np; p++) {
    if (cand) st_bitfield_free(&cand[p]);
    if (ok) st_bitfield_free(&ok[p]);
    if (bad) st_bitfield_free(&bad[p]);
  }
  free(cand);
  free(ok);
  free(bad);
  free(decls);
  free(onchain);
  st_node_partitions_free(parts, np);
  return code;
}

st_code st_wdpost_recover(const st_wdpost_cfg *cfg, const st_deadline_info *di, int64_t height, uint64_t *declared,
                          st_cid *cid, st_err *err) {
  return declare(cfg, di, height, false, declared, cid, err);
}

st_code st_wdpost_declare_faults(const st_wdpost_cfg *cfg, const st_deadline_info *di, int64_t height,
                                 uint64_t *declared, st_cid *cid, st_err *err) {
  return declare(cfg, di, height, true, declared, cid, err);
}

/* The slow check of one partition's located sectors (v[0..n)): a proof with fresh random
 * challenges, verified sector by sector; sectors skipped or failing turn bad. */
static st_code check_slow(const st_wdpost_cfg *cfg, st_wdpost_check *v, size_t n, const st_node_sector *onchain,
                          size_t nonchain, st_err *err) {
  st_post_sector *ps = calloc(n + 1, sizeof *ps);
  st_post_public_sector *pub = calloc(n + 1, sizeof *pub);
  st_wdpost_check **at = calloc(n + 1, sizeof *at), **proven = calloc(n + 1, sizeof *proven);
  st_code *codes = calloc(n + 1, sizeof *codes);
  char(*errors)[ST_ERR_MSG_MAX] = calloc(n + 1, sizeof *errors);
  uint8_t fr[32];
  st_code code = ps && pub && at && proven && codes && errors ? st_random_bytes(fr, 32, err)
                                                              : st_err_set(err, ST_ENOMEM, "out of memory");
  st_rand_to_fr(fr);
  size_t k = 0, np = 0;
  for (size_t i = 0; i < n && !code; i++) {
    if (!v[i].good) continue;
    const st_node_sector *s = find_sector(onchain, nonchain, v[i].sector);
    ps[k] = (st_post_sector){v[i].sector, {0}, v[i].paths.sealed, v[i].paths.cache};
    memcpy(ps[k].comm_r, s->comm_r, 32);
    at[k++] = &v[i];
  }
  st_post_result res;
  memset(&res, 0, sizeof res);
  if (!code && k) code = st_window_post_prove(cfg->info, fr, ps, k, &cfg->post, &res, err);
  for (size_t i = 0, j = 0; i < k && !code; i++) {
    if (j < res.nskipped && res.skipped[j].number == ps[i].number) {
      at[i]->good = false;
      snprintf(at[i]->error, sizeof at[i]->error, "%s", res.skipped[j++].error);
    } else {
      pub[np] = (st_post_public_sector){ps[i].number, {0}};
      memcpy(pub[np].comm_r, ps[i].comm_r, 32);
      proven[np++] = at[i];
    }
  }
  if (!code && np)
    code = st_window_post_verify_each(cfg->info, fr, pub, np, res.proof.data, res.proof.len, codes, errors, err);
  for (size_t i = 0; i < np && !code; i++)
    if (codes[i]) {
      proven[i]->good = false;
      snprintf(proven[i]->error, sizeof proven[i]->error, "its proof does not verify: %.450s", errors[i]);
    }
  st_post_result_free(&res);
  free(ps);
  free(pub);
  free(at);
  free(proven);
  free(codes);
  free(errors);
  return code;
}

st_code st_wdpost_check_deadline(const st_wdpost_cfg *cfg, uint64_t deadline, bool slow, st_wdpost_check **out,
                                 size_t *n, st_err *err) {
  *out = NULL;
  *n = 0;
  st_node_partition *parts = NULL;
  size_t np = 0, nonchain = 0;
  st_node_sector *onchain = NULL;
  st_wdpost_check *v = NULL;
  st_code code = st_node_partitions(cfg->node, cfg->miner, deadline, NULL, &parts, &np, err);
  st_bitfield *live = calloc(np + 1, sizeof *live);
  if (!code && !live) code = st_err_set(err, ST_ENOMEM, "out of memory");
  uint64_t total = 0;
  for (size_t p = 0; p < np && !code; p++) {
    st_bitfield_init(&live[p]);
    code = st_bitfield_copy(&parts[p].live, &live[p], err);
    total += st_bitfield_count(&live[p]);
  }
  if (!code) code = load_sectors(cfg, live, np, &onchain, &nonchain, err);
  if (!code && !(v = calloc(total + 1, sizeof *v))) code = st_err_set(err, ST_ENOMEM, "out of memory");
  size_t k = 0;
  for (size_t p = 0; p < np && !code; p++) {
    size_t first = k;
    st_bitfield_iter it;
    st_bitfield_iter_init(&it, &live[p]);
    uint64_t num;
    while (st_bitfield_iter_next(&it, &num)) {
      st_wdpost_check *c = &v[k++];
      st_err e;
      c->partition = p;
      c->sector = num;
      const st_node_sector *s = find_sector(onchain, nonchain, num);
      st_code rc = s ? cfg->locate(cfg->locate_ctx, cfg->miner, num, &c->paths, &e)
                     : st_err_set(&e, ST_ENOENT, "sector %llu is not on chain", (unsigned long long)num);
      if (rc) memset(&c->paths, 0, sizeof c->paths);
      if (!rc && !slow) {
        st_post_sector ps = {num, {0}, c->paths.sealed, c->paths.cache};
        memcpy(ps.comm_r, s->comm_r, 32);
        rc = st_post_check_sector(cfg->info, &ps, &e);
      }
      c->good = !rc;
      if (rc) snprintf(c->error, sizeof c->error, "%s", e.msg);
    }
    if (slow) code = check_slow(cfg, &v[first], k - first, onchain, nonchain, err);
  }
  if (code) {
    free(v);
    st_err_wrap(err, code, "checking deadline %llu", (unsigned long long)deadline);
  } else {
    *out = v;
    *n = k;
  }
  for (size_t p = 0; live && p < np; p++) st_bitfield_free(&live[p]);
  free(live);
  free(onchain);
  st_node_partitions_free(parts, np);
  return code;
}
