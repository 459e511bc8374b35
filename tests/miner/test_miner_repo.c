/* The miner repo's config.json: a round trip through the file, and every kind of bad input
 * refused with the file and the key named, the config zeroed; a path too long for the repo. */
#include "testutil.h"

#include <string.h>

#include "miner/st_miner_repo.h"

static void test_round_trip(void **state) {
  (void)state;
  char dir[256], repo[300];
  tu_tmpdir(dir);
  snprintf(repo, sizeof repo, "%s/miner", dir);
  st_miner_config c = {.miner = 1003, .info = st_sector_by_size(2048)};
  st_err err;
  assert_int_equal(st_address_parse("t1d2xrzcslx7xlbbylc5c3d5lvandqw4iwl6epxba", &c.owner, NULL, &err), ST_OK);
  assert_int_equal(st_address_parse("t0100", &c.worker, NULL, &err), ST_OK);
  assert_int_equal(st_miner_config_write(repo, &c, &err), ST_OK);
  st_miner_config back;
  assert_int_equal(st_miner_config_read(repo, &back, &err), ST_OK);
  assert_int_equal(back.miner, 1003);
  assert_true(st_address_equal(&back.owner, &c.owner));
  assert_true(st_address_equal(&back.worker, &c.worker));
  assert_ptr_equal(back.info, c.info);
  /* a repo without a config says how to make one */
  char other[300];
  snprintf(other, sizeof other, "%s/none", dir);
  assert_int_equal(st_miner_config_read(other, &back, &err), ST_ENOENT);
  tu_assert_err_contains(&err, "spacetime-miner init --owner ADDR --repo");
  /* ... where it looked, and where a devnet keeps its miners */
  char want[400];
  snprintf(want, sizeof want, "no miner repo at %s (no config.json there): on a devnet, 'source DEVNET_DIR/env'",
           other);
  tu_assert_err_contains(&err, want);
  tu_assert_err_contains(&err, "or pass --repo DEVNET_DIR/miner-1 --node-repo DEVNET_DIR/node");
  assert_int_equal(back.miner, 0);
  assert_null(back.info);
  /* a name that does not fit */
  static char longname[ST_PATH_MAX];
  memset(longname, 'x', sizeof longname - 1);
  char path[ST_PATH_MAX];
  assert_int_equal(st_miner_repo_path(repo, longname, path, &err), ST_ERANGE);
  assert_string_equal(path, "");
  tu_rmdir(dir);
}

static void test_bad(void **state) {
  (void)state;
  static const struct {
    const char *text, *want;
  } cases[] = {
      {"", "x.json: not JSON"},
      {"[]", "must be a JSON object"},
      {"{\"Miner\":\"t01000\",\"Owner\":\"t0100\",\"Worker\":\"t0100\",\"SectorSize\":2048,\"Extra\":1}",
       "unknown key \"Extra\""},
      {"{\"Owner\":\"t0100\",\"Worker\":\"t0100\",\"SectorSize\":2048}", "\"Miner\" must be the miner's ID address"},
      {"{\"Miner\":\"t1abc\",\"Owner\":\"t0100\",\"Worker\":\"t0100\",\"SectorSize\":2048}", "\"Miner\" must be"},
      {"{\"Miner\":\"t01000\",\"Owner\":7,\"Worker\":\"t0100\",\"SectorSize\":2048}",
       "\"Owner\" must be an address string"},
      {"{\"Miner\":\"t01000\",\"Owner\":\"t0100\",\"Worker\":\"x9\",\"SectorSize\":2048}", "\"Worker\": "},
      {"{\"Miner\":\"t01000\",\"Owner\":\"t0100\",\"Worker\":\"t0100\",\"SectorSize\":3000}",
       "\"SectorSize\" must be a supported sector size"},
      {"{\"Miner\":\"t01000\",\"Owner\":\"t0100\",\"Worker\":\"t0100\"}", "\"SectorSize\""},
      {"{\"Miner\":\"t01000\",\"Miner\":\"t01001\",\"Owner\":\"t0100\",\"Worker\":\"t0100\",\"SectorSize\":2048}",
       "duplicate"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    st_miner_config c;
    memset(&c, 0x55, sizeof c);
    st_err err;
    if (st_miner_config_parse(cases[i].text, strlen(cases[i].text), "x.json", &c, &err) != ST_EINVAL)
      fail_msg("case %zu accepted", i);
    assert_int_equal(c.miner, 0); /* zeroed on failure, however far it got */
    assert_int_equal(c.owner.len, 0);
    assert_null(c.info);
    tu_assert_err_contains(&err, "x.json: ");
    tu_assert_err_contains(&err, cases[i].want);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_round_trip), cmocka_unit_test(test_bad)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
