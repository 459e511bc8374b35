/* fuzz_chain_types: the chain-object decoders of st_chain_types on arbitrary bytes.
 * Oracle: the decoders accept only canonical, exactly-shaped input, so anything a decoder
 * accepts (message, signed message, block header, receipt, actor) must re-encode to exactly
 * the input bytes, and a message's st_message_size must equal that length. A rejection must
 * carry a message. Traps (abort) on any failure. */
#include <stdio.h>
#include <string.h>

#include "chain/st_chain_types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *what, st_code rc, const st_err *err, const st_buf *enc, const uint8_t *data,
                  size_t size) {
  if (rc) {
    if (!err->msg[0]) {
      fprintf(stderr, "fuzz_chain_types: %s: rejection without a message\n", what);
      __builtin_trap();
    }
    return;
  }
  if (enc->len != size || memcmp(enc->data, data, size)) {
    fprintf(stderr, "fuzz_chain_types: %s: accepted input does not re-encode to itself\n", what);
    __builtin_trap();
  }
}

static void reencode_failed(const char *what, const st_err *err) {
  fprintf(stderr, "fuzz_chain_types: %s: accepted but cannot re-encode: %s\n", what, err->msg);
  __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  st_err err;
  st_buf enc = ST_BUF_INIT;

  st_message m;
  st_message_init(&m);
  err.msg[0] = 0;
  st_code rc = st_message_decode(data, size, &m, &err);
  if (!rc) {
    if (st_message_encode(&m, &enc, &err)) reencode_failed("message", &err);
    if (st_message_size(&m) != size) __builtin_trap();
  }
  check("message", rc, &err, &enc, data, size);
  st_message_free(&m);

  st_signed_message sm;
  st_signed_message_init(&sm);
  st_buf_reset(&enc);
  err.msg[0] = 0;
  rc = st_signed_message_decode(data, size, &sm, &err);
  if (!rc && st_signed_message_encode(&sm, &enc, &err)) reencode_failed("signed message", &err);
  check("signed message", rc, &err, &enc, data, size);
  st_signed_message_free(&sm);

  st_block_header h;
  st_block_header_init(&h);
  st_buf_reset(&enc);
  err.msg[0] = 0;
  rc = st_block_header_decode(data, size, &h, &err);
  if (!rc && st_block_header_encode(&h, &enc, &err)) reencode_failed("block header", &err);
  check("block header", rc, &err, &enc, data, size);
  st_block_header_free(&h);

  st_receipt r;
  st_receipt_init(&r);
  st_buf_reset(&enc);
  err.msg[0] = 0;
  rc = st_receipt_decode(data, size, &r, &err);
  if (!rc && st_receipt_encode(&r, &enc, &err)) reencode_failed("receipt", &err);
  check("receipt", rc, &err, &enc, data, size);
  st_receipt_free(&r);

  st_actor a;
  st_actor_init(&a);
  st_buf_reset(&enc);
  err.msg[0] = 0;
  rc = st_actor_decode(data, size, &a, &err);
  if (!rc && st_actor_encode(&a, &enc, &err)) reencode_failed("actor", &err);
  check("actor", rc, &err, &enc, data, size);
  st_actor_free(&a);

  st_buf_free(&enc);
  return 0;
}
