/* Tests for st_par: every index is visited exactly once, whatever the thread count. */
#include "testutil.h"

#include <stdatomic.h>
#include <string.h>

#include "core/st_par.h"

typedef struct visits {
  atomic_int *count;
} visits;

static void visit(void *arg, size_t lo, size_t hi) {
  visits *v = arg;
  for (size_t i = lo; i < hi; i++) atomic_fetch_add(&v->count[i], 1);
}

static void test_each_once(void **state) {
  (void)state;
  static const size_t sizes[] = {0, 1, 2, 3, 7, 64, 1000, 65537};
  static const unsigned threads[] = {0, 1, 2, 3, 8, 64, 1000};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
      size_t n = sizes[s];
      atomic_int *count = calloc(n + 1, sizeof *count);
      assert_non_null(count);
      visits v = {count};
      st_par_for(n, threads[t], visit, &v);
      for (size_t i = 0; i < n; i++) assert_int_equal(atomic_load(&count[i]), 1);
      assert_int_equal(atomic_load(&count[n]), 0);
      free(count);
    }
  assert_true(st_par_cpus() >= 1 && st_par_cpus() <= ST_PAR_MAX_THREADS);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_each_once)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
