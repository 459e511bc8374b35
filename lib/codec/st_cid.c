/* st_cid: CIDv1 encode/decode, multibase base32, and the Filecoin commitment prefixes. */
#include "codec/st_cid.h"

#include <string.h>

#include "codec/st_varint.h"
#include "core/st_encoding.h"
#include "crypto/st_hash.h"

void st_cid_of_cbor(const void *data, size_t len, st_cid *out) {
  out->codec = ST_CODEC_DAG_CBOR;
  out->mh_code = ST_MH_BLAKE2B_256;
  out->digest_len = 32;
  st_blake2b_256(data, len, out->digest);
}

void st_cid_of_commitment(const uint8_t comm[32], bool sealed, st_cid *out) {
  out->codec = sealed ? ST_CODEC_FIL_SEALED : ST_CODEC_FIL_UNSEALED;
  out->mh_code = sealed ? ST_MH_POSEIDON_BLS12_381_A1_FC1 : ST_MH_SHA2_256_TRUNC254_PADDED;
  out->digest_len = 32;
  memcpy(out->digest, comm, 32);
}

size_t st_cid_to_bytes(const st_cid *c, uint8_t out[ST_CID_MAX_BYTES]) {
  size_t n = st_uvarint_put(1, out);
  n += st_uvarint_put(c->codec, out + n);
  n += st_uvarint_put(c->mh_code, out + n);
  n += st_uvarint_put(c->digest_len, out + n);
  memcpy(out + n, c->digest, c->digest_len);
  return n + c->digest_len;
}

/* Digest lengths fixed by the multihash table, for the functions we know; 0 = any. */
static size_t known_digest_len(uint64_t code) {
  switch (code) {
    case ST_MH_SHA2_256:
    case ST_MH_SHA2_256_TRUNC254_PADDED:
    case ST_MH_POSEIDON_BLS12_381_A1_FC1:
    case ST_MH_BLAKE2B_256: return 32;
    default: return 0;
  }
}

static st_code from_bytes(const uint8_t *p, size_t len, st_cid *out, size_t *used, st_err *err) {
  if (len >= 2 && p[0] == 0x12 && p[1] == 0x20)
    return st_err_set(err, ST_EINVAL, "CIDv0 is not supported (only CIDv1)");
  size_t off = 0, n;
  uint64_t version, dlen;
  const char *field = "version";
  st_code rc;
  if ((rc = st_uvarint_get(p, len, &version, &n, err))) goto bad_varint;
  off += n;
  if (version != 1)
    return st_err_set(err, ST_EINVAL, "unsupported CID version %llu (only CIDv1)", (unsigned long long)version);
  field = "codec";
  if ((rc = st_uvarint_get(p + off, len - off, &out->codec, &n, err))) goto bad_varint;
  off += n;
  field = "multihash code";
  if ((rc = st_uvarint_get(p + off, len - off, &out->mh_code, &n, err))) goto bad_varint;
  off += n;
  field = "multihash length";
  if ((rc = st_uvarint_get(p + off, len - off, &dlen, &n, err))) goto bad_varint;
  off += n;
  if (dlen > ST_CID_MAX_DIGEST)
    return st_err_set(err, ST_EINVAL, "CID multihash digest of %llu bytes is longer than %d", (unsigned long long)dlen,
                      ST_CID_MAX_DIGEST);
  size_t want = known_digest_len(out->mh_code);
  if (want && dlen != want)
    return st_err_set(err, ST_EINVAL, "CID multihash 0x%llx needs a %zu-byte digest, got %llu",
                      (unsigned long long)out->mh_code, want, (unsigned long long)dlen);
  if (len - off < dlen)
    return st_err_set(err, ST_EINVAL, "CID digest is truncated: %llu bytes declared, %zu present",
                      (unsigned long long)dlen, len - off);
  out->digest_len = (size_t)dlen;
  memcpy(out->digest, p + off, out->digest_len);
  off += out->digest_len;
  if (used) *used = off;
  else if (off != len)
    return st_err_set(err, ST_EINVAL, "%zu unexpected byte%s after the CID", len - off, len - off == 1 ? "" : "s");
  return ST_OK;
bad_varint:
  return st_err_wrap(err, rc, "CID %s at byte %zu", field, off);
}

/* Returns rc, leaving out (and *used) zero when rc is a failure. */
static st_code done(st_code rc, st_cid *out, size_t *used) {
  if (rc) {
    memset(out, 0, sizeof *out);
    if (used) *used = 0;
  }
  return rc;
}

st_code st_cid_from_bytes(const uint8_t *p, size_t len, st_cid *out, size_t *used, st_err *err) {
  return done(from_bytes(p, len, out, used, err), out, used);
}

void st_cid_append_string(st_buf *b, const st_cid *c) {
  uint8_t raw[ST_CID_MAX_BYTES];
  size_t n = st_cid_to_bytes(c, raw);
  st_buf_putc(b, 'b');
  st_base32_append(b, raw, n);
}

void st_cid_to_string(const st_cid *c, char out[ST_CID_STR_MAX]) {
  st_buf b = ST_BUF_INIT;
  st_cid_append_string(&b, c);
  if (b.failed || b.len >= ST_CID_STR_MAX) out[0] = '\0';
  else memcpy(out, b.data, b.len + 1);
  st_buf_free(&b);
}

static st_code parse(const char *s, st_cid *out, st_err *err) {
  size_t len = strlen(s);
  if (len == 0) return st_err_set(err, ST_EINVAL, "empty CID");
  if (len >= ST_CID_STR_MAX) return st_err_set(err, ST_EINVAL, "CID of %zu characters is too long", len);
  if (len == 46 && s[0] == 'Q' && s[1] == 'm')
    return st_err_set(err, ST_EINVAL, "CIDv0 \"%s\" is not supported (only CIDv1)", s);
  if (s[0] != 'b')
    return st_err_set(err, ST_EINVAL, "unsupported multibase prefix '%c' (only base32 'b' CIDs are accepted)",
                      s[0] >= 0x20 && s[0] < 0x7f ? s[0] : '?');
  st_buf raw = ST_BUF_INIT;
  st_code rc = st_base32_decode(s + 1, len - 1, &raw, err);
  if (rc) {
    st_buf_free(&raw);
    return st_err_wrap(err, rc, "invalid CID");
  }
  rc = st_cid_from_bytes(raw.data, raw.len, out, NULL, err);
  st_buf_free(&raw);
  return rc ? st_err_wrap(err, rc, "invalid CID") : ST_OK;
}

st_code st_cid_parse(const char *s, st_cid *out, st_err *err) { return done(parse(s, out, err), out, NULL); }

bool st_cid_equal(const st_cid *a, const st_cid *b) {
  return a->codec == b->codec && a->mh_code == b->mh_code && a->digest_len == b->digest_len &&
         !memcmp(a->digest, b->digest, a->digest_len);
}

const char *st_cid_codec_name(uint64_t codec) {
  switch (codec) {
    case ST_CODEC_RAW: return "raw";
    case ST_CODEC_DAG_CBOR: return "dag-cbor";
    case ST_CODEC_FIL_UNSEALED: return "fil-commitment-unsealed";
    case ST_CODEC_FIL_SEALED: return "fil-commitment-sealed";
    default: return "unknown";
  }
}
