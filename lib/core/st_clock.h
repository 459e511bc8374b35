/* st_clock: the monotonic clock in milliseconds, for timeouts and deadlines (never the wall
 * clock, which an operator or NTP may set back). */
#ifndef ST_CLOCK_H
#define ST_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t st_clock_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
