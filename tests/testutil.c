/* testutil: vectors, hex and temp-dir helpers for the cmocka suites. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/st_encoding.h"
#include "db/st_db.h"
#include "net/st_websocket.h"

json_t *tu_load_vectors(const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", ST_VECTORS_DIR, name);
  json_error_t je;
  json_t *v = json_load_file(path, 0, &je);
  if (!v) fail_msg("cannot load %s: %s (line %d)", path, je.text, je.line);
  return v;
}

void tu_hex(const char *hex, st_buf *out) {
  st_err err;
  if (st_hex_decode(hex, strlen(hex), out, &err)) fail_msg("bad hex in test: %s", err.msg);
}

const char *tu_tohex(const uint8_t *p, size_t n) {
  static char buf[4096];
  if (2 * n + 1 > sizeof buf) fail_msg("tu_tohex: %zu bytes is too long", n);
  st_hex_encode(p, n, buf);
  return buf;
}

void tu_tmpdir(char out[256]) {
  const char *base = getenv("TMPDIR");
  snprintf(out, 256, "%s/st-test-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(out)) fail_msg("mkdtemp failed");
}

void tu_tmpfile(char dir[256], const char *name, char *path, size_t cap) {
  tu_tmpdir(dir);
  snprintf(path, cap, "%s/%s", dir, name);
}

void tu_rmdir(const char *path) {
  char cmd[512];
  if (strncmp(path, "/tmp/st-test-", 13) && !strstr(path, "/st-test-")) fail_msg("refusing to remove %s", path);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  if (system(cmd) != 0) fail_msg("could not remove %s", path);
}

void tu_assert_err_contains_(const st_err *err, const char *needle, const char *file, int line) {
  if (!strstr(err->msg, needle)) {
    fprintf(stderr, "%s:%d: error message \"%s\" does not contain \"%s\"\n", file, line, err->msg, needle);
    fail();
  }
}

void tu_poison(void *p, size_t n) { memset(p, 0xa5, n); }

void tu_assert_zeroed_(const void *p, size_t n, const char *what, const char *file, int line) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) {
    if (!b[i]) continue;
    fprintf(stderr, "%s:%d: %s is not zeroed: byte %zu of %zu is 0x%02x\n", file, line, what, i, n, b[i]);
    fail();
  }
}

struct st_ws_conn *tu_ws_open(uint16_t port, const char *path_and_query, const char *token, int *fdp) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  char req[2048];
  int n = snprintf(
      req, sizeof req,
      "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n%s%s%s\r\n",
      path_and_query, token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "");
  assert_int_equal(write(fd, req, (size_t)n), n);
  char buf[4096];
  size_t got = 0;
  char *end = NULL;
  while (!end) {
    ssize_t k = read(fd, buf + got, sizeof buf - 1 - got);
    assert_true(k > 0);
    got += (size_t)k;
    buf[got] = 0;
    end = strstr(buf, "\r\n\r\n");
  }
  assert_non_null(strstr(buf, "HTTP/1.1 101"));
  assert_non_null(strcasestr(buf, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n")); /* RFC 6455 1.3 */
  assert_non_null(strcasestr(buf, "Upgrade: websocket\r\n"));
  end += 4;
  *fdp = fd;
  st_ws_conn *c = st_ws_conn_new(fd, false, 0, end, got - (size_t)(end - buf));
  assert_non_null(c);
  return c;
}

void tu_pg_admin(const char *sql) {
  char url[512];
  snprintf(url, sizeof url, "%s/postgres", getenv("ST_TEST_PG"));
  st_db *db;
  st_err err;
  if (st_db_open(url, &db, &err)) fail_msg("%s", err.msg);
  if (st_db_exec(db, sql, 0, NULL, NULL, NULL, &err)) fail_msg("%s: %s", sql, err.msg);
  st_db_close(db);
}

void tu_test_db_new(tu_test_db *d, const char *prefix) {
  static int counter;
  memset(d, 0, sizeof *d);
  if (getenv("ST_TEST_PG")) {
    char sql[128];
    snprintf(d->pgname, sizeof d->pgname, "%.20s_%d_%d", prefix, (int)getpid(), ++counter);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", d->pgname);
    tu_pg_admin(sql);
    snprintf(d->url, sizeof d->url, "%.400s/%s", getenv("ST_TEST_PG"), d->pgname);
  } else {
    tu_tmpdir(d->tmp);
    snprintf(d->url, sizeof d->url, "sqlite:%s/registry.db", d->tmp);
  }
}

void tu_test_db_drop(tu_test_db *d) {
  if (d->pgname[0]) {
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", d->pgname);
    tu_pg_admin(sql);
  } else if (d->tmp[0]) {
    tu_rmdir(d->tmp);
  }
  memset(d, 0, sizeof *d);
}
