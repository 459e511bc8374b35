/* st_deals: accepting storage deals and moving them from publish to an active sector. */
#include "miner/st_deals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/st_chain_types.h"
#include "chain/st_deal.h"
#include "chain/st_market.h"
#include "chain/st_network.h"
#include "codec/st_cbor.h"
#include "codec/st_token.h"
#include "core/st_encoding.h"
#include "core/st_fs.h"
#include "core/st_log.h"
#include "db/st_db.h"
#include "proofs/st_commp.h"
#include "rpc/st_node_api.h"

#define LOG "markets"

struct st_deals {
  st_deals_cfg cfg;
  char dir[ST_PATH_MAX]; /* cfg.dir points here */
  st_db *db;
  int changes; /* state changes set_state made (st_deals_step's count) */
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS deals ("
    " proposal_cid TEXT PRIMARY KEY,"
    " proposal TEXT NOT NULL,"
    " client TEXT NOT NULL, piece_cid TEXT NOT NULL, piece_size INTEGER NOT NULL, payload_size INTEGER NOT NULL,"
    " verified INTEGER NOT NULL, start_epoch INTEGER NOT NULL, end_epoch INTEGER NOT NULL, price TEXT NOT NULL,"
    " state TEXT NOT NULL, message TEXT NOT NULL DEFAULT '', deal_id INTEGER, sector INTEGER, publish_cid TEXT, funds_cid TEXT,"
    " created INTEGER NOT NULL, updated INTEGER NOT NULL);";

#define COLUMNS                                                                                                                           \
  "proposal_cid, client, piece_cid, piece_size, payload_size, verified, start_epoch, end_epoch, price, state, message, deal_id, sector, " \
  "publish_cid, created, updated, proposal, funds_cid"

int64_t st_deal_seal_epochs(const st_network *net, int64_t confidence) {
  return net->precommit_challenge_delay + 3 * confidence + 20;
}

st_code st_deals_open(const st_deals_cfg *cfg, const char *db_path, st_deals **out, st_err *err) {
  *out = calloc(1, sizeof **out);
  if (!*out) return st_err_set(err, ST_ENOMEM, "out of memory");
  (*out)->cfg = *cfg;
  snprintf((*out)->dir, sizeof(*out)->dir, "%s", cfg->dir ? cfg->dir : ".");
  (*out)->cfg.dir = (*out)->dir;
  char url[ST_PATH_MAX + 8];
  snprintf(url, sizeof url, "sqlite:%s", db_path);
  st_code code = st_db_open(url, &(*out)->db, err);
  if (!code) code = st_db_exec_script((*out)->db, SCHEMA, err);
  if (!code) code = st_fs_mkdir_p((*out)->dir, 0755, err);
  if (code) {
    st_err_wrap(err, code, "deals database %s", db_path);
    st_deals_close(*out);
    *out = NULL;
  }
  return code;
}

void st_deals_close(st_deals *d) {
  if (!d) return;
  st_db_close(d->db);
  free(d);
}

void st_deals_piece_path(const st_deals *d, const char *proposal_cid, char out[ST_PATH_MAX]) {
  snprintf(out, ST_PATH_MAX, "%.3900s/%.160s", d->cfg.dir, proposal_cid);
}

static const char *cell(const st_db_rows *r, int i, int c) { return st_db_cell(r, i, c) ? st_db_cell(r, i, c) : ""; }

static void read_record(const st_db_rows *r, int i, st_deal_record *o) {
  memset(o, 0, sizeof *o);
  snprintf(o->proposal_cid, sizeof o->proposal_cid, "%s", cell(r, i, 0));
  snprintf(o->client, sizeof o->client, "%s", cell(r, i, 1));
  snprintf(o->piece_cid, sizeof o->piece_cid, "%s", cell(r, i, 2));
  o->piece_size = (uint64_t)st_db_cell_i64(r, i, 3);
  o->payload_size = (uint64_t)st_db_cell_i64(r, i, 4);
  o->verified = st_db_cell_i64(r, i, 5) != 0;
  o->start_epoch = st_db_cell_i64(r, i, 6);
  o->end_epoch = st_db_cell_i64(r, i, 7);
  snprintf(o->price, sizeof o->price, "%s", cell(r, i, 8));
  snprintf(o->state, sizeof o->state, "%s", cell(r, i, 9));
  snprintf(o->message, sizeof o->message, "%s", cell(r, i, 10));
  o->deal_id = st_db_cell(r, i, 11) ? st_db_cell_i64(r, i, 11) : -1;
  o->sector = st_db_cell(r, i, 12) ? st_db_cell_i64(r, i, 12) : -1;
  snprintf(o->publish_cid, sizeof o->publish_cid, "%s", cell(r, i, 13));
  o->created = st_db_cell_i64(r, i, 14);
  o->updated = st_db_cell_i64(r, i, 15);
}

static st_code select_one(st_deals *d, const char *where, const char *arg, st_deal_record *out, bool *found,
                          st_err *err) {
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT " COLUMNS " FROM deals WHERE %s ORDER BY created DESC LIMIT 1", where);
  const char *p[] = {arg};
  st_db_rows r = {0};
  memset(out, 0, sizeof *out);
  st_code code = st_db_exec(d->db, sql, 1, p, &r, NULL, err);
  *found = !code && r.nrows == 1;
  if (*found) read_record(&r, 0, out);
  st_db_rows_free(&r);
  return code;
}

st_code st_deals_get(st_deals *d, const char *proposal_cid, st_deal_record *out, bool *found, st_err *err) {
  return select_one(d, "proposal_cid = $1", proposal_cid, out, found, err);
}

st_code st_deals_by_piece(st_deals *d, const char *piece_cid, st_deal_record *out, bool *found, st_err *err) {
  return select_one(d, "piece_cid = $1 AND sector IS NOT NULL", piece_cid, out, found, err);
}

st_code st_deals_list(st_deals *d, st_deal_record **out, size_t *n, st_err *err) {
  *out = NULL;
  *n = 0;
  st_db_rows r = {0};
  st_code code =
      st_db_exec(d->db, "SELECT " COLUMNS " FROM deals ORDER BY created DESC, proposal_cid", 0, NULL, &r, NULL, err);
  st_deal_record *v = code ? NULL : calloc((size_t)r.nrows + 1, sizeof *v);
  if (!code && !v) code = st_err_set(err, ST_ENOMEM, "out of memory");
  for (int i = 0; i < r.nrows && !code; i++) read_record(&r, i, &v[i]);
  if (!code) {
    *out = v;
    *n = (size_t)r.nrows;
  }
  st_db_rows_free(&r);
  return code;
}

/* ---- accepting ---- */

/* The checks that need the chain; the proposal is already decoded and its piece checked. */
static st_code check_on_chain(st_deals *d, st_rpc_client *node, const st_client_deal *cd, st_err *err) {
  const st_deal_proposal *p = &cd->proposal;
  char client[ST_ADDR_STR_MAX], provider[ST_ADDR_STR_MAX];
  st_address_text(&p->client, client);
  st_address_text(&p->provider, provider);
  /* the provider is this miner */
  uint64_t pid = 0;
  st_code code = st_node_lookup_id(node, &p->provider, &pid, err);
  if (code) return st_err_wrap(err, code == ST_EUNAVAIL ? code : ST_EINVAL, "provider %s", provider);
  if (pid != d->cfg.miner)
    return st_err_set(err, ST_EINVAL, "the proposal is for provider %s, this miner is t0%llu", provider,
                      (unsigned long long)d->cfg.miner);
  /* the client's key signed it */
  st_address key;
  if ((code = st_node_account_key(node, &p->client, &key, err)))
    return st_err_wrap(err, code == ST_EUNAVAIL ? code : ST_EINVAL, "client %s", client);
  if (st_client_deal_verify(cd, &key, err)) return ST_EINVAL;
  /* time to seal, and a sector long enough */
  st_node_head head;
  st_node_head_init(&head);
  st_network net;
  uint64_t genesis;
  code = st_node_chain_head(node, &head, err);
  int64_t h = head.height;
  st_node_head_free(&head);
  if (!code) code = st_node_network(node, &net, &genesis, err);
  if (code) return code;
  if (p->start_epoch < h + d->cfg.seal_epochs)
    return st_err_set(
        err, ST_EINVAL,
        "StartEpoch %lld is too soon: the chain is at epoch %lld and sealing takes about %lld epochs; start at %lld or later",
        (long long)p->start_epoch, (long long)h, (long long)d->cfg.seal_epochs, (long long)(h + d->cfg.seal_epochs));
  int64_t min_end = h + d->cfg.seal_epochs + net.max_prove_commit_duration + net.proving_period + 1;
  if (p->end_epoch < min_end)
    return st_err_set(
        err, ST_EINVAL,
        "EndEpoch %lld is too soon: a sector sealed now must live until epoch %lld or later (the deal's duration sets it)",
        (long long)p->end_epoch, (long long)min_end);
  mpz_t have, need, locked;
  mpz_inits(have, need, locked, NULL);
  /* datacap */
  if (p->verified) {
    code = st_node_datacap(node, &p->client, have, err);
    if (!code && mpz_cmp_ui(have, p->piece_size) < 0) {
      char *h_ = mpz_get_str(NULL, 10, have);
      code = st_err_set(err, ST_EINVAL, "the verified deal of %llu bytes exceeds client %s's datacap of %s bytes",
                        (unsigned long long)p->piece_size, client, h_);
      free(h_);
    }
  }
  /* the client's free escrow */
  if (!code) code = st_node_market_balance(node, &p->client, have, locked, err);
  if (!code) {
    mpz_sub(have, have, locked);
    st_deal_client_lock(p, need);
    if (mpz_cmp(have, need) < 0) {
      char *h_ = mpz_get_str(NULL, 10, have), *n_ = mpz_get_str(NULL, 10, need);
      code = st_err_set(
          err, ST_EINVAL,
          "client %s has %s attoFIL free in market escrow, the deal locks %s (price x duration + collateral): add funds with 'spacetime "
          "client add-balance'",
          client, h_, n_);
      free(h_);
      free(n_);
    }
  }
  mpz_clears(have, need, locked, NULL);
  return code;
}

/* Whether the data is p's piece and fits this miner's sectors; want gets the piece's CID. */
static st_code check_piece(const st_deals *d, const st_deal_proposal *p, const uint8_t *data, size_t dlen,
                           char want[ST_CID_STR_MAX], st_err *err) {
  st_cid_to_string(&p->piece_cid, want);
  if (p->piece_size > d->cfg.info->size)
    return st_err_set(err, ST_EINVAL, "PieceSize %llu is larger than this miner's %s sectors",
                      (unsigned long long)p->piece_size, d->cfg.info->name);
  uint8_t comm[32];
  uint64_t padded = 0;
  char got[ST_CID_STR_MAX];
  st_code code = st_commp_of(data, dlen, comm, &padded, err);
  if (code) return st_err_wrap(err, ST_EINVAL, "the deal's data");
  st_cid c;
  st_cid_of_commitment(comm, false, &c);
  st_cid_to_string(&c, got);
  if (strcmp(got, want) || padded != p->piece_size)
    return st_err_set(
        err, ST_EINVAL,
        "the data does not match the proposal's piece: %zu bytes have CommP %s (a %llu-byte piece), the proposal says %s (%llu)",
        dlen, got, (unsigned long long)padded, want, (unsigned long long)p->piece_size);
  return ST_OK;
}

/* The deal's row, in StorageDealPublish. */
static st_code insert_deal(st_deals *d, const char *pcid, const uint8_t *proposal, size_t plen, const char *client,
                           const char *piece, const st_deal_proposal *p, size_t dlen, st_err *err) {
  st_buf hex = ST_BUF_INIT;
  st_hex_append(&hex, proposal, plen);
  char *price = mpz_get_str(NULL, 10, p->price_per_epoch);
  char ps[ST_DB_INT_MAX], ds[ST_DB_INT_MAX], ve[ST_DB_INT_MAX], se[ST_DB_INT_MAX], ee[ST_DB_INT_MAX], t[ST_DB_INT_MAX];
  st_db_int(t, (int64_t)time(NULL));
  const char *args[] = {pcid,
                        st_buf_cstr(&hex),
                        client,
                        piece,
                        st_db_int(ps, (int64_t)p->piece_size),
                        st_db_int(ds, (int64_t)dlen),
                        st_db_int(ve, p->verified),
                        st_db_int(se, p->start_epoch),
                        st_db_int(ee, p->end_epoch),
                        price,
                        t};
  st_code code = st_buf_status(&hex, err);
  if (!code)
    code = st_db_exec(
        d->db,
        "INSERT INTO deals (proposal_cid, proposal, client, piece_cid, piece_size, payload_size, verified, start_epoch, end_epoch, price,"
        " state, created, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'StorageDealPublish', $11, $11)",
        11, args, NULL, NULL, err);
  free(price);
  st_buf_free(&hex);
  return code;
}

st_code st_deals_accept(st_deals *d, st_rpc_client *node, const uint8_t *proposal, size_t plen, const uint8_t *data,
                        size_t dlen, st_deal_record *out, st_err *err) {
  st_client_deal cd;
  st_deal_proposal_init(&cd.proposal);
  st_code code = st_client_deal_decode(proposal, plen, &cd, err);
  if (code) code = st_err_wrap(err, ST_EINVAL, "deal proposal");
  const st_deal_proposal *p = &cd.proposal;
  if (!code && (code = st_deal_check_shape(p, err))) st_err_wrap(err, ST_EINVAL, "deal proposal");
  char want[ST_CID_STR_MAX] = "";
  if (!code) code = check_piece(d, p, data, dlen, want, err); /* the data is the piece */
  if (!code) code = check_on_chain(d, node, &cd, err);
  st_cid pc;
  char pcid[ST_CID_STR_MAX], client[ST_ADDR_STR_MAX], path[ST_PATH_MAX];
  bool found = false;
  if (!code) code = st_deal_proposal_cid(p, &pc, err);
  if (!code) {
    st_cid_to_string(&pc, pcid);
    st_address_text(&p->client, client);
    code = st_deals_get(d, pcid, out, &found, err);
    if (!code && found) code = st_err_set(err, ST_EEXIST, "deal %s was received already (state %s)", pcid, out->state);
  }
  if (!code) {
    st_deals_piece_path(d, pcid, path);
    code = st_fs_write_atomic(path, data, dlen, 0644, err);
  }
  if (!code) code = insert_deal(d, pcid, proposal, plen, client, want, p, dlen, err);
  if (!code) code = st_deals_get(d, pcid, out, &found, err);
  if (!code)
    st_log(LOG, ST_LOG_INFO, "deal accepted",
           json_pack("{s:s, s:s, s:s, s:I, s:b}", "proposal", pcid, "client", client, "piece", want, "size",
                     (json_int_t)p->piece_size, "verified", p->verified));
  st_deal_proposal_clear(&cd.proposal);
  if (code) memset(out, 0, sizeof *out);
  return code;
}

/* ---- moving deals on ---- */

static st_code set_state(st_deals *d, const st_deal_record *r, const char *state, const char *message, const char *col,
                         const char *val, st_err *err) {
  char t[ST_DB_INT_MAX], sql[256];
  if (col)
    snprintf(sql, sizeof sql,
             "UPDATE deals SET state = $1, message = $2, updated = $3, %s = $5 WHERE proposal_cid = $4", col);
  else snprintf(sql, sizeof sql, "UPDATE deals SET state = $1, message = $2, updated = $3 WHERE proposal_cid = $4");
  const char *p[] = {state, message ? message : "", st_db_int(t, (int64_t)time(NULL)), r->proposal_cid, val};
  st_code code = st_db_exec(d->db, sql, col ? 5 : 4, p, NULL, NULL, err);
  if (code) return code;
  if (strcmp(r->state, state)) d->changes++;
  if (message && *message)
    st_logf(LOG, ST_LOG_ERROR, "deal %s: %s -> %s: %s", r->proposal_cid, r->state, state, message);
  else if (strcmp(r->state, state))
    st_log(LOG, ST_LOG_INFO, "deal state",
           json_pack("{s:s, s:s, s:s}", "proposal", r->proposal_cid, "from", r->state, "to", state));
  return ST_OK;
}

/* The deal ID of a proposal already on chain (the same piece, client, provider and epochs):
 * -1 if none. */
static st_code find_on_chain(st_deals *d, st_rpc_client *node, const st_deal_proposal *p, int64_t *id, st_err *err) {
  uint64_t client;
  st_code code = st_node_lookup_id(node, &p->client, &client, err);
  return code ? code : st_node_find_deal(node, p, client, d->cfg.miner, id, err);
}

/* Makes sure the provider's collateral is free in its escrow: sends AddBalance for what is
 * missing. *ready when it is there. */
static st_code ensure_collateral(st_deals *d, st_rpc_client *node, const st_deal_record *rec, const st_deal_proposal *p,
                                 const char *funds_cid, bool *ready, st_err *err) {
  *ready = false;
  if (!mpz_sgn(p->provider_collateral)) {
    *ready = true;
    return ST_OK;
  }
  if (*funds_cid) { /* an AddBalance was sent: wait for it (another is sent if it was not enough) */
    st_cid c;
    st_node_lookup l;
    st_code code = st_cid_parse(funds_cid, &c, err);
    if (!code) code = st_node_search_msg(node, &c, &l, err);
    if (code || !l.found) return code;
    if (l.exit_code)
      return set_state(d, rec, "StorageDealError", "AddBalance for the provider's collateral failed on chain", NULL,
                       NULL, err);
  }
  st_address me;
  st_address_from_id(d->cfg.miner, &me, NULL);
  mpz_t escrow, locked;
  mpz_inits(escrow, locked, NULL);
  st_code code = st_node_market_balance(node, &me, escrow, locked, err);
  if (!code) {
    mpz_sub(escrow, escrow, locked);
    if (mpz_cmp(escrow, p->provider_collateral) >= 0) *ready = true;
    else {
      st_message m;
      st_message_init(&m);
      m.from = d->cfg.sender;
      st_address_from_id(ST_ID_MARKET, &m.to, NULL);
      m.method = ST_METHOD_MARKET_ADD_BALANCE;
      mpz_sub(m.value, p->provider_collateral, escrow);
      st_buf params = ST_BUF_INIT;
      st_cbor_put_bytes(&params, me.bytes, me.len);
      code = st_chain_bytes_set(&m.params, params.data, params.len, err);
      st_cid c;
      if (!code) code = st_node_push(node, &m, d->cfg.max_fee, &c, err);
      char cs[ST_CID_STR_MAX];
      if (!code) {
        st_cid_to_string(&c, cs);
        code = set_state(d, rec, "StorageDealPublish", "", "funds_cid", cs, err);
      }
      st_buf_free(&params);
      st_message_free(&m);
    }
  }
  mpz_clears(escrow, locked, NULL);
  return code;
}

static st_code step_publish(st_deals *d, st_rpc_client *node, const st_deal_record *rec, const st_client_deal *cd,
                            const char *funds_cid, st_err *err) {
  int64_t id;
  st_code code = find_on_chain(d, node, &cd->proposal, &id, err);
  char ids[ST_DB_INT_MAX];
  if (!code && id >= 0)
    return set_state(d, rec, "StorageDealSealing", "", "deal_id", st_db_int(ids, id), err); /* placed next */
  bool ready;
  if (!code) code = ensure_collateral(d, node, rec, &cd->proposal, funds_cid, &ready, err);
  if (code || !ready) return code;
  st_buf params = ST_BUF_INIT;
  st_cbor_put_array(&params, 1);
  st_cbor_put_array(&params, 1);
  code = st_client_deal_encode(cd, &params, err);
  st_address market;
  st_address_from_id(ST_ID_MARKET, &market, NULL);
  bool found = false;
  st_cid c;
  if (!code)
    code = st_node_pending_find(node, &d->cfg.sender, &market, ST_METHOD_MARKET_PUBLISH_STORAGE_DEALS, params.data,
                                params.len, &found, &c, err);
  st_err e;
  if (!code && !found &&
      st_node_send(node, &d->cfg.sender, ST_ID_MARKET, ST_METHOD_MARKET_PUBLISH_STORAGE_DEALS, params.data, params.len,
                   d->cfg.max_fee, &c, &e)) {
    if (e.code == ST_EUNAVAIL || e.code == ST_ENOMEM) code = st_err_set(err, e.code, "%s", e.msg);
    else code = set_state(d, rec, "StorageDealError", e.msg, NULL, NULL, err); /* the chain would refuse it: why */
    st_buf_free(&params);
    return code;
  }
  st_buf_free(&params);
  if (code) return code;
  char cs[ST_CID_STR_MAX];
  st_cid_to_string(&c, cs);
  return set_state(d, rec, "StorageDealPublishing", "", "publish_cid", cs, err);
}

static st_code step_publishing(st_deals *d, st_rpc_client *node, const st_deal_record *rec, st_err *err) {
  st_cid c;
  st_node_lookup l;
  st_code code = st_cid_parse(rec->publish_cid, &c, err);
  if (!code) code = st_node_search_msg(node, &c, &l, err);
  if (code || !l.found) return code;
  if (l.exit_code) {
    char why[160];
    snprintf(why, sizeof why, "PublishStorageDeals %.70s failed with exit code %lld", rec->publish_cid,
             (long long)l.exit_code);
    return set_state(d, rec, "StorageDealError", why, NULL, NULL, err);
  }
  /* PublishStorageDealsReturn: [[ID], ValidDeals] */
  st_cbor_reader r;
  st_err re;
  st_cbor_reader_init(&r, l.ret, l.ret_len, &re);
  uint64_t n = 0, id = 0;
  code = st_cbor_expect_array(&r, 2, "PublishStorageDealsReturn");
  if (!code) code = st_cbor_read_array(&r, &n);
  if (!code && n != 1) code = st_err_set(&re, ST_EINVAL, "%llu IDs for one deal", (unsigned long long)n);
  if (!code) code = st_cbor_read_uint(&r, &id);
  if (code) return set_state(d, rec, "StorageDealError", re.msg, NULL, NULL, err);
  char ids[ST_DB_INT_MAX];
  st_logf(LOG, ST_LOG_INFO, "deal %s published as deal %llu", rec->proposal_cid, (unsigned long long)id);
  return set_state(d, rec, "StorageDealSealing", "", "deal_id", st_db_int(ids, (int64_t)id), err);
}

/* A published deal goes into a new sector, once (st_sealer_add_deal finds an earlier one). */
static st_code step_place(st_deals *d, st_sealer *sealer, const st_deal_record *rec, st_err *err) {
  char path[ST_PATH_MAX], ns[ST_DB_INT_MAX];
  st_deals_piece_path(d, rec->proposal_cid, path);
  uint64_t number;
  st_code code =
      st_sealer_add_deal(sealer, (uint64_t)rec->deal_id, path, rec->piece_size, rec->end_epoch, &number, err);
  if (code) return code;
  return set_state(d, rec, "StorageDealSealing", "", "sector", st_db_int(ns, (int64_t)number), err);
}

static st_code step_sealing(st_deals *d, st_rpc_client *node, st_sealer *sealer, const st_deal_record *rec,
                            st_err *err) {
  st_sealing_sector x;
  bool found;
  st_code code = st_sealer_get(sealer, (uint64_t)rec->sector, &x, &found, err);
  if (code || !found) return code;
  if (!strcmp(x.state, "Proving")) return set_state(d, rec, "StorageDealActive", "", NULL, NULL, err);
  /* not proven in time: the chain drops a deal not active by its start */
  bool on_chain;
  if ((code = st_node_deal_exists(node, (uint64_t)rec->deal_id, &on_chain, err))) return code;
  if (!on_chain) {
    char why[200];
    snprintf(why, sizeof why,
             "deal %lld is gone from the chain: sector %lld was not proven before the deal's start epoch %lld",
             (long long)rec->deal_id, (long long)rec->sector, (long long)rec->start_epoch);
    return set_state(d, rec, "StorageDealError", why, NULL, NULL, err);
  }
  return ST_OK;
}

st_code st_deals_step(st_deals *d, st_rpc_client *node, st_sealer *sealer, int *changed, st_err *err) {
  d->changes = 0;
  st_db_rows r = {0};
  st_code code =
      st_db_exec(d->db,
                 "SELECT " COLUMNS
                 " FROM deals WHERE state IN ('StorageDealPublish', 'StorageDealPublishing', 'StorageDealSealing')"
                 " ORDER BY created",
                 0, NULL, &r, NULL, err);
  for (int i = 0; i < r.nrows && !code; i++) {
    st_deal_record rec;
    read_record(&r, i, &rec);
    if (!strcmp(rec.state, "StorageDealPublish")) {
      st_client_deal cd;
      st_deal_proposal_init(&cd.proposal);
      st_buf raw = ST_BUF_INIT;
      const char *hex = cell(&r, i, 16);
      code = st_hex_decode(hex, strlen(hex), &raw, err);
      if (!code) code = st_client_deal_decode(raw.data, raw.len, &cd, err);
      if (!code) code = step_publish(d, node, &rec, &cd, cell(&r, i, 17), err);
      st_buf_free(&raw);
      st_deal_proposal_clear(&cd.proposal);
    } else if (!strcmp(rec.state, "StorageDealPublishing")) {
      code = step_publishing(d, node, &rec, err);
    } else if (rec.sector < 0) {
      code = step_place(d, sealer, &rec, err);
    } else {
      code = step_sealing(d, node, sealer, &rec, err);
    }
  }
  st_db_rows_free(&r);
  *changed = d->changes;
  return code;
}
