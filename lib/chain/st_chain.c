/* st_chain: tipset records, execution, head selection and lookups over st_chainstore.
 *
 * What the store holds (keys in the chain store's named values unless said otherwise):
 *   objects        blocks, signed messages, CID lists, message metas, receipt lists, state blobs
 *   genesis, head  a tipset key (the concatenated CID bytes)
 *   ts:<key CID>   the tipset's record: [height, weight, state root, receipts root, next base fee, parent key]
 *   hp:<h>:<CID>   the largest tipset formed so far at height h on the parent with that key CID
 *   heights        height -> key, on the head chain only
 *   msgidx         message CID -> [key, height, receipt index], on the head chain only */
#include "chain/st_chain.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/st_actor_state.h"
#include "chain/st_chainstore.h"
#include "chain/st_consensus.h"
#include "chain/st_cron.h"
#include "chain/st_methods.h"
#include "chain/st_rand.h"
#include "chain/st_vm.h"
#include "codec/st_cbor.h"
#include "codec/st_token.h"
#include "core/st_log.h"
#include "crypto/st_secp.h"

struct st_chain {
  st_chainstore *cs;
  st_network net;
  uint64_t genesis_time;
  uint8_t beacon_pub[65];
  pthread_mutex_t mu;
  st_chain_head_fn on_head;
  void *on_head_ctx;
};

/* ---- small helpers ---- */

void st_tipset_init(st_tipset *t) {
  *t = (st_tipset){0};
  st_tipset_key_init(&t->key);
}

void st_tipset_free(st_tipset *t) {
  for (size_t i = 0; i < t->n; i++) st_block_header_free(&t->blocks[i]);
  free(t->blocks);
  st_tipset_key_free(&t->key);
  st_tipset_init(t);
}

void st_tipset_exec_init(st_tipset_exec *e) {
  *e = (st_tipset_exec){0};
  mpz_inits(e->next_base_fee, e->weight, NULL);
}

void st_tipset_exec_free(st_tipset_exec *e) { mpz_clears(e->next_base_fee, e->weight, NULL); }

static void exec_copy(st_tipset_exec *dst, const st_tipset_exec *src) {
  dst->state_root = src->state_root;
  dst->receipts_root = src->receipts_root;
  dst->applied_root = src->applied_root;
  mpz_set(dst->next_base_fee, src->next_base_fee);
  mpz_set(dst->weight, src->weight);
}

void st_msg_lookup_free(st_msg_lookup *l) {
  st_tipset_key_free(&l->tipset);
  st_receipt_free(&l->receipt);
}

st_code st_tipset_to_json(const st_tipset *t, char network, json_t **out, st_err *err) {
  json_t *cids = NULL, *blocks = json_array();
  st_code code = st_tipset_key_to_json(&t->key, &cids, err);
  for (size_t i = 0; i < t->n && !code; i++) {
    json_t *b;
    if (!(code = st_block_header_to_json(&t->blocks[i], network, &b, err))) json_array_append_new(blocks, b);
  }
  if (code) {
    json_decref(cids);
    json_decref(blocks);
    return code;
  }
  *out = json_pack("{so so sI}", "Cids", cids, "Blocks", blocks, "Height", (json_int_t)t->height);
  return ST_OK;
}

const st_network *st_chain_network(const st_chain *c) { return &c->net; }
uint64_t st_chain_genesis_time(const st_chain *c) { return c->genesis_time; }

int64_t st_chain_epoch_at(const st_chain *c, uint64_t now) {
  if (now < c->genesis_time) return 0;
  return (int64_t)((now - c->genesis_time) / (uint64_t)c->net.block_delay);
}

static void meta_key(const char *prefix, const st_cid *cid, char out[ST_CID_STR_MAX + 48]) {
  char s[ST_CID_STR_MAX];
  st_cid_to_string(cid, s);
  snprintf(out, ST_CID_STR_MAX + 48, "%s%s", prefix, s);
}

/* Stores an encoded object and gives its CID; with t NULL, only the CID (a block being built). */
static st_code put_cbor(st_cs_txn *t, const st_buf *b, st_cid *cid, st_err *err) {
  st_cid_of_cbor(b->data, b->len, cid);
  return t ? st_cs_put(t, cid, b->data, b->len, err) : ST_OK;
}

/* A CBOR array of CIDs, stored; its CID in *cid. */
static st_code put_cid_list(st_cs_txn *t, const st_cid *cids, size_t n, st_cid *cid, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_cbor_put_array(&b, n);
  for (size_t i = 0; i < n; i++) st_cbor_put_cid(&b, &cids[i]);
  st_code code = st_buf_status(&b, err);
  if (!code) code = put_cbor(t, &b, cid, err);
  st_buf_free(&b);
  return code;
}

static st_code read_cid_list(const uint8_t *p, size_t len, st_cid **out, size_t *n, st_err *err) {
  st_cbor_reader r;
  st_cbor_reader_init(&r, p, len, err);
  uint64_t count = 0;
  st_code code = st_cbor_read_array(&r, &count);
  if (!code && count > ST_CHAIN_MAX_ARRAY)
    code = st_err_set(err, ST_EINVAL, "a CID list of %llu items", (unsigned long long)count);
  *out = NULL;
  *n = 0;
  if (!code && count && !(*out = calloc((size_t)count, sizeof **out)))
    code = st_err_set(err, ST_ENOMEM, "out of memory reading a CID list");
  for (uint64_t i = 0; i < count && !code; i++) code = st_cbor_read_cid(&r, &(*out)[i]);
  if (!code) code = st_cbor_finish(&r);
  if (code) {
    free(*out);
    *out = NULL;
    return code;
  }
  *n = (size_t)count;
  return ST_OK;
}

/* The message meta [BLS list CID, secp list CID] for these secp message CIDs (stored unless t
 * is NULL). */
static st_code msg_meta(st_cs_txn *t, const st_cid *secp, size_t n, st_cid *meta, st_err *err) {
  st_cid bls, sl;
  st_code code = put_cid_list(t, NULL, 0, &bls, err);
  if (!code) code = put_cid_list(t, secp, n, &sl, err);
  if (code) return code;
  st_buf b = ST_BUF_INIT;
  st_cbor_put_array(&b, 2);
  st_cbor_put_cid(&b, &bls);
  st_cbor_put_cid(&b, &sl);
  code = st_buf_status(&b, err);
  if (!code) code = put_cbor(t, &b, meta, err);
  st_buf_free(&b);
  return code;
}

/* The secp message CIDs a block's meta lists. */
static st_code meta_messages(st_cs_txn *t, const st_cid *meta, st_cid **cids, size_t *n, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_code code = st_cs_get(t, meta, &b, err);
  st_cid bls, secp;
  if (!code) {
    st_cbor_reader r;
    st_cbor_reader_init(&r, b.data, b.len, err);
    code = st_cbor_expect_array(&r, 2, "message meta");
    if (!code) code = st_cbor_read_cid(&r, &bls);
    if (!code) code = st_cbor_read_cid(&r, &secp);
    if (!code) code = st_cbor_finish(&r);
  }
  st_buf_reset(&b);
  if (!code) code = st_cs_get(t, &secp, &b, err);
  if (!code) code = read_cid_list(b.data, b.len, cids, n, err);
  st_buf_free(&b);
  return code;
}

static st_code load_signed(st_cs_txn *t, const st_cid *cid, st_signed_message *out, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_code code = st_cs_get(t, cid, &b, err);
  if (!code) code = st_signed_message_decode(b.data, b.len, out, err);
  st_buf_free(&b);
  return code;
}

static st_code load_block(st_cs_txn *t, const st_cid *cid, st_block_header *out, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_code code = st_cs_get(t, cid, &b, err);
  if (!code) code = st_block_header_decode(b.data, b.len, out, err);
  st_buf_free(&b);
  return code;
}

static st_code load_tipset(st_cs_txn *t, const st_tipset_key *key, st_tipset *out, st_err *err) {
  st_tipset_free(out);
  if (!key->n) return st_err_set(err, ST_EINVAL, "empty tipset key");
  out->blocks = calloc(key->n, sizeof *out->blocks);
  if (!out->blocks) return st_err_set(err, ST_ENOMEM, "out of memory loading a tipset");
  st_code code = ST_OK;
  for (size_t i = 0; i < key->n && !code; i++) {
    st_block_header_init(&out->blocks[i]);
    out->n++;
    code = load_block(t, &key->cids[i], &out->blocks[i], err);
  }
  if (!code) code = st_tipset_key_set(&out->key, key->cids, key->n, err);
  if (!code) out->height = out->blocks[0].height;
  if (code) st_tipset_free(out);
  return code;
}

/* ---- tipset records ---- */

typedef struct record {
  int64_t height;
  st_tipset_exec exec;
  st_tipset_key parent;
} record;

static void record_init(record *r) {
  r->height = 0;
  st_tipset_exec_init(&r->exec);
  st_tipset_key_init(&r->parent);
}

static void record_free(record *r) {
  st_tipset_exec_free(&r->exec);
  st_tipset_key_free(&r->parent);
}

static st_code put_record(st_cs_txn *t, const st_tipset_key *key, const record *r, st_err *err) {
  st_buf b = ST_BUF_INIT, pk = ST_BUF_INIT;
  st_tipset_key_bytes(&r->parent, &pk);
  st_cbor_put_array(&b, 7);
  st_cbor_put_int(&b, r->height);
  st_cbor_put_bigint(&b, r->exec.weight);
  st_cbor_put_cid(&b, &r->exec.state_root);
  st_cbor_put_cid(&b, &r->exec.receipts_root);
  st_cbor_put_bigint(&b, r->exec.next_base_fee);
  st_cbor_put_bytes(&b, pk.data, pk.len);
  st_cbor_put_cid(&b, &r->exec.applied_root);
  st_cid kc;
  st_code code = st_tipset_key_cid(key, &kc, err);
  char mk[ST_CID_STR_MAX + 48];
  if (!code) {
    meta_key("ts:", &kc, mk);
    code = st_buf_status(&b, err);
  }
  if (!code) code = st_cs_put_meta(t, mk, b.data, b.len, err);
  st_buf_free(&b);
  st_buf_free(&pk);
  return code;
}

static st_code get_record(st_cs_txn *t, const st_tipset_key *key, record *r, st_err *err) {
  st_cid kc;
  st_code code = st_tipset_key_cid(key, &kc, err);
  if (code) return code;
  char mk[ST_CID_STR_MAX + 48];
  meta_key("ts:", &kc, mk);
  st_buf b = ST_BUF_INIT;
  if ((code = st_cs_get_meta(t, mk, &b, NULL))) {
    st_buf_free(&b);
    return st_err_set(err, ST_ENOENT, "tipset %s is not known", mk + 3);
  }
  st_cbor_reader rd;
  st_cbor_reader_init(&rd, b.data, b.len, err);
  const uint8_t *pk;
  size_t pklen;
  code = st_cbor_expect_array(&rd, 7, "tipset record");
  if (!code) code = st_cbor_read_int(&rd, &r->height);
  if (!code) code = st_cbor_read_bigint(&rd, r->exec.weight);
  if (!code) code = st_cbor_read_cid(&rd, &r->exec.state_root);
  if (!code) code = st_cbor_read_cid(&rd, &r->exec.receipts_root);
  if (!code) code = st_cbor_read_bigint(&rd, r->exec.next_base_fee);
  if (!code) code = st_cbor_read_bytes(&rd, &pk, &pklen);
  if (!code) code = st_tipset_key_from_bytes(pk, pklen, &r->parent, err);
  if (!code) code = st_cbor_read_cid(&rd, &r->exec.applied_root);
  st_buf_free(&b);
  return code;
}

/* The CIDs a tipset applied, from its record. */
static st_code applied_of(st_cs_txn *t, const st_tipset_key *key, st_cid **cids, size_t *n, st_err *err) {
  record r;
  record_init(&r);
  st_buf b = ST_BUF_INIT;
  st_code code = get_record(t, key, &r, err);
  if (!code) code = st_cs_get(t, &r.exec.applied_root, &b, err);
  if (!code) code = read_cid_list(b.data, b.len, cids, n, err);
  st_buf_free(&b);
  record_free(&r);
  return code;
}

static st_code get_key_meta(st_cs_txn *t, const char *name, st_tipset_key *key, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_code code = st_cs_get_meta(t, name, &b, err);
  if (!code) code = st_tipset_key_from_bytes(b.data, b.len, key, err);
  st_buf_free(&b);
  return code;
}

static st_code put_key_meta(st_cs_txn *t, const char *name, const st_tipset_key *key, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_tipset_key_bytes(key, &b);
  st_code code = st_cs_put_meta(t, name, b.data, b.len, err);
  st_buf_free(&b);
  return code;
}

static st_code load_state(st_cs_txn *t, const st_cid *root, st_state *out, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_code code = st_cs_get(t, root, &b, err);
  if (!code) code = st_state_decode(b.data, b.len, out, err);
  st_buf_free(&b);
  return code;
}

/* ---- the VM's environment: objects and randomness from the chain ---- */

typedef struct pending_obj {
  st_cid cid;
  uint8_t *data;
  size_t len;
} pending_obj;

/* The chain as the messages of one tipset (top) see it. In a write transaction objects go
 * straight to the store (an aborted transaction drops them); otherwise they stay in memory. */
typedef struct chain_env {
  st_chain *c;
  st_cs_txn *t;
  bool write;
  pending_obj *objs;
  size_t nobjs;
  int64_t top_height;
  st_tipset_key top_key, top_parent;
  st_vm_env env;
} chain_env;

static st_code env_get(void *ctx, const st_cid *cid, st_buf *out, st_err *err) {
  chain_env *e = ctx;
  for (size_t i = e->nobjs; i-- > 0;)
    if (st_cid_equal(&e->objs[i].cid, cid)) {
      st_buf_append(out, e->objs[i].data, e->objs[i].len);
      return st_buf_status(out, err);
    }
  return st_cs_get(e->t, cid, out, err);
}

static st_code env_put(void *ctx, const st_cid *cid, const uint8_t *data, size_t len, st_err *err) {
  chain_env *e = ctx;
  if (e->write) return st_cs_put(e->t, cid, data, len, err);
  pending_obj *g = realloc(e->objs, (e->nobjs + 1) * sizeof *g);
  uint8_t *copy = malloc(len ? len : 1);
  if (!g || !copy) {
    if (g) e->objs = g;
    free(copy);
    return st_err_set(err, ST_ENOMEM, "out of memory storing state");
  }
  e->objs = g;
  memcpy(copy, data, len);
  e->objs[e->nobjs++] = (pending_obj){*cid, copy, len};
  return ST_OK;
}

/* Walks back from the top to the tipset at round (or the last before it when round was null),
 * or, for a beacon entry, to the first tipset at or above round (the one carrying its entry). */
static st_code env_find(chain_env *e, int64_t round, bool first_above, st_tipset_key *out, st_err *err) {
  if (round > e->top_height)
    return st_err_set(err, ST_EINVAL, "randomness for round %lld: the chain is at %lld", (long long)round,
                      (long long)e->top_height);
  st_tipset_key cur, parent;
  st_tipset_key_init(&cur);
  st_tipset_key_init(&parent);
  int64_t h = e->top_height;
  st_code code = st_tipset_key_set(&cur, e->top_key.cids, e->top_key.n, err);
  if (!code) code = st_tipset_key_set(&parent, e->top_parent.cids, e->top_parent.n, err);
  while (!code) {
    if (!first_above && h <= round) break;
    if (!parent.n) break; /* genesis */
    record r;
    record_init(&r);
    code = get_record(e->t, &parent, &r, err);
    if (!code && first_above && r.height < round) {
      record_free(&r);
      break;
    }
    if (!code) {
      h = r.height;
      st_tipset_key_free(&cur);
      cur = parent;
      parent = r.parent;
      st_tipset_key_init(&r.parent);
    }
    record_free(&r);
  }
  if (!code) {
    st_tipset_key_free(out);
    *out = cur;
    st_tipset_key_init(&cur);
  }
  st_tipset_key_free(&cur);
  st_tipset_key_free(&parent);
  return code;
}

static st_code env_randomness(void *ctx, bool beacon, int64_t dst, int64_t round, const uint8_t *entropy, size_t elen,
                              uint8_t out[32], st_err *err) {
  chain_env *e = ctx;
  if (beacon && round < 1) { /* before the first beacon entry: the beacon's key */
    st_draw_randomness(e->c->beacon_pub, sizeof e->c->beacon_pub, dst, round, entropy, elen, out);
    return ST_OK;
  }
  st_tipset_key key;
  st_tipset_key_init(&key);
  st_block_header b;
  st_block_header_init(&b);
  st_code code = env_find(e, round, beacon, &key, err);
  if (!code) code = load_block(e->t, &key.cids[0], &b, err); /* the first block holds the smallest ticket */
  const st_chain_bytes *base = NULL;
  if (!code && !beacon) base = &b.ticket_vrf_proof;
  for (size_t i = 0; !code && beacon && i < b.n_beacon_entries; i++)
    if ((int64_t)b.beacon_entries[i].round == round) base = &b.beacon_entries[i].data;
  if (!code && !base)
    code = st_err_set(err, ST_ENOENT, "no beacon entry for round %lld on this chain", (long long)round);
  if (!code) st_draw_randomness(base->data, base->len, dst, round, entropy, elen, out);
  st_block_header_free(&b);
  st_tipset_key_free(&key);
  return code;
}

/* An environment with no top yet: always safe to env_free. */
static void env_init(chain_env *e, st_chain *c, st_cs_txn *t, bool write) {
  *e = (chain_env){.c = c, .t = t, .write = write};
  st_tipset_key_init(&e->top_key);
  st_tipset_key_init(&e->top_parent);
  e->env = (st_vm_env){e, env_get, env_put, env_randomness};
}

/* The tipset whose messages run: randomness and lookbacks walk back from it. */
static st_code env_top(chain_env *e, const st_tipset *top, st_err *err) {
  e->top_height = top->height;
  st_code code = st_tipset_key_set(&e->top_key, top->key.cids, top->key.n, err);
  if (!code) code = st_tipset_key_set(&e->top_parent, top->blocks[0].parents, top->blocks[0].n_parents, err);
  return code;
}

static void env_free(chain_env *e) {
  for (size_t i = 0; i < e->nobjs; i++) free(e->objs[i].data);
  free(e->objs);
  st_tipset_key_free(&e->top_key);
  st_tipset_key_free(&e->top_parent);
}

/* The state after the tipset at height h (or the last before it) on top's chain. */
static st_code state_at(chain_env *e, int64_t h, st_state *out, st_err *err) {
  st_tipset_key key;
  st_tipset_key_init(&key);
  record r;
  record_init(&r);
  if (h > e->top_height) h = e->top_height; /* after null rounds the lookback may be the top itself */
  st_code code = env_find(e, h < 0 ? 0 : h, false, &key, err);
  if (!code) code = get_record(e->t, &key, &r, err);
  if (!code) code = load_state(e->t, &r.exec.state_root, out, err);
  record_free(&r);
  st_tipset_key_free(&key);
  return code;
}

/* ---- execution ---- */

/* The tipset's messages in the order they apply: blocks in order, each CID once. */
static st_code apply_order(st_cs_txn *t, const st_tipset *ts, st_cid **out, size_t **block_of, size_t *n, st_err *err) {
  *out = NULL;
  *block_of = NULL;
  *n = 0;
  size_t cap = 0;
  st_code code = ST_OK;
  for (size_t b = 0; b < ts->n && !code; b++) {
    st_cid *cids;
    size_t k;
    if ((code = meta_messages(t, &ts->blocks[b].messages, &cids, &k, err))) break;
    for (size_t i = 0; i < k && !code; i++) {
      bool seen = false;
      for (size_t j = 0; j < *n && !seen; j++) seen = st_cid_equal(&(*out)[j], &cids[i]);
      if (seen) continue;
      if (*n == cap) {
        cap = cap ? cap * 2 : 64;
        st_cid *nc = realloc(*out, cap * sizeof *nc);
        size_t *nb = realloc(*block_of, cap * sizeof *nb);
        if (nc) *out = nc;
        if (nb) *block_of = nb;
        if (!nc || !nb) code = st_err_set(err, ST_ENOMEM, "out of memory ordering messages");
      }
      if (!code) {
        (*out)[*n] = cids[i];
        (*block_of)[(*n)++] = b;
      }
    }
    free(cids);
  }
  return code;
}

/* Applies ts's messages on its parent's state. strict (one block being checked on its own):
 * a message that cannot be applied makes the block invalid. Otherwise (a tipset of several
 * blocks) such a message is skipped, as Lotus skips out-of-sequence messages: two valid blocks
 * may carry the same sender's nonce. out->applied_root lists what was applied, in order. */
/* Cron for every epoch after the parent's up to and including the tipset's own (null rounds
 * included), as Lotus's ApplyBlocks runs it. */
static st_code run_cron(st_chain *c, chain_env *env, st_state *state, int64_t epoch, st_err *err) {
  mpz_t zero;
  mpz_init(zero);
  st_vm vm;
  st_vm_init(&vm, state, &c->net, 0, zero, epoch);
  vm.env = &env->env;
  st_code code = st_actors_cron(&vm, epoch, err);
  st_vm_clear(&vm);
  mpz_clear(zero);
  return code;
}

static st_code exec_tipset(st_chain *c, st_cs_txn *t, const st_tipset *ts, const st_tipset_exec *parent,
                           int64_t parent_height, bool strict, st_tipset_exec *out, st_err *err) {
  st_state state;
  st_state_init(&state);
  chain_env env;
  env_init(&env, c, t, true);
  st_code code = env_top(&env, ts, err);
  if (!code) code = load_state(t, &parent->state_root, &state, err);
  /* the weight counts the power the tipset was elected on: its parent state's */
  st_power_state power;
  if (!code) code = st_actors_load_power(&env.env, &state, &power, err);
  else st_power_state_init(&power);
  if (!code) st_consensus_weight(ts->blocks[0].parent_weight, power.total_qa, ts->blocks, ts->n, out->weight);
  st_power_state_free(&power);
  for (int64_t e = parent_height + 1; e < ts->height && !code; e++) code = run_cron(c, &env, &state, e, err);
  st_cid *order = NULL, *applied = NULL;
  size_t *block_of = NULL, n = 0, napplied = 0;
  if (!code) code = apply_order(t, ts, &order, &block_of, &n, err);
  if (!code && n && !(applied = calloc(n, sizeof *applied)))
    code = st_err_set(err, ST_ENOMEM, "out of memory applying a tipset");
  st_buf items = ST_BUF_INIT;
  int64_t gas_sum = 0;
  for (size_t i = 0; i < n && !code; i++) {
    const st_block_header *b = &ts->blocks[block_of[i]];
    st_state_actor *miner;
    if ((code = st_state_lookup(&state, &b->miner, &miner, err))) break;
    st_vm vm;
    st_vm_init(&vm, &state, &c->net, miner->id, b->parent_base_fee, ts->height);
    vm.env = &env.env;
    st_signed_message sm;
    st_signed_message_init(&sm);
    st_receipt rc;
    st_receipt_init(&rc);
    st_buf enc = ST_BUF_INIT;
    st_err why;
    code = load_signed(t, &order[i], &sm, err);
    if (!code) code = st_signed_message_encode(&sm, &enc, err);
    st_code applied_code = code ? code : st_vm_apply(&vm, &sm.message, enc.len, &rc, NULL, &why);
    if (!code && applied_code == ST_EINVAL && !strict) {
      /* skipped: no receipt, no gas */
    } else if (!code && applied_code) {
      code = applied_code;
      if (err) *err = why;
    } else if (!code) {
      code = st_receipt_encode(&rc, &items, err);
      gas_sum += sm.message.gas_limit;
      applied[napplied++] = order[i];
      if (rc.exit_code && strict) {
        char s[ST_CID_STR_MAX];
        st_cid_to_string(&order[i], s);
        st_logf("vm", ST_LOG_INFO, "message %s at height %lld exited %lld (%s): %s", s, (long long)ts->height,
                (long long)rc.exit_code, st_exit_code_name(rc.exit_code), vm.why);
      }
    }
    if (code) {
      char s[ST_CID_STR_MAX];
      st_cid_to_string(&order[i], s);
      st_err_wrap(err, code, "message %s", s);
    }
    st_buf_free(&enc);
    st_receipt_free(&rc);
    st_signed_message_free(&sm);
    st_vm_clear(&vm);
  }
  /* block rewards, then cron for the tipset's own epoch */
  for (size_t i = 0; i < ts->n && !code; i++) {
    st_state_actor *miner;
    if (st_state_lookup(&state, &ts->blocks[i].miner, &miner, NULL) || miner->kind != ST_ACTOR_MINER ||
        !ts->blocks[i].has_election_proof)
      continue;
    mpz_t zero;
    mpz_init(zero);
    st_vm vm;
    st_vm_init(&vm, &state, &c->net, miner->id, zero, ts->height);
    code = st_actors_award_block(&vm, miner->id, ts->blocks[i].win_count, err);
    st_vm_clear(&vm);
    mpz_clear(zero);
  }
  if (!code) code = run_cron(c, &env, &state, ts->height, err);
  st_buf blob = ST_BUF_INIT, receipts = ST_BUF_INIT;
  if (!code) {
    st_state_root(&state, &blob, &out->state_root);
    code = st_cs_put(t, &out->state_root, blob.data, blob.len, err);
  }
  if (!code) {
    st_cbor_put_array(&receipts, napplied);
    st_buf_append(&receipts, items.data, items.len);
    code = st_buf_status(&receipts, err);
  }
  if (!code) code = put_cbor(t, &receipts, &out->receipts_root, err);
  if (!code) code = put_cid_list(t, applied, napplied, &out->applied_root, err);
  if (!code) st_vm_next_base_fee(&c->net, ts->blocks[0].parent_base_fee, gas_sum, ts->n, out->next_base_fee);
  st_buf_free(&blob);
  st_buf_free(&receipts);
  st_buf_free(&items);
  free(order);
  free(applied);
  free(block_of);
  st_state_clear(&state);
  env_free(&env);
  return code;
}

/* ---- the head chain's indexes ---- */

static st_code index_messages(st_cs_txn *t, const st_tipset *ts, bool add, st_err *err) {
  st_cid *order = NULL;
  size_t n = 0;
  st_code code = applied_of(t, &ts->key, &order, &n, err);
  st_buf key = ST_BUF_INIT, rec = ST_BUF_INIT;
  st_tipset_key_bytes(&ts->key, &key);
  for (size_t i = 0; i < n && !code; i++) {
    if (!add) {
      code = st_cs_del_msgidx(t, &order[i], err);
      continue;
    }
    st_buf_reset(&rec);
    st_cbor_put_array(&rec, 3);
    st_cbor_put_bytes(&rec, key.data, key.len);
    st_cbor_put_int(&rec, ts->height);
    st_cbor_put_uint(&rec, i);
    code = st_buf_status(&rec, err);
    if (!code) code = st_cs_put_msgidx(t, &order[i], rec.data, rec.len, err);
  }
  st_buf_free(&key);
  st_buf_free(&rec);
  free(order);
  return code;
}

/* Makes key the head: the heights and message index follow the new chain back to where it
 * meets the old one. */
/* Appends the messages ts applied to *out (for the pool: a reverted tipset's messages go back). */
static st_code collect_applied(st_cs_txn *t, const st_tipset *ts, st_signed_message **out, size_t *n, st_err *err) {
  st_cid *cids = NULL;
  size_t k = 0;
  st_code code = applied_of(t, &ts->key, &cids, &k, err);
  st_signed_message *grown = k ? realloc(*out, (*n + k) * sizeof **out) : *out;
  if (!code && k && !grown) code = st_err_set(err, ST_ENOMEM, "out of memory collecting reverted messages");
  if (!code) *out = grown;
  for (size_t i = 0; i < k && !code; i++) {
    st_signed_message_init(&(*out)[*n]);
    code = load_signed(t, &cids[i], &(*out)[*n], err);
    (*n)++;
  }
  free(cids);
  return code;
}

static st_code set_head(st_cs_txn *t, const st_tipset_key *key, st_signed_message **reverted, size_t *nreverted,
                        st_err *err) {
  st_tipset_key old;
  st_tipset_key_init(&old);
  st_code code = get_key_meta(t, "head", &old, err);
  st_tipset ts;
  st_tipset_init(&ts);
  record r;
  record_init(&r);
  int64_t old_height = 0;
  if (!code) code = load_tipset(t, &old, &ts, err);
  if (!code) old_height = ts.height;
  /* walk the new chain down to a tipset the height index already has */
  st_tipset_key cur;
  st_tipset_key_init(&cur);
  st_tipset_key *path = NULL;
  size_t npath = 0;
  int64_t fork = -1;
  if (!code) code = st_tipset_key_set(&cur, key->cids, key->n, err);
  while (!code) {
    st_buf at = ST_BUF_INIT, kb = ST_BUF_INIT;
    if ((code = load_tipset(t, &cur, &ts, err))) break;
    st_tipset_key_bytes(&cur, &kb);
    bool canonical =
        !st_cs_get_height(t, (uint64_t)ts.height, &at, NULL) && at.len == kb.len && !memcmp(at.data, kb.data, kb.len);
    st_buf_free(&at);
    st_buf_free(&kb);
    if (canonical) {
      fork = ts.height;
      break;
    }
    st_tipset_key *np = realloc(path, (npath + 1) * sizeof *np);
    if (!np) {
      code = st_err_set(err, ST_ENOMEM, "out of memory switching heads");
      break;
    }
    path = np;
    st_tipset_key_init(&path[npath]);
    if ((code = st_tipset_key_set(&path[npath], cur.cids, cur.n, err))) break;
    npath++;
    record_free(&r);
    record_init(&r);
    if ((code = get_record(t, &cur, &r, err))) break;
    st_tipset_key_free(&cur);
    st_tipset_key_init(&cur);
    code = st_tipset_key_set(&cur, r.parent.cids, r.parent.n, err);
  }
  /* the old chain above the fork leaves the indexes */
  for (int64_t h = fork + 1; !code && h <= old_height; h++) {
    st_buf at = ST_BUF_INIT;
    if (!st_cs_get_height(t, (uint64_t)h, &at, NULL)) {
      st_tipset_key k;
      st_tipset_key_init(&k);
      code = st_tipset_key_from_bytes(at.data, at.len, &k, err);
      if (!code) code = load_tipset(t, &k, &ts, err);
      if (!code) code = index_messages(t, &ts, false, err);
      if (!code) code = collect_applied(t, &ts, reverted, nreverted, err);
      st_tipset_key_free(&k);
    }
    st_buf_free(&at);
  }
  if (!code) code = st_cs_truncate_heights(t, (uint64_t)fork, err);
  /* the new chain enters them, oldest first */
  for (size_t i = npath; !code && i-- > 0;) {
    st_buf kb = ST_BUF_INIT;
    code = load_tipset(t, &path[i], &ts, err);
    st_tipset_key_bytes(&path[i], &kb);
    if (!code) code = st_cs_put_height(t, (uint64_t)ts.height, kb.data, kb.len, err);
    if (!code) code = index_messages(t, &ts, true, err);
    st_buf_free(&kb);
  }
  if (!code) code = put_key_meta(t, "head", key, err);
  for (size_t i = 0; i < npath; i++) st_tipset_key_free(&path[i]);
  free(path);
  st_tipset_key_free(&cur);
  st_tipset_key_free(&old);
  st_tipset_free(&ts);
  record_free(&r);
  return code;
}

/* ---- open: genesis ---- */

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
  if (!code) code = put_cid_list(t, NULL, 0, &receipts, err); /* an empty list: no receipts */
  if (!code) code = msg_meta(t, NULL, 0, &meta, err);
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
  if (!code) code = put_cbor(t, &enc, &cid, err);
  if (!code) code = st_tipset_key_set(key, &cid, 1, err);
  if (!code && write) {
    record r;
    record_init(&r);
    r.height = 0;
    r.exec.state_root = state_root; /* genesis applies no messages */
    r.exec.receipts_root = receipts;
    r.exec.applied_root = receipts; /* the same empty list */
    mpz_set_si(r.exec.next_base_fee, net->initial_base_fee);
    code = put_record(t, key, &r, err);
    record_free(&r);
    st_buf kb = ST_BUF_INIT;
    st_tipset_key_bytes(key, &kb);
    if (!code) code = st_cs_put_height(t, 0, kb.data, kb.len, err);
    st_buf_free(&kb);
    if (!code) code = put_key_meta(t, "genesis", key, err);
    if (!code) code = put_key_meta(t, "head", key, err);
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
  st_code code = get_key_meta(t, "genesis", &stored, NULL);
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

/* ---- reads ---- */

typedef struct read_ctx {
  st_chain *c;
  const st_tipset_key *key;
  const st_cid *cid;
  int64_t height;
  const char *meta;
  st_tipset *ts;
  st_tipset_exec *exec;
  st_block_header *block;
  st_signed_message *msg;
  st_state *state;
  st_msg_lookup *lookup;
} read_ctx;

static st_code rd_meta_tipset(st_cs_txn *t, void *v, st_err *err) {
  read_ctx *r = v;
  st_tipset_key k;
  st_tipset_key_init(&k);
  st_code code = get_key_meta(t, r->meta, &k, err);
  if (!code) code = load_tipset(t, &k, r->ts, err);
  st_tipset_key_free(&k);
  return code;
}

static st_code locked_read(st_chain *c, st_cs_write_fn fn, read_ctx *r, st_err *err) {
  pthread_mutex_lock(&c->mu);
  st_code code = st_cs_read(c->cs, fn, r, err);
  pthread_mutex_unlock(&c->mu);
  return code;
}

st_code st_chain_head(st_chain *c, st_tipset *out, st_err *err) {
  read_ctx r = {.c = c, .meta = "head", .ts = out};
  return locked_read(c, rd_meta_tipset, &r, err);
}

st_code st_chain_genesis(st_chain *c, st_tipset *out, st_err *err) {
  read_ctx r = {.c = c, .meta = "genesis", .ts = out};
  return locked_read(c, rd_meta_tipset, &r, err);
}

static st_code rd_tipset(st_cs_txn *t, void *v, st_err *err) {
  read_ctx *r = v;
  /* only tipsets the chain formed: not any list of blocks a caller names */
  record rec;
  record_init(&rec);
  st_code code = get_record(t, r->key, &rec, err);
  record_free(&rec);
  return code ? code : load_tipset(t, r->key, r->ts, err);
}

st_code st_chain_tipset(st_chain *c, const st_tipset_key *key, st_tipset *out, st_err *err) {
  read_ctx r = {.c = c, .key = key, .ts = out};
  return locked_read(c, rd_tipset, &r, err);
}

static st_code rd_tipset_at(st_cs_txn *t, void *v, st_err *err) {
  read_ctx *r = v;
  st_tipset head;
  st_tipset_init(&head);
  st_tipset_key k;
  st_tipset_key_init(&k);
  st_code code = get_key_meta(t, "head", &k, err);
  if (!code) code = load_tipset(t, &k, &head, err);
  if (!code && r->height > head.height)
    code = st_err_set(err, ST_EINVAL, "height %lld is above the head (%lld)", (long long)r->height,
                      (long long)head.height);
  for (int64_t h = r->height; !code; h--) {
    st_buf at = ST_BUF_INIT;
    st_code found = st_cs_get_height(t, (uint64_t)h, &at, NULL);
    if (!found) {
      st_tipset_key_free(&k);
      st_tipset_key_init(&k);
      code = st_tipset_key_from_bytes(at.data, at.len, &k, err);
      if (!code) code = load_tipset(t, &k, r->ts, err);
      st_buf_free(&at);
      break;
    }
    st_buf_free(&at);
    if (h == 0) code = st_err_set(err, ST_EINTERNAL, "the height index has no genesis");
  }
  st_tipset_key_free(&k);
  st_tipset_free(&head);
  return code;
}

st_code st_chain_tipset_at(st_chain *c, int64_t height, st_tipset *out, st_err *err) {
  if (height < 0) return st_err_set(err, ST_EINVAL, "height %lld is negative", (long long)height);
  read_ctx r = {.c = c, .height = height, .ts = out};
  return locked_read(c, rd_tipset_at, &r, err);
}

static st_code rd_exec(st_cs_txn *t, void *v, st_err *err) {
  read_ctx *r = v;
  record rec;
  record_init(&rec);
  st_code code = get_record(t, r->key, &rec, err);
  if (!code) exec_copy(r->exec, &rec.exec);
  record_free(&rec);
  return code;
}

st_code st_chain_exec(st_chain *c, const st_tipset_key *key, st_tipset_exec *out, st_err *err) {
  read_ctx r = {.c = c, .key = key, .exec = out};
  return locked_read(c, rd_exec, &r, err);
}

static st_code rd_block(st_cs_txn *t, void *v, st_err *err) {
  read_ctx *r = v;
  return load_block(t, r->cid, r->block, err);
}

st_code st_chain_block(st_chain *c, const st_cid *cid, st_block_header *out, st_err *err) {
  read_ctx r = {.c = c, .cid = cid, .block = out};
  return locked_read(c, rd_block, &r, err);
}

static st_code rd_message(st_cs_txn *t, void *v, st_err *err) {
  read_ctx *r = v;
  st_buf b = ST_BUF_INIT;
  st_code code = st_cs_get(t, r->cid, &b, err);
  if (!code) {
    /* a signed message, or an unsigned one stored under its own CID */
    if (st_signed_message_decode(b.data, b.len, r->msg, NULL)) {
      st_signed_message_free(r->msg);
      st_signed_message_init(r->msg);
      code = st_message_decode(b.data, b.len, &r->msg->message, err);
    }
  }
  st_buf_free(&b);
  return code;
}

st_code st_chain_message(st_chain *c, const st_cid *cid, st_signed_message *out, st_err *err) {
  read_ctx r = {.c = c, .cid = cid, .msg = out};
  return locked_read(c, rd_message, &r, err);
}

typedef struct msgs_ctx {
  const st_block_header *b;
  st_signed_message *msgs;
  st_cid *cids;
  size_t n;
} msgs_ctx;

static st_code rd_block_messages(st_cs_txn *t, void *v, st_err *err) {
  msgs_ctx *m = v;
  st_code code = meta_messages(t, &m->b->messages, &m->cids, &m->n, err);
  if (!code && m->n && !(m->msgs = calloc(m->n, sizeof *m->msgs)))
    code = st_err_set(err, ST_ENOMEM, "out of memory loading messages");
  for (size_t i = 0; i < m->n && !code; i++) {
    st_signed_message_init(&m->msgs[i]);
    code = load_signed(t, &m->cids[i], &m->msgs[i], err);
  }
  return code;
}

st_code st_chain_block_messages(st_chain *c, const st_block_header *b, st_signed_message **msgs, st_cid **cids,
                                size_t *n, st_err *err) {
  msgs_ctx m = {b, NULL, NULL, 0};
  pthread_mutex_lock(&c->mu);
  st_code code = st_cs_read(c->cs, rd_block_messages, &m, err);
  pthread_mutex_unlock(&c->mu);
  if (code) {
    for (size_t i = 0; m.msgs && i < m.n; i++) st_signed_message_free(&m.msgs[i]);
    free(m.msgs);
    free(m.cids);
    return code;
  }
  *msgs = m.msgs;
  *cids = m.cids;
  *n = m.n;
  return ST_OK;
}

typedef struct applied_ctx {
  const st_tipset_key *key;
  st_cid *cids;
  size_t n;
} applied_ctx;

static st_code rd_applied(st_cs_txn *t, void *v, st_err *err) {
  applied_ctx *a = v;
  return applied_of(t, a->key, &a->cids, &a->n, err);
}

st_code st_chain_applied(st_chain *c, const st_tipset_key *key, st_cid **cids, size_t *n, st_err *err) {
  applied_ctx a = {key, NULL, 0};
  pthread_mutex_lock(&c->mu);
  st_code code = st_cs_read(c->cs, rd_applied, &a, err);
  pthread_mutex_unlock(&c->mu);
  *cids = a.cids;
  *n = code ? 0 : a.n;
  return code;
}

typedef struct receipts_ctx {
  const st_cid *root;
  st_receipt *out;
  size_t n;
} receipts_ctx;

static st_code rd_receipts(st_cs_txn *t, void *v, st_err *err) {
  receipts_ctx *rc = v;
  st_buf b = ST_BUF_INIT;
  st_code code = st_cs_get(t, rc->root, &b, err);
  st_cbor_reader r;
  uint64_t n = 0;
  if (!code) {
    st_cbor_reader_init(&r, b.data, b.len, err);
    code = st_cbor_read_array(&r, &n);
  }
  if (!code && n > ST_CHAIN_MAX_ARRAY * 16)
    code = st_err_set(err, ST_EINVAL, "receipt list of %llu items", (unsigned long long)n);
  if (!code && n && !(rc->out = calloc((size_t)n, sizeof *rc->out)))
    code = st_err_set(err, ST_ENOMEM, "out of memory reading receipts");
  for (uint64_t i = 0; i < n && !code; i++) {
    st_receipt_init(&rc->out[i]);
    rc->n++;
    code = st_receipt_read(&r, &rc->out[i]);
  }
  st_buf_free(&b);
  return code;
}

st_code st_chain_receipts(st_chain *c, const st_cid *receipts_root, st_receipt **out, size_t *n, st_err *err) {
  receipts_ctx rc = {receipts_root, NULL, 0};
  pthread_mutex_lock(&c->mu);
  st_code code = st_cs_read(c->cs, rd_receipts, &rc, err);
  pthread_mutex_unlock(&c->mu);
  if (code) {
    for (size_t i = 0; i < rc.n; i++) st_receipt_free(&rc.out[i]);
    free(rc.out);
    return code;
  }
  *out = rc.out;
  *n = rc.n;
  return ST_OK;
}

static st_code rd_state(st_cs_txn *t, void *v, st_err *err) {
  read_ctx *r = v;
  st_tipset_key head;
  st_tipset_key_init(&head);
  st_code code = r->key ? ST_OK : get_key_meta(t, "head", &head, err);
  record rec;
  record_init(&rec);
  if (!code) code = get_record(t, r->key ? r->key : &head, &rec, err);
  if (!code) code = load_state(t, &rec.exec.state_root, r->state, err);
  record_free(&rec);
  st_tipset_key_free(&head);
  return code;
}

st_code st_chain_state(st_chain *c, const st_tipset_key *key, st_state *out, st_err *err) {
  read_ctx r = {.c = c, .key = key, .state = out};
  return locked_read(c, rd_state, &r, err);
}

static st_code rd_search(st_cs_txn *t, void *v, st_err *err) {
  read_ctx *r = v;
  st_buf b = ST_BUF_INIT;
  st_code code = st_cs_get_msgidx(t, r->cid, &b, NULL);
  if (code) {
    st_buf_free(&b);
    char s[ST_CID_STR_MAX];
    st_cid_to_string(r->cid, s);
    return st_err_set(err, ST_ENOENT, "message %s has not been applied on the head chain", s);
  }
  st_cbor_reader rd;
  st_cbor_reader_init(&rd, b.data, b.len, err);
  const uint8_t *kb;
  size_t kl;
  uint64_t idx = 0;
  code = st_cbor_expect_array(&rd, 3, "message index");
  if (!code) code = st_cbor_read_bytes(&rd, &kb, &kl);
  if (!code) code = st_tipset_key_from_bytes(kb, kl, &r->lookup->tipset, err);
  if (!code) code = st_cbor_read_int(&rd, &r->lookup->height);
  if (!code) code = st_cbor_read_uint(&rd, &idx);
  st_buf_free(&b);
  record rec;
  record_init(&rec);
  if (!code) code = get_record(t, &r->lookup->tipset, &rec, err);
  receipts_ctx rc = {&rec.exec.receipts_root, NULL, 0};
  if (!code) code = rd_receipts(t, &rc, err);
  if (!code && idx >= rc.n) code = st_err_set(err, ST_EINTERNAL, "message index points past the receipts");
  if (!code) {
    r->lookup->receipt = rc.out[idx];
    rc.out[idx] = (st_receipt){0};
  }
  for (size_t i = 0; i < rc.n; i++) st_receipt_free(&rc.out[i]);
  free(rc.out);
  record_free(&rec);
  return code;
}

st_code st_chain_search_msg(st_chain *c, const st_cid *msg, st_msg_lookup *out, st_err *err) {
  st_tipset_key_init(&out->tipset);
  st_receipt_init(&out->receipt);
  read_ctx r = {.c = c, .cid = msg, .lookup = out};
  return locked_read(c, rd_search, &r, err);
}

/* ---- accepting a block ---- */

typedef struct submit_ctx {
  st_chain *c;
  const st_block_header *b;
  const st_signed_message *msgs;
  size_t nmsgs;
  uint64_t now;
  bool new_head;
  st_tipset head;              /* the new head, for the callback */
  st_signed_message *reverted; /* messages of the tipsets the new head reverted */
  size_t nreverted;
} submit_ctx;

static st_code check_block(st_chain *c, st_cs_txn *t, const st_block_header *b, const record *parent, uint64_t now,
                           st_err *err) {
  if (b->height <= parent->height)
    return st_err_set(err, ST_EINVAL, "height %lld is not above its parent's %lld", (long long)b->height,
                      (long long)parent->height);
  int64_t epoch = st_chain_epoch_at(c, now);
  if (b->height > epoch + 1) /* also keeps the timestamp arithmetic below from overflowing */
    return st_err_set(err, ST_EINVAL, "height %lld is beyond the current epoch %lld", (long long)b->height,
                      (long long)epoch);
  uint64_t want = c->genesis_time + (uint64_t)b->height * (uint64_t)c->net.block_delay;
  if (b->timestamp != want)
    return st_err_set(err, ST_EINVAL, "timestamp %llu is not genesis + height x block delay = %llu",
                      (unsigned long long)b->timestamp, (unsigned long long)want);
  if (b->timestamp > now + 1)
    return st_err_set(err, ST_EINVAL, "block is from the future (epoch %lld has not started)", (long long)b->height);
  if (!st_cid_equal(&b->parent_state_root, &parent->exec.state_root))
    return st_err_set(err, ST_EINVAL, "ParentStateRoot does not match the parent's state");
  if (!st_cid_equal(&b->parent_message_receipts, &parent->exec.receipts_root))
    return st_err_set(err, ST_EINVAL, "ParentMessageReceipts does not match the parent's receipts");
  if (mpz_cmp(b->parent_base_fee, parent->exec.next_base_fee))
    return st_err_set(err, ST_EINVAL, "ParentBaseFee does not match");
  if (mpz_cmp(b->parent_weight, parent->exec.weight)) return st_err_set(err, ST_EINVAL, "ParentWeight does not match");
  /* the election (a miner actor), or a bootstrap block (an account, while nobody has power) */
  st_state st, lookback;
  st_state_init(&st);
  st_state_init(&lookback);
  st_tipset ptipset;
  st_tipset_init(&ptipset);
  chain_env env;
  env_init(&env, c, t, false);
  st_tipset_key pkey;
  st_tipset_key_init(&pkey);
  st_code code = st_tipset_key_set(&pkey, b->parents, b->n_parents, err);
  if (!code) code = load_tipset(t, &pkey, &ptipset, err);
  if (!code) code = env_top(&env, &ptipset, err);
  if (!code) code = load_state(t, &parent->exec.state_root, &st, err);
  if (!code) code = state_at(&env, b->height - c->net.election_lookback, &lookback, err);
  st_state_actor *miner = NULL;
  if (!code && st_state_lookup(&st, &b->miner, &miner, NULL))
    code = st_err_set(err, ST_EINVAL, "the block's miner has no actor");
  if (!code && miner->kind == ST_ACTOR_MINER) {
    st_consensus_inputs in = {.net = &c->net,
                              .beacon_pub = c->beacon_pub,
                              .env = &env.env,
                              .parent_height = parent->height,
                              .parent_ticket = &ptipset.blocks[0].ticket_vrf_proof,
                              .parent_state = &st,
                              .lookback_state = &lookback};
    code = st_consensus_check_miner_block(&in, b, err);
  } else if (!code) {
    bool allowed = false;
    code = st_consensus_bootstrap_allowed(&env.env, &lookback, &allowed, err);
    if (!code && !allowed && !st_consensus_bootstrap_by_nulls(&c->net, parent->height, b->height))
      code =
          c->net.bootstrap_after_nulls
              ? st_err_set(
                    err, ST_EINVAL,
                    "the block's miner t0%llu is not a miner actor: once the network has power, blocks come from elected miners "
                    "(or a bootstrap block after %lld null rounds; this one follows %lld)",
                    (unsigned long long)miner->id, (long long)c->net.bootstrap_after_nulls,
                    (long long)(b->height - parent->height - 1))
              : st_err_set(
                    err, ST_EINVAL,
                    "the block's miner t0%llu is not a miner actor: once the network has power, blocks come from elected miners",
                    (unsigned long long)miner->id);
    if (!code && (miner->kind != ST_ACTOR_ACCOUNT || !miner->robust.len ||
                  st_address_protocol(&miner->robust) != ST_ADDR_SECP256K1))
      code = st_err_set(err, ST_EINVAL, "the block's miner t0%llu is neither a miner actor nor a secp256k1 account",
                        (unsigned long long)miner->id);
    if (!code && (!b->has_block_sig || b->block_sig.type != ST_SIG_SECP256K1 || b->block_sig.len != ST_SECP_SIG_LEN))
      code = st_err_set(err, ST_EINVAL, "the block has no secp256k1 BlockSig");
    st_consensus_inputs in = {.net = &c->net, .beacon_pub = c->beacon_pub, .parent_height = parent->height};
    if (!code && b->n_beacon_entries) code = st_consensus_check_beacons(&in, b, err);
    st_buf sb = ST_BUF_INIT;
    if (!code) code = st_block_header_signing_bytes(b, &sb, err);
    if (!code && st_secp_verify(b->block_sig.data, sb.data, sb.len, &miner->robust, NULL))
      code = st_err_set(err, ST_EINVAL, "BlockSig is not the miner's signature");
    st_buf_free(&sb);
  }
  env_free(&env);
  st_tipset_key_free(&pkey);
  st_tipset_free(&ptipset);
  st_state_clear(&lookback);
  st_state_clear(&st);
  return code;
}

static st_code store_messages(st_chain *c, st_cs_txn *t, const st_block_header *b, const st_signed_message *msgs,
                              size_t n, st_err *err) {
  st_cid *cids = n ? calloc(n, sizeof *cids) : NULL;
  if (n && !cids) return st_err_set(err, ST_ENOMEM, "out of memory storing messages");
  st_code code = ST_OK;
  st_buf enc = ST_BUF_INIT;
  for (size_t i = 0; i < n && !code; i++) {
    st_buf_reset(&enc);
    code = st_signed_message_encode(&msgs[i], &enc, err);
    if (!code) code = st_vm_check_message(&c->net, &msgs[i].message, enc.len, err);
    if (!code) code = st_signed_message_verify(&msgs[i], err);
    if (!code) code = put_cbor(t, &enc, &cids[i], err);
    if (code) st_err_wrap(err, code, "message %zu", i);
  }
  st_cid meta;
  if (!code && n) code = msg_meta(t, cids, n, &meta, err);
  if (!code && n && !st_cid_equal(&meta, &b->messages))
    code = st_err_set(err, ST_EINVAL, "the messages sent do not match the block's Messages");
  /* every message the block lists must be here now */
  st_cid *listed = NULL;
  size_t nl = 0;
  if (!code) code = meta_messages(t, &b->messages, &listed, &nl, err);
  if (code == ST_ENOENT) st_err_wrap(err, code, "the block's messages are not known; send them with it");
  int64_t gas = 0;
  for (size_t i = 0; i < nl && !code; i++) {
    st_signed_message sm;
    st_signed_message_init(&sm);
    if (!st_cs_has(t, &listed[i]))
      code = st_err_set(err, ST_EINVAL, "the block lists a message that was not sent with it");
    else if (!(code = load_signed(t, &listed[i], &sm, err))) gas += sm.message.gas_limit;
    st_signed_message_free(&sm);
    if (!code && gas > c->net.block_gas_limit)
      code = st_err_set(err, ST_EINVAL, "the block's messages ask for more than the block gas limit %lld",
                        (long long)c->net.block_gas_limit);
  }
  free(listed);
  free(cids);
  st_buf_free(&enc);
  return code;
}

static st_code submit_tx(st_cs_txn *t, void *v, st_err *err) {
  submit_ctx *s = v;
  st_chain *c = s->c;
  const st_block_header *b = s->b;
  st_buf enc = ST_BUF_INIT;
  st_cid cid;
  st_code code = st_block_header_encode(b, &enc, err);
  if (!code) st_cid_of_cbor(enc.data, enc.len, &cid);
  if (!code && st_cs_has(t, &cid)) {
    st_buf_free(&enc);
    return ST_OK; /* seen already */
  }
  st_tipset_key pkey;
  st_tipset_key_init(&pkey);
  record parent, rec;
  record_init(&parent);
  record_init(&rec);
  st_tipset ts;
  st_tipset_init(&ts);
  if (!code) code = st_tipset_key_set(&pkey, b->parents, b->n_parents, err);
  if (!code && (code = get_record(t, &pkey, &parent, err))) st_err_wrap(err, code, "parent");
  if (!code) code = check_block(c, t, b, &parent, s->now, err);
  if (!code) code = store_messages(c, t, b, s->msgs, s->nmsgs, err);
  if (!code) code = st_cs_put(t, &cid, enc.data, enc.len, err);
  /* the block must apply on its own: every message it carries valid on the parent's state */
  st_tipset alone;
  st_tipset_init(&alone);
  st_tipset_key alone_key;
  st_tipset_key_init(&alone_key);
  st_tipset_exec alone_exec;
  st_tipset_exec_init(&alone_exec);
  if (!code) code = st_tipset_key_set(&alone_key, &cid, 1, err);
  if (!code) code = load_tipset(t, &alone_key, &alone, err);
  if (!code && (code = exec_tipset(c, t, &alone, &parent.exec, parent.height, true, &alone_exec, err)))
    st_err_wrap(err, code, "applying the block");
  st_tipset_key_free(&alone_key);
  st_tipset_free(&alone);
  /* the tipset it joins: the largest formed so far on the same parent at the same height */
  char hp[ST_CID_STR_MAX + 96];
  st_cid pcid;
  if (!code) code = st_tipset_key_cid(&pkey, &pcid, err);
  if (!code) {
    char pre[48];
    snprintf(pre, sizeof pre, "hp:%lld:", (long long)b->height);
    meta_key(pre, &pcid, hp);
  }
  st_tipset_key sibling;
  st_tipset_key_init(&sibling);
  st_cid *keys = NULL;
  size_t nkeys = 0;
  if (!code && !get_key_meta(t, hp, &sibling, NULL)) nkeys = sibling.n;
  /* one block per miner per height: a second one is equivocation, not extra weight */
  for (size_t i = 0; i < nkeys && !code; i++) {
    st_block_header other;
    st_block_header_init(&other);
    code = load_block(t, &sibling.cids[i], &other, err);
    if (!code && st_address_equal(&other.miner, &b->miner))
      code = st_err_set(err, ST_EINVAL, "the miner has a block at this height already");
    st_block_header_free(&other);
  }
  if (!code && !(keys = calloc(nkeys + 1, sizeof *keys)))
    code = st_err_set(err, ST_ENOMEM, "out of memory forming a tipset");
  if (!code) {
    if (nkeys) memcpy(keys, sibling.cids, nkeys * sizeof *keys);
    keys[nkeys++] = cid;
  }
  st_tipset_key key;
  st_tipset_key_init(&key);
  if (!code) code = st_tipset_key_set(&key, keys, nkeys, err);
  if (!code) code = load_tipset(t, &key, &ts, err);
  st_block_header **order = NULL;
  if (!code && !(order = calloc(ts.n, sizeof *order)))
    code = st_err_set(err, ST_ENOMEM, "out of memory forming a tipset");
  for (size_t i = 0; !code && i < ts.n; i++) order[i] = &ts.blocks[i];
  if (!code) code = st_tipset_sort_blocks(order, ts.n, err);
  if (!code) { /* the key in canonical block order */
    for (size_t i = 0; i < ts.n; i++) st_block_header_cid(order[i], &keys[i], NULL);
    st_tipset_key_free(&key);
    st_tipset_key_init(&key);
    code = st_tipset_key_set(&key, keys, ts.n, err);
  }
  if (!code) code = load_tipset(t, &key, &ts, err);
  /* a tipset of this block alone was applied just above */
  if (!code && ts.n == 1) exec_copy(&rec.exec, &alone_exec);
  else if (!code && (code = exec_tipset(c, t, &ts, &parent.exec, parent.height, false, &rec.exec, err)))
    st_err_wrap(err, code, "applying the tipset");
  st_tipset_exec_free(&alone_exec);
  if (!code) {
    rec.height = b->height;
    code = st_tipset_key_set(&rec.parent, pkey.cids, pkey.n, err);
  }
  if (!code) code = put_record(t, &key, &rec, err);
  if (!code) code = put_key_meta(t, hp, &key, err);
  /* the heaviest tipset is the head */
  record head;
  record_init(&head);
  st_tipset_key hk;
  st_tipset_key_init(&hk);
  if (!code) code = get_key_meta(t, "head", &hk, err);
  if (!code) code = get_record(t, &hk, &head, err);
  if (!code && mpz_cmp(rec.exec.weight, head.exec.weight) > 0) {
    code = set_head(t, &key, &s->reverted, &s->nreverted, err);
    if (!code) {
      s->new_head = true;
      code = load_tipset(t, &key, &s->head, err);
    }
  }
  record_free(&head);
  st_tipset_key_free(&hk);
  free(order);
  free(keys);
  st_tipset_key_free(&key);
  st_tipset_key_free(&sibling);
  st_tipset_free(&ts);
  record_free(&parent);
  record_free(&rec);
  st_tipset_key_free(&pkey);
  st_buf_free(&enc);
  return code;
}

st_code st_chain_submit_block(st_chain *c, const st_block_header *b, const st_signed_message *msgs, size_t nmsgs,
                              bool *new_head, uint64_t now, st_err *err) {
  submit_ctx s = {c, b, msgs, nmsgs, now, false, {0}, NULL, 0};
  st_tipset_init(&s.head);
  pthread_mutex_lock(&c->mu);
  st_code code = st_cs_write(c->cs, submit_tx, &s, err);
  st_chain_head_fn fn = c->on_head;
  void *ctx = c->on_head_ctx;
  pthread_mutex_unlock(&c->mu);
  if (code) st_err_wrap(err, code, "block at height %lld refused", (long long)b->height);
  if (!code && s.new_head && fn) fn(ctx, &s.head, s.reverted, s.nreverted);
  if (new_head) *new_head = !code && s.new_head;
  st_tipset_free(&s.head);
  for (size_t i = 0; i < s.nreverted; i++) st_signed_message_free(&s.reverted[i]);
  free(s.reverted);
  return code;
}

/* ---- building a block (until consensus: any account may) ---- */

typedef struct build_ctx {
  st_chain *c;
  const uint8_t *sk;
  int64_t epoch;
  st_mpool *pool;
  st_block_header *out;
  st_signed_message **msgs;
  size_t *nmsgs;
} build_ctx;

static st_code build_tx(st_cs_txn *t, void *v, st_err *err) {
  build_ctx *bc = v;
  st_chain *c = bc->c;
  st_tipset_key hk;
  st_tipset_key_init(&hk);
  record head;
  record_init(&head);
  st_state st;
  st_state_init(&st);
  st_tipset ts;
  st_tipset_init(&ts);
  st_block_header *h = bc->out;
  bool miner_block = h->miner.len > 0;
  st_code code =
      h->n_parents ? st_tipset_key_set(&hk, h->parents, h->n_parents, err) : get_key_meta(t, "head", &hk, err);
  if (!code && (code = get_record(t, &hk, &head, err))) st_err_wrap(err, code, "the block's parents");
  if (!code) code = load_tipset(t, &hk, &ts, err);
  if (!code && bc->epoch <= ts.height)
    code = st_err_set(err, ST_EINVAL, "epoch %lld is not above the parent tipset (%lld)", (long long)bc->epoch,
                      (long long)ts.height);
  if (!code) code = load_state(t, &head.exec.state_root, &st, err);
  chain_env env;
  env_init(&env, c, t, false);
  if (!code) code = env_top(&env, &ts, err);
  st_address key_addr;
  st_state_actor *me = NULL;
  if (!code) code = st_secp_address(bc->sk, &key_addr, err);
  if (!code && miner_block && st_state_lookup(&st, &h->miner, &me, NULL))
    code = st_err_set(err, ST_EINVAL, "the block's miner has no actor");
  if (!code && !miner_block && st_state_lookup(&st, &key_addr, &me, NULL))
    code = st_err_set(err, ST_EINVAL, "the block producer's key has no account on chain");
  const st_signed_message **chosen = NULL;
  size_t n = 0, cap = st_mpool_size(bc->pool);
  if (!code && cap && !(chosen = calloc(cap, sizeof *chosen)))
    code = st_err_set(err, ST_ENOMEM, "out of memory choosing messages");
  if (!code && cap) n = st_mpool_select(bc->pool, &st, c->net.block_gas_limit, chosen, cap);
  /* keep only what applies: a waiting message its sender can no longer pay for (or whose nonce
   * another block used) would make this block invalid; its sender's later ones go with it */
  if (!code && n) {
    st_state trial;
    st_state_init(&trial);
    code = st_state_copy(&trial, &st, err);
    st_vm vm;
    st_vm_init(&vm, &trial, &c->net, me->id, head.exec.next_base_fee, bc->epoch);
    vm.env = &env.env;
    size_t kept = 0;
    st_address skip[64];
    size_t nskip = 0;
    for (size_t i = 0; i < n && !code; i++) {
      bool skipped = false;
      for (size_t k = 0; k < nskip && !skipped; k++) skipped = st_address_equal(&skip[k], &chosen[i]->message.from);
      st_buf enc = ST_BUF_INIT;
      st_receipt rc;
      st_receipt_init(&rc);
      if (!skipped && !st_signed_message_encode(chosen[i], &enc, NULL) &&
          !st_vm_apply(&vm, &chosen[i]->message, enc.len, &rc, NULL, NULL))
        chosen[kept++] = chosen[i];
      else if (!skipped && nskip < sizeof skip / sizeof skip[0]) skip[nskip++] = chosen[i]->message.from;
      else if (!skipped) break; /* too many bad senders to track: stop here, the block is still valid */
      st_receipt_free(&rc);
      st_buf_free(&enc);
    }
    n = kept;
    st_vm_clear(&vm);
    st_state_clear(&trial);
  }
  st_cid *cids = n ? calloc(n, sizeof *cids) : NULL;
  if (!code && n && !cids) code = st_err_set(err, ST_ENOMEM, "out of memory choosing messages");
  if (!code && n && !(*bc->msgs = calloc(n, sizeof **bc->msgs)))
    code = st_err_set(err, ST_ENOMEM, "out of memory choosing messages");
  for (size_t i = 0; i < n && !code; i++) {
    st_signed_message_init(&(*bc->msgs)[i]);
    (*bc->nmsgs)++;
    code = st_message_copy(&(*bc->msgs)[i].message, &chosen[i]->message, err);
    (*bc->msgs)[i].signature = chosen[i]->signature;
    if (!code) code = st_signed_message_cid(chosen[i], &cids[i], err);
  }
  /* the meta's CID only: this is a read snapshot, and submitting the block stores it */
  if (!code) code = msg_meta(NULL, cids, n, &h->messages, err);
  if (!code) code = st_address_from_id(me->id, &h->miner, err);
  if (!code) code = st_block_header_set_parents(h, hk.cids, hk.n, err);
  if (!code) {
    mpz_set(h->parent_weight, head.exec.weight);
    h->height = bc->epoch;
    h->parent_state_root = head.exec.state_root;
    h->parent_message_receipts = head.exec.receipts_root;
    mpz_set(h->parent_base_fee, head.exec.next_base_fee);
    h->timestamp = c->genesis_time + (uint64_t)bc->epoch * (uint64_t)c->net.block_delay;
  }
  if (!code && !miner_block) {
    /* a bootstrap block's ticket only orders it in its tipset: a hash of the producer and epoch */
    uint8_t ticket[32];
    st_buf seed = ST_BUF_INIT;
    st_buf_append(&seed, key_addr.bytes, key_addr.len);
    st_cbor_put_int(&seed, bc->epoch);
    st_cid tc;
    st_cid_of_cbor(seed.data, seed.len, &tc);
    memcpy(ticket, tc.digest, sizeof ticket);
    st_buf_free(&seed);
    h->has_ticket = true;
    code = st_chain_bytes_set(&h->ticket_vrf_proof, ticket, sizeof ticket, err);
  }
  st_buf sb = ST_BUF_INIT;
  uint8_t sig[ST_SECP_SIG_LEN];
  if (!code) code = st_block_header_signing_bytes(h, &sb, err);
  if (!code) code = st_secp_sign(bc->sk, sb.data, sb.len, sig, err);
  if (!code) {
    h->has_block_sig = true;
    code = st_signature_set(&h->block_sig, ST_SIG_SECP256K1, sig, sizeof sig, err);
  }
  st_buf_free(&sb);
  free(cids);
  free(chosen);
  env_free(&env);
  st_tipset_free(&ts);
  st_state_clear(&st);
  record_free(&head);
  st_tipset_key_free(&hk);
  return code;
}

st_code st_chain_build_block(st_chain *c, const uint8_t sk[32], int64_t epoch, st_mpool *pool, st_block_header *out,
                             st_signed_message **msgs, size_t *nmsgs, st_err *err) {
  *msgs = NULL;
  *nmsgs = 0;
  build_ctx bc = {c, sk, epoch, pool, out, msgs, nmsgs};
  pthread_mutex_lock(&c->mu);
  st_code code = st_cs_read(c->cs, build_tx, &bc, err);
  pthread_mutex_unlock(&c->mu);
  if (code) {
    for (size_t i = 0; i < *nmsgs; i++) st_signed_message_free(&(*msgs)[i]);
    free(*msgs);
    *msgs = NULL;
    *nmsgs = 0;
  }
  return code;
}

/* ---- consensus reads ---- */

const uint8_t *st_chain_beacon_pub(const st_chain *c) { return c->beacon_pub; }

/* A read at key (NULL: the head) with the VM's environment over it. */
typedef struct env_read {
  st_chain *c;
  const st_tipset_key *key;
  st_code (*fn)(struct env_read *r, chain_env *env, st_state *state, st_err *err);
  /* arguments and results */
  uint64_t id;
  st_miner_state *miner;
  st_power_state *power;
  st_market_state *market;
  st_verifreg_state *verifreg;
  bool beacon;
  int64_t dst, round;
  const uint8_t *entropy;
  size_t elen;
  uint8_t *out;
  const st_message *msg;
  size_t size;
  st_receipt *rc;
  char *why;
  st_base_info *info;
  st_tipset *top;
  bool ran; /* fn was called */
} env_read;

static st_code rd_env(st_cs_txn *t, void *v, st_err *err) {
  env_read *r = v;
  st_tipset_key head;
  st_tipset_key_init(&head);
  st_tipset top;
  st_tipset_init(&top);
  st_state state;
  st_state_init(&state);
  record rec;
  record_init(&rec);
  chain_env env;
  env_init(&env, r->c, t, false);
  st_code code = r->key ? ST_OK : get_key_meta(t, "head", &head, err);
  const st_tipset_key *key = r->key ? r->key : &head;
  if (!code) code = load_tipset(t, key, &top, err);
  if (!code) code = get_record(t, key, &rec, err);
  if (!code) code = load_state(t, &rec.exec.state_root, &state, err);
  if (!code) code = env_top(&env, &top, err);
  r->top = &top;
  if (!code) {
    r->ran = true;
    code = r->fn(r, &env, &state, err);
  }
  env_free(&env);
  record_free(&rec);
  st_state_clear(&state);
  st_tipset_free(&top);
  st_tipset_key_free(&head);
  return code;
}

static st_code env_read_run(st_chain *c, env_read *r, st_err *err) {
  r->c = c;
  pthread_mutex_lock(&c->mu);
  st_code code = st_cs_read(c->cs, rd_env, r, err);
  pthread_mutex_unlock(&c->mu);
  return code;
}

static st_code do_miner(env_read *r, chain_env *env, st_state *state, st_err *err) {
  return st_actors_load_miner(&env->env, state, r->id, r->miner, err);
}

st_code st_chain_miner_state(st_chain *c, const st_tipset_key *key, uint64_t id, st_miner_state *out, st_err *err) {
  env_read r = {.key = key, .fn = do_miner, .id = id, .miner = out};
  st_code code = env_read_run(c, &r, err);
  if (!r.ran) st_miner_state_init(out, 0, NULL); /* out is always freeable */
  return code;
}

static st_code do_power(env_read *r, chain_env *env, st_state *state, st_err *err) {
  st_power_state_free(r->power);
  return st_actors_load_power(&env->env, state, r->power, err);
}

st_code st_chain_power_state(st_chain *c, const st_tipset_key *key, st_power_state *out, st_err *err) {
  st_power_state_init(out);
  env_read r = {.key = key, .fn = do_power, .power = out};
  return env_read_run(c, &r, err);
}

static st_code do_market(env_read *r, chain_env *env, st_state *state, st_err *err) {
  st_market_state_free(r->market);
  return st_market_load(&env->env, state, r->market, err);
}

st_code st_chain_market_state(st_chain *c, const st_tipset_key *key, st_market_state *out, st_err *err) {
  st_market_state_init(out);
  env_read r = {.key = key, .fn = do_market, .market = out};
  return env_read_run(c, &r, err);
}

static st_code do_verifreg(env_read *r, chain_env *env, st_state *state, st_err *err) {
  st_verifreg_state_free(r->verifreg);
  return st_verifreg_load(&env->env, state, r->verifreg, err);
}

st_code st_chain_verifreg_state(st_chain *c, const st_tipset_key *key, st_verifreg_state *out, st_err *err) {
  st_verifreg_state_init(out);
  env_read r = {.key = key, .fn = do_verifreg, .verifreg = out};
  return env_read_run(c, &r, err);
}

static st_code do_rand(env_read *r, chain_env *env, st_state *state, st_err *err) {
  (void)state;
  return env_randomness(env, r->beacon, r->dst, r->round, r->entropy, r->elen, r->out, err);
}

st_code st_chain_randomness(st_chain *c, const st_tipset_key *key, bool beacon, int64_t dst, int64_t round,
                            const uint8_t *entropy, size_t elen, uint8_t out[32], st_err *err) {
  env_read r = {.key = key,
                .fn = do_rand,
                .beacon = beacon,
                .dst = dst,
                .round = round,
                .entropy = entropy,
                .elen = elen,
                .out = out};
  return env_read_run(c, &r, err);
}

static st_code do_call(env_read *r, chain_env *env, st_state *state, st_err *err) {
  st_state_actor *sender;
  if (st_state_lookup(state, &r->msg->from, &sender, NULL)) return st_err_set(err, ST_EINVAL, "sender not found");
  mpz_t zero;
  mpz_init(zero);
  st_vm vm;
  st_vm_init(&vm, state, &r->c->net, sender->id, zero, r->top->height + 1);
  vm.env = &env->env;
  st_code code = st_vm_apply(&vm, r->msg, r->size, r->rc, NULL, err);
  snprintf(r->why, ST_ERR_MSG_MAX, "%s", vm.why);
  st_vm_clear(&vm);
  mpz_clear(zero);
  return code;
}

st_code st_chain_call(st_chain *c, const st_message *m, size_t size, st_receipt *rc, char why[ST_ERR_MSG_MAX],
                      st_err *err) {
  why[0] = 0;
  env_read r = {.fn = do_call, .msg = m, .size = size, .rc = rc, .why = why};
  return env_read_run(c, &r, err);
}

void st_base_info_init(st_base_info *b) {
  memset(b, 0, sizeof *b);
  mpz_inits(b->miner_power, b->network_power, NULL);
  st_tipset_key_init(&b->parent);
}

void st_base_info_free(st_base_info *b) {
  mpz_clears(b->miner_power, b->network_power, NULL);
  free(b->sectors);
  free(b->comm_r);
  st_chain_bytes_free(&b->parent_ticket);
  st_tipset_key_free(&b->parent);
  memset(b, 0, sizeof *b);
}

static st_code do_base_info(env_read *r, chain_env *env, st_state *state, st_err *err) {
  st_base_info *bi = r->info;
  st_state lb;
  st_state_init(&lb);
  st_miner_state m, lm;
  st_power_state p;
  st_power_state_init(&p);
  if (r->round <= r->top->height)
    return st_err_set(err, ST_EINVAL, "round %lld is not above the base tipset's height %lld", (long long)r->round,
                      (long long)r->top->height);
  st_code code = st_actors_load_miner(&env->env, state, r->id, &m, err);
  if (!code) code = state_at(env, r->round - r->c->net.election_lookback, &lb, err);
  bool at_lookback = false; /* a miner then */
  if (!code) at_lookback = !st_actors_load_miner(&env->env, &lb, r->id, &lm, NULL);
  else st_miner_state_init(&lm, 0, NULL);
  if (!code) code = st_actors_load_power(&env->env, &lb, &p, err);
  st_power_claim *claim = !code ? st_power_claim_of(&p, r->id) : NULL;
  if (claim) mpz_set(bi->miner_power, claim->qa);
  if (!code) mpz_set(bi->network_power, p.total_qa);
  bi->eligible = !code && at_lookback && st_power_eligible(&p, r->id, r->c->net.consensus_min_power);
  bi->worker = m.worker;
  bi->sector_size = m.sector_size;
  st_state_actor *w = st_state_get(state, m.worker);
  if (w) bi->worker_key = w->robust;
  if (!code && at_lookback) code = st_consensus_active_sectors(&lm, &bi->sectors, &bi->nsectors, err);
  if (!code && bi->nsectors && !(bi->comm_r = calloc(bi->nsectors, sizeof *bi->comm_r)))
    code = st_err_set(err, ST_ENOMEM, "out of memory");
  for (size_t i = 0; !code && i < bi->nsectors; i++) {
    st_sector_onchain *s = st_miner_sector(&lm, bi->sectors[i]);
    if (s) memcpy(bi->comm_r[i], s->sealed_cid.digest, 32);
  }
  bi->parent_height = r->top->height;
  if (!code)
    code = st_chain_bytes_set(&bi->parent_ticket, r->top->blocks[0].ticket_vrf_proof.data,
                              r->top->blocks[0].ticket_vrf_proof.len, err);
  if (!code) code = st_tipset_key_set(&bi->parent, r->top->key.cids, r->top->key.n, err);
  st_power_state_free(&p);
  st_miner_state_free(&lm);
  st_miner_state_free(&m);
  st_state_clear(&lb);
  return code;
}

st_code st_chain_base_info(st_chain *c, const st_tipset_key *key, uint64_t miner, int64_t round, st_base_info *out,
                           st_err *err) {
  env_read r = {.key = key, .fn = do_base_info, .id = miner, .round = round, .info = out};
  return env_read_run(c, &r, err);
}
