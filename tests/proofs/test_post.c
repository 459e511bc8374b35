/* Tests for st_post: challenge derivation (derived vectors in filecoin-facts.md 2.4, the
 * prover_id vector), WindowPoSt over a partition with each kind of unreadable sector skipped
 * and named, the per-sector timeout, tampering with each field of the bincode proof
 * (st_vproof), the quick sector check, and WinningPoSt. */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/st_fs.h"
#include "proofs/st_fr.h"
#include "proofs/st_post.h"
#include "proofs/st_seal.h"

#define NSEC 3

typedef struct fixture {
  char dir[256];
  const st_sector_info *info;
  st_sector_paths paths[NSEC];
  st_post_sector sec[NSEC];
  st_post_public_sector pub[NSEC];
  uint8_t rand[32];
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  tu_tmpdir(f->dir);
  st_err err;
  assert_int_equal(st_sector_lookup("2KiB", &f->info, &err), ST_OK);
  for (int i = 0; i < NSEC; i++) {
    st_seal_input in = {.info = f->info, .miner = 1000, .sector = (uint64_t)i + 1, .root = f->dir};
    in.ticket[0] = (uint8_t)(i + 1);
    st_seal_output out;
    assert_int_equal(st_seal(&in, &out, &err), ST_OK);
    assert_int_equal(st_seal_finalize(f->info, f->dir, 1000, (uint64_t)i + 1, &err), ST_OK);
    assert_int_equal(st_sector_paths_make(f->dir, 1000, (uint64_t)i + 1, &f->paths[i], &err), ST_OK);
    f->sec[i] =
        (st_post_sector){.number = (uint64_t)i + 1, .sealed_path = f->paths[i].sealed, .cache_dir = f->paths[i].cache};
    memcpy(f->sec[i].comm_r, out.comm_r, 32);
    f->pub[i].number = (uint64_t)i + 1;
    memcpy(f->pub[i].comm_r, out.comm_r, 32);
  }
  for (int i = 0; i < 32; i++) f->rand[i] = (uint8_t)(200 - i);
  st_fr_trunc254(f->rand);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  tu_rmdir(f->dir);
  free(f);
  return 0;
}

static void test_challenge_vectors(void **state) {
  (void)state;
  uint8_t rand[32];
  for (int i = 0; i < 32; i++) rand[i] = (uint8_t)i;
  static const uint64_t want[10] = {46, 10, 14, 42, 22, 8, 31, 41, 43, 30};
  for (uint64_t n = 0; n < 10; n++) assert_int_equal(st_post_leaf_challenge(rand, 1, n, 64), want[n]);
  uint8_t prover[32];
  st_prover_id(1000, prover);
  assert_int_equal(st_post_select_sector(prover, rand, 0, 10), 6);
  json_t *v = tu_load_vectors("vectors.json");
  json_t *pid = json_object_get(v, "prover_id");
  st_prover_id((uint64_t)json_integer_value(json_object_get(pid, "miner_id")), prover);
  assert_string_equal(tu_tohex(prover, 32), json_string_value(json_object_get(pid, "hex")));
  json_decref(v);
}

static void prove(fixture *f, size_t n, unsigned parallel, unsigned timeout_ms, st_post_result *res) {
  st_post_options opt = {.parallel = parallel, .timeout_ms = timeout_ms};
  st_err err;
  if (st_window_post_prove(f->info, f->rand, f->sec, n, &opt, res, &err)) fail_msg("%s", err.msg);
}

static void test_window_post_all_good(void **state) {
  fixture *f = *state;
  st_post_result a, b;
  prove(f, 2, 1, 0, &a);
  prove(f, 2, 4, 5000, &b);
  assert_int_equal(a.nskipped, 0);
  assert_int_equal(a.proof.len, b.proof.len);
  assert_memory_equal(a.proof.data, b.proof.data, a.proof.len);
  assert_true(a.bytes_read > 0);
  st_err err;
  if (st_window_post_verify(f->info, f->rand, f->pub, 2, a.proof.data, a.proof.len, &err)) fail_msg("%s", err.msg);
  st_post_result_free(&a);
  st_post_result_free(&b);
}

static void expect_verify_fails(fixture *f, const uint8_t *rand, const st_post_public_sector *pub, size_t n,
                                const st_buf *proof, const char *needle) {
  st_err err;
  assert_int_not_equal(st_window_post_verify(f->info, rand, pub, n, proof->data, proof->len, &err), ST_OK);
  tu_assert_err_contains(&err, needle);
}

/* Byte offsets in a 2 KiB sector's proof (st_vproof.h): the head is 56 bytes, then each
 * inclusion proof: variant, root, leaf, the path (2 levels of 7 siblings). */
#define HEAD 56
#define ROOT(i) (HEAD + (i)*INCL + 4)
#define LEAF(i) (ROOT(i) + 32)
#define SIB0(i) (LEAF(i) + 32 + 8 + 8)
#define INDEX0(i) (SIB0(i) + 7 * 32)
#define INCL (4 + 64 + 8 + 2 * (8 + 7 * 32 + 8))

static void test_window_post_tampering(void **state) {
  fixture *f = *state;
  st_post_result res;
  prove(f, 2, 2, 0, &res);
  size_t one = st_vproof_sector_len(f->info, ST_WINDOW_CHALLENGES);
  assert_int_equal(st_vproof_inclusion_len(f->info), INCL);
  assert_int_equal(one, 5680);
  assert_int_equal(res.proof.len, 2 * one);
  /* the second sector's proof starts with its number and comm_r */
  assert_int_equal(res.proof.data[one], 2);
  assert_memory_equal(res.proof.data + one + 8, f->pub[1].comm_r, 32);
  const struct {
    size_t off;
    uint8_t x;
    const char *needle;
  } cases[] = {
      {LEAF(0) + 3, 1, "sector 1: challenge 0 (leaf "},                 /* a challenged leaf */
      {LEAF(9) + 3, 1, "sector 1: challenge 9 (leaf "},                 /* the last one */
      {SIB0(0) + 200, 1, "path does not lead to comm_r_last"},          /* a path node */
      {ROOT(0) + 3, 1, "challenge 0 (leaf "},                           /* a root */
      {INDEX0(0), 1, "the path is for leaf"},                           /* an index field */
      {INDEX0(0), 8, "path[0].index: 8, want below the arity 8"},       /* past the arity */
      {HEAD, 1, "variant: 1 (Sub), want 0 (Single) for a 2KiB sector"}, /* the variant */
      {HEAD - 8, 1, "inclusion_proofs length: "},                       /* a length */
      {HEAD + INCL * 10 + 3, 1, "do not hash to comm_r"},               /* comm_c */
      {HEAD + INCL * 10 + 32 + 3, 1, "do not hash to comm_r"},          /* comm_r_last */
      {8 + 3, 1, "the proof's comm_r is not the sector's"},             /* comm_r */
      {LEAF(0) + 31, 0xc0, "leaf: not a field element"},                /* a leaf past r */
      {one + 0, 1, "found sector 3 where sector 2 was expected"},       /* the second sector's number */
  };
  st_buf copy = ST_BUF_INIT;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    st_buf_reset(&copy);
    st_buf_append(&copy, res.proof.data, res.proof.len);
    if (cases[k].off == INDEX0(0) && cases[k].x == 8) copy.data[cases[k].off] = 8;
    else if (cases[k].off == INDEX0(0)) copy.data[cases[k].off] = (uint8_t)((copy.data[cases[k].off] + 1) % 8);
    else copy.data[cases[k].off] ^= cases[k].x;
    expect_verify_fails(f, f->rand, f->pub, 2, &copy, cases[k].needle);
  }
  /* Other randomness, another comm_r, another sector number. */
  uint8_t rand[32];
  memcpy(rand, f->rand, 32);
  rand[0] ^= 1;
  expect_verify_fails(f, rand, f->pub, 2, &res.proof, "the path is for leaf");
  rand[31] = 0xff;
  expect_verify_fails(f, rand, f->pub, 2, &res.proof, "randomness is not a field element");
  st_post_public_sector pub[2] = {f->pub[0], f->pub[1]};
  pub[1].comm_r[3] ^= 1;
  expect_verify_fails(f, f->rand, pub, 2, &res.proof, "sector 2: the proof's comm_r is not the sector's");
  pub[1] = f->pub[2];
  expect_verify_fails(f, f->rand, pub, 2, &res.proof, "found sector 2 where sector 3 was expected");
  /* Trailing bytes after a genuine proof, and every truncation. */
  st_buf_reset(&copy);
  st_buf_append(&copy, res.proof.data, res.proof.len);
  st_buf_putc(&copy, 0);
  expect_verify_fails(f, f->rand, f->pub, 2, &copy, "byte 11360: 1 byte after the 2 sector proofs expected");
  for (size_t len = 0; len < res.proof.len; len += len < 200 ? 1 : 97) {
    st_buf cut = {.data = res.proof.data, .len = len};
    expect_verify_fails(f, f->rand, f->pub, 2, &cut, "the proof ends after");
  }
  /* A verifier expecting only one sector (as if one was skipped) rejects two. */
  expect_verify_fails(f, f->rand, f->pub, 1, &res.proof, "byte 5680: 5680 bytes after the 1 sector proof expected");
  st_buf_free(&copy);
  st_post_result_free(&res);
}

/* Breaks sector 2 with fn, proves the partition {1, 2, 3}, and checks that 1 and 3 are proven
 * and 2 is skipped with an error containing needle. */
static void expect_skip(fixture *f, const char *needle, unsigned timeout_ms) {
  st_post_result res;
  prove(f, NSEC, 2, timeout_ms, &res);
  assert_int_equal(res.nskipped, 1);
  assert_int_equal(res.skipped[0].number, 2);
  if (!strstr(res.skipped[0].error, needle)) fail_msg("skip reason \"%s\" lacks \"%s\"", res.skipped[0].error, needle);
  st_post_public_sector pub[2] = {f->pub[0], f->pub[2]};
  st_err err;
  if (st_window_post_verify(f->info, f->rand, pub, 2, res.proof.data, res.proof.len, &err)) fail_msg("%s", err.msg);
  st_post_result_free(&res);
}

static void save(const char *path, st_buf *b) {
  st_err err;
  st_buf_init(b);
  assert_int_equal(st_fs_read_file(path, 1 << 20, b, &err), ST_OK);
}

static void restore(const char *path, st_buf *b) {
  st_err err;
  unlink(path);
  assert_int_equal(st_fs_write_atomic(path, b->data, b->len, 0644, &err), ST_OK);
  st_buf_free(b);
}

/* Takes file away from a sector's cache folder, keeping its bytes for restore; path gets its path. */
static void take_away(const char *cache, const char *file, char path[ST_PATH_MAX + 64], st_buf *keep) {
  snprintf(path, ST_PATH_MAX + 64, "%s/%s", cache, file);
  save(path, keep);
  unlink(path);
}

static void test_skip_missing_p_aux(void **state) {
  fixture *f = *state;
  char path[ST_PATH_MAX + 64], want[ST_PATH_MAX + 200];
  st_buf keep;
  take_away(f->paths[1].cache, "p_aux", path, &keep);
  snprintf(want, sizeof want, "could not read from path=\"%s\": No such file or directory", path);
  expect_skip(f, want, 0);
  restore(path, &keep);
}

static void test_skip_bad_p_aux(void **state) {
  fixture *f = *state;
  char path[ST_PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/p_aux", f->paths[1].cache);
  st_buf keep, bad = ST_BUF_INIT;
  st_err err;
  save(path, &keep);
  assert_int_equal(st_fs_write_atomic(path, keep.data, 63, 0644, &err), ST_OK);
  expect_skip(f, "p_aux is 63 bytes, want 64", 0);
  st_buf_append(&bad, keep.data, 64);
  bad.data[0] ^= 1; /* a different comm_c */
  assert_int_equal(st_fs_write_atomic(path, bad.data, 64, 0644, &err), ST_OK);
  expect_skip(f, "does not match the sector's comm_r", 0);
  st_buf_free(&bad);
  restore(path, &keep);
}

static void test_skip_missing_tree(void **state) {
  fixture *f = *state;
  char path[ST_PATH_MAX + 64];
  st_buf keep;
  take_away(f->paths[1].cache, "sc-02-data-tree-r-last.dat", path, &keep);
  char want[ST_PATH_MAX + 200];
  snprintf(want, sizeof want, "could not read from path=\"%s\"", path);
  expect_skip(f, want, 0);
  restore(path, &keep);
}

static void test_skip_short_sealed(void **state) {
  fixture *f = *state;
  st_buf keep;
  save(f->paths[1].sealed, &keep);
  st_err err;
  assert_int_equal(st_fs_write_atomic(f->paths[1].sealed, keep.data, 1000, 0644, &err), ST_OK);
  expect_skip(f, "replica is 1000 bytes, want 2048", 0);
  restore(f->paths[1].sealed, &keep);
}

static void test_skip_timeout(void **state) {
  fixture *f = *state;
  /* A FIFO in place of p_aux blocks the reader in open(), like a hung NFS mount. */
  char path[ST_PATH_MAX + 64];
  st_buf keep;
  take_away(f->paths[1].cache, "p_aux", path, &keep);
  assert_int_equal(mkfifo(path, 0644), 0);
  expect_skip(f, "not read within the 300 ms timeout", 300);
  /* Release the stuck reader so it finishes, then put p_aux back. */
  int fd = open(path, O_WRONLY | O_NONBLOCK);
  if (fd >= 0) close(fd);
  usleep(100 * 1000);
  restore(path, &keep);
}

/* The quick check finds what stops a proof before any challenge is read (files, sizes, p_aux,
 * the tree's root); damage inside the tree only a proof finds. */
static void test_check_sector(void **state) {
  fixture *f = *state;
  st_err err;
  for (int i = 0; i < NSEC; i++)
    if (st_post_check_sector(f->info, &f->sec[i], &err)) fail_msg("sector %d: %s", i + 1, err.msg);
  char path[ST_PATH_MAX + 64], want[ST_PATH_MAX + 200];
  st_buf keep;
  take_away(f->paths[1].cache, "p_aux", path, &keep);
  assert_int_equal(st_post_check_sector(f->info, &f->sec[1], &err), ST_ENOENT);
  snprintf(want, sizeof want, "could not read from path=\"%s\": No such file or directory", path);
  tu_assert_err_contains(&err, want);
  restore(path, &keep);
  st_post_sector other = f->sec[1];
  memcpy(other.comm_r, f->sec[0].comm_r, 32);
  assert_int_equal(st_post_check_sector(f->info, &other, &err), ST_ECRYPTO);
  tu_assert_err_contains(&err, "does not match the sector's comm_r");
  save(f->paths[1].sealed, &keep);
  assert_int_equal(st_fs_write_atomic(f->paths[1].sealed, keep.data, 1000, 0644, &err), ST_OK);
  assert_int_equal(st_post_check_sector(f->info, &f->sec[1], &err), ST_EIO);
  tu_assert_err_contains(&err, "replica is 1000 bytes, want 2048");
  restore(f->paths[1].sealed, &keep);
  /* the replica's leaves all changed, the tree's root kept: quick passes, a proof fails */
  st_buf bad = ST_BUF_INIT;
  save(f->paths[1].sealed, &keep);
  st_buf_append(&bad, keep.data, keep.len);
  memset(bad.data, 0x55, bad.len);
  assert_int_equal(st_fs_write_atomic(f->paths[1].sealed, bad.data, bad.len, 0644, &err), ST_OK);
  assert_int_equal(st_post_check_sector(f->info, &f->sec[1], &err), ST_OK);
  st_post_result res;
  prove(f, NSEC, 2, 0, &res);
  assert_int_equal(res.nskipped, 0);
  assert_int_not_equal(st_window_post_verify(f->info, f->rand, f->pub, NSEC, res.proof.data, res.proof.len, &err),
                       ST_OK);
  /* sector by sector, only sector 2 fails */
  st_code codes[NSEC];
  char errors[NSEC][ST_ERR_MSG_MAX];
  assert_int_equal(
      st_window_post_verify_each(f->info, f->rand, f->pub, NSEC, res.proof.data, res.proof.len, codes, errors, &err),
      ST_OK);
  assert_int_equal(codes[0], ST_OK);
  assert_int_equal(codes[1], ST_ECRYPTO);
  assert_int_equal(codes[2], ST_OK);
  if (!strstr(errors[1], "sector 2: challenge 0 (leaf ")) fail_msg("%s", errors[1]);
  /* a proof that is not a list of NSEC sector proofs is refused as a whole */
  assert_int_equal(st_window_post_verify_each(f->info, f->rand, f->pub, NSEC - 1, res.proof.data, res.proof.len, codes,
                                              errors, &err),
                   ST_EINVAL);
  /* and every sector then carries that failure, not the last call's verdict (st_err.h) */
  for (int i = 0; i < NSEC - 1; i++) {
    assert_int_equal(codes[i], ST_EINVAL);
    assert_string_equal(errors[i], err.msg);
  }
  st_post_result_free(&res);
  st_buf_free(&bad);
  restore(f->paths[1].sealed, &keep);
}

static void test_window_post_rejects_bad_randomness(void **state) {
  fixture *f = *state;
  uint8_t rand[32];
  memset(rand, 0xff, 32);
  st_post_result res;
  st_err err;
  tu_poison(&res, sizeof res);
  assert_int_equal(st_window_post_prove(f->info, rand, f->sec, 2, NULL, &res, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "randomness is not a field element");
  /* the result is empty, ready to free (st_err.h) */
  assert_true(res.proof.data == NULL && res.proof.len == 0 && res.skipped == NULL && res.nskipped == 0 &&
              res.bytes_read == 0);
  st_post_result_free(&res);
}

static void test_winning_post(void **state) {
  fixture *f = *state;
  st_buf proof = ST_BUF_INIT;
  st_err err;
  if (st_winning_post_prove(f->info, 1000, f->rand, f->sec, NSEC, NULL, &proof, &err)) fail_msg("%s", err.msg);
  if (st_winning_post_verify(f->info, 1000, f->rand, f->pub, NSEC, proof.data, proof.len, &err))
    fail_msg("%s", err.msg);
  /* Another miner (prover id) or other randomness selects or challenges differently. */
  uint8_t rand[32];
  memcpy(rand, f->rand, 32);
  rand[1] ^= 1;
  assert_int_not_equal(st_winning_post_verify(f->info, 1000, rand, f->pub, NSEC, proof.data, proof.len, &err), ST_OK);
  /* One sector's proof with 66 challenges; flip the last challenge's leaf. */
  assert_int_equal(proof.len, 36816);
  assert_int_equal(proof.len, st_vproof_sector_len(f->info, ST_WINNING_CHALLENGES));
  proof.data[LEAF(65) + 3] ^= 1;
  assert_int_equal(st_winning_post_verify(f->info, 1000, f->rand, f->pub, NSEC, proof.data, proof.len, &err),
                   ST_ECRYPTO);
  tu_assert_err_contains(&err, "challenge 65 (leaf ");
  tu_assert_err_contains(&err, "path does not lead to comm_r_last");
  st_buf_free(&proof);
  /* A missing file fails a winning proof (there is nothing to skip to), naming the file. */
  uint8_t prover[32];
  st_prover_id(1000, prover);
  uint64_t chosen = st_post_select_sector(prover, f->rand, 0, NSEC);
  char path[ST_PATH_MAX + 64];
  st_buf keep;
  take_away(f->paths[chosen].cache, "p_aux", path, &keep);
  st_buf_init(&proof);
  assert_int_equal(st_winning_post_prove(f->info, 1000, f->rand, f->sec, NSEC, NULL, &proof, &err), ST_ENOENT);
  tu_assert_err_contains(&err, "could not read from path=");
  st_buf_free(&proof);
  /* A hung read (a FIFO in place of p_aux) fails it within the timeout, not when the read ends. */
  assert_int_equal(mkfifo(path, 0644), 0);
  st_buf_init(&proof);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  st_post_options opt = {.timeout_ms = 300};
  assert_int_equal(st_winning_post_prove(f->info, 1000, f->rand, f->sec, NSEC, &opt, &proof, &err), ST_EIO);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  tu_assert_err_contains(&err, "not read within the 300 ms timeout");
  assert_true(t1.tv_sec - t0.tv_sec < 5);
  st_buf_free(&proof);
  int fd = open(path, O_WRONLY | O_NONBLOCK); /* release the stuck reader */
  if (fd >= 0) close(fd);
  usleep(100 * 1000);
  restore(path, &keep);
  /* and with the timeout, a readable sector proves as without */
  st_buf_init(&proof);
  if (st_winning_post_prove(f->info, 1000, f->rand, f->sec, NSEC, &opt, &proof, &err)) fail_msg("%s", err.msg);
  if (st_winning_post_verify(f->info, 1000, f->rand, f->pub, NSEC, proof.data, proof.len, &err))
    fail_msg("%s", err.msg);
  st_buf_free(&proof);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_challenge_vectors),     cmocka_unit_test(test_window_post_all_good),
      cmocka_unit_test(test_window_post_tampering), cmocka_unit_test(test_skip_missing_p_aux),
      cmocka_unit_test(test_skip_bad_p_aux),        cmocka_unit_test(test_skip_missing_tree),
      cmocka_unit_test(test_skip_short_sealed),     cmocka_unit_test(test_skip_timeout),
      cmocka_unit_test(test_check_sector),          cmocka_unit_test(test_window_post_rejects_bad_randomness),
      cmocka_unit_test(test_winning_post),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
