/* st_genesis: the genesis file (network parameters, pre-funded accounts, timestamp) and the
 * state it starts the chain with.
 *
 * The file is JSON, written once by `spacetime genesis new` and read by every daemon of the
 * network, so they all start from the same state root:
 *   {"version": 1, "network": {"name": "devnet", "block_delay": 1, ...},
 *    "timestamp": 1764032400, "reward_pool": "1000000000000000000000000",
 *    "beacon": "04...", "accounts": [{"address": "t1...", "balance": "1000000000000000000000"}]}
 * Amounts are attoFIL as decimal strings. "beacon" is the beacon's public key (st_beacon; 65
 * bytes uncompressed secp256k1, hex); its secret key stays with the daemon that runs the beacon
 * (`genesis new` writes it to FILE.beacon-key). */
#ifndef ST_GENESIS_H
#define ST_GENESIS_H

#include <gmp.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/st_network.h"
#include "chain/st_state.h"
#include "codec/st_address.h"
#include "core/st_err.h"

#define ST_GENESIS_MAX_ACCOUNTS 900 /* t0100 .. t0999: IDs from 1000 are for actors made on chain */

typedef struct st_genesis_account {
  st_address address; /* a key address (t1/t3); it becomes t0100, t0101, ... in order */
  mpz_t balance;
} st_genesis_account;

typedef struct st_genesis {
  st_network network;
  uint64_t timestamp;     /* unix seconds of epoch 0 */
  mpz_t reward_pool;      /* the reward actor's balance, paid out as block rewards */
  uint8_t beacon_pub[65]; /* all zero until set: then no beacon entry verifies */
  st_genesis_account *accounts;
  size_t naccounts;
} st_genesis;

void st_genesis_init(st_genesis *g);
void st_genesis_clear(st_genesis *g);
/* Adds an account from "ADDR=FIL" (e.g. "t1abc...=1000"); errors name the text. */
st_code st_genesis_add_account(st_genesis *g, const char *spec, st_err *err);

/* Makes a new beacon key: its public key goes into g, the secret into sk (zeroed on failure).
 * The reads (from_json, read) take g initialised and replace it: the genesis, or empty on
 * failure; st_genesis_state does the same with out. */
st_code st_genesis_new_beacon(st_genesis *g, uint8_t sk[32], st_err *err);

/* NULL if an account's address cannot be written, or out of memory. */
json_t *st_genesis_to_json(const st_genesis *g);
st_code st_genesis_from_json(const json_t *j, st_genesis *g, st_err *err);
st_code st_genesis_write(const st_genesis *g, const char *path, st_err *err); /* atomically */
st_code st_genesis_read(const char *path, st_genesis *g, st_err *err);

/* The state at epoch 0: the built-in actors (t00 system ... t099 burnt funds; the reward actor
 * holds the reward pool) and the accounts. */
st_code st_genesis_state(const st_genesis *g, st_state *out, st_err *err);

#endif
