/* Tests for st_registry: the path rule (the seed's row gives the seed's path), the field checks
 * that keep paths inside the dist-path, and the JSON forms. */
#include "testutil.h"

#include <string.h>

#include "registry/st_registry.h"

static st_storage_node seed_node(void) {
  st_storage_node n = {.id = 1, .group = 1, .weight = 10, .version = 1};
  strcpy(n.host, "10.10.4.23");
  strcpy(n.mount_host, "10.10.4.23");
  strcpy(n.mount_type, "nfs");
  return n;
}

static void test_path_rule(void **state) {
  (void)state;
  st_storage_node n = seed_node();
  char path[ST_REG_PATH_MAX];
  st_err err;
  assert_int_equal(st_reg_path("/mnt", &n, ST_KIND_CACHE, 1003, 2218, path, &err), ST_OK);
  assert_string_equal(path, "/mnt/nfs/10.10.4.23/cache/s-t01003-2218");
  assert_int_equal(st_reg_path("/mnt/", &n, ST_KIND_SEALED, 1003, 2218, path, &err), ST_OK);
  assert_string_equal(path, "/mnt/nfs/10.10.4.23/sealed/s-t01003-2218");
  assert_int_equal(st_reg_path("/", &n, ST_KIND_UNSEALED, 1000, 0, path, &err), ST_OK);
  assert_string_equal(path, "//nfs/10.10.4.23/unsealed/s-t01000-0");
  assert_int_equal(st_reg_path("", &n, ST_KIND_CACHE, 1, 1, path, &err), ST_EINVAL);
  tu_assert_zeroed(path, sizeof path); /* not the last path (st_err.h) */
  /* a node row that was tampered with in the database still cannot climb out */
  strcpy(n.host, "../../etc");
  tu_poison(path, sizeof path);
  assert_int_equal(st_reg_path("/mnt", &n, ST_KIND_CACHE, 1, 1, path, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "storage node 1: host \"../../etc\"");
  tu_assert_zeroed(path, sizeof path);
  tu_poison(path, sizeof path);
  assert_int_equal(st_reg_root("/mnt", &n, path, &err), ST_EINVAL);
  tu_assert_zeroed(path, sizeof path);
}

static void test_checks(void **state) {
  (void)state;
  st_err err;
  const char *good_hosts[] = {"10.10.4.23", "storage-01.example", "fe80::1", "node_7"};
  for (size_t i = 0; i < sizeof good_hosts / sizeof good_hosts[0]; i++)
    assert_int_equal(st_reg_check_host(good_hosts[i], "host", &err), ST_OK);
  struct {
    const char *s, *msg;
  } bad_hosts[] = {{"", "host is empty"},
                   {"..", "must not start with '.'"},
                   {"a..b", "must not contain \"..\""},
                   {"a/b", "has '/' at offset 1"},
                   {"-rf", "must not start with '-'"},
                   {"x'; DROP TABLE storage_nodes; --", "has ''' at offset 1"},
                   {"a b", "has ' ' at offset 1"},
                   {"a\nb", "byte 0x0a at offset 1"}};
  for (size_t i = 0; i < sizeof bad_hosts / sizeof bad_hosts[0]; i++) {
    assert_int_equal(st_reg_check_host(bad_hosts[i].s, "host", &err), ST_EINVAL);
    tu_assert_err_contains(&err, bad_hosts[i].msg);
  }
  char longhost[300];
  memset(longhost, 'a', 254);
  longhost[254] = 0;
  assert_int_equal(st_reg_check_host(longhost, "host", &err), ST_EINVAL);
  tu_assert_err_contains(&err, "254 characters long (at most 253)");
  assert_int_equal(st_reg_check_type("nfs", &err), ST_OK);
  assert_int_equal(st_reg_check_type("NFS", &err), ST_EINVAL);
  assert_int_equal(st_reg_check_type("nfs/..", &err), ST_EINVAL);
  assert_int_equal(st_reg_check_type("", &err), ST_EINVAL);

  uint64_t m;
  assert_int_equal(st_reg_parse_miner("t01003", &m, &err), ST_OK);
  assert_int_equal(m, 1003);
  assert_int_equal(st_reg_parse_miner("f01003", &m, &err), ST_OK);
  assert_int_equal(st_reg_parse_miner("1003", &m, &err), ST_OK);
  assert_int_equal(st_reg_parse_miner("t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq", &m, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "is not an ID address like t01003");
  assert_int_equal(st_reg_parse_miner("1003 OR 1=1", &m, &err), ST_EINVAL);
  /* the databases hold a miner in a signed 64-bit column */
  assert_int_equal(st_reg_parse_miner("9223372036854775807", &m, &err), ST_OK);
  assert_int_equal(st_reg_parse_miner("9223372036854775808", &m, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "is too large");
  assert_true(m == 0); /* a failure leaves 0, not the number it read (st_err.h) */
  m = 7;
  assert_int_equal(st_reg_parse_miner("t09223372036854775808", &m, &err), ST_EINVAL);
  assert_true(m == 0);
  m = 7;
  assert_int_equal(st_reg_parse_miner("t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq", &m, &err), ST_EINVAL);
  assert_true(m == 0);

  st_sector_kind k;
  assert_int_equal(st_sector_kind_parse("unsealed", &k, &err), ST_OK);
  assert_int_equal(k, ST_KIND_UNSEALED);
  assert_int_equal(st_sector_kind_parse("caches", &k, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "kind \"caches\" is not one of sealed, cache, unsealed");
  assert_int_equal(k, 0);
}

static json_t *parse(const char *text) {
  json_error_t je;
  json_t *j = json_loads(text, JSON_ALLOW_NUL, &je);
  assert_non_null(j);
  return j;
}

static void test_node_json(void **state) {
  (void)state;
  st_err err;
  st_storage_node n, back;
  json_t *j = parse("{\"host\":\"10.10.4.23\",\"mount_type\":\"nfs\"}");
  assert_int_equal(st_node_from_json(j, ST_NODE_NEW, &n, NULL, &err), ST_OK);
  json_decref(j);
  assert_string_equal(n.mount_host, "10.10.4.23"); /* defaults to host */
  assert_int_equal(n.group, 1);
  assert_int_equal(n.weight, 10);

  /* what the server writes reads back the same */
  n.id = 7;
  n.last_heartbeat = 1764000000;
  strcpy(n.heartbeat_err, "stale NFS handle");
  n.version = 3;
  j = st_node_to_json(&n);
  assert_int_equal(st_node_from_json(j, ST_NODE_STORED, &back, NULL, &err), ST_OK);
  json_decref(j);
  assert_memory_equal(&n, &back, sizeof n);

  struct {
    const char *json, *msg;
  } bad[] = {{"[]", "must be a JSON object"},
             {"{\"host\":\"a\"}", "field \"mount_type\" is missing"},
             {"{\"host\":\"a\",\"mount_type\":\"nfs\",\"group\":\"1\"}", "field \"group\" must be an integer"},
             {"{\"host\":\"a\",\"mount_type\":\"nfs\",\"group\":-1}", "field \"group\" is -1, outside"},
             {"{\"host\":\"a\",\"mount_type\":\"nfs\",\"colour\":1}", "unknown field \"colour\""},
             {"{\"host\":\"a/b\",\"mount_type\":\"nfs\"}", "host \"a/b\" has '/'"},
             {"{\"host\":\"a\",\"mount_host\":\"..\",\"mount_type\":\"nfs\"}", "mount_host \"..\" must not start"},
             {"{\"host\":\"a\",\"mount_type\":\"../x\"}", "mount_type \"../x\" has a bad character"},
             {"{\"host\":\"a\",\"mount_type\":\"nfs\",\"capacity\":10,\"available\":11}",
              "available (11) exceeds capacity (10)"},
             {"{\"host\":\"a\\u0000b\",\"mount_type\":\"nfs\"}", "contains a NUL character"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    j = parse(bad[i].json);
    tu_poison(&n, sizeof n);
    assert_int_equal(st_node_from_json(j, ST_NODE_NEW, &n, NULL, &err), ST_EINVAL);
    tu_assert_err_contains(&err, bad[i].msg);
    tu_assert_zeroed(&n, sizeof n); /* no half-read node (st_err.h) */
    json_decref(j);
  }
  n = seed_node();

  /* an update reads only what is there and says which */
  unsigned fields = 0;
  j = parse("{\"weight\":5,\"mount_type\":\"local\"}");
  assert_int_equal(st_node_from_json(j, ST_NODE_PATCH, &n, &fields, &err), ST_OK);
  json_decref(j);
  assert_int_equal(fields, (1u << 4) | (1u << 3));
  assert_int_equal(n.weight, 5);
  assert_string_equal(n.mount_type, "local");
  /* a failed update leaves the node as it was, not half patched, and no fields */
  st_storage_node before = n;
  j = parse("{\"weight\":6,\"mount_type\":\"../x\"}");
  assert_int_equal(st_node_from_json(j, ST_NODE_PATCH, &n, &fields, &err), ST_EINVAL);
  json_decref(j);
  assert_memory_equal(&n, &before, sizeof n);
  assert_int_equal(fields, 0);
}

static void test_location_json(void **state) {
  (void)state;
  st_err err;
  st_sector_location l;
  json_t *j = parse("{\"miner\":\"t01003\",\"sector\":2218,\"kind\":\"cache\",\"node\":1}");
  assert_int_equal(st_location_from_json(j, &l, &err), ST_OK);
  json_decref(j);
  assert_int_equal(l.miner, 1003);
  assert_int_equal(l.sector, 2218);
  assert_int_equal(l.kind, ST_KIND_CACHE);
  assert_true(l.primary);
  j = st_location_to_json(&l);
  char *text = json_dumps(j, JSON_COMPACT);
  assert_string_equal(text, "{\"miner\":\"t01003\",\"sector\":2218,\"kind\":\"cache\",\"node\":1,\"primary\":true}");
  free(text);
  json_decref(j);
  struct {
    const char *json, *msg;
  } bad[] = {{"{\"sector\":1,\"kind\":\"cache\",\"node\":1}", "field \"miner\" is missing"},
             {"{\"miner\":\"t01003; DROP TABLE x\",\"sector\":1,\"kind\":\"cache\",\"node\":1}", "not an ID address"},
             {"{\"miner\":\"t01003\",\"sector\":-1,\"kind\":\"cache\",\"node\":1}", "field \"sector\" is -1"},
             {"{\"miner\":\"t01003\",\"sector\":1,\"kind\":\"caches\",\"node\":1}", "kind \"caches\""},
             {"{\"miner\":\"t01003\",\"sector\":1,\"kind\":\"cache\",\"node\":0}", "field \"node\" is 0"},
             {"{\"miner\":\"t01003\",\"sector\":1,\"kind\":\"cache\",\"node\":1,\"primary\":1}",
              "\"primary\" must be true or false"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    j = parse(bad[i].json);
    tu_poison(&l, sizeof l);
    assert_int_equal(st_location_from_json(j, &l, &err), ST_EINVAL);
    tu_assert_err_contains(&err, bad[i].msg);
    tu_assert_zeroed(&l, sizeof l);
    json_decref(j);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_path_rule), cmocka_unit_test(test_checks),
                                     cmocka_unit_test(test_node_json), cmocka_unit_test(test_location_json)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
