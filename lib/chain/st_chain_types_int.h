/* st_chain_types_int: what the parts of st_chain_types share; not for other modules. The
 * parts: st_chain_cbor.c (the field rules, owned bytes, signatures, receipts, actors),
 * st_message.c (messages), st_block_header.c (block headers, tipset keys) and st_chain_json.c
 * (Lotus's JSON). Names start st_ct_ (chain types). */
#ifndef ST_CHAIN_TYPES_INT_H
#define ST_CHAIN_TYPES_INT_H

#include "chain/st_chain_types.h"

/* Bytes of a big integer's CBOR payload: empty for zero, else sign byte + magnitude. */
size_t st_ct_bigint_payload_len(const mpz_t v);

/* Checks before encoding; the error is "<what>: field <field>: ...". */
st_code st_ct_check_bigint(const mpz_t v, bool nonneg, const char *what, const char *field, st_err *err);
st_code st_ct_check_bytes(size_t n, const char *what, const char *field, st_err *err);
st_code st_ct_check_array(size_t n, const char *what, const char *field, st_err *err);
st_code st_ct_check_address(const st_address *a, const char *what, const char *field, st_err *err);
st_code st_ct_check_signature(const st_signature *s, st_err *err);
bool st_ct_sig_type_ok(int t);

void st_ct_put_address(st_buf *b, const st_address *a);
/* The byte string type || data. */
void st_ct_put_signature(st_buf *b, const st_signature *s);

/* Readers (errors go to r->err): a byte string of at most ST_CHAIN_MAX_BYTES, copied; an array
 * header of at most ST_CHAIN_MAX_ARRAY items; a big integer that must not be negative. */
st_code st_ct_read_bytes(st_cbor_reader *r, st_chain_bytes *out);
st_code st_ct_read_array(st_cbor_reader *r, size_t *n);
st_code st_ct_read_nonneg_bigint(st_cbor_reader *r, mpz_t v);

/* Encodes obj with fn into a scratch buffer and gives the CID of the bytes. */
st_code st_ct_cid_of(st_code (*fn)(const void *, st_buf *, st_err *), const void *obj, st_cid *out, st_err *err);

/* Back to zero values, keeping the mpz allocations (the readers start from these). */
void st_ct_message_reset(st_message *m);
void st_ct_header_reset(st_block_header *h);

/* Runs a field reader; on failure prefixes "<what>: field <name>". */
#define ST_CT_FIELD(what, name, expr)                                         \
  do {                                                                        \
    st_code rc_ = (expr);                                                     \
    if (rc_) return st_err_wrap(r->err, rc_, "%s: field %s", (what), (name)); \
  } while (0)

/* Decodes one whole-buffer item with reader function fn. */
#define ST_CT_DECODE_WHOLE(fn, what, p, n, obj, err)                                       \
  do {                                                                                     \
    st_cbor_reader r_;                                                                     \
    st_cbor_reader_init(&r_, (p), (n), (err));                                             \
    st_code rc_ = fn(&r_, (obj));                                                          \
    if (!rc_ && (rc_ = st_cbor_finish(&r_))) return st_err_wrap((err), rc_, "%s", (what)); \
    return rc_;                                                                            \
  } while (0)

#endif
