/* Tests for st_seal and st_porep: sealing leaves Filecoin's files, a PoRep proof verifies,
 * each tampered input (leaf, path node, comm_r, comm_d, seed, ticket, sector id, label) fails,
 * and kill -9 mid-seal never leaves a file that looks complete but is not. */
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/st_fs.h"
#include "proofs/st_commp.h"
#include "proofs/st_fr.h"
#include "proofs/st_hasher.h"
#include "proofs/st_merkle.h"
#include "proofs/st_porep.h"
#include "proofs/st_seal.h"

typedef struct sealed {
  char dir[256];
  const st_sector_info *info;
  st_seal_output out;
  st_porep_public pub;
  st_buf proof;
} sealed;

static void fill(uint8_t *p, size_t n, uint8_t seed) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(seed + i * 7);
}

static void seal_one(sealed *s, const char *size, const char *data_path) {
  st_err err;
  assert_int_equal(st_sector_lookup(size, &s->info, &err), ST_OK);
  st_seal_input in = {.info = s->info, .miner = 1000, .sector = 7, .data_path = data_path, .root = s->dir};
  fill(in.ticket, 32, 3);
  in.ticket[31] |= 0xc0; /* any 32 bytes: Filecoin's ticket and seed are not field elements */
  assert_int_equal(st_seal(&in, &s->out, &err), ST_OK);
  s->pub = (st_porep_public){.info = s->info, .miner = 1000, .sector = 7};
  memcpy(s->pub.ticket, in.ticket, 32);
  fill(s->pub.seed, 32, 99);
  s->pub.seed[31] |= 0xc0;
  memcpy(s->pub.comm_d, s->out.comm_d, 32);
  memcpy(s->pub.comm_r, s->out.comm_r, 32);
  st_buf_init(&s->proof);
  if (st_porep_prove(&s->pub, s->dir, &s->proof, &err)) fail_msg("%s", err.msg);
}

static int setup_cc(void **state) {
  sealed *s = calloc(1, sizeof *s);
  tu_tmpdir(s->dir);
  seal_one(s, "2KiB", NULL);
  *state = s;
  return 0;
}

static int teardown(void **state) {
  sealed *s = *state;
  st_buf_free(&s->proof);
  tu_rmdir(s->dir);
  free(s);
  return 0;
}

static off_t file_size(const char *dir, const char *rel) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  struct stat st;
  return stat(path, &st) ? -1 : st.st_size;
}

static void test_cc_files_and_comm_d(void **state) {
  sealed *s = *state;
  /* An all-zero 2 KiB sector has the published zero comm_d. */
  assert_string_equal(tu_tohex(s->out.comm_d, 32), "fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833");
  assert_int_equal(file_size(s->dir, "sealed/s-t01000-7"), 2048);
  assert_int_equal(file_size(s->dir, "cache/s-t01000-7/p_aux"), 64);
  assert_true(file_size(s->dir, "cache/s-t01000-7/t_aux") > 0);
  assert_int_equal(file_size(s->dir, "cache/s-t01000-7/sc-02-data-tree-r-last.dat"), 32);
  assert_int_equal(file_size(s->dir, "cache/s-t01000-7/sc-02-data-tree-d.dat"), (64 * 2 - 1) * 32);
  assert_int_equal(file_size(s->dir, "cache/s-t01000-7/sc-02-data-layer-1.dat"), 2048);
  assert_int_equal(file_size(s->dir, "cache/s-t01000-7/sc-02-data-layer-2.dat"), 2048);
  char cache[512];
  snprintf(cache, sizeof cache, "%s/cache/s-t01000-7", s->dir);
  uint8_t c[32], r[32];
  st_err err;
  assert_int_equal(st_read_p_aux(cache, c, r, &err), ST_OK);
  assert_memory_equal(c, s->out.comm_c, 32);
  assert_memory_equal(r, s->out.comm_r_last, 32);
}

static void test_verify(void **state) {
  sealed *s = *state;
  st_err err;
  if (st_porep_verify(&s->pub, s->proof.data, s->proof.len, &err)) fail_msg("%s", err.msg);
}

/* Flips one bit at offset off of a copy of the proof and expects verification to fail. */
static void expect_tamper_fails(sealed *s, size_t off, const char *needle) {
  st_buf copy = ST_BUF_INIT;
  st_buf_append(&copy, s->proof.data, s->proof.len);
  copy.data[off] ^= 0x01;
  st_err err;
  assert_int_not_equal(st_porep_verify(&s->pub, copy.data, copy.len, &err), ST_OK);
  tu_assert_err_contains(&err, needle);
  st_buf_free(&copy);
}

/* The offset of the first occurrence of needle (32 bytes) in the proof. */
static size_t find(const sealed *s, const uint8_t *needle, size_t n) {
  for (size_t i = 0; i + n <= s->proof.len; i++)
    if (!memcmp(s->proof.data + i, needle, n)) return i;
  fail_msg("not found in proof");
  return 0;
}

static void test_tamper_comm_r_last(void **state) {
  sealed *s = *state;
  expect_tamper_fails(s, find(s, s->out.comm_r_last, 32), "do not hash to comm_r");
}

static void test_tamper_data_leaf(void **state) {
  sealed *s = *state;
  /* The first challenge's tree_d leaf: [3 items] [2 items] bytes(32) header, after the 4-item
   * header, version, comm_c, comm_r_last and the challenge array header. */
  size_t off = find(s, s->out.comm_r_last, 32) + 32;
  off += 1 + 1 + 1 + 2; /* challenges array(2), challenge array(3), path array(2), bytes(32) head */
  expect_tamper_fails(s, off, "tree_d path");
}

static void test_tamper_tree_d_path_node(void **state) {
  sealed *s = *state;
  size_t off = find(s, s->out.comm_r_last, 32) + 32 + 5 + 32 + 2 + 40; /* inside the tree_d siblings */
  expect_tamper_fails(s, off, "tree_d path");
}

static void test_tamper_tree_r_path_node(void **state) {
  sealed *s = *state;
  /* tree_d siblings are 6*32 = 192 bytes; then the tree_r_last path. */
  size_t off = find(s, s->out.comm_r_last, 32) + 32 + 5 + 32 + 2 + 192;
  off += 1 + 2 + 32 + 3 + 100; /* path array, leaf, siblings header (448 bytes), inside */
  expect_tamper_fails(s, off, "tree_r_last path");
}

static void test_tamper_label(void **state) {
  sealed *s = *state;
  size_t off = find(s, s->out.comm_r_last, 32) + 32 + 5 + 32 + 2 + 192 + 1 + 2 + 32 + 3 + 448;
  off += 1 + 1 + 2 + 5; /* columns array(15), column array(2), labels bytes(64) head, inside */
  expect_tamper_fails(s, off, "column opening");
}

static void expect_public_fails(sealed *s, st_porep_public *pub, const char *needle) {
  st_err err;
  assert_int_not_equal(st_porep_verify(pub, s->proof.data, s->proof.len, &err), ST_OK);
  tu_assert_err_contains(&err, needle);
}

static void test_wrong_comm_r(void **state) {
  sealed *s = *state;
  st_porep_public pub = s->pub;
  pub.comm_r[0] ^= 1;
  expect_public_fails(s, &pub, "comm_r");
}

static void test_wrong_comm_d(void **state) {
  sealed *s = *state;
  st_porep_public pub = s->pub;
  pub.comm_d[0] ^= 1;
  expect_public_fails(s, &pub, "porep proof: challenge");
}

static void test_wrong_seed(void **state) {
  sealed *s = *state;
  st_porep_public pub = s->pub;
  pub.seed[0] ^= 1;
  expect_public_fails(s, &pub, "porep proof: challenge");
  pub = s->pub;
  pub.seed[31] ^= 0x80; /* the top bits count: the seed is hashed as it is */
  expect_public_fails(s, &pub, "porep proof: challenge");
}

static void test_wrong_ticket(void **state) {
  sealed *s = *state;
  st_porep_public pub = s->pub;
  pub.ticket[5] ^= 1;
  expect_public_fails(s, &pub, "porep proof: challenge");
}

static void test_wrong_sector(void **state) {
  sealed *s = *state;
  st_porep_public pub = s->pub;
  pub.sector = 8;
  expect_public_fails(s, &pub, "porep proof: challenge");
  pub.sector = 7;
  pub.miner = 1001;
  expect_public_fails(s, &pub, "porep proof: challenge");
}

static void test_truncated_and_trailing(void **state) {
  sealed *s = *state;
  st_err err;
  assert_int_equal(st_porep_verify(&s->pub, s->proof.data, s->proof.len - 1, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "cbor:");
  st_buf copy = ST_BUF_INIT;
  st_buf_append(&copy, s->proof.data, s->proof.len);
  st_buf_putc(&copy, 0);
  assert_int_equal(st_porep_verify(&s->pub, copy.data, copy.len, &err), ST_EINVAL);
  st_buf_free(&copy);
}

static void test_finalize_keeps_post_files(void **state) {
  sealed *s = *state;
  st_err err;
  assert_int_equal(st_seal_finalize(s->info, s->dir, 1000, 7, &err), ST_OK);
  assert_int_equal(file_size(s->dir, "cache/s-t01000-7/sc-02-data-layer-1.dat"), -1);
  assert_int_equal(file_size(s->dir, "cache/s-t01000-7/sc-02-data-tree-c.dat"), -1);
  assert_int_equal(file_size(s->dir, "cache/s-t01000-7/sc-02-data-tree-d.dat"), -1);
  assert_int_equal(file_size(s->dir, "cache/s-t01000-7/p_aux"), 64);
  assert_int_equal(file_size(s->dir, "cache/s-t01000-7/sc-02-data-tree-r-last.dat"), 32);
  assert_int_equal(file_size(s->dir, "sealed/s-t01000-7"), 2048);
  /* Proving again needs the layers: the error names the missing file. */
  st_buf proof = ST_BUF_INIT;
  assert_int_not_equal(st_porep_prove(&s->pub, s->dir, &proof, &err), ST_OK);
  tu_assert_err_contains(&err, "could not read from path=");
  st_buf_free(&proof);
  assert_int_equal(st_seal_finalize(s->info, s->dir, 1000, 7, &err), ST_OK); /* twice is fine */
}

/* A sector holding data: comm_d is the data's comm_p, and the proof verifies. */
static void seal_with_data(const char *size) {
  sealed s;
  memset(&s, 0, sizeof s);
  tu_tmpdir(s.dir);
  const st_sector_info *info;
  st_err err;
  assert_int_equal(st_sector_lookup(size, &info, &err), ST_OK);
  size_t raw = (size_t)st_fr32_unpadded_size(info->size);
  uint8_t *data = malloc(raw), *padded = malloc(info->size);
  for (size_t i = 0; i < raw; i++) data[i] = (uint8_t)(i * 31 + (i >> 9));
  for (size_t b = 0; b < raw / ST_FR32_RAW; b++) st_fr32_pad_block(data + b * ST_FR32_RAW, padded + b * ST_FR32_PADDED);
  char path[512];
  snprintf(path, sizeof path, "%s/staged", s.dir);
  assert_int_equal(st_fs_write_atomic(path, padded, info->size, 0644, &err), ST_OK);
  uint8_t commp[32];
  uint64_t psize;
  assert_int_equal(st_commp_of(data, raw, commp, &psize, &err), ST_OK);
  assert_int_equal(psize, info->size);
  seal_one(&s, size, path);
  assert_memory_equal(s.out.comm_d, commp, 32);
  if (st_porep_verify(&s.pub, s.proof.data, s.proof.len, &err)) fail_msg("%s", err.msg);
  /* Data that is not Fr32-padded is refused, naming the node. */
  padded[32 * 5 + 31] |= 0x80;
  assert_int_equal(st_fs_write_atomic(path, padded, info->size, 0644, &err), ST_OK);
  st_seal_input in = {.info = info, .miner = 1000, .sector = 9, .data_path = path, .root = s.dir};
  st_seal_output out;
  assert_int_equal(st_seal(&in, &out, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "node 5 is not Fr32-padded");
  free(data);
  free(padded);
  st_buf_free(&s.proof);
  tu_rmdir(s.dir);
}

static void test_data_2k(void **state) {
  (void)state;
  seal_with_data("2KiB");
}

static void test_data_8m(void **state) {
  (void)state;
  seal_with_data("8MiB");
}

static void test_bad_data_file(void **state) {
  (void)state;
  char dir[256];
  tu_tmpdir(dir);
  const st_sector_info *info;
  st_err err;
  assert_int_equal(st_sector_lookup("2KiB", &info, &err), ST_OK);
  char path[512];
  snprintf(path, sizeof path, "%s/short", dir);
  assert_int_equal(st_fs_write_atomic(path, "abc", 3, 0644, &err), ST_OK);
  st_seal_input in = {.info = info, .miner = 1, .sector = 1, .data_path = path, .root = dir};
  st_seal_output out;
  tu_poison(&out, sizeof out);
  assert_int_equal(st_seal(&in, &out, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "must hold exactly 2048 padded bytes");
  tu_assert_zeroed(&out, sizeof out); /* a failed seal has no output (st_err.h) */
  /* data of the right size that is not Fr32-padded fails in tree_d: no comm_d, and no replica
   * ID derived from the comm_d it did not get */
  uint8_t data[2048] = {0};
  data[5 * 32 + 31] = 0xc0;
  assert_int_equal(st_fs_write_atomic(path, data, sizeof data, 0644, &err), ST_OK);
  tu_poison(&out, sizeof out);
  assert_int_equal(st_seal(&in, &out, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "node 5 is not Fr32-padded");
  tu_assert_zeroed(&out, sizeof out);
  /* p_aux of a sector never sealed, and the key of a root too long for its paths */
  uint8_t comm_c[32], comm_r_last[32];
  tu_poison(comm_c, sizeof comm_c);
  tu_poison(comm_r_last, sizeof comm_r_last);
  assert_int_equal(st_read_p_aux(dir, comm_c, comm_r_last, &err), ST_ENOENT);
  tu_assert_zeroed(comm_c, sizeof comm_c);
  tu_assert_zeroed(comm_r_last, sizeof comm_r_last);
  char longroot[ST_PATH_MAX], key_path[ST_PATH_MAX];
  memset(longroot, 'a', sizeof longroot - 1);
  longroot[sizeof longroot - 1] = 0;
  in.root = longroot;
  tu_poison(key_path, sizeof key_path);
  assert_int_equal(st_seal_key(&in, data, key_path, &err), ST_ERANGE);
  tu_assert_zeroed(key_path, sizeof key_path);
  tu_rmdir(dir);
}

/* kill -9 at different moments of an 8 MiB seal: every file that has its final name is
 * complete, and once p_aux exists the sector proves and verifies. */
static void test_kill9_during_seal(void **state) {
  (void)state;
  const st_sector_info *info;
  st_err err;
  assert_int_equal(st_sector_lookup("8MiB", &info, &err), ST_OK);
  st_tree_shape ds, cs, rs;
  assert_int_equal(st_tree_shape_binary(&ds, st_sector_nodes(info), &err), ST_OK);
  st_tree_shape_sector(&cs, info, 0);
  st_tree_shape_r_last(&rs, info);
  const struct {
    const char *rel;
    off_t size;
  } files[] = {
      {"sealed/s-t01000-7", (off_t)info->size},
      {"cache/s-t01000-7/sc-02-data-layer-1.dat", (off_t)info->size},
      {"cache/s-t01000-7/sc-02-data-layer-2.dat", (off_t)info->size},
      {"cache/s-t01000-7/sc-02-data-tree-d.dat", (off_t)st_tree_file_size(&ds)},
      {"cache/s-t01000-7/sc-02-data-tree-c.dat", (off_t)st_tree_file_size(&cs)},
      {"cache/s-t01000-7/sc-02-data-tree-r-last.dat", (off_t)st_tree_file_size(&rs)},
      {"cache/s-t01000-7/p_aux", 64},
  };
  int completed = 0, interrupted = 0;
  for (int trial = 0; trial < 7; trial++) {
    char dir[256];
    tu_tmpdir(dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      st_seal_input in = {.info = info, .miner = 1000, .sector = 7, .root = dir};
      st_seal_output out;
      _exit(st_seal(&in, &out, NULL) ? 1 : 0);
    }
    if (trial < 6) { /* the last trial runs to the end */
      usleep((useconds_t)(30000 + trial * 100000));
      kill(pid, SIGKILL);
    }
    int status;
    waitpid(pid, &status, 0);
    bool killed = WIFSIGNALED(status);
    interrupted += killed;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
      off_t got = file_size(dir, files[i].rel);
      if (got != -1 && got != files[i].size)
        fail_msg("trial %d: %s is %lld bytes, want %lld", trial, files[i].rel, (long long)got,
                 (long long)files[i].size);
    }
    if (file_size(dir, "cache/s-t01000-7/p_aux") == 64) {
      completed++;
      char cache[512];
      snprintf(cache, sizeof cache, "%s/cache/s-t01000-7", dir);
      uint8_t comm_c[32], comm_r_last[32];
      assert_int_equal(st_read_p_aux(cache, comm_c, comm_r_last, &err), ST_OK);
      st_porep_public pub = {.info = info, .miner = 1000, .sector = 7};
      memcpy(pub.comm_d, st_zero_comm(18), 32);
      st_comm_r(st_hasher_sealing(), comm_c, comm_r_last, pub.comm_r);
      st_buf proof = ST_BUF_INIT;
      if (st_porep_prove(&pub, dir, &proof, &err) || st_porep_verify(&pub, proof.data, proof.len, &err))
        fail_msg("trial %d: %s", trial, err.msg);
      st_buf_free(&proof);
    }
    tu_rmdir(dir);
  }
  assert_true(completed >= 1);
  if (!interrupted) print_message("kill -9 seal: no seal was interrupted on this machine\n");
}

int main(void) {
  const struct CMUnitTest cc[] = {
      cmocka_unit_test(test_cc_files_and_comm_d),
      cmocka_unit_test(test_verify),
      cmocka_unit_test(test_tamper_comm_r_last),
      cmocka_unit_test(test_tamper_data_leaf),
      cmocka_unit_test(test_tamper_tree_d_path_node),
      cmocka_unit_test(test_tamper_tree_r_path_node),
      cmocka_unit_test(test_tamper_label),
      cmocka_unit_test(test_wrong_comm_r),
      cmocka_unit_test(test_wrong_comm_d),
      cmocka_unit_test(test_wrong_seed),
      cmocka_unit_test(test_wrong_ticket),
      cmocka_unit_test(test_wrong_sector),
      cmocka_unit_test(test_truncated_and_trailing),
      cmocka_unit_test(test_finalize_keeps_post_files),
  };
  const struct CMUnitTest other[] = {
      cmocka_unit_test(test_data_2k),
      cmocka_unit_test(test_data_8m),
      cmocka_unit_test(test_bad_data_file),
      cmocka_unit_test(test_kill9_during_seal),
  };
  int fails = cmocka_run_group_tests_name("porep_cc_2k", cc, setup_cc, teardown);
  return fails + cmocka_run_group_tests_name("porep_data", other, NULL, NULL);
}
