/* st_address: Filecoin address bytes and strings with go-address's validation rules. */
#include "codec/st_address.h"

#include <stdio.h>
#include <string.h>

#include "codec/st_varint.h"
#include "core/st_encoding.h"
#include "crypto/st_hash.h"

#define PAYLOAD_HASH_LEN 20
#define CHECKSUM_LEN 4
#define BLS_PUBKEY_LEN 48
#define MAX_INT64_STR 19
#define MAX_ADDR_STR 115

/* payload may lie in out->bytes; the bytes past the address are zeroed. */
static void set(st_address *out, st_addr_protocol p, const uint8_t *payload, size_t n) {
  memmove(out->bytes + 1, payload, n);
  memset(out->bytes + 1 + n, 0, sizeof out->bytes - 1 - n);
  out->bytes[0] = (uint8_t)p;
  out->len = n + 1;
}

/* Returns rc, leaving out the undefined address (all zero) when rc is a failure. */
static st_code done(st_code rc, st_address *out) {
  if (rc) memset(out, 0, sizeof *out);
  return rc;
}

st_code st_address_from_id(uint64_t id, st_address *out, st_err *err) {
  if (id > (uint64_t)INT64_MAX)
    return done(st_err_set(err, ST_ERANGE, "invalid address payload: IDs must be less than 2^63"), out);
  uint8_t v[ST_UVARINT_MAX];
  set(out, ST_ADDR_ID, v, st_uvarint_put(id, v));
  return ST_OK;
}

void st_address_from_secp256k1_pubkey(const uint8_t pubkey[65], st_address *out) {
  uint8_t h[PAYLOAD_HASH_LEN];
  st_blake2b(h, sizeof h, pubkey, 65);
  set(out, ST_ADDR_SECP256K1, h, sizeof h);
}

void st_address_from_actor_data(const uint8_t *data, size_t len, st_address *out) {
  uint8_t h[PAYLOAD_HASH_LEN];
  st_blake2b(h, sizeof h, data, len);
  set(out, ST_ADDR_ACTOR, h, sizeof h);
}

void st_address_from_bls_pubkey(const uint8_t pubkey[48], st_address *out) {
  set(out, ST_ADDR_BLS, pubkey, BLS_PUBKEY_LEN);
}

st_code st_address_from_delegated(uint64_t ns, const uint8_t *sub, size_t len, st_address *out, st_err *err) {
  if (ns > (uint64_t)INT64_MAX)
    return done(st_err_set(err, ST_ERANGE, "invalid address payload: namespace must be less than 2^63"), out);
  if (len > ST_ADDR_MAX_SUBADDR)
    return done(st_err_set(err, ST_EINVAL, "invalid address length: sub-address of %zu bytes is longer than %d", len,
                           ST_ADDR_MAX_SUBADDR),
                out);
  uint8_t payload[ST_UVARINT_MAX + ST_ADDR_MAX_SUBADDR];
  size_t n = st_uvarint_put(ns, payload);
  memcpy(payload + n, sub, len);
  set(out, ST_ADDR_DELEGATED, payload, n + len);
  return ST_OK;
}

/* go-address newAddress: validates a payload for its protocol. */
static st_code check_payload(uint8_t proto, const uint8_t *p, size_t n, st_err *err) {
  uint64_t v;
  size_t used;
  st_code rc;
  switch (proto) {
    case ST_ADDR_ID:
      if ((rc = st_uvarint_get(p, n, &v, &used, err))) return st_err_wrap(err, rc, "invalid address payload");
      if (used != n)
        return st_err_set(err, ST_EINVAL, "invalid address length: %zu byte%s after the ID varint", n - used,
                          n - used == 1 ? "" : "s");
      return ST_OK;
    case ST_ADDR_SECP256K1:
    case ST_ADDR_ACTOR:
      if (n != PAYLOAD_HASH_LEN)
        return st_err_set(err, ST_EINVAL, "invalid address length: %s payload must be %d bytes, got %zu",
                          st_address_protocol_name(proto), PAYLOAD_HASH_LEN, n);
      return ST_OK;
    case ST_ADDR_BLS:
      if (n != BLS_PUBKEY_LEN)
        return st_err_set(err, ST_EINVAL, "invalid address length: bls payload must be %d bytes, got %zu",
                          BLS_PUBKEY_LEN, n);
      return ST_OK;
    case ST_ADDR_DELEGATED:
      if ((rc = st_uvarint_get(p, n, &v, &used, err)))
        return st_err_wrap(err, rc, "invalid address payload: delegated namespace");
      if (n - used > ST_ADDR_MAX_SUBADDR)
        return st_err_set(err, ST_EINVAL, "invalid address length: sub-address of %zu bytes is longer than %d",
                          n - used, ST_ADDR_MAX_SUBADDR);
      return ST_OK;
    default: return st_err_set(err, ST_EINVAL, "unknown address protocol %u", proto);
  }
}

static st_code from_bytes(const uint8_t *p, size_t len, st_address *out, st_err *err) {
  if (len == 0) return st_err_set(err, ST_EINVAL, "invalid address length: empty address");
  if (len == 1) return st_err_set(err, ST_EINVAL, "invalid address length: protocol byte without payload");
  if (len > ST_ADDR_MAX_BYTES)
    return st_err_set(err, ST_EINVAL, "invalid address length: %zu bytes is more than %d", len, ST_ADDR_MAX_BYTES);
  st_code rc = check_payload(p[0], p + 1, len - 1, err);
  if (rc) return rc;
  set(out, (st_addr_protocol)p[0], p + 1, len - 1);
  return ST_OK;
}

st_code st_address_from_bytes(const uint8_t *p, size_t len, st_address *out, st_err *err) {
  return done(from_bytes(p, len, out, err), out);
}

static void checksum(const uint8_t *bytes, size_t len, uint8_t out[CHECKSUM_LEN]) {
  st_blake2b(out, CHECKSUM_LEN, bytes, len);
}

/* strconv.ParseUint(s, 10, 63) as go-address uses it. */
static st_code parse_u63(const char *s, size_t n, uint64_t *out, const char *what, st_err *err) {
  if (n == 0) return st_err_set(err, ST_EINVAL, "invalid address payload: empty %s", what);
  if (n > MAX_INT64_STR)
    return st_err_set(err, ST_EINVAL, "invalid address length: %s has more than %d digits", what, MAX_INT64_STR);
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return st_err_set(err, ST_EINVAL, "invalid address payload: '%c' in %s at position %zu is not a digit", s[i],
                        what, i + 2);
    v = v * 10 + (uint64_t)(s[i] - '0');
    if (v > (uint64_t)INT64_MAX)
      return st_err_set(err, ST_EINVAL, "invalid address payload: %s must be less than 2^63", what);
  }
  *out = v;
  return ST_OK;
}

static st_code parse(const char *s, st_address *out, char *network, st_err *err) {
  size_t len = strlen(s);
  if (len > MAX_ADDR_STR || len < 3)
    return st_err_set(err, ST_EINVAL, "invalid address length: %zu characters (an address has 3 to %d)", len,
                      MAX_ADDR_STR);
  if (s[0] != 't' && s[0] != 'f')
    return st_err_set(err, ST_EINVAL, "unknown address network '%c' (expected 't' or 'f')",
                      s[0] >= 0x20 && s[0] < 0x7f ? s[0] : '?');
  if (s[1] < '0' || s[1] > '4')
    return st_err_set(err, ST_EINVAL, "unknown address protocol '%c' (expected 0 to 4)",
                      s[1] >= 0x20 && s[1] < 0x7f ? s[1] : '?');
  uint8_t proto = (uint8_t)(s[1] - '0');
  const char *raw = s + 2;
  size_t rawlen = len - 2;
  if (network) *network = s[0];
  if (proto == ST_ADDR_ID) {
    uint64_t id;
    st_code rc = parse_u63(raw, rawlen, &id, "ID", err);
    return rc ? rc : st_address_from_id(id, out, err);
  }

  uint8_t payload[ST_ADDR_MAX_BYTES];
  size_t plen = 0;
  const char *b32 = raw;
  size_t b32len = rawlen;
  if (proto == ST_ADDR_DELEGATED) {
    const char *f = memchr(raw, 'f', rawlen);
    if (!f)
      return st_err_set(err, ST_EINVAL, "invalid address payload: delegated address has no 'f' after the namespace");
    uint64_t ns;
    st_code rc = parse_u63(raw, (size_t)(f - raw), &ns, "namespace", err);
    if (rc) return rc;
    plen = st_uvarint_put(ns, payload);
    b32 = f + 1;
    b32len = rawlen - (size_t)(f - raw) - 1;
  }
  st_buf dec = ST_BUF_INIT;
  st_code rc = st_base32_decode(b32, b32len, &dec, err);
  if (rc) {
    st_buf_free(&dec);
    return st_err_wrap(err, rc, "invalid encoding");
  }
  if (dec.len < CHECKSUM_LEN) {
    st_buf_free(&dec);
    return st_err_set(err, ST_EINVAL,
                      "invalid address length: %zu bytes after base32 decoding, need at least %d for the checksum",
                      dec.len, CHECKSUM_LEN);
  }
  size_t body = dec.len - CHECKSUM_LEN;
  if (plen + body > sizeof payload - 1) {
    st_buf_free(&dec);
    return st_err_set(err, ST_EINVAL, "invalid address length: payload of %zu bytes is too long", plen + body);
  }
  memcpy(payload + plen, dec.data, body);
  plen += body;
  uint8_t cks[CHECKSUM_LEN];
  memcpy(cks, dec.data + body, CHECKSUM_LEN);
  st_buf_free(&dec);

  rc = check_payload(proto, payload, plen, err);
  if (rc) return rc;
  set(out, (st_addr_protocol)proto, payload, plen);
  uint8_t want[CHECKSUM_LEN];
  checksum(out->bytes, out->len, want);
  if (memcmp(want, cks, CHECKSUM_LEN)) return st_err_set(err, ST_EINVAL, "invalid address checksum");
  return ST_OK;
}

st_code st_address_parse(const char *s, st_address *out, char *network, st_err *err) {
  st_code rc = done(parse(s, out, network, err), out);
  if (rc && network) *network = 0;
  return rc;
}

void st_address_text(const st_address *a, char out[ST_ADDR_STR_MAX]) {
  if (st_address_format(a, 't', out, NULL)) snprintf(out, ST_ADDR_STR_MAX, "(bad address)");
}

st_code st_address_format(const st_address *a, char network, char out[ST_ADDR_STR_MAX], st_err *err) {
  memset(out, 0, ST_ADDR_STR_MAX);
  if (network != 't' && network != 'f')
    return st_err_set(err, ST_EINVAL, "unknown address network '%c' (expected 't' or 'f')", network);
  if (a->len < 2) return st_err_set(err, ST_EINVAL, "cannot format an undefined address");
  st_code rc = check_payload(a->bytes[0], a->bytes + 1, a->len - 1, err);
  if (rc) return rc;
  st_buf b = ST_BUF_INIT;
  st_buf_printf(&b, "%c%u", network, a->bytes[0]);
  uint64_t v;
  size_t used = 0;
  if (a->bytes[0] == ST_ADDR_ID) {
    st_uvarint_get(a->bytes + 1, a->len - 1, &v, &used, NULL);
    st_buf_printf(&b, "%llu", (unsigned long long)v);
  } else {
    if (a->bytes[0] == ST_ADDR_DELEGATED) {
      st_uvarint_get(a->bytes + 1, a->len - 1, &v, &used, NULL);
      st_buf_printf(&b, "%lluf", (unsigned long long)v);
    }
    uint8_t tail[ST_ADDR_MAX_BYTES + CHECKSUM_LEN];
    size_t n = a->len - 1 - used;
    memcpy(tail, a->bytes + 1 + used, n);
    checksum(a->bytes, a->len, tail + n);
    st_base32_append(&b, tail, n + CHECKSUM_LEN);
  }
  if (b.failed || b.len >= ST_ADDR_STR_MAX) {
    st_buf_free(&b);
    return st_err_set(err, ST_ENOMEM, "could not format address");
  }
  memcpy(out, b.data, b.len + 1);
  st_buf_free(&b);
  return ST_OK;
}

st_code st_address_id(const st_address *a, uint64_t *id, st_err *err) {
  *id = 0;
  if (a->len < 2 || a->bytes[0] != ST_ADDR_ID) return st_err_set(err, ST_EINVAL, "not an ID address");
  size_t used;
  return st_uvarint_get(a->bytes + 1, a->len - 1, id, &used, err);
}

bool st_address_equal(const st_address *a, const st_address *b) {
  return a->len == b->len && !memcmp(a->bytes, b->bytes, a->len);
}

const char *st_address_protocol_name(st_addr_protocol p) {
  switch (p) {
    case ST_ADDR_ID: return "id";
    case ST_ADDR_SECP256K1: return "secp256k1";
    case ST_ADDR_ACTOR: return "actor";
    case ST_ADDR_BLS: return "bls";
    case ST_ADDR_DELEGATED: return "delegated";
  }
  return "unknown";
}
