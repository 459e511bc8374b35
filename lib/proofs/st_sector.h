/* st_sector: the sector sizes we prove, with Filecoin's parameters for each, and the names and
 * paths a sector's files take on disk.
 *
 * One row per size: partition size, proof type ids, SDR layer count, tree shape, PoRep and PoSt
 * challenge counts (filecoin-facts.md sections 2 to 4; rust-fil-proofs constants.rs).
 *
 * Every out is initialised on return, success or not (st_err.h): a size not found is NULL, a
 * path that does not fit is all NULs. */
#ifndef ST_SECTOR_H
#define ST_SECTOR_H
#include <stddef.h>
#include <stdint.h>
#include "core/st_err.h"

#define ST_NODE_SIZE 32
#define ST_DRG_DEGREE 6
#define ST_EXP_DEGREE 8
#define ST_MAX_LAYERS 11
#define ST_WINDOW_CHALLENGES 10
#define ST_WINNING_CHALLENGES 66
#define ST_WINNING_SECTORS 1

typedef struct st_sector_info {
  const char *name;          /* "2KiB" */
  uint64_t size;             /* bytes */
  uint64_t window_partition; /* sectors per WindowPoSt partition */
  int seal_proof;            /* RegisteredSealProof, V1_1 (5..9) */
  int window_proof;          /* RegisteredPoStProof, Window V1_1 (10..14) */
  int winning_proof;         /* RegisteredPoStProof, Winning V1 (0..4) */
  unsigned layers;           /* SDR layers; the last is the key */
  unsigned sub_arity;        /* tree shape (8, sub, top); 0 = absent */
  unsigned top_arity;
  unsigned porep_partitions;
  unsigned porep_challenges; /* per partition */
} st_sector_info;

/* The table, in size order; *n gets its length. */
const st_sector_info *st_sector_table(size_t *n);
/* "2KiB", "8MiB", "512MiB", "32GiB", "64GiB", or the byte count. */
st_code st_sector_lookup(const char *text, const st_sector_info **out, st_err *err);
const st_sector_info *st_sector_by_size(uint64_t size);
const st_sector_info *st_sector_by_seal_proof(int seal_proof);
const st_sector_info *st_sector_by_window_proof(int window_proof);
/* info's row with the seal proof of version "V1" (ids 0..4, which draw the SDR graph in API
 * V1_0_0's order) or "V1_1" (the table's, 5..9), as a flag names them; out is info's row on
 * failure, when version is neither ("\"V2\" is not V1 or V1_1"). */
st_code st_sector_seal_version(const st_sector_info *info, const char *version, st_sector_info *out, st_err *err);

uint64_t st_sector_nodes(const st_sector_info *s);
/* tree_r_last / tree_c: number of sub-tree files (1, 8 or 16) and leaves in each. */
unsigned st_sector_tree_files(const st_sector_info *s);
uint64_t st_sector_subtree_leaves(const st_sector_info *s);
/* Rows of the 8-ary sub-tree (leaf row included) and rust-fil-proofs' default rows_to_discard:
 * 0 for up to 2 rows, 1 for 3 rows, else 2. */
unsigned st_sector_subtree_rows(const st_sector_info *s);
unsigned st_sector_rows_to_discard(const st_sector_info *s);

/* Sector file name "s-t0<miner>-<number>" (the literal t0 also on mainnet). */
#define ST_SECTOR_NAME_MAX 48
void st_sector_name(uint64_t miner, uint64_t number, char out[ST_SECTOR_NAME_MAX]);

/* Where one sector's files live under a storage root: <root>/sealed/<name>,
 * <root>/cache/<name>/, <root>/unsealed/<name>. */
#define ST_PATH_MAX 4096
typedef struct st_sector_paths {
  char sealed[ST_PATH_MAX];
  char cache[ST_PATH_MAX];
  char unsealed[ST_PATH_MAX];
} st_sector_paths;
st_code st_sector_paths_make(const char *root, uint64_t miner, uint64_t number, st_sector_paths *out, st_err *err);
/* <cache_dir>/<file>, e.g. file = "p_aux". */
st_code st_sector_cache_file(const char *cache_dir, const char *file, char out[ST_PATH_MAX], st_err *err);
/* <cache_dir>/sc-02-data-layer-<layer>.dat, the labels of SDR layer (1-based). */
st_code st_sector_layer_path(const char *cache_dir, unsigned layer, char out[ST_PATH_MAX], st_err *err);
/* Name of tree file i of count: "sc-02-data-tree-r-last.dat" when count is 1, else with "-<i>".
 * kind is "tree-r-last", "tree-c" or "tree-d". */
void st_sector_tree_file_name(const char *kind, unsigned i, unsigned count, char out[64]);

#endif
