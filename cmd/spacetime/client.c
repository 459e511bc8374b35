/* spacetime chain|wallet|send|mpool|state|auth: the node's client verbs. Each one is a JSON-RPC
 * call (or a few) to the daemon found through $FULLNODE_API_INFO or the repo's api and token
 * files, printed the way Lotus prints it (or as JSON with --json). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/st_chain_types.h"
#include "chain/st_state.h"
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
#include "rpc/st_rpc_client.h"

int client_connect(st_cli *cli, st_rpc_client **out) {
  char repo[4096];
  const st_flag *f = st_cli_flag(cli, "repo");
  const char *home = getenv("HOME");
  if (f && f->set) snprintf(repo, sizeof repo, "%s", f->value);
  else snprintf(repo, sizeof repo, "%s/.spacetime", home && *home ? home : ".");
  st_apiinfo info;
  st_err err;
  if (st_apiinfo_resolve(getenv(ST_APIINFO_ENV), repo, &info, &err) || st_rpc_client_open(&info, out, &err))
    return st_cli_fail("%s", err.msg);
  return 0;
}

int client_call(st_rpc_client *c, const char *method, json_t *params, json_t **result) {
  if (!client_rpc(c, method, params, result)) return 0;
  st_rpc_client_close(c);
  return 1;
}

int client_rpc(st_rpc_client *c, const char *method, json_t *params, json_t **result) {
  st_err err;
  if (!st_rpc_client_call(c, method, params, result, &err)) return 0;
  if (err.code == ST_EUNAVAIL) return st_cli_fail("%s (is 'spacetime daemon' running?)", err.msg);
  if (err.code == ST_EPERM)
    return st_cli_fail("%s (the token in the repo, or in $FULLNODE_API_INFO, lacks the permission)", err.msg);
  return st_cli_fail("%s", err.msg);
}

int client_start(st_cli *cli, int argc, char **argv, int maxpos, const char *cmd, const char *args, const char *summary,
                 st_rpc_client **c) {
  int rc = st_cli_start(cli, argc, argv, maxpos, cmd, args, summary);
  if (rc >= 0) return rc;
  return client_connect(cli, c) ? 1 : -1;
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
static void print_tipset_line(const json_t *ts) {
  const json_t *blocks = json_object_get(ts, "Blocks"), *cids = json_object_get(ts, "Cids");
  uint64_t min_ts = UINT64_MAX;
  size_t i;
  const json_t *b;
  json_array_foreach(blocks, i, b) {
    uint64_t t = (uint64_t)json_integer_value(json_object_get(b, "Timestamp"));
    if (t < min_ts) min_ts = t;
  }
  time_t tt = (time_t)min_ts;
  struct tm tm;
  char when[32];
  localtime_r(&tt, &tm);
  strftime(when, sizeof when, "%b %e %H:%M:%S", &tm);
  printf("%lld: (%s) [ ", (long long)json_integer_value(json_object_get(ts, "Height")), when);
  json_array_foreach(blocks, i, b) printf("%s: %s, ", json_string_value(json_object_get(json_array_get(cids, i), "/")),
                                          json_string_value(json_object_get(b, "Miner")));
  printf("]\n");
}

static int chain_list(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG, ST_FLAG("count", ST_FLAG_VALUE, "N", "how many tipsets (default 30)"),
                     ST_FLAG("height", ST_FLAG_VALUE, "H", "end at this height (default: the head)")};
  st_cli cli = {flags, sizeof flags / sizeof flags[0], {0}, 0, false};
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 0, "spacetime chain list", "[--count N] [--height H] [--json]",
                        "Print the chain's tipsets, oldest first: height, time and each block with its miner.", &c);
  if (rc >= 0) return rc;
  uint64_t count = 30, height = 0;
  st_err err;
  if (st_cli_has(&cli, "count") && st_parse_u64(st_cli_flag(&cli, "count")->value, "--count", &count, &err))
    return st_cli_fail("%s", err.msg);
  if (st_cli_has(&cli, "height") && st_parse_u64(st_cli_flag(&cli, "height")->value, "--height", &height, &err))
    return st_cli_fail("%s", err.msg);
  json_t *ts;
  if (st_cli_has(&cli, "height")
          ? client_call(c, "ChainGetTipSetByHeight", json_pack("[I []]", (json_int_t)height), &ts)
          : client_call(c, "ChainHead", NULL, &ts))
    return 1;
  if (!count) json_decref(ts);
  json_t *list = json_array();
  while (count) {
    json_array_insert_new(list, 0, ts); /* the list holds it from here */
    const json_t *parents = json_object_get(json_array_get(json_object_get(ts, "Blocks"), 0), "Parents");
    if (json_array_size(list) >= count || !json_array_size(parents)) break;
    if (client_call(c, "ChainGetTipSet", json_pack("[O]", parents), &ts)) {
      json_decref(list);
      return 1;
    }
  }
  st_rpc_client_close(c);
  if (st_cli_has(&cli, "json")) {
    st_json_print(list);
    return 0;
  }
  size_t i;
  const json_t *t;
  json_array_foreach(list, i, t) print_tipset_line(t);
  json_decref(list);
  return 0;
}

static int chain_head(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG};
  st_cli cli = {flags, 2, {0}, 0, false};
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 0, "spacetime chain head", "[--json]",
                        "Print the CIDs of the head tipset's blocks.", &c);
  if (rc >= 0) return rc;
  json_t *ts;
  if (client_call(c, "ChainHead", NULL, &ts)) return 1;
  st_rpc_client_close(c);
  if (st_cli_has(&cli, "json")) {
    st_json_print(ts);
    return 0;
  }
  size_t i;
  const json_t *cid;
  json_array_foreach(json_object_get(ts, "Cids"), i, cid) printf("%s\n", json_string_value(json_object_get(cid, "/")));
  json_decref(ts);
  return 0;
}

/* One CID positional, one method, the result printed as indented JSON. */
static int print_by_cid(int argc, char **argv, const char *cmd, const char *method, const char *summary) {
  st_flag flags[] = {REPO_FLAG};
  st_cli cli = {flags, 1, {0}, 0, false};
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 1, cmd, "CID", summary, &c);
  if (rc >= 0) return rc;
  st_cid cid;
  st_err err;
  if (cli.npos != 1) return st_rpc_client_close(c), st_cli_fail("want a CID (run '%s --help')", cmd);
  if (st_cid_parse(cli.pos[0], &cid, &err)) return st_rpc_client_close(c), st_cli_fail("%s", err.msg);
  json_t *r;
  if (client_call(c, method, json_pack("[{ss}]", "/", cli.pos[0]), &r)) return 1;
  st_rpc_client_close(c);
  print_indented(r);
  return 0;
}

static int chain_getblock(int argc, char **argv) {
  return print_by_cid(argc, argv, "spacetime chain getblock", "ChainGetBlock", "Print a block header as JSON.");
}

static int chain_getmessage(int argc, char **argv) {
  return print_by_cid(argc, argv, "spacetime chain getmessage", "ChainGetMessage", "Print a message as JSON.");
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

static void print_fil(const char *atto) {
  mpz_t v;
  if (mpz_init_set_str(v, atto, 10)) {
    printf("%s attoFIL\n", atto);
  } else {
    st_buf b = ST_BUF_INIT;
    st_fil_format(v, &b);
    printf("%s FIL\n", st_buf_cstr(&b));
    st_buf_free(&b);
  }
  mpz_clear(v);
}

static int simple(int argc, char **argv, const char *cmd, const char *args, const char *summary, int npos,
                  const char *method, const char *fmt, bool fil) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG};
  st_cli cli = {flags, 2, {0}, 0, false};
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, npos, cmd, args, summary, &c);
  if (rc >= 0) return rc;
  if (cli.npos != npos) return st_rpc_client_close(c), st_cli_fail("wrong arguments (run '%s --help')", cmd);
  json_t *params = json_array();
  for (int i = 0; i < npos; i++) json_array_append_new(params, json_string(cli.pos[i]));
  if (fmt) json_array_append_new(params, json_string(fmt));
  json_t *r;
  if (client_call(c, method, params, &r)) return 1;
  st_rpc_client_close(c);
  if (st_cli_has(&cli, "json")) {
    st_json_print(json_pack("{so}", "result", r));
    return 0;
  }
  if (json_is_array(r)) {
    size_t i;
    const json_t *v;
    json_array_foreach(r, i, v) printf("%s\n", json_string_value(v));
  } else if (fil && json_is_string(r)) {
    print_fil(json_string_value(r));
  } else {
    printf("%s\n", json_is_string(r) ? json_string_value(r) : "");
  }
  json_decref(r);
  return 0;
}

static int wallet_new(int argc, char **argv) {
  return simple(argc, argv, "spacetime wallet new", "", "Make a new secp256k1 key; the first one becomes the default.",
                0, "WalletNew", "secp256k1", false);
}
static int wallet_list(int argc, char **argv) {
  return simple(argc, argv, "spacetime wallet list", "", "List the wallet's addresses.", 0, "WalletList", NULL, false);
}
static int wallet_balance(int argc, char **argv) {
  return simple(argc, argv, "spacetime wallet balance", "ADDR", "Print an address's balance at the head.", 1,
                "WalletBalance", NULL, true);
}
static int wallet_default(int argc, char **argv) {
  return simple(argc, argv, "spacetime wallet default", "", "Print the wallet's default address.", 0,
                "WalletDefaultAddress", NULL, false);
}

static int wallet_export(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG};
  st_cli cli = {flags, 1, {0}, 0, false};
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 1, "spacetime wallet export", "ADDR",
                        "Print a key in Lotus's export format (hex of the KeyInfo JSON).", &c);
  if (rc >= 0) return rc;
  if (cli.npos != 1) return st_rpc_client_close(c), st_cli_fail("want the address to export");
  json_t *r;
  if (client_call(c, "WalletExport", json_pack("[s]", cli.pos[0]), &r)) return 1;
  st_rpc_client_close(c);
  const json_t *pk = json_object_get(r, "PrivateKey");
  st_buf raw = ST_BUF_INIT, out = ST_BUF_INIT;
  st_err err;
  st_keyinfo ki = {.type = ST_KEY_SECP256K1};
  st_code code = json_is_string(pk) ? st_base64_decode(json_string_value(pk), json_string_length(pk), true, &raw, &err)
                                    : st_err_set(&err, ST_EINVAL, "the node returned no private key");
  if (!code && raw.len != 32) code = st_err_set(&err, ST_EINVAL, "the node returned a %zu-byte key", raw.len);
  if (!code) {
    memcpy(ki.priv, raw.data, 32);
    code = st_keyinfo_export(&ki, &out, &err);
  }
  if (!code) printf("%s\n", st_buf_cstr(&out));
  st_secure_zero(&ki, sizeof ki);
  if (raw.data) st_secure_zero(raw.data, raw.len);
  if (out.data) st_secure_zero(out.data, out.len);
  st_buf_free(&raw);
  st_buf_free(&out);
  json_decref(r);
  return code ? st_cli_fail("%s", err.msg) : 0;
}

static int wallet_import(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG};
  st_cli cli = {flags, 1, {0}, 0, false};
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 1, "spacetime wallet import", "[FILE|-]",
                        "Import a key in Lotus's export format (from a file or standard input).", &c);
  if (rc >= 0) return rc;
  const char *path = cli.npos ? cli.pos[0] : "-";
  st_buf text = ST_BUF_INIT, b64 = ST_BUF_INIT;
  st_err err;
  st_keyinfo ki;
  st_code code = !strcmp(path, "-") ? st_fs_read_stream(stdin, "-", 1 << 16, &text, &err)
                                    : st_fs_read_file(path, 1 << 16, &text, &err);
  if (!code) code = st_keyinfo_import((const char *)text.data, text.len, &ki, &err);
  if (text.data) st_secure_zero(text.data, text.len);
  st_buf_free(&text);
  if (code) return st_rpc_client_close(c), st_cli_fail("%s", err.msg);
  st_base64_append(&b64, ki.priv, sizeof ki.priv, true);
  st_secure_zero(&ki, sizeof ki);
  json_t *r;
  json_t *params = json_pack("[{ss ss}]", "Type", "secp256k1", "PrivateKey", st_buf_cstr(&b64));
  st_secure_zero(b64.data, b64.len);
  st_buf_free(&b64);
  if (client_call(c, "WalletImport", params, &r)) return 1;
  st_rpc_client_close(c);
  printf("imported key %s\n", json_string_value(r));
  json_decref(r);
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
  st_flag flags[] = {REPO_FLAG, JSON_FLAG,
                     ST_FLAG("from", ST_FLAG_VALUE, "ADDR", "the sender (default: the wallet's default address)")};
  st_cli cli = {flags, 3, {0}, 0, false};
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 2, "spacetime send", "TO AMOUNT [--from ADDR]",
                        "Send AMOUNT FIL to TO; prints the message CID.", &c);
  if (rc >= 0) return rc;
  if (cli.npos != 2) return st_rpc_client_close(c), st_cli_fail("want TO and AMOUNT, e.g. 'spacetime send t01001 1.5'");
  st_address to;
  mpz_t value;
  mpz_init(value);
  st_err err;
  if (st_address_parse(cli.pos[0], &to, NULL, &err) || st_fil_parse(cli.pos[1], value, &err)) {
    mpz_clear(value);
    st_rpc_client_close(c);
    return st_cli_fail("%s", err.msg);
  }
  char *atto = mpz_get_str(NULL, 10, value);
  mpz_clear(value);
  json_t *from = NULL;
  if (st_cli_has(&cli, "from")) from = json_string(st_cli_flag(&cli, "from")->value);
  else if (client_call(c, "WalletDefaultAddress", NULL, &from)) {
    free(atto);
    return 1;
  }
  json_t *msg = json_pack("{si ss sO si ss si ss ss si sn}", "Version", 0, "To", cli.pos[0], "From", from, "Nonce", 0,
                          "Value", atto, "GasLimit", 0, "GasFeeCap", "0", "GasPremium", "0", "Method", 0, "Params");
  free(atto);
  json_decref(from);
  json_t *r;
  if (client_call(c, "MpoolPushMessage", json_pack("[o n]", msg), &r)) return 1;
  st_rpc_client_close(c);
  if (st_cli_has(&cli, "json")) st_json_print(r);
  else {
    printf("%s\n", json_string_value(json_object_get(json_object_get(r, "CID"), "/")));
    json_decref(r);
  }
  return 0;
}

static int mpool_pending(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG};
  st_cli cli = {flags, 1, {0}, 0, false};
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 0, "spacetime mpool pending", "",
                        "Print the messages waiting in the pool, as JSON (one per line).", &c);
  if (rc >= 0) return rc;
  json_t *r;
  if (client_call(c, "MpoolPending", json_pack("[[]]"), &r)) return 1;
  st_rpc_client_close(c);
  size_t i;
  json_t *m;
  json_array_foreach(r, i, m) st_json_print(json_incref(m));
  json_decref(r);
  return 0;
}

int st_cmd_mpool(int argc, char **argv) {
  static const st_cli_verb verbs[] = {{"pending", mpool_pending, "print the waiting messages"}};
  return st_cli_dispatch("spacetime mpool", verbs, 1, argc, argv);
}

/* ---------------------------------------------------------------- state, auth */

static int state_get_actor(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG};
  st_cli cli = {flags, 2, {0}, 0, false};
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 1, "spacetime state get-actor", "ADDR [--json]",
                        "Print an actor: balance, nonce, code and head.", &c);
  if (rc >= 0) return rc;
  if (cli.npos != 1) return st_rpc_client_close(c), st_cli_fail("want the actor's address");
  json_t *r, *id;
  if (client_call(c, "StateGetActor", json_pack("[s []]", cli.pos[0]), &r)) return 1;
  if (client_call(c, "StateLookupID", json_pack("[s []]", cli.pos[0]), &id)) {
    json_decref(r);
    return 1;
  }
  st_rpc_client_close(c);
  if (st_cli_has(&cli, "json")) {
    json_object_set_new(r, "Address", id);
    st_json_print(r);
    return 0;
  }
  const char *code = json_string_value(json_object_get(json_object_get(r, "Code"), "/"));
  st_cid cc;
  st_actor_kind kind;
  const char *name = code && !st_cid_parse(code, &cc, NULL) && !st_actor_kind_of_code(&cc, &kind, NULL)
                         ? st_actor_kind_name(kind)
                         : "?";
  printf("Address:\t%s\nBalance:\t", json_string_value(id));
  print_fil(json_string_value(json_object_get(r, "Balance")));
  printf("Nonce:\t\t%lld\nCode:\t\t%s (%s)\nHead:\t\t%s\n", (long long)json_integer_value(json_object_get(r, "Nonce")),
         code, name, json_string_value(json_object_get(json_object_get(r, "Head"), "/")));
  json_decref(r);
  json_decref(id);
  return 0;
}

static int state_lookup(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG,
                     ST_FLAG("reverse", ST_FLAG_BOOL, NULL, "print the key address of an ID address instead")};
  st_cli cli = {flags, 2, {0}, 0, false};
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 1, "spacetime state lookup", "ADDR [--reverse]",
                        "Print the ID address of an address (or the key address of an ID).", &c);
  if (rc >= 0) return rc;
  if (cli.npos != 1) return st_rpc_client_close(c), st_cli_fail("want the address");
  json_t *r;
  if (client_call(c, st_cli_has(&cli, "reverse") ? "StateAccountKey" : "StateLookupID", json_pack("[s []]", cli.pos[0]),
                  &r))
    return 1;
  st_rpc_client_close(c);
  printf("%s\n", json_string_value(r));
  json_decref(r);
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
  st_cli cli = {flags, 2, {0}, 0, false};
  st_rpc_client *c;
  int rc =
      client_start(&cli, argc, argv, 0, "spacetime auth create-token", "--perm PERM", "Print a new API token.", &c);
  if (rc >= 0) return rc;
  unsigned perm;
  st_err err;
  if (!st_cli_has(&cli, "perm"))
    return st_rpc_client_close(c), st_cli_fail("--perm is required: read, write, sign or admin");
  if (st_perm_parse(st_cli_flag(&cli, "perm")->value, &perm, &err))
    return st_rpc_client_close(c), st_cli_fail("--perm: %s", err.msg);
  json_t *r;
  if (client_call(c, "AuthNew", json_pack("[o]", st_perms_to_json(st_perm_upto(perm))), &r)) return 1;
  st_rpc_client_close(c);
  st_buf jwt = ST_BUF_INIT;
  st_code code = json_is_string(r) ? st_base64_decode(json_string_value(r), json_string_length(r), true, &jwt, &err)
                                   : st_err_set(&err, ST_EINVAL, "the node returned no token");
  if (!code) printf("%s\n", st_buf_cstr(&jwt));
  st_buf_free(&jwt);
  json_decref(r);
  return code ? st_cli_fail("%s", err.msg) : 0;
}

int st_cmd_auth(int argc, char **argv) {
  static const st_cli_verb verbs[] = {{"create-token", auth_create_token, "print a new API token"}};
  return st_cli_dispatch("spacetime auth", verbs, 1, argc, argv);
}
