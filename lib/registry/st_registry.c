/* st_registry: field checks, the path rule and the JSON forms of nodes and locations. */
#include "registry/st_registry.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "codec/st_address.h"
#include "core/st_encoding.h"
#include "proofs/st_sector.h"

static const char *const KIND_NAMES[ST_KIND_COUNT] = {"sealed", "cache", "unsealed"};

const char *st_sector_kind_name(st_sector_kind k) { return k < ST_KIND_COUNT ? KIND_NAMES[k] : "?"; }

st_code st_sector_kind_parse(const char *s, st_sector_kind *out, st_err *err) {
  *out = ST_KIND_SEALED;
  for (int k = 0; k < ST_KIND_COUNT; k++)
    if (!strcmp(s, KIND_NAMES[k])) {
      *out = (st_sector_kind)k;
      return ST_OK;
    }
  return st_err_set(err, ST_EINVAL, "kind \"%.40s\" is not one of sealed, cache, unsealed", s);
}

st_code st_reg_check_host(const char *s, const char *what, st_err *err) {
  size_t n = strlen(s);
  if (n == 0) return st_err_set(err, ST_EINVAL, "%s is empty", what);
  if (n > ST_REG_HOST_MAX)
    return st_err_set(err, ST_EINVAL, "%s is %zu characters long (at most %d)", what, n, ST_REG_HOST_MAX);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':') continue;
    if (c < 0x20 || c >= 0x7f)
      return st_err_set(err, ST_EINVAL,
                        "%s has byte 0x%02x at offset %zu: only letters, digits, '.', '-', '_' and ':' are allowed",
                        what, c, i);
    return st_err_set(err, ST_EINVAL,
                      "%s \"%.64s\" has '%c' at offset %zu: only letters, digits, '.', '-', '_' and ':' are allowed",
                      what, s, (char)c, i);
  }
  if (s[0] == '.' || s[0] == '-')
    return st_err_set(err, ST_EINVAL, "%s \"%.64s\" must not start with '%c'", what, s, s[0]);
  if (strstr(s, "..")) return st_err_set(err, ST_EINVAL, "%s \"%.64s\" must not contain \"..\"", what, s);
  return ST_OK;
}

st_code st_reg_check_type(const char *s, st_err *err) {
  size_t n = strlen(s);
  if (n == 0) return st_err_set(err, ST_EINVAL, "mount_type is empty (want nfs, local, ...)");
  if (n > ST_REG_TYPE_MAX)
    return st_err_set(err, ST_EINVAL, "mount_type is %zu characters long (at most %d)", n, ST_REG_TYPE_MAX);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!(c >= 'a' && c <= 'z') && !isdigit(c) && c != '-' && c != '_')
      return st_err_set(
          err, ST_EINVAL,
          "mount_type \"%.40s\" has a bad character at offset %zu: only lowercase letters, digits, '-' and '_' are allowed",
          s, i);
  }
  return ST_OK;
}

st_code st_reg_parse_miner(const char *s, uint64_t *out, st_err *err) {
  st_code code;
  st_address a;
  if (s[0] >= '0' && s[0] <= '9') code = st_parse_u64(s, "miner", out, err);
  else if (st_address_parse(s, &a, NULL, err) || st_address_protocol(&a) != ST_ADDR_ID)
    code = st_err_set(err, ST_EINVAL, "miner \"%.40s\" is not an ID address like t01003", s);
  else code = st_address_id(&a, out, err);
  if (!code && *out > INT64_MAX) code = st_err_set(err, ST_EINVAL, "miner %.40s is too large", s);
  if (code) *out = 0;
  return code;
}

static st_code reg_root(const char *dist, const st_storage_node *node, char out[ST_REG_PATH_MAX], st_err *err) {
  if (!*dist) return st_err_set(err, ST_EINVAL, "dist-path is empty");
  st_code code = st_reg_check_host(node->host, "host", err);
  if (!code) code = st_reg_check_type(node->mount_type, err);
  if (code) return st_err_wrap(err, code, "storage node %lld", (long long)node->id);
  size_t dl = strlen(dist);
  while (dl > 1 && dist[dl - 1] == '/') dl--; /* "/mnt/" and "/mnt" give the same path */
  int n = snprintf(out, ST_REG_PATH_MAX, "%.*s/%s/%s", (int)dl, dist, node->mount_type, node->host);
  if (n < 0 || n >= ST_REG_PATH_MAX)
    return st_err_set(err, ST_ERANGE, "path under dist-path \"%.64s...\" is too long", dist);
  return ST_OK;
}

/* Returns code, leaving out all NULs when code is a failure. */
static st_code path_done(st_code code, char out[ST_REG_PATH_MAX]) {
  if (code) memset(out, 0, ST_REG_PATH_MAX);
  return code;
}

st_code st_reg_root(const char *dist, const st_storage_node *node, char out[ST_REG_PATH_MAX], st_err *err) {
  return path_done(reg_root(dist, node, out, err), out);
}

static st_code reg_path(const char *dist, const st_storage_node *node, st_sector_kind kind, uint64_t miner,
                        uint64_t sector, char out[ST_REG_PATH_MAX], st_err *err) {
  if (kind >= ST_KIND_COUNT) return st_err_set(err, ST_EINVAL, "bad sector file kind %d", (int)kind);
  char root[ST_REG_PATH_MAX], name[ST_SECTOR_NAME_MAX];
  st_code code = reg_root(dist, node, root, err);
  if (code) return code;
  st_sector_name(miner, sector, name);
  int n = snprintf(out, ST_REG_PATH_MAX, "%s/%s/%s", root, KIND_NAMES[kind], name);
  if (n < 0 || n >= ST_REG_PATH_MAX)
    return st_err_set(err, ST_ERANGE, "path under dist-path \"%.64s...\" is too long", dist);
  return ST_OK;
}

st_code st_reg_path(const char *dist, const st_storage_node *node, st_sector_kind kind, uint64_t miner, uint64_t sector,
                    char out[ST_REG_PATH_MAX], st_err *err) {
  return path_done(reg_path(dist, node, kind, miner, sector, out, err), out);
}

/* ---- JSON ---- */

json_t *st_node_to_json(const st_storage_node *n) {
  return json_pack("{sI ss sI ss ss sI sI sI so so sI}", "id", (json_int_t)n->id, "host", n->host, "group",
                   (json_int_t)n->group, "mount_host", n->mount_host, "mount_type", n->mount_type, "capacity",
                   (json_int_t)n->capacity, "available", (json_int_t)n->available, "weight", (json_int_t)n->weight,
                   "last_heartbeat", n->last_heartbeat ? json_integer(n->last_heartbeat) : json_null(), "heartbeat_err",
                   n->heartbeat_err[0] ? json_string(n->heartbeat_err) : json_null(), "version",
                   (json_int_t)n->version);
}

json_t *st_location_to_json(const st_sector_location *l) {
  char miner[32];
  snprintf(miner, sizeof miner, "t0%llu", (unsigned long long)l->miner);
  return json_pack("{ss sI ss sI sb}", "miner", miner, "sector", (json_int_t)l->sector, "kind",
                   st_sector_kind_name(l->kind), "node", (json_int_t)l->node, "primary", l->primary);
}

st_code st_reg_json_only(const json_t *obj, const char *const *keys, const char *what, st_err *err) {
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)obj, key, v) {
    bool known = false;
    for (size_t i = 0; keys[i] && !known; i++) known = !strcmp(key, keys[i]);
    if (!known) return st_err_set(err, ST_EINVAL, "%s has an unknown field \"%.40s\"", what, key);
  }
  return ST_OK;
}

st_code st_reg_json_int(const json_t *obj, const char *key, bool optional, int64_t min, int64_t max, int64_t *out,
                        st_err *err) {
  const json_t *v = json_object_get(obj, key);
  if (!v) return optional ? ST_OK : st_err_set(err, ST_EINVAL, "field \"%s\" is missing", key);
  if (!json_is_integer(v)) return st_err_set(err, ST_EINVAL, "field \"%s\" must be an integer", key);
  json_int_t i = json_integer_value(v);
  if (i < min || i > max)
    return st_err_set(err, ST_EINVAL, "field \"%s\" is %lld, outside [%lld, %lld]", key, (long long)i, (long long)min,
                      (long long)max);
  *out = i;
  return ST_OK;
}

static st_code json_str(const json_t *obj, const char *key, bool optional, char *out, size_t cap, st_err *err) {
  const json_t *v = json_object_get(obj, key);
  if (!v) return optional ? ST_OK : st_err_set(err, ST_EINVAL, "field \"%s\" is missing", key);
  if (!json_is_string(v)) return st_err_set(err, ST_EINVAL, "field \"%s\" must be a string", key);
  if (json_string_length(v) >= cap)
    return st_err_set(err, ST_EINVAL, "field \"%s\" is longer than %zu characters", key, cap - 1);
  if (strlen(json_string_value(v)) != json_string_length(v))
    return st_err_set(err, ST_EINVAL, "field \"%s\" contains a NUL character", key);
  memcpy(out, json_string_value(v), json_string_length(v) + 1);
  return ST_OK;
}

static st_code node_from_json(const json_t *j, st_node_json_mode mode, st_storage_node *out, unsigned *fields,
                              st_err *err) {
  static const char *const config_keys[] = {ST_NODE_FIELDS, NULL};
  static const char *const stored_keys[] = {"id", ST_NODE_FIELDS, "last_heartbeat", "heartbeat_err", "version", NULL};
  if (!json_is_object(j)) return st_err_set(err, ST_EINVAL, "storage node must be a JSON object");
  st_code code = st_reg_json_only(j, mode == ST_NODE_STORED ? stored_keys : config_keys, "storage node", err);
  if (code) return code;
  if (mode != ST_NODE_PATCH) {
    *out = (st_storage_node){.group = 1, .weight = 10, .version = 1};
  }
  bool opt = mode == ST_NODE_PATCH;
  if ((code = json_str(j, "host", opt, out->host, sizeof out->host, err))) return code;
  if ((code = json_str(j, "mount_type", opt, out->mount_type, sizeof out->mount_type, err))) return code;
  if (mode == ST_NODE_NEW) snprintf(out->mount_host, sizeof out->mount_host, "%s", out->host);
  if ((code = json_str(j, "mount_host", mode != ST_NODE_STORED, out->mount_host, sizeof out->mount_host, err)))
    return code;
  if ((code = st_reg_json_int(j, "group", mode != ST_NODE_STORED, 0, INT32_MAX, &out->group, err))) return code;
  if ((code = st_reg_json_int(j, "weight", mode != ST_NODE_STORED, 0, ST_REG_WEIGHT_MAX, &out->weight, err)))
    return code;
  if ((code = st_reg_json_int(j, "capacity", mode != ST_NODE_STORED, 0, ST_REG_BYTES_MAX, &out->capacity, err)))
    return code;
  if ((code = st_reg_json_int(j, "available", mode != ST_NODE_STORED, 0, ST_REG_BYTES_MAX, &out->available, err)))
    return code;
  if (mode == ST_NODE_STORED) {
    if ((code = st_reg_json_int(j, "id", false, 1, INT64_MAX, &out->id, err))) return code;
    if ((code = st_reg_json_int(j, "version", false, 1, INT64_MAX, &out->version, err))) return code;
    out->last_heartbeat = 0;
    out->heartbeat_err[0] = 0;
    if (!json_is_null(json_object_get(j, "last_heartbeat")) &&
        (code = st_reg_json_int(j, "last_heartbeat", true, 0, INT64_MAX, &out->last_heartbeat, err)))
      return code;
    if (!json_is_null(json_object_get(j, "heartbeat_err")) &&
        (code = json_str(j, "heartbeat_err", true, out->heartbeat_err, sizeof out->heartbeat_err, err)))
      return code;
  }
  if (fields) {
    *fields = 0;
    for (unsigned i = 0; config_keys[i]; i++)
      if (json_object_get(j, config_keys[i])) *fields |= 1u << i;
  }
  if (json_object_get(j, "host") || mode != ST_NODE_PATCH) {
    if ((code = st_reg_check_host(out->host, "host", err))) return code;
  }
  if (json_object_get(j, "mount_host") || mode != ST_NODE_PATCH) {
    if ((code = st_reg_check_host(out->mount_host, "mount_host", err))) return code;
  }
  if (json_object_get(j, "mount_type") || mode != ST_NODE_PATCH) {
    if ((code = st_reg_check_type(out->mount_type, err))) return code;
  }
  if (out->available > out->capacity && out->capacity && mode != ST_NODE_PATCH)
    return st_err_set(err, ST_EINVAL, "available (%lld) exceeds capacity (%lld)", (long long)out->available,
                      (long long)out->capacity);
  return ST_OK;
}

st_code st_node_from_json(const json_t *j, st_node_json_mode mode, st_storage_node *out, unsigned *fields,
                          st_err *err) {
  st_storage_node n;
  if (mode == ST_NODE_PATCH) n = *out;
  else memset(&n, 0, sizeof n);
  unsigned f = 0;
  st_code code = node_from_json(j, mode, &n, fields ? &f : NULL, err);
  if (fields) *fields = code ? 0 : f;
  if (!code) *out = n;
  else if (mode != ST_NODE_PATCH) memset(out, 0, sizeof *out);
  return code;
}

static st_code location_from_json(const json_t *j, st_sector_location *out, st_err *err) {
  static const char *const keys[] = {"miner", "sector", "kind", "node", "primary", NULL};
  if (!json_is_object(j)) return st_err_set(err, ST_EINVAL, "sector location must be a JSON object");
  st_code code = st_reg_json_only(j, keys, "sector location", err);
  if (code) return code;
  *out = (st_sector_location){.primary = true};
  const json_t *miner = json_object_get(j, "miner");
  if (json_is_string(miner)) code = st_reg_parse_miner(json_string_value(miner), &out->miner, err);
  else if (json_is_integer(miner) && json_integer_value(miner) >= 0) out->miner = (uint64_t)json_integer_value(miner);
  else
    code = st_err_set(err, ST_EINVAL,
                      miner ? "field \"miner\" must be an ID address like \"t01003\"" : "field \"miner\" is missing");
  if (code) return code;
  int64_t sector = 0, node = 0;
  if ((code = st_reg_json_int(j, "sector", false, 0, INT64_MAX, &sector, err))) return code;
  if ((code = st_reg_json_int(j, "node", false, 1, INT64_MAX, &node, err))) return code;
  out->sector = (uint64_t)sector;
  out->node = node;
  const json_t *kind = json_object_get(j, "kind");
  if (!json_is_string(kind))
    return st_err_set(err, ST_EINVAL, kind ? "field \"kind\" must be a string" : "field \"kind\" is missing");
  if ((code = st_sector_kind_parse(json_string_value(kind), &out->kind, err))) return code;
  const json_t *primary = json_object_get(j, "primary");
  if (primary) {
    if (!json_is_boolean(primary)) return st_err_set(err, ST_EINVAL, "field \"primary\" must be true or false");
    out->primary = json_is_true(primary);
  }
  if (out->miner > INT64_MAX) return st_err_set(err, ST_EINVAL, "field \"miner\" is too large");
  return ST_OK;
}

st_code st_location_from_json(const json_t *j, st_sector_location *out, st_err *err) {
  st_code code = location_from_json(j, out, err);
  if (code) memset(out, 0, sizeof *out);
  return code;
}
