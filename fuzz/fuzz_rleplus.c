/* fuzz_rleplus: st_bitfield_decode (RLE+) on arbitrary bytes.
 * Oracles: a decoded bitfield is well formed (sorted, disjoint, non-adjacent runs of length >= 1
 * ending by 2^64-1); st_bitfield_encode then st_bitfield_decode gives an equal bitfield with the
 * same count; the canonical encoding has no trailing zero byte and re-encodes identically; union
 * and intersection with itself give it back, subtraction the empty set; st_bitfield_has agrees
 * at run edges; small sets round-trip through the "0,2,4-6" notation. A rejection leaves the
 * bitfield empty and carries its code and a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/st_bitfield.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what) {
  fprintf(stderr, "fuzz_rleplus: oracle failed: %s\n", what);
  abort();
}

static void check_well_formed(const st_bitfield *bf) {
  for (size_t i = 0; i < bf->n; i++) {
    const st_run *r = &bf->runs[i];
    if (r->len == 0) die("run of length 0");
    if (r->len > UINT64_MAX - r->start) die("run ends past 2^64-1");
    if (i && r->start <= bf->runs[i - 1].start + bf->runs[i - 1].len) die("runs out of order, overlapping or adjacent");
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  st_bitfield bf = ST_BITFIELD_INIT, bf2 = ST_BITFIELD_INIT, tmp = ST_BITFIELD_INIT;
  st_buf enc = ST_BUF_INIT, enc2 = ST_BUF_INIT;
  st_err err = {ST_OK, {0}};
  st_code rc = st_bitfield_decode(data, size, &bf, &err);
  if (rc) {
    fuzz_rejected("fuzz_rleplus", "st_bitfield_decode", rc, &err);
    if (bf.n != 0) die("rejected input left runs in the bitfield");
    goto out;
  }
  check_well_formed(&bf);
  uint64_t count = st_bitfield_count(&bf);

  if (st_bitfield_encode(&bf, &enc, &err)) die("st_bitfield_encode failed on a decoded bitfield");
  if (enc.len > 0 && enc.data[enc.len - 1] == 0) die("canonical encoding ends in a zero byte");
  if (st_bitfield_decode(enc.data, enc.len, &bf2, &err)) {
    fprintf(stderr, "fuzz_rleplus: %s\n", err.msg);
    die("st_bitfield_decode rejects st_bitfield_encode output");
  }
  if (!st_bitfield_equal(&bf, &bf2)) die("encode/decode round trip changed the bitfield");
  if (st_bitfield_count(&bf2) != count) die("count changed in the round trip");
  if (st_bitfield_encode(&bf2, &enc2, &err)) die("second st_bitfield_encode failed");
  if (enc2.len != enc.len || (enc.len && memcmp(enc.data, enc2.data, enc.len)))
    die("canonical encoding does not re-encode identically");

  if (st_bitfield_union(&bf, &bf, &tmp, &err) || !st_bitfield_equal(&tmp, &bf)) die("a | a != a");
  if (st_bitfield_intersect(&bf, &bf, &tmp, &err) || !st_bitfield_equal(&tmp, &bf)) die("a & a != a");
  if (st_bitfield_subtract(&bf, &bf, &tmp, &err) || tmp.n != 0) die("a - a != {}");

  for (size_t i = 0; i < bf.n && i < 64; i++) {
    const st_run *r = &bf.runs[i];
    uint64_t last = r->start + r->len - 1;
    if (!st_bitfield_has(&bf, r->start) || !st_bitfield_has(&bf, last)) die("st_bitfield_has misses a set bit");
    if (r->start > 0 && st_bitfield_has(&bf, r->start - 1)) die("st_bitfield_has reports the bit before a run");
    if (last + 1 < UINT64_MAX && st_bitfield_has(&bf, last + 1)) die("st_bitfield_has reports the bit after a run");
  }

  if (bf.n <= 256) {
    st_buf txt = ST_BUF_INIT;
    st_bitfield_format_ranges(&bf, &txt);
    if (st_buf_status(&txt, NULL)) die("st_bitfield_format_ranges failed");
    if (st_bitfield_parse_ranges(st_buf_cstr(&txt), &tmp, &err) || !st_bitfield_equal(&tmp, &bf)) {
      fprintf(stderr, "fuzz_rleplus: \"%.200s\": %s\n", st_buf_cstr(&txt), err.msg);
      die("range notation does not round-trip");
    }
    st_buf_free(&txt);
  }

out:
  st_bitfield_free(&bf);
  st_bitfield_free(&bf2);
  st_bitfield_free(&tmp);
  st_buf_free(&enc);
  st_buf_free(&enc2);
  return 0;
}
