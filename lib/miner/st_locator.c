/* st_locator: a sector's files through the registry or under the dist-path. */
#include "miner/st_locator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/st_fs.h"

st_code st_locator_locate(void *ctx, uint64_t miner, uint64_t sector, st_sector_paths *out, st_err *err) {
  const st_locator *l = ctx;
  st_code code;
  if (!l->reg) code = st_sector_paths_make(l->dist, miner, sector, out, err);
  else {
    out->unsealed[0] = 0;
    code = st_regc_resolve(l->reg, miner, sector, ST_KIND_SEALED, l->dist, out->sealed, NULL, err);
    if (!code) code = st_regc_resolve(l->reg, miner, sector, ST_KIND_CACHE, l->dist, out->cache, NULL, err);
  }
  if (code) memset(out, 0, sizeof *out);
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
    if (st_reg_root(l->dist, &nodes[i], root, NULL) || stat(root, &st) || !S_ISDIR(st.st_mode))
      continue; /* not mounted here */
    int64_t cap = 0, avail = 0;
    st_err e;
    bool bad = st_fs_space(root, &cap, &avail, &e) != ST_OK;
    if (bad) snprintf(why, sizeof why, "%.*s", (int)sizeof why - 1, e.msg);
    code = st_regc_heartbeat(l->reg, nodes[i].id, cap, avail, bad ? why : NULL, NULL, err);
    if (!code) (*reported)++;
  }
  free(nodes);
  return code;
}
