/* st_network: the profiles, the parameter table and its checks. */
#include "chain/st_network.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/st_encoding.h"

#define P(flag, field, min, help) \
  { flag, #field, offsetof(st_network, field), min, help }
const st_network_param ST_NETWORK_PARAMS[] = {
    P("block-delay", block_delay, 1, "seconds per epoch"),
    P("proving-period", proving_period, 1, "epochs per proving period"),
    P("deadlines", deadlines, 1, "deadlines per proving period"),
    P("challenge-window", challenge_window, 1, "epochs per deadline"),
    P("challenge-lookback", challenge_lookback, 0, "epochs between a deadline's challenge and its open"),
    P("fault-cutoff", fault_cutoff, 0, "epochs before a deadline opens after which faults for it are refused"),
    P("min-sector-size", min_sector_size, 2048, "smallest sector size in bytes"),
    P("max-sector-size", max_sector_size, 2048, "largest sector size in bytes"),
    P("block-gas-limit", block_gas_limit, 1000000, "gas per block"),
    P("block-gas-target", block_gas_target, 1, "gas per block the base fee steers toward"),
    P("initial-base-fee", initial_base_fee, 0, "base fee at genesis, attoFIL per gas"),
    P("min-base-fee", min_base_fee, 0, "lowest base fee, attoFIL per gas"),
    P("burn-base-fee", burn_base_fee, 0,
      "1 burns the base fee as Filecoin does; 0 pays every fee to the block's miner (the seed)"),
    P("consensus-min-power", consensus_min_power, 0, "raw power in bytes a miner needs to win blocks"),
    P("block-reward", block_reward, 0, "attoFIL a miner earns per win"),
    P("precommit-challenge-delay", precommit_challenge_delay, 1,
      "epochs from PreCommitSector to the seed ProveCommitSector is checked against"),
    P("max-prove-commit-duration", max_prove_commit_duration, 1,
      "epochs a pre-commit waits for its ProveCommitSector before it expires"),
    P("election-lookback", election_lookback, 1,
      "epochs back to the state whose power and sectors elect a block's miner"),
    P("fault-max-age", fault_max_age, 1, "epochs a sector may stay faulty before it is terminated"),
    P("sector-pledge", sector_pledge, 0, "attoFIL a sector locks (pre-commit deposit, then pledge)"),
    P("fault-fee", fault_fee, 0, "attoFIL a faulty sector pays at each of its deadlines"),
    P("bootstrap-after-nulls", bootstrap_after_nulls, 0,
      "a bootstrap block is valid even with power once this many rounds in a row were null (0: never)"),
    P("verifreg-root", verifreg_root, 0,
      "account ID (t0N as N) of the verified registry's root key, which adds verifiers (0: none)"),
};
#undef P
const size_t ST_NETWORK_NPARAMS = sizeof ST_NETWORK_PARAMS / sizeof ST_NETWORK_PARAMS[0];

static int64_t *field(st_network *n, const st_network_param *p) { return (int64_t *)(void *)((char *)n + p->offset); }
static int64_t value_of(const st_network *n, const st_network_param *p) {
  return *(const int64_t *)(const void *)((const char *)n + p->offset);
}

#define KiB 1024LL
#define GiB (1024LL * 1024 * 1024)
#define FIL 1000000000000000000LL

static const st_network PROFILES[] = {
    {"devnet",     1,         240, 12, 20,      5,       10, 2 * KiB, 2 * KiB, 10000000000LL,
     5000000000LL, 100,       100, 0,  2 * KiB, 5 * FIL, 10, 1200,    5,       6 * 240,
     FIL / 10,     FIL / 100, 5,   0},
    /* the seed's network, June 2020: specs-actors v0.5.6 (fault max age 14 periods; lookback 10 before nv4) */
    {"testnet2020", 25,        3456, 36, 96,  20,      20,  2 * KiB,    64 * GiB, 10000000000LL,
     5000000000LL,  100000000, 100,  0,  GiB, 5 * FIL, 150, 3456 + 150, 10,       14 * 3456,
     FIL / 10,      FIL / 100, 0,    0},
    {"mainnet",
     30,
     2880,
     48,
     60,
     20,
     70,
     32 * GiB,
     64 * GiB,
     10000000000LL,
     5000000000LL,
     100000000,
     100,
     1,
     10 * 1024 * GiB,
     5 * FIL,
     150,
     30 * 2880 + 150,
     900,
     42 * 2880,
     FIL / 10,
     FIL / 100,
     0,
     0},
};

st_code st_network_profile(const char *name, st_network *out, st_err *err) {
  for (size_t i = 0; i < sizeof PROFILES / sizeof PROFILES[0]; i++)
    if (!strcmp(name, PROFILES[i].name)) {
      *out = PROFILES[i];
      return ST_OK;
    }
  return st_err_set(err, ST_EINVAL, "network \"%.40s\" is not one of devnet, testnet2020, mainnet", name);
}

static const st_network_param *param_by_flag(const char *flag) {
  for (size_t i = 0; i < ST_NETWORK_NPARAMS; i++)
    if (!strcmp(ST_NETWORK_PARAMS[i].flag, flag)) return &ST_NETWORK_PARAMS[i];
  return NULL;
}

st_code st_network_set(st_network *n, const char *flag, const char *value, st_err *err) {
  const st_network_param *p = param_by_flag(flag);
  if (!p) return st_err_set(err, ST_EINVAL, "no network parameter \"%.40s\"", flag);
  uint64_t v;
  char what[64];
  snprintf(what, sizeof what, "--%s", flag);
  st_code code = st_parse_u64(value, what, &v, err);
  if (code) return code;
  if (v > INT64_MAX || (int64_t)v < p->min)
    return st_err_set(err, ST_EINVAL, "--%s %s is outside [%lld, 2^63)", flag, value, (long long)p->min);
  *field(n, p) = (int64_t)v;
  return ST_OK;
}

st_code st_network_check(const st_network *n, st_err *err) {
  if (n->deadlines * n->challenge_window != n->proving_period)
    return st_err_set(err, ST_EINVAL, "deadlines (%lld) x challenge-window (%lld) must equal proving-period (%lld)",
                      (long long)n->deadlines, (long long)n->challenge_window, (long long)n->proving_period);
  if (n->challenge_lookback >= n->proving_period)
    return st_err_set(err, ST_EINVAL, "challenge-lookback (%lld) must be shorter than the proving period (%lld)",
                      (long long)n->challenge_lookback, (long long)n->proving_period);
  if (n->fault_cutoff >= n->proving_period)
    return st_err_set(err, ST_EINVAL, "fault-cutoff (%lld) must be shorter than the proving period (%lld)",
                      (long long)n->fault_cutoff, (long long)n->proving_period);
  if (n->min_sector_size > n->max_sector_size)
    return st_err_set(err, ST_EINVAL, "min-sector-size (%lld) is above max-sector-size (%lld)",
                      (long long)n->min_sector_size, (long long)n->max_sector_size);
  if (n->block_gas_target > n->block_gas_limit)
    return st_err_set(err, ST_EINVAL, "block-gas-target (%lld) is above block-gas-limit (%lld)",
                      (long long)n->block_gas_target, (long long)n->block_gas_limit);
  if (n->election_lookback >= n->max_prove_commit_duration + n->proving_period)
    return st_err_set(err, ST_EINVAL,
                      "election-lookback (%lld) must be shorter than max-prove-commit-duration + proving-period",
                      (long long)n->election_lookback);
  if (n->precommit_challenge_delay >= n->max_prove_commit_duration)
    return st_err_set(err, ST_EINVAL,
                      "precommit-challenge-delay (%lld) must be shorter than max-prove-commit-duration (%lld)",
                      (long long)n->precommit_challenge_delay, (long long)n->max_prove_commit_duration);
  if (n->burn_base_fee > 1) return st_err_set(err, ST_EINVAL, "burn-base-fee must be 0 or 1");
  if (!n->name[0]) return st_err_set(err, ST_EINVAL, "the network has no name");
  return ST_OK;
}

json_t *st_network_to_json(const st_network *n) {
  json_t *j = json_pack("{ss}", "name", n->name);
  for (size_t i = 0; i < ST_NETWORK_NPARAMS; i++)
    json_object_set_new(j, ST_NETWORK_PARAMS[i].key, json_integer(value_of(n, &ST_NETWORK_PARAMS[i])));
  return j;
}

st_code st_network_from_json(const json_t *j, st_network *out, st_err *err) {
  if (!json_is_object(j)) return st_err_set(err, ST_EINVAL, "network parameters must be a JSON object");
  *out = (st_network){0};
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)j, key, v) {
    if (!strcmp(key, "name")) {
      if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= sizeof out->name)
        return st_err_set(err, ST_EINVAL, "network \"name\" must be a string of 1 to %zu characters",
                          sizeof out->name - 1);
      snprintf(out->name, sizeof out->name, "%s", json_string_value(v));
      continue;
    }
    const st_network_param *p = NULL;
    for (size_t i = 0; i < ST_NETWORK_NPARAMS && !p; i++)
      if (!strcmp(ST_NETWORK_PARAMS[i].key, key)) p = &ST_NETWORK_PARAMS[i];
    if (!p) return st_err_set(err, ST_EINVAL, "unknown network parameter \"%.40s\"", key);
    if (!json_is_integer(v)) return st_err_set(err, ST_EINVAL, "network parameter \"%s\" must be an integer", key);
    if (json_integer_value(v) < p->min)
      return st_err_set(err, ST_EINVAL, "network parameter \"%s\" is %lld, below its minimum %lld", key,
                        (long long)json_integer_value(v), (long long)p->min);
    *field(out, p) = json_integer_value(v);
  }
  for (size_t i = 0; i < ST_NETWORK_NPARAMS; i++)
    if (!json_object_get(j, ST_NETWORK_PARAMS[i].key))
      return st_err_set(err, ST_EINVAL, "network parameter \"%s\" is missing", ST_NETWORK_PARAMS[i].key);
  return st_network_check(out, err);
}

int64_t st_network_epochs_per_day(const st_network *n) { return 86400 / n->block_delay; }
