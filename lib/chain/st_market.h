/* st_market: the storage market actor (t05) and the verified registry actor (t06).
 *
 * The market holds every client's and provider's escrow (the actor's balance) and what of it
 * is locked by deals; PublishStorageDeals checks the client's signature, the funds and, for a
 * verified deal, the client's datacap, and records the deals. The miner actor calls in
 * directly (not by message, as Filecoin's internal sends): at PreCommit the deals are checked
 * against the sector and give its comm_d (ComputeDataCommitment); at ProveCommit they are
 * activated and give the sector's deal weights (so quality-adjusted power: x10 verified); when
 * a sector is terminated early its deals are slashed. Cron settles every deal each epoch: the
 * client pays the provider price x epochs, expired deals release their collateral, deals not
 * activated by their start epoch are dropped (the provider's collateral burnt, the client's
 * funds and datacap returned).
 *
 * The verified registry: the network's root key (network parameter verifreg-root, an account
 * ID) adds verifiers with an allowance; verifiers grant datacap to clients; a verified deal
 * uses the client's datacap at publish.
 *
 * Method numbers and parameters are Filecoin's (go-state-types builtin market and verifreg).
 * State layouts (one CBOR object per actor, as the miner's; docs/consensus.md):
 *   market   [next_deal_id, [[id, escrow, locked]...], [deal...]]
 *            deal = [id, proposal, proposal_cid, sector_start, last_updated, slash_epoch, sector]
 *   verifreg [[[verifier, allowance]...], [[client, datacap]...]] */
#ifndef ST_MARKET_H
#define ST_MARKET_H

#include <gmp.h>
#include <jansson.h>

#include "chain/st_deal.h"
#include "chain/st_vm.h"
#include "codec/st_bitfield.h"

enum {
  ST_METHOD_MARKET_ADD_BALANCE = 2,
  ST_METHOD_MARKET_WITHDRAW_BALANCE = 3,
  ST_METHOD_MARKET_PUBLISH_STORAGE_DEALS = 4,
  ST_METHOD_VERIFREG_ADD_VERIFIER = 2,
  ST_METHOD_VERIFREG_REMOVE_VERIFIER = 3,
  ST_METHOD_VERIFREG_ADD_VERIFIED_CLIENT = 4,
};

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

/* Reading state (for the API); env may be the one a VM uses. out: as the decoders'. */
st_code st_market_load(const st_vm_env *env, st_state *s, st_market_state *out, st_err *err);
st_code st_verifreg_load(const st_vm_env *env, st_state *s, st_verifreg_state *out, st_err *err);

/* The methods, by message. */
int64_t st_market_add_balance(st_vm_call *c);
int64_t st_market_withdraw_balance(st_vm_call *c);
int64_t st_market_publish_storage_deals(st_vm_call *c);
int64_t st_verifreg_add_verifier(st_vm_call *c);
int64_t st_verifreg_remove_verifier(st_vm_call *c);
int64_t st_verifreg_add_verified_client(st_vm_call *c);

/* For the miner actor, inside its method (failures abort the call with the exit code they
 * return and vm->why set).
 * Checks that the deals can go into the miner's sector: each exists, is the miner's, is not
 * active yet, has not started, ends by expiration, and together they fit the sector; comm_d
 * gets the sector's unsealed commitment (pieces in ascending deal ID order, st_commd_of_pieces). */
int64_t st_market_verify_deals(st_vm_call *c, const char *method, uint64_t miner, const st_bitfield *deals,
                               uint64_t sector_size, int64_t expiration, uint8_t comm_d[32]);
/* Activates deals st_market_verify_deals accepted in sector at this epoch; the weights get piece
 * size x (end - this epoch), summed for unverified and verified deals. */
int64_t st_market_activate_deals(st_vm_call *c, const st_bitfield *deals, uint64_t sector, mpz_t deal_weight,
                                 mpz_t verified_weight);
/* Sectors terminated early (cron): their active deals are slashed at epoch. */
st_code st_market_sectors_terminated(st_vm *vm, uint64_t miner, const st_bitfield *deals, int64_t epoch, st_err *err);
/* Settles every deal at epoch (run by cron each epoch, null rounds too). */
st_code st_market_cron(st_vm *vm, int64_t epoch, st_err *err);

#endif
