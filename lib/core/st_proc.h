/* st_proc: the processes a devnet starts and stops, and the processes of this host as `ps` shows
 * them. `spacetime devnet` runs the cluster as children (each in its own process group, its
 * output appended to a log, sent SIGTERM if devnet dies); `spacetime-miner doctor` reads how the
 * cluster's programs were started, as the seed's operator did with `ps -ef | grep lotus`.
 * Linux only: /proc and PR_SET_PDEATHSIG.
 *
 * Every out is initialised on return, success or not (st_err.h): a pid that was not started is
 * 0, a status that was not collected is 0. */
#ifndef ST_PROC_H
#define ST_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/st_err.h"

/* Starts argv[0] (a path) with argv, stdin from /dev/null and stdout and stderr appended to log
 * (NULL: inherited). A program that cannot be run is an error here, with errno's reason. */
st_code st_proc_spawn(char *const argv[], const char *log, pid_t *pid, st_err *err);
/* Whether the child has exited; *status (may be NULL) gets waitpid's status then, else 0 (also
 * when the child was reaped before). */
bool st_proc_exited(pid_t pid, int *status);
/* Waits for the child to exit, for at most ms (negative: for ever); ST_EUNAVAIL after that. */
st_code st_proc_wait(pid_t pid, int ms, int *status, st_err *err);
/* SIGTERM, then SIGKILL if the child has not exited after grace_ms; reaps it. */
void st_proc_stop(pid_t pid, int grace_ms, int *status);
/* "exited with status 2", "killed by signal 9 (Killed)" */
void st_proc_describe(int status, char *out, size_t n);

/* A process's command line, from /proc/PID/cmdline: argv[0..argc) point into one buffer. */
typedef struct st_proc_cmd {
  pid_t pid;
  size_t argc;
  char **argv;
} st_proc_cmd;
st_code st_proc_cmdline(pid_t pid, st_proc_cmd *out, st_err *err);
void st_proc_cmd_free(st_proc_cmd *c);
/* Every process of this host whose argv[0] ends in "/name" or is name, with argv[1] equal to
 * verb when verb is not NULL ("spacetime-server", "run"). free with st_proc_cmds_free. */
st_code st_proc_find(const char *name, const char *verb, st_proc_cmd **out, size_t *n, st_err *err);
void st_proc_cmds_free(st_proc_cmd *v, size_t n);
/* The value of --flag V or --flag=V in argv, or NULL. */
const char *st_proc_flag(const st_proc_cmd *c, const char *flag);
/* The command line as a shell would take it back: words with spaces or quotes are quoted. */
void st_proc_cmd_text(const st_proc_cmd *c, char *out, size_t n);

#endif
