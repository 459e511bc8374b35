/* st_client_deal: the storage client's side of a deal, for `spacetime client import|deal|
 * list-deals|retrieve`.
 *
 * A deal (docs/market.md): the file's piece commitment; the deal address the miner announced
 * on chain and its ask (piece size, start delay, minimum life); the client's datacap (for a
 * verified deal) and free escrow, checked here so that a refusal says why before anything is
 * sent; the proposal signed by the node's wallet; MarketProposeDeal to the miner with the
 * file's bytes; the deal recorded in the client's records (st_client_store). Listing asks each
 * recorded deal's miner for its state and the chain for the published deal. Retrieval asks the
 * miner for the piece and keeps the bytes only if their CommP is the piece CID.
 * The daemon is reached through st_node_api, the miner through st_miner_client. Errors are the
 * lines `spacetime client` prints after "ERROR: ". */
#ifndef ST_CLIENT_DEAL_H
#define ST_CLIENT_DEAL_H

#include <gmp.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/st_client_store.h"
#include "client/st_miner_client.h"
#include "core/st_err.h"
#include "rpc/st_node_api.h"
#include "rpc/st_rpc_client.h"

/* CommP of file, recorded in repo's client records; out is the import (zero on failure). */
st_code st_client_import_file(const char *repo, const char *file, st_client_import *out, st_err *err);

typedef struct st_client_deal_opts {
  const char *file;
  const char *miner;                                        /* the provider, e.g. "t01000" */
  const char *from;                                         /* the client; NULL: the wallet's default address */
  mpz_srcptr price, provider_collateral, client_collateral; /* attoFIL; the price per epoch */
  int64_t duration;                                         /* epochs, at least 1 */
  bool verified;
  bool has_start; /* start_epoch given; else as soon as the miner can seal */
  int64_t start_epoch;
  const char *label;            /* NULL: the file's name */
  const char *manual_piece_cid; /* NULL: the file's CommP */
} st_client_deal_opts;

/* A proposed deal: what was recorded, where the miner is, and its answer. */
typedef struct st_client_proposed {
  st_client_deal_record record;
  char miner_url[ST_APIINFO_ADDR_MAX];
  st_miner_deal deal;
  json_t *reply; /* the miner's record of the deal as it wrote it (st_miner_client_propose) */
} st_client_proposed;

/* Proposes a deal (the checks and steps above) and records it in repo's client records. out
 * is zero on failure; free it with st_client_proposed_free either way. A deal the miner took
 * but the records refused is "the deal was proposed, but the client's records: ...". */
st_code st_client_propose(st_rpc_client *node, const char *repo, const st_client_deal_opts *o, st_client_proposed *out,
                          st_err *err);
void st_client_proposed_free(st_client_proposed *p);

/* A recorded deal with its miner's view and the chain's. */
typedef struct st_client_deal_status {
  st_client_deal_record record;
  bool reachable;     /* the miner answered; else deal.state is "(miner unreachable)", deal_id -1 */
  st_miner_deal deal; /* the miner's view */
  bool on_chain;      /* the chain holds deal.deal_id */
  st_node_deal_state chain;
} st_client_deal_status;
/* Every deal in repo's client records, oldest first (free(); NULL and 0 on failure or when
 * there is none). Only the records failing is an error: a miner or a chain that does not
 * answer leaves reachable or on_chain false. */
st_code st_client_deals(st_rpc_client *node, const char *repo, st_client_deal_status **out, size_t *n, st_err *err);

/* Fetches piece_cid (a piece CID) from miner (NULL: the miner of this client's latest deal for
 * it), checks its CommP and writes it to path. *bytes is its length (0 on failure); miner_used
 * names the miner asked ("" when none was found). */
st_code st_client_retrieve(st_rpc_client *node, const char *repo, const char *piece_cid, const char *miner,
                           const char *path, char miner_used[ST_ADDR_STR_MAX], size_t *bytes, st_err *err);

#endif
