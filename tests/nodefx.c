/* nodefx: see nodefx.h. */
#include "nodefx.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

#include "chain/st_beacon.h"
#include "chain/st_consensus.h"
#include "chain/st_rand.h"
#include "crypto/st_secp.h"
#include "miner/st_blockprod.h"
#include "miner/st_miner_msgs.h"
#include "miner/st_wdpost.h"
#include "proofs/st_porep.h"
#include "proofs/st_seal.h"
#include "registry/st_registry_client.h"
#include "registry/st_registry_server.h"
#include "rpc/st_node_api.h"

const st_sector_info *nf_info2k(void) { return st_sector_by_size(2048); }

int64_t nf_height(nodefx *f) {
  st_node_head h;
  st_node_head_init(&h);
  st_err err;
  if (st_node_chain_head(f->c, &h, &err)) fail_msg("%s", err.msg);
  int64_t height = h.height;
  st_node_head_free(&h);
  return height;
}

/* The raw result of a State call (a new reference). */
json_t *nf_rpc(nodefx *f, const char *method, const char *params_text) {
  json_error_t je;
  json_t *params = json_loads(params_text, 0, &je), *r;
  assert_non_null(params);
  st_err err;
  if (st_rpc_client_call(f->c, method, params, &r, &err)) fail_msg("%s %s: %s", method, params_text, err.msg);
  return r;
}

void nf_assert_rpc(nodefx *f, const char *method, const char *params, const char *want_text) {
  json_t *got = nf_rpc(f, method, params), *want = json_loads(want_text, JSON_DECODE_ANY, NULL);
  assert_non_null(want);
  if (!json_equal(got, want))
    fail_msg("%s %s:\n got %s\nwant %s", method, params, json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY), want_text);
  json_decref(got);
  json_decref(want);
}

/* The miner's raw power through StateMinerPower. */
long nf_power(nodefx *f) {
  char s[64];
  json_t *r = nf_rpc(f, "StateMinerPower", "[\"t01000\", []]");
  snprintf(s, sizeof s, "%s", json_string_value(json_object_get(json_object_get(r, "MinerPower"), "RawBytePower")));
  assert_string_equal(json_string_value(json_object_get(json_object_get(r, "MinerPower"), "QualityAdjPower")), s);
  json_decref(r);
  return atol(s);
}

void nf_bootstrap(nodefx *f, int64_t epoch) {
  size_t n;
  st_err err;
  if (st_fullnode_bootstrap_block(st_daemon_fullnode(f->daemon), &f->account, epoch, &n, &err))
    fail_msg("bootstrap at %lld: %s", (long long)epoch, err.msg);
}

st_code nf_locate(void *ctx, uint64_t miner, uint64_t sector, st_sector_paths *out, st_err *err) {
  return st_sector_paths_make(ctx, miner, sector, out, err);
}

/* One round: the miner's, through the API, once the network has power at the lookback; a
 * bootstrap block before that. */
bool nf_bootstrap_due(nodefx *f, int64_t epoch) {
  if (!f->miner_exists) return true;
  st_err err;
  st_node_base_info bi;
  st_node_base_info_init(&bi);
  if (st_node_get_base_info(f->c, NF_MINER, epoch, NULL, &bi, &err))
    fail_msg("base info at %lld: %s", (long long)epoch, err.msg);
  bool due = !bi.present || !mpz_sgn(bi.network_power);
  st_node_base_info_free(&bi);
  return due;
}

void nf_mine(nodefx *f, int64_t epoch) {
  f->last_round = epoch;
  st_err err;
  if (nf_bootstrap_due(f, epoch)) {
    nf_bootstrap(f, epoch);
    return;
  }
  st_blockprod_result r;
  st_code code = st_blockprod_round(f->c, NF_MINER, epoch, nf_locate, f->store, NULL, NULL, &r, &err);
  if (code == ST_EIO) { /* a won round whose challenged sector cannot be read: no block */
    f->lost_io++;
    return;
  }
  if (code) fail_msg("round %lld: %s", (long long)epoch, err.msg);
  assert_true(r.eligible);
  if (r.win_count) f->won++;
  else f->nulls++;
}

void nf_mine_next(nodefx *f) {
  int64_t e = nf_height(f) + 1;
  nf_mine(f, e > f->last_round + 1 ? e : f->last_round + 1);
}

void nf_mine_to(nodefx *f, int64_t h) {
  while ((f->last_round > nf_height(f) ? f->last_round : nf_height(f)) < h) nf_mine_next(f);
}

/* Pushes a message through MpoolPushMessage (gas_limit 0: estimated); its CID. */
st_code nf_push(nodefx *f, uint64_t to, uint64_t method, const st_buf *params, const char *value, int64_t gas_limit,
                st_cid *cid, st_err *err) {
  st_message m;
  st_message_init(&m);
  m.from = f->account;
  st_address_from_id(to, &m.to, NULL);
  m.method = method;
  m.gas_limit = gas_limit;
  mpz_set_str(m.value, value, 10);
  st_code code = params ? st_chain_bytes_set(&m.params, params->data, params->len, err) : ST_OK;
  if (!code) code = st_node_push(f->c, &m, NULL, cid, err);
  st_message_free(&m);
  return code;
}

/* Waits (mining) until the message is on chain; its exit code. */
int64_t nf_landed(nodefx *f, const st_cid *cid) {
  st_node_lookup l;
  st_err err;
  for (int i = 0; i < 60; i++) {
    if (st_node_search_msg(f->c, cid, &l, &err)) fail_msg("%s", err.msg);
    if (l.found) return l.exit_code;
    nf_mine_next(f);
  }
  fail_msg("the message never landed (head %lld; %lld won, %lld null, %lld unreadable)", (long long)nf_height(f),
           (long long)f->won, (long long)f->nulls, (long long)f->lost_io);
  return -1;
}

/* Pushes (estimated) and waits for the exit code, which must be 0. */
void nf_send_ok(nodefx *f, uint64_t to, uint64_t method, const st_buf *params, const char *value) {
  st_cid cid;
  st_err err;
  if (nf_push(f, to, method, params, value, 0, &cid, &err))
    fail_msg("push method %llu: %s", (unsigned long long)method, err.msg);
  assert_int_equal(nf_landed(f, &cid), 0);
}

/* The daemon on f's repo and genesis, and a client of its API. */
static void start(nodefx *f) {
  st_err err;
  uint8_t secret[ST_JWT_SECRET_LEN] = {9, 9, 9};
  st_daemon_config cfg = {.repo = f->dir,
                          .genesis = &f->g,
                          .listen = "127.0.0.1:0",
                          .threads = 4,
                          .jwt_secret = secret,
                          .version = "test",
                          .beacon_sk = f->beacon_sk};
  assert_int_equal(st_daemon_start(&cfg, &f->daemon, &err), ST_OK);
  f->chain = st_daemon_chain(f->daemon);
  char *token = NULL;
  assert_int_equal(st_jwt_create(secret, ST_PERM_ALL, &token, &err), ST_OK);
  snprintf(f->api.token, sizeof f->api.token, "%s", token);
  snprintf(f->api.url, sizeof f->api.url, "http://127.0.0.1:%u", st_daemon_port(f->daemon));
  free(token);
  assert_int_equal(st_rpc_client_open(&f->api, &f->c, &err), ST_OK);
}

void nf_open(nodefx *f) {
  memset(f, 0, sizeof *f);
  st_err err;
  char dir[256];
  tu_tmpdir(dir);
  memcpy(f->dir, dir, sizeof dir);
  snprintf(f->store, sizeof f->store, "%s/store", dir);
  assert_int_equal(st_secp_keygen(f->sk, &err), ST_OK);
  assert_int_equal(st_secp_address(f->sk, &f->account, &err), ST_OK);
  char text[ST_ADDR_STR_MAX], spec[200];
  st_address_format(&f->account, 't', text, &err);
  st_genesis_init(&f->g);
  assert_int_equal(st_network_profile("devnet", &f->g.network, &err), ST_OK);
  f->g.timestamp = (uint64_t)time(NULL) - 100000; /* every height we build is in the past */
  mpz_set_str(f->g.reward_pool, "1000000000000000000000000", 10);
  snprintf(spec, sizeof spec, "%s=100000", text);
  assert_int_equal(st_genesis_add_account(&f->g, spec, &err), ST_OK);
  assert_int_equal(st_genesis_new_beacon(&f->g, f->beacon_sk, &err), ST_OK);
  start(f);
  /* the account's key goes into the node's wallet: the miner side holds none */
  st_keyinfo ki = {.type = ST_KEY_SECP256K1};
  st_address imported;
  memcpy(ki.priv, f->sk, sizeof ki.priv);
  if (st_node_wallet_import(f->c, &ki, &imported, &err)) fail_msg("WalletImport: %s", err.msg);
  assert_true(st_address_equal(&imported, &f->account));
}

void nf_restart(nodefx *f) {
  st_rpc_client_close(f->c);
  st_daemon_stop(f->daemon);
  start(f);
}

void nf_close(nodefx *f) {
  st_rpc_client_close(f->c);
  st_daemon_stop(f->daemon);
  st_genesis_clear(&f->g);
  tu_rmdir(f->dir);
}

void nf_create_miner(nodefx *f) {
  st_buf p = ST_BUF_INIT;
  st_params_create_miner(&f->account, &f->account, nf_info2k()->window_proof, (const uint8_t *)"peer", 4, &p);
  nf_send_ok(f, ST_ID_POWER, ST_METHOD_CREATE_MINER, &p, "10000000000000000000");
  st_buf_free(&p);
  f->miner_exists = true;
  assert_int_equal(nf_power(f), 0);
}

void nf_randomness(nodefx *f, bool beacon, int64_t dst, int64_t round, uint8_t out[32]) {
  st_buf e = ST_BUF_INIT;
  st_rand_entropy_id(NF_MINER, &e);
  st_err err;
  if (st_node_randomness(f->c, beacon, dst, round, e.data, e.len, NULL, out, &err)) fail_msg("%s", err.msg);
  st_buf_free(&e);
}

void nf_commit_sectors(nodefx *f, uint64_t first, uint64_t count) {
  st_err err;
  assert_true(first >= 1 && first + count - 1 <= NF_MAX_SECTORS);
  int64_t rand_epoch = nf_height(f) - 1;
  st_seal_input in = {.info = nf_info2k(), .miner = NF_MINER, .root = f->store};
  nf_randomness(f, false, ST_DST_SEAL, rand_epoch, in.ticket);
  uint8_t comm_d[NF_MAX_SECTORS + 1][32];
  st_buf p = ST_BUF_INIT;
  st_cid cids[NF_MAX_SECTORS];
  for (uint64_t i = 0; i < count; i++) {
    st_seal_output out;
    in.sector = first + i;
    if (st_seal(&in, &out, &err)) fail_msg("seal: %s", err.msg);
    memcpy(f->comm_r[in.sector], out.comm_r, 32);
    memcpy(comm_d[in.sector], out.comm_d, 32);
    p.len = 0;
    st_params_precommit(nf_info2k()->seal_proof, in.sector, out.comm_r, rand_epoch, NULL, 0, nf_height(f) + 3000, &p);
    if (nf_push(f, NF_MINER, ST_METHOD_PRECOMMIT_SECTOR, &p, "0", 0, &cids[i], &err))
      fail_msg("precommit %llu: %s", (unsigned long long)in.sector, err.msg);
  }
  for (uint64_t i = 0; i < count; i++) assert_int_equal(nf_landed(f, &cids[i]), 0);
  /* each seed, once its epoch is on chain */
  int64_t seed_at[NF_MAX_SECTORS], last = 0;
  for (uint64_t i = 0; i < count; i++) {
    char params[64];
    snprintf(params, sizeof params, "[\"t01000\", %llu, []]", (unsigned long long)(first + i));
    json_t *pc = nf_rpc(f, "StateSectorPreCommitInfo", params);
    seed_at[i] = json_integer_value(json_object_get(pc, "PreCommitEpoch")) +
                 st_chain_network(f->chain)->precommit_challenge_delay;
    json_decref(pc);
    if (seed_at[i] > last) last = seed_at[i];
  }
  nf_mine_to(f, last + 1);
  for (uint64_t i = 0; i < count; i++) {
    uint64_t n = first + i;
    st_porep_public pub = {.info = nf_info2k(), .miner = NF_MINER, .sector = n};
    memcpy(pub.ticket, in.ticket, 32);
    memcpy(pub.comm_d, comm_d[n], 32);
    memcpy(pub.comm_r, f->comm_r[n], 32);
    nf_randomness(f, true, ST_DST_INTERACTIVE_SEAL, seed_at[i], pub.seed);
    st_buf proof = ST_BUF_INIT;
    if (st_porep_prove(&pub, f->store, &proof, &err)) fail_msg("porep: %s", err.msg);
    p.len = 0;
    st_params_prove_commit(n, proof.data, proof.len, &p);
    if (nf_push(f, NF_MINER, ST_METHOD_PROVE_COMMIT_SECTOR, &p, "0", 0, &cids[i], &err))
      fail_msg("prove-commit %llu: %s", (unsigned long long)n, err.msg);
    st_buf_free(&proof);
  }
  for (uint64_t i = 0; i < count; i++) {
    assert_int_equal(nf_landed(f, &cids[i]), 0);
    assert_int_equal(st_seal_finalize(nf_info2k(), f->store, NF_MINER, first + i, &err), ST_OK);
  }
  st_buf_free(&p);
}

uint64_t nf_deadline_of(nodefx *f, uint64_t sector) {
  st_deadline_info now;
  st_err err;
  assert_int_equal(st_node_proving_deadline(f->c, NF_MINER, NULL, &now, &err), ST_OK);
  for (uint64_t d = 0; d < (uint64_t)now.policy.deadlines; d++) {
    st_node_partition *parts;
    size_t n;
    if (st_node_partitions(f->c, NF_MINER, d, NULL, &parts, &n, &err)) fail_msg("%s", err.msg);
    bool here = false;
    for (size_t i = 0; i < n; i++) here = here || st_bitfield_has(&parts[i].all, sector);
    st_node_partitions_free(parts, n);
    if (here) return d;
  }
  fail_msg("sector %llu is in no deadline", (unsigned long long)sector);
  return 0;
}

/* The next instance of deadline d that has not elapsed at the head. */
void nf_next_instance(nodefx *f, uint64_t d, st_deadline_info *out) {
  st_deadline_info now;
  st_err err;
  assert_int_equal(st_node_proving_deadline(f->c, NF_MINER, NULL, &now, &err), ST_OK);
  st_deadline_info di;
  st_deadline_new(&now.policy, now.period_start, d, now.current_epoch, &di);
  st_deadline_next_not_elapsed(&di, out);
}
int nf_group_setup(void **state) {
  static nodefx group;
  nf_open(&group);
  *state = &group;
  return 0;
}

int nf_group_teardown(void **state) {
  nf_close(*state);
  return 0;
}

uint64_t nf_miner_with_sectors(nodefx *f, uint64_t count) {
  nf_mine_to(f, 3);
  nf_create_miner(f);
  nf_commit_sectors(f, 1, count);
  return nf_deadline_of(f, 1);
}

void nf_wdpost_cfg(nodefx *f, st_wdpost_cfg *cfg) {
  *cfg = (st_wdpost_cfg){.node = f->c,
                         .miner = NF_MINER,
                         .sender = f->account,
                         .info = nf_info2k(),
                         .locate = nf_locate,
                         .locate_ctx = f->store,
                         .post = {.parallel = 2, .timeout_ms = 5000}};
}

st_rpc_client *nf_dead_client(void) {
  st_apiinfo ai = {.url = "http://127.0.0.1:1", .token = ""};
  st_rpc_client *c;
  st_err err;
  if (st_rpc_client_open(&ai, &c, &err)) fail_msg("%s", err.msg);
  return c;
}

struct st_registry_server *nf_registry_start(const char *dir, const char *token, char url[64], st_regc **reg) {
  char db[400];
  snprintf(db, sizeof db, "sqlite:%s/registry.db", dir);
  st_err err;
  st_registry_server *srv;
  st_registry_server_opts ro = {.listen = "127.0.0.1:0", .db_url = db, .token = token};
  if (st_registry_server_start(&ro, &srv, &err)) fail_msg("registry: %s", err.msg);
  snprintf(url, 64, "http://127.0.0.1:%u", st_registry_server_port(srv));
  if (st_regc_open(url, token, reg, &err)) fail_msg("registry client: %s", err.msg);
  return srv;
}

size_t nf_post_deadline_with(nodefx *f, uint64_t d, const nf_post_opts *o) {
  st_wdpost_cfg cfg;
  nf_wdpost_cfg(f, &cfg);
  if (o->locate) cfg.locate = o->locate;
  st_deadline_info di;
  /* an instance under way (or proven): the next one */
  for (nf_next_instance(f, d, &di); nf_height(f) > di.challenge; nf_next_instance(f, d, &di)) nf_mine_next(f);
  while (nf_height(f) <= di.challenge) nf_mine_next(f);
  st_wdpost_batch b;
  st_wdpost_batch_init(&b);
  st_err err;
  st_cid cid;
  if (st_wdpost_prove(&cfg, &di, nf_height(f), NULL, &b, &err))
    fail_msg("prove deadline %llu: %s", (unsigned long long)d, err.msg);
  assert_int_equal(b.nmsgs, 1);
  if (o->check_sectors) {
    assert_int_equal(b.partitions, 1);
    assert_int_equal(b.sectors, o->sectors);
  }
  /* not before Open: the node refuses the message (the estimate runs it) */
  if (o->refused_before_open && nf_height(f) < di.open - 1) {
    assert_int_equal(st_wdpost_submit(&cfg, &b, nf_height(f), &cid, &err), ST_EINVAL);
    tu_assert_err_contains(&err, "exit code 16");
  }
  while (nf_height(f) < di.open)
    nf_mine_next(f); /* rounds may be lost: the sector WinningPoSt picks may be unreadable */
  if (st_wdpost_submit(&cfg, &b, nf_height(f), &cid, &err))
    fail_msg("submit deadline %llu: %s", (unsigned long long)d, err.msg);
  assert_int_equal(nf_landed(f, &cid), 0);
  size_t skipped = b.skipped;
  st_wdpost_batch_free(&b);
  return skipped;
}

size_t nf_post_deadline(nodefx *f, uint64_t d) { return nf_post_deadline_with(f, d, &(nf_post_opts){0}); }
