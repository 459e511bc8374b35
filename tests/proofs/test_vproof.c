/* Tests for st_vproof: the bincode FallbackPoStSectorProof of every sector size (Single, Sub at
 * 32 GiB, Top at 64 GiB) built from synthetic paths, its exact sizes, the round trip, every
 * truncation and corrupted lengths, variants and indexes refused naming the field; Curio's real
 * 32 GiB proof (tests/proofs/data) decoded, re-encoded byte for byte, its challenges and, with
 * Poseidon as the sealing hasher, its full check; WindowPoStVerifyInfo JSON; and a 2 KiB sector
 * proven by st_post, checked through the JSON and through `spacetime util post verify-vanilla`. */
#include "testutil.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codec/st_cid.h"
#include "core/st_encoding.h"
#include "core/st_endian.h"
#include "core/st_fs.h"
#include "proofs/st_fr.h"
#include "proofs/st_hasher.h"
#include "proofs/st_merkle.h"
#include "proofs/st_post.h"
#include "proofs/st_seal.h"
#include "proofs/st_vproof.h"

#define DATA ST_SOURCE_DIR "/tests/proofs/data/"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}
static void random_fr(uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)next();
  for (size_t i = 31; i < n; i += 32) p[i] &= 0x3f;
}

/* A synthetic proof of a sector of info's size with count challenges: random leaves, siblings
 * and commitments, leaf indexes spread over the sector (the first 0, the last nodes - 1). */
typedef struct synth {
  uint64_t sector_id;
  uint8_t comm_r[32], comm_c[32], root[32];
  size_t count;
  uint64_t index[66];
  uint8_t leaf[66][32];
  uint8_t *siblings; /* count x path_len */
} synth;

static void make_synth(const st_sector_info *info, size_t count, synth *s, st_buf *out) {
  st_tree_shape shape;
  st_tree_shape_r_last(&shape, info);
  size_t path_len = st_tree_path_len(&shape);
  s->sector_id = next();
  s->count = count;
  random_fr(s->comm_r, 32);
  random_fr(s->comm_c, 32);
  random_fr(s->root, 32);
  s->siblings = malloc(count * path_len);
  random_fr(s->siblings, count * path_len);
  st_buf_init(out);
  st_vproof_put_head(out, s->sector_id, s->comm_r, count);
  for (size_t i = 0; i < count; i++) {
    s->index[i] = i == 0 ? 0 : i == count - 1 ? st_sector_nodes(info) - 1 : next() % st_sector_nodes(info);
    random_fr(s->leaf[i], 32);
    st_vproof_put_inclusion(out, info, s->index[i], s->leaf[i], s->siblings + i * path_len, s->root);
  }
  st_vproof_put_tail(out, s->comm_c, s->root);
}

static void test_sizes(void **state) {
  (void)state;
  static const struct {
    const char *size;
    unsigned variant;
    size_t window, winning;
  } want[] = {
      {"2KiB", ST_VPROOF_SINGLE, 5680, 36816},     {"8MiB", ST_VPROOF_SINGLE, 15280, 100176},
      {"512MiB", ST_VPROOF_SINGLE, 20080, 131856}, {"32GiB", ST_VPROOF_SUB, 24960, 164064},
      {"64GiB", ST_VPROOF_TOP, 25520, 167760},
  };
  for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
    const st_sector_info *info;
    assert_int_equal(st_sector_lookup(want[k].size, &info, NULL), ST_OK);
    assert_int_equal(st_vproof_variant(info), want[k].variant);
    assert_int_equal(st_vproof_sector_len(info, ST_WINDOW_CHALLENGES), want[k].window);
    assert_int_equal(st_vproof_sector_len(info, ST_WINNING_CHALLENGES), want[k].winning);
    /* what the encoder writes has that size */
    synth s;
    st_buf b;
    make_synth(info, ST_WINDOW_CHALLENGES, &s, &b);
    assert_int_equal(b.len, want[k].window);
    free(s.siblings);
    st_buf_free(&b);
  }
}

/* Encode, decode, compare every field, re-encode to the same bytes; for each size. */
static void test_round_trip(void **state) {
  (void)state;
  size_t n;
  const st_sector_info *table = st_sector_table(&n);
  for (size_t k = 0; k < n; k++) {
    const st_sector_info *info = &table[k];
    for (size_t count = 1; count <= ST_WINNING_CHALLENGES; count += ST_WINNING_CHALLENGES - 1) {
      synth s;
      st_buf b, again = ST_BUF_INIT;
      make_synth(info, count, &s, &b);
      st_vproof_sector d;
      st_err err;
      if (st_vproof_decode(info, count, b.data, b.len, 0, &d, &err)) fail_msg("%s: %s", info->name, err.msg);
      assert_int_equal(d.sector_id, s.sector_id);
      assert_memory_equal(d.comm_r, s.comm_r, 32);
      assert_memory_equal(d.comm_c, s.comm_c, 32);
      assert_memory_equal(d.comm_r_last, s.root, 32);
      assert_int_equal(d.count, count);
      st_tree_shape shape;
      st_tree_shape_r_last(&shape, info);
      size_t path_len = st_tree_path_len(&shape);
      st_vproof_put_head(&again, d.sector_id, d.comm_r, d.count);
      for (size_t i = 0; i < count; i++) {
        assert_int_equal(d.proofs[i].index, s.index[i]);
        assert_memory_equal(d.proofs[i].leaf, s.leaf[i], 32);
        assert_memory_equal(d.proofs[i].root, s.root, 32);
        assert_memory_equal(d.proofs[i].siblings, s.siblings + i * path_len, path_len);
        st_vproof_put_inclusion(&again, info, d.proofs[i].index, d.proofs[i].leaf, d.proofs[i].siblings,
                                d.proofs[i].root);
      }
      st_vproof_put_tail(&again, d.comm_c, d.comm_r_last);
      assert_int_equal(again.len, b.len);
      assert_memory_equal(again.data, b.data, b.len);
      st_vproof_sector_free(&d);
      st_buf_free(&again);
      st_buf_free(&b);
      free(s.siblings);
    }
  }
}

static void expect_decode_fails(const st_sector_info *info, size_t count, const uint8_t *p, size_t len,
                                const char *needle) {
  st_vproof_sector d;
  st_err err;
  tu_poison(&d, sizeof d);
  assert_int_not_equal(st_vproof_decode(info, count, p, len, 100, &d, &err), ST_OK);
  tu_assert_zeroed(&d, sizeof d);
  tu_assert_err_contains(&err, needle);
}

/* Every truncation of a proof of each shape is refused, naming the field it cut. */
static void test_truncations(void **state) {
  (void)state;
  static const char *const sizes[] = {"2KiB", "32GiB", "64GiB"};
  for (size_t k = 0; k < 3; k++) {
    const st_sector_info *info;
    assert_int_equal(st_sector_lookup(sizes[k], &info, NULL), ST_OK);
    synth s;
    st_buf b;
    make_synth(info, 2, &s, &b);
    for (size_t len = 0; len < b.len; len++) {
      st_vproof_sector d;
      st_err err;
      assert_int_equal(st_vproof_decode(info, 2, b.data, len, 0, &d, &err), ST_EINVAL);
      if (!strstr(err.msg, "the proof ends after") || !strstr(err.msg, "vanilla proof: byte "))
        fail_msg("%s cut at %zu: %s", info->name, len, err.msg);
    }
    /* the field is named: the tail, a path element of each kind, the head */
    static const struct {
      size_t cut;
      const char *field;
    } named[] = {{0, "byte 0: sector_id: the proof ends after 0 of its 8 bytes"},
                 {20, "byte 8: comm_r: the proof ends after 12 of its 32 bytes"},
                 {50, "byte 48: inclusion_proofs length: "}};
    for (size_t i = 0; i < 3; i++) {
      st_vproof_sector d;
      st_err err;
      assert_int_equal(st_vproof_decode(info, 2, b.data, named[i].cut, 0, &d, &err), ST_EINVAL);
      tu_assert_err_contains(&err, named[i].field);
    }
    expect_decode_fails(info, 2, b.data, b.len - 1, "comm_r_last: the proof ends after 31 of its 32 bytes");
    st_buf_putc(&b, 0);
    expect_decode_fails(info, 2, b.data, b.len, "end: 1 byte after the sector's proof");
    st_buf_free(&b);
    free(s.siblings);
  }
}

/* Sets the u64 at off of a copy of b, decodes it and expects needle. */
static void corrupt_u64(const st_sector_info *info, const st_buf *b, size_t off, uint64_t v, const char *needle) {
  st_buf c = ST_BUF_INIT;
  st_buf_append(&c, b->data, b->len);
  st_le64_put(c.data + off, v);
  expect_decode_fails(info, 2, c.data, c.len, needle);
  st_buf_free(&c);
}

static void corrupt_byte(const st_sector_info *info, const st_buf *b, size_t off, uint8_t v, const char *needle) {
  st_buf c = ST_BUF_INIT;
  st_buf_append(&c, b->data, b->len);
  c.data[off] = v;
  expect_decode_fails(info, 2, c.data, c.len, needle);
  st_buf_free(&c);
}

/* Lengths, variants and indexes the shape does not allow; offsets from the layout in st_vproof.h
 * (the messages count from base 100, as expect_decode_fails passes). */
static void test_corrupt_fields(void **state) {
  (void)state;
  const st_sector_info *k2, *g32, *g64;
  assert_int_equal(st_sector_lookup("2KiB", &k2, NULL), ST_OK);
  assert_int_equal(st_sector_lookup("32GiB", &g32, NULL), ST_OK);
  assert_int_equal(st_sector_lookup("64GiB", &g64, NULL), ST_OK);
  synth s;
  st_buf b;
  /* 32 GiB: Sub. Inclusion proof 0 starts at 56: variant, base_proof (9 levels of 240 bytes),
   * sub_proof, root, leaf. */
  make_synth(g32, 2, &s, &b);
  corrupt_u64(g32, &b, 40, 2, "byte 140: vanilla_proof.sectors length: 2, want 1 sector proof");
  corrupt_u64(g32, &b, 48, 3, "byte 148: inclusion_proofs length: 3, want 2 (one per challenge)");
  corrupt_byte(g32, &b, 56, 2, "byte 156: inclusion_proofs[0].variant: 2 (Top), want 1 (Sub) for a 32GiB sector");
  corrupt_byte(g32, &b, 56, 0, "inclusion_proofs[0].variant: 0 (Single), want 1 (Sub)");
  corrupt_byte(g32, &b, 56, 7, "inclusion_proofs[0].variant: 7 is none of 0 (Single), 1 (Sub), 2 (Top)");
  corrupt_byte(g32, &b, 59, 1, "inclusion_proofs[0].variant: 16777217 is none of");
  corrupt_u64(g32, &b, 60, 8, "byte 160: inclusion_proofs[0].base_proof.length: 8, want 9 levels");
  corrupt_u64(g32, &b, 68, 8, "byte 168: inclusion_proofs[0].base_proof[0].hashes length: 8, want 7 siblings");
  corrupt_u64(g32, &b, 68 + 240, UINT64_MAX, "inclusion_proofs[0].base_proof[1].hashes length: 18446744073709551615");
  corrupt_u64(g32, &b, 76 + 224, 8, "byte 400: inclusion_proofs[0].base_proof[0].index: 8, want below the arity 8");
  corrupt_u64(g32, &b, 68 + 8 * 240 + 232, 1ULL << 40, "base_proof[8].index: 1099511627776, want below the arity 8");
  size_t sub = 68 + 9 * 240; /* sub_proof's length */
  corrupt_u64(g32, &b, sub, 2, "inclusion_proofs[0].sub_proof.length: 2, want 1 level");
  corrupt_u64(g32, &b, sub + 8, 1, "inclusion_proofs[0].sub_proof[0].hashes length: 1, want 7 siblings");
  corrupt_u64(g32, &b, sub + 16 + 224, 9, "inclusion_proofs[0].sub_proof[0].index: 9, want below the arity 8");
  corrupt_byte(g32, &b, sub + 16 + 3 * 32 + 31, 0x80,
               "inclusion_proofs[0].sub_proof[0].hashes[3]: not a field element");
  corrupt_byte(g32, &b, sub + 248 + 31, 0xff, "inclusion_proofs[0].root: not a field element");
  corrupt_byte(g32, &b, sub + 280 + 31, 0xff, "inclusion_proofs[0].leaf: not a field element");
  size_t incl1 = 56 + st_vproof_inclusion_len(g32);
  corrupt_byte(g32, &b, incl1, 0, "byte 2640: inclusion_proofs[1].variant: 0 (Single)");
  corrupt_byte(g32, &b, b.len - 64 + 31, 0x74, "comm_c: not a field element");
  corrupt_byte(g32, &b, 8 + 31, 0xc0, "byte 108: comm_r: not a field element");
  /* a proof for another challenge count */
  expect_decode_fails(g32, 10, b.data, b.len, "inclusion_proofs length: 2, want 10");
  /* a proof of another size */
  expect_decode_fails(g64, 2, b.data, b.len, "variant: 1 (Sub), want 2 (Top) for a 64GiB sector");
  expect_decode_fails(k2, 2, b.data, b.len, "variant: 1 (Sub), want 0 (Single) for a 2KiB sector");
  st_buf_free(&b);
  free(s.siblings);
  /* 64 GiB: Top, with a top_proof of one sibling (arity 2) after sub_proof. */
  make_synth(g64, 2, &s, &b);
  size_t top = sub + 8 + 240; /* top_proof's length */
  corrupt_u64(g64, &b, top, 0, "inclusion_proofs[0].top_proof.length: 0, want 1 level");
  corrupt_u64(g64, &b, top + 8, 7, "inclusion_proofs[0].top_proof[0].hashes length: 7, want 1 sibling");
  corrupt_u64(g64, &b, top + 16 + 32, 2, "inclusion_proofs[0].top_proof[0].index: 2, want below the arity 2");
  st_buf_free(&b);
  free(s.siblings);
  /* 2 KiB: Single: root and leaf before the path, named "path". */
  make_synth(k2, 2, &s, &b);
  corrupt_u64(k2, &b, 60 + 64, 3, "inclusion_proofs[0].path.length: 3, want 2 levels");
  corrupt_u64(k2, &b, 60 + 64 + 8 + 8 + 224, 8, "inclusion_proofs[0].path[0].index: 8, want below the arity 8");
  corrupt_byte(k2, &b, 60 + 31, 0xff, "inclusion_proofs[0].root: not a field element");
  st_buf_free(&b);
  free(s.siblings);
}

/* The index fields give the leaf as rust-fil-proofs' path_index does, for each shape. */
static void test_leaf_index(void **state) {
  (void)state;
  static const char *const sizes[] = {"2KiB", "32GiB", "64GiB"};
  for (size_t k = 0; k < 3; k++) {
    const st_sector_info *info;
    assert_int_equal(st_sector_lookup(sizes[k], &info, NULL), ST_OK);
    st_tree_shape shape;
    st_tree_shape_r_last(&shape, info);
    uint64_t nodes = st_sector_nodes(info);
    uint64_t leaves[] = {0, 1, 7, 8, 63, nodes / 2, nodes / 2 + 9, nodes - 1, shape.sub_leaves - 1, shape.sub_leaves};
    for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
      if (leaves[i] >= nodes) continue;
      uint8_t leaf[32] = {0}, root[32] = {0}, sib[ST_TREE_MAX_PATH] = {0};
      st_buf b = ST_BUF_INIT;
      st_vproof_put_head(&b, 1, root, 1);
      st_vproof_put_inclusion(&b, info, leaves[i], leaf, sib, root);
      st_vproof_put_tail(&b, root, root);
      st_vproof_sector d;
      assert_int_equal(st_vproof_decode(info, 1, b.data, b.len, 0, &d, NULL), ST_OK);
      assert_int_equal(d.proofs[0].index, leaves[i]);
      /* the first level's index field is the leaf's position among its 8 */
      size_t first = 56 + 4 + (st_vproof_variant(info) == ST_VPROOF_SINGLE ? 64 : 0) + 8 + 8 + 224;
      assert_int_equal(st_le64_get(b.data + first), leaves[i] % 8);
      st_vproof_sector_free(&d);
      st_buf_free(&b);
    }
  }
}

static void read_file(const char *path, st_buf *b) {
  st_err err;
  st_buf_init(b);
  if (st_fs_read_file(path, 1 << 20, b, &err)) fail_msg("%s", err.msg);
}

static bool poseidon(void) { return !strcmp(st_hasher_sealing()->name, "poseidon"); }

/* Curio's real 32 GiB WindowPoSt vanilla proof (lib/proof/testgolden, README.md here). */
static void test_curio_fixture(void **state) {
  (void)state;
  st_buf proof, pub;
  read_file(DATA "curio-post-32gib.vproof", &proof);
  read_file(DATA "curio-post-32gib-public.json", &pub);
  st_vproof_window_info vi;
  st_err err;
  if (st_vproof_window_info_parse(st_buf_cstr(&pub), pub.len, &vi, &err)) fail_msg("%s", err.msg);
  assert_int_equal(vi.nsectors, 1);
  assert_int_equal(vi.prover, 1000);
  assert_int_equal(vi.sectors[0].seal_proof, 8);
  assert_string_equal(vi.sectors[0].info->name, "32GiB");
  assert_int_equal(vi.sectors[0].number, 1);
  uint8_t zero[32] = {0};
  assert_memory_equal(vi.randomness, zero, 32);
  /* 24,960 bytes: one Sub-shaped sector proof of 10 challenges */
  assert_int_equal(proof.len, 24960);
  st_vproof_sector d;
  if (st_vproof_decode(vi.sectors[0].info, ST_WINDOW_CHALLENGES, proof.data, proof.len, 0, &d, &err))
    fail_msg("%s", err.msg);
  assert_int_equal(d.sector_id, 1);
  assert_memory_equal(d.comm_r, vi.sectors[0].comm_r, 32);
  /* its leaves are our challenges (V1_2: index n) */
  for (unsigned n = 0; n < ST_WINDOW_CHALLENGES; n++)
    assert_int_equal(d.proofs[n].index,
                     st_post_leaf_challenge(vi.randomness, 1, n, st_sector_nodes(vi.sectors[0].info)));
  /* our encoder writes the same bytes */
  st_buf again = ST_BUF_INIT;
  st_vproof_put_head(&again, d.sector_id, d.comm_r, d.count);
  for (size_t i = 0; i < d.count; i++)
    st_vproof_put_inclusion(&again, vi.sectors[0].info, d.proofs[i].index, d.proofs[i].leaf, d.proofs[i].siblings,
                            d.proofs[i].root);
  st_vproof_put_tail(&again, d.comm_c, d.comm_r_last);
  assert_int_equal(again.len, proof.len);
  assert_memory_equal(again.data, proof.data, proof.len);
  st_buf_free(&again);
  st_vproof_sector_free(&d);
  if (!poseidon()) {
    print_message("SKIP the full check of Curio's proof: the sealing hasher is \"%s\", not \"poseidon\"\n",
                  st_hasher_sealing()->name);
  } else {
    if (st_window_post_verify_info(&vi, proof.data, proof.len, &err)) fail_msg("%s", err.msg);
    /* a leaf changed, a sibling changed */
    proof.data[56 + 2484 * 3 + 2452 + 2] ^= 1;
    assert_int_equal(st_window_post_verify_info(&vi, proof.data, proof.len, &err), ST_ECRYPTO);
    tu_assert_err_contains(&err, "sector 1: challenge 3 (leaf 548708700): path does not lead to comm_r_last");
    proof.data[56 + 2484 * 3 + 2452 + 2] ^= 1;
    proof.data[56 + 2484 * 9 + 4 + 8 + 8 + 5] ^= 1;
    assert_int_equal(st_window_post_verify_info(&vi, proof.data, proof.len, &err), ST_ECRYPTO);
    tu_assert_err_contains(&err, "sector 1: challenge 9 (leaf 600088878): path does not lead to comm_r_last");
  }
  st_vproof_window_info_free(&vi);
  st_buf_free(&proof);
  st_buf_free(&pub);
}

static void expect_info_fails(const char *json, const char *needle) {
  st_vproof_window_info vi;
  st_err err;
  tu_poison(&vi, sizeof vi);
  if (st_vproof_window_info_parse(json, strlen(json), &vi, &err) == ST_OK) fail_msg("accepted %s", json);
  tu_assert_zeroed(&vi, sizeof vi);
  tu_assert_err_contains(&err, needle);
}

#define R32 "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\""
#define CID "{\"/\":\"bagboea4b5abcbx3jccdohrttzfneleehcpkmle4oltwuh4q3rcf5tpdodaoj6mtl\"}"
#define SECTOR(sp) "{\"SealProof\":" #sp ",\"SectorNumber\":7,\"SealedCID\":" CID "}"

static void test_window_info(void **state) {
  (void)state;
  st_vproof_window_info vi;
  st_err err;
  /* V1 and V1_1 (and the later) seal proof ids of one size; Proofs null or missing; byte 31
   * of the randomness masked */
  const char *ok =
      "{\"Randomness\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP8=\",\"Proofs\":null,"
      "\"ChallengedSectors\":[" SECTOR(3) "," SECTOR(8) "," SECTOR(13) "," SECTOR(0) "],\"Prover\":5}";
  if (st_vproof_window_info_parse(ok, strlen(ok), &vi, &err)) fail_msg("%s", err.msg);
  assert_int_equal(vi.nsectors, 4);
  assert_string_equal(vi.sectors[0].info->name, "32GiB");
  assert_string_equal(vi.sectors[1].info->name, "32GiB");
  assert_string_equal(vi.sectors[2].info->name, "32GiB");
  assert_string_equal(vi.sectors[3].info->name, "2KiB");
  assert_int_equal(vi.sectors[3].number, 7);
  assert_int_equal(vi.randomness[31], 0x3f);
  assert_int_equal(vi.prover, 5);
  st_vproof_window_info_free(&vi);
  expect_info_fails("{", "WindowPoStVerifyInfo: line 1 column 1");
  expect_info_fails("[]", "want a JSON object");
  expect_info_fails("{\"Randomness\":" R32 ",\"Extra\":1}", "unknown key \"Extra\"");
  expect_info_fails("{\"Randomness\":" R32 ",\"Randomness\":" R32 "}", "duplicate");
  expect_info_fails("{\"Randomness\":\"AAAA\",\"ChallengedSectors\":[" SECTOR(8) "],\"Prover\":1}",
                    "Randomness: 3 bytes, want 32");
  expect_info_fails("{\"Randomness\":\"!!\",\"ChallengedSectors\":[" SECTOR(8) "],\"Prover\":1}", "Randomness");
  expect_info_fails("{\"Randomness\":" R32 ",\"ChallengedSectors\":[],\"Prover\":1}",
                    "ChallengedSectors: want an array of at least one sector");
  expect_info_fails("{\"Randomness\":" R32 ",\"ChallengedSectors\":[" SECTOR(8) "],\"Prover\":-1}",
                    "Prover: want a non-negative integer");
  expect_info_fails("{\"Randomness\":" R32 ",\"ChallengedSectors\":[" SECTOR(20) "],\"Prover\":1}",
                    "ChallengedSectors[0].SealProof: 20 is not a seal proof");
  expect_info_fails("{\"Randomness\":" R32 ",\"ChallengedSectors\":[" SECTOR(8) ",{\"SealProof\":8}],\"Prover\":1}",
                    "ChallengedSectors[1].SectorNumber: want a non-negative integer");
  expect_info_fails("{\"Randomness\":" R32
                    ",\"ChallengedSectors\":[{\"SealProof\":8,\"SectorNumber\":1,"
                    "\"SealedCID\":\"bagboea4b5abc\"}],\"Prover\":1}",
                    "ChallengedSectors[0].SealedCID: want {\"/\": ");
  /* an unsealed CID (comm_d) where the sealed one belongs */
  expect_info_fails("{\"Randomness\":" R32
                    ",\"ChallengedSectors\":[{\"SealProof\":8,\"SectorNumber\":1,"
                    "\"SealedCID\":{\"/\":\"baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq\"}}],"
                    "\"Prover\":1}",
                    "is not a fil-commitment-sealed (poseidon) CID");
  expect_info_fails("{\"Randomness\":" R32
                    ",\"ChallengedSectors\":[{\"SealProof\":8,\"SectorNumber\":1,"
                    "\"SealedCID\":" CID ",\"X\":0}],\"Prover\":1}",
                    "ChallengedSectors[0]: unknown key \"X\"");
}

/* ---- a 2 KiB sector proven by st_post, checked through the JSON and the CLI ---- */

/* The WindowPoStVerifyInfo JSON of one sector; randomness as given (byte 31 unmasked). */
static void write_public(const char *path, const uint8_t rand[32], uint64_t number, const uint8_t comm_r[32]) {
  st_cid c;
  char cid[ST_CID_STR_MAX];
  st_cid_of_commitment(comm_r, true, &c);
  st_cid_to_string(&c, cid);
  st_buf r = ST_BUF_INIT, j = ST_BUF_INIT;
  st_base64_append(&r, rand, 32, true);
  st_buf_printf(&j,
                "{\"Randomness\":\"%s\",\"Proofs\":[{\"PoStProof\":10,\"ProofBytes\":null}],\"ChallengedSectors\":"
                "[{\"SealProof\":5,\"SectorNumber\":%llu,\"SealedCID\":{\"/\":\"%s\"}}],\"Prover\":1000}",
                st_buf_cstr(&r), (unsigned long long)number, cid);
  assert_int_equal(st_fs_write_atomic(path, j.data, j.len, 0644, NULL), ST_OK);
  st_buf_free(&r);
  st_buf_free(&j);
}

/* The spacetime program beside this test's folder (build/tests/test_vproof, build/spacetime). */
static bool spacetime_path(char out[PATH_MAX]) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return false;
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  if (!slash) return false;
  *slash = '\0';
  snprintf(out, PATH_MAX, "%.*s/../spacetime", PATH_MAX - 16, self);
  return access(out, X_OK) == 0;
}

/* Runs `spacetime util post verify-vanilla`; returns its exit status, stdout and stderr. */
static int run_verb(const char *bin, const char *dir, const char *proof, const char *pub, char *out, size_t cap,
                    char *errout, size_t errcap) {
  char cmd[PATH_MAX * 4], errpath[PATH_MAX];
  snprintf(errpath, sizeof errpath, "%s/stderr", dir);
  snprintf(cmd, sizeof cmd, "'%s' util post verify-vanilla --proof '%s' --public '%s' 2>'%s'", bin, proof, pub,
           errpath);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t n = fread(out, 1, cap - 1, p);
  out[n] = '\0';
  int status = pclose(p);
  FILE *e = fopen(errpath, "r");
  n = e ? fread(errout, 1, errcap - 1, e) : 0;
  errout[n] = '\0';
  if (e) fclose(e);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_prover_to_verify_info(void **state) {
  (void)state;
  char dir[256];
  tu_tmpdir(dir);
  const st_sector_info *info;
  st_err err;
  assert_int_equal(st_sector_lookup("2KiB", &info, &err), ST_OK);
  st_seal_input in = {.info = info, .miner = 1000, .sector = 5, .root = dir};
  in.ticket[0] = 9;
  st_seal_output so;
  if (st_seal(&in, &so, &err)) fail_msg("%s", err.msg);
  st_sector_paths paths;
  assert_int_equal(st_sector_paths_make(dir, 1000, 5, &paths, &err), ST_OK);
  st_post_sector sec = {.number = 5, .sealed_path = paths.sealed, .cache_dir = paths.cache};
  memcpy(sec.comm_r, so.comm_r, 32);
  /* the chain's randomness as drawn; the prover gets it with byte 31 masked, as from Lotus */
  uint8_t drawn[32], rand[32];
  for (int i = 0; i < 32; i++) drawn[i] = (uint8_t)(0xf0 - 3 * i);
  memcpy(rand, drawn, 32);
  rand[31] &= 0x3f;
  st_post_result res;
  if (st_window_post_prove(info, rand, &sec, 1, NULL, &res, &err)) fail_msg("%s", err.msg);
  assert_int_equal(res.nskipped, 0);
  assert_int_equal(res.proof.len, 5680);
  char proof_path[300], pub_path[300];
  snprintf(proof_path, sizeof proof_path, "%s/proof.bin", dir);
  snprintf(pub_path, sizeof pub_path, "%s/public.json", dir);
  assert_int_equal(st_fs_write_atomic(proof_path, res.proof.data, res.proof.len, 0644, NULL), ST_OK);
  write_public(pub_path, drawn, 5, so.comm_r);
  st_buf pub;
  read_file(pub_path, &pub);
  st_vproof_window_info vi;
  if (st_vproof_window_info_parse(st_buf_cstr(&pub), pub.len, &vi, &err)) fail_msg("%s", err.msg);
  if (st_window_post_verify_info(&vi, res.proof.data, res.proof.len, &err)) fail_msg("%s", err.msg);
  /* the first challenge's leaf flipped */
  uint64_t leaf0 = st_post_leaf_challenge(rand, 5, 0, st_sector_nodes(info));
  char want[128];
  snprintf(want, sizeof want, "sector 5: challenge 0 (leaf %llu): path does not lead to comm_r_last",
           (unsigned long long)leaf0);
  st_buf bad = ST_BUF_INIT;
  st_buf_append(&bad, res.proof.data, res.proof.len);
  bad.data[56 + 4 + 32 + 1] ^= 1;
  assert_int_equal(st_window_post_verify_info(&vi, bad.data, bad.len, &err), ST_ECRYPTO);
  assert_string_equal(err.msg, want);
  char bad_path[300];
  snprintf(bad_path, sizeof bad_path, "%s/bad.bin", dir);
  assert_int_equal(st_fs_write_atomic(bad_path, bad.data, bad.len, 0644, NULL), ST_OK);
  /* two sectors expected, one given */
  st_vproof_public_sector two[2] = {vi.sectors[0], vi.sectors[0]};
  st_vproof_window_info vi2 = vi;
  vi2.sectors = two;
  vi2.nsectors = 2;
  assert_int_equal(st_window_post_verify_info(&vi2, res.proof.data, res.proof.len, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "sector 5: vanilla proof: byte 5680: sector_id: the proof ends after 0 of its 8 bytes");
  /* the program, where the build put it */
  char bin[PATH_MAX], out[256], errout[1024];
  if (!spacetime_path(bin)) {
    print_message("SKIP running spacetime util post verify-vanilla: no spacetime program beside the tests\n");
  } else {
    assert_int_equal(run_verb(bin, dir, proof_path, pub_path, out, sizeof out, errout, sizeof errout), 0);
    assert_string_equal(out, "valid\n");
    assert_int_equal(run_verb(bin, dir, bad_path, pub_path, out, sizeof out, errout, sizeof errout), 1);
    assert_string_equal(out, "");
    char line[256];
    snprintf(line, sizeof line, "ERROR: %s\n", want);
    assert_string_equal(errout, line);
  }
  st_vproof_window_info_free(&vi);
  st_buf_free(&pub);
  st_buf_free(&bad);
  st_post_result_free(&res);
  tu_rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sizes),       cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_truncations), cmocka_unit_test(test_corrupt_fields),
      cmocka_unit_test(test_leaf_index),  cmocka_unit_test(test_curio_fixture),
      cmocka_unit_test(test_window_info), cmocka_unit_test(test_prover_to_verify_info),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
