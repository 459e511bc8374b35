/* st_seal: tree_d, the SDR label layers, tree_c, the encoding with tree_r_last, the aux files. */
#include "proofs/st_seal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/st_varint.h"
#include "core/st_endian.h"
#include "core/st_fs.h"
#include "core/st_par.h"
#include "crypto/st_hash.h"
#include "proofs/st_fr.h"
#include "proofs/st_hasher.h"
#include "proofs/st_merkle.h"

#define RELEASE_NODES (64 * 1024) /* parent cache entries read before their pages are let go */
#define CHUNK_NODES (64 * 1024)   /* 2 MiB of nodes per streamed read */

void st_prover_id(uint64_t miner, uint8_t out[32]) {
  memset(out, 0, 32);
  st_uvarint_put(miner, out);
}

void st_porep_id(int seal_proof, uint8_t out[32]) {
  memset(out, 0, 32);
  st_le64_put(out, (uint64_t)seal_proof);
}

void st_replica_id(const uint8_t prover_id[32], uint64_t sector, const uint8_t ticket[32], const uint8_t comm_d[32],
                   const uint8_t porep_id[32], uint8_t out[32]) {
  uint8_t buf[32 + 8 + 32 + 32 + 32];
  memcpy(buf, prover_id, 32);
  st_be64_put(buf + 32, sector);
  memcpy(buf + 40, ticket, 32);
  memcpy(buf + 72, comm_d, 32);
  memcpy(buf + 104, porep_id, 32);
  st_sha256(buf, sizeof buf, out);
  st_fr_trunc254(out);
}

void st_sector_replica_id(const st_sector_info *info, uint64_t miner, uint64_t sector, const uint8_t ticket[32],
                          const uint8_t comm_d[32], uint8_t out[32]) {
  uint8_t prover_id[32], porep_id[32];
  st_prover_id(miner, prover_id);
  st_porep_id(info->seal_proof, porep_id);
  st_replica_id(prover_id, sector, ticket, comm_d, porep_id, out);
}

#define LABEL_PREFIX 64
#define LABEL_PARENTS 37
#define LABEL_MSG (LABEL_PREFIX + LABEL_PARENTS * 32) /* 1248 bytes */

static void label_prefix(uint8_t buf[LABEL_PREFIX], const uint8_t replica_id[32], unsigned layer, uint64_t v) {
  memcpy(buf, replica_id, 32);
  st_be32_put(buf + 32, layer);
  st_be64_put(buf + 36, v);
  memset(buf + 44, 0, 20);
}

/* With the first parents' labels in place after the prefix (6 in layer 1, else 14), repeats them
 * to fill P's 37 labels. */
static void label_fill(uint8_t *msg, unsigned layer) {
  uint8_t *p = msg + LABEL_PREFIX;
  if (layer == 1) {
    for (int i = 1; i < 6; i++) memcpy(p + i * ST_DRG_DEGREE * 32, p, ST_DRG_DEGREE * 32);
    memcpy(p + 36 * 32, p, 32);
  } else {
    memcpy(p + ST_PARENTS * 32, p, ST_PARENTS * 32);
    memcpy(p + 2 * ST_PARENTS * 32, p, 9 * 32);
  }
}

void st_sdr_label(const uint8_t replica_id[32], unsigned layer, uint64_t v, const uint8_t *drg, const uint8_t *exp,
                  uint8_t out[32]) {
  uint8_t msg[LABEL_MSG];
  label_prefix(msg, replica_id, layer, v);
  size_t len = LABEL_PREFIX;
  if (v > 0) {
    memcpy(msg + LABEL_PREFIX, drg, ST_DRG_DEGREE * 32);
    if (layer > 1) memcpy(msg + LABEL_PREFIX + ST_DRG_DEGREE * 32, exp, ST_EXP_DEGREE * 32);
    label_fill(msg, layer);
    len = LABEL_MSG;
  }
  st_sha256(msg, len, out);
  out[31] &= 0x3f;
}

/* Labeling a layer on two threads: a gatherer copies each node's parent labels (random reads
 * over two layer-sized maps, the slow part) into a ring, up to RING nodes ahead, while the
 * hasher takes them in order. A base parent not yet labelled when it is gathered (a node close
 * behind, so still in cache) is left to the hasher, which marks its progress in `done`. */
#define RING 4096
#define BATCH 64 /* nodes between two updates of a counter the other thread reads */
#define SPINS 256

typedef struct gather {
  const st_parent_cache *pc;
  const uint8_t *prev, *cur;
  int n;                            /* parents hashed: 6 in layer 1, else 14 */
  uint8_t (*slot)[ST_PARENTS * 32]; /* RING slots */
  uint16_t *missing;                /* per slot: base parents the gatherer left (bit i) */
  uint32_t (*par)[ST_PARENTS];      /* per slot: the parents, for those */
  _Alignas(64) uint64_t gathered;   /* nodes gathered (atomic; by BATCH) */
  _Alignas(64) uint64_t done;       /* nodes labelled (atomic; by BATCH) */
} gather;

static void wait_a_little(unsigned *spins) {
  if (++*spins < SPINS) {
    __builtin_ia32_pause();
  } else {
    sched_yield();
    *spins = 0;
  }
}

static void *gatherer(void *arg) {
  gather *g = arg;
  uint64_t done = 1, nodes = g->pc->nodes;
  for (uint64_t v = 1; v < nodes; v++) {
    if (v % BATCH == 0 || v - done >= RING) {
      unsigned spins = 0;
      while (v - (done = __atomic_load_n(&g->done, __ATOMIC_ACQUIRE)) >= RING) wait_a_little(&spins);
    }
    size_t k = v % RING;
    uint32_t *par = g->par[k];
    st_parent_cache_get(g->pc, v, par);
    uint16_t missing = 0;
    for (int i = 0; i < g->n; i++) {
      if (i < ST_DRG_DEGREE && par[i] >= done) missing |= (uint16_t)(1u << i);
      else memcpy(g->slot[k] + i * 32, (i < ST_DRG_DEGREE ? g->cur : g->prev) + (size_t)par[i] * 32, 32);
    }
    g->missing[k] = missing;
    if ((v + 1) % BATCH == 0 || v + 1 == nodes) __atomic_store_n(&g->gathered, v + 1, __ATOMIC_RELEASE);
    if (v % RELEASE_NODES == 0) st_parent_cache_release(g->pc, v - RELEASE_NODES, v);
  }
  return NULL;
}

st_code st_sdr_label_layer(const st_parent_cache *pc, const uint8_t replica_id[32], unsigned layer, const uint8_t *prev,
                           uint8_t *cur, st_err *err) {
  if (layer == 0 || (layer > 1 && !prev))
    return st_err_set(err, ST_EINVAL, "sdr labels: layer %u needs %s", layer,
                      layer ? "the previous layer's labels" : "a layer number from 1");
  st_sha256_ctx ctx;
  st_code rc = st_sha256_init(&ctx, err);
  if (rc) return rc;
  uint8_t msg[LABEL_MSG];
  label_prefix(msg, replica_id, layer, 0);
  st_sha256_update(&ctx, msg, LABEL_PREFIX);
  st_sha256_final(&ctx, cur);
  cur[31] &= 0x3f;
  gather g = {.pc = pc, .prev = prev, .cur = cur, .n = layer > 1 ? ST_PARENTS : ST_DRG_DEGREE, .done = 1};
  pthread_t tid;
  bool two = pc->nodes > 2 * RING && st_par_cpus() > 1;
  if (two) {
    g.slot = malloc(RING * sizeof *g.slot);
    g.missing = malloc(RING * sizeof *g.missing);
    g.par = malloc(RING * sizeof *g.par);
    two = g.slot && g.missing && g.par && pthread_create(&tid, NULL, gatherer, &g) == 0;
  }
  uint8_t *p = msg + LABEL_PREFIX;
  uint64_t gathered = 0;
  for (uint64_t v = 1; v < pc->nodes; v++) {
    st_be64_put(msg + 36, v);
    if (two) {
      unsigned spins = 0;
      while (gathered <= v) {
        gathered = __atomic_load_n(&g.gathered, __ATOMIC_ACQUIRE);
        if (gathered <= v) wait_a_little(&spins);
      }
      size_t k = v % RING;
      memcpy(p, g.slot[k], (size_t)g.n * 32);
      for (uint16_t m = g.missing[k]; m; m &= (uint16_t)(m - 1)) {
        int i = __builtin_ctz(m);
        memcpy(p + i * 32, cur + (size_t)g.par[k][i] * 32, 32);
      }
    } else {
      uint32_t par[ST_PARENTS];
      st_parent_cache_get(pc, v, par);
      for (int i = 0; i < g.n; i++) memcpy(p + i * 32, (i < ST_DRG_DEGREE ? cur : prev) + (size_t)par[i] * 32, 32);
      if (v % RELEASE_NODES == 0) st_parent_cache_release(pc, v - RELEASE_NODES, v);
    }
    label_fill(msg, layer);
    st_sha256_update(&ctx, msg, LABEL_MSG);
    uint8_t *out = cur + v * 32;
    st_sha256_final(&ctx, out);
    out[31] &= 0x3f;
    if (two && ((v + 1) % BATCH == 0 || v + 1 == pc->nodes)) __atomic_store_n(&g.done, v + 1, __ATOMIC_RELEASE);
  }
  if (two) pthread_join(tid, NULL);
  free(g.slot);
  free(g.missing);
  free(g.par);
  st_sha256_free(&ctx);
  return ST_OK;
}

static void phase(const st_seal_input *in, const char *name, bool done) {
  if (in->observer && in->observer->phase) in->observer->phase(in->observer->arg, name, done);
}

/* Reads n nodes of the sector's data from node first: the data file, or zeros. Checks that
 * every node is a field element (Fr32-padded data always is). */
static st_code read_data(int fd, const char *path, uint64_t first, size_t n, uint8_t *buf, st_err *err) {
  if (fd < 0) {
    memset(buf, 0, n * 32);
    return ST_OK;
  }
  st_code rc = st_fs_pread_all(fd, buf, n * 32, first * 32, path, err);
  if (rc) return rc;
  for (size_t i = 0; i < n; i++)
    if (buf[i * 32 + 31] & 0xc0)
      return st_err_set(err, ST_EINVAL, "data path=\"%s\": node %llu is not Fr32-padded (top bits set)", path,
                        (unsigned long long)(first + i));
  return ST_OK;
}

static st_code build_tree_d(const st_seal_input *in, const st_sector_paths *p, int data_fd, uint8_t comm_d[32],
                            uint8_t *chunk, st_err *err) {
  uint64_t nodes = st_sector_nodes(in->info);
  char path[ST_PATH_MAX];
  st_code rc = st_sector_cache_file(p->cache, "sc-02-data-tree-d.dat", path, err);
  if (rc) return rc;
  st_tree_shape shape;
  if ((rc = st_tree_shape_binary(&shape, nodes, err))) return rc;
  st_fs_tmpfile t;
  if ((rc = st_fs_tmpfile_open(&t, path, 0644, err))) return rc;
  st_tree_writer *w = NULL;
  rc = st_tree_writer_new(&shape, &st_hasher_sha254, t.fd, t.tmp, &w, err);
  if (!rc) st_tree_writer_threads(w, 0);
  for (uint64_t v = 0; !rc && v < nodes; v += CHUNK_NODES) {
    size_t n = nodes - v < CHUNK_NODES ? (size_t)(nodes - v) : CHUNK_NODES;
    rc = read_data(data_fd, in->data_path, v, n, chunk, err);
    if (!rc) rc = st_tree_writer_push(w, chunk, n, err);
  }
  if (!rc) rc = st_tree_writer_finish(w, comm_d, err);
  st_tree_writer_free(w);
  if (!rc) return st_fs_tmpfile_commit(&t, err);
  st_fs_tmpfile_abort(&t);
  return rc;
}

static st_code map_file(int fd, size_t len, int prot, const char *path, uint8_t **out, st_err *err) {
  void *m = mmap(NULL, len, prot, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) return st_fs_os_error(err, prot & PROT_WRITE ? "map for writing" : "map", path, errno);
  *out = m;
  return ST_OK;
}

/* Labels one layer into its file; prev maps layer-1 (NULL for layer 1). */
static st_code label_layer(const st_sector_paths *p, const st_parent_cache *pc, const uint8_t replica_id[32],
                           unsigned layer, const uint8_t *prev, st_err *err) {
  size_t len = (size_t)(pc->nodes * 32);
  char path[ST_PATH_MAX];
  st_code rc = st_sector_layer_path(p->cache, layer, path, err);
  if (rc) return rc;
  st_fs_tmpfile t;
  if ((rc = st_fs_tmpfile_open(&t, path, 0644, err))) return rc;
  uint8_t *cur = NULL;
  if (ftruncate(t.fd, (off_t)len)) rc = st_fs_os_error(err, "write to", t.tmp, errno);
  if (!rc) rc = map_file(t.fd, len, PROT_READ | PROT_WRITE, t.tmp, &cur, err);
  if (!rc) {
    rc = st_sdr_label_layer(pc, replica_id, layer, prev, cur, err);
    munmap(cur, len);
  }
  if (!rc) return st_fs_tmpfile_commit(&t, err);
  st_fs_tmpfile_abort(&t);
  return rc;
}

typedef struct tree_files {
  unsigned n;
  st_fs_tmpfile t[ST_TREE_MAX_FILES];
  st_tree_writer *w[ST_TREE_MAX_FILES];
  uint8_t roots[ST_TREE_MAX_FILES][32];
} tree_files;

static st_code tree_files_open(tree_files *tf, const st_sector_paths *p, const char *kind, const st_tree_shape *shape,
                               st_err *err) {
  memset(tf, 0, sizeof *tf);
  for (unsigned i = 0; i < shape->files; i++) {
    char name[64], path[ST_PATH_MAX];
    st_sector_tree_file_name(kind, i, shape->files, name);
    st_code rc = st_sector_cache_file(p->cache, name, path, err);
    if (!rc) rc = st_fs_tmpfile_open(&tf->t[i], path, 0644, err);
    if (rc) return rc;
    tf->n = i + 1;
    if ((rc = st_tree_writer_new(shape, st_hasher_sealing(), tf->t[i].fd, tf->t[i].tmp, &tf->w[i], err))) return rc;
    st_tree_writer_threads(tf->w[i], 0);
  }
  return ST_OK;
}

/* Pushes n leaves starting at node first into the sub-tree writers they belong to. */
static st_code tree_files_push(tree_files *tf, const st_tree_shape *shape, uint64_t first, const uint8_t *leaves,
                               size_t n, st_err *err) {
  for (size_t i = 0; i < n;) {
    uint64_t node = first + i, f = node / shape->sub_leaves;
    size_t take = (size_t)((f + 1) * shape->sub_leaves - node);
    if (take > n - i) take = n - i;
    st_code rc = st_tree_writer_push(tf->w[f], leaves + i * 32, take, err);
    if (rc) return rc;
    i += take;
  }
  return ST_OK;
}

static void tree_files_abort(tree_files *tf) {
  for (unsigned i = 0; i < tf->n; i++) {
    st_tree_writer_free(tf->w[i]);
    tf->w[i] = NULL;
    st_fs_tmpfile_abort(&tf->t[i]);
  }
  tf->n = 0;
}

static st_code tree_files_commit(tree_files *tf, st_err *err) {
  for (unsigned i = 0; i < tf->n; i++) {
    st_code rc = st_tree_writer_finish(tf->w[i], tf->roots[i], err);
    if (rc) return rc;
  }
  for (unsigned i = 0; i < tf->n; i++) {
    st_tree_writer_free(tf->w[i]);
    tf->w[i] = NULL;
    st_code rc = st_fs_tmpfile_commit(&tf->t[i], err);
    if (rc) return rc;
  }
  tf->n = 0;
  return ST_OK;
}

static st_code open_layers(const st_sector_paths *p, unsigned layers, int *fds, char paths[][ST_PATH_MAX],
                           st_err *err) {
  for (unsigned l = 0; l < layers; l++) fds[l] = -1;
  for (unsigned l = 0; l < layers; l++) {
    st_code rc = st_sector_layer_path(p->cache, l + 1, paths[l], err);
    if (rc) return rc;
    if ((fds[l] = open(paths[l], O_RDONLY | O_CLOEXEC)) < 0) return st_fs_os_error(err, "read from", paths[l], errno);
  }
  return ST_OK;
}

static void close_fds(int *fds, unsigned n) {
  for (unsigned i = 0; i < n; i++)
    if (fds[i] >= 0) close(fds[i]);
}

typedef struct column_job {
  const uint8_t *cols; /* layer l's nodes at l * CHUNK_NODES */
  uint8_t *leaves;
  unsigned layers;
} column_job;

static void hash_columns(void *arg, size_t lo, size_t hi) {
  column_job *j = arg;
  for (size_t i = lo; i < hi; i++) {
    uint8_t col[ST_MAX_LAYERS * 32];
    for (unsigned l = 0; l < j->layers; l++) memcpy(col + l * 32, j->cols + ((size_t)l * CHUNK_NODES + i) * 32, 32);
    st_hasher_sealing()->hash(col, j->layers, j->leaves + i * 32);
  }
}

/* tree_c: one leaf per node, the hash of the node's column of labels. */
static st_code build_tree_c(const st_seal_input *in, const st_sector_paths *p, uint8_t comm_c[32], st_err *err) {
  const st_sector_info *info = in->info;
  unsigned layers = info->layers;
  uint64_t nodes = st_sector_nodes(info);
  st_tree_shape shape;
  st_tree_shape_sector(&shape, info, 0);
  int fds[ST_MAX_LAYERS];
  for (unsigned l = 0; l < ST_MAX_LAYERS; l++) fds[l] = -1;
  char paths[ST_MAX_LAYERS][ST_PATH_MAX];
  tree_files tf;
  memset(&tf, 0, sizeof tf);
  uint8_t *cols = malloc((size_t)CHUNK_NODES * 32 * layers), *leaves = malloc((size_t)CHUNK_NODES * 32);
  st_code rc = cols && leaves ? ST_OK : st_err_set(err, ST_ENOMEM, "out of memory for tree_c");
  if (!rc) rc = open_layers(p, layers, fds, paths, err);
  if (!rc) rc = tree_files_open(&tf, p, "tree-c", &shape, err);
  for (uint64_t v = 0; !rc && v < nodes; v += CHUNK_NODES) {
    size_t n = nodes - v < CHUNK_NODES ? (size_t)(nodes - v) : CHUNK_NODES;
    for (unsigned l = 0; !rc && l < layers; l++)
      rc = st_fs_pread_all(fds[l], cols + (size_t)l * CHUNK_NODES * 32, n * 32, v * 32, paths[l], err);
    column_job j = {cols, leaves, layers};
    if (!rc) st_par_for(n, 0, hash_columns, &j);
    if (!rc) rc = tree_files_push(&tf, &shape, v, leaves, n, err);
  }
  if (!rc) rc = tree_files_commit(&tf, err);
  if (!rc) st_tree_root_of_subroots(&shape, st_hasher_sealing(), tf.roots[0], comm_c);
  tree_files_abort(&tf);
  close_fds(fds, layers);
  free(cols);
  free(leaves);
  return rc;
}

/* replica = data + key, written to the sealed file and pushed into tree_r_last. */
static st_code encode(const st_seal_input *in, const st_sector_paths *p, int data_fd, uint8_t comm_r_last[32],
                      st_err *err) {
  const st_sector_info *info = in->info;
  uint64_t nodes = st_sector_nodes(info);
  st_tree_shape shape;
  st_tree_shape_r_last(&shape, info);
  char key_path[ST_PATH_MAX];
  st_code rc = st_sector_layer_path(p->cache, info->layers, key_path, err);
  if (rc) return rc;
  int key_fd = open(key_path, O_RDONLY | O_CLOEXEC);
  if (key_fd < 0) return st_fs_os_error(err, "read from", key_path, errno);
  st_fs_tmpfile sealed;
  tree_files tf;
  memset(&tf, 0, sizeof tf);
  uint8_t *data = malloc((size_t)CHUNK_NODES * 32), *key = malloc((size_t)CHUNK_NODES * 32);
  rc = data && key ? ST_OK : st_err_set(err, ST_ENOMEM, "out of memory for encoding");
  bool sealed_open = false;
  if (!rc) rc = st_fs_tmpfile_open(&sealed, p->sealed, 0644, err);
  sealed_open = !rc;
  if (!rc) rc = tree_files_open(&tf, p, "tree-r-last", &shape, err);
  for (uint64_t v = 0; !rc && v < nodes; v += CHUNK_NODES) {
    size_t n = nodes - v < CHUNK_NODES ? (size_t)(nodes - v) : CHUNK_NODES;
    rc = read_data(data_fd, in->data_path, v, n, data, err);
    if (!rc) rc = st_fs_pread_all(key_fd, key, n * 32, v * 32, key_path, err);
    for (size_t i = 0; !rc && i < n; i++) st_fr_add(data + i * 32, data + i * 32, key + i * 32);
    if (!rc) rc = st_fs_pwrite_all(sealed.fd, data, n * 32, v * 32, sealed.tmp, err);
    if (!rc) rc = tree_files_push(&tf, &shape, v, data, n, err);
  }
  if (!rc) rc = tree_files_commit(&tf, err);
  if (!rc) st_tree_root_of_subroots(&shape, st_hasher_sealing(), tf.roots[0], comm_r_last);
  if (!rc) {
    rc = st_fs_tmpfile_commit(&sealed, err);
    sealed_open = false;
  }
  tree_files_abort(&tf);
  if (sealed_open) st_fs_tmpfile_abort(&sealed);
  close(key_fd);
  free(data);
  free(key);
  return rc;
}

/* bincode of rust-fil-proofs' StoreConfig: path, id, Some(size), rows_to_discard. */
static void put_store_config(st_buf *b, const char *dir, const char *id, uint64_t size, uint64_t rows_to_discard) {
  uint8_t n[8];
  st_le64_put(n, strlen(dir));
  st_buf_append(b, n, 8);
  st_buf_append(b, dir, strlen(dir));
  st_le64_put(n, strlen(id));
  st_buf_append(b, n, 8);
  st_buf_append(b, id, strlen(id));
  st_buf_append(b, "\x01", 1);
  st_le64_put(n, size);
  st_buf_append(b, n, 8);
  st_le64_put(n, rows_to_discard);
  st_buf_append(b, n, 8);
}

/* Nodes of one sub-tree of the sector's oct-trees, every row (get_merkle_tree_len). */
static uint64_t oct_tree_len(const st_sector_info *info) {
  st_tree_shape s;
  st_tree_shape_sector(&s, info, 0);
  return st_tree_file_size(&s) / 32;
}

st_code st_seal_t_aux(const st_sector_info *info, const char *cache_dir, st_buf *out, st_err *err) {
  uint64_t nodes = st_sector_nodes(info);
  uint8_t n[8];
  st_le64_put(n, info->layers);
  st_buf_append(out, n, 8);
  for (unsigned l = 1; l <= info->layers; l++) {
    char id[16];
    snprintf(id, sizeof id, "layer-%u", l);
    put_store_config(out, cache_dir, id, nodes, 0);
  }
  put_store_config(out, cache_dir, "tree-d", 2 * nodes - 1, 0);
  put_store_config(out, cache_dir, "tree-r-last", oct_tree_len(info), st_sector_rows_to_discard(info));
  put_store_config(out, cache_dir, "tree-c", oct_tree_len(info), 0);
  return st_buf_status(out, err);
}

static st_code write_aux(const st_seal_input *in, const st_sector_paths *p, const st_seal_output *out, st_err *err) {
  char path[ST_PATH_MAX];
  st_buf t = ST_BUF_INIT;
  st_code rc = st_seal_t_aux(in->info, p->cache, &t, err);
  if (!rc) rc = st_sector_cache_file(p->cache, "t_aux", path, err);
  if (!rc) rc = st_fs_write_atomic(path, t.data, t.len, 0644, err);
  st_buf_free(&t);
  if (rc) return rc;
  uint8_t paux[64];
  memcpy(paux, out->comm_c, 32);
  memcpy(paux + 32, out->comm_r_last, 32);
  if ((rc = st_sector_cache_file(p->cache, "p_aux", path, err))) return rc;
  return st_fs_write_atomic(path, paux, sizeof paux, 0644, err);
}

/* Labels every layer into the cache folder's layer files, from the replica ID. */
static st_code label_layers(const st_seal_input *in, const st_sector_paths *p, const uint8_t replica_id[32],
                            st_err *err) {
  uint64_t nodes = st_sector_nodes(in->info);
  st_graph g;
  st_graph_init_sector(&g, in->info);
  st_parent_cache pc;
  st_code rc = st_parent_cache_open(&pc, &g, err);
  uint8_t *prev = NULL;
  size_t len = (size_t)(nodes * 32);
  for (unsigned l = 1; !rc && l <= in->info->layers; l++) {
    char name[32];
    snprintf(name, sizeof name, "layer %u", l);
    phase(in, name, false);
    rc = label_layer(p, &pc, replica_id, l, prev, err);
    if (prev) munmap(prev, len);
    prev = NULL;
    if (!rc && l < in->info->layers) {
      char lpath[ST_PATH_MAX];
      rc = st_sector_layer_path(p->cache, l, lpath, err);
      int fd = rc ? -1 : open(lpath, O_RDONLY | O_CLOEXEC);
      if (!rc && fd < 0) rc = st_fs_os_error(err, "read from", lpath, errno);
      if (!rc) rc = map_file(fd, len, PROT_READ, lpath, &prev, err);
      if (fd >= 0) close(fd);
    }
    phase(in, name, true);
  }
  if (prev) munmap(prev, len);
  st_parent_cache_close(&pc);
  return rc;
}

st_code st_seal_key(const st_seal_input *in, const uint8_t comm_d[32], char key_path[ST_PATH_MAX], st_err *err) {
  memset(key_path, 0, ST_PATH_MAX);
  st_sector_paths p;
  st_code rc = st_sector_paths_make(in->root, in->miner, in->sector, &p, err);
  if (!rc) rc = st_fs_mkdir_p(p.cache, 0755, err);
  if (rc) return rc;
  uint8_t replica_id[32];
  st_sector_replica_id(in->info, in->miner, in->sector, in->ticket, comm_d, replica_id);
  rc = label_layers(in, &p, replica_id, err);
  for (unsigned l = 1; l < in->info->layers; l++) { /* only the key is needed */
    char path[ST_PATH_MAX];
    if (!st_sector_layer_path(p.cache, l, path, NULL)) unlink(path);
  }
  if (!rc) rc = st_sector_layer_path(p.cache, in->info->layers, key_path, err);
  return rc;
}

static st_code seal(const st_seal_input *in, st_seal_output *out, st_err *err) {
  const st_sector_info *info = in->info;
  st_sector_paths p;
  st_code rc = st_sector_paths_make(in->root, in->miner, in->sector, &p, err);
  char dir[ST_PATH_MAX];
  snprintf(dir, sizeof dir, "%s/sealed", in->root);
  if (!rc) rc = st_fs_mkdir_p(dir, 0755, err);
  if (!rc) rc = st_fs_mkdir_p(p.cache, 0755, err);
  if (rc) return rc;
  int data_fd = -1;
  if (in->data_path) {
    data_fd = open(in->data_path, O_RDONLY | O_CLOEXEC);
    if (data_fd < 0) return st_fs_os_error(err, "read from", in->data_path, errno);
    struct stat st;
    if (fstat(data_fd, &st) || (uint64_t)st.st_size != info->size) {
      close(data_fd);
      return st_err_set(err, ST_EINVAL, "data path=\"%s\" must hold exactly %llu padded bytes", in->data_path,
                        (unsigned long long)info->size);
    }
  }
  uint8_t *chunk = malloc((size_t)CHUNK_NODES * 32);
  if (!chunk) rc = st_err_set(err, ST_ENOMEM, "out of memory");

  phase(in, "tree_d", false);
  if (!rc) rc = build_tree_d(in, &p, data_fd, out->comm_d, chunk, err);
  phase(in, "tree_d", true);
  free(chunk);

  st_sector_replica_id(info, in->miner, in->sector, in->ticket, out->comm_d, out->replica_id);
  if (!rc) rc = label_layers(in, &p, out->replica_id, err);

  if (!rc) {
    phase(in, "tree_c", false);
    rc = build_tree_c(in, &p, out->comm_c, err);
    phase(in, "tree_c", true);
  }
  if (!rc) {
    phase(in, "tree_r_last", false);
    rc = encode(in, &p, data_fd, out->comm_r_last, err);
    phase(in, "tree_r_last", true);
  }
  if (data_fd >= 0) close(data_fd);
  if (!rc) {
    st_comm_r(st_hasher_sealing(), out->comm_c, out->comm_r_last, out->comm_r);
    phase(in, "aux", false);
    rc = write_aux(in, &p, out, err);
    phase(in, "aux", true);
  }
  return rc;
}

st_code st_seal(const st_seal_input *in, st_seal_output *out, st_err *err) {
  memset(out, 0, sizeof *out);
  st_code rc = seal(in, out, err);
  if (rc) memset(out, 0, sizeof *out);
  return rc;
}

static st_code remove_if_present(const char *path, st_err *err) {
  if (unlink(path) && errno != ENOENT) return st_fs_os_error(err, "remove", path, errno);
  return ST_OK;
}

st_code st_seal_finalize(const st_sector_info *info, const char *root, uint64_t miner, uint64_t sector, st_err *err) {
  st_sector_paths p;
  st_code rc = st_sector_paths_make(root, miner, sector, &p, err);
  char name[64], path[ST_PATH_MAX];
  for (unsigned l = 1; !rc && l <= info->layers; l++) {
    if (!(rc = st_sector_layer_path(p.cache, l, path, err))) rc = remove_if_present(path, err);
  }
  unsigned files = st_sector_tree_files(info);
  for (unsigned i = 0; !rc && i < files; i++) {
    st_sector_tree_file_name("tree-c", i, files, name);
    if (!(rc = st_sector_cache_file(p.cache, name, path, err))) rc = remove_if_present(path, err);
  }
  if (!rc && !(rc = st_sector_cache_file(p.cache, "sc-02-data-tree-d.dat", path, err)))
    rc = remove_if_present(path, err);
  if (rc) return rc;
  int fd = open(p.cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return st_fs_os_error(err, "open directory", p.cache, errno);
  int s = fsync(fd);
  int e = errno;
  close(fd);
  return s ? st_fs_os_error(err, "fsync directory", p.cache, e) : ST_OK;
}

st_code st_read_p_aux(const char *cache_dir, uint8_t comm_c[32], uint8_t comm_r_last[32], st_err *err) {
  memset(comm_c, 0, 32);
  memset(comm_r_last, 0, 32);
  char path[ST_PATH_MAX];
  st_code rc = st_sector_cache_file(cache_dir, "p_aux", path, err);
  if (rc) return rc;
  st_buf b = ST_BUF_INIT;
  rc = st_fs_read_file(path, 4096, &b, err);
  if (!rc && b.len != 64)
    rc = st_err_set(err, ST_EIO, "could not read from path=\"%s\": p_aux is %zu bytes, want 64", path, b.len);
  if (!rc && (!st_fr_is_valid(b.data) || !st_fr_is_valid(b.data + 32)))
    rc = st_err_set(err, ST_EIO, "could not read from path=\"%s\": p_aux holds a value that is not a field element",
                    path);
  if (!rc) {
    memcpy(comm_c, b.data, 32);
    memcpy(comm_r_last, b.data + 32, 32);
  }
  st_buf_free(&b);
  return rc;
}
