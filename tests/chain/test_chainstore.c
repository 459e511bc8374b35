/* Tests for st_chainstore: objects, heights, the message index and named values; an aborted
 * transaction leaves nothing; data survives a reopen; and a writer killed with SIGKILL in the
 * middle of its transactions leaves exactly the committed ones, each whole. */
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chain/st_chainstore.h"
#include "core/st_endian.h"

static void cid_of(const char *text, st_cid *c) { st_cid_of_cbor(text, strlen(text), c); }

static st_code write_basics(st_cs_txn *t, void *ctx, st_err *err) {
  (void)ctx;
  st_cid a;
  cid_of("a", &a);
  st_code code = st_cs_put(t, &a, "alpha", 5, err);
  if (!code) code = st_cs_put(t, &a, "alpha", 5, err); /* again: a no-op */
  for (uint64_t h = 0; h < 10 && !code; h++) {
    char rec[16];
    snprintf(rec, sizeof rec, "ts%llu", (unsigned long long)h);
    code = st_cs_put_height(t, h, rec, strlen(rec), err);
  }
  if (!code) code = st_cs_put_msgidx(t, &a, "where", 5, err);
  if (!code) code = st_cs_put_meta(t, "head", "h9", 2, err);
  return code;
}

static st_code write_then_fail(st_cs_txn *t, void *ctx, st_err *err) {
  (void)ctx;
  st_cid b;
  cid_of("b", &b);
  st_code code = st_cs_put(t, &b, "beta", 4, err);
  if (!code) code = st_cs_put_meta(t, "head", "broken", 6, err);
  return code ? code : st_err_set(err, ST_EINVAL, "validation failed");
}

static st_code cut_to_5(st_cs_txn *t, void *ctx, st_err *err) {
  (void)ctx;
  return st_cs_truncate_heights(t, 5, err);
}

typedef struct reads {
  st_buf obj, h3, h7, idx, head;
  st_code h7_code, b_code;
  bool has_b;
} reads;

static st_code read_all(st_cs_txn *t, void *ctx, st_err *err) {
  reads *r = ctx;
  st_cid a, b;
  cid_of("a", &a);
  cid_of("b", &b);
  st_code code = st_cs_get(t, &a, &r->obj, err);
  if (!code) code = st_cs_get_height(t, 3, &r->h3, err);
  if (!code) code = st_cs_get_msgidx(t, &a, &r->idx, err);
  if (!code) code = st_cs_get_meta(t, "head", &r->head, err);
  r->h7_code = st_cs_get_height(t, 7, &r->h7, NULL);
  st_buf tmp = ST_BUF_INIT;
  r->b_code = st_cs_get(t, &b, &tmp, NULL);
  st_buf_free(&tmp);
  r->has_b = st_cs_has(t, &b);
  /* a snapshot refuses writes */
  if (!code && st_cs_put_meta(t, "x", "y", 1, NULL) != ST_EINTERNAL)
    code = st_err_set(err, ST_EINTERNAL, "read-only snapshot took a write");
  return code;
}

static void test_basics(void **state) {
  (void)state;
  char dir[256];
  tu_tmpdir(dir);
  st_chainstore *cs;
  st_err err;
  assert_int_equal(st_cs_open(dir, 1 << 26, &cs, &err), ST_OK);
  assert_int_equal(st_cs_write(cs, write_basics, NULL, &err), ST_OK);
  assert_int_equal(st_cs_write(cs, write_then_fail, NULL, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "validation failed");
  assert_int_equal(st_cs_write(cs, cut_to_5, NULL, &err), ST_OK);
  st_cs_close(cs);

  /* reopened: the committed data, nothing of the failed transaction, heights cut above 5 */
  assert_int_equal(st_cs_open(dir, 1 << 26, &cs, &err), ST_OK);
  reads r = {ST_BUF_INIT, ST_BUF_INIT, ST_BUF_INIT, ST_BUF_INIT, ST_BUF_INIT, 0, 0, false};
  assert_int_equal(st_cs_read(cs, read_all, &r, &err), ST_OK);
  assert_string_equal(st_buf_cstr(&r.obj), "alpha");
  assert_string_equal(st_buf_cstr(&r.h3), "ts3");
  assert_string_equal(st_buf_cstr(&r.idx), "where");
  assert_string_equal(st_buf_cstr(&r.head), "h9");
  assert_int_equal(r.h7_code, ST_ENOENT);
  assert_int_equal(r.b_code, ST_ENOENT);
  assert_false(r.has_b);
  st_cs_stats stats;
  assert_int_equal(st_cs_stat(cs, &stats, &err), ST_OK);
  assert_int_equal(stats.objects, 1);
  assert_int_equal(stats.heights, 6);
  assert_int_equal(stats.messages, 1);
  st_buf_free(&r.obj);
  st_buf_free(&r.h3);
  st_buf_free(&r.h7);
  st_buf_free(&r.idx);
  st_buf_free(&r.head);
  st_cs_close(cs);

  tu_rmdir(dir);
}

/* ---- kill -9 ---- */

#define OBJS_PER_TXN 50

static st_code write_round(st_cs_txn *t, void *ctx, st_err *err) {
  uint64_t round = *(uint64_t *)ctx;
  char text[64];
  uint8_t payload[2048];
  memset(payload, (int)(round & 0xff), sizeof payload);
  for (int i = 0; i < OBJS_PER_TXN; i++) {
    snprintf(text, sizeof text, "round %llu object %d", (unsigned long long)round, i);
    st_cid c;
    cid_of(text, &c);
    st_code code = st_cs_put(t, &c, payload, sizeof payload, err);
    if (code) return code;
  }
  uint8_t rec[8];
  st_be64_put(rec, round);
  st_code code = st_cs_put_height(t, round, rec, sizeof rec, err);
  return code ? code : st_cs_put_meta(t, "head", rec, sizeof rec, err);
}

typedef struct crash_check {
  uint64_t first, head;
  uint64_t complete, partial;
} crash_check;

static st_code check_rounds(st_cs_txn *t, void *ctx, st_err *err) {
  crash_check *c = ctx;
  st_buf head = ST_BUF_INIT;
  st_code code = st_cs_get_meta(t, "head", &head, err);
  if (code) return code;
  uint8_t be[8];
  memcpy(be, head.data, 8);
  c->head = ((uint64_t)be[0] << 56) | ((uint64_t)be[1] << 48) | ((uint64_t)be[2] << 40) | ((uint64_t)be[3] << 32) |
            ((uint64_t)be[4] << 24) | ((uint64_t)be[5] << 16) | ((uint64_t)be[6] << 8) | be[7];
  st_buf_free(&head);
  for (uint64_t round = c->first; round <= c->head + 1; round++) {
    int found = 0;
    char text[64];
    for (int i = 0; i < OBJS_PER_TXN; i++) {
      snprintf(text, sizeof text, "round %llu object %d", (unsigned long long)round, i);
      st_cid cid;
      cid_of(text, &cid);
      found += st_cs_has(t, &cid);
    }
    if (found == OBJS_PER_TXN) c->complete++;
    else if (found) c->partial++;
  }
  return ST_OK;
}

static void test_kill9(void **state) {
  (void)state;
  char dir[256];
  tu_tmpdir(dir);
  for (int trial = 0; trial < 3; trial++) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      st_chainstore *cs;
      st_err err;
      if (st_cs_open(dir, 1 << 28, &cs, &err)) _exit(2);
      for (uint64_t round = (uint64_t)trial * 100000;; round++)
        if (st_cs_write(cs, write_round, &round, &err)) _exit(3);
    }
    struct timespec ts = {0, (100 + 150 * trial) * 1000000L};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    st_chainstore *cs;
    st_err err;
    assert_int_equal(st_cs_open(dir, 1 << 28, &cs, &err), ST_OK);
    uint64_t first = (uint64_t)trial * 100000;
    crash_check c = {.first = first};
    assert_int_equal(st_cs_read(cs, check_rounds, &c, &err), ST_OK);
    print_message("trial %d: head at round %llu\n", trial, (unsigned long long)c.head);
    assert_true(c.head >= first);
    assert_int_equal(c.partial, 0);                   /* no transaction in part */
    assert_int_equal(c.complete, c.head - first + 1); /* every committed round whole, the next one absent */
    st_cs_close(cs);
  }
  tu_rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_basics), cmocka_unit_test(test_kill9)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
