/* st_http_client: libcurl easy handles, one per client, reused for keep-alive. */
#include "net/st_http_client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct st_http_client {
  CURL *curl;
  char *base;
  struct curl_slist *headers;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

const char *st_http_client_base(const st_http_client *c) { return c->base; }

st_code st_http_client_new(const char *base_url, const char *token, st_http_client **out, st_err *err) {
  *out = NULL;
  if (strncmp(base_url, "http://", 7) && strncmp(base_url, "https://", 8))
    return st_err_set(err, ST_EINVAL, "server address \"%.80s\" must start with http:// or https://", base_url);
  pthread_once(&curl_once, curl_init_once);
  st_http_client *c = calloc(1, sizeof *c);
  if (!c) return st_err_set(err, ST_ENOMEM, "out of memory creating an HTTP client");
  c->base = strdup(base_url);
  c->curl = curl_easy_init();
  size_t n = c->base ? strlen(c->base) : 0;
  while (n && c->base[n - 1] == '/') c->base[--n] = 0;
  c->headers = curl_slist_append(NULL, "Content-Type: application/json");
  if (token && *token) {
    char auth[1024];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    struct curl_slist *h = c->headers ? curl_slist_append(c->headers, auth) : NULL;
    if (!h) {
      curl_slist_free_all(c->headers);
      c->headers = NULL;
    } else {
      c->headers = h;
    }
  }
  if (!c->base || !c->curl || !c->headers) {
    st_http_client_free(c);
    return st_err_set(err, ST_ENOMEM, "out of memory creating an HTTP client");
  }
  *out = c;
  return ST_OK;
}

void st_http_client_free(st_http_client *c) {
  if (!c) return;
  if (c->curl) curl_easy_cleanup(c->curl);
  curl_slist_free_all(c->headers);
  free(c->base);
  free(c);
}

static size_t on_data(char *p, size_t size, size_t n, void *userdata) {
  st_buf_append(userdata, p, size * n);
  return size * n;
}

st_code st_http_call(st_http_client *c, const char *method, const char *path, const char *body, size_t body_len,
                     long *status, st_buf *resp, st_err *err) {
  *status = 0;
  size_t ulen = strlen(c->base) + strlen(path) + 1;
  char *url = malloc(ulen);
  if (!url) return st_err_set(err, ST_ENOMEM, "out of memory building a URL");
  snprintf(url, ulen, "%s%s", c->base, path);
  CURL *h = c->curl;
  curl_easy_reset(h);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
  if (body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
  } else if (!strcmp(method, "GET")) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  }
  CURLcode rc = curl_easy_perform(h);
  st_code code = ST_OK;
  if (rc == CURLE_URL_MALFORMAT) code = st_err_set(err, ST_EINVAL, "bad request URL \"%s\"", url);
  else if (rc != CURLE_OK)
    code = st_err_set(err, ST_EUNAVAIL, "could not reach %s: %s", c->base, curl_easy_strerror(rc));
  else curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
  if (!code && st_buf_status(resp, NULL))
    code = st_err_set(err, ST_ENOMEM, "out of memory reading the reply from %s", url);
  free(url);
  return code;
}
