/* st_miner_repo: the miner's folder (--repo). It holds config.json (which miner this is, its
 * owner, worker and sector size; written by `spacetime-miner init`), the sealing database
 * (sealing.db: the deals, and the sectors of a process that runs without a registry), the
 * miner API's jwt-secret and token, the registry's write token (server-token), run.lock (held
 * by every running `run`: shared by those with a registry, alone by one without) and, while
 * `run` serves its API, the api file (st_apiinfo's format).
 *
 * config.json: {"Miner": "t01000", "Owner": "t1...", "Worker": "t1...", "SectorSize": 2048}.
 * Reading it is strict: unknown keys, a missing key, an address that does not parse or a
 * sector size the proofs do not support are errors naming the file and the key. */
#ifndef ST_MINER_REPO_H
#define ST_MINER_REPO_H

#include <stdint.h>

#include "codec/st_address.h"
#include "core/st_err.h"
#include "proofs/st_sector.h"

typedef struct st_miner_config {
  uint64_t miner; /* actor ID */
  st_address owner, worker;
  const st_sector_info *info;
} st_miner_config;

/* <repo>/<name> into out; ST_ERANGE (and out "") if it does not fit. */
st_code st_miner_repo_path(const char *repo, const char *name, char out[ST_PATH_MAX], st_err *err);
/* <repo>/config.json; *out is zeroed on failure, as by st_miner_config_parse. */
st_code st_miner_config_read(const char *repo, st_miner_config *out, st_err *err);
/* Writes config.json atomically (creating the repo folder). */
st_code st_miner_config_write(const char *repo, const st_miner_config *c, st_err *err);
/* Parses the JSON text of a config; where names it in errors. */
st_code st_miner_config_parse(const char *text, size_t len, const char *where, st_miner_config *out, st_err *err);

/* The registry's write token for run: given (from --server-token-file or $SPACETIME_SERVER_TOKEN)
 * is kept in <repo>/server-token (mode 0600) and returned; NULL reads that file (out "" when
 * there is none). Tokens stay off command lines this way (no flag takes one): set the variable
 * or pass the file once. */
#define ST_SERVER_TOKEN_MAX 256
st_code st_miner_repo_server_token(const char *repo, const char *given, char out[ST_SERVER_TOKEN_MAX], st_err *err);

#endif
