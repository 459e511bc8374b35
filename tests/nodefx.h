/* nodefx: a chain daemon in-process (st_daemon, as `spacetime daemon` runs it) serving its
 * JSON-RPC API on loopback, and a miner side that reaches it only through that API (lib/miner), for the
 * tests in tests/miner/. The genesis is far in the past, so every height is free to build:
 * nf_mine makes the round's block through st_blockprod_round once the network has power at the
 * lookback, and a bootstrap block (as the daemon's producer) before that. The account (t0100,
 * key in the node's wallet) owns and works miner t01000. */
#ifndef NODEFX_H
#define NODEFX_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "chain/st_chain.h"
#include "chain/st_deadline.h"
#include "miner/st_blockprod.h"
#include "node/st_daemon.h"
#include "proofs/st_sector.h"
#include "rpc/st_rpc_client.h"

#define NF_MINER 1000
#define NF_MAX_SECTORS 16

typedef struct nodefx {
  char dir[256], store[600];
  st_genesis g;
  st_daemon *daemon;
  st_chain *chain; /* the daemon's */
  st_apiinfo api;  /* where the API is, with an admin token */
  st_rpc_client *c;
  uint8_t sk[32], beacon_sk[32];
  st_address account;
  bool miner_exists;
  uint8_t comm_r[NF_MAX_SECTORS + 1][32]; /* by sector number */
  int64_t won, nulls;                     /* rounds the miner won and lost through st_blockprod_round */
  int64_t last_round;                     /* the last round tried */
  int64_t lost_io;                        /* rounds won whose WinningPoSt could not read its sector */
} nodefx;

void nf_open(nodefx *f);
void nf_close(nodefx *f);
/* Stops the daemon and starts it again on the same repo (a restart; the pool keeps only what
 * the chain store kept). */
void nf_restart(nodefx *f);
/* A cmocka group setup and teardown around one nodefx of the process's own (*state is it). */
int nf_group_setup(void **state);
int nf_group_teardown(void **state);
const st_sector_info *nf_info2k(void);

int64_t nf_height(nodefx *f);
/* A call that must succeed: its result (a new reference). */
json_t *nf_rpc(nodefx *f, const char *method, const char *params_text);
/* The result must equal want_text (JSON). */
void nf_assert_rpc(nodefx *f, const char *method, const char *params, const char *want_text);
/* The miner's raw power (equal to its QA power: no deals). */
long nf_power(nodefx *f);

/* Whether round epoch is the bootstrap producer's (no power at the lookback), and its block. */
bool nf_bootstrap_due(nodefx *f, int64_t epoch);
void nf_bootstrap(nodefx *f, int64_t epoch);
/* Round epoch (each round is tried once: a lost one is a null round). */
void nf_mine(nodefx *f, int64_t epoch);
/* The next round not tried yet. */
void nf_mine_next(nodefx *f);
/* Rounds until h has been tried (the head may stay below h after null rounds). */
void nf_mine_to(nodefx *f, int64_t h);
/* MpoolPushMessage from the account (gas_limit 0: estimated). */
st_code nf_push(nodefx *f, uint64_t to, uint64_t method, const st_buf *params, const char *value, int64_t gas_limit,
                st_cid *cid, st_err *err);
/* Mines until the message is on chain: its exit code. */
int64_t nf_landed(nodefx *f, const st_cid *cid);
void nf_send_ok(nodefx *f, uint64_t to, uint64_t method, const st_buf *params, const char *value);

/* The sector locator over f->store (a st_sector_locate_fn; ctx is the store path). */
st_code nf_locate(void *ctx, uint64_t miner, uint64_t sector, st_sector_paths *out, st_err *err);
void nf_randomness(nodefx *f, bool beacon, int64_t dst, int64_t round, uint8_t out[32]);

void nf_create_miner(nodefx *f);
/* The usual start: the miner created and sectors 1..count committed (in one partition for
 * count <= 2); returns sector 1's deadline. */
uint64_t nf_miner_with_sectors(nodefx *f, uint64_t count);
/* Seals sectors first..first+count-1, pre-commits them, waits for the seed and prove-commits. */
void nf_commit_sectors(nodefx *f, uint64_t first, uint64_t count);
/* Which deadline holds sector (through StateMinerPartitions). */
uint64_t nf_deadline_of(nodefx *f, uint64_t sector);
/* The next instance of deadline d that has not elapsed at the head. */
void nf_next_instance(nodefx *f, uint64_t d, st_deadline_info *out);

/* Proves deadline d's next instance whose Challenge is still ahead with st_wdpost (sectors
 * located by nf_locate in the store) into one message, submits it at Open and mines until it
 * lands; returns how many sectors it skipped as unreadable. */
size_t nf_post_deadline(nodefx *f, uint64_t d);
/* nf_post_deadline with another locator and more checked on the way. */
typedef struct nf_post_opts {
  st_sector_locate_fn locate; /* NULL: nf_locate in the store */
  bool check_sectors;         /* the message proves one partition of exactly `sectors` sectors */
  size_t sectors;
  bool refused_before_open; /* with a round to spare before Open, the node refuses the message (exit code 16) */
} nf_post_opts;
size_t nf_post_deadline_with(nodefx *f, uint64_t d, const nf_post_opts *o);
/* st_wdpost's config for the account's miner t01000, its sectors located in the store. */
struct st_wdpost_cfg;
void nf_wdpost_cfg(nodefx *f, struct st_wdpost_cfg *cfg);
/* A client of an address where nothing listens: every call fails with ST_EUNAVAIL. */
st_rpc_client *nf_dead_client(void);
/* A registry on loopback over SQLite in dir (registry.db) with write token, for the miner's
 * tests: its URL into url and a client with the token. */
struct st_registry_server;
struct st_regc;
struct st_registry_server *nf_registry_start(const char *dir, const char *token, char url[64], struct st_regc **reg);

#endif
