/* st_client_store: the client's records on real SQLite in a temporary repo. Checked: open
 * makes <repo>/client/client.db; imports are recorded once per piece and path; deals are listed
 * oldest first and a proposal CID is recorded once; the latest deal names a piece's miner;
 * everything is there again after a reopen; each bad field of a row is refused with an error
 * naming it, and writes nothing; a repo that cannot hold the folder names the file; outputs are
 * empty after a failure. */
#include "testutil.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/st_client_store.h"

#define PIECE "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq"
#define PIECE2 "baga6ea4seaqhrssc3qiwe6pysl6fh7haebi2oyfbbupgpsiem4vyopuabatlgoa"
#define PROPOSAL "bafyreigdmqpykrgxyaxtlafqpqhzrb7qy2rh75nldvfd4tucqgz7b3ypxm"
#define PROPOSAL2 "bafy2bzacecesrkxghscnq7vatble2hqdvwat6ed23vdu4vvo3uuggsoaya7ki"

static char repo[256];

static int setup(void **state) {
  (void)state;
  tu_tmpdir(repo);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  tu_rmdir(repo);
  return 0;
}

static st_client_store *open_ok(void) {
  st_client_store *s;
  st_err err;
  if (st_client_store_open(repo, &s, &err)) fail_msg("open: %s", err.msg);
  return s;
}

static st_client_deal_record deal_at(const char *proposal, const char *miner, const char *piece, int64_t created) {
  st_client_deal_record d = {.piece_size = 2048,
                             .payload_size = 1500,
                             .verified = true,
                             .start_epoch = 100,
                             .end_epoch = 1400,
                             .created = created};
  snprintf(d.proposal_cid, sizeof d.proposal_cid, "%s", proposal);
  snprintf(d.miner, sizeof d.miner, "%s", miner);
  snprintf(d.client, sizeof d.client, "t0100");
  snprintf(d.piece_cid, sizeof d.piece_cid, "%s", piece);
  snprintf(d.path, sizeof d.path, "/data/file");
  snprintf(d.price, sizeof d.price, "1000");
  return d;
}

static void assert_deal_equal(const st_client_deal_record *got, const st_client_deal_record *want) {
#define F(name) offsetof(st_client_deal_record, name)
  static const size_t TEXT[] = {F(proposal_cid), F(miner), F(client), F(piece_cid), F(path), F(price)};
  static const size_t NUMBERS[] = {F(piece_size), F(payload_size), F(start_epoch), F(end_epoch), F(created)};
#undef F
  const char *g = (const char *)got, *w = (const char *)want;
  for (size_t i = 0; i < sizeof TEXT / sizeof TEXT[0]; i++) assert_string_equal(g + TEXT[i], w + TEXT[i]);
  for (size_t i = 0; i < sizeof NUMBERS / sizeof NUMBERS[0]; i++)
    assert_memory_equal(g + NUMBERS[i], w + NUMBERS[i], 8);
  assert_int_equal(got->verified, want->verified);
}

static size_t count_deals(st_client_store *s) {
  st_client_deal_record *v;
  size_t n;
  st_err err;
  if (st_client_store_deals(s, &v, &n, &err)) fail_msg("deals: %s", err.msg);
  free(v);
  return n;
}

static void test_imports(void **state) {
  (void)state;
  st_client_store *s = open_ok();
  char db[300];
  struct stat st;
  snprintf(db, sizeof db, "%s/client/client.db", repo);
  assert_int_equal(stat(db, &st), 0);
  st_client_import *v;
  size_t n;
  st_err err;
  assert_int_equal(st_client_store_imports(s, &v, &n, &err), ST_OK);
  assert_null(v);
  assert_int_equal(n, 0);

  st_client_import a = {.piece_cid = PIECE, .piece_size = 2048, .payload_size = 1500, .path = "/data/a", .created = 10};
  assert_int_equal(st_client_store_add_import(s, &a, &err), ST_OK);
  a.created = 20; /* the same piece from the same path: nothing changes */
  assert_int_equal(st_client_store_add_import(s, &a, &err), ST_OK);
  st_client_import b = {.piece_cid = PIECE, .piece_size = 2048, .payload_size = 1500, .path = "/data/b", .created = 15};
  assert_int_equal(st_client_store_add_import(s, &b, &err), ST_OK);
  assert_int_equal(st_client_store_imports(s, &v, &n, &err), ST_OK);
  assert_int_equal(n, 2);
  assert_string_equal(v[0].path, "/data/a");
  assert_int_equal(v[0].created, 10);
  assert_int_equal(v[0].piece_size, 2048);
  assert_int_equal(v[0].payload_size, 1500);
  assert_string_equal(v[0].piece_cid, PIECE);
  assert_string_equal(v[1].path, "/data/b");
  free(v);
  st_client_store_close(s);

  /* after a reopen */
  s = open_ok();
  assert_int_equal(st_client_store_imports(s, &v, &n, &err), ST_OK);
  assert_int_equal(n, 2);
  free(v);
  st_client_store_close(s);
}

static void test_deals(void **state) {
  (void)state;
  st_client_store *s = open_ok();
  st_err err;
  char miner[ST_ADDR_STR_MAX];
  bool found = true;
  assert_int_equal(st_client_store_miner_of(s, PIECE, miner, &found, &err), ST_OK);
  assert_false(found);
  assert_string_equal(miner, "");

  st_client_deal_record d1 = deal_at(PROPOSAL, "t01000", PIECE, 200), d2 = deal_at(PROPOSAL2, "t01001", PIECE, 300);
  d2.verified = false;
  assert_int_equal(st_client_store_add_deal(s, &d2, &err), ST_OK);
  assert_int_equal(st_client_store_add_deal(s, &d1, &err), ST_OK);
  assert_int_equal(st_client_store_add_deal(s, &d1, &err), ST_EEXIST);
  tu_assert_err_contains(&err, "deal record: proposal_cid " PROPOSAL " is recorded already");

  st_client_deal_record *v;
  size_t n;
  assert_int_equal(st_client_store_deals(s, &v, &n, &err), ST_OK);
  assert_int_equal(n, 2);
  /* oldest first, every field as written */
  assert_deal_equal(&v[0], &d1);
  assert_string_equal(v[1].proposal_cid, PROPOSAL2);
  assert_false(v[1].verified);
  free(v);
  assert_int_equal(st_client_store_miner_of(s, PIECE, miner, &found, &err), ST_OK);
  assert_true(found);
  assert_string_equal(miner, "t01001"); /* the latest deal's */
  st_client_store_close(s);

  s = open_ok();
  assert_int_equal(count_deals(s), 2);
  assert_int_equal(st_client_store_miner_of(s, PIECE2, miner, &found, &err), ST_OK);
  assert_false(found);
  st_client_store_close(s);
}

/* Each bad field is refused, named, and nothing is written. */
static void test_bad_rows(void **state) {
  (void)state;
  st_client_store *s = open_ok();
  size_t before = count_deals(s);
  static const struct {
    const char *field, *value, *want;
  } cases[] = {
      {"proposal_cid", "", "deal record: proposal_cid \"\" is not a CID"},
      {"proposal_cid", "bafynot", "deal record: proposal_cid \"bafynot\" is not a CID"},
      {"miner", "x01000", "deal record: miner \"x01000\" is not an address"},
      {"client", "", "deal record: client \"\" is not an address"},
      {"piece_cid", PROPOSAL, "deal record: piece_cid \"" PROPOSAL "\" is not a piece CID (baga6ea4sea...)"},
      {"price", "1.5", "deal record: price \"1.5\" is not a decimal number of attoFIL"},
      {"price", "", "deal record: price \"\" is not a decimal number of attoFIL"},
      {"path", "", "deal record: path is empty"},
  };
  st_err err;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    st_client_deal_record d =
        deal_at("bafy2bzaceaedeg5tgky4udzmvwwkit3hlkqazu2hqztl2isdci3mfah2qwo7u", "t01000", PIECE, 1);
    char *at = !strcmp(cases[i].field, "proposal_cid") ? d.proposal_cid
               : !strcmp(cases[i].field, "miner")      ? d.miner
               : !strcmp(cases[i].field, "client")     ? d.client
               : !strcmp(cases[i].field, "piece_cid")  ? d.piece_cid
               : !strcmp(cases[i].field, "price")      ? d.price
                                                       : d.path;
    strcpy(at, cases[i].value);
    assert_int_equal(st_client_store_add_deal(s, &d, &err), ST_EINVAL);
    assert_string_equal(err.msg, cases[i].want);
  }
  st_client_deal_record d = deal_at(PROPOSAL2, "t01000", PIECE, 1);
  d.piece_size = 3000;
  assert_int_equal(st_client_store_add_deal(s, &d, &err), ST_EINVAL);
  assert_string_equal(err.msg, "deal record: piece_size 3000 is not a power of two from 128 to 2^62");
  d.piece_size = 64;
  assert_int_equal(st_client_store_add_deal(s, &d, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "piece_size 64 is not");
  d.piece_size = 2048, d.payload_size = 2033;
  assert_int_equal(st_client_store_add_deal(s, &d, &err), ST_EINVAL);
  assert_string_equal(err.msg, "deal record: payload_size 2033 does not fit a 2048-byte piece (at most 2032 bytes)");
  d.payload_size = 2032, d.end_epoch = d.start_epoch;
  assert_int_equal(st_client_store_add_deal(s, &d, &err), ST_EINVAL);
  assert_string_equal(err.msg, "deal record: end_epoch 100 is not after start_epoch 100");
  assert_int_equal(count_deals(s), before);

  st_client_import imp = {.piece_cid = "nonsense", .piece_size = 2048, .path = "/x"};
  assert_int_equal(st_client_store_add_import(s, &imp, &err), ST_EINVAL);
  assert_string_equal(err.msg, "import record: piece_cid \"nonsense\" is not a piece CID (baga6ea4sea...)");
  st_client_import *v;
  size_t n;
  assert_int_equal(st_client_store_imports(s, &v, &n, &err), ST_OK);
  for (size_t i = 0; i < n; i++) assert_string_not_equal(v[i].piece_cid, "nonsense");
  free(v);
  st_client_store_close(s);
}

static void test_open_fails(void **state) {
  (void)state;
  char file[300];
  snprintf(file, sizeof file, "%s/plain", repo);
  FILE *fp = fopen(file, "w");
  assert_non_null(fp);
  fclose(fp);
  st_client_store *s = (st_client_store *)1;
  st_err err;
  assert_int_not_equal(st_client_store_open(file, &s, &err), ST_OK);
  assert_null(s);
  char want[400];
  snprintf(want, sizeof want, "the client's records %s/client/client.db: ", file);
  assert_int_equal(strncmp(err.msg, want, strlen(want)), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_imports), cmocka_unit_test(test_deals),
                                     cmocka_unit_test(test_bad_rows), cmocka_unit_test(test_open_fails)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
