/* Tests for st_keystore: Lotus's export format both ways, file modes, refusal of relaxed
 * permissions, exclusive creation, and clear errors for bad key files. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/st_encoding.h"
#include "core/st_fs.h"
#include "crypto/st_keystore.h"

/* The serialization-vectors secp256k1 key as `lotus wallet export` prints it. */
static const char *VEC_JSON =
    "{\"Type\":\"secp256k1\",\"PrivateKey\":\"sC23s2GtwGXq/4DbBoTqToIUCA4ESOJjjaMas6WLsZM=\"}";

static void vector_key(st_keyinfo *ki) {
  st_buf raw = ST_BUF_INIT;
  st_err err;
  assert_int_equal(st_base64_decode("sC23s2GtwGXq/4DbBoTqToIUCA4ESOJjjaMas6WLsZM=", 44, true, &raw, &err), ST_OK);
  ki->type = ST_KEY_SECP256K1;
  memcpy(ki->priv, raw.data, 32);
  st_buf_free(&raw);
}

static void test_export_import(void **state) {
  (void)state;
  st_keyinfo ki, back;
  vector_key(&ki);
  st_buf out = ST_BUF_INIT, want = ST_BUF_INIT;
  st_err err;
  assert_int_equal(st_keyinfo_export(&ki, &out, &err), ST_OK);
  st_hex_append(&want, (const uint8_t *)VEC_JSON, strlen(VEC_JSON));
  assert_string_equal(st_buf_cstr(&out), st_buf_cstr(&want));
  st_buf_putc(&out, '\n'); /* a pasted line with a newline imports too */
  assert_int_equal(st_keyinfo_import((const char *)out.data, out.len, &back, &err), ST_OK);
  assert_memory_equal(back.priv, ki.priv, 32);
  st_buf_free(&out);
  st_buf_free(&want);
}

static void import_fails(const char *json, bool as_hex, const char *want) {
  st_buf text = ST_BUF_INIT;
  if (as_hex) st_hex_append(&text, (const uint8_t *)json, strlen(json));
  else st_buf_puts(&text, json);
  st_keyinfo ki;
  st_err err = {0};
  tu_poison(&ki, sizeof ki);
  assert_true(st_keyinfo_import(st_buf_cstr(&text), text.len, &ki, &err) != ST_OK);
  tu_assert_err_contains(&err, want);
  tu_assert_zeroed(&ki, sizeof ki); /* no half-imported key (st_err.h) */
  st_buf_free(&text);
}

static void test_import_rejections(void **state) {
  (void)state;
  import_fails("zz", false, "key export is not hex");
  import_fails("not json", true, "key export is not a JSON object");
  import_fails("[1,2]", true, "key export is not a JSON object");
  import_fails("{\"Type\":\"secp256k1\"}", true, "lacks the string fields");
  import_fails("{\"Type\":\"bls\",\"PrivateKey\":\"AA==\"}", true, "unsupported key type \"bls\"");
  import_fails("{\"Type\":\"secp256k1\",\"PrivateKey\":\"!!!!\"}", true, "invalid base64 character '!'");
  import_fails("{\"Type\":\"secp256k1\",\"PrivateKey\":\"AAAA\"}", true, "PrivateKey is 3 bytes");
  import_fails("{\"Type\":\"secp256k1\",\"PrivateKey\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}", true,
               "invalid secp256k1 private key");
  import_fails("{\"Type\":\"secp256k1\",\"Type\":\"x\",\"PrivateKey\":\"AA==\"}", true, "duplicate");
}

static void test_keystore_files(void **state) {
  (void)state;
  char dir[256], ksdir[300];
  tu_tmpfile(dir, "repo/keystore", ksdir, sizeof ksdir);
  st_keystore ks;
  st_err err;
  assert_int_equal(st_keystore_open(&ks, ksdir, &err), ST_OK);
  struct stat st;
  assert_int_equal(stat(ksdir, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);

  st_keyinfo ki, got;
  vector_key(&ki);
  assert_int_equal(st_keystore_put(&ks, "wallet-t1slxh2kv3vwz3japfiyyd7rkw6p7tm4pt4wo5wyq", &ki, &err), ST_OK);
  assert_int_equal(st_keystore_put(&ks, "default", &ki, &err), ST_OK);
  char path[400];
  snprintf(path, sizeof path, "%s/default", ksdir);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  /* the file is exactly the Lotus export text */
  st_buf file = ST_BUF_INIT, want = ST_BUF_INIT;
  assert_int_equal(st_fs_read_file(path, 4096, &file, &err), ST_OK);
  st_hex_append(&want, (const uint8_t *)VEC_JSON, strlen(VEC_JSON));
  assert_string_equal(st_buf_cstr(&file), st_buf_cstr(&want));

  assert_int_equal(st_keystore_get(&ks, "default", &got, &err), ST_OK);
  assert_memory_equal(got.priv, ki.priv, 32);
  assert_int_equal(st_keystore_put(&ks, "default", &ki, &err), ST_EEXIST);
  tu_assert_err_contains(&err, "key \"default\" already exists");

  /* a temporary left by an interrupted write is not a key */
  char tmp[400];
  snprintf(tmp, sizeof tmp, "%s/default.tmp.123.0", ksdir);
  assert_int_equal(st_fs_write_atomic(tmp, "x", 1, 0600, &err), ST_OK);
  assert_true(st_fs_is_temp_name("default.tmp.123.0"));
  assert_false(st_fs_is_temp_name("default"));
  st_buf names = ST_BUF_INIT;
  assert_int_equal(st_keystore_list(&ks, &names, &err), ST_OK);
  assert_string_equal(st_buf_cstr(&names), "default\nwallet-t1slxh2kv3vwz3japfiyyd7rkw6p7tm4pt4wo5wyq\n");

  chmod(path, 0644);
  assert_int_equal(st_keystore_get(&ks, "default", &got, &err), ST_EPERM);
  tu_assert_err_contains(&err, "are too relaxed: 0644, required 0600");
  chmod(path, 0600);

  /* a corrupted key file names its path */
  assert_int_equal(st_fs_write_atomic(path, "zz", 2, 0600, &err), ST_OK);
  assert_int_equal(st_keystore_get(&ks, "default", &got, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "key file path=\"");
  tu_assert_err_contains(&err, "invalid hex character 'z'");
  tu_assert_zeroed(&got, sizeof got); /* not the key the last get read (st_err.h) */

  assert_int_equal(st_keystore_delete(&ks, "default", &err), ST_OK);
  tu_poison(&got, sizeof got);
  assert_int_equal(st_keystore_get(&ks, "default", &got, &err), ST_ENOENT);
  tu_assert_err_contains(&err, "key \"default\" not found");
  tu_assert_zeroed(&got, sizeof got);
  assert_int_equal(st_keystore_delete(&ks, "default", &err), ST_ENOENT);

  assert_int_equal(st_keystore_get(&ks, "../etc/passwd", &got, &err), ST_EINVAL);
  assert_int_equal(st_keystore_put(&ks, ".hidden", &ki, &err), ST_EINVAL);
  assert_int_equal(st_keystore_put(&ks, "", &ki, &err), ST_EINVAL);

  /* a keystore directory readable by others is refused */
  chmod(ksdir, 0755);
  assert_int_equal(st_keystore_open(&ks, ksdir, &err), ST_EPERM);
  tu_assert_err_contains(&err, "required 0700");
  tu_assert_zeroed(&ks, sizeof ks); /* it held the directory that opened before */
  st_buf_free(&file);
  st_buf_free(&want);
  st_buf_free(&names);
  tu_rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_export_import), cmocka_unit_test(test_import_rejections),
                                     cmocka_unit_test(test_keystore_files)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
