/* st_node_api: the daemon calls made from C, typed. Each wraps one JSON-RPC method of
 * docs/lotus-api.md over st_rpc_client and turns Lotus's JSON shapes into C values, so the
 * sealer, the poster, block production, spacetime-miner's init, views and doctor, lib/client
 * and the spacetime verbs never handle the daemon's JSON. Errors carry the node's message,
 * prefixed with the method ("MinerGetBaseInfo: ..."). The miner holds no keys: messages are
 * signed by the node's wallet (MpoolPushMessage), VRFs come from WalletVRF, blocks are signed
 * by MinerCreateBlock. The calls are written by API group in st_node_api_<group>.c, as the full
 * node serves them (lib/node).
 *
 * Outputs follow st_err.h: each is initialised when a call returns, success or not. On failure a
 * number, CID, address or fixed buffer is zeroed, an mpz_t the caller passes is set to 0, an
 * allocated array is NULL with a count of 0, and a struct with _init/_free is as its _init
 * leaves it (the caller frees it either way). Where a function differs, its comment says so. */
#ifndef ST_NODE_API_H
#define ST_NODE_API_H

#include <gmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "chain/st_chain.h"
#include "chain/st_chain_types.h"
#include "chain/st_deadline.h"
#include "chain/st_deal.h"
#include "chain/st_network.h"
#include "codec/st_address.h"
#include "codec/st_bitfield.h"
#include "codec/st_cid.h"
#include "codec/st_multiaddr.h"
#include "core/st_err.h"
#include "crypto/st_keystore.h"
#include "crypto/st_vrf.h"
#include "rpc/st_rpc_client.h"

/* ChainHead: the head's height, key, parents' key and smallest ticket (its first block's). out
 * must be initialised (st_node_head_init) and may hold an earlier head, which is replaced. */
typedef struct st_node_head {
  int64_t height;
  st_tipset_key key, parents;
  st_chain_bytes min_ticket;
} st_node_head;
void st_node_head_init(st_node_head *h);
void st_node_head_free(st_node_head *h);
st_code st_node_chain_head(st_rpc_client *c, st_node_head *out, st_err *err);
/* ChainGetTipSet: the same of the tipset with key (which may be out's own parents: key is read
 * before out is replaced). */
st_code st_node_chain_tipset(st_rpc_client *c, const st_tipset_key *key, st_node_head *out, st_err *err);

/* StateGetNetworkParams: the chain's network parameters and its genesis time (both zeroed on
 * failure). */
st_code st_node_network(st_rpc_client *c, st_network *out, uint64_t *genesis_time, st_err *err);

/* MinerGetBaseInfo for miner (an ID) at round on key (NULL: the head). present is false when
 * the node answers null (the miner did not exist at the lookback). out must be initialised
 * (st_node_base_info_init) and may hold an earlier answer, which is replaced. */
typedef struct st_node_base_info {
  bool present;
  mpz_t miner_power, network_power;
  bool eligible;
  st_address worker_key;
  uint64_t sector_size;
  uint64_t *sectors; /* the active sectors at the lookback, for WinningPoSt */
  uint8_t (*comm_r)[32];
  size_t nsectors;
  st_beacon_entry *entries; /* the rounds above the base, the last one round's */
  size_t nentries;
} st_node_base_info;
void st_node_base_info_init(st_node_base_info *b);
void st_node_base_info_free(st_node_base_info *b);
st_code st_node_get_base_info(st_rpc_client *c, uint64_t miner, int64_t round, const st_tipset_key *key,
                              st_node_base_info *out, st_err *err);

/* StateGetRandomnessFromTickets (beacon false) or ...FromBeacon, on key (NULL: the head). */
st_code st_node_randomness(st_rpc_client *c, bool beacon, int64_t dst, int64_t round, const uint8_t *entropy,
                           size_t elen, const st_tipset_key *key, uint8_t out[32], st_err *err);

/* WalletVRF: the ECVRF proof by the key of addr over alpha. */
st_code st_node_vrf(st_rpc_client *c, const st_address *addr, const uint8_t *alpha, size_t alen,
                    uint8_t pi[ST_VRF_PROOF_LEN], st_err *err);

/* MpoolPushMessage: the node fills nonce and gas, signs with From's key and adds it to its
 * pool. m's nonce is ignored; gas fields left 0 are estimated (the estimate refuses a message
 * that would fail: "the message would fail with exit code 16 ..."); max_fee (NULL or 0: none)
 * caps GasFeeCap x GasLimit. *cid gets the signed message's CID. */
st_code st_node_push(st_rpc_client *c, const st_message *m, const mpz_t max_fee, st_cid *cid, st_err *err);

/* MpoolPending: whether a message from `from` to `to` with method and exactly these params is
 * waiting in the node's pool, and its CID (a sender checks before sending again; zeroed when
 * none is). */
st_code st_node_pending_find(st_rpc_client *c, const st_address *from, const st_address *to, uint64_t method,
                             const uint8_t *params, size_t len, bool *found, st_cid *cid, st_err *err);

/* st_node_push of a message from `from` to the actor with ID `to`, calling method with params
 * and no value. */
st_code st_node_send(st_rpc_client *c, const st_address *from, uint64_t to, uint64_t method, const uint8_t *params,
                     size_t len, const mpz_t max_fee, st_cid *cid, st_err *err);

/* StateSectorGetInfo, then StateSectorPreCommitInfo: whether the miner's sector is committed,
 * else the epoch it was pre-committed at (0: it is not); sealed (may be NULL) gets the sealed
 * CID the chain holds for it (zeroed when neither). */
st_code st_node_sector_on_chain(st_rpc_client *c, uint64_t miner, uint64_t sector, bool *committed,
                                int64_t *precommit_epoch, st_cid *sealed, st_err *err);

/* StateSearchMsg: found is false while the message is not on chain; else exit and height, and
 * the receipt's return value when it is at most ST_NODE_RETURN_MAX bytes (else ret_len 0). */
#define ST_NODE_RETURN_MAX 1024
typedef struct st_node_lookup {
  bool found;
  int64_t exit_code;
  int64_t height;
  uint8_t ret[ST_NODE_RETURN_MAX];
  size_t ret_len;
} st_node_lookup;
st_code st_node_search_msg(st_rpc_client *c, const st_cid *msg, st_node_lookup *out, st_err *err);

/* MinerCreateBlock with the template's Miner, Parents, Ticket, ElectionProof, BeaconEntries,
 * WinPoStProof and Height (the node picks the messages), then SyncSubmitBlock. *cid gets the
 * block's CID and *nmsgs how many messages it holds. */
st_code st_node_create_submit_block(st_rpc_client *c, const st_block_header *tmpl, st_cid *cid, size_t *nmsgs,
                                    st_err *err);

/* StateMinerProvingDeadline for miner on key (NULL: the head). */
st_code st_node_proving_deadline(st_rpc_client *c, uint64_t miner, const st_tipset_key *key, st_deadline_info *out,
                                 st_err *err);

/* StateMinerPartitions for a deadline: each partition's sets. */
typedef struct st_node_partition {
  st_bitfield all, faulty, recovering, live, active;
} st_node_partition;
void st_node_partitions_free(st_node_partition *p, size_t n);
st_code st_node_partitions(st_rpc_client *c, uint64_t miner, uint64_t deadline, const st_tipset_key *key,
                           st_node_partition **out, size_t *n, st_err *err);

/* StateMinerDeadlines: deadline's PostSubmissions (the partitions proven this period). out
 * is the caller's, initialised (st_bitfield_init); it gets the set, or is cleared on failure. */
st_code st_node_post_submissions(st_rpc_client *c, uint64_t miner, uint64_t deadline, const st_tipset_key *key,
                                 st_bitfield *out, st_err *err);
/* StateMinerDeadlines: every deadline's PostSubmissions, in deadline order (*n of them). Free
 * *out with st_node_bitfields_free. */
st_code st_node_posted(st_rpc_client *c, uint64_t miner, const st_tipset_key *key, st_bitfield **out, size_t *n,
                       st_err *err);
void st_node_bitfields_free(st_bitfield *b, size_t n);

/* StateMinerSectors over filter (NULL: all): each on-chain sector's number and comm_r, in
 * number order. */
typedef struct st_node_sector {
  uint64_t number;
  uint8_t comm_r[32];
  int64_t expiration;
} st_node_sector;
st_code st_node_sectors(st_rpc_client *c, uint64_t miner, const st_bitfield *filter, const st_tipset_key *key,
                        st_node_sector **out, size_t *n, st_err *err);

/* ---- the market, for the deals a miner takes (st_deals) ---- */

/* StateLookupID: the actor ID of a. */
st_code st_node_lookup_id(st_rpc_client *c, const st_address *a, uint64_t *id, st_err *err);
/* StateAccountKey: the key address of the account a. */
st_code st_node_account_key(st_rpc_client *c, const st_address *a, st_address *key, st_err *err);
/* StateMarketBalance: a's market escrow and what deals lock of it. */
st_code st_node_market_balance(st_rpc_client *c, const st_address *a, mpz_t escrow, mpz_t locked, st_err *err);
/* StateVerifiedClientStatus: a's datacap (0 when it has none). */
st_code st_node_datacap(st_rpc_client *c, const st_address *a, mpz_t out, st_err *err);
/* StateMarketStorageDeal: whether deal id is on chain (a refusal by the node means it is not;
 * failing to reach the node is an error). */
st_code st_node_deal_exists(st_rpc_client *c, uint64_t id, bool *found, st_err *err);
/* StateMarketDeals: the ID of the deal on chain with p's piece and epochs, client (an actor
 * ID) and provider; -1 when there is none, and on failure. */
st_code st_node_find_deal(st_rpc_client *c, const st_deal_proposal *p, uint64_t client, uint64_t provider, int64_t *id,
                          st_err *err);

/* ---- spacetime-miner: init, run's announcement, the operator views and doctor ---- */

/* StateWaitMsg: waits on the node (at most its 10 minutes) until msg is on chain with
 * confidence epochs on top; *out as st_node_search_msg's, with found true. */
st_code st_node_wait_msg(st_rpc_client *c, const st_cid *msg, int64_t confidence, st_node_lookup *out, st_err *err);

/* StateSectorGetInfo at the head: the miner's sector number, *found false when the chain has no
 * such sector (the node answers null). out is initialised by the call. */
st_code st_node_sector_info(st_rpc_client *c, uint64_t miner, uint64_t number, st_sector_onchain *out, bool *found,
                            st_err *err);

/* StateMinerInfo at the head, the parts read here: how many multiaddrs the miner announced and
 * the first one, binary (multiaddr_len 0: none), as clients dial it for deals. */
typedef struct st_node_miner_info {
  size_t nmultiaddrs;
  uint8_t multiaddr[ST_MULTIADDR_MAX];
  size_t multiaddr_len;
} st_node_miner_info;
st_code st_node_get_miner_info(st_rpc_client *c, uint64_t miner, st_node_miner_info *out, st_err *err);

/* StateMinerPower at the head: the miner's claim and the network's total. */
typedef struct st_node_power {
  mpz_t raw, qa, total_raw, total_qa;
  bool has_min_power;
} st_node_power;
void st_node_power_init(st_node_power *p);
void st_node_power_free(st_node_power *p);
/* out is the caller's, initialised (st_node_power_init); its numbers are 0 on failure. */
st_code st_node_miner_power(st_rpc_client *c, uint64_t miner, st_node_power *out, st_err *err);

/* StateReadState of a miner at the head: its balance and the funds its state holds. */
typedef struct st_node_miner_funds {
  mpz_t balance, precommit_deposits, locked_funds;
} st_node_miner_funds;
void st_node_miner_funds_init(st_node_miner_funds *f);
void st_node_miner_funds_free(st_node_miner_funds *f);
/* out is the caller's, initialised (st_node_miner_funds_init); its numbers are 0 on failure. */
st_code st_node_get_miner_funds(st_rpc_client *c, uint64_t miner, st_node_miner_funds *out, st_err *err);

/* StateMinerAvailableBalance at the head (out: the caller's mpz_t). */
st_code st_node_miner_available(st_rpc_client *c, uint64_t miner, mpz_t out, st_err *err);
/* WalletBalance of a: 0 for an address the chain does not know (out: the caller's mpz_t). */
st_code st_node_wallet_balance(st_rpc_client *c, const st_address *a, mpz_t out, st_err *err);

/* StateMinerSectorCount at the head. */
typedef struct st_node_sector_count {
  uint64_t live, active, faulty;
} st_node_sector_count;
st_code st_node_get_sector_count(st_rpc_client *c, uint64_t miner, st_node_sector_count *out, st_err *err);

/* ---- the spacetime verbs (cmd/spacetime, lib/client): chain, pool, wallet, state, auth, market ----
 * The tipsets, blocks, messages and actors are the chain types, so a verb prints them with their
 * to_json (network 't', as the daemon writes them) byte for byte as the node sent them. */

/* ChainHead (key NULL) or ChainGetTipSet: the whole tipset, its blocks in the node's order. */
st_code st_node_tipset(st_rpc_client *c, const st_tipset_key *key, st_tipset *out, st_err *err);
/* ChainGetTipSetByHeight on the head's chain: the tipset at height (below it after null rounds). */
st_code st_node_tipset_at(st_rpc_client *c, int64_t height, st_tipset *out, st_err *err);
/* Up to count tipsets ending at first (taken over, whatever this returns), newest first: each
 * one's parent tipset until count or genesis. *out holds *n of them also on failure (the walk
 * so far; free it with st_node_tipsets_free either way). */
st_code st_node_tipsets_back(st_rpc_client *c, st_tipset *first, uint64_t count, st_tipset **out, size_t *n,
                             st_err *err);
void st_node_tipsets_free(st_tipset *v, size_t n);
/* ChainGetBlock: a block header by CID. */
st_code st_node_block(st_rpc_client *c, const st_cid *cid, st_block_header *out, st_err *err);
/* ChainGetMessage: a message by CID (unsigned, as Lotus answers). */
st_code st_node_message(st_rpc_client *c, const st_cid *cid, st_message *out, st_err *err);

/* MpoolPending: the messages waiting in the node's pool; free them with st_node_messages_free
 * (*out NULL and *n 0 on failure, or when none wait). */
st_code st_node_pending(st_rpc_client *c, st_signed_message **out, size_t *n, st_err *err);
void st_node_messages_free(st_signed_message *m, size_t n);
/* MpoolPushMessage as st_node_push, giving the signed message the node made and pooled. */
st_code st_node_push_signed(st_rpc_client *c, const st_message *m, const mpz_t max_fee, st_signed_message *out,
                            st_err *err);

/* WalletNew: a new secp256k1 key (the first becomes the default); its address. */
st_code st_node_wallet_new(st_rpc_client *c, st_address *out, st_err *err);
/* WalletList: the wallet's addresses (*out NULL and *n 0 when none, or on failure; free()). */
st_code st_node_wallet_list(st_rpc_client *c, st_address **out, size_t *n, st_err *err);
/* WalletDefaultAddress: an error when the wallet has no default key. */
st_code st_node_wallet_default(st_rpc_client *c, st_address *out, st_err *err);
/* WalletExport: the key of a (the caller wipes it with st_secure_zero). */
st_code st_node_wallet_export(st_rpc_client *c, const st_address *a, st_keyinfo *out, st_err *err);
/* WalletImport: a secp256k1 key into the wallet; *out its address. */
st_code st_node_wallet_import(st_rpc_client *c, const st_keyinfo *ki, st_address *out, st_err *err);
/* WalletSign: the signature by a's key over data. */
st_code st_node_wallet_sign(st_rpc_client *c, const st_address *a, const uint8_t *data, size_t len, st_signature *out,
                            st_err *err);

/* StateGetActor at the head. */
st_code st_node_actor(st_rpc_client *c, const st_address *a, st_actor *out, st_err *err);
/* AuthNew: a new API token allowing perms (ST_PERM_* bits of st_jwt), appended to token. */
st_code st_node_auth_new(st_rpc_client *c, unsigned perms, st_buf *token, st_err *err);

/* StateVerifiedClientStatus (verifier false: a client's datacap) or StateVerifierStatus (a
 * verifier's allowance); *found is false when a has none (the node answers null). */
st_code st_node_verifreg_status(st_rpc_client *c, bool verifier, const st_address *a, bool *found, mpz_t out,
                                st_err *err);
/* StateMarketStorageDeal: the on-chain state of deal id (an error when the chain has no such
 * deal, as the node refuses). Only its State is read: what the client lists; the Proposal is
 * the client's own, and st_deal has no JSON reader. */
typedef struct st_node_deal_state {
  int64_t sector_start; /* -1 until activated */
  int64_t last_updated; /* the epoch paid up to; -1 before the first payment */
  int64_t slash_epoch;  /* -1 unless slashed */
} st_node_deal_state;
st_code st_node_market_deal(st_rpc_client *c, uint64_t id, st_node_deal_state *out, st_err *err);

#endif
