/* st_explorer: the embedded page and script are served for GET, by path; anything else is left
 * to the caller (the daemon's 404). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "node/st_explorer.h"
#include "testutil.h"

static bool serve(const char *method, const char *path, st_http_response *resp) {
  st_http_request req = {.method = method, .path = path};
  *resp = (st_http_response){.status = 0, .body = ST_BUF_INIT};
  return st_explorer_serve(&req, resp);
}

static void test_assets(void **state) {
  (void)state;
  st_http_response r;
  assert_true(serve("GET", "/", &r));
  assert_int_equal(r.status, 200);
  assert_string_equal(r.content_type, "text/html; charset=utf-8");
  assert_non_null(strstr(st_buf_cstr(&r.body), "<script src=\"/explorer.js\"></script>"));
  assert_null(strstr(st_buf_cstr(&r.body), "http://")); /* nothing from outside */
  assert_null(strstr(st_buf_cstr(&r.body), "https://"));
  st_buf_free(&r.body);
  assert_true(serve("GET", "/explorer.js", &r));
  assert_string_equal(r.content_type, "text/javascript; charset=utf-8");
  assert_non_null(strstr(st_buf_cstr(&r.body), "'提交时空证明'"));
  assert_non_null(strstr(st_buf_cstr(&r.body), "fetch('/rpc/v1'"));
  st_buf_free(&r.body);
  assert_false(serve("POST", "/", &r));
  assert_false(serve("GET", "/rpc/v1", &r));
  assert_false(serve("GET", "/index.html/../x", &r));
  assert_int_equal(r.body.len, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_assets)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
