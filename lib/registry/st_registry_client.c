/* st_registry_client: JSON over st_http_client, errors carried back with the server's words. */
#include "registry/st_registry_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/st_json.h"
#include "core/st_log.h"
#include "net/st_http_client.h"

struct st_regc {
  st_http_client *http[ST_REGC_URLS_MAX];
  size_t n;   /* URLs in the list */
  size_t cur; /* the one calls go to first */
};

st_code st_regc_open(const char *urls, const char *token, st_regc **out, st_err *err) {
  *out = NULL;
  st_regc *c = calloc(1, sizeof *c);
  if (!c) return st_err_set(err, ST_ENOMEM, "out of memory opening a registry client");
  st_code code = ST_OK;
  const char *p = urls;
  for (size_t i = 1; !code; i++) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while (len && (*p == ' ' || *p == '\t')) p++, len--;
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
    char url[512];
    if (!len) code = st_err_set(err, ST_EINVAL, "registry URL %zu of \"%.200s\" is empty", i, urls);
    else if (c->n == ST_REGC_URLS_MAX)
      code = st_err_set(err, ST_EINVAL, "\"%.200s\" names more than %d registry URLs", urls, ST_REGC_URLS_MAX);
    else if (len >= sizeof url)
      code = st_err_set(err, ST_EINVAL, "registry URL %zu of \"%.60s...\" is longer than %zu bytes", i, urls,
                        sizeof url - 1);
    else {
      memcpy(url, p, len);
      url[len] = 0;
      code = st_http_client_new(url, token, &c->http[c->n], err);
      if (code) st_err_wrap(err, code, "registry URL %zu of \"%.200s\"", i, urls);
      else c->n++;
    }
    if (!end) break;
    p = end + 1;
  }
  if (code) {
    st_regc_close(c);
    return code;
  }
  *out = c;
  return ST_OK;
}

void st_regc_close(st_regc *c) {
  if (!c) return;
  for (size_t i = 0; i < c->n; i++) st_http_client_free(c->http[i]);
  free(c);
}

const char *st_regc_url(const st_regc *c) { return st_http_client_base(c->http[c->cur]); }

st_code st_regc_raw(st_regc *c, const char *method, const char *path, const char *body, size_t len, long *status,
                    st_buf *resp, st_err *err) {
  char tried[ST_ERR_MSG_MAX] = "";
  for (size_t i = 0; i < c->n; i++) {
    size_t at = resp->len;
    st_err e;
    st_code code = st_http_call(c->http[c->cur], method, path, body, len, status, resp, &e);
    if (code != ST_EUNAVAIL) {
      if (code && err) *err = e;
      return code;
    }
    resp->len = at; /* part of a reply from the one that failed */
    size_t used = strlen(tried);
    if (used && used + 2 < sizeof tried) memcpy(tried + used, "; ", 3), used += 2;
    size_t m = strnlen(e.msg, sizeof tried - used - 1);
    memcpy(tried + used, e.msg, m);
    tried[used + m] = 0;
    if (c->n == 1) break;
    const char *from = st_http_client_base(c->http[c->cur]);
    c->cur = (c->cur + 1) % c->n;
    st_log("registry", ST_LOG_WARN, "registry unreachable, moving on to the next",
           json_pack("{s:s, s:s, s:s}", "from", from, "to", st_http_client_base(c->http[c->cur]), "err", e.msg));
  }
  return st_err_set(err, ST_EUNAVAIL, "registry: %s", tried);
}

static st_code code_for_status(long status) {
  switch (status) {
    case 400:
    case 413: return ST_EINVAL;
    case 401:
    case 403: return ST_EPERM;
    case 404: return ST_ENOENT;
    case 409: return ST_ECONFLICT;
    case 503: return ST_EUNAVAIL;
    default: return ST_EINTERNAL;
  }
}

/* Sends a request (body stolen, may be NULL) and returns the reply's JSON in *reply. */
static st_code call(st_regc *c, const char *method, const char *path, json_t *body, json_t **reply, st_err *err) {
  if (reply) *reply = NULL;
  st_buf req, resp;
  st_buf_init(&req);
  st_buf_init(&resp);
  if (body) {
    st_json_append(&req, body);
    json_decref(body);
  }
  long status = 0;
  st_code code = st_buf_status(&req, err);
  if (!code) code = st_regc_raw(c, method, path, body ? st_buf_cstr(&req) : NULL, req.len, &status, &resp, err);
  json_t *j = NULL;
  if (!code) {
    json_error_t je;
    j = json_loadb((const char *)resp.data, resp.len, 0, &je);
    if (status >= 200 && status < 300) {
      if (!j)
        code =
            st_err_set(err, ST_EINTERNAL, "registry replied to %s %s with malformed JSON: %s", method, path, je.text);
    } else {
      const char *msg = json_string_value(json_object_get(j, "error"));
      code = st_err_set(err, code_for_status(status), "%s", msg ? msg : "(no message)");
      if (!msg) st_err_set(err, code, "registry replied %ld to %s %s", status, method, path);
    }
  }
  if (!code && reply) *reply = j;
  else json_decref(j);
  st_buf_free(&req);
  st_buf_free(&resp);
  return code;
}

/* Sends a request and reads the node in its reply (under key, or the whole reply), into out
 * (may be NULL; all zero on failure). The reply itself goes to *reply when reply is not NULL
 * (the caller's to free; NULL on failure). */
static st_code node_call(st_regc *c, const char *method, const char *path, json_t *body, const char *key,
                         st_storage_node *out, json_t **reply, st_err *err) {
  if (reply) *reply = NULL;
  json_t *j;
  st_code code = call(c, method, path, body, &j, err);
  if (!code && out) {
    code = st_node_from_json(key ? json_object_get(j, key) : j, ST_NODE_STORED, out, NULL, err);
    if (code) st_err_wrap(err, code, "registry reply");
  }
  if (code && out) memset(out, 0, sizeof *out);
  if (!code && reply) *reply = j;
  else json_decref(j);
  return code;
}

/* Sends a DELETE and reads the count under key in its reply into *dropped (may be NULL; 0 on
 * failure). */
static st_code delete_call(st_regc *c, const char *path, const char *key, uint64_t *dropped, st_err *err) {
  json_t *j;
  st_code code = call(c, "DELETE", path, NULL, &j, err);
  if (dropped) *dropped = code ? 0 : (uint64_t)json_integer_value(json_object_get(j, key));
  json_decref(j);
  return code;
}

st_code st_regc_cluster(st_regc *c, const char *op, json_t *params, json_t **reply, st_err *err) {
  char path[96];
  snprintf(path, sizeof path, "/v0/cluster/%.60s", op);
  return call(c, "POST", path, params, reply, err);
}

st_code st_regc_health(st_regc *c, int *schema, st_err *err) {
  json_t *j;
  *schema = 0;
  st_code code = call(c, "GET", "/health", NULL, &j, err);
  if (code) return code;
  *schema = (int)json_integer_value(json_object_get(j, "schema"));
  json_decref(j);
  return ST_OK;
}

st_code st_regc_nodes(st_regc *c, st_storage_node **out, size_t *n, st_err *err) {
  *out = NULL;
  *n = 0;
  json_t *j;
  st_code code = call(c, "GET", "/v0/storage-nodes", NULL, &j, err);
  if (code) return code;
  const json_t *arr = json_object_get(j, "storage_nodes");
  size_t count = json_array_size(arr);
  if (count && !(*out = calloc(count, sizeof **out)))
    code = st_err_set(err, ST_ENOMEM, "out of memory listing storage nodes");
  for (size_t i = 0; i < count && !code; i++)
    code = st_node_from_json(json_array_get(arr, i), ST_NODE_STORED, &(*out)[i], NULL, err);
  json_decref(j);
  if (code) {
    free(*out);
    *out = NULL;
    return st_err_wrap(err, code, "registry reply");
  }
  *n = count;
  return ST_OK;
}

st_code st_regc_node_get(st_regc *c, int64_t id, st_storage_node *out, st_err *err) {
  char path[64];
  snprintf(path, sizeof path, "/v0/storage-nodes/%lld", (long long)id);
  return node_call(c, "GET", path, NULL, NULL, out, NULL, err);
}

/* The configuration fields of a node selected by fields, as a JSON object. */
static json_t *node_fields(const st_storage_node *n, unsigned fields) {
  json_t *full = st_node_to_json(n), *out = json_object();
  static const char *const keys[] = {ST_NODE_FIELDS};
  for (unsigned i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (fields & (1u << i)) json_object_set(out, keys[i], json_object_get(full, keys[i]));
  json_decref(full);
  return out;
}

st_code st_regc_node_add(st_regc *c, const st_storage_node *node, st_storage_node *out, st_err *err) {
  return node_call(c, "POST", "/v0/storage-nodes", node_fields(node, ST_NODE_F_ALL), NULL, out, NULL, err);
}

st_code st_regc_node_update(st_regc *c, int64_t id, const st_storage_node *patch, unsigned fields,
                            int64_t expect_version, st_storage_node *out, st_err *err) {
  char path[64];
  snprintf(path, sizeof path, "/v0/storage-nodes/%lld", (long long)id);
  json_t *body = node_fields(patch, fields);
  if (expect_version > 0) json_object_set_new(body, "version", json_integer(expect_version));
  return node_call(c, "PATCH", path, body, NULL, out, NULL, err);
}

st_code st_regc_node_remove(st_regc *c, int64_t id, bool force, uint64_t *dropped, st_err *err) {
  char path[80];
  snprintf(path, sizeof path, "/v0/storage-nodes/%lld%s", (long long)id, force ? "?force=1" : "");
  return delete_call(c, path, "dropped_locations", dropped, err);
}

st_code st_regc_heartbeat(st_regc *c, int64_t id, int64_t capacity, int64_t available, const char *error,
                          st_storage_node *out, st_err *err) {
  char path[80];
  snprintf(path, sizeof path, "/v0/storage-nodes/%lld/heartbeat", (long long)id);
  json_t *body = error ? json_pack("{ss}", "error", error)
                       : json_pack("{sI sI}", "capacity", (json_int_t)capacity, "available", (json_int_t)available);
  return node_call(c, "POST", path, body, NULL, out, NULL, err);
}

st_code st_regc_declare(st_regc *c, const st_sector_location *loc, st_err *err) {
  return call(c, "POST", "/v0/sectors/locations", st_location_to_json(loc), NULL, err);
}

st_code st_regc_find(st_regc *c, uint64_t miner, uint64_t sector, st_reg_found **out, size_t *n, st_err *err) {
  *out = NULL;
  *n = 0;
  char path[96];
  snprintf(path, sizeof path, "/v0/sectors/t0%llu/%llu", (unsigned long long)miner, (unsigned long long)sector);
  json_t *j;
  st_code code = call(c, "GET", path, NULL, &j, err);
  if (code) return code;
  const json_t *arr = json_object_get(j, "locations");
  size_t count = json_array_size(arr);
  if (count && !(*out = calloc(count, sizeof **out)))
    code = st_err_set(err, ST_ENOMEM, "out of memory finding a sector");
  for (size_t i = 0; i < count && !code; i++) {
    json_t *l = json_deep_copy(json_array_get(arr, i));
    json_t *node = json_incref(json_object_get(l, "storage_node"));
    json_object_del(l, "storage_node");
    code = st_location_from_json(l, &(*out)[i].loc, err);
    if (!code) code = st_node_from_json(node, ST_NODE_STORED, &(*out)[i].node, NULL, err);
    json_decref(l);
    json_decref(node);
  }
  json_decref(j);
  if (code) {
    free(*out);
    *out = NULL;
    return st_err_wrap(err, code, "registry reply");
  }
  *n = count;
  return ST_OK;
}

st_code st_regc_drop(st_regc *c, uint64_t miner, uint64_t sector, int kind, int64_t node, uint64_t *dropped,
                     st_err *err) {
  char path[160];
  int len =
      snprintf(path, sizeof path, "/v0/sectors/t0%llu/%llu?", (unsigned long long)miner, (unsigned long long)sector);
  if (kind >= 0)
    len += snprintf(path + len, sizeof path - (size_t)len, "kind=%s&", st_sector_kind_name((st_sector_kind)kind));
  if (node > 0) snprintf(path + len, sizeof path - (size_t)len, "node=%lld", (long long)node);
  return delete_call(c, path, "dropped", dropped, err);
}

st_code st_regc_allocate(st_regc *c, const st_reg_alloc *req, st_storage_node *node, bool *allocated, st_err *err) {
  char miner[32];
  snprintf(miner, sizeof miner, "t0%llu", (unsigned long long)req->miner);
  json_t *body =
      json_pack("{ss sI sI}", "miner", miner, "sector", (json_int_t)req->sector, "size", (json_int_t)req->size);
  if (req->group >= 0) json_object_set_new(body, "group", json_integer(req->group));
  if (req->kinds) {
    json_t *kinds = json_array();
    for (int k = 0; k < ST_KIND_COUNT; k++)
      if (req->kinds & (1u << k)) json_array_append_new(kinds, json_string(st_sector_kind_name((st_sector_kind)k)));
    json_object_set_new(body, "kinds", kinds);
  }
  json_t *j;
  st_code code = node_call(c, "POST", "/v0/allocate", body, "storage_node", node, &j, err);
  if (allocated) *allocated = !code && json_is_true(json_object_get(j, "allocated"));
  json_decref(j);
  return code;
}

st_code st_regc_resolve(st_regc *c, uint64_t miner, uint64_t sector, st_sector_kind kind, const char *dist_path,
                        char path[ST_REG_PATH_MAX], st_storage_node *node, st_err *err) {
  char url[128];
  snprintf(url, sizeof url, "/v0/paths/t0%llu/%llu/%s", (unsigned long long)miner, (unsigned long long)sector,
           st_sector_kind_name(kind));
  st_storage_node n;
  memset(path, 0, ST_REG_PATH_MAX);
  st_code code = node_call(c, "GET", url, NULL, "storage_node", &n, NULL, err);
  if (!code) code = st_reg_path(dist_path, &n, kind, miner, sector, path, err);
  if (code) memset(&n, 0, sizeof n);
  if (node) *node = n;
  return code;
}
