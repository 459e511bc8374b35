/* st_mpool: the message pool, the signed messages waiting for a block.
 *
 * A message enters only if its signature is good, its checks pass (st_vm_check_message), its
 * size is at most 64 KiB, its sender exists, its nonce is the sender's next one (counting the
 * messages already waiting) or replaces a waiting one, and the sender's balance covers Value +
 * GasLimit x GasFeeCap of everything it has waiting. A replacement needs a GasPremium of at
 * least 1.25x the old one (plus one attoFIL), as Lotus requires.
 *
 * Selection for a block walks the senders' chains in nonce order and takes, at each step, the
 * waiting head message with the highest GasPremium, until the block gas limit is reached.
 *
 * The pool itself is memory. A journal (st_mpool_set_journal) makes it durable: the daemon's
 * node keeps every message in its chain store before the pool takes it (so an acknowledged push
 * survives a kill -9), forgets the ones that leave, and at start adds the kept ones back against
 * the head's state (st_fullnode). */
#ifndef ST_MPOOL_H
#define ST_MPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "chain/st_chain_types.h"
#include "chain/st_network.h"
#include "chain/st_state.h"
#include "core/st_err.h"

#define ST_MPOOL_MAX_MESSAGE_SIZE (64 * 1024)
#define ST_MPOOL_MAX_PER_SENDER 1000

typedef struct st_mpool st_mpool;

st_code st_mpool_new(const st_network *net, st_mpool **out, st_err *err);
void st_mpool_free(st_mpool *p);

/* Where the pool keeps its messages. keep runs before a message enters, with the CID of the one
 * it replaces (or NULL); the message enters only if keep returns ST_OK, so a message in the pool
 * is kept. forget runs with the CIDs of the messages that st_mpool_prune dropped; it cannot
 * refuse (what it fails to forget is dropped as applied on the next start). */
typedef struct st_mpool_journal {
  st_code (*keep)(void *ctx, const st_signed_message *sm, const st_cid *cid, const st_cid *replaced, st_err *err);
  void (*forget)(void *ctx, const st_cid *cids, size_t n);
  void *ctx;
} st_mpool_journal;
/* Sets the journal (NULL: none, the default), for the messages added from now on. */
void st_mpool_set_journal(st_mpool *p, const st_mpool_journal *j);

/* Adds a signed message, checked against state (the head's). *cid (optional) gets its CID, or
 * the zero CID on failure. Refusals are ST_EINVAL (bad message, signature, nonce, premium) or ST_ERANGE
 * (funds), with the reason. */
st_code st_mpool_add(st_mpool *p, st_state *state, const st_signed_message *sm, st_cid *cid, st_err *err);

/* The next nonce for addr: the state's, plus the messages waiting in a row after it. */
st_code st_mpool_nonce(st_mpool *p, st_state *state, const st_address *addr, uint64_t *nonce, st_err *err);

/* Every waiting message, by sender then nonce. The array and the messages belong to the pool
 * and stay valid until the pool next changes. */
size_t st_mpool_pending(st_mpool *p, const st_signed_message ***out);

/* Chooses messages for a block on top of state: at most gas_limit gas in total, nonces in a row
 * from each sender's state nonce, highest premium first. Returns how many (at most max) were
 * put in out (pointers into the pool). */
size_t st_mpool_select(st_mpool *p, st_state *state, int64_t gas_limit, const st_signed_message **out, size_t max);

/* The waiting message with this (signed) CID, or NULL; valid until the pool next changes. */
const st_signed_message *st_mpool_find(const st_mpool *p, const st_cid *cid);

/* Drops messages whose nonce the state has passed (applied, or replaced on chain), and tells the
 * journal which. */
void st_mpool_prune(st_mpool *p, st_state *state);

size_t st_mpool_size(const st_mpool *p);

#endif
