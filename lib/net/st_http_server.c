/* st_http_server: libmicrohttpd's epoll loop for the sockets, handlers on its threads or on a
 * worker pool, and a keeper thread that times connections by their progress and watches parked
 * requests. */
#include "net/st_http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/st_clock.h"
#include "core/st_json.h"

#define IO_THREADS 2u
#define KEEPER_TICK_MS 100

/* Where a connection is in its request, for the keeper's timeouts. */
enum { PH_HEAD, PH_BODY, PH_HANDLING, PH_SENDING };

/* One connection (libmicrohttpd's socket context), from accept to close. */
typedef struct conn_info {
  struct conn_info *prev, *next;
  int fd;
  int phase;
  int64_t since_ms;
  bool upgraded; /* a WebSocket session owns the socket: no timeouts */
  bool shut;     /* the keeper has shut it down */
  bool loopback;
  struct sockaddr_storage addr;
  char peer[48];
} conn_info;

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

struct st_http_later {
  st_http_server *srv;
  struct pending *p;
  int fd;
  bool gone;
  bool replied;
  int refs; /* the keeper's, while it polls the socket */
  struct st_http_later *prev, *next;
};

/* One request, between libmicrohttpd's calls (its con_cls). */
enum { P_READING, P_RUNNING, P_PARKED, P_READY };
typedef struct pending {
  st_http_server *srv;
  struct MHD_Connection *conn;
  conn_info *ci;
  const char *method, *url; /* libmicrohttpd's, valid for the request */
  st_buf body;
  size_t limit;
  bool large; /* holds one of the server's large_unauth places */
  int state;
  bool handler_done;
  bool parked;                /* the handler called st_http_answer_later: the reply comes from it */
  st_http_later *later;       /* until st_http_later_reply */
  unsigned status;            /* P_READY: the reply */
  struct MHD_Response *mresp; /* P_READY: NULL closes the connection */
  st_http_response upgrade;   /* P_READY with upgrade.websocket: answer the upgrade */
  ws_session *ws;             /* an upgrade queued but not yet begun */
  struct pending *qnext;
} pending;

struct st_http_server {
  struct MHD_Daemon *mhd;
  st_http_handler handler;
  void *ctx;
  st_http_admit_fn admit;
  size_t max_body, max_body_unauth;
  unsigned per_address, max_sessions;
  unsigned large_unauth, nlarge; /* places for large bodies without a token, and those taken */
  int64_t header_ms, body_ms, send_ms;
  uint16_t port;

  pthread_mutex_t mu; /* everything below */
  pthread_cond_t cv;  /* a session or a parked request ended; the queue has room */
  pthread_cond_t qcv; /* the queue has a job, or the workers should quit */
  bool stopping, workers_quit, keeper_quit;
  conn_info *conns;
  size_t nconns;
  pending *qhead, *qtail;
  unsigned dispatching; /* requests between their check of stopping and the queue */
  st_http_later *laters;
  size_t nlaters;
  ws_session *sessions;
  size_t nsessions;
  uint64_t timed_out, refused;
  pthread_t *workers;
  unsigned nworkers;
  pthread_t keeper;
  bool keeper_started;
  bool inline_handlers;
};

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

static bool addr_is_loopback(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
  if (sa->sa_family == AF_INET6) {
    const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(a)) return true;
    return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
  }
  return false;
}

static bool same_host(const struct sockaddr *a, const struct sockaddr_storage *b) {
  if (a->sa_family != b->ss_family) return false;
  if (a->sa_family == AF_INET)
    return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
           ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
  if (a->sa_family == AF_INET6)
    return !memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
                   &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr, sizeof(struct in6_addr));
  return false;
}

static struct MHD_Response *with_headers(struct MHD_Response *r, int status, const char *content_type,
                                         const char *www_authenticate) {
  if (!r) return NULL;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type ? content_type : "application/json");
  if (status == 401 && www_authenticate) MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, www_authenticate);
  return r;
}

static struct MHD_Response *make_response(int status, const char *content_type, const char *www_authenticate,
                                          const void *body, size_t len) {
  return with_headers(MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY), status, content_type,
                      www_authenticate);
}

/* The same, taking the body's memory rather than copying it (a large reply is held once). */
static struct MHD_Response *take_response(int status, const char *content_type, const char *www_authenticate,
                                          st_buf *body) {
  if (!body->len) return make_response(status, content_type, www_authenticate, "", 0);
  size_t len;
  uint8_t *data = st_buf_take(body, &len);
  struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
  if (!r) free(data);
  return with_headers(r, status, content_type, www_authenticate);
}

/* Gives back a large_unauth place. */
static void release_large(st_http_server *srv) {
  pthread_mutex_lock(&srv->mu);
  srv->nlarge--;
  pthread_mutex_unlock(&srv->mu);
}

static void count_refused(st_http_server *srv) {
  pthread_mutex_lock(&srv->mu);
  srv->refused++;
  pthread_mutex_unlock(&srv->mu);
}

static void set_phase(st_http_server *srv, conn_info *ci, int phase) {
  pthread_mutex_lock(&srv->mu);
  ci->phase = phase;
  ci->since_ms = st_clock_ms();
  pthread_mutex_unlock(&srv->mu);
}

static enum MHD_Result queue(struct MHD_Connection *conn, conn_info *ci, st_http_server *srv, unsigned status,
                             struct MHD_Response *r) {
  if (!r) return MHD_NO;
  if (ci) set_phase(srv, ci, PH_SENDING);
  enum MHD_Result ok = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return ok;
}

static enum MHD_Result send_error(st_http_server *srv, struct MHD_Connection *conn, conn_info *ci, int status,
                                  const char *msg) {
  st_http_response resp = {.status = status};
  st_buf_init(&resp.body);
  st_http_reply_error(&resp, status, "%s", msg);
  struct MHD_Response *r = make_response(resp.status, NULL, NULL, st_buf_cstr(&resp.body), resp.body.len);
  st_buf_free(&resp.body);
  return queue(conn, ci, srv, (unsigned)status, r);
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
  pthread_mutex_lock(&srv->mu);
  bool full = srv->nsessions >= srv->max_sessions;
  pthread_mutex_unlock(&srv->mu);
  if (full) {
    resp->websocket(resp->websocket_ctx, NULL);
    char msg[96];
    snprintf(msg, sizeof msg, "%u WebSocket sessions are open already: try again later", srv->max_sessions);
    return send_error(srv, conn, p->ci, 503, msg);
  }
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
    return send_error(srv, conn, p->ci, why ? 400 : 500, why ? why : "out of memory starting a WebSocket session");
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
  pthread_mutex_lock(&srv->mu);
  if (p->ci) p->ci->upgraded = true; /* the session's thread times its socket from now on */
  pthread_mutex_unlock(&srv->mu);
  enum MHD_Result ok = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, r);
  MHD_destroy_response(r);
  if (ok != MHD_YES && p->ws == s) {
    p->ws = NULL;
    free(s);
    resp->websocket(resp->websocket_ctx, NULL);
  }
  return ok;
}

/* ---- connections ---- */

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen) {
  (void)addrlen;
  st_http_server *srv = cls;
  pthread_mutex_lock(&srv->mu);
  bool ok = !srv->stopping;
  if (ok && !addr_is_loopback(addr)) {
    unsigned n = 0;
    for (conn_info *ci = srv->conns; ci && n < srv->per_address; ci = ci->next)
      if (same_host(addr, &ci->addr)) n++;
    if (n >= srv->per_address) srv->refused++;
    ok = n < srv->per_address;
  }
  pthread_mutex_unlock(&srv->mu);
  return ok ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
  st_http_server *srv = cls;
  conn_info *ci = *socket_context;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    if (!(ci = calloc(1, sizeof *ci))) return; /* untracked: libmicrohttpd's idle timeout still applies */
    const union MHD_ConnectionInfo *fi = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *ai = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    ci->fd = fi ? fi->connect_fd : -1;
    if (ai && ai->client_addr) {
      const struct sockaddr *sa = ai->client_addr;
      size_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
      memcpy(&ci->addr, sa, len);
      ci->loopback = addr_is_loopback(sa);
      const void *bytes = sa->sa_family == AF_INET6
                              ? (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr
                              : (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
      if (!inet_ntop(sa->sa_family, bytes, ci->peer, sizeof ci->peer)) ci->peer[0] = 0;
    }
    ci->phase = PH_HEAD;
    ci->since_ms = st_clock_ms();
    pthread_mutex_lock(&srv->mu);
    ci->next = srv->conns;
    if (srv->conns) srv->conns->prev = ci;
    srv->conns = ci;
    srv->nconns++;
    pthread_mutex_unlock(&srv->mu);
    *socket_context = ci;
    return;
  }
  if (!ci) return;
  /* closed: libmicrohttpd closes the socket after this returns, so the keeper, which shuts
   * sockets down only under mu and only those still listed, never touches a reused one */
  pthread_mutex_lock(&srv->mu);
  if (ci->prev) ci->prev->next = ci->next;
  else srv->conns = ci->next;
  if (ci->next) ci->next->prev = ci->prev;
  srv->nconns--;
  pthread_mutex_unlock(&srv->mu);
  free(ci);
  *socket_context = NULL;
}

static conn_info *conn_of(struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *i = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return i ? i->socket_context : NULL;
}

static st_http_request request_of(pending *p) {
  st_http_request r = {.method = p->method,
                       .path = p->url,
                       .body = p->body.data,
                       .body_len = p->body.len,
                       .conn_ = p->conn,
                       .pending_ = p};
  if (p->ci) {
    r.loopback = p->ci->loopback;
    snprintf(r.peer, sizeof r.peer, "%s", p->ci->peer);
  }
  return r;
}

/* ---- handlers: on a worker, or on the I/O thread (run_inline) ---- */

/* Runs the handler and keeps its answer in p. true when p is ready to answer (its reply or
 * upgrade, or a parked request's reply that came already); false when it is parked. mark_done:
 * set handler_done now (a worker; an I/O thread sets it only once the connection is suspended). */
static bool run_handler(st_http_server *srv, pending *p, bool mark_done) {
  st_http_request req = request_of(p);
  st_http_response resp = {.status = 200};
  st_buf_init(&resp.body);
  srv->handler(srv->ctx, &req, &resp);
  struct MHD_Response *r = NULL;
  bool upgrade = resp.websocket != NULL;
  pthread_mutex_lock(&srv->mu);
  bool parked = p->parked;
  pthread_mutex_unlock(&srv->mu);
  if (!parked && !upgrade) {
    if (st_buf_status(&resp.body, NULL)) {
      st_buf_reset(&resp.body);
      st_http_reply_error(&resp, 500, "out of memory writing the response");
    }
    r = take_response(resp.status, resp.content_type, resp.www_authenticate, &resp.body);
  }
  st_buf_free(&resp.body);
  pthread_mutex_lock(&srv->mu);
  if (mark_done) p->handler_done = true;
  if (!parked) {
    p->state = P_READY;
    p->status = (unsigned)resp.status;
    p->mresp = r;
    if (upgrade) p->upgrade = resp;
  }
  bool ready = p->state == P_READY; /* a parked request may have been answered already */
  if (!ready) p->state = P_PARKED;
  pthread_mutex_unlock(&srv->mu);
  return ready;
}

static void run_job(st_http_server *srv, pending *p) {
  if (run_handler(srv, p, true)) MHD_resume_connection(p->conn);
}

static void *worker_main(void *arg) {
  st_http_server *srv = arg;
  pthread_mutex_lock(&srv->mu);
  for (;;) {
    while (!srv->qhead && !(srv->workers_quit && !srv->dispatching)) pthread_cond_wait(&srv->qcv, &srv->mu);
    pending *p = srv->qhead;
    if (!p) break;
    srv->qhead = p->qnext;
    if (!srv->qhead) srv->qtail = NULL;
    pthread_mutex_unlock(&srv->mu);
    run_job(srv, p);
    pthread_mutex_lock(&srv->mu);
  }
  pthread_mutex_unlock(&srv->mu);
  return NULL;
}

/* Sends what the handler left in p: its reply, or the upgrade it asked for. */
static enum MHD_Result answer(st_http_server *srv, struct MHD_Connection *conn, pending *p) {
  if (p->upgrade.websocket) {
    st_http_response up = p->upgrade;
    p->upgrade.websocket = NULL;
    return send_upgrade(srv, conn, p, &up);
  }
  struct MHD_Response *r = p->mresp;
  p->mresp = NULL;
  return queue(conn, p->ci, srv, p->status, r);
}

/* The handler on this I/O thread: answered at once, or parked (suspended until its reply). */
static enum MHD_Result run_inline(st_http_server *srv, struct MHD_Connection *conn, pending *p) {
  if (run_handler(srv, p, false)) return answer(srv, conn, p);
  MHD_suspend_connection(conn); /* before the reply may resume it: it resumes only once done is set */
  pthread_mutex_lock(&srv->mu);
  p->handler_done = true;
  bool ready = p->state == P_READY;
  pthread_mutex_unlock(&srv->mu);
  if (ready) MHD_resume_connection(conn);
  return MHD_YES;
}

/* The request is whole: suspend its connection and hand it to a worker. */
static enum MHD_Result dispatch(st_http_server *srv, struct MHD_Connection *conn, pending *p) {
  if (srv->inline_handlers) {
    if (p->ci) set_phase(srv, p->ci, PH_HANDLING);
    p->state = P_RUNNING;
    return run_inline(srv, conn, p);
  }
  pthread_mutex_lock(&srv->mu);
  bool stopping = srv->stopping;
  if (!stopping) srv->dispatching++;
  if (p->ci) {
    p->ci->phase = PH_HANDLING;
    p->ci->since_ms = st_clock_ms();
  }
  pthread_mutex_unlock(&srv->mu);
  if (stopping) return send_error(srv, conn, p->ci, 503, "the server is stopping");
  p->state = P_RUNNING;
  MHD_suspend_connection(conn); /* before a worker can resume it */
  pthread_mutex_lock(&srv->mu);
  if (srv->qtail) srv->qtail->qnext = p;
  else srv->qhead = p;
  srv->qtail = p;
  srv->dispatching--;
  /* once quitting, every idle worker waits for dispatching to reach 0: wake them all */
  if (srv->workers_quit) pthread_cond_broadcast(&srv->qcv);
  else pthread_cond_signal(&srv->qcv);
  pthread_mutex_unlock(&srv->mu);
  return MHD_YES;
}

/* ---- parked requests ---- */

st_http_later *st_http_answer_later(const st_http_request *req) {
  pending *p = req->pending_;
  st_http_server *srv = p->srv;
  st_http_later *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  pthread_mutex_lock(&srv->mu);
  if (srv->stopping || p->parked) {
    pthread_mutex_unlock(&srv->mu);
    free(l);
    return NULL;
  }
  *l = (st_http_later){.srv = srv, .p = p, .fd = p->ci ? p->ci->fd : -1, .next = srv->laters};
  if (srv->laters) srv->laters->prev = l;
  srv->laters = l;
  srv->nlaters++;
  p->later = l;
  p->parked = true;
  pthread_mutex_unlock(&srv->mu);
  return l;
}

bool st_http_later_gone(st_http_later *l) {
  pthread_mutex_lock(&l->srv->mu);
  bool gone = l->gone;
  pthread_mutex_unlock(&l->srv->mu);
  return gone;
}

void st_http_later_reply(st_http_later *l, int status, const char *content_type, const void *body, size_t len) {
  st_http_server *srv = l->srv;
  pending *p = l->p;
  struct MHD_Response *r = make_response(status, content_type, NULL, body, len);
  pthread_mutex_lock(&srv->mu);
  if (l->prev) l->prev->next = l->next;
  else srv->laters = l->next;
  if (l->next) l->next->prev = l->prev;
  srv->nlaters--;
  l->replied = true;
  bool free_it = !l->refs;
  p->later = NULL;
  p->status = (unsigned)status;
  p->mresp = r;
  bool resume = p->handler_done;
  p->state = P_READY;
  pthread_cond_broadcast(&srv->cv);
  pthread_mutex_unlock(&srv->mu);
  if (resume) MHD_resume_connection(p->conn);
  if (free_it) free(l);
}

/* ---- the keeper: timeouts by progress, and hang-ups of parked requests ---- */

static void keep_time(st_http_server *srv, int64_t now) {
  for (conn_info *ci = srv->conns; ci; ci = ci->next) {
    if (ci->upgraded || ci->shut || ci->fd < 0) continue;
    int64_t limit = ci->phase == PH_HEAD      ? srv->header_ms
                    : ci->phase == PH_BODY    ? srv->body_ms
                    : ci->phase == PH_SENDING ? srv->send_ms
                                              : 0;
    if (!limit || now - ci->since_ms <= limit) continue;
    shutdown(ci->fd, SHUT_RDWR); /* libmicrohttpd sees the end and closes it */
    ci->shut = true;
    srv->timed_out++;
  }
}

static void *keeper_main(void *arg) {
  st_http_server *srv = arg;
  size_t cap = 0;
  struct pollfd *pfd = NULL;
  st_http_later **ls = NULL;
  pthread_mutex_lock(&srv->mu);
  while (!srv->keeper_quit) {
    keep_time(srv, st_clock_ms());
    if (srv->nlaters > cap) {
      size_t want = srv->nlaters * 2;
      struct pollfd *np = realloc(pfd, want * sizeof *np);
      if (np) pfd = np;
      st_http_later **nl = realloc(ls, want * sizeof *nl);
      if (nl) ls = nl;
      if (np && nl) cap = want;
    }
    size_t n = 0;
    for (st_http_later *l = srv->laters; l && n < cap; l = l->next)
      if (!l->gone && l->fd >= 0) {
        l->refs++;
        ls[n] = l;
        pfd[n] = (struct pollfd){.fd = l->fd, .events = POLLRDHUP};
        n++;
      }
    pthread_mutex_unlock(&srv->mu);
    if (poll(n ? pfd : NULL, n, KEEPER_TICK_MS) < 0) /* EINTR: look again next tick */
      for (size_t i = 0; i < n; i++) pfd[i].revents = 0;
    pthread_mutex_lock(&srv->mu);
    for (size_t i = 0; i < n; i++) {
      st_http_later *l = ls[i];
      if (!l->replied && (pfd[i].revents & (POLLRDHUP | POLLHUP | POLLERR))) l->gone = true;
      if (!--l->refs && l->replied) free(l);
    }
  }
  pthread_mutex_unlock(&srv->mu);
  free(pfd);
  free(ls);
  return NULL;
}

/* ---- libmicrohttpd's calls ---- */

/* The headers are in: bound the body by whether admit lets the request in. */
static enum MHD_Result on_headers(st_http_server *srv, struct MHD_Connection *conn, const char *url, const char *method,
                                  void **state) {
  conn_info *ci = conn_of(conn);
  if (ci) set_phase(srv, ci, PH_BODY);
  pending tmp = {.srv = srv, .conn = conn, .ci = ci, .method = method, .url = url};
  st_http_request hreq = request_of(&tmp);
  bool admitted = !srv->admit || srv->admit(srv->ctx, &hreq);
  size_t limit = admitted ? srv->max_body : srv->max_body_unauth;
  const char *len = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  unsigned long long announced = len ? strtoull(len, NULL, 10) : 0;
  bool large = false; /* takes one of the large_unauth places */
  if (!admitted && announced > limit && announced <= srv->max_body && srv->large_unauth) {
    pthread_mutex_lock(&srv->mu);
    large = srv->nlarge < srv->large_unauth;
    if (large) srv->nlarge++;
    else srv->refused++;
    pthread_mutex_unlock(&srv->mu);
    if (!large) {
      char msg[160];
      snprintf(msg, sizeof msg, "%u large uploads without a token are being read already: try again shortly",
               srv->large_unauth);
      return send_error(srv, conn, ci, 503, msg);
    }
    limit = srv->max_body;
  }
  if (announced > limit) {
    count_refused(srv);
    char msg[192];
    snprintf(msg, sizeof msg, "request body of %.24s bytes is larger than the limit of %zu bytes%s", len, limit,
             admitted ? "" : " for a request without a valid token");
    return send_error(srv, conn, ci, 413, msg);
  }
  pending *p = calloc(1, sizeof *p);
  if (!p) {
    if (large) release_large(srv);
    return MHD_NO;
  }
  *p = tmp;
  st_buf_init(&p->body);
  p->limit = limit;
  p->large = large;
  p->state = P_READING;
  *state = p;
  return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **state) {
  (void)version;
  st_http_server *srv = cls;
  pending *p = *state;
  if (!p) return on_headers(srv, conn, url, method, state);
  if (p->state == P_READING) {
    if (*upload_size) {
      if (p->body.len + *upload_size > p->limit) { /* a chunked body past its limit: stop reading it */
        count_refused(srv);
        return MHD_NO;
      }
      st_buf_append(&p->body, upload, *upload_size);
      *upload_size = 0;
      return MHD_YES;
    }
    if (st_buf_status(&p->body, NULL))
      return send_error(srv, conn, p->ci, 500, "out of memory reading the request body");
    return dispatch(srv, conn, p);
  }
  if (p->state != P_READY) return MHD_YES; /* still with a worker, or parked */
  return answer(srv, conn, p);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state, enum MHD_RequestTerminationCode toe) {
  (void)toe;
  st_http_server *srv = cls;
  conn_info *ci = conn_of(conn);
  if (ci) set_phase(srv, ci, PH_HEAD); /* ready for the next request on this connection */
  pending *p = *state;
  if (!p) return;
  if (p->ws) { /* an upgrade that never happened */
    p->ws->fn(p->ws->ctx, NULL);
    free(p->ws);
  }
  if (p->mresp) MHD_destroy_response(p->mresp);
  if (p->large) release_large(srv);
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

/* The connection limit the descriptor limit allows, raising the soft limit to the hard one
 * (a process-wide setting: the servers are the processes' reason to hold many sockets). */
static unsigned fit_connections(unsigned want) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl)) return want < 64 ? want : 64;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl)) getrlimit(RLIMIT_NOFILE, &rl);
  }
  rlim_t spare = rl.rlim_cur > 320 ? rl.rlim_cur - 256 : 64; /* the rest: databases, sectors, logs */
  return (rlim_t)want < spare ? want : (unsigned)spare;
}

static void free_server(st_http_server *srv) {
  pthread_mutex_destroy(&srv->mu);
  pthread_cond_destroy(&srv->cv);
  pthread_cond_destroy(&srv->qcv);
  free(srv->workers);
  free(srv);
}

/* Ends the worker and keeper threads (after the queue drains) and frees the server. */
static void end_threads(st_http_server *srv) {
  pthread_mutex_lock(&srv->mu);
  srv->workers_quit = true;
  pthread_cond_broadcast(&srv->qcv);
  pthread_mutex_unlock(&srv->mu);
  for (unsigned i = 0; i < srv->nworkers; i++) pthread_join(srv->workers[i], NULL);
  pthread_mutex_lock(&srv->mu);
  srv->keeper_quit = true;
  pthread_mutex_unlock(&srv->mu);
  if (srv->keeper_started) pthread_join(srv->keeper, NULL);
}

static st_code start_threads(st_http_server *srv, unsigned nworkers, st_err *err) {
  if (nworkers && !(srv->workers = calloc(nworkers, sizeof *srv->workers)))
    return st_err_set(err, ST_ENOMEM, "out of memory starting the HTTP server");
  for (; srv->nworkers < nworkers; srv->nworkers++)
    if (pthread_create(&srv->workers[srv->nworkers], NULL, worker_main, srv)) break;
  if (srv->nworkers == nworkers && !pthread_create(&srv->keeper, NULL, keeper_main, srv)) srv->keeper_started = true;
  if (srv->keeper_started) return ST_OK;
  end_threads(srv);
  return st_err_set(err, ST_EINTERNAL, "could not start the HTTP server's threads");
}

st_code st_http_server_start(const st_http_server_opts *opts, st_http_handler handler, void *ctx, st_http_server **out,
                             st_err *err) {
  *out = NULL;
  struct sockaddr_storage sa;
  unsigned salen = 0;
  st_code code = st_http_parse_listen(opts->listen, &sa, &salen, err);
  if (code) return code;
  unsigned limit = fit_connections(opts->max_connections ? opts->max_connections : 4096);
  int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return st_err_set(err, ST_EIO, "could not create a socket: %s", strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (sa.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&sa, salen) || listen(fd, 1024)) {
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
  srv->admit = opts->admit;
  srv->max_body = opts->max_body ? opts->max_body : 1 << 20;
  srv->max_body_unauth = opts->max_body_unauth ? opts->max_body_unauth : 64 * 1024;
  if (srv->max_body_unauth > srv->max_body) srv->max_body_unauth = srv->max_body;
  srv->per_address = opts->per_address ? opts->per_address : 256;
  srv->large_unauth = opts->large_unauth;
  srv->max_sessions = opts->max_sessions ? opts->max_sessions : 256;
  srv->header_ms = 1000 * (int64_t)(opts->header_timeout_s ? opts->header_timeout_s : 30);
  srv->body_ms = 1000 * (int64_t)(opts->body_timeout_s ? opts->body_timeout_s : 120);
  srv->send_ms = 1000 * (int64_t)(opts->send_timeout_s ? opts->send_timeout_s : 120);
  pthread_mutex_init(&srv->mu, NULL);
  pthread_cond_init(&srv->cv, NULL);
  pthread_cond_init(&srv->qcv, NULL);
  srv->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)(void *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)(void *)&bound)->sin_port);
  srv->inline_handlers = !opts->handlers_block;
  unsigned nthreads = opts->threads ? opts->threads : 4;
  if ((code = start_threads(srv, srv->inline_handlers ? 0 : nthreads, err))) {
    close(fd);
    free_server(srv);
    return code;
  }
  /* libmicrohttpd's own idle timeout is only a backstop behind the keeper's */
  int64_t slowest = srv->header_ms > srv->body_ms ? srv->header_ms : srv->body_ms;
  if (srv->send_ms > slowest) slowest = srv->send_ms;
  srv->mhd = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE, 0, on_accept, srv,
      on_request, srv, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_THREAD_POOL_SIZE,
      srv->inline_handlers ? nthreads : IO_THREADS, MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_NOTIFY_COMPLETED,
      on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned)(slowest / 1000 + 30), MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024, MHD_OPTION_END);
  if (!srv->mhd) {
    close(fd);
    end_threads(srv);
    free_server(srv);
    return st_err_set(err, ST_EINTERNAL, "libmicrohttpd could not start on %s", opts->listen);
  }
  *out = srv;
  return ST_OK;
}

uint16_t st_http_server_port(const st_http_server *srv) { return srv->port; }

void st_http_server_stats_get(st_http_server *srv, st_http_server_stats *out) {
  pthread_mutex_lock(&srv->mu);
  *out = (st_http_server_stats){.connections = srv->nconns,
                                .parked = srv->nlaters,
                                .sessions = srv->nsessions,
                                .timed_out = srv->timed_out,
                                .refused = srv->refused};
  pthread_mutex_unlock(&srv->mu);
}

void st_http_server_metrics(st_http_server *srv, const char *prefix, st_buf *out) {
  if (!srv) return; /* a request served before its owner stored the server */
  st_http_server_stats st;
  st_http_server_stats_get(srv, &st);
  static const struct {
    const char *name, *type, *help;
  } M[] = {
      {"connections", "gauge", "Open HTTP connections."},
      {"parked", "gauge", "Requests parked until their answer (StateWaitMsg), holding no thread."},
      {"sessions", "gauge", "Open WebSocket sessions."},
      {"timed_out_total", "counter", "Connections closed for not sending headers or body, or taking a reply, in time."},
      {"refused_total", "counter", "Requests refused before their body was read, or cut off past their body limit."},
  };
  unsigned long long v[] = {st.connections, st.parked, st.sessions, st.timed_out, st.refused};
  for (size_t i = 0; i < sizeof M / sizeof M[0]; i++)
    st_buf_printf(out, "# HELP %s_http_%s %s\n# TYPE %s_http_%s %s\n%s_http_%s %llu\n", prefix, M[i].name, M[i].help,
                  prefix, M[i].name, M[i].type, prefix, M[i].name, v[i]);
}

void st_http_server_stop(st_http_server *srv) {
  if (!srv) return;
  /* New connections are closed at accept from here on. Not MHD_quiesce_daemon: in 0.9.75, with a
     thread pool on epoll, it races the pool's own removal of the listening socket and aborts
     ("Failed to remove listen FD from epoll set", seen in CI). MHD_stop_daemon closes the socket. */
  pthread_mutex_lock(&srv->mu);
  srv->stopping = true;
  /* parked requests: their owners see gone and reply; then every connection is resumed */
  for (st_http_later *l = srv->laters; l; l = l->next) l->gone = true;
  while (srv->nlaters) pthread_cond_wait(&srv->cv, &srv->mu);
  pthread_mutex_unlock(&srv->mu);
  end_threads(srv);
  /* end the WebSocket sessions: their reads fail, their threads finish and close */
  pthread_mutex_lock(&srv->mu);
  for (ws_session *s = srv->sessions; s; s = s->next) shutdown(s->fd, SHUT_RDWR);
  while (srv->nsessions) pthread_cond_wait(&srv->cv, &srv->mu);
  pthread_mutex_unlock(&srv->mu);
  MHD_stop_daemon(srv->mhd);
  free_server(srv);
}
