/* st_commp: an incremental binary Merkle stack over Fr32-padded leaves. */
#include "proofs/st_commp.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/st_fs.h"
#include "proofs/st_hasher.h"

static uint8_t zero_comms[ST_COMMP_MAX_LEVEL + 1][32];
static pthread_once_t zero_once = PTHREAD_ONCE_INIT;

static void fill_zero_comms(void) {
  memset(zero_comms[0], 0, 32);
  for (unsigned l = 1; l <= ST_COMMP_MAX_LEVEL; l++) {
    uint8_t pair[64];
    memcpy(pair, zero_comms[l - 1], 32);
    memcpy(pair + 32, zero_comms[l - 1], 32);
    st_hasher_sha254.hash(pair, 2, zero_comms[l]);
  }
}

const uint8_t *st_zero_comm(unsigned level) {
  pthread_once(&zero_once, fill_zero_comms);
  return level <= ST_COMMP_MAX_LEVEL ? zero_comms[level] : NULL;
}

/* Adds node as the next node of level l, merging up while the level holds a left sibling. */
static void push_at(st_commp_ctx *c, unsigned l, const uint8_t node[32]) {
  uint8_t cur[64];
  memcpy(cur + 32, node, 32);
  while (l < ST_COMMP_MAX_LEVEL && (c->present >> l) & 1) {
    memcpy(cur, c->stack[l], 32);
    c->present &= ~(1ULL << l);
    st_hasher_sha254.hash(cur, 2, cur + 32);
    l++;
  }
  memcpy(c->stack[l], cur + 32, 32);
  c->present |= 1ULL << l;
}

void st_commp_push_leaves(st_commp_ctx *c, const uint8_t *leaves, size_t n) {
  for (size_t i = 0; i < n; i++) push_at(c, 0, leaves + i * 32);
  c->leaves += n;
}

static st_code emit_block(void *arg, const uint8_t block[ST_FR32_PADDED], st_err *err) {
  (void)err;
  st_commp_push_leaves(arg, block, ST_FR32_PADDED / 32);
  return ST_OK;
}

void st_commp_init(st_commp_ctx *c) {
  memset(c, 0, sizeof *c);
  st_fr32_padder_init(&c->pad, emit_block, c);
}

st_code st_commp_write(st_commp_ctx *c, const void *data, size_t len, st_err *err) {
  return st_fr32_padder_write(&c->pad, data, len, err);
}

/* Returns rc, zeroing the outs (each where given) when rc is a failure. */
static st_code done(st_code rc, uint8_t comm[32], uint64_t *padded_size, uint64_t *payload_size) {
  if (!rc) return rc;
  memset(comm, 0, 32);
  if (padded_size) *padded_size = 0;
  if (payload_size) *payload_size = 0;
  return rc;
}

static st_code commp_final(st_commp_ctx *c, uint8_t comm[32], uint64_t *padded_size, uint64_t *payload_size,
                           st_err *err) {
  st_code rc = st_fr32_padder_finish(&c->pad, err);
  if (rc) return rc;
  unsigned target = 2; /* 4 leaves = 128 bytes, the smallest piece */
  while ((1ULL << target) < c->leaves) target++;
  if (target > ST_COMMP_MAX_LEVEL)
    return st_err_set(err, ST_ERANGE, "piece of %llu leaves is larger than 32 TiB", (unsigned long long)c->leaves);
  /* Every pending left node below the target gets an all-zero right sibling. */
  for (unsigned l = 0; l < target; l++) {
    if (!((c->present >> l) & 1)) continue;
    uint8_t pair[64];
    memcpy(pair, c->stack[l], 32);
    memcpy(pair + 32, st_zero_comm(l), 32);
    c->present &= ~(1ULL << l);
    uint8_t parent[32];
    st_hasher_sha254.hash(pair, 2, parent);
    push_at(c, l + 1, parent);
  }
  memcpy(comm, (c->present >> target) & 1 ? c->stack[target] : st_zero_comm(target), 32);
  if (padded_size) *padded_size = 32ULL << target;
  if (payload_size) *payload_size = c->pad.raw_total;
  return ST_OK;
}

st_code st_commp_final(st_commp_ctx *c, uint8_t comm[32], uint64_t *padded_size, uint64_t *payload_size, st_err *err) {
  return done(commp_final(c, comm, padded_size, payload_size, err), comm, padded_size, payload_size);
}

st_code st_commp_of(const void *data, size_t len, uint8_t comm[32], uint64_t *padded_size, st_err *err) {
  st_commp_ctx c;
  st_commp_init(&c);
  st_code rc = st_commp_write(&c, data, len, err);
  return rc ? done(rc, comm, padded_size, NULL) : st_commp_final(&c, comm, padded_size, NULL, err);
}

st_code st_commp_of_file(const char *path, uint8_t comm[32], uint64_t *padded_size, uint64_t *payload_size,
                         st_err *err) {
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!f) return done(st_fs_os_error(err, "read from", path, errno), comm, padded_size, payload_size);
  st_commp_ctx c;
  st_commp_init(&c);
  static const size_t CHUNK = 1 << 20;
  uint8_t *buf = malloc(CHUNK);
  st_code rc = buf ? ST_OK : st_err_set(err, ST_ENOMEM, "out of memory");
  while (!rc) {
    size_t got = fread(buf, 1, CHUNK, f);
    if (got) rc = st_commp_write(&c, buf, got, err);
    if (got < CHUNK) {
      if (ferror(f)) rc = st_fs_os_error(err, "read from", path, errno ? errno : EIO);
      break;
    }
  }
  free(buf);
  if (f != stdin) fclose(f);
  return rc ? done(rc, comm, padded_size, payload_size) : st_commp_final(&c, comm, padded_size, payload_size, err);
}

/* ---- pieces in a sector ---- */

static unsigned level_of(uint64_t size) {
  unsigned l = 0;
  while ((32ULL << l) < size) l++;
  return l;
}

static bool pow2_at_least(uint64_t v, uint64_t min) { return v >= min && !(v & (v - 1)); }

/* Each piece's offset: aligned to its size, in order. */
static st_code layout(uint64_t sector_size, const uint64_t *sizes, size_t stride, size_t n, uint64_t *offsets,
                      st_err *err) {
  if (!pow2_at_least(sector_size, 128))
    return st_err_set(err, ST_EINVAL, "sector size %llu is not a power of two of at least 128",
                      (unsigned long long)sector_size);
  uint64_t off = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t size = *(const uint64_t *)(const void *)((const char *)sizes + i * stride);
    if (!pow2_at_least(size, 128))
      return st_err_set(err, ST_EINVAL, "piece %zu: size %llu is not a power of two of at least 128 bytes", i,
                        (unsigned long long)size);
    off = (off + size - 1) / size * size;
    offsets[i] = off;
    off += size;
    if (off > sector_size)
      return st_err_set(err, ST_ERANGE, "pieces 0..%zu need %llu padded bytes, more than the %llu-byte sector", i,
                        (unsigned long long)off, (unsigned long long)sector_size);
  }
  return ST_OK;
}

/* The root of the padded bytes [lo, lo + size) of the sector (pieces sorted by offset). */
static void subtree_root(uint64_t lo, uint64_t size, const st_piece *pieces, const uint64_t *offsets, size_t n,
                         uint8_t out[32]) {
  size_t i = 0;
  while (i < n && offsets[i] + pieces[i].size <= lo) i++;
  if (i == n || offsets[i] >= lo + size) {
    memcpy(out, st_zero_comm(level_of(size)), 32);
    return;
  }
  if (offsets[i] == lo && pieces[i].size == size) {
    memcpy(out, pieces[i].comm_p, 32);
    return;
  }
  uint8_t pair[64];
  subtree_root(lo, size / 2, pieces, offsets, n, pair);
  subtree_root(lo + size / 2, size / 2, pieces, offsets, n, pair + 32);
  st_hasher_sha254.hash(pair, 2, out);
}

st_code st_commd_of_pieces(uint64_t sector_size, const st_piece *pieces, size_t n, uint8_t comm_d[32],
                           uint64_t *offsets, st_err *err) {
  memset(comm_d, 0, 32);
  uint64_t *off = offsets ? offsets : (n ? malloc(n * sizeof *off) : NULL);
  if (n && !off) return st_err_set(err, ST_ENOMEM, "out of memory");
  st_code code = layout(sector_size, n ? &pieces[0].size : NULL, sizeof *pieces, n, off, err);
  if (!code) subtree_root(0, sector_size, pieces, off, n, comm_d);
  else if (offsets && n) memset(offsets, 0, n * sizeof *offsets);
  if (off != offsets) free(off);
  return code;
}

typedef struct stage_out {
  int fd;
  const char *path;
  uint64_t at;
  st_commp_ctx tree; /* the piece's root, from the blocks as they are written */
} stage_out;

static st_code stage_block(void *arg, const uint8_t block[ST_FR32_PADDED], st_err *err) {
  stage_out *o = arg;
  st_code code = st_fs_pwrite_all(o->fd, block, ST_FR32_PADDED, o->at, o->path, err);
  o->at += ST_FR32_PADDED;
  st_commp_push_leaves(&o->tree, block, ST_FR32_PADDED / 32);
  return code;
}

/* Fr32-pads one piece file into the staged file at offset; out gets its comm_p at pf->size. */
static st_code stage_piece(const st_piece_file *pf, int fd, const char *tmp, uint64_t offset, uint8_t *buf,
                           size_t chunk, st_piece *out, st_err *err) {
  FILE *f = fopen(pf->path, "rb");
  if (!f) return st_fs_os_error(err, "read from", pf->path, errno);
  stage_out o = {.fd = fd, .path = tmp, .at = offset};
  st_commp_init(&o.tree);
  st_fr32_padder pad;
  st_fr32_padder_init(&pad, stage_block, &o);
  uint64_t cap = pf->size / ST_FR32_PADDED * ST_FR32_RAW;
  st_code code = ST_OK;
  while (!code) {
    size_t got = fread(buf, 1, chunk, f);
    if (pad.raw_total + got > cap)
      code = st_err_set(err, ST_ERANGE, "path=\"%s\" holds more than the %llu bytes a %llu-byte piece takes", pf->path,
                        (unsigned long long)cap, (unsigned long long)pf->size);
    if (!code && got) code = st_fr32_padder_write(&pad, buf, got, err);
    if (!code && got < chunk) {
      if (ferror(f)) code = st_fs_os_error(err, "read from", pf->path, errno ? errno : EIO);
      break;
    }
  }
  fclose(f);
  if (!code) code = st_fr32_padder_finish(&pad, err);
  uint64_t padded;
  if (!code) code = st_commp_final(&o.tree, out->comm_p, &padded, NULL, err);
  /* a short file in a larger piece: its root with zero subtrees beside it */
  for (; !code && padded < pf->size; padded *= 2) {
    uint8_t pair[64];
    memcpy(pair, out->comm_p, 32);
    memcpy(pair + 32, st_zero_comm(level_of(padded)), 32);
    st_hasher_sha254.hash(pair, 2, out->comm_p);
  }
  out->size = pf->size;
  return code;
}

st_code st_stage_sector(const char *out_path, uint64_t sector_size, const st_piece_file *pieces, size_t n,
                        uint8_t comm_d[32], st_err *err) {
  uint64_t *off = n ? malloc(n * sizeof *off) : NULL;
  st_piece *roots = n ? malloc(n * sizeof *roots) : NULL;
  static const size_t CHUNK = 1 << 20;
  uint8_t *buf = malloc(CHUNK);
  st_code code = (n && (!off || !roots)) || !buf ? st_err_set(err, ST_ENOMEM, "out of memory") : ST_OK;
  if (!code) code = layout(sector_size, n ? &pieces[0].size : NULL, sizeof *pieces, n, off, err);
  st_fs_tmpfile t;
  bool open_ = false;
  if (!code) {
    code = st_fs_tmpfile_open(&t, out_path, 0644, err);
    open_ = !code;
  }
  if (!code && ftruncate(t.fd, (off_t)sector_size))
    code = st_fs_os_error(err, "write to", t.tmp, errno); /* zeros, sparse */
  for (size_t i = 0; i < n && !code; i++)
    code = stage_piece(&pieces[i], t.fd, t.tmp, off[i], buf, CHUNK, &roots[i], err);
  /* comm_d from the roots of the blocks written; the zeros between them are not hashed */
  if (!code) code = st_commd_of_pieces(sector_size, roots, n, comm_d, NULL, err);
  if (!code) {
    code = st_fs_tmpfile_commit(&t, err);
    open_ = false;
  }
  if (open_) st_fs_tmpfile_abort(&t);
  free(off);
  free(roots);
  free(buf);
  if (code) memset(comm_d, 0, 32);
  return code;
}
