/* The daemon's storage power consensus methods over HTTP, on a chain in a temporary repo: a
 * miner made with power.CreateMiner (pushed with MpoolPush, included by a bootstrap block built
 * and submitted in-process) seen through StateMinerInfo, StateMinerPower, the deadline and
 * sector methods, MinerGetBaseInfo and MinerCreateBlock; the beacon's entries (verified with
 * st_beacon_verify, future rounds refused); chain randomness; and the refusals for addresses
 * that are not miners. The genesis is far in the past, so every height is free to build. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chain/st_beacon.h"
#include "chain/st_chain.h"
#include "chain/st_deadline.h"
#include "codec/st_cbor.h"
#include "core/st_encoding.h"
#include "crypto/st_secp.h"
#include "crypto/st_wallet.h"
#include "net/st_http_client.h"
#include "node/st_daemon.h"

typedef struct fixture {
  char dir[256];
  st_genesis g;
  st_daemon *daemon;
  st_chain *chain; /* the daemon's */
  st_fullnode *node;
  st_http_client *client;
  st_address producer;   /* the bootstrap producer (t0101), its key in the node's wallet */
  uint8_t sk[32];        /* the funded account's key (it becomes the miner's owner and worker) */
  uint8_t beacon_sk[32]; /* the beacon's */
  st_address account;    /* its t1 address */
  char account_text[ST_ADDR_STR_MAX];
  uint64_t now;
} fixture;

/* Calls method with params (JSON text) on /rpc/v<version>; returns the whole response object. */
static json_t *call_v(fixture *f, int version, const char *method, const char *params) {
  st_buf body = ST_BUF_INIT, resp = ST_BUF_INIT;
  st_buf_printf(&body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Filecoin.%s\",\"params\":%s}", method, params);
  long status = 0;
  st_err err;
  if (st_http_call(f->client, "POST", version ? "/rpc/v1" : "/rpc/v0", (const char *)body.data, body.len, &status,
                   &resp, &err))
    fail_msg("%s: %s", method, err.msg);
  json_error_t je;
  json_t *j = json_loadb((const char *)resp.data, resp.len, 0, &je);
  if (!j) fail_msg("%s: not JSON: %s", method, st_buf_cstr(&resp));
  st_buf_free(&body);
  st_buf_free(&resp);
  return j;
}

/* The result of a call that must succeed (a new reference). */
static json_t *result_v(fixture *f, int version, const char *method, const char *params) {
  json_t *r = call_v(f, version, method, params);
  json_t *e = json_object_get(r, "error");
  if (e) fail_msg("%s %s: %s", method, params, json_string_value(json_object_get(e, "message")));
  json_t *res = json_incref(json_object_get(r, "result"));
  json_decref(r);
  return res;
}

static json_t *result(fixture *f, const char *method, const char *params) { return result_v(f, 1, method, params); }

/* A call that must fail with code, its message containing needle. */
static void expect_error_v(fixture *f, int version, const char *method, const char *params, int code,
                           const char *needle) {
  json_t *r = call_v(f, version, method, params);
  json_t *e = json_object_get(r, "error");
  if (!e)
    fail_msg("%s %s: no error, result %s", method, params, json_dumps(json_object_get(r, "result"), JSON_COMPACT));
  const char *msg = json_string_value(json_object_get(e, "message"));
  if (json_integer_value(json_object_get(e, "code")) != code || !strstr(msg, needle))
    fail_msg("%s %s: error %lld \"%s\", want %d with \"%s\"", method, params,
             (long long)json_integer_value(json_object_get(e, "code")), msg, code, needle);
  json_decref(r);
}

static void expect_error(fixture *f, const char *method, const char *params, int code, const char *needle) {
  expect_error_v(f, 1, method, params, code, needle);
}

static void assert_json(const json_t *got, const char *want_text) {
  json_error_t je;
  json_t *want = json_loads(want_text, JSON_DECODE_ANY, &je);
  assert_non_null(want);
  if (!json_equal(got, want)) fail_msg("got %s\nwant %s", json_dumps(got, JSON_COMPACT), want_text);
  json_decref(want);
}

/* The method's v1 result must be want_text's JSON. */
static void expect_result(fixture *f, const char *method, const char *params, const char *want_text) {
  json_t *r = result(f, method, params);
  assert_json(r, want_text);
  json_decref(r);
}

static void decode_b64(const json_t *v, st_buf *out) {
  st_err err;
  assert_true(json_is_string(v));
  st_buf_reset(out);
  assert_int_equal(st_base64_decode(json_string_value(v), json_string_length(v), true, out, &err), ST_OK);
}

/* Builds the next bootstrap block with the pool's messages and submits it; returns how many
 * messages it holds. */
static size_t bootstrap_block(fixture *f, int64_t epoch) {
  size_t n;
  st_err err;
  if (st_fullnode_bootstrap_block(f->node, &f->producer, epoch, &n, &err)) fail_msg("bootstrap: %s", err.msg);
  return n;
}

/* Signs m with the account's key (gas from GasEstimateMessageGas) and pushes it: its CID JSON. */
static json_t *push(fixture *f, st_message *m) {
  st_err err;
  json_t *mj;
  assert_int_equal(st_message_to_json(m, 't', &mj, &err), ST_OK);
  char *text = json_dumps(mj, JSON_COMPACT);
  char params[8192];
  snprintf(params, sizeof params, "[%s, null, []]", text);
  free(text);
  json_decref(mj);
  json_t *est = result(f, "GasEstimateMessageGas", params);
  st_signed_message sm;
  st_signed_message_init(&sm);
  assert_int_equal(st_message_from_json(est, &sm.message, &err), ST_OK);
  json_decref(est);
  assert_int_equal(st_signed_message_sign_secp(&sm, f->sk, &err), ST_OK);
  json_t *sj;
  assert_int_equal(st_signed_message_to_json(&sm, 't', &sj, &err), ST_OK);
  text = json_dumps(sj, JSON_COMPACT);
  snprintf(params, sizeof params, "[%s]", text);
  free(text);
  json_decref(sj);
  st_signed_message_free(&sm);
  return result(f, "MpoolPush", params);
}

static int setup(void **state) {
  static fixture F;
  fixture *f = &F;
  memset(f, 0, sizeof *f);
  st_err err;
  tu_tmpdir(f->dir);
  assert_int_equal(st_secp_keygen(f->sk, &err), ST_OK);
  assert_int_equal(st_secp_address(f->sk, &f->account, &err), ST_OK);
  st_address_format(&f->account, 't', f->account_text, &err);
  st_genesis_init(&f->g);
  assert_int_equal(st_network_profile("devnet", &f->g.network, &err), ST_OK);
  f->now = (uint64_t)time(NULL);
  f->g.timestamp = f->now - 100000; /* epoch 100000 now: every height below is free */
  char spec[200], keystore[6000], text[ST_ADDR_STR_MAX];
  snprintf(spec, sizeof spec, "%s=1000", f->account_text);
  assert_int_equal(st_genesis_add_account(&f->g, spec, &err), ST_OK); /* t0100 */
  /* the producer's key goes into the wallet before the node starts, as devnet puts it there */
  st_wallet w;
  uint8_t psk[32];
  snprintf(keystore, sizeof keystore, "%s/keystore", f->dir);
  assert_int_equal(st_wallet_open(&w, keystore, &err), ST_OK);
  assert_int_equal(st_secp_keygen(psk, &err), ST_OK);
  assert_int_equal(st_wallet_import(&w, psk, &f->producer, &err), ST_OK);
  st_address_format(&f->producer, 't', text, &err);
  snprintf(spec, sizeof spec, "%s=10", text);
  assert_int_equal(st_genesis_add_account(&f->g, spec, &err), ST_OK); /* t0101 */
  assert_int_equal(st_genesis_new_beacon(&f->g, f->beacon_sk, &err), ST_OK);
  uint8_t secret[ST_JWT_SECRET_LEN] = {7, 7, 7};
  st_daemon_config cfg = {
      .repo = f->dir, .genesis = &f->g, .listen = "127.0.0.1:0", .threads = 4, .jwt_secret = secret, .version = "test"};
  assert_int_equal(st_daemon_start(&cfg, &f->daemon, &err), ST_OK);
  f->chain = st_daemon_chain(f->daemon);
  f->node = st_daemon_fullnode(f->daemon);
  char *token = NULL, base[64];
  assert_int_equal(st_jwt_create(secret, ST_PERM_ALL, &token, &err), ST_OK);
  snprintf(base, sizeof base, "http://127.0.0.1:%u", st_daemon_port(f->daemon));
  assert_int_equal(st_http_client_new(base, token, &f->client, &err), ST_OK);
  free(token);
  /* a key that is not the genesis's beacon is refused, and the node stays without one */
  uint8_t other[32];
  assert_int_equal(st_secp_keygen(other, &err), ST_OK);
  assert_int_equal(st_fullnode_set_beacon_key(f->node, other, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "not this chain's beacon");
  expect_error(f, "StateGetBeaconEntry", "[3]", ST_RPC_ERROR, "no beacon key");
  assert_int_equal(st_fullnode_set_beacon_key(f->node, f->beacon_sk, &err), ST_OK);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  st_http_client_free(f->client);
  st_daemon_stop(f->daemon);
  st_genesis_clear(&f->g);
  tu_rmdir(f->dir);
  return 0;
}

/* Entries for past rounds verify against the genesis's beacon; a future round is refused. */
static void test_beacon_entries(void **state) {
  fixture *f = *state;
  st_err err;
  st_buf data = ST_BUF_INIT;
  json_t *e = result(f, "StateGetBeaconEntry", "[3]");
  assert_int_equal(json_integer_value(json_object_get(e, "Round")), 3);
  decode_b64(json_object_get(e, "Data"), &data);
  assert_int_equal(data.len, ST_BEACON_ENTRY_LEN);
  const uint8_t *pub = st_chain_beacon_pub(f->chain);
  assert_int_equal(st_beacon_verify(pub, 65, 3, data.data, data.len, &err), ST_OK);
  assert_int_not_equal(st_beacon_verify(pub, 65, 4, data.data, data.len, &err), ST_OK); /* it is round 3's only */
  json_decref(e);
  /* v0 calls it BeaconGetEntry */
  e = result_v(f, 0, "BeaconGetEntry", "[3]");
  assert_int_equal(json_integer_value(json_object_get(e, "Round")), 3);
  json_decref(e);
  expect_error_v(f, 0, "StateGetBeaconEntry", "[3]", ST_RPC_METHOD_NOT_FOUND, "not found");
  /* the current epoch's entry is out; a later one is not */
  int64_t cur = st_chain_epoch_at(f->chain, (uint64_t)time(NULL));
  char params[64], round[64];
  snprintf(params, sizeof params, "[%lld]", (long long)cur);
  e = result(f, "StateGetBeaconEntry", params);
  decode_b64(json_object_get(e, "Data"), &data);
  assert_int_equal(st_beacon_verify(pub, 65, (uint64_t)cur, data.data, data.len, &err), ST_OK);
  json_decref(e);
  snprintf(params, sizeof params, "[%lld]", (long long)cur + 1000);
  snprintf(round, sizeof round, "round %lld is not out yet", (long long)cur + 1000);
  expect_error(f, "StateGetBeaconEntry", params, ST_RPC_ERROR, round);
  expect_error(f, "StateGetBeaconEntry", "[\"3\"]", ST_RPC_INVALID_PARAMS, "param 1 (epoch)");
  /* a daemon without the key says so */
  assert_int_equal(st_fullnode_set_beacon_key(f->node, NULL, &err), ST_OK);
  expect_error(f, "StateGetBeaconEntry", "[3]", ST_RPC_ERROR, "no beacon key");
  assert_int_equal(st_fullnode_set_beacon_key(f->node, f->beacon_sk, &err), ST_OK);
  st_buf_free(&data);
}

/* Addresses that are not miners get a clear error. */
static void test_not_a_miner(void **state) {
  fixture *f = *state;
  expect_error(f, "StateMinerInfo", "[\"t0100\", []]", ST_RPC_ERROR, "t0100 is not a miner (its actor is account)");
  expect_error(f, "StateMinerPower", "[\"t0100\", []]", ST_RPC_ERROR, "t0100 is not a miner");
  expect_error(f, "StateMinerInfo", "[\"t04\", []]", ST_RPC_ERROR, "is not a miner");
  expect_error(f, "StateMinerPower", "[\"t09999\", []]", ST_RPC_ERROR, "actor t09999 not found");
  expect_error(f, "StateMinerInfo", "[\"nonsense\", []]", ST_RPC_INVALID_PARAMS, "param 1 (address)");
  expect_error(f, "MinerGetBaseInfo", "[\"t0100\", 5, []]", ST_RPC_ERROR, "not a miner");
}

/* Randomness from tickets is the chain's DrawRandomness, in base64. */
static void test_randomness(void **state) {
  fixture *f = *state;
  st_err err;
  uint8_t want[32];
  assert_int_equal(st_chain_randomness(f->chain, NULL, false, 2, 0, (const uint8_t *)"hi", 2, want, &err), ST_OK);
  json_t *r = result(f, "StateGetRandomnessFromTickets", "[2, 0, \"aGk=\", []]");
  st_buf got = ST_BUF_INIT;
  decode_b64(r, &got);
  assert_int_equal(got.len, 32);
  assert_memory_equal(got.data, want, 32);
  json_decref(r);
  /* beacon randomness before the first entry draws from the beacon's key, as the VM does */
  assert_int_equal(st_chain_randomness(f->chain, NULL, true, 5, 0, NULL, 0, want, &err), ST_OK);
  r = result(f, "StateGetRandomnessFromBeacon", "[5, 0, null, []]");
  decode_b64(r, &got);
  assert_int_equal(got.len, 32);
  assert_memory_equal(got.data, want, 32);
  json_decref(r);
  st_buf_free(&got);
  expect_error(f, "StateGetRandomnessFromTickets", "[2, 0, \"!!\", []]", ST_RPC_INVALID_PARAMS, "param 3 (entropy)");
  expect_error(f, "StateGetRandomnessFromTickets", "[2, 50000, null, []]", ST_RPC_ERROR, "randomness for round 50000");
}

/* A miner made with power.CreateMiner, seen through every method. */
static void test_miner(void **state) {
  fixture *f = *state;
  st_err err;
  /* CreateMiner: method 2 of t04, [Owner, Worker, WindowPoStProofType, Peer, Multiaddrs] */
  uint8_t peer[38] = {0x00, 0x24, 0x08, 0x01, 0x12, 0x20}; /* an identity multihash of an ed25519 key */
  for (int i = 6; i < 38; i++) peer[i] = (uint8_t)i;
  st_address owner;
  st_address_from_id(100, &owner, &err);
  st_message m;
  st_message_init(&m);
  st_address_from_id(4, &m.to, &err);
  m.from = f->account;
  m.method = 2;
  st_buf p = ST_BUF_INIT;
  st_cbor_put_array(&p, 5);
  st_cbor_put_bytes(&p, owner.bytes, owner.len);
  st_cbor_put_bytes(&p, f->account.bytes, f->account.len);
  st_cbor_put_int(&p, 10); /* StackedDrgWindow2KiBV1_1 */
  st_cbor_put_bytes(&p, peer, sizeof peer);
  st_cbor_put_array(&p, 0);
  assert_int_equal(st_chain_bytes_set(&m.params, p.data, p.len, &err), ST_OK);
  st_buf_free(&p);
  json_t *cid = push(f, &m);
  st_message_free(&m);
  assert_int_equal(bootstrap_block(f, 1), 1);
  char *cidtext = json_dumps(cid, JSON_COMPACT);
  char params[8192];
  snprintf(params, sizeof params, "[[], %s, -1, true]", cidtext);
  free(cidtext);
  json_decref(cid);
  json_t *lookup = result(f, "StateSearchMsg", params);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(lookup, "Receipt"), "ExitCode")), 0);
  json_decref(lookup);

  /* StateMinerInfo: the new miner is t01000, owned and worked by t0100 */
  json_t *info = result(f, "StateMinerInfo", "[\"t01000\", []]");
  assert_string_equal(json_string_value(json_object_get(info, "Owner")), "t0100");
  assert_string_equal(json_string_value(json_object_get(info, "Worker")), "t0100");
  assert_string_equal(json_string_value(json_object_get(info, "NewWorker")), "<empty>");
  assert_int_equal(json_integer_value(json_object_get(info, "WorkerChangeEpoch")), -1);
  assert_true(json_is_null(json_object_get(info, "ControlAddresses")));
  assert_int_equal(json_integer_value(json_object_get(info, "WindowPoStProofType")), 10);
  assert_int_equal(json_integer_value(json_object_get(info, "SectorSize")), 2048);
  assert_int_equal(json_integer_value(json_object_get(info, "WindowPoStPartitionSectors")), 2);
  assert_string_equal(json_string_value(json_object_get(info, "Beneficiary")), "t0100");
  const char *pid = json_string_value(json_object_get(info, "PeerId"));
  assert_non_null(pid);
  assert_true(!strncmp(pid, "12D3KooW", 8)); /* base58 of an ed25519 peer ID */
  const char *keys[] = {"Owner",
                        "Worker",
                        "NewWorker",
                        "ControlAddresses",
                        "WorkerChangeEpoch",
                        "PeerId",
                        "Multiaddrs",
                        "WindowPoStProofType",
                        "SectorSize",
                        "WindowPoStPartitionSectors",
                        "ConsensusFaultElapsed",
                        "PendingOwnerAddress",
                        "Beneficiary",
                        "BeneficiaryTerm",
                        "PendingBeneficiaryTerm"};
  assert_int_equal(json_object_size(info), sizeof keys / sizeof keys[0]);
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) assert_non_null(json_object_get(info, keys[i]));
  json_decref(info);

  /* StateMinerPower: no power yet */
  json_t *pw = result(f, "StateMinerPower", "[\"t01000\", []]");
  assert_json(json_object_get(pw, "MinerPower"), "{\"RawBytePower\":\"0\",\"QualityAdjPower\":\"0\"}");
  assert_json(json_object_get(pw, "TotalPower"), "{\"RawBytePower\":\"0\",\"QualityAdjPower\":\"0\"}");
  assert_true(json_is_false(json_object_get(pw, "HasMinPower")));
  json_decref(pw);

  /* StateMinerProvingDeadline: the deadline current at the head, from the miner's period start */
  st_miner_state ms;
  assert_int_equal(st_chain_miner_state(f->chain, NULL, 1000, &ms, &err), ST_OK);
  st_deadline_policy pol;
  st_deadline_policy_of(&f->g.network, &pol);
  st_deadline_info d;
  st_deadline_at(&pol, ms.proving_period_start, 1, &d);
  st_miner_state_free(&ms);
  json_t *want = st_deadline_info_to_json(&d);
  json_t *dl = result(f, "StateMinerProvingDeadline", "[\"t01000\", []]");
  if (!json_equal(dl, want)) fail_msg("got %s\nwant %s", json_dumps(dl, JSON_COMPACT), json_dumps(want, JSON_COMPACT));
  assert_int_equal(json_integer_value(json_object_get(dl, "CurrentEpoch")), 1);
  assert_true(json_integer_value(json_object_get(dl, "Open")) <= 1 &&
              1 < json_integer_value(json_object_get(dl, "Close")));
  assert_int_equal(json_integer_value(json_object_get(dl, "Close")) - json_integer_value(json_object_get(dl, "Open")),
                   f->g.network.challenge_window);
  json_decref(dl);
  json_decref(want);

  /* StateMinerDeadlines: one entry per deadline, nothing proven */
  json_t *dls = result(f, "StateMinerDeadlines", "[\"t01000\", []]");
  assert_int_equal(json_array_size(dls), (size_t)f->g.network.deadlines);
  for (size_t i = 0; i < json_array_size(dls); i++)
    assert_json(json_array_get(dls, i), "{\"PostSubmissions\":[0],\"DisputableProofCount\":0,\"DailyFee\":\"0\"}");
  json_decref(dls);

  /* counts, sets and sectors: all empty */
  expect_result(f, "StateMinerSectorCount", "[\"t01000\", []]", "{\"Live\":0,\"Active\":0,\"Faulty\":0}");
  expect_result(f, "StateMinerPartitions", "[\"t01000\", 0, []]", "null");
  expect_error(f, "StateMinerPartitions", "[\"t01000\", 12, []]", ST_RPC_ERROR, "deadline 12 does not exist");
  expect_result(f, "StateMinerSectors", "[\"t01000\", null, []]", "[]");
  expect_error(f, "StateMinerSectors", "[\"t01000\", [0, 1], []]", ST_RPC_ERROR, "can't find sector 0");
  expect_error(f, "StateMinerSectors", "[\"t01000\", [3, 2], []]", ST_RPC_ERROR,
               "can't find sector 3"); /* {3,4}: zeros come first */
  expect_error(f, "StateMinerSectors", "[\"t01000\", [1, 0], []]", ST_RPC_INVALID_PARAMS,
               "a run of length 0 is allowed only first");
  expect_result(f, "StateMinerActiveSectors", "[\"t01000\", []]", "[]");
  expect_result(f, "StateMinerFaults", "[\"t01000\", []]", "[0]");
  expect_result(f, "StateMinerRecoveries", "[\"t01000\", []]", "[0]");
  expect_result(f, "StateMinerAvailableBalance", "[\"t01000\", []]", "\"0\"");
  expect_result(f, "StateSectorGetInfo", "[\"t01000\", 1, []]", "null");
  expect_result(f, "StateSectorPreCommitInfo", "[\"t01000\", 1, []]", "null");
  expect_error_v(f, 0, "StateSectorPreCommitInfo", "[\"t01000\", 1, []]", ST_RPC_ERROR,
                 "precommit info does not exist");

  /* MinerGetBaseInfo for round 6: the lookback (round - 5 = 1) has the miner; no power, so not
   * eligible; the beacon's entries for rounds 2..6 */
  json_t *bi = result(f, "MinerGetBaseInfo", "[\"t01000\", 6, []]");
  assert_true(json_is_false(json_object_get(bi, "EligibleForMining")));
  assert_string_equal(json_string_value(json_object_get(bi, "WorkerKey")), f->account_text);
  assert_int_equal(json_integer_value(json_object_get(bi, "SectorSize")), 2048);
  assert_json(json_object_get(bi, "MinerPower"), "\"0\"");
  assert_json(json_object_get(bi, "NetworkPower"), "\"0\"");
  assert_json(json_object_get(bi, "Sectors"), "[]");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(bi, "PrevBeaconEntry"), "Round")), 1);
  json_t *entries = json_object_get(bi, "BeaconEntries");
  assert_int_equal(json_array_size(entries), 5);
  st_buf data = ST_BUF_INIT;
  for (size_t i = 0; i < 5; i++) {
    json_t *e = json_array_get(entries, i);
    assert_int_equal(json_integer_value(json_object_get(e, "Round")), (json_int_t)(2 + i));
    decode_b64(json_object_get(e, "Data"), &data);
    assert_int_equal(st_beacon_verify(st_chain_beacon_pub(f->chain), 65, 2 + i, data.data, data.len, &err), ST_OK);
  }
  st_buf_free(&data);
  json_decref(bi);
  /* round 2 looks back to genesis, where the miner did not exist: null, as Lotus */
  expect_result(f, "MinerGetBaseInfo", "[\"t01000\", 2, []]", "null");
  expect_error(f, "MinerGetBaseInfo", "[\"t01000\", 1, []]", ST_RPC_ERROR, "not above the base tipset");
  snprintf(params, sizeof params, "[\"t01000\", %lld, []]",
           (long long)st_chain_epoch_at(f->chain, (uint64_t)time(NULL)) + 1000);
  expect_error(f, "MinerGetBaseInfo", params, ST_RPC_ERROR, "rounds past the base tipset");
}

/* MinerCreateBlock's params: a BlockTemplate for epoch 2 on the head. */
static void block_template(char *out, size_t n, const char *beacons, const char *msgs, const char *stamp) {
  snprintf(
      out, n,
      "[{\"Miner\":\"t01000\",\"Parents\":[],\"Ticket\":{\"VRFProof\":\"dGlja2V0\"},\"Eproof\":{\"WinCount\":1,\"VRFProof\":\"ZWxlY3Rpb24=\"},"
      "\"BeaconValues\":%s,\"Messages\":%s,\"Epoch\":2,\"Timestamp\":%s,\"WinningPoStProof\":null}]",
      beacons, msgs, stamp);
}

/* MinerCreateBlock signs with the worker's key from the wallet; the block it makes is refused
 * by the chain, since the miner cannot be elected (it did not exist at the lookback). */
static void test_create_block(void **state) {
  fixture *f = *state;
  st_err err;
  json_t *arr = json_pack("[o]", result(f, "StateGetBeaconEntry", "[2]"));
  char *beacons = json_dumps(arr, JSON_COMPACT);
  json_decref(arr);
  char params[16384];
  /* the worker's key is not in the wallet yet */
  block_template(params, sizeof params, beacons, "null", "0");
  expect_error(f, "MinerCreateBlock", params, ST_RPC_ERROR, "the wallet has no key for");
  st_buf b64 = ST_BUF_INIT;
  st_base64_append(&b64, f->sk, sizeof f->sk, true);
  char imp[200];
  snprintf(imp, sizeof imp, "[{\"Type\":\"secp256k1\",\"PrivateKey\":\"%s\"}]", st_buf_cstr(&b64));
  st_buf_free(&b64);
  json_decref(result(f, "WalletImport", imp));
  /* a timestamp that is not the epoch's is refused */
  block_template(params, sizeof params, beacons, "null", "5");
  expect_error(f, "MinerCreateBlock", params, ST_RPC_ERROR, "Timestamp 5 is not the epoch's");
  expect_error(f, "MinerCreateBlock", "[{\"Epoch\":2}]", ST_RPC_INVALID_PARAMS, "Miner");
  /* a message given in the template goes in the block (and into the pool, for SyncSubmitBlock) */
  st_signed_message sm;
  st_signed_message_init(&sm);
  st_address_from_id(100, &sm.message.to, &err);
  sm.message.from = f->account;
  sm.message.nonce = 1; /* CreateMiner took 0 */
  sm.message.gas_limit = 10000000;
  mpz_set_ui(sm.message.gas_fee_cap, 1000);
  mpz_set_ui(sm.message.gas_premium, 100);
  mpz_set_ui(sm.message.value, 1);
  assert_int_equal(st_signed_message_sign_secp(&sm, f->sk, &err), ST_OK);
  json_t *smj;
  assert_int_equal(st_signed_message_to_json(&sm, 't', &smj, &err), ST_OK);
  arr = json_pack("[O]", smj);
  char *msgs = json_dumps(arr, JSON_COMPACT);
  json_decref(arr);
  st_cid want_cid;
  assert_int_equal(st_signed_message_cid(&sm, &want_cid, &err), ST_OK);
  st_signed_message_free(&sm);
  json_decref(smj);
  block_template(params, sizeof params, beacons, msgs, "0");
  json_t *bm = result(f, "MinerCreateBlock", params);
  json_t *h = json_object_get(bm, "Header");
  assert_string_equal(json_string_value(json_object_get(h, "Miner")), "t01000");
  assert_int_equal(json_integer_value(json_object_get(h, "Height")), 2);
  assert_int_equal(json_integer_value(json_object_get(h, "Timestamp")), (json_int_t)(f->g.timestamp + 2));
  assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "BlockSig"), "Type")), 1);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "ElectionProof"), "WinCount")), 1);
  assert_int_equal(json_array_size(json_object_get(h, "BeaconEntries")), 1);
  assert_true(json_is_null(json_object_get(bm, "BlsMessages")));
  json_t *secp = json_object_get(bm, "SecpkMessages");
  assert_int_equal(json_array_size(secp), 1);
  json_t *wc = st_chain_json_cid(&want_cid);
  assert_true(json_equal(json_array_get(secp, 0), wc));
  json_decref(wc);
  json_t *pending = result(f, "MpoolPending", "[[]]");
  assert_int_equal(json_array_size(pending), 1);
  json_decref(pending);
  /* submitted, the chain refuses it: the miner was not elected */
  char *bmtext = json_dumps(bm, JSON_COMPACT);
  snprintf(params, sizeof params, "[%s]", bmtext);
  free(bmtext);
  json_decref(bm);
  expect_error(f, "SyncSubmitBlock", params, ST_RPC_ERROR, "miner t01000 did not exist at the election's lookback");
  /* a message that cannot apply on these parents (a nonce already used) is refused by name */
  free(msgs);
  st_signed_message_init(&sm);
  st_address_from_id(100, &sm.message.to, &err);
  sm.message.from = f->account;
  sm.message.nonce = 0;
  sm.message.gas_limit = 10000000;
  mpz_set_ui(sm.message.gas_fee_cap, 1000);
  mpz_set_ui(sm.message.gas_premium, 100);
  assert_int_equal(st_signed_message_sign_secp(&sm, f->sk, &err), ST_OK);
  assert_int_equal(st_signed_message_to_json(&sm, 't', &smj, &err), ST_OK);
  st_signed_message_free(&sm);
  arr = json_pack("[o]", smj);
  msgs = json_dumps(arr, JSON_COMPACT);
  json_decref(arr);
  block_template(params, sizeof params, beacons, msgs, "0");
  expect_error(f, "MinerCreateBlock", params, ST_RPC_ERROR, "Messages[0]");
  free(msgs);
  free(beacons);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_beacon_entries), cmocka_unit_test(test_not_a_miner),  cmocka_unit_test(test_randomness),
      cmocka_unit_test(test_miner),          cmocka_unit_test(test_create_block),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
