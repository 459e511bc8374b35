/* spacetime util post verify-vanilla: checks a WindowPoSt vanilla proof in rust-fil-proofs'
 * bytes against Lotus's WindowPoStVerifyInfo JSON, so that a proof from our poster can be
 * checked here as Filecoin's tools would, and theirs by us. */
#include <stdio.h>

#include "commands.h"
#include "core/st_cli.h"
#include "core/st_fs.h"
#include "proofs/st_post.h"
#include "proofs/st_vproof.h"

#define PROOF_MAX (256u << 20) /* a full 64 GiB partition is 2300 x 25,520 bytes */
#define PUBLIC_MAX (64u << 20)

int st_cmd_util_post_verify_vanilla(int argc, char **argv) {
  st_flag flags[] = {
      ST_FLAG("proof", ST_FLAG_VALUE, "FILE",
              "the vanilla proof: one or more FallbackPoStSectorProof (bincode), back to back"),
      ST_FLAG("public", ST_FLAG_VALUE, "FILE",
              "Lotus's WindowPoStVerifyInfo JSON: Randomness, ChallengedSectors, Prover"),
  };
  st_cli cli = ST_CLI_INIT(flags);
  int rc =
      st_cli_start(&cli, argc, argv, 0, "spacetime util post verify-vanilla", "--proof FILE --public FILE",
                   "Checks a WindowPoSt vanilla proof as rust-fil-proofs writes it (one FallbackPoStSectorProof per\n"
                   "challenged sector, in the order of ChallengedSectors) against its public inputs: sector ids,\n"
                   "comm_r, H(comm_c, comm_r_last), the 10 challenged leaves and their paths. Randomness gets\n"
                   "byte 31 &= 0x3f as Lotus does. Prints `valid`, or the first fault and exits 1.");
  if (rc >= 0) return rc;
  if (!st_cli_has(&cli, "proof")) return st_cli_fail("--proof FILE is required");
  if (!st_cli_has(&cli, "public")) return st_cli_fail("--public FILE is required");
  const char *proof_path = st_cli_value(&cli, "proof", NULL), *public_path = st_cli_value(&cli, "public", NULL);
  st_buf proof = ST_BUF_INIT, pub = ST_BUF_INIT;
  st_vproof_window_info vi;
  st_err err;
  int status = 0;
  if (st_fs_read_file(proof_path, PROOF_MAX, &proof, &err) || st_fs_read_file(public_path, PUBLIC_MAX, &pub, &err)) {
    status = st_cli_fail("%s", err.msg);
  } else if (st_vproof_window_info_parse(st_buf_cstr(&pub), pub.len, &vi, &err)) {
    status = st_cli_fail("--public %s: %s", public_path, err.msg);
  } else {
    if (st_window_post_verify_info(&vi, proof.data, proof.len, &err)) status = st_cli_fail("%s", err.msg);
    else printf("valid\n");
    st_vproof_window_info_free(&vi);
  }
  st_buf_free(&proof);
  st_buf_free(&pub);
  return status;
}
