/* st_node_api_miner: a miner's state: deadlines, partitions, sectors, posts, info, power,
 * funds and sector counts. */
#include "rpc/st_node_api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/st_encoding.h"

st_code st_node_sector_on_chain(st_rpc_client *c, uint64_t miner, uint64_t sector, bool *committed,
                                int64_t *precommit_epoch, st_cid *sealed, st_err *err) {
  char addr[32];
  json_t *r;
  st_cid ignored;
  if (!sealed) sealed = &ignored;
  *committed = false;
  *precommit_epoch = 0;
  memset(sealed, 0, sizeof *sealed);
  st_code code = na_call(c, "StateSectorGetInfo",
                         json_pack("[s o []]", na_miner_addr(miner, addr), st_chain_json_u64(sector)), &r, err);
  if (code) return code;
  *committed = !json_is_null(r);
  if (*committed && st_chain_json_get_cid(json_object_get(r, "SealedCID"), "StateSectorGetInfo.SealedCID", sealed, err))
    code = ST_EINVAL;
  json_decref(r);
  if (code || *committed) return code;
  if ((code = na_call(c, "StateSectorPreCommitInfo", json_pack("[s o []]", addr, st_chain_json_u64(sector)), &r, err)))
    return code;
  const json_t *e = json_object_get(r, "PreCommitEpoch");
  if (!json_is_null(r) && (!json_is_integer(e) || json_integer_value(e) <= 0))
    code = na_bad(err, "StateSectorPreCommitInfo", "PreCommitEpoch");
  else if (!json_is_null(r) && st_chain_json_get_cid(json_object_get(json_object_get(r, "Info"), "SealedCID"),
                                                     "StateSectorPreCommitInfo.Info.SealedCID", sealed, err))
    code = ST_EINVAL;
  else if (!json_is_null(r)) *precommit_epoch = json_integer_value(e);
  json_decref(r);
  if (code) memset(sealed, 0, sizeof *sealed);
  return code;
}

st_code st_node_proving_deadline(st_rpc_client *c, uint64_t miner, const st_tipset_key *key, st_deadline_info *out,
                                 st_err *err) {
  static const char M[] = "StateMinerProvingDeadline";
  memset(out, 0, sizeof *out);
  json_t *r;
  st_code code = na_call(c, M, na_miner_params(miner, key), &r, err);
  if (code) return code;
  int64_t idx = 0;
  struct {
    const char *name;
    int64_t *at;
  } fields[] = {{"CurrentEpoch", &out->current_epoch},
                {"PeriodStart", &out->period_start},
                {"Index", &idx},
                {"Open", &out->open},
                {"Close", &out->close},
                {"Challenge", &out->challenge},
                {"FaultCutoff", &out->fault_cutoff},
                {"WPoStProvingPeriod", &out->policy.proving_period},
                {"WPoStChallengeWindow", &out->policy.challenge_window},
                {"WPoStPeriodDeadlines", &out->policy.deadlines},
                {"WPoStChallengeLookback", &out->policy.challenge_lookback},
                {"FaultDeclarationCutoff", &out->policy.fault_cutoff}};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0] && !code; i++)
    code = na_int_field(r, fields[i].name, M, fields[i].at, err);
  out->index = (uint64_t)idx;
  json_decref(r);
  if (code) memset(out, 0, sizeof *out);
  return code;
}

void st_node_partitions_free(st_node_partition *p, size_t n) {
  for (size_t i = 0; p && i < n; i++) {
    st_bitfield_free(&p[i].all);
    st_bitfield_free(&p[i].faulty);
    st_bitfield_free(&p[i].recovering);
    st_bitfield_free(&p[i].live);
    st_bitfield_free(&p[i].active);
  }
  free(p);
}

st_code st_node_partitions(st_rpc_client *c, uint64_t miner, uint64_t deadline, const st_tipset_key *key,
                           st_node_partition **out, size_t *n, st_err *err) {
  *out = NULL;
  *n = 0;
  char addr[32];
  json_t *r;
  st_code code =
      na_call(c, "StateMinerPartitions",
              json_pack("[s I o]", na_miner_addr(miner, addr), (json_int_t)deadline, na_key_json(key)), &r, err);
  if (code) return code;
  size_t k = json_is_array(r) ? json_array_size(r) : 0;
  st_node_partition *p = calloc(k + 1, sizeof *p);
  if (!p) code = st_err_set(err, ST_ENOMEM, "out of memory");
  if (!code && !json_is_array(r) && !json_is_null(r))
    code = na_bad(err, "StateMinerPartitions", "partition list"); /* null: none */
  for (size_t i = 0; i < k && !code; i++) {
    const json_t *o = json_array_get(r, i);
    st_bitfield *sets[] = {&p[i].all, &p[i].faulty, &p[i].recovering, &p[i].live, &p[i].active};
    static const char *const NAMES[] = {"AllSectors", "FaultySectors", "RecoveringSectors", "LiveSectors",
                                        "ActiveSectors"};
    for (size_t s = 0; s < 5 && !code; s++) {
      st_bitfield_init(sets[s]);
      char what[96];
      snprintf(what, sizeof what, "StateMinerPartitions: [%zu].%s", i, NAMES[s]);
      code = st_chain_json_get_bitfield(json_object_get(o, NAMES[s]), what, sets[s], err);
    }
    *n = i + 1;
  }
  json_decref(r);
  if (code) {
    st_node_partitions_free(p, *n);
    *n = 0;
    return code;
  }
  if (!k) free(p); /* none: *out stays NULL */
  else *out = p;
  *n = k;
  return ST_OK;
}

st_code st_node_sectors(st_rpc_client *c, uint64_t miner, const st_bitfield *filter, const st_tipset_key *key,
                        st_node_sector **out, size_t *n, st_err *err) {
  static const char M[] = "StateMinerSectors";
  *out = NULL;
  *n = 0;
  char addr[32];
  json_t *r;
  st_code code = na_call(c, M,
                         json_pack("[s o o]", na_miner_addr(miner, addr),
                                   filter ? st_chain_json_bitfield(filter) : json_null(), na_key_json(key)),
                         &r, err);
  if (code) return code;
  size_t k = json_array_size(r);
  st_node_sector *s = calloc(k + 1, sizeof *s);
  if (!s) code = st_err_set(err, ST_ENOMEM, "out of memory");
  if (!code && !json_is_array(r) && !json_is_null(r)) code = na_bad(err, M, "sector list"); /* null: none */
  for (size_t i = 0; i < k && !code; i++) {
    const json_t *o = json_array_get(r, i);
    st_cid cid;
    if (!st_chain_json_u64_value(json_object_get(o, "SectorNumber"), &s[i].number))
      code = na_bad(err, M, "SectorNumber");
    else if (na_int_field(o, "Expiration", M, &s[i].expiration, err)) code = ST_EINVAL;
    else if (st_chain_json_get_cid(json_object_get(o, "SealedCID"), "StateMinerSectors: SealedCID", &cid, err))
      code = ST_EINVAL;
    else if (cid.digest_len != 32) code = na_bad(err, M, "SealedCID");
    else memcpy(s[i].comm_r, cid.digest, 32);
  }
  json_decref(r);
  if (code) {
    free(s);
    return code;
  }
  *out = s;
  *n = k;
  return ST_OK;
}

void st_node_bitfields_free(st_bitfield *b, size_t n) {
  for (size_t i = 0; b && i < n; i++) st_bitfield_free(&b[i]);
  free(b);
}

st_code st_node_posted(st_rpc_client *c, uint64_t miner, const st_tipset_key *key, st_bitfield **out, size_t *n,
                       st_err *err) {
  *out = NULL;
  *n = 0;
  json_t *r;
  st_code code = na_call(c, "StateMinerDeadlines", na_miner_params(miner, key), &r, err);
  if (code) return code;
  size_t k = json_array_size(r);
  st_bitfield *b = calloc(k + 1, sizeof *b);
  if (!b) code = st_err_set(err, ST_ENOMEM, "out of memory");
  else if (!json_is_array(r)) code = na_bad(err, "StateMinerDeadlines", "deadline list");
  for (size_t d = 0; d < k && !code; d++) {
    st_bitfield_init(&b[d]);
    code = st_chain_json_get_bitfield(json_object_get(json_array_get(r, d), "PostSubmissions"),
                                      "StateMinerDeadlines: PostSubmissions", &b[d], err);
  }
  json_decref(r);
  if (code) {
    st_node_bitfields_free(b, k);
    return code;
  }
  *out = b;
  *n = k;
  return ST_OK;
}

st_code st_node_post_submissions(st_rpc_client *c, uint64_t miner, uint64_t deadline, const st_tipset_key *key,
                                 st_bitfield *out, st_err *err) {
  st_bitfield_clear(out);
  st_bitfield *all;
  size_t n;
  st_code code = st_node_posted(c, miner, key, &all, &n, err);
  if (!code && deadline >= n) code = na_bad(err, "StateMinerDeadlines", "deadline entry");
  if (!code) code = st_bitfield_copy(&all[deadline], out, err);
  if (code) st_bitfield_clear(out);
  st_node_bitfields_free(all, n);
  return code;
}

st_code st_node_get_miner_info(st_rpc_client *c, uint64_t miner, st_node_miner_info *out, st_err *err) {
  static const char M[] = "StateMinerInfo";
  memset(out, 0, sizeof *out);
  json_t *r;
  st_code code = na_call(c, M, na_miner_params(miner, NULL), &r, err);
  if (code) return code;
  const json_t *ma = json_object_get(r, "Multiaddrs"), *first = json_array_get(ma, 0);
  st_buf b = ST_BUF_INIT;
  if (!json_is_array(ma) && !json_is_null(ma)) code = na_bad(err, M, "Multiaddrs"); /* null: none */
  else if (first && (!json_is_string(first) ||
                     st_base64_decode(json_string_value(first), json_string_length(first), true, &b, NULL) ||
                     b.len > sizeof out->multiaddr))
    code = na_bad(err, M, "Multiaddrs[0]");
  else {
    out->nmultiaddrs = json_array_size(ma);
    if (b.len) memcpy(out->multiaddr, b.data, b.len);
    out->multiaddr_len = b.len;
  }
  st_buf_free(&b);
  json_decref(r);
  if (code) memset(out, 0, sizeof *out);
  return code;
}

void st_node_power_init(st_node_power *p) {
  mpz_inits(p->raw, p->qa, p->total_raw, p->total_qa, NULL);
  p->has_min_power = false;
}

void st_node_power_free(st_node_power *p) { mpz_clears(p->raw, p->qa, p->total_raw, p->total_qa, NULL); }

st_code st_node_miner_power(st_rpc_client *c, uint64_t miner, st_node_power *out, st_err *err) {
  static const char M[] = "StateMinerPower";
  json_t *r;
  st_code code = na_call(c, M, na_miner_params(miner, NULL), &r, err);
  const json_t *mp = json_object_get(r, "MinerPower"), *tp = json_object_get(r, "TotalPower");
  if (!code) code = na_big_field(mp, "MinerPower.RawBytePower", M, out->raw, err);
  if (!code) code = na_big_field(mp, "MinerPower.QualityAdjPower", M, out->qa, err);
  if (!code) code = na_big_field(tp, "TotalPower.RawBytePower", M, out->total_raw, err);
  if (!code) code = na_big_field(tp, "TotalPower.QualityAdjPower", M, out->total_qa, err);
  if (!code) out->has_min_power = json_is_true(json_object_get(r, "HasMinPower"));
  json_decref(r);
  if (code) {
    mpz_set_ui(out->raw, 0), mpz_set_ui(out->qa, 0), mpz_set_ui(out->total_raw, 0), mpz_set_ui(out->total_qa, 0);
    out->has_min_power = false;
  }
  return code;
}

void st_node_miner_funds_init(st_node_miner_funds *f) {
  mpz_inits(f->balance, f->precommit_deposits, f->locked_funds, NULL);
}

void st_node_miner_funds_free(st_node_miner_funds *f) {
  mpz_clears(f->balance, f->precommit_deposits, f->locked_funds, NULL);
}

st_code st_node_get_miner_funds(st_rpc_client *c, uint64_t miner, st_node_miner_funds *out, st_err *err) {
  static const char M[] = "StateReadState";
  json_t *r;
  st_code code = na_call(c, M, na_miner_params(miner, NULL), &r, err);
  const json_t *st = json_object_get(r, "State");
  if (!code) code = na_big_field(r, "Balance", M, out->balance, err);
  if (!code) code = na_big_field(st, "State.PreCommitDeposits", M, out->precommit_deposits, err);
  if (!code) code = na_big_field(st, "State.LockedFunds", M, out->locked_funds, err);
  json_decref(r);
  if (code) mpz_set_ui(out->balance, 0), mpz_set_ui(out->precommit_deposits, 0), mpz_set_ui(out->locked_funds, 0);
  return code;
}

st_code st_node_miner_available(st_rpc_client *c, uint64_t miner, mpz_t out, st_err *err) {
  return na_amount_call(c, "StateMinerAvailableBalance", na_miner_params(miner, NULL), out, err);
}

st_code st_node_get_sector_count(st_rpc_client *c, uint64_t miner, st_node_sector_count *out, st_err *err) {
  static const char M[] = "StateMinerSectorCount";
  memset(out, 0, sizeof *out);
  json_t *r;
  st_code code = na_call(c, M, na_miner_params(miner, NULL), &r, err);
  if (!code && (!st_chain_json_u64_value(json_object_get(r, "Live"), &out->live) ||
                !st_chain_json_u64_value(json_object_get(r, "Active"), &out->active) ||
                !st_chain_json_u64_value(json_object_get(r, "Faulty"), &out->faulty)))
    code = na_bad(err, M, "Live, Active and Faulty");
  json_decref(r);
  if (code) memset(out, 0, sizeof *out);
  return code;
}

st_code st_node_sector_info(st_rpc_client *c, uint64_t miner, uint64_t number, st_sector_onchain *out, bool *found,
                            st_err *err) {
  static const char M[] = "StateSectorGetInfo";
  char addr[32];
  json_t *r;
  *found = false;
  st_sector_onchain_init(out);
  st_code code = na_call(c, M, json_pack("[s o []]", na_miner_addr(miner, addr), st_chain_json_u64(number)), &r, err);
  if (!code && !json_is_null(r)) {
    st_sector_onchain_free(out);
    code = st_sector_onchain_from_json(r, M, out, err);
    *found = !code;
  }
  json_decref(r);
  return code;
}
