/* st_wdpost: one deadline's WindowPoSt, the poster's main job (the seed's section 1), over the
 * daemon's API. Proving and submitting are two steps, because the poster proves as soon as the
 * challenge is final (Challenge + confidence) and may submit only once the deadline is open
 * (Open + confidence):
 *
 *   st_wdpost_prove   loads the deadline's partitions, draws the challenge randomness, resolves
 *                     each sector's files, proves every partition (a sector that cannot be read
 *                     in time is skipped and logged, the rest is still proven) and encodes the
 *                     SubmitWindowedPoSt params, at most max_partitions per message;
 *   st_wdpost_submit  checks that the chain still has the same randomness at Challenge (a
 *                     revert below it means proving again) and that Close has not passed, then
 *                     sends each message from the worker with the fee cap.
 *
 * Log lines are the seed's (subsystem storageminer): "running windowPost" {chain-random,
 * deadline, height, skipped}, "generating windowPost" {sectors}, "submitting window PoSt"
 * {elapsed: the proof's computation}, and per unreadable sector the ERROR line "when running
 * wdpost for partition N, got err could not read from path=...". Each message sent logs "window
 * PoSt submitted" {deadline, partitions, cid, prove, vanilla, submit[, machine]}: seconds spent
 * proving in all, of which computing proofs, and sending (bench/poster.sh reads them), and the
 * cluster's process that sent it.
 *
 * st_wdpost_recover declares recoveries: the faulty sectors of a deadline that can be read
 * again, declared before its FaultCutoff; st_wdpost_declare_faults declares faulty the live
 * sectors that cannot be read, as Lotus's checkNextFaults, so that WinningPoSt and the next
 * proofs leave them out, logging Lotus's WARN "CheckProvable Sector FAULT: generating vanilla
 * proof" {sector, err} for each (the poster runs both for the deadline two ahead). */
#ifndef ST_WDPOST_H
#define ST_WDPOST_H

#include <gmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/st_deadline.h"
#include "codec/st_address.h"
#include "codec/st_bitfield.h"
#include "core/st_buf.h"
#include "core/st_err.h"
#include "miner/st_blockprod.h"
#include "proofs/st_post.h"
#include "rpc/st_rpc_client.h"

typedef struct st_wdpost_cfg {
  st_rpc_client *node;
  uint64_t miner;
  st_address sender; /* the worker's key address: it sends and pays */
  const st_sector_info *info;
  st_sector_locate_fn locate;
  void *locate_ctx;
  st_post_options post;  /* sectors read at once, per-sector timeout */
  size_t max_partitions; /* per message; 0 or above ST_POSTED_PARTITIONS_MAX: the maximum */
  mpz_srcptr max_fee;    /* per message (NULL: no cap) */
  int64_t machine;       /* this process in the cluster, named in "window PoSt submitted" (0: none) */
} st_wdpost_cfg;

typedef struct st_wdpost_msg {
  st_buf params;
  size_t partitions;
  uint64_t index[ST_POSTED_PARTITIONS_MAX]; /* the partitions it proves, by index in the deadline */
} st_wdpost_msg;

typedef struct st_wdpost_batch {
  st_deadline_info di;
  uint8_t rand[32]; /* the randomness drawn at Challenge, as the chain gave it */
  st_wdpost_msg *msgs;
  size_t nmsgs;
  size_t partitions, sectors, skipped; /* sectors: proven ones */
  double prove_secs;                   /* st_wdpost_prove's whole time: chain reads, locating, proofs, encoding */
  double vanilla_secs;                 /* of which computing the proofs (st_window_post_prove) */
} st_wdpost_batch;
void st_wdpost_batch_init(st_wdpost_batch *b);
void st_wdpost_batch_free(st_wdpost_batch *b);

/* Proves deadline di (its Index and Challenge) at head height, leaving out the partitions in
 * skip (NULL: none; the poster passes those already proven this period). A deadline with
 * nothing to prove gives an empty batch. out must be initialised (st_wdpost_batch_init) and may
 * hold an earlier batch, which is replaced; on failure it is empty. */
st_code st_wdpost_prove(const st_wdpost_cfg *cfg, const st_deadline_info *di, int64_t height, const st_bitfield *skip,
                        st_wdpost_batch *out, st_err *err);

/* Sends the batch at head height; cids gets one CID per message (b->nmsgs of them, all zeroed
 * on failure, though messages sent before it stay sent). ST_ECONFLICT if the randomness at
 * Challenge changed; ST_ERANGE if the next block (height + 1, the earliest a message lands) is
 * at or past Close. */
st_code st_wdpost_submit(const st_wdpost_cfg *cfg, const st_wdpost_batch *b, int64_t height, st_cid *cids, st_err *err);

/* Declares recovered every faulty, not yet recovering sector of deadline di whose files prove
 * again; *declared gets how many (0: no message, and *cid zeroed, as on failure). ST_ERANGE if
 * di's FaultCutoff has passed. */
st_code st_wdpost_recover(const st_wdpost_cfg *cfg, const st_deadline_info *di, int64_t height, uint64_t *declared,
                          st_cid *cid, st_err *err);

/* Declares faulty every live, not yet faulty sector of deadline di whose files do not prove
 * (the quick check of st_wdpost_recover); *declared and *cid as there. */
st_code st_wdpost_declare_faults(const st_wdpost_cfg *cfg, const st_deadline_info *di, int64_t height,
                                 uint64_t *declared, st_cid *cid, st_err *err);

/* `proving check`: every live sector of a deadline, as the poster would find it (Lotus's
 * CheckProvable). Quick: st_post_check_sector on each sector's files. Slow: a WindowPoSt over
 * each partition with fresh random challenges, with the poster's parallelism and per-sector
 * timeout, then verified. A sector whose files cannot be located, read or proven is bad with
 * the reason. *out (free it) is in deadline order: partition, then sector. */
typedef struct st_wdpost_check {
  uint64_t partition, sector;
  bool good;
  char error[ST_ERR_MSG_MAX];
  st_sector_paths paths; /* where it was looked for ("" when it could not be located) */
} st_wdpost_check;
st_code st_wdpost_check_deadline(const st_wdpost_cfg *cfg, uint64_t deadline, bool slow, st_wdpost_check **out,
                                 size_t *n, st_err *err);

#endif
