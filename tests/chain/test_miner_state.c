/* Tests for st_miner_state's bookkeeping over partitions: the active sectors, the miner's power
 * from them (quality-adjusted by deal weight), the counts the operator views show, and marking
 * faults; and st_rand_entropy_id, the entropy every miner-bound draw of randomness uses. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "chain/st_miner_state.h"
#include "chain/st_rand.h"
#include "codec/st_address.h"
#include "codec/st_cbor.h"

/* One deadline, two partitions: {1,2,3,4} (3 faulty and recovering, 4 terminated) and {5,6}
 * (6 faulty, not recovering); sector 5 carries verified deals over all its life. */
static void build(st_miner_state *m) {
  st_err err;
  assert_int_equal(st_miner_state_init(m, 1, &err), ST_OK);
  m->sector_size = 2048;
  st_deadline_state *dl = &m->deadlines[0];
  dl->partitions = calloc(2, sizeof *dl->partitions);
  assert_non_null(dl->partitions);
  dl->npartitions = 2;
  st_partition *a = &dl->partitions[0], *b = &dl->partitions[1];
  assert_int_equal(st_bitfield_set_range(&a->sectors, 1, 4, &err), ST_OK);
  assert_int_equal(st_bitfield_set(&a->faults, 3, &err), ST_OK);
  assert_int_equal(st_bitfield_set(&a->recoveries, 3, &err), ST_OK);
  assert_int_equal(st_bitfield_set(&a->terminated, 4, &err), ST_OK);
  assert_int_equal(st_bitfield_set_range(&b->sectors, 5, 2, &err), ST_OK);
  assert_int_equal(st_bitfield_set(&b->faults, 6, &err), ST_OK);
  for (uint64_t n = 1; n <= 6; n++) {
    st_sector_onchain *s = st_miner_add_sector(m, n);
    assert_non_null(s);
    s->activation = 100;
    s->expiration = 200;
    s->fault_epoch = n == 3 || n == 6 ? 50 : -1;
  }
  /* verified deals fill sector 5 for its whole life: 10x the quality of the others, so 10x the
   * power (size x duration of verified weight, QAPowerForWeight) */
  mpz_set_ui(st_miner_sector(m, 5)->verified_deal_weight, 2048u * 100u);
}

static void test_active_power_counts(void **state) {
  (void)state;
  st_miner_state m;
  build(&m);
  st_err err;
  st_bitfield active = ST_BITFIELD_INIT;
  assert_int_equal(st_miner_active(&m, &active, &err), ST_OK);
  st_buf text = ST_BUF_INIT;
  st_bitfield_format_ranges(&active, &text);
  assert_string_equal(st_buf_cstr(&text), "1,2,5");
  mpz_t raw, qa;
  mpz_inits(raw, qa, NULL);
  assert_int_equal(st_miner_power(&m, raw, qa, &err), ST_OK);
  assert_int_equal(mpz_get_ui(raw), 3 * 2048);
  assert_int_equal(mpz_get_ui(qa), 2 * 2048 + 10 * 2048);
  st_miner_counts c;
  st_miner_counts_of(&m, &c);
  assert_int_equal(c.live, 5);
  assert_int_equal(c.active, 3);
  assert_int_equal(c.faulty, 2);
  assert_int_equal(c.recovering, 1);
  /* marking: new faults get the epoch, old ones keep theirs */
  st_bitfield some = ST_BITFIELD_INIT;
  assert_int_equal(st_bitfield_set_range(&some, 2, 2, &err), ST_OK);
  st_miner_mark_faulty(&m, &some, 120);
  assert_int_equal(st_miner_sector(&m, 2)->fault_epoch, 120);
  assert_int_equal(st_miner_sector(&m, 3)->fault_epoch, 50);
  mpz_clears(raw, qa, NULL);
  st_buf_free(&text);
  st_bitfield_free(&some);
  st_bitfield_free(&active);
  st_miner_state_free(&m);
}

static void test_entropy_id(void **state) {
  (void)state;
  uint64_t ids[] = {0, 1000, (uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX};
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
    st_buf got = ST_BUF_INIT, want = ST_BUF_INIT;
    st_rand_entropy_id(ids[i], &got);
    st_address a;
    if (ids[i] <= (uint64_t)INT64_MAX) { /* an ID address, as a CBOR byte string */
      assert_int_equal(st_address_from_id(ids[i], &a, NULL), ST_OK);
      st_cbor_put_bytes(&want, a.bytes, a.len);
      assert_int_equal(got.len, want.len);
      assert_memory_equal(got.data, want.data, want.len);
    } else { /* no actor has such an ID; the bytes are still defined: protocol 0, then the varint */
      assert_int_equal(got.len, 1 + 1 + 10);
      assert_int_equal(got.data[1], ST_ADDR_ID);
    }
    st_buf_free(&got);
    st_buf_free(&want);
  }
}

/* SectorOnChainInfo's JSON: Lotus's fields in Lotus's order, read back as written; a field of the
 * wrong kind is named, and the out is left empty. */
static void test_sector_json(void **state) {
  (void)state;
  st_sector_onchain s, back;
  st_err err;
  st_sector_onchain_init(&s);
  s.number = 7;
  s.seal_proof = 5;
  s.activation = 100;
  s.expiration = 9000;
  mpz_set_ui(s.deal_weight, 12);
  mpz_set_ui(s.initial_pledge, 1000);
  assert_int_equal(
      st_cid_parse("bagboea4b5abcbhmtqifb5yroc5dm4wq7wwj2mqg2gvojynbqaf7wyfo2nuyfqu3h", &s.sealed_cid, &err), ST_OK);
  json_t *j = st_sector_onchain_to_json(&s);
  char *text = json_dumps(j, JSON_COMPACT);
  assert_string_equal(
      text,
      "{\"SectorNumber\":7,\"SealProof\":5,\"SealedCID\":{\"/\":"
      "\"bagboea4b5abcbhmtqifb5yroc5dm4wq7wwj2mqg2gvojynbqaf7wyfo2nuyfqu3h\"},\"Activation\":100,"
      "\"Expiration\":9000,\"DealWeight\":\"12\",\"VerifiedDealWeight\":\"0\",\"InitialPledge\":\"1000\","
      "\"ExpectedDayReward\":\"0\",\"ExpectedStoragePledge\":\"0\",\"PowerBaseEpoch\":100,"
      "\"ReplacedDayReward\":\"0\",\"SectorKeyCID\":null,\"Flags\":0,\"DailyFee\":\"0\"}");
  free(text);
  assert_int_equal(st_sector_onchain_from_json(j, "info", &back, &err), ST_OK);
  assert_true(back.number == 7 && back.seal_proof == 5 && back.activation == 100 && back.expiration == 9000);
  assert_true(st_cid_equal(&back.sealed_cid, &s.sealed_cid));
  assert_int_equal(mpz_cmp(back.deal_weight, s.deal_weight), 0);
  assert_int_equal(mpz_cmp(back.initial_pledge, s.initial_pledge), 0);
  st_sector_onchain_free(&back);
  json_object_set_new(j, "Expiration", json_string("soon"));
  assert_int_equal(st_sector_onchain_from_json(j, "info", &back, &err), ST_EINVAL);
  assert_string_equal(err.msg, "info.Expiration: must be an integer");
  assert_true(back.number == 0 && back.activation == 0 && !mpz_sgn(back.initial_pledge));
  st_sector_onchain_free(&back);
  json_decref(j);
  st_sector_onchain_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_active_power_counts), cmocka_unit_test(test_entropy_id),
                                     cmocka_unit_test(test_sector_json)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
