/* fuzz_registry: the registry's input checks on arbitrary bytes.
 *
 * The input is parsed as JSON (json_loadb with JSON_REJECT_DUPLICATES, plus JSON_DECODE_ANY and
 * JSON_ALLOW_NUL so that non-objects and strings with "\u0000" reach the library's own checks) and
 * given to st_node_from_json in each mode (ST_NODE_NEW, ST_NODE_PATCH over a valid stored node,
 * ST_NODE_STORED) and to st_location_from_json. The raw bytes, as a NUL-terminated string, go to
 * st_reg_check_host, st_reg_check_type, st_reg_parse_miner, st_sector_kind_parse and, as the
 * dist-path, to st_reg_path.
 *
 * Oracles (a failure prints what broke and traps):
 * - an accepted node (NEW or STORED) has a host, mount_host and mount_type that pass their checks
 *   again, fields in their documented ranges, available <= capacity when capacity is set, and
 *   st_reg_path("/mnt", node, cache, 1003, 2218) succeeds with exactly
 *   "/mnt/<mount_type>/<host>/cache/s-t01003-2218": it starts with "/mnt/", and holds no "/../";
 * - NEW applies the documented defaults (group 1, weight 10, mount_host = host, capacity and
 *   available 0) for missing keys;
 * - PATCH sets bit i of fields exactly for the i-th ST_NODE_FIELDS key present, leaves every
 *   other field as it was, and only accepts strings that pass their checks;
 * - st_node_to_json of an accepted STORED node (and of an accepted NEW node given id 1) parses
 *   back in ST_NODE_STORED mode to an equal node;
 * - an accepted location has a valid kind, node >= 1 and miner < 2^63, and st_location_to_json
 *   parses back to an equal location;
 * - a string st_reg_check_host / st_reg_check_type accepts has only the documented characters;
 *   a miner st_reg_parse_miner accepts (below 2^63) formats as "t0<id>" and "f0<id>" and parses
 *   back; a kind st_sector_kind_parse accepts is its own st_sector_kind_name;
 * - st_reg_path under any dist-path either fails or gives the dist-path without trailing slashes
 *   (one kept when it is all slashes) followed by the node's relative path;
 * - every rejection carries its code and a message. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/st_err.h"
#include "fuzz_util.h"
#include "registry/st_registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STR 4096

static void die(const char *what, const char *ctx) {
  fprintf(stderr, "fuzz_registry: oracle failed: %s [%.300s]\n", what, ctx ? ctx : "");
  __builtin_trap();
}

static bool host_chars_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > ST_REG_HOST_MAX || s[0] == '.' || s[0] == '-' || strstr(s, "..")) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
          c == '_' || c == ':'))
      return false;
  }
  return true;
}

static bool type_chars_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > ST_REG_TYPE_MAX) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  }
  return true;
}

static bool terminated(const char *s, size_t cap) { return memchr(s, 0, cap) != NULL; }

static bool nodes_equal(const st_storage_node *a, const st_storage_node *b) {
  return a->id == b->id && !strcmp(a->host, b->host) && a->group == b->group && !strcmp(a->mount_host, b->mount_host) &&
         !strcmp(a->mount_type, b->mount_type) && a->capacity == b->capacity && a->available == b->available &&
         a->weight == b->weight && a->last_heartbeat == b->last_heartbeat &&
         !strcmp(a->heartbeat_err, b->heartbeat_err) && a->version == b->version;
}

/* What every accepted (non-patch) node satisfies, including the path rule. */
static void check_node_invariants(const st_storage_node *n, const char *mode) {
  if (!terminated(n->host, sizeof n->host) || !terminated(n->mount_host, sizeof n->mount_host) ||
      !terminated(n->mount_type, sizeof n->mount_type) || !terminated(n->heartbeat_err, sizeof n->heartbeat_err))
    die("accepted node has an unterminated string", mode);
  st_err err = {ST_OK, {0}};
  if (st_reg_check_host(n->host, "host", &err)) die("accepted node's host fails st_reg_check_host", n->host);
  if (st_reg_check_host(n->mount_host, "mount_host", &err))
    die("accepted node's mount_host fails st_reg_check_host", n->mount_host);
  if (st_reg_check_type(n->mount_type, &err)) die("accepted node's mount_type fails st_reg_check_type", n->mount_type);
  if (!host_chars_ok(n->host) || !host_chars_ok(n->mount_host))
    die("accepted node's host has a character outside the documented set", n->host);
  if (!type_chars_ok(n->mount_type))
    die("accepted node's mount_type has a character outside the documented set", n->mount_type);
  if (n->group < 0 || n->group > INT32_MAX) die("accepted node's group is out of range", mode);
  if (n->weight < 0 || n->weight > 1000000) die("accepted node's weight is out of range", mode);
  if (n->capacity < 0 || n->available < 0) die("accepted node has negative bytes", mode);
  if (n->capacity && n->available > n->capacity) die("accepted node has available > capacity", mode);

  char path[ST_REG_PATH_MAX], want[ST_REG_PATH_MAX + 64];
  if (st_reg_path("/mnt", n, ST_KIND_CACHE, 1003, 2218, path, &err)) {
    fprintf(stderr, "fuzz_registry: %s\n", err.msg);
    die("st_reg_path fails on an accepted node", n->host);
  }
  if (strncmp(path, "/mnt/", 5)) die("path does not start with /mnt/", path);
  if (strstr(path, "/../") || strstr(path, "/./") || strstr(path, "//"))
    die("path climbs or has an empty or '.' component", path);
  snprintf(want, sizeof want, "/mnt/%s/%s/cache/s-t01003-2218", n->mount_type, n->host);
  if (strcmp(path, want)) die("path is not /mnt/<mount_type>/<host>/cache/s-t01003-2218", path);
}

/* to_json, then ST_NODE_STORED, gives the same node. */
static void check_node_round_trip(const st_storage_node *n, const char *mode) {
  json_t *j = st_node_to_json(n);
  if (!j) die("st_node_to_json returned NULL", mode);
  st_storage_node back;
  memset(&back, 0xa5, sizeof back);
  st_err err = {ST_OK, {0}};
  if (st_node_from_json(j, ST_NODE_STORED, &back, NULL, &err)) {
    char *text = json_dumps(j, JSON_COMPACT);
    fprintf(stderr, "fuzz_registry: %s\n", err.msg);
    die("st_node_to_json output does not parse back as a stored node", text);
  }
  if (!nodes_equal(n, &back)) {
    char *text = json_dumps(j, JSON_COMPACT);
    die("node changed in a to_json / ST_NODE_STORED round trip", text);
  }
  json_decref(j);
}

/* A valid stored node, the base a PATCH applies to (as the server reads it before patching). */
static const st_storage_node BASE = {.id = 7,
                                     .host = "10.10.4.23",
                                     .group = 3,
                                     .mount_host = "nas-1",
                                     .mount_type = "nfs",
                                     .capacity = 1000,
                                     .available = 500,
                                     .weight = 20,
                                     .last_heartbeat = 1700000000,
                                     .heartbeat_err = "",
                                     .version = 4};

static void check_nodes(const json_t *j) {
  static const char *const keys[] = {ST_NODE_FIELDS};
  st_err err = {ST_OK, {0}};
  st_code rc;

  /* ST_NODE_NEW */
  st_storage_node n;
  memset(&n, 0x5a, sizeof n);
  unsigned fields = 0xdead;
  if ((rc = st_node_from_json(j, ST_NODE_NEW, &n, &fields, &err))) {
    fuzz_rejected("fuzz_registry", "ST_NODE_NEW", rc, &err);
  } else {
    check_node_invariants(&n, "ST_NODE_NEW");
    for (unsigned i = 0; i < 7; i++)
      if (!!(fields & (1u << i)) != !!json_object_get(j, keys[i]))
        die("ST_NODE_NEW: fields does not match the keys present", keys[i]);
    if (fields >> 7) die("ST_NODE_NEW: fields has bits beyond ST_NODE_FIELDS", NULL);
    if (!json_object_get(j, "group") && n.group != 1) die("ST_NODE_NEW: group does not default to 1", NULL);
    if (!json_object_get(j, "weight") && n.weight != 10) die("ST_NODE_NEW: weight does not default to 10", NULL);
    if (!json_object_get(j, "capacity") && n.capacity != 0) die("ST_NODE_NEW: capacity does not default to 0", NULL);
    if (!json_object_get(j, "available") && n.available != 0) die("ST_NODE_NEW: available does not default to 0", NULL);
    if (!json_object_get(j, "mount_host") && strcmp(n.mount_host, n.host))
      die("ST_NODE_NEW: mount_host does not default to host", n.mount_host);
    if (n.last_heartbeat != 0 || n.heartbeat_err[0]) die("ST_NODE_NEW: a new node has heartbeat state", NULL);
    n.id = 1; /* what the store would assign */
    check_node_round_trip(&n, "ST_NODE_NEW + id 1");
  }

  /* ST_NODE_PATCH over BASE */
  st_storage_node p = BASE;
  fields = 0xdead;
  err = (st_err){ST_OK, {0}};
  if ((rc = st_node_from_json(j, ST_NODE_PATCH, &p, &fields, &err))) {
    fuzz_rejected("fuzz_registry", "ST_NODE_PATCH", rc, &err);
  } else {
    if (fields >> 7) die("ST_NODE_PATCH: fields has bits beyond ST_NODE_FIELDS", NULL);
    for (unsigned i = 0; i < 7; i++)
      if (!!(fields & (1u << i)) != !!json_object_get(j, keys[i]))
        die("ST_NODE_PATCH: fields does not match the keys present", keys[i]);
    if (!terminated(p.host, sizeof p.host) || !terminated(p.mount_host, sizeof p.mount_host) ||
        !terminated(p.mount_type, sizeof p.mount_type))
      die("ST_NODE_PATCH: unterminated string", NULL);
    if (!host_chars_ok(p.host) || !host_chars_ok(p.mount_host) || !type_chars_ok(p.mount_type))
      die("ST_NODE_PATCH: accepted a host or mount_type outside the documented set", p.host);
    if (!(fields & ST_NODE_F_HOST) && strcmp(p.host, BASE.host))
      die("ST_NODE_PATCH: host changed without the key", p.host);
    if (!(fields & ST_NODE_F_GROUP) && p.group != BASE.group) die("ST_NODE_PATCH: group changed without the key", NULL);
    if (!(fields & ST_NODE_F_MOUNT_HOST) && strcmp(p.mount_host, BASE.mount_host))
      die("ST_NODE_PATCH: mount_host changed without the key", p.mount_host);
    if (!(fields & ST_NODE_F_MOUNT_TYPE) && strcmp(p.mount_type, BASE.mount_type))
      die("ST_NODE_PATCH: mount_type changed without the key", p.mount_type);
    if (!(fields & ST_NODE_F_WEIGHT) && p.weight != BASE.weight)
      die("ST_NODE_PATCH: weight changed without the key", NULL);
    if (!(fields & ST_NODE_F_CAPACITY) && p.capacity != BASE.capacity)
      die("ST_NODE_PATCH: capacity changed without the key", NULL);
    if (!(fields & ST_NODE_F_AVAILABLE) && p.available != BASE.available)
      die("ST_NODE_PATCH: available changed without the key", NULL);
    if (p.id != BASE.id || p.last_heartbeat != BASE.last_heartbeat || strcmp(p.heartbeat_err, BASE.heartbeat_err) ||
        p.version != BASE.version)
      die("ST_NODE_PATCH: changed a field that is not configuration", NULL);
    if (p.group < 0 || p.group > INT32_MAX || p.weight < 0 || p.weight > 1000000 || p.capacity < 0 || p.available < 0)
      die("ST_NODE_PATCH: accepted a value out of range", NULL);
  }

  /* ST_NODE_STORED */
  st_storage_node s;
  memset(&s, 0x5a, sizeof s);
  err = (st_err){ST_OK, {0}};
  if ((rc = st_node_from_json(j, ST_NODE_STORED, &s, NULL, &err))) {
    fuzz_rejected("fuzz_registry", "ST_NODE_STORED", rc, &err);
  } else {
    check_node_invariants(&s, "ST_NODE_STORED");
    if (s.id < 1 || s.version < 1 || s.last_heartbeat < 0)
      die("ST_NODE_STORED: id, version or last_heartbeat out of range", NULL);
    check_node_round_trip(&s, "ST_NODE_STORED");
  }
}

static void check_location(const json_t *j) {
  st_sector_location l;
  memset(&l, 0x5a, sizeof l);
  st_err err = {ST_OK, {0}};
  st_code rc = st_location_from_json(j, &l, &err);
  if (rc) {
    fuzz_rejected("fuzz_registry", "st_location_from_json", rc, &err);
    return;
  }
  if ((unsigned)l.kind >= ST_KIND_COUNT) die("accepted location has a bad kind", NULL);
  if (l.node < 1) die("accepted location has node < 1", NULL);
  if (l.miner > INT64_MAX) die("accepted location has miner >= 2^63", NULL);
  if (l.sector > INT64_MAX) die("accepted location has sector >= 2^63", NULL);
  json_t *out = st_location_to_json(&l);
  if (!out) die("st_location_to_json returned NULL", NULL);
  st_sector_location back;
  memset(&back, 0xa5, sizeof back);
  if (st_location_from_json(out, &back, &err)) {
    fprintf(stderr, "fuzz_registry: %s\n", err.msg);
    die("st_location_to_json output does not parse back", json_dumps(out, JSON_COMPACT));
  }
  if (back.miner != l.miner || back.sector != l.sector || back.kind != l.kind || back.node != l.node ||
      back.primary != l.primary)
    die("location changed in a to_json / from_json round trip", json_dumps(out, JSON_COMPACT));
  json_decref(out);
}

static void check_string(const char *s) {
  st_err err = {ST_OK, {0}};
  st_code rc;

  if ((rc = st_reg_check_host(s, "host", &err))) fuzz_rejected("fuzz_registry", "st_reg_check_host", rc, &err);
  else if (!host_chars_ok(s)) die("st_reg_check_host accepted a string outside the documented set", s);
  if (host_chars_ok(s) && st_reg_check_host(s, "host", NULL))
    die("st_reg_check_host rejected a documented-valid host", s);

  err = (st_err){ST_OK, {0}};
  if ((rc = st_reg_check_type(s, &err))) fuzz_rejected("fuzz_registry", "st_reg_check_type", rc, &err);
  else if (!type_chars_ok(s)) die("st_reg_check_type accepted a string outside the documented set", s);
  if (type_chars_ok(s) && st_reg_check_type(s, NULL)) die("st_reg_check_type rejected a documented-valid type", s);

  uint64_t miner = 0;
  err = (st_err){ST_OK, {0}};
  if ((rc = st_reg_parse_miner(s, &miner, &err))) {
    fuzz_rejected("fuzz_registry", "st_reg_parse_miner", rc, &err);
  } else if (miner <= INT64_MAX) {
    char text[32];
    for (const char *net = "tf"; *net; net++) {
      uint64_t again = ~miner;
      snprintf(text, sizeof text, "%c0%llu", *net, (unsigned long long)miner);
      if (st_reg_parse_miner(text, &again, &err)) {
        fprintf(stderr, "fuzz_registry: %s\n", err.msg);
        die("an accepted miner does not parse back from its ID address", text);
      }
      if (again != miner) die("miner changed in an ID-address round trip", text);
    }
  }

  st_sector_kind kind;
  err = (st_err){ST_OK, {0}};
  if ((rc = st_sector_kind_parse(s, &kind, &err))) fuzz_rejected("fuzz_registry", "st_sector_kind_parse", rc, &err);
  else if ((unsigned)kind >= ST_KIND_COUNT || strcmp(st_sector_kind_name(kind), s))
    die("st_sector_kind_parse disagrees with st_sector_kind_name", s);

  /* s as the dist-path */
  char path[ST_REG_PATH_MAX];
  err = (st_err){ST_OK, {0}};
  if ((rc = st_reg_path(s, &BASE, ST_KIND_SEALED, 1003, 2218, path, &err))) {
    fuzz_rejected("fuzz_registry", "st_reg_path", rc, &err);
    if (*s && strlen(s) + 40 < ST_REG_PATH_MAX) die("st_reg_path failed on a short, non-empty dist-path", s);
    return;
  }
  size_t dl = strlen(s);
  while (dl > 1 && s[dl - 1] == '/') dl--;
  const char *rel = "/nfs/10.10.4.23/sealed/s-t01003-2218";
  if (strncmp(path, s, dl) || strcmp(path + dl, rel))
    die("st_reg_path is not dist-path + /<type>/<host>/<kind>/<name>", path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_error_t jerr;
  json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
  if (j) {
    check_nodes(j);
    check_location(j);
    json_decref(j);
  }
  if (size <= MAX_STR) {
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0'; /* an embedded NUL ends the string early, as it would in C */
    check_string(s);
    free(s);
  }
  return 0;
}
