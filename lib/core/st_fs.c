/* st_fs: atomic writes (temp + fsync + rename + dir fsync) and reads with path-naming errors. */
#include "core/st_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define TEMP_INFIX ".tmp."

bool st_fs_is_temp_name(const char *name) { return strstr(name, TEMP_INFIX) != NULL; }

static st_code os_err(st_err *err, const char *verb, const char *path, int e) {
  st_code code = e == ENOENT ? ST_ENOENT : e == EACCES || e == EPERM ? ST_EPERM : e == EEXIST ? ST_EEXIST : ST_EIO;
  if (e == ENOSPC || e == EDQUOT)
    return st_err_set(err, code, "could not %s path=\"%s\": the disk is full (%s, os error %d)", verb, path,
                      strerror(e), e);
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

st_code st_fs_os_error(st_err *err, const char *verb, const char *path, int errnum) {
  return os_err(err, verb, path, errnum);
}

st_code st_fs_tmpfile_open(st_fs_tmpfile *t, const char *path, mode_t mode, st_err *err) {
  static atomic_uint counter;
  memset(t, 0, sizeof *t);
  t->fd = -1;
  t->mode = mode;
  if (strlen(path) >= sizeof t->path) return st_err_set(err, ST_ERANGE, "path too long: %s", path);
  strcpy(t->path, path);
  int n =
      snprintf(t->tmp, sizeof t->tmp, "%s" TEMP_INFIX "%ld.%u", path, (long)getpid(), atomic_fetch_add(&counter, 1));
  if (n < 0 || (size_t)n >= sizeof t->tmp) return st_err_set(err, ST_ERANGE, "path too long: %s", path);
  t->fd = open(t->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (t->fd < 0) return os_err(err, "write to", t->tmp, errno);
  return ST_OK;
}

void st_fs_tmpfile_abort(st_fs_tmpfile *t) {
  if (t->fd < 0) return;
  close(t->fd);
  unlink(t->tmp);
  t->fd = -1;
}

/* Syncs the temporary file, then renames it over path (replace) or links it to path, which
 * fails if path exists (create). */
static st_code tmpfile_finish(st_fs_tmpfile *t, bool replace, st_err *err) {
  if (t->fd < 0) return st_err_set(err, ST_EINVAL, "temporary file for \"%s\" is not open", t->path);
  if (fchmod(t->fd, t->mode) || fsync(t->fd)) goto fail;
  int rc = close(t->fd);
  t->fd = -1;
  if (rc) goto fail;
  if (replace) {
    if (rename(t->tmp, t->path)) goto fail;
  } else {
    if (link(t->tmp, t->path)) goto fail;
    unlink(t->tmp);
  }
  return fsync_dir_of(t->path, err);
fail:;
  int e = errno;
  if (t->fd >= 0) close(t->fd);
  t->fd = -1;
  unlink(t->tmp);
  return os_err(err, "write to", t->path, e);
}

st_code st_fs_tmpfile_commit(st_fs_tmpfile *t, st_err *err) { return tmpfile_finish(t, true, err); }

st_code st_fs_pwrite_all(int fd, const void *data, size_t len, uint64_t off, const char *path, st_err *err) {
  const uint8_t *p = data;
  while (len) {
    ssize_t w = pwrite(fd, p, len, (off_t)off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return os_err(err, "write to", path, errno);
    p += w;
    off += (uint64_t)w;
    len -= (size_t)w;
  }
  return ST_OK;
}

st_code st_fs_pread_all(int fd, void *buf, size_t len, uint64_t off, const char *path, st_err *err) {
  uint8_t *p = buf;
  uint64_t start = off;
  size_t want = len;
  st_code rc = ST_OK;
  while (len && !rc) {
    ssize_t r = pread(fd, p, len, (off_t)off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) rc = os_err(err, "read from", path, errno);
    else if (r == 0)
      rc = st_err_set(err, ST_EIO,
                      "could not read from path=\"%s\": file ends at byte %llu, wanted %zu bytes at offset %llu", path,
                      (unsigned long long)off, want, (unsigned long long)start);
    else {
      p += r;
      off += (uint64_t)r;
      len -= (size_t)r;
    }
  }
  if (rc) memset(buf, 0, want);
  return rc;
}

static st_code write_durably(const char *path, const void *data, size_t len, mode_t mode, bool replace, st_err *err) {
  st_fs_tmpfile t;
  st_code rc = st_fs_tmpfile_open(&t, path, mode, err);
  if (rc) return rc;
  if (st_fs_pwrite_all(t.fd, data, len, 0, t.tmp, NULL)) {
    int e = errno;
    st_fs_tmpfile_abort(&t);
    return os_err(err, "write to", path, e);
  }
  return tmpfile_finish(&t, replace, err);
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
      return st_err_set(err, ST_ERANGE, "could not read from path=\"%s\": larger than the limit of %zu bytes", shown,
                        max);
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

st_code st_fs_read_line(const char *path, char *out, size_t cap, st_err *err) {
  st_buf b = ST_BUF_INIT;
  memset(out, 0, cap);
  st_code code = st_fs_read_file(path, 4096, &b, err);
  if (code == ST_ENOENT) {
    st_buf_free(&b);
    return ST_OK;
  }
  if (!code) {
    size_t n = strcspn(st_buf_cstr(&b), "\r\n");
    if (n >= cap) code = st_err_set(err, ST_EINVAL, "%s: first line is longer than %zu characters", path, cap - 1);
    else snprintf(out, cap, "%.*s", (int)n, st_buf_cstr(&b));
  }
  st_buf_free(&b);
  return code;
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

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  return (flag == FTW_DP ? rmdir(path) : unlink(path)) && errno != ENOENT ? -1 : 0;
}

st_code st_fs_remove_tree(const char *path, st_err *err) {
  struct stat st;
  if (lstat(path, &st)) return errno == ENOENT ? ST_OK : os_err(err, "remove", path, errno);
  if (!S_ISDIR(st.st_mode)) return unlink(path) && errno != ENOENT ? os_err(err, "remove", path, errno) : ST_OK;
  if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS)) return os_err(err, "remove", path, errno);
  return ST_OK;
}

bool st_fs_full(const char *path, int errnum) {
  if (errnum == ENOSPC || errnum == EDQUOT) return true;
  struct statvfs vfs;
  if (errnum != EIO || statvfs(path, &vfs)) return false;
  /* root may write into the reserved blocks that an ordinary user may not */
  uint64_t left = (uint64_t)(geteuid() == 0 ? vfs.f_bfree : vfs.f_bavail) * vfs.f_frsize;
  return left < ((uint64_t)1 << 20);
}

st_code st_fs_space(const char *path, int64_t *capacity, int64_t *available, st_err *err) {
  struct statvfs vfs;
  *capacity = *available = 0;
  if (statvfs(path, &vfs)) return os_err(err, "measure", path, errno);
  *capacity = (int64_t)((uint64_t)vfs.f_blocks * vfs.f_frsize);
  *available = (int64_t)((uint64_t)vfs.f_bavail * vfs.f_frsize);
  return ST_OK;
}
