/* st_unseal: the data of a sealed sector back from its replica (retrieval).
 *
 * Sealing wrote replica = data + key in Fr, the key being the last SDR label layer, which
 * depends only on the replica ID (prover, sector, ticket, comm_d). Unsealing regenerates that
 * key in a scratch folder (the label layers are files, as in sealing: memory stays bounded),
 * subtracts it from the sealed file over the asked range, and Fr32-unpads the result. Only the
 * sealed file is read; the cache's layers and trees are not needed. */
#ifndef ST_UNSEAL_H
#define ST_UNSEAL_H

#include <stdint.h>

#include "core/st_err.h"
#include "proofs/st_seal.h"
#include "proofs/st_sector.h"

typedef struct st_unseal_input {
  const st_sector_info *info;
  uint64_t miner, sector;
  uint8_t ticket[32], comm_d[32];   /* as the sealer recorded them */
  const char *root;                 /* the storage root holding sealed/s-t0<miner>-<n> */
  const char *scratch;              /* a folder for the regenerated key; left as it was */
  const st_seal_observer *observer; /* NULL, or told of each layer of the key as it is made */
} st_unseal_input;

/* Writes the raw bytes of the padded range [offset, offset + len) (multiples of 128 within the
 * sector) to fd: len / 128 x 127 bytes. A node that does not unseal to Fr32-padded data means
 * the ticket or comm_d is not the sector's, and is refused naming the node. On failure fd may
 * have been written part of the range (a stream, like an st_buf that is appended to). */
st_code st_unseal_range(const st_unseal_input *in, uint64_t offset, uint64_t len, int fd, st_err *err);

#endif
