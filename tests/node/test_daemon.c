/* st_daemon: the node's life through its API (nodefx runs one), and the bootstrap producer's
 * rules: the producer makes the blocks while nobody has power at the lookback, stands by once a
 * miner has power, and steps in again after bootstrap-after-nulls null rounds. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "net/st_http_client.h"
#include "nodefx.h"
#include "testutil.h"

static st_producer_turn turn_at(nodefx *f, int64_t epoch, int64_t *head) {
  st_producer_turn t;
  st_err err;
  if (st_daemon_producer_turn(f->daemon, epoch, &t, head, &err)) fail_msg("%s", err.msg);
  return t;
}

static void test_turns(void **state) {
  nodefx *f = *state;
  int64_t head;
  /* nobody has power: every epoch above the head is the producer's */
  nf_mine_to(f, 3);
  assert_int_equal(turn_at(f, 4, &head), ST_PRODUCER_BOOTSTRAP);
  assert_int_equal(head, nf_height(f));
  assert_int_equal(turn_at(f, head, &head), ST_PRODUCER_NOT_DUE);
  assert_int_equal(turn_at(f, head - 1, &head), ST_PRODUCER_NOT_DUE);
  /* a miner with power at the lookback: it makes the blocks; null rounds bring the producer back */
  nf_create_miner(f);
  nf_commit_sectors(f, 1, 1);
  const st_network *net = st_chain_network(f->chain);
  nf_mine_to(f, nf_height(f) + net->election_lookback + 1);
  assert_false(nf_bootstrap_due(f, f->last_round + 1));
  head = nf_height(f);
  assert_int_equal(turn_at(f, head + 1, &head), ST_PRODUCER_STANDBY);
  assert_int_equal(turn_at(f, head + net->bootstrap_after_nulls, &head), ST_PRODUCER_STANDBY);
  assert_int_equal(turn_at(f, head + net->bootstrap_after_nulls + 1, &head), ST_PRODUCER_NULLS);
}

/* st_daemon_produce at the wall clock's epoch, far above the head: null rounds, so the producer
 * makes that height. */
static void test_produce(void **state) {
  nodefx *f = *state;
  int64_t now = st_chain_epoch_at(f->chain, (uint64_t)time(NULL)), head;
  assert_int_equal(turn_at(f, now, &head), ST_PRODUCER_NULLS);
  st_daemon_produce(f->daemon, &f->account);
  int64_t after = nf_height(f);
  assert_true(after >= now && after <= now + 1); /* the clock may have moved on by an epoch */
  assert_int_equal(turn_at(f, after, &head), ST_PRODUCER_NOT_DUE);
  /* a producer the wallet has no key for makes nothing */
  st_address other;
  st_address_from_id(4242, &other, NULL);
  st_err err;
  assert_int_equal(st_fullnode_check_key(st_daemon_fullnode(f->daemon), &other, &err), ST_ENOENT);
  tu_assert_err_contains(&err, "the wallet has no key for t04242");
}

/* The daemon's own pages: /health with the head's height, the explorer, a 404 naming the API. */
static void test_pages(void **state) {
  nodefx *f = *state;
  st_http_client *c;
  st_buf body = ST_BUF_INIT;
  long status;
  st_err err;
  assert_int_equal(st_http_client_new(f->api.url, NULL, &c, &err), ST_OK);
  assert_int_equal(st_http_call(c, "GET", "/health", NULL, 0, &status, &body, &err), ST_OK);
  assert_int_equal(status, 200);
  char want[64];
  snprintf(want, sizeof want, "\"height\":%lld", (long long)nf_height(f));
  assert_non_null(strstr(st_buf_cstr(&body), want));
  st_buf_reset(&body);
  assert_int_equal(st_http_call(c, "GET", "/", NULL, 0, &status, &body, &err), ST_OK);
  assert_int_equal(status, 200);
  assert_non_null(strstr(st_buf_cstr(&body), "<html"));
  st_buf_reset(&body);
  assert_int_equal(st_http_call(c, "GET", "/nowhere", NULL, 0, &status, &body, &err), ST_OK);
  assert_int_equal(status, 404);
  assert_non_null(strstr(st_buf_cstr(&body), "the API is POST /rpc/v0 and /rpc/v1"));
  st_buf_free(&body);
  st_http_client_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_turns), cmocka_unit_test(test_produce),
                                     cmocka_unit_test(test_pages)};
  return cmocka_run_group_tests(tests, nf_group_setup, nf_group_teardown);
}
