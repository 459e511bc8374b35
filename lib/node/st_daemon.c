/* st_daemon: see st_daemon.h. */
#include "node/st_daemon.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/st_consensus.h"
#include "core/st_log.h"
#include "node/st_explorer.h"
#include "rpc/st_jsonrpc.h"

struct st_daemon {
  st_chain *chain;
  st_fullnode *node;
  st_rpc *rpc;
  st_http_server *http;
  bool log_heads;
  bool standing_by;            /* the producer stands by: the network has power */
  pthread_mutex_t registry_mu; /* the registry fields */
  char registry_url[256], registry_why[ST_ERR_MSG_MAX];
  bool registry_known, registry_up;
  time_t registry_checked;
};

void st_daemon_set_registry(st_daemon *d, const char *url, bool reachable, const char *why) {
  pthread_mutex_lock(&d->registry_mu);
  snprintf(d->registry_url, sizeof d->registry_url, "%s", url);
  snprintf(d->registry_why, sizeof d->registry_why, "%s", reachable ? "" : why);
  d->registry_known = true;
  d->registry_up = reachable;
  d->registry_checked = time(NULL);
  pthread_mutex_unlock(&d->registry_mu);
}

/* /health's registry member, or NULL when none was set. */
static json_t *registry_json(st_daemon *d) {
  pthread_mutex_lock(&d->registry_mu);
  json_t *j = d->registry_known ? json_pack("{ss sb ss sI}", "url", d->registry_url, "reachable", d->registry_up,
                                            "error", d->registry_why, "checked", (json_int_t)d->registry_checked)
                                : NULL;
  pthread_mutex_unlock(&d->registry_mu);
  return j;
}

static void on_head(void *ctx, const st_tipset *head, const st_signed_message *reverted, size_t nreverted) {
  st_daemon *d = ctx;
  st_fullnode_head_changed(d->node, head, reverted, nreverted);
  st_rpc_wake(d->rpc); /* the parked StateWaitMsg calls look again */
  if (!d->log_heads) return;
  if (nreverted)
    st_logf("chain", ST_LOG_WARN, "reorganisation: %zu message(s) of reverted tipsets went back to the pool",
            nreverted);
  char cid[ST_CID_STR_MAX];
  st_cid_to_string(&head->key.cids[0], cid);
  st_logf("chain", ST_LOG_INFO, "new head at height %lld: %zu block(s), first %s", (long long)head->height, head->n,
          cid);
}

/* Every path but the API's: the explorer, GET /health with the head's height, and /metrics. */
static void pages(void *ctx, const st_http_request *req, st_http_response *resp) {
  st_daemon *d = ctx;
  if (st_explorer_serve(req, resp)) return;
  bool metrics = !strcmp(req->path, "/metrics");
  if (strcmp(req->path, "/health") && !metrics) {
    st_http_reply_error(resp, 404,
                        "no such page %.200s (the explorer is at /, the API is POST /rpc/v0 and /rpc/v1, and there "
                        "are /health and /metrics)",
                        req->path);
    return;
  }
  st_tipset head;
  st_tipset_init(&head);
  st_err err;
  if (st_chain_head(d->chain, &head, &err)) {
    st_http_reply_error(resp, 500, "%s", err.msg);
  } else if (metrics) {
    resp->content_type = "text/plain; version=0.0.4";
    st_buf_printf(&resp->body,
                  "# HELP spacetime_daemon_head_height Height of the chain's head.\n"
                  "# TYPE spacetime_daemon_head_height gauge\nspacetime_daemon_head_height %lld\n",
                  (long long)head.height);
    st_http_server_metrics(d->http, "spacetime_daemon", &resp->body);
    json_t *reg = registry_json(d);
    if (reg)
      st_buf_printf(&resp->body,
                    "# HELP spacetime_daemon_registry_up Whether the registry (--server-api) answered its last check.\n"
                    "# TYPE spacetime_daemon_registry_up gauge\nspacetime_daemon_registry_up %d\n",
                    json_is_true(json_object_get(reg, "reachable")));
    json_decref(reg);
  } else {
    json_t *h = json_pack("{ss sI}", "status", "ok", "height", (json_int_t)head.height), *reg = registry_json(d);
    if (reg) json_object_set_new(h, "registry", reg);
    st_http_reply_json(resp, 200, h);
  }
  st_tipset_free(&head);
}

st_code st_daemon_start(const st_daemon_config *cfg, st_daemon **out, st_err *err) {
  *out = NULL;
  st_daemon *d = calloc(1, sizeof *d);
  if (!d) return st_err_set(err, ST_ENOMEM, "out of memory starting the daemon");
  pthread_mutex_init(&d->registry_mu, NULL);
  d->log_heads = cfg->log_heads;
  char keystore[4200];
  snprintf(keystore, sizeof keystore, "%s/keystore", cfg->repo);
  st_code code = st_chain_open(cfg->repo, cfg->genesis, &d->chain, err);
  if (!code) code = st_fullnode_new(d->chain, keystore, cfg->jwt_secret, cfg->version, &d->node, err);
  if (!code && cfg->beacon_sk) code = st_fullnode_set_beacon_key(d->node, cfg->beacon_sk, err);
  if (!code) {
    size_t nmethods;
    const st_rpc_method *methods = st_fullnode_methods(d->node, &nmethods);
    st_rpc_opts ro = {.methods = methods,
                      .nmethods = nmethods,
                      .ctx = d->node,
                      .jwt_secret = cfg->jwt_secret,
                      .fallback = pages,
                      .fallback_ctx = d};
    code = st_rpc_new(&ro, &d->rpc, err);
  }
  if (!code) st_chain_on_head(d->chain, on_head, d);
  if (!code) code = st_rpc_serve(d->rpc, cfg->listen, cfg->threads ? cfg->threads : 8, &d->http, err);
  if (code) st_daemon_stop(d);
  else *out = d;
  return code;
}

void st_daemon_stop(st_daemon *d) {
  if (!d) return;
  if (d->node) st_fullnode_stop(d->node); /* waits in progress end, so the server can stop */
  st_http_server_stop(d->http);
  st_rpc_free(d->rpc);
  st_fullnode_free(d->node);
  st_chain_close(d->chain);
  pthread_mutex_destroy(&d->registry_mu);
  free(d);
}

st_chain *st_daemon_chain(st_daemon *d) { return d->chain; }
st_fullnode *st_daemon_fullnode(st_daemon *d) { return d->node; }
unsigned st_daemon_port(const st_daemon *d) { return st_http_server_port(d->http); }

st_code st_daemon_producer_turn(st_daemon *d, int64_t epoch, st_producer_turn *turn, int64_t *head_height,
                                st_err *err) {
  bool allowed;
  *turn = ST_PRODUCER_NOT_DUE;
  /* the chain's own rule: bootstrap blocks while nobody has power at the election's lookback;
   * and the liveness rule: power, but no miner made a block for bootstrap-after-nulls rounds */
  st_code code = st_chain_bootstrap_allowed(d->chain, epoch, &allowed, head_height, err);
  if (code || epoch <= *head_height) return code;
  if (allowed) *turn = ST_PRODUCER_BOOTSTRAP;
  else if (st_consensus_bootstrap_by_nulls(st_chain_network(d->chain), *head_height, epoch)) *turn = ST_PRODUCER_NULLS;
  else *turn = ST_PRODUCER_STANDBY;
  return ST_OK;
}

/* Logs a change between producing and standing by (a block after null rounds is logged itself). */
static void log_turn(st_daemon *d, st_producer_turn turn) {
  bool powered = turn != ST_PRODUCER_BOOTSTRAP;
  if (powered == d->standing_by) return;
  d->standing_by = powered;
  st_logf("chain", ST_LOG_INFO,
          powered ? "the network has power at the lookback: blocks now come from elected miners, the producer stands by"
                  : "no power at the lookback: the producer makes the blocks");
}

void st_daemon_produce(st_daemon *d, const st_address *producer) {
  st_err err;
  int64_t epoch = st_chain_epoch_at(d->chain, (uint64_t)time(NULL));
  st_producer_turn turn;
  int64_t height;
  if (st_daemon_producer_turn(d, epoch, &turn, &height, &err)) {
    st_logf("chain", ST_LOG_ERROR, "could not produce the block at height %lld: %s", (long long)epoch, err.msg);
    return;
  }
  if (turn == ST_PRODUCER_NOT_DUE) return;
  log_turn(d, turn);
  if (turn == ST_PRODUCER_NULLS) {
    const st_network *net = st_chain_network(d->chain);
    st_logf("chain", ST_LOG_WARN,
            "no miner made a block in the last %lld rounds: the producer makes height %lld (bootstrap-after-nulls "
            "%lld)",
            (long long)(epoch - height - 1), (long long)epoch, (long long)net->bootstrap_after_nulls);
  }
  if (turn == ST_PRODUCER_STANDBY) return;
  size_t n;
  if (st_fullnode_bootstrap_block(d->node, producer, epoch, &n, &err))
    st_logf("chain", ST_LOG_ERROR, "could not produce the block at height %lld: %s", (long long)epoch, err.msg);
  else st_logf("chain", ST_LOG_INFO, "produced the block at height %lld with %zu message(s)", (long long)epoch, n);
}
