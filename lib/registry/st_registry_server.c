/* st_registry_server: routes, auth, a database connection per request thread, and metrics. */
#include "registry/st_registry_server.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/st_encoding.h"
#include "core/st_log.h"
#include "net/st_http_server.h"
#include "registry/st_cluster_store.h"
#include "registry/st_registry_store.h"

typedef enum route {
  R_HEALTH,
  R_METRICS,
  R_NODE_LIST,
  R_NODE_ADD,
  R_NODE_GET,
  R_NODE_UPDATE,
  R_NODE_REMOVE,
  R_HEARTBEAT,
  R_DECLARE,
  R_FIND,
  R_DROP,
  R_ALLOCATE,
  R_PATHS,
  R_CLUSTER,
  R_OTHER,
  R_COUNT
} route;

static const char *const ROUTE_NAMES[R_COUNT] = {"health",      "metrics",     "node_list", "node_add", "node_get",
                                                 "node_update", "node_remove", "heartbeat", "declare",  "find",
                                                 "drop",        "allocate",    "paths",     "cluster",  "other"};

struct st_registry_server {
  st_http_server *http;
  char *token;
  int64_t stale;
  int schema;
  const char *backend;
  /* the connection pool: one connection per request thread */
  st_db **conns;
  unsigned nconns, nfree;
  st_db **free_conns;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  atomic_uint_fast64_t requests[R_COUNT][3]; /* by status class: 2xx, 4xx, 5xx */
};

static st_db *conn_take(st_registry_server *s) {
  pthread_mutex_lock(&s->mu);
  while (!s->nfree) pthread_cond_wait(&s->cv, &s->mu);
  st_db *db = s->free_conns[--s->nfree];
  pthread_mutex_unlock(&s->mu);
  return db;
}

static void conn_give(st_registry_server *s, st_db *db) {
  pthread_mutex_lock(&s->mu);
  s->free_conns[s->nfree++] = db;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

/* ---- request helpers ---- */

static void reply_err(st_http_response *resp, const st_err *err) {
  st_http_reply_error(resp, st_http_status_for(err->code), "%s", err->msg);
}

/* The body as a JSON object, or a 400 naming where it is malformed. */
static json_t *body_object(const st_http_request *req, st_http_response *resp) {
  if (!req->body_len) {
    st_http_reply_error(resp, 400, "request body is empty (want a JSON object)");
    return NULL;
  }
  json_error_t je;
  json_t *j = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
  if (!j) {
    st_http_reply_error(resp, 400, "malformed JSON at line %d column %d: %s", je.line, je.column, je.text);
    return NULL;
  }
  if (!json_is_object(j)) {
    json_decref(j);
    st_http_reply_error(resp, 400, "request body must be a JSON object");
    return NULL;
  }
  return j;
}

static bool parse_id(const char *s, int64_t *id, st_http_response *resp) {
  uint64_t v;
  st_err err;
  if (st_parse_u64(s, "storage node id", &v, &err) || v == 0 || v > INT64_MAX) {
    st_http_reply_error(resp, 400, "storage node id \"%.40s\" is not a positive integer", s);
    return false;
  }
  *id = (int64_t)v;
  return true;
}

static bool parse_sector(const char *miner_s, const char *sector_s, uint64_t *miner, uint64_t *sector,
                         st_http_response *resp) {
  st_err err;
  if (st_reg_parse_miner(miner_s, miner, &err) || *miner > INT64_MAX) {
    st_http_reply_error(resp, 400, "%s", err.msg);
    return false;
  }
  if (st_parse_u64(sector_s, "sector number", sector, &err) || *sector > INT64_MAX) {
    st_http_reply_error(resp, 400, "sector number \"%.40s\" is not a non-negative integer", sector_s);
    return false;
  }
  return true;
}

/* NULL if the request may go on, else why not. */
static const char *unauthorized(const st_registry_server *s, const st_http_request *req, bool write) {
  if (!write && req->loopback) return NULL;
  const char *got = st_http_bearer(req);
  size_t n = strlen(s->token);
  if (got && strlen(got) == n && CRYPTO_memcmp(got, s->token, n) == 0) return NULL;
  if (got) return "the bearer token does not match this server's (its repo's file \"token\")";
  return write
             ? "writes need \"Authorization: Bearer <token>\" (the token is in the server's repo, file \"token\")"
             : "reads from outside loopback need \"Authorization: Bearer <token>\" (the token is in the server's repo)";
}

/* ---- handlers ---- */

static void h_metrics(st_registry_server *s, st_db *db, st_http_response *resp) {
  st_buf *b = &resp->body;
  resp->content_type = "text/plain; version=0.0.4";
  st_buf_puts(b,
              "# HELP spacetime_registry_requests_total Requests served, by route and status class.\n"
              "# TYPE spacetime_registry_requests_total counter\n");
  static const char *const cls[3] = {"2xx", "4xx", "5xx"};
  for (int r = 0; r < R_COUNT; r++)
    for (int c = 0; c < 3; c++)
      st_buf_printf(b, "spacetime_registry_requests_total{route=\"%s\",code=\"%s\"} %llu\n", ROUTE_NAMES[r], cls[c],
                    (unsigned long long)atomic_load(&s->requests[r][c]));
  st_err err;
  int64_t nodes = 0, locs = 0;
  st_storage_node *list = NULL;
  size_t n = 0;
  if (st_reg_counts(db, &nodes, &locs, &err) || st_reg_node_list(db, &list, &n, &err)) {
    st_buf_reset(b);
    reply_err(resp, &err);
    return;
  }
  int64_t now = (int64_t)time(NULL);
  st_buf_printf(b,
                "# HELP spacetime_registry_schema_version Schema version of the registry database.\n"
                "# TYPE spacetime_registry_schema_version gauge\nspacetime_registry_schema_version{backend=\"%s\"} %d\n"
                "# HELP spacetime_registry_storage_nodes Storage nodes registered.\n"
                "# TYPE spacetime_registry_storage_nodes gauge\nspacetime_registry_storage_nodes %lld\n"
                "# HELP spacetime_registry_sector_locations Sector files with a recorded location.\n"
                "# TYPE spacetime_registry_sector_locations gauge\nspacetime_registry_sector_locations %lld\n",
                s->backend, s->schema, (long long)nodes, (long long)locs);
  static const char *const gauges[][2] = {
      {"capacity_bytes", "Capacity the node reported in its last heartbeat."},
      {"available_bytes", "Bytes available on the node (last heartbeat minus allocations since)."},
      {"heartbeat_age_seconds", "Seconds since the node's last heartbeat (-1: never)."},
      {"heartbeat_error", "1 if the node's last heartbeat reported an error."},
  };
  for (size_t g = 0; g < 4; g++) {
    st_buf_printf(b, "# HELP spacetime_registry_node_%s %s\n# TYPE spacetime_registry_node_%s gauge\n", gauges[g][0],
                  gauges[g][1], gauges[g][0]);
    for (size_t i = 0; i < n; i++) {
      const st_storage_node *x = &list[i];
      long long v = g == 0   ? x->capacity
                    : g == 1 ? x->available
                    : g == 2 ? (x->last_heartbeat ? now - x->last_heartbeat : -1)
                             : !!x->heartbeat_err[0];
      st_buf_printf(b, "spacetime_registry_node_%s{id=\"%lld\",host=\"%s\",mount_type=\"%s\"} %lld\n", gauges[g][0],
                    (long long)x->id, x->host, x->mount_type, v);
    }
  }
  free(list);
  json_t *work;
  if (st_cluster_counts(db, now, &work, &err)) {
    st_buf_reset(b);
    reply_err(resp, &err);
    return;
  }
  st_buf_puts(b,
              "# HELP spacetime_registry_cluster_work The cluster's rows, by kind and state (machines: alive or "
              "lapsed; sealing: the sector state; wdpost, blocks, declarations: done, held or free).\n"
              "# TYPE spacetime_registry_cluster_work gauge\n");
  size_t i;
  const json_t *row;
  json_array_foreach(work, i, row) st_buf_printf(
      b, "spacetime_registry_cluster_work{kind=\"%s\",state=\"%s\"} %lld\n", json_string_value(json_array_get(row, 0)),
      json_string_value(json_array_get(row, 1)), (long long)json_integer_value(json_array_get(row, 2)));
  json_decref(work);
  st_http_server_metrics(s->http, "spacetime_registry", b);
}

static void h_node_list(st_db *db, st_http_response *resp) {
  st_storage_node *list;
  size_t n;
  st_err err;
  if (st_reg_node_list(db, &list, &n, &err)) return reply_err(resp, &err);
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(arr, st_node_to_json(&list[i]));
  free(list);
  st_http_reply_json(resp, 200, json_pack("{so}", "storage_nodes", arr));
}

static void h_node_add(st_db *db, const st_http_request *req, st_http_response *resp) {
  json_t *j = body_object(req, resp);
  if (!j) return;
  st_storage_node n;
  st_err err;
  st_code code = st_node_from_json(j, ST_NODE_NEW, &n, NULL, &err);
  json_decref(j);
  if (!code) code = st_reg_node_add(db, &n, &err);
  if (code) return reply_err(resp, &err);
  st_logf("registry", ST_LOG_INFO, "storage node %lld added: host %s group %lld mount %s %s", (long long)n.id, n.host,
          (long long)n.group, n.mount_host, n.mount_type);
  st_http_reply_json(resp, 201, st_node_to_json(&n));
}

static void h_node_get(st_db *db, int64_t id, st_http_response *resp) {
  st_storage_node n;
  st_err err;
  if (st_reg_node_get(db, id, &n, &err)) return reply_err(resp, &err);
  st_http_reply_json(resp, 200, st_node_to_json(&n));
}

static void h_node_update(st_db *db, int64_t id, const st_http_request *req, st_http_response *resp) {
  json_t *j = body_object(req, resp);
  if (!j) return;
  int64_t expect = 0;
  st_err err;
  st_code code = st_reg_json_int(j, "version", true, 1, INT64_MAX, &expect, &err);
  json_object_del(j, "version");
  st_storage_node patch = {0}, out;
  unsigned fields = 0;
  if (!code) code = st_node_from_json(j, ST_NODE_PATCH, &patch, &fields, &err);
  json_decref(j);
  if (!code && !fields) code = st_err_set(&err, ST_EINVAL, "update names no field to change");
  if (!code) code = st_reg_node_update(db, id, &patch, fields, expect, &out, &err);
  if (code) return reply_err(resp, &err);
  st_logf("registry", ST_LOG_INFO, "storage node %lld updated to version %lld", (long long)id, (long long)out.version);
  st_http_reply_json(resp, 200, st_node_to_json(&out));
}

static void h_node_remove(st_db *db, int64_t id, const st_http_request *req, st_http_response *resp) {
  const char *force = st_http_query(req, "force");
  bool f = force && (!strcmp(force, "1") || !strcmp(force, "true"));
  uint64_t dropped = 0;
  st_err err;
  if (st_reg_node_remove(db, id, f, &dropped, &err)) return reply_err(resp, &err);
  st_logf("registry", ST_LOG_INFO, "storage node %lld removed (%llu sector locations dropped)", (long long)id,
          (unsigned long long)dropped);
  st_http_reply_json(resp, 200,
                     json_pack("{sI sI}", "removed", (json_int_t)id, "dropped_locations", (json_int_t)dropped));
}

static void h_heartbeat(st_db *db, int64_t id, const st_http_request *req, st_http_response *resp) {
  json_t *j = body_object(req, resp);
  if (!j) return;
  static const char *const keys[] = {"capacity", "available", "error", NULL};
  st_err err;
  int64_t cap = 0, avail = 0;
  const json_t *e = json_object_get(j, "error");
  st_code code = st_reg_json_only(j, keys, "heartbeat", &err);
  /* a report is either an error or the sizes of a healthy node, never both or neither */
  if (!code && e && !json_is_string(e)) code = st_err_set(&err, ST_EINVAL, "field \"error\" must be a string");
  if (!code && e && !json_string_length(e))
    code =
        st_err_set(&err, ST_EINVAL, "field \"error\" is empty: a healthy node reports capacity and available instead");
  if (!code && e && json_string_length(e) >= ST_REG_ERRTEXT_MAX)
    code = st_err_set(&err, ST_EINVAL, "field \"error\" is longer than %d characters", ST_REG_ERRTEXT_MAX - 1);
  if (!code && e && (json_object_get(j, "capacity") || json_object_get(j, "available")))
    code = st_err_set(&err, ST_EINVAL, "a heartbeat reports either \"error\" or capacity and available, not both");
  if (!code && !e) code = st_reg_json_int(j, "capacity", false, 0, ST_REG_BYTES_MAX, &cap, &err);
  if (!code && !e) code = st_reg_json_int(j, "available", false, 0, ST_REG_BYTES_MAX, &avail, &err);
  if (!code)
    code = st_reg_node_heartbeat(db, id, cap, avail, e ? json_string_value(e) : NULL, (int64_t)time(NULL), NULL, &err);
  if (!code && e)
    st_logf("registry", ST_LOG_WARN, "storage node %lld reports an error: %s", (long long)id, json_string_value(e));
  json_decref(j);
  if (code) return reply_err(resp, &err);
  h_node_get(db, id, resp);
}

static void h_declare(st_db *db, const st_http_request *req, st_http_response *resp) {
  json_t *j = body_object(req, resp);
  if (!j) return;
  st_sector_location l;
  st_err err;
  st_code code = st_location_from_json(j, &l, &err);
  json_decref(j);
  if (!code) code = st_reg_location_declare(db, &l, &err);
  if (code) return reply_err(resp, &err);
  st_http_reply_json(resp, 200, st_location_to_json(&l));
}

static void h_find(st_db *db, uint64_t miner, uint64_t sector, st_http_response *resp) {
  st_reg_found *found;
  size_t n;
  st_err err;
  if (st_reg_location_find(db, miner, sector, &found, &n, &err)) return reply_err(resp, &err);
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++) {
    json_t *l = st_location_to_json(&found[i].loc);
    json_object_set_new(l, "storage_node", st_node_to_json(&found[i].node));
    json_array_append_new(arr, l);
  }
  free(found);
  char m[32];
  snprintf(m, sizeof m, "t0%llu", (unsigned long long)miner);
  st_http_reply_json(resp, 200, json_pack("{ss sI so}", "miner", m, "sector", (json_int_t)sector, "locations", arr));
}

static void h_drop(st_db *db, uint64_t miner, uint64_t sector, const st_http_request *req, st_http_response *resp) {
  st_err err;
  int kind = -1;
  int64_t node = 0;
  const char *k = st_http_query(req, "kind"), *n = st_http_query(req, "node");
  if (k) {
    st_sector_kind sk;
    if (st_sector_kind_parse(k, &sk, &err)) return st_http_reply_error(resp, 400, "%s", err.msg);
    kind = (int)sk;
  }
  if (n && !parse_id(n, &node, resp)) return;
  uint64_t dropped = 0;
  if (st_reg_location_drop(db, miner, sector, kind, node, &dropped, &err)) return reply_err(resp, &err);
  st_http_reply_json(resp, 200, json_pack("{sI}", "dropped", (json_int_t)dropped));
}

static void h_allocate(st_registry_server *s, st_db *db, const st_http_request *req, st_http_response *resp) {
  json_t *j = body_object(req, resp);
  if (!j) return;
  static const char *const keys[] = {"miner", "sector", "size", "group", "kinds", NULL};
  st_err err;
  st_reg_alloc a = {.group = -1};
  int64_t sector = 0;
  const json_t *miner = json_object_get(j, "miner"), *kinds = json_object_get(j, "kinds");
  st_code code = st_reg_json_only(j, keys, "allocation", &err);
  if (!code) {
    if (!json_is_string(miner))
      code = st_err_set(&err, ST_EINVAL,
                        miner ? "field \"miner\" must be an ID address like \"t01003\"" : "field \"miner\" is missing");
    else code = st_reg_parse_miner(json_string_value(miner), &a.miner, &err);
  }
  if (!code && a.miner > INT64_MAX) code = st_err_set(&err, ST_EINVAL, "field \"miner\" is too large");
  if (!code) code = st_reg_json_int(j, "sector", false, 0, INT64_MAX, &sector, &err);
  if (!code) code = st_reg_json_int(j, "size", false, 0, ST_REG_BYTES_MAX, &a.size, &err);
  if (!code) code = st_reg_json_int(j, "group", true, 0, INT32_MAX, &a.group, &err);
  if (!code && kinds) {
    if (!json_is_array(kinds) || !json_array_size(kinds))
      code = st_err_set(&err, ST_EINVAL, "field \"kinds\" must be a non-empty array of kinds");
    size_t i;
    const json_t *k;
    json_array_foreach(kinds, i, k) {
      st_sector_kind sk;
      if (code) break;
      if (!json_is_string(k)) code = st_err_set(&err, ST_EINVAL, "field \"kinds\"[%zu] must be a string", i);
      else if (!(code = st_sector_kind_parse(json_string_value(k), &sk, &err))) a.kinds |= 1u << sk;
    }
  }
  a.sector = (uint64_t)sector;
  json_decref(j);
  st_storage_node node;
  bool allocated = false;
  if (!code) code = st_reg_allocate(db, &a, (int64_t)time(NULL), s->stale, &node, &allocated, &err);
  if (code) return reply_err(resp, &err);
  if (allocated)
    st_logf("registry", ST_LOG_INFO, "sector t0%llu-%llu allocated on storage node %lld (%s)",
            (unsigned long long)a.miner, (unsigned long long)a.sector, (long long)node.id, node.host);
  st_http_reply_json(resp, allocated ? 201 : 200,
                     json_pack("{sb so}", "allocated", allocated, "storage_node", st_node_to_json(&node)));
}

static void h_paths(st_db *db, uint64_t miner, uint64_t sector, const char *kind_s, const st_http_request *req,
                    st_http_response *resp) {
  st_err err;
  st_sector_kind kind;
  if (st_sector_kind_parse(kind_s, &kind, &err)) return st_http_reply_error(resp, 400, "%s", err.msg);
  const char *dist = st_http_query(req, "dist_path");
  st_storage_node node;
  if (st_reg_resolve(db, miner, sector, kind, &node, &err)) return reply_err(resp, &err);
  char path[ST_REG_PATH_MAX], rel[ST_REG_PATH_MAX];
  /* the stored row failing the path rule is the database's fault, not the request's */
  if (st_reg_path(".", &node, kind, miner, sector, rel, &err)) return st_http_reply_error(resp, 500, "%s", err.msg);
  if (dist && st_reg_path(dist, &node, kind, miner, sector, path, &err))
    return st_http_reply_error(resp, 400, "%s", err.msg);
  json_t *out = json_pack("{ss so}", "relative", rel + 2, "storage_node", st_node_to_json(&node));
  if (dist && json_object_set_new(out, "path", json_string(path))) {
    json_decref(out);
    return st_http_reply_error(resp, 400, "dist_path is not valid UTF-8");
  }
  st_http_reply_json(resp, 200, out);
}

static void h_cluster(st_db *db, const char *op, const st_http_request *req, st_http_response *resp) {
  json_t *j = body_object(req, resp);
  if (!j) return;
  json_t *reply;
  st_err err;
  if (st_cluster_op(db, op, j, (int64_t)time(NULL), &reply, &err)) reply_err(resp, &err);
  else st_http_reply_json(resp, 200, reply);
  json_decref(j);
}

/* ---- routing ---- */

#define MAX_PARTS 6

static int split_path(char *path, char *parts[MAX_PARTS]) {
  int n = 0;
  for (char *save = NULL, *tok = strtok_r(path, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
    if (n == MAX_PARTS) return -1;
    parts[n++] = tok;
  }
  return n;
}

static route dispatch(st_registry_server *s, const st_http_request *req, st_http_response *resp) {
  char path[512];
  if (strlen(req->path) >= sizeof path) {
    st_http_reply_error(resp, 404, "no such endpoint (path too long)");
    return R_OTHER;
  }
  snprintf(path, sizeof path, "%s", req->path);
  char *p[MAX_PARTS];
  int n = split_path(path, p);
  const char *m = req->method;
  bool get = !strcmp(m, "GET"), post = !strcmp(m, "POST"), del = !strcmp(m, "DELETE"), patch = !strcmp(m, "PATCH");
  route r = R_OTHER;
  if (n == 1 && !strcmp(p[0], "health")) r = get ? R_HEALTH : R_OTHER;
  else if (n == 1 && !strcmp(p[0], "metrics")) r = get ? R_METRICS : R_OTHER;
  else if (n >= 2 && !strcmp(p[0], "v0") && !strcmp(p[1], "storage-nodes")) {
    if (n == 2) r = get ? R_NODE_LIST : post ? R_NODE_ADD : R_OTHER;
    else if (n == 3) r = get ? R_NODE_GET : patch ? R_NODE_UPDATE : del ? R_NODE_REMOVE : R_OTHER;
    else if (n == 4 && !strcmp(p[3], "heartbeat")) r = post ? R_HEARTBEAT : R_OTHER;
  } else if (n >= 3 && !strcmp(p[0], "v0") && !strcmp(p[1], "sectors")) {
    if (n == 3 && !strcmp(p[2], "locations")) r = post ? R_DECLARE : R_OTHER;
    else if (n == 4) r = get ? R_FIND : del ? R_DROP : R_OTHER;
  } else if (n == 2 && !strcmp(p[0], "v0") && !strcmp(p[1], "allocate")) r = post ? R_ALLOCATE : R_OTHER;
  else if (n == 5 && !strcmp(p[0], "v0") && !strcmp(p[1], "paths")) r = get ? R_PATHS : R_OTHER;
  else if (n == 3 && !strcmp(p[0], "v0") && !strcmp(p[1], "cluster")) r = post ? R_CLUSTER : R_OTHER;
  if (r == R_OTHER) {
    st_http_reply_error(resp, 404, "no endpoint %s %.200s (see GET /health; the API is under /v0)", m, req->path);
    return r;
  }
  if (r == R_HEALTH) {
    st_http_reply_json(resp, 200, json_pack("{ss ss si}", "status", "ok", "backend", s->backend, "schema", s->schema));
    return r;
  }
  const char *why = unauthorized(s, req, !get);
  if (why) {
    resp->www_authenticate = "Bearer realm=\"spacetime-server\"";
    st_http_reply_error(resp, 401, "%s", why);
    return r;
  }
  int64_t id = 0;
  uint64_t miner = 0, sector = 0;
  if ((r == R_NODE_GET || r == R_NODE_UPDATE || r == R_NODE_REMOVE || r == R_HEARTBEAT) && !parse_id(p[2], &id, resp))
    return r;
  if ((r == R_FIND || r == R_DROP) && !parse_sector(p[2], p[3], &miner, &sector, resp)) return r;
  if (r == R_PATHS && !parse_sector(p[2], p[3], &miner, &sector, resp)) return r;
  st_db *db = conn_take(s);
  switch (r) {
    case R_METRICS: h_metrics(s, db, resp); break;
    case R_NODE_LIST: h_node_list(db, resp); break;
    case R_NODE_ADD: h_node_add(db, req, resp); break;
    case R_NODE_GET: h_node_get(db, id, resp); break;
    case R_NODE_UPDATE: h_node_update(db, id, req, resp); break;
    case R_NODE_REMOVE: h_node_remove(db, id, req, resp); break;
    case R_HEARTBEAT: h_heartbeat(db, id, req, resp); break;
    case R_DECLARE: h_declare(db, req, resp); break;
    case R_FIND: h_find(db, miner, sector, resp); break;
    case R_DROP: h_drop(db, miner, sector, req, resp); break;
    case R_ALLOCATE: h_allocate(s, db, req, resp); break;
    case R_PATHS: h_paths(db, miner, sector, p[4], req, resp); break;
    case R_CLUSTER: h_cluster(db, p[2], req, resp); break;
    default: break;
  }
  conn_give(s, db);
  return r;
}

static void on_request(void *ctx, const st_http_request *req, st_http_response *resp) {
  st_registry_server *s = ctx;
  route r = dispatch(s, req, resp);
  int cls = resp->status < 400 ? 0 : resp->status < 500 ? 1 : 2;
  atomic_fetch_add(&s->requests[r][cls], 1);
  /* a 503 (no node can take a sector) is the operator's to fix, not a server fault */
  if (resp->status >= 500)
    st_logf("registry", resp->status == 503 ? ST_LOG_WARN : ST_LOG_ERROR, "%s %s: %d %.*s", req->method, req->path,
            resp->status, (int)(resp->body.len ? resp->body.len - 1 : 0), st_buf_cstr(&resp->body));
}

/* ---- lifecycle ---- */

st_code st_registry_server_start(const st_registry_server_opts *opts, st_registry_server **out, st_err *err) {
  *out = NULL;
  if (!opts->token || strlen(opts->token) < 16)
    return st_err_set(err, ST_EINVAL, "the write token must be at least 16 characters");
  st_registry_server *s = calloc(1, sizeof *s);
  if (!s) return st_err_set(err, ST_ENOMEM, "out of memory starting the registry");
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  s->stale = opts->stale_secs > 0 ? opts->stale_secs : 60;
  s->nconns = opts->threads ? opts->threads : 4;
  s->token = strdup(opts->token);
  s->conns = calloc(s->nconns, sizeof *s->conns);
  s->free_conns = calloc(s->nconns, sizeof *s->free_conns);
  st_code code = ST_OK;
  if (!s->token || !s->conns || !s->free_conns)
    code = st_err_set(err, ST_ENOMEM, "out of memory starting the registry");
  for (unsigned i = 0; i < s->nconns && !code; i++) {
    code = st_db_open(opts->db_url, &s->conns[i], err);
    if (!code && i == 0) code = st_reg_migrate(s->conns[0], &s->schema, err);
    if (!code) s->free_conns[s->nfree++] = s->conns[i];
  }
  if (!code) {
    s->backend = st_db_backend_name(st_db_backend_of(s->conns[0]));
    st_http_server_opts ho = {.listen = opts->listen, .max_body = 64 * 1024, .threads = s->nconns};
    code = st_http_server_start(&ho, on_request, s, &s->http, err);
  }
  if (code) {
    st_registry_server_stop(s);
    return code;
  }
  *out = s;
  return ST_OK;
}

uint16_t st_registry_server_port(const st_registry_server *srv) { return st_http_server_port(srv->http); }

int st_registry_server_schema(const st_registry_server *srv) { return srv->schema; }

void st_registry_server_stop(st_registry_server *s) {
  if (!s) return;
  st_http_server_stop(s->http);
  for (unsigned i = 0; s->conns && i < s->nconns; i++) st_db_close(s->conns[i]);
  free(s->conns);
  free(s->free_conns);
  free(s->token);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
}
