/* st_params: a message's CBOR parameters as JSON, Lotus's StateDecodeParams, for the explorer
 * and any client. The layout comes from the method table (st_vm_method_info) as a schema:
 * "Name:type,Name:type,..." naming the fields of the CBOR tuple in order, where a type is
 *   u uint, i int, B bool, b bytes (base64), a address ("t01000"), c CID ({"/": ...}),
 *   f bitfield (Lotus's run-length JSON, [0,2] is {0,1}), t token amount (decimal string),
 *   p a deal proposal (st_deal's JSON), s a signature ({"Type": 1, "Data": base64}),
 *   *x an array of x, [fields] an array of tuples with those fields.
 * "=x" means the params are one bare value of type x (AddBalance's address), not a tuple.
 * An empty schema means no parameters (an empty params is then the only valid input). */
#ifndef ST_PARAMS_H
#define ST_PARAMS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/st_err.h"

/* Decodes cbor by schema into *out (an object; null for no parameters). Errors name the field. */
st_code st_params_to_json(const char *schema, const uint8_t *cbor, size_t len, json_t **out, st_err *err);

#endif
