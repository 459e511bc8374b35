/* Tests for the memory block store: get returns what put stored, a missing CID is ST_ENOENT
 * naming it, a second put of a CID stores nothing new, and the table grows past its first size. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "codec/st_blockstore.h"

static void test_put_get_grow(void **state) {
  (void)state;
  st_memstore *m;
  st_err err;
  assert_int_equal(st_memstore_new(&m, &err), ST_OK);
  st_blockstore bs = st_memstore_view(m);
  st_buf b;
  st_buf_init(&b);
  for (int i = 0; i < 5000; i++) {
    char obj[32];
    int n = snprintf(obj, sizeof obj, "object %d", i);
    st_cid c;
    st_cid_of_cbor(obj, (size_t)n, &c);
    assert_int_equal(bs.put(bs.ctx, &c, obj, (size_t)n, &err), ST_OK);
    assert_int_equal(bs.put(bs.ctx, &c, obj, (size_t)n, &err), ST_OK); /* again: nothing new */
  }
  st_memstore_stats st;
  st_memstore_stats_get(m, &st);
  assert_int_equal(st.puts, 10000);
  assert_int_equal(st.objects, 5000);
  for (int i = 0; i < 5000; i += 7) {
    char obj[32];
    int n = snprintf(obj, sizeof obj, "object %d", i);
    st_cid c;
    st_cid_of_cbor(obj, (size_t)n, &c);
    st_buf_reset(&b);
    assert_int_equal(bs.get(bs.ctx, &c, &b, &err), ST_OK);
    assert_int_equal(b.len, (size_t)n);
    assert_memory_equal(b.data, obj, (size_t)n);
  }
  st_cid missing;
  st_cid_of_cbor("absent", 6, &missing);
  char s[ST_CID_STR_MAX];
  st_cid_to_string(&missing, s);
  assert_int_equal(bs.get(bs.ctx, &missing, &b, &err), ST_ENOENT);
  assert_non_null(strstr(err.msg, s));
  st_memstore_stats_reset(m);
  st_memstore_stats_get(m, &st);
  assert_int_equal(st.puts, 0);
  assert_int_equal(st.objects, 5000);
  st_buf_free(&b);
  st_memstore_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_put_get_grow)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
