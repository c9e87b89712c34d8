#include "hud/client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <zlib.h>

#include "hud/codec.h"
#include "hud/err.h"
#include "hud/str.h"
#include "hud/version.h"

/* One transfer: the easy handle with everything it points at, and the response being collected. */
typedef struct xfer {
  struct hud_client *c;
  CURL *easy;
  int owns_easy;
  struct curl_slist *headers;
  char *url;
  unsigned char *body; /* request body as sent (maybe compressed) */
  size_t body_len;
  char *resp;
  size_t resp_len, resp_cap;
  int too_big;
  char errbuf[CURL_ERROR_SIZE];
  struct timespec t0;
  hud_client_cb cb;
  void *ud;
  unsigned long id;
  struct xfer *next;
} xfer;

struct hud_client {
  char *base_url;
  char *auth; /* "Authorization: Bearer <key>" or NULL */
  char *user_agent;
  long connect_ms, timeout_ms;
  char *ca_file;
  int insecure;
  size_t max_body;
  CURL *easy; /* reused by blocking calls so that the connection stays open */
  CURLM *multi;
  hud_client_loop loop;
  int has_loop;
  xfer *xfers;
  size_t n_xfers;
  unsigned long next_id;
};

static double ms_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

void hud_result_clear(hud_result *res) {
  if (!res) return;
  free(res->body);
  free(res->error_code);
  free(res->message);
  memset(res, 0, sizeof *res);
}

static int new_fail(char *err, size_t errlen, int rc, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

int hud_client_new(hud_client **out, const hud_config *cfg, char *err, size_t errlen) {
  if (err && errlen) err[0] = '\0';
  if (!out || !cfg) return new_fail(err, errlen, HUD_EINVAL, "no configuration");
  *out = NULL;
  const char *url = hud_config_str(cfg, HUD_CFG_URL);
  const char *key = hud_config_str(cfg, HUD_CFG_KEY);
  /* A key with control characters or spaces would corrupt the request headers. */
  for (const char *p = key; *p; p++)
    if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 127)
      return new_fail(err, errlen, HUD_ECONFIG, "key (%s): contains blanks or control characters",
                      hud_config_origin(cfg, HUD_CFG_KEY));
  const char *ca = hud_config_str(cfg, HUD_CFG_CA_FILE);
  /* A CA file that cannot be read is a configuration mistake; say so now rather than at the first request. */
  if (*ca && access(ca, R_OK) != 0)
    return new_fail(err, errlen, HUD_ECONFIG, "ca_file %s (%s): %s", ca, hud_config_origin(cfg, HUD_CFG_CA_FILE),
                    strerror(errno));
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return new_fail(err, errlen, HUD_ENOMEM, "libcurl init failed");
  hud_client *c = calloc(1, sizeof *c);
  if (!c) {
    curl_global_cleanup();
    return new_fail(err, errlen, HUD_ENOMEM, "out of memory");
  }
  c->base_url = hud_strdup(url);
  c->user_agent = hud_asprintf("hud/%s", HUD_VERSION_STRING);
  c->auth = *key ? hud_asprintf("Authorization: Bearer %s", key) : NULL;
  c->ca_file = *ca ? hud_strdup(ca) : NULL;
  c->connect_ms = (long)hud_config_int(cfg, HUD_CFG_CONNECT_TIMEOUT_MS);
  c->timeout_ms = (long)hud_config_int(cfg, HUD_CFG_TIMEOUT_MS);
  c->insecure = hud_config_bool(cfg, HUD_CFG_INSECURE);
  c->max_body = (size_t)hud_config_int(cfg, HUD_CFG_MAX_RESPONSE_BYTES);
  c->easy = curl_easy_init();
  c->multi = curl_multi_init();
  if (!c->base_url || !c->user_agent || (*key && !c->auth) || (*ca && !c->ca_file) || !c->easy || !c->multi) {
    hud_client_free(c);
    return new_fail(err, errlen, HUD_ENOMEM, "out of memory");
  }
  size_t n = strlen(c->base_url);
  while (n > 0 && c->base_url[n - 1] == '/') c->base_url[--n] = '\0';
  CURLU *u = curl_url();
  CURLUcode uc = u ? curl_url_set(u, CURLUPART_URL, c->base_url, 0) : CURLUE_OUT_OF_MEMORY;
  curl_url_cleanup(u);
  if (uc != CURLUE_OK) {
    hud_client_free(c);
    if (uc == CURLUE_OUT_OF_MEMORY) return new_fail(err, errlen, HUD_ENOMEM, "out of memory");
    return new_fail(err, errlen, HUD_ECONFIG, "url %s (%s): %s", url, hud_config_origin(cfg, HUD_CFG_URL),
                    curl_url_strerror(uc));
  }
  *out = c;
  return 0;
}

/* ---- building a transfer ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
  xfer *x = ud;
  size_t n = size * nmemb;
  if (x->resp_len + n > x->c->max_body) {
    x->too_big = 1;
    return 0; /* libcurl aborts with CURLE_WRITE_ERROR */
  }
  if (x->resp_len + n + 1 > x->resp_cap) {
    size_t cap = x->resp_cap ? x->resp_cap : 4096;
    while (cap < x->resp_len + n + 1) cap *= 2;
    char *b = realloc(x->resp, cap);
    if (!b) return 0;
    x->resp = b;
    x->resp_cap = cap;
  }
  memcpy(x->resp + x->resp_len, data, n);
  x->resp_len += n;
  x->resp[x->resp_len] = '\0';
  return n;
}

static int gzip_body(const char *in, size_t len, unsigned char **out, size_t *out_len) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  /* windowBits 15 + 16: a gzip wrapper rather than zlib's. */
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return HUD_ENOMEM;
  if (len > UINT32_MAX) {
    deflateEnd(&zs);
    return HUD_ETOOBIG;
  }
  uLong cap = deflateBound(&zs, (uLong)len);
  unsigned char *buf = malloc(cap);
  if (!buf) {
    deflateEnd(&zs);
    return HUD_ENOMEM;
  }
  zs.next_in = (Bytef *)in;
  zs.avail_in = (uInt)len;
  zs.next_out = buf;
  zs.avail_out = (uInt)cap;
  int rc = deflate(&zs, Z_FINISH);
  *out_len = cap - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    free(buf);
    return HUD_EIO;
  }
  *out = buf;
  return 0;
}

static char *build_url(hud_client *c, CURL *easy, const hud_request *req) {
  const char *path = req->path ? req->path : "";
  size_t cap = strlen(c->base_url) + strlen(path) + 2;
  char *url = malloc(cap);
  if (!url) return NULL;
  snprintf(url, cap, "%s%s%s", c->base_url, (*path && *path != '/') ? "/" : "", path);
  for (size_t i = 0; i < req->n_params; i++) {
    const hud_param *p = &req->params[i];
    char *k = curl_easy_escape(easy, p->name ? p->name : "", 0);
    char *v = curl_easy_escape(easy, p->value ? p->value : "", 0);
    char *next = (k && v) ? hud_asprintf("%s%c%s=%s", url, i == 0 && !strchr(path, '?') ? '?' : '&', k, v) : NULL;
    curl_free(k);
    curl_free(v);
    free(url);
    if (!next) return NULL;
    url = next;
  }
  return url;
}

static void xfer_release(xfer *x) {
  curl_slist_free_all(x->headers);
  free(x->url);
  free(x->body);
  free(x->resp);
  if (x->owns_easy && x->easy) curl_easy_cleanup(x->easy);
  x->headers = NULL;
  x->url = NULL;
  x->body = NULL;
  x->resp = NULL;
}

static int add_header(xfer *x, const char *h) {
  struct curl_slist *l = curl_slist_append(x->headers, h);
  if (!l) return HUD_ENOMEM;
  x->headers = l;
  return 0;
}

static int xfer_setup(hud_client *c, xfer *x, const hud_request *req) {
  CURL *e = x->easy;
  x->c = c;
  x->url = build_url(c, e, req);
  if (!x->url) return HUD_ENOMEM;
  int has_body = req->body != NULL;
  if (has_body) {
    if (req->gzip) {
      int rc = gzip_body(req->body, req->body_len, &x->body, &x->body_len);
      if (rc != 0) return rc;
    } else {
      x->body = malloc(req->body_len ? req->body_len : 1);
      if (!x->body) return HUD_ENOMEM;
      if (req->body_len) memcpy(x->body, req->body, req->body_len);
      x->body_len = req->body_len;
    }
  }
  if (add_header(x, "Accept: application/json") || (c->auth && add_header(x, c->auth)) ||
      /* An empty Expect: stops libcurl waiting for "100 Continue" before large bodies. */
      add_header(x, "Expect:") || (has_body && add_header(x, "Content-Type: application/json")) ||
      (has_body && req->gzip && add_header(x, "Content-Encoding: gzip")))
    return HUD_ENOMEM;

  const char *method = req->method ? req->method : has_body ? "POST" : "GET";
  curl_easy_setopt(e, CURLOPT_URL, x->url);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* gzip/deflate/... responses, decoded by libcurl */
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_body);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
  if (c->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
  curl_easy_setopt(e, CURLOPT_PRIVATE, x);
  if (has_body) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, (char *)x->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
  }
  if (strcmp(method, "GET") == 0) {
    if (!has_body) curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L); /* a custom HEAD would wait for a body that never comes */
  } else if (strcmp(method, "POST") != 0 || !has_body) {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
  }
  x->errbuf[0] = '\0';
  clock_gettime(CLOCK_MONOTONIC, &x->t0);
  return 0;
}

/* ---- turning an outcome into a hud_result ---- */

static int map_curl(CURLcode cc) {
  switch (cc) {
    case CURLE_OK: return 0;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
      return HUD_ECONNECT;
    case CURLE_OPERATION_TIMEDOUT: return HUD_ETIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      return HUD_ETLS;
    case CURLE_FILESIZE_EXCEEDED: return HUD_ETOOBIG;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return HUD_ECONFIG;
    case CURLE_OUT_OF_MEMORY: return HUD_ENOMEM;
    case CURLE_ABORTED_BY_CALLBACK: return HUD_ECANCELED;
    default: return HUD_EIO;
  }
}

static int map_status(long s) {
  if (s >= 200 && s < 300) return 0;
  switch (s) {
    case 401: return HUD_EAUTH;
    case 403: return HUD_EFORBIDDEN;
    case 404: return HUD_ENOTFOUND;
    case 413: return HUD_ETOOBIG;
  }
  return s >= 500 && s < 600 ? HUD_ESERVER : HUD_EHTTP;
}

/* Reads `{"error":{"code":..,"message":..}}` from an error body with the codec, if it is one. */
static void parse_error_body(hud_result *res) {
  if (!res->body || res->body_len == 0) return;
  hud_arena *a = hud_arena_new();
  if (!a) return;
  hud_error_response e;
  hud_decode_opts o = {.unknown_fields = HUD_UNKNOWN_IGNORE};
  if (hud_error_response_decode(res->body, res->body_len, &o, a, &e, NULL) == 0) {
    res->error_code = hud_strdup(e.code);
    if (e.message[0]) res->message = hud_strdup(e.message);
  }
  hud_arena_free(a);
}

static void xfer_finish(xfer *x, CURLcode cc, hud_result *res) {
  memset(res, 0, sizeof *res);
  res->elapsed_ms = ms_since(&x->t0);
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &res->status);
  res->body = x->resp;
  res->body_len = x->resp_len;
  x->resp = NULL;
  x->resp_len = x->resp_cap = 0;
  if (cc != CURLE_OK) {
    res->err = x->too_big ? HUD_ETOOBIG : map_curl(cc);
    if (x->too_big || cc == CURLE_FILESIZE_EXCEEDED)
      res->message = hud_asprintf("%s: response larger than max_response_bytes (%zu)", x->url, x->c->max_body);
    else
      res->message = hud_asprintf("%s: %s", x->url, x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
    /* A partial body is not an answer. */
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
    return;
  }
  /* An empty body is still a body: NULL means no response at all. */
  if (!res->body && !(res->body = hud_strdup(""))) {
    res->err = HUD_ENOMEM;
    return;
  }
  res->err = map_status(res->status);
  if (res->err == 0) return;
  parse_error_body(res);
  if (!res->message) {
    if (res->status >= 300 && res->status < 400) {
      char *loc = NULL;
      curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &loc);
      res->message = hud_asprintf("HTTP %ld from %s (redirect to %s not followed)", res->status, x->url,
                               loc ? loc : "?");
    } else {
      res->message = hud_asprintf("HTTP %ld from %s", res->status, x->url);
    }
  }
}

/* ---- blocking ---- */

int hud_client_do(hud_client *c, const hud_request *req, hud_result *res) {
  if (!res) return HUD_EINVAL;
  memset(res, 0, sizeof *res);
  if (!c || !req) {
    res->err = HUD_EINVAL;
    return res->err;
  }
  xfer x;
  memset(&x, 0, sizeof x);
  curl_easy_reset(c->easy);
  x.easy = c->easy;
  int rc = xfer_setup(c, &x, req);
  if (rc != 0) {
    xfer_release(&x);
    res->err = rc;
    res->message = hud_asprintf("could not prepare the request: %s", hud_strerror(rc));
    return rc;
  }
  CURLcode cc = curl_easy_perform(c->easy);
  xfer_finish(&x, cc, res);
  /* Drop the handle's pointers into this frame (error buffer, headers, body); the connection stays cached. */
  curl_easy_reset(c->easy);
  xfer_release(&x);
  return res->err;
}

int hud_client_get(hud_client *c, const char *path, const hud_param *params, size_t n_params, hud_result *res) {
  hud_request req = {.method = "GET", .path = path, .params = params, .n_params = n_params};
  return hud_client_do(c, &req, res);
}

int hud_client_post_json(hud_client *c, const char *path, const char *json, size_t len, bool gzip,
                         hud_result *res) {
  hud_request req = {.method = "POST", .path = path, .body = json ? json : "", .body_len = json ? len : 0,
                     .gzip = gzip};
  return hud_client_do(c, &req, res);
}

/* ---- non-blocking ---- */

static int on_curl_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp) {
  hud_client *c = userp;
  int ev = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) ev |= HUD_POLL_IN;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) ev |= HUD_POLL_OUT;
  c->loop.watch_socket(c->loop.loop_ud, (int)s, what == CURL_POLL_REMOVE ? 0 : ev);
  return 0;
}

static int on_curl_timer(CURLM *m, long timeout_ms, void *userp) {
  hud_client *c = userp;
  c->loop.set_timer(c->loop.loop_ud, timeout_ms);
  return 0;
}

int hud_client_attach_loop(hud_client *c, const hud_client_loop *loop) {
  if (!c || !loop || !loop->watch_socket || !loop->set_timer) return HUD_EINVAL;
  if (c->n_xfers) return HUD_EBUSY;
  c->loop = *loop;
  c->has_loop = 1;
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
  return 0;
}

static void unlink_xfer(hud_client *c, xfer *x) {
  for (xfer **p = &c->xfers; *p; p = &(*p)->next) {
    if (*p == x) {
      *p = x->next;
      c->n_xfers--;
      return;
    }
  }
}

/* Detaches X, runs its callback with RES, and frees it. */
static void complete(hud_client *c, xfer *x, hud_result *res) {
  curl_multi_remove_handle(c->multi, x->easy);
  unlink_xfer(c, x);
  if (x->cb) x->cb(c, x->id, res, x->ud);
  hud_result_clear(res);
  xfer_release(x);
  free(x);
}

int hud_client_start(hud_client *c, const hud_request *req, hud_client_cb cb, void *ud, unsigned long *id) {
  if (id) *id = 0;
  if (!c || !req || !cb) return HUD_EINVAL;
  if (!c->has_loop) return HUD_EINVAL;
  xfer *x = calloc(1, sizeof *x);
  if (!x) return HUD_ENOMEM;
  x->easy = curl_easy_init();
  x->owns_easy = 1;
  int rc = x->easy ? xfer_setup(c, x, req) : HUD_ENOMEM;
  if (rc == 0 && curl_multi_add_handle(c->multi, x->easy) != CURLM_OK) rc = HUD_ENOMEM;
  if (rc != 0) {
    xfer_release(x);
    free(x);
    return rc;
  }
  x->cb = cb;
  x->ud = ud;
  x->id = ++c->next_id;
  x->next = c->xfers;
  c->xfers = x;
  c->n_xfers++;
  if (id) *id = x->id;
  return 0;
}

int hud_client_cancel(hud_client *c, unsigned long id) {
  if (!c) return HUD_EINVAL;
  for (xfer *x = c->xfers; x; x = x->next) {
    if (x->id != id) continue;
    hud_result res;
    memset(&res, 0, sizeof res);
    res.err = HUD_ECANCELED;
    res.elapsed_ms = ms_since(&x->t0);
    res.message = hud_asprintf("%s: canceled", x->url);
    complete(c, x, &res);
    return 0;
  }
  return HUD_ENOTFOUND;
}

static void reap(hud_client *c) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(c->multi, &left))) {
    if (m->msg != CURLMSG_DONE) continue;
    xfer *x = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
    CURLcode cc = m->data.result;
    hud_result res;
    xfer_finish(x, cc, &res);
    complete(c, x, &res);
  }
}

void hud_client_on_socket(hud_client *c, int fd, int events) {
  if (!c) return;
  int mask = 0, running = 0;
  if (events & HUD_POLL_IN) mask |= CURL_CSELECT_IN;
  if (events & HUD_POLL_OUT) mask |= CURL_CSELECT_OUT;
  if (events == 0) mask = CURL_CSELECT_ERR;
  curl_multi_socket_action(c->multi, (curl_socket_t)fd, mask, &running);
  reap(c);
}

void hud_client_on_timeout(hud_client *c) {
  if (!c) return;
  int running = 0;
  curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  reap(c);
}

size_t hud_client_pending(const hud_client *c) { return c ? c->n_xfers : 0; }

void hud_client_free(hud_client *c) {
  if (!c) return;
  while (c->xfers) hud_client_cancel(c, c->xfers->id);
  if (c->multi) curl_multi_cleanup(c->multi);
  if (c->easy) curl_easy_cleanup(c->easy);
  free(c->base_url);
  free(c->auth);
  free(c->user_agent);
  free(c->ca_file);
  free(c);
  curl_global_cleanup();
}
