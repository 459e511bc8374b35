/* st_seal_progress: a seal's progress in the log, for the sealer (sealing) and the miner API's
 * retrieval (unsealing regenerates the key: the same labelling). As each phase of st_seal ends
 * (tree_d, each SDR layer, tree_c, tree_r_last, aux; for a key, its layers) it logs
 *   <what> progress {"sector", "done", "phases_done", "phases", "percent", "left_s"}
 * left_s being the time left at the pace of the phases so far (layers, most of the work, take
 * about the same time each). */
#ifndef ST_SEAL_PROGRESS_H
#define ST_SEAL_PROGRESS_H

#include <stdint.h>

#include "proofs/st_seal.h"

typedef struct st_seal_progress {
  const char *what; /* "sealing", "unsealing" */
  uint64_t sector;
  unsigned done, total;
  uint64_t started_ms;
} st_seal_progress;

/* Starts p (what is borrowed) and returns the observer to put in st_seal_input, which points at
 * p: p must outlive the seal. total: the phases to expect. */
st_seal_observer st_seal_progress_start(st_seal_progress *p, const char *what, uint64_t sector, unsigned total);

#endif
