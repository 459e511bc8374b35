/* Tests for st_unseal (and st_stage_sector feeding it): a 2 KiB and an 8 MiB sector sealed from
 * staged pieces of random bytes, finalized (layers and trees gone), then unsealed from the
 * sealed file alone, whole and by ranges, byte for byte. A wrong ticket or comm_d, a missing
 * sealed file and a bad range are refused with their reason, and the scratch folder is left
 * as it was. */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/st_fs.h"
#include "crypto/st_secp.h"
#include "proofs/st_commp.h"
#include "proofs/st_fr.h"
#include "proofs/st_seal.h"
#include "proofs/st_unseal.h"

typedef struct sealed {
  char dir[256], root[300], scratch[300], piece[300];
  const st_sector_info *info;
  st_seal_input in;
  st_seal_output out;
  uint8_t *raw;
  size_t nraw;
} sealed;

/* Seals sector 5 of t01000 holding one piece of nraw random bytes. */
static void seal_piece(sealed *s, const char *size, size_t nraw) {
  memset(s, 0, sizeof *s);
  tu_tmpdir(s->dir);
  snprintf(s->root, sizeof s->root, "%s/store", s->dir);
  snprintf(s->scratch, sizeof s->scratch, "%s/scratch", s->dir);
  snprintf(s->piece, sizeof s->piece, "%s/piece", s->dir);
  st_err err;
  assert_int_equal(st_sector_lookup(size, &s->info, &err), ST_OK);
  s->nraw = nraw;
  s->raw = malloc(nraw);
  assert_int_equal(st_random_bytes(s->raw, nraw, &err), ST_OK);
  assert_int_equal(st_fs_write_atomic(s->piece, s->raw, nraw, 0644, &err), ST_OK);
  char staged[320];
  snprintf(staged, sizeof staged, "%s/staged", s->dir);
  st_piece_file pf = {s->piece, s->info->size};
  uint8_t comm_d[32];
  assert_int_equal(st_stage_sector(staged, s->info->size, &pf, 1, comm_d, &err), ST_OK);
  s->in = (st_seal_input){.info = s->info, .miner = 1000, .sector = 5, .data_path = staged, .root = s->root};
  for (int i = 0; i < 32; i++) s->in.ticket[i] = (uint8_t)(i * 13 + 1);
  s->in.ticket[31] |= 0xc0; /* the chain's randomness as drawn: any 32 bytes */
  if (st_seal(&s->in, &s->out, &err)) fail_msg("seal: %s", err.msg);
  assert_memory_equal(s->out.comm_d, comm_d, 32);
  assert_int_equal(st_seal_finalize(s->info, s->root, 1000, 5, &err), ST_OK);
  assert_int_equal(st_fs_mkdir_p(s->scratch, 0755, &err), ST_OK);
}

static void done(sealed *s) {
  free(s->raw);
  tu_rmdir(s->dir);
}

static st_unseal_input input_of(const sealed *s) {
  st_unseal_input u = {.info = s->info, .miner = 1000, .sector = 5, .root = s->root, .scratch = s->scratch};
  memcpy(u.ticket, s->in.ticket, 32);
  memcpy(u.comm_d, s->out.comm_d, 32);
  return u;
}

/* Unseals [offset, +len) into a file and returns its bytes (caller frees). */
static uint8_t *unseal(const sealed *s, const st_unseal_input *u, uint64_t offset, uint64_t len, size_t *n,
                       st_code *code, st_err *err) {
  char out[320];
  snprintf(out, sizeof out, "%s/out", s->dir);
  int fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  *code = st_unseal_range(u, offset, len, fd, err);
  off_t end = lseek(fd, 0, SEEK_END);
  uint8_t *b = malloc((size_t)end + 1);
  assert_int_equal(pread(fd, b, (size_t)end, 0), end);
  close(fd);
  *n = (size_t)end;
  return b;
}

static bool scratch_empty(const sealed *s) {
  DIR *d = opendir(s->scratch);
  int entries = 0;
  for (struct dirent *e; d && (e = readdir(d));) entries += e->d_name[0] != '.';
  if (d) closedir(d);
  return entries == 0;
}

static void round_trip(const char *size, size_t nraw, uint64_t off, uint64_t len) {
  sealed s;
  seal_piece(&s, size, nraw);
  st_unseal_input u = input_of(&s);
  size_t n;
  st_code code;
  st_err err;
  uint8_t *got = unseal(&s, &u, 0, s.info->size, &n, &code, &err);
  if (code) fail_msg("unseal: %s", err.msg);
  assert_int_equal(n, s.info->size / 128 * 127);
  assert_memory_equal(got, s.raw, s.nraw); /* the payload, then the piece's zero fill */
  for (size_t i = s.nraw; i < n; i++) assert_int_equal(got[i], 0);
  free(got);
  got = unseal(&s, &u, off, len, &n, &code, &err);
  if (code) fail_msg("unseal range: %s", err.msg);
  assert_int_equal(n, len / 128 * 127);
  assert_memory_equal(got, s.raw + off / 128 * 127, n < s.nraw - off / 128 * 127 ? n : s.nraw - off / 128 * 127);
  free(got);
  assert_true(scratch_empty(&s));
  done(&s);
}

static void test_2k(void **state) {
  (void)state;
  round_trip("2KiB", 2000, 512, 1024);
}

static void test_8m(void **state) {
  (void)state;
  round_trip("8MiB", 3 << 20, 1 << 20, 128 * 1024);
}

static void test_refusals(void **state) {
  (void)state;
  sealed s;
  seal_piece(&s, "2KiB", 1000);
  st_unseal_input u = input_of(&s);
  size_t n;
  st_code code;
  st_err err = {0};
  u.ticket[3] ^= 1;
  free(unseal(&s, &u, 0, 2048, &n, &code, &err));
  assert_int_equal(code, ST_EINVAL);
  tu_assert_err_contains(&err, "of s-t01000-5 is not Fr32-padded data: the ticket or comm_d is not this sector's");
  assert_true(scratch_empty(&s));
  u = input_of(&s);
  u.comm_d[0] ^= 1;
  free(unseal(&s, &u, 0, 2048, &n, &code, &err));
  assert_int_equal(code, ST_EINVAL);
  u = input_of(&s);
  free(unseal(&s, &u, 64, 128, &n, &code, &err));
  tu_assert_err_contains(&err, "is not whole 128-byte blocks within the 2048-byte sector");
  free(unseal(&s, &u, 1920, 256, &n, &code, &err));
  assert_int_equal(code, ST_EINVAL);
  u.sector = 6;
  free(unseal(&s, &u, 0, 128, &n, &code, &err));
  assert_int_not_equal(code, ST_OK);
  tu_assert_err_contains(&err, "sealed/s-t01000-6");
  /* a sealed file cut short */
  char six[400];
  snprintf(six, sizeof six, "%s/sealed/s-t01000-6", s.root);
  assert_int_equal(st_fs_write_atomic(six, "short", 5, 0644, &err), ST_OK);
  free(unseal(&s, &u, 0, 128, &n, &code, &err));
  assert_int_equal(code, ST_EINVAL);
  tu_assert_err_contains(&err, "s-t01000-6\" is not a sealed 2KiB sector (5 bytes)");
  u = input_of(&s);
  memset(u.comm_d, 0xff, 32);
  free(unseal(&s, &u, 0, 128, &n, &code, &err));
  tu_assert_err_contains(&err, "unseal: comm_d is not a field element");
  done(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_2k), cmocka_unit_test(test_8m),
                                     cmocka_unit_test(test_refusals)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
