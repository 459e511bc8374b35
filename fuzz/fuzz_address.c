/* fuzz_address: st_address_parse on the input as a string (inputs with NUL bytes or over 200
 * bytes skip this part) and st_address_from_bytes on the raw input.
 * Oracles: a parsed address formats (same network) and the output parses back to equal bytes;
 * the string round-trips exactly, except that decimal leading zeros (ID "t001", delegated
 * namespace "t4007f...") are accepted as in go-address and dropped when formatting; the protocol
 * digit matches; the other network formats and parses to the same bytes; parsed bytes are valid
 * binary addresses. Accepted binary input is kept byte for byte, formats on both networks, and
 * parses back to equal bytes. A rejection carries its code and a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/st_address.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STR 200

static void die(const char *what, const char *s) {
  fprintf(stderr, "fuzz_address: oracle failed: %s [%s]\n", what, s ? s : "");
  abort();
}

/* The string go-address would print for a parsed s: drops leading zeros of the decimal ID
 * (protocol 0) or namespace (protocol 4), keeping one digit. */
static void canonical_string(const char *s, char out[MAX_STR + 1]) {
  size_t n = strlen(s), i = 2;
  memcpy(out, s, 2);
  if (s[1] == '0' || s[1] == '4') {
    size_t end = 2;
    while (s[end] >= '0' && s[end] <= '9') end++;
    while (i + 1 < end && s[i] == '0') i++;
  }
  memcpy(out + 2, s + i, n - i + 1);
}

/* a formats on network net, the result parses back to a on net, and (if want) equals want. */
static void format_and_reparse(const st_address *a, char net, const char *want, const char *ctx) {
  char str[ST_ADDR_STR_MAX];
  st_err err = {ST_OK, {0}};
  if (st_address_format(a, net, str, &err)) die("st_address_format failed on an accepted address", ctx);
  if (str[0] != net || (unsigned char)(str[1] - '0') != a->bytes[0])
    die("formatted address has the wrong network or protocol", str);
  if (want && strcmp(str, want)) {
    fprintf(stderr, "fuzz_address: parsed \"%s\", formatted \"%s\", expected \"%s\"\n", ctx, str, want);
    die("string does not round-trip", ctx);
  }
  st_address b;
  char net2 = 0;
  if (st_address_parse(str, &b, &net2, &err)) {
    fprintf(stderr, "fuzz_address: %s\n", err.msg);
    die("st_address_parse rejects st_address_format's output", str);
  }
  if (net2 != net) die("network changed in a format/parse round trip", str);
  if (!st_address_equal(a, &b)) die("bytes changed in a format/parse round trip", str);
  char again[ST_ADDR_STR_MAX];
  if (st_address_format(&b, net, again, NULL) || strcmp(again, str)) die("formatting is not stable", str);
}

static void check_string(const uint8_t *data, size_t size) {
  char s[MAX_STR + 1];
  if (!fuzz_cstr(data, size, s, sizeof s)) return;
  st_address a;
  char net = 0;
  st_err err = {ST_OK, {0}};
  st_code rc = st_address_parse(s, &a, &net, &err);
  if (rc) {
    fuzz_rejected("fuzz_address", s, rc, &err);
    return;
  }
  if (net != s[0] || (net != 't' && net != 'f')) die("parse reports the wrong network", s);
  if (a.len < 2 || a.len > ST_ADDR_MAX_BYTES) die("parsed address has an impossible length", s);
  if ((unsigned)a.bytes[0] != (unsigned)(s[1] - '0')) die("parsed protocol differs from the protocol digit", s);
  st_address c;
  if (st_address_from_bytes(a.bytes, a.len, &c, NULL) || !st_address_equal(&a, &c))
    die("parsed address bytes are not a valid binary address", s);
  if (a.bytes[0] == ST_ADDR_ID) {
    uint64_t id;
    if (st_address_id(&a, &id, NULL)) die("st_address_id fails on a parsed ID address", s);
  }
  char want[MAX_STR + 1];
  canonical_string(s, want);
  format_and_reparse(&a, net, want, s);
  want[0] = net == 't' ? 'f' : 't';
  format_and_reparse(&a, want[0], want, s);
}

static void check_bytes(const uint8_t *data, size_t size) {
  st_address a;
  st_err err = {ST_OK, {0}};
  st_code rc = st_address_from_bytes(data, size, &a, &err);
  if (rc) {
    fuzz_rejected("fuzz_address", "(bytes)", rc, &err);
    return;
  }
  if (a.len != size || memcmp(a.bytes, data, size)) die("st_address_from_bytes did not keep the bytes", "(bytes)");
  format_and_reparse(&a, 't', NULL, "(bytes)");
  format_and_reparse(&a, 'f', NULL, "(bytes)");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_string(data, size);
  check_bytes(data, size);
  return 0;
}
