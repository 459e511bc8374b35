/* st_actor_state: reading and writing the consensus actors' state objects, for the actors'
 * methods (st_actors, st_market), cron (st_cron) and the chain's reads.
 *
 * An actor's state is one CBOR object in the chain's store, named by the actor's head CID; the
 * VM's environment (st_vm_env) fetches and stores it. Writing an object moves the head inside
 * the VM's journal, so a failed message undoes it. The gas a method pays for state it reads or
 * writes is here too, so that every actor charges the same. */
#ifndef ST_ACTOR_STATE_H
#define ST_ACTOR_STATE_H

#include <gmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "chain/st_deadline.h"
#include "chain/st_miner_state.h"
#include "chain/st_state.h"
#include "chain/st_vm.h"
#include "core/st_buf.h"
#include "core/st_err.h"

/* Gas per byte of state a method reads or writes (beyond ST_GAS_CALL). */
#define ST_GAS_STATE_READ_PER_BYTE 1
#define ST_GAS_STATE_WRITE_PER_BYTE 10
/* What a method charges for loading an actor's state object, whatever its size. */
#define ST_GAS_STATE_LOAD (ST_GAS_STATE_READ_PER_BYTE * 4096)

/* Decodes actor id's state object into out with decode. While the head is still the genesis
 * head, the empty list, out is left as the caller initialised it (env may then be NULL).
 * ST_ENOENT if the actor is missing. */
st_code st_actors_load(const st_vm_env *env, st_state *s, uint64_t id,
                       st_code (*decode)(const uint8_t *p, size_t len, void *out, st_err *err), void *out, st_err *err);
/* Stores the encoded object b and points actor id at it (gas, if given, pays for the bytes). */
st_code st_actors_store_head(st_vm *vm, uint64_t id, const st_buf *b, int64_t *gas, st_err *err);
/* Encodes obj with encode and stores it as actor id's head (st_actors_store_head). */
st_code st_actors_store(st_vm *vm, uint64_t id, void (*encode)(const void *obj, st_buf *out), const void *obj,
                        int64_t *gas, st_err *err);

/* Reading state (for the chain's election checks and the API). env may be the one a VM uses.
 * out is initialised either way (st_err.h). */
st_code st_actors_load_miner(const st_vm_env *env, st_state *s, uint64_t miner, st_miner_state *out, st_err *err);
st_code st_actors_load_power(const st_vm_env *env, st_state *s, st_power_state *out, st_err *err);

/* Writing the miner's and the power actor's state. */
st_code st_actors_save_miner(st_vm *vm, uint64_t id, const st_miner_state *m, int64_t *gas, st_err *err);
st_code st_actors_save_power(st_vm *vm, const st_power_state *p, int64_t *gas, st_err *err);
/* Recomputes the miner's claim from its sectors and stores the power actor. */
st_code st_actors_update_claim(st_vm *vm, uint64_t id, const st_miner_state *m, int64_t *gas, st_err *err);

/* Moves amount (if positive) from actor from to the burnt-funds actor. */
st_code st_actors_burn(st_vm *vm, uint64_t from, const mpz_t amount, st_err *err);
/* The miner's deadline open at epoch (index == the network's deadlines once the period has
 * elapsed). */
void st_actors_current_deadline(const st_network *net, const st_miner_state *m, int64_t epoch, st_deadline_info *out);

/* ---- for the actors' methods (a failure aborts the call: the exit code they return, why set) */

/* DrawRandomness on the chain the message runs on, with the miner's ID address as entropy
 * (none when miner is 0). */
st_code st_actors_randomness(st_vm *vm, bool beacon, int64_t dst, int64_t round, uint64_t miner, uint8_t out[32],
                             st_err *err);
/* The receiving miner's state, as a method holds it; loaded says whether m is to be freed. */
typedef struct st_miner_call {
  st_miner_state m;
  bool loaded;
} st_miner_call;
/* Loads the receiving miner (c->to) and charges ST_GAS_STATE_LOAD. Start from {0}. */
int64_t st_actors_load_call(st_vm_call *c, st_miner_call *mc);
/* The caller must be the miner's owner, or its worker when worker_ok. */
int64_t st_actors_require_caller(st_vm_call *c, const st_miner_state *m, bool worker_ok, const char *method);
/* Stores the receiving miner, and its claim when power_changed. */
int64_t st_actors_commit_miner(st_vm_call *c, const st_miner_state *m, bool power_changed);

#endif
