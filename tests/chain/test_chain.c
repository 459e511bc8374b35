/* Tests for st_chain: genesis, building and accepting blocks, the fee landing on the block's
 * miner, refused blocks changing nothing, null rounds, two blocks forming one tipset, reopening
 * a repo (and refusing another genesis), and a producer killed with SIGKILL mid-stream leaving a
 * consistent head: every applied message findable, every nonce matching what was applied; and
 * what every read leaves in its out when it fails (st_chain.h's rule for outputs). */
#include "testutil.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chain/st_chain.h"
#include "chain/st_market.h"
#include "chain/st_vm.h"
#include "codec/st_cbor.h"
#include "crypto/st_secp.h"

typedef struct fx {
  char dir[256];
  st_genesis g;
  uint8_t sk[3][32];
  st_address addr[3]; /* t0100 sender, t0101 receiver, t0102 block producer */
  st_chain *c;
  st_mpool *pool;
  uint64_t now;
} fx;

static void setup_fx(fx *f) {
  tu_tmpdir(f->dir);
  st_genesis_init(&f->g);
  st_err err;
  assert_int_equal(st_network_profile("devnet", &f->g.network, &err), ST_OK);
  f->now = (uint64_t)time(NULL);
  f->g.timestamp = f->now - 100000; /* epochs up to 100000 have started */
  mpz_set_str(f->g.reward_pool, "1000000000000000000000", 10);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(st_secp_keygen(f->sk[i], &err), ST_OK);
    assert_int_equal(st_secp_address(f->sk[i], &f->addr[i], &err), ST_OK);
    char text[ST_ADDR_STR_MAX], spec[200];
    st_address_format(&f->addr[i], 't', text, &err);
    snprintf(spec, sizeof spec, "%s=1000", text);
    assert_int_equal(st_genesis_add_account(&f->g, spec, &err), ST_OK);
  }
  assert_int_equal(st_chain_open(f->dir, &f->g, &f->c, &err), ST_OK);
  assert_int_equal(st_mpool_new(st_chain_network(f->c), &f->pool, &err), ST_OK);
}

static void teardown_fx(fx *f) {
  st_mpool_free(f->pool);
  st_chain_close(f->c);
  st_genesis_clear(&f->g);
  tu_rmdir(f->dir);
}

static void send(fx *f, int from, int to, uint64_t nonce, const char *atto, st_cid *cid) {
  st_signed_message sm;
  st_signed_message_init(&sm);
  sm.message.from = f->addr[from];
  sm.message.to = f->addr[to];
  sm.message.nonce = nonce;
  mpz_set_str(sm.message.value, atto, 10);
  sm.message.gas_limit = 1000000;
  mpz_set_ui(sm.message.gas_fee_cap, 1000);
  mpz_set_ui(sm.message.gas_premium, 100);
  st_err err;
  assert_int_equal(st_signed_message_sign_secp(&sm, f->sk[from], &err), ST_OK);
  st_state st;
  st_state_init(&st);
  assert_int_equal(st_chain_state(f->c, NULL, &st, &err), ST_OK);
  if (st_mpool_add(f->pool, &st, &sm, cid, &err)) fail_msg("mpool: %s", err.msg);
  st_state_clear(&st);
  st_signed_message_free(&sm);
}

/* Builds a block at epoch by producer and submits it. */
static st_code mine(fx *f, int producer, int64_t epoch, st_err *err) {
  st_block_header b;
  st_block_header_init(&b);
  st_signed_message *msgs = NULL;
  size_t n = 0;
  st_code code = st_chain_build_block(f->c, f->sk[producer], epoch, f->pool, &b, &msgs, &n, err);
  if (!code) code = st_chain_submit_block(f->c, &b, msgs, n, NULL, f->now, err);
  if (!code) {
    st_state st;
    st_state_init(&st);
    if (!st_chain_state(f->c, NULL, &st, NULL)) st_mpool_prune(f->pool, &st);
    st_state_clear(&st);
  }
  for (size_t i = 0; i < n; i++) st_signed_message_free(&msgs[i]);
  free(msgs);
  st_block_header_free(&b);
  return code;
}

static void balance(fx *f, uint64_t id, mpz_t out) {
  st_state st;
  st_state_init(&st);
  st_err err;
  assert_int_equal(st_chain_state(f->c, NULL, &st, &err), ST_OK);
  mpz_set(out, st_state_get(&st, id)->balance);
  st_state_clear(&st);
}

static int64_t head_height(fx *f) {
  st_tipset ts;
  st_tipset_init(&ts);
  st_err err;
  assert_int_equal(st_chain_head(f->c, &ts, &err), ST_OK);
  int64_t h = ts.height;
  st_tipset_free(&ts);
  return h;
}

static void test_transfer_fee_to_miner(void **state) {
  (void)state;
  fx f;
  setup_fx(&f);
  st_err err;
  assert_int_equal(head_height(&f), 0);
  mpz_t a0, b0, m0, a1, b1, m1, fee;
  mpz_inits(a0, b0, m0, a1, b1, m1, fee, NULL);
  balance(&f, 100, a0);
  balance(&f, 101, b0);
  balance(&f, 102, m0);
  st_cid cid;
  send(&f, 0, 1, 0, "5000000000000000000", &cid); /* 5 FIL */
  if (mine(&f, 2, 1, &err)) fail_msg("%s", err.msg);
  assert_int_equal(head_height(&f), 1);
  assert_int_equal(st_mpool_size(f.pool), 0);
  balance(&f, 100, a1);
  balance(&f, 101, b1);
  balance(&f, 102, m1);
  /* B got 5 FIL; the miner got the whole fee; A paid both */
  mpz_sub(fee, m1, m0);
  assert_true(mpz_sgn(fee) > 0);
  mpz_sub(b1, b1, b0);
  assert_int_equal(mpz_cmp_ui(b1, 0), 1);
  char *got = mpz_get_str(NULL, 10, b1);
  assert_string_equal(got, "5000000000000000000");
  free(got);
  mpz_sub(a0, a0, a1);
  mpz_sub(a0, a0, b1);
  assert_int_equal(mpz_cmp(a0, fee), 0);
  /* the receipt is found, with the gas it used */
  st_msg_lookup l;
  assert_int_equal(st_chain_search_msg(f.c, &cid, &l, &err), ST_OK);
  assert_int_equal(l.height, 1);
  assert_int_equal(l.receipt.exit_code, 0);
  assert_true(l.receipt.gas_used > 0);
  assert_int_equal(mpz_cmp_si(fee, l.receipt.gas_used * 200), 0); /* min(FeeCap 1000, BaseFee 100 + Premium 100) */
  st_msg_lookup_free(&l);
  mpz_clears(a0, b0, m0, a1, b1, m1, fee, NULL);
  teardown_fx(&f);
}

static void test_refused_blocks(void **state) {
  (void)state;
  fx f;
  setup_fx(&f);
  st_err err;
  st_block_header b;
  st_block_header_init(&b);
  st_signed_message *msgs;
  size_t n;
  assert_int_equal(st_chain_build_block(f.c, f.sk[2], 1, f.pool, &b, &msgs, &n, &err), ST_OK);
  /* a wrong parent state root */
  st_cid good = b.parent_state_root;
  b.parent_state_root.digest[0] ^= 1;
  assert_int_equal(st_chain_submit_block(f.c, &b, msgs, n, NULL, f.now, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "block at height 1 refused: ParentStateRoot does not match");
  b.parent_state_root = good;
  /* a signature that no longer matches */
  b.fork_signaling = 7;
  assert_int_equal(st_chain_submit_block(f.c, &b, msgs, n, NULL, f.now, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "BlockSig is not the miner's signature");
  b.fork_signaling = 0;
  /* from the future */
  assert_int_equal(st_chain_submit_block(f.c, &b, msgs, n, NULL, f.g.timestamp - 10, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "from the future");
  b.timestamp++;
  assert_int_equal(st_chain_submit_block(f.c, &b, msgs, n, NULL, f.now, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "is not genesis + height x block delay");
  assert_int_equal(head_height(&f), 0);
  st_block_header_free(&b);
  free(msgs);
  /* a producer without an account */
  uint8_t stranger[32];
  assert_int_equal(st_secp_keygen(stranger, &err), ST_OK);
  st_block_header_init(&b);
  assert_int_equal(st_chain_build_block(f.c, stranger, 1, f.pool, &b, &msgs, &n, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "has no account on chain");
  st_block_header_free(&b);
  teardown_fx(&f);
}

static void test_null_rounds_and_tipsets(void **state) {
  (void)state;
  fx f;
  setup_fx(&f);
  st_err err;
  assert_int_equal(mine(&f, 2, 1, &err), ST_OK);
  assert_int_equal(mine(&f, 2, 5, &err), ST_OK); /* 2, 3, 4 are null rounds */
  st_tipset ts;
  st_tipset_init(&ts);
  assert_int_equal(st_chain_tipset_at(f.c, 3, &ts, &err), ST_OK);
  assert_int_equal(ts.height, 1);
  assert_int_equal(st_chain_tipset_at(f.c, 9, &ts, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "height 9 is above the head (5)");
  /* two producers at epoch 6 on the same parent: one tipset of two blocks */
  assert_int_equal(mine(&f, 2, 6, &err), ST_OK);
  /* a second producer saw the same parent: its block is the head block with another miner,
   * ticket and signature */
  st_block_header b;
  st_block_header_init(&b);
  st_tipset_exec ex;
  st_tipset_exec_init(&ex);
  st_tipset head;
  st_tipset_init(&head);
  assert_int_equal(st_chain_head(f.c, &head, &err), ST_OK);
  assert_int_equal(head.n, 1);
  st_buf enc = ST_BUF_INIT;
  assert_int_equal(st_block_header_encode(&head.blocks[0], &enc, &err), ST_OK);
  assert_int_equal(st_block_header_decode(enc.data, enc.len, &b, &err), ST_OK);
  st_buf_free(&enc);
  assert_int_equal(st_address_from_id(100, &b.miner, &err), ST_OK);
  b.ticket_vrf_proof.data[0] ^= 0xff;
  st_buf sb = ST_BUF_INIT;
  uint8_t sig[ST_SECP_SIG_LEN];
  assert_int_equal(st_block_header_signing_bytes(&b, &sb, &err), ST_OK);
  assert_int_equal(st_secp_sign(f.sk[0], sb.data, sb.len, sig, &err), ST_OK);
  assert_int_equal(st_signature_set(&b.block_sig, ST_SIG_SECP256K1, sig, sizeof sig, &err), ST_OK);
  st_buf_free(&sb);
  bool moved = false;
  assert_int_equal(st_chain_submit_block(f.c, &b, NULL, 0, &moved, f.now, &err), ST_OK);
  assert_true(moved);
  assert_int_equal(st_chain_head(f.c, &head, &err), ST_OK);
  assert_int_equal(head.height, 6);
  assert_int_equal(head.n, 2);
  assert_int_equal(st_chain_exec(f.c, &head.key, &ex, &err), ST_OK);
  assert_int_equal(mpz_get_ui(ex.weight), 4); /* 1 + 1 + 2 blocks */
  st_tipset_exec_free(&ex);
  st_block_header_free(&b);
  st_tipset_free(&head);
  st_tipset_free(&ts);
  teardown_fx(&f);
}

static void test_reopen(void **state) {
  (void)state;
  fx f;
  setup_fx(&f);
  st_err err;
  send(&f, 0, 1, 0, "1", NULL);
  assert_int_equal(mine(&f, 2, 1, &err), ST_OK);
  assert_int_equal(mine(&f, 2, 2, &err), ST_OK);
  st_chain_close(f.c);
  assert_int_equal(st_chain_open(f.dir, &f.g, &f.c, &err), ST_OK);
  st_mpool_free(f.pool);
  assert_int_equal(st_mpool_new(st_chain_network(f.c), &f.pool, &err), ST_OK);
  assert_int_equal(head_height(&f), 2);
  /* another genesis is refused */
  st_genesis other;
  st_genesis_init(&other);
  assert_int_equal(st_network_profile("devnet", &other.network, &err), ST_OK);
  other.timestamp = 12345;
  st_chain *c2;
  assert_int_equal(st_chain_open(f.dir, &other, &c2, &err), ST_ECONFLICT);
  tu_assert_err_contains(&err, "this repo holds a chain from another genesis");
  st_genesis_clear(&other);
  teardown_fx(&f);
}

static void test_kill9_producer(void **state) {
  (void)state;
  fx f;
  setup_fx(&f);
  st_chain_close(f.c);
  f.c = NULL;
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) { /* a producer: a message and a block per epoch, as fast as it can */
    st_err err;
    st_mpool_free(f.pool); /* the pool follows the network of the chain it serves */
    if (st_chain_open(f.dir, &f.g, &f.c, &err) || st_mpool_new(st_chain_network(f.c), &f.pool, &err)) _exit(2);
    for (int64_t e = 1;; e++) {
      st_signed_message sm;
      st_signed_message_init(&sm);
      sm.message.from = f.addr[0];
      sm.message.to = f.addr[1];
      sm.message.nonce = (uint64_t)(e - 1);
      mpz_set_ui(sm.message.value, 1);
      sm.message.gas_limit = 1000000;
      mpz_set_ui(sm.message.gas_fee_cap, 1000);
      mpz_set_ui(sm.message.gas_premium, 100);
      st_state st;
      st_state_init(&st);
      if (st_signed_message_sign_secp(&sm, f.sk[0], &err) || st_chain_state(f.c, NULL, &st, &err) ||
          st_mpool_add(f.pool, &st, &sm, NULL, &err) || mine(&f, 2, e, &err))
        _exit(3);
      st_state_clear(&st);
      st_signed_message_free(&sm);
    }
  }
  struct timespec ts = {0, 600 * 1000000L};
  nanosleep(&ts, NULL);
  kill(pid, SIGKILL);
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFSIGNALED(status));
  st_err err;
  assert_int_equal(st_chain_open(f.dir, &f.g, &f.c, &err), ST_OK);
  st_mpool_free(f.pool);
  assert_int_equal(st_mpool_new(st_chain_network(f.c), &f.pool, &err), ST_OK);
  int64_t h = head_height(&f);
  print_message("killed at head height %lld\n", (long long)h);
  assert_true(h > 0);
  /* every block on the head chain carries one message; all of them applied, nonce = h */
  st_state st;
  st_state_init(&st);
  assert_int_equal(st_chain_state(f.c, NULL, &st, &err), ST_OK);
  assert_int_equal(st_state_get(&st, 100)->nonce, (uint64_t)h);
  mpz_t expect;
  mpz_init(expect);
  mpz_add_ui(expect, f.g.accounts[1].balance, (unsigned long)h);
  assert_int_equal(mpz_cmp(st_state_get(&st, 101)->balance, expect), 0);
  for (int64_t e = 1; e <= h; e++) {
    st_tipset t;
    st_tipset_init(&t);
    assert_int_equal(st_chain_tipset_at(f.c, e, &t, &err), ST_OK);
    assert_int_equal(t.height, e);
    st_signed_message *msgs;
    st_cid *cids;
    size_t n;
    assert_int_equal(st_chain_block_messages(f.c, &t.blocks[0], &msgs, &cids, &n, &err), ST_OK);
    assert_int_equal(n, 1);
    st_msg_lookup l;
    assert_int_equal(st_chain_search_msg(f.c, &cids[0], &l, &err), ST_OK);
    assert_int_equal(l.height, e);
    assert_int_equal(l.receipt.exit_code, 0);
    st_msg_lookup_free(&l);
    st_signed_message_free(&msgs[0]);
    free(msgs);
    free(cids);
    st_tipset_free(&t);
  }
  mpz_clear(expect);
  st_state_clear(&st);
  teardown_fx(&f);
}

/* A message from `from` to `to`, signed, with the given gas limit. */
static void make_msg(fx *f, int from, int to, uint64_t nonce, int64_t gas, st_signed_message *sm) {
  st_signed_message_init(sm);
  sm->message.from = f->addr[from];
  sm->message.to = f->addr[to];
  sm->message.nonce = nonce;
  mpz_set_ui(sm->message.value, 1);
  sm->message.gas_limit = gas;
  mpz_set_ui(sm->message.gas_fee_cap, 1000);
  mpz_set_ui(sm->message.gas_premium, 100);
  st_err err;
  assert_int_equal(st_signed_message_sign_secp(sm, f->sk[from], &err), ST_OK);
}

/* Re-points a built block at these messages (the message meta: [CID of [], CID of [cids]]) and
 * signs it again as producer. */
static void set_messages(fx *f, st_block_header *b, int producer, const st_signed_message *msgs, size_t n) {
  st_err err;
  st_buf bl = ST_BUF_INIT, sl = ST_BUF_INIT, meta = ST_BUF_INIT, sb = ST_BUF_INIT;
  st_cbor_put_array(&bl, 0);
  st_cbor_put_array(&sl, n);
  for (size_t i = 0; i < n; i++) {
    st_cid c;
    assert_int_equal(st_signed_message_cid(&msgs[i], &c, &err), ST_OK);
    st_cbor_put_cid(&sl, &c);
  }
  st_cid blc, slc;
  st_cid_of_cbor(bl.data, bl.len, &blc);
  st_cid_of_cbor(sl.data, sl.len, &slc);
  st_cbor_put_array(&meta, 2);
  st_cbor_put_cid(&meta, &blc);
  st_cbor_put_cid(&meta, &slc);
  st_cid_of_cbor(meta.data, meta.len, &b->messages);
  uint8_t sig[ST_SECP_SIG_LEN];
  assert_int_equal(st_block_header_signing_bytes(b, &sb, &err), ST_OK);
  assert_int_equal(st_secp_sign(f->sk[producer], sb.data, sb.len, sig, &err), ST_OK);
  assert_int_equal(st_signature_set(&b->block_sig, ST_SIG_SECP256K1, sig, sizeof sig, &err), ST_OK);
  st_buf_free(&bl);
  st_buf_free(&sl);
  st_buf_free(&meta);
  st_buf_free(&sb);
}

/* The review's cases: far-future heights, equivocation, the block gas limit, sibling blocks that
 * carry the same message, an unpayable pool message, other network parameters. */
static void test_hostile_blocks(void **state) {
  (void)state;
  fx f;
  setup_fx(&f);
  st_err err;
  st_block_header b;
  st_block_header_init(&b);
  st_signed_message *none;
  size_t n0;
  assert_int_equal(st_chain_build_block(f.c, f.sk[2], 1, f.pool, &b, &none, &n0, &err), ST_OK);
  /* a height far past the current epoch (its timestamp arithmetic would overflow) */
  b.height = 2213609288845146194LL;
  set_messages(&f, &b, 2, NULL, 0);
  assert_int_equal(st_chain_submit_block(f.c, &b, NULL, 0, NULL, f.now, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "is beyond the current epoch");
  b.height = 1;
  /* two messages asking 6e9 gas each: more than the block's 1e10 together */
  st_signed_message big[2];
  make_msg(&f, 0, 1, 0, 6000000000LL, &big[0]);
  make_msg(&f, 0, 1, 1, 6000000000LL, &big[1]);
  set_messages(&f, &b, 2, big, 2);
  assert_int_equal(st_chain_submit_block(f.c, &b, big, 2, NULL, f.now, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "more than the block gas limit");
  /* a block with one valid message, and a sibling from another producer with the same message:
   * both join the tipset, the message applies once */
  st_signed_message one;
  make_msg(&f, 0, 1, 0, 1000000, &one);
  set_messages(&f, &b, 2, &one, 1);
  assert_int_equal(st_chain_submit_block(f.c, &b, &one, 1, NULL, f.now, &err), ST_OK);
  st_block_header sib;
  st_block_header_init(&sib);
  st_buf enc = ST_BUF_INIT;
  assert_int_equal(st_block_header_encode(&b, &enc, &err), ST_OK);
  assert_int_equal(st_block_header_decode(enc.data, enc.len, &sib, &err), ST_OK);
  assert_int_equal(st_address_from_id(100, &sib.miner, &err), ST_OK);
  sib.ticket_vrf_proof.data[0] ^= 0xff;
  set_messages(&f, &sib, 0, &one, 1);
  bool moved = false;
  assert_int_equal(st_chain_submit_block(f.c, &sib, &one, 1, &moved, f.now, &err), ST_OK);
  assert_true(moved);
  st_tipset head;
  st_tipset_init(&head);
  assert_int_equal(st_chain_head(f.c, &head, &err), ST_OK);
  assert_int_equal(head.n, 2);
  st_state st;
  st_state_init(&st);
  assert_int_equal(st_chain_state(f.c, NULL, &st, &err), ST_OK);
  assert_int_equal(st_state_get(&st, 100)->nonce, 1);
  /* the same producer again at the same height: equivocation, refused */
  sib.fork_signaling = 1;
  set_messages(&f, &sib, 0, NULL, 0);
  assert_int_equal(st_chain_submit_block(f.c, &sib, NULL, 0, NULL, f.now, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "the miner has a block at this height already");
  /* a pool message its sender can no longer pay for does not stop the producer: t0101 has X0
   * and X1 waiting; a block from elsewhere carries its own nonce 0 (Y0), which leaves t0101 too
   * little to put up X1's gas deposit, and X1 is next in line */
  st_signed_message x0, x1, y0;
  make_msg(&f, 1, 0, 0, 1000000, &x0);
  make_msg(&f, 1, 0, 1, 10000000, &x1);
  make_msg(&f, 1, 0, 0, 1000000, &y0);
  mpz_set_str(y0.message.value, "999999999998000000000", 10); /* all but 2e9 attoFIL of its 1000 FIL */
  assert_int_equal(st_signed_message_sign_secp(&y0, f.sk[1], &err), ST_OK);
  assert_int_equal(st_mpool_add(f.pool, &st, &x0, NULL, &err), ST_OK);
  assert_int_equal(st_mpool_add(f.pool, &st, &x1, NULL, &err), ST_OK);
  st_block_header b2;
  st_block_header_init(&b2);
  st_signed_message *msgs;
  size_t n;
  assert_int_equal(st_chain_build_block(f.c, f.sk[2], 2, f.pool, &b2, &msgs, &n, &err), ST_OK);
  set_messages(&f, &b2, 2, &y0, 1);
  assert_int_equal(st_chain_submit_block(f.c, &b2, &y0, 1, NULL, f.now, &err), ST_OK);
  for (size_t i = 0; i < n; i++) st_signed_message_free(&msgs[i]);
  free(msgs);
  if (mine(&f, 2, 3, &err)) fail_msg("the producer is stuck: %s", err.msg);
  assert_int_equal(head_height(&f), 3);
  /* other network parameters on the same repo: refused */
  st_chain_close(f.c);
  f.g.network.block_delay = 7;
  st_chain *c2 = NULL;
  assert_int_equal(st_chain_open(f.dir, &f.g, &c2, &err), ST_ECONFLICT);
  tu_assert_err_contains(&err, "other network parameters");
  f.g.network.block_delay = 1;
  assert_int_equal(st_chain_open(f.dir, &f.g, &f.c, &err), ST_OK);
  st_mpool_free(f.pool);
  assert_int_equal(st_mpool_new(st_chain_network(f.c), &f.pool, &err), ST_OK);
  st_signed_message_free(&big[0]);
  st_signed_message_free(&big[1]);
  st_signed_message_free(&one);
  st_signed_message_free(&x0);
  st_signed_message_free(&x1);
  st_signed_message_free(&y0);
  st_state_clear(&st);
  st_tipset_free(&head);
  st_buf_free(&enc);
  st_block_header_free(&sib);
  st_block_header_free(&b2);
  st_block_header_free(&b);
  free(none);
  teardown_fx(&f);
}

typedef struct reorg_seen {
  size_t calls, reverted;
  st_cid first;
} reorg_seen;

static void count_reverted(void *ctx, const st_tipset *head, const st_signed_message *reverted, size_t n) {
  reorg_seen *r = ctx;
  (void)head;
  r->calls++;
  if (n && !r->reverted) st_signed_message_cid(&reverted[0], &r->first, NULL);
  r->reverted += n;
}

/* A heavier fork reverts a tipset: its message leaves the indexes and is handed back. */
static void test_reorg(void **state) {
  (void)state;
  fx f;
  setup_fx(&f);
  st_err err;
  reorg_seen seen = {0};
  st_chain_on_head(f.c, count_reverted, &seen);
  assert_int_equal(mine(&f, 2, 1, &err), ST_OK);
  st_cid m0;
  send(&f, 0, 1, 0, "7", &m0);
  assert_int_equal(mine(&f, 2, 2, &err), ST_OK); /* T2 carries m0 */
  st_msg_lookup l;
  assert_int_equal(st_chain_search_msg(f.c, &m0, &l, &err), ST_OK);
  st_msg_lookup_free(&l);
  /* two blocks at height 3 on T1 (skipping T2): weight 1 + 2 = 3 beats T2's 2 */
  st_tipset head;
  st_tipset_init(&head);
  assert_int_equal(st_chain_head(f.c, &head, &err), ST_OK);
  assert_int_equal(head.height, 2);
  for (int who = 0; who < 2; who++) {
    st_block_header b;
    st_block_header_init(&b);
    st_buf enc = ST_BUF_INIT;
    assert_int_equal(st_block_header_encode(&head.blocks[0], &enc, &err), ST_OK);
    assert_int_equal(st_block_header_decode(enc.data, enc.len, &b, &err), ST_OK);
    st_buf_free(&enc);
    b.height = 3;
    b.timestamp = f.g.timestamp + 3;
    assert_int_equal(st_address_from_id(100 + (uint64_t)who, &b.miner, &err), ST_OK);
    b.ticket_vrf_proof.data[1] ^= (uint8_t)(who + 1);
    set_messages(&f, &b, who, NULL, 0);
    assert_int_equal(st_chain_submit_block(f.c, &b, NULL, 0, NULL, f.now, &err), ST_OK);
    st_block_header_free(&b);
  }
  assert_int_equal(st_chain_head(f.c, &head, &err), ST_OK);
  assert_int_equal(head.height, 3);
  assert_int_equal(head.n, 2);
  /* m0 was reverted: not found on the head chain, its sender's nonce back at 0, handed back */
  assert_int_equal(st_chain_search_msg(f.c, &m0, &l, &err), ST_ENOENT);
  st_msg_lookup_free(&l);
  st_state st;
  st_state_init(&st);
  assert_int_equal(st_chain_state(f.c, NULL, &st, &err), ST_OK);
  assert_int_equal(st_state_get(&st, 100)->nonce, 0);
  assert_int_equal(seen.reverted, 1);
  assert_true(st_cid_equal(&seen.first, &m0));
  st_state_clear(&st);
  st_tipset_free(&head);
  teardown_fx(&f);
}

/* Each read that fails leaves its out as st_chain.h says: a replaced out empty, an out the
 * function initialises freeable and empty (passed in uninitialised here), lists NULL and 0. */
static void test_failed_reads_leave_outputs_empty(void **state) {
  (void)state;
  fx f;
  setup_fx(&f);
  st_err err;
  assert_int_equal(mine(&f, 2, 1, &err), ST_OK);
  st_cid unknown;
  st_cid_of_cbor((const uint8_t *)"\x19\x04\xd2", 3, &unknown); /* 1234: stored nowhere */
  st_tipset_key nokey = {&unknown, 1};
  /* replaced outs: filled first, then a failed read empties them */
  st_tipset ts;
  st_tipset_init(&ts);
  assert_int_equal(st_chain_tipset_at(f.c, 1, &ts, &err), ST_OK);
  assert_int_equal(st_chain_tipset_at(f.c, 9, &ts, &err), ST_EINVAL);
  assert_int_equal(ts.n, 0);
  assert_null(ts.blocks);
  assert_int_equal(ts.key.n, 0);
  assert_int_equal(st_chain_head(f.c, &ts, &err), ST_OK);
  assert_int_equal(st_chain_tipset(f.c, &nokey, &ts, &err), ST_ENOENT);
  assert_int_equal(ts.n, 0);
  st_tipset_exec ex;
  st_tipset_exec_init(&ex);
  st_tipset_key genesis = {NULL, 0};
  assert_int_equal(st_chain_head(f.c, &ts, &err), ST_OK);
  assert_int_equal(st_chain_exec(f.c, &ts.key, &ex, &err), ST_OK);
  assert_true(mpz_sgn(ex.weight) > 0);
  assert_int_equal(st_chain_exec(f.c, &nokey, &ex, &err), ST_ENOENT);
  assert_int_equal(mpz_sgn(ex.weight), 0);
  assert_int_equal(ex.state_root.digest_len, 0);
  st_block_header b;
  st_block_header_init(&b);
  assert_int_equal(st_chain_block(f.c, &ts.key.cids[0], &b, &err), ST_OK);
  assert_int_equal(st_chain_block(f.c, &unknown, &b, &err), ST_ENOENT);
  assert_int_equal(b.miner.len, 0);
  assert_int_equal(b.height, 0);
  st_signed_message sm;
  st_signed_message_init(&sm);
  assert_int_equal(st_chain_message(f.c, &unknown, &sm, &err), ST_ENOENT);
  assert_int_equal(sm.message.from.len, 0);
  st_state st;
  st_state_init(&st);
  assert_int_equal(st_chain_state(f.c, NULL, &st, &err), ST_OK);
  assert_int_equal(st_chain_state(f.c, &nokey, &st, &err), ST_ENOENT);
  assert_int_equal(st.n, 0);
  /* outs the function initialises: passed in uninitialised */
  st_msg_lookup l;
  tu_poison(&l, sizeof l);
  assert_int_equal(st_chain_search_msg(f.c, &unknown, &l, &err), ST_ENOENT);
  assert_int_equal(l.tipset.n, 0);
  assert_null(l.receipt.ret.data);
  st_msg_lookup_free(&l);
  st_miner_state m;
  tu_poison(&m, sizeof m);
  assert_int_equal(st_chain_miner_state(f.c, NULL, 100, &m, &err), ST_ENOENT); /* an account */
  assert_int_equal(m.nsectors, 0);
  st_miner_state_free(&m);
  st_power_state p;
  tu_poison(&p, sizeof p);
  assert_int_equal(st_chain_power_state(f.c, &nokey, &p, &err), ST_ENOENT);
  assert_int_equal(p.nclaims, 0);
  st_power_state_free(&p);
  st_market_state mk;
  tu_poison(&mk, sizeof mk);
  assert_int_equal(st_chain_market_state(f.c, &nokey, &mk, &err), ST_ENOENT);
  assert_int_equal(mk.ndeals, 0);
  st_market_state_free(&mk);
  /* lists */
  st_signed_message *msgs = (st_signed_message *)&f;
  st_cid *cids = &unknown;
  size_t n = 7;
  st_block_header nomsgs;
  st_block_header_init(&nomsgs);
  nomsgs.messages = unknown;
  assert_int_equal(st_chain_block_messages(f.c, &nomsgs, &msgs, &cids, &n, &err), ST_ENOENT);
  assert_null(msgs);
  assert_null(cids);
  assert_int_equal(n, 0);
  st_receipt *rc = (st_receipt *)&f;
  n = 7;
  assert_int_equal(st_chain_receipts(f.c, &unknown, &rc, &n, &err), ST_ENOENT);
  assert_null(rc);
  assert_int_equal(n, 0);
  cids = &unknown;
  n = 7;
  assert_int_equal(st_chain_applied(f.c, &genesis, &cids, &n, &err), ST_ENOENT);
  assert_null(cids);
  assert_int_equal(n, 0);
  /* randomness the chain has not reached: zeroed */
  uint8_t r[32];
  tu_poison(r, sizeof r);
  assert_int_equal(st_chain_randomness(f.c, NULL, false, 1, 50, NULL, 0, r, &err), ST_EINVAL);
  tu_assert_zeroed(r, sizeof r);
  /* a base for a round the head has passed: refused before anything is loaded (ASan: nothing
   * leaks on that early return), and the base info is empty */
  st_base_info bi;
  tu_poison(&bi, sizeof bi);
  assert_int_equal(st_chain_base_info(f.c, NULL, 1000, 1, &bi, &err), ST_EINVAL);
  tu_assert_err_contains(&err, "round 1 is not above the base tipset's height 1");
  assert_null(bi.sectors);
  assert_int_equal(bi.nsectors, 0);
  assert_int_equal(bi.parent.n, 0);
  assert_int_equal(mpz_sgn(bi.network_power), 0);
  st_base_info_free(&bi);
  st_block_header_free(&nomsgs);
  st_state_clear(&st);
  st_signed_message_free(&sm);
  st_block_header_free(&b);
  st_tipset_exec_free(&ex);
  st_tipset_free(&ts);
  teardown_fx(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_transfer_fee_to_miner),
                                     cmocka_unit_test(test_refused_blocks),
                                     cmocka_unit_test(test_null_rounds_and_tipsets),
                                     cmocka_unit_test(test_reopen),
                                     cmocka_unit_test(test_kill9_producer),
                                     cmocka_unit_test(test_hostile_blocks),
                                     cmocka_unit_test(test_reorg),
                                     cmocka_unit_test(test_failed_reads_leave_outputs_empty)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
