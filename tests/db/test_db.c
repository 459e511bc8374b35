/* Tests for st_db on SQLite: parameters and NULLs, constraint codes, transactions that commit,
 * roll back, or retry, the statement cache, and URLs that are refused or redacted. (The
 * registry suites run the same code on PostgreSQL.) */
#include "testutil.h"

#include <string.h>

#include "db/st_db.h"

static void test_urls(void **state) {
  (void)state;
  char out[256];
  st_db_url_redacted("postgres://alice:s3cret@db.example/reg", out, sizeof out);
  assert_string_equal(out, "postgres://alice:***@db.example/reg");
  st_db_url_redacted("postgresql://alice@db/reg?sslmode=require&password=s3cret&connect_timeout=5", out, sizeof out);
  assert_string_equal(out, "postgresql://alice@db/reg?sslmode=require&password=***&connect_timeout=5");
  st_db_url_redacted("sqlite:/var/lib/reg.db", out, sizeof out);
  assert_string_equal(out, "sqlite:/var/lib/reg.db");
  st_db *db = (st_db *)out;
  st_err err;
  assert_int_equal(st_db_open("mysql://u:pw@h/x", &db, &err), ST_EINVAL);
  assert_null(db); /* st_err.h */
  tu_assert_err_contains(&err, "database url \"mysql://u:***@h/x\" is neither sqlite:PATH nor postgres://");
  assert_int_equal(st_db_open("sqlite:", &db, &err), ST_EINVAL);
  assert_int_equal(st_db_open("sqlite:/nonexistent/dir/x.db", &db, &err), ST_EIO);
  tu_assert_err_contains(&err, "could not open sqlite database path=\"/nonexistent/dir/x.db\"");
  assert_int_equal(st_db_open("postgres://u:pw@127.0.0.1:1/x?connect_timeout=2", &db, &err), ST_EUNAVAIL);
  tu_assert_err_contains(&err, "could not connect to postgres at postgres://u:***@127.0.0.1:1/x");
}

static st_code insert_two(st_db *db, void *ctx, st_err *err) {
  int *runs = ctx;
  (*runs)++;
  const char *p[] = {"a", NULL};
  st_code code = st_db_exec(db, "INSERT INTO t (k, v) VALUES ($1, $2)", 2, p, NULL, NULL, err);
  if (code) return code;
  p[0] = "b";
  return st_db_exec(db, "INSERT INTO t (k, v) VALUES ($1, $2)", 2, p, NULL, NULL, err);
}

static st_code insert_then_fail(st_db *db, void *ctx, st_err *err) {
  (void)ctx;
  const char *p[] = {"c", "1"};
  st_db_exec(db, "INSERT INTO t (k, v) VALUES ($1, $2)", 2, p, NULL, NULL, err);
  return st_err_set(err, ST_EINVAL, "changed my mind");
}

static void test_sqlite(void **state) {
  (void)state;
  char dir[256], url[300];
  tu_tmpdir(dir);
  snprintf(url, sizeof url, "sqlite:%s/t.db", dir);
  st_db *db;
  st_err err;
  assert_int_equal(st_db_open(url, &db, &err), ST_OK);
  assert_int_equal(st_db_backend_of(db), ST_DB_SQLITE);
  assert_int_equal(
      st_db_exec_script(db, "CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT); CREATE TABLE u (k TEXT REFERENCES t (k))",
                        &err),
      ST_OK);
  int runs = 0;
  assert_int_equal(st_db_tx(db, insert_two, &runs, &err), ST_OK);
  assert_int_equal(runs, 1);
  /* a failing transaction leaves nothing behind, and the code and message come through */
  assert_int_equal(st_db_tx(db, insert_then_fail, NULL, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "changed my mind");
  /* a duplicate key is ST_EEXIST, a dangling reference ST_ECONFLICT */
  assert_int_equal(st_db_tx(db, insert_two, &runs, &err), ST_EEXIST);
  const char *p[] = {"zzz"};
  assert_int_equal(st_db_exec(db, "INSERT INTO u (k) VALUES ($1)", 1, p, NULL, NULL, &err), ST_ECONFLICT);
  /* rows as text, NULL as NULL, the same cached statement many times */
  for (int i = 0; i < 3; i++) {
    st_db_rows rows;
    uint64_t changed = 9;
    assert_int_equal(st_db_exec(db, "SELECT k, v FROM t ORDER BY k", 0, NULL, &rows, &changed, &err), ST_OK);
    assert_int_equal(rows.nrows, 2);
    assert_int_equal(rows.ncols, 2);
    assert_string_equal(st_db_cell(&rows, 0, 0), "a");
    assert_null(st_db_cell(&rows, 1, 1));
    assert_int_equal(st_db_cell_i64(&rows, 1, 1), 0);
    st_db_rows_free(&rows);
  }
  uint64_t changed = 0;
  const char *q[] = {"7", "a"};
  assert_int_equal(st_db_exec(db, "UPDATE t SET v = $1 WHERE k = $2", 2, q, NULL, &changed, &err), ST_OK);
  assert_int_equal(changed, 1);
  /* a statement error names the backend's reason, and the connection keeps working */
  assert_int_equal(st_db_exec(db, "SELECT nope FROM t", 0, NULL, NULL, NULL, &err), ST_EINTERNAL);
  tu_assert_err_contains(&err, "no such column: nope");
  /* a failed statement leaves no rows and a count of 0 (st_err.h), not the last call's 1 */
  st_db_rows rows;
  tu_poison(&rows, sizeof rows);
  assert_int_equal(st_db_exec(db, "SELECT k FROM t WHERE nope = 1", 0, NULL, &rows, &changed, &err), ST_EINTERNAL);
  assert_true(rows.cells == NULL && rows.nrows == 0 && rows.ncols == 0);
  assert_int_equal(changed, 0);
  const char *dup[] = {"0", "a"};
  changed = 9;
  assert_int_equal(st_db_exec(db, "INSERT INTO t (v, k) VALUES ($1, $2)", 2, dup, NULL, &changed, &err), ST_EEXIST);
  assert_int_equal(changed, 0);
  st_db_rows_free(&rows); /* safe on empty rows */
  char buf[ST_DB_INT_MAX];
  assert_string_equal(st_db_int(buf, -9223372036854775807LL - 1), "-9223372036854775808");
  st_db_close(db);
  tu_rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_urls), cmocka_unit_test(test_sqlite)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
