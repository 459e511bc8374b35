/* st_block_header: BlockHeader and TipSetKey in Lotus's CBOR, their CIDs, and the order of a
 * tipset's blocks. Part of st_chain_types (st_chain_types_int.h). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "chain/st_chain_types_int.h"
#include "codec/st_token.h"
#include "crypto/st_hash.h"

/* ================================================================ block headers */

static const char *const BH = "block header";

void st_block_header_init(st_block_header *h) {
  memset(h, 0, sizeof *h);
  mpz_init(h->parent_weight);
  mpz_init(h->parent_base_fee);
}

/* Frees the owned parts and leaves zero values (mpz kept). */
void st_ct_header_reset(st_block_header *h) {
  st_chain_bytes_free(&h->ticket_vrf_proof);
  st_chain_bytes_free(&h->election_vrf_proof);
  for (size_t i = 0; i < h->n_beacon_entries; i++) st_chain_bytes_free(&h->beacon_entries[i].data);
  free(h->beacon_entries);
  for (size_t i = 0; i < h->n_win_post_proof; i++) st_chain_bytes_free(&h->win_post_proof[i].proof_bytes);
  free(h->win_post_proof);
  free(h->parents);
  __mpz_struct w = h->parent_weight[0], f = h->parent_base_fee[0]; /* the GMP allocations survive */
  memset(h, 0, sizeof *h);
  h->parent_weight[0] = w;
  h->parent_base_fee[0] = f;
  mpz_set_ui(h->parent_weight, 0);
  mpz_set_ui(h->parent_base_fee, 0);
}

void st_block_header_free(st_block_header *h) {
  st_ct_header_reset(h);
  mpz_clear(h->parent_weight);
  mpz_clear(h->parent_base_fee);
}

static st_code copy_cids(st_cid **dst, size_t *dn, const st_cid *src, size_t n, st_err *err) {
  st_cid *p = NULL;
  if (n) {
    p = malloc(n * sizeof *p);
    if (!p) return st_err_set(err, ST_ENOMEM, "out of memory for %zu CIDs", n);
    memcpy(p, src, n * sizeof *p);
  }
  free(*dst);
  *dst = p;
  *dn = n;
  return ST_OK;
}

st_code st_block_header_set_parents(st_block_header *h, const st_cid *parents, size_t n, st_err *err) {
  return copy_cids(&h->parents, &h->n_parents, parents, n, err);
}

/* Appends to *arr (*n items of size sz) one zeroed item whose st_chain_bytes at offset off
 * holds a copy of data; *n counts it only if all of that worked. *item is the new item. */
static st_code add_item(void **arr, size_t *n, size_t sz, size_t off, const void *data, size_t len, const char *what,
                        void **item, st_err *err) {
  char *p = realloc(*arr, (*n + 1) * sz);
  if (!p) return st_err_set(err, ST_ENOMEM, "out of memory adding %s", what);
  *arr = p;
  *item = p + *n * sz;
  memset(*item, 0, sz);
  st_code rc = st_chain_bytes_set((st_chain_bytes *)(p + *n * sz + off), data, len, err);
  if (!rc) (*n)++;
  return rc;
}

st_code st_block_header_add_beacon(st_block_header *h, uint64_t round, const void *data, size_t len, st_err *err) {
  void *a = h->beacon_entries, *e = NULL;
  st_code rc = add_item(&a, &h->n_beacon_entries, sizeof(st_beacon_entry), offsetof(st_beacon_entry, data), data, len,
                        "a beacon entry", &e, err);
  h->beacon_entries = a;
  if (e) ((st_beacon_entry *)e)->round = round;
  return rc;
}

st_code st_block_header_add_post_proof(st_block_header *h, int64_t post_proof, const void *proof, size_t len,
                                       st_err *err) {
  void *a = h->win_post_proof, *e = NULL;
  st_code rc = add_item(&a, &h->n_win_post_proof, sizeof(st_post_proof), offsetof(st_post_proof, proof_bytes), proof,
                        len, "a PoSt proof", &e, err);
  h->win_post_proof = a;
  if (e) ((st_post_proof *)e)->post_proof = post_proof;
  return rc;
}

static st_code header_check(const st_block_header *h, bool with_sig, st_err *err) {
  st_code rc;
  if ((rc = st_ct_check_address(&h->miner, BH, "Miner", err))) return rc;
  if (h->has_ticket && (rc = st_ct_check_bytes(h->ticket_vrf_proof.len, BH, "Ticket.VRFProof", err))) return rc;
  if (h->has_election_proof && (rc = st_ct_check_bytes(h->election_vrf_proof.len, BH, "ElectionProof.VRFProof", err)))
    return rc;
  if ((rc = st_ct_check_array(h->n_beacon_entries, BH, "BeaconEntries", err))) return rc;
  for (size_t i = 0; i < h->n_beacon_entries; i++)
    if ((rc = st_ct_check_bytes(h->beacon_entries[i].data.len, BH, "BeaconEntries.Data", err))) return rc;
  if ((rc = st_ct_check_array(h->n_win_post_proof, BH, "WinPoStProof", err))) return rc;
  for (size_t i = 0; i < h->n_win_post_proof; i++)
    if ((rc = st_ct_check_bytes(h->win_post_proof[i].proof_bytes.len, BH, "WinPoStProof.ProofBytes", err))) return rc;
  if ((rc = st_ct_check_array(h->n_parents, BH, "Parents", err))) return rc;
  if ((rc = st_ct_check_bigint(h->parent_weight, false, BH, "ParentWeight", err))) return rc;
  if (h->has_bls_aggregate && (rc = st_ct_check_signature(&h->bls_aggregate, err)))
    return st_err_wrap(err, rc, "block header: field BLSAggregate");
  if (with_sig && h->has_block_sig && (rc = st_ct_check_signature(&h->block_sig, err)))
    return st_err_wrap(err, rc, "block header: field BlockSig");
  return st_ct_check_bigint(h->parent_base_fee, false, BH, "ParentBaseFee", err);
}

static void put_header(st_buf *b, const st_block_header *h, bool with_sig) {
  st_cbor_put_array(b, 16);
  st_ct_put_address(b, &h->miner);
  if (h->has_ticket) {
    st_cbor_put_array(b, 1);
    st_cbor_put_bytes(b, h->ticket_vrf_proof.data, h->ticket_vrf_proof.len);
  } else {
    st_cbor_put_null(b);
  }
  if (h->has_election_proof) {
    st_cbor_put_array(b, 2);
    st_cbor_put_int(b, h->win_count);
    st_cbor_put_bytes(b, h->election_vrf_proof.data, h->election_vrf_proof.len);
  } else {
    st_cbor_put_null(b);
  }
  st_cbor_put_array(b, h->n_beacon_entries);
  for (size_t i = 0; i < h->n_beacon_entries; i++) {
    st_cbor_put_array(b, 2);
    st_cbor_put_uint(b, h->beacon_entries[i].round);
    st_cbor_put_bytes(b, h->beacon_entries[i].data.data, h->beacon_entries[i].data.len);
  }
  st_cbor_put_array(b, h->n_win_post_proof);
  for (size_t i = 0; i < h->n_win_post_proof; i++) {
    st_cbor_put_array(b, 2);
    st_cbor_put_int(b, h->win_post_proof[i].post_proof);
    st_cbor_put_bytes(b, h->win_post_proof[i].proof_bytes.data, h->win_post_proof[i].proof_bytes.len);
  }
  st_cbor_put_array(b, h->n_parents);
  for (size_t i = 0; i < h->n_parents; i++) st_cbor_put_cid(b, &h->parents[i]);
  st_cbor_put_bigint(b, h->parent_weight);
  st_cbor_put_int(b, h->height);
  st_cbor_put_cid(b, &h->parent_state_root);
  st_cbor_put_cid(b, &h->parent_message_receipts);
  st_cbor_put_cid(b, &h->messages);
  if (h->has_bls_aggregate) st_ct_put_signature(b, &h->bls_aggregate);
  else st_cbor_put_null(b);
  st_cbor_put_uint(b, h->timestamp);
  if (with_sig && h->has_block_sig) st_ct_put_signature(b, &h->block_sig);
  else st_cbor_put_null(b);
  st_cbor_put_uint(b, h->fork_signaling);
  st_cbor_put_bigint(b, h->parent_base_fee);
}

st_code st_block_header_encode(const st_block_header *h, st_buf *out, st_err *err) {
  st_code rc = header_check(h, true, err);
  if (rc) return rc;
  put_header(out, h, true);
  return st_buf_status(out, err);
}

st_code st_block_header_signing_bytes(const st_block_header *h, st_buf *out, st_err *err) {
  st_code rc = header_check(h, false, err);
  if (rc) return rc;
  put_header(out, h, false);
  return st_buf_status(out, err);
}

static st_code read_ticket(st_cbor_reader *r, st_block_header *h) {
  if (st_cbor_take_null(r)) return ST_OK;
  st_code rc = st_cbor_expect_array(r, 1, "ticket");
  if (!rc) rc = st_ct_read_bytes(r, &h->ticket_vrf_proof);
  if (!rc) h->has_ticket = true;
  return rc;
}

static st_code read_election_proof(st_cbor_reader *r, st_block_header *h) {
  if (st_cbor_take_null(r)) return ST_OK;
  st_code rc = st_cbor_expect_array(r, 2, "election proof");
  if (!rc) rc = st_cbor_read_int(r, &h->win_count);
  if (!rc) rc = st_ct_read_bytes(r, &h->election_vrf_proof);
  if (!rc) h->has_election_proof = true;
  return rc;
}

/* An array of items read one by one with item into a new array, returned even when reading
 * fails (so that the caller frees what was read: *count counts each item begun); *rc says how
 * it went. */
static void *read_list(st_cbor_reader *r, size_t size, st_code (*item)(st_cbor_reader *r, void *item), size_t *count,
                       const char *plural, const char *what, st_code *rc) {
  size_t n = 0;
  if ((*rc = st_ct_read_array(r, &n)) || n == 0) return NULL;
  char *a = calloc(n, size);
  if (!a) {
    *rc = st_err_set(r->err, ST_ENOMEM, "out of memory for %zu %s", n, plural);
    return NULL;
  }
  for (size_t i = 0; i < n && !*rc; i++) {
    *count = i + 1;
    if ((*rc = item(r, a + i * size))) st_err_wrap(r->err, *rc, "%s %zu", what, i);
  }
  return a;
}

static st_code read_beacon(st_cbor_reader *r, void *item) {
  st_beacon_entry *e = item;
  st_code rc = st_cbor_expect_array(r, 2, "beacon entry");
  if (!rc) rc = st_cbor_read_uint(r, &e->round);
  return rc ? rc : st_ct_read_bytes(r, &e->data);
}

static st_code read_post_proof(st_cbor_reader *r, void *item) {
  st_post_proof *e = item;
  st_code rc = st_cbor_expect_array(r, 2, "PoSt proof");
  if (!rc) rc = st_cbor_read_int(r, &e->post_proof);
  return rc ? rc : st_ct_read_bytes(r, &e->proof_bytes);
}

static st_code read_cid_array(st_cbor_reader *r, st_cid **out, size_t *count) {
  size_t n = 0;
  st_code rc = st_ct_read_array(r, &n);
  if (rc || n == 0) return rc;
  st_cid *p = calloc(n, sizeof *p);
  if (!p) return st_err_set(r->err, ST_ENOMEM, "out of memory for %zu CIDs", n);
  for (size_t i = 0; i < n; i++) {
    if ((rc = st_cbor_read_cid(r, &p[i]))) {
      free(p);
      return st_err_wrap(r->err, rc, "CID %zu", i);
    }
  }
  *out = p;
  *count = n;
  return ST_OK;
}

static st_code read_opt_signature(st_cbor_reader *r, bool *has, st_signature *s) {
  if (st_cbor_take_null(r)) return ST_OK;
  st_code rc = st_signature_read(r, s);
  if (!rc) *has = true;
  return rc;
}

st_code st_block_header_read(st_cbor_reader *r, st_block_header *h) {
  st_ct_header_reset(h);
  st_code rc = st_cbor_expect_array(r, 16, "block header");
  if (rc) return rc;
  ST_CT_FIELD(BH, "Miner", st_address_read(r, &h->miner));
  ST_CT_FIELD(BH, "Ticket", read_ticket(r, h));
  ST_CT_FIELD(BH, "ElectionProof", read_election_proof(r, h));
  h->beacon_entries =
      read_list(r, sizeof *h->beacon_entries, read_beacon, &h->n_beacon_entries, "beacon entries", "entry", &rc);
  ST_CT_FIELD(BH, "BeaconEntries", rc);
  h->win_post_proof =
      read_list(r, sizeof *h->win_post_proof, read_post_proof, &h->n_win_post_proof, "PoSt proofs", "proof", &rc);
  ST_CT_FIELD(BH, "WinPoStProof", rc);
  ST_CT_FIELD(BH, "Parents", read_cid_array(r, &h->parents, &h->n_parents));
  ST_CT_FIELD(BH, "ParentWeight", st_cbor_read_bigint(r, h->parent_weight));
  ST_CT_FIELD(BH, "Height", st_cbor_read_int(r, &h->height));
  ST_CT_FIELD(BH, "ParentStateRoot", st_cbor_read_cid(r, &h->parent_state_root));
  ST_CT_FIELD(BH, "ParentMessageReceipts", st_cbor_read_cid(r, &h->parent_message_receipts));
  ST_CT_FIELD(BH, "Messages", st_cbor_read_cid(r, &h->messages));
  ST_CT_FIELD(BH, "BLSAggregate", read_opt_signature(r, &h->has_bls_aggregate, &h->bls_aggregate));
  ST_CT_FIELD(BH, "Timestamp", st_cbor_read_uint(r, &h->timestamp));
  ST_CT_FIELD(BH, "BlockSig", read_opt_signature(r, &h->has_block_sig, &h->block_sig));
  ST_CT_FIELD(BH, "ForkSignaling", st_cbor_read_uint(r, &h->fork_signaling));
  ST_CT_FIELD(BH, "ParentBaseFee", st_cbor_read_bigint(r, h->parent_base_fee));
  return ST_OK;
}

st_code st_block_header_decode(const uint8_t *p, size_t n, st_block_header *h, st_err *err) {
  ST_CT_DECODE_WHOLE(st_block_header_read, BH, p, n, h, err);
}

static st_code header_encode_v(const void *h, st_buf *b, st_err *err) { return st_block_header_encode(h, b, err); }

st_code st_block_header_cid(const st_block_header *h, st_cid *out, st_err *err) {
  return st_ct_cid_of(header_encode_v, h, out, err);
}

/* ================================================================ tipsets */

void st_tipset_key_init(st_tipset_key *k) {
  k->cids = NULL;
  k->n = 0;
}

void st_tipset_key_free(st_tipset_key *k) {
  free(k->cids);
  st_tipset_key_init(k);
}

st_code st_tipset_key_set(st_tipset_key *k, const st_cid *cids, size_t n, st_err *err) {
  if (k->cids == cids) return ST_OK;
  return copy_cids(&k->cids, &k->n, cids, n, err);
}

bool st_tipset_key_equal(const st_tipset_key *a, const st_tipset_key *b) {
  if (a->n != b->n) return false;
  for (size_t i = 0; i < a->n; i++)
    if (!st_cid_equal(&a->cids[i], &b->cids[i])) return false;
  return true;
}

void st_tipset_key_bytes(const st_tipset_key *k, st_buf *out) {
  for (size_t i = 0; i < k->n; i++) {
    uint8_t raw[ST_CID_MAX_BYTES];
    size_t n = st_cid_to_bytes(&k->cids[i], raw);
    st_buf_append(out, raw, n);
  }
}

st_code st_tipset_key_from_bytes(const uint8_t *p, size_t n, st_tipset_key *k, st_err *err) {
  st_tipset_key tmp;
  st_tipset_key_init(&tmp);
  size_t off = 0, cap = 0;
  st_code rc = ST_OK;
  while (off < n) {
    if (tmp.n == cap) {
      cap = cap ? 2 * cap : 4;
      st_cid *c = realloc(tmp.cids, cap * sizeof *c);
      if (!c) {
        rc = st_err_set(err, ST_ENOMEM, "out of memory for a tipset key");
        break;
      }
      tmp.cids = c;
    }
    size_t used;
    if ((rc = st_cid_from_bytes(p + off, n - off, &tmp.cids[tmp.n], &used, err))) {
      rc = st_err_wrap(err, rc, "tipset key: CID %zu at byte %zu", tmp.n, off);
      break;
    }
    tmp.n++;
    off += used;
  }
  if (rc) {
    st_tipset_key_free(&tmp);
    return rc;
  }
  st_tipset_key_free(k);
  *k = tmp;
  return ST_OK;
}

st_code st_tipset_key_cid(const st_tipset_key *k, st_cid *out, st_err *err) {
  st_buf raw = ST_BUF_INIT, enc = ST_BUF_INIT;
  st_tipset_key_bytes(k, &raw);
  if (!raw.failed) st_cbor_put_bytes(&enc, raw.data, raw.len);
  st_code rc = raw.failed ? st_buf_status(&raw, err) : st_buf_status(&enc, err);
  if (!rc) st_cid_of_cbor(enc.data, enc.len, out);
  st_buf_free(&raw);
  st_buf_free(&enc);
  return rc;
}

typedef struct sort_item {
  st_block_header *h;
  uint8_t digest[32];
  uint8_t cid[ST_CID_MAX_BYTES];
  size_t cid_len;
} sort_item;

/* tipsetSortFunc: equal VRFProofs go by CID bytes (bytes.Compare), others by Ticket.Less. */
static int sort_cmp(const void *pa, const void *pb) {
  const sort_item *a = pa, *b = pb;
  const st_chain_bytes *ta = &a->h->ticket_vrf_proof, *tb = &b->h->ticket_vrf_proof;
  if (ta->len == tb->len && (ta->len == 0 || !memcmp(ta->data, tb->data, ta->len))) {
    size_t n = a->cid_len < b->cid_len ? a->cid_len : b->cid_len;
    int c = memcmp(a->cid, b->cid, n);
    if (c) return c;
    return a->cid_len < b->cid_len ? -1 : a->cid_len > b->cid_len;
  }
  return memcmp(a->digest, b->digest, 32);
}

st_code st_tipset_sort_blocks(st_block_header **blocks, size_t n, st_err *err) {
  if (n < 2) return ST_OK; /* Lotus never compares a lone block's ticket */
  sort_item *items = calloc(n, sizeof *items);
  if (!items) return st_err_set(err, ST_ENOMEM, "out of memory sorting %zu blocks", n);
  st_code rc = ST_OK;
  for (size_t i = 0; i < n && !rc; i++) {
    sort_item *it = &items[i];
    it->h = blocks[i];
    if (!it->h->has_ticket) {
      rc = st_err_set(err, ST_EINVAL, "tipset: block %zu has no ticket", i);
      break;
    }
    st_blake2b_256(it->h->ticket_vrf_proof.data, it->h->ticket_vrf_proof.len, it->digest);
    st_cid c;
    if ((rc = st_block_header_cid(it->h, &c, err))) {
      rc = st_err_wrap(err, rc, "tipset: block %zu", i);
      break;
    }
    it->cid_len = st_cid_to_bytes(&c, it->cid);
  }
  if (!rc) {
    qsort(items, n, sizeof *items, sort_cmp);
    for (size_t i = 0; i < n; i++) blocks[i] = items[i].h;
  }
  free(items);
  return rc;
}
