/* st_proc: spawn with a log, exit status, stop with a grace period, /proc command lines and
 * flags, and the shell text of a command. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/st_buf.h"
#include "core/st_fs.h"
#include "core/st_proc.h"
#include "testutil.h"

static void test_spawn_log_and_status(void **state) {
  (void)state;
  char dir[256], log[300];
  tu_tmpfile(dir, "out.log", log, sizeof log);
  char *argv[] = {"/bin/sh", "-c", "echo hello; echo oops >&2; exit 3", NULL};
  pid_t pid;
  st_err err;
  assert_int_equal(st_proc_spawn(argv, log, &pid, &err), ST_OK);
  int status = 0;
  assert_int_equal(st_proc_wait(pid, 10000, &status, &err), ST_OK);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 3);
  char what[64];
  st_proc_describe(status, what, sizeof what);
  assert_string_equal(what, "exited with status 3");
  st_buf b = ST_BUF_INIT;
  assert_int_equal(st_fs_read_file(log, 4096, &b, &err), ST_OK);
  assert_string_equal(st_buf_cstr(&b), "hello\noops\n");
  st_buf_free(&b);
  /* a program that is not there is an error at spawn, with the reason */
  char *none[] = {"/nonexistent/prog", NULL};
  assert_int_equal(st_proc_spawn(none, log, &pid, &err), ST_ENOENT);
  tu_assert_err_contains(&err, "could not run /nonexistent/prog: No such file or directory");
  assert_int_equal(pid, 0); /* no child: the pid out is 0, not the last child's (st_err.h) */
  /* a log that cannot be opened: no child either */
  pid = 12345;
  assert_int_equal(st_proc_spawn(argv, "/nonexistent-dir/out.log", &pid, &err), ST_EIO);
  assert_int_equal(pid, 0);
  tu_rmdir(dir);
}

static void test_stop_and_cmdline(void **state) {
  (void)state;
  /* a child that ignores SIGTERM is killed after the grace period */
  char dir[256], log[300];
  tu_tmpfile(dir, "out.log", log, sizeof log);
  char *argv[] = {"/bin/sh", "-c", "trap '' TERM; echo ready; sleep 30 & wait", "--flag=a b", "--other", "x", NULL};
  pid_t pid;
  st_err err;
  assert_int_equal(st_proc_spawn(argv, log, &pid, &err), ST_OK);
  st_buf b = ST_BUF_INIT;
  for (int i = 0; i < 500 && strcmp(st_buf_cstr(&b), "ready\n"); i++) {
    usleep(10000);
    st_buf_reset(&b);
    st_fs_read_file(log, 4096, &b, NULL);
  }
  assert_string_equal(st_buf_cstr(&b), "ready\n"); /* the trap is set */
  st_buf_free(&b);
  assert_int_equal(getpgid(pid), pid); /* its own process group */
  st_proc_cmd c;
  assert_int_equal(st_proc_cmdline(pid, &c, &err), ST_OK);
  assert_int_equal(c.argc, 6);
  assert_string_equal(c.argv[0], "/bin/sh");
  assert_string_equal(st_proc_flag(&c, "flag"), "a b");
  assert_string_equal(st_proc_flag(&c, "other"), "x");
  assert_null(st_proc_flag(&c, "oth"));
  char text[256];
  st_proc_cmd_text(&c, text, sizeof text);
  assert_string_equal(text, "/bin/sh -c 'trap '\\'''\\'' TERM; echo ready; sleep 30 & wait' '--flag=a b' --other x");
  st_proc_cmd_free(&c);
  /* found among this host's processes by program name */
  st_proc_cmd *v;
  size_t n;
  assert_int_equal(st_proc_find("sh", "-c", &v, &n, &err), ST_OK);
  bool seen = false;
  for (size_t i = 0; i < n; i++) seen |= v[i].pid == pid;
  st_proc_cmds_free(v, n);
  assert_true(seen);
  int status = 12345;
  assert_false(st_proc_exited(pid, &status));
  assert_int_equal(status, 0); /* not collected: 0, not what the variable held */
  status = 12345;
  assert_int_equal(st_proc_wait(pid, 0, &status, &err), ST_EUNAVAIL);
  assert_int_equal(status, 0);
  st_proc_stop(pid, 200, &status);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGKILL);
  assert_int_equal(st_proc_cmdline(999999999, &c, &err), ST_ENOENT);
  tu_rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_spawn_log_and_status),
                                     cmocka_unit_test(test_stop_and_cmdline)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
