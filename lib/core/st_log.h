/* st_log: the cluster's log lines, in the shape operators know from Lotus:
 *
 *   2020-06-19T10:32:56.116+0800<TAB>INFO<TAB>storageminer<TAB>generating windowPost<TAB>{"sectors": 4}
 *
 * Local time with milliseconds and UTC offset, level, subsystem, message, then the fields as a
 * JSON object ("key": value pairs joined by ", "; nested values compact). Levels are set per
 * subsystem ("info,storageminer=debug"). Lines go to stderr, to a file, or both; each line is
 * one write(2), so lines from threads and processes sharing a file never interleave.
 * The level table and the outputs are the library's only global state. */
#ifndef ST_LOG_H
#define ST_LOG_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "core/st_buf.h"
#include "core/st_err.h"

typedef enum st_log_level { ST_LOG_DEBUG, ST_LOG_INFO, ST_LOG_WARN, ST_LOG_ERROR, ST_LOG_OFF } st_log_level;

/* Logs msg with fields (a JSON object, or NULL). Takes ownership of fields. */
void st_log(const char *subsys, st_log_level level, const char *msg, json_t *fields);
/* Logs a printf-formatted message without fields. */
void st_logf(const char *subsys, st_log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool st_log_enabled(const char *subsys, st_log_level level);

/* subsys NULL sets the default level for subsystems without their own. */
st_code st_log_set_level(const char *subsys, st_log_level level, st_err *err);
/* A spec such as "info", "warn,storageminer=debug" or "chain=error". */
st_code st_log_configure(const char *spec, st_err *err);
/* *out is ST_LOG_DEBUG (0) on failure, as st_err.h has it. */
st_code st_log_parse_level(const char *name, st_log_level *out, st_err *err);
const char *st_log_level_name(st_log_level level);
/* Appends to path (creating it 0644); NULL closes the file output. */
st_code st_log_set_file(const char *path, st_err *err);
void st_log_set_stderr(bool on);
/* Replaces the clock (tests); NULL restores CLOCK_REALTIME. */
void st_log_set_clock(void (*now)(struct timespec *ts));

/* Formats one line (with trailing newline), appended to out, without writing it anywhere. */
void st_log_format_line(st_buf *out, const struct timespec *ts, st_log_level level, const char *subsys, const char *msg,
                        const json_t *fields);
#endif
