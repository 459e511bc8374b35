/* st_seal: SDR sealing of one sector into Filecoin's file layout, and finalize.
 *
 * Sealing reads the sector's padded data (or zeros, for a committed-capacity sector) and
 * leaves, under the sector's paths (st_sector_paths):
 *   sealed/s-t0<miner>-<n>                      the replica, exactly the sector size
 *   cache/s-t0<miner>-<n>/sc-02-data-tree-d.dat binary tree over the data (comm_d)
 *                        sc-02-data-layer-<l>.dat the labels of layer l (1..layers)
 *                        sc-02-data-tree-c[-i].dat tree over the label columns (comm_c)
 *                        sc-02-data-tree-r-last[-i].dat level-cached tree over the replica
 *                        t_aux                     what the trees are (rust-fil-proofs' bincode)
 *                        p_aux                     comm_c || comm_r_last, 64 bytes
 * Every file is written under a temporary name and renamed when complete; p_aux is written
 * last, so a cache with a p_aux has every file the proofs need. Labels are computed in a
 * memory-mapped layer file, so memory holds at most the current and the previous layer's
 * pages, and the kernel pages them out for sectors larger than RAM.
 *
 * Filecoin's SDR, bit for bit (rust-fil-proofs; shared/reference section 4.4):
 * replica_id = trunc254(SHA-256(prover_id || BE64(sector) || ticket || comm_d || porep_id));
 * label(l, v) = trunc254(SHA-256(replica_id || BE32(l) || BE64(v) || 20 zero bytes || P)), where
 * P is empty for v = 0; in layer 1 the 6 base-parent labels 6 times, then the first once; in
 * layer l >= 2 the 14 parent labels (6 base from layer l, 8 expander from layer l-1) twice, then
 * the first 9 of them: 37 labels either way. Parents come from the parent cache
 * (st_parent_cache). The last layer is the key; replica = data + key in Fr.
 *
 * Every out is initialised on return, success or not (st_err.h): on failure the seal's output,
 * the key's path and p_aux's commitments are all zero. */
#ifndef ST_SEAL_H
#define ST_SEAL_H
#include <stdbool.h>
#include <stdint.h>
#include "core/st_buf.h"
#include "core/st_err.h"
#include "proofs/st_graph.h"
#include "proofs/st_parent_cache.h"
#include "proofs/st_sector.h"

/* prover_id: the miner's ID-address payload (LEB128 of the actor id), zero-padded. */
void st_prover_id(uint64_t miner, uint8_t out[32]);
/* porep_id: LE64(seal proof id) followed by 24 zero bytes. */
void st_porep_id(int seal_proof, uint8_t out[32]);
void st_replica_id(const uint8_t prover_id[32], uint64_t sector, const uint8_t ticket[32], const uint8_t comm_d[32],
                   const uint8_t porep_id[32], uint8_t out[32]);
/* The replica ID of sector of miner with this ticket and comm_d (prover and porep IDs derived). */
void st_sector_replica_id(const st_sector_info *info, uint64_t miner, uint64_t sector, const uint8_t ticket[32],
                          const uint8_t comm_d[32], uint8_t out[32]);
/* The label of node v in layer (1-based) from its parents' labels, in the graph's order: drg[6]
 * from the same layer, exp[8] from the previous layer (ignored, and may be NULL, in layer 1).
 * v = 0 hashes no parents. For the verifier; labeling a whole layer is st_sdr_label_layer. */
void st_sdr_label(const uint8_t replica_id[32], unsigned layer, uint64_t v, const uint8_t *drg, const uint8_t *exp,
                  uint8_t out[32]);
/* Labels every node of layer (1-based) into cur (pc->nodes * 32 bytes), in order, reading the
 * parents from pc and the expander parents' labels from prev (layer-1; NULL for layer 1). A
 * layer of more than 8192 nodes on a machine of two CPUs or more is labelled on two threads: one
 * gathers each node's parent labels up to 4096 nodes ahead (the random reads), the other hashes
 * them in order and fills in the base parents labelled too recently to gather. On failure (no
 * SHA-256 context) cur is untouched. */
st_code st_sdr_label_layer(const st_parent_cache *pc, const uint8_t replica_id[32], unsigned layer, const uint8_t *prev,
                           uint8_t *cur, st_err *err);

typedef struct st_seal_observer {
  /* Called when a phase starts (done = false) and ends (done = true). Phases: "tree_d",
   * "layer 1".. "layer N", "tree_c", "tree_r_last" (encoding the replica with it), "aux". */
  void (*phase)(void *arg, const char *phase, bool done);
  void *arg;
} st_seal_observer;

typedef struct st_seal_input {
  const st_sector_info *info;
  uint64_t miner;
  uint64_t sector;
  uint8_t ticket[32];
  const char *data_path; /* padded data, exactly the sector size; NULL = committed capacity (zeros) */
  const char *root;      /* storage root holding sealed/ and cache/ */
  const st_seal_observer *observer;
} st_seal_input;

typedef struct st_seal_output {
  uint8_t comm_d[32];
  uint8_t comm_r[32];
  uint8_t comm_c[32];
  uint8_t comm_r_last[32];
  uint8_t replica_id[32];
} st_seal_output;

st_code st_seal(const st_seal_input *in, st_seal_output *out, st_err *err);
/* The key a sector was sealed with (the last label layer), regenerated from in's miner,
 * sector, ticket and comm_d into the layer file under in->root's cache folder (the other
 * layers are removed); key_path gets its path. For unsealing (st_unseal). */
st_code st_seal_key(const st_seal_input *in, const uint8_t comm_d[32], char key_path[ST_PATH_MAX], st_err *err);
/* Deletes the label layers, tree_c and tree_d, keeping what PoSt needs (sealed file, p_aux,
 * t_aux, tree-r-last), as rust-fil-proofs' clear_cache_dir does. */
st_code st_seal_finalize(const st_sector_info *info, const char *root, uint64_t miner, uint64_t sector, st_err *err);
/* Appends the t_aux rust-fil-proofs writes for a sector of info in cache_dir: bincode of its
 * TemporaryAux, the StoreConfigs of the layers ("layer-<l>", nodes), "tree-d" (2 nodes - 1),
 * "tree-r-last" (one sub-tree's nodes, rows_to_discard) and "tree-c" (the same, 0), each
 * {path = cache_dir, id, Some(size), rows_to_discard}. Fails only out of memory. */
st_code st_seal_t_aux(const st_sector_info *info, const char *cache_dir, st_buf *out, st_err *err);
/* Reads the 64-byte p_aux of a sector: comm_c, then comm_r_last. */
st_code st_read_p_aux(const char *cache_dir, uint8_t comm_c[32], uint8_t comm_r_last[32], st_err *err);

#endif
