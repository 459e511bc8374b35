/* st_methods: the actors' method table. */
#include "chain/st_methods.h"

#include "chain/st_actors.h"
#include "chain/st_market.h"
#include "chain/st_proving.h"
#include "codec/st_cbor.h"

/* account.PubkeyAddress: the account's key address. */
static int64_t account_pubkey_address(st_vm_call *c) {
  st_state_actor *a = st_state_get(c->vm->state, c->to);
  st_cbor_put_bytes(&c->ret, a->robust.bytes, a->robust.len);
  return ST_EXIT_OK;
}

/* Each method: its number, name, function and parameter layout (st_params_to_json's schema:
 * the fields of the CBOR tuple, go-state-types' names). */
typedef struct method {
  st_actor_kind kind;
  uint64_t method;
  const char *name;
  st_vm_method_fn fn;
  const char *params;
} method;

static const method METHODS[] = {
    {ST_ACTOR_ACCOUNT, 2, "PubkeyAddress", account_pubkey_address, ""},
    {ST_ACTOR_POWER, 2, "CreateMiner", st_power_create_miner,
     "Owner:a,Worker:a,WindowPoStProofType:i,Peer:b,Multiaddrs:*b"},
    {ST_ACTOR_MINER, 2, "ControlAddresses", st_miner_control_addresses, ""},
    {ST_ACTOR_MINER, 3, "ChangeWorkerAddress", st_miner_change_worker_address, "NewWorker:a,NewControlAddrs:*a"},
    {ST_ACTOR_MINER, 5, "SubmitWindowedPoSt", st_miner_submit_windowed_post,
     "Deadline:u,Partitions:[Index:u,Skipped:f],Proofs:[PoStProof:i,ProofBytes:b],ChainCommitEpoch:i,ChainCommitRand:b"},
    {ST_ACTOR_MINER, 6, "PreCommitSector", st_miner_precommit_sector,
     "SealProof:i,SectorNumber:u,SealedCID:c,SealRandEpoch:i,DealIDs:*u,Expiration:i,ReplaceCapacity:B,ReplaceSectorDeadline:u,"
     "ReplaceSectorPartition:u,ReplaceSectorNumber:u"},
    {ST_ACTOR_MINER, 7, "ProveCommitSector", st_miner_prove_commit_sector, "SectorNumber:u,Proof:b"},
    {ST_ACTOR_MINER, 10, "DeclareFaults", st_miner_declare_faults, "Faults:[Deadline:u,Partition:u,Sectors:f]"},
    {ST_ACTOR_MINER, 11, "DeclareFaultsRecovered", st_miner_declare_faults_recovered,
     "Recoveries:[Deadline:u,Partition:u,Sectors:f]"},
    {ST_ACTOR_MINER, 16, "WithdrawBalance", st_miner_withdraw_balance, "AmountRequested:t"},
    {ST_ACTOR_MINER, 18, "ChangeMultiaddrs", st_miner_change_multiaddrs, "NewMultiaddrs:*b"},
    {ST_ACTOR_MARKET, 2, "AddBalance", st_market_add_balance, "=a"},
    {ST_ACTOR_MARKET, 3, "WithdrawBalance", st_market_withdraw_balance, "ProviderOrClientAddress:a,Amount:t"},
    {ST_ACTOR_MARKET, 4, "PublishStorageDeals", st_market_publish_storage_deals,
     "Deals:[Proposal:p,ClientSignature:s]"},
    {ST_ACTOR_VERIFREG, 2, "AddVerifier", st_verifreg_add_verifier, "Address:a,Allowance:t"},
    {ST_ACTOR_VERIFREG, 3, "RemoveVerifier", st_verifreg_remove_verifier, "=a"},
    {ST_ACTOR_VERIFREG, 4, "AddVerifiedClient", st_verifreg_add_verified_client, "Address:a,Allowance:t"},
};

static const method *find(st_actor_kind kind, uint64_t number) {
  for (size_t i = 0; i < sizeof METHODS / sizeof METHODS[0]; i++)
    if (METHODS[i].kind == kind && METHODS[i].method == number) return &METHODS[i];
  return NULL;
}

bool st_vm_method_info(st_actor_kind kind, uint64_t number, const char **name, const char **params) {
  const method *m = number ? find(kind, number) : NULL;
  bool known = !number || m;
  if (name) *name = m ? m->name : known ? "Send" : NULL;
  if (params) *params = m ? m->params : known ? "" : NULL;
  return known;
}

static st_vm_method_fn lookup(st_actor_kind kind, uint64_t number) {
  const method *m = find(kind, number);
  return m ? m->fn : NULL;
}

st_code st_vm_apply(st_vm *vm, const st_message *m, size_t size, st_receipt *receipt, st_vm_fees *fees, st_err *err) {
  return st_vm_run(vm, lookup, m, size, receipt, fees, err);
}
