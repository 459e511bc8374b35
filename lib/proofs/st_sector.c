/* st_sector: Filecoin's per-size proof parameters and the sector file layout. */
#include "proofs/st_sector.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/st_encoding.h"

static const st_sector_info TABLE[] = {
    {"2KiB", 2048ULL, 2, 5, 10, 0, 2, 0, 0, 1, 2},
    {"8MiB", 8ULL << 20, 2, 6, 11, 1, 2, 0, 0, 1, 2},
    {"512MiB", 512ULL << 20, 2, 7, 12, 2, 2, 0, 0, 1, 2},
    {"32GiB", 32ULL << 30, 2349, 8, 13, 3, 11, 8, 0, 10, 18},
    {"64GiB", 64ULL << 30, 2300, 9, 14, 4, 11, 8, 2, 10, 18},
};
#define NSIZES (sizeof TABLE / sizeof TABLE[0])

const st_sector_info *st_sector_table(size_t *n) {
  *n = NSIZES;
  return TABLE;
}

const st_sector_info *st_sector_by_size(uint64_t size) {
  for (size_t i = 0; i < NSIZES; i++)
    if (TABLE[i].size == size) return &TABLE[i];
  return NULL;
}

const st_sector_info *st_sector_by_seal_proof(int seal_proof) {
  for (size_t i = 0; i < NSIZES; i++)
    if (TABLE[i].seal_proof == seal_proof) return &TABLE[i];
  return NULL;
}

st_code st_sector_seal_version(const st_sector_info *info, const char *version, st_sector_info *out, st_err *err) {
  *out = *info;
  if (!strcmp(version, "V1")) out->seal_proof = info->seal_proof - 5; /* V1 ids are 0..4, V1_1 5..9 */
  else if (strcmp(version, "V1_1")) return st_err_set(err, ST_EINVAL, "\"%s\" is not V1 or V1_1", version);
  return ST_OK;
}

const st_sector_info *st_sector_by_window_proof(int window_proof) {
  for (size_t i = 0; i < NSIZES; i++)
    if (TABLE[i].window_proof == window_proof) return &TABLE[i];
  return NULL;
}

st_code st_sector_lookup(const char *text, const st_sector_info **out, st_err *err) {
  *out = NULL;
  for (size_t i = 0; i < NSIZES; i++) {
    if (strcasecmp(text, TABLE[i].name) == 0) {
      *out = &TABLE[i];
      return ST_OK;
    }
  }
  uint64_t bytes;
  if (st_parse_u64(text, "sector size", &bytes, NULL) == ST_OK && (*out = st_sector_by_size(bytes))) return ST_OK;
  return st_err_set(err, ST_EINVAL, "unknown sector size \"%s\" (want 2KiB, 8MiB, 512MiB, 32GiB or 64GiB)", text);
}

uint64_t st_sector_nodes(const st_sector_info *s) { return s->size / ST_NODE_SIZE; }

unsigned st_sector_tree_files(const st_sector_info *s) {
  return (s->sub_arity ? s->sub_arity : 1) * (s->top_arity ? s->top_arity : 1);
}

uint64_t st_sector_subtree_leaves(const st_sector_info *s) { return st_sector_nodes(s) / st_sector_tree_files(s); }

unsigned st_sector_subtree_rows(const st_sector_info *s) {
  unsigned rows = 1;
  for (uint64_t n = st_sector_subtree_leaves(s); n > 1; n /= 8) rows++;
  return rows;
}

unsigned st_sector_rows_to_discard(const st_sector_info *s) {
  unsigned rows = st_sector_subtree_rows(s);
  return rows <= 2 ? 0 : rows == 3 ? 1 : 2;
}

void st_sector_name(uint64_t miner, uint64_t number, char out[ST_SECTOR_NAME_MAX]) {
  snprintf(out, ST_SECTOR_NAME_MAX, "s-t0%" PRIu64 "-%" PRIu64, miner, number);
}

st_code st_sector_paths_make(const char *root, uint64_t miner, uint64_t number, st_sector_paths *out, st_err *err) {
  char name[ST_SECTOR_NAME_MAX];
  st_sector_name(miner, number, name);
  int a = snprintf(out->sealed, ST_PATH_MAX, "%s/sealed/%s", root, name);
  int b = snprintf(out->cache, ST_PATH_MAX, "%s/cache/%s", root, name);
  int c = snprintf(out->unsealed, ST_PATH_MAX, "%s/unsealed/%s", root, name);
  if (a < 0 || b < 0 || c < 0 || a >= ST_PATH_MAX || b >= ST_PATH_MAX || c >= ST_PATH_MAX) {
    st_err_set(err, ST_ERANGE, "storage path too long: %s", root);
    memset(out, 0, sizeof *out);
    return ST_ERANGE;
  }
  return ST_OK;
}

st_code st_sector_cache_file(const char *cache_dir, const char *file, char out[ST_PATH_MAX], st_err *err) {
  int n = snprintf(out, ST_PATH_MAX, "%s/%s", cache_dir, file);
  if (n < 0 || n >= ST_PATH_MAX) {
    st_err_set(err, ST_ERANGE, "path too long: %s/%s", cache_dir, file);
    memset(out, 0, ST_PATH_MAX);
    return ST_ERANGE;
  }
  return ST_OK;
}

st_code st_sector_layer_path(const char *cache_dir, unsigned layer, char out[ST_PATH_MAX], st_err *err) {
  char name[64];
  snprintf(name, sizeof name, "sc-02-data-layer-%u.dat", layer);
  return st_sector_cache_file(cache_dir, name, out, err);
}

void st_sector_tree_file_name(const char *kind, unsigned i, unsigned count, char out[64]) {
  if (count == 1) snprintf(out, 64, "sc-02-data-%s.dat", kind);
  else snprintf(out, 64, "sc-02-data-%s-%u.dat", kind, i);
}
