/* Tests for st_graph, st_parent_cache and the SDR labels against rust-fil-proofs' published
 * values (tests/vectors/filecoin-exact.json): the parent cache files of 2 KiB and 8 MiB for V1
 * and V1_1 (name and SHA-256), the last label of 11 layers, ChaCha8 against published keystreams,
 * and a cache file of the wrong size made again. */
#include "testutil.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/st_buf.h"
#include "core/st_fs.h"
#include "core/st_log.h"
#include "crypto/st_hash.h"
#include "proofs/st_graph.h"
#include "proofs/st_parent_cache.h"
#include "proofs/st_seal.h"

/* draft-strombergson-chacha-test-vectors-01 (ChaCha, 8 rounds, 256-bit key, 64-bit IV as the
 * stream words): TC1 all zero (two blocks), TC2 one key bit, TC7 sequence patterns. */
static void test_chacha8_vectors(void **state) {
  (void)state;
  static const struct {
    const char *key, *iv, *stream;
  } TC[] = {
      {"0000000000000000000000000000000000000000000000000000000000000000", "0000000000000000",
       "3e00ef2f895f40d67f5bb8e81f09a5a12c840ec3ce9a7f3b181be188ef711a1e984ce172b9216f419f445367456d5619314a42a3da86b0"
       "01387bfdb80e0cfe42d2aefa0deaa5c151bf0adb6c01f2a5adc0fd581259f9a2aadcf20f8fd566a26b5032ec38bbc5da98ee0c6f568b87"
       "2a65a08abf251deb21bb4b56e5d8821e68aa"},
      {"0100000000000000000000000000000000000000000000000000000000000000", "0000000000000000",
       "cf5ee9a0494aa9613e05d5ed725b804b12f4a465ee635acc3a311de8740489ea289d04f43c7518db56eb4433e498a1238cd8464d3763dd"
       "bb9222ee3bd8fae3c8b4355a7d93dd8867089ee643558b95754efa2bd1a8a1e2d75bcdb32015542638291941feb49965587c4fdfe219cf"
       "0ec132a6cd4dc067392e67982fe53278c0b4"},
      {"00112233445566778899aabbccddeeffffeeddccbbaa99887766554433221100", "0f1e2d3c4b596877",
       "60fdedbd1a280cb741d0593b6ea0309010acf18e1471f68968f4c9e311dca149b8e027b47c81e0353db013891aa5f68ea3b13dd2f3b8dd"
       "0873bf3746e7d6c567fe882395601ce8aded444867fe62ed8741420002e5d28bb573113a418c1f4008e954c188f38ec4f26bb8555e2b7c"
       "92bf4380e2ea9e553187fdd42821794416de"},
  };
  for (size_t i = 0; i < sizeof TC / sizeof TC[0]; i++) {
    st_buf key = ST_BUF_INIT, iv = ST_BUF_INIT, want = ST_BUF_INIT;
    tu_hex(TC[i].key, &key);
    tu_hex(TC[i].iv, &iv);
    tu_hex(TC[i].stream, &want);
    uint64_t stream = 0;
    for (int b = 7; b >= 0; b--) stream = stream << 8 | iv.data[b];
    uint8_t got[128];
    st_chacha8_block(key.data, 0, stream, got);
    st_chacha8_block(key.data, 1, stream, got + 64);
    assert_memory_equal(got, want.data, 128);
    st_buf_free(&key);
    st_buf_free(&iv);
    st_buf_free(&want);
  }
}

typedef struct fixture {
  char dir[256];
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  tu_tmpdir(f->dir);
  setenv("FIL_PROOFS_PARENT_CACHE", f->dir, 1);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  unsetenv("FIL_PROOFS_PARENT_CACHE");
  tu_rmdir(f->dir);
  free(f);
  return 0;
}

/* The seal proof (V1 or V1_1) of size whose cache rust-fil-proofs names name; fails if neither. */
static const st_sector_info *info_named(uint64_t size, const char *name, st_graph *g) {
  size_t n;
  const st_sector_info *t = st_sector_table(&n);
  for (size_t i = 0; i < n; i++) {
    if (t[i].size != size) continue;
    st_sector_info v1 = t[i];
    v1.seal_proof = t[i].seal_proof - 5; /* the table holds V1_1; V1 is 5 lower */
    const st_sector_info *cand[2] = {&t[i], &v1};
    for (int c = 0; c < 2; c++) {
      char got[ST_PARENT_CACHE_NAME_MAX];
      st_graph_init_sector(g, cand[c]);
      st_parent_cache_name(g, got);
      if (!strncmp(got, name, strlen(name)) && !strcmp(got + strlen(name), ".cache")) return &t[i];
    }
  }
  fail_msg("no seal proof of %llu bytes has a parent cache named %s", (unsigned long long)size, name);
  return NULL;
}

static void test_parent_cache_vectors(void **state) {
  fixture *f = *state;
  json_t *v = tu_load_vectors("filecoin-exact.json");
  json_t *entries = json_object_get(json_object_get(v, "sdr_parent_cache"), "entries");
  assert_int_equal(json_object_size(entries), 4);
  const char *name;
  json_t *e;
  json_object_foreach(entries, name, e) {
    uint64_t size = (uint64_t)json_integer_value(json_object_get(e, "sector_size"));
    const char *digest = json_string_value(json_object_get(e, "digest"));
    st_graph g;
    info_named(size, name, &g);
    assert_non_null(st_parent_cache_published(name));
    assert_string_equal(st_parent_cache_published(name), digest);
    st_parent_cache pc;
    st_err err;
    char log[600];
    snprintf(log, sizeof log, "%s/progress.log", f->dir);
    assert_int_equal(st_log_set_file(log, &err), ST_OK);
    if (st_parent_cache_open(&pc, &g, &err)) fail_msg("%s", err.msg);
    assert_int_equal(st_log_set_file(NULL, &err), ST_OK);
    assert_true(pc.made);
    assert_int_equal(pc.len, g.nodes * 56);
    /* a cache of 8 MiB or more logs its making at each tenth, up to 100% */
    st_buf lines = ST_BUF_INIT;
    assert_int_equal(st_fs_read_file(log, 1 << 20, &lines, &err), ST_OK);
    st_buf_putc(&lines, 0);
    bool logged = strstr((char *)lines.data, "making the parent cache") != NULL;
    assert_int_equal(logged, pc.len >= (8u << 20));
    if (logged) assert_non_null(strstr((char *)lines.data, "\"percent\": 100"));
    st_buf_free(&lines);
    unlink(log);
    char want_path[512];
    snprintf(want_path, sizeof want_path, "%s/%s.cache", f->dir, name);
    assert_string_equal(pc.path, want_path);
    uint8_t d[32];
    assert_int_equal(st_parent_cache_digest(&pc, d, &err), ST_OK);
    assert_string_equal(tu_tohex(d, 32), digest);
    /* the entries are the graph's parents */
    for (uint64_t node = 0; node < g.nodes; node += g.nodes / 64 + 1) {
      uint32_t a[ST_PARENTS], b[ST_PARENTS];
      st_parent_cache_get(&pc, node, a);
      st_graph_parents(&g, node, b);
      assert_memory_equal(a, b, sizeof a);
    }
    st_parent_cache_close(&pc);
    /* reopened, it is mapped, not made, and hashes the same from the map */
    if (st_parent_cache_open(&pc, &g, &err)) fail_msg("%s", err.msg);
    assert_false(pc.made);
    assert_false(pc.digest_known);
    assert_int_equal(st_parent_cache_digest(&pc, d, &err), ST_OK);
    assert_string_equal(tu_tohex(d, 32), digest);
    st_parent_cache_close(&pc);
  }
  json_decref(v);
}

static void test_wrong_size_rebuilt(void **state) {
  (void)state;
  const st_sector_info *info;
  st_err err;
  assert_int_equal(st_sector_lookup("2KiB", &info, &err), ST_OK);
  st_graph g;
  st_graph_init_sector(&g, info);
  st_parent_cache pc;
  if (st_parent_cache_open(&pc, &g, &err)) fail_msg("%s", err.msg);
  char path[PATH_MAX];
  strcpy(path, pc.path);
  st_parent_cache_close(&pc);
  for (int round = 0; round < 2; round++) { /* cut short, then grown */
    assert_int_equal(truncate(path, round == 0 ? 1000 : 64 * 56 + 1), 0);
    if (st_parent_cache_open(&pc, &g, &err)) fail_msg("%s", err.msg);
    assert_true(pc.made);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 64 * 56);
    uint8_t d[32];
    assert_int_equal(st_parent_cache_digest(&pc, d, &err), ST_OK);
    assert_string_equal(tu_tohex(d, 32), st_parent_cache_published(strrchr(path, '/') + 1));
    st_parent_cache_close(&pc);
  }
  /* same size but corrupt: reused as is, unless FIL_PROOFS_VERIFY_CACHE asks for the check */
  int fd = open(path, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, "\xff", 1, 100), 1);
  close(fd);
  if (st_parent_cache_open(&pc, &g, &err)) fail_msg("%s", err.msg);
  assert_false(pc.made);
  st_parent_cache_close(&pc);
  setenv("FIL_PROOFS_VERIFY_CACHE", "1", 1);
  st_code rc = st_parent_cache_open(&pc, &g, &err);
  unsetenv("FIL_PROOFS_VERIFY_CACHE");
  if (rc) fail_msg("%s", err.msg);
  assert_true(pc.made);
  assert_int_not_equal(pc.data[100], 0xff);
  uint8_t d[32];
  assert_int_equal(st_parent_cache_digest(&pc, d, &err), ST_OK);
  assert_string_equal(tu_tohex(d, 32), st_parent_cache_published(strrchr(path, '/') + 1));
  st_parent_cache_close(&pc);
}

static void test_open_failure_leaves_empty(void **state) {
  fixture *f = *state;
  char file[512];
  snprintf(file, sizeof file, "%s/not-a-dir", f->dir);
  FILE *fp = fopen(file, "w");
  fclose(fp);
  setenv("FIL_PROOFS_PARENT_CACHE", file, 1);
  const st_sector_info *info;
  st_err err;
  assert_int_equal(st_sector_lookup("2KiB", &info, &err), ST_OK);
  st_graph g;
  st_graph_init_sector(&g, info);
  st_parent_cache pc;
  tu_poison(&pc, sizeof pc);
  assert_int_not_equal(st_parent_cache_open(&pc, &g, &err), ST_OK);
  tu_assert_err_contains(&err, "not-a-dir");
  tu_assert_zeroed(&pc, sizeof pc);
  st_parent_cache_close(&pc);
  setenv("FIL_PROOFS_PARENT_CACHE", f->dir, 1);
}

/* Layer l of layers (layer 1 first, g->nodes each) holds, for every node below dense and every
 * 7th above, the label st_sdr_label computes from the node's parents. */
static void check_labels(const st_graph *g, const uint8_t replica_id[32], const uint8_t *layers, unsigned l,
                         uint64_t dense) {
  const uint8_t *cur = layers + (l - 1) * g->nodes * 32, *prev = cur - g->nodes * 32;
  for (uint64_t node = 0; node < g->nodes; node += node < dense ? 1 : 7) {
    uint64_t dp[ST_DRG_DEGREE], ep[ST_EXP_DEGREE];
    uint8_t drg[ST_DRG_DEGREE * 32], exp[ST_EXP_DEGREE * 32], label[32];
    st_graph_drg_parents(g, node, dp);
    st_graph_exp_parents(g, node, ep);
    for (int k = 0; k < ST_DRG_DEGREE; k++) memcpy(drg + k * 32, cur + dp[k] * 32, 32);
    for (int k = 0; l > 1 && k < ST_EXP_DEGREE; k++) memcpy(exp + k * 32, prev + ep[k] * 32, 32);
    st_sdr_label(replica_id, l, node, drg, l > 1 ? exp : NULL, label);
    if (memcmp(label, cur + node * 32, 32)) fail_msg("layer %u node %llu differs", l, (unsigned long long)node);
  }
}

static void test_label_vectors(void **state) {
  (void)state;
  json_t *v = tu_load_vectors("filecoin-exact.json");
  json_t *vectors = json_object_get(json_object_get(v, "sdr_labels"), "vectors");
  assert_int_equal(json_array_size(vectors), 4);
  size_t i;
  json_t *e;
  json_array_foreach(vectors, i, e) {
    uint64_t nodes = (uint64_t)json_integer_value(json_object_get(e, "nodes"));
    const char *api = json_string_value(json_object_get(e, "api"));
    st_buf porep_id = ST_BUF_INIT, want = ST_BUF_INIT;
    tu_hex(json_string_value(json_object_get(e, "porep_id")), &porep_id);
    tu_hex(json_string_value(json_object_get(e, "last_label")), &want);
    assert_int_equal(porep_id.len, 32);
    st_graph g;
    st_graph_init(&g, nodes, porep_id.data, !strcmp(api, "V1_0_0") ? ST_API_V1_0_0 : ST_API_V1_1_0);
    assert_string_equal(st_api_version_name(g.api), api);
    st_parent_cache pc;
    st_err err;
    if (st_parent_cache_open(&pc, &g, &err)) fail_msg("%s", err.msg);
    uint8_t replica_id[32];
    memset(replica_id, 9, 32);
    uint8_t *layers = calloc(11, nodes * 32);
    for (unsigned l = 1; l <= 11; l++) {
      uint8_t *cur = layers + (l - 1) * nodes * 32, *prev = l > 1 ? cur - nodes * 32 : NULL;
      if (st_sdr_label_layer(&pc, replica_id, l, prev, cur, &err)) fail_msg("%s", err.msg);
    }
    assert_string_equal(tu_tohex(layers + (11 * nodes - 1) * 32, 32),
                        json_string_value(json_object_get(e, "last_label")));
    /* the verifier's single label agrees with the layer's, for every node of layers 1 and 2 */
    for (unsigned l = 1; l <= 2; l++) check_labels(&g, replica_id, layers, l, nodes);
    free(layers);
    st_parent_cache_close(&pc);
    st_buf_free(&porep_id);
    st_buf_free(&want);
  }
  json_decref(v);
}

/* A layer large enough to be labelled on two threads (a gatherer ahead of the hasher) gives the
 * labels the verifier's single-label function gives: the first nodes (whose close base parents
 * the hasher fills in) all, then every 7th. */
static void test_label_layer_two_threads(void **state) {
  (void)state;
  const st_sector_info *info;
  st_err err;
  assert_int_equal(st_sector_lookup("8MiB", &info, &err), ST_OK);
  st_graph g;
  st_graph_init_sector(&g, info);
  st_parent_cache pc;
  if (st_parent_cache_open(&pc, &g, &err)) fail_msg("%s", err.msg);
  uint8_t replica_id[32];
  memset(replica_id, 7, 32);
  replica_id[31] = 0x1f;
  uint8_t *layers = calloc(2, g.nodes * 32);
  assert_non_null(layers);
  assert_int_equal(st_sdr_label_layer(&pc, replica_id, 1, NULL, layers, &err), ST_OK);
  assert_int_equal(st_sdr_label_layer(&pc, replica_id, 2, layers, layers + g.nodes * 32, &err), ST_OK);
  for (unsigned l = 1; l <= 2; l++) check_labels(&g, replica_id, layers, l, 20000);
  free(layers);
  st_parent_cache_close(&pc);
}

static void test_graph_shape(void **state) {
  (void)state;
  uint8_t porep_id[32] = {0};
  st_graph a, b;
  st_graph_init(&a, 1024, porep_id, ST_API_V1_0_0);
  st_graph_init(&b, 1024, porep_id, ST_API_V1_1_0);
  assert_int_equal(a.feistel_half_bits, 7); /* 4^7 >= 8192 > 4^6 */
  for (uint64_t v = 0; v < 1024; v++) {
    uint64_t pa[ST_DRG_DEGREE], pb[ST_DRG_DEGREE], e[ST_EXP_DEGREE];
    st_graph_drg_parents(&a, v, pa);
    st_graph_drg_parents(&b, v, pb);
    /* the same draws; V1_0_0 puts v-1 last, V1_1_0 first */
    assert_true(v <= 1 ? pa[5] == 0 && pb[0] == 0 : pa[5] == v - 1 && pb[0] == v - 1);
    assert_memory_equal(pa, pb + 1, 5 * sizeof pa[0]);
    for (int i = 0; i < ST_DRG_DEGREE; i++) assert_true(v == 0 ? pa[i] == 0 : pa[i] < v);
    st_graph_exp_parents(&b, v, e);
    for (int i = 0; i < ST_EXP_DEGREE; i++) assert_true(e[i] < 1024);
  }
  /* V1_1 names differ from V1's for the same porep id only by the version tag */
  char na[ST_PARENT_CACHE_NAME_MAX], nb[ST_PARENT_CACHE_NAME_MAX];
  st_parent_cache_name(&a, na);
  st_parent_cache_name(&b, nb);
  assert_int_equal(strlen(nb), strlen(na) + 7);
  assert_memory_equal(na, nb, strlen(na) - 6);
  assert_string_equal(nb + strlen(na) - 6, "-V1_1_0.cache");
}

static void test_replica_id_big_endian_sector(void **state) {
  (void)state;
  /* Filecoin hashes the sector number big-endian: sector 1 and sector 2^56 differ from what a
   * little-endian encoding would give, and SHA-256 of the layout by hand agrees. */
  uint8_t prover[32] = {1}, ticket[32] = {2}, comm_d[32] = {3}, porep[32] = {5}, got[32], buf[136], want[32];
  st_replica_id(prover, 0x0102030405060708ULL, ticket, comm_d, porep, got);
  memcpy(buf, prover, 32);
  for (int i = 0; i < 8; i++) buf[32 + i] = (uint8_t)(i + 1);
  memcpy(buf + 40, ticket, 32);
  memcpy(buf + 72, comm_d, 32);
  memcpy(buf + 104, porep, 32);
  st_sha256(buf, sizeof buf, want);
  want[31] &= 0x3f;
  assert_memory_equal(got, want, 32);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chacha8_vectors),
      cmocka_unit_test(test_graph_shape),
      cmocka_unit_test(test_replica_id_big_endian_sector),
      cmocka_unit_test_setup_teardown(test_parent_cache_vectors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wrong_size_rebuilt, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_failure_leaves_empty, setup, teardown),
      cmocka_unit_test_setup_teardown(test_label_vectors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_label_layer_two_threads, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
