/* fuzz_util: the oracles several libFuzzer targets share, written once: a rejection carries its
 * code and a message, an accepted input re-encodes to exactly itself, and the input as a C string.
 * Header-only: each target is one file linked with the library (fuzz/CMakeLists.txt). */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/st_buf.h"
#include "core/st_err.h"

/* The rejection oracle (target the fuzzer, what the call or its input): a call that refused with
 * rc must say so in err, with rc as its code and a message. Traps otherwise. */
static inline void fuzz_rejected(const char *target, const char *what, st_code rc, const st_err *err) {
  if (err->code == rc && err->msg[0]) return;
  fprintf(stderr, "%s: %s: rejection without its code or a message\n", target, what);
  __builtin_trap();
}

/* The round-trip oracle of a decoder (what names it, target the fuzzer): a rejection (rc) passes
 * fuzz_rejected; an acceptance must have re-encoded into enc exactly data[0..size). Traps
 * otherwise. */
static inline void fuzz_same(const char *target, const char *what, st_code rc, const st_err *err, const st_buf *enc,
                             const uint8_t *data, size_t size) {
  if (rc) {
    fuzz_rejected(target, what, rc, err);
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
