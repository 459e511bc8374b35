/* st_registry_server: the registry's HTTP JSON API (spacetime-server run) over st_registry_store.
 *
 *   GET    /health                                   liveness, backend and schema version
 *   GET    /metrics                                  Prometheus text
 *   GET    /v0/storage-nodes                         list
 *   POST   /v0/storage-nodes                         add {host, group, mount_host, mount_type, ...}
 *   GET    /v0/storage-nodes/ID                      one node
 *   PATCH  /v0/storage-nodes/ID                      update some fields; "version" makes it conditional
 *   DELETE /v0/storage-nodes/ID[?force=1]            remove (force drops its sector locations)
 *   POST   /v0/storage-nodes/ID/heartbeat            {capacity, available} or {error}
 *   POST   /v0/sectors/locations                     declare {miner, sector, kind, node, primary}
 *   GET    /v0/sectors/MINER/SECTOR                  find every location, with its node
 *   DELETE /v0/sectors/MINER/SECTOR[?kind=K&node=N]  drop
 *   POST   /v0/allocate                              {miner, sector, size, group?, kinds?}
 *   GET    /v0/paths/MINER/SECTOR/KIND[?dist_path=D] resolve the primary copy's path
 *
 * Writes need "Authorization: Bearer <token>"; reads need it too unless the peer is on loopback.
 * Errors are {"error": "<what is wrong>"} with a 4xx status, and nothing is written. */
#ifndef ST_REGISTRY_SERVER_H
#define ST_REGISTRY_SERVER_H

#include <stdint.h>

#include "core/st_err.h"

typedef struct st_registry_server st_registry_server;

typedef struct st_registry_server_opts {
  const char *listen; /* HOST:PORT; port 0 picks a free one */
  const char *db_url; /* sqlite:PATH or postgres://... */
  const char *token;  /* required for writes (and for reads off loopback) */
  int64_t stale_secs; /* a heartbeat older than this excludes a node from allocation; 0 means 60 */
  unsigned threads;   /* request threads, each with its own database connection; 0 means 4 */
} st_registry_server_opts;

/* Opens the database, runs the migrations and starts serving. *out is NULL on failure. */
st_code st_registry_server_start(const st_registry_server_opts *opts, st_registry_server **out, st_err *err);
uint16_t st_registry_server_port(const st_registry_server *srv);
int st_registry_server_schema(const st_registry_server *srv);
void st_registry_server_stop(st_registry_server *srv);

#endif
