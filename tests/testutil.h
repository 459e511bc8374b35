/* testutil: helpers shared by the cmocka suites: the published vectors (tests/vectors, a
 * byte-for-byte copy of shared/vectors), hex literals, and temporary directories. */
#ifndef ST_TESTUTIL_H
#define ST_TESTUTIL_H

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the includes above first */
#include <cmocka.h>

#include "core/st_buf.h"
#include "core/st_err.h"

/* Loads tests/vectors/<name> (e.g. "vectors.json"); fails the test if it cannot. Caller decrefs. */
json_t *tu_load_vectors(const char *name);
/* Decodes hex into out (fails the test on bad hex). */
void tu_hex(const char *hex, st_buf *out);
/* Lowercase hex of p[0..n) in a static buffer (for assertions; not reentrant). */
const char *tu_tohex(const uint8_t *p, size_t n);
/* Creates a fresh temporary directory; returns its path (static storage per call site is the caller's). */
void tu_tmpdir(char out[256]);
/* A fresh temporary directory (as tu_tmpdir) and, in path (cap bytes), the path of name in it:
 * the start of every test that writes one file. */
void tu_tmpfile(char dir[256], const char *name, char *path, size_t cap);
/* rm -rf of a directory created by tu_tmpdir. */
void tu_rmdir(const char *path);

/* A fresh, empty database for one test: a new PostgreSQL database named <prefix>_<pid>_<n> on
 * the server in $ST_TEST_PG (tests/registry/with_postgres.sh) when it is set, else
 * sqlite:<a new temp folder>/registry.db. tu_test_db_drop removes it. */
typedef struct tu_test_db {
  char url[512], pgname[64], tmp[256];
} tu_test_db;
void tu_test_db_new(tu_test_db *d, const char *prefix);
void tu_test_db_drop(tu_test_db *d);
/* Runs sql on $ST_TEST_PG's "postgres" database (CREATE/DROP DATABASE); fails the test on error. */
void tu_pg_admin(const char *sql);
/* Asserts err->msg contains needle, printing both if not. */
#define tu_assert_err_contains(err, needle) tu_assert_err_contains_(err, needle, __FILE__, __LINE__)
void tu_assert_err_contains_(const st_err *err, const char *needle, const char *file, int line);

/* The rule of st_err.h, that a failed call leaves its outs initialised: poison an out before
 * the call (every byte 0xa5), then assert the call zeroed it. tu_assert_zeroed names the out,
 * the first byte that is not zero and where. */
void tu_poison(void *p, size_t n);
#define tu_assert_zeroed(p, n) tu_assert_zeroed_((p), (n), #p, __FILE__, __LINE__)
void tu_assert_zeroed_(const void *p, size_t n, const char *what, const char *file, int line);

/* A WebSocket client for the JSON-RPC tests: connects to 127.0.0.1:port, upgrades path_and_query
 * (with a bearer token unless NULL), checks the 101 reply and its accept key, and returns the
 * client connection; *fd is its socket (close it after st_ws_conn_free). */
struct st_ws_conn;
struct st_ws_conn *tu_ws_open(uint16_t port, const char *path_and_query, const char *token, int *fd);

/* xorshift64: reproducible test data from a non-zero seed in *s. */
static inline uint64_t tu_xorshift(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

#endif
