/* st_params: schema-driven CBOR tuple to JSON, one recursive pass over the schema text. */
#include "chain/st_params.h"

#include <gmp.h>
#include <stdlib.h>
#include <string.h>

#include "chain/st_chain_types.h"
#include "chain/st_deal.h"
#include "codec/st_address.h"
#include "codec/st_bitfield.h"
#include "codec/st_cbor.h"
#include "codec/st_cid.h"
#include "codec/st_token.h"
#include "core/st_buf.h"
#include "core/st_encoding.h"

static st_code tuple(const char **sp, st_cbor_reader *r, json_t **out, const char *where, st_err *err);

/* The length of the field list at s: up to its closing ']' (or the end). */
static size_t fields_len(const char *s) {
  int depth = 0;
  size_t i = 0;
  for (; s[i] && !(s[i] == ']' && depth == 0); i++) depth += s[i] == '[' ? 1 : s[i] == ']' ? -1 : 0;
  return i;
}

static st_code value(const char **sp, st_cbor_reader *r, json_t **out, const char *where, st_err *err);

/* One value of the scalar or record type t. */
static st_code single(char t, st_cbor_reader *r, json_t **out, const char *where, st_err *err) {
  const uint8_t *p;
  size_t n;
  uint64_t u;
  int64_t i;
  bool b;
  st_code code = ST_OK;
  switch (t) {
    case 'u':
      if (!(code = st_cbor_read_uint(r, &u))) *out = st_chain_json_u64(u);
      break;
    case 'i':
      if (!(code = st_cbor_read_int(r, &i))) *out = json_integer(i);
      break;
    case 'B':
      if (!(code = st_cbor_read_bool(r, &b))) *out = json_boolean(b);
      break;
    case 'b':
      if (!(code = st_cbor_read_bytes(r, &p, &n))) {
        st_buf s = ST_BUF_INIT;
        st_base64_append(&s, p, n, true);
        *out = json_string(st_buf_cstr(&s));
        st_buf_free(&s);
      }
      break;
    case 'a':
      if (!(code = st_cbor_read_bytes(r, &p, &n))) {
        st_address a;
        char text[ST_ADDR_STR_MAX];
        if (!(code = st_address_from_bytes(p, n, &a, err)) && !(code = st_address_format(&a, 't', text, err)))
          *out = json_string(text);
      }
      break;
    case 'c': {
      st_cid c;
      if (!(code = st_cbor_read_cid(r, &c))) *out = st_chain_json_cid(&c);
      break;
    }
    case 'f':
      if (!(code = st_cbor_read_bytes(r, &p, &n))) {
        st_bitfield bf;
        st_bitfield_init(&bf);
        if (!(code = st_bitfield_decode(p, n, &bf, err))) *out = st_chain_json_bitfield(&bf);
        st_bitfield_free(&bf);
      }
      break;
    case 'p': {
      st_deal_proposal d;
      st_deal_proposal_init(&d);
      if (!(code = st_deal_proposal_read(r, &d))) *out = st_deal_proposal_to_json(&d);
      st_deal_proposal_clear(&d);
      break;
    }
    case 's': {
      st_signature sig;
      if (!(code = st_signature_read(r, &sig))) code = st_signature_to_json(&sig, out, err);
      break;
    }
    case 't': {
      mpz_t v;
      mpz_init(v);
      if (!(code = st_cbor_read_bigint(r, v))) {
        char *s = mpz_get_str(NULL, 10, v);
        *out = json_string(s);
        free(s);
      }
      mpz_clear(v);
      break;
    }
    default: return st_err_set(err, ST_EINTERNAL, "params schema: unknown type '%c' at %s", t, where);
  }
  return code;
}

/* A list: '*' of one element type, or '[' of tuples with the fields at *sp (advanced past
 * them, also when the list is empty). */
static st_code list(char t, const char **sp, st_cbor_reader *r, json_t **out, const char *where, st_err *err) {
  uint64_t count;
  st_code code = st_cbor_read_array(r, &count);
  if (code) return code;
  const char *start = *sp, *end = start;
  *out = json_array();
  for (uint64_t k = 0; k < count && !code; k++) {
    json_t *item;
    const char *s = start;
    code = t == '*' ? value(&s, r, &item, where, err) : tuple(&s, r, &item, where, err);
    if (!code) json_array_append_new(*out, item);
    end = s;
  }
  if (!count) end = t == '*' ? start + 1 : start + fields_len(start); /* skip the element type unread */
  *sp = t == '[' && *end == ']' ? end + 1 : end;
  return code;
}

/* One value of type *sp (advanced past it). */
static st_code value(const char **sp, st_cbor_reader *r, json_t **out, const char *where, st_err *err) {
  char t = *(*sp)++;
  *out = NULL;
  st_code code = t == '*' || t == '[' ? list(t, sp, r, out, where, err) : single(t, r, out, where, err);
  if (!code && !*out) code = st_err_set(err, ST_ENOMEM, "out of memory");
  if (code && err && !strstr(err->msg, where)) st_err_wrap(err, code, "%s", where);
  return code;
}

/* The fields at *sp (up to ']' or the end) as an object, from one CBOR array. */
static st_code tuple(const char **sp, st_cbor_reader *r, json_t **out, const char *where, st_err *err) {
  const char *s = *sp;
  size_t nfields = 0, len = fields_len(s);
  for (size_t i = 0, depth = 0; i < len; i++) {
    if (s[i] == '[') depth++;
    if (s[i] == ']') depth--;
    if (s[i] == ':' && !depth) nfields++;
  }
  st_code code = st_cbor_expect_array(r, nfields, where);
  *out = json_object();
  while (!code && *s && *s != ']') {
    const char *colon = strchr(s, ':');
    char name[64], at[160];
    snprintf(name, sizeof name, "%.*s", (int)(colon - s), s);
    snprintf(at, sizeof at, "%s.%s", where, name);
    s = colon + 1;
    json_t *v;
    if (!(code = value(&s, r, &v, at, err))) json_object_set_new(*out, name, v);
    if (*s == ',') s++;
  }
  if (code) {
    json_decref(*out);
    *out = NULL;
  }
  *sp = s;
  return code;
}

st_code st_params_to_json(const char *schema, const uint8_t *cbor, size_t len, json_t **out, st_err *err) {
  *out = NULL;
  if (!*schema) {
    if (len) return st_err_set(err, ST_EINVAL, "params: the method takes no parameters, but %zu bytes were given", len);
    *out = json_null();
    return ST_OK;
  }
  st_cbor_reader r;
  st_cbor_reader_init(&r, cbor, len, err);
  const char *s = schema;
  st_code code = *s == '=' ? (s++, value(&s, &r, out, "params", err)) : tuple(&s, &r, out, "params", err);
  if (!code) code = st_cbor_finish(&r);
  if (code) {
    json_decref(*out);
    *out = NULL;
    if (err && strncmp(err->msg, "params", 6)) st_err_wrap(err, code, "params");
  }
  return code;
}
