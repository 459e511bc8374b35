/* st_locator against a registry server on loopback (SQLite): a sector's files resolve under
 * the dist-path's <type>/<host> root of the node that holds them, or under <dist>/{sealed,cache}
 * without a registry; an unknown sector is an error, its paths empty; heartbeats go only for the nodes mounted
 * on this host, with the space found there. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "miner/st_locator.h"
#include "nodefx.h"
#include "registry/st_registry_server.h"

static void add_node(st_regc *reg, const char *host, st_storage_node *out) {
  st_storage_node node = {.group = 1, .weight = 10};
  snprintf(node.host, sizeof node.host, "%s", host);
  snprintf(node.mount_host, sizeof node.mount_host, "%s", host);
  snprintf(node.mount_type, sizeof node.mount_type, "nfs");
  st_err err;
  if (st_regc_node_add(reg, &node, out, &err)) fail_msg("add %s: %s", host, err.msg);
}

static void test_locator(void **state) {
  (void)state;
  char dir[256], dist[300], root[400], url[64];
  tu_tmpdir(dir);
  snprintf(dist, sizeof dist, "%s/dist", dir);
  st_err err;
  st_regc *reg;
  st_registry_server *srv = nf_registry_start(dir, "locator-test-token-0123", url, &reg);
  st_storage_node here, away, got;
  add_node(reg, "10.0.0.7", &here);
  add_node(reg, "10.0.0.8", &away);

  /* without a registry: the dist-path itself */
  st_locator local = {dist, NULL};
  st_sector_paths p;
  assert_int_equal(st_locator_locate(&local, 1000, 5, &p, &err), ST_OK);
  char want[600];
  snprintf(want, sizeof want, "%s/sealed/s-t01000-5", dist);
  assert_string_equal(p.sealed, want);
  size_t reported = 9;
  assert_int_equal(st_locator_heartbeat(&local, &reported, &err), ST_OK);
  assert_int_equal(reported, 0);

  /* through the registry: the node's root under this host's dist-path */
  st_locator l = {dist, reg};
  st_sector_location loc = {.miner = 1000, .sector = 5, .kind = ST_KIND_SEALED, .node = here.id, .primary = true};
  assert_int_equal(st_regc_declare(reg, &loc, &err), ST_OK);
  loc.kind = ST_KIND_CACHE;
  assert_int_equal(st_regc_declare(reg, &loc, &err), ST_OK);
  assert_int_equal(st_locator_locate(&l, 1000, 5, &p, &err), ST_OK);
  snprintf(want, sizeof want, "%s/nfs/10.0.0.7/cache/s-t01000-5", dist);
  assert_string_equal(p.cache, want);
  assert_int_not_equal(st_locator_locate(&l, 1000, 6, &p, &err), ST_OK);
  tu_assert_err_contains(&err, "t01000");
  assert_string_equal(p.sealed, ""); /* not sector 5's any more */
  assert_string_equal(p.cache, "");

  /* heartbeats: only 10.0.0.7 is mounted here */
  char nfs[400];
  snprintf(nfs, sizeof nfs, "%s/nfs", dist);
  snprintf(root, sizeof root, "%s/nfs/10.0.0.7", dist);
  assert_int_equal(mkdir(dist, 0755), 0);
  assert_int_equal(mkdir(nfs, 0755), 0);
  assert_int_equal(mkdir(root, 0755), 0);
  int64_t before = (int64_t)time(NULL);
  assert_int_equal(st_locator_heartbeat(&l, &reported, &err), ST_OK);
  assert_int_equal(reported, 1);
  assert_int_equal(st_regc_node_get(reg, here.id, &got, &err), ST_OK);
  assert_true(got.last_heartbeat >= before);
  assert_true(got.capacity > 0 && got.available > 0 && got.available <= got.capacity);
  assert_string_equal(got.heartbeat_err, "");
  assert_int_equal(st_regc_node_get(reg, away.id, &got, &err), ST_OK);
  assert_int_equal(got.last_heartbeat, 0);

  st_regc_close(reg);
  st_registry_server_stop(srv);
  tu_rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_locator)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
