/* spacetime util poseidon and util seal: Filecoin's exact sealing hash and commitments from the
 * command line, to check them against another implementation's. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/st_cid.h"
#include "commands.h"
#include "core/st_cli.h"
#include "core/st_fs.h"
#include "core/st_json.h"
#include "proofs/st_commp.h"
#include "proofs/st_fr.h"
#include "proofs/st_poseidon.h"
#include "proofs/st_seal.h"

int st_cmd_util_poseidon(int argc, char **argv) {
  st_flag flags[] = {ST_FLAG("arity", ST_FLAG_VALUE, "N", "inputs per hash: 2, 4, 8, 11 or 16 (required)")};
  st_cli cli = ST_CLI_INIT(flags);
  int rc =
      st_cli_start(&cli, argc, argv, ST_CLI_MAX_POS, "spacetime util poseidon", "--arity N HEX...",
                   "Hashes N field elements with Poseidon as Filecoin does (neptune, MerkleTree domain tag 2^N - 1,\n"
                   "Strength Standard): the hash of tree_c, tree_r_last, the label columns and comm_r. Each HEX is a\n"
                   "32-byte little-endian element below the field modulus r; the output is one, in the same form.");
  if (rc >= 0) return rc;
  uint64_t arity = 0;
  st_err err;
  if (!st_cli_has(&cli, "arity")) return st_cli_fail("util poseidon needs --arity N (2, 4, 8, 11 or 16)");
  if (st_cli_u64(&cli, "arity", 1, 16, NULL, &arity, &err)) return st_cli_fail("%s", err.msg);
  if (!st_poseidon_arity_ok((unsigned)arity))
    return st_cli_fail("--arity %llu is not served: use 2, 4, 8, 11 or 16", (unsigned long long)arity);
  if ((uint64_t)cli.npos != arity)
    return st_cli_fail("util poseidon --arity %llu needs %llu inputs, got %d", (unsigned long long)arity,
                       (unsigned long long)arity, cli.npos);
  uint8_t in[16 * 32], out[32];
  for (int i = 0; i < cli.npos; i++) {
    const char *h = cli.pos[i];
    if (strlen(h) != 64 || st_hex_decode_exact(h, in + 32 * i, 32, &err))
      return st_cli_fail("input %d (\"%.80s\") is not 32 bytes of hex (64 digits)", i + 1, h);
    if (!st_fr_is_valid(in + 32 * i))
      return st_cli_fail("input %d (%s) is not a field element: as a little-endian number it is not below r", i + 1, h);
  }
  st_poseidon_hash((unsigned)arity, in, out);
  char hex[65];
  st_hex_encode(out, 32, hex);
  printf("%s\n", hex);
  return 0;
}

/* Seals in root: the data file staged as the sector's one piece, or zeros. */
static st_code seal_in(const char *root, const st_sector_info *info, uint64_t prover, uint64_t sector,
                       const uint8_t ticket[32], const char *data, st_seal_output *out, st_err *err) {
  char staged[ST_PATH_MAX] = "";
  if (data) {
    uint8_t comm_p[32], comm_d[32];
    uint64_t padded, payload;
    st_code rc = st_commp_of_file(data, comm_p, &padded, &payload, err);
    if (rc) return rc;
    if (padded > info->size)
      return st_err_set(err, ST_EINVAL, "data path=\"%s\": %llu bytes do not fit a %s sector (at most %llu)", data,
                        (unsigned long long)payload, info->name, (unsigned long long)(info->size / 128 * 127));
    if (snprintf(staged, sizeof staged, "%s/staged", root) >= (int)sizeof staged)
      return st_err_set(err, ST_EINVAL, "folder path=\"%s\" is too long", root);
    st_piece_file piece = {data, padded};
    if ((rc = st_stage_sector(staged, info->size, &piece, 1, comm_d, err))) return rc;
  }
  st_seal_input in = {.info = info, .miner = prover, .sector = sector, .data_path = data ? staged : NULL, .root = root};
  memcpy(in.ticket, ticket, 32);
  return st_seal(&in, out, err);
}

int st_cmd_util_seal(int argc, char **argv) {
  st_flag flags[] = {
      ST_FLAG("sector-size", ST_FLAG_VALUE, "SIZE", "2KiB, 8MiB, 512MiB, 32GiB or 64GiB (required)"),
      ST_FLAG("prover", ST_FLAG_VALUE, "ID", "the miner's actor id, e.g. 1000 for t01000 (required)"),
      ST_FLAG("sector", ST_FLAG_VALUE, "N", "the sector number (required)"),
      ST_FLAG("ticket", ST_FLAG_VALUE, "HEX", "the 32-byte sealing randomness, hex (required)"),
      ST_FLAG("seal-proof", ST_FLAG_VALUE, "V1|V1_1", "the registered seal proof's version (default V1_1)"),
      ST_FLAG("data", ST_FLAG_VALUE, "FILE", "the sector's one piece, raw bytes (default: committed capacity)"),
      ST_FLAG("keep", ST_FLAG_VALUE, "DIR", "seal into DIR and keep sealed/ and cache/ there"),
      JSON_FLAG,
  };
  st_cli cli = ST_CLI_INIT(flags);
  int rc =
      st_cli_start(&cli, argc, argv, 0, "spacetime util seal", "--sector-size SIZE --prover ID --sector N --ticket HEX",
                   "Seals one sector as Filecoin does (SDR, Poseidon trees) and prints comm_d and comm_r as CIDs.\n"
                   "Without --data the sector is committed capacity (all zeros); with it, FILE is the sector's\n"
                   "one piece, Fr32-padded at offset 0 and followed by zeros. The work happens in a temporary\n"
                   "folder (under $TMPDIR) that is removed afterwards, unless --keep names one.");
  if (rc >= 0) return rc;
  static const char *const required[] = {"sector-size", "prover", "sector", "ticket"};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
    if (!st_cli_has(&cli, required[i])) return st_cli_fail("util seal needs --%s", required[i]);
  st_err err;
  const st_sector_info *info;
  if (st_sector_lookup(st_cli_value(&cli, "sector-size", NULL), &info, &err)) return st_cli_fail("%s", err.msg);
  uint64_t prover = 0, sector = 0;
  if (st_cli_u64(&cli, "prover", 0, UINT64_MAX >> 1, NULL, &prover, &err) ||
      st_cli_u64(&cli, "sector", 0, UINT64_MAX >> 1, NULL, &sector, &err))
    return st_cli_fail("%s", err.msg);
  uint8_t ticket[32];
  const char *t = st_cli_value(&cli, "ticket", NULL);
  if (strlen(t) != 64 || st_hex_decode_exact(t, ticket, 32, &err))
    return st_cli_fail("--ticket \"%.80s\" is not 32 bytes of hex (64 digits)", t);
  const char *version = st_cli_value(&cli, "seal-proof", "V1_1");
  st_sector_info chosen;
  if (st_sector_seal_version(info, version, &chosen, &err)) return st_cli_fail("--seal-proof %s", err.msg);

  char tmp[ST_PATH_MAX];
  const char *keep = st_cli_value(&cli, "keep", NULL);
  if (keep) {
    if (st_fs_mkdir_p(keep, 0755, &err)) return st_cli_fail("%s", err.msg);
    snprintf(tmp, sizeof tmp, "%s", keep);
  } else {
    const char *base = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/spacetime-seal-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmp)) return st_cli_fail("could not create a temporary folder under %s", base ? base : "/tmp");
  }
  st_seal_output out;
  st_code sc = seal_in(tmp, &chosen, prover, sector, ticket, st_cli_value(&cli, "data", NULL), &out, &err);
  st_err rm_err;
  if (!keep && st_fs_remove_tree(tmp, &rm_err)) fprintf(stderr, "WARN: %s\n", rm_err.msg);
  if (sc) return st_cli_fail("%s", err.msg);
  st_cid d, r;
  char dtext[ST_CID_STR_MAX], rtext[ST_CID_STR_MAX];
  st_cid_of_commitment(out.comm_d, false, &d);
  st_cid_of_commitment(out.comm_r, true, &r);
  st_cid_to_string(&d, dtext);
  st_cid_to_string(&r, rtext);
  if (st_cli_has(&cli, "json")) {
    char c[65], rl[65];
    st_hex_encode(out.comm_c, 32, c);
    st_hex_encode(out.comm_r_last, 32, rl);
    st_json_print(json_pack("{s:s,s:s,s:s,s:s,s:i}", "comm_d", dtext, "comm_r", rtext, "comm_c", c, "comm_r_last", rl,
                            "seal_proof", chosen.seal_proof));
  } else {
    printf("CommD: %s\nCommR: %s\n", dtext, rtext);
  }
  return 0;
}
