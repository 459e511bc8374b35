/* st_chain_json: the chain types in Lotus's JSON, and JSON text whose integers may exceed
 * int64 (marked strings). Part of st_chain_types (st_chain_types_int.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chain/st_chain_types_int.h"
#include "codec/st_token.h"
#include "core/st_encoding.h"
#include "core/st_json.h"

/* ================================================================ JSON: uint64 and text */

/* n decimal digits (n >= 1) that fit a uint64. */
static bool digits_u64(const char *s, size_t n, uint64_t *out) {
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    unsigned d = (unsigned)(s[i] - '0');
    if (x > (UINT64_MAX - d) / 10) return false;
    x = x * 10 + d;
  }
  *out = x;
  return true;
}

/* A marked string: NUL, then 1 to 20 decimal digits. */
static bool marked_value(const json_t *v, uint64_t *out) {
  if (!json_is_string(v)) return false;
  const char *s = json_string_value(v);
  size_t n = json_string_length(v);
  return n >= 2 && n <= 21 && s[0] == '\0' && digits_u64(s + 1, n - 1, out);
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
  uint64_t x;
  return n >= 19 && n <= 20 && s[0] >= '1' && s[0] <= '9' && digits_u64(s, n, &x) && x > (uint64_t)INT64_MAX;
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
  if (st_ct_bigint_payload_len(out) > ST_BIGINT_MAX_BYTES)
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
  st_ct_message_reset(m);
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
  if (!st_ct_sig_type_ok((int)(t < 0 || t > 255 ? 0 : t)))
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

/* An array of n objects made by item from arr, or null when empty. */
static json_t *j_list(const void *arr, size_t n, json_t *(*item)(const void *arr, size_t i, bool *ok), bool *ok) {
  json_t *a = n ? json_array() : json_null();
  for (size_t i = 0; a && i < n; i++) {
    json_t *e = item(arr, i, ok);
    if (!e || json_array_append_new(a, e)) *ok = false;
  }
  return a;
}

/* {num_key: num, bytes_key: base64 of b}: a beacon entry or a PoSt proof. */
static json_t *pair_to_json(const char *num_key, json_t *num, const char *bytes_key, const st_chain_bytes *b,
                            bool *ok) {
  json_t *e = json_object();
  if (!e) json_decref(num);
  if (e) jset(e, num_key, num, ok);
  if (e) jset(e, bytes_key, j_bytes_new(b), ok);
  return e;
}

static json_t *beacon_to_json(const void *arr, size_t i, bool *ok) {
  const st_beacon_entry *b = (const st_beacon_entry *)arr + i;
  return pair_to_json("Round", st_chain_json_u64(b->round), "Data", &b->data, ok);
}

static json_t *post_proof_to_json(const void *arr, size_t i, bool *ok) {
  const st_post_proof *p = (const st_post_proof *)arr + i;
  return pair_to_json("PoStProof", json_integer(p->post_proof), "ProofBytes", &p->proof_bytes, ok);
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
  jset(o, "BeaconEntries", j_list(h->beacon_entries, h->n_beacon_entries, beacon_to_json, &ok), &ok);
  jset(o, "WinPoStProof", j_list(h->win_post_proof, h->n_win_post_proof, post_proof_to_json, &ok), &ok);
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

/* Ticket and ElectionProof: null, or their objects. */
static st_code proofs_from_json(const json_t *j, st_block_header *h, st_err *err) {
  st_code rc = ST_OK;
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
  return rc;
}

/* The objects of array a (or null) read one by one with item into a new array, returned even
 * when reading fails (so that the caller frees what was read: *count counts each item begun);
 * *rc says how it went. */
static void *list_from_json(const json_t *a, const char *path, size_t size,
                            st_code (*item)(const json_t *x, const char *path, void *item, st_err *err), size_t *count,
                            st_code *rc, st_err *err) {
  size_t n;
  if ((*rc = j_array(a, path, &n, err)) || !n) return NULL;
  char *arr = calloc(n, size);
  if (!arr) {
    *rc = st_err_set(err, ST_ENOMEM, "out of memory");
    return NULL;
  }
  char p[160];
  for (size_t i = 0; i < n && !*rc; i++) {
    const json_t *x = json_array_get(a, i);
    *count = i + 1;
    snprintf(p, sizeof p, "%s[%zu]", path, i);
    *rc = j_object(x, p, err);
    if (!*rc) *rc = item(x, p, arr + i * size, err);
  }
  return arr;
}

/* "<path>.<name>" in p, for errors. */
static const char *jpath(char p[192], const char *path, const char *name) {
  snprintf(p, 192, "%s.%s", path, name);
  return p;
}

static st_code beacon_from_json(const json_t *x, const char *path, void *item, st_err *err) {
  st_beacon_entry *e = item;
  char p[192];
  st_code rc = j_u64(jget(x, "Round"), jpath(p, path, "Round"), &e->round, err);
  return rc ? rc : j_bytes(jget(x, "Data"), jpath(p, path, "Data"), ST_CHAIN_MAX_BYTES, &e->data, err);
}

static st_code post_proof_from_json(const json_t *x, const char *path, void *item, st_err *err) {
  st_post_proof *e = item;
  char p[192];
  st_code rc = j_i64(jget(x, "PoStProof"), jpath(p, path, "PoStProof"), &e->post_proof, err);
  return rc ? rc
            : j_bytes(jget(x, "ProofBytes"), jpath(p, path, "ProofBytes"), ST_CHAIN_MAX_BYTES, &e->proof_bytes, err);
}

st_code st_block_header_from_json(const json_t *j, st_block_header *h, st_err *err) {
  st_ct_header_reset(h);
  st_code rc = j_object(j, "BlockHeader", err);
  if (!rc) rc = j_address(jget(j, "Miner"), "BlockHeader.Miner", &h->miner, err);
  if (!rc) rc = proofs_from_json(j, h, err);
  if (!rc)
    h->beacon_entries = list_from_json(jget(j, "BeaconEntries"), "BlockHeader.BeaconEntries", sizeof *h->beacon_entries,
                                       beacon_from_json, &h->n_beacon_entries, &rc, err);
  if (!rc)
    h->win_post_proof = list_from_json(jget(j, "WinPoStProof"), "BlockHeader.WinPoStProof", sizeof *h->win_post_proof,
                                       post_proof_from_json, &h->n_win_post_proof, &rc, err);
  if (!rc) rc = j_cids(jget(j, "Parents"), "BlockHeader.Parents", &h->parents, &h->n_parents, err);
  if (!rc) rc = j_bigint(jget(j, "ParentWeight"), "BlockHeader.ParentWeight", false, h->parent_weight, err);
  if (!rc) rc = j_i64(jget(j, "Height"), "BlockHeader.Height", &h->height, err);
  if (!rc) rc = j_cid(jget(j, "ParentStateRoot"), "BlockHeader.ParentStateRoot", &h->parent_state_root, err);
  if (!rc)
    rc = j_cid(jget(j, "ParentMessageReceipts"), "BlockHeader.ParentMessageReceipts", &h->parent_message_receipts, err);
  if (!rc) rc = j_cid(jget(j, "Messages"), "BlockHeader.Messages", &h->messages, err);
  if (!rc)
    rc = j_opt_signature(jget(j, "BLSAggregate"), "BlockHeader.BLSAggregate", &h->has_bls_aggregate, &h->bls_aggregate,
                         err);
  if (!rc) rc = j_u64(jget(j, "Timestamp"), "BlockHeader.Timestamp", &h->timestamp, err);
  if (!rc) rc = j_opt_signature(jget(j, "BlockSig"), "BlockHeader.BlockSig", &h->has_block_sig, &h->block_sig, err);
  if (!rc) rc = j_u64(jget(j, "ForkSignaling"), "BlockHeader.ForkSignaling", &h->fork_signaling, err);
  if (!rc) rc = j_bigint(jget(j, "ParentBaseFee"), "BlockHeader.ParentBaseFee", false, h->parent_base_fee, err);
  return rc;
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
