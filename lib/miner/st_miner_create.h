/* st_miner_create: making a miner actor on chain, `spacetime-miner init`'s job, over the
 * daemon's API only. CreateMiner goes to the power actor from the owner (signed by the node's
 * wallet) with the funds and a random libp2p peer ID; its receipt's CreateMinerReturn names the
 * new miner's ID. Pushing and waiting are two calls so that a program can say it is waiting. */
#ifndef ST_MINER_CREATE_H
#define ST_MINER_CREATE_H

#include <gmp.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/st_address.h"
#include "codec/st_cid.h"
#include "core/st_err.h"
#include "proofs/st_sector.h"
#include "rpc/st_rpc_client.h"

/* Pushes CreateMiner (owner, worker, info's WindowPoSt proof type) from owner with funds
 * attoFIL; *cid gets the message's CID (zeroed on failure). */
st_code st_miner_create_push(st_rpc_client *node, const st_address *owner, const st_address *worker,
                             const st_sector_info *info, const mpz_t funds, st_cid *cid, st_err *err);

/* Waits (StateWaitMsg, one epoch of confidence) for CreateMiner message cid and reads the new
 * miner's ID into *miner (0 on failure). A message that failed on chain reads "CreateMiner
 * failed on chain with exit code N". */
st_code st_miner_create_wait(st_rpc_client *node, const st_cid *cid, uint64_t *miner, st_err *err);

/* CreateMinerReturn, [IDAddress, RobustAddress] in CBOR: the ID (0 on failure). */
st_code st_miner_create_return(const uint8_t *ret, size_t len, uint64_t *miner, st_err *err);

#endif
