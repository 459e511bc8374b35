/* st_par: a loop's ranges on pthreads, joined before returning. */
#include "core/st_par.h"

#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

typedef struct range {
  st_par_fn fn;
  void *arg;
  size_t lo, hi;
  pthread_t tid;
  bool started;
} range;

static void *run_range(void *p) {
  range *r = p;
  r->fn(r->arg, r->lo, r->hi);
  return NULL;
}

unsigned st_par_cpus(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) return 1;
  return n > ST_PAR_MAX_THREADS ? ST_PAR_MAX_THREADS : (unsigned)n;
}

void st_par_for(size_t n, unsigned threads, st_par_fn fn, void *arg) {
  if (!n) return;
  if (!threads) threads = st_par_cpus();
  if (threads > ST_PAR_MAX_THREADS) threads = ST_PAR_MAX_THREADS;
  if (threads > n) threads = (unsigned)n;
  if (threads <= 1) {
    fn(arg, 0, n);
    return;
  }
  range r[ST_PAR_MAX_THREADS];
  for (unsigned i = 0; i < threads; i++) {
    r[i] = (range){.fn = fn, .arg = arg, .lo = n * i / threads, .hi = n * (i + 1) / threads};
    if (i > 0) r[i].started = pthread_create(&r[i].tid, NULL, run_range, &r[i]) == 0;
  }
  fn(arg, r[0].lo, r[0].hi);
  for (unsigned i = 1; i < threads; i++) {
    if (r[i].started) pthread_join(r[i].tid, NULL);
    else fn(arg, r[i].lo, r[i].hi);
  }
}
