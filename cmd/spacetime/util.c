/* spacetime util: encode and inspect Filecoin formats (addresses, CIDs, DAG-CBOR, RLE+, comm_p)
 * and compute WindowPoSt deadlines. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "chain/st_deadline.h"
#include "chain/st_network.h"
#include "codec/st_address.h"
#include "codec/st_bitfield.h"
#include "codec/st_cbor.h"
#include "codec/st_cid.h"
#include "commands.h"
#include "core/st_cli.h"
#include "core/st_encoding.h"
#include "core/st_fs.h"
#include "core/st_json.h"
#include "crypto/st_secp.h"
#include "proofs/st_commp.h"

#define INPUT_MAX (64u << 20)

/* JSON has no unsigned 64-bit integers; values past 2^63-1 are given as decimal strings. */
static json_t *json_u64(uint64_t v) {
  if (v <= (uint64_t)INT64_MAX) return json_integer((json_int_t)v);
  char s[24];
  snprintf(s, sizeof s, "%llu", (unsigned long long)v);
  return json_string(s);
}

static json_t *json_hex(const uint8_t *p, size_t n) {
  st_buf b = ST_BUF_INIT;
  st_hex_append(&b, p, n);
  json_t *j = json_stringn(st_buf_cstr(&b), b.len);
  st_buf_free(&b);
  return j;
}

static int read_input(const char *path, st_buf *out) {
  st_err err;
  st_code rc = !path || !strcmp(path, "-") ? st_fs_read_stream(stdin, "-", INPUT_MAX, out, &err)
                                           : st_fs_read_file(path, INPUT_MAX, out, &err);
  return rc ? st_cli_fail("%s", err.msg) : 0;
}

/* ---------------------------------------------------------------- address */

static int decode_hex_flag(const char *flag, const char *hex, st_buf *out) {
  st_err err;
  if (st_hex_decode(hex, strlen(hex), out, &err)) return st_cli_fail("--%s: %s", flag, err.msg);
  return 0;
}

static int address_encode(int argc, char **argv) {
  st_flag flags[] = {
      ST_FLAG("secp256k1-pubkey", ST_FLAG_VALUE, "HEX", "secp256k1 public key, 65 bytes uncompressed or 33 compressed"),
      ST_FLAG("bls-pubkey", ST_FLAG_VALUE, "HEX", "BLS public key, 48 bytes"),
      ST_FLAG("actor-data", ST_FLAG_VALUE, "HEX", "actor creation data (protocol 2)"),
      ST_FLAG("id", ST_FLAG_VALUE, "N", "actor id (protocol 0), below 2^63"),
      ST_FLAG("delegated", ST_FLAG_VALUE, "NS:HEX", "namespace and sub-address (protocol 4)"),
      ST_FLAG("network", ST_FLAG_VALUE, "t|f", "network prefix: t (testnet, default) or f (mainnet)"),
      ST_FLAG("json", ST_FLAG_BOOL, NULL, "print JSON"),
  };
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(
      &cli, argc, argv, 0, "spacetime util address encode",
      "(--secp256k1-pubkey HEX | --bls-pubkey HEX | --actor-data HEX | --id N | --delegated NS:HEX) [--network t|f] [--json]",
      "Prints the address for a public key, actor data or id.");
  if (rc >= 0) return rc;
  static const char *const SOURCES[] = {"secp256k1-pubkey", "bls-pubkey", "actor-data", "id", "delegated"};
  int given = 0;
  for (size_t i = 0; i < sizeof SOURCES / sizeof SOURCES[0]; i++) given += st_cli_has(&cli, SOURCES[i]);
  if (given != 1)
    return st_cli_fail("give exactly one of --secp256k1-pubkey, --bls-pubkey, --actor-data, --id, --delegated");
  char network = 't';
  const char *net = st_cli_value(&cli, "network", NULL);
  if (net) {
    if (strcmp(net, "t") && strcmp(net, "f"))
      return st_cli_fail("--network: \"%s\" is not t (testnet) or f (mainnet)", net);
    network = net[0];
  }
  st_address a;
  st_err err;
  st_buf raw = ST_BUF_INIT;
  int status = 0;
  const char *secp = st_cli_value(&cli, "secp256k1-pubkey", NULL), *bls = st_cli_value(&cli, "bls-pubkey", NULL),
             *data = st_cli_value(&cli, "actor-data", NULL), *id_text = st_cli_value(&cli, "id", NULL),
             *delegated = st_cli_value(&cli, "delegated", NULL);
  if (secp) {
    uint8_t pub[ST_SECP_PUBKEY_LEN];
    if ((status = decode_hex_flag("secp256k1-pubkey", secp, &raw))) goto out;
    if (st_secp_pubkey_parse(raw.data, raw.len, pub, &err)) {
      status = st_cli_fail("--secp256k1-pubkey: %s", err.msg);
      goto out;
    }
    st_address_from_secp256k1_pubkey(pub, &a);
  } else if (bls) {
    if ((status = decode_hex_flag("bls-pubkey", bls, &raw))) goto out;
    if (raw.len != 48) {
      status = st_cli_fail("--bls-pubkey: a BLS public key is 48 bytes, got %zu", raw.len);
      goto out;
    }
    st_address_from_bls_pubkey(raw.data, &a);
  } else if (data) {
    if ((status = decode_hex_flag("actor-data", data, &raw))) goto out;
    st_address_from_actor_data(raw.data, raw.len, &a);
  } else if (id_text) {
    uint64_t id = 0;
    if (st_cli_u64(&cli, "id", 0, UINT64_MAX, NULL, &id, &err) || st_address_from_id(id, &a, &err)) {
      status = st_cli_fail("%s", err.msg);
      goto out;
    }
  } else {
    const char *colon = strchr(delegated, ':');
    char ns_text[32];
    uint64_t ns;
    if (!colon || (size_t)(colon - delegated) >= sizeof ns_text) {
      status = st_cli_fail("--delegated: expected NS:HEX, e.g. 10:ab12..., got \"%s\"", delegated);
      goto out;
    }
    memcpy(ns_text, delegated, (size_t)(colon - delegated));
    ns_text[colon - delegated] = '\0';
    if (st_parse_u64(ns_text, "--delegated namespace", &ns, &err)) {
      status = st_cli_fail("%s", err.msg);
      goto out;
    }
    if ((status = decode_hex_flag("delegated", colon + 1, &raw))) goto out;
    if (st_address_from_delegated(ns, raw.data, raw.len, &a, &err)) {
      status = st_cli_fail("--delegated: %s", err.msg);
      goto out;
    }
  }
  char text[ST_ADDR_STR_MAX];
  if (st_address_format(&a, network, text, &err)) {
    status = st_cli_fail("%s", err.msg);
    goto out;
  }
  if (st_cli_has(&cli, "json")) {
    size_t plen;
    const uint8_t *payload = st_address_payload(&a, &plen);
    st_json_print(json_pack("{s:s,s:i,s:s,s:o,s:o}", "address", text, "protocol", (int)st_address_protocol(&a),
                            "protocol_name", st_address_protocol_name(st_address_protocol(&a)), "payload",
                            json_hex(payload, plen), "bytes", json_hex(a.bytes, a.len)));
  } else {
    printf("%s\n", text);
  }
out:
  st_buf_free(&raw);
  return status;
}

static int address_decode(int argc, char **argv) {
  st_flag flags[] = {ST_FLAG("json", ST_FLAG_BOOL, NULL, "print JSON")};
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(&cli, argc, argv, 1, "spacetime util address decode", "ADDRESS [--json]",
                        "Checks an address (network, protocol, checksum, payload) and prints its parts.");
  if (rc >= 0) return rc;
  if (cli.npos != 1) return st_cli_fail("give one address, e.g. spacetime util address decode t01024");
  st_address a;
  char network;
  st_err err;
  if (st_address_parse(cli.pos[0], &a, &network, &err)) return st_cli_fail("%s", err.msg);
  size_t plen;
  const uint8_t *payload = st_address_payload(&a, &plen);
  st_addr_protocol proto = st_address_protocol(&a);
  uint64_t id = 0;
  if (proto == ST_ADDR_ID) st_address_id(&a, &id, NULL);
  if (st_cli_has(&cli, "json")) {
    json_t *o = json_pack("{s:s,s:s#,s:i,s:s,s:o,s:o}", "address", cli.pos[0], "network", &network, 1, "protocol",
                          (int)proto, "protocol_name", st_address_protocol_name(proto), "payload",
                          json_hex(payload, plen), "bytes", json_hex(a.bytes, a.len));
    if (proto == ST_ADDR_ID) json_object_set_new(o, "id", json_u64(id));
    st_json_print(o);
    return 0;
  }
  printf("network:  %c (%s)\n", network, network == 'f' ? "mainnet" : "testnet");
  printf("protocol: %d (%s)\n", (int)proto, st_address_protocol_name(proto));
  st_buf hex = ST_BUF_INIT;
  st_hex_append(&hex, payload, plen);
  printf("payload:  %s\n", st_buf_cstr(&hex));
  st_buf_free(&hex);
  if (proto == ST_ADDR_ID) printf("id:       %llu\n", (unsigned long long)id);
  return 0;
}

/* ---------------------------------------------------------------- cid, cbor */

static int cid_cmd(int argc, char **argv) {
  st_flag flags[] = {ST_FLAG("json", ST_FLAG_BOOL, NULL, "print JSON")};
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(
      &cli, argc, argv, 1, "spacetime util cid", "[FILE|-] [--json]",
      "Checks that the input (a file, or standard input) is exactly one DAG-CBOR object and prints its CID\n"
      "(CIDv1, dag-cbor, BLAKE2b-256).");
  if (rc >= 0) return rc;
  st_buf in = ST_BUF_INIT;
  int status = read_input(cli.npos ? cli.pos[0] : "-", &in);
  st_err err;
  if (!status && st_cbor_validate(in.data, in.len, ST_CBOR_ALLOW_FLOATS, 0, &err)) status = st_cli_fail("%s", err.msg);
  if (!status) {
    st_cid c;
    char text[ST_CID_STR_MAX];
    st_cid_of_cbor(in.data, in.len, &c);
    st_cid_to_string(&c, text);
    if (st_cli_has(&cli, "json")) st_json_print(json_pack("{s:s,s:I}", "cid", text, "size", (json_int_t)in.len));
    else printf("%s\n", text);
  }
  st_buf_free(&in);
  return status;
}

static int cbor_dump(int argc, char **argv) {
  st_flag flags[] = {ST_FLAG("json", ST_FLAG_BOOL, NULL, "print DAG-JSON instead of diagnostic notation")};
  st_cli cli = ST_CLI_INIT(flags);
  int rc =
      st_cli_start(&cli, argc, argv, 1, "spacetime util cbor dump", "[FILE|-] [--json]",
                   "Prints one DAG-CBOR object in CBOR diagnostic notation (RFC 8949), or as DAG-JSON with --json.");
  if (rc >= 0) return rc;
  st_buf in = ST_BUF_INIT, out = ST_BUF_INIT;
  int status = read_input(cli.npos ? cli.pos[0] : "-", &in);
  st_err err;
  if (!status) {
    st_code c = st_cli_has(&cli, "json") ? st_cbor_dagjson(in.data, in.len, ST_CBOR_ALLOW_FLOATS, &out, &err)
                                         : st_cbor_diag(in.data, in.len, ST_CBOR_ALLOW_FLOATS, &out, &err);
    if (c) status = st_cli_fail("%s", err.msg);
    else printf("%s\n", st_buf_cstr(&out));
  }
  st_buf_free(&in);
  st_buf_free(&out);
  return status;
}

/* ---------------------------------------------------------------- bitfield */

static int bitfield_encode(int argc, char **argv) {
  st_flag flags[] = {ST_FLAG("json", ST_FLAG_BOOL, NULL, "print JSON")};
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(&cli, argc, argv, 1, "spacetime util bitfield encode", "SET [--json]",
                        "Prints the RLE+ encoding (hex) of a set such as 0,2,4-6 (an empty string is the empty set).");
  if (rc >= 0) return rc;
  if (cli.npos != 1) return st_cli_fail("give one set, e.g. spacetime util bitfield encode 0,2,4-6");
  st_bitfield bf = ST_BITFIELD_INIT;
  st_buf enc = ST_BUF_INIT, hex = ST_BUF_INIT, norm = ST_BUF_INIT;
  st_err err;
  int status = 0;
  if (st_bitfield_parse_ranges(cli.pos[0], &bf, &err) || st_bitfield_encode(&bf, &enc, &err)) {
    status = st_cli_fail("%s", err.msg);
  } else {
    st_hex_append(&hex, enc.data, enc.len);
    st_bitfield_format_ranges(&bf, &norm);
    if (st_cli_has(&cli, "json"))
      st_json_print(json_pack("{s:s,s:s,s:o}", "hex", st_buf_cstr(&hex), "set", st_buf_cstr(&norm), "count",
                              json_u64(st_bitfield_count(&bf))));
    else printf("%s\n", st_buf_cstr(&hex));
  }
  st_bitfield_free(&bf);
  st_buf_free(&enc);
  st_buf_free(&hex);
  st_buf_free(&norm);
  return status;
}

static int bitfield_decode(int argc, char **argv) {
  st_flag flags[] = {ST_FLAG("json", ST_FLAG_BOOL, NULL, "print JSON")};
  st_cli cli = ST_CLI_INIT(flags);
  int rc = st_cli_start(&cli, argc, argv, 1, "spacetime util bitfield decode", "HEX [--json]",
                        "Prints the set an RLE+ bitfield (hex) holds, as 0,2,4-6.");
  if (rc >= 0) return rc;
  if (cli.npos != 1) return st_cli_fail("give one hex bitfield, e.g. spacetime util bitfield decode 7c472202");
  st_bitfield bf = ST_BITFIELD_INIT;
  st_buf raw = ST_BUF_INIT, set = ST_BUF_INIT;
  st_err err;
  int status = 0;
  if (st_hex_decode(cli.pos[0], strlen(cli.pos[0]), &raw, &err) || st_bitfield_decode(raw.data, raw.len, &bf, &err)) {
    status = st_cli_fail("%s", err.msg);
  } else {
    st_bitfield_format_ranges(&bf, &set);
    if (st_cli_has(&cli, "json"))
      st_json_print(json_pack("{s:s,s:o}", "set", st_buf_cstr(&set), "count", json_u64(st_bitfield_count(&bf))));
    else printf("%s\n", st_buf_cstr(&set));
  }
  st_bitfield_free(&bf);
  st_buf_free(&raw);
  st_buf_free(&set);
  return status;
}

/* ---------------------------------------------------------------- commp */

static int commp_cmd(int argc, char **argv) {
  st_flag flags[] = {ST_FLAG("json", ST_FLAG_BOOL, NULL, "print JSON")};
  st_cli cli = ST_CLI_INIT(flags);
  int rc =
      st_cli_start(&cli, argc, argv, 1, "spacetime util commp", "FILE|- [--json]",
                   "Computes the piece commitment (comm_p) of a file as Filecoin does: Fr32 padding, zero padding to\n"
                   "the next power of two, a SHA-256 trunc254 binary tree. Prints the piece CID, the padded piece\n"
                   "size and the payload size. The file is streamed, so any size works.");
  if (rc >= 0) return rc;
  if (cli.npos != 1)
    return st_cli_fail("util commp needs a FILE (or - for standard input) (run 'spacetime util commp --help')");
  uint8_t comm[32];
  uint64_t padded, payload;
  st_err err;
  if (st_commp_of_file(cli.pos[0], comm, &padded, &payload, &err)) return st_cli_fail("%s", err.msg);
  st_cid c;
  char text[ST_CID_STR_MAX];
  st_cid_of_commitment(comm, false, &c);
  st_cid_to_string(&c, text);
  if (st_cli_has(&cli, "json")) {
    st_json_print(
        json_pack("{s:s,s:o,s:o}", "cid", text, "piece_size", json_u64(padded), "payload_size", json_u64(payload)));
  } else {
    printf("CID: %s\nPiece size: %llu\nPayload size: %llu\n", text, (unsigned long long)padded,
           (unsigned long long)payload);
  }
  return 0;
}

/* ---------------------------------------------------------------- deadline */

/* Epochs and policy values are kept below 2^62 in size, so that no sum of them (Open, Close,
 * the next period's start) leaves int64. */
#define EPOCH_LIMIT (INT64_C(1) << 62)

/* A signed decimal epoch: an optional '-', then digits. */
static st_code parse_epoch(const char *s, const char *flag, int64_t *out, st_err *err) {
  bool neg = s[0] == '-';
  const char *digits = s + neg;
  uint64_t v;
  if (!*digits || strspn(digits, "0123456789") != strlen(digits))
    return st_err_set(err, ST_EINVAL, "--%s: \"%s\" is not a decimal epoch", flag, s);
  if (st_parse_u64(digits, flag, &v, NULL) || v >= (uint64_t)EPOCH_LIMIT)
    return st_err_set(err, ST_ERANGE, "--%s %s is outside (-2^62, 2^62)", flag, s);
  *out = neg ? -(int64_t)v : (int64_t)v;
  return ST_OK;
}

static int deadline_cmd(int argc, char **argv) {
  /* the policy flags, spelled as `genesis new` spells them; their help is the parameter table's */
  static const char *const POLICY[] = {"proving-period", "challenge-window", "deadlines", "challenge-lookback",
                                       "fault-cutoff"};
  st_flag flags[] = {
      ST_FLAG("network", ST_FLAG_VALUE, "NAME", "devnet (default), testnet2020 or mainnet: the policy values"),
      ST_FLAG("period-start", ST_FLAG_VALUE, "EPOCH", "first epoch of the proving period (may be negative)"),
      ST_FLAG("index", ST_FLAG_VALUE, "N", "deadline index, below the number of deadlines"),
      ST_FLAG("epoch", ST_FLAG_VALUE, "EPOCH", "current epoch (chain height, 0 or more)"),
      ST_FLAG("json", ST_FLAG_BOOL, NULL, "print Lotus's dline.Info JSON"),
      ST_FLAG("proving-period", ST_FLAG_VALUE, "N", ""),
      ST_FLAG("challenge-window", ST_FLAG_VALUE, "N", ""),
      ST_FLAG("deadlines", ST_FLAG_VALUE, "N", ""),
      ST_FLAG("challenge-lookback", ST_FLAG_VALUE, "N", ""),
      ST_FLAG("fault-cutoff", ST_FLAG_VALUE, "N", ""),
  };
  st_cli cli = ST_CLI_INIT(flags);
  for (size_t i = 0; i < sizeof POLICY / sizeof POLICY[0]; i++)
    for (size_t k = 0; k < ST_NETWORK_NPARAMS; k++)
      if (!strcmp(ST_NETWORK_PARAMS[k].flag, POLICY[i])) st_cli_flag(&cli, POLICY[i])->help = ST_NETWORK_PARAMS[k].help;
  int rc = st_cli_start(
      &cli, argc, argv, 0, "spacetime util deadline",
      "--period-start EPOCH --index N --epoch EPOCH [--network NAME] [--proving-period N] [--challenge-window N]\n"
      "    [--deadlines N] [--challenge-lookback N] [--fault-cutoff N] [--json]",
      "Prints a WindowPoSt deadline as Filecoin computes it (dline.NewInfo): when deadline N of the proving\n"
      "period starting at --period-start opens and closes, its challenge epoch and fault cutoff, and\n"
      "whether it is open at --epoch. The network gives the five policy values; each flag overrides one.");
  if (rc >= 0) return rc;
  static const char *const REQUIRED[][2] = {
      {"period-start", "--period-start EPOCH"}, {"index", "--index N"}, {"epoch", "--epoch EPOCH"}};
  for (size_t i = 0; i < sizeof REQUIRED / sizeof REQUIRED[0]; i++)
    if (!st_cli_has(&cli, REQUIRED[i][0]))
      return st_cli_fail("%s is required (run 'spacetime util deadline --help')", REQUIRED[i][1]);
  const char *start_text = st_cli_value(&cli, "period-start", NULL), *index_text = st_cli_value(&cli, "index", NULL),
             *epoch_text = st_cli_value(&cli, "epoch", NULL);

  st_network n;
  st_err err;
  if (st_network_profile(st_cli_value(&cli, "network", "devnet"), &n, &err))
    return st_cli_fail("--network: %s", err.msg);
  for (size_t i = 0; i < sizeof POLICY / sizeof POLICY[0]; i++) {
    const char *v = st_cli_value(&cli, POLICY[i], NULL);
    if (v && st_network_set(&n, POLICY[i], v, &err)) return st_cli_fail("%s", err.msg);
  }
  st_deadline_policy p;
  st_deadline_policy_of(&n, &p);
  if (p.proving_period >= EPOCH_LIMIT)
    return st_cli_fail("--proving-period %lld is 2^62 or more", (long long)p.proving_period);
  /* the product is checked here, before st_network_check multiplies */
  int64_t product;
  if (__builtin_mul_overflow(p.deadlines, p.challenge_window, &product) || product != p.proving_period)
    return st_cli_fail("deadlines (%lld) x challenge-window (%lld) must equal proving-period (%lld)",
                       (long long)p.deadlines, (long long)p.challenge_window, (long long)p.proving_period);
  if (st_network_check(&n, &err)) return st_cli_fail("%s", err.msg);

  int64_t period_start = 0, epoch = 0;
  uint64_t index, height;
  if (parse_epoch(start_text, "period-start", &period_start, &err)) return st_cli_fail("%s", err.msg);
  if (epoch_text[0] == '-' && epoch_text[1])
    return st_cli_fail("--epoch %s is negative: the current epoch is a chain height, 0 or more", epoch_text);
  if (st_parse_u64(epoch_text, "--epoch", &height, &err)) return st_cli_fail("%s", err.msg);
  if (height >= (uint64_t)EPOCH_LIMIT) return st_cli_fail("--epoch %s is 2^62 or more", epoch_text);
  epoch = (int64_t)height;
  if (st_parse_u64(index_text, "--index", &index, &err)) return st_cli_fail("%s", err.msg);
  if (index >= (uint64_t)p.deadlines)
    return st_cli_fail("--index %s must be below --deadlines (%lld): deadlines are numbered 0 to %lld", index_text,
                       (long long)p.deadlines, (long long)p.deadlines - 1);

  st_deadline_info d;
  st_deadline_new(&p, period_start, index, epoch, &d);
  if (st_cli_has(&cli, "json")) {
    st_json_print(st_deadline_info_to_json(&d));
    return 0;
  }
  const char *state = st_deadline_is_open(&d) ? "open" : st_deadline_has_elapsed(&d) ? "elapsed" : "not yet open";
  printf(
      "CurrentEpoch: %lld\nPeriodStart: %lld\nIndex: %llu\nOpen: %lld\nClose: %lld\nChallenge: %lld\nFaultCutoff: %lld\nState: %s\n",
      (long long)d.current_epoch, (long long)d.period_start, (unsigned long long)d.index, (long long)d.open,
      (long long)d.close, (long long)d.challenge, (long long)d.fault_cutoff, state);
  return 0;
}

/* ---------------------------------------------------------------- dispatch */

int st_cmd_util(int argc, char **argv) {
  static const st_cli_verb verbs[] = {
      {"address encode", address_encode, "print the address of a public key, actor data or id"},
      {"address decode", address_decode, "check an address and print its protocol and payload"},
      {"cid", cid_cmd, "check that input is one DAG-CBOR object and print its CID"},
      {"cbor dump", cbor_dump, "print DAG-CBOR in diagnostic notation (or DAG-JSON)"},
      {"bitfield encode", bitfield_encode, "RLE+ encode a set such as 0,2,4-6"},
      {"bitfield decode", bitfield_decode, "decode an RLE+ bitfield to 0,2,4-6"},
      {"commp", commp_cmd, "print the piece CID (comm_p) and sizes of a file"},
      {"poseidon", st_cmd_util_poseidon, "hash field elements with Filecoin's Poseidon"},
      {"seal", st_cmd_util_seal, "seal a sector as Filecoin does and print comm_d and comm_r"},
      {"deadline", deadline_cmd, "compute a WindowPoSt deadline: open, close, challenge, fault cutoff"},
      {"post verify-vanilla", st_cmd_util_post_verify_vanilla,
       "check a WindowPoSt vanilla proof against Lotus's verify info"},
      {"sdr-parents", st_cmd_util_sdr_parents, "make the SDR parent cache of a sector size; print its path or SHA-256"},
  };
  return st_cli_dispatch("spacetime util", verbs, sizeof verbs / sizeof verbs[0], argc, argv);
}
