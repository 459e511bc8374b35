/* st_miner_api: the miner's JSON-RPC methods and /metrics over st_jsonrpc. Each call opens the
 * daemon and registry clients it needs (clients are one thread's); the sealing database is one
 * connection behind a mutex. */
#include "miner/st_miner_api.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chain/st_chain_types.h"
#include "core/st_encoding.h"
#include "core/st_fs.h"
#include "core/st_log.h"
#include "crypto/st_secp.h"
#include "miner/st_deals.h"
#include "miner/st_locator.h"
#include "miner/st_seal_progress.h"
#include "miner/st_sealer.h"
#include "miner/st_wdpost.h"
#include "proofs/st_unseal.h"
#include "rpc/st_jsonrpc.h"
#include "rpc/st_node_api.h"
#include "rpc/st_rpc_client.h"

struct st_miner_api {
  st_miner_api_cfg cfg;
  char addr[32]; /* t0<miner> */
  char multiaddr[ST_APIINFO_ADDR_MAX];
  int64_t started;
  pthread_mutex_t mu;        /* sealer, deals, poster */
  pthread_mutex_t unseal_mu; /* one unsealing at a time: they share the scratch folder */
  st_cluster *cluster;       /* the sealer's sectors, for the views and pledges */
  st_regc *reg;              /* the registry, for the sectors' roots (NULL without --server-api) */
  st_rpc_client *node;       /* the sealer's, for the chain's highest sector number (under mu) */
  st_sealer *sealer;
  st_deals *deals;
  st_poster_stats poster;
  st_rpc *rpc;
  st_http_server *http;
};

/* [number, flag?]: the params of SectorsStatus and ProvingCheck (flag false when left out). */
typedef struct number_flag_args {
  uint64_t number;
  bool flag;
} number_flag_args;

static st_code parse_number_flag(const json_t *params, const char *what, const char *flag_what, void *args,
                                 st_err *err) {
  number_flag_args *a = args;
  st_code code = st_rpc_param_u64(params, 0, what, &a->number, err);
  return code ? code : st_rpc_param_bool(params, 1, flag_what, &a->flag, err);
}

static st_code p_sectors_status(const json_t *params, void *args, st_err *err) {
  return parse_number_flag(params, "sector number", "show on-chain info", args, err);
}

static st_code p_proving_check(const json_t *params, void *args, st_err *err) {
  return parse_number_flag(params, "deadline index", "slow", args, err);
}

static st_code m_actor_address(st_rpc_req *q, st_err *err) {
  (void)err;
  q->result = json_string(((st_miner_api *)q->ctx)->addr);
  return ST_OK;
}

typedef struct addr_args {
  st_address addr;
  char text[ST_ADDR_STR_MAX];
} addr_args;

static st_code p_sector_size(const json_t *params, void *args, st_err *err) {
  addr_args *a = args;
  const json_t *v = json_array_get(params, 0);
  if (!json_is_string(v) || st_address_parse(json_string_value(v), &a->addr, NULL, NULL))
    return st_err_set(err, ST_EINVAL, "param 1 (address): must be a miner address like t01000");
  snprintf(a->text, sizeof a->text, "%s", json_string_value(v));
  return ST_OK;
}

static st_code m_sector_size(st_rpc_req *q, st_err *err) {
  st_miner_api *a = q->ctx;
  const addr_args *p = q->args;
  st_address got;
  st_address_from_id(a->cfg.cfg->miner, &got, NULL);
  if (!st_address_equal(&p->addr, &got))
    return st_err_set(err, ST_ENOENT, "this miner is %s, not %s", a->addr, p->text);
  q->result = json_integer((json_int_t)a->cfg.cfg->info->size);
  return ST_OK;
}

static json_t *poster_json(const st_poster_stats *s) {
  return json_pack("{sI sI sI sI sI sI sI sI sI sI}", "PostsSubmitted", (json_int_t)s->posts_submitted, "PostsLanded",
                   (json_int_t)s->posts_landed, "PostsFailed", (json_int_t)s->posts_failed, "SectorsProven",
                   (json_int_t)s->sectors_proven, "SectorsSkipped", (json_int_t)s->sectors_skipped,
                   "RecoveriesDeclared", (json_int_t)s->recoveries_declared, "FaultsDeclared",
                   (json_int_t)s->faults_declared, "RoundsTried", (json_int_t)s->rounds_tried, "BlocksMined",
                   (json_int_t)s->blocks_mined, "LastMinedHeight", (json_int_t)s->last_mined_height);
}

static st_code m_run_info(st_rpc_req *q, st_err *err) {
  (void)err;
  st_miner_api *a = q->ctx;
  pthread_mutex_lock(&a->mu);
  st_poster_stats s = a->poster;
  pthread_mutex_unlock(&a->mu);
  q->result = json_pack("{ss ss ss ss ss sI sI so}", "Mode", a->cfg.mode, "Miner", a->addr, "DistPath",
                        a->cfg.dist_path, "ServerAPI", a->cfg.server_api ? a->cfg.server_api : "", "LogFile",
                        a->cfg.log_file ? a->cfg.log_file : "", "PID", (json_int_t)getpid(), "StartedAt",
                        (json_int_t)a->started, "Poster", poster_json(&s));
  return ST_OK;
}

/* The sealing database's rows, under the mutex. */
static st_code list_sectors(st_miner_api *a, st_sealing_sector **v, size_t *n, st_err *err) {
  pthread_mutex_lock(&a->mu);
  st_code code = st_sealer_list(a->sealer, v, n, err);
  pthread_mutex_unlock(&a->mu);
  return code;
}

static st_code m_sectors_list(st_rpc_req *q, st_err *err) {
  st_sealing_sector *v;
  size_t n;
  st_code code = list_sectors(q->ctx, &v, &n, err);
  if (code) return code;
  q->result = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(q->result, json_integer((json_int_t)v[i].number));
  free(v);
  return ST_OK;
}

/* {state: count} over the sealing database, for SectorsSummary and /metrics. */
static st_code count_states(st_miner_api *a, json_t **out, st_err *err) {
  st_sealing_sector *v;
  size_t n;
  st_code code = list_sectors(a, &v, &n, err);
  if (code) return code;
  *out = json_object();
  for (size_t i = 0; i < n; i++) {
    const json_t *c = json_object_get(*out, v[i].state);
    json_object_set_new(*out, v[i].state, json_integer(json_integer_value(c) + 1));
  }
  free(v);
  return ST_OK;
}

static st_code m_sectors_summary(st_rpc_req *q, st_err *err) { return count_states(q->ctx, &q->result, err); }

static st_code m_sectors_status(st_rpc_req *q, st_err *err) {
  st_miner_api *a = q->ctx;
  uint64_t num = ((number_flag_args *)q->args)->number;
  bool onchain = ((number_flag_args *)q->args)->flag;
  st_code code;
  st_sealing_sector x;
  bool found;
  pthread_mutex_lock(&a->mu);
  code = st_sealer_get(a->sealer, num, &x, &found, err);
  pthread_mutex_unlock(&a->mu);
  st_sector_onchain info;
  bool on_chain = false;
  st_sector_onchain_init(&info);
  if (!code && onchain) {
    st_rpc_client *node = NULL;
    code = st_rpc_client_open(a->cfg.node, &node, err);
    if (!code) code = st_node_sector_info(node, a->cfg.cfg->miner, num, &info, &on_chain, err);
    st_rpc_client_close(node);
  }
  if (!code && !found && !on_chain)
    code = st_err_set(err, ST_ENOENT, "sector %llu of %s is neither in this miner's sealing database nor on chain",
                      (unsigned long long)num, a->addr);
  if (!code) {
    q->result = json_pack("{sI ss sI ss ss sI}", "SectorID", (json_int_t)num, "State",
                          found ? x.state : "(not sealed here)", "Retries", (json_int_t)x.retries, "LastErr", x.error,
                          "Storage", x.root, "Updated", (json_int_t)x.updated);
    if (found)
      json_object_set_new(q->result, "Holder",
                          x.owner ? json_pack("{sI sb}", "Machine", (json_int_t)x.owner, "Live", x.held) : json_null());
    if (onchain) json_object_set_new(q->result, "OnChain", on_chain ? st_sector_onchain_to_json(&info) : json_null());
  }
  st_sector_onchain_free(&info);
  return code;
}

/* The cluster's processes (st_cluster_store's machines). */
static st_code m_cluster(st_rpc_req *q, st_err *err) {
  st_miner_api *a = q->ctx;
  json_t *reply;
  pthread_mutex_lock(&a->mu);
  st_code code = st_cluster_call(a->cluster, a->cfg.cfg->miner, "machines", json_object(), &reply, err);
  pthread_mutex_unlock(&a->mu);
  if (code) return code;
  q->result = reply;
  return ST_OK;
}

static st_code m_pledge(st_rpc_req *q, st_err *err) {
  st_miner_api *a = q->ctx;
  uint64_t n;
  pthread_mutex_lock(&a->mu);
  st_code code = st_sealer_pledge(a->sealer, &n, err);
  pthread_mutex_unlock(&a->mu);
  if (!code) q->result = json_pack("{sI sI}", "Miner", (json_int_t)a->cfg.cfg->miner, "Number", (json_int_t)n);
  return code;
}

/* A storage node (node) as this host sees it at path, with how many of the sealing database's
 * sectors v[0..n) live there. */
static json_t *storage_json(const st_storage_node *node, const char *path, const st_sealing_sector *v, size_t n) {
  struct stat st;
  int64_t sectors = 0;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(v[i].root, path)) sectors++;
  return json_pack("{sI ss ss sI ss sb sI sI sI ss sI}", "ID", (json_int_t)node->id, "Host", node->host, "Type",
                   node->mount_type, "Group", (json_int_t)node->group, "Path", path, "Reachable",
                   stat(path, &st) == 0 && S_ISDIR(st.st_mode), "Capacity", (json_int_t)node->capacity, "Available",
                   (json_int_t)node->available, "LastHeartbeat", (json_int_t)node->last_heartbeat, "HeartbeatErr",
                   node->heartbeat_err, "Sectors", (json_int_t)sectors);
}

static st_code m_storage_list(st_rpc_req *q, st_err *err) {
  st_miner_api *a = q->ctx;
  st_sealing_sector *v;
  size_t n;
  st_code code = list_sectors(a, &v, &n, err);
  if (code) return code;
  q->result = json_array();
  if (!a->cfg.server_api) { /* the dist-path itself; an unreadable one shows 0 and Reachable false */
    st_storage_node local = {.host = "localhost", .mount_type = "local", .group = -1};
    st_fs_space(a->cfg.dist_path, &local.capacity, &local.available, NULL);
    json_array_append_new(q->result, storage_json(&local, a->cfg.dist_path, v, n));
    free(v);
    return ST_OK;
  }
  st_regc *reg = NULL;
  st_storage_node *nodes = NULL;
  size_t nn = 0;
  code = st_regc_open(a->cfg.server_api, a->cfg.server_token, &reg, err);
  if (!code) code = st_regc_nodes(reg, &nodes, &nn, err);
  for (size_t i = 0; i < nn && !code; i++) {
    char path[ST_REG_PATH_MAX];
    if (!(code = st_reg_root(a->cfg.dist_path, &nodes[i], path, err)))
      json_array_append_new(q->result, storage_json(&nodes[i], path, v, n));
  }
  if (code) st_err_wrap(err, code, "the registry at %s", a->cfg.server_api);
  free(nodes);
  st_regc_close(reg);
  free(v);
  return code;
}

static st_code m_proving_check(st_rpc_req *q, st_err *err) {
  st_miner_api *a = q->ctx;
  uint64_t dl = ((number_flag_args *)q->args)->number;
  bool slow = ((number_flag_args *)q->args)->flag;
  st_code code;
  st_rpc_client *node = NULL;
  st_locator loc = {a->cfg.dist_path, NULL};
  code = st_rpc_client_open(a->cfg.node, &node, err);
  if (!code && a->cfg.server_api) code = st_regc_open(a->cfg.server_api, a->cfg.server_token, &loc.reg, err);
  st_wdpost_cfg wc = {.node = node,
                      .miner = a->cfg.cfg->miner,
                      .info = a->cfg.cfg->info,
                      .locate = st_locator_locate,
                      .locate_ctx = &loc,
                      .post = a->cfg.post};
  st_wdpost_check *v = NULL;
  size_t n = 0;
  if (!code) code = st_wdpost_check_deadline(&wc, dl, slow, &v, &n, err);
  if (!code) {
    q->result = json_array();
    for (size_t i = 0; i < n; i++)
      json_array_append_new(q->result, json_pack("{sI sI sb ss ss ss}", "Partition", (json_int_t)v[i].partition,
                                                 "Sector", (json_int_t)v[i].sector, "Good", v[i].good, "Err",
                                                 v[i].error, "Sealed", v[i].paths.sealed, "Cache", v[i].paths.cache));
  }
  free(v);
  st_regc_close(loc.reg);
  st_rpc_client_close(node);
  return code;
}

/* ---- the market ---- */

static json_t *deal_json(const st_deal_record *r) {
  return json_pack("{ss ss ss sI sI sb sI sI ss ss ss sI sI ss sI sI}", "ProposalCid", r->proposal_cid, "Client",
                   r->client, "PieceCID", r->piece_cid, "PieceSize", (json_int_t)r->piece_size, "PayloadSize",
                   (json_int_t)r->payload_size, "Verified", r->verified, "StartEpoch", (json_int_t)r->start_epoch,
                   "EndEpoch", (json_int_t)r->end_epoch, "PricePerEpoch", r->price, "State", r->state, "Message",
                   r->message, "DealID", (json_int_t)r->deal_id, "SectorNumber", (json_int_t)r->sector, "PublishCid",
                   r->publish_cid, "CreatedAt", (json_int_t)r->created, "UpdatedAt", (json_int_t)r->updated);
}

/* MarketProposeDeal [proposal (ClientDealProposal, CBOR), the piece's bytes], both base64. */
typedef struct propose_args {
  st_buf proposal, data;
} propose_args;

static st_code p_market_propose_deal(const json_t *params, void *args, st_err *err) {
  propose_args *a = args;
  st_code code = st_rpc_param_bytes(params, 0, "ClientDealProposal, CBOR", false, &a->proposal, err);
  return code ? code : st_rpc_param_bytes(params, 1, "the piece's bytes", false, &a->data, err);
}

static void free_propose(void *args) {
  propose_args *a = args;
  st_buf_free(&a->proposal);
  st_buf_free(&a->data);
}

static st_code m_market_propose_deal(st_rpc_req *q, st_err *err) {
  st_miner_api *a = q->ctx;
  const propose_args *p = q->args;
  if (!strcmp(a->cfg.mode, "poster"))
    return st_err_set(err, ST_EUNAVAIL, "miner %s runs in poster mode here and takes no deals: propose to its sealer",
                      a->addr);
  st_rpc_client *node = NULL;
  st_deal_record r;
  st_code code = st_rpc_client_open(a->cfg.node, &node, err);
  if (!code) { /* a refusal's reason reaches the client */
    pthread_mutex_lock(&a->mu);
    code = st_deals_accept(a->deals, node, p->proposal.data, p->proposal.len, p->data.data, p->data.len, &r, err);
    pthread_mutex_unlock(&a->mu);
  }
  if (!code) q->result = deal_json(&r);
  st_rpc_client_close(node);
  return code;
}

/* What this miner takes: piece sizes, how far ahead a deal must start, how long it must last. */
static st_code m_market_get_ask(st_rpc_req *q, st_err *err) {
  st_miner_api *a = q->ctx;
  st_rpc_client *node = NULL;
  st_network net;
  uint64_t genesis;
  st_code code = st_rpc_client_open(a->cfg.node, &node, err);
  if (!code) code = st_node_network(node, &net, &genesis, err);
  st_rpc_client_close(node);
  if (code) return code;
  q->result = json_pack("{ss ss ss sI sI sI sI}", "Miner", a->addr, "Price", "0", "VerifiedPrice", "0", "MinPieceSize",
                        (json_int_t)128, "MaxPieceSize", (json_int_t)a->cfg.cfg->info->size, "StartDelay",
                        (json_int_t)a->cfg.deal_seal_epochs, "MinSectorLife",
                        (json_int_t)(net.max_prove_commit_duration + net.proving_period + 1));
  return ST_OK;
}

static st_code m_market_list_deals(st_rpc_req *q, st_err *err) {
  st_miner_api *a = q->ctx;
  st_deal_record *v;
  size_t n;
  pthread_mutex_lock(&a->mu);
  st_code code = st_deals_list(a->deals, &v, &n, err);
  pthread_mutex_unlock(&a->mu);
  if (code) return code;
  q->result = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(q->result, deal_json(&v[i]));
  free(v);
  return ST_OK;
}

typedef struct cid_text_args {
  const char *cid; /* borrowed from the params, which outlive the call */
} cid_text_args;

static st_code p_market_deal_status(const json_t *params, void *args, st_err *err) {
  return st_rpc_param_text(params, 0, "proposal CID", &((cid_text_args *)args)->cid, err);
}

static st_code m_market_deal_status(st_rpc_req *q, st_err *err) {
  st_miner_api *a = q->ctx;
  const char *cid = ((cid_text_args *)q->args)->cid;
  st_deal_record r;
  bool found;
  pthread_mutex_lock(&a->mu);
  st_code code = st_deals_get(a->deals, cid, &r, &found, err);
  pthread_mutex_unlock(&a->mu);
  if (!code && !found) return st_err_set(err, ST_ENOENT, "miner %s has no deal %.100s", a->addr, cid);
  if (!code) q->result = deal_json(&r);
  return code;
}

/* GET /piece/<piece CID>: the client's bytes, unsealed from the sealed sector. */
static void retrieve(st_miner_api *a, const char *cid, st_http_response *resp) {
  st_deal_record r;
  st_sealing_sector x;
  bool found = false, have_sector = false;
  st_err err;
  pthread_mutex_lock(&a->mu);
  st_code code = st_deals_by_piece(a->deals, cid, &r, &found, &err);
  if (!code && found) code = st_sealer_get(a->sealer, (uint64_t)r.sector, &x, &have_sector, &err);
  pthread_mutex_unlock(&a->mu);
  if (code) {
    st_http_reply_error(resp, 500, "%s", err.msg);
    return;
  }
  if (!found) {
    st_http_reply_error(resp, 404, "miner %s stores no piece %.100s", a->addr, cid);
    return;
  }
  if (!have_sector || strcmp(x.state, "Proving") || !x.has_seal) {
    st_http_reply_error(resp, 409, "piece %.100s is in sector %lld, which is %s, not sealed yet", cid,
                        (long long)r.sector, have_sector ? x.state : "missing");
    return;
  }
  char scratch[ST_PATH_MAX], out[ST_PATH_MAX];
  if (!code) code = st_miner_repo_path(a->cfg.repo, "unseal", scratch, &err);
  if (!code) code = st_fs_mkdir_p(scratch, 0755, &err);
  st_fs_tmpfile t;
  bool open_ = false;
  if (!code) {
    snprintf(out, sizeof out, "%.4000s/piece", scratch);
    code = st_fs_tmpfile_open(&t, out, 0600, &err);
    open_ = !code;
  }
  st_seal_progress prog;
  st_seal_observer obs = st_seal_progress_start(&prog, "unsealing", (uint64_t)r.sector, a->cfg.cfg->info->layers);
  st_unseal_input in = {.info = a->cfg.cfg->info,
                        .miner = a->cfg.cfg->miner,
                        .sector = (uint64_t)r.sector,
                        .root = x.root,
                        .scratch = scratch,
                        .observer = &obs};
  memcpy(in.ticket, x.ticket, 32);
  memcpy(in.comm_d, x.comm_d, 32);
  pthread_mutex_lock(&a->unseal_mu);
  if (!code)
    code = st_unseal_range(&in, 0, r.piece_size, t.fd, &err); /* one deal per sector: the piece is at offset 0 */
  pthread_mutex_unlock(&a->unseal_mu);
  st_buf body = ST_BUF_INIT;
  /* the piece's bytes past the payload are its zero fill, not the client's */
  if (!code && !st_buf_reserve(&body, r.payload_size)) code = st_err_set(&err, ST_ENOMEM, "out of memory");
  if (!code) code = st_fs_pread_all(t.fd, body.data, r.payload_size, 0, t.tmp, &err);
  if (!code) body.len = r.payload_size;
  if (open_) st_fs_tmpfile_abort(&t);
  if (code) {
    st_http_reply_error(resp, 500, "unsealing sector %lld: %s", (long long)r.sector, err.msg);
    st_buf_free(&body);
    return;
  }
  st_log("markets", ST_LOG_INFO, "piece retrieved",
         json_pack("{s:s, s:I, s:I}", "piece", cid, "sector", (json_int_t)r.sector, "bytes", (json_int_t)body.len));
  resp->status = 200;
  resp->content_type = "application/octet-stream";
  st_buf_append(&resp->body, body.data, body.len);
  st_buf_free(&body);
}

static const st_rpc_method METHODS[] = {
    ST_RPC_NOARGS("ActorAddress", ST_PERM_READ, m_actor_address),
    ST_RPC_METHOD("ActorSectorSize", ST_PERM_READ, 1, 1, p_sector_size, addr_args, NULL, m_sector_size),
    ST_RPC_NOARGS("MinerRunInfo", ST_PERM_READ, m_run_info),
    ST_RPC_NOARGS("SectorsList", ST_PERM_READ, m_sectors_list),
    ST_RPC_NOARGS("SectorsSummary", ST_PERM_READ, m_sectors_summary),
    ST_RPC_METHOD("SectorsStatus", ST_PERM_READ, 1, 2, p_sectors_status, number_flag_args, NULL, m_sectors_status),
    ST_RPC_NOARGS("PledgeSector", ST_PERM_WRITE, m_pledge),
    ST_RPC_NOARGS("Cluster", ST_PERM_READ, m_cluster),
    ST_RPC_NOARGS("StorageList", ST_PERM_READ, m_storage_list),
    ST_RPC_METHOD("ProvingCheck", ST_PERM_READ, 1, 2, p_proving_check, number_flag_args, NULL, m_proving_check),
    ST_RPC_METHOD("MarketProposeDeal", ST_PERM_READ, 2, 2, p_market_propose_deal, propose_args, free_propose,
                  m_market_propose_deal),
    ST_RPC_NOARGS("MarketGetAsk", ST_PERM_READ, m_market_get_ask),
    ST_RPC_NOARGS("MarketListDeals", ST_PERM_READ, m_market_list_deals),
    ST_RPC_METHOD("MarketDealStatus", ST_PERM_READ, 1, 1, p_market_deal_status, cid_text_args, NULL,
                  m_market_deal_status),
};

/* A Prometheus label value: backslash, quote and newline escaped. */
static void label(st_buf *b, const char *v) {
  for (; *v; v++) {
    if (*v == '\\' || *v == '"') st_buf_putc(b, '\\');
    if (*v == '\n') st_buf_puts(b, "\\n");
    else st_buf_putc(b, *v);
  }
}

static void metrics(void *ctx, const st_http_request *req, st_http_response *resp) {
  st_miner_api *a = ctx;
  if (!strncmp(req->path, "/piece/", 7)) {
    retrieve(a, req->path + 7, resp);
    return;
  }
  if (strcmp(req->path, "/metrics")) {
    st_http_reply_error(resp, 404,
                        "no such path \"%s\": the miner serves /rpc/v0, /rpc/v1, /metrics and /piece/<piece CID>",
                        req->path);
    return;
  }
  json_t *states = NULL;
  st_err err;
  if (count_states(a, &states, &err)) {
    st_http_reply_error(resp, 500, "%s", err.msg);
    return;
  }
  pthread_mutex_lock(&a->mu);
  st_poster_stats s = a->poster;
  pthread_mutex_unlock(&a->mu);
  st_buf *b = &resp->body;
  resp->content_type = "text/plain; version=0.0.4";
  st_buf_puts(
      b,
      "# HELP spacetime_miner_info The miner this process runs, its mode and its registry.\n# TYPE spacetime_miner_info gauge\n"
      "spacetime_miner_info{miner=\"");
  label(b, a->addr);
  st_buf_puts(b, "\",mode=\"");
  label(b, a->cfg.mode);
  st_buf_puts(b, "\",server_api=\"");
  label(b, a->cfg.server_api ? a->cfg.server_api : "");
  st_buf_puts(b, "\",dist_path=\"");
  label(b, a->cfg.dist_path);
  st_buf_puts(b, "\"} 1\n");
  static const struct {
    const char *name, *type, *help;
    size_t off;
  } C[] = {
      {"wdpost_messages_submitted_total", "counter", "SubmitWindowedPoSt messages sent.",
       offsetof(st_poster_stats, posts_submitted)},
      {"wdpost_messages_landed_total", "counter", "SubmitWindowedPoSt messages that landed with exit code 0.",
       offsetof(st_poster_stats, posts_landed)},
      {"wdpost_messages_failed_total", "counter", "SubmitWindowedPoSt messages that failed on chain.",
       offsetof(st_poster_stats, posts_failed)},
      {"wdpost_sectors_proven_total", "counter", "Sectors covered by the WindowPoSt proofs made.",
       offsetof(st_poster_stats, sectors_proven)},
      {"wdpost_sectors_skipped_total", "counter",
       "Sectors left out of WindowPoSt proofs because they could not be read.",
       offsetof(st_poster_stats, sectors_skipped)},
      {"recoveries_declared_total", "counter", "Sectors declared recovered.",
       offsetof(st_poster_stats, recoveries_declared)},
      {"faults_declared_total", "counter", "Sectors declared faulty before their deadline (they could not be read).",
       offsetof(st_poster_stats, faults_declared)},
      {"rounds_tried_total", "counter", "Rounds the poster tried to win a block in.",
       offsetof(st_poster_stats, rounds_tried)},
      {"blocks_mined_total", "counter", "Blocks mined and submitted.", offsetof(st_poster_stats, blocks_mined)},
  };
  for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
    uint64_t x;
    memcpy(&x, (const char *)&s + C[i].off, sizeof x);
    st_buf_printf(b, "# HELP spacetime_miner_%s %s\n# TYPE spacetime_miner_%s %s\nspacetime_miner_%s %llu\n", C[i].name,
                  C[i].help, C[i].name, C[i].type, C[i].name, (unsigned long long)x);
  }
  st_buf_printf(b,
                "# HELP spacetime_miner_last_mined_height Height of the last block mined (-1: none yet).\n"
                "# TYPE spacetime_miner_last_mined_height gauge\nspacetime_miner_last_mined_height %lld\n",
                (long long)s.last_mined_height);
  st_buf_puts(
      b,
      "# HELP spacetime_miner_sectors Sectors in the sealing database, by state.\n# TYPE spacetime_miner_sectors gauge\n");
  const char *state;
  const json_t *count;
  json_object_foreach(states, state, count) {
    st_buf_puts(b, "spacetime_miner_sectors{state=\"");
    label(b, state);
    st_buf_printf(b, "\"} %lld\n", (long long)json_integer_value(count));
  }
  json_decref(states);
  st_http_server_metrics(a->http, "spacetime_miner", b);
}

st_code st_miner_api_start(const st_miner_api_cfg *cfg, st_miner_api **out, st_err *err) {
  st_miner_api *a = calloc(1, sizeof *a);
  if (!a) return st_err_set(err, ST_ENOMEM, "out of memory");
  a->cfg = *cfg;
  a->started = (int64_t)time(NULL);
  a->poster.last_mined_height = -1;
  snprintf(a->addr, sizeof a->addr, "t0%llu", (unsigned long long)cfg->cfg->miner);
  pthread_mutex_init(&a->mu, NULL);
  pthread_mutex_init(&a->unseal_mu, NULL);
  uint8_t secret[ST_JWT_SECRET_LEN];
  char db[ST_PATH_MAX], bound[300];
  char *token = NULL;
  st_code code = st_miner_repo_path(cfg->repo, "sealing.db", db, err);
  if (!code)
    code = st_cluster_open_repo(cfg->server_api, cfg->server_token, cfg->repo, cfg->cfg->miner, &a->cluster, err);
  if (!code && cfg->server_api) code = st_regc_open(cfg->server_api, cfg->server_token, &a->reg, err);
  if (!code) code = st_rpc_client_open(cfg->node, &a->node, err);
  st_sealer_cfg sc = {.cluster = a->cluster,
                      .node = a->node,
                      .miner = cfg->cfg->miner,
                      .info = cfg->cfg->info,
                      .registry = a->reg,
                      .dist_path = cfg->dist_path,
                      .group = -1};
  if (!code) code = st_sealer_open(&sc, &a->sealer, err);
  char dir[ST_PATH_MAX];
  st_deals_cfg dc = {.miner = cfg->cfg->miner,
                     .info = cfg->cfg->info,
                     .sender = cfg->cfg->worker,
                     .dir = dir,
                     .seal_epochs = cfg->deal_seal_epochs};
  if (!code) code = st_miner_repo_path(cfg->repo, "deals", dir, err);
  if (!code) code = st_deals_open(&dc, db, &a->deals, err);
  if (!code) code = st_apiinfo_secret(cfg->repo, secret, err);
  /* a deal proposal carries the piece's bytes in base64: room for a whole sector's, up to 64 MiB */
  uint64_t body = cfg->cfg->info->size / 3 * 4 + (1 << 20);
  st_rpc_opts ro = {.methods = METHODS,
                    .nmethods = sizeof METHODS / sizeof METHODS[0],
                    .ctx = a,
                    .jwt_secret = secret,
                    .fallback = metrics,
                    .methods_block = true, /* ProvingCheck and /piece read sector files */
                    .large_unauth = 2,     /* deal proposals carry a piece without a token */
                    .fallback_ctx = a,
                    .max_body = body < (64u << 20) ? (size_t)body : (64u << 20)};
  if (!code) code = st_rpc_new(&ro, &a->rpc, err);
  if (!code) code = st_rpc_serve(a->rpc, cfg->listen, 4, &a->http, err);
  if (!code) {
    const char *colon = strrchr(cfg->listen, ':'); /* st_rpc_serve has checked HOST:PORT */
    snprintf(bound, sizeof bound, "%.*s:%u", (int)(colon - cfg->listen), cfg->listen, st_http_server_port(a->http));
    code = st_multiaddr_from_listen(bound, a->multiaddr, sizeof a->multiaddr, err);
  }
  if (!code) code = st_jwt_create(secret, ST_PERM_ALL, &token, err);
  if (!code) code = st_apiinfo_write_token(cfg->repo, token, err);
  if (!code) code = st_apiinfo_write_api(cfg->repo, a->multiaddr, err);
  free(token);
  st_secure_zero(secret, sizeof secret);
  if (code) {
    st_err_wrap(err, code, "the miner API on %s", cfg->listen);
    st_miner_api_stop(a);
    return code;
  }
  *out = a;
  return ST_OK;
}

const char *st_miner_api_addr(const st_miner_api *a) { return a->multiaddr; }

void st_miner_api_set_poster(st_miner_api *a, const st_poster_stats *s) {
  pthread_mutex_lock(&a->mu);
  st_poster_stats blocks = a->poster;
  a->poster = *s;
  a->poster.rounds_tried = blocks.rounds_tried;
  a->poster.blocks_mined = blocks.blocks_mined;
  a->poster.last_mined_height = blocks.last_mined_height;
  pthread_mutex_unlock(&a->mu);
}

void st_miner_api_set_blocks(st_miner_api *a, const st_poster_stats *s) {
  pthread_mutex_lock(&a->mu);
  a->poster.rounds_tried = s->rounds_tried;
  a->poster.blocks_mined = s->blocks_mined;
  a->poster.last_mined_height = s->last_mined_height;
  pthread_mutex_unlock(&a->mu);
}

void st_miner_api_stop(st_miner_api *a) {
  if (!a) return;
  if (a->multiaddr[0]) st_apiinfo_remove_api(a->cfg.repo, NULL);
  st_http_server_stop(a->http);
  st_rpc_free(a->rpc);
  st_sealer_close(a->sealer);
  st_cluster_close(a->cluster);
  st_regc_close(a->reg);
  st_rpc_client_close(a->node);
  st_deals_close(a->deals);
  pthread_mutex_destroy(&a->mu);
  pthread_mutex_destroy(&a->unseal_mu);
  free(a);
}

st_code st_miner_api_call(st_rpc_client *c, const char *method, json_t *params, json_t **result, st_err *err) {
  st_code code = st_rpc_client_call(c, method, params, result, err);
  return code ? st_err_wrap(err, code, "%s%s", ST_MINER_API_PREFIX, method) : ST_OK;
}
