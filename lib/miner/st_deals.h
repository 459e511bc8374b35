/* st_deals: the storage deals a miner takes (the provider side of the market).
 *
 * A client sends a signed ClientDealProposal with the piece's bytes (Filecoin moves them with
 * graphsync; here they come in the same call, see docs/market.md). st_deals_accept checks it
 * against the data and the chain before anything is stored, and says why it refuses:
 *   the provider is this miner; the piece fits a sector; the data's CommP is the PieceCID and
 *   its size the PieceSize; the client's key signed it; the start leaves time to seal; the
 *   end outlives a sector's minimum life; the client's free escrow covers price x duration +
 *   collateral; a verified deal is within the client's datacap.
 * An accepted deal is a row of the miner's sealing database (table deals) and a file of the
 * piece's bytes under the miner repo (deals/<proposal CID>). st_deals_step, on the sealer's
 * thread, moves each deal on, with Lotus's state names:
 *   StorageDealPublish     the provider's collateral is ensured in escrow (AddBalance), then
 *                          PublishStorageDeals is sent (never twice: a deal already on chain
 *                          is found by its proposal, a message waiting in the pool is reused)
 *   StorageDealPublishing  waiting for it; the receipt gives the deal ID
 *   StorageDealSealing     the piece is in a new sector (st_sealer_add_deal)
 *   StorageDealActive      the sector is Proving (the chain activated the deal at ProveCommit)
 *   StorageDealError       refused on chain, or dropped by it (its sector was not proven by the
 *                          deal's start); the message says why */
#ifndef ST_DEALS_H
#define ST_DEALS_H

#include <gmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "chain/st_network.h"
#include "codec/st_address.h"
#include "codec/st_cid.h"
#include "core/st_err.h"
#include "miner/st_sealer.h"
#include "proofs/st_sector.h"
#include "rpc/st_rpc_client.h"

typedef struct st_deals_cfg {
  uint64_t miner;
  const st_sector_info *info;
  st_address sender;   /* the worker's key address: it publishes */
  const char *dir;     /* where the pieces' bytes are kept (<repo>/deals); copied */
  int64_t seal_epochs; /* epochs a deal's start must leave for sealing it */
  mpz_srcptr max_fee;  /* per message (NULL: no cap) */
} st_deals_cfg;

typedef struct st_deals st_deals;

/* The epochs a deal's start must leave for sealing its sector on net: the pre-commit, the
 * seed's delay, the confidence waits and the prove-commit, with a margin. */
int64_t st_deal_seal_epochs(const st_network *net, int64_t confidence);

/* Opens (creating) the deals table in the sealing database at db_path. cfg is copied; its
 * pointers must outlive it. */
st_code st_deals_open(const st_deals_cfg *cfg, const char *db_path, st_deals **out, st_err *err);
void st_deals_close(st_deals *d);

typedef struct st_deal_record {
  char proposal_cid[ST_CID_STR_MAX];
  char client[ST_ADDR_STR_MAX];
  char piece_cid[ST_CID_STR_MAX];
  uint64_t piece_size, payload_size;
  bool verified;
  int64_t start_epoch, end_epoch;
  char price[48]; /* attoFIL per epoch */
  char state[32];
  char message[512];
  int64_t deal_id; /* -1 until published */
  int64_t sector;  /* -1 until placed */
  char publish_cid[ST_CID_STR_MAX];
  int64_t created, updated; /* unix seconds */
} st_deal_record;

/* Checks the proposal (CBOR ClientDealProposal) and its data (the client's raw bytes) against
 * the chain as node sees it, then stores both; *out gets the new record (zeroed on failure). A
 * refusal is ST_EINVAL naming the reason; nothing is stored then. A proposal received before is
 * ST_EEXIST. */
st_code st_deals_accept(st_deals *d, st_rpc_client *node, const uint8_t *proposal, size_t plen, const uint8_t *data,
                        size_t dlen, st_deal_record *out, st_err *err);
/* Moves every deal on as far as the chain allows (see above); *changed counts state changes
 * (on failure, those made before it). */
st_code st_deals_step(st_deals *d, st_rpc_client *node, st_sealer *sealer, int *changed, st_err *err);
/* Every deal, newest first. Caller frees *out. */
st_code st_deals_list(st_deals *d, st_deal_record **out, size_t *n, st_err *err);
/* The deal of proposal_cid; *found is false (and *out zeroed) when there is none. */
st_code st_deals_get(st_deals *d, const char *proposal_cid, st_deal_record *out, bool *found, st_err *err);
/* The deal holding piece_cid whose sector is placed (for retrieval); the most recent one. */
st_code st_deals_by_piece(st_deals *d, const char *piece_cid, st_deal_record *out, bool *found, st_err *err);
/* The file holding a deal's piece bytes. */
void st_deals_piece_path(const st_deals *d, const char *proposal_cid, char out[ST_PATH_MAX]);

#endif
