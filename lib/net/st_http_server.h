/* st_http_server: an HTTP/1.1 server (libmicrohttpd) that hands each whole request to one
 * handler and sends back what the handler fills in.
 *
 * The registry and the chain daemon put their routes on top of it. It reads the body (refusing
 * one larger than max_body with 413 before reading it), knows whether the peer is on loopback,
 * and runs each connection on its own thread (at most 16 x threads connections, and at least
 * 64), so a handler may block on its database or wait without stalling other clients.
 *
 * WebSocket: a handler may take a request over as a WebSocket session (st_http_response's
 * websocket). The server checks the client's Sec-WebSocket-Key and version 13, answers 101 with
 * the accept key (libmicrohttpd's upgrade API) and runs the session on a thread of its own with
 * an st_ws_conn on the socket (st_websocket.h). st_http_server_stop ends open sessions (shuts
 * their sockets down) and waits for their threads.
 *
 * Every out is initialised on return, success or not (st_err.h): a server that did not start
 * is NULL, an address that did not parse is all zero with length 0. */
#ifndef ST_HTTP_SERVER_H
#define ST_HTTP_SERVER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/st_buf.h"
#include "core/st_err.h"
#include "net/st_websocket.h"

typedef struct st_http_server st_http_server;

typedef struct st_http_request {
  const char *method; /* "GET", "POST", ... */
  const char *path;   /* without the query string, percent-decoded */
  const uint8_t *body;
  size_t body_len;
  bool loopback; /* the peer is 127.0.0.0/8 or ::1 */
  void *conn_;   /* the library's connection, for the lookups below */
} st_http_request;

/* A query-string argument or a request header (case-insensitive name); NULL if absent. */
const char *st_http_query(const st_http_request *r, const char *key);
const char *st_http_header(const st_http_request *r, const char *name);
/* The bearer token of an "Authorization: Bearer <token>" header, or NULL. */
const char *st_http_bearer(const st_http_request *r);

typedef struct st_http_response {
  int status;               /* 200 unless the handler says otherwise */
  const char *content_type; /* "application/json" unless the handler says otherwise */
  st_buf body;
  const char *www_authenticate; /* sent with a 401 */
  /* Set by a handler to turn the request into a WebSocket session: websocket runs on its own
   * thread with the connection and returns when the session is over (the server then closes the
   * socket). It is called exactly once, with ws NULL if the upgrade could not be made (a bad
   * Sec-WebSocket-Key, the server stopping), so that it can free websocket_ctx. status and body
   * are then ignored. */
  void (*websocket)(void *websocket_ctx, st_ws_conn *ws);
  void *websocket_ctx;
  size_t websocket_max_message; /* 0: ST_WS_MAX_MESSAGE_DEFAULT */
} st_http_response;

/* Fill the response: a JSON value (stolen) or {"error":"<message>"}. */
void st_http_reply_json(st_http_response *resp, int status, json_t *v);
void st_http_reply_error(st_http_response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The HTTP status for an st_code: 400, 404, 409, 401, 503 or 500. */
int st_http_status_for(st_code code);

typedef void (*st_http_handler)(void *ctx, const st_http_request *req, st_http_response *resp);

typedef struct st_http_server_opts {
  const char *listen; /* "127.0.0.1:3456", "[::1]:3456", "0.0.0.0:3456"; port 0 picks a free one */
  size_t max_body;    /* bytes; 0 means 1 MiB */
  unsigned threads;   /* sizes the connection limit (16 per thread, at least 64); 0 means 4 */
} st_http_server_opts;

/* Binds and starts serving; errors name the address (e.g. "address already in use"). */
st_code st_http_server_start(const st_http_server_opts *opts, st_http_handler handler, void *ctx, st_http_server **out,
                             st_err *err);
/* The port actually bound. */
uint16_t st_http_server_port(const st_http_server *srv);
/* Stops accepting, finishes the requests in flight and frees the server. */
void st_http_server_stop(st_http_server *srv);

/* Parses "HOST:PORT" / "[V6]:PORT" into a socket address; errors name the text. */
struct sockaddr_storage;
st_code st_http_parse_listen(const char *listen, struct sockaddr_storage *sa, unsigned *salen, st_err *err);

#endif
