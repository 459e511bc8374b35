/* st_chain_types: the chain's objects in Lotus's exact encodings.
 *
 * Messages, signed messages, signatures, block headers, tipset keys, receipts and actors, as
 * CBOR tuples byte for byte like Lotus's cbor-gen code (lotus chain/types/cbor_gen.go), and as
 * Lotus JSON (docs/lotus-api.md section 2). Everything the daemon hashes, stores, gossips or
 * serves over JSON-RPC goes through here, so a CID computed by us equals Lotus's.
 *
 * CBOR decoding is strict: the input must be canonical DAG-CBOR (st_cbor), have exactly the
 * tuple layout, and fit cbor-gen's limits (byte fields at most ST_CHAIN_MAX_BYTES, arrays at
 * most ST_CHAIN_MAX_ARRAY items, signatures at most ST_SIG_MAX_LEN bytes, big integers at most
 * 128 bytes). So whatever a decoder accepts, its encoder writes back to the same bytes. Errors
 * name the structure and the field: "message: field GasFeeCap: cbor: big integer at offset 40:
 * non-canonical big integer: magnitude has a leading zero byte".
 *
 * Ownership: structs own their byte fields and arrays (copied on decode, never pointing into
 * the input). Each struct has _init (zero values) and _free (releases; the struct may be
 * reused after another _init). Decoders and from-JSON functions take an initialised struct and
 * replace its contents; on failure it holds unspecified but freeable contents.
 *
 * JSON and uint64: Lotus writes uint64 fields (Nonce, Method, ...) as plain JSON numbers up to
 * 2^64-1, but jansson holds only int64. st_chain_json_loadb parses such text; it turns each
 * integer literal in (2^63-1, 2^64-1] into a "marked" string (a NUL byte then the digits), which
 * the from-JSON functions here read as the number. The to-JSON functions make the same marked
 * strings for values above 2^63-1, and st_chain_json_append writes them back as bare numbers.
 * Values up to 2^63-1 are ordinary jansson integers, so plain json_loads and st_json_append
 * work whenever no such value occurs.
 *
 * The code is in parts, by concern (st_chain_types_int.h lists them): the shared CBOR rules
 * with signatures, receipts and actors; messages; block headers and tipset keys; JSON. */
#ifndef ST_CHAIN_TYPES_H
#define ST_CHAIN_TYPES_H

#include <gmp.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/st_address.h"
#include "codec/st_bitfield.h"
#include "codec/st_cbor.h"
#include "codec/st_cid.h"
#include "core/st_buf.h"
#include "core/st_err.h"

#define ST_CHAIN_MAX_BYTES (2u << 20) /* cbor-gen ByteArrayMaxLen: longest byte field */
#define ST_CHAIN_MAX_ARRAY 8192       /* cbor-gen MaxLength: longest array field */
#define ST_SIG_MAX_LEN 200            /* go-state-types SignatureMaxLength: type byte + data */

/* ---------------------------------------------------------------- owned bytes */

typedef struct st_chain_bytes {
  uint8_t *data; /* owned (malloc); NULL when len is 0 */
  size_t len;
} st_chain_bytes;

/* Replaces b's contents with a copy of p[0..n). ST_ENOMEM leaves b empty. */
st_code st_chain_bytes_set(st_chain_bytes *b, const void *p, size_t n, st_err *err);
/* Releases the bytes; b is then empty. */
void st_chain_bytes_free(st_chain_bytes *b);

/* ---------------------------------------------------------------- signatures */

typedef enum st_sig_type {
  ST_SIG_SECP256K1 = 1, /* 65 bytes r||s||v over blake2b-256 of the signed bytes */
  ST_SIG_BLS = 2,       /* 96-byte G2 point */
  ST_SIG_DELEGATED = 3, /* f4 (Ethereum) signatures; decoded and encoded, never verified here */
} st_sig_type;

/* crypto.Signature. Held inline: no allocation. */
typedef struct st_signature {
  st_sig_type type;
  size_t len; /* at most ST_SIG_MAX_LEN - 1 */
  uint8_t data[ST_SIG_MAX_LEN - 1];
} st_signature;

/* "secp256k1", "bls", "delegated" or "unknown". */
const char *st_sig_type_name(st_sig_type t);
/* Sets type and data; ST_EINVAL if the type is not 1..3 or len > ST_SIG_MAX_LEN - 1. */
st_code st_signature_set(st_signature *s, st_sig_type type, const void *data, size_t len, st_err *err);
/* Appends the CBOR byte string type||data. ST_EINVAL if s breaks the rules of _set. */
st_code st_signature_encode(const st_signature *s, st_buf *out, st_err *err);
/* Reads one signature (errors go to r->err): a non-empty byte string of at most
 * ST_SIG_MAX_LEN bytes whose first byte is type 1, 2 or 3. */
st_code st_signature_read(st_cbor_reader *r, st_signature *s);
/* Reads an address (a CBOR byte string); errors go to r->err, naming the offset. */
st_code st_address_read(st_cbor_reader *r, st_address *a);
/* Reads an RLE+ bitfield held in a CBOR byte string into bf (replaced); errors go to r->err. */
st_code st_chain_read_bitfield(st_cbor_reader *r, st_bitfield *bf);
/* Appends bf's RLE+ bytes as a CBOR byte string (a bitfield it cannot encode marks b failed). */
void st_chain_put_bitfield(st_buf *b, const st_bitfield *bf);

/* ---------------------------------------------------------------- messages */

/* types.Message. CBOR: [Version, To, From, Nonce, Value, GasLimit, GasFeeCap, GasPremium,
 * Method, Params] (array of 10, first byte 0x8a). */
typedef struct st_message {
  uint64_t version; /* must be 0 */
  st_address to, from;
  uint64_t nonce;
  mpz_t value; /* attoFIL, >= 0 */
  int64_t gas_limit;
  mpz_t gas_fee_cap, gas_premium; /* attoFIL per gas unit, >= 0 */
  uint64_t method;
  st_chain_bytes params; /* CBOR of the method's parameters, or empty */
} st_message;

/* Zero values: version 0, undefined addresses, zero amounts, empty params. */
void st_message_init(st_message *m);
void st_message_free(st_message *m);
/* dst (initialised) becomes a deep copy of src. */
st_code st_message_copy(st_message *dst, const st_message *src, st_err *err);
/* ST_OK if m can be encoded: Version 0, To and From defined, Value, GasFeeCap and GasPremium
 * non-negative and at most 128 encoded bytes, Params at most ST_CHAIN_MAX_BYTES. The error
 * names the field ("message: field To: undefined address"). */
st_code st_message_check(const st_message *m, st_err *err);
/* Appends the CBOR encoding (after st_message_check). */
st_code st_message_encode(const st_message *m, st_buf *out, st_err *err);
/* The number of bytes st_message_encode appends for m (when it succeeds). */
size_t st_message_size(const st_message *m);
/* Reads one message from r (errors go to r->err). Beyond the CBOR rules it rejects: an array
 * of other than 10 items (a 9-item array is named as the 2020 layout with GasPrice), Version
 * other than 0, an undefined or invalid address, a negative Value, GasFeeCap or GasPremium,
 * Params longer than ST_CHAIN_MAX_BYTES. */
st_code st_message_read(st_cbor_reader *r, st_message *m);
/* Decodes exactly one message filling p[0..n) (trailing bytes are an error). */
st_code st_message_decode(const uint8_t *p, size_t n, st_message *m, st_err *err);
/* The CID of the encoding: CIDv1, dag-cbor, blake2b-256 (what Lotus's Message.Cid returns). */
st_code st_message_cid(const st_message *m, st_cid *out, st_err *err);

/* ---------------------------------------------------------------- signed messages */

/* types.SignedMessage. CBOR: [Message, Signature]. */
typedef struct st_signed_message {
  st_message message;
  st_signature signature;
} st_signed_message;

void st_signed_message_init(st_signed_message *sm);
void st_signed_message_free(st_signed_message *sm);
st_code st_signed_message_encode(const st_signed_message *sm, st_buf *out, st_err *err);
/* Reads [Message, Signature] from r (errors go to r->err). */
st_code st_signed_message_read(st_cbor_reader *r, st_signed_message *sm);
/* Decodes exactly one signed message filling p[0..n). */
st_code st_signed_message_decode(const uint8_t *p, size_t n, st_signed_message *sm, st_err *err);
/* The message's chain CID (lotus chain/types/signedmessage.go): for a BLS signature the
 * unsigned message's CID (BLS messages are stored unsigned, their signatures aggregated);
 * otherwise the CID of the signed encoding. */
st_code st_signed_message_cid(const st_signed_message *sm, st_cid *out, st_err *err);
/* Signs sm->message with a secp256k1 secret key and stores the signature in sm->signature. The
 * signed bytes are the unsigned message's CID bytes (lotus chain/messagesigner SigningBytes);
 * the signature is 65 bytes r||s||v over their blake2b-256. The key's f1 address must equal
 * From (ST_EINVAL otherwise), so every signature made here verifies. */
st_code st_signed_message_sign_secp(st_signed_message *sm, const uint8_t sk[32], st_err *err);
/* Checks a secp256k1 signature: recovers the key from the signature over the unsigned CID
 * bytes and compares its f1 address with From. ST_ECRYPTO on a mismatch, e.g.
 *   signature does not match From t1slxh...: signature was not made by the signer's key
 * BLS and delegated signatures cannot be checked here (ST_EINVAL says so). */
st_code st_signed_message_verify(const st_signed_message *sm, st_err *err);

/* ---------------------------------------------------------------- block headers */

typedef struct st_beacon_entry { /* [Round, Data] */
  uint64_t round;
  st_chain_bytes data;
} st_beacon_entry;

typedef struct st_post_proof { /* proof.PoStProof: [PoStProof, ProofBytes] */
  int64_t post_proof;          /* abi.RegisteredPoStProof */
  st_chain_bytes proof_bytes;
} st_post_proof;

/* types.BlockHeader, CBOR array of 16 (first byte 0x90), fields in this order. */
typedef struct st_block_header {
  st_address miner;
  bool has_ticket; /* Ticket: null, or [VRFProof] */
  st_chain_bytes ticket_vrf_proof;
  bool has_election_proof; /* ElectionProof: null, or [WinCount, VRFProof] */
  int64_t win_count;
  st_chain_bytes election_vrf_proof;
  st_beacon_entry *beacon_entries; /* owned array */
  size_t n_beacon_entries;
  st_post_proof *win_post_proof; /* owned array */
  size_t n_win_post_proof;
  st_cid *parents; /* owned array: the parent tipset's key */
  size_t n_parents;
  mpz_t parent_weight;
  int64_t height;
  st_cid parent_state_root;
  st_cid parent_message_receipts; /* root of the parent tipset's receipts AMT */
  st_cid messages;                /* CID of the block's MsgMeta: [BlsMessages AMT root,
                                     SecpkMessages AMT root]; opaque here */
  bool has_bls_aggregate;         /* BLSAggregate: null, or a signature */
  st_signature bls_aggregate;
  uint64_t timestamp; /* Unix seconds */
  bool has_block_sig; /* BlockSig: null, or a signature */
  st_signature block_sig;
  uint64_t fork_signaling;
  mpz_t parent_base_fee;
} st_block_header;

/* Zero values: undefined Miner, no ticket/election proof/signatures, empty arrays, zero
 * numbers; the three CIDs are all-zero structs (they encode, as 01 00 00 00, but are not
 * meaningful: set them). */
void st_block_header_init(st_block_header *h);
/* Frees every owned array and byte field. */
void st_block_header_free(st_block_header *h);
/* Replaces Parents with a copy of parents[0..n). */
st_code st_block_header_set_parents(st_block_header *h, const st_cid *parents, size_t n, st_err *err);
/* Appends one beacon entry / one PoSt proof (the data is copied). */
st_code st_block_header_add_beacon(st_block_header *h, uint64_t round, const void *data, size_t len, st_err *err);
st_code st_block_header_add_post_proof(st_block_header *h, int64_t post_proof, const void *proof, size_t len,
                                       st_err *err);
/* Appends the CBOR encoding. ST_EINVAL (naming the field) for an undefined Miner, arrays over
 * ST_CHAIN_MAX_ARRAY, byte fields over ST_CHAIN_MAX_BYTES, invalid signatures, big integers
 * over 128 bytes. */
st_code st_block_header_encode(const st_block_header *h, st_buf *out, st_err *err);
/* Reads one header from r (errors go to r->err, e.g. "block header: field Parents: ..."). */
st_code st_block_header_read(st_cbor_reader *r, st_block_header *h);
/* Decodes exactly one header filling p[0..n). */
st_code st_block_header_decode(const uint8_t *p, size_t n, st_block_header *h, st_err *err);
/* The block's CID: dag-cbor blake2b-256 of the encoding. */
st_code st_block_header_cid(const st_block_header *h, st_cid *out, st_err *err);
/* Appends the bytes the miner's worker key signs: the encoding with BlockSig null
 * (lotus BlockHeader.SigningBytes). */
st_code st_block_header_signing_bytes(const st_block_header *h, st_buf *out, st_err *err);

/* ---------------------------------------------------------------- tipsets */

/* types.TipSetKey: the CIDs of a tipset's blocks, in the tipset's block order. */
typedef struct st_tipset_key {
  st_cid *cids; /* owned array */
  size_t n;
} st_tipset_key;

void st_tipset_key_init(st_tipset_key *k);
void st_tipset_key_free(st_tipset_key *k);
/* Replaces k's CIDs with a copy of cids[0..n). */
st_code st_tipset_key_set(st_tipset_key *k, const st_cid *cids, size_t n, st_err *err);
bool st_tipset_key_equal(const st_tipset_key *a, const st_tipset_key *b);
/* Appends the key's bytes: the binary CIDs concatenated (lotus TipSetKey.Bytes). */
void st_tipset_key_bytes(const st_tipset_key *k, st_buf *out);
/* Parses concatenated binary CIDs (the inverse of st_tipset_key_bytes; empty input is the
 * empty key). */
st_code st_tipset_key_from_bytes(const uint8_t *p, size_t n, st_tipset_key *k, st_err *err);
/* The key's CID: dag-cbor blake2b-256 of the CBOR byte string holding the key's bytes
 * (lotus TipSetKey.Cid). The empty key gives bafy2bzacea456askyutsf7uk4ta2q5aojrlcji4mhaqokbfalgvoq4ueeh4l2. */
st_code st_tipset_key_cid(const st_tipset_key *k, st_cid *out, st_err *err);

/* Puts a tipset's blocks in Lotus's order (lotus chain/types/tipset.go tipsetSortFunc): by
 * ticket, where ticket a comes before b if blake2b-256(a.VRFProof) is bytewise smaller
 * (Ticket.Less); blocks whose VRFProofs are equal go by their CIDs' bytes. The array of
 * pointers is reordered; the headers are not changed. With two or more blocks, ST_EINVAL if
 * one has no ticket (Lotus would crash on it). */
st_code st_tipset_sort_blocks(st_block_header **blocks, size_t n, st_err *err);

/* ---------------------------------------------------------------- receipts and actors */

/* types.MessageReceipt, version 0: [ExitCode, Return, GasUsed]. (The 4-field version 1 with
 * EventsRoot, for receipts of messages that emitted events, is not supported: nothing here
 * emits events, and JSON writes "EventsRoot": null.) */
typedef struct st_receipt {
  int64_t exit_code;
  st_chain_bytes ret; /* Return */
  int64_t gas_used;
} st_receipt;

void st_receipt_init(st_receipt *rc);
void st_receipt_free(st_receipt *rc);
st_code st_receipt_encode(const st_receipt *rc, st_buf *out, st_err *err);
st_code st_receipt_read(st_cbor_reader *r, st_receipt *rc);
st_code st_receipt_decode(const uint8_t *p, size_t n, st_receipt *rc, st_err *err);

/* types.Actor as state trees before version 5 store it: [Code, Head, Nonce, Balance]. JSON adds
 * "DelegatedAddress": null, as current Lotus does for actors without an f4 address. */
typedef struct st_actor {
  st_cid code, head;
  uint64_t nonce;
  mpz_t balance;
} st_actor;

void st_actor_init(st_actor *a);
void st_actor_free(st_actor *a);
st_code st_actor_encode(const st_actor *a, st_buf *out, st_err *err);
st_code st_actor_read(st_cbor_reader *r, st_actor *a);
st_code st_actor_decode(const uint8_t *p, size_t n, st_actor *a, st_err *err);

/* ---------------------------------------------------------------- JSON (Lotus's shapes) */

/* Parses JSON text like json_loadb(text, len, flags, ...), except that integer literals above
 * 2^63-1 and at most 2^64-1 become marked strings (see the top of this file). Text containing
 * the escape \u0000 inside a string is refused, so a marked string can only come from a number.
 * Error positions refer to the text after that rewriting. */
st_code st_chain_json_loadb(const char *text, size_t len, size_t flags, json_t **out, st_err *err);
/* Writes v compactly like st_json_append, but marked strings as bare numbers. */
void st_chain_json_append(st_buf *out, const json_t *v);
/* A uint64 as JSON: an integer up to 2^63-1, a marked string above (NULL on out of memory). */
json_t *st_chain_json_u64(uint64_t v);
/* A big integer as Lotus writes it: a decimal string ("1000000000000000000"). */
json_t *st_chain_json_bigint(const mpz_t v);
/* True, with *out set, if v is a non-negative JSON integer or a marked string. */
bool st_chain_json_u64_value(const json_t *v, uint64_t *out);
/* {"/":"bafy..."} (NULL on out of memory). */
json_t *st_chain_json_cid(const st_cid *c);
/* Reads {"/":"<CID string>"}; path names the field in the error ("BlockHeader.Messages: ..."). */
st_code st_chain_json_get_cid(const json_t *v, const char *path, st_cid *out, st_err *err);

/* A non-negative big integer's decimal string; path names the field in the error. */
st_code st_chain_json_get_bigint(const json_t *v, const char *path, mpz_t out, st_err *err);
/* go-bitfield's JSON (rle.MarshalJSON): the run lengths, alternating, starting with a run of
 * zeros (0 when bit 0 is set): {0,2,3} is [0,1,1,2], {1} is [1,1], the empty set [0]. */
json_t *st_chain_json_bitfield(const st_bitfield *bf);
/* The inverse (rle.UnmarshalJSON): a 0 is allowed only first, at most ST_CHAIN_JSON_MAX_RUNS
 * runs; out is replaced; what names the field in the error. */
#define ST_CHAIN_JSON_MAX_RUNS (1 << 17)
st_code st_chain_json_get_bitfield(const json_t *v, const char *what, st_bitfield *out, st_err *err);

/* The to-JSON functions set *out to a new reference. network is 't' or 'f', the prefix of
 * every address written (an undefined address is written "<empty>", as go-address does). Big
 * integers are decimal strings, byte fields standard base64 (null when empty), CIDs {"/":...}.
 *
 * The from-JSON functions follow Go's encoding/json: keys match case-insensitively (the last
 * match wins), unknown keys (such as "CID") are ignored, a missing key or null leaves the
 * zero value, except that big integers must be decimal strings and CIDs objects. Addresses
 * may have either prefix; "" and "<empty>" are undefined. Errors name the field:
 * "Message.GasLimit: must be an integer". */

/* {"Version":0,"To":...,"From":...,"Nonce":...,"Value":"...","GasLimit":...,"GasFeeCap":"...",
 *  "GasPremium":"...","Method":...,"Params":"base64"|null,"CID":{"/":...}}. The message must
 * pass st_message_check (its CID is part of the JSON). */
st_code st_message_to_json(const st_message *m, char network, json_t **out, st_err *err);
/* Refuses Version other than 0 and negative amounts, so a message read from JSON is
 * encodable unless To or From is undefined (left to the caller, as Lotus's gas estimator
 * reports "message To address is undefined"). */
st_code st_message_from_json(const json_t *j, st_message *m, st_err *err);

/* {"Type":N,"Data":"base64"|null}. */
st_code st_signature_to_json(const st_signature *s, json_t **out, st_err *err);
/* path names the value in errors ("Signature", "BlockHeader.BlockSig"). Type must be 1..3. */
st_code st_signature_from_json(const json_t *j, const char *path, st_signature *s, st_err *err);

/* {"Message":{... with its own "CID"},"Signature":{...},"CID":{"/":...}} with the outer CID by
 * the rule of st_signed_message_cid. */
st_code st_signed_message_to_json(const st_signed_message *sm, char network, json_t **out, st_err *err);
/* Errors are named "SignedMessage.Message.Nonce: ...", "SignedMessage.Signature.Type: ...". */
st_code st_signed_message_from_json(const json_t *j, st_signed_message *sm, st_err *err);

/* The 16 fields in order (docs/lotus-api.md 2.3); no CID member. Empty BeaconEntries,
 * WinPoStProof and Parents are null, as Lotus writes headers decoded from CBOR. */
st_code st_block_header_to_json(const st_block_header *h, char network, json_t **out, st_err *err);
/* Arrays may be null or []. Errors are named "BlockHeader.Parents[1]: ...". */
st_code st_block_header_from_json(const json_t *j, st_block_header *h, st_err *err);

/* [{"/":...},...]; the empty key is []. */
st_code st_tipset_key_to_json(const st_tipset_key *k, json_t **out, st_err *err);
/* An array of CID objects; [] and null are the empty key. path names it in errors. */
st_code st_tipset_key_from_json(const json_t *j, const char *path, st_tipset_key *k, st_err *err);

/* {"ExitCode":N,"Return":"base64"|null,"GasUsed":N,"EventsRoot":null}. */
st_code st_receipt_to_json(const st_receipt *rc, json_t **out, st_err *err);
/* {"Code":{"/":...},"Head":{"/":...},"Nonce":N,"Balance":"...","DelegatedAddress":null}. */
st_code st_actor_to_json(const st_actor *a, json_t **out, st_err *err);

#endif
