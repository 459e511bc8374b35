/* st_locator: a sector's files through the registry or under the dist-path. */
#include "miner/st_locator.h"

st_code st_locator_locate(void *ctx, uint64_t miner, uint64_t sector, st_sector_paths *out, st_err *err) {
  const st_locator *l = ctx;
  if (!l->reg) return st_sector_paths_make(l->dist, miner, sector, out, err);
  st_code code = st_regc_resolve(l->reg, miner, sector, ST_KIND_SEALED, l->dist, out->sealed, NULL, err);
  if (!code) code = st_regc_resolve(l->reg, miner, sector, ST_KIND_CACHE, l->dist, out->cache, NULL, err);
  out->unsealed[0] = 0;
  return code;
}
