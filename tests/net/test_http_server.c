/* Tests for st_http_server under hostile load (issue 25): 1,000 idle and 200 half-sent
 * connections do not keep a new client out; connections are timed by their progress, so a
 * client sending a byte at a time is closed like an idle one; bodies are bounded by admit
 * before they are read (413 at the headers, a chunked body cut off at its limit); a parked
 * request holds no thread, sees its client hang up, and is answered from another thread; and
 * stop waits for parked requests' replies. Every test runs twice: handlers on the I/O threads,
 * and on workers (handlers_block), where a handler that blocks holds up no other connection.
 * The per-address limit runs in a private network namespace, on 10.99.0.1 (root only). */
#include "testutil.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/st_http_server.h"

typedef struct fx {
  st_http_server *srv;
  uint16_t port;
  pthread_mutex_t mu;
  st_http_later *parked[64];
  atomic_int nparked;
} fx;

static bool BLOCK; /* this run's handlers_block */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void handler(void *ctx, const st_http_request *req, st_http_response *resp) {
  fx *f = ctx;
  if (!strcmp(req->path, "/sleep")) usleep(1500 * 1000);
  if (!strcmp(req->path, "/park")) {
    st_http_later *l = st_http_answer_later(req);
    if (l) {
      pthread_mutex_lock(&f->mu);
      f->parked[atomic_fetch_add(&f->nparked, 1)] = l;
      pthread_mutex_unlock(&f->mu);
      return;
    }
  }
  st_http_reply_json(resp, 200, json_pack("{sI}", "body", (json_int_t)req->body_len));
}

static bool admit(void *ctx, const st_http_request *req) {
  (void)ctx;
  const char *k = st_http_header(req, "X-Key");
  return k && !strcmp(k, "yes");
}

static void start(fx *f, const st_http_server_opts *extra) {
  memset(f, 0, sizeof *f);
  pthread_mutex_init(&f->mu, NULL);
  st_http_server_opts o = extra ? *extra : (st_http_server_opts){0};
  o.listen = "127.0.0.1:0";
  o.admit = admit;
  o.handlers_block = BLOCK;
  st_err err;
  assert_int_equal(st_http_server_start(&o, handler, f, &f->srv, &err), ST_OK);
  f->port = st_http_server_port(f->srv);
}

static void stop(fx *f) {
  st_http_server_stop(f->srv);
  pthread_mutex_destroy(&f->mu);
}

static int dial(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* Reads until the peer closes or ms pass; the status line's code (0 if none), reply in buf. */
static int read_reply(int fd, char *buf, size_t n, int ms) {
  size_t got = 0;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  double end = now_ms() + ms;
  while (got < n - 1) {
    int left = (int)(end - now_ms());
    if (left <= 0 || poll(&p, 1, left) <= 0) break;
    ssize_t r = recv(fd, buf + got, n - 1 - got, 0);
    if (r <= 0) break;
    got += (size_t)r;
  }
  buf[got] = 0;
  int status = 0;
  return sscanf(buf, "HTTP/1.%*d %d", &status) == 1 ? status : 0;
}

/* Sends all of text on fd. */
static void send_all(int fd, const char *text) {
  assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
}

/* A new connection that has sent text (a request's headers, or a part of them). */
static int dial_and_send(uint16_t port, const char *text) {
  int fd = dial(port);
  send_all(fd, text);
  return fd;
}

static int get(uint16_t port, const char *path, char *buf, size_t n) {
  int fd = dial(port);
  char req[256];
  int len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
  assert_int_equal(send(fd, req, (size_t)len, MSG_NOSIGNAL), len);
  int status = read_reply(fd, buf, n, 5000);
  close(fd);
  return status;
}

/* Whether the server has closed fd (waiting up to ms for it). */
static bool closed_within(int fd, int ms) {
  struct pollfd p = {.fd = fd, .events = POLLRDHUP};
  return poll(&p, 1, ms) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void test_idle_and_half_sent_connections(void **state) {
  (void)state;
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < 2600) skip(); /* both ends of 1,200 connections live in this process */
  fx f;
  start(&f, NULL);
  enum { IDLE = 1000, HALF = 200, PROBES = 20 };
  static int fds[IDLE + HALF];
  for (int i = 0; i < IDLE + HALF; i++) {
    fds[i] = dial(f.port);
    if (i >= IDLE) assert_int_equal(send(fds[i], "POST /x HTTP/1.1\r\nHo", 20, MSG_NOSIGNAL), 20);
  }
  usleep(300 * 1000);
  st_http_server_stats st;
  st_http_server_stats_get(f.srv, &st);
  assert_int_equal(st.connections, IDLE + HALF); /* every one accepted and held */
  double lat[PROBES];
  char buf[4096];
  for (int i = 0; i < PROBES; i++) {
    double t0 = now_ms();
    assert_int_equal(get(f.port, "/ping", buf, sizeof buf), 200);
    lat[i] = now_ms() - t0;
  }
  qsort(lat, PROBES, sizeof *lat, cmp_double);
  print_message("with %d idle and %d half-sent connections: p50 %.2f ms, max %.2f ms\n", IDLE, HALF, lat[PROBES / 2],
                lat[PROBES - 1]);
  assert_true(lat[PROBES / 2] < 100.0); /* the bound; typically under 1 ms */
  for (int i = 0; i < IDLE + HALF; i++) assert_false(closed_within(fds[i], 0));
  for (int i = 0; i < IDLE + HALF; i++) close(fds[i]);
  stop(&f);
}

static void test_timed_by_progress(void **state) {
  (void)state;
  fx f;
  st_http_server_opts o = {.header_timeout_s = 1, .body_timeout_s = 1};
  start(&f, &o);
  int idle = dial(f.port), slow = dial(f.port), slow_body = dial(f.port);
  const char *head = "POST /x HTTP/1.1\r\nHost: x\r\nX-Key: yes\r\nContent-Length: 100\r\n\r\n";
  send_all(slow_body, head);
  /* a byte every 200 ms: never silent for long, but the headers never finish */
  double t0 = now_ms();
  bool slow_closed = false;
  for (int i = 0; i < 20 && !slow_closed; i++) {
    if (send(slow, "G", 1, MSG_NOSIGNAL) != 1 || closed_within(slow, 200)) slow_closed = true;
    if (send(slow_body, "x", 1, MSG_NOSIGNAL) != 1) break;
  }
  double took = now_ms() - t0;
  assert_true(slow_closed);
  assert_true(took >= 900 && took < 3500);
  assert_true(closed_within(idle, 2000));
  assert_true(closed_within(slow_body, 2000));
  /* a client that makes progress is served */
  char buf[4096];
  assert_int_equal(get(f.port, "/ok", buf, sizeof buf), 200);
  st_http_server_stats st;
  st_http_server_stats_get(f.srv, &st);
  assert_true(st.timed_out >= 3);
  close(idle);
  close(slow);
  close(slow_body);
  stop(&f);
}

static void test_body_bounded_before_reading(void **state) {
  (void)state;
  fx f;
  st_http_server_opts o = {.max_body = 1 << 20, .max_body_unauth = 4096};
  start(&f, &o);
  char buf[4096];
  /* 60 MiB announced without the key: 413 at the headers, before any of the body is sent */
  const char *h = "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 62914560\r\n\r\n";
  int fd = dial_and_send(f.port, h);
  assert_int_equal(read_reply(fd, buf, sizeof buf, 2000), 413);
  assert_non_null(strstr(buf, "larger than the limit of 4096 bytes for a request without a valid token"));
  close(fd);
  /* with the key the limit is max_body */
  h = "POST /x HTTP/1.1\r\nHost: x\r\nX-Key: yes\r\nContent-Length: 2000000\r\n\r\n";
  fd = dial_and_send(f.port, h);
  assert_int_equal(read_reply(fd, buf, sizeof buf, 2000), 413);
  assert_non_null(strstr(buf, "larger than the limit of 1048576 bytes\""));
  close(fd);
  /* chunked, without the key: cut off once past 4096 bytes; the sender is stopped early */
  h = "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  fd = dial_and_send(f.port, h);
  static char chunk[65536 + 16];
  int hl = snprintf(chunk, sizeof chunk, "10000\r\n");
  memset(chunk + hl, 'a', 65536);
  memcpy(chunk + hl + 65536, "\r\n", 2);
  size_t sent = 0;
  struct timeval tv = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  while (sent < ((size_t)60 << 20)) {
    ssize_t w = send(fd, chunk, (size_t)hl + 65538, MSG_NOSIGNAL);
    if (w <= 0) break;
    sent += (size_t)w;
  }
  print_message("a chunked body without the key: the server stopped it after %zu bytes sent\n", sent);
  assert_true(sent < ((size_t)16 << 20)); /* the limit, plus what the kernel's buffers took */
  close(fd);
  st_http_server_stats st;
  st_http_server_stats_get(f.srv, &st);
  assert_true(st.refused >= 3);
  assert_int_equal(get(f.port, "/ok", buf, sizeof buf), 200);
  stop(&f);
}

/* An open protocol's places for large bodies without the key: one at a time here. */
static void test_large_unauth_places(void **state) {
  (void)state;
  fx f;
  st_http_server_opts o = {.max_body = 1 << 20, .max_body_unauth = 4096, .large_unauth = 1};
  start(&f, &o);
  const char *h = "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n";
  int first = dial_and_send(f.port, h);
  usleep(200 * 1000); /* its headers are in: it holds the place */
  char buf[4096];
  int second = dial_and_send(f.port, h);
  assert_int_equal(read_reply(second, buf, sizeof buf, 2000), 503);
  assert_non_null(strstr(buf, "1 large uploads without a token are being read already"));
  close(second);
  static char body[100000];
  memset(body, 'x', sizeof body);
  assert_int_equal(send(first, body, sizeof body, MSG_NOSIGNAL), (ssize_t)sizeof body);
  assert_int_equal(read_reply(first, buf, sizeof buf, 2000), 200);
  assert_non_null(strstr(buf, "{\"body\":100000}"));
  close(first);
  usleep(100 * 1000); /* the place is given back when the request completes */
  int third = dial_and_send(f.port, h);
  assert_int_equal(send(third, body, sizeof body, MSG_NOSIGNAL), (ssize_t)sizeof body);
  assert_int_equal(read_reply(third, buf, sizeof buf, 2000), 200);
  close(third);
  /* past max_body it is refused still */
  h = "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n";
  int big = dial_and_send(f.port, h);
  assert_int_equal(read_reply(big, buf, sizeof buf, 2000), 413);
  close(big);
  stop(&f);
}

/* In a private network namespace (loopback up, 10.99.0.1 on lo:1): the server on 10.99.0.1
 * lets one address other than loopback hold per_address connections, and serves loopback
 * still. Exits 0 when it holds, 1 on a failure, 77 when the namespace cannot be made. */
static int per_address_child(void) {
  if (unshare(CLONE_NEWNET)) return 77;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq ifr = {0};
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
  if (s < 0 || ioctl(s, SIOCSIFFLAGS, &ifr)) return 77;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo:1");
  struct sockaddr_in *a = (struct sockaddr_in *)(void *)&ifr.ifr_addr;
  a->sin_family = AF_INET;
  inet_pton(AF_INET, "10.99.0.1", &a->sin_addr);
  if (ioctl(s, SIOCSIFADDR, &ifr)) return 77;
  close(s);
  st_http_server *srv;
  st_err err;
  fx f = {0};
  st_http_server_opts o = {.listen = "10.99.0.1:0", .per_address = 5, .handlers_block = BLOCK};
  if (st_http_server_start(&o, handler, &f, &srv, &err)) return 1;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(st_http_server_port(srv))};
  inet_pton(AF_INET, "10.99.0.1", &sa.sin_addr);
  int fds[6], ok = 0;
  for (int i = 0; i < 6; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fds[i], (struct sockaddr *)&sa, sizeof sa)) return 1;
    usleep(50 * 1000);
  }
  /* the first five are held; the sixth is closed at once */
  for (int i = 0; i < 5; i++) ok += !closed_within(fds[i], 0);
  ok += closed_within(fds[5], 1000);
  st_http_server_stats st;
  st_http_server_stats_get(srv, &st);
  for (int i = 0; i < 6; i++) close(fds[i]);
  st_http_server_stop(srv);
  return ok == 6 && st.refused == 1 ? 0 : 1;
}

static void test_per_address_limit(void **state) {
  (void)state;
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (!pid) _exit(per_address_child());
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) skip(); /* not root: no network namespace */
  assert_int_equal(WEXITSTATUS(status), 0);
}

static int send_park(uint16_t port) { return dial_and_send(port, "GET /park HTTP/1.1\r\nHost: x\r\n\r\n"); }

static void wait_parked(fx *f, int n) {
  for (int i = 0; i < 200 && atomic_load(&f->nparked) < n; i++) usleep(10000);
  assert_int_equal(atomic_load(&f->nparked), n);
}

static void test_parked_requests(void **state) {
  (void)state;
  fx f;
  st_http_server_opts o = {.threads = 2};
  start(&f, &o);
  /* 50 parked requests on 2 workers: none holds a thread, so the server still answers */
  int fds[50];
  for (int i = 0; i < 50; i++) fds[i] = send_park(f.port);
  wait_parked(&f, 50);
  char buf[4096];
  assert_int_equal(get(f.port, "/ok", buf, sizeof buf), 200);
  st_http_server_stats st;
  st_http_server_stats_get(f.srv, &st);
  assert_int_equal(st.parked, 50);
  /* their clients hang up: each is seen gone within about 100 ms */
  for (int i = 0; i < 50; i++) close(fds[i]);
  double t0 = now_ms();
  int gone = 0;
  while (gone < 50 && now_ms() - t0 < 2000) {
    gone = 0;
    for (int i = 0; i < 50; i++) gone += st_http_later_gone(f.parked[i]);
    usleep(10000);
  }
  print_message("50 parked clients hung up: all seen gone after %.0f ms\n", now_ms() - t0);
  assert_int_equal(gone, 50);
  for (int i = 0; i < 50; i++) st_http_later_reply(f.parked[i], 200, NULL, "{}", 2);
  /* one that stays gets its reply from this thread */
  int fd = send_park(f.port);
  wait_parked(&f, 51);
  assert_false(st_http_later_gone(f.parked[50]));
  st_http_later_reply(f.parked[50], 202, "text/plain", "later", 5);
  assert_int_equal(read_reply(fd, buf, sizeof buf, 2000), 202);
  assert_non_null(strstr(buf, "\r\n\r\nlater"));
  close(fd);
  st_http_server_stats_get(f.srv, &st);
  assert_int_equal(st.parked, 0);
  stop(&f);
}

/* The owner of a parked request: replies once the server says it is gone (here: stopping). */
static void *owner_main(void *arg) {
  fx *f = arg;
  while (!st_http_later_gone(f->parked[0])) usleep(5000);
  st_http_later_reply(f->parked[0], 503, NULL, "{}", 2);
  return NULL;
}

static void test_stop_waits_for_parked(void **state) {
  (void)state;
  fx f;
  start(&f, NULL);
  int fd = send_park(f.port);
  wait_parked(&f, 1);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, owner_main, &f), 0);
  stop(&f); /* marks it gone, waits for the owner's reply, then stops */
  pthread_join(th, NULL);
  char buf[512];
  read_reply(fd, buf, sizeof buf, 1000);
  close(fd);
}

typedef struct dialer {
  uint16_t port;
  atomic_bool quit;
} dialer;

/* Connects and sends a request, over and over, while the server under it stops. */
static void *dialer_main(void *arg) {
  dialer *d = arg;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(d->port)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  static const char req[] = "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n";
  while (!atomic_load(&d->quit)) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) (void)!send(fd, req, sizeof req - 1, MSG_NOSIGNAL);
    close(fd);
  }
  return NULL;
}

/* Stopping while clients connect: no abort (MHD_quiesce_daemon raced the pool's epoll and aborted
 * in CI), and once stopped the port is closed. */
static void test_stop_while_connecting(void **state) {
  (void)state;
  for (int i = 0; i < 60; i++) {
    fx f;
    st_http_server_opts o = {.threads = 4};
    start(&f, &o);
    dialer d = {.port = f.port};
    pthread_t th[2];
    for (int t = 0; t < 2; t++) assert_int_equal(pthread_create(&th[t], NULL, dialer_main, &d), 0);
    usleep((useconds_t)(i % 5) * 1000);
    stop(&f);
    atomic_store(&d.quit, true);
    for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(d.port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_not_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0); /* the listening socket is closed */
    close(fd);
  }
}

static void *sleep_main(void *arg) {
  char buf[512];
  assert_int_equal(get(*(uint16_t *)arg, "/sleep", buf, sizeof buf), 200);
  return NULL;
}

/* With handlers_block, a handler that blocks holds a worker, not the connections. */
static void test_blocking_handler(void **state) {
  (void)state;
  if (!BLOCK) skip();
  fx f;
  st_http_server_opts o = {.threads = 2};
  start(&f, &o);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, sleep_main, &f.port), 0);
  usleep(200 * 1000);
  char buf[512];
  for (int i = 0; i < 10; i++) {
    double t0 = now_ms();
    assert_int_equal(get(f.port, "/ok", buf, sizeof buf), 200);
    assert_true(now_ms() - t0 < 1000); /* not behind the 1.5 s handler */
  }
  pthread_join(th, NULL);
  stop(&f);
}

static int on_io_threads(void **state) {
  (void)state;
  BLOCK = false;
  return 0;
}

static int on_workers(void **state) {
  (void)state;
  BLOCK = true;
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_idle_and_half_sent_connections),
      cmocka_unit_test(test_timed_by_progress),
      cmocka_unit_test(test_body_bounded_before_reading),
      cmocka_unit_test(test_large_unauth_places),
      cmocka_unit_test(test_per_address_limit),
      cmocka_unit_test(test_parked_requests),
      cmocka_unit_test(test_stop_waits_for_parked),
      cmocka_unit_test(test_stop_while_connecting),
      cmocka_unit_test(test_blocking_handler),
  };
  int failed = cmocka_run_group_tests_name("handlers on the I/O threads", tests, on_io_threads, NULL);
  return failed + cmocka_run_group_tests_name("handlers on workers", tests, on_workers, NULL);
}
