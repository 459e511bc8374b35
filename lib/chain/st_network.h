/* st_network: a chain's parameters and the three profiles genesis chooses from.
 *
 *   profile      epoch  period  deadlines x window  lookback  cutoff  sectors
 *   devnet        1 s    240        12 x 20             5        10    2 KiB
 *   testnet2020  25 s   3456        36 x 96            20        20    2 KiB .. 64 GiB (the seed's)
 *   mainnet      30 s   2880        48 x 60            20        70    32 / 64 GiB
 *
 * The parameters are one table (ST_NETWORK_PARAMS) with a name for flags (--block-delay) and
 * one for JSON (block_delay), so genesis can override each of them and write them all, and
 * nothing else needs a list of its own. */
#ifndef ST_NETWORK_H
#define ST_NETWORK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/st_err.h"

/* Filecoin's network version whose rules this chain follows (StateNetworkVersion): 0, as its
 * actors are v0's ("fil/1/<name>" code CIDs) and its proofs and miner rules the seed's
 * specs-actors v0.x (network versions 0..3 run actors v0; the chain has no upgrades). */
#define ST_NETWORK_VERSION 0

typedef struct st_network {
  char name[32];
  int64_t block_delay;        /* seconds per epoch */
  int64_t proving_period;     /* WPoStProvingPeriod, epochs */
  int64_t deadlines;          /* WPoStPeriodDeadlines */
  int64_t challenge_window;   /* WPoStChallengeWindow, epochs */
  int64_t challenge_lookback; /* WPoStChallengeLookback, epochs */
  int64_t fault_cutoff;       /* FaultDeclarationCutoff, epochs before Open */
  int64_t min_sector_size;    /* bytes; sealing below or above is refused */
  int64_t max_sector_size;
  int64_t block_gas_limit;           /* gas units per block */
  int64_t block_gas_target;          /* the base fee moves toward this use */
  int64_t initial_base_fee;          /* attoFIL per gas unit at genesis */
  int64_t min_base_fee;              /* the base fee never drops below this */
  int64_t burn_base_fee;             /* 0: the seed's rule, every fee goes to the block's miner; 1: Filecoin's burn */
  int64_t consensus_min_power;       /* bytes of raw power a miner needs to win blocks */
  int64_t block_reward;              /* attoFIL per win (WinCount 1) */
  int64_t precommit_challenge_delay; /* epochs from PreCommit to the seed ProveCommit uses */
  int64_t max_prove_commit_duration; /* epochs a pre-commit may wait for its ProveCommit */
  int64_t election_lookback;         /* epochs back to the state whose power and sectors elect */
  int64_t fault_max_age;             /* epochs a sector may stay faulty before it is terminated */
  int64_t sector_pledge;             /* attoFIL a sector locks: its pre-commit deposit, then its pledge */
  int64_t fault_fee;                 /* attoFIL a faulty sector pays at each of its deadlines */
  int64_t bootstrap_after_nulls;     /* a bootstrap block is also valid after this many null rounds (0: never) */
  int64_t verifreg_root;             /* the account ID of the verified registry's root key (0: none) */
} st_network;

/* One parameter: its flag name, JSON key, place in st_network, smallest value and meaning. */
typedef struct st_network_param {
  const char *flag, *key;
  size_t offset;
  int64_t min;
  const char *help;
} st_network_param;
extern const st_network_param ST_NETWORK_PARAMS[];
extern const size_t ST_NETWORK_NPARAMS;

/* The named profile ("devnet", "testnet2020", "mainnet"); errors list the names. */
st_code st_network_profile(const char *name, st_network *out, st_err *err);
/* Sets the parameter named by flag (e.g. "block-delay") from decimal text. */
st_code st_network_set(st_network *n, const char *flag, const char *value, st_err *err);
/* Checks the parameters fit together (deadlines x window = period, lookback < window, ...). */
st_code st_network_check(const st_network *n, st_err *err);

/* Epochs in a day at the network's block delay. */
int64_t st_network_epochs_per_day(const st_network *n);

/* {"name": ..., "block_delay": 1, ...}: every parameter. from_json needs every key, refuses
 * unknown ones, and checks the result. */
json_t *st_network_to_json(const st_network *n);
st_code st_network_from_json(const json_t *j, st_network *out, st_err *err);

#endif
