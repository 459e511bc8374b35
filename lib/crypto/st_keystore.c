/* st_keystore: Lotus-compatible key files (hex of KeyInfo JSON), 0600, written atomically. */
#include "crypto/st_keystore.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/st_encoding.h"
#include "core/st_fs.h"
#include "crypto/st_secp.h"

#define KEY_FILE_MAX 4096
#define KEY_PATH_MAX (sizeof(((st_keystore *)0)->dir) + ST_KEY_NAME_MAX + 2)

st_code st_keyinfo_export(const st_keyinfo *ki, st_buf *out, st_err *err) {
  if (ki->type != ST_KEY_SECP256K1) return st_err_set(err, ST_EINVAL, "unsupported key type %d", (int)ki->type);
  st_buf json = ST_BUF_INIT;
  st_buf_puts(&json, "{\"Type\":\"secp256k1\",\"PrivateKey\":\"");
  st_base64_append(&json, ki->priv, sizeof ki->priv, true);
  st_buf_puts(&json, "\"}");
  st_code rc = st_buf_status(&json, err);
  if (!rc) {
    st_hex_append(out, json.data, json.len);
    rc = st_buf_status(out, err);
  }
  st_secure_zero(json.data, json.cap);
  st_buf_free(&json);
  return rc;
}

st_code st_keyinfo_import(const char *text, size_t len, st_keyinfo *ki, st_err *err) {
  while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ')) len--;
  while (len && (*text == ' ' || *text == '\n')) {
    text++;
    len--;
  }
  st_buf raw = ST_BUF_INIT, priv = ST_BUF_INIT;
  json_t *root = NULL;
  st_secure_zero(ki, sizeof *ki);
  st_code rc = st_hex_decode(text, len, &raw, err);
  if (rc) {
    st_err_wrap(err, rc, "key export is not hex");
    goto out;
  }
  json_error_t je;
  root = json_loadb((const char *)raw.data, raw.len, JSON_REJECT_DUPLICATES, &je);
  if (!root || !json_is_object(root)) {
    rc = st_err_set(err, ST_EINVAL, "key export is not a JSON object: %s (at character %d)",
                    root ? "wrong type" : je.text, je.position);
    goto out;
  }
  const char *type = json_string_value(json_object_get(root, "Type"));
  const char *pk = json_string_value(json_object_get(root, "PrivateKey"));
  if (!type || !pk) {
    rc = st_err_set(err, ST_EINVAL, "key export lacks the string fields \"Type\" and \"PrivateKey\"");
    goto out;
  }
  if (strcmp(type, "secp256k1")) {
    rc = st_err_set(err, ST_EINVAL, "unsupported key type \"%s\" (only secp256k1 keys are supported)", type);
    goto out;
  }
  rc = st_base64_decode(pk, strlen(pk), true, &priv, err);
  if (rc) {
    st_err_wrap(err, rc, "key export PrivateKey");
    goto out;
  }
  if (priv.len != 32) {
    rc = st_err_set(err, ST_EINVAL, "key export PrivateKey is %zu bytes, a secp256k1 key is 32", priv.len);
    goto out;
  }
  rc = st_secp_seckey_check(priv.data, err);
  if (rc) goto out;
  ki->type = ST_KEY_SECP256K1;
  memcpy(ki->priv, priv.data, 32);
out:
  if (raw.data) st_secure_zero(raw.data, raw.cap);
  if (priv.data) st_secure_zero(priv.data, priv.cap);
  st_buf_free(&raw);
  st_buf_free(&priv);
  json_decref(root);
  return rc;
}

st_code st_keystore_check_name(const char *name, st_err *err) {
  size_t n = strlen(name);
  if (n == 0 || n > ST_KEY_NAME_MAX)
    return st_err_set(err, ST_EINVAL, "key name must be 1 to %d characters", ST_KEY_NAME_MAX);
  if (name[0] == '.') return st_err_set(err, ST_EINVAL, "key name \"%s\" must not start with '.'", name);
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok)
      return st_err_set(err, ST_EINVAL, "key name \"%s\" has '%c' at position %zu (use letters, digits, '.', '_', '-')",
                        name, c, i);
  }
  return ST_OK;
}

st_code st_keystore_open(st_keystore *ks, const char *dir, st_err *err) {
  memset(ks, 0, sizeof *ks);
  if (strlen(dir) >= sizeof ks->dir - ST_KEY_NAME_MAX - 32)
    return st_err_set(err, ST_ERANGE, "keystore path too long: %s", dir);
  st_code rc = st_fs_mkdir_p(dir, 0700, err);
  if (rc) return rc;
  struct stat st;
  if (stat(dir, &st)) return st_err_set(err, ST_EIO, "could not stat keystore path=\"%s\": %s", dir, strerror(errno));
  if (st.st_mode & 077) {
    return st_err_set(err, ST_EPERM,
                      "permissions of keystore path=\"%s\" are too relaxed: %04o, required 0700 (run: chmod 700 %s)",
                      dir, st.st_mode & 0777, dir);
  }
  strcpy(ks->dir, dir);
  return ST_OK;
}

static st_code key_path(const st_keystore *ks, const char *name, char path[KEY_PATH_MAX], st_err *err) {
  st_code rc = st_keystore_check_name(name, err);
  if (rc) return rc;
  snprintf(path, KEY_PATH_MAX, "%s/%s", ks->dir, name);
  return ST_OK;
}

st_code st_keystore_put(const st_keystore *ks, const char *name, const st_keyinfo *ki, st_err *err) {
  char path[KEY_PATH_MAX];
  st_code rc = key_path(ks, name, path, err);
  if (rc) return rc;
  st_buf text = ST_BUF_INIT;
  rc = st_keyinfo_export(ki, &text, err);
  if (!rc) rc = st_fs_create_atomic(path, text.data, text.len, 0600, err);
  if (rc == ST_EEXIST) st_err_set(err, ST_EEXIST, "key \"%s\" already exists in %s", name, ks->dir);
  if (text.data) st_secure_zero(text.data, text.cap);
  st_buf_free(&text);
  return rc;
}

st_code st_keystore_get(const st_keystore *ks, const char *name, st_keyinfo *ki, st_err *err) {
  char path[KEY_PATH_MAX];
  st_secure_zero(ki, sizeof *ki);
  st_code rc = key_path(ks, name, path, err);
  if (rc) return rc;
  struct stat st;
  if (stat(path, &st)) {
    if (errno == ENOENT) return st_err_set(err, ST_ENOENT, "key \"%s\" not found in %s", name, ks->dir);
    return st_err_set(err, ST_EIO, "could not stat key path=\"%s\": %s", path, strerror(errno));
  }
  if (st.st_mode & 077)
    return st_err_set(err, ST_EPERM,
                      "permissions of key path=\"%s\" are too relaxed: %04o, required 0600 (run: chmod 600 %s)", path,
                      st.st_mode & 0777, path);
  st_buf text = ST_BUF_INIT;
  rc = st_fs_read_file(path, KEY_FILE_MAX, &text, err);
  if (!rc) {
    rc = st_keyinfo_import((const char *)text.data, text.len, ki, err);
    if (rc) st_err_wrap(err, rc, "key file path=\"%s\"", path);
  }
  if (text.data) st_secure_zero(text.data, text.cap);
  st_buf_free(&text);
  return rc;
}

st_code st_keystore_delete(const st_keystore *ks, const char *name, st_err *err) {
  char path[KEY_PATH_MAX];
  st_code rc = key_path(ks, name, path, err);
  if (rc) return rc;
  if (unlink(path)) {
    if (errno == ENOENT) return st_err_set(err, ST_ENOENT, "key \"%s\" not found in %s", name, ks->dir);
    return st_err_set(err, ST_EIO, "could not remove key path=\"%s\": %s", path, strerror(errno));
  }
  return ST_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

st_code st_keystore_list(const st_keystore *ks, st_buf *out, st_err *err) {
  DIR *d = opendir(ks->dir);
  if (!d) return st_err_set(err, ST_EIO, "could not list keystore path=\"%s\": %s", ks->dir, strerror(errno));
  char **names = NULL;
  size_t n = 0, cap = 0;
  st_code rc = ST_OK;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (st_keystore_check_name(e->d_name, NULL) || st_fs_is_temp_name(e->d_name)) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      char **nn = realloc(names, cap * sizeof *nn);
      if (!nn) {
        rc = st_err_set(err, ST_ENOMEM, "out of memory listing keys");
        break;
      }
      names = nn;
    }
    if (!(names[n] = strdup(e->d_name))) {
      rc = st_err_set(err, ST_ENOMEM, "out of memory listing keys");
      break;
    }
    n++;
  }
  closedir(d);
  if (!rc) {
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
      st_buf_puts(out, names[i]);
      st_buf_putc(out, '\n');
    }
    rc = st_buf_status(out, err);
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  return rc;
}
