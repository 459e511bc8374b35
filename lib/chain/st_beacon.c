/* st_beacon: beacon entries as ECVRF proofs over the round number. */
#include "chain/st_beacon.h"

#include <string.h>

#include "core/st_endian.h"
#include "crypto/st_secp.h"

#define PREFIX "spacetime beacon round "

static size_t alpha_of(uint64_t round, uint8_t out[sizeof PREFIX - 1 + 8]) {
  memcpy(out, PREFIX, sizeof PREFIX - 1);
  st_be64_put(out + sizeof PREFIX - 1, round);
  return sizeof PREFIX - 1 + 8;
}

st_code st_beacon_make(const uint8_t sk[32], uint64_t round, uint8_t out[ST_BEACON_ENTRY_LEN], st_err *err) {
  uint8_t alpha[sizeof PREFIX - 1 + 8], beta[ST_VRF_OUTPUT_LEN];
  size_t n = alpha_of(round, alpha);
  st_code code = st_vrf_prove(sk, alpha, n, out, beta, err);
  if (code) memset(out, 0, ST_BEACON_ENTRY_LEN);
  return code;
}

st_code st_beacon_verify(const uint8_t *pub, size_t publen, uint64_t round, const uint8_t *data, size_t len,
                         st_err *err) {
  if (len != ST_BEACON_ENTRY_LEN)
    return st_err_set(err, ST_EINVAL, "beacon entry for round %llu is %zu bytes, not %d", (unsigned long long)round,
                      len, ST_BEACON_ENTRY_LEN);
  uint8_t alpha[sizeof PREFIX - 1 + 8];
  size_t n = alpha_of(round, alpha);
  if (st_vrf_verify(pub, publen, alpha, n, data, NULL, NULL))
    return st_err_set(err, ST_ECRYPTO, "beacon entry for round %llu is not the beacon's", (unsigned long long)round);
  return ST_OK;
}

st_code st_beacon_check_key(const uint8_t sk[32], const uint8_t pub[65], st_err *err) {
  uint8_t mine[ST_SECP_PUBKEY_LEN];
  st_code code = st_secp_pubkey(sk, mine, err);
  if (!code && memcmp(mine, pub, sizeof mine))
    code = st_err_set(err, ST_EINVAL, "the key's public key is not this chain's beacon (the genesis's \"beacon\")");
  return code;
}
