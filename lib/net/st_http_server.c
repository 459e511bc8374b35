/* st_http_server: libmicrohttpd underneath, one whole request per handler call. */
#include "net/st_http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/st_json.h"

struct st_http_server {
  struct MHD_Daemon *mhd;
  st_http_handler handler;
  void *ctx;
  size_t max_body;
  uint16_t port;
};

/* What MHD keeps for one request between its calls. */
typedef struct pending {
  st_buf body;
  bool too_large;
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
  if (sa->sa_family == AF_INET) return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
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
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type ? resp->content_type : "application/json");
  if (resp->status == 401 && resp->www_authenticate) MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, resp->www_authenticate);
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **state) {
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
  enum MHD_Result ok = st_buf_status(&resp.body, NULL) ? send_error(conn, 500, "out of memory writing the response") : send_response(conn, &resp);
  st_buf_free(&resp.body);
  return ok;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state, enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)conn;
  (void)toe;
  pending *p = *state;
  if (!p) return;
  st_buf_free(&p->body);
  free(p);
  *state = NULL;
}

st_code st_http_parse_listen(const char *listen, struct sockaddr_storage *sa, unsigned *salen, st_err *err) {
  char host[128];
  const char *colon = strrchr(listen, ':');
  if (!colon || colon == listen) return st_err_set(err, ST_EINVAL, "listen address \"%.80s\" is not HOST:PORT (e.g. 127.0.0.1:3456)", listen);
  size_t hl = (size_t)(colon - listen);
  if (hl >= sizeof host) return st_err_set(err, ST_EINVAL, "listen address \"%.80s\": host is too long", listen);
  memcpy(host, listen, hl);
  host[hl] = 0;
  char *end;
  errno = 0;
  unsigned long port = strtoul(colon + 1, &end, 10);
  if (!colon[1] || *end || errno || port > 65535 || colon[1] == '-' || colon[1] == '+')
    return st_err_set(err, ST_EINVAL, "listen address \"%.80s\": port \"%.20s\" is not a number from 0 to 65535", listen, colon + 1);
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
    return st_err_set(err, ST_EINVAL, "listen address \"%.80s\": \"%s\" is not an IPv4 address (write IPv6 as [::1]:PORT)", listen, host);
  s4->sin_family = AF_INET;
  s4->sin_port = htons((uint16_t)port);
  *salen = sizeof *s4;
  return ST_OK;
}

st_code st_http_server_start(const st_http_server_opts *opts, st_http_handler handler, void *ctx, st_http_server **out, st_err *err) {
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
    return st_err_set(err, e == EADDRINUSE ? ST_EEXIST : ST_EIO, "could not listen on %s: %s", opts->listen, strerror(e));
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
  srv->max_body = opts->max_body ? opts->max_body : 1 << 20;
  srv->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)(void *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)(void *)&bound)->sin_port);
  /* a thread per connection: a handler that blocks (a database, a wait for the next tipset)
   * holds only its own connection, never the others a pool thread would also be serving */
  unsigned limit = opts->threads ? opts->threads * 16 : 64;
  if (limit < 64) limit = 64;
  srv->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_USE_ITC, 0, NULL, NULL,
                              on_request, srv, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, limit,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024, MHD_OPTION_END);
  if (!srv->mhd) {
    close(fd);
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
  MHD_stop_daemon(srv->mhd);
  if (fd != MHD_INVALID_SOCKET) close(fd);
  free(srv);
}
