/* st_miner_client: a miner's API, typed; JSON stays here. */
#include "client/st_miner_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/st_multiaddr.h"
#include "core/st_encoding.h"
#include "net/st_http_client.h"
#include "rpc/st_node_api.h"

st_code st_miner_client_open(const st_apiinfo *info, const char *name, st_miner_client *out, st_err *err) {
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "%s", name);
  snprintf(out->url, sizeof out->url, "%s", info->url);
  st_code code = st_rpc_client_open(info, &out->rpc, err);
  if (code) memset(out, 0, sizeof *out);
  return code;
}

void st_miner_client_close(st_miner_client *m) {
  st_rpc_client_close(m->rpc);
  memset(m, 0, sizeof *m);
}

st_code st_miner_client_announced(st_rpc_client *node, const char *miner, st_miner_client *out, st_err *err) {
  memset(out, 0, sizeof *out);
  st_address a;
  uint64_t id = 0;
  st_node_miner_info info;
  st_code code = st_address_parse(miner, &a, NULL, err);
  if (!code && st_address_id(&a, &id, NULL)) code = st_node_lookup_id(node, &a, &id, err);
  if (!code && (code = st_node_get_miner_info(node, id, &info, err))) return code; /* the node's error, as it is */
  char text[ST_APIINFO_ADDR_MAX];
  st_apiinfo *api = calloc(1, sizeof *api); /* no token */
  if (!code && !api) code = st_err_set(err, ST_ENOMEM, "out of memory");
  if (!code && !info.multiaddr_len)
    code = st_err_set(err, ST_ENOENT,
                      "miner %s has announced no deal address on chain (is its 'spacetime-miner run' up?)", miner);
  if (!code) code = st_multiaddr_to_text(info.multiaddr, info.multiaddr_len, text, sizeof text, err);
  if (!code) code = st_multiaddr_to_url(text, api->url, sizeof api->url, err);
  if (!code) code = st_miner_client_open(api, miner, out, err);
  free(api);
  return code ? st_err_wrap(err, code, "miner %s", miner) : ST_OK;
}

/* Calls method; errors name the miner. */
static st_code mcall(st_miner_client *m, const char *method, json_t *params, json_t **r, st_err *err) {
  st_code code = st_rpc_client_call(m->rpc, method, params, r, err);
  return code ? st_err_wrap(err, code, "miner %s", m->name) : ST_OK;
}

static st_code bad(st_miner_client *m, const char *method, const char *what, st_err *err) {
  return st_err_set(err, ST_EINVAL, "miner %s: %s: the answer has no valid %s", m->name, method, what);
}

/* An integer field of o into *out; false when it is not one. */
static bool int_field(const json_t *o, const char *name, int64_t *out) {
  const json_t *v = json_object_get(o, name);
  if (json_is_integer(v)) *out = json_integer_value(v);
  return json_is_integer(v);
}

/* A string field of o into out[n]; false when it is not one or does not fit. */
static bool text_field(const json_t *o, const char *name, char *out, size_t n) {
  const char *v = json_string_value(json_object_get(o, name));
  return v && (size_t)snprintf(out, n, "%s", v) < n;
}

st_code st_miner_client_ask(st_miner_client *m, st_miner_ask *out, st_err *err) {
  memset(out, 0, sizeof *out);
  json_t *r;
  st_code code = mcall(m, "MarketGetAsk", NULL, &r, err);
  int64_t max = 0;
  if (!code && (!int_field(r, "MaxPieceSize", &max) || max < 0 || !int_field(r, "StartDelay", &out->start_delay) ||
                !int_field(r, "MinSectorLife", &out->min_life)))
    code = bad(m, "MarketGetAsk", "MaxPieceSize, StartDelay and MinSectorLife", err);
  out->max_piece = (uint64_t)max;
  json_decref(r);
  if (code) memset(out, 0, sizeof *out);
  return code;
}

static st_code deal_from_json(st_miner_client *m, const char *method, const json_t *r, st_miner_deal *out,
                              st_err *err) {
  if (!text_field(r, "ProposalCid", out->proposal_cid, sizeof out->proposal_cid) ||
      !text_field(r, "State", out->state, sizeof out->state) ||
      !text_field(r, "Message", out->message, sizeof out->message) || !int_field(r, "DealID", &out->deal_id) ||
      !int_field(r, "SectorNumber", &out->sector)) {
    memset(out, 0, sizeof *out);
    return bad(m, method, "deal (ProposalCid, State, Message, DealID, SectorNumber)", err);
  }
  return ST_OK;
}

st_code st_miner_client_propose(st_miner_client *m, const st_client_deal *d, const uint8_t *data, size_t len,
                                st_miner_deal *out, json_t **reply, st_err *err) {
  memset(out, 0, sizeof *out);
  *reply = NULL;
  st_buf cdp = ST_BUF_INIT, proposal = ST_BUF_INIT, bytes = ST_BUF_INIT;
  st_code code = st_client_deal_encode(d, &cdp, err);
  st_base64_append(&proposal, cdp.data, cdp.len, true);
  st_base64_append(&bytes, data, len, true);
  if (!code) code = st_buf_status(&proposal, err);
  if (!code) code = st_buf_status(&bytes, err);
  json_t *r = NULL;
  if (!code && (code = st_rpc_client_call(m->rpc, "MarketProposeDeal",
                                          json_pack("[s s]", st_buf_cstr(&proposal), st_buf_cstr(&bytes)), &r, err)))
    st_err_wrap(err, code, "miner %s refused the deal", m->name);
  if (!code) code = deal_from_json(m, "MarketProposeDeal", r, out, err);
  if (!code) *reply = r;
  else json_decref(r);
  st_buf_free(&cdp);
  st_buf_free(&proposal);
  st_buf_free(&bytes);
  return code;
}

st_code st_miner_client_deal(st_miner_client *m, const char *proposal_cid, st_miner_deal *out, st_err *err) {
  memset(out, 0, sizeof *out);
  json_t *r;
  st_code code = mcall(m, "MarketDealStatus", json_pack("[s]", proposal_cid), &r, err);
  if (!code) code = deal_from_json(m, "MarketDealStatus", r, out, err);
  json_decref(r);
  return code;
}

st_code st_miner_client_piece(st_miner_client *m, const char *piece_cid, st_buf *out, st_err *err) {
  char path[ST_CID_STR_MAX + 16];
  snprintf(path, sizeof path, "/piece/%s", piece_cid);
  size_t before = out->len;
  long status = 0;
  st_http_client *h = NULL;
  st_code code = st_http_client_new(m->url, NULL, &h, err);
  if (!code) code = st_http_call(h, "GET", path, NULL, 0, &status, out, err);
  st_http_client_free(h);
  if (!code && status != 200) {
    code = st_err_set(err, ST_EIO, "HTTP %ld: %s", status, st_buf_cstr(out) + before);
    out->len = before; /* the error's body is not the piece */
  }
  return code;
}

st_code st_miner_client_sectors(st_miner_client *m, uint64_t **out, size_t *n, st_err *err) {
  *out = NULL;
  *n = 0;
  json_t *r;
  st_code code = mcall(m, "SectorsList", NULL, &r, err);
  size_t k = json_array_size(r);
  uint64_t *v = NULL;
  if (!code && !json_is_array(r)) code = bad(m, "SectorsList", "sector list", err);
  if (!code && k && !(v = calloc(k, sizeof *v))) code = st_err_set(err, ST_ENOMEM, "out of memory");
  for (size_t i = 0; i < k && !code; i++) {
    const json_t *e = json_array_get(r, i);
    if (!json_is_integer(e) || json_integer_value(e) < 0) code = bad(m, "SectorsList", "sector number", err);
    else v[i] = (uint64_t)json_integer_value(e);
  }
  json_decref(r);
  if (code) free(v), v = NULL, k = 0;
  *out = v;
  *n = k;
  return code;
}

st_code st_miner_client_pledge(st_miner_client *m, uint64_t *number, st_err *err) {
  *number = 0;
  json_t *r;
  st_code code = mcall(m, "PledgeSector", NULL, &r, err);
  int64_t v = 0;
  if (!code && (!int_field(r, "Number", &v) || v < 0)) code = bad(m, "PledgeSector", "Number", err);
  if (!code) *number = (uint64_t)v;
  json_decref(r);
  return code;
}

st_code st_miner_client_summary(st_miner_client *m, st_miner_state_count **out, size_t *n, st_err *err) {
  *out = NULL;
  *n = 0;
  json_t *r;
  st_code code = mcall(m, "SectorsSummary", NULL, &r, err);
  size_t k = json_object_size(r), i = 0;
  st_miner_state_count *v = NULL;
  if (!code && !json_is_object(r)) code = bad(m, "SectorsSummary", "summary", err);
  if (!code && k && !(v = calloc(k, sizeof *v))) code = st_err_set(err, ST_ENOMEM, "out of memory");
  const char *state;
  json_t *count;
  json_object_foreach(r, state, count) {
    if (code) break;
    if (!json_is_integer(count) || (size_t)snprintf(v[i].state, sizeof v[i].state, "%s", state) >= sizeof v[i].state)
      code = bad(m, "SectorsSummary", "count", err);
    else v[i++].count = json_integer_value(count);
  }
  json_decref(r);
  if (code) free(v), v = NULL, k = 0;
  *out = v;
  *n = k;
  return code;
}

st_code st_miner_client_poster(st_miner_client *m, st_miner_poster_counts *out, st_err *err) {
  memset(out, 0, sizeof *out);
  json_t *r;
  st_code code = mcall(m, "MinerRunInfo", NULL, &r, err);
  const json_t *p = json_object_get(r, "Poster");
  if (!code && (!int_field(p, "PostsLanded", &out->posts_landed) || !int_field(p, "BlocksMined", &out->blocks_mined) ||
                !int_field(p, "LastMinedHeight", &out->last_mined_height)))
    code = bad(m, "MinerRunInfo", "Poster counters", err);
  json_decref(r);
  if (code) memset(out, 0, sizeof *out);
  return code;
}
