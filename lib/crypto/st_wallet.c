/* st_wallet: see st_wallet.h. */
#include "crypto/st_wallet.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/st_secp.h"

#define WALLET_PREFIX "wallet-"
#define TRASH_PREFIX "trash-"
#define NAME_MAX_LEN (ST_ADDR_STR_MAX + sizeof WALLET_PREFIX)

/* A key's name in the keystore: "wallet-<t address>". */
static st_code key_name(const st_address *addr, char name[NAME_MAX_LEN], st_err *err) {
  char text[ST_ADDR_STR_MAX];
  st_code code = st_address_format(addr, 't', text, err);
  if (!code) snprintf(name, NAME_MAX_LEN, WALLET_PREFIX "%s", text);
  return code;
}

/* Stores a secp256k1 key under its address's name; *addr gets the address. */
static st_code put(const st_wallet *w, const st_keyinfo *ki, st_address *addr, st_err *err) {
  char name[NAME_MAX_LEN];
  st_code code = st_secp_address(ki->priv, addr, err);
  if (!code) code = key_name(addr, name, err);
  if (!code) code = st_keystore_put(&w->ks, name, ki, err);
  if (code) memset(addr, 0, sizeof *addr);
  return code;
}

st_code st_wallet_open(st_wallet *w, const char *dir, st_err *err) { return st_keystore_open(&w->ks, dir, err); }

/* A new key; the wallet's default too when make_default and it has none. */
static st_code generate(const st_wallet *w, bool make_default, st_address *addr, st_err *err) {
  st_keyinfo ki = {.type = ST_KEY_SECP256K1}, dflt;
  st_code code = st_secp_keygen(ki.priv, err);
  if (!code) code = put(w, &ki, addr, err);
  if (!code && make_default && st_keystore_get(&w->ks, "default", &dflt, NULL) == ST_ENOENT)
    code = st_keystore_put(&w->ks, "default", &ki, err);
  st_secure_zero(&ki, sizeof ki);
  st_secure_zero(&dflt, sizeof dflt);
  if (code) memset(addr, 0, sizeof *addr);
  return code;
}

st_code st_wallet_generate(const st_wallet *w, st_address *addr, st_err *err) { return generate(w, false, addr, err); }

st_code st_wallet_new(const st_wallet *w, st_address *addr, st_err *err) { return generate(w, true, addr, err); }

st_code st_wallet_import(const st_wallet *w, const uint8_t sk[32], st_address *addr, st_err *err) {
  st_keyinfo ki = {.type = ST_KEY_SECP256K1};
  memcpy(ki.priv, sk, sizeof ki.priv);
  st_code code = st_secp_seckey_check(ki.priv, err);
  if (!code) code = put(w, &ki, addr, err);
  else memset(addr, 0, sizeof *addr);
  st_secure_zero(&ki, sizeof ki);
  return code;
}

st_code st_wallet_key(const st_wallet *w, const st_address *addr, uint8_t sk[32], st_err *err) {
  char name[NAME_MAX_LEN];
  st_keyinfo ki;
  memset(sk, 0, 32);
  st_code code = key_name(addr, name, err);
  if (code) return code;
  if (st_keystore_get(&w->ks, name, &ki, NULL))
    return st_err_set(err, ST_ENOENT, "the wallet has no key for %s", name + strlen(WALLET_PREFIX));
  memcpy(sk, ki.priv, 32);
  st_secure_zero(&ki, sizeof ki);
  return ST_OK;
}

st_code st_wallet_default(const st_wallet *w, st_address *addr, st_err *err) {
  st_keyinfo ki;
  memset(addr, 0, sizeof *addr);
  if (st_keystore_get(&w->ks, "default", &ki, NULL))
    return st_err_set(err, ST_ENOENT, "failed to get default key: key info not found");
  st_code code = st_secp_address(ki.priv, addr, err); /* zeroes addr on failure */
  st_secure_zero(&ki, sizeof ki);
  return code;
}

st_code st_wallet_list(const st_wallet *w, st_address **addrs, size_t *n, st_err *err) {
  *addrs = NULL;
  *n = 0;
  st_buf names = ST_BUF_INIT;
  st_code code = st_keystore_list(&w->ks, &names, err);
  const char *p = code ? "" : st_buf_cstr(&names);
  size_t pre = strlen(WALLET_PREFIX), cap = 0;
  while (*p && !code) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    char text[ST_ADDR_STR_MAX];
    st_address a;
    if (len > pre && len - pre < sizeof text && !strncmp(p, WALLET_PREFIX, pre)) {
      snprintf(text, sizeof text, "%.*s", (int)(len - pre), p + pre);
      if (!st_address_parse(text, &a, NULL, NULL)) {
        if (*n == cap) {
          cap = cap ? 2 * cap : 8;
          st_address *grown = realloc(*addrs, cap * sizeof *grown);
          if (!grown) code = st_err_set(err, ST_ENOMEM, "out of memory listing the wallet");
          else *addrs = grown;
        }
        if (!code) (*addrs)[(*n)++] = a;
      }
    }
    p += len + (nl ? 1 : 0);
  }
  st_buf_free(&names);
  if (code) {
    free(*addrs);
    *addrs = NULL;
    *n = 0;
  }
  return code;
}

st_code st_wallet_delete(const st_wallet *w, const st_address *addr, st_err *err) {
  char name[NAME_MAX_LEN], trash[NAME_MAX_LEN];
  st_keyinfo ki, dflt;
  st_code code = key_name(addr, name, err);
  if (code) return code;
  const char *text = name + strlen(WALLET_PREFIX);
  snprintf(trash, sizeof trash, TRASH_PREFIX "%s", text);
  if (st_keystore_get(&w->ks, name, &ki, NULL)) return st_err_set(err, ST_ENOENT, "the wallet has no key for %s", text);
  bool was_default = !st_keystore_get(&w->ks, "default", &dflt, NULL) && !memcmp(dflt.priv, ki.priv, sizeof ki.priv);
  code = st_keystore_delete(&w->ks, trash, err); /* an earlier delete's copy: the same key */
  if (code == ST_ENOENT) code = ST_OK;
  if (!code) code = st_keystore_put(&w->ks, trash, &ki, err); /* before the removal: no crash loses the key */
  if (!code) code = st_keystore_delete(&w->ks, name, err);
  if (!code && was_default) code = st_keystore_delete(&w->ks, "default", err);
  st_secure_zero(&ki, sizeof ki);
  st_secure_zero(&dflt, sizeof dflt);
  return code;
}
