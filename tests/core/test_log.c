/* Tests for st_log: the seed's exact lines, per-subsystem levels, file output, and whole lines
 * under concurrent writers. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/st_fs.h"
#include "core/st_log.h"

/* 2020-06-19T10:32:56.116+0800, the seed's first line */
static const struct timespec SEED_TS = {1592533976, 116000000};

static void seed_clock(struct timespec *ts) { *ts = SEED_TS; }

static int setup(void **state) {
  (void)state;
  setenv("TZ", "CST-8", 1); /* UTC+8, no tzdata needed */
  tzset();
  return 0;
}

static void assert_line(st_log_level lvl, const char *msg, json_t *fields, const char *want) {
  st_buf b = ST_BUF_INIT;
  st_log_format_line(&b, &SEED_TS, lvl, "storageminer", msg, fields);
  json_decref(fields);
  assert_string_equal(st_buf_cstr(&b), want);
  st_buf_free(&b);
}

static void test_seed_lines(void **state) {
  (void)state;
  assert_line(ST_LOG_INFO, "generating windowPost", json_pack("{s:i}", "sectors", 4),
              "2020-06-19T10:32:56.116+0800\tINFO\tstorageminer\tgenerating windowPost\t{\"sectors\": 4}\n");
  assert_line(ST_LOG_INFO, "submitting window PoSt", json_pack("{s:f}", "elapsed", 0.000443517),
              "2020-06-19T10:32:56.116+0800\tINFO\tstorageminer\tsubmitting window PoSt\t{\"elapsed\": 0.000443517}\n");
  json_t *dl = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "CurrentEpoch", 43710, "PeriodStart", 40830, "Index", 30,
                         "Open", 43710, "Close", 43806, "Challenge", 43690, "FaultCutoff", 43690);
  assert_line(
      ST_LOG_INFO, "running windowPost",
      json_pack("{s:s,s:o,s:s,s:i}", "chain-random", "5ayz5dvY4RxqH1gBB1LkirBOoXwWmcGgfd2Nf4C6Zic=", "deadline", dl,
                "height", "43710", "skipped", 0),
      "2020-06-19T10:32:56.116+0800\tINFO\tstorageminer\trunning windowPost\t{\"chain-random\": "
      "\"5ayz5dvY4RxqH1gBB1LkirBOoXwWmcGgfd2Nf4C6Zic=\", \"deadline\": "
      "{\"CurrentEpoch\":43710,\"PeriodStart\":40830,\"Index\":30,\"Open\":43710,\"Close\":43806,\"Challenge\":43690,"
      "\"FaultCutoff\":43690}, \"height\": \"43710\", \"skipped\": 0}\n");
  assert_line(
      ST_LOG_ERROR,
      "when running wdpost for partition 466, got err could not read from path=\"/mnt/218/cache/s-t01003-2218/p_aux\"",
      NULL,
      "2020-06-19T10:32:56.116+0800\tERROR\tstorageminer\twhen running wdpost for partition 466, got err could not read from "
      "path=\"/mnt/218/cache/s-t01003-2218/p_aux\"\n");
  assert_line(
      ST_LOG_WARN, "x", json_pack("{s:b,s:n,s:[i,s]}", "ok", 1, "none", "list", 1, "a\"b"),
      "2020-06-19T10:32:56.116+0800\tWARN\tstorageminer\tx\t{\"ok\": true, \"none\": null, \"list\": [1,\"a\\\"b\"]}\n");
}

static void test_levels(void **state) {
  (void)state;
  st_err err;
  assert_int_equal(st_log_configure("info", &err), ST_OK);
  assert_true(st_log_enabled("chain", ST_LOG_INFO));
  assert_false(st_log_enabled("chain", ST_LOG_DEBUG));
  assert_int_equal(st_log_configure("warn,storageminer=debug", &err), ST_OK);
  assert_true(st_log_enabled("storageminer", ST_LOG_DEBUG));
  assert_false(st_log_enabled("chain", ST_LOG_INFO));
  assert_true(st_log_enabled("chain", ST_LOG_ERROR));
  assert_int_equal(st_log_configure("storageminer=off", &err), ST_OK);
  assert_false(st_log_enabled("storageminer", ST_LOG_ERROR));
  assert_int_equal(st_log_configure("info,chain=loud", &err), ST_EINVAL);
  tu_assert_err_contains(&err, "unknown log level \"loud\"");
  tu_assert_err_contains(&err, "log level spec \"info,chain=loud\"");
  assert_int_equal(st_log_configure("info,storageminer=info", &err), ST_OK);
  st_log_level lvl = ST_LOG_ERROR;
  assert_int_equal(st_log_parse_level("loud", &lvl, &err), ST_EINVAL);
  assert_int_equal(lvl, ST_LOG_DEBUG); /* the out is zero on failure (st_err.h) */
}

/* Sends the log to file name in a fresh directory (dir), and not to stderr; path gets its path. */
static void log_to_file(char dir[256], const char *name, char path[300]) {
  st_err err;
  tu_tmpfile(dir, name, path, 300);
  assert_int_equal(st_log_set_file(path, &err), ST_OK);
  st_log_set_stderr(false);
}

/* Closes the log file at path and reads all it holds into got. */
static void read_log(const char *path, st_buf *got) {
  st_err err;
  st_log_set_file(NULL, &err);
  st_buf_init(got);
  assert_int_equal(st_fs_read_file(path, 8 << 20, got, &err), ST_OK);
}

static void test_file_output(void **state) {
  (void)state;
  char dir[256], path[300];
  log_to_file(dir, "poster.log", path);
  st_err err;
  st_log_set_clock(seed_clock);
  st_log("storageminer", ST_LOG_INFO, "generating windowPost", json_pack("{s:i}", "sectors", 4));
  st_log("storageminer", ST_LOG_DEBUG, "hidden", NULL);
  st_logf("storageminer", ST_LOG_ERROR, "could not read from path=\"%s\"", "/mnt/x/p_aux");
  st_buf got;
  read_log(path, &got);
  st_log_set_clock(NULL);
  assert_string_equal(st_buf_cstr(&got),
                      "2020-06-19T10:32:56.116+0800\tINFO\tstorageminer\tgenerating windowPost\t{\"sectors\": 4}\n"
                      "2020-06-19T10:32:56.116+0800\tERROR\tstorageminer\tcould not read from path=\"/mnt/x/p_aux\"\n");
  assert_int_equal(st_log_set_file("/nonexistent-dir/x.log", &err), ST_EIO);
  tu_assert_err_contains(&err, "could not open log file path=\"/nonexistent-dir/x.log\"");
  st_buf_free(&got);
  tu_rmdir(dir);
}

#define THREADS 4
#define LINES 500

static void *writer(void *arg) {
  long id = (long)arg;
  for (int i = 0; i < LINES; i++)
    st_log("chain", ST_LOG_INFO, "applied tipset", json_pack("{s:i,s:i}", "writer", (int)id, "i", i));
  return NULL;
}

static void test_concurrent_lines_stay_whole(void **state) {
  (void)state;
  char dir[256], path[300];
  log_to_file(dir, "threads.log", path);
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, writer, (void *)i);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  st_buf got;
  read_log(path, &got);
  int lines = 0;
  for (char *line = strtok((char *)got.data, "\n"); line; line = strtok(NULL, "\n")) {
    assert_non_null(strstr(line, "\tINFO\tchain\tapplied tipset\t{\"writer\": "));
    lines++;
  }
  assert_int_equal(lines, THREADS * LINES);
  st_buf_free(&got);
  tu_rmdir(dir);
  st_log_set_stderr(true);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_seed_lines), cmocka_unit_test(test_levels),
                                     cmocka_unit_test(test_file_output),
                                     cmocka_unit_test(test_concurrent_lines_stay_whole)};
  return cmocka_run_group_tests(tests, setup, NULL);
}
