/* st_commp: an incremental binary Merkle stack over Fr32-padded leaves. */
#include "proofs/st_commp.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

st_code st_commp_final(st_commp_ctx *c, uint8_t comm[32], uint64_t *padded_size, uint64_t *payload_size, st_err *err) {
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

st_code st_commp_of(const void *data, size_t len, uint8_t comm[32], uint64_t *padded_size, st_err *err) {
  st_commp_ctx c;
  st_commp_init(&c);
  st_code rc = st_commp_write(&c, data, len, err);
  return rc ? rc : st_commp_final(&c, comm, padded_size, NULL, err);
}

st_code st_commp_of_file(const char *path, uint8_t comm[32], uint64_t *padded_size, uint64_t *payload_size, st_err *err) {
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!f) return st_fs_os_error(err, "read from", path, errno);
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
  return rc ? rc : st_commp_final(&c, comm, padded_size, payload_size, err);
}
