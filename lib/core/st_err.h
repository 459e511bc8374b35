/* st_err: how the library reports failure.
 *
 * Every fallible function returns an st_code (ST_OK is 0) and, when given a non-NULL st_err,
 * fills it with one line that says what is wrong and where. Callers add context with
 * st_err_wrap; programs print err.msg and exit non-zero.
 *
 * The rule for outputs: every out-parameter is initialised when the function returns, whether
 * it succeeds or fails, so a caller frees or reads it without asking which.
 *  - A struct that owns memory (one with _init and _free) is initialised by the function: it
 *    holds the result or, on failure, is empty as its _init leaves it, and the caller frees it
 *    either way. Pass it uninitialised or empty (one already holding memory would leak).
 *  - An st_buf that a function appends to is the caller's, initialised before the call; on
 *    failure it may hold part of what was appended (the function's comment says when not).
 *  - A pointer the function allocates is NULL on failure, and a counted array is NULL with a
 *    count of 0.
 *  - Anything else (a number, a fixed-size buffer, a struct that owns nothing) is zeroed on
 *    failure, unless the function's comment says what it holds then.
 * A function whose out may alias an input says so; it still leaves the out initialised.
 * Code that decides consensus (the chain's state transitions) passes every st_code up: an
 * ignored failure, even ST_ENOMEM, would give another state root. */
#ifndef ST_ERR_H
#define ST_ERR_H

#include <stddef.h>

typedef enum st_code {
  ST_OK = 0,
  ST_EINVAL,    /* malformed or unacceptable input */
  ST_ENOMEM,    /* allocation failed */
  ST_EIO,       /* file or device error */
  ST_ENOENT,    /* a named thing does not exist */
  ST_EEXIST,    /* a named thing exists already */
  ST_EPERM,     /* permissions are wrong */
  ST_ECRYPTO,   /* a signature, proof or key did not check out */
  ST_ERANGE,    /* a value is outside what the type can hold */
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
st_code st_err_set(st_err *err, st_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefixes err's message (if err is non-NULL) with context: "<context>: <old message>".
 * Returns code, so `return st_err_wrap(err, rc, "...")` is right with or without an err. */
st_code st_err_wrap(st_err *err, st_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Resets err to ST_OK with an empty message. */
void st_err_clear(st_err *err);

/* A short name for a code, e.g. "invalid input". */
const char *st_code_str(st_code code);

#endif
