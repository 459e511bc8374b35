/* st_node_api_mining: a round's base info and a block made and submitted by the node. */
#include "rpc/st_node_api_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/st_encoding.h"

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
    return na_bad(err, M, "WorkerKey");
  if (!st_chain_json_u64_value(json_object_get(r, "SectorSize"), &out->sector_size))
    return na_bad(err, M, "SectorSize");
  const json_t *sectors = json_object_get(r, "Sectors"), *entries = json_object_get(r, "BeaconEntries");
  if (!json_is_array(sectors)) return na_bad(err, M, "Sectors");
  if (!json_is_array(entries) || !json_array_size(entries)) return na_bad(err, M, "BeaconEntries");
  size_t ns = json_array_size(sectors), ne = json_array_size(entries);
  out->sectors = calloc(ns + 1, sizeof *out->sectors);
  out->comm_r = calloc(ns + 1, sizeof *out->comm_r);
  out->entries = calloc(ne, sizeof *out->entries);
  if (!out->sectors || !out->comm_r || !out->entries) return st_err_set(err, ST_ENOMEM, "out of memory");
  for (size_t i = 0; i < ns; i++, out->nsectors++) {
    const json_t *s = json_array_get(sectors, i);
    st_cid cid;
    if (!st_chain_json_u64_value(json_object_get(s, "SectorNumber"), &out->sectors[i]))
      return na_bad(err, M, "Sectors[].SectorNumber");
    if (st_chain_json_get_cid(json_object_get(s, "SealedCID"), "MinerGetBaseInfo: Sectors[].SealedCID", &cid, err))
      return ST_EINVAL;
    if (cid.digest_len != 32) return na_bad(err, M, "Sectors[].SealedCID");
    memcpy(out->comm_r[i], cid.digest, 32);
  }
  for (size_t i = 0; i < ne; i++, out->nentries++) {
    const json_t *e = json_array_get(entries, i), *d = json_object_get(e, "Data");
    st_buf b = ST_BUF_INIT;
    if (!st_chain_json_u64_value(json_object_get(e, "Round"), &out->entries[i].round) || !json_is_string(d) ||
        st_base64_decode(json_string_value(d), json_string_length(d), true, &b, NULL) || !b.len) {
      st_buf_free(&b);
      return na_bad(err, M, "BeaconEntries[]");
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
  st_code code =
      na_call(c, "MinerGetBaseInfo",
              json_pack("[s I o]", na_miner_addr(miner, addr), (json_int_t)round, na_key_json(key)), &r, err);
  if (!code) code = parse_base_info(r, out, err);
  json_decref(r);
  if (code) {
    st_node_base_info_free(out);
    st_node_base_info_init(out);
  }
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
                                    na_bytes_json(t->beacon_entries[i].data.data, t->beacon_entries[i].data.len)));
  for (size_t i = 0; i < t->n_win_post_proof; i++)
    json_array_append_new(
        posts, json_pack("{sI so}", "PoStProof", (json_int_t)t->win_post_proof[i].post_proof, "ProofBytes",
                         na_bytes_json(t->win_post_proof[i].proof_bytes.data, t->win_post_proof[i].proof_bytes.len)));
  *out = json_pack("{ss so so so so sn sI sI so}", "Miner", miner, "Parents", na_key_json(&pk), "Ticket",
                   json_pack("{so}", "VRFProof", na_bytes_json(t->ticket_vrf_proof.data, t->ticket_vrf_proof.len)),
                   "Eproof",
                   json_pack("{sI so}", "WinCount", (json_int_t)t->win_count, "VRFProof",
                             na_bytes_json(t->election_vrf_proof.data, t->election_vrf_proof.len)),
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
  if ((code = na_call(c, "MinerCreateBlock", json_pack("[o]", t), &bm, err))) return code;
  st_block_header h;
  st_block_header_init(&h);
  if (st_block_header_from_json(json_object_get(bm, "Header"), &h, err))
    code = st_err_wrap(err, ST_EINVAL, "MinerCreateBlock: Header");
  if (!code) code = st_block_header_cid(&h, cid, err);
  st_block_header_free(&h);
  *nmsgs = json_array_size(json_object_get(bm, "SecpkMessages")) + json_array_size(json_object_get(bm, "BlsMessages"));
  if (!code && !(code = na_call(c, "SyncSubmitBlock", json_pack("[O]", bm), &r, err))) json_decref(r);
  json_decref(bm);
  if (code) {
    memset(cid, 0, sizeof *cid);
    *nmsgs = 0;
  }
  return code;
}
