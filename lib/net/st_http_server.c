/* st_http_server: libmicrohttpd underneath, one whole request per handler call. */
#include "net/st_http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/st_json.h"

/* One WebSocket session: from the upgrade until its thread ends. */
typedef struct ws_session {
  st_http_server *srv;
  void (*fn)(void *ctx, st_ws_conn *ws);
  void *ctx;
  size_t max_message;
  int fd;
  struct MHD_UpgradeResponseHandle *urh;
  char *extra;
  size_t extra_len;
  struct ws_session *next;
} ws_session;

struct st_http_server {
  struct MHD_Daemon *mhd;
  pthread_mutex_t mu; /* sessions, nsessions, stopping */
  pthread_cond_t cv;  /* signalled when a session ends */
  ws_session *sessions;
  size_t nsessions;
  bool stopping;
  st_http_handler handler;
  void *ctx;
  size_t max_body;
  uint16_t port;
};

/* What MHD keeps for one request between its calls. */
typedef struct pending {
  st_buf body;
  bool too_large;
  ws_session *ws; /* an upgrade queued but not yet begun */
} pending;

const char *st_http_query(const st_http_request *r, const char *key) {
  return MHD_lookup_connection_value((struct MHD_Connection *)r->conn_, MHD_GET_ARGUMENT_KIND, key);
}

const char *st_http_header(const st_http_request *r, const char *name) {
  return MHD_lookup_connection_value((struct MHD_Connection *)r->conn_, MHD_HEADER_KIND, name);
}

const char *st_http_bearer(const st_http_request *r) {
  const char *h = st_http_header(r, "Authorization");
  if (!h || strncasecmp(h, "Bearer ", 7)) return NULL;
  h += 7;
  while (*h == ' ') h++;
  return h;
}

void st_http_reply_json(st_http_response *resp, int status, json_t *v) {
  st_buf_reset(&resp->body);
  if (!v) { /* a value could not be built: out of memory, or text that is not UTF-8 */
    resp->status = 500;
    st_buf_puts(&resp->body, "{\"error\":\"the reply could not be encoded as JSON\"}\n");
    return;
  }
  resp->status = status;
  st_json_append(&resp->body, v);
  json_decref(v);
  st_buf_putc(&resp->body, '\n');
}

void st_http_reply_error(st_http_response *resp, int status, const char *fmt, ...) {
  char msg[ST_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_t *v = json_pack("{ss}", "error", msg);
  if (!v) { /* a message quoting bytes from the request that are not UTF-8: show them as '?' */
    for (char *p = msg; *p; p++)
      if ((unsigned char)*p >= 0x80) *p = '?';
    v = json_pack("{ss}", "error", msg);
  }
  st_http_reply_json(resp, status, v);
}

int st_http_status_for(st_code code) {
  switch (code) {
    case ST_OK: return 200;
    case ST_EINVAL:
    case ST_ERANGE: return 400;
    case ST_EPERM: return 401;
    case ST_ENOENT: return 404;
    case ST_EEXIST:
    case ST_ECONFLICT: return 409;
    case ST_EUNAVAIL: return 503;
    default: return 500;
  }
}

static bool peer_is_loopback(struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (!info || !info->client_addr) return false;
  const struct sockaddr *sa = info->client_addr;
  if (sa->sa_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
  if (sa->sa_family == AF_INET6) {
    const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(a)) return true;
    return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
  }
  return false;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, st_http_response *resp) {
  const char *text = st_buf_cstr(&resp->body);
  struct MHD_Response *r = MHD_create_response_from_buffer(resp->body.len, (void *)text, MHD_RESPMEM_MUST_COPY);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                          resp->content_type ? resp->content_type : "application/json");
  if (resp->status == 401 && resp->www_authenticate)
    MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, resp->www_authenticate);
  enum MHD_Result ok = MHD_queue_response(conn, (unsigned)resp->status, r);
  MHD_destroy_response(r);
  return ok;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, int status, const char *msg) {
  st_http_response resp = {.status = status};
  st_buf_init(&resp.body);
  st_http_reply_error(&resp, status, "%s", msg);
  enum MHD_Result ok = send_response(conn, &resp);
  st_buf_free(&resp.body);
  return ok;
}

/* ---- WebSocket sessions ---- */

static void *ws_thread(void *arg) {
  ws_session *s = arg;
  st_http_server *srv = s->srv;
  st_ws_conn *ws = st_ws_conn_new(s->fd, true, s->max_message, s->extra, s->extra_len);
  free(s->extra);
  s->extra = NULL;
  s->fn(s->ctx, ws);
  if (ws) st_ws_conn_free(ws);
  MHD_upgrade_action(s->urh, MHD_UPGRADE_ACTION_CLOSE);
  pthread_mutex_lock(&srv->mu);
  for (ws_session **pp = &srv->sessions; *pp; pp = &(*pp)->next)
    if (*pp == s) {
      *pp = s->next;
      break;
    }
  srv->nsessions--;
  pthread_cond_broadcast(&srv->cv);
  pthread_mutex_unlock(&srv->mu);
  free(s);
  return NULL;
}

/* libmicrohttpd has sent the 101: the socket is ours until MHD_UPGRADE_ACTION_CLOSE. */
static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
                       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh) {
  (void)conn;
  ws_session *s = cls;
  pending *p = con_cls;
  if (p && p->ws == s) p->ws = NULL; /* the session owns itself now */
  st_http_server *srv = s->srv;
  s->fd = sock;
  s->urh = urh;
  if (extra_in_size && (s->extra = malloc(extra_in_size))) {
    memcpy(s->extra, extra_in, extra_in_size);
    s->extra_len = extra_in_size;
  }
  /* blocking reads and writes; a peer that stops reading fails a write after 10 s */
  int fl = fcntl(sock, F_GETFL);
  if (fl >= 0) fcntl(sock, F_SETFL, fl & ~O_NONBLOCK);
  struct timeval tv = {10, 0};
  setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  pthread_mutex_lock(&srv->mu);
  bool start = !srv->stopping;
  pthread_t th;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (start && pthread_create(&th, &attr, ws_thread, s)) start = false;
  pthread_attr_destroy(&attr);
  if (start) {
    s->next = srv->sessions;
    srv->sessions = s;
    srv->nsessions++;
  }
  pthread_mutex_unlock(&srv->mu);
  if (!start) {
    s->fn(s->ctx, NULL);
    free(s->extra);
    free(s);
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
  }
}

/* Answers an upgrade the handler asked for: 101 with the accept key, or 400 (fn gets NULL). */
static enum MHD_Result send_upgrade(st_http_server *srv, struct MHD_Connection *conn, pending *p,
                                    st_http_response *resp) {
  const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
  const char *ver = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Version");
  char accept[ST_WS_ACCEPT_LEN + 1];
  st_err e;
  const char *why = NULL;
  if (!ver || strcmp(ver, "13")) why = "a WebSocket upgrade needs Sec-WebSocket-Version: 13";
  else if (st_ws_accept_key(key, accept, &e)) why = "a WebSocket upgrade needs a Sec-WebSocket-Key";
  ws_session *s = why ? NULL : calloc(1, sizeof *s);
  if (!s) {
    resp->websocket(resp->websocket_ctx, NULL);
    return send_error(conn, why ? 400 : 500, why ? why : "out of memory starting a WebSocket session");
  }
  *s = (ws_session){.srv = srv,
                    .fn = resp->websocket,
                    .ctx = resp->websocket_ctx,
                    .max_message = resp->websocket_max_message,
                    .fd = -1};
  struct MHD_Response *r = MHD_create_response_for_upgrade(on_upgrade, s);
  if (!r) {
    free(s);
    resp->websocket(resp->websocket_ctx, NULL);
    return MHD_NO;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_UPGRADE, "websocket");
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "Upgrade");
  MHD_add_response_header(r, "Sec-WebSocket-Accept", accept);
  p->ws = s; /* until on_upgrade takes it; on_completed frees it if the 101 never went out */
  enum MHD_Result ok = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, r);
  MHD_destroy_response(r);
  if (ok != MHD_YES && p->ws == s) {
    p->ws = NULL;
    free(s);
    resp->websocket(resp->websocket_ctx, NULL);
  }
  return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **state) {
  (void)version;
  st_http_server *srv = cls;
  pending *p = *state;
  if (!p) {
    /* first call: headers only. Refuse an announced oversized body before reading it. */
    const char *len = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (len && strtoull(len, NULL, 10) > srv->max_body) {
      char msg[128];
      snprintf(msg, sizeof msg, "request body of %s bytes is larger than the limit of %zu bytes", len, srv->max_body);
      return send_error(conn, 413, msg);
    }
    if (!(p = calloc(1, sizeof *p))) return MHD_NO;
    st_buf_init(&p->body);
    *state = p;
    return MHD_YES;
  }
  if (*upload_size) {
    if (p->body.len + *upload_size > srv->max_body) p->too_large = true;
    else st_buf_append(&p->body, upload, *upload_size);
    *upload_size = 0;
    return MHD_YES;
  }
  if (p->too_large) {
    char msg[128];
    snprintf(msg, sizeof msg, "request body is larger than the limit of %zu bytes", srv->max_body);
    return send_error(conn, 413, msg);
  }
  if (st_buf_status(&p->body, NULL)) return send_error(conn, 500, "out of memory reading the request body");
  st_http_request req = {method, url, p->body.data, p->body.len, peer_is_loopback(conn), conn};
  st_http_response resp = {.status = 200};
  st_buf_init(&resp.body);
  srv->handler(srv->ctx, &req, &resp);
  if (resp.websocket) {
    enum MHD_Result up = send_upgrade(srv, conn, p, &resp);
    st_buf_free(&resp.body);
    return up;
  }
  enum MHD_Result ok = st_buf_status(&resp.body, NULL) ? send_error(conn, 500, "out of memory writing the response")
                                                       : send_response(conn, &resp);
  st_buf_free(&resp.body);
  return ok;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state, enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)conn;
  (void)toe;
  pending *p = *state;
  if (!p) return;
  if (p->ws) { /* an upgrade that never happened */
    p->ws->fn(p->ws->ctx, NULL);
    free(p->ws);
  }
  st_buf_free(&p->body);
  free(p);
  *state = NULL;
}

static st_code parse_listen(const char *listen, struct sockaddr_storage *sa, unsigned *salen, st_err *err) {
  char host[128];
  const char *colon = strrchr(listen, ':');
  if (!colon || colon == listen)
    return st_err_set(err, ST_EINVAL, "listen address \"%.80s\" is not HOST:PORT (e.g. 127.0.0.1:3456)", listen);
  size_t hl = (size_t)(colon - listen);
  if (hl >= sizeof host) return st_err_set(err, ST_EINVAL, "listen address \"%.80s\": host is too long", listen);
  memcpy(host, listen, hl);
  host[hl] = 0;
  char *end;
  errno = 0;
  unsigned long port = strtoul(colon + 1, &end, 10);
  if (!colon[1] || *end || errno || port > 65535 || colon[1] == '-' || colon[1] == '+')
    return st_err_set(err, ST_EINVAL, "listen address \"%.80s\": port \"%.20s\" is not a number from 0 to 65535",
                      listen, colon + 1);
  memset(sa, 0, sizeof *sa);
  if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
    host[hl - 1] = 0;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)sa;
    if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
      return st_err_set(err, ST_EINVAL, "listen address \"%.80s\": \"%s\" is not an IPv6 address", listen, host + 1);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    *salen = sizeof *s6;
    return ST_OK;
  }
  struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)sa;
  if (!strcmp(host, "localhost")) snprintf(host, sizeof host, "127.0.0.1");
  if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
    return st_err_set(err, ST_EINVAL,
                      "listen address \"%.80s\": \"%s\" is not an IPv4 address (write IPv6 as [::1]:PORT)", listen,
                      host);
  s4->sin_family = AF_INET;
  s4->sin_port = htons((uint16_t)port);
  *salen = sizeof *s4;
  return ST_OK;
}

st_code st_http_parse_listen(const char *listen, struct sockaddr_storage *sa, unsigned *salen, st_err *err) {
  st_code rc = parse_listen(listen, sa, salen, err);
  if (rc) {
    memset(sa, 0, sizeof *sa);
    *salen = 0;
  }
  return rc;
}

st_code st_http_server_start(const st_http_server_opts *opts, st_http_handler handler, void *ctx, st_http_server **out,
                             st_err *err) {
  *out = NULL;
  struct sockaddr_storage sa;
  unsigned salen = 0;
  st_code code = st_http_parse_listen(opts->listen, &sa, &salen, err);
  if (code) return code;
  int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return st_err_set(err, ST_EIO, "could not create a socket: %s", strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (sa.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&sa, salen) || listen(fd, 256)) {
    int e = errno;
    close(fd);
    return st_err_set(err, e == EADDRINUSE ? ST_EEXIST : ST_EIO, "could not listen on %s: %s", opts->listen,
                      strerror(e));
  }
  struct sockaddr_storage bound;
  socklen_t blen = sizeof bound;
  getsockname(fd, (struct sockaddr *)&bound, &blen);
  st_http_server *srv = calloc(1, sizeof *srv);
  if (!srv) {
    close(fd);
    return st_err_set(err, ST_ENOMEM, "out of memory starting the HTTP server");
  }
  srv->handler = handler;
  srv->ctx = ctx;
  pthread_mutex_init(&srv->mu, NULL);
  pthread_cond_init(&srv->cv, NULL);
  srv->max_body = opts->max_body ? opts->max_body : 1 << 20;
  srv->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)(void *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)(void *)&bound)->sin_port);
  /* a thread per connection: a handler that blocks (a database, a wait for the next tipset)
   * holds only its own connection, never the others a pool thread would also be serving */
  unsigned limit = opts->threads ? opts->threads * 16 : 64;
  if (limit < 64) limit = 64;
  srv->mhd = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_USE_ITC | MHD_ALLOW_UPGRADE,
      0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, limit,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024, MHD_OPTION_END);
  if (!srv->mhd) {
    close(fd);
    pthread_mutex_destroy(&srv->mu);
    pthread_cond_destroy(&srv->cv);
    free(srv);
    return st_err_set(err, ST_EINTERNAL, "libmicrohttpd could not start on %s", opts->listen);
  }
  *out = srv;
  return ST_OK;
}

uint16_t st_http_server_port(const st_http_server *srv) { return srv->port; }

void st_http_server_stop(st_http_server *srv) {
  if (!srv) return;
  MHD_socket fd = MHD_quiesce_daemon(srv->mhd);
  /* end the WebSocket sessions: their reads fail, their threads finish and close */
  pthread_mutex_lock(&srv->mu);
  srv->stopping = true;
  for (ws_session *s = srv->sessions; s; s = s->next) shutdown(s->fd, SHUT_RDWR);
  while (srv->nsessions) pthread_cond_wait(&srv->cv, &srv->mu);
  pthread_mutex_unlock(&srv->mu);
  MHD_stop_daemon(srv->mhd);
  if (fd != MHD_INVALID_SOCKET) close(fd);
  pthread_mutex_destroy(&srv->mu);
  pthread_cond_destroy(&srv->cv);
  free(srv);
}
