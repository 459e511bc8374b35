/* st_doctor_files: the poster log's ERROR lines (since a time, with continuation lines, from the end of
 * a long log) and finding a missing sector file under a storage node's folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "miner/st_doctor_files.h"
#include "testutil.h"

static const char *LOG =
    "2020-06-19T10:23:20.163+0800\tERROR\tstorageminer\twhen running wdpost for partition 466, got err could not read from "
    "path=\"/mnt/218/cache/s-t01003-2218/p_aux\"\n"
    "    No such file or directory (os error 2)\n"
    "2020-06-19T10:32:56.116+0800\tINFO\tstorageminer\tgenerating windowPost\t{\"sectors\": 4}\n"
    "2020-06-19T10:36:08.098+0800\tERROR\tstorageminer\twhen running wdpost for partition 0, got err could not read from "
    "path=\"/mnt/cache/s-t01003-1/p_aux\": No such file or directory (os error 2)\n"
    "2020-06-19T10:36:09.000+0800\tERROR\tstorageminer\twhen running wdpost for partition 1, got err could not read from "
    "path=\"/mnt/cache/s-t01003-2/p_aux\": No such file or directory (os error 2)\n"
    "2020-06-19T10:36:10.000+0800\tERROR\tstorageminer\twhen running wdpost for partition 0, got err could not read from "
    "path=\"/mnt/cache/s-t01003-1/p_aux\": No such file or directory (os error 2)\n"
    "  at the second line\n"
    "2020-06-19T10:36:11.000+0800\tWARN\tstorageminer\tsomething\n";

static void test_log_time(void **state) {
  (void)state;
  int64_t t;
  assert_true(st_doctor_log_time("2020-06-19T10:32:56.116+0800\tINFO", &t));
  assert_int_equal(t, 1592533976); /* 02:32:56 UTC */
  assert_true(st_doctor_log_time("2020-06-19T02:32:56.116-0000\tINFO", &t));
  assert_int_equal(t, 1592533976);
  assert_false(st_doctor_log_time("    No such file", &t));
  assert_false(st_doctor_log_time("2020-06-19 10:32:56", &t));
}

static void test_scan(void **state) {
  (void)state;
  char dir[256], path[300];
  tu_tmpdir(dir);
  snprintf(path, sizeof path, "%s/poster.log", dir);
  FILE *f = fopen(path, "w");
  fputs(LOG, f);
  fclose(f);
  st_doctor_log o;
  st_err err;
  /* since 10:30 (+0800): the first ERROR is older */
  assert_int_equal(st_doctor_scan_log(path, NULL, 1592533800, 1 << 20, &o, &err), ST_OK);
  assert_int_equal(o.errors, 3);
  assert_int_equal(o.older, 1);
  assert_false(o.partial);
  assert_string_equal(o.first_at, "2020-06-19T10:36:08.098+0800");
  assert_string_equal(o.last_at, "2020-06-19T10:36:10.000+0800");
  assert_non_null(strstr(o.last, "partition 0, got err"));
  assert_non_null(strstr(o.last, "\n  at the second line"));
  assert_int_equal(o.npaths, 2);
  assert_string_equal(o.paths[0], "/mnt/cache/s-t01003-1/p_aux");
  assert_string_equal(o.paths[1], "/mnt/cache/s-t01003-2/p_aux");
  /* all of it: the seed's line and its continuation */
  assert_int_equal(st_doctor_scan_log(path, NULL, 0, 1 << 20, &o, &err), ST_OK);
  assert_int_equal(o.errors, 4);
  assert_string_equal(o.paths[0], "/mnt/218/cache/s-t01003-2218/p_aux");
  /* since the last start-up line */
  assert_int_equal(st_doctor_scan_log(path, "\tgenerating windowPost\t", 0, 1 << 20, &o, &err), ST_OK);
  assert_int_equal(o.errors, 3);
  assert_int_equal(o.older, 1);
  assert_int_equal(o.npaths, 2);
  /* only the end of a long log: the cut line is skipped */
  assert_int_equal(st_doctor_scan_log(path, NULL, 0, 300, &o, &err), ST_OK);
  assert_true(o.partial);
  assert_int_equal(o.errors, 1);
  assert_int_equal(o.npaths, 1);
  /* a log that is not there */
  snprintf(path, sizeof path, "%s/none.log", dir);
  assert_int_equal(st_doctor_scan_log(path, NULL, 0, 100, &o, &err), ST_ENOENT);
  tu_assert_err_contains(&err, "could not read the log path=\"");
  tu_rmdir(dir);
}

static void test_find_under(void **state) {
  (void)state;
  char dir[256], p[600], found[600];
  tu_tmpdir(dir);
  snprintf(p, sizeof p, "%s/nfs", dir);
  mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/nfs/10.10.4.23", dir);
  mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/nfs/10.10.4.23/cache", dir);
  mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/nfs/10.10.4.23/cache/s-t01003-1", dir);
  mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/cache/s-t01003-1", dir);
  assert_true(st_doctor_find_under(dir, p, found, sizeof found));
  snprintf(p, sizeof p, "%s/nfs/10.10.4.23/cache/s-t01003-1", dir);
  assert_string_equal(found, p);
  snprintf(p, sizeof p, "%s/cache/s-t01003-2", dir);
  assert_false(st_doctor_find_under(dir, p, found, sizeof found));
  assert_false(st_doctor_find_under(dir, "/elsewhere/cache/s-t01003-1", found, sizeof found));
  tu_rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_log_time), cmocka_unit_test(test_scan),
                                     cmocka_unit_test(test_find_under)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
