/* st_sealer: the sealing state machine over the sealing database and the daemon's API. */
#include "miner/st_sealer.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chain/st_rand.h"
#include "core/st_encoding.h"
#include "core/st_fs.h"
#include "core/st_log.h"
#include "miner/st_miner_msgs.h"
#include "miner/st_seal_progress.h"
#include "proofs/st_commp.h"
#include "proofs/st_porep.h"
#include "proofs/st_seal.h"
#include "rpc/st_node_api.h"

#define LOG "sectors"

struct st_sealer {
  st_sealer_cfg cfg;
  int64_t delay; /* the chain's pre-commit challenge delay (read once) */
  char host[256];
  st_storage_node *nodes; /* the registry's nodes, for the sectors' roots on this host */
  size_t nnodes;
  int64_t nodes_at; /* when they were read */
};

/* A sector's row, as the state machine reads it. */
typedef struct sector {
  uint64_t number;
  char state[32];
  char root[ST_PATH_MAX]; /* on this host ("" until Packing is done) */
  int64_t node_id, ticket_epoch, expiration, precommit_epoch, retries, updated, owner, lease_until;
  bool has_error;
  uint8_t ticket[32], comm_d[32], comm_r[32];
  bool has_seal;
  char precommit_cid[ST_CID_STR_MAX], commit_cid[ST_CID_STR_MAX];
  bool has_deal; /* a sector holding one deal's piece */
  uint64_t deal_id, piece_size;
  int64_t deal_end;
  char piece[ST_PATH_MAX];
} sector;

st_code st_sealer_open(const st_sealer_cfg *cfg, st_sealer **out, st_err *err) {
  *out = calloc(1, sizeof **out);
  if (!*out) return st_err_set(err, ST_ENOMEM, "out of memory");
  (*out)->cfg = *cfg;
  if (!(*out)->cfg.max_sectors) (*out)->cfg.max_sectors = 4;
  if (gethostname((*out)->host, sizeof(*out)->host - 1) || !(*out)->host[0])
    snprintf((*out)->host, sizeof(*out)->host, "localhost");
  return ST_OK;
}

void st_sealer_close(st_sealer *s) {
  if (!s) return;
  free(s->nodes);
  free(s);
}

static st_code call(st_sealer *s, const char *op, json_t *params, json_t **reply, st_err *err) {
  return st_cluster_call(s->cfg.cluster, s->cfg.miner, op, params, reply, err);
}

/* The first number the chain has not seen: its highest sector + 1 (1 without a node). */
static st_code chain_min(st_sealer *s, int64_t *min, st_err *err) {
  *min = 1;
  if (!s->cfg.node) return ST_OK;
  st_node_sector *v = NULL;
  size_t n = 0;
  st_code code = st_node_sectors(s->cfg.node, s->cfg.miner, NULL, NULL, &v, &n, err);
  for (size_t i = 0; !code && i < n; i++)
    if ((int64_t)v[i].number >= *min) *min = (int64_t)v[i].number + 1;
  free(v);
  return code;
}

/* sector_new with params (stolen): *number, *created. */
static st_code new_sector(st_sealer *s, json_t *params, uint64_t *number, bool *created, st_err *err) {
  int64_t min;
  json_t *reply;
  st_code code = chain_min(s, &min, err);
  if (code) {
    json_decref(params);
    return code;
  }
  if (params) json_object_set_new(params, "min", json_integer(min));
  code = call(s, "sector_new", params, &reply, err);
  *number = code ? 0 : (uint64_t)json_integer_value(json_object_get(reply, "number"));
  *created = !code && json_is_true(json_object_get(reply, "created"));
  json_decref(reply);
  return code;
}

st_code st_sealer_pledge(st_sealer *s, uint64_t *number, st_err *err) {
  bool created;
  st_code code = new_sector(s, json_object(), number, &created, err);
  if (!code) st_log(LOG, ST_LOG_INFO, "pledged sector", json_pack("{s:I}", "sector", (json_int_t)*number));
  return code;
}

st_code st_sealer_add_deal(st_sealer *s, uint64_t deal_id, const char *piece, uint64_t piece_size, int64_t deal_end,
                           uint64_t *number, st_err *err) {
  bool created;
  st_code code =
      new_sector(s,
                 json_pack("{s:I, s:s, s:I, s:I, s:s}", "deal_id", (json_int_t)deal_id, "piece", piece, "piece_size",
                           (json_int_t)piece_size, "deal_end", (json_int_t)deal_end, "pin_host", s->host),
                 number, &created, err);
  if (!code && created)
    st_log(LOG, ST_LOG_INFO, "deal placed in a new sector",
           json_pack("{s:I, s:I, s:I}", "sector", (json_int_t)*number, "deal", (json_int_t)deal_id, "piece_size",
                     (json_int_t)piece_size));
  return code;
}

/* ---- rows ---- */

static void hex32(const json_t *text, uint8_t out[32], bool *ok) {
  const char *t = json_string_value(text);
  if (!t || strlen(t) != 64 || st_hex_decode_exact(t, out, 32, NULL)) *ok = false;
}

static void text_of(const json_t *row, const char *key, char *out, size_t cap) {
  const char *t = json_string_value(json_object_get(row, key));
  snprintf(out, cap, "%s", t ? t : "");
}

static int64_t int_of(const json_t *row, const char *key) { return json_integer_value(json_object_get(row, key)); }

/* The root of node id on this host, from the registry's nodes (read again when older than 30 s
 * or when id is new). */
static st_code node_root(st_sealer *s, int64_t id, char out[ST_PATH_MAX], st_err *err) {
  out[0] = 0;
  if (!s->cfg.registry)
    return st_err_set(err, ST_EINVAL, "sector is on storage node %lld, but this sealer runs without --server-api",
                      (long long)id);
  for (int pass = 0; pass < 2; pass++) {
    if (pass || (int64_t)time(NULL) - s->nodes_at > 30) {
      free(s->nodes);
      s->nodes = NULL;
      s->nnodes = 0;
      st_code code = st_regc_nodes(s->cfg.registry, &s->nodes, &s->nnodes, err);
      if (code) return code;
      s->nodes_at = (int64_t)time(NULL);
    }
    for (size_t i = 0; i < s->nnodes; i++)
      if (s->nodes[i].id == id) return st_reg_root(s->cfg.dist_path, &s->nodes[i], out, err);
  }
  return st_err_set(err, ST_ENOENT, "storage node %lld is not in the registry", (long long)id);
}

/* A row as the state machine reads it; root is left "" when it cannot be placed on this host
 * (the step that needs it fails the sector with why). */
static void read_sector(st_sealer *s, const json_t *row, sector *out, st_err *why) {
  memset(out, 0, sizeof *out);
  out->number = (uint64_t)int_of(row, "number");
  text_of(row, "state", out->state, sizeof out->state);
  out->node_id = int_of(row, "node_id");
  if (out->node_id > 0) {
    st_err e;
    if (node_root(s, out->node_id, out->root, why ? why : &e)) out->root[0] = 0;
  } else text_of(row, "root", out->root, sizeof out->root);
  out->ticket_epoch = int_of(row, "ticket_epoch");
  out->has_seal = true;
  hex32(json_object_get(row, "ticket"), out->ticket, &out->has_seal);
  hex32(json_object_get(row, "comm_d"), out->comm_d, &out->has_seal);
  hex32(json_object_get(row, "comm_r"), out->comm_r, &out->has_seal);
  out->expiration = int_of(row, "expiration");
  text_of(row, "precommit_cid", out->precommit_cid, sizeof out->precommit_cid);
  out->precommit_epoch = int_of(row, "precommit_epoch");
  text_of(row, "commit_cid", out->commit_cid, sizeof out->commit_cid);
  out->retries = int_of(row, "retries");
  out->updated = int_of(row, "updated");
  out->owner = int_of(row, "owner");
  out->lease_until = int_of(row, "lease_until");
  const char *e = json_string_value(json_object_get(row, "error"));
  out->has_error = e && e[0];
  out->has_deal = json_is_integer(json_object_get(row, "deal_id"));
  out->deal_id = (uint64_t)int_of(row, "deal_id");
  text_of(row, "piece", out->piece, sizeof out->piece);
  out->piece_size = (uint64_t)int_of(row, "piece_size");
  out->deal_end = int_of(row, "deal_end");
}

/* sector_update of x with set (stolen): ST_ECONFLICT when this sealer no longer holds x. */
static st_code update(st_sealer *s, sector *x, json_t *set, bool retries_inc, st_err *err) {
  json_t *reply;
  st_code code = call(s, "sector_update",
                      set ? json_pack("{s:I, s:I, s:o, s:b}", "machine", (json_int_t)s->cfg.machine, "number",
                                      (json_int_t)x->number, "set", set, "retries_inc", retries_inc)
                          : NULL,
                      &reply, err);
  json_decref(reply);
  return code;
}

/* Sets the state (and error, "" to clear) in one UPDATE, plus the named extra column (val,
 * stolen). */
static st_code set_state(st_sealer *s, sector *x, const char *state, const char *error, const char *col, json_t *val,
                         st_err *err) {
  json_t *set = json_pack("{s:s, s:s}", "state", state, "error", error ? error : "");
  if (set && col) json_object_set_new(set, col, val);
  else json_decref(val);
  st_code code = update(s, x, set, false, err);
  if (code) return code;
  if (error && *error)
    st_logf(LOG, ST_LOG_ERROR, "sector %llu: %s -> %s: %s", (unsigned long long)x->number, x->state, state, error);
  else
    st_log(LOG, ST_LOG_INFO, "sector state",
           json_pack("{s:I, s:s, s:s, s:I}", "sector", (json_int_t)x->number, "from", x->state, "to", state, "machine",
                     (json_int_t)s->cfg.machine));
  snprintf(x->state, sizeof x->state, "%s", state);
  return ST_OK;
}

/* A failure: the error is kept and the retry count goes up. */
static st_code fail(st_sealer *s, sector *x, const char *state, const char *why, st_err *err) {
  st_code code = update(s, x, json_pack("{s:s, s:s}", "state", state, "error", why), true, err);
  if (code) return code;
  st_logf(LOG, ST_LOG_ERROR, "sector %llu: %s failed: %s", (unsigned long long)x->number, x->state, why);
  snprintf(x->state, sizeof x->state, "%s", state);
  x->retries++;
  return ST_OK;
}

/* Fails unless this sealer still holds x (before a side effect). */
static st_code still_mine(st_sealer *s, const sector *x, st_err *err) {
  int64_t key = (int64_t)x->number;
  return st_cluster_check(s->cfg.cluster, s->cfg.miner, s->cfg.machine, "sealing", &key, 1, 1, err);
}

/* ---- steps: each returns ST_OK having moved x on (or left it to wait), or a database or
 * node error. Sector faults go to fail(). ---- */

static st_code step_packing(st_sealer *s, sector *x, st_err *err) {
  if (!s->cfg.registry) return set_state(s, x, "PreCommit1", "", "root", json_string(s->cfg.dist_path), err);
  st_reg_alloc req = {
      .miner = s->cfg.miner, .sector = x->number, .size = (int64_t)s->cfg.info->size * 2, .group = s->cfg.group};
  st_storage_node node;
  st_err e;
  st_code code = st_regc_allocate(s->cfg.registry, &req, &node, NULL, &e);
  if (code == ST_EUNAVAIL && !strstr(e.msg, "no storage node")) return st_err_set(err, code, "%s", e.msg);
  if (code) return fail(s, x, "Packing", e.msg, err); /* no node yet: stays Packing, retried */
  json_t *set = json_pack("{s:s, s:s, s:I, s:I}", "state", "PreCommit1", "error", "", "node_id", (json_int_t)node.id,
                          "node_group", (json_int_t)node.group);
  if ((code = update(s, x, set, false, err))) return code;
  st_log(LOG, ST_LOG_INFO, "sector state",
         json_pack("{s:I, s:s, s:s, s:I, s:I}", "sector", (json_int_t)x->number, "from", x->state, "to", "PreCommit1",
                   "storage_node", (json_int_t)node.id, "machine", (json_int_t)s->cfg.machine));
  snprintf(x->state, sizeof x->state, "PreCommit1");
  return ST_OK;
}

/* This claim's staging root for x: <root>/.staging/s-t0<m>-<n>.m<machine>; every other
 * staging root of x (a claim that lapsed) is removed first. */
static st_code staging_root(st_sealer *s, const sector *x, char out[ST_PATH_MAX], st_err *err) {
  char dir[ST_PATH_MAX], prefix[64], old[ST_PATH_MAX];
  snprintf(dir, sizeof dir, "%.*s/.staging", ST_PATH_MAX - 16, x->root);
  int plen = snprintf(prefix, sizeof prefix, "s-t0%llu-%llu.", (unsigned long long)s->cfg.miner,
                      (unsigned long long)x->number);
  st_code code = st_fs_mkdir_p(dir, 0755, err);
  DIR *d = code ? NULL : opendir(dir);
  if (!code && !d) return st_fs_os_error(err, "open", dir, errno);
  for (struct dirent *e; d && !code && (e = readdir(d));) {
    if (strncmp(e->d_name, prefix, (size_t)plen)) continue;
    snprintf(old, sizeof old, "%.*s/%.200s", ST_PATH_MAX - 256, dir, e->d_name);
    code = st_fs_remove_tree(old, err);
  }
  if (d) closedir(d);
  snprintf(out, ST_PATH_MAX, "%.*s/%s%s%lld", ST_PATH_MAX - 128, dir, prefix, "m", (long long)s->cfg.machine);
  return code;
}

/* Moves staging's sealed/, cache/ and unsealed/ (deal) files of x into place under x->root,
 * replacing what is there; then removes staging. The caller has checked its claim. */
static st_code move_into_place(st_sealer *s, const sector *x, const char *staging, st_err *err) {
  st_sector_paths from, to;
  st_code code = st_sector_paths_make(staging, s->cfg.miner, x->number, &from, err);
  if (!code) code = st_sector_paths_make(x->root, s->cfg.miner, x->number, &to, err);
  const char *dirs[] = {"sealed", "cache", "unsealed"};
  for (int i = 0; i < 3 && !code; i++) {
    char d[ST_PATH_MAX];
    snprintf(d, sizeof d, "%.*s/%s", ST_PATH_MAX - 16, x->root, dirs[i]);
    code = st_fs_mkdir_p(d, 0755, err);
  }
  if (!code) code = st_fs_remove_tree(to.cache, err);
  if (!code && rename(from.cache, to.cache)) code = st_fs_os_error(err, "move into place", from.cache, errno);
  if (!code && rename(from.sealed, to.sealed)) code = st_fs_os_error(err, "move into place", from.sealed, errno);
  if (!code && x->has_deal && rename(from.unsealed, to.unsealed))
    code = st_fs_os_error(err, "move into place", from.unsealed, errno);
  if (!code) code = st_fs_remove_tree(staging, err);
  if (!code)
    st_log(LOG, ST_LOG_INFO, "sector files moved into place",
           json_pack("{s:I, s:s, s:I}", "sector", (json_int_t)x->number, "root", x->root, "machine",
                     (json_int_t)s->cfg.machine));
  return code;
}

/* A deal sector's data, staged for sealing under staging: <staging>/unsealed/s-t0<m>-<n>. */
static st_code stage_deal(st_sealer *s, const sector *x, const char *staging, char out[ST_PATH_MAX], uint8_t comm_d[32],
                          st_err *err) {
  st_sector_paths p;
  char dir[ST_PATH_MAX];
  st_code code = st_sector_paths_make(staging, s->cfg.miner, x->number, &p, err);
  if (!code) {
    snprintf(dir, sizeof dir, "%.*s/unsealed", ST_PATH_MAX - 10, staging);
    code = st_fs_mkdir_p(dir, 0755, err);
  }
  /* the deal's piece, Fr32-padded at offset 0, zeros after it: the sector's data */
  st_piece_file pf = {x->piece, x->piece_size};
  if (!code) code = st_stage_sector(p.unsealed, s->cfg.info->size, &pf, 1, comm_d, err);
  if (!code) memcpy(out, p.unsealed, ST_PATH_MAX);
  return code;
}

/* The chain's record of x: committed, or pre-committed at *pc (0: neither). A record whose
 * sealed CID is not x's belongs to another sealer's sector of the same number (a process that
 * ran alone, beside this one): x is never adopted in its place, but stops with that error. */
static st_code on_chain(st_sealer *s, sector *x, bool *committed, int64_t *pc, bool *foreign, st_err *err) {
  st_cid sealed, mine;
  *foreign = false;
  st_code code = st_node_sector_on_chain(s->cfg.node, s->cfg.miner, x->number, committed, pc, &sealed, err);
  if (code || (!*committed && !*pc) || !x->has_seal) return code;
  st_cid_of_commitment(x->comm_r, true, &mine);
  *foreign = !st_cid_equal(&sealed, &mine);
  return ST_OK;
}

static st_code foreign_sector(st_sealer *s, sector *x, st_err *err) {
  char why[256];
  snprintf(why, sizeof why,
           "sector number %llu is on chain with another sealed CID: another sealer of t0%llu used it (one without the "
           "cluster's database); this sector is given up",
           (unsigned long long)x->number, (unsigned long long)s->cfg.miner);
  return set_state(s, x, "Removed", why, NULL, NULL, err);
}

/* Before sealing x and again before moving its files into place: a record of x's number on
 * chain that is not x's own earlier seal means the number is another sealer's, and x writes
 * nothing and goes to Removed; x's own (a seal that reached the chain before a crash) sends it
 * on to PreCommitting, where it is adopted. *stop says whether either happened. */
static st_code guard_number(st_sealer *s, sector *x, bool *stop, st_err *err) {
  bool committed, foreign;
  int64_t pc;
  *stop = false;
  st_code code = on_chain(s, x, &committed, &pc, &foreign, err);
  if (code || (!committed && !pc)) return code;
  *stop = true;
  if (foreign || !x->has_seal) return foreign_sector(s, x, err);
  return set_state(s, x, "PreCommitting", "", NULL, NULL, err);
}

static st_code step_precommit1(st_sealer *s, sector *x, int64_t head, st_err *err) {
  if (!x->root[0]) return fail(s, x, "SealPreCommit1Failed", "the sector has no storage root: allocating again", err);
  int64_t epoch = head - s->cfg.confidence;
  if (epoch < 1) return ST_OK; /* wait for a ticket old enough */
  bool stop;
  st_code code = guard_number(s, x, &stop, err);
  if (code || stop) return code;
  st_buf e = ST_BUF_INIT;
  st_rand_entropy_id(s->cfg.miner, &e);
  char staging[ST_PATH_MAX], staged[ST_PATH_MAX];
  st_seal_progress prog;
  st_seal_observer obs = st_seal_progress_start(&prog, "sealing", x->number, s->cfg.info->layers + 4);
  st_seal_input in = {
      .info = s->cfg.info, .miner = s->cfg.miner, .sector = x->number, .root = staging, .observer = &obs};
  code = st_node_randomness(s->cfg.node, false, ST_DST_SEAL, epoch, e.data, e.len, NULL, in.ticket, err);
  st_buf_free(&e);
  if (code) return code;
  st_seal_output out;
  st_err se;
  uint8_t staged_d[32];
  if (staging_root(s, x, staging, &se)) return fail(s, x, "SealPreCommit1Failed", se.msg, err);
  if (x->has_deal) {
    if (stage_deal(s, x, staging, staged, staged_d, &se)) return fail(s, x, "SealPreCommit1Failed", se.msg, err);
    in.data_path = staged;
  }
  if (st_seal(&in, &out, &se)) return fail(s, x, "SealPreCommit1Failed", se.msg, err);
  if (x->has_deal && memcmp(staged_d, out.comm_d, 32))
    return fail(s, x, "SealPreCommit1Failed", "the sealed data is not the staged piece (comm_d differs)", err);
  if ((code = guard_number(s, x, &stop, err)) || stop) {
    st_fs_remove_tree(staging, &se); /* this seal is not wanted: the chain holds the number */
    return code;
  }
  if ((code = still_mine(s, x, err))) return code;
  if (move_into_place(s, x, staging, &se)) return fail(s, x, "SealPreCommit1Failed", se.msg, err);
  char ticket[65], comm_d[65], comm_r[65];
  st_hex_encode(in.ticket, 32, ticket);
  st_hex_encode(out.comm_d, 32, comm_d);
  st_hex_encode(out.comm_r, 32, comm_r);
  /* a deal's sector lives exactly as long as the deal: a full verified sector counts 10x */
  int64_t expiration = x->has_deal ? x->deal_end : head + s->cfg.lifetime;
  json_t *set = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:n, s:n}", "state", "PreCommitting", "error", "",
                          "ticket_epoch", (json_int_t)epoch, "ticket", ticket, "comm_d", comm_d, "comm_r", comm_r,
                          "expiration", (json_int_t)expiration, "precommit_cid", "commit_cid");
  code = update(s, x, set, false, err);
  if (!code)
    st_log(LOG, ST_LOG_INFO, "sector sealed",
           json_pack("{s:I, s:s, s:I}", "sector", (json_int_t)x->number, "comm_r", comm_r, "machine",
                     (json_int_t)s->cfg.machine));
  if (!code) snprintf(x->state, sizeof x->state, "PreCommitting");
  return code;
}

/* Sends method with params unless the same message waits in the pool; records its CID in col
 * and moves to next. */
static st_code send_once(st_sealer *s, sector *x, uint64_t method, const st_buf *params, const char *col,
                         const char *next, st_err *err) {
  st_address to;
  st_address_from_id(s->cfg.miner, &to, NULL);
  bool found;
  st_cid cid;
  st_code code =
      st_node_pending_find(s->cfg.node, &s->cfg.sender, &to, method, params->data, params->len, &found, &cid, err);
  st_err e;
  if (!code && !found) code = still_mine(s, x, err); /* the side effect: only while this sealer holds x */
  if (!code && !found &&
      st_node_send(s->cfg.node, &s->cfg.sender, s->cfg.miner, method, params->data, params->len, s->cfg.max_fee, &cid,
                   &e)) {
    if (e.code == ST_EUNAVAIL || e.code == ST_ENOMEM) return st_err_set(err, e.code, "%s", e.msg);
    return fail(s, x, method == ST_METHOD_PRECOMMIT_SECTOR ? "PreCommitFailed" : "CommitFailed", e.msg, err);
  }
  if (code) return code;
  char cs[ST_CID_STR_MAX];
  st_cid_to_string(&cid, cs);
  return set_state(s, x, next, "", col, json_string(cs), err);
}

static st_code step_precommitting(st_sealer *s, sector *x, st_err *err) {
  int64_t pc;
  bool committed, foreign;
  st_code code = on_chain(s, x, &committed, &pc, &foreign, err);
  if (code) return code;
  if (foreign) return foreign_sector(s, x, err);
  if (committed) return set_state(s, x, "FinalizeSector", "", NULL, NULL, err);
  if (pc) return set_state(s, x, "WaitSeed", "", "precommit_epoch", json_integer(pc), err);
  if (!x->has_seal)
    return fail(s, x, "SealPreCommit1Failed", "the sealing database lost this sector's commitments: sealing again",
                err);
  st_buf p = ST_BUF_INIT;
  st_params_precommit(s->cfg.info->seal_proof, x->number, x->comm_r, x->ticket_epoch, x->has_deal ? &x->deal_id : NULL,
                      x->has_deal, x->expiration, &p);
  code = send_once(s, x, ST_METHOD_PRECOMMIT_SECTOR, &p, "precommit_cid", "PreCommitWait", err);
  st_buf_free(&p);
  return code;
}

/* Waits for the message in cid: ST_OK with *landed false while it is pending. */
static st_code wait_msg(st_sealer *s, const char *cid_text, bool *landed, int64_t *exit_code, st_err *err) {
  st_cid cid;
  *landed = false;
  if (st_cid_parse(cid_text, &cid, err)) return ST_EINVAL;
  st_node_lookup l;
  st_code code = st_node_search_msg(s->cfg.node, &cid, &l, err);
  if (!code && l.found) {
    *landed = true;
    *exit_code = l.exit_code;
  }
  return code;
}

static st_code step_precommit_wait(st_sealer *s, sector *x, st_err *err) {
  bool landed;
  int64_t exit_code = 0;
  st_code code = wait_msg(s, x->precommit_cid, &landed, &exit_code, err);
  if (code || !landed) return code;
  if (exit_code) {
    char why[256];
    snprintf(why, sizeof why, "PreCommitSector message %s failed with exit code %lld", x->precommit_cid,
             (long long)exit_code);
    return fail(s, x, "PreCommitFailed", why, err);
  }
  return step_precommitting(s, x, err); /* reads the pre-commit epoch from the chain */
}

static st_code step_wait_seed(st_sealer *s, sector *x, int64_t head, st_err *err) {
  if (head < x->precommit_epoch + s->delay + s->cfg.confidence) return ST_OK;
  return set_state(s, x, "Committing", "", NULL, NULL, err);
}

static st_code step_committing(st_sealer *s, sector *x, st_err *err) {
  int64_t pc;
  bool committed;
  bool foreign;
  st_code code = on_chain(s, x, &committed, &pc, &foreign, err);
  if (code) return code;
  if (foreign) return foreign_sector(s, x, err);
  if (committed) return set_state(s, x, "FinalizeSector", "", NULL, NULL, err);
  if (!pc)
    return fail(s, x, "PreCommitFailed", "the pre-commit is no longer on chain (expired or reverted): sealing again",
                err);
  if (!x->has_seal)
    return fail(s, x, "SealPreCommit1Failed", "the sealing database lost this sector's commitments: sealing again",
                err);
  st_porep_public pub = {.info = s->cfg.info, .miner = s->cfg.miner, .sector = x->number};
  memcpy(pub.ticket, x->ticket, 32);
  memcpy(pub.comm_d, x->comm_d, 32);
  memcpy(pub.comm_r, x->comm_r, 32);
  st_buf e = ST_BUF_INIT;
  st_rand_entropy_id(s->cfg.miner, &e);
  code =
      st_node_randomness(s->cfg.node, true, ST_DST_INTERACTIVE_SEAL, pc + s->delay, e.data, e.len, NULL, pub.seed, err);
  st_buf_free(&e);
  if (code) return code;
  st_buf proof = ST_BUF_INIT, p = ST_BUF_INIT;
  st_err pe;
  if (st_porep_prove(&pub, x->root, &proof, &pe)) code = fail(s, x, "CommitFailed", pe.msg, err);
  else {
    st_params_prove_commit(x->number, proof.data, proof.len, &p);
    code = send_once(s, x, ST_METHOD_PROVE_COMMIT_SECTOR, &p, "commit_cid", "CommitWait", err);
  }
  st_buf_free(&proof);
  st_buf_free(&p);
  return code;
}

static st_code step_commit_wait(st_sealer *s, sector *x, st_err *err) {
  bool landed;
  int64_t exit_code = 0;
  st_code code = wait_msg(s, x->commit_cid, &landed, &exit_code, err);
  if (code || !landed) return code;
  if (exit_code) {
    char why[256];
    snprintf(why, sizeof why, "ProveCommitSector message %s failed with exit code %lld", x->commit_cid,
             (long long)exit_code);
    return fail(s, x, "CommitFailed", why, err);
  }
  return set_state(s, x, "FinalizeSector", "", NULL, NULL, err);
}

static st_code step_finalize(st_sealer *s, sector *x, st_err *err) {
  st_err fe;
  st_sector_paths p;
  st_code code = still_mine(s, x, err);
  if (code) return code;
  if (!x->root[0]) return fail(s, x, "FinalizeFailed", "the sector's storage node is not mounted on this host", err);
  if (st_seal_finalize(s->cfg.info, x->root, s->cfg.miner, x->number, &fe))
    return fail(s, x, "FinalizeFailed", fe.msg, err);
  /* no unsealed copy is kept: retrieval unseals the replica (st_unseal) */
  if (x->has_deal && !st_sector_paths_make(x->root, s->cfg.miner, x->number, &p, &fe) && unlink(p.unsealed) &&
      errno != ENOENT)
    return fail(s, x, "FinalizeFailed", strerror(errno), err);
  return set_state(s, x, "Proving", "", NULL, NULL, err);
}

/* A failed sector goes back to where it can try again, while retries remain. */
static st_code step_retry(st_sealer *s, sector *x, st_err *err) {
  if (x->retries > s->cfg.max_retries) return ST_OK; /* given up: stays for the operator */
  const char *back = !strcmp(x->state, "CommitFailed")     ? "Committing"
                     : !strcmp(x->state, "FinalizeFailed") ? "FinalizeSector"
                                                           : "PreCommit1";
  st_code code = update(s, x, json_pack("{s:s}", "state", back), false, err); /* the error stays visible */
  if (!code)
    st_logf(LOG, ST_LOG_INFO, "sector %llu: retrying from %s (attempt %lld of %d)", (unsigned long long)x->number, back,
            (long long)x->retries + 1, s->cfg.max_retries + 1);
  if (!code) snprintf(x->state, sizeof x->state, "%s", back);
  return code;
}

/* One sector as far as it goes now. */
static st_code advance(st_sealer *s, sector *x, int64_t head, int *changed, st_err *err) {
  /* after a failure, wait retry_secs before trying again */
  if (x->has_error && (strstr(x->state, "Failed") || !strcmp(x->state, "Packing")) &&
      (int64_t)time(NULL) - x->updated < s->cfg.retry_secs)
    return ST_OK;
  for (int guard = 0; guard < 16; guard++) {
    char before[32];
    snprintf(before, sizeof before, "%s", x->state);
    st_code code;
    if (!strcmp(x->state, "Packing")) code = step_packing(s, x, err);
    else if (!strcmp(x->state, "PreCommit1")) code = step_precommit1(s, x, head, err);
    else if (!strcmp(x->state, "PreCommitting")) code = step_precommitting(s, x, err);
    else if (!strcmp(x->state, "PreCommitWait")) code = step_precommit_wait(s, x, err);
    else if (!strcmp(x->state, "WaitSeed")) code = step_wait_seed(s, x, head, err);
    else if (!strcmp(x->state, "Committing")) code = step_committing(s, x, err);
    else if (!strcmp(x->state, "CommitWait")) code = step_commit_wait(s, x, err);
    else if (!strcmp(x->state, "FinalizeSector")) code = step_finalize(s, x, err);
    else if (strstr(x->state, "Failed")) code = step_retry(s, x, err);
    else return ST_OK; /* Proving, Removed */
    if (code) return code;
    if (!strcmp(before, x->state)) return ST_OK; /* waiting */
    (*changed)++;
    if (strstr(x->state, "Failed")) return ST_OK; /* retried on the next step */
    /* the row is the truth: read back what the step stored */
    json_t *reply;
    if ((code = call(s, "sector_get", json_pack("{s:I}", "number", (json_int_t)x->number), &reply, err))) return code;
    read_sector(s, json_object_get(reply, "sector"), x, NULL);
    json_decref(reply);
  }
  return ST_OK;
}

st_code st_sealer_step(st_sealer *s, int *changed, st_err *err) {
  *changed = 0;
  st_code code = ST_OK;
  if (!s->delay) {
    st_network net;
    uint64_t genesis;
    if ((code = st_node_network(s->cfg.node, &net, &genesis, err))) return code;
    s->delay = net.precommit_challenge_delay;
  }
  st_node_head head;
  st_node_head_init(&head);
  code = st_node_chain_head(s->cfg.node, &head, err);
  int64_t h = head.height;
  st_node_head_free(&head);
  if (code) return code;
  json_t *reply;
  code = call(s, "sector_claim",
              json_pack("{s:I, s:s, s:I, s:I, s:I}", "machine", (json_int_t)s->cfg.machine, "host", s->host, "group",
                        (json_int_t)s->cfg.group, "max", (json_int_t)s->cfg.max_sectors, "max_retries",
                        (json_int_t)s->cfg.max_retries),
              &reply, err);
  if (code) return code;
  const json_t *rows = json_object_get(reply, "sectors"), *row;
  size_t i;
  json_array_foreach(rows, i, row) {
    sector x;
    read_sector(s, row, &x, NULL);
    code = advance(s, &x, h, changed, err);
    if (code == ST_ECONFLICT) { /* stopped past its lease: another sealer has it now */
      st_logf(LOG, ST_LOG_WARN, "sector %llu: %s; leaving it", (unsigned long long)x.number, err->msg);
      code = ST_OK;
    }
    if (code) break;
  }
  json_decref(reply);
  return code;
}

static void read_listed(st_sealer *s, const json_t *row, int64_t now, st_sealing_sector *out) {
  sector x;
  read_sector(s, row, &x, NULL);
  memset(out, 0, sizeof *out);
  out->number = x.number;
  snprintf(out->state, sizeof out->state, "%s", x.state);
  snprintf(out->root, sizeof out->root, "%.511s", x.root);
  text_of(row, "error", out->error, sizeof out->error);
  out->retries = x.retries;
  out->updated = x.updated;
  out->has_seal = x.has_seal;
  memcpy(out->ticket, x.ticket, 32);
  memcpy(out->comm_d, x.comm_d, 32);
  out->deal_id = x.has_deal ? (int64_t)x.deal_id : -1;
  out->node_id = x.node_id;
  out->owner = x.owner;
  out->held = x.owner && x.lease_until >= now;
}

st_code st_sealer_list(st_sealer *s, st_sealing_sector **out, size_t *n, st_err *err) {
  *out = NULL;
  *n = 0;
  json_t *reply;
  st_code code = call(s, "sector_list", json_object(), &reply, err);
  if (code) return code;
  const json_t *rows = json_object_get(reply, "sectors"), *row;
  st_sealing_sector *v = calloc(json_array_size(rows) + 1, sizeof *v);
  if (!v) code = st_err_set(err, ST_ENOMEM, "out of memory");
  size_t i;
  int64_t now = (int64_t)time(NULL);
  json_array_foreach(rows, i, row) if (v) read_listed(s, row, now, &v[i]);
  if (!code) {
    *out = v;
    *n = json_array_size(rows);
  }
  json_decref(reply);
  return code;
}

st_code st_sealer_get(st_sealer *s, uint64_t number, st_sealing_sector *out, bool *found, st_err *err) {
  memset(out, 0, sizeof *out);
  *found = false;
  json_t *reply;
  st_code code = call(s, "sector_get", json_pack("{s:I}", "number", (json_int_t)number), &reply, err);
  if (code == ST_ENOENT) return ST_OK;
  if (code) return code;
  *found = true;
  read_listed(s, json_object_get(reply, "sector"), (int64_t)time(NULL), out);
  json_decref(reply);
  return ST_OK;
}

st_code st_sealer_in_flight(st_sealer *s, size_t *n, st_err *err) {
  st_sealing_sector *v;
  size_t len;
  *n = 0;
  st_code code = st_sealer_list(s, &v, &len, err);
  for (size_t i = 0; !code && i < len; i++)
    if (strcmp(v[i].state, "Proving") && strcmp(v[i].state, "Removed") &&
        !(strstr(v[i].state, "Failed") && v[i].retries > s->cfg.max_retries))
      (*n)++;
  if (!code) free(v);
  return code;
}
