/* fuzz_cbor: st_cbor_validate on arbitrary bytes, with flags 0 and ST_CBOR_ALLOW_FLOATS.
 * Oracles: DAG-CBOR is canonical, so whatever the validator accepts must re-encode to exactly the
 * input bytes when walked item by item with the pull reader (st_cbor_next) and written back with
 * the st_cbor_put_* encoder, map entries sorted (and checked for repeats) as a canonical encoder
 * would, tag 42 via st_cid_from_bytes + st_cbor_put_cid. Also: accepting without floats implies
 * accepting with them; max_depth 0 and ST_CBOR_DEFAULT_DEPTH agree; a rejection carries its code
 * and a message; st_cbor_diag and st_cbor_dagjson succeed on accepted input, and the DAG-JSON
 * parses as JSON (jansson). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/st_cbor.h"
#include "codec/st_cid.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, unsigned flags) {
  fprintf(stderr, "fuzz_cbor: oracle failed (flags %u): %s\n", flags, what);
  abort();
}

static void reencode(st_cbor_reader *r, st_buf *out, unsigned depth);

typedef struct entry {
  const uint8_t *key; /* the key's text */
  size_t key_len;
  st_buf enc; /* key and value, encoded */
} entry;

/* DAG-CBOR map order: shorter keys first, then bytewise. */
static int entry_cmp(const void *pa, const void *pb) {
  const entry *a = pa, *b = pb;
  if (a->key_len != b->key_len) return a->key_len < b->key_len ? -1 : 1;
  return a->key_len ? memcmp(a->key, b->key, a->key_len) : 0;
}

/* A canonical encoder sorts the entries itself, whatever order the input had them in, and
 * cannot write a key twice. */
static void reencode_map(st_cbor_reader *r, st_buf *out, unsigned depth, uint64_t n) {
  st_cbor_put_map(out, n);
  if (n == 0) return;
  entry *e = calloc((size_t)n, sizeof *e);
  if (!e) die("out of memory", r->flags);
  for (uint64_t i = 0; i < n; i++) {
    st_cbor_item key;
    if (st_cbor_peek(r, &key) || key.type != ST_CBOR_TEXT)
      die("accepted a map key that is not a text string", r->flags);
    e[i].key = key.data;
    e[i].key_len = (size_t)key.val;
    reencode(r, &e[i].enc, depth + 1);
    reencode(r, &e[i].enc, depth + 1);
  }
  qsort(e, (size_t)n, sizeof *e, entry_cmp);
  for (uint64_t i = 0; i < n; i++) {
    if (i && entry_cmp(&e[i - 1], &e[i]) == 0) die("accepted a map with a repeated key", r->flags);
    st_buf_append(out, e[i].enc.data, e[i].enc.len);
    st_buf_free(&e[i].enc);
  }
  free(e);
}

/* Reads one complete item from r and writes it, canonically, to out. depth counts the
 * enclosing containers. */
static void reencode(st_cbor_reader *r, st_buf *out, unsigned depth) {
  st_cbor_item it;
  if (st_cbor_next(r, &it)) die("st_cbor_next failed inside input the validator accepted", r->flags);
  switch (it.type) {
    case ST_CBOR_UINT: st_cbor_put_uint(out, it.val); break;
    case ST_CBOR_NINT: st_cbor_put_nint(out, it.val); break;
    case ST_CBOR_BYTES: st_cbor_put_bytes(out, it.data, (size_t)it.val); break;
    case ST_CBOR_TEXT: st_cbor_put_text(out, (const char *)it.data, (size_t)it.val); break;
    case ST_CBOR_ARRAY:
      if (depth >= ST_CBOR_DEFAULT_DEPTH) die("accepted an array nested deeper than ST_CBOR_DEFAULT_DEPTH", r->flags);
      st_cbor_put_array(out, it.val);
      for (uint64_t i = 0; i < it.val; i++) reencode(r, out, depth + 1);
      break;
    case ST_CBOR_MAP:
      if (depth >= ST_CBOR_DEFAULT_DEPTH) die("accepted a map nested deeper than ST_CBOR_DEFAULT_DEPTH", r->flags);
      reencode_map(r, out, depth, it.val);
      break;
    case ST_CBOR_TAG: {
      if (it.val != 42) die("accepted a tag other than 42", r->flags);
      st_cbor_item content;
      if (st_cbor_next(r, &content)) die("st_cbor_next failed on tag 42 content", r->flags);
      if (content.type != ST_CBOR_BYTES || content.val < 1 || content.data[0] != 0x00)
        die("accepted tag 42 whose content is not 0x00-prefixed bytes", r->flags);
      st_cid c;
      if (st_cid_from_bytes(content.data + 1, (size_t)content.val - 1, &c, NULL, NULL))
        die("accepted tag 42 holding an invalid CID", r->flags);
      st_cbor_put_cid(out, &c);
      break;
    }
    case ST_CBOR_FALSE: st_cbor_put_bool(out, false); break;
    case ST_CBOR_TRUE: st_cbor_put_bool(out, true); break;
    case ST_CBOR_NULL: st_cbor_put_null(out); break;
    case ST_CBOR_FLOAT:
      if (!(r->flags & ST_CBOR_ALLOW_FLOATS)) die("accepted a float without ST_CBOR_ALLOW_FLOATS", r->flags);
      st_cbor_put_float64(out, it.f);
      break;
    default: die("st_cbor_next returned an unknown item type", r->flags);
  }
}

/* Returns whether the validator accepted the input with these flags. */
static bool check(const uint8_t *data, size_t size, unsigned flags) {
  st_err err = {ST_OK, {0}};
  st_code rc = st_cbor_validate(data, size, flags, 0, &err);
  st_code rc_depth = st_cbor_validate(data, size, flags, ST_CBOR_DEFAULT_DEPTH, NULL);
  if ((rc == ST_OK) != (rc_depth == ST_OK)) die("max_depth 0 and ST_CBOR_DEFAULT_DEPTH disagree", flags);
  if (rc) {
    char what[48];
    snprintf(what, sizeof what, "st_cbor_validate (flags %u)", flags);
    fuzz_rejected("fuzz_cbor", what, rc, &err);
    return false;
  }

  /* Canonical form: re-encoding the accepted item must give back exactly the input. */
  st_cbor_reader r;
  st_cbor_reader_init(&r, data, size, NULL);
  r.flags = flags;
  st_buf out = ST_BUF_INIT;
  reencode(&r, &out, 0);
  if (r.off != size) die("the accepted item does not fill the input", flags);
  if (st_buf_status(&out, NULL)) die("encoder buffer failed", flags);
  if (out.len != size || (size && memcmp(out.data, data, size))) {
    fprintf(stderr, "fuzz_cbor: input    ");
    for (size_t i = 0; i < size && i < 256; i++) fprintf(stderr, "%02x", data[i]);
    fprintf(stderr, "\nfuzz_cbor: encoding ");
    for (size_t i = 0; i < out.len && i < 256; i++) fprintf(stderr, "%02x", out.data[i]);
    fprintf(stderr, "\n");
    die("accepted input is not canonical: re-encoding differs", flags);
  }
  st_buf_free(&out);

  st_buf diag = ST_BUF_INIT, dj = ST_BUF_INIT;
  if (st_cbor_diag(data, size, flags, &diag, &err) || diag.len == 0)
    die("st_cbor_diag failed on accepted input", flags);
  if (st_cbor_dagjson(data, size, flags, &dj, &err) || dj.len == 0)
    die("st_cbor_dagjson failed on accepted input", flags);
  /* jansson refuses NUL in object keys whatever the flags; elsewhere \u0000 is allowed. */
  if (!strstr((const char *)dj.data, "\\u0000")) {
    json_error_t jerr;
    json_t *j =
        json_loadb((const char *)dj.data, dj.len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &jerr);
    if (!j) {
      fprintf(stderr, "fuzz_cbor: DAG-JSON %.200s: %s\n", (const char *)dj.data, jerr.text);
      die("st_cbor_dagjson output is not JSON", flags);
    }
    json_decref(j);
  }
  st_buf_free(&diag);
  st_buf_free(&dj);
  return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bool strict = check(data, size, 0);
  bool floats = check(data, size, ST_CBOR_ALLOW_FLOATS);
  if (strict && !floats) die("accepted without ST_CBOR_ALLOW_FLOATS but rejected with it", 0);
  return 0;
}
