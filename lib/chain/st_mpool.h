/* st_mpool: the message pool, the signed messages waiting for a block.
 *
 * A message enters only if its signature is good, its checks pass (st_vm_check_message), its
 * size is at most 64 KiB, its sender exists, its nonce is the sender's next one (counting the
 * messages already waiting) or replaces a waiting one, and the sender's balance covers Value +
 * GasLimit x GasFeeCap of everything it has waiting. A replacement needs a GasPremium of at
 * least 1.25x the old one (plus one attoFIL), as Lotus requires.
 *
 * Selection for a block walks the senders' chains in nonce order and takes, at each step, the
 * waiting head message with the highest GasPremium, until the block gas limit is reached. */
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

/* Drops messages whose nonce the state has passed (applied, or replaced on chain). */
void st_mpool_prune(st_mpool *p, st_state *state);

size_t st_mpool_size(const st_mpool *p);

#endif
