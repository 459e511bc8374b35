/* st_db: one small SQL interface over SQLite (embedded) and PostgreSQL (libpq).
 *
 * The registry and the cluster's work queues run the same SQL text on both backends. Statements
 * take positional text parameters $1..$n (NULL is SQL NULL) and return every row as text; both
 * backends convert to the column type. Write transactions go through st_db_tx, which retries
 * when the backend reports a transient conflict (SQLite busy, PostgreSQL serialization failure
 * or deadlock), so callers write the transaction once and never see those.
 *
 * A connection is used by one thread at a time. Every out is initialised on return, success or
 * not (st_err.h): a database that did not open is NULL, rows that were not read are empty (NULL,
 * 0 x 0), a count is 0. */
#ifndef ST_DB_H
#define ST_DB_H

#include <stddef.h>
#include <stdint.h>

#include "core/st_err.h"

typedef enum st_db_backend { ST_DB_SQLITE, ST_DB_POSTGRES } st_db_backend;

typedef struct st_db st_db;

/* The result of a query: nrows x ncols cells of text, NULL for SQL NULL. Owned by the caller. */
typedef struct st_db_rows {
  int nrows, ncols;
  char **cells; /* row-major */
} st_db_rows;

/* Opens "sqlite:PATH" (the file is created; WAL, full sync, foreign keys on) or
 * "postgres://..." / "postgresql://..." (any libpq connection URI). */
st_code st_db_open(const char *url, st_db **out, st_err *err);
void st_db_close(st_db *db);
st_db_backend st_db_backend_of(const st_db *db);
const char *st_db_backend_name(st_db_backend b); /* "sqlite" or "postgres" */

/* The URL with any password (user:password@ or password=) replaced by "***", for logs and errors. */
void st_db_url_redacted(const char *url, char *out, size_t cap);

/* Runs one statement. rows may be NULL when the caller wants none back; changed, if non-NULL,
 * receives the number of rows inserted, updated or deleted. A unique or foreign-key violation
 * fails with ST_EEXIST and ST_ECONFLICT respectively. */
st_code st_db_exec(st_db *db, const char *sql, int nparams, const char *const *params, st_db_rows *rows,
                   uint64_t *changed, st_err *err);
/* Runs a script of several statements without parameters (migrations). */
st_code st_db_exec_script(st_db *db, const char *sql, st_err *err);

/* Runs fn inside one write transaction: commits if fn returns ST_OK, rolls back otherwise. A
 * transient conflict inside fn or at commit rolls back and runs fn again (up to 50 times within
 * 30 s; then ST_EUNAVAIL). fn must therefore be safe to run more than once. */
typedef st_code (*st_db_tx_fn)(st_db *db, void *ctx, st_err *err);
st_code st_db_tx(st_db *db, st_db_tx_fn fn, void *ctx, st_err *err);

/* Cell (r, c) of rows, NULL for SQL NULL. */
const char *st_db_cell(const st_db_rows *rows, int r, int c);
/* Cell (r, c) as a signed 64-bit integer; NULL reads as 0. */
int64_t st_db_cell_i64(const st_db_rows *rows, int r, int c);
void st_db_rows_free(st_db_rows *rows);

/* Decimal text of v for a parameter. */
#define ST_DB_INT_MAX 24
const char *st_db_int(char buf[ST_DB_INT_MAX], int64_t v);

#endif
