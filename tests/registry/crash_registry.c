/* kill -9 during writes: spacetime-server (a separate process) takes adds, declarations and
 * allocations from four clients and is killed with SIGKILL mid-stream, three times. After each
 * restart every acknowledged write is there whole, no write is there in part (an allocation
 * is its reservation and both of its files, or nothing), and the database checks clean.
 * argv[1] is the spacetime-server binary; ST_TEST_PG selects PostgreSQL. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db/st_db.h"
#include "registry/st_registry_client.h"

extern char **environ;

#define TOKEN "crash-test-token-0123456789"
#define WRITERS 4
#define ROUNDS 3
#define SIZE 1000
#define MAX_ACKS 100000

static const char *server_bin;
static pid_t server_pid; /* killed by teardown if a check fails with the server up */
static char tmp[256], repo[300], dburl[512], pgname[64];

typedef struct ack {
  char op;      /* 'n' node added, 'd' declared, 'a' allocated */
  int64_t key;  /* node: host number; sector number otherwise */
  int64_t node; /* the node it went to */
} ack;

typedef struct writer {
  int index, round;
  char url[64];
  ack *acks;
  int nacks;
  atomic_bool *stop;
} writer;

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static pid_t spawn_server(char url[64]) {
  char api[400], log[400];
  snprintf(api, sizeof api, "%s/api", repo);
  snprintf(log, sizeof log, "%s/server.log", tmp);
  unlink(api);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
  char *argv[] = {(char *)server_bin, "run", "--repo", repo, "--db", dburl, "--listen", "127.0.0.1:0", NULL};
  pid_t pid;
  if (posix_spawn(&pid, server_bin, &fa, NULL, argv, environ))
    fail_msg("could not start %s: %s", server_bin, strerror(errno));
  posix_spawn_file_actions_destroy(&fa);
  server_pid = pid;
  for (int i = 0; i < 300; i++) { /* up to 30 s for the api file */
    FILE *f = fopen(api, "r");
    if (f) {
      bool got = fgets(url, 64, f) != NULL;
      fclose(f);
      if (got) {
        url[strcspn(url, "\n")] = 0;
        return pid;
      }
    }
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) fail_msg("spacetime-server exited early; see %s", log);
    sleep_ms(100);
  }
  kill(pid, SIGKILL);
  fail_msg("spacetime-server wrote no api file in 30 s; see %s", log);
  return -1;
}

static void *write_loop(void *arg) {
  writer *w = arg;
  st_regc *c;
  st_err err;
  if (st_regc_open(w->url, TOKEN, &c, &err)) return NULL;
  for (int i = 0; !atomic_load(w->stop) && w->nacks < MAX_ACKS; i++) {
    int64_t key = (int64_t)w->round * 1000000 + w->index * 100000 + i;
    st_code code;
    ack a = {0};
    if (i % 3 == 0) {
      st_storage_node n = {.group = 1, .weight = 10}, out;
      snprintf(n.host, sizeof n.host, "h%lld", (long long)key);
      snprintf(n.mount_host, sizeof n.mount_host, "m%lld", (long long)key);
      snprintf(n.mount_type, sizeof n.mount_type, "nfs");
      code = st_regc_node_add(c, &n, &out, &err);
      a = (ack){'n', key, out.id};
    } else if (i % 3 == 1) {
      st_sector_location l = {1003, (uint64_t)key, ST_KIND_UNSEALED, 1 + key % 4, true};
      code = st_regc_declare(c, &l, &err);
      a = (ack){'d', key, l.node};
    } else {
      st_reg_alloc req = {.miner = 1003, .sector = (uint64_t)key, .size = SIZE, .group = 1};
      st_storage_node node;
      code = st_regc_allocate(c, &req, &node, NULL, &err);
      a = (ack){'a', key, node.id};
    }
    if (code) break; /* the server is gone */
    w->acks[w->nacks++] = a;
  }
  st_regc_close(c);
  return NULL;
}

static int64_t count(st_db *db, const char *sql, int np, const char *const *p) {
  st_db_rows rows;
  st_err err;
  if (st_db_exec(db, sql, np, p, &rows, NULL, &err)) fail_msg("%s: %s", sql, err.msg);
  int64_t v = rows.nrows ? st_db_cell_i64(&rows, 0, 0) : -1;
  st_db_rows_free(&rows);
  return v;
}

/* Every acknowledged write is whole; nothing is there in part. */
static void check(writer *ws, int nw) {
  st_db *db;
  st_err err;
  if (st_db_open(dburl, &db, &err)) fail_msg("%s", err.msg);
  if (st_db_backend_of(db) == ST_DB_SQLITE) {
    st_db_rows rows;
    assert_int_equal(st_db_exec(db, "PRAGMA integrity_check", 0, NULL, &rows, NULL, &err), ST_OK);
    assert_string_equal(st_db_cell(&rows, 0, 0), "ok");
    st_db_rows_free(&rows);
    assert_int_equal(st_db_exec(db, "PRAGMA foreign_key_check", 0, NULL, &rows, NULL, &err), ST_OK);
    assert_int_equal(rows.nrows, 0);
    st_db_rows_free(&rows);
  }
  for (int w = 0; w < nw; w++)
    for (int i = 0; i < ws[w].nacks; i++) {
      const ack *a = &ws[w].acks[i];
      char k[ST_DB_INT_MAX], host[32], mhost[32], n[ST_DB_INT_MAX];
      snprintf(host, sizeof host, "h%lld", (long long)a->key);
      snprintf(mhost, sizeof mhost, "m%lld", (long long)a->key);
      const char *pn[] = {st_db_int(n, a->node), host, mhost}, *pk[] = {st_db_int(k, a->key), n};
      if (a->op == 'n') {
        if (count(db,
                  "SELECT COUNT(*) FROM storage_nodes WHERE id = CAST($1 AS BIGINT) AND host = $2 AND mount_host = $3 "
                  "AND mount_type = 'nfs' AND node_group = 1 AND weight = 10 AND version = 1",
                  3, pn) != 1)
          fail_msg("acknowledged node %s (id %lld) is missing or changed", host, (long long)a->node);
      } else if (a->op == 'd') {
        if (count(
                db,
                "SELECT COUNT(*) FROM sector_locations WHERE miner = 1003 AND sector = CAST($1 AS BIGINT) AND kind = 'unsealed' "
                "AND node_id = CAST($2 AS BIGINT) AND is_primary = 1",
                2, pk) != 1)
          fail_msg("acknowledged declaration of sector %lld is missing", (long long)a->key);
      } else if (count(db,
                       "SELECT COUNT(*) FROM sector_locations WHERE miner = 1003 AND sector = CAST($1 AS BIGINT) "
                       "AND node_id = CAST($2 AS BIGINT) AND is_primary = 1 AND kind IN ('sealed', 'cache')",
                       2, pk) != 2) {
        fail_msg("acknowledged allocation of sector %lld is missing", (long long)a->key);
      }
    }
  /* no allocation half-done: both files or neither, and each node's reservations match its files */
  assert_int_equal(count(db,
                         "SELECT COUNT(*) FROM (SELECT sector FROM sector_locations WHERE kind IN ('sealed', 'cache') "
                         "GROUP BY miner, sector HAVING COUNT(*) <> 2) s",
                         0, NULL),
                   0);
  assert_int_equal(
      count(db,
            "SELECT COUNT(*) FROM storage_nodes n WHERE capacity - available <> "
            "(SELECT COUNT(*) FROM sector_locations l WHERE l.node_id = n.id AND l.kind = 'sealed') * 1000",
            0, NULL),
      0);
  assert_int_equal(
      count(db,
            "SELECT COUNT(*) FROM sector_locations l LEFT JOIN storage_nodes n ON n.id = l.node_id WHERE n.id IS NULL",
            0, NULL),
      0);
  assert_int_equal(
      count(db, "SELECT COUNT(*) FROM storage_nodes WHERE host = '' OR mount_type = '' OR mount_host = ''", 0, NULL),
      0);
  st_db_close(db);
}

static void test_kill9_during_writes(void **state) {
  (void)state;
  char url[64];
  pid_t pid = spawn_server(url);
  /* four healthy nodes take the allocations */
  st_regc *c;
  st_err err;
  assert_int_equal(st_regc_open(url, TOKEN, &c, &err), ST_OK);
  for (int i = 1; i <= 4; i++) {
    st_storage_node n = {.group = 1, .weight = 10}, out;
    snprintf(n.host, sizeof n.host, "10.0.0.%d", i);
    snprintf(n.mount_host, sizeof n.mount_host, "10.0.0.%d", i);
    snprintf(n.mount_type, sizeof n.mount_type, "nfs");
    assert_int_equal(st_regc_node_add(c, &n, &out, &err), ST_OK);
    assert_int_equal(st_regc_heartbeat(c, out.id, 1LL << 40, 1LL << 40, NULL, NULL, &err), ST_OK);
  }
  st_regc_close(c);

  writer ws[ROUNDS][WRITERS];
  static const long kill_after_ms[ROUNDS] = {150, 400, 700};
  for (int r = 0; r < ROUNDS; r++) {
    atomic_bool stop = false;
    pthread_t t[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
      ws[r][w] = (writer){.index = w, .round = r, .acks = calloc(MAX_ACKS, sizeof(ack)), .stop = &stop};
      snprintf(ws[r][w].url, sizeof ws[r][w].url, "%s", url);
      pthread_create(&t[w], NULL, write_loop, &ws[r][w]);
    }
    sleep_ms(kill_after_ms[r]);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    server_pid = 0;
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    atomic_store(&stop, true);
    int acked = 0;
    for (int w = 0; w < WRITERS; w++) {
      pthread_join(t[w], NULL);
      acked += ws[r][w].nacks;
    }
    print_message("round %d: killed after %ld ms with %d writes acknowledged\n", r + 1, kill_after_ms[r], acked);
    assert_true(acked > 0);
    pid = spawn_server(url); /* the restart runs migrations on the crashed database */
    for (int k = 0; k <= r; k++) check(ws[k], WRITERS);
  }
  /* a clean stop */
  assert_int_equal(kill(pid, SIGTERM), 0);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  server_pid = 0;
  for (int r = 0; r < ROUNDS; r++)
    for (int w = 0; w < WRITERS; w++) free(ws[r][w].acks);
}

static int setup(void **state) {
  (void)state;
  tu_tmpdir(tmp);
  snprintf(repo, sizeof repo, "%s/repo", tmp);
  mkdir(repo, 0700);
  char token[400];
  snprintf(token, sizeof token, "%s/token", repo);
  FILE *f = fopen(token, "w");
  fputs(TOKEN "\n", f);
  fclose(f);
  const char *pg = getenv("ST_TEST_PG");
  if (pg) {
    snprintf(pgname, sizeof pgname, "crash_%d", (int)getpid());
    char url[512], sql[128];
    snprintf(url, sizeof url, "%s/postgres", pg);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", pgname);
    st_db *db;
    st_err err;
    if (st_db_open(url, &db, &err) || st_db_exec(db, sql, 0, NULL, NULL, NULL, &err)) fail_msg("%s", err.msg);
    st_db_close(db);
    snprintf(dburl, sizeof dburl, "%s/%s", pg, pgname);
  } else {
    snprintf(dburl, sizeof dburl, "sqlite:%s/registry.db", tmp);
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (server_pid > 0 && kill(server_pid, SIGKILL) == 0) waitpid(server_pid, NULL, 0);
  tu_rmdir(tmp);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: crash_registry PATH-TO-spacetime-server\n");
    return 2;
  }
  server_bin = argv[1];
  const struct CMUnitTest tests[] = {cmocka_unit_test_setup_teardown(test_kill9_during_writes, setup, teardown)};
  return cmocka_run_group_tests_name(getenv("ST_TEST_PG") ? "kill -9 on PostgreSQL" : "kill -9 on SQLite", tests, NULL,
                                     NULL);
}
