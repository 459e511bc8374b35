/* spacetime client|filplus: the storage client's verbs and the verified registry's.
 *
 * client: import a file (its CommP), propose a deal to a miner (signed by the node's wallet,
 * sent with the file's bytes to the deal address the miner announced on chain), list the deals
 * (the miner's view and the chain's), retrieve a piece (unsealed by the miner, checked against
 * its CommP), and the market escrow (add-balance, balance). The deals are lib/client's
 * (st_client_deal, with the client's records in <repo>/client/client.db); this file parses the
 * flags, calls it and prints.
 * filplus: the root key adds verifiers, verifiers grant datacap, anyone checks it. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/st_client_deal.h"
#include "client/st_client_market.h"
#include "codec/st_token.h"
#include "commands.h"
#include "core/st_json.h"
#include "rpc/st_node_api.h"

/* ---------------------------------------------------------------- helpers */

/* --price etc.: a FIL amount into out (0 when the flag is absent). */
static int fil_flag(const st_cli *cli, const char *name, mpz_t out) {
  mpz_set_ui(out, 0);
  const char *v = st_cli_value(cli, name, NULL);
  st_err err;
  if (v && st_fil_parse(v, out, &err)) return st_cli_fail("--%s: %s", name, err.msg);
  return 0;
}

/* A flag that was given, 0 to 2^63-1. */
static int i64_flag(const st_cli *cli, const char *name, int64_t *out) {
  uint64_t v = 0;
  st_err err;
  if (st_cli_u64(cli, name, 0, INT64_MAX, NULL, &v, &err)) return st_cli_fail("%s", err.msg);
  *out = (int64_t)v;
  return 0;
}

/* Sends m through the node's wallet, prints its CID and waits for it on chain. Returns the exit
 * status (1 if the message failed). */
static int push_and_wait(st_rpc_client *c, const st_message *m) {
  st_cid cid;
  st_node_lookup l;
  st_err err;
  char text[ST_CID_STR_MAX];
  if (st_node_push(c, m, NULL, &cid, &err)) return client_fail(&err);
  st_cid_to_string(&cid, text);
  printf("message %s\n", text);
  if (st_node_wait_msg(c, &cid, 1, &l, &err)) return client_fail(&err);
  if (l.exit_code) return st_cli_fail("the message failed on chain with exit code %lld", (long long)l.exit_code);
  return 0;
}

/* ---------------------------------------------------------------- client verbs */

static int client_import(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG};
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(&cli, argc, argv, 1, "spacetime client import", "FILE",
                        "Compute FILE's piece commitment (CommP) and remember the file for deals.");
  if (rc >= 0) return rc;
  if (cli.npos != 1) return st_cli_fail("want FILE");
  char repo[CLIENT_REPO_MAX];
  client_repo(&cli, repo);
  st_client_import imp;
  st_err err;
  if (st_client_import_file(repo, cli.pos[0], &imp, &err)) return st_cli_fail("%s", err.msg);
  if (st_cli_has(&cli, "json")) {
    st_json_print(json_pack("{ss sI sI ss}", "PieceCID", imp.piece_cid, "PieceSize", (json_int_t)imp.piece_size,
                            "PayloadSize", (json_int_t)imp.payload_size, "Path", imp.path));
    return 0;
  }
  char size[32];
  st_size_str((double)imp.piece_size, "B", size, sizeof size);
  printf("Piece CID:  %s\nPiece size: %s (%llu padded bytes)\nPayload:    %llu bytes\nFile:       %s\n", imp.piece_cid,
         size, (unsigned long long)imp.piece_size, (unsigned long long)imp.payload_size, imp.path);
  return 0;
}

static void print_proposed(const st_client_proposed *d, const mpz_t price_per_epoch) {
  const st_client_deal_record *r = &d->record;
  char price[64];
  st_fil_text(price_per_epoch, price, sizeof price);
  printf(
      "deal proposed: %s\n  miner %s (%s), piece %s, %llu bytes in a %llu-byte piece%s\n  %s per epoch from epoch %lld to %lld\n  state %s\n",
      d->deal.proposal_cid, r->miner, d->miner_url, r->piece_cid, (unsigned long long)r->payload_size,
      (unsigned long long)r->piece_size, r->verified ? ", verified" : "", price, (long long)r->start_epoch,
      (long long)r->end_epoch, d->deal.state);
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
  st_cli cli = ST_CLI_INIT(flags);
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
  mpz_t price, provider_collateral, client_collateral;
  mpz_inits(price, provider_collateral, client_collateral, NULL);
  st_client_deal_opts o = {.file = cli.pos[0],
                           .miner = st_cli_value(&cli, "miner", NULL),
                           .from = st_cli_value(&cli, "from", NULL),
                           .price = price,
                           .provider_collateral = provider_collateral,
                           .client_collateral = client_collateral,
                           .verified = st_cli_has(&cli, "verified"),
                           .has_start = st_cli_has(&cli, "start-epoch"),
                           .label = st_cli_value(&cli, "label", NULL),
                           .manual_piece_cid = st_cli_value(&cli, "manual-piece-cid", NULL)};
  rc = fil_flag(&cli, "price", price) || fil_flag(&cli, "provider-collateral", provider_collateral) ||
       fil_flag(&cli, "client-collateral", client_collateral) || i64_flag(&cli, "duration", &o.duration) ||
       (o.has_start && i64_flag(&cli, "start-epoch", &o.start_epoch));
  char repo[CLIENT_REPO_MAX];
  client_repo(&cli, repo);
  st_client_proposed d;
  st_err err;
  if (!rc && st_client_propose(c, repo, &o, &d, &err)) rc = st_cli_fail("%s", err.msg);
  st_rpc_client_close(c);
  if (!rc && st_cli_has(&cli, "json")) st_json_print(json_incref(d.reply));
  else if (!rc) print_proposed(&d, price);
  if (!rc) st_client_proposed_free(&d);
  mpz_clears(price, provider_collateral, client_collateral, NULL);
  return rc;
}

/* An epoch or number that is -1 for "not yet" (or "none"): null in JSON. */
static json_t *json_or_null(int64_t v) { return v >= 0 ? json_integer(v) : json_null(); }

/* What list-deals --json prints of a deal; -1 ("not yet") is null. */
static json_t *deal_json(const st_client_deal_status *s) {
  const st_client_deal_record *r = &s->record;
  json_t *o = json_pack("{ss ss ss sI sb ss sI sI ss}", "ProposalCid", r->proposal_cid, "Provider", r->miner,
                        "PieceCID", r->piece_cid, "PieceSize", (json_int_t)r->piece_size, "Verified", r->verified,
                        "PricePerEpoch", r->price, "StartEpoch", (json_int_t)r->start_epoch, "EndEpoch",
                        (json_int_t)r->end_epoch, "State", s->deal.state);
  if (s->reachable) json_object_set_new(o, "Message", json_string(s->deal.message));
  json_object_set_new(o, "DealID", json_or_null(s->deal.deal_id));
  if (s->reachable) json_object_set_new(o, "SectorNumber", json_or_null(s->deal.sector));
  if (s->on_chain)
    json_object_set_new(
        o, "OnChain",
        json_pack("{so so so}", "SectorStartEpoch", json_or_null(s->chain.sector_start), "LastUpdatedEpoch",
                  json_or_null(s->chain.last_updated), "SlashEpoch", json_or_null(s->chain.slash_epoch)));
  return o;
}

/* One row of list-deals: "-" for a deal ID or sector not known yet, words for the chain's view. */
static void print_deal_row(const st_client_deal_status *s) {
  char chain[96] = "-", sec[24] = "-", id[24] = "-";
  if (s->on_chain && s->chain.slash_epoch >= 0)
    snprintf(chain, sizeof chain, "slashed at %lld", (long long)s->chain.slash_epoch);
  else if (s->on_chain && s->chain.sector_start >= 0 && s->chain.last_updated >= 0)
    snprintf(chain, sizeof chain, "active since %lld, paid to %lld", (long long)s->chain.sector_start,
             (long long)s->chain.last_updated);
  else if (s->on_chain && s->chain.sector_start >= 0)
    snprintf(chain, sizeof chain, "active since %lld, not paid yet", (long long)s->chain.sector_start);
  else if (s->on_chain) snprintf(chain, sizeof chain, "published, not active yet");
  if (s->reachable && s->deal.sector >= 0) snprintf(sec, sizeof sec, "%lld", (long long)s->deal.sector);
  if (s->deal.deal_id >= 0) snprintf(id, sizeof id, "%lld", (long long)s->deal.deal_id);
  printf("%-64s  %6s  %-8s  %-24s  %-8s  %6s  %s\n", s->record.proposal_cid, id, s->record.miner, s->deal.state,
         s->record.verified ? "true" : "false", sec, chain);
  if (s->reachable && s->deal.message[0]) printf("    %s\n", s->deal.message);
}

static int client_list_deals(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc =
      client_start(&cli, argc, argv, 0, "spacetime client list-deals", "",
                   "The deals this client proposed: the miner's state for each, and the chain's once published.", &c);
  if (rc >= 0) return rc;
  char repo[CLIENT_REPO_MAX];
  client_repo(&cli, repo);
  st_client_deal_status *v;
  size_t n;
  st_err err;
  st_code code = st_client_deals(c, repo, &v, &n, &err);
  st_rpc_client_close(c);
  if (code) return st_cli_fail("%s", err.msg);
  if (st_cli_has(&cli, "json")) {
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(out, deal_json(&v[i]));
    st_json_print(out);
  } else {
    printf("%-64s  %6s  %-8s  %-24s  %-8s  %6s  %s\n", "ProposalCid", "DealId", "Provider", "State", "Verified",
           "Sector", "On chain");
    for (size_t i = 0; i < n; i++) print_deal_row(&v[i]);
  }
  free(v);
  return 0;
}

static int client_retrieve(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, ST_FLAG("miner", ST_FLAG_VALUE, "ADDR",
                                        "the miner storing it (default: the one this client made the deal with)")};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc = client_start(
      &cli, argc, argv, 2, "spacetime client retrieve", "[--miner t0...] PIECE_CID OUTFILE",
      "Fetch a piece from the miner, which unseals it from its sealed sector, check it against its CommP and write it to OUTFILE.",
      &c);
  if (rc >= 0) return rc;
  if (cli.npos != 2) return st_rpc_client_close(c), st_cli_fail("want PIECE_CID and OUTFILE");
  st_cid want;
  if (st_cid_parse(cli.pos[0], &want, NULL) || want.codec != ST_CODEC_FIL_UNSEALED)
    return st_rpc_client_close(c), st_cli_fail("%s is not a piece CID (baga6ea4sea...)", cli.pos[0]);
  char repo[CLIENT_REPO_MAX], miner[ST_ADDR_STR_MAX];
  client_repo(&cli, repo);
  size_t bytes;
  st_err err;
  st_code code =
      st_client_retrieve(c, repo, cli.pos[0], st_cli_value(&cli, "miner", NULL), cli.pos[1], miner, &bytes, &err);
  st_rpc_client_close(c);
  if (code) return st_cli_fail("%s", err.msg);
  printf("retrieved %s from %s: %zu bytes, CommP checked, written to %s\n", cli.pos[0], miner, bytes, cli.pos[1]);
  return 0;
}

static int client_add_balance(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, FROM_FLAG,
                     ST_FLAG("address", ST_FLAG_VALUE, "ADDR", "whose escrow to add to (default: the sender's)")};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 1, "spacetime client add-balance", "AMOUNT [--from ADDR] [--address ADDR]",
                        "Move AMOUNT FIL into the storage market's escrow (AddBalance) and wait for it to land.", &c);
  if (rc >= 0) return rc;
  if (cli.npos != 1) return st_rpc_client_close(c), st_cli_fail("want AMOUNT in FIL");
  rc = 0;
  mpz_t v;
  mpz_init(v);
  st_err err;
  char from_text[ST_ADDR_STR_MAX];
  const char *who_text = st_cli_value(&cli, "address", NULL);
  st_address from, who;
  st_message m;
  st_message_init(&m);
  if (st_fil_parse(cli.pos[0], v, &err) || mpz_sgn(v) <= 0)
    rc = st_cli_fail("AMOUNT must be a positive FIL amount, not \"%s\"", cli.pos[0]);
  if (!rc) rc = client_sender(&cli, c, &from, from_text);
  if (!who_text) who_text = from_text;
  if (!rc) rc = client_parse_addr(who_text, &who);
  if (!rc && st_client_add_balance_msg(&from, &who, v, &m, &err)) rc = st_cli_fail("%s", err.msg);
  if (!rc) rc = push_and_wait(c, &m);
  if (!rc) printf("added %s FIL to the market escrow of %s\n", cli.pos[0], who_text);
  st_message_free(&m);
  mpz_clear(v);
  st_rpc_client_close(c);
  return rc;
}

static int client_balance(int argc, char **argv) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 1, "spacetime client balance", "[ADDR]",
                        "An address's market escrow and what of it is locked by deals.", &c);
  if (rc >= 0) return rc;
  char who[ST_ADDR_STR_MAX];
  st_address a;
  if (cli.npos == 1) snprintf(who, sizeof who, "%s", cli.pos[0]);
  rc = cli.npos == 1 ? client_parse_addr(who, &a) : client_sender(&cli, c, &a, who);
  mpz_t e, l;
  mpz_inits(e, l, NULL);
  st_err err;
  if (!rc && st_node_market_balance(c, &a, e, l, &err)) rc = client_fail(&err);
  st_rpc_client_close(c);
  if (!rc && st_cli_has(&cli, "json")) {
    st_json_print(json_pack("{so so}", "Escrow", st_chain_json_bigint(e), "Locked", st_chain_json_bigint(l)));
  } else if (!rc) {
    char es[64], ls[64];
    st_fil_text(e, es, sizeof es);
    st_fil_text(l, ls, sizeof ls);
    printf("%s\n  Escrow: %s\n  Locked: %s\n", who, es, ls);
  }
  mpz_clears(e, l, NULL);
  return rc;
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

/* AddVerifier (verifier true) or AddVerifiedClient: [Address, Allowance]. */
static int grant(int argc, char **argv, const char *cmd, const char *summary, bool verifier, const char *what) {
  st_flag flags[] = {REPO_FLAG, FROM_FLAG};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  char args[64];
  snprintf(args, sizeof args, "%s BYTES [--from ADDR]", what);
  int rc = client_start(&cli, argc, argv, 2, cmd, args, summary, &c);
  if (rc >= 0) return rc;
  if (cli.npos != 2) return st_rpc_client_close(c), st_cli_fail("want %s and BYTES", what);
  st_address a, from;
  uint64_t bytes;
  st_err err;
  char from_text[ST_ADDR_STR_MAX];
  if (client_parse_addr(cli.pos[0], &a)) return st_rpc_client_close(c), 1;
  if (st_parse_u64(cli.pos[1], "BYTES", &bytes, &err) || !bytes)
    return st_rpc_client_close(c), st_cli_fail("BYTES must be a positive number of bytes");
  if (client_sender(&cli, c, &from, from_text)) return st_rpc_client_close(c), 1;
  st_message m;
  rc = st_client_verifreg_msg(&from, verifier, &a, bytes, &m, &err) ? st_cli_fail("%s", err.msg) : push_and_wait(c, &m);
  st_message_free(&m);
  st_rpc_client_close(c);
  if (!rc)
    printf("%s now has %s %llu bytes more\n", cli.pos[0], verifier ? "an allowance of" : "datacap of",
           (unsigned long long)bytes);
  return rc;
}

static int filplus_add_verifier(int argc, char **argv) {
  return grant(argc, argv, "spacetime filplus add-verifier",
               "The root key makes VERIFIER a verifier that may grant BYTES of datacap.", true, "VERIFIER");
}

static int filplus_grant_datacap(int argc, char **argv) {
  return grant(argc, argv, "spacetime filplus grant-datacap",
               "A verifier (--from) grants CLIENT BYTES of datacap for verified deals.", false, "CLIENT");
}

static int check(int argc, char **argv, const char *cmd, const char *summary, bool verifier, const char *what) {
  st_flag flags[] = {REPO_FLAG, JSON_FLAG};
  st_cli cli = ST_CLI_INIT(flags);
  st_rpc_client *c;
  int rc = client_start(&cli, argc, argv, 1, cmd, "ADDR", summary, &c);
  if (rc >= 0) return rc;
  if (cli.npos != 1) return st_rpc_client_close(c), st_cli_fail("want ADDR");
  st_address a;
  if (client_parse_addr(cli.pos[0], &a)) return st_rpc_client_close(c), 1;
  bool found;
  mpz_t v;
  mpz_init(v);
  st_err err;
  rc = st_node_verifreg_status(c, verifier, &a, &found, v, &err) ? client_fail(&err) : 0;
  st_rpc_client_close(c);
  char *amount = rc ? NULL : mpz_get_str(NULL, 10, v);
  if (!rc && st_cli_has(&cli, "json")) st_json_print(found ? json_string(amount) : json_null());
  else if (!rc && !found) printf("%s has no %s\n", cli.pos[0], what);
  else if (!rc) printf("%s: %s bytes of %s\n", cli.pos[0], amount, what);
  free(amount);
  mpz_clear(v);
  return rc;
}

static int filplus_check_client(int argc, char **argv) {
  return check(argc, argv, "spacetime filplus check-client-datacap", "The datacap a client has left.", false,
               "datacap");
}

static int filplus_check_verifier(int argc, char **argv) {
  return check(argc, argv, "spacetime filplus check-verifier", "The allowance a verifier has left.", true,
               "verifier allowance");
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
