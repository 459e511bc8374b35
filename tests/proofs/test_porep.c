/* Tests for st_seal and st_porep: sealing leaves Filecoin's files, a PoRep proof verifies and
 * has the exact size of rust-fil-proofs' bincode layout (2 KiB and 8 MiB), each tampered input
 * (leaf, path node, root, comm_r, comm_d, seed, ticket, sector id, label, a labeling proof's
 * parent, an index field) fails naming the field, every truncation and malformed length fails
 * naming the field, and kill -9 mid-seal never leaves a file that looks complete but is not. */
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/st_endian.h"
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

/* A 2 KiB proof's layout (rust-fil-proofs' bincode; st_porep.h), written out here: tree_d is
 * binary over 64 nodes (6 levels), tree_c and tree_r_last are 8-ary over 64 (2 levels), 2
 * layers, 1 partition of 2 challenges. */
#define MD (4 + 32 + 32 + 8 + 6 * (8 + 32 + 8))     /* comm_d_proofs: 364 */
#define MC (4 + 32 + 32 + 8 + 2 * (8 + 7 * 32 + 8)) /* a tree_c or tree_r_last MerkleProof: 556 */
#define COL (4 + 8 + 2 * 32 + MC)                   /* a ColumnProof: 632 */
#define RCP (COL + 8 + 6 * COL + 8 + 8 * COL)       /* replica_column_proofs: 9,496 */
#define LAB (8 + 37 * 32 + 4 + 8)                   /* a labeling or encoding proof: 1,204 */
#define ONE (MD + MC + RCP + 8 + 2 * LAB + LAB)     /* one challenge's Proof: 14,036 */
#define P0 16                                       /* the first Proof: after the two lengths */
#define R0 (P0 + MD)                                /* its comm_r_last_proof */
#define CX (P0 + MD + MC)                           /* its c_x */
#define DRG(k) (CX + COL + 8 + (k)*COL)             /* its drg_parents[k] */
#define EXP(k) (CX + 7 * COL + 16 + (k)*COL)        /* its exp_parents[k] */
#define LP(i) (CX + RCP + 8 + (i)*LAB)              /* its labeling_proofs[i]; i = 2: encoding_proof */

static void test_sizes(void **state) {
  sealed *s = *state;
  assert_int_equal(ONE, 14036);
  assert_int_equal(s->proof.len, 8 + 8 + 2 * ONE);
  assert_int_equal(s->proof.len, 28088);
  assert_int_equal(st_porep_proof_len(s->info), 28088);
  /* the other sizes, from the same layout: 8 MiB (18 levels of tree_d, 6 of 8), 512 MiB (24, 8),
   * 32 GiB (30; 9 of 8 and a sub level of 8; 11 layers; 10 partitions of 18) */
  static const struct {
    const char *size;
    size_t len;
  } want[] = {{"8MiB", 59960}, {"512MiB", 75896}, {"32GiB", 11014648}};
  size_t md[] = {76 + 18 * 48, 76 + 24 * 48, 76 + 30 * 48};
  size_t mc[] = {76 + 6 * 240, 76 + 8 * 240, 76 + 9 * 240 + 8 + 240};
  unsigned layers[] = {2, 2, 11}, parts[] = {1, 1, 10}, chal[] = {2, 2, 18};
  for (size_t k = 0; k < 3; k++) {
    const st_sector_info *info;
    assert_int_equal(st_sector_lookup(want[k].size, &info, NULL), ST_OK);
    size_t col = 4 + 8 + layers[k] * 32 + mc[k];
    size_t one = md[k] + mc[k] + col + 8 + 6 * col + 8 + 8 * col + 8 + (layers[k] + 1) * LAB;
    assert_int_equal(8 + parts[k] * (8 + chal[k] * one), want[k].len);
    assert_int_equal(st_porep_proof_len(info), want[k].len);
  }
}

/* Verifies a copy of the proof changed by edit and expects code and needle. */
typedef void (*edit_fn)(uint8_t *p, size_t off, uint64_t v);
static void expect_edit_fails(sealed *s, edit_fn edit, size_t off, uint64_t v, st_code code, const char *needle) {
  st_buf copy = ST_BUF_INIT;
  st_buf_append(&copy, s->proof.data, s->proof.len);
  edit(copy.data, off, v);
  st_err err;
  st_code got = st_porep_verify(&s->pub, copy.data, copy.len, &err);
  if (got != code) fail_msg("edit at %zu: code %d, want %d: %s", off, got, code, got ? err.msg : "accepted");
  tu_assert_err_contains(&err, needle);
  st_buf_free(&copy);
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void flip(uint8_t *p, size_t off, uint64_t v) { p[off] ^= (uint8_t)(v ? v : 1); }
static void set_u64(uint8_t *p, size_t off, uint64_t v) { st_le64_put(p + off, v); }
static void set_u32(uint8_t *p, size_t off, uint64_t v) { st_le32_put(p + off, (uint32_t)v); }
static void set_byte(uint8_t *p, size_t off, uint64_t v) { p[off] = (uint8_t)v; }

/* Flips one bit at offset off of a copy of the proof and expects verification to fail. */
static void expect_tamper_fails(sealed *s, size_t off, const char *needle) {
  expect_edit_fails(s, flip, off, 1, ST_ECRYPTO, needle);
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
  /* the first comm_r_last_proof's root (Single: right after its variant) */
  assert_int_equal(find(s, s->out.comm_r_last, 32), R0 + 4);
  expect_tamper_fails(s, R0 + 4, "byte 384: partition 0 challenge 0 (node ");
  expect_tamper_fails(s, R0 + 4,
                      "comm_r_last_proof.root: comm_c (replica_column_proofs.c_x.inclusion_proof.root) "
                      "and comm_r_last do not hash to comm_r");
  /* comm_c, the first c_x's root, likewise; a later root differs from the first */
  assert_memory_equal(s->proof.data + CX + 76 + 4, s->out.comm_c, 32);
  expect_tamper_fails(s, CX + 76 + 4, "do not hash to comm_r");
  expect_tamper_fails(s, DRG(2) + 76 + 4, "replica_column_proofs.drg_parents[2].inclusion_proof.root: not comm_c");
  expect_tamper_fails(s, P0 + ONE + MD + 4, "challenge 1 (node ");
  expect_tamper_fails(s, P0 + ONE + MD + 4, "comm_r_last_proof.root: not comm_r_last");
}

static void test_tamper_data_leaf(void **state) {
  sealed *s = *state;
  expect_tamper_fails(s, P0 + 36, "byte 16: partition 0 challenge 0 (node ");
  expect_tamper_fails(s, P0 + 36, "comm_d_proofs: the path does not hash to its root");
  expect_tamper_fails(s, P0 + 4, "comm_d_proofs.root: not comm_d");
}

static void test_tamper_tree_d_path_node(void **state) {
  sealed *s = *state;
  for (size_t level = 0; level < 6; level++) /* each level's sibling */
    expect_tamper_fails(s, P0 + 76 + level * 48 + 8 + 5, "comm_d_proofs: the path does not hash to its root");
}

static void test_tamper_tree_r_path_node(void **state) {
  sealed *s = *state;
  expect_tamper_fails(s, R0 + 76 + 8 + 100, "comm_r_last_proof: the path does not hash to its root");
  expect_tamper_fails(s, R0 + 76 + 240 + 8 + 7, "comm_r_last_proof: the path does not hash to its root");
  expect_tamper_fails(s, R0 + 36, "comm_r_last_proof: the path does not hash to its root");
  expect_tamper_fails(s, EXP(3) + 76 + 76 + 8, "exp_parents[3].inclusion_proof: the path does not hash to its root");
}

static void test_tamper_label(void **state) {
  sealed *s = *state;
  /* a label in a column: its hash is no longer the path's leaf */
  expect_tamper_fails(s, CX + 12 + 5,
                      "replica_column_proofs.c_x.inclusion_proof.leaf: not the hash of the column's rows");
  expect_tamper_fails(s, DRG(0) + 12 + 32, "drg_parents[0].inclusion_proof.leaf: not the hash of the column's rows");
  expect_tamper_fails(s, EXP(7) + 12, "exp_parents[7].inclusion_proof.leaf: not the hash of the column's rows");
  /* the column's leaf changed with it: the path fails */
  expect_tamper_fails(s, CX + 76 + 36, "c_x.inclusion_proof.leaf: not the hash");
}

/* A labeling or encoding proof whose parents disagree with the columns, or whose index fields
 * are not the layer and the challenge. */
static void test_tamper_labeling(void **state) {
  sealed *s = *state;
  /* layer 1: parent 7 is drg_parents[1]'s layer-1 label (the 6 repeated) */
  expect_tamper_fails(s, LP(0) + 8 + 7 * 32, "labeling_proofs[0].parents[7]: not drg_parents[1]'s row 0");
  /* layer 2: parent 20 is exp_parents[0]'s layer-1 label, parent 3 drg_parents[3]'s layer-2 */
  expect_tamper_fails(s, LP(1) + 8 + 20 * 32 + 3, "labeling_proofs[1].parents[20]: not exp_parents[0]'s row 0");
  expect_tamper_fails(s, LP(1) + 8 + 3 * 32, "labeling_proofs[1].parents[3]: not drg_parents[3]'s row 1");
  expect_tamper_fails(s, LP(1) + 8 + 36 * 32, "labeling_proofs[1].parents[36]: not exp_parents[2]'s row 0");
  expect_tamper_fails(s, LP(2) + 8 + 13 * 32, "encoding_proof.parents[13]: not exp_parents[7]'s row 0");
  /* every parent of a layer-2 proof is one of the columns' rows */
  st_buf copy = ST_BUF_INIT;
  for (unsigned k = 0; k < 37; k++) {
    st_buf_free(&copy);
    st_buf_append(&copy, s->proof.data, s->proof.len);
    copy.data[LP(1) + 8 + k * 32 + 1] ^= 0x10;
    st_err err;
    assert_int_equal(st_porep_verify(&s->pub, copy.data, copy.len, &err), ST_ECRYPTO);
    char want[64];
    snprintf(want, sizeof want, "labeling_proofs[1].parents[%u]: not ", k);
    tu_assert_err_contains(&err, want);
  }
  st_buf_free(&copy);
  /* index fields */
  expect_edit_fails(s, set_u32, LP(0) + 8 + 37 * 32, 2, ST_ECRYPTO, "labeling_proofs[0].layer_index: 2, want 1");
  expect_edit_fails(s, set_u32, LP(2) + 8 + 37 * 32, 1, ST_ECRYPTO, "encoding_proof.layer_index: 1, want 2");
  expect_edit_fails(s, set_u64, LP(1) + 8 + 37 * 32 + 4, 5, ST_ECRYPTO, "labeling_proofs[1].node: 5, want ");
}

/* Index fields that name another node than the challenge or the column's parent. */
static void test_wrong_index(void **state) {
  sealed *s = *state;
  uint32_t c = (uint32_t)st_le64_get(s->proof.data + LP(0) + 8 + 37 * 32 + 4);
  assert_int_equal(le32(s->proof.data + CX), c);
  char want[96];
  snprintf(want, sizeof want,
           "byte %d: partition 0 challenge 0 (node %u): replica_column_proofs.c_x.column.index: %u, "
           "want %u",
           CX, c, c + 1, c);
  expect_edit_fails(s, set_u32, CX, c + 1, ST_ECRYPTO, want);
  uint32_t parent = le32(s->proof.data + EXP(4));
  snprintf(want, sizeof want, "exp_parents[4].column.index: %u, want %u", parent ^ 1, parent);
  expect_edit_fails(s, set_u32, EXP(4), parent ^ 1, ST_ECRYPTO, want);
  /* the path's index fields: the first level's index turned, in tree_d, tree_r_last and tree_c */
  uint64_t i0 = st_le64_get(s->proof.data + P0 + 76 + 40);
  snprintf(want, sizeof want, "comm_d_proofs: the path's index fields name node %u, want %u", c ^ 1, c);
  expect_edit_fails(s, set_u64, P0 + 76 + 40, i0 ^ 1, ST_ECRYPTO, want);
  uint64_t r0 = st_le64_get(s->proof.data + R0 + 76 + 232);
  assert_int_equal(r0, c % 8);
  expect_edit_fails(s, set_u64, R0 + 76 + 232, (r0 + 1) % 8, ST_ECRYPTO,
                    "comm_r_last_proof: the path's index fields name");
  expect_edit_fails(s, set_u64, DRG(5) + 76 + 76 + 240 + 232, 7, ST_ECRYPTO,
                    "drg_parents[5].inclusion_proof: the path's index fields name");
  /* an index at or above the arity is malformed */
  expect_edit_fails(s, set_u64, P0 + 76 + 48 + 40, 2, ST_EINVAL,
                    "comm_d_proofs.path[1].index: 2, want below the arity 2");
  expect_edit_fails(s, set_u64, CX + 76 + 76 + 232, 8, ST_EINVAL,
                    "c_x.inclusion_proof.path[0].index: 8, want below the arity 8");
}

/* Lengths, variants and values that the layout fixes. */
static void test_malformed(void **state) {
  sealed *s = *state;
  expect_edit_fails(s, set_u64, 0, 2, ST_EINVAL, "byte 0: partitions length: 2, want 1 partition");
  expect_edit_fails(s, set_u64, 8, 3, ST_EINVAL, "byte 8: partition 0: challenges length: 3, want 2 challenges");
  expect_edit_fails(s, set_u32, P0, 1, ST_EINVAL,
                    "comm_d_proofs.variant: 1 (Sub), want 0 (Single) for tree_d (binary)");
  expect_edit_fails(s, set_u32, R0, 2, ST_EINVAL,
                    "comm_r_last_proof.variant: 2 (Top), want 0 (Single) for a 2KiB sector");
  expect_edit_fails(s, set_u32, R0, 3, ST_EINVAL, "variant: 3 is none of 0 (Single), 1 (Sub), 2 (Top)");
  expect_edit_fails(s, set_u64, P0 + 68, 5, ST_EINVAL, "comm_d_proofs.path.length: 5, want 6 levels");
  expect_edit_fails(s, set_u64, P0 + 76, 2, ST_EINVAL, "comm_d_proofs.path[0].hashes length: 2, want 1 sibling");
  expect_edit_fails(s, set_u64, CX + 4, 3, ST_EINVAL, "replica_column_proofs.c_x.column.rows length: 3, want 2 layers");
  expect_edit_fails(s, set_u64, CX + COL, 5, ST_EINVAL,
                    "replica_column_proofs.drg_parents length: 5, want 6 DRG parents");
  expect_edit_fails(s, set_u64, CX + 7 * COL + 8, 9, ST_EINVAL,
                    "replica_column_proofs.exp_parents length: 9, want 8 expander parents");
  expect_edit_fails(s, set_u64, CX + RCP, 3, ST_EINVAL, "labeling_proofs length: 3, want 2 layers");
  expect_edit_fails(s, set_u64, LP(1), 36, ST_EINVAL, "labeling_proofs[1].parents length: 36, want 37 parents");
  expect_edit_fails(s, set_u64, LP(2), 14, ST_EINVAL, "encoding_proof.parents length: 14, want 37 parents");
  /* 32-byte values that are not field elements: tree_d's (SHA-256 trunc254) too */
  expect_edit_fails(s, set_byte, P0 + 36 + 31, 0xff, ST_EINVAL, "comm_d_proofs.leaf: not a field element");
  expect_edit_fails(s, set_byte, P0 + 76 + 8 + 31, 0x80, ST_EINVAL,
                    "comm_d_proofs.path[0].hashes[0]: not a field element");
  expect_edit_fails(s, set_byte, CX + 12 + 63, 0xff, ST_EINVAL, "c_x.column.rows[1]: not a field element");
  expect_edit_fails(s, set_byte, LP(0) + 8 + 31, 0xff, ST_EINVAL, "labeling_proofs[0].parents[0]: not a field element");
  expect_edit_fails(s, set_byte, P0 + ONE + MD + 36 + 31, 0xff, ST_EINVAL, "partition 0 challenge 1 (node ");
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
  expect_public_fails(s, &pub, "porep proof: byte 20: partition 0 challenge 0 (node ");
  expect_public_fails(s, &pub, "comm_d_proofs.root: not comm_d");
}

static void test_wrong_seed(void **state) {
  sealed *s = *state;
  st_porep_public pub = s->pub;
  pub.seed[0] ^= 1;
  expect_public_fails(s, &pub, "comm_d_proofs: the path's index fields name node ");
  pub = s->pub;
  pub.seed[31] ^= 0x80; /* the top bits count: the seed is hashed as it is */
  expect_public_fails(s, &pub, "comm_d_proofs: the path's index fields name node ");
}

static void test_wrong_ticket(void **state) {
  sealed *s = *state;
  st_porep_public pub = s->pub;
  pub.ticket[5] ^= 1;
  expect_public_fails(s, &pub, "comm_d_proofs: the path's index fields name node ");
}

static void test_wrong_sector(void **state) {
  sealed *s = *state;
  st_porep_public pub = s->pub;
  pub.sector = 8;
  expect_public_fails(s, &pub, "comm_d_proofs: the path's index fields name node ");
  pub.sector = 7;
  pub.miner = 1001;
  expect_public_fails(s, &pub, "comm_d_proofs: the path's index fields name node ");
}

/* Every truncation is refused naming the field it cuts; a byte more is refused too. */
static void test_truncated_and_trailing(void **state) {
  sealed *s = *state;
  st_err err;
  for (size_t len = 0; len < s->proof.len; len++) {
    st_code rc = st_porep_verify(&s->pub, s->proof.data, len, &err);
    if (rc != ST_EINVAL || !strstr(err.msg, "porep proof: byte ") || !strstr(err.msg, ": the proof ends after "))
      fail_msg("cut at %zu: %d %s", len, rc, rc ? err.msg : "accepted");
  }
  static const struct {
    size_t cut;
    const char *field;
  } named[] = {
      {0, "porep proof: byte 0: partitions length: the proof ends after 0 of its 8 bytes"},
      {10, "porep proof: byte 8: partition 0: challenges length: the proof ends after 2 of its 8 bytes"},
      {P0 + 2, "byte 16: partition 0 challenge 0 (node "},
      {P0 + 2, "): comm_d_proofs.variant: the proof ends after 2 of its 4 bytes"},
      {P0 + 76 + 48 + 9, "comm_d_proofs.path[1].hashes[0]: the proof ends after 1 of its 32 bytes"},
      {R0 + 76 + 240 + 232, "comm_r_last_proof.path[1].index: the proof ends after 0 of its 8 bytes"},
      {CX + 2, "replica_column_proofs.c_x.column.index: the proof ends after 2 of its 4 bytes"},
      {CX + 12 + 40, "replica_column_proofs.c_x.column.rows[1]: the proof ends after 8 of its 32 bytes"},
      {CX + COL + 3, "replica_column_proofs.drg_parents length: the proof ends after 3 of its 8 bytes"},
      {DRG(4) + 76 + 76 + 100, "drg_parents[4].inclusion_proof.path[0].hashes[2]: the proof ends after 28 of its 32"},
      {EXP(7) + 76 + 36 + 6, "exp_parents[7].inclusion_proof.leaf: the proof ends after 6 of its 32 bytes"},
      {CX + RCP + 1, "): labeling_proofs length: the proof ends after 1 of its 8 bytes"},
      {LP(1) + 8 + 5 * 32, "labeling_proofs[1].parents[5]: the proof ends after 0 of its 32 bytes"},
      {LP(0) + 8 + 37 * 32 + 3, "labeling_proofs[0].layer_index: the proof ends after 3 of its 4 bytes"},
      {LP(2) + LAB - 1, "partition 0 challenge 0 (node "},
      {LP(2) + LAB - 1, "encoding_proof.node: the proof ends after 7 of its 8 bytes"},
      {P0 + ONE + 1, "partition 0 challenge 1 (node "},
      {P0 + ONE + ONE - 1, "encoding_proof.node: the proof ends after 7 of its 8 bytes"},
  };
  for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
    assert_int_equal(st_porep_verify(&s->pub, s->proof.data, named[i].cut, &err), ST_EINVAL);
    tu_assert_err_contains(&err, named[i].field);
  }
  st_buf copy = ST_BUF_INIT;
  st_buf_append(&copy, s->proof.data, s->proof.len);
  st_buf_putc(&copy, 0);
  assert_int_equal(st_porep_verify(&s->pub, copy.data, copy.len, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "porep proof: byte 28088: end: 1 byte after the proof");
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
  /* the layout's size: 28,088 bytes at 2 KiB (test_sizes), 59,960 at 8 MiB */
  assert_int_equal(s.proof.len, !strcmp(size, "8MiB") ? 59960 : 28088);
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
      cmocka_unit_test(test_sizes),
      cmocka_unit_test(test_tamper_comm_r_last),
      cmocka_unit_test(test_tamper_data_leaf),
      cmocka_unit_test(test_tamper_tree_d_path_node),
      cmocka_unit_test(test_tamper_tree_r_path_node),
      cmocka_unit_test(test_tamper_label),
      cmocka_unit_test(test_tamper_labeling),
      cmocka_unit_test(test_wrong_index),
      cmocka_unit_test(test_malformed),
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
