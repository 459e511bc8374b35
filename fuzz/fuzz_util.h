/* fuzz_util: the oracles several libFuzzer targets share, written once: an accepted input
 * re-encodes to exactly itself and a rejection carries a message, and the input as a C string.
 * Header-only: each target is one file linked with the library (fuzz/CMakeLists.txt). */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/st_buf.h"
#include "core/st_err.h"

/* The round-trip oracle of a decoder (what names it, target the fuzzer): a rejection (rc) must
 * carry a message; an acceptance must have re-encoded into enc exactly data[0..size). Traps
 * (abort) otherwise. */
static inline void fuzz_same(const char *target, const char *what, st_code rc, const st_err *err, const st_buf *enc,
                             const uint8_t *data, size_t size) {
  if (rc) {
    if (!err->msg[0]) {
      fprintf(stderr, "%s: %s: rejection without a message\n", target, what);
      __builtin_trap();
    }
    return;
  }
  if (enc->failed || enc->len != size || memcmp(enc->data, data, size)) {
    fprintf(stderr, "%s: %s: accepted input does not re-encode to itself\n", target, what);
    __builtin_trap();
  }
}

/* data[0..size) as a C string in s (cap bytes); false, to skip the string checks, when it does
 * not fit or holds a NUL byte. */
static inline bool fuzz_cstr(const uint8_t *data, size_t size, char *s, size_t cap) {
  if (size >= cap || memchr(data, 0, size)) return false;
  memcpy(s, data, size);
  s[size] = '\0';
  return true;
}

#endif
