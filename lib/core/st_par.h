/* st_par: one loop split over threads, for the hashing that sealing does by the million (label
 * columns, tree rows), so that a seal uses every core.
 *
 * st_par_for(n, threads, fn, arg) calls fn(arg, lo, hi) on contiguous ranges that cover [0, n)
 * exactly once, each range on its own thread (the caller's thread takes the first), and returns
 * when all are done. fn must only write what its range owns. threads = 0 means one per online
 * CPU; it is capped at n, and a thread that cannot be started runs its range on the caller's
 * thread instead, so the loop always completes. */
#ifndef ST_PAR_H
#define ST_PAR_H
#include <stddef.h>

typedef void (*st_par_fn)(void *arg, size_t lo, size_t hi);

#define ST_PAR_MAX_THREADS 64

void st_par_for(size_t n, unsigned threads, st_par_fn fn, void *arg);
/* Online CPUs (at least 1, at most ST_PAR_MAX_THREADS). */
unsigned st_par_cpus(void);

#endif
