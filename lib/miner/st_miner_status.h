/* st_miner_status: what `spacetime-miner info` says of a miner from the chain, read from the
 * daemon through typed calls: its power and the network's, its funds, the worker's balance and
 * its market escrow, and the figures the seed's `info` derives from them (committed, proving and
 * faulty bytes, the expected block wins a day). */
#ifndef ST_MINER_STATUS_H
#define ST_MINER_STATUS_H

#include <gmp.h>

#include "chain/st_network.h"
#include "core/st_err.h"
#include "miner/st_miner_repo.h"
#include "rpc/st_node_api.h"
#include "rpc/st_rpc_client.h"

typedef struct st_miner_status {
  st_node_power power;
  st_node_miner_funds funds;
  mpz_t available, worker, escrow, locked; /* attoFIL: the miner's available balance, the worker's, the market's */
  st_node_sector_count counts;
  st_network net;
  mpz_t committed, proving, faulty; /* bytes: live sectors, less the faulty ones, the faulty ones */
  double wins_per_day;              /* expected: ST_BLOCKS_PER_EPOCH x the QA power share x epochs a day */
} st_miner_status;

void st_miner_status_init(st_miner_status *s);
void st_miner_status_free(st_miner_status *s);

/* Reads the miner of cfg at the head: StateMinerPower, StateReadState,
 * StateMinerAvailableBalance, StateMinerSectorCount, WalletBalance (the worker),
 * StateGetNetworkParams and StateMarketBalance, in that order; the first failure is the error.
 * out must be initialised (st_miner_status_init) and may hold an earlier reading, which is
 * replaced; on failure its numbers are 0. */
st_code st_miner_status_read(st_rpc_client *node, const st_miner_config *cfg, st_miner_status *out, st_err *err);

#endif
