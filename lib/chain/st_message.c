/* st_message: Message and SignedMessage in Lotus's CBOR, their CIDs, and secp256k1 signing.
 * Part of st_chain_types (st_chain_types_int.h). */
#include <stdio.h>
#include <string.h>

#include "chain/st_chain_types_int.h"
#include "codec/st_token.h"
#include "crypto/st_secp.h"

/* ================================================================ sizes */

/* Length of a CBOR head for value v. */
static size_t st_ct_head_len(uint64_t v) {
  if (v < 24) return 1;
  if (v <= 0xff) return 2;
  if (v <= 0xffff) return 3;
  if (v <= 0xffffffffu) return 5;
  return 9;
}

static size_t st_ct_int_len(int64_t v) { return st_ct_head_len(v >= 0 ? (uint64_t)v : (uint64_t)(-(v + 1))); }

static size_t st_ct_bigint_len(const mpz_t v) {
  size_t n = st_ct_bigint_payload_len(v);
  return st_ct_head_len(n) + n;
}

static size_t st_ct_bytes_len(size_t n) { return st_ct_head_len(n) + n; }

/* ================================================================ messages */

static const char *const MSG = "message";

void st_message_init(st_message *m) {
  m->version = 0;
  memset(&m->to, 0, sizeof m->to);
  memset(&m->from, 0, sizeof m->from);
  m->nonce = 0;
  mpz_init(m->value);
  m->gas_limit = 0;
  mpz_init(m->gas_fee_cap);
  mpz_init(m->gas_premium);
  m->method = 0;
  m->params.data = NULL;
  m->params.len = 0;
}

void st_message_free(st_message *m) {
  mpz_clear(m->value);
  mpz_clear(m->gas_fee_cap);
  mpz_clear(m->gas_premium);
  st_chain_bytes_free(&m->params);
}

/* Back to zero values, keeping the mpz allocations. */
void st_ct_message_reset(st_message *m) {
  m->version = 0;
  m->to.len = 0;
  m->from.len = 0;
  m->nonce = 0;
  mpz_set_ui(m->value, 0);
  m->gas_limit = 0;
  mpz_set_ui(m->gas_fee_cap, 0);
  mpz_set_ui(m->gas_premium, 0);
  m->method = 0;
  st_chain_bytes_free(&m->params);
}

st_code st_message_copy(st_message *dst, const st_message *src, st_err *err) {
  if (dst == src) return ST_OK;
  dst->version = src->version;
  dst->to = src->to;
  dst->from = src->from;
  dst->nonce = src->nonce;
  mpz_set(dst->value, src->value);
  dst->gas_limit = src->gas_limit;
  mpz_set(dst->gas_fee_cap, src->gas_fee_cap);
  mpz_set(dst->gas_premium, src->gas_premium);
  dst->method = src->method;
  return st_chain_bytes_set(&dst->params, src->params.data, src->params.len, err);
}

st_code st_message_check(const st_message *m, st_err *err) {
  st_code rc;
  if (m->version != 0)
    return st_err_set(err, ST_EINVAL, "message: field Version: must be 0, got %llu", (unsigned long long)m->version);
  if ((rc = st_ct_check_address(&m->to, MSG, "To", err))) return rc;
  if ((rc = st_ct_check_address(&m->from, MSG, "From", err))) return rc;
  if ((rc = st_ct_check_bigint(m->value, true, MSG, "Value", err))) return rc;
  if ((rc = st_ct_check_bigint(m->gas_fee_cap, true, MSG, "GasFeeCap", err))) return rc;
  if ((rc = st_ct_check_bigint(m->gas_premium, true, MSG, "GasPremium", err))) return rc;
  return st_ct_check_bytes(m->params.len, MSG, "Params", err);
}

static void put_message(st_buf *b, const st_message *m) {
  st_cbor_put_array(b, 10);
  st_cbor_put_uint(b, m->version);
  st_ct_put_address(b, &m->to);
  st_ct_put_address(b, &m->from);
  st_cbor_put_uint(b, m->nonce);
  st_cbor_put_bigint(b, m->value);
  st_cbor_put_int(b, m->gas_limit);
  st_cbor_put_bigint(b, m->gas_fee_cap);
  st_cbor_put_bigint(b, m->gas_premium);
  st_cbor_put_uint(b, m->method);
  st_cbor_put_bytes(b, m->params.data, m->params.len);
}

st_code st_message_encode(const st_message *m, st_buf *out, st_err *err) {
  st_code rc = st_message_check(m, err);
  if (rc) return rc;
  put_message(out, m);
  return st_buf_status(out, err);
}

size_t st_message_size(const st_message *m) {
  return 1 + st_ct_head_len(m->version) + st_ct_bytes_len(m->to.len) + st_ct_bytes_len(m->from.len) +
         st_ct_head_len(m->nonce) + st_ct_bigint_len(m->value) + st_ct_int_len(m->gas_limit) +
         st_ct_bigint_len(m->gas_fee_cap) + st_ct_bigint_len(m->gas_premium) + st_ct_head_len(m->method) +
         st_ct_bytes_len(m->params.len);
}

st_code st_message_read(st_cbor_reader *r, st_message *m) {
  st_ct_message_reset(m);
  st_cbor_item it;
  st_code rc = st_cbor_peek(r, &it);
  if (rc) return st_err_wrap(r->err, rc, "message");
  if (it.type == ST_CBOR_ARRAY && it.val == 9)
    return st_err_set(
        r->err, ST_EINVAL,
        "message at offset %zu: expected an array of 10 items, found 9 (the layout before August 2020, with "
        "GasPrice, is not accepted)",
        it.off);
  if ((rc = st_cbor_expect_array(r, 10, "message"))) return rc;
  ST_CT_FIELD(MSG, "Version", st_cbor_read_uint(r, &m->version));
  if (m->version != 0)
    return st_err_set(r->err, ST_EINVAL, "message: field Version: must be 0, got %llu", (unsigned long long)m->version);
  ST_CT_FIELD(MSG, "To", st_address_read(r, &m->to));
  ST_CT_FIELD(MSG, "From", st_address_read(r, &m->from));
  ST_CT_FIELD(MSG, "Nonce", st_cbor_read_uint(r, &m->nonce));
  ST_CT_FIELD(MSG, "Value", st_ct_read_nonneg_bigint(r, m->value));
  ST_CT_FIELD(MSG, "GasLimit", st_cbor_read_int(r, &m->gas_limit));
  ST_CT_FIELD(MSG, "GasFeeCap", st_ct_read_nonneg_bigint(r, m->gas_fee_cap));
  ST_CT_FIELD(MSG, "GasPremium", st_ct_read_nonneg_bigint(r, m->gas_premium));
  ST_CT_FIELD(MSG, "Method", st_cbor_read_uint(r, &m->method));
  ST_CT_FIELD(MSG, "Params", st_ct_read_bytes(r, &m->params));
  return ST_OK;
}

st_code st_message_decode(const uint8_t *p, size_t n, st_message *m, st_err *err) {
  ST_CT_DECODE_WHOLE(st_message_read, MSG, p, n, m, err);
}

static st_code message_encode_v(const void *m, st_buf *b, st_err *err) { return st_message_encode(m, b, err); }

st_code st_message_cid(const st_message *m, st_cid *out, st_err *err) {
  return st_ct_cid_of(message_encode_v, m, out, err);
}

/* ================================================================ signed messages */

void st_signed_message_init(st_signed_message *sm) {
  st_message_init(&sm->message);
  memset(&sm->signature, 0, sizeof sm->signature);
}

void st_signed_message_free(st_signed_message *sm) { st_message_free(&sm->message); }

st_code st_signed_message_encode(const st_signed_message *sm, st_buf *out, st_err *err) {
  st_code rc = st_message_check(&sm->message, err);
  if (rc) return st_err_wrap(err, rc, "signed message");
  if ((rc = st_ct_check_signature(&sm->signature, err))) return st_err_wrap(err, rc, "signed message: field Signature");
  st_cbor_put_array(out, 2);
  put_message(out, &sm->message);
  st_ct_put_signature(out, &sm->signature);
  return st_buf_status(out, err);
}

st_code st_signed_message_read(st_cbor_reader *r, st_signed_message *sm) {
  st_code rc = st_cbor_expect_array(r, 2, "signed message");
  if (rc) return rc;
  if ((rc = st_message_read(r, &sm->message))) return st_err_wrap(r->err, rc, "signed message");
  ST_CT_FIELD("signed message", "Signature", st_signature_read(r, &sm->signature));
  return ST_OK;
}

st_code st_signed_message_decode(const uint8_t *p, size_t n, st_signed_message *sm, st_err *err) {
  ST_CT_DECODE_WHOLE(st_signed_message_read, "signed message", p, n, sm, err);
}

static st_code signed_encode_v(const void *sm, st_buf *b, st_err *err) { return st_signed_message_encode(sm, b, err); }

st_code st_signed_message_cid(const st_signed_message *sm, st_cid *out, st_err *err) {
  if (sm->signature.type == ST_SIG_BLS) return st_message_cid(&sm->message, out, err);
  return st_ct_cid_of(signed_encode_v, sm, out, err);
}

/* The bytes a message signer signs: the unsigned CID in binary. */
static st_code signing_bytes(const st_message *m, uint8_t out[ST_CID_MAX_BYTES], size_t *n, st_err *err) {
  st_cid c;
  st_code rc = st_message_cid(m, &c, err);
  if (rc) return rc;
  *n = st_cid_to_bytes(&c, out);
  return ST_OK;
}

static void format_addr(const st_address *a, char out[ST_ADDR_STR_MAX]) {
  if (a->len == 0 || st_address_format(a, 't', out, NULL)) snprintf(out, ST_ADDR_STR_MAX, "<empty>");
}

st_code st_signed_message_sign_secp(st_signed_message *sm, const uint8_t sk[32], st_err *err) {
  st_address signer;
  st_code rc = st_secp_address(sk, &signer, err);
  if (rc) return rc;
  if (!st_address_equal(&signer, &sm->message.from)) {
    char want[ST_ADDR_STR_MAX], got[ST_ADDR_STR_MAX];
    format_addr(&sm->message.from, want);
    format_addr(&signer, got);
    return st_err_set(err, ST_EINVAL, "cannot sign: the key's address %s is not the message's From %s", got, want);
  }
  uint8_t msg[ST_CID_MAX_BYTES];
  size_t n;
  if ((rc = signing_bytes(&sm->message, msg, &n, err))) return rc;
  uint8_t sig[ST_SECP_SIG_LEN];
  if ((rc = st_secp_sign(sk, msg, n, sig, err))) return rc;
  return st_signature_set(&sm->signature, ST_SIG_SECP256K1, sig, sizeof sig, err);
}

st_code st_signed_message_verify(const st_signed_message *sm, st_err *err) {
  const st_signature *s = &sm->signature;
  if (s->type != ST_SIG_SECP256K1)
    return st_err_set(err, ST_EINVAL, "cannot verify a %s signature (only secp256k1 is supported)",
                      st_sig_type_name(s->type));
  char from[ST_ADDR_STR_MAX];
  format_addr(&sm->message.from, from);
  if (s->len != ST_SECP_SIG_LEN)
    return st_err_set(err, ST_ECRYPTO, "signature does not match From %s: a secp256k1 signature has %d bytes, got %zu",
                      from, ST_SECP_SIG_LEN, s->len);
  uint8_t msg[ST_CID_MAX_BYTES];
  size_t n;
  st_code rc = signing_bytes(&sm->message, msg, &n, err);
  if (rc) return rc;
  if ((rc = st_secp_verify(s->data, msg, n, &sm->message.from, err)))
    return st_err_wrap(err, rc, "signature does not match From %s", from);
  return ST_OK;
}
