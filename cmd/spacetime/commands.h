/* The verbs of the `spacetime` program; each takes the arguments after its own name and
 * returns the exit status. */
#ifndef ST_CMD_COMMANDS_H
#define ST_CMD_COMMANDS_H

int st_cmd_util(int argc, char **argv);
int st_cmd_genesis(int argc, char **argv);
int st_cmd_daemon(int argc, char **argv);
int st_cmd_chain(int argc, char **argv);
int st_cmd_wallet(int argc, char **argv);
int st_cmd_send(int argc, char **argv);
int st_cmd_mpool(int argc, char **argv);
int st_cmd_state(int argc, char **argv);
int st_cmd_auth(int argc, char **argv);
int st_cmd_devnet(int argc, char **argv);

#endif
