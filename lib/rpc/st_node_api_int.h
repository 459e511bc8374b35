/* st_node_api_int: what the group files of st_node_api share (private to lib/rpc): one call that
 * names its method in errors, and the readers and writers of the node's JSON. Every out is
 * initialised on return, success or not (st_err.h). */
#ifndef ST_NODE_API_INT_H
#define ST_NODE_API_INT_H

#include "rpc/st_node_api.h"

/* Calls method; on failure the error names it. */
st_code na_call(st_rpc_client *c, const char *method, json_t *params, json_t **result, st_err *err);
/* ST_EINVAL: "<method>: the node's answer has no valid <what>". */
st_code na_bad(st_err *err, const char *method, const char *what);

/* Params: a miner's ID address as text ("t01000"), a tipset key ([] for none, the head), bytes
 * as base64 (null for none), [address], [miner, key]. */
const char *na_miner_addr(uint64_t miner, char out[32]);
json_t *na_key_json(const st_tipset_key *key);
json_t *na_bytes_json(const uint8_t *p, size_t n);
json_t *na_addr_param(const st_address *a);
json_t *na_miner_params(uint64_t miner, const st_tipset_key *key);

/* Answers: a base64 field of exactly n bytes into out; an integer field; a decimal string field
 * (path names it in errors); a MsgLookup (method: the call it came from) into *out, which is
 * zeroed. */
st_code na_b64_field(const json_t *v, const char *method, const char *what, uint8_t *out, size_t n, st_err *err);
st_code na_int_field(const json_t *o, const char *name, const char *method, int64_t *out, st_err *err);
st_code na_big_field(const json_t *o, const char *path, const char *method, mpz_t out, st_err *err);
st_code na_lookup_from_json(const json_t *r, const char *method, st_node_lookup *out, st_err *err);

/* A call whose answer is one attoFIL amount (0 on failure), or one address (zero on failure). */
st_code na_amount_call(st_rpc_client *c, const char *method, json_t *params, mpz_t out, st_err *err);
st_code na_addr_call(st_rpc_client *c, const char *method, json_t *params, st_address *out, st_err *err);

#endif
