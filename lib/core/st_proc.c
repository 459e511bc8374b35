/* st_proc: fork and exec with a log, stops with a grace period, and /proc command lines. */
#include "core/st_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/st_buf.h"
#include "core/st_fs.h"

st_code st_proc_spawn(char *const argv[], const char *log, pid_t *pid, st_err *err) {
  int logfd = -1, pipefd[2];
  *pid = 0;
  if (log && (logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0)
    return st_err_set(err, ST_EIO, "could not open the log %s: %s", log, strerror(errno));
  if (pipe2(pipefd, O_CLOEXEC)) {
    if (logfd >= 0) close(logfd);
    return st_err_set(err, ST_EIO, "pipe: %s", strerror(errno));
  }
  pid_t parent = getpid();
  pid_t p = fork();
  if (p == 0) {
    /* its own process group (a terminal's Ctrl-C reaches only the parent, which stops the
     * children in order), and SIGTERM if the parent dies */
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    if (logfd >= 0) dup2(logfd, 1), dup2(logfd, 2);
    execv(argv[0], argv);
    int e = errno;
    if (write(pipefd[1], &e, sizeof e) < 0) _exit(127);
    _exit(127);
  }
  close(pipefd[1]);
  if (logfd >= 0) close(logfd);
  if (p < 0) {
    close(pipefd[0]);
    return st_err_set(err, ST_EIO, "fork: %s", strerror(errno));
  }
  int e = 0;
  ssize_t got;
  while ((got = read(pipefd[0], &e, sizeof e)) < 0 && errno == EINTR) {}
  close(pipefd[0]);
  if (got == (ssize_t)sizeof e) {
    waitpid(p, NULL, 0);
    return st_err_set(err, ST_ENOENT, "could not run %s: %s", argv[0], strerror(e));
  }
  *pid = p;
  return ST_OK;
}

bool st_proc_exited(pid_t pid, int *status) {
  int s = 0;
  pid_t r = waitpid(pid, &s, WNOHANG);
  if (status) *status = r == pid ? s : 0;
  return r == pid || (r < 0 && errno == ECHILD);
}

st_code st_proc_wait(pid_t pid, int ms, int *status, st_err *err) {
  for (int waited = 0; ms < 0 || waited <= ms; waited += 20) {
    if (st_proc_exited(pid, status)) return ST_OK;
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
  }
  return st_err_set(err, ST_EUNAVAIL, "process %d did not exit within %d ms", (int)pid, ms);
}

void st_proc_stop(pid_t pid, int grace_ms, int *status) {
  if (st_proc_exited(pid, status)) return;
  kill(pid, SIGTERM);
  if (!st_proc_wait(pid, grace_ms, status, NULL)) return;
  kill(pid, SIGKILL);
  st_proc_wait(pid, -1, status, NULL);
}

void st_proc_describe(int status, char *out, size_t n) {
  if (WIFEXITED(status)) snprintf(out, n, "exited with status %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    snprintf(out, n, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
  else snprintf(out, n, "stopped (status 0x%x)", (unsigned)status);
}

st_code st_proc_cmdline(pid_t pid, st_proc_cmd *out, st_err *err) {
  memset(out, 0, sizeof *out);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  st_buf b = ST_BUF_INIT;
  st_code code = st_fs_read_file(path, 1 << 20, &b, err);
  if (!code && !b.len)
    code = st_err_set(err, ST_ENOENT, "process %d has no command line (a kernel thread, or it exited)", (int)pid);
  size_t len = code ? 0 : b.len + (b.data[b.len - 1] != 0),
         argc = 0; /* the buffer's own NUL ends an unended last word */
  for (size_t i = 0; i < len; i++) argc += !b.data[i];
  char **argv = code ? NULL : calloc(argc + 1, sizeof *argv);
  if (!code && !argv) code = st_err_set(err, ST_ENOMEM, "out of memory");
  if (code) {
    st_buf_free(&b);
    return code;
  }
  char *s = (char *)b.data;
  for (size_t i = 0; i < argc; i++, s += strlen(s) + 1) argv[i] = s;
  out->pid = pid;
  out->argc = argc;
  out->argv = argv; /* argv[argc] (NULL) is unused; argv[0] owns the text */
  return ST_OK;
}

void st_proc_cmd_free(st_proc_cmd *c) {
  if (c->argv) free(c->argv[0]);
  free(c->argv);
  memset(c, 0, sizeof *c);
}

static bool is_prog(const char *argv0, const char *name) {
  const char *slash = strrchr(argv0, '/');
  return !strcmp(slash ? slash + 1 : argv0, name);
}

st_code st_proc_find(const char *name, const char *verb, st_proc_cmd **out, size_t *n, st_err *err) {
  *out = NULL;
  *n = 0;
  DIR *d = opendir("/proc");
  if (!d) return st_err_set(err, ST_EIO, "could not list /proc: %s", strerror(errno));
  st_code code = ST_OK;
  size_t cap = 0;
  struct dirent *e;
  while (!code && (e = readdir(d))) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end || pid <= 0) continue;
    st_proc_cmd c;
    if (st_proc_cmdline((pid_t)pid, &c, NULL)) continue; /* gone, or not ours to read */
    if (!is_prog(c.argv[0], name) || (verb && (c.argc < 2 || strcmp(c.argv[1], verb)))) {
      st_proc_cmd_free(&c);
      continue;
    }
    if (*n == cap) {
      st_proc_cmd *v = realloc(*out, (cap = cap ? 2 * cap : 4) * sizeof *v);
      if (!v) {
        st_proc_cmd_free(&c);
        code = st_err_set(err, ST_ENOMEM, "out of memory");
        break;
      }
      *out = v;
    }
    (*out)[(*n)++] = c;
  }
  closedir(d);
  if (code) {
    st_proc_cmds_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return code;
}

void st_proc_cmds_free(st_proc_cmd *v, size_t n) {
  for (size_t i = 0; i < n; i++) st_proc_cmd_free(&v[i]);
  free(v);
}

const char *st_proc_flag(const st_proc_cmd *c, const char *flag) {
  size_t fl = strlen(flag);
  for (size_t i = 1; i < c->argc; i++) {
    const char *a = c->argv[i];
    if (strncmp(a, "--", 2) || strncmp(a + 2, flag, fl)) continue;
    if (a[2 + fl] == '=') return a + 3 + fl;
    if (!a[2 + fl] && i + 1 < c->argc) return c->argv[i + 1];
  }
  return NULL;
}

void st_proc_cmd_text(const st_proc_cmd *c, char *out, size_t n) {
  size_t at = 0;
  if (n) out[0] = 0;
  for (size_t i = 0; i < c->argc && at < n; i++) {
    const char *a = c->argv[i];
    bool plain = *a && !strpbrk(a, " \t\n'\"\\$`*?&;|<>()!#~{}[]");
    if (plain) at += (size_t)snprintf(out + at, n - at, "%s%s", i ? " " : "", a);
    else {
      at += (size_t)snprintf(out + at, n - at, "%s'", i ? " " : "");
      for (const char *p = a; *p && at < n; p++)
        at += (size_t)snprintf(out + at, n - at, *p == '\'' ? "'\\''" : "%c", *p);
      if (at < n) at += (size_t)snprintf(out + at, n - at, "'");
    }
  }
}
