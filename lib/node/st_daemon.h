/* st_daemon: one chain node's life, in one place: its chain store, message pool and full node,
 * the JSON-RPC API on HTTP (with GET /health and the explorer at /), and the bootstrap producer,
 * started in that order and stopped in the reverse one. `spacetime daemon` runs one, and so do
 * the tests' in-process nodes, so a test runs the same node an operator does.
 *
 * The bootstrap producer (docs/consensus.md): an account of the node's wallet makes the block of
 * an epoch while nobody has power at the election's lookback, or, once miners have power, after
 * bootstrap-after-nulls null rounds in a row (so a devnet whose only miner cannot prove never
 * halts). Otherwise it stands by. */
#ifndef ST_DAEMON_H
#define ST_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "chain/st_chain.h"
#include "chain/st_genesis.h"
#include "codec/st_address.h"
#include "core/st_err.h"
#include "node/st_fullnode.h"

typedef struct st_daemon_config {
  const char *repo;          /* the chain store; the wallet is repo/keystore */
  const st_genesis *genesis; /* the chain's genesis */
  const char *listen;        /* the API's address, "127.0.0.1:1234"; port 0 picks a free one */
  unsigned threads;          /* the API's threads (0: 8) */
  const uint8_t *jwt_secret; /* ST_JWT_SECRET_LEN bytes, copied */
  const char *version;       /* Version's answer (borrowed: it must outlive the daemon) */
  const uint8_t *beacon_sk;  /* the beacon's secret key (32 bytes), or NULL: no beacon */
  bool log_heads;            /* log each new head, as `spacetime daemon` does */
} st_daemon_config;

typedef struct st_daemon st_daemon;

/* Opens the chain, makes the full node and serves its API. *out is NULL on failure, and
 * nothing is left running. */
st_code st_daemon_start(const st_daemon_config *cfg, st_daemon **out, st_err *err);
/* Ends waits in progress, stops the API, frees the node and closes the chain (NULL is fine). */
void st_daemon_stop(st_daemon *d);

st_chain *st_daemon_chain(st_daemon *d);
st_fullnode *st_daemon_fullnode(st_daemon *d);
/* The API's port (the one picked, for port 0). */
unsigned st_daemon_port(const st_daemon *d);

/* Whose block an epoch is. */
typedef enum st_producer_turn {
  ST_PRODUCER_NOT_DUE,   /* the head is at or past the epoch already */
  ST_PRODUCER_STANDBY,   /* miners have power at the lookback: their blocks */
  ST_PRODUCER_BOOTSTRAP, /* nobody has power at the lookback: the producer's */
  ST_PRODUCER_NULLS      /* power, but bootstrap-after-nulls rounds passed without a block */
} st_producer_turn;

/* The turn for epoch on the chain's head, whose height goes into *head_height. On failure *turn
 * is ST_PRODUCER_NOT_DUE and *head_height 0. */
st_code st_daemon_producer_turn(st_daemon *d, int64_t epoch, st_producer_turn *turn, int64_t *head_height, st_err *err);

/* The producer's step for the wall clock's epoch: when it is the producer's turn, producer (a key
 * of the wallet) makes the block and submits it. Logs what it does: a change between standing
 * by and producing, a block made after null rounds (WARN), each block, and failures. */
void st_daemon_produce(st_daemon *d, const st_address *producer);

/* The registry this daemon was told of (`spacetime daemon --server-api`), as last checked by its
 * owner: /health then shows {"registry": {"url", "reachable", "error", "checked"}} and /metrics
 * spacetime_daemon_registry_up. The daemon uses no registry itself: it only reports it, so an
 * operator sees from the chain node whether the cluster's database is up. why: "" when reachable.
 * The strings are copied. */
void st_daemon_set_registry(st_daemon *d, const char *url, bool reachable, const char *why);

#endif
