/* st_locator: where this host finds a sector's files, for the poster, block production and the
 * views. With a registry (--server-api) each file is its primary copy under the node's mount in
 * --dist-path (<dist>/<mount type>/<host>/...); without one, <dist>/sealed and <dist>/cache. The
 * seed's incident is the second case on a cluster whose sectors live on the storage nodes. */
#ifndef ST_LOCATOR_H
#define ST_LOCATOR_H

#include "miner/st_blockprod.h"
#include "registry/st_registry_client.h"

typedef struct st_locator {
  const char *dist; /* this host's --dist-path */
  st_regc *reg;     /* NULL: paths under dist */
} st_locator;

/* An st_sector_locate_fn; ctx is an st_locator. *out is zeroed on failure. */
st_code st_locator_locate(void *ctx, uint64_t miner, uint64_t sector, st_sector_paths *out, st_err *err);

/* Heartbeats for the storage nodes this host mounts (`run` sends them with its sealer, every
 * ST_LOCATOR_HEARTBEAT_SECS): each registry node whose root <dist>/<type>/<host> is a folder
 * here is reported with the space st_fs_space finds there, or with the error that stops it (a
 * stale NFS mount); nodes not mounted here are left to the hosts that mount them. The registry
 * allocates only to nodes with a recent heartbeat. *reported gets how many were reported (on
 * failure, those reported before it). */
#define ST_LOCATOR_HEARTBEAT_SECS 20
st_code st_locator_heartbeat(const st_locator *l, size_t *reported, st_err *err);

#endif
