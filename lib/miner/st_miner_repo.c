/* st_miner_repo: the miner repo's config.json. */
#include "miner/st_miner_repo.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/st_buf.h"
#include "core/st_fs.h"
#include "registry/st_registry.h"

st_code st_miner_repo_path(const char *repo, const char *name, char out[ST_PATH_MAX], st_err *err) {
  int n = snprintf(out, ST_PATH_MAX, "%s/%s", repo, name);
  if (n >= 0 && n < ST_PATH_MAX) return ST_OK;
  out[0] = 0;
  return st_err_set(err, ST_ERANGE, "repo path \"%s\" is too long", repo);
}

static st_code addr_field(const json_t *j, const char *key, const char *where, st_address *out, st_err *err) {
  const json_t *v = json_object_get(j, key);
  if (!json_is_string(v)) return st_err_set(err, ST_EINVAL, "%s: \"%s\" must be an address string", where, key);
  st_err e;
  if (st_address_parse(json_string_value(v), out, NULL, &e))
    return st_err_set(err, ST_EINVAL, "%s: \"%s\": %s", where, key, e.msg);
  return ST_OK;
}

st_code st_miner_config_parse(const char *text, size_t len, const char *where, st_miner_config *out, st_err *err) {
  memset(out, 0, sizeof *out);
  json_error_t je;
  json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!j)
    return st_err_set(err, ST_EINVAL, "%s: not JSON: %s at line %d column %d", where, je.text, je.line, je.column);
  st_code code = json_is_object(j) ? ST_OK : st_err_set(err, ST_EINVAL, "%s: must be a JSON object", where);
  const char *k;
  json_t *v;
  json_object_foreach(j, k, v) {
    if (!code && strcmp(k, "Miner") && strcmp(k, "Owner") && strcmp(k, "Worker") && strcmp(k, "SectorSize"))
      code = st_err_set(err, ST_EINVAL, "%s: unknown key \"%s\" (known: Miner, Owner, Worker, SectorSize)", where, k);
  }
  const json_t *m = json_object_get(j, "Miner");
  st_err e;
  if (!code && (!json_is_string(m) || st_reg_parse_miner(json_string_value(m), &out->miner, &e)))
    code = st_err_set(err, ST_EINVAL, "%s: \"Miner\" must be the miner's ID address, e.g. \"t01000\"", where);
  if (!code) code = addr_field(j, "Owner", where, &out->owner, err);
  if (!code) code = addr_field(j, "Worker", where, &out->worker, err);
  const json_t *sz = json_object_get(j, "SectorSize");
  if (!code && (!json_is_integer(sz) || !(out->info = st_sector_by_size((uint64_t)json_integer_value(sz)))))
    code = st_err_set(err, ST_EINVAL, "%s: \"SectorSize\" must be a supported sector size in bytes, e.g. 2048", where);
  json_decref(j);
  if (code) memset(out, 0, sizeof *out);
  return code;
}

st_code st_miner_config_read(const char *repo, st_miner_config *out, st_err *err) {
  memset(out, 0, sizeof *out);
  char path[ST_PATH_MAX];
  st_code code = st_miner_repo_path(repo, "config.json", path, err);
  if (code) return code;
  st_buf b = ST_BUF_INIT;
  code = st_fs_read_file(path, 1 << 16, &b, err);
  /* Say where it looked and both ways out: a devnet's repos (cmd/spacetime/devnet.c), or init. */
  if (code == ST_ENOENT)
    code = st_err_set(
        err, ST_ENOENT,
        "no miner repo at %s (no config.json there): on a devnet, 'source DEVNET_DIR/env' (DEVNET_DIR is 'spacetime "
        "devnet --dir', default ./devnet) or pass --repo DEVNET_DIR/miner-1 --node-repo DEVNET_DIR/node; else make "
        "one with 'spacetime-miner init --owner ADDR --repo %s'",
        repo, repo);
  if (!code) code = st_miner_config_parse((const char *)b.data, b.len, path, out, err);
  st_buf_free(&b);
  return code;
}

st_code st_miner_config_write(const char *repo, const st_miner_config *c, st_err *err) {
  char path[ST_PATH_MAX], owner[ST_ADDR_STR_MAX], worker[ST_ADDR_STR_MAX], miner[32];
  st_code code = st_miner_repo_path(repo, "config.json", path, err);
  if (!code) code = st_fs_mkdir_p(repo, 0700, err);
  if (!code) code = st_address_format(&c->owner, 't', owner, err);
  if (!code) code = st_address_format(&c->worker, 't', worker, err);
  if (code) return code;
  snprintf(miner, sizeof miner, "t0%llu", (unsigned long long)c->miner);
  json_t *j = json_pack("{ss ss ss sI}", "Miner", miner, "Owner", owner, "Worker", worker, "SectorSize",
                        (json_int_t)c->info->size);
  char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(j);
  if (!text) return st_err_set(err, ST_ENOMEM, "out of memory");
  code = st_fs_write_atomic(path, text, strlen(text), 0644, err);
  free(text);
  return code;
}

st_code st_miner_repo_server_token(const char *repo, const char *given, char out[ST_SERVER_TOKEN_MAX], st_err *err) {
  char path[ST_PATH_MAX];
  out[0] = 0;
  st_code code = st_miner_repo_path(repo, "server-token", path, err);
  if (code) return code;
  if (!given) return st_fs_read_line(path, out, ST_SERVER_TOKEN_MAX, err);
  size_t n = strlen(given);
  if (n >= ST_SERVER_TOKEN_MAX)
    return st_err_set(err, ST_EINVAL, "the registry token is longer than %d bytes", ST_SERVER_TOKEN_MAX - 1);
  char kept[ST_SERVER_TOKEN_MAX];
  st_err ignored;
  if (st_fs_read_line(path, kept, sizeof kept, &ignored) || strcmp(kept, given))
    code = st_fs_write_atomic(path, given, n, 0600, err);
  if (!code) memcpy(out, given, n + 1);
  return code;
}
