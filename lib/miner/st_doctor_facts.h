/* st_doctor_facts: what `spacetime-miner doctor` knows before it judges anything, gathered in
 * one pass: the chain's record of the miner (typed calls to the daemon, st_node_api), what the
 * running miner says of itself (MinerRunInfo and ProvingCheck on its own API), the poster's log
 * and the dist-path (st_doctor_files), the registry the miner uses (its health and storage
 * nodes) or, when it was started without one, a registry found on this host, and the worker's
 * balance. What could not be read is a fact too: its error, which the rules in st_doctor report.
 * The rules read nothing else, so a test can gather from a real node or fill the facts itself. */
#ifndef ST_DOCTOR_FACTS_H
#define ST_DOCTOR_FACTS_H

#include <gmp.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/st_deadline.h"
#include "core/st_err.h"
#include "miner/st_doctor_files.h"
#include "miner/st_miner_repo.h"
#include "registry/st_registry.h"
#include "rpc/st_node_api.h"
#include "rpc/st_rpc_client.h"

/* Doctor reads the poster log's last 8 MiB, and a node heartbeated longer ago than the
 * registry's default of 60 s is stale (no new sectors go to it). */
#define ST_DOCTOR_LOG_TAIL (8u << 20)
#define ST_DOCTOR_STALE_SECS 60
/* The poster's start-up line: the log's ERROR lines count from its last one. */
#define ST_DOCTOR_START_LINE "\tspacetime-miner starting\t"

/* What doctor is asked about and with what it reaches it. */
typedef struct st_doctor_opts {
  const char *repo, *node_repo;
  const st_miner_config *cfg;
  st_rpc_client *node; /* the daemon; NULL when it could not be reached: node_error says why */
  const char *node_error;
  st_rpc_client *miner; /* the running miner's API; NULL when there is none: miner_error says why */
  const char *miner_error;
  const char *log_file;   /* --log-file: the poster's log (NULL: the running miner's --log-file) */
  const char *server_api; /* --server-api: the registry (NULL: look for one on this host) */
  mpz_srcptr min_balance; /* --min-balance, attoFIL: warn when the worker holds less */
} st_doctor_opts;

/* MinerRunInfo: the running miner's mode, flags and poster counters. */
typedef struct st_doctor_run {
  int64_t pid, started_at;
  char mode[64], dist_path[ST_PATH_MAX], server_api[ST_PATH_MAX], log_file[ST_PATH_MAX];
  bool has_poster; /* its counters follow */
  int64_t posts_landed, posts_failed, sectors_proven, sectors_skipped;
} st_doctor_run;

/* One deadline at the head: its partitions and their live and faulty sectors. */
typedef struct st_doctor_deadline {
  size_t partitions;
  uint64_t live, faulty;
} st_doctor_deadline;

/* One sector of ProvingCheck: whether the poster can read it, else why ("bad" when the miner
 * gave no reason). */
typedef struct st_doctor_sector {
  uint64_t deadline;
  int64_t partition, sector;
  bool good;
  char error[1024];
} st_doctor_sector;

typedef struct st_doctor_facts {
  char repo[4096], node_repo[4096];
  st_miner_config cfg;
  int64_t now; /* unix seconds when gathered: heartbeat ages and uptime count from it */

  /* the daemon: reached (node_error otherwise), and answering ChainHead (head_error otherwise) */
  bool node_reached, head_ok;
  int64_t height;
  char node_error[ST_ERR_MSG_MAX], head_error[ST_ERR_MSG_MAX];

  /* the running miner; run is zeroed when it is not (miner_error says why) */
  bool running;
  st_doctor_run run;
  char miner_error[ST_ERR_MSG_MAX];

  /* the poster log: log_path "" when there is none to read; else scanned, or log_error */
  char log_path[ST_PATH_MAX];
  bool log_scanned;
  char log_error[ST_ERR_MSG_MAX];
  int64_t log_since;                     /* its ERROR lines count from here (0: all) */
  st_doctor_log log;                     /* large: keep facts static or on the heap */
  bool log_path_exists[ST_DOCTOR_PATHS]; /* each of log.paths, now */

  /* the chain, read once the daemon answers: sector counts and the current deadline (chain_ok,
   * else chain_error), then every deadline (deadlines_ok, else deadlines_error) */
  bool chain_ok, deadlines_ok;
  char chain_error[ST_ERR_MSG_MAX], deadlines_error[ST_ERR_MSG_MAX];
  st_node_sector_count counts;
  st_deadline_info cur;
  st_doctor_deadline *deadlines; /* cur.policy.deadlines of them */
  size_t ndeadlines;
  uint64_t proven_now; /* partitions of the current deadline proven this period */

  /* ProvingCheck of each deadline with partitions, while the miner runs: sectors in order; a
   * failing call stops it (paths_failed, at paths_failed_deadline with paths_error) */
  bool paths_checked, paths_failed;
  uint64_t paths_failed_deadline;
  char paths_error[ST_ERR_MSG_MAX];
  st_doctor_sector *sectors;
  size_t nsectors;

  /* a file the poster could not read (first from the log, then from ProvingCheck) and where it
   * is under a storage node's folder of the dist-path; misplaced "" if none was found */
  char misplaced[ST_PATH_MAX], misplaced_at[ST_PATH_MAX];
  bool misplaced_in_log;

  /* without a registry in the run: one doctor was told of or found on this host (url "": none),
   * how it was found, its repo (for the token) and whether it places this miner's sectors where
   * they are; and the run's command line ("" when unreadable) */
  char reg_url[512], reg_how[1100], reg_repo[4096];
  bool reg_verified;
  char cmdline[8192];

  /* with a registry in the run: its health (reg_ok, else reg_error) and storage nodes (nodes_ok,
   * else nodes_error) */
  bool reg_checked, reg_ok, nodes_ok;
  int reg_schema;
  char reg_error[ST_ERR_MSG_MAX], nodes_error[ST_ERR_MSG_MAX];
  st_storage_node *nodes;
  size_t nnodes;

  /* the miner's cluster, read from the running miner (cluster_ok, else cluster_error): the
   * Cluster method's reply {machines, lapsed_sectors, now} */
  bool cluster_ok;
  char cluster_error[ST_ERR_MSG_MAX];
  json_t *cluster;

  /* the worker's balance, read once the daemon answers (balance_ok, else balance_error), and
   * the least it should hold */
  bool balance_ok;
  char balance_error[ST_ERR_MSG_MAX];
  mpz_t balance, min_balance;
} st_doctor_facts;

void st_doctor_facts_init(st_doctor_facts *f);
void st_doctor_facts_free(st_doctor_facts *f);

/* Gathers every fact for o into f, which must be initialised and may hold an earlier gathering
 * (it is replaced). It cannot fail: what cannot be read is recorded with its error. */
void st_doctor_gather(const st_doctor_opts *o, st_doctor_facts *f);

#endif
