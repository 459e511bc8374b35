/* Tests for st_mpool: admission (signature, nonce, gaps, replays, funds, size), replace-by-fee
 * at 1.25x, the next nonce, selection by premium within the gas limit and in nonce order,
 * pruning after messages are applied, and the journal (kept before entering, forgotten when
 * pruned). */
#include "testutil.h"

#include <string.h>

#include "chain/st_genesis.h"
#include "chain/st_methods.h"
#include "chain/st_mpool.h"
#include "chain/st_vm.h"
#include "crypto/st_secp.h"

typedef struct fx {
  st_network net;
  st_state st;
  uint8_t ska[32], skb[32];
  st_address a, b;
  st_mpool *pool;
} fx;

static void setup_fx(fx *f) {
  st_genesis g;
  st_genesis_init(&g);
  st_err err;
  assert_int_equal(st_network_profile("devnet", &g.network, &err), ST_OK);
  uint8_t *keys[2] = {f->ska, f->skb};
  st_address *addrs[2] = {&f->a, &f->b};
  for (int i = 0; i < 2; i++) {
    assert_int_equal(st_secp_keygen(keys[i], &err), ST_OK);
    assert_int_equal(st_secp_address(keys[i], addrs[i], &err), ST_OK);
    char text[ST_ADDR_STR_MAX], spec[200];
    st_address_format(addrs[i], 't', text, &err);
    snprintf(spec, sizeof spec, "%s=1", text); /* 1 FIL each */
    assert_int_equal(st_genesis_add_account(&g, spec, &err), ST_OK);
  }
  f->net = g.network;
  st_state_init(&f->st);
  assert_int_equal(st_genesis_state(&g, &f->st, &err), ST_OK);
  st_genesis_clear(&g);
  assert_int_equal(st_mpool_new(&f->net, &f->pool, &err), ST_OK);
}

static void teardown_fx(fx *f) {
  st_mpool_free(f->pool);
  st_state_clear(&f->st);
}

static void signed_msg(st_signed_message *sm, const uint8_t *sk, const st_address *from, const st_address *to,
                       uint64_t nonce, unsigned premium, int64_t gas_limit) {
  st_signed_message_init(sm);
  st_message *m = &sm->message;
  m->from = *from;
  m->to = *to;
  m->nonce = nonce;
  mpz_set_ui(m->value, 1000);
  m->gas_limit = gas_limit;
  mpz_set_ui(m->gas_fee_cap, 100000);
  mpz_set_ui(m->gas_premium, premium);
  st_err err;
  if (st_signed_message_sign_secp(sm, sk, &err)) fail_msg("sign: %s", err.msg);
}

static st_code add(fx *f, const uint8_t *sk, const st_address *from, uint64_t nonce, unsigned premium, int64_t gas,
                   st_err *err) {
  st_signed_message sm;
  signed_msg(&sm, sk, from, from == &f->a ? &f->b : &f->a, nonce, premium, gas);
  st_code code = st_mpool_add(f->pool, &f->st, &sm, NULL, err);
  st_signed_message_free(&sm);
  return code;
}

static void test_admission(void **state) {
  (void)state;
  fx f;
  setup_fx(&f);
  st_err err;
  uint64_t nonce;
  assert_int_equal(add(&f, f.ska, &f.a, 0, 100, 1000000, &err), ST_OK);
  assert_int_equal(add(&f, f.ska, &f.a, 2, 100, 1000000, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "nonce 2 leaves a gap: the sender's next nonce is 1");
  assert_int_equal(add(&f, f.ska, &f.a, 1, 100, 1000000, &err), ST_OK);
  assert_int_equal(st_mpool_nonce(f.pool, &f.st, &f.a, &nonce, &err), ST_OK);
  assert_int_equal(nonce, 2);
  /* replace-by-fee: 125 is not enough over 100, 126 is */
  assert_int_equal(add(&f, f.ska, &f.a, 1, 125, 1000000, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "replace-by-fee: GasPremium 125 is below 126, 1.25x the waiting message's 100");
  assert_int_equal(add(&f, f.ska, &f.a, 1, 126, 1000000, &err), ST_OK);
  assert_int_equal(st_mpool_size(f.pool), 2);
  /* a bad signature: the value changed after signing */
  st_signed_message forged;
  signed_msg(&forged, f.ska, &f.a, &f.b, 2, 100, 1000000);
  mpz_set_ui(forged.message.value, 999999);
  assert_int_equal(st_mpool_add(f.pool, &f.st, &forged, NULL, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "signature");
  st_signed_message_free(&forged);
  /* funds: 1 FIL cannot cover a value of 2 FIL */
  st_signed_message rich;
  signed_msg(&rich, f.skb, &f.b, &f.a, 0, 100, 1000000);
  mpz_set_str(rich.message.value, "2000000000000000000", 10);
  assert_int_equal(st_signed_message_sign_secp(&rich, f.skb, &err), ST_OK);
  assert_int_equal(st_mpool_add(f.pool, &f.st, &rich, NULL, &err), ST_ERANGE);
  st_signed_message_free(&rich);
  tu_assert_err_contains(&err, "insufficient funds: the sender has 1000000000000000000 attoFIL");
  /* below the inclusion cost */
  assert_int_equal(add(&f, f.skb, &f.b, 0, 100, 1000, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "is below the");
  /* an unknown sender */
  st_address stranger;
  uint8_t sk[32];
  assert_int_equal(st_secp_keygen(sk, &err), ST_OK);
  assert_int_equal(st_secp_address(sk, &stranger, &err), ST_OK);
  st_signed_message sm;
  signed_msg(&sm, sk, &stranger, &f.a, 0, 100, 1000000);
  assert_int_equal(st_mpool_add(f.pool, &f.st, &sm, NULL, &err), ST_EINVAL);
  st_signed_message_free(&sm);
  tu_assert_err_contains(&err, "sender: actor t1");
  assert_int_equal(st_mpool_size(f.pool), 2);
  teardown_fx(&f);
}

static void test_select_and_prune(void **state) {
  (void)state;
  fx f;
  setup_fx(&f);
  st_err err;
  /* a: premiums 10, 500 (nonce order forces 10 first); b: 200, 200 */
  assert_int_equal(add(&f, f.ska, &f.a, 0, 10, 1000000, &err), ST_OK);
  assert_int_equal(add(&f, f.ska, &f.a, 1, 500, 1000000, &err), ST_OK);
  assert_int_equal(add(&f, f.skb, &f.b, 0, 200, 1000000, &err), ST_OK);
  assert_int_equal(add(&f, f.skb, &f.b, 1, 200, 1000000, &err), ST_OK);
  const st_signed_message *out[8];
  size_t n = st_mpool_select(f.pool, &f.st, 3000000, out, 8);
  assert_int_equal(n, 3);
  assert_true(st_address_equal(&out[0]->message.from, &f.b));
  assert_true(st_address_equal(&out[1]->message.from, &f.b));
  assert_true(st_address_equal(&out[2]->message.from, &f.a));
  assert_int_equal(out[2]->message.nonce, 0);
  n = st_mpool_select(f.pool, &f.st, 100000000, out, 8);
  assert_int_equal(n, 4);

  /* apply a's nonce 0; then it is pruned, and a replay of it is refused */
  mpz_t base;
  mpz_init_set_ui(base, 100);
  st_vm vm;
  st_vm_init(&vm, &f.st, &f.net, ST_ID_FIRST_ACCOUNT, base, 1);
  st_receipt r;
  st_receipt_init(&r);
  const st_signed_message **pending;
  assert_int_equal(st_mpool_pending(f.pool, &pending), 4);
  assert_int_equal(st_vm_apply(&vm, &pending[0]->message, 120, &r, NULL, &err), ST_OK);
  assert_int_equal(r.exit_code, 0);
  st_mpool_prune(f.pool, &f.st);
  assert_int_equal(st_mpool_size(f.pool), 3);
  assert_int_equal(add(&f, f.ska, &f.a, 0, 1000, 1000000, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "nonce 0 was already used: the sender's next nonce is 1");
  st_receipt_free(&r);
  st_vm_clear(&vm);
  mpz_clear(base);
  teardown_fx(&f);
}

/* A journal that records what it is told, and refuses while fail is set. */
typedef struct journal_rec {
  st_cid kept[8], replaced[8], forgot[8];
  bool had_replaced[8];
  size_t nkept, nforgot, forget_calls;
  bool fail;
} journal_rec;

static st_code rec_keep(void *ctx, const st_signed_message *sm, const st_cid *cid, const st_cid *replaced,
                        st_err *err) {
  journal_rec *j = ctx;
  if (j->fail) return st_err_set(err, ST_EIO, "the disk is gone");
  st_cid check;
  assert_int_equal(st_signed_message_cid(sm, &check, err), ST_OK);
  assert_true(st_cid_equal(&check, cid));
  j->had_replaced[j->nkept] = replaced != NULL;
  if (replaced) j->replaced[j->nkept] = *replaced;
  j->kept[j->nkept++] = *cid;
  return ST_OK;
}

static void rec_forget(void *ctx, const st_cid *cids, size_t n) {
  journal_rec *j = ctx;
  j->forget_calls++;
  for (size_t i = 0; i < n; i++) j->forgot[j->nforgot++] = cids[i];
}

static st_code add_cid(fx *f, uint64_t nonce, unsigned premium, st_cid *cid, st_err *err) {
  st_signed_message sm;
  signed_msg(&sm, f->ska, &f->a, &f->b, nonce, premium, 1000000);
  st_code code = st_mpool_add(f->pool, &f->st, &sm, cid, err);
  st_signed_message_free(&sm);
  return code;
}

static void test_journal(void **state) {
  (void)state;
  fx f;
  setup_fx(&f);
  journal_rec j = {0};
  st_mpool_set_journal(f.pool, &(st_mpool_journal){.keep = rec_keep, .forget = rec_forget, .ctx = &j});
  st_err err;
  st_cid c0, c1, c1b, c2;
  assert_int_equal(add_cid(&f, 0, 100, &c0, &err), ST_OK);
  assert_int_equal(add_cid(&f, 1, 100, &c1, &err), ST_OK);
  assert_int_equal(j.nkept, 2);
  assert_true(st_cid_equal(&j.kept[0], &c0) && !j.had_replaced[0]);
  assert_true(st_cid_equal(&j.kept[1], &c1) && !j.had_replaced[1]);
  /* a replacement is kept with the CID it replaces */
  assert_int_equal(add_cid(&f, 1, 200, &c1b, &err), ST_OK);
  assert_int_equal(j.nkept, 3);
  assert_true(st_cid_equal(&j.kept[2], &c1b) && j.had_replaced[2] && st_cid_equal(&j.replaced[2], &c1));
  assert_null(st_mpool_find(f.pool, &c1));
  /* what the journal refuses stays out of the pool, and so does a refused replacement */
  j.fail = true;
  assert_int_equal(add_cid(&f, 2, 100, &c2, &err), ST_EIO);
  tu_assert_err_contains(&err, "the disk is gone");
  assert_int_equal(add_cid(&f, 1, 400, &c2, &err), ST_EIO);
  assert_int_equal(st_mpool_size(f.pool), 2);
  assert_non_null(st_mpool_find(f.pool, &c1b));
  uint64_t nonce;
  assert_int_equal(st_mpool_nonce(f.pool, &f.st, &f.a, &nonce, &err), ST_OK);
  assert_int_equal(nonce, 2);
  j.fail = false;
  /* pruning tells the journal what left, in one call; nothing left, no call */
  st_mpool_prune(f.pool, &f.st);
  assert_int_equal(j.forget_calls, 0);
  st_state_actor *a;
  assert_int_equal(st_state_lookup(&f.st, &f.a, &a, &err), ST_OK);
  a->nonce = 2; /* both applied */
  st_mpool_prune(f.pool, &f.st);
  assert_int_equal(j.forget_calls, 1);
  assert_int_equal(j.nforgot, 2);
  assert_true((st_cid_equal(&j.forgot[0], &c0) && st_cid_equal(&j.forgot[1], &c1b)) ||
              (st_cid_equal(&j.forgot[0], &c1b) && st_cid_equal(&j.forgot[1], &c0)));
  assert_int_equal(st_mpool_size(f.pool), 0);
  /* no journal: nothing is told */
  st_mpool_set_journal(f.pool, NULL);
  assert_int_equal(add_cid(&f, 2, 100, &c2, &err), ST_OK);
  assert_int_equal(j.nkept, 3);
  teardown_fx(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_admission), cmocka_unit_test(test_select_and_prune),
                                     cmocka_unit_test(test_journal)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
