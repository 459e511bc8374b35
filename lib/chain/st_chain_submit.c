/* st_chain_submit: accepting a block: its checks, its messages, the tipset it joins, their
 * execution, and the head if that tipset is now the heaviest, all in one transaction. Part of
 * st_chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/st_chain_int.h"
#include "chain/st_consensus.h"
#include "codec/st_cbor.h"
#include "crypto/st_secp.h"

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

/* The header against its parent's record and the clock: height, timestamp, parent roots, base
 * fee and weight. */
static st_code check_header(st_chain *c, const st_block_header *b, const st_ch_record *parent, uint64_t now,
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
  return ST_OK;
}

/* A block by an account: allowed while nobody has power at the lookback (or after enough null
 * rounds), signed by a secp256k1 account, with its beacon entries if it carries any. */
static st_code check_bootstrap(st_chain *c, const st_block_header *b, const st_ch_record *parent,
                               const st_state_actor *miner, const st_vm_env *env, st_state *lookback, st_err *err) {
  bool allowed = false;
  st_code code = st_consensus_bootstrap_allowed(env, lookback, &allowed, err);
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
  return code;
}

/* The election (a miner actor), or a bootstrap block (an account, while nobody has power). */
static st_code check_block(st_chain *c, st_cs_txn *t, const st_block_header *b, const st_ch_record *parent,
                           uint64_t now, st_err *err) {
  st_code code = check_header(c, b, parent, now, err);
  if (code) return code;
  st_state st, lookback;
  st_state_init(&st);
  st_state_init(&lookback);
  st_tipset ptipset;
  st_tipset_init(&ptipset);
  st_ch_env env;
  st_ch_env_init(&env, c, t, false);
  st_tipset_key pkey;
  st_tipset_key_init(&pkey);
  code = st_tipset_key_set(&pkey, b->parents, b->n_parents, err);
  if (!code) code = st_ch_load_tipset(t, &pkey, &ptipset, err);
  if (!code) code = st_ch_env_top(&env, &ptipset, err);
  if (!code) code = st_ch_load_state(t, &parent->exec.state_root, &st, err);
  if (!code) code = st_ch_state_at(&env, b->height - c->net.election_lookback, &lookback, err);
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
    code = check_bootstrap(c, b, parent, miner, &env.env, &lookback, err);
  }
  st_ch_env_free(&env);
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
    if (!code) code = st_ch_put_cbor(t, &enc, &cids[i], err);
    if (code) st_err_wrap(err, code, "message %zu", i);
  }
  st_cid meta;
  if (!code && n) code = st_ch_msg_meta(t, cids, n, &meta, err);
  if (!code && n && !st_cid_equal(&meta, &b->messages))
    code = st_err_set(err, ST_EINVAL, "the messages sent do not match the block's Messages");
  /* every message the block lists must be here now */
  st_cid *listed = NULL;
  size_t nl = 0;
  if (!code) code = st_ch_meta_messages(t, &b->messages, &listed, &nl, err);
  if (code == ST_ENOENT) st_err_wrap(err, code, "the block's messages are not known; send them with it");
  int64_t gas = 0;
  for (size_t i = 0; i < nl && !code; i++) {
    st_signed_message sm;
    st_signed_message_init(&sm);
    if (!st_cs_has(t, &listed[i]))
      code = st_err_set(err, ST_EINVAL, "the block lists a message that was not sent with it");
    else if (!(code = st_ch_load_signed(t, &listed[i], &sm, err))) gas += sm.message.gas_limit;
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

/* The block must apply on its own: every message it carries valid on the parent's state. */
static st_code apply_alone(st_chain *c, st_cs_txn *t, const st_cid *cid, const st_ch_record *parent,
                           st_tipset_exec *out, st_err *err) {
  st_tipset alone;
  st_tipset_init(&alone);
  st_tipset_key key;
  st_tipset_key_init(&key);
  st_code code = st_tipset_key_set(&key, cid, 1, err);
  if (!code) code = st_ch_load_tipset(t, &key, &alone, err);
  if (!code && (code = st_ch_exec_tipset(c, t, &alone, &parent->exec, parent->height, true, out, err)))
    st_err_wrap(err, code, "applying the block");
  st_tipset_key_free(&key);
  st_tipset_free(&alone);
  return code;
}

/* The name under which the largest tipset formed so far at height on the parent pkey is kept. */
static st_code siblings_name(const st_tipset_key *pkey, int64_t height, char hp[ST_CID_STR_MAX + 96], st_err *err) {
  st_cid pcid;
  st_code code = st_tipset_key_cid(pkey, &pcid, err);
  if (code) return code;
  char pre[48];
  snprintf(pre, sizeof pre, "hp:%lld:", (long long)height);
  st_ch_meta_key(pre, &pcid, hp);
  return ST_OK;
}

/* keys[0..n) in the tipset's canonical block order (ts is their tipset), in key. */
static st_code canonical_key(const st_tipset *ts, st_cid *keys, st_tipset_key *key, st_err *err) {
  st_block_header **order = calloc(ts->n, sizeof *order);
  if (!order) return st_err_set(err, ST_ENOMEM, "out of memory forming a tipset");
  for (size_t i = 0; i < ts->n; i++) order[i] = &ts->blocks[i];
  st_code code = st_tipset_sort_blocks(order, ts->n, err);
  for (size_t i = 0; i < ts->n && !code; i++) code = st_block_header_cid(order[i], &keys[i], err);
  if (!code) code = st_tipset_key_set(key, keys, ts->n, err);
  free(order);
  return code;
}

/* The tipset the block joins: the largest formed so far on the same parent at the same height
 * (kept under hp), with this block; one block per miner per height (a second one is
 * equivocation, not extra weight). key and ts get it, in canonical order. */
static st_code join_tipset(st_cs_txn *t, const st_block_header *b, const st_cid *cid, const char *hp,
                           st_tipset_key *key, st_tipset *ts, st_err *err) {
  st_tipset_key sibling;
  st_tipset_key_init(&sibling);
  size_t nkeys = st_ch_get_key(t, hp, &sibling, NULL) ? 0 : sibling.n;
  st_code code = ST_OK;
  for (size_t i = 0; i < nkeys && !code; i++) {
    st_block_header other;
    st_block_header_init(&other);
    code = st_ch_load_block(t, &sibling.cids[i], &other, err);
    if (!code && st_address_equal(&other.miner, &b->miner))
      code = st_err_set(err, ST_EINVAL, "the miner has a block at this height already");
    st_block_header_free(&other);
  }
  st_cid *keys = code ? NULL : calloc(nkeys + 1, sizeof *keys);
  if (!code && !keys) code = st_err_set(err, ST_ENOMEM, "out of memory forming a tipset");
  if (!code) {
    if (nkeys) memcpy(keys, sibling.cids, nkeys * sizeof *keys);
    keys[nkeys++] = *cid;
    code = st_tipset_key_set(key, keys, nkeys, err);
  }
  if (!code) code = st_ch_load_tipset(t, key, ts, err);
  if (!code) code = canonical_key(ts, keys, key, err);
  if (!code) code = st_ch_load_tipset(t, key, ts, err);
  free(keys);
  st_tipset_key_free(&sibling);
  return code;
}

/* The tipset's execution (the block's own when it is alone) and its record, kept under its key
 * and as the largest on its parent at its height (hp). */
static st_code record_tipset(st_chain *c, st_cs_txn *t, const st_tipset *ts, const st_tipset_key *pkey,
                             const st_ch_record *parent, const st_tipset_exec *alone, const char *hp, st_ch_record *rec,
                             st_err *err) {
  st_code code = ST_OK;
  if (ts->n == 1) st_ch_exec_copy(&rec->exec, alone);
  else if ((code = st_ch_exec_tipset(c, t, ts, &parent->exec, parent->height, false, &rec->exec, err)))
    st_err_wrap(err, code, "applying the tipset");
  if (!code) {
    rec->height = ts->height;
    code = st_tipset_key_set(&rec->parent, pkey->cids, pkey->n, err);
  }
  if (!code) code = st_ch_put_record(t, &ts->key, rec, err);
  if (!code) code = st_ch_put_key(t, hp, &ts->key, err);
  return code;
}

/* The heaviest tipset is the head: when ts now is, it becomes the head (s->head, s->reverted). */
static st_code heaviest(st_cs_txn *t, const st_tipset *ts, const st_ch_record *rec, submit_ctx *s, st_err *err) {
  st_ch_record head;
  st_ch_record_init(&head);
  st_code code = st_ch_load_at(t, NULL, NULL, &head, NULL, err);
  if (!code && mpz_cmp(rec->exec.weight, head.exec.weight) > 0) {
    code = st_ch_set_head(t, &ts->key, &s->reverted, &s->nreverted, err);
    if (!code) {
      s->new_head = true;
      code = st_ch_load_tipset(t, &ts->key, &s->head, err);
    }
  }
  st_ch_record_free(&head);
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
  st_tipset_key pkey, key;
  st_tipset_key_init(&pkey);
  st_tipset_key_init(&key);
  st_ch_record parent, rec;
  st_ch_record_init(&parent);
  st_ch_record_init(&rec);
  st_tipset ts;
  st_tipset_init(&ts);
  st_tipset_exec alone;
  st_tipset_exec_init(&alone);
  char hp[ST_CID_STR_MAX + 96];
  if (!code) code = st_tipset_key_set(&pkey, b->parents, b->n_parents, err);
  if (!code && (code = st_ch_get_record(t, &pkey, &parent, err))) st_err_wrap(err, code, "parent");
  if (!code) code = check_block(c, t, b, &parent, s->now, err);
  if (!code) code = store_messages(c, t, b, s->msgs, s->nmsgs, err);
  if (!code) code = st_cs_put(t, &cid, enc.data, enc.len, err);
  if (!code) code = apply_alone(c, t, &cid, &parent, &alone, err);
  if (!code) code = siblings_name(&pkey, b->height, hp, err);
  if (!code) code = join_tipset(t, b, &cid, hp, &key, &ts, err);
  if (!code) code = record_tipset(c, t, &ts, &pkey, &parent, &alone, hp, &rec, err);
  if (!code) code = heaviest(t, &ts, &rec, s, err);
  st_tipset_exec_free(&alone);
  st_tipset_key_free(&key);
  st_tipset_free(&ts);
  st_ch_record_free(&parent);
  st_ch_record_free(&rec);
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
