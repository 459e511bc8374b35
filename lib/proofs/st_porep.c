/* st_porep: PoRep challenge derivation, proving from the sealing cache, verification. */
#include "proofs/st_porep.h"

#include <errno.h>
#include <fcntl.h>
#include <gmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "codec/st_cbor.h"
#include "core/st_endian.h"
#include "core/st_fs.h"
#include "crypto/st_hash.h"
#include "proofs/st_fr.h"
#include "proofs/st_graph.h"
#include "proofs/st_hasher.h"
#include "proofs/st_merkle.h"
#include "proofs/st_seal.h"

#define COLUMNS (1 + ST_DRG_DEGREE + ST_EXP_DEGREE)

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

static st_code put_opening(st_buf *out, st_tree_reader *rd, uint64_t node, st_err *err) {
  uint8_t leaf[32], sib[ST_TREE_MAX_PATH];
  st_code rc = st_tree_reader_prove(rd, node, leaf, sib, err);
  if (!rc) st_tree_put_path(out, &rd->shape, leaf, sib);
  return rc;
}

st_code st_porep_prove(const st_porep_public *pub, const char *root, st_buf *proof, st_err *err) {
  const st_sector_info *info = pub->info;
  prover p;
  st_code rc = prover_open(&p, pub, root, err);
  if (rc) {
    prover_close(&p);
    return rc;
  }
  uint8_t replica_id[32];
  st_graph g;
  size_t n = st_porep_challenge_count(info);
  uint64_t challenges[ST_POREP_MAX_CHALLENGES];
  derive(pub, replica_id, &g, challenges);

  st_cbor_put_array(proof, 4);
  st_cbor_put_uint(proof, 1);
  st_cbor_put_bytes(proof, p.c.root, 32);
  st_cbor_put_bytes(proof, p.r.root, 32);
  st_cbor_put_array(proof, n);
  for (size_t j = 0; !rc && j < n; j++) {
    uint64_t c = challenges[j], nodes[COLUMNS];
    st_cbor_put_array(proof, 3);
    rc = put_opening(proof, &p.d, c, err);
    if (!rc) rc = put_opening(proof, &p.r, c, err);
    column_nodes(&g, c, nodes);
    st_cbor_put_array(proof, COLUMNS);
    for (size_t k = 0; !rc && k < COLUMNS; k++) {
      uint8_t labels[ST_MAX_LAYERS * 32];
      for (unsigned l = 0; !rc && l < info->layers; l++)
        rc = st_fs_pread_all(p.layer_fds[l], labels + l * 32, 32, nodes[k] * 32, p.layer_paths[l], err);
      if (rc) break;
      st_cbor_put_array(proof, 2);
      st_cbor_put_bytes(proof, labels, info->layers * 32);
      rc = put_opening(proof, &p.c, nodes[k], err);
    }
  }
  prover_close(&p);
  return rc ? rc : st_buf_status(proof, err);
}

static st_code bad(st_err *err, size_t j, uint64_t c, const char *what) {
  return st_err_set(err, ST_ECRYPTO, "porep proof: challenge %zu (node %llu): %s", j, (unsigned long long)c, what);
}

st_code st_porep_verify(const st_porep_public *pub, const uint8_t *proof, size_t len, st_err *err) {
  const st_sector_info *info = pub->info;
  unsigned L = info->layers;
  st_tree_shape ds, cs, rs;
  shapes(info, &ds, &cs, &rs);
  st_cbor_reader r;
  st_cbor_reader_init(&r, proof, len, err);
  const uint8_t *comm_c, *comm_r_last;
  uint64_t version;
  size_t n = st_porep_challenge_count(info);
  st_code rc = st_cbor_expect_array(&r, 4, "porep proof");
  if (!rc) rc = st_cbor_read_uint(&r, &version);
  if (!rc && version != 1)
    return st_err_set(err, ST_EINVAL, "porep proof: unknown version %llu", (unsigned long long)version);
  if (!rc) rc = st_cbor_expect_bytes(&r, 32, "porep proof comm_c", &comm_c);
  if (!rc) rc = st_cbor_expect_bytes(&r, 32, "porep proof comm_r_last", &comm_r_last);
  if (!rc) rc = st_cbor_expect_array(&r, n, "porep proof challenges");
  if (rc) return rc;
  uint8_t comm_r[32];
  st_comm_r(st_hasher_sealing(), comm_c, comm_r_last, comm_r);
  if (memcmp(comm_r, pub->comm_r, 32))
    return st_err_set(err, ST_ECRYPTO, "porep proof: comm_c and comm_r_last do not hash to comm_r");

  uint8_t replica_id[32];
  st_graph g;
  uint64_t challenges[ST_POREP_MAX_CHALLENGES];
  derive(pub, replica_id, &g, challenges);

  for (size_t j = 0; j < n; j++) {
    uint64_t c = challenges[j], nodes[COLUMNS];
    const uint8_t *dleaf, *dsib, *rleaf, *rsib, *labels[COLUMNS];
    rc = st_cbor_expect_array(&r, 3, "porep challenge");
    if (!rc) rc = st_tree_read_path(&r, &ds, "porep tree_d path", &dleaf, &dsib);
    if (!rc) rc = st_tree_read_path(&r, &rs, "porep tree_r_last path", &rleaf, &rsib);
    if (!rc) rc = st_cbor_expect_array(&r, COLUMNS, "porep columns");
    if (rc) return rc;
    if (!st_tree_verify(&ds, &st_hasher_sha254, c, dleaf, dsib, pub->comm_d))
      return bad(err, j, c, "tree_d path does not lead to comm_d");
    if (!st_tree_verify(&rs, st_hasher_sealing(), c, rleaf, rsib, comm_r_last))
      return bad(err, j, c, "tree_r_last path does not lead to comm_r_last");
    column_nodes(&g, c, nodes);
    for (size_t k = 0; k < COLUMNS; k++) {
      const uint8_t *leaf, *sib;
      rc = st_cbor_expect_array(&r, 2, "porep column");
      if (!rc) rc = st_cbor_expect_bytes(&r, L * 32, "porep column labels", &labels[k]);
      if (!rc) rc = st_tree_read_path(&r, &cs, "porep tree_c path", &leaf, &sib);
      if (rc) return rc;
      uint8_t col_hash[32];
      st_hasher_sealing()->hash(labels[k], L, col_hash);
      if (memcmp(col_hash, leaf, 32) || !st_tree_verify(&cs, st_hasher_sealing(), nodes[k], leaf, sib, comm_c))
        return bad(err, j, c, "a column opening does not lead to comm_c");
    }
    for (unsigned l = 1; l <= L; l++) {
      uint8_t drg[ST_DRG_DEGREE * 32], exp[ST_EXP_DEGREE * 32], label[32];
      for (int i = 0; i < ST_DRG_DEGREE; i++) memcpy(drg + i * 32, labels[1 + i] + (l - 1) * 32, 32);
      for (int i = 0; l > 1 && i < ST_EXP_DEGREE; i++)
        memcpy(exp + i * 32, labels[1 + ST_DRG_DEGREE + i] + (l - 2) * 32, 32);
      st_sdr_label(replica_id, l, c, drg, l > 1 ? exp : NULL, label);
      if (memcmp(label, labels[0] + (l - 1) * 32, 32))
        return bad(err, j, c, "a label does not follow from its parents");
    }
    uint8_t expect[32];
    if (!st_fr_is_valid(dleaf)) return bad(err, j, c, "the data node is not a field element");
    st_fr_add(expect, dleaf, labels[0] + (L - 1) * 32);
    if (memcmp(expect, rleaf, 32)) return bad(err, j, c, "the replica node is not the data node encoded with the key");
  }
  return st_cbor_finish(&r);
}
