/* st_fullnode: the daemon's JSON-RPC methods (Lotus's names and shapes, docs/lotus-api.md) over
 * the chain, the message pool and the node's wallet. One file per API group serves its slice of
 * the method table (st_fullnode_<group>.c; the node's life is in st_fullnode_common.c), and
 * st_fullnode_int.h holds what they share.
 *
 * The methods, by group (tests/node/test_fullnode.c checks this list against the table):
 *  common:  Version, AuthNew, AuthVerify.
 *  chain:   ChainHead, ChainGetGenesis, ChainGetTipSet, ChainGetTipSetByHeight, ChainGetBlock,
 *           ChainGetBlockMessages, ChainGetMessage, ChainGetParentMessages,
 *           ChainGetParentReceipts, ChainHasObj, ChainReadObj, ChainGetPath.
 *  state:   StateGetNetworkParams, StateGetActor, StateLookupID, StateAccountKey,
 *           StateDecodeParams, StateSearchMsg, StateWaitMsg, StateGetRandomnessFromTickets,
 *           StateGetRandomnessFromBeacon, StateNetworkName, StateNetworkVersion, StateListMiners,
 *           StateCirculatingSupply, StateListActors, StateCall.
 *  miner:   StateMinerInfo, StateMinerPower, StateMinerProvingDeadline, StateMinerDeadlines,
 *           StateMinerPartitions, StateMinerSectors, StateMinerActiveSectors, StateMinerFaults,
 *           StateMinerRecoveries, StateSectorGetInfo, StateSectorPreCommitInfo,
 *           StateMinerAvailableBalance, StateMinerSectorCount, StateReadState,
 *           StateMinerSectorAllocated, StateMinerPreCommitDepositForPower,
 *           StateMinerInitialPledgeCollateral.
 *  market:  StateMarketBalance, StateMarketDeals, StateMarketStorageDeal,
 *           StateVerifiedClientStatus, StateVerifierStatus, StateVerifiedRegistryRootKey.
 *  mpool:   MpoolPush, MpoolPushMessage, MpoolPending, MpoolGetNonce, GasEstimateMessageGas,
 *           GasEstimateFeeCap, GasEstimateGasPremium, MpoolSelect.
 *  wallet:  WalletNew, WalletList, WalletHas, WalletBalance, WalletDefaultAddress, WalletSign,
 *           WalletVRF, WalletExport, WalletImport, WalletSignMessage, WalletDelete.
 *  mining:  StateGetBeaconEntry (v0: BeaconGetEntry), MinerGetBaseInfo, MinerCreateBlock,
 *           SyncSubmitBlock.
 *  notify:  ChainNotify (a channel method, over WebSocket only): the first value is
 *           [{"Type":"current","Val":head}]; each head change then sends one batch: "revert"
 *           entries from the channel's previous head downward, then "apply" entries in ascending
 *           height, found by walking the blocks' Parents back to the common ancestor (at most
 *           ST_FULLNODE_NOTIFY_DEPTH tipsets each way; a deeper change is sent as one "apply" of
 *           the new head).
 * Bitfields are go-bitfield's JSON: run lengths, the first a run of zeros ({0,2,3} is
 * [0,1,1,2], the empty set [0]). Each method parses its params first (a bad one is -32602,
 * naming it) and then runs (a failure is code 1), as st_jsonrpc.h says.
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
 *  - StateNetworkVersion is ST_NETWORK_VERSION (0) at every tipset; StateCirculatingSupply is
 *    every balance less the burnt and reward actors' and what miners and the market lock
 *    (docs/lotus-api.md); StateListMiners lists every miner actor ([] when none).
 *  - StateWaitMsg waits at most ST_FULLNODE_WAIT_S (ten minutes), then fails (Lotus waits as
 *    long as the client does). Over HTTP the call is parked without a thread; at most 64 wait
 *    at once per client address (st_rpc_park.h). In a batch it is refused if it would wait.
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
 *    exactly those, in the pool's order (by sender and nonce), or the call is refused.
 *  - GasEstimateGasPremium is Lotus's median without its 0.5% random noise (the same question
 *    gets the same answer); GasEstimateFeeCap refuses more than 300 blocks of queue.
 *  - MpoolSelect ignores the ticket quality (one block per epoch here).
 *  - StateCall's ExecutionTrace holds the top call only (internal sends are not traced);
 *    GasCost is null, as Lotus's Call leaves it.
 *  - StateMinerPreCommitDepositForPower and StateMinerInitialPledgeCollateral are the network's
 *    flat sector pledge, whatever the sector (this chain's pledge rule).
 *  - ChainGetPath refuses a path of more than 20,000 tipsets.
 *  - WalletVRF (sign permission) is ours: the ECVRF proof of a wallet key (Lotus's miner gets
 *    its VRFs from WalletSign, as a BLS signature is one).
 *
 * Threads: the methods run on the API's threads; the node's pool and wallet nonces are under
 * one lock of its own, so a caller never takes it. */
#ifndef ST_FULLNODE_H
#define ST_FULLNODE_H

#include <stdint.h>

#include "chain/st_chain.h"
#include "codec/st_address.h"
#include "core/st_err.h"
#include "rpc/st_jsonrpc.h"
#include "rpc/st_jwt.h"

typedef struct st_fullnode st_fullnode;

#define ST_FULLNODE_NOTIFY_DEPTH 900
/* StateWaitMsg calls that may wait at once (each holds one of the server's threads). */
#define ST_FULLNODE_WAIT_S 600

/* The node over chain (borrowed: it must outlive the node), its wallet in keystore_dir. *out is
 * NULL on failure. */
st_code st_fullnode_new(st_chain *chain, const char *keystore_dir, const uint8_t jwt_secret[ST_JWT_SECRET_LEN],
                        const char *version, st_fullnode **out, st_err *err);
/* Wipes the secrets and frees (NULL is fine). Stop the HTTP server first. */
void st_fullnode_free(st_fullnode *n);

/* Gives the node the beacon's secret key (before serving), for StateGetBeaconEntry,
 * MinerGetBaseInfo and bootstrap blocks; NULL takes a key given before away. ST_EINVAL if its
 * public key is not the chain's beacon (the genesis's); the node keeps what it had then. */
st_code st_fullnode_set_beacon_key(st_fullnode *n, const uint8_t sk[32], st_err *err);

/* The node's method table for st_rpc (every group's slice; ctx is the node). It lives as long as
 * the node. */
const st_rpc_method *st_fullnode_methods(const st_fullnode *n, size_t *count);

/* Ends every StateWaitMsg in progress; call before stopping the HTTP server. */
void st_fullnode_stop(st_fullnode *n);

/* Call on every head change (an st_chain_head_fn, ctx the node): takes back the messages a
 * reorganisation reverted (those still valid), prunes the pool, wakes StateWaitMsg and sends the
 * change to every ChainNotify channel. */
void st_fullnode_head_changed(void *ctx, const st_tipset *head, const st_signed_message *reverted, size_t nreverted);

/* Whether the wallet holds the key of key address addr (the daemon checks its --producer). */
st_code st_fullnode_check_key(st_fullnode *n, const st_address *addr, st_err *err);

/* Builds and submits a bootstrap block for epoch (st_chain_build_block without a Miner): signed
 * by producer's key from the wallet, with the messages the pool offers and, when the node has
 * the beacon key, the beacon's entries for the rounds since the head. *nmsgs gets how many
 * messages it holds (0 on failure). */
st_code st_fullnode_bootstrap_block(st_fullnode *n, const st_address *producer, int64_t epoch, size_t *nmsgs,
                                    st_err *err);

#endif
