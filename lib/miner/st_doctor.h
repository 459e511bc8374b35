/* st_doctor: the rules of `spacetime-miner doctor`, the seed's diagnosis without reading logs by
 * hand. From the facts st_doctor_facts gathers, each check gives a finding (ok, warn or fail)
 * with its evidence, its cause and the exact fix: the seed's three checks (Committed against
 * Proving power, proven partitions per deadline, ERROR lines in the poster log), then the
 * configuration the seed's operator found wrong by hand: a poster without --server-api, an
 * unreachable registry, sector files the poster cannot read, stale storage-node heartbeats, a
 * cluster with no live poster or with work left under a lapsed lease, and a low worker balance. The rules read only the
 * facts: no call, no file, no clock. */
#ifndef ST_DOCTOR_H
#define ST_DOCTOR_H

#include <stddef.h>

#include "miner/st_doctor_facts.h"

typedef enum st_doctor_level { ST_DOCTOR_OK, ST_DOCTOR_WARN, ST_DOCTOR_FAIL } st_doctor_level;

/* The checks, in the order they print: the seed's three first after the daemon and the miner. */
typedef enum st_doctor_check {
  ST_DOCTOR_CHECK_DAEMON,
  ST_DOCTOR_CHECK_MINER,
  ST_DOCTOR_CHECK_POWER,
  ST_DOCTOR_CHECK_PROVEN,
  ST_DOCTOR_CHECK_LOG,
  ST_DOCTOR_CHECK_SERVER_API,
  ST_DOCTOR_CHECK_REGISTRY,
  ST_DOCTOR_CHECK_PATHS,
  ST_DOCTOR_CHECK_HEARTBEAT,
  ST_DOCTOR_CHECK_CLUSTER,
  ST_DOCTOR_CHECK_BALANCE,
  ST_DOCTOR_NCHECKS
} st_doctor_check;

/* Lines of text, each at most 2047 bytes (longer ones are cut). */
typedef struct st_doctor_lines {
  char **v;
  size_t n;
} st_doctor_lines;

typedef struct st_doctor_finding {
  const char *check; /* the check's name ("power", "sector paths"); NULL: it did not run */
  st_doctor_level level;
  char summary[1024], cause[1536]; /* cause "": none given */
  st_doctor_lines evidence, fix;
} st_doctor_finding;

typedef struct st_doctor_report {
  st_doctor_finding f[ST_DOCTOR_NCHECKS]; /* by st_doctor_check */
} st_doctor_report;

/* "ok", "warn", "fail" */
const char *st_doctor_level_name(st_doctor_level l);
void st_doctor_report_init(st_doctor_report *r);
void st_doctor_report_free(st_doctor_report *r);
/* The findings that ran and are not ok. */
size_t st_doctor_problems(const st_doctor_report *r);

/* Every check that the facts allow, into out (initialised; it may hold an earlier report, which
 * is replaced): the daemon and the miner always; power, proven and worker balance once the
 * daemon answers; the poster log when there is a log or a running miner; sector paths,
 * server-api, registry, storage heartbeats and the cluster while the miner runs. A line that cannot be
 * allocated is left out. */
void st_doctor_diagnose(const st_doctor_facts *f, st_doctor_report *out);

#endif
