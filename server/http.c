/* HTTP layer on libmicrohttpd: buffering, routing, authentication, error bodies, metrics. */
#define _GNU_SOURCE
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "hud/err.h"
#include "metrics.h"

#define MAX_QUERY 64
#define MAX_PATH_PARAMS 8
#define MAX_ENVS 16

struct srv_http {
  struct MHD_Daemon *d;
  srv_store *store;
  uint16_t port;
  atomic_int inflight;
  int stopped;
};

/* Per-request state, from the first access-handler call to the completion callback. */
typedef struct req_ctx {
  const srv_route *route;
  int status_early; /* non-zero: answer with this status once the body is drained */
  int too_big;
  unsigned char *body;
  size_t len, cap, limit;
  struct timespec t0;
  int counted;
  srv_http *h;
  char *path_copy;
  srv_kv path_params[MAX_PATH_PARAMS];
  size_t n_path_params;
  const char *path_rest;
} req_ctx;

/* ---- response helpers (routes.h) ---- */

static char *json_escape_dup(const char *s) {
  size_t n = strlen(s), cap = n * 6 + 3, o = 0;
  char *out = malloc(cap);
  if (!out) return NULL;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    unsigned char c = *p;
    if (c == '"' || c == '\\') {
      out[o++] = '\\';
      out[o++] = (char)c;
    } else if (c < 0x20) {
      o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
    } else {
      out[o++] = (char)c;
    }
  }
  out[o] = 0;
  return out;
}

int srv_response_json(srv_response *resp, int status, char *json) {
  if (!json) return HUD_EINVAL;
  free(resp->body);
  resp->status = status;
  resp->body = json;
  resp->body_len = strlen(json);
  resp->content_type = "application/json";
  return 0;
}

int srv_response_text(srv_response *resp, int status, const char *content_type, const char *text, size_t len) {
  char *copy = malloc(len + 1);
  if (!copy) return HUD_ENOMEM;
  memcpy(copy, text, len);
  copy[len] = 0;
  free(resp->body);
  resp->status = status;
  resp->body = copy;
  resp->body_len = len;
  resp->content_type = content_type;
  return 0;
}

int srv_response_error(srv_response *resp, int status, const char *code, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char *emsg = json_escape_dup(msg), *ecode = json_escape_dup(code);
  char *body = NULL;
  if (emsg && ecode && asprintf(&body, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", ecode, emsg) < 0)
    body = NULL;
  free(emsg);
  free(ecode);
  free(resp->body);
  resp->body = body;
  resp->body_len = body ? strlen(body) : 0;
  resp->status = status;
  resp->content_type = "application/json";
  snprintf(resp->err_code, sizeof resp->err_code, "%s", code);
  return 0;
}

const char *srv_request_param(const srv_request *req, const char *name) {
  for (size_t i = 0; i < req->n_query; i++)
    if (strcmp(req->query[i].name, name) == 0) return req->query[i].value;
  return NULL;
}

const char *srv_request_path_param(const srv_request *req, const char *name) {
  for (size_t i = 0; i < req->n_path_params; i++)
    if (strcmp(req->path_params[i].name, name) == 0) return req->path_params[i].value;
  return NULL;
}

int srv_request_env_allowed(const srv_request *req, const char *env) {
  for (size_t i = 0; i < req->n_envs; i++)
    if (strcmp(req->envs[i], env) == 0) return 1;
  return 0;
}

/* ---- routing ---- */

/* Matches PATH against PATTERN; on success fills the captures in C (pointing into C->path_copy). */
static int route_match(const char *pattern, const char *path, req_ctx *c) {
  const char *p = pattern, *u = path;
  size_t np = 0;
  char *copy = strdup(path);
  if (!copy) return 0;
  while (*p) {
    if (p[0] == '/' && p[1] == '*' && p[2] == 0) {
      if (*u != '/' && *u != 0) goto no;
      c->path_rest = path + (u - path) + (*u == '/');
      break;
    }
    if (*p == '{') {
      const char *pe = strchr(p, '}');
      if (!pe || np >= MAX_PATH_PARAMS) goto no;
      const char *ue = strchr(u, '/');
      if (!ue) ue = u + strlen(u);
      if (ue == u) goto no;
      /* The value is cut out of the path copy in place; the name is not NUL-terminated in the pattern. */
      char *w = copy + (u - path);
      w[ue - u] = 0;
      c->path_params[np].value = w;
      c->path_params[np].name = strndup(p + 1, (size_t)(pe - p - 1));
      np++;
      p = pe + 1;
      u = ue;
      continue;
    }
    if (*p != *u) goto no;
    p++;
    u++;
  }
  if (!*p && *u) goto no;
  if (!c->path_rest) c->path_rest = "";
  c->path_copy = copy;
  c->n_path_params = np;
  return 1;
no:
  for (size_t i = 0; i < np; i++) free((char *)c->path_params[i].name);
  free(copy);
  c->path_rest = NULL;
  return 0;
}

static const srv_route *const *route_tables(void) {
  static const srv_route *tables[] = {srv_metrics_routes, srv_ingest_routes, srv_query_routes, NULL};
  return tables;
}

/* Finds the route; *PATH_KNOWN set when some route has the path with another method. */
static const srv_route *route_find(const char *method, const char *path, req_ctx *c, int *path_known) {
  *path_known = 0;
  for (const srv_route *const *t = route_tables(); *t; t++) {
    for (const srv_route *r = *t; r->method; r++) {
      req_ctx probe = {0};
      if (!route_match(r->path, path, &probe)) continue;
      if (strcmp(r->method, method) == 0) {
        c->path_copy = probe.path_copy;
        memcpy(c->path_params, probe.path_params, sizeof probe.path_params);
        c->n_path_params = probe.n_path_params;
        c->path_rest = probe.path_rest;
        return r;
      }
      *path_known = 1;
      for (size_t i = 0; i < probe.n_path_params; i++) free((char *)probe.path_params[i].name);
      free(probe.path_copy);
    }
  }
  return NULL;
}

/* ---- MHD callbacks ---- */

typedef struct kv_collect {
  srv_kv *kv;
  size_t n;
} kv_collect;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  kv_collect *k = cls;
  if (k->n >= MAX_QUERY) return MHD_NO;
  k->kv[k->n].name = key;
  k->kv[k->n].value = value ? value : "";
  k->n++;
  return MHD_YES;
}

static int status_for_err(int err) {
  switch (err) {
  case HUD_EINVAL: case HUD_EFIELD: case HUD_EPARSE: case HUD_ERANGE: case HUD_EVERSION: return 400;
  case HUD_ENOTFOUND: return 404;
  case HUD_EFORBIDDEN: return 403;
  case HUD_EAUTH: return 401;
  case HUD_ETOOBIG: return 413;
  case HUD_EBUSY: return 503;
  default: return 500;
  }
}

static const char *code_for_status(int status) {
  switch (status) {
  case 400: return "bad_request";
  case 401: return "unauthorized";
  case 403: return "forbidden";
  case 404: return "not_found";
  case 405: return "method_not_allowed";
  case 413: return "payload_too_large";
  case 503: return "unavailable";
  default: return "internal";
  }
}

static enum MHD_Result send_response(struct MHD_Connection *conn, req_ctx *c, srv_response *resp) {
  if (resp->status == 0) resp->status = resp->body ? 200 : 204;
  struct MHD_Response *r;
  if (resp->body) {
    r = MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
    resp->body = NULL;
  } else {
    r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
  }
  if (!r) return MHD_NO;
  MHD_add_response_header(r, "Content-Type", resp->content_type ? resp->content_type : "application/json");
  if (resp->status == 401) MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
  enum MHD_Result ok = MHD_queue_response(conn, (unsigned)resp->status, r);
  MHD_destroy_response(r);
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - c->t0.tv_sec) + (double)(t1.tv_nsec - c->t0.tv_nsec) / 1e9;
  const char *name = c->route ? (c->route->name ? c->route->name : c->route->path) : "unmatched";
  srv_metrics_request(name, resp->status, secs);
  return ok;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, req_ctx *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum MHD_Result send_error(struct MHD_Connection *conn, req_ctx *c, int status, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  srv_response resp = {0};
  srv_response_error(&resp, status, code_for_status(status), "%s", msg);
  return send_response(conn, c, &resp);
}

/* Splits a comma-separated list in place into at most MAX_ENVS pointers. */
static size_t split_envs(char *envs, const char **out) {
  size_t n = 0;
  for (char *save = NULL, *t = strtok_r(envs, ",", &save); t && n < MAX_ENVS; t = strtok_r(NULL, ",", &save))
    out[n++] = t;
  return n;
}

static enum MHD_Result dispatch(struct MHD_Connection *conn, req_ctx *c, const char *method, const char *url) {
  const srv_route *r = c->route;
  srv_kv query[MAX_QUERY];
  kv_collect qc = {query, 0};
  MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &qc);

  srv_request req = {0};
  req.method = method;
  req.path = url;
  req.query = query;
  req.n_query = qc.n;
  req.path_params = c->path_params;
  req.n_path_params = c->n_path_params;
  req.path_rest = c->path_rest ? c->path_rest : "";
  const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
  const char *ce = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Encoding");
  req.content_type = ct ? ct : "";
  req.content_encoding = ce ? ce : "";
  const char *cc = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Cache-Control");
  const char *pragma = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Pragma");
  req.fresh = (cc && strcasestr(cc, "no-cache")) || (pragma && strcasestr(pragma, "no-cache"));
  req.body = c->len ? c->body : NULL;
  req.body_len = c->len;
  req.store = c->h->store;

  char envs_buf[256];
  const char *envs[MAX_ENVS];
  if (!(r->flags & SRV_ROUTE_PUBLIC)) {
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0) {
      if (r->handler && strcmp(r->path, "/v1/ingest") == 0) srv_metrics_rejected("auth");
      return send_error(conn, c, 401, "missing API key: send 'Authorization: Bearer <key>'");
    }
    const char *tok = auth + 7;
    while (*tok == ' ') tok++;
    int rc = srv_auth_check(c->h->store, tok, &req.key_id, envs_buf, &req.roles);
    if (rc == HUD_EAUTH) {
      if (strcmp(r->path, "/v1/ingest") == 0) srv_metrics_rejected("auth");
      return send_error(conn, c, 401, "unknown or revoked API key");
    }
    if (rc < 0) return send_error(conn, c, 503, "cannot check the API key: %s", hud_strerror(rc));
    /* Roles: checked before the handler, so a refused request stores and changes nothing. */
    unsigned need = r->flags & SRV_ROLES_ALL;
    if (!need) return send_error(conn, c, 500, "route %s %s declares no role (server bug)", r->method, r->path);
    if (!(req.roles & need)) {
      const char *role = srv_auth_role_name(need & (0u - need));
      char have[64];
      srv_auth_roles_format(req.roles, have);
      srv_metrics_auth_refused(role);
      if (need & SRV_ROLE_INGEST) srv_metrics_rejected("auth");
      return send_error(conn, c, 403, "this API key lacks the '%s' role needed for %s %s (it has: %s)", role,
                        r->method, r->path, have);
    }
    req.n_envs = split_envs(envs_buf, envs);
    req.envs = envs;
    const char *env = srv_request_param(&req, "env");
    if (env && !srv_request_env_allowed(&req, env))
      return send_error(conn, c, 403, "this API key does not grant access to environment '%s'", env);
  }

  srv_response resp = {0};
  int rc = r->handler(&req, &resp);
  if (rc < 0 && !resp.err_code[0]) {
    int st = status_for_err(rc);
    srv_response_error(&resp, st, code_for_status(st), "%s", hud_strerror(rc));
  }
  return send_response(conn, c, &resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  srv_http *h = cls;
  req_ctx *c = *con_cls;
  if (!c) {
    c = calloc(1, sizeof *c);
    if (!c) return MHD_NO;
    c->h = h;
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
    atomic_fetch_add(&h->inflight, 1);
    c->counted = 1;
    *con_cls = c;
    int path_known = 0;
    c->route = route_find(method, url, c, &path_known);
    if (!c->route) {
      c->status_early = path_known ? 405 : 404;
    } else {
      c->limit = c->route->body_limit ? c->route->body_limit : SRV_BODY_LIMIT_DEFAULT;
      const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
      if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || *end || n > c->limit) {
          /* Answer at once so the client need not upload the whole body. */
          if (strcmp(c->route->path, "/v1/ingest") == 0) srv_metrics_rejected("too_large");
          return send_error(conn, c, 413, "request body larger than the limit of %zu bytes", c->limit);
        }
      }
    }
    return MHD_YES;
  }
  if (*upload_data_size) {
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    if (c->status_early || c->too_big) return MHD_YES;
    if (c->len + n > c->limit) {
      c->too_big = 1;
      free(c->body);
      c->body = NULL;
      c->len = c->cap = 0;
      return MHD_YES;
    }
    if (c->len + n > c->cap) {
      size_t cap = c->cap ? c->cap : 16384;
      while (cap < c->len + n) cap *= 2;
      if (cap > c->limit) cap = c->limit;
      unsigned char *nb = realloc(c->body, cap);
      if (!nb) return MHD_NO;
      c->body = nb;
      c->cap = cap;
    }
    memcpy(c->body + c->len, upload_data, n);
    c->len += n;
    return MHD_YES;
  }
  if (c->status_early == 404) return send_error(conn, c, 404, "no such endpoint: %s %s", method, url);
  if (c->status_early == 405) return send_error(conn, c, 405, "method %s not allowed on %s", method, url);
  if (c->too_big) {
    if (strcmp(c->route->path, "/v1/ingest") == 0) srv_metrics_rejected("too_large");
    return send_error(conn, c, 413, "request body larger than the limit of %zu bytes", c->limit);
  }
  return dispatch(conn, c, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  srv_http *h = cls;
  req_ctx *c = *con_cls;
  if (!c) return;
  if (c->counted) atomic_fetch_sub(&h->inflight, 1);
  for (size_t i = 0; i < c->n_path_params; i++) free((char *)c->path_params[i].name);
  free(c->path_copy);
  free(c->body);
  free(c);
  *con_cls = NULL;
}

/* ---- lifecycle ---- */

static int parse_listen(const char *listen, struct sockaddr_in *sa) {
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  const char *colon = strrchr(listen, ':');
  if (!colon) return HUD_EINVAL;
  char host[64];
  size_t hl = (size_t)(colon - listen);
  if (hl == 0 || hl >= sizeof host) return HUD_EINVAL;
  memcpy(host, listen, hl);
  host[hl] = 0;
  if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
  if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) return HUD_EINVAL;
  char *end;
  errno = 0;
  long port = strtol(colon + 1, &end, 10);
  if (errno || *end || colon[1] == 0 || port < 0 || port > 65535) return HUD_EINVAL;
  sa->sin_port = htons((uint16_t)port);
  return 0;
}

int srv_http_start(const srv_http_options *opt, srv_http **out) {
  struct sockaddr_in sa;
  if (!opt || !opt->store || !out) return HUD_EINVAL;
  if (parse_listen(opt->listen ? opt->listen : "127.0.0.1:7700", &sa) < 0) return HUD_EINVAL;
  srv_http *h = calloc(1, sizeof *h);
  if (!h) return HUD_ENOMEM;
  h->store = opt->store;
  unsigned threads = opt->threads > 0 ? (unsigned)opt->threads : 4;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
  int tls = opt->tls_cert_pem && opt->tls_key_pem;
  if (tls) flags |= MHD_USE_TLS;
  if (tls) {
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_HTTPS_MEM_CERT,
                            opt->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY, opt->tls_key_pem, MHD_OPTION_END);
  } else {
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
  }
  if (!h->d) {
    free(h);
    return HUD_EIO;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
  h->port = info ? info->port : ntohs(sa.sin_port);
  *out = h;
  return 0;
}

uint16_t srv_http_port(const srv_http *h) { return h->port; }

int srv_http_shutdown(srv_http *h, int timeout_ms) {
  if (!h || h->stopped) return 0;
  MHD_socket fd = MHD_quiesce_daemon(h->d);
  if (fd != MHD_INVALID_SOCKET) close(fd);
  int waited = 0;
  while (atomic_load(&h->inflight) > 0 && waited < timeout_ms) {
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
    waited += 5;
  }
  int left = atomic_load(&h->inflight);
  MHD_stop_daemon(h->d);
  h->stopped = 1;
  return left;
}

void srv_http_free(srv_http *h) {
  if (!h) return;
  if (!h->stopped) srv_http_shutdown(h, 0);
  free(h);
}
