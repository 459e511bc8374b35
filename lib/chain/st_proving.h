/* st_proving: the miner actor's proving methods, for the method table (st_methods): a
 * deadline's WindowPoSt and the declarations of faults and recoveries. Method numbers and
 * parameters are Filecoin's (go-state-types miner); they run inside st_vm_apply (st_actors.h
 * says how methods report). */
#ifndef ST_PROVING_H
#define ST_PROVING_H

#include <stdint.h>

#include "chain/st_vm.h"

/* SubmitWindowedPoSt (method 5): up to ST_POSTED_PARTITIONS_MAX partitions of the deadline open
 * now, proven with the chain's randomness at its challenge; skipped sectors become faults. */
int64_t st_miner_submit_windowed_post(st_vm_call *c);
/* DeclareFaults (10) and DeclareFaultsRecovered (11), each for a deadline before its cutoff. */
int64_t st_miner_declare_faults(st_vm_call *c);
int64_t st_miner_declare_faults_recovered(st_vm_call *c);

/* Gas a WindowPoSt costs to verify, per sector it proves (beyond ST_GAS_CALL). */
#define ST_GAS_VERIFY_POST_PER_SECTOR 500000

#endif
