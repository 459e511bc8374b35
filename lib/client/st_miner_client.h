/* st_miner_client: a miner's own JSON-RPC API (lib/miner/st_miner_api), called from C, typed.
 *
 * The storage client reaches a miner at the deal address the miner announced on chain
 * (StateMinerInfo's first multiaddr), without a token: the market methods are open, as
 * Filecoin's deal protocol is. `spacetime devnet` reaches its own miners through their repos'
 * api and token files, for the operator's calls (pledge, sectors, the poster's counters).
 * JSON stays in this module, except the miner's record of a proposed deal, which `client deal
 * --json` prints as the miner wrote it (its writer is the miner's, lib/miner/st_miner_api).
 * Every error names the miner ("miner t01000: ..."). */
#ifndef ST_MINER_CLIENT_H
#define ST_MINER_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/st_deal.h"
#include "codec/st_address.h"
#include "codec/st_cid.h"
#include "core/st_buf.h"
#include "core/st_err.h"
#include "rpc/st_apiinfo.h"
#include "rpc/st_rpc_client.h"

/* A connection to one miner's API; close it with st_miner_client_close (also after a failed
 * open: it is zero then). */
typedef struct st_miner_client {
  st_rpc_client *rpc;
  char name[ST_ADDR_STR_MAX];    /* the miner, for errors */
  char url[ST_APIINFO_ADDR_MAX]; /* the API's base URL, e.g. "http://127.0.0.1:2345" */
} st_miner_client;

/* The deal endpoint miner (its address as the user wrote it, e.g. "t01000") announced on
 * chain, through node. A node that fails passes its error on; a
 * miner that announced nothing is ST_ENOENT: "miner t01000: miner t01000 has announced no deal
 * address on chain (is its 'spacetime-miner run' up?)". */
st_code st_miner_client_announced(st_rpc_client *node, const char *miner, st_miner_client *out, st_err *err);
/* The API at info (a miner repo's, through st_apiinfo_resolve); name is the miner, for errors. */
st_code st_miner_client_open(const st_apiinfo *info, const char *name, st_miner_client *out, st_err *err);
void st_miner_client_close(st_miner_client *m);

/* MarketGetAsk: what the miner takes. Zero on failure. */
typedef struct st_miner_ask {
  uint64_t max_piece;  /* padded bytes */
  int64_t start_delay; /* epochs a deal's start must leave for sealing */
  int64_t min_life;    /* epochs: a deal lasts as long as its sector, at least this */
} st_miner_ask;
st_code st_miner_client_ask(st_miner_client *m, st_miner_ask *out, st_err *err);

/* The miner's view of one deal (MarketProposeDeal, MarketDealStatus), Lotus's state names. */
typedef struct st_miner_deal {
  char proposal_cid[ST_CID_STR_MAX];
  char state[64];    /* "StorageDealPublish", ..., "StorageDealActive", "StorageDealError" */
  char message[512]; /* why, for an error */
  int64_t deal_id;   /* -1 until published */
  int64_t sector;    /* -1 until the piece is in a sector */
} st_miner_deal;

/* MarketProposeDeal: the signed proposal with the piece's bytes; the miner checks both against
 * the chain and stores them. A refusal reads "miner t01000 refused the deal: <why>". out is
 * zero and *reply NULL on failure; else *reply is the miner's whole record of the deal as it
 * wrote it (json_decref it). */
st_code st_miner_client_propose(st_miner_client *m, const st_client_deal *d, const uint8_t *data, size_t len,
                                st_miner_deal *out, json_t **reply, st_err *err);
/* MarketDealStatus: the deal with this proposal CID. Zero on failure. */
st_code st_miner_client_deal(st_miner_client *m, const char *proposal_cid, st_miner_deal *out, st_err *err);
/* GET /piece/<piece CID>: the piece's bytes, unsealed by the miner, appended to out (as the
 * miner sent them: the caller checks them). Another status than 200 is "HTTP 404: <body>". */
st_code st_miner_client_piece(st_miner_client *m, const char *piece_cid, st_buf *out, st_err *err);

/* SectorsList: the numbers of the sectors in the miner's sealing database (free(); NULL and 0
 * on failure or when it has none). */
st_code st_miner_client_sectors(st_miner_client *m, uint64_t **out, size_t *n, st_err *err);
/* PledgeSector: a new committed-capacity sector; *number is its number (0 on failure). */
st_code st_miner_client_pledge(st_miner_client *m, uint64_t *number, st_err *err);
/* SectorsSummary: how many sectors are in each sealing state, in the miner's order (free();
 * NULL and 0 on failure). */
typedef struct st_miner_state_count {
  char state[64];
  int64_t count;
} st_miner_state_count;
st_code st_miner_client_summary(st_miner_client *m, st_miner_state_count **out, size_t *n, st_err *err);
/* MinerRunInfo: the poster's counters. Zero on failure. */
typedef struct st_miner_poster_counts {
  int64_t posts_landed, blocks_mined, last_mined_height;
} st_miner_poster_counts;
st_code st_miner_client_poster(st_miner_client *m, st_miner_poster_counts *out, st_err *err);

#endif
