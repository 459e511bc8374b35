/* Filecoin.ChainNotify over a real WebSocket: an in-process daemon (st_daemon) on a chain in a
 * temporary repo, a raw-socket client. The first value is the current head; each new block then arrives
 * as an "apply" batch; xrpc.cancel closes the channel with xrpc.ch.close. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chain/st_chain.h"
#include "crypto/st_secp.h"
#include "crypto/st_wallet.h"
#include "net/st_websocket.h"
#include "node/st_daemon.h"

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
  char dir[256], keystore[300];
  tu_tmpdir(dir);
  st_err err;
  uint8_t sk[32];
  st_address producer;
  st_wallet w;
  snprintf(keystore, sizeof keystore, "%s/keystore", dir);
  assert_int_equal(st_wallet_open(&w, keystore, &err), ST_OK);
  assert_int_equal(st_secp_keygen(sk, &err), ST_OK);
  assert_int_equal(st_wallet_import(&w, sk, &producer, &err), ST_OK);
  st_genesis g;
  st_genesis_init(&g);
  assert_int_equal(st_network_profile("devnet", &g.network, &err), ST_OK);
  g.timestamp = (uint64_t)time(NULL) - 1000;
  char text[ST_ADDR_STR_MAX], spec[200];
  st_address_format(&producer, 't', text, &err);
  snprintf(spec, sizeof spec, "%s=10", text);
  assert_int_equal(st_genesis_add_account(&g, spec, &err), ST_OK);
  uint8_t secret[ST_JWT_SECRET_LEN] = {1, 2, 3};
  st_daemon_config cfg = {
      .repo = dir, .genesis = &g, .listen = "127.0.0.1:0", .threads = 4, .jwt_secret = secret, .version = "test"};
  st_daemon *d;
  assert_int_equal(st_daemon_start(&cfg, &d, &err), ST_OK);

  int fd;
  st_ws_conn *c = tu_ws_open(st_daemon_port(d), "/rpc/v1", NULL, &fd);
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
    size_t n;
    assert_int_equal(st_fullnode_bootstrap_block(st_daemon_fullnode(d), &producer, epoch, &n, &err), ST_OK);
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

  st_daemon_stop(d);
  st_genesis_clear(&g);
  tu_rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_chainnotify)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
