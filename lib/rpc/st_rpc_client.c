/* st_rpc_client: one JSON-RPC request per call over st_http_client. */
#include "rpc/st_rpc_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/st_chain_types.h"
#include "net/st_http_client.h"

struct st_rpc_client {
  st_http_client *http;
  long next_id;
};

st_code st_rpc_client_open(const st_apiinfo *info, st_rpc_client **out, st_err *err) {
  *out = calloc(1, sizeof **out);
  if (!*out) return st_err_set(err, ST_ENOMEM, "out of memory opening an API client");
  st_code code = st_http_client_new(info->url, info->token[0] ? info->token : NULL, &(*out)->http, err);
  if (code) {
    free(*out);
    *out = NULL;
  }
  return code;
}

st_code st_rpc_client_connect(const char *env_value, const char *repo, st_rpc_client **out, st_err *err) {
  *out = NULL;
  st_apiinfo info;
  st_code code = st_apiinfo_resolve(env_value, repo, &info, err);
  return code ? code : st_rpc_client_open(&info, out, err);
}

void st_rpc_client_close(st_rpc_client *c) {
  if (!c) return;
  st_http_client_free(c->http);
  free(c);
}

st_code st_rpc_client_call(st_rpc_client *c, const char *method, json_t *params, json_t **result, st_err *err) {
  *result = NULL;
  char name[128];
  snprintf(name, sizeof name, "Filecoin.%s", method);
  json_t *req = json_pack("{ss sI ss so}", "jsonrpc", "2.0", "id", (json_int_t)++c->next_id, "method", name, "params",
                          params ? params : json_array());
  st_buf body = ST_BUF_INIT, resp = ST_BUF_INIT;
  st_chain_json_append(&body, req); /* big unsigned numbers stay numbers */
  json_decref(req);
  long status = 0;
  st_code code = st_buf_status(&body, err);
  if (!code) code = st_http_call(c->http, "POST", "/rpc/v1", st_buf_cstr(&body), body.len, &status, &resp, err);
  if (code == ST_EUNAVAIL) st_err_wrap(err, code, "the node");
  json_t *j = NULL;
  if (!code) code = st_chain_json_loadb((const char *)resp.data, resp.len, 0, &j, err);
  const json_t *e = j ? json_object_get(j, "error") : NULL;
  if (!code && e) {
    const char *msg = json_string_value(json_object_get(e, "message"));
    code = st_err_set(err, status == 401 ? ST_EPERM : ST_EINVAL, "%s",
                      msg ? msg : "the node returned an error without a message");
  } else if (!code && status != 200) {
    code = st_err_set(err, status == 401 ? ST_EPERM : ST_EINTERNAL, "the node answered HTTP %ld to %s", status, name);
  } else if (!code) {
    json_t *r = json_object_get(j, "result");
    *result = r ? json_incref(r) : json_null();
  }
  if (code && code != ST_EUNAVAIL && !j && status) st_err_wrap(err, code, "%s", name);
  json_decref(j);
  st_buf_free(&body);
  st_buf_free(&resp);
  return code;
}
