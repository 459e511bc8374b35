/* st_miner_msgs: CBOR encoders for the miner's message parameters. */
#include "miner/st_miner_msgs.h"

#include "codec/st_cbor.h"

void st_params_create_miner(const st_address *owner, const st_address *worker, int64_t window_proof,
                            const uint8_t *peer, size_t peer_len, st_buf *out) {
  st_cbor_put_array(out, 5);
  st_cbor_put_bytes(out, owner->bytes, owner->len);
  st_cbor_put_bytes(out, worker->bytes, worker->len);
  st_cbor_put_int(out, window_proof);
  st_cbor_put_bytes(out, peer, peer_len);
  st_cbor_put_array(out, 0);
}

void st_params_precommit(int64_t seal_proof, uint64_t sector, const uint8_t comm_r[32], int64_t seal_rand_epoch,
                         const uint64_t *deals, size_t ndeals, int64_t expiration, st_buf *out) {
  st_cid sealed;
  st_cid_of_commitment(comm_r, true, &sealed);
  st_cbor_put_array(out, 10);
  st_cbor_put_int(out, seal_proof);
  st_cbor_put_uint(out, sector);
  st_cbor_put_cid(out, &sealed);
  st_cbor_put_int(out, seal_rand_epoch);
  st_cbor_put_array(out, ndeals);
  for (size_t i = 0; i < ndeals; i++) st_cbor_put_uint(out, deals[i]);
  st_cbor_put_int(out, expiration);
  st_cbor_put_bool(out, false);
  for (int i = 0; i < 3; i++) st_cbor_put_uint(out, 0);
}

void st_params_change_multiaddrs(const uint8_t *addr, size_t len, st_buf *out) {
  st_cbor_put_array(out, 1);
  st_cbor_put_array(out, 1);
  st_cbor_put_bytes(out, addr, len);
}

void st_params_prove_commit(uint64_t sector, const uint8_t *proof, size_t len, st_buf *out) {
  st_cbor_put_array(out, 2);
  st_cbor_put_uint(out, sector);
  st_cbor_put_bytes(out, proof, len);
}

/* A bitfield as RLE+ bytes (NULL: the empty set). */
static st_code put_bitfield(st_buf *out, const st_bitfield *bf, st_err *err) {
  if (!bf) {
    st_cbor_put_bytes(out, NULL, 0);
    return ST_OK;
  }
  st_buf b = ST_BUF_INIT;
  st_code code = st_bitfield_encode(bf, &b, err);
  if (!code) st_cbor_put_bytes(out, b.data, b.len);
  st_buf_free(&b);
  return code;
}

st_code st_params_window_post(uint64_t deadline, const st_post_partition *parts, size_t nparts, int64_t post_proof,
                              const uint8_t *proof, size_t len, int64_t commit_epoch, const uint8_t commit_rand[32],
                              st_buf *out, st_err *err) {
  st_cbor_put_array(out, 5);
  st_cbor_put_uint(out, deadline);
  st_cbor_put_array(out, nparts);
  st_code code = ST_OK;
  for (size_t i = 0; i < nparts && !code; i++) {
    st_cbor_put_array(out, 2);
    st_cbor_put_uint(out, parts[i].index);
    code = put_bitfield(out, parts[i].skipped, err);
  }
  st_cbor_put_array(out, 1);
  st_cbor_put_array(out, 2);
  st_cbor_put_int(out, post_proof);
  st_cbor_put_bytes(out, proof, len);
  st_cbor_put_int(out, commit_epoch);
  st_cbor_put_bytes(out, commit_rand, 32);
  return code;
}

st_code st_params_fault_decls(const st_fault_decl *decls, size_t n, st_buf *out, st_err *err) {
  st_cbor_put_array(out, 1);
  st_cbor_put_array(out, n);
  st_code code = ST_OK;
  for (size_t i = 0; i < n && !code; i++) {
    st_cbor_put_array(out, 3);
    st_cbor_put_uint(out, decls[i].deadline);
    st_cbor_put_uint(out, decls[i].partition);
    code = put_bitfield(out, decls[i].sectors, err);
  }
  return code;
}
