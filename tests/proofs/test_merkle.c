/* Tests for st_merkle and st_sector: a level-cached tree with the 64 GiB shape's sub and top
 * levels (scaled down) gives every leaf a path that verifies against a naive root, tampered
 * paths fail, and the sector table holds Filecoin's parameters. */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/st_fs.h"
#include "proofs/st_merkle.h"
#include "proofs/st_sector.h"

/* The root of n nodes by repeated arity-a hashing, all in memory. */
static void naive_root(const st_hasher *h, uint8_t *nodes, uint64_t n, unsigned a, uint8_t out[32]) {
  for (; n > 1; n /= a)
    for (uint64_t g = 0; g < n / a; g++) h->hash(nodes + g * a * 32, a, nodes + g * 32);
  memcpy(out, nodes, 32);
}

/* Writes the files of a tree of shape s over leaves (data) into dir; files[f] gets the path of
 * file f (in paths) and roots its root. The leaves go in in uneven pieces. */
static void write_tree_files(const st_tree_shape *s, const st_hasher *h, const uint8_t *data, const char *dir,
                             char paths[][300], const char **files, uint8_t *roots) {
  st_err err;
  for (unsigned f = 0; f < s->files; f++) {
    snprintf(paths[f], 300, "%s/tree-%u", dir, f);
    files[f] = paths[f];
    int fd = open(paths[f], O_RDWR | O_CREAT | O_TRUNC, 0644);
    st_tree_writer *w;
    assert_int_equal(st_tree_writer_new(s, h, fd, paths[f], &w, &err), ST_OK);
    for (uint64_t i = 0; i < s->sub_leaves;) {
      uint64_t n = i % 3 == 0 ? 1 : 13;
      if (n > s->sub_leaves - i) n = s->sub_leaves - i;
      assert_int_equal(st_tree_writer_push(w, data + (f * s->sub_leaves + i) * 32, n, &err), ST_OK);
      i += n;
    }
    assert_int_equal(st_tree_writer_finish(w, roots + f * 32, &err), ST_OK);
    st_tree_writer_free(w);
    close(fd);
  }
}

/* The root of the tree of shape s over data, naively: each sub-tree, the sub level, the top. */
static void naive_tree_root(const st_tree_shape *s, const st_hasher *h, const uint8_t *data, uint8_t want[32]) {
  uint64_t leaves = st_tree_leaves(s);
  uint8_t *copy = malloc(leaves * 32), sub[ST_TREE_MAX_FILES * 32];
  memcpy(copy, data, leaves * 32);
  for (unsigned f = 0; f < s->files; f++) naive_root(h, copy + f * s->sub_leaves * 32, s->sub_leaves, 8, sub + f * 32);
  if (s->sub_arity) {
    unsigned groups = s->files / s->sub_arity;
    for (unsigned g = 0; g < groups; g++) h->hash(sub + g * s->sub_arity * 32, s->sub_arity, sub + g * 32);
    if (s->top_arity) h->hash(sub, s->top_arity, sub);
  }
  memcpy(want, sub, 32);
  free(copy);
}

/* Every leaf's path (every few leaves) verifies against want; tampered ones do not; a leaf past
 * the end is refused with its outs zero (st_err.h). */
static void check_paths(st_tree_reader *rd, const st_hasher *h, const uint8_t *data, const uint8_t want[32]) {
  const st_tree_shape *s = &rd->shape;
  uint64_t leaves = st_tree_leaves(s);
  size_t len = st_tree_path_len(s);
  uint8_t leaf[32], sib[ST_TREE_MAX_PATH];
  st_err err;
  for (uint64_t i = 0; i < leaves; i += (i % 5) + 1) {
    assert_int_equal(st_tree_reader_prove(rd, i, leaf, sib, &err), ST_OK);
    assert_memory_equal(leaf, data + i * 32, 32);
    assert_true(st_tree_verify(s, h, i, leaf, sib, want));
    assert_false(st_tree_verify(s, h, (i + 1) % leaves, leaf, sib, want));
    sib[len - 1] ^= 1; /* the topmost sibling */
    assert_false(st_tree_verify(s, h, i, leaf, sib, want));
    sib[len - 1] ^= 1;
    sib[0] ^= 1;
    assert_false(st_tree_verify(s, h, i, leaf, sib, want));
  }
  assert_int_equal(st_tree_reader_prove(rd, leaves, leaf, sib, &err), ST_ERANGE);
  tu_assert_zeroed(leaf, sizeof leaf);
  tu_assert_zeroed(sib, len);
}

static void check_shape(unsigned sub_rows, unsigned sub_arity, unsigned top_arity, unsigned store_from) {
  const st_hasher *h = st_hasher_sealing();
  st_tree_shape s = {.arity = 8,
                     .rows = sub_rows,
                     .sub_leaves = 1ULL << (3 * (sub_rows - 1)),
                     .sub_arity = sub_arity,
                     .top_arity = top_arity,
                     .store_from = store_from};
  s.files = (sub_arity ? sub_arity : 1) * (top_arity ? top_arity : 1);
  uint64_t leaves = st_tree_leaves(&s);
  char dir[256], leaf_path[300], paths[ST_TREE_MAX_FILES][300];
  const char *files[ST_TREE_MAX_FILES];
  tu_tmpdir(dir);
  uint8_t *data = malloc(leaves * 32);
  for (uint64_t i = 0; i < leaves * 32; i++) data[i] = (uint8_t)(i * 7 + (i >> 8));
  for (uint64_t i = 0; i < leaves; i++) data[i * 32 + 31] &= 0x3f;
  st_err err;
  snprintf(leaf_path, sizeof leaf_path, "%s/leaves", dir);
  assert_int_equal(st_fs_write_atomic(leaf_path, data, leaves * 32, 0644, &err), ST_OK);
  uint8_t roots[ST_TREE_MAX_FILES * 32], root[32], want[32];
  write_tree_files(&s, h, data, dir, paths, files, roots);
  st_tree_root_of_subroots(&s, h, roots, root);
  naive_tree_root(&s, h, data, want);
  assert_memory_equal(root, want, 32);

  st_tree_reader rd;
  assert_int_equal(st_tree_reader_open(&rd, &s, h, files, store_from ? leaf_path : NULL, &err), ST_OK);
  assert_memory_equal(rd.root, want, 32);
  check_paths(&rd, h, data, want);
  st_tree_reader_close(&rd);
  /* A truncated tree file is refused at open, naming it; the reader is left empty. */
  off_t short_size = (off_t)st_tree_file_size(&s) - 1;
  assert_int_equal(truncate(paths[s.files - 1], short_size), 0);
  tu_poison(&rd, sizeof rd);
  assert_int_equal(st_tree_reader_open(&rd, &s, h, files, store_from ? leaf_path : NULL, &err), ST_EIO);
  tu_assert_err_contains(&err, paths[s.files - 1]);
  char msg[64];
  snprintf(msg, sizeof msg, "tree file is %lld bytes", (long long)short_size);
  tu_assert_err_contains(&err, msg);
  assert_int_equal(rd.nfiles, 0);
  assert_int_equal(rd.leaf_fd, -1);
  for (unsigned f = 0; f < ST_TREE_MAX_FILES; f++) assert_true(rd.fds[f] == -1 && rd.paths[f] == NULL);
  assert_null(rd.leaf_path);
  st_tree_reader_close(&rd); /* safe on an empty reader */
  free(data);
  tu_rmdir(dir);
}

static void test_lc_tree_64g_shape(void **state) {
  (void)state;
  check_shape(4, 8, 2, 3); /* 16 sub-trees of 512 leaves, rows_to_discard 2 */
}

static void test_lc_tree_32g_shape(void **state) {
  (void)state;
  check_shape(3, 8, 0, 2); /* 8 sub-trees of 64 leaves, rows_to_discard 1 */
}

static void test_full_tree(void **state) {
  (void)state;
  check_shape(3, 0, 0, 0); /* one 64-leaf tree, every row stored (tree_c) */
}

static void test_sector_table(void **state) {
  (void)state;
  static const struct {
    const char *name;
    uint64_t partition;
    unsigned layers, files, rows_to_discard;
    int seal, window, winning;
  } want[] = {
      {"2KiB", 2, 2, 1, 1, 5, 10, 0},      {"8MiB", 2, 2, 1, 2, 6, 11, 1},       {"512MiB", 2, 2, 1, 2, 7, 12, 2},
      {"32GiB", 2349, 11, 8, 2, 8, 13, 3}, {"64GiB", 2300, 11, 16, 2, 9, 14, 4},
  };
  for (size_t i = 0; i < 5; i++) {
    const st_sector_info *s;
    st_err err;
    assert_int_equal(st_sector_lookup(want[i].name, &s, &err), ST_OK);
    assert_int_equal(s->window_partition, want[i].partition);
    assert_int_equal(s->layers, want[i].layers);
    assert_int_equal(st_sector_tree_files(s), want[i].files);
    assert_int_equal(st_sector_rows_to_discard(s), want[i].rows_to_discard);
    assert_int_equal(s->seal_proof, want[i].seal);
    assert_int_equal(s->window_proof, want[i].window);
    assert_int_equal(s->winning_proof, want[i].winning);
    assert_ptr_equal(st_sector_by_size(s->size), s);
  }
  const st_sector_info *s;
  st_err err;
  assert_int_equal(st_sector_lookup("34359738368", &s, &err), ST_OK);
  assert_string_equal(s->name, "32GiB");
  assert_int_equal(st_sector_subtree_leaves(s), 1ULL << 27); /* 8^9 */
  assert_int_equal(st_sector_lookup("4KiB", &s, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "unknown sector size \"4KiB\"");
  assert_null(s); /* not the size found before (st_err.h) */
  char name[ST_SECTOR_NAME_MAX], file[64];
  st_sector_name(1003, 2218, name);
  assert_string_equal(name, "s-t01003-2218");
  st_sector_tree_file_name("tree-r-last", 3, 8, file);
  assert_string_equal(file, "sc-02-data-tree-r-last-3.dat");
  st_sector_tree_file_name("tree-r-last", 0, 1, file);
  assert_string_equal(file, "sc-02-data-tree-r-last.dat");
}

/* Failed calls leave their outs zero (st_err.h): a shape that is not one, the root of a tree
 * not finished, a path that does not decode, sector paths that do not fit. */
static void test_failure_outs(void **state) {
  (void)state;
  st_err err;
  st_tree_shape s;
  tu_poison(&s, sizeof s);
  assert_int_equal(st_tree_shape_binary(&s, 3, &err), ST_EINVAL);
  tu_assert_zeroed(&s, sizeof s);

  assert_int_equal(st_tree_shape_binary(&s, 8, &err), ST_OK);
  st_tree_writer *w;
  assert_int_equal(st_tree_writer_new(&s, &st_hasher_sha254, -1, NULL, &w, &err), ST_OK);
  uint8_t leaves[3 * 32] = {0}, root[32];
  assert_int_equal(st_tree_writer_push(w, leaves, 3, &err), ST_OK);
  tu_poison(root, sizeof root);
  assert_int_equal(st_tree_writer_finish(w, root, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "3 of 8 leaves pushed");
  tu_assert_zeroed(root, sizeof root);
  st_tree_writer_free(w);

  static const uint8_t path[] = {0x82, 0x41, 0x00}; /* [h'00', ...]: a leaf of 1 byte */
  st_cbor_reader r;
  st_cbor_reader_init(&r, path, sizeof path, &err);
  const uint8_t *leaf = path, *sib = path;
  assert_int_equal(st_tree_read_path(&r, &s, "tree_d path", &leaf, &sib), ST_EINVAL);
  assert_true(leaf == NULL && sib == NULL);

  char longroot[ST_PATH_MAX];
  memset(longroot, 'a', sizeof longroot - 1);
  longroot[sizeof longroot - 1] = 0;
  st_sector_paths sp;
  tu_poison(&sp, sizeof sp);
  assert_int_equal(st_sector_paths_make(longroot, 1003, 1, &sp, &err), ST_ERANGE);
  tu_assert_zeroed(&sp, sizeof sp);
  char file[ST_PATH_MAX];
  tu_poison(file, sizeof file);
  assert_int_equal(st_sector_cache_file(longroot, "p_aux", file, &err), ST_ERANGE);
  tu_assert_zeroed(file, sizeof file);
  tu_poison(file, sizeof file);
  assert_int_equal(st_sector_layer_path(longroot, 1, file, &err), ST_ERANGE);
  tu_assert_zeroed(file, sizeof file);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lc_tree_64g_shape), cmocka_unit_test(test_lc_tree_32g_shape),
      cmocka_unit_test(test_full_tree),         cmocka_unit_test(test_sector_table),
      cmocka_unit_test(test_failure_outs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
