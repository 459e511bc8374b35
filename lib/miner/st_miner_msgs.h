/* st_miner_msgs: the parameters of the messages a miner sends, CBOR-encoded in Filecoin's
 * layouts (go-state-types miner and power params; docs/consensus.md), with their method
 * numbers. The actors in lib/chain/st_actors decode the same bytes. */
#ifndef ST_MINER_MSGS_H
#define ST_MINER_MSGS_H

#include <stdint.h>

#include "codec/st_address.h"
#include "codec/st_bitfield.h"
#include "codec/st_cid.h"
#include "core/st_buf.h"
#include "core/st_err.h"

enum {
  ST_METHOD_CREATE_MINER = 2, /* on the power actor, t04 */
  ST_METHOD_CHANGE_WORKER = 3,
  ST_METHOD_SUBMIT_WINDOWED_POST = 5,
  ST_METHOD_PRECOMMIT_SECTOR = 6,
  ST_METHOD_PROVE_COMMIT_SECTOR = 7,
  ST_METHOD_DECLARE_FAULTS = 10,
  ST_METHOD_DECLARE_FAULTS_RECOVERED = 11,
  ST_METHOD_WITHDRAW_BALANCE = 16,
  ST_METHOD_CHANGE_MULTIADDRS = 18,
};

/* CreateMinerParams: [Owner, Worker, WindowPoStProofType, Peer, Multiaddrs (empty)]. */
void st_params_create_miner(const st_address *owner, const st_address *worker, int64_t window_proof,
                            const uint8_t *peer, size_t peer_len, st_buf *out);

/* SectorPreCommitInfo: [SealProof, SectorNumber, SealedCID, SealRandEpoch, DealIDs (empty),
 * Expiration, ReplaceCapacity false, 0, 0, 0]. */
void st_params_precommit(int64_t seal_proof, uint64_t sector, const uint8_t comm_r[32], int64_t seal_rand_epoch,
                         const uint64_t *deals, size_t ndeals, int64_t expiration, st_buf *out);

/* ChangeMultiaddrs: [[addr]], one binary multiaddr. */
void st_params_change_multiaddrs(const uint8_t *addr, size_t len, st_buf *out);
/* ProveCommitSectorParams: [SectorNumber, Proof]. */
void st_params_prove_commit(uint64_t sector, const uint8_t *proof, size_t len, st_buf *out);

/* SubmitWindowedPoStParams: [Deadline, [[Index, Skipped]...], [[PoStProof, ProofBytes]],
 * ChainCommitEpoch, ChainCommitRand]. */
typedef struct st_post_partition {
  uint64_t index;
  const st_bitfield *skipped; /* NULL: none */
} st_post_partition;
st_code st_params_window_post(uint64_t deadline, const st_post_partition *parts, size_t nparts, int64_t post_proof,
                              const uint8_t *proof, size_t len, int64_t commit_epoch, const uint8_t commit_rand[32],
                              st_buf *out, st_err *err);

/* DeclareFaultsParams / DeclareFaultsRecoveredParams: [[[Deadline, Partition, Sectors]...]]. */
typedef struct st_fault_decl {
  uint64_t deadline, partition;
  const st_bitfield *sectors;
} st_fault_decl;
st_code st_params_fault_decls(const st_fault_decl *decls, size_t n, st_buf *out, st_err *err);

#endif
