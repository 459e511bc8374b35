/* st_deal: deal proposals: CBOR, CID, shape checks, the client's signature and Lotus's JSON. */
#include "chain/st_deal.h"

#include <stdlib.h>
#include <string.h>

#include "codec/st_token.h"
#include "crypto/st_secp.h"

void st_deal_proposal_init(st_deal_proposal *p) {
  memset(p, 0, sizeof *p);
  mpz_inits(p->price_per_epoch, p->provider_collateral, p->client_collateral, NULL);
}

void st_deal_proposal_clear(st_deal_proposal *p) {
  mpz_clears(p->price_per_epoch, p->provider_collateral, p->client_collateral, NULL);
}

void st_deal_proposal_copy(st_deal_proposal *dst, const st_deal_proposal *src) {
  dst->piece_cid = src->piece_cid;
  dst->piece_size = src->piece_size;
  dst->verified = src->verified;
  dst->client = src->client;
  dst->provider = src->provider;
  memcpy(dst->label, src->label, sizeof dst->label);
  dst->start_epoch = src->start_epoch;
  dst->end_epoch = src->end_epoch;
  mpz_set(dst->price_per_epoch, src->price_per_epoch);
  mpz_set(dst->provider_collateral, src->provider_collateral);
  mpz_set(dst->client_collateral, src->client_collateral);
}

void st_deal_proposal_encode(const st_deal_proposal *p, st_buf *out) {
  st_cbor_put_array(out, 11);
  st_cbor_put_cid(out, &p->piece_cid);
  st_cbor_put_uint(out, p->piece_size);
  st_cbor_put_bool(out, p->verified);
  st_cbor_put_bytes(out, p->client.bytes, p->client.len);
  st_cbor_put_bytes(out, p->provider.bytes, p->provider.len);
  st_cbor_put_cstr(out, p->label);
  st_cbor_put_int(out, p->start_epoch);
  st_cbor_put_int(out, p->end_epoch);
  st_cbor_put_bigint(out, p->price_per_epoch);
  st_cbor_put_bigint(out, p->provider_collateral);
  st_cbor_put_bigint(out, p->client_collateral);
}

static st_code field(st_cbor_reader *r, st_code code, const char *name) {
  if (code) st_err_wrap(r->err, code, "DealProposal.%s", name);
  return code;
}

st_code st_deal_proposal_read(st_cbor_reader *r, st_deal_proposal *p) {
  const char *label;
  size_t nlabel = 0;
  st_code code = st_cbor_expect_array(r, 11, "DealProposal");
  if (!code) code = field(r, st_cbor_read_cid(r, &p->piece_cid), "PieceCID");
  if (!code) code = field(r, st_cbor_read_uint(r, &p->piece_size), "PieceSize");
  if (!code) code = field(r, st_cbor_read_bool(r, &p->verified), "VerifiedDeal");
  if (!code) code = field(r, st_address_read(r, &p->client), "Client");
  if (!code) code = field(r, st_address_read(r, &p->provider), "Provider");
  if (!code) code = field(r, st_cbor_read_text(r, &label, &nlabel), "Label");
  if (!code && memchr(label, 0, nlabel)) code = st_err_set(r->err, ST_EINVAL, "DealProposal.Label holds a NUL byte");
  if (!code && nlabel > ST_DEAL_LABEL_MAX)
    code = st_err_set(r->err, ST_EINVAL, "DealProposal.Label: %zu bytes, more than %d", nlabel, ST_DEAL_LABEL_MAX);
  if (!code) {
    memcpy(p->label, label, nlabel);
    p->label[nlabel] = 0;
  }
  if (!code) code = field(r, st_cbor_read_int(r, &p->start_epoch), "StartEpoch");
  if (!code) code = field(r, st_cbor_read_int(r, &p->end_epoch), "EndEpoch");
  if (!code) code = field(r, st_cbor_read_bigint(r, p->price_per_epoch), "StoragePricePerEpoch");
  if (!code) code = field(r, st_cbor_read_bigint(r, p->provider_collateral), "ProviderCollateral");
  if (!code) code = field(r, st_cbor_read_bigint(r, p->client_collateral), "ClientCollateral");
  return code;
}

st_code st_deal_proposal_cid(const st_deal_proposal *p, st_cid *out, st_err *err) {
  st_buf b = ST_BUF_INIT;
  st_deal_proposal_encode(p, &b);
  st_code code = st_buf_status(&b, err);
  if (code) *out = (st_cid){0}; /* not the CID of bytes cut short */
  else st_cid_of_cbor(b.data, b.len, out);
  st_buf_free(&b);
  return code;
}

void st_deal_total_price(const st_deal_proposal *p, mpz_t out) {
  mpz_mul_si(out, p->price_per_epoch, p->end_epoch - p->start_epoch);
}

void st_deal_client_lock(const st_deal_proposal *p, mpz_t out) {
  st_deal_total_price(p, out);
  mpz_add(out, out, p->client_collateral);
}

st_code st_deal_check_shape(const st_deal_proposal *p, st_err *err) {
  if (p->piece_cid.codec != ST_CODEC_FIL_UNSEALED || p->piece_cid.mh_code != ST_MH_SHA2_256_TRUNC254_PADDED ||
      p->piece_cid.digest_len != 32)
    return st_err_set(err, ST_EINVAL,
                      "PieceCID is not a piece commitment (fil-commitment-unsealed, sha2-256-trunc254-padded)");
  if (p->piece_size < 128 || (p->piece_size & (p->piece_size - 1)))
    return st_err_set(err, ST_EINVAL, "PieceSize %llu is not a power of two of at least 128 bytes",
                      (unsigned long long)p->piece_size);
  if (p->start_epoch < 0) return st_err_set(err, ST_EINVAL, "StartEpoch %lld is negative", (long long)p->start_epoch);
  if (p->end_epoch <= p->start_epoch)
    return st_err_set(err, ST_EINVAL, "EndEpoch %lld is not after StartEpoch %lld", (long long)p->end_epoch,
                      (long long)p->start_epoch);
  if (mpz_sgn(p->price_per_epoch) < 0) return st_err_set(err, ST_EINVAL, "StoragePricePerEpoch is negative");
  if (mpz_sgn(p->provider_collateral) < 0) return st_err_set(err, ST_EINVAL, "ProviderCollateral is negative");
  if (mpz_sgn(p->client_collateral) < 0) return st_err_set(err, ST_EINVAL, "ClientCollateral is negative");
  return ST_OK;
}

st_code st_client_deal_encode(const st_client_deal *d, st_buf *out, st_err *err) {
  st_cbor_put_array(out, 2);
  st_deal_proposal_encode(&d->proposal, out);
  st_code code = st_signature_encode(&d->signature, out, err);
  if (code) out->failed = true;
  return code ? code : st_buf_status(out, err);
}

st_code st_client_deal_read(st_cbor_reader *r, st_client_deal *d) {
  st_code code = st_cbor_expect_array(r, 2, "ClientDealProposal");
  if (!code) code = st_deal_proposal_read(r, &d->proposal);
  if (!code && (code = st_signature_read(r, &d->signature)))
    st_err_wrap(r->err, code, "ClientDealProposal.ClientSignature");
  return code;
}

st_code st_client_deal_decode(const uint8_t *p, size_t len, st_client_deal *d, st_err *err) {
  st_cbor_reader r;
  st_cbor_reader_init(&r, p, len, err);
  st_code code = st_client_deal_read(&r, d);
  return code ? code : st_cbor_finish(&r);
}

st_code st_client_deal_verify(const st_client_deal *d, const st_address *signer, st_err *err) {
  if (d->signature.type != ST_SIG_SECP256K1 || d->signature.len != ST_SECP_SIG_LEN)
    return st_err_set(err, ST_EINVAL,
                      "the client's signature is a %s signature of %zu bytes: only secp256k1 is verified here",
                      st_sig_type_name(d->signature.type), d->signature.len);
  st_buf b = ST_BUF_INIT;
  st_deal_proposal_encode(&d->proposal, &b);
  st_code code = st_buf_status(&b, err);
  if (!code) code = st_secp_verify(d->signature.data, b.data, b.len, signer, err);
  st_buf_free(&b);
  if (code) {
    char text[ST_ADDR_STR_MAX];
    st_address_text(signer, text);
    return st_err_wrap(err, code, "the deal proposal is not signed by the client %s", text);
  }
  return ST_OK;
}

static json_t *addr(const st_address *a) {
  char text[ST_ADDR_STR_MAX];
  st_address_text(a, text);
  return json_string(text);
}

json_t *st_deal_proposal_to_json(const st_deal_proposal *p) {
  return json_pack("{so sI sb so so ss sI sI so so so}", "PieceCID", st_chain_json_cid(&p->piece_cid), "PieceSize",
                   (json_int_t)p->piece_size, "VerifiedDeal", p->verified, "Client", addr(&p->client), "Provider",
                   addr(&p->provider), "Label", p->label, "StartEpoch", (json_int_t)p->start_epoch, "EndEpoch",
                   (json_int_t)p->end_epoch, "StoragePricePerEpoch", st_chain_json_bigint(p->price_per_epoch),
                   "ProviderCollateral", st_chain_json_bigint(p->provider_collateral), "ClientCollateral",
                   st_chain_json_bigint(p->client_collateral));
}
