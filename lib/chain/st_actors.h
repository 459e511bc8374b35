/* st_actors: the storage power consensus actors' methods: power (CreateMiner, claims) and miner
 * (sectors, deadlines, proofs, faults, funds). The reward and cron actors are in st_cron; the
 * state objects are read and written through st_actor_state.
 *
 * Method numbers and parameter layouts are Filecoin's (filecoin-facts.md section 6;
 * go-state-types miner/power types); the rules, and where they are simpler than Filecoin's,
 * are in docs/consensus.md. Methods run inside st_vm_apply: they return an exit code and say
 * why in vm->why; a non-zero exit undoes everything but the fee. */
#ifndef ST_ACTORS_H
#define ST_ACTORS_H

#include <gmp.h>
#include <stdint.h>

#include "chain/st_vm.h"
#include "core/st_err.h"

/* Gas a proof costs to verify, beyond ST_GAS_CALL (state is priced in st_actor_state.h). */
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

#endif
