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
 * The two actors' state is st_market_state's. */
#ifndef ST_MARKET_H
#define ST_MARKET_H

#include <gmp.h>
#include <jansson.h>

#include "chain/st_deal.h"
#include "chain/st_market_state.h"
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
