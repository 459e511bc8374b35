/* Tests for st_apiinfo: multiaddrs to URLs and listen addresses, FULLNODE_API_INFO in Lotus's
 * forms, the default repo folder, and the repo's api and token files (content, modes, trimming,
 * errors); and st_rpc_client_connect, which opens what they name. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/st_buf.h"
#include "core/st_fs.h"
#include "rpc/st_apiinfo.h"
#include "rpc/st_rpc_client.h"

#define TOKEN \
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJyZWFkIl19.jmK2iZ-Rw1dDlqiNvwTJHcshsajeTJIGR5fCh1k9q6I"

static void test_multiaddr_good(void **state) {
  (void)state;
  static const char *const cases[][2] = {
      {"/ip4/127.0.0.1/tcp/1234/http", "http://127.0.0.1:1234"},
      {"/ip4/127.0.0.1/tcp/1234", "http://127.0.0.1:1234"},
      {"/ip4/127.0.0.1/tcp/1234/http/", "http://127.0.0.1:1234"},
      {"/ip4/10.0.0.7/tcp/01234/ws", "http://10.0.0.7:1234"},
      {"/ip6/::1/tcp/2345/http", "http://[::1]:2345"},
      {"/ip4/1.2.3.4/tcp/443/https", "https://1.2.3.4:443"},
      {"/ip4/1.2.3.4/tcp/443/wss", "https://1.2.3.4:443"},
      {"/ip4/1.2.3.4/tcp/443/tls/http", "https://1.2.3.4:443"},
      {"/dns/node-1.example/tcp/1234/http", "http://node-1.example:1234"},
      {"/dns4/localhost/tcp/65535/http", "http://localhost:65535"},
  };
  st_err err;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char url[ST_APIINFO_ADDR_MAX];
    if (st_multiaddr_to_url(cases[i][0], url, sizeof url, &err)) fail_msg("%s: %s", cases[i][0], err.msg);
    assert_string_equal(url, cases[i][1]);
  }
  st_multiaddr m;
  assert_int_equal(st_multiaddr_parse("/ip6/fe80::1/tcp/9/https", &m, &err), ST_OK);
  assert_string_equal(m.host, "fe80::1");
  assert_int_equal(m.family, 6);
  assert_int_equal(m.port, 9);
  assert_true(m.tls);
  char small[8];
  assert_int_equal(st_multiaddr_to_url("/ip4/127.0.0.1/tcp/1234/http", small, sizeof small, &err), ST_ERANGE);
}

static void test_multiaddr_bad(void **state) {
  (void)state;
  static const char *const cases[][2] = {
      {"ip4/127.0.0.1/tcp/1234/http", "must start with '/'"},
      {"", "must start with '/'"},
      {"/", "has an empty or extra component"},
      {"/ip4//tcp/1234", "has an empty or extra component"},
      {"/ip4/127.0.0.1", "is incomplete"},
      {"/ip4/300.0.0.1/tcp/1/http", "\"300.0.0.1\" is not an IPv4 address"},
      {"/ip6/127.0.0.1/tcp/1/http", "\"127.0.0.1\" is not an IPv6 address"},
      {"/dns/bad_name/tcp/1/http", "\"bad_name\" is not a DNS name"},
      {"/unix/tmp/sock/x", "protocol \"unix\" is not ip4, ip6, dns, dns4 or dns6"},
      {"/ip4/127.0.0.1/udp/1234/http", "\"udp\" where tcp was expected"},
      {"/ip4/127.0.0.1/tcp/0/http", "port \"0\" is not a number from 1 to 65535"},
      {"/ip4/127.0.0.1/tcp/65536/http", "port \"65536\""},
      {"/ip4/127.0.0.1/tcp/12a/http", "port \"12a\""},
      {"/ip4/127.0.0.1/tcp/-1/http", "port \"-1\""},
      {"/ip4/127.0.0.1/tcp/1234/grpc", "after the port want /http"},
      {"/ip4/127.0.0.1/tcp/1234/http/x", "after the port want /http"},
      {"/ip4/127.0.0.1/tcp/1234/tls/grpc", "after the port want /http"},
      {"/ip4/127.0.0.1/tcp/1/a/b/c/d/e", "has an empty or extra component"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    st_err err = {0};
    char url[ST_APIINFO_ADDR_MAX];
    if (st_multiaddr_to_url(cases[i][0], url, sizeof url, &err) != ST_EINVAL) fail_msg("%s was accepted", cases[i][0]);
    tu_assert_err_contains(&err, cases[i][1]);
    if (cases[i][0][0]) tu_assert_err_contains(&err, cases[i][0]); /* the message quotes the text */
  }
  char big[700];
  memset(big, 'a', sizeof big - 1);
  big[0] = '/';
  big[sizeof big - 1] = 0;
  st_err err;
  st_multiaddr m;
  assert_int_equal(st_multiaddr_parse(big, &m, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "is longer than 511 characters");
}

static void test_listen(void **state) {
  (void)state;
  char out[ST_APIINFO_ADDR_MAX];
  st_err err;
  assert_int_equal(st_multiaddr_to_listen("/ip4/127.0.0.1/tcp/1234/http", out, sizeof out, &err), ST_OK);
  assert_string_equal(out, "127.0.0.1:1234");
  assert_int_equal(st_multiaddr_to_listen("/ip6/::1/tcp/1234/http", out, sizeof out, &err), ST_OK);
  assert_string_equal(out, "[::1]:1234");
  assert_int_equal(st_multiaddr_to_listen("/dns/node.example/tcp/1234/http", out, sizeof out, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "needs /ip4 or /ip6");
  assert_int_equal(st_multiaddr_to_listen("/ip4/127.0.0.1/tcp/1234/https", out, sizeof out, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "not TLS");

  assert_int_equal(st_multiaddr_from_listen("127.0.0.1:1234", out, sizeof out, &err), ST_OK);
  assert_string_equal(out, "/ip4/127.0.0.1/tcp/1234/http");
  assert_int_equal(st_multiaddr_from_listen("[::1]:5678", out, sizeof out, &err), ST_OK);
  assert_string_equal(out, "/ip6/::1/tcp/5678/http");
  assert_int_equal(st_multiaddr_from_listen("localhost:7", out, sizeof out, &err), ST_OK);
  assert_string_equal(out, "/ip4/127.0.0.1/tcp/7/http");
  assert_int_equal(st_multiaddr_from_listen("127.0.0.1", out, sizeof out, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "listen address \"127.0.0.1\" is not HOST:PORT");
  assert_int_equal(st_multiaddr_from_listen("127.0.0.1:0", out, sizeof out, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "port \"0\"");
  assert_int_equal(st_multiaddr_from_listen("[::1:5", out, sizeof out, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "unbalanced '['");
  assert_int_equal(st_multiaddr_from_listen("::1:5", out, sizeof out, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "is not an IPv4 address");
}

static void test_parse_env(void **state) {
  (void)state;
  static const char *const good[][3] = {
      {TOKEN ":/ip4/127.0.0.1/tcp/1234/http", TOKEN, "http://127.0.0.1:1234"},
      {"/ip4/127.0.0.1/tcp/1234/http", "", "http://127.0.0.1:1234"},
      {"  " TOKEN ":/ip6/::1/tcp/1234/http\n", TOKEN, "http://[::1]:1234"},
      {"abc.def.ghi:/ip4/10.1.1.1/tcp/1/http,xyz:/ip4/10.1.1.2/tcp/2/http", "abc.def.ghi", "http://10.1.1.1:1"},
      {"http://127.0.0.1:1234", "", "http://127.0.0.1:1234"},
      {TOKEN ":http://127.0.0.1:1234/", TOKEN, "http://127.0.0.1:1234"},
      {"tok:https://node.example/lotus//", "tok", "https://node.example/lotus"},
      {"tok:ws://127.0.0.1:1234", "tok", "http://127.0.0.1:1234"},
      {"tok:wss://[::1]:1234", "tok", "https://[::1]:1234"},
  };
  st_err err;
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    st_apiinfo ai;
    if (st_apiinfo_parse(good[i][0], &ai, &err)) fail_msg("%s: %s", good[i][0], err.msg);
    assert_string_equal(ai.token, good[i][1]);
    assert_string_equal(ai.url, good[i][2]);
  }
  static const char *const bad[][2] = {
      {"", "FULLNODE_API_INFO is empty"},
      {"  \n", "FULLNODE_API_INFO is empty"},
      {"justtext", "FULLNODE_API_INFO \"justtext\" is not TOKEN:MULTIADDR, a multiaddr or a URL"},
      {":/ip4/127.0.0.1/tcp/1234/http", "empty token before ':'"},
      {"to ken:/ip4/127.0.0.1/tcp/1234/http", "token has a character that is not base64url"},
      {"tok:/ip4/127.0.0.1/tcp/99999/http",
       "FULLNODE_API_INFO: multiaddr \"/ip4/127.0.0.1/tcp/99999/http\": port \"99999\""},
      {"tok:somewhere", "address \"somewhere\" is neither a multiaddr nor a URL"},
      {"tok:ftp://x", "API URL \"ftp://x\" must start with http://"},
      {"http://", "API URL \"http://\" has no host"},
      {"tok:http:///x", "has no host"},
      {"tok:http://a b", "has a space"},
      {"tok:http://h/?x", "'?'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    st_apiinfo ai;
    err.msg[0] = 0;
    if (st_apiinfo_parse(bad[i][0], &ai, &err) != ST_EINVAL) fail_msg("\"%s\" was accepted", bad[i][0]);
    tu_assert_err_contains(&err, bad[i][1]);
    assert_string_equal(ai.token, "");
    assert_string_equal(ai.url, "");
  }
  st_apiinfo ai;
  assert_int_equal(st_apiinfo_parse(NULL, &ai, &err), ST_EINVAL);
}

static mode_t mode_of(const char *path) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  return st.st_mode & 0777;
}

static void file_is(const char *path, const char *want) {
  st_buf b = ST_BUF_INIT;
  st_err err;
  assert_int_equal(st_fs_read_file(path, 1 << 20, &b, &err), ST_OK);
  assert_string_equal(st_buf_cstr(&b), want);
  st_buf_free(&b);
}

static void test_repo_files(void **state) {
  (void)state;
  char dir[256], path[512], out[ST_APIINFO_TOKEN_MAX];
  tu_tmpdir(dir);
  st_err err;
  /* api */
  assert_int_equal(st_apiinfo_read_api(dir, out, sizeof out, &err), ST_ENOENT);
  tu_assert_err_contains(&err, "/api\": No such file or directory");
  assert_int_equal(st_apiinfo_write_api(dir, "/ip4/127.0.0.1/tcp/1234/http", &err), ST_OK);
  snprintf(path, sizeof path, "%s/api", dir);
  file_is(path, "/ip4/127.0.0.1/tcp/1234/http"); /* no newline, as Lotus writes it */
  assert_int_equal(mode_of(path), 0644);
  assert_int_equal(st_apiinfo_read_api(dir, out, sizeof out, &err), ST_OK);
  assert_string_equal(out, "/ip4/127.0.0.1/tcp/1234/http");
  assert_int_equal(st_apiinfo_write_api(dir, "127.0.0.1:1234", &err), ST_EINVAL);
  tu_assert_err_contains(&err, "must start with '/'");
  /* a hand-edited file with a newline reads the same */
  assert_int_equal(st_fs_write_atomic(path, " /ip4/127.0.0.1/tcp/99/http\n", 28, 0644, &err), ST_OK);
  assert_int_equal(st_apiinfo_read_api(dir, out, sizeof out, &err), ST_OK);
  assert_string_equal(out, "/ip4/127.0.0.1/tcp/99/http");
  assert_int_equal(st_fs_write_atomic(path, "garbage", 7, 0644, &err), ST_OK);
  assert_int_equal(st_apiinfo_read_api(dir, out, sizeof out, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "/api\": multiaddr \"garbage\" must start with '/'");
  assert_int_equal(st_fs_write_atomic(path, "\n", 1, 0644, &err), ST_OK);
  assert_int_equal(st_apiinfo_read_api(dir, out, sizeof out, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "/api\" is empty");
  char tiny[8];
  assert_int_equal(st_fs_write_atomic(path, "/ip4/127.0.0.1/tcp/99/http", 26, 0644, &err), ST_OK);
  assert_int_equal(st_apiinfo_read_api(dir, tiny, sizeof tiny, &err), ST_ERANGE);
  assert_int_equal(st_apiinfo_remove_api(dir, &err), ST_OK);
  assert_int_equal(st_apiinfo_remove_api(dir, &err), ST_OK); /* already gone is fine */
  assert_int_equal(st_apiinfo_read_api(dir, out, sizeof out, &err), ST_ENOENT);

  /* token */
  assert_int_equal(st_apiinfo_read_token(dir, out, sizeof out, &err), ST_ENOENT);
  assert_int_equal(st_apiinfo_write_token(dir, TOKEN, &err), ST_OK);
  snprintf(path, sizeof path, "%s/token", dir);
  file_is(path, TOKEN);
  assert_int_equal(mode_of(path), 0600);
  assert_int_equal(st_apiinfo_read_token(dir, out, sizeof out, &err), ST_OK);
  assert_string_equal(out, TOKEN);
  assert_int_equal(st_apiinfo_write_token(dir, "a b", &err), ST_EINVAL);
  assert_int_equal(st_apiinfo_write_token(dir, "", &err), ST_EINVAL);
  assert_int_equal(st_fs_write_atomic(path, TOKEN "\n", strlen(TOKEN) + 1, 0600, &err), ST_OK);
  assert_int_equal(st_apiinfo_read_token(dir, out, sizeof out, &err), ST_OK);
  assert_string_equal(out, TOKEN);
  assert_int_equal(st_fs_write_atomic(path, "a\"b", 3, 0600, &err), ST_OK);
  assert_int_equal(st_apiinfo_read_token(dir, out, sizeof out, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "/token\" holds a character that is not base64url");
  tu_rmdir(dir);
}

static void test_resolve(void **state) {
  (void)state;
  char dir[256];
  tu_tmpdir(dir);
  st_apiinfo ai;
  st_err err;
  assert_int_equal(st_apiinfo_resolve(NULL, dir, &ai, &err), ST_ENOENT);
  tu_assert_err_contains(&err, "no node API in repo \"");
  tu_assert_err_contains(&err, "file \"api\" not found (is the daemon running?)");
  assert_int_equal(st_apiinfo_write_api(dir, "/ip4/127.0.0.1/tcp/4321/http", &err), ST_OK);
  assert_int_equal(st_apiinfo_resolve("", dir, &ai, &err), ST_OK); /* empty env: the repo */
  assert_string_equal(ai.url, "http://127.0.0.1:4321");
  assert_string_equal(ai.token, "");
  assert_int_equal(st_apiinfo_write_token(dir, TOKEN, &err), ST_OK);
  assert_int_equal(st_apiinfo_resolve(NULL, dir, &ai, &err), ST_OK);
  assert_string_equal(ai.url, "http://127.0.0.1:4321");
  assert_string_equal(ai.token, TOKEN);
  /* the environment wins over the repo */
  assert_int_equal(st_apiinfo_resolve("x.y.z:/ip4/10.0.0.1/tcp/1/http", dir, &ai, &err), ST_OK);
  assert_string_equal(ai.url, "http://10.0.0.1:1");
  assert_string_equal(ai.token, "x.y.z");
  assert_int_equal(st_apiinfo_resolve("bogus", dir, &ai, &err), ST_EINVAL);
  tu_rmdir(dir);
}

static void test_repo_default(void **state) {
  (void)state;
  char out[64], small[8];
  const char *old = getenv("HOME");
  char *saved = old ? strdup(old) : NULL;
  setenv("HOME", "/home/ann", 1);
  st_apiinfo_repo("/data/node", ".spacetime", out, sizeof out);
  assert_string_equal(out, "/data/node");
  st_apiinfo_repo(NULL, ".spacetime", out, sizeof out);
  assert_string_equal(out, "/home/ann/.spacetime");
  st_apiinfo_repo(NULL, ".spacetime-miner", small, sizeof small);
  assert_string_equal(small, "/home/a"); /* cut to fit */
  setenv("HOME", "", 1);
  st_apiinfo_repo(NULL, ".spacetime", out, sizeof out);
  assert_string_equal(out, "./.spacetime");
  unsetenv("HOME");
  st_apiinfo_repo(NULL, ".spacetime-server", out, sizeof out);
  assert_string_equal(out, "./.spacetime-server");
  /* the environment, as Lotus's LOTUS_PATH and LOTUS_MINER_PATH; a flag still wins */
  setenv("SPACETIME_PATH", "/d/node", 1);
  setenv("SPACETIME_MINER_PATH", "/d/miner-1", 1);
  st_apiinfo_repo(NULL, ".spacetime", out, sizeof out);
  assert_string_equal(out, "/d/node");
  st_apiinfo_repo(NULL, ".spacetime-miner", out, sizeof out);
  assert_string_equal(out, "/d/miner-1");
  st_apiinfo_repo("/x", ".spacetime-miner", out, sizeof out);
  assert_string_equal(out, "/x");
  setenv("SPACETIME_PATH", "", 1);
  st_apiinfo_repo(NULL, ".spacetime", out, sizeof out);
  assert_string_equal(out, "./.spacetime");
  unsetenv("SPACETIME_PATH");
  unsetenv("SPACETIME_MINER_PATH");
  if (saved) setenv("HOME", saved, 1);
  free(saved);
}

static void test_connect(void **state) {
  (void)state;
  char dir[256];
  tu_tmpdir(dir);
  st_rpc_client *c = (st_rpc_client *)1;
  st_err err;
  assert_int_equal(st_rpc_client_connect(NULL, dir, &c, &err), ST_ENOENT);
  assert_null(c);
  tu_assert_err_contains(&err, "file \"api\" not found (is the daemon running?)");
  c = (st_rpc_client *)1;
  assert_int_equal(st_rpc_client_connect("bogus", dir, &c, &err), ST_EINVAL);
  assert_null(c);
  assert_int_equal(st_apiinfo_write_api(dir, "/ip4/127.0.0.1/tcp/4321/http", &err), ST_OK);
  assert_int_equal(st_rpc_client_connect("", dir, &c, &err), ST_OK); /* empty env: the repo */
  assert_non_null(c);
  st_rpc_client_close(c);
  assert_int_equal(st_rpc_client_connect(TOKEN ":/ip4/10.0.0.1/tcp/1/http", dir, &c, &err), ST_OK);
  assert_non_null(c);
  st_rpc_client_close(c);
  tu_rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_multiaddr_good), cmocka_unit_test(test_multiaddr_bad), cmocka_unit_test(test_listen),
      cmocka_unit_test(test_parse_env),      cmocka_unit_test(test_repo_files),    cmocka_unit_test(test_resolve),
      cmocka_unit_test(test_repo_default),   cmocka_unit_test(test_connect),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
