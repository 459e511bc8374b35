/* st_porep: PoRep challenge derivation, proving from the sealing cache into rust-fil-proofs'
 * bincode, and the strict verifier. */
#include "proofs/st_porep.h"

#include <errno.h>
#include <fcntl.h>
#include <gmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/st_endian.h"
#include "core/st_fs.h"
#include "crypto/st_hash.h"
#include "proofs/st_fr.h"
#include "proofs/st_graph.h"
#include "proofs/st_hasher.h"
#include "proofs/st_merkle.h"
#include "proofs/st_seal.h"
#include "proofs/st_vproof.h"

#define COLUMNS (1 + ST_DRG_DEGREE + ST_EXP_DEGREE) /* c_x, the DRG parents, the expander parents */
#define NPARENTS ST_POREP_LABEL_PARENTS
#define LABEL_PROOF_LEN (8 + NPARENTS * 32 + 4 + 8)
#define LABEL_PREFIX 64           /* replica_id, BE32 layer, BE64 node, 20 zero bytes */
#define ROWS (ST_MAX_LAYERS * 32) /* a column's rows, at most */

size_t st_porep_challenge_count(const st_sector_info *info) {
  return (size_t)info->porep_partitions * info->porep_challenges;
}

void st_porep_challenges(const st_sector_info *info, const uint8_t replica_id[32], const uint8_t seed[32],
                         uint64_t *out) {
  uint64_t nodes = st_sector_nodes(info);
  for (size_t j = 0; j < st_porep_challenge_count(info); j++) {
    uint8_t buf[68], h[32];
    memcpy(buf, replica_id, 32);
    memcpy(buf + 32, seed, 32);
    st_le32_put(buf + 64, (uint32_t)j);
    st_sha256(buf, sizeof buf, h);
    mp_limb_t limbs[4];
    for (int i = 0; i < 4; i++) limbs[i] = st_le64_get(h + i * 8);
    out[j] = mpn_mod_1(limbs, 4, nodes - 1) + 1;
  }
}

/* The nodes whose columns a challenge opens: the node, its DRG parents, its expander parents. */
static void column_nodes(const st_graph *g, uint64_t c, uint64_t out[COLUMNS]) {
  out[0] = c;
  st_graph_drg_parents(g, c, out + 1);
  st_graph_exp_parents(g, c, out + 1 + ST_DRG_DEGREE);
}

/* Where parent p of layer l's labeling proof comes from: the column (1..14) and its layer. Layer
 * 1 repeats the 6 DRG parents (layer 1); layer l > 1 the 6 DRG parents (layer l) and the 8
 * expander parents (layer l - 1). */
static void parent_source(unsigned l, unsigned p, unsigned *col, unsigned *layer) {
  unsigned i = p % (l == 1 ? ST_DRG_DEGREE : ST_PARENTS);
  *col = 1 + i;
  *layer = i < ST_DRG_DEGREE ? l : l - 1;
}

/* What prover and verifier both derive from the public inputs. */
static void derive(const st_porep_public *pub, uint8_t replica_id[32], st_graph *g, uint64_t *challenges) {
  st_sector_replica_id(pub->info, pub->miner, pub->sector, pub->ticket, pub->comm_d, replica_id);
  st_graph_init_sector(g, pub->info);
  st_porep_challenges(pub->info, replica_id, pub->seed, challenges);
}

static void shapes(const st_sector_info *info, st_tree_shape *d, st_tree_shape *c, st_tree_shape *r) {
  st_tree_shape_binary(d, st_sector_nodes(info), NULL);
  st_tree_shape_sector(c, info, 0);
  st_tree_shape_r_last(r, info);
}

static size_t column_len(const st_sector_info *info, const st_tree_shape *c) {
  return 4 + 8 + (size_t)info->layers * 32 + st_vproof_merkle_len(c);
}

size_t st_porep_proof_len(const st_sector_info *info) {
  st_tree_shape d, c, r;
  shapes(info, &d, &c, &r);
  size_t one = st_vproof_merkle_len(&d) + st_vproof_merkle_len(&r) + COLUMNS * column_len(info, &c) + 8 + 8 + 8 +
               (size_t)(info->layers + 1) * LABEL_PROOF_LEN;
  return 8 + (size_t)info->porep_partitions * (8 + info->porep_challenges * one);
}

/* ---- proving ---- */

typedef struct prover {
  st_tree_reader d, c, r;
  int layer_fds[ST_MAX_LAYERS];
  char layer_paths[ST_MAX_LAYERS][ST_PATH_MAX];
  unsigned layers;
} prover;

static void prover_close(prover *p) {
  st_tree_reader_close(&p->d);
  st_tree_reader_close(&p->c);
  st_tree_reader_close(&p->r);
  for (unsigned l = 0; l < p->layers; l++)
    if (p->layer_fds[l] >= 0) close(p->layer_fds[l]);
}

static st_code prover_open(prover *p, const st_porep_public *pub, const char *root, st_err *err) {
  memset(p, 0, sizeof *p);
  p->d.leaf_fd = p->c.leaf_fd = p->r.leaf_fd = -1;
  st_sector_paths sp;
  st_tree_shape ds, cs, rs;
  shapes(pub->info, &ds, &cs, &rs);
  st_code rc = st_sector_paths_make(root, pub->miner, pub->sector, &sp, err);
  if (!rc) rc = st_tree_reader_open_dir(&p->d, &ds, &st_hasher_sha254, sp.cache, "tree-d", NULL, err);
  if (!rc) rc = st_tree_reader_open_dir(&p->c, &cs, st_hasher_sealing(), sp.cache, "tree-c", NULL, err);
  if (!rc) rc = st_tree_reader_open_dir(&p->r, &rs, st_hasher_sealing(), sp.cache, "tree-r-last", sp.sealed, err);
  if (rc) return rc;
  uint8_t comm_r[32];
  st_comm_r(st_hasher_sealing(), p->c.root, p->r.root, comm_r);
  if (memcmp(p->d.root, pub->comm_d, 32))
    return st_err_set(err, ST_ECRYPTO, "porep: tree_d in \"%s\" does not match comm_d", sp.cache);
  if (memcmp(comm_r, pub->comm_r, 32))
    return st_err_set(err, ST_ECRYPTO, "porep: tree_c and tree_r_last in \"%s\" do not match comm_r", sp.cache);
  p->layers = pub->info->layers;
  for (unsigned l = 0; l < p->layers; l++) p->layer_fds[l] = -1;
  for (unsigned l = 0; l < p->layers; l++) {
    if ((rc = st_sector_layer_path(sp.cache, l + 1, p->layer_paths[l], err))) return rc;
    p->layer_fds[l] = open(p->layer_paths[l], O_RDONLY | O_CLOEXEC);
    if (p->layer_fds[l] < 0) return st_fs_os_error(err, "read from", p->layer_paths[l], errno);
  }
  return ST_OK;
}

/* The MerkleProof of node in the tree rd reads. */
static st_code put_merkle(st_buf *out, st_tree_reader *rd, uint64_t node, st_err *err) {
  uint8_t leaf[32], sib[ST_TREE_MAX_PATH];
  st_code rc = st_tree_reader_prove(rd, node, leaf, sib, err);
  if (!rc) st_vproof_put_merkle(out, &rd->shape, node, leaf, sib, rd->root);
  return rc;
}

/* A labeling (or encoding) proof of layer l for node c, its parents from the columns' rows
 * (column n's at rows + n * ROWS). */
static void put_labeling(st_buf *out, const uint8_t *rows, unsigned l, uint64_t c) {
  st_vproof_put_u64(out, NPARENTS);
  for (unsigned p = 0; p < NPARENTS; p++) {
    unsigned col, layer;
    parent_source(l, p, &col, &layer);
    st_buf_append(out, rows + col * ROWS + (layer - 1) * 32, 32);
  }
  st_vproof_put_u32(out, l);
  st_vproof_put_u64(out, c);
}

st_code st_porep_prove(const st_porep_public *pub, const char *root, st_buf *proof, st_err *err) {
  const st_sector_info *info = pub->info;
  unsigned L = info->layers;
  prover p;
  st_code rc = prover_open(&p, pub, root, err);
  if (rc) {
    prover_close(&p);
    return rc;
  }
  uint8_t replica_id[32];
  st_graph g;
  uint64_t challenges[ST_POREP_MAX_CHALLENGES];
  derive(pub, replica_id, &g, challenges);

  st_vproof_put_u64(proof, info->porep_partitions);
  for (size_t k = 0; !rc && k < info->porep_partitions; k++) {
    st_vproof_put_u64(proof, info->porep_challenges);
    for (size_t i = 0; !rc && i < info->porep_challenges; i++) {
      uint64_t c = challenges[k * info->porep_challenges + i], nodes[COLUMNS];
      uint8_t rows[COLUMNS * ROWS];
      rc = put_merkle(proof, &p.d, c, err);          /* comm_d_proofs */
      if (!rc) rc = put_merkle(proof, &p.r, c, err); /* comm_r_last_proof */
      column_nodes(&g, c, nodes);
      for (size_t n = 0; !rc && n < COLUMNS; n++) { /* replica_column_proofs */
        if (n == 1) st_vproof_put_u64(proof, ST_DRG_DEGREE);
        if (n == 1 + ST_DRG_DEGREE) st_vproof_put_u64(proof, ST_EXP_DEGREE);
        for (unsigned l = 0; !rc && l < L; l++)
          rc = st_fs_pread_all(p.layer_fds[l], rows + n * ROWS + l * 32, 32, nodes[n] * 32, p.layer_paths[l], err);
        if (rc) break;
        st_vproof_put_u32(proof, (uint32_t)nodes[n]);
        st_vproof_put_u64(proof, L);
        st_buf_append(proof, rows + n * ROWS, (size_t)L * 32);
        rc = put_merkle(proof, &p.c, nodes[n], err);
      }
      if (rc) break;
      st_vproof_put_u64(proof, L); /* labeling_proofs */
      for (unsigned l = 1; l <= L; l++) put_labeling(proof, rows, l, c);
      put_labeling(proof, rows, L, c); /* encoding_proof: the key's */
    }
  }
  prover_close(&p);
  return rc ? rc : st_buf_status(proof, err);
}

/* ---- verifying ---- */

/* A MerkleProof read, with where its fields lie. */
typedef struct merkle {
  st_vproof_inclusion ip;
  size_t off, root_off, leaf_off;
} merkle;

typedef struct column {
  uint32_t index;
  size_t index_off;
  uint8_t rows[ROWS];
  merkle m;
} column;

typedef struct labeling {
  uint8_t parents[NPARENTS * 32];
  size_t parents_off, layer_off, node_off;
  uint32_t layer;
  uint64_t node;
} labeling;

/* One challenge's Proof as read. */
typedef struct one {
  merkle d, r;
  column cols[COLUMNS];
  labeling labs[ST_MAX_LAYERS + 1]; /* layers 1..L, then the encoding proof */
} one;

typedef struct verifier {
  const st_porep_public *pub;
  st_vproof_reader r;
  st_tree_shape ds, cs, rs;
  unsigned L;
  char tree[48]; /* "a 2KiB sector" */
  char at[96];   /* "partition K challenge I (node C): " */
  uint8_t replica_id[32];
  uint8_t comm_c[32], comm_r_last[32];
  one *p;
  uint8_t *siblings; /* COLUMNS + 2 paths */
} verifier;

/* Column n's name: "c_x", "drg_parents[2]", "exp_parents[7]". */
static void column_short(unsigned n, char *out, size_t size) {
  if (n == 0) snprintf(out, size, "c_x");
  else if (n <= ST_DRG_DEGREE) snprintf(out, size, "drg_parents[%u]", n - 1);
  else snprintf(out, size, "exp_parents[%u]", n - 1 - ST_DRG_DEGREE);
}

/* Its field name: "replica_column_proofs.drg_parents[2]". */
static void column_name(unsigned n, char *out, size_t size) {
  char s[32];
  column_short(n, s, sizeof s);
  snprintf(out, size, "replica_column_proofs.%s", s);
}

static void labeling_name(const verifier *v, unsigned i, char *out, size_t size) {
  if (i < v->L) snprintf(out, size, "labeling_proofs[%u]", i);
  else snprintf(out, size, "encoding_proof");
}

/* Sets the reader's context to the challenge, then prefix (and a dot) when given. */
static void context(verifier *v, const char *prefix) {
  snprintf(v->r.where, sizeof v->r.where, "%s%s%s", v->at, prefix ? prefix : "", prefix ? "." : "");
}

/* A check that failed: ST_ECRYPTO naming the byte at off and field. */
__attribute__((format(printf, 4, 5))) static st_code bad(verifier *v, size_t off, const char *field, const char *fmt,
                                                         ...) {
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  context(v, NULL);
  return st_vproof_fail(&v->r, ST_ECRYPTO, off, field, "%s", what);
}

static st_code read_merkle(verifier *v, const char *name, const st_tree_shape *s, const char *tree, merkle *m) {
  context(v, name);
  m->off = v->r.off;
  st_code rc = st_vproof_get_merkle(&v->r, s, tree, &m->ip);
  if (rc) return rc;
  m->root_off = st_vproof_shape_variant(s) == ST_VPROOF_SINGLE ? m->off + 4 : v->r.off - 64;
  m->leaf_off = m->root_off + 32;
  return ST_OK;
}

static st_code read_column(verifier *v, unsigned n, column *c) {
  char name[64], sub[96];
  column_name(n, name, sizeof name);
  snprintf(sub, sizeof sub, "%s.column", name);
  context(v, sub);
  c->index_off = v->r.off;
  st_code rc = st_vproof_get_u32(&v->r, "index", &c->index);
  if (!rc) rc = st_vproof_expect_u64(&v->r, "rows length", v->L, " layers");
  for (unsigned l = 0; !rc && l < v->L; l++) {
    char field[32];
    snprintf(field, sizeof field, "rows[%u]", l);
    rc = st_vproof_get_node(&v->r, field, c->rows + l * 32);
  }
  snprintf(sub, sizeof sub, "%s.inclusion_proof", name);
  return rc ? rc : read_merkle(v, sub, &v->cs, v->tree, &c->m);
}

static st_code read_labeling(verifier *v, unsigned i, labeling *lp) {
  char name[32];
  labeling_name(v, i, name, sizeof name);
  context(v, name);
  st_code rc = st_vproof_expect_u64(&v->r, "parents length", NPARENTS, " parents");
  lp->parents_off = v->r.off;
  for (unsigned p = 0; !rc && p < NPARENTS; p++) {
    char field[32];
    snprintf(field, sizeof field, "parents[%u]", p);
    rc = st_vproof_get_node(&v->r, field, lp->parents + p * 32);
  }
  lp->layer_off = v->r.off;
  if (!rc) rc = st_vproof_get_u32(&v->r, "layer_index", &lp->layer);
  lp->node_off = v->r.off;
  if (!rc) rc = st_vproof_get_u64(&v->r, "node", &lp->node);
  return rc;
}

/* Reads one challenge's Proof into v->p. */
static st_code read_one(verifier *v) {
  one *p = v->p;
  p->d.ip.siblings = v->siblings;
  p->r.ip.siblings = v->siblings + ST_TREE_MAX_PATH;
  st_code rc = read_merkle(v, "comm_d_proofs", &v->ds, "tree_d (binary)", &p->d);
  if (!rc) rc = read_merkle(v, "comm_r_last_proof", &v->rs, v->tree, &p->r);
  for (unsigned n = 0; !rc && n < COLUMNS; n++) {
    if (n == 1 || n == 1 + ST_DRG_DEGREE) {
      context(v, "replica_column_proofs");
      bool drg = n == 1;
      rc = st_vproof_expect_u64(&v->r, drg ? "drg_parents length" : "exp_parents length",
                                drg ? ST_DRG_DEGREE : ST_EXP_DEGREE, drg ? " DRG parents" : " expander parents");
      if (rc) break;
    }
    p->cols[n].m.ip.siblings = v->siblings + (2 + n) * ST_TREE_MAX_PATH;
    rc = read_column(v, n, &p->cols[n]);
  }
  if (!rc) {
    context(v, NULL);
    rc = st_vproof_expect_u64(&v->r, "labeling_proofs length", v->L, " layers");
  }
  for (unsigned i = 0; !rc && i <= v->L; i++) rc = read_labeling(v, i, &p->labs[i]);
  return rc;
}

/* Checks a MerkleProof: its root, that its index fields name node, and that it hashes up. */
static st_code check_merkle(verifier *v, const char *name, const merkle *m, const st_tree_shape *s, const st_hasher *h,
                            uint64_t node, const uint8_t root[32], const char *root_name) {
  char field[96];
  snprintf(field, sizeof field, "%s.root", name);
  if (memcmp(m->ip.root, root, 32)) return bad(v, m->root_off, field, "not %s", root_name);
  if (m->ip.index != node)
    return bad(v, m->off, name, "the path's index fields name node %llu, want %llu", (unsigned long long)m->ip.index,
               (unsigned long long)node);
  if (!st_tree_verify(s, h, node, m->ip.leaf, m->ip.siblings, root))
    return bad(v, m->off, name, "the path does not hash to its root");
  return ST_OK;
}

static st_code check_column(verifier *v, unsigned n, const column *c, uint64_t node) {
  char name[64], field[96];
  column_name(n, name, sizeof name);
  snprintf(field, sizeof field, "%s.column.index", name);
  if (c->index != node) return bad(v, c->index_off, field, "%u, want %llu", c->index, (unsigned long long)node);
  uint8_t hash[32];
  st_hasher_sealing()->hash(c->rows, v->L, hash);
  snprintf(field, sizeof field, "%s.inclusion_proof.leaf", name);
  if (memcmp(hash, c->m.ip.leaf, 32)) return bad(v, c->m.leaf_off, field, "not the hash of the column's rows");
  snprintf(field, sizeof field, "%s.inclusion_proof", name);
  return check_merkle(v, field, &c->m, &v->cs, st_hasher_sealing(), node, v->comm_c,
                      "comm_c (the first c_x inclusion_proof's root)");
}

/* Labeling proof i (layer i + 1; i = L is the encoding proof, of layer L). */
static st_code check_labeling(verifier *v, unsigned i, uint64_t c) {
  const one *p = v->p;
  const labeling *lp = &p->labs[i];
  unsigned l = i < v->L ? i + 1 : v->L;
  char name[32], field[64];
  labeling_name(v, i, name, sizeof name);
  for (unsigned k = 0; k < NPARENTS; k++) {
    unsigned col, layer;
    parent_source(l, k, &col, &layer);
    if (memcmp(lp->parents + k * 32, p->cols[col].rows + (layer - 1) * 32, 32)) {
      char src[32];
      column_short(col, src, sizeof src);
      snprintf(field, sizeof field, "%s.parents[%u]", name, k);
      return bad(v, lp->parents_off + k * 32, field, "not %s's row %u (its label in layer %u)", src, layer - 1, layer);
    }
  }
  snprintf(field, sizeof field, "%s.layer_index", name);
  if (lp->layer != l) return bad(v, lp->layer_off, field, "%u, want %u", lp->layer, l);
  snprintf(field, sizeof field, "%s.node", name);
  if (lp->node != c)
    return bad(v, lp->node_off, field, "%llu, want %llu", (unsigned long long)lp->node, (unsigned long long)c);
  /* rust-fil-proofs' LabelingProof::create_label over the proof's own parents */
  uint8_t msg[LABEL_PREFIX + NPARENTS * 32] = {0}, label[32];
  memcpy(msg, v->replica_id, 32);
  st_be32_put(msg + 32, lp->layer);
  st_be64_put(msg + 36, lp->node);
  memcpy(msg + LABEL_PREFIX, lp->parents, sizeof lp->parents);
  st_sha256(msg, sizeof msg, label);
  st_fr_trunc254(label);
  if (memcmp(label, p->cols[0].rows + (l - 1) * 32, 32))
    return bad(v, lp->parents_off, name, "the label its parents give is not c_x's row %u (its label in layer %u)",
               l - 1, l);
  return ST_OK;
}

static st_code check_one(verifier *v, const st_graph *g, uint64_t c, bool first) {
  const one *p = v->p;
  uint64_t nodes[COLUMNS];
  column_nodes(g, c, nodes);
  if (first) { /* the commitments every proof must share */
    memcpy(v->comm_r_last, p->r.ip.root, 32);
    memcpy(v->comm_c, p->cols[0].m.ip.root, 32);
    uint8_t comm_r[32];
    st_comm_r(st_hasher_sealing(), v->comm_c, v->comm_r_last, comm_r);
    if (memcmp(comm_r, v->pub->comm_r, 32))
      return bad(v, p->r.root_off, "comm_r_last_proof.root",
                 "comm_c (replica_column_proofs.c_x.inclusion_proof.root) and comm_r_last do not hash to comm_r");
  }
  st_code rc = check_merkle(v, "comm_d_proofs", &p->d, &v->ds, &st_hasher_sha254, c, v->pub->comm_d, "comm_d");
  if (!rc)
    rc = check_merkle(v, "comm_r_last_proof", &p->r, &v->rs, st_hasher_sealing(), c, v->comm_r_last,
                      "comm_r_last (the first comm_r_last_proof's root)");
  for (unsigned n = 0; !rc && n < COLUMNS; n++) rc = check_column(v, n, &p->cols[n], nodes[n]);
  for (unsigned i = 0; !rc && i <= v->L; i++) rc = check_labeling(v, i, c);
  if (rc) return rc;
  uint8_t expect[32]; /* replica = data + key; the key is c_x's last row, which labels as checked */
  st_fr_add(expect, p->d.ip.leaf, p->cols[0].rows + (v->L - 1) * 32);
  if (memcmp(expect, p->r.ip.leaf, 32))
    return bad(v, p->r.leaf_off, "comm_r_last_proof.leaf",
               "not the data node (comm_d_proofs.leaf) encoded with the key");
  return ST_OK;
}

st_code st_porep_verify(const st_porep_public *pub, const uint8_t *proof, size_t len, st_err *err) {
  const st_sector_info *info = pub->info;
  verifier v = {.pub = pub, .L = info->layers};
  shapes(info, &v.ds, &v.cs, &v.rs);
  snprintf(v.tree, sizeof v.tree, "a %s sector", info->name);
  st_vproof_reader_init(&v.r, "porep proof", proof, len, 0, err);
  v.p = calloc(1, sizeof *v.p);
  v.siblings = calloc(2 + COLUMNS, ST_TREE_MAX_PATH);
  if (!v.p || !v.siblings) {
    free(v.p);
    free(v.siblings);
    return st_err_set(err, ST_ENOMEM, "out of memory verifying a porep proof");
  }
  st_graph g;
  uint64_t challenges[ST_POREP_MAX_CHALLENGES];
  derive(pub, v.replica_id, &g, challenges);
  /* Two passes over the bytes: the first reads them all (a malformed proof fails before any
   * hashing), the second reads them again and checks each challenge's proof. */
  st_code rc = ST_OK;
  for (int pass = 0; !rc && pass < 2; pass++) {
    v.r.off = 0;
    v.at[0] = 0;
    context(&v, NULL);
    rc = st_vproof_expect_u64(&v.r, "partitions length", info->porep_partitions,
                              info->porep_partitions == 1 ? " partition" : " partitions");
    for (size_t k = 0; !rc && k < info->porep_partitions; k++) {
      snprintf(v.at, sizeof v.at, "partition %zu: ", k);
      context(&v, NULL);
      rc = st_vproof_expect_u64(&v.r, "challenges length", info->porep_challenges,
                                info->porep_challenges == 1 ? " challenge" : " challenges");
      for (size_t i = 0; !rc && i < info->porep_challenges; i++) {
        uint64_t c = challenges[k * info->porep_challenges + i];
        snprintf(v.at, sizeof v.at, "partition %zu challenge %zu (node %llu): ", k, i, (unsigned long long)c);
        rc = read_one(&v);
        if (!rc && pass == 1) rc = check_one(&v, &g, c, k == 0 && i == 0);
      }
    }
    v.at[0] = 0;
    context(&v, NULL);
    if (!rc) rc = st_vproof_reader_end(&v.r, "the proof");
  }
  free(v.p);
  free(v.siblings);
  return rc;
}
