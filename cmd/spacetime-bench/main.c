/* spacetime-bench: seals, proves and verifies real sectors and prints each phase's time next
 * to a baseline measured in the same run (SHA-256 throughput for sealing, plain pread of the
 * same challenged nodes for PoSt), plus the peak RSS. Results go to bench/RESULTS.md. */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/st_buf.h"
#include "core/st_cli.h"
#include "core/st_fs.h"
#include "core/st_json.h"
#include "crypto/st_hash.h"
#include "proofs/st_fr.h"
#include "proofs/st_porep.h"
#include "proofs/st_post.h"
#include "proofs/st_seal.h"

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

/* Seconds to SHA-256 `total` bytes in pieces of `piece` bytes: the sealing baseline. */
static double sha_baseline(uint64_t total, size_t piece) {
  uint8_t buf[1024] = {1}, out[32];
  double t0 = now_s();
  for (uint64_t done = 0; done < total; done += piece) {
    st_sha256(buf, piece, out);
    buf[0] ^= out[0];
  }
  return now_s() - t0;
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
  const char *size = st_cli_flag(cli, "sector-size")->value;
  if (!size) return st_cli_fail("--sector-size is required (2KiB, 8MiB, 512MiB, 32GiB, 64GiB)");
  if (st_sector_lookup(size, &o->info, &err)) return st_cli_fail("--sector-size: %s", err.msg);
  o->json = st_cli_has(cli, "json");
  o->dir = st_cli_flag(cli, "dir")->value;
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
  /* Baseline: SHA-256 over what one layer hashes (layer 2 on: 64 + 14*32 bytes a node). */
  uint64_t nodes = st_sector_nodes(o->info);
  double sha_s = sha_baseline(nodes * 512, 512);
  json_t *layer_last = json_object_get(pt.phases, "layer 2");
  double layer_s = layer_last ? json_real_value(layer_last) : 0;
  json_t *report = json_pack("{s:s, s:I, s:o, s:f, s:f, s:f, s:I, s:f, s:f, s:I, s:I}", "sector_size", o->info->name,
                             "nodes", (json_int_t)nodes, "phases", pt.phases, "seal_s", seal_s, "porep_prove_s", prove_s,
                             "porep_verify_s", verify_s, "porep_proof_bytes", (json_int_t)proof.len,
                             "sha256_baseline_s", sha_s, "layer_vs_sha256", sha_s > 0 ? layer_s / sha_s : 0,
                             "peak_rss_kib", (json_int_t)peak_rss_kib(), "peak_rss_seal_kib", (json_int_t)rss_seal);
  st_buf t = ST_BUF_INIT;
  st_buf_printf(&t, "sector %s (%llu nodes)\n", o->info->name, (unsigned long long)nodes);
  const char *k;
  json_t *v;
  json_object_foreach(pt.phases, k, v) st_buf_printf(&t, "  %-18s %9.3f s\n", k, json_real_value(v));
  st_buf_printf(&t, "  %-18s %9.3f s\n  %-18s %9.6f s\n  %-18s %9.6f s (%zu bytes)\n", "seal total", seal_s,
                "porep prove", prove_s, "porep verify", verify_s, proof.len);
  st_buf_printf(&t, "  layer 2 vs SHA-256 of the same bytes: %.2fx (%.3f s vs %.3f s, %.0f MB/s hashed)\n",
                sha_s > 0 ? layer_s / sha_s : 0, layer_s, sha_s, (double)nodes * 512 / 1e6 / (layer_s > 0 ? layer_s : 1));
  st_buf_printf(&t, "  peak RSS %ld KiB (after sealing %ld KiB; sector %llu KiB)\n", peak_rss_kib(), rss_seal,
                (unsigned long long)(o->info->size >> 10));
  emit(o, report, st_buf_cstr(&t));
  st_buf_free(&t);
  st_buf_free(&proof);
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
  if (res.nskipped) return st_cli_fail("sector %llu skipped: %s", (unsigned long long)res.skipped[0].number, res.skipped[0].error);
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
  if (st_winning_post_prove(o->info, MINER, rand, sec, 1, &proof, &err)) return st_cli_fail("%s", err.msg);
  double prove_s = now_s() - t0;
  t0 = now_s();
  if (st_winning_post_verify(o->info, MINER, rand, pub, 1, proof.data, proof.len, &err)) return st_cli_fail("%s", err.msg);
  double verify_s = now_s() - t0;
  json_t *report = json_pack("{s:s, s:f, s:f, s:I}", "sector_size", o->info->name, "prove_s", prove_s, "verify_s",
                             verify_s, "proof_bytes", (json_int_t)proof.len);
  char text[512];
  snprintf(text, sizeof text, "winning post, %s, %d challenges\n  prove  %9.6f s\n  verify %9.6f s\n  proof  %zu bytes\n",
           o->info->name, ST_WINNING_CHALLENGES, prove_s, verify_s, proof.len);
  emit(o, report, text);
  st_buf_free(&proof);
  return 0;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: spacetime-bench <command> [flags]\n\n"
          "commands:\n"
          "  seal          --sector-size S [--dir D] [--json]   seal, prove and verify one CC sector\n"
          "  window-post   --sector-size S --sectors N [--parallel P] [--dir D] [--json]\n"
          "  winning-post  --sector-size S [--dir D] [--json]\n\n"
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
      ST_FLAG("json", ST_FLAG_BOOL, NULL, "print one JSON object"),
  };
  st_cli cli = {flags, sizeof flags / sizeof flags[0], {0}, 0, false};
  st_err err;
  if (st_cli_parse(&cli, argc - 2, argv + 2, 0, &err)) return st_cli_fail("%s (run 'spacetime-bench --help')", err.msg);
  if (cli.help) {
    usage(stdout);
    return 0;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "seal") && strcmp(cmd, "window-post") && strcmp(cmd, "winning-post"))
    return st_cli_fail("unknown command \"%s\" (run 'spacetime-bench --help')", cmd);
  uint64_t sectors = 2, parallel = 0;
  if (st_cli_has(&cli, "sectors") && st_parse_u64(st_cli_flag(&cli, "sectors")->value, "--sectors", &sectors, &err))
    return st_cli_fail("%s", err.msg);
  if (st_cli_has(&cli, "parallel") && st_parse_u64(st_cli_flag(&cli, "parallel")->value, "--parallel", &parallel, &err))
    return st_cli_fail("%s", err.msg);
  if (sectors == 0 || sectors > 100000) return st_cli_fail("--sectors must be between 1 and 100000");
  if (parallel > 1024) return st_cli_fail("--parallel must be at most 1024");
  opts o;
  memset(&o, 0, sizeof o);
  int rc = common(&o, &cli);
  if (rc) return rc;
  if (!strcmp(cmd, "seal"))
    rc = cmd_seal(&o);
  else if (!strcmp(cmd, "window-post"))
    rc = cmd_window_post(&o, sectors, (unsigned)parallel);
  else
    rc = cmd_winning_post(&o);
  cleanup(&o);
  return rc;
}
