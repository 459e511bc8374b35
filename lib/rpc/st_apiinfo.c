/* st_apiinfo: multiaddrs, the repo's api and token files, and FULLNODE_API_INFO. */
#include "rpc/st_apiinfo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/st_buf.h"
#include "core/st_fs.h"

#define MAX_PARTS 8

static bool is_dns_name(const char *s) {
  size_t n = strlen(s);
  if (!n || n > 253 || s[0] == '.' || s[0] == '-') return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
      return false;
  }
  return true;
}

/* Splits the components of a multiaddr into copies in buf; -1 for an empty component. */
static int split(const char *text, char *buf, size_t bufsz, char *parts[MAX_PARTS]) {
  size_t n = strlen(text);
  while (n > 1 && text[n - 1] == '/') n--; /* go-multiaddr ignores trailing slashes */
  if (n >= bufsz) return -2;
  memcpy(buf, text + 1, n - 1);
  buf[n - 1] = 0;
  int k = 0;
  for (char *p = buf;;) {
    char *slash = strchr(p, '/');
    if (slash) *slash = 0;
    if (!*p || k == MAX_PARTS) return -1;
    parts[k++] = p;
    if (!slash) return k;
    p = slash + 1;
  }
}

st_code st_multiaddr_parse(const char *text, st_multiaddr *out, st_err *err) {
  memset(out, 0, sizeof *out);
  if (!text || text[0] != '/')
    return st_err_set(err, ST_EINVAL, "multiaddr \"%.200s\" must start with '/' (e.g. /ip4/127.0.0.1/tcp/1234/http)",
                      text ? text : "");
  char buf[ST_APIINFO_ADDR_MAX];
  char *p[MAX_PARTS];
  int k = split(text, buf, sizeof buf, p);
  if (k == -2)
    return st_err_set(err, ST_EINVAL, "multiaddr \"%.80s...\" is longer than %d characters", text,
                      ST_APIINFO_ADDR_MAX - 1);
  if (k < 0) return st_err_set(err, ST_EINVAL, "multiaddr \"%.200s\" has an empty or extra component", text);
  if (k < 4)
    return st_err_set(err, ST_EINVAL, "multiaddr \"%.200s\" is incomplete (want /ip4/HOST/tcp/PORT/http)", text);
  const char *proto = p[0];
  if (!strcmp(proto, "ip4") || !strcmp(proto, "ip6")) {
    unsigned char tmp[16];
    out->family = proto[2] == '4' ? 4 : 6;
    if (inet_pton(out->family == 4 ? AF_INET : AF_INET6, p[1], tmp) != 1)
      return st_err_set(err, ST_EINVAL, "multiaddr \"%.200s\": \"%.60s\" is not an IPv%d address", text, p[1],
                        out->family);
  } else if (!strcmp(proto, "dns") || !strcmp(proto, "dns4") || !strcmp(proto, "dns6")) {
    if (!is_dns_name(p[1]))
      return st_err_set(err, ST_EINVAL, "multiaddr \"%.200s\": \"%.60s\" is not a DNS name", text, p[1]);
  } else {
    return st_err_set(err, ST_EINVAL, "multiaddr \"%.200s\": protocol \"%.20s\" is not ip4, ip6, dns, dns4 or dns6",
                      text, proto);
  }
  snprintf(out->host, sizeof out->host, "%s", p[1]);
  if (strcmp(p[2], "tcp"))
    return st_err_set(err, ST_EINVAL, "multiaddr \"%.200s\": \"%.20s\" where tcp was expected", text, p[2]);
  unsigned long port = 0;
  size_t digits = strspn(p[3], "0123456789");
  if (!digits || p[3][digits] || digits > 5 || (port = strtoul(p[3], NULL, 10)) < 1 || port > 65535)
    return st_err_set(err, ST_EINVAL, "multiaddr \"%.200s\": port \"%.20s\" is not a number from 1 to 65535", text,
                      p[3]);
  out->port = (uint16_t)port;
  int rest = k - 4;
  const char *a = rest > 0 ? p[4] : NULL, *b = rest > 1 ? p[5] : NULL;
  bool ok = rest == 0 ||
            (rest == 1 && (!strcmp(a, "http") || !strcmp(a, "https") || !strcmp(a, "ws") || !strcmp(a, "wss"))) ||
            (rest == 2 && !strcmp(a, "tls") && (!strcmp(b, "http") || !strcmp(b, "ws")));
  if (!ok)
    return st_err_set(err, ST_EINVAL,
                      "multiaddr \"%.200s\": after the port want /http, /https, /ws, /wss, /tls/http or /tls/ws", text);
  out->tls = rest == 2 || (rest == 1 && (!strcmp(a, "https") || !strcmp(a, "wss")));
  return ST_OK;
}

/* "host:port" ("[host]:port" for IPv6), behind "scheme://" when scheme is given. */
static st_code put(char *out, size_t n, const st_multiaddr *m, const char *scheme, st_err *err) {
  const char *open = m->family == 6 ? "[" : "", *close = m->family == 6 ? "]" : "";
  int w = snprintf(out, n, "%s%s%s%s%s:%u", scheme ? scheme : "", scheme ? "://" : "", open, m->host, close,
                   (unsigned)m->port);
  if (w < 0 || (size_t)w >= n)
    return st_err_set(err, ST_ERANGE, "address of host \"%.80s\" does not fit in %zu bytes", m->host, n);
  return ST_OK;
}

st_code st_multiaddr_to_url(const char *text, char *url, size_t n, st_err *err) {
  st_multiaddr m;
  st_code rc = st_multiaddr_parse(text, &m, err);
  if (rc) return rc;
  return put(url, n, &m, m.tls ? "https" : "http", err);
}

st_code st_multiaddr_to_listen(const char *text, char *listen, size_t n, st_err *err) {
  st_multiaddr m;
  st_code rc = st_multiaddr_parse(text, &m, err);
  if (rc) return rc;
  if (!m.family)
    return st_err_set(err, ST_EINVAL, "multiaddr \"%.200s\": a listen address needs /ip4 or /ip6, not a DNS name",
                      text);
  if (m.tls) return st_err_set(err, ST_EINVAL, "multiaddr \"%.200s\": the daemon serves plain HTTP, not TLS", text);
  return put(listen, n, &m, NULL, err);
}

st_code st_multiaddr_from_listen(const char *listen, char *out, size_t n, st_err *err) {
  const char *colon = listen ? strrchr(listen, ':') : NULL;
  if (!colon || colon == listen)
    return st_err_set(err, ST_EINVAL, "listen address \"%.80s\" is not HOST:PORT", listen ? listen : "");
  char host[64];
  size_t hl = (size_t)(colon - listen);
  bool v6 = listen[0] == '[';
  if (v6 && (hl < 3 || listen[hl - 1] != ']'))
    return st_err_set(err, ST_EINVAL, "listen address \"%.80s\": unbalanced '['", listen);
  if (v6) listen++, hl -= 2;
  if (hl >= sizeof host) return st_err_set(err, ST_EINVAL, "listen address \"%.80s\": host is too long", listen);
  memcpy(host, listen, hl);
  host[hl] = 0;
  if (!v6 && !strcmp(host, "localhost")) snprintf(host, sizeof host, "127.0.0.1");
  char text[ST_APIINFO_ADDR_MAX];
  snprintf(text, sizeof text, "/ip%c/%s/tcp/%s/http", v6 ? '6' : '4', host, colon + 1);
  st_multiaddr m;
  st_code rc = st_multiaddr_parse(text, &m, err);
  if (rc) return st_err_wrap(err, rc, "listen address \"%.80s\"", listen);
  int w = snprintf(out, n, "%s", text);
  if (w < 0 || (size_t)w >= n) return st_err_set(err, ST_ERANGE, "multiaddr \"%s\" does not fit in %zu bytes", text, n);
  return ST_OK;
}

/* A URL given in FULLNODE_API_INFO, checked and normalised into out->url. */
static st_code parse_url(const char *s, st_apiinfo *out, st_err *err) {
  static const char *const schemes[4][2] = {
      {"http://", "http"}, {"https://", "https"}, {"ws://", "http"}, {"wss://", "https"}};
  for (size_t i = 0; i < 4; i++) {
    size_t sl = strlen(schemes[i][0]);
    if (strncmp(s, schemes[i][0], sl)) continue;
    const char *rest = s + sl;
    size_t n = strlen(rest);
    while (n && rest[n - 1] == '/') n--;
    size_t host = strcspn(rest, "/");
    if (!n || !host || rest[0] == ':') return st_err_set(err, ST_EINVAL, "API URL \"%.200s\" has no host", s);
    for (size_t j = 0; j < n; j++)
      if ((unsigned char)rest[j] <= 0x20 || (unsigned char)rest[j] >= 0x7f || rest[j] == '?' || rest[j] == '#')
        return st_err_set(err, ST_EINVAL, "API URL \"%.200s\" has a space, control, '?' or '#' character", s);
    int w = snprintf(out->url, sizeof out->url, "%s://%.*s", schemes[i][1], (int)n, rest);
    if (w < 0 || (size_t)w >= sizeof out->url) return st_err_set(err, ST_EINVAL, "API URL \"%.80s...\" is too long", s);
    return ST_OK;
  }
  return st_err_set(err, ST_EINVAL, "API URL \"%.200s\" must start with http://, https://, ws:// or wss://", s);
}

static bool token_chars_ok(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
          c == '.'))
      return false;
  }
  return true;
}

/* Copies s[0..n) without surrounding whitespace into a new string. */
static char *trimmed(const char *s, size_t n) {
  while (n && strchr(" \t\r\n", s[0])) s++, n--;
  while (n && strchr(" \t\r\n", s[n - 1])) n--;
  return strndup(s, n);
}

st_code st_apiinfo_parse(const char *value, st_apiinfo *out, st_err *err) {
  memset(out, 0, sizeof *out);
  char *v = trimmed(value ? value : "", strcspn(value ? value : "", ","));
  if (!v) return st_err_set(err, ST_ENOMEM, "out of memory reading " ST_APIINFO_ENV);
  st_code rc = ST_OK;
  const char *addr = v;
  const char *colon = strchr(v, ':');
  if (!*v) {
    rc = st_err_set(err, ST_EINVAL, ST_APIINFO_ENV " is empty (want TOKEN:/ip4/127.0.0.1/tcp/1234/http)");
  } else if (v[0] != '/' && (!colon || strncmp(colon, "://", 3))) {
    if (!colon) {
      rc = st_err_set(err, ST_EINVAL, ST_APIINFO_ENV " \"%.80s\" is not TOKEN:MULTIADDR, a multiaddr or a URL", v);
    } else {
      size_t tl = (size_t)(colon - v);
      if (!tl) rc = st_err_set(err, ST_EINVAL, ST_APIINFO_ENV " has an empty token before ':'");
      else if (tl >= sizeof out->token)
        rc = st_err_set(err, ST_EINVAL, ST_APIINFO_ENV "'s token is longer than %d characters",
                        ST_APIINFO_TOKEN_MAX - 1);
      else if (!token_chars_ok(v, tl))
        rc = st_err_set(err, ST_EINVAL, ST_APIINFO_ENV "'s token has a character that is not base64url or '.'");
      else memcpy(out->token, v, tl);
      addr = colon + 1;
    }
  }
  if (!rc) {
    if (addr[0] == '/') rc = st_multiaddr_to_url(addr, out->url, sizeof out->url, err);
    else if (strstr(addr, "://")) rc = parse_url(addr, out, err);
    else rc = st_err_set(err, ST_EINVAL, ST_APIINFO_ENV " address \"%.200s\" is neither a multiaddr nor a URL", addr);
    if (rc) st_err_wrap(err, rc, ST_APIINFO_ENV);
  }
  free(v);
  if (rc) {
    /* keep no half-parsed secret behind */
    memset(out, 0, sizeof *out);
  }
  return rc;
}

static st_code repo_path(const char *repo, const char *name, char out[PATH_MAX], st_err *err) {
  int w = snprintf(out, PATH_MAX, "%s/%s", repo, name);
  if (w < 0 || w >= PATH_MAX) return st_err_set(err, ST_EINVAL, "repo path \"%.80s...\" is too long", repo);
  return ST_OK;
}

/* The file's content, whitespace trimmed, into out (n bytes with the NUL). */
static st_code read_trimmed(const char *repo, const char *name, char *out, size_t n, st_err *err) {
  char path[PATH_MAX];
  st_code rc = repo_path(repo, name, path, err);
  if (rc) return rc;
  st_buf b = ST_BUF_INIT;
  rc = st_fs_read_file(path, 64 * 1024, &b, err);
  if (rc) {
    st_buf_free(&b);
    return rc;
  }
  char *t = trimmed((const char *)b.data, b.len);
  st_buf_free(&b);
  if (!t) return st_err_set(err, ST_ENOMEM, "out of memory reading path=\"%s\"", path);
  size_t len = strlen(t);
  if (!len) rc = st_err_set(err, ST_EINVAL, "file path=\"%s\" is empty", path);
  else if (len >= n) rc = st_err_set(err, ST_ERANGE, "file path=\"%s\" is longer than %zu characters", path, n - 1);
  else memcpy(out, t, len + 1);
  memset(t, 0, len);
  free(t);
  return rc;
}

st_code st_apiinfo_write_api(const char *repo, const char *multiaddr, st_err *err) {
  st_multiaddr m;
  char path[PATH_MAX];
  st_code rc = st_multiaddr_parse(multiaddr, &m, err);
  if (!rc) rc = repo_path(repo, "api", path, err);
  if (!rc) rc = st_fs_write_atomic(path, multiaddr, strlen(multiaddr), 0644, err);
  return rc;
}

st_code st_apiinfo_read_api(const char *repo, char *out, size_t n, st_err *err) {
  st_code rc = read_trimmed(repo, "api", out, n, err);
  st_multiaddr m;
  if (!rc && st_multiaddr_parse(out, &m, err)) {
    rc = st_err_wrap(err, ST_EINVAL, "file path=\"%s/api\"", repo);
    out[0] = 0;
  }
  return rc;
}

st_code st_apiinfo_remove_api(const char *repo, st_err *err) {
  char path[PATH_MAX];
  st_code rc = repo_path(repo, "api", path, err);
  if (rc) return rc;
  if (unlink(path) && errno != ENOENT) return st_fs_os_error(err, "remove", path, errno);
  return ST_OK;
}

st_code st_apiinfo_write_token(const char *repo, const char *token, st_err *err) {
  size_t n = strlen(token);
  char path[PATH_MAX];
  if (!n || n >= ST_APIINFO_TOKEN_MAX || !token_chars_ok(token, n))
    return st_err_set(err, ST_EINVAL, "a token is 1 to %d characters of base64url and '.'", ST_APIINFO_TOKEN_MAX - 1);
  st_code rc = repo_path(repo, "token", path, err);
  if (!rc) rc = st_fs_write_atomic(path, token, n, 0600, err);
  return rc;
}

st_code st_apiinfo_read_token(const char *repo, char *out, size_t n, st_err *err) {
  st_code rc = read_trimmed(repo, "token", out, n, err);
  if (!rc && !token_chars_ok(out, strlen(out))) {
    rc = st_err_set(err, ST_EINVAL, "file path=\"%s/token\" holds a character that is not base64url or '.'", repo);
    out[0] = 0;
  }
  return rc;
}

void st_apiinfo_repo(const char *given, const char *dir, char *out, size_t n) {
  static const char *const ENV[][2] = {{".spacetime", "SPACETIME_PATH"},
                                       {".spacetime-miner", "SPACETIME_MINER_PATH"},
                                       {".spacetime-server", "SPACETIME_SERVER_REPO"}};
  for (size_t i = 0; !given && i < sizeof ENV / sizeof ENV[0]; i++) {
    const char *v = strcmp(dir, ENV[i][0]) ? NULL : getenv(ENV[i][1]);
    if (v && *v) given = v;
  }
  const char *home = getenv("HOME");
  if (given) snprintf(out, n, "%s", given);
  else snprintf(out, n, "%s/%s", home && *home ? home : ".", dir);
}

st_code st_apiinfo_resolve(const char *env_value, const char *repo, st_apiinfo *out, st_err *err) {
  if (env_value && *env_value) return st_apiinfo_parse(env_value, out, err);
  memset(out, 0, sizeof *out);
  char addr[ST_APIINFO_ADDR_MAX];
  st_err e;
  st_code rc = st_apiinfo_read_api(repo, addr, sizeof addr, &e);
  if (rc == ST_ENOENT)
    return st_err_set(err, rc, "no node API in repo \"%.200s\": file \"api\" not found (is the daemon running?)", repo);
  if (rc) {
    if (err) *err = e;
    return rc;
  }
  rc = st_multiaddr_to_url(addr, out->url, sizeof out->url, err);
  if (!rc) {
    rc = st_apiinfo_read_token(repo, out->token, sizeof out->token, &e);
    if (rc == ST_ENOENT) rc = ST_OK; /* no token: the node grants read */
    else if (rc && err) *err = e;
  }
  if (rc) memset(out, 0, sizeof *out);
  return rc;
}

st_code st_apiinfo_secret(const char *repo, uint8_t secret[ST_JWT_SECRET_LEN], st_err *err) {
  char path[PATH_MAX];
  st_code code = repo_path(repo, "jwt-secret", path, err);
  if (code) return code;
  st_buf b = ST_BUF_INIT;
  code = st_fs_read_file(path, 1024, &b, err);
  if (code == ST_ENOENT) {
    code = st_jwt_secret_new(secret, err);
    if (!code) code = st_fs_create_atomic(path, secret, ST_JWT_SECRET_LEN, 0600, err);
  } else if (!code && b.len != ST_JWT_SECRET_LEN) {
    code = st_err_set(err, ST_EINVAL,
                      "path=\"%s\" is %zu bytes, not %d: delete it to make a new secret (old tokens stop working)",
                      path, b.len, ST_JWT_SECRET_LEN);
  } else if (!code) {
    memcpy(secret, b.data, ST_JWT_SECRET_LEN);
  }
  st_buf_free(&b);
  return code;
}
