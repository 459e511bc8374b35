/* Tests for st_err: messages, context wrapping, truncation, and codes without an st_err. */
#include "testutil.h"

#include <string.h>

#include "core/st_err.h"

static void test_set_and_wrap(void **state) {
  (void)state;
  st_err err;
  assert_int_equal(st_err_set(&err, ST_ENOENT, "key \"%s\" not found", "default"), ST_ENOENT);
  assert_int_equal(st_err_wrap(&err, ST_ENOENT, "wallet %d", 1), ST_ENOENT);
  assert_string_equal(err.msg, "wallet 1: key \"default\" not found");
  assert_int_equal(err.code, ST_ENOENT);
  /* without an st_err the code still comes back (a bug once returned ST_EINTERNAL here) */
  assert_int_equal(st_err_set(NULL, ST_EINVAL, "x"), ST_EINVAL);
  assert_int_equal(st_err_wrap(NULL, ST_EINVAL, "context"), ST_EINVAL);
  st_err_clear(&err);
  assert_int_equal(err.code, ST_OK);
  assert_string_equal(err.msg, "");
  assert_string_equal(st_code_str(ST_ECRYPTO), "cryptographic check failed");
}

static void test_truncation(void **state) {
  (void)state;
  st_err err;
  char big[2 * ST_ERR_MSG_MAX];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = 0;
  st_err_set(&err, ST_EINVAL, "%s", big);
  assert_int_equal(strlen(err.msg), ST_ERR_MSG_MAX - 1);
  st_err_wrap(&err, ST_EINVAL, "%s", big);
  assert_int_equal(strlen(err.msg), ST_ERR_MSG_MAX - 1);
  st_err_set(&err, ST_EINVAL, "inner");
  st_err_wrap(&err, ST_EINVAL, "outer");
  assert_string_equal(err.msg, "outer: inner");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_set_and_wrap), cmocka_unit_test(test_truncation)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
