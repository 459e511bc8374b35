/* st_explorer: the embedded assets by path. */
#include "node/st_explorer.h"

#include <string.h>

bool st_explorer_serve(const st_http_request *req, st_http_response *resp) {
  const char *path = strcmp(req->path, "/") ? req->path : "/index.html";
  if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) return false;
  for (size_t i = 0; i < ST_EXPLORER_NASSETS; i++)
    if (!strcmp(ST_EXPLORER_ASSETS[i].path, path)) {
      resp->status = 200;
      resp->content_type = ST_EXPLORER_ASSETS[i].content_type;
      st_buf_append(&resp->body, ST_EXPLORER_ASSETS[i].data, ST_EXPLORER_ASSETS[i].len);
      return true;
    }
  return false;
}
