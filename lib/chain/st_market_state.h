/* st_market_state: the state of the storage market actor (t05) and of the verified registry
 * actor (t06): their layouts, encodings and lookups, for the actors (st_market) and the API.
 *
 * One CBOR object per actor, as the miner's (docs/consensus.md):
 *   market   [next_deal_id, [[id, escrow, locked]...], [deal...]]
 *            deal = [id, proposal, proposal_cid, sector_start, last_updated, slash_epoch, sector]
 *   verifreg [[[verifier, allowance]...], [[client, datacap]...]] */
#ifndef ST_MARKET_STATE_H
#define ST_MARKET_STATE_H

#include <gmp.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/st_deal.h"
#include "core/st_buf.h"
#include "core/st_err.h"

typedef struct st_market_balance {
  uint64_t id;
  mpz_t escrow, locked;
} st_market_balance;

typedef struct st_market_deal {
  uint64_t id;
  st_deal_proposal proposal; /* Client and Provider as ID addresses */
  st_cid proposal_cid;       /* of the proposal as the client signed it */
  int64_t sector_start;      /* -1 until activated */
  int64_t last_updated;      /* the epoch paid up to; -1 before the first payment */
  int64_t slash_epoch;       /* -1 unless its sector was terminated */
  uint64_t sector;           /* 0 until activated */
} st_market_deal;

typedef struct st_market_state {
  uint64_t next_deal_id;
  st_market_balance *balances; /* sorted by id */
  size_t nbalances;
  st_market_deal *deals; /* sorted by id */
  size_t ndeals;
} st_market_state;

void st_market_state_init(st_market_state *m);
void st_market_state_free(st_market_state *m);
void st_market_state_encode(const st_market_state *m, st_buf *out);
/* The decoders and loaders initialise their out: the state, or empty on failure (st_err.h). */
st_code st_market_state_decode(const uint8_t *p, size_t len, st_market_state *m, st_err *err);
st_market_deal *st_market_deal_of(const st_market_state *m, uint64_t id);
/* Zeros for an address the market has never seen. */
void st_market_balance_of(const st_market_state *m, uint64_t id, mpz_t escrow, mpz_t locked);
/* {"Proposal": ..., "State": {"SectorStartEpoch", "LastUpdatedEpoch", "SlashEpoch"}}: Lotus's. */
json_t *st_market_deal_to_json(const st_market_deal *d);

typedef struct st_verifreg_entry {
  uint64_t id;
  mpz_t amount;
} st_verifreg_entry;

typedef struct st_verifreg_state {
  st_verifreg_entry *verifiers, *clients; /* sorted by id */
  size_t nverifiers, nclients;
} st_verifreg_state;

void st_verifreg_state_init(st_verifreg_state *v);
void st_verifreg_state_free(st_verifreg_state *v);
void st_verifreg_state_encode(const st_verifreg_state *v, st_buf *out);
st_code st_verifreg_state_decode(const uint8_t *p, size_t len, st_verifreg_state *v, st_err *err);
/* The entry for id, or NULL. */
st_verifreg_entry *st_verifreg_find(st_verifreg_entry *list, size_t n, uint64_t id);

/* Changes, keeping each list sorted by id. The balance or entry of id is added, at zero, if
 * missing; NULL on out of memory. A deal is appended not activated, not paid, not slashed
 * (give it next_deal_id); NULL on out of memory. */
st_market_balance *st_market_balance_add(st_market_state *m, uint64_t id);
st_market_deal *st_market_deal_append(st_market_state *m);
void st_market_deal_remove(st_market_state *m, size_t i);
st_verifreg_entry *st_verifreg_entry_add(st_verifreg_entry **list, size_t *n, uint64_t id);
void st_verifreg_entry_remove(st_verifreg_entry *list, size_t *n, uint64_t id);

#endif
