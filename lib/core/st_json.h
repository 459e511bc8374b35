/* st_json: writing JSON text into an st_buf.
 *
 * jansson parses and builds JSON values; this module writes them the way our outputs need:
 * compact, keys in insertion order, reals in their shortest round-trip form (0.000443517, not
 * 0.00044351700000000001), and raw strings escaped without building a json_t first. */
#ifndef ST_JSON_H
#define ST_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "core/st_buf.h"

void st_json_append(st_buf *out, const json_t *v);
/* An object with ", " and ": " between its own members (nested values stay compact), the way
 * zap prints log fields: {"a": 1, "b": {"c":2}}. */
void st_json_append_spaced(st_buf *out, const json_t *obj);
void st_json_append_string(st_buf *out, const char *s, size_t n);
/* Shortest decimal that reads back as d; NaN and infinities are written as strings. */
void st_json_append_real(st_buf *out, double d);

/* Writes v (stolen) compactly to stdout, with a newline. */
void st_json_print(json_t *v);

#endif
