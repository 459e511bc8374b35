/* st_state: a sorted actor array, its canonical encoding, and a per-message journal. */
#include "chain/st_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/st_cbor.h"
#include "codec/st_token.h"

struct st_journal_entry {
  uint64_t id;
  bool created; /* created since the mark: revert removes it */
  st_address robust;
  st_actor_kind kind;
  st_cid head;
  uint64_t nonce;
  mpz_t balance;
};

static const char *const KIND_NAMES[ST_ACTOR_KIND_COUNT] = {
    "system",           "init",       "reward",  "cron",        "storagepower", "storagemarket",
    "verifiedregistry", "burntfunds", "account", "storageminer"};

const char *st_actor_kind_name(st_actor_kind k) { return k < ST_ACTOR_KIND_COUNT ? KIND_NAMES[k] : "unknown"; }

void st_actor_code(st_actor_kind k, st_cid *out) {
  char name[48];
  int n = snprintf(name, sizeof name, "fil/1/%s", st_actor_kind_name(k));
  *out = (st_cid){.codec = 0x55, .mh_code = 0x00, .digest_len = (size_t)n};
  memcpy(out->digest, name, (size_t)n);
}

st_code st_actor_kind_of_code(const st_cid *code, st_actor_kind *out, st_err *err) {
  for (int k = 0; k < ST_ACTOR_KIND_COUNT; k++) {
    st_cid c;
    st_actor_code((st_actor_kind)k, &c);
    if (st_cid_equal(&c, code)) {
      *out = (st_actor_kind)k;
      return ST_OK;
    }
  }
  char s[ST_CID_STR_MAX];
  st_cid_to_string(code, s);
  return st_err_set(err, ST_EINVAL, "actor code %s is not a known actor", s);
}

void st_state_init(st_state *s) {
  *s = (st_state){0};
  s->next_id = ST_ID_FIRST_NEW;
}

static void journal_clear(st_state *s) {
  for (size_t i = 0; i < s->njournal; i++) mpz_clear(s->journal[i].balance);
  s->njournal = 0;
}

void st_state_clear(st_state *s) {
  for (size_t i = 0; i < s->n; i++) mpz_clear(s->actors[i].balance);
  free(s->actors);
  journal_clear(s);
  free(s->journal);
  st_state_init(s);
}

static st_code reserve(st_state *s, size_t n, st_err *err) {
  if (n <= s->cap) return ST_OK;
  size_t cap = s->cap ? s->cap * 2 : 64;
  while (cap < n) cap *= 2;
  st_state_actor *a = realloc(s->actors, cap * sizeof *a);
  if (!a) return st_err_set(err, ST_ENOMEM, "out of memory growing the state");
  s->actors = a;
  s->cap = cap;
  return ST_OK;
}

st_code st_state_copy(st_state *dst, const st_state *src, st_err *err) {
  st_state_clear(dst);
  st_code code = reserve(dst, src->n, err);
  if (code) return code;
  for (size_t i = 0; i < src->n; i++) {
    dst->actors[i] = src->actors[i];
    mpz_init_set(dst->actors[i].balance, src->actors[i].balance);
  }
  dst->n = src->n;
  dst->next_id = src->next_id;
  return ST_OK;
}

/* Index of the first actor with id >= the given one. */
static size_t lower_bound(const st_state *s, uint64_t id) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->actors[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

st_state_actor *st_state_get(st_state *s, uint64_t id) {
  size_t i = lower_bound(s, id);
  return i < s->n && s->actors[i].id == id ? &s->actors[i] : NULL;
}

st_code st_state_lookup(st_state *s, const st_address *addr, st_state_actor **out, st_err *err) {
  *out = NULL;
  char text[ST_ADDR_STR_MAX];
  if (st_address_protocol(addr) == ST_ADDR_ID) {
    uint64_t id;
    st_code code = st_address_id(addr, &id, err);
    if (code) return code;
    if ((*out = st_state_get(s, id))) return ST_OK;
  } else {
    for (size_t i = 0; i < s->n; i++)
      if (s->actors[i].robust.len && st_address_equal(&s->actors[i].robust, addr)) {
        *out = &s->actors[i];
        return ST_OK;
      }
  }
  st_address_text(addr, text);
  return st_err_set(err, ST_ENOENT, "actor %s not found", text);
}

static void head_of(st_actor_kind kind, const st_address *robust, st_cid *out) {
  st_buf b = ST_BUF_INIT;
  if (kind == ST_ACTOR_ACCOUNT) {
    st_cbor_put_array(&b, 1);
    st_cbor_put_bytes(&b, robust->bytes, robust->len);
  } else {
    st_cbor_put_array(&b, 0);
  }
  st_cid_of_cbor(b.data, b.len, out);
  st_buf_free(&b);
}

static st_code journal_push(st_state *s, const st_state_actor *a, bool created, st_err *err) {
  if (s->njournal == s->capjournal) {
    size_t cap = s->capjournal ? s->capjournal * 2 : 16;
    st_journal_entry *j = realloc(s->journal, cap * sizeof *j);
    if (!j) return st_err_set(err, ST_ENOMEM, "out of memory in the state journal");
    s->journal = j;
    s->capjournal = cap;
  }
  st_journal_entry *e = &s->journal[s->njournal++];
  e->id = a->id;
  e->created = created;
  e->robust = a->robust;
  e->kind = a->kind;
  e->head = a->head;
  e->nonce = a->nonce;
  mpz_init_set(e->balance, a->balance);
  return ST_OK;
}

st_code st_state_create(st_state *s, uint64_t id, st_actor_kind kind, const st_address *robust, st_state_actor **out,
                        st_err *err) {
  if (out) *out = NULL;
  if (id == ST_STATE_NEW_ID) id = s->next_id;
  if (st_state_get(s, id)) return st_err_set(err, ST_EEXIST, "actor t0%llu exists already", (unsigned long long)id);
  st_state_actor *found;
  if (robust && robust->len && !st_state_lookup(s, robust, &found, NULL))
    return st_err_set(err, ST_EEXIST, "address is already actor t0%llu", (unsigned long long)found->id);
  st_code code = reserve(s, s->n + 1, err);
  if (code) return code;
  size_t i = lower_bound(s, id);
  memmove(&s->actors[i + 1], &s->actors[i], (s->n - i) * sizeof s->actors[0]);
  s->n++;
  st_state_actor *a = &s->actors[i];
  *a = (st_state_actor){.id = id, .kind = kind};
  if (robust) a->robust = *robust;
  mpz_init(a->balance);
  head_of(kind, &a->robust, &a->head);
  if (id >= s->next_id) s->next_id = id + 1;
  if (s->marking && (code = journal_push(s, a, true, err))) return code;
  if (out) *out = a;
  return ST_OK;
}

void st_state_mark(st_state *s) {
  journal_clear(s);
  s->marking = true;
  s->mark_next_id = s->next_id;
}

st_code st_state_touch(st_state *s, st_state_actor *a, st_err *err) {
  if (!s->marking) return ST_OK;
  for (size_t i = 0; i < s->njournal; i++)
    if (s->journal[i].id == a->id) return ST_OK; /* saved already, in its state at the mark */
  return journal_push(s, a, false, err);
}

void st_state_revert(st_state *s) {
  /* newest first, so an actor created and then touched is removed, not restored */
  for (size_t k = s->njournal; k-- > 0;) {
    st_journal_entry *e = &s->journal[k];
    size_t i = lower_bound(s, e->id);
    if (i >= s->n || s->actors[i].id != e->id) continue;
    st_state_actor *a = &s->actors[i];
    if (e->created) {
      mpz_clear(a->balance);
      memmove(&s->actors[i], &s->actors[i + 1], (s->n - i - 1) * sizeof s->actors[0]);
      s->n--;
      continue;
    }
    a->robust = e->robust;
    a->kind = e->kind;
    a->head = e->head;
    a->nonce = e->nonce;
    mpz_set(a->balance, e->balance);
  }
  s->next_id = s->mark_next_id;
  journal_clear(s);
  s->marking = false;
}

void st_state_commit(st_state *s) {
  journal_clear(s);
  s->marking = false;
}

st_code st_state_transfer(st_state *s, uint64_t from, uint64_t to, const mpz_t amount, st_err *err) {
  if (mpz_sgn(amount) < 0) return st_err_set(err, ST_EINVAL, "negative transfer");
  st_state_actor *f = st_state_get(s, from), *t = st_state_get(s, to);
  if (!f || !t)
    return st_err_set(err, ST_ENOENT, "transfer between t0%llu and t0%llu: actor not found", (unsigned long long)from,
                      (unsigned long long)to);
  if (mpz_cmp(f->balance, amount) < 0)
    return st_err_set(err, ST_ERANGE, "actor t0%llu has too little balance", (unsigned long long)from);
  if (from == to || !mpz_sgn(amount)) return ST_OK;
  st_code code = st_state_touch(s, f, err);
  if (!code) code = st_state_touch(s, t, err);
  if (code) return code;
  mpz_sub(f->balance, f->balance, amount);
  mpz_add(t->balance, t->balance, amount);
  return ST_OK;
}

void st_state_encode(const st_state *s, st_buf *out) {
  st_cbor_put_array(out, 3);
  st_cbor_put_uint(out, 1);
  st_cbor_put_uint(out, s->next_id);
  st_cbor_put_array(out, s->n);
  for (size_t i = 0; i < s->n; i++) {
    const st_state_actor *a = &s->actors[i];
    st_cid code;
    st_actor_code(a->kind, &code);
    st_cbor_put_array(out, 6);
    st_cbor_put_uint(out, a->id);
    st_cbor_put_bytes(out, a->robust.bytes, a->robust.len);
    st_cbor_put_cid(out, &code);
    st_cbor_put_cid(out, &a->head);
    st_cbor_put_uint(out, a->nonce);
    st_cbor_put_bigint(out, a->balance);
  }
}

void st_state_root(const st_state *s, st_buf *blob, st_cid *root) {
  st_buf_reset(blob);
  st_state_encode(s, blob);
  st_cid_of_cbor(blob->data, blob->len, root);
}

st_code st_state_decode(const uint8_t *p, size_t len, st_state *s, st_err *err) {
  st_state_clear(s);
  st_cbor_reader r;
  st_cbor_reader_init(&r, p, len, err);
  uint64_t version = 0, n = 0;
  st_code code = st_cbor_expect_array(&r, 3, "state");
  if (!code) code = st_cbor_read_uint(&r, &version);
  if (!code && version != 1)
    code = st_err_set(err, ST_EINVAL, "state: version %llu is not 1", (unsigned long long)version);
  if (!code) code = st_cbor_read_uint(&r, &s->next_id);
  if (!code) code = st_cbor_read_array(&r, &n);
  if (!code && n > len)
    code = st_err_set(err, ST_EINVAL, "state: %llu actors cannot fit in %zu bytes", (unsigned long long)n, len);
  if (!code) code = reserve(s, (size_t)n, err);
  for (uint64_t i = 0; i < n && !code; i++) {
    st_state_actor *a = &s->actors[i];
    *a = (st_state_actor){0};
    mpz_init(a->balance);
    s->n++;
    const uint8_t *rb;
    size_t rlen;
    st_cid kind_code;
    code = st_cbor_expect_array(&r, 6, "state actor");
    if (!code) code = st_cbor_read_uint(&r, &a->id);
    if (!code) code = st_cbor_read_bytes(&r, &rb, &rlen);
    if (!code && rlen) code = st_address_from_bytes(rb, rlen, &a->robust, err);
    if (!code) code = st_cbor_read_cid(&r, &kind_code);
    if (!code) code = st_actor_kind_of_code(&kind_code, &a->kind, err);
    if (!code) code = st_cbor_read_cid(&r, &a->head);
    if (!code) code = st_cbor_read_uint(&r, &a->nonce);
    if (!code) code = st_cbor_read_bigint(&r, a->balance);
    if (!code && mpz_sgn(a->balance) < 0)
      code = st_err_set(err, ST_EINVAL, "state: actor t0%llu has a negative balance", (unsigned long long)a->id);
    if (!code && i && a->id <= s->actors[i - 1].id)
      code = st_err_set(err, ST_EINVAL, "state: actors are not in ID order at t0%llu", (unsigned long long)a->id);
  }
  if (!code) code = st_cbor_finish(&r);
  if (code) {
    st_err_wrap(err, code, "could not decode the state");
    st_state_clear(s);
  }
  return code;
}

void st_state_total(const st_state *s, mpz_t out) {
  mpz_set_ui(out, 0);
  for (size_t i = 0; i < s->n; i++) mpz_add(out, out, s->actors[i].balance);
}
