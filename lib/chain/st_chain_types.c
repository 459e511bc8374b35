/* st_chain_types: Lotus's chain objects in CBOR and JSON. Hand-written against cbor-gen's
 * output (lotus chain/types/cbor_gen.go) because the CIDs of these bytes are the chain; every
 * decoder is strict so that accepted input re-encodes to itself (fuzz/fuzz_chain_types.c). */
#include "chain/st_chain_types.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec/st_token.h"
#include "core/st_encoding.h"
#include "core/st_json.h"
#include "crypto/st_hash.h"
#include "crypto/st_secp.h"

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

/* ================================================================ CBOR helpers */

/* Length of a CBOR head for value v. */
static size_t head_len(uint64_t v) {
  if (v < 24) return 1;
  if (v <= 0xff) return 2;
  if (v <= 0xffff) return 3;
  if (v <= 0xffffffffu) return 5;
  return 9;
}

static size_t int_len(int64_t v) { return head_len(v >= 0 ? (uint64_t)v : (uint64_t)(-(v + 1))); }

/* Bytes of a big integer's CBOR payload: empty for zero, else sign byte + magnitude. */
static size_t bigint_payload_len(const mpz_t v) { return mpz_sgn(v) == 0 ? 0 : 1 + (mpz_sizeinbase(v, 2) + 7) / 8; }

static size_t bigint_len(const mpz_t v) {
  size_t n = bigint_payload_len(v);
  return head_len(n) + n;
}

static size_t bytes_len(size_t n) { return head_len(n) + n; }

static st_code check_bigint(const mpz_t v, bool nonneg, const char *what, const char *field, st_err *err) {
  if (nonneg && mpz_sgn(v) < 0) return st_err_set(err, ST_EINVAL, "%s: field %s: must not be negative", what, field);
  if (bigint_payload_len(v) > ST_BIGINT_MAX_BYTES)
    return st_err_set(err, ST_EINVAL, "%s: field %s: big integer of %zu bytes is longer than %d", what, field,
                      bigint_payload_len(v), ST_BIGINT_MAX_BYTES);
  return ST_OK;
}

static st_code check_bytes(size_t n, const char *what, const char *field, st_err *err) {
  if (n > ST_CHAIN_MAX_BYTES)
    return st_err_set(err, ST_EINVAL, "%s: field %s: %zu bytes is longer than %u", what, field, n, ST_CHAIN_MAX_BYTES);
  return ST_OK;
}

static st_code check_array(size_t n, const char *what, const char *field, st_err *err) {
  if (n > ST_CHAIN_MAX_ARRAY)
    return st_err_set(err, ST_EINVAL, "%s: field %s: %zu items is more than %d", what, field, n, ST_CHAIN_MAX_ARRAY);
  return ST_OK;
}

static st_code check_address(const st_address *a, const char *what, const char *field, st_err *err) {
  if (a->len == 0) return st_err_set(err, ST_EINVAL, "%s: field %s: undefined address", what, field);
  return ST_OK;
}

static void put_address(st_buf *b, const st_address *a) { st_cbor_put_bytes(b, a->bytes, a->len); }

/* A byte string of at most ST_CHAIN_MAX_BYTES, copied into out. */
static st_code read_owned_bytes(st_cbor_reader *r, st_chain_bytes *out) {
  st_cbor_item it;
  st_code rc = st_cbor_peek(r, &it);
  if (rc) return rc;
  if (it.type == ST_CBOR_BYTES && it.val > ST_CHAIN_MAX_BYTES)
    return st_err_set(r->err, ST_EINVAL, "byte string of %llu bytes at offset %zu is longer than %u",
                      (unsigned long long)it.val, it.off, ST_CHAIN_MAX_BYTES);
  const uint8_t *p;
  size_t n;
  if ((rc = st_cbor_read_bytes(r, &p, &n))) return rc;
  return st_chain_bytes_set(out, p, n, r->err);
}

st_code st_address_read(st_cbor_reader *r, st_address *a) {
  st_cbor_item it;
  st_code rc = st_cbor_peek(r, &it);
  if (rc) return rc;
  const uint8_t *p;
  size_t n;
  if ((rc = st_cbor_read_bytes(r, &p, &n))) return rc;
  if ((rc = st_address_from_bytes(p, n, a, r->err))) return st_err_wrap(r->err, rc, "address at offset %zu", it.off);
  return ST_OK;
}

/* An array header with at most ST_CHAIN_MAX_ARRAY items. */
static st_code read_array_header(st_cbor_reader *r, size_t *n) {
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

static st_code read_nonneg_bigint(st_cbor_reader *r, mpz_t v) {
  size_t off = r->off;
  st_code rc = st_cbor_read_bigint(r, v);
  if (rc) return rc;
  if (mpz_sgn(v) < 0) return st_err_set(r->err, ST_EINVAL, "must not be negative (big integer at offset %zu)", off);
  return ST_OK;
}

/* Runs a field reader; on failure prefixes "<what>: field <name>". */
#define FIELD(what, name, expr)                                               \
  do {                                                                        \
    st_code rc_ = (expr);                                                     \
    if (rc_) return st_err_wrap(r->err, rc_, "%s: field %s", (what), (name)); \
  } while (0)

/* Decodes one whole-buffer item with reader function fn. */
#define DECODE_WHOLE(fn, what, p, n, obj, err)                                             \
  do {                                                                                     \
    st_cbor_reader r_;                                                                     \
    st_cbor_reader_init(&r_, (p), (n), (err));                                             \
    st_code rc_ = fn(&r_, (obj));                                                          \
    if (!rc_ && (rc_ = st_cbor_finish(&r_))) return st_err_wrap((err), rc_, "%s", (what)); \
    return rc_;                                                                            \
  } while (0)

static st_code buf_done(st_buf *b, st_err *err) { return st_buf_status(b, err); }

/* ================================================================ signatures */

const char *st_sig_type_name(st_sig_type t) {
  switch (t) {
    case ST_SIG_SECP256K1: return "secp256k1";
    case ST_SIG_BLS: return "bls";
    case ST_SIG_DELEGATED: return "delegated";
  }
  return "unknown";
}

static bool sig_type_ok(int t) { return t == ST_SIG_SECP256K1 || t == ST_SIG_BLS || t == ST_SIG_DELEGATED; }

st_code st_signature_set(st_signature *s, st_sig_type type, const void *data, size_t len, st_err *err) {
  if (!sig_type_ok((int)type))
    return st_err_set(err, ST_EINVAL, "signature type %d is not 1 (secp256k1), 2 (bls) or 3 (delegated)", (int)type);
  if (len > sizeof s->data)
    return st_err_set(err, ST_EINVAL, "signature of %zu bytes is longer than %zu", len, sizeof s->data);
  s->type = type;
  s->len = len;
  if (len) memcpy(s->data, data, len);
  return ST_OK;
}

static st_code check_signature(const st_signature *s, st_err *err) {
  if (!sig_type_ok((int)s->type))
    return st_err_set(err, ST_EINVAL, "signature type %d is not 1 (secp256k1), 2 (bls) or 3 (delegated)", (int)s->type);
  if (s->len > sizeof s->data)
    return st_err_set(err, ST_EINVAL, "signature of %zu bytes is longer than %zu", s->len, sizeof s->data);
  return ST_OK;
}

static void put_signature(st_buf *b, const st_signature *s) {
  uint8_t tmp[ST_SIG_MAX_LEN];
  tmp[0] = (uint8_t)s->type;
  memcpy(tmp + 1, s->data, s->len);
  st_cbor_put_bytes(b, tmp, s->len + 1);
}

st_code st_signature_encode(const st_signature *s, st_buf *out, st_err *err) {
  st_code rc = check_signature(s, err);
  if (rc) return rc;
  put_signature(out, s);
  return buf_done(out, err);
}

st_code st_signature_read(st_cbor_reader *r, st_signature *s) {
  st_cbor_item it;
  st_code rc = st_cbor_peek(r, &it);
  if (rc) return rc;
  const uint8_t *p;
  size_t n;
  if ((rc = st_cbor_read_bytes(r, &p, &n))) return rc;
  if (n == 0) return st_err_set(r->err, ST_EINVAL, "signature at offset %zu is an empty byte string", it.off);
  if (n > ST_SIG_MAX_LEN)
    return st_err_set(r->err, ST_EINVAL, "signature at offset %zu has %zu bytes, more than %d", it.off, n,
                      ST_SIG_MAX_LEN);
  if (!sig_type_ok(p[0]))
    return st_err_set(r->err, ST_EINVAL, "signature at offset %zu has unknown type %u", it.off, p[0]);
  s->type = (st_sig_type)p[0];
  s->len = n - 1;
  memcpy(s->data, p + 1, n - 1);
  return ST_OK;
}

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
static void message_reset(st_message *m) {
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
  if ((rc = check_address(&m->to, MSG, "To", err))) return rc;
  if ((rc = check_address(&m->from, MSG, "From", err))) return rc;
  if ((rc = check_bigint(m->value, true, MSG, "Value", err))) return rc;
  if ((rc = check_bigint(m->gas_fee_cap, true, MSG, "GasFeeCap", err))) return rc;
  if ((rc = check_bigint(m->gas_premium, true, MSG, "GasPremium", err))) return rc;
  return check_bytes(m->params.len, MSG, "Params", err);
}

static void put_message(st_buf *b, const st_message *m) {
  st_cbor_put_array(b, 10);
  st_cbor_put_uint(b, m->version);
  put_address(b, &m->to);
  put_address(b, &m->from);
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
  return buf_done(out, err);
}

size_t st_message_size(const st_message *m) {
  return 1 + head_len(m->version) + bytes_len(m->to.len) + bytes_len(m->from.len) + head_len(m->nonce) +
         bigint_len(m->value) + int_len(m->gas_limit) + bigint_len(m->gas_fee_cap) + bigint_len(m->gas_premium) +
         head_len(m->method) + bytes_len(m->params.len);
}

st_code st_message_read(st_cbor_reader *r, st_message *m) {
  message_reset(m);
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
  FIELD(MSG, "Version", st_cbor_read_uint(r, &m->version));
  if (m->version != 0)
    return st_err_set(r->err, ST_EINVAL, "message: field Version: must be 0, got %llu", (unsigned long long)m->version);
  FIELD(MSG, "To", st_address_read(r, &m->to));
  FIELD(MSG, "From", st_address_read(r, &m->from));
  FIELD(MSG, "Nonce", st_cbor_read_uint(r, &m->nonce));
  FIELD(MSG, "Value", read_nonneg_bigint(r, m->value));
  FIELD(MSG, "GasLimit", st_cbor_read_int(r, &m->gas_limit));
  FIELD(MSG, "GasFeeCap", read_nonneg_bigint(r, m->gas_fee_cap));
  FIELD(MSG, "GasPremium", read_nonneg_bigint(r, m->gas_premium));
  FIELD(MSG, "Method", st_cbor_read_uint(r, &m->method));
  FIELD(MSG, "Params", read_owned_bytes(r, &m->params));
  return ST_OK;
}

st_code st_message_decode(const uint8_t *p, size_t n, st_message *m, st_err *err) {
  DECODE_WHOLE(st_message_read, MSG, p, n, m, err);
}

/* Encodes with fn into a scratch buffer and hashes. */
static st_code cid_of(st_code (*fn)(const void *, st_buf *, st_err *), const void *obj, st_cid *out, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_code rc = fn(obj, &b, err);
  if (!rc) st_cid_of_cbor(b.data, b.len, out);
  st_buf_free(&b);
  return rc;
}

static st_code message_encode_v(const void *m, st_buf *b, st_err *err) { return st_message_encode(m, b, err); }

st_code st_message_cid(const st_message *m, st_cid *out, st_err *err) { return cid_of(message_encode_v, m, out, err); }

/* ================================================================ signed messages */

void st_signed_message_init(st_signed_message *sm) {
  st_message_init(&sm->message);
  memset(&sm->signature, 0, sizeof sm->signature);
}

void st_signed_message_free(st_signed_message *sm) { st_message_free(&sm->message); }

st_code st_signed_message_encode(const st_signed_message *sm, st_buf *out, st_err *err) {
  st_code rc = st_message_check(&sm->message, err);
  if (rc) return st_err_wrap(err, rc, "signed message");
  if ((rc = check_signature(&sm->signature, err))) return st_err_wrap(err, rc, "signed message: field Signature");
  st_cbor_put_array(out, 2);
  put_message(out, &sm->message);
  put_signature(out, &sm->signature);
  return buf_done(out, err);
}

st_code st_signed_message_read(st_cbor_reader *r, st_signed_message *sm) {
  st_code rc = st_cbor_expect_array(r, 2, "signed message");
  if (rc) return rc;
  if ((rc = st_message_read(r, &sm->message))) return st_err_wrap(r->err, rc, "signed message");
  FIELD("signed message", "Signature", st_signature_read(r, &sm->signature));
  return ST_OK;
}

st_code st_signed_message_decode(const uint8_t *p, size_t n, st_signed_message *sm, st_err *err) {
  DECODE_WHOLE(st_signed_message_read, "signed message", p, n, sm, err);
}

static st_code signed_encode_v(const void *sm, st_buf *b, st_err *err) { return st_signed_message_encode(sm, b, err); }

st_code st_signed_message_cid(const st_signed_message *sm, st_cid *out, st_err *err) {
  if (sm->signature.type == ST_SIG_BLS) return st_message_cid(&sm->message, out, err);
  return cid_of(signed_encode_v, sm, out, err);
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

/* ================================================================ block headers */

static const char *const BH = "block header";

void st_block_header_init(st_block_header *h) {
  memset(h, 0, sizeof *h);
  mpz_init(h->parent_weight);
  mpz_init(h->parent_base_fee);
}

/* Frees the owned parts and leaves zero values (mpz kept). */
static void header_reset(st_block_header *h) {
  st_chain_bytes_free(&h->ticket_vrf_proof);
  st_chain_bytes_free(&h->election_vrf_proof);
  for (size_t i = 0; i < h->n_beacon_entries; i++) st_chain_bytes_free(&h->beacon_entries[i].data);
  free(h->beacon_entries);
  for (size_t i = 0; i < h->n_win_post_proof; i++) st_chain_bytes_free(&h->win_post_proof[i].proof_bytes);
  free(h->win_post_proof);
  free(h->parents);
  __mpz_struct w = h->parent_weight[0], f = h->parent_base_fee[0]; /* the GMP allocations survive */
  memset(h, 0, sizeof *h);
  h->parent_weight[0] = w;
  h->parent_base_fee[0] = f;
  mpz_set_ui(h->parent_weight, 0);
  mpz_set_ui(h->parent_base_fee, 0);
}

void st_block_header_free(st_block_header *h) {
  header_reset(h);
  mpz_clear(h->parent_weight);
  mpz_clear(h->parent_base_fee);
}

static st_code copy_cids(st_cid **dst, size_t *dn, const st_cid *src, size_t n, st_err *err) {
  st_cid *p = NULL;
  if (n) {
    p = malloc(n * sizeof *p);
    if (!p) return st_err_set(err, ST_ENOMEM, "out of memory for %zu CIDs", n);
    memcpy(p, src, n * sizeof *p);
  }
  free(*dst);
  *dst = p;
  *dn = n;
  return ST_OK;
}

st_code st_block_header_set_parents(st_block_header *h, const st_cid *parents, size_t n, st_err *err) {
  return copy_cids(&h->parents, &h->n_parents, parents, n, err);
}

/* Grows an array of items of size sz by one zeroed item. */
static void *grow_one(void *arr, size_t n, size_t sz) {
  void *p = realloc(arr, (n + 1) * sz);
  if (p) memset((char *)p + n * sz, 0, sz);
  return p;
}

st_code st_block_header_add_beacon(st_block_header *h, uint64_t round, const void *data, size_t len, st_err *err) {
  st_beacon_entry *p = grow_one(h->beacon_entries, h->n_beacon_entries, sizeof *p);
  if (!p) return st_err_set(err, ST_ENOMEM, "out of memory adding a beacon entry");
  h->beacon_entries = p;
  st_beacon_entry *e = &p[h->n_beacon_entries];
  e->round = round;
  st_code rc = st_chain_bytes_set(&e->data, data, len, err);
  if (!rc) h->n_beacon_entries++;
  return rc;
}

st_code st_block_header_add_post_proof(st_block_header *h, int64_t post_proof, const void *proof, size_t len,
                                       st_err *err) {
  st_post_proof *p = grow_one(h->win_post_proof, h->n_win_post_proof, sizeof *p);
  if (!p) return st_err_set(err, ST_ENOMEM, "out of memory adding a PoSt proof");
  h->win_post_proof = p;
  st_post_proof *e = &p[h->n_win_post_proof];
  e->post_proof = post_proof;
  st_code rc = st_chain_bytes_set(&e->proof_bytes, proof, len, err);
  if (!rc) h->n_win_post_proof++;
  return rc;
}

static st_code header_check(const st_block_header *h, bool with_sig, st_err *err) {
  st_code rc;
  if ((rc = check_address(&h->miner, BH, "Miner", err))) return rc;
  if (h->has_ticket && (rc = check_bytes(h->ticket_vrf_proof.len, BH, "Ticket.VRFProof", err))) return rc;
  if (h->has_election_proof && (rc = check_bytes(h->election_vrf_proof.len, BH, "ElectionProof.VRFProof", err)))
    return rc;
  if ((rc = check_array(h->n_beacon_entries, BH, "BeaconEntries", err))) return rc;
  for (size_t i = 0; i < h->n_beacon_entries; i++)
    if ((rc = check_bytes(h->beacon_entries[i].data.len, BH, "BeaconEntries.Data", err))) return rc;
  if ((rc = check_array(h->n_win_post_proof, BH, "WinPoStProof", err))) return rc;
  for (size_t i = 0; i < h->n_win_post_proof; i++)
    if ((rc = check_bytes(h->win_post_proof[i].proof_bytes.len, BH, "WinPoStProof.ProofBytes", err))) return rc;
  if ((rc = check_array(h->n_parents, BH, "Parents", err))) return rc;
  if ((rc = check_bigint(h->parent_weight, false, BH, "ParentWeight", err))) return rc;
  if (h->has_bls_aggregate && (rc = check_signature(&h->bls_aggregate, err)))
    return st_err_wrap(err, rc, "block header: field BLSAggregate");
  if (with_sig && h->has_block_sig && (rc = check_signature(&h->block_sig, err)))
    return st_err_wrap(err, rc, "block header: field BlockSig");
  return check_bigint(h->parent_base_fee, false, BH, "ParentBaseFee", err);
}

static void put_header(st_buf *b, const st_block_header *h, bool with_sig) {
  st_cbor_put_array(b, 16);
  put_address(b, &h->miner);
  if (h->has_ticket) {
    st_cbor_put_array(b, 1);
    st_cbor_put_bytes(b, h->ticket_vrf_proof.data, h->ticket_vrf_proof.len);
  } else {
    st_cbor_put_null(b);
  }
  if (h->has_election_proof) {
    st_cbor_put_array(b, 2);
    st_cbor_put_int(b, h->win_count);
    st_cbor_put_bytes(b, h->election_vrf_proof.data, h->election_vrf_proof.len);
  } else {
    st_cbor_put_null(b);
  }
  st_cbor_put_array(b, h->n_beacon_entries);
  for (size_t i = 0; i < h->n_beacon_entries; i++) {
    st_cbor_put_array(b, 2);
    st_cbor_put_uint(b, h->beacon_entries[i].round);
    st_cbor_put_bytes(b, h->beacon_entries[i].data.data, h->beacon_entries[i].data.len);
  }
  st_cbor_put_array(b, h->n_win_post_proof);
  for (size_t i = 0; i < h->n_win_post_proof; i++) {
    st_cbor_put_array(b, 2);
    st_cbor_put_int(b, h->win_post_proof[i].post_proof);
    st_cbor_put_bytes(b, h->win_post_proof[i].proof_bytes.data, h->win_post_proof[i].proof_bytes.len);
  }
  st_cbor_put_array(b, h->n_parents);
  for (size_t i = 0; i < h->n_parents; i++) st_cbor_put_cid(b, &h->parents[i]);
  st_cbor_put_bigint(b, h->parent_weight);
  st_cbor_put_int(b, h->height);
  st_cbor_put_cid(b, &h->parent_state_root);
  st_cbor_put_cid(b, &h->parent_message_receipts);
  st_cbor_put_cid(b, &h->messages);
  if (h->has_bls_aggregate) put_signature(b, &h->bls_aggregate);
  else st_cbor_put_null(b);
  st_cbor_put_uint(b, h->timestamp);
  if (with_sig && h->has_block_sig) put_signature(b, &h->block_sig);
  else st_cbor_put_null(b);
  st_cbor_put_uint(b, h->fork_signaling);
  st_cbor_put_bigint(b, h->parent_base_fee);
}

st_code st_block_header_encode(const st_block_header *h, st_buf *out, st_err *err) {
  st_code rc = header_check(h, true, err);
  if (rc) return rc;
  put_header(out, h, true);
  return buf_done(out, err);
}

st_code st_block_header_signing_bytes(const st_block_header *h, st_buf *out, st_err *err) {
  st_code rc = header_check(h, false, err);
  if (rc) return rc;
  put_header(out, h, false);
  return buf_done(out, err);
}

static st_code read_ticket(st_cbor_reader *r, st_block_header *h) {
  if (st_cbor_take_null(r)) return ST_OK;
  st_code rc = st_cbor_expect_array(r, 1, "ticket");
  if (!rc) rc = read_owned_bytes(r, &h->ticket_vrf_proof);
  if (!rc) h->has_ticket = true;
  return rc;
}

static st_code read_election_proof(st_cbor_reader *r, st_block_header *h) {
  if (st_cbor_take_null(r)) return ST_OK;
  st_code rc = st_cbor_expect_array(r, 2, "election proof");
  if (!rc) rc = st_cbor_read_int(r, &h->win_count);
  if (!rc) rc = read_owned_bytes(r, &h->election_vrf_proof);
  if (!rc) h->has_election_proof = true;
  return rc;
}

static st_code read_beacons(st_cbor_reader *r, st_block_header *h) {
  size_t n = 0;
  st_code rc = read_array_header(r, &n);
  if (rc || n == 0) return rc;
  h->beacon_entries = calloc(n, sizeof *h->beacon_entries);
  if (!h->beacon_entries) return st_err_set(r->err, ST_ENOMEM, "out of memory for %zu beacon entries", n);
  for (size_t i = 0; i < n; i++) {
    st_beacon_entry *e = &h->beacon_entries[i];
    h->n_beacon_entries = i + 1; /* so a failure frees what was read */
    if ((rc = st_cbor_expect_array(r, 2, "beacon entry")) || (rc = st_cbor_read_uint(r, &e->round)) ||
        (rc = read_owned_bytes(r, &e->data)))
      return st_err_wrap(r->err, rc, "entry %zu", i);
  }
  return ST_OK;
}

static st_code read_post_proofs(st_cbor_reader *r, st_block_header *h) {
  size_t n = 0;
  st_code rc = read_array_header(r, &n);
  if (rc || n == 0) return rc;
  h->win_post_proof = calloc(n, sizeof *h->win_post_proof);
  if (!h->win_post_proof) return st_err_set(r->err, ST_ENOMEM, "out of memory for %zu PoSt proofs", n);
  for (size_t i = 0; i < n; i++) {
    st_post_proof *e = &h->win_post_proof[i];
    h->n_win_post_proof = i + 1;
    if ((rc = st_cbor_expect_array(r, 2, "PoSt proof")) || (rc = st_cbor_read_int(r, &e->post_proof)) ||
        (rc = read_owned_bytes(r, &e->proof_bytes)))
      return st_err_wrap(r->err, rc, "proof %zu", i);
  }
  return ST_OK;
}

static st_code read_cid_array(st_cbor_reader *r, st_cid **out, size_t *count) {
  size_t n = 0;
  st_code rc = read_array_header(r, &n);
  if (rc || n == 0) return rc;
  st_cid *p = calloc(n, sizeof *p);
  if (!p) return st_err_set(r->err, ST_ENOMEM, "out of memory for %zu CIDs", n);
  for (size_t i = 0; i < n; i++) {
    if ((rc = st_cbor_read_cid(r, &p[i]))) {
      free(p);
      return st_err_wrap(r->err, rc, "CID %zu", i);
    }
  }
  *out = p;
  *count = n;
  return ST_OK;
}

static st_code read_opt_signature(st_cbor_reader *r, bool *has, st_signature *s) {
  if (st_cbor_take_null(r)) return ST_OK;
  st_code rc = st_signature_read(r, s);
  if (!rc) *has = true;
  return rc;
}

st_code st_block_header_read(st_cbor_reader *r, st_block_header *h) {
  header_reset(h);
  st_code rc = st_cbor_expect_array(r, 16, "block header");
  if (rc) return rc;
  FIELD(BH, "Miner", st_address_read(r, &h->miner));
  FIELD(BH, "Ticket", read_ticket(r, h));
  FIELD(BH, "ElectionProof", read_election_proof(r, h));
  FIELD(BH, "BeaconEntries", read_beacons(r, h));
  FIELD(BH, "WinPoStProof", read_post_proofs(r, h));
  FIELD(BH, "Parents", read_cid_array(r, &h->parents, &h->n_parents));
  FIELD(BH, "ParentWeight", st_cbor_read_bigint(r, h->parent_weight));
  FIELD(BH, "Height", st_cbor_read_int(r, &h->height));
  FIELD(BH, "ParentStateRoot", st_cbor_read_cid(r, &h->parent_state_root));
  FIELD(BH, "ParentMessageReceipts", st_cbor_read_cid(r, &h->parent_message_receipts));
  FIELD(BH, "Messages", st_cbor_read_cid(r, &h->messages));
  FIELD(BH, "BLSAggregate", read_opt_signature(r, &h->has_bls_aggregate, &h->bls_aggregate));
  FIELD(BH, "Timestamp", st_cbor_read_uint(r, &h->timestamp));
  FIELD(BH, "BlockSig", read_opt_signature(r, &h->has_block_sig, &h->block_sig));
  FIELD(BH, "ForkSignaling", st_cbor_read_uint(r, &h->fork_signaling));
  FIELD(BH, "ParentBaseFee", st_cbor_read_bigint(r, h->parent_base_fee));
  return ST_OK;
}

st_code st_block_header_decode(const uint8_t *p, size_t n, st_block_header *h, st_err *err) {
  DECODE_WHOLE(st_block_header_read, BH, p, n, h, err);
}

static st_code header_encode_v(const void *h, st_buf *b, st_err *err) { return st_block_header_encode(h, b, err); }

st_code st_block_header_cid(const st_block_header *h, st_cid *out, st_err *err) {
  return cid_of(header_encode_v, h, out, err);
}

/* ================================================================ tipsets */

void st_tipset_key_init(st_tipset_key *k) {
  k->cids = NULL;
  k->n = 0;
}

void st_tipset_key_free(st_tipset_key *k) {
  free(k->cids);
  st_tipset_key_init(k);
}

st_code st_tipset_key_set(st_tipset_key *k, const st_cid *cids, size_t n, st_err *err) {
  if (k->cids == cids) return ST_OK;
  return copy_cids(&k->cids, &k->n, cids, n, err);
}

bool st_tipset_key_equal(const st_tipset_key *a, const st_tipset_key *b) {
  if (a->n != b->n) return false;
  for (size_t i = 0; i < a->n; i++)
    if (!st_cid_equal(&a->cids[i], &b->cids[i])) return false;
  return true;
}

void st_tipset_key_bytes(const st_tipset_key *k, st_buf *out) {
  for (size_t i = 0; i < k->n; i++) {
    uint8_t raw[ST_CID_MAX_BYTES];
    size_t n = st_cid_to_bytes(&k->cids[i], raw);
    st_buf_append(out, raw, n);
  }
}

st_code st_tipset_key_from_bytes(const uint8_t *p, size_t n, st_tipset_key *k, st_err *err) {
  st_tipset_key tmp;
  st_tipset_key_init(&tmp);
  size_t off = 0, cap = 0;
  st_code rc = ST_OK;
  while (off < n) {
    if (tmp.n == cap) {
      cap = cap ? 2 * cap : 4;
      st_cid *c = realloc(tmp.cids, cap * sizeof *c);
      if (!c) {
        rc = st_err_set(err, ST_ENOMEM, "out of memory for a tipset key");
        break;
      }
      tmp.cids = c;
    }
    size_t used;
    if ((rc = st_cid_from_bytes(p + off, n - off, &tmp.cids[tmp.n], &used, err))) {
      rc = st_err_wrap(err, rc, "tipset key: CID %zu at byte %zu", tmp.n, off);
      break;
    }
    tmp.n++;
    off += used;
  }
  if (rc) {
    st_tipset_key_free(&tmp);
    return rc;
  }
  st_tipset_key_free(k);
  *k = tmp;
  return ST_OK;
}

st_code st_tipset_key_cid(const st_tipset_key *k, st_cid *out, st_err *err) {
  st_buf raw = ST_BUF_INIT, enc = ST_BUF_INIT;
  st_tipset_key_bytes(k, &raw);
  if (!raw.failed) st_cbor_put_bytes(&enc, raw.data, raw.len);
  st_code rc = raw.failed ? st_buf_status(&raw, err) : st_buf_status(&enc, err);
  if (!rc) st_cid_of_cbor(enc.data, enc.len, out);
  st_buf_free(&raw);
  st_buf_free(&enc);
  return rc;
}

typedef struct sort_item {
  st_block_header *h;
  uint8_t digest[32];
  uint8_t cid[ST_CID_MAX_BYTES];
  size_t cid_len;
} sort_item;

/* tipsetSortFunc: equal VRFProofs go by CID bytes (bytes.Compare), others by Ticket.Less. */
static int sort_cmp(const void *pa, const void *pb) {
  const sort_item *a = pa, *b = pb;
  const st_chain_bytes *ta = &a->h->ticket_vrf_proof, *tb = &b->h->ticket_vrf_proof;
  if (ta->len == tb->len && (ta->len == 0 || !memcmp(ta->data, tb->data, ta->len))) {
    size_t n = a->cid_len < b->cid_len ? a->cid_len : b->cid_len;
    int c = memcmp(a->cid, b->cid, n);
    if (c) return c;
    return a->cid_len < b->cid_len ? -1 : a->cid_len > b->cid_len;
  }
  return memcmp(a->digest, b->digest, 32);
}

st_code st_tipset_sort_blocks(st_block_header **blocks, size_t n, st_err *err) {
  if (n < 2) return ST_OK; /* Lotus never compares a lone block's ticket */
  sort_item *items = calloc(n, sizeof *items);
  if (!items) return st_err_set(err, ST_ENOMEM, "out of memory sorting %zu blocks", n);
  st_code rc = ST_OK;
  for (size_t i = 0; i < n && !rc; i++) {
    sort_item *it = &items[i];
    it->h = blocks[i];
    if (!it->h->has_ticket) {
      rc = st_err_set(err, ST_EINVAL, "tipset: block %zu has no ticket", i);
      break;
    }
    st_blake2b_256(it->h->ticket_vrf_proof.data, it->h->ticket_vrf_proof.len, it->digest);
    st_cid c;
    if ((rc = st_block_header_cid(it->h, &c, err))) {
      rc = st_err_wrap(err, rc, "tipset: block %zu", i);
      break;
    }
    it->cid_len = st_cid_to_bytes(&c, it->cid);
  }
  if (!rc) {
    qsort(items, n, sizeof *items, sort_cmp);
    for (size_t i = 0; i < n; i++) blocks[i] = items[i].h;
  }
  free(items);
  return rc;
}

/* ================================================================ receipts and actors */

static const char *const RCPT = "receipt";
static const char *const ACTOR = "actor";

void st_receipt_init(st_receipt *rc) { memset(rc, 0, sizeof *rc); }
void st_receipt_free(st_receipt *rc) { st_chain_bytes_free(&rc->ret); }

st_code st_receipt_encode(const st_receipt *rc, st_buf *out, st_err *err) {
  st_code c = check_bytes(rc->ret.len, RCPT, "Return", err);
  if (c) return c;
  st_cbor_put_array(out, 3);
  st_cbor_put_int(out, rc->exit_code);
  st_cbor_put_bytes(out, rc->ret.data, rc->ret.len);
  st_cbor_put_int(out, rc->gas_used);
  return buf_done(out, err);
}

st_code st_receipt_read(st_cbor_reader *r, st_receipt *rc) {
  st_receipt_free(rc);
  st_receipt_init(rc);
  st_code c = st_cbor_expect_array(r, 3, "receipt");
  if (c) return c;
  FIELD(RCPT, "ExitCode", st_cbor_read_int(r, &rc->exit_code));
  FIELD(RCPT, "Return", read_owned_bytes(r, &rc->ret));
  FIELD(RCPT, "GasUsed", st_cbor_read_int(r, &rc->gas_used));
  return ST_OK;
}

st_code st_receipt_decode(const uint8_t *p, size_t n, st_receipt *rc, st_err *err) {
  DECODE_WHOLE(st_receipt_read, RCPT, p, n, rc, err);
}

void st_actor_init(st_actor *a) {
  memset(a, 0, sizeof *a);
  mpz_init(a->balance);
}

void st_actor_free(st_actor *a) { mpz_clear(a->balance); }

st_code st_actor_encode(const st_actor *a, st_buf *out, st_err *err) {
  st_code rc = check_bigint(a->balance, false, ACTOR, "Balance", err);
  if (rc) return rc;
  st_cbor_put_array(out, 4);
  st_cbor_put_cid(out, &a->code);
  st_cbor_put_cid(out, &a->head);
  st_cbor_put_uint(out, a->nonce);
  st_cbor_put_bigint(out, a->balance);
  return buf_done(out, err);
}

st_code st_actor_read(st_cbor_reader *r, st_actor *a) {
  st_code rc = st_cbor_expect_array(r, 4, "actor");
  if (rc) return rc;
  FIELD(ACTOR, "Code", st_cbor_read_cid(r, &a->code));
  FIELD(ACTOR, "Head", st_cbor_read_cid(r, &a->head));
  FIELD(ACTOR, "Nonce", st_cbor_read_uint(r, &a->nonce));
  FIELD(ACTOR, "Balance", st_cbor_read_bigint(r, a->balance));
  return ST_OK;
}

st_code st_actor_decode(const uint8_t *p, size_t n, st_actor *a, st_err *err) {
  DECODE_WHOLE(st_actor_read, ACTOR, p, n, a, err);
}

/* ================================================================ JSON: uint64 and text */

/* A marked string: NUL, then 1 to 20 decimal digits. */
static bool marked_value(const json_t *v, uint64_t *out) {
  if (!json_is_string(v)) return false;
  const char *s = json_string_value(v);
  size_t n = json_string_length(v);
  if (n < 2 || n > 21 || s[0] != '\0') return false;
  uint64_t x = 0;
  for (size_t i = 1; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    unsigned d = (unsigned)(s[i] - '0');
    if (x > (UINT64_MAX - d) / 10) return false;
    x = x * 10 + d;
  }
  *out = x;
  return true;
}

bool st_chain_json_u64_value(const json_t *v, uint64_t *out) {
  if (json_is_integer(v)) {
    json_int_t x = json_integer_value(v);
    if (x < 0) return false;
    *out = (uint64_t)x;
    return true;
  }
  return marked_value(v, out);
}

json_t *st_chain_json_u64(uint64_t v) {
  if (v <= (uint64_t)INT64_MAX) return json_integer((json_int_t)v);
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%c%llu", '\0', (unsigned long long)v);
  return json_stringn(tmp, (size_t)n);
}

/* Digits only, no leading zero, above INT64_MAX, at most UINT64_MAX. */
static bool big_u64_literal(const char *s, size_t n) {
  if (n < 19 || n > 20 || s[0] < '1' || s[0] > '9') return false;
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    unsigned d = (unsigned)(s[i] - '0');
    if (x > (UINT64_MAX - d) / 10) return false;
    x = x * 10 + d;
  }
  return x > (uint64_t)INT64_MAX;
}

st_code st_chain_json_loadb(const char *text, size_t len, size_t flags, json_t **out, st_err *err) {
  st_buf copy = ST_BUF_INIT;
  size_t i = 0, last = 0;
  while (i < len) {
    char c = text[i];
    if (c == '"') {
      for (i++; i < len && text[i] != '"'; i++) {
        if (text[i] != '\\') continue;
        if (len - i >= 6 && !memcmp(text + i + 1, "u0000", 5)) {
          st_buf_free(&copy);
          return st_err_set(err, ST_EINVAL, "invalid JSON: \\u0000 in a string at offset %zu is not accepted", i);
        }
        i++; /* skip the escaped character */
      }
      i++;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      size_t s = i;
      while (i < len && text[i] && strchr("0123456789+-.eE", text[i])) i++;
      if (big_u64_literal(text + s, i - s)) {
        st_buf_append(&copy, text + last, s - last);
        st_buf_puts(&copy, "\"\\u0000");
        st_buf_append(&copy, text + s, i - s);
        st_buf_putc(&copy, '"');
        last = i;
      }
    } else {
      i++;
    }
  }
  const char *src = text;
  size_t srclen = len;
  if (last) {
    st_buf_append(&copy, text + last, len - last);
    st_code rc = st_buf_status(&copy, err);
    if (rc) {
      st_buf_free(&copy);
      return rc;
    }
    src = (const char *)copy.data;
    srclen = copy.len;
  }
  json_error_t je;
  *out = json_loadb(src, srclen, flags | JSON_ALLOW_NUL, &je);
  st_buf_free(&copy);
  if (!*out) return st_err_set(err, ST_EINVAL, "invalid JSON: %s (line %d, column %d)", je.text, je.line, je.column);
  return ST_OK;
}

void st_chain_json_append(st_buf *out, const json_t *v) {
  uint64_t x;
  const char *key;
  json_t *val;
  bool first = true;
  switch (json_typeof(v)) {
    case JSON_OBJECT:
      st_buf_putc(out, '{');
      json_object_foreach((json_t *)v, key, val) {
        if (!first) st_buf_putc(out, ',');
        first = false;
        st_json_append_string(out, key, strlen(key));
        st_buf_putc(out, ':');
        st_chain_json_append(out, val);
      }
      st_buf_putc(out, '}');
      break;
    case JSON_ARRAY:
      st_buf_putc(out, '[');
      for (size_t i = 0; i < json_array_size(v); i++) {
        if (i) st_buf_putc(out, ',');
        st_chain_json_append(out, json_array_get(v, i));
      }
      st_buf_putc(out, ']');
      break;
    case JSON_STRING:
      if (marked_value(v, &x)) st_buf_printf(out, "%llu", (unsigned long long)x);
      else st_json_append(out, v);
      break;
    default: st_json_append(out, v);
  }
}

/* ================================================================ JSON: field readers */

static st_code jfail(st_err *err, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static st_code jfail(st_err *err, const char *path, const char *fmt, ...) {
  if (err) {
    char msg[ST_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    st_err_set(err, ST_EINVAL, "%s: %s", path, msg);
  }
  return ST_EINVAL;
}

/* The member whose key equals key ignoring ASCII case; the last such member wins (Go's rule). */
static const json_t *jget(const json_t *obj, const char *key) {
  const char *k;
  json_t *v;
  const json_t *found = NULL;
  json_object_foreach((json_t *)obj, k, v) {
    if (!strcasecmp(k, key)) found = v;
  }
  return found;
}

static bool absent(const json_t *v) { return !v || json_is_null(v); }

static st_code j_object(const json_t *v, const char *path, st_err *err) {
  if (!json_is_object(v)) return jfail(err, path, "must be a JSON object");
  return ST_OK;
}

static st_code j_u64(const json_t *v, const char *path, uint64_t *out, st_err *err) {
  *out = 0;
  if (absent(v)) return ST_OK;
  if (!st_chain_json_u64_value(v, out))
    return jfail(err, path, "must be an unsigned integer (0 to 18446744073709551615)");
  return ST_OK;
}

static st_code j_i64(const json_t *v, const char *path, int64_t *out, st_err *err) {
  *out = 0;
  if (absent(v)) return ST_OK;
  if (!json_is_integer(v)) return jfail(err, path, "must be an integer");
  *out = (int64_t)json_integer_value(v);
  return ST_OK;
}

/* go-state-types big.Int: a string of base-10 digits with an optional sign. */
static st_code j_bigint(const json_t *v, const char *path, bool nonneg, mpz_t out, st_err *err) {
  mpz_set_ui(out, 0);
  if (!v) return ST_OK;
  if (!json_is_string(v)) return jfail(err, path, "must be a decimal string, e.g. \"1000\"");
  const char *s = json_string_value(v);
  size_t n = json_string_length(v), i = 0;
  bool neg = false;
  if (n && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == n) return jfail(err, path, "must be a decimal string, got \"%.40s\"", s);
  for (size_t k = i; k < n; k++)
    if (s[k] < '0' || s[k] > '9') return jfail(err, path, "must be a decimal string, got \"%.40s\"", s);
  if (n - i > 400) return jfail(err, path, "number of %zu digits is too long", n - i);
  if (mpz_set_str(out, s + i, 10) != 0) return jfail(err, path, "must be a decimal string");
  if (neg) mpz_neg(out, out);
  if (nonneg && mpz_sgn(out) < 0) return jfail(err, path, "must not be negative");
  if (bigint_payload_len(out) > ST_BIGINT_MAX_BYTES)
    return jfail(err, path, "big integer is longer than %d bytes", ST_BIGINT_MAX_BYTES);
  return ST_OK;
}

st_code st_chain_json_get_bigint(const json_t *v, const char *path, mpz_t out, st_err *err) {
  if (!v) return jfail(err, path, "missing");
  return j_bigint(v, path, true, out, err);
}

static st_code j_bytes(const json_t *v, const char *path, size_t max, st_chain_bytes *out, st_err *err) {
  st_chain_bytes_free(out);
  if (absent(v)) return ST_OK;
  if (!json_is_string(v)) return jfail(err, path, "must be a base64 string or null");
  st_buf b = ST_BUF_INIT;
  st_err e2;
  st_code rc = st_base64_decode(json_string_value(v), json_string_length(v), true, &b, &e2);
  if (rc) {
    st_buf_free(&b);
    return jfail(err, path, "%s", e2.msg);
  }
  if (b.len > max) rc = jfail(err, path, "%zu bytes is longer than %zu", b.len, max);
  else rc = st_chain_bytes_set(out, b.data, b.len, err);
  st_buf_free(&b);
  return rc;
}

static st_code j_address(const json_t *v, const char *path, st_address *out, st_err *err) {
  out->len = 0;
  if (absent(v)) return ST_OK;
  if (!json_is_string(v)) return jfail(err, path, "must be an address string");
  const char *s = json_string_value(v);
  if (!*s || !strcmp(s, "<empty>")) return ST_OK;
  st_err e2;
  if (strlen(s) != json_string_length(v) || st_address_parse(s, out, NULL, &e2)) {
    out->len = 0;
    return jfail(err, path, "%s", strlen(s) != json_string_length(v) ? "invalid address" : e2.msg);
  }
  return ST_OK;
}

json_t *st_chain_json_bitfield(const st_bitfield *bf) {
  json_t *a = json_array();
  uint64_t at = 0;
  for (size_t i = 0; i < bf->n; i++) {
    json_array_append_new(a, st_chain_json_u64(bf->runs[i].start - at));
    json_array_append_new(a, st_chain_json_u64(bf->runs[i].len));
    at = bf->runs[i].start + bf->runs[i].len;
  }
  if (!bf->n) json_array_append_new(a, json_integer(0));
  return a;
}

st_code st_chain_json_get_bitfield(const json_t *v, const char *what, st_bitfield *out, st_err *err) {
  if (!json_is_array(v))
    return st_err_set(err, ST_EINVAL, "%s: must be an array of run lengths, e.g. [0,1,1,2] for {0,2,3}", what);
  size_t k = json_array_size(v);
  if (k > ST_CHAIN_JSON_MAX_RUNS)
    return st_err_set(err, ST_EINVAL, "%s: more than %d runs", what, ST_CHAIN_JSON_MAX_RUNS);
  st_bitfield_clear(out);
  uint64_t at = 0;
  bool set = false;
  for (size_t i = 0; i < k; i++, set = !set) {
    uint64_t len;
    if (!st_chain_json_u64_value(json_array_get(v, i), &len))
      return st_err_set(err, ST_EINVAL, "%s[%zu]: must be a non-negative integer", what, i);
    if (!len && i) return st_err_set(err, ST_EINVAL, "%s[%zu]: a run of length 0 is allowed only first", what, i);
    if (len > UINT64_MAX - at)
      return st_err_set(err, ST_EINVAL, "%s: the runs add up to more than 2^64 - 1 bits", what);
    if (set && st_bitfield_set_range(out, at, len, err)) return st_err_wrap(err, ST_EINVAL, "%s", what);
    at += len;
  }
  return ST_OK;
}

st_code st_chain_json_get_cid(const json_t *v, const char *path, st_cid *out, st_err *err) {
  if (!json_is_object(v)) return jfail(err, path, "must be a CID object {\"/\": \"bafy...\"}");
  const json_t *s = jget(v, "/");
  if (!json_is_string(s) || json_string_length(s) == 0)
    return jfail(err, path, "must be a CID object {\"/\": \"bafy...\"}");
  st_err e2;
  if (strlen(json_string_value(s)) != json_string_length(s) || st_cid_parse(json_string_value(s), out, &e2))
    return jfail(err, path, "%s", strlen(json_string_value(s)) != json_string_length(s) ? "invalid CID" : e2.msg);
  return ST_OK;
}

static st_code j_cid(const json_t *v, const char *path, st_cid *out, st_err *err) {
  memset(out, 0, sizeof *out);
  return st_chain_json_get_cid(v, path, out, err);
}

/* ================================================================ JSON: writers */

static json_t *j_bytes_new(const st_chain_bytes *b) {
  if (b->len == 0) return json_null();
  st_buf t = ST_BUF_INIT;
  st_base64_append(&t, b->data, b->len, true);
  json_t *v = t.failed ? NULL : json_stringn((const char *)t.data, t.len);
  st_buf_free(&t);
  return v;
}

json_t *st_chain_json_bigint(const mpz_t v) {
  char *s = mpz_get_str(NULL, 10, v);
  if (!s) return NULL;
  json_t *j = json_string(s);
  free(s);
  return j;
}

static json_t *j_address_new(const st_address *a, char network) {
  if (a->len == 0) return json_string("<empty>");
  char s[ST_ADDR_STR_MAX];
  if (st_address_format(a, network, s, NULL)) return json_string("<empty>");
  return json_string(s);
}

json_t *st_chain_json_cid(const st_cid *c) {
  char s[ST_CID_STR_MAX];
  st_cid_to_string(c, s);
  return json_pack("{s:s}", "/", s);
}

/* Adds v under key; a NULL v or a failed insert clears *ok. */
static void jset(json_t *o, const char *key, json_t *v, bool *ok) {
  if (!v || json_object_set_new(o, key, v)) *ok = false;
}

static st_code j_done(json_t *o, bool ok, json_t **out, st_err *err) {
  if (!o || !ok) {
    json_decref(o);
    *out = NULL;
    return st_err_set(err, ST_ENOMEM, "out of memory building JSON");
  }
  *out = o;
  return ST_OK;
}

static st_code check_network(char network, st_err *err) {
  if (network != 't' && network != 'f')
    return st_err_set(err, ST_EINVAL, "unknown address network '%c' (expected 't' or 'f')", network);
  return ST_OK;
}

/* ================================================================ JSON: messages */

/* The plain fields, in Lotus's order. */
static json_t *message_fields(const st_message *m, char network, bool *ok) {
  json_t *o = json_object();
  if (!o) return NULL;
  jset(o, "Version", st_chain_json_u64(m->version), ok);
  jset(o, "To", j_address_new(&m->to, network), ok);
  jset(o, "From", j_address_new(&m->from, network), ok);
  jset(o, "Nonce", st_chain_json_u64(m->nonce), ok);
  jset(o, "Value", st_chain_json_bigint(m->value), ok);
  jset(o, "GasLimit", json_integer(m->gas_limit), ok);
  jset(o, "GasFeeCap", st_chain_json_bigint(m->gas_fee_cap), ok);
  jset(o, "GasPremium", st_chain_json_bigint(m->gas_premium), ok);
  jset(o, "Method", st_chain_json_u64(m->method), ok);
  jset(o, "Params", j_bytes_new(&m->params), ok);
  return o;
}

st_code st_message_to_json(const st_message *m, char network, json_t **out, st_err *err) {
  *out = NULL;
  st_cid c;
  st_code rc = check_network(network, err);
  if (rc || (rc = st_message_cid(m, &c, err))) return rc;
  bool ok = true;
  json_t *o = message_fields(m, network, &ok);
  if (o) jset(o, "CID", st_chain_json_cid(&c), &ok);
  return j_done(o, ok, out, err);
}

static st_code message_from_json(const json_t *j, const char *path, st_message *m, st_err *err) {
  message_reset(m);
  st_code rc = j_object(j, path, err);
  if (rc) return rc;
  char p[160];
#define JP(name) (snprintf(p, sizeof p, "%s.%s", path, name), p)
  if ((rc = j_u64(jget(j, "Version"), JP("Version"), &m->version, err))) return rc;
  if (m->version != 0) return jfail(err, JP("Version"), "must be 0, got %llu", (unsigned long long)m->version);
  if ((rc = j_address(jget(j, "To"), JP("To"), &m->to, err))) return rc;
  if ((rc = j_address(jget(j, "From"), JP("From"), &m->from, err))) return rc;
  if ((rc = j_u64(jget(j, "Nonce"), JP("Nonce"), &m->nonce, err))) return rc;
  if ((rc = j_bigint(jget(j, "Value"), JP("Value"), true, m->value, err))) return rc;
  if ((rc = j_i64(jget(j, "GasLimit"), JP("GasLimit"), &m->gas_limit, err))) return rc;
  if ((rc = j_bigint(jget(j, "GasFeeCap"), JP("GasFeeCap"), true, m->gas_fee_cap, err))) return rc;
  if ((rc = j_bigint(jget(j, "GasPremium"), JP("GasPremium"), true, m->gas_premium, err))) return rc;
  if ((rc = j_u64(jget(j, "Method"), JP("Method"), &m->method, err))) return rc;
  if ((rc = j_bytes(jget(j, "Params"), JP("Params"), ST_CHAIN_MAX_BYTES, &m->params, err))) return rc;
#undef JP
  return ST_OK;
}

st_code st_message_from_json(const json_t *j, st_message *m, st_err *err) {
  return message_from_json(j, "Message", m, err);
}

st_code st_signature_to_json(const st_signature *s, json_t **out, st_err *err) {
  st_chain_bytes b = {(uint8_t *)s->data, s->len};
  bool ok = true;
  json_t *o = json_object();
  if (o) {
    jset(o, "Type", json_integer((json_int_t)s->type), &ok);
    jset(o, "Data", j_bytes_new(&b), &ok);
  }
  return j_done(o, ok, out, err);
}

st_code st_signature_from_json(const json_t *j, const char *path, st_signature *s, st_err *err) {
  memset(s, 0, sizeof *s);
  st_code rc = j_object(j, path, err);
  if (rc) return rc;
  char p[160];
  snprintf(p, sizeof p, "%s.Type", path);
  int64_t t;
  if ((rc = j_i64(jget(j, "Type"), p, &t, err))) return rc;
  if (!sig_type_ok((int)(t < 0 || t > 255 ? 0 : t)))
    return jfail(err, p, "must be 1 (secp256k1), 2 (bls) or 3 (delegated)");
  snprintf(p, sizeof p, "%s.Data", path);
  st_chain_bytes d = {NULL, 0};
  if ((rc = j_bytes(jget(j, "Data"), p, ST_SIG_MAX_LEN - 1, &d, err))) return rc;
  s->type = (st_sig_type)t;
  s->len = d.len;
  if (d.len) memcpy(s->data, d.data, d.len);
  st_chain_bytes_free(&d);
  return ST_OK;
}

st_code st_signed_message_to_json(const st_signed_message *sm, char network, json_t **out, st_err *err) {
  *out = NULL;
  json_t *msg = NULL, *sig = NULL;
  st_cid c;
  st_code rc = st_signed_message_cid(sm, &c, err);
  if (rc) return rc;
  if ((rc = st_message_to_json(&sm->message, network, &msg, err))) return rc;
  if ((rc = st_signature_to_json(&sm->signature, &sig, err))) {
    json_decref(msg);
    return rc;
  }
  bool ok = true;
  json_t *o = json_object();
  if (o) {
    jset(o, "Message", msg, &ok);
    jset(o, "Signature", sig, &ok);
    jset(o, "CID", st_chain_json_cid(&c), &ok);
  } else {
    json_decref(msg);
    json_decref(sig);
  }
  return j_done(o, ok, out, err);
}

st_code st_signed_message_from_json(const json_t *j, st_signed_message *sm, st_err *err) {
  st_code rc = j_object(j, "SignedMessage", err);
  if (rc) return rc;
  if ((rc = message_from_json(jget(j, "Message"), "SignedMessage.Message", &sm->message, err))) return rc;
  return st_signature_from_json(jget(j, "Signature"), "SignedMessage.Signature", &sm->signature, err);
}

/* ================================================================ JSON: block headers */

static json_t *j_signature_or_null(bool has, const st_signature *s, bool *ok) {
  if (!has) return json_null();
  json_t *v;
  if (st_signature_to_json(s, &v, NULL)) *ok = false;
  return v;
}

static json_t *j_cid_array(const st_cid *c, size_t n, bool null_if_empty) {
  if (n == 0 && null_if_empty) return json_null();
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; i++) {
    if (json_array_append_new(a, st_chain_json_cid(&c[i]))) {
      json_decref(a);
      return NULL;
    }
  }
  return a;
}

st_code st_block_header_to_json(const st_block_header *h, char network, json_t **out, st_err *err) {
  *out = NULL;
  st_code rc = check_network(network, err);
  if (rc) return rc;
  bool ok = true;
  json_t *o = json_object();
  if (!o) return j_done(o, ok, out, err);
  jset(o, "Miner", j_address_new(&h->miner, network), &ok);
  if (h->has_ticket) {
    json_t *t = json_object();
    if (t) jset(t, "VRFProof", j_bytes_new(&h->ticket_vrf_proof), &ok);
    jset(o, "Ticket", t, &ok);
  } else {
    jset(o, "Ticket", json_null(), &ok);
  }
  if (h->has_election_proof) {
    json_t *e = json_object();
    if (e) {
      jset(e, "WinCount", json_integer(h->win_count), &ok);
      jset(e, "VRFProof", j_bytes_new(&h->election_vrf_proof), &ok);
    }
    jset(o, "ElectionProof", e, &ok);
  } else {
    jset(o, "ElectionProof", json_null(), &ok);
  }
  json_t *be = h->n_beacon_entries ? json_array() : json_null();
  for (size_t i = 0; be && i < h->n_beacon_entries; i++) {
    json_t *e = json_object();
    if (e) {
      jset(e, "Round", st_chain_json_u64(h->beacon_entries[i].round), &ok);
      jset(e, "Data", j_bytes_new(&h->beacon_entries[i].data), &ok);
    }
    if (!e || json_array_append_new(be, e)) ok = false;
  }
  jset(o, "BeaconEntries", be, &ok);
  json_t *wp = h->n_win_post_proof ? json_array() : json_null();
  for (size_t i = 0; wp && i < h->n_win_post_proof; i++) {
    json_t *e = json_object();
    if (e) {
      jset(e, "PoStProof", json_integer(h->win_post_proof[i].post_proof), &ok);
      jset(e, "ProofBytes", j_bytes_new(&h->win_post_proof[i].proof_bytes), &ok);
    }
    if (!e || json_array_append_new(wp, e)) ok = false;
  }
  jset(o, "WinPoStProof", wp, &ok);
  jset(o, "Parents", j_cid_array(h->parents, h->n_parents, true), &ok);
  jset(o, "ParentWeight", st_chain_json_bigint(h->parent_weight), &ok);
  jset(o, "Height", json_integer(h->height), &ok);
  jset(o, "ParentStateRoot", st_chain_json_cid(&h->parent_state_root), &ok);
  jset(o, "ParentMessageReceipts", st_chain_json_cid(&h->parent_message_receipts), &ok);
  jset(o, "Messages", st_chain_json_cid(&h->messages), &ok);
  jset(o, "BLSAggregate", j_signature_or_null(h->has_bls_aggregate, &h->bls_aggregate, &ok), &ok);
  jset(o, "Timestamp", st_chain_json_u64(h->timestamp), &ok);
  jset(o, "BlockSig", j_signature_or_null(h->has_block_sig, &h->block_sig, &ok), &ok);
  jset(o, "ForkSignaling", st_chain_json_u64(h->fork_signaling), &ok);
  jset(o, "ParentBaseFee", st_chain_json_bigint(h->parent_base_fee), &ok);
  return j_done(o, ok, out, err);
}

/* An array (or null: empty) of at most ST_CHAIN_MAX_ARRAY items. */
static st_code j_array(const json_t *v, const char *path, size_t *n, st_err *err) {
  *n = 0;
  if (absent(v)) return ST_OK;
  if (!json_is_array(v)) return jfail(err, path, "must be an array or null");
  if (json_array_size(v) > ST_CHAIN_MAX_ARRAY)
    return jfail(err, path, "%zu items is more than %d", json_array_size(v), ST_CHAIN_MAX_ARRAY);
  *n = json_array_size(v);
  return ST_OK;
}

static st_code j_cids(const json_t *v, const char *path, st_cid **out, size_t *count, st_err *err) {
  size_t n;
  st_code rc = j_array(v, path, &n, err);
  if (rc || n == 0) return rc;
  st_cid *c = calloc(n, sizeof *c);
  if (!c) return st_err_set(err, ST_ENOMEM, "out of memory for %zu CIDs", n);
  char p[160];
  for (size_t i = 0; i < n; i++) {
    snprintf(p, sizeof p, "%s[%zu]", path, i);
    if ((rc = st_chain_json_get_cid(json_array_get(v, i), p, &c[i], err))) {
      free(c);
      return rc;
    }
  }
  free(*out);
  *out = c;
  *count = n;
  return ST_OK;
}

static st_code j_opt_signature(const json_t *v, const char *path, bool *has, st_signature *s, st_err *err) {
  *has = false;
  if (absent(v)) return ST_OK;
  st_code rc = st_signature_from_json(v, path, s, err);
  if (!rc) *has = true;
  return rc;
}

st_code st_block_header_from_json(const json_t *j, st_block_header *h, st_err *err) {
  header_reset(h);
  st_code rc = j_object(j, "BlockHeader", err);
  if (rc) return rc;
  char p[160];
#define JP(...) (snprintf(p, sizeof p, __VA_ARGS__), p)
  if ((rc = j_address(jget(j, "Miner"), "BlockHeader.Miner", &h->miner, err))) return rc;
  const json_t *t = jget(j, "Ticket");
  if (!absent(t)) {
    if ((rc = j_object(t, "BlockHeader.Ticket", err))) return rc;
    if ((rc = j_bytes(jget(t, "VRFProof"), "BlockHeader.Ticket.VRFProof", ST_CHAIN_MAX_BYTES, &h->ticket_vrf_proof,
                      err)))
      return rc;
    h->has_ticket = true;
  }
  const json_t *e = jget(j, "ElectionProof");
  if (!absent(e)) {
    if ((rc = j_object(e, "BlockHeader.ElectionProof", err))) return rc;
    if ((rc = j_i64(jget(e, "WinCount"), "BlockHeader.ElectionProof.WinCount", &h->win_count, err))) return rc;
    if ((rc = j_bytes(jget(e, "VRFProof"), "BlockHeader.ElectionProof.VRFProof", ST_CHAIN_MAX_BYTES,
                      &h->election_vrf_proof, err)))
      return rc;
    h->has_election_proof = true;
  }
  const json_t *a = jget(j, "BeaconEntries");
  size_t n;
  if ((rc = j_array(a, "BlockHeader.BeaconEntries", &n, err))) return rc;
  if (n) {
    if (!(h->beacon_entries = calloc(n, sizeof *h->beacon_entries))) return st_err_set(err, ST_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
      const json_t *x = json_array_get(a, i);
      h->n_beacon_entries = i + 1;
      if ((rc = j_object(x, JP("BlockHeader.BeaconEntries[%zu]", i), err))) return rc;
      if ((rc = j_u64(jget(x, "Round"), JP("BlockHeader.BeaconEntries[%zu].Round", i), &h->beacon_entries[i].round,
                      err)))
        return rc;
      if ((rc = j_bytes(jget(x, "Data"), JP("BlockHeader.BeaconEntries[%zu].Data", i), ST_CHAIN_MAX_BYTES,
                        &h->beacon_entries[i].data, err)))
        return rc;
    }
  }
  a = jget(j, "WinPoStProof");
  if ((rc = j_array(a, "BlockHeader.WinPoStProof", &n, err))) return rc;
  if (n) {
    if (!(h->win_post_proof = calloc(n, sizeof *h->win_post_proof))) return st_err_set(err, ST_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
      const json_t *x = json_array_get(a, i);
      h->n_win_post_proof = i + 1;
      if ((rc = j_object(x, JP("BlockHeader.WinPoStProof[%zu]", i), err))) return rc;
      if ((rc = j_i64(jget(x, "PoStProof"), JP("BlockHeader.WinPoStProof[%zu].PoStProof", i),
                      &h->win_post_proof[i].post_proof, err)))
        return rc;
      if ((rc = j_bytes(jget(x, "ProofBytes"), JP("BlockHeader.WinPoStProof[%zu].ProofBytes", i), ST_CHAIN_MAX_BYTES,
                        &h->win_post_proof[i].proof_bytes, err)))
        return rc;
    }
  }
#undef JP
  if ((rc = j_cids(jget(j, "Parents"), "BlockHeader.Parents", &h->parents, &h->n_parents, err))) return rc;
  if ((rc = j_bigint(jget(j, "ParentWeight"), "BlockHeader.ParentWeight", false, h->parent_weight, err))) return rc;
  if ((rc = j_i64(jget(j, "Height"), "BlockHeader.Height", &h->height, err))) return rc;
  if ((rc = j_cid(jget(j, "ParentStateRoot"), "BlockHeader.ParentStateRoot", &h->parent_state_root, err))) return rc;
  if ((rc = j_cid(jget(j, "ParentMessageReceipts"), "BlockHeader.ParentMessageReceipts", &h->parent_message_receipts,
                  err)))
    return rc;
  if ((rc = j_cid(jget(j, "Messages"), "BlockHeader.Messages", &h->messages, err))) return rc;
  if ((rc = j_opt_signature(jget(j, "BLSAggregate"), "BlockHeader.BLSAggregate", &h->has_bls_aggregate,
                            &h->bls_aggregate, err)))
    return rc;
  if ((rc = j_u64(jget(j, "Timestamp"), "BlockHeader.Timestamp", &h->timestamp, err))) return rc;
  if ((rc = j_opt_signature(jget(j, "BlockSig"), "BlockHeader.BlockSig", &h->has_block_sig, &h->block_sig, err)))
    return rc;
  if ((rc = j_u64(jget(j, "ForkSignaling"), "BlockHeader.ForkSignaling", &h->fork_signaling, err))) return rc;
  return j_bigint(jget(j, "ParentBaseFee"), "BlockHeader.ParentBaseFee", false, h->parent_base_fee, err);
}

/* ================================================================ JSON: keys, receipts, actors */

st_code st_tipset_key_to_json(const st_tipset_key *k, json_t **out, st_err *err) {
  json_t *a = j_cid_array(k->cids, k->n, false);
  return j_done(a, a != NULL, out, err);
}

st_code st_tipset_key_from_json(const json_t *j, const char *path, st_tipset_key *k, st_err *err) {
  st_tipset_key tmp;
  st_tipset_key_init(&tmp);
  st_code rc = j_cids(j, path, &tmp.cids, &tmp.n, err);
  if (rc) return rc;
  st_tipset_key_free(k);
  *k = tmp;
  return ST_OK;
}

st_code st_receipt_to_json(const st_receipt *rc, json_t **out, st_err *err) {
  bool ok = true;
  json_t *o = json_object();
  if (o) {
    jset(o, "ExitCode", json_integer(rc->exit_code), &ok);
    jset(o, "Return", j_bytes_new(&rc->ret), &ok);
    jset(o, "GasUsed", json_integer(rc->gas_used), &ok);
    jset(o, "EventsRoot", json_null(), &ok);
  }
  return j_done(o, ok, out, err);
}

st_code st_actor_to_json(const st_actor *a, json_t **out, st_err *err) {
  bool ok = true;
  json_t *o = json_object();
  if (o) {
    jset(o, "Code", st_chain_json_cid(&a->code), &ok);
    jset(o, "Head", st_chain_json_cid(&a->head), &ok);
    jset(o, "Nonce", st_chain_json_u64(a->nonce), &ok);
    jset(o, "Balance", st_chain_json_bigint(a->balance), &ok);
    jset(o, "DelegatedAddress", json_null(), &ok);
  }
  return j_done(o, ok, out, err);
}
