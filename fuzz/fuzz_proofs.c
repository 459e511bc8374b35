/* fuzz_proofs: the PoRep, WindowPoSt and WinningPoSt verifiers on arbitrary proof bytes.
 * Input byte 0 picks the verifier, the rest is the proof. At start the target seals a real
 * 2 KiB sector in a temporary directory and makes the three genuine proofs, and writes them as
 * seeds into the first corpus directory. Oracles: a rejection carries its code and a message;
 * an accepted proof is byte for byte the genuine one (proofs have one encoding, so anything
 * else accepted would be a forgery or malleability). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/st_fs.h"
#include "fuzz_util.h"
#include "proofs/st_fr.h"
#include "proofs/st_porep.h"
#include "proofs/st_post.h"
#include "proofs/st_seal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const st_sector_info *info;
static st_porep_public porep;
static st_post_public_sector pub;
static uint8_t rand_[32];
static st_buf genuine[3];

static void die(const char *what) {
  fprintf(stderr, "fuzz_proofs: %s\n", what);
  abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  char dir[] = "/tmp/fuzz-proofs-XXXXXX";
  if (!mkdtemp(dir)) die("mkdtemp");
  st_err err;
  if (st_sector_lookup("2KiB", &info, &err)) die(err.msg);
  st_seal_input in = {.info = info, .miner = 1000, .sector = 1, .root = dir};
  in.ticket[0] = 7;
  st_seal_output out;
  if (st_seal(&in, &out, &err)) die(err.msg);
  porep = (st_porep_public){.info = info, .miner = 1000, .sector = 1};
  memcpy(porep.ticket, in.ticket, 32);
  porep.seed[0] = 9;
  memcpy(porep.comm_d, out.comm_d, 32);
  memcpy(porep.comm_r, out.comm_r, 32);
  for (int i = 0; i < 3; i++) st_buf_init(&genuine[i]);
  if (st_porep_prove(&porep, dir, &genuine[0], &err)) die(err.msg);
  st_sector_paths p;
  st_sector_paths_make(dir, 1000, 1, &p, NULL);
  st_post_sector s = {.number = 1, .sealed_path = p.sealed, .cache_dir = p.cache};
  memcpy(s.comm_r, out.comm_r, 32);
  pub.number = 1;
  memcpy(pub.comm_r, out.comm_r, 32);
  rand_[0] = 3;
  st_post_result res;
  if (st_window_post_prove(info, rand_, &s, 1, NULL, &res, &err) || res.nskipped) die("window post");
  st_buf_append(&genuine[1], res.proof.data, res.proof.len);
  st_post_result_free(&res);
  if (st_winning_post_prove(info, 1000, rand_, &s, 1, NULL, &genuine[2], &err)) die(err.msg);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) die("rm");
  /* Seeds: the genuine proofs, selector byte first, into the first corpus directory. */
  for (int i = 1; i < *argc; i++) {
    if ((*argv)[i][0] == '-') continue;
    for (uint8_t k = 0; k < 3; k++) {
      char path[4096];
      snprintf(path, sizeof path, "%s/genuine-%u", (*argv)[i], k);
      st_buf b = ST_BUF_INIT;
      st_buf_putc(&b, k);
      st_buf_append(&b, genuine[k].data, genuine[k].len);
      st_fs_write_atomic(path, b.data, b.len, 0644, NULL);
      st_buf_free(&b);
    }
    break;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  unsigned k = data[0] % 3;
  const uint8_t *proof = data + 1;
  size_t len = size - 1;
  st_err err;
  st_err_clear(&err);
  st_code rc = k == 0   ? st_porep_verify(&porep, proof, len, &err)
               : k == 1 ? st_window_post_verify(info, rand_, &pub, 1, proof, len, &err)
                        : st_winning_post_verify(info, 1000, rand_, &pub, 1, proof, len, &err);
  if (rc == ST_OK) {
    if (len != genuine[k].len || memcmp(proof, genuine[k].data, len))
      die("accepted a proof that is not the genuine one");
  } else {
    fuzz_rejected("fuzz_proofs",
                  k == 0   ? "st_porep_verify"
                  : k == 1 ? "st_window_post_verify"
                           : "st_winning_post_verify",
                  rc, &err);
  }
  return 0;
}
