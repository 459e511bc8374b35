/* st_fullnode_lookup: the run phase's lookups on the chain (a tipset by key, a state, a parent,
 * a miner, a key address, a beacon entry) and the JSON writers the groups share. */
#include <string.h>
#include <time.h>

#include "core/st_encoding.h"
#include "node/st_fullnode_int.h"

st_code fn_tipset(st_fullnode *n, const st_tipset_key *tsk, st_tipset *out, st_err *err) {
  st_tipset_init(out);
  return tsk->n ? st_chain_tipset(n->chain, tsk, out, err) : st_chain_head(n->chain, out, err);
}

st_code fn_state(st_fullnode *n, const st_tipset_key *tsk, st_state *out, st_err *err) {
  st_tipset ts;
  st_state_init(out);
  st_code code = fn_tipset(n, tsk, &ts, err);
  if (!code) code = st_chain_state(n->chain, &ts.key, out, err);
  st_tipset_free(&ts);
  return code;
}

st_code fn_parent(st_fullnode *n, st_tipset *t, st_err *err) {
  if (!t->n) return st_err_set(err, ST_ENOENT, "empty tipset");
  st_tipset_key pk = {t->blocks[0].parents, t->blocks[0].n_parents};
  st_tipset p;
  st_tipset_init(&p);
  st_code code = st_chain_tipset(n->chain, &pk, &p, err);
  if (code) {
    st_tipset_free(&p);
    return code;
  }
  st_tipset_free(t);
  *t = p;
  return ST_OK;
}

st_code fn_miner_id(st_fullnode *n, const st_tipset *ts, const st_address *a, uint64_t *id, mpz_t balance,
                    st_err *err) {
  char text[ST_ADDR_STR_MAX] = "?";
  st_address_format(a, n->network, text, NULL);
  st_state st;
  st_state_init(&st);
  st_state_actor *act = NULL;
  *id = 0;
  if (balance) mpz_set_ui(balance, 0);
  st_code code = st_chain_state(n->chain, &ts->key, &st, err);
  if (!code && st_state_lookup(&st, a, &act, NULL))
    code = st_err_set(err, ST_ENOENT, "failed to load miner actor: actor %s not found", text);
  if (!code && act->kind != ST_ACTOR_MINER)
    code = st_err_set(err, ST_EINVAL, "failed to load miner actor state: %s is not a miner (its actor is %s)", text,
                      st_actor_kind_name(act->kind));
  if (!code) {
    *id = act->id;
    if (balance) mpz_set(balance, act->balance);
  }
  st_state_clear(&st);
  return code;
}

st_code fn_key_address(st_fullnode *n, const st_address *a, st_address *out, st_err *err) {
  if (st_address_protocol(a) != ST_ADDR_ID) {
    *out = *a;
    return ST_OK;
  }
  memset(out, 0, sizeof *out);
  st_state st;
  st_state_init(&st);
  st_state_actor *act = NULL;
  st_code code = st_chain_state(n->chain, NULL, &st, err);
  if (!code) code = st_state_lookup(&st, a, &act, err);
  if (!code && !act->robust.len) code = st_err_set(err, ST_EINVAL, "actor has no key address");
  if (!code) *out = act->robust;
  st_state_clear(&st);
  return code;
}

st_code fn_beacon_entry(st_fullnode *n, int64_t round, uint8_t out[ST_BEACON_ENTRY_LEN], st_err *err) {
  memset(out, 0, ST_BEACON_ENTRY_LEN);
  if (!n->has_beacon)
    return st_err_set(
        err, ST_EUNAVAIL,
        "this daemon has no beacon key, so it cannot give beacon entries: ask the daemon that runs the beacon "
        "(started with --beacon-key FILE)");
  int64_t now = st_chain_epoch_at(n->chain, (uint64_t)time(NULL));
  if (round > now)
    return st_err_set(err, ST_EUNAVAIL, "the beacon entry for round %lld is not out yet: the current epoch is %lld",
                      (long long)round, (long long)now);
  return st_beacon_make(n->beacon_sk, (uint64_t)(round < 0 ? 0 : round), out, err);
}

json_t *fn_addr_json(const st_fullnode *n, const st_address *a) {
  char s[ST_ADDR_STR_MAX];
  if (st_address_format(a, n->network, s, NULL)) return json_null();
  return json_string(s);
}

json_t *fn_id_json(const st_fullnode *n, uint64_t id) {
  st_address a;
  st_address_from_id(id, &a, NULL);
  return fn_addr_json(n, &a);
}

json_t *fn_bytes_json(const uint8_t *p, size_t len) {
  if (!len) return json_null();
  st_buf b = ST_BUF_INIT;
  st_base64_append(&b, p, len, true);
  json_t *j = b.failed ? NULL : json_stringn((const char *)b.data, b.len);
  st_buf_free(&b);
  return j;
}
