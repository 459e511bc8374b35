/* Tests for st_fs: atomic replace and exclusive create leave no temporary files, reads name
 * the path in the seed's words, and size limits hold. */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/st_fs.h"

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static void test_atomic_write(void **state) {
  (void)state;
  char dir[256], path[300];
  tu_tmpfile(dir, "p_aux", path, sizeof path);
  st_err err;
  assert_int_equal(st_fs_write_atomic(path, "old", 3, 0644, &err), ST_OK);
  assert_int_equal(st_fs_write_atomic(path, "new content", 11, 0600, &err), ST_OK);
  st_buf b = ST_BUF_INIT;
  assert_int_equal(st_fs_read_file(path, 100, &b, &err), ST_OK);
  assert_string_equal(st_buf_cstr(&b), "new content");
  struct stat st;
  stat(path, &st);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(count_entries(dir), 1); /* no temporary left behind */

  assert_int_equal(st_fs_create_atomic(path, "x", 1, 0600, &err), ST_EEXIST);
  assert_int_equal(count_entries(dir), 1);
  st_buf_reset(&b);
  assert_int_equal(st_fs_read_file(path, 100, &b, &err), ST_OK);
  assert_string_equal(st_buf_cstr(&b), "new content");

  char missing[320];
  snprintf(missing, sizeof missing, "%s/no/such/dir/file", dir);
  assert_int_equal(st_fs_write_atomic(missing, "x", 1, 0600, &err), ST_ENOENT);
  tu_assert_err_contains(&err, "could not write to path=\"");
  st_buf_free(&b);
  tu_rmdir(dir);
}

static void test_read_errors(void **state) {
  (void)state;
  char dir[256], path[300];
  tu_tmpdir(dir);
  st_buf b = ST_BUF_INIT;
  st_err err;
  snprintf(path, sizeof path, "%s/cache/s-t01003-2218/p_aux", dir);
  assert_int_equal(st_fs_read_file(path, 100, &b, &err), ST_ENOENT);
  char want[400];
  snprintf(want, sizeof want, "could not read from path=\"%s\": No such file or directory (os error 2)", path);
  assert_string_equal(err.msg, want);
  assert_int_equal(st_fs_read_file(dir, 100, &b, &err), ST_EIO);
  tu_assert_err_contains(&err, "Is a directory (os error 21)");
  snprintf(path, sizeof path, "%s/big", dir);
  char data[5000] = {0};
  assert_int_equal(st_fs_write_atomic(path, data, sizeof data, 0644, &err), ST_OK);
  assert_int_equal(st_fs_read_file(path, 4096, &b, &err), ST_ERANGE);
  tu_assert_err_contains(&err, "larger than the limit of 4096 bytes");
  st_buf_free(&b);
  tu_rmdir(dir);
}

static void test_mkdir_p(void **state) {
  (void)state;
  char dir[256], path[300];
  tu_tmpfile(dir, "nfs/10.10.4.23/cache", path, sizeof path);
  st_err err;
  assert_int_equal(st_fs_mkdir_p(path, 0755, &err), ST_OK);
  assert_int_equal(st_fs_mkdir_p(path, 0755, &err), ST_OK);
  snprintf(path, sizeof path, "%s/file", dir);
  assert_int_equal(st_fs_write_atomic(path, "x", 1, 0644, &err), ST_OK);
  snprintf(path, sizeof path, "%s/file/sub", dir);
  assert_true(st_fs_mkdir_p(path, 0755, &err) != ST_OK);
  tu_assert_err_contains(&err, "could not create directory");
  assert_int_equal(st_fs_mkdir_p("", 0755, &err), ST_EINVAL);
  tu_rmdir(dir);
}

static void test_space(void **state) {
  (void)state;
  char dir[256], path[300];
  tu_tmpdir(dir);
  st_err err;
  int64_t cap = -1, avail = -1;
  assert_int_equal(st_fs_space(dir, &cap, &avail, &err), ST_OK);
  assert_true(cap > 0 && avail >= 0 && avail <= cap);
  snprintf(path, sizeof path, "%s/none", dir);
  assert_int_equal(st_fs_space(path, &cap, &avail, &err), ST_ENOENT);
  char want[400];
  snprintf(want, sizeof want, "could not measure path=\"%s\": No such file or directory (os error 2)", path);
  tu_assert_err_contains(&err, want);
  assert_true(cap == 0 && avail == 0); /* not the sizes of the last call (st_err.h) */
  tu_rmdir(dir);
}

/* Failed calls leave their outs initialised (st_err.h): a short read zeroes the buffer, a line
 * that does not fit leaves no text, a temporary file that cannot be opened has fd -1 and no
 * names (so abort is safe). */
static void test_failure_outs(void **state) {
  (void)state;
  st_err err;
  char dir[256], path[300];
  tu_tmpfile(dir, "short", path, sizeof path); /* 6 bytes: a read of 16 is short */
  assert_int_equal(st_fs_write_atomic(path, "abcdef", 6, 0644, &err), ST_OK);
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  uint8_t buf[16];
  tu_poison(buf, sizeof buf);
  assert_int_equal(st_fs_pread_all(fd, buf, sizeof buf, 0, path, &err), ST_EIO);
  tu_assert_err_contains(&err, "file ends at byte 6, wanted 16 bytes at offset 0");
  tu_assert_zeroed(buf, sizeof buf);
  close(fd);

  char line[4];
  tu_poison(line, sizeof line);
  assert_int_equal(st_fs_read_line(path, line, sizeof line, &err), ST_EINVAL);
  tu_assert_zeroed(line, sizeof line);

  st_fs_tmpfile t;
  tu_poison(&t, sizeof t);
  snprintf(path, sizeof path, "%s/no/such/dir/file", dir);
  assert_int_equal(st_fs_tmpfile_open(&t, path, 0644, &err), ST_ENOENT);
  assert_int_equal(t.fd, -1);
  assert_string_equal(t.path, path);
  assert_true(strstr(t.tmp, ".tmp.") != NULL);
  st_fs_tmpfile_abort(&t);
  char longpath[PATH_MAX + 8];
  memset(longpath, 'a', sizeof longpath - 1);
  longpath[sizeof longpath - 1] = 0;
  tu_poison(&t, sizeof t);
  assert_int_equal(st_fs_tmpfile_open(&t, longpath, 0644, &err), ST_ERANGE);
  assert_int_equal(t.fd, -1);
  tu_assert_zeroed(t.path, sizeof t.path);
  tu_assert_zeroed(t.tmp, sizeof t.tmp);
  st_fs_tmpfile_abort(&t);
  tu_rmdir(dir);
}

#define BIG (1 << 20)

/* Rewrites path forever with whole-file patterns 'A', 'B', 'C', ... (never returns); after each
 * whole write it tells the parent on done (a non-blocking pipe: a full one drops the byte). */
static void rewrite_forever(const char *path, int done) {
  static char data[BIG];
  for (unsigned i = 0;; i++) {
    memset(data, 'A' + (int)(i % 26), sizeof data);
    if (st_fs_write_atomic(path, data, sizeof data, 0644, NULL)) _exit(2);
    ssize_t told = write(done, "w", 1); /* -1 when full: the parent has its byte already */
    (void)told;
  }
}

/* kill -9 at random moments: the file is always absent or one whole version, never a mix or short.
 * Odd rounds kill at any moment (the first write too); even rounds wait for a whole write first, so
 * however slow the machine, the later rewrites are interrupted and the file is checked. */
static void test_kill9_never_leaves_partial_file(void **state) {
  (void)state;
  char dir[256], path[300];
  tu_tmpfile(dir, "t_aux", path, sizeof path);
  srand((unsigned)time(NULL));
  int complete_seen = 0;
  for (int round = 0; round < 20; round++) {
    int done[2];
    assert_int_equal(pipe(done), 0);
    assert_int_equal(fcntl(done[1], F_SETFL, O_NONBLOCK), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) rewrite_forever(path, done[1]);
    close(done[1]);
    char c;
    if (round % 2 == 0) assert_int_equal(read(done[0], &c, 1), 1);
    usleep(1000 + (useconds_t)(rand() % 20000));
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    close(done[0]);
    assert_true(WIFSIGNALED(status));
    st_buf b = ST_BUF_INIT;
    st_err err;
    st_code rc = st_fs_read_file(path, 2 * BIG, &b, &err);
    if (rc == ST_ENOENT) continue; /* killed before the first rename */
    assert_int_equal(rc, ST_OK);
    assert_int_equal(b.len, BIG);
    for (size_t i = 1; i < b.len; i++)
      if (b.data[i] != b.data[0])
        fail_msg("round %d: byte %zu is '%c', byte 0 is '%c'", round, i, b.data[i], b.data[0]);
    complete_seen++;
    st_buf_free(&b);
  }
  assert_true(complete_seen >= 10);
  tu_rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_atomic_write), cmocka_unit_test(test_read_errors),
      cmocka_unit_test(test_mkdir_p),      cmocka_unit_test(test_space),
      cmocka_unit_test(test_failure_outs), cmocka_unit_test(test_kill9_never_leaves_partial_file)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
