/* st_rpc_client: calls to a node's JSON-RPC API (POST /rpc/v1), for the spacetime client verbs
 * and the miner. A JSON-RPC error comes back as an st_err with the node's message; HTTP 401 as
 * ST_EPERM; a node that cannot be reached as ST_EUNAVAIL naming the URL. */
#ifndef ST_RPC_CLIENT_H
#define ST_RPC_CLIENT_H

#include <jansson.h>

#include "core/st_err.h"
#include "rpc/st_apiinfo.h"

typedef struct st_rpc_client st_rpc_client;

st_code st_rpc_client_open(const st_apiinfo *info, st_rpc_client **out, st_err *err);
/* Opens the API that st_apiinfo_resolve finds (env_value, e.g. $FULLNODE_API_INFO, when it is set
 * and non-empty, else repo's api and token files); its errors as there (ST_ENOENT: repo has no
 * api file). *out is NULL on failure. */
st_code st_rpc_client_connect(const char *env_value, const char *repo, st_rpc_client **out, st_err *err);
void st_rpc_client_close(st_rpc_client *c);

/* Calls "Filecoin.<method>" with params (a JSON array, stolen; NULL for none). *result gets a
 * new reference (json null for a null result). */
st_code st_rpc_client_call(st_rpc_client *c, const char *method, json_t *params, json_t **result, st_err *err);

#endif
