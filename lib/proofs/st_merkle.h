/* st_merkle: the Merkle trees of a sector (tree_d, tree_c, tree_r_last), built streaming and
 * written to disk, and the inclusion paths proofs carry.
 *
 * A tree is one or more sub-trees of the base arity (2 or 8), each in its own file, joined by
 * an optional sub level and an optional top level (Filecoin's shapes: 32 GiB is 8 sub-trees
 * under one 8-ary node, 64 GiB 16 under 8-ary then 2-ary). A file holds the rows of its
 * sub-tree from row store_from (0 = the leaves) up to its root, each row in node order,
 * 32 bytes a node, lowest row first. With store_from > 0 the tree is level-cached (Filecoin's
 * LC tree): the leaves are read from another file (the sealed replica), and the rows below
 * store_from are recomputed from them when a path is needed.
 *
 * A path is the leaf plus, for each level bottom up, the arity-1 siblings in order (the
 * position is implied by the leaf index), so its size depends only on the shape.
 *
 * Every out is initialised on return, success or not (st_err.h): on failure a shape, root, leaf
 * or path is all zero, a pointer NULL, and a reader that could not open is empty (nothing to
 * close, but st_tree_reader_close is safe on it). */
#ifndef ST_MERKLE_H
#define ST_MERKLE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "codec/st_cbor.h"
#include "core/st_buf.h"
#include "core/st_err.h"
#include "proofs/st_hasher.h"
#include "proofs/st_sector.h"

#define ST_TREE_MAX_FILES 16
#define ST_TREE_MAX_ROWS 40
#define ST_TREE_MAX_PATH ((ST_TREE_MAX_ROWS * 7 + 15 + 1) * 32) /* sibling bytes, any shape */

typedef struct st_tree_shape {
  unsigned arity;      /* base arity, 2 or 8 */
  unsigned rows;       /* rows of one sub-tree, leaf row included */
  uint64_t sub_leaves; /* leaves per sub-tree (file) */
  unsigned sub_arity;  /* 0 = absent */
  unsigned top_arity;  /* 0 = absent */
  unsigned files;
  unsigned store_from; /* lowest row the files hold */
} st_tree_shape;

/* A binary tree over leaves (a power of two), all rows stored: tree_d. */
st_code st_tree_shape_binary(st_tree_shape *s, uint64_t leaves, st_err *err);
/* The sector's oct-tree shape. tree_c stores every row (store_from 0); tree_r_last stores
 * from 1 + rows_to_discard. */
void st_tree_shape_sector(st_tree_shape *s, const st_sector_info *info, unsigned store_from);
/* tree_r_last's shape: st_tree_shape_sector from row 1 + rows_to_discard. */
void st_tree_shape_r_last(st_tree_shape *s, const st_sector_info *info);
uint64_t st_tree_leaves(const st_tree_shape *s);
uint64_t st_tree_file_size(const st_tree_shape *s);
/* Bytes of siblings in one path. */
size_t st_tree_path_len(const st_tree_shape *s);

/* Builds one sub-tree from its leaves, in order, writing the stored rows to fd at their
 * offsets (fd < 0 writes nothing). path names fd in errors. */
typedef struct st_tree_writer st_tree_writer;
st_code st_tree_writer_new(const st_tree_shape *s, const st_hasher *h, int fd, const char *path, st_tree_writer **out,
                           st_err *err);
/* Threads that hash a push's whole groups (1 by default; 0 = one per CPU). Pushing many leaves
 * at once is what lets them share the work. */
void st_tree_writer_threads(st_tree_writer *w, unsigned threads);
st_code st_tree_writer_push(st_tree_writer *w, const uint8_t *nodes, size_t n, st_err *err);
/* Fails unless exactly sub_leaves leaves were pushed; flushes and gives the sub-tree root. */
st_code st_tree_writer_finish(st_tree_writer *w, uint8_t root[32], st_err *err);
void st_tree_writer_free(st_tree_writer *w);

/* The tree's root from its sub-tree roots (files * 32 bytes, in file order). */
void st_tree_root_of_subroots(const st_tree_shape *s, const st_hasher *h, const uint8_t *roots, uint8_t out[32]);

/* Reads paths out of a tree on disk. Opening checks every file's size, so a short or missing
 * file fails here, naming it. */
typedef struct st_tree_reader {
  st_tree_shape shape;
  const st_hasher *h;
  unsigned nfiles;
  int fds[ST_TREE_MAX_FILES];
  char *paths[ST_TREE_MAX_FILES];
  int leaf_fd; /* the replica, for store_from > 0 */
  char *leaf_path;
  uint8_t *block;       /* for store_from > 0: the last block of leaves read, and the rows */
  uint64_t block_first; /* rebuilt above it, kept for the next path in it; its first leaf */
  uint8_t subroots[ST_TREE_MAX_FILES][32];
  uint8_t root[32];
  uint64_t bytes_read;
} st_tree_reader;
st_code st_tree_reader_open(st_tree_reader *r, const st_tree_shape *s, const st_hasher *h, const char *const *files,
                            const char *leaf_file, st_err *err);
/* The same for the files of kind ("tree-r-last", "tree-c", "tree-d") in a sector cache dir. */
st_code st_tree_reader_open_dir(st_tree_reader *r, const st_tree_shape *s, const st_hasher *h, const char *dir,
                                const char *kind, const char *leaf_file, st_err *err);
/* leaf gets the leaf, siblings st_tree_path_len(shape) bytes. */
st_code st_tree_reader_prove(st_tree_reader *r, uint64_t index, uint8_t leaf[32], uint8_t *siblings, st_err *err);
void st_tree_reader_close(st_tree_reader *r);

/* Recomputes the root from a path; true if it equals root. */
bool st_tree_verify(const st_tree_shape *s, const st_hasher *h, uint64_t index, const uint8_t leaf[32],
                    const uint8_t *siblings, const uint8_t root[32]);

/* A path in a proof: [leaf (32 bytes), siblings (st_tree_path_len bytes)]. */
void st_tree_put_path(st_buf *b, const st_tree_shape *s, const uint8_t leaf[32], const uint8_t *siblings);
st_code st_tree_read_path(st_cbor_reader *r, const st_tree_shape *s, const char *what, const uint8_t **leaf,
                          const uint8_t **siblings);

#endif
