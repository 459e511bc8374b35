/* st_registry: what the registry knows (storage nodes and sector locations), the path rule that
 * turns a location into a file path on one host, and the JSON the server and client exchange.
 *
 * The server (st_registry_server), its store (st_registry_store) and the client
 * (st_registry_client) all use these types, so the checks on a field are written once here.
 *
 * Every out is initialised on return, success or not (st_err.h): on failure a node, location,
 * path or number is all zero, except where a function below says otherwise. */
#ifndef ST_REGISTRY_H
#define ST_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/st_err.h"

#define ST_REG_HOST_MAX 253
#define ST_REG_TYPE_MAX 32
#define ST_REG_ERRTEXT_MAX 256
#define ST_REG_PATH_MAX 4096
#define ST_REG_BYTES_MAX ((int64_t)1 << 62) /* the largest capacity or size the registry takes */
#define ST_REG_WEIGHT_MAX 1000000

typedef enum st_sector_kind { ST_KIND_SEALED, ST_KIND_CACHE, ST_KIND_UNSEALED, ST_KIND_COUNT } st_sector_kind;

typedef struct st_storage_node {
  int64_t id;
  char host[ST_REG_HOST_MAX + 1];         /* the storage node's address (IP or name) */
  int64_t group;                          /* sealing group, as in --groups */
  char mount_host[ST_REG_HOST_MAX + 1];   /* where its export is mounted from */
  char mount_type[ST_REG_TYPE_MAX + 1];   /* nfs, local, glusterfs, ... */
  int64_t capacity, available;            /* bytes, from the last heartbeat */
  int64_t weight;                         /* allocation preference, higher first */
  int64_t last_heartbeat;                 /* unix seconds; 0 = never */
  char heartbeat_err[ST_REG_ERRTEXT_MAX]; /* "" = healthy */
  int64_t version;                        /* bumped on every configuration change */
} st_storage_node;

typedef struct st_sector_location {
  uint64_t miner;  /* actor id: 1003 for t01003 */
  uint64_t sector; /* sector number */
  st_sector_kind kind;
  int64_t node;
  bool primary;
} st_sector_location;

/* A sector file's location together with the node that holds it. */
typedef struct st_reg_found {
  st_sector_location loc;
  st_storage_node node;
} st_reg_found;

/* An allocation request: place sector's files (kinds: bit per st_sector_kind; 0 means sealed
 * and cache) on a node of group (-1: any) with size bytes free. */
typedef struct st_reg_alloc {
  uint64_t miner, sector;
  int64_t size;
  int64_t group;  /* -1: any */
  unsigned kinds; /* bit per st_sector_kind; 0 means sealed and cache */
} st_reg_alloc;

/* "sealed", "cache", "unsealed". */
const char *st_sector_kind_name(st_sector_kind k);
st_code st_sector_kind_parse(const char *s, st_sector_kind *out, st_err *err);

/* Host names: letters, digits, '.', '-', '_' and ':' (IPv6), at most 253, not starting with '.'
 * or '-', no "..". Mount types: lowercase letters, digits, '-' and '_', at most 32. Either
 * becomes one path component, so nothing that could climb out of the dist-path passes. */
st_code st_reg_check_host(const char *s, const char *what, st_err *err);
st_code st_reg_check_type(const char *s, st_err *err);

/* A miner as an ID address ("t01003", "f01003") or its bare number ("1003"), at most 2^63-1
 * (the databases keep it in a signed 64-bit column). */
st_code st_reg_parse_miner(const char *s, uint64_t *out, st_err *err);

/* A node's root on one host: <dist>/<mount type>/<host>. */
st_code st_reg_root(const char *dist, const st_storage_node *node, char out[ST_REG_PATH_MAX], st_err *err);
/* The path rule: <dist>/<mount type>/<host>/<kind>/s-t0<miner>-<sector>. */
st_code st_reg_path(const char *dist, const st_storage_node *node, st_sector_kind kind, uint64_t miner, uint64_t sector,
                    char out[ST_REG_PATH_MAX], st_err *err);

/* JSON forms. *_to_json return a new reference (NULL only when out of memory). */
json_t *st_node_to_json(const st_storage_node *n);
json_t *st_location_to_json(const st_sector_location *l);

/* Reads a node from JSON. ST_NODE_NEW (an add): host and mount_type required; group (1),
 * mount_host (= host), weight (10), capacity and available (0) optional. ST_NODE_PATCH (an
 * update): any of those keys, and *fields gets bit i for the i-th of ST_NODE_FIELDS present.
 * ST_NODE_STORED: every key st_node_to_json writes (what the client reads back). Unknown keys
 * are refused in every mode. A failed patch leaves out as it was (and *fields 0); a failed
 * NEW or STORED read leaves it all zero. */
#define ST_NODE_FIELDS "host", "group", "mount_host", "mount_type", "weight", "capacity", "available"
/* The bits of *fields, in the order of ST_NODE_FIELDS. */
enum {
  ST_NODE_F_HOST = 1u << 0,
  ST_NODE_F_GROUP = 1u << 1,
  ST_NODE_F_MOUNT_HOST = 1u << 2,
  ST_NODE_F_MOUNT_TYPE = 1u << 3,
  ST_NODE_F_WEIGHT = 1u << 4,
  ST_NODE_F_CAPACITY = 1u << 5,
  ST_NODE_F_AVAILABLE = 1u << 6,
  ST_NODE_F_ALL = (1u << 7) - 1
};
typedef enum st_node_json_mode { ST_NODE_NEW, ST_NODE_PATCH, ST_NODE_STORED } st_node_json_mode;
st_code st_node_from_json(const json_t *j, st_node_json_mode mode, st_storage_node *out, unsigned *fields, st_err *err);
st_code st_location_from_json(const json_t *j, st_sector_location *out, st_err *err);

/* Integer members: a JSON integer in [min, max]; a missing member leaves *out alone when
 * optional and fails otherwise. Errors name the key. *out is written only on success: it holds
 * its default (what the caller put there) otherwise. */
st_code st_reg_json_int(const json_t *obj, const char *key, bool optional, int64_t min, int64_t max, int64_t *out,
                        st_err *err);
/* Refuses members other than those listed (NULL-terminated). */
st_code st_reg_json_only(const json_t *obj, const char *const *keys, const char *what, st_err *err);

#endif
