/* st_node_api: typed calls to the daemon; JSON in and out stays in this file. */
#include "rpc/st_node_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/st_encoding.h"
#include "crypto/st_secp.h"
#include "rpc/st_jwt.h"

/* Calls method; on failure the error names it. */
static st_code call(st_rpc_client *c, const char *method, json_t *params, json_t **result, st_err *err) {
  st_code code = st_rpc_client_call(c, method, params, result, err);
  if (code) st_err_wrap(err, code, "%s", method);
  return code;
}

static st_code bad(st_err *err, const char *method, const char *what) {
  return st_err_set(err, ST_EINVAL, "%s: the node's answer has no valid %s", method, what);
}

/* A miner's ID address as text ("t01000"). */
static const char *miner_addr(uint64_t miner, char out[32]) {
  snprintf(out, 32, "t0%llu", (unsigned long long)miner);
  return out;
}

static json_t *key_json(const st_tipset_key *key) {
  json_t *j = NULL;
  if (!key || !key->n || st_tipset_key_to_json(key, &j, NULL)) return json_array();
  return j;
}

static json_t *bytes_json(const uint8_t *p, size_t n) {
  if (!n) return json_null();
  st_buf b = ST_BUF_INIT;
  st_base64_append(&b, p, n, true);
  json_t *j = b.failed ? json_null() : json_stringn((const char *)b.data, b.len);
  st_buf_free(&b);
  return j;
}

/* Decodes a base64 field into out (exactly n bytes unless n is 0, then any length into *buf). */
static st_code b64_field(const json_t *v, const char *method, const char *what, uint8_t *out, size_t n, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_code code =
      json_is_string(v) ? st_base64_decode(json_string_value(v), json_string_length(v), true, &b, NULL) : ST_EINVAL;
  if (code || b.len != n) code = bad(err, method, what);
  else memcpy(out, b.data, n);
  st_buf_free(&b);
  return code;
}

void st_node_head_init(st_node_head *h) {
  memset(h, 0, sizeof *h);
  st_tipset_key_init(&h->key);
  st_tipset_key_init(&h->parents);
}

void st_node_head_free(st_node_head *h) {
  st_tipset_key_free(&h->key);
  st_tipset_key_free(&h->parents);
  st_chain_bytes_free(&h->min_ticket);
}

/* A tipset's JSON (method: the call it came from, for errors) into *out. */
static st_code head_from_json(const json_t *r, const char *method, st_node_head *out, st_err *err) {
  st_node_head_free(out);
  st_node_head_init(out);
  char what[64];
  snprintf(what, sizeof what, "%s: Cids", method);
  st_code code = ST_OK;
  const json_t *h = json_object_get(r, "Height");
  if (!json_is_integer(h)) code = bad(err, method, "Height");
  else out->height = json_integer_value(h);
  if (!code && st_tipset_key_from_json(json_object_get(r, "Cids"), what, &out->key, err)) code = ST_EINVAL;
  st_block_header b;
  st_block_header_init(&b);
  const json_t *first = json_array_get(json_object_get(r, "Blocks"), 0);
  if (!code && (!first || st_block_header_from_json(first, &b, err)))
    code = first ? st_err_wrap(err, ST_EINVAL, "%s: Blocks[0]", method) : bad(err, method, "Blocks");
  if (!code && b.has_ticket)
    code = st_chain_bytes_set(&out->min_ticket, b.ticket_vrf_proof.data, b.ticket_vrf_proof.len, err);
  if (!code) code = st_tipset_key_set(&out->parents, b.parents, b.n_parents, err);
  st_block_header_free(&b);
  return code;
}

/* On failure *out is emptied, as st_node_head_init leaves it. */
static st_code head_done(st_node_head *out, st_code code) {
  if (code) {
    st_node_head_free(out);
    st_node_head_init(out);
  }
  return code;
}

st_code st_node_chain_head(st_rpc_client *c, st_node_head *out, st_err *err) {
  json_t *r;
  st_code code = call(c, "ChainHead", NULL, &r, err);
  if (!code) code = head_from_json(r, "ChainHead", out, err);
  json_decref(r);
  return head_done(out, code);
}

st_code st_node_chain_tipset(st_rpc_client *c, const st_tipset_key *key, st_node_head *out, st_err *err) {
  json_t *k = NULL, *r = NULL;
  st_code code = st_tipset_key_to_json(key, &k, err); /* before out (which may hold key) is reset */
  if (!code) code = call(c, "ChainGetTipSet", json_pack("[o]", k), &r, err);
  if (!code) code = head_from_json(r, "ChainGetTipSet", out, err);
  json_decref(r);
  return head_done(out, code);
}

void st_node_base_info_init(st_node_base_info *b) {
  memset(b, 0, sizeof *b);
  mpz_inits(b->miner_power, b->network_power, NULL);
}

void st_node_base_info_free(st_node_base_info *b) {
  mpz_clears(b->miner_power, b->network_power, NULL);
  free(b->sectors);
  free(b->comm_r);
  for (size_t i = 0; i < b->nentries; i++) st_chain_bytes_free(&b->entries[i].data);
  free(b->entries);
  memset(b, 0, sizeof *b);
}

static st_code parse_base_info(const json_t *r, st_node_base_info *out, st_err *err) {
  static const char M[] = "MinerGetBaseInfo";
  if (json_is_null(r)) return ST_OK;
  out->present = true;
  if (st_chain_json_get_bigint(json_object_get(r, "MinerPower"), "MinerGetBaseInfo: MinerPower", out->miner_power,
                               err) ||
      st_chain_json_get_bigint(json_object_get(r, "NetworkPower"), "MinerGetBaseInfo: NetworkPower", out->network_power,
                               err))
    return ST_EINVAL;
  out->eligible = json_is_true(json_object_get(r, "EligibleForMining"));
  const json_t *wk = json_object_get(r, "WorkerKey");
  if (!json_is_string(wk) || st_address_parse(json_string_value(wk), &out->worker_key, NULL, NULL))
    return bad(err, M, "WorkerKey");
  if (!st_chain_json_u64_value(json_object_get(r, "SectorSize"), &out->sector_size)) return bad(err, M, "SectorSize");
  const json_t *sectors = json_object_get(r, "Sectors"), *entries = json_object_get(r, "BeaconEntries");
  if (!json_is_array(sectors)) return bad(err, M, "Sectors");
  if (!json_is_array(entries) || !json_array_size(entries)) return bad(err, M, "BeaconEntries");
  size_t ns = json_array_size(sectors), ne = json_array_size(entries);
  out->sectors = calloc(ns + 1, sizeof *out->sectors);
  out->comm_r = calloc(ns + 1, sizeof *out->comm_r);
  out->entries = calloc(ne, sizeof *out->entries);
  if (!out->sectors || !out->comm_r || !out->entries) return st_err_set(err, ST_ENOMEM, "out of memory");
  for (size_t i = 0; i < ns; i++, out->nsectors++) {
    const json_t *s = json_array_get(sectors, i);
    st_cid cid;
    if (!st_chain_json_u64_value(json_object_get(s, "SectorNumber"), &out->sectors[i]))
      return bad(err, M, "Sectors[].SectorNumber");
    if (st_chain_json_get_cid(json_object_get(s, "SealedCID"), "MinerGetBaseInfo: Sectors[].SealedCID", &cid, err))
      return ST_EINVAL;
    if (cid.digest_len != 32) return bad(err, M, "Sectors[].SealedCID");
    memcpy(out->comm_r[i], cid.digest, 32);
  }
  for (size_t i = 0; i < ne; i++, out->nentries++) {
    const json_t *e = json_array_get(entries, i), *d = json_object_get(e, "Data");
    st_buf b = ST_BUF_INIT;
    if (!st_chain_json_u64_value(json_object_get(e, "Round"), &out->entries[i].round) || !json_is_string(d) ||
        st_base64_decode(json_string_value(d), json_string_length(d), true, &b, NULL) || !b.len) {
      st_buf_free(&b);
      return bad(err, M, "BeaconEntries[]");
    }
    st_code code = st_chain_bytes_set(&out->entries[i].data, b.data, b.len, err);
    st_buf_free(&b);
    if (code) return code;
  }
  return ST_OK;
}

st_code st_node_get_base_info(st_rpc_client *c, uint64_t miner, int64_t round, const st_tipset_key *key,
                              st_node_base_info *out, st_err *err) {
  st_node_base_info_free(out);
  st_node_base_info_init(out);
  char addr[32];
  json_t *r;
  st_code code = call(c, "MinerGetBaseInfo",
                      json_pack("[s I o]", miner_addr(miner, addr), (json_int_t)round, key_json(key)), &r, err);
  if (!code) code = parse_base_info(r, out, err);
  json_decref(r);
  if (code) {
    st_node_base_info_free(out);
    st_node_base_info_init(out);
  }
  return code;
}

st_code st_node_randomness(st_rpc_client *c, bool beacon, int64_t dst, int64_t round, const uint8_t *entropy,
                           size_t elen, const st_tipset_key *key, uint8_t out[32], st_err *err) {
  const char *m = beacon ? "StateGetRandomnessFromBeacon" : "StateGetRandomnessFromTickets";
  json_t *r;
  st_code code =
      call(c, m, json_pack("[I I o o]", (json_int_t)dst, (json_int_t)round, bytes_json(entropy, elen), key_json(key)),
           &r, err);
  if (!code) code = b64_field(r, m, "randomness", out, 32, err);
  json_decref(r);
  if (code) memset(out, 0, 32);
  return code;
}

st_code st_node_vrf(st_rpc_client *c, const st_address *addr, const uint8_t *alpha, size_t alen,
                    uint8_t pi[ST_VRF_PROOF_LEN], st_err *err) {
  char a[ST_ADDR_STR_MAX];
  json_t *r = NULL;
  st_code code = st_address_format(addr, 't', a, err);
  if (!code) code = call(c, "WalletVRF", json_pack("[s o]", a, bytes_json(alpha, alen)), &r, err);
  if (!code) code = b64_field(json_object_get(r, "Proof"), "WalletVRF", "Proof", pi, ST_VRF_PROOF_LEN, err);
  json_decref(r);
  if (code) memset(pi, 0, ST_VRF_PROOF_LEN);
  return code;
}

st_code st_node_push(st_rpc_client *c, const st_message *m, const mpz_t max_fee, st_cid *cid, st_err *err) {
  memset(cid, 0, sizeof *cid);
  st_signed_message sm;
  st_code code = st_node_push_signed(c, m, max_fee, &sm, err);
  if (!code) code = st_signed_message_cid(&sm, cid, err);
  st_signed_message_free(&sm);
  if (code) memset(cid, 0, sizeof *cid);
  return code;
}

st_code st_node_send(st_rpc_client *c, const st_address *from, uint64_t to, uint64_t method, const uint8_t *params,
                     size_t len, const mpz_t max_fee, st_cid *cid, st_err *err) {
  st_message m;
  st_message_init(&m);
  m.from = *from;
  st_address_from_id(to, &m.to, NULL);
  m.method = method;
  st_code code = st_chain_bytes_set(&m.params, params, len, err);
  if (!code) code = st_node_push(c, &m, max_fee, cid, err);
  st_message_free(&m);
  return code;
}

st_code st_node_sector_on_chain(st_rpc_client *c, uint64_t miner, uint64_t sector, bool *committed,
                                int64_t *precommit_epoch, st_err *err) {
  char addr[32];
  json_t *r;
  *committed = false;
  *precommit_epoch = 0;
  st_code code =
      call(c, "StateSectorGetInfo", json_pack("[s o []]", miner_addr(miner, addr), st_chain_json_u64(sector)), &r, err);
  if (code) return code;
  *committed = !json_is_null(r);
  json_decref(r);
  if (*committed) return ST_OK;
  if ((code = call(c, "StateSectorPreCommitInfo", json_pack("[s o []]", addr, st_chain_json_u64(sector)), &r, err)))
    return code;
  const json_t *e = json_object_get(r, "PreCommitEpoch");
  if (!json_is_null(r) && (!json_is_integer(e) || json_integer_value(e) <= 0))
    code = bad(err, "StateSectorPreCommitInfo", "PreCommitEpoch");
  else if (!json_is_null(r)) *precommit_epoch = json_integer_value(e);
  json_decref(r);
  return code;
}

/* A MsgLookup (method: the call it came from, for errors) into *out, which is zeroed. */
static st_code lookup_from_json(const json_t *r, const char *method, st_node_lookup *out, st_err *err) {
  const json_t *rc = json_object_get(r, "Receipt"), *ex = json_object_get(rc, "ExitCode"),
               *h = json_object_get(r, "Height");
  if (!json_is_integer(ex) || !json_is_integer(h)) return bad(err, method, "Receipt.ExitCode and Height");
  out->found = true;
  out->exit_code = json_integer_value(ex);
  out->height = json_integer_value(h);
  const json_t *ret = json_object_get(rc, "Return");
  st_buf b = ST_BUF_INIT;
  if (json_is_string(ret) && !st_base64_decode(json_string_value(ret), json_string_length(ret), true, &b, NULL) &&
      b.len <= sizeof out->ret) {
    if (b.len) memcpy(out->ret, b.data, b.len); /* NULL data when empty */
    out->ret_len = b.len;
  }
  st_buf_free(&b);
  return ST_OK;
}

st_code st_node_search_msg(st_rpc_client *c, const st_cid *msg, st_node_lookup *out, st_err *err) {
  memset(out, 0, sizeof *out);
  json_t *r;
  st_code code = call(c, "StateSearchMsg", json_pack("[[] o I b]", st_chain_json_cid(msg), (json_int_t)-1, 1), &r, err);
  if (!code && !json_is_null(r)) code = lookup_from_json(r, "StateSearchMsg", out, err);
  json_decref(r);
  if (code) memset(out, 0, sizeof *out);
  return code;
}

/* The BlockTemplate of docs/lotus-api.md 2.7 from a header. */
static st_code template_json(const st_block_header *t, json_t **out, st_err *err) {
  char miner[ST_ADDR_STR_MAX];
  st_code code = st_address_format(&t->miner, 't', miner, err);
  if (code) return code;
  st_tipset_key pk = {t->parents, t->n_parents};
  json_t *beacons = json_array(), *posts = json_array();
  for (size_t i = 0; i < t->n_beacon_entries; i++)
    json_array_append_new(beacons,
                          json_pack("{so so}", "Round", st_chain_json_u64(t->beacon_entries[i].round), "Data",
                                    bytes_json(t->beacon_entries[i].data.data, t->beacon_entries[i].data.len)));
  for (size_t i = 0; i < t->n_win_post_proof; i++)
    json_array_append_new(
        posts, json_pack("{sI so}", "PoStProof", (json_int_t)t->win_post_proof[i].post_proof, "ProofBytes",
                         bytes_json(t->win_post_proof[i].proof_bytes.data, t->win_post_proof[i].proof_bytes.len)));
  *out =
      json_pack("{ss so so so so sn sI sI so}", "Miner", miner, "Parents", key_json(&pk), "Ticket",
                json_pack("{so}", "VRFProof", bytes_json(t->ticket_vrf_proof.data, t->ticket_vrf_proof.len)), "Eproof",
                json_pack("{sI so}", "WinCount", (json_int_t)t->win_count, "VRFProof",
                          bytes_json(t->election_vrf_proof.data, t->election_vrf_proof.len)),
                "BeaconValues", beacons, "Messages", "Epoch", (json_int_t)t->height, "Timestamp", (json_int_t)0,
                "WinningPoStProof", posts);
  return *out ? ST_OK : st_err_set(err, ST_ENOMEM, "out of memory");
}

st_code st_node_create_submit_block(st_rpc_client *c, const st_block_header *tmpl, st_cid *cid, size_t *nmsgs,
                                    st_err *err) {
  memset(cid, 0, sizeof *cid);
  *nmsgs = 0;
  json_t *t, *bm, *r;
  st_code code = template_json(tmpl, &t, err);
  if (code) return code;
  if ((code = call(c, "MinerCreateBlock", json_pack("[o]", t), &bm, err))) return code;
  st_block_header h;
  st_block_header_init(&h);
  if (st_block_header_from_json(json_object_get(bm, "Header"), &h, err))
    code = st_err_wrap(err, ST_EINVAL, "MinerCreateBlock: Header");
  if (!code) code = st_block_header_cid(&h, cid, err);
  st_block_header_free(&h);
  *nmsgs = json_array_size(json_object_get(bm, "SecpkMessages")) + json_array_size(json_object_get(bm, "BlsMessages"));
  if (!code && !(code = call(c, "SyncSubmitBlock", json_pack("[O]", bm), &r, err))) json_decref(r);
  json_decref(bm);
  if (code) {
    memset(cid, 0, sizeof *cid);
    *nmsgs = 0;
  }
  return code;
}

static json_t *miner_params(uint64_t miner, const st_tipset_key *key) {
  char addr[32];
  return json_pack("[s o]", miner_addr(miner, addr), key_json(key));
}

static st_code int_field(const json_t *o, const char *name, const char *method, int64_t *out, st_err *err) {
  const json_t *v = json_object_get(o, name);
  if (!json_is_integer(v)) return bad(err, method, name);
  *out = json_integer_value(v);
  return ST_OK;
}

st_code st_node_proving_deadline(st_rpc_client *c, uint64_t miner, const st_tipset_key *key, st_deadline_info *out,
                                 st_err *err) {
  static const char M[] = "StateMinerProvingDeadline";
  memset(out, 0, sizeof *out);
  json_t *r;
  st_code code = call(c, M, miner_params(miner, key), &r, err);
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
    code = int_field(r, fields[i].name, M, fields[i].at, err);
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
  st_code code = call(c, "StateMinerPartitions",
                      json_pack("[s I o]", miner_addr(miner, addr), (json_int_t)deadline, key_json(key)), &r, err);
  if (code) return code;
  size_t k = json_is_array(r) ? json_array_size(r) : 0;
  st_node_partition *p = calloc(k + 1, sizeof *p);
  if (!p) code = st_err_set(err, ST_ENOMEM, "out of memory");
  if (!code && !json_is_array(r) && !json_is_null(r))
    code = bad(err, "StateMinerPartitions", "partition list"); /* null: none */
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
  st_code code = call(c, M,
                      json_pack("[s o o]", miner_addr(miner, addr),
                                filter ? st_chain_json_bitfield(filter) : json_null(), key_json(key)),
                      &r, err);
  if (code) return code;
  size_t k = json_array_size(r);
  st_node_sector *s = calloc(k + 1, sizeof *s);
  if (!s) code = st_err_set(err, ST_ENOMEM, "out of memory");
  if (!code && !json_is_array(r) && !json_is_null(r)) code = bad(err, M, "sector list"); /* null: none */
  for (size_t i = 0; i < k && !code; i++) {
    const json_t *o = json_array_get(r, i);
    st_cid cid;
    if (!st_chain_json_u64_value(json_object_get(o, "SectorNumber"), &s[i].number)) code = bad(err, M, "SectorNumber");
    else if (int_field(o, "Expiration", M, &s[i].expiration, err)) code = ST_EINVAL;
    else if (st_chain_json_get_cid(json_object_get(o, "SealedCID"), "StateMinerSectors: SealedCID", &cid, err))
      code = ST_EINVAL;
    else if (cid.digest_len != 32) code = bad(err, M, "SealedCID");
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
  st_code code = call(c, "StateMinerDeadlines", miner_params(miner, key), &r, err);
  if (code) return code;
  size_t k = json_array_size(r);
  st_bitfield *b = calloc(k + 1, sizeof *b);
  if (!b) code = st_err_set(err, ST_ENOMEM, "out of memory");
  else if (!json_is_array(r)) code = bad(err, "StateMinerDeadlines", "deadline list");
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
  if (!code && deadline >= n) code = bad(err, "StateMinerDeadlines", "deadline entry");
  if (!code) code = st_bitfield_copy(&all[deadline], out, err);
  if (code) st_bitfield_clear(out);
  st_node_bitfields_free(all, n);
  return code;
}

st_code st_node_pending_find(st_rpc_client *c, const st_address *from, const st_address *to, uint64_t method,
                             const uint8_t *params, size_t len, bool *found, st_cid *cid, st_err *err) {
  *found = false;
  memset(cid, 0, sizeof *cid);
  st_signed_message *pending;
  size_t n;
  st_code code = st_node_pending(c, &pending, &n, err);
  for (size_t i = 0; i < n && !code && !*found; i++) {
    const st_message *m = &pending[i].message;
    if (m->method == method && st_address_equal(&m->from, from) && st_address_equal(&m->to, to) &&
        m->params.len == len && (!len || !memcmp(m->params.data, params, len))) {
      *found = true;
      code = st_signed_message_cid(&pending[i], cid, err);
    }
  }
  st_node_messages_free(pending, n);
  if (code) {
    *found = false;
    memset(cid, 0, sizeof *cid);
  }
  return code;
}

st_code st_node_network(st_rpc_client *c, st_network *out, uint64_t *genesis_time, st_err *err) {
  json_t *r;
  st_code code = call(c, "StateGetNetworkParams", NULL, &r, err);
  if (!code && st_network_from_json(json_object_get(r, "Spacetime"), out, err))
    code = st_err_wrap(err, ST_EINVAL, "StateGetNetworkParams: Spacetime");
  else if (!code && !st_chain_json_u64_value(json_object_get(r, "GenesisTimestamp"), genesis_time))
    code = bad(err, "StateGetNetworkParams", "GenesisTimestamp");
  json_decref(r);
  if (code) {
    memset(out, 0, sizeof *out);
    *genesis_time = 0;
  }
  return code;
}

/* ---- the market ---- */

static json_t *addr_param(const st_address *a) {
  char text[ST_ADDR_STR_MAX];
  st_address_text(a, text);
  return json_pack("[s []]", text);
}

st_code st_node_lookup_id(st_rpc_client *c, const st_address *a, uint64_t *id, st_err *err) {
  *id = 0;
  json_t *r;
  st_code code = call(c, "StateLookupID", addr_param(a), &r, err);
  if (code) return code;
  st_address got;
  if (!json_is_string(r) || st_address_parse(json_string_value(r), &got, NULL, NULL) || st_address_id(&got, id, NULL))
    code = bad(err, "StateLookupID", "ID address");
  json_decref(r);
  if (code) *id = 0;
  return code;
}

st_code st_node_account_key(st_rpc_client *c, const st_address *a, st_address *key, st_err *err) {
  memset(key, 0, sizeof *key);
  json_t *r;
  st_code code = call(c, "StateAccountKey", addr_param(a), &r, err);
  if (code) return code;
  if (!json_is_string(r) || st_address_parse(json_string_value(r), key, NULL, NULL))
    code = bad(err, "StateAccountKey", "key address");
  json_decref(r);
  if (code) memset(key, 0, sizeof *key);
  return code;
}

st_code st_node_market_balance(st_rpc_client *c, const st_address *a, mpz_t escrow, mpz_t locked, st_err *err) {
  json_t *r;
  st_code code = call(c, "StateMarketBalance", addr_param(a), &r, err);
  if (!code && (st_chain_json_get_bigint(json_object_get(r, "Escrow"), "Escrow", escrow, NULL) ||
                st_chain_json_get_bigint(json_object_get(r, "Locked"), "Locked", locked, NULL)))
    code = bad(err, "StateMarketBalance", "Escrow and Locked");
  json_decref(r);
  if (code) {
    mpz_set_ui(escrow, 0);
    mpz_set_ui(locked, 0);
  }
  return code;
}

st_code st_node_datacap(st_rpc_client *c, const st_address *a, mpz_t out, st_err *err) {
  bool found; /* none: no datacap, 0 */
  return st_node_verifreg_status(c, false, a, &found, out, err);
}

st_code st_node_deal_exists(st_rpc_client *c, uint64_t id, bool *found, st_err *err) {
  json_t *r = NULL;
  st_err e;
  st_code code = st_rpc_client_call(c, "StateMarketStorageDeal", json_pack("[I []]", (json_int_t)id), &r, &e);
  json_decref(r);
  *found = !code;
  if (code == ST_EUNAVAIL || code == ST_ENOMEM) return st_err_set(err, code, "StateMarketStorageDeal: %s", e.msg);
  return ST_OK;
}

st_code st_node_find_deal(st_rpc_client *c, const st_deal_proposal *p, uint64_t client, uint64_t provider, int64_t *id,
                          st_err *err) {
  *id = -1;
  json_t *deals;
  st_code code = call(c, "StateMarketDeals", json_pack("[[]]"), &deals, err);
  if (code) return code;
  char piece[ST_CID_STR_MAX], cl[32], pr[32];
  st_cid_to_string(&p->piece_cid, piece);
  snprintf(cl, sizeof cl, "t0%llu", (unsigned long long)client);
  miner_addr(provider, pr);
  const char *key;
  json_t *v;
  json_object_foreach(deals, key, v) {
    const json_t *q = json_object_get(v, "Proposal");
    const char *pc = json_string_value(json_object_get(json_object_get(q, "PieceCID"), "/"));
    const char *qc = json_string_value(json_object_get(q, "Client")),
               *qp = json_string_value(json_object_get(q, "Provider"));
    if (pc && qc && qp && !strcmp(pc, piece) && !strcmp(qc, cl) && !strcmp(qp, pr) &&
        json_integer_value(json_object_get(q, "StartEpoch")) == p->start_epoch &&
        json_integer_value(json_object_get(q, "EndEpoch")) == p->end_epoch)
      *id = strtoll(key, NULL, 10);
  }
  json_decref(deals);
  return ST_OK;
}

/* ---- spacetime-miner: init, run's announcement, the operator views and doctor ---- */

st_code st_node_wait_msg(st_rpc_client *c, const st_cid *msg, int64_t confidence, st_node_lookup *out, st_err *err) {
  memset(out, 0, sizeof *out);
  json_t *r;
  st_code code =
      call(c, "StateWaitMsg", json_pack("[o I I b]", st_chain_json_cid(msg), (json_int_t)confidence, (json_int_t)-1, 1),
           &r, err);
  if (!code) code = lookup_from_json(r, "StateWaitMsg", out, err);
  json_decref(r);
  if (code) memset(out, 0, sizeof *out);
  return code;
}

st_code st_node_get_miner_info(st_rpc_client *c, uint64_t miner, st_node_miner_info *out, st_err *err) {
  static const char M[] = "StateMinerInfo";
  memset(out, 0, sizeof *out);
  json_t *r;
  st_code code = call(c, M, miner_params(miner, NULL), &r, err);
  if (code) return code;
  const json_t *ma = json_object_get(r, "Multiaddrs"), *first = json_array_get(ma, 0);
  st_buf b = ST_BUF_INIT;
  if (!json_is_array(ma) && !json_is_null(ma)) code = bad(err, M, "Multiaddrs"); /* null: none */
  else if (first && (!json_is_string(first) ||
                     st_base64_decode(json_string_value(first), json_string_length(first), true, &b, NULL) ||
                     b.len > sizeof out->multiaddr))
    code = bad(err, M, "Multiaddrs[0]");
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

/* A decimal string field of o (path names it in errors) into out. */
static st_code big_field(const json_t *o, const char *path, const char *method, mpz_t out, st_err *err) {
  const char *dot = strrchr(path, '.');
  const json_t *v = json_object_get(o, dot ? dot + 1 : path);
  return st_chain_json_get_bigint(v, path, out, NULL) ? bad(err, method, path) : ST_OK;
}

void st_node_power_init(st_node_power *p) {
  mpz_inits(p->raw, p->qa, p->total_raw, p->total_qa, NULL);
  p->has_min_power = false;
}

void st_node_power_free(st_node_power *p) { mpz_clears(p->raw, p->qa, p->total_raw, p->total_qa, NULL); }

st_code st_node_miner_power(st_rpc_client *c, uint64_t miner, st_node_power *out, st_err *err) {
  static const char M[] = "StateMinerPower";
  json_t *r;
  st_code code = call(c, M, miner_params(miner, NULL), &r, err);
  const json_t *mp = json_object_get(r, "MinerPower"), *tp = json_object_get(r, "TotalPower");
  if (!code) code = big_field(mp, "MinerPower.RawBytePower", M, out->raw, err);
  if (!code) code = big_field(mp, "MinerPower.QualityAdjPower", M, out->qa, err);
  if (!code) code = big_field(tp, "TotalPower.RawBytePower", M, out->total_raw, err);
  if (!code) code = big_field(tp, "TotalPower.QualityAdjPower", M, out->total_qa, err);
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
  st_code code = call(c, M, miner_params(miner, NULL), &r, err);
  const json_t *st = json_object_get(r, "State");
  if (!code) code = big_field(r, "Balance", M, out->balance, err);
  if (!code) code = big_field(st, "State.PreCommitDeposits", M, out->precommit_deposits, err);
  if (!code) code = big_field(st, "State.LockedFunds", M, out->locked_funds, err);
  json_decref(r);
  if (code) mpz_set_ui(out->balance, 0), mpz_set_ui(out->precommit_deposits, 0), mpz_set_ui(out->locked_funds, 0);
  return code;
}

/* A call whose result is one attoFIL amount (a decimal string) into out; 0 on failure. */
static st_code amount_call(st_rpc_client *c, const char *method, json_t *params, mpz_t out, st_err *err) {
  mpz_set_ui(out, 0);
  json_t *r;
  st_code code = call(c, method, params, &r, err);
  if (!code && st_chain_json_get_bigint(r, method, out, NULL)) code = bad(err, method, "amount");
  json_decref(r);
  if (code) mpz_set_ui(out, 0);
  return code;
}

st_code st_node_miner_available(st_rpc_client *c, uint64_t miner, mpz_t out, st_err *err) {
  return amount_call(c, "StateMinerAvailableBalance", miner_params(miner, NULL), out, err);
}

st_code st_node_wallet_balance(st_rpc_client *c, const st_address *a, mpz_t out, st_err *err) {
  char text[ST_ADDR_STR_MAX];
  st_address_text(a, text);
  return amount_call(c, "WalletBalance", json_pack("[s]", text), out, err);
}

st_code st_node_get_sector_count(st_rpc_client *c, uint64_t miner, st_node_sector_count *out, st_err *err) {
  static const char M[] = "StateMinerSectorCount";
  memset(out, 0, sizeof *out);
  json_t *r;
  st_code code = call(c, M, miner_params(miner, NULL), &r, err);
  if (!code && (!st_chain_json_u64_value(json_object_get(r, "Live"), &out->live) ||
                !st_chain_json_u64_value(json_object_get(r, "Active"), &out->active) ||
                !st_chain_json_u64_value(json_object_get(r, "Faulty"), &out->faulty)))
    code = bad(err, M, "Live, Active and Faulty");
  json_decref(r);
  if (code) memset(out, 0, sizeof *out);
  return code;
}

/* ---- the spacetime verbs: chain, pool, wallet, state, auth, market ---- */

/* Lotus's TipSet JSON ({Cids, Blocks, Height}) into out (initialised). */
static st_code tipset_from_json(const json_t *r, const char *method, st_tipset *out, st_err *err) {
  const json_t *blocks = json_object_get(r, "Blocks"), *h = json_object_get(r, "Height");
  size_t n = json_array_size(blocks);
  char what[64];
  snprintf(what, sizeof what, "%s: Cids", method);
  if (!json_is_integer(h)) return bad(err, method, "Height");
  if (!n) return bad(err, method, "Blocks");
  out->height = json_integer_value(h);
  if (st_tipset_key_from_json(json_object_get(r, "Cids"), what, &out->key, err)) return ST_EINVAL;
  if (out->key.n != n) return bad(err, method, "Cids, one for each block");
  if (!(out->blocks = calloc(n, sizeof *out->blocks))) return st_err_set(err, ST_ENOMEM, "out of memory");
  for (out->n = 0; out->n < n; out->n++) st_block_header_init(&out->blocks[out->n]);
  for (size_t i = 0; i < n; i++)
    if (st_block_header_from_json(json_array_get(blocks, i), &out->blocks[i], err))
      return st_err_wrap(err, ST_EINVAL, "%s: Blocks[%zu]", method, i);
  return ST_OK;
}

static st_code tipset_call(st_rpc_client *c, const char *method, json_t *params, st_tipset *out, st_err *err) {
  st_tipset_init(out);
  json_t *r;
  st_code code = call(c, method, params, &r, err);
  if (!code) code = tipset_from_json(r, method, out, err);
  json_decref(r);
  if (code) st_tipset_free(out);
  return code;
}

st_code st_node_tipset(st_rpc_client *c, const st_tipset_key *key, st_tipset *out, st_err *err) {
  if (!key) return tipset_call(c, "ChainHead", NULL, out, err);
  json_t *k = NULL;
  st_code code = st_tipset_key_to_json(key, &k, err);
  if (!code) return tipset_call(c, "ChainGetTipSet", json_pack("[o]", k), out, err);
  st_tipset_init(out);
  return code;
}

st_code st_node_tipset_at(st_rpc_client *c, int64_t height, st_tipset *out, st_err *err) {
  return tipset_call(c, "ChainGetTipSetByHeight", json_pack("[I []]", (json_int_t)height), out, err);
}

/* Calls method on a CID and reads its answer into out with a chain type's from_json. */
typedef st_code (*from_json_fn)(const json_t *j, void *out, st_err *err);
static st_code by_cid(st_rpc_client *c, const char *method, const st_cid *cid, from_json_fn from_json, void *out,
                      st_err *err) {
  json_t *r;
  st_code code = call(c, method, json_pack("[o]", st_chain_json_cid(cid)), &r, err);
  if (!code && from_json(r, out, err)) code = st_err_wrap(err, ST_EINVAL, "%s", method);
  json_decref(r);
  return code;
}

static st_code block_from_json(const json_t *j, void *out, st_err *err) {
  return st_block_header_from_json(j, out, err);
}
static st_code message_from_json(const json_t *j, void *out, st_err *err) { return st_message_from_json(j, out, err); }

st_code st_node_block(st_rpc_client *c, const st_cid *cid, st_block_header *out, st_err *err) {
  st_block_header_init(out);
  st_code code = by_cid(c, "ChainGetBlock", cid, block_from_json, out, err);
  if (code) st_block_header_free(out), st_block_header_init(out);
  return code;
}

st_code st_node_message(st_rpc_client *c, const st_cid *cid, st_message *out, st_err *err) {
  st_message_init(out);
  st_code code = by_cid(c, "ChainGetMessage", cid, message_from_json, out, err);
  if (code) st_message_free(out), st_message_init(out);
  return code;
}

void st_node_messages_free(st_signed_message *m, size_t n) {
  for (size_t i = 0; m && i < n; i++) st_signed_message_free(&m[i]);
  free(m);
}

st_code st_node_pending(st_rpc_client *c, st_signed_message **out, size_t *n, st_err *err) {
  *out = NULL;
  *n = 0;
  json_t *r;
  st_code code = call(c, "MpoolPending", json_pack("[[]]"), &r, err);
  size_t k = json_array_size(r), done = 0;
  st_signed_message *m = NULL;
  if (!code && !json_is_array(r) && !json_is_null(r)) code = bad(err, "MpoolPending", "message list");
  if (!code && k && !(m = calloc(k, sizeof *m))) code = st_err_set(err, ST_ENOMEM, "out of memory");
  for (; !code && done < k; done++) {
    st_signed_message_init(&m[done]);
    if (st_signed_message_from_json(json_array_get(r, done), &m[done], err))
      code = st_err_wrap(err, ST_EINVAL, "MpoolPending: [%zu]", done);
  }
  json_decref(r);
  if (code) st_node_messages_free(m, done), m = NULL, k = 0;
  *out = m;
  *n = k;
  return code;
}

st_code st_node_push_signed(st_rpc_client *c, const st_message *m, const mpz_t max_fee, st_signed_message *out,
                            st_err *err) {
  st_signed_message_init(out);
  st_message copy;
  st_message_init(&copy);
  st_code code = st_message_copy(&copy, m, err);
  json_t *mj = NULL, *r = NULL;
  if (!code) {
    copy.nonce = 0;
    code = st_message_to_json(&copy, 't', &mj, err);
  }
  st_message_free(&copy);
  if (!code) {
    json_t *spec = json_object();
    if (max_fee && mpz_sgn(max_fee) > 0) json_object_set_new(spec, "MaxFee", st_chain_json_bigint(max_fee));
    code = call(c, "MpoolPushMessage", json_pack("[o o]", mj, spec), &r, err);
  }
  if (!code && st_signed_message_from_json(r, out, err))
    code = st_err_wrap(err, ST_EINVAL, "MpoolPushMessage: the node's answer");
  json_decref(r);
  if (code) st_signed_message_free(out), st_signed_message_init(out);
  return code;
}

/* The address a method answers; out is zero (undefined) on failure. */
static st_code addr_call(st_rpc_client *c, const char *method, json_t *params, st_address *out, st_err *err) {
  memset(out, 0, sizeof *out);
  json_t *r;
  st_code code = call(c, method, params, &r, err);
  if (!code && (!json_is_string(r) || st_address_parse(json_string_value(r), out, NULL, NULL))) {
    memset(out, 0, sizeof *out);
    code = bad(err, method, "address");
  }
  json_decref(r);
  return code;
}

st_code st_node_wallet_new(st_rpc_client *c, st_address *out, st_err *err) {
  return addr_call(c, "WalletNew", json_pack("[s]", "secp256k1"), out, err);
}

st_code st_node_wallet_default(st_rpc_client *c, st_address *out, st_err *err) {
  return addr_call(c, "WalletDefaultAddress", NULL, out, err);
}

st_code st_node_wallet_list(st_rpc_client *c, st_address **out, size_t *n, st_err *err) {
  *out = NULL;
  *n = 0;
  json_t *r;
  st_code code = call(c, "WalletList", NULL, &r, err);
  size_t k = json_array_size(r);
  st_address *a = NULL;
  if (!code && !json_is_array(r) && !json_is_null(r)) code = bad(err, "WalletList", "address list");
  if (!code && k && !(a = calloc(k, sizeof *a))) code = st_err_set(err, ST_ENOMEM, "out of memory");
  for (size_t i = 0; i < k && !code; i++) {
    const json_t *v = json_array_get(r, i);
    if (!json_is_string(v) || st_address_parse(json_string_value(v), &a[i], NULL, NULL))
      code = bad(err, "WalletList", "address");
  }
  json_decref(r);
  if (code) free(a), a = NULL, k = 0;
  *out = a;
  *n = k;
  return code;
}

st_code st_node_wallet_export(st_rpc_client *c, const st_address *a, st_keyinfo *out, st_err *err) {
  memset(out, 0, sizeof *out);
  char text[ST_ADDR_STR_MAX];
  st_address_text(a, text);
  json_t *r;
  st_code code = call(c, "WalletExport", json_pack("[s]", text), &r, err);
  const json_t *pk = json_object_get(r, "PrivateKey");
  st_buf raw = ST_BUF_INIT;
  if (!code &&
      (!json_is_string(pk) || st_base64_decode(json_string_value(pk), json_string_length(pk), true, &raw, NULL) ||
       raw.len != sizeof out->priv))
    code = bad(err, "WalletExport", "PrivateKey (32 bytes, base64)");
  if (!code) {
    out->type = ST_KEY_SECP256K1;
    memcpy(out->priv, raw.data, sizeof out->priv);
  }
  if (raw.data) st_secure_zero(raw.data, raw.len);
  st_buf_free(&raw);
  json_decref(r); /* the node's text of the key stays in freed memory: jansson cannot wipe it */
  return code;
}

st_code st_node_wallet_import(st_rpc_client *c, const st_keyinfo *ki, st_address *out, st_err *err) {
  st_buf b64 = ST_BUF_INIT;
  st_base64_append(&b64, ki->priv, sizeof ki->priv, true);
  json_t *params = json_pack("[{ss ss}]", "Type", "secp256k1", "PrivateKey", st_buf_cstr(&b64));
  if (b64.data) st_secure_zero(b64.data, b64.len);
  st_buf_free(&b64);
  return addr_call(c, "WalletImport", params, out, err);
}

st_code st_node_wallet_sign(st_rpc_client *c, const st_address *a, const uint8_t *data, size_t len, st_signature *out,
                            st_err *err) {
  memset(out, 0, sizeof *out);
  char text[ST_ADDR_STR_MAX];
  st_address_text(a, text);
  json_t *r;
  st_code code = call(c, "WalletSign", json_pack("[s o]", text, bytes_json(data, len)), &r, err);
  if (!code && st_signature_from_json(r, "WalletSign", out, err)) code = ST_EINVAL;
  json_decref(r);
  if (code) memset(out, 0, sizeof *out);
  return code;
}

st_code st_node_actor(st_rpc_client *c, const st_address *a, st_actor *out, st_err *err) {
  static const char M[] = "StateGetActor";
  st_actor_init(out);
  json_t *r;
  st_code code = call(c, M, addr_param(a), &r, err);
  if (!code && (st_chain_json_get_cid(json_object_get(r, "Code"), "StateGetActor: Code", &out->code, err) ||
                st_chain_json_get_cid(json_object_get(r, "Head"), "StateGetActor: Head", &out->head, err) ||
                st_chain_json_get_bigint(json_object_get(r, "Balance"), "StateGetActor: Balance", out->balance, err)))
    code = ST_EINVAL;
  if (!code && !st_chain_json_u64_value(json_object_get(r, "Nonce"), &out->nonce)) code = bad(err, M, "Nonce");
  json_decref(r);
  if (code) st_actor_free(out), st_actor_init(out);
  return code;
}

st_code st_node_auth_new(st_rpc_client *c, unsigned perms, st_buf *token, st_err *err) {
  json_t *r;
  st_code code = call(c, "AuthNew", json_pack("[o]", st_perms_to_json(perms)), &r, err);
  if (!code && (!json_is_string(r) || st_base64_decode(json_string_value(r), json_string_length(r), true, token, NULL)))
    code = bad(err, "AuthNew", "token");
  json_decref(r);
  return code;
}

st_code st_node_verifreg_status(st_rpc_client *c, bool verifier, const st_address *a, bool *found, mpz_t out,
                                st_err *err) {
  const char *m = verifier ? "StateVerifierStatus" : "StateVerifiedClientStatus";
  *found = false;
  mpz_set_ui(out, 0);
  json_t *r;
  st_code code = call(c, m, addr_param(a), &r, err);
  if (!code && !json_is_null(r)) {
    *found = true;
    if (st_chain_json_get_bigint(r, "amount", out, NULL)) code = bad(err, m, verifier ? "allowance" : "datacap");
  }
  json_decref(r);
  if (code) *found = false, mpz_set_ui(out, 0);
  return code;
}

st_code st_node_market_deal(st_rpc_client *c, uint64_t id, st_node_deal_state *out, st_err *err) {
  static const char M[] = "StateMarketStorageDeal";
  memset(out, 0, sizeof *out);
  json_t *r;
  st_code code = call(c, M, json_pack("[o []]", st_chain_json_u64(id)), &r, err);
  const json_t *s = json_object_get(r, "State");
  if (!code) code = int_field(s, "SectorStartEpoch", M, &out->sector_start, err);
  if (!code) code = int_field(s, "LastUpdatedEpoch", M, &out->last_updated, err);
  if (!code) code = int_field(s, "SlashEpoch", M, &out->slash_epoch, err);
  json_decref(r);
  if (code) memset(out, 0, sizeof *out);
  return code;
}
