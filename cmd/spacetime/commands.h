/* The verbs of the `spacetime` program; each takes the arguments after its own name and
 * returns the exit status. */
#ifndef ST_CMD_COMMANDS_H
#define ST_CMD_COMMANDS_H

int st_cmd_util(int argc, char **argv);
/* util_seal.c */
int st_cmd_util_poseidon(int argc, char **argv);
int st_cmd_util_seal(int argc, char **argv);
int st_cmd_genesis(int argc, char **argv);
int st_cmd_daemon(int argc, char **argv);
int st_cmd_chain(int argc, char **argv);
int st_cmd_wallet(int argc, char **argv);
int st_cmd_send(int argc, char **argv);
int st_cmd_mpool(int argc, char **argv);
int st_cmd_state(int argc, char **argv);
int st_cmd_auth(int argc, char **argv);
int st_cmd_devnet(int argc, char **argv);
int st_cmd_client(int argc, char **argv);
int st_cmd_filplus(int argc, char **argv);
/* spacetime util post verify-vanilla (util_post.c). */
int st_cmd_util_post_verify_vanilla(int argc, char **argv);
/* spacetime util sdr-parents (util_sdr.c). */
int st_cmd_util_sdr_parents(int argc, char **argv);

/* Shared by the verbs that talk to the node (client.c, market.c). */

#include "codec/st_address.h"
#include "core/st_cli.h"
#include "rpc/st_rpc_client.h"
#define REPO_FLAG \
  ST_FLAG("repo", ST_FLAG_VALUE, "DIR", "the node's repo (default ~/.spacetime; $FULLNODE_API_INFO wins)")
#define JSON_FLAG ST_FLAG("json", ST_FLAG_BOOL, NULL, "print JSON")
#define FROM_FLAG ST_FLAG("from", ST_FLAG_VALUE, "ADDR", "the sender (default: the wallet's default address)")
#define CLIENT_REPO_MAX 4096
/* The node's repo: --repo, else ~/.spacetime. */
void client_repo(const st_cli *cli, char out[CLIENT_REPO_MAX]);
/* Opens the node named by --repo or $FULLNODE_API_INFO; prints the error and returns 1. */
int client_connect(st_cli *cli, st_rpc_client **out);
/* st_cli_start, then client_connect: -1 to go on, else the exit status. */
int client_start(st_cli *cli, int argc, char **argv, int maxpos, const char *cmd, const char *args, const char *summary,
                 st_rpc_client **c);
/* Prints a failed call to the node (with a hint when the node is down or the token too weak)
 * and returns 1. */
int client_fail(const st_err *err);
/* An address the user gave (a positional, --address): prints the error and returns 1 when it is
 * not one. */
int client_parse_addr(const char *text, st_address *a);
/* The address to act from: --from, else the wallet's default (text: as given, or the default's);
 * prints the error and returns 1. */
int client_sender(const st_cli *cli, st_rpc_client *c, st_address *from, char text[ST_ADDR_STR_MAX]);

#endif
