/* st_multiaddr: the binary multiaddr codec for the protocols a deal endpoint uses. */
#include "codec/st_multiaddr.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/st_varint.h"

enum { V_NONE, V_IP4, V_IP6, V_PORT, V_NAME };

static const struct {
  const char *name;
  uint64_t code;
  int value;
} PROTOCOLS[] = {
    {"ip4", 4, V_IP4},  {"tcp", 6, V_PORT},   {"dns", 53, V_NAME},    {"dns4", 54, V_NAME},  {"dns6", 55, V_NAME},
    {"ip6", 41, V_IP6}, {"udp", 273, V_PORT}, {"https", 443, V_NONE}, {"http", 480, V_NONE},
};
#define NPROTOCOLS (sizeof PROTOCOLS / sizeof PROTOCOLS[0])

typedef struct writer {
  uint8_t *out;
  size_t cap, len;
} writer;

static st_code put(writer *w, const void *p, size_t n, st_err *err) {
  if (w->len + n > w->cap) return st_err_set(err, ST_ERANGE, "multiaddr: longer than %zu bytes", w->cap);
  memcpy(w->out + w->len, p, n);
  w->len += n;
  return ST_OK;
}

static st_code put_uvarint(writer *w, uint64_t v, st_err *err) {
  uint8_t b[ST_UVARINT_MAX];
  return put(w, b, st_uvarint_put(v, b), err);
}

static st_code from_text(const char *text, uint8_t *out, size_t cap, size_t *len, st_err *err) {
  writer w = {out, cap, 0};
  if (!text || text[0] != '/')
    return st_err_set(err, ST_EINVAL, "multiaddr: \"%.80s\" does not start with '/'", text ? text : "");
  const char *s = text;
  while (*s) {
    size_t at = (size_t)(s - text) + 1;
    const char *name = s + 1, *end = strchr(name, '/');
    size_t nlen = end ? (size_t)(end - name) : strlen(name);
    size_t k = 0;
    while (k < NPROTOCOLS && !(strlen(PROTOCOLS[k].name) == nlen && !strncmp(PROTOCOLS[k].name, name, nlen))) k++;
    if (k == NPROTOCOLS)
      return st_err_set(err, ST_EINVAL, "multiaddr: unknown protocol \"%.*s\" at position %zu",
                        (int)(nlen > 40 ? 40 : nlen), name, at);
    st_code code = put_uvarint(&w, PROTOCOLS[k].code, err);
    s = name + nlen;
    if (code) return code;
    if (PROTOCOLS[k].value == V_NONE) continue;
    if (*s != '/' || !s[1] || s[1] == '/')
      return st_err_set(err, ST_EINVAL, "multiaddr: %s at position %zu has no value", PROTOCOLS[k].name, at);
    const char *v = s + 1, *vend = strchr(v, '/');
    size_t vlen = vend ? (size_t)(vend - v) : strlen(v);
    char value[256];
    if (vlen >= sizeof value)
      return st_err_set(err, ST_EINVAL, "multiaddr: the %s value at position %zu is too long", PROTOCOLS[k].name, at);
    memcpy(value, v, vlen);
    value[vlen] = 0;
    s = v + vlen;
    uint8_t bin[16];
    switch (PROTOCOLS[k].value) {
      case V_IP4:
      case V_IP6: {
        bool six = PROTOCOLS[k].value == V_IP6;
        if (inet_pton(six ? AF_INET6 : AF_INET, value, bin) != 1)
          return st_err_set(err, ST_EINVAL, "multiaddr: \"%s\" at position %zu is not an %s address", value,
                            (size_t)(v - text), PROTOCOLS[k].name);
        code = put(&w, bin, six ? 16 : 4, err);
        break;
      }
      case V_PORT: {
        char *e;
        unsigned long port = strtoul(value, &e, 10);
        if (!value[0] || *e || value[0] == '-' || value[0] == '+' || (value[0] == '0' && value[1]) || port > 65535)
          return st_err_set(err, ST_EINVAL, "multiaddr: %s port \"%s\" at position %zu is not 0 to 65535",
                            PROTOCOLS[k].name, value, (size_t)(v - text));
        bin[0] = (uint8_t)(port >> 8);
        bin[1] = (uint8_t)port;
        code = put(&w, bin, 2, err);
        break;
      }
      default:
        code = put_uvarint(&w, vlen, err);
        if (!code) code = put(&w, value, vlen, err);
    }
    if (code) return code;
  }
  if (!w.len) return st_err_set(err, ST_EINVAL, "multiaddr: \"/\" names no protocol");
  *len = w.len;
  return ST_OK;
}

st_code st_multiaddr_from_text(const char *text, uint8_t *out, size_t cap, size_t *len, st_err *err) {
  *len = 0;
  st_code rc = from_text(text, out, cap, len, err);
  if (rc) memset(out, 0, cap);
  return rc;
}

static st_code append(char *out, size_t cap, size_t *n, const char *s, st_err *err) {
  size_t l = strlen(s);
  if (*n + l + 1 > cap) return st_err_set(err, ST_ERANGE, "multiaddr: its text is longer than %zu bytes", cap - 1);
  memcpy(out + *n, s, l + 1);
  *n += l;
  return ST_OK;
}

static st_code to_text(const uint8_t *p, size_t len, char *out, size_t cap, st_err *err) {
  size_t i = 0, n = 0;
  if (!len) return st_err_set(err, ST_EINVAL, "multiaddr: empty");
  if (len > ST_MULTIADDR_MAX)
    return st_err_set(err, ST_EINVAL, "multiaddr: %zu bytes, more than %d", len, ST_MULTIADDR_MAX);
  while (i < len) {
    uint64_t c;
    size_t used;
    if (st_uvarint_get(p + i, len - i, &c, &used, err))
      return st_err_wrap(err, ST_EINVAL, "multiaddr: protocol code at byte %zu", i);
    size_t k = 0;
    while (k < NPROTOCOLS && PROTOCOLS[k].code != c) k++;
    if (k == NPROTOCOLS)
      return st_err_set(err, ST_EINVAL, "multiaddr: unknown protocol code %llu at byte %zu", (unsigned long long)c, i);
    i += used;
    char part[INET6_ADDRSTRLEN + 270];
    snprintf(part, sizeof part, "/%s", PROTOCOLS[k].name);
    st_code code = append(out, cap, &n, part, err);
    if (code) return code;
    int kind = PROTOCOLS[k].value;
    if (kind == V_NONE) continue;
    size_t vlen = kind == V_IP4 ? 4 : kind == V_IP6 ? 16 : kind == V_PORT ? 2 : 0;
    if (kind == V_NAME) {
      uint64_t l;
      if (st_uvarint_get(p + i, len - i, &l, &used, err))
        return st_err_wrap(err, ST_EINVAL, "multiaddr: %s length at byte %zu", PROTOCOLS[k].name, i);
      i += used;
      if (l == 0 || l > 253)
        return st_err_set(err, ST_EINVAL, "multiaddr: %s name of %llu bytes at byte %zu", PROTOCOLS[k].name,
                          (unsigned long long)l, i);
      vlen = (size_t)l;
    }
    if (len - i < vlen)
      return st_err_set(err, ST_EINVAL, "multiaddr: truncated %s value at byte %zu", PROTOCOLS[k].name, i);
    char value[INET6_ADDRSTRLEN + 260];
    if (kind == V_IP4 || kind == V_IP6) inet_ntop(kind == V_IP6 ? AF_INET6 : AF_INET, p + i, value, sizeof value);
    else if (kind == V_PORT) snprintf(value, sizeof value, "%u", (unsigned)p[i] << 8 | p[i + 1]);
    else {
      if (memchr(p + i, '/', vlen) || memchr(p + i, 0, vlen))
        return st_err_set(err, ST_EINVAL, "multiaddr: %s name at byte %zu holds '/' or NUL", PROTOCOLS[k].name, i);
      memcpy(value, p + i, vlen);
      value[vlen] = 0;
    }
    i += vlen;
    snprintf(part, sizeof part, "/%s", value);
    if ((code = append(out, cap, &n, part, err))) return code;
  }
  return ST_OK;
}

st_code st_multiaddr_to_text(const uint8_t *p, size_t len, char *out, size_t cap, st_err *err) {
  if (!cap) return st_err_set(err, ST_ERANGE, "multiaddr: no room for its text");
  out[0] = 0;
  st_code rc = to_text(p, len, out, cap, err);
  if (rc) memset(out, 0, cap);
  return rc;
}
