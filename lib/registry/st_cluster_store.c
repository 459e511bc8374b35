/* st_cluster_store: the cluster's operations, each one transaction of compare-and-set SQL. */
#include "registry/st_cluster_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/st_registry.h"

#define N ST_DB_INT_MAX
/* The sector states nobody works on: Proving, and Removed (given up for good). */
#define DONE_STATES "('Proving', 'Removed')"

/* What one call of an operation works with: its params, the time, and its reply. */
typedef struct op_ctx {
  const json_t *p;
  int64_t now;
  json_t *reply;
  int64_t miner, machine, lease_secs;
} op_ctx;

/* ---- params ---- */

static st_code p_int(const op_ctx *x, const char *key, bool optional, int64_t min, int64_t max, int64_t *out,
                     st_err *err) {
  return st_reg_json_int(x->p, key, optional, min, max, out, err);
}

/* A string member (optional: NULL when missing), at most max bytes. */
static st_code p_text(const op_ctx *x, const char *key, bool optional, size_t max, const char **out, st_err *err) {
  const json_t *v = json_object_get(x->p, key);
  *out = NULL;
  if (!v || json_is_null(v)) {
    if (optional) return ST_OK;
    return st_err_set(err, ST_EINVAL, "field \"%s\" is missing", key);
  }
  if (!json_is_string(v)) return st_err_set(err, ST_EINVAL, "field \"%s\" must be a string", key);
  if (json_string_length(v) > max) return st_err_set(err, ST_EINVAL, "field \"%s\" is longer than %zu bytes", key, max);
  *out = json_string_value(v);
  return ST_OK;
}

static st_code p_bool(const op_ctx *x, const char *key, bool dflt, bool *out, st_err *err) {
  const json_t *v = json_object_get(x->p, key);
  *out = dflt;
  if (!v) return ST_OK;
  if (!json_is_boolean(v)) return st_err_set(err, ST_EINVAL, "field \"%s\" must be true or false", key);
  *out = json_is_true(v);
  return ST_OK;
}

static st_code p_only(const op_ctx *x, const char *op, const char *const *keys, st_err *err) {
  return st_reg_json_only(x->p, keys, op, err);
}

/* The machine named by params, which must be in the miner's cluster and not have left;
 * x->lease_secs gets its lease. */
static st_code p_machine(st_db *db, op_ctx *x, st_err *err) {
  st_code code = p_int(x, "machine", false, 1, INT64_MAX, &x->machine, err);
  if (code) return code;
  char a[N], b[N];
  const char *p[] = {st_db_int(a, x->machine), st_db_int(b, x->miner)};
  st_db_rows r = {0};
  code = st_db_exec(db, "SELECT lease_secs, stopped FROM machines WHERE id = $1 AND miner = $2", 2, p, &r, NULL, err);
  if (!code && (!r.nrows || st_db_cell(&r, 0, 1)))
    code = st_err_set(err, ST_ENOENT, "machine %lld is not in t0%lld's cluster%s: restart the process to join again",
                      (long long)x->machine, (long long)x->miner, r.nrows ? " (it left)" : "");
  if (!code) x->lease_secs = st_db_cell_i64(&r, 0, 0);
  st_db_rows_free(&r);
  return code;
}

/* ---- rows as JSON ---- */

typedef enum col_type { C_INT, C_TEXT } col_type;
typedef struct col {
  const char *name;
  col_type type;
} col;

static const col SECTOR_COLS[] = {
    {"number", C_INT},      {"state", C_TEXT},       {"node_id", C_INT},        {"node_group", C_INT},
    {"root", C_TEXT},       {"ticket_epoch", C_INT}, {"ticket", C_TEXT},        {"comm_d", C_TEXT},
    {"comm_r", C_TEXT},     {"expiration", C_INT},   {"precommit_cid", C_TEXT}, {"precommit_epoch", C_INT},
    {"commit_cid", C_TEXT}, {"error", C_TEXT},       {"pin_host", C_TEXT},      {"retries", C_INT},
    {"updated", C_INT},     {"deal_id", C_INT},      {"piece", C_TEXT},         {"piece_size", C_INT},
    {"deal_end", C_INT},    {"owner", C_INT},        {"lease_until", C_INT}};
#define NSECTOR_COLS (sizeof SECTOR_COLS / sizeof SECTOR_COLS[0])
/* the columns sector_update may set: state to error */
#define SETTABLE_FIRST 1
#define SETTABLE_END 14

static const char SECTOR_SELECT[] =
    "SELECT number, state, node_id, node_group, root, ticket_epoch, ticket, comm_d, comm_r, expiration, precommit_cid, "
    "precommit_epoch, commit_cid, error, pin_host, retries, updated, deal_id, piece, piece_size, deal_end, owner, "
    "lease_until FROM sealing ";

static json_t *row_json(const st_db_rows *r, int i, const col *cols, size_t n) {
  json_t *o = json_object();
  for (size_t c = 0; o && c < n; c++) {
    const char *v = st_db_cell(r, i, (int)c);
    json_t *jv = !v ? json_null() : cols[c].type == C_INT ? json_integer(st_db_cell_i64(r, i, (int)c)) : json_string(v);
    if (json_object_set_new(o, cols[c].name, jv)) {
      json_decref(o);
      return NULL;
    }
  }
  return o;
}

static st_code rows_json(const st_db_rows *r, const col *cols, size_t n, json_t **out, st_err *err) {
  *out = json_array();
  for (int i = 0; *out && i < r->nrows; i++)
    if (json_array_append_new(*out, row_json(r, i, cols, n))) {
      json_decref(*out);
      *out = NULL;
    }
  return *out ? ST_OK : st_err_set(err, ST_ENOMEM, "out of memory");
}

static st_code reply_set(op_ctx *x, const char *key, json_t *v, st_err *err) {
  if (!v || json_object_set_new(x->reply, key, v)) return st_err_set(err, ST_ENOMEM, "out of memory");
  return ST_OK;
}

/* ---- machines ---- */

static st_code op_join(st_db *db, op_ctx *x, st_err *err) {
  static const char *const keys[] = {"miner", "host", "pid", "roles", "version", "lease_secs", NULL};
  const char *host, *roles, *version;
  int64_t pid, lease;
  st_code code = p_only(x, "join", keys, err);
  if (!code) code = p_text(x, "host", false, ST_REG_HOST_MAX, &host, err);
  if (!code) code = p_int(x, "pid", false, 1, INT32_MAX, &pid, err);
  if (!code) code = p_text(x, "roles", false, 64, &roles, err);
  if (!code) code = p_text(x, "version", false, 64, &version, err);
  if (!code) code = p_int(x, "lease_secs", false, 1, 3600, &lease, err);
  if (code) return code;
  char m[N], pd[N], t[N], l[N];
  const char *p[] = {st_db_int(m, x->miner), host, st_db_int(pd, pid), roles, version, st_db_int(t, x->now),
                     st_db_int(l, lease)};
  st_db_rows r = {0};
  code = st_db_exec(db,
                    "INSERT INTO machines (miner, host, pid, roles, version, started, last_contact, lease_secs) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING id",
                    7, p, &r, NULL, err);
  if (!code) code = reply_set(x, "machine", json_integer(st_db_cell_i64(&r, 0, 0)), err);
  st_db_rows_free(&r);
  return code;
}

static const char *const WORK_TABLES[] = {"sealing", "wdpost", "blocks", "declarations"};
#define NWORK 4
/* SQL that selects a table's unfinished rows */
static const char *const UNFINISHED[NWORK] = {("state NOT IN " DONE_STATES), "done = 0", "done = 0", "done = 0"};

static st_code op_heartbeat(st_db *db, op_ctx *x, st_err *err) {
  static const char *const keys[] = {"miner", "machine", NULL};
  st_code code = p_only(x, "heartbeat", keys, err);
  if (!code) code = p_machine(db, x, err);
  if (code) return code;
  char id[N], t[N], u[N], sql[160];
  const char *p[] = {st_db_int(id, x->machine), st_db_int(t, x->now)},
             *q[] = {id, st_db_int(u, x->now + x->lease_secs)};
  code = st_db_exec(db, "UPDATE machines SET last_contact = $2 WHERE id = $1", 2, p, NULL, NULL, err);
  uint64_t renewed = 0, n;
  for (int i = 0; i < NWORK && !code; i++) {
    snprintf(sql, sizeof sql, "UPDATE %s SET lease_until = $2 WHERE owner = $1 AND %s", WORK_TABLES[i], UNFINISHED[i]);
    code = st_db_exec(db, sql, 2, q, NULL, &n, err);
    renewed += n;
  }
  if (!code) code = reply_set(x, "lease_until", json_integer(x->now + x->lease_secs), err);
  if (!code) code = reply_set(x, "renewed", json_integer((json_int_t)renewed), err);
  return code;
}

static st_code op_leave(st_db *db, op_ctx *x, st_err *err) {
  static const char *const keys[] = {"miner", "machine", NULL};
  st_code code = p_only(x, "leave", keys, err);
  if (!code) code = p_machine(db, x, err);
  if (code) return code;
  char id[N], t[N], sql[160];
  const char *p[] = {st_db_int(id, x->machine), st_db_int(t, x->now)};
  uint64_t released = 0, n;
  for (int i = 0; i < NWORK && !code; i++) {
    snprintf(sql, sizeof sql, "UPDATE %s SET lease_until = 0 WHERE owner = $1 AND %s", WORK_TABLES[i], UNFINISHED[i]);
    code = st_db_exec(db, sql, 1, p, NULL, &n, err);
    released += n;
  }
  if (!code)
    code = st_db_exec(db, "UPDATE machines SET stopped = $2, last_contact = $2 WHERE id = $1", 2, p, NULL, NULL, err);
  if (!code) code = reply_set(x, "released", json_integer((json_int_t)released), err);
  return code;
}

static st_code op_machines(st_db *db, op_ctx *x, st_err *err) {
  static const char *const keys[] = {"miner", NULL};
  st_code code = p_only(x, "machines", keys, err);
  if (code) return code;
  char m[N], t[N];
  const char *p[] = {st_db_int(m, x->miner), st_db_int(t, x->now)};
  st_db_rows r = {0};
  code = st_db_exec(
      db,
      "SELECT id, host, pid, roles, version, started, last_contact, lease_secs, stopped, "
      "CASE WHEN stopped IS NULL AND last_contact + lease_secs >= CAST($2 AS BIGINT) THEN 1 ELSE 0 END, "
      "(SELECT COUNT(*) FROM sealing s WHERE s.owner = m.id AND s.state NOT IN " DONE_STATES
      " AND s.lease_until >= CAST($2 AS BIGINT)), "
      "(SELECT COUNT(*) FROM wdpost w WHERE w.owner = m.id AND w.done = 0 AND w.lease_until >= CAST($2 AS BIGINT)), "
      "(SELECT COUNT(*) FROM blocks b WHERE b.owner = m.id AND b.done = 0 AND b.lease_until >= CAST($2 AS BIGINT)), "
      "(SELECT COUNT(*) FROM declarations d WHERE d.owner = m.id AND d.done = 0 AND d.lease_until >= CAST($2 AS BIGINT)) "
      "FROM machines m WHERE miner = $1 ORDER BY id",
      2, p, &r, NULL, err);
  static const col cols[] = {
      {"id", C_INT},      {"host", C_TEXT},        {"pid", C_INT},        {"roles", C_TEXT},      {"version", C_TEXT},
      {"started", C_INT}, {"last_contact", C_INT}, {"lease_secs", C_INT}, {"stopped", C_INT},     {"alive", C_INT},
      {"sealing", C_INT}, {"wdpost", C_INT},       {"blocks", C_INT},     {"declarations", C_INT}};
  json_t *arr = NULL;
  if (!code) code = rows_json(&r, cols, sizeof cols / sizeof cols[0], &arr, err);
  if (!code) code = reply_set(x, "machines", arr, err);
  st_db_rows_free(&r);
  /* sectors under way whose holder's lease passed: nobody works on them now */
  static const col lcols[] = {{"number", C_INT}, {"state", C_TEXT}, {"owner", C_INT}, {"lease_until", C_INT}};
  if (!code)
    code = st_db_exec(
        db,
        "SELECT number, state, owner, lease_until FROM sealing WHERE miner = $1 AND state NOT IN " DONE_STATES
        " "
        "AND owner IS NOT NULL AND lease_until < CAST($2 AS BIGINT) ORDER BY number LIMIT 100",
        2, p, &r, NULL, err);
  arr = NULL;
  if (!code) code = rows_json(&r, lcols, 4, &arr, err);
  if (!code) code = reply_set(x, "lapsed_sectors", arr, err);
  if (!code) code = reply_set(x, "now", json_integer(x->now), err);
  st_db_rows_free(&r);
  return code;
}

/* ---- sectors ---- */

static st_code op_sector_new(st_db *db, op_ctx *x, st_err *err) {
  static const char *const keys[] = {"miner", "min", "deal_id", "piece", "piece_size", "deal_end", "pin_host", NULL};
  int64_t min = 1, deal = -1, psize = 0, dend = 0;
  const char *piece, *pin;
  st_code code = p_only(x, "sector_new", keys, err);
  if (!code) code = p_int(x, "min", true, 0, INT64_MAX - 1, &min, err);
  if (!code) code = p_int(x, "deal_id", true, 0, INT64_MAX, &deal, err);
  if (!code) code = p_text(x, "piece", deal < 0, 4096, &piece, err);
  if (!code) code = p_int(x, "piece_size", deal < 0, 1, INT64_MAX, &psize, err);
  if (!code) code = p_int(x, "deal_end", deal < 0, 0, INT64_MAX, &dend, err);
  if (!code) code = p_text(x, "pin_host", true, ST_REG_HOST_MAX, &pin, err);
  if (code) return code;
  char m[N], d[N], mn[N], t[N], ps[N], de[N], num[N];
  const char *p[] = {st_db_int(m, x->miner), st_db_int(d, deal), st_db_int(mn, min)};
  st_db_rows r = {0};
  if (deal >= 0) { /* placed already (a step interrupted before the deal recorded its sector) */
    code = st_db_exec(db, "SELECT number FROM sealing WHERE miner = $1 AND deal_id = $2", 2, p, &r, NULL, err);
    if (!code && r.nrows) {
      code = reply_set(x, "number", json_integer(st_db_cell_i64(&r, 0, 0)), err);
      if (!code) code = reply_set(x, "created", json_false(), err);
      st_db_rows_free(&r);
      return code;
    }
    st_db_rows_free(&r);
  }
  /* the counter starts above every number the miner's rows hold (a SQLite file from before
   * the counter existed) and min */
  if (!code)
    code = st_db_exec(
        db,
        "INSERT INTO sector_numbers (miner, next_number) SELECT CAST($1 AS BIGINT), COALESCE(MAX(number), 0) + 1 FROM "
        "sealing WHERE miner = $1 ON CONFLICT (miner) DO NOTHING",
        1, p, NULL, NULL, err);
  if (!code)
    code = st_db_exec(db,
                      "UPDATE sector_numbers SET next_number = CASE WHEN next_number < CAST($2 AS BIGINT) THEN "
                      "CAST($2 AS BIGINT) ELSE next_number END + 1 WHERE miner = $1 RETURNING next_number - 1",
                      2, (const char *const[]){m, mn}, &r, NULL, err);
  int64_t number = code ? 0 : st_db_cell_i64(&r, 0, 0);
  st_db_rows_free(&r);
  if (code) return code;
  const char *q[] = {m,
                     st_db_int(num, number),
                     st_db_int(t, x->now),
                     deal >= 0 ? d : NULL,
                     piece,
                     deal >= 0 ? st_db_int(ps, psize) : NULL,
                     deal >= 0 ? st_db_int(de, dend) : NULL,
                     pin};
  code =
      st_db_exec(db,
                 "INSERT INTO sealing (miner, number, state, updated, deal_id, piece, piece_size, deal_end, pin_host) "
                 "VALUES ($1, $2, 'Packing', $3, $4, $5, $6, $7, $8)",
                 8, q, NULL, NULL, err);
  if (!code) code = reply_set(x, "number", json_integer(number), err);
  if (!code) code = reply_set(x, "created", json_true(), err);
  return code;
}

static st_code list_owned(st_db *db, op_ctx *x, st_err *err) {
  char m[N], id[N];
  const char *p[] = {st_db_int(m, x->miner), st_db_int(id, x->machine)};
  char sql[sizeof SECTOR_SELECT + 96];
  snprintf(sql, sizeof sql, "%sWHERE miner = $1 AND owner = $2 AND state NOT IN " DONE_STATES " ORDER BY number",
           SECTOR_SELECT);
  st_db_rows r = {0};
  json_t *arr = NULL;
  st_code code = st_db_exec(db, sql, 2, p, &r, NULL, err);
  if (!code) code = rows_json(&r, SECTOR_COLS, NSECTOR_COLS, &arr, err);
  if (!code) code = reply_set(x, "sectors", arr, err);
  st_db_rows_free(&r);
  return code;
}

static st_code op_sector_claim(st_db *db, op_ctx *x, st_err *err) {
  static const char *const keys[] = {"miner", "machine", "host", "group", "max", "max_retries", NULL};
  const char *host;
  int64_t group = -1, max = 1, retries = 0;
  st_code code = p_only(x, "sector_claim", keys, err);
  if (!code) code = p_machine(db, x, err);
  if (!code) code = p_text(x, "host", false, ST_REG_HOST_MAX, &host, err);
  if (!code) code = p_int(x, "group", true, -1, INT32_MAX, &group, err);
  if (!code) code = p_int(x, "max", false, 0, 100000, &max, err);
  if (!code) code = p_int(x, "max_retries", false, 0, INT32_MAX, &retries, err);
  if (code) return code;
  char m[N], id[N], t[N], u[N], g[N], r_[N];
  st_db_int(m, x->miner);
  st_db_int(id, x->machine);
  st_db_int(t, x->now);
  st_db_int(u, x->now + x->lease_secs);
  const char *c[] = {m, t, group >= 0 ? st_db_int(g, group) : NULL, host, st_db_int(r_, retries)};
  st_db_rows r = {0};
  code = st_db_exec(db,
                    "SELECT COUNT(*) FROM sealing WHERE miner = $1 AND owner = $2 AND state NOT IN " DONE_STATES
                    " AND lease_until >= CAST($3 AS BIGINT) AND NOT (state LIKE '%Failed' AND retries > CAST($4 AS "
                    "BIGINT))", /* a sector given up on takes no room */
                    4, (const char *const[]){m, id, t, r_}, &r, NULL, err);
  int64_t held = code ? 0 : st_db_cell_i64(&r, 0, 0);
  st_db_rows_free(&r);
  if (!code && held < max) {
    code = st_db_exec(db,
                      "SELECT number FROM sealing WHERE miner = $1 AND state NOT IN " DONE_STATES
                      " "
                      "AND (owner IS NULL OR lease_until < CAST($2 AS BIGINT)) "
                      "AND NOT (state LIKE '%Failed' AND retries > CAST($5 AS BIGINT)) "
                      "AND (CAST($3 AS BIGINT) IS NULL OR node_group IS NULL OR node_group = CAST($3 AS BIGINT)) "
                      "AND (pin_host IS NULL OR pin_host = CAST($4 AS TEXT)) ORDER BY number",
                      5, c, &r, NULL, err);
    for (int i = 0; i < r.nrows && held < max && !code; i++) {
      const char *q[] = {m, st_db_cell(&r, i, 0), id, t, u};
      uint64_t changed = 0;
      code = st_db_exec(db,
                        "UPDATE sealing SET owner = $3, lease_until = $5 WHERE miner = $1 AND number = $2 "
                        "AND (owner IS NULL OR lease_until < CAST($4 AS BIGINT))",
                        5, q, NULL, &changed, err);
      held += (int64_t)changed;
    }
    st_db_rows_free(&r);
  }
  return code ? code : list_owned(db, x, err);
}

/* ---- claimed rows: the work kinds and their keys ---- */

typedef struct work_kind {
  const char *name;
  int nkey;
  const char *const keycols[3];
} work_kind;

static const work_kind KINDS[] = {{"wdpost", 3, {"period_start", "deadline", "partition_idx"}},
                                  {"blocks", 1, {"epoch"}},
                                  {"declarations", 2, {"period_start", "deadline"}},
                                  {"sealing", 1, {"number"}}};
#define SEALING_KIND (&KINDS[3])

/* "miner = $1 AND <key column> = $base AND ...": the row's condition. */
static void where_key(const work_kind *k, int base, char *out, size_t cap) {
  int len = snprintf(out, cap, "miner = $1");
  for (int j = 0; j < k->nkey && (size_t)len < cap; j++)
    len += snprintf(out + len, cap - (size_t)len, " AND %s = $%d", k->keycols[j], base + j);
}

/* Fails unless the machine holds the row of kind with key (keyp: its nkey values) with a live
 * lease (the error names who holds it); renews that lease. */
static st_code owned(st_db *db, op_ctx *x, const work_kind *k, const char *const *keyp, const char *what, st_err *err) {
  char m[N], id[N], t[N], u[N], sql[384], where[160];
  const char *p[7] = {st_db_int(m, x->miner), st_db_int(id, x->machine), st_db_int(t, x->now),
                      st_db_int(u, x->now + x->lease_secs)};
  for (int i = 0; i < k->nkey; i++) p[4 + i] = keyp[i];
  where_key(k, 5, where, sizeof where);
  snprintf(sql, sizeof sql,
           "UPDATE %s SET lease_until = $4 WHERE %s AND owner = $2 AND lease_until >= CAST($3 AS BIGINT)", k->name,
           where);
  uint64_t changed = 0;
  st_code code = st_db_exec(db, sql, 4 + k->nkey, p, NULL, &changed, err);
  if (code || changed) return code;
  const char *q[4] = {m};
  for (int i = 0; i < k->nkey; i++) q[1 + i] = keyp[i];
  where_key(k, 2, where, sizeof where);
  snprintf(sql, sizeof sql, "SELECT owner FROM %s WHERE %s", k->name, where);
  st_db_rows r = {0};
  code = st_db_exec(db, sql, 1 + k->nkey, q, &r, NULL, err);
  if (!code && !r.nrows) code = st_err_set(err, ST_ENOENT, "%s does not exist", what);
  else if (!code)
    code = st_err_set(err, ST_ECONFLICT, "machine %lld no longer holds %s: %s", (long long)x->machine, what,
                      !st_db_cell(&r, 0, 0)                    ? "nobody holds it"
                      : st_db_cell_i64(&r, 0, 0) == x->machine ? "its lease lapsed"
                                                               : "another machine took it over");
  st_db_rows_free(&r);
  return code;
}

static st_code sector_owned(st_db *db, op_ctx *x, int64_t number, st_err *err) {
  char nb[N], what[64];
  const char *k[] = {st_db_int(nb, number)};
  snprintf(what, sizeof what, "sector %lld", (long long)number);
  return owned(db, x, SEALING_KIND, k, what, err);
}

static st_code op_sector_update(st_db *db, op_ctx *x, st_err *err) {
  static const char *const keys[] = {"miner", "machine", "number", "set", "retries_inc", NULL};
  int64_t number;
  bool inc;
  const json_t *set = json_object_get(x->p, "set");
  st_code code = p_only(x, "sector_update", keys, err);
  if (!code) code = p_machine(db, x, err);
  if (!code) code = p_int(x, "number", false, 0, INT64_MAX, &number, err);
  if (!code) code = p_bool(x, "retries_inc", false, &inc, err);
  if (!code && !json_is_object(set)) code = st_err_set(err, ST_EINVAL, "field \"set\" must be an object of columns");
  if (!code) code = sector_owned(db, x, number, err);
  if (code) return code;
  char sql[2048], m[N], nb[N], t[N], vals[SETTABLE_END][N];
  const char *p[SETTABLE_END + 4] = {st_db_int(m, x->miner), st_db_int(nb, number), st_db_int(t, x->now)};
  int np = 3;
  int len = snprintf(sql, sizeof sql, "UPDATE sealing SET updated = $3%s", inc ? ", retries = retries + 1" : "");
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)set, key, v) {
    size_t c = SETTABLE_FIRST;
    while (c < SETTABLE_END && strcmp(SECTOR_COLS[c].name, key)) c++;
    if (c == SETTABLE_END)
      return st_err_set(err, ST_EINVAL, "field \"set\": \"%.64s\" is not a column it may set", key);
    if (json_is_null(v)) p[np] = NULL;
    else if (SECTOR_COLS[c].type == C_INT && json_is_integer(v)) p[np] = st_db_int(vals[np - 3], json_integer_value(v));
    else if (SECTOR_COLS[c].type == C_TEXT && json_is_string(v)) p[np] = json_string_value(v);
    else
      return st_err_set(err, ST_EINVAL, "field \"set\": \"%s\" must be %s or null", key,
                        SECTOR_COLS[c].type == C_INT ? "an integer" : "a string");
    np++;
    len += snprintf(sql + len, sizeof sql - (size_t)len, ", %s = $%d", key, np);
  }
  snprintf(sql + len, sizeof sql - (size_t)len, " WHERE miner = $1 AND number = $2");
  return st_db_exec(db, sql, np, p, NULL, NULL, err);
}

static st_code op_sector_list(st_db *db, op_ctx *x, st_err *err) {
  static const char *const keys[] = {"miner", NULL};
  st_code code = p_only(x, "sector_list", keys, err);
  if (code) return code;
  char m[N], sql[sizeof SECTOR_SELECT + 64];
  const char *p[] = {st_db_int(m, x->miner)};
  snprintf(sql, sizeof sql, "%sWHERE miner = $1 ORDER BY number", SECTOR_SELECT);
  st_db_rows r = {0};
  json_t *arr = NULL;
  code = st_db_exec(db, sql, 1, p, &r, NULL, err);
  if (!code) code = rows_json(&r, SECTOR_COLS, NSECTOR_COLS, &arr, err);
  if (!code) code = reply_set(x, "sectors", arr, err);
  st_db_rows_free(&r);
  return code;
}

static st_code op_sector_get(st_db *db, op_ctx *x, st_err *err) {
  static const char *const keys[] = {"miner", "number", NULL};
  int64_t number;
  st_code code = p_only(x, "sector_get", keys, err);
  if (!code) code = p_int(x, "number", false, 0, INT64_MAX, &number, err);
  if (code) return code;
  char m[N], nb[N], sql[sizeof SECTOR_SELECT + 64];
  const char *p[] = {st_db_int(m, x->miner), st_db_int(nb, number)};
  snprintf(sql, sizeof sql, "%sWHERE miner = $1 AND number = $2", SECTOR_SELECT);
  st_db_rows r = {0};
  code = st_db_exec(db, sql, 2, p, &r, NULL, err);
  if (!code && !r.nrows)
    code = st_err_set(err, ST_ENOENT, "sector %lld of t0%lld is not in the cluster's database", (long long)number,
                      (long long)x->miner);
  if (!code) code = reply_set(x, "sector", row_json(&r, 0, SECTOR_COLS, NSECTOR_COLS), err);
  st_db_rows_free(&r);
  return code;
}

/* ---- the posters' work: wdpost, blocks, declarations ---- */

/* The kind and keys of params; sealing only when allow_sealing. */
static st_code p_work(const op_ctx *x, bool allow_sealing, const work_kind **kind, const json_t **keys, st_err *err) {
  const char *name;
  st_code code = p_text(x, "kind", false, 32, &name, err);
  if (code) return code;
  *kind = NULL;
  for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
    if (!strcmp(KINDS[i].name, name) && (allow_sealing || strcmp(name, "sealing"))) *kind = &KINDS[i];
  if (!*kind)
    return st_err_set(err, ST_EINVAL, "field \"kind\": \"%.32s\" is not wdpost, blocks or declarations%s", name,
                      allow_sealing ? " or sealing" : "");
  *keys = json_object_get(x->p, "keys");
  if (!json_is_array(*keys) || !json_array_size(*keys) || json_array_size(*keys) > 10000)
    return st_err_set(err, ST_EINVAL, "field \"keys\" must be an array of 1 to 10000 keys");
  size_t i;
  const json_t *k;
  json_array_foreach(*keys, i, k) {
    if (!json_is_array(k) || json_array_size(k) != (size_t)(*kind)->nkey)
      return st_err_set(err, ST_EINVAL, "field \"keys\"[%zu] must be an array of %d integers (%s%s%s%s%s)", i,
                        (*kind)->nkey, (*kind)->keycols[0], (*kind)->nkey > 1 ? ", " : "",
                        (*kind)->nkey > 1 ? (*kind)->keycols[1] : "", (*kind)->nkey > 2 ? ", " : "",
                        (*kind)->nkey > 2 ? (*kind)->keycols[2] : "");
    for (int j = 0; j < (*kind)->nkey; j++) {
      const json_t *v = json_array_get(k, (size_t)j);
      if (!json_is_integer(v)) /* a period may start before genesis: negative is fine */
        return st_err_set(err, ST_EINVAL, "field \"keys\"[%zu][%d] (%s) must be an integer", i, j, (*kind)->keycols[j]);
    }
  }
  return ST_OK;
}

/* The key's values as parameters (vals holds their text) and "<kind> <column> <value>..." in
 * what, for errors. */
static void key_text(const work_kind *k, const json_t *key, char vals[3][N], const char *p[3], char *what, size_t cap) {
  int len = snprintf(what, cap, "%s", k->name);
  for (int j = 0; j < k->nkey; j++) {
    p[j] = st_db_int(vals[j], json_integer_value(json_array_get(key, (size_t)j)));
    if ((size_t)len < cap) len += snprintf(what + len, cap - (size_t)len, " %s %s", k->keycols[j], p[j]);
  }
}

static const col WORK_COLS[] = {{"owner", C_INT}, {"msg_cid", C_TEXT}, {"exit_code", C_INT}, {"done", C_INT}};

/* Claims one row (making it when missing); *claimed says whether it did. */
static st_code claim_one(st_db *db, op_ctx *x, const work_kind *k, const char *const *keyp, bool takeover,
                         uint64_t *claimed, st_err *err) {
  char m[N], id[N], t[N], u[N], sql[512], where[160];
  const char *p[7] = {st_db_int(m, x->miner), st_db_int(id, x->machine), st_db_int(t, x->now),
                      st_db_int(u, x->now + x->lease_secs)};
  for (int j = 0; j < k->nkey; j++) p[4 + j] = keyp[j];
  int len = snprintf(sql, sizeof sql, "INSERT INTO %s (miner, owner, updated, lease_until", k->name);
  for (int j = 0; j < k->nkey; j++) len += snprintf(sql + len, sizeof sql - (size_t)len, ", %s", k->keycols[j]);
  len += snprintf(sql + len, sizeof sql - (size_t)len, ") VALUES ($1, $2, $3, $4");
  for (int j = 0; j < k->nkey; j++) len += snprintf(sql + len, sizeof sql - (size_t)len, ", $%d", 5 + j);
  snprintf(sql + len, sizeof sql - (size_t)len, ") ON CONFLICT DO NOTHING");
  st_code code = st_db_exec(db, sql, 4 + k->nkey, p, NULL, claimed, err);
  if (code || *claimed || !takeover) return code;
  where_key(k, 5, where, sizeof where);
  snprintf(sql, sizeof sql,
           "UPDATE %s SET owner = $2, lease_until = $4, updated = $3 WHERE %s AND done = 0 "
           "AND (owner IS NULL OR owner = $2 OR lease_until < CAST($3 AS BIGINT))",
           k->name, where);
  return st_db_exec(db, sql, 4 + k->nkey, p, NULL, claimed, err);
}

/* The row of kind with key, as {owner, msg_cid, exit_code, done} into *out. */
static st_code work_row(st_db *db, op_ctx *x, const work_kind *k, const char *const *keyp, json_t **out, st_err *err) {
  char m[N], sql[384], where[160];
  const char *q[4] = {st_db_int(m, x->miner)};
  for (int j = 0; j < k->nkey; j++) q[1 + j] = keyp[j];
  where_key(k, 2, where, sizeof where);
  snprintf(sql, sizeof sql, "SELECT owner, msg_cid, exit_code, done FROM %s WHERE %s", k->name, where);
  st_db_rows r = {0};
  st_code code = st_db_exec(db, sql, 1 + k->nkey, q, &r, NULL, err);
  *out = code ? NULL : r.nrows ? row_json(&r, 0, WORK_COLS, 4) : json_object();
  st_db_rows_free(&r);
  if (!code && !*out) code = st_err_set(err, ST_ENOMEM, "out of memory");
  return code;
}

static st_code op_claim(st_db *db, op_ctx *x, st_err *err) {
  static const char *const keys[] = {"kind", "miner", "machine", "keys", "max", "takeover", NULL};
  const work_kind *k = NULL;
  const json_t *ks = NULL;
  int64_t max = INT64_MAX;
  bool takeover;
  st_code code = p_only(x, "claim", keys, err);
  if (!code) code = p_machine(db, x, err);
  if (!code) code = p_work(x, false, &k, &ks, err);
  if (!code) code = p_int(x, "max", true, 0, INT64_MAX, &max, err);
  if (!code) code = p_bool(x, "takeover", true, &takeover, err);
  if (code) return code;
  json_t *rows = json_array();
  if (!rows) return st_err_set(err, ST_ENOMEM, "out of memory");
  int64_t claimed = 0;
  size_t i;
  const json_t *key;
  json_array_foreach(ks, i, key) {
    char vals[3][N], what[160];
    const char *kp[3];
    key_text(k, key, vals, kp, what, sizeof what);
    uint64_t got = 0;
    json_t *o = NULL;
    if (claimed < max) code = claim_one(db, x, k, kp, takeover, &got, err);
    if (!code) code = work_row(db, x, k, kp, &o, err);
    if (!code && (json_object_set(o, "key", (json_t *)key) || json_object_set_new(o, "claimed", json_boolean(got)) ||
                  json_array_append(rows, o)))
      code = st_err_set(err, ST_ENOMEM, "out of memory");
    json_decref(o);
    if (code) break;
    claimed += got ? 1 : 0;
  }
  /* a round's row matters only while the round is near: keep a day of mainnet's epochs */
  if (!code && k == &KINDS[1]) {
    char m[N], old[N];
    const char *p[] = {st_db_int(m, x->miner),
                       st_db_int(old, json_integer_value(json_array_get(json_array_get(ks, 0), 0)) - 2880)};
    code = st_db_exec(db, "DELETE FROM blocks WHERE miner = $1 AND epoch < CAST($2 AS BIGINT)", 2, p, NULL, NULL, err);
  }
  if (!code) return reply_set(x, "rows", rows, err);
  json_decref(rows);
  return code;
}

static st_code op_check(st_db *db, op_ctx *x, st_err *err) {
  static const char *const keys[] = {"kind", "miner", "machine", "keys", NULL};
  const work_kind *k = NULL;
  const json_t *ks = NULL;
  st_code code = p_only(x, "check", keys, err);
  if (!code) code = p_machine(db, x, err);
  if (!code) code = p_work(x, true, &k, &ks, err);
  if (code) return code;
  size_t i;
  const json_t *key;
  json_array_foreach(ks, i, key) {
    if (code) break;
    char vals[3][N], what[160];
    const char *kp[3];
    key_text(k, key, vals, kp, what, sizeof what);
    code = owned(db, x, k, kp, what, err);
  }
  return code ? code : reply_set(x, "lease_until", json_integer(x->now + x->lease_secs), err);
}

static st_code op_update(st_db *db, op_ctx *x, st_err *err) {
  static const char *const keys[] = {"kind", "miner", "machine", "keys", "msg_cid", "exit_code", "done", NULL};
  const work_kind *k = NULL;
  const json_t *ks = NULL;
  const char *cid;
  int64_t exit_code = 0;
  bool done = false;
  st_code code = p_only(x, "update", keys, err);
  if (!code) code = p_machine(db, x, err);
  if (!code) code = p_work(x, false, &k, &ks, err);
  if (!code) code = p_text(x, "msg_cid", true, 128, &cid, err);
  if (!code) code = p_int(x, "exit_code", true, INT32_MIN, INT32_MAX, &exit_code, err);
  if (!code) code = p_bool(x, "done", false, &done, err);
  if (code) return code;
  bool has_cid = json_object_get(x->p, "msg_cid") != NULL, has_exit = json_object_get(x->p, "exit_code") != NULL;
  size_t i;
  const json_t *key;
  json_array_foreach(ks, i, key) {
    if (code) break;
    char vals[3][N], what[160], sql[512], where[160], m[N], t[N], e[N];
    const char *kp[3];
    key_text(k, key, vals, kp, what, sizeof what);
    if ((code = owned(db, x, k, kp, what, err))) break;
    /* $1 miner, $2 now, then what is set, then the key */
    const char *p[8] = {st_db_int(m, x->miner), st_db_int(t, x->now)};
    int np = 2, len = snprintf(sql, sizeof sql, "UPDATE %s SET updated = $2", k->name);
    if (has_cid) {
      p[np++] = cid;
      len += snprintf(sql + len, sizeof sql - (size_t)len, ", msg_cid = $%d", np);
    }
    if (has_exit) {
      p[np++] = st_db_int(e, exit_code);
      len += snprintf(sql + len, sizeof sql - (size_t)len, ", exit_code = $%d", np);
    }
    if (done) len += snprintf(sql + len, sizeof sql - (size_t)len, ", done = 1");
    where_key(k, np + 1, where, sizeof where);
    for (int j = 0; j < k->nkey; j++) p[np++] = kp[j];
    snprintf(sql + len, sizeof sql - (size_t)len, " WHERE %s", where);
    code = st_db_exec(db, sql, np, p, NULL, NULL, err);
  }
  return code;
}

/* ---- dispatch ---- */

typedef st_code (*op_fn)(st_db *db, op_ctx *x, st_err *err);
typedef struct op_entry {
  const char *name;
  op_fn fn;
} op_entry;

static const op_entry OPS[] = {{"join", op_join},
                               {"heartbeat", op_heartbeat},
                               {"leave", op_leave},
                               {"machines", op_machines},
                               {"sector_new", op_sector_new},
                               {"sector_claim", op_sector_claim},
                               {"sector_update", op_sector_update},
                               {"sector_list", op_sector_list},
                               {"sector_get", op_sector_get},
                               {"claim", op_claim},
                               {"check", op_check},
                               {"update", op_update}};

typedef struct tx_ctx {
  const op_entry *e;
  op_ctx x;
} tx_ctx;

static st_code run_tx(st_db *db, void *arg, st_err *err) {
  tx_ctx *t = arg;
  json_decref(t->x.reply); /* a retried transaction starts over */
  t->x.reply = json_object();
  if (!t->x.reply) return st_err_set(err, ST_ENOMEM, "out of memory");
  return t->e->fn(db, &t->x, err);
}

st_code st_cluster_op(st_db *db, const char *op, const json_t *params, int64_t now, json_t **reply, st_err *err) {
  *reply = NULL;
  tx_ctx t = {0};
  for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
    if (!strcmp(OPS[i].name, op)) t.e = &OPS[i];
  if (!t.e) return st_err_set(err, ST_ENOENT, "no cluster operation \"%.40s\"", op);
  if (!json_is_object(params)) return st_err_set(err, ST_EINVAL, "cluster %s: params must be a JSON object", op);
  t.x.p = params;
  t.x.now = now;
  const json_t *miner = json_object_get(params, "miner");
  if (!json_is_integer(miner) || json_integer_value(miner) < 0)
    return st_err_set(err, ST_EINVAL, "cluster %s: field \"miner\" must be the miner's actor id (1000 for t01000)", op);
  t.x.miner = json_integer_value(miner);
  st_code code = st_db_tx(db, run_tx, &t, err);
  if (code) {
    json_decref(t.x.reply);
    return st_err_wrap(err, code, "cluster %s", op);
  }
  *reply = t.x.reply;
  return ST_OK;
}

st_code st_cluster_counts(st_db *db, int64_t now, json_t **out, st_err *err) {
  char t[N];
  const char *p[] = {st_db_int(t, now)};
  st_db_rows r = {0};
  st_code code = st_db_exec(
      db,
      "SELECT 'machines', CASE WHEN stopped IS NULL AND last_contact + lease_secs >= CAST($1 AS BIGINT) THEN 'alive' "
      "ELSE 'lapsed' END AS s, COUNT(*) FROM machines GROUP BY s "
      "UNION ALL SELECT 'sealing', state, COUNT(*) FROM sealing GROUP BY state "
      "UNION ALL SELECT 'wdpost', CASE WHEN done = 1 THEN 'done' WHEN lease_until >= CAST($1 AS BIGINT) THEN 'held' "
      "ELSE 'free' END AS s, COUNT(*) FROM wdpost GROUP BY s "
      "UNION ALL SELECT 'blocks', CASE WHEN done = 1 THEN 'done' WHEN lease_until >= CAST($1 AS BIGINT) THEN 'held' "
      "ELSE 'free' END AS s, COUNT(*) FROM blocks GROUP BY s "
      "UNION ALL SELECT 'declarations', CASE WHEN done = 1 THEN 'done' WHEN lease_until >= CAST($1 AS BIGINT) THEN "
      "'held' ELSE 'free' END AS s, COUNT(*) FROM declarations GROUP BY s",
      1, p, &r, NULL, err);
  *out = code ? NULL : json_array();
  for (int i = 0; *out && i < r.nrows; i++)
    if (json_array_append_new(*out, json_pack("[s s I]", st_db_cell(&r, i, 0), st_db_cell(&r, i, 1),
                                              (json_int_t)st_db_cell_i64(&r, i, 2)))) {
      json_decref(*out);
      *out = NULL;
    }
  if (!code && !*out) code = st_err_set(err, ST_ENOMEM, "out of memory");
  st_db_rows_free(&r);
  return code;
}
