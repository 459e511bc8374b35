/* st_vproof: FallbackPoStSectorProof in rust-fil-proofs' bincode layout, its strict decoder and
 * check, and Lotus's WindowPoStVerifyInfo JSON. */
#include "proofs/st_vproof.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/st_cid.h"
#include "core/st_encoding.h"
#include "core/st_endian.h"
#include "proofs/st_fr.h"
#include "proofs/st_hasher.h"
#include "proofs/st_merkle.h"

unsigned st_vproof_shape_variant(const st_tree_shape *s) {
  return s->top_arity ? ST_VPROOF_TOP : s->sub_arity ? ST_VPROOF_SUB : ST_VPROOF_SINGLE;
}

unsigned st_vproof_variant(const st_sector_info *info) {
  st_tree_shape s;
  st_tree_shape_r_last(&s, info);
  return st_vproof_shape_variant(&s);
}

/* One path element: the siblings' length, the siblings, the index. */
static size_t level_len(unsigned arity) { return 8 + (size_t)(arity - 1) * 32 + 8; }

size_t st_vproof_merkle_len(const st_tree_shape *s) {
  size_t n = 4 + 8 + (size_t)(s->rows - 1) * level_len(s->arity) + 64;
  if (s->sub_arity) n += 8 + level_len(s->sub_arity);
  if (s->top_arity) n += 8 + level_len(s->top_arity);
  return n;
}

size_t st_vproof_inclusion_len(const st_sector_info *info) {
  st_tree_shape s;
  st_tree_shape_r_last(&s, info);
  return st_vproof_merkle_len(&s);
}

size_t st_vproof_sector_len(const st_sector_info *info, size_t challenges) {
  return 8 + 32 + 8 + 8 + challenges * st_vproof_inclusion_len(info) + 64;
}

/* ---- encoding ---- */

void st_vproof_put_u32(st_buf *b, uint32_t v) {
  uint8_t x[4];
  st_le32_put(x, v);
  st_buf_append(b, x, 4);
}

void st_vproof_put_u64(st_buf *b, uint64_t v) {
  uint8_t x[8];
  st_le64_put(x, v);
  st_buf_append(b, x, 8);
}

/* One path element of arity: its siblings (advancing *siblings) and its index. */
static void put_level(st_buf *b, unsigned arity, uint64_t index, const uint8_t **siblings) {
  st_vproof_put_u64(b, arity - 1);
  st_buf_append(b, *siblings, (size_t)(arity - 1) * 32);
  *siblings += (size_t)(arity - 1) * 32;
  st_vproof_put_u64(b, index);
}

void st_vproof_put_head(st_buf *b, uint64_t sector_id, const uint8_t comm_r[32], size_t count) {
  st_vproof_put_u64(b, sector_id);
  st_buf_append(b, comm_r, 32);
  st_vproof_put_u64(b, 1); /* Vec<SectorProof>: one */
  st_vproof_put_u64(b, count);
}

void st_vproof_put_merkle(st_buf *b, const st_tree_shape *s, uint64_t index, const uint8_t leaf[32],
                          const uint8_t *siblings, const uint8_t root[32]) {
  unsigned variant = st_vproof_shape_variant(s);
  st_vproof_put_u32(b, variant);
  if (variant == ST_VPROOF_SINGLE) {
    st_buf_append(b, root, 32);
    st_buf_append(b, leaf, 32);
  }
  uint64_t pos = index % s->sub_leaves, file = index / s->sub_leaves;
  st_vproof_put_u64(b, s->rows - 1);
  for (unsigned j = 0; j + 1 < s->rows; j++, pos /= s->arity) put_level(b, s->arity, pos % s->arity, &siblings);
  if (s->sub_arity) {
    st_vproof_put_u64(b, 1);
    put_level(b, s->sub_arity, file % s->sub_arity, &siblings);
  }
  if (s->top_arity) {
    st_vproof_put_u64(b, 1);
    put_level(b, s->top_arity, file / s->sub_arity, &siblings);
  }
  if (variant != ST_VPROOF_SINGLE) {
    st_buf_append(b, root, 32);
    st_buf_append(b, leaf, 32);
  }
}

void st_vproof_put_inclusion(st_buf *b, const st_sector_info *info, uint64_t index, const uint8_t leaf[32],
                             const uint8_t *siblings, const uint8_t root[32]) {
  st_tree_shape s;
  st_tree_shape_r_last(&s, info);
  st_vproof_put_merkle(b, &s, index, leaf, siblings, root);
}

void st_vproof_put_tail(st_buf *b, const uint8_t comm_c[32], const uint8_t comm_r_last[32]) {
  st_buf_append(b, comm_c, 32);
  st_buf_append(b, comm_r_last, 32);
}

/* ---- the reader ---- */

void st_vproof_reader_init(st_vproof_reader *r, const char *name, const uint8_t *p, size_t len, size_t base,
                           st_err *err) {
  memset(r, 0, sizeof *r);
  r->p = p;
  r->len = len;
  r->base = base;
  r->name = name;
  r->level = -1;
  r->err = err;
}

st_code st_vproof_fail(const st_vproof_reader *r, st_code code, size_t at, const char *field, const char *fmt, ...) {
  char path[64] = "", what[256];
  if (r->path) snprintf(path, sizeof path, r->level >= 0 ? "%s[%ld]." : "%s.", r->path, r->level);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return st_err_set(r->err, code, "%s: byte %zu: %s%s%s: %s", r->name, r->base + at, r->where, path, field, what);
}

/* The next n bytes, or NULL (and *rc the error naming field) when the input ends first. */
static const uint8_t *take(st_vproof_reader *r, size_t n, const char *field, st_code *rc) {
  if (r->len - r->off < n) {
    *rc = st_vproof_fail(r, ST_EINVAL, r->off, field, "the proof ends after %zu of its %zu bytes", r->len - r->off, n);
    return NULL;
  }
  const uint8_t *q = r->p + r->off;
  r->off += n;
  *rc = ST_OK;
  return q;
}

st_code st_vproof_get_u32(st_vproof_reader *r, const char *field, uint32_t *v) {
  st_code rc;
  const uint8_t *q = take(r, 4, field, &rc);
  *v = q ? st_le32_get(q) : 0;
  return rc;
}

st_code st_vproof_get_u64(st_vproof_reader *r, const char *field, uint64_t *v) {
  st_code rc;
  const uint8_t *q = take(r, 8, field, &rc);
  *v = q ? st_le64_get(q) : 0;
  return rc;
}

st_code st_vproof_expect_u64(st_vproof_reader *r, const char *field, uint64_t want, const char *unit) {
  size_t at = r->off;
  uint64_t v;
  st_code rc = st_vproof_get_u64(r, field, &v);
  if (!rc && v != want)
    return st_vproof_fail(r, ST_EINVAL, at, field, "%llu, want %llu%s", (unsigned long long)v, (unsigned long long)want,
                          unit);
  return rc;
}

st_code st_vproof_get_node(st_vproof_reader *r, const char *field, uint8_t out[32]) {
  size_t at = r->off;
  st_code rc;
  const uint8_t *q = take(r, 32, field, &rc);
  if (q && !st_fr_is_valid(q)) rc = st_vproof_fail(r, ST_EINVAL, at, field, "not a field element");
  if (rc) memset(out, 0, 32);
  else memcpy(out, q, 32);
  return rc;
}

/* One path (name) of levels elements of arity, its siblings into *sib (advanced); *index gets
 * the position its index fields name, *span the leaves below its top (arity^levels). */
static st_code get_path(st_vproof_reader *r, const char *name, unsigned levels, unsigned arity, uint8_t **sib,
                        uint64_t *index, uint64_t *span) {
  r->path = name;
  r->level = -1;
  char unit[32];
  snprintf(unit, sizeof unit, " level%s", levels == 1 ? "" : "s");
  st_code rc = st_vproof_expect_u64(r, "length", levels, unit);
  uint64_t pos = 0, scale = 1;
  for (unsigned j = 0; !rc && j < levels; j++) {
    r->level = j;
    rc = st_vproof_expect_u64(r, "hashes length", arity - 1, arity == 2 ? " sibling" : " siblings");
    for (unsigned k = 0; !rc && k + 1 < arity; k++) {
      char field[32];
      snprintf(field, sizeof field, "hashes[%u]", k);
      rc = st_vproof_get_node(r, field, *sib);
      *sib += 32;
    }
    size_t at = r->off;
    uint64_t i = 0;
    if (!rc) rc = st_vproof_get_u64(r, "index", &i);
    if (!rc && i >= arity)
      rc = st_vproof_fail(r, ST_EINVAL, at, "index", "%llu, want below the arity %u", (unsigned long long)i, arity);
    pos += i * scale;
    scale *= arity;
  }
  r->path = NULL;
  r->level = -1;
  *index = pos;
  *span = scale;
  return rc;
}

static const char *const VARIANT_NAMES[] = {"Single", "Sub", "Top"};

st_code st_vproof_get_merkle(st_vproof_reader *r, const st_tree_shape *s, const char *tree, st_vproof_inclusion *ip) {
  uint8_t *sib = ip->siblings;
  size_t path_len = st_tree_path_len(s);
  memset(ip, 0, sizeof *ip);
  ip->siblings = sib;
  memset(sib, 0, path_len);
  unsigned want = st_vproof_shape_variant(s);
  size_t at = r->off;
  uint32_t v;
  st_code rc = st_vproof_get_u32(r, "variant", &v);
  if (!rc && v > ST_VPROOF_TOP)
    rc = st_vproof_fail(r, ST_EINVAL, at, "variant", "%u is none of 0 (Single), 1 (Sub), 2 (Top)", v);
  else if (!rc && v != want)
    rc = st_vproof_fail(r, ST_EINVAL, at, "variant", "%u (%s), want %u (%s) for %s", v, VARIANT_NAMES[v], want,
                        VARIANT_NAMES[want], tree);
  if (!rc && v == ST_VPROOF_SINGLE && !(rc = st_vproof_get_node(r, "root", ip->root)))
    rc = st_vproof_get_node(r, "leaf", ip->leaf);
  uint64_t base = 0, span = 1, sub = 0, top = 0, unused;
  if (!rc) rc = get_path(r, v == ST_VPROOF_SINGLE ? "path" : "base_proof", s->rows - 1, s->arity, &sib, &base, &span);
  if (!rc && s->sub_arity) rc = get_path(r, "sub_proof", 1, s->sub_arity, &sib, &sub, &unused);
  if (!rc && s->top_arity) rc = get_path(r, "top_proof", 1, s->top_arity, &sib, &top, &unused);
  if (!rc && v != ST_VPROOF_SINGLE && !(rc = st_vproof_get_node(r, "root", ip->root)))
    rc = st_vproof_get_node(r, "leaf", ip->leaf);
  if (rc) {
    memset(ip->root, 0, 32);
    memset(ip->leaf, 0, 32);
    memset(ip->siblings, 0, path_len);
    return rc;
  }
  /* rust-fil-proofs' path_index: base + sub * base leaves + top * base leaves * sub arity */
  ip->index = base + sub * span + top * span * s->sub_arity;
  return ST_OK;
}

st_code st_vproof_reader_end(const st_vproof_reader *r, const char *what) {
  if (r->off == r->len) return ST_OK;
  size_t n = r->len - r->off;
  return st_vproof_fail(r, ST_EINVAL, r->off, "end", "%zu byte%s after %s", n, n == 1 ? "" : "s", what);
}

/* ---- decoding ---- */

void st_vproof_sector_free(st_vproof_sector *s) {
  free(s->proofs);
  free(s->siblings);
  memset(s, 0, sizeof *s);
}

st_code st_vproof_decode(const st_sector_info *info, size_t challenges, const uint8_t *p, size_t len, size_t base,
                         st_vproof_sector *out, st_err *err) {
  memset(out, 0, sizeof *out);
  st_tree_shape s;
  st_tree_shape_r_last(&s, info);
  size_t path_len = st_tree_path_len(&s);
  st_vproof_reader r;
  st_vproof_reader_init(&r, "vanilla proof", p, len, base, err);
  char tree[64];
  snprintf(tree, sizeof tree, "a %s sector", info->name);
  st_code rc = st_vproof_get_u64(&r, "sector_id", &out->sector_id);
  if (!rc) rc = st_vproof_get_node(&r, "comm_r", out->comm_r);
  if (!rc) rc = st_vproof_expect_u64(&r, "vanilla_proof.sectors length", 1, " sector proof");
  if (!rc) rc = st_vproof_expect_u64(&r, "inclusion_proofs length", challenges, " (one per challenge)");
  if (rc) goto fail;
  if (challenges > SIZE_MAX / (path_len + sizeof *out->proofs)) {
    rc = st_err_set(err, ST_ERANGE, "vanilla proof: %zu challenges are too many", challenges);
    goto fail;
  }
  out->proofs = calloc(challenges ? challenges : 1, sizeof *out->proofs);
  out->siblings = malloc(challenges ? challenges * path_len : 1);
  if (!out->proofs || !out->siblings) {
    rc = st_err_set(err, ST_ENOMEM, "out of memory decoding a vanilla proof");
    goto fail;
  }
  out->count = challenges;
  for (size_t i = 0; !rc && i < challenges; i++) {
    snprintf(r.where, sizeof r.where, "inclusion_proofs[%zu].", i);
    out->proofs[i].siblings = out->siblings + i * path_len;
    rc = st_vproof_get_merkle(&r, &s, tree, &out->proofs[i]);
  }
  r.where[0] = 0;
  if (!rc) rc = st_vproof_get_node(&r, "comm_c", out->comm_c);
  if (!rc) rc = st_vproof_get_node(&r, "comm_r_last", out->comm_r_last);
  if (!rc) rc = st_vproof_reader_end(&r, "the sector's proof");
  if (!rc) return ST_OK;
fail:
  st_vproof_sector_free(out);
  return rc;
}

/* ---- the check ---- */

st_code st_vproof_check(const st_sector_info *info, const st_vproof_sector *s, uint64_t number,
                        const uint8_t comm_r[32], const uint64_t *challenges, st_err *err) {
  unsigned long long num = (unsigned long long)number;
  if (s->sector_id != number)
    return st_err_set(err, ST_ECRYPTO, "found sector %llu where sector %llu was expected",
                      (unsigned long long)s->sector_id, num);
  if (memcmp(s->comm_r, comm_r, 32))
    return st_err_set(err, ST_ECRYPTO, "sector %llu: the proof's comm_r is not the sector's", num);
  uint8_t check[32];
  st_comm_r(st_hasher_sealing(), s->comm_c, s->comm_r_last, check);
  if (memcmp(check, comm_r, 32))
    return st_err_set(err, ST_ECRYPTO, "sector %llu: comm_c and comm_r_last do not hash to comm_r", num);
  st_tree_shape shape;
  st_tree_shape_r_last(&shape, info);
  for (size_t n = 0; n < s->count; n++) {
    const st_vproof_inclusion *ip = &s->proofs[n];
    unsigned long long c = (unsigned long long)challenges[n];
    if (memcmp(ip->root, s->comm_r_last, 32))
      return st_err_set(err, ST_ECRYPTO, "sector %llu: challenge %zu (leaf %llu): root is not comm_r_last", num, n, c);
    if (ip->index != challenges[n])
      return st_err_set(err, ST_ECRYPTO, "sector %llu: challenge %zu (leaf %llu): the path is for leaf %llu", num, n, c,
                        (unsigned long long)ip->index);
    if (!st_tree_verify(&shape, st_hasher_sealing(), ip->index, ip->leaf, ip->siblings, s->comm_r_last))
      return st_err_set(err, ST_ECRYPTO, "sector %llu: challenge %zu (leaf %llu): path does not lead to comm_r_last",
                        num, n, c);
  }
  return ST_OK;
}

/* ---- WindowPoStVerifyInfo ---- */

void st_vproof_window_info_free(st_vproof_window_info *vi) {
  free(vi->sectors);
  memset(vi, 0, sizeof *vi);
}

#define WPVI "WindowPoStVerifyInfo"

/* A non-negative JSON integer at where. */
static st_code json_u64(const json_t *v, const char *where, uint64_t *out, st_err *err) {
  *out = 0;
  if (!json_is_integer(v) || json_integer_value(v) < 0)
    return st_err_set(err, ST_EINVAL, WPVI ": %s: want a non-negative integer", where);
  *out = (uint64_t)json_integer_value(v);
  return ST_OK;
}

/* Fails on a key of o that is none of known (NULL-terminated). */
static st_code only_keys(const json_t *o, const char *where, const char *const *known, const char *list, st_err *err) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)o, k, v) {
    bool ok = false;
    for (size_t i = 0; known[i] && !ok; i++) ok = !strcmp(k, known[i]);
    if (!ok) return st_err_set(err, ST_EINVAL, WPVI ": %s: unknown key \"%s\" (known: %s)", where, k, list);
  }
  return ST_OK;
}

/* The sector size of a RegisteredSealProof: V1 (0..4), V1_1 (5..9), V1_1 SyntheticPoRep
 * (10..14), V1_2 NiPoRep (15..19) of 2 KiB, 8 MiB, 512 MiB, 32 GiB, 64 GiB. */
static const st_sector_info *info_of_seal_proof(uint64_t id) {
  return id < 20 ? st_sector_by_seal_proof(5 + (int)(id % 5)) : NULL;
}

static st_code parse_sector(const json_t *o, size_t i, st_vproof_public_sector *s, st_err *err) {
  char where[64];
  snprintf(where, sizeof where, "ChallengedSectors[%zu]", i);
  static const char *const KEYS[] = {"SealProof", "SectorNumber", "SealedCID", NULL};
  if (!json_is_object(o)) return st_err_set(err, ST_EINVAL, WPVI ": %s: want an object", where);
  st_code rc = only_keys(o, where, KEYS, "SealProof, SectorNumber, SealedCID", err);
  uint64_t sp = 0;
  char f[96];
  snprintf(f, sizeof f, "%s.SealProof", where);
  if (!rc) rc = json_u64(json_object_get(o, "SealProof"), f, &sp, err);
  if (!rc && !(s->info = info_of_seal_proof(sp)))
    rc = st_err_set(err, ST_EINVAL, WPVI ": %s: %llu is not a seal proof of a size we prove (0 to 19)", f,
                    (unsigned long long)sp);
  s->seal_proof = (int)sp;
  snprintf(f, sizeof f, "%s.SectorNumber", where);
  if (!rc) rc = json_u64(json_object_get(o, "SectorNumber"), f, &s->number, err);
  snprintf(f, sizeof f, "%s.SealedCID", where);
  const json_t *c = json_object_get(o, "SealedCID"), *text = c ? json_object_get(c, "/") : NULL;
  if (!rc && (!json_is_object(c) || json_object_size(c) != 1 || !json_is_string(text)))
    rc = st_err_set(err, ST_EINVAL, WPVI ": %s: want {\"/\": \"bagboea4b5abc...\"}", f);
  st_cid cid;
  if (!rc && st_cid_parse(json_string_value(text), &cid, err)) rc = st_err_wrap(err, ST_EINVAL, WPVI ": %s", f);
  if (!rc &&
      (cid.codec != ST_CODEC_FIL_SEALED || cid.mh_code != ST_MH_POSEIDON_BLS12_381_A1_FC1 || cid.digest_len != 32))
    rc = st_err_set(err, ST_EINVAL, WPVI ": %s: \"%s\" is not a fil-commitment-sealed (poseidon) CID", f,
                    json_string_value(text));
  if (!rc && !st_fr_is_valid(cid.digest))
    rc = st_err_set(err, ST_EINVAL, WPVI ": %s: comm_r is not a field element", f);
  if (!rc) memcpy(s->comm_r, cid.digest, 32);
  return rc;
}

static st_code parse_info(const json_t *j, st_vproof_window_info *out, st_err *err) {
  static const char *const KEYS[] = {"Randomness", "Proofs", "ChallengedSectors", "Prover", NULL};
  if (!json_is_object(j)) return st_err_set(err, ST_EINVAL, WPVI ": want a JSON object");
  st_code rc = only_keys(j, "top level", KEYS, "Randomness, Proofs, ChallengedSectors, Prover", err);
  if (rc) return rc;
  const json_t *r = json_object_get(j, "Randomness"), *p = json_object_get(j, "Proofs"),
               *cs = json_object_get(j, "ChallengedSectors");
  if (!json_is_string(r)) return st_err_set(err, ST_EINVAL, WPVI ": Randomness: want a base64 string");
  st_buf raw = ST_BUF_INIT;
  rc = st_base64_decode(json_string_value(r), json_string_length(r), true, &raw, err);
  if (rc) rc = st_err_wrap(err, ST_EINVAL, WPVI ": Randomness");
  else if (raw.len != 32) rc = st_err_set(err, ST_EINVAL, WPVI ": Randomness: %zu bytes, want 32", raw.len);
  else memcpy(out->randomness, raw.data, 32);
  st_buf_free(&raw);
  if (rc) return rc;
  out->randomness[31] &= 0x3f;
  if (p && !json_is_array(p) && !json_is_null(p))
    return st_err_set(err, ST_EINVAL, WPVI ": Proofs: want an array or null");
  if ((rc = json_u64(json_object_get(j, "Prover"), "Prover", &out->prover, err))) return rc;
  if (!json_is_array(cs) || json_array_size(cs) == 0)
    return st_err_set(err, ST_EINVAL, WPVI ": ChallengedSectors: want an array of at least one sector");
  size_t n = json_array_size(cs);
  if (!(out->sectors = calloc(n, sizeof *out->sectors))) return st_err_set(err, ST_ENOMEM, "out of memory");
  out->nsectors = n;
  for (size_t i = 0; !rc && i < n; i++) rc = parse_sector(json_array_get(cs, i), i, &out->sectors[i], err);
  return rc;
}

st_code st_vproof_window_info_parse(const char *text, size_t len, st_vproof_window_info *out, st_err *err) {
  memset(out, 0, sizeof *out);
  json_error_t je;
  json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!j) return st_err_set(err, ST_EINVAL, WPVI ": line %d column %d: %s", je.line, je.column, je.text);
  st_code rc = parse_info(j, out, err);
  json_decref(j);
  if (rc) st_vproof_window_info_free(out);
  return rc;
}
