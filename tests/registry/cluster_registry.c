/* The cluster's operations (st_cluster_store) through a real spacetime-server, once on SQLite and
 * once on a PostgreSQL server (ST_TEST_PG), as the processes of one miner use them: sector
 * numbers from many clients at once are distinct and never below the chain's; a sector, a
 * partition or a round is held by one machine at a time; a lapsed lease lets another machine
 * take over and the old holder's writes are refused; heartbeats keep claims; leave frees them at
 * once; a round is never taken over; racing claimers take each row exactly once; bad params are
 * refused with the field named. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/st_db.h"
#include "miner/st_cluster.h"
#include "registry/st_registry_client.h"
#include "registry/st_registry_server.h"

#define TOKEN "cluster-test-token-0123456789"
#define MINER 1000

typedef struct env {
  tu_test_db db;
  char url[64];
  st_registry_server *srv;
} env;

static int setup(void **state) {
  env *e = calloc(1, sizeof *e);
  tu_test_db_new(&e->db, "cl");
  st_err err;
  st_registry_server_opts o = {"127.0.0.1:0", e->db.url, TOKEN, 60, 8};
  if (st_registry_server_start(&o, &e->srv, &err)) fail_msg("start: %s", err.msg);
  snprintf(e->url, sizeof e->url, "http://127.0.0.1:%u", st_registry_server_port(e->srv));
  *state = e;
  return 0;
}

static int teardown(void **state) {
  env *e = *state;
  st_registry_server_stop(e->srv);
  tu_test_db_drop(&e->db);
  free(e);
  return 0;
}

static st_cluster *open_cl(env *e) {
  st_cluster *c;
  st_err err;
  if (st_cluster_open(e->url, TOKEN, NULL, MINER, &c, &err)) fail_msg("open: %s", err.msg);
  return c;
}

static int64_t join(st_cluster *c, int64_t lease) {
  int64_t m;
  st_err err;
  if (st_cluster_join(c, MINER, "sealer,poster", "test", lease, &m, &err)) fail_msg("join: %s", err.msg);
  assert_true(m > 0);
  return m;
}

/* A call that must succeed; its reply. */
static json_t *ok_call(st_cluster *c, const char *op, json_t *params) {
  json_t *reply;
  st_err err;
  if (st_cluster_call(c, MINER, op, params, &reply, &err)) fail_msg("%s: %s", op, err.msg);
  return reply;
}

static int64_t new_sector(st_cluster *c, int64_t min) {
  json_t *r = ok_call(c, "sector_new", json_pack("{s:I}", "min", (json_int_t)min));
  int64_t n = json_integer_value(json_object_get(r, "number"));
  json_decref(r);
  return n;
}

/* The numbers of the sectors machine m holds after claiming up to max. */
static size_t claim_sectors(st_cluster *c, int64_t m, int64_t max, int64_t *out) {
  json_t *r = ok_call(c, "sector_claim",
                      json_pack("{s:I, s:s, s:I, s:I, s:I}", "machine", (json_int_t)m, "host", "h1", "group",
                                (json_int_t)-1, "max", (json_int_t)max, "max_retries", (json_int_t)3));
  const json_t *rows = json_object_get(r, "sectors"), *row;
  size_t i;
  json_array_foreach(rows, i, row) out[i] = json_integer_value(json_object_get(row, "number"));
  size_t n = json_array_size(rows);
  json_decref(r);
  return n;
}

static st_code set_state(st_cluster *c, int64_t m, int64_t number, const char *state, st_err *err) {
  json_t *reply;
  st_code code = st_cluster_call(
      c, MINER, "sector_update",
      json_pack("{s:I, s:I, s:{s:s}}", "machine", (json_int_t)m, "number", (json_int_t)number, "set", "state", state),
      &reply, err);
  json_decref(reply);
  return code;
}

/* ---- sector numbers ---- */

typedef struct pledger {
  env *e;
  int64_t got[25];
} pledger;

static void *pledge_many(void *arg) {
  pledger *p = arg;
  st_cluster *c = open_cl(p->e);
  for (int i = 0; i < 25; i++) p->got[i] = new_sector(c, 1);
  st_cluster_close(c);
  return NULL;
}

static void test_numbers(void **state) {
  env *e = *state;
  pledger p[8];
  pthread_t t[8];
  for (int i = 0; i < 8; i++) {
    p[i].e = e;
    pthread_create(&t[i], NULL, pledge_many, &p[i]);
  }
  for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
  bool seen[201] = {0};
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 25; j++) {
      int64_t n = p[i].got[j];
      assert_true(n >= 1 && n <= 200);
      assert_false(seen[n]); /* distinct */
      seen[n] = true;
    }
  st_cluster *c = open_cl(e);
  assert_int_equal(new_sector(c, 500), 500); /* the chain's highest was 499 */
  assert_int_equal(new_sector(c, 1), 501);   /* and never back */
  /* a deal placed twice is one sector */
  json_t *a = ok_call(c, "sector_new",
                      json_pack("{s:I, s:s, s:I, s:I, s:s}", "deal_id", (json_int_t)7, "piece", "/p", "piece_size",
                                (json_int_t)2048, "deal_end", (json_int_t)9000, "pin_host", "h1"));
  json_t *b = ok_call(c, "sector_new",
                      json_pack("{s:I, s:s, s:I, s:I, s:s}", "deal_id", (json_int_t)7, "piece", "/p", "piece_size",
                                (json_int_t)2048, "deal_end", (json_int_t)9000, "pin_host", "h1"));
  assert_int_equal(json_integer_value(json_object_get(a, "number")), 502);
  assert_int_equal(json_integer_value(json_object_get(b, "number")), 502);
  assert_true(json_is_true(json_object_get(a, "created")) && json_is_false(json_object_get(b, "created")));
  json_decref(a);
  json_decref(b);
  st_cluster_close(c);
}

/* ---- sector claims and leases ---- */

static void test_sector_leases(void **state) {
  env *e = *state;
  st_cluster *c = open_cl(e);
  st_err err;
  int64_t a = join(c, 1), b = join(c, 1), held[16];
  for (int i = 0; i < 5; i++) new_sector(c, 1);
  assert_int_equal(claim_sectors(c, a, 2, held), 2);
  assert_int_equal(held[0], 1);
  assert_int_equal(held[1], 2);
  assert_int_equal(claim_sectors(c, b, 10, held), 3); /* not the first's */
  assert_int_equal(held[0], 3);
  /* writes name the holder */
  assert_int_equal(set_state(c, a, 1, "PreCommit1", &err), ST_OK);
  assert_int_equal(set_state(c, b, 1, "PreCommit1", &err), ST_ECONFLICT);
  tu_assert_err_contains(&err, "no longer holds sector 1: another machine took it over");
  /* a holds 1 and 2 with a live lease: b takes nothing more; a heartbeat keeps them */
  usleep(600 * 1000);
  assert_int_equal(st_cluster_heartbeat(c, MINER, a, &err), ST_OK);
  usleep(600 * 1000);
  assert_int_equal(claim_sectors(c, b, 10, held), 3);
  /* a stops renewing: its lease lapses, b takes both, and a's writes are refused */
  sleep(2);
  assert_int_equal(claim_sectors(c, b, 10, held), 5);
  assert_int_equal(set_state(c, a, 2, "PreCommitting", &err), ST_ECONFLICT);
  assert_int_equal(st_cluster_check(c, MINER, a, "sealing", (int64_t[]){2}, 1, 1, &err), ST_ECONFLICT);
  assert_int_equal(st_cluster_check(c, MINER, b, "sealing", (int64_t[]){2}, 1, 1, &err), ST_OK);
  json_t *r = ok_call(c, "sector_get", json_pack("{s:I}", "number", (json_int_t)1));
  assert_string_equal(json_string_value(json_object_get(json_object_get(r, "sector"), "state")), "PreCommit1");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "sector"), "owner")), b);
  json_decref(r);
  /* Proving is nobody's work */
  assert_int_equal(set_state(c, b, 5, "Proving", &err), ST_OK);
  assert_int_equal(claim_sectors(c, b, 10, held), 4);
  /* the machines view: b alive, holding 4; a lapsed */
  assert_int_equal(st_cluster_heartbeat(c, MINER, b, &err), ST_OK);
  r = ok_call(c, "machines", json_object());
  const json_t *ms = json_object_get(r, "machines");
  assert_int_equal(json_array_size(ms), 2);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(ms, 0), "alive")), 0);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(ms, 1), "alive")), 1);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(ms, 1), "sealing")), 4);
  json_decref(r);
  /* leave frees b's claims at once: a third machine takes them without waiting */
  int64_t m3 = join(c, 30);
  assert_int_equal(st_cluster_leave(c, MINER, b, &err), ST_OK);
  assert_int_equal(claim_sectors(c, m3, 10, held), 4);
  assert_int_equal(st_cluster_heartbeat(c, MINER, b, &err), ST_ENOENT);
  tu_assert_err_contains(&err, "(it left)");
  st_cluster_close(c);
}

/* ---- the posters' work ---- */

static size_t claimed_count(const json_t *rows) {
  size_t n = 0, i;
  const json_t *row;
  json_array_foreach(rows, i, row) n += json_is_true(json_object_get(row, "claimed"));
  return n;
}

static void test_work(void **state) {
  env *e = *state;
  st_cluster *c = open_cl(e);
  st_err err;
  int64_t a = join(c, 1), b = join(c, 1);
  int64_t keys[] = {48, 3, 0, 48, 3, 1, 48, 3, 2, 48, 3, 3};
  json_t *ra, *rb;
  assert_int_equal(st_cluster_claim(c, MINER, a, "wdpost", keys, 4, 3, 2, true, &ra, &err), ST_OK);
  assert_int_equal(claimed_count(ra), 2);
  assert_true(json_is_true(json_object_get(json_array_get(ra, 0), "claimed")));
  assert_int_equal(st_cluster_claim(c, MINER, b, "wdpost", keys, 4, 3, 0, true, &rb, &err), ST_OK);
  assert_int_equal(claimed_count(rb), 2);
  assert_true(json_is_true(json_object_get(json_array_get(rb, 3), "claimed")));
  json_decref(ra);
  json_decref(rb);
  /* a sends for partition 0 and dies; b takes it over and finds the message to wait for */
  assert_int_equal(st_cluster_update(c, MINER, a, "wdpost", keys, 1, 3, "bafy-test-cid", false, 0, false, &err), ST_OK);
  assert_int_equal(st_cluster_update(c, MINER, a, "wdpost", keys + 3, 1, 3, NULL, true, 0, true, &err), ST_OK);
  assert_int_equal(st_cluster_check(c, MINER, b, "wdpost", keys, 1, 3, &err), ST_ECONFLICT);
  sleep(2);
  assert_int_equal(st_cluster_check(c, MINER, a, "wdpost", keys, 1, 3, &err), ST_ECONFLICT);
  tu_assert_err_contains(&err, "its lease lapsed");
  assert_int_equal(st_cluster_claim(c, MINER, b, "wdpost", keys, 4, 3, 0, true, &rb, &err), ST_OK);
  assert_int_equal(claimed_count(rb), 3); /* not partition 1: done */
  assert_string_equal(json_string_value(json_object_get(json_array_get(rb, 0), "msg_cid")), "bafy-test-cid");
  assert_int_equal(json_integer_value(json_object_get(json_array_get(rb, 1), "done")), 1);
  json_decref(rb);
  assert_int_equal(st_cluster_update(c, MINER, a, "wdpost", keys, 1, 3, NULL, false, 0, true, &err), ST_ECONFLICT);
  /* a round is never taken over, even once its holder's lease lapsed */
  int64_t round = 700;
  assert_int_equal(st_cluster_claim(c, MINER, a, "blocks", &round, 1, 1, 0, false, &ra, &err), ST_OK);
  assert_int_equal(claimed_count(ra), 1);
  json_decref(ra);
  sleep(2);
  assert_int_equal(st_cluster_claim(c, MINER, b, "blocks", &round, 1, 1, 0, false, &rb, &err), ST_OK);
  assert_int_equal(claimed_count(rb), 0);
  json_decref(rb);
  assert_int_equal(st_cluster_check(c, MINER, a, "blocks", &round, 1, 1, &err), ST_ECONFLICT);
  st_cluster_close(c);
}

typedef struct racer {
  env *e;
  int64_t machine;
  size_t won;
  int64_t *keys;
} racer;

static void *race(void *arg) {
  racer *r = arg;
  st_cluster *c = open_cl(r->e);
  json_t *rows;
  st_err err;
  if (st_cluster_claim(c, MINER, r->machine, "wdpost", r->keys, 50, 3, 0, true, &rows, &err))
    fail_msg("claim: %s", err.msg);
  r->won = claimed_count(rows);
  json_decref(rows);
  st_cluster_close(c);
  return NULL;
}

static void test_race(void **state) {
  env *e = *state;
  st_cluster *c = open_cl(e);
  int64_t keys[150];
  for (int i = 0; i < 50; i++) {
    keys[3 * i] = 96;
    keys[3 * i + 1] = 5;
    keys[3 * i + 2] = i;
  }
  racer r[8];
  pthread_t t[8];
  for (int i = 0; i < 8; i++) {
    r[i] = (racer){e, join(c, 30), 0, keys};
    pthread_create(&t[i], NULL, race, &r[i]);
  }
  size_t total = 0;
  for (int i = 0; i < 8; i++) {
    pthread_join(t[i], NULL);
    total += r[i].won;
  }
  assert_int_equal(total, 50); /* each partition exactly once */
  st_cluster_close(c);
}

/* ---- refusals ---- */

static void refused(env *e, const char *op, const char *body, long want, const char *contains) {
  st_regc *c;
  st_err err;
  assert_int_equal(st_regc_open(e->url, TOKEN, &c, &err), ST_OK);
  char path[96];
  snprintf(path, sizeof path, "/v0/cluster/%s", op);
  long status = 0;
  st_buf resp = ST_BUF_INIT;
  assert_int_equal(st_regc_raw(c, "POST", path, body, strlen(body), &status, &resp, &err), ST_OK);
  if (status != want || !strstr(st_buf_cstr(&resp), contains))
    fail_msg("%s %s: %ld %s (want %ld with \"%s\")", op, body, status, st_buf_cstr(&resp), want, contains);
  st_buf_free(&resp);
  st_regc_close(c);
}

static void test_refusals(void **state) {
  env *e = *state;
  st_cluster *c = open_cl(e);
  int64_t m = join(c, 5);
  char body[256];
  refused(e, "nosuch", "{\"miner\": 1000}", 404, "no cluster operation \\\"nosuch\\\"");
  refused(e, "machines", "{}", 400, "field \\\"miner\\\" must be the miner's actor id");
  refused(e, "machines", "[1]", 400, "must be a JSON object");
  refused(e, "join",
          "{\"miner\": 1000, \"host\": \"h\", \"pid\": 0, \"roles\": \"x\", \"version\": \"v\", \"lease_secs\": 5}",
          400, "\\\"pid\\\"");
  refused(e, "machines", "{\"miner\": 1000, \"extra\": 1}", 400, "extra");
  snprintf(body, sizeof body, "{\"miner\": 1000, \"machine\": %lld, \"kind\": \"bogus\", \"keys\": [[1]]}",
           (long long)m);
  refused(e, "claim", body, 400, "\\\"bogus\\\" is not wdpost, blocks or declarations");
  snprintf(body, sizeof body, "{\"miner\": 1000, \"machine\": %lld, \"kind\": \"wdpost\", \"keys\": [[1, 2]]}",
           (long long)m);
  refused(e, "claim", body, 400, "field \\\"keys\\\"[0] must be an array of 3 integers");
  snprintf(body, sizeof body, "{\"miner\": 1000, \"machine\": %lld, \"kind\": \"blocks\", \"keys\": [[\"4\"]]}",
           (long long)m);
  refused(e, "claim", body, 400, "field \\\"keys\\\"[0][0] (epoch) must be an integer");
  refused(e, "heartbeat", "{\"miner\": 1000, \"machine\": 999}", 404, "machine 999 is not in t01000's cluster");
  /* check and update with a bad machine or field are refused before they read their keys
   * (fuzz_cluster found check reading keys it had not parsed) */
  refused(e, "check", "{\"miner\": 1000, \"machine\": 999, \"kind\": \"wdpost\", \"keys\": [[1, 2, 3]]}", 404,
          "machine 999 is not in t01000's cluster");
  refused(e, "check", "{\"miner\": 1000, \"bogus\": 1}", 400, "bogus");
  snprintf(body, sizeof body,
           "{\"miner\": 1000, \"machine\": %lld, \"kind\": \"blocks\", \"keys\": [[1]], \"done\": 3}", (long long)m);
  refused(e, "update", body, 400, "\\\"done\\\" must be true or false");
  snprintf(body, sizeof body, "{\"miner\": 1001, \"machine\": %lld}", (long long)m);
  refused(e, "heartbeat", body, 404, "is not in t01001's cluster"); /* another miner's machine */
  new_sector(c, 1);
  int64_t held[4];
  assert_int_equal(claim_sectors(c, m, 1, held), 1);
  snprintf(body, sizeof body, "{\"miner\": 1000, \"machine\": %lld, \"number\": 1, \"set\": {\"owner\": 5}}",
           (long long)m);
  refused(e, "sector_update", body, 400, "\\\"owner\\\" is not a column it may set");
  snprintf(body, sizeof body, "{\"miner\": 1000, \"machine\": %lld, \"number\": 1, \"set\": {\"retries\": 5}}",
           (long long)m);
  refused(e, "sector_update", body, 400, "\\\"retries\\\" is not a column it may set");
  snprintf(body, sizeof body, "{\"miner\": 1000, \"machine\": %lld, \"number\": 1, \"set\": {\"ticket_epoch\": \"x\"}}",
           (long long)m);
  refused(e, "sector_update", body, 400, "\\\"ticket_epoch\\\" must be an integer or null");
  refused(e, "sector_get", "{\"miner\": 1000, \"number\": 77}", 404, "sector 77 of t01000 is not in the cluster");
  /* without the token */
  st_regc *anon;
  st_err err;
  assert_int_equal(st_regc_open(e->url, NULL, &anon, &err), ST_OK);
  json_t *reply;
  assert_int_equal(st_regc_cluster(anon, "machines", json_pack("{s:I}", "miner", (json_int_t)MINER), &reply, &err),
                   ST_EPERM);
  st_regc_close(anon);
  st_cluster_close(c);
}

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sector_leases, setup, teardown),
      cmocka_unit_test_setup_teardown(test_work, setup, teardown),
      cmocka_unit_test_setup_teardown(test_race, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
