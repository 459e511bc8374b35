/* st_rpc_park: see st_rpc_park.h. */
#include "rpc/st_rpc_park.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/st_clock.h"

#define TICK_MS 100
#define RETRY_MS 1000

typedef struct parked {
  struct parked *next;
  st_http_later *l;
  char client[48];
  int64_t deadline_ms, wait_ms;
  void *call;
  st_rpc_park_retry_fn retry;
  void (*free_call)(void *call);
} parked;

typedef struct client_count {
  char client[48];
  unsigned n;
} client_count;

struct st_rpc_park {
  pthread_mutex_t mu; /* everything below */
  pthread_cond_t cv;  /* a wake, or quit */
  parked *calls;
  size_t ncalls;
  client_count *clients; /* one per client with a parked call */
  size_t nclients, cap_clients;
  unsigned per_client, total;
  uint64_t wakes;
  bool quit;
  bool started;
  pthread_t thread;
};

static client_count *client_find(st_rpc_park *pk, const char *client) {
  for (size_t i = 0; i < pk->nclients; i++)
    if (!strcmp(pk->clients[i].client, client)) return &pk->clients[i];
  return NULL;
}

static void client_drop(st_rpc_park *pk, const char *client) {
  client_count *c = client_find(pk, client);
  if (c && !--c->n) *c = pk->clients[--pk->nclients];
}

/* Replies to and frees one call whose answer is in out. */
static void finish(parked *c, int status, st_buf *out) {
  if (st_buf_status(out, NULL)) {
    st_buf_reset(out);
    st_buf_puts(out, "{\"error\":\"out of memory writing the response\"}\n");
    status = 500;
  }
  st_http_later_reply(c->l, status, NULL, out->data, out->len);
  c->free_call(c->call);
  free(c);
}

/* One pass over the calls taken off the list: the ones still waiting go back. */
static void pass(st_rpc_park *pk, parked *list, bool retry_all, const char *stopping) {
  st_buf out = ST_BUF_INIT;
  int64_t now = st_clock_ms();
  parked *keep = NULL;
  while (list) {
    parked *c = list;
    list = c->next;
    const char *why = stopping;
    char late[96];
    if (!why && st_http_later_gone(c->l)) why = "the client went away";
    if (!why && now >= c->deadline_ms) {
      snprintf(late, sizeof late, "gave up waiting after %lld seconds", (long long)(c->wait_ms / 1000));
      why = late;
    }
    int status = 200;
    st_buf_reset(&out);
    if ((why || retry_all) && c->retry(c->call, why, &status, &out)) {
      pthread_mutex_lock(&pk->mu);
      client_drop(pk, c->client);
      pk->ncalls--;
      pthread_mutex_unlock(&pk->mu);
      finish(c, status, &out);
      continue;
    }
    c->next = keep;
    keep = c;
  }
  st_buf_free(&out);
  pthread_mutex_lock(&pk->mu);
  while (keep) {
    parked *c = keep;
    keep = c->next;
    c->next = pk->calls;
    pk->calls = c;
  }
  pthread_mutex_unlock(&pk->mu);
}

static void *park_main(void *arg) {
  st_rpc_park *pk = arg;
  uint64_t seen = 0;
  int64_t last_retry = st_clock_ms();
  pthread_mutex_lock(&pk->mu);
  while (!pk->quit) {
    if (pk->wakes == seen) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += TICK_MS * 1000000L;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&pk->cv, &pk->mu, &ts);
      if (pk->quit) break;
    }
    int64_t now = st_clock_ms();
    bool retry_all = pk->wakes != seen || now - last_retry >= RETRY_MS;
    if (retry_all) last_retry = now;
    seen = pk->wakes;
    parked *list = pk->calls;
    pk->calls = NULL;
    pthread_mutex_unlock(&pk->mu);
    pass(pk, list, retry_all, NULL);
    pthread_mutex_lock(&pk->mu);
  }
  pthread_mutex_unlock(&pk->mu);
  return NULL;
}

st_code st_rpc_park_new(unsigned per_client, unsigned total, st_rpc_park **out, st_err *err) {
  *out = NULL;
  st_rpc_park *pk = calloc(1, sizeof *pk);
  if (!pk) return st_err_set(err, ST_ENOMEM, "out of memory making the parking for waiting calls");
  pthread_mutex_init(&pk->mu, NULL);
  pthread_cond_init(&pk->cv, NULL);
  pk->per_client = per_client ? per_client : 64;
  pk->total = total ? total : 4096;
  *out = pk;
  return ST_OK;
}

void st_rpc_park_free(st_rpc_park *pk) {
  if (!pk) return;
  pthread_mutex_lock(&pk->mu);
  pk->quit = true;
  pthread_cond_broadcast(&pk->cv);
  bool started = pk->started;
  pthread_mutex_unlock(&pk->mu);
  if (started) pthread_join(pk->thread, NULL);
  parked *list = pk->calls;
  pk->calls = NULL;
  pass(pk, list, true, "the server is stopping");
  pthread_mutex_destroy(&pk->mu);
  pthread_cond_destroy(&pk->cv);
  free(pk->clients);
  free(pk);
}

st_code st_rpc_park_add(st_rpc_park *pk, st_http_later *l, const char *client, int64_t wait_ms, void *call,
                        st_rpc_park_retry_fn retry, void (*free_call)(void *call), st_err *err) {
  parked *c = calloc(1, sizeof *c);
  if (!c) return st_err_set(err, ST_ENOMEM, "out of memory parking a waiting call");
  *c = (parked){.l = l,
                .deadline_ms = st_clock_ms() + wait_ms,
                .wait_ms = wait_ms,
                .call = call,
                .retry = retry,
                .free_call = free_call};
  snprintf(c->client, sizeof c->client, "%s", client ? client : "");
  st_code code = ST_OK;
  pthread_mutex_lock(&pk->mu);
  client_count *cc = client_find(pk, c->client);
  if (pk->quit) code = st_err_set(err, ST_EUNAVAIL, "the server is stopping");
  else if (cc && cc->n >= pk->per_client)
    code = st_err_set(err, ST_EUNAVAIL, "%u calls from %s are waiting already (the limit for one client)",
                      pk->per_client, c->client);
  else if (pk->ncalls >= pk->total)
    code = st_err_set(err, ST_EUNAVAIL, "%u calls are waiting already (the node's limit)", pk->total);
  if (!code && !cc) {
    if (pk->nclients == pk->cap_clients) {
      size_t cap = pk->cap_clients ? 2 * pk->cap_clients : 8;
      client_count *n = realloc(pk->clients, cap * sizeof *n);
      if (!n) code = st_err_set(err, ST_ENOMEM, "out of memory parking a waiting call");
      else {
        pk->clients = n;
        pk->cap_clients = cap;
      }
    }
    if (!code) {
      cc = &pk->clients[pk->nclients++];
      snprintf(cc->client, sizeof cc->client, "%s", c->client);
      cc->n = 0;
    }
  }
  if (!code && !pk->started) {
    if (pthread_create(&pk->thread, NULL, park_main, pk))
      code = st_err_set(err, ST_EINTERNAL, "could not start the parking's thread");
    else pk->started = true;
  }
  if (!code) {
    cc->n++;
    pk->ncalls++;
    c->next = pk->calls;
    pk->calls = c;
  }
  pthread_mutex_unlock(&pk->mu);
  if (code) free(c);
  return code;
}

void st_rpc_park_wake(st_rpc_park *pk) {
  pthread_mutex_lock(&pk->mu);
  pk->wakes++;
  pthread_cond_broadcast(&pk->cv);
  pthread_mutex_unlock(&pk->mu);
}

void st_rpc_park_wait(st_rpc_park *pk, unsigned ms) {
  pthread_mutex_lock(&pk->mu);
  uint64_t seen = pk->wakes;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  while (pk->wakes == seen && !pk->quit && pthread_cond_timedwait(&pk->cv, &pk->mu, &ts) == 0) {}
  pthread_mutex_unlock(&pk->mu);
}

size_t st_rpc_park_count(st_rpc_park *pk) {
  pthread_mutex_lock(&pk->mu);
  size_t n = pk->ncalls;
  pthread_mutex_unlock(&pk->mu);
  return n;
}
