#include "httpd_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>
#include <zlib.h>

/* Uploads beyond this are refused; tests never need more. */
#define HTTPD_MAX_BODY (64u << 20)

typedef struct route {
  char *method, *path;
  httpd_response resp;
  char *body; /* owned copy of resp.body */
  int left;   /* answers left for a limited route; 0 unlimited; -1 used up */
} route;

struct httpd {
  struct MHD_Daemon *daemon;
  int port;
  char url[64];
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stopping;
  route *routes;
  size_t n_routes;
  httpd_request **reqs;
  size_t n_reqs;
  size_t sent;
};

/* Per-connection-request state while the body arrives. */
typedef struct pending {
  unsigned char *body;
  size_t len, cap;
  int too_big;
} pending;

typedef struct stream {
  char *unit; /* repeated text */
  size_t unit_len;
  size_t total; /* bytes to send in all */
} stream;

static char *dup_n(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (!d) abort();
  if (n) memcpy(d, s, n);
  d[n] = '\0';
  return d;
}
static char *dup_s(const char *s) { return dup_n(s, strlen(s)); }

typedef struct kv_list {
  httpd_header *v;
  size_t n;
} kv_list;

static enum MHD_Result collect_kv(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  kv_list *l = cls;
  httpd_header *v = realloc(l->v, (l->n + 1) * sizeof *v);
  if (!v) abort();
  l->v = v;
  l->v[l->n].name = dup_s(key);
  l->v[l->n].value = dup_s(value ? value : "");
  l->n++;
  return MHD_YES;
}

static void gunzip(httpd_request *r) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, 15 + 32) != Z_OK) {
    r->decode_error = 1;
    return;
  }
  size_t cap = r->body_len * 4 + 1024, len = 0;
  unsigned char *out = malloc(cap + 1);
  if (!out) abort();
  zs.next_in = r->body;
  zs.avail_in = (uInt)r->body_len;
  int rc;
  do {
    if (len == cap) {
      cap *= 2;
      out = realloc(out, cap + 1);
      if (!out) abort();
    }
    zs.next_out = out + len;
    zs.avail_out = (uInt)(cap - len);
    rc = inflate(&zs, Z_NO_FLUSH);
    len = cap - zs.avail_out;
  } while (rc == Z_OK && len < HTTPD_MAX_BODY * 4);
  inflateEnd(&zs);
  out[len] = '\0';
  if (rc != Z_STREAM_END) {
    r->decode_error = 1;
    free(out);
    return;
  }
  r->decoded = out;
  r->decoded_len = len;
}

static httpd_request *record(httpd *h, struct MHD_Connection *conn, const char *url, const char *method,
                             pending *p) {
  httpd_request *r = calloc(1, sizeof *r);
  if (!r) abort();
  r->method = dup_s(method);
  r->path = dup_s(url);
  kv_list args = {0}, hdrs = {0};
  MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_kv, &args);
  MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_kv, &hdrs);
  r->args = args.v;
  r->n_args = args.n;
  r->headers = hdrs.v;
  r->n_headers = hdrs.n;
  r->body = (unsigned char *)dup_n((const char *)(p->body ? p->body : (unsigned char *)""), p->len);
  r->body_len = p->len;
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
    r->client_port = ntohs(((const struct sockaddr_in *)ci->client_addr)->sin_port);
  const char *enc = httpd_request_header(r, "Content-Encoding");
  if (enc && strcasecmp(enc, "gzip") == 0) {
    gunzip(r);
  } else {
    r->decoded = (unsigned char *)dup_n((const char *)r->body, r->body_len);
    r->decoded_len = r->body_len;
  }
  pthread_mutex_lock(&h->mu);
  httpd_request **v = realloc(h->reqs, (h->n_reqs + 1) * sizeof *v);
  if (!v) abort();
  h->reqs = v;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  r->received_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
  h->reqs[h->n_reqs++] = r;
  pthread_cond_broadcast(&h->cv);
  pthread_mutex_unlock(&h->mu);
  return r;
}

/* Copies the best route for METHOD/PATH into *OUT (body duplicated). Returns 0 if none. */
static int find_route(httpd *h, const char *method, const char *path, httpd_response *out, char **body) {
  int best = -1, best_score = -1;
  pthread_mutex_lock(&h->mu);
  for (size_t i = 0; i < h->n_routes; i++) {
    route *rt = &h->routes[i];
    int m = strcmp(rt->method, method) == 0 ? 2 : strcmp(rt->method, "*") == 0 ? 1 : 0;
    int p = strcmp(rt->path, path) == 0 ? 2 : strcmp(rt->path, "*") == 0 ? 1 : 0;
    if (!m || !p || rt->left < 0) continue;
    int score = p * 3 + m;
    if (score >= best_score) { /* >=: the latest added wins ties */
      best_score = score;
      best = (int)i;
    }
  }
  if (best >= 0) {
    route *rt = &h->routes[best];
    if (rt->left > 0 && --rt->left == 0) rt->left = -1; /* used up */
    *out = h->routes[best].resp;
    *body = dup_n(h->routes[best].body, h->routes[best].resp.body_len);
    out->body = *body;
  }
  pthread_mutex_unlock(&h->mu);
  return best >= 0;
}

/* Sleeps up to MS, returning early (nonzero) when the server stops. */
static int wait_or_stop(httpd *h, int ms) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&h->mu);
  int rc = 0;
  while (!h->stopping && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&h->cv, &h->mu, &until);
  int stopped = h->stopping;
  pthread_mutex_unlock(&h->mu);
  return stopped;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
  stream *s = cls;
  if (pos >= s->total) return MHD_CONTENT_READER_END_OF_STREAM;
  size_t n = 0;
  while (n < max && pos + n < s->total) {
    size_t off = (size_t)((pos + n) % s->unit_len);
    size_t k = s->unit_len - off;
    if (k > max - n) k = max - n;
    if (k > s->total - (pos + n)) k = (size_t)(s->total - (pos + n));
    memcpy(buf + n, s->unit + off, k);
    n += k;
  }
  return (ssize_t)n;
}

static void stream_free(void *cls) {
  stream *s = cls;
  free(s->unit);
  free(s);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  httpd *h = cls;
  pending *p = *con_cls;
  if (!p) {
    p = calloc(1, sizeof *p);
    if (!p) return MHD_NO;
    *con_cls = p;
    return MHD_YES;
  }
  if (*upload_data_size) {
    size_t n = *upload_data_size;
    if (p->len + n > HTTPD_MAX_BODY) {
      p->too_big = 1;
    } else {
      if (p->len + n > p->cap) {
        size_t cap = p->cap ? p->cap : 4096;
        while (cap < p->len + n) cap *= 2;
        unsigned char *b = realloc(p->body, cap);
        if (!b) return MHD_NO;
        p->body = b;
        p->cap = cap;
      }
      memcpy(p->body + p->len, upload_data, n);
      p->len += n;
    }
    *upload_data_size = 0;
    return MHD_YES;
  }

  record(h, conn, url, method, p);
  httpd_response r;
  char *body = NULL;
  if (!find_route(h, method, url, &r, &body)) {
    memset(&r, 0, sizeof r);
    r.status = 404;
    body = dup_s("{\"error\":{\"code\":\"not_found\",\"message\":\"no route in the test fixture\"}}");
    r.body = body;
    r.body_len = strlen(body);
  }
  if (p->too_big) {
    memset(&r, 0, sizeof r);
    r.status = 413;
  }
  if (r.delay_ms > 0 && wait_or_stop(h, r.delay_ms)) {
    free(body);
    return MHD_NO;
  }
  if (r.drop) {
    free(body);
    return MHD_NO;
  }
  struct MHD_Response *resp;
  if (r.chunked || r.repeat_len) {
    stream *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->unit_len = r.body_len ? r.body_len : 1;
    s->unit = r.body_len ? dup_n(r.body, r.body_len) : dup_s("x");
    s->total = r.repeat_len ? r.repeat_len : r.body_len;
    resp = MHD_create_response_from_callback(r.chunked ? MHD_SIZE_UNKNOWN : (uint64_t)s->total, 16384,
                                             stream_read, s, stream_free);
  } else {
    resp = MHD_create_response_from_buffer(r.body_len, (void *)(r.body ? r.body : ""), MHD_RESPMEM_MUST_COPY);
  }
  free(body);
  if (!resp) return MHD_NO;
  MHD_add_response_header(resp, "Content-Type", r.content_type ? r.content_type : "application/json");
  if (r.retry_after) MHD_add_response_header(resp, "Retry-After", r.retry_after);
  enum MHD_Result ret = MHD_queue_response(conn, (unsigned)(r.status ? r.status : 200), resp);
  MHD_destroy_response(resp);
  return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  httpd *h = cls;
  pending *p = *con_cls;
  if (p) {
    free(p->body);
    free(p);
    *con_cls = NULL;
  }
  if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
    pthread_mutex_lock(&h->mu);
    h->sent++;
    pthread_mutex_unlock(&h->mu);
  }
}

static httpd *start(const char *cert, const char *key) {
  httpd *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->cv, NULL);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = 0;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
  if (cert) {
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
      free(h);
      return NULL;
    }
    h->daemon = MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
                                 (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                                 MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
                                 MHD_OPTION_END);
  } else {
    h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
                                 (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                                 MHD_OPTION_END);
  }
  if (!h->daemon) {
    fprintf(stderr, "httpd_fixture: MHD_start_daemon failed\n");
    free(h);
    return NULL;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
  h->port = info ? info->port : 0;
  snprintf(h->url, sizeof h->url, "%s://127.0.0.1:%d", cert ? "https" : "http", h->port);
  return h;
}

httpd *httpd_start(void) { return start(NULL, NULL); }
httpd *httpd_start_tls(const char *cert_pem, const char *key_pem) { return start(cert_pem, key_pem); }

static void free_kv(httpd_header *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i].name);
    free(v[i].value);
  }
  free(v);
}

void httpd_stop(httpd *h) {
  if (!h) return;
  pthread_mutex_lock(&h->mu);
  h->stopping = 1;
  pthread_cond_broadcast(&h->cv);
  pthread_mutex_unlock(&h->mu);
  MHD_stop_daemon(h->daemon);
  for (size_t i = 0; i < h->n_routes; i++) {
    free(h->routes[i].method);
    free(h->routes[i].path);
    free(h->routes[i].body);
  }
  free(h->routes);
  for (size_t i = 0; i < h->n_reqs; i++) {
    httpd_request *r = h->reqs[i];
    free(r->method);
    free(r->path);
    free_kv(r->args, r->n_args);
    free_kv(r->headers, r->n_headers);
    free(r->body);
    free(r->decoded);
    free(r);
  }
  free(h->reqs);
  pthread_mutex_destroy(&h->mu);
  pthread_cond_destroy(&h->cv);
  free(h);
}

int httpd_port(const httpd *h) { return h->port; }
const char *httpd_url(const httpd *h) { return h->url; }

void httpd_route(httpd *h, const char *method, const char *path, const httpd_response *resp) {
  size_t len = resp->body_len ? resp->body_len : (resp->body ? strlen(resp->body) : 0);
  char *body = dup_n(resp->body ? resp->body : "", len);
  pthread_mutex_lock(&h->mu);
  /* An unlimited route replaces the unlimited one for the same method and path, moving to the end. */
  for (size_t i = 0; i < h->n_routes && resp->times <= 0; i++) {
    route *old = &h->routes[i];
    if (old->left == 0 && strcmp(old->method, method) == 0 && strcmp(old->path, path) == 0) {
      free(old->method);
      free(old->path);
      free(old->body);
      memmove(old, old + 1, (h->n_routes - i - 1) * sizeof *old);
      h->n_routes--;
      break;
    }
  }
  route *v = realloc(h->routes, (h->n_routes + 1) * sizeof *v);
  if (!v) abort();
  h->routes = v;
  route *rt = &h->routes[h->n_routes++];
  rt->method = dup_s(method);
  rt->path = dup_s(path);
  rt->resp = *resp;
  rt->resp.body_len = len;
  rt->body = body;
  rt->left = resp->times > 0 ? resp->times : 0;
  pthread_mutex_unlock(&h->mu);
}

void httpd_route_simple(httpd *h, const char *method, const char *path, int status, const char *body) {
  httpd_response r = {.status = status, .body = body};
  httpd_route(h, method, path, &r);
}

size_t httpd_request_count(httpd *h) {
  pthread_mutex_lock(&h->mu);
  size_t n = h->n_reqs;
  pthread_mutex_unlock(&h->mu);
  return n;
}

const httpd_request *httpd_request_at(httpd *h, size_t i) {
  pthread_mutex_lock(&h->mu);
  const httpd_request *r = i < h->n_reqs ? h->reqs[i] : NULL;
  pthread_mutex_unlock(&h->mu);
  return r;
}

size_t httpd_wait_requests(httpd *h, size_t n, int timeout_ms) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += timeout_ms / 1000;
  until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&h->mu);
  int rc = 0;
  while (h->n_reqs < n && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&h->cv, &h->mu, &until);
  size_t got = h->n_reqs;
  pthread_mutex_unlock(&h->mu);
  return got;
}

size_t httpd_responses_sent(httpd *h) {
  pthread_mutex_lock(&h->mu);
  size_t n = h->sent;
  pthread_mutex_unlock(&h->mu);
  return n;
}

static const char *lookup(const httpd_header *v, size_t n, const char *name, int icase) {
  for (size_t i = 0; i < n; i++)
    if ((icase ? strcasecmp(v[i].name, name) : strcmp(v[i].name, name)) == 0) return v[i].value;
  return NULL;
}

const char *httpd_request_header(const httpd_request *r, const char *name) {
  return lookup(r->headers, r->n_headers, name, 1);
}

const char *httpd_request_arg(const httpd_request *r, const char *name) {
  return lookup(r->args, r->n_args, name, 0);
}
