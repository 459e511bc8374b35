/* bench_poseidon: one Poseidon hash (st_poseidon_hash, the fast form, and the plain form) for
 * arities 2, 8 and 11, each as a ratio to the blst field multiplications it is made of, timed in
 * the same run.
 *
 * The baseline is st_poseidon_mults(arity) calls of blst_fr_mul spread over t = arity + 1
 * independent chains, as the rounds spread theirs over the state (a full round's t S-boxes and
 * MDS rows are independent); a single dependent chain, which is slower per multiplication, is
 * printed beside it. Additions, the Montgomery conversions' loads and the sparse rounds' order
 * are what the ratio charges to the hash. Method as bench_codec: calibrated to about 0.2 s a
 * repetition, 7 repetitions interleaved, the median reported with its spread. */
#include <blst.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proofs/st_poseidon.h"

#define REPS 7
#define REP_NS 200e6
#define CALIB_NS 20e6
#define MAX_T 17

static volatile uint64_t sink;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef struct job {
  unsigned arity;
  int kind; /* 0 fast hash, 1 plain hash, 2 mults over t chains, 3 mults in one chain */
} job;

static void run(const job *j, uint64_t count) {
  unsigned t = j->arity + 1, m = st_poseidon_mults(j->arity);
  if (j->kind <= 1) {
    uint8_t in[16 * 32], out[32];
    memset(in, 0, sizeof in);
    for (unsigned i = 0; i < j->arity; i++) in[32 * i] = (uint8_t)(i + 1);
    for (uint64_t n = 0; n < count; n++) {
      if (j->kind == 0) st_poseidon_hash(j->arity, in, out);
      else st_poseidon_hash_plain(j->arity, in, out);
      in[0] = out[0];
      in[31] = 0;
    }
    sink += out[0];
    return;
  }
  blst_fr a[MAX_T], b;
  uint64_t limbs[4] = {0x1234567, 89, 10, 11};
  blst_fr_from_uint64(&b, limbs);
  for (unsigned i = 0; i < t; i++) {
    limbs[0] = i + 2;
    blst_fr_from_uint64(&a[i], limbs);
  }
  for (uint64_t n = 0; n < count; n++) {
    if (j->kind == 2) {
      for (unsigned k = 0; k < m; k += t)
        for (unsigned i = 0; i < t && k + i < m; i++) blst_fr_mul(&a[i], &a[i], &b);
    } else {
      for (unsigned k = 0; k < m; k++) blst_fr_mul(&a[0], &a[0], &b);
    }
  }
  sink += a[0].l[0];
}

static double time_once(const job *j, uint64_t count) {
  double t0 = now_ns();
  run(j, count);
  return now_ns() - t0;
}

static uint64_t calibrate(const job *j) {
  uint64_t count = 1;
  while (time_once(j, count) < CALIB_NS) count *= 2;
  double per = time_once(j, count) / (double)count;
  uint64_t n = (uint64_t)(REP_NS / per);
  return n ? n : 1;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(void) {
  static const unsigned arities[] = {2, 8, 11};
  printf("| arity | mults | hash ns | plain ns | %s | %s | hash / mults | plain / mults | spread |\n",
         "mults ns (t chains)", "mults ns (1 chain)");
  printf("|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
  for (size_t a = 0; a < sizeof arities / sizeof arities[0]; a++) {
    job jobs[4];
    uint64_t counts[4];
    double per[4][REPS];
    for (int k = 0; k < 4; k++) {
      jobs[k] = (job){arities[a], k};
      counts[k] = calibrate(&jobs[k]);
    }
    for (int r = 0; r < REPS; r++)
      for (int k = 0; k < 4; k++) per[k][r] = time_once(&jobs[k], counts[k]) / (double)counts[k];
    double med[4], spread = 0;
    for (int k = 0; k < 4; k++) {
      qsort(per[k], REPS, sizeof per[k][0], cmp);
      med[k] = per[k][REPS / 2];
      double s = (per[k][REPS - 1] - per[k][0]) / med[k];
      if (s > spread) spread = s;
    }
    printf("| %u | %u | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %.1f%% |\n", arities[a],
           st_poseidon_mults(arities[a]), med[0], med[1], med[2], med[3], med[0] / med[2], med[1] / med[2],
           spread * 100);
  }
  return sink == 42 ? 1 : 0;
}
