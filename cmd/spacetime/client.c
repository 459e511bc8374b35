/* spacetime chain|wallet|send|mpool|state|auth: the node's client verbs. Each one is a typed
 * call (or a few) to the daemon through st_node_api, found through $FULLNODE_API_INFO or the
 * repo's api and token files, printed the way Lotus prints it (or as JSON with --json). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/st_chain.h"
#include "chain/st_chain_types.h"
#include "chain/st_state.h"
#include "client/st_client_market.h"
#include "codec/st_token.h"
#include "commands.h"
#include "core/st_cli.h"
#include "core/st_encoding.h"
#include "core/st_fs.h"
#include "core/st_json.h"
#include "crypto/st_keystore.h"
#include "crypto/st_secp.h"
#include "rpc/st_apiinfo.h"
#include "rpc/st_jwt.h"
#include "rpc/st_node_api.h"
#include "rpc/st_rpc_client.h"

/* ---------------------------------------------------------------- shared with market.c */

void client_repo(const st_cli *cli, char out[CLIENT_REPO_MAX]) {
  st_apiinfo_repo(st_cli_value(cli, "repo", NULL), ".spacetime", out, CLIENT_REPO_MAX);
}

int client_connect(st_cli *cli, st_rpc_client **out) {
  char repo[CLIENT_REPO_MAX];
  client_repo(cli, repo);
  st_err err;
  return st_rpc_client_connect(getenv(ST_APIINFO_ENV), repo, out, &err) ? st_cli_fail("%s", err.msg) : 0;
}

int client_start(st_cli *cli, int argc, char **argv, int maxpos, const char *cmd, const char *args, const char *summary,
                 st_rpc_client **c) {
  int rc = st_cli_start(cli, argc, argv, maxpos, cmd, args, summary);
  if (rc >= 0) return rc;
  return client_connect(cli, c) ? 1 : -1;
}

int client_fail(const st_err *err) {
  if (err->code == ST_EUNAVAIL) return st_cli_fail("%s (is 'spacetime daemon' running?)", err->msg);
  if (err->code == ST_EPERM)
    return st_cli_fail("%s (the token in the repo, or in $FULLNODE_API_INFO, lacks the permission)", err->msg);
  return st_cli_fail("%s", err->msg);
}

int client_parse_addr(const char *text, st_address *a) {
  st_err err;
  return st_address_parse(text, a, NULL, &err) ? st_cli_fail("%s", err.msg) : 0;
}

int client_sender(const st_cli *cli, st_rpc_client *c, st_address *from, char text[ST_ADDR_STR_MAX]) {
  st_err err;
  const char *given = st_cli_has(cli, "from") ? st_cli_value(cli, "from", NULL) : NULL; /* balance has no --from */
  if (!st_client_sender(c, given, from, text, &err)) return 0;
  return given ? st_cli_fail("--from: %s", err.msg) : client_fail(&err); /* given: only parsed */
}

/* Closes c after the verb's last call (code its result); prints a failure. Returns the exit
 * status. */
static int called(st_rpc_client *c, st_code code, const st_err *err) {
  st_rpc_client_close(c);
  return code ? client_fail(err) : 0;
}

static void print_indented(json_t *v) {
  st_buf b = ST_BUF_INIT;
  st_chain_json_append(&b, v);
  json_t *tmp = json_loadb((const char *)b.data, b.len, 0, NULL);
  char *text = tmp ? json_dumps(tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
  printf("%s\n", text ? text : st_buf_cstr(&b));
  free(text);
  json_decref(tmp);
  json_decref(v);
  st_buf_free(&b);
}

/* ---------------------------------------------------------------- chain */

/* `<height>: (<Jan _2 15:04:05>) [ <cid>: <miner>, ... ]`, as lotus chain list prints. */
static void print_tipset_line(const st_tipset *ts) {
  uint64_t min_ts = UINT64_MAX;
  for (size_t i = 0; i < ts->n; i++)
    if (ts->blocks[i].timestamp < min_ts) min_ts = ts->blocks[i].timestamp;
  time_t tt = (time_t)min_ts;
  struct tm tm;
  char when[32];
  localtime_r(&tt, &tm);
  strftime(when, sizeof when, "%b %e %H:%M:%S", &tm);
  printf("%lld: (%s) [ ", (long long)ts->height, when);
  for (size_t i = 0; i < ts->n; i++) {
    char cid[ST_CID_STR_MAX], miner[ST_ADDR_STR_MAX];
    st_cid_to_string(&ts->key.cids[i], cid);
    st_address_text(&ts->blocks[i].miner, miner);
    printf("%s: %s, ", cid, miner);
  }
  printf("]\n");
}

/* A tipset as the node wrote it (a new reference; NULL when it cannot be written). */
static json_t *tipset_json(const st_tipset *ts) {
  json_t *j = NULL;
  return st_tipset_to_json(ts, 't', &j, NULL) ? NULL : j;
}

static int chain_list(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG, ST_FLAG("count", ST_FLAG_VALUE, "N", "how many tipsets (default 30)"),
                     ST_FLAG("height", ST_FLAG_VALUE, "H", "end at this height (default: the head)")};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 0, "spacetime chain list", "[--count N] [--height H] [--json]",
                        "Print the chain's tipsets, oldest first: height, time and each block with its miner.", &c);
  if (rc >= 0) return rc;
  uint64_t count = 30, height = 0;
  st_err err;
  if (st_cli_u64(&cli, "count", 0, UINT64_MAX, NULL, &count, &err) ||
      st_cli_u64(&cli, "height", 0, UINT64_MAX, NULL, &height, &err))
    return st_cli_fail("%s", err.msg);
  st_tipset first, *list = NULL;
  size_t n = 0;
  st_code code = st_cli_has(&cli, "height") ? st_node_tipset_at(c, (int64_t)height, &first, &err)
                                            : st_node_tipset(c, NULL, &first, &err);
  if (!code && count) code = st_node_tipsets_back(c, &first, count, &list, &n, &err);
  else st_tipset_free(&first);
  if (called(c, code, &err)) {
    st_node_tipsets_free(list, n);
    return 1;
  }
  json_t *arr = st_cli_has(&cli, "json") ? json_array() : NULL;
  for (size_t i = n; i-- > 0;) { /* oldest first */
    if (arr) json_array_append_new(arr, tipset_json(&list[i]));
    else print_tipset_line(&list[i]);
  }
  if (arr) st_json_print(arr);
  st_node_tipsets_free(list, n);
  return 0;
}

static int chain_head(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 0, "spacetime chain head", "[--json]",
                        "Print the CIDs of the head tipset's blocks.", &c);
  if (rc >= 0) return rc;
  st_tipset ts;
  st_err err;
  if (called(c, st_node_tipset(c, NULL, &ts, &err), &err)) return 1;
  json_t *j = st_cli_has(&cli, "json") ? tipset_json(&ts) : NULL;
  if (j) st_json_print(j);
  else
    for (size_t i = 0; i < ts.key.n; i++) {
      char cid[ST_CID_STR_MAX];
      st_cid_to_string(&ts.key.cids[i], cid);
      printf("%s\n", cid);
    }
  st_tipset_free(&ts);
  return 0;
}

/* One CID positional, looked up, printed as indented JSON. */
static int print_by_cid(int argc, char **argv, const char *cmd, bool block, const char *summary) {
  st_flag flags[] = {REPO_FLAG};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 1, cmd, "CID", summary, &c);
  if (rc >= 0) return rc;
  st_cid cid;
  st_err err;
  if (cli.npos != 1) return st_rpc_client_close(c), st_cli_fail("want a CID (run '%s --help')", cmd);
  if (st_cid_parse(cli.pos[0], &cid, &err)) return st_rpc_client_close(c), st_cli_fail("%s", err.msg);
  json_t *j = NULL;
  st_code code;
  if (block) {
    st_block_header h;
    if (!(code = st_node_block(c, &cid, &h, &err))) code = st_block_header_to_json(&h, 't', &j, &err);
    st_block_header_free(&h);
  } else {
    st_message m;
    if (!(code = st_node_message(c, &cid, &m, &err))) code = st_message_to_json(&m, 't', &j, &err);
    st_message_free(&m);
  }
  if (called(c, code, &err)) return 1;
  print_indented(j);
  return 0;
}

static int chain_getblock(int argc, char **argv) {
  return print_by_cid(argc, argv, "spacetime chain getblock", true, "Print a block header as JSON.");
}

static int chain_getmessage(int argc, char **argv) {
  return print_by_cid(argc, argv, "spacetime chain getmessage", false, "Print a message as JSON.");
}

int st_cmd_chain(int argc, char **argv) {
  static const st_cli_verb verbs[] = {
      {"list", chain_list, "print tipsets: height, time, blocks and miners"},
      {"head", chain_head, "print the head tipset's block CIDs"},
      {"getblock", chain_getblock, "print a block header"},
      {"getmessage", chain_getmessage, "print a message"},
  };
  return st_cli_dispatch("spacetime chain", verbs, sizeof verbs / sizeof verbs[0], argc, argv);
}

/* ---------------------------------------------------------------- wallet */

static void print_fil(const mpz_t atto) {
  char text[128];
  st_fil_text(atto, text, sizeof text);
  printf("%s\n", text);
}

/* The wallet verbs without a value flag: [--json] and npos positionals. */
static int wallet_start(st_cli *cli, int argc, char **argv, const char *cmd, const char *args, const char *summary,
                        int npos, st_rpc_client **c) {
  int rc = client_start(cli, argc, argv, npos, cmd, args, summary, c);
  if (rc >= 0) return rc;
  if (cli->npos != npos) return st_rpc_client_close(*c), st_cli_fail("wrong arguments (run '%s --help')", cmd);
  return -1;
}

/* --json prints {"result": ...} as the node answered; else each line. */
static void print_addresses(const st_cli *cli, const st_address *a, size_t n, bool list) {
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++) {
    char text[ST_ADDR_STR_MAX];
    st_address_text(&a[i], text);
    if (!st_cli_has(cli, "json")) printf("%s\n", text);
    json_array_append_new(arr, json_string(text));
  }
  if (st_cli_has(cli, "json")) st_json_print(json_pack("{sO}", "result", list ? arr : json_array_get(arr, 0)));
  json_decref(arr);
}

static int wallet_address(int argc, char **argv, const char *cmd, const char *summary, bool make) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc = wallet_start(&cli, argc, argv, cmd, "", summary, 0, &c);
  if (rc >= 0) return rc;
  st_address a;
  st_err err;
  if (called(c, make ? st_node_wallet_new(c, &a, &err) : st_node_wallet_default(c, &a, &err), &err)) return 1;
  print_addresses(&cli, &a, 1, false);
  return 0;
}

static int wallet_new(int argc, char **argv) {
  return wallet_address(argc, argv, "spacetime wallet new",
                        "Make a new secp256k1 key; the first one becomes the default.", true);
}

static int wallet_default(int argc, char **argv) {
  return wallet_address(argc, argv, "spacetime wallet default", "Print the wallet's default address.", false);
}

static int wallet_list(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc = wallet_start(&cli, argc, argv, "spacetime wallet list", "", "List the wallet's addresses.", 0, &c);
  if (rc >= 0) return rc;
  st_address *a;
  size_t n;
  st_err err;
  if (called(c, st_node_wallet_list(c, &a, &n, &err), &err)) return 1;
  print_addresses(&cli, a, n, true);
  free(a);
  return 0;
}

static int wallet_balance(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc = wallet_start(&cli, argc, argv, "spacetime wallet balance", "ADDR", "Print an address's balance at the head.",
                        1, &c);
  if (rc >= 0) return rc;
  st_address a;
  if (client_parse_addr(cli.pos[0], &a)) return st_rpc_client_close(c), 1;
  mpz_t v;
  mpz_init(v);
  st_err err;
  rc = called(c, st_node_wallet_balance(c, &a, v, &err), &err);
  if (!rc && st_cli_has(&cli, "json")) st_json_print(json_pack("{so}", "result", st_chain_json_bigint(v)));
  else if (!rc) print_fil(v);
  mpz_clear(v);
  return rc;
}

static int wallet_export(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 1, "spacetime wallet export", "ADDR",
                        "Print a key in Lotus's export format (hex of the KeyInfo JSON).", &c);
  if (rc >= 0) return rc;
  if (cli.npos != 1) return st_rpc_client_close(c), st_cli_fail("want the address to export");
  st_address a;
  if (client_parse_addr(cli.pos[0], &a)) return st_rpc_client_close(c), 1;
  st_keyinfo ki;
  st_err err;
  if (called(c, st_node_wallet_export(c, &a, &ki, &err), &err)) return 1;
  st_buf out = ST_BUF_INIT;
  st_code code = st_keyinfo_export(&ki, &out, &err);
  if (!code) printf("%s\n", st_buf_cstr(&out));
  st_secure_zero(&ki, sizeof ki);
  if (out.data) st_secure_zero(out.data, out.len);
  st_buf_free(&out);
  return code ? st_cli_fail("%s", err.msg) : 0;
}

static int wallet_import(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 1, "spacetime wallet import", "[FILE|-]",
                        "Import a key in Lotus's export format (from a file or standard input).", &c);
  if (rc >= 0) return rc;
  const char *path = cli.npos ? cli.pos[0] : "-";
  st_buf text = ST_BUF_INIT;
  st_err err;
  st_keyinfo ki;
  st_code code = !strcmp(path, "-") ? st_fs_read_stream(stdin, "-", 1 << 16, &text, &err)
                                    : st_fs_read_file(path, 1 << 16, &text, &err);
  if (!code) code = st_keyinfo_import((const char *)text.data, text.len, &ki, &err);
  if (text.data) st_secure_zero(text.data, text.len);
  st_buf_free(&text);
  if (code) return st_rpc_client_close(c), st_cli_fail("%s", err.msg);
  st_address a;
  code = st_node_wallet_import(c, &ki, &a, &err);
  st_secure_zero(&ki, sizeof ki);
  if (called(c, code, &err)) return 1;
  char addr[ST_ADDR_STR_MAX];
  st_address_text(&a, addr);
  printf("imported key %s\n", addr);
  return 0;
}

int st_cmd_wallet(int argc, char **argv) {
  static const st_cli_verb verbs[] = {
      {"new", wallet_new, "make a new key"},
      {"list", wallet_list, "list the wallet's addresses"},
      {"balance", wallet_balance, "print an address's balance"},
      {"default", wallet_default, "print the default address"},
      {"export", wallet_export, "print a key in Lotus's export format"},
      {"import", wallet_import, "import a key in Lotus's export format"},
  };
  return st_cli_dispatch("spacetime wallet", verbs, sizeof verbs / sizeof verbs[0], argc, argv);
}

/* ---------------------------------------------------------------- send, mpool */

int st_cmd_send(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG, FROM_FLAG};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 2, "spacetime send", "TO AMOUNT [--from ADDR]",
                        "Send AMOUNT FIL to TO; prints the message CID.", &c);
  if (rc >= 0) return rc;
  if (cli.npos != 2) return st_rpc_client_close(c), st_cli_fail("want TO and AMOUNT, e.g. 'spacetime send t01001 1.5'");
  st_message m;
  st_message_init(&m);
  st_err err;
  char from[ST_ADDR_STR_MAX];
  rc = 0;
  if (st_address_parse(cli.pos[0], &m.to, NULL, &err) || st_fil_parse(cli.pos[1], m.value, &err))
    rc = st_cli_fail("%s", err.msg);
  if (!rc) rc = client_sender(&cli, c, &m.from, from);
  st_signed_message sm;
  st_signed_message_init(&sm);
  if (!rc && st_node_push_signed(c, &m, NULL, &sm, &err)) rc = client_fail(&err);
  st_message_free(&m);
  st_rpc_client_close(c);
  json_t *j = NULL;
  st_cid cid;
  if (!rc && (st_cli_has(&cli, "json") ? st_signed_message_to_json(&sm, 't', &j, &err)
                                       : st_signed_message_cid(&sm, &cid, &err)))
    rc = st_cli_fail("%s", err.msg);
  st_signed_message_free(&sm);
  if (rc) return rc;
  if (j) st_json_print(j);
  else {
    char text[ST_CID_STR_MAX];
    st_cid_to_string(&cid, text);
    printf("%s\n", text);
  }
  return 0;
}

static int mpool_pending(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 0, "spacetime mpool pending", "",
                        "Print the messages waiting in the pool, as JSON (one per line).", &c);
  if (rc >= 0) return rc;
  st_signed_message *m;
  size_t n;
  st_err err;
  if (called(c, st_node_pending(c, &m, &n, &err), &err)) return 1;
  for (size_t i = 0; i < n; i++) {
    json_t *j;
    if (!st_signed_message_to_json(&m[i], 't', &j, &err)) st_json_print(j);
  }
  st_node_messages_free(m, n);
  return 0;
}

int st_cmd_mpool(int argc, char **argv) {
  static const st_cli_verb verbs[] = {{"pending", mpool_pending, "print the waiting messages"}};
  return st_cli_dispatch("spacetime mpool", verbs, 1, argc, argv);
}

/* ---------------------------------------------------------------- state, auth */

static int state_get_actor(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 1, "spacetime state get-actor", "ADDR [--json]",
                        "Print an actor: balance, nonce, code and head.", &c);
  if (rc >= 0) return rc;
  if (cli.npos != 1) return st_rpc_client_close(c), st_cli_fail("want the actor's address");
  st_address a;
  if (client_parse_addr(cli.pos[0], &a)) return st_rpc_client_close(c), 1;
  st_actor act;
  uint64_t id = 0;
  st_err err;
  if (called(c, st_node_actor(c, &a, &act, &err) || st_node_lookup_id(c, &a, &id, &err) ? err.code : ST_OK, &err)) {
    st_actor_free(&act);
    return 1;
  }
  char addr[32];
  snprintf(addr, sizeof addr, "t0%llu", (unsigned long long)id);
  json_t *j = NULL;
  rc = 0;
  if (st_cli_has(&cli, "json")) {
    if (!(rc = st_actor_to_json(&act, &j, &err) ? st_cli_fail("%s", err.msg) : 0)) {
      json_object_set_new(j, "Address", json_string(addr));
      st_json_print(j);
    }
  } else {
    char code[ST_CID_STR_MAX], head[ST_CID_STR_MAX];
    st_cid_to_string(&act.code, code);
    st_cid_to_string(&act.head, head);
    st_actor_kind kind;
    const char *name = st_actor_kind_of_code(&act.code, &kind, NULL) ? "?" : st_actor_kind_name(kind);
    printf("Address:\t%s\nBalance:\t", addr);
    print_fil(act.balance);
    printf("Nonce:\t\t%llu\nCode:\t\t%s (%s)\nHead:\t\t%s\n", (unsigned long long)act.nonce, code, name, head);
  }
  st_actor_free(&act);
  return rc;
}

static int state_lookup(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG,
                     ST_FLAG("reverse", ST_FLAG_BOOL, NULL, "print the key address of an ID address instead")};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 1, "spacetime state lookup", "ADDR [--reverse]",
                        "Print the ID address of an address (or the key address of an ID).", &c);
  if (rc >= 0) return rc;
  if (cli.npos != 1) return st_rpc_client_close(c), st_cli_fail("want the address");
  st_address a, key;
  uint64_t id;
  st_err err;
  if (client_parse_addr(cli.pos[0], &a)) return st_rpc_client_close(c), 1;
  bool reverse = st_cli_has(&cli, "reverse");
  if (called(c, reverse ? st_node_account_key(c, &a, &key, &err) : st_node_lookup_id(c, &a, &id, &err), &err)) return 1;
  char text[ST_ADDR_STR_MAX];
  if (reverse) st_address_text(&key, text);
  else snprintf(text, sizeof text, "t0%llu", (unsigned long long)id);
  printf("%s\n", text);
  return 0;
}

int st_cmd_state(int argc, char **argv) {
  static const st_cli_verb verbs[] = {{"get-actor", state_get_actor, "print an actor"},
                                      {"lookup", state_lookup, "resolve an address to its ID"}};
  return st_cli_dispatch("spacetime state", verbs, 2, argc, argv);
}

static int auth_create_token(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, ST_FLAG("perm", ST_FLAG_VALUE, "PERM",
                                        "read, write, sign or admin (each includes the ones before it)")};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc =
      client_start(&cli, argc, argv, 0, "spacetime auth create-token", "--perm PERM", "Print a new API token.", &c);
  if (rc >= 0) return rc;
  unsigned perm;
  st_err err;
  const char *name = st_cli_value(&cli, "perm", NULL);
  if (!name) return st_rpc_client_close(c), st_cli_fail("--perm is required: read, write, sign or admin");
  if (st_perm_parse(name, &perm, &err)) return st_rpc_client_close(c), st_cli_fail("--perm: %s", err.msg);
  st_buf jwt = ST_BUF_INIT;
  if (!(rc = called(c, st_node_auth_new(c, st_perm_upto(perm), &jwt, &err), &err))) printf("%s\n", st_buf_cstr(&jwt));
  st_buf_free(&jwt);
  return rc;
}

int st_cmd_auth(int argc, char **argv) {
  static const st_cli_verb verbs[] = {{"create-token", auth_create_token, "print a new API token"}};
  return st_cli_dispatch("spacetime auth", verbs, 1, argc, argv);
}
