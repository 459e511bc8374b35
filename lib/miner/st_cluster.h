/* st_cluster: where the processes of one miner share their work. With a registry
 * (--server-api) the cluster's tables live in its database and every operation goes over HTTP
 * (POST /v0/cluster/OP); without one, the same operations run on the repo's own SQLite file
 * (sealing.db), and the host lock (st_cluster_host_lock) keeps a second process away. Either
 * way the code that runs is st_cluster_op, so leases mean the same thing in both.
 *
 * A handle is used by one thread at a time; open one per thread. Every out is initialised on
 * return, success or not (st_err.h): a handle NULL, a reply NULL, a number 0. */
#ifndef ST_CLUSTER_H
#define ST_CLUSTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/st_err.h"

typedef struct st_cluster st_cluster;

/* server_api NULL: the local file db_path (created, brought to the registry's schema; sectors
 * of a sealing database from before the cluster are copied in once, for miner). */
st_code st_cluster_open(const char *server_api, const char *token, const char *db_path, uint64_t miner,
                        st_cluster **out, st_err *err);
/* st_cluster_open for a miner repo: the registry, or the repo's sealing.db without one. */
st_code st_cluster_open_repo(const char *server_api, const char *token, const char *repo, uint64_t miner,
                             st_cluster **out, st_err *err);
void st_cluster_close(st_cluster *c);

/* Runs op with params (stolen; "miner" is added). *reply: the reply object, the caller's. */
st_code st_cluster_call(st_cluster *c, uint64_t miner, const char *op, json_t *params, json_t **reply, st_err *err);

/* The lease of a claim on a network with this epoch length: twice the epoch, at least 2 s and
 * at most 120 s. A process renews its claims every third of it (ST_CLUSTER_RENEW_DIV). */
int64_t st_cluster_lease_secs(int64_t block_delay);
#define ST_CLUSTER_RENEW_DIV 3

/* Joins the miner's cluster as this process (host name, pid, roles "sealer", "poster" or
 * "sealer,poster", the program's version); *machine gets its id. */
st_code st_cluster_join(st_cluster *c, uint64_t miner, const char *roles, const char *version, int64_t lease_secs,
                        int64_t *machine, st_err *err);
/* Renews every claim of machine; ST_ENOENT if the cluster no longer knows it. */
st_code st_cluster_heartbeat(st_cluster *c, uint64_t miner, int64_t machine, st_err *err);
/* Frees machine's unfinished claims at once (a clean stop). */
st_code st_cluster_leave(st_cluster *c, uint64_t miner, int64_t machine, st_err *err);

/* Claims rows of kind (wdpost, blocks, declarations) with keys (nkeys keys of klen integers,
 * row-major), at most max (0: no limit); takeover false claims only new rows. *rows: the reply's
 * array, one object per key {key, claimed, owner, msg_cid, exit_code, done}; the caller frees
 * it with json_decref. */
st_code st_cluster_claim(st_cluster *c, uint64_t miner, int64_t machine, const char *kind, const int64_t *keys,
                         size_t nkeys, size_t klen, size_t max, bool takeover, json_t **rows, st_err *err);
/* Fails (ST_ECONFLICT) unless machine still holds every row named, and renews them. kind may be
 * "sealing" (key: the sector number). Called right before a side effect. */
st_code st_cluster_check(st_cluster *c, uint64_t miner, int64_t machine, const char *kind, const int64_t *keys,
                         size_t nkeys, size_t klen, st_err *err);
/* Records on rows machine holds: msg_cid (NULL: left as is; "" clears it), exit_code (when
 * has_exit), done. */
st_code st_cluster_update(st_cluster *c, uint64_t miner, int64_t machine, const char *kind, const int64_t *keys,
                          size_t nkeys, size_t klen, const char *msg_cid, bool has_exit, int64_t exit_code, bool done,
                          st_err *err);

/* On this host, a process of miner without a shared database excludes every other process of
 * the miner, and one with (shared) excludes only those without: abstract unix socket names,
 * released when the process dies. chain tells miners of the same id on other chains apart (from
 * the genesis block's CID). *fd: what to hold until exit (-1: nothing), for st_cluster_host_unlock.
 * ST_ECONFLICT says which process is in the way and what to do. */
st_code st_cluster_host_lock(uint64_t chain, uint64_t miner, bool shared, int *fd, st_err *err);
void st_cluster_host_unlock(int fd);

#endif
