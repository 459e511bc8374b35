/* st_http_server: an HTTP/1.1 server (libmicrohttpd) that hands each whole request to one
 * handler and sends back what the handler fills in.
 *
 * The registry, the chain daemon and the miner API put their routes on top of it. It is built
 * to stay up for everyone while some clients are idle, slow or hostile:
 *
 * - Connections cost a socket and a little memory, not a thread. libmicrohttpd's epoll loop
 *   reads and writes them all, on `threads` I/O threads that also run the handlers: a slow
 *   handler holds up only the connections of its thread, and one that waits for an event parks
 *   its request instead (below). A server whose handlers may block for long (reading sector files
 *   over a network file system) sets handlers_block: two I/O threads then only move bytes, and a
 *   complete request's connection is suspended while one of `threads` workers runs its handler,
 *   so one slow call holds up no other connection. Measured (bench/RESULTS.md): on the I/O
 *   threads a ChainHead costs 0.4x what it costs through a worker. Up to max_connections (4096)
 *   connections, fewer if the descriptor limit is lower; the soft descriptor limit is raised to
 *   the hard one. A client address other than loopback holds at most per_address (256) of them.
 * - Progress, not silence, is timed: a connection must deliver a request's headers within
 *   header_timeout_s (30) of being ready for one (accepted, or its last reply sent), the body
 *   within body_timeout_s (120) after the headers, and take its reply within send_timeout_s
 *   (120); otherwise it is closed. A client sending a byte a second is closed like an idle one.
 * - Bodies are bounded before they are read. admit (when set) looks at the headers: a request
 *   it does not admit (no valid token) may send at most max_body_unauth bytes (64 KiB), others
 *   max_body (1 MiB). A larger Content-Length is refused with 413 before any of the body is
 *   read; a chunked body that runs past the limit is refused and the connection closed. A
 *   server whose protocol is open (the miner's deals carry a piece without a token) may let
 *   large_unauth requests at once announce up to max_body without one; the next gets 503.
 * - Answers may come later: a handler may park its request (st_http_answer_later) and reply
 *   from any thread. A parked request holds no thread; the server watches its socket and tells
 *   the owner when the client hangs up (st_http_later_gone), so the owner can free what it holds.
 *
 * WebSocket: a handler may take a request over as a WebSocket session (st_http_response's
 * websocket). The server checks the client's Sec-WebSocket-Key and version 13, answers 101 with
 * the accept key (libmicrohttpd's upgrade API) and runs the session on a thread of its own with
 * an st_ws_conn on the socket (st_websocket.h); at most max_sessions (256) at once, then 503.
 * st_http_server_stop ends open sessions (shuts their sockets down) and waits for their threads.
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
  bool loopback;  /* the peer is 127.0.0.0/8 or ::1 */
  char peer[48];  /* the peer's address as text ("127.0.0.1", "::1") */
  void *conn_;    /* the library's connection, for the lookups below */
  void *pending_; /* the server's request, for st_http_answer_later */
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

/* Looks at a request whose headers are in (body NULL) and says whether it may send a body of up
 * to max_body; false limits it to max_body_unauth. Runs on the I/O threads: it must not block. */
typedef bool (*st_http_admit_fn)(void *ctx, const st_http_request *req);

typedef struct st_http_server_opts {
  const char *listen;       /* "127.0.0.1:3456", "[::1]:3456", "0.0.0.0:3456"; port 0 picks one */
  size_t max_body;          /* bytes; 0 means 1 MiB */
  size_t max_body_unauth;   /* bytes, for requests admit refuses; 0 means 64 KiB (capped at max_body) */
  st_http_admit_fn admit;   /* NULL: every request may send max_body */
  unsigned large_unauth;    /* requests admit refuses that may announce up to max_body at once */
  unsigned threads;         /* I/O threads running handlers, or workers with handlers_block; 0: 4 */
  bool handlers_block;      /* handlers may block for long: run them on workers */
  unsigned max_connections; /* 0 means 4096 (lowered to fit the descriptor limit) */
  unsigned per_address;     /* connections from one non-loopback address; 0 means 256 */
  unsigned max_sessions;    /* WebSocket sessions at once; 0 means 256 */
  unsigned header_timeout_s, body_timeout_s, send_timeout_s; /* 0 means 30, 120, 120 */
} st_http_server_opts;

/* Parking a request. Called by a handler (on its worker thread) that will answer later: the
 * request's connection waits, holding no thread, until st_http_later_reply. Returns NULL if the
 * server is stopping or out of memory (answer through resp now). Once it returns a handle, resp
 * is ignored and the owner must call st_http_later_reply exactly once, from any thread.
 * st_http_later_gone turns true (it never turns back) once the client has hung up or the server
 * is stopping; the owner should then reply (with anything) soon: the server checks each parked
 * socket every 100 ms, and st_http_server_stop waits for every reply. */
typedef struct st_http_later st_http_later;
st_http_later *st_http_answer_later(const st_http_request *req);
bool st_http_later_gone(st_http_later *l);
/* Sends the parked request's reply (body copied; content_type NULL: application/json) and
 * frees the handle. */
void st_http_later_reply(st_http_later *l, int status, const char *content_type, const void *body, size_t len);

/* What the server holds now, for /metrics and the tests. */
typedef struct st_http_server_stats {
  size_t connections; /* open connections, all phases */
  size_t parked;      /* requests waiting on st_http_later_reply */
  size_t sessions;    /* WebSocket sessions */
  uint64_t timed_out; /* connections closed by the header, body or send timeout */
  uint64_t refused;   /* requests refused at their headers (413) or past a body limit */
} st_http_server_stats;
void st_http_server_stats_get(st_http_server *srv, st_http_server_stats *out);
/* The stats in Prometheus's text format, appended to out, each name prefixed with prefix and
 * "_http_" (spacetime_daemon_http_connections, ...). Nothing for a NULL server. */
void st_http_server_metrics(st_http_server *srv, const char *prefix, st_buf *out);

/* Binds and starts serving; errors name the address (e.g. "address already in use"). */
st_code st_http_server_start(const st_http_server_opts *opts, st_http_handler handler, void *ctx, st_http_server **out,
                             st_err *err);
/* The port actually bound. */
uint16_t st_http_server_port(const st_http_server *srv);
/* Stops accepting; calls gone for every parked request and waits for its reply; finishes the
 * requests in flight, ends the WebSocket sessions and frees the server. */
void st_http_server_stop(st_http_server *srv);

/* Parses "HOST:PORT" / "[V6]:PORT" into a socket address; errors name the text. */
struct sockaddr_storage;
st_code st_http_parse_listen(const char *listen, struct sockaddr_storage *sa, unsigned *salen, st_err *err);

#endif
