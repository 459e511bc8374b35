/* st_jwt: Lotus-compatible HS256 API tokens; libjwt signs and verifies, we check the shape. */
#include "rpc/st_jwt.h"

#include <errno.h>
#include <jwt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/st_buf.h"
#include "core/st_encoding.h"
#include "crypto/st_secp.h"

static const char *const PERM_NAMES[4] = {"read", "write", "sign", "admin"};

const char *st_perm_name(unsigned perm) {
  for (unsigned i = 0; i < 4; i++)
    if (perm == 1u << i) return PERM_NAMES[i];
  return NULL;
}

st_code st_perm_parse(const char *name, unsigned *perm, st_err *err) {
  for (unsigned i = 0; i < 4; i++)
    if (!strcmp(name, PERM_NAMES[i])) {
      *perm = 1u << i;
      return ST_OK;
    }
  return st_err_set(err, ST_EINVAL, "permission \"%.60s\" is not one of read, write, sign, admin", name);
}

unsigned st_perm_upto(unsigned perm) {
  unsigned all = 0;
  for (unsigned bit = 1; bit <= ST_PERM_ADMIN; bit <<= 1) {
    all |= bit;
    if (perm & bit) return all;
  }
  return 0;
}

json_t *st_perms_to_json(unsigned perms) {
  json_t *list = json_array();
  for (unsigned i = 0; list && i < 4; i++)
    if ((perms & (1u << i)) && json_array_append_new(list, json_string(PERM_NAMES[i]))) {
      json_decref(list);
      return NULL;
    }
  return list;
}

st_code st_perms_from_json(const json_t *list, unsigned *perms, st_err *err) {
  *perms = 0;
  if (!json_is_array(list))
    return st_err_set(err, ST_EINVAL, "permissions must be a list of names (read, write, sign, admin)");
  for (size_t i = 0; i < json_array_size(list); i++) {
    const json_t *v = json_array_get(list, i);
    unsigned bit = 0;
    if (!json_is_string(v)) return st_err_set(err, ST_EINVAL, "permission %zu is not a string", i + 1);
    if (st_perm_parse(json_string_value(v), &bit, err)) return ST_EINVAL;
    *perms |= bit;
  }
  return ST_OK;
}

st_code st_jwt_secret_new(uint8_t secret[ST_JWT_SECRET_LEN], st_err *err) {
  return st_random_bytes(secret, ST_JWT_SECRET_LEN, err);
}

st_code st_jwt_create(const uint8_t secret[ST_JWT_SECRET_LEN], unsigned perms, char **token, st_err *err) {
  *token = NULL;
  st_buf payload = ST_BUF_INIT;
  st_buf_puts(&payload, "{\"Allow\":[");
  for (unsigned i = 0, n = 0; i < 4; i++)
    if (perms & (1u << i)) st_buf_printf(&payload, "%s\"%s\"", n++ ? "," : "", PERM_NAMES[i]);
  st_buf_puts(&payload, "]}");
  jwt_t *j = NULL;
  char *text = NULL;
  st_code rc = st_buf_status(&payload, err);
  if (!rc && jwt_new(&j)) rc = st_err_set(err, ST_ENOMEM, "out of memory creating a token");
  if (!rc &&
      (jwt_set_alg(j, JWT_ALG_HS256, secret, ST_JWT_SECRET_LEN) || jwt_add_grants_json(j, st_buf_cstr(&payload))))
    rc = st_err_set(err, ST_EINTERNAL, "libjwt refused the token's algorithm or payload");
  if (!rc && !(text = jwt_encode_str(j))) rc = st_err_set(err, ST_ENOMEM, "out of memory signing a token");
  if (!rc && !(*token = strdup(text))) rc = st_err_set(err, ST_ENOMEM, "out of memory signing a token");
  free(text); /* libjwt 1.10 allocates with malloc unless told otherwise */
  jwt_free(j);
  st_buf_free(&payload);
  return rc;
}

/* A time claim ("exp" or "nbf"): absent is fine (*has false); present, it must be a number. */
static st_code time_claim(const json_t *body, const char *name, bool *has, double *at, st_err *err) {
  const json_t *v = json_object_get(body, name);
  *has = v != NULL;
  *at = json_is_number(v) ? json_number_value(v) : 0;
  if (v && !json_is_number(v))
    return st_err_set(err, ST_EINVAL, "token payload: \"%s\" is not a number (a NumericDate: seconds since 1970)",
                      name);
  return ST_OK;
}

/* Decodes one base64url part (no padding, canonical) into out. */
static st_code b64url_decode(const char *s, size_t n, st_buf *out, st_err *err) {
  char *tmp = malloc(n + 1);
  if (!tmp) return st_err_set(err, ST_ENOMEM, "out of memory decoding a token");
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '+' || c == '/' || c == '=') {
      free(tmp);
      return st_err_set(err, ST_EINVAL, "invalid base64url character '%c' at position %zu", c, i);
    }
    tmp[i] = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  st_code rc = st_base64_decode(tmp, n, false, out, err);
  free(tmp);
  return rc;
}

/* One part decoded and parsed as a JSON object; what names the part in errors. */
static st_code part_object(const char *s, size_t n, const char *what, json_t **out, st_err *err) {
  st_buf raw = ST_BUF_INIT;
  *out = NULL;
  st_code rc = b64url_decode(s, n, &raw, err);
  if (rc) {
    st_buf_free(&raw);
    return st_err_wrap(err, rc, "token %s is not base64url", what);
  }
  json_error_t je;
  *out = json_loadb((const char *)raw.data, raw.len, JSON_REJECT_DUPLICATES, &je);
  st_buf_free(&raw);
  if (!*out) return st_err_set(err, ST_EINVAL, "token %s is not a JSON object: %s", what, je.text);
  return ST_OK;
}

st_code st_jwt_verify(const uint8_t secret[ST_JWT_SECRET_LEN], const char *token, unsigned *perms, st_err *err) {
  *perms = 0;
  if (!token || !*token) return st_err_set(err, ST_EINVAL, "token is empty");
  size_t len = strnlen(token, ST_JWT_TOKEN_MAX + 1);
  if (len > ST_JWT_TOKEN_MAX) return st_err_set(err, ST_EINVAL, "token is longer than %d characters", ST_JWT_TOKEN_MAX);
  const char *dot1 = memchr(token, '.', len);
  const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
  if (!dot1 || !dot2 || dot1 == token || dot2 == dot1 + 1 || !dot2[1] || strchr(dot2 + 1, '.'))
    return st_err_set(err, ST_EINVAL, "token is not a JWT (want three base64url parts separated by '.')");
  for (const char *p = dot2 + 1; *p; p++)
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
      return st_err_set(err, ST_EINVAL, "token signature is not base64url");

  json_t *head = NULL, *body = NULL;
  st_code rc = part_object(token, (size_t)(dot1 - token), "header", &head, err);
  if (!rc) rc = part_object(dot1 + 1, (size_t)(dot2 - dot1 - 1), "payload", &body, err);
  if (!rc && !json_is_object(head)) rc = st_err_set(err, ST_EINVAL, "token header is not a JSON object");
  if (!rc && !json_is_object(body)) rc = st_err_set(err, ST_EINVAL, "token payload is not a JSON object");
  const json_t *alg = rc ? NULL : json_object_get(head, "alg");
  if (!rc && !json_is_string(alg)) rc = st_err_set(err, ST_EINVAL, "token header has no \"alg\" string");
  if (!rc && strcmp(json_string_value(alg), "HS256"))
    rc = st_err_set(err, ST_EINVAL, "token algorithm is \"%.40s\", want \"HS256\"", json_string_value(alg));
  const json_t *allow = rc ? NULL : json_object_get(body, "Allow");
  if (!rc && allow && !json_is_null(allow) && !json_is_array(allow))
    rc = st_err_set(err, ST_EINVAL, "token payload: \"Allow\" is not a list of permission names");
  unsigned bits = 0;
  for (size_t i = 0; !rc && i < json_array_size(allow); i++) {
    const json_t *v = json_array_get(allow, i);
    unsigned bit = 0;
    if (!json_is_string(v))
      rc = st_err_set(err, ST_EINVAL, "token payload: \"Allow\" element %zu is not a string", i + 1);
    else if (!st_perm_parse(json_string_value(v), &bit, NULL)) bits |= bit;
  }
  bool has_exp = false, has_nbf = false;
  double exp = 0, nbf = 0;
  if (!rc) rc = time_claim(body, "exp", &has_exp, &exp, err);
  if (!rc) rc = time_claim(body, "nbf", &has_nbf, &nbf, err);
  json_decref(head);
  json_decref(body);
  if (rc) return rc;

  jwt_t *j = NULL;
  int e = jwt_decode(&j, token, secret, ST_JWT_SECRET_LEN);
  bool ok = !e && j && jwt_get_alg(j) == JWT_ALG_HS256;
  jwt_free(j);
  if (e == ENOMEM) return st_err_set(err, ST_ENOMEM, "out of memory verifying a token");
  if (!ok) return st_err_set(err, ST_ECRYPTO, "token signature does not match");
  /* the time claims, only for a genuine token; ST_JWT_LEEWAY seconds either way for clock skew */
  double now = (double)time(NULL);
  if (has_exp && now >= exp + ST_JWT_LEEWAY)
    return st_err_set(err, ST_EPERM, "token expired at %.0f (\"exp\"), %.0f s ago", exp, now - exp);
  if (has_nbf && now + ST_JWT_LEEWAY < nbf)
    return st_err_set(err, ST_EPERM, "token is not valid before %.0f (\"nbf\"), %.0f s from now", nbf, nbf - now);
  *perms = bits;
  return ST_OK;
}
