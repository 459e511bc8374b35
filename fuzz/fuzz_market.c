/* fuzz_market: the market's decoders on arbitrary bytes: a ClientDealProposal (what a miner's
 * MarketProposeDeal takes from anyone), a binary multiaddr (what a client reads from
 * StateMinerInfo), and the market and verified registry state objects. Oracle: whatever a
 * decoder accepts re-encodes to exactly the input (a multiaddr through its text form); a
 * rejection carries a message. Traps (abort) on any failure. */
#include <stdio.h>
#include <string.h>

#include "chain/st_deal.h"
#include "chain/st_market.h"
#include "codec/st_multiaddr.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const char *what, st_code rc, const st_err *err, const st_buf *enc, const uint8_t *data, size_t size) {
  fuzz_same("fuzz_market", what, rc, err, enc, data, size);
}

/* The state object T's decoder (T_decode, with T_encode and T_free) on the input, and the
 * round-trip oracle on what it accepts. */
#define STATE_ROUND_TRIP(what, T)             \
  do {                                        \
    T v;                                      \
    st_buf_reset(&enc);                       \
    err.msg[0] = 0;                           \
    rc = T##_decode(data, size, &v, &err);    \
    if (!rc) T##_encode(&v, &enc);            \
    same((what), rc, &err, &enc, data, size); \
    T##_free(&v);                             \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  st_err err = {0};
  st_buf enc = ST_BUF_INIT;

  st_client_deal d;
  st_deal_proposal_init(&d.proposal);
  st_code rc = st_client_deal_decode(data, size, &d, &err);
  if (!rc) st_client_deal_encode(&d, &enc, &err);
  same("ClientDealProposal", rc, &err, &enc, data, size);
  st_deal_proposal_clear(&d.proposal);

  char text[1024];
  uint8_t back[ST_MULTIADDR_MAX];
  size_t n = 0;
  err.msg[0] = 0;
  rc = st_multiaddr_to_text(data, size, text, sizeof text, &err);
  if (!rc && (st_multiaddr_from_text(text, back, sizeof back, &n, &err) || n != size || memcmp(back, data, size))) {
    fprintf(stderr, "fuzz_market: multiaddr %s does not encode back to its bytes\n", text);
    __builtin_trap();
  }
  if (rc && !err.msg[0]) __builtin_trap();

  STATE_ROUND_TRIP("market state", st_market_state);
  STATE_ROUND_TRIP("verifreg state", st_verifreg_state);

  st_buf_free(&enc);
  return 0;
}
