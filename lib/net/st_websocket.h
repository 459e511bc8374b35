/* st_websocket: the WebSocket protocol (RFC 6455) over a connected socket, written by hand.
 *
 * Why by hand: Debian's libmicrohttpd (0.9.75) is built without its experimental
 * libmicrohttpd_ws framing library, and no other WebSocket library is among the project's
 * dependencies. libmicrohttpd still does the HTTP side: st_http_server answers the upgrade
 * request with 101 and hands over the socket (MHD_ALLOW_UPGRADE); this module does the rest:
 * the handshake's accept key, and reading and writing frames.
 *
 * A connection is a server's (it reads masked frames and writes unmasked ones, as RFC 6455
 * requires) or a client's (the opposite; used by the tests). Reading assembles whole messages:
 * text or binary frames with their continuations, up to max_message bytes; a ping in between is
 * answered with a pong, a pong is ignored, and a close frame is answered with a close frame.
 * A protocol fault (an unmasked client frame, a reserved bit, a bad opcode, a fragmented or long
 * control frame, a continuation with no message) is answered with close 1002 and a too large
 * message with close 1009. Text is not checked for UTF-8 here (the JSON parser does that).
 *
 * Threads: one thread reads; any thread may send. Sends hold a write lock, so frames from
 * different threads never interleave. Writes use MSG_NOSIGNAL (no SIGPIPE).
 *
 * Every out is initialised on return, success or not (st_err.h): a failed read leaves its
 * message empty and its opcode 0, a failed accept key is all NULs. st_ws_encode_frame appends. */
#ifndef ST_WEBSOCKET_H
#define ST_WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/st_buf.h"
#include "core/st_err.h"

#define ST_WS_OP_CONT 0x0
#define ST_WS_OP_TEXT 0x1
#define ST_WS_OP_BINARY 0x2
#define ST_WS_OP_CLOSE 0x8
#define ST_WS_OP_PING 0x9
#define ST_WS_OP_PONG 0xa

#define ST_WS_MAX_MESSAGE_DEFAULT ((size_t)64 << 20)
#define ST_WS_ACCEPT_LEN 28 /* base64 of a SHA-1 digest */

/* Sec-WebSocket-Accept for a client's Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)).
 * out gets ST_WS_ACCEPT_LEN characters and a NUL. */
st_code st_ws_accept_key(const char *client_key, char out[ST_WS_ACCEPT_LEN + 1], st_err *err);

/* Appends one frame: header, then the payload, masked with mask (4 bytes) when mask is given. */
void st_ws_encode_frame(st_buf *out, bool fin, int opcode, const void *payload, size_t n, const uint8_t *mask);

typedef struct st_ws_conn st_ws_conn;

/* A connection over fd (not closed by st_ws_conn_free). extra holds bytes already read from fd
 * (libmicrohttpd's extra_in). max_message 0 means ST_WS_MAX_MESSAGE_DEFAULT. NULL: out of memory. */
st_ws_conn *st_ws_conn_new(int fd, bool server, size_t max_message, const void *extra, size_t extra_len);
void st_ws_conn_free(st_ws_conn *c);
int st_ws_conn_fd(const st_ws_conn *c);

/* Reads the next whole message into out (reset first; empty on failure) and its opcode (text or
 * binary; 0 on failure).
 * ST_ENOENT: the peer closed (a close frame, answered); ST_EIO: the connection broke (or ended
 * without a close frame); ST_EINVAL: a protocol fault; ST_ERANGE: a message over max_message.
 * After any error the connection is done. */
st_code st_ws_read_message(st_ws_conn *c, st_buf *out, int *opcode, st_err *err);

/* Sends one unfragmented frame (masked if a client's). */
st_code st_ws_send(st_ws_conn *c, int opcode, const void *p, size_t n, st_err *err);
static inline st_code st_ws_send_text(st_ws_conn *c, const char *p, size_t n, st_err *err) {
  return st_ws_send(c, ST_WS_OP_TEXT, p, n, err);
}
/* Sends a close frame with a status code and reason (once; later calls do nothing). */
st_code st_ws_close(st_ws_conn *c, uint16_t code, const char *reason, st_err *err);

#endif
