/* st_miner_api: the miner's own JSON-RPC API, served by `spacetime-miner run` (--api PORT),
 * and its Prometheus /metrics. It answers what only the running miner knows: its sealing
 * database, where its sectors' files are from this host (the registry and the dist-path it was
 * started with), the cluster's processes and the poster's counters. Chain facts stay with the
 * daemon. The operator views (`sectors ...`, `storage list`, `proving check`, `cluster`,
 * `info`'s Mode) read it, so a view shows what the running process sees, not what a second
 * process would guess.
 *
 * It runs on st_jsonrpc (same framing, JWT auth and errors as the daemon) with the repo's own
 * jwt-secret; start writes <repo>/api and <repo>/token (st_apiinfo's files; MINER_API_INFO
 * overrides them for clients, as in Lotus), stop removes api. Methods, Lotus's names where
 * Lotus's miner has one with the same meaning:
 *
 *   Filecoin.ActorAddress     read   []            "t01000"
 *   Filecoin.ActorSectorSize  read   [addr]        2048
 *   Filecoin.MinerRunInfo     read   []            {Mode, Miner, DistPath, ServerAPI, PID, StartedAt,
 *                                                   Poster: {the poster's counters}}
 *   Filecoin.SectorsList      read   []            [1, 2, ...]
 *   Filecoin.SectorsSummary   read   []            {"Proving": 2, "WaitSeed": 1}
 *   Filecoin.SectorsStatus    read   [N, onchain]  {SectorID, State, Retries, LastErr, Storage,
 *                                                   Updated, Holder: {Machine, Live} or null,
 *                                                   OnChain: StateSectorGetInfo or null}
 *   Filecoin.PledgeSector     write  []            {Miner, Number}
 *   Filecoin.Cluster          read   []            {machines, lapsed_sectors, now}: the reply of
 *                                                  st_cluster_store's machines
 *   Filecoin.StorageList      read   []            [{ID, Host, Type, Group, Path, Reachable,
 *                                                   Capacity, Available, LastHeartbeat, HeartbeatErr,
 *                                                   Sectors}]
 *   Filecoin.ProvingCheck     read   [deadline, slow]
 *                                                  [{Partition, Sector, Good, Err, Sealed, Cache}]
 * The market (no token needed: any client may propose, as Filecoin's deal protocol is open):
 *   Filecoin.MarketProposeDeal read  [proposal, data]  (base64 ClientDealProposal CBOR and the
 *                                                  piece's bytes) -> the deal (st_deals_accept)
 *   Filecoin.MarketGetAsk      read  []            {Miner, Price, VerifiedPrice, MinPieceSize,
 *                                                   MaxPieceSize, StartDelay (epochs a deal's
 *                                                   start must leave), MinSectorLife (epochs)}
 *   Filecoin.MarketListDeals   read  []            [{ProposalCid, Client, PieceCID, PieceSize,
 *                                                   PayloadSize, Verified, StartEpoch, EndEpoch,
 *                                                   PricePerEpoch, State, Message, DealID,
 *                                                   SectorNumber, PublishCid, ...}]
 *   Filecoin.MarketDealStatus  read  [proposal CID] one deal, as above
 *
 * GET /metrics (no token) is Prometheus text: the poster's counters, sectors by sealing state,
 * and an info line naming the miner, the mode and the registry. GET /piece/<piece CID> (no
 * token) returns a stored piece's bytes, unsealed from its sealed sector (retrieval). */
#ifndef ST_MINER_API_H
#define ST_MINER_API_H

#include <jansson.h>

#include "miner/st_miner_repo.h"
#include "miner/st_poster.h"
#include "proofs/st_post.h"
#include "rpc/st_apiinfo.h"
#include "rpc/st_rpc_client.h"

#define ST_MINER_API_ENV "MINER_API_INFO"
/* What a call on a running miner's API (st_miner_api_call) puts before its errors. */
#define ST_MINER_API_PREFIX "miner API "

typedef struct st_miner_api_cfg {
  const char *repo; /* the miner repo: sealing.db, api, token, jwt-secret */
  const st_miner_config *cfg;
  const char *mode; /* "all", "poster" or "sealer" */
  const char *dist_path;
  const char *server_api, *server_token; /* the registry; server_api NULL: paths under dist_path */
  const st_apiinfo *node;                /* the daemon */
  st_post_options post;                  /* for ProvingCheck's slow check */
  const char *listen;                    /* "127.0.0.1:2345"; port 0 picks a free one */
  const char *log_file;                  /* the run's --log-file, absolute; "" or NULL: none */
  int64_t deal_seal_epochs;              /* a deal must start at least this many epochs ahead */
} st_miner_api_cfg;

typedef struct st_miner_api st_miner_api;

/* Serves the API and writes the repo's api and token files. cfg's strings must outlive it. */
st_code st_miner_api_start(const st_miner_api_cfg *cfg, st_miner_api **out, st_err *err);
/* The multiaddr it serves on, e.g. /ip4/127.0.0.1/tcp/2345/http. */
const char *st_miner_api_addr(const st_miner_api *a);
/* The poster's counters, as its threads last published them: set_poster takes the WindowPoSt
 * thread's (all but the block counters), set_blocks the mining thread's (rounds_tried,
 * blocks_mined, last_mined_height only). */
void st_miner_api_set_poster(st_miner_api *a, const st_poster_stats *s);
void st_miner_api_set_blocks(st_miner_api *a, const st_poster_stats *s);
/* Removes the api file, stops serving and frees. NULL is fine. */
void st_miner_api_stop(st_miner_api *a);

/* A client's call of method on a running miner's API (c opened on its repo's api and token
 * files), as st_rpc_client_call (params stolen; *result NULL on failure); an error names the
 * method: "miner API SectorsList: <why>" (ST_MINER_API_PREFIX). */
st_code st_miner_api_call(st_rpc_client *c, const char *method, json_t *params, json_t **result, st_err *err);

#endif
