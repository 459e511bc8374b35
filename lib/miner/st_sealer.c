/* st_sealer: the sealing state machine over the sealing database and the daemon's API. */
#include "miner/st_sealer.h"

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
#include "db/st_db.h"
#include "miner/st_miner_msgs.h"
#include "proofs/st_commp.h"
#include "proofs/st_porep.h"
#include "proofs/st_seal.h"
#include "rpc/st_node_api.h"

#define LOG "sectors"

struct st_sealer {
  st_sealer_cfg cfg;
  st_db *db;
  int64_t delay; /* the chain's pre-commit challenge delay (read once) */
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS sectors ("
    " number INTEGER PRIMARY KEY,"
    " state TEXT NOT NULL,"
    " root TEXT,"
    " ticket_epoch INTEGER, ticket TEXT, comm_d TEXT, comm_r TEXT, expiration INTEGER,"
    " precommit_cid TEXT, precommit_epoch INTEGER, commit_cid TEXT,"
    " error TEXT NOT NULL DEFAULT '', retries INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL,"
    " deal_id INTEGER, piece TEXT, piece_size INTEGER, deal_end INTEGER);";
/* sealing databases made before deals had no deal columns */
static const char *const DEAL_COLUMNS[] = {"deal_id INTEGER", "piece TEXT", "piece_size INTEGER", "deal_end INTEGER"};

/* A sector's row, as the state machine reads it. */
typedef struct sector {
  uint64_t number;
  char state[32];
  char root[ST_PATH_MAX];
  int64_t ticket_epoch, expiration, precommit_epoch, retries, updated;
  bool has_error;
  uint8_t ticket[32], comm_d[32], comm_r[32];
  bool has_seal;
  char precommit_cid[ST_CID_STR_MAX], commit_cid[ST_CID_STR_MAX];
  bool has_deal; /* a sector holding one deal's piece */
  uint64_t deal_id, piece_size;
  int64_t deal_end;
  char piece[ST_PATH_MAX];
} sector;

#define COLUMNS                                                                                                                         \
  "number, state, root, ticket_epoch, ticket, comm_d, comm_r, expiration, precommit_cid, precommit_epoch, commit_cid, error, retries, " \
  "updated, deal_id, piece, piece_size, deal_end"

st_code st_sealer_open(const st_sealer_cfg *cfg, const char *db_path, st_sealer **out, st_err *err) {
  *out = calloc(1, sizeof **out);
  if (!*out) return st_err_set(err, ST_ENOMEM, "out of memory");
  (*out)->cfg = *cfg;
  char url[ST_PATH_MAX + 8];
  snprintf(url, sizeof url, "sqlite:%s", db_path);
  st_code code = st_db_open(url, &(*out)->db, err);
  if (!code) code = st_db_exec_script((*out)->db, SCHEMA, err);
  if (!code && st_db_exec((*out)->db, "SELECT deal_id FROM sectors LIMIT 0", 0, NULL, NULL, NULL, NULL))
    for (size_t i = 0; i < sizeof DEAL_COLUMNS / sizeof DEAL_COLUMNS[0] && !code; i++) {
      char sql[96];
      snprintf(sql, sizeof sql, "ALTER TABLE sectors ADD COLUMN %s", DEAL_COLUMNS[i]);
      code = st_db_exec((*out)->db, sql, 0, NULL, NULL, NULL, err);
    }
  if (code) {
    st_err_wrap(err, code, "sealing database %s", db_path);
    st_sealer_close(*out);
    *out = NULL;
  }
  return code;
}

void st_sealer_close(st_sealer *s) {
  if (!s) return;
  st_db_close(s->db);
  free(s);
}

static const char *now_text(char buf[ST_DB_INT_MAX]) { return st_db_int(buf, (int64_t)time(NULL)); }

st_code st_sealer_pledge(st_sealer *s, uint64_t *number, st_err *err) {
  *number = 0;
  char t[ST_DB_INT_MAX];
  const char *p[] = {now_text(t)};
  st_db_rows rows = {0};
  /* one statement: pledges from the API and the pledge loop never take the same number */
  st_code code = st_db_exec(
      s->db,
      "INSERT INTO sectors (number, state, updated) SELECT COALESCE(MAX(number), 0) + 1, 'Packing', $1 FROM sectors "
      "RETURNING number",
      1, p, &rows, NULL, err);
  if (!code) *number = (uint64_t)st_db_cell_i64(&rows, 0, 0);
  st_db_rows_free(&rows);
  if (!code) st_log(LOG, ST_LOG_INFO, "pledged sector", json_pack("{s:I}", "sector", (json_int_t)*number));
  return code;
}

st_code st_sealer_add_deal(st_sealer *s, uint64_t deal_id, const char *piece, uint64_t piece_size, int64_t deal_end,
                           uint64_t *number, st_err *err) {
  *number = 0;
  char t[ST_DB_INT_MAX], d[ST_DB_INT_MAX], ps[ST_DB_INT_MAX], e[ST_DB_INT_MAX];
  const char *p[] = {now_text(t), st_db_int(d, (int64_t)deal_id), piece, st_db_int(ps, (int64_t)piece_size),
                     st_db_int(e, deal_end)};
  st_db_rows rows = {0};
  /* placed already (a step interrupted before the deal recorded its sector) */
  st_code code = st_db_exec(s->db, "SELECT number FROM sectors WHERE deal_id = $1", 1, &p[1], &rows, NULL, err);
  if (!code && rows.nrows) {
    *number = (uint64_t)st_db_cell_i64(&rows, 0, 0);
    st_db_rows_free(&rows);
    return ST_OK;
  }
  st_db_rows_free(&rows);
  if (!code)
    code =
        st_db_exec(s->db,
                   "INSERT INTO sectors (number, state, updated, deal_id, piece, piece_size, deal_end)"
                   " SELECT COALESCE(MAX(number), 0) + 1, 'Packing', $1, $2, $3, $4, $5 FROM sectors RETURNING number",
                   5, p, &rows, NULL, err);
  if (!code) *number = (uint64_t)st_db_cell_i64(&rows, 0, 0);
  st_db_rows_free(&rows);
  if (!code)
    st_log(LOG, ST_LOG_INFO, "deal placed in a new sector",
           json_pack("{s:I, s:I, s:I}", "sector", (json_int_t)*number, "deal", (json_int_t)deal_id, "piece_size",
                     (json_int_t)piece_size));
  return code;
}

/* ---- rows ---- */

static void hex32(const char *text, uint8_t out[32], bool *ok) {
  if (!text || strlen(text) != 64 || st_hex_decode_exact(text, out, 32, NULL)) *ok = false;
}

static void read_sector(const st_db_rows *r, int i, sector *out) {
  memset(out, 0, sizeof *out);
  out->number = (uint64_t)st_db_cell_i64(r, i, 0);
  snprintf(out->state, sizeof out->state, "%s", st_db_cell(r, i, 1));
  snprintf(out->root, sizeof out->root, "%s", st_db_cell(r, i, 2) ? st_db_cell(r, i, 2) : "");
  out->ticket_epoch = st_db_cell_i64(r, i, 3);
  out->has_seal = true;
  hex32(st_db_cell(r, i, 4), out->ticket, &out->has_seal);
  hex32(st_db_cell(r, i, 5), out->comm_d, &out->has_seal);
  hex32(st_db_cell(r, i, 6), out->comm_r, &out->has_seal);
  out->expiration = st_db_cell_i64(r, i, 7);
  snprintf(out->precommit_cid, sizeof out->precommit_cid, "%s", st_db_cell(r, i, 8) ? st_db_cell(r, i, 8) : "");
  out->precommit_epoch = st_db_cell_i64(r, i, 9);
  snprintf(out->commit_cid, sizeof out->commit_cid, "%s", st_db_cell(r, i, 10) ? st_db_cell(r, i, 10) : "");
  out->retries = st_db_cell_i64(r, i, 12);
  out->updated = st_db_cell_i64(r, i, 13);
  out->has_error = st_db_cell(r, i, 11) && st_db_cell(r, i, 11)[0];
  out->has_deal = st_db_cell(r, i, 14) != NULL;
  out->deal_id = (uint64_t)st_db_cell_i64(r, i, 14);
  snprintf(out->piece, sizeof out->piece, "%s", st_db_cell(r, i, 15) ? st_db_cell(r, i, 15) : "");
  out->piece_size = (uint64_t)st_db_cell_i64(r, i, 16);
  out->deal_end = st_db_cell_i64(r, i, 17);
}

/* Sets the state (and error, "" to clear) in one UPDATE, plus the named extra column. */
static st_code set_state(st_sealer *s, sector *x, const char *state, const char *error, const char *col,
                         const char *val, st_err *err) {
  char n[ST_DB_INT_MAX], t[ST_DB_INT_MAX], sql[256];
  if (col)
    snprintf(sql, sizeof sql, "UPDATE sectors SET state = $1, error = $2, updated = $3, %s = $5 WHERE number = $4",
             col);
  else snprintf(sql, sizeof sql, "UPDATE sectors SET state = $1, error = $2, updated = $3 WHERE number = $4");
  const char *p[] = {state, error ? error : "", now_text(t), st_db_int(n, (int64_t)x->number), val};
  st_code code = st_db_exec(s->db, sql, col ? 5 : 4, p, NULL, NULL, err);
  if (code) return code;
  if (error && *error)
    st_logf(LOG, ST_LOG_ERROR, "sector %llu: %s -> %s: %s", (unsigned long long)x->number, x->state, state, error);
  else
    st_log(LOG, ST_LOG_INFO, "sector state",
           json_pack("{s:I, s:s, s:s}", "sector", (json_int_t)x->number, "from", x->state, "to", state));
  snprintf(x->state, sizeof x->state, "%s", state);
  return ST_OK;
}

/* A failure: the error is kept and the retry count goes up. */
static st_code fail(st_sealer *s, sector *x, const char *state, const char *why, st_err *err) {
  char n[ST_DB_INT_MAX], t[ST_DB_INT_MAX];
  const char *p[] = {state, why, now_text(t), st_db_int(n, (int64_t)x->number)};
  st_code code = st_db_exec(
      s->db, "UPDATE sectors SET state = $1, error = $2, updated = $3, retries = retries + 1 WHERE number = $4", 4, p,
      NULL, NULL, err);
  if (code) return code;
  st_logf(LOG, ST_LOG_ERROR, "sector %llu: %s failed: %s", (unsigned long long)x->number, x->state, why);
  snprintf(x->state, sizeof x->state, "%s", state);
  x->retries++;
  return ST_OK;
}

/* ---- steps: each returns ST_OK having moved x on (or left it to wait), or a database or
 * node error. Sector faults go to fail(). ---- */

static st_code step_packing(st_sealer *s, sector *x, st_err *err) {
  char root[ST_PATH_MAX];
  if (!s->cfg.registry) {
    snprintf(root, sizeof root, "%s", s->cfg.dist_path);
  } else {
    st_reg_alloc req = {
        .miner = s->cfg.miner, .sector = x->number, .size = (int64_t)s->cfg.info->size * 2, .group = s->cfg.group};
    st_storage_node node;
    st_err e;
    st_code code = st_regc_allocate(s->cfg.registry, &req, &node, NULL, &e);
    if (!code) code = st_reg_root(s->cfg.dist_path, &node, root, &e);
    if (code == ST_EUNAVAIL && !strstr(e.msg, "no storage node")) return st_err_set(err, code, "%s", e.msg);
    if (code) return fail(s, x, "Packing", e.msg, err); /* no node yet: stays Packing, retried */
  }
  return set_state(s, x, "PreCommit1", "", "root", root, err);
}

/* Where a deal sector's data is staged for sealing: <root>/unsealed/s-t0<m>-<n>. */
static st_code staged_path(st_sealer *s, const sector *x, char out[ST_PATH_MAX], st_err *err) {
  st_sector_paths p;
  char dir[ST_PATH_MAX];
  st_code code = st_sector_paths_make(x->root, s->cfg.miner, x->number, &p, err);
  if (!code) {
    snprintf(dir, sizeof dir, "%.*s/unsealed", ST_PATH_MAX - 10, x->root);
    code = st_fs_mkdir_p(dir, 0755, err);
  }
  if (!code) memcpy(out, p.unsealed, ST_PATH_MAX);
  return code;
}

static st_code step_precommit1(st_sealer *s, sector *x, int64_t head, st_err *err) {
  if (!x->root[0]) return fail(s, x, "SealPreCommit1Failed", "the sector has no storage root: allocating again", err);
  int64_t epoch = head - s->cfg.confidence;
  if (epoch < 1) return ST_OK; /* wait for a ticket old enough */
  st_buf e = ST_BUF_INIT;
  st_rand_entropy_id(s->cfg.miner, &e);
  st_seal_input in = {.info = s->cfg.info, .miner = s->cfg.miner, .sector = x->number, .root = x->root};
  st_code code = st_node_randomness(s->cfg.node, false, ST_DST_SEAL, epoch, e.data, e.len, NULL, in.ticket, err);
  st_buf_free(&e);
  if (code) return code;
  st_rand_to_fr(in.ticket);
  st_seal_output out;
  st_err se;
  char staged[ST_PATH_MAX];
  uint8_t staged_d[32];
  if (x->has_deal) {
    /* the deal's piece, Fr32-padded at offset 0, zeros after it: the sector's data */
    st_piece_file pf = {x->piece, x->piece_size};
    if (staged_path(s, x, staged, &se) || st_stage_sector(staged, s->cfg.info->size, &pf, 1, staged_d, &se))
      return fail(s, x, "SealPreCommit1Failed", se.msg, err);
    in.data_path = staged;
  }
  if (st_seal(&in, &out, &se)) return fail(s, x, "SealPreCommit1Failed", se.msg, err);
  if (x->has_deal && memcmp(staged_d, out.comm_d, 32))
    return fail(s, x, "SealPreCommit1Failed", "the sealed data is not the staged piece (comm_d differs)", err);
  char t[ST_DB_INT_MAX], ex[ST_DB_INT_MAX], n[ST_DB_INT_MAX], tt[ST_DB_INT_MAX];
  char ticket[65], comm_d[65], comm_r[65];
  st_hex_encode(in.ticket, 32, ticket);
  st_hex_encode(out.comm_d, 32, comm_d);
  st_hex_encode(out.comm_r, 32, comm_r);
  /* a deal's sector lives exactly as long as the deal: a full verified sector counts 10x */
  int64_t expiration = x->has_deal ? x->deal_end : head + s->cfg.lifetime;
  const char *p[] = {st_db_int(t, epoch),
                     ticket,
                     comm_d,
                     comm_r,
                     st_db_int(ex, expiration),
                     now_text(tt),
                     st_db_int(n, (int64_t)x->number)};
  code = st_db_exec(
      s->db,
      "UPDATE sectors SET state = 'PreCommitting', error = '', ticket_epoch = $1, ticket = $2, comm_d = $3, comm_r = $4, expiration = $5,"
      " precommit_cid = NULL, commit_cid = NULL, updated = $6 WHERE number = $7",
      7, p, NULL, NULL, err);
  if (!code)
    st_log(LOG, ST_LOG_INFO, "sector sealed",
           json_pack("{s:I, s:s}", "sector", (json_int_t)x->number, "comm_r", comm_r));
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
  if (!code && !found &&
      st_node_send(s->cfg.node, &s->cfg.sender, s->cfg.miner, method, params->data, params->len, s->cfg.max_fee, &cid,
                   &e)) {
    if (e.code == ST_EUNAVAIL || e.code == ST_ENOMEM) return st_err_set(err, e.code, "%s", e.msg);
    return fail(s, x, method == ST_METHOD_PRECOMMIT_SECTOR ? "PreCommitFailed" : "CommitFailed", e.msg, err);
  }
  if (code) return code;
  char cs[ST_CID_STR_MAX];
  st_cid_to_string(&cid, cs);
  return set_state(s, x, next, "", col, cs, err);
}

static st_code step_precommitting(st_sealer *s, sector *x, st_err *err) {
  int64_t pc;
  bool committed;
  st_code code = st_node_sector_on_chain(s->cfg.node, s->cfg.miner, x->number, &committed, &pc, err);
  if (code) return code;
  if (committed) return set_state(s, x, "FinalizeSector", "", NULL, NULL, err);
  if (pc) return set_state(s, x, "WaitSeed", "", "precommit_epoch", st_db_int((char[ST_DB_INT_MAX]){0}, pc), err);
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
  st_code code = st_node_sector_on_chain(s->cfg.node, s->cfg.miner, x->number, &committed, &pc, err);
  if (code) return code;
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
  st_rand_to_fr(pub.seed);
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
  if (st_seal_finalize(s->cfg.info, x->root, s->cfg.miner, x->number, &fe))
    return fail(s, x, "FinalizeFailed", fe.msg, err);
  /* no unsealed copy is kept: retrieval unseals the replica (st_unseal) */
  char staged[ST_PATH_MAX];
  if (x->has_deal && !staged_path(s, x, staged, &fe) && unlink(staged) && errno != ENOENT)
    return fail(s, x, "FinalizeFailed", strerror(errno), err);
  return set_state(s, x, "Proving", "", NULL, NULL, err);
}

/* A failed sector goes back to where it can try again, while retries remain. */
static st_code step_retry(st_sealer *s, sector *x, st_err *err) {
  if (x->retries > s->cfg.max_retries) return ST_OK; /* given up: stays for the operator */
  const char *back = !strcmp(x->state, "CommitFailed")     ? "Committing"
                     : !strcmp(x->state, "FinalizeFailed") ? "FinalizeSector"
                                                           : "PreCommit1";
  char n[ST_DB_INT_MAX], t[ST_DB_INT_MAX];
  const char *p[] = {back, now_text(t), st_db_int(n, (int64_t)x->number)};
  st_code code = st_db_exec(s->db, "UPDATE sectors SET state = $1, updated = $2 WHERE number = $3", 3, p, NULL, NULL,
                            err); /* the error stays visible */
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
    else return ST_OK; /* Proving */
    if (code) return code;
    if (!strcmp(before, x->state)) return ST_OK; /* waiting */
    (*changed)++;
    if (strstr(x->state, "Failed")) return ST_OK; /* retried on the next step */
    /* the row is the truth: read back what the step stored */
    st_db_rows r = {0};
    char n[ST_DB_INT_MAX];
    const char *p[] = {st_db_int(n, (int64_t)x->number)};
    if ((code = st_db_exec(s->db, "SELECT " COLUMNS " FROM sectors WHERE number = $1", 1, p, &r, NULL, err)))
      return code;
    if (r.nrows == 1) read_sector(&r, 0, x);
    st_db_rows_free(&r);
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
  st_db_rows r = {0};
  if ((code = st_db_exec(s->db, "SELECT " COLUMNS " FROM sectors WHERE state <> 'Proving' ORDER BY number", 0, NULL, &r,
                         NULL, err)))
    return code;
  for (int i = 0; i < r.nrows && !code; i++) {
    sector x;
    read_sector(&r, i, &x);
    code = advance(s, &x, h, changed, err);
  }
  st_db_rows_free(&r);
  return code;
}

static void read_listed(const st_db_rows *r, int i, st_sealing_sector *out) {
  out->number = (uint64_t)st_db_cell_i64(r, i, 0);
  snprintf(out->state, sizeof out->state, "%s", st_db_cell(r, i, 1));
  snprintf(out->root, sizeof out->root, "%s", st_db_cell(r, i, 2) ? st_db_cell(r, i, 2) : "");
  snprintf(out->error, sizeof out->error, "%s", st_db_cell(r, i, 11) ? st_db_cell(r, i, 11) : "");
  out->retries = st_db_cell_i64(r, i, 12);
  out->updated = st_db_cell_i64(r, i, 13);
  out->has_seal = true;
  hex32(st_db_cell(r, i, 4), out->ticket, &out->has_seal);
  hex32(st_db_cell(r, i, 5), out->comm_d, &out->has_seal);
  out->deal_id = st_db_cell(r, i, 14) ? st_db_cell_i64(r, i, 14) : -1;
}

st_code st_sealer_list(st_sealer *s, st_sealing_sector **out, size_t *n, st_err *err) {
  *out = NULL;
  *n = 0;
  st_db_rows r = {0};
  st_code code = st_db_exec(s->db, "SELECT " COLUMNS " FROM sectors ORDER BY number", 0, NULL, &r, NULL, err);
  if (code) return code;
  st_sealing_sector *v = calloc((size_t)r.nrows + 1, sizeof *v);
  if (!v) code = st_err_set(err, ST_ENOMEM, "out of memory");
  for (int i = 0; i < r.nrows && !code; i++) read_listed(&r, i, &v[i]);
  if (!code) {
    *out = v;
    *n = (size_t)r.nrows;
  } else free(v);
  st_db_rows_free(&r);
  return code;
}

st_code st_sealer_get(st_sealer *s, uint64_t number, st_sealing_sector *out, bool *found, st_err *err) {
  char nb[ST_DB_INT_MAX];
  const char *p[] = {st_db_int(nb, (int64_t)number)};
  st_db_rows r = {0};
  memset(out, 0, sizeof *out);
  st_code code = st_db_exec(s->db, "SELECT " COLUMNS " FROM sectors WHERE number = $1", 1, p, &r, NULL, err);
  *found = !code && r.nrows == 1;
  if (*found) read_listed(&r, 0, out);
  st_db_rows_free(&r);
  return code;
}

st_code st_sealer_in_flight(st_sealer *s, size_t *n, st_err *err) {
  *n = 0;
  char m[ST_DB_INT_MAX];
  const char *p[] = {st_db_int(m, s->cfg.max_retries)};
  st_db_rows r = {0};
  st_code code = st_db_exec(
      s->db, "SELECT COUNT(*) FROM sectors WHERE state <> 'Proving' AND NOT (state LIKE '%Failed' AND retries > $1)", 1,
      p, &r, NULL, err);
  if (!code) *n = (size_t)st_db_cell_i64(&r, 0, 0);
  st_db_rows_free(&r);
  return code;
}
