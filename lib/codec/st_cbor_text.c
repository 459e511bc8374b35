/* st_cbor_text: DAG-CBOR as text, in CBOR diagnostic notation (RFC 8949 section 8) for people
 * and as DAG-JSON for scripts. Both validate first, so the printers below never meet bad input
 * and recurse at most the reader's depth limit. */
#include <stdio.h>
#include <string.h>

#include "codec/st_cbor.h"
#include "core/st_encoding.h"
#include "core/st_json.h"

static void put_nint(st_buf *out, uint64_t n) {
  if (n == UINT64_MAX) st_buf_puts(out, "-18446744073709551616");
  else st_buf_printf(out, "-%llu", (unsigned long long)n + 1);
}

static void put_float(st_buf *out, double d) {
  size_t start = out->len;
  st_json_append_real(out, d);
  if (out->failed) return;
  const char *s = (const char *)out->data + start;
  if (!strpbrk(s, ".e")) st_buf_puts(out, ".0"); /* a float must not read as an integer */
}

static void emit(st_cbor_reader *r, st_buf *out, bool json) {
  st_cbor_item it;
  if (st_cbor_next(r, &it)) return; /* unreachable after validation */
  switch (it.type) {
    case ST_CBOR_UINT: st_buf_printf(out, "%llu", (unsigned long long)it.val); break;
    case ST_CBOR_NINT: put_nint(out, it.val); break;
    case ST_CBOR_BYTES:
      if (json) {
        st_buf_puts(out, "{\"/\":{\"bytes\":\"");
        st_base64_append(out, it.data, (size_t)it.val, false);
        st_buf_puts(out, "\"}}");
      } else {
        st_buf_puts(out, "h'");
        st_hex_append(out, it.data, (size_t)it.val);
        st_buf_putc(out, '\'');
      }
      break;
    case ST_CBOR_TEXT: st_json_append_string(out, (const char *)it.data, (size_t)it.val); break;
    case ST_CBOR_ARRAY:
      st_buf_putc(out, '[');
      for (uint64_t i = 0; i < it.val; i++) {
        if (i) st_buf_puts(out, json ? "," : ", ");
        emit(r, out, json);
      }
      st_buf_putc(out, ']');
      break;
    case ST_CBOR_MAP:
      st_buf_putc(out, '{');
      for (uint64_t i = 0; i < it.val; i++) {
        if (i) st_buf_puts(out, json ? "," : ", ");
        emit(r, out, json);
        st_buf_puts(out, json ? ":" : ": ");
        emit(r, out, json);
      }
      st_buf_putc(out, '}');
      break;
    case ST_CBOR_TAG: {
      st_cbor_item content;
      if (st_cbor_next(r, &content)) return;
      st_cid c;
      if (st_cid_from_bytes(content.data + 1, (size_t)content.val - 1, &c, NULL, NULL)) return;
      if (json) {
        st_buf_puts(out, "{\"/\":\"");
        st_cid_append_string(out, &c);
        st_buf_puts(out, "\"}");
      } else {
        st_buf_puts(out, "42(h'");
        st_hex_append(out, content.data, (size_t)content.val);
        st_buf_puts(out, "') / ");
        st_cid_append_string(out, &c);
        st_buf_puts(out, " /");
      }
      break;
    }
    case ST_CBOR_FALSE: st_buf_puts(out, "false"); break;
    case ST_CBOR_TRUE: st_buf_puts(out, "true"); break;
    case ST_CBOR_NULL: st_buf_puts(out, "null"); break;
    case ST_CBOR_FLOAT: put_float(out, it.f); break;
  }
}

static st_code render(const uint8_t *buf, size_t len, unsigned flags, st_buf *out, bool json, st_err *err) {
  st_code rc = st_cbor_validate(buf, len, flags, 0, err);
  if (rc) return rc;
  st_cbor_reader r;
  st_cbor_reader_init(&r, buf, len, NULL);
  r.flags = flags;
  emit(&r, out, json);
  return st_buf_status(out, err);
}

st_code st_cbor_diag(const uint8_t *buf, size_t len, unsigned flags, st_buf *out, st_err *err) {
  return render(buf, len, flags, out, false, err);
}

st_code st_cbor_dagjson(const uint8_t *buf, size_t len, unsigned flags, st_buf *out, st_err *err) {
  return render(buf, len, flags, out, true, err);
}
