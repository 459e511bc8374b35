/* st_registry_client: the registry's API from C (libcurl), for the miner and spacetime-server's
 * own CLI. One call per API operation; a failed call returns the server's message with a code
 * from its status (400 ST_EINVAL, 401 ST_EPERM, 404 ST_ENOENT, 409 ST_ECONFLICT, 503
 * ST_EUNAVAIL), or ST_EUNAVAIL naming the URL when the server cannot be reached.
 *
 * A client is used by one thread at a time; open one per thread. Every out is initialised on
 * return, success or not (st_err.h): on failure nodes, paths and counts are all zero, lists NULL
 * with 0 entries; st_regc_raw appends the reply to resp. */
#ifndef ST_REGISTRY_CLIENT_H
#define ST_REGISTRY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/st_buf.h"
#include "registry/st_registry.h"

typedef struct st_regc st_regc;

/* urls: one registry URL like "http://127.0.0.1:3456", or a comma-separated list of instances
 * over one database (spaces around each are ignored; at most ST_REGC_URLS_MAX). Calls go to one
 * instance; when it cannot be reached (ST_EUNAVAIL from the transport, not a 503 reply) the call
 * is sent to the next, in order, wrapping round, and later calls stay with the one that answered.
 * Each move is logged (WARN "registry unreachable, moving on to the next" {from, to, err}). A
 * write whose reply was lost (the instance died after its commit) may thus reach the database
 * twice, as when a caller retries it: claims, checks and updates of the cluster are the same
 * twice; a pledge's sector_new or a join gives a second row (a second pledged sector, sealed like
 * any other; a machine that never heartbeats and lapses). token may be NULL for reads on
 * loopback. *out is NULL on failure; an empty or bad URL is named by its place in the list. */
#define ST_REGC_URLS_MAX 8
st_code st_regc_open(const char *urls, const char *token, st_regc **out, st_err *err);
void st_regc_close(st_regc *c);
/* The instance calls go to now. */
const char *st_regc_url(const st_regc *c);

st_code st_regc_health(st_regc *c, int *schema, st_err *err);
st_code st_regc_nodes(st_regc *c, st_storage_node **out, size_t *n, st_err *err); /* free(*out) */
st_code st_regc_node_get(st_regc *c, int64_t id, st_storage_node *out, st_err *err);
st_code st_regc_node_add(st_regc *c, const st_storage_node *node, st_storage_node *out, st_err *err);
/* fields: bits as in ST_NODE_FIELDS; expect_version > 0 makes the update conditional. */
st_code st_regc_node_update(st_regc *c, int64_t id, const st_storage_node *patch, unsigned fields,
                            int64_t expect_version, st_storage_node *out, st_err *err);
st_code st_regc_node_remove(st_regc *c, int64_t id, bool force, uint64_t *dropped, st_err *err);
/* error NULL: a healthy report of capacity and available. */
st_code st_regc_heartbeat(st_regc *c, int64_t id, int64_t capacity, int64_t available, const char *error,
                          st_storage_node *out, st_err *err);

st_code st_regc_declare(st_regc *c, const st_sector_location *loc, st_err *err);
st_code st_regc_find(st_regc *c, uint64_t miner, uint64_t sector, st_reg_found **out, size_t *n,
                     st_err *err); /* free(*out) */
st_code st_regc_drop(st_regc *c, uint64_t miner, uint64_t sector, int kind, int64_t node, uint64_t *dropped,
                     st_err *err);
st_code st_regc_allocate(st_regc *c, const st_reg_alloc *req, st_storage_node *node, bool *allocated, st_err *err);
/* The path of a sector file's primary copy on this host, under its own dist-path. */
st_code st_regc_resolve(st_regc *c, uint64_t miner, uint64_t sector, st_sector_kind kind, const char *dist_path,
                        char path[ST_REG_PATH_MAX], st_storage_node *node, st_err *err);

/* A cluster operation (st_cluster_store.h) at POST /v0/cluster/OP: params is stolen; *reply
 * gets the reply object (the caller's to free; NULL on failure). */
st_code st_regc_cluster(st_regc *c, const char *op, json_t *params, json_t **reply, st_err *err);

/* Any request, as is (tests and tools): *status and the body come back whatever the status. */
st_code st_regc_raw(st_regc *c, const char *method, const char *path, const char *body, size_t len, long *status,
                    st_buf *resp, st_err *err);

#endif
