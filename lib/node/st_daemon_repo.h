/* st_daemon_repo: the daemon's repo folder, what lives there and how a start finds it:
 *   genesis.json   the chain's genesis, kept on first start, so a restart needs no --genesis
 *   beacon-key     the beacon's secret key (0600), kept once given
 *   keystore/      the wallet (st_wallet)
 *   jwt-secret, token, api   the API's secret, an admin token and the API's multiaddr
 *                  (st_apiinfo), so local clients find the node
 *   chain store    st_chain's files
 * Every out is initialised on return, success or not (st_err.h). */
#ifndef ST_DAEMON_REPO_H
#define ST_DAEMON_REPO_H

#include <stdbool.h>
#include <stdint.h>

#include "chain/st_genesis.h"
#include "core/st_err.h"
#include "rpc/st_apiinfo.h"

#define ST_DAEMON_REPO_MAX 4096

/* The repo folder: dir, or ~/.spacetime when dir is NULL; created (0700) if missing. */
st_code st_daemon_repo_open(const char *dir, char out[ST_DAEMON_REPO_MAX], st_err *err);

/* The chain's genesis: read from genesis_file and kept in the repo when it is given, else the
 * repo's own ("this repo has no chain yet: start it with --genesis FILE ..." when it has none).
 * g is initialised by the call. */
st_code st_daemon_repo_genesis(const char *repo, const char *genesis_file, st_genesis *g, st_err *err);

/* The beacon's secret key: key_file (--beacon-key), else FILE.beacon-key beside genesis_file (as
 * 'genesis new' writes it), else the repo's beacon-key. Its public key must be g's beacon, or
 * the error says which file holds another chain's key and what to do. A key from outside the
 * repo is kept there, replacing another chain's. No key at all is not an error: *have says so
 * (a key_file that does not exist is). sk is zeroed when there is none; wipe it after use. */
st_code st_daemon_repo_beacon_key(const char *repo, const char *key_file, const char *genesis_file, const st_genesis *g,
                                  uint8_t sk[32], bool *have, st_err *err);

/* Writes the repo's token (admin) and api files for an API bound at host:port; *maddr gets its
 * multiaddr. */
st_code st_daemon_repo_publish(const char *repo, const uint8_t secret[ST_JWT_SECRET_LEN], const char *host,
                               unsigned port, char maddr[ST_APIINFO_ADDR_MAX], st_err *err);

#endif
