/* st_fs: atomic writes (temp + fsync + rename + dir fsync) and reads with path-naming errors. */
#include "core/st_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEMP_INFIX ".tmp."

bool st_fs_is_temp_name(const char *name) { return strstr(name, TEMP_INFIX) != NULL; }

static st_code os_err(st_err *err, const char *verb, const char *path, int e) {
  st_code code = e == ENOENT ? ST_ENOENT : e == EACCES || e == EPERM ? ST_EPERM : e == EEXIST ? ST_EEXIST : ST_EIO;
  return st_err_set(err, code, "could not %s path=\"%s\": %s (os error %d)", verb, path, strerror(e), e);
}

static st_code fsync_dir_of(const char *path, st_err *err) {
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  if (!slash) {
    strcpy(dir, ".");
  } else if (slash == path) {
    strcpy(dir, "/");
  } else {
    size_t n = (size_t)(slash - path);
    if (n >= sizeof dir) return st_err_set(err, ST_ERANGE, "path too long: %s", path);
    memcpy(dir, path, n);
    dir[n] = 0;
  }
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return os_err(err, "open directory", dir, errno);
  int rc = fsync(fd);
  int e = errno;
  close(fd);
  return rc ? os_err(err, "fsync directory", dir, e) : ST_OK;
}

/* Writes a synced temporary file, then renames it over path (replace) or links it to path,
 * which fails if path exists (create). */
static st_code write_durably(const char *path, const void *data, size_t len, mode_t mode, bool replace, st_err *err) {
  static atomic_uint counter;
  char tmp[PATH_MAX];
  int n = snprintf(tmp, sizeof tmp, "%s" TEMP_INFIX "%ld.%u", path, (long)getpid(), atomic_fetch_add(&counter, 1));
  if (n < 0 || (size_t)n >= sizeof tmp) return st_err_set(err, ST_ERANGE, "path too long: %s", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return os_err(err, "write to", tmp, errno);
  const uint8_t *p = data;
  size_t left = len;
  while (left) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) goto fail;
    p += w;
    left -= (size_t)w;
  }
  if (fchmod(fd, mode) || fsync(fd)) goto fail;
  if (close(fd)) {
    fd = -1;
    goto fail;
  }
  fd = -1;
  if (replace) {
    if (rename(tmp, path)) goto fail;
  } else {
    if (link(tmp, path)) goto fail;
    unlink(tmp);
  }
  return fsync_dir_of(path, err);
fail:;
  int e = errno;
  if (fd >= 0) close(fd);
  unlink(tmp);
  return os_err(err, "write to", path, e);
}

st_code st_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, st_err *err) {
  return write_durably(path, data, len, mode, true, err);
}

st_code st_fs_create_atomic(const char *path, const void *data, size_t len, mode_t mode, st_err *err) {
  return write_durably(path, data, len, mode, false, err);
}

st_code st_fs_read_stream(FILE *f, const char *name, size_t max, st_buf *out, st_err *err) {
  const char *shown = strcmp(name, "-") ? name : "standard input";
  size_t start = out->len;
  for (;;) {
    if (!st_buf_reserve(out, 65536)) return st_buf_status(out, err);
    size_t got = fread(out->data + out->len, 1, 65536, f);
    out->len += got;
    out->data[out->len] = 0;
    if (out->len - start > max)
      return st_err_set(err, ST_ERANGE, "could not read from path=\"%s\": larger than the limit of %zu bytes", shown, max);
    if (got < 65536) {
      if (ferror(f)) return os_err(err, "read from", shown, errno ? errno : EIO);
      return ST_OK;
    }
  }
}

st_code st_fs_read_file(const char *path, size_t max, st_buf *out, st_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return os_err(err, "read from", path, errno);
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    fclose(f);
    return os_err(err, "read from", path, EISDIR);
  }
  st_code rc = st_fs_read_stream(f, path, max, out, err);
  fclose(f);
  return rc;
}

st_code st_fs_mkdir_p(const char *path, mode_t mode, st_err *err) {
  char buf[PATH_MAX];
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof buf) return st_err_set(err, ST_EINVAL, "invalid directory path \"%s\"", path);
  memcpy(buf, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char c = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, mode) && errno != EEXIST) return os_err(err, "create directory", buf, errno);
    buf[i] = c;
  }
  struct stat st;
  if (stat(path, &st)) return os_err(err, "create directory", path, errno);
  if (!S_ISDIR(st.st_mode)) return os_err(err, "create directory", path, ENOTDIR);
  return ST_OK;
}
