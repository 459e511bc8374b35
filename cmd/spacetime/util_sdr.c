/* spacetime util sdr-parents: make (or find) the SDR parent cache of a sector size and print
 * where it is or its SHA-256, to compare with rust-fil-proofs' parent_cache.json. */
#include <stdio.h>

#include "commands.h"
#include "core/st_cli.h"
#include "proofs/st_graph.h"
#include "proofs/st_parent_cache.h"
#include "proofs/st_sector.h"

int st_cmd_util_sdr_parents(int argc, char **argv) {
  st_flag flags[] = {
      ST_FLAG("sector-size", ST_FLAG_VALUE, "SIZE", "2KiB, 8MiB, 512MiB, 32GiB or 64GiB"),
      ST_FLAG("seal-proof", ST_FLAG_VALUE, "V1|V1_1", "the seal proof's version (default V1_1)"),
      ST_FLAG("digest", ST_FLAG_BOOL, NULL, "print the file's SHA-256 (hex) instead of its path"),
  };
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(
      &cli, argc, argv, 0, "spacetime util sdr-parents", "--sector-size SIZE [--seal-proof V1|V1_1] [--digest]",
      "Makes the SDR parent cache of a sector size as rust-fil-proofs does (each node's 14 parents, LE u32)\n"
      "in $FIL_PROOFS_PARENT_CACHE (default /var/tmp/filecoin-parents) unless it is there already, checks\n"
      "it against the published digest, and prints its path, or with --digest its SHA-256.");
  if (rc >= 0) return rc;
  const char *size = st_cli_value(&cli, "sector-size", NULL);
  if (!size) return st_cli_fail("--sector-size is required (2KiB, 8MiB, 512MiB, 32GiB, 64GiB)");
  st_err err;
  const st_sector_info *info;
  if (st_sector_lookup(size, &info, &err)) return st_cli_fail("--sector-size: %s", err.msg);
  const char *version = st_cli_value(&cli, "seal-proof", "V1_1");
  st_sector_info proof;
  if (st_sector_seal_version(info, version, &proof, &err)) return st_cli_fail("--seal-proof: %s", err.msg);
  st_graph g;
  st_graph_init_sector(&g, &proof);
  st_parent_cache pc;
  if (st_parent_cache_open(&pc, &g, &err)) return st_cli_fail("%s", err.msg);
  uint8_t d[32];
  if (st_cli_has(&cli, "digest")) {
    if (st_parent_cache_digest(&pc, d, &err)) {
      st_parent_cache_close(&pc);
      return st_cli_fail("%s", err.msg);
    }
    char hex[65];
    st_hex_encode(d, 32, hex);
    printf("%s\n", hex);
  } else {
    printf("%s\n", pc.path);
  }
  st_parent_cache_close(&pc);
  return 0;
}
