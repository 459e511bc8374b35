/* st_chainstore: five LMDB databases in one environment, written one transaction at a time. */
#include "chain/st_chainstore.h"

#include <errno.h>
#include <lmdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/st_endian.h"
#include "core/st_fs.h"

struct st_chainstore {
  MDB_env *env;
  MDB_dbi objects, heights, msgidx, meta, pooled;
  char path[512];
};

struct st_cs_txn {
  st_chainstore *cs;
  MDB_txn *txn;
  bool ro;
};

static st_code mdb_fail(int rc, const char *what, st_err *err) {
  if (rc == MDB_MAP_FULL)
    return st_err_set(err, ST_EIO,
                      "%s: the chain store reached its map size (restart the daemon with a larger --store-size)", what);
  return st_err_set(err, rc == MDB_NOTFOUND ? ST_ENOENT : ST_EIO, "%s: lmdb: %s", what, mdb_strerror(rc));
}

/* mdb_fail naming the store: a full disk (LMDB returns the os error, ENOSPC or EIO from a failed
 * write at commit) or the map size, with the store's path. */
static st_code store_fail(const st_chainstore *cs, int rc, const char *what, st_err *err) {
  if (rc == MDB_MAP_FULL)
    return st_err_set(err, ST_EIO,
                      "chain store path=\"%s\": %s: the store reached its map size, not a full disk (restart the "
                      "daemon with a larger --store-size)",
                      cs->path, what);
  if (rc > 0 && st_fs_full(cs->path, rc))
    return st_err_set(err, ST_EIO,
                      "chain store path=\"%s\": the disk is full (%s%s, os error %d): %s; writing resumes once "
                      "there is room",
                      cs->path, rc == EIO ? "no space left; the write failed with " : "", strerror(rc), rc, what);
  return mdb_fail(rc, what, err);
}

st_code st_cs_open(const char *dir, size_t map_bytes, st_chainstore **out, st_err *err) {
  *out = NULL;
  st_chainstore *cs = calloc(1, sizeof *cs);
  if (!cs) return st_err_set(err, ST_ENOMEM, "out of memory opening the chain store");
  snprintf(cs->path, sizeof cs->path, "%s/chain", dir);
  if (mkdir(cs->path, 0755) && errno != EEXIST) {
    st_code code =
        st_err_set(err, ST_EIO, "could not create path=\"%s\": %s (os error %d)", cs->path, strerror(errno), errno);
    free(cs);
    return code;
  }
  int rc = mdb_env_create(&cs->env);
  if (!rc) rc = mdb_env_set_maxdbs(cs->env, 8);
  if (!rc) rc = mdb_env_set_mapsize(cs->env, map_bytes ? map_bytes : (size_t)64 << 30);
  /* MDB_NOTLS: a read snapshot is not tied to the thread that opened it */
  if (!rc) rc = mdb_env_open(cs->env, cs->path, MDB_NOTLS, 0644);
  MDB_txn *txn = NULL;
  if (!rc) rc = mdb_txn_begin(cs->env, NULL, 0, &txn);
  if (!rc) rc = mdb_dbi_open(txn, "objects", MDB_CREATE, &cs->objects);
  if (!rc) rc = mdb_dbi_open(txn, "heights", MDB_CREATE, &cs->heights);
  if (!rc) rc = mdb_dbi_open(txn, "msgidx", MDB_CREATE, &cs->msgidx);
  if (!rc) rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &cs->meta);
  if (!rc) rc = mdb_dbi_open(txn, "mpool", MDB_CREATE, &cs->pooled);
  if (!rc) {
    rc = mdb_txn_commit(txn);
    txn = NULL;
  }
  if (rc) {
    if (txn) mdb_txn_abort(txn);
    char what[600];
    snprintf(what, sizeof what, "could not open the chain store path=\"%s\"", cs->path);
    st_code code = store_fail(cs, rc, what, err);
    st_cs_close(cs);
    return code;
  }
  *out = cs;
  return ST_OK;
}

void st_cs_close(st_chainstore *cs) {
  if (!cs) return;
  if (cs->env) mdb_env_close(cs->env);
  free(cs);
}

static st_code run(st_chainstore *cs, bool ro, st_cs_write_fn fn, void *ctx, st_err *err) {
  st_cs_txn t = {cs, NULL, ro};
  int rc = mdb_txn_begin(cs->env, NULL, ro ? MDB_RDONLY : 0, &t.txn);
  if (rc) return store_fail(cs, rc, "could not begin a chain store transaction", err);
  st_code code = fn(&t, ctx, err);
  if (code || ro) {
    mdb_txn_abort(t.txn);
    return code;
  }
  rc = mdb_txn_commit(t.txn);
  return rc ? store_fail(cs, rc, "could not commit to the chain store", err) : ST_OK;
}

st_code st_cs_write(st_chainstore *cs, st_cs_write_fn fn, void *ctx, st_err *err) {
  return run(cs, false, fn, ctx, err);
}
st_code st_cs_read(st_chainstore *cs, st_cs_write_fn fn, void *ctx, st_err *err) { return run(cs, true, fn, ctx, err); }

static st_code put(st_cs_txn *t, MDB_dbi dbi, const void *key, size_t klen, const void *data, size_t len,
                   unsigned flags, const char *what, st_err *err) {
  if (t->ro) return st_err_set(err, ST_EINTERNAL, "%s: write in a read-only chain store snapshot", what);
  MDB_val k = {klen, (void *)key}, v = {len, (void *)data};
  int rc = mdb_put(t->txn, dbi, &k, &v, flags);
  if (rc == MDB_KEYEXIST) return ST_OK;
  return rc ? store_fail(t->cs, rc, what, err) : ST_OK;
}

static st_code get(st_cs_txn *t, MDB_dbi dbi, const void *key, size_t klen, st_buf *out, const char *what,
                   st_err *err) {
  MDB_val k = {klen, (void *)key}, v;
  int rc = mdb_get(t->txn, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return st_err_set(err, ST_ENOENT, "%s not found", what);
  if (rc) return mdb_fail(rc, what, err);
  st_buf_append(out, v.mv_data, v.mv_size);
  return st_buf_status(out, err);
}

static st_code del(st_cs_txn *t, MDB_dbi dbi, const void *key, size_t klen, const char *what, st_err *err) {
  if (t->ro) return st_err_set(err, ST_EINTERNAL, "%s: write in a read-only chain store snapshot", what);
  MDB_val k = {klen, (void *)key};
  int rc = mdb_del(t->txn, dbi, &k, NULL);
  return rc && rc != MDB_NOTFOUND ? mdb_fail(rc, what, err) : ST_OK;
}

/* A CID's binary form as the key, and its text for messages. */
typedef struct cid_key {
  uint8_t bytes[ST_CID_MAX_BYTES];
  size_t len;
  char what[ST_CID_STR_MAX + 16];
} cid_key;

static void key_of(const st_cid *cid, const char *kind, cid_key *k) {
  k->len = st_cid_to_bytes(cid, k->bytes);
  char s[ST_CID_STR_MAX];
  st_cid_to_string(cid, s);
  snprintf(k->what, sizeof k->what, "%s %s", kind, s);
}

st_code st_cs_put(st_cs_txn *t, const st_cid *cid, const void *data, size_t len, st_err *err) {
  cid_key k;
  key_of(cid, "object", &k);
  return put(t, t->cs->objects, k.bytes, k.len, data, len, MDB_NOOVERWRITE, k.what, err);
}

st_code st_cs_get(st_cs_txn *t, const st_cid *cid, st_buf *out, st_err *err) {
  cid_key k;
  key_of(cid, "object", &k);
  return get(t, t->cs->objects, k.bytes, k.len, out, k.what, err);
}

bool st_cs_has(st_cs_txn *t, const st_cid *cid) {
  cid_key k;
  key_of(cid, "object", &k);
  MDB_val key = {k.len, k.bytes}, v;
  return mdb_get(t->txn, t->cs->objects, &key, &v) == 0;
}

/* Heights are big-endian, so LMDB's byte order is numeric order. */
st_code st_cs_put_height(st_cs_txn *t, uint64_t height, const void *data, size_t len, st_err *err) {
  uint8_t k[8];
  st_be64_put(k, height);
  char what[48];
  snprintf(what, sizeof what, "height %llu", (unsigned long long)height);
  if (!data) return del(t, t->cs->heights, k, sizeof k, what, err);
  return put(t, t->cs->heights, k, sizeof k, data, len, 0, what, err);
}

st_code st_cs_get_height(st_cs_txn *t, uint64_t height, st_buf *out, st_err *err) {
  uint8_t k[8];
  st_be64_put(k, height);
  char what[48];
  snprintf(what, sizeof what, "height %llu", (unsigned long long)height);
  return get(t, t->cs->heights, k, sizeof k, out, what, err);
}

st_code st_cs_truncate_heights(st_cs_txn *t, uint64_t height, st_err *err) {
  if (t->ro) return st_err_set(err, ST_EINTERNAL, "truncate in a read-only chain store snapshot");
  if (height == UINT64_MAX) return ST_OK;
  MDB_cursor *c;
  int rc = mdb_cursor_open(t->txn, t->cs->heights, &c);
  if (rc) return mdb_fail(rc, "could not open a cursor on heights", err);
  uint8_t k[8];
  st_be64_put(k, height + 1);
  MDB_val key = {sizeof k, k}, v;
  for (rc = mdb_cursor_get(c, &key, &v, MDB_SET_RANGE); !rc; rc = mdb_cursor_get(c, &key, &v, MDB_NEXT))
    if ((rc = mdb_cursor_del(c, 0))) break;
  mdb_cursor_close(c);
  return rc && rc != MDB_NOTFOUND ? mdb_fail(rc, "could not cut heights", err) : ST_OK;
}

st_code st_cs_put_msgidx(st_cs_txn *t, const st_cid *msg, const void *data, size_t len, st_err *err) {
  cid_key k;
  key_of(msg, "message", &k);
  return put(t, t->cs->msgidx, k.bytes, k.len, data, len, 0, k.what, err);
}

st_code st_cs_get_msgidx(st_cs_txn *t, const st_cid *msg, st_buf *out, st_err *err) {
  cid_key k;
  key_of(msg, "message", &k);
  return get(t, t->cs->msgidx, k.bytes, k.len, out, k.what, err);
}

st_code st_cs_del_msgidx(st_cs_txn *t, const st_cid *msg, st_err *err) {
  cid_key k;
  key_of(msg, "message", &k);
  return del(t, t->cs->msgidx, k.bytes, k.len, k.what, err);
}

st_code st_cs_put_meta(st_cs_txn *t, const char *key, const void *data, size_t len, st_err *err) {
  return put(t, t->cs->meta, key, strlen(key), data, len, 0, key, err);
}

st_code st_cs_get_meta(st_cs_txn *t, const char *key, st_buf *out, st_err *err) {
  return get(t, t->cs->meta, key, strlen(key), out, key, err);
}

st_code st_cs_put_pooled(st_cs_txn *t, const st_cid *msg, const void *data, size_t len, st_err *err) {
  cid_key k;
  key_of(msg, "pooled message", &k);
  return put(t, t->cs->pooled, k.bytes, k.len, data, len, 0, k.what, err);
}

st_code st_cs_del_pooled(st_cs_txn *t, const st_cid *msg, st_err *err) {
  cid_key k;
  key_of(msg, "pooled message", &k);
  return del(t, t->cs->pooled, k.bytes, k.len, k.what, err);
}

st_code st_cs_each_pooled(st_cs_txn *t, st_cs_pooled_fn fn, void *ctx, st_err *err) {
  MDB_cursor *c;
  int rc = mdb_cursor_open(t->txn, t->cs->pooled, &c);
  if (rc) return mdb_fail(rc, "could not open a cursor on the pooled messages", err);
  MDB_val key, v;
  st_code code = ST_OK;
  for (rc = mdb_cursor_get(c, &key, &v, MDB_FIRST); !rc && !code; rc = mdb_cursor_get(c, &key, &v, MDB_NEXT))
    code = fn(ctx, v.mv_data, v.mv_size, err);
  mdb_cursor_close(c);
  if (code) return code;
  return rc && rc != MDB_NOTFOUND ? mdb_fail(rc, "could not read the pooled messages", err) : ST_OK;
}

st_code st_cs_stat(st_chainstore *cs, st_cs_stats *out, st_err *err) {
  MDB_txn *txn;
  int rc = mdb_txn_begin(cs->env, NULL, MDB_RDONLY, &txn);
  if (rc) return mdb_fail(rc, "could not read chain store statistics", err);
  MDB_stat s;
  *out = (st_cs_stats){0};
  if (!mdb_stat(txn, cs->objects, &s)) out->objects = s.ms_entries;
  if (!mdb_stat(txn, cs->heights, &s)) out->heights = s.ms_entries;
  if (!mdb_stat(txn, cs->msgidx, &s)) out->messages = s.ms_entries;
  MDB_envinfo info;
  if (!mdb_env_info(cs->env, &info) && !mdb_env_stat(cs->env, &s))
    out->bytes_used = (uint64_t)(info.me_last_pgno + 1) * s.ms_psize;
  mdb_txn_abort(txn);
  return ST_OK;
}
