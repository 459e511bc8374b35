/* st_node_api_market: the market's and the verified registry's state: escrow, deals, datacap. */
#include "rpc/st_node_api_int.h"

#include <stdio.h>
#include <string.h>

st_code st_node_market_balance(st_rpc_client *c, const st_address *a, mpz_t escrow, mpz_t locked, st_err *err) {
  json_t *r;
  st_code code = na_call(c, "StateMarketBalance", na_addr_param(a), &r, err);
  if (!code && (st_chain_json_get_bigint(json_object_get(r, "Escrow"), "Escrow", escrow, NULL) ||
                st_chain_json_get_bigint(json_object_get(r, "Locked"), "Locked", locked, NULL)))
    code = na_bad(err, "StateMarketBalance", "Escrow and Locked");
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
  st_code code = na_call(c, "StateMarketDeals", json_pack("[[]]"), &deals, err);
  if (code) return code;
  char piece[ST_CID_STR_MAX], cl[32], pr[32];
  st_cid_to_string(&p->piece_cid, piece);
  snprintf(cl, sizeof cl, "t0%llu", (unsigned long long)client);
  na_miner_addr(provider, pr);
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

st_code st_node_verifreg_status(st_rpc_client *c, bool verifier, const st_address *a, bool *found, mpz_t out,
                                st_err *err) {
  const char *m = verifier ? "StateVerifierStatus" : "StateVerifiedClientStatus";
  *found = false;
  mpz_set_ui(out, 0);
  json_t *r;
  st_code code = na_call(c, m, na_addr_param(a), &r, err);
  if (!code && !json_is_null(r)) {
    *found = true;
    if (st_chain_json_get_bigint(r, "amount", out, NULL)) code = na_bad(err, m, verifier ? "allowance" : "datacap");
  }
  json_decref(r);
  if (code) *found = false, mpz_set_ui(out, 0);
  return code;
}

st_code st_node_market_deal(st_rpc_client *c, uint64_t id, st_node_deal_state *out, st_err *err) {
  static const char M[] = "StateMarketStorageDeal";
  memset(out, 0, sizeof *out);
  json_t *r;
  st_code code = na_call(c, M, json_pack("[o []]", st_chain_json_u64(id)), &r, err);
  const json_t *s = json_object_get(r, "State");
  if (!code) code = na_int_field(s, "SectorStartEpoch", M, &out->sector_start, err);
  if (!code) code = na_int_field(s, "LastUpdatedEpoch", M, &out->last_updated, err);
  if (!code) code = na_int_field(s, "SlashEpoch", M, &out->slash_epoch, err);
  json_decref(r);
  if (code) memset(out, 0, sizeof *out);
  return code;
}
