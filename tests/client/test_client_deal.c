/* st_client_deal (with st_miner_client and st_client_market) against the in-process daemon of
 * tests/nodefx.c and a miner API served in-process over its own sealing database, as `spacetime
 * client` meets them. Checked, in order: import records the file's CommP; each refusal of
 * `client deal` that needs no miner says why (no default wallet address, a bad miner address, a
 * missing file, a zero duration, a miner that does not exist, one that announced no deal
 * address); once the miner announced its API on chain (ChangeMultiaddrs), the ask's limits
 * (a piece too large, a duration shorter than a sector's life), a manual piece CID that is not
 * one, a verified deal beyond the datacap and a deal beyond the free escrow are refused, each
 * leaving no record; AddBalance lands and the deal is proposed, taken by the miner and
 * recorded; the list shows the miner's state, or "(miner unreachable)" once its API is gone;
 * retrieval finds the miner in the records, and the miner's refusal (no sector holds the piece
 * yet) comes back with the piece named; the verified registry's messages reach its methods; the
 * sender is --from as given, and a bad one or a wallet without a default is refused. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/st_client_deal.h"
#include "client/st_client_market.h"
#include "codec/st_multiaddr.h"
#include "codec/st_token.h"
#include "miner/st_miner_api.h"
#include "miner/st_miner_msgs.h"
#include "nodefx.h"

#define SEAL_EPOCHS 10

static char repo[400], mrepo[400], file[400], big[400], from[ST_ADDR_STR_MAX];
static st_client_import imported;

static void write_file(const char *path, size_t n, uint8_t seed) {
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  for (size_t i = 0; i < n; i++) fputc((int)((i * 31 + seed) & 0xff), fp);
  fclose(fp);
}

static int setup(void **state) {
  nf_group_setup(state);
  nodefx *f = *state;
  snprintf(repo, sizeof repo, "%s/client-repo", f->dir);
  snprintf(mrepo, sizeof mrepo, "%s/miner", f->dir);
  snprintf(file, sizeof file, "%s/file", f->dir);
  snprintf(big, sizeof big, "%s/big", f->dir);
  write_file(file, 1000, 1); /* a 1 KiB piece */
  write_file(big, 3000, 2);  /* a 4 KiB piece: more than a 2 KiB sector holds */
  st_address_format(&f->account, 't', from, NULL);
  return 0;
}

/* The options of a deal of file to t01000 from the account, for duration epochs at price. */
typedef struct deal_args {
  st_client_deal_opts o;
  mpz_t price, pc, cc;
} deal_args;

static void args_init(deal_args *a, int64_t duration, unsigned long price) {
  mpz_init_set_ui(a->price, price);
  mpz_inits(a->pc, a->cc, NULL);
  a->o = (st_client_deal_opts){.file = file,
                               .miner = "t01000",
                               .from = from,
                               .price = a->price,
                               .provider_collateral = a->pc,
                               .client_collateral = a->cc,
                               .duration = duration};
}

static void args_clear(deal_args *a) { mpz_clears(a->price, a->pc, a->cc, NULL); }

/* The deal is refused with exactly want (or, want ending in '*', a message starting with it). */
static void refused(nodefx *f, const st_client_deal_opts *o, st_code code, const char *want) {
  st_client_proposed out;
  st_err err;
  assert_int_equal(st_client_propose(f->c, repo, o, &out, &err), code);
  size_t n = strlen(want);
  if (want[n - 1] == '*') {
    if (strncmp(err.msg, want, n - 1)) fail_msg("got \"%s\", want \"%s\"", err.msg, want);
  } else {
    assert_string_equal(err.msg, want);
  }
  assert_null(out.reply);
  assert_string_equal(out.deal.proposal_cid, "");
  st_client_proposed_free(&out);
}

static size_t recorded(nodefx *f) {
  st_client_deal_status *v;
  size_t n;
  st_err err;
  if (st_client_deals(f->c, repo, &v, &n, &err)) fail_msg("deals: %s", err.msg);
  free(v);
  return n;
}

static void test_import(void **state) {
  nodefx *f = *state;
  st_err err;
  assert_int_equal(st_client_import_file(repo, file, &imported, &err), ST_OK);
  assert_int_equal(imported.piece_size, 1024);
  assert_int_equal(imported.payload_size, 1000);
  assert_string_equal(imported.path, file);
  assert_int_equal(strncmp(imported.piece_cid, "baga6ea4sea", 11), 0);
  st_client_import again;
  char missing[450];
  snprintf(missing, sizeof missing, "%s/none", f->dir);
  assert_int_not_equal(st_client_import_file(repo, missing, &again, &err), ST_OK);
  tu_assert_err_contains(&err, missing);
  assert_string_equal(again.piece_cid, "");
}

static void test_refused_before_the_miner(void **state) {
  nodefx *f = *state;
  deal_args a;
  args_init(&a, 2000, 0);
  a.o.from = NULL; /* nodefx's wallet holds an imported key, and no default */
  refused(f, &a.o, ST_EINVAL, "WalletDefaultAddress: failed to get default key: key info not found");
  a.o.from = from;
  a.o.miner = "x01000";
  refused(f, &a.o, ST_EINVAL, "unknown address network 'x' (expected 't' or 'f')");
  a.o.miner = "t01000";
  char missing[450];
  snprintf(missing, sizeof missing, "%s/none", f->dir);
  a.o.file = missing;
  st_client_proposed out;
  st_err err;
  assert_int_not_equal(st_client_propose(f->c, repo, &a.o, &out, &err), ST_OK);
  tu_assert_err_contains(&err, missing);
  a.o.file = file;
  a.o.duration = 0;
  refused(f, &a.o, ST_EINVAL, "--duration must be at least 1 epoch");
  a.o.duration = 2000;
  refused(f, &a.o, ST_EINVAL, "StateMinerInfo: *");
  nf_create_miner(f);
  refused(f, &a.o, ST_ENOENT,
          "miner t01000: miner t01000 has announced no deal address on chain (is its 'spacetime-miner run' up?)");
  assert_int_equal(recorded(f), 0);
  args_clear(&a);
}

/* The miner API in-process, announced on chain as `spacetime-miner run` announces it. */
static st_miner_api *serve_miner(nodefx *f, st_miner_config *cfg) {
  st_err err;
  *cfg = (st_miner_config){.miner = NF_MINER, .owner = f->account, .worker = f->account, .info = nf_info2k()};
  assert_int_equal(st_miner_config_write(mrepo, cfg, &err), ST_OK);
  static st_miner_api_cfg ac;
  ac = (st_miner_api_cfg){.repo = mrepo,
                          .cfg = cfg,
                          .mode = "all",
                          .dist_path = f->store,
                          .node = &f->api,
                          .post = {.parallel = 1, .timeout_ms = 5000},
                          .listen = "127.0.0.1:0",
                          .deal_seal_epochs = SEAL_EPOCHS};
  st_miner_api *api;
  if (st_miner_api_start(&ac, &api, &err)) fail_msg("miner API: %s", err.msg);
  uint8_t bin[ST_MULTIADDR_MAX];
  size_t len;
  assert_int_equal(st_multiaddr_from_text(st_miner_api_addr(api), bin, sizeof bin, &len, &err), ST_OK);
  st_buf p = ST_BUF_INIT;
  st_params_change_multiaddrs(bin, len, &p);
  nf_send_ok(f, NF_MINER, ST_METHOD_CHANGE_MULTIADDRS, &p, "0");
  st_buf_free(&p);
  return api;
}

static void test_deal(void **state) {
  nodefx *f = *state;
  st_err err;
  st_miner_config cfg;
  st_miner_api *api = serve_miner(f, &cfg);

  /* the ask, as the flow reads it */
  st_miner_client m;
  st_miner_ask ask;
  assert_int_equal(st_miner_client_announced(f->c, "t01000", &m, &err), ST_OK);
  assert_int_equal(st_miner_client_ask(&m, &ask, &err), ST_OK);
  assert_int_equal(ask.max_piece, 2048);
  assert_int_equal(ask.start_delay, SEAL_EPOCHS);
  assert_true(ask.min_life > 0);
  char url[ST_APIINFO_ADDR_MAX];
  snprintf(url, sizeof url, "%s", m.url);
  st_miner_client_close(&m);

  deal_args a;
  args_init(&a, ask.min_life + 100, 1);
  char want[600];
  a.o.file = big;
  snprintf(want, sizeof want,
           "%s is 3000 bytes, a 4096-byte piece: miner t01000 takes pieces of at most 2048 bytes (2032 bytes of data)",
           big);
  refused(f, &a.o, ST_EINVAL, want);
  a.o.file = file;
  a.o.duration = 10;
  snprintf(want, sizeof want,
           "--duration 10 is too short: miner t01000's sectors live at least %lld epochs, and a deal lasts as long as "
           "its sector",
           (long long)ask.min_life);
  refused(f, &a.o, ST_EINVAL, want);
  a.o.duration = ask.min_life + 100;
  a.o.manual_piece_cid = "bafy2bzacecesrkxghscnq7vatble2hqdvwat6ed23vdu4vvo3uuggsoaya7ki";
  refused(f, &a.o, ST_EINVAL,
          "--manual-piece-cid bafy2bzacecesrkxghscnq7vatble2hqdvwat6ed23vdu4vvo3uuggsoaya7ki is not a piece CID");
  a.o.manual_piece_cid = NULL;
  a.o.verified = true;
  snprintf(want, sizeof want,
           "a verified deal of 1024 bytes exceeds %s's datacap of 0 bytes (a verifier grants it: 'spacetime filplus "
           "grant-datacap')",
           from);
  refused(f, &a.o, ST_EINVAL, want);
  a.o.verified = false;
  /* price x duration + collateral, in FIL */
  mpz_t need;
  mpz_init_set_ui(need, (unsigned long)a.o.duration);
  mpz_add_ui(need, need, 7);
  mpz_set_ui(a.cc, 7);
  char fil[96];
  st_fil_text(need, fil, sizeof fil);
  snprintf(want, sizeof want,
           "%s has 0 FIL free in market escrow, the deal locks %s (price x duration + collateral): add funds with "
           "'spacetime client add-balance'",
           from, fil);
  refused(f, &a.o, ST_EINVAL, want);
  assert_int_equal(recorded(f), 0);

  /* escrow through AddBalance, signed and sent by the node's wallet */
  st_message msg;
  mpz_set_ui(need, 1000000);
  assert_int_equal(st_client_add_balance_msg(&f->account, &f->account, need, &msg, &err), ST_OK);
  st_cid cid;
  assert_int_equal(st_node_push(f->c, &msg, NULL, &cid, &err), ST_OK);
  st_message_free(&msg);
  assert_int_equal(nf_landed(f, &cid), 0);
  mpz_t escrow, locked;
  mpz_inits(escrow, locked, NULL);
  assert_int_equal(st_node_market_balance(f->c, &f->account, escrow, locked, &err), ST_OK);
  assert_int_equal(mpz_get_ui(escrow), 1000000);
  mpz_clears(escrow, locked, need, NULL);

  /* the deal: taken by the miner, recorded */
  st_client_proposed out;
  if (st_client_propose(f->c, repo, &a.o, &out, &err)) fail_msg("propose: %s", err.msg);
  assert_string_equal(out.deal.state, "StorageDealPublish");
  assert_int_equal(out.deal.deal_id, -1);
  assert_string_equal(out.miner_url, url);
  assert_string_equal(json_string_value(json_object_get(out.reply, "ProposalCid")), out.deal.proposal_cid);
  const st_client_deal_record *r = &out.record;
  assert_string_equal(r->proposal_cid, out.deal.proposal_cid);
  assert_string_equal(r->miner, "t01000");
  assert_string_equal(r->client, from);
  assert_string_equal(r->piece_cid, imported.piece_cid);
  assert_int_equal(r->piece_size, 1024);
  assert_int_equal(r->payload_size, 1000);
  assert_string_equal(r->price, "1");
  assert_int_equal(r->end_epoch - r->start_epoch, a.o.duration);
  assert_true(r->start_epoch >= nf_height(f) + SEAL_EPOCHS);

  st_client_deal_status *v;
  size_t n;
  assert_int_equal(st_client_deals(f->c, repo, &v, &n, &err), ST_OK);
  assert_int_equal(n, 1);
  assert_true(v[0].reachable);
  assert_string_equal(v[0].deal.state, "StorageDealPublish");
  assert_string_equal(v[0].record.proposal_cid, out.deal.proposal_cid);
  assert_false(v[0].on_chain);
  free(v);

  /* retrieval: the records name the miner, which has no sealed copy yet */
  char back[450], piece[ST_CID_STR_MAX], used[ST_ADDR_STR_MAX];
  size_t bytes = 1;
  snprintf(back, sizeof back, "%s/back", f->dir);
  snprintf(piece, sizeof piece, "%s", r->piece_cid);
  assert_int_equal(st_client_retrieve(f->c, repo, piece, NULL, back, used, &bytes, &err), ST_EIO);
  snprintf(want, sizeof want, "retrieving %s from t01000: HTTP 404: {\"error\":\"miner t01000 stores no piece %s\"}",
           piece, piece); /* its sector is not placed yet */
  tu_assert_err_contains(&err, want);
  assert_string_equal(used, "t01000");
  assert_int_equal(bytes, 0);
  assert_int_equal(access(back, F_OK), -1);
  const char *other = "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq";
  assert_int_equal(st_client_retrieve(f->c, repo, other, NULL, back, used, &bytes, &err), ST_ENOENT);
  snprintf(want, sizeof want, "this client made no deal for %s: name the miner with --miner", other);
  assert_string_equal(err.msg, want);
  assert_int_equal(st_client_retrieve(f->c, repo, other, "t01000", back, used, &bytes, &err), ST_EIO);
  snprintf(want, sizeof want, "retrieving %s from t01000: HTTP 404: {\"error\":\"miner t01000 stores no piece %s\"}",
           other, other);
  tu_assert_err_contains(&err, want);
  st_client_proposed_free(&out);

  /* the miner gone: the list still shows the record */
  st_miner_api_stop(api);
  assert_int_equal(st_client_deals(f->c, repo, &v, &n, &err), ST_OK);
  assert_int_equal(n, 1);
  assert_false(v[0].reachable);
  assert_string_equal(v[0].deal.state, "(miner unreachable)");
  assert_int_equal(v[0].deal.deal_id, -1);
  free(v);
  args_clear(&a);
}

/* The verified registry's messages reach its methods with params they read: here nobody is a
 * verifier and the network has no root key, so each is refused by the node's estimate, naming
 * the method. */
static void test_verifreg_messages(void **state) {
  nodefx *f = *state;
  st_err err;
  st_message m;
  st_cid cid;
  assert_int_equal(st_client_verifreg_msg(&f->account, true, &f->account, 2048, &m, &err), ST_OK);
  assert_int_equal(m.to.len, 2); /* t06 */
  assert_int_equal(st_node_push(f->c, &m, NULL, &cid, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "AddVerifier: this network has no verified registry root key");
  st_message_free(&m);
  assert_int_equal(st_client_verifreg_msg(&f->account, false, &f->account, 2048, &m, &err), ST_OK);
  assert_int_equal(st_node_push(f->c, &m, NULL, &cid, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "AddVerifiedClient: caller t0100 is not a verifier");
  st_message_free(&m);
}

static void test_sender(void **state) {
  nodefx *f = *state;
  st_err err;
  st_address a, zero;
  memset(&zero, 0, sizeof zero);
  char text[ST_ADDR_STR_MAX];
  assert_int_equal(st_client_sender(f->c, from, &a, text, &err), ST_OK);
  assert_memory_equal(&a, &f->account, sizeof a);
  assert_string_equal(text, from);
  assert_int_equal(st_client_sender(f->c, "x0100", &a, text, &err), ST_EINVAL);
  assert_string_equal(err.msg, "unknown address network 'x' (expected 't' or 'f')");
  assert_memory_equal(&a, &zero, sizeof a);
  assert_string_equal(text, "");
  /* nodefx's wallet holds an imported key, and no default */
  assert_int_equal(st_client_sender(f->c, NULL, &a, text, &err), ST_EINVAL);
  assert_string_equal(err.msg, "WalletDefaultAddress: failed to get default key: key info not found");
  assert_memory_equal(&a, &zero, sizeof a);
  assert_string_equal(text, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_import), cmocka_unit_test(test_refused_before_the_miner),
                                     cmocka_unit_test(test_deal), cmocka_unit_test(test_verifreg_messages),
                                     cmocka_unit_test(test_sender)};
  return cmocka_run_group_tests(tests, setup, nf_group_teardown);
}
