/* Filecoin.ChainNotify over a real WebSocket: the full node's methods on a chain in a temporary
 * repo, a raw-socket client. The first value is the current head; each new block then arrives
 * as an "apply" batch; xrpc.cancel closes the channel with xrpc.ch.close. */
#include "testutil.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chain/st_chain.h"
#include "crypto/st_secp.h"
#include "net/st_websocket.h"
#include "rpc/st_fullnode.h"
#include "rpc/st_jsonrpc.h"

static void head_changed(void *ctx, const st_tipset *head, const st_signed_message *reverted, size_t n) {
  st_fullnode_head_changed(ctx, head, reverted, n);
}

static json_t *next_json(st_ws_conn *c) {
  st_buf b = ST_BUF_INIT;
  int op;
  st_err err;
  if (st_ws_read_message(c, &b, &op, &err)) fail_msg("%s", err.msg);
  json_error_t je;
  json_t *j = json_loadb((const char *)b.data, b.len, 0, &je);
  if (!j) fail_msg("not JSON: %s", st_buf_cstr(&b));
  st_buf_free(&b);
  return j;
}

static void test_chainnotify(void **state) {
  (void)state;
  char dir[256];
  tu_tmpdir(dir);
  st_err err;
  uint8_t sk[32];
  st_address producer;
  assert_int_equal(st_secp_keygen(sk, &err), ST_OK);
  assert_int_equal(st_secp_address(sk, &producer, &err), ST_OK);
  st_genesis g;
  st_genesis_init(&g);
  assert_int_equal(st_network_profile("devnet", &g.network, &err), ST_OK);
  uint64_t now = (uint64_t)time(NULL);
  g.timestamp = now - 1000;
  char text[ST_ADDR_STR_MAX], spec[200], keystore[300];
  st_address_format(&producer, 't', text, &err);
  snprintf(spec, sizeof spec, "%s=10", text);
  assert_int_equal(st_genesis_add_account(&g, spec, &err), ST_OK);
  st_chain *chain;
  assert_int_equal(st_chain_open(dir, &g, &chain, &err), ST_OK);
  uint8_t secret[ST_JWT_SECRET_LEN] = {1, 2, 3};
  snprintf(keystore, sizeof keystore, "%s/keystore", dir);
  st_fullnode node;
  assert_int_equal(st_fullnode_init(&node, chain, keystore, secret, "test", &err), ST_OK);
  st_chain_on_head(chain, head_changed, &node);
  size_t nmethods;
  const st_rpc_method *methods = st_fullnode_methods(&nmethods);
  st_rpc_opts ro = {.methods = methods, .nmethods = nmethods, .ctx = &node, .jwt_secret = secret};
  st_rpc *rpc;
  st_http_server *http;
  assert_int_equal(st_rpc_new(&ro, &rpc, &err), ST_OK);
  assert_int_equal(st_rpc_serve(rpc, "127.0.0.1:0", 4, &http, &err), ST_OK);

  int fd;
  st_ws_conn *c = tu_ws_open(st_http_server_port(http), "/rpc/v1", NULL, &fd);
  const char *sub = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"Filecoin.ChainNotify\",\"params\":[]}";
  assert_int_equal(st_ws_send_text(c, sub, strlen(sub), &err), ST_OK);
  json_t *r = next_json(c);
  assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
  json_int_t chan = json_integer_value(json_object_get(r, "result"));
  assert_int_equal(chan, 1);
  json_decref(r);
  /* the first value: the current head, alone */
  r = next_json(c);
  assert_string_equal(json_string_value(json_object_get(r, "method")), "xrpc.ch.val");
  json_t *changes = json_array_get(json_object_get(r, "params"), 1);
  assert_int_equal(json_array_size(changes), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(changes, 0), "Type")), "current");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(changes, 0), "Val"), "Height")),
                   0);
  json_decref(r);

  /* two new blocks: each arrives as an apply of the new head */
  for (int64_t epoch = 1; epoch <= 2; epoch++) {
    st_block_header b;
    st_block_header_init(&b);
    st_signed_message *msgs;
    size_t n;
    assert_int_equal(st_chain_build_block(chain, sk, epoch, node.pool, &b, &msgs, &n, &err), ST_OK);
    assert_int_equal(st_chain_submit_block(chain, &b, msgs, n, NULL, now, &err), ST_OK);
    free(msgs);
    st_block_header_free(&b);
    r = next_json(c);
    assert_string_equal(json_string_value(json_object_get(r, "method")), "xrpc.ch.val");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(r, "params"), 0)), chan);
    changes = json_array_get(json_object_get(r, "params"), 1);
    assert_int_equal(json_array_size(changes), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(changes, 0), "Type")), "apply");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(changes, 0), "Val"), "Height")),
                     epoch);
    json_decref(r);
  }

  /* cancelling with the request's id closes the channel */
  const char *cancel = "{\"jsonrpc\":\"2.0\",\"method\":\"xrpc.cancel\",\"params\":[7]}";
  assert_int_equal(st_ws_send_text(c, cancel, strlen(cancel), &err), ST_OK);
  r = next_json(c);
  assert_string_equal(json_string_value(json_object_get(r, "method")), "xrpc.ch.close");
  assert_int_equal(json_integer_value(json_array_get(json_object_get(r, "params"), 0)), chan);
  json_decref(r);
  st_ws_close(c, 1000, "bye", NULL);
  st_ws_conn_free(c);
  close(fd);

  st_fullnode_stop(&node);
  st_http_server_stop(http);
  st_rpc_free(rpc);
  st_fullnode_free(&node);
  st_chain_close(chain);
  st_genesis_clear(&g);
  tu_rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_chainnotify)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
