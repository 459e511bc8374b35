/* st_actors: the storage power consensus actors: power (CreateMiner, claims), miner (sectors,
 * deadlines, proofs, faults, funds), reward (block rewards) and cron (deadline ends).
 *
 * Method numbers and parameter layouts are Filecoin's (filecoin-facts.md section 6;
 * go-state-types miner/power types); the rules, and where they are simpler than Filecoin's,
 * are in docs/consensus.md. Methods run inside st_vm_apply: they return an exit code and say
 * why in vm->why; a non-zero exit undoes everything but the fee. */
#ifndef ST_ACTORS_H
#define ST_ACTORS_H

#include <gmp.h>
#include <stdint.h>

#include "chain/st_miner_state.h"
#include "chain/st_state.h"
#include "chain/st_vm.h"
#include "core/st_err.h"

/* Gas a consensus method costs beyond ST_GAS_CALL. */
#define ST_GAS_STATE_READ_PER_BYTE 1
#define ST_GAS_STATE_WRITE_PER_BYTE 10
#define ST_GAS_VERIFY_SEAL 20000000
#define ST_GAS_VERIFY_POST_PER_SECTOR 500000

#define ST_POSTED_PARTITIONS_MAX 3 /* PoStedPartitionsMax: partitions per SubmitWindowedPoSt */

int64_t st_power_create_miner(st_vm_call *c);
int64_t st_miner_control_addresses(st_vm_call *c);
int64_t st_miner_change_worker_address(st_vm_call *c);
int64_t st_miner_submit_windowed_post(st_vm_call *c);
int64_t st_miner_precommit_sector(st_vm_call *c);
int64_t st_miner_prove_commit_sector(st_vm_call *c);
int64_t st_miner_declare_faults(st_vm_call *c);
int64_t st_miner_declare_faults_recovered(st_vm_call *c);
int64_t st_miner_withdraw_balance(st_vm_call *c);
int64_t st_miner_change_multiaddrs(st_vm_call *c);

/* The reward actor pays a block's miner network block_reward x win_count (what is left of its
 * balance if less). Called once per block of a tipset, after its messages. */
st_code st_actors_award_block(st_vm *vm, uint64_t miner, int64_t win_count, st_err *err);
/* Cron at epoch: every miner whose deadline ends at epoch (its last epoch) is processed:
 * unproven partitions turn faulty, faulty sectors pay the fault fee, sectors faulty past the
 * maximum age are terminated, expired sectors and pre-commits are removed, the proving period
 * rolls over after the last deadline, and a pending worker change takes effect. */
st_code st_actors_cron(st_vm *vm, int64_t epoch, st_err *err);

/* Stores the encoded object b and points actor id at it (gas, if given, pays for the bytes). */
st_code st_actors_store_head(st_vm *vm, uint64_t id, const st_buf *b, int64_t *gas, st_err *err);

/* Reading state (for the chain's election checks and the API). env may be the one a VM uses. */
st_code st_actors_load_miner(const st_vm_env *env, st_state *s, uint64_t miner, st_miner_state *out, st_err *err);
st_code st_actors_load_power(const st_vm_env *env, st_state *s, st_power_state *out, st_err *err);

#endif
