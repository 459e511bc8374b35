/* fuzz_cluster: the cluster's operations (st_cluster_store) on arbitrary params, as the
 * registry's POST /v0/cluster/OP receives them.
 *
 * The first byte picks the operation (of the twelve); the rest is parsed as JSON (with
 * JSON_DECODE_ANY and JSON_ALLOW_NUL, so non-objects and strings with "\u0000" reach the
 * operation's own checks) and run by st_cluster_op on one SQLite database in /dev/shm, made and
 * migrated once, where machine 1 of miner 1000 has joined with a long lease. State carries over
 * from one input to the next, as a registry's does.
 *
 * Oracles (a failure prints what broke and traps):
 * - a refusal carries its code and a message, and no reply;
 * - an accepted call gives a reply object; sector_new's number is at least its min (1 when
 *   absent); claim's rows are one per key, each with "claimed" a boolean;
 * - after every input, no sector's or partition's lease runs past the registry's clock plus the
 *   longest lease a machine may have (3600 s): no params make a longer claim. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/st_db.h"
#include "fuzz_util.h"
#include "registry/st_cluster_store.h"
#include "registry/st_registry_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const OPS[] = {"join",       "heartbeat",    "leave",         "machines",
                                  "sector_new", "sector_claim", "sector_update", "sector_list",
                                  "sector_get", "claim",        "check",         "update"};
#define NOW 1000000

static void broke(const char *what) {
  fprintf(stderr, "fuzz_cluster: %s\n", what);
  __builtin_trap();
}

static st_db *database(void) {
  static st_db *db;
  if (db) return db;
  char url[128];
  st_err err;
  int version;
  json_t *reply = NULL;
  snprintf(url, sizeof url, "sqlite:/dev/shm/fuzz_cluster_%d.db", (int)getpid());
  unlink(url + 7);
  if (st_db_open(url, &db, &err) || st_reg_migrate(db, &version, &err)) broke(err.msg);
  json_t *p = json_pack("{s:I, s:s, s:I, s:s, s:s, s:I}", "miner", (json_int_t)1000, "host", "h", "pid", (json_int_t)1,
                        "roles", "sealer,poster", "version", "fuzz", "lease_secs", (json_int_t)3600);
  if (st_cluster_op(db, "join", p, NOW, &reply, &err)) broke(err.msg);
  json_decref(p);
  json_decref(reply);
  return db;
}

static void check_reply(const char *op, const json_t *params, const json_t *reply) {
  if (!json_is_object(reply)) broke("an accepted call without a reply object");
  if (!strcmp(op, "sector_new")) {
    const json_t *min = json_object_get(params, "min");
    json_int_t want = json_is_integer(min) ? json_integer_value(min) : 1;
    if (json_integer_value(json_object_get(reply, "number")) < want) broke("sector_new gave a number below min");
  }
  if (!strcmp(op, "claim")) {
    const json_t *rows = json_object_get(reply, "rows"), *row;
    if (json_array_size(rows) != json_array_size(json_object_get(params, "keys"))) broke("claim: not one row per key");
    size_t i;
    json_array_foreach(rows, i, row) if (!json_is_boolean(json_object_get(row, "claimed"))) broke("claim: no claimed");
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!size) return 0;
  st_db *db = database();
  const char *op = OPS[data[0] % (sizeof OPS / sizeof OPS[0])];
  json_error_t je;
  json_t *params =
      json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
  if (!params) return 0;
  json_t *reply = NULL;
  st_err err;
  memset(&err, 0, sizeof err);
  st_code rc = st_cluster_op(db, op, params, NOW, &reply, &err);
  if (rc) {
    fuzz_rejected("fuzz_cluster", op, rc, &err);
    if (reply) broke("a refusal with a reply");
  } else {
    check_reply(op, params, reply);
  }
  json_decref(reply);
  json_decref(params);
  /* no lease renewed beyond the longest a machine may have */
  st_db_rows r = {0};
  char limit[ST_DB_INT_MAX];
  const char *p[] = {st_db_int(limit, NOW + 3600)};
  if (st_db_exec(db,
                 "SELECT COUNT(*) FROM sealing WHERE lease_until > CAST($1 AS BIGINT) UNION ALL "
                 "SELECT COUNT(*) FROM wdpost WHERE lease_until > CAST($1 AS BIGINT)",
                 1, p, &r, NULL, &err))
    broke(err.msg);
  if (st_db_cell_i64(&r, 0, 0) || st_db_cell_i64(&r, 1, 0)) broke("a lease longer than any machine's");
  st_db_rows_free(&r);
  return 0;
}
