/* st_merkle: streaming tree construction, level-cached reads, path checks. */
#include "proofs/st_merkle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/st_fs.h"
#include "core/st_par.h"

#define OUT_NODES 4096 /* nodes buffered per stored row before a pwrite */

static unsigned log_arity(unsigned arity) { return arity == 2 ? 1 : 3; }

static uint64_t row_nodes(const st_tree_shape *s, unsigned r) { return s->sub_leaves >> (r * log_arity(s->arity)); }

static uint64_t row_offset(const st_tree_shape *s, unsigned r) {
  uint64_t off = 0;
  for (unsigned q = s->store_from; q < r; q++) off += row_nodes(s, q) * 32;
  return off;
}

st_code st_tree_shape_binary(st_tree_shape *s, uint64_t leaves, st_err *err) {
  memset(s, 0, sizeof *s);
  if (leaves < 2 || (leaves & (leaves - 1)))
    return st_err_set(err, ST_EINVAL, "a binary tree needs a power-of-two leaf count of at least 2, not %llu",
                      (unsigned long long)leaves);
  s->arity = 2;
  s->sub_leaves = leaves;
  s->files = 1;
  s->rows = 1;
  for (uint64_t n = leaves; n > 1; n >>= 1) s->rows++;
  return ST_OK;
}

void st_tree_shape_r_last(st_tree_shape *s, const st_sector_info *info) {
  st_tree_shape_sector(s, info, 1 + st_sector_rows_to_discard(info));
}

void st_tree_shape_sector(st_tree_shape *s, const st_sector_info *info, unsigned store_from) {
  memset(s, 0, sizeof *s);
  s->arity = 8;
  s->sub_leaves = st_sector_subtree_leaves(info);
  s->rows = st_sector_subtree_rows(info);
  s->sub_arity = info->sub_arity;
  s->top_arity = info->top_arity;
  s->files = st_sector_tree_files(info);
  s->store_from = store_from;
}

uint64_t st_tree_leaves(const st_tree_shape *s) { return s->sub_leaves * s->files; }

uint64_t st_tree_file_size(const st_tree_shape *s) { return row_offset(s, s->rows); }

size_t st_tree_path_len(const st_tree_shape *s) {
  size_t n = (size_t)(s->rows - 1) * (s->arity - 1);
  if (s->sub_arity) n += s->sub_arity - 1;
  if (s->top_arity) n += s->top_arity - 1;
  return n * 32;
}

/* ---- writer ---- */

typedef struct level {
  uint8_t group[8 * 32];
  unsigned ngroup;
  uint8_t *out; /* stored rows only */
  size_t nout;
  size_t cap; /* nodes out holds */
  uint64_t file_off;
} level;

struct st_tree_writer {
  st_tree_shape s;
  const st_hasher *h;
  int fd;
  char *path;
  uint64_t pushed;
  unsigned threads;
  bool have_root;
  uint8_t root[32];
  level lv[ST_TREE_MAX_ROWS];
};

void st_tree_writer_free(st_tree_writer *w) {
  if (!w) return;
  for (unsigned r = 0; r < ST_TREE_MAX_ROWS; r++) free(w->lv[r].out);
  free(w->path);
  free(w);
}

st_code st_tree_writer_new(const st_tree_shape *s, const st_hasher *h, int fd, const char *path, st_tree_writer **out,
                           st_err *err) {
  *out = NULL;
  if (s->rows < 2 || s->rows > ST_TREE_MAX_ROWS) return st_err_set(err, ST_EINVAL, "tree with %u rows", s->rows);
  st_tree_writer *w = calloc(1, sizeof *w);
  if (!w || !(w->path = strdup(path ? path : "(memory)"))) {
    free(w);
    return st_err_set(err, ST_ENOMEM, "out of memory for a tree writer");
  }
  w->s = *s;
  w->h = h;
  w->threads = 1;
  w->fd = fd;
  for (unsigned r = s->store_from; fd >= 0 && r < s->rows; r++) {
    size_t cap = row_nodes(s, r) < OUT_NODES ? (size_t)row_nodes(s, r) : OUT_NODES;
    w->lv[r].cap = cap;
    if (!(w->lv[r].out = malloc(cap * 32))) {
      st_tree_writer_free(w);
      return st_err_set(err, ST_ENOMEM, "out of memory for a tree writer");
    }
    w->lv[r].file_off = row_offset(s, r);
  }
  *out = w;
  return ST_OK;
}

static st_code flush_row(st_tree_writer *w, unsigned r, st_err *err) {
  level *l = &w->lv[r];
  if (!l->nout) return ST_OK;
  st_code rc = st_fs_pwrite_all(w->fd, l->out, l->nout * 32, l->file_off, w->path, err);
  l->file_off += l->nout * 32;
  l->nout = 0;
  return rc;
}

static st_code store_nodes(st_tree_writer *w, unsigned r, const uint8_t *nodes, size_t n, st_err *err) {
  level *l = &w->lv[r];
  if (!l->out) return ST_OK;
  while (n) {
    size_t take = l->cap - l->nout < n ? l->cap - l->nout : n;
    memcpy(l->out + l->nout * 32, nodes, take * 32);
    l->nout += take;
    nodes += take * 32;
    n -= take;
    if (l->nout == l->cap) {
      st_code rc = flush_row(w, r, err);
      if (rc) return rc;
    }
  }
  return ST_OK;
}

static st_code push_node(st_tree_writer *w, unsigned r, const uint8_t node[32], st_err *err) {
  st_code rc = store_nodes(w, r, node, 1, err);
  if (rc) return rc;
  if (r == w->s.rows - 1) {
    memcpy(w->root, node, 32);
    w->have_root = true;
    return ST_OK;
  }
  level *l = &w->lv[r];
  memcpy(l->group + l->ngroup * 32, node, 32);
  if (++l->ngroup < w->s.arity) return ST_OK;
  l->ngroup = 0;
  uint8_t parent[32];
  w->h->hash(l->group, w->s.arity, parent);
  return push_node(w, r + 1, parent, err);
}

void st_tree_writer_threads(st_tree_writer *w, unsigned threads) { w->threads = threads; }

typedef struct group_job {
  const st_hasher *h;
  unsigned arity;
  const uint8_t *nodes;
  uint8_t *parents;
} group_job;

static void hash_groups(void *arg, size_t lo, size_t hi) {
  group_job *j = arg;
  for (size_t g = lo; g < hi; g++) j->h->hash(j->nodes + g * j->arity * 32, j->arity, j->parents + g * 32);
}

#define PAR_MIN_GROUPS 256 /* fewer groups than this are hashed on the caller's thread */

/* Pushes n nodes into row r: whole groups are hashed at once (on w->threads threads) and their
 * parents pushed into row r + 1 the same way; the rest go one by one. */
static st_code push_row(st_tree_writer *w, unsigned r, const uint8_t *nodes, size_t n, st_err *err) {
  unsigned a = w->s.arity;
  while (n) {
    if (r + 1 < w->s.rows && w->lv[r].ngroup == 0 && n >= a) {
      size_t groups = n / a;
      st_code rc = store_nodes(w, r, nodes, groups * a, err);
      if (rc) return rc;
      uint8_t *parents = malloc(groups * 32);
      if (!parents) return st_err_set(err, ST_ENOMEM, "out of memory for tree row %u of path=\"%s\"", r + 1, w->path);
      group_job j = {w->h, a, nodes, parents};
      st_par_for(groups, groups < PAR_MIN_GROUPS ? 1 : w->threads, hash_groups, &j);
      rc = push_row(w, r + 1, parents, groups, err);
      free(parents);
      if (rc) return rc;
      nodes += groups * a * 32;
      n -= groups * a;
      continue;
    }
    st_code rc = push_node(w, r, nodes, err);
    if (rc) return rc;
    nodes += 32;
    n--;
  }
  return ST_OK;
}

st_code st_tree_writer_push(st_tree_writer *w, const uint8_t *nodes, size_t n, st_err *err) {
  if (n > w->s.sub_leaves - w->pushed)
    return st_err_set(err, ST_EINVAL, "tree for path=\"%s\": more than %llu leaves pushed", w->path,
                      (unsigned long long)w->s.sub_leaves);
  w->pushed += n;
  return push_row(w, 0, nodes, n, err);
}

st_code st_tree_writer_finish(st_tree_writer *w, uint8_t root[32], st_err *err) {
  memset(root, 0, 32);
  if (w->pushed != w->s.sub_leaves || !w->have_root)
    return st_err_set(err, ST_EINVAL, "tree for path=\"%s\": %llu of %llu leaves pushed", w->path,
                      (unsigned long long)w->pushed, (unsigned long long)w->s.sub_leaves);
  for (unsigned r = w->s.store_from; w->fd >= 0 && r < w->s.rows; r++) {
    st_code rc = flush_row(w, r, err);
    if (rc) return rc;
  }
  memcpy(root, w->root, 32);
  return ST_OK;
}

void st_tree_root_of_subroots(const st_tree_shape *s, const st_hasher *h, const uint8_t *roots, uint8_t out[32]) {
  if (!s->sub_arity) {
    memcpy(out, roots, 32);
    return;
  }
  uint8_t mid[ST_TREE_MAX_FILES * 32];
  unsigned groups = s->files / s->sub_arity;
  for (unsigned g = 0; g < groups; g++) h->hash(roots + g * s->sub_arity * 32, s->sub_arity, mid + g * 32);
  if (s->top_arity) h->hash(mid, s->top_arity, out);
  else memcpy(out, mid, 32);
}

/* ---- reader ---- */

/* A reader with nothing open, as a failed open and close leave it. */
static void reader_empty(st_tree_reader *r) {
  memset(r, 0, sizeof *r);
  for (unsigned i = 0; i < ST_TREE_MAX_FILES; i++) r->fds[i] = -1;
  r->leaf_fd = -1;
  r->block_first = UINT64_MAX;
}

void st_tree_reader_close(st_tree_reader *r) {
  for (unsigned i = 0; i < r->nfiles; i++) {
    if (r->fds[i] >= 0) close(r->fds[i]);
    free(r->paths[i]);
  }
  if (r->leaf_fd >= 0) close(r->leaf_fd);
  free(r->leaf_path);
  free(r->block);
  reader_empty(r);
}

/* Opens path read-only and checks that it holds exactly want bytes. */
static st_code open_sized(const char *path, uint64_t want, const char *what, int *fd, st_err *err) {
  *fd = open(path, O_RDONLY | O_CLOEXEC);
  if (*fd < 0) return st_fs_os_error(err, "read from", path, errno);
  struct stat st;
  if (fstat(*fd, &st)) return st_fs_os_error(err, "read from", path, errno);
  if (!S_ISREG(st.st_mode)) return st_fs_os_error(err, "read from", path, EISDIR);
  if ((uint64_t)st.st_size != want)
    return st_err_set(err, ST_EIO, "could not read from path=\"%s\": %s is %llu bytes, want %llu", path, what,
                      (unsigned long long)st.st_size, (unsigned long long)want);
  return ST_OK;
}

st_code st_tree_reader_open(st_tree_reader *r, const st_tree_shape *s, const st_hasher *h, const char *const *files,
                            const char *leaf_file, st_err *err) {
  reader_empty(r);
  r->shape = *s;
  r->h = h;
  st_code rc;
  for (unsigned i = 0; i < s->files; i++) {
    r->nfiles = i + 1;
    if (!(r->paths[i] = strdup(files[i]))) {
      rc = st_err_set(err, ST_ENOMEM, "out of memory");
      goto fail;
    }
    if ((rc = open_sized(files[i], st_tree_file_size(s), "tree file", &r->fds[i], err))) goto fail;
    if ((rc = st_fs_pread_all(r->fds[i], r->subroots[i], 32, st_tree_file_size(s) - 32, files[i], err))) goto fail;
  }
  if (s->store_from > 0) {
    if (!leaf_file) {
      rc = st_err_set(err, ST_EINVAL, "a level-cached tree needs its leaf file");
      goto fail;
    }
    if (!(r->leaf_path = strdup(leaf_file))) {
      rc = st_err_set(err, ST_ENOMEM, "out of memory");
      goto fail;
    }
    if ((rc = open_sized(leaf_file, st_tree_leaves(s) * 32, "replica", &r->leaf_fd, err))) goto fail;
  }
  st_tree_root_of_subroots(s, h, r->subroots[0], r->root);
  r->bytes_read = 32ULL * s->files;
  return ST_OK;
fail:
  st_tree_reader_close(r);
  return rc;
}

st_code st_tree_reader_open_dir(st_tree_reader *r, const st_tree_shape *s, const st_hasher *h, const char *dir,
                                const char *kind, const char *leaf_file, st_err *err) {
  char paths[ST_TREE_MAX_FILES][ST_PATH_MAX];
  const char *files[ST_TREE_MAX_FILES];
  for (unsigned i = 0; i < s->files; i++) {
    char name[64];
    st_sector_tree_file_name(kind, i, s->files, name);
    st_code rc = st_sector_cache_file(dir, name, paths[i], err);
    if (rc) {
      reader_empty(r);
      return rc;
    }
    files[i] = paths[i];
  }
  return st_tree_reader_open(r, s, h, files, leaf_file, err);
}

/* Appends group's nodes except the one at pos to *sib. */
static void take_siblings(const uint8_t *group, unsigned arity, unsigned pos, uint8_t **sib) {
  for (unsigned i = 0; i < arity; i++) {
    if (i == pos) continue;
    memcpy(*sib, group + i * 32, 32);
    *sib += 32;
  }
}

static st_code reader_prove(st_tree_reader *r, uint64_t index, uint8_t leaf[32], uint8_t *siblings, st_err *err) {
  const st_tree_shape *s = &r->shape;
  if (index >= st_tree_leaves(s))
    return st_err_set(err, ST_ERANGE, "leaf %llu is outside a tree of %llu leaves", (unsigned long long)index,
                      (unsigned long long)st_tree_leaves(s));
  unsigned f = (unsigned)(index / s->sub_leaves), a = s->arity, lg = log_arity(a);
  uint64_t pos = index % s->sub_leaves;
  uint8_t *sib = siblings;
  st_code rc;
  if (s->store_from > 0) {
    uint64_t block = 1ULL << (s->store_from * lg), start = pos / block * block, first = f * s->sub_leaves + start;
    if (r->block_first != first) { /* read the block's leaves and rebuild the rows above them */
      r->block_first = UINT64_MAX;
      if (!r->block && !(r->block = malloc(block * 2 * 32)))
        return st_err_set(err, ST_ENOMEM, "out of memory reading a path");
      rc = st_fs_pread_all(r->leaf_fd, r->block, block * 32, first * 32, r->leaf_path, err);
      if (rc) return rc;
      r->bytes_read += block * 32;
      uint8_t *row = r->block; /* row k follows row k - 1; all fit in 2 x block nodes */
      for (unsigned rw = 1, n = (unsigned)block; rw < s->store_from; rw++, n /= a) {
        for (unsigned g = 0; g < n / a; g++) r->h->hash(row + g * a * 32, a, row + ((size_t)n + g) * 32);
        row += (size_t)n * 32;
      }
      r->block_first = first;
    }
    uint64_t p = pos - start;
    const uint8_t *row = r->block;
    memcpy(leaf, row + p * 32, 32);
    for (unsigned rw = 0, n = (unsigned)block; rw < s->store_from; rw++, n /= a) {
      take_siblings(row + p / a * a * 32, a, (unsigned)(p % a), &sib);
      row += (size_t)n * 32;
      p /= a;
    }
  }
  pos >>= s->store_from * lg;
  for (unsigned row = s->store_from; row + 1 < s->rows; row++, pos /= a) {
    uint8_t group[8 * 32];
    uint64_t start = pos / a * a;
    rc = st_fs_pread_all(r->fds[f], group, a * 32, row_offset(s, row) + start * 32, r->paths[f], err);
    if (rc) return rc;
    r->bytes_read += a * 32;
    if (row == 0) memcpy(leaf, group + (pos - start) * 32, 32);
    take_siblings(group, a, (unsigned)(pos - start), &sib);
  }
  if (s->sub_arity) {
    unsigned g = f / s->sub_arity;
    take_siblings(r->subroots[g * s->sub_arity], s->sub_arity, f % s->sub_arity, &sib);
    if (s->top_arity) {
      uint8_t mid[ST_TREE_MAX_FILES * 32];
      for (unsigned i = 0; i < s->top_arity; i++) r->h->hash(r->subroots[i * s->sub_arity], s->sub_arity, mid + i * 32);
      take_siblings(mid, s->top_arity, g, &sib);
    }
  }
  return ST_OK;
}

st_code st_tree_reader_prove(st_tree_reader *r, uint64_t index, uint8_t leaf[32], uint8_t *siblings, st_err *err) {
  st_code rc = reader_prove(r, index, leaf, siblings, err);
  if (rc) {
    memset(leaf, 0, 32);
    memset(siblings, 0, st_tree_path_len(&r->shape));
  }
  return rc;
}

/* Puts cur at pos among the arity-1 siblings at *sib and hashes the group into cur. */
static void climb(const st_hasher *h, unsigned arity, unsigned pos, const uint8_t **sib, uint8_t cur[32]) {
  uint8_t group[16 * 32];
  for (unsigned i = 0; i < arity; i++) {
    if (i == pos) {
      memcpy(group + i * 32, cur, 32);
    } else {
      memcpy(group + i * 32, *sib, 32);
      *sib += 32;
    }
  }
  h->hash(group, arity, cur);
}

bool st_tree_verify(const st_tree_shape *s, const st_hasher *h, uint64_t index, const uint8_t leaf[32],
                    const uint8_t *siblings, const uint8_t root[32]) {
  if (index >= st_tree_leaves(s)) return false;
  uint8_t cur[32];
  memcpy(cur, leaf, 32);
  const uint8_t *sib = siblings;
  uint64_t pos = index % s->sub_leaves;
  for (unsigned row = 0; row + 1 < s->rows; row++, pos /= s->arity)
    climb(h, s->arity, (unsigned)(pos % s->arity), &sib, cur);
  unsigned f = (unsigned)(index / s->sub_leaves);
  if (s->sub_arity) climb(h, s->sub_arity, f % s->sub_arity, &sib, cur);
  if (s->top_arity) climb(h, s->top_arity, f / s->sub_arity, &sib, cur);
  return memcmp(cur, root, 32) == 0;
}

void st_tree_put_path(st_buf *b, const st_tree_shape *s, const uint8_t leaf[32], const uint8_t *siblings) {
  st_cbor_put_array(b, 2);
  st_cbor_put_bytes(b, leaf, 32);
  st_cbor_put_bytes(b, siblings, st_tree_path_len(s));
}

st_code st_tree_read_path(st_cbor_reader *r, const st_tree_shape *s, const char *what, const uint8_t **leaf,
                          const uint8_t **siblings) {
  *leaf = *siblings = NULL;
  st_code rc = st_cbor_expect_array(r, 2, what);
  if (!rc) rc = st_cbor_expect_bytes(r, 32, what, leaf);
  if (!rc) rc = st_cbor_expect_bytes(r, st_tree_path_len(s), what, siblings);
  if (rc) *leaf = *siblings = NULL;
  return rc;
}
