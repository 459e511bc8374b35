/* st_client_market: the messages a storage client and a verifier send: AddBalance to the
 * market's escrow (t05), and AddVerifier and AddVerifiedClient to the verified registry (t06),
 * for `spacetime client add-balance` and `spacetime filplus`. The node's wallet signs and
 * sends them (st_node_push). */
#ifndef ST_CLIENT_MARKET_H
#define ST_CLIENT_MARKET_H

#include <gmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "chain/st_chain_types.h"
#include "codec/st_address.h"
#include "core/st_err.h"

/* AddBalance from `from`: amount (attoFIL, positive) into who's escrow. out (a message; free it
 * with st_message_free) is initialised either way, empty on failure. */
st_code st_client_add_balance_msg(const st_address *from, const st_address *who, const mpz_t amount, st_message *out,
                                  st_err *err);
/* AddVerifier (verifier true: the root key lets a verifier grant bytes of datacap) or
 * AddVerifiedClient (a verifier grants a client bytes of datacap), from `from`. out as above. */
st_code st_client_verifreg_msg(const st_address *from, bool verifier, const st_address *a, uint64_t bytes,
                               st_message *out, st_err *err);

#endif
