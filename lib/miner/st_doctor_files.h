/* st_doctor_files: the parts of `spacetime-miner doctor` that read files rather than APIs: the
 * poster's log (the seed's third check: `cat poster.log | grep -ai error`) and where under the
 * dist-path a file the poster could not read really is (the seed's diagnosis: the poster looked
 * in <dist>/cache, the sector lives in <dist>/nfs/<host>/cache). */
#ifndef ST_DOCTOR_FILES_H
#define ST_DOCTOR_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/st_err.h"
#include "proofs/st_sector.h"

#define ST_DOCTOR_PATHS 8

typedef struct st_doctor_log {
  size_t errors, older;           /* ERROR lines at or after `since`, and before it */
  char first_at[40], last_at[40]; /* the times of the first and last counted */
  char last[1024];                /* the last counted ERROR line, with its continuation lines */
  size_t npaths;                  /* distinct paths of `could not read from path="..."` among them */
  char paths[ST_DOCTOR_PATHS][ST_PATH_MAX];
  bool partial; /* the log is longer than max_bytes: only its end was read */
} st_doctor_log;

/* Reads at most the last max_bytes of the log at path, line by line (the seed's format, see
 * st_log), and counts its ERROR lines since the last line holding start (the program's start-up
 * line; NULL: none) and not before since (unix seconds; 0: all). What comes before is `older`.
 * *out is zeroed on failure. */
st_code st_doctor_scan_log(const char *path, const char *start, int64_t since, size_t max_bytes, st_doctor_log *out,
                           st_err *err);
/* The unix time of a log line's timestamp ("2020-06-19T10:32:56.116+0800"); false (and *out 0)
 * if it is none. */
bool st_doctor_log_time(const char *line, int64_t *out);
/* For a path <dist>/<rest> that does not exist, the first <dist>/<type>/<host>/<rest> that does
 * (a storage node's folder, as the registry lays them out); false, with found "", if none does. */
bool st_doctor_find_under(const char *dist, const char *missing, char *found, size_t n);

#endif
