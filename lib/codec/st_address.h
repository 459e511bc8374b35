/* st_address: Filecoin addresses, protocols 0 (ID) to 4 (delegated), as go-address has them.
 *
 * Bytes: protocol byte || payload. Payloads: ID uvarint(id); secp256k1 blake2b-160 of the
 * 65-byte uncompressed public key; actor blake2b-160 of the creation data; BLS the 48-byte
 * public key; delegated uvarint(namespace) || sub-address (at most 54 bytes).
 * Strings: network ('t' or 'f') + protocol digit + body, where the body is the decimal id, or
 * base32(payload || blake2b-4(protocol || payload)), or for delegated "<namespace>f<base32>".
 * Parsing rejects what go-address rejects, with its words ("invalid address checksum").
 *
 * Every out is initialised on return, success or not (st_err.h): an address that could not be
 * made is the undefined one (len 0, all bytes zero), a text that could not be written is all
 * NULs, an id is 0, a network is 0. */
#ifndef ST_ADDRESS_H
#define ST_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/st_buf.h"
#include "core/st_err.h"

typedef enum st_addr_protocol {
  ST_ADDR_ID = 0,
  ST_ADDR_SECP256K1 = 1,
  ST_ADDR_ACTOR = 2,
  ST_ADDR_BLS = 3,
  ST_ADDR_DELEGATED = 4,
} st_addr_protocol;

#define ST_ADDR_MAX_BYTES 64 /* the CBOR decoder's limit, as in go-address */
#define ST_ADDR_STR_MAX 116  /* 115 characters + NUL */
#define ST_ADDR_MAX_SUBADDR 54

typedef struct st_address {
  size_t len; /* 0 = undefined */
  uint8_t bytes[ST_ADDR_MAX_BYTES];
} st_address;

st_code st_address_from_id(uint64_t id, st_address *out, st_err *err);
void st_address_from_secp256k1_pubkey(const uint8_t pubkey[65], st_address *out);
void st_address_from_actor_data(const uint8_t *data, size_t len, st_address *out);
void st_address_from_bls_pubkey(const uint8_t pubkey[48], st_address *out);
st_code st_address_from_delegated(uint64_t ns, const uint8_t *sub, size_t len, st_address *out, st_err *err);
/* Binary form (as in CBOR); validates the payload for the protocol. */
st_code st_address_from_bytes(const uint8_t *p, size_t len, st_address *out, st_err *err);

/* Parses "t01024" / "f1..."; *network (optional) gets 't' or 'f'. */
st_code st_address_parse(const char *s, st_address *out, char *network, st_err *err);
/* Writes the string form for network 't' or 'f' into out (ST_ADDR_STR_MAX bytes). */
st_code st_address_format(const st_address *a, char network, char out[ST_ADDR_STR_MAX], st_err *err);

static inline st_addr_protocol st_address_protocol(const st_address *a) { return (st_addr_protocol)a->bytes[0]; }
static inline const uint8_t *st_address_payload(const st_address *a, size_t *len) {
  *len = a->len - 1;
  return a->bytes + 1;
}
/* The id of an ID address. */
st_code st_address_id(const st_address *a, uint64_t *id, st_err *err);
bool st_address_equal(const st_address *a, const st_address *b);
/* For messages: the 't' text of a, or "(bad address)" when it cannot be formatted. */
void st_address_text(const st_address *a, char out[ST_ADDR_STR_MAX]);
const char *st_address_protocol_name(st_addr_protocol p);

#endif
