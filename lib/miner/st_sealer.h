/* st_sealer: committed-capacity and deal sectors from pledge to Proving, as a persisted state
 * machine (DESIGN.md section 10; the seed's sealer). Every sector is a row of the cluster's
 * sealing table (st_cluster: the registry's database, or the repo's sealing.db for a lone
 * process); each state change is one guarded UPDATE, so a kill -9 at any moment resumes where it
 * was, on this process or on another sealer of the miner once the claim's lease lapses. The
 * states are Lotus's names:
 *
 *   Packing         allocate a storage node through the registry (which records the sector's
 *                   sealed and cache files there), or the dist-path itself without one
 *   PreCommit1      draw the seal ticket and seal (labels, trees, replica, p_aux) into a
 *                   staging folder of this claim, <root>/.staging/s-t0<m>-<n>.m<machine>; then
 *                   check the claim and move the files into place (sealed/, cache/, unsealed/)
 *   PreCommitting   send PreCommitSector        -> PreCommitWait -> WaitSeed
 *   WaitSeed        wait until the seed is drawn and confidence epochs old
 *   Committing      prove (PoRep), send ProveCommitSector -> CommitWait -> FinalizeSector
 *   FinalizeSector  drop the layers, keep the replica, the trees and p_aux -> Proving
 *
 * Claims: each step first claims free sectors until this sealer holds max_sectors (a sector is
 * free with no owner or a lapsed lease; a sealer with a group takes only sectors of its group;
 * a deal's sector only on the host that holds its piece). A sealer that lost a claim (it was
 * stopped past its lease) changes nothing more: every write names the owner, and the claim is
 * checked right before each side effect (a message, files moved into place).
 *
 * Failures: SealPreCommit1Failed, PreCommitFailed and CommitFailed keep the error and go back
 * (re-seal with a new ticket, or prove again) up to max_retries times, then stay for the
 * operator to see. No message is ever sent twice: before sending, the chain (is the sector
 * pre-committed or committed already?) and the node's pool (is our message waiting?) are asked
 * first, and a message's CID is recorded before anything else happens.
 *
 * Sector numbers come from the cluster's counter, never below the chain's highest sector + 1,
 * so no number is used twice however many sealers run. A number the chain holds with another
 * sealed CID (a process that ran alone beside the cluster) is never adopted: the sector goes to
 * Removed with that error, and nobody works on it again. */
#ifndef ST_SEALER_H
#define ST_SEALER_H

#include <gmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "codec/st_address.h"
#include "core/st_err.h"
#include "miner/st_cluster.h"
#include "proofs/st_sector.h"
#include "registry/st_registry_client.h"
#include "rpc/st_rpc_client.h"

typedef struct st_sealer_cfg {
  st_cluster *cluster; /* where the sectors are (one handle per thread) */
  int64_t machine;     /* this process in the cluster (st_cluster_join); 0: views and pledges only */
  size_t max_sectors;  /* sectors this sealer works on at once (0 means 4) */
  st_rpc_client *node; /* NULL: views and pledges only, no chain check of the numbers */
  uint64_t miner;
  st_address sender; /* the worker's key address */
  const st_sector_info *info;
  st_regc *registry; /* NULL: seal under dist_path itself */
  const char *dist_path;
  int64_t group;      /* registry group to seal in; -1: any */
  int64_t confidence; /* epochs past the seed epoch before proving; the ticket's age too */
  int64_t lifetime;   /* sector expiration, in epochs after the pre-commit */
  int max_retries;
  int64_t retry_secs; /* seconds between a failure and the next try */
  mpz_srcptr max_fee; /* per message (NULL: no cap) */
} st_sealer_cfg;

typedef struct st_sealer st_sealer;

/* cfg is copied; its pointers must outlive the sealer. */
st_code st_sealer_open(const st_sealer_cfg *cfg, st_sealer **out, st_err *err);
void st_sealer_close(st_sealer *s);

/* A new sector in Packing holding one published deal's piece (a file of the client's raw bytes
 * on this host, so only a sealer of this host takes it; piece_size is the padded piece size):
 * PreCommit1 stages it (Fr32-padded at offset 0, zeros
 * after it, <root>/unsealed/s-t0<m>-<n>, removed at finalize), the pre-commit carries the deal
 * ID and expires at deal_end. */
st_code st_sealer_add_deal(st_sealer *s, uint64_t deal_id, const char *piece, uint64_t piece_size, int64_t deal_end,
                           uint64_t *number, st_err *err);

/* sectors pledge: a new committed-capacity sector in Packing; *number gets its number. */
st_code st_sealer_pledge(st_sealer *s, uint64_t *number, st_err *err);

/* Claims sectors up to max_sectors, then moves every sector it holds on as far as the head
 * allows; *changed gets how many state changes were made (on failure, those made before it). A sector's failure is
 * recorded on it (and logged), not returned; the return is the node or the database failing. */
st_code st_sealer_step(st_sealer *s, int *changed, st_err *err);

typedef struct st_sealing_sector {
  uint64_t number;
  char state[32];
  char error[512];
  int64_t retries;
  int64_t updated; /* unix seconds */
  char root[512];  /* where its files are on this host: <dist>/<type>/<host>, or the dist-path */
  int64_t node_id; /* its storage node (0: none, the sealer's dist-path) */
  int64_t owner;   /* the machine that holds (or last held) it; 0: none yet */
  bool held;       /* owner's lease is live */
  bool has_seal;   /* ticket and comm_d are known (sealed at least once) */
  uint8_t ticket[32], comm_d[32];
  int64_t deal_id; /* the deal whose piece it holds; -1: committed capacity */
} st_sealing_sector;
/* Every sector, by number. Caller frees *out. */
st_code st_sealer_list(st_sealer *s, st_sealing_sector **out, size_t *n, st_err *err);
/* One sector; *found is false (and *out zeroed) when the database has no such number. */
st_code st_sealer_get(st_sealer *s, uint64_t number, st_sealing_sector *out, bool *found, st_err *err);
/* Sectors not yet Proving and not given up on (for the pledge loop's concurrency). */
st_code st_sealer_in_flight(st_sealer *s, size_t *n, st_err *err);

#endif
