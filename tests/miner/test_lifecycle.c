/* A miner's life with a real sealed 2 KiB sector, entirely through the daemon's JSON-RPC API
 * on loopback: the miner side uses st_node_api (typed calls), st_miner_msgs (the params) and
 * st_blockprod (block production), as spacetime-miner does. Messages are signed by the node's
 * wallet (MpoolPushMessage); randomness, deadlines, partitions and sectors come from the State
 * methods; once the miner has power, every block is made by st_blockprod_round through
 * MinerGetBaseInfo, WalletVRF, MinerCreateBlock and SyncSubmitBlock. Before that, the chain
 * moves on bootstrap blocks built in-process, as the daemon's producer builds them.
 *
 * Checked: create a miner; pre-commit and prove-commit (the sector lands in a deadline and
 * partition, with its power); a tampered proof, a post for the wrong deadline and a post after
 * Close are each refused by the estimate and, sent anyway, fail on chain with exit 16 and
 * change nothing; a valid post keeps the power; a missed deadline makes the sector faulty,
 * removes its power and charges the fault fee; a recovery plus the next post restores it. The
 * State methods are compared as JSON with non-empty sets. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chain/st_beacon.h"
#include "chain/st_chain.h"
#include "chain/st_consensus.h"
#include "chain/st_rand.h"
#include "core/st_encoding.h"
#include "crypto/st_secp.h"
#include "miner/st_blockprod.h"
#include "miner/st_miner_msgs.h"
#include "miner/st_node_api.h"
#include "proofs/st_porep.h"
#include "proofs/st_post.h"
#include "proofs/st_seal.h"
#include "rpc/st_fullnode.h"
#include "rpc/st_jsonrpc.h"

#define MINER 1000
#define SECTOR 1

typedef struct fx {
  char dir[256], store[300];
  st_genesis g;
  st_chain *chain;
  st_fullnode node;
  st_rpc *rpc;
  st_http_server *http;
  st_rpc_client *c;
  uint8_t sk[32], beacon_sk[32];
  st_address account;
  bool miner_exists;
  uint8_t comm_r[32];
  int64_t won, nulls; /* rounds the miner won and lost through st_blockprod_round */
} fx;

static fx F;

static const st_sector_info *info2k(void) { return st_sector_by_size(2048); }

static void head_changed(void *ctx, const st_tipset *head, const st_signed_message *reverted, size_t n) {
  st_fullnode_head_changed(ctx, head, reverted, n);
}

static int64_t head_height(fx *f) {
  st_node_head h;
  st_node_head_init(&h);
  st_err err;
  if (st_node_chain_head(f->c, &h, &err)) fail_msg("%s", err.msg);
  int64_t height = h.height;
  st_node_head_free(&h);
  return height;
}

/* The raw result of a State call (a new reference). */
static json_t *rpc(fx *f, const char *method, const char *params_text) {
  json_error_t je;
  json_t *params = json_loads(params_text, 0, &je), *r;
  assert_non_null(params);
  st_err err;
  if (st_rpc_client_call(f->c, method, params, &r, &err)) fail_msg("%s %s: %s", method, params_text, err.msg);
  return r;
}

static void assert_rpc(fx *f, const char *method, const char *params, const char *want_text) {
  json_t *got = rpc(f, method, params), *want = json_loads(want_text, JSON_DECODE_ANY, NULL);
  assert_non_null(want);
  if (!json_equal(got, want)) fail_msg("%s %s:\n got %s\nwant %s", method, params, json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY), want_text);
  json_decref(got);
  json_decref(want);
}

static const char *rpc_string(fx *f, const char *method, const char *params, const char *field, char *out, size_t n) {
  json_t *r = rpc(f, method, params);
  const json_t *v = field ? json_object_get(r, field) : r;
  if (!json_is_string(v)) fail_msg("%s %s: %s is not a string", method, params, field ? field : "the result");
  snprintf(out, n, "%s", json_string_value(v));
  json_decref(r);
  return out;
}

/* The miner's raw power through StateMinerPower. */
static long power(fx *f) {
  char s[64];
  json_t *r = rpc(f, "StateMinerPower", "[\"t01000\", []]");
  snprintf(s, sizeof s, "%s", json_string_value(json_object_get(json_object_get(r, "MinerPower"), "RawBytePower")));
  assert_string_equal(json_string_value(json_object_get(json_object_get(r, "MinerPower"), "QualityAdjPower")), s);
  json_decref(r);
  return atol(s);
}

static void bootstrap(fx *f, int64_t epoch) {
  st_block_header b;
  st_block_header_init(&b);
  st_err err;
  for (int64_t r = st_consensus_first_beacon_round(head_height(f), epoch); r <= epoch; r++) {
    uint8_t e[ST_BEACON_ENTRY_LEN];
    assert_int_equal(st_beacon_make(f->beacon_sk, (uint64_t)r, e, NULL), ST_OK);
    assert_int_equal(st_block_header_add_beacon(&b, (uint64_t)r, e, sizeof e, NULL), ST_OK);
  }
  st_signed_message *msgs = NULL;
  size_t n = 0;
  pthread_mutex_lock(&f->node.pool_mu);
  st_code code = st_chain_build_block(f->chain, f->sk, epoch, f->node.pool, &b, &msgs, &n, &err);
  pthread_mutex_unlock(&f->node.pool_mu);
  if (code) fail_msg("bootstrap build at %lld: %s", (long long)epoch, err.msg);
  if (st_chain_submit_block(f->chain, &b, msgs, n, NULL, (uint64_t)time(NULL), &err)) fail_msg("bootstrap at %lld: %s", (long long)epoch, err.msg);
  for (size_t i = 0; i < n; i++) st_signed_message_free(&msgs[i]);
  free(msgs);
  st_block_header_free(&b);
}

static st_code locate(void *ctx, uint64_t miner, uint64_t sector, st_sector_paths *out, st_err *err) {
  return st_sector_paths_make(ctx, miner, sector, out, err);
}

/* One round: the miner's, through the API, once the network has power at the lookback; a
 * bootstrap block before that. */
static void mine(fx *f, int64_t epoch) {
  st_err err;
  bool bootstrap_allowed = !f->miner_exists;
  if (!bootstrap_allowed) {
    st_node_base_info bi;
    st_node_base_info_init(&bi);
    if (st_node_get_base_info(f->c, MINER, epoch, NULL, &bi, &err)) fail_msg("base info at %lld: %s", (long long)epoch, err.msg);
    bootstrap_allowed = !bi.present || !mpz_sgn(bi.network_power);
    st_node_base_info_free(&bi);
  }
  if (bootstrap_allowed) {
    bootstrap(f, epoch);
    return;
  }
  st_blockprod_result r;
  if (st_blockprod_round(f->c, MINER, epoch, locate, f->store, &r, &err)) fail_msg("round %lld: %s", (long long)epoch, err.msg);
  assert_true(r.eligible);
  if (r.win_count) f->won++;
  else f->nulls++;
}

static void mine_to(fx *f, int64_t h) {
  for (int64_t e = head_height(f) + 1; e <= h; e++) mine(f, e);
}

/* Pushes a message through MpoolPushMessage (gas_limit 0: estimated); its CID. */
static st_code push(fx *f, uint64_t to, uint64_t method, const st_buf *params, const char *value, int64_t gas_limit, st_cid *cid, st_err *err) {
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
static int64_t landed(fx *f, const st_cid *cid) {
  st_node_lookup l;
  st_err err;
  for (int i = 0; i < 60; i++) {
    if (st_node_search_msg(f->c, cid, &l, &err)) fail_msg("%s", err.msg);
    if (l.found) return l.exit_code;
    mine(f, head_height(f) + 1);
  }
  fail_msg("the message never landed");
  return -1;
}

/* Pushes (estimated) and waits for the exit code, which must be 0. */
static void send_ok(fx *f, uint64_t to, uint64_t method, const st_buf *params, const char *value) {
  st_cid cid;
  st_err err;
  if (push(f, to, method, params, value, 0, &cid, &err)) fail_msg("push method %llu: %s", (unsigned long long)method, err.msg);
  assert_int_equal(landed(f, &cid), 0);
}

/* A message that must fail: the estimate refuses it with its exit code; sent with a gas limit
 * anyway, it lands with that exit code and the miner's state (its head CID) is unchanged. */
static void send_refused(fx *f, uint64_t method, const st_buf *params, int64_t exit_code) {
  st_cid cid;
  st_err err;
  char want[64], before[128], after[128];
  snprintf(want, sizeof want, "the message would fail with exit code %lld", (long long)exit_code);
  assert_int_equal(push(f, MINER, method, params, "0", 0, &cid, &err), ST_EINVAL);
  tu_assert_err_contains(&err, want);
  json_t *a = rpc(f, "StateGetActor", "[\"t01000\", []]");
  snprintf(before, sizeof before, "%s", json_string_value(json_object_get(json_object_get(a, "Head"), "/")));
  json_decref(a);
  assert_int_equal(push(f, MINER, method, params, "0", 500000000, &cid, &err), ST_OK);
  assert_int_equal(landed(f, &cid), exit_code);
  a = rpc(f, "StateGetActor", "[\"t01000\", []]");
  snprintf(after, sizeof after, "%s", json_string_value(json_object_get(json_object_get(a, "Head"), "/")));
  json_decref(a);
  assert_string_equal(before, after);
}

static int setup(void **state) {
  fx *f = &F;
  memset(f, 0, sizeof *f);
  st_err err;
  char dir[256];
  tu_tmpdir(dir);
  memcpy(f->dir, dir, sizeof dir);
  snprintf(f->store, sizeof f->store, "%s/store", dir);
  assert_int_equal(st_secp_keygen(f->sk, &err), ST_OK);
  assert_int_equal(st_secp_address(f->sk, &f->account, &err), ST_OK);
  char text[ST_ADDR_STR_MAX], spec[200], keystore[300];
  st_address_format(&f->account, 't', text, &err);
  st_genesis_init(&f->g);
  assert_int_equal(st_network_profile("devnet", &f->g.network, &err), ST_OK);
  f->g.timestamp = (uint64_t)time(NULL) - 100000; /* every height we build is in the past */
  mpz_set_str(f->g.reward_pool, "1000000000000000000000000", 10);
  snprintf(spec, sizeof spec, "%s=100000", text);
  assert_int_equal(st_genesis_add_account(&f->g, spec, &err), ST_OK);
  assert_int_equal(st_genesis_new_beacon(&f->g, f->beacon_sk, &err), ST_OK);
  assert_int_equal(st_chain_open(f->dir, &f->g, &f->chain, &err), ST_OK);
  uint8_t secret[ST_JWT_SECRET_LEN] = {9, 9, 9};
  snprintf(keystore, sizeof keystore, "%s/keystore", dir);
  assert_int_equal(st_fullnode_init(&f->node, f->chain, keystore, secret, "test", &err), ST_OK);
  assert_int_equal(st_fullnode_set_beacon_key(&f->node, f->beacon_sk, &err), ST_OK);
  st_chain_on_head(f->chain, head_changed, &f->node);
  size_t nmethods;
  const st_rpc_method *methods = st_fullnode_methods(&nmethods);
  st_rpc_opts ro = {.methods = methods, .nmethods = nmethods, .ctx = &f->node, .jwt_secret = secret};
  assert_int_equal(st_rpc_new(&ro, &f->rpc, &err), ST_OK);
  assert_int_equal(st_rpc_serve(f->rpc, "127.0.0.1:0", 4, &f->http, &err), ST_OK);
  char *token = NULL;
  assert_int_equal(st_jwt_create(secret, ST_PERM_ALL, &token, &err), ST_OK);
  st_apiinfo ai;
  snprintf(ai.token, sizeof ai.token, "%s", token);
  snprintf(ai.url, sizeof ai.url, "http://127.0.0.1:%u", st_http_server_port(f->http));
  free(token);
  assert_int_equal(st_rpc_client_open(&ai, &f->c, &err), ST_OK);
  /* the account's key goes into the node's wallet: the miner side holds none */
  st_buf b64 = ST_BUF_INIT;
  st_base64_append(&b64, f->sk, sizeof f->sk, true);
  char imp[200];
  snprintf(imp, sizeof imp, "[{\"Type\":\"secp256k1\",\"PrivateKey\":\"%s\"}]", st_buf_cstr(&b64));
  st_buf_free(&b64);
  json_decref(rpc(f, "WalletImport", imp));
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  st_rpc_client_close(f->c);
  st_fullnode_stop(&f->node);
  st_http_server_stop(f->http);
  st_rpc_free(f->rpc);
  st_fullnode_free(&f->node);
  st_chain_close(f->chain);
  st_genesis_clear(&f->g);
  tu_rmdir(f->dir);
  return 0;
}

static void create_miner(fx *f) {
  st_buf p = ST_BUF_INIT;
  st_params_create_miner(&f->account, &f->account, info2k()->window_proof, (const uint8_t *)"peer", 4, &p);
  send_ok(f, ST_ID_POWER, ST_METHOD_CREATE_MINER, &p, "10000000000000000000");
  st_buf_free(&p);
  f->miner_exists = true;
  assert_int_equal(power(f), 0);
}

static void randomness(fx *f, bool beacon, int64_t dst, int64_t round, uint8_t out[32]) {
  st_buf e = ST_BUF_INIT;
  st_rand_entropy_id(MINER, &e);
  st_err err;
  if (st_node_randomness(f->c, beacon, dst, round, e.data, e.len, NULL, out, &err)) fail_msg("%s", err.msg);
  st_buf_free(&e);
}

static void commit_sector(fx *f) {
  st_err err;
  int64_t rand_epoch = head_height(f) - 1;
  st_seal_input in = {.info = info2k(), .miner = MINER, .sector = SECTOR, .root = f->store};
  randomness(f, false, ST_DST_SEAL, rand_epoch, in.ticket);
  st_rand_to_fr(in.ticket);
  st_seal_output out;
  if (st_seal(&in, &out, &err)) fail_msg("seal: %s", err.msg);
  memcpy(f->comm_r, out.comm_r, 32);
  st_buf p = ST_BUF_INIT;
  st_params_precommit(info2k()->seal_proof, SECTOR, out.comm_r, rand_epoch, head_height(f) + 3000, &p);
  send_ok(f, MINER, ST_METHOD_PRECOMMIT_SECTOR, &p, "0");
  /* the pre-commit is on chain, its deposit held */
  json_t *pc = rpc(f, "StateSectorPreCommitInfo", "[\"t01000\", 1, []]");
  int64_t pc_epoch = json_integer_value(json_object_get(pc, "PreCommitEpoch"));
  assert_true(pc_epoch > 0);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(pc, "Info"), "SectorNumber")), SECTOR);
  json_decref(pc);
  char deposits[64];
  json_t *rs = rpc(f, "StateReadState", "[\"t01000\", []]");
  snprintf(deposits, sizeof deposits, "%s", json_string_value(json_object_get(json_object_get(rs, "State"), "PreCommitDeposits")));
  json_decref(rs);
  assert_true(atol(deposits) > 0);
  /* the seed, once its epoch is on chain */
  int64_t seed_epoch = pc_epoch + st_chain_network(f->chain)->precommit_challenge_delay;
  mine_to(f, seed_epoch + 1);
  st_porep_public pub = {.info = info2k(), .miner = MINER, .sector = SECTOR};
  memcpy(pub.ticket, in.ticket, 32);
  memcpy(pub.comm_d, out.comm_d, 32);
  memcpy(pub.comm_r, out.comm_r, 32);
  randomness(f, true, ST_DST_INTERACTIVE_SEAL, seed_epoch, pub.seed);
  st_rand_to_fr(pub.seed);
  st_buf proof = ST_BUF_INIT;
  if (st_porep_prove(&pub, f->store, &proof, &err)) fail_msg("porep: %s", err.msg);
  p.len = 0;
  st_params_prove_commit(SECTOR, proof.data, proof.len, &p);
  send_ok(f, MINER, ST_METHOD_PROVE_COMMIT_SECTOR, &p, "0");
  assert_int_equal(st_seal_finalize(info2k(), f->store, MINER, SECTOR, &err), ST_OK);
  st_buf_free(&proof);
  st_buf_free(&p);
}

/* Which deadline holds SECTOR, through StateMinerPartitions over every deadline. */
static uint64_t locate_sector(fx *f) {
  st_deadline_info now;
  st_err err;
  assert_int_equal(st_node_proving_deadline(f->c, MINER, NULL, &now, &err), ST_OK);
  for (uint64_t d = 0; d < (uint64_t)now.policy.deadlines; d++) {
    st_node_partition *parts;
    size_t n;
    if (st_node_partitions(f->c, MINER, d, NULL, &parts, &n, &err)) fail_msg("%s", err.msg);
    bool here = n > 0 && st_bitfield_has(&parts[0].all, SECTOR);
    st_node_partitions_free(parts, n);
    if (here) return d;
  }
  fail_msg("sector %d is in no deadline", SECTOR);
  return 0;
}

/* The next instance of deadline d that has not elapsed at the head. */
static void next_instance(fx *f, uint64_t d, st_deadline_info *out) {
  st_deadline_info now;
  st_err err;
  assert_int_equal(st_node_proving_deadline(f->c, MINER, NULL, &now, &err), ST_OK);
  st_deadline_info di;
  st_deadline_new(&now.policy, now.period_start, d, now.current_epoch, &di);
  st_deadline_next_not_elapsed(&di, out);
}

/* SubmitWindowedPoSt params for deadline d (partition 0, SECTOR), proof tampered or not. */
static void post_params(fx *f, uint64_t d, const st_deadline_info *di, bool tamper, st_buf *p) {
  st_err err;
  uint8_t rand[32], cc[32];
  randomness(f, true, ST_DST_WINDOW_POST, di->challenge, rand);
  st_rand_to_fr(rand);
  assert_int_equal(st_node_randomness(f->c, false, ST_DST_POST_CHAIN_COMMIT, di->challenge, NULL, 0, NULL, cc, &err), ST_OK);
  bool found = false;
  uint8_t comm_r[32];
  assert_int_equal(st_node_sector_comm_r(f->c, MINER, SECTOR, &found, comm_r, &err), ST_OK);
  assert_true(found);
  assert_memory_equal(comm_r, f->comm_r, 32);
  st_sector_paths paths;
  assert_int_equal(st_sector_paths_make(f->store, MINER, SECTOR, &paths, NULL), ST_OK);
  st_post_sector s = {SECTOR, {0}, paths.sealed, paths.cache};
  memcpy(s.comm_r, comm_r, 32);
  st_post_result res;
  memset(&res, 0, sizeof res);
  st_post_options opt = {0};
  if (st_window_post_prove(info2k(), rand, &s, 1, &opt, &res, &err)) fail_msg("window post: %s", err.msg);
  assert_int_equal(res.nskipped, 0);
  if (tamper) res.proof.data[res.proof.len - 3] ^= 1;
  st_post_partition part = {0, NULL};
  p->len = 0;
  assert_int_equal(st_params_window_post(d, &part, 1, info2k()->window_proof, res.proof.data, res.proof.len, di->challenge, cc, p, &err), ST_OK);
  st_post_result_free(&res);
}

static long locked_funds(fx *f) {
  json_t *rs = rpc(f, "StateReadState", "[\"t01000\", []]");
  long v = atol(json_string_value(json_object_get(json_object_get(rs, "State"), "LockedFunds")));
  json_decref(rs);
  return v;
}

/* Whether partition 0 of deadline d is in its PostSubmissions (StateMinerDeadlines). */
static bool post_submissions_has(fx *f, uint64_t d) {
  json_t *r = rpc(f, "StateMinerDeadlines", "[\"t01000\", []]");
  st_bitfield bf = ST_BITFIELD_INIT;
  st_err err;
  if (st_chain_json_get_bitfield(json_object_get(json_array_get(r, d), "PostSubmissions"), "PostSubmissions", &bf, &err)) fail_msg("%s", err.msg);
  bool has = st_bitfield_has(&bf, 0);
  st_bitfield_free(&bf);
  json_decref(r);
  return has;
}

static void test_lifecycle(void **state) {
  fx *f = *state;
  const st_network *net = st_chain_network(f->chain);
  mine_to(f, 3);
  create_miner(f);
  commit_sector(f);

  /* in a deadline and partition, with its power, through the State methods */
  uint64_t d = locate_sector(f);
  char params[256], want[512];
  snprintf(params, sizeof params, "[\"t01000\", %llu, []]", (unsigned long long)d);
  assert_rpc(f, "StateMinerPartitions", params,
             "[{\"AllSectors\":[1,1],\"FaultySectors\":[0],\"RecoveringSectors\":[0],\"LiveSectors\":[1,1],\"ActiveSectors\":[1,1]}]");
  json_t *sectors = rpc(f, "StateMinerActiveSectors", "[\"t01000\", []]");
  assert_int_equal(json_array_size(sectors), 1);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(sectors, 0), "SectorNumber")), SECTOR);
  json_decref(sectors);
  assert_rpc(f, "StateMinerSectorCount", "[\"t01000\", []]", "{\"Live\":1,\"Active\":1,\"Faulty\":0}");
  assert_rpc(f, "StateSectorPreCommitInfo", "[\"t01000\", 1, []]", "null");
  assert_int_equal(power(f), 2048);
  assert_int_equal(locked_funds(f), net->sector_pledge);

  /* the next instance of its deadline: refusals first (exit 16, nothing changed), then a valid post */
  st_deadline_info di;
  next_instance(f, d, &di);
  mine_to(f, di.open - 1);
  st_buf p = ST_BUF_INIT;
  post_params(f, d, &di, true, &p);
  send_refused(f, ST_METHOD_SUBMIT_WINDOWED_POST, &p, 16); /* invalid proof */
  post_params(f, d, &di, false, &p);
  p.data[1] = (uint8_t)((d + 1) % 12); /* the deadline field (a small uint) */
  send_refused(f, ST_METHOD_SUBMIT_WINDOWED_POST, &p, 16); /* wrong deadline */
  assert_int_equal(post_submissions_has(f, d), false);
  post_params(f, d, &di, false, &p);
  send_ok(f, MINER, ST_METHOD_SUBMIT_WINDOWED_POST, &p, "0");
  assert_int_equal(post_submissions_has(f, d), true);
  assert_int_equal(power(f), 2048);
  /* after Close: refused, nothing changed */
  mine_to(f, di.close + 1);
  send_refused(f, ST_METHOD_SUBMIT_WINDOWED_POST, &p, 16);
  assert_int_equal(power(f), 2048);

  /* the next instance passes unproven: faulty, no power, the fault fee charged from the pledge */
  st_deadline_info di2;
  next_instance(f, d, &di2);
  mine_to(f, di2.close + 1);
  assert_rpc(f, "StateMinerFaults", "[\"t01000\", []]", "[1,1]");
  assert_rpc(f, "StateMinerRecoveries", "[\"t01000\", []]", "[0]");
  assert_rpc(f, "StateMinerSectorCount", "[\"t01000\", []]", "{\"Live\":1,\"Active\":0,\"Faulty\":1}");
  assert_rpc(f, "StateMinerActiveSectors", "[\"t01000\", []]", "[]");
  assert_int_equal(power(f), 0);
  assert_int_equal(locked_funds(f), net->sector_pledge - net->fault_fee);

  /* a recovery before the cutoff, then the next post restores the power */
  st_bitfield one = ST_BITFIELD_INIT;
  st_bitfield_set(&one, SECTOR, NULL);
  st_fault_decl decl = {d, 0, &one};
  st_buf r = ST_BUF_INIT;
  st_err err;
  assert_int_equal(st_params_fault_decls(&decl, 1, &r, &err), ST_OK);
  send_ok(f, MINER, ST_METHOD_DECLARE_FAULTS_RECOVERED, &r, "0");
  assert_rpc(f, "StateMinerRecoveries", "[\"t01000\", []]", "[1,1]");
  snprintf(want, sizeof want, "[{\"AllSectors\":[1,1],\"FaultySectors\":[1,1],\"RecoveringSectors\":[1,1],\"LiveSectors\":[1,1],\"ActiveSectors\":[0]}]");
  assert_rpc(f, "StateMinerPartitions", params, want);
  assert_int_equal(power(f), 0);
  st_deadline_info di3;
  next_instance(f, d, &di3);
  mine_to(f, di3.open - 1);
  post_params(f, d, &di3, false, &p);
  send_ok(f, MINER, ST_METHOD_SUBMIT_WINDOWED_POST, &p, "0");
  assert_int_equal(power(f), 2048);
  assert_rpc(f, "StateMinerFaults", "[\"t01000\", []]", "[0]");
  assert_rpc(f, "StateMinerRecoveries", "[\"t01000\", []]", "[0]");
  assert_rpc(f, "StateMinerSectorCount", "[\"t01000\", []]", "{\"Live\":1,\"Active\":1,\"Faulty\":0}");

  /* the miner made blocks through the API and was paid for them */
  mine_to(f, head_height(f) + 30);
  print_message("blocks through st_blockprod_round: %lld won, %lld null rounds\n", (long long)f->won, (long long)f->nulls);
  assert_true(f->won > 0);
  char bal[64];
  rpc_string(f, "StateReadState", "[\"t01000\", []]", "Balance", bal, sizeof bal);
  assert_true(strlen(bal) > strlen("10000000000000000000") || strcmp(bal, "10000000000000000000") > 0);
  st_bitfield_free(&one);
  st_buf_free(&r);
  st_buf_free(&p);
}

/* The node's refusals reach the caller with the method's name; WalletVRF is the ECVRF of the
 * key it names, and the node refuses a key it does not hold. */
static void test_errors(void **state) {
  fx *f = *state;
  st_err err;
  st_node_base_info bi;
  st_node_base_info_init(&bi);
  assert_int_equal(st_node_get_base_info(f->c, 4242, 5, NULL, &bi, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "MinerGetBaseInfo: ");
  tu_assert_err_contains(&err, "t04242");
  st_node_base_info_free(&bi);
  uint8_t alpha[32] = {1, 2, 3}, pi[ST_VRF_PROOF_LEN], beta[32], pub[ST_SECP_PUBKEY_LEN];
  assert_int_equal(st_node_vrf(f->c, &f->account, alpha, sizeof alpha, pi, &err), ST_OK);
  assert_int_equal(st_secp_pubkey(f->sk, pub, &err), ST_OK);
  assert_int_equal(st_vrf_verify(pub, sizeof pub, alpha, sizeof alpha, pi, beta, &err), ST_OK);
  alpha[0] ^= 1;
  assert_int_not_equal(st_vrf_verify(pub, sizeof pub, alpha, sizeof alpha, pi, beta, &err), ST_OK);
  uint8_t other[32];
  st_address stranger;
  assert_int_equal(st_secp_keygen(other, &err), ST_OK);
  assert_int_equal(st_secp_address(other, &stranger, &err), ST_OK);
  assert_int_not_equal(st_node_vrf(f->c, &stranger, alpha, sizeof alpha, pi, &err), ST_OK);
  tu_assert_err_contains(&err, "WalletVRF: ");
  st_deadline_info di;
  assert_int_equal(st_node_proving_deadline(f->c, 100, NULL, &di, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "StateMinerProvingDeadline: ");
  tu_assert_err_contains(&err, "not a miner");
  /* MpoolPushMessage's MaxFee caps GasFeeCap x GasLimit */
  st_message m;
  st_message_init(&m);
  m.from = f->account;
  st_address_from_id(100, &m.to, NULL);
  mpz_set_ui(m.value, 1);
  mpz_t max_fee;
  mpz_init_set_ui(max_fee, 1000000);
  st_cid cid;
  assert_int_equal(st_node_push(f->c, &m, max_fee, &cid, &err), ST_OK);
  json_t *pending = rpc(f, "MpoolPending", "[[]]");
  assert_int_equal(json_array_size(pending), 1);
  const json_t *pm = json_object_get(json_array_get(pending, 0), "Message");
  mpz_t fee;
  mpz_init_set_str(fee, json_string_value(json_object_get(pm, "GasFeeCap")), 10);
  assert_true(mpz_sgn(fee) > 0);
  mpz_mul_si(fee, fee, json_integer_value(json_object_get(pm, "GasLimit")));
  assert_true(mpz_cmp(fee, max_fee) <= 0);
  assert_true(mpz_cmp_ui(fee, 1000000 - (unsigned long)json_integer_value(json_object_get(pm, "GasLimit"))) > 0);
  mpz_clears(fee, max_fee, NULL);
  json_decref(pending);
  st_message_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_errors), cmocka_unit_test(test_lifecycle)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
