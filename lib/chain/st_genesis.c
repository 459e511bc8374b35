/* st_genesis: the genesis file and the state it describes. */
#include "chain/st_genesis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/st_chain_types.h"
#include "codec/st_token.h"
#include "core/st_buf.h"
#include "core/st_encoding.h"
#include "core/st_fs.h"
#include "core/st_json.h"
#include "crypto/st_secp.h"

void st_genesis_init(st_genesis *g) {
  *g = (st_genesis){0};
  mpz_init(g->reward_pool);
}

void st_genesis_clear(st_genesis *g) {
  for (size_t i = 0; i < g->naccounts; i++) mpz_clear(g->accounts[i].balance);
  free(g->accounts);
  mpz_clear(g->reward_pool);
  *g = (st_genesis){0};
}

static st_code add(st_genesis *g, const char *addr_text, const char *amount, bool fil, st_err *err) {
  if (g->naccounts == ST_GENESIS_MAX_ACCOUNTS)
    return st_err_set(err, ST_ERANGE, "more than %d genesis accounts", ST_GENESIS_MAX_ACCOUNTS);
  st_address a;
  st_code code = st_address_parse(addr_text, &a, NULL, err);
  if (code) return st_err_wrap(err, code, "genesis account \"%.120s\"", addr_text);
  st_addr_protocol p = st_address_protocol(&a);
  if (p != ST_ADDR_SECP256K1 && p != ST_ADDR_BLS)
    return st_err_set(err, ST_EINVAL, "genesis account %.120s must be a key address (t1... or t3...)", addr_text);
  for (size_t i = 0; i < g->naccounts; i++)
    if (st_address_equal(&g->accounts[i].address, &a))
      return st_err_set(err, ST_EEXIST, "genesis account %.120s is listed twice", addr_text);
  st_genesis_account *acc = realloc(g->accounts, (g->naccounts + 1) * sizeof *acc);
  if (!acc) return st_err_set(err, ST_ENOMEM, "out of memory adding a genesis account");
  g->accounts = acc;
  st_genesis_account *x = &g->accounts[g->naccounts];
  x->address = a;
  mpz_init(x->balance);
  code = fil ? st_fil_parse(amount, x->balance, err) : (mpz_set_str(x->balance, amount, 10) ? ST_EINVAL : ST_OK);
  if (!code && mpz_sgn(x->balance) < 0) code = ST_EINVAL;
  if (code) {
    mpz_clear(x->balance);
    return st_err_set(err, ST_EINVAL, "genesis account %.120s: balance \"%.60s\" is not a non-negative %s", addr_text,
                      amount, fil ? "FIL amount" : "attoFIL integer");
  }
  g->naccounts++;
  return ST_OK;
}

st_code st_genesis_add_account(st_genesis *g, const char *spec, st_err *err) {
  const char *eq = strchr(spec, '=');
  if (!eq || eq == spec || !eq[1]) return st_err_set(err, ST_EINVAL, "--account \"%.120s\" is not ADDR=FIL", spec);
  char addr[ST_ADDR_STR_MAX];
  size_t n = (size_t)(eq - spec);
  if (n >= sizeof addr) return st_err_set(err, ST_EINVAL, "--account \"%.120s\": the address is too long", spec);
  memcpy(addr, spec, n);
  addr[n] = 0;
  return add(g, addr, eq + 1, true, err);
}

st_code st_genesis_new_beacon(st_genesis *g, uint8_t sk[32], st_err *err) {
  st_code code = st_secp_keygen(sk, err);
  if (!code) code = st_secp_pubkey(sk, g->beacon_pub, err);
  if (code) st_secure_zero(sk, 32);
  return code;
}

json_t *st_genesis_to_json(const st_genesis *g) {
  json_t *accounts = json_array();
  for (size_t i = 0; i < g->naccounts; i++) {
    char addr[ST_ADDR_STR_MAX];
    if (st_address_format(&g->accounts[i].address, 't', addr, NULL)) {
      json_decref(accounts);
      return NULL;
    }
    json_array_append_new(
        accounts, json_pack("{ss so}", "address", addr, "balance", st_chain_json_bigint(g->accounts[i].balance)));
  }
  st_buf hex = ST_BUF_INIT;
  st_hex_append(&hex, g->beacon_pub, sizeof g->beacon_pub);
  json_t *j = json_pack("{si so sI so ss% so}", "version", 1, "network", st_network_to_json(&g->network), "timestamp",
                        (json_int_t)g->timestamp, "reward_pool", st_chain_json_bigint(g->reward_pool), "beacon",
                        st_buf_cstr(&hex), hex.len, "accounts", accounts);
  st_buf_free(&hex);
  return j;
}

static st_code from_json(const json_t *j, st_genesis *g, st_err *err) {
  static const char *const keys[] = {"version", "network", "timestamp", "reward_pool", "beacon", "accounts"};
  if (!json_is_object(j)) return st_err_set(err, ST_EINVAL, "genesis must be a JSON object");
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)j, key, v) {
    bool known = false;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) known |= !strcmp(key, keys[i]);
    if (!known) return st_err_set(err, ST_EINVAL, "genesis has an unknown field \"%.40s\"", key);
  }
  if (json_integer_value(json_object_get(j, "version")) != 1 || !json_is_integer(json_object_get(j, "version")))
    return st_err_set(err, ST_EINVAL, "genesis \"version\" must be 1");
  st_code code = st_network_from_json(json_object_get(j, "network"), &g->network, err);
  if (code) return st_err_wrap(err, code, "genesis \"network\"");
  const json_t *ts = json_object_get(j, "timestamp"), *pool = json_object_get(j, "reward_pool"),
               *acc = json_object_get(j, "accounts");
  if (!json_is_integer(ts) || json_integer_value(ts) < 0)
    return st_err_set(err, ST_EINVAL, "genesis \"timestamp\" must be unix seconds");
  g->timestamp = (uint64_t)json_integer_value(ts);
  if (!json_is_string(pool) || mpz_set_str(g->reward_pool, json_string_value(pool), 10) || mpz_sgn(g->reward_pool) < 0)
    return st_err_set(err, ST_EINVAL, "genesis \"reward_pool\" must be attoFIL as a decimal string");
  const json_t *beacon = json_object_get(j, "beacon");
  st_buf raw = ST_BUF_INIT;
  code = json_is_string(beacon) ? st_hex_decode(json_string_value(beacon), json_string_length(beacon), &raw, NULL)
                                : ST_EINVAL;
  if (!code) code = st_secp_pubkey_parse(raw.data, raw.len, g->beacon_pub, NULL);
  st_buf_free(&raw);
  if (code) return st_err_set(err, ST_EINVAL, "genesis \"beacon\" must be the beacon's secp256k1 public key in hex");
  if (!json_is_array(acc)) return st_err_set(err, ST_EINVAL, "genesis \"accounts\" must be an array");
  size_t i;
  json_array_foreach(acc, i, v) {
    const json_t *a = json_object_get(v, "address"), *b = json_object_get(v, "balance");
    if (!json_is_object(v) || json_object_size(v) != 2 || !json_is_string(a) || !json_is_string(b))
      return st_err_set(err, ST_EINVAL,
                        "genesis \"accounts\"[%zu] must be {\"address\": \"t1...\", \"balance\": \"attoFIL\"}", i);
    if ((code = add(g, json_string_value(a), json_string_value(b), false, err)))
      return st_err_wrap(err, code, "genesis \"accounts\"[%zu]", i);
  }
  return ST_OK;
}

st_code st_genesis_write(const st_genesis *g, const char *path, st_err *err) {
  json_t *j = st_genesis_to_json(g);
  char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(j);
  if (!text) return st_err_set(err, ST_ENOMEM, "out of memory writing the genesis");
  size_t n = strlen(text);
  text[n] = '\n'; /* json_dumps's NUL becomes the final newline */
  st_code code = st_fs_write_atomic(path, text, n + 1, 0644, err);
  free(text);
  return code;
}

/* g is replaced: the genesis, or empty (as st_genesis_init leaves it) on failure. */
st_code st_genesis_from_json(const json_t *j, st_genesis *g, st_err *err) {
  st_genesis_clear(g);
  st_genesis_init(g);
  st_code code = from_json(j, g, err);
  if (code) {
    st_genesis_clear(g);
    st_genesis_init(g);
  }
  return code;
}

st_code st_genesis_read(const char *path, st_genesis *g, st_err *err) {
  st_buf b = ST_BUF_INIT;
  json_t *j = NULL;
  json_error_t je;
  st_code code = st_fs_read_file(path, 64u << 20, &b, err);
  if (!code && !(j = json_loadb((const char *)b.data, b.len, JSON_REJECT_DUPLICATES, &je)))
    code = st_err_set(err, ST_EINVAL, "genesis path=\"%s\": malformed JSON at line %d column %d: %s", path, je.line,
                      je.column, je.text);
  st_buf_free(&b);
  if (code) { /* g is replaced by what the file holds: nothing */
    st_genesis_clear(g);
    st_genesis_init(g);
    return code;
  }
  code = st_genesis_from_json(j, g, err);
  json_decref(j);
  return code ? st_err_wrap(err, code, "genesis path=\"%s\"", path) : ST_OK;
}

st_code st_genesis_state(const st_genesis *g, st_state *out, st_err *err) {
  st_state_clear(out);
  static const struct {
    uint64_t id;
    st_actor_kind kind;
  } builtins[] = {{ST_ID_SYSTEM, ST_ACTOR_SYSTEM},     {ST_ID_INIT, ST_ACTOR_INIT},   {ST_ID_REWARD, ST_ACTOR_REWARD},
                  {ST_ID_CRON, ST_ACTOR_CRON},         {ST_ID_POWER, ST_ACTOR_POWER}, {ST_ID_MARKET, ST_ACTOR_MARKET},
                  {ST_ID_VERIFREG, ST_ACTOR_VERIFREG}, {ST_ID_BURNT, ST_ACTOR_BURNT}};
  st_code code = ST_OK;
  for (size_t i = 0; i < sizeof builtins / sizeof builtins[0] && !code; i++) {
    st_state_actor *a;
    code = st_state_create(out, builtins[i].id, builtins[i].kind, NULL, &a, err);
    if (!code && builtins[i].id == ST_ID_REWARD) mpz_set(a->balance, g->reward_pool);
  }
  for (size_t i = 0; i < g->naccounts && !code; i++) {
    st_state_actor *a;
    code = st_state_create(out, ST_ID_FIRST_ACCOUNT + i, ST_ACTOR_ACCOUNT, &g->accounts[i].address, &a, err);
    if (!code) mpz_set(a->balance, g->accounts[i].balance);
  }
  out->next_id = ST_ID_FIRST_NEW;
  if (code) st_state_clear(out);
  return code;
}
