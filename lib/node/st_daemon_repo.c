/* st_daemon_repo: see st_daemon_repo.h. */
#include "node/st_daemon_repo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chain/st_beacon.h"
#include "core/st_fs.h"
#include "crypto/st_secp.h"
#include "rpc/st_apiinfo.h"
#include "rpc/st_jwt.h"

st_code st_daemon_repo_open(const char *dir, char out[ST_DAEMON_REPO_MAX], st_err *err) {
  st_apiinfo_repo(dir, ".spacetime", out, ST_DAEMON_REPO_MAX);
  if (mkdir(out, 0700) && errno != EEXIST)
    return st_err_set(err, ST_EIO, "could not create repo path=\"%s\": %s", out, strerror(errno));
  return ST_OK;
}

st_code st_daemon_repo_genesis(const char *repo, const char *genesis_file, st_genesis *g, st_err *err) {
  char kept[ST_DAEMON_REPO_MAX + 32];
  snprintf(kept, sizeof kept, "%s/genesis.json", repo);
  st_genesis_init(g);
  if (genesis_file) {
    st_code code = st_genesis_read(genesis_file, g, err);
    return code ? code : st_genesis_write(g, kept, err); /* a restart needs no --genesis */
  }
  st_code code = st_genesis_read(kept, g, err);
  if (code == ST_ENOENT)
    return st_err_set(
        err, ST_EINVAL,
        "this repo has no chain yet: start it with --genesis FILE (make one with 'spacetime genesis new')");
  return code;
}

/* Reads a beacon key file (32 bytes); ST_ENOENT if there is none. */
static st_code read_key(const char *path, uint8_t sk[32], st_err *err) {
  st_buf b = ST_BUF_INIT;
  memset(sk, 0, 32);
  st_code code = st_fs_read_file(path, 1024, &b, err);
  if (!code && b.len != 32)
    code = st_err_set(err, ST_EINVAL, "beacon key path=\"%s\" is %zu bytes, not 32", path, b.len);
  if (!code) memcpy(sk, b.data, 32);
  if (b.data) st_secure_zero(b.data, b.len);
  st_buf_free(&b);
  return code;
}

st_code st_daemon_repo_beacon_key(const char *repo, const char *key_file, const char *genesis_file, const st_genesis *g,
                                  uint8_t sk[32], bool *have, st_err *err) {
  char beside[ST_DAEMON_REPO_MAX + 32], kept[ST_DAEMON_REPO_MAX + 32];
  snprintf(kept, sizeof kept, "%s/beacon-key", repo);
  snprintf(beside, sizeof beside, "%s.beacon-key", genesis_file ? genesis_file : "");
  uint8_t old[32];
  const char *path = key_file ? key_file : genesis_file ? beside : kept;
  st_code code = read_key(path, sk, err);
  if (code == ST_ENOENT && !key_file && genesis_file) code = read_key(path = kept, sk, err);
  if (code && code != ST_ENOENT && !strstr(err->msg, "beacon key")) st_err_wrap(err, code, "beacon key");
  if (code == ST_ENOENT && key_file) st_err_wrap(err, code, "--beacon-key");
  *have = !code;
  if (code == ST_ENOENT && !key_file) code = ST_OK; /* none: the daemon runs without the beacon */
  if (*have && (code = st_beacon_check_key(sk, g->beacon_pub, err))) {
    *have = false;
    char why[ST_ERR_MSG_MAX];
    snprintf(why, sizeof why, "%s", err->msg);
    code = st_err_set(err, code, "beacon key path=\"%s\": %s: %s", path, why,
                      path == kept
                          ? "it is another chain's (pass --beacon-key FILE, or remove it to run without the beacon)"
                          : "use the FILE.beacon-key that 'genesis new' wrote beside this chain's genesis FILE");
  }
  /* remember it in the repo, replacing a copy from another chain */
  if (*have && path != kept && (read_key(kept, old, NULL) || memcmp(old, sk, 32)))
    code = st_fs_write_atomic(kept, sk, 32, 0600, err);
  st_secure_zero(old, sizeof old);
  if (code) {
    *have = false;
    st_secure_zero(sk, 32);
  }
  return code;
}

st_code st_daemon_repo_publish(const char *repo, const uint8_t secret[ST_JWT_SECRET_LEN], const char *host,
                               unsigned port, char maddr[ST_APIINFO_ADDR_MAX], st_err *err) {
  char bound[300], *token = NULL;
  maddr[0] = '\0';
  snprintf(bound, sizeof bound, "%s:%u", host, port);
  st_code code = st_multiaddr_from_listen(bound, maddr, ST_APIINFO_ADDR_MAX, err);
  if (!code) code = st_jwt_create(secret, ST_PERM_ALL, &token, err);
  if (!code) code = st_apiinfo_write_token(repo, token, err);
  if (!code) code = st_apiinfo_write_api(repo, maddr, err);
  free(token);
  if (code) maddr[0] = '\0';
  return code;
}
