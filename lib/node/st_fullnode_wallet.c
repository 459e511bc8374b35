/* st_fullnode_wallet: the wallet group over the node's st_wallet: new, list, default, balance,
 * import, export and delete, and signing (WalletSign, WalletSignMessage, and WalletVRF, our
 * ECVRF extension). */
#include <stdlib.h>
#include <string.h>

#include "core/st_encoding.h"
#include "crypto/st_secp.h"
#include "crypto/st_vrf.h"
#include "node/st_fullnode_int.h"

static st_code p_wallet_new(const json_t *params, void *args, st_err *err) {
  (void)args;
  const json_t *t = json_array_get(params, 0);
  bool secp = (json_is_string(t) && !strcmp(json_string_value(t), "secp256k1")) ||
              (json_is_integer(t) && json_integer_value(t) == 1);
  if (!secp)
    return st_err_set(err, ST_EINVAL, "param 1 (key type): only \"secp256k1\" keys are supported (no BLS library)");
  return ST_OK;
}

/* WalletNew and WalletDefaultAddress: the address their wallet function (q->data) gives. */
typedef struct wallet_address {
  st_code (*fn)(const st_wallet *w, st_address *addr, st_err *err);
} wallet_address;

static st_code r_wallet_address(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_address a;
  st_code code = ((const wallet_address *)q->data)->fn(&n->wallet, &a, err);
  if (!code) q->result = fn_addr_json(n, &a);
  return code;
}

static st_code r_wallet_list(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_address *addrs;
  size_t k;
  st_code code = st_wallet_list(&n->wallet, &addrs, &k, err);
  if (code) return code;
  json_t *arr = json_array();
  for (size_t i = 0; i < k; i++) json_array_append_new(arr, fn_addr_json(n, &addrs[i]));
  free(addrs);
  q->result = arr;
  return ST_OK;
}

static st_code r_wallet_balance(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_state st;
  st_state_init(&st);
  st_state_actor *act;
  st_code code = st_chain_state(n->chain, NULL, &st, err);
  if (!code) /* Lotus: "0" for an address with no actor */
    q->result = st_state_lookup(&st, &((fn_addr_args *)q->args)->addr, &act, NULL) ? json_string("0")
                                                                                   : st_chain_json_bigint(act->balance);
  st_state_clear(&st);
  return code;
}

/* WalletSign's and WalletVRF's params: [Addr, "base64"]. */
typedef struct sign_args {
  st_address addr;
  st_buf data;
} sign_args;

static st_code p_key_and_data(const json_t *params, void *args, st_err *err) {
  sign_args *a = args;
  st_code code = fn_param_addr(params, 0, &a->addr, err);
  return code ? code : st_rpc_param_bytes(params, 1, "data", false, &a->data, err);
}

static void free_sign(void *args) { st_buf_free(&((sign_args *)args)->data); }

/* The key behind addr (an ID address through its key address); wipe it after use. */
static st_code key_of(st_fullnode *n, const st_address *addr, uint8_t sk[32], st_err *err) {
  st_address key;
  st_code code = fn_key_address(n, addr, &key, err);
  if (code) memset(sk, 0, 32);
  return code ? code : st_wallet_key(&n->wallet, &key, sk, err);
}

static st_code r_wallet_sign(st_rpc_req *q, st_err *err) {
  const sign_args *a = q->args;
  uint8_t sk[32], sig[ST_SECP_SIG_LEN];
  st_signature s;
  st_code code = key_of(q->ctx, &a->addr, sk, err);
  if (!code) code = st_secp_sign(sk, a->data.data, a->data.len, sig, err);
  st_secure_zero(sk, sizeof sk);
  if (!code) code = st_signature_set(&s, ST_SIG_SECP256K1, sig, sizeof sig, err);
  return code ? code : st_signature_to_json(&s, &q->result, err);
}

/* WalletVRF (our extension): the ECVRF proof and output of the key behind address over data;
 * with BLS, Lotus's miner gets its VRFs from WalletSign (a BLS signature is a VRF); ECVRF needs
 * its own call, so the miner holds no key. */
static st_code r_wallet_vrf(st_rpc_req *q, st_err *err) {
  const sign_args *a = q->args;
  uint8_t sk[32], pi[ST_VRF_PROOF_LEN], beta[32];
  st_code code = key_of(q->ctx, &a->addr, sk, err);
  if (!code) code = st_vrf_prove(sk, a->data.data, a->data.len, pi, beta, err);
  st_secure_zero(sk, sizeof sk);
  if (!code)
    q->result = json_pack("{so so}", "Proof", fn_bytes_json(pi, sizeof pi), "Output", fn_bytes_json(beta, sizeof beta));
  return code;
}

static st_code r_wallet_export(st_rpc_req *q, st_err *err) {
  uint8_t sk[32];
  st_code code = key_of(q->ctx, &((fn_addr_args *)q->args)->addr, sk, err);
  if (code) return code;
  st_buf b64 = ST_BUF_INIT;
  st_base64_append(&b64, sk, sizeof sk, true);
  st_secure_zero(sk, sizeof sk);
  q->result = json_pack("{ss ss}", "Type", "secp256k1", "PrivateKey", st_buf_cstr(&b64));
  st_secure_zero(b64.data, b64.len);
  st_buf_free(&b64);
  return ST_OK;
}

typedef struct key_args {
  uint8_t sk[32];
} key_args;

static st_code p_wallet_import(const json_t *params, void *args, st_err *err) {
  const json_t *ki = json_array_get(params, 0), *type = json_object_get(ki, "Type"),
               *pk = json_object_get(ki, "PrivateKey");
  if (!json_is_string(type) || strcmp(json_string_value(type), "secp256k1") || !json_is_string(pk))
    return st_err_set(err, ST_EINVAL,
                      "param 1 (key info): must be {\"Type\": \"secp256k1\", \"PrivateKey\": \"<base64>\"}");
  st_buf raw = ST_BUF_INIT;
  st_code code = st_base64_decode(json_string_value(pk), json_string_length(pk), true, &raw, err);
  if (!code && raw.len != 32)
    code = st_err_set(err, ST_EINVAL, "param 1 (key info): PrivateKey is %zu bytes, not 32", raw.len);
  if (!code) memcpy(((key_args *)args)->sk, raw.data, 32);
  if (raw.data) st_secure_zero(raw.data, raw.len);
  st_buf_free(&raw);
  return code ? st_err_wrap(err, ST_EINVAL, "param 1 (key info)") : ST_OK;
}

static void free_key(void *args) { st_secure_zero(args, sizeof(key_args)); }

static st_code r_wallet_import(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_address a;
  st_code code = st_wallet_import(&n->wallet, ((key_args *)q->args)->sk, &a, err);
  if (!code) q->result = fn_addr_json(n, &a);
  return code;
}

/* WalletHas [addr]: whether the wallet holds the key of that key address (an ID address: false,
 * as Lotus's wallet does not resolve it). */
static st_code r_wallet_has(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_address *addrs;
  size_t k;
  st_code code = st_wallet_list(&n->wallet, &addrs, &k, err);
  if (code) return code;
  bool has = false;
  for (size_t i = 0; i < k && !has; i++) has = st_address_equal(&addrs[i], &((fn_addr_args *)q->args)->addr);
  free(addrs);
  q->result = json_boolean(has);
  return ST_OK;
}

/* WalletDelete [addr]: the key leaves the wallet (kept as trash-<addr>, st_wallet_delete). */
static st_code r_wallet_delete(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  st_code code = st_wallet_delete(&n->wallet, &((fn_addr_args *)q->args)->addr, err);
  if (!code) q->result = json_null();
  return code;
}

/* WalletSignMessage's params: [Addr, Message]. */
typedef struct sign_message_args {
  st_address addr;
  st_signed_message sm;
} sign_message_args;

static st_code p_sign_message(const json_t *params, void *args, st_err *err) {
  sign_message_args *a = args;
  st_signed_message_init(&a->sm);
  st_code code = fn_param_addr(params, 0, &a->addr, err);
  if (!code && st_message_from_json(json_array_get(params, 1), &a->sm.message, err))
    code = st_err_wrap(err, ST_EINVAL, "param 2 (message)");
  return code;
}

static void free_sign_message(void *args) { st_signed_message_free(&((sign_message_args *)args)->sm); }

/* WalletSignMessage [addr, msg]: msg signed as it is (its nonce and gas untouched) by the key
 * behind addr, as Lotus signs it: over the message's CID. */
static st_code r_wallet_sign_message(st_rpc_req *q, st_err *err) {
  st_fullnode *n = q->ctx;
  sign_message_args *a = q->args;
  uint8_t sk[32];
  st_code code = key_of(n, &a->addr, sk, err);
  if (!code) code = st_signed_message_sign_secp(&a->sm, sk, err);
  st_secure_zero(sk, sizeof sk);
  return code ? code : st_signed_message_to_json(&a->sm, n->network, &q->result, err);
}

static const st_rpc_method METHODS[] = {
    {.name = "Filecoin.WalletNew",
     .perm = ST_PERM_WRITE,
     .min_params = 1,
     .max_params = 1,
     .parse = p_wallet_new,
     .run = r_wallet_address,
     .data = &(const wallet_address){st_wallet_new}},
    ST_RPC_NOARGS("WalletList", ST_PERM_WRITE, r_wallet_list),
    ST_RPC_METHOD("WalletHas", ST_PERM_WRITE, 1, 1, fn_parse_addr, fn_addr_args, NULL, r_wallet_has),
    ST_RPC_METHOD("WalletBalance", ST_PERM_READ, 1, 1, fn_parse_addr, fn_addr_args, NULL, r_wallet_balance),
    {.name = "Filecoin.WalletDefaultAddress",
     .perm = ST_PERM_WRITE,
     .run = r_wallet_address,
     .data = &(const wallet_address){st_wallet_default}},
    ST_RPC_METHOD("WalletSign", ST_PERM_SIGN, 2, 2, p_key_and_data, sign_args, free_sign, r_wallet_sign),
    ST_RPC_METHOD("WalletSignMessage", ST_PERM_SIGN, 2, 2, p_sign_message, sign_message_args, free_sign_message,
                  r_wallet_sign_message),
    ST_RPC_METHOD("WalletDelete", ST_PERM_ADMIN, 1, 1, fn_parse_addr, fn_addr_args, NULL, r_wallet_delete),
    ST_RPC_METHOD("WalletVRF", ST_PERM_SIGN, 2, 2, p_key_and_data, sign_args, free_sign, r_wallet_vrf),
    ST_RPC_METHOD("WalletExport", ST_PERM_ADMIN, 1, 1, fn_parse_addr, fn_addr_args, NULL, r_wallet_export),
    ST_RPC_METHOD("WalletImport", ST_PERM_ADMIN, 1, 1, p_wallet_import, key_args, free_key, r_wallet_import),
};

fn_slice fn_wallet_methods(void) { return (fn_slice){METHODS, sizeof METHODS / sizeof METHODS[0]}; }
