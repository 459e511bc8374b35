/* fuzz_rpc: the JSON-RPC server's request handling on arbitrary bodies, without a network.
 *
 * The input is a whole request body. st_rpc_handle_body runs it three times against a small
 * method table: as /rpc/v0 with no permissions, as /rpc/v1 with read (a tokenless caller), and as
 * /rpc/v1 with all four permissions.
 *
 * Oracles (a failure prints what broke and traps):
 * - the status is 200, 400, 401 or 500, and 401 never comes back to a caller holding every
 *   permission;
 * - the reply is empty or one JSON value followed by "\n";
 * - a body jansson cannot parse (with the same flags) gets a single -32700 error, status 500;
 * - every response object has "jsonrpc":"2.0", an "id", and exactly one of "result" and
 *   "error"; an error has an integer code and a non-empty string message;
 * - a single request gets no reply exactly when it is a notification (an object without "id"
 *   whose "jsonrpc" and "method" are well formed); otherwise its reply's id equals the request's
 *   id when that is a string, a number (compared as a number) or null;
 * - a batch gets an array with one response per element that is not a notification, in order,
 *   each carrying that element's id (or nothing at all when every element is a notification);
 * - T.Echo's result equals its params ([] when omitted or null; numbers compared by value);
 * - the same body gives the same bytes twice. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/st_buf.h"
#include "rpc/st_jsonrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *ctx) {
  fprintf(stderr, "fuzz_rpc: oracle failed: %s [%.300s]\n", what, ctx ? ctx : "");
  __builtin_trap();
}

/* T.Echo's args: its params, kept for the run. */
typedef struct echo_args {
  json_t *params;
} echo_args;

static st_code p_echo(const json_t *params, void *args, st_err *err) {
  (void)err;
  ((echo_args *)args)->params = json_incref((json_t *)params);
  return ST_OK;
}

static void free_echo(void *args) { json_decref(((echo_args *)args)->params); }

static st_code m_echo(st_rpc_req *q, st_err *err) {
  (void)err;
  q->result = json_incref(((echo_args *)q->args)->params);
  return ST_OK;
}

static st_code m_null(st_rpc_req *q, st_err *err) {
  (void)q, (void)err;
  return ST_OK;
}

/* A parse that refuses every value: -32602. */
static st_code p_inval(const json_t *params, void *args, st_err *err) {
  (void)args;
  const char *s = json_string_value(json_array_get(params, 0));
  return st_err_set(err, ST_EINVAL, "param 1 (x): \"%.20s\" is not wanted", s ? s : "?");
}

/* A run that fails: code 1, or 11 with one param; a result it left behind must be dropped. */
static st_code m_fail(st_rpc_req *q, st_err *err) {
  q->result = json_true();
  if (json_array_size(((echo_args *)q->args)->params) == 1) q->code = 11;
  return st_err_set(err, ST_EINVAL, "%s: not found", q->method);
}

static st_code m_chan(st_rpc_req *q, st_rpc_chan *ch, st_err *err) {
  (void)q, (void)ch;
  return st_err_set(err, ST_EINTERNAL, "never called over HTTP");
}

#define ECHO(name_, versions_, max)                                                                 \
  {                                                                                                 \
    .name = name_, .perm = ST_PERM_READ, .versions = versions_, .max_params = max, .parse = p_echo, \
    .args_size = sizeof(echo_args), .free_args = free_echo, .run = m_echo                           \
  }
static const st_rpc_method METHODS[] = {
    ECHO("T.Echo", 0, 8),
    {.name = "T.Write", .perm = ST_PERM_WRITE, .max_params = 1, .run = m_null},
    {.name = "T.Admin", .perm = ST_PERM_ADMIN, .run = m_null},
    {.name = "T.Inval", .perm = ST_PERM_READ, .min_params = 1, .max_params = 1, .parse = p_inval, .run = m_null},
    {.name = "T.Fail",
     .perm = ST_PERM_READ,
     .max_params = 1,
     .parse = p_echo,
     .args_size = sizeof(echo_args),
     .free_args = free_echo,
     .run = m_fail},
    {.name = "T.Chan", .perm = ST_PERM_READ, .subscribe = m_chan},
    ECHO("T.V1", ST_RPC_V1, 2),
    {.name = "T.V0", .perm = ST_PERM_READ, .versions = ST_RPC_V0, .run = m_null},
};

static st_rpc *rpc_once(void) {
  static st_rpc *rpc;
  if (!rpc) {
    static const uint8_t secret[ST_JWT_SECRET_LEN] = {7};
    st_rpc_opts o = {
        .methods = METHODS, .nmethods = sizeof METHODS / sizeof METHODS[0], .jwt_secret = secret, .max_body = 1 << 20};
    st_err err;
    if (st_rpc_new(&o, &rpc, &err)) die("st_rpc_new", err.msg);
  }
  return rpc;
}

/* Whether the server must stay silent for this element. */
static bool is_notification(const json_t *req) {
  if (!json_is_object(req) || json_object_get(req, "id")) return false;
  const json_t *ver = json_object_get(req, "jsonrpc");
  if (ver && !(json_is_string(ver) && !strcmp(json_string_value(ver), "2.0"))) return false;
  return json_is_string(json_object_get(req, "method"));
}

/* json_equal, except that numbers compare by value (2.0 is written as 2, as Go writes it). */
static bool same_value(const json_t *a, const json_t *b) {
  if (json_is_number(a) || json_is_number(b))
    return json_is_number(a) && json_is_number(b) && json_number_value(a) == json_number_value(b);
  if (json_typeof(a) != json_typeof(b)) return false;
  if (json_is_array(a)) {
    if (json_array_size(a) != json_array_size(b)) return false;
    for (size_t i = 0; i < json_array_size(a); i++)
      if (!same_value(json_array_get(a, i), json_array_get(b, i))) return false;
    return true;
  }
  if (json_is_object(a)) {
    if (json_object_size(a) != json_object_size(b)) return false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v) {
      const json_t *w = json_object_get(b, k);
      if (!w || !same_value(v, w)) return false;
    }
    return true;
  }
  return json_equal(a, b);
}

static bool same_id(const json_t *want, const json_t *got) {
  if (!want || json_is_null(want)) return json_is_null(got);
  return same_value(want, got);
}

static void check_response(const json_t *r, const json_t *req, const char *out) {
  if (!json_is_object(r)) die("a response is not an object", out);
  const json_t *v = json_object_get(r, "jsonrpc");
  if (!json_is_string(v) || strcmp(json_string_value(v), "2.0")) die("response without jsonrpc 2.0", out);
  const json_t *id = json_object_get(r, "id");
  if (!id) die("response without id", out);
  const json_t *res = json_object_get(r, "result"), *e = json_object_get(r, "error");
  if (!res == !e) die("response needs exactly one of result and error", out);
  if (e) {
    const json_t *msg = json_object_get(e, "message");
    if (!json_is_integer(json_object_get(e, "code")) || !json_is_string(msg) || !json_string_length(msg))
      die("malformed error", out);
  }
  /* the request's id comes back when it was one of the allowed types */
  const json_t *rid = json_is_object(req) ? json_object_get(req, "id") : NULL;
  if (rid && (json_is_string(rid) || json_is_number(rid) || json_is_null(rid)) && !same_id(rid, id))
    die("id not echoed", out);
  if (!rid && !json_is_null(id)) die("id invented", out);
  /* T.Echo returns its params */
  const json_t *m = json_is_object(req) ? json_object_get(req, "method") : NULL;
  if (res && json_is_string(m) && !strcmp(json_string_value(m), "T.Echo")) {
    const json_t *p = json_object_get(req, "params");
    json_t *empty = json_array();
    bool ok = same_value(p && !json_is_null(p) ? p : empty, res);
    json_decref(empty);
    if (!ok) die("T.Echo result is not its params", out);
  }
}

static void run(const uint8_t *data, size_t size, int version, unsigned perms, const json_t *doc) {
  st_rpc *rpc = rpc_once();
  st_buf out = ST_BUF_INIT, again = ST_BUF_INIT;
  int status = st_rpc_handle_body(rpc, version, perms, data, size, &out);
  int status2 = st_rpc_handle_body(rpc, version, perms, data, size, &again);
  const char *text = st_buf_cstr(&out);
  if (st_buf_status(&out, NULL) || st_buf_status(&again, NULL)) goto done; /* out of memory: nothing to check */
  if (status != status2 || out.len != again.len || (out.len && memcmp(out.data, again.data, out.len)))
    die("not deterministic", text);
  if (status != 200 && status != 400 && status != 401 && status != 500) die("unexpected status", text);
  if (status == 401 && perms == ST_PERM_ALL) die("401 for a caller with every permission", text);
  json_t *reply = NULL;
  if (out.len) {
    if (out.data[out.len - 1] != '\n') die("reply does not end in a newline", text);
    json_error_t je;
    reply = json_loadb(text, out.len, JSON_DECODE_ANY, &je);
    if (!reply) die("reply is not one JSON value", text);
  }
  if (!doc) {
    const json_t *e = reply ? json_object_get(reply, "error") : NULL;
    if (status != 500 || !e || json_integer_value(json_object_get(e, "code")) != -32700) {
      /* the one other way to fail before parsing: a body that is all whitespace */
      bool blank = true;
      for (size_t i = 0; i < size; i++)
        blank &= data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n';
      if (!(blank && status == 400 && e && json_integer_value(json_object_get(e, "code")) == -32600))
        die("unparsable body not a -32700", text);
    }
  } else if (json_is_array(doc) && json_array_size(doc)) {
    size_t want = 0;
    for (size_t i = 0; i < json_array_size(doc); i++) want += !is_notification(json_array_get(doc, i));
    if (!want && reply) die("a batch of notifications was answered", text);
    if (want && (!json_is_array(reply) || json_array_size(reply) != want))
      die("batch reply has the wrong length", text);
    for (size_t i = 0, k = 0; i < json_array_size(doc); i++) {
      const json_t *req = json_array_get(doc, i);
      if (is_notification(req)) continue;
      check_response(json_array_get(reply, k++), req, text);
    }
  } else if (json_is_array(doc)) {
    if (status != 400) die("empty batch not a 400", text);
  } else if (is_notification(doc)) {
    if (reply) die("a notification was answered", text);
  } else {
    if (!reply) die("a request got no reply", text);
    check_response(reply, doc, text);
  }
  json_decref(reply);
done:
  st_buf_free(&out);
  st_buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1 << 20) return 0; /* over max_body: answered before parsing, nothing to compare */
  json_error_t je;
  json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
  run(data, size, 0, 0, doc);
  run(data, size, 1, ST_PERM_READ, doc);
  run(data, size, 1, ST_PERM_ALL, doc);
  json_decref(doc);
  return 0;
}
