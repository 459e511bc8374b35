/* st_fullnode_chain: the chain group: heads, tipsets, blocks, messages and receipts as Lotus's
 * Chain* methods give them (null vs [] included). */
#include <stdlib.h>

#include "node/st_fullnode_int.h"

static st_code tipset_result(st_fullnode *n, st_tipset *ts, st_code code, json_t **result, st_err *err) {
  if (!code) code = st_tipset_to_json(ts, n->network, result, err);
  st_tipset_free(ts);
  return code;
}

static st_code r_chain_head(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_tipset ts;
  st_tipset_init(&ts);
  return tipset_result(n, &ts, st_chain_head(n->chain, &ts, err), &q->result, err);
}

static st_code r_chain_genesis(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_tipset ts;
  st_tipset_init(&ts);
  return tipset_result(n, &ts, st_chain_genesis(n->chain, &ts, err), &q->result, err);
}

/* ChainGetTipSet [tsk]: the key must name a tipset (not the head by []). */
static st_code p_chain_get_tipset(const json_t *params, void *args, st_err *err) {
  const json_t *v = json_array_get(params, 0);
  if (!json_is_array(v) || !json_array_size(v))
    return st_err_set(err, ST_EINVAL, "param 1 (tipset key): must be a non-empty array of CIDs");
  return fn_parse_tsk(params, args, err);
}

static st_code r_chain_get_tipset(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_tipset ts;
  return tipset_result(n, &ts, fn_tipset(n, &((fn_tsk_args *)q->args)->tsk, &ts, err), &q->result, err);
}

static st_code p_chain_get_tipset_by_height(const json_t *params, void *args, st_err *err) {
  return fn_parse_num_tsk(params, "height", args, err);
}

static st_code r_chain_get_tipset_by_height(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  const fn_num_tsk_args *a = q->args;
  int64_t height = (int64_t)a->num; /* a JSON integer: at most INT64_MAX */
  st_tipset from, ts;
  st_tipset_init(&ts);
  st_code code = fn_tipset(n, &a->tsk, &from, err);
  if (!code && height > from.height)
    code = st_err_set(err, ST_EINVAL, "looking for tipset with height greater than start point, req: %lld, head: %lld",
                      (long long)height, (long long)from.height);
  if (!code) code = st_chain_tipset_at(n->chain, height, &ts, err);
  st_tipset_free(&from);
  return tipset_result(n, &ts, code, &q->result, err);
}

static st_code r_chain_get_block(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_block_header b;
  st_block_header_init(&b);
  st_code code = st_chain_block(n->chain, &((fn_cid_args *)q->args)->cid, &b, err);
  if (!code) code = st_block_header_to_json(&b, n->network, &q->result, err);
  st_block_header_free(&b);
  return code;
}

static void free_msgs(st_signed_message *m, st_cid *cids, size_t k) {
  for (size_t i = 0; i < k; i++) st_signed_message_free(&m[i]);
  free(m);
  free(cids);
}

static st_code r_chain_get_block_messages(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_block_header b;
  st_block_header_init(&b);
  st_signed_message *msgs = NULL;
  st_cid *cids = NULL;
  size_t k = 0;
  st_code code = st_chain_block(n->chain, &((fn_cid_args *)q->args)->cid, &b, err);
  if (!code) code = st_chain_block_messages(n->chain, &b, &msgs, &cids, &k, err);
  json_t *secp = json_array(), *cj = json_array();
  for (size_t i = 0; i < k && !code; i++) {
    json_t *m;
    if (!(code = st_signed_message_to_json(&msgs[i], n->network, &m, err))) json_array_append_new(secp, m);
    json_array_append_new(cj, st_chain_json_cid(&cids[i]));
  }
  if (!code) q->result = json_pack("{s[] so so}", "BlsMessages", "SecpkMessages", secp, "Cids", cj);
  else {
    json_decref(secp);
    json_decref(cj);
  }
  free_msgs(msgs, cids, k);
  st_block_header_free(&b);
  return code;
}

static st_code r_chain_get_message(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_signed_message sm;
  st_signed_message_init(&sm);
  st_code code = st_chain_message(n->chain, &((fn_cid_args *)q->args)->cid, &sm, err);
  if (!code) code = st_message_to_json(&sm.message, n->network, &q->result, err);
  st_signed_message_free(&sm);
  return code;
}

/* The parent tipset of a block, and its execution (messages in apply order, receipts); *genesis
 * when the block has no parents (parent and ex stay empty). */
static st_code parent_of(st_fullnode *n, const st_cid *block, st_tipset *parent, st_tipset_exec *ex, bool *genesis,
                         st_err *err) {
  st_block_header b;
  st_block_header_init(&b);
  st_tipset_init(parent);
  st_tipset_exec_init(ex);
  st_code code = st_chain_block(n->chain, block, &b, err);
  *genesis = !code && b.n_parents == 0;
  if (!code && !*genesis) {
    st_tipset_key k;
    st_tipset_key_init(&k);
    code = st_tipset_key_set(&k, b.parents, b.n_parents, err);
    if (!code) code = st_chain_tipset(n->chain, &k, parent, err);
    if (!code) code = st_chain_exec(n->chain, &k, ex, err);
    st_tipset_key_free(&k);
  }
  st_block_header_free(&b);
  return code;
}

/* The messages a tipset applied, in order, as [{"Cid", "Message"}]. */
static st_code applied_messages(st_fullnode *n, const st_tipset *ts, json_t *out, st_err *err) {
  st_cid *cids = NULL;
  size_t k = 0;
  st_code code = st_chain_applied(n->chain, &ts->key, &cids, &k, err);
  for (size_t i = 0; i < k && !code; i++) {
    st_signed_message sm;
    st_signed_message_init(&sm);
    json_t *m = NULL;
    code = st_chain_message(n->chain, &cids[i], &sm, err);
    if (!code) code = st_message_to_json(&sm.message, n->network, &m, err);
    if (!code) json_array_append_new(out, json_pack("{so so}", "Cid", st_chain_json_cid(&cids[i]), "Message", m));
    st_signed_message_free(&sm);
  }
  free(cids);
  return code;
}

static st_code receipts_json(st_fullnode *n, const st_cid *root, json_t **result, st_err *err) {
  st_receipt *rc = NULL;
  size_t k = 0;
  st_code code = st_chain_receipts(n->chain, root, &rc, &k, err);
  json_t *arr = json_array();
  for (size_t i = 0; i < k && !code; i++) {
    json_t *r;
    if (!(code = st_receipt_to_json(&rc[i], &r, err))) json_array_append_new(arr, r);
  }
  if (!code) *result = arr;
  else json_decref(arr);
  for (size_t i = 0; i < k; i++) st_receipt_free(&rc[i]);
  free(rc);
  return code;
}

/* ChainGetParentMessages (the parent's applied messages) and ChainGetParentReceipts (their
 * receipts) of a block, in the parent's apply order; null for the genesis block. */
static st_code parent_part(st_rpc_req *q, bool receipts, st_err *err) {
  st_fullnode *n = q->ctx;
  st_tipset parent;
  st_tipset_exec ex;
  bool genesis = false;
  st_code code = parent_of(n, &((fn_cid_args *)q->args)->cid, &parent, &ex, &genesis, err);
  if (!code && genesis) q->result = json_null();
  else if (!code && receipts) code = receipts_json(n, &ex.receipts_root, &q->result, err);
  else if (!code) {
    json_t *arr = json_array();
    code = applied_messages(n, &parent, arr, err);
    /* Lotus gives null, not [], for none */
    if (!code) q->result = json_array_size(arr) ? json_incref(arr) : json_null();
    json_decref(arr);
  }
  st_tipset_exec_free(&ex);
  st_tipset_free(&parent);
  return code;
}

static st_code r_chain_get_parent_messages(st_rpc_req *q, st_err *err) { return parent_part(q, false, err); }

static st_code r_chain_get_parent_receipts(st_rpc_req *q, st_err *err) { return parent_part(q, true, err); }

/* ChainHasObj [cid]: whether the chain store holds the object. */
static st_code r_chain_has_obj(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  bool has;
  st_code code = st_chain_has_object(n->chain, &((fn_cid_args *)q->args)->cid, &has, err);
  if (!code) q->result = json_boolean(has);
  return code;
}

/* ChainReadObj [cid]: the object's raw bytes, base64. */
static st_code r_chain_read_obj(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_buf b;
  st_code code = st_chain_object(n->chain, &((fn_cid_args *)q->args)->cid, &b, err);
  if (!code && !(q->result = fn_bytes_json(b.data, b.len))) code = st_err_set(err, ST_ENOMEM, "out of memory");
  st_buf_free(&b);
  return code;
}

/* ChainGetPath's params: [from tsk, to tsk]. */
typedef struct path_args {
  st_tipset_key from, to;
} path_args;

static st_code p_chain_get_path(const json_t *params, void *args, st_err *err) {
  path_args *a = args;
  st_code code = fn_param_tsk(params, 0, &a->from, err);
  return code ? code : fn_param_tsk(params, 1, &a->to, err);
}

static void free_path(void *args) {
  st_tipset_key_free(&((path_args *)args)->from);
  st_tipset_key_free(&((path_args *)args)->to);
}

#define PATH_MAX_TIPSETS 20000 /* about 40 MB of reply; longer paths are refused, naming the limit */

/* One step of the path: {"Type": "revert"|"apply", "Val": tipset}, appended to arr; then t
 * becomes its parent. */
static st_code path_step(st_fullnode *n, const char *type, st_tipset *t, json_t *arr, st_err *err) {
  if (json_array_size(arr) >= PATH_MAX_TIPSETS)
    return st_err_set(err, ST_ERANGE, "the path is longer than %d tipsets; ask for a shorter one", PATH_MAX_TIPSETS);
  json_t *val;
  st_code code = st_tipset_to_json(t, n->network, &val, err);
  if (!code) json_array_append_new(arr, json_pack("{ss so}", "Type", type, "Val", val));
  return code ? code : fn_parent(n, t, err);
}

/* ChainGetPath [from, to]: the head changes that lead from one tipset to the other, as Lotus's
 * ReorgOps finds them: down from the higher side (on a tie, to's side steps) until
 * both meet; from's tipsets reverted newest first, then to's applied oldest first. */
static st_code r_chain_get_path(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  path_args *a = q->args;
  st_tipset left, right;
  st_tipset_init(&right);
  json_t *reverts = json_array(), *applies = json_array();
  st_code code = fn_tipset(n, &a->from, &left, err);
  if (!code) code = fn_tipset(n, &a->to, &right, err);
  while (!code && !st_tipset_key_equal(&left.key, &right.key)) {
    if (left.height > right.height) code = path_step(n, "revert", &left, reverts, err);
    else code = path_step(n, "apply", &right, applies, err);
  }
  for (size_t i = json_array_size(applies); !code && i-- > 0;) json_array_append(reverts, json_array_get(applies, i));
  if (!code) q->result = json_incref(reverts);
  json_decref(reverts);
  json_decref(applies);
  st_tipset_free(&left);
  st_tipset_free(&right);
  return code;
}

static const st_rpc_method METHODS[] = {
    ST_RPC_NOARGS("ChainHead", ST_PERM_READ, r_chain_head),
    ST_RPC_NOARGS("ChainGetGenesis", ST_PERM_READ, r_chain_genesis),
    ST_RPC_METHOD("ChainGetTipSet", ST_PERM_READ, 1, 1, p_chain_get_tipset, fn_tsk_args, fn_free_tsk,
                  r_chain_get_tipset),
    ST_RPC_METHOD("ChainGetTipSetByHeight", ST_PERM_READ, 1, 2, p_chain_get_tipset_by_height, fn_num_tsk_args,
                  fn_free_num_tsk, r_chain_get_tipset_by_height),
    ST_RPC_METHOD("ChainGetBlock", ST_PERM_READ, 1, 1, fn_parse_cid, fn_cid_args, NULL, r_chain_get_block),
    ST_RPC_METHOD("ChainGetBlockMessages", ST_PERM_READ, 1, 1, fn_parse_cid, fn_cid_args, NULL,
                  r_chain_get_block_messages),
    ST_RPC_METHOD("ChainGetMessage", ST_PERM_READ, 1, 1, fn_parse_cid, fn_cid_args, NULL, r_chain_get_message),
    ST_RPC_METHOD("ChainGetParentMessages", ST_PERM_READ, 1, 1, fn_parse_cid, fn_cid_args, NULL,
                  r_chain_get_parent_messages),
    ST_RPC_METHOD("ChainGetParentReceipts", ST_PERM_READ, 1, 1, fn_parse_cid, fn_cid_args, NULL,
                  r_chain_get_parent_receipts),
    ST_RPC_METHOD("ChainHasObj", ST_PERM_READ, 1, 1, fn_parse_cid, fn_cid_args, NULL, r_chain_has_obj),
    ST_RPC_METHOD("ChainReadObj", ST_PERM_READ, 1, 1, fn_parse_cid, fn_cid_args, NULL, r_chain_read_obj),
    ST_RPC_METHOD("ChainGetPath", ST_PERM_READ, 2, 2, p_chain_get_path, path_args, free_path, r_chain_get_path),
};

fn_slice fn_chain_methods(void) { return (fn_slice){METHODS, sizeof METHODS / sizeof METHODS[0]}; }
