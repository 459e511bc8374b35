/* st_fs: file operations that never leave a half-written file and whose errors name the path.
 *
 * st_fs_write_atomic writes to a temporary name in the same directory, fsyncs, renames over
 * the target and fsyncs the directory, so after a crash the target holds either the old or the
 * new content. A crash may leave a "<path>.tmp.<pid>.<n>" file beside it, which is never taken
 * for the target. Read errors read like the proofs library's:
 *   could not read from path="/mnt/x/p_aux": No such file or directory (os error 2)
 *
 * Every out is initialised on return, success or not (st_err.h); the readers into an st_buf
 * append, and on failure the buffer may hold part of the file. */
#ifndef ST_FS_H
#define ST_FS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "core/st_buf.h"
#include "core/st_err.h"

st_code st_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, st_err *err);
/* Like st_fs_write_atomic, but fails with ST_EEXIST instead of replacing an existing file. */
st_code st_fs_create_atomic(const char *path, const void *data, size_t len, mode_t mode, st_err *err);
/* Appends the whole file to out; fails with ST_ERANGE if it is larger than max bytes. */
st_code st_fs_read_file(const char *path, size_t max, st_buf *out, st_err *err);
/* Same for an open stream; name is used in messages ("-" reads as "standard input"). */
st_code st_fs_read_stream(FILE *f, const char *name, size_t max, st_buf *out, st_err *err);
/* True if name (a file name, not a path) is one of st_fs's temporaries: "<name>.tmp.<pid>.<n>".
 * Directory listings skip these; after a crash they may be removed. */
bool st_fs_is_temp_name(const char *name);
/* A file written in place under a temporary name, then published whole: open, write through
 * fd (pwrite, mmap), then commit (fsync, rename over path, fsync the directory) or abort
 * (close and unlink). Until commit, path is untouched. A failed open leaves fd -1, so abort is
 * a no-op (the names are the ones it tried, or all NULs); commit closes the file, success or not. */
typedef struct st_fs_tmpfile {
  int fd;
  mode_t mode;
  char path[PATH_MAX];
  char tmp[PATH_MAX];
} st_fs_tmpfile;
st_code st_fs_tmpfile_open(st_fs_tmpfile *t, const char *path, mode_t mode, st_err *err);
st_code st_fs_tmpfile_commit(st_fs_tmpfile *t, st_err *err);
void st_fs_tmpfile_abort(st_fs_tmpfile *t);
/* pread/pwrite of exactly len bytes. A short read is an error naming the path, the offset and
 * where the file ends; I/O errors read "could not read from path=...: <strerror> (os error N)".
 * A failed read leaves buf zeroed. */
st_code st_fs_pread_all(int fd, void *buf, size_t len, uint64_t off, const char *path, st_err *err);
st_code st_fs_pwrite_all(int fd, const void *data, size_t len, uint64_t off, const char *path, st_err *err);
/* The library's OS error line: could not <verb> path="<path>": <strerror> (os error N). */
st_code st_fs_os_error(st_err *err, const char *verb, const char *path, int errnum);
/* The size of the filesystem holding path and the bytes available to an unprivileged writer
 * (statvfs); errors read "could not measure path=...". Both are 0 on failure. */
st_code st_fs_space(const char *path, int64_t *capacity, int64_t *available, st_err *err);
/* Whether a write under path that failed with os error errnum means its filesystem is full:
 * ENOSPC or EDQUOT, or EIO (how LMDB's commit and fsync may report it) with under 1 MiB left.
 * Errors of the other st_fs functions already say "the disk is full" for ENOSPC and EDQUOT. */
bool st_fs_full(const char *path, int errnum);
/* The first line of a small file (an api or token file) into out, without its line end; "" and
 * ST_OK when the file does not exist; ST_EINVAL when the line does not fit in cap. */
st_code st_fs_read_line(const char *path, char *out, size_t cap, st_err *err);
/* mkdir -p: creates missing parents with mode; an existing directory is fine. */
st_code st_fs_mkdir_p(const char *path, mode_t mode, st_err *err);
/* rm -rf: removes path and, for a directory, everything under it (links are removed, never
 * followed); a path that does not exist is fine. */
st_code st_fs_remove_tree(const char *path, st_err *err);

#endif
