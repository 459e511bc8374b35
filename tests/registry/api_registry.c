/* The registry API suite: a real spacetime-server (in this process) on loopback, driven through
 * the C client over HTTP. It runs once on SQLite and, under with_postgres.sh, once on a real
 * PostgreSQL server (ST_TEST_PG), with the same assertions. Each test gets a fresh database. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/st_db.h"
#include "registry/st_registry_client.h"
#include "registry/st_registry_server.h"
#include "registry/st_registry_store.h"

#define TOKEN "test-token-0123456789abcdef"

typedef struct env {
  tu_test_db db;
  char url[64];
  st_registry_server *srv;
  st_regc *c;    /* with the token */
  st_regc *anon; /* without */
} env;

static void start(env *e) {
  st_err err;
  st_registry_server_opts o = {"127.0.0.1:0", e->db.url, TOKEN, 60, 4};
  if (st_registry_server_start(&o, &e->srv, &err)) fail_msg("start: %s", err.msg);
  snprintf(e->url, sizeof e->url, "http://127.0.0.1:%u", st_registry_server_port(e->srv));
  assert_int_equal(st_regc_open(e->url, TOKEN, &e->c, &err), ST_OK);
  assert_int_equal(st_regc_open(e->url, NULL, &e->anon, &err), ST_OK);
}

static void stop(env *e) {
  st_regc_close(e->c);
  st_regc_close(e->anon);
  st_registry_server_stop(e->srv);
  e->c = e->anon = NULL;
  e->srv = NULL;
}

static int setup(void **state) {
  env *e = calloc(1, sizeof *e);
  tu_test_db_new(&e->db, "reg");
  start(e);
  *state = e;
  return 0;
}

static int teardown(void **state) {
  env *e = *state;
  stop(e);
  tu_test_db_drop(&e->db);
  free(e);
  return 0;
}

static st_storage_node node_of(const char *host, int64_t group, const char *type) {
  st_storage_node n = {.group = group, .weight = 10};
  snprintf(n.host, sizeof n.host, "%s", host);
  snprintf(n.mount_host, sizeof n.mount_host, "%s", host);
  snprintf(n.mount_type, sizeof n.mount_type, "%s", type);
  return n;
}

static int64_t add_node(env *e, const char *host, int64_t group) {
  st_storage_node n = node_of(host, group, "nfs"), out;
  st_err err;
  if (st_regc_node_add(e->c, &n, &out, &err)) fail_msg("add %s: %s", host, err.msg);
  return out.id;
}

static void heartbeat(env *e, int64_t id, int64_t cap, int64_t avail) {
  st_err err;
  if (st_regc_heartbeat(e->c, id, cap, avail, NULL, NULL, &err)) fail_msg("heartbeat %lld: %s", (long long)id, err.msg);
}

/* Runs SQL on the test's database directly (to age a heartbeat, or to check rows). */
static void db_exec(env *e, const char *sql, st_db_rows *rows) {
  st_db *db;
  st_err err;
  if (st_db_open(e->db.url, &db, &err)) fail_msg("%s", err.msg);
  if (st_db_exec(db, sql, 0, NULL, rows, NULL, &err)) fail_msg("%s: %s", sql, err.msg);
  st_db_close(db);
}

static int64_t db_count(env *e, const char *sql) {
  st_db_rows rows;
  db_exec(e, sql, &rows);
  int64_t v = st_db_cell_i64(&rows, 0, 0);
  st_db_rows_free(&rows);
  return v;
}

/* ---- the seed ---- */

static void test_seed_row_and_path(void **state) {
  env *e = *state;
  st_err err;
  st_storage_node n = node_of("10.10.4.23", 1, "nfs"), out;
  assert_int_equal(st_regc_node_add(e->c, &n, &out, &err), ST_OK);
  assert_int_equal(out.id, 1);
  assert_int_equal(out.version, 1);
  st_sector_location l = {1003, 2218, ST_KIND_CACHE, out.id, true};
  assert_int_equal(st_regc_declare(e->c, &l, &err), ST_OK);
  char path[ST_REG_PATH_MAX];
  assert_int_equal(st_regc_resolve(e->anon, 1003, 2218, ST_KIND_CACHE, "/mnt", path, NULL, &err), ST_OK);
  assert_string_equal(path, "/mnt/nfs/10.10.4.23/cache/s-t01003-2218");
  /* the server resolves too, for a host that passes its dist-path */
  long status = 0;
  st_buf body = ST_BUF_INIT;
  assert_int_equal(
      st_regc_raw(e->anon, "GET", "/v0/paths/t01003/2218/cache?dist_path=/mnt", NULL, 0, &status, &body, &err), ST_OK);
  assert_int_equal(status, 200);
  assert_non_null(strstr(st_buf_cstr(&body), "\"path\":\"/mnt/nfs/10.10.4.23/cache/s-t01003-2218\""));
  assert_non_null(strstr(st_buf_cstr(&body), "\"relative\":\"nfs/10.10.4.23/cache/s-t01003-2218\""));
  st_buf_free(&body);
  /* no sealed file was declared */
  assert_int_equal(st_regc_resolve(e->anon, 1003, 2218, ST_KIND_SEALED, "/mnt", path, NULL, &err), ST_ENOENT);
  tu_assert_err_contains(&err, "sector 2218 of miner t01003 has no sealed file on any storage node");
}

/* ---- nodes ---- */

static void test_nodes_crud(void **state) {
  env *e = *state;
  st_err err;
  int64_t a = add_node(e, "10.0.0.1", 1), b = add_node(e, "10.0.0.2", 2);
  st_storage_node n = node_of("10.0.0.1", 1, "nfs"), out;
  tu_poison(&out, sizeof out);
  assert_int_equal(st_regc_node_add(e->c, &n, &out, &err), ST_ECONFLICT);
  tu_assert_err_contains(&err, "a storage node with host 10.0.0.1 and mount type nfs exists already");
  tu_assert_zeroed(&out, sizeof out);  /* a failed call's node is zero (st_err.h) */
  n = node_of("10.0.0.1", 1, "local"); /* same host, another mount type: a separate node */
  assert_int_equal(st_regc_node_add(e->c, &n, &out, &err), ST_OK);

  st_storage_node *list;
  size_t count;
  assert_int_equal(st_regc_nodes(e->anon, &list, &count, &err), ST_OK);
  assert_int_equal(count, 3);
  assert_int_equal(list[1].id, b);
  assert_int_equal(list[1].group, 2);
  free(list);

  /* updates bump the version; a stale version is refused */
  st_storage_node patch = {.weight = 50};
  assert_int_equal(st_regc_node_update(e->c, a, &patch, ST_NODE_F_WEIGHT, 1, &out, &err), ST_OK);
  assert_int_equal(out.version, 2);
  assert_int_equal(out.weight, 50);
  assert_string_equal(out.host, "10.0.0.1");
  assert_int_equal(st_regc_node_update(e->c, a, &patch, ST_NODE_F_WEIGHT, 1, &out, &err), ST_ECONFLICT);
  tu_assert_err_contains(&err, "is at version 2, not 1");
  tu_assert_zeroed(&out, sizeof out); /* not the node of the update before */
  snprintf(patch.host, sizeof patch.host, "10.0.0.2");
  assert_int_equal(st_regc_node_update(e->c, a, &patch, ST_NODE_F_HOST, 0, &out, &err),
                   ST_ECONFLICT); /* would collide with b */
  assert_int_equal(st_regc_node_get(e->anon, a, &out, &err), ST_OK);
  assert_string_equal(out.host, "10.0.0.1");
  assert_int_equal(out.version, 2);

  /* a node holding sectors is not removed by accident */
  st_sector_location l = {1000, 5, ST_KIND_SEALED, a, true};
  assert_int_equal(st_regc_declare(e->c, &l, &err), ST_OK);
  uint64_t dropped = 99;
  assert_int_equal(st_regc_node_remove(e->c, a, false, &dropped, &err), ST_ECONFLICT);
  tu_assert_err_contains(&err, "still holds 1 sector files");
  assert_int_equal(dropped, 0);
  assert_int_equal(st_regc_node_remove(e->c, a, true, &dropped, &err), ST_OK);
  assert_int_equal(dropped, 1);
  assert_int_equal(st_regc_node_get(e->anon, a, &out, &err), ST_ENOENT);
  tu_assert_err_contains(&err, "storage node 1 does not exist");
  tu_assert_zeroed(&out, sizeof out);
  assert_int_equal(st_regc_node_remove(e->c, a, false, NULL, &err), ST_ENOENT);
  assert_int_equal(db_count(e, "SELECT COUNT(*) FROM sector_locations"), 0);
  /* ids are never reused (PostgreSQL may skip some: a refused insert still draws one) */
  assert_true(add_node(e, "10.0.0.9", 1) >= 4);
}

static void test_locations(void **state) {
  env *e = *state;
  st_err err;
  int64_t a = add_node(e, "10.0.0.1", 1), b = add_node(e, "10.0.0.2", 1);
  st_sector_location l = {1003, 7, ST_KIND_SEALED, a, true};
  assert_int_equal(st_regc_declare(e->c, &l, &err), ST_OK);
  l.kind = ST_KIND_CACHE;
  assert_int_equal(st_regc_declare(e->c, &l, &err), ST_OK);
  assert_int_equal(st_regc_declare(e->c, &l, &err), ST_OK); /* declaring twice changes nothing */
  /* a new primary on b demotes a's copy */
  l.node = b;
  assert_int_equal(st_regc_declare(e->c, &l, &err), ST_OK);
  st_reg_found *f;
  size_t n;
  assert_int_equal(st_regc_find(e->anon, 1003, 7, &f, &n, &err), ST_OK);
  assert_int_equal(n, 3);
  int primaries_cache = 0;
  for (size_t i = 0; i < n; i++)
    if (f[i].loc.kind == ST_KIND_CACHE && f[i].loc.primary) {
      primaries_cache++;
      assert_int_equal(f[i].node.id, b);
      assert_string_equal(f[i].node.host, "10.0.0.2");
    }
  assert_int_equal(primaries_cache, 1);
  free(f);
  char path[ST_REG_PATH_MAX];
  assert_int_equal(st_regc_resolve(e->anon, 1003, 7, ST_KIND_CACHE, "/d", path, NULL, &err), ST_OK);
  assert_string_equal(path, "/d/nfs/10.0.0.2/cache/s-t01003-7");
  /* declaring on a node that does not exist writes nothing */
  l.node = 99;
  assert_int_equal(st_regc_declare(e->c, &l, &err), ST_ENOENT);
  tu_assert_err_contains(&err, "storage node 99 does not exist");
  /* drop one kind on one node, then the rest */
  uint64_t dropped = 0;
  assert_int_equal(st_regc_drop(e->c, 1003, 7, ST_KIND_CACHE, a, &dropped, &err), ST_OK);
  assert_int_equal(dropped, 1);
  assert_int_equal(st_regc_drop(e->c, 1003, 7, -1, 0, &dropped, &err), ST_OK);
  assert_int_equal(dropped, 2);
  assert_int_equal(st_regc_find(e->anon, 1003, 7, &f, &n, &err), ST_OK);
  assert_int_equal(n, 0);
  free(f);
}

/* ---- heartbeats and allocation ---- */

static void test_allocate(void **state) {
  env *e = *state;
  st_err err;
  const int64_t GiB = 1 << 30;
  int64_t a = add_node(e, "10.0.0.1", 1), b = add_node(e, "10.0.0.2", 1), c = add_node(e, "10.0.0.3", 2);
  st_reg_alloc req = {.miner = 1003, .sector = 1, .size = GiB, .group = -1};
  st_storage_node got;
  bool fresh = false;
  /* no heartbeat yet: nothing can be allocated, and the message says why */
  assert_int_equal(st_regc_allocate(e->c, &req, &got, &fresh, &err), ST_EUNAVAIL);
  tu_assert_err_contains(
      &err,
      "no storage node can take 1073741824 bytes: 3 nodes, 0 reporting an error, 3 without a heartbeat in the last 60 s");

  heartbeat(e, a, 100 * GiB, 10 * GiB);
  heartbeat(e, b, 100 * GiB, 50 * GiB);
  heartbeat(e, c, 100 * GiB, 90 * GiB);
  /* most space first within equal weight; group 2 only has c */
  assert_int_equal(st_regc_allocate(e->c, &req, &got, &fresh, &err), ST_OK);
  assert_true(fresh);
  assert_int_equal(got.id, c);
  assert_int_equal(got.available, 89 * GiB);
  req.sector = 2;
  req.group = 1;
  assert_int_equal(st_regc_allocate(e->c, &req, &got, &fresh, &err), ST_OK);
  assert_int_equal(got.id, b);
  /* asking again for a placed sector gives the same node and reserves nothing more */
  assert_int_equal(st_regc_allocate(e->c, &req, &got, &fresh, &err), ST_OK);
  assert_false(fresh);
  assert_int_equal(got.id, b);
  st_storage_node now;
  assert_int_equal(st_regc_node_get(e->c, b, &now, &err), ST_OK);
  assert_int_equal(now.available, 49 * GiB);
  /* both files were recorded */
  char path[ST_REG_PATH_MAX];
  assert_int_equal(st_regc_resolve(e->anon, 1003, 2, ST_KIND_SEALED, "/mnt", path, NULL, &err), ST_OK);
  assert_string_equal(path, "/mnt/nfs/10.0.0.2/sealed/s-t01003-2");

  /* a sector is placed once, whichever of its files is asked for first */
  st_reg_alloc cache_only = {.miner = 1003, .sector = 50, .size = GiB, .group = 1, .kinds = 1u << ST_KIND_CACHE};
  assert_int_equal(st_regc_allocate(e->c, &cache_only, &got, &fresh, &err), ST_OK);
  assert_true(fresh);
  int64_t placed = got.id, avail_after = got.available;
  st_reg_alloc sealed_only = cache_only;
  sealed_only.kinds = 1u << ST_KIND_SEALED;
  assert_int_equal(st_regc_allocate(e->c, &sealed_only, &got, &fresh, &err), ST_OK);
  assert_false(fresh);
  assert_int_equal(got.id, placed);
  assert_int_equal(st_regc_node_get(e->c, placed, &now, &err), ST_OK);
  assert_int_equal(now.available, avail_after);
  assert_int_equal(st_regc_resolve(e->anon, 1003, 50, ST_KIND_SEALED, "/mnt", path, NULL, &err), ST_OK);

  /* weight beats space */
  st_storage_node patch = {.weight = 100};
  assert_int_equal(st_regc_node_update(e->c, a, &patch, ST_NODE_F_WEIGHT, 0, &got, &err), ST_OK);
  req.sector = 3;
  assert_int_equal(st_regc_allocate(e->c, &req, &got, &fresh, &err), ST_OK);
  assert_int_equal(got.id, a);

  /* an error report or a stale heartbeat takes a node out */
  assert_int_equal(st_regc_heartbeat(e->c, a, 0, 0, "stale NFS file handle", &got, &err), ST_OK);
  assert_string_equal(got.heartbeat_err, "stale NFS file handle");
  assert_int_equal(got.capacity, 100 * GiB); /* the last sizes are kept */
  db_exec(e, "UPDATE storage_nodes SET last_heartbeat = last_heartbeat - 3600 WHERE id = 2", NULL);
  req.sector = 4;
  assert_int_equal(st_regc_allocate(e->c, &req, &got, &fresh, &err), ST_EUNAVAIL);
  tu_assert_err_contains(&err,
                         "in group 1 can take 1073741824 bytes: 2 nodes, 1 reporting an error, 1 without a heartbeat");
  /* a healthy report brings it back; too little space is named too */
  heartbeat(e, b, 100 * GiB, GiB / 2);
  assert_int_equal(st_regc_allocate(e->c, &req, &got, &fresh, &err), ST_EUNAVAIL);
  tu_assert_err_contains(&err, "1 with too little space");
  heartbeat(e, b, 100 * GiB, 2 * GiB);
  assert_int_equal(st_regc_allocate(e->c, &req, &got, &fresh, &err), ST_OK);
  assert_int_equal(got.id, b);
  /* a heartbeat must make sense */
  assert_int_equal(st_regc_heartbeat(e->c, b, 10, 11, NULL, NULL, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "available (11) must be between 0 and capacity (10)");
}

/* ---- bad input: a clear 4xx and nothing written ---- */

static char *snapshot(env *e) {
  st_db_rows rows;
  db_exec(
      e,
      "SELECT id, host, node_group, mount_host, mount_type, capacity, available, weight, version FROM storage_nodes ORDER BY id",
      &rows);
  st_buf b = ST_BUF_INIT;
  for (int r = 0; r < rows.nrows; r++)
    for (int c = 0; c < rows.ncols; c++)
      st_buf_printf(&b, "%s|", st_db_cell(&rows, r, c) ? st_db_cell(&rows, r, c) : "NULL");
  st_db_rows_free(&rows);
  db_exec(e,
          "SELECT miner, sector, kind, node_id, is_primary FROM sector_locations ORDER BY miner, sector, kind, node_id",
          &rows);
  for (int r = 0; r < rows.nrows; r++)
    for (int c = 0; c < rows.ncols; c++) st_buf_printf(&b, "%s;", st_db_cell(&rows, r, c));
  st_db_rows_free(&rows);
  return (char *)st_buf_take(&b, NULL);
}

static void expect(env *e, const char *method, const char *path, const char *body, long want, const char *msg) {
  long status = 0;
  st_buf resp = ST_BUF_INIT;
  st_err err;
  if (st_regc_raw(e->c, method, path, body, body ? strlen(body) : 0, &status, &resp, &err))
    fail_msg("%s %s: %s", method, path, err.msg);
  if (status != want || !strstr(st_buf_cstr(&resp), msg))
    fail_msg("%s %s %s: want %ld with \"%s\", got %ld %s", method, path, body ? body : "", want, msg, status,
             st_buf_cstr(&resp));
  st_buf_free(&resp);
}

static void test_bad_input(void **state) {
  env *e = *state;
  int64_t a = add_node(e, "10.0.0.1", 1);
  heartbeat(e, a, 1000, 1000);
  st_sector_location l = {1003, 1, ST_KIND_SEALED, a, true};
  st_err err;
  assert_int_equal(st_regc_declare(e->c, &l, &err), ST_OK);
  char *before = snapshot(e);

  expect(e, "POST", "/v0/storage-nodes", "{\"host\":", 400, "malformed JSON at line 1 column");
  expect(e, "POST", "/v0/storage-nodes", "", 400, "request body is empty");
  expect(e, "POST", "/v0/storage-nodes", "[1,2]", 400, "must be a JSON object");
  expect(e, "POST", "/v0/storage-nodes", "{\"host\":\"a\",\"host\":\"b\",\"mount_type\":\"nfs\"}", 400,
         "duplicate object key");
  expect(e, "POST", "/v0/storage-nodes", "{\"host\":\"..\",\"mount_type\":\"nfs\"}", 400, "must not start with '.'");
  expect(e, "POST", "/v0/storage-nodes", "{\"host\":\"a/b\",\"mount_type\":\"nfs\"}", 400, "has '/' at offset 1");
  expect(e, "POST", "/v0/storage-nodes", "{\"host\":\"x\",\"mount_type\":\"nfs/../..\"}", 400,
         "mount_type \\\"nfs/../..\\\" has a bad character");
  expect(e, "POST", "/v0/storage-nodes", "{\"host\":\"x'); DROP TABLE storage_nodes; --\",\"mount_type\":\"nfs\"}", 400,
         "has ''' at offset 1");
  expect(e, "POST", "/v0/storage-nodes", "{\"host\":\"x\",\"mount_type\":\"nfs' OR '1'='1\"}", 400, "bad character");
  expect(e, "POST", "/v0/storage-nodes", "{\"host\":\"x\",\"mount_type\":\"nfs\",\"id\":5}", 400,
         "unknown field \\\"id\\\"");
  expect(e, "PATCH", "/v0/storage-nodes/1", "{\"host\":\"a..b\"}", 400, "must not contain");
  expect(e, "PATCH", "/v0/storage-nodes/1", "{}", 400, "update names no field to change");
  expect(e, "PATCH", "/v0/storage-nodes/77", "{\"weight\":1}", 404, "storage node 77 does not exist");
  expect(e, "PATCH", "/v0/storage-nodes/1%20OR%201=1", "{\"weight\":1}", 400, "is not a positive integer");
  expect(e, "DELETE", "/v0/storage-nodes/0", NULL, 400, "is not a positive integer");
  expect(e, "DELETE", "/v0/storage-nodes/42", NULL, 404, "storage node 42 does not exist");
  expect(e, "POST", "/v0/storage-nodes/42/heartbeat", "{\"capacity\":1,\"available\":1}", 404,
         "storage node 42 does not exist");
  expect(e, "POST", "/v0/storage-nodes/1/heartbeat", "{\"capacity\":1}", 400, "field \\\"available\\\" is missing");
  expect(e, "POST", "/v0/sectors/locations", "{\"miner\":\"t01003\",\"sector\":1,\"kind\":\"cache\",\"node\":42}", 404,
         "storage node 42 does not exist");
  expect(e, "POST", "/v0/sectors/locations", "{\"miner\":\"t01003'--\",\"sector\":1,\"kind\":\"cache\",\"node\":1}",
         400, "not an ID address");
  expect(e, "POST", "/v0/sectors/locations", "{\"miner\":\"t01003\",\"sector\":1e3,\"kind\":\"cache\",\"node\":1}", 400,
         "must be an integer");
  expect(e, "GET", "/v0/sectors/t01003;DELETE/1", NULL, 400, "not an ID address");
  expect(e, "GET", "/v0/sectors/t01003/-1", NULL, 400, "is not a non-negative integer");
  expect(e, "DELETE", "/v0/sectors/t01003/1?kind=caches", NULL, 400, "kind \\\"caches\\\"");
  expect(e, "GET", "/v0/paths/t01003/1/sealed?dist_path=", NULL, 400, "dist-path is empty");
  expect(e, "GET", "/v0/paths/t01003/1/bogus", NULL, 400, "is not one of sealed, cache, unsealed");
  expect(e, "POST", "/v0/allocate", "{\"miner\":\"t01003\",\"sector\":9}", 400, "field \\\"size\\\" is missing");
  expect(e, "POST", "/v0/allocate", "{\"miner\":\"t01003\",\"sector\":9,\"size\":1,\"kinds\":[]}", 400,
         "non-empty array");
  expect(e, "POST", "/v0/allocate", "{\"miner\":\"t01003\",\"sector\":9,\"size\":1,\"kinds\":[\"x\"]}", 400,
         "kind \\\"x\\\"");
  expect(e, "POST", "/v0/storage-nodes/1/heartbeat", "{\"error\":\"\"}", 400, "field \\\"error\\\" is empty");
  expect(e, "POST", "/v0/storage-nodes/1/heartbeat", "{\"error\":\"x\",\"capacity\":5,\"available\":4}", 400,
         "not both");
  expect(e, "POST", "/v0/storage-nodes/1/heartbeat", "{\"capacity\":5000000000000000000,\"available\":0}", 400,
         "outside [0, 4611686018427387904]");
  expect(e, "POST", "/v0/storage-nodes", "{\"host\":\"x\",\"mount_type\":\"nfs\",\"weight\":1000001}", 400,
         "outside [0, 1000000]");
  /* bytes that are not UTF-8 still get a JSON error that names the field */
  expect(e, "GET", "/v0/sectors/%C3/1", NULL, 400, "miner \\\"?\\\" is not an ID address");
  expect(e, "GET", "/%FF", NULL, 404, "no endpoint GET /?");
  expect(e, "GET", "/v0/paths/t01003/1/sealed?dist_path=%FF", NULL, 400, "dist_path is not valid UTF-8");
  expect(e, "GET", "/v0/nothing", NULL, 404, "no endpoint GET /v0/nothing");
  expect(e, "PUT", "/v0/storage-nodes", "{}", 404, "no endpoint PUT");
  /* an oversized body is refused before it is read */
  size_t big = 200 * 1024;
  char *huge = malloc(big + 1);
  memset(huge, ' ', big);
  huge[0] = '{';
  huge[big - 1] = '}';
  huge[big] = 0;
  expect(e, "POST", "/v0/storage-nodes", huge, 413, "larger than the limit of 65536 bytes");
  free(huge);

  char *after = snapshot(e);
  assert_string_equal(before, after);
  free(before);
  free(after);
  /* and the server still works */
  char path[ST_REG_PATH_MAX];
  assert_int_equal(st_regc_resolve(e->anon, 1003, 1, ST_KIND_SEALED, "/mnt", path, NULL, &err), ST_OK);
}

static void test_auth(void **state) {
  env *e = *state;
  st_err err;
  st_storage_node n = node_of("10.0.0.1", 1, "nfs"), out;
  assert_int_equal(st_regc_node_add(e->anon, &n, &out, &err), ST_EPERM);
  tu_assert_err_contains(&err, "writes need \"Authorization: Bearer <token>\"");
  st_regc *wrong;
  assert_int_equal(st_regc_open(e->url, "not-the-token-at-all", &wrong, &err), ST_OK);
  assert_int_equal(st_regc_node_add(wrong, &n, &out, &err), ST_EPERM);
  tu_assert_err_contains(&err, "the bearer token does not match this server's");
  st_regc_close(wrong);
  assert_int_equal(db_count(e, "SELECT COUNT(*) FROM storage_nodes"), 0);
  /* reads are open on loopback */
  st_storage_node *list;
  size_t count;
  assert_int_equal(st_regc_nodes(e->anon, &list, &count, &err), ST_OK);
  free(list);
  long status = 0;
  st_buf body = ST_BUF_INIT;
  assert_int_equal(st_regc_raw(e->anon, "DELETE", "/v0/storage-nodes/1", NULL, 0, &status, &body, &err), ST_OK);
  assert_int_equal(status, 401);
  st_buf_free(&body);
}

static void test_health_metrics(void **state) {
  env *e = *state;
  st_err err;
  int schema = 0;
  assert_int_equal(st_regc_health(e->anon, &schema, &err), ST_OK);
  assert_int_equal(schema, ST_MIGRATIONS_COUNT);
  int64_t a = add_node(e, "10.0.0.1", 1);
  heartbeat(e, a, 4096, 1024);
  long status = 0;
  st_buf body = ST_BUF_INIT;
  assert_int_equal(st_regc_raw(e->anon, "GET", "/metrics", NULL, 0, &status, &body, &err), ST_OK);
  assert_int_equal(status, 200);
  const char *m = st_buf_cstr(&body);
  assert_non_null(strstr(m, "spacetime_registry_storage_nodes 1\n"));
  assert_non_null(
      strstr(m, "spacetime_registry_node_available_bytes{id=\"1\",host=\"10.0.0.1\",mount_type=\"nfs\"} 1024\n"));
  assert_non_null(strstr(m, "spacetime_registry_requests_total{route=\"node_add\",code=\"2xx\"} 1\n"));
  assert_non_null(strstr(m, "spacetime_registry_requests_total{route=\"heartbeat\",code=\"2xx\"} 1\n"));
  st_buf_free(&body);
}

/* ---- concurrency: 8 clients allocating and declaring ---- */

#define THREADS 8
#define OWN 20    /* sectors only this thread allocates */
#define SHARED 10 /* sectors every thread allocates */

typedef struct worker {
  const char *url;
  int index;
  int failures;
  char first_error[ST_ERR_MSG_MAX];
} worker;

static void *work(void *arg) {
  worker *w = arg;
  st_regc *c;
  st_err err;
  if (st_regc_open(w->url, TOKEN, &c, &err)) {
    w->failures++;
    return NULL;
  }
  for (int i = 0; i < OWN + SHARED; i++) {
    /* interleave own and shared sectors, so that threads collide on the shared ones */
    uint64_t sector = i % 3 == 0 && i / 3 < SHARED ? 100000 + (uint64_t)(i / 3) : (uint64_t)(w->index * 1000 + i);
    st_reg_alloc req = {.miner = 1003, .sector = sector, .size = 1000, .group = -1};
    st_storage_node node;
    st_code code = st_regc_allocate(c, &req, &node, NULL, &err);
    /* then declare the unsealed copy, as a sealer does after it writes the file */
    st_sector_location l = {1003, sector, ST_KIND_UNSEALED, node.id, true};
    if (!code) code = st_regc_declare(c, &l, &err);
    if (code && !w->failures++) snprintf(w->first_error, sizeof w->first_error, "%s", err.msg);
  }
  st_regc_close(c);
  return NULL;
}

static void test_concurrent(void **state) {
  env *e = *state;
  const int64_t cap = 1000000;
  for (int i = 0; i < 4; i++) {
    char host[32];
    snprintf(host, sizeof host, "10.0.1.%d", i + 1);
    heartbeat(e, add_node(e, host, 1), cap, cap);
  }
  pthread_t t[THREADS];
  worker w[THREADS];
  for (int i = 0; i < THREADS; i++) {
    w[i] = (worker){.url = e->url, .index = i + 1};
    pthread_create(&t[i], NULL, work, &w[i]);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < THREADS; i++)
    if (w[i].failures) fail_msg("worker %d: %d failures, first: %s", i, w[i].failures, w[i].first_error);
  int64_t sectors = THREADS * OWN + SHARED;
  /* every sector once, with exactly one primary of each kind, all on the same node */
  assert_int_equal(db_count(e, "SELECT COUNT(*) FROM (SELECT DISTINCT miner, sector FROM sector_locations) s"),
                   sectors);
  assert_int_equal(db_count(e, "SELECT COUNT(*) FROM sector_locations"), 3 * sectors);
  assert_int_equal(db_count(e, "SELECT COUNT(*) FROM sector_locations WHERE is_primary = 1"), 3 * sectors);
  assert_int_equal(db_count(e,
                            "SELECT COUNT(*) FROM (SELECT miner, sector FROM sector_locations GROUP BY miner, sector "
                            "HAVING COUNT(DISTINCT node_id) > 1) s"),
                   0);
  /* each placed sector reserved its size once, no more and no less */
  assert_int_equal(db_count(e, "SELECT SUM(capacity - available) FROM storage_nodes"), 1000 * sectors);
}

/* ---- failed calls ---- */

/* Every out of a failed call is zero (st_err.h), through the client and in the store: a node
 * that is not there, a heartbeat for it, an allocation with no node to take it, a path with no
 * file, a count from a drop that is refused, a server that cannot be reached. A failed add
 * leaves its node (an input too) as given. */
static void test_failed_calls_zero_outs(void **state) {
  env *e = *state;
  st_err err;
  st_storage_node out;
  tu_poison(&out, sizeof out);
  assert_int_equal(st_regc_heartbeat(e->c, 42, 10, 5, NULL, &out, &err), ST_ENOENT);
  tu_assert_zeroed(&out, sizeof out);
  st_reg_alloc req = {.miner = 1003, .sector = 1, .size = 1, .group = -1};
  bool allocated = true;
  tu_poison(&out, sizeof out);
  assert_int_equal(st_regc_allocate(e->c, &req, &out, &allocated, &err), ST_EUNAVAIL);
  tu_assert_zeroed(&out, sizeof out);
  assert_false(allocated);
  char path[ST_REG_PATH_MAX];
  tu_poison(path, sizeof path);
  tu_poison(&out, sizeof out);
  assert_int_equal(st_regc_resolve(e->anon, 1003, 1, ST_KIND_SEALED, "/d", path, &out, &err), ST_ENOENT);
  tu_assert_zeroed(path, sizeof path);
  tu_assert_zeroed(&out, sizeof out);
  uint64_t dropped = 7;
  assert_int_equal(st_regc_drop(e->c, 1003, 1, 7, 0, &dropped, &err), ST_EINVAL); /* no kind 7 */
  assert_int_equal(dropped, 0);

  st_db *db;
  assert_int_equal(st_db_open(e->db.url, &db, &err), ST_OK);
  tu_poison(&out, sizeof out);
  assert_int_equal(st_reg_node_get(db, 42, &out, &err), ST_ENOENT);
  tu_assert_zeroed(&out, sizeof out);
  tu_poison(&out, sizeof out);
  assert_int_equal(st_reg_node_heartbeat(db, 42, 10, 5, NULL, 1, &out, &err), ST_ENOENT);
  tu_assert_zeroed(&out, sizeof out);
  tu_poison(&out, sizeof out);
  assert_int_equal(st_reg_node_heartbeat(db, 42, 10, 50, NULL, 1, &out, &err), ST_EINVAL);
  tu_assert_zeroed(&out, sizeof out);
  st_storage_node patch = {.weight = 5};
  tu_poison(&out, sizeof out);
  assert_int_equal(st_reg_node_update(db, 42, &patch, ST_NODE_F_WEIGHT, 0, &out, &err), ST_ENOENT);
  tu_assert_zeroed(&out, sizeof out);
  dropped = 7;
  assert_int_equal(st_reg_node_remove(db, 42, true, &dropped, &err), ST_ENOENT);
  assert_int_equal(dropped, 0);
  tu_poison(&out, sizeof out);
  assert_int_equal(st_reg_resolve(db, 1003, 1, ST_KIND_CACHE, &out, &err), ST_ENOENT);
  tu_assert_zeroed(&out, sizeof out);
  allocated = true;
  tu_poison(&out, sizeof out);
  assert_int_equal(st_reg_allocate(db, &req, 100, 60, &out, &allocated, &err), ST_EUNAVAIL);
  tu_assert_zeroed(&out, sizeof out);
  assert_false(allocated);
  req.size = -1;
  allocated = true;
  tu_poison(&out, sizeof out);
  assert_int_equal(st_reg_allocate(db, &req, 100, 60, &out, &allocated, &err), ST_EINVAL);
  tu_assert_zeroed(&out, sizeof out);
  assert_false(allocated);
  st_storage_node n = node_of("10.0.0.1", 1, "nfs");
  assert_int_equal(st_reg_node_add(db, &n, &err), ST_OK);
  st_storage_node again = node_of("10.0.0.1", 1, "nfs"), given = again;
  assert_int_equal(st_reg_node_add(db, &again, &err), ST_EEXIST);
  assert_memory_equal(&again, &given, sizeof again);
  st_db_close(db);

  /* a registry that is not there */
  int schema = 7;
  st_regc *gone;
  assert_int_equal(st_regc_open("http://127.0.0.1:1", NULL, &gone, &err), ST_OK);
  assert_int_equal(st_regc_health(gone, &schema, &err), ST_EUNAVAIL);
  assert_int_equal(schema, 0);
  st_storage_node *list = &out;
  size_t count = 7;
  assert_int_equal(st_regc_nodes(gone, &list, &count, &err), ST_EUNAVAIL);
  assert_true(list == NULL && count == 0);
  st_regc_close(gone);
}

/* ---- schema versions ---- */

static void test_schema_newer_refused(void **state) {
  env *e = *state;
  stop(e);
  db_exec(e, "INSERT INTO schema_version (version, name, applied_at) VALUES (99, '0099_future.sql', 0)", NULL);
  st_db *db;
  st_err derr;
  int version = 7;
  assert_int_equal(st_db_open(e->db.url, &db, &derr), ST_OK);
  assert_int_equal(st_reg_migrate(db, &version, &derr), ST_ECONFLICT);
  assert_int_equal(version, 0); /* not the 99 it read (st_err.h) */
  st_db_close(db);
  st_registry_server_opts o = {"127.0.0.1:0", e->db.url, TOKEN, 60, 2};
  st_registry_server *srv = NULL;
  st_err err;
  assert_int_equal(st_registry_server_start(&o, &srv, &err), ST_ECONFLICT);
  char want[128];
  snprintf(want, sizeof want, "the database schema is at version 99, newer than this spacetime-server knows (%d)",
           ST_MIGRATIONS_COUNT);
  tu_assert_err_contains(&err, want);
  assert_null(srv);
  db_exec(e, "DELETE FROM schema_version WHERE version = 99", NULL);
  start(e); /* and a restart on a known schema runs no migration twice */
  assert_int_equal(db_count(e, "SELECT COUNT(*) FROM schema_version"), ST_MIGRATIONS_COUNT);
  assert_int_equal(st_registry_server_schema(e->srv), ST_MIGRATIONS_COUNT);
}

/* ---- two servers starting on one new database take turns at the migration ---- */

typedef struct starter {
  const char *url;
  st_registry_server *srv;
  st_err err;
} starter;

static void *start_one(void *arg) {
  starter *st = arg;
  st_registry_server_opts o = {"127.0.0.1:0", st->url, TOKEN, 60, 2};
  st_registry_server_start(&o, &st->srv, &st->err);
  return NULL;
}

static void test_two_servers_start_together(void **state) {
  (void)state;
  for (int round = 0; round < 3; round++) {
    env fresh = {0};
    tu_test_db_new(&fresh.db, "reg");
    starter st[2] = {{fresh.db.url, NULL, {0}}, {fresh.db.url, NULL, {0}}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, start_one, &st[i]);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++) {
      if (!st[i].srv) fail_msg("server %d did not start: %s", i, st[i].err.msg);
      assert_int_equal(st_registry_server_schema(st[i].srv), ST_MIGRATIONS_COUNT);
    }
    assert_int_equal(db_count(&fresh, "SELECT COUNT(*) FROM schema_version"), ST_MIGRATIONS_COUNT);
    for (int i = 0; i < 2; i++) st_registry_server_stop(st[i].srv);
    tu_test_db_drop(&fresh.db);
  }
}

/* ---- PostgreSQL: connections cut by the server are re-made, and no request fails ---- */

static void test_pg_reconnect(void **state) {
  env *e = *state;
  if (!e->db.pgname[0]) skip();
  int64_t a = add_node(e, "10.0.0.1", 1);
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' AND pid <> pg_backend_pid()",
           e->db.pgname);
  tu_pg_admin(sql);
  st_err err;
  for (int i = 0; i < 12; i++) { /* more requests than pooled connections */
    st_storage_node n;
    if (st_regc_node_get(e->anon, a, &n, &err)) fail_msg("request %d after the cut: %s", i, err.msg);
  }
  heartbeat(e, a, 10, 5);
}

/* ---- two instances over one database: a client of both moves on when one dies ---- */

static void test_url_list_failover(void **state) {
  env *e = *state;
  st_registry_server_opts o = {"127.0.0.1:0", e->db.url, TOKEN, 60, 4};
  st_registry_server *b = NULL;
  st_err err;
  if (st_registry_server_start(&o, &b, &err)) fail_msg("start the second instance: %s", err.msg);
  char urls[160], burl[64];
  snprintf(burl, sizeof burl, "http://127.0.0.1:%u", st_registry_server_port(b));
  snprintf(urls, sizeof urls, " %s , %s", e->url, burl);
  st_regc *c;
  assert_int_equal(st_regc_open(urls, TOKEN, &c, &err), ST_OK);
  assert_string_equal(st_regc_url(c), e->url);
  st_storage_node n = node_of("10.0.0.7", 1, "nfs"), added, got;
  assert_int_equal(st_regc_node_add(c, &n, &added, &err), ST_OK); /* acknowledged by the first */
  st_regc_close(e->c);
  st_regc_close(e->anon);
  st_registry_server_stop(e->srv); /* the first goes away */
  e->c = e->anon = NULL;
  e->srv = NULL;
  if (st_regc_node_get(c, added.id, &got, &err)) fail_msg("read after the first instance stopped: %s", err.msg);
  assert_string_equal(got.host, "10.0.0.7");
  assert_string_equal(st_regc_url(c), burl);
  st_storage_node m = node_of("10.0.0.8", 1, "nfs");
  assert_int_equal(st_regc_node_add(c, &m, &added, &err), ST_OK);
  st_regc_close(c);
  st_registry_server_stop(b);

  /* none answers: every URL is named */
  assert_int_equal(st_regc_open("http://127.0.0.1:1,http://127.0.0.1:2", NULL, &c, &err), ST_OK);
  int schema = 7;
  assert_int_equal(st_regc_health(c, &schema, &err), ST_EUNAVAIL);
  assert_int_equal(schema, 0);
  tu_assert_err_contains(&err, "http://127.0.0.1:1");
  tu_assert_err_contains(&err, "http://127.0.0.1:2");
  st_regc_close(c);
  start(e); /* for teardown */

  /* bad lists are named by place */
  c = (st_regc *)&err;
  assert_int_equal(st_regc_open("http://127.0.0.1:1,,http://127.0.0.1:2", NULL, &c, &err), ST_EINVAL);
  assert_null(c);
  tu_assert_err_contains(&err, "registry URL 2 of");
  assert_int_equal(st_regc_open("http://127.0.0.1:1,ftp://x", NULL, &c, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "registry URL 2 of");
  tu_assert_err_contains(&err, "must start with http://");
  assert_int_equal(
      st_regc_open("http://a,http://b,http://c,http://d,http://e,http://f,http://g,http://h,http://i", NULL, &c, &err),
      ST_EINVAL);
  tu_assert_err_contains(&err, "more than 8 registry URLs");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_seed_row_and_path, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nodes_crud, setup, teardown),
      cmocka_unit_test_setup_teardown(test_failed_calls_zero_outs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_locations, setup, teardown),
      cmocka_unit_test_setup_teardown(test_allocate, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
      cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
      cmocka_unit_test_setup_teardown(test_health_metrics, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
      cmocka_unit_test_setup_teardown(test_schema_newer_refused, setup, teardown),
      cmocka_unit_test(test_two_servers_start_together),
      cmocka_unit_test_setup_teardown(test_pg_reconnect, setup, teardown),
      cmocka_unit_test_setup_teardown(test_url_list_failover, setup, teardown),
  };
  return cmocka_run_group_tests_name(getenv("ST_TEST_PG") ? "registry API on PostgreSQL" : "registry API on SQLite",
                                     tests, NULL, NULL);
}
