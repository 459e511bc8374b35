/* st_node_api_wallet: the node's wallet: keys, balances, signatures and VRFs. */
#include "rpc/st_node_api_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/st_encoding.h"
#include "crypto/st_secp.h"

st_code st_node_vrf(st_rpc_client *c, const st_address *addr, const uint8_t *alpha, size_t alen,
                    uint8_t pi[ST_VRF_PROOF_LEN], st_err *err) {
  char a[ST_ADDR_STR_MAX];
  json_t *r = NULL;
  st_code code = st_address_format(addr, 't', a, err);
  if (!code) code = na_call(c, "WalletVRF", json_pack("[s o]", a, na_bytes_json(alpha, alen)), &r, err);
  if (!code) code = na_b64_field(json_object_get(r, "Proof"), "WalletVRF", "Proof", pi, ST_VRF_PROOF_LEN, err);
  json_decref(r);
  if (code) memset(pi, 0, ST_VRF_PROOF_LEN);
  return code;
}

st_code st_node_wallet_balance(st_rpc_client *c, const st_address *a, mpz_t out, st_err *err) {
  char text[ST_ADDR_STR_MAX];
  st_address_text(a, text);
  return na_amount_call(c, "WalletBalance", json_pack("[s]", text), out, err);
}

st_code st_node_wallet_new(st_rpc_client *c, st_address *out, st_err *err) {
  return na_addr_call(c, "WalletNew", json_pack("[s]", "secp256k1"), out, err);
}

st_code st_node_wallet_default(st_rpc_client *c, st_address *out, st_err *err) {
  return na_addr_call(c, "WalletDefaultAddress", NULL, out, err);
}

st_code st_node_wallet_list(st_rpc_client *c, st_address **out, size_t *n, st_err *err) {
  *out = NULL;
  *n = 0;
  json_t *r;
  st_code code = na_call(c, "WalletList", NULL, &r, err);
  size_t k = json_array_size(r);
  st_address *a = NULL;
  if (!code && !json_is_array(r) && !json_is_null(r)) code = na_bad(err, "WalletList", "address list");
  if (!code && k && !(a = calloc(k, sizeof *a))) code = st_err_set(err, ST_ENOMEM, "out of memory");
  for (size_t i = 0; i < k && !code; i++) {
    const json_t *v = json_array_get(r, i);
    if (!json_is_string(v) || st_address_parse(json_string_value(v), &a[i], NULL, NULL))
      code = na_bad(err, "WalletList", "address");
  }
  json_decref(r);
  if (code) free(a), a = NULL, k = 0;
  *out = a;
  *n = k;
  return code;
}

st_code st_node_wallet_export(st_rpc_client *c, const st_address *a, st_keyinfo *out, st_err *err) {
  memset(out, 0, sizeof *out);
  char text[ST_ADDR_STR_MAX];
  st_address_text(a, text);
  json_t *r;
  st_code code = na_call(c, "WalletExport", json_pack("[s]", text), &r, err);
  const json_t *pk = json_object_get(r, "PrivateKey");
  st_buf raw = ST_BUF_INIT;
  if (!code &&
      (!json_is_string(pk) || st_base64_decode(json_string_value(pk), json_string_length(pk), true, &raw, NULL) ||
       raw.len != sizeof out->priv))
    code = na_bad(err, "WalletExport", "PrivateKey (32 bytes, base64)");
  if (!code) {
    out->type = ST_KEY_SECP256K1;
    memcpy(out->priv, raw.data, sizeof out->priv);
  }
  if (raw.data) st_secure_zero(raw.data, raw.len);
  st_buf_free(&raw);
  json_decref(r); /* the node's text of the key stays in freed memory: jansson cannot wipe it */
  return code;
}

st_code st_node_wallet_import(st_rpc_client *c, const st_keyinfo *ki, st_address *out, st_err *err) {
  st_buf b64 = ST_BUF_INIT;
  st_base64_append(&b64, ki->priv, sizeof ki->priv, true);
  json_t *params = json_pack("[{ss ss}]", "Type", "secp256k1", "PrivateKey", st_buf_cstr(&b64));
  if (b64.data) st_secure_zero(b64.data, b64.len);
  st_buf_free(&b64);
  return na_addr_call(c, "WalletImport", params, out, err);
}

st_code st_node_wallet_sign(st_rpc_client *c, const st_address *a, const uint8_t *data, size_t len, st_signature *out,
                            st_err *err) {
  memset(out, 0, sizeof *out);
  char text[ST_ADDR_STR_MAX];
  st_address_text(a, text);
  json_t *r;
  st_code code = na_call(c, "WalletSign", json_pack("[s o]", text, na_bytes_json(data, len)), &r, err);
  if (!code && st_signature_from_json(r, "WalletSign", out, err)) code = ST_EINVAL;
  json_decref(r);
  if (code) memset(out, 0, sizeof *out);
  return code;
}
