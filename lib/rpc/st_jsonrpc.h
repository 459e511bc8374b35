/* st_jsonrpc: the daemon's JSON-RPC 2.0 API, served the way Lotus serves it (docs/lotus-api.md),
 * so that Lotus's HTTP and WebSocket clients work against it.
 *
 * An st_rpc holds a method table and turns one request body into one response body
 * (st_rpc_handle_body: no network, also what the fuzz target drives). st_rpc_http_handler puts
 * it behind st_http_server at POST /rpc/v0 and /rpc/v1 (and WebSocket on the same paths), with
 * Lotus's JWT auth (st_jwt); other paths go to a fallback handler (GET /health, the explorer).
 *
 * Requests. A body is one request object or a batch (a non-empty array of them). "params" is a
 * positional array; omitted or null means none. "id" is a string, a number or null and comes back
 * as given (numbers re-written in shortest form); a request without "id" is a notification: it
 * runs and gets no response (a batch of notifications gets an empty body). "jsonrpc" may be
 * omitted (as Lotus allows) but, when present, must be "2.0". Other members ("meta") are ignored.
 * A single response is followed by "\n"; a batch's responses are one array, in request order.
 *
 * Errors. Code, message, HTTP status (the status of a single request; a batch answers 200):
 *   -32700 Parse error: <where>       500  malformed JSON, or a body over max_body when called
 *                                          directly (over HTTP, st_http_server answers 413 first)
 *   -32600 Invalid request: <why>     400  empty body, empty batch, not an object, bad id type,
 *                                          method not a string, "jsonrpc" not "2.0"
 *   -32601 method 'X' not found       500  also for a method of the other API version; a channel
 *                                          method (fn NULL) called over HTTP reads "method 'X' not
 *                                          supported in this mode (no out channel support)", as in
 *                                          Lotus
 *   -32602 wrong param count (expected 1, got 2)
 *                                     500  checked against min_params..max_params before the call
 *   -32602 <parse's message>          500  the method's parse failed (bad params): it names the
 *                                          param, "param 1 (address): ..."
 *   1      <run's message>            200  the method's run failed (ST_ENOENT, ST_ECONFLICT, even
 *                                          ST_EINVAL: whatever the code), as Lotus returns a Go
 *                                          error; a run may choose another code through q->code
 *                                          (Lotus's 11 = actor not found)
 *   1      missing permission to invoke 'MpoolPush' (need 'write')
 *                                     401  see below
 *
 * Auth. The token comes from "Authorization: Bearer <jwt>" or, without that header, the "token"
 * query argument (both as in Lotus). No token means the permission set {read}. An Authorization
 * header that is not Bearer, or a token that fails st_jwt_verify, gets HTTP 401 with a JSON-RPC
 * error (code 1, id null, "JWT Verification failed: <why>"); Lotus sends 401 with an empty body.
 * A method is allowed when the caller's set holds its permission (exact membership, no hierarchy).
 *
 * Departures from Lotus, and why:
 * - Missing permission answers HTTP 401 (Lotus: 200) with Lotus's code 1 and message, so a write
 *   without a token gives 401 as this project's issue requires; a batch with any refused request
 *   answers 401, with every response in the body. The permission is checked before the param
 *   count (Lotus: count first), so an unauthorised caller learns nothing about a method's params.
 * - A param that does not decode is -32602 from the parse (Lotus: -32700 "unmarshaling params");
 *   params that are not an array are -32602 (Lotus: -32700); the count message names the allowed
 *   range instead of Lotus's "GOT != WANT". These follow JSON-RPC 2.0; clients see the message.
 * - "id": null gets a response with id null (JSON-RPC 2.0); Lotus treats it as a notification.
 *   A bad id type is -32600 (Lotus: -32700 "failed to parse ID").
 * - Only POST (and a GET upgrading to WebSocket) is served at /rpc/vN (405 otherwise); Lotus does
 *   not look at the HTTP method.
 * - Integers outside int64 anywhere in a body are a parse error (jansson's limit).
 * - Limits Lotus does not have (docs/lotus-api.md 1.2), tighter without a valid token: the body
 *   (64 MiB; 64 KiB), checked at the headers before it is read (st_http_server's admit); a batch
 *   of at most ST_RPC_MAX_BATCH calls (1,000; 100), -32600 beyond; a reply of at most
 *   ST_RPC_MAX_REPLY (64 MiB; 8 MiB): a batch's calls after the reply passed it are not run and
 *   answer code 1 "not run: ...", a single reply over it is replaced by a code 1 error; and
 *   ST_RPC_MAX_WS_UNAUTH WebSocket sessions without a token (503 beyond).
 * - Calls that wait (a method with wait_s, StateWaitMsg): the run answers not_yet; over HTTP
 *   the call is parked on its connection (st_rpc_park.h: no thread, retried on st_rpc_wake,
 *   waits_per_client per peer address, freed when the client hangs up, given up after wait_s);
 *   over WebSocket the session waits on its own thread; in a batch or through
 *   st_rpc_handle_body it is refused with code 1, as it cannot be answered later there.
 *
 * WebSocket. A GET to /rpc/v0 or /rpc/v1 whose Connection header holds "upgrade" and whose Upgrade
 * header holds "websocket" becomes a WebSocket session (st_websocket.h). The token is taken at
 * upgrade time as for POST (a bad token is refused with HTTP 401 before the upgrade). Each text
 * message is one body, handled exactly as st_rpc_handle_body handles a POSTed one, and its
 * response (if any) comes back as one text frame with the same text; a missing permission is
 * just the error response in that frame (there is no HTTP status to set). A session handles its
 * messages one at a time, in order (Lotus runs them concurrently).
 * Channel methods (st_rpc_method.subscribe, e.g. ChainNotify) work only over WebSocket, as in
 * Lotus (go-jsonrpc websocket.go): the call's result is a channel id (a per-connection counter
 * from 1), and each value the method sends later arrives as the notification
 * {"jsonrpc":"2.0","method":"xrpc.ch.val","params":[chanId,value]}. Values sent before the call's
 * response went out wait for it. {"method":"xrpc.cancel","params":[<the call's request id>]}
 * closes the channel, and the server then sends {"jsonrpc":"2.0","method":"xrpc.ch.close",
 * "params":[chanId]}. When the connection ends, all its channels close.
 *
 * Threads: methods run on the HTTP server's threads, concurrently; the table and the st_rpc
 * are read-only once made. */
#ifndef ST_JSONRPC_H
#define ST_JSONRPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/st_buf.h"
#include "core/st_err.h"
#include "net/st_http_server.h"
#include "rpc/st_jwt.h"

/* API versions, as bits for st_rpc_method.versions. */
#define ST_RPC_V0 1u
#define ST_RPC_V1 2u

#define ST_RPC_PARSE_ERROR (-32700)
#define ST_RPC_INVALID_REQUEST (-32600)
#define ST_RPC_METHOD_NOT_FOUND (-32601)
#define ST_RPC_INVALID_PARAMS (-32602)
#define ST_RPC_ERROR 1 /* an error the method returned (Lotus's code for a plain Go error) */

#define ST_RPC_MAX_BODY_DEFAULT ((size_t)64 << 20)
/* Limits for callers with a valid token, and the tighter ones for callers without. */
#define ST_RPC_MAX_BATCH 1000
#define ST_RPC_MAX_BATCH_UNAUTH 100
#define ST_RPC_MAX_REPLY ((size_t)64 << 20)
#define ST_RPC_MAX_REPLY_UNAUTH ((size_t)8 << 20)
#define ST_RPC_MAX_BODY_UNAUTH ((size_t)64 << 10)
#define ST_RPC_MAX_WS_UNAUTH 128u /* WebSocket sessions without a token (the server holds 256) */

/* One call, as its method's run sees it. */
typedef struct st_rpc_req {
  void *ctx;          /* st_rpc_opts.ctx */
  const char *method; /* "Filecoin.ChainHead" */
  int version;        /* 0 or 1: the path /rpc/v0 or /rpc/v1 */
  unsigned perms;     /* the caller's ST_PERM_* bits */
  void *args;         /* what the method's parse filled; NULL when it has no args */
  const void *data;   /* the method's st_rpc_method.data */
  json_t *result;     /* the run's result, taken by the framework on success (NULL: null) */
  int code;           /* a run that fails may set the JSON-RPC code to send (0 keeps 1) */
  bool not_yet;       /* set by the run of a method with wait_s: not done, run me again later */
} st_rpc_req;

/* A method runs in two phases, and the framework, not the method, turns a failure into its
 * JSON-RPC code by the phase it happened in:
 *  - parse reads the positional params (borrowed; [] when omitted) into args, args_size bytes
 *    that the framework zeroes first. It checks only what the request itself says, and touches
 *    no state. Any failure is -32602 Invalid params with err's message, which names the param:
 *    "param 1 (address): ...". parse leaves args freeable by free_args whatever it returns.
 *  - run does the work with q->args (its own to change; freed after the call) and sets
 *    q->result. Any failure is a method error: code 1, as Lotus returns a Go error, or q->code
 *    when the run sets it (Lotus's 11 for an actor not found); a q->result left set is freed. */
typedef st_code (*st_rpc_parse_fn)(const json_t *params, void *args, st_err *err);
typedef st_code (*st_rpc_run_fn)(st_rpc_req *q, st_err *err);

/* Param readers for parse functions: param i of params (0-based), named in errors by its place
 * and what it is, "param 2 (epoch): must be an integer". *out is zeroed (NULL, false) when the
 * param is bad; text is borrowed from params, which outlive the call. */
st_code st_rpc_param_text(const json_t *params, size_t i, const char *what, const char **out, st_err *err);
st_code st_rpc_param_i64(const json_t *params, size_t i, const char *what, int64_t *out, st_err *err);
/* A non-negative integer. */
st_code st_rpc_param_u64(const json_t *params, size_t i, const char *what, uint64_t *out, st_err *err);
/* true or false; absent (past the end) is false. */
st_code st_rpc_param_bool(const json_t *params, size_t i, const char *what, bool *out, st_err *err);
/* base64 bytes appended to out (initialised by the caller); null or absent is none when
 * nullable. */
st_code st_rpc_param_bytes(const json_t *params, size_t i, const char *what, bool nullable, st_buf *out, st_err *err);

/* A channel of a channel method's call over WebSocket. */
typedef struct st_rpc_chan st_rpc_chan;

/* A channel method's run: on success it may send values on ch at once or later, from any
 * thread. To keep ch beyond the call it takes a reference (st_rpc_chan_hold), released when
 * done. On failure err's message is the call's error response (code 1) and ch is dropped. */
typedef st_code (*st_rpc_sub_fn)(st_rpc_req *q, st_rpc_chan *ch, st_err *err);

typedef struct st_rpc_method {
  const char *name;  /* "Filecoin.ChainHead"; case-sensitive */
  unsigned perm;     /* the one permission needed: ST_PERM_READ, _WRITE, _SIGN or _ADMIN */
  unsigned versions; /* ST_RPC_V0 | ST_RPC_V1; 0 means both. A name may appear once per version */
  unsigned min_params, max_params;
  st_rpc_parse_fn parse;         /* NULL: nothing to read */
  size_t args_size;              /* the bytes parse fills (0: args is NULL); needs a parse */
  void (*free_args)(void *args); /* NULL: the args own nothing */
  st_rpc_run_fn run;             /* NULL: a channel method (ChainNotify), refused over HTTP */
  st_rpc_sub_fn subscribe;       /* with run NULL: the channel method's run (WebSocket only) */
  const void *data;              /* for run, as q->data: lets methods share one run */
  unsigned wait_s;               /* a run that may answer not_yet, and for at most how long */
} st_rpc_method;

/* Table entries, name_ being the name after "Filecoin.": one whose run reads args of type args_t
 * (parse_ fills them; free_fn frees them, or NULL), the same for one API version only (ver:
 * ST_RPC_V0 or ST_RPC_V1), and one with no params to read. */
#define ST_RPC_METHOD(name_, perm_, min, max, parse_, args_t, free_fn, run_)                         \
  {                                                                                                  \
    .name = "Filecoin." name_, .perm = perm_, .min_params = min, .max_params = max, .parse = parse_, \
    .args_size = sizeof(args_t), .free_args = free_fn, .run = run_                                   \
  }
#define ST_RPC_METHOD_V(name_, ver, perm_, min, max, parse_, args_t, free_fn, run_)                                   \
  {                                                                                                                   \
    .name = "Filecoin." name_, .perm = perm_, .versions = ver, .min_params = min, .max_params = max, .parse = parse_, \
    .args_size = sizeof(args_t), .free_args = free_fn, .run = run_                                                    \
  }
/* A method for one version whose run may answer not_yet, waiting at most wait_ seconds. */
#define ST_RPC_METHOD_WAIT(name_, ver, perm_, min, max, parse_, args_t, run_, wait_)                                  \
  {                                                                                                                   \
    .name = "Filecoin." name_, .perm = perm_, .versions = ver, .min_params = min, .max_params = max, .parse = parse_, \
    .args_size = sizeof(args_t), .run = run_, .wait_s = wait_                                                         \
  }
#define ST_RPC_NOARGS(name_, perm_, run_) \
  { .name = "Filecoin." name_, .perm = perm_, .run = run_ }

/* Sends one value (stolen) on the channel as an xrpc.ch.val notification. false once the
 * channel is closed (cancelled, its connection ended) or the write failed. */
bool st_rpc_chan_send(st_rpc_chan *ch, json_t *value);
/* Whether the channel is closed (nothing more will be sent). */
bool st_rpc_chan_closed(st_rpc_chan *ch);
/* Closes the channel from the server's side (xrpc.ch.close is sent). */
void st_rpc_chan_close(st_rpc_chan *ch);
/* Called once when the channel closes, on the thread that closes it, with no lock of the
 * channel held; set it in the subscribe call. */
void st_rpc_chan_on_close(st_rpc_chan *ch, void (*fn)(void *ctx, st_rpc_chan *ch), void *ctx);
/* References: the subscriber's own, taken with hold and given back with release. */
st_rpc_chan *st_rpc_chan_hold(st_rpc_chan *ch);
void st_rpc_chan_release(st_rpc_chan *ch);

typedef struct st_rpc_opts {
  const st_rpc_method *methods; /* borrowed: must outlive the st_rpc */
  size_t nmethods;
  void *ctx;                 /* given to every run */
  const uint8_t *jwt_secret; /* ST_JWT_SECRET_LEN bytes, copied */
  size_t max_body;           /* bytes; 0 means ST_RPC_MAX_BODY_DEFAULT */
  st_http_handler fallback;  /* every path but /rpc/v0 and /rpc/v1; NULL: 404 */
  void *fallback_ctx;
  unsigned waits_per_client; /* calls parked at once from one peer address; 0 means 64 */
  bool methods_block;        /* methods may block for long (sector files): st_http_server's handlers_block */
  unsigned large_unauth;     /* bodies over 64 KiB without a token read at once (st_http_server) */
} st_rpc_opts;

typedef struct st_rpc st_rpc;

/* Checks the table (names set and unique per version, one permission bit each, min <= max, a
 * run or a subscribe, args_size with parse and only with it) and copies the secret. Errors name
 * the bad entry. *out is NULL on failure. */
st_code st_rpc_new(const st_rpc_opts *opts, st_rpc **out, st_err *err);
/* Wipes the secret and frees. Stop the HTTP server first. */
void st_rpc_free(st_rpc *rpc);

/* Handles one body for API version (0 or 1) and a caller holding perms, with the limits of a
 * caller with a token: appends the response text (possibly nothing) to out and returns the HTTP
 * status (200, 400, 401 or 500). */
int st_rpc_handle_body(const st_rpc *rpc, int version, unsigned perms, const uint8_t *body, size_t len, st_buf *out);

/* Runs the parked calls again: call it when what they wait for may have happened (a new head). */
void st_rpc_wake(st_rpc *rpc);

/* The st_http_handler (ctx is the st_rpc): routes, method check, auth, then st_rpc_handle_body. */
void st_rpc_http_handler(void *ctx, const st_http_request *req, st_http_response *resp);

/* Starts an st_http_server on listen ("127.0.0.1:1234"; port 0 picks one) with max_body and
 * threads (0: 4) serving rpc. Stop it with st_http_server_stop before st_rpc_free. */
st_code st_rpc_serve(st_rpc *rpc, const char *listen, unsigned threads, st_http_server **out, st_err *err);

#endif
