/* st_params: each miner message's params, as the miner encodes them (st_miner_msgs), decoded by
 * the schema in the VM's method table; truncated and extra input refused with the field named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "chain/st_methods.h"
#include "chain/st_params.h"
#include "miner/st_miner_msgs.h"
#include "testutil.h"

static char *decode(st_actor_kind kind, uint64_t method, const st_buf *b, st_err *err, st_code want) {
  const char *name, *schema;
  assert_true(st_vm_method_info(kind, method, &name, &schema));
  json_t *j = NULL;
  assert_int_equal(st_params_to_json(schema, b->data, b->len, &j, err), want);
  if (want) return NULL;
  char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(j);
  return s;
}

static void test_window_post(void **state) {
  (void)state;
  st_bitfield skipped;
  st_bitfield_init(&skipped);
  st_err err;
  assert_int_equal(st_bitfield_set(&skipped, 3, &err), ST_OK);
  st_post_partition parts[] = {{0, NULL}, {2, &skipped}};
  uint8_t proof[4] = {1, 2, 3, 4}, rand[32] = {0};
  st_buf b = ST_BUF_INIT;
  assert_int_equal(st_params_window_post(7, parts, 2, 5, proof, 4, 123, rand, &b, &err), ST_OK);
  char *s = decode(ST_ACTOR_MINER, 5, &b, &err, ST_OK);
  assert_string_equal(s,
                      "{\"Deadline\":7,\"Partitions\":[{\"Index\":0,\"Skipped\":[0]},{\"Index\":2,\"Skipped\":[3,1]}],"
                      "\"Proofs\":[{\"PoStProof\":5,\"ProofBytes\":\"AQIDBA==\"}],\"ChainCommitEpoch\":123,"
                      "\"ChainCommitRand\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}");
  free(s);
  /* cut short: the field that is missing is named */
  b.len -= 34;
  decode(ST_ACTOR_MINER, 5, &b, &err, ST_EINVAL);
  tu_assert_err_contains(&err, "params.ChainCommitRand: cbor: unexpected end of input");
  st_buf_free(&b);
  st_bitfield_free(&skipped);
}

static void test_commits_and_recoveries(void **state) {
  (void)state;
  st_err err;
  st_buf b = ST_BUF_INIT;
  uint8_t proof[2] = {9, 9};
  st_params_prove_commit(42, proof, 2, &b);
  char *s = decode(ST_ACTOR_MINER, 7, &b, &err, ST_OK);
  assert_string_equal(s, "{\"SectorNumber\":42,\"Proof\":\"CQk=\"}");
  free(s);
  /* a byte too many */
  st_buf_putc(&b, 0);
  decode(ST_ACTOR_MINER, 7, &b, &err, ST_EINVAL);
  st_buf_reset(&b);
  uint8_t comm_r[32] = {1};
  st_params_precommit(8, 3, comm_r, 100, NULL, 0, 5000, &b);
  s = decode(ST_ACTOR_MINER, 6, &b, &err, ST_OK);
  assert_non_null(strstr(s, "{\"SealProof\":8,\"SectorNumber\":3,\"SealedCID\":{\"/\":\"bagboea4b5abc"));
  assert_non_null(
      strstr(s, "\"DealIDs\":[],\"Expiration\":5000,\"ReplaceCapacity\":false,\"ReplaceSectorDeadline\":0"));
  free(s);
  st_buf_reset(&b);
  st_bitfield sectors;
  st_bitfield_init(&sectors);
  assert_int_equal(st_bitfield_set(&sectors, 1, &err), ST_OK);
  st_fault_decl d = {4, 0, &sectors};
  assert_int_equal(st_params_fault_decls(&d, 1, &b, &err), ST_OK);
  s = decode(ST_ACTOR_MINER, 11, &b, &err, ST_OK);
  assert_string_equal(s, "{\"Recoveries\":[{\"Deadline\":4,\"Partition\":0,\"Sectors\":[1,1]}]}");
  free(s);
  st_bitfield_free(&sectors);
  /* no params for a send; a method the kind lacks */
  json_t *j;
  assert_int_equal(st_params_to_json("", NULL, 0, &j, &err), ST_OK);
  assert_true(json_is_null(j));
  assert_int_equal(st_params_to_json("", b.data, b.len, &j, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "takes no parameters");
  assert_false(st_vm_method_info(ST_ACTOR_ACCOUNT, 5, NULL, NULL));
  st_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_window_post), cmocka_unit_test(test_commits_and_recoveries)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
