/* What the files of spacetime-miner share: the common flags, finding the daemon's and the
 * miner's APIs, the error line, and the verbs main.c dispatches to. */
#ifndef ST_CMD_MINER_H
#define ST_CMD_MINER_H

#include <jansson.h>
#include <stdint.h>

#include "core/st_cli.h"
#include "core/st_err.h"
#include "rpc/st_rpc_client.h"

#define REPO_FLAG ST_FLAG("repo", ST_FLAG_VALUE, "DIR", "the miner's folder (default ~/.spacetime-miner)")
#define NODE_FLAG                            \
  ST_FLAG("node-repo", ST_FLAG_VALUE, "DIR", \
          "the daemon's repo, for its api and token (default ~/.spacetime; $FULLNODE_API_INFO wins)")
#define JSON_FLAG ST_FLAG("json", ST_FLAG_BOOL, NULL, "print JSON")

/* The value of repo flag `flag` (read by name), or $HOME/<dflt>. */
void miner_repo_of(const st_cli *cli, const char *flag, const char *dflt, char out[4096]);
/* The daemon's API ($FULLNODE_API_INFO, else --node-repo's api and token files). */
st_code miner_connect_node(const st_cli *cli, st_rpc_client **out, st_err *err);
/* The running miner's API ($MINER_API_INFO, else the repo's api and token files); not running
 * reads "the miner is not running ..." with the command that starts it. */
st_code miner_connect_self(const char *repo, st_rpc_client **out, st_err *err);
/* Prints a view's --json output: indented, keys in order. */
void miner_print_json(const json_t *j);
/* The ERROR line for err, with a hint when the daemon or the miner is away; returns 1. */
int miner_fail(const st_err *err);

int miner_cmd_info(int argc, char **argv);
int miner_cmd_doctor(int argc, char **argv);
int miner_cmd_proving_info(int argc, char **argv);
int miner_cmd_proving_deadlines(int argc, char **argv);
int miner_cmd_proving_deadline(int argc, char **argv);
int miner_cmd_proving_faults(int argc, char **argv);
int miner_cmd_proving_check(int argc, char **argv);
int miner_cmd_sectors_pledge(int argc, char **argv);
int miner_cmd_sectors_list(int argc, char **argv);
int miner_cmd_storage_deals_list(int argc, char **argv);
int miner_cmd_sectors_status(int argc, char **argv);
int miner_cmd_storage_list(int argc, char **argv);
int miner_cmd_cluster(int argc, char **argv);

#endif
