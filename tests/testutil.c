/* testutil: vectors, hex and temp-dir helpers for the cmocka suites. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/st_encoding.h"

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
