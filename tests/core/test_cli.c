/* Tests for st_cli: exact flag names, values, positionals, and a one-line error for each mistake. */
#include "testutil.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/st_cli.h"

static st_flag flags[3];

static st_code run(st_cli *cli, int maxpos, st_err *err, int argc, ...) {
  static char *argv[16];
  va_list ap;
  va_start(ap, argc);
  for (int i = 0; i < argc; i++) argv[i] = va_arg(ap, char *);
  va_end(ap);
  static const st_flag table[] = {ST_FLAG("server-api", ST_FLAG_VALUE, "URL", "registry"),
                                  ST_FLAG("nosync", ST_FLAG_BOOL, NULL, "skip sync"),
                                  ST_FLAG("json", ST_FLAG_BOOL, NULL, "json")};
  memcpy(flags, table, sizeof table);
  *cli = (st_cli)ST_CLI_INIT(flags);
  return st_cli_parse(cli, argc, argv, maxpos, err);
}

static void test_parse(void **state) {
  (void)state;
  st_cli cli;
  st_err err;
  assert_int_equal(run(&cli, 2, &err, 4, "--server-api=http://10.10.19.17:3456", "--nosync", "a", "-"), ST_OK);
  assert_string_equal(st_cli_flag(&cli, "server-api")->value, "http://10.10.19.17:3456");
  assert_true(st_cli_has(&cli, "nosync"));
  assert_false(st_cli_has(&cli, "json"));
  assert_int_equal(cli.npos, 2);
  assert_string_equal(cli.pos[1], "-");
  assert_int_equal(run(&cli, 1, &err, 3, "--server-api", "u", "--"), ST_OK);
  assert_int_equal(run(&cli, 1, &err, 2, "--", "--json"), ST_OK);
  assert_string_equal(cli.pos[0], "--json");
  assert_int_equal(run(&cli, 0, &err, 1, "--help"), ST_OK);
  assert_true(cli.help);
}

/* Flags are read by name: a value or its default, whether a flag was given. */
static void test_by_name(void **state) {
  (void)state;
  st_cli cli;
  st_err err;
  assert_int_equal(run(&cli, 0, &err, 2, "--json", "--server-api=u"), ST_OK);
  assert_string_equal(st_cli_value(&cli, "server-api", "dflt"), "u");
  assert_null(st_cli_value(&cli, "nosync", NULL)); /* a boolean has no value */
  assert_true(st_cli_has(&cli, "json"));
  assert_false(st_cli_has(&cli, "nosync"));
  assert_false(st_cli_has(&cli, "no-such-flag"));
  assert_null(st_cli_flag(&cli, "no-such-flag"));
  assert_int_equal(run(&cli, 0, &err, 0), ST_OK);
  assert_string_equal(st_cli_value(&cli, "server-api", "dflt"), "dflt");
  assert_null(st_cli_value(&cli, "server-api", NULL));
}

/* A name the table lacks is a programming error: st_cli_value aborts and names it. */
static void test_by_name_unknown(void **state) {
  (void)state;
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 2);
    st_cli cli;
    st_err err;
    run(&cli, 0, &err, 0);
    st_cli_value(&cli, "sever-api", NULL);
    _exit(0);
  }
  close(fds[1]);
  char out[256] = {0};
  ssize_t n = read(fds[0], out, sizeof out - 1);
  close(fds[0]);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(n > 0);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
  assert_string_equal(out, "st_cli_value: the flag table has no --sever-api\n");
}

static void test_errors(void **state) {
  (void)state;
  st_cli cli;
  st_err err;
  assert_int_equal(run(&cli, 0, &err, 1, "--server"), ST_EINVAL);
  assert_string_equal(err.msg, "unknown flag --server");
  assert_int_equal(run(&cli, 0, &err, 1, "-x"), ST_EINVAL);
  tu_assert_err_contains(&err, "unknown flag -x");
  assert_int_equal(run(&cli, 0, &err, 1, "--server-api"), ST_EINVAL);
  assert_string_equal(err.msg, "flag --server-api needs a value (URL)");
  assert_int_equal(run(&cli, 0, &err, 1, "--json=yes"), ST_EINVAL);
  assert_string_equal(err.msg, "flag --json takes no value");
  assert_int_equal(run(&cli, 0, &err, 2, "--json", "--json"), ST_EINVAL);
  assert_string_equal(err.msg, "flag --json given more than once");
  assert_int_equal(run(&cli, 0, &err, 1, "extra"), ST_EINVAL);
  assert_string_equal(err.msg, "unexpected argument \"extra\"");
  assert_int_equal(run(&cli, 1, &err, 2, "a", "b"), ST_EINVAL);
  assert_string_equal(err.msg, "unexpected extra argument \"b\"");
}

/* st_cli_u64 parses one flag's value and checks it against its bounds. */
static st_code u64_of(const char *value, uint64_t min, uint64_t max, const char *unit, uint64_t *out, st_err *err) {
  st_cli cli;
  st_err perr;
  assert_int_equal(value ? run(&cli, 0, &perr, 2, "--server-api", value) : run(&cli, 0, &perr, 0), ST_OK);
  return st_cli_u64(&cli, "server-api", min, max, unit, out, err);
}

static void test_u64(void **state) {
  (void)state;
  st_err err;
  uint64_t v = 42;
  /* absent: out keeps the default */
  assert_int_equal(u64_of(NULL, 1, 3, NULL, &v, &err), ST_OK);
  assert_int_equal(v, 42);
  /* in range, the bounds included */
  assert_int_equal(u64_of("1", 1, 3, NULL, &v, &err), ST_OK);
  assert_int_equal(v, 1);
  assert_int_equal(u64_of("3", 1, 3, NULL, &v, &err), ST_OK);
  assert_int_equal(v, 3);
  assert_int_equal(u64_of("18446744073709551615", 0, UINT64_MAX, NULL, &v, &err), ST_OK);
  assert_true(v == UINT64_MAX);
  /* below min, above max: out unchanged, the message names the flag and the range */
  v = 7;
  assert_int_equal(u64_of("0", 1, 3, NULL, &v, &err), ST_ERANGE);
  assert_string_equal(err.msg, "--server-api must be 1 to 3");
  assert_int_equal(v, 7);
  assert_int_equal(u64_of("1001", 0, 1000, "epochs", &v, &err), ST_ERANGE);
  assert_string_equal(err.msg, "--server-api must be 0 to 1000 epochs");
  assert_int_equal(v, 7);
  assert_int_equal(u64_of("9223372036854775808", 0, INT64_MAX, NULL, &v, &err), ST_ERANGE);
  assert_string_equal(err.msg, "--server-api must be 0 to 9223372036854775807");
  /* not a number: the range's message where there is a range, else st_parse_u64's */
  assert_int_equal(u64_of("-1", 0, 1000, "sectors", &v, &err), ST_EINVAL);
  assert_string_equal(err.msg, "--server-api must be 0 to 1000 sectors");
  assert_int_equal(u64_of("99999999999999999999", 1, 3, NULL, &v, &err), ST_ERANGE);
  assert_string_equal(err.msg, "--server-api must be 1 to 3");
  assert_int_equal(u64_of("4x", 0, UINT64_MAX, NULL, &v, &err), ST_EINVAL);
  assert_string_equal(err.msg, "--server-api: \"4x\" is not an unsigned decimal number");
  assert_int_equal(u64_of("", 0, UINT64_MAX, NULL, &v, &err), ST_EINVAL);
  assert_string_equal(err.msg, "--server-api: empty number");
  assert_int_equal(u64_of("18446744073709551616", 0, UINT64_MAX, NULL, &v, &err), ST_ERANGE);
  assert_string_equal(err.msg, "--server-api: 18446744073709551616 is larger than 2^64-1");
  assert_int_equal(v, 7);
  /* err may be NULL */
  assert_int_equal(u64_of("x", 1, 3, NULL, &v, NULL), ST_EINVAL);
}

static void test_list(void **state) {
  (void)state;
  st_flag list[] = {ST_FLAG("account", ST_FLAG_LIST, "ADDR=FIL", "pre-funded account")};
  st_cli cli = ST_CLI_INIT(list);
  char *argv[] = {"--account", "a=1", "--account=b=2", "--account", "c=3"};
  st_err err;
  assert_int_equal(st_cli_parse(&cli, 5, argv, 0, &err), ST_OK);
  assert_int_equal(list[0].nvalues, 3);
  assert_string_equal(list[0].values[0], "a=1");
  assert_string_equal(list[0].values[1], "b=2");
  assert_string_equal(list[0].values[2], "c=3");
  char *many[2 * ST_CLI_MAX_LIST + 2];
  for (int i = 0; i < ST_CLI_MAX_LIST + 1; i++) {
    many[2 * i] = "--account";
    many[2 * i + 1] = "x=1";
  }
  list[0].nvalues = 0;
  list[0].set = false;
  assert_int_equal(st_cli_parse(&cli, 2 * (ST_CLI_MAX_LIST + 1), many, 0, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "flag --account given more than 64 times");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse),  cmocka_unit_test(test_by_name), cmocka_unit_test(test_by_name_unknown),
      cmocka_unit_test(test_errors), cmocka_unit_test(test_u64),     cmocka_unit_test(test_list)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
