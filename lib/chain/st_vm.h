/* st_vm: applying messages to the state: the checks, the gas schedule, method dispatch, exit
 * codes and fees.
 *
 * Gas schedule (units per message; close to Lotus's pricelist, and the reason for each):
 *   inclusion        38863 + 36 per byte of the signed message   (storing it on chain)
 *   call             29233                                        (any method, send included)
 *   value transfer   27500                                        (when Value > 0)
 *   actor creation   1108454                                      (a send to a new key address)
 * Fees: the sender puts up GasLimit x GasFeeCap, and what it does not use comes back.
 *   burn-base-fee 0 (the seed, every profile but mainnet): the block's miner receives
 *     GasUsed x min(GasFeeCap, BaseFee + GasPremium), all of it.
 *   burn-base-fee 1 (Filecoin): GasUsed x min(BaseFee, GasFeeCap) is burnt (to t099) with the
 *     over-estimation charge, and the miner receives min(GasPremium, GasFeeCap - BaseFee) x GasLimit.
 * A message whose execution fails (exit code not 0) changes nothing but its nonce and its fee.
 *
 * Methods are found by actor kind and method number in a table above the actors (st_methods,
 * whose st_vm_apply runs a message here with that table), so the VM does not depend on the
 * actors; method 0 (Send) only moves Value. The actors' methods reach actor state objects and
 * chain randomness through the VM's environment (st_vm_env), which the chain provides. A
 * failing method says why in vm->why, which the chain logs. */
#ifndef ST_VM_H
#define ST_VM_H

#include <gmp.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/st_chain_types.h"
#include "chain/st_network.h"
#include "chain/st_state.h"
#include "core/st_buf.h"
#include "core/st_err.h"

/* Exit codes, as in Filecoin. */
enum {
  ST_EXIT_OK = 0,
  ST_EXIT_SYS_SENDER_INVALID = 1,
  ST_EXIT_SYS_SENDER_STATE_INVALID = 2,
  ST_EXIT_SYS_INVALID_METHOD = 3,
  ST_EXIT_SYS_INVALID_RECEIVER = 5,
  ST_EXIT_SYS_INSUFFICIENT_FUNDS = 6,
  ST_EXIT_SYS_OUT_OF_GAS = 7,
  ST_EXIT_ILLEGAL_ARGUMENT = 16,
  ST_EXIT_NOT_FOUND = 17,
  ST_EXIT_FORBIDDEN = 18,
  ST_EXIT_INSUFFICIENT_FUNDS = 19,
  ST_EXIT_ILLEGAL_STATE = 20,
  ST_EXIT_SERIALIZATION = 21,
};
/* "SysErrOutOfGas" and the like; "" for 0. */
const char *st_exit_code_name(int64_t code);

#define ST_GAS_INCLUSION_BASE 38863
#define ST_GAS_INCLUSION_PER_BYTE 36
#define ST_GAS_CALL 29233
#define ST_GAS_TRANSFER 27500
#define ST_GAS_CREATE_ACTOR 1108454

/* Gas to include a signed message of size bytes. */
int64_t st_vm_inclusion_gas(size_t size);

/* What the chain lends the VM: actor state objects by CID, and randomness. */
typedef struct st_vm_env {
  void *ctx;
  /* Appends the object's bytes to out; ST_ENOENT names the CID. */
  st_code (*get)(void *ctx, const st_cid *cid, st_buf *out, st_err *err);
  st_code (*put)(void *ctx, const st_cid *cid, const uint8_t *data, size_t len, st_err *err);
  /* DrawRandomness from the chain the message runs on: from the ticket of the tipset at round
   * (or the last before it) when beacon is false, else from the beacon entry of round. A round
   * the chain has not reached is an error. */
  st_code (*randomness)(void *ctx, bool beacon, int64_t dst, int64_t round, const uint8_t *entropy, size_t elen,
                        uint8_t out[32], st_err *err);
} st_vm_env;

/* What one block applies messages against. */
typedef struct st_vm {
  st_state *state;
  const st_network *net;
  const st_vm_env *env; /* NULL: the consensus actors' methods fail with ErrIllegalState */
  uint64_t miner;       /* the block's miner (an actor ID): it receives the fees */
  mpz_t base_fee;       /* this tipset's base fee */
  int64_t epoch;
  char why[ST_ERR_MSG_MAX]; /* why the last message or cron step failed ("" if it did not) */
} st_vm;
void st_vm_init(st_vm *vm, st_state *state, const st_network *net, uint64_t miner, const mpz_t base_fee, int64_t epoch);
void st_vm_clear(st_vm *vm);

/* One method call, as a method sees it. */
typedef struct st_vm_call {
  st_vm *vm;
  const st_message *msg;
  uint64_t from, to; /* actor IDs: the caller and the receiver */
  int64_t gas;       /* used so far */
  st_buf ret;        /* the return value (CBOR) */
  st_code failed;    /* set by st_vm_fail: the node failed, not the message */
  st_err failure;
} st_vm_call;

/* A method: it returns an exit code, and says why in vm->why when it is not 0. */
typedef int64_t (*st_vm_method_fn)(st_vm_call *c);
/* Finds an actor kind's method by number (NULL: the kind has none). */
typedef st_vm_method_fn (*st_vm_method_lookup)(st_actor_kind kind, uint64_t method);

/* A method's CBOR params being read, and where the reader's errors go. */
typedef struct st_vm_params {
  st_cbor_reader r;
  st_err err;
} st_vm_params;
void st_vm_params_init(st_vm_params *p, const st_message *m);
/* Aborts with ErrSerialization: "<method> params: <the reader's error>" (or, when reading ran out
 * of memory, fails as st_vm_fail does). */
int64_t st_vm_bad_params(st_vm_call *c, const st_vm_params *p, const char *method);

/* Sets vm->why and returns exit: `return st_vm_abort(c, ST_EXIT_FORBIDDEN, "caller ...");`. */
int64_t st_vm_abort(st_vm_call *c, int64_t exit, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A failure of the node, not of the message (out of memory, a store that cannot be read or
 * written, an operation on state that cannot fail on a valid state): an exit code for it would
 * give this node another state root than the others, so the call stops and st_vm_run returns
 * code and err (NULL: the code's name) instead of a receipt. Returns an exit code for the method
 * to return: `return st_vm_fail(c, code, &err);`. The first failure counts. */
int64_t st_vm_fail(st_vm_call *c, st_code code, const st_err *err);
/* For an operation on state that failed inside a method: out of memory, the store or an
 * internal error (ST_ENOMEM, ST_EIO, ST_EINTERNAL) is the node's failure (st_vm_fail); any
 * other code is the message's, an abort with ErrIllegalState and "<what>: <err>" as why. */
int64_t st_vm_error(st_vm_call *c, st_code code, const st_err *err, const char *what);

/* Where one message's money went. */
typedef struct st_vm_fees {
  mpz_t to_miner, burnt, refund;
} st_vm_fees;
void st_vm_fees_init(st_vm_fees *f);
void st_vm_fees_clear(st_vm_fees *f);

/* The checks every message must pass before it goes near a block (the message pool's and a
 * block's): Version 0, GasLimit between the inclusion cost and the block gas limit, fee cap at
 * least the premium. size is the signed message's size. */
st_code st_vm_check_message(const st_network *net, const st_message *m, size_t size, st_err *err);

/* Applies one signed message (its signature checked already), finding methods with lookup
 * (st_vm_apply, in st_methods, gives the actors' table). ST_EINVAL means it cannot be applied
 * at all: unknown sender, wrong nonce, or a balance that cannot cover GasLimit x GasFeeCap; a
 * block holding it is invalid, and the state is unchanged. ST_OK: the message was applied, the
 * receipt (initialised by the caller, and set only then) says how it ended, and fees (optional,
 * initialised) where the money went. Any other code is a failure of the node (st_vm_fail): the
 * state is then half applied and must be dropped. */
st_code st_vm_run(st_vm *vm, st_vm_method_lookup lookup, const st_message *m, size_t size, st_receipt *receipt,
                  st_vm_fees *fees, st_err *err);

/* The base fee for the next tipset, from this one's: Lotus's rule (packing efficiency 4/5,
 * at most 1/8 change per epoch), never below the network's minimum. gas_limit_sum is the
 * GasLimit of every distinct message in the tipset, nblocks its blocks. */
void st_vm_next_base_fee(const st_network *net, const mpz_t base_fee, int64_t gas_limit_sum, size_t nblocks, mpz_t out);

#endif
