/* st_keystore: private keys on disk, one file per key in a repo's keystore directory.
 *
 * A key file holds exactly what `lotus wallet export` prints: hex of the JSON
 *   {"Type":"secp256k1","PrivateKey":"<base64 of the 32-byte key>"}
 * so keys move between spacetime and Lotus by copy and paste. The directory is 0700 and each
 * file 0600, written atomically; a key file readable by group or others is refused, as Lotus
 * refuses it. Key names are file names: letters, digits, '.', '_' and '-', at most 128 long,
 * not starting with '.'.
 *
 * Every out is initialised on return, success or not (st_err.h): a key or keystore that could
 * not be read or opened is all zero; export and list append to their st_buf (on failure it may
 * hold part of what they append). */
#ifndef ST_KEYSTORE_H
#define ST_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/st_buf.h"
#include "core/st_err.h"

#define ST_KEY_NAME_MAX 128

typedef enum st_key_type { ST_KEY_SECP256K1 = 1 } st_key_type;

typedef struct st_keyinfo {
  st_key_type type;
  uint8_t priv[32];
} st_keyinfo;

/* The Lotus export text (hex of the KeyInfo JSON), appended to out. */
st_code st_keyinfo_export(const st_keyinfo *ki, st_buf *out, st_err *err);
/* Parses Lotus export text; surrounding whitespace is ignored. */
st_code st_keyinfo_import(const char *text, size_t len, st_keyinfo *ki, st_err *err);

typedef struct st_keystore {
  char dir[4096];
} st_keystore;

/* Opens (creating if needed, mode 0700) the keystore directory. */
st_code st_keystore_open(st_keystore *ks, const char *dir, st_err *err);
st_code st_keystore_check_name(const char *name, st_err *err);
/* Fails with ST_EEXIST if the name is taken. */
st_code st_keystore_put(const st_keystore *ks, const char *name, const st_keyinfo *ki, st_err *err);
st_code st_keystore_get(const st_keystore *ks, const char *name, st_keyinfo *ki, st_err *err);
st_code st_keystore_delete(const st_keystore *ks, const char *name, st_err *err);
/* Appends each key name followed by '\n' to out, sorted. */
st_code st_keystore_list(const st_keystore *ks, st_buf *out, st_err *err);

#endif
