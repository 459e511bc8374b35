/* st_log: leveled, per-subsystem log lines in the Lotus/zap console shape. */
#include "core/st_log.h"

#include "core/st_json.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_SUBSYS 64
#define SUBSYS_NAME_MAX 48

static struct {
  pthread_mutex_t mu;
  st_log_level fallback;
  size_t nsub;
  struct {
    char name[SUBSYS_NAME_MAX];
    st_log_level level;
  } sub[MAX_SUBSYS];
  bool to_stderr;
  int file_fd;
  void (*now)(struct timespec *);
} g = {PTHREAD_MUTEX_INITIALIZER, ST_LOG_INFO, 0, {{"", 0}}, true, -1, NULL};

static const char *const LEVEL_NAMES[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};

const char *st_log_level_name(st_log_level level) { return level <= ST_LOG_OFF ? LEVEL_NAMES[level] : "?"; }

st_code st_log_parse_level(const char *name, st_log_level *out, st_err *err) {
  static const char *const alias[] = {"debug", "info", "warn", "error", "off"};
  *out = ST_LOG_DEBUG;
  for (int i = 0; i <= ST_LOG_OFF; i++) {
    if (!strcasecmp(name, alias[i])) {
      *out = (st_log_level)i;
      return ST_OK;
    }
  }
  if (!strcasecmp(name, "warning")) {
    *out = ST_LOG_WARN;
    return ST_OK;
  }
  return st_err_set(err, ST_EINVAL, "unknown log level \"%s\" (use debug, info, warn, error or off)", name);
}

static st_log_level level_locked(const char *subsys) {
  for (size_t i = 0; i < g.nsub; i++)
    if (!strcmp(g.sub[i].name, subsys)) return g.sub[i].level;
  return g.fallback;
}

bool st_log_enabled(const char *subsys, st_log_level level) {
  pthread_mutex_lock(&g.mu);
  bool on = level != ST_LOG_OFF && level >= level_locked(subsys) && (g.to_stderr || g.file_fd >= 0);
  pthread_mutex_unlock(&g.mu);
  return on;
}

st_code st_log_set_level(const char *subsys, st_log_level level, st_err *err) {
  st_code rc = ST_OK;
  pthread_mutex_lock(&g.mu);
  if (!subsys) {
    g.fallback = level;
    goto out;
  }
  if (!*subsys || strlen(subsys) >= SUBSYS_NAME_MAX) {
    rc = st_err_set(err, ST_EINVAL, "invalid log subsystem name \"%s\"", subsys);
    goto out;
  }
  for (size_t i = 0; i < g.nsub; i++) {
    if (!strcmp(g.sub[i].name, subsys)) {
      g.sub[i].level = level;
      goto out;
    }
  }
  if (g.nsub == MAX_SUBSYS) {
    rc = st_err_set(err, ST_ERANGE, "too many log subsystems (at most %d)", MAX_SUBSYS);
    goto out;
  }
  strcpy(g.sub[g.nsub].name, subsys);
  g.sub[g.nsub++].level = level;
out:
  pthread_mutex_unlock(&g.mu);
  return rc;
}

st_code st_log_configure(const char *spec, st_err *err) {
  char *copy = strdup(spec);
  if (!copy) return st_err_set(err, ST_ENOMEM, "out of memory");
  st_code rc = ST_OK;
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
    while (*tok == ' ') tok++;
    char *eq = strchr(tok, '=');
    st_log_level lvl = ST_LOG_INFO;
    if (!eq) {
      rc = st_log_parse_level(tok, &lvl, err);
      if (!rc) rc = st_log_set_level(NULL, lvl, err);
    } else {
      *eq = '\0';
      rc = st_log_parse_level(eq + 1, &lvl, err);
      if (!rc) rc = st_log_set_level(tok, lvl, err);
    }
  }
  free(copy);
  if (rc) st_err_wrap(err, rc, "log level spec \"%s\"", spec);
  return rc;
}

st_code st_log_set_file(const char *path, st_err *err) {
  int fd = -1;
  if (path) {
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
      return st_err_set(err, ST_EIO, "could not open log file path=\"%s\": %s (os error %d)", path, strerror(errno),
                        errno);
  }
  pthread_mutex_lock(&g.mu);
  if (g.file_fd >= 0) close(g.file_fd);
  g.file_fd = fd;
  pthread_mutex_unlock(&g.mu);
  return ST_OK;
}

void st_log_set_stderr(bool on) {
  pthread_mutex_lock(&g.mu);
  g.to_stderr = on;
  pthread_mutex_unlock(&g.mu);
}

void st_log_set_clock(void (*now)(struct timespec *ts)) {
  pthread_mutex_lock(&g.mu);
  g.now = now;
  pthread_mutex_unlock(&g.mu);
}

void st_log_format_line(st_buf *out, const struct timespec *ts, st_log_level level, const char *subsys, const char *msg,
                        const json_t *fields) {
  struct tm tm;
  time_t secs = ts->tv_sec;
  localtime_r(&secs, &tm);
  char date[32], zone[8];
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  strftime(zone, sizeof zone, "%z", &tm);
  st_buf_printf(out, "%s.%03ld%s\t%s\t%s\t%s", date, ts->tv_nsec / 1000000, zone, st_log_level_name(level), subsys,
                msg);
  if (fields && json_is_object(fields) && json_object_size(fields) > 0) {
    st_buf_putc(out, '\t');
    st_json_append_spaced(out, fields);
  }
  st_buf_putc(out, '\n');
}

static void write_all(int fd, const uint8_t *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= (size_t)w;
  }
}

void st_log(const char *subsys, st_log_level level, const char *msg, json_t *fields) {
  if (!st_log_enabled(subsys, level)) {
    json_decref(fields);
    return;
  }
  struct timespec ts;
  pthread_mutex_lock(&g.mu);
  void (*now)(struct timespec *) = g.now;
  pthread_mutex_unlock(&g.mu);
  if (now) now(&ts);
  else clock_gettime(CLOCK_REALTIME, &ts);
  st_buf line = ST_BUF_INIT;
  st_log_format_line(&line, &ts, level, subsys, msg, fields);
  json_decref(fields);
  if (!line.failed) {
    pthread_mutex_lock(&g.mu);
    if (g.to_stderr) write_all(STDERR_FILENO, line.data, line.len);
    if (g.file_fd >= 0) write_all(g.file_fd, line.data, line.len);
    pthread_mutex_unlock(&g.mu);
  }
  st_buf_free(&line);
}

void st_logf(const char *subsys, st_log_level level, const char *fmt, ...) {
  if (!st_log_enabled(subsys, level)) return;
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  st_log(subsys, level, msg, NULL);
}
