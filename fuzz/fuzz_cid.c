/* fuzz_cid: st_cid_from_bytes on the raw input (exact length, and as a prefix with `used`) and
 * st_cid_parse on the input as a string (inputs with NUL bytes or over 200 bytes skip this part).
 * Oracles: an accepted CID converts with st_cid_to_bytes / st_cid_to_string and parses back to an
 * equal CID; since varints must be minimal and base32 canonical, the binary and string forms also
 * reproduce the input exactly; st_cid_append_string agrees with st_cid_to_string; a prefix parse
 * agrees with the exact-length parse of that prefix; a rejection carries its code and a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/st_cid.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STR 200

static void die(const char *what) {
  fprintf(stderr, "fuzz_cid: oracle failed: %s\n", what);
  abort();
}

/* c round-trips through its binary and string forms. */
static void round_trip(const st_cid *c) {
  if (c->digest_len > ST_CID_MAX_DIGEST) die("digest longer than ST_CID_MAX_DIGEST");
  uint8_t raw[ST_CID_MAX_BYTES];
  size_t n = st_cid_to_bytes(c, raw);
  if (n == 0 || n > ST_CID_MAX_BYTES) die("st_cid_to_bytes length out of range");
  st_cid b;
  st_err err = {ST_OK, {0}};
  if (st_cid_from_bytes(raw, n, &b, NULL, &err)) {
    fprintf(stderr, "fuzz_cid: %s\n", err.msg);
    die("st_cid_from_bytes rejects st_cid_to_bytes output");
  }
  if (!st_cid_equal(c, &b)) die("binary round trip changed the CID");

  char str[ST_CID_STR_MAX];
  st_cid_to_string(c, str);
  if (str[0] != 'b') die("st_cid_to_string gave no 'b'-prefixed string");
  st_buf sb = ST_BUF_INIT;
  st_cid_append_string(&sb, c);
  if (st_buf_status(&sb, NULL) || strcmp(st_buf_cstr(&sb), str))
    die("st_cid_append_string and st_cid_to_string disagree");
  st_buf_free(&sb);
  st_cid s;
  if (st_cid_parse(str, &s, &err)) {
    fprintf(stderr, "fuzz_cid: %s: %s\n", str, err.msg);
    die("st_cid_parse rejects st_cid_to_string output");
  }
  if (!st_cid_equal(c, &s)) die("string round trip changed the CID");
}

static void check_bytes(const uint8_t *data, size_t size) {
  st_cid c;
  st_err err = {ST_OK, {0}};
  st_code rc = st_cid_from_bytes(data, size, &c, NULL, &err);
  if (rc) {
    fuzz_rejected("fuzz_cid", "st_cid_from_bytes", rc, &err);
  } else {
    uint8_t raw[ST_CID_MAX_BYTES];
    size_t n = st_cid_to_bytes(&c, raw);
    if (n != size || memcmp(raw, data, size))
      die("accepted binary CID is not canonical: st_cid_to_bytes differs from the input");
    round_trip(&c);
  }

  /* Prefix mode: the CID at the start of the input, followed by anything. */
  st_cid p;
  size_t used = 0;
  rc = st_cid_from_bytes(data, size, &p, &used, &err);
  if (rc) {
    fuzz_rejected("fuzz_cid", "st_cid_from_bytes (prefix)", rc, &err);
    return;
  }
  if (used == 0 || used > size) die("`used` out of range");
  st_cid q;
  if (st_cid_from_bytes(data, used, &q, NULL, NULL) || !st_cid_equal(&p, &q))
    die("prefix parse and exact parse of the prefix disagree");
  round_trip(&p);
}

static void check_string(const uint8_t *data, size_t size) {
  char s[MAX_STR + 1];
  if (!fuzz_cstr(data, size, s, sizeof s)) return;
  st_cid c;
  st_err err = {ST_OK, {0}};
  st_code rc = st_cid_parse(s, &c, &err);
  if (rc) {
    fuzz_rejected("fuzz_cid", s, rc, &err);
    return;
  }
  char str[ST_CID_STR_MAX];
  st_cid_to_string(&c, str);
  if (strcmp(str, s)) {
    fprintf(stderr, "fuzz_cid: parsed \"%s\", formatted \"%s\"\n", s, str);
    die("accepted CID string is not canonical: st_cid_to_string differs from the input");
  }
  round_trip(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_bytes(data, size);
  check_string(data, size);
  return 0;
}
