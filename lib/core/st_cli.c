/* st_cli: exact-name flag parsing with one-line errors for the cmd/ programs. */
#include "core/st_cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const st_flag *find(const st_cli *cli, const char *name) {
  for (size_t i = 0; i < cli->nflags; i++)
    if (!strcmp(cli->flags[i].name, name)) return &cli->flags[i];
  return NULL;
}

st_flag *st_cli_flag(st_cli *cli, const char *name) { return (st_flag *)find(cli, name); }

bool st_cli_has(const st_cli *cli, const char *name) {
  const st_flag *f = find(cli, name);
  return f && f->set;
}

const char *st_cli_value(const st_cli *cli, const char *name, const char *dflt) {
  const st_flag *f = find(cli, name);
  if (!f) {
    fprintf(stderr, "st_cli_value: the flag table has no --%s\n", name);
    abort();
  }
  return f->set && f->kind != ST_FLAG_BOOL ? f->value : dflt;
}

st_code st_cli_u64(const st_cli *cli, const char *name, uint64_t min, uint64_t max, const char *unit, uint64_t *out,
                   st_err *err) {
  const char *text = st_cli_value(cli, name, NULL);
  if (!text) return ST_OK;
  char what[80];
  snprintf(what, sizeof what, "--%s", name);
  uint64_t v;
  st_code code = st_parse_u64(text, what, &v, err);
  if (!code && (v < min || v > max)) code = ST_ERANGE;
  if (code && (min || max != UINT64_MAX))
    return st_err_set(err, code, "--%s must be %llu to %llu%s%s", name, (unsigned long long)min,
                      (unsigned long long)max, unit ? " " : "", unit ? unit : "");
  if (!code) *out = v;
  return code;
}

static st_flag *lookup(st_cli *cli, const char *name, size_t len) {
  for (size_t i = 0; i < cli->nflags; i++)
    if (strlen(cli->flags[i].name) == len && !strncmp(cli->flags[i].name, name, len)) return &cli->flags[i];
  return NULL;
}

st_code st_cli_parse(st_cli *cli, int argc, char **argv, int maxpos, st_err *err) {
  if (maxpos > ST_CLI_MAX_POS) maxpos = ST_CLI_MAX_POS;
  bool flags_done = false;
  cli->npos = 0;
  cli->help = false;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!flags_done && !strcmp(a, "--")) {
      flags_done = true;
      continue;
    }
    if (!flags_done && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
      cli->help = true;
      continue;
    }
    if (flags_done || a[0] != '-' || !strcmp(a, "-")) {
      if (cli->npos >= maxpos)
        return st_err_set(err, ST_EINVAL, maxpos ? "unexpected extra argument \"%s\"" : "unexpected argument \"%s\"",
                          a);
      cli->pos[cli->npos++] = a;
      continue;
    }
    if (a[1] != '-') return st_err_set(err, ST_EINVAL, "unknown flag %s (flags are spelled --name)", a);
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    st_flag *f = lookup(cli, name, len);
    if (!f) return st_err_set(err, ST_EINVAL, "unknown flag --%.*s", (int)len, name);
    if (f->set && f->kind != ST_FLAG_LIST) return st_err_set(err, ST_EINVAL, "flag --%s given more than once", f->name);
    if (f->kind == ST_FLAG_LIST && f->nvalues == ST_CLI_MAX_LIST)
      return st_err_set(err, ST_EINVAL, "flag --%s given more than %d times", f->name, ST_CLI_MAX_LIST);
    f->set = true;
    if (f->kind == ST_FLAG_BOOL) {
      if (eq) return st_err_set(err, ST_EINVAL, "flag --%s takes no value", f->name);
      continue;
    }
    if (eq) {
      f->value = eq + 1;
    } else {
      if (i + 1 >= argc)
        return st_err_set(err, ST_EINVAL, "flag --%s needs a value (%s)", f->name, f->metavar ? f->metavar : "VALUE");
      f->value = argv[++i];
    }
    if (f->kind == ST_FLAG_LIST) f->values[f->nvalues++] = f->value;
  }
  return ST_OK;
}

void st_cli_help(FILE *out, const char *usage, const char *summary, const st_cli *cli) {
  fprintf(out, "usage: %s\n\n%s\n", usage, summary);
  if (cli->nflags) fprintf(out, "\nflags:\n");
  for (size_t i = 0; i < cli->nflags; i++) {
    const st_flag *f = &cli->flags[i];
    char left[64];
    if (f->kind != ST_FLAG_BOOL) snprintf(left, sizeof left, "--%s %s", f->name, f->metavar ? f->metavar : "VALUE");
    else snprintf(left, sizeof left, "--%s", f->name);
    fprintf(out, "  %-28s %s\n", left, f->help);
  }
  fprintf(out, "  %-28s %s\n", "-h, --help", "show this help");
}

int st_cli_fail(const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  for (char *p = msg; *p; p++)
    if (*p == '\n') *p = ' '; /* one line, always */
  fprintf(stderr, "ERROR: %s\n", msg);
  return 1;
}

int st_cli_start(st_cli *cli, int argc, char **argv, int maxpos, const char *cmd, const char *args,
                 const char *summary) {
  st_err err;
  if (st_cli_parse(cli, argc, argv, maxpos, &err)) return st_cli_fail("%s (run '%s --help')", err.msg, cmd);
  if (cli->help) {
    char usage[512];
    snprintf(usage, sizeof usage, "%s %s", cmd, args);
    st_cli_help(stdout, usage, summary, cli);
    return 0;
  }
  return -1;
}

int st_cli_dispatch(const char *group, const st_cli_verb *verbs, size_t n, int argc, char **argv) {
  if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
    FILE *out = argc < 1 ? stderr : stdout;
    fprintf(out, "usage: %s <verb> [flags]\n\nverbs:\n", group);
    for (size_t i = 0; i < n; i++) fprintf(out, "  %-22s %s\n", verbs[i].name, verbs[i].summary);
    return argc < 1;
  }
  size_t len = strlen(argv[0]);
  for (size_t i = 0; i < n; i++) {
    if (!strcmp(verbs[i].name, argv[0])) return verbs[i].run(argc - 1, argv + 1);
    if (argc >= 2 && !strncmp(verbs[i].name, argv[0], len) && verbs[i].name[len] == ' ' &&
        !strcmp(verbs[i].name + len + 1, argv[1]))
      return verbs[i].run(argc - 2, argv + 2);
  }
  /* argv[0] may be a verb group such as "address" (the first word of two-word verbs). */
  bool two = false;
  for (size_t i = 0; i < n; i++) two |= !strncmp(verbs[i].name, argv[0], len) && verbs[i].name[len] == ' ';
  if (!two) return st_cli_fail("unknown verb \"%s\" for '%s' (run '%s --help')", argv[0], group, group);
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    /* The group's help: on stdout for --help (exit 0), on stderr when its verb is missing (exit 1). */
    FILE *out = argc < 2 ? stderr : stdout;
    fprintf(out, "usage: %s %s <verb> [flags]\n\nverbs:\n", group, argv[0]);
    for (size_t i = 0; i < n; i++)
      if (!strncmp(verbs[i].name, argv[0], len) && verbs[i].name[len] == ' ')
        fprintf(out, "  %-22s %s\n", verbs[i].name + len + 1, verbs[i].summary);
    return argc < 2;
  }
  return st_cli_fail("unknown verb \"%s %s\" for '%s' (run '%s %s --help')", argv[0], argv[1], group, group, argv[0]);
}

void st_size_str(double bytes, const char *unit, char *out, size_t n) {
  static const char *const U[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  size_t i = 0;
  while (bytes >= 1024 && i + 1 < sizeof U / sizeof U[0]) {
    bytes /= 1024;
    i++;
  }
  snprintf(out, n, "%.3g %s%s", bytes, U[i], unit);
}
