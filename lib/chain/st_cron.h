/* st_cron: the reward actor (block rewards) and the cron actor (every epoch: the market's
 * settlement, then the miners whose deadline ends), run by the chain around a tipset's
 * messages. The rules are in docs/consensus.md.
 *
 * It sits beside the miner's methods (st_actors), not above them: both reach the miner's state
 * through st_actor_state, and the market's through st_market. */
#ifndef ST_CRON_H
#define ST_CRON_H

#include <stdint.h>

#include "chain/st_vm.h"
#include "core/st_err.h"

/* The reward actor pays a block's miner network block_reward x win_count (what is left of its
 * balance if less). Called once per block of a tipset, after its messages. */
st_code st_actors_award_block(st_vm *vm, uint64_t miner, int64_t win_count, st_err *err);
/* Cron at epoch: the market settles its deals (st_market_cron), then every miner whose deadline
 * ends at epoch (its last epoch) is processed: unproven partitions turn faulty, faulty sectors
 * pay the fault fee, sectors faulty past the maximum age are terminated, expired sectors and
 * pre-commits are removed, the proving period rolls over after the last deadline, and a pending
 * worker change takes effect. Without an environment (vm->env NULL) it does nothing. */
st_code st_actors_cron(st_vm *vm, int64_t epoch, st_err *err);

#endif
