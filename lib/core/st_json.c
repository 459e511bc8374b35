/* st_json: compact JSON text with shortest reals, for log fields and --json outputs. */
#include "core/st_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void st_json_append_string(st_buf *out, const char *s, size_t n) {
  st_buf_putc(out, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
      case '"': st_buf_puts(out, "\\\""); break;
      case '\\': st_buf_puts(out, "\\\\"); break;
      case '\n': st_buf_puts(out, "\\n"); break;
      case '\r': st_buf_puts(out, "\\r"); break;
      case '\t': st_buf_puts(out, "\\t"); break;
      default:
        if (c < 0x20 || c == 0x7f) st_buf_printf(out, "\\u%04x", c);
        else st_buf_putc(out, c);
    }
  }
  st_buf_putc(out, '"');
}

void st_json_append_real(st_buf *out, double d) {
  if (!isfinite(d)) {
    st_buf_puts(out, isnan(d) ? "\"NaN\"" : d > 0 ? "\"+Inf\"" : "\"-Inf\"");
    return;
  }
  char tmp[40];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, d);
    if (strtod(tmp, NULL) == d) break;
  }
  st_buf_puts(out, tmp);
}

/* An object's members joined by item_sep, keys and values by kv_sep; nested values compact. */
static void append_object(st_buf *out, const json_t *obj, const char *item_sep, const char *kv_sep) {
  const char *key;
  json_t *val;
  bool first = true;
  st_buf_putc(out, '{');
  json_object_foreach((json_t *)obj, key, val) {
    if (!first) st_buf_puts(out, item_sep);
    first = false;
    st_json_append_string(out, key, strlen(key));
    st_buf_puts(out, kv_sep);
    st_json_append(out, val);
  }
  st_buf_putc(out, '}');
}

void st_json_append_spaced(st_buf *out, const json_t *obj) { append_object(out, obj, ", ", ": "); }

void st_json_append(st_buf *out, const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_OBJECT: append_object(out, v, ",", ":"); break;
    case JSON_ARRAY:
      st_buf_putc(out, '[');
      for (size_t i = 0; i < json_array_size(v); i++) {
        if (i) st_buf_putc(out, ',');
        st_json_append(out, json_array_get(v, i));
      }
      st_buf_putc(out, ']');
      break;
    case JSON_STRING: st_json_append_string(out, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: st_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); break;
    case JSON_REAL: st_json_append_real(out, json_real_value(v)); break;
    case JSON_TRUE: st_buf_puts(out, "true"); break;
    case JSON_FALSE: st_buf_puts(out, "false"); break;
    case JSON_NULL: st_buf_puts(out, "null"); break;
  }
}

void st_json_print(json_t *v) {
  st_buf out = ST_BUF_INIT;
  st_json_append(&out, v);
  st_buf_putc(&out, '\n');
  fwrite(out.data, 1, out.len, stdout);
  st_buf_free(&out);
  json_decref(v);
}
