/* Tests for the storage market and the verified registry on a real chain (tests/chainfx.c):
 * the root key adds a verifier, the verifier grants datacap; a client and the provider put
 * funds in escrow; a verified deal signed by the client is published, its piece sealed into a
 * 2 KiB sector with the deal's ID, and the sector's quality-adjusted power is 10x its raw
 * power; the client pays the provider every epoch from the deal's start. Each refusal (a wrong
 * signature, datacap or escrow short, a start epoch passed, a sector whose data is not the
 * deal's piece) gives its reason and leaves the market and the registry as they were. A deal
 * never activated by its start is dropped: the client's funds come back, the provider's
 * collateral is burnt. A deal whose sector is terminated (faulty too long) is paid up to then
 * and slashed. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "chainfx.h"

#include "chain/st_deal.h"
#include "chain/st_market.h"
#include "codec/st_cbor.h"
#include "codec/st_token.h"
#include "core/st_fs.h"
#include "crypto/st_secp.h"
#include "proofs/st_commp.h"

enum { PROVIDER = 0, CLIENT = 1, VERIFIER = 2, ROOT = 3 };
#define PRICE 1000 /* attoFIL per epoch */
#define PCOLL 100  /* provider collateral */
#define CCOLL 50   /* client collateral */

static void grant_params(const st_address *a, long amount, st_buf *p) {
  p->len = 0;
  mpz_t v;
  mpz_init_set_si(v, amount);
  st_cbor_put_array(p, 2);
  st_cbor_put_bytes(p, a->bytes, a->len);
  st_cbor_put_bigint(p, v);
  mpz_clear(v);
}

static void addr_params(const st_address *a, st_buf *p) {
  p->len = 0;
  st_cbor_put_bytes(p, a->bytes, a->len);
}

/* The heads of t05 and t06: equal heads mean nothing changed. */
static void heads(fx *f, st_cid out[2]) {
  st_state st;
  st_state_init(&st);
  assert_int_equal(st_chain_state(f->c, NULL, &st, NULL), ST_OK);
  out[0] = st_state_get(&st, ST_ID_MARKET)->head;
  out[1] = st_state_get(&st, ST_ID_VERIFREG)->head;
  st_state_clear(&st);
}

/* Runs the message on the head without keeping it and returns why it fails. */
static void dry_run(fx *f, int who, uint64_t to, uint64_t method, const st_buf *params, char why[ST_ERR_MSG_MAX]) {
  st_message m;
  st_message_init(&m);
  m.from = f->addr[who];
  st_address_from_id(to, &m.to, NULL);
  m.nonce = f->nonce[who];
  m.method = method;
  m.gas_limit = 1000000000;
  mpz_set_ui(m.gas_fee_cap, 1000);
  mpz_set_ui(m.gas_premium, 100);
  st_chain_bytes_set(&m.params, params->data, params->len, NULL);
  st_receipt rc;
  st_receipt_init(&rc);
  st_err err;
  assert_int_equal(st_chain_call(f->c, NULL, &m, st_message_size(&m) + 69, &rc, why, &err), ST_OK);
  assert_int_not_equal(rc.exit_code, 0);
  st_receipt_free(&rc);
  st_message_free(&m);
}

/* A refused message: its reason holds needle, its exit code is exit, and t05/t06 are unchanged. */
static void refused(fx *f, int who, uint64_t to, uint64_t method, const st_buf *params, int64_t exit,
                    const char *needle) {
  char why[ST_ERR_MSG_MAX];
  dry_run(f, who, to, method, params, why);
  if (!strstr(why, needle)) fail_msg("expected \"%s\" in \"%s\"", needle, why);
  print_message("refused: %s\n", why);
  st_cid before[2], after[2];
  heads(f, before);
  assert_int_equal(fx_call(f, who, to, method, params, "0"), exit);
  heads(f, after);
  assert_true(st_cid_equal(&before[0], &after[0]) && st_cid_equal(&before[1], &after[1]));
}

static void balance(fx *f, uint64_t id, long *escrow, long *locked) {
  st_market_state m;
  assert_int_equal(st_chain_market_state(f->c, NULL, &m, NULL), ST_OK);
  mpz_t e, l;
  mpz_inits(e, l, NULL);
  st_market_balance_of(&m, id, e, l);
  *escrow = mpz_get_si(e);
  *locked = mpz_get_si(l);
  mpz_clears(e, l, NULL);
  st_market_state_free(&m);
}

static long datacap(fx *f, uint64_t id, bool verifier) {
  st_verifreg_state v;
  assert_int_equal(st_chain_verifreg_state(f->c, NULL, &v, NULL), ST_OK);
  st_verifreg_entry *e =
      verifier ? st_verifreg_find(v.verifiers, v.nverifiers, id) : st_verifreg_find(v.clients, v.nclients, id);
  long n = e ? mpz_get_si(e->amount) : -1;
  st_verifreg_state_free(&v);
  return n;
}

/* A proposal for the piece (size: its padded size), signed by signer. */
static void propose(fx *f, const uint8_t comm_p[32], uint64_t size, bool verified, int64_t start, int64_t end,
                    long price, int signer, st_client_deal *d) {
  st_deal_proposal *p = &d->proposal;
  st_cid_of_commitment(comm_p, false, &p->piece_cid);
  p->piece_size = size;
  p->verified = verified;
  p->client = f->addr[CLIENT];
  st_address_from_id(FX_MINER, &p->provider, NULL);
  snprintf(p->label, sizeof p->label, "test piece");
  p->start_epoch = start;
  p->end_epoch = end;
  mpz_set_si(p->price_per_epoch, price);
  mpz_set_si(p->provider_collateral, PCOLL);
  mpz_set_si(p->client_collateral, CCOLL);
  st_buf b = ST_BUF_INIT;
  st_deal_proposal_encode(p, &b);
  uint8_t sig[ST_SECP_SIG_LEN];
  assert_int_equal(st_secp_sign(f->sk[signer], b.data, b.len, sig, NULL), ST_OK);
  assert_int_equal(st_signature_set(&d->signature, ST_SIG_SECP256K1, sig, sizeof sig, NULL), ST_OK);
  st_buf_free(&b);
}

/* Escrow: 1 FIL from the client, 1000 attoFIL of collateral from the provider's worker. */
static void fund(fx *f, st_buf *p) {
  addr_params(&f->addr[CLIENT], p);
  assert_int_equal(fx_call(f, CLIENT, ST_ID_MARKET, 2, p, "1000000000000000000"), 0);
  st_address miner;
  st_address_from_id(FX_MINER, &miner, NULL);
  addr_params(&miner, p);
  assert_int_equal(fx_call(f, PROVIDER, ST_ID_MARKET, 2, p, "1000"), 0);
}

/* The client's piece: n bytes (byte i is i * 7 + 3) in <dir>/piece, its comm_p and padded
 * size, and a 2 KiB sector holding it staged in <dir>/staged (whose comm_d it returns). */
static uint64_t piece_of(fx *f, size_t n, uint8_t comm_p[32], uint8_t comm_d[32], char staged[300]) {
  char data[300];
  snprintf(data, sizeof data, "%s/piece", f->dir);
  snprintf(staged, 300, "%s/staged", f->dir);
  uint8_t *raw = malloc(n);
  for (size_t i = 0; i < n; i++) raw[i] = (uint8_t)(i * 7 + 3);
  assert_int_equal(st_fs_write_atomic(data, raw, n, 0644, NULL), ST_OK);
  uint64_t padded;
  assert_int_equal(st_commp_of(raw, n, comm_p, &padded, NULL), ST_OK);
  free(raw);
  st_piece_file pf = {data, padded};
  assert_int_equal(st_stage_sector(staged, 2048, &pf, 1, comm_d, NULL), ST_OK);
  return padded;
}

static void publish_params(st_client_deal *deals, size_t n, st_buf *p) {
  p->len = 0;
  st_cbor_put_array(p, 1);
  st_cbor_put_array(p, n);
  for (size_t i = 0; i < n; i++) st_client_deal_encode(&deals[i], p, NULL);
  assert_false(p->failed);
}

static void test_verified_deal(void **state) {
  (void)state;
  fx *f = calloc(1, sizeof *f);
  fx_setup(f, 4, ROOT);
  fx_mine_to(f, 3);
  fx_create_miner(f, PROVIDER);
  uint64_t client = ST_ID_FIRST_ACCOUNT + CLIENT, verifier = ST_ID_FIRST_ACCOUNT + VERIFIER;
  st_buf p = ST_BUF_INIT;

  /* the registry: only the root adds verifiers; a verifier grants at most its allowance */
  grant_params(&f->addr[VERIFIER], 4096, &p);
  refused(f, CLIENT, ST_ID_VERIFREG, 2, &p, ST_EXIT_FORBIDDEN, "is not the root key");
  assert_int_equal(fx_call(f, ROOT, ST_ID_VERIFREG, 2, &p, "0"), 0);
  grant_params(&f->addr[CLIENT], 2048, &p);
  refused(f, ROOT, ST_ID_VERIFREG, 4, &p, ST_EXIT_FORBIDDEN, "is not a verifier");
  assert_int_equal(fx_call(f, VERIFIER, ST_ID_VERIFREG, 4, &p, "0"), 0);
  assert_int_equal(datacap(f, client, false), 2048);
  assert_int_equal(datacap(f, verifier, true), 2048);
  grant_params(&f->addr[CLIENT], 4096, &p);
  refused(f, VERIFIER, ST_ID_VERIFREG, 4, &p, ST_EXIT_ILLEGAL_ARGUMENT, "less than the 4096 asked");

  /* a key address with no actor yet gets its account, as in Filecoin: no funding first */
  uint8_t pub[65] = {4, 7, 7, 7};
  st_address fresh;
  st_address_from_secp256k1_pubkey(pub, &fresh);
  st_state st;
  st_state_init(&st);
  st_state_actor *none;
  assert_int_equal(st_chain_state(f->c, NULL, &st, NULL), ST_OK);
  assert_int_equal(st_state_lookup(&st, &fresh, &none, NULL), ST_ENOENT);
  grant_params(&fresh, 1024, &p);
  assert_int_equal(fx_call(f, ROOT, ST_ID_VERIFREG, 2, &p, "0"), 0);
  assert_int_equal(st_chain_state(f->c, NULL, &st, NULL), ST_OK);
  st_state_actor *made;
  assert_int_equal(st_state_lookup(&st, &fresh, &made, NULL), ST_OK);
  assert_int_equal(made->kind, ST_ACTOR_ACCOUNT);
  assert_int_equal(datacap(f, made->id, true), 1024);
  st_state_clear(&st);
  st_address id_only;
  st_address_from_id(77777, &id_only, NULL);
  grant_params(&id_only, 1024, &p);
  refused(f, ROOT, ST_ID_VERIFREG, 2, &p, ST_EXIT_NOT_FOUND, "verifier t077777 has no actor");

  fund(f, &p);
  long escrow, locked;
  balance(f, client, &escrow, &locked);
  assert_true(escrow == 1000000000000000000L && locked == 0);

  /* the client's piece: 1500 bytes, a 2048-byte piece that fills the sector */
  char staged[300];
  uint8_t comm_p[32], comm_d[32];
  assert_int_equal(piece_of(f, 1500, comm_p, comm_d, staged), 2048);
  assert_memory_equal(comm_d, comm_p, 32);

  int64_t h = fx_head_height(f), start = h + 60, end = h + 1700;
  st_client_deal d[2];
  for (int i = 0; i < 2; i++) st_deal_proposal_init(&d[i].proposal);

  /* refusals, each changing nothing */
  propose(f, comm_p, 2048, true, start, end, PRICE, VERIFIER, &d[0]);
  publish_params(d, 1, &p);
  refused(f, PROVIDER, ST_ID_MARKET, 4, &p, ST_EXIT_ILLEGAL_ARGUMENT, "is not signed by the client");
  propose(f, comm_p, 2048, true, start, end, PRICE, CLIENT, &d[0]);
  propose(f, comm_p, 2048, true, start, end + 1, PRICE, CLIENT, &d[1]);
  publish_params(d, 2, &p);
  refused(f, PROVIDER, ST_ID_MARKET, 4, &p, ST_EXIT_ILLEGAL_ARGUMENT,
          "deal 1: the verified deal of 2048 bytes exceeds client t0101's datacap of 0 bytes");
  propose(f, comm_p, 2048, true, fx_head_height(f), end, PRICE, CLIENT, &d[0]);
  publish_params(d, 1, &p);
  refused(f, PROVIDER, ST_ID_MARKET, 4, &p, ST_EXIT_ILLEGAL_ARGUMENT, "has passed");
  propose(f, comm_p, 2048, true, start, end, 1000000000000000L, CLIENT, &d[0]);
  publish_params(d, 1, &p);
  refused(f, PROVIDER, ST_ID_MARKET, 4, &p, ST_EXIT_INSUFFICIENT_FUNDS, "free in market escrow");
  propose(f, comm_p, 2048, true, start, end, PRICE, CLIENT, &d[0]);
  publish_params(d, 1, &p);
  refused(f, CLIENT, ST_ID_MARKET, 4, &p, ST_EXIT_FORBIDDEN, "is not the owner or worker");

  /* published: funds locked, datacap used */
  st_buf ret = ST_BUF_INIT;
  assert_int_equal(fx_call_ret(f, PROVIDER, ST_ID_MARKET, 4, &p, "0", &ret), 0);
  assert_true(ret.len >= 3 && ret.data[0] == 0x82 && ret.data[1] == 0x81 &&
              ret.data[2] == 0x00); /* [[0], ValidDeals] */
  balance(f, client, &escrow, &locked);
  assert_int_equal(locked, PRICE * (end - start) + CCOLL);
  balance(f, FX_MINER, &escrow, &locked);
  assert_true(escrow == 1000 && locked == PCOLL);
  assert_int_equal(datacap(f, client, false), -1);
  /* the same proposal twice is refused */
  refused(f, PROVIDER, ST_ID_MARKET, 4, &p, ST_EXIT_ILLEGAL_ARGUMENT, "is already published as deal 0");

  /* a sector whose data is not the deal's piece does not prove (its comm_d is the deals') */
  uint64_t deal0 = 0;
  fx_sector s;
  assert_int_equal(fx_precommit(f, 7, NULL, &deal0, 1, end, &s), 0);
  assert_int_equal(fx_prove_commit(f, &s, false), ST_EXIT_ILLEGAL_ARGUMENT);
  /* a deal may not end after its sector */
  assert_int_equal(fx_precommit(f, 8, staged, &deal0, 1, end - 1, &s), ST_EXIT_ILLEGAL_ARGUMENT);

  /* the piece's sector: 10x quality-adjusted power */
  assert_int_equal(fx_precommit(f, 1, staged, &deal0, 1, end, &s), 0);
  assert_int_equal(fx_prove_commit(f, &s, false), 0);
  st_power_state pw;
  assert_int_equal(st_chain_power_state(f->c, NULL, &pw, NULL), ST_OK);
  st_power_claim *claim = st_power_claim_of(&pw, FX_MINER);
  assert_int_equal(mpz_get_si(claim->raw), 2048);
  assert_int_equal(mpz_get_si(claim->qa), 10 * 2048);
  st_power_state_free(&pw);
  st_market_state m;
  assert_int_equal(st_chain_market_state(f->c, NULL, &m, NULL), ST_OK);
  assert_true(m.ndeals == 1 && m.deals[0].sector == 1 && m.deals[0].sector_start > 0 &&
              m.deals[0].sector_start < start);
  st_market_state_free(&m);

  /* payments: price x epochs since the start, client to provider */
  fx_mine_to(f, start + 9);
  int64_t now = fx_head_height(f);
  balance(f, client, &escrow, &locked);
  assert_int_equal(escrow, 1000000000000000000L - PRICE * (now - start));
  assert_int_equal(locked, PRICE * (end - now) + CCOLL);
  balance(f, FX_MINER, &escrow, &locked);
  assert_int_equal(escrow, 1000 + PRICE * (now - start));
  print_message("after %lld epochs of the deal: provider escrow %ld\n", (long long)(now - start), escrow);

  /* an unverified deal never activated: dropped at its start, the collateral burnt */
  int64_t start2 = now + 5;
  propose(f, comm_p, 2048, false, start2, end, PRICE, CLIENT, &d[0]);
  publish_params(d, 1, &p);
  assert_int_equal(fx_call(f, PROVIDER, ST_ID_MARKET, 4, &p, "0"), 0);
  int64_t t0 = fx_head_height(f);
  long locked0, pescrow0;
  balance(f, client, &escrow, &locked0);
  balance(f, FX_MINER, &pescrow0, &locked);
  assert_int_equal(locked, 2 * PCOLL);
  fx_mine_to(f, start2 + 1);
  int64_t t1 = fx_head_height(f);
  balance(f, client, &escrow, &locked);
  assert_int_equal(locked0 - locked, PRICE * (end - start2) + CCOLL + PRICE * (t1 - t0));
  balance(f, FX_MINER, &escrow, &locked);
  assert_int_equal(locked, PCOLL); /* the first deal's */
  assert_int_equal(escrow - pescrow0, PRICE * (t1 - t0) - PCOLL);
  assert_int_equal(st_chain_market_state(f->c, NULL, &m, NULL), ST_OK);
  assert_int_equal(m.ndeals, 1);
  st_market_state_free(&m);

  st_buf_free(&ret);
  for (int i = 0; i < 2; i++) st_deal_proposal_clear(&d[i].proposal);
  st_buf_free(&p);
  fx_teardown(f);
  free(f);
}

static void short_fault_age(st_network *net) { net->fault_max_age = 30; }

/* A sector never proven after its ProveCommit turns faulty and, past fault-max-age, is
 * terminated: its deal is paid up to then and slashed (the provider's collateral burnt, the
 * client's remaining funds unlocked), and the power goes. */
static void test_slashed_deal(void **state) {
  (void)state;
  fx *f = calloc(1, sizeof *f);
  fx_setup_net(f, 2, -1, short_fault_age);
  fx_mine_to(f, 3);
  fx_create_miner(f, PROVIDER);
  uint64_t client = ST_ID_FIRST_ACCOUNT + CLIENT;
  st_buf p = ST_BUF_INIT;
  fund(f, &p);
  char staged[300];
  uint8_t comm_p[32], comm_d[32];
  assert_int_equal(piece_of(f, 800, comm_p, comm_d, staged), 1024);
  int64_t h = fx_head_height(f), start = h + 40, end = h + 1700;
  st_client_deal d;
  st_deal_proposal_init(&d.proposal);
  propose(f, comm_p, 1024, false, start, end, PRICE, CLIENT, &d);
  publish_params(&d, 1, &p);
  assert_int_equal(fx_call(f, PROVIDER, ST_ID_MARKET, 4, &p, "0"), 0);
  uint64_t deal0 = 0;
  fx_sector s;
  assert_int_equal(fx_precommit(f, 1, staged, &deal0, 1, end, &s), 0);
  assert_int_equal(fx_prove_commit(f, &s, false), 0);
  /* half a sector of unverified data: 1x, the same as committed capacity */
  st_power_state pw;
  assert_int_equal(st_chain_power_state(f->c, NULL, &pw, NULL), ST_OK);
  assert_int_equal(mpz_get_si(st_power_claim_of(&pw, FX_MINER)->qa), 2048);
  st_power_state_free(&pw);
  long escrow0, locked0;
  balance(f, FX_MINER, &escrow0, &locked0);
  assert_int_equal(locked0, PCOLL);
  /* no WindowPoSt is ever sent: faulty at its deadline's end, terminated at a later end of it
   * once faulty for 30 epochs */
  st_market_state m;
  int64_t slashed = -1;
  for (int64_t e = fx_head_height(f) + 1; e < end && slashed < 0; e++) {
    fx_mine(f, e);
    assert_int_equal(st_chain_market_state(f->c, NULL, &m, NULL), ST_OK);
    if (!m.ndeals) slashed = fx_head_height(f);
    st_market_state_free(&m);
  }
  assert_true(slashed > start && slashed < end);
  long escrow, locked;
  balance(f, client, &escrow, &locked);
  long paid = 1000000000000000000L - escrow;
  assert_int_equal(locked, 0);
  assert_true(paid > 0 && paid % PRICE == 0 && paid < PRICE * (slashed - start + 2));
  balance(f, FX_MINER, &escrow, &locked);
  assert_int_equal(locked, 0);
  assert_int_equal(escrow, escrow0 + paid - PCOLL); /* paid up to the termination, the collateral burnt */
  print_message("deal slashed at %lld after %ld epochs paid\n", (long long)slashed, paid / PRICE);
  assert_int_equal(st_chain_power_state(f->c, NULL, &pw, NULL), ST_OK);
  assert_int_equal(mpz_get_si(st_power_claim_of(&pw, FX_MINER)->raw), 0);
  st_power_state_free(&pw);
  st_deal_proposal_clear(&d.proposal);
  st_buf_free(&p);
  fx_teardown(f);
  free(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_verified_deal), cmocka_unit_test(test_slashed_deal)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
