/* st_miner_state: the on-chain state of a storage miner and of the power actor, with their
 * encodings and the bookkeeping both actors and the API share.
 *
 * A miner holds its info (owner, worker, sector size, proof types), its funds (pre-commit
 * deposits, locked initial pledge, fee debt), its proving period offset, its pre-committed and
 * committed sectors, and its deadlines, each split into partitions of the network's partition
 * size, as Filecoin does. A partition is four bitfields: Sectors, Faults, Recoveries and
 * Terminated; its active sectors are Sectors - Faults - Terminated. A deadline also records
 * which partitions were proven in the current period (PostSubmissions).
 *
 * Filecoin keeps these in HAMTs and AMTs; here each is one DAG-CBOR object per actor, which
 * gives the same content addressing and the same guarantees at devnet sizes
 * (docs/ARCHITECTURE.md). The field layouts are in st_miner_state.c. */
#ifndef ST_MINER_STATE_H
#define ST_MINER_STATE_H

#include <gmp.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/st_bitfield.h"
#include "codec/st_cid.h"
#include "core/st_buf.h"
#include "core/st_err.h"

/* miner.SectorPreCommitOnChainInfo (Info = SectorPreCommitInfo) */
typedef struct st_precommit {
  uint64_t number;
  int64_t seal_proof;
  st_cid sealed_cid;
  int64_t seal_rand_epoch;
  int64_t expiration;
  mpz_t deposit;
  int64_t precommit_epoch;
  mpz_t deal_weight, verified_deal_weight; /* set at ProveCommit, from the activated deals */
  st_bitfield deals;                       /* DealIDs: their pieces fill the sector in ascending order */
} st_precommit;

/* miner.SectorOnChainInfo */
typedef struct st_sector_onchain {
  uint64_t number;
  int64_t seal_proof;
  st_cid sealed_cid;
  int64_t activation, expiration;
  mpz_t deal_weight, verified_deal_weight;
  mpz_t initial_pledge;
  int64_t fault_epoch; /* when it last became faulty; -1 when it is not */
  st_bitfield deals;   /* DealIDs */
} st_sector_onchain;

void st_sector_onchain_init(st_sector_onchain *s);
void st_sector_onchain_free(st_sector_onchain *s);
/* miner.SectorOnChainInfo's JSON as go-state-types v19 writes it (Lotus's StateSectorGetInfo;
 * DealIDs and the fault epoch are not in it). from_json reads the fields to_json writes (what
 * names j in errors); out is initialised by the call, whatever it returns. */
json_t *st_sector_onchain_to_json(const st_sector_onchain *s);
st_code st_sector_onchain_from_json(const json_t *j, const char *what, st_sector_onchain *out, st_err *err);

typedef struct st_partition {
  st_bitfield sectors, faults, recoveries, terminated;
} st_partition;

typedef struct st_deadline_state {
  st_partition *partitions;
  size_t npartitions;
  st_bitfield post_submissions; /* partitions proven in the current period */
} st_deadline_state;

#define ST_MINER_MAX_MULTIADDRS 8

typedef struct st_miner_state {
  uint64_t owner, worker;       /* account actor IDs */
  uint64_t pending_worker;      /* 0: none */
  int64_t pending_worker_epoch; /* when the pending worker takes over */
  uint64_t sector_size;
  int64_t window_post_proof; /* RegisteredPoStProof (Window) */
  st_buf peer_id;
  mpz_t precommit_deposits, locked_funds, fee_debt;
  int64_t proving_period_start; /* the current period's first epoch */
  st_bitfield allocated;        /* sector numbers used, ever */
  st_precommit *precommits;     /* sorted by number */
  size_t nprecommits;
  st_sector_onchain *sectors; /* sorted by number */
  size_t nsectors;
  st_deadline_state *deadlines;
  size_t ndeadlines;
  st_buf multiaddrs[ST_MINER_MAX_MULTIADDRS]; /* binary multiaddrs where the miner takes deals */
  size_t nmultiaddrs;
} st_miner_state;

/* ndeadlines empty deadlines. */
st_code st_miner_state_init(st_miner_state *m, size_t ndeadlines, st_err *err);
void st_miner_state_free(st_miner_state *m);
void st_miner_state_encode(const st_miner_state *m, st_buf *out);
/* m is initialised by the call: the state, or empty (no deadlines) on failure. */
st_code st_miner_state_decode(const uint8_t *p, size_t len, st_miner_state *m, st_err *err);

st_precommit *st_miner_precommit(st_miner_state *m, uint64_t number);
st_sector_onchain *st_miner_sector(st_miner_state *m, uint64_t number);
/* Inserts in order (the new entry is zeroed with its mpz initialised); NULL on out of memory. */
st_precommit *st_miner_add_precommit(st_miner_state *m, uint64_t number);
st_sector_onchain *st_miner_add_sector(st_miner_state *m, uint64_t number);
void st_miner_remove_precommit(st_miner_state *m, uint64_t number);
void st_miner_remove_sector(st_miner_state *m, uint64_t number);
/* Sets the fault epoch of each sector in sectors that is not faulty already. */
void st_miner_mark_faulty(st_miner_state *m, const st_bitfield *sectors, int64_t epoch);
/* Where a sector sits: ST_ENOENT if in no partition. */
st_code st_miner_locate(const st_miner_state *m, uint64_t number, uint64_t *dl, uint64_t *part, st_err *err);

/* QAPowerForWeight (filecoin-facts.md section 5): size x quality >> 20, quality the
 * space-time-weighted average of 10 (base), 10 (deals) and 100 (verified deals), over 10. */
void st_qa_power_for_weight(uint64_t size, int64_t duration, const mpz_t deal_weight, const mpz_t verified_weight,
                            mpz_t out);
/* The miner's active sectors (not faulty, not terminated) in every partition; out (initialised)
 * is replaced, and empty on failure. */
st_code st_miner_active(const st_miner_state *m, st_bitfield *out, st_err *err);
/* The miner's power from its active sectors (0 and 0 on failure). */
st_code st_miner_power(const st_miner_state *m, mpz_t raw, mpz_t qa, st_err *err);
/* Counts over every partition. */
typedef struct st_miner_counts {
  uint64_t live, active, faulty, recovering;
} st_miner_counts;
void st_miner_counts_of(const st_miner_state *m, st_miner_counts *out);
/* The miner's balance less what is locked: pre-commit deposits, pledge and fee debt (may be 0). */
void st_miner_available(const st_miner_state *m, const mpz_t balance, mpz_t out);

/* ---- the power actor ---- */

typedef struct st_power_claim {
  uint64_t miner;
  mpz_t raw, qa;
} st_power_claim;

typedef struct st_power_state {
  mpz_t total_raw, total_qa;
  uint64_t miners_above_min; /* claims with raw >= the consensus minimum */
  st_power_claim *claims;    /* sorted by miner */
  size_t nclaims;
} st_power_state;

#define ST_CONSENSUS_MIN_MINERS 4 /* ConsensusMinerMinMiners */

void st_power_state_init(st_power_state *p);
void st_power_state_free(st_power_state *p);
void st_power_state_encode(const st_power_state *p, st_buf *out);
/* out is initialised by the call: the state, or empty on failure. */
st_code st_power_state_decode(const uint8_t *p, size_t len, st_power_state *out, st_err *err);
st_power_claim *st_power_claim_of(st_power_state *p, uint64_t miner);
/* Adds a zero claim for a new miner. */
st_code st_power_add_miner(st_power_state *p, uint64_t miner, st_err *err);
/* Sets a miner's claim and the totals and the count above min_power. */
st_code st_power_set_claim(st_power_state *p, uint64_t miner, const mpz_t raw, const mpz_t qa, int64_t min_power,
                           st_err *err);
/* MinerNominalPowerMeetsConsensusMinimum. */
bool st_power_eligible(const st_power_state *p, uint64_t miner, int64_t min_power);

#endif
