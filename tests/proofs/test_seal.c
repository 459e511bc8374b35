/* Tests for st_seal's aux files: t_aux is byte for byte the one rust-fil-proofs writes (Curio's
 * golden t_aux of a 32 GiB sector), and a sealed 2 KiB cache holds it. */
#include "testutil.h"

#include <string.h>

#include "core/st_encoding.h"
#include "core/st_endian.h"
#include "core/st_fs.h"
#include "proofs/st_seal.h"

/* curio lib/proof/t_aux_test.go TAuxGolden (commit 9045e34a): a 32 GiB sector's t_aux as
 * rust-fil-proofs wrote it, cache folder /data/1/store/cache/s-t02620-2010. */
static const char T_AUX_32GIB[] =
    "CwAAAAAAAAAhAAAAAAAAAC9kYXRhLzEvc3RvcmUvY2FjaGUvcy10MDI2MjAtMjAxMAcAAAAAAAAA"
    "bGF5ZXItMQEAAABAAAAAAAAAAAAAAAAAIQAAAAAAAAAvZGF0YS8xL3N0b3JlL2NhY2hlL3MtdDAy"
    "NjIwLTIwMTAHAAAAAAAAAGxheWVyLTIBAAAAQAAAAAAAAAAAAAAAACEAAAAAAAAAL2RhdGEvMS9z"
    "dG9yZS9jYWNoZS9zLXQwMjYyMC0yMDEwBwAAAAAAAABsYXllci0zAQAAAEAAAAAAAAAAAAAAAAAh"
    "AAAAAAAAAC9kYXRhLzEvc3RvcmUvY2FjaGUvcy10MDI2MjAtMjAxMAcAAAAAAAAAbGF5ZXItNAEA"
    "AABAAAAAAAAAAAAAAAAAIQAAAAAAAAAvZGF0YS8xL3N0b3JlL2NhY2hlL3MtdDAyNjIwLTIwMTAH"
    "AAAAAAAAAGxheWVyLTUBAAAAQAAAAAAAAAAAAAAAACEAAAAAAAAAL2RhdGEvMS9zdG9yZS9jYWNo"
    "ZS9zLXQwMjYyMC0yMDEwBwAAAAAAAABsYXllci02AQAAAEAAAAAAAAAAAAAAAAAhAAAAAAAAAC9k"
    "YXRhLzEvc3RvcmUvY2FjaGUvcy10MDI2MjAtMjAxMAcAAAAAAAAAbGF5ZXItNwEAAABAAAAAAAAA"
    "AAAAAAAAIQAAAAAAAAAvZGF0YS8xL3N0b3JlL2NhY2hlL3MtdDAyNjIwLTIwMTAHAAAAAAAAAGxh"
    "eWVyLTgBAAAAQAAAAAAAAAAAAAAAACEAAAAAAAAAL2RhdGEvMS9zdG9yZS9jYWNoZS9zLXQwMjYy"
    "MC0yMDEwBwAAAAAAAABsYXllci05AQAAAEAAAAAAAAAAAAAAAAAhAAAAAAAAAC9kYXRhLzEvc3Rv"
    "cmUvY2FjaGUvcy10MDI2MjAtMjAxMAgAAAAAAAAAbGF5ZXItMTABAAAAQAAAAAAAAAAAAAAAACEA"
    "AAAAAAAAL2RhdGEvMS9zdG9yZS9jYWNoZS9zLXQwMjYyMC0yMDEwCAAAAAAAAABsYXllci0xMQEA"
    "AABAAAAAAAAAAAAAAAAAIQAAAAAAAAAvZGF0YS8xL3N0b3JlL2NhY2hlL3MtdDAyNjIwLTIwMTAG"
    "AAAAAAAAAHRyZWUtZAH///9/AAAAAAAAAAAAAAAAIQAAAAAAAAAvZGF0YS8xL3N0b3JlL2NhY2hl"
    "L3MtdDAyNjIwLTIwMTALAAAAAAAAAHRyZWUtci1sYXN0AUmSJAkAAAAAAgAAAAAAAAAhAAAAAAAA"
    "AC9kYXRhLzEvc3RvcmUvY2FjaGUvcy10MDI2MjAtMjAxMAYAAAAAAAAAdHJlZS1jAUmSJAkAAAAA"
    "AAAAAAAAAAA=";

static void test_t_aux_is_rust_fil_proofs(void **state) {
  (void)state;
  st_err err;
  const st_sector_info *info;
  assert_int_equal(st_sector_lookup("32GiB", &info, &err), ST_OK);
  st_buf want = ST_BUF_INIT, got = ST_BUF_INIT;
  assert_int_equal(st_base64_decode(T_AUX_32GIB, strlen(T_AUX_32GIB), true, &want, &err), ST_OK);
  assert_int_equal(st_seal_t_aux(info, "/data/1/store/cache/s-t02620-2010", &got, &err), ST_OK);
  assert_int_equal(got.len, want.len);
  assert_memory_equal(got.data, want.data, want.len);
  st_buf_free(&want);
  st_buf_free(&got);
}

static void test_sealed_cache_has_t_aux(void **state) {
  (void)state;
  char dir[256];
  tu_tmpdir(dir);
  st_err err;
  const st_sector_info *info;
  assert_int_equal(st_sector_lookup("2KiB", &info, &err), ST_OK);
  st_seal_input in = {.info = info, .miner = 1000, .sector = 3, .root = dir};
  memset(in.ticket, 0xab, 32);
  st_seal_output out;
  assert_int_equal(st_seal(&in, &out, &err), ST_OK);
  st_sector_paths p;
  assert_int_equal(st_sector_paths_make(dir, 1000, 3, &p, &err), ST_OK);
  char path[ST_PATH_MAX];
  assert_int_equal(st_sector_cache_file(p.cache, "t_aux", path, &err), ST_OK);
  st_buf file = ST_BUF_INIT, want = ST_BUF_INIT;
  assert_int_equal(st_fs_read_file(path, 1 << 20, &file, &err), ST_OK);
  assert_int_equal(st_seal_t_aux(info, p.cache, &want, &err), ST_OK);
  assert_int_equal(file.len, want.len);
  assert_memory_equal(file.data, want.data, want.len);
  /* 2 layers of 64 nodes, tree-d 127 nodes, the oct-trees 73 nodes with 1 row discarded */
  assert_int_equal(st_le64_get(file.data), 2);
  st_buf_free(&file);
  st_buf_free(&want);
  tu_rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_t_aux_is_rust_fil_proofs),
      cmocka_unit_test(test_sealed_cache_has_t_aux),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
