/* st_mpool: waiting messages in one array of pointers ordered by (sender, nonce). A sender's
 * messages are found by binary search, and an insertion moves pointers, not entries
 * (bench/RESULTS.md has the figures before and after). */
#include "chain/st_mpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "chain/st_vm.h"

typedef struct entry {
  st_signed_message sm;
  st_cid cid;
  uint64_t sender; /* actor ID */
  size_t size;
} entry;

struct st_mpool {
  const st_network *net;
  st_mpool_journal journal; /* keep NULL: none */
  entry **e;
  size_t n, cap;
  const st_signed_message **view; /* for st_mpool_pending */
};

st_code st_mpool_new(const st_network *net, st_mpool **out, st_err *err) {
  *out = calloc(1, sizeof **out);
  if (!*out) return st_err_set(err, ST_ENOMEM, "out of memory creating the message pool");
  (*out)->net = net;
  return ST_OK;
}

void st_mpool_free(st_mpool *p) {
  if (!p) return;
  for (size_t i = 0; i < p->n; i++) {
    st_signed_message_free(&p->e[i]->sm);
    free(p->e[i]);
  }
  free(p->e);
  free(p->view);
  free(p);
}

size_t st_mpool_size(const st_mpool *p) { return p->n; }

void st_mpool_set_journal(st_mpool *p, const st_mpool_journal *j) {
  if (j) p->journal = *j;
  else memset(&p->journal, 0, sizeof p->journal);
}

static void remove_at(st_mpool *p, size_t i) {
  st_signed_message_free(&p->e[i]->sm);
  free(p->e[i]);
  memmove(&p->e[i], &p->e[i + 1], (p->n - i - 1) * sizeof p->e[0]);
  p->n--;
}

static bool before(const entry *a, uint64_t sender, uint64_t nonce) {
  return a->sender < sender || (a->sender == sender && a->sm.message.nonce < nonce);
}

/* The index of the first entry not before (sender, nonce). */
static size_t lower_bound(const st_mpool *p, uint64_t sender, uint64_t nonce) {
  size_t lo = 0, hi = p->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (before(p->e[mid], sender, nonce)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static st_code copy_signed(st_signed_message *dst, const st_signed_message *src, st_err *err) {
  st_signed_message_init(dst);
  st_code code = st_message_copy(&dst->message, &src->message, err);
  if (!code) dst->signature = src->signature;
  return code;
}

/* 1.25x the old premium, plus one attoFIL (Lotus's ComputeMinRBF). */
static void min_replacement(const mpz_t old, mpz_t out) {
  mpz_mul_ui(out, old, 25);
  mpz_tdiv_q_ui(out, out, 100);
  mpz_add(out, out, old);
  mpz_add_ui(out, out, 1);
}

static char *amount_text(const mpz_t v) { return mpz_get_str(NULL, 10, v); }

/* The checks of the message alone: its encoded size (into *size), the VM's checks, the signature. */
static st_code check_alone(const st_mpool *p, const st_signed_message *sm, size_t *size, st_err *err) {
  st_buf enc = ST_BUF_INIT;
  st_code code = st_signed_message_encode(sm, &enc, err);
  *size = enc.len;
  st_buf_free(&enc);
  if (code) return code;
  if (*size > ST_MPOOL_MAX_MESSAGE_SIZE)
    return st_err_set(err, ST_EINVAL, "message is %zu bytes, above the limit of %d", *size, ST_MPOOL_MAX_MESSAGE_SIZE);
  if ((code = st_vm_check_message(p->net, &sm->message, *size, err))) return code;
  if ((code = st_signed_message_verify(sm, err))) return st_err_wrap(err, ST_EINVAL, "signature");
  return ST_OK;
}

/* A replacement's premium must be at least min_replacement of the waiting one's. */
static st_code check_replacement(const st_message *m, const st_message *old, st_err *err) {
  mpz_t t;
  mpz_init(t);
  min_replacement(old->gas_premium, t);
  st_code code = ST_OK;
  if (mpz_cmp(m->gas_premium, t) < 0) {
    char *have = amount_text(m->gas_premium), *want = amount_text(t), *was = amount_text(old->gas_premium);
    code = st_err_set(err, ST_EINVAL, "replace-by-fee: GasPremium %s is below %s, 1.25x the waiting message's %s", have,
                      want, was);
    free(have);
    free(want);
    free(was);
  }
  mpz_clear(t);
  return code;
}

/* The sender's balance must cover m's gas and value with what its other waiting messages
 * commit (committed). */
static st_code check_funds(const st_state_actor *sender, const st_message *m, const mpz_t committed, st_err *err) {
  mpz_t need;
  mpz_init(need);
  mpz_mul_si(need, m->gas_fee_cap, m->gas_limit);
  mpz_add(need, need, m->value);
  mpz_add(need, need, committed);
  st_code code = ST_OK;
  if (mpz_cmp(sender->balance, need) < 0) {
    char *have = amount_text(sender->balance), *want = amount_text(need);
    code = st_err_set(err, ST_ERANGE,
                      "insufficient funds: the sender has %s attoFIL, and its waiting messages with this one need %s",
                      have, want);
    free(have);
    free(want);
  }
  mpz_clear(need);
  return code;
}

/* The checks against the sender's state and its waiting messages: the nonce is the next one (or
 * replaces a waiting one, at the replace-by-fee premium: *replace is its index, else -1), the
 * sender waits with fewer than ST_MPOOL_MAX_PER_SENDER, and its balance covers them all. */
static st_code check_sender(const st_mpool *p, const st_state_actor *sender, const st_message *m, ssize_t *replace,
                            st_err *err) {
  uint64_t next = sender->nonce;
  *replace = -1;
  if (m->nonce < next)
    return st_err_set(err, ST_EINVAL, "nonce %llu was already used: the sender's next nonce is %llu",
                      (unsigned long long)m->nonce, (unsigned long long)next);
  size_t count = 0;
  mpz_t committed, t;
  mpz_inits(committed, t, NULL);
  for (size_t i = lower_bound(p, sender->id, 0); i < p->n && p->e[i]->sender == sender->id; i++, count++) {
    const st_message *w = &p->e[i]->sm.message;
    if (w->nonce == next) next++;
    if (w->nonce == m->nonce) {
      *replace = (ssize_t)i;
      continue;
    }
    mpz_mul_si(t, w->gas_fee_cap, w->gas_limit);
    mpz_add(committed, committed, t);
    mpz_add(committed, committed, w->value);
  }
  st_code code = ST_OK;
  if (*replace < 0 && m->nonce != next)
    code = st_err_set(err, ST_EINVAL, "nonce %llu leaves a gap: the sender's next nonce is %llu",
                      (unsigned long long)m->nonce, (unsigned long long)next);
  if (!code && *replace < 0 && count >= ST_MPOOL_MAX_PER_SENDER)
    code = st_err_set(err, ST_ERANGE, "the sender has %zu messages waiting already (at most %d)", count,
                      ST_MPOOL_MAX_PER_SENDER);
  if (!code && *replace >= 0) code = check_replacement(m, &p->e[*replace]->sm.message, err);
  if (!code) code = check_funds(sender, m, committed, err);
  mpz_clears(committed, t, NULL);
  return code;
}

/* Room for one more entry, so that insert cannot fail once the journal has kept it. */
static st_code reserve(st_mpool *p, st_err *err) {
  if (p->n < p->cap) return ST_OK;
  size_t cap = p->cap ? p->cap * 2 : 64;
  entry **ne = realloc(p->e, cap * sizeof *ne);
  if (!ne) return st_err_set(err, ST_ENOMEM, "out of memory in the message pool");
  p->e = ne;
  p->cap = cap;
  return ST_OK;
}

/* Puts e in the pool (room reserved): in the place of the replaced entry, or in (sender, nonce)
 * order. */
static void insert(st_mpool *p, entry *e, ssize_t replace) {
  if (replace >= 0) {
    st_signed_message_free(&p->e[replace]->sm);
    free(p->e[replace]);
    p->e[replace] = e;
    return;
  }
  size_t at = lower_bound(p, e->sender, e->sm.message.nonce);
  memmove(&p->e[at + 1], &p->e[at], (p->n - at) * sizeof p->e[0]);
  p->e[at] = e;
  p->n++;
}

st_code st_mpool_add(st_mpool *p, st_state *state, const st_signed_message *sm, st_cid *cid, st_err *err) {
  size_t size;
  st_state_actor *sender;
  ssize_t replace;
  if (cid) memset(cid, 0, sizeof *cid);
  st_code code = check_alone(p, sm, &size, err);
  if (code) return code;
  if ((code = st_state_lookup(state, &sm->message.from, &sender, err))) return st_err_wrap(err, ST_EINVAL, "sender");
  if ((code = check_sender(p, sender, &sm->message, &replace, err))) return code;
  entry *e = calloc(1, sizeof *e);
  if (!e) return st_err_set(err, ST_ENOMEM, "out of memory in the message pool");
  e->sender = sender->id;
  e->size = size;
  code = copy_signed(&e->sm, sm, err);
  if (!code) code = st_signed_message_cid(sm, &e->cid, err);
  if (!code) code = reserve(p, err);
  if (!code && p->journal.keep)
    code = p->journal.keep(p->journal.ctx, &e->sm, &e->cid, replace >= 0 ? &p->e[replace]->cid : NULL, err);
  if (!code) insert(p, e, replace);
  if (code) {
    st_signed_message_free(&e->sm);
    free(e);
    return code;
  }
  if (cid) *cid = e->cid;
  return ST_OK;
}

st_code st_mpool_nonce(st_mpool *p, st_state *state, const st_address *addr, uint64_t *nonce, st_err *err) {
  st_state_actor *a;
  st_code code = st_state_lookup(state, addr, &a, err);
  if (code) return code;
  uint64_t next = a->nonce;
  for (size_t i = lower_bound(p, a->id, next);
       i < p->n && p->e[i]->sender == a->id && p->e[i]->sm.message.nonce == next; i++)
    next++;
  *nonce = next;
  return ST_OK;
}

size_t st_mpool_pending(st_mpool *p, const st_signed_message ***out) {
  free(p->view);
  p->view = p->n ? malloc(p->n * sizeof *p->view) : NULL;
  if (!p->view) {
    *out = NULL;
    return 0;
  }
  for (size_t i = 0; i < p->n; i++) p->view[i] = &p->e[i]->sm;
  *out = p->view;
  return p->n;
}

size_t st_mpool_select(st_mpool *p, st_state *state, int64_t gas_limit, const st_signed_message **out, size_t max) {
  /* a cursor per sender: the index of its next message to consider, or SIZE_MAX when done */
  size_t nsenders = 0;
  size_t *cursor = malloc((p->n ? p->n : 1) * sizeof *cursor);
  if (!cursor) return 0;
  for (size_t i = 0; i < p->n; i++) {
    if (i && p->e[i]->sender == p->e[i - 1]->sender) continue;
    st_state_actor *a = st_state_get(state, p->e[i]->sender);
    size_t j = i;
    while (j < p->n && p->e[j]->sender == p->e[i]->sender && a && p->e[j]->sm.message.nonce < a->nonce) j++;
    bool ready = a && j < p->n && p->e[j]->sender == p->e[i]->sender && p->e[j]->sm.message.nonce == a->nonce;
    cursor[nsenders++] = ready ? j : SIZE_MAX;
  }
  size_t taken = 0;
  int64_t used = 0;
  while (taken < max) {
    ssize_t best = -1;
    for (size_t s = 0; s < nsenders; s++) {
      if (cursor[s] == SIZE_MAX) continue;
      const st_message *m = &p->e[cursor[s]]->sm.message;
      if (m->gas_limit > gas_limit - used) {
        cursor[s] = SIZE_MAX; /* its next message does not fit, so neither do the ones after it */
        continue;
      }
      if (best < 0 || mpz_cmp(m->gas_premium, p->e[cursor[best]]->sm.message.gas_premium) > 0) best = (ssize_t)s;
    }
    if (best < 0) break;
    size_t i = cursor[best];
    out[taken++] = &p->e[i]->sm;
    used += p->e[i]->sm.message.gas_limit;
    bool more = i + 1 < p->n && p->e[i + 1]->sender == p->e[i]->sender &&
                p->e[i + 1]->sm.message.nonce == p->e[i]->sm.message.nonce + 1;
    cursor[best] = more ? i + 1 : SIZE_MAX;
  }
  free(cursor);
  return taken;
}

void st_mpool_prune(st_mpool *p, st_state *state) {
  st_cid *gone = NULL;
  size_t ngone = 0;
  for (size_t i = p->n; i-- > 0;) {
    st_state_actor *a = st_state_get(state, p->e[i]->sender);
    if (a && p->e[i]->sm.message.nonce >= a->nonce) continue;
    if (p->journal.forget && !gone) gone = malloc(p->n * sizeof *gone); /* without it, the next start forgets them */
    if (gone) gone[ngone++] = p->e[i]->cid;
    remove_at(p, i);
  }
  if (ngone) p->journal.forget(p->journal.ctx, gone, ngone);
  free(gone);
}

const st_signed_message *st_mpool_find(const st_mpool *p, const st_cid *cid) {
  for (size_t i = 0; i < p->n; i++)
    if (st_cid_equal(&p->e[i]->cid, cid)) return &p->e[i]->sm;
  return NULL;
}
