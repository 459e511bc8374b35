/* st_miner_api: the miner's own JSON-RPC API and /metrics, served on loopback over the sealing
 * database and two real sealed 2 KiB sectors on the in-process daemon of tests/nodefx.c (the
 * local dist-path: no registry). Checked: the repo's api and token files lead a client to it;
 * each method's answer, with the chain's record joined in SectorsStatus; pledges through the API
 * get numbers in order; bad params name the param; a write without the token is refused;
 * ProvingCheck sees a missing folder; the poster's counters reach MinerRunInfo and /metrics;
 * stop removes the api file. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "miner/st_miner_api.h"
#include "net/st_http_client.h"
#include "nodefx.h"

static char repo[400];

static json_t *call_ok(st_rpc_client *c, const char *method, const char *params) {
  json_t *r = NULL;
  st_err err;
  if (st_rpc_client_call(c, method, params ? json_loads(params, 0, NULL) : NULL, &r, &err))
    fail_msg("%s %s: %s", method, params ? params : "", err.msg);
  return r;
}

static void call_fails(st_rpc_client *c, const char *method, const char *params, st_code code, const char *needle) {
  json_t *r = NULL;
  st_err err;
  assert_int_equal(st_rpc_client_call(c, method, json_loads(params, 0, NULL), &r, &err), code);
  tu_assert_err_contains(&err, needle);
  assert_null(r);
}

static void assert_json(json_t *got, const char *want_text) {
  json_t *want = json_loads(want_text, JSON_DECODE_ANY, NULL);
  assert_non_null(want);
  if (!json_equal(got, want)) {
    char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
    fail_msg("got %s, want %s", g, want_text);
  }
  json_decref(want);
  json_decref(got);
}

static void test_api(void **state) {
  nodefx *f = *state;
  st_err err;
  uint64_t d = nf_miner_with_sectors(f, 2);

  st_miner_config cfg = {.miner = NF_MINER, .owner = f->account, .worker = f->account, .info = nf_info2k()};
  snprintf(repo, sizeof repo, "%s/miner", f->dir);
  assert_int_equal(st_miner_config_write(repo, &cfg, &err), ST_OK);
  st_miner_api_cfg ac = {.repo = repo,
                         .cfg = &cfg,
                         .mode = "all",
                         .dist_path = f->store,
                         .node = &f->api,
                         .post = {.parallel = 2, .timeout_ms = 5000},
                         .listen = "127.0.0.1:0"};
  st_miner_api *api;
  if (st_miner_api_start(&ac, &api, &err)) fail_msg("start: %s", err.msg);
  assert_int_equal(strncmp(st_miner_api_addr(api), "/ip4/127.0.0.1/tcp/", 19), 0);

  /* a client finds it through the repo's files */
  st_apiinfo ai;
  st_rpc_client *c, *anon;
  assert_int_equal(st_apiinfo_resolve(NULL, repo, &ai, &err), ST_OK);
  assert_true(ai.token[0]);
  assert_int_equal(st_rpc_client_open(&ai, &c, &err), ST_OK);
  ai.token[0] = 0;
  assert_int_equal(st_rpc_client_open(&ai, &anon, &err), ST_OK);

  assert_json(call_ok(c, "ActorAddress", NULL), "\"t01000\"");
  assert_json(call_ok(c, "ActorSectorSize", "[\"t01000\"]"), "2048");
  call_fails(c, "ActorSectorSize", "[\"t01001\"]", ST_EINVAL, "this miner is t01000, not t01001");
  call_fails(c, "ActorSectorSize", "[5]", ST_EINVAL, "param 1 (address): must be a miner address like t01000");

  /* pledges, the list, the summary, one sector with the chain's record */
  assert_json(call_ok(c, "SectorsList", NULL), "[]");
  call_fails(anon, "PledgeSector", "[]", ST_EPERM, "missing permission to invoke 'PledgeSector' (need 'write')");
  /* the chain holds sectors 1 and 2 already (sealed by the fixture): new numbers start above */
  assert_json(call_ok(c, "PledgeSector", NULL), "{\"Miner\": 1000, \"Number\": 3}");
  assert_json(call_ok(c, "PledgeSector", NULL), "{\"Miner\": 1000, \"Number\": 4}");
  assert_json(call_ok(anon, "SectorsList", NULL), "[3, 4]");
  assert_json(call_ok(c, "SectorsSummary", NULL), "{\"Packing\": 2}");
  json_t *st = call_ok(c, "SectorsStatus", "[3, false]");
  assert_string_equal(json_string_value(json_object_get(st, "State")), "Packing");
  assert_null(json_object_get(st, "OnChain"));
  json_decref(st);
  st = call_ok(c, "SectorsStatus", "[2, true]");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "OnChain"), "SectorNumber")), 2);
  json_decref(st);
  call_fails(c, "SectorsStatus", "[99, true]", ST_EINVAL,
             "sector 99 of t01000 is neither in this miner's sealing database nor on chain");
  call_fails(c, "SectorsStatus", "[\"one\"]", ST_EINVAL, "param 1 (sector number): must be a non-negative integer");
  call_fails(c, "SectorsStatus", "[1, 1]", ST_EINVAL, "param 2 (show on-chain info): must be true or false");
  /* st_miner_api_call, the clients' call: the same answer; a failure names the method */
  json_t *r;
  assert_int_equal(st_miner_api_call(c, "SectorsList", NULL, &r, &err), ST_OK);
  assert_json(r, "[3, 4]");
  assert_int_equal(st_miner_api_call(c, "SectorsStatus", json_pack("[i b]", 99, 1), &r, &err), ST_EINVAL);
  assert_null(r);
  assert_string_equal(err.msg, ST_MINER_API_PREFIX
                      "SectorsStatus: sector 99 of t01000 is neither in this miner's sealing database nor on chain");

  /* the local dist-path as the one storage root */
  json_t *sl = call_ok(c, "StorageList", NULL);
  assert_int_equal(json_array_size(sl), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(sl, 0), "Path")), f->store);
  assert_true(json_is_true(json_object_get(json_array_get(sl, 0), "Reachable")));
  assert_true(json_integer_value(json_object_get(json_array_get(sl, 0), "Capacity")) > 0);
  json_decref(sl);

  /* proving check, quick and slow, with a folder gone */
  char params[64], cache[700], moved[720];
  snprintf(params, sizeof params, "[%llu, true]", (unsigned long long)d);
  json_t *ck = call_ok(c, "ProvingCheck", params);
  assert_int_equal(json_array_size(ck), 2);
  assert_true(json_is_true(json_object_get(json_array_get(ck, 0), "Good")));
  json_decref(ck);
  snprintf(cache, sizeof cache, "%s/cache/s-t01000-1", f->store);
  snprintf(moved, sizeof moved, "%s.away", cache);
  assert_int_equal(rename(cache, moved), 0);
  snprintf(params, sizeof params, "[%llu]", (unsigned long long)d);
  ck = call_ok(c, "ProvingCheck", params);
  assert_false(json_is_true(json_object_get(json_array_get(ck, 0), "Good")));
  assert_non_null(
      strstr(json_string_value(json_object_get(json_array_get(ck, 0), "Err")), "/p_aux\": No such file or directory"));
  assert_true(json_is_true(json_object_get(json_array_get(ck, 1), "Good")));
  json_decref(ck);
  assert_int_equal(rename(moved, cache), 0);
  call_fails(c, "ProvingCheck", "[-1]", ST_EINVAL, "param 1 (deadline index): must be a non-negative integer");

  /* the poster's counters, in MinerRunInfo and /metrics */
  st_poster_stats ps = {
      .posts_submitted = 3, .posts_landed = 2, .sectors_skipped = 1, .blocks_mined = 7, .last_mined_height = 42};
  st_miner_api_set_poster(api, &ps); /* the WindowPoSt thread's: not the block counters */
  st_poster_stats blocks = {.posts_submitted = 99, .blocks_mined = 7, .last_mined_height = 42};
  st_miner_api_set_blocks(api, &blocks); /* the mining thread's: only those */
  json_t *ri = call_ok(c, "MinerRunInfo", NULL);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(ri, "Poster"), "PostsSubmitted")), 3);
  assert_string_equal(json_string_value(json_object_get(ri, "Mode")), "all");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(ri, "Poster"), "BlocksMined")), 7);
  assert_int_equal(json_integer_value(json_object_get(ri, "PID")), getpid());
  json_decref(ri);
  st_http_client *h;
  long status;
  st_buf body = ST_BUF_INIT;
  assert_int_equal(st_http_client_new(ai.url, NULL, &h, &err), ST_OK);
  assert_int_equal(st_http_call(h, "GET", "/metrics", NULL, 0, &status, &body, &err), ST_OK);
  assert_int_equal(status, 200);
  const char *m = st_buf_cstr(&body);
  char want[900];
  snprintf(want, sizeof want,
           "spacetime_miner_info{miner=\"t01000\",mode=\"all\",server_api=\"\",dist_path=\"%s\"} 1\n", f->store);
  assert_non_null(strstr(m, want));
  assert_non_null(strstr(m, "\nspacetime_miner_wdpost_messages_submitted_total 3\n"));
  assert_non_null(strstr(m, "\nspacetime_miner_wdpost_sectors_skipped_total 1\n"));
  assert_non_null(strstr(m, "\nspacetime_miner_blocks_mined_total 7\n"));
  assert_non_null(strstr(m, "\nspacetime_miner_last_mined_height 42\n"));
  assert_non_null(strstr(m, "\nspacetime_miner_sectors{state=\"Packing\"} 2\n"));
  st_buf_reset(&body);
  assert_int_equal(st_http_call(h, "GET", "/nothing", NULL, 0, &status, &body, &err), ST_OK);
  assert_int_equal(status, 404);
  st_buf_free(&body);
  st_http_client_free(h);

  st_rpc_client_close(c);
  st_rpc_client_close(anon);
  st_miner_api_stop(api);
  char path[500];
  snprintf(path, sizeof path, "%s/api", repo);
  assert_int_equal(access(path, F_OK), -1);
  /* a second start on the same repo keeps its secret: the old token still opens it */
  char token[ST_APIINFO_TOKEN_MAX];
  assert_int_equal(st_apiinfo_read_token(repo, token, sizeof token, &err), ST_OK);
  if (st_miner_api_start(&ac, &api, &err)) fail_msg("restart: %s", err.msg);
  st_apiinfo again;
  assert_int_equal(st_apiinfo_resolve(NULL, repo, &again, &err), ST_OK);
  snprintf(again.token, sizeof again.token, "%s", token);
  assert_int_equal(st_rpc_client_open(&again, &c, &err), ST_OK);
  assert_json(call_ok(c, "PledgeSector", NULL), "{\"Miner\": 1000, \"Number\": 5}");
  st_rpc_client_close(c);
  st_miner_api_stop(api);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_api)};
  return cmocka_run_group_tests(tests, nf_group_setup, nf_group_teardown);
}
