/* A full disk is reported as a full disk, naming the store and its path, and writing resumes
 * once there is room: the daemon's chain store (LMDB), the registry's and the miner's SQLite
 * database (st_db), and the files st_fs writes (the miner's repo, sealing output). Each check
 * runs in a forked child with a private mount namespace and a 2 MiB tmpfs; without the right to
 * mount (not root) the test is skipped, saying why. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chain/st_chainstore.h"
#include "core/st_fs.h"
#include "db/st_db.h"

#define SKIP 77
#define CHUNK (64 * 1024)

/* In the child: a failed check prints and exits 1 (cmocka's asserts would unwind into its copy of the runner). */
#define CHECK(cond, ...)                              \
  do {                                                \
    if (!(cond)) {                                    \
      fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                   \
      fprintf(stderr, "\n");                          \
      _exit(1);                                       \
    }                                                 \
  } while (0)

/* Fills the filesystem of dir with a file "filler" of at most bytes; 0 on success. */
static int filler(const char *dir, size_t bytes) {
  char path[400];
  snprintf(path, sizeof path, "%s/filler", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return -1;
  static char block[4096];
  for (size_t done = 0; done < bytes; done += sizeof block)
    if (write(fd, block, sizeof block) != (ssize_t)sizeof block) break;
  close(fd);
  return 0;
}

static void free_room(const char *dir) {
  char path[400];
  snprintf(path, sizeof path, "%s/filler", dir);
  CHECK(!unlink(path), "unlink %s: %s", path, strerror(errno));
}

static char big[CHUNK];

static st_code put_big(st_cs_txn *t, void *ctx, st_err *err) {
  return st_cs_put_meta(t, (const char *)ctx, big, sizeof big, err);
}

static void chain_store(const char *dir) {
  st_chainstore *cs = NULL;
  st_err err;
  CHECK(!st_cs_open(dir, (size_t)64 << 20, &cs, &err), "open: %s", err.msg);
  CHECK(!filler(dir, (size_t)512 << 10), "filler");
  char key[32], want[400];
  st_code code = ST_OK;
  int n = 0;
  for (; n < 200 && !code; n++) {
    snprintf(key, sizeof key, "k%d", n);
    code = st_cs_write(cs, put_big, key, &err);
  }
  CHECK(code == ST_EIO, "filling the chain store: code %d after %d writes (%s)", code, n, code ? err.msg : "");
  snprintf(want, sizeof want, "chain store path=\"%s/chain\": the disk is full", dir);
  CHECK(strstr(err.msg, want), "the message \"%s\" lacks \"%s\"", err.msg, want);
  printf("chain store: %s\n", err.msg);
  free_room(dir);
  snprintf(key, sizeof key, "after");
  CHECK(!st_cs_write(cs, put_big, key, &err), "the write after freeing room: %s", err.msg);
  st_cs_close(cs);
}

static void sqlite_db(const char *dir) {
  char url[400], want[400];
  snprintf(url, sizeof url, "sqlite:%s/registry.db", dir);
  st_db *db = NULL;
  st_err err;
  CHECK(!st_db_open(url, &db, &err), "open: %s", err.msg);
  CHECK(!st_db_exec_script(db, "CREATE TABLE t (v TEXT)", &err), "create: %s", err.msg);
  CHECK(!filler(dir, (size_t)512 << 10), "filler");
  static char text[CHUNK + 1];
  memset(text, 'x', CHUNK);
  const char *params[] = {text};
  st_code code = ST_OK;
  int n = 0;
  for (; n < 200 && !code; n++) code = st_db_exec(db, "INSERT INTO t VALUES ($1)", 1, params, NULL, NULL, &err);
  CHECK(code == ST_EIO, "filling the database: code %d after %d inserts (%s)", code, n, code ? err.msg : "");
  snprintf(want, sizeof want, "sqlite database path=\"%s/registry.db\": the disk is full", dir);
  CHECK(strstr(err.msg, want), "the message \"%s\" lacks \"%s\"", err.msg, want);
  printf("sqlite: %s\n", err.msg);
  free_room(dir);
  CHECK(!st_db_exec(db, "INSERT INTO t VALUES ($1)", 1, params, NULL, NULL, &err), "the insert after freeing room: %s",
        err.msg);
  st_db_close(db);
}

static void files(const char *dir) {
  char path[400], want[400];
  st_err err;
  CHECK(!filler(dir, (size_t)4 << 20), "filler"); /* more than there is: the disk is full */
  snprintf(path, sizeof path, "%s/config.json", dir);
  st_code code = st_fs_write_atomic(path, big, sizeof big, 0644, &err);
  CHECK(code == ST_EIO, "writing to a full disk: code %d (%s)", code, code ? err.msg : "");
  snprintf(want, sizeof want, "path=\"%s/config.json", dir);
  CHECK(strstr(err.msg, want) && strstr(err.msg, "the disk is full (No space left on device, os error 28)"),
        "the message \"%s\" lacks \"%s\" or the full disk", err.msg, want);
  printf("files: %s\n", err.msg);
  free_room(dir);
  CHECK(!st_fs_write_atomic(path, big, sizeof big, 0644, &err), "the write after freeing room: %s", err.msg);
}

/* Runs check on a fresh 2 MiB tmpfs in a child with its own mount namespace. */
static void on_small_disk(void (*check)(const char *dir)) {
  char dir[256];
  tu_tmpdir(dir);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
      fprintf(stderr, "no private mount namespace (%s): run as root to test a full disk\n", strerror(errno));
      _exit(SKIP);
    }
    if (mount("tmpfs", dir, "tmpfs", 0, "size=2m")) {
      fprintf(stderr, "could not mount a tmpfs on %s (%s): run as root to test a full disk\n", dir, strerror(errno));
      _exit(SKIP);
    }
    check(dir);
    fflush(NULL);
    _exit(0);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  tu_rmdir(dir);
  assert_true(WIFEXITED(status));
  if (WEXITSTATUS(status) == SKIP) skip();
  assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_chain_store_full(void **state) {
  (void)state;
  on_small_disk(chain_store);
}

static void test_sqlite_full(void **state) {
  (void)state;
  on_small_disk(sqlite_db);
}

static void test_files_full(void **state) {
  (void)state;
  on_small_disk(files);
}

int main(void) {
  memset(big, 7, sizeof big);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chain_store_full),
      cmocka_unit_test(test_sqlite_full),
      cmocka_unit_test(test_files_full),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
