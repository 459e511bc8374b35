/* Tests for st_jwt: tokens byte for byte as Lotus writes them (checked against HMAC-SHA256
 * computed outside libjwt), verification and its error messages, and the permission helpers. */
#include "testutil.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/st_buf.h"
#include "core/st_encoding.h"
#include "crypto/st_secp.h"
#include "rpc/st_jwt.h"

/* Tokens for the secret 00 01 02 ... 1f, made with Python's hmac and base64 (not libjwt). */
#define TOK_ALL                                                                                                                   \
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJyZWFkIiwid3JpdGUiLCJzaWduIiwiYWRtaW4iXX0.5lRaUKL6YDoISGlo14xwpeeacUF8a9Hm" \
  "OlEQ3ukDj_o"
#define TOK_READ \
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJyZWFkIl19.jmK2iZ-Rw1dDlqiNvwTJHcshsajeTJIGR5fCh1k9q6I"
#define TOK_NONE "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6W119.gXr7Wy9uYnyaD9wN9l5O1QnC8Jm0O1PESsJyL7f720E"
/* {"alg":"HS256"} without typ, Allow ["admin"], valid signature */
#define TOK_NOTYP "eyJhbGciOiJIUzI1NiJ9.eyJBbGxvdyI6WyJhZG1pbiJdfQ.4Esd9ZxZMWNoqLheifv230jOKYnR_6wzMRgJuVZjGGY"
/* Allow ["read","frobnicate"], valid signature */
#define TOK_ODD \
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJyZWFkIiwiZnJvYm5pY2F0ZSJdfQ.67U4EXdgCiHZW_7-Mp1dzJXASz0YwpDGTmWBEfp9P5s"
#define TOK_ALG_NONE "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJBbGxvdyI6WyJhZG1pbiJdfQ."
#define TOK_HS512                                                                                                                  \
  "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJhZG1pbiJdfQ.eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eH" \
  "h4eHh4eHh4eHh4eHh4eHh4eA"

static void fixed_secret(uint8_t s[ST_JWT_SECRET_LEN]) {
  for (int i = 0; i < ST_JWT_SECRET_LEN; i++) s[i] = (uint8_t)i;
}

static void test_create_matches_lotus(void **state) {
  (void)state;
  uint8_t s[ST_JWT_SECRET_LEN];
  fixed_secret(s);
  char *t = NULL;
  st_err err;
  assert_int_equal(st_jwt_create(s, ST_PERM_ALL, &t, &err), ST_OK);
  assert_string_equal(t, TOK_ALL);
  /* every Lotus token starts with this header (docs/lotus-api.md 3.2) */
  assert_memory_equal(t, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37);
  free(t);
  assert_int_equal(st_jwt_create(s, ST_PERM_READ, &t, &err), ST_OK);
  assert_string_equal(t, TOK_READ);
  free(t);
  assert_int_equal(st_jwt_create(s, 0, &t, &err), ST_OK);
  assert_string_equal(t, TOK_NONE);
  free(t);
}

static void test_verify_vectors(void **state) {
  (void)state;
  uint8_t s[ST_JWT_SECRET_LEN];
  fixed_secret(s);
  unsigned p = 99;
  st_err err;
  assert_int_equal(st_jwt_verify(s, TOK_ALL, &p, &err), ST_OK);
  assert_int_equal(p, ST_PERM_ALL);
  assert_int_equal(st_jwt_verify(s, TOK_READ, &p, &err), ST_OK);
  assert_int_equal(p, ST_PERM_READ);
  assert_int_equal(st_jwt_verify(s, TOK_NONE, &p, &err), ST_OK);
  assert_int_equal(p, 0);
  /* typ is optional (gbrlsnchs/jwt does not check it) */
  assert_int_equal(st_jwt_verify(s, TOK_NOTYP, &p, &err), ST_OK);
  assert_int_equal(p, ST_PERM_ADMIN);
  /* a name Lotus's AuthNew let through grants nothing */
  assert_int_equal(st_jwt_verify(s, TOK_ODD, &p, &err), ST_OK);
  assert_int_equal(p, ST_PERM_READ);
}

static void test_round_trip(void **state) {
  (void)state;
  uint8_t s[ST_JWT_SECRET_LEN], s2[ST_JWT_SECRET_LEN], zero[ST_JWT_SECRET_LEN] = {0};
  st_err err;
  assert_int_equal(st_jwt_secret_new(s, &err), ST_OK);
  assert_int_equal(st_jwt_secret_new(s2, &err), ST_OK);
  assert_memory_not_equal(s, s2, ST_JWT_SECRET_LEN);
  assert_memory_not_equal(s, zero, ST_JWT_SECRET_LEN);
  for (unsigned perms = 0; perms <= ST_PERM_ALL; perms++) {
    char *t = NULL;
    unsigned got = 99;
    assert_int_equal(st_jwt_create(s, perms, &t, &err), ST_OK);
    assert_int_equal(st_jwt_verify(s, t, &got, &err), ST_OK);
    assert_int_equal(got, perms);
    /* another node's secret */
    assert_int_equal(st_jwt_verify(s2, t, &got, &err), ST_ECRYPTO);
    assert_string_equal(err.msg, "token signature does not match");
    assert_int_equal(got, 0);
    free(t);
  }
  st_secure_zero(s, sizeof s);
  st_secure_zero(s2, sizeof s2);
}

static void expect_bad(const char *token, st_code code, const char *needle) {
  uint8_t s[ST_JWT_SECRET_LEN];
  fixed_secret(s);
  unsigned p = 99;
  st_err err;
  assert_int_equal(st_jwt_verify(s, token, &p, &err), code);
  assert_int_equal(p, 0);
  tu_assert_err_contains(&err, needle);
}

static void test_verify_errors(void **state) {
  (void)state;
  expect_bad(NULL, ST_EINVAL, "token is empty");
  expect_bad("", ST_EINVAL, "token is empty");
  expect_bad("abc", ST_EINVAL, "token is not a JWT (want three base64url parts separated by '.')");
  expect_bad("a.b", ST_EINVAL, "token is not a JWT");
  expect_bad("a.b.c.d", ST_EINVAL, "token is not a JWT");
  expect_bad("..", ST_EINVAL, "token is not a JWT");
  expect_bad("a..c", ST_EINVAL, "token is not a JWT");
  expect_bad(TOK_ALG_NONE, ST_EINVAL, "token is not a JWT"); /* no signature part */
  expect_bad("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJBbGxvdyI6WyJhZG1pbiJdfQ.AAAA", ST_EINVAL,
             "token algorithm is \"none\", want \"HS256\"");
  expect_bad(TOK_HS512, ST_EINVAL, "token algorithm is \"HS512\"");
  expect_bad("eyJ+bGc.eyJBbGxvdyI6W119.AAAA", ST_EINVAL,
             "token header is not base64url: invalid base64url character '+'");
  expect_bad("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.bm90IGpzb24.AAAA", ST_EINVAL, "token payload is not a JSON object");
  expect_bad("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.WzFd.AAAA", ST_EINVAL,
             "token payload is not a JSON object");                                         /* [1] */
  expect_bad("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6InJlYWQifQ.AAAA", ST_EINVAL, /* {"Allow":"read"} */
             "token payload: \"Allow\" is not a list of permission names");
  expect_bad("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WzFdfQ.AAAA", ST_EINVAL,
             "\"Allow\" element 1 is not a string");
  expect_bad("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6W119.AA*A", ST_EINVAL,
             "token signature is not base64url");
  /* the read token's signature on the all-permissions payload */
  expect_bad(
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJyZWFkIiwid3JpdGUiLCJzaWduIiwiYWRtaW4iXX0."
      "jmK2iZ-Rw1dDlqiNvwTJHcshsajeTJIGR5fCh1k9q6I",
      ST_ECRYPTO, "token signature does not match");
  /* the right signature with its unused low bits set: not the canonical encoding */
  expect_bad(
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJyZWFkIiwid3JpdGUiLCJzaWduIiwiYWRtaW4iXX0.5lRaUKL6YDoISGlo14xwpeeacUF8a9Hm"
      "OlEQ3ukDj_p",
      ST_ECRYPTO, "token signature does not match");
  char *longtok = malloc(ST_JWT_TOKEN_MAX + 2);
  memset(longtok, 'a', ST_JWT_TOKEN_MAX + 1);
  longtok[ST_JWT_TOKEN_MAX + 1] = 0;
  expect_bad(longtok, ST_EINVAL, "token is longer than 4096 characters");
  free(longtok);
}

static void test_perm_helpers(void **state) {
  (void)state;
  st_err err;
  unsigned p = 0;
  assert_string_equal(st_perm_name(ST_PERM_READ), "read");
  assert_string_equal(st_perm_name(ST_PERM_ADMIN), "admin");
  assert_null(st_perm_name(ST_PERM_READ | ST_PERM_WRITE));
  assert_null(st_perm_name(0));
  assert_int_equal(st_perm_parse("sign", &p, &err), ST_OK);
  assert_int_equal(p, ST_PERM_SIGN);
  assert_int_equal(st_perm_parse("Admin", &p, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "permission \"Admin\" is not one of read, write, sign, admin");
  /* Lotus's CLI: --perm sign issues read, write, sign */
  assert_int_equal(st_perm_upto(ST_PERM_READ), ST_PERM_READ);
  assert_int_equal(st_perm_upto(ST_PERM_WRITE), ST_PERM_READ | ST_PERM_WRITE);
  assert_int_equal(st_perm_upto(ST_PERM_SIGN), ST_PERM_READ | ST_PERM_WRITE | ST_PERM_SIGN);
  assert_int_equal(st_perm_upto(ST_PERM_ADMIN), ST_PERM_ALL);
  assert_int_equal(st_perm_upto(0), 0);
  json_t *j = st_perms_to_json(ST_PERM_ADMIN | ST_PERM_READ);
  char *text = json_dumps(j, JSON_COMPACT);
  assert_string_equal(text, "[\"read\",\"admin\"]");
  free(text);
  assert_int_equal(st_perms_from_json(j, &p, &err), ST_OK);
  assert_int_equal(p, ST_PERM_ADMIN | ST_PERM_READ);
  json_decref(j);
  j = json_pack("[ss]", "read", "root");
  assert_int_equal(st_perms_from_json(j, &p, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "permission \"root\" is not one of");
  json_decref(j);
  j = json_pack("[si]", "read", 3);
  assert_int_equal(st_perms_from_json(j, &p, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "permission 2 is not a string");
  json_decref(j);
  j = json_string("read");
  assert_int_equal(st_perms_from_json(j, &p, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "permissions must be a list");
  json_decref(j);
}

/* base64url without padding, appended to b. */
static void b64url(st_buf *b, const void *p, size_t n) {
  size_t at = b->len;
  st_base64_append(b, p, n, false);
  for (size_t i = at; i < b->len; i++)
    if (b->data[i] == (uint8_t)'+' || b->data[i] == (uint8_t)'/')
      b->data[i] = b->data[i] == (uint8_t)'+' ? (uint8_t)'-' : (uint8_t)'_';
}

/* A token for the fixed secret with payload as given, signed here (HMAC-SHA256), not by libjwt. */
static char *sign(const char *payload) {
  uint8_t s[ST_JWT_SECRET_LEN], mac[32];
  unsigned maclen = 0;
  fixed_secret(s);
  const char head[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  st_buf b = ST_BUF_INIT;
  b64url(&b, head, strlen(head));
  st_buf_putc(&b, '.');
  b64url(&b, payload, strlen(payload));
  assert_non_null(HMAC(EVP_sha256(), s, sizeof s, b.data, b.len, mac, &maclen));
  st_buf_putc(&b, '.');
  b64url(&b, mac, maclen);
  char *t = strdup(st_buf_cstr(&b));
  st_buf_free(&b);
  return t;
}

/* The payload pre, the time now + delta, post; the token verifies with want, or fails naming needle. */
static void expect_timed(const char *pre, long long delta, const char *post, st_code want, const char *needle) {
  char payload[256];
  snprintf(payload, sizeof payload, "%s%lld%s", pre, (long long)time(NULL) + delta, post);
  char *t = sign(payload);
  uint8_t s[ST_JWT_SECRET_LEN];
  fixed_secret(s);
  unsigned p = 99;
  st_err err;
  assert_int_equal(st_jwt_verify(s, t, &p, &err), want);
  if (want) {
    assert_int_equal(p, 0);
    tu_assert_err_contains(&err, needle);
  } else {
    assert_int_equal(p, ST_PERM_READ);
  }
  free(t);
}

static void test_time_claims(void **state) {
  (void)state;
  /* absent: accepted, as every Lotus token is (another claim, "iat", is ignored) */
  expect_timed("{\"Allow\":[\"read\"],\"iat\":", 0, "}", ST_OK, NULL);
  /* exp in the future, or past by less than the leeway: accepted */
  expect_timed("{\"Allow\":[\"read\"],\"exp\":", 3600, "}", ST_OK, NULL);
  expect_timed("{\"Allow\":[\"read\"],\"exp\":", -(ST_JWT_LEEWAY / 2), "}", ST_OK, NULL);
  /* exp in the past: refused */
  expect_timed("{\"Allow\":[\"read\"],\"exp\":", -3600, "}", ST_EPERM, "token expired at ");
  expect_timed("{\"Allow\":[\"read\"],\"exp\":", -(ST_JWT_LEEWAY + 10), "}", ST_EPERM, "(\"exp\")");
  /* nbf in the past, or ahead by less than the leeway: accepted */
  expect_timed("{\"Allow\":[\"read\"],\"nbf\":", -3600, "}", ST_OK, NULL);
  expect_timed("{\"Allow\":[\"read\"],\"nbf\":", ST_JWT_LEEWAY / 2, "}", ST_OK, NULL);
  /* nbf in the future: refused */
  expect_timed("{\"Allow\":[\"read\"],\"nbf\":", 3600, "}", ST_EPERM, "token is not valid before ");
  expect_timed("{\"Allow\":[\"read\"],\"nbf\":", ST_JWT_LEEWAY + 10, "}", ST_EPERM, "(\"nbf\")");
  /* both, in the window; and a real number of seconds */
  expect_timed("{\"Allow\":[\"read\"],\"nbf\":", -10, ",\"exp\":1e12}", ST_OK, NULL);
  expect_timed("{\"Allow\":[\"read\"],\"exp\":", -3600, ".5}", ST_EPERM, "token expired");
  /* not a number: refused, naming the claim (before the signature is looked at) */
  expect_timed("{\"Allow\":[\"read\"],\"exp\":\"", 3600, "\"}", ST_EINVAL, "token payload: \"exp\" is not a number");
  expect_timed("{\"Allow\":[\"read\"],\"nbf\":\"", 0, "\"}", ST_EINVAL, "token payload: \"nbf\" is not a number");
  expect_timed("{\"Allow\":[\"read\"],\"exp\":null,\"x\":", 0, "}", ST_EINVAL, "\"exp\" is not a number");
  expect_timed("{\"Allow\":[\"read\"],\"nbf\":[", 0, "]}", ST_EINVAL, "\"nbf\" is not a number");
  /* an expired token with a bad signature is a bad signature */
  char payload[128];
  snprintf(payload, sizeof payload, "{\"Allow\":[\"read\"],\"exp\":%lld}", (long long)time(NULL) - 3600);
  char *t = sign(payload);
  t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
  expect_bad(t, ST_ECRYPTO, "token signature does not match");
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_matches_lotus), cmocka_unit_test(test_verify_vectors),
      cmocka_unit_test(test_round_trip),           cmocka_unit_test(test_verify_errors),
      cmocka_unit_test(test_perm_helpers),         cmocka_unit_test(test_time_claims),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
