/* spacetime-bench: seals, proves and verifies real sectors and prints each phase's time next
 * to a baseline measured in the same run (SHA-256 throughput for sealing, plain pread of the
 * same challenged nodes for PoSt, the seal's own label layers for unsealing), plus the peak RSS;
 * and times the chain's message path
 * (apply, against raw balance moves; the message pool, against bare signature checks).
 * Results go to bench/RESULTS.md. */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chain/st_chain_types.h"
#include "chain/st_genesis.h"
#include "chain/st_methods.h"
#include "chain/st_mpool.h"
#include "chain/st_network.h"
#include "chain/st_state.h"
#include "chain/st_vm.h"
#include "core/st_buf.h"
#include "core/st_cli.h"
#include "core/st_fs.h"
#include "core/st_json.h"
#include "core/st_par.h"
#include "crypto/st_hash.h"
#include "crypto/st_secp.h"
#include "proofs/st_commp.h"
#include "proofs/st_fr.h"
#include "proofs/st_merkle.h"
#include "proofs/st_porep.h"
#include "proofs/st_poseidon.h"
#include "proofs/st_post.h"
#include "proofs/st_seal.h"
#include "proofs/st_unseal.h"

#define MINER 1000

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long peak_rss_kib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

typedef struct phase_times {
  json_t *phases; /* name -> seconds */
  double started;
  bool quiet;
} phase_times;

static void on_phase(void *arg, const char *name, bool done) {
  phase_times *p = arg;
  if (!done) {
    p->started = now_s();
    return;
  }
  double s = now_s() - p->started;
  json_object_set_new(p->phases, name, json_real(s));
  if (!p->quiet) fprintf(stderr, "  %-12s %8.3f s\n", name, s);
}

/* Seconds to SHA-256 `total` bytes in pieces of `piece` bytes (at most 2048): the labeling
 * baseline. */
static double sha_baseline(uint64_t total, size_t piece) {
  uint8_t buf[2048] = {1}, out[32];
  double t0 = now_s();
  for (uint64_t done = 0; done < total; done += piece) {
    st_sha256(buf, piece, out);
    buf[0] ^= out[0];
  }
  return now_s() - t0;
}

/* Seconds for one Poseidon hash of arity on this thread: the tree-building baseline. */
static double poseidon_one(unsigned arity) {
  uint8_t in[16 * 32] = {0}, out[32];
  int n = 2000;
  double t0 = now_s();
  for (int i = 0; i < n; i++) {
    st_poseidon_hash(arity, in, out);
    in[0] = out[0];
  }
  return (now_s() - t0) / n;
}

/* Internal nodes of one sector tree (tree_c or tree_r_last): every row above the leaves of every
 * sub-tree, then the sub and top nodes. */
static uint64_t tree_internal_nodes(const st_sector_info *info) {
  st_tree_shape s;
  st_tree_shape_sector(&s, info, 1); /* a sub-tree's rows above its leaves */
  unsigned files = st_sector_tree_files(info);
  uint64_t total = st_tree_file_size(&s) / 32 * files;
  if (info->sub_arity) total += files / info->sub_arity;
  if (info->top_arity) total += 1;
  return total;
}

typedef struct opts {
  const st_sector_info *info;
  const char *dir;
  bool json;
  bool keep;
  char tmp[256];
} opts;

static int common(opts *o, st_cli *cli) {
  st_err err;
  const char *size = st_cli_value(cli, "sector-size", NULL);
  if (!size) return st_cli_fail("--sector-size is required (2KiB, 8MiB, 512MiB, 32GiB, 64GiB)");
  if (st_sector_lookup(size, &o->info, &err)) return st_cli_fail("--sector-size: %s", err.msg);
  o->json = st_cli_has(cli, "json");
  o->dir = st_cli_value(cli, "dir", NULL);
  o->keep = o->dir != NULL;
  if (!o->dir) {
    snprintf(o->tmp, sizeof o->tmp, "%s/spacetime-bench-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(o->tmp)) return st_cli_fail("could not create a temporary directory under %s", o->tmp);
    o->dir = o->tmp;
  } else if (st_fs_mkdir_p(o->dir, 0755, &err)) {
    return st_cli_fail("%s", err.msg);
  }
  return 0;
}

static void cleanup(opts *o) {
  if (o->keep) return;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", o->tmp);
  if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", o->tmp);
}

static void ticket_for(uint64_t sector, uint8_t ticket[32]) {
  for (int i = 0; i < 32; i++) ticket[i] = (uint8_t)(sector * 31 + (uint64_t)i);
  st_fr_trunc254(ticket);
}

static int seal_sector(const opts *o, uint64_t sector, phase_times *pt, st_seal_output *out) {
  st_seal_observer obs = {on_phase, pt};
  st_seal_input in = {.info = o->info, .miner = MINER, .sector = sector, .root = o->dir, .observer = &obs};
  ticket_for(sector, in.ticket);
  st_err err;
  if (st_seal(&in, out, &err)) return st_cli_fail("seal: %s", err.msg);
  return 0;
}

static void emit(const opts *o, json_t *report, const char *text) {
  if (o->json) {
    st_buf b = ST_BUF_INIT;
    st_json_append(&b, report);
    printf("%s\n", st_buf_cstr(&b));
    st_buf_free(&b);
  } else {
    fputs(text, stdout);
  }
  json_decref(report);
}

/* ---- seal ---- */

static int cmd_seal(opts *o) {
  phase_times pt = {json_object(), 0, o->json};
  st_seal_output out;
  if (!o->json) fprintf(stderr, "sealing one %s CC sector in %s\n", o->info->name, o->dir);
  double t0 = now_s();
  int rc = seal_sector(o, 1, &pt, &out);
  double seal_s = now_s() - t0;
  if (rc) return rc;
  long rss_seal = peak_rss_kib();
  st_porep_public pub = {.info = o->info, .miner = MINER, .sector = 1};
  ticket_for(1, pub.ticket);
  for (int i = 0; i < 32; i++) pub.seed[i] = (uint8_t)(77 + i);
  st_fr_trunc254(pub.seed);
  memcpy(pub.comm_d, out.comm_d, 32);
  memcpy(pub.comm_r, out.comm_r, 32);
  st_buf proof = ST_BUF_INIT;
  st_err err;
  t0 = now_s();
  if (st_porep_prove(&pub, o->dir, &proof, &err)) return st_cli_fail("porep prove: %s", err.msg);
  double prove_s = now_s() - t0;
  t0 = now_s();
  if (st_porep_verify(&pub, proof.data, proof.len, &err)) return st_cli_fail("porep verify: %s", err.msg);
  double verify_s = now_s() - t0;
  /* Baselines: SHA-256 over what one layer hashes (a node: 64 bytes of prefix and 37 parent
   * labels), and one Poseidon hash times the hashes tree_c and tree_r_last make. */
  uint64_t nodes = st_sector_nodes(o->info);
  double sha_s = sha_baseline(nodes * 1248, 1248);
  char last[32];
  snprintf(last, sizeof last, "layer %u", o->info->layers);
  json_t *layer_last = json_object_get(pt.phases, last);
  double layer_s = layer_last ? json_real_value(layer_last) : 0;
  uint64_t internal = tree_internal_nodes(o->info);
  double h_col = poseidon_one(o->info->layers), h8 = poseidon_one(8);
  double hashes_s = (double)nodes * h_col + 2.0 * (double)internal * h8;
  json_t *tc = json_object_get(pt.phases, "tree_c"), *tr = json_object_get(pt.phases, "tree_r_last");
  double trees_s = (tc ? json_real_value(tc) : 0) + (tr ? json_real_value(tr) : 0);
  double rss_ratio = (double)rss_seal * 1024.0 / (double)o->info->size;
  json_t *report = json_pack(
      "{s:s, s:I, s:o, s:f, s:f, s:f, s:I, s:f, s:f, s:I, s:I, s:f, s:I, s:f, s:f, s:f, s:f, s:i}", "sector_size",
      o->info->name, "nodes", (json_int_t)nodes, "phases", pt.phases, "seal_s", seal_s, "porep_prove_s", prove_s,
      "porep_verify_s", verify_s, "porep_proof_bytes", (json_int_t)proof.len, "sha256_baseline_s", sha_s,
      "layer_vs_sha256", sha_s > 0 ? layer_s / sha_s : 0, "peak_rss_kib", (json_int_t)peak_rss_kib(),
      "peak_rss_seal_kib", (json_int_t)rss_seal, "peak_rss_seal_vs_sector", rss_ratio, "tree_hashes",
      (json_int_t)(nodes + 2 * internal), "poseidon_column_s", h_col, "poseidon_arity8_s", h8, "trees_s", trees_s,
      "trees_vs_hashes", hashes_s > 0 ? trees_s / hashes_s : 0, "threads", (int)st_par_cpus());
  st_buf t = ST_BUF_INIT;
  st_buf_printf(&t, "sector %s (%llu nodes)\n", o->info->name, (unsigned long long)nodes);
  const char *k;
  json_t *v;
  json_object_foreach(pt.phases, k, v) st_buf_printf(&t, "  %-18s %9.3f s\n", k, json_real_value(v));
  st_buf_printf(&t, "  %-18s %9.3f s\n  %-18s %9.6f s\n  %-18s %9.6f s (%zu bytes)\n", "seal total", seal_s,
                "porep prove", prove_s, "porep verify", verify_s, proof.len);
  st_buf_printf(&t, "  %s vs SHA-256 of the same bytes: %.2fx (%.3f s vs %.3f s, %.0f MB/s hashed)\n", last,
                sha_s > 0 ? layer_s / sha_s : 0, layer_s, sha_s,
                (double)nodes * 1248 / 1e6 / (layer_s > 0 ? layer_s : 1));
  st_buf_printf(&t,
                "  tree_c + tree_r_last vs their %llu Poseidon hashes on one thread: %.2fx (%.3f s vs %.3f s; "
                "%u threads; one hash: arity %u %.1f us, arity 8 %.1f us)\n",
                (unsigned long long)(nodes + 2 * internal), hashes_s > 0 ? trees_s / hashes_s : 0, trees_s, hashes_s,
                st_par_cpus(), o->info->layers, h_col * 1e6, h8 * 1e6);
  st_buf_printf(&t, "  peak RSS %ld KiB (after sealing %ld KiB, %.2fx the sector's %llu KiB)\n", peak_rss_kib(),
                rss_seal, rss_ratio, (unsigned long long)(o->info->size >> 10));
  emit(o, report, st_buf_cstr(&t));
  st_buf_free(&t);
  st_buf_free(&proof);
  return 0;
}

/* ---- unseal ---- */

/* Seals a sector full of one piece of random bytes, then unseals it in a child process (so
 * its peak RSS is the unsealing's alone) and checks the bytes. Baseline: the seal's label
 * layers, which unsealing computes again. */
static int cmd_unseal(opts *o) {
  char piece[600], staged[600], scratch[600], out[600];
  snprintf(piece, sizeof piece, "%s/piece", o->dir);
  snprintf(staged, sizeof staged, "%s/staged", o->dir);
  snprintf(scratch, sizeof scratch, "%s/scratch", o->dir);
  snprintf(out, sizeof out, "%s/unsealed", o->dir);
  uint64_t raw = o->info->size / 128 * 127;
  st_err err;
  /* the piece: random bytes, written in 1 MiB chunks */
  FILE *f = fopen(piece, "wb");
  if (!f) return st_cli_fail("could not write path=\"%s\"", piece);
  uint8_t *chunk = malloc(1 << 20);
  for (uint64_t at = 0; at < raw && chunk; at += 1 << 20) {
    size_t n = raw - at < (1u << 20) ? (size_t)(raw - at) : 1u << 20;
    if (st_random_bytes(chunk, n, &err) || fwrite(chunk, 1, n, f) != n)
      return st_cli_fail("writing the piece: %s", err.msg);
  }
  fclose(f);
  free(chunk);
  st_piece_file pf = {piece, o->info->size};
  uint8_t comm_d[32];
  double t0 = now_s();
  if (st_stage_sector(staged, o->info->size, &pf, 1, comm_d, &err)) return st_cli_fail("stage: %s", err.msg);
  double stage_s = now_s() - t0;
  phase_times pt = {json_object(), 0, o->json};
  st_seal_observer obs = {on_phase, &pt};
  st_seal_input in = {
      .info = o->info, .miner = MINER, .sector = 1, .root = o->dir, .data_path = staged, .observer = &obs};
  ticket_for(1, in.ticket);
  st_seal_output so;
  if (!o->json) fprintf(stderr, "sealing one %s sector of random data in %s\n", o->info->name, o->dir);
  t0 = now_s();
  if (st_seal(&in, &so, &err) || st_seal_finalize(o->info, o->dir, MINER, 1, &err))
    return st_cli_fail("seal: %s", err.msg);
  double seal_s = now_s() - t0;
  unlink(staged);
  double layers_s = 0;
  for (unsigned l = 1; l <= o->info->layers; l++) {
    char name[32];
    snprintf(name, sizeof name, "layer %u", l);
    layers_s += json_real_value(json_object_get(pt.phases, name));
  }
  if (st_fs_mkdir_p(scratch, 0755, &err)) return st_cli_fail("%s", err.msg);
  t0 = now_s();
  pid_t child = fork();
  if (child == 0) {
    st_unseal_input u = {.info = o->info, .miner = MINER, .sector = 1, .root = o->dir, .scratch = scratch};
    memcpy(u.ticket, in.ticket, 32);
    memcpy(u.comm_d, so.comm_d, 32);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    st_code code = fd < 0 ? ST_EIO : st_unseal_range(&u, 0, o->info->size, fd, &err);
    if (code) fprintf(stderr, "unseal: %s\n", fd < 0 ? "could not open the output" : err.msg);
    _exit(code ? 1 : 0);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
    return st_cli_fail("the unsealing child failed");
  double unseal_s = now_s() - t0;
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  uint8_t a[32], b[32];
  uint64_t pa, pb, la, lb;
  if (st_commp_of_file(piece, a, &pa, &la, &err) || st_commp_of_file(out, b, &pb, &lb, &err))
    return st_cli_fail("%s", err.msg);
  if (memcmp(a, b, 32) || la != lb) return st_cli_fail("the unsealed bytes differ from the piece");
  json_t *report =
      json_pack("{s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:I, s:I}", "sector_size", o->info->name, "payload_bytes",
                (json_int_t)raw, "stage_s", stage_s, "seal_s", seal_s, "seal_layers_s", layers_s, "unseal_s", unseal_s,
                "unseal_vs_layers", layers_s > 0 ? unseal_s / layers_s : 0, "unseal_peak_rss_kib",
                (json_int_t)ru.ru_maxrss, "sector_kib", (json_int_t)(o->info->size >> 10));
  st_buf t = ST_BUF_INIT;
  st_buf_printf(&t, "sector %s, %llu bytes of random data\n  %-26s %9.3f s\n  %-26s %9.3f s (label layers %.3f s)\n",
                o->info->name, (unsigned long long)raw, "stage (Fr32-pad, comm_d)", stage_s, "seal + finalize", seal_s,
                layers_s);
  st_buf_printf(
      &t,
      "  %-26s %9.3f s = %.2fx the seal's label layers (the same run)\n  unsealing peak RSS %ld KiB (sector %llu KiB); bytes checked\n",
      "unseal (whole sector)", unseal_s, layers_s > 0 ? unseal_s / layers_s : 0, ru.ru_maxrss,
      (unsigned long long)(o->info->size >> 10));
  json_decref(pt.phases);
  emit(o, report, st_buf_cstr(&t));
  st_buf_free(&t);
  return 0;
}

/* ---- PoSt ---- */

/* Seals sector 1, then copies its files for sectors 2..n (same comm_r; reads are what we time). */
static int prepare(const opts *o, uint64_t n, st_post_sector *sec, st_post_public_sector *pub, st_sector_paths *paths) {
  phase_times pt = {json_object(), 0, true};
  st_seal_output out;
  int rc = seal_sector(o, 1, &pt, &out);
  json_decref(pt.phases);
  if (rc) return rc;
  st_err err;
  if (st_seal_finalize(o->info, o->dir, MINER, 1, &err)) return st_cli_fail("%s", err.msg);
  for (uint64_t i = 0; i < n; i++) {
    if (st_sector_paths_make(o->dir, MINER, i + 1, &paths[i], &err)) return st_cli_fail("%s", err.msg);
    if (i > 0) {
      char cmd[4 * ST_PATH_MAX + 64];
      snprintf(cmd, sizeof cmd, "cp '%s' '%s' && cp -r '%s' '%s'", paths[0].sealed, paths[i].sealed, paths[0].cache,
               paths[i].cache);
      if (system(cmd) != 0) return st_cli_fail("could not copy sector files: %s", cmd);
    }
    sec[i] = (st_post_sector){.number = i + 1, .sealed_path = paths[i].sealed, .cache_dir = paths[i].cache};
    memcpy(sec[i].comm_r, out.comm_r, 32);
    pub[i].number = i + 1;
    memcpy(pub[i].comm_r, out.comm_r, 32);
  }
  return 0;
}

/* Reads each challenged leaf of each sector with one pread: the floor for any PoSt prover. */
static double raw_read_baseline(const opts *o, const st_post_sector *sec, uint64_t n, const uint8_t rand[32]) {
  double t0 = now_s();
  for (uint64_t i = 0; i < n; i++) {
    int fd = open(sec[i].sealed_path, O_RDONLY);
    if (fd < 0) continue;
    for (unsigned c = 0; c < ST_WINDOW_CHALLENGES; c++) {
      uint8_t leaf[32];
      uint64_t node = st_post_leaf_challenge(rand, sec[i].number, c, st_sector_nodes(o->info));
      if (pread(fd, leaf, 32, (off_t)(node * 32)) != 32) break;
    }
    close(fd);
  }
  return now_s() - t0;
}

static int cmd_window_post(opts *o, uint64_t n, unsigned parallel) {
  st_post_sector *sec = calloc(n, sizeof *sec);
  st_post_public_sector *pub = calloc(n, sizeof *pub);
  st_sector_paths *paths = calloc(n, sizeof *paths);
  if (!sec || !pub || !paths) return st_cli_fail("out of memory for %llu sectors", (unsigned long long)n);
  if (!o->json) fprintf(stderr, "preparing %llu %s sectors in %s\n", (unsigned long long)n, o->info->name, o->dir);
  int rc = prepare(o, n, sec, pub, paths);
  if (rc) return rc;
  uint8_t rand[32];
  for (int i = 0; i < 32; i++) rand[i] = (uint8_t)(i * 5 + 1);
  st_fr_trunc254(rand);
  st_post_options opt = {.parallel = parallel, .timeout_ms = 0};
  st_post_result res;
  st_err err;
  double raw_s = raw_read_baseline(o, sec, n, rand);
  double t0 = now_s();
  if (st_window_post_prove(o->info, rand, sec, n, &opt, &res, &err)) return st_cli_fail("window post: %s", err.msg);
  double prove_s = now_s() - t0;
  if (res.nskipped)
    return st_cli_fail("sector %llu skipped: %s", (unsigned long long)res.skipped[0].number, res.skipped[0].error);
  t0 = now_s();
  if (st_window_post_verify(o->info, rand, pub, n, res.proof.data, res.proof.len, &err))
    return st_cli_fail("window post verify: %s", err.msg);
  double verify_s = now_s() - t0;
  raw_s = (raw_s + raw_read_baseline(o, sec, n, rand)) / 2; /* before and after, page cache warm both times */
  double challenges = (double)n * ST_WINDOW_CHALLENGES;
  json_t *report = json_pack("{s:s, s:I, s:i, s:f, s:f, s:f, s:f, s:I, s:I, s:f}", "sector_size", o->info->name,
                             "sectors", (json_int_t)n, "parallel", (int)(parallel ? parallel : 8), "prove_s", prove_s,
                             "prove_us_per_challenge", prove_s / challenges * 1e6, "verify_s", verify_s, "raw_read_s",
                             raw_s, "bytes_read", (json_int_t)res.bytes_read, "proof_bytes", (json_int_t)res.proof.len,
                             "prove_vs_raw_read", raw_s > 0 ? prove_s / raw_s : 0);
  char text[1024];
  snprintf(text, sizeof text,
           "window post, %llu %s sectors, %u in parallel\n"
           "  prove    %9.6f s (%.1f us per challenge), %llu bytes read, proof %zu bytes\n"
           "  verify   %9.6f s\n"
           "  raw pread of the same %llu challenged leaves %.6f s: prove takes %.2fx\n",
           (unsigned long long)n, o->info->name, parallel ? parallel : 8, prove_s, prove_s / challenges * 1e6,
           (unsigned long long)res.bytes_read, res.proof.len, verify_s, (unsigned long long)challenges, raw_s,
           raw_s > 0 ? prove_s / raw_s : 0);
  emit(o, report, text);
  st_post_result_free(&res);
  free(sec);
  free(pub);
  free(paths);
  return 0;
}

static int cmd_winning_post(opts *o) {
  st_post_sector sec[1];
  st_post_public_sector pub[1];
  st_sector_paths paths[1];
  int rc = prepare(o, 1, sec, pub, paths);
  if (rc) return rc;
  uint8_t rand[32];
  for (int i = 0; i < 32; i++) rand[i] = (uint8_t)(i * 3 + 9);
  st_fr_trunc254(rand);
  st_buf proof = ST_BUF_INIT;
  st_err err;
  double t0 = now_s();
  if (st_winning_post_prove(o->info, MINER, rand, sec, 1, NULL, &proof, &err)) return st_cli_fail("%s", err.msg);
  double prove_s = now_s() - t0;
  t0 = now_s();
  if (st_winning_post_verify(o->info, MINER, rand, pub, 1, proof.data, proof.len, &err))
    return st_cli_fail("%s", err.msg);
  double verify_s = now_s() - t0;
  json_t *report = json_pack("{s:s, s:f, s:f, s:I}", "sector_size", o->info->name, "prove_s", prove_s, "verify_s",
                             verify_s, "proof_bytes", (json_int_t)proof.len);
  char text[512];
  snprintf(text, sizeof text,
           "winning post, %s, %d challenges\n  prove  %9.6f s\n  verify %9.6f s\n  proof  %zu bytes\n", o->info->name,
           ST_WINNING_CHALLENGES, prove_s, verify_s, proof.len);
  emit(o, report, text);
  st_buf_free(&proof);
  return 0;
}

/* ---- apply: the chain's message path ---- */

#define APPLY_VALUE 1000       /* attoFIL moved by each transfer */
#define APPLY_GAS_LIMIT 125000 /* about 1.25x what a transfer between two t1 accounts uses */
#define APPLY_FEE_CAP 1000     /* attoFIL per gas; the devnet base fee is 100 */

typedef struct chain_fx {
  st_network net;
  st_state genesis; /* epoch 0: the built-in actors and K funded accounts t0100.. */
  uint64_t n, k;
  uint64_t nmsgs;          /* how many of msgs are initialised */
  st_signed_message *msgs; /* message i: account i % K to account (i + 1) % K, nonce i / K */
  size_t *size;            /* each one's signed encoding, as a block stores it */
} chain_fx;

static void chain_fx_free(chain_fx *f) {
  for (uint64_t i = 0; f->msgs && i < f->nmsgs; i++) st_signed_message_free(&f->msgs[i]);
  free(f->msgs);
  free(f->size);
  st_state_clear(&f->genesis);
}

/* K keys, a devnet genesis funding each with 1000 FIL, and N signed transfers (not timed). */
static int chain_fx_make(chain_fx *f, uint64_t n, uint64_t k) {
  st_err err;
  st_genesis g;
  st_genesis_init(&g);
  st_state_init(&f->genesis);
  f->n = n;
  f->k = k;
  uint8_t(*sk)[32] = calloc(k, sizeof *sk);
  st_address *addr = calloc(k, sizeof *addr);
  f->msgs = calloc(n, sizeof *f->msgs);
  f->size = calloc(n, sizeof *f->size);
  int rc = 0;
  if (!sk || !addr || !f->msgs || !f->size) rc = st_cli_fail("out of memory for %llu messages", (unsigned long long)n);
  if (!rc && st_network_profile("devnet", &g.network, &err)) rc = st_cli_fail("%s", err.msg);
  for (uint64_t i = 0; i < k && !rc; i++) {
    char text[ST_ADDR_STR_MAX], spec[ST_ADDR_STR_MAX + 16];
    if (st_secp_keygen(sk[i], &err) || st_secp_address(sk[i], &addr[i], &err) ||
        st_address_format(&addr[i], 't', text, &err)) {
      rc = st_cli_fail("key %llu: %s", (unsigned long long)i, err.msg);
      break;
    }
    snprintf(spec, sizeof spec, "%s=1000", text);
    if (st_genesis_add_account(&g, spec, &err)) rc = st_cli_fail("%s", err.msg);
  }
  if (!rc && st_genesis_state(&g, &f->genesis, &err)) rc = st_cli_fail("genesis state: %s", err.msg);
  f->net = g.network;
  st_genesis_clear(&g);
  for (uint64_t i = 0; i < n && !rc; i++) {
    st_signed_message *sm = &f->msgs[i];
    st_signed_message_init(sm);
    f->nmsgs = i + 1;
    st_message *m = &sm->message;
    m->from = addr[i % k];
    m->to = addr[(i + 1) % k];
    m->nonce = i / k;
    mpz_set_ui(m->value, APPLY_VALUE);
    m->gas_limit = APPLY_GAS_LIMIT;
    mpz_set_ui(m->gas_fee_cap, APPLY_FEE_CAP);
    mpz_set_ui(m->gas_premium, 100 + (i * 37) % 101); /* varied, so selection has to choose */
    st_buf enc = ST_BUF_INIT;
    if (st_signed_message_sign_secp(sm, sk[i % k], &err) || st_signed_message_encode(sm, &enc, &err))
      rc = st_cli_fail("message %llu: %s", (unsigned long long)i, err.msg);
    f->size[i] = enc.len;
    st_buf_free(&enc);
  }
  if (sk) st_secure_zero(sk, k * sizeof *sk);
  free(sk);
  free(addr);
  return rc;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median and (max - min) / median of reps values (sorted in place). */
static double median_of(double *v, size_t reps, double *spread) {
  qsort(v, reps, sizeof *v, cmp_double);
  double med = reps % 2 ? v[reps / 2] : (v[reps / 2 - 1] + v[reps / 2]) / 2;
  *spread = med > 0 ? (v[reps - 1] - v[0]) / med : 0;
  return med;
}

/* Applies every message to a copy of the genesis state as one block mined by t0100 would, and
 * checks the outcome (every receipt exit 0, every nonce advanced, the total supply kept). */
static int time_apply(const chain_fx *f, double *secs, double *root_secs, int64_t *gas_used) {
  st_err err;
  st_state s;
  st_state_init(&s);
  if (st_state_copy(&s, &f->genesis, &err)) {
    st_state_clear(&s);
    return st_cli_fail("%s", err.msg);
  }
  mpz_t base, before, after;
  mpz_init_set_si(base, f->net.initial_base_fee);
  mpz_inits(before, after, NULL);
  st_state_total(&s, before);
  st_vm vm;
  st_vm_init(&vm, &s, &f->net, ST_ID_FIRST_ACCOUNT, base, 1);
  uint64_t failed = 0, refused = 0;
  int64_t gas = 0;
  st_code first_code = ST_OK;
  char first_msg[ST_ERR_MSG_MAX] = "";
  double t0 = now_s();
  for (uint64_t i = 0; i < f->n; i++) {
    st_receipt r;
    st_receipt_init(&r);
    st_code code = st_vm_apply(&vm, &f->msgs[i].message, f->size[i], &r, NULL, &err);
    if (code) {
      if (!refused++) {
        first_code = code;
        snprintf(first_msg, sizeof first_msg, "%s", err.msg);
      }
    } else if (r.exit_code) {
      failed++;
    }
    gas += r.gas_used;
    st_receipt_free(&r);
  }
  *secs = now_s() - t0;
  /* the state root a block header commits to, once per block */
  st_buf blob = ST_BUF_INIT;
  st_cid root;
  t0 = now_s();
  st_state_root(&s, &blob, &root);
  *root_secs = now_s() - t0;
  st_buf_free(&blob);
  *gas_used = gas;
  st_state_total(&s, after);
  int rc = 0;
  if (refused)
    rc = st_cli_fail("%llu messages refused, the first (code %d): %s", (unsigned long long)refused, (int)first_code,
                     first_msg);
  else if (failed) rc = st_cli_fail("%llu messages failed (exit code not 0)", (unsigned long long)failed);
  else if (mpz_cmp(before, after)) rc = st_cli_fail("the total supply changed while applying");
  for (uint64_t a = 0; a < f->k && !rc; a++) {
    const st_state_actor *act = st_state_get(&s, ST_ID_FIRST_ACCOUNT + a);
    uint64_t want = f->n / f->k + (a < f->n % f->k);
    if (!act || act->nonce != want)
      rc =
          st_cli_fail("t0%llu has nonce %llu after the block, want %llu", (unsigned long long)(ST_ID_FIRST_ACCOUNT + a),
                      act ? (unsigned long long)act->nonce : 0ULL, (unsigned long long)want);
  }
  st_vm_clear(&vm);
  mpz_clears(base, before, after, NULL);
  st_state_clear(&s);
  return rc;
}

/* The baseline: the same value moves as raw st_state_transfer calls by actor ID (no lookup of
 * key addresses, no checks, gas, fees or journal). */
static int time_transfers(const chain_fx *f, double *secs) {
  st_err err;
  st_state s;
  st_state_init(&s);
  if (st_state_copy(&s, &f->genesis, &err)) {
    st_state_clear(&s);
    return st_cli_fail("%s", err.msg);
  }
  mpz_t v;
  mpz_init_set_ui(v, APPLY_VALUE);
  uint64_t bad = 0;
  double t0 = now_s();
  for (uint64_t i = 0; i < f->n; i++)
    bad +=
        st_state_transfer(&s, ST_ID_FIRST_ACCOUNT + i % f->k, ST_ID_FIRST_ACCOUNT + (i + 1) % f->k, v, &err) != ST_OK;
  *secs = now_s() - t0;
  mpz_clear(v);
  st_state_clear(&s);
  return bad ? st_cli_fail("%llu transfers failed", (unsigned long long)bad) : 0;
}

/* Bare signature checks of every message: the floor for admitting them to the pool. */
static int time_verify(const chain_fx *f, double *secs) {
  st_err err;
  uint64_t bad = 0;
  double t0 = now_s();
  for (uint64_t i = 0; i < f->n; i++) bad += st_signed_message_verify(&f->msgs[i], &err) != ST_OK;
  *secs = now_s() - t0;
  return bad ? st_cli_fail("%llu signatures did not verify", (unsigned long long)bad) : 0;
}

/* st_mpool_add of every message (in the order they were signed), then one selection for a
 * block on the genesis state. */
static int time_mpool(const chain_fx *f, double *add_secs, double *select_secs, size_t *selected) {
  st_err err;
  st_state s;
  st_state_init(&s);
  if (st_state_copy(&s, &f->genesis, &err)) {
    st_state_clear(&s);
    return st_cli_fail("%s", err.msg);
  }
  st_mpool *pool = NULL;
  const st_signed_message **out = malloc(f->n * sizeof *out);
  int rc = 0;
  if (!out) rc = st_cli_fail("out of memory");
  else if (st_mpool_new(&f->net, &pool, &err)) rc = st_cli_fail("%s", err.msg);
  double t0 = now_s();
  for (uint64_t i = 0; i < f->n && !rc; i++)
    if (st_mpool_add(pool, &s, &f->msgs[i], NULL, &err))
      rc = st_cli_fail("mpool add of message %llu: %s", (unsigned long long)i, err.msg);
  *add_secs = now_s() - t0;
  if (!rc) {
    t0 = now_s();
    *selected = st_mpool_select(pool, &s, f->net.block_gas_limit, out, f->n);
    *select_secs = now_s() - t0;
    /* the selection must be a valid block: each sender's messages in nonce order from 0 */
    uint64_t *next = calloc(f->k, sizeof *next);
    for (size_t i = 0; next && i < *selected && !rc; i++) {
      st_state_actor *a;
      uint64_t idx = 0;
      if (st_state_lookup(&s, &out[i]->message.from, &a, &err)) rc = st_cli_fail("%s", err.msg);
      else idx = a->id - ST_ID_FIRST_ACCOUNT;
      if (!rc && (idx >= f->k || out[i]->message.nonce != next[idx]++))
        rc = st_cli_fail("selection %zu is out of nonce order", i);
    }
    free(next);
  }
  free(out);
  st_mpool_free(pool);
  st_state_clear(&s);
  return rc;
}

static int cmd_apply(uint64_t n, uint64_t k, uint64_t reps, bool json) {
  chain_fx f;
  memset(&f, 0, sizeof f);
  if (!json)
    fprintf(stderr, "signing %llu transfers between %llu accounts (not timed)\n", (unsigned long long)n,
            (unsigned long long)k);
  double t0 = now_s();
  int rc = chain_fx_make(&f, n, k);
  double sign_s = now_s() - t0;
  double *v = calloc(6 * reps, sizeof *v);
  if (!rc && !v) rc = st_cli_fail("out of memory");
  double *apply = v, *root = v + reps, *transfer = v + 2 * reps, *verify = v + 3 * reps, *add = v + 4 * reps,
         *sel = v + 5 * reps;
  int64_t gas = 0;
  size_t selected = 0;
  /* one untimed warm-up of each, then reps interleaved repetitions */
  for (uint64_t r = 0; r <= reps && !rc; r++) {
    size_t i = r ? r - 1 : 0;
    rc = time_apply(&f, &apply[i], &root[i], &gas);
    if (!rc) rc = time_transfers(&f, &transfer[i]);
    if (!rc) rc = time_verify(&f, &verify[i]);
    if (!rc) rc = time_mpool(&f, &add[i], &sel[i], &selected);
    if (!rc && !json && r)
      fprintf(stderr, "  run %llu: apply %.3f s, transfers %.4f s, verify %.3f s, mpool add %.3f s, select %.4f s\n",
              (unsigned long long)r, apply[i], transfer[i], verify[i], add[i], sel[i]);
  }
  if (rc) {
    free(v);
    chain_fx_free(&f);
    return rc;
  }
  double sp_apply, sp_root, sp_transfer, sp_verify, sp_add, sp_sel;
  double m_apply = median_of(apply, reps, &sp_apply), m_root = median_of(root, reps, &sp_root);
  double m_transfer = median_of(transfer, reps, &sp_transfer), m_verify = median_of(verify, reps, &sp_verify);
  double m_add = median_of(add, reps, &sp_add), m_sel = median_of(sel, reps, &sp_sel);
  double dn = (double)n, avg_size = 0;
  for (uint64_t i = 0; i < n; i++) avg_size += (double)f.size[i] / dn;
  json_t *report = json_pack(
      "{s:s, s:I, s:I, s:I, s:f, s:f, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:f, s:f, s:f}",
      "network", f.net.name, "messages", (json_int_t)n, "accounts", (json_int_t)k, "reps", (json_int_t)reps, "sign_s",
      sign_s, "message_bytes_avg", avg_size, "gas_used", (json_int_t)gas, "apply_s", m_apply, "apply_msgs_per_s",
      dn / m_apply, "apply_spread", sp_apply, "transfer_s", m_transfer, "transfer_per_s", dn / m_transfer,
      "transfer_spread", sp_transfer, "apply_vs_transfer", m_apply / m_transfer, "state_root_s", m_root, "verify_s",
      m_verify, "verify_per_s", dn / m_verify, "mpool_add_s", m_add, "mpool_add_per_s", dn / m_add,
      "mpool_add_vs_verify", m_add / m_verify, "selected", (json_int_t)selected, "mpool_select_s", m_sel,
      "mpool_select_msgs_per_s", (double)selected / m_sel, "mpool_add_spread", sp_add);
  st_buf t = ST_BUF_INIT;
  st_buf_printf(
      &t,
      "chain, %s: %llu transfers between %llu secp256k1 accounts, %.0f bytes signed on average; median of %llu runs\n",
      f.net.name, (unsigned long long)n, (unsigned long long)k, avg_size, (unsigned long long)reps);
  st_buf_printf(&t, "  %-34s %10s %12s %12s %7s\n", "", "total", "per second", "per message", "spread");
  st_buf_printf(&t, "  %-34s %8.2f ms %12.0f %9.2f us %6.1f%%\n", "st_vm_apply (one block)", m_apply * 1e3,
                dn / m_apply, m_apply / dn * 1e6, sp_apply * 100);
  st_buf_printf(&t, "  %-34s %8.2f ms %12.0f %9.2f us %6.1f%%\n", "st_state_transfer (baseline)", m_transfer * 1e3,
                dn / m_transfer, m_transfer / dn * 1e6, sp_transfer * 100);
  st_buf_printf(&t, "  %-34s %8.2f ms %12s %12s %6.1f%%\n", "state root after the block", m_root * 1e3, "-", "-",
                sp_root * 100);
  st_buf_printf(&t, "  %-34s %8.2f ms %12.0f %9.2f us %6.1f%%\n", "st_mpool_add (signature included)", m_add * 1e3,
                dn / m_add, m_add / dn * 1e6, sp_add * 100);
  st_buf_printf(&t, "  %-34s %8.2f ms %12.0f %9.2f us %6.1f%%\n", "st_signed_message_verify (baseline)", m_verify * 1e3,
                dn / m_verify, m_verify / dn * 1e6, sp_verify * 100);
  st_buf_printf(&t, "  %-34s %8.2f ms %12.0f %9.2f us %6.1f%%\n", "st_mpool_select (one block)", m_sel * 1e3,
                (double)selected / m_sel, selected ? m_sel / (double)selected * 1e6 : 0, sp_sel * 100);
  st_buf_printf(
      &t,
      "  apply / transfer = %.1fx; mpool add / verify = %.2fx; %zu of %llu messages selected (block gas limit %lld, %lld gas used)\n",
      m_apply / m_transfer, m_add / m_verify, selected, (unsigned long long)n, (long long)f.net.block_gas_limit,
      (long long)gas);
  emit(&(opts){.json = json}, report, st_buf_cstr(&t));
  st_buf_free(&t);
  free(v);
  chain_fx_free(&f);
  return 0;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: spacetime-bench <command> [flags]\n\n"
          "commands:\n"
          "  seal          --sector-size S [--dir D] [--json]   seal, prove and verify one CC sector\n"
          "  window-post   --sector-size S --sectors N [--parallel P] [--dir D] [--json]\n"
          "  winning-post  --sector-size S [--dir D] [--json]\n"
          "  unseal        --sector-size S [--dir D] [--json]   seal a sector of random data, unseal it\n"
          "  apply         [--messages N] [--accounts K] [--reps R] [--json]   apply N signed transfers\n"
          "                as one block (and st_state_transfer as the baseline), add them to the message\n"
          "                pool (and bare signature checks as the baseline), select a block (default\n"
          "                N 20000, K 100, R 5)\n\n"
          "Sizes: 2KiB, 8MiB, 512MiB, 32GiB, 64GiB. Without --dir the files go to a temporary\n"
          "directory that is removed at the end.\n");
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2;
  }
  st_flag flags[] = {
      ST_FLAG("sector-size", ST_FLAG_VALUE, "S", "2KiB, 8MiB, 512MiB, 32GiB or 64GiB"),
      ST_FLAG("dir", ST_FLAG_VALUE, "DIR", "where the sector files go (kept)"),
      ST_FLAG("sectors", ST_FLAG_VALUE, "N", "sectors in the partition (window-post)"),
      ST_FLAG("parallel", ST_FLAG_VALUE, "P", "sectors read at once (window-post, default 8)"),
      ST_FLAG("messages", ST_FLAG_VALUE, "N", "signed transfers (apply, default 20000)"),
      ST_FLAG("accounts", ST_FLAG_VALUE, "K", "funded accounts sending them round-robin (apply, default 100)"),
      ST_FLAG("reps", ST_FLAG_VALUE, "R", "timed repetitions after a warm-up (apply, default 5)"),
      ST_FLAG("json", ST_FLAG_BOOL, NULL, "print one JSON object"),
  };
  st_cli cli = ST_CLI_INIT(flags);
  st_err err;
  if (st_cli_parse(&cli, argc - 2, argv + 2, 0, &err)) return st_cli_fail("%s (run 'spacetime-bench --help')", err.msg);
  if (cli.help) {
    usage(stdout);
    return 0;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "seal") && strcmp(cmd, "window-post") && strcmp(cmd, "winning-post") && strcmp(cmd, "apply") &&
      strcmp(cmd, "unseal"))
    return st_cli_fail("unknown command \"%s\" (run 'spacetime-bench --help')", cmd);
  if (!strcmp(cmd, "apply")) {
    uint64_t n = 20000, k = 100, reps = 5;
    if (st_cli_u64(&cli, "messages", 1, 10000000, NULL, &n, &err) ||
        st_cli_u64(&cli, "accounts", 2, ST_GENESIS_MAX_ACCOUNTS, NULL, &k, &err) ||
        st_cli_u64(&cli, "reps", 1, 1000, NULL, &reps, &err))
      return st_cli_fail("%s", err.msg);
    if (n > k * ST_MPOOL_MAX_PER_SENDER)
      return st_cli_fail("--messages %llu is more than the pool holds for %llu senders (%d each)",
                         (unsigned long long)n, (unsigned long long)k, ST_MPOOL_MAX_PER_SENDER);
    return cmd_apply(n, k, reps, st_cli_has(&cli, "json"));
  }
  uint64_t sectors = 2, parallel = 0;
  if (st_cli_u64(&cli, "sectors", 1, 100000, NULL, &sectors, &err) ||
      st_cli_u64(&cli, "parallel", 0, 1024, NULL, &parallel, &err))
    return st_cli_fail("%s", err.msg);
  opts o;
  memset(&o, 0, sizeof o);
  int rc = common(&o, &cli);
  if (rc) return rc;
  if (!strcmp(cmd, "seal")) rc = cmd_seal(&o);
  else if (!strcmp(cmd, "unseal")) rc = cmd_unseal(&o);
  else if (!strcmp(cmd, "window-post")) rc = cmd_window_post(&o, sectors, (unsigned)parallel);
  else rc = cmd_winning_post(&o);
  cleanup(&o);
  return rc;
}
