/* st_registry_store: the registry's tables and every operation on them, over st_db.
 *
 * Each write is one transaction (st_db_tx), so a crash at any moment leaves either the whole
 * change or none of it. Errors carry codes the server maps to HTTP: ST_EINVAL 400, ST_ENOENT
 * 404, ST_EEXIST and ST_ECONFLICT 409, ST_EUNAVAIL 503.
 *
 * Every out is initialised on return, success or not (st_err.h): on failure a node is all
 * zero, a count or version 0, a list NULL with 0 entries. st_reg_node_add's node is an input
 * too: it is left as given when the add fails. */
#ifndef ST_REGISTRY_STORE_H
#define ST_REGISTRY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "db/st_db.h"
#include "registry/st_registry.h"

/* The numbered migration files (lib/registry/migrations), embedded at build time. */
typedef struct st_migration {
  int version;
  const char *name;
  const char *sql;
} st_migration;
extern const st_migration ST_MIGRATIONS[];
extern const int ST_MIGRATIONS_COUNT;

/* Brings the schema up to the newest version this build knows, one transaction for all
 * pending migrations; refuses (ST_ECONFLICT) a database whose schema is newer. *version gets
 * the schema version afterwards. */
st_code st_reg_migrate(st_db *db, int *version, st_err *err);
/* The schema version recorded in the database (0 for a new one). */
st_code st_reg_schema_version(st_db *db, int *version, st_err *err);

st_code st_reg_node_list(st_db *db, st_storage_node **out, size_t *n, st_err *err); /* free(*out) */
st_code st_reg_node_get(st_db *db, int64_t id, st_storage_node *out, st_err *err);
/* Adds node (its id and version are assigned and written back). */
st_code st_reg_node_add(st_db *db, st_storage_node *node, st_err *err);
/* Applies the fields of patch selected by fields (bits as in ST_NODE_FIELDS). With
 * expect_version > 0 the update fails with ST_ECONFLICT unless the row is at that version. */
st_code st_reg_node_update(st_db *db, int64_t id, const st_storage_node *patch, unsigned fields, int64_t expect_version,
                           st_storage_node *out, st_err *err);
/* Removes a node. One that still holds sector files is refused unless force, which drops those
 * locations in the same transaction (*dropped says how many). */
st_code st_reg_node_remove(st_db *db, int64_t id, bool force, uint64_t *dropped, st_err *err);
/* Records a health report: capacity and available, or error (non-NULL, non-empty) for a node
 * that cannot serve. */
st_code st_reg_node_heartbeat(st_db *db, int64_t id, int64_t capacity, int64_t available, const char *error,
                              int64_t now, st_storage_node *out, st_err *err);

/* Declares that a node holds a sector file. A primary declaration demotes the old primary. */
st_code st_reg_location_declare(st_db *db, const st_sector_location *loc, st_err *err);
/* Every location of a sector with its node, primaries first. */
st_code st_reg_location_find(st_db *db, uint64_t miner, uint64_t sector, st_reg_found **out, size_t *n, st_err *err);
/* Drops a sector's locations: all, or only one kind (kind >= 0) and/or one node (node > 0). */
st_code st_reg_location_drop(st_db *db, uint64_t miner, uint64_t sector, int kind, int64_t node, uint64_t *dropped,
                             st_err *err);
/* The node holding the primary copy of one sector file. */
st_code st_reg_resolve(st_db *db, uint64_t miner, uint64_t sector, st_sector_kind kind, st_storage_node *node,
                       st_err *err);

/* Picks a node for a new sector and records it there, in one transaction. The node must be in
 * group (when group >= 0), have no heartbeat error, a heartbeat no older than stale_secs and at
 * least size bytes available; the highest weight wins, then the most space. Its available bytes
 * drop by size until its next heartbeat. A sector that already has a primary copy of any of its
 * files stays on that node: the missing kinds are recorded there, nothing more is reserved and
 * *allocated is false. So retrying an allocation never places a sector twice. */
st_code st_reg_allocate(st_db *db, const st_reg_alloc *req, int64_t now, int64_t stale_secs, st_storage_node *node,
                        bool *allocated, st_err *err);

/* Row counts for /metrics. */
st_code st_reg_counts(st_db *db, int64_t *nodes, int64_t *locations, st_err *err);

#endif
