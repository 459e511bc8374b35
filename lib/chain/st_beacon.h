/* st_beacon: the daemon's randomness beacon, which stands in for drand (DESIGN.md section 6).
 *
 * The entry for round r is the ECVRF proof (st_vrf, 81 bytes) of the beacon key over
 * "spacetime beacon round " || BE_u64(r). A VRF proof is unique for a key and input, so every
 * round has exactly one valid entry: nobody can choose it, nobody without the key can predict
 * it, and anyone with the public key in the genesis can check it. The daemon that holds the key
 * reveals an entry only once its round has started. Blocks carry the entries for the rounds
 * since their parent, and beacon randomness for a round is drawn from that round's entry. */
#ifndef ST_BEACON_H
#define ST_BEACON_H

#include <stddef.h>
#include <stdint.h>

#include "core/st_err.h"
#include "crypto/st_vrf.h"

#define ST_BEACON_ENTRY_LEN ST_VRF_PROOF_LEN

/* The beacon's entry for round: its ECVRF proof (out zeroed on failure). */
st_code st_beacon_make(const uint8_t sk[32], uint64_t round, uint8_t out[ST_BEACON_ENTRY_LEN], st_err *err);
/* Whether sk is the secret key of the beacon whose public key (65 bytes, as the genesis holds
 * it) is pub: ST_EINVAL when it is another's. */
st_code st_beacon_check_key(const uint8_t sk[32], const uint8_t pub[65], st_err *err);
/* pub: 33 or 65 bytes. ST_ECRYPTO names the round when the entry is not the beacon's. */
st_code st_beacon_verify(const uint8_t *pub, size_t publen, uint64_t round, const uint8_t *data, size_t len,
                         st_err *err);

#endif
