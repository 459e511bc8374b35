/* st_chain_build: building a block for a producer: parents, messages chosen from the pool that
 * apply, the header and its signature. Part of st_chain. */
#include <stdlib.h>
#include <string.h>

#include "chain/st_chain_int.h"
#include "chain/st_methods.h"
#include "codec/st_cbor.h"
#include "crypto/st_secp.h"

typedef struct build_ctx {
  st_chain *c;
  const uint8_t *sk;
  int64_t epoch;
  st_mpool *pool;
  st_block_header *out;
  st_signed_message **msgs;
  size_t *nmsgs;
} build_ctx;

/* What a block builds on: its parents (hk, ts, their record head), the state after them with
 * the VM's environment over it, and the producer: an actor (me) and the key's address. */
typedef struct base {
  st_tipset_key hk;
  st_ch_record head;
  st_tipset ts;
  st_state st;
  st_ch_env env;
  st_address key_addr;
  st_state_actor *me;
} base;

static void base_init(base *b, st_chain *c, st_cs_txn *t) {
  st_tipset_key_init(&b->hk);
  st_ch_record_init(&b->head);
  st_tipset_init(&b->ts);
  st_state_init(&b->st);
  st_ch_env_init(&b->env, c, t, false);
  b->me = NULL;
}

static void base_free(base *b) {
  st_ch_env_free(&b->env);
  st_state_clear(&b->st);
  st_tipset_free(&b->ts);
  st_ch_record_free(&b->head);
  st_tipset_key_free(&b->hk);
}

/* The parents are the template's, or the head. */
static st_code load_base(st_cs_txn *t, const build_ctx *bc, bool miner_block, base *b, st_err *err) {
  const st_block_header *h = bc->out;
  st_code code =
      h->n_parents ? st_tipset_key_set(&b->hk, h->parents, h->n_parents, err) : st_ch_get_key(t, "head", &b->hk, err);
  if (!code && (code = st_ch_get_record(t, &b->hk, &b->head, err))) st_err_wrap(err, code, "the block's parents");
  if (!code) code = st_ch_load_tipset(t, &b->hk, &b->ts, err);
  if (!code && bc->epoch <= b->ts.height)
    code = st_err_set(err, ST_EINVAL, "epoch %lld is not above the parent tipset (%lld)", (long long)bc->epoch,
                      (long long)b->ts.height);
  if (!code) code = st_ch_load_state(t, &b->head.exec.state_root, &b->st, err);
  if (!code) code = st_ch_env_top(&b->env, &b->ts, err);
  if (!code) code = st_secp_address(bc->sk, &b->key_addr, err);
  if (!code && miner_block && st_state_lookup(&b->st, &h->miner, &b->me, NULL))
    code = st_err_set(err, ST_EINVAL, "the block's miner has no actor");
  if (!code && !miner_block && st_state_lookup(&b->st, &b->key_addr, &b->me, NULL))
    code = st_err_set(err, ST_EINVAL, "the block producer's key has no account on chain");
  return code;
}

/* Keeps (in order, at the front of chosen) only what applies on a copy of the state: a waiting
 * message its sender can no longer pay for (or whose nonce another block used) would make the
 * block invalid; its sender's later ones go with it. */
static st_code keep_applicable(st_chain *c, const base *b, int64_t epoch, const st_signed_message **chosen, size_t *n,
                               st_err *err) {
  st_state trial;
  st_state_init(&trial);
  st_code code = st_state_copy(&trial, &b->st, err);
  st_vm vm;
  st_vm_init(&vm, &trial, &c->net, b->me->id, b->head.exec.next_base_fee, epoch);
  vm.env = &b->env.env;
  size_t kept = 0;
  st_address skip[64];
  size_t nskip = 0;
  for (size_t i = 0; i < *n && !code; i++) {
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
  *n = kept;
  st_vm_clear(&vm);
  st_state_clear(&trial);
  return code;
}

/* The block's messages: the pool's best (by premium, within the block gas limit) that apply,
 * copied into *bc->msgs, with their CIDs in *cids. */
static st_code choose_messages(st_chain *c, const build_ctx *bc, base *b, st_cid **cids, size_t *n, st_err *err) {
  const st_signed_message **chosen = NULL;
  size_t cap = st_mpool_size(bc->pool);
  st_code code = ST_OK;
  *n = 0;
  if (cap && !(chosen = calloc(cap, sizeof *chosen)))
    code = st_err_set(err, ST_ENOMEM, "out of memory choosing messages");
  if (!code && cap) *n = st_mpool_select(bc->pool, &b->st, c->net.block_gas_limit, chosen, cap);
  if (!code && *n) code = keep_applicable(c, b, bc->epoch, chosen, n, err);
  if (!code && *n && !(*cids = calloc(*n, sizeof **cids)))
    code = st_err_set(err, ST_ENOMEM, "out of memory choosing messages");
  if (!code && *n && !(*bc->msgs = calloc(*n, sizeof **bc->msgs)))
    code = st_err_set(err, ST_ENOMEM, "out of memory choosing messages");
  for (size_t i = 0; i < *n && !code; i++) {
    st_signed_message_init(&(*bc->msgs)[i]);
    (*bc->nmsgs)++;
    code = st_message_copy(&(*bc->msgs)[i].message, &chosen[i]->message, err);
    (*bc->msgs)[i].signature = chosen[i]->signature;
    if (!code) code = st_signed_message_cid(chosen[i], &(*cids)[i], err);
  }
  free(chosen);
  return code;
}

/* A bootstrap block's ticket only orders it in its tipset: a hash of the producer and epoch. */
static st_code bootstrap_ticket(st_block_header *h, const st_address *producer, int64_t epoch, st_err *err) {
  st_buf seed = ST_BUF_INIT;
  st_buf_append(&seed, producer->bytes, producer->len);
  st_cbor_put_int(&seed, epoch);
  st_code code = st_buf_status(&seed, err);
  st_cid tc;
  if (!code) st_cid_of_cbor(seed.data, seed.len, &tc);
  st_buf_free(&seed);
  h->has_ticket = !code;
  return code ? code : st_chain_bytes_set(&h->ticket_vrf_proof, tc.digest, 32, err);
}

/* The header on its base, with its messages' meta (its CID only: this is a read snapshot, and
 * submitting the block stores it), signed with sk. */
static st_code fill_header(st_chain *c, const build_ctx *bc, const base *b, bool miner_block, const st_cid *cids,
                           size_t n, st_err *err) {
  st_block_header *h = bc->out;
  st_code code = st_ch_msg_meta(NULL, cids, n, &h->messages, err);
  if (!code) code = st_address_from_id(b->me->id, &h->miner, err);
  if (!code) code = st_block_header_set_parents(h, b->hk.cids, b->hk.n, err);
  if (!code) {
    mpz_set(h->parent_weight, b->head.exec.weight);
    h->height = bc->epoch;
    h->parent_state_root = b->head.exec.state_root;
    h->parent_message_receipts = b->head.exec.receipts_root;
    mpz_set(h->parent_base_fee, b->head.exec.next_base_fee);
    h->timestamp = c->genesis_time + (uint64_t)bc->epoch * (uint64_t)c->net.block_delay;
  }
  if (!code && !miner_block) code = bootstrap_ticket(h, &b->key_addr, bc->epoch, err);
  st_buf sb = ST_BUF_INIT;
  uint8_t sig[ST_SECP_SIG_LEN];
  if (!code) code = st_block_header_signing_bytes(h, &sb, err);
  if (!code) code = st_secp_sign(bc->sk, sb.data, sb.len, sig, err);
  if (!code) {
    h->has_block_sig = true;
    code = st_signature_set(&h->block_sig, ST_SIG_SECP256K1, sig, sizeof sig, err);
  }
  st_buf_free(&sb);
  return code;
}

static st_code build_tx(st_cs_txn *t, void *v, st_err *err) {
  build_ctx *bc = v;
  bool miner_block = bc->out->miner.len > 0;
  base b;
  base_init(&b, bc->c, t);
  st_cid *cids = NULL;
  size_t n = 0;
  st_code code = load_base(t, bc, miner_block, &b, err);
  if (!code) code = choose_messages(bc->c, bc, &b, &cids, &n, err);
  if (!code) code = fill_header(bc->c, bc, &b, miner_block, cids, n, err);
  free(cids);
  base_free(&b);
  return code;
}

st_code st_chain_build_block(st_chain *c, const uint8_t sk[32], int64_t epoch, st_mpool *pool, st_block_header *out,
                             st_signed_message **msgs, size_t *nmsgs, st_err *err) {
  *msgs = NULL;
  *nmsgs = 0;
  build_ctx bc = {c, sk, epoch, pool, out, msgs, nmsgs};
  st_code code = st_ch_read(c, build_tx, &bc, err);
  if (code) {
    for (size_t i = 0; i < *nmsgs; i++) st_signed_message_free(&(*msgs)[i]);
    free(*msgs);
    *msgs = NULL;
    *nmsgs = 0;
  }
  return code;
}
