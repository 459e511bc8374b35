/* Tests for st_vm: a transfer moves the value and pays its fee to the block's miner; a send to
 * a new key address creates an account; refused messages change nothing; failed messages
 * change only the nonce and the fee; out of gas; Filecoin's burn rule; the base fee rule; a
 * method's failed state operation is the message's failure, the node's own failure (out of
 * memory) is returned instead of a receipt. The total of all balances never changes. */
#include "testutil.h"

#include <string.h>

#include "chain/st_genesis.h"
#include "chain/st_methods.h"
#include "chain/st_vm.h"
#include "codec/st_bitfield.h"
#include "crypto/st_secp.h"

typedef struct fixture {
  st_network net;
  st_state st;
  st_address a, b, fresh; /* two funded accounts (t0100, t0101) and one unknown key address */
  mpz_t total;
} fixture;

static void key_address(st_address *out) {
  uint8_t sk[32];
  st_err err;
  assert_int_equal(st_secp_keygen(sk, &err), ST_OK);
  assert_int_equal(st_secp_address(sk, out, &err), ST_OK);
}

static void setup_fixture(fixture *f, int64_t burn) {
  st_genesis g;
  st_genesis_init(&g);
  st_err err;
  assert_int_equal(st_network_profile("devnet", &g.network, &err), ST_OK);
  g.network.burn_base_fee = burn;
  key_address(&f->a);
  key_address(&f->b);
  key_address(&f->fresh);
  char spec[200], text[ST_ADDR_STR_MAX];
  st_address_format(&f->a, 't', text, &err);
  snprintf(spec, sizeof spec, "%s=100", text);
  assert_int_equal(st_genesis_add_account(&g, spec, &err), ST_OK);
  st_address_format(&f->b, 't', text, &err);
  snprintf(spec, sizeof spec, "%s=100", text);
  assert_int_equal(st_genesis_add_account(&g, spec, &err), ST_OK);
  f->net = g.network;
  st_state_init(&f->st);
  assert_int_equal(st_genesis_state(&g, &f->st, &err), ST_OK);
  st_genesis_clear(&g);
  mpz_init(f->total);
  st_state_total(&f->st, f->total);
}

static void teardown_fixture(fixture *f) {
  st_state_clear(&f->st);
  mpz_clear(f->total);
}

static void message(st_message *m, const st_address *from, const st_address *to, uint64_t nonce,
                    const char *value_atto) {
  st_message_init(m);
  m->from = *from;
  m->to = *to;
  m->nonce = nonce;
  mpz_set_str(m->value, value_atto, 10);
  m->gas_limit = 2000000;
  mpz_set_ui(m->gas_fee_cap, 1000);
  mpz_set_ui(m->gas_premium, 50);
}

static st_code apply(fixture *f, const st_message *m, st_receipt *r, st_vm_fees *fees, st_err *err) {
  mpz_t base;
  mpz_init_set_ui(base, 100);
  st_vm vm;
  st_vm_init(&vm, &f->st, &f->net, 101, base, 10); /* t0101 mines the block */
  st_code code = st_vm_apply(&vm, m, st_message_size(m) + 69, r, fees, err);
  st_vm_clear(&vm);
  mpz_clear(base);
  return code;
}

static void root(fixture *f, st_cid *out) {
  st_buf b = ST_BUF_INIT;
  st_state_root(&f->st, &b, out);
  st_buf_free(&b);
}

static void assert_conserved(fixture *f) {
  mpz_t now;
  mpz_init(now);
  st_state_total(&f->st, now);
  assert_int_equal(mpz_cmp(now, f->total), 0);
  mpz_clear(now);
}

static void test_transfer_and_fee(void **state) {
  (void)state;
  fixture f;
  setup_fixture(&f, 0);
  st_message m;
  message(&m, &f.a, &f.b, 0, "10000000000000000000"); /* 10 FIL */
  st_receipt r;
  st_receipt_init(&r);
  st_vm_fees fees;
  st_vm_fees_init(&fees);
  st_err err;
  mpz_t a0, b0;
  mpz_init_set(a0, st_state_get(&f.st, 100)->balance);
  mpz_init_set(b0, st_state_get(&f.st, 101)->balance);
  assert_int_equal(apply(&f, &m, &r, &fees, &err), ST_OK);
  assert_int_equal(r.exit_code, 0);
  int64_t want_gas = st_vm_inclusion_gas(st_message_size(&m) + 69) + ST_GAS_CALL + ST_GAS_TRANSFER;
  assert_int_equal(r.gas_used, want_gas);
  /* the seed's rule: all of GasUsed x min(FeeCap, BaseFee + Premium) = GasUsed x 150 goes to the miner */
  assert_int_equal(mpz_cmp_si(fees.to_miner, want_gas * 150), 0);
  assert_int_equal(mpz_sgn(fees.burnt), 0);
  mpz_t want;
  mpz_init(want);
  mpz_sub(want, a0, m.value);
  mpz_sub(want, want, fees.to_miner);
  assert_int_equal(mpz_cmp(st_state_get(&f.st, 100)->balance, want), 0);
  mpz_add(want, b0, m.value);
  mpz_add(want, want, fees.to_miner); /* t0101 is both receiver and miner */
  assert_int_equal(mpz_cmp(st_state_get(&f.st, 101)->balance, want), 0);
  assert_int_equal(st_state_get(&f.st, 100)->nonce, 1);
  assert_conserved(&f);
  mpz_clears(want, a0, b0, NULL);
  st_message_free(&m);
  st_receipt_free(&r);
  st_vm_fees_clear(&fees);
  teardown_fixture(&f);
}

static void test_new_account(void **state) {
  (void)state;
  fixture f;
  setup_fixture(&f, 0);
  st_message m;
  message(&m, &f.a, &f.fresh, 0, "5");
  st_receipt r;
  st_receipt_init(&r);
  st_err err;
  assert_int_equal(apply(&f, &m, &r, NULL, &err), ST_OK);
  assert_int_equal(r.exit_code, 0);
  st_state_actor *created;
  assert_int_equal(st_state_lookup(&f.st, &f.fresh, &created, &err), ST_OK);
  assert_int_equal(created->id, ST_ID_FIRST_NEW);
  assert_int_equal(mpz_get_ui(created->balance), 5);
  assert_int_equal(r.gas_used,
                   st_vm_inclusion_gas(st_message_size(&m) + 69) + ST_GAS_CALL + ST_GAS_CREATE_ACTOR + ST_GAS_TRANSFER);
  assert_conserved(&f);
  st_message_free(&m);
  st_receipt_free(&r);
  teardown_fixture(&f);
}

static void test_refused(void **state) {
  (void)state;
  fixture f;
  setup_fixture(&f, 0);
  st_cid before, after;
  root(&f, &before);
  st_message m;
  st_receipt r;
  st_receipt_init(&r);
  st_err err;
  message(&m, &f.a, &f.b, 3, "1"); /* bad nonce */
  assert_int_equal(apply(&f, &m, &r, NULL, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "nonce 3 of t1");
  tu_assert_err_contains(&err, "is not its next nonce 0");
  st_message_free(&m);
  message(&m, &f.fresh, &f.b, 0, "1"); /* unknown sender */
  assert_int_equal(apply(&f, &m, &r, NULL, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "does not exist");
  st_message_free(&m);
  message(&m, &f.a, &f.b, 0, "1"); /* cannot cover the gas deposit */
  mpz_set_str(m.gas_fee_cap, "1000000000000000000000", 10);
  assert_int_equal(apply(&f, &m, &r, NULL, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "less than GasLimit x GasFeeCap");
  root(&f, &after);
  assert_true(st_cid_equal(&before, &after));
  /* the message pool's checks */
  m.gas_limit = 100;
  assert_int_equal(st_vm_check_message(&f.net, &m, 100, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "GasLimit 100 is below the 42463 gas it costs to include this message (100 bytes)");
  m.gas_limit = f.net.block_gas_limit + 1;
  assert_int_equal(st_vm_check_message(&f.net, &m, 100, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "above the block gas limit");
  st_message_free(&m);
  st_receipt_free(&r);
  teardown_fixture(&f);
}

static void test_failed_pays_fee_only(void **state) {
  (void)state;
  fixture f;
  setup_fixture(&f, 0);
  st_message m;
  st_receipt r;
  st_receipt_init(&r);
  st_vm_fees fees;
  st_vm_fees_init(&fees);
  st_err err;
  mpz_t a0, b0, want;
  mpz_init_set(a0, st_state_get(&f.st, 100)->balance);
  mpz_init_set(b0, st_state_get(&f.st, 101)->balance);
  mpz_init(want);
  /* more than it has: SysErrInsufficientFunds; a send to a new address that fails creates nothing */
  message(&m, &f.a, &f.fresh, 0, "200000000000000000000");
  assert_int_equal(apply(&f, &m, &r, &fees, &err), ST_OK);
  assert_int_equal(r.exit_code, ST_EXIT_SYS_INSUFFICIENT_FUNDS);
  assert_string_equal(st_exit_code_name(r.exit_code), "SysErrInsufficientFunds");
  st_state_actor *gone;
  assert_int_equal(st_state_lookup(&f.st, &f.fresh, &gone, NULL), ST_ENOENT);
  assert_int_equal(f.st.next_id, ST_ID_FIRST_NEW);
  mpz_sub(want, a0, fees.to_miner);
  assert_int_equal(mpz_cmp(st_state_get(&f.st, 100)->balance, want), 0);
  assert_int_equal(st_state_get(&f.st, 100)->nonce, 1);
  st_message_free(&m);
  /* a method accounts do not have */
  message(&m, &f.a, &f.b, 1, "7");
  m.method = 99;
  assert_int_equal(apply(&f, &m, &r, &fees, &err), ST_OK);
  assert_int_equal(r.exit_code, ST_EXIT_SYS_INVALID_METHOD);
  st_message_free(&m);
  /* out of gas: GasUsed is the whole GasLimit */
  message(&m, &f.a, &f.b, 2, "7");
  m.gas_limit = st_vm_inclusion_gas(st_message_size(&m) + 69) + ST_GAS_CALL;
  assert_int_equal(apply(&f, &m, &r, &fees, &err), ST_OK);
  assert_int_equal(r.exit_code, ST_EXIT_SYS_OUT_OF_GAS);
  assert_int_equal(r.gas_used, m.gas_limit);
  assert_int_equal(mpz_cmp_si(fees.to_miner, m.gas_limit * 150), 0);
  assert_int_equal(mpz_cmp(st_state_get(&f.st, 101)->balance, b0) > 0, 1); /* only fees arrived */
  st_message_free(&m);
  /* PubkeyAddress returns the key address */
  message(&m, &f.a, &f.b, 3, "0");
  m.method = 2;
  assert_int_equal(apply(&f, &m, &r, &fees, &err), ST_OK);
  assert_int_equal(r.exit_code, 0);
  assert_int_equal(r.ret.len, f.b.len + 1); /* a CBOR byte string of 21 bytes: one header byte */
  assert_conserved(&f);
  mpz_clears(a0, b0, want, NULL);
  st_message_free(&m);
  st_receipt_free(&r);
  st_vm_fees_clear(&fees);
  teardown_fixture(&f);
}

static void test_burn_rule(void **state) {
  (void)state;
  fixture f;
  setup_fixture(&f, 1);
  st_message m;
  message(&m, &f.a, &f.b, 0, "1");
  st_receipt r;
  st_receipt_init(&r);
  st_vm_fees fees;
  st_vm_fees_init(&fees);
  st_err err;
  assert_int_equal(apply(&f, &m, &r, &fees, &err), ST_OK);
  /* base fee 100 x (used + over-estimation) burnt; premium 50 x GasLimit to the miner */
  int64_t used = r.gas_used, over = m.gas_limit - 11 * used / 10,
          burn = (m.gas_limit - used) * (over > used ? used : over) / used;
  assert_int_equal(mpz_cmp_si(fees.burnt, 100 * (used + burn)), 0);
  assert_int_equal(mpz_cmp_si(fees.to_miner, 50 * m.gas_limit), 0);
  assert_int_equal(mpz_cmp(st_state_get(&f.st, ST_ID_BURNT)->balance, fees.burnt), 0);
  assert_conserved(&f);
  st_message_free(&m);
  st_receipt_free(&r);
  st_vm_fees_clear(&fees);
  teardown_fixture(&f);
}

static void test_base_fee(void **state) {
  (void)state;
  st_network net;
  st_err err;
  assert_int_equal(st_network_profile("devnet", &net, &err), ST_OK);
  mpz_t base, next;
  mpz_init_set_ui(base, 100000000);
  mpz_init(next);
  st_vm_next_base_fee(&net, base, net.block_gas_limit, 1, next); /* a full block: +12.5% */
  assert_int_equal(mpz_get_ui(next), 112500000);
  st_vm_next_base_fee(&net, base, 0, 1, next); /* empty: -12.5% */
  assert_int_equal(mpz_get_ui(next), 87500000);
  st_vm_next_base_fee(&net, base, net.block_gas_target * 4 / 5, 1, next); /* on target: unchanged */
  assert_int_equal(mpz_get_ui(next), 100000000);
  mpz_set_ui(base, 100000001);
  st_vm_next_base_fee(&net, base, 0, 1, next); /* a falling fee rounds down, as Lotus's big.Div */
  assert_int_equal(mpz_get_ui(next), 87500000);
  mpz_set_ui(base, 100);
  st_vm_next_base_fee(&net, base, 0, 1, next); /* never below the minimum */
  assert_int_equal(mpz_get_ui(next), 100);
  mpz_clears(base, next, NULL);
}

/* Methods for a table of one (the account kind's method 7), run through st_vm_run. */
static int64_t bad_bitfield_method(st_vm_call *c) {
  st_bitfield bf = ST_BITFIELD_INIT;
  st_err err;
  st_code code = st_bitfield_set(&bf, UINT64_MAX, &err); /* past the largest index */
  st_bitfield_free(&bf);
  return code ? st_vm_error(c, code, &err, "Test") : ST_EXIT_OK;
}

static int64_t out_of_memory_method(st_vm_call *c) {
  st_err err;
  st_err_set(&err, ST_ENOMEM, "out of memory growing a bitfield");
  return st_vm_error(c, ST_ENOMEM, &err, "Test");
}

static int64_t failed_return_method(st_vm_call *c) {
  c->ret.failed = true; /* as st_buf marks a return value it could not grow */
  return ST_EXIT_OK;
}

static st_vm_method_fn the_method;
static st_vm_method_fn lookup_one(st_actor_kind kind, uint64_t method) {
  return kind == ST_ACTOR_ACCOUNT && method == 7 ? the_method : NULL;
}

static st_code run_method(fixture *f, st_vm_method_fn fn, st_receipt *r, char why[ST_ERR_MSG_MAX], st_err *err) {
  st_message m;
  message(&m, &f->a, &f->b, st_state_get(&f->st, 100)->nonce, "0");
  m.method = 7;
  mpz_t base;
  mpz_init_set_ui(base, 100);
  st_vm vm;
  st_vm_init(&vm, &f->st, &f->net, 101, base, 10);
  the_method = fn;
  st_code code = st_vm_run(&vm, lookup_one, &m, st_message_size(&m) + 69, r, NULL, err);
  snprintf(why, ST_ERR_MSG_MAX, "%s", vm.why);
  st_vm_clear(&vm);
  mpz_clear(base);
  st_message_free(&m);
  return code;
}

static void test_method_failures(void **state) {
  (void)state;
  fixture f;
  setup_fixture(&f, 0);
  st_receipt r;
  st_receipt_init(&r);
  st_err err;
  char why[ST_ERR_MSG_MAX];
  /* a bitfield operation refused on bad input: the message fails, its fee is paid */
  assert_int_equal(run_method(&f, bad_bitfield_method, &r, why, &err), ST_OK);
  assert_int_equal(r.exit_code, ST_EXIT_ILLEGAL_STATE);
  assert_non_null(strstr(why, "Test: bitfield range"));
  assert_int_equal(st_state_get(&f.st, 100)->nonce, 1);
  assert_conserved(&f);
  /* the node ran out of memory: no receipt, the code and the error come back */
  st_receipt_free(&r);
  st_receipt_init(&r);
  assert_int_equal(run_method(&f, out_of_memory_method, &r, why, &err), ST_ENOMEM);
  tu_assert_err_contains(&err, "Test: out of memory growing a bitfield");
  assert_int_equal(r.exit_code, 0);
  assert_int_equal(r.gas_used, 0);
  /* so is a return value that could not be written */
  teardown_fixture(&f);
  setup_fixture(&f, 0);
  assert_int_equal(run_method(&f, failed_return_method, &r, why, &err), ST_ENOMEM);
  assert_int_equal(r.gas_used, 0);
  st_receipt_free(&r);
  teardown_fixture(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_transfer_and_fee),     cmocka_unit_test(test_new_account), cmocka_unit_test(test_refused),
      cmocka_unit_test(test_failed_pays_fee_only), cmocka_unit_test(test_burn_rule),   cmocka_unit_test(test_base_fee),
      cmocka_unit_test(test_method_failures)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
