/* st_locator: a sector's files through the registry or under the dist-path. */
#include "miner/st_locator.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

st_code st_locator_locate(void *ctx, uint64_t miner, uint64_t sector, st_sector_paths *out, st_err *err) {
  const st_locator *l = ctx;
  if (!l->reg) return st_sector_paths_make(l->dist, miner, sector, out, err);
  st_code code = st_regc_resolve(l->reg, miner, sector, ST_KIND_SEALED, l->dist, out->sealed, NULL, err);
  if (!code) code = st_regc_resolve(l->reg, miner, sector, ST_KIND_CACHE, l->dist, out->cache, NULL, err);
  out->unsealed[0] = 0;
  return code;
}

st_code st_locator_heartbeat(const st_locator *l, size_t *reported, st_err *err) {
  *reported = 0;
  if (!l->reg) return ST_OK;
  st_storage_node *nodes = NULL;
  size_t n = 0;
  st_code code = st_regc_nodes(l->reg, &nodes, &n, err);
  for (size_t i = 0; i < n && !code; i++) {
    char root[ST_REG_PATH_MAX], why[ST_REG_ERRTEXT_MAX];
    struct stat st;
    if (st_reg_root(l->dist, &nodes[i], root, NULL) || stat(root, &st) || !S_ISDIR(st.st_mode)) continue; /* not mounted here */
    struct statvfs vfs;
    if (statvfs(root, &vfs)) {
      snprintf(why, sizeof why, "cannot measure path=\"%.180s\": %s (os error %d)", root, strerror(errno), errno);
      code = st_regc_heartbeat(l->reg, nodes[i].id, 0, 0, why, NULL, err);
    } else {
      code = st_regc_heartbeat(l->reg, nodes[i].id, (int64_t)(vfs.f_blocks * vfs.f_frsize), (int64_t)(vfs.f_bavail * vfs.f_frsize), NULL, NULL, err);
    }
    if (!code) (*reported)++;
  }
  free(nodes);
  return code;
}
