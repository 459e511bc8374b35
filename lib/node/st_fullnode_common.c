/* st_fullnode_common: the node's life (new, beacon key, stop, head changes, free), the method table
 * made of every group's slice, and the common methods (Version, AuthNew, AuthVerify). */
#include "node/st_fullnode.h"

#include <stdlib.h>
#include <string.h>

#include "core/st_encoding.h"
#include "crypto/st_secp.h"
#include "node/st_fullnode_int.h"

/* ---- common methods ---- */

static st_code r_version(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  (void)err;
  /* the versions a Lotus client checks: 2.3.0 on v1, 1.5.0 on v0 */
  json_int_t api = q->version == 0 ? 66816 : 131840;
  q->result = json_pack("{ss sI sI ss}", "Version", n->version, "APIVersion", api, "BlockDelay",
                        (json_int_t)st_chain_network(n->chain)->block_delay, "Agent", "spacetime");
  return ST_OK;
}

typedef struct perms_args {
  unsigned perms;
} perms_args;

static st_code p_auth_new(const json_t *params, void *args, st_err *err) {
  perms_args *a = args;
  st_code code = st_perms_from_json(json_array_get(params, 0), &a->perms, err);
  return code ? st_err_wrap(err, ST_EINVAL, "param 1 (permissions)") : ST_OK;
}

static st_code r_auth_new(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  char *token = NULL;
  st_code code = st_jwt_create(n->jwt_secret, ((perms_args *)q->args)->perms, &token, err);
  if (code) return code;
  st_buf b64 = ST_BUF_INIT;
  st_base64_append(&b64, (const uint8_t *)token, strlen(token), true); /* Lotus returns []byte: base64 of the JWT */
  free(token);
  q->result = json_string(st_buf_cstr(&b64));
  st_buf_free(&b64);
  return ST_OK;
}

typedef struct token_args {
  const char *token; /* borrowed from the params, which outlive the call */
} token_args;

static st_code p_auth_verify(const json_t *params, void *args, st_err *err) {
  return st_rpc_param_text(params, 0, "token", &((token_args *)args)->token, err);
}

static st_code r_auth_verify(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  unsigned perms = 0;
  if (st_jwt_verify(n->jwt_secret, ((token_args *)q->args)->token, &perms, err))
    return st_err_wrap(err, ST_EPERM, "JWT Verification failed");
  json_t *arr = json_array();
  for (unsigned p = ST_PERM_READ; p <= ST_PERM_ADMIN; p <<= 1)
    if (perms & p) json_array_append_new(arr, json_string(st_perm_name(p)));
  q->result = arr;
  return ST_OK;
}

static const st_rpc_method COMMON[] = {
    ST_RPC_NOARGS("Version", ST_PERM_READ, r_version),
    ST_RPC_METHOD("AuthNew", ST_PERM_ADMIN, 1, 1, p_auth_new, perms_args, NULL, r_auth_new),
    ST_RPC_METHOD("AuthVerify", ST_PERM_READ, 1, 1, p_auth_verify, token_args, NULL, r_auth_verify),
};

fn_slice fn_common_methods(void) { return (fn_slice){COMMON, sizeof COMMON / sizeof COMMON[0]}; }

/* ---- the table ---- */

/* The node's table: every group's slice, one after the other. */
static st_code make_table(st_fullnode *n, st_err *err) {
  fn_slice (*const groups[])(void) = {fn_common_methods, fn_chain_methods,  fn_state_methods,
                                      fn_miner_methods,  fn_market_methods, fn_mpool_methods,
                                      fn_wallet_methods, fn_mining_methods, fn_notify_methods};
  enum { NGROUPS = sizeof groups / sizeof groups[0] };
  fn_slice slices[NGROUPS];
  size_t total = 0;
  for (size_t g = 0; g < NGROUPS; g++) total += (slices[g] = groups[g]()).n;
  if (!(n->methods = calloc(total, sizeof *n->methods)))
    return st_err_set(err, ST_ENOMEM, "out of memory creating the full node");
  for (size_t g = 0; g < NGROUPS; g++)
    for (size_t i = 0; i < slices[g].n; i++) n->methods[n->nmethods++] = slices[g].methods[i];
  return ST_OK;
}

const st_rpc_method *st_fullnode_methods(const st_fullnode *n, size_t *count) {
  *count = n->nmethods;
  return n->methods;
}

/* ---- the node ---- */

st_code st_fullnode_new(st_chain *chain, const char *keystore_dir, const uint8_t jwt_secret[ST_JWT_SECRET_LEN],
                        const char *version, st_fullnode **out, st_err *err) {
  *out = NULL;
  st_fullnode *n = calloc(1, sizeof *n);
  if (!n) return st_err_set(err, ST_ENOMEM, "out of memory creating the full node");
  n->chain = chain;
  n->network = 't';
  n->version = version;
  memcpy(n->jwt_secret, jwt_secret, ST_JWT_SECRET_LEN);
  pthread_mutex_init(&n->pool_mu, NULL);
  pthread_mutex_init(&n->notify_mu, NULL);
  st_code code = make_table(n, err);
  if (!code) code = st_wallet_open(&n->wallet, keystore_dir, err);
  if (!code) code = st_mpool_new(st_chain_network(chain), &n->pool, err);
  if (!code) code = fn_mpool_open(n, err);
  if (code) st_fullnode_free(n);
  else *out = n;
  return code;
}

void st_fullnode_free(st_fullnode *n) {
  if (!n) return;
  st_mpool_free(n->pool);
  pthread_mutex_destroy(&n->pool_mu);
  fn_notify_free_all(n); /* the HTTP server has stopped, so every channel has closed already */
  pthread_mutex_destroy(&n->notify_mu);
  st_secure_zero(n->jwt_secret, sizeof n->jwt_secret);
  st_secure_zero(n->beacon_sk, sizeof n->beacon_sk);
  free(n->methods);
  free(n);
}

st_code st_fullnode_set_beacon_key(st_fullnode *n, const uint8_t sk[32], st_err *err) {
  if (!sk) {
    n->has_beacon = false;
    st_secure_zero(n->beacon_sk, sizeof n->beacon_sk);
    return ST_OK;
  }
  st_code code = st_beacon_check_key(sk, st_chain_beacon_pub(n->chain), err);
  if (code) return code;
  memcpy(n->beacon_sk, sk, sizeof n->beacon_sk);
  n->has_beacon = true;
  return ST_OK;
}

void st_fullnode_stop(st_fullnode *n) {
  pthread_mutex_lock(&n->pool_mu);
  n->stopping = true;
  pthread_mutex_unlock(&n->pool_mu);
}

void st_fullnode_head_changed(void *ctx, const st_tipset *head, const st_signed_message *reverted, size_t nreverted) {
  st_fullnode *n = ctx;
  st_state st;
  st_state_init(&st);
  pthread_mutex_lock(&n->pool_mu);
  if (!st_chain_state(n->chain, NULL, &st, NULL)) {
    st_mpool_prune(n->pool, &st);
    /* nonce order, so each one finds its predecessor waiting; the ones the new chain applied
     * (or that no longer fit) are refused, which is what we want */
    for (size_t i = 0; i < nreverted; i++) st_mpool_add(n->pool, &st, &reverted[i], NULL, NULL);
  }
  pthread_mutex_unlock(&n->pool_mu);
  st_state_clear(&st);
  fn_notify_head(n, head);
}

st_code st_fullnode_check_key(st_fullnode *n, const st_address *addr, st_err *err) {
  uint8_t sk[32];
  st_code code = st_wallet_key(&n->wallet, addr, sk, err);
  st_secure_zero(sk, sizeof sk);
  return code;
}
