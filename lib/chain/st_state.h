/* st_state: the state tree, every actor with its balance, nonce and state, and the root CID
 * that commits to all of it.
 *
 * Actors are kept sorted by ID. The root is the dag-cbor CID of
 *   [1, next_id, [[id, robust address bytes, code CID, head CID, nonce, balance], ...]]
 * in ID order, so the same state always gives the same root and any change to any actor (or to
 * the next ID) gives another. An actor's own state (a miner's sectors, say) is an object of its
 * own, stored by CID; the tree holds its head CID. Filecoin uses a HAMT here; this flat form is
 * simpler and gives the same guarantees at the sizes a devnet reaches (docs/ARCHITECTURE.md).
 *
 * Changes made while applying one message go through a journal (st_state_mark / _revert /
 * _commit), so a failed message is undone and only its fee stays. */
#ifndef ST_STATE_H
#define ST_STATE_H

#include <gmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/st_address.h"
#include "codec/st_cid.h"
#include "core/st_buf.h"
#include "core/st_err.h"

/* Built-in actors and their IDs, as in Filecoin (t00 system ... t099 burnt funds). */
typedef enum st_actor_kind {
  ST_ACTOR_SYSTEM,
  ST_ACTOR_INIT,
  ST_ACTOR_REWARD,
  ST_ACTOR_CRON,
  ST_ACTOR_POWER,
  ST_ACTOR_MARKET,
  ST_ACTOR_VERIFREG,
  ST_ACTOR_BURNT,
  ST_ACTOR_ACCOUNT,
  ST_ACTOR_MINER,
  ST_ACTOR_KIND_COUNT
} st_actor_kind;

#define ST_ID_SYSTEM 0
#define ST_ID_INIT 1
#define ST_ID_REWARD 2
#define ST_ID_CRON 3
#define ST_ID_POWER 4
#define ST_ID_MARKET 5
#define ST_ID_VERIFREG 6
#define ST_ID_BURNT 99
#define ST_ID_FIRST_ACCOUNT 100 /* genesis accounts get 100, 101, ... */
#define ST_ID_FIRST_NEW 1000    /* actors created on chain get 1000, 1001, ... (t01000 is the first miner) */

/* "account", "storageminer", ... (the names in Filecoin's code CIDs). */
const char *st_actor_kind_name(st_actor_kind k);
/* The code CID: raw codec, identity multihash of "fil/1/<name>" (as Lotus's v0 actors). */
void st_actor_code(st_actor_kind k, st_cid *out);
st_code st_actor_kind_of_code(const st_cid *code, st_actor_kind *out, st_err *err);

typedef struct st_state_actor {
  uint64_t id;
  st_address robust; /* the key address of an account; len 0 for others */
  st_actor_kind kind;
  st_cid head; /* CID of the actor's own state object */
  uint64_t nonce;
  mpz_t balance;
} st_state_actor;

typedef struct st_journal_entry st_journal_entry;

typedef struct st_state {
  st_state_actor *actors; /* sorted by id */
  size_t n, cap;
  uint64_t next_id;
  /* the journal of the message being applied */
  st_journal_entry *journal;
  size_t njournal, capjournal;
  bool marking;
  uint64_t mark_next_id;
} st_state;

void st_state_init(st_state *s);
void st_state_clear(st_state *s);
st_code st_state_copy(st_state *dst, const st_state *src, st_err *err); /* dst initialised, replaced */

/* The actor with this ID, or NULL. */
st_state_actor *st_state_get(st_state *s, uint64_t id);
/* The actor an address names: an ID address directly, a key address through the accounts'
 * robust addresses. ST_ENOENT names the address. */
st_code st_state_lookup(st_state *s, const st_address *addr, st_state_actor **out, st_err *err);
/* Creates an actor: id ST_STATE_NEW_ID takes next_id. The head is the CID of CBOR [robust] for accounts and of
 * CBOR [] for others unless set later. ST_EEXIST if the ID or robust address is taken. */
#define ST_STATE_NEW_ID UINT64_MAX
st_code st_state_create(st_state *s, uint64_t id, st_actor_kind kind, const st_address *robust, st_state_actor **out,
                        st_err *err);

/* The journal: st_state_mark starts one; st_state_touch must be called before an actor is
 * changed (it saves the actor once); st_state_revert puts every touched actor back and removes
 * those created since the mark; st_state_commit keeps the changes. */
void st_state_mark(st_state *s);
st_code st_state_touch(st_state *s, st_state_actor *a, st_err *err);
void st_state_revert(st_state *s);
void st_state_commit(st_state *s);

/* Moves amount from one actor to another (both touched). ST_ERANGE if from has too little. */
st_code st_state_transfer(st_state *s, uint64_t from, uint64_t to, const mpz_t amount, st_err *err);

/* The encoding above, its CID, and the way back. */
void st_state_encode(const st_state *s, st_buf *out);
void st_state_root(const st_state *s, st_buf *blob, st_cid *root);
st_code st_state_decode(const uint8_t *p, size_t len, st_state *s, st_err *err);

/* Sum of every balance (the total supply never changes except by rewards). */
void st_state_total(const st_state *s, mpz_t out);

#endif
