/* st_parent_cache: making, checking and mapping rust-fil-proofs' SDR parent cache file. */
#include "proofs/st_parent_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/st_clock.h"
#include "core/st_encoding.h"
#include "core/st_endian.h"
#include "core/st_fs.h"
#include "core/st_log.h"
#include "core/st_par.h"
#include "crypto/st_hash.h"

/* rust-fil-proofs storage-proofs-porep/parent_cache.json (commit 87348a749d80447d00c595af834a8ed73c09e4d9):
 * file name stem -> SHA-256 of the file. */
static const struct {
  const char *name, *digest;
} PUBLISHED[] = {
    {"v28-sdr-parent-3f0eef38bb48af1f48ad65e14eb85b4ebfc167cec18cd81764f6d998836c9899", /* 2KiB V1 */
     "3da49221e2ed55371b86d0bf3d6526fcf128af61bed904f966428db1b531750d"},
    {"v28-sdr-parent-494d91dc80f2df5272c4b9e129bc7ade9405225993af9fe34e6542a39a47554b", /* 2KiB V1_1 */
     "840057702eea7652cf97e04306c30fe57174714d90de156a25eddd6075c25b97"},
    {"v28-sdr-parent-dcdabb0fbe4364bf0ac28b6a18c66de246409fa1a9020a00f33fb3e3053da6dc", /* 8MiB V1 */
     "a76604f2f59f2744c7151653bbb1d8596b6b57d295e6fa6c1f0c41d725b502ce"},
    {"v28-sdr-parent-5eed212119fd91aa6220a27f31a8966444a9381842bceb3a1ea61525bd47a5b5", /* 8MiB V1_1 */
     "03cd13565ded97c240a5f52e54295ad127bd0461b57904cb3a4d79b097bbecab"},
    {"v28-sdr-parent-2aa9c77c3e58259481351cc4be2079cc71e1c9af39700866545c043bfa30fb42", /* 512MiB V1 */
     "3adcc092423aa76d6a7184016893406da44dd974b219a89cd3ece25e4e3018f5"},
    {"v28-sdr-parent-7ba215a1d2345774ab90b8cb1158d296e409d6068819d7b8c7baf0b25d63dc34", /* 512MiB V1_1 */
     "b5877d1963793efebc261fd8fde4dd6bc59e6b5c7abf52617a4ee023b8dc173a"},
    {"v28-sdr-parent-e1fa5d5b811ddbd118be3412c4a8c329156b8b8acc72632bca459455b5a05a13", /* 32GiB V1 */
     "3c4f9841fcc75aed8c695800e58d08480629f25af3a2aefd81904181d75cc0b6"},
    {"v28-sdr-parent-21981246c370f9d76c7a77ab273d94bde0ceb4e938292334960bce05585dc117", /* 32GiB V1_1 */
     "93deeac5e3052b6927467d4b2641bb782f05491de18d510147c93eeedd8672da"},
    {"v28-sdr-parent-8a99e8d6b6be7ab87a56b632e6739ff201c23ea14e99737c74690f0e265574d6", /* 64GiB V1 */
     "2778a732ad46a7dc18e0564dfdf59fd321dcde74ab476fd6d3c4e6735d7cd89c"},
    {"v28-sdr-parent-4905486b7af19558ac3649bc6261411858b6add534438878c4ee3b29d8b9de0b", /* 64GiB V1_1 */
     "2698b74eb2606b55b98d8b095e18b6320b47f46e00075956d48640ccd1641b03"},
};

#define CHUNK_NODES (64 * 1024) /* 3.5 MiB of entries made at a time */
#define HASH_STEP (4u << 20)

const char *st_parent_cache_dir(void) {
  const char *d = getenv("FIL_PROOFS_PARENT_CACHE");
  return d && *d ? d : "/var/tmp/filecoin-parents";
}

/* The API version rust-fil-proofs pairs with porep_id: its seal proof's (st_graph). */
static st_api_version implied_api(const uint8_t porep_id[32]) {
  for (int i = 8; i < 32; i++)
    if (porep_id[i]) return ST_API_V1_1_0;
  uint64_t proof = st_le64_get(porep_id);
  return st_api_version_of_seal_proof(proof <= INT_MAX ? (int)proof : -1);
}

void st_parent_cache_name(const st_graph *g, char out[ST_PARENT_CACHE_NAME_MAX]) {
  char id[256];
  int n = snprintf(id, sizeof id,
                   "poseidon_hasher" /* H::name() */
                   "stacked_graph::StackedGraph{expansion_degree: %d base_graph: "
                   "drgraph::BucketGraph{size: %llu; degree: %d; hasher: poseidon_hasher} }",
                   ST_EXP_DEGREE, (unsigned long long)g->nodes, ST_DRG_DEGREE);
  uint8_t buf[sizeof id + 36], h[32];
  memcpy(buf, id, (size_t)n);
  for (int i = 0; i < 4; i++) st_le64_put(buf + n + 8 * i, g->feistel_keys[i]);
  st_le32_put(buf + n + 32, (uint32_t)g->nodes);
  st_sha256(buf, (size_t)n + 36, h);
  char hex[65];
  st_hex_encode(h, 32, hex);
  if (g->api == implied_api(g->porep_id)) snprintf(out, ST_PARENT_CACHE_NAME_MAX, "v28-sdr-parent-%s.cache", hex);
  else snprintf(out, ST_PARENT_CACHE_NAME_MAX, "v28-sdr-parent-%s-%s.cache", hex, st_api_version_name(g->api));
}

const char *st_parent_cache_published(const char *name) {
  size_t n = strlen(name);
  if (n > 6 && !strcmp(name + n - 6, ".cache")) n -= 6;
  for (size_t i = 0; i < sizeof PUBLISHED / sizeof PUBLISHED[0]; i++)
    if (strlen(PUBLISHED[i].name) == n && !memcmp(PUBLISHED[i].name, name, n)) return PUBLISHED[i].digest;
  return NULL;
}

/* ---------------------------------------------------------------- making the file */

typedef struct chunk {
  const st_graph *g;
  uint64_t first;
  uint8_t *out;
} chunk;

/* Entries of nodes first+lo..first+hi (st_par_for's ranges). */
static void make_range(void *arg, size_t lo, size_t hi) {
  const chunk *c = arg;
  uint32_t p[ST_PARENTS];
  for (size_t i = lo; i < hi; i++) {
    st_graph_parents(c->g, c->first + i, p);
    uint8_t *e = c->out + i * ST_PARENT_CACHE_ENTRY;
    for (int k = 0; k < ST_PARENTS; k++) st_le32_put(e + 4 * k, p[k]);
  }
}

/* Making a large cache takes minutes (32 GiB: 56 GiB of entries): its progress is logged at each
 * tenth, with the time left at the pace so far. Caches under 8 MiB (2 KiB sectors) are made
 * without a word. */
typedef struct progress {
  const char *path;
  uint64_t total, started_ms;
  int shown; /* the last tenth logged */
} progress;

static void show_progress(progress *p, uint64_t done) {
  if (p->total * ST_PARENT_CACHE_ENTRY < (8u << 20)) return;
  int tenth = (int)(done * 10 / p->total);
  if (tenth == p->shown) return;
  p->shown = tenth;
  uint64_t spent = st_clock_ms() - p->started_ms, left = done < p->total ? spent * (p->total - done) / done : 0;
  st_log("proofs", ST_LOG_INFO, "making the parent cache",
         json_pack("{s:s, s:I, s:I, s:I}", "path", p->path, "percent", (json_int_t)(done * 100 / p->total), "spent_s",
                   (json_int_t)(spent / 1000), "left_s", (json_int_t)((left + 500) / 1000)));
}

/* Writes g's cache to path (temporary name, then rename), checking the published digest. */
static st_code make_file(const st_graph *g, const char *path, uint8_t digest[32], st_err *err) {
  const char *slash = strrchr(path, '/');
  const char *published = st_parent_cache_published(slash ? slash + 1 : path);
  uint8_t *buf = malloc((size_t)CHUNK_NODES * ST_PARENT_CACHE_ENTRY);
  if (!buf) return st_err_set(err, ST_ENOMEM, "out of memory making the parent cache \"%s\"", path);
  st_sha256_ctx ctx;
  st_code rc = st_sha256_init(&ctx, err);
  if (rc) {
    free(buf);
    return rc;
  }
  st_fs_tmpfile t;
  rc = st_fs_tmpfile_open(&t, path, 0644, err);
  progress pr = {.path = path, .total = g->nodes, .started_ms = st_clock_ms(), .shown = -1};
  for (uint64_t v = 0; !rc && v < g->nodes; v += CHUNK_NODES) {
    uint64_t n = g->nodes - v < CHUNK_NODES ? g->nodes - v : CHUNK_NODES;
    chunk c = {g, v, buf};
    st_par_for((size_t)n, 0, make_range, &c);
    size_t len = (size_t)n * ST_PARENT_CACHE_ENTRY;
    st_sha256_update(&ctx, buf, len);
    rc = st_fs_pwrite_all(t.fd, buf, len, v * ST_PARENT_CACHE_ENTRY, t.tmp, err);
    if (!rc) show_progress(&pr, v + n);
  }
  free(buf);
  if (!rc) {
    st_sha256_final(&ctx, digest);
    char hex[65];
    st_hex_encode(digest, 32, hex);
    if (published && strcmp(hex, published))
      rc = st_err_set(err, ST_EINTERNAL, "parent cache path=\"%s\": made with SHA-256 %s, but %s is published for it",
                      path, hex, published);
  }
  st_sha256_free(&ctx);
  if (!rc) return st_fs_tmpfile_commit(&t, err);
  st_fs_tmpfile_abort(&t);
  return rc;
}

/* ---------------------------------------------------------------- opening */

static st_code hash_map(const uint8_t *data, size_t len, uint8_t out[32], st_err *err) {
  st_sha256_ctx ctx;
  st_code rc = st_sha256_init(&ctx, err);
  if (rc) return rc;
  for (size_t off = 0; off < len; off += HASH_STEP)
    st_sha256_update(&ctx, data + off, len - off < HASH_STEP ? len - off : HASH_STEP);
  st_sha256_final(&ctx, out);
  st_sha256_free(&ctx);
  return ST_OK;
}

/* Maps path when it has exactly len bytes: ST_OK with *out set, ST_ENOENT when it is missing or
 * of another size (to be made again), another code on an error. */
static st_code map_existing(const char *path, size_t len, const uint8_t **out, st_err *err) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? ST_ENOENT : st_fs_os_error(err, "read from", path, errno);
  struct stat st;
  if (fstat(fd, &st)) {
    int e = errno;
    close(fd);
    return st_fs_os_error(err, "read from", path, e);
  }
  if ((uint64_t)st.st_size != len) {
    close(fd);
    return ST_ENOENT;
  }
  void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
  int e = errno;
  close(fd);
  if (m == MAP_FAILED) return st_fs_os_error(err, "map", path, e);
  *out = m;
  return ST_OK;
}

static bool verify_requested(void) {
  const char *v = getenv("FIL_PROOFS_VERIFY_CACHE");
  return v && (!strcmp(v, "1") || !strcmp(v, "true"));
}

static st_code open_cache(st_parent_cache *pc, const st_graph *g, st_err *err) {
  if (g->nodes < 2 || g->nodes > (1ULL << 31))
    return st_err_set(err, ST_EINVAL, "parent cache: %llu nodes is outside 2..2^31", (unsigned long long)g->nodes);
  const char *dir = st_parent_cache_dir();
  char name[ST_PARENT_CACHE_NAME_MAX];
  st_parent_cache_name(g, name);
  int n = snprintf(pc->path, sizeof pc->path, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= sizeof pc->path)
    return st_err_set(err, ST_ERANGE, "parent cache: path too long in %s", dir);
  pc->nodes = g->nodes;
  pc->len = (size_t)g->nodes * ST_PARENT_CACHE_ENTRY;
  const char *published = st_parent_cache_published(name);
  st_code rc = map_existing(pc->path, pc->len, &pc->data, err);
  if (!rc && published && verify_requested()) {
    char hex[65];
    if ((rc = hash_map(pc->data, pc->len, pc->digest, err))) return rc;
    st_hex_encode(pc->digest, 32, hex);
    if (strcmp(hex, published)) { /* corrupt: make it again, as rust-fil-proofs does */
      munmap((void *)pc->data, pc->len);
      pc->data = NULL;
      rc = ST_ENOENT;
    } else {
      pc->digest_known = true;
    }
  }
  if (rc != ST_ENOENT) return rc;
  if ((rc = st_fs_mkdir_p(dir, 0755, err))) return rc;
  if ((rc = make_file(g, pc->path, pc->digest, err))) return rc;
  pc->made = pc->digest_known = true;
  rc = map_existing(pc->path, pc->len, &pc->data, err);
  if (rc == ST_ENOENT)
    rc = st_err_set(err, ST_EIO, "parent cache path=\"%s\": changed size right after it was made", pc->path);
  return rc;
}

st_code st_parent_cache_open(st_parent_cache *pc, const st_graph *g, st_err *err) {
  memset(pc, 0, sizeof *pc);
  st_code rc = open_cache(pc, g, err);
  if (rc) st_parent_cache_close(pc);
  return rc;
}

void st_parent_cache_release(const st_parent_cache *pc, uint64_t from, uint64_t to) {
  if (!pc->data || to > pc->nodes || from >= to) return;
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t lo = ((uintptr_t)pc->data + from * ST_PARENT_CACHE_ENTRY + page - 1) / page * page;
  uintptr_t hi = ((uintptr_t)pc->data + to * ST_PARENT_CACHE_ENTRY) / page * page;
  if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

void st_parent_cache_close(st_parent_cache *pc) {
  if (pc->data) munmap((void *)pc->data, pc->len);
  memset(pc, 0, sizeof *pc);
}

st_code st_parent_cache_digest(st_parent_cache *pc, uint8_t out[32], st_err *err) {
  memset(out, 0, 32);
  if (!pc->data) return st_err_set(err, ST_EINVAL, "parent cache: not open");
  if (!pc->digest_known) {
    st_code rc = hash_map(pc->data, pc->len, pc->digest, err);
    if (rc) return rc;
    pc->digest_known = true;
  }
  memcpy(out, pc->digest, 32);
  return ST_OK;
}
