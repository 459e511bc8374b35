/* st_db: the SQLite and PostgreSQL backends behind one statement interface. */
#include "db/st_db.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/st_fs.h"

/* Prepared statements, kept per connection by SQL text: parsing a statement costs more than
 * running one of the registry's point lookups. */
#define STMT_CACHE 48
typedef struct cached_stmt {
  char *sql;
  sqlite3_stmt *lite;
  char name[16]; /* PostgreSQL's name for it */
} cached_stmt;

struct st_db {
  st_db_backend backend;
  cached_stmt cache[STMT_CACHE];
  int ncached;
  sqlite3 *lite;
  PGconn *pg;
  bool in_tx;
  bool transient;  /* the last failure was a conflict worth retrying */
  char where[300]; /* the SQLite file, or the PostgreSQL URL without its password, for errors */
};

#define TX_ATTEMPTS 50
#define TX_DEADLINE_S 30.0 /* a retried write gives up after this long, inside the client's 60 s */

st_db_backend st_db_backend_of(const st_db *db) { return db->backend; }

const char *st_db_backend_name(st_db_backend b) { return b == ST_DB_SQLITE ? "sqlite" : "postgres"; }

void st_db_url_redacted(const char *url, char *out, size_t cap) {
  /* scheme://user:password@host -> scheme://user:***@host, and ?password=x -> ?password=*** */
  char tmp[1024];
  const char *scheme = strstr(url, "://");
  const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
  const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
  if (at && slash && at > slash) at = NULL; /* an '@' in the path or query is not userinfo */
  const char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
  if (colon) snprintf(tmp, sizeof tmp, "%.*s:***%s", (int)(colon - url), url, at);
  else snprintf(tmp, sizeof tmp, "%s", url);
  size_t o = 0;
  for (const char *p = tmp; *p && o + 1 < cap;) {
    bool key = (p == tmp || p[-1] == '?' || p[-1] == '&' || p[-1] == ' ') && !strncmp(p, "password=", 9);
    if (!key) {
      out[o++] = *p++;
      continue;
    }
    int n = snprintf(out + o, cap - o, "password=***");
    o += n > 0 && (size_t)n < cap - o ? (size_t)n : cap - o - 1;
    p += 9;
    while (*p && *p != '&' && *p != ' ') p++;
  }
  out[o] = 0;
}

const char *st_db_int(char buf[ST_DB_INT_MAX], int64_t v) {
  snprintf(buf, ST_DB_INT_MAX, "%" PRId64, v);
  return buf;
}

/* ---- rows ---- */

const char *st_db_cell(const st_db_rows *rows, int r, int c) {
  return rows->cells[(size_t)r * (size_t)rows->ncols + (size_t)c];
}

int64_t st_db_cell_i64(const st_db_rows *rows, int r, int c) {
  const char *s = st_db_cell(rows, r, c);
  return s ? strtoll(s, NULL, 10) : 0;
}

void st_db_rows_free(st_db_rows *rows) {
  if (!rows) return;
  if (rows->cells)
    for (size_t i = 0; i < (size_t)rows->nrows * (size_t)rows->ncols; i++) free(rows->cells[i]);
  free(rows->cells);
  *rows = (st_db_rows){0};
}

static st_code rows_grow(st_db_rows *rows, int ncols, size_t *cap, st_err *err) {
  rows->ncols = ncols;
  size_t need = (size_t)(rows->nrows + 1) * (size_t)ncols;
  if (need <= *cap) return ST_OK;
  size_t ncap = *cap ? *cap * 2 : 16 * (size_t)(ncols ? ncols : 1);
  while (ncap < need) ncap *= 2;
  char **cells = realloc(rows->cells, ncap * sizeof *cells);
  if (!cells) return st_err_set(err, ST_ENOMEM, "out of memory reading query rows");
  rows->cells = cells;
  *cap = ncap;
  return ST_OK;
}

static st_code dup_cell(const char *s, size_t n, char **out, st_err *err) {
  *out = NULL;
  if (!s) return ST_OK;
  char *p = malloc(n + 1);
  if (!p) return st_err_set(err, ST_ENOMEM, "out of memory reading query rows");
  memcpy(p, s, n);
  p[n] = 0;
  *out = p;
  return ST_OK;
}

/* ---- the statement cache ---- */

static cached_stmt *find_cached(st_db *db, const char *sql) {
  for (int i = 0; i < db->ncached; i++)
    if (!strcmp(db->cache[i].sql, sql)) return &db->cache[i];
  return NULL;
}

/* A new entry for sql, or NULL when the cache is full (the statement then runs uncached). */
static cached_stmt *add_cached(st_db *db, const char *sql) {
  if (db->ncached == STMT_CACHE) return NULL;
  char *copy = strdup(sql);
  if (!copy) return NULL;
  cached_stmt *c = &db->cache[db->ncached];
  *c = (cached_stmt){.sql = copy};
  snprintf(c->name, sizeof c->name, "st%d", db->ncached);
  db->ncached++;
  return c;
}

static void clear_cache(st_db *db) {
  for (int i = 0; i < db->ncached; i++) {
    if (db->cache[i].lite) sqlite3_finalize(db->cache[i].lite);
    free(db->cache[i].sql);
  }
  db->ncached = 0;
}

/* ---- SQLite ---- */

/* Finishes with a statement: a cached one is reset for its next use, any other is freed. */
static void lite_done(sqlite3_stmt *st, const cached_stmt *hit) {
  if (!hit) {
    sqlite3_finalize(st);
    return;
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

static st_code lite_fail(st_db *db, int rc, st_err *err) {
  int ext = sqlite3_extended_errcode(db->lite);
  const char *msg = sqlite3_errmsg(db->lite);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    db->transient = true;
    return st_err_set(err, ST_ECONFLICT, "sqlite: database is busy: %s", msg);
  }
  if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
    return st_err_set(err, ST_EEXIST, "sqlite: %s", msg);
  if (ext == SQLITE_CONSTRAINT_FOREIGNKEY) return st_err_set(err, ST_ECONFLICT, "sqlite: %s", msg);
  if (rc == SQLITE_CONSTRAINT) return st_err_set(err, ST_EINVAL, "sqlite: %s", msg);
  /* SQLITE_FULL, or an I/O error whose os error (or the free space left) says the same */
  int os = sqlite3_system_errno(db->lite);
  if ((rc & 0xff) == SQLITE_FULL || ((rc & 0xff) == SQLITE_IOERR && st_fs_full(db->where, os ? os : EIO)))
    return st_err_set(err, ST_EIO, "sqlite database path=\"%s\": the disk is full (%s): %s", db->where,
                      os ? strerror(os) : "SQLITE_FULL", msg);
  if (rc == SQLITE_FULL || rc == SQLITE_IOERR || rc == SQLITE_CORRUPT || rc == SQLITE_CANTOPEN || rc == SQLITE_READONLY)
    return st_err_set(err, ST_EIO, "sqlite: %s", msg);
  return st_err_set(err, ST_EINTERNAL, "sqlite: %s", msg);
}

static st_code lite_exec(st_db *db, const char *sql, int nparams, const char *const *params, st_db_rows *rows,
                         uint64_t *changed, st_err *err) {
  sqlite3_stmt *st = NULL;
  cached_stmt *hit = find_cached(db, sql);
  int rc = SQLITE_OK;
  if (hit) st = hit->lite;
  else if ((rc = sqlite3_prepare_v3(db->lite, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL)) != SQLITE_OK)
    return lite_fail(db, rc, err);
  else if ((hit = add_cached(db, sql))) hit->lite = st;
  for (int i = 0; i < nparams; i++) {
    char name[16];
    snprintf(name, sizeof name, "$%d", i + 1);
    int idx = sqlite3_bind_parameter_index(st, name);
    if (!idx) continue;
    rc = params[i] ? sqlite3_bind_text(st, idx, params[i], -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, idx);
    if (rc != SQLITE_OK) {
      st_code code = lite_fail(db, rc, err);
      lite_done(st, hit);
      return code;
    }
  }
  size_t cap = 0;
  st_code code = ST_OK;
  int ncols = sqlite3_column_count(st);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (!rows) continue;
    if ((code = rows_grow(rows, ncols, &cap, err))) break;
    for (int c = 0; c < ncols && !code; c++) {
      const unsigned char *text = sqlite3_column_text(st, c);
      code = dup_cell((const char *)text, (size_t)sqlite3_column_bytes(st, c),
                      &rows->cells[(size_t)rows->nrows * (size_t)ncols + (size_t)c], err);
      if (code) /* keep the row countable for st_db_rows_free */
        for (int k = c + 1; k < ncols; k++) rows->cells[(size_t)rows->nrows * (size_t)ncols + (size_t)k] = NULL;
    }
    rows->nrows++;
    if (code) break;
  }
  if (!code && rc != SQLITE_DONE) code = lite_fail(db, rc, err);
  if (!code && changed) *changed = (uint64_t)sqlite3_changes64(db->lite);
  lite_done(st, hit);
  if (code && rows) st_db_rows_free(rows);
  return code;
}

static st_code lite_open(const char *path, st_db *db, st_err *err) {
  if (!*path) return st_err_set(err, ST_EINVAL, "database url \"sqlite:\" names no file (want sqlite:PATH)");
  int rc = sqlite3_open_v2(path, &db->lite, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    st_code code = st_err_set(err, ST_EIO, "could not open sqlite database path=\"%s\": %s", path,
                              db->lite ? sqlite3_errmsg(db->lite) : sqlite3_errstr(rc));
    return code;
  }
  sqlite3_extended_result_codes(db->lite, 1);
  sqlite3_busy_timeout(db->lite, 5000);
  /* WAL lets readers run beside the writer; FULL sync makes an acknowledged commit durable. */
  static const char *const setup[] = {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"};
  for (size_t i = 0; i < sizeof setup / sizeof setup[0]; i++) {
    /* switching a new file to WAL takes a lock that the busy timeout does not wait for */
    st_code code;
    for (int tries = 0; (db->transient = false, code = lite_exec(db, setup[i], 0, NULL, NULL, NULL, err)) &&
                        db->transient && tries < 500;
         tries++) {
      struct timespec ts = {0, 10 * 1000000L};
      nanosleep(&ts, NULL);
    }
    if (code) return st_err_wrap(err, code, "could not set up sqlite database path=\"%s\"", path);
  }
  return ST_OK;
}

/* ---- PostgreSQL ---- */

static void pg_quiet(void *arg, const char *message) {
  (void)arg;
  (void)message;
}

static st_code pg_fail(st_db *db, PGresult *res, st_err *err) {
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  char msg[ST_ERR_MSG_MAX];
  snprintf(msg, sizeof msg, "%s", primary ? primary : PQerrorMessage(db->pg));
  msg[strcspn(msg, "\n")] = 0;
  if (!state || PQstatus(db->pg) != CONNECTION_OK) return st_err_set(err, ST_EUNAVAIL, "postgres: %s", msg);
  if (!strcmp(state, "40001") || !strcmp(state, "40P01")) {
    db->transient = true;
    return st_err_set(err, ST_ECONFLICT, "postgres: %s", msg);
  }
  if (!strcmp(state, "53100"))
    return st_err_set(err, ST_EIO, "postgres database %s: the server's disk is full (sqlstate 53100): %s", db->where,
                      msg);
  if (!strcmp(state, "23505")) return st_err_set(err, ST_EEXIST, "postgres: %s", msg);
  if (!strcmp(state, "23503")) return st_err_set(err, ST_ECONFLICT, "postgres: %s", msg);
  if (!strncmp(state, "23", 2) || !strncmp(state, "22", 2)) return st_err_set(err, ST_EINVAL, "postgres: %s", msg);
  if (!strncmp(state, "08", 2) || !strncmp(state, "57", 2)) return st_err_set(err, ST_EUNAVAIL, "postgres: %s", msg);
  return st_err_set(err, ST_EINTERNAL, "postgres: %s (sqlstate %s)", msg, state);
}

static st_code pg_exec_once(st_db *db, const char *sql, int nparams, const char *const *params, st_db_rows *rows,
                            uint64_t *changed, st_err *err) {
  PGresult *res;
  if (!nparams) {
    res = PQexec(db->pg, sql); /* transaction control and scripts */
  } else {
    cached_stmt *hit = find_cached(db, sql);
    if (!hit && (hit = add_cached(db, sql))) {
      res = PQprepare(db->pg, hit->name, sql, nparams, NULL);
      if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        st_code code = pg_fail(db, res, err);
        PQclear(res);
        free(hit->sql);
        db->ncached--; /* it was the last entry */
        return code;
      }
      PQclear(res);
    }
    res = hit ? PQexecPrepared(db->pg, hit->name, nparams, params, NULL, NULL, 0)
              : PQexecParams(db->pg, sql, nparams, NULL, params, NULL, NULL, 0);
  }
  ExecStatusType status = PQresultStatus(res);
  st_code code = ST_OK;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    code = pg_fail(db, res, err);
  } else {
    if (rows && status == PGRES_TUPLES_OK) {
      size_t cap = 0;
      int n = PQntuples(res), ncols = PQnfields(res);
      rows->ncols = ncols;
      for (int r = 0; r < n && !code; r++) {
        if ((code = rows_grow(rows, ncols, &cap, err))) break;
        for (int c = 0; c < ncols; c++) {
          char **cell = &rows->cells[(size_t)rows->nrows * (size_t)ncols + (size_t)c];
          if (code) *cell = NULL;
          else
            code = dup_cell(PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c), (size_t)PQgetlength(res, r, c), cell,
                            err);
        }
        rows->nrows++;
      }
      if (code) st_db_rows_free(rows);
    }
    if (changed) *changed = strtoull(PQcmdTuples(res), NULL, 10);
  }
  PQclear(res);
  return code;
}

static st_code pg_open(const char *url, st_db *db, st_err *err) {
  db->pg = PQconnectdb(url);
  if (!db->pg) return st_err_set(err, ST_ENOMEM, "out of memory connecting to postgres");
  if (PQstatus(db->pg) != CONNECTION_OK) {
    char shown[256], msg[ST_ERR_MSG_MAX];
    st_db_url_redacted(url, shown, sizeof shown);
    snprintf(msg, sizeof msg, "%s", PQerrorMessage(db->pg));
    msg[strcspn(msg, "\n")] = 0;
    return st_err_set(err, ST_EUNAVAIL, "could not connect to postgres at %s: %s", shown, msg);
  }
  PQsetNoticeProcessor(db->pg, pg_quiet, NULL);
  return ST_OK;
}

static st_code pg_exec(st_db *db, const char *sql, int nparams, const char *const *params, st_db_rows *rows,
                       uint64_t *changed, st_err *err) {
  st_code code = pg_exec_once(db, sql, nparams, params, rows, changed, err);
  /* A connection lost between transactions (a PostgreSQL restart, an idle timeout) shows only
   * when a call fails on it; reconnect and run that call again, once. Inside a transaction
   * the failure stands: the transaction is gone with the connection. */
  if (code && !db->in_tx && PQstatus(db->pg) != CONNECTION_OK) {
    PQreset(db->pg);
    clear_cache(db); /* a new session has none of the old prepared statements */
    if (PQstatus(db->pg) == CONNECTION_OK) code = pg_exec_once(db, sql, nparams, params, rows, changed, err);
  }
  return code;
}

/* ---- common ---- */

static pthread_once_t lite_once = PTHREAD_ONCE_INIT;
/* SQLite's allocation statistics take a process-wide mutex on every malloc; we never read them. */
static void lite_configure(void) {
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  sqlite3_initialize();
}

st_code st_db_open(const char *url, st_db **out, st_err *err) {
  *out = NULL;
  pthread_once(&lite_once, lite_configure);
  st_db *db = calloc(1, sizeof *db);
  if (!db) return st_err_set(err, ST_ENOMEM, "out of memory opening database");
  st_code code;
  if (!strncmp(url, "sqlite:", 7)) {
    db->backend = ST_DB_SQLITE;
    snprintf(db->where, sizeof db->where, "%s", url + 7);
    code = lite_open(url + 7, db, err);
  } else if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13)) {
    db->backend = ST_DB_POSTGRES;
    st_db_url_redacted(url, db->where, sizeof db->where);
    code = pg_open(url, db, err);
  } else {
    char shown[256];
    st_db_url_redacted(url, shown, sizeof shown);
    code = st_err_set(err, ST_EINVAL, "database url \"%s\" is neither sqlite:PATH nor postgres://...", shown);
  }
  if (code) {
    st_db_close(db);
    return code;
  }
  *out = db;
  return ST_OK;
}

void st_db_close(st_db *db) {
  if (!db) return;
  clear_cache(db);
  if (db->lite) sqlite3_close_v2(db->lite);
  if (db->pg) PQfinish(db->pg);
  free(db);
}

st_code st_db_exec(st_db *db, const char *sql, int nparams, const char *const *params, st_db_rows *rows,
                   uint64_t *changed, st_err *err) {
  if (rows) *rows = (st_db_rows){0};
  if (changed) *changed = 0;
  db->transient = false;
  return db->backend == ST_DB_SQLITE ? lite_exec(db, sql, nparams, params, rows, changed, err)
                                     : pg_exec(db, sql, nparams, params, rows, changed, err);
}

st_code st_db_exec_script(st_db *db, const char *sql, st_err *err) {
  db->transient = false;
  if (db->backend == ST_DB_POSTGRES) return pg_exec(db, sql, 0, NULL, NULL, NULL, err);
  char *msg = NULL;
  int rc = sqlite3_exec(db->lite, sql, NULL, NULL, &msg);
  if (rc == SQLITE_OK) return ST_OK;
  st_code code = lite_fail(db, rc, err);
  sqlite3_free(msg);
  return code;
}

static void backoff(int attempt) {
  /* 1..(2*attempt) ms, spread so that colliding writers do not collide again in step */
  long ms = 1 + (long)((unsigned)rand() % (unsigned)(2 * attempt + 1));
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

st_code st_db_tx(st_db *db, st_db_tx_fn fn, void *ctx, st_err *err) {
  if (db->in_tx) return st_err_set(err, ST_EINTERNAL, "nested database transaction");
  const char *begin = db->backend == ST_DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN ISOLATION LEVEL SERIALIZABLE";
  st_code code = ST_OK;
  double deadline = now_s() + TX_DEADLINE_S;
  int attempt;
  for (attempt = 1; attempt <= TX_ATTEMPTS && now_s() < deadline; attempt++) {
    code = st_db_exec(db, begin, 0, NULL, NULL, NULL, err);
    if (code) {
      if (db->transient) {
        backoff(attempt);
        continue;
      }
      return code;
    }
    db->in_tx = true;
    code = fn(db, ctx, err);
    /* PostgreSQL answers COMMIT of a failed transaction with a rollback, not an error */
    if (!code && db->backend == ST_DB_POSTGRES && PQtransactionStatus(db->pg) == PQTRANS_INERROR)
      code = st_err_set(err, ST_EINTERNAL, "postgres: a statement in the transaction failed unnoticed; rolled back");
    bool transient = code && db->transient;
    if (!code) {
      code = st_db_exec(db, "COMMIT", 0, NULL, NULL, NULL, err);
      transient = code && db->transient;
    }
    if (code) {
      st_err keep = err ? *err : (st_err){0};
      st_db_exec(db, "ROLLBACK", 0, NULL, NULL, NULL, NULL);
      if (err) *err = keep;
    }
    db->in_tx = false;
    if (!transient) return code;
    backoff(attempt);
  }
  return st_err_wrap(err, ST_EUNAVAIL, "database too busy: gave up after %d conflicting attempts in %.0f s",
                     attempt - 1, TX_DEADLINE_S);
}
