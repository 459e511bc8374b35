/* st_actors: the storage power consensus actors' methods: power (CreateMiner, claims) and the
 * miner's info, funds and sectors (pre-commit, prove-commit). The miner's proving methods
 * (posts, faults) are in st_proving, the reward and cron actors in st_cron; the state objects
 * are read and written through st_actor_state.
 *
 * Method numbers and parameter layouts are Filecoin's (filecoin-facts.md section 6;
 * go-state-types miner/power types); the rules, and where they are simpler than Filecoin's,
 * are in docs/consensus.md. Methods run inside st_vm_apply: they return an exit code and say
 * why in vm->why; a non-zero exit undoes everything but the fee. */
#ifndef ST_ACTORS_H
#define ST_ACTORS_H

#include <gmp.h>
#include <stdint.h>

#include "chain/st_deadline.h" /* ST_POSTED_PARTITIONS_MAX, for the miner's poster */
#include "chain/st_vm.h"
#include "core/st_err.h"

/* Gas a seal proof costs to verify, beyond ST_GAS_CALL (state is priced in st_actor_state.h). */
#define ST_GAS_VERIFY_SEAL 20000000

int64_t st_power_create_miner(st_vm_call *c);
int64_t st_miner_control_addresses(st_vm_call *c);
int64_t st_miner_change_worker_address(st_vm_call *c);
int64_t st_miner_precommit_sector(st_vm_call *c);
int64_t st_miner_prove_commit_sector(st_vm_call *c);
int64_t st_miner_withdraw_balance(st_vm_call *c);
int64_t st_miner_change_multiaddrs(st_vm_call *c);

#endif
