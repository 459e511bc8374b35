/* st_err: how the library reports failure.
 *
 * Every fallible function returns an st_code (ST_OK is 0) and, when given a non-NULL st_err,
 * fills it with one line that says what is wrong and where. Callers add context with
 * st_err_wrap; programs print err.msg and exit non-zero. */
#ifndef ST_ERR_H
#define ST_ERR_H

#include <stddef.h>

typedef enum st_code {
  ST_OK = 0,
  ST_EINVAL,   /* malformed or unacceptable input */
  ST_ENOMEM,   /* allocation failed */
  ST_EIO,      /* file or device error */
  ST_ENOENT,   /* a named thing does not exist */
  ST_EEXIST,   /* a named thing exists already */
  ST_EPERM,    /* permissions are wrong */
  ST_ECRYPTO,  /* a signature, proof or key did not check out */
  ST_ERANGE,   /* a value is outside what the type can hold */
  ST_EINTERNAL, /* a library we call failed in a way we did not expect */
  ST_ECONFLICT, /* the request conflicts with the current state (a stale version, a node in use) */
  ST_EUNAVAIL   /* a service we need cannot be reached or is not ready */
} st_code;

#define ST_ERR_MSG_MAX 512

typedef struct st_err {
  st_code code;
  char msg[ST_ERR_MSG_MAX];
} st_err;

/* Records code and a printf-style message in err (if err is non-NULL). Returns code. */
st_code st_err_set(st_err *err, st_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes err's message (if err is non-NULL) with context: "<context>: <old message>".
 * Returns code, so `return st_err_wrap(err, rc, "...")` is right with or without an err. */
st_code st_err_wrap(st_err *err, st_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Resets err to ST_OK with an empty message. */
void st_err_clear(st_err *err);

/* A short name for a code, e.g. "invalid input". */
const char *st_code_str(st_code code);

#endif
