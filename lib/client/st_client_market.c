/* st_client_market: AddBalance, AddVerifier and AddVerifiedClient messages, and their sender. */
#include "client/st_client_market.h"

#include <stdio.h>
#include <string.h>

#include "chain/st_market.h"
#include "chain/st_state.h"
#include "codec/st_cbor.h"
#include "codec/st_token.h"
#include "rpc/st_node_api.h"

st_code st_client_sender(st_rpc_client *node, const char *from, st_address *addr, char text[ST_ADDR_STR_MAX],
                         st_err *err) {
  st_code code = from ? st_address_parse(from, addr, NULL, err) : st_node_wallet_default(node, addr, err);
  if (!code && from) snprintf(text, ST_ADDR_STR_MAX, "%s", from);
  else if (!code) code = st_address_format(addr, 't', text, err);
  if (code) {
    memset(addr, 0, sizeof *addr);
    text[0] = 0;
  }
  return code;
}

/* A message from `from` to actor `to` calling method with params and value. */
static st_code message(const st_address *from, uint64_t to, uint64_t method, const st_buf *params, const mpz_t value,
                       st_message *out, st_err *err) {
  st_message_init(out);
  st_code code = st_buf_status(params, err);
  out->from = *from;
  if (!code) code = st_address_from_id(to, &out->to, err);
  out->method = method;
  mpz_set(out->value, value);
  if (!code) code = st_chain_bytes_set(&out->params, params->data, params->len, err);
  if (code) st_message_free(out), st_message_init(out);
  return code;
}

st_code st_client_add_balance_msg(const st_address *from, const st_address *who, const mpz_t amount, st_message *out,
                                  st_err *err) {
  st_buf p = ST_BUF_INIT;
  st_cbor_put_bytes(&p, who->bytes, who->len);
  st_code code = message(from, ST_ID_MARKET, ST_METHOD_MARKET_ADD_BALANCE, &p, amount, out, err);
  st_buf_free(&p);
  return code;
}

st_code st_client_verifreg_msg(const st_address *from, bool verifier, const st_address *a, uint64_t bytes,
                               st_message *out, st_err *err) {
  mpz_t amount, zero;
  mpz_init_set_ui(amount, bytes);
  mpz_init(zero);
  st_buf p = ST_BUF_INIT;
  st_cbor_put_array(&p, 2);
  st_cbor_put_bytes(&p, a->bytes, a->len);
  st_cbor_put_bigint(&p, amount);
  st_code code =
      message(from, ST_ID_VERIFREG, verifier ? ST_METHOD_VERIFREG_ADD_VERIFIER : ST_METHOD_VERIFREG_ADD_VERIFIED_CLIENT,
              &p, zero, out, err);
  st_buf_free(&p);
  mpz_clears(amount, zero, NULL);
  return code;
}
