/* st_jwt: the daemon's API tokens, the JWTs Lotus issues, so tokens move between the two.
 *
 * A token is HS256 (HMAC-SHA256) over a 32-byte secret, with the header {"alg":"HS256","typ":"JWT"}
 * and the payload {"Allow":["read","write",...]} and no other claims: byte for byte what Lotus
 * writes for the same secret and list (docs/lotus-api.md 3.2). libjwt signs and checks the
 * signature; this module checks the shape first, so an error says what is wrong.
 *
 * Verification honours the registered time claims when a token carries them: "exp" (expiry)
 * and "nbf" (not before), NumericDates in seconds, with ST_JWT_LEEWAY seconds of clock skew
 * either way. Tokens without them (all that Lotus and st_jwt_create make) never expire.
 *
 * Permissions are a set, not a hierarchy (Lotus checks exact membership): a token that allows
 * only "admin" cannot call a "read" method. Lotus's `auth create-token --perm sign` issues the
 * cumulative list read,write,sign; st_perm_upto gives that list for a level. */
#ifndef ST_JWT_H
#define ST_JWT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/st_err.h"

#define ST_JWT_SECRET_LEN 32
/* Longest token st_jwt_verify looks at; Lotus's admin token is 127 characters. */
#define ST_JWT_TOKEN_MAX 4096
/* Seconds of clock skew allowed on "exp" and "nbf". */
#define ST_JWT_LEEWAY 60

/* One bit per Lotus permission. */
#define ST_PERM_READ 1u
#define ST_PERM_WRITE 2u
#define ST_PERM_SIGN 4u
#define ST_PERM_ADMIN 8u
#define ST_PERM_ALL 15u

/* A fresh secret from the kernel's CSPRNG. Wipe it with st_secure_zero when done. */
st_code st_jwt_secret_new(uint8_t secret[ST_JWT_SECRET_LEN], st_err *err);

/* A token allowing perms (any ST_PERM_* bits; 0 gives an empty list). *token is the caller's to
 * free(). The list is written in the order read, write, sign, admin. */
st_code st_jwt_create(const uint8_t secret[ST_JWT_SECRET_LEN], unsigned perms, char **token, st_err *err);

/* Checks token against secret and sets *perms to the permissions it allows. Names it ignores
 * (Lotus's AuthNew accepts any string) grant nothing; a missing or null "Allow" grants nothing.
 * Errors (ST_ECRYPTO for a bad signature, ST_EINVAL for the rest) say what is wrong, e.g.
 * "token is not a JWT (want three base64url parts separated by '.')",
 * "token algorithm is \"none\", want \"HS256\"", "token signature does not match". A claim "exp"
 * or "nbf" that is not a number is ST_EINVAL naming it; a genuine token that has expired
 * ("token expired at ...") or is not yet valid ("token is not valid before ...") is ST_EPERM. */
st_code st_jwt_verify(const uint8_t secret[ST_JWT_SECRET_LEN], const char *token, unsigned *perms, st_err *err);

/* "read", "write", "sign", "admin" for one bit; NULL for anything else. */
const char *st_perm_name(unsigned perm);
/* The bit for a name (exact, lowercase); errors name the text and the four valid names. */
st_code st_perm_parse(const char *name, unsigned *perm, st_err *err);
/* The cumulative set up to and including one level, as Lotus's CLI issues it:
 * st_perm_upto(ST_PERM_SIGN) == READ|WRITE|SIGN. */
unsigned st_perm_upto(unsigned perm);
/* ["read","write",...] in canonical order (NULL only when out of memory). */
json_t *st_perms_to_json(unsigned perms);
/* A JSON list of names (AuthNew's param) to bits; errors name the bad element. Unlike Lotus,
 * which stores any string, unknown names are refused: they could never grant anything. */
st_code st_perms_from_json(const json_t *list, unsigned *perms, st_err *err);

#endif
