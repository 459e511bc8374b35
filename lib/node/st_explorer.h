/* st_explorer: the block explorer page the daemon serves at / on its API port (GET, no token).
 * Its files (lib/node/explorer/) are embedded at build time (cmake/embed_files.cmake), so it
 * works offline; the page itself reads the daemon's JSON-RPC, the same calls the CLI makes,
 * with read-only methods that need no token. */
#ifndef ST_EXPLORER_H
#define ST_EXPLORER_H

#include <stdbool.h>
#include <stddef.h>

#include "net/st_http_server.h"

typedef struct st_explorer_asset {
  const char *path, *content_type;
  const unsigned char *data;
  size_t len;
} st_explorer_asset;
extern const st_explorer_asset ST_EXPLORER_ASSETS[];
extern const size_t ST_EXPLORER_NASSETS;

/* Answers GET / (index.html) and GET /<asset>; false (resp untouched) for any other path. */
bool st_explorer_serve(const st_http_request *req, st_http_response *resp);

#endif
