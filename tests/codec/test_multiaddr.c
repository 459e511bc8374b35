/* Tests for st_multiaddr: binary multiaddrs (go-multiaddr's Bytes()) for the deal address a
 * miner announces on chain. Each case is checked both ways; the refusals name what and where. */
#include "testutil.h"

#include <string.h>

#include "codec/st_multiaddr.h"

/* text <-> hex, both ways */
static void both(const char *text, const char *hex) {
  uint8_t b[ST_MULTIADDR_MAX];
  size_t n = 0;
  st_err err;
  if (st_multiaddr_from_text(text, b, sizeof b, &n, &err)) fail_msg("%s: %s", text, err.msg);
  assert_string_equal(tu_tohex(b, n), hex);
  char back[512];
  st_buf raw = ST_BUF_INIT;
  tu_hex(hex, &raw);
  if (st_multiaddr_to_text(raw.data, raw.len, back, sizeof back, &err)) fail_msg("%s: %s", hex, err.msg);
  assert_string_equal(back, text);
  st_buf_free(&raw);
}

static void test_known(void **state) {
  (void)state;
  /* ip4 = 04 + 4 bytes; tcp = 06 + big-endian port; udp = 273 (91 02); http = 480 (e0 03) */
  both("/ip4/127.0.0.1/tcp/1234", "047f0000010604d2");
  both("/ip4/127.0.0.1/udp/1234", "047f000001910204d2");
  both("/ip4/127.0.0.1/tcp/2345/http", "047f000001060929e003");
  both("/ip4/10.10.4.23/tcp/443/https", "040a0a04170601bbbb03");
  both("/ip6/::1/tcp/80", "2900000000000000000000000000000001060050");
  both("/dns4/miner.example/tcp/2345/http", "360d6d696e65722e6578616d706c65060929e003");
  both("/dns/a/tcp/0", "350161060000");
}

/* A refusal leaves out zero and its length 0 (st_err.h), not the components before the fault. */
static void from_text_fails(const char *text, const char *want) {
  uint8_t b[ST_MULTIADDR_MAX];
  size_t n = 7;
  st_err err = {0};
  tu_poison(b, sizeof b);
  assert_int_not_equal(st_multiaddr_from_text(text, b, sizeof b, &n, &err), ST_OK);
  tu_assert_err_contains(&err, want);
  tu_assert_zeroed(b, sizeof b);
  assert_int_equal(n, 0);
}

static void to_text_fails(const char *hex, const char *want) {
  st_buf raw = ST_BUF_INIT;
  tu_hex(hex, &raw);
  char out[512];
  st_err err = {0};
  tu_poison(out, sizeof out);
  assert_int_not_equal(st_multiaddr_to_text(raw.data, raw.len, out, sizeof out, &err), ST_OK);
  tu_assert_err_contains(&err, want);
  tu_assert_zeroed(out, sizeof out);
  st_buf_free(&raw);
}

static void test_refusals(void **state) {
  (void)state;
  from_text_fails("", "does not start with '/'");
  from_text_fails("ip4/1.2.3.4", "does not start with '/'");
  from_text_fails("/", "unknown protocol \"\" at position 1");
  from_text_fails("/ipx/1.2.3.4", "unknown protocol \"ipx\" at position 1");
  from_text_fails("/ip4/1.2.3", "\"1.2.3\" at position 5 is not an ip4 address");
  from_text_fails("/ip4/1.2.3.4/tcp/65536", "tcp port \"65536\" at position 17 is not 0 to 65535");
  from_text_fails("/ip4/1.2.3.4/tcp/-1", "is not 0 to 65535");
  from_text_fails("/ip4/1.2.3.4/tcp/080", "is not 0 to 65535"); /* one spelling per port */
  from_text_fails("/ip4/1.2.3.4/", "unknown protocol \"\" at position 13");
  from_text_fails("/ip4/1.2.3.4/tcp", "tcp at position 13 has no value");
  from_text_fails("/ip4//tcp/1", "ip4 at position 1 has no value");
  uint8_t small[4];
  size_t n;
  st_err err;
  assert_int_equal(st_multiaddr_from_text("/ip4/1.2.3.4/tcp/1", small, sizeof small, &n, &err), ST_ERANGE);
  tu_assert_zeroed(small, sizeof small); /* it held the ip4 component */
  to_text_fails("", "empty");
  to_text_fails("047f0000", "truncated ip4 value at byte 1");
  to_text_fails("047f00000106", "truncated tcp value at byte 6");
  to_text_fails("ff", "protocol code at byte 0");
  to_text_fails("0200", "unknown protocol code 2 at byte 0");
  to_text_fails("3500", "dns name of 0 bytes");
  to_text_fails("36022f61", "holds '/' or NUL");
  char big[2 * 600 + 1] = "";
  for (int i = 0; i < 100; i++) strcat(big, "e003bb03e003"); /* 600 bytes of http/https/http */
  to_text_fails(big, "600 bytes, more than 256");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_known), cmocka_unit_test(test_refusals)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
