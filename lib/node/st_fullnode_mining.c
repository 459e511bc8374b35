/* st_fullnode_mining: what makes blocks: the beacon's entries, a miner's base info for a round,
 * MinerCreateBlock and SyncSubmitBlock, and the bootstrap producer's blocks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/st_consensus.h"
#include "core/st_encoding.h"
#include "crypto/st_secp.h"
#include "node/st_fullnode_int.h"

static json_t *beacon_entry_json(uint64_t round, const uint8_t *data, size_t len) {
  return json_pack("{so so}", "Round", st_chain_json_u64(round), "Data", fn_bytes_json(data, len));
}

typedef struct round_args {
  int64_t round;
} round_args;

static st_code p_beacon_entry(const json_t *params, void *args, st_err *err) {
  round_args *a = args;
  st_code code = st_rpc_param_i64(params, 0, "epoch", &a->round, err);
  if (!code && a->round < 0) a->round = 0; /* as Lotus */
  return code;
}

static st_code r_beacon_entry(st_rpc_req *q, st_err *err) {
  int64_t round = ((round_args *)q->args)->round;
  uint8_t e[ST_BEACON_ENTRY_LEN];
  st_code code = fn_beacon_entry(q->ctx, round, e, err);
  if (!code) q->result = beacon_entry_json((uint64_t)round, e, sizeof e);
  return code;
}

/* ---- MinerGetBaseInfo ---- */

/* MinerGetBaseInfo [addr, round, tsk]. */
static st_code p_base_info(const json_t *params, void *args, st_err *err) {
  return fn_parse_addr_num_tsk(params, "epoch", args, err);
}

/* The tipset whose state elects a block at round on top of from: the one at round - lookback,
 * or the last before it (the chain's rule). */
static st_code lookback_tipset(st_fullnode *n, const st_tipset *from, int64_t round, st_tipset *out, st_err *err) {
  int64_t h = round - st_chain_network(n->chain)->election_lookback;
  if (h < 0) h = 0;
  st_code code = st_chain_tipset(n->chain, &from->key, out, err);
  while (!code && out->height > h && out->n && out->blocks[0].n_parents) code = fn_parent(n, out, err);
  return code;
}

/* What MinerGetBaseInfo reads from the chain. */
typedef struct base_view {
  st_tipset ts, lb; /* the base and the lookback */
  uint64_t id;
  st_base_info bi;
  st_miner_state lm;  /* the miner at the lookback */
  bool have_lm, none; /* none: the miner did not exist at the lookback */
} base_view;

static void base_view_free(base_view *v) {
  if (v->have_lm) st_miner_state_free(&v->lm);
  st_base_info_free(&v->bi);
  st_tipset_free(&v->lb);
  st_tipset_free(&v->ts);
}

static st_code base_view_load(st_fullnode *n, const fn_addr_num_tsk_args *a, base_view *v, st_err *err) {
  int64_t round = (int64_t)a->num; /* a JSON integer: at most INT64_MAX */
  memset(v, 0, sizeof *v);
  st_tipset_init(&v->lb);
  st_base_info_init(&v->bi);
  st_code code = fn_tipset(n, &a->at.tsk, &v->ts, err);
  if (!code && round - v->ts.height > ST_CHAIN_MAX_ARRAY)
    code = st_err_set(
        err, ST_EINVAL,
        "epoch %lld is %lld rounds past the base tipset (height %lld): a block carries at most %d beacon entries",
        (long long)round, (long long)(round - v->ts.height), (long long)v->ts.height, ST_CHAIN_MAX_ARRAY);
  if (!code && (code = fn_miner_id(n, &v->ts, &a->at.addr, &v->id, NULL, err)))
    st_err_wrap(err, code, "loading miner in current state");
  if (!code) code = st_chain_base_info(n->chain, &v->ts.key, v->id, round, &v->bi, err);
  if (!code) code = lookback_tipset(n, &v->ts, round, &v->lb, err);
  if (!code) {
    st_err e2;
    v->have_lm = true; /* st_chain_miner_state initialises it either way */
    code = st_chain_miner_state(n->chain, &v->lb.key, v->id, &v->lm, &e2);
    v->none = code == ST_ENOENT; /* not a miner yet at the lookback: null, as Lotus */
    if (v->none) code = ST_OK;
    else if (code) st_err_set(err, code, "%s", e2.msg);
  }
  return code;
}

/* The beacon's entries for the rounds since the base tipset, and its entry at the base. */
static st_code base_entries(st_fullnode *n, const base_view *v, int64_t round, json_t **entries, json_t **prev,
                            st_err *err) {
  uint8_t e[ST_BEACON_ENTRY_LEN];
  *entries = json_array();
  *prev = NULL;
  st_code code = fn_beacon_entry(n, round, e, err); /* the latest round first: is it out? */
  for (int64_t r = v->ts.height + 1; !code && r <= round; r++)
    if (!(code = fn_beacon_entry(n, r, e, err)))
      json_array_append_new(*entries, beacon_entry_json((uint64_t)r, e, sizeof e));
  if (!code && !(code = fn_beacon_entry(n, v->ts.height, e, err)))
    *prev = beacon_entry_json((uint64_t)v->ts.height, e, sizeof e);
  return code;
}

static json_t *base_sectors_json(base_view *v) {
  json_t *sectors = json_array();
  for (size_t i = 0; i < v->bi.nsectors; i++) {
    const st_sector_onchain *s = st_miner_sector(&v->lm, v->bi.sectors[i]);
    if (s)
      json_array_append_new(sectors, json_pack("{sI so sn so}", "SealProof", (json_int_t)s->seal_proof, "SectorNumber",
                                               st_chain_json_u64(s->number), "SectorKey", "SealedCID",
                                               st_chain_json_cid(&s->sealed_cid)));
  }
  return sectors;
}

static st_code r_miner_get_base_info(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  const fn_addr_num_tsk_args *a = q->args;
  base_view v;
  json_t *entries = NULL, *prev = NULL;
  st_code code = base_view_load(n, a, &v, err);
  if (!code && !v.none) code = base_entries(n, &v, (int64_t)a->num, &entries, &prev, err);
  if (!code && v.none) q->result = json_null();
  else if (!code) {
    json_t *out = json_object();
    json_object_set_new(out, "MinerPower", st_chain_json_bigint(v.bi.miner_power));
    json_object_set_new(out, "NetworkPower", st_chain_json_bigint(v.bi.network_power));
    json_object_set_new(out, "Sectors", base_sectors_json(&v));
    json_object_set_new(out, "WorkerKey",
                        v.bi.worker_key.len ? fn_addr_json(n, &v.bi.worker_key) : json_string("<empty>"));
    json_object_set_new(out, "SectorSize", st_chain_json_u64(v.bi.sector_size));
    json_object_set_new(out, "PrevBeaconEntry", json_incref(prev));
    json_object_set_new(out, "BeaconEntries", json_incref(entries));
    json_object_set_new(out, "EligibleForMining", json_boolean(v.bi.eligible));
    q->result = out;
  }
  json_decref(entries);
  json_decref(prev);
  base_view_free(&v);
  return code;
}

/* ---- blocks ---- */

/* Builds a block for epoch with sk from pool under the node's pool lock when pool is the node's. */
static st_code build(st_fullnode *n, const uint8_t sk[32], int64_t epoch, st_mpool *pool, st_block_header *h,
                     st_signed_message **msgs, size_t *nmsgs, st_err *err) {
  bool own = pool == n->pool;
  if (own) pthread_mutex_lock(&n->pool_mu);
  st_code code = st_chain_build_block(n->chain, sk, epoch, pool, h, msgs, nmsgs, err);
  if (own) pthread_mutex_unlock(&n->pool_mu);
  return code;
}

static void free_messages(st_signed_message *msgs, size_t n) {
  for (size_t i = 0; i < n; i++) st_signed_message_free(&msgs[i]);
  free(msgs);
}

st_code st_fullnode_bootstrap_block(st_fullnode *n, const st_address *producer, int64_t epoch, size_t *nmsgs,
                                    st_err *err) {
  *nmsgs = 0;
  st_tipset head;
  st_block_header b;
  st_block_header_init(&b);
  st_signed_message *msgs = NULL;
  size_t k = 0;
  uint8_t sk[32] = {0};
  st_tipset_init(&head);
  st_code code = st_chain_head(n->chain, &head, err);
  /* the beacon's entries for the rounds since the head, so miners can draw beacon randomness */
  for (int64_t r = st_consensus_first_beacon_round(head.height, epoch); !code && n->has_beacon && r <= epoch; r++) {
    uint8_t e[ST_BEACON_ENTRY_LEN];
    code = st_beacon_make(n->beacon_sk, (uint64_t)r, e, err);
    if (!code) code = st_block_header_add_beacon(&b, (uint64_t)r, e, sizeof e, err);
  }
  if (!code) code = st_wallet_key(&n->wallet, producer, sk, err);
  if (!code) code = build(n, sk, epoch, n->pool, &b, &msgs, &k, err);
  st_secure_zero(sk, sizeof sk);
  if (!code) code = st_chain_submit_block(n->chain, &b, msgs, k, NULL, (uint64_t)time(NULL), err);
  if (!code) *nmsgs = k;
  free_messages(msgs, k);
  st_block_header_free(&b);
  st_tipset_free(&head);
  return code;
}

/* SyncSubmitBlock [{"Header", "BlsMessages", "SecpkMessages"}]: the header and its messages'
 * CIDs. */
typedef struct submit_args {
  st_block_header h;
  st_cid *cids;
  size_t n;
} submit_args;

static st_code p_sync_submit_block(const json_t *params, void *args, st_err *err) {
  submit_args *a = args;
  st_block_header_init(&a->h);
  const json_t *bm = json_array_get(params, 0);
  if (!json_is_object(bm))
    return st_err_set(err, ST_EINVAL,
                      "param 1 (block): must be {\"Header\": ..., \"BlsMessages\": [...], \"SecpkMessages\": [...]}");
  if (st_block_header_from_json(json_object_get(bm, "Header"), &a->h, err))
    return st_err_wrap(err, ST_EINVAL, "param 1 (block): Header");
  const json_t *bls = json_object_get(bm, "BlsMessages"), *secp = json_object_get(bm, "SecpkMessages");
  if (json_array_size(bls)) return st_err_set(err, ST_EINVAL, "param 1 (block): BLS messages are not supported");
  size_t k = json_array_size(secp);
  if (k > ST_CHAIN_MAX_ARRAY)
    return st_err_set(err, ST_EINVAL, "param 1 (block): more than %d messages", ST_CHAIN_MAX_ARRAY);
  if (k && !(a->cids = calloc(k, sizeof *a->cids))) return st_err_set(err, ST_ENOMEM, "out of memory reading a block");
  for (; a->n < k; a->n++) {
    char path[64];
    snprintf(path, sizeof path, "param 1 (block): SecpkMessages[%zu]", a->n);
    if (st_chain_json_get_cid(json_array_get(secp, a->n), path, &a->cids[a->n], err)) return ST_EINVAL;
  }
  return ST_OK;
}

static void free_submit(void *args) {
  submit_args *a = args;
  st_block_header_free(&a->h);
  free(a->cids);
}

/* The messages of cids, from the pool (pushed before) or from the store. */
static st_code find_messages(st_fullnode *n, const st_cid *cids, size_t k, st_signed_message **out, st_err *err) {
  st_signed_message *msgs = k ? calloc(k, sizeof *msgs) : NULL;
  *out = msgs;
  if (k && !msgs) return st_err_set(err, ST_ENOMEM, "out of memory reading a block");
  st_code code = ST_OK;
  pthread_mutex_lock(&n->pool_mu);
  for (size_t i = 0; i < k; i++) st_signed_message_init(&msgs[i]);
  for (size_t i = 0; i < k && !code; i++) {
    const st_signed_message *waiting = st_mpool_find(n->pool, &cids[i]);
    if (waiting) {
      code = st_message_copy(&msgs[i].message, &waiting->message, err);
      msgs[i].signature = waiting->signature;
    } else if (st_chain_message(n->chain, &cids[i], &msgs[i], NULL)) {
      char s[ST_CID_STR_MAX];
      st_cid_to_string(&cids[i], s);
      code = st_err_set(err, ST_ENOENT, "message %s is unknown: push it first (MpoolPush)", s);
    }
  }
  pthread_mutex_unlock(&n->pool_mu);
  return code;
}

static st_code r_sync_submit_block(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  const submit_args *a = q->args;
  st_signed_message *msgs = NULL;
  bool moved = false;
  st_code code = find_messages(n, a->cids, a->n, &msgs, err);
  if (!code) code = st_chain_submit_block(n->chain, &a->h, msgs, a->n, &moved, (uint64_t)time(NULL), err);
  free_messages(msgs, msgs ? a->n : 0);
  if (!code) q->result = json_null();
  return code;
}

/* ---- MinerCreateBlock ---- */

/* A parsed api.BlockTemplate: the header template for st_chain_build_block (Miner, Parents,
 * Ticket, ElectionProof, BeaconEntries, WinPoStProof), Epoch, Timestamp and Messages. */
typedef struct template_args {
  st_block_header h;
  int64_t epoch;
  uint64_t stamp;
  bool given; /* Messages is not null: the block holds exactly those */
  st_signed_message *msgs;
  size_t n;
} template_args;

#define TEMPLATE "param 1 (block template)"

/* A byte field of the template ("param 1 (block template): Ticket.VRFProof: ..."), into out. */
static st_code template_bytes(const json_t *v, const char *what, st_buf *out, st_err *err) {
  st_err e2;
  st_buf_reset(out);
  if (!v || json_is_null(v)) return ST_OK;
  if (!json_is_string(v)) return st_err_set(err, ST_EINVAL, TEMPLATE ": %s: must be base64 or null", what);
  if (st_base64_decode(json_string_value(v), json_string_length(v), true, out, &e2))
    return st_err_set(err, ST_EINVAL, TEMPLATE ": %s: %s", what, e2.msg);
  if (out->len > ST_CHAIN_MAX_BYTES)
    return st_err_set(err, ST_EINVAL, TEMPLATE ": %s: longer than %u bytes", what, ST_CHAIN_MAX_BYTES);
  return ST_OK;
}

/* Miner, Epoch, Timestamp and Parents. */
static st_code template_head(const json_t *t, template_args *a, st_err *err) {
  const json_t *miner = fn_field(t, "Miner"), *ep = fn_field(t, "Epoch"), *tsv = fn_field(t, "Timestamp");
  if (!json_is_string(miner) || st_address_parse(json_string_value(miner), &a->h.miner, NULL, NULL) || !a->h.miner.len)
    return st_err_set(err, ST_EINVAL, TEMPLATE ": Miner: must be the miner's address");
  if (!json_is_integer(ep)) return st_err_set(err, ST_EINVAL, TEMPLATE ": Epoch: must be an integer");
  a->epoch = json_integer_value(ep);
  if (tsv && !json_is_null(tsv) && !st_chain_json_u64_value(tsv, &a->stamp))
    return st_err_set(err, ST_EINVAL, TEMPLATE ": Timestamp: must be a non-negative integer");
  st_tipset_key k;
  st_tipset_key_init(&k);
  st_code code = st_tipset_key_from_json(fn_field(t, "Parents"), TEMPLATE ": Parents", &k, err) ? ST_EINVAL : ST_OK;
  if (!code && k.n) code = st_block_header_set_parents(&a->h, k.cids, k.n, err);
  st_tipset_key_free(&k);
  return code;
}

/* Ticket and Eproof (ElectionProof). */
static st_code template_proofs(const json_t *t, st_block_header *h, st_buf *b, st_err *err) {
  const json_t *ticket = fn_field(t, "Ticket"), *eproof = fn_field(t, "Eproof");
  st_code code = ST_OK;
  if (ticket && !json_is_null(ticket)) {
    if (!json_is_object(ticket))
      return st_err_set(err, ST_EINVAL, TEMPLATE ": Ticket: must be {\"VRFProof\": \"<base64>\"} or null");
    code = template_bytes(fn_field(ticket, "VRFProof"), "Ticket.VRFProof", b, err);
    if (!code) code = st_chain_bytes_set(&h->ticket_vrf_proof, b->data, b->len, err);
    h->has_ticket = !code;
  }
  if (!code && eproof && !json_is_null(eproof)) {
    const json_t *wc = fn_field(eproof, "WinCount");
    if (!json_is_object(eproof) || (wc && !json_is_integer(wc)))
      return st_err_set(err, ST_EINVAL,
                        TEMPLATE ": Eproof: must be {\"WinCount\": N, \"VRFProof\": \"<base64>\"} or null");
    code = template_bytes(fn_field(eproof, "VRFProof"), "Eproof.VRFProof", b, err);
    if (!code) code = st_chain_bytes_set(&h->election_vrf_proof, b->data, b->len, err);
    h->win_count = wc ? json_integer_value(wc) : 0;
    h->has_election_proof = !code;
  }
  return code;
}

/* An array member of the template: null or absent, or an array of at most ST_CHAIN_MAX_ARRAY. */
static st_code template_array(const json_t *v, const char *what, const char *shape, st_err *err) {
  if (v && !json_is_null(v) && (!json_is_array(v) || json_array_size(v) > ST_CHAIN_MAX_ARRAY))
    return st_err_set(err, ST_EINVAL, TEMPLATE ": %s: must be an array (at most %d) of %s or null", what,
                      ST_CHAIN_MAX_ARRAY, shape);
  return ST_OK;
}

/* BeaconValues (BeaconEntries) and WinningPoStProof (WinPoStProof). */
static st_code template_entries(const json_t *t, st_block_header *h, st_buf *b, st_err *err) {
  const json_t *bv = fn_field(t, "BeaconValues"), *wp = fn_field(t, "WinningPoStProof");
  st_code code = template_array(bv, "BeaconValues", "{\"Round\", \"Data\"}", err);
  for (size_t i = 0; !code && i < json_array_size(bv); i++) {
    const json_t *e = json_array_get(bv, i);
    uint64_t round;
    char what[64];
    snprintf(what, sizeof what, "BeaconValues[%zu].Data", i);
    if (!json_is_object(e) || !st_chain_json_u64_value(fn_field(e, "Round"), &round))
      return st_err_set(err, ST_EINVAL, TEMPLATE ": BeaconValues[%zu]: must be {\"Round\": N, \"Data\": \"<base64>\"}",
                        i);
    code = template_bytes(fn_field(e, "Data"), what, b, err);
    if (!code) code = st_block_header_add_beacon(h, round, b->data, b->len, err);
  }
  if (!code) code = template_array(wp, "WinningPoStProof", "{\"PoStProof\", \"ProofBytes\"}", err);
  for (size_t i = 0; !code && i < json_array_size(wp); i++) {
    const json_t *e = json_array_get(wp, i), *pp = fn_field(e, "PoStProof");
    char what[64];
    snprintf(what, sizeof what, "WinningPoStProof[%zu].ProofBytes", i);
    if (!json_is_object(e) || !json_is_integer(pp))
      return st_err_set(err, ST_EINVAL,
                        TEMPLATE ": WinningPoStProof[%zu]: must be {\"PoStProof\": N, \"ProofBytes\": \"<base64>\"}",
                        i);
    code = template_bytes(fn_field(e, "ProofBytes"), what, b, err);
    if (!code) code = st_block_header_add_post_proof(h, json_integer_value(pp), b->data, b->len, err);
  }
  return code;
}

/* Messages: null means the node chooses them from its pool (our extension). */
static st_code template_messages(const json_t *t, template_args *a, st_err *err) {
  const json_t *mj = fn_field(t, "Messages");
  a->given = mj && !json_is_null(mj);
  size_t k = a->given ? json_array_size(mj) : 0;
  if (a->given && (!json_is_array(mj) || k > ST_CHAIN_MAX_ARRAY))
    return st_err_set(err, ST_EINVAL, TEMPLATE ": Messages: must be an array of at most %d signed messages, or null",
                      ST_CHAIN_MAX_ARRAY);
  if (k && !(a->msgs = calloc(k, sizeof *a->msgs))) return st_err_set(err, ST_ENOMEM, "out of memory");
  for (; a->n < k; a->n++) {
    st_signed_message *m = &a->msgs[a->n];
    st_signed_message_init(m);
    if (st_signed_message_from_json(json_array_get(mj, a->n), m, err)) {
      a->n++; /* freed with the rest */
      return st_err_wrap(err, ST_EINVAL, TEMPLATE ": Messages[%zu]", a->n - 1);
    }
    if (m->signature.type != ST_SIG_SECP256K1) {
      a->n++;
      return st_err_set(err, ST_EINVAL,
                        TEMPLATE ": Messages[%zu]: only secp256k1 messages are supported (no BLS library)", a->n - 1);
    }
  }
  return ST_OK;
}

static st_code p_miner_create_block(const json_t *params, void *args, st_err *err) {
  template_args *a = args;
  st_block_header_init(&a->h);
  const json_t *t = json_array_get(params, 0);
  if (!json_is_object(t))
    return st_err_set(err, ST_EINVAL,
                      TEMPLATE ": must be an object {\"Miner\", \"Parents\", \"Ticket\", \"Eproof\", ...}");
  st_buf b = ST_BUF_INIT;
  st_code code = template_head(t, a, err);
  if (!code) code = template_proofs(t, &a->h, &b, err);
  if (!code) code = template_entries(t, &a->h, &b, err);
  st_buf_free(&b);
  return code ? code : template_messages(t, a, err);
}

static void free_template(void *args) {
  template_args *a = args;
  st_block_header_free(&a->h);
  free_messages(a->msgs, a->n);
}

static int cmp_sender_nonce(const void *pa, const void *pb) {
  const st_signed_message *a = *(const st_signed_message *const *)pa, *b = *(const st_signed_message *const *)pb;
  if (a->message.from.len != b->message.from.len) return a->message.from.len < b->message.from.len ? -1 : 1;
  int c = memcmp(a->message.from.bytes, b->message.from.bytes, a->message.from.len);
  if (c) return c;
  return a->message.nonce < b->message.nonce ? -1 : a->message.nonce > b->message.nonce;
}

/* Each given message goes into the node's pool (if it is neither there nor on chain), so
 * SyncSubmitBlock finds it. */
static st_code pool_given(st_fullnode *n, const st_signed_message *msgs, size_t k, st_err *err) {
  st_state head;
  st_state_init(&head);
  pthread_mutex_lock(&n->pool_mu);
  st_code code = st_chain_state(n->chain, NULL, &head, err);
  for (size_t i = 0; i < k && !code; i++) {
    st_cid cid;
    st_signed_message stored;
    st_signed_message_init(&stored);
    char s[ST_CID_STR_MAX] = "?";
    if (!(code = st_signed_message_cid(&msgs[i], &cid, err))) st_cid_to_string(&cid, s);
    st_err e2;
    if (!code && !st_mpool_find(n->pool, &cid) && st_chain_message(n->chain, &cid, &stored, NULL) &&
        st_mpool_add(n->pool, &head, &msgs[i], NULL, &e2))
      code = st_err_set(err, e2.code, "Messages[%zu] (%s): the message pool refused it: %s", i, s, e2.msg);
    st_signed_message_free(&stored);
  }
  pthread_mutex_unlock(&n->pool_mu);
  st_state_clear(&head);
  return code;
}

/* *tmp: a pool of just the given messages, checked against the parent's state, in the pool's
 * order (by sender and nonce), which the block is built from. */
static st_code given_pool(st_fullnode *n, const st_tipset *parent, const st_signed_message *msgs, size_t k,
                          st_mpool **tmp, st_err *err) {
  *tmp = NULL;
  const st_signed_message **order = calloc(k ? k : 1, sizeof *order);
  if (!order) return st_err_set(err, ST_ENOMEM, "out of memory");
  st_state pst;
  st_state_init(&pst);
  st_code code = st_mpool_new(st_chain_network(n->chain), tmp, err);
  if (!code) code = st_chain_state(n->chain, &parent->key, &pst, err);
  for (size_t i = 0; i < k; i++) order[i] = &msgs[i];
  if (!code) qsort(order, k, sizeof *order, cmp_sender_nonce);
  for (size_t i = 0; i < k && !code; i++) {
    st_err e2;
    if (st_mpool_add(*tmp, &pst, order[i], NULL, &e2))
      code = st_err_set(err, e2.code, "Messages[%zu] cannot go in a block on these parents: %s",
                        (size_t)(order[i] - msgs), e2.msg);
  }
  st_state_clear(&pst);
  free(order);
  return code;
}

/* The template's parents (the head when it has none, which then become its parents), and the
 * key of the miner's worker there (wipe it after use). */
static st_code block_base(st_fullnode *n, template_args *a, st_tipset *ts, uint8_t sk[32], st_err *err) {
  st_block_header *h = &a->h;
  st_tipset_key pk = {h->parents, h->n_parents};
  memset(sk, 0, 32);
  st_code code = fn_tipset(n, &pk, ts, err);
  if (code) return st_err_wrap(err, code, "failed to load parent tipset");
  if (!h->n_parents && (code = st_block_header_set_parents(h, ts->key.cids, ts->key.n, err))) return code;
  const st_network *net = st_chain_network(n->chain);
  uint64_t want = st_chain_genesis_time(n->chain) + (uint64_t)a->epoch * (uint64_t)net->block_delay;
  if (a->epoch <= ts->height)
    return st_err_set(err, ST_EINVAL, "Epoch %lld is not above the parent tipset's height %lld", (long long)a->epoch,
                      (long long)ts->height);
  if (a->stamp && a->stamp != want)
    return st_err_set(err, ST_EINVAL,
                      "Timestamp %llu is not the epoch's: genesis time + Epoch x block delay = %llu (or send 0)",
                      (unsigned long long)a->stamp, (unsigned long long)want);
  uint64_t id = 0;
  st_miner_state m;
  st_state st;
  st_state_init(&st);
  if ((code = fn_miner_id(n, ts, &h->miner, &id, NULL, err))) return code;
  code = st_chain_miner_state(n->chain, &ts->key, id, &m, err); /* initialises m either way */
  if (!code) code = st_chain_state(n->chain, &ts->key, &st, err);
  const st_state_actor *w = code ? NULL : st_state_get(&st, m.worker);
  if (!code && (!w || !w->robust.len || st_address_protocol(&w->robust) != ST_ADDR_SECP256K1))
    code = st_err_set(err, ST_EINVAL, "failed to get miner worker: t0%llu has no secp256k1 key address",
                      (unsigned long long)m.worker);
  if (!code && (code = st_wallet_key(&n->wallet, &w->robust, sk, err)))
    st_err_wrap(err, code, "failed to sign new block with the worker's key");
  if (!code) code = st_address_from_id(id, &h->miner, err);
  st_state_clear(&st);
  st_miner_state_free(&m);
  return code;
}

/* BlockMsg: the header and the CIDs of the messages built into it. */
static st_code block_msg_json(st_fullnode *n, const st_block_header *h, const st_signed_message *built, size_t k,
                              json_t **result, st_err *err) {
  json_t *hj = NULL, *secp = k ? json_array() : json_null(); /* Lotus appends to nil slices: none is null */
  st_code code = ST_OK;
  for (size_t i = 0; i < k && !code; i++) {
    st_cid cid;
    if (!(code = st_signed_message_cid(&built[i], &cid, err))) json_array_append_new(secp, st_chain_json_cid(&cid));
  }
  if (!code) code = st_block_header_to_json(h, n->network, &hj, err);
  if (!code) *result = json_pack("{so sn so}", "Header", hj, "BlsMessages", "SecpkMessages", json_incref(secp));
  json_decref(secp);
  return code;
}

static st_code r_miner_create_block(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  template_args *a = q->args;
  st_tipset ts;
  uint8_t sk[32];
  st_mpool *tmp = NULL;
  st_signed_message *built = NULL;
  size_t nbuilt = 0;
  st_code code = block_base(n, a, &ts, sk, err);
  if (!code && a->given) code = pool_given(n, a->msgs, a->n, err);
  if (!code && a->given) code = given_pool(n, &ts, a->msgs, a->n, &tmp, err);
  if (!code) code = build(n, sk, a->epoch, a->given ? tmp : n->pool, &a->h, &built, &nbuilt, err);
  st_secure_zero(sk, sizeof sk);
  if (!code && a->given && nbuilt != a->n)
    code = st_err_set(err, ST_EINVAL,
                      "only %zu of the %zu Messages can go in this block: the others would not apply (nonce, funds) or "
                      "pass the block gas limit",
                      nbuilt, a->n);
  if (!code) code = block_msg_json(n, &a->h, built, nbuilt, &q->result, err);
  free_messages(built, nbuilt);
  st_mpool_free(tmp);
  st_tipset_free(&ts);
  return code;
}

static const st_rpc_method METHODS[] = {
    ST_RPC_METHOD_V("StateGetBeaconEntry", ST_RPC_V1, ST_PERM_READ, 1, 1, p_beacon_entry, round_args, NULL,
                    r_beacon_entry),
    ST_RPC_METHOD_V("BeaconGetEntry", ST_RPC_V0, ST_PERM_READ, 1, 1, p_beacon_entry, round_args, NULL, r_beacon_entry),
    ST_RPC_METHOD("MinerGetBaseInfo", ST_PERM_READ, 2, 3, p_base_info, fn_addr_num_tsk_args, fn_free_addr_tsk,
                  r_miner_get_base_info),
    ST_RPC_METHOD("MinerCreateBlock", ST_PERM_WRITE, 1, 1, p_miner_create_block, template_args, free_template,
                  r_miner_create_block),
    ST_RPC_METHOD("SyncSubmitBlock", ST_PERM_WRITE, 1, 1, p_sync_submit_block, submit_args, free_submit,
                  r_sync_submit_block),
};

fn_slice fn_mining_methods(void) { return (fn_slice){METHODS, sizeof METHODS / sizeof METHODS[0]}; }
