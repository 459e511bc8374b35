/* spacetime client|filplus: the storage client's verbs and the verified registry's.
 *
 * client: import a file (its CommP), propose a deal to a miner (signed by the node's wallet,
 * sent with the file's bytes to the deal address the miner announced on chain), list the deals
 * (the miner's view and the chain's), retrieve a piece (unsealed by the miner, checked against
 * its CommP here), and the market escrow (add-balance, balance). The client remembers its
 * imports and deals in <repo>/client/client.db.
 * filplus: the root key adds verifiers, verifiers grant datacap, anyone checks it. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/st_chain_types.h"
#include "chain/st_deal.h"
#include "chain/st_market.h"
#include "chain/st_state.h"
#include "codec/st_cbor.h"
#include "codec/st_multiaddr.h"
#include "codec/st_token.h"
#include "commands.h"
#include "core/st_encoding.h"
#include "core/st_fs.h"
#include "core/st_json.h"
#include "db/st_db.h"
#include "net/st_http_client.h"
#include "proofs/st_commp.h"
#include "rpc/st_apiinfo.h"

#define FROM_FLAG ST_FLAG("from", ST_FLAG_VALUE, "ADDR", "the sender (default: the wallet's default address)")

/* ---------------------------------------------------------------- helpers */

/* The wallet address to act from: --from, else the default. */
static int from_address(st_cli *cli, st_rpc_client *c, char out[ST_ADDR_STR_MAX]) {
  if (st_cli_has(cli, "from")) {
    snprintf(out, ST_ADDR_STR_MAX, "%s", st_cli_flag(cli, "from")->value);
    return 0;
  }
  json_t *r;
  if (client_rpc(c, "WalletDefaultAddress", NULL, &r)) return 1;
  snprintf(out, ST_ADDR_STR_MAX, "%s", json_is_string(r) ? json_string_value(r) : "");
  json_decref(r);
  if (!out[0]) return st_cli_fail("the wallet has no default address: give --from");
  return 0;
}

static char *amount_text(const mpz_t v) { return mpz_get_str(NULL, 10, v); }

/* MpoolPushMessage of method on actor `to` from `from` with CBOR params and value, then
 * StateWaitMsg; prints the message CID. Returns the exit status (1 if the message failed). */
static int push_and_wait(st_rpc_client *c, const char *from, uint64_t to, uint64_t method, const st_buf *params,
                         const mpz_t value, bool quiet) {
  st_buf b64 = ST_BUF_INIT;
  st_base64_append(&b64, params->data, params->len, true);
  char *atto = amount_text(value), to_text[32];
  snprintf(to_text, sizeof to_text, "t0%llu", (unsigned long long)to);
  json_t *msg = json_pack("{si ss ss si ss si ss ss sI ss}", "Version", 0, "To", to_text, "From", from, "Nonce", 0,
                          "Value", atto, "GasLimit", 0, "GasFeeCap", "0", "GasPremium", "0", "Method",
                          (json_int_t)method, "Params", st_buf_cstr(&b64));
  free(atto);
  st_buf_free(&b64);
  json_t *r, *w;
  if (client_rpc(c, "MpoolPushMessage", json_pack("[o n]", msg), &r)) return 1;
  json_t *cid = json_incref(json_object_get(r, "CID"));
  json_decref(r);
  if (!quiet) printf("message %s\n", json_string_value(json_object_get(cid, "/")));
  if (client_rpc(c, "StateWaitMsg", json_pack("[o i i b]", cid, 1, -1, 1), &w)) return 1;
  json_int_t exit = json_integer_value(json_object_get(json_object_get(w, "Receipt"), "ExitCode"));
  json_decref(w);
  if (exit) return st_cli_fail("the message failed on chain with exit code %lld", (long long)exit);
  return 0;
}

static int parse_addr(const char *text, st_address *a) {
  st_err err;
  if (st_address_parse(text, a, NULL, &err)) return st_cli_fail("%s", err.msg);
  return 0;
}

static void fil_text(const mpz_t atto, char *out, size_t n) {
  st_buf b = ST_BUF_INIT;
  st_fil_format(atto, &b);
  snprintf(out, n, "%s FIL", st_buf_cstr(&b));
  st_buf_free(&b);
}

/* ---------------------------------------------------------------- the client's records */

static const char CLIENT_SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS imports (piece_cid TEXT NOT NULL, piece_size INTEGER NOT NULL, payload_size INTEGER NOT NULL, path TEXT NOT NULL,"
    " created INTEGER NOT NULL, PRIMARY KEY (piece_cid, path));"
    "CREATE TABLE IF NOT EXISTS deals (proposal_cid TEXT PRIMARY KEY, miner TEXT NOT NULL, client TEXT NOT NULL, piece_cid TEXT NOT NULL,"
    " piece_size INTEGER NOT NULL, payload_size INTEGER NOT NULL, path TEXT NOT NULL, verified INTEGER NOT NULL, price TEXT NOT NULL,"
    " start_epoch INTEGER NOT NULL, end_epoch INTEGER NOT NULL, created INTEGER NOT NULL);";

static int open_store(st_cli *cli, st_db **db) {
  char dir[4096], path[4200], url[4300];
  const st_flag *f = st_cli_flag(cli, "repo");
  const char *home = getenv("HOME");
  if (f && f->set) snprintf(dir, sizeof dir, "%.4000s/client", f->value);
  else snprintf(dir, sizeof dir, "%.4000s/.spacetime/client", home && *home ? home : ".");
  snprintf(path, sizeof path, "%s/client.db", dir);
  snprintf(url, sizeof url, "sqlite:%s", path);
  st_err err;
  if (st_fs_mkdir_p(dir, 0700, &err) || st_db_open(url, db, &err) || st_db_exec_script(*db, CLIENT_SCHEMA, &err)) {
    if (*db) st_db_close(*db);
    *db = NULL;
    return st_cli_fail("the client's records %s: %s", path, err.msg);
  }
  return 0;
}

/* CommP of a file: piece CID text, padded size, bytes. */
static int commp_file(const char *path, char cid[ST_CID_STR_MAX], uint64_t *padded, uint64_t *payload,
                      uint8_t comm[32]) {
  st_err err;
  if (st_commp_of_file(path, comm, padded, payload, &err)) return st_cli_fail("%s", err.msg);
  st_cid c;
  st_cid_of_commitment(comm, false, &c);
  st_cid_to_string(&c, cid);
  return 0;
}

/* ---------------------------------------------------------------- the miner's deal endpoint */

/* A JSON-RPC client for the deal address miner announced on chain (no token: the market
 * methods are open). base gets its URL. */
static int miner_endpoint(st_rpc_client *node, const char *miner, st_rpc_client **out, char base[ST_APIINFO_ADDR_MAX]) {
  json_t *info;
  if (client_rpc(node, "StateMinerInfo", json_pack("[s []]", miner), &info)) return 1;
  const json_t *ma = json_array_get(json_object_get(info, "Multiaddrs"), 0);
  st_buf raw = ST_BUF_INIT;
  st_err err;
  char text[ST_APIINFO_ADDR_MAX];
  st_code code =
      !json_is_string(ma)
          ? st_err_set(&err, ST_ENOENT,
                       "miner %s has announced no deal address on chain (is its 'spacetime-miner run' up?)", miner)
          : st_base64_decode(json_string_value(ma), json_string_length(ma), true, &raw, &err);
  if (!code) code = st_multiaddr_to_text(raw.data, raw.len, text, sizeof text, &err);
  if (!code) code = st_multiaddr_to_url(text, base, ST_APIINFO_ADDR_MAX, &err);
  st_buf_free(&raw);
  json_decref(info);
  st_apiinfo api = {.token = ""};
  if (!code) {
    snprintf(api.url, sizeof api.url, "%s", base);
    code = st_rpc_client_open(&api, out, &err);
  }
  if (code) return st_cli_fail("miner %s: %s", miner, err.msg);
  return 0;
}

/* ---------------------------------------------------------------- client verbs */

static int client_import(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG};
  st_cli cli = {flags, 2, {0}, 0, false};
  int rc = st_cli_start(&cli, argc, argv, 1, "spacetime client import", "FILE",
                        "Compute FILE's piece commitment (CommP) and remember the file for deals.");
  if (rc >= 0) return rc;
  if (cli.npos != 1) return st_cli_fail("want FILE");
  char cid[ST_CID_STR_MAX], abs[4096];
  uint64_t padded, payload;
  uint8_t comm[32];
  if (commp_file(cli.pos[0], cid, &padded, &payload, comm)) return 1;
  if (!realpath(cli.pos[0], abs)) snprintf(abs, sizeof abs, "%s", cli.pos[0]);
  st_db *db;
  if (open_store(&cli, &db)) return 1;
  char ps[ST_DB_INT_MAX], pl[ST_DB_INT_MAX], t[ST_DB_INT_MAX];
  const char *p[] = {cid, st_db_int(ps, (int64_t)padded), st_db_int(pl, (int64_t)payload), abs,
                     st_db_int(t, (int64_t)time(NULL))};
  st_err err;
  st_code code =
      st_db_exec(db, "INSERT INTO imports VALUES ($1, $2, $3, $4, $5) ON CONFLICT (piece_cid, path) DO NOTHING", 5, p,
                 NULL, NULL, &err);
  st_db_close(db);
  if (code) return st_cli_fail("%s", err.msg);
  if (st_cli_has(&cli, "json")) {
    st_json_print(json_pack("{ss sI sI ss}", "PieceCID", cid, "PieceSize", (json_int_t)padded, "PayloadSize",
                            (json_int_t)payload, "Path", abs));
    return 0;
  }
  char size[32];
  st_size_str((double)padded, "B", size, sizeof size);
  printf("Piece CID:  %s\nPiece size: %s (%llu padded bytes)\nPayload:    %llu bytes\nFile:       %s\n", cid, size,
         (unsigned long long)padded, (unsigned long long)payload, abs);
  return 0;
}

/* --price etc.: a FIL amount into out (0 when the flag is absent). */
static int fil_flag(st_cli *cli, const char *name, mpz_t out) {
  mpz_set_ui(out, 0);
  if (!st_cli_has(cli, name)) return 0;
  st_err err;
  if (st_fil_parse(st_cli_flag(cli, name)->value, out, &err)) return st_cli_fail("--%s: %s", name, err.msg);
  return 0;
}

static int i64_flag(st_cli *cli, const char *name, int64_t *out) {
  uint64_t v;
  st_err err;
  char what[40];
  snprintf(what, sizeof what, "--%s", name);
  if (st_parse_u64(st_cli_flag(cli, name)->value, what, &v, &err) || v > INT64_MAX) return st_cli_fail("%s", err.msg);
  *out = (int64_t)v;
  return 0;
}

/* What the miner takes (Filecoin.MarketGetAsk). */
typedef struct ask {
  uint64_t max_piece;
  int64_t start_delay, min_life;
} ask;

static int get_ask(st_rpc_client *m, const char *miner, ask *out) {
  json_t *r;
  st_err err;
  if (st_rpc_client_call(m, "MarketGetAsk", NULL, &r, &err)) return st_cli_fail("miner %s: %s", miner, err.msg);
  out->max_piece = (uint64_t)json_integer_value(json_object_get(r, "MaxPieceSize"));
  out->start_delay = json_integer_value(json_object_get(r, "StartDelay"));
  out->min_life = json_integer_value(json_object_get(r, "MinSectorLife"));
  json_decref(r);
  return 0;
}

static int client_deal(int argc, char **argv) {
  st_flag flags[] = {
      REPO_FLAG,
      JSON_FLAG,
      FROM_FLAG,
      ST_FLAG("miner", ST_FLAG_VALUE, "ADDR", "the storage provider (required)"),
      ST_FLAG("price", ST_FLAG_VALUE, "FIL", "price per epoch (required; 0 is allowed)"),
      ST_FLAG("duration", ST_FLAG_VALUE, "EPOCHS", "how long the miner stores it (required)"),
      ST_FLAG("verified", ST_FLAG_BOOL, NULL, "a verified deal: uses datacap, counts 10x in the miner's power"),
      ST_FLAG("start-epoch", ST_FLAG_VALUE, "EPOCH", "when the deal starts (default: as soon as the miner can seal)"),
      ST_FLAG("provider-collateral", ST_FLAG_VALUE, "FIL", "what the miner locks (default 0)"),
      ST_FLAG("client-collateral", ST_FLAG_VALUE, "FIL", "what the client locks besides the price (default 0)"),
      ST_FLAG("label", ST_FLAG_VALUE, "TEXT", "the deal's label (default: the file's name)"),
      ST_FLAG("manual-piece-cid", ST_FLAG_VALUE, "CID",
              "the piece CID to propose, computed elsewhere (default: FILE's CommP)")};
  st_cli cli = {flags, sizeof flags / sizeof flags[0], {0}, 0, false};
  st_rpc_client *c;
  int rc = client_start(
      &cli, argc, argv, 1, "spacetime client deal", "--miner t0... --price FIL --duration EPOCHS [--verified] FILE",
      "Propose a storage deal for FILE to a miner; the miner publishes it, seals the file into a sector and proves it.",
      &c);
  if (rc >= 0) return rc;
  if (cli.npos != 1 || !st_cli_has(&cli, "miner") || !st_cli_has(&cli, "price") || !st_cli_has(&cli, "duration"))
    return st_rpc_client_close(c),
           st_cli_fail(
               "want --miner, --price, --duration and FILE, e.g. 'spacetime client deal --miner t01000 --price 0 --duration 2000 file'");
  st_client_deal d;
  st_deal_proposal_init(&d.proposal);
  st_deal_proposal *p = &d.proposal;
  int64_t duration = 0;
  const char *miner = st_cli_flag(&cli, "miner")->value;
  char from[ST_ADDR_STR_MAX], cid[ST_CID_STR_MAX], base[ST_APIINFO_ADDR_MAX];
  uint64_t padded, payload;
  uint8_t comm[32];
  st_rpc_client *m = NULL;
  ask a = {0};
  json_t *r = NULL;
  rc = fil_flag(&cli, "price", p->price_per_epoch) || fil_flag(&cli, "provider-collateral", p->provider_collateral) ||
       fil_flag(&cli, "client-collateral", p->client_collateral) || i64_flag(&cli, "duration", &duration) ||
       parse_addr(miner, &p->provider) || commp_file(cli.pos[0], cid, &padded, &payload, comm);
  if (!rc && duration <= 0) rc = st_cli_fail("--duration must be at least 1 epoch");
  if (!rc)
    rc = from_address(&cli, c, from) || parse_addr(from, &p->client) || miner_endpoint(c, miner, &m, base) ||
         get_ask(m, miner, &a);
  if (!rc && padded > a.max_piece)
    rc = st_cli_fail(
        "%s is %llu bytes, a %llu-byte piece: miner %s takes pieces of at most %llu bytes (%llu bytes of data)",
        cli.pos[0], (unsigned long long)payload, (unsigned long long)padded, miner, (unsigned long long)a.max_piece,
        (unsigned long long)(a.max_piece / 128 * 127));
  if (!rc) rc = client_rpc(c, "ChainHead", NULL, &r);
  int64_t head = rc ? 0 : json_integer_value(json_object_get(r, "Height"));
  json_decref(r);
  if (!rc) {
    p->start_epoch = head + a.start_delay + 5; /* a few epochs for the proposal to reach the miner */
    if (st_cli_has(&cli, "start-epoch")) rc = i64_flag(&cli, "start-epoch", &p->start_epoch);
    p->end_epoch = p->start_epoch + duration;
    if (!rc && duration < a.min_life)
      rc = st_cli_fail(
          "--duration %lld is too short: miner %s's sectors live at least %lld epochs, and a deal lasts as long as its sector",
          (long long)duration, miner, (long long)a.min_life);
  }
  if (!rc && st_cli_has(&cli, "manual-piece-cid")) {
    st_err e;
    const char *manual = st_cli_flag(&cli, "manual-piece-cid")->value;
    if (st_cid_parse(manual, &p->piece_cid, &e) || p->piece_cid.codec != ST_CODEC_FIL_UNSEALED)
      rc = st_cli_fail("--manual-piece-cid %s is not a piece CID", manual);
    else snprintf(cid, sizeof cid, "%s", manual);
  } else {
    st_cid_parse(cid, &p->piece_cid, NULL);
  }
  p->piece_size = padded;
  p->verified = st_cli_has(&cli, "verified");
  const char *slash = strrchr(cli.pos[0], '/');
  snprintf(p->label, sizeof p->label, "%.*s", ST_DEAL_LABEL_MAX,
           st_cli_has(&cli, "label") ? st_cli_flag(&cli, "label")->value
           : slash                   ? slash + 1
                                     : cli.pos[0]);
  /* the client's side of the checks: datacap and escrow */
  mpz_t have, need, locked;
  mpz_inits(have, need, locked, NULL);
  if (!rc && p->verified) {
    rc = client_rpc(c, "StateVerifiedClientStatus", json_pack("[s []]", from), &r);
    if (!rc) {
      mpz_set_str(have, json_is_string(r) ? json_string_value(r) : "0", 10);
      json_decref(r);
      if (mpz_cmp_ui(have, padded) < 0) {
        char *h = amount_text(have);
        rc = st_cli_fail(
            "a verified deal of %llu bytes exceeds %s's datacap of %s bytes (a verifier grants it: 'spacetime filplus grant-datacap')",
            (unsigned long long)padded, from, h);
        free(h);
      }
    }
  }
  if (!rc) rc = client_rpc(c, "StateMarketBalance", json_pack("[s []]", from), &r);
  if (!rc) {
    mpz_set_str(have, json_string_value(json_object_get(r, "Escrow")), 10);
    mpz_set_str(locked, json_string_value(json_object_get(r, "Locked")), 10);
    json_decref(r);
    mpz_sub(have, have, locked);
    st_deal_total_price(p, need);
    mpz_add(need, need, p->client_collateral);
    if (mpz_cmp(have, need) < 0) {
      char hs[64], ns[64];
      fil_text(have, hs, sizeof hs);
      fil_text(need, ns, sizeof ns);
      rc = st_cli_fail(
          "%s has %s free in market escrow, the deal locks %s (price x duration + collateral): add funds with 'spacetime client add-balance'",
          from, hs, ns);
    }
  }
  mpz_clears(have, need, locked, NULL);
  /* sign, send with the data */
  st_buf enc = ST_BUF_INIT, b64 = ST_BUF_INIT, data = ST_BUF_INIT, cdp = ST_BUF_INIT;
  st_err err;
  if (!rc) {
    st_deal_proposal_encode(p, &enc);
    st_base64_append(&b64, enc.data, enc.len, true);
    rc = client_rpc(c, "WalletSign", json_pack("[s s]", from, st_buf_cstr(&b64)), &r);
  }
  if (!rc) {
    if (st_signature_from_json(r, "WalletSign", &d.signature, &err)) rc = st_cli_fail("%s", err.msg);
    json_decref(r);
  }
  if (!rc && st_fs_read_file(cli.pos[0], (size_t)a.max_piece, &data, &err)) rc = st_cli_fail("%s", err.msg);
  if (!rc) {
    st_client_deal_encode(&d, &cdp, &err);
    b64.len = 0;
    st_base64_append(&b64, cdp.data, cdp.len, true);
    st_buf b64d = ST_BUF_INIT;
    st_base64_append(&b64d, data.data, data.len, true);
    if (st_rpc_client_call(m, "MarketProposeDeal", json_pack("[s s]", st_buf_cstr(&b64), st_buf_cstr(&b64d)), &r, &err))
      rc = st_cli_fail("miner %s refused the deal: %s", miner, err.msg);
    st_buf_free(&b64d);
  }
  st_db *db = NULL;
  if (!rc) rc = open_store(&cli, &db);
  if (!rc) {
    char abs[4096], ps[ST_DB_INT_MAX], pl[ST_DB_INT_MAX], ve[ST_DB_INT_MAX], se[ST_DB_INT_MAX], ee[ST_DB_INT_MAX],
        t[ST_DB_INT_MAX];
    if (!realpath(cli.pos[0], abs)) snprintf(abs, sizeof abs, "%s", cli.pos[0]);
    char *price = amount_text(p->price_per_epoch);
    const char *pcid = json_string_value(json_object_get(r, "ProposalCid"));
    const char *args[] = {pcid ? pcid : "",
                          miner,
                          from,
                          cid,
                          st_db_int(ps, (int64_t)padded),
                          st_db_int(pl, (int64_t)payload),
                          abs,
                          st_db_int(ve, p->verified),
                          price,
                          st_db_int(se, p->start_epoch),
                          st_db_int(ee, p->end_epoch),
                          st_db_int(t, (int64_t)time(NULL))};
    if (st_db_exec(db, "INSERT INTO deals VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)", 12, args, NULL,
                   NULL, &err))
      rc = st_cli_fail("the deal was proposed, but the client's records: %s", err.msg);
    free(price);
    st_db_close(db);
  }
  if (!rc) {
    if (st_cli_has(&cli, "json")) st_json_print(json_incref(r));
    else {
      char price[64];
      fil_text(p->price_per_epoch, price, sizeof price);
      printf(
          "deal proposed: %s\n  miner %s (%s), piece %s, %llu bytes in a %llu-byte piece%s\n  %s per epoch from epoch %lld to %lld\n  state %s\n",
          json_string_value(json_object_get(r, "ProposalCid")), miner, base, cid, (unsigned long long)payload,
          (unsigned long long)padded, p->verified ? ", verified" : "", price, (long long)p->start_epoch,
          (long long)p->end_epoch, json_string_value(json_object_get(r, "State")));
    }
  }
  json_decref(rc ? NULL : r);
  st_buf_free(&enc);
  st_buf_free(&b64);
  st_buf_free(&data);
  st_buf_free(&cdp);
  st_deal_proposal_clear(&d.proposal);
  st_rpc_client_close(m);
  st_rpc_client_close(c);
  return rc;
}

static int client_list_deals(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG};
  st_cli cli = {flags, 2, {0}, 0, false};
  st_rpc_client *c;
  int rc =
      client_start(&cli, argc, argv, 0, "spacetime client list-deals", "",
                   "The deals this client proposed: the miner's state for each, and the chain's once published.", &c);
  if (rc >= 0) return rc;
  st_db *db;
  if (open_store(&cli, &db)) return st_rpc_client_close(c), 1;
  st_db_rows rows = {0};
  st_err err;
  if (st_db_exec(
          db,
          "SELECT proposal_cid, miner, piece_cid, piece_size, verified, price, start_epoch, end_epoch FROM deals ORDER BY created",
          0, NULL, &rows, NULL, &err)) {
    st_db_close(db);
    st_rpc_client_close(c);
    return st_cli_fail("%s", err.msg);
  }
  json_t *out = json_array();
  for (int i = 0; i < rows.nrows; i++) {
    const char *pcid = st_db_cell(&rows, i, 0), *miner = st_db_cell(&rows, i, 1);
    json_t *o = json_pack("{ss ss ss sI sb ss sI sI}", "ProposalCid", pcid, "Provider", miner, "PieceCID",
                          st_db_cell(&rows, i, 2), "PieceSize", (json_int_t)st_db_cell_i64(&rows, i, 3), "Verified",
                          st_db_cell_i64(&rows, i, 4) != 0, "PricePerEpoch", st_db_cell(&rows, i, 5), "StartEpoch",
                          (json_int_t)st_db_cell_i64(&rows, i, 6), "EndEpoch", (json_int_t)st_db_cell_i64(&rows, i, 7));
    /* the miner's view, then the chain's */
    st_rpc_client *m = NULL;
    char base[ST_APIINFO_ADDR_MAX];
    json_t *s = NULL;
    st_err e;
    if (!miner_endpoint(c, miner, &m, base) &&
        !st_rpc_client_call(m, "MarketDealStatus", json_pack("[s]", pcid), &s, &e)) {
      json_object_set(o, "State", json_object_get(s, "State"));
      json_object_set(o, "Message", json_object_get(s, "Message"));
      json_object_set(o, "DealID", json_object_get(s, "DealID"));
      json_object_set(o, "SectorNumber", json_object_get(s, "SectorNumber"));
    } else {
      json_object_set_new(o, "State", json_string("(miner unreachable)"));
      json_object_set_new(o, "DealID", json_integer(-1));
    }
    json_decref(s);
    st_rpc_client_close(m);
    json_int_t id = json_integer_value(json_object_get(o, "DealID"));
    json_t *onchain = NULL;
    if (id >= 0 && !st_rpc_client_call(c, "StateMarketStorageDeal", json_pack("[I []]", id), &onchain, &e))
      json_object_set_new(o, "OnChain", json_incref(json_object_get(onchain, "State")));
    json_decref(onchain);
    json_array_append_new(out, o);
  }
  st_db_rows_free(&rows);
  st_db_close(db);
  st_rpc_client_close(c);
  if (st_cli_has(&cli, "json")) {
    st_json_print(out);
    return 0;
  }
  printf("%-64s  %6s  %-8s  %-24s  %-8s  %6s  %s\n", "ProposalCid", "DealId", "Provider", "State", "Verified", "Sector",
         "On chain");
  size_t i;
  json_t *o;
  json_array_foreach(out, i, o) {
    const json_t *oc = json_object_get(o, "OnChain");
    char chain[96] = "-";
    if (oc) {
      json_int_t start = json_integer_value(json_object_get(oc, "SectorStartEpoch")),
                 paid = json_integer_value(json_object_get(oc, "LastUpdatedEpoch")),
                 slash = json_integer_value(json_object_get(oc, "SlashEpoch"));
      if (slash >= 0) snprintf(chain, sizeof chain, "slashed at %lld", (long long)slash);
      else if (start >= 0)
        snprintf(chain, sizeof chain, "active since %lld, paid to %lld", (long long)start, (long long)paid);
      else snprintf(chain, sizeof chain, "published");
    }
    json_int_t sector = json_integer_value(json_object_get(o, "SectorNumber"));
    char sec[24] = "-";
    if (json_object_get(o, "SectorNumber") && sector >= 0) snprintf(sec, sizeof sec, "%lld", (long long)sector);
    printf("%-64s  %6lld  %-8s  %-24s  %-8s  %6s  %s\n", json_string_value(json_object_get(o, "ProposalCid")),
           (long long)json_integer_value(json_object_get(o, "DealID")),
           json_string_value(json_object_get(o, "Provider")), json_string_value(json_object_get(o, "State")),
           json_is_true(json_object_get(o, "Verified")) ? "true" : "false", sec, chain);
    const char *msg = json_string_value(json_object_get(o, "Message"));
    if (msg && *msg) printf("    %s\n", msg);
  }
  json_decref(out);
  return 0;
}

static int client_retrieve(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, ST_FLAG("miner", ST_FLAG_VALUE, "ADDR",
                                        "the miner storing it (default: the one this client made the deal with)")};
  st_cli cli = {flags, 2, {0}, 0, false};
  st_rpc_client *c;
  int rc = client_start(
      &cli, argc, argv, 2, "spacetime client retrieve", "[--miner t0...] PIECE_CID OUTFILE",
      "Fetch a piece from the miner, which unseals it from its sealed sector, check it against its CommP and write it to OUTFILE.",
      &c);
  if (rc >= 0) return rc;
  if (cli.npos != 2) return st_rpc_client_close(c), st_cli_fail("want PIECE_CID and OUTFILE");
  st_err err;
  st_cid want;
  if (st_cid_parse(cli.pos[0], &want, &err) || want.codec != ST_CODEC_FIL_UNSEALED)
    return st_rpc_client_close(c), st_cli_fail("%s is not a piece CID (baga6ea4sea...)", cli.pos[0]);
  char miner[64] = "";
  if (st_cli_has(&cli, "miner")) snprintf(miner, sizeof miner, "%s", st_cli_flag(&cli, "miner")->value);
  else {
    st_db *db;
    if (open_store(&cli, &db)) return st_rpc_client_close(c), 1;
    st_db_rows rows = {0};
    const char *p[] = {cli.pos[0]};
    if (!st_db_exec(db, "SELECT miner FROM deals WHERE piece_cid = $1 ORDER BY created DESC LIMIT 1", 1, p, &rows, NULL,
                    &err) &&
        rows.nrows)
      snprintf(miner, sizeof miner, "%s", st_db_cell(&rows, 0, 0));
    st_db_rows_free(&rows);
    st_db_close(db);
    if (!miner[0])
      return st_rpc_client_close(c),
             st_cli_fail("this client made no deal for %s: name the miner with --miner", cli.pos[0]);
  }
  st_rpc_client *m;
  char base[ST_APIINFO_ADDR_MAX], path[300];
  rc = miner_endpoint(c, miner, &m, base);
  st_rpc_client_close(m);
  st_rpc_client_close(c);
  if (rc) return 1;
  st_http_client *h;
  st_buf body = ST_BUF_INIT;
  long status = 0;
  snprintf(path, sizeof path, "/piece/%s", cli.pos[0]);
  st_code code = st_http_client_new(base, NULL, &h, &err);
  if (!code) code = st_http_call(h, "GET", path, NULL, 0, &status, &body, &err);
  st_http_client_free(h);
  if (!code && status != 200) code = st_err_set(&err, ST_EIO, "HTTP %ld: %s", status, st_buf_cstr(&body));
  /* trust nothing: the bytes must be the piece */
  uint8_t comm[32];
  uint64_t padded = 0;
  st_cid got;
  if (!code) code = st_commp_of(body.data, body.len, comm, &padded, &err);
  if (!code) {
    st_cid_of_commitment(comm, false, &got);
    if (!st_cid_equal(&got, &want)) {
      char g[ST_CID_STR_MAX];
      st_cid_to_string(&got, g);
      code = st_err_set(&err, ST_EIO, "the %zu bytes the miner sent have CommP %s, not %s: refusing them", body.len, g,
                        cli.pos[0]);
    }
  }
  if (!code) code = st_fs_write_atomic(cli.pos[1], body.data, body.len, 0644, &err);
  size_t got_len = body.len;
  st_buf_free(&body);
  if (code) return st_cli_fail("retrieving %s from %s: %s", cli.pos[0], miner, err.msg);
  printf("retrieved %s from %s: %zu bytes, CommP checked, written to %s\n", cli.pos[0], miner, got_len, cli.pos[1]);
  return 0;
}

static int client_add_balance(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, FROM_FLAG,
                     ST_FLAG("address", ST_FLAG_VALUE, "ADDR", "whose escrow to add to (default: the sender's)")};
  st_cli cli = {flags, 3, {0}, 0, false};
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 1, "spacetime client add-balance", "AMOUNT [--from ADDR] [--address ADDR]",
                        "Move AMOUNT FIL into the storage market's escrow (AddBalance) and wait for it to land.", &c);
  if (rc >= 0) return rc;
  if (cli.npos != 1) return st_rpc_client_close(c), st_cli_fail("want AMOUNT in FIL");
  rc = 0;
  mpz_t v;
  mpz_init(v);
  st_err err;
  char from[ST_ADDR_STR_MAX];
  st_address who;
  if (st_fil_parse(cli.pos[0], v, &err) || mpz_sgn(v) <= 0)
    rc = st_cli_fail("AMOUNT must be a positive FIL amount, not \"%s\"", cli.pos[0]);
  if (!rc) rc = from_address(&cli, c, from);
  if (!rc) rc = parse_addr(st_cli_has(&cli, "address") ? st_cli_flag(&cli, "address")->value : from, &who);
  st_buf p = ST_BUF_INIT;
  st_cbor_put_bytes(&p, who.bytes, who.len);
  if (!rc) rc = push_and_wait(c, from, ST_ID_MARKET, ST_METHOD_MARKET_ADD_BALANCE, &p, v, false);
  st_buf_free(&p);
  mpz_clear(v);
  if (!rc)
    printf("added %s FIL to the market escrow of %s\n", cli.pos[0],
           st_cli_has(&cli, "address") ? st_cli_flag(&cli, "address")->value : from);
  st_rpc_client_close(c);
  return rc;
}

static int client_balance(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG};
  st_cli cli = {flags, 2, {0}, 0, false};
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 1, "spacetime client balance", "[ADDR]",
                        "An address's market escrow and what of it is locked by deals.", &c);
  if (rc >= 0) return rc;
  char who[ST_ADDR_STR_MAX];
  if (cli.npos == 1) snprintf(who, sizeof who, "%s", cli.pos[0]);
  else if (from_address(&cli, c, who)) return st_rpc_client_close(c), 1;
  json_t *r;
  rc = client_rpc(c, "StateMarketBalance", json_pack("[s []]", who), &r);
  st_rpc_client_close(c);
  if (rc) return 1;
  if (st_cli_has(&cli, "json")) {
    st_json_print(r);
    return 0;
  }
  mpz_t e, l;
  mpz_init_set_str(e, json_string_value(json_object_get(r, "Escrow")), 10);
  mpz_init_set_str(l, json_string_value(json_object_get(r, "Locked")), 10);
  char es[64], ls[64];
  fil_text(e, es, sizeof es);
  fil_text(l, ls, sizeof ls);
  printf("%s\n  Escrow: %s\n  Locked: %s\n", who, es, ls);
  mpz_clears(e, l, NULL);
  json_decref(r);
  return 0;
}

int st_cmd_client(int argc, char **argv) {
  static const st_cli_verb verbs[] = {
      {"import", client_import, "compute a file's piece commitment (CommP)"},
      {"deal", client_deal, "propose a storage deal to a miner"},
      {"list-deals", client_list_deals, "the deals this client proposed and their state"},
      {"retrieve", client_retrieve, "fetch a stored piece back (the miner unseals it)"},
      {"add-balance", client_add_balance, "put FIL in the market's escrow"},
      {"balance", client_balance, "market escrow and locked funds"},
  };
  return st_cli_dispatch("spacetime client", verbs, sizeof verbs / sizeof verbs[0], argc, argv);
}

/* ---------------------------------------------------------------- filplus */

/* AddVerifier or AddVerifiedClient: [Address, Allowance]. */
static int grant(int argc, char **argv, const char *cmd, const char *summary, uint64_t method, const char *what) {
  st_flag flags[] = {REPO_FLAG, FROM_FLAG};
  st_cli cli = {flags, 2, {0}, 0, false};
  st_rpc_client *c;
  char args[64];
  snprintf(args, sizeof args, "%s BYTES [--from ADDR]", what);
  int rc = client_start(&cli, argc, argv, 2, cmd, args, summary, &c);
  if (rc >= 0) return rc;
  if (cli.npos != 2) return st_rpc_client_close(c), st_cli_fail("want %s and BYTES", what);
  st_address a;
  uint64_t bytes;
  st_err err;
  char from[ST_ADDR_STR_MAX];
  if (parse_addr(cli.pos[0], &a)) return st_rpc_client_close(c), 1;
  if (st_parse_u64(cli.pos[1], "BYTES", &bytes, &err) || !bytes)
    return st_rpc_client_close(c), st_cli_fail("BYTES must be a positive number of bytes");
  if (from_address(&cli, c, from)) return st_rpc_client_close(c), 1;
  mpz_t amount, zero;
  mpz_init_set_ui(amount, bytes);
  mpz_init(zero);
  st_buf p = ST_BUF_INIT;
  st_cbor_put_array(&p, 2);
  st_cbor_put_bytes(&p, a.bytes, a.len);
  st_cbor_put_bigint(&p, amount);
  rc = push_and_wait(c, from, ST_ID_VERIFREG, method, &p, zero, false);
  st_buf_free(&p);
  mpz_clears(amount, zero, NULL);
  st_rpc_client_close(c);
  if (!rc) {
    printf("%s now has %s %llu bytes more\n", cli.pos[0],
           method == ST_METHOD_VERIFREG_ADD_VERIFIER ? "an allowance of" : "datacap of", (unsigned long long)bytes);
  }
  return rc;
}

static int filplus_add_verifier(int argc, char **argv) {
  return grant(argc, argv, "spacetime filplus add-verifier",
               "The root key makes VERIFIER a verifier that may grant BYTES of datacap.",
               ST_METHOD_VERIFREG_ADD_VERIFIER, "VERIFIER");
}

static int filplus_grant_datacap(int argc, char **argv) {
  return grant(argc, argv, "spacetime filplus grant-datacap",
               "A verifier (--from) grants CLIENT BYTES of datacap for verified deals.",
               ST_METHOD_VERIFREG_ADD_VERIFIED_CLIENT, "CLIENT");
}

static int check(int argc, char **argv, const char *cmd, const char *summary, const char *method, const char *what) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG};
  st_cli cli = {flags, 2, {0}, 0, false};
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 1, cmd, "ADDR", summary, &c);
  if (rc >= 0) return rc;
  if (cli.npos != 1) return st_rpc_client_close(c), st_cli_fail("want ADDR");
  json_t *r;
  rc = client_rpc(c, method, json_pack("[s []]", cli.pos[0]), &r);
  st_rpc_client_close(c);
  if (rc) return 1;
  if (st_cli_has(&cli, "json")) st_json_print(json_incref(r));
  else if (json_is_null(r)) printf("%s has no %s\n", cli.pos[0], what);
  else printf("%s: %s bytes of %s\n", cli.pos[0], json_string_value(r), what);
  json_decref(r);
  return 0;
}

static int filplus_check_client(int argc, char **argv) {
  return check(argc, argv, "spacetime filplus check-client-datacap", "The datacap a client has left.",
               "StateVerifiedClientStatus", "datacap");
}

static int filplus_check_verifier(int argc, char **argv) {
  return check(argc, argv, "spacetime filplus check-verifier", "The allowance a verifier has left.",
               "StateVerifierStatus", "verifier allowance");
}

int st_cmd_filplus(int argc, char **argv) {
  static const st_cli_verb verbs[] = {
      {"add-verifier", filplus_add_verifier, "(root key) make an address a verifier"},
      {"grant-datacap", filplus_grant_datacap, "(verifier) grant a client datacap"},
      {"check-client-datacap", filplus_check_client, "a client's datacap"},
      {"check-verifier", filplus_check_verifier, "a verifier's allowance"},
  };
  return st_cli_dispatch("spacetime filplus", verbs, sizeof verbs / sizeof verbs[0], argc, argv);
}
