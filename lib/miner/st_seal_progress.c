/* st_seal_progress: see the header. */
#include "miner/st_seal_progress.h"

#include <stdio.h>

#include "core/st_clock.h"
#include "core/st_log.h"

static void on_phase(void *arg, const char *phase, bool done) {
  st_seal_progress *p = arg;
  if (!done) return;
  p->done++;
  unsigned total = p->done > p->total ? p->done : p->total;
  uint64_t spent = st_clock_ms() - p->started_ms, left = p->done < total ? spent * (total - p->done) / p->done : 0;
  char msg[64];
  snprintf(msg, sizeof msg, "%s progress", p->what);
  st_log("sectors", ST_LOG_INFO, msg,
         json_pack("{s:I, s:s, s:I, s:I, s:I, s:I}", "sector", (json_int_t)p->sector, "done", phase, "phases_done",
                   (json_int_t)p->done, "phases", (json_int_t)total, "percent", (json_int_t)(p->done * 100 / total),
                   "left_s", (json_int_t)((left + 500) / 1000)));
}

st_seal_observer st_seal_progress_start(st_seal_progress *p, const char *what, uint64_t sector, unsigned total) {
  *p = (st_seal_progress){.what = what, .sector = sector, .total = total ? total : 1, .started_ms = st_clock_ms()};
  return (st_seal_observer){on_phase, p};
}
