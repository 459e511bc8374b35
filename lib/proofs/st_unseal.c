/* st_unseal: replica - key, Fr32-unpadded, over a range of the sector. */
#include "proofs/st_unseal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/st_fs.h"
#include "proofs/st_fr.h"
#include "proofs/st_fr32.h"
#include "proofs/st_seal.h"

#define CHUNK (1u << 20) /* padded bytes per read, a multiple of 128 */

static void remove_scratch(const st_unseal_input *in, const char *key_path) {
  unlink(key_path);
  st_sector_paths p;
  if (!st_sector_paths_make(in->scratch, in->miner, in->sector, &p, NULL)) rmdir(p.cache);
  char dir[ST_PATH_MAX];
  snprintf(dir, sizeof dir, "%.4000s/cache", in->scratch);
  rmdir(dir); /* only if empty */
}

st_code st_unseal_range(const st_unseal_input *in, uint64_t offset, uint64_t len, int fd, st_err *err) {
  uint64_t size = in->info->size;
  if (offset % ST_FR32_PADDED || len % ST_FR32_PADDED || offset > size || len > size - offset)
    return st_err_set(err, ST_EINVAL,
                      "unseal: range [%llu, +%llu) is not whole 128-byte blocks within the %llu-byte sector",
                      (unsigned long long)offset, (unsigned long long)len, (unsigned long long)size);
  if (!st_fr_is_valid(in->comm_d)) return st_err_set(err, ST_EINVAL, "unseal: comm_d is not a field element");
  st_sector_paths p;
  st_code rc = st_sector_paths_make(in->root, in->miner, in->sector, &p, err);
  if (rc) return rc;
  int sealed = open(p.sealed, O_RDONLY | O_CLOEXEC);
  if (sealed < 0) return st_fs_os_error(err, "read from", p.sealed, errno);
  struct stat st;
  if (fstat(sealed, &st) || (uint64_t)st.st_size != size) {
    close(sealed);
    return st_err_set(err, ST_EINVAL, "unseal: path=\"%s\" is not a sealed %s sector (%lld bytes)", p.sealed,
                      in->info->name, (long long)st.st_size);
  }
  st_seal_input si = {
      .info = in->info, .miner = in->miner, .sector = in->sector, .root = in->scratch, .observer = in->observer};
  memcpy(si.ticket, in->ticket, 32);
  char key_path[ST_PATH_MAX] = "";
  rc = st_seal_key(&si, in->comm_d, key_path, err);
  int key = rc ? -1 : open(key_path, O_RDONLY | O_CLOEXEC);
  if (!rc && key < 0) rc = st_fs_os_error(err, "read from", key_path, errno);
  uint8_t *rep = malloc(CHUNK), *k = malloc(CHUNK), raw[ST_FR32_RAW];
  if (!rc && (!rep || !k)) rc = st_err_set(err, ST_ENOMEM, "out of memory");
  for (uint64_t at = offset; !rc && at < offset + len; at += CHUNK) {
    size_t n = offset + len - at < CHUNK ? (size_t)(offset + len - at) : CHUNK;
    rc = st_fs_pread_all(sealed, rep, n, at, p.sealed, err);
    if (!rc) rc = st_fs_pread_all(key, k, n, at, key_path, err);
    for (size_t i = 0; !rc && i < n; i += 32) {
      st_fr_sub(rep + i, rep + i, k + i);
      if (rep[i + 31] & 0xc0)
        rc = st_err_set(
            err, ST_EINVAL,
            "unsealed node %llu of s-t0%llu-%llu is not Fr32-padded data: the ticket or comm_d is not this sector's",
            (unsigned long long)((at + i) / 32), (unsigned long long)in->miner, (unsigned long long)in->sector);
    }
    for (size_t b = 0; !rc && b < n; b += ST_FR32_PADDED) {
      rc = st_fr32_unpad_block(rep + b, raw, err);
      for (size_t w = 0; !rc && w < sizeof raw;) {
        ssize_t put = write(fd, raw + w, sizeof raw - w);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) rc = st_err_set(err, ST_EIO, "unseal: writing the output: %s", strerror(put < 0 ? errno : EIO));
        else w += (size_t)put;
      }
    }
  }
  free(rep);
  free(k);
  if (key >= 0) close(key);
  close(sealed);
  if (key_path[0]) remove_scratch(in, key_path);
  return rc;
}
