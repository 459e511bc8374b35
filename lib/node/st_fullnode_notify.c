/* st_fullnode_notify: ChainNotify, the channel method: each open channel's last head, and the
 * revert/apply batch that takes it to the new head (st_fullnode.h says how it is built). */
#include <stdlib.h>

#include "node/st_fullnode_int.h"

typedef struct fn_notify_sub {
  st_rpc_chan *ch;
  st_tipset last; /* the head the channel saw last */
  struct fn_notify_sub *next;
} fn_notify_sub;

static json_t *head_change(st_fullnode *n, const char *type, const st_tipset *t) {
  json_t *v = NULL;
  if (st_tipset_to_json(t, n->network, &v, NULL)) return NULL;
  return json_pack("{ssso}", "Type", type, "Val", v);
}

/* The walk from a down and b down to their common ancestor: reverts of a's side, applies of
 * b's side (newest first); ST_ERANGE when deeper than ST_FULLNODE_NOTIFY_DEPTH. */
static st_code walk(st_fullnode *n, st_tipset *a, st_tipset *b, json_t *reverts, json_t *applies) {
  st_code code = ST_OK;
  for (int steps = 0; !code && !st_tipset_key_equal(&a->key, &b->key); steps++) {
    if (steps > 2 * ST_FULLNODE_NOTIFY_DEPTH) {
      code = ST_ERANGE;
    } else if (a->height >= b->height) {
      json_array_append_new(reverts, head_change(n, "revert", a));
      code = fn_parent(n, a, NULL);
    } else {
      json_array_append_new(applies, head_change(n, "apply", b));
      code = fn_parent(n, b, NULL);
    }
  }
  return code;
}

/* The batch from old to new: reverts from old downward, then applies in ascending height; NULL
 * when there is nothing to send. */
static json_t *changes(st_fullnode *n, const st_tipset_key *old_key, const st_tipset_key *new_key) {
  if (st_tipset_key_equal(old_key, new_key)) return NULL;
  st_tipset a, b;
  st_tipset_init(&a);
  st_tipset_init(&b);
  json_t *reverts = json_array(), *applies = json_array();
  st_code code = st_chain_tipset(n->chain, old_key, &a, NULL);
  if (!code) code = st_chain_tipset(n->chain, new_key, &b, NULL);
  if (!code) code = walk(n, &a, &b, reverts, applies);
  st_tipset_free(&a);
  st_tipset_free(&b);
  if (code) { /* too deep, or a lookup failed: just the new head */
    json_array_clear(reverts);
    json_array_clear(applies);
    st_tipset t;
    st_tipset_init(&t);
    if (!st_chain_tipset(n->chain, new_key, &t, NULL)) json_array_append_new(applies, head_change(n, "apply", &t));
    st_tipset_free(&t);
  }
  for (size_t i = json_array_size(applies); i > 0; i--) json_array_append(reverts, json_array_get(applies, i - 1));
  json_decref(applies);
  if (!json_array_size(reverts)) {
    json_decref(reverts);
    return NULL;
  }
  return reverts;
}

static void sub_free(fn_notify_sub *s) {
  st_rpc_chan_release(s->ch);
  st_tipset_free(&s->last);
  free(s);
}

/* A channel closed (cancelled, or its connection ended): forget it. */
static void notify_closed(void *ctx, st_rpc_chan *ch) {
  st_fullnode *n = ctx;
  pthread_mutex_lock(&n->notify_mu);
  for (fn_notify_sub **pp = &n->notify_subs; *pp; pp = &(*pp)->next)
    if ((*pp)->ch == ch) {
      fn_notify_sub *s = *pp;
      *pp = s->next;
      sub_free(s);
      break;
    }
  pthread_mutex_unlock(&n->notify_mu);
}

static st_code r_chain_notify(st_rpc_req *q, st_rpc_chan *ch, st_err *err) {
  st_fullnode *n = q->ctx;
  fn_notify_sub *s = calloc(1, sizeof *s);
  if (!s) return st_err_set(err, ST_ENOMEM, "out of memory");
  st_tipset_init(&s->last);
  pthread_mutex_lock(&n->notify_mu);
  st_code code = st_chain_head(n->chain, &s->last, err);
  json_t *cur = code ? NULL : head_change(n, "current", &s->last);
  if (!code && !cur) code = st_err_set(err, ST_EINTERNAL, "the head could not be written as JSON");
  if (!code) {
    s->ch = st_rpc_chan_hold(ch);
    st_rpc_chan_on_close(ch, notify_closed, n);
    st_rpc_chan_send(ch, json_pack("[o]", cur));
    s->next = n->notify_subs;
    n->notify_subs = s;
  }
  pthread_mutex_unlock(&n->notify_mu);
  if (code) {
    st_tipset_free(&s->last);
    free(s);
  }
  return code;
}

void fn_notify_head(st_fullnode *n, const st_tipset *head) {
  pthread_mutex_lock(&n->notify_mu);
  for (fn_notify_sub **pp = &n->notify_subs; *pp;) {
    fn_notify_sub *s = *pp;
    json_t *batch = changes(n, &s->last.key, &head->key);
    bool ok = true;
    if (batch) {
      ok = st_rpc_chan_send(s->ch, batch);
      st_tipset t;
      st_tipset_init(&t);
      if (!st_chain_tipset(n->chain, &head->key, &t, NULL)) {
        st_tipset_free(&s->last);
        s->last = t;
      } else st_tipset_free(&t);
    }
    if (!ok && st_rpc_chan_closed(s->ch)) { /* closed: drop it (its on_close finds nothing) */
      *pp = s->next;
      sub_free(s);
      continue;
    }
    pp = &s->next;
  }
  pthread_mutex_unlock(&n->notify_mu);
}

void fn_notify_free_all(st_fullnode *n) {
  while (n->notify_subs) {
    fn_notify_sub *s = n->notify_subs;
    n->notify_subs = s->next;
    sub_free(s);
  }
}

static const st_rpc_method METHODS[] = {
    {.name = "Filecoin.ChainNotify", .perm = ST_PERM_READ, .subscribe = r_chain_notify},
};

fn_slice fn_notify_methods(void) { return (fn_slice){METHODS, sizeof METHODS / sizeof METHODS[0]}; }
