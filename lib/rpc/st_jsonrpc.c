/* st_jsonrpc: request parsing, dispatch, error mapping and auth for the JSON-RPC API. */
#include "rpc/st_jsonrpc.h"

#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/st_clock.h"
#include "core/st_encoding.h"
#include "core/st_json.h"
#include "core/st_log.h"
#include "crypto/st_secp.h"
#include "rpc/st_rpc_park.h"

struct st_rpc {
  const st_rpc_method *methods;
  size_t nmethods;
  void *ctx;
  uint8_t secret[ST_JWT_SECRET_LEN];
  size_t max_body;
  st_http_handler fallback;
  void *fallback_ctx;
  st_rpc_park *park;          /* calls that wait (wait_s), parked on their connections */
  atomic_uint ws_open_unauth; /* WebSocket sessions opened without a token */
  bool methods_block;
  unsigned large_unauth;
};

/* A WebSocket connection's JSON-RPC state (NULL over HTTP). */
typedef struct ws_session {
  st_rpc *rpc;
  int version;
  unsigned perms;
  bool token; /* a valid token came with the upgrade */
  st_ws_conn *ws;
  pthread_mutex_t mu; /* chans, next_chan */
  st_rpc_chan *chans;
  uint64_t next_chan;
} ws_session;

struct st_rpc_chan {
  atomic_int refs;
  pthread_mutex_t mu; /* everything below */
  ws_session *sess;   /* NULL once closed */
  uint64_t id;
  json_t *req_id;  /* the call's id (for xrpc.cancel) */
  bool active;     /* the call's response went out: values go straight to the socket */
  json_t *pending; /* values sent before that, in order */
  void (*on_close)(void *ctx, st_rpc_chan *ch);
  void *on_close_ctx;
  st_rpc_chan *next; /* in the session's list (which holds a reference) */
};

/* Where a body came from, and what that allows. */
typedef struct call_env {
  ws_session *ws;              /* a WebSocket session, or NULL */
  const st_http_request *http; /* a POST, or NULL (st_rpc_handle_body, WebSocket) */
  bool token;                  /* the caller showed a valid token: the wider limits */
  bool batch;                  /* the call is one of a batch: it may not park */
  bool parked;                 /* the call was parked: it answers through its connection */
} call_env;

/* What one request's handling ended in, for the HTTP status. */
typedef struct outcome {
  int code;     /* 0 for a result, else the JSON-RPC error code */
  bool refused; /* a permission was missing */
} outcome;

/* One table entry's shape (see st_rpc_new); the duplicate check is the caller's. */
static st_code check_method(const st_rpc_method *m, size_t i, st_err *err) {
  unsigned vi = m->versions ? m->versions : ST_RPC_V0 | ST_RPC_V1;
  if (!m->name || !*m->name) return st_err_set(err, ST_EINVAL, "rpc: method %zu has no name", i);
  if (!st_perm_name(m->perm))
    return st_err_set(err, ST_EINVAL, "rpc: method '%.100s' needs exactly one permission bit", m->name);
  if (vi & ~(ST_RPC_V0 | ST_RPC_V1))
    return st_err_set(err, ST_EINVAL, "rpc: method '%.100s' names an unknown API version", m->name);
  if (m->min_params > m->max_params)
    return st_err_set(err, ST_EINVAL, "rpc: method '%.100s' has min_params %u above max_params %u", m->name,
                      m->min_params, m->max_params);
  if (!m->run == !m->subscribe)
    return st_err_set(err, ST_EINVAL, "rpc: method '%.100s' needs a run or a subscribe, not both", m->name);
  if (!m->parse && m->args_size)
    return st_err_set(err, ST_EINVAL, "rpc: method '%.100s' has args but no parse", m->name);
  return ST_OK;
}

st_code st_rpc_new(const st_rpc_opts *opts, st_rpc **out, st_err *err) {
  *out = NULL;
  if (!opts->jwt_secret) return st_err_set(err, ST_EINVAL, "rpc: no JWT secret given");
  for (size_t i = 0; i < opts->nmethods; i++) {
    const st_rpc_method *m = &opts->methods[i];
    st_code code = check_method(m, i, err);
    if (code) return code;
    unsigned vi = m->versions ? m->versions : ST_RPC_V0 | ST_RPC_V1;
    for (size_t j = 0; j < i; j++) {
      unsigned vj = opts->methods[j].versions ? opts->methods[j].versions : ST_RPC_V0 | ST_RPC_V1;
      if ((vi & vj) && !strcmp(m->name, opts->methods[j].name))
        return st_err_set(err, ST_EINVAL, "rpc: method '%.100s' is in the table twice for one API version", m->name);
    }
  }
  st_rpc *r = calloc(1, sizeof *r);
  if (!r) return st_err_set(err, ST_ENOMEM, "out of memory creating the JSON-RPC server");
  r->methods = opts->methods;
  r->nmethods = opts->nmethods;
  r->ctx = opts->ctx;
  memcpy(r->secret, opts->jwt_secret, ST_JWT_SECRET_LEN);
  r->max_body = opts->max_body ? opts->max_body : ST_RPC_MAX_BODY_DEFAULT;
  r->fallback = opts->fallback;
  r->fallback_ctx = opts->fallback_ctx;
  r->methods_block = opts->methods_block;
  r->large_unauth = opts->large_unauth;
  st_code code = st_rpc_park_new(opts->waits_per_client, 0, &r->park, err);
  if (code) {
    free(r);
    return code;
  }
  *out = r;
  return ST_OK;
}

void st_rpc_free(st_rpc *rpc) {
  if (!rpc) return;
  st_rpc_park_free(rpc->park);
  st_secure_zero(rpc->secret, sizeof rpc->secret);
  free(rpc);
}

/* ---- response text ---- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
  if (!len || len > n) return 0;
  uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

/* A message as a JSON string; bytes that are not UTF-8 (a message cut mid-character) become '?'. */
static void put_message(st_buf *out, const char *msg) {
  size_t n = strlen(msg);
  char *clean = malloc(n + 1);
  if (!clean) {
    st_json_append_string(out, "out of memory", 13);
    return;
  }
  for (size_t i = 0; i < n;) {
    size_t k = utf8_seq((const unsigned char *)msg + i, n - i);
    if (!k) clean[i++] = '?';
    for (; k; k--, i++) clean[i] = msg[i];
  }
  st_json_append_string(out, clean, n);
  free(clean);
}

static void put_id(st_buf *out, const json_t *id) {
  if (id) st_json_append(out, id);
  else st_buf_puts(out, "null");
}

/* Keys in Go's sorted order, as Lotus writes them. */
static void put_result(st_buf *out, const json_t *id, const json_t *result) {
  st_buf_puts(out, "{\"id\":");
  put_id(out, id);
  st_buf_puts(out, ",\"jsonrpc\":\"2.0\",\"result\":");
  if (result) st_json_append(out, result);
  else st_buf_puts(out, "null");
  st_buf_putc(out, '}');
}

static void put_error(st_buf *out, const json_t *id, int code, const char *msg) {
  st_buf_printf(out, "{\"error\":{\"code\":%d,\"message\":", code);
  put_message(out, msg);
  st_buf_puts(out, "},\"id\":");
  put_id(out, id);
  st_buf_puts(out, ",\"jsonrpc\":\"2.0\"}");
}

static int status_for(const outcome *o) {
  if (o->refused) return 401;
  if (o->code == ST_RPC_INVALID_REQUEST) return 400;
  return o->code < 0 ? 500 : 200;
}

static const char *type_name(const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "bool";
    default: return "null";
  }
}

/* ---- channels ---- */

st_rpc_chan *st_rpc_chan_hold(st_rpc_chan *ch) {
  atomic_fetch_add(&ch->refs, 1);
  return ch;
}

void st_rpc_chan_release(st_rpc_chan *ch) {
  if (!ch || atomic_fetch_sub(&ch->refs, 1) != 1) return;
  json_decref(ch->req_id);
  json_decref(ch->pending);
  pthread_mutex_destroy(&ch->mu);
  free(ch);
}

/* Writes one xrpc.ch.val or xrpc.ch.close frame; ch->mu is held. */
static bool chan_write(st_rpc_chan *ch, const char *method, const json_t *value) {
  st_buf b = ST_BUF_INIT;
  st_buf_printf(&b, "{\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"params\":[%llu", method, (unsigned long long)ch->id);
  if (value) {
    st_buf_putc(&b, ',');
    st_json_append(&b, value);
  }
  st_buf_puts(&b, "]}\n");
  bool ok = !st_buf_status(&b, NULL) && !st_ws_send_text(ch->sess->ws, (const char *)b.data, b.len, NULL);
  st_buf_free(&b);
  return ok;
}

bool st_rpc_chan_send(st_rpc_chan *ch, json_t *value) {
  if (!value) return false;
  pthread_mutex_lock(&ch->mu);
  bool ok = ch->sess != NULL;
  if (ok && !ch->active) ok = !json_array_append(ch->pending, value);
  else if (ok) ok = chan_write(ch, "xrpc.ch.val", value);
  pthread_mutex_unlock(&ch->mu);
  json_decref(value);
  return ok;
}

bool st_rpc_chan_closed(st_rpc_chan *ch) {
  pthread_mutex_lock(&ch->mu);
  bool closed = !ch->sess;
  pthread_mutex_unlock(&ch->mu);
  return closed;
}

void st_rpc_chan_on_close(st_rpc_chan *ch, void (*fn)(void *ctx, st_rpc_chan *ch), void *ctx) {
  pthread_mutex_lock(&ch->mu);
  ch->on_close = fn;
  ch->on_close_ctx = ctx;
  pthread_mutex_unlock(&ch->mu);
}

/* Closes ch (sending xrpc.ch.close if tell and it had been announced), takes it off its
 * session's list and drops the list's reference. */
static void chan_end(st_rpc_chan *ch, bool tell) {
  pthread_mutex_lock(&ch->mu);
  ws_session *s = ch->sess;
  if (s && tell && ch->active) chan_write(ch, "xrpc.ch.close", NULL);
  ch->sess = NULL;
  void (*fn)(void *, st_rpc_chan *) = s ? ch->on_close : NULL;
  void *fctx = ch->on_close_ctx;
  pthread_mutex_unlock(&ch->mu);
  if (!s) return;
  if (fn) fn(fctx, ch);
  bool listed = false;
  pthread_mutex_lock(&s->mu);
  for (st_rpc_chan **pp = &s->chans; *pp; pp = &(*pp)->next)
    if (*pp == ch) {
      *pp = ch->next;
      listed = true;
      break;
    }
  pthread_mutex_unlock(&s->mu);
  if (listed) st_rpc_chan_release(ch);
}

void st_rpc_chan_close(st_rpc_chan *ch) { chan_end(ch, true); }

/* After a message's response went out: announce the new channels and send what they queued. */
static void chans_activate(ws_session *s) {
  pthread_mutex_lock(&s->mu);
  for (st_rpc_chan *ch = s->chans; ch; ch = ch->next) {
    pthread_mutex_lock(&ch->mu);
    if (!ch->active && ch->sess) {
      ch->active = true;
      for (size_t i = 0; i < json_array_size(ch->pending); i++)
        chan_write(ch, "xrpc.ch.val", json_array_get(ch->pending, i));
      json_array_clear(ch->pending);
    }
    pthread_mutex_unlock(&ch->mu);
  }
  pthread_mutex_unlock(&s->mu);
}

/* xrpc.cancel: the channel opened by the request with this id. */
static void chan_cancel(ws_session *s, const json_t *req_id) {
  st_rpc_chan *found = NULL;
  pthread_mutex_lock(&s->mu);
  for (st_rpc_chan *ch = s->chans; ch && !found; ch = ch->next)
    if (ch->req_id && req_id && json_equal(ch->req_id, req_id)) found = st_rpc_chan_hold(ch);
  pthread_mutex_unlock(&s->mu);
  if (!found) return;
  chan_end(found, true);
  st_rpc_chan_release(found);
}

/* A new channel on s, listed (the list's reference) but not yet announced. */
static st_rpc_chan *chan_new(ws_session *s, const json_t *req_id) {
  st_rpc_chan *ch = calloc(1, sizeof *ch);
  if (!ch || !(ch->pending = json_array())) {
    free(ch);
    return NULL;
  }
  atomic_init(&ch->refs, 1);
  pthread_mutex_init(&ch->mu, NULL);
  ch->sess = s;
  ch->req_id = req_id ? json_deep_copy(req_id) : NULL;
  pthread_mutex_lock(&s->mu);
  ch->id = ++s->next_chan;
  ch->next = s->chans;
  s->chans = ch;
  pthread_mutex_unlock(&s->mu);
  return ch;
}

/* ---- param readers ---- */

st_code st_rpc_param_text(const json_t *params, size_t i, const char *what, const char **out, st_err *err) {
  const json_t *v = json_array_get(params, i);
  *out = json_string_value(v);
  return *out ? ST_OK : st_err_set(err, ST_EINVAL, "param %zu (%s): must be a string", i + 1, what);
}

st_code st_rpc_param_i64(const json_t *params, size_t i, const char *what, int64_t *out, st_err *err) {
  const json_t *v = json_array_get(params, i);
  *out = json_is_integer(v) ? json_integer_value(v) : 0;
  return json_is_integer(v) ? ST_OK : st_err_set(err, ST_EINVAL, "param %zu (%s): must be an integer", i + 1, what);
}

st_code st_rpc_param_u64(const json_t *params, size_t i, const char *what, uint64_t *out, st_err *err) {
  const json_t *v = json_array_get(params, i);
  *out = 0;
  if (!json_is_integer(v) || json_integer_value(v) < 0)
    return st_err_set(err, ST_EINVAL, "param %zu (%s): must be a non-negative integer", i + 1, what);
  *out = (uint64_t)json_integer_value(v);
  return ST_OK;
}

st_code st_rpc_param_bool(const json_t *params, size_t i, const char *what, bool *out, st_err *err) {
  const json_t *v = json_array_get(params, i);
  *out = json_is_true(v);
  if (v && !json_is_boolean(v)) return st_err_set(err, ST_EINVAL, "param %zu (%s): must be true or false", i + 1, what);
  return ST_OK;
}

st_code st_rpc_param_bytes(const json_t *params, size_t i, const char *what, bool nullable, st_buf *out, st_err *err) {
  const json_t *v = json_array_get(params, i);
  if (nullable && (!v || json_is_null(v))) return ST_OK;
  if (!json_is_string(v))
    return st_err_set(err, ST_EINVAL, "param %zu (%s): must be base64%s", i + 1, what, nullable ? " or null" : "");
  if (st_base64_decode(json_string_value(v), json_string_length(v), true, out, err))
    return st_err_wrap(err, ST_EINVAL, "param %zu (%s)", i + 1, what);
  return ST_OK;
}

/* ---- dispatch ---- */

static const st_rpc_method *find_method(const st_rpc *rpc, const char *name, int version) {
  unsigned bit = version == 0 ? ST_RPC_V0 : ST_RPC_V1;
  for (size_t i = 0; i < rpc->nmethods; i++) {
    const st_rpc_method *m = &rpc->methods[i];
    if ((!m->versions || (m->versions & bit)) && !strcmp(m->name, name)) return m;
  }
  return NULL;
}

/* A request's envelope: its id (NULL for null), whether it is a notification, and its method
 * name; else the -32600 message, in msg. */
static bool check_envelope(const json_t *req, const json_t **id, bool *notify, const char **name, char *msg, size_t n) {
  *id = NULL;
  *notify = false;
  *name = NULL;
  if (!json_is_object(req)) {
    snprintf(msg, n, "Invalid request: a request is a JSON object, not %s %s", json_is_array(req) ? "an" : "a",
             type_name(req));
    return false;
  }
  const json_t *idv = json_object_get(req, "id");
  if (idv && !json_is_string(idv) && !json_is_number(idv) && !json_is_null(idv)) {
    snprintf(msg, n, "Invalid request: invalid id type: %s (want a string, a number or null)", type_name(idv));
    return false;
  }
  *id = json_is_null(idv) ? NULL : idv;
  *notify = !idv;
  const json_t *ver = json_object_get(req, "jsonrpc"), *mv = json_object_get(req, "method");
  const char *why = NULL;
  if (ver && !(json_is_string(ver) && !strcmp(json_string_value(ver), "2.0"))) why = "\"jsonrpc\" must be \"2.0\"";
  else if (!json_is_string(mv)) why = mv ? "\"method\" must be a string" : "no \"method\"";
  if (why) {
    snprintf(msg, n, "Invalid request: %s", why);
    return false;
  }
  *name = json_string_value(mv);
  return true;
}

/* Whether method m (NULL: none by that name) may run with params pv for a caller with perms:
 * 0, or the error code with its message in msg (o->refused for a missing permission). */
static int check_call(const st_rpc_method *m, const char *name, const json_t *pv, unsigned perms, bool ws, outcome *o,
                      char *msg, size_t n) {
  if (pv && !json_is_null(pv) && !json_is_array(pv)) {
    snprintf(msg, n, "params must be an array of positional parameters, not %s %s", json_is_object(pv) ? "an" : "a",
             type_name(pv));
    return ST_RPC_INVALID_PARAMS;
  }
  if (!m) {
    snprintf(msg, n, "method '%.200s' not found", name);
    return ST_RPC_METHOD_NOT_FOUND;
  }
  if (!m->run && !ws) {
    snprintf(msg, n, "method '%.200s' not supported in this mode (no out channel support)", name);
    return ST_RPC_METHOD_NOT_FOUND;
  }
  if (!(perms & m->perm)) { /* Lotus names the Go method, without the namespace */
    const char *dot = strchr(name, '.');
    o->refused = true;
    snprintf(msg, n, "missing permission to invoke '%.200s' (need '%s')", dot ? dot + 1 : name, st_perm_name(m->perm));
    return ST_RPC_ERROR;
  }
  size_t got = json_array_size(pv);
  if (got >= m->min_params && got <= m->max_params) return 0;
  if (m->min_params == m->max_params) snprintf(msg, n, "wrong param count (expected %u, got %zu)", m->min_params, got);
  else snprintf(msg, n, "wrong param count (expected %u to %u, got %zu)", m->min_params, m->max_params, got);
  return ST_RPC_INVALID_PARAMS;
}

/* ---- calls that wait ---- */

/* A parked call: the method, its args and the request's id, kept until it answers. */
typedef struct pcall {
  const st_rpc_method *m;
  st_rpc_req q;
  json_t *id;
  char *name;
} pcall;

static void pcall_free(void *call) {
  pcall *pc = call;
  if (pc->q.args && pc->m->free_args) pc->m->free_args(pc->q.args);
  free(pc->q.args);
  json_decref(pc->id);
  free(pc->name);
  free(pc);
}

/* Runs the call once more: a response in out unless it still has to wait. */
static bool pcall_retry(void *call, const char *give_up, int *status, st_buf *out) {
  pcall *pc = call;
  *status = 200;
  if (give_up) {
    put_error(out, pc->id, ST_RPC_ERROR, give_up);
    st_buf_putc(out, '\n');
    return true;
  }
  st_err e = {0};
  pc->q.not_yet = false;
  pc->q.code = 0;
  st_code rc = pc->m->run(&pc->q, &e);
  if (!rc && pc->q.not_yet) {
    json_decref(pc->q.result);
    pc->q.result = NULL;
    return false;
  }
  if (rc) put_error(out, pc->id, pc->q.code ? pc->q.code : ST_RPC_ERROR, e.msg[0] ? e.msg : st_code_str(rc));
  else put_result(out, pc->id, pc->q.result);
  st_buf_putc(out, '\n');
  json_decref(pc->q.result);
  pc->q.result = NULL;
  return true;
}

/* Parks a call whose run said not_yet on its HTTP connection. true when the call now answers
 * through the connection (even with a refusal); false when it cannot be parked (the server is
 * stopping): then q still owns its args. */
static bool park_call(const st_rpc *rpc, const st_rpc_method *m, st_rpc_req *q, const json_t *id, call_env *env) {
  pcall *pc = calloc(1, sizeof *pc);
  char *name = strdup(q->method);
  st_http_later *l = pc && name ? st_http_answer_later(env->http) : NULL;
  if (!l) {
    free(pc);
    free(name);
    return false;
  }
  *pc = (pcall){.m = m, .q = *q, .id = id ? json_incref((json_t *)id) : NULL, .name = name};
  pc->q.method = name;
  q->args = NULL; /* the parked call's now */
  env->parked = true;
  st_err e = {0};
  if (!st_rpc_park_add(rpc->park, l, env->http->peer, (int64_t)m->wait_s * 1000, pc, pcall_retry, pcall_free, &e))
    return true;
  st_buf out = ST_BUF_INIT;
  put_error(&out, id, ST_RPC_ERROR, e.msg);
  st_buf_putc(&out, '\n');
  st_http_later_reply(l, 200, NULL, out.data, out.len);
  st_buf_free(&out);
  pcall_free(pc);
  return true;
}

/* A call that has to wait where it cannot be parked: a WebSocket session waits on its own
 * thread (one call at a time, as it handles its messages), while its client is there; a batch
 * or a direct call is refused. */
static st_code wait_here(const st_rpc *rpc, const st_rpc_method *m, st_rpc_req *q, const call_env *env, st_err *err) {
  if (!env->ws)
    return st_err_set(err, ST_EUNAVAIL,
                      "%s waits only when sent alone over HTTP or over WebSocket, not in a batch: what it waits "
                      "for has not happened yet",
                      q->method);
  int fd = env->ws->ws ? st_ws_conn_fd(env->ws->ws) : -1;
  int64_t deadline = st_clock_ms() + (int64_t)m->wait_s * 1000;
  for (;;) {
    struct pollfd pfd = {.fd = fd, .events = POLLRDHUP};
    if (fd >= 0 && poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
      return st_err_set(err, ST_EUNAVAIL, "the client went away");
    if (st_clock_ms() >= deadline) return st_err_set(err, ST_EUNAVAIL, "gave up waiting after %u seconds", m->wait_s);
    st_rpc_park_wait(rpc->park, 1000);
    json_decref(q->result);
    q->result = NULL;
    q->not_yet = false;
    st_code rc = m->run(q, err);
    if (rc || !q->not_yet) return rc;
  }
}

/* Parses, then runs (or subscribes): 0 with *result, or the error code by the phase that failed
 * (parse: -32602; run: 1 or what the run chose) with its message in msg. A call parked on its
 * connection returns 0 with env->parked set and *result NULL. */
static int invoke(const st_rpc *rpc, const st_rpc_method *m, st_rpc_req *q, const json_t *pv, call_env *env,
                  const json_t *id, bool notify, json_t **result, char *msg, size_t n) {
  json_t *params = json_is_array(pv) ? json_incref((json_t *)pv) : json_array();
  q->args = m->args_size ? calloc(1, m->args_size) : NULL;
  st_err e = {0};
  st_code rc = ST_OK;
  int code = ST_RPC_ERROR;
  if (!params || (m->args_size && !q->args)) {
    rc = st_err_set(&e, ST_ENOMEM, "out of memory");
  } else if (m->parse && (rc = m->parse(params, q->args, &e))) {
    code = ST_RPC_INVALID_PARAMS;
  } else if (m->run) {
    rc = m->run(q, &e);
    if (!rc && q->not_yet && m->wait_s) {
      json_decref(q->result);
      q->result = NULL;
      bool parked = env->http && !env->batch && !notify && park_call(rpc, m, q, id, env);
      if (!parked) rc = wait_here(rpc, m, q, env, &e);
    }
  } else { /* a channel method over WebSocket: the result is the channel id */
    st_rpc_chan *ch = chan_new(env->ws, id);
    if (!ch) rc = st_err_set(&e, ST_ENOMEM, "out of memory");
    else if ((rc = m->subscribe(q, ch, &e))) chan_end(ch, false);
    else q->result = json_integer((json_int_t)ch->id);
  }
  if (rc && code == ST_RPC_ERROR && q->code) code = q->code;
  if (rc) {
    json_decref(q->result);
    q->result = NULL;
    snprintf(msg, n, "%s", e.msg[0] ? e.msg : st_code_str(rc));
    if (rc == ST_EINTERNAL || rc == ST_ENOMEM || rc == ST_EIO) st_logf("rpc", ST_LOG_WARN, "%s: %s", q->method, msg);
  }
  *result = q->result;
  if (q->args && m->free_args) m->free_args(q->args);
  free(q->args);
  json_decref(params);
  return rc ? code : 0;
}

/* Runs one request; appends its response (unless it is a notification, or parked) to out,
 * setting *wrote. */
static void handle_one(const st_rpc *rpc, int version, unsigned perms, call_env *env, const json_t *req, st_buf *out,
                       bool *wrote, outcome *o) {
  char msg[ST_ERR_MSG_MAX + 64];
  const json_t *id;
  const char *name;
  bool notify;
  json_t *result = NULL;
  o->code = 0;
  o->refused = false;
  *wrote = true;
  if (!check_envelope(req, &id, &notify, &name, msg, sizeof msg)) {
    /* a request we cannot make sense of is answered even without an id */
    o->code = ST_RPC_INVALID_REQUEST;
    put_error(out, id, o->code, msg);
    return;
  }
  const json_t *pv = json_object_get(req, "params");
  const st_rpc_method *m = find_method(rpc, name, version);
  if (env->ws && !strcmp(name, "xrpc.cancel")) { /* a channel's unsubscription: no response unless it has an id */
    chan_cancel(env->ws, json_array_get(pv, 0));
  } else if (!(o->code = check_call(m, name, pv, perms, env->ws != NULL, o, msg, sizeof msg))) {
    st_rpc_req q = {.ctx = rpc->ctx, .method = name, .version = version, .perms = perms, .data = m->data};
    o->code = invoke(rpc, m, &q, pv, env, id, notify, &result, msg, sizeof msg);
  }
  if (notify || env->parked) { /* nothing is sent here, so nothing failed as far as HTTP is concerned */
    *wrote = false;
    o->code = 0;
  } else if (o->code) put_error(out, id, o->code, msg);
  else put_result(out, id, result);
  json_decref(result);
}

static int handle_body(const st_rpc *rpc, int version, unsigned perms, call_env *env, const uint8_t *body, size_t len,
                       st_buf *out);

int st_rpc_handle_body(const st_rpc *rpc, int version, unsigned perms, const uint8_t *body, size_t len, st_buf *out) {
  call_env env = {.token = true};
  return handle_body(rpc, version, perms, &env, body, len, out);
}

/* A lone error response for the whole body, and its status. */
static int body_error(st_buf *out, int code, const char *msg) {
  outcome o = {code, false};
  put_error(out, NULL, code, msg);
  st_buf_putc(out, '\n');
  return status_for(&o);
}

/* A batch: its calls in order, each response appended until the reply reaches its limit; the
 * calls after that are not run and say so. */
static int handle_batch(const st_rpc *rpc, int version, unsigned perms, call_env *env, const json_t *doc, st_buf *out) {
  size_t n = json_array_size(doc), max_batch = env->token ? ST_RPC_MAX_BATCH : ST_RPC_MAX_BATCH_UNAUTH;
  size_t max_reply = env->token ? ST_RPC_MAX_REPLY : ST_RPC_MAX_REPLY_UNAUTH;
  char msg[200];
  if (!n) return body_error(out, ST_RPC_INVALID_REQUEST, "Invalid request: empty batch");
  if (n > max_batch) {
    snprintf(msg, sizeof msg, "Invalid request: a batch of %zu calls is more than the limit of %zu%s", n, max_batch,
             env->token ? "" : " for a request without a token");
    return body_error(out, ST_RPC_INVALID_REQUEST, msg);
  }
  st_buf one_out = ST_BUF_INIT; /* one response, appended unless it was a notification */
  size_t answered = 0;
  bool refused = false;
  env->batch = true;
  for (size_t i = 0; i < n; i++) {
    bool wrote = true;
    outcome one = {0, false};
    st_buf_reset(&one_out);
    const json_t *req = json_array_get(doc, i);
    if (out->len > max_reply) {
      const json_t *idv = json_object_get(req, "id");
      wrote = idv != NULL;
      snprintf(msg, sizeof msg, "not run: the batch's reply passed its limit of %zu bytes; send the rest again",
               max_reply);
      put_error(&one_out, json_is_null(idv) ? NULL : idv, ST_RPC_ERROR, msg);
    } else {
      handle_one(rpc, version, perms, env, req, &one_out, &wrote, &one);
    }
    refused |= one.refused;
    if (!wrote) continue;
    st_buf_putc(out, answered++ ? ',' : '[');
    st_buf_append(out, one_out.data, one_out.len);
  }
  if (answered) st_buf_puts(out, "]\n"); /* only notifications: nothing to send */
  if (st_buf_status(&one_out, NULL)) out->failed = true;
  st_buf_free(&one_out);
  return refused ? 401 : 200;
}

static int handle_body(const st_rpc *rpc, int version, unsigned perms, call_env *env, const uint8_t *body, size_t len,
                       st_buf *out) {
  if (len > rpc->max_body) {
    char msg[128];
    snprintf(msg, sizeof msg, "Parse error: request bigger than maximum %zu allowed", rpc->max_body);
    return body_error(out, ST_RPC_PARSE_ERROR, msg);
  }
  size_t ws = 0;
  while (ws < len && body[ws] && strchr(" \t\r\n", body[ws])) ws++;
  if (ws == len) return body_error(out, ST_RPC_INVALID_REQUEST, "Invalid request: the body is empty");
  json_error_t je;
  json_t *doc = json_loadb((const char *)body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
  if (!doc) {
    char msg[256];
    snprintf(msg, sizeof msg, "Parse error: %s at line %d column %d", je.text, je.line, je.column);
    return body_error(out, ST_RPC_PARSE_ERROR, msg);
  }
  int status;
  if (json_is_array(doc)) {
    status = handle_batch(rpc, version, perms, env, doc, out);
  } else {
    bool wrote;
    outcome o = {0, false};
    size_t start = out->len, max_reply = env->token ? ST_RPC_MAX_REPLY : ST_RPC_MAX_REPLY_UNAUTH;
    handle_one(rpc, version, perms, env, doc, out, &wrote, &o);
    if (out->len - start > max_reply) {
      char msg[200];
      snprintf(msg, sizeof msg, "the reply of %zu bytes is larger than the limit of %zu bytes%s", out->len - start,
               max_reply, env->token ? "" : " for a request without a token");
      out->len = start;
      o.code = ST_RPC_ERROR;
      put_error(out, json_is_null(json_object_get(doc, "id")) ? NULL : json_object_get(doc, "id"), o.code, msg);
    }
    if (wrote) st_buf_putc(out, '\n');
    status = status_for(&o);
  }
  json_decref(doc);
  return status;
}

/* ---- HTTP ---- */

static void reply_rpc_error(st_http_response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reply_rpc_error(st_http_response *resp, int status, const char *fmt, ...) {
  char msg[ST_ERR_MSG_MAX + 64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  st_buf_reset(&resp->body);
  resp->status = status;
  put_error(&resp->body, NULL, status == 401 ? ST_RPC_ERROR : ST_RPC_INVALID_REQUEST, msg);
  st_buf_putc(&resp->body, '\n');
  if (status == 401) resp->www_authenticate = "Bearer realm=\"spacetime\"";
}

/* The session: each text message is one body; its response goes back as one text frame. */
static void ws_run(void *ctx, st_ws_conn *conn) {
  ws_session *s = ctx;
  if (conn) {
    s->ws = conn;
    st_buf msg = ST_BUF_INIT, out = ST_BUF_INIT;
    st_err e;
    int op;
    st_code code;
    while (!(code = st_ws_read_message(conn, &msg, &op, &e))) {
      if (op != ST_WS_OP_TEXT) {
        st_ws_close(conn, 1003, "JSON-RPC messages are text frames", NULL);
        break;
      }
      st_buf_reset(&out);
      call_env env = {.ws = s, .token = s->token};
      handle_body(s->rpc, s->version, s->perms, &env, msg.data, msg.len, &out);
      if (st_buf_status(&out, NULL)) {
        st_buf_reset(&out);
        put_error(&out, NULL, ST_RPC_ERROR, "out of memory writing the response");
        st_buf_putc(&out, '\n');
      }
      if (out.len && st_ws_send_text(conn, (const char *)out.data, out.len, NULL)) break;
      chans_activate(s);
    }
    if (code && code != ST_ENOENT && code != ST_EIO) st_logf("rpc", ST_LOG_INFO, "WebSocket session ended: %s", e.msg);
    st_buf_free(&msg);
    st_buf_free(&out);
    /* the connection is over: every channel closes (nothing more is written) */
    for (;;) {
      pthread_mutex_lock(&s->mu);
      st_rpc_chan *ch = s->chans ? st_rpc_chan_hold(s->chans) : NULL;
      pthread_mutex_unlock(&s->mu);
      if (!ch) break;
      chan_end(ch, false);
      st_rpc_chan_release(ch);
    }
  }
  if (!s->token) atomic_fetch_sub(&s->rpc->ws_open_unauth, 1);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

static bool header_has(const st_http_request *req, const char *name, const char *word) {
  const char *v = st_http_header(req, name);
  return v && strcasestr(v, word);
}

/* The token, from the header or the query, as Lotus takes it; NULL if none (or an Authorization header that is not
 * Bearer). */
static const char *token_of(const st_http_request *req) {
  return st_http_header(req, "Authorization") ? st_http_bearer(req) : st_http_query(req, "token");
}

void st_rpc_http_handler(void *ctx, const st_http_request *req, st_http_response *resp) {
  st_rpc *rpc = ctx;
  int version = !strcmp(req->path, "/rpc/v0") ? 0 : !strcmp(req->path, "/rpc/v1") ? 1 : -1;
  if (version < 0) {
    if (rpc->fallback) rpc->fallback(rpc->fallback_ctx, req, resp);
    else
      st_http_reply_error(resp, 404, "no endpoint %s %.200s (JSON-RPC is served at POST /rpc/v0 and /rpc/v1)",
                          req->method, req->path);
    return;
  }
  bool upgrade = !strcmp(req->method, "GET") && header_has(req, "Connection", "upgrade") &&
                 header_has(req, "Upgrade", "websocket");
  if (strcmp(req->method, "POST") && !upgrade) {
    reply_rpc_error(resp, 405, "Invalid request: JSON-RPC requests are POSTed to %s, not sent with %.20s", req->path,
                    req->method);
    return;
  }
  const char *token = token_of(req);
  if (!token && st_http_header(req, "Authorization")) {
    reply_rpc_error(resp, 401, "JWT Verification failed: the Authorization header is not \"Bearer <token>\"");
    return;
  }
  unsigned perms = ST_PERM_READ;
  st_err e;
  if (token && st_jwt_verify(rpc->secret, token, &perms, &e)) {
    reply_rpc_error(resp, 401, "JWT Verification failed: %s", e.msg);
    return;
  }
  if (upgrade) {
    /* sessions without a token may take only half of the server's, so token holders get in */
    if (!token && atomic_fetch_add(&rpc->ws_open_unauth, 1) >= ST_RPC_MAX_WS_UNAUTH) {
      atomic_fetch_sub(&rpc->ws_open_unauth, 1);
      reply_rpc_error(resp, 503, "%u WebSocket sessions without a token are open already: connect with a token",
                      ST_RPC_MAX_WS_UNAUTH);
      return;
    }
    ws_session *s = calloc(1, sizeof *s);
    if (!s) {
      if (!token) atomic_fetch_sub(&rpc->ws_open_unauth, 1);
      reply_rpc_error(resp, 500, "out of memory starting a WebSocket session");
      return;
    }
    s->rpc = rpc;
    s->version = version;
    s->perms = perms;
    s->token = token != NULL;
    pthread_mutex_init(&s->mu, NULL);
    resp->websocket = ws_run;
    resp->websocket_ctx = s;
    resp->websocket_max_message = token ? rpc->max_body : ST_RPC_MAX_BODY_UNAUTH;
    return;
  }
  call_env env = {.http = req, .token = token != NULL};
  st_buf_reset(&resp->body);
  resp->status = handle_body(rpc, version, perms, &env, req->body, req->body_len, &resp->body);
  if (resp->status == 401) resp->www_authenticate = "Bearer realm=\"spacetime\"";
}

/* Before a body is read: only a caller with a valid token may send a large one. */
static bool admit(void *ctx, const st_http_request *req) {
  const st_rpc *rpc = ctx;
  const char *token = token_of(req);
  unsigned perms;
  return token && !st_jwt_verify(rpc->secret, token, &perms, NULL);
}

void st_rpc_wake(st_rpc *rpc) { st_rpc_park_wake(rpc->park); }

st_code st_rpc_serve(st_rpc *rpc, const char *listen, unsigned threads, st_http_server **out, st_err *err) {
  st_http_server_opts o = {.listen = listen,
                           .max_body = rpc->max_body,
                           .max_body_unauth = ST_RPC_MAX_BODY_UNAUTH,
                           .admit = admit,
                           .threads = threads,
                           .handlers_block = rpc->methods_block,
                           .large_unauth = rpc->large_unauth};
  return st_http_server_start(&o, st_rpc_http_handler, rpc, out, err);
}
