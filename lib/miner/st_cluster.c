/* st_cluster: the cluster's operations on the registry or on a local file; the host lock. */
#include "miner/st_cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "db/st_db.h"
#include "miner/st_miner_repo.h"
#include "registry/st_cluster_store.h"
#include "registry/st_registry_client.h"
#include "registry/st_registry_store.h"

struct st_cluster {
  st_regc *reg; /* the registry, or */
  st_db *db;    /* the local file */
};

/* Sectors of a sealing database from before the cluster's tables (a table "sectors" of one
 * miner's rows) go into "sealing" once. */
static st_code import_legacy(st_db *db, uint64_t miner, st_err *err) {
  if (st_db_exec(db, "SELECT number FROM sectors LIMIT 0", 0, NULL, NULL, NULL, NULL)) return ST_OK; /* none */
  char m[ST_DB_INT_MAX];
  const char *p[] = {st_db_int(m, (int64_t)miner)};
  return st_db_exec(
      db,
      "INSERT INTO sealing (miner, number, state, root, ticket_epoch, ticket, comm_d, comm_r, expiration, "
      "precommit_cid, precommit_epoch, commit_cid, error, retries, updated, deal_id, piece, piece_size, "
      "deal_end) SELECT CAST($1 AS BIGINT), number, state, root, ticket_epoch, ticket, comm_d, comm_r, "
      "expiration, precommit_cid, precommit_epoch, commit_cid, error, retries, updated, deal_id, piece, "
      "piece_size, deal_end FROM sectors WHERE NOT EXISTS (SELECT 1 FROM sealing WHERE miner = $1)",
      1, p, NULL, NULL, err);
}

st_code st_cluster_open(const char *server_api, const char *token, const char *db_path, uint64_t miner,
                        st_cluster **out, st_err *err) {
  *out = calloc(1, sizeof **out);
  if (!*out) return st_err_set(err, ST_ENOMEM, "out of memory");
  st_code code;
  if (server_api) code = st_regc_open(server_api, token, &(*out)->reg, err);
  else {
    char url[ST_PATH_MAX + 8];
    int version;
    snprintf(url, sizeof url, "sqlite:%s", db_path);
    code = st_db_open(url, &(*out)->db, err);
    if (!code) code = st_reg_migrate((*out)->db, &version, err);
    if (!code) code = import_legacy((*out)->db, miner, err);
    if (code) st_err_wrap(err, code, "sealing database %s", db_path);
  }
  if (code) {
    st_cluster_close(*out);
    *out = NULL;
  }
  return code;
}

st_code st_cluster_open_repo(const char *server_api, const char *token, const char *repo, uint64_t miner,
                             st_cluster **out, st_err *err) {
  char db[ST_PATH_MAX];
  *out = NULL;
  st_code code = st_miner_repo_path(repo, "sealing.db", db, err);
  return code ? code : st_cluster_open(server_api, token, db, miner, out, err);
}

void st_cluster_close(st_cluster *c) {
  if (!c) return;
  st_regc_close(c->reg);
  st_db_close(c->db);
  free(c);
}

st_code st_cluster_call(st_cluster *c, uint64_t miner, const char *op, json_t *params, json_t **reply, st_err *err) {
  *reply = NULL;
  if (!params || json_object_set_new(params, "miner", json_integer((json_int_t)miner))) {
    json_decref(params);
    return st_err_set(err, ST_ENOMEM, "out of memory");
  }
  if (c->reg) return st_regc_cluster(c->reg, op, params, reply, err);
  st_code code = st_cluster_op(c->db, op, params, (int64_t)time(NULL), reply, err);
  json_decref(params);
  return code;
}

/* A call whose reply is not needed. */
static st_code call0(st_cluster *c, uint64_t miner, const char *op, json_t *params, st_err *err) {
  json_t *reply;
  st_code code = st_cluster_call(c, miner, op, params, &reply, err);
  json_decref(reply);
  return code;
}

int64_t st_cluster_lease_secs(int64_t block_delay) {
  int64_t l = 2 * block_delay;
  return l < 2 ? 2 : l > 120 ? 120 : l;
}

st_code st_cluster_join(st_cluster *c, uint64_t miner, const char *roles, const char *version, int64_t lease_secs,
                        int64_t *machine, st_err *err) {
  *machine = 0;
  char host[256] = "";
  if (gethostname(host, sizeof host - 1) || !host[0]) snprintf(host, sizeof host, "localhost");
  json_t *reply;
  st_code code = st_cluster_call(c, miner, "join",
                                 json_pack("{s:s, s:I, s:s, s:s, s:I}", "host", host, "pid", (json_int_t)getpid(),
                                           "roles", roles, "version", version, "lease_secs", (json_int_t)lease_secs),
                                 &reply, err);
  if (!code) *machine = json_integer_value(json_object_get(reply, "machine"));
  json_decref(reply);
  return code;
}

st_code st_cluster_heartbeat(st_cluster *c, uint64_t miner, int64_t machine, st_err *err) {
  return call0(c, miner, "heartbeat", json_pack("{s:I}", "machine", (json_int_t)machine), err);
}

st_code st_cluster_leave(st_cluster *c, uint64_t miner, int64_t machine, st_err *err) {
  return call0(c, miner, "leave", json_pack("{s:I}", "machine", (json_int_t)machine), err);
}

/* {"kind": kind, "machine": machine, "keys": [[...]...]} */
static json_t *work_params(int64_t machine, const char *kind, const int64_t *keys, size_t nkeys, size_t klen) {
  json_t *ks = json_array();
  for (size_t i = 0; ks && i < nkeys; i++) {
    json_t *k = json_array();
    for (size_t j = 0; k && j < klen; j++)
      if (json_array_append_new(k, json_integer(keys[i * klen + j]))) {
        json_decref(k);
        k = NULL;
      }
    if (json_array_append_new(ks, k)) {
      json_decref(ks);
      ks = NULL;
    }
  }
  return ks ? json_pack("{s:s, s:I, s:o}", "kind", kind, "machine", (json_int_t)machine, "keys", ks) : NULL;
}

st_code st_cluster_claim(st_cluster *c, uint64_t miner, int64_t machine, const char *kind, const int64_t *keys,
                         size_t nkeys, size_t klen, size_t max, bool takeover, json_t **rows, st_err *err) {
  *rows = NULL;
  json_t *p = work_params(machine, kind, keys, nkeys, klen), *reply;
  if (p && (json_object_set_new(p, "takeover", json_boolean(takeover)) ||
            (max && json_object_set_new(p, "max", json_integer((json_int_t)max))))) {
    json_decref(p);
    p = NULL;
  }
  st_code code = st_cluster_call(c, miner, "claim", p, &reply, err);
  if (!code) {
    *rows = json_incref(json_object_get(reply, "rows"));
    if (!json_is_array(*rows) || json_array_size(*rows) != nkeys) {
      json_decref(*rows);
      *rows = NULL;
      code = st_err_set(err, ST_EINTERNAL, "cluster claim: the reply does not have one row per key");
    }
  }
  json_decref(reply);
  return code;
}

st_code st_cluster_check(st_cluster *c, uint64_t miner, int64_t machine, const char *kind, const int64_t *keys,
                         size_t nkeys, size_t klen, st_err *err) {
  return call0(c, miner, "check", work_params(machine, kind, keys, nkeys, klen), err);
}

st_code st_cluster_update(st_cluster *c, uint64_t miner, int64_t machine, const char *kind, const int64_t *keys,
                          size_t nkeys, size_t klen, const char *msg_cid, bool has_exit, int64_t exit_code, bool done,
                          st_err *err) {
  json_t *p = work_params(machine, kind, keys, nkeys, klen);
  if (p && ((msg_cid && json_object_set_new(p, "msg_cid", *msg_cid ? json_string(msg_cid) : json_null())) ||
            (has_exit && json_object_set_new(p, "exit_code", json_integer(exit_code))) ||
            json_object_set_new(p, "done", json_boolean(done)))) {
    json_decref(p);
    p = NULL;
  }
  return call0(c, miner, "update", p, err);
}

/* ---- the host lock: two abstract socket names per miner, "-alone" held by a process without a
 * shared database and "-cluster" held by the first process with one ---- */

static st_code bind_name(uint64_t chain, uint64_t miner, const char *which, int *fd, st_err *err) {
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  /* abstract: sun_path[0] is NUL; the name dies with the socket */
  int len = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "spacetime-miner-%llu-t0%llu-%s", (unsigned long long)chain,
                     (unsigned long long)miner, which);
  *fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (*fd < 0) return st_err_set(err, ST_EIO, "host lock: socket: %s", strerror(errno));
  if (bind(*fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len)) == 0)
    return ST_OK;
  int e = errno;
  close(*fd);
  *fd = -1;
  if (e == EADDRINUSE) return ST_EEXIST;
  return st_err_set(err, ST_EIO, "host lock: bind: %s", strerror(e));
}

st_code st_cluster_host_lock(uint64_t chain, uint64_t miner, bool shared, int *fd, st_err *err) {
  int probe = -1;
  *fd = -1;
  st_code code = bind_name(chain, miner, shared ? "alone" : "cluster", &probe, err);
  st_cluster_host_unlock(probe);
  if (code == ST_EEXIST)
    return st_err_set(err, ST_ECONFLICT,
                      shared ? "another 'spacetime-miner run' for t0%llu runs on this host without a shared database: "
                               "stop it, or restart it with --server-api like this one (docs/cluster.md)"
                             : "another 'spacetime-miner run' for t0%llu runs on this host with a shared database (a "
                               "cluster): run this one with the same --server-api, or it would reuse the cluster's "
                               "sector numbers and overwrite its files (docs/cluster.md)",
                      (unsigned long long)miner);
  if (code) return code;
  code = bind_name(chain, miner, shared ? "cluster" : "alone", fd, err);
  if (code == ST_EEXIST && shared) return ST_OK; /* another member holds the name for the host */
  if (code == ST_EEXIST)
    return st_err_set(err, ST_ECONFLICT,
                      "another 'spacetime-miner run' for t0%llu runs on this host without a shared database, so a "
                      "second one would reuse its sector numbers and overwrite its files: stop it, or run every "
                      "process of the miner with --server-api (one registry, docs/cluster.md)",
                      (unsigned long long)miner);
  return code;
}

void st_cluster_host_unlock(int fd) {
  if (fd >= 0) close(fd);
}
