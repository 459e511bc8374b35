/* Tests for st_websocket: the RFC 6455 accept key, frame encoding against the RFC's examples,
 * and a server and a client connection over a socketpair: round trips at each length form,
 * masking, a fragmented message with a ping inside, close, and the faults (an unmasked client
 * frame, an oversized message). And the outs of the HTTP side's failures (st_http_server's
 * listen address, st_http_client's status). */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/st_http_client.h"
#include "net/st_http_server.h"
#include "net/st_websocket.h"

static void test_accept_key(void **state) {
  (void)state;
  char out[ST_WS_ACCEPT_LEN + 1];
  st_err err;
  assert_int_equal(st_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out, &err), ST_OK);
  assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); /* RFC 6455 section 1.3 */
  assert_int_equal(st_ws_accept_key("", out, &err), ST_EINVAL);
  tu_assert_zeroed(out, sizeof out); /* no key: all NULs (st_err.h) */
}

static void test_encode_rfc_examples(void **state) {
  (void)state;
  st_buf b = ST_BUF_INIT;
  /* RFC 6455 5.7: a single-frame unmasked text message "Hello", and the masked one */
  st_ws_encode_frame(&b, true, ST_WS_OP_TEXT, "Hello", 5, NULL);
  static const uint8_t unmasked[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
  assert_int_equal(b.len, sizeof unmasked);
  assert_memory_equal(b.data, unmasked, sizeof unmasked);
  st_buf_reset(&b);
  static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  st_ws_encode_frame(&b, true, ST_WS_OP_TEXT, "Hello", 5, key);
  static const uint8_t masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
  assert_int_equal(b.len, sizeof masked);
  assert_memory_equal(b.data, masked, sizeof masked);
  /* 256 bytes: 126 and a 16-bit length; 64 KiB: 127 and a 64-bit length */
  char *big = calloc(1, 65536);
  st_buf_reset(&b);
  st_ws_encode_frame(&b, true, ST_WS_OP_BINARY, big, 256, NULL);
  static const uint8_t h16[] = {0x82, 0x7e, 0x01, 0x00};
  assert_int_equal(b.len, 4 + 256);
  assert_memory_equal(b.data, h16, 4);
  st_buf_reset(&b);
  st_ws_encode_frame(&b, true, ST_WS_OP_BINARY, big, 65536, NULL);
  static const uint8_t h64[] = {0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00};
  assert_int_equal(b.len, 10 + 65536);
  assert_memory_equal(b.data, h64, 10);
  free(big);
  st_buf_free(&b);
}

typedef struct pair {
  int fds[2];
  st_ws_conn *server, *client;
} pair;

static void pair_open(pair *p, size_t max_message) {
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fds), 0);
  int sz = 4 << 20;
  setsockopt(p->fds[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  setsockopt(p->fds[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  assert_non_null(p->server = st_ws_conn_new(p->fds[0], true, max_message, NULL, 0));
  assert_non_null(p->client = st_ws_conn_new(p->fds[1], false, max_message, NULL, 0));
}

static void pair_close(pair *p) {
  st_ws_conn_free(p->server);
  st_ws_conn_free(p->client);
  close(p->fds[0]);
  close(p->fds[1]);
}

static void test_round_trips(void **state) {
  (void)state;
  pair p;
  pair_open(&p, 0);
  st_buf got = ST_BUF_INIT;
  st_err err;
  int op;
  static const size_t lens[] = {0, 5, 125, 126, 65535, 65536, 300000};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    size_t n = lens[i];
    uint8_t *msg = malloc(n + 1);
    for (size_t j = 0; j < n; j++) msg[j] = (uint8_t)('a' + j % 26);
    /* client to server: masked on the wire, unmasked on arrival */
    assert_int_equal(st_ws_send(p.client, ST_WS_OP_TEXT, msg, n, &err), ST_OK);
    assert_int_equal(st_ws_read_message(p.server, &got, &op, &err), ST_OK);
    assert_int_equal(op, ST_WS_OP_TEXT);
    assert_int_equal(got.len, n);
    if (n) assert_memory_equal(got.data, msg, n);
    /* server to client: unmasked */
    assert_int_equal(st_ws_send(p.server, ST_WS_OP_BINARY, msg, n, &err), ST_OK);
    assert_int_equal(st_ws_read_message(p.client, &got, &op, &err), ST_OK);
    assert_int_equal(op, ST_WS_OP_BINARY);
    assert_int_equal(got.len, n);
    if (n) assert_memory_equal(got.data, msg, n);
    free(msg);
  }
  st_buf_free(&got);
  pair_close(&p);
}

static void write_raw(int fd, const st_buf *b) { assert_int_equal(write(fd, b->data, b->len), (ssize_t)b->len); }

static void test_fragmented_ping_close(void **state) {
  (void)state;
  pair p;
  pair_open(&p, 0);
  static const uint8_t key[4] = {1, 2, 3, 4};
  st_buf f = ST_BUF_INIT, got = ST_BUF_INIT;
  st_ws_encode_frame(&f, false, ST_WS_OP_TEXT, "Hel", 3, key);
  st_ws_encode_frame(&f, false, ST_WS_OP_CONT, "lo ", 3, key);
  st_ws_encode_frame(&f, true, ST_WS_OP_PING, "pi", 2, key);
  st_ws_encode_frame(&f, true, ST_WS_OP_CONT, "world", 5, key);
  write_raw(p.fds[1], &f);
  st_err err;
  int op;
  assert_int_equal(st_ws_read_message(p.server, &got, &op, &err), ST_OK);
  assert_int_equal(op, ST_WS_OP_TEXT);
  assert_string_equal(st_buf_cstr(&got), "Hello world");
  /* the pong came back, unmasked, with the ping's payload */
  uint8_t pong[4];
  assert_int_equal(read(p.fds[1], pong, 4), 4);
  static const uint8_t want_pong[] = {0x8a, 0x02, 'p', 'i'};
  assert_memory_equal(pong, want_pong, 4);
  /* a close frame is answered with a close frame carrying the same status */
  st_buf_reset(&f);
  static const uint8_t status[2] = {0x03, 0xe8}; /* 1000 */
  st_ws_encode_frame(&f, true, ST_WS_OP_CLOSE, status, 2, key);
  write_raw(p.fds[1], &f);
  assert_int_equal(st_ws_read_message(p.server, &got, &op, &err), ST_ENOENT);
  assert_non_null(strstr(err.msg, "closed by the peer (status 1000)"));
  uint8_t reply[4];
  assert_int_equal(read(p.fds[1], reply, 4), 4);
  static const uint8_t want_close[] = {0x88, 0x02, 0x03, 0xe8};
  assert_memory_equal(reply, want_close, 4);
  /* nothing more is sent after the close */
  assert_int_equal(st_ws_send_text(p.server, "x", 1, &err), ST_EIO);
  st_buf_free(&f);
  st_buf_free(&got);
  pair_close(&p);
}

/* The close frame the server sent after a fault: its status and reason. */
static void expect_close(int fd, unsigned status, const char *reason) {
  uint8_t buf[256];
  ssize_t k = read(fd, buf, sizeof buf);
  assert_true(k >= 4);
  assert_int_equal(buf[0], 0x88);
  size_t len = buf[1] & 0x7f;
  assert_int_equal((size_t)k, 2 + len);
  assert_int_equal((unsigned)buf[2] << 8 | buf[3], status);
  buf[k] = 0;
  assert_non_null(strstr((char *)buf + 4, reason));
}

/* The server reads frames (NULL: the peer shuts its side without a close frame) on a fresh
 * connection with max_message max and fails with code and a message containing msg; what was
 * read before the fault is not left in the message, and the opcode is 0 (st_err.h). A non-zero
 * close_status is the status of the close frame the server then sends, with msg in its reason. */
static void read_fails(size_t max, const st_buf *frames, st_code code, const char *msg, unsigned close_status,
                       st_err *err) {
  pair p;
  pair_open(&p, max);
  if (frames) write_raw(p.fds[1], frames);
  else shutdown(p.fds[1], SHUT_WR);
  st_buf got = ST_BUF_INIT;
  st_buf_puts(&got, "stale");
  int op = 7;
  assert_int_equal(st_ws_read_message(p.server, &got, &op, err), code);
  assert_non_null(strstr(err->msg, msg));
  assert_int_equal(got.len, 0);
  assert_int_equal(op, 0);
  if (close_status) expect_close(p.fds[1], close_status, msg);
  st_buf_free(&got);
  pair_close(&p);
}

static void test_faults(void **state) {
  (void)state;
  st_buf f = ST_BUF_INIT;
  st_err err;
  /* an unmasked client frame */
  st_ws_encode_frame(&f, true, ST_WS_OP_TEXT, "hi", 2, NULL);
  read_fails(0, &f, ST_EINVAL, "not masked", 1002, &err);
  assert_string_equal(err.msg, "WebSocket client frame is not masked");
  /* a message over the limit, even when each fragment is under it */
  static const uint8_t key[4] = {9, 8, 7, 6};
  st_buf_reset(&f);
  st_ws_encode_frame(&f, false, ST_WS_OP_TEXT, "123456", 6, key);
  st_ws_encode_frame(&f, true, ST_WS_OP_CONT, "789012", 6, key);
  read_fails(10, &f, ST_ERANGE, "more than 10 bytes", 1009, &err);
  assert_string_equal(err.msg, "WebSocket message of more than 10 bytes");
  /* a continuation with no message, and a fragmented ping */
  st_buf_reset(&f);
  st_ws_encode_frame(&f, true, ST_WS_OP_CONT, "x", 1, key);
  read_fails(0, &f, ST_EINVAL, "continuation frame without a message", 0, &err);
  st_buf_reset(&f);
  st_ws_encode_frame(&f, false, ST_WS_OP_PING, "x", 1, key);
  read_fails(0, &f, ST_EINVAL, "control frame is fragmented", 0, &err);
  /* the peer going away without a close frame */
  read_fails(0, NULL, ST_EIO, "ended without a close frame", 0, &err);
  st_buf_free(&f);
}

/* An address that does not parse is all zero with length 0; a server that cannot be reached
 * gives status 0 (st_err.h). */
static void test_http_failure_outs(void **state) {
  (void)state;
  static const char *const BAD[] = {"nope", "127.0.0.1:65536", "[zz]:1", "1.2.3:80"};
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    struct sockaddr_storage sa;
    unsigned salen = 7;
    st_err err;
    tu_poison(&sa, sizeof sa);
    assert_int_equal(st_http_parse_listen(BAD[i], &sa, &salen, &err), ST_EINVAL);
    tu_assert_zeroed(&sa, sizeof sa);
    assert_int_equal(salen, 0);
  }
  /* a port nobody listens on: bound, then closed */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof in;
  assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof in), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&in, &len), 0);
  close(fd);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)ntohs(in.sin_port));
  st_http_client *c;
  st_err err;
  assert_int_equal(st_http_client_new(url, NULL, &c, &err), ST_OK);
  long status = 200;
  st_buf resp = ST_BUF_INIT;
  assert_int_equal(st_http_call(c, "GET", "/health", NULL, 0, &status, &resp, &err), ST_EUNAVAIL);
  assert_int_equal(status, 0);
  st_buf_free(&resp);
  st_http_client_free(c);
  c = (st_http_client *)&status;
  assert_int_equal(st_http_client_new("ftp://x", NULL, &c, &err), ST_EINVAL);
  assert_null(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_accept_key),  cmocka_unit_test(test_encode_rfc_examples),
      cmocka_unit_test(test_round_trips), cmocka_unit_test(test_fragmented_ping_close),
      cmocka_unit_test(test_faults),      cmocka_unit_test(test_http_failure_outs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
