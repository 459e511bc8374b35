/* Tests for st_jsonrpc: a real server on 127.0.0.1 (port 0) with a few methods, driven over HTTP
 * with st_http_client (and a raw socket where a header must be odd): every error code, the 401
 * cases, batches, notifications, id echo, /rpc/v0 against /rpc/v1, the fallback route and the
 * body limit. The response texts are compared whole, so the envelope is checked byte for byte. */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/st_http_client.h"
#include "rpc/st_jsonrpc.h"

#define MAX_BODY (256 * 1024)

typedef struct fixture {
  st_rpc *rpc;
  st_http_server *http;
  char base[64];
  uint8_t secret[ST_JWT_SECRET_LEN];
  atomic_int counted;
  atomic_bool ready; /* what Test.Wait waits for */
} fixture;

static fixture F;

/* ---- the test methods ---- */

static st_code m_chain_head(st_rpc_req *q, st_err *err) {
  (void)err;
  q->result = json_pack("{s[{ss}]sI}", "Cids", "/", "bafy2bzaceexample", "Height", (json_int_t)5);
  return ST_OK;
}

static st_code m_version(st_rpc_req *q, st_err *err) {
  (void)err;
  q->result = json_pack("{si}", "api", q->version);
  return ST_OK;
}

static st_code p_mpool_push(const json_t *params, void *args, st_err *err) {
  (void)args;
  if (!json_is_object(json_array_get(params, 0))) return st_err_set(err, ST_EINVAL, "param 1 (message): not an object");
  return ST_OK;
}

static st_code m_mpool_push(st_rpc_req *q, st_err *err) {
  (void)err;
  q->result = json_pack("{ss}", "/", "bafy2bzacepushed");
  return ST_OK;
}

/* 1 or 2 params: an address, an optional tipset key. t099 is an unknown actor (Lotus's code 11). */
typedef struct lookup_args {
  char addr[32];
} lookup_args;

static st_code p_lookup(const json_t *params, void *args, st_err *err) {
  lookup_args *a = args;
  const char *s = json_string_value(json_array_get(params, 0));
  if (!s) return st_err_set(err, ST_EINVAL, "param 1 (address): not a string");
  if ((strncmp(s, "t0", 2) && strncmp(s, "f0", 2)) || strlen(s) >= sizeof a->addr)
    return st_err_set(err, ST_EINVAL, "param 1 (address): \"%s\" is not an ID address", s);
  snprintf(a->addr, sizeof a->addr, "%s", s);
  return ST_OK;
}

static st_code m_lookup(st_rpc_req *q, st_err *err) {
  const lookup_args *a = q->args;
  q->result = json_string("partial"); /* left behind on failure: the framework frees it */
  if (!strcmp(a->addr + 2, "99")) {
    q->code = 11;
    return st_err_set(err, ST_ENOENT, "actor not found");
  }
  if (!strcmp(a->addr + 2, "98")) /* a run's ST_EINVAL is a method error (1), not bad params */
    return st_err_set(err, ST_EINVAL, "actor t098 is not a miner");
  json_decref(q->result);
  q->result = json_string(a->addr);
  return ST_OK;
}

static st_code m_fail(st_rpc_req *q, st_err *err) {
  (void)q;
  return st_err_set(err, ST_ENOENT, "sector 5 of miner t01000 not found");
}

static st_code m_fail_silent(st_rpc_req *q, st_err *err) {
  (void)q, (void)err;
  return ST_ECONFLICT; /* no message: the code's name is sent */
}

static st_code m_bad_utf8(st_rpc_req *q, st_err *err) {
  (void)q;
  return st_err_set(err, ST_EPERM, "bad \xff byte and a cut \xe2\x98");
}

static st_code m_null(st_rpc_req *q, st_err *err) {
  (void)q, (void)err;
  return ST_OK;
}

static st_code m_count(st_rpc_req *q, st_err *err) {
  (void)err;
  fixture *f = q->ctx;
  q->result = json_integer(atomic_fetch_add(&f->counted, 1) + 1);
  return ST_OK;
}

static st_code m_perms(st_rpc_req *q, st_err *err) {
  (void)err;
  q->result = st_perms_to_json(q->perms);
  return ST_OK;
}

static st_code m_search_v0(st_rpc_req *q, st_err *err) {
  (void)err;
  q->result = json_string("v0 search");
  return ST_OK;
}

typedef struct count_args {
  size_t n;
} count_args;

static st_code p_count(const json_t *params, void *args, st_err *err) {
  (void)err;
  ((count_args *)args)->n = json_array_size(params);
  return ST_OK;
}

static st_code m_search_v1(st_rpc_req *q, st_err *err) {
  (void)err;
  q->result = json_pack("{sssI}", "v1", "search", "n", (json_int_t)((count_args *)q->args)->n);
  return ST_OK;
}

/* A channel method: sends "first" at once and keeps the channel for the test to push on. */
static st_rpc_chan *test_chan;
static atomic_int chan_closed;
static void on_chan_close(void *ctx, st_rpc_chan *ch) {
  (void)ctx, (void)ch;
  atomic_fetch_add(&chan_closed, 1);
}
static st_code m_sub(st_rpc_req *q, st_rpc_chan *ch, st_err *err) {
  (void)q, (void)err;
  test_chan = st_rpc_chan_hold(ch);
  st_rpc_chan_on_close(ch, on_chan_close, NULL);
  st_rpc_chan_send(ch, json_string("first"));
  return ST_OK;
}

/* Test.Big [MiB]: a string of that many MiB, for the reply limits. */
typedef struct big_args {
  uint64_t mib;
} big_args;

static st_code p_big(const json_t *params, void *args, st_err *err) {
  return st_rpc_param_u64(params, 0, "MiB", &((big_args *)args)->mib, err);
}

static st_code m_big(st_rpc_req *q, st_err *err) {
  size_t n = (size_t)((const big_args *)q->args)->mib << 20;
  char *text = malloc(n + 1);
  if (!text) return st_err_set(err, ST_ENOMEM, "out of memory");
  memset(text, 'a', n);
  text[n] = 0;
  q->result = json_string(text);
  free(text);
  return ST_OK;
}

/* Test.Wait: not yet until F.ready is set (then "ready"); waits at most 2 s. */
static st_code m_wait(st_rpc_req *q, st_err *err) {
  (void)err;
  if (!atomic_load(&F.ready)) q->not_yet = true;
  else q->result = json_string("ready");
  return ST_OK;
}

/* An entry with no params to read: {name, perm, versions, min, max, run}. */
#define RUN(name_, perm_, versions_, min, max, run_) \
  { .name = name_, .perm = perm_, .versions = versions_, .min_params = min, .max_params = max, .run = run_ }
/* An entry whose parse fills args of type args_t. */
#define PARSED(name_, versions_, min, max, parse_, args_t, run_)                                                       \
  {                                                                                                                    \
    .name = name_, .perm = ST_PERM_READ, .versions = versions_, .min_params = min, .max_params = max, .parse = parse_, \
    .args_size = sizeof(args_t), .run = run_                                                                           \
  }

static const st_rpc_method METHODS[] = {
    {.name = "Test.Sub", .perm = ST_PERM_READ, .subscribe = m_sub},
    RUN("Filecoin.ChainHead", ST_PERM_READ, 0, 0, 0, m_chain_head),
    RUN("Filecoin.Version", ST_PERM_READ, 0, 0, 0, m_version),
    {.name = "Filecoin.MpoolPush",
     .perm = ST_PERM_WRITE,
     .min_params = 1,
     .max_params = 1,
     .parse = p_mpool_push,
     .run = m_mpool_push},
    RUN("Filecoin.WalletSign", ST_PERM_SIGN, 0, 2, 2, m_null),
    RUN("Filecoin.AuthNew", ST_PERM_ADMIN, 0, 1, 1, m_perms),
    PARSED("Filecoin.StateLookupID", 0, 1, 2, p_lookup, lookup_args, m_lookup),
    RUN("Filecoin.StateSearchMsg", ST_PERM_READ, ST_RPC_V0, 1, 1, m_search_v0),
    PARSED("Filecoin.StateSearchMsg", ST_RPC_V1, 4, 4, p_count, count_args, m_search_v1),
    RUN("Filecoin.V1Only", ST_PERM_READ, ST_RPC_V1, 0, 0, m_null),
    {.name = "Filecoin.ChainNotify", .perm = ST_PERM_READ, .subscribe = m_sub},
    RUN("Test.Fail", ST_PERM_READ, 0, 0, 0, m_fail),
    RUN("Test.FailSilent", ST_PERM_READ, 0, 0, 0, m_fail_silent),
    RUN("Test.BadUtf8", ST_PERM_READ, 0, 0, 0, m_bad_utf8),
    RUN("Test.Null", ST_PERM_READ, 0, 0, 0, m_null),
    RUN("Test.Count", ST_PERM_READ, 0, 0, 0, m_count),
    RUN("Test.Perms", ST_PERM_READ, 0, 0, 0, m_perms),
    PARSED("Test.Big", 0, 1, 1, p_big, big_args, m_big),
    {.name = "Test.Wait", .perm = ST_PERM_READ, .run = m_wait, .wait_s = 2},
};

static void fallback(void *ctx, const st_http_request *req, st_http_response *resp) {
  (void)ctx;
  if (!strcmp(req->path, "/health") && !strcmp(req->method, "GET"))
    st_http_reply_json(resp, 200, json_pack("{ss}", "status", "ok"));
  else st_http_reply_error(resp, 404, "no endpoint %s", req->path);
}

static int setup(void **state) {
  (void)state;
  st_err err;
  if (st_jwt_secret_new(F.secret, &err)) return -1;
  st_rpc_opts o = {.methods = METHODS,
                   .nmethods = sizeof METHODS / sizeof METHODS[0],
                   .ctx = &F,
                   .jwt_secret = F.secret,
                   .max_body = MAX_BODY,
                   .fallback = fallback};
  if (st_rpc_new(&o, &F.rpc, &err) || st_rpc_serve(F.rpc, "127.0.0.1:0", 4, &F.http, &err)) {
    fprintf(stderr, "setup: %s\n", err.msg);
    return -1;
  }
  snprintf(F.base, sizeof F.base, "http://127.0.0.1:%u", st_http_server_port(F.http));
  return 0;
}

static int teardown(void **state) {
  (void)state;
  st_http_server_stop(F.http);
  st_rpc_free(F.rpc);
  return 0;
}

/* ---- helpers ---- */

static char *token_for(unsigned perms) {
  char *t = NULL;
  st_err err;
  assert_int_equal(st_jwt_create(F.secret, perms, &t, &err), ST_OK);
  return t;
}

/* POSTs body to path with token (NULL: none); returns the status, the reply in resp. */
static long send_req(const char *method, const char *token, const char *path, const char *body, size_t len,
                     st_buf *resp) {
  st_http_client *c;
  st_err err;
  long status = 0;
  assert_int_equal(st_http_client_new(F.base, token, &c, &err), ST_OK);
  st_buf_reset(resp);
  if (st_http_call(c, method, path, body, len, &status, resp, &err)) fail_msg("%s", err.msg);
  st_http_client_free(c);
  return status;
}

static long post(const char *token, const char *path, const char *body, st_buf *resp) {
  return send_req("POST", token, path, body, strlen(body), resp);
}

/* Asserts one exchange: status and the whole reply text. */
#define EXPECT(token, path, body, want_status, want_text)                                                          \
  do {                                                                                                             \
    st_buf r_ = ST_BUF_INIT;                                                                                       \
    long s_ = post(token, path, body, &r_);                                                                        \
    if (s_ != (want_status) || strcmp(st_buf_cstr(&r_), want_text))                                                \
      fail_msg("POST %s %s\n got  %ld %s\n want %d %s", path, body, s_, st_buf_cstr(&r_), want_status, want_text); \
    st_buf_free(&r_);                                                                                              \
  } while (0)

/* A raw HTTP/1.1 request (for headers st_http_client does not send); returns the status and the
 * whole reply (headers and body) in out. */
static int raw(const char *request, char *out, size_t n) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(st_http_server_port(F.http))};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  size_t len = strlen(request);
  assert_int_equal(write(fd, request, len), (ssize_t)len);
  size_t got = 0;
  ssize_t k;
  while (got + 1 < n && (k = read(fd, out + got, n - 1 - got)) > 0) got += (size_t)k;
  out[got] = 0;
  close(fd);
  int status = 0;
  assert_int_equal(sscanf(out, "HTTP/1.%*d %d", &status), 1);
  return status;
}

#define OK(id_, result) "{\"id\":" id_ ",\"jsonrpc\":\"2.0\",\"result\":" result "}"
#define ERR(id_, code, msg) \
  "{\"error\":{\"code\":" #code ",\"message\":\"" msg "\"},\"id\":" id_ ",\"jsonrpc\":\"2.0\"}"

/* ---- tests ---- */

static void test_read_without_token(void **state) {
  (void)state;
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.ChainHead\",\"params\":[]}", 200,
         OK("1", "{\"Cids\":[{\"/\":\"bafy2bzaceexample\"}],\"Height\":5}") "\n");
  /* params omitted or null mean none; "meta" and other members are ignored; "jsonrpc" may be left out */
  EXPECT(NULL, "/rpc/v1", "{\"id\":2,\"method\":\"Filecoin.ChainHead\",\"meta\":{\"x\":1}}", 200,
         OK("2", "{\"Cids\":[{\"/\":\"bafy2bzaceexample\"}],\"Height\":5}") "\n");
  EXPECT(NULL, "/rpc/v0", "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"Filecoin.Test\",\"params\":null}", 500,
         ERR("3", -32601, "method 'Filecoin.Test' not found") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"Test.Perms\",\"params\":null}", 200,
         OK("4", "[\"read\"]") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"Test.Null\"}", 200, OK("5", "null") "\n");
}

static void test_versions(void **state) {
  (void)state;
  EXPECT(NULL, "/rpc/v0", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.Version\"}", 200,
         OK("1", "{\"api\":0}") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.Version\"}", 200,
         OK("1", "{\"api\":1}") "\n");
  /* one name, two entries: v0 takes 1 param, v1 takes 4 */
  EXPECT(NULL, "/rpc/v0", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.StateSearchMsg\",\"params\":[{}]}", 200,
         OK("1", "\"v0 search\"") "\n");
  EXPECT(NULL, "/rpc/v1",
         "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.StateSearchMsg\",\"params\":[[],{},10,true]}", 200,
         OK("1", "{\"v1\":\"search\",\"n\":4}") "\n");
  EXPECT(NULL, "/rpc/v0",
         "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.StateSearchMsg\",\"params\":[[],{},10,true]}", 500,
         ERR("1", -32602, "wrong param count (expected 1, got 4)") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.V1Only\"}", 200, OK("1", "null") "\n");
  EXPECT(NULL, "/rpc/v0", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.V1Only\"}", 500,
         ERR("1", -32601, "method 'Filecoin.V1Only' not found") "\n");
  /* other /rpc paths are not JSON-RPC endpoints: they reach the fallback */
  st_buf r = ST_BUF_INIT;
  assert_int_equal(post(NULL, "/rpc/v2", "{}", &r), 404);
  assert_non_null(strstr(st_buf_cstr(&r), "no endpoint /rpc/v2"));
  st_buf_free(&r);
}

static void test_protocol_errors(void **state) {
  (void)state;
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,", 500,
         ERR("null", -32700, "Parse error: string or '}' expected near end of file at line 1 column 24") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"id\":1,\"id\":2,\"method\":\"Filecoin.ChainHead\"}", 500,
         ERR("null", -32700, "Parse error: duplicate object key near '\\\"id\\\"' at line 1 column 12") "\n");
  EXPECT(NULL, "/rpc/v1", "", 400, ERR("null", -32600, "Invalid request: the body is empty") "\n");
  EXPECT(NULL, "/rpc/v1", " \r\n\t", 400, ERR("null", -32600, "Invalid request: the body is empty") "\n");
  EXPECT(NULL, "/rpc/v1", "[]", 400, ERR("null", -32600, "Invalid request: empty batch") "\n");
  EXPECT(NULL, "/rpc/v1", "5", 400,
         ERR("null", -32600, "Invalid request: a request is a JSON object, not a number") "\n");
  EXPECT(NULL, "/rpc/v1", "\"x\"", 400,
         ERR("null", -32600, "Invalid request: a request is a JSON object, not a string") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":5}", 400,
         ERR("7", -32600, "Invalid request: \\\"method\\\" must be a string") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":7}", 400,
         ERR("7", -32600, "Invalid request: no \\\"method\\\"") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"Filecoin.ChainHead\"}", 400,
         ERR("7", -32600, "Invalid request: \\\"jsonrpc\\\" must be \\\"2.0\\\"") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"Filecoin.ChainHead\"}", 400,
         ERR("null", -32600, "Invalid request: invalid id type: bool (want a string, a number or null)") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"Filecoin.ChainHead\"}", 400,
         ERR("null", -32600, "Invalid request: invalid id type: object (want a string, a number or null)") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.X\"}", 500,
         ERR("1", -32601, "method 'Filecoin.X' not found") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"filecoin.chainhead\"}", 500,
         ERR("1", -32601, "method 'filecoin.chainhead' not found") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.ChainNotify\"}", 500,
         ERR("1", -32601, "method 'Filecoin.ChainNotify' not supported in this mode (no out channel support)") "\n");
}

static void test_params(void **state) {
  (void)state;
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.StateLookupID\",\"params\":{\"a\":1}}",
         500, ERR("1", -32602, "params must be an array of positional parameters, not an object") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.StateLookupID\",\"params\":\"t01\"}",
         500, ERR("1", -32602, "params must be an array of positional parameters, not a string") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.ChainHead\",\"params\":[1]}", 500,
         ERR("1", -32602, "wrong param count (expected 0, got 1)") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.StateLookupID\"}", 500,
         ERR("1", -32602, "wrong param count (expected 1 to 2, got 0)") "\n");
  EXPECT(NULL, "/rpc/v1",
         "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.StateLookupID\",\"params\":[\"t01\",[],3]}", 500,
         ERR("1", -32602, "wrong param count (expected 1 to 2, got 3)") "\n");
  /* the handler's ST_EINVAL names the param */
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.StateLookupID\",\"params\":[5]}", 500,
         ERR("1", -32602, "param 1 (address): not a string") "\n");
  EXPECT(NULL, "/rpc/v1",
         "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.StateLookupID\",\"params\":[\"t1abc\",[]]}", 500,
         ERR("1", -32602, "param 1 (address): \\\"t1abc\\\" is not an ID address") "\n");
  EXPECT(NULL, "/rpc/v1",
         "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.StateLookupID\",\"params\":[\"t01000\"]}", 200,
         OK("1", "\"t01000\"") "\n");
}

static void test_method_errors(void **state) {
  (void)state;
  /* a Go error in Lotus: code 1, HTTP 200, the message reaches the client */
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Test.Fail\"}", 200,
         ERR("1", 1, "sector 5 of miner t01000 not found") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Test.FailSilent\"}", 200,
         ERR("1", 1, "conflict") "\n");
  /* a handler choosing Lotus's registered code (11, ActorNotFound) */
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.StateLookupID\",\"params\":[\"t099\"]}",
         200, ERR("1", 11, "actor not found") "\n");
  /* the phase decides the code: a run's ST_EINVAL is a method error, a parse's is bad params */
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.StateLookupID\",\"params\":[\"t098\"]}",
         200, ERR("1", 1, "actor t098 is not a miner") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.StateLookupID\",\"params\":[\"x098\"]}",
         500, ERR("1", -32602, "param 1 (address): \\\"x098\\\" is not an ID address") "\n");
  /* bytes that are not UTF-8 never reach the wire */
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Test.BadUtf8\"}", 200,
         ERR("1", 1, "bad ? byte and a cut ??") "\n");
}

static void test_ids(void **state) {
  (void)state;
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":\"abc-1\",\"method\":\"Test.Null\"}", 200,
         OK("\"abc-1\"", "null") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":\"caf\\u00e9 \\\"q\\\"\",\"method\":\"Test.Null\"}", 200,
         OK("\"caf\xc3\xa9 \\\"q\\\"\"", "null") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":-7,\"method\":\"Test.Null\"}", 200, OK("-7", "null") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"Test.Null\"}", 200, OK("1.5", "null") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":9007199254740993,\"method\":\"Test.Null\"}", 200,
         OK("9007199254740993", "null") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":\"\",\"method\":\"Test.Null\"}", 200, OK("\"\"", "null") "\n");
  /* null is an id (JSON-RPC 2.0), answered with null */
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"Test.Null\"}", 200, OK("null", "null") "\n");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":\"e\",\"method\":\"Test.Fail\"}", 200,
         ERR("\"e\"", 1, "sector 5 of miner t01000 not found") "\n");
}

static void test_notifications(void **state) {
  (void)state;
  int before = atomic_load(&F.counted);
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Count\"}", 200, "");
  assert_int_equal(atomic_load(&F.counted), before + 1); /* it ran */
  /* failures of a notification are not answered either */
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"method\":\"Filecoin.Nope\"}", 200, "");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Fail\"}", 200, "");
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"method\":\"Filecoin.ChainHead\",\"params\":[1]}", 200, "");
  /* a notification refused for permission did not run, and the status says so */
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"method\":\"Filecoin.MpoolPush\",\"params\":[{}]}", 401, "");
  /* a request too broken to tell is answered */
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"method\":1}", 400,
         ERR("null", -32600, "Invalid request: \\\"method\\\" must be a string") "\n");
}

static void test_batches(void **state) {
  (void)state;
  int before = atomic_load(&F.counted);
  EXPECT(
      NULL, "/rpc/v1",
      "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Test.Null\"},"
      "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Count\"},"
      "{\"jsonrpc\":\"2.0\",\"id\":\"b\",\"method\":\"Filecoin.X\"},"
      "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"Filecoin.StateLookupID\",\"params\":[5]},"
      "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Count\"},"
      "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"Test.Fail\"}]",
      200,
      "[" OK("1", "null") "," ERR("\"b\"", -32601, "method 'Filecoin.X' not found") "," ERR(
          "3", -32602, "param 1 (address): not a string") "," ERR("4", 1, "sector 5 of miner t01000 not found") "]\n");
  assert_int_equal(atomic_load(&F.counted), before + 2);
  /* only notifications: nothing to send */
  EXPECT(NULL, "/rpc/v1",
         "[{\"jsonrpc\":\"2.0\",\"method\":\"Test.Count\"},{\"jsonrpc\":\"2.0\",\"method\":\"Test.Count\"}]", 200, "");
  assert_int_equal(atomic_load(&F.counted), before + 4);
  /* elements that are not requests get -32600 each, id null */
  EXPECT(NULL, "/rpc/v1", "[1,[],{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"Test.Null\"}]", 200,
         "[" ERR("null", -32600, "Invalid request: a request is a JSON object, not a number") "," ERR(
             "null", -32600, "Invalid request: a request is a JSON object, not an array") "," OK("9", "null") "]\n");
  /* a notification first: no stray comma */
  EXPECT(NULL, "/rpc/v1",
         "[{\"jsonrpc\":\"2.0\",\"method\":\"Test.Null\"},{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"Test.Null\"}]",
         200, "[" OK("2", "null") "]\n");
  /* one refused request makes the batch 401; the others still ran and are answered */
  EXPECT(NULL, "/rpc/v1",
         "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Test.Null\"},"
         "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"Filecoin.MpoolPush\",\"params\":[{}]}]",
         401, "[" OK("1", "null") "," ERR("2", 1, "missing permission to invoke 'MpoolPush' (need 'write')") "]\n");
  EXPECT(NULL, "/rpc/v1", "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Test.Null\"", 500,
         ERR("null", -32700, "Parse error: '}' expected near end of file at line 1 column 45") "\n");
}

static void test_permissions(void **state) {
  (void)state;
  const char *push = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.MpoolPush\",\"params\":[{}]}";
  const char *sign = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.WalletSign\",\"params\":[\"t01\",\"\"]}";
  const char *admin = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.AuthNew\",\"params\":[[\"read\"]]}";
  const char *read = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Test.Perms\"}";
  /* a write without a token: HTTP 401 with Lotus's message */
  EXPECT(NULL, "/rpc/v1", push, 401, ERR("1", 1, "missing permission to invoke 'MpoolPush' (need 'write')") "\n");
  EXPECT(NULL, "/rpc/v0", push, 401, ERR("1", 1, "missing permission to invoke 'MpoolPush' (need 'write')") "\n");
  /* permission is checked before the param count */
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.MpoolPush\",\"params\":[]}", 401,
         ERR("1", 1, "missing permission to invoke 'MpoolPush' (need 'write')") "\n");
  char *t_write = token_for(st_perm_upto(ST_PERM_WRITE));
  char *t_sign = token_for(st_perm_upto(ST_PERM_SIGN));
  char *t_admin = token_for(st_perm_upto(ST_PERM_ADMIN));
  char *t_admin_only = token_for(ST_PERM_ADMIN);
  char *t_none = token_for(0);
  EXPECT(t_write, "/rpc/v1", push, 200, OK("1", "{\"/\":\"bafy2bzacepushed\"}") "\n");
  EXPECT(t_write, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.MpoolPush\",\"params\":[5]}", 500,
         ERR("1", -32602, "param 1 (message): not an object") "\n");
  EXPECT(t_write, "/rpc/v1", sign, 401, ERR("1", 1, "missing permission to invoke 'WalletSign' (need 'sign')") "\n");
  EXPECT(t_sign, "/rpc/v1", sign, 200, OK("1", "null") "\n");
  EXPECT(t_sign, "/rpc/v1", admin, 401, ERR("1", 1, "missing permission to invoke 'AuthNew' (need 'admin')") "\n");
  EXPECT(t_admin, "/rpc/v1", admin, 200, OK("1", "[\"read\",\"write\",\"sign\",\"admin\"]") "\n");
  EXPECT(t_admin, "/rpc/v1", read, 200, OK("1", "[\"read\",\"write\",\"sign\",\"admin\"]") "\n");
  /* no hierarchy: admin alone does not read or write */
  EXPECT(t_admin_only, "/rpc/v1", admin, 200, OK("1", "[\"admin\"]") "\n");
  EXPECT(t_admin_only, "/rpc/v1", read, 401, ERR("1", 1, "missing permission to invoke 'Perms' (need 'read')") "\n");
  EXPECT(t_admin_only, "/rpc/v1", push, 401,
         ERR("1", 1, "missing permission to invoke 'MpoolPush' (need 'write')") "\n");
  /* a valid token with an empty list grants nothing, not even the tokenless read */
  EXPECT(t_none, "/rpc/v1", read, 401, ERR("1", 1, "missing permission to invoke 'Perms' (need 'read')") "\n");
  /* the token as a query argument, as Lotus takes it */
  char path[512];
  snprintf(path, sizeof path, "/rpc/v1?token=%s", t_write);
  EXPECT(NULL, path, push, 200, OK("1", "{\"/\":\"bafy2bzacepushed\"}") "\n");
  free(t_write);
  free(t_sign);
  free(t_admin);
  free(t_admin_only);
  free(t_none);
}

static void test_bad_tokens(void **state) {
  (void)state;
  const char *read = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.ChainHead\"}";
  uint8_t other[ST_JWT_SECRET_LEN];
  st_err err;
  assert_int_equal(st_jwt_secret_new(other, &err), ST_OK);
  char *forged = NULL;
  assert_int_equal(st_jwt_create(other, ST_PERM_ALL, &forged, &err), ST_OK);
  /* a bad token is refused even for a read method */
  EXPECT(forged, "/rpc/v1", read, 401, ERR("null", 1, "JWT Verification failed: token signature does not match") "\n");
  EXPECT(
      "abc", "/rpc/v1", read, 401,
      ERR("null", 1, "JWT Verification failed: token is not a JWT (want three base64url parts separated by '.')") "\n");
  char path[512];
  snprintf(path, sizeof path, "/rpc/v0?token=%s", forged);
  EXPECT(NULL, path, read, 401, ERR("null", 1, "JWT Verification failed: token signature does not match") "\n");
  free(forged);
  /* an Authorization header that is not Bearer */
  char req[1024], reply[4096];
  snprintf(
      req, sizeof req,
      "POST /rpc/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic dXNlcjpwYXNz\r\nContent-Type: application/json\r\n"
      "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
      strlen(read), read);
  assert_int_equal(raw(req, reply, sizeof reply), 401);
  assert_non_null(strstr(reply, "WWW-Authenticate: Bearer realm=\"spacetime\""));
  assert_non_null(strstr(
      reply, "\r\n\r\n" ERR("null", 1,
                            "JWT Verification failed: the Authorization header is not \\\"Bearer <token>\\\"") "\n"));
}

static void test_http_routes(void **state) {
  (void)state;
  st_buf r = ST_BUF_INIT;
  /* the fallback serves other paths */
  assert_int_equal(send_req("GET", NULL, "/health", NULL, 0, &r), 200);
  assert_string_equal(st_buf_cstr(&r), "{\"status\":\"ok\"}\n");
  assert_int_equal(send_req("GET", NULL, "/nothing", NULL, 0, &r), 404);
  /* JSON-RPC is POST only */
  assert_int_equal(send_req("GET", NULL, "/rpc/v1", NULL, 0, &r), 405);
  assert_string_equal(
      st_buf_cstr(&r),
      ERR("null", -32600, "Invalid request: JSON-RPC requests are POSTed to /rpc/v1, not sent with GET") "\n");
  char reply[4096];
  /* an upgrade without a key is refused before the switch */
  assert_int_equal(raw("GET /rpc/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close, Upgrade\r\nUpgrade: websocket\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n",
                       reply, sizeof reply),
                   400);
  assert_non_null(strstr(reply, "a WebSocket upgrade needs a Sec-WebSocket-Key"));
  /* over the body limit: st_http_server refuses it before reading; without a token the limit
   * is ST_RPC_MAX_BODY_UNAUTH, with one MAX_BODY */
  size_t n = MAX_BODY + 1;
  char *big = malloc(n);
  memset(big, ' ', n);
  memcpy(big, "[", 1);
  assert_int_equal(send_req("POST", NULL, "/rpc/v1", big, ST_RPC_MAX_BODY_UNAUTH + 1, &r), 413);
  assert_non_null(strstr(st_buf_cstr(&r), "larger than the limit of 65536 bytes for a request without a valid token"));
  char *tok = token_for(ST_PERM_READ);
  assert_int_equal(send_req("POST", tok, "/rpc/v1", big, n, &r), 413);
  assert_non_null(strstr(st_buf_cstr(&r), "larger than the limit of 262144 bytes"));
  assert_null(strstr(st_buf_cstr(&r), "without a valid token"));
  /* at the limit it is parsed */
  big[n - 2] = ']';
  assert_int_equal(send_req("POST", tok, "/rpc/v1", big, n - 1, &r), 400);
  assert_string_equal(st_buf_cstr(&r), ERR("null", -32600, "Invalid request: empty batch") "\n");
  free(tok);
  free(big);
  st_buf_free(&r);
}

static void test_handle_body_direct(void **state) {
  (void)state;
  uint8_t secret[ST_JWT_SECRET_LEN] = {1};
  st_rpc_opts o = {.methods = METHODS,
                   .nmethods = sizeof METHODS / sizeof METHODS[0],
                   .ctx = &F,
                   .jwt_secret = secret,
                   .max_body = 16};
  st_rpc *rpc;
  st_err err;
  assert_int_equal(st_rpc_new(&o, &rpc, &err), ST_OK);
  st_buf out = ST_BUF_INIT;
  const char *b = "{\"id\":1,\"method\":\"Test.Null\"}";
  assert_int_equal(st_rpc_handle_body(rpc, 1, ST_PERM_READ, (const uint8_t *)b, strlen(b), &out), 500);
  assert_string_equal(st_buf_cstr(&out),
                      ERR("null", -32700, "Parse error: request bigger than maximum 16 allowed") "\n");
  st_buf_reset(&out);
  b = "{\"id\":1}";
  assert_int_equal(st_rpc_handle_body(rpc, 1, ST_PERM_READ, (const uint8_t *)b, strlen(b), &out), 400);
  st_buf_reset(&out);
  /* a NUL byte in the body */
  assert_int_equal(st_rpc_handle_body(rpc, 1, ST_PERM_READ, (const uint8_t *)"{\0}", 3, &out), 500);
  assert_non_null(strstr(st_buf_cstr(&out), "-32700"));
  st_buf_reset(&out);
  assert_int_equal(st_rpc_handle_body(rpc, 1, ST_PERM_READ, (const uint8_t *)"\0", 1, &out), 500);
  st_buf_free(&out);
  st_rpc_free(rpc);
}

static void test_table_checks(void **state) {
  (void)state;
  uint8_t secret[ST_JWT_SECRET_LEN] = {0};
  st_rpc *rpc = NULL;
  st_err err;
  st_rpc_method dup[] = {RUN("A.B", ST_PERM_READ, 0, 0, 0, m_null), RUN("A.B", ST_PERM_READ, ST_RPC_V1, 0, 0, m_null)};
  st_rpc_opts o = {.methods = dup, .nmethods = 2, .jwt_secret = secret};
  assert_int_equal(st_rpc_new(&o, &rpc, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "method 'A.B' is in the table twice for one API version");
  st_rpc_method two_bits[] = {RUN("A.B", ST_PERM_READ | ST_PERM_WRITE, 0, 0, 0, m_null)};
  o.methods = two_bits;
  o.nmethods = 1;
  assert_int_equal(st_rpc_new(&o, &rpc, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "method 'A.B' needs exactly one permission bit");
  st_rpc_method range[] = {RUN("A.B", ST_PERM_READ, 0, 2, 1, m_null)};
  o.methods = range;
  assert_int_equal(st_rpc_new(&o, &rpc, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "min_params 2 above max_params 1");
  st_rpc_method noname[] = {RUN(NULL, ST_PERM_READ, 0, 0, 0, m_null)};
  o.methods = noname;
  assert_int_equal(st_rpc_new(&o, &rpc, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "method 0 has no name");
  st_rpc_method badver[] = {RUN("A.B", ST_PERM_READ, 4, 0, 0, m_null)};
  o.methods = badver;
  assert_int_equal(st_rpc_new(&o, &rpc, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "unknown API version");
  st_rpc_method no_run[] = {{.name = "A.B", .perm = ST_PERM_READ}};
  o.methods = no_run;
  assert_int_equal(st_rpc_new(&o, &rpc, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "method 'A.B' needs a run or a subscribe, not both");
  st_rpc_method both[] = {{.name = "A.B", .perm = ST_PERM_READ, .run = m_null, .subscribe = m_sub}};
  o.methods = both;
  assert_int_equal(st_rpc_new(&o, &rpc, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "method 'A.B' needs a run or a subscribe, not both");
  st_rpc_method args_no_parse[] = {{.name = "A.B", .perm = ST_PERM_READ, .args_size = 8, .run = m_null}};
  o.methods = args_no_parse;
  assert_int_equal(st_rpc_new(&o, &rpc, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "method 'A.B' has args but no parse");
  o.methods = dup;
  o.nmethods = 1;
  o.jwt_secret = NULL;
  assert_int_equal(st_rpc_new(&o, &rpc, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "no JWT secret");
  assert_null(rpc);
}

/* ---- WebSocket ---- */

static st_ws_conn *ws_open(const char *path_and_query, const char *token, int *fdp) {
  return tu_ws_open(st_http_server_port(F.http), path_and_query, token, fdp);
}

static void ws_close(st_ws_conn *c, int fd) {
  st_ws_close(c, 1000, "bye", NULL);
  st_ws_conn_free(c);
  close(fd);
}

/* Sends text; returns the next message from the server (the caller frees). */
static void ws_call(st_ws_conn *c, const char *text, st_buf *reply) {
  st_err err;
  int op;
  assert_int_equal(st_ws_send_text(c, text, strlen(text), &err), ST_OK);
  if (st_ws_read_message(c, reply, &op, &err)) fail_msg("%s", err.msg);
  assert_int_equal(op, ST_WS_OP_TEXT);
}

#define WS_EXPECT(c, body, want)                                                                             \
  do {                                                                                                       \
    st_buf r_ = ST_BUF_INIT;                                                                                 \
    ws_call(c, body, &r_);                                                                                   \
    if (strcmp(st_buf_cstr(&r_), want)) fail_msg("WS %s\n got  %s\n want %s", body, st_buf_cstr(&r_), want); \
    st_buf_free(&r_);                                                                                        \
  } while (0)

static void test_websocket_calls(void **state) {
  (void)state;
  int fd;
  st_ws_conn *c = ws_open("/rpc/v1", NULL, &fd);
  /* the same text as over HTTP */
  const char *body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.ChainHead\",\"params\":[]}";
  st_buf http = ST_BUF_INIT;
  assert_int_equal(post(NULL, "/rpc/v1", body, &http), 200);
  WS_EXPECT(c, body, st_buf_cstr(&http));
  st_buf_free(&http);
  WS_EXPECT(c, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"Filecoin.Version\"}", OK("2", "{\"api\":1}") "\n");
  /* a write without a token: the error frame (no HTTP status on a WebSocket) */
  WS_EXPECT(c, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"Filecoin.MpoolPush\",\"params\":[{}]}",
            ERR("3", 1, "missing permission to invoke 'MpoolPush' (need 'write')") "\n");
  /* batches and bad JSON behave as over HTTP */
  WS_EXPECT(c, "[{\"id\":4,\"method\":\"Test.Null\"},{\"method\":\"Test.Null\"},{\"id\":5,\"method\":\"Test.Null\"}]",
            "[" OK("4", "null") "," OK("5", "null") "]\n");
  WS_EXPECT(c, "{",
            ERR("null", -32700, "Parse error: string or '}' expected near end of file at line 1 column 1") "\n");
  ws_close(c, fd);
  /* v0, with a token in the query string: the write is allowed */
  char *tok = token_for(ST_PERM_READ | ST_PERM_WRITE);
  char path[1024];
  snprintf(path, sizeof path, "/rpc/v0?token=%s", tok);
  c = ws_open(path, NULL, &fd);
  WS_EXPECT(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.Version\"}", OK("1", "{\"api\":0}") "\n");
  WS_EXPECT(c, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"Filecoin.MpoolPush\",\"params\":[{}]}",
            OK("2", "{\"/\":\"bafy2bzacepushed\"}") "\n");
  ws_close(c, fd);
  /* and in the Authorization header */
  c = ws_open("/rpc/v1", tok, &fd);
  WS_EXPECT(c, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"Test.Perms\"}", OK("9", "[\"read\",\"write\"]") "\n");
  ws_close(c, fd);
  free(tok);
}

/* A batch of n copies of one call, with ids 1..n. */
static char *batch_of(size_t n, const char *call) {
  st_buf b = ST_BUF_INIT;
  for (size_t i = 0; i < n; i++) st_buf_printf(&b, "%s{\"jsonrpc\":\"2.0\",\"id\":%zu,%s}", i ? "," : "[", i + 1, call);
  st_buf_putc(&b, ']');
  return (char *)st_buf_take(&b, NULL);
}

static void test_limits(void **state) {
  (void)state;
  st_buf r = ST_BUF_INIT;
  char *tok = token_for(ST_PERM_READ);
  /* batch length: 100 calls without a token, 1,000 with one */
  char *b = batch_of(101, "\"method\":\"Test.Null\"");
  assert_int_equal(post(NULL, "/rpc/v1", b, &r), 400);
  assert_string_equal(st_buf_cstr(&r),
                      ERR("null", -32600,
                          "Invalid request: a batch of 101 calls is more than the limit of 100 for a request "
                          "without a token") "\n");
  assert_int_equal(post(tok, "/rpc/v1", b, &r), 200);
  free(b);
  b = batch_of(1001, "\"method\":\"Test.Null\"");
  assert_int_equal(post(tok, "/rpc/v1", b, &r), 400);
  assert_non_null(strstr(st_buf_cstr(&r), "a batch of 1001 calls is more than the limit of 1000\""));
  free(b);
  /* the reply: past 8 MiB without a token, the rest of a batch is not run, and says so */
  b = batch_of(12, "\"method\":\"Test.Big\",\"params\":[1]");
  assert_int_equal(post(NULL, "/rpc/v1", b, &r), 200);
  json_t *v = json_loads(st_buf_cstr(&r), 0, NULL);
  assert_int_equal(json_array_size(v), 12);
  size_t run = 0, not_run = 0;
  for (size_t i = 0; i < 12; i++) {
    json_t *e = json_object_get(json_array_get(v, i), "error");
    if (!e) run++;
    else if (strstr(json_string_value(json_object_get(e, "message")), "not run: the batch's reply passed its limit"))
      not_run++;
  }
  json_decref(v);
  assert_int_equal(run, 8); /* 8 MiB and their envelopes pass the limit of 8 MiB */
  assert_int_equal(not_run, 4);
  free(b);
  /* with a token, all 12 are run */
  b = batch_of(12, "\"method\":\"Test.Big\",\"params\":[1]");
  assert_int_equal(post(tok, "/rpc/v1", b, &r), 200);
  assert_null(strstr(st_buf_cstr(&r), "not run"));
  free(b);
  /* one reply over the limit is an error, not the reply */
  assert_int_equal(post(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"Test.Big\",\"params\":[9]}", &r),
                   200);
  assert_non_null(strstr(st_buf_cstr(&r), "is larger than the limit of 8388608 bytes for a request without a token"));
  assert_true(r.len < 1024);
  free(tok);
  st_buf_free(&r);
}

typedef struct async_post {
  const char *body;
  long status;
  st_buf reply;
} async_post;

static void *post_main(void *arg) {
  async_post *a = arg;
  a->status = post(NULL, "/rpc/v1", a->body, &a->reply);
  return NULL;
}

static void test_waiting_calls(void **state) {
  (void)state;
  const char *wait = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Test.Wait\"}";
  atomic_store(&F.ready, false);
  /* over HTTP the call is parked; a wake after the thing happened answers it */
  async_post a = {.body = wait, .reply = ST_BUF_INIT};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, post_main, &a), 0);
  usleep(300 * 1000);
  atomic_store(&F.ready, true);
  st_rpc_wake(F.rpc);
  pthread_join(th, NULL);
  assert_int_equal(a.status, 200);
  assert_string_equal(st_buf_cstr(&a.reply), OK("1", "\"ready\"") "\n");
  st_buf_free(&a.reply);
  /* it gives up after its wait_s */
  atomic_store(&F.ready, false);
  st_buf r = ST_BUF_INIT;
  assert_int_equal(post(NULL, "/rpc/v1", wait, &r), 200);
  assert_string_equal(st_buf_cstr(&r), ERR("1", 1, "gave up waiting after 2 seconds") "\n");
  /* in a batch it is refused rather than hold a thread */
  assert_int_equal(post(NULL, "/rpc/v1", "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Test.Wait\"}]", &r), 200);
  assert_non_null(strstr(st_buf_cstr(&r), "Test.Wait waits only when sent alone over HTTP or over WebSocket"));
  /* over WebSocket the session waits on its own thread */
  int fd;
  st_ws_conn *c = ws_open("/rpc/v1", NULL, &fd);
  st_err err;
  assert_int_equal(st_ws_send_text(c, wait, strlen(wait), &err), ST_OK);
  usleep(300 * 1000);
  atomic_store(&F.ready, true);
  st_rpc_wake(F.rpc);
  int op;
  assert_int_equal(st_ws_read_message(c, &r, &op, &err), ST_OK);
  assert_string_equal(st_buf_cstr(&r), OK("1", "\"ready\"") "\n");
  ws_close(c, fd);
  st_buf_free(&r);
}

static void test_websocket_sessions_without_token(void **state) {
  (void)state;
  enum { N = ST_RPC_MAX_WS_UNAUTH };
  static st_ws_conn *c[N];
  static int fds[N];
  for (int i = 0; i < N; i++) c[i] = ws_open("/rpc/v1", NULL, &fds[i]);
  /* one more without a token is refused; with one it is let in */
  char reply[2048];
  const char *up =
      "GET /rpc/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close, Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
  assert_int_equal(raw(up, reply, sizeof reply), 503);
  assert_non_null(strstr(reply, "128 WebSocket sessions without a token are open already: connect with a token"));
  char *tok = token_for(ST_PERM_READ);
  int fd;
  st_ws_conn *t = ws_open("/rpc/v1", tok, &fd);
  WS_EXPECT(t, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Test.Null\"}", OK("1", "null") "\n");
  ws_close(t, fd);
  free(tok);
  /* a session that ends gives its place back */
  ws_close(c[0], fds[0]);
  c[0] = NULL;
  usleep(200 * 1000); /* the session's thread ends after the close handshake */
  c[0] = ws_open("/rpc/v1", NULL, &fds[0]);
  for (int i = 0; i < N; i++) ws_close(c[i], fds[i]);
}

static void test_websocket_channels(void **state) {
  (void)state;
  int fd;
  st_ws_conn *c = ws_open("/rpc/v1", NULL, &fd);
  atomic_store(&chan_closed, 0);
  /* the call's result is the channel id; the value sent during the call follows it */
  WS_EXPECT(c, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"Test.Sub\"}", OK("7", "1") "\n");
  st_buf r = ST_BUF_INIT;
  st_err err;
  int op;
  assert_int_equal(st_ws_read_message(c, &r, &op, &err), ST_OK);
  assert_string_equal(st_buf_cstr(&r), "{\"jsonrpc\":\"2.0\",\"method\":\"xrpc.ch.val\",\"params\":[1,\"first\"]}\n");
  /* values pushed later by the server */
  assert_true(st_rpc_chan_send(test_chan, json_pack("[{ss}]", "Type", "apply")));
  assert_int_equal(st_ws_read_message(c, &r, &op, &err), ST_OK);
  assert_string_equal(st_buf_cstr(&r),
                      "{\"jsonrpc\":\"2.0\",\"method\":\"xrpc.ch.val\",\"params\":[1,[{\"Type\":\"apply\"}]]}\n");
  /* a second channel gets id 2 */
  st_rpc_chan *first = test_chan;
  WS_EXPECT(c, "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"Test.Sub\"}", OK("\"x\"", "2") "\n");
  assert_int_equal(st_ws_read_message(c, &r, &op, &err), ST_OK);
  assert_string_equal(st_buf_cstr(&r), "{\"jsonrpc\":\"2.0\",\"method\":\"xrpc.ch.val\",\"params\":[2,\"first\"]}\n");
  /* xrpc.cancel with the call's request id closes channel 1 */
  const char *cancel = "{\"jsonrpc\":\"2.0\",\"method\":\"xrpc.cancel\",\"params\":[7]}";
  WS_EXPECT(c, cancel, "{\"jsonrpc\":\"2.0\",\"method\":\"xrpc.ch.close\",\"params\":[1]}\n");
  assert_true(st_rpc_chan_closed(first));
  assert_false(st_rpc_chan_send(first, json_string("late")));
  for (int i = 0; i < 200 && atomic_load(&chan_closed) < 1; i++) usleep(10000); /* the hook runs after the frame */
  assert_int_equal(atomic_load(&chan_closed), 1);
  st_rpc_chan_release(first);
  /* the connection ending closes channel 2 */
  st_rpc_chan *second = test_chan;
  ws_close(c, fd);
  for (int i = 0; i < 200 && !st_rpc_chan_closed(second); i++) usleep(10000);
  assert_true(st_rpc_chan_closed(second));
  assert_int_equal(atomic_load(&chan_closed), 2);
  st_rpc_chan_release(second);
  st_buf_free(&r);
  /* over HTTP the channel method is refused, as before */
  EXPECT(NULL, "/rpc/v1", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Test.Sub\"}", 500,
         ERR("1", -32601, "method 'Test.Sub' not supported in this mode (no out channel support)") "\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_read_without_token), cmocka_unit_test(test_versions),
      cmocka_unit_test(test_protocol_errors),    cmocka_unit_test(test_params),
      cmocka_unit_test(test_method_errors),      cmocka_unit_test(test_ids),
      cmocka_unit_test(test_notifications),      cmocka_unit_test(test_batches),
      cmocka_unit_test(test_permissions),        cmocka_unit_test(test_bad_tokens),
      cmocka_unit_test(test_http_routes),        cmocka_unit_test(test_handle_body_direct),
      cmocka_unit_test(test_table_checks),       cmocka_unit_test(test_websocket_calls),
      cmocka_unit_test(test_websocket_channels), cmocka_unit_test(test_limits),
      cmocka_unit_test(test_waiting_calls),      cmocka_unit_test(test_websocket_sessions_without_token),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
