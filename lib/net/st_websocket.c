/* st_websocket: RFC 6455 framing, by hand (see the header for why). */
#include "net/st_websocket.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/st_encoding.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct st_ws_conn {
  int fd;
  bool server;
  size_t max_message;
  uint8_t *rbuf; /* bytes read ahead */
  size_t rpos, rlen, rcap;
  pthread_mutex_t wmu;
  bool close_sent;
};

st_code st_ws_accept_key(const char *client_key, char out[ST_WS_ACCEPT_LEN + 1], st_err *err) {
  memset(out, 0, ST_WS_ACCEPT_LEN + 1);
  size_t kl = client_key ? strlen(client_key) : 0;
  if (!kl || kl > 128) return st_err_set(err, ST_EINVAL, "Sec-WebSocket-Key is missing or longer than 128 characters");
  char text[128 + sizeof WS_GUID];
  memcpy(text, client_key, kl);
  memcpy(text + kl, WS_GUID, sizeof WS_GUID);
  uint8_t md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  if (!EVP_Digest(text, kl + sizeof WS_GUID - 1, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
    return st_err_set(err, ST_EINTERNAL, "SHA-1 of the WebSocket key failed");
  st_buf b = ST_BUF_INIT;
  st_base64_append(&b, md, mdlen, true);
  st_code code = st_buf_status(&b, err);
  if (!code && b.len != ST_WS_ACCEPT_LEN)
    code = st_err_set(err, ST_EINTERNAL, "base64 of the accept key has %zu characters", b.len);
  if (!code) memcpy(out, b.data, ST_WS_ACCEPT_LEN + 1);
  st_buf_free(&b);
  return code;
}

void st_ws_encode_frame(st_buf *out, bool fin, int opcode, const void *payload, size_t n, const uint8_t *mask) {
  uint8_t h[14];
  size_t hl = 2;
  h[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
  uint8_t mbit = mask ? 0x80 : 0;
  if (n < 126) h[1] = (uint8_t)(mbit | n);
  else if (n <= 0xffff) {
    h[1] = mbit | 126;
    h[2] = (uint8_t)(n >> 8);
    h[3] = (uint8_t)n;
    hl = 4;
  } else {
    h[1] = mbit | 127;
    for (int i = 0; i < 8; i++) h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    hl = 10;
  }
  if (mask) {
    memcpy(h + hl, mask, 4);
    hl += 4;
  }
  st_buf_append(out, h, hl);
  if (!n || !st_buf_reserve(out, n)) return;
  uint8_t *dst = out->data + out->len;
  memcpy(dst, payload, n);
  if (mask)
    for (size_t i = 0; i < n; i++) dst[i] ^= mask[i & 3];
  out->len += n;
  out->data[out->len] = 0;
}

st_ws_conn *st_ws_conn_new(int fd, bool server, size_t max_message, const void *extra, size_t extra_len) {
  st_ws_conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->fd = fd;
  c->server = server;
  c->max_message = max_message ? max_message : ST_WS_MAX_MESSAGE_DEFAULT;
  c->rcap = extra_len > 16384 ? extra_len : 16384;
  if (!(c->rbuf = malloc(c->rcap))) {
    free(c);
    return NULL;
  }
  if (extra_len) memcpy(c->rbuf, extra, extra_len);
  c->rlen = extra_len;
  pthread_mutex_init(&c->wmu, NULL);
  return c;
}

void st_ws_conn_free(st_ws_conn *c) {
  if (!c) return;
  pthread_mutex_destroy(&c->wmu);
  free(c->rbuf);
  free(c);
}

int st_ws_conn_fd(const st_ws_conn *c) { return c->fd; }

/* ---- writing ---- */

static bool write_all(int fd, const uint8_t *p, size_t n) {
  while (n) {
    ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= (size_t)k;
  }
  return true;
}

/* Sends one frame; the caller holds wmu. */
static st_code send_locked(st_ws_conn *c, bool fin, int opcode, const void *p, size_t n, st_err *err) {
  uint8_t mask[4];
  if (!c->server && RAND_bytes(mask, sizeof mask) != 1)
    return st_err_set(err, ST_EINTERNAL, "no random bytes for a WebSocket mask");
  st_buf f = ST_BUF_INIT;
  st_ws_encode_frame(&f, fin, opcode, p, n, c->server ? NULL : mask);
  st_code code = st_buf_status(&f, err);
  if (!code && !write_all(c->fd, f.data, f.len))
    code = st_err_set(err, ST_EIO, "WebSocket write failed: %s", strerror(errno));
  st_buf_free(&f);
  return code;
}

st_code st_ws_send(st_ws_conn *c, int opcode, const void *p, size_t n, st_err *err) {
  pthread_mutex_lock(&c->wmu);
  st_code code =
      c->close_sent ? st_err_set(err, ST_EIO, "WebSocket is closing") : send_locked(c, true, opcode, p, n, err);
  pthread_mutex_unlock(&c->wmu);
  return code;
}

st_code st_ws_close(st_ws_conn *c, uint16_t status, const char *reason, st_err *err) {
  uint8_t body[125];
  size_t rl = reason ? strlen(reason) : 0;
  if (rl > sizeof body - 2) rl = sizeof body - 2;
  body[0] = (uint8_t)(status >> 8);
  body[1] = (uint8_t)status;
  if (rl) memcpy(body + 2, reason, rl);
  pthread_mutex_lock(&c->wmu);
  st_code code = ST_OK;
  if (!c->close_sent) {
    c->close_sent = true;
    code = send_locked(c, true, ST_WS_OP_CLOSE, body, status ? 2 + rl : 0, err);
  }
  pthread_mutex_unlock(&c->wmu);
  return code;
}

/* ---- reading ---- */

static st_code read_exact(st_ws_conn *c, uint8_t *dst, size_t n, st_err *err) {
  while (n) {
    if (c->rpos < c->rlen) {
      size_t k = c->rlen - c->rpos < n ? c->rlen - c->rpos : n;
      memcpy(dst, c->rbuf + c->rpos, k);
      c->rpos += k;
      dst += k;
      n -= k;
      continue;
    }
    c->rpos = c->rlen = 0;
    if (n >= c->rcap) { /* a large payload: straight into place */
      ssize_t k = read(c->fd, dst, n);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0)
        return st_err_set(err, ST_EIO, "WebSocket connection %s", k ? strerror(errno) : "ended without a close frame");
      dst += k;
      n -= (size_t)k;
      continue;
    }
    ssize_t k = read(c->fd, c->rbuf, c->rcap);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0)
      return st_err_set(err, ST_EIO, "WebSocket connection %s", k ? strerror(errno) : "ended without a close frame");
    c->rlen = (size_t)k;
  }
  return ST_OK;
}

static st_code fault(st_ws_conn *c, st_code code, st_err *err) {
  st_ws_close(c, code == ST_ERANGE ? 1009 : 1002, err->msg, NULL);
  return code;
}

/* A control frame's payload (len <= 125, masked with mask): a ping is answered with a pong and
 * a close frame with a close frame (then ST_ENOENT); a pong is ignored. */
static st_code control_frame(st_ws_conn *c, int op, uint64_t len, const uint8_t mask[4], st_err *err) {
  uint8_t p[125];
  st_code code = read_exact(c, p, (size_t)len, err);
  if (code) return code;
  for (size_t i = 0; i < len; i++) p[i] ^= mask[i & 3];
  if (op == ST_WS_OP_PING) {
    pthread_mutex_lock(&c->wmu);
    if (!c->close_sent) send_locked(c, true, ST_WS_OP_PONG, p, (size_t)len, NULL);
    pthread_mutex_unlock(&c->wmu);
  } else if (op == ST_WS_OP_CLOSE) {
    unsigned status = len >= 2 ? (unsigned)p[0] << 8 | p[1] : 1005;
    st_ws_close(c, len >= 2 ? (uint16_t)status : 0, NULL, NULL);
    return st_err_set(err, ST_ENOENT, "WebSocket closed by the peer (status %u)", status);
  }
  return ST_OK;
}

static st_code read_message(st_ws_conn *c, st_buf *out, int *opcode, st_err *err) {
  bool in_message = false;
  for (;;) {
    uint8_t h[8];
    st_code code = read_exact(c, h, 2, err);
    if (code) return code;
    bool fin = h[0] & 0x80;
    int op = h[0] & 0x0f;
    bool masked = h[1] & 0x80;
    uint64_t len = h[1] & 0x7f;
    if (h[0] & 0x70)
      return fault(c, st_err_set(err, ST_EINVAL, "WebSocket frame sets a reserved bit (no extension was agreed)"), err);
    if (c->server && !masked) return fault(c, st_err_set(err, ST_EINVAL, "WebSocket client frame is not masked"), err);
    if (!c->server && masked) return fault(c, st_err_set(err, ST_EINVAL, "WebSocket server frame is masked"), err);
    if (len == 126) {
      if ((code = read_exact(c, h, 2, err))) return code;
      len = (uint64_t)h[0] << 8 | h[1];
    } else if (len == 127) {
      if ((code = read_exact(c, h, 8, err))) return code;
      len = 0;
      for (int i = 0; i < 8; i++) len = len << 8 | h[i];
      if (len >> 63) return fault(c, st_err_set(err, ST_EINVAL, "WebSocket frame length has its top bit set"), err);
    }
    uint8_t mask[4] = {0};
    if (masked && (code = read_exact(c, mask, 4, err))) return code;
    if (op & 0x8) {
      if (op != ST_WS_OP_CLOSE && op != ST_WS_OP_PING && op != ST_WS_OP_PONG)
        return fault(c, st_err_set(err, ST_EINVAL, "WebSocket frame has unknown opcode %d", op), err);
      if (!fin || len > 125)
        return fault(c, st_err_set(err, ST_EINVAL, "WebSocket control frame is fragmented or over 125 bytes"), err);
      if ((code = control_frame(c, op, len, mask, err))) return code;
      continue;
    }
    if (op == ST_WS_OP_CONT) {
      if (!in_message)
        return fault(c, st_err_set(err, ST_EINVAL, "WebSocket continuation frame without a message to continue"), err);
    } else if (op == ST_WS_OP_TEXT || op == ST_WS_OP_BINARY) {
      if (in_message)
        return fault(c, st_err_set(err, ST_EINVAL, "WebSocket data frame inside a fragmented message"), err);
      in_message = true;
      *opcode = op;
    } else {
      return fault(c, st_err_set(err, ST_EINVAL, "WebSocket frame has unknown opcode %d", op), err);
    }
    if (len > c->max_message || out->len + len > c->max_message)
      return fault(c, st_err_set(err, ST_ERANGE, "WebSocket message of more than %zu bytes", c->max_message), err);
    if (len) {
      if (!st_buf_reserve(out, (size_t)len))
        return fault(c, st_err_set(err, ST_ENOMEM, "out of memory reading a WebSocket message"), err);
      uint8_t *dst = out->data + out->len;
      if ((code = read_exact(c, dst, (size_t)len, err))) return code;
      if (masked)
        for (size_t i = 0; i < len; i++) dst[i] ^= mask[i & 3];
      out->len += (size_t)len;
      out->data[out->len] = 0;
    }
    if (fin) return ST_OK;
  }
}

st_code st_ws_read_message(st_ws_conn *c, st_buf *out, int *opcode, st_err *err) {
  st_buf_reset(out);
  *opcode = 0;
  st_code code = read_message(c, out, opcode, err);
  if (code) {
    st_buf_reset(out);
    *opcode = 0;
  }
  return code;
}
