/* st_apiinfo: where a node's API is and which token opens it, in Lotus's forms, so that a
 * client finds a running daemon the way the lotus CLI does (docs/lotus-api.md 3.2):
 *
 * - <repo>/api holds the listen multiaddr, e.g. /ip4/127.0.0.1/tcp/1234/http (0644, no newline);
 * - <repo>/token holds the admin JWT (0600, no newline);
 * - FULLNODE_API_INFO is "TOKEN:MULTIADDR", "MULTIADDR" or "[TOKEN:]http://host:port".
 *
 * Multiaddrs understood: /ip4/A/tcp/P, /ip6/A/tcp/P, /dns/N/tcp/P, /dns4/N/tcp/P, /dns6/N/tcp/P,
 * optionally followed by /http, /https, /ws, /wss, /tls/http or /tls/ws. The daemon serves
 * JSON-RPC over plain HTTP only, so /ws maps to http:// and /wss to https://. */
#ifndef ST_APIINFO_H
#define ST_APIINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/st_err.h"
#include "rpc/st_jwt.h"

#define ST_APIINFO_ADDR_MAX 512
#define ST_APIINFO_TOKEN_MAX 4096
/* The environment variable the lotus CLI reads. */
#define ST_APIINFO_ENV "FULLNODE_API_INFO"

typedef struct st_multiaddr {
  char host[256]; /* "127.0.0.1", "::1" (no brackets), "node.example" */
  int family;     /* 4, 6, or 0 for a DNS name */
  uint16_t port;  /* 1..65535 */
  bool tls;       /* /https, /wss or /tls */
} st_multiaddr;

/* Parses a multiaddr; errors quote the text and name the component that is wrong. */
st_code st_multiaddr_parse(const char *text, st_multiaddr *out, st_err *err);
/* The base URL a client sends to: "http://127.0.0.1:1234", "https://[::1]:1234". */
st_code st_multiaddr_to_url(const char *text, char *url, size_t n, st_err *err);
/* "127.0.0.1:1234" or "[::1]:1234", for st_http_server_opts.listen (DNS names are refused). */
st_code st_multiaddr_to_listen(const char *text, char *listen, size_t n, st_err *err);
/* The multiaddr of a listen address: "127.0.0.1:1234" -> "/ip4/127.0.0.1/tcp/1234/http". */
st_code st_multiaddr_from_listen(const char *listen, char *out, size_t n, st_err *err);

typedef struct st_apiinfo {
  char token[ST_APIINFO_TOKEN_MAX]; /* "" when there is none (the node then grants read only) */
  char url[ST_APIINFO_ADDR_MAX];    /* base URL without a trailing '/', e.g. "http://127.0.0.1:1234" */
} st_apiinfo;

/* Parses a FULLNODE_API_INFO value. Lotus's rules: a value starting with '/' is an address with
 * no token; otherwise the text before the first ':' is the token, unless that ':' starts "://"
 * (a URL with no token). A URL may be http(s):// or ws(s)://, with an optional path prefix.
 * Lotus allows several comma-separated nodes; only the first is used here. */
st_code st_apiinfo_parse(const char *value, st_apiinfo *out, st_err *err);

/* A repo folder: given when it is not NULL; else the program's environment variable, as Lotus
 * has LOTUS_PATH and LOTUS_MINER_PATH, when set and non-empty: $SPACETIME_PATH for dir
 * ".spacetime", $SPACETIME_MINER_PATH for ".spacetime-miner", $SPACETIME_SERVER_REPO for
 * ".spacetime-server"; else $HOME/<dir> (./<dir> when HOME is unset or empty). Cut to fit out[n]. */
void st_apiinfo_repo(const char *given, const char *dir, char *out, size_t n);

/* The repo's api file: written atomically (0644, no newline), read with surrounding whitespace
 * trimmed and checked to be a multiaddr, removed on shutdown (a missing file is fine). */
st_code st_apiinfo_write_api(const char *repo, const char *multiaddr, st_err *err);
st_code st_apiinfo_read_api(const char *repo, char *out, size_t n, st_err *err);
st_code st_apiinfo_remove_api(const char *repo, st_err *err);
/* The repo's token file: written atomically (0600, no newline), read with whitespace trimmed. */
st_code st_apiinfo_write_token(const char *repo, const char *token, st_err *err);
st_code st_apiinfo_read_token(const char *repo, char *out, size_t n, st_err *err);
/* The repo's jwt-secret (ST_JWT_SECRET_LEN random bytes, 0600), made on first use. A file of
 * another size is an error naming it (deleting it makes a new secret; old tokens stop working). */
st_code st_apiinfo_secret(const char *repo, uint8_t secret[ST_JWT_SECRET_LEN], st_err *err);

/* What a client uses: env_value (FULLNODE_API_INFO) when it is set and non-empty, else the
 * repo's api file and, if present, its token file. A missing api file reads
 * "no node API in repo "<repo>": file "api" not found (is the daemon running?)" (ST_ENOENT). */
st_code st_apiinfo_resolve(const char *env_value, const char *repo, st_apiinfo *out, st_err *err);

#endif
