/* st_fullnode: the daemon's JSON-RPC methods (Lotus's names and shapes, docs/lotus-api.md) over
 * the chain, the message pool and the node's wallet.
 *
 * Chain: Version, ChainHead, ChainGetTipSet, ChainGetTipSetByHeight, ChainGetBlock,
 *   ChainGetBlockMessages, ChainGetMessage, ChainGetParentMessages, ChainGetParentReceipts,
 *   ChainGetGenesis. Pool: MpoolPush, MpoolPushMessage, MpoolPending, MpoolGetNonce.
 * Wallet: WalletNew, WalletList, WalletBalance, WalletDefaultAddress, WalletSign, WalletExport,
 *   WalletImport.
 * State: StateGetActor, StateLookupID, StateAccountKey, StateSearchMsg, StateWaitMsg.
 * ChainNotify (a channel method, over WebSocket only): the first value is
 *   [{"Type":"current","Val":head}]; each head change then sends one batch: "revert" entries from
 *   the channel's previous head downward, then "apply" entries in ascending height, found by
 *   walking the blocks' Parents back to the common ancestor (at most ST_FULLNODE_NOTIFY_DEPTH
 *   tipsets each way; a deeper change is sent as one "apply" of the new head).
 * Also GasEstimateMessageGas, SyncSubmitBlock, AuthNew, AuthVerify.
 * Storage power consensus: StateMinerInfo, StateMinerPower, StateMinerProvingDeadline,
 *   StateMinerDeadlines, StateMinerPartitions, StateMinerSectors, StateMinerActiveSectors,
 *   StateMinerFaults, StateMinerRecoveries, StateSectorGetInfo, StateSectorPreCommitInfo,
 *   StateMinerAvailableBalance, StateMinerSectorCount, StateGetRandomnessFromTickets,
 *   StateGetRandomnessFromBeacon, StateGetBeaconEntry (v0: BeaconGetEntry), MinerGetBaseInfo,
 *   MinerCreateBlock. Bitfields are go-bitfield's JSON: run lengths, the first a run of zeros
 *   ({0,2,3} is [0,1,1,2], the empty set [0]).
 *
 * Departures, each for a reason:
 *  - StateSearchMsg/StateWaitMsg name the tipset that included the message (its receipt is
 *    known as soon as the tipset forms, because the node applies a tipset when it forms it).
 *  - GasEstimateMessageGas: GasLimit is the gas the message uses on the head state x 1.25;
 *    GasPremium, when 0, is 100 attoFIL; GasFeeCap, when 0, is twice the next base fee plus the
 *    premium. Lotus estimates the premium from recent blocks, which a devnet has too few of.
 *  - MpoolPushMessage ignores MsgUuid (no idempotency across calls) and MaxFee (the fee cap
 *    is the estimate's); its refusals are the pool's words, not Lotus's.
 *  - StateGetActor, StateLookupID and WalletBalance read the state after the tipset's messages
 *    (what the next block builds on); Lotus reads the tipset's ParentStateRoot.
 *  - Version's Agent is "spacetime".
 *  - At most ST_FULLNODE_MAX_WAITS StateWaitMsg calls wait at once; more get an error that
 *    says to poll StateSearchMsg.
 *  - The miner methods read the state after the tipset, like StateGetActor. An address that is
 *    not a miner is an error in StateMinerPower too (Lotus answers zero power).
 *  - StateGetBeaconEntry and MinerGetBaseInfo's entries come from this daemon's beacon key
 *    (st_fullnode_set_beacon_key): a round that has not started by the wall clock is refused
 *    (Lotus waits for drand), and so is every call on a daemon without the key.
 *  - MinerGetBaseInfo: Sectors are all the miner's active sectors at the lookback (what our
 *    WinningPoSt proves), PrevBeaconEntry is the beacon's entry for the base tipset's height, and
 *    a miner with no sectors gets its info (EligibleForMining false) where Lotus gives null.
 *  - MinerCreateBlock: Messages null means the node chooses them from its pool; given messages
 *    are put in the pool (as MpoolPush) so SyncSubmitBlock finds them, and the block holds
 *    exactly those, in the pool's order (by sender and nonce), or the call is refused. */
#ifndef ST_FULLNODE_H
#define ST_FULLNODE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "chain/st_chain.h"
#include "chain/st_mpool.h"
#include "crypto/st_keystore.h"
#include "rpc/st_jsonrpc.h"
#include "rpc/st_jwt.h"

typedef struct st_fullnode {
  st_chain *chain;
  st_mpool *pool;
  pthread_mutex_t pool_mu; /* the pool, and the wallet's nonce assignment */
  pthread_cond_t head_cv;  /* signalled on every head change (StateWaitMsg) */
  uint64_t head_changes;
  int waiters;   /* StateWaitMsg calls in progress */
  bool stopping; /* set by st_fullnode_stop: waits end */
  st_keystore wallet;
  uint8_t jwt_secret[ST_JWT_SECRET_LEN];
  char network; /* 't' or 'f', for addresses in replies */
  const char *version;
  bool has_beacon;                   /* beacon_sk is set (st_fullnode_set_beacon_key) */
  uint8_t beacon_sk[32];             /* the beacon's secret key (st_beacon), wiped by _free */
  pthread_mutex_t notify_mu;         /* notify_subs */
  struct st_notify_sub *notify_subs; /* open ChainNotify channels */
} st_fullnode;

#define ST_FULLNODE_NOTIFY_DEPTH 900

/* The node's state for the methods; the wallet lives in keystore_dir. */
st_code st_fullnode_init(st_fullnode *n, st_chain *chain, const char *keystore_dir,
                         const uint8_t jwt_secret[ST_JWT_SECRET_LEN], const char *version, st_err *err);
void st_fullnode_free(st_fullnode *n);

/* Gives the node the beacon's secret key (before serving), for StateGetBeaconEntry and
 * MinerGetBaseInfo. ST_EINVAL if its public key is not the chain's beacon (the genesis's). */
st_code st_fullnode_set_beacon_key(st_fullnode *n, const uint8_t sk[32], st_err *err);

/* The method table for st_rpc (ctx is the st_fullnode). */
const st_rpc_method *st_fullnode_methods(size_t *n);

/* StateWaitMsg calls that may wait at once (each holds one of the server's threads). */
#define ST_FULLNODE_MAX_WAITS 4

/* Ends every StateWaitMsg in progress; call before stopping the HTTP server. */
void st_fullnode_stop(st_fullnode *n);

/* Call on every head change: takes back the messages a reorganisation reverted (those still
 * valid), prunes the pool, wakes StateWaitMsg and sends the change to every ChainNotify channel. */
void st_fullnode_head_changed(void *ctx, const st_tipset *head, const st_signed_message *reverted, size_t nreverted);

/* The wallet's default key, and signing a message with the wallet (for the daemon's producer and
 * MpoolPushMessage). */
st_code st_fullnode_wallet_key(st_fullnode *n, const st_address *addr, uint8_t sk[32], st_err *err);
/* Makes a secp256k1 key in a node's keystore folder (<repo>/keystore) while the node is not
 * running, under the name its wallet uses; *addr gets the address (spacetime devnet). */
st_code st_fullnode_wallet_new_offline(const char *keystore_dir, st_address *addr, st_err *err);

#endif
