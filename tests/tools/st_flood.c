/* st_flood: holds idle and slow connections open against an HTTP server and measures what a
 * new client gets meanwhile. The hostile-load tests (tests/cmd/test_hostile.sh) and bench/conns.sh
 * use it; it speaks just enough HTTP/1.1 to send one request and read one reply.
 *
 *   st_flood --port P [--host 127.0.0.1] [--idle N] [--slow N] [--probes K] [--path /]
 *            [--body TEXT] [--hold SECONDS]
 *
 * Idle connections send nothing; slow ones send a request's headers one byte a second. With
 * them open it sends K requests, one at a time, each on a new connection (a GET, or a POST of
 * --body), and prints one line:
 *   idle=N slow=N probes=K ok=K p50_ms=… max_ms=… status=200 idle_open=N slow_open=N
 * where ok counts 2xx replies and the *_open counts are the connections the server still held
 * open after the probes and --hold more seconds. Exit status 0 unless something could not be
 * set up (a refused probe is counted, not fatal). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct flood {
  const char *host, *path, *body;
  int port;
  int nidle, nslow, nprobes, hold;
  int *idle, *slow;
  atomic_bool stop;
} flood;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int dial(const flood *f) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->port)};
  if (inet_pton(AF_INET, f->host, &sa.sin_addr) != 1 || connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static int request_text(const flood *f, char *buf, size_t n) {
  if (f->body)
    return snprintf(buf, n,
                    "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                    "Connection: close\r\n\r\n%s",
                    f->path, f->host, strlen(f->body), f->body);
  return snprintf(buf, n, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", f->path, f->host);
}

/* One request on a new connection: its status (0 if none came back within 5 s), and its time. */
static int probe(const flood *f, double *ms) {
  char req[8192], reply[65536];
  int len = request_text(f, req, sizeof req);
  double t0 = now_ms();
  int fd = dial(f), status = 0;
  if (fd >= 0 && send(fd, req, (size_t)len, MSG_NOSIGNAL) == len) {
    size_t got = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (got < sizeof reply - 1 && poll(&p, 1, 5000) > 0) {
      ssize_t r = recv(fd, reply + got, sizeof reply - 1 - got, 0);
      if (r <= 0) break;
      got += (size_t)r;
      reply[got] = 0;
      if (strstr(reply, "\r\n\r\n")) break; /* the status line and headers are in */
    }
    reply[got] = 0;
    if (sscanf(reply, "HTTP/1.%*d %d", &status) != 1) status = 0;
  }
  *ms = now_ms() - t0;
  if (fd >= 0) close(fd);
  return status;
}

/* The slow clients: one more byte of a request each second, on every one still open. */
static void *slow_main(void *arg) {
  flood *f = arg;
  char req[8192];
  int len = request_text(f, req, sizeof req);
  for (int at = 0; !atomic_load(&f->stop); at = (at + 1) % len) {
    for (int i = 0; i < f->nslow; i++)
      if (f->slow[i] >= 0 && send(f->slow[i], req + at, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN) {
        close(f->slow[i]);
        f->slow[i] = -1;
      }
    for (int t = 0; t < 10 && !atomic_load(&f->stop); t++) usleep(100000);
  }
  return NULL;
}

/* How many of fds the server has not closed. */
static int still_open(int *fds, int n) {
  int open = 0;
  for (int i = 0; i < n; i++) {
    if (fds[i] < 0) continue;
    struct pollfd p = {.fd = fds[i], .events = POLLRDHUP};
    if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) continue;
    open++;
  }
  return open;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static const char *flag(int argc, char **argv, const char *name, const char *dflt) {
  for (int i = 1; i + 1 < argc; i += 2)
    if (!strcmp(argv[i], name)) return argv[i + 1];
  return dflt;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i += 2)
    if (strncmp(argv[i], "--", 2) || i + 1 >= argc) {
      fprintf(stderr, "st_flood: flags are --name VALUE pairs (at \"%s\")\n", argv[i]);
      return 2;
    }
  flood f = {.host = flag(argc, argv, "--host", "127.0.0.1"),
             .path = flag(argc, argv, "--path", "/"),
             .body = flag(argc, argv, "--body", NULL),
             .port = atoi(flag(argc, argv, "--port", "0")),
             .nidle = atoi(flag(argc, argv, "--idle", "0")),
             .nslow = atoi(flag(argc, argv, "--slow", "0")),
             .nprobes = atoi(flag(argc, argv, "--probes", "10")),
             .hold = atoi(flag(argc, argv, "--hold", "0"))};
  if (f.port <= 0 || f.nidle < 0 || f.nslow < 0 || f.nprobes < 0) {
    fprintf(stderr, "st_flood: --port is required; counts are non-negative\n");
    return 2;
  }
  struct rlimit rl;
  if (!getrlimit(RLIMIT_NOFILE, &rl)) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  f.idle = calloc((size_t)f.nidle + 1, sizeof *f.idle);
  f.slow = calloc((size_t)f.nslow + 1, sizeof *f.slow);
  double *lat = calloc((size_t)f.nprobes + 1, sizeof *lat);
  if (!f.idle || !f.slow || !lat) return 1;
  for (int i = 0; i < f.nidle; i++)
    if ((f.idle[i] = dial(&f)) < 0) {
      fprintf(stderr, "st_flood: idle connection %d: %s\n", i + 1, strerror(errno));
      return 1;
    }
  for (int i = 0; i < f.nslow; i++)
    if ((f.slow[i] = dial(&f)) < 0) {
      fprintf(stderr, "st_flood: slow connection %d: %s\n", i + 1, strerror(errno));
      return 1;
    }
  pthread_t th;
  if (pthread_create(&th, NULL, slow_main, &f)) return 1;
  usleep(1500 * 1000); /* the server has accepted them all, and the slow ones have begun */
  int ok = 0, last = 0;
  for (int i = 0; i < f.nprobes; i++) {
    last = probe(&f, &lat[i]);
    if (last >= 200 && last < 300) ok++;
  }
  for (int s = 0; s < f.hold; s++) sleep(1);
  atomic_store(&f.stop, true);
  pthread_join(th, NULL);
  qsort(lat, (size_t)f.nprobes, sizeof *lat, cmp_double);
  printf("idle=%d slow=%d probes=%d ok=%d p50_ms=%.2f max_ms=%.2f status=%d idle_open=%d slow_open=%d\n", f.nidle,
         f.nslow, f.nprobes, ok, f.nprobes ? lat[f.nprobes / 2] : 0.0, f.nprobes ? lat[f.nprobes - 1] : 0.0, last,
         still_open(f.idle, f.nidle), still_open(f.slow, f.nslow));
  for (int i = 0; i < f.nidle; i++) close(f.idle[i]);
  for (int i = 0; i < f.nslow; i++)
    if (f.slow[i] >= 0) close(f.slow[i]);
  free(f.idle);
  free(f.slow);
  free(lat);
  return 0;
}
