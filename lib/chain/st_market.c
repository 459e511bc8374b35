/* st_market: the storage market and verified registry actors over their CBOR state. */
#include "chain/st_market.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/st_actor_state.h"
#include "codec/st_token.h"
#include "proofs/st_commp.h"

/* ---------------------------------------------------------------- loading and storing */

static st_code decode_market(const uint8_t *p, size_t len, void *out, st_err *err) {
  return st_market_state_decode(p, len, out, err);
}
static st_code decode_verifreg(const uint8_t *p, size_t len, void *out, st_err *err) {
  return st_verifreg_state_decode(p, len, out, err);
}

st_code st_market_load(const st_vm_env *env, st_state *s, st_market_state *out, st_err *err) {
  st_market_state_init(out);
  return st_actors_load(env, s, ST_ID_MARKET, decode_market, out, err);
}

st_code st_verifreg_load(const st_vm_env *env, st_state *s, st_verifreg_state *out, st_err *err) {
  st_verifreg_state_init(out);
  return st_actors_load(env, s, ST_ID_VERIFREG, decode_verifreg, out, err);
}

static void encode_market(const void *m, st_buf *out) { st_market_state_encode(m, out); }
static void encode_verifreg(const void *v, st_buf *out) { st_verifreg_state_encode(v, out); }

static st_code save_market(st_vm *vm, const st_market_state *m, int64_t *gas, st_err *err) {
  return st_actors_store(vm, ST_ID_MARKET, encode_market, m, gas, err);
}

static st_code save_verifreg(st_vm *vm, const st_verifreg_state *v, int64_t *gas, st_err *err) {
  return st_actors_store(vm, ST_ID_VERIFREG, encode_verifreg, v, gas, err);
}

/* ---------------------------------------------------------------- helpers for methods */

/* The actor behind a: an account if account_ok, a miner if miner_ok. */
static int64_t resolve(st_vm_call *c, const char *method, const char *what, const st_address *a, bool account_ok,
                       bool miner_ok, st_state_actor **out) {
  char text[ST_ADDR_STR_MAX];
  st_address_text(a, text);
  if (st_state_lookup(c->vm->state, a, out, NULL))
    return st_vm_abort(c, ST_EXIT_NOT_FOUND, "%s: %s %s has no actor", method, what, text);
  st_actor_kind k = (*out)->kind;
  if ((k == ST_ACTOR_ACCOUNT && account_ok) || (k == ST_ACTOR_MINER && miner_ok)) return ST_EXIT_OK;
  return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: %s %s is a %s actor, not %s", method, what, text,
                     st_actor_kind_name(k),
                     account_ok && miner_ok ? "an account or a miner"
                     : account_ok           ? "an account"
                                            : "a miner");
}

/* The miner's owner and worker may act for it; owner and sector_size (optional) get the miner's. */
static int64_t require_miner_caller(st_vm_call *c, const char *method, uint64_t miner, uint64_t *owner,
                                    uint64_t *sector_size) {
  st_miner_state m;
  st_err err;
  st_code code = st_actors_load_miner(c->vm->env, c->vm->state, miner, &m, &err);
  if (code) {
    st_miner_state_free(&m);
    return st_vm_error(c, code, &err, method);
  }
  bool ok = c->from == m.owner || c->from == m.worker;
  if (owner) *owner = m.owner;
  if (sector_size) *sector_size = m.sector_size;
  st_miner_state_free(&m);
  if (ok) return ST_EXIT_OK;
  return st_vm_abort(c, ST_EXIT_FORBIDDEN, "%s: caller t0%llu is not the owner or worker of miner t0%llu", method,
                     (unsigned long long)c->from, (unsigned long long)miner);
}

static int64_t load_market(st_vm_call *c, const char *method, st_market_state *m) {
  st_err err;
  if (!c->vm->env) return st_vm_abort(c, ST_EXIT_ILLEGAL_STATE, "%s: no state store", method);
  c->gas += ST_GAS_STATE_LOAD;
  st_code code = st_market_load(c->vm->env, c->vm->state, m, &err);
  return code ? st_vm_error(c, code, &err, method) : ST_EXIT_OK;
}

static int64_t store_market(st_vm_call *c, const char *method, const st_market_state *m) {
  st_err err;
  st_code code = save_market(c->vm, m, &c->gas, &err);
  if (!code) return ST_EXIT_OK;
  char what[96];
  snprintf(what, sizeof what, "%s: storing the market", method);
  return st_vm_error(c, code, &err, what);
}

static int64_t load_verifreg(st_vm_call *c, const char *method, st_verifreg_state *v) {
  st_err err;
  if (!c->vm->env) return st_vm_abort(c, ST_EXIT_ILLEGAL_STATE, "%s: no state store", method);
  st_code code = st_verifreg_load(c->vm->env, c->vm->state, v, &err);
  return code ? st_vm_error(c, code, &err, method) : ST_EXIT_OK;
}

static int64_t store_verifreg(st_vm_call *c, const char *method, const st_verifreg_state *v) {
  st_err err;
  st_code code = save_verifreg(c->vm, v, &c->gas, &err);
  return code ? st_vm_error(c, code, &err, method) : ST_EXIT_OK;
}

static char *amount_text(const mpz_t v) { return mpz_get_str(NULL, 10, v); }

/* ---------------------------------------------------------------- market methods */

int64_t st_market_add_balance(st_vm_call *c) {
  st_vm_params rd;
  st_vm_params_init(&rd, c->msg);
  st_address a;
  st_code code = st_address_read(&rd.r, &a);
  if (!code) code = st_cbor_finish(&rd.r);
  if (code) return st_vm_bad_params(c, &rd, "AddBalance");
  if (mpz_sgn(c->msg->value) <= 0)
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "AddBalance: the message carries no value to add");
  st_state_actor *who;
  int64_t exit = resolve(c, "AddBalance", "address", &a, true, true, &who);
  uint64_t id = who ? who->id : 0;
  if (!exit && who->kind == ST_ACTOR_MINER) exit = require_miner_caller(c, "AddBalance", id, NULL, NULL);
  st_market_state m;
  st_market_state_init(&m);
  if (!exit) exit = load_market(c, "AddBalance", &m);
  st_market_balance *b = NULL;
  if (!exit && !(b = st_market_balance_add(&m, id))) exit = st_vm_fail(c, ST_ENOMEM, NULL);
  if (!exit) {
    mpz_add(b->escrow, b->escrow, c->msg->value);
    exit = store_market(c, "AddBalance", &m);
  }
  st_market_state_free(&m);
  return exit;
}

int64_t st_market_withdraw_balance(st_vm_call *c) {
  st_vm_params rd;
  st_vm_params_init(&rd, c->msg);
  st_address a;
  mpz_t want, avail;
  mpz_inits(want, avail, NULL);
  st_code code = st_cbor_expect_array(&rd.r, 2, "WithdrawBalanceParams");
  if (!code) code = st_address_read(&rd.r, &a);
  if (!code) code = st_cbor_read_bigint(&rd.r, want);
  if (!code) code = st_cbor_finish(&rd.r);
  int64_t exit = code ? st_vm_bad_params(c, &rd, "WithdrawBalance") : ST_EXIT_OK;
  if (!exit && mpz_sgn(want) < 0)
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "WithdrawBalance: negative amount requested");
  st_state_actor *who = NULL;
  if (!exit) exit = resolve(c, "WithdrawBalance", "address", &a, true, true, &who);
  uint64_t id = who ? who->id : 0, to = id;
  if (!exit && who->kind == ST_ACTOR_MINER) exit = require_miner_caller(c, "WithdrawBalance", id, &to, NULL);
  else if (!exit && c->from != id)
    exit = st_vm_abort(c, ST_EXIT_FORBIDDEN, "WithdrawBalance: caller t0%llu may not withdraw the escrow of t0%llu",
                       (unsigned long long)c->from, (unsigned long long)id);
  st_market_state m;
  st_market_state_init(&m);
  if (!exit) exit = load_market(c, "WithdrawBalance", &m);
  st_market_balance *b = NULL;
  if (!exit && !(b = st_market_balance_add(&m, id))) exit = st_vm_fail(c, ST_ENOMEM, NULL);
  st_err err;
  if (!exit) {
    mpz_sub(avail, b->escrow, b->locked);
    if (mpz_cmp(want, avail) > 0) mpz_set(want, avail);
    mpz_sub(b->escrow, b->escrow, want);
    if ((code = st_state_transfer(c->vm->state, ST_ID_MARKET, to, want, &err)))
      exit = st_vm_error(c, code, &err, "WithdrawBalance");
  }
  if (!exit) exit = store_market(c, "WithdrawBalance", &m);
  if (!exit) st_cbor_put_bigint(&c->ret, want);
  st_market_state_free(&m);
  mpz_clears(want, avail, NULL);
  return exit;
}

/* The proposal itself: its shape, the batch's provider, its client's signature, its epochs and
 * size, and not published before. *client_id and *pc (the proposal's CID) are set. */
static int64_t check_proposal(st_vm_call *c, const char *what, const st_client_deal *d, const st_market_state *m,
                              uint64_t provider, uint64_t sector_size, uint64_t *client_id, st_cid *pc) {
  const st_deal_proposal *p = &d->proposal;
  st_vm *vm = c->vm;
  st_err err;
  if (st_deal_check_shape(p, &err)) return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: %s", what, err.msg);
  st_state_actor *prov, *client;
  int64_t exit = resolve(c, what, "provider", &p->provider, false, true, &prov);
  if (exit) return exit;
  if (prov->id != provider)
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: provider t0%llu differs from the batch's provider t0%llu",
                       what, (unsigned long long)prov->id, (unsigned long long)provider);
  if ((exit = resolve(c, what, "client", &p->client, true, false, &client))) return exit;
  *client_id = client->id;
  st_address key = client->robust; /* the account's key address: it signed */
  if (st_client_deal_verify(d, &key, &err)) return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: %s", what, err.msg);
  if (p->start_epoch <= vm->epoch)
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: StartEpoch %lld has passed (the current epoch is %lld)", what,
                       (long long)p->start_epoch, (long long)vm->epoch);
  if (p->end_epoch - p->start_epoch > 5 * 365 * st_network_epochs_per_day(vm->net))
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: the deal lasts %lld epochs, more than 5 years", what,
                       (long long)(p->end_epoch - p->start_epoch));
  if (p->piece_size > sector_size)
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT,
                       "%s: PieceSize %llu is larger than the provider's %llu-byte sectors", what,
                       (unsigned long long)p->piece_size, (unsigned long long)sector_size);
  st_code code = st_deal_proposal_cid(p, pc, &err);
  if (code) return st_vm_fail(c, code, &err);
  for (size_t k = 0; k < m->ndeals; k++)
    if (st_cid_equal(&m->deals[k].proposal_cid, pc))
      return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: this proposal is already published as deal %llu", what,
                         (unsigned long long)m->deals[k].id);
  return ST_EXIT_OK;
}

/* Whether a party's free escrow (escrow - locked) covers need; the refusal names need as the
 * deal's ("<lead> <need><tail>"). */
static int64_t require_free(st_vm_call *c, const char *what, const char *who, const st_market_balance *b,
                            const mpz_t need, const char *lead, const char *tail) {
  mpz_t avail;
  mpz_init(avail);
  mpz_sub(avail, b->escrow, b->locked);
  int64_t exit = ST_EXIT_OK;
  if (mpz_cmp(avail, need) < 0) {
    char *h = amount_text(avail), *n = amount_text(need);
    exit = st_vm_abort(c, ST_EXIT_INSUFFICIENT_FUNDS, "%s: %s t0%llu has %s attoFIL free in market escrow, %s %s%s",
                       what, who, (unsigned long long)b->id, h, lead, n, tail);
    free(h);
    free(n);
  }
  mpz_clear(avail);
  return exit;
}

/* A verified deal spends the client's datacap. */
static int64_t spend_datacap(st_vm_call *c, const char *what, st_verifreg_state *v, const st_deal_proposal *p,
                             uint64_t client_id) {
  st_verifreg_entry *vc = st_verifreg_find(v->clients, v->nclients, client_id);
  if (!vc || mpz_cmp_ui(vc->amount, p->piece_size) < 0) {
    char *h = vc ? amount_text(vc->amount) : NULL;
    int64_t exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT,
                               "%s: the verified deal of %llu bytes exceeds client t0%llu's datacap of %s bytes", what,
                               (unsigned long long)p->piece_size, (unsigned long long)client_id, h ? h : "0");
    free(h);
    return exit;
  }
  mpz_sub_ui(vc->amount, vc->amount, p->piece_size);
  if (!mpz_sgn(vc->amount)) st_verifreg_entry_remove(v->clients, &v->nclients, client_id);
  return ST_EXIT_OK;
}

/* The new deal, with Client and Provider as ID addresses. */
static int64_t add_deal(st_vm_call *c, const char *what, st_market_state *m, const st_deal_proposal *p,
                        uint64_t client_id, uint64_t provider, const st_cid *pc) {
  st_market_deal *nd = st_market_deal_append(m);
  if (!nd) return st_vm_fail(c, ST_ENOMEM, NULL);
  nd->id = m->next_deal_id++;
  st_deal_proposal_copy(&nd->proposal, p);
  nd->proposal_cid = *pc;
  st_err err;
  st_code code = st_address_from_id(client_id, &nd->proposal.client, &err);
  if (!code) code = st_address_from_id(provider, &nd->proposal.provider, &err);
  return code ? st_vm_error(c, code, &err, what) : ST_EXIT_OK;
}

/* One proposal against the state as the batch has changed it so far: checked, then the client
 * locks price x duration + its collateral, the provider its collateral. */
static int64_t check_deal(st_vm_call *c, size_t i, st_client_deal *d, st_market_state *m, st_verifreg_state *v,
                          uint64_t provider, uint64_t sector_size) {
  const st_deal_proposal *p = &d->proposal;
  char what[64];
  snprintf(what, sizeof what, "PublishStorageDeals: deal %zu", i);
  uint64_t client_id = 0;
  st_cid pc;
  int64_t exit = check_proposal(c, what, d, m, provider, sector_size, &client_id, &pc);
  if (exit) return exit;
  mpz_t need;
  mpz_init(need);
  st_deal_client_lock(p, need);
  st_market_balance *cb = st_market_balance_add(m, client_id), *pb = cb ? st_market_balance_add(m, provider) : NULL;
  cb = pb ? st_market_balance_add(m, client_id) : NULL; /* the array may have moved */
  if (!cb || !pb) exit = st_vm_fail(c, ST_ENOMEM, NULL);
  if (!exit)
    exit = require_free(c, what, "client", cb, need, "the deal locks", " (price x duration + client collateral)");
  if (!exit) exit = require_free(c, what, "provider", pb, p->provider_collateral, "its collateral is", "");
  if (!exit && p->verified) exit = spend_datacap(c, what, v, p, client_id);
  if (!exit) {
    mpz_add(cb->locked, cb->locked, need);
    mpz_add(pb->locked, pb->locked, p->provider_collateral);
    exit = add_deal(c, what, m, p, client_id, provider, &pc);
  }
  mpz_clear(need);
  return exit;
}

int64_t st_market_publish_storage_deals(st_vm_call *c) {
  st_vm_params rd;
  st_vm_params_init(&rd, c->msg);
  uint64_t n = 0;
  st_code code = st_cbor_expect_array(&rd.r, 1, "PublishStorageDealsParams");
  if (!code) code = st_cbor_read_array(&rd.r, &n);
  if (!code && (n == 0 || n > 256))
    code = st_err_set(&rd.err, ST_EINVAL, "%llu deals: publish 1 to 256", (unsigned long long)n);
  st_client_deal *deals = code ? NULL : calloc(n, sizeof *deals);
  if (!code && !deals) return st_vm_fail(c, ST_ENOMEM, NULL);
  for (uint64_t i = 0; i < n && deals; i++) st_deal_proposal_init(&deals[i].proposal);
  for (uint64_t i = 0; i < n && !code; i++)
    if ((code = st_client_deal_read(&rd.r, &deals[i]))) st_err_wrap(&rd.err, code, "deal %llu", (unsigned long long)i);
  if (!code) code = st_cbor_finish(&rd.r);
  int64_t exit = code ? st_vm_bad_params(c, &rd, "PublishStorageDeals") : ST_EXIT_OK;
  st_state_actor *prov = NULL;
  if (!exit) exit = resolve(c, "PublishStorageDeals", "provider", &deals[0].proposal.provider, false, true, &prov);
  uint64_t provider = prov ? prov->id : 0;
  uint64_t sector_size = 0;
  if (!exit) exit = require_miner_caller(c, "PublishStorageDeals", provider, NULL, &sector_size);
  st_market_state m;
  st_verifreg_state v;
  st_market_state_init(&m);
  st_verifreg_state_init(&v);
  if (!exit) exit = load_market(c, "PublishStorageDeals", &m);
  if (!exit) exit = load_verifreg(c, "PublishStorageDeals", &v);
  uint64_t first = m.next_deal_id;
  bool verified = false;
  for (uint64_t i = 0; i < n && !exit; i++) {
    exit = check_deal(c, i, &deals[i], &m, &v, provider, sector_size);
    verified |= deals[i].proposal.verified;
  }
  if (!exit) exit = store_market(c, "PublishStorageDeals", &m);
  if (!exit && verified) exit = store_verifreg(c, "PublishStorageDeals", &v);
  if (!exit) {
    /* PublishStorageDealsReturn: [IDs, ValidDeals] (every deal is valid, or none is published) */
    st_cbor_put_array(&c->ret, 2);
    st_cbor_put_array(&c->ret, n);
    for (uint64_t i = 0; i < n; i++) st_cbor_put_uint(&c->ret, first + i);
    st_bitfield all = ST_BITFIELD_INIT;
    if (st_bitfield_set_range(&all, 0, n, NULL)) c->ret.failed = true; /* st_vm_run refuses a failed return */
    st_chain_put_bitfield(&c->ret, &all);
    st_bitfield_free(&all);
  }
  for (uint64_t i = 0; i < n && deals; i++) st_deal_proposal_clear(&deals[i].proposal);
  free(deals);
  st_market_state_free(&m);
  st_verifreg_state_free(&v);
  return exit;
}

/* ---------------------------------------------------------------- verified registry methods */

static int64_t require_root(st_vm_call *c, const char *method) {
  int64_t root = c->vm->net->verifreg_root;
  if (!root)
    return st_vm_abort(c, ST_EXIT_FORBIDDEN,
                       "%s: this network has no verified registry root key (genesis --verifreg-root)", method);
  if (c->from != (uint64_t)root)
    return st_vm_abort(c, ST_EXIT_FORBIDDEN, "%s: caller t0%llu is not the root key t0%lld", method,
                       (unsigned long long)c->from, (long long)root);
  return ST_EXIT_OK;
}

/* As builtin-actors' resolve_to_actor_id: a key address with no actor yet gets its account
 * actor first (what a send of 0 FIL to it would make), so a new key can be named a verifier or
 * a client without being funded first. Other addresses resolve as resolve does. */
static int64_t resolve_creating(st_vm_call *c, const char *method, const char *what, const st_address *a,
                                st_state_actor **out) {
  st_addr_protocol p = st_address_protocol(a);
  if ((p == ST_ADDR_SECP256K1 || p == ST_ADDR_BLS) && st_state_lookup(c->vm->state, a, out, NULL)) {
    st_err err;
    c->gas += ST_GAS_CREATE_ACTOR;
    st_code code = st_state_create(c->vm->state, ST_STATE_NEW_ID, ST_ACTOR_ACCOUNT, a, out, &err);
    if (code) return st_vm_fail(c, code, &err);
  }
  return resolve(c, method, what, a, true, false, out);
}

/* [Address, Allowance] for AddVerifier and AddVerifiedClient. */
static int64_t read_grant(st_vm_call *c, const char *method, const char *what, uint64_t *id, mpz_t amount) {
  st_vm_params rd;
  st_vm_params_init(&rd, c->msg);
  st_address a;
  st_code code = st_cbor_expect_array(&rd.r, 2, method);
  if (!code) code = st_address_read(&rd.r, &a);
  if (!code) code = st_cbor_read_bigint(&rd.r, amount);
  if (!code) code = st_cbor_finish(&rd.r);
  if (code) return st_vm_bad_params(c, &rd, method);
  if (mpz_sgn(amount) <= 0)
    return st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: the allowance must be positive", method);
  st_state_actor *x;
  int64_t exit = resolve_creating(c, method, what, &a, &x);
  if (!exit) *id = x->id;
  if (!exit && *id == (uint64_t)c->vm->net->verifreg_root)
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: the root key cannot be a %s", method, what);
  return exit;
}

int64_t st_verifreg_add_verifier(st_vm_call *c) {
  uint64_t id = 0;
  mpz_t amount;
  mpz_init(amount);
  int64_t exit = require_root(c, "AddVerifier");
  if (!exit) exit = read_grant(c, "AddVerifier", "verifier", &id, amount);
  st_verifreg_state v;
  st_verifreg_state_init(&v);
  if (!exit) exit = load_verifreg(c, "AddVerifier", &v);
  if (!exit && st_verifreg_find(v.clients, v.nclients, id))
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "AddVerifier: t0%llu is a verified client and cannot be a verifier",
                       (unsigned long long)id);
  st_verifreg_entry *e = NULL;
  if (!exit && !(e = st_verifreg_entry_add(&v.verifiers, &v.nverifiers, id))) exit = st_vm_fail(c, ST_ENOMEM, NULL);
  if (!exit) {
    mpz_set(e->amount, amount);
    exit = store_verifreg(c, "AddVerifier", &v);
  }
  st_verifreg_state_free(&v);
  mpz_clear(amount);
  return exit;
}

int64_t st_verifreg_remove_verifier(st_vm_call *c) {
  st_vm_params rd;
  st_vm_params_init(&rd, c->msg);
  st_address a;
  st_code code = st_address_read(&rd.r, &a);
  if (!code) code = st_cbor_finish(&rd.r);
  int64_t exit = require_root(c, "RemoveVerifier");
  if (!exit && code) exit = st_vm_bad_params(c, &rd, "RemoveVerifier");
  st_state_actor *x = NULL;
  if (!exit) exit = resolve(c, "RemoveVerifier", "verifier", &a, true, false, &x);
  st_verifreg_state v;
  st_verifreg_state_init(&v);
  if (!exit) exit = load_verifreg(c, "RemoveVerifier", &v);
  if (!exit && !st_verifreg_find(v.verifiers, v.nverifiers, x->id))
    exit = st_vm_abort(c, ST_EXIT_NOT_FOUND, "RemoveVerifier: t0%llu is not a verifier", (unsigned long long)x->id);
  if (!exit) {
    st_verifreg_entry_remove(v.verifiers, &v.nverifiers, x->id);
    exit = store_verifreg(c, "RemoveVerifier", &v);
  }
  st_verifreg_state_free(&v);
  return exit;
}

int64_t st_verifreg_add_verified_client(st_vm_call *c) {
  uint64_t id = 0;
  mpz_t amount;
  mpz_init(amount);
  int64_t exit = read_grant(c, "AddVerifiedClient", "client", &id, amount);
  st_verifreg_state v;
  st_verifreg_state_init(&v);
  if (!exit) exit = load_verifreg(c, "AddVerifiedClient", &v);
  st_verifreg_entry *ver = exit ? NULL : st_verifreg_find(v.verifiers, v.nverifiers, c->from);
  if (!exit && !ver)
    exit = st_vm_abort(c, ST_EXIT_FORBIDDEN, "AddVerifiedClient: caller t0%llu is not a verifier",
                       (unsigned long long)c->from);
  if (!exit && st_verifreg_find(v.verifiers, v.nverifiers, id))
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "AddVerifiedClient: t0%llu is a verifier and cannot be a client",
                       (unsigned long long)id);
  if (!exit && mpz_cmp(ver->amount, amount) < 0) {
    char *h = amount_text(ver->amount), *w = amount_text(amount);
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT,
                       "AddVerifiedClient: verifier t0%llu has an allowance of %s bytes, less than the %s asked",
                       (unsigned long long)c->from, h, w);
    free(h);
    free(w);
  }
  if (!exit) {
    mpz_sub(ver->amount, ver->amount, amount);
    uint64_t vid = ver->id;
    if (!mpz_sgn(ver->amount)) st_verifreg_entry_remove(v.verifiers, &v.nverifiers, vid);
    st_verifreg_entry *cl = st_verifreg_entry_add(&v.clients, &v.nclients, id);
    if (!cl) exit = st_vm_fail(c, ST_ENOMEM, NULL);
    else mpz_add(cl->amount, cl->amount, amount);
  }
  if (!exit) exit = store_verifreg(c, "AddVerifiedClient", &v);
  st_verifreg_state_free(&v);
  mpz_clear(amount);
  return exit;
}

/* ---------------------------------------------------------------- for the miner actor */

/* The deal's client and provider: ID addresses, as the market stores them. */
static st_code deal_parties(const st_market_deal *d, uint64_t *client, uint64_t *prov, st_err *err) {
  st_code code = st_address_id(&d->proposal.client, client, err);
  if (!code) code = st_address_id(&d->proposal.provider, prov, err);
  return code ? st_err_wrap(err, code, "deal %llu", (unsigned long long)d->id) : ST_OK;
}

int64_t st_market_verify_deals(st_vm_call *c, const char *method, uint64_t miner, const st_bitfield *deals,
                               uint64_t sector_size, int64_t expiration, uint8_t comm_d[32]) {
  st_market_state m;
  st_market_state_init(&m);
  int64_t exit = load_market(c, method, &m);
  size_t n = (size_t)st_bitfield_count(deals);
  st_piece *pieces = exit || !n ? NULL : calloc(n, sizeof *pieces);
  if (!exit && n && !pieces) exit = st_vm_fail(c, ST_ENOMEM, NULL);
  st_bitfield_iter it;
  uint64_t id;
  size_t k = 0;
  st_bitfield_iter_init(&it, deals);
  st_err err;
  while (!exit && st_bitfield_iter_next(&it, &id)) {
    const st_market_deal *d = st_market_deal_of(&m, id);
    uint64_t client = 0, prov = 0;
    st_code code = d ? deal_parties(d, &client, &prov, &err) : ST_OK;
    if (!d) exit = st_vm_abort(c, ST_EXIT_NOT_FOUND, "%s: deal %llu does not exist", method, (unsigned long long)id);
    else if (code) exit = st_vm_error(c, code, &err, method);
    else if (prov != miner)
      exit = st_vm_abort(c, ST_EXIT_FORBIDDEN, "%s: deal %llu belongs to provider t0%llu, not t0%llu", method,
                         (unsigned long long)id, (unsigned long long)prov, (unsigned long long)miner);
    else if (d->sector_start >= 0)
      exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: deal %llu is already active in sector %llu", method,
                         (unsigned long long)id, (unsigned long long)d->sector);
    else if (d->proposal.start_epoch <= c->vm->epoch)
      exit =
          st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: deal %llu started at epoch %lld, before its sector was proven",
                      method, (unsigned long long)id, (long long)d->proposal.start_epoch);
    else if (d->proposal.end_epoch > expiration)
      exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT,
                         "%s: deal %llu ends at epoch %lld, after the sector's Expiration %lld", method,
                         (unsigned long long)id, (long long)d->proposal.end_epoch, (long long)expiration);
    else {
      memcpy(pieces[k].comm_p, d->proposal.piece_cid.digest, 32);
      pieces[k++].size = d->proposal.piece_size;
    }
  }
  if (!exit && st_commd_of_pieces(sector_size, pieces, k, comm_d, NULL, &err))
    exit = st_vm_abort(c, ST_EXIT_ILLEGAL_ARGUMENT, "%s: the deals' pieces: %s", method, err.msg);
  free(pieces);
  st_market_state_free(&m);
  return exit;
}

int64_t st_market_activate_deals(st_vm_call *c, const st_bitfield *deals, uint64_t sector, mpz_t deal_weight,
                                 mpz_t verified_weight) {
  mpz_set_ui(deal_weight, 0);
  mpz_set_ui(verified_weight, 0);
  if (!st_bitfield_count(deals)) return ST_EXIT_OK;
  st_market_state m;
  st_market_state_init(&m);
  int64_t exit = load_market(c, "ProveCommitSector", &m);
  st_bitfield_iter it;
  uint64_t id;
  st_bitfield_iter_init(&it, deals);
  mpz_t w;
  mpz_init(w);
  while (!exit && st_bitfield_iter_next(&it, &id)) {
    st_market_deal *d = st_market_deal_of(&m, id);
    if (!d) {
      exit = st_vm_abort(c, ST_EXIT_NOT_FOUND, "ProveCommitSector: deal %llu does not exist", (unsigned long long)id);
      break;
    }
    d->sector_start = c->vm->epoch;
    d->sector = sector;
    mpz_set_ui(w, d->proposal.piece_size);
    mpz_mul_si(w, w, d->proposal.end_epoch - c->vm->epoch);
    mpz_ptr sum = d->proposal.verified ? verified_weight : deal_weight;
    mpz_add(sum, sum, w);
  }
  mpz_clear(w);
  if (!exit) exit = store_market(c, "ProveCommitSector", &m);
  st_market_state_free(&m);
  return exit;
}

st_code st_market_sectors_terminated(st_vm *vm, uint64_t miner, const st_bitfield *deals, int64_t epoch, st_err *err) {
  if (!st_bitfield_count(deals)) return ST_OK;
  st_market_state m;
  st_code code = st_market_load(vm->env, vm->state, &m, err);
  st_bitfield_iter it;
  uint64_t id, client, prov;
  st_bitfield_iter_init(&it, deals);
  while (!code && st_bitfield_iter_next(&it, &id)) {
    st_market_deal *d = st_market_deal_of(&m, id);
    if (!d || d->sector_start < 0 || d->slash_epoch >= 0 || d->proposal.end_epoch <= epoch) continue;
    code = deal_parties(d, &client, &prov, err);
    if (!code && prov == miner) d->slash_epoch = epoch;
  }
  if (!code) code = save_market(vm, &m, NULL, err);
  st_market_state_free(&m);
  return code;
}

/* Moves amount of a's escrow and locked funds: to b's escrow (b != 0) or burnt. */
static st_code pay(st_vm *vm, st_market_state *m, uint64_t a, uint64_t b, const mpz_t amount, st_err *err) {
  if (!mpz_sgn(amount)) return ST_OK;
  st_market_balance *x = st_market_balance_add(m, a);
  if (!x) return st_err_set(err, ST_ENOMEM, "out of memory");
  mpz_sub(x->escrow, x->escrow, amount);
  mpz_sub(x->locked, x->locked, amount);
  if (!b) return st_state_transfer(vm->state, ST_ID_MARKET, ST_ID_BURNT, amount, err);
  st_market_balance *y = st_market_balance_add(m, b);
  if (!y) return st_err_set(err, ST_ENOMEM, "out of memory");
  mpz_add(y->escrow, y->escrow, amount);
  return ST_OK;
}

static st_code unlock(st_market_state *m, uint64_t a, const mpz_t amount, st_err *err) {
  st_market_balance *x = st_market_balance_add(m, a);
  if (!x) return st_err_set(err, ST_ENOMEM, "out of memory");
  mpz_sub(x->locked, x->locked, amount);
  return ST_OK;
}

/* The market and the registry as cron changes them. */
typedef struct market_cron {
  st_vm *vm;
  st_market_state m;
  st_verifreg_state v;
  bool changed, v_loaded, v_changed;
} market_cron;

/* A deal not activated by its start epoch: the client gets everything back (its datacap too, for
 * a verified deal), the provider's collateral is burnt. */
static st_code drop_unactivated(market_cron *mc, const st_deal_proposal *p, uint64_t client, uint64_t prov,
                                st_err *err) {
  mpz_t amt;
  mpz_init(amt);
  st_deal_client_lock(p, amt);
  st_code code = unlock(&mc->m, client, amt, err);
  if (!code) code = pay(mc->vm, &mc->m, prov, 0, p->provider_collateral, err);
  mpz_clear(amt);
  if (code || !p->verified) return code;
  if (!mc->v_loaded && !(code = st_verifreg_load(mc->vm->env, mc->vm->state, &mc->v, err))) mc->v_loaded = true;
  st_verifreg_entry *e = code ? NULL : st_verifreg_entry_add(&mc->v.clients, &mc->v.nclients, client);
  if (!code && !e) code = st_err_set(err, ST_ENOMEM, "out of memory");
  if (!code) mpz_add_ui(e->amount, e->amount, p->piece_size);
  mc->v_changed = true;
  return code;
}

/* An active deal at epoch: the client pays the provider up to epoch (or the slash epoch). A deal
 * terminated early gives the client the unpaid rest and its collateral back and burns the
 * provider's; an ended one unlocks both collaterals. Both are then *done. */
static st_code settle_active(market_cron *mc, st_market_deal *d, uint64_t client, uint64_t prov, int64_t epoch,
                             bool *done, st_err *err) {
  const st_deal_proposal *p = &d->proposal;
  int64_t upto = epoch < p->end_epoch ? epoch : p->end_epoch;
  if (d->slash_epoch >= 0 && d->slash_epoch < upto) upto = d->slash_epoch;
  int64_t from = d->last_updated < p->start_epoch ? p->start_epoch : d->last_updated;
  mpz_t amt;
  mpz_init(amt);
  st_code code = ST_OK;
  if (upto > from) {
    mpz_mul_si(amt, p->price_per_epoch, upto - from);
    code = pay(mc->vm, &mc->m, client, prov, amt, err);
    d->last_updated = upto;
    mc->changed = true;
  }
  if (!code && d->slash_epoch >= 0) {
    mpz_mul_si(amt, p->price_per_epoch, p->end_epoch - upto);
    mpz_add(amt, amt, p->client_collateral);
    code = unlock(&mc->m, client, amt, err);
    if (!code) code = pay(mc->vm, &mc->m, prov, 0, p->provider_collateral, err);
    *done = true;
  } else if (!code && epoch >= p->end_epoch) {
    code = unlock(&mc->m, client, p->client_collateral, err);
    if (!code) code = unlock(&mc->m, prov, p->provider_collateral, err);
    *done = true;
  }
  mpz_clear(amt);
  return code;
}

st_code st_market_cron(st_vm *vm, int64_t epoch, st_err *err) {
  if (!vm->env) return ST_OK;
  market_cron mc = {.vm = vm};
  st_code code = st_market_load(vm->env, vm->state, &mc.m, err);
  st_verifreg_state_init(&mc.v);
  for (size_t i = 0; i < mc.m.ndeals && !code;) {
    st_market_deal *d = &mc.m.deals[i];
    uint64_t client = 0, prov = 0;
    bool done = false;
    if (epoch >= d->proposal.start_epoch) code = deal_parties(d, &client, &prov, err);
    if (!code && epoch >= d->proposal.start_epoch && d->sector_start < 0) {
      code = drop_unactivated(&mc, &d->proposal, client, prov, err);
      done = true;
    } else if (!code && epoch >= d->proposal.start_epoch) {
      code = settle_active(&mc, d, client, prov, epoch, &done, err);
    }
    if (done) {
      st_market_deal_remove(&mc.m, i);
      mc.changed = true;
    } else {
      i++;
    }
  }
  if (!code && mc.changed) code = save_market(vm, &mc.m, NULL, err);
  if (!code && mc.v_changed) code = save_verifreg(vm, &mc.v, NULL, err);
  st_verifreg_state_free(&mc.v);
  st_market_state_free(&mc.m);
  return code ? st_err_wrap(err, code, "market cron at epoch %lld", (long long)epoch) : ST_OK;
}
