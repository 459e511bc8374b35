/* st_blockstore: the memory store behind the st_blockstore seam (see the header). */
#include "codec/st_blockstore.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot {
  st_cid cid;
  uint8_t *data; /* NULL: empty slot */
  size_t len;
} slot;

struct st_memstore {
  slot *slots;
  size_t cap, n; /* cap a power of two, n < cap * 3/4 */
  st_memstore_stats st;
};

static uint64_t cid_hash(const st_cid *c) {
  uint64_t h = 1469598103934665603ull ^ c->codec ^ (c->mh_code << 20);
  for (size_t i = 0; i < c->digest_len; i++) h = (h ^ c->digest[i]) * 1099511628211ull;
  return h;
}

static slot *find(slot *slots, size_t cap, const st_cid *cid) {
  for (size_t i = cid_hash(cid) & (cap - 1);; i = (i + 1) & (cap - 1))
    if (!slots[i].data || st_cid_equal(&slots[i].cid, cid)) return &slots[i];
}

st_code st_memstore_new(st_memstore **out, st_err *err) {
  *out = NULL;
  st_memstore *m = calloc(1, sizeof *m);
  if (m) m->slots = calloc(m->cap = 1024, sizeof *m->slots);
  if (!m || !m->slots) {
    free(m);
    return st_err_set(err, ST_ENOMEM, "out of memory making a memory block store");
  }
  *out = m;
  return ST_OK;
}

void st_memstore_free(st_memstore *m) {
  if (!m) return;
  for (size_t i = 0; i < m->cap; i++) free(m->slots[i].data);
  free(m->slots);
  free(m);
}

static st_code mem_get(void *ctx, const st_cid *cid, st_buf *out, st_err *err) {
  st_memstore *m = ctx;
  slot *s = find(m->slots, m->cap, cid);
  if (!s->data) {
    char str[ST_CID_STR_MAX];
    st_cid_to_string(cid, str);
    return st_err_set(err, ST_ENOENT, "block %s is not in the store", str);
  }
  m->st.gets++;
  m->st.get_bytes += s->len;
  st_buf_append(out, s->data, s->len);
  return st_buf_status(out, err);
}

static st_code grow(st_memstore *m, st_err *err) {
  size_t cap = m->cap * 2;
  slot *slots = calloc(cap, sizeof *slots);
  if (!slots) return st_err_set(err, ST_ENOMEM, "out of memory growing a memory block store");
  for (size_t i = 0; i < m->cap; i++)
    if (m->slots[i].data) *find(slots, cap, &m->slots[i].cid) = m->slots[i];
  free(m->slots);
  m->slots = slots;
  m->cap = cap;
  return ST_OK;
}

static st_code mem_put(void *ctx, const st_cid *cid, const void *data, size_t len, st_err *err) {
  st_memstore *m = ctx;
  m->st.puts++;
  m->st.put_bytes += len;
  if ((m->n + 1) * 4 > m->cap * 3 && grow(m, err)) return err->code;
  slot *s = find(m->slots, m->cap, cid);
  if (s->data) return ST_OK;
  if (!(s->data = malloc(len ? len : 1))) return st_err_set(err, ST_ENOMEM, "out of memory storing a block");
  memcpy(s->data, data, len);
  s->len = len;
  s->cid = *cid;
  m->n++;
  m->st.objects++;
  m->st.stored_bytes += len;
  return ST_OK;
}

st_blockstore st_memstore_view(st_memstore *m) { return (st_blockstore){.get = mem_get, .put = mem_put, .ctx = m}; }

void st_memstore_stats_get(const st_memstore *m, st_memstore_stats *out) { *out = m->st; }

void st_memstore_stats_reset(st_memstore *m) { m->st.puts = m->st.put_bytes = m->st.gets = m->st.get_bytes = 0; }
