/* st_client_store: the client's imports and deals on SQLite. */
#include "client/st_client_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/st_fs.h"
#include "db/st_db.h"

struct st_client_store {
  st_db *db;
};

/* The schema of client.db (unchanged since the first client.db: an existing one opens as is). */
static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS imports (piece_cid TEXT NOT NULL, piece_size INTEGER NOT NULL,"
    " payload_size INTEGER NOT NULL, path TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (piece_cid, path));"
    "CREATE TABLE IF NOT EXISTS deals (proposal_cid TEXT PRIMARY KEY, miner TEXT NOT NULL, client TEXT NOT NULL,"
    " piece_cid TEXT NOT NULL, piece_size INTEGER NOT NULL, payload_size INTEGER NOT NULL, path TEXT NOT NULL,"
    " verified INTEGER NOT NULL, price TEXT NOT NULL, start_epoch INTEGER NOT NULL, end_epoch INTEGER NOT NULL,"
    " created INTEGER NOT NULL);";

st_code st_client_store_open(const char *repo, st_client_store **out, st_err *err) {
  *out = NULL;
  char dir[4096], path[4200], url[4300];
  snprintf(dir, sizeof dir, "%.4000s/client", repo);
  snprintf(path, sizeof path, "%s/client.db", dir);
  snprintf(url, sizeof url, "sqlite:%s", path);
  st_client_store *s = calloc(1, sizeof *s);
  st_code code = s ? ST_OK : st_err_set(err, ST_ENOMEM, "out of memory");
  if (!code) code = st_fs_mkdir_p(dir, 0700, err);
  if (!code) code = st_db_open(url, &s->db, err);
  if (!code) code = st_db_exec_script(s->db, SCHEMA, err);
  if (code) {
    st_client_store_close(s);
    return st_err_wrap(err, code, "the client's records %s", path);
  }
  *out = s;
  return ST_OK;
}

void st_client_store_close(st_client_store *s) {
  if (!s) return;
  if (s->db) st_db_close(s->db);
  free(s);
}

/* ---- the checks a row passes before it is written */

static st_code check_piece(const char *what, const char *piece_cid, uint64_t piece_size, uint64_t payload_size,
                           const char *path, st_err *err) {
  st_cid cid;
  if (st_cid_parse(piece_cid, &cid, NULL) || cid.codec != ST_CODEC_FIL_UNSEALED)
    return st_err_set(err, ST_EINVAL, "%s: piece_cid \"%s\" is not a piece CID (baga6ea4sea...)", what, piece_cid);
  if (piece_size < 128 || piece_size > (UINT64_C(1) << 62) || (piece_size & (piece_size - 1)))
    return st_err_set(err, ST_EINVAL, "%s: piece_size %llu is not a power of two from 128 to 2^62", what,
                      (unsigned long long)piece_size);
  if (payload_size > piece_size / 128 * 127)
    return st_err_set(err, ST_EINVAL, "%s: payload_size %llu does not fit a %llu-byte piece (at most %llu bytes)", what,
                      (unsigned long long)payload_size, (unsigned long long)piece_size,
                      (unsigned long long)(piece_size / 128 * 127));
  if (!path[0]) return st_err_set(err, ST_EINVAL, "%s: path is empty", what);
  return ST_OK;
}

static st_code check_deal(const st_client_deal_record *d, st_err *err) {
  static const char W[] = "deal record";
  st_cid cid;
  st_address a;
  if (st_cid_parse(d->proposal_cid, &cid, NULL))
    return st_err_set(err, ST_EINVAL, "%s: proposal_cid \"%s\" is not a CID", W, d->proposal_cid);
  if (st_address_parse(d->miner, &a, NULL, NULL))
    return st_err_set(err, ST_EINVAL, "%s: miner \"%s\" is not an address", W, d->miner);
  if (st_address_parse(d->client, &a, NULL, NULL))
    return st_err_set(err, ST_EINVAL, "%s: client \"%s\" is not an address", W, d->client);
  st_code code = check_piece(W, d->piece_cid, d->piece_size, d->payload_size, d->path, err);
  if (code) return code;
  if (!d->price[0] || strspn(d->price, "0123456789") != strlen(d->price))
    return st_err_set(err, ST_EINVAL, "%s: price \"%s\" is not a decimal number of attoFIL", W, d->price);
  if (d->end_epoch <= d->start_epoch)
    return st_err_set(err, ST_EINVAL, "%s: end_epoch %lld is not after start_epoch %lld", W, (long long)d->end_epoch,
                      (long long)d->start_epoch);
  return ST_OK;
}

/* ---- writes */

st_code st_client_store_add_import(st_client_store *s, const st_client_import *imp, st_err *err) {
  st_code code = check_piece("import record", imp->piece_cid, imp->piece_size, imp->payload_size, imp->path, err);
  if (code) return code;
  char ps[ST_DB_INT_MAX], pl[ST_DB_INT_MAX], t[ST_DB_INT_MAX];
  const char *p[] = {imp->piece_cid, st_db_int(ps, (int64_t)imp->piece_size), st_db_int(pl, (int64_t)imp->payload_size),
                     imp->path, st_db_int(t, imp->created)};
  return st_db_exec(s->db, "INSERT INTO imports VALUES ($1, $2, $3, $4, $5) ON CONFLICT (piece_cid, path) DO NOTHING",
                    5, p, NULL, NULL, err);
}

st_code st_client_store_add_deal(st_client_store *s, const st_client_deal_record *d, st_err *err) {
  st_code code = check_deal(d, err);
  if (code) return code;
  char ps[ST_DB_INT_MAX], pl[ST_DB_INT_MAX], ve[ST_DB_INT_MAX], se[ST_DB_INT_MAX], ee[ST_DB_INT_MAX], t[ST_DB_INT_MAX];
  const char *p[] = {d->proposal_cid,
                     d->miner,
                     d->client,
                     d->piece_cid,
                     st_db_int(ps, (int64_t)d->piece_size),
                     st_db_int(pl, (int64_t)d->payload_size),
                     d->path,
                     st_db_int(ve, d->verified),
                     d->price,
                     st_db_int(se, d->start_epoch),
                     st_db_int(ee, d->end_epoch),
                     st_db_int(t, d->created)};
  code = st_db_exec(s->db, "INSERT INTO deals VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)", 12, p, NULL,
                    NULL, err);
  if (code == ST_EEXIST) st_err_set(err, code, "deal record: proposal_cid %s is recorded already", d->proposal_cid);
  return code;
}

/* ---- reads */

static const char *cell(const st_db_rows *r, int i, int c) { return st_db_cell(r, i, c) ? st_db_cell(r, i, c) : ""; }

/* Runs a query and gives its rows, with an array of n elements of size each for them. */
static st_code query(st_client_store *s, const char *sql, int nparams, const char *const *params, size_t size,
                     st_db_rows *rows, void **out, size_t *n, st_err *err) {
  *out = NULL;
  *n = 0;
  st_code code = st_db_exec(s->db, sql, nparams, params, rows, NULL, err);
  if (!code && rows->nrows && !(*out = calloc((size_t)rows->nrows, size)))
    code = st_err_set(err, ST_ENOMEM, "out of memory");
  if (!code) *n = (size_t)rows->nrows;
  else st_db_rows_free(rows);
  return code;
}

st_code st_client_store_imports(st_client_store *s, st_client_import **out, size_t *n, st_err *err) {
  st_db_rows rows = {0};
  void *v;
  st_code code =
      query(s, "SELECT piece_cid, piece_size, payload_size, path, created FROM imports ORDER BY created, rowid", 0,
            NULL, sizeof **out, &rows, &v, n, err);
  *out = v;
  for (size_t i = 0; !code && i < *n; i++) {
    st_client_import *o = &(*out)[i];
    snprintf(o->piece_cid, sizeof o->piece_cid, "%s", cell(&rows, (int)i, 0));
    o->piece_size = (uint64_t)st_db_cell_i64(&rows, (int)i, 1);
    o->payload_size = (uint64_t)st_db_cell_i64(&rows, (int)i, 2);
    snprintf(o->path, sizeof o->path, "%s", cell(&rows, (int)i, 3));
    o->created = st_db_cell_i64(&rows, (int)i, 4);
  }
  st_db_rows_free(&rows);
  return code;
}

st_code st_client_store_deals(st_client_store *s, st_client_deal_record **out, size_t *n, st_err *err) {
  st_db_rows rows = {0};
  void *v;
  st_code code = query(s,
                       "SELECT proposal_cid, miner, client, piece_cid, piece_size, payload_size, path, verified, price,"
                       " start_epoch, end_epoch, created FROM deals ORDER BY created, rowid",
                       0, NULL, sizeof **out, &rows, &v, n, err);
  *out = v;
  for (size_t i = 0; !code && i < *n; i++) {
    st_client_deal_record *o = &(*out)[i];
    int r = (int)i;
    snprintf(o->proposal_cid, sizeof o->proposal_cid, "%s", cell(&rows, r, 0));
    snprintf(o->miner, sizeof o->miner, "%s", cell(&rows, r, 1));
    snprintf(o->client, sizeof o->client, "%s", cell(&rows, r, 2));
    snprintf(o->piece_cid, sizeof o->piece_cid, "%s", cell(&rows, r, 3));
    o->piece_size = (uint64_t)st_db_cell_i64(&rows, r, 4);
    o->payload_size = (uint64_t)st_db_cell_i64(&rows, r, 5);
    snprintf(o->path, sizeof o->path, "%s", cell(&rows, r, 6));
    o->verified = st_db_cell_i64(&rows, r, 7) != 0;
    snprintf(o->price, sizeof o->price, "%s", cell(&rows, r, 8));
    o->start_epoch = st_db_cell_i64(&rows, r, 9);
    o->end_epoch = st_db_cell_i64(&rows, r, 10);
    o->created = st_db_cell_i64(&rows, r, 11);
  }
  st_db_rows_free(&rows);
  return code;
}

st_code st_client_store_miner_of(st_client_store *s, const char *piece_cid, char miner[ST_ADDR_STR_MAX], bool *found,
                                 st_err *err) {
  miner[0] = 0;
  *found = false;
  st_db_rows rows = {0};
  const char *p[] = {piece_cid};
  st_code code =
      st_db_exec(s->db, "SELECT miner FROM deals WHERE piece_cid = $1 ORDER BY created DESC, rowid DESC LIMIT 1", 1, p,
                 &rows, NULL, err);
  if (!code && rows.nrows) {
    snprintf(miner, ST_ADDR_STR_MAX, "%s", cell(&rows, 0, 0));
    *found = true;
  }
  st_db_rows_free(&rows);
  return code;
}
