/* st_err: error codes and one-line messages that reach the user. */
#include "core/st_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

st_code st_err_set(st_err *err, st_code code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
  }
  return code;
}

st_code st_err_wrap(st_err *err, st_code code, const char *fmt, ...) {
  if (!err) return code;
  char prefix[ST_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  char old[ST_ERR_MSG_MAX];
  memcpy(old, err->msg, sizeof old);
  /* prefix + ": " + old, truncated to the message size */
  size_t n = 0;
  const char *parts[3] = {prefix, ": ", old};
  for (int i = 0; i < 3; i++) {
    size_t len = strlen(parts[i]);
    if (len > sizeof err->msg - 1 - n) len = sizeof err->msg - 1 - n;
    memcpy(err->msg + n, parts[i], len);
    n += len;
  }
  err->msg[n] = '\0';
  err->code = code;
  return code;
}

void st_err_clear(st_err *err) {
  if (err) {
    err->code = ST_OK;
    err->msg[0] = '\0';
  }
}

const char *st_code_str(st_code code) {
  switch (code) {
    case ST_OK: return "ok";
    case ST_EINVAL: return "invalid input";
    case ST_ENOMEM: return "out of memory";
    case ST_EIO: return "i/o error";
    case ST_ENOENT: return "not found";
    case ST_EEXIST: return "already exists";
    case ST_EPERM: return "permission problem";
    case ST_ECRYPTO: return "cryptographic check failed";
    case ST_ERANGE: return "out of range";
    case ST_EINTERNAL: return "internal error";
    case ST_ECONFLICT: return "conflict";
    case ST_EUNAVAIL: return "unavailable";
  }
  return "unknown error";
}
