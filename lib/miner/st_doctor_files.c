/* st_doctor_files: scanning the poster's log from its end, and finding a missing file under the
 * storage nodes' folders of a dist-path. */
#include "miner/st_doctor_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

bool st_doctor_log_time(const char *line, int64_t *out) {
  *out = 0;
  int y, mo, d, h, mi, s, ms, oh, om, used = 0;
  char sign;
  if (sscanf(line, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c%2d%2d%n", &y, &mo, &d, &h, &mi, &s, &ms, &sign, &oh, &om, &used) !=
          10 ||
      used != 28 || (sign != '+' && sign != '-'))
    return false;
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s};
  int64_t off = (int64_t)(oh * 3600 + om * 60);
  *out = (int64_t)timegm(&tm) - (sign == '+' ? off : -off);
  return true;
}

static void add_path(st_doctor_log *o, const char *line) {
  const char *p = strstr(line, "could not read from path=\"");
  if (!p) return;
  p += strlen("could not read from path=\"");
  const char *q = strchr(p, '"');
  if (!q || (size_t)(q - p) >= ST_PATH_MAX) return;
  for (size_t i = 0; i < o->npaths; i++)
    if (strlen(o->paths[i]) == (size_t)(q - p) && !strncmp(o->paths[i], p, (size_t)(q - p))) return;
  if (o->npaths < ST_DOCTOR_PATHS) snprintf(o->paths[o->npaths++], ST_PATH_MAX, "%.*s", (int)(q - p), p);
}

st_code st_doctor_scan_log(const char *path, const char *start, int64_t since, size_t max_bytes, st_doctor_log *out,
                           st_err *err) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "r");
  if (!f)
    return st_err_set(err, errno == ENOENT ? ST_ENOENT : ST_EIO, "could not read the log path=\"%s\": %s", path,
                      strerror(errno));
  struct stat st;
  if (!fstat(fileno(f), &st) && (uint64_t)st.st_size > max_bytes) {
    out->partial = true;
    fseeko(f, st.st_size - (off_t)max_bytes, SEEK_SET);
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  bool first = out->partial, counting = false; /* counting: continuation lines of a counted ERROR */
  while ((n = getline(&line, &cap, f)) > 0) {
    if (first) { /* the rest of a line cut by the seek */
      first = false;
      continue;
    }
    if (line[n - 1] == '\n') line[--n] = 0;
    int64_t t;
    bool stamped = st_doctor_log_time(line, &t);
    if (!stamped) {
      size_t have = strlen(out->last);
      if (counting && have + 1 < sizeof out->last) snprintf(out->last + have, sizeof out->last - have, "\n%s", line);
      continue;
    }
    counting = false;
    if (start && strstr(line, start)) { /* a new run: what came before is older */
      size_t older = out->older + out->errors;
      bool partial = out->partial;
      memset(out, 0, sizeof *out);
      out->older = older;
      out->partial = partial;
      continue;
    }
    const char *tab = strchr(line, '\t');
    if (!tab || strncmp(tab + 1, "ERROR\t", 6)) continue;
    if (t < since) {
      out->older++;
      continue;
    }
    counting = true;
    if (!out->errors++) snprintf(out->first_at, sizeof out->first_at, "%.*s", (int)(tab - line), line);
    snprintf(out->last_at, sizeof out->last_at, "%.*s", (int)(tab - line), line);
    snprintf(out->last, sizeof out->last, "%s", line);
    add_path(out, line);
  }
  free(line);
  bool bad = ferror(f);
  fclose(f);
  if (!bad) return ST_OK;
  memset(out, 0, sizeof *out);
  return st_err_set(err, ST_EIO, "could not read the log path=\"%s\"", path);
}

bool st_doctor_find_under(const char *dist, const char *missing, char *found, size_t n) {
  if (n) found[0] = 0;
  size_t dl = strlen(dist);
  while (dl > 1 && dist[dl - 1] == '/') dl--;
  if (strncmp(missing, dist, dl) || missing[dl] != '/') return false;
  const char *rest = missing + dl + 1;
  DIR *types = opendir(dist);
  if (!types) return false;
  bool ok = false;
  struct dirent *t, *h;
  while (!ok && (t = readdir(types))) {
    if (t->d_name[0] == '.') continue;
    char tdir[ST_PATH_MAX];
    if (snprintf(tdir, sizeof tdir, "%.*s/%s", (int)dl, dist, t->d_name) >= (int)sizeof tdir) continue;
    DIR *hosts = opendir(tdir);
    while (hosts && !ok && (h = readdir(hosts))) {
      if (h->d_name[0] == '.') continue;
      struct stat st;
      if (snprintf(found, n, "%s/%s/%s", tdir, h->d_name, rest) < (int)n && !stat(found, &st)) ok = true;
    }
    if (hosts) closedir(hosts);
  }
  closedir(types);
  if (!ok && n) found[0] = 0;
  return ok;
}
