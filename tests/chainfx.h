/* chainfx: a real chain in a temporary repo for tests/chain: genesis with funded keys, blocks
 * mined one epoch at a time (bootstrap blocks until someone has power, then elected blocks of
 * miner FX_MINER with real WinningPoSt), messages signed and pushed through the pool, and the
 * sealing steps of a 2 KiB sector (seal, PreCommitSector, ProveCommitSector). */
#ifndef CHAINFX_H
#define CHAINFX_H

#include <stdbool.h>
#include <stdint.h>

#include "chain/st_chain.h"
#include "chain/st_genesis.h"
#include "chain/st_mpool.h"
#include "core/st_buf.h"
#include "proofs/st_seal.h"

#define FX_MINER 1000 /* the first miner created on chain */
#define FX_KEYS 4

typedef struct fx {
  char dir[256], store[300];
  st_genesis g;
  uint8_t beacon_sk[32];
  int nkeys;
  uint8_t sk[FX_KEYS][32];
  st_address addr[FX_KEYS]; /* genesis accounts t0100, t0101, ... */
  st_chain *c;
  st_mpool *pool;
  uint64_t nonce[FX_KEYS];
  uint8_t comm_r[32]; /* of the last sector fx_precommit sealed */
} fx;

const st_sector_info *fx_info2k(void);
/* nkeys funded keys (100000 FIL each); verifreg_root: the index of the key that is the
 * verified registry's root, or -1. */
void fx_setup(fx *f, int nkeys, int verifreg_root);
/* The same with the devnet profile's parameters changed by tweak first. */
void fx_setup_net(fx *f, int nkeys, int verifreg_root, void (*tweak)(st_network *net));
void fx_teardown(fx *f);
int64_t fx_head_height(fx *f);
void fx_add_beacons(fx *f, st_block_header *b, int64_t parent_height, int64_t epoch);
/* Fills a miner block template for epoch; false if the miner did not win. */
bool fx_elect(fx *f, uint64_t miner, int who, int64_t epoch, st_block_header *b);
/* One epoch: a bootstrap block while the network has no power, else FX_MINER's block if it
 * wins (a null round if not). Messages come from the pool. */
void fx_mine(fx *f, int64_t epoch);
void fx_mine_to(fx *f, int64_t h);
void fx_push(fx *f, int who, uint64_t to, uint64_t method, const st_buf *params, const char *value, st_cid *cid);
/* Pushes, mines until the message is in, returns its exit code; ret (optional) gets its return. */
int64_t fx_call(fx *f, int who, uint64_t to, uint64_t method, const st_buf *params, const char *value);
int64_t fx_call_ret(fx *f, int who, uint64_t to, uint64_t method, const st_buf *params, const char *value, st_buf *ret);
void fx_miner_state(fx *f, st_miner_state *m);
/* Key who creates FX_MINER (owner and worker). */
void fx_create_miner(fx *f, int who);

/* A sector being committed. */
typedef struct fx_sector {
  uint64_t number;
  st_seal_input in;
  st_seal_output out;
} fx_sector;
/* Seals sector number of FX_MINER (data_path: padded sector data, NULL for zeros) and sends its
 * PreCommitSector with deals and expiration; returns the exit code. */
int64_t fx_precommit(fx *f, uint64_t number, const char *data_path, const uint64_t *deals, size_t ndeals,
                     int64_t expiration, fx_sector *s);
/* Waits for the seed, proves and sends ProveCommitSector; returns its exit code. With checks,
 * first asserts that a proof before the seed and a tampered proof are refused. Finalizes the
 * sector when it lands. */
int64_t fx_prove_commit(fx *f, fx_sector *s, bool checks);

#endif
