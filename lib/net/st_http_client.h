/* st_http_client: blocking HTTP requests to one base URL (libcurl), for the programs' clients.
 *
 * A client keeps its connection alive between calls and is used by one thread at a time. */
#ifndef ST_HTTP_CLIENT_H
#define ST_HTTP_CLIENT_H

#include <stddef.h>

#include "core/st_buf.h"
#include "core/st_err.h"

typedef struct st_http_client st_http_client;

/* base_url like "http://127.0.0.1:3456"; token (may be NULL) is sent as a bearer token. *out is
 * NULL on failure. */
st_code st_http_client_new(const char *base_url, const char *token, st_http_client **out, st_err *err);
void st_http_client_free(st_http_client *c);
const char *st_http_client_base(const st_http_client *c);

/* Sends method path (with any query) and body (NULL for none; sent as JSON). *status gets the
 * HTTP status and resp the body (appended), whatever the status; only a failure to talk to the
 * server at all is an error (ST_EUNAVAIL, naming the URL): *status is then 0, and resp may hold
 * part of a reply. */
st_code st_http_call(st_http_client *c, const char *method, const char *path, const char *body, size_t body_len,
                     long *status, st_buf *resp, st_err *err);

#endif
