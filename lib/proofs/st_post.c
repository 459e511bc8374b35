/* st_post: PoSt challenges, per-sector proving, the parallel partition prover with per-sector
 * timeouts, and the verifiers. */
#include "proofs/st_post.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/st_endian.h"
#include "core/st_fs.h"
#include "crypto/st_hash.h"
#include "proofs/st_fr.h"
#include "proofs/st_hasher.h"
#include "proofs/st_merkle.h"
#include "proofs/st_seal.h"
#include "proofs/st_vproof.h"

uint64_t st_post_leaf_challenge(const uint8_t randomness[32], uint64_t sector, uint64_t index, uint64_t nodes) {
  uint8_t buf[48], h[32];
  memcpy(buf, randomness, 32);
  st_le64_put(buf + 32, sector);
  st_le64_put(buf + 40, index);
  st_sha256(buf, sizeof buf, h);
  return st_le64_get(h) % nodes;
}

uint64_t st_post_select_sector(const uint8_t prover_id[32], const uint8_t randomness[32], uint64_t n, uint64_t count) {
  uint8_t buf[72], h[32];
  memcpy(buf, prover_id, 32);
  memcpy(buf + 32, randomness, 32);
  st_le64_put(buf + 64, n);
  st_sha256(buf, sizeof buf, h);
  return st_le64_get(h) % count;
}

/* Opens a sector for proving: p_aux matches comm_r, tree-r-last (with the replica as its leaves
 * where the tree is level-cached) has its sizes and its root is comm_r_last. */
static st_code open_sector(const st_sector_info *info, const uint8_t comm_r[32], const char *sealed, const char *cache,
                           st_tree_reader *rd, uint8_t comm_c[32], uint8_t comm_r_last[32], st_err *err) {
  uint8_t check[32];
  st_code rc = st_read_p_aux(cache, comm_c, comm_r_last, err);
  if (rc) return rc;
  st_comm_r(st_hasher_sealing(), comm_c, comm_r_last, check);
  if (memcmp(check, comm_r, 32))
    return st_err_set(err, ST_ECRYPTO, "p_aux in \"%s\" does not match the sector's comm_r", cache);
  st_tree_shape shape;
  st_tree_shape_r_last(&shape, info);
  if ((rc = st_tree_reader_open_dir(rd, &shape, st_hasher_sealing(), cache, "tree-r-last", sealed, err))) return rc;
  if (memcmp(rd->root, comm_r_last, 32)) {
    st_tree_reader_close(rd);
    return st_err_set(err, ST_ECRYPTO, "tree-r-last in \"%s\" does not match comm_r_last in p_aux", cache);
  }
  return ST_OK;
}

st_code st_post_check_sector(const st_sector_info *info, const st_post_sector *s, st_err *err) {
  struct stat st;
  if (stat(s->sealed_path, &st)) return st_fs_os_error(err, "read from", s->sealed_path, errno);
  if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != info->size)
    return st_err_set(err, ST_EIO, "could not read from path=\"%s\": replica is %llu bytes, want %llu", s->sealed_path,
                      (unsigned long long)st.st_size, (unsigned long long)info->size);
  st_tree_reader rd;
  uint8_t comm_c[32], comm_r_last[32];
  st_code rc = open_sector(info, s->comm_r, s->sealed_path, s->cache_dir, &rd, comm_c, comm_r_last, err);
  if (!rc) st_tree_reader_close(&rd);
  return rc;
}

/* Proves one sector with count challenges, appending its FallbackPoStSectorProof (st_vproof). */
static st_code prove_sector(const st_sector_info *info, const uint8_t randomness[32], uint64_t number,
                            const uint8_t comm_r[32], const char *sealed, const char *cache, unsigned count,
                            st_buf *out, uint64_t *bytes, st_err *err) {
  uint8_t comm_c[32], comm_r_last[32];
  st_tree_reader rd;
  st_code rc = open_sector(info, comm_r, sealed, cache, &rd, comm_c, comm_r_last, err);
  if (rc) return rc;
  *bytes += 64;
  st_vproof_put_head(out, number, comm_r, count);
  uint64_t nodes = st_sector_nodes(info);
  for (unsigned n = 0; !rc && n < count; n++) {
    uint8_t leaf[32], sib[ST_TREE_MAX_PATH];
    uint64_t c = st_post_leaf_challenge(randomness, number, n, nodes);
    rc = st_tree_reader_prove(&rd, c, leaf, sib, err);
    if (!rc) st_vproof_put_inclusion(out, info, c, leaf, sib, comm_r_last);
  }
  if (!rc) st_vproof_put_tail(out, comm_c, comm_r_last);
  *bytes += rd.bytes_read;
  st_tree_reader_close(&rd);
  return rc ? rc : st_buf_status(out, err);
}

/* Checks the proof p[0..len) (at offset base of the whole) of sector want with count
 * challenges. */
static st_code verify_sector(const st_sector_info *info, const uint8_t randomness[32],
                             const st_post_public_sector *want, unsigned count, const uint8_t *p, size_t len,
                             size_t base, st_err *err) {
  st_vproof_sector s;
  st_code rc = st_vproof_decode(info, count, p, len, base, &s, err);
  if (rc) return st_err_wrap(err, rc, "sector %llu", (unsigned long long)want->number);
  uint64_t challenges[ST_WINNING_CHALLENGES > ST_WINDOW_CHALLENGES ? ST_WINNING_CHALLENGES : ST_WINDOW_CHALLENGES];
  for (unsigned n = 0; n < count; n++)
    challenges[n] = st_post_leaf_challenge(randomness, want->number, n, st_sector_nodes(info));
  rc = st_vproof_check(info, &s, want->number, want->comm_r, challenges, err);
  st_vproof_sector_free(&s);
  return rc;
}

/* which ("window", "winning") names the proof in the error. */
static st_code check_randomness(const char *which, const uint8_t randomness[32], st_err *err) {
  if (st_fr_is_valid(randomness)) return ST_OK;
  return st_err_set(err, ST_EINVAL, "%s post: the randomness is not a field element", which);
}

/* A proof of n sectors is their n proofs back to back, each exactly st_vproof_sector_len bytes:
 * fails unless len is that, naming the truncated field or the bytes after the last proof. */
static st_code check_length(const st_sector_info *info, unsigned count, size_t n, const uint8_t *proof, size_t len,
                            const st_post_public_sector *sectors, st_err *err) {
  size_t one = st_vproof_sector_len(info, count);
  if (n && one > SIZE_MAX / n) return st_err_set(err, ST_ERANGE, "post proof: %zu sectors are too many", n);
  if (len > one * n)
    return st_err_set(err, ST_EINVAL, "vanilla proof: byte %zu: %zu byte%s after the %zu sector proof%s expected",
                      one * n, len - one * n, len - one * n == 1 ? "" : "s", n, n == 1 ? "" : "s");
  if (len == one * n) return ST_OK;
  size_t i = len / one; /* the sector cut short: decoding it names the field it ends in */
  st_vproof_sector s;
  st_code rc = st_vproof_decode(info, count, proof + i * one, len - i * one, i * one, &s, err);
  st_vproof_sector_free(&s);
  if (!rc) rc = st_err_set(err, ST_EINTERNAL, "vanilla proof: %zu bytes decoded as %zu", len - i * one, one);
  return st_err_wrap(err, rc, "sector %llu", (unsigned long long)sectors[i].number);
}

/* ---- the parallel partition prover ---- */

enum { JOB_WAITING, JOB_RUNNING, JOB_DONE, JOB_COLLECTED, JOB_ABANDONED };

typedef struct batch batch;
typedef struct job {
  batch *b;
  uint64_t number;
  uint8_t comm_r[32];
  char *sealed, *cache;
  int state;
  struct timespec started;
  st_buf out;
  st_err err;
  st_code rc;
  uint64_t bytes;
} job;

/* Shared by the caller and the reader threads; freed by whoever drops the last reference, so
 * a thread stuck past its timeout (a hung NFS read) never writes to freed memory. */
struct batch {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int refs;
  const st_sector_info *info;
  uint8_t randomness[32];
  unsigned challenges; /* per sector */
  size_t n;
  job *jobs;
};

static void batch_free(batch *b) {
  for (size_t i = 0; i < b->n; i++) {
    free(b->jobs[i].sealed);
    free(b->jobs[i].cache);
    st_buf_free(&b->jobs[i].out);
  }
  free(b->jobs);
  pthread_cond_destroy(&b->cv);
  pthread_mutex_destroy(&b->mu);
  free(b);
}

static void batch_release(batch *b) {
  pthread_mutex_lock(&b->mu);
  bool last = --b->refs == 0;
  pthread_mutex_unlock(&b->mu);
  if (last) batch_free(b);
}

static void *reader(void *arg) {
  job *j = arg;
  batch *b = j->b;
  st_buf out = ST_BUF_INIT;
  st_err err;
  st_err_clear(&err);
  uint64_t bytes = 0;
  st_code rc = prove_sector(b->info, b->randomness, j->number, j->comm_r, j->sealed, j->cache, b->challenges, &out,
                            &bytes, &err);
  pthread_mutex_lock(&b->mu);
  if (j->state == JOB_RUNNING) {
    j->out = out;
    j->err = err;
    j->rc = rc;
    j->bytes = bytes;
    j->state = JOB_DONE;
    pthread_cond_signal(&b->cv);
  } else {
    st_buf_free(&out);
  }
  pthread_mutex_unlock(&b->mu);
  batch_release(b);
  return NULL;
}

static uint64_t ms_since(const struct timespec *t, const struct timespec *now) {
  return (uint64_t)(now->tv_sec - t->tv_sec) * 1000 + (uint64_t)((now->tv_nsec - t->tv_nsec) / 1000000);
}

void st_post_result_free(st_post_result *r) {
  st_buf_free(&r->proof);
  free(r->skipped);
  r->skipped = NULL;
  r->nskipped = 0;
  r->bytes_read = 0;
}

static batch *batch_new(const st_sector_info *info, const uint8_t randomness[32], unsigned challenges,
                        const st_post_sector *sectors, size_t n) {
  batch *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  b->jobs = calloc(n, sizeof *b->jobs);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_mutex_init(&b->mu, NULL);
  pthread_cond_init(&b->cv, &ca);
  pthread_condattr_destroy(&ca);
  b->refs = 1;
  b->info = info;
  b->challenges = challenges;
  b->n = n;
  memcpy(b->randomness, randomness, 32);
  bool ok = b->jobs != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    job *j = &b->jobs[i];
    j->b = b;
    j->number = sectors[i].number;
    memcpy(j->comm_r, sectors[i].comm_r, 32);
    st_buf_init(&j->out);
    ok = (j->sealed = strdup(sectors[i].sealed_path)) && (j->cache = strdup(sectors[i].cache_dir));
  }
  if (!ok) {
    if (!b->jobs) b->n = 0;
    batch_free(b);
    return NULL;
  }
  return b;
}

/* Starts job j on a detached thread; on failure the job is finished with the error. */
static bool start(job *j) {
  clock_gettime(CLOCK_MONOTONIC, &j->started);
  j->state = JOB_RUNNING;
  j->b->refs++;
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  pthread_t t;
  int e = pthread_create(&t, &a, reader, j);
  pthread_attr_destroy(&a);
  if (!e) return true;
  j->b->refs--;
  j->state = JOB_COLLECTED; /* nothing to wait for: the error is the result */
  j->rc = ST_EINTERNAL;
  st_err_set(&j->err, ST_EINTERNAL, "sector %llu: could not start a reader thread: %s", (unsigned long long)j->number,
             strerror(e));
  return false;
}

static st_code collect(batch *b, st_post_result *res, st_err *err) {
  size_t ok = 0;
  for (size_t i = 0; i < b->n; i++) ok += b->jobs[i].rc == ST_OK;
  if (b->n > ok && !(res->skipped = calloc(b->n - ok, sizeof *res->skipped)))
    return st_err_set(err, ST_ENOMEM, "out of memory");
  for (size_t i = 0; i < b->n; i++) {
    job *j = &b->jobs[i];
    res->bytes_read += j->bytes;
    if (j->rc == ST_OK) {
      st_buf_append(&res->proof, j->out.data, j->out.len);
    } else {
      st_post_skipped *s = &res->skipped[res->nskipped++];
      s->number = j->number;
      s->code = j->rc;
      memcpy(s->error, j->err.msg, sizeof s->error);
    }
  }
  return st_buf_status(&res->proof, err);
}

/* Runs every job of b, parallel at once, abandoning a job past timeout ms (0: none); called
 * and returns with b->mu held. */
static void run_jobs(batch *b, unsigned parallel, unsigned timeout) {
  size_t n = b->n, next = 0, running = 0, finished = 0;
  while (finished < n) {
    while (running < parallel && next < n) {
      job *j = &b->jobs[next++];
      if (start(j)) running++;
      else finished++;
    }
    /* Collect finished jobs and abandon late ones; note the oldest still running. */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    size_t progressed = 0;
    const job *oldest = NULL;
    for (size_t i = 0; i < next; i++) {
      job *j = &b->jobs[i];
      if (j->state == JOB_DONE) {
        j->state = JOB_COLLECTED;
        progressed++;
      } else if (j->state != JOB_RUNNING) {
        continue;
      } else if (timeout && ms_since(&j->started, &now) >= timeout) {
        j->state = JOB_ABANDONED;
        j->rc = ST_EIO;
        st_err_set(&j->err, ST_EIO, "could not read from path=\"%s\": sector %llu not read within the %u ms timeout",
                   j->cache, (unsigned long long)j->number, timeout);
        progressed++;
      } else if (!oldest || j->started.tv_sec < oldest->started.tv_sec ||
                 (j->started.tv_sec == oldest->started.tv_sec && j->started.tv_nsec < oldest->started.tv_nsec)) {
        oldest = j;
      }
    }
    finished += progressed;
    running -= progressed;
    if (progressed || finished == n) continue;
    if (timeout && oldest) {
      /* Every job has the same timeout, so the oldest running job's deadline comes first. */
      struct timespec until = oldest->started;
      until.tv_sec += timeout / 1000;
      until.tv_nsec += (long)(timeout % 1000) * 1000000;
      if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
      }
      pthread_cond_timedwait(&b->cv, &b->mu, &until);
    } else {
      pthread_cond_wait(&b->cv, &b->mu);
    }
  }
}

st_code st_window_post_prove(const st_sector_info *info, const uint8_t randomness[32], const st_post_sector *sectors,
                             size_t n, const st_post_options *opt, st_post_result *result, st_err *err) {
  memset(result, 0, sizeof *result);
  st_buf_init(&result->proof);
  st_code rc = check_randomness("window", randomness, err);
  if (rc) return rc;
  batch *b = batch_new(info, randomness, ST_WINDOW_CHALLENGES, sectors, n);
  if (!b) return st_err_set(err, ST_ENOMEM, "out of memory");
  pthread_mutex_lock(&b->mu);
  run_jobs(b, opt && opt->parallel ? opt->parallel : 8, opt ? opt->timeout_ms : 0);
  rc = collect(b, result, err);
  pthread_mutex_unlock(&b->mu);
  batch_release(b);
  if (rc) st_post_result_free(result);
  return rc;
}

st_code st_window_post_verify(const st_sector_info *info, const uint8_t randomness[32],
                              const st_post_public_sector *sectors, size_t n, const uint8_t *proof, size_t len,
                              st_err *err) {
  st_code rc = check_randomness("window", randomness, err);
  if (!rc) rc = check_length(info, ST_WINDOW_CHALLENGES, n, proof, len, sectors, err);
  size_t one = st_vproof_sector_len(info, ST_WINDOW_CHALLENGES);
  for (size_t i = 0; !rc && i < n; i++)
    rc = verify_sector(info, randomness, &sectors[i], ST_WINDOW_CHALLENGES, proof + i * one, one, i * one, err);
  return rc;
}

st_code st_window_post_verify_each(const st_sector_info *info, const uint8_t randomness[32],
                                   const st_post_public_sector *sectors, size_t n, const uint8_t *proof, size_t len,
                                   st_code *codes, char (*errors)[ST_ERR_MSG_MAX], st_err *err) {
  st_err e;
  st_err_clear(&e);
  st_code rc = check_randomness("window", randomness, &e);
  if (!rc) rc = check_length(info, ST_WINDOW_CHALLENGES, n, proof, len, sectors, &e);
  size_t one = st_vproof_sector_len(info, ST_WINDOW_CHALLENGES);
  for (size_t i = 0; i < n; i++) {
    if (rc) {
      codes[i] = rc;
      memcpy(errors[i], e.msg, ST_ERR_MSG_MAX);
      continue;
    }
    st_err one_err;
    st_err_clear(&one_err);
    codes[i] =
        verify_sector(info, randomness, &sectors[i], ST_WINDOW_CHALLENGES, proof + i * one, one, i * one, &one_err);
    snprintf(errors[i], ST_ERR_MSG_MAX, "%s", codes[i] ? one_err.msg : "");
  }
  if (rc && err) *err = e;
  return rc;
}

st_code st_window_post_verify_info(const st_vproof_window_info *vi, const uint8_t *proof, size_t len, st_err *err) {
  size_t off = 0;
  for (size_t i = 0; i < vi->nsectors; i++) {
    const st_vproof_public_sector *s = &vi->sectors[i];
    size_t one = st_vproof_sector_len(s->info, ST_WINDOW_CHALLENGES), have = len - off < one ? len - off : one;
    st_post_public_sector want = {.number = s->number};
    memcpy(want.comm_r, s->comm_r, 32);
    st_code rc = verify_sector(s->info, vi->randomness, &want, ST_WINDOW_CHALLENGES, proof + off, have, off, err);
    if (rc) return rc;
    off += one;
  }
  if (off != len)
    return st_err_set(err, ST_EINVAL, "vanilla proof: byte %zu: %zu byte%s after the %zu sector proof%s expected", off,
                      len - off, len - off == 1 ? "" : "s", vi->nsectors, vi->nsectors == 1 ? "" : "s");
  return ST_OK;
}

/* The eligible sector (of n) that WinningPoSt proves for miner with this randomness, after the
 * checks both the prover and the verifier make. */
static st_code winning_sector(uint64_t miner, const uint8_t randomness[32], size_t n, size_t *chosen, st_err *err) {
  *chosen = 0;
  st_code rc = check_randomness("winning", randomness, err);
  if (rc) return rc;
  if (n == 0) return st_err_set(err, ST_EINVAL, "winning post: no eligible sectors");
  uint8_t prover_id[32];
  st_prover_id(miner, prover_id);
  *chosen = (size_t)st_post_select_sector(prover_id, randomness, 0, n);
  return ST_OK;
}

st_code st_winning_post_prove(const st_sector_info *info, uint64_t miner, const uint8_t randomness[32],
                              const st_post_sector *eligible, size_t n, const st_post_options *opt, st_buf *proof,
                              st_err *err) {
  size_t chosen;
  st_code rc = winning_sector(miner, randomness, n, &chosen, err);
  if (rc) return rc;
  const st_post_sector *s = &eligible[chosen];
  /* read on a reader thread, as WindowPoSt does, so a hung read costs only the timeout */
  batch *b = batch_new(info, randomness, ST_WINNING_CHALLENGES, s, 1);
  if (!b) return st_err_set(err, ST_ENOMEM, "out of memory");
  pthread_mutex_lock(&b->mu);
  run_jobs(b, 1, opt ? opt->timeout_ms : 0);
  const job *j = &b->jobs[0];
  if (!(rc = j->rc)) st_buf_append(proof, j->out.data, j->out.len);
  else st_err_set(err, rc, "%s", j->err.msg);
  pthread_mutex_unlock(&b->mu);
  batch_release(b);
  return rc ? st_err_wrap(err, rc, "winning post: sector %llu", (unsigned long long)s->number) : ST_OK;
}

st_code st_winning_post_verify(const st_sector_info *info, uint64_t miner, const uint8_t randomness[32],
                               const st_post_public_sector *eligible, size_t n, const uint8_t *proof, size_t len,
                               st_err *err) {
  size_t chosen;
  st_code rc = winning_sector(miner, randomness, n, &chosen, err);
  if (rc) return rc;
  const st_post_public_sector *s = &eligible[chosen];
  rc = check_length(info, ST_WINNING_CHALLENGES, ST_WINNING_SECTORS, proof, len, s, err);
  return rc ? rc : verify_sector(info, randomness, s, ST_WINNING_CHALLENGES, proof, len, 0, err);
}
