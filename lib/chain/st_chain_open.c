/* st_chain_open: the chain object: opening a repo's chain (its genesis built or checked), the
 * lock every transaction takes, and the network it runs. Part of st_chain. */
#include <stdlib.h>
#include <string.h>

#include "chain/st_chain_int.h"
#include "codec/st_cbor.h"

/* ---- genesis ---- */

typedef struct genesis_ctx {
  st_chain *c;
  const st_genesis *g;
  st_tipset_key key;
} genesis_ctx;

static st_code build_genesis(st_cs_txn *t, const st_genesis *g, const st_network *net, st_tipset_key *key, bool write,
                             st_err *err) {
  st_state st;
  st_state_init(&st);
  st_block_header h;
  st_block_header_init(&h);
  st_buf blob = ST_BUF_INIT, enc = ST_BUF_INIT;
  st_cid state_root, receipts, meta, cid;
  st_code code = st_genesis_state(g, &st, err);
  if (!code) {
    st_state_root(&st, &blob, &state_root);
    code = write ? st_cs_put(t, &state_root, blob.data, blob.len, err) : ST_OK;
  }
  if (!code) code = st_ch_put_cid_list(t, NULL, 0, &receipts, err); /* an empty list: no receipts */
  if (!code) code = st_ch_msg_meta(t, NULL, 0, &meta, err);
  if (!code) code = st_address_from_id(ST_ID_SYSTEM, &h.miner, err);
  if (!code) {
    h.height = 0;
    h.parent_state_root = state_root;
    h.parent_message_receipts = receipts;
    h.messages = meta;
    h.timestamp = g->timestamp;
    mpz_set_si(h.parent_base_fee, net->initial_base_fee);
    /* the genesis block's ticket is the beacon's public key: the chain commits to its beacon,
     * and ticket randomness before the first block draws from it */
    h.has_ticket = true;
    code = st_chain_bytes_set(&h.ticket_vrf_proof, g->beacon_pub, sizeof g->beacon_pub, err);
  }
  if (!code) {
    code = st_block_header_encode(&h, &enc, err);
  }
  if (!code) code = st_ch_put_cbor(t, &enc, &cid, err);
  if (!code) code = st_tipset_key_set(key, &cid, 1, err);
  if (!code && write) {
    st_ch_record r;
    st_ch_record_init(&r);
    r.height = 0;
    r.exec.state_root = state_root; /* genesis applies no messages */
    r.exec.receipts_root = receipts;
    r.exec.applied_root = receipts; /* the same empty list */
    mpz_set_si(r.exec.next_base_fee, net->initial_base_fee);
    code = st_ch_put_record(t, key, &r, err);
    st_ch_record_free(&r);
    st_buf kb = ST_BUF_INIT;
    st_tipset_key_bytes(key, &kb);
    if (!code) code = st_cs_put_height(t, 0, kb.data, kb.len, err);
    st_buf_free(&kb);
    if (!code) code = st_ch_put_key(t, "genesis", key, err);
    if (!code) code = st_ch_put_key(t, "head", key, err);
  }
  st_buf_free(&blob);
  st_buf_free(&enc);
  st_block_header_free(&h);
  st_state_clear(&st);
  return code;
}

/* The network's parameters as canonical JSON: the genesis block does not commit to them, so
 * the repo keeps them and refuses to reopen under other rules. */
static char *network_text(const st_network *net) {
  json_t *j = st_network_to_json(net);
  char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(j);
  return text;
}

static st_code open_tx(st_cs_txn *t, void *vctx, st_err *err) {
  genesis_ctx *gc = vctx;
  st_tipset_key stored;
  st_tipset_key_init(&stored);
  char *net = network_text(&gc->g->network);
  if (!net) return st_err_set(err, ST_ENOMEM, "out of memory opening the chain");
  st_code code = st_ch_get_key(t, "genesis", &stored, NULL);
  if (code == ST_ENOENT) { /* a new repo */
    code = build_genesis(t, gc->g, &gc->g->network, &gc->key, true, err);
    if (!code) code = st_cs_put_meta(t, "network", net, strlen(net), err);
  } else {
    if (!code) code = build_genesis(t, gc->g, &gc->g->network, &gc->key, false, err);
    if (!code && !st_tipset_key_equal(&stored, &gc->key))
      code = st_err_set(
          err, ST_ECONFLICT,
          "this repo holds a chain from another genesis: use the genesis file it was made with, or a new --repo");
    st_buf have = ST_BUF_INIT;
    if (!code &&
        (st_cs_get_meta(t, "network", &have, NULL) || have.len != strlen(net) || memcmp(have.data, net, have.len)))
      code = st_err_set(
          err, ST_ECONFLICT,
          "this repo's chain was made with other network parameters than this genesis file's: use the file it was made with, or a new --repo");
    st_buf_free(&have);
  }
  free(net);
  st_tipset_key_free(&stored);
  return code;
}

st_code st_chain_open(const char *repo, const st_genesis *g, st_chain **out, st_err *err) {
  *out = NULL;
  st_code code = st_network_check(&g->network, err);
  if (code) return st_err_wrap(err, code, "genesis");
  st_chain *c = calloc(1, sizeof *c);
  if (!c) return st_err_set(err, ST_ENOMEM, "out of memory opening the chain");
  c->net = g->network;
  c->genesis_time = g->timestamp;
  memcpy(c->beacon_pub, g->beacon_pub, sizeof c->beacon_pub);
  pthread_mutex_init(&c->mu, NULL);
  if ((code = st_cs_open(repo, 0, &c->cs, err))) {
    st_chain_close(c);
    return code;
  }
  genesis_ctx gc = {c, g, {0}};
  st_tipset_key_init(&gc.key);
  code = st_cs_write(c->cs, open_tx, &gc, err);
  st_tipset_key_free(&gc.key);
  if (code) {
    st_chain_close(c);
    return code;
  }
  *out = c;
  return ST_OK;
}

void st_chain_close(st_chain *c) {
  if (!c) return;
  st_cs_close(c->cs);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

void st_chain_on_head(st_chain *c, st_chain_head_fn fn, void *ctx) {
  pthread_mutex_lock(&c->mu);
  c->on_head = fn;
  c->on_head_ctx = ctx;
  pthread_mutex_unlock(&c->mu);
}

/* ---- the chain object ---- */

const st_network *st_chain_network(const st_chain *c) { return &c->net; }
uint64_t st_chain_genesis_time(const st_chain *c) { return c->genesis_time; }

int64_t st_chain_epoch_at(const st_chain *c, uint64_t now) {
  if (now < c->genesis_time) return 0;
  return (int64_t)((now - c->genesis_time) / (uint64_t)c->net.block_delay);
}

const uint8_t *st_chain_beacon_pub(const st_chain *c) { return c->beacon_pub; }

st_code st_ch_read(st_chain *c, st_cs_write_fn fn, void *ctx, st_err *err) {
  pthread_mutex_lock(&c->mu);
  st_code code = st_cs_read(c->cs, fn, ctx, err);
  pthread_mutex_unlock(&c->mu);
  return code;
}
