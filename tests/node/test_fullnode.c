/* st_fullnode: its header's method list, group by group, is exactly the method table of a node
 * (nodefx's; so the list a reader trusts stays complete), and the table passes st_rpc's checks (one run or subscribe
 * per entry, no args without a parse, each name once per API version). Then the methods issue 26 added, their
 * JSON against the chain's own state: StateNetworkName, StateNetworkVersion, StateListMiners,
 * StateCirculatingSupply, ChainHasObj, ChainReadObj, WalletHas, ChainGetPath, StateListActors,
 * StateCall, GasEstimateFeeCap, GasEstimateGasPremium, MpoolSelect, WalletSignMessage,
 * WalletDelete, StateMinerSectorAllocated, StateMinerPreCommitDepositForPower and
 * StateMinerInitialPledgeCollateral, and their bad params. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chain/st_market_state.h"
#include "core/st_encoding.h"
#include "core/st_fs.h"
#include "node/st_fullnode.h"
#include "nodefx.h"
#include "testutil.h"

#define MAX_NAMES 128

/* The method names the header lists: the words of its "<group>: A, B, C." lines (and their
 * continuation lines); for notify, the first word only (the rest is prose). */
static size_t listed(char names[][64], st_buf *header) {
  static const char *const GROUPS[] = {"common", "chain",  "state",  "miner", "market",
                                       "mpool",  "wallet", "mining", "notify"};
  size_t n = 0;
  bool in_list = false, first_only = false;
  char *save = NULL;
  for (char *line = strtok_r((char *)header->data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *p = line;
    while (*p == ' ' || *p == '*' || *p == '/') p++;
    char *colon = strchr(p, ':');
    bool group = false;
    for (size_t g = 0; colon && g < sizeof GROUPS / sizeof GROUPS[0]; g++)
      group |= (size_t)(colon - p) == strlen(GROUPS[g]) && !strncmp(p, GROUPS[g], strlen(GROUPS[g]));
    if (group) {
      in_list = true;
      first_only = !strncmp(p, "notify", 6);
      p = colon + 1;
    } else if (!in_list || strncmp(line, " *    ", 6)) {
      in_list = false;
      continue;
    }
    for (char *w = p; *w && in_list;) {
      while (*w && !isalnum((unsigned char)*w)) w++;
      char *e = w;
      while (isalnum((unsigned char)*e)) e++;
      if (e > w && isupper((unsigned char)*w) && strncmp(w, "ST_", 3)) {
        snprintf(names[n++], 64, "%.*s", (int)(e - w), w);
        if (first_only) in_list = false;
      }
      if (*e == '.' || !*e) {
        if (*e == '.') in_list = false;
        break;
      }
      w = e;
    }
  }
  return n;
}

static bool in_table(const st_rpc_method *m, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(m[i].name + strlen("Filecoin."), name)) return true;
  return false;
}

static void test_header_lists_the_table(void **state) {
  nodefx *f = *state;
  st_buf header = ST_BUF_INIT;
  st_err err;
  assert_int_equal(st_fs_read_file(ST_SOURCE_DIR "/lib/node/st_fullnode.h", 1 << 20, &header, &err), ST_OK);
  st_buf_putc(&header, 0);
  static char names[MAX_NAMES][64];
  size_t k = listed(names, &header);
  size_t n;
  const st_rpc_method *m = st_fullnode_methods(st_daemon_fullnode(f->daemon), &n);
  assert_true(k > 50);
  for (size_t i = 0; i < k; i++)
    if (!in_table(m, n, names[i])) fail_msg("st_fullnode.h lists %s, which the table does not serve", names[i]);
  for (size_t i = 0; i < n; i++) {
    bool found = false;
    for (size_t j = 0; j < k && !found; j++) found = !strcmp(m[i].name + strlen("Filecoin."), names[j]);
    if (!found) fail_msg("the table serves %s, which st_fullnode.h does not list", m[i].name);
  }
  st_buf_free(&header);
}

/* docs/lotus-api.md section 6: every row "| Name | perm | yes|no | ..." says truly whether the
 * table serves the method and with which permission, and every method the table serves (but the
 * v0-only and our own, in its footnote) has a "yes" row. */
static void test_lotus_table_in_docs(void **state) {
  nodefx *f = *state;
  st_buf doc = ST_BUF_INIT;
  st_err err;
  assert_int_equal(st_fs_read_file(ST_SOURCE_DIR "/docs/lotus-api.md", 1 << 22, &doc, &err), ST_OK);
  st_buf_putc(&doc, 0);
  char *sec = strstr((char *)doc.data, "\n## 6. "), *end = sec ? strstr(sec, "\n## 7. ") : NULL;
  if (!end) {
    fail_msg("docs/lotus-api.md has no section 6 followed by a section 7");
    return;
  }
  *end = 0;
  size_t n, rows = 0, yes = 0;
  const st_rpc_method *m = st_fullnode_methods(st_daemon_fullnode(f->daemon), &n);
  bool *seen = calloc(n, sizeof *seen);
  char *save = NULL;
  for (char *line = strtok_r(sec, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char name[64], perm[16], here[8];
    if (sscanf(line, "| %63[A-Za-z0-9] | %15[a-z] | %7[a-z] |", name, perm, here) != 3) continue;
    rows++;
    const st_rpc_method *found = NULL;
    for (size_t i = 0; i < n && !found; i++)
      if (!strcmp(m[i].name + strlen("Filecoin."), name) && !(m[i].versions && !(m[i].versions & ST_RPC_V1)))
        found = &m[i];
    if (!strcmp(here, "yes") != (found != NULL))
      fail_msg("docs/lotus-api.md says %s is %sserved; the table %s it", name, strcmp(here, "yes") ? "not " : "",
               found ? "serves" : "lacks");
    if (!found) continue;
    yes++;
    seen[found - m] = true;
    unsigned p = found->perm;
    const char *ours = p == ST_PERM_READ ? "read" : p == ST_PERM_WRITE ? "write" : p == ST_PERM_SIGN ? "sign" : "admin";
    if (strcmp(perm, ours)) fail_msg("docs/lotus-api.md gives %s perm %s; the table needs %s", name, perm, ours);
  }
  assert_true(rows > 250);
  for (size_t i = 0; i < n; i++) {
    const char *name = m[i].name + strlen("Filecoin.");
    bool v0_only = m[i].versions && !(m[i].versions & ST_RPC_V1);
    if (!seen[i] && !v0_only && strcmp(name, "WalletVRF"))
      fail_msg("the table serves %s, which docs/lotus-api.md section 6 does not list as served", name);
  }
  print_message("docs/lotus-api.md section 6: %zu Lotus methods, %zu served\n", rows, yes);
  free(seen);
  st_buf_free(&doc);
}

static void test_table_checks(void **state) {
  nodefx *f = *state;
  size_t n;
  const st_rpc_method *m = st_fullnode_methods(st_daemon_fullnode(f->daemon), &n);
  uint8_t secret[ST_JWT_SECRET_LEN] = {1};
  st_rpc_opts o = {.methods = m, .nmethods = n, .jwt_secret = secret};
  st_rpc *rpc;
  st_err err;
  if (st_rpc_new(&o, &rpc, &err)) fail_msg("%s", err.msg);
  st_rpc_free(rpc);
  for (size_t i = 0; i < n; i++) assert_int_equal(strncmp(m[i].name, "Filecoin.", 9), 0);
}

/* One body through st_rpc_handle_body on the node's table (v1) with perms: the response. */
static json_t *handle(nodefx *f, unsigned perms, const char *body, int *status) {
  size_t n;
  const st_rpc_method *m = st_fullnode_methods(st_daemon_fullnode(f->daemon), &n);
  uint8_t secret[ST_JWT_SECRET_LEN] = {1};
  st_rpc_opts o = {.methods = m, .nmethods = n, .ctx = st_daemon_fullnode(f->daemon), .jwt_secret = secret};
  st_rpc *rpc;
  st_err err;
  if (st_rpc_new(&o, &rpc, &err)) fail_msg("%s", err.msg);
  st_buf out = ST_BUF_INIT;
  *status = st_rpc_handle_body(rpc, 1, perms, (const uint8_t *)body, strlen(body), &out);
  st_rpc_free(rpc);
  json_t *r = json_loadb((const char *)out.data, out.len, 0, NULL);
  assert_non_null(r);
  st_buf_free(&out);
  return r;
}

/* The call fails with code, its message holding want. */
static void assert_error(nodefx *f, unsigned perms, const char *method, const char *params, json_int_t code,
                         const char *want) {
  char body[512];
  snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"Filecoin.%s\",\"params\":%s}", method,
           params);
  int status;
  json_t *r = handle(f, perms, body, &status);
  const json_t *e = json_object_get(r, "error");
  if (!e) fail_msg("%s %s succeeded", method, params);
  assert_int_equal(json_integer_value(json_object_get(e, "code")), code);
  const char *msg = json_string_value(json_object_get(e, "message"));
  if (!msg || !strstr(msg, want)) fail_msg("%s %s: message %s lacks %s", method, params, msg, want);
  json_decref(r);
}

/* Every balance less the burnt and reward actors' and the miners' locked part, from the chain. */
static void expected_supply(nodefx *f, mpz_t out) {
  st_state st;
  st_state_init(&st);
  st_err err;
  assert_int_equal(st_chain_state(f->chain, NULL, &st, &err), ST_OK);
  mpz_set_ui(out, 0);
  for (size_t i = 0; i < st.n; i++) {
    const st_state_actor *a = &st.actors[i];
    if (a->id == ST_ID_BURNT || a->id == ST_ID_REWARD) continue;
    mpz_add(out, out, a->balance);
    if (a->kind != ST_ACTOR_MINER) continue;
    st_miner_state m;
    assert_int_equal(st_chain_miner_state(f->chain, NULL, a->id, &m, &err), ST_OK);
    mpz_sub(out, out, m.precommit_deposits);
    mpz_sub(out, out, m.locked_funds);
    mpz_sub(out, out, m.fee_debt);
    st_miner_state_free(&m);
  }
  st_market_state ms;
  assert_int_equal(st_chain_market_state(f->chain, NULL, &ms, &err), ST_OK);
  for (size_t i = 0; i < ms.nbalances; i++) mpz_sub(out, out, ms.balances[i].locked);
  st_market_state_free(&ms);
  st_state_clear(&st);
}

static void assert_supply(nodefx *f) {
  mpz_t want;
  mpz_init(want);
  expected_supply(f, want);
  char *text = mpz_get_str(NULL, 10, want);
  json_t *got = nf_rpc(f, "StateCirculatingSupply", "[[]]");
  assert_true(json_is_string(got));
  assert_string_equal(json_string_value(got), text);
  free(text);
  json_decref(got);
  mpz_clear(want);
}

static void test_network_name_and_version(void **state) {
  nodefx *f = *state;
  char want[64];
  snprintf(want, sizeof want, "\"%s\"", f->g.network.name);
  nf_assert_rpc(f, "StateNetworkName", "[]", want);
  nf_assert_rpc(f, "StateNetworkName", "[]", "\"devnet\"");
  nf_assert_rpc(f, "StateNetworkVersion", "[[]]", "0");
  json_t *g = nf_rpc(f, "ChainGetGenesis", "[]");
  char params[256];
  char *cids = json_dumps(json_object_get(g, "Cids"), JSON_COMPACT);
  snprintf(params, sizeof params, "[%s]", cids);
  nf_assert_rpc(f, "StateNetworkVersion", params, "0");
  free(cids);
  json_decref(g);
  assert_error(f, ST_PERM_READ, "StateNetworkVersion", "[5]", ST_RPC_INVALID_PARAMS, "param 1 (tipset key)");
  assert_error(f, ST_PERM_READ, "StateNetworkName", "[1]", ST_RPC_INVALID_PARAMS, "param count");
}

static void test_objects(void **state) {
  nodefx *f = *state;
  json_t *g = nf_rpc(f, "ChainGetGenesis", "[]");
  char params[256];
  char *cid = json_dumps(json_array_get(json_object_get(g, "Cids"), 0), JSON_COMPACT);
  snprintf(params, sizeof params, "[%s]", cid);
  nf_assert_rpc(f, "ChainHasObj", params, "true");
  json_t *raw = nf_rpc(f, "ChainReadObj", params);
  assert_true(json_is_string(raw));
  st_buf bytes = ST_BUF_INIT;
  st_err err;
  assert_int_equal(st_base64_decode(json_string_value(raw), json_string_length(raw), true, &bytes, &err), ST_OK);
  st_cid got, want;
  st_cid_of_cbor(bytes.data, bytes.len, &got);
  assert_int_equal(st_chain_json_get_cid(json_array_get(json_object_get(g, "Cids"), 0), "cid", &want, &err), ST_OK);
  assert_true(st_cid_equal(&got, &want));
  st_buf_free(&bytes);
  json_decref(raw);
  free(cid);
  json_decref(g);

  st_cid unknown;
  st_cid_of_cbor("\x44nope", 5, &unknown);
  json_t *uj = st_chain_json_cid(&unknown);
  char *u = json_dumps(uj, JSON_COMPACT);
  snprintf(params, sizeof params, "[%s]", u);
  nf_assert_rpc(f, "ChainHasObj", params, "false");
  char ustr[ST_CID_STR_MAX];
  st_cid_to_string(&unknown, ustr);
  assert_error(f, ST_PERM_READ, "ChainReadObj", params, ST_RPC_ERROR, ustr);
  free(u);
  json_decref(uj);
  assert_error(f, ST_PERM_READ, "ChainReadObj", "[{\"/\":\"bad\"}]", ST_RPC_INVALID_PARAMS, "param 1 (CID)");
  assert_error(f, ST_PERM_READ, "ChainHasObj", "[\"x\"]", ST_RPC_INVALID_PARAMS, "param 1 (CID)");
}

static void test_wallet_has(void **state) {
  nodefx *f = *state;
  char text[ST_ADDR_STR_MAX], params[160];
  st_address_format(&f->account, 't', text, NULL);
  snprintf(params, sizeof params, "[\"%s\"]", text);
  nf_assert_rpc(f, "WalletHas", params, "true");
  uint8_t pub[65] = {4, 9, 9, 9};
  st_address other;
  st_address_from_secp256k1_pubkey(pub, &other);
  st_address_format(&other, 't', text, NULL);
  snprintf(params, sizeof params, "[\"%s\"]", text);
  nf_assert_rpc(f, "WalletHas", params, "false");
  assert_error(f, ST_PERM_READ, "WalletHas", params, ST_RPC_ERROR, "need 'write'");
  assert_error(f, ST_PERM_WRITE, "WalletHas", "[\"nope\"]", ST_RPC_INVALID_PARAMS, "param 1 (address)");
}

/* Before the miner exists, none is listed and the supply is the accounts'; after, t01000 is
 * listed and its pledge is not circulating. */
static void test_miners_and_supply(void **state) {
  nodefx *f = *state;
  nf_assert_rpc(f, "StateListMiners", "[[]]", "[]");
  assert_supply(f);
  nf_miner_with_sectors(f, 1);
  nf_assert_rpc(f, "StateListMiners", "[[]]", "[\"t01000\"]");
  nf_assert_rpc(f, "StateListMiners", "[]", "[\"t01000\"]");
  json_t *info = nf_rpc(f, "StateReadState", "[\"t01000\", []]");
  const char *locked = json_string_value(json_object_get(json_object_get(info, "State"), "LockedFunds"));
  assert_non_null(locked);
  assert_string_not_equal(locked, "0");
  json_decref(info);
  assert_supply(f);
  assert_error(f, ST_PERM_READ, "StateListMiners", "[{}]", ST_RPC_INVALID_PARAMS, "param 1 (tipset key)");
  assert_error(f, ST_PERM_READ, "StateCirculatingSupply", "[\"x\"]", ST_RPC_INVALID_PARAMS, "param 1 (tipset key)");
}

/* The head's tipset key as JSON text (into out) and its height. */
static int64_t head_key(nodefx *f, char *out, size_t n) {
  json_t *h = nf_rpc(f, "ChainHead", "[]");
  char *cids = json_dumps(json_object_get(h, "Cids"), JSON_COMPACT);
  snprintf(out, n, "%s", cids);
  int64_t height = json_integer_value(json_object_get(h, "Height"));
  free(cids);
  json_decref(h);
  return height;
}

/* ChainGetPath: applies oldest first from a lower tipset, reverts newest first from a higher
 * one, [] between a tipset and itself. */
static void test_chain_get_path(void **state) {
  nodefx *f = *state;
  char a[512], b[512], params[1100];
  nf_mine_next(f);
  int64_t ha = head_key(f, a, sizeof a);
  for (int i = 0; i < 3; i++) nf_mine_next(f);
  int64_t hb = head_key(f, b, sizeof b);
  assert_true(hb > ha);
  snprintf(params, sizeof params, "[%s, %s]", a, b);
  json_t *up = nf_rpc(f, "ChainGetPath", params);
  assert_true(json_array_size(up) >= 1);
  int64_t last = ha;
  for (size_t i = 0; i < json_array_size(up); i++) {
    json_t *hc = json_array_get(up, i);
    assert_string_equal(json_string_value(json_object_get(hc, "Type")), "apply");
    int64_t h = json_integer_value(json_object_get(json_object_get(hc, "Val"), "Height"));
    assert_true(h > last);
    last = h;
  }
  assert_int_equal(last, hb);
  snprintf(params, sizeof params, "[%s, %s]", b, a);
  json_t *down = nf_rpc(f, "ChainGetPath", params);
  assert_int_equal(json_array_size(down), json_array_size(up));
  for (size_t i = 0; i < json_array_size(down); i++) {
    json_t *hc = json_array_get(down, i);
    assert_string_equal(json_string_value(json_object_get(hc, "Type")), "revert");
    json_t *same = json_object_get(json_array_get(up, json_array_size(up) - 1 - i), "Val");
    assert_true(json_equal(json_object_get(hc, "Val"), same));
  }
  json_decref(up);
  json_decref(down);
  snprintf(params, sizeof params, "[%s, %s]", b, b);
  nf_assert_rpc(f, "ChainGetPath", params, "[]");
  assert_error(f, ST_PERM_READ, "ChainGetPath", "[[], 3]", ST_RPC_INVALID_PARAMS, "param 2 (tipset key)");
  assert_error(f, ST_PERM_READ, "ChainGetPath", "[[]]", ST_RPC_INVALID_PARAMS, "param count");
}

/* StateListActors: every actor, by ID: the built-in ones, the accounts, the miner. */
static void test_list_actors(void **state) {
  nodefx *f = *state;
  json_t *all = nf_rpc(f, "StateListActors", "[[]]");
  st_state st;
  st_state_init(&st);
  st_err err;
  assert_int_equal(st_chain_state(f->chain, NULL, &st, &err), ST_OK);
  assert_int_equal(json_array_size(all), st.n);
  for (size_t i = 0; i < st.n; i++) {
    char want[32];
    snprintf(want, sizeof want, "t0%llu", (unsigned long long)st.actors[i].id);
    assert_string_equal(json_string_value(json_array_get(all, i)), want);
  }
  assert_string_equal(json_string_value(json_array_get(all, 0)), "t00");
  st_state_clear(&st);
  json_decref(all);
  assert_error(f, ST_PERM_READ, "StateListActors", "[7]", ST_RPC_INVALID_PARAMS, "param 1 (tipset key)");
}

/* A message's JSON from the account: to, value, method and premium given; gas left to fill. */
static void message_json(nodefx *f, const char *to, const char *value, int method, const char *premium, char *out,
                         size_t n) {
  char from[ST_ADDR_STR_MAX];
  st_address_format(&f->account, 't', from, NULL);
  snprintf(out, n,
           "{\"Version\":0,\"To\":\"%s\",\"From\":\"%s\",\"Nonce\":0,\"Value\":\"%s\",\"GasLimit\":0,"
           "\"GasFeeCap\":\"0\",\"GasPremium\":\"%s\",\"Method\":%d,\"Params\":null}",
           to, from, value, premium, method);
}

/* StateCall: a send answers exit code 0 and changes nothing on chain; a call to a method the
 * actor lacks answers its exit code and an Error, not an RPC error. */
static void test_state_call(void **state) {
  nodefx *f = *state;
  char msg[512], params[700], from[ST_ADDR_STR_MAX];
  st_address_format(&f->account, 't', from, NULL);
  snprintf(params, sizeof params, "[\"%s\"]", from);
  json_t *nonce0 = nf_rpc(f, "MpoolGetNonce", params);
  json_t *bal0 = nf_rpc(f, "WalletBalance", params);
  message_json(f, "t099", "1000", 0, "0", msg, sizeof msg);
  snprintf(params, sizeof params, "[%s, []]", msg);
  json_t *r = nf_rpc(f, "StateCall", params);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "MsgRct"), "ExitCode")), 0);
  assert_string_equal(json_string_value(json_object_get(r, "Error")), "");
  assert_true(json_is_null(json_object_get(r, "GasCost")));
  assert_true(json_integer_value(json_object_get(json_object_get(r, "MsgRct"), "GasUsed")) > 0);
  json_t *trace = json_object_get(r, "ExecutionTrace");
  assert_string_equal(json_string_value(json_object_get(json_object_get(trace, "Msg"), "To")), "t099");
  assert_true(json_is_object(json_object_get(r, "MsgCid")));
  assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "Msg"), "Nonce")), json_integer_value(nonce0));
  json_decref(r);
  message_json(f, "t099", "0", 77, "0", msg, sizeof msg);
  snprintf(params, sizeof params, "[%s, []]", msg);
  r = nf_rpc(f, "StateCall", params);
  assert_true(json_integer_value(json_object_get(json_object_get(r, "MsgRct"), "ExitCode")) != 0);
  assert_true(strlen(json_string_value(json_object_get(r, "Error"))) > 0);
  json_decref(r);
  snprintf(params, sizeof params, "[\"%s\"]", from);
  json_t *nonce1 = nf_rpc(f, "MpoolGetNonce", params), *bal1 = nf_rpc(f, "WalletBalance", params);
  assert_true(json_equal(nonce0, nonce1));
  assert_true(json_equal(bal0, bal1));
  json_decref(nonce0), json_decref(nonce1), json_decref(bal0), json_decref(bal1);
  assert_error(f, ST_PERM_READ, "StateCall", "[{\"To\":\"t099\"}, []]", ST_RPC_INVALID_PARAMS, "param 1 (message)");
}

/* GasEstimateFeeCap is the head's parent base fee x 1.125^blocks (in 1/256 steps) plus the
 * premium; GasEstimateGasPremium is the floor of 100,000 with no messages, then the mean of the
 * two premiums the last blocks carried. */
static void test_gas_estimates(void **state) {
  nodefx *f = *state;
  char msg[512], params[700], from[ST_ADDR_STR_MAX];
  st_address_format(&f->account, 't', from, NULL);
  json_t *head = nf_rpc(f, "ChainHead", "[]");
  mpz_t base, want;
  mpz_init_set_str(
      base, json_string_value(json_object_get(json_array_get(json_object_get(head, "Blocks"), 0), "ParentBaseFee")),
      10);
  mpz_init(want);
  json_decref(head);
  message_json(f, "t099", "0", 0, "7", msg, sizeof msg);
  const int queues[] = {0, 1, 20};
  for (size_t i = 0; i < 3; i++) {
    mpz_mul_ui(want, base, (unsigned long)(pow(1.125, queues[i]) * 256));
    mpz_fdiv_q_2exp(want, want, 8);
    mpz_add_ui(want, want, 7);
    char *w = mpz_get_str(NULL, 10, want), wq[128];
    snprintf(wq, sizeof wq, "\"%s\"", w);
    snprintf(params, sizeof params, "[%s, %d, []]", msg, queues[i]);
    nf_assert_rpc(f, "GasEstimateFeeCap", params, wq);
    free(w);
  }
  mpz_clears(base, want, NULL);
  snprintf(params, sizeof params, "[%s, 301, []]", msg);
  assert_error(f, ST_PERM_READ, "GasEstimateFeeCap", params, ST_RPC_INVALID_PARAMS, "param 2 (max queue blocks)");

  snprintf(params, sizeof params, "[2, \"%s\", 0, []]", from);
  nf_mine_next(f);
  nf_mine_next(f);
  nf_assert_rpc(f, "GasEstimateGasPremium", params, "\"100000\"");
  const char *premiums[] = {"300000", "200000"};
  json_t *cids[2];
  for (int i = 0; i < 2; i++) {
    char push[700];
    message_json(f, "t099", "1", 0, premiums[i], msg, sizeof msg);
    snprintf(push, sizeof push, "[%s, null]", msg);
    json_t *sm = nf_rpc(f, "MpoolPushMessage", push);
    cids[i] = json_incref(json_object_get(sm, "CID"));
    json_decref(sm);
  }
  /* MpoolSelect offers both, the higher premium first */
  json_t *sel = nf_rpc(f, "MpoolSelect", "[[], 0.8]");
  assert_int_equal(json_array_size(sel), 2);
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(json_array_get(sel, 0), "Message"), "GasPremium")), "300000");
  json_decref(sel);
  assert_error(f, ST_PERM_READ, "MpoolSelect", "[[], \"high\"]", ST_RPC_INVALID_PARAMS, "param 2 (ticket quality)");
  for (int i = 0; i < 2; i++) {
    st_cid c;
    st_err err;
    assert_int_equal(st_chain_json_get_cid(cids[i], "cid", &c, &err), ST_OK);
    assert_int_equal(nf_landed(f, &c), 0);
    json_decref(cids[i]);
  }
  nf_mine_next(f);
  nf_assert_rpc(f, "MpoolSelect", "[[], 0.8]", "[]");
  nf_assert_rpc(f, "GasEstimateGasPremium", params, "\"250000\"");
  assert_error(f, ST_PERM_READ, "GasEstimateGasPremium", "[1, \"x\", 0, []]", ST_RPC_INVALID_PARAMS,
               "param 2 (address)");
}

/* WalletSignMessage signs as given (MpoolPush takes it); WalletDelete needs admin, keeps the key
 * as trash-<addr>, and then the wallet no longer has it. */
static void test_wallet_sign_message_and_delete(void **state) {
  nodefx *f = *state;
  char msg[512], params[700], from[ST_ADDR_STR_MAX];
  st_address_format(&f->account, 't', from, NULL);
  snprintf(params, sizeof params, "[\"%s\"]", from);
  json_t *nonce = nf_rpc(f, "MpoolGetNonce", params);
  snprintf(msg, sizeof msg,
           "{\"Version\":0,\"To\":\"t099\",\"From\":\"%s\",\"Nonce\":%lld,\"Value\":\"1\",\"GasLimit\":1000000,"
           "\"GasFeeCap\":\"1000000\",\"GasPremium\":\"1000\",\"Method\":0,\"Params\":null}",
           from, (long long)json_integer_value(nonce));
  json_decref(nonce);
  snprintf(params, sizeof params, "[\"%s\", %s]", from, msg);
  json_t *sm = nf_rpc(f, "WalletSignMessage", params);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(sm, "Signature"), "Type")), 1);
  char *smtext = json_dumps(sm, JSON_COMPACT), push[1200];
  snprintf(push, sizeof push, "[%s]", smtext);
  json_t *cid = nf_rpc(f, "MpoolPush", push);
  st_cid c;
  st_err err;
  assert_int_equal(st_chain_json_get_cid(cid, "cid", &c, &err), ST_OK);
  assert_int_equal(nf_landed(f, &c), 0);
  free(smtext);
  json_decref(cid);
  json_decref(sm);
  assert_error(f, ST_PERM_WRITE, "WalletSignMessage", params, ST_RPC_ERROR, "need 'sign'");

  json_t *made = nf_rpc(f, "WalletNew", "[\"secp256k1\"]");
  snprintf(params, sizeof params, "[\"%s\"]", json_string_value(made));
  assert_error(f, ST_PERM_SIGN, "WalletDelete", params, ST_RPC_ERROR, "need 'admin'");
  nf_assert_rpc(f, "WalletDelete", params, "null");
  nf_assert_rpc(f, "WalletHas", params, "false");
  char trash[700];
  snprintf(trash, sizeof trash, "%s/keystore/trash-%s", f->dir, json_string_value(made));
  assert_int_equal(access(trash, F_OK), 0);
  assert_error(f, ST_PERM_ADMIN, "WalletDelete", params, ST_RPC_ERROR, "the wallet has no key");
  json_decref(made);
}

/* The miner methods issue 26 added: sector numbers allocated, and the flat pledge. */
static void test_miner_allocated_and_pledge(void **state) {
  nodefx *f = *state;
  nf_assert_rpc(f, "StateMinerSectorAllocated", "[\"t01000\", 1, []]", "true");
  nf_assert_rpc(f, "StateMinerSectorAllocated", "[\"t01000\", 999, []]", "false");
  char want[64];
  snprintf(want, sizeof want, "\"%lld\"", (long long)f->g.network.sector_pledge);
  nf_assert_rpc(f, "StateMinerPreCommitDepositForPower", "[\"t01000\", {\"SectorNumber\": 5}, []]", want);
  nf_assert_rpc(f, "StateMinerInitialPledgeCollateral", "[\"t01000\", {\"SectorNumber\": 5}, []]", want);
  assert_error(f, ST_PERM_READ, "StateMinerInitialPledgeCollateral", "[\"t01000\", 5, []]", ST_RPC_INVALID_PARAMS,
               "param 2 (sector pre-commit info)");
  assert_error(f, ST_PERM_READ, "StateMinerSectorAllocated", "[\"t0100\", 1, []]", ST_RPC_ERROR, "t0100");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_header_lists_the_table),
                                     cmocka_unit_test(test_table_checks),
                                     cmocka_unit_test(test_lotus_table_in_docs),
                                     cmocka_unit_test(test_network_name_and_version),
                                     cmocka_unit_test(test_objects),
                                     cmocka_unit_test(test_wallet_has),
                                     cmocka_unit_test(test_miners_and_supply),
                                     cmocka_unit_test(test_chain_get_path),
                                     cmocka_unit_test(test_list_actors),
                                     cmocka_unit_test(test_state_call),
                                     cmocka_unit_test(test_gas_estimates),
                                     cmocka_unit_test(test_wallet_sign_message_and_delete),
                                     cmocka_unit_test(test_miner_allocated_and_pledge)};
  return cmocka_run_group_tests(tests, nf_group_setup, nf_group_teardown);
}
