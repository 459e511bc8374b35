/* st_deal: storage deal proposals as Filecoin encodes them, shared by the market actor, the
 * miner that publishes them and the client that signs them.
 *
 * market.DealProposal, CBOR array of 11 (go-state-types builtin/v9/market):
 *   [PieceCID, PieceSize, VerifiedDeal, Client, Provider, Label, StartEpoch, EndEpoch,
 *    StoragePricePerEpoch, ProviderCollateral, ClientCollateral]
 * market.ClientDealProposal: [Proposal, ClientSignature]; the client signs the proposal's CBOR
 * bytes. Label is a text string here (Filecoin's DealLabel also allows bytes).
 * The proposal CID is dag-cbor + blake2b-256 of those bytes, as Lotus names deals. */
#ifndef ST_DEAL_H
#define ST_DEAL_H

#include <gmp.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "chain/st_chain_types.h"
#include "codec/st_address.h"
#include "codec/st_cbor.h"
#include "codec/st_cid.h"
#include "core/st_buf.h"
#include "core/st_err.h"

#define ST_DEAL_LABEL_MAX 256 /* bytes of Label, as Filecoin's DealMaxLabelSize */

typedef struct st_deal_proposal {
  st_cid piece_cid;    /* fil-commitment-unsealed (baga6ea4sea...) */
  uint64_t piece_size; /* padded, a power of two >= 128 */
  bool verified;
  st_address client, provider;
  char label[ST_DEAL_LABEL_MAX + 1];
  int64_t start_epoch, end_epoch;
  mpz_t price_per_epoch, provider_collateral, client_collateral;
} st_deal_proposal;

void st_deal_proposal_init(st_deal_proposal *p);
void st_deal_proposal_clear(st_deal_proposal *p);
void st_deal_proposal_copy(st_deal_proposal *dst, const st_deal_proposal *src);

void st_deal_proposal_encode(const st_deal_proposal *p, st_buf *out);
/* Reads one proposal (errors go to r->err, naming the field). */
st_code st_deal_proposal_read(st_cbor_reader *r, st_deal_proposal *p);
/* The proposal's CID. ST_ENOMEM if it could not be encoded; out is the zero CID then. */
st_code st_deal_proposal_cid(const st_deal_proposal *p, st_cid *out, st_err *err);

/* price x (end - start): what the client pays over the deal. */
void st_deal_total_price(const st_deal_proposal *p, mpz_t out);
/* What the deal locks of the client's escrow: the total price and its collateral. */
void st_deal_client_lock(const st_deal_proposal *p, mpz_t out);
/* The checks that need no chain state: piece CID kind, piece size, epochs in order, amounts
 * not negative, label length. Errors name the field. */
st_code st_deal_check_shape(const st_deal_proposal *p, st_err *err);

typedef struct st_client_deal {
  st_deal_proposal proposal;
  st_signature signature;
} st_client_deal;
/* Appends [proposal, signature]. ST_EINVAL for a signature st_signature_encode refuses,
 * ST_ENOMEM when out could not grow; out is marked failed then. */
st_code st_client_deal_encode(const st_client_deal *d, st_buf *out, st_err *err);
st_code st_client_deal_read(st_cbor_reader *r, st_client_deal *d);
/* Decodes a whole ClientDealProposal (d must be initialised: st_deal_proposal_init). */
st_code st_client_deal_decode(const uint8_t *p, size_t len, st_client_deal *d, st_err *err);
/* Checks the signature against signer (the client's key address). */
st_code st_client_deal_verify(const st_client_deal *d, const st_address *signer, st_err *err);

/* Lotus's JSON: {"PieceCID": {"/": ...}, "PieceSize": 2048, "VerifiedDeal": true, "Client":
 * "t0100", "Provider": "t01000", "Label": "...", "StartEpoch": ..., "EndEpoch": ...,
 * "StoragePricePerEpoch": "..", "ProviderCollateral": "..", "ClientCollateral": ".."}. */
json_t *st_deal_proposal_to_json(const st_deal_proposal *p);

#endif
