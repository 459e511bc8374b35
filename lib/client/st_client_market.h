/* st_client_market: the messages a storage client and a verifier send: AddBalance to the
 * market's escrow (t05), and AddVerifier and AddVerifiedClient to the verified registry (t06),
 * for `spacetime client add-balance` and `spacetime filplus`; and the address a client acts
 * from (its --from, else the wallet's default), for those, `spacetime send` and a deal's
 * proposal. The node's wallet signs and sends them (st_node_push). */
#ifndef ST_CLIENT_MARKET_H
#define ST_CLIENT_MARKET_H

#include <gmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "chain/st_chain_types.h"
#include "codec/st_address.h"
#include "core/st_err.h"
#include "rpc/st_rpc_client.h"

/* The address to act from: from (as the user wrote it) when it is not NULL, else the default
 * address of node's wallet (WalletDefaultAddress). text is from as given, or the default in its
 * "t..." form. On failure *addr is zero and text ""; a bad from is st_address_parse's error,
 * a node's failure is passed on as it is. */
st_code st_client_sender(st_rpc_client *node, const char *from, st_address *addr, char text[ST_ADDR_STR_MAX],
                         st_err *err);

/* AddBalance from `from`: amount (attoFIL, positive) into who's escrow. out (a message; free it
 * with st_message_free) is initialised either way, empty on failure. */
st_code st_client_add_balance_msg(const st_address *from, const st_address *who, const mpz_t amount, st_message *out,
                                  st_err *err);
/* AddVerifier (verifier true: the root key lets a verifier grant bytes of datacap) or
 * AddVerifiedClient (a verifier grants a client bytes of datacap), from `from`. out as above. */
st_code st_client_verifreg_msg(const st_address *from, bool verifier, const st_address *a, uint64_t bytes,
                               st_message *out, st_err *err);

#endif
