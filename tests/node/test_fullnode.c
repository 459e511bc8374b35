/* st_fullnode: its header's method list, group by group, is exactly the method table of a node
 * (nodefx's; so the list a reader trusts stays complete), and the table passes st_rpc's checks (one run or subscribe
 * per entry, no args without a parse, each name once per API version). Then the methods issue 26 added, their
 * JSON against the chain's own state: StateNetworkName, StateNetworkVersion, StateListMiners,
 * StateCirculatingSupply, ChainHasObj, ChainReadObj, WalletHas, and their bad params. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

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

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_header_lists_the_table),
                                     cmocka_unit_test(test_table_checks),
                                     cmocka_unit_test(test_network_name_and_version),
                                     cmocka_unit_test(test_objects),
                                     cmocka_unit_test(test_wallet_has),
                                     cmocka_unit_test(test_miners_and_supply)};
  return cmocka_run_group_tests(tests, nf_group_setup, nf_group_teardown);
}
