/* fuzz_chain_types: the chain-object decoders of st_chain_types on arbitrary bytes.
 * Oracle: the decoders accept only canonical, exactly-shaped input, so anything a decoder
 * accepts (message, signed message, block header, receipt, actor) must re-encode to exactly
 * the input bytes, and a message's st_message_size must equal that length. A rejection must
 * carry a message. Traps (abort) on any failure. */
#include <stdio.h>
#include <string.h>

#include "chain/st_chain_types.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reencode_failed(const char *what, const st_err *err) {
  fprintf(stderr, "fuzz_chain_types: %s: accepted but cannot re-encode: %s\n", what, err->msg);
  __builtin_trap();
}

/* The decoder of type T (T_decode, with T_init, T_encode and T_free) on the input, and the
 * round-trip oracle on what it accepts. */
#define ROUND_TRIP(what, T)                                              \
  do {                                                                   \
    T v;                                                                 \
    T##_init(&v);                                                        \
    st_buf_reset(&enc);                                                  \
    err.msg[0] = 0;                                                      \
    st_code r = T##_decode(data, size, &v, &err);                        \
    if (!r && T##_encode(&v, &enc, &err)) reencode_failed((what), &err); \
    fuzz_same("fuzz_chain_types", (what), r, &err, &enc, data, size);    \
    T##_free(&v);                                                        \
  } while (0)

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
  fuzz_same("fuzz_chain_types", "message", rc, &err, &enc, data, size);
  st_message_free(&m);

  ROUND_TRIP("signed message", st_signed_message);
  ROUND_TRIP("block header", st_block_header);
  ROUND_TRIP("receipt", st_receipt);
  ROUND_TRIP("actor", st_actor);

  st_buf_free(&enc);
  return 0;
}
