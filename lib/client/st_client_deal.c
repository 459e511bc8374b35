/* st_client_deal: import, propose, list and retrieve, by phase. */
#include "client/st_client_deal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/st_client_market.h"
#include "codec/st_token.h"
#include "core/st_fs.h"
#include "proofs/st_commp.h"

/* realpath of file, or file itself when it has none. */
static void absolute(const char *file, char out[ST_CLIENT_PATH_MAX]) {
  if (!realpath(file, out)) snprintf(out, ST_CLIENT_PATH_MAX, "%s", file);
}

/* The file's CommP as a piece CID, its padded size and its bytes. */
static st_code commp_file(const char *file, char cid[ST_CID_STR_MAX], uint64_t *padded, uint64_t *payload,
                          st_err *err) {
  uint8_t comm[32];
  st_code code = st_commp_of_file(file, comm, padded, payload, err);
  if (code) return code;
  st_cid c;
  st_cid_of_commitment(comm, false, &c);
  st_cid_to_string(&c, cid);
  return ST_OK;
}

st_code st_client_import_file(const char *repo, const char *file, st_client_import *out, st_err *err) {
  memset(out, 0, sizeof *out);
  st_code code = commp_file(file, out->piece_cid, &out->piece_size, &out->payload_size, err);
  st_client_store *s = NULL;
  if (!code) {
    absolute(file, out->path);
    out->created = (int64_t)time(NULL);
    code = st_client_store_open(repo, &s, err);
  }
  if (!code) code = st_client_store_add_import(s, out, err);
  st_client_store_close(s);
  if (code) memset(out, 0, sizeof *out);
  return code;
}

/* ---------------------------------------------------------------- proposing */

typedef struct proposal {
  const st_client_deal_opts *o;
  st_client_deal d;           /* the proposal, then its signature */
  char from[ST_ADDR_STR_MAX]; /* the client, as given or as the wallet's default */
  char piece[ST_CID_STR_MAX]; /* the piece CID proposed */
  uint64_t padded, payload;   /* the file's piece and bytes */
  st_miner_client miner;
  st_miner_ask ask;
} proposal;

/* The file's piece, the client, the miner and its ask; the piece must fit the miner's sectors. */
static st_code reach_miner(st_rpc_client *node, proposal *x, st_err *err) {
  const st_client_deal_opts *o = x->o;
  st_deal_proposal *p = &x->d.proposal;
  st_code code = st_address_parse(o->miner, &p->provider, NULL, err);
  if (!code) code = commp_file(o->file, x->piece, &x->padded, &x->payload, err);
  if (!code && o->duration <= 0) code = st_err_set(err, ST_EINVAL, "--duration must be at least 1 epoch");
  if (!code) code = st_client_sender(node, o->from, &p->client, x->from, err);
  if (!code) code = st_miner_client_announced(node, o->miner, &x->miner, err);
  if (!code) code = st_miner_client_ask(&x->miner, &x->ask, err);
  if (!code && x->padded > x->ask.max_piece)
    code = st_err_set(
        err, ST_EINVAL,
        "%s is %llu bytes, a %llu-byte piece: miner %s takes pieces of at most %llu bytes (%llu bytes of data)",
        o->file, (unsigned long long)x->payload, (unsigned long long)x->padded, o->miner,
        (unsigned long long)x->ask.max_piece, (unsigned long long)(x->ask.max_piece / 128 * 127));
  return code;
}

/* The proposal's terms: epochs from the head and the ask, the piece, the label, the amounts. */
static st_code set_terms(st_rpc_client *node, proposal *x, st_err *err) {
  const st_client_deal_opts *o = x->o;
  st_deal_proposal *p = &x->d.proposal;
  st_node_head head;
  st_node_head_init(&head);
  st_code code = st_node_chain_head(node, &head, err);
  int64_t height = head.height;
  st_node_head_free(&head);
  if (code) return code;
  /* a few epochs for the proposal to reach the miner */
  p->start_epoch = o->has_start ? o->start_epoch : height + x->ask.start_delay + 5;
  p->end_epoch = p->start_epoch + o->duration;
  if (o->duration < x->ask.min_life)
    return st_err_set(
        err, ST_EINVAL,
        "--duration %lld is too short: miner %s's sectors live at least %lld epochs, and a deal lasts as long as its sector",
        (long long)o->duration, o->miner, (long long)x->ask.min_life);
  if (o->manual_piece_cid) {
    if (st_cid_parse(o->manual_piece_cid, &p->piece_cid, NULL) || p->piece_cid.codec != ST_CODEC_FIL_UNSEALED)
      return st_err_set(err, ST_EINVAL, "--manual-piece-cid %s is not a piece CID", o->manual_piece_cid);
    snprintf(x->piece, sizeof x->piece, "%s", o->manual_piece_cid);
  } else {
    st_cid_parse(x->piece, &p->piece_cid, NULL);
  }
  p->piece_size = x->padded;
  p->verified = o->verified;
  const char *slash = strrchr(o->file, '/');
  snprintf(p->label, sizeof p->label, "%.*s", ST_DEAL_LABEL_MAX, o->label ? o->label : slash ? slash + 1 : o->file);
  mpz_set(p->price_per_epoch, o->price);
  mpz_set(p->provider_collateral, o->provider_collateral);
  mpz_set(p->client_collateral, o->client_collateral);
  return ST_OK;
}

/* The client's side of the chain's checks: datacap for a verified deal, free escrow. */
static st_code check_funds(st_rpc_client *node, proposal *x, st_err *err) {
  st_deal_proposal *p = &x->d.proposal;
  mpz_t have, need, locked;
  mpz_inits(have, need, locked, NULL);
  st_code code = p->verified ? st_node_datacap(node, &p->client, have, err) : ST_OK;
  if (!code && p->verified && mpz_cmp_ui(have, x->padded) < 0) {
    char *h = mpz_get_str(NULL, 10, have);
    code = st_err_set(
        err, ST_EINVAL,
        "a verified deal of %llu bytes exceeds %s's datacap of %s bytes (a verifier grants it: 'spacetime filplus grant-datacap')",
        (unsigned long long)x->padded, x->from, h);
    free(h);
  }
  if (!code) code = st_node_market_balance(node, &p->client, have, locked, err);
  if (!code) {
    mpz_sub(have, have, locked);
    st_deal_client_lock(p, need);
  }
  if (!code && mpz_cmp(have, need) < 0) {
    char hs[64], ns[64];
    st_fil_text(have, hs, sizeof hs);
    st_fil_text(need, ns, sizeof ns);
    code = st_err_set(
        err, ST_EINVAL,
        "%s has %s free in market escrow, the deal locks %s (price x duration + collateral): add funds with 'spacetime client add-balance'",
        x->from, hs, ns);
  }
  mpz_clears(have, need, locked, NULL);
  return code;
}

/* Signed by the node's wallet, sent to the miner with the file's bytes. */
static st_code send_proposal(st_rpc_client *node, proposal *x, st_client_proposed *out, st_err *err) {
  st_buf enc = ST_BUF_INIT, data = ST_BUF_INIT;
  st_deal_proposal_encode(&x->d.proposal, &enc);
  st_code code = st_buf_status(&enc, err);
  if (!code) code = st_node_wallet_sign(node, &x->d.proposal.client, enc.data, enc.len, &x->d.signature, err);
  if (!code) code = st_fs_read_file(x->o->file, (size_t)x->ask.max_piece, &data, err);
  if (!code) code = st_miner_client_propose(&x->miner, &x->d, data.data, data.len, &out->deal, &out->reply, err);
  st_buf_free(&enc);
  st_buf_free(&data);
  return code;
}

/* The deal in the client's records. */
static st_code record(const char *repo, proposal *x, st_client_proposed *out, st_err *err) {
  const st_deal_proposal *p = &x->d.proposal;
  st_client_deal_record *r = &out->record;
  snprintf(r->proposal_cid, sizeof r->proposal_cid, "%s", out->deal.proposal_cid);
  snprintf(r->miner, sizeof r->miner, "%s", x->o->miner);
  snprintf(r->client, sizeof r->client, "%s", x->from);
  snprintf(r->piece_cid, sizeof r->piece_cid, "%s", x->piece);
  r->piece_size = x->padded;
  r->payload_size = x->payload;
  absolute(x->o->file, r->path);
  r->verified = p->verified;
  if (mpz_sizeinbase(p->price_per_epoch, 10) < sizeof r->price) mpz_get_str(r->price, 10, p->price_per_epoch);
  r->start_epoch = p->start_epoch;
  r->end_epoch = p->end_epoch;
  r->created = (int64_t)time(NULL);
  st_client_store *s;
  st_code code = st_client_store_open(repo, &s, err);
  if (code) return code;
  if ((code = st_client_store_add_deal(s, r, err)))
    st_err_wrap(err, code, "the deal was proposed, but the client's records");
  st_client_store_close(s);
  return code;
}

st_code st_client_propose(st_rpc_client *node, const char *repo, const st_client_deal_opts *o, st_client_proposed *out,
                          st_err *err) {
  memset(out, 0, sizeof *out);
  proposal x = {.o = o};
  st_deal_proposal_init(&x.d.proposal);
  st_code code = reach_miner(node, &x, err);
  if (!code) code = set_terms(node, &x, err);
  if (!code) code = check_funds(node, &x, err);
  if (!code) code = send_proposal(node, &x, out, err);
  if (!code) code = record(repo, &x, out, err);
  if (!code) snprintf(out->miner_url, sizeof out->miner_url, "%s", x.miner.url);
  st_miner_client_close(&x.miner);
  st_deal_proposal_clear(&x.d.proposal);
  if (code) st_client_proposed_free(out);
  return code;
}

void st_client_proposed_free(st_client_proposed *p) {
  json_decref(p->reply);
  memset(p, 0, sizeof *p);
}

/* ---------------------------------------------------------------- listing */

/* What the deal's miner and the chain say of it. */
static void deal_status(st_rpc_client *node, st_client_deal_status *s) {
  st_miner_client m;
  s->reachable = !st_miner_client_announced(node, s->record.miner, &m, NULL) &&
                 !st_miner_client_deal(&m, s->record.proposal_cid, &s->deal, NULL);
  st_miner_client_close(&m);
  if (!s->reachable) {
    snprintf(s->deal.state, sizeof s->deal.state, "(miner unreachable)");
    s->deal.deal_id = -1;
  }
  s->on_chain = s->deal.deal_id >= 0 && !st_node_market_deal(node, (uint64_t)s->deal.deal_id, &s->chain, NULL);
}

st_code st_client_deals(st_rpc_client *node, const char *repo, st_client_deal_status **out, size_t *n, st_err *err) {
  *out = NULL;
  *n = 0;
  st_client_store *s;
  st_client_deal_record *rec = NULL;
  size_t k = 0;
  st_code code = st_client_store_open(repo, &s, err);
  if (!code) code = st_client_store_deals(s, &rec, &k, err);
  st_client_store_close(s);
  st_client_deal_status *v = k ? calloc(k, sizeof *v) : NULL;
  if (!code && k && !v) code = st_err_set(err, ST_ENOMEM, "out of memory");
  for (size_t i = 0; i < k && !code; i++) {
    v[i].record = rec[i];
    deal_status(node, &v[i]);
  }
  free(rec);
  if (code) {
    free(v);
    return code;
  }
  *out = v;
  *n = k;
  return ST_OK;
}

/* ---------------------------------------------------------------- retrieval */

/* The piece's bytes from the miner, refused unless their CommP is the piece CID. */
static st_code fetch_piece(st_miner_client *m, const char *piece_cid, st_buf *out, st_err *err) {
  st_code code = st_miner_client_piece(m, piece_cid, out, err);
  uint8_t comm[32];
  uint64_t padded = 0;
  st_cid got, want;
  if (!code) code = st_commp_of(out->data, out->len, comm, &padded, err);
  if (code) return code;
  st_cid_of_commitment(comm, false, &got);
  if (st_cid_parse(piece_cid, &want, NULL) || !st_cid_equal(&got, &want)) {
    char g[ST_CID_STR_MAX];
    st_cid_to_string(&got, g);
    return st_err_set(err, ST_EIO, "the %zu bytes the miner sent have CommP %s, not %s: refusing them", out->len, g,
                      piece_cid);
  }
  return ST_OK;
}

st_code st_client_retrieve(st_rpc_client *node, const char *repo, const char *piece_cid, const char *miner,
                           const char *path, char miner_used[ST_ADDR_STR_MAX], size_t *bytes, st_err *err) {
  *bytes = 0;
  miner_used[0] = 0;
  st_code code = ST_OK;
  bool found = true;
  if (miner) snprintf(miner_used, ST_ADDR_STR_MAX, "%s", miner);
  else {
    st_client_store *s;
    code = st_client_store_open(repo, &s, err);
    if (!code) code = st_client_store_miner_of(s, piece_cid, miner_used, &found, err);
    st_client_store_close(s);
  }
  if (!code && !found)
    code = st_err_set(err, ST_ENOENT, "this client made no deal for %s: name the miner with --miner", piece_cid);
  st_miner_client m = {0};
  if (!code) code = st_miner_client_announced(node, miner_used, &m, err);
  if (code) return code;
  st_buf body = ST_BUF_INIT;
  code = fetch_piece(&m, piece_cid, &body, err);
  st_miner_client_close(&m);
  if (!code) code = st_fs_write_atomic(path, body.data, body.len, 0644, err);
  if (!code) *bytes = body.len;
  st_buf_free(&body);
  return code ? st_err_wrap(err, code, "retrieving %s from %s", piece_cid, miner_used) : ST_OK;
}
