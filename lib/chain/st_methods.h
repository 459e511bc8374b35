/* st_methods: the method table: every actor kind's methods by number, with their names and
 * parameter schemas, and applying a message through it.
 *
 * The table sits above the actors (st_actors, st_market) so that the VM (st_vm) sits below
 * them: the VM takes the table as a lookup, and the actors call the VM. The names and schemas
 * serve StateDecodeParams (st_params) and the explorer. */
#ifndef ST_METHODS_H
#define ST_METHODS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/st_chain_types.h"
#include "chain/st_state.h"
#include "chain/st_vm.h"
#include "core/st_err.h"

/* The name ("SubmitWindowedPoSt", "Send" for method 0) and parameter schema (st_params_to_json)
 * of an actor kind's method; false (and NULLs) if the kind has no such method. */
bool st_vm_method_info(st_actor_kind kind, uint64_t method, const char **name, const char **params);

/* st_vm_run with this table: applies one signed message (see st_vm_run). */
st_code st_vm_apply(st_vm *vm, const st_message *m, size_t size, st_receipt *receipt, st_vm_fees *fees, st_err *err);

#endif
