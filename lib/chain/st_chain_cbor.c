/* st_chain_cbor: the chain types' shared CBOR rules (cbor-gen's limits, field checks and
 * readers), owned bytes, signatures, and the small types: receipts and actors. Part of
 * st_chain_types (st_chain_types_int.h). */
#include <stdlib.h>
#include <string.h>

#include "chain/st_chain_types_int.h"
#include "codec/st_token.h"

/* ================================================================ owned bytes */

st_code st_chain_bytes_set(st_chain_bytes *b, const void *p, size_t n, st_err *err) {
  st_chain_bytes_free(b);
  if (n == 0) return ST_OK;
  b->data = malloc(n);
  if (!b->data) return st_err_set(err, ST_ENOMEM, "out of memory copying %zu bytes", n);
  memcpy(b->data, p, n);
  b->len = n;
  return ST_OK;
}

void st_chain_bytes_free(st_chain_bytes *b) {
  free(b->data);
  b->data = NULL;
  b->len = 0;
}

/* ================================================================ field rules */

/* Bytes of a big integer's CBOR payload: empty for zero, else sign byte + magnitude. */
size_t st_ct_bigint_payload_len(const mpz_t v) { return mpz_sgn(v) == 0 ? 0 : 1 + (mpz_sizeinbase(v, 2) + 7) / 8; }

st_code st_ct_check_bigint(const mpz_t v, bool nonneg, const char *what, const char *field, st_err *err) {
  if (nonneg && mpz_sgn(v) < 0) return st_err_set(err, ST_EINVAL, "%s: field %s: must not be negative", what, field);
  if (st_ct_bigint_payload_len(v) > ST_BIGINT_MAX_BYTES)
    return st_err_set(err, ST_EINVAL, "%s: field %s: big integer of %zu bytes is longer than %d", what, field,
                      st_ct_bigint_payload_len(v), ST_BIGINT_MAX_BYTES);
  return ST_OK;
}

st_code st_ct_check_bytes(size_t n, const char *what, const char *field, st_err *err) {
  if (n > ST_CHAIN_MAX_BYTES)
    return st_err_set(err, ST_EINVAL, "%s: field %s: %zu bytes is longer than %u", what, field, n, ST_CHAIN_MAX_BYTES);
  return ST_OK;
}

st_code st_ct_check_array(size_t n, const char *what, const char *field, st_err *err) {
  if (n > ST_CHAIN_MAX_ARRAY)
    return st_err_set(err, ST_EINVAL, "%s: field %s: %zu items is more than %d", what, field, n, ST_CHAIN_MAX_ARRAY);
  return ST_OK;
}

st_code st_ct_check_address(const st_address *a, const char *what, const char *field, st_err *err) {
  if (a->len == 0) return st_err_set(err, ST_EINVAL, "%s: field %s: undefined address", what, field);
  return ST_OK;
}

void st_ct_put_address(st_buf *b, const st_address *a) { st_cbor_put_bytes(b, a->bytes, a->len); }

/* A byte string of at most max bytes (pointing into the input); *off is where it starts. */
static st_code read_bytes_at(st_cbor_reader *r, size_t max, const uint8_t **p, size_t *n, size_t *off) {
  st_cbor_item it;
  st_code rc = st_cbor_peek(r, &it);
  if (rc) return rc;
  *off = it.off;
  if (it.type == ST_CBOR_BYTES && it.val > max)
    return st_err_set(r->err, ST_EINVAL, "byte string of %llu bytes at offset %zu is longer than %zu",
                      (unsigned long long)it.val, it.off, max);
  return st_cbor_read_bytes(r, p, n);
}

/* A byte string of at most ST_CHAIN_MAX_BYTES, copied into out. */
st_code st_ct_read_bytes(st_cbor_reader *r, st_chain_bytes *out) {
  const uint8_t *p;
  size_t n, off;
  st_code rc = read_bytes_at(r, ST_CHAIN_MAX_BYTES, &p, &n, &off);
  return rc ? rc : st_chain_bytes_set(out, p, n, r->err);
}

st_code st_address_read(st_cbor_reader *r, st_address *a) {
  const uint8_t *p;
  size_t n, off;
  st_code rc = read_bytes_at(r, SIZE_MAX, &p, &n, &off);
  if (!rc && (rc = st_address_from_bytes(p, n, a, r->err)))
    return st_err_wrap(r->err, rc, "address at offset %zu", off);
  return rc;
}

/* An array header with at most ST_CHAIN_MAX_ARRAY items. */
st_code st_ct_read_array(st_cbor_reader *r, size_t *n) {
  st_cbor_item it;
  st_code rc = st_cbor_peek(r, &it);
  if (rc) return rc;
  uint64_t v;
  if ((rc = st_cbor_read_array(r, &v))) return rc;
  if (v > ST_CHAIN_MAX_ARRAY)
    return st_err_set(r->err, ST_EINVAL, "array of %llu items at offset %zu is longer than %d", (unsigned long long)v,
                      it.off, ST_CHAIN_MAX_ARRAY);
  *n = (size_t)v;
  return ST_OK;
}

st_code st_ct_read_nonneg_bigint(st_cbor_reader *r, mpz_t v) {
  size_t off = r->off;
  st_code rc = st_cbor_read_bigint(r, v);
  if (rc) return rc;
  if (mpz_sgn(v) < 0) return st_err_set(r->err, ST_EINVAL, "must not be negative (big integer at offset %zu)", off);
  return ST_OK;
}

/* Encodes with fn into a scratch buffer and hashes. */
st_code st_ct_cid_of(st_code (*fn)(const void *, st_buf *, st_err *), const void *obj, st_cid *out, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_code rc = fn(obj, &b, err);
  if (!rc) st_cid_of_cbor(b.data, b.len, out);
  st_buf_free(&b);
  return rc;
}

/* ================================================================ bitfields */

st_code st_chain_read_bitfield(st_cbor_reader *r, st_bitfield *bf) {
  const uint8_t *p;
  size_t n;
  st_code code = st_cbor_read_bytes(r, &p, &n);
  return code ? code : st_bitfield_decode(p, n, bf, r->err);
}

void st_chain_put_bitfield(st_buf *b, const st_bitfield *bf) {
  st_buf tmp = ST_BUF_INIT;
  if (st_bitfield_encode(bf, &tmp, NULL)) tmp.failed = true;
  st_cbor_put_bytes(b, tmp.data, tmp.len);
  if (tmp.failed) b->failed = true;
  st_buf_free(&tmp);
}

/* ================================================================ signatures */

const char *st_sig_type_name(st_sig_type t) {
  switch (t) {
    case ST_SIG_SECP256K1: return "secp256k1";
    case ST_SIG_BLS: return "bls";
    case ST_SIG_DELEGATED: return "delegated";
  }
  return "unknown";
}

bool st_ct_sig_type_ok(int t) { return t == ST_SIG_SECP256K1 || t == ST_SIG_BLS || t == ST_SIG_DELEGATED; }

st_code st_signature_set(st_signature *s, st_sig_type type, const void *data, size_t len, st_err *err) {
  if (!st_ct_sig_type_ok((int)type))
    return st_err_set(err, ST_EINVAL, "signature type %d is not 1 (secp256k1), 2 (bls) or 3 (delegated)", (int)type);
  if (len > sizeof s->data)
    return st_err_set(err, ST_EINVAL, "signature of %zu bytes is longer than %zu", len, sizeof s->data);
  s->type = type;
  s->len = len;
  if (len) memcpy(s->data, data, len);
  return ST_OK;
}

st_code st_ct_check_signature(const st_signature *s, st_err *err) {
  if (!st_ct_sig_type_ok((int)s->type))
    return st_err_set(err, ST_EINVAL, "signature type %d is not 1 (secp256k1), 2 (bls) or 3 (delegated)", (int)s->type);
  if (s->len > sizeof s->data)
    return st_err_set(err, ST_EINVAL, "signature of %zu bytes is longer than %zu", s->len, sizeof s->data);
  return ST_OK;
}

void st_ct_put_signature(st_buf *b, const st_signature *s) {
  uint8_t tmp[ST_SIG_MAX_LEN];
  tmp[0] = (uint8_t)s->type;
  memcpy(tmp + 1, s->data, s->len);
  st_cbor_put_bytes(b, tmp, s->len + 1);
}

st_code st_signature_encode(const st_signature *s, st_buf *out, st_err *err) {
  st_code rc = st_ct_check_signature(s, err);
  if (rc) return rc;
  st_ct_put_signature(out, s);
  return st_buf_status(out, err);
}

st_code st_signature_read(st_cbor_reader *r, st_signature *s) {
  const uint8_t *p;
  size_t n, off;
  st_code rc = read_bytes_at(r, SIZE_MAX, &p, &n, &off);
  if (rc) return rc;
  if (n == 0) return st_err_set(r->err, ST_EINVAL, "signature at offset %zu is an empty byte string", off);
  if (n > ST_SIG_MAX_LEN)
    return st_err_set(r->err, ST_EINVAL, "signature at offset %zu has %zu bytes, more than %d", off, n, ST_SIG_MAX_LEN);
  if (!st_ct_sig_type_ok(p[0]))
    return st_err_set(r->err, ST_EINVAL, "signature at offset %zu has unknown type %u", off, p[0]);
  s->type = (st_sig_type)p[0];
  s->len = n - 1;
  memcpy(s->data, p + 1, n - 1);
  return ST_OK;
}

/* ================================================================ receipts and actors */

static const char *const RCPT = "receipt";
static const char *const ACTOR = "actor";

void st_receipt_init(st_receipt *rc) { memset(rc, 0, sizeof *rc); }
void st_receipt_free(st_receipt *rc) { st_chain_bytes_free(&rc->ret); }

st_code st_receipt_encode(const st_receipt *rc, st_buf *out, st_err *err) {
  st_code c = st_ct_check_bytes(rc->ret.len, RCPT, "Return", err);
  if (c) return c;
  st_cbor_put_array(out, 3);
  st_cbor_put_int(out, rc->exit_code);
  st_cbor_put_bytes(out, rc->ret.data, rc->ret.len);
  st_cbor_put_int(out, rc->gas_used);
  return st_buf_status(out, err);
}

st_code st_receipt_read(st_cbor_reader *r, st_receipt *rc) {
  st_receipt_free(rc);
  st_receipt_init(rc);
  st_code c = st_cbor_expect_array(r, 3, "receipt");
  if (c) return c;
  ST_CT_FIELD(RCPT, "ExitCode", st_cbor_read_int(r, &rc->exit_code));
  ST_CT_FIELD(RCPT, "Return", st_ct_read_bytes(r, &rc->ret));
  ST_CT_FIELD(RCPT, "GasUsed", st_cbor_read_int(r, &rc->gas_used));
  return ST_OK;
}

st_code st_receipt_decode(const uint8_t *p, size_t n, st_receipt *rc, st_err *err) {
  ST_CT_DECODE_WHOLE(st_receipt_read, RCPT, p, n, rc, err);
}

void st_actor_init(st_actor *a) {
  memset(a, 0, sizeof *a);
  mpz_init(a->balance);
}

void st_actor_free(st_actor *a) { mpz_clear(a->balance); }

st_code st_actor_encode(const st_actor *a, st_buf *out, st_err *err) {
  st_code rc = st_ct_check_bigint(a->balance, false, ACTOR, "Balance", err);
  if (rc) return rc;
  st_cbor_put_array(out, 4);
  st_cbor_put_cid(out, &a->code);
  st_cbor_put_cid(out, &a->head);
  st_cbor_put_uint(out, a->nonce);
  st_cbor_put_bigint(out, a->balance);
  return st_buf_status(out, err);
}

st_code st_actor_read(st_cbor_reader *r, st_actor *a) {
  st_code rc = st_cbor_expect_array(r, 4, "actor");
  if (rc) return rc;
  ST_CT_FIELD(ACTOR, "Code", st_cbor_read_cid(r, &a->code));
  ST_CT_FIELD(ACTOR, "Head", st_cbor_read_cid(r, &a->head));
  ST_CT_FIELD(ACTOR, "Nonce", st_cbor_read_uint(r, &a->nonce));
  ST_CT_FIELD(ACTOR, "Balance", st_cbor_read_bigint(r, a->balance));
  return ST_OK;
}

st_code st_actor_decode(const uint8_t *p, size_t n, st_actor *a, st_err *err) {
  ST_CT_DECODE_WHOLE(st_actor_read, ACTOR, p, n, a, err);
}
