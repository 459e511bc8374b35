/* st_cli: command-line flags for the thin programs in cmd/.
 *
 * Flags are spelled --name VALUE or --name=VALUE; booleans take no value. Only exact names
 * match (no getopt-style prefixes), "--" ends the flags, "-" is a positional (standard input),
 * and -h / --help set cli.help. Every mistake produces one line naming the flag. */
#ifndef ST_CLI_H
#define ST_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/st_encoding.h" /* st_parse_u64, which reads flag values too */
#include "core/st_err.h"

/* A list flag may be given many times (--account A --account B); its values are kept in order. */
typedef enum st_flag_kind { ST_FLAG_BOOL, ST_FLAG_VALUE, ST_FLAG_LIST } st_flag_kind;
#define ST_CLI_MAX_LIST 64

typedef struct st_flag {
  const char *name; /* without the leading "--" */
  st_flag_kind kind;
  const char *metavar; /* shown in help for value flags, e.g. "HEX" */
  const char *help;
  bool set;                            /* filled by st_cli_parse */
  const char *value;                   /* for ST_FLAG_VALUE, and the last one of a list */
  const char *values[ST_CLI_MAX_LIST]; /* for ST_FLAG_LIST */
  int nvalues;
} st_flag;

/* One entry of a flag table: ST_FLAG("json", ST_FLAG_BOOL, NULL, "print JSON"). */
#define ST_FLAG(name_, kind_, metavar_, help_) \
  { .name = (name_), .kind = (kind_), .metavar = (metavar_), .help = (help_) }

#define ST_CLI_MAX_POS 16

typedef struct st_cli {
  st_flag *flags;
  size_t nflags;
  const char *pos[ST_CLI_MAX_POS];
  int npos;
  bool help;
} st_cli;

/* A flag table's st_cli: `st_cli cli = ST_CLI_INIT(flags);` with flags an array. */
#define ST_CLI_INIT(flags_) \
  { (flags_), sizeof(flags_) / sizeof((flags_)[0]), {0}, 0, false }

/* Parses argv[0..argc) (no program name). At most maxpos positionals are accepted. On failure
 * cli holds what was read before the faulty argument (programs exit then). */
st_code st_cli_parse(st_cli *cli, int argc, char **argv, int maxpos, st_err *err);

/* Flags are read by name, never by their place in the table.
 * - st_cli_value: the value of value or list flag name (a list's last), or dflt when it was not
 *   given. A name the table lacks is a programming error: it aborts, naming the flag, so a
 *   misspelt name fails the first test that reaches it instead of reading as "not given".
 * - st_cli_has: whether flag name was given; false also when the table has no such flag (for
 *   helpers shared by verbs whose tables differ).
 * - st_cli_flag: the flag itself (a list's values), or NULL when the table has none. */
const char *st_cli_value(const st_cli *cli, const char *name, const char *dflt);
bool st_cli_has(const st_cli *cli, const char *name);
st_flag *st_cli_flag(st_cli *cli, const char *name);
/* The value of number flag name, a strict unsigned decimal (st_parse_u64) from min to max
 * (min <= max). When the flag was not given it returns ST_OK and leaves *out as it was, so set
 * *out to the default first; on failure *out is unchanged too. err then names the flag: for a
 * range narrower than all of uint64 it says "--NAME must be MIN to MAX" (" UNIT" appended when
 * unit is non-NULL), whether the value is outside the range or no number at all; for 0 to
 * UINT64_MAX it is st_parse_u64's, e.g. "--NAME: \"x\" is not an unsigned decimal number". The
 * code is st_parse_u64's for a value that is no number, else ST_ERANGE for one outside the range.
 * A name the table lacks aborts, as in st_cli_value. */
st_code st_cli_u64(const st_cli *cli, const char *name, uint64_t min, uint64_t max, const char *unit, uint64_t *out,
                   st_err *err);
/* Prints "usage: <usage>", the summary and the flag table. */
void st_cli_help(FILE *out, const char *usage, const char *summary, const st_cli *cli);
/* Prints "ERROR: <message>" on stderr (one line, as Lotus does) and returns 1, the exit status. */
int st_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For a verb's flags: parses them, and prints help for --help. Returns -1 when the verb should
 * go on, else its exit status (0 after help, 1 after a usage error, which names cmd, the full
 * command such as "spacetime util cid"). */
int st_cli_start(st_cli *cli, int argc, char **argv, int maxpos, const char *cmd, const char *args,
                 const char *summary);

/* A verb of a command; a name may be two words ("address encode"). */
typedef struct st_cli_verb {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} st_cli_verb;
/* Runs the verb named by argv[0] (and argv[1] for a two-word name) of group, e.g.
 * "spacetime util"; with no verb or --help, lists the verbs. The first word of two-word verbs
 * is a group too ("spacetime util address"): with --help it lists that group's verbs on stdout
 * (exit 0), with no verb on stderr (exit 1). Returns the exit status. */
int st_cli_dispatch(const char *group, const st_cli_verb *verbs, size_t n, int argc, char **argv);

/* Lotus's SizeStr: 1024-based with three significant digits, "2.69 MiB"; unit is "B" for bytes
 * or "" for quality-adjusted power ("588 Ki"). */
void st_size_str(double bytes, const char *unit, char *out, size_t n);

#endif
