/* Tests for st_chain_types: the published serialization vectors (unsigned messages JSON -> CBOR,
 * block headers CBOR/JSON/CID, BLS message signing CIDs), secp256k1 sign and verify, what the
 * strict decoders refuse, tipset key CIDs (filecoin-facts.md 8.2), tipset block order,
 * receipts and actors, Lotus JSON shapes and their field-naming errors, and uint64 JSON. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/st_chain_types.h"
#include "codec/st_token.h"
#include "core/st_encoding.h"
#include "crypto/st_hash.h"
#include "crypto/st_secp.h"

#define EXTRA ST_VECTORS_DIR "/../vectors_extra/"

/* The secp256k1 key and address of serialization-vectors' first message_signing.json (also in
 * tests/crypto/test_secp.c). */
#define SECP_PRIV_B64 "sC23s2GtwGXq/4DbBoTqToIUCA4ESOJjjaMas6WLsZM="
#define SECP_ADDR "t1slxh2kv3vwz3japfiyyd7rkw6p7tm4pt4wo5wyq"

/* Loads a vectors_extra file through st_chain_json_loadb (its uint64s exceed 2^63). */
static json_t *load_extra(const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s%s", EXTRA, name);
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  st_buf text = ST_BUF_INIT;
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) st_buf_append(&text, chunk, n);
  fclose(f);
  json_t *v = NULL;
  st_err err;
  if (st_chain_json_loadb((const char *)text.data, text.len, 0, &v, &err)) fail_msg("%s: %s", path, err.msg);
  st_buf_free(&text);
  return v;
}

static void b64(const char *s, st_buf *out) {
  st_err err;
  if (st_base64_decode(s, strlen(s), true, out, &err)) fail_msg("%s", err.msg);
}

static const char *cid_str(const st_cid *c) {
  static char s[ST_CID_STR_MAX];
  st_cid_to_string(c, s);
  return s;
}

/* A plain, valid message from the secp key's address. */
static void sample_message(st_message *m) {
  st_err err;
  assert_int_equal(st_address_parse("t01000", &m->to, NULL, &err), ST_OK);
  assert_int_equal(st_address_parse(SECP_ADDR, &m->from, NULL, &err), ST_OK);
  m->nonce = 7;
  mpz_set_str(m->value, "1000000000000000000", 10);
  m->gas_limit = 1000000;
  mpz_set_ui(m->gas_fee_cap, 100);
  mpz_set_ui(m->gas_premium, 1);
  m->method = 2;
  assert_int_equal(st_chain_bytes_set(&m->params, "\x82\x01\x02", 3, &err), ST_OK);
}

/* ---------------------------------------------------------------- published vectors */

static void test_unsigned_message_vectors(void **state) {
  (void)state;
  json_t *v = load_extra("unsigned_messages.json");
  assert_int_equal(json_array_size(v), 21);
  bool saw_big_method = false;
  for (size_t i = 0; i < json_array_size(v); i++) {
    json_t *c = json_array_get(v, i);
    const json_t *jm = json_object_get(c, "message");
    const char *hex = json_string_value(json_object_get(c, "hex_cbor"));
    st_buf want = ST_BUF_INIT, got = ST_BUF_INIT, again = ST_BUF_INIT;
    tu_hex(hex, &want);
    st_err err;
    st_message m, d;
    st_message_init(&m);
    st_message_init(&d);
    /* JSON -> struct -> CBOR */
    if (st_message_from_json(jm, &m, &err)) fail_msg("case %zu: %s", i, err.msg);
    assert_int_equal(st_message_encode(&m, &got, &err), ST_OK);
    assert_string_equal(tu_tohex(got.data, got.len), hex);
    assert_int_equal(st_message_size(&m), want.len);
    if (m.method > (uint64_t)INT64_MAX) saw_big_method = true;
    /* CBOR -> struct -> CBOR */
    if (st_message_decode(want.data, want.len, &d, &err)) fail_msg("case %zu: %s", i, err.msg);
    assert_int_equal(st_message_encode(&d, &again, &err), ST_OK);
    assert_int_equal(again.len, want.len);
    assert_memory_equal(again.data, want.data, want.len);
    /* struct -> JSON: the vector's fields plus the CID of the CBOR */
    json_t *out = NULL;
    assert_int_equal(st_message_to_json(&d, 't', &out, &err), ST_OK);
    st_cid cid, jcid;
    st_cid_of_cbor(want.data, want.len, &cid);
    assert_int_equal(st_chain_json_get_cid(json_object_get(out, "CID"), "CID", &jcid, &err), ST_OK);
    assert_true(st_cid_equal(&cid, &jcid));
    assert_int_equal(st_message_cid(&d, &jcid, &err), ST_OK);
    assert_true(st_cid_equal(&cid, &jcid));
    json_object_del(out, "CID");
    assert_true(json_equal(out, (json_t *)jm));
    /* and the text form reads back to the same message */
    st_buf text = ST_BUF_INIT;
    st_chain_json_append(&text, out);
    json_t *back = NULL;
    assert_int_equal(st_chain_json_loadb((const char *)text.data, text.len, 0, &back, &err), ST_OK);
    assert_true(json_equal(back, out));
    json_decref(back);
    json_decref(out);
    st_buf_free(&text);
    st_message_free(&m);
    st_message_free(&d);
    st_buf_free(&want);
    st_buf_free(&got);
    st_buf_free(&again);
  }
  assert_true(saw_big_method);
  json_decref(v);
}

static void test_big_method_text(void **state) {
  (void)state;
  json_t *v = load_extra("unsigned_messages.json");
  st_message m;
  st_message_init(&m);
  st_err err;
  assert_int_equal(st_message_from_json(json_object_get(json_array_get(v, 0), "message"), &m, &err), ST_OK);
  assert_true(m.method == 18281837776054215652ull);
  json_t *out = NULL;
  assert_int_equal(st_message_to_json(&m, 't', &out, &err), ST_OK);
  st_buf text = ST_BUF_INIT;
  st_chain_json_append(&text, out);
  assert_non_null(strstr(st_buf_cstr(&text), "\"Method\":18281837776054215652,"));
  assert_non_null(strstr(st_buf_cstr(&text), "\"Nonce\":8761748149847665013,"));
  assert_non_null(strstr(st_buf_cstr(&text), "\"Value\":\"14660210602831582403\""));
  json_decref(out);
  st_buf_free(&text);
  st_message_free(&m);
  json_decref(v);
}

static void test_block_header_vectors(void **state) {
  (void)state;
  json_t *v = load_extra("block_headers.json");
  assert_int_equal(json_array_size(v), 5);
  for (size_t i = 0; i < json_array_size(v); i++) {
    json_t *c = json_array_get(v, i);
    const char *hex = json_string_value(json_object_get(c, "cbor_hex"));
    const char *want_cid = json_string_value(json_object_get(c, "cid"));
    const json_t *jb = json_object_get(c, "block");
    st_buf want = ST_BUF_INIT, got = ST_BUF_INIT, fromj = ST_BUF_INIT, sb = ST_BUF_INIT;
    tu_hex(hex, &want);
    st_err err;
    st_block_header h, hj, hs;
    st_block_header_init(&h);
    st_block_header_init(&hj);
    st_block_header_init(&hs);
    if (st_block_header_decode(want.data, want.len, &h, &err)) fail_msg("case %zu: %s", i, err.msg);
    assert_int_equal(st_block_header_encode(&h, &got, &err), ST_OK);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, want.len);
    st_cid cid;
    assert_int_equal(st_block_header_cid(&h, &cid, &err), ST_OK);
    assert_string_equal(cid_str(&cid), want_cid);
    assert_int_equal(h.height, (int64_t)i + 1);
    assert_true(h.has_ticket && h.has_election_proof && h.has_bls_aggregate && h.has_block_sig);
    assert_int_equal(h.block_sig.type, ST_SIG_BLS);
    assert_int_equal(h.block_sig.len, 96);
    /* JSON -> header -> the same CBOR; header -> the vector's JSON */
    if (st_block_header_from_json(jb, &hj, &err)) fail_msg("case %zu: %s", i, err.msg);
    assert_int_equal(st_block_header_encode(&hj, &fromj, &err), ST_OK);
    assert_string_equal(tu_tohex(fromj.data, fromj.len), hex);
    json_t *out = NULL;
    assert_int_equal(st_block_header_to_json(&h, 't', &out, &err), ST_OK);
    assert_true(json_equal(out, (json_t *)jb));
    json_decref(out);
    /* signing bytes: the same header with BlockSig null */
    assert_int_equal(st_block_header_signing_bytes(&h, &sb, &err), ST_OK);
    assert_int_equal(st_block_header_decode(sb.data, sb.len, &hs, &err), ST_OK);
    assert_false(hs.has_block_sig);
    hs.has_block_sig = true;
    hs.block_sig = h.block_sig;
    st_buf_reset(&got);
    assert_int_equal(st_block_header_encode(&hs, &got, &err), ST_OK);
    assert_string_equal(tu_tohex(got.data, got.len), hex);
    assert_int_equal(sb.len, want.len - 97 - 2 + 1); /* 0x58 0x61 type+96 bytes became 0xf6 */
    st_block_header_free(&h);
    st_block_header_free(&hj);
    st_block_header_free(&hs);
    st_buf_free(&want);
    st_buf_free(&got);
    st_buf_free(&fromj);
    st_buf_free(&sb);
  }
  json_decref(v);
}

static void test_message_signing_bls_vectors(void **state) {
  (void)state;
  json_t *v = load_extra("message_signing.json");
  assert_int_equal(json_array_size(v), 2);
  for (size_t i = 0; i < json_array_size(v); i++) {
    json_t *c = json_array_get(v, i);
    st_err err;
    st_signed_message sm, back;
    st_signed_message_init(&sm);
    st_signed_message_init(&back);
    assert_int_equal(st_message_from_json(json_object_get(c, "Unsigned"), &sm.message, &err), ST_OK);
    st_cid cid;
    assert_int_equal(st_message_cid(&sm.message, &cid, &err), ST_OK);
    assert_string_equal(cid_str(&cid), json_string_value(json_object_get(c, "Cid")));
    uint8_t raw[ST_CID_MAX_BYTES];
    size_t n = st_cid_to_bytes(&cid, raw);
    assert_string_equal(tu_tohex(raw, n), json_string_value(json_object_get(c, "CidHexBytes")));
    /* the signed message: a BLS one keeps the unsigned CID */
    assert_int_equal(st_signature_from_json(json_object_get(c, "Signature"), "Signature", &sm.signature, &err), ST_OK);
    assert_int_equal(sm.signature.type, ST_SIG_BLS);
    assert_int_equal(sm.signature.len, 96);
    st_cid scid;
    assert_int_equal(st_signed_message_cid(&sm, &scid, &err), ST_OK);
    assert_true(st_cid_equal(&scid, &cid));
    st_buf enc = ST_BUF_INIT, again = ST_BUF_INIT;
    assert_int_equal(st_signed_message_encode(&sm, &enc, &err), ST_OK);
    assert_int_equal(enc.data[0], 0x82);
    /* the signature is the last item: 58 61 02 <96 bytes> */
    assert_int_equal(enc.data[enc.len - 99], 0x58);
    assert_int_equal(enc.data[enc.len - 98], 0x61);
    assert_int_equal(enc.data[enc.len - 97], 0x02);
    assert_int_equal(st_signed_message_decode(enc.data, enc.len, &back, &err), ST_OK);
    assert_int_equal(st_signed_message_encode(&back, &again, &err), ST_OK);
    assert_int_equal(again.len, enc.len);
    assert_memory_equal(again.data, enc.data, enc.len);
    /* JSON: both CIDs are the unsigned one; the signature object reads back as given */
    json_t *out = NULL;
    assert_int_equal(st_signed_message_to_json(&sm, 't', &out, &err), ST_OK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "CID"), "/")), cid_str(&cid));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(json_object_get(out, "Message"), "CID"), "/")),
        cid_str(&cid));
    assert_true(json_equal(json_object_get(out, "Signature"), json_object_get(c, "Signature")));
    st_signed_message_free(&back);
    st_signed_message_init(&back);
    assert_int_equal(st_signed_message_from_json(out, &back, &err), ST_OK);
    st_buf_reset(&again);
    assert_int_equal(st_signed_message_encode(&back, &again, &err), ST_OK);
    assert_int_equal(again.len, enc.len);
    assert_memory_equal(again.data, enc.data, enc.len);
    /* BLS cannot be verified here, and says so */
    assert_int_equal(st_signed_message_verify(&sm, &err), ST_EINVAL);
    tu_assert_err_contains(&err, "cannot verify a bls signature");
    json_decref(out);
    st_buf_free(&enc);
    st_buf_free(&again);
    st_signed_message_free(&sm);
    st_signed_message_free(&back);
  }
  json_decref(v);
}

/* ---------------------------------------------------------------- secp256k1 */

static void test_secp_sign_verify(void **state) {
  (void)state;
  st_buf sk = ST_BUF_INIT;
  b64(SECP_PRIV_B64, &sk);
  assert_int_equal(sk.len, 32);
  st_err err;
  st_signed_message sm;
  st_signed_message_init(&sm);
  sample_message(&sm.message);
  assert_int_equal(st_signed_message_sign_secp(&sm, sk.data, &err), ST_OK);
  assert_int_equal(sm.signature.type, ST_SIG_SECP256K1);
  assert_int_equal(sm.signature.len, 65);
  assert_int_equal(st_signed_message_verify(&sm, &err), ST_OK);

  /* the signature is over the unsigned CID bytes, as Lotus's message signer makes it */
  st_cid ucid;
  assert_int_equal(st_message_cid(&sm.message, &ucid, &err), ST_OK);
  uint8_t raw[ST_CID_MAX_BYTES];
  size_t n = st_cid_to_bytes(&ucid, raw);
  uint8_t sig[65];
  assert_int_equal(st_secp_sign(sk.data, raw, n, sig, &err), ST_OK);
  assert_memory_equal(sig, sm.signature.data, 65);

  /* the chain CID of a secp message is the CID of the signed encoding */
  st_buf enc = ST_BUF_INIT;
  assert_int_equal(st_signed_message_encode(&sm, &enc, &err), ST_OK);
  st_cid scid, want;
  st_cid_of_cbor(enc.data, enc.len, &want);
  assert_int_equal(st_signed_message_cid(&sm, &scid, &err), ST_OK);
  assert_true(st_cid_equal(&scid, &want));
  assert_false(st_cid_equal(&scid, &ucid));

  /* decoded, it still verifies */
  st_signed_message back;
  st_signed_message_init(&back);
  assert_int_equal(st_signed_message_decode(enc.data, enc.len, &back, &err), ST_OK);
  assert_int_equal(st_signed_message_verify(&back, &err), ST_OK);

  /* one byte of the signature changed */
  for (size_t pos = 0; pos < 65; pos += 16) {
    back.signature.data[pos] ^= 0x01;
    assert_int_equal(st_signed_message_verify(&back, &err), ST_ECRYPTO);
    tu_assert_err_contains(&err, "signature does not match From " SECP_ADDR);
    back.signature.data[pos] ^= 0x01;
  }
  /* one byte of the message changed */
  back.message.nonce++;
  assert_int_equal(st_signed_message_verify(&back, &err), ST_ECRYPTO);
  tu_assert_err_contains(&err,
                         "signature does not match From " SECP_ADDR ": signature was not made by the signer's key");
  back.message.nonce--;
  assert_int_equal(st_signed_message_verify(&back, &err), ST_OK);
  /* a flipped byte in the encoding fails too */
  enc.data[5] ^= 0x01; /* inside To's payload */
  st_err e2;
  if (st_signed_message_decode(enc.data, enc.len, &back, &e2) == ST_OK) {
    assert_int_equal(st_signed_message_verify(&back, &err), ST_ECRYPTO);
    tu_assert_err_contains(&err, "signature does not match From");
  }

  /* JSON round trip keeps the signature */
  json_t *out = NULL;
  assert_int_equal(st_signed_message_to_json(&sm, 't', &out, &err), ST_OK);
  assert_string_equal(json_string_value(json_object_get(json_object_get(out, "CID"), "/")), cid_str(&scid));
  assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "Signature"), "Type")), 1);
  st_signed_message_free(&back);
  st_signed_message_init(&back);
  assert_int_equal(st_signed_message_from_json(out, &back, &err), ST_OK);
  assert_int_equal(st_signed_message_verify(&back, &err), ST_OK);
  json_decref(out);

  /* a key that is not From's */
  assert_int_equal(st_address_parse("t1pyfq7dg6sq65acyomqvzvbgwni4zllglqffw5dy", &sm.message.from, NULL, &err), ST_OK);
  assert_int_equal(st_signed_message_sign_secp(&sm, sk.data, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "is not the message's From t1pyfq7dg6sq65acyomqvzvbgwni4zllglqffw5dy");
  assert_int_equal(st_signed_message_verify(&sm, &err), ST_ECRYPTO);
  tu_assert_err_contains(&err, "signature does not match From t1pyfq7dg6sq65acyomqvzvbgwni4zllglqffw5dy");

  st_buf_free(&enc);
  st_buf_free(&sk);
  st_signed_message_free(&sm);
  st_signed_message_free(&back);
}

/* ---------------------------------------------------------------- strict decoding */

static void expect_message_error(const st_buf *b, const char *needle) {
  st_message m;
  st_message_init(&m);
  st_err err;
  assert_int_equal(st_message_decode(b->data, b->len, &m, &err), ST_EINVAL);
  tu_assert_err_contains(&err, needle);
  /* without an st_err too */
  assert_int_equal(st_message_decode(b->data, b->len, &m, NULL), ST_EINVAL);
  st_message_free(&m);
}

static void test_message_rejects(void **state) {
  (void)state;
  st_message m;
  st_message_init(&m);
  sample_message(&m);
  st_err err;
  st_buf good = ST_BUF_INIT, b = ST_BUF_INIT;
  assert_int_equal(st_message_encode(&m, &good, &err), ST_OK);

  /* trailing bytes */
  st_buf_append(&b, good.data, good.len);
  st_buf_putc(&b, 0x00);
  expect_message_error(&b, "message: cbor: 1 trailing byte after the item");

  /* the 9-field 2020 layout: Version, To, From, Nonce, Value, GasPrice, GasLimit, Method, Params */
  st_buf_reset(&b);
  st_cbor_put_array(&b, 9);
  st_cbor_put_uint(&b, 0);
  st_cbor_put_bytes(&b, m.to.bytes, m.to.len);
  st_cbor_put_bytes(&b, m.from.bytes, m.from.len);
  st_cbor_put_uint(&b, 0);
  st_cbor_put_bigint(&b, m.value);
  st_cbor_put_bigint(&b, m.gas_fee_cap);
  st_cbor_put_int(&b, 10101);
  st_cbor_put_uint(&b, 0);
  st_cbor_put_bytes(&b, NULL, 0);
  expect_message_error(&b, "expected an array of 10 items, found 9");
  /* other lengths */
  st_buf_reset(&b);
  st_buf_append(&b, good.data, good.len);
  b.data[0] = 0x8b;
  expect_message_error(&b, "message at offset 0: expected an array of 10 items, found 11");

  /* Version 1 */
  st_buf_reset(&b);
  st_buf_append(&b, good.data, good.len);
  assert_int_equal(b.data[1], 0x00);
  b.data[1] = 0x01;
  expect_message_error(&b, "message: field Version: must be 0, got 1");
  m.version = 1;
  assert_int_equal(st_message_encode(&m, &b, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "message: field Version: must be 0");
  m.version = 0;

  /* negative Value, GasPremium */
  mpz_set_si(m.value, -5);
  assert_int_equal(st_message_encode(&m, &b, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "message: field Value: must not be negative");
  st_buf_reset(&b);
  st_cbor_put_array(&b, 10);
  st_cbor_put_uint(&b, 0);
  st_cbor_put_bytes(&b, m.to.bytes, m.to.len);
  st_cbor_put_bytes(&b, m.from.bytes, m.from.len);
  st_cbor_put_uint(&b, 0);
  st_cbor_put_bigint(&b, m.value); /* 42 01 05 */
  st_cbor_put_int(&b, 1);
  st_cbor_put_bigint(&b, m.gas_fee_cap);
  st_cbor_put_bigint(&b, m.gas_premium);
  st_cbor_put_uint(&b, 0);
  st_cbor_put_bytes(&b, NULL, 0);
  expect_message_error(&b, "message: field Value: must not be negative");
  mpz_set_ui(m.value, 5);

  /* non-canonical big integers in Value: 00 00 05 (leading zero) and 00 (signed zero) */
  static const char *const bad_values[][2] = {
      {"43000005", "message: field Value: cbor: big integer at offset"},
      {"4100", "non-canonical big integer: zero must be an empty byte string"},
      {"420205", "sign byte must be 0x00 or 0x01"},
  };
  for (size_t k = 0; k < sizeof bad_values / sizeof bad_values[0]; k++) {
    st_buf_reset(&b);
    st_cbor_put_array(&b, 10);
    st_cbor_put_uint(&b, 0);
    st_cbor_put_bytes(&b, m.to.bytes, m.to.len);
    st_cbor_put_bytes(&b, m.from.bytes, m.from.len);
    st_cbor_put_uint(&b, 0);
    tu_hex(bad_values[k][0], &b);
    st_cbor_put_int(&b, 1);
    st_cbor_put_bigint(&b, m.gas_fee_cap);
    st_cbor_put_bigint(&b, m.gas_premium);
    st_cbor_put_uint(&b, 0);
    st_cbor_put_bytes(&b, NULL, 0);
    expect_message_error(&b, bad_values[k][1]);
  }

  /* a field of the wrong type, and a non-minimal integer */
  st_buf_reset(&b);
  st_cbor_put_array(&b, 10);
  st_cbor_put_uint(&b, 0);
  st_cbor_put_bytes(&b, m.to.bytes, m.to.len);
  st_cbor_put_bytes(&b, m.from.bytes, m.from.len);
  st_cbor_put_bytes(&b, "x", 1);
  expect_message_error(&b, "message: field Nonce: cbor: expected unsigned integer");
  st_buf_reset(&b);
  st_cbor_put_array(&b, 10);
  tu_hex("1800", &b); /* Version 0 in two bytes */
  st_buf_append(&b, good.data + 2, good.len - 2);
  expect_message_error(&b, "non-minimal encoding of integer 0");

  /* an invalid address (bad ID varint) and the undefined address */
  st_buf_reset(&b);
  st_cbor_put_array(&b, 10);
  st_cbor_put_uint(&b, 0);
  tu_hex("4200ff", &b);
  st_buf_append(&b, good.data + 6, good.len - 6); /* the rest after To (43 00e807) */
  expect_message_error(&b, "message: field To: address at offset 2");
  st_buf_reset(&b);
  st_cbor_put_array(&b, 10);
  st_cbor_put_uint(&b, 0);
  tu_hex("40", &b);
  st_buf_append(&b, good.data + 6, good.len - 6);
  expect_message_error(&b, "message: field To: address at offset 2: invalid address length: empty address");
  m.to.len = 0;
  assert_int_equal(st_message_encode(&m, &b, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "message: field To: undefined address");

  /* truncated input */
  expect_message_error(&(st_buf){good.data, good.len - 1, 0, false},
                       "message: field Params: cbor: byte string of length 3");
  expect_message_error(&(st_buf){good.data, 0, 0, false}, "unexpected end of input");

  st_message_free(&m);
  st_buf_free(&good);
  st_buf_free(&b);
}

static void test_signature_and_header_rejects(void **state) {
  (void)state;
  st_err err;
  st_signed_message sm;
  st_signed_message_init(&sm);
  sample_message(&sm.message);
  sm.signature.type = ST_SIG_SECP256K1;
  sm.signature.len = 65;
  st_buf enc = ST_BUF_INIT, b = ST_BUF_INIT;
  assert_int_equal(st_signed_message_encode(&sm, &enc, &err), ST_OK);
  /* signature type 9: the byte after the 58 42 header */
  st_buf_append(&b, enc.data, enc.len);
  assert_int_equal(b.data[b.len - 68], 0x58);
  assert_int_equal(b.data[b.len - 67], 0x42);
  b.data[b.len - 66] = 9;
  assert_int_equal(st_signed_message_decode(b.data, b.len, &sm, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "signed message: field Signature: signature at offset");
  tu_assert_err_contains(&err, "has unknown type 9");
  /* an empty signature */
  st_buf_reset(&b);
  st_buf_append(&b, enc.data, enc.len - 68);
  st_cbor_put_bytes(&b, NULL, 0);
  assert_int_equal(st_signed_message_decode(b.data, b.len, &sm, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "is an empty byte string");
  /* a 201-byte signature */
  st_buf_reset(&b);
  st_buf_append(&b, enc.data, enc.len - 68);
  uint8_t big[201] = {1};
  st_cbor_put_bytes(&b, big, sizeof big);
  assert_int_equal(st_signed_message_decode(b.data, b.len, &sm, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "has 201 bytes, more than 200");
  /* a bad message inside */
  st_buf_reset(&b);
  st_buf_append(&b, enc.data, enc.len);
  b.data[2] = 0x02;
  assert_int_equal(st_signed_message_decode(b.data, b.len, &sm, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "signed message: message: field Version: must be 0, got 2");
  /* the setter's rules */
  assert_int_equal(st_signature_set(&sm.signature, (st_sig_type)4, "x", 1, &err), ST_EINVAL);
  assert_int_equal(st_signature_set(&sm.signature, ST_SIG_BLS, big, 200, &err), ST_EINVAL);
  assert_int_equal(st_signature_set(&sm.signature, ST_SIG_BLS, big, 199, &err), ST_OK);
  st_buf_reset(&b);
  assert_int_equal(st_signature_encode(&sm.signature, &b, &err), ST_OK);
  assert_int_equal(b.len, 202);
  assert_string_equal(st_sig_type_name(ST_SIG_DELEGATED), "delegated");

  /* headers: 15 fields (the 2020 layout), a trailing byte, a bad nested ticket */
  json_t *v = load_extra("block_headers.json");
  st_buf hb = ST_BUF_INIT;
  tu_hex(json_string_value(json_object_get(json_array_get(v, 0), "cbor_hex")), &hb);
  st_block_header h;
  st_block_header_init(&h);
  st_buf_reset(&b);
  st_buf_append(&b, hb.data, hb.len);
  b.data[0] = 0x8f;
  assert_int_equal(st_block_header_decode(b.data, b.len, &h, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "block header at offset 0: expected an array of 16 items, found 15");
  st_buf_reset(&b);
  st_buf_append(&b, hb.data, hb.len);
  st_buf_putc(&b, 0xf6);
  assert_int_equal(st_block_header_decode(b.data, b.len, &h, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "block header: cbor: 1 trailing byte");
  st_buf_reset(&b);
  st_buf_append(&b, hb.data, hb.len);
  assert_int_equal(b.data[5], 0x81); /* 90 43 00e807 81 ...: the ticket's array */
  b.data[5] = 0x82;
  assert_int_equal(st_block_header_decode(b.data, b.len, &h, &err), ST_EINVAL);
  tu_assert_err_contains(&err,
                         "block header: field Ticket: cbor: ticket at offset 5: expected an array of 1 items, found 2");
  /* a valid header again, then the encoder's checks */
  assert_int_equal(st_block_header_decode(hb.data, hb.len, &h, &err), ST_OK);
  h.block_sig.type = (st_sig_type)0;
  assert_int_equal(st_block_header_encode(&h, &b, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "block header: field BlockSig: signature type 0");
  st_buf_reset(&b);
  assert_int_equal(st_block_header_signing_bytes(&h, &b, &err), ST_OK); /* BlockSig is not part of them */
  h.miner.len = 0;
  assert_int_equal(st_block_header_encode(&h, &b, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "block header: field Miner: undefined address");
  st_block_header_free(&h);
  json_decref(v);
  st_buf_free(&hb);
  st_buf_free(&enc);
  st_buf_free(&b);
  st_signed_message_free(&sm);
}

/* ---------------------------------------------------------------- tipsets */

static void test_tipset_key_vectors(void **state) {
  (void)state;
  st_err err;
  st_tipset_key k, back;
  st_tipset_key_init(&k);
  st_tipset_key_init(&back);
  st_cid c;
  assert_int_equal(st_tipset_key_cid(&k, &c, &err), ST_OK);
  assert_string_equal(cid_str(&c), "bafy2bzacea456askyutsf7uk4ta2q5aojrlcji4mhaqokbfalgvoq4ueeh4l2");
  st_cid c1;
  st_cid_of_cbor("a", 1, &c1);
  assert_string_equal(cid_str(&c1), "bafy2bzacecesrkxghscnq7vatble2hqdvwat6ed23vdu4vvo3uuggsoaya7ki");
  assert_int_equal(st_tipset_key_set(&k, &c1, 1, &err), ST_OK);
  assert_int_equal(st_tipset_key_cid(&k, &c, &err), ST_OK);
  assert_string_equal(cid_str(&c), "bafy2bzacealem6larzxhf7aggj3cozcefqez3jlksx2tuxehwdil27otcmy4q");

  /* bytes: the binary CIDs back to back, and back */
  st_cid two[2] = {c1, c};
  assert_int_equal(st_tipset_key_set(&k, two, 2, &err), ST_OK);
  st_buf kb = ST_BUF_INIT;
  st_tipset_key_bytes(&k, &kb);
  assert_int_equal(kb.len, 76);
  assert_int_equal(st_tipset_key_from_bytes(kb.data, kb.len, &back, &err), ST_OK);
  assert_true(st_tipset_key_equal(&k, &back));
  assert_int_equal(st_tipset_key_from_bytes(kb.data, kb.len - 1, &back, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "tipset key: CID 1 at byte 38");
  assert_true(st_tipset_key_equal(&k, &back)); /* unchanged on failure */

  /* JSON: [] for the empty key, null and [] read as empty */
  json_t *j = NULL;
  assert_int_equal(st_tipset_key_to_json(&k, &j, &err), ST_OK);
  assert_int_equal(json_array_size(j), 2);
  assert_int_equal(st_tipset_key_from_json(j, "TipSetKey", &back, &err), ST_OK);
  assert_true(st_tipset_key_equal(&k, &back));
  json_decref(j);
  st_tipset_key_free(&back);
  assert_int_equal(st_tipset_key_to_json(&back, &j, &err), ST_OK);
  st_buf text = ST_BUF_INIT;
  st_chain_json_append(&text, j);
  assert_string_equal(st_buf_cstr(&text), "[]");
  json_decref(j);
  j = json_null();
  assert_int_equal(st_tipset_key_from_json(j, "TipSetKey", &k, &err), ST_OK);
  assert_int_equal(k.n, 0);
  json_decref(j);
  j = json_pack("[{s:s}, {s:s}]", "/", "bafy2bzacealem6larzxhf7aggj3cozcefqez3jlksx2tuxehwdil27otcmy4q", "/",
                "bafy2bzace");
  assert_int_equal(st_tipset_key_from_json(j, "TipSetKey", &k, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "TipSetKey[1]: ");
  json_decref(j);
  st_buf_free(&text);
  st_buf_free(&kb);
  st_tipset_key_free(&k);
  st_tipset_key_free(&back);
}

static void test_tipset_sort(void **state) {
  (void)state;
  json_t *v = load_extra("block_headers.json");
  st_buf hb = ST_BUF_INIT;
  tu_hex(json_string_value(json_object_get(json_array_get(v, 0), "cbor_hex")), &hb);
  enum { N = 5 };
  st_block_header h[N];
  st_block_header *p[N];
  st_err err;
  /* tickets "t0".."t3"; blocks 3 and 4 share a ticket and differ in Timestamp */
  for (int i = 0; i < N; i++) {
    st_block_header_init(&h[i]);
    assert_int_equal(st_block_header_decode(hb.data, hb.len, &h[i], &err), ST_OK);
    char t[3] = {'t', (char)('0' + (i < 4 ? i : 3)), 0};
    assert_int_equal(st_chain_bytes_set(&h[i].ticket_vrf_proof, t, 2, &err), ST_OK);
    h[i].timestamp += (uint64_t)i;
    p[i] = &h[N - 1 - i];
  }
  assert_int_equal(st_tipset_sort_blocks(p, N, &err), ST_OK);
  /* the rule, checked pairwise: digests ascending, equal tickets by CID bytes */
  for (int i = 0; i + 1 < N; i++) {
    uint8_t da[32], db[32];
    st_blake2b_256(p[i]->ticket_vrf_proof.data, 2, da);
    st_blake2b_256(p[i + 1]->ticket_vrf_proof.data, 2, db);
    if (!memcmp(p[i]->ticket_vrf_proof.data, p[i + 1]->ticket_vrf_proof.data, 2)) {
      st_cid ca, cb;
      uint8_t ra[ST_CID_MAX_BYTES], rb[ST_CID_MAX_BYTES];
      assert_int_equal(st_block_header_cid(p[i], &ca, &err), ST_OK);
      assert_int_equal(st_block_header_cid(p[i + 1], &cb, &err), ST_OK);
      size_t na = st_cid_to_bytes(&ca, ra), nb = st_cid_to_bytes(&cb, rb);
      assert_int_equal(na, nb);
      assert_true(memcmp(ra, rb, na) < 0);
    } else {
      assert_true(memcmp(da, db, 32) < 0);
    }
  }
  /* every block comes after all blocks with smaller ticket digests */
  uint8_t d[4][32];
  for (int i = 0; i < 4; i++) {
    char t[2] = {'t', (char)('0' + i)};
    st_blake2b_256(t, 2, d[i]);
  }
  int seen = 0;
  for (int i = 0; i < N; i++) {
    int t = p[i]->ticket_vrf_proof.data[1] - '0';
    for (int k = 0; k < 4; k++)
      if (memcmp(d[k], d[t], 32) < 0) assert_true(seen & (1 << k));
    seen |= 1 << t;
  }
  /* sorting is deterministic whatever the input order */
  st_block_header *q[N];
  for (int i = 0; i < N; i++) q[i] = &h[(i * 2) % N];
  assert_int_equal(st_tipset_sort_blocks(q, N, &err), ST_OK);
  for (int i = 0; i < N; i++) assert_ptr_equal(p[i], q[i]);
  /* a block without a ticket */
  st_chain_bytes_free(&h[2].ticket_vrf_proof);
  h[2].has_ticket = false;
  assert_int_equal(st_tipset_sort_blocks(q, N, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "has no ticket");
  for (int i = 0; i < N; i++) st_block_header_free(&h[i]);
  st_buf_free(&hb);
  json_decref(v);
}

/* ---------------------------------------------------------------- receipts and actors */

static void test_receipt_and_actor(void **state) {
  (void)state;
  st_err err;
  st_receipt r, rb;
  st_receipt_init(&r);
  st_receipt_init(&rb);
  r.gas_used = 100;
  st_buf b = ST_BUF_INIT, text = ST_BUF_INIT;
  assert_int_equal(st_receipt_encode(&r, &b, &err), ST_OK);
  assert_string_equal(tu_tohex(b.data, b.len), "8300401864");
  r.exit_code = -1;
  assert_int_equal(st_chain_bytes_set(&r.ret, "\x01\x02", 2, &err), ST_OK);
  st_buf_reset(&b);
  assert_int_equal(st_receipt_encode(&r, &b, &err), ST_OK);
  assert_string_equal(tu_tohex(b.data, b.len),
                      "832042010218"
                      "64");
  assert_int_equal(st_receipt_decode(b.data, b.len, &rb, &err), ST_OK);
  assert_int_equal(rb.exit_code, -1);
  assert_int_equal(rb.ret.len, 2);
  assert_int_equal(rb.gas_used, 100);
  json_t *j = NULL;
  assert_int_equal(st_receipt_to_json(&rb, &j, &err), ST_OK);
  st_chain_json_append(&text, j);
  assert_string_equal(st_buf_cstr(&text), "{\"ExitCode\":-1,\"Return\":\"AQI=\",\"GasUsed\":100,\"EventsRoot\":null}");
  json_decref(j);
  b.data[0] = 0x84;
  assert_int_equal(st_receipt_decode(b.data, b.len, &rb, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "receipt at offset 0: expected an array of 3 items, found 4");

  st_actor a, ab;
  st_actor_init(&a);
  st_actor_init(&ab);
  st_cid_of_cbor("a", 1, &a.code);
  st_cid_of_cbor("b", 1, &a.head);
  a.nonce = 18446744073709551615ull;
  mpz_set_str(a.balance, "1000000000000000000000", 10);
  st_buf_reset(&b);
  assert_int_equal(st_actor_encode(&a, &b, &err), ST_OK);
  assert_int_equal(b.data[0], 0x84);
  assert_int_equal(st_actor_decode(b.data, b.len, &ab, &err), ST_OK);
  st_buf again = ST_BUF_INIT;
  assert_int_equal(st_actor_encode(&ab, &again, &err), ST_OK);
  assert_int_equal(again.len, b.len);
  assert_memory_equal(again.data, b.data, b.len);
  assert_int_equal(st_actor_to_json(&ab, &j, &err), ST_OK);
  st_buf_reset(&text);
  st_chain_json_append(&text, j);
  char want[512], head[ST_CID_STR_MAX];
  st_cid_to_string(&a.head, head);
  snprintf(
      want, sizeof want,
      "{\"Code\":{\"/\":\"bafy2bzacecesrkxghscnq7vatble2hqdvwat6ed23vdu4vvo3uuggsoaya7ki\"},\"Head\":{\"/\":\"%s\"},"
      "\"Nonce\":18446744073709551615,\"Balance\":\"1000000000000000000000\",\"DelegatedAddress\":null}",
      head);
  assert_string_equal(st_buf_cstr(&text), want);
  json_decref(j);
  st_actor_free(&a);
  st_actor_free(&ab);
  st_receipt_free(&r);
  st_receipt_free(&rb);
  st_buf_free(&b);
  st_buf_free(&again);
  st_buf_free(&text);
}

/* ---------------------------------------------------------------- JSON */

static void expect_json_error(const char *text, const char *needle) {
  st_err err;
  json_t *j = NULL;
  if (st_chain_json_loadb(text, strlen(text), 0, &j, &err)) fail_msg("%s", err.msg);
  st_message m;
  st_message_init(&m);
  assert_int_equal(st_message_from_json(j, &m, &err), ST_EINVAL);
  tu_assert_err_contains(&err, needle);
  st_message_free(&m);
  json_decref(j);
}

static void test_message_json(void **state) {
  (void)state;
  st_err err;
  st_message m;
  st_message_init(&m);
  sample_message(&m);
  json_t *j = NULL;
  assert_int_equal(st_message_to_json(&m, 't', &j, &err), ST_OK);
  st_buf text = ST_BUF_INIT;
  st_chain_json_append(&text, j);
  st_cid c;
  assert_int_equal(st_message_cid(&m, &c, &err), ST_OK);
  char want[1024];
  snprintf(
      want, sizeof want,
      "{\"Version\":0,\"To\":\"t01000\",\"From\":\"%s\",\"Nonce\":7,\"Value\":\"1000000000000000000\",\"GasLimit\":1000000,"
      "\"GasFeeCap\":\"100\",\"GasPremium\":\"1\",\"Method\":2,\"Params\":\"ggEC\",\"CID\":{\"/\":\"%s\"}}",
      SECP_ADDR, cid_str(&c));
  assert_string_equal(st_buf_cstr(&text), want);
  json_decref(j);
  /* f prefix; empty params are null */
  st_chain_bytes_free(&m.params);
  assert_int_equal(st_message_to_json(&m, 'f', &j, &err), ST_OK);
  assert_string_equal(json_string_value(json_object_get(j, "To")), "f01000");
  assert_true(json_is_null(json_object_get(j, "Params")));
  json_decref(j);
  assert_int_equal(st_message_to_json(&m, 'x', &j, &err), ST_EINVAL);

  /* keys in any case, CID and unknown keys ignored, missing keys are zero */
  const char *in = "{\"version\":0,\"TO\":\"f01000\",\"from\":\"" SECP_ADDR
                   "\",\"nOnCe\":3,\"Value\":\"5\",\"GASLIMIT\":-2,"
                   "\"CID\":{\"/\":\"nonsense\"},\"Extra\":[1,2],\"method\":18446744073709551615,\"Nonce\":4}";
  assert_int_equal(st_chain_json_loadb(in, strlen(in), 0, &j, &err), ST_OK);
  st_message d;
  st_message_init(&d);
  assert_int_equal(st_message_from_json(j, &d, &err), ST_OK);
  assert_true(d.nonce == 4); /* the last of "nOnCe" and "Nonce" */
  assert_true(d.gas_limit == -2);
  assert_true(d.method == UINT64_MAX);
  assert_int_equal(mpz_cmp_ui(d.value, 5), 0);
  assert_int_equal(mpz_sgn(d.gas_fee_cap), 0);
  assert_int_equal(d.params.len, 0);
  assert_string_equal(tu_tohex(d.to.bytes, d.to.len), "00e807");
  json_decref(j);
  /* "" and "<empty>" are the undefined address; encoding then names it */
  expect_json_error("{\"To\":\"t0x\"}", "Message.To: ");
  in = "{\"To\":\"<empty>\",\"From\":\"\"}";
  assert_int_equal(st_chain_json_loadb(in, strlen(in), 0, &j, &err), ST_OK);
  assert_int_equal(st_message_from_json(j, &d, &err), ST_OK);
  assert_int_equal(d.to.len, 0);
  json_decref(j);
  assert_int_equal(st_message_to_json(&d, 't', &j, &err), ST_EINVAL);
  assert_null(j);
  tu_assert_err_contains(&err, "message: field To: undefined address");

  expect_json_error("{\"GasLimit\":\"5\"}", "Message.GasLimit: must be an integer");
  expect_json_error("{\"GasLimit\":1.5}", "Message.GasLimit: must be an integer");
  expect_json_error("{\"GasLimit\":9223372036854775808}", "Message.GasLimit: must be an integer");
  expect_json_error("{\"Nonce\":-1}", "Message.Nonce: must be an unsigned integer");
  expect_json_error("{\"Nonce\":\"1\"}", "Message.Nonce: must be an unsigned integer");
  expect_json_error("{\"Value\":5}", "Message.Value: must be a decimal string");
  expect_json_error("{\"Value\":null}", "Message.Value: must be a decimal string");
  expect_json_error("{\"Value\":\"\"}", "Message.Value: must be a decimal string");
  expect_json_error("{\"Value\":\"1 000\"}", "Message.Value: must be a decimal string");
  expect_json_error("{\"Value\":\"-1\"}", "Message.Value: must not be negative");
  expect_json_error("{\"GasPremium\":\"-1\"}", "Message.GasPremium: must not be negative");
  expect_json_error("{\"Version\":1}", "Message.Version: must be 0, got 1");
  expect_json_error("{\"Params\":\"a\"}", "Message.Params: base64");
  expect_json_error("{\"Params\":5}", "Message.Params: must be a base64 string or null");
  expect_json_error("[]", "Message: must be a JSON object");

  /* signed messages name their parts */
  in = "{\"Message\":{\"Nonce\":true},\"Signature\":{\"Type\":1,\"Data\":null}}";
  assert_int_equal(st_chain_json_loadb(in, strlen(in), 0, &j, &err), ST_OK);
  st_signed_message sm;
  st_signed_message_init(&sm);
  assert_int_equal(st_signed_message_from_json(j, &sm, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "SignedMessage.Message.Nonce: must be an unsigned integer");
  json_decref(j);
  in = "{\"Message\":{},\"Signature\":{\"Type\":7,\"Data\":null}}";
  assert_int_equal(st_chain_json_loadb(in, strlen(in), 0, &j, &err), ST_OK);
  assert_int_equal(st_signed_message_from_json(j, &sm, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "SignedMessage.Signature.Type: must be 1 (secp256k1), 2 (bls) or 3 (delegated)");
  json_decref(j);

  st_signed_message_free(&sm);
  st_message_free(&d);
  st_message_free(&m);
  st_buf_free(&text);
}

static void test_header_json_errors(void **state) {
  (void)state;
  json_t *v = load_extra("block_headers.json");
  json_t *b = json_deep_copy(json_object_get(json_array_get(v, 1), "block"));
  st_block_header h;
  st_block_header_init(&h);
  st_err err;
  json_array_set_new(json_object_get(b, "Parents"), 1, json_string("bafy"));
  assert_int_equal(st_block_header_from_json(b, &h, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "BlockHeader.Parents[1]: must be a CID object");
  json_decref(b);
  b = json_deep_copy(json_object_get(json_array_get(v, 1), "block"));
  json_object_set_new(b, "Messages", json_null());
  assert_int_equal(st_block_header_from_json(b, &h, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "BlockHeader.Messages: must be a CID object");
  json_decref(b);
  b = json_deep_copy(json_object_get(json_array_get(v, 1), "block"));
  json_object_set_new(json_array_get(json_object_get(b, "BeaconEntries"), 0), "Round", json_string("2"));
  assert_int_equal(st_block_header_from_json(b, &h, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "BlockHeader.BeaconEntries[0].Round: must be an unsigned integer");
  json_decref(b);
  /* nullable and empty parts: null ticket, no beacons, [] parents; JSON writes null for them */
  b = json_deep_copy(json_object_get(json_array_get(v, 1), "block"));
  json_object_set_new(b, "Ticket", json_null());
  json_object_set_new(b, "BeaconEntries", json_array());
  json_object_set_new(b, "Parents", json_null());
  json_object_set_new(b, "BlockSig", json_null());
  json_object_set_new(b, "height", json_integer(-3));
  assert_int_equal(st_block_header_from_json(b, &h, &err), ST_OK);
  assert_false(h.has_ticket);
  assert_false(h.has_block_sig);
  assert_int_equal(h.n_beacon_entries, 0);
  assert_int_equal(h.n_parents, 0);
  assert_int_equal(h.height, -3);
  st_buf enc = ST_BUF_INIT;
  assert_int_equal(st_block_header_encode(&h, &enc, &err), ST_OK);
  st_block_header d;
  st_block_header_init(&d);
  assert_int_equal(st_block_header_decode(enc.data, enc.len, &d, &err), ST_OK);
  json_t *out = NULL;
  assert_int_equal(st_block_header_to_json(&d, 't', &out, &err), ST_OK);
  assert_true(json_is_null(json_object_get(out, "Ticket")));
  assert_true(json_is_null(json_object_get(out, "BeaconEntries")));
  assert_true(json_is_null(json_object_get(out, "Parents")));
  assert_true(json_is_null(json_object_get(out, "BlockSig")));
  assert_int_equal(json_integer_value(json_object_get(out, "Height")), -3);
  json_decref(out);
  json_decref(b);
  /* built by hand */
  st_block_header_free(&h);
  st_block_header_init(&h);
  assert_int_equal(st_address_parse("t01000", &h.miner, NULL, &err), ST_OK);
  assert_int_equal(st_block_header_add_beacon(&h, 9, "abc", 3, &err), ST_OK);
  assert_int_equal(st_block_header_add_post_proof(&h, 3, "proof", 5, &err), ST_OK);
  assert_int_equal(st_block_header_add_post_proof(&h, 4, NULL, 0, &err), ST_OK);
  st_cid pc[2];
  st_cid_of_cbor("a", 1, &pc[0]);
  st_cid_of_cbor("b", 1, &pc[1]);
  assert_int_equal(st_block_header_set_parents(&h, pc, 2, &err), ST_OK);
  h.parent_state_root = h.parent_message_receipts = h.messages = pc[0];
  st_buf_reset(&enc);
  assert_int_equal(st_block_header_encode(&h, &enc, &err), ST_OK);
  assert_int_equal(st_block_header_decode(enc.data, enc.len, &d, &err), ST_OK);
  assert_int_equal(d.n_win_post_proof, 2);
  assert_int_equal(d.win_post_proof[1].post_proof, 4);
  assert_int_equal(d.beacon_entries[0].round, 9);
  assert_int_equal(d.n_parents, 2);
  st_block_header_free(&d);
  st_block_header_free(&h);
  st_buf_free(&enc);
  json_decref(v);
}

static void test_json_uint64_loader(void **state) {
  (void)state;
  st_err err;
  json_t *j = NULL;
  const char *in =
      "[18446744073709551615,9223372036854775807,9223372036854775808,-1,0,\"18446744073709551615\","
      "\"a\\\\u0000b\",1e3,{\"k\":12345678901234567890}]";
  assert_int_equal(st_chain_json_loadb(in, strlen(in), 0, &j, &err), ST_OK);
  uint64_t x;
  assert_true(st_chain_json_u64_value(json_array_get(j, 0), &x) && x == UINT64_MAX);
  assert_true(st_chain_json_u64_value(json_array_get(j, 1), &x) && x == (uint64_t)INT64_MAX);
  assert_true(json_is_integer(json_array_get(j, 1)));
  assert_true(st_chain_json_u64_value(json_array_get(j, 2), &x) && x == (uint64_t)INT64_MAX + 1);
  assert_false(st_chain_json_u64_value(json_array_get(j, 3), &x));
  assert_false(st_chain_json_u64_value(json_array_get(j, 5), &x)); /* a real string stays a string */
  assert_string_equal(json_string_value(json_array_get(j, 6)), "a\\u0000b");
  assert_true(json_is_real(json_array_get(j, 7)));
  st_buf text = ST_BUF_INIT;
  st_chain_json_append(&text, j);
  assert_string_equal(st_buf_cstr(&text),
                      "[18446744073709551615,9223372036854775807,9223372036854775808,-1,0,\"18446744073709551615\","
                      "\"a\\\\u0000b\",1e+03,{\"k\":12345678901234567890}]");
  json_decref(j);
  /* beyond uint64, and a NUL escape in a string */
  in = "[18446744073709551616]";
  assert_int_equal(st_chain_json_loadb(in, strlen(in), 0, &j, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "invalid JSON: ");
  in = "{\"a\":\"x\\u0000\"}";
  assert_int_equal(st_chain_json_loadb(in, strlen(in), 0, &j, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "\\u0000 in a string at offset 7 is not accepted");
  in = "[1,";
  assert_int_equal(st_chain_json_loadb(in, strlen(in), 0, &j, &err), ST_EINVAL);
  /* a bare number needs JSON_DECODE_ANY, as with json_loadb */
  in = "18446744073709551615";
  assert_int_equal(st_chain_json_loadb(in, strlen(in), JSON_DECODE_ANY, &j, &err), ST_OK);
  assert_true(st_chain_json_u64_value(j, &x) && x == UINT64_MAX);
  json_decref(j);
  /* st_chain_json_u64 makes the same forms */
  j = st_chain_json_u64(5);
  assert_true(json_is_integer(j));
  json_decref(j);
  j = st_chain_json_u64(UINT64_MAX - 1);
  assert_true(st_chain_json_u64_value(j, &x) && x == UINT64_MAX - 1);
  json_decref(j);
  st_buf_free(&text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unsigned_message_vectors),
      cmocka_unit_test(test_big_method_text),
      cmocka_unit_test(test_block_header_vectors),
      cmocka_unit_test(test_message_signing_bls_vectors),
      cmocka_unit_test(test_secp_sign_verify),
      cmocka_unit_test(test_message_rejects),
      cmocka_unit_test(test_signature_and_header_rejects),
      cmocka_unit_test(test_tipset_key_vectors),
      cmocka_unit_test(test_tipset_sort),
      cmocka_unit_test(test_receipt_and_actor),
      cmocka_unit_test(test_message_json),
      cmocka_unit_test(test_header_json_errors),
      cmocka_unit_test(test_json_uint64_loader),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
