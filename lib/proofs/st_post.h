/* st_post: WindowPoSt and WinningPoSt vanilla proofs over sealed sectors on disk.
 *
 * Challenges follow Filecoin (filecoin-facts.md section 2.4): leaf =
 * LE64(SHA-256(randomness || LE64(sector) || LE64(challenge_index))[0..8]) mod nodes, with
 * challenge_index = n (WindowPoSt V1_2: 10 per sector; WinningPoSt: 66 over the one sector
 * chosen by LE64(SHA-256(prover_id || randomness || LE64(0))[0..8]) mod eligible count; its
 * API V1_0 index, sector_index * 66 + n, is n too, its one sector being index 0:
 * rust-fil-proofs post_util.rs generate_fallback_sector_challenges, fallback/utils.rs).
 *
 * Proving a sector reads p_aux, checks H(comm_c || comm_r_last) against the sector's comm_r,
 * opens tree-r-last (sizes checked) and reads each challenged leaf's path. A WindowPoSt
 * partition never fails because of a sector: a sector that cannot be read (missing or short
 * file, bad p_aux, I/O error, past the per-sector timeout) is listed as skipped with its
 * error, and the proof covers the rest. Sectors are read in parallel.
 *
 * Encoding: each sector's proof is rust-fil-proofs' FallbackPoStSectorProof in bincode
 * (st_vproof), the bytes Lotus and Curio pass around as a vanilla proof; a partition's proof is
 * its proven sectors' proofs back to back, in order (Lotus holds them as a list, [][]byte, which
 * is this split at st_vproof_sector_len), and a WinningPoSt proof is its one sector's proof.
 * The verifiers check what rust-fil-proofs' FallbackPoSt verify checks (st_vproof_check), with
 * the challenges derived here.
 *
 * Every out is initialised on return, success or not (st_err.h); a WinningPoSt proof is
 * appended to its st_buf, which may hold part of it on failure. */
#ifndef ST_POST_H
#define ST_POST_H
#include <stddef.h>
#include <stdint.h>
#include "core/st_buf.h"
#include "core/st_err.h"
#include "proofs/st_sector.h"
#include "proofs/st_vproof.h"

/* A sector to prove: its number, comm_r from the chain, and where its files are. */
typedef struct st_post_sector {
  uint64_t number;
  uint8_t comm_r[32];
  const char *sealed_path;
  const char *cache_dir;
} st_post_sector;

/* A sector the verifier expects a proof for. */
typedef struct st_post_public_sector {
  uint64_t number;
  uint8_t comm_r[32];
} st_post_public_sector;

typedef struct st_post_skipped {
  uint64_t number;
  st_code code;
  char error[ST_ERR_MSG_MAX];
} st_post_skipped;

typedef struct st_post_options {
  unsigned parallel;   /* sectors read at once; 0 = 8 */
  unsigned timeout_ms; /* per sector; 0 = none */
} st_post_options;

typedef struct st_post_result {
  st_buf proof;             /* the encoded proof of the sectors not skipped */
  st_post_skipped *skipped; /* in input order */
  size_t nskipped;
  uint64_t bytes_read;
} st_post_result;
void st_post_result_free(st_post_result *r);

uint64_t st_post_leaf_challenge(const uint8_t randomness[32], uint64_t sector, uint64_t index, uint64_t nodes);
uint64_t st_post_select_sector(const uint8_t prover_id[32], const uint8_t randomness[32], uint64_t n, uint64_t count);

/* Fails only for bad arguments (randomness not a field element) or out of memory; sector faults
 * go to result->skipped. */
st_code st_window_post_prove(const st_sector_info *info, const uint8_t randomness[32], const st_post_sector *sectors,
                             size_t n, const st_post_options *opt, st_post_result *result, st_err *err);
/* sectors: the ones proven (the partition's sectors less the skipped ones), in order. */
st_code st_window_post_verify(const st_sector_info *info, const uint8_t randomness[32],
                              const st_post_public_sector *sectors, size_t n, const uint8_t *proof, size_t len,
                              st_err *err);

/* The same proof checked sector by sector: codes[i] (ST_OK or why not) and errors[i] for each
 * of the n sectors. Fails only when the proof is not n sector proofs long (or the randomness is
 * not a field element); every code is then the failure's and every error its message. */
st_code st_window_post_verify_each(const st_sector_info *info, const uint8_t randomness[32],
                                   const st_post_public_sector *sectors, size_t n, const uint8_t *proof, size_t len,
                                   st_code *codes, char (*errors)[ST_ERR_MSG_MAX], st_err *err);

/* A WindowPoSt vanilla proof as Lotus's tools hold it, one FallbackPoStSectorProof per
 * challenged sector of vi, in vi's order, each with 10 challenges (V1_2 indices: n), checked
 * against vi (`spacetime util post verify-vanilla`). The error is the first fault. */
st_code st_window_post_verify_info(const st_vproof_window_info *vi, const uint8_t *proof, size_t len, st_err *err);

/* The quick check of one sector (`proving check` without --slow): the replica has the
 * sector's size, p_aux matches comm_r, tree-r-last's files have their sizes and its root is
 * comm_r_last. No challenge is read; the error is the one a proof would meet first. */
st_code st_post_check_sector(const st_sector_info *info, const st_post_sector *s, st_err *err);

/* WinningPoSt over the eligible sectors: picks one and proves it; a fault fails the proof. The
 * sector is read on a thread of its own; with opt's timeout_ms (opt may be NULL: none) a read
 * not done in time fails the proof as WindowPoSt skips a sector (its thread is left to finish). */
st_code st_winning_post_prove(const st_sector_info *info, uint64_t miner, const uint8_t randomness[32],
                              const st_post_sector *eligible, size_t n, const st_post_options *opt, st_buf *proof,
                              st_err *err);
st_code st_winning_post_verify(const st_sector_info *info, uint64_t miner, const uint8_t randomness[32],
                               const st_post_public_sector *eligible, size_t n, const uint8_t *proof, size_t len,
                               st_err *err);

#endif
