/* st_miner_create: CreateMiner pushed, waited for and its return read. */
#include "miner/st_miner_create.h"

#include <string.h>

#include "chain/st_state.h"
#include "codec/st_cbor.h"
#include "crypto/st_secp.h"
#include "miner/st_miner_msgs.h"
#include "rpc/st_node_api.h"

st_code st_miner_create_push(st_rpc_client *node, const st_address *owner, const st_address *worker,
                             const st_sector_info *info, const mpz_t funds, st_cid *cid, st_err *err) {
  memset(cid, 0, sizeof *cid);
  /* the identity multihash of an ed25519 key: a random libp2p peer ID */
  uint8_t peer[38] = {0x00, 0x24, 0x08, 0x01, 0x12, 0x20};
  st_code code = st_random_bytes(peer + 6, 32, err);
  st_message m;
  st_message_init(&m);
  m.from = *owner;
  st_address_from_id(ST_ID_POWER, &m.to, NULL);
  m.method = ST_METHOD_CREATE_MINER;
  mpz_set(m.value, funds);
  st_buf p = ST_BUF_INIT;
  st_params_create_miner(owner, worker, info->window_proof, peer, sizeof peer, &p);
  if (!code) code = st_chain_bytes_set(&m.params, p.data, p.len, err);
  if (!code) code = st_node_push(node, &m, NULL, cid, err);
  st_message_free(&m);
  st_buf_free(&p);
  return code;
}

st_code st_miner_create_return(const uint8_t *ret, size_t len, uint64_t *miner, st_err *err) {
  *miner = 0;
  if (!len) return st_err_set(err, ST_EINVAL, "CreateMiner returned nothing");
  st_err e;
  st_err_clear(&e);
  st_cbor_reader r;
  st_cbor_reader_init(&r, ret, len, &e);
  const uint8_t *p;
  size_t n;
  st_address a;
  st_code code = st_cbor_expect_array(&r, 2, "CreateMinerReturn");
  if (!code) code = st_cbor_read_bytes(&r, &p, &n);
  if (!code) code = st_address_from_bytes(p, n, &a, &e);
  if (!code && st_address_id(&a, miner, NULL)) code = st_err_set(&e, ST_EINVAL, "CreateMiner returned no ID address");
  if (code && !e.msg[0]) st_err_set(&e, code, "CreateMiner's return is not [IDAddress, RobustAddress]");
  if (code) {
    *miner = 0;
    return st_err_set(err, code, "%s", e.msg);
  }
  return ST_OK;
}

st_code st_miner_create_wait(st_rpc_client *node, const st_cid *cid, uint64_t *miner, st_err *err) {
  *miner = 0;
  st_node_lookup l;
  st_code code = st_node_wait_msg(node, cid, 1, &l, err);
  if (!code && l.exit_code)
    code = st_err_set(err, ST_EINVAL, "CreateMiner failed on chain with exit code %lld", (long long)l.exit_code);
  if (!code) code = st_miner_create_return(l.ret, l.ret_len, miner, err);
  return code;
}
