/* HTTP layer on libmicrohttpd: admission (limits, API key, media type) before any body is read, buffering
 * under a global budget, routing, slow handlers on worker pools, error bodies, metrics. */
#define _GNU_SOURCE
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "conn_watch.h"
#include "hud/codec.h"
#include "hud/err.h"
#include "metrics.h"
#include "workpool.h"

#define MAX_QUERY 64
#define MAX_PATH_PARAMS 8
#define MAX_ENVS 16

/* Our own limits on the request head, answered with JSON errors (414, 431). libmicrohttpd's connection
 * memory is set well above them so that it does not refuse first with its own (HTML) answer. */
#define MAX_URI_BYTES (8u * 1024u)
#define MAX_HEAD_BYTES (16u * 1024u)
#define MHD_CONN_MEMORY (64u * 1024u)
/* Bodies without Content-Length (chunked) take their share of the budget in steps of this. */
#define BUDGET_STEP (64u * 1024u)
/* Seconds a client is told to wait after 429 / 503. */
#define RETRY_AFTER "1"
#define INGEST_QUEUE 32
#define QUERY_QUEUE 256

struct srv_http {
  struct MHD_Daemon *d;
  srv_store *store;
  uint16_t port;
  atomic_int inflight;
  int stopped;
  size_t body_budget;
  atomic_size_t body_bytes; /* reserved by the bodies of requests in flight */
  srv_pool *ingest_pool, *query_pool;
  srv_conn_watch *watch;
};

enum { ST_RECEIVING, ST_QUEUED, ST_READY };

/* Per-request state, from the first access-handler call to the completion callback. */
typedef struct req_ctx {
  const srv_route *route;
  const char *allow; /* for a 405: the method the path has */
  srv_http *h;
  struct MHD_Connection *conn;
  int expect_body; /* the head announced a body: the connection watch times its arrival */
  int rejected; /* HUD_E* to answer once the rest of the body is discarded (over the limit or budget) */
  unsigned char *body;
  size_t len, cap, limit, reserved;
  struct timespec t0;
  char *path_copy;
  srv_kv path_params[MAX_PATH_PARAMS];
  size_t n_path_params;
  const char *path_rest;
  srv_kv query[MAX_QUERY];
  size_t n_query;
  /* The authenticated key. */
  int64_t key_id;
  unsigned roles;
  char envs_buf[256];
  const char *envs[MAX_ENVS];
  size_t n_envs;
  /* Hand-off to a worker: the request it reads and the response it leaves (state ST_READY). */
  _Atomic int state;
  srv_request req;
  srv_response resp;
} req_ctx;

/* Why a request is refused before its handler: a HUD_E* (code and status from the codec's table) and, for
 * the few answers that table has no row for (405, 414, 431), the status to use instead. */
typedef struct refusal {
  int err;
  int status; /* 0: hud_api_http_status(err) */
  const char *code; /* NULL: hud_api_error_code(err) */
  char msg[320];
} refusal;

static int refuse(refusal *r, int err, int status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int refuse(refusal *r, int err, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->msg, sizeof r->msg, fmt, ap);
  va_end(ap);
  r->err = err;
  r->status = status;
  return err;
}


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

/* Finds the route; *ALLOW is the method of a route with the path but another method (for a 405), or NULL. */
static const srv_route *route_find(const char *method, const char *path, req_ctx *c, const char **allow) {
  *allow = NULL;
  if (strcmp(method, "HEAD") == 0) method = "GET"; /* libmicrohttpd leaves the body out */
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
      *allow = r->method;
      for (size_t i = 0; i < probe.n_path_params; i++) free((char *)probe.path_params[i].name);
      free(probe.path_copy);
    }
  }
  return NULL;
}

/* ---- answers ---- */

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
  if (resp->status == 405 && c->allow) MHD_add_response_header(r, "Allow", c->allow);
  if (resp->status == 429 || resp->status == 503) MHD_add_response_header(r, "Retry-After", RETRY_AFTER);
  enum MHD_Result ok = MHD_queue_response(conn, (unsigned)resp->status, r);
  MHD_destroy_response(r);
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - c->t0.tv_sec) + (double)(t1.tv_nsec - c->t0.tv_nsec) / 1e9;
  const char *name = c->route ? (c->route->name ? c->route->name : c->route->path) : "unmatched";
  srv_metrics_request(name, resp->status, secs);
  return ok;
}

/* The error answer for ERR (docs/protocol.md, "Errors"); STATUS / CODE override the table's. */
static void fill_error(srv_response *resp, int err, int status, const char *code, const char *msg) {
  srv_response_error(resp, status ? status : hud_api_http_status(err), code ? code : hud_api_error_code(err), "%s",
                     msg);
}

static const char *reject_reason(int err) {
  switch (err) {
  case HUD_EAUTH: case HUD_EFORBIDDEN: return "auth";
  case HUD_ETOOBIG: return "too_large";
  case HUD_EBUSY: return "busy";
  default: return "invalid";
  }
}

static enum MHD_Result send_refusal(struct MHD_Connection *conn, req_ctx *c, const refusal *why) {
  if (c->route && (c->route->flags & SRV_ROUTE_INGEST)) srv_metrics_rejected(reject_reason(why->err));
  srv_response resp = {0};
  fill_error(&resp, why->err, why->status, why->code, why->msg);
  return send_response(conn, c, &resp);
}

/* ---- admission: everything decided from the request head, before any body byte is read ---- */

typedef struct head_scan {
  uintptr_t base, end; /* the request head as received (libmicrohttpd parses it in place) */
  uintptr_t prev_end;  /* where the previous header's value ended */
  int in_place, cut, n_length, n_transfer;
} head_scan;

/* libmicrohttpd 0.9.75 ends a header value at a NUL byte and drops the rest of the line, so
 * "Bearer KEY\0junk" would read as "Bearer KEY". Names and values point into the received head, in order:
 * between one value's end and the next name there is only the line end (1 or 2 bytes), more means bytes
 * were dropped. When the pointers are not in the head (another libmicrohttpd), the check is skipped. */
static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                   const char *value, size_t value_size) {
  head_scan *s = cls;
  uintptr_t k = (uintptr_t)key, v_end = value ? (uintptr_t)value + value_size : k + key_size;
  if (k < s->base || v_end > s->end || (s->prev_end && k <= s->prev_end)) s->in_place = 0;
  if (s->prev_end && k - s->prev_end > 2) s->cut = 1;
  s->prev_end = v_end;
  if (strcasecmp(key, "Content-Length") == 0) s->n_length++;
  if (strcasecmp(key, "Transfer-Encoding") == 0) s->n_transfer++;
  return MHD_YES;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  req_ctx *c = cls;
  if (c->n_query >= MAX_QUERY) return MHD_NO;
  c->query[c->n_query].name = key;
  c->query[c->n_query].value = value ? value : "";
  c->n_query++;
  return MHD_YES;
}

/* Size limits and framing: one way to tell the body's length, no NUL bytes in the head. */
static int check_head(struct MHD_Connection *conn, req_ctx *c, const char *method, const char *url, refusal *why) {
  size_t uri = strlen(url);
  for (size_t i = 0; i < c->n_query; i++) uri += strlen(c->query[i].name) + strlen(c->query[i].value) + 2;
  if (uri > MAX_URI_BYTES) return refuse(why, HUD_ETOOBIG, 414, "request target longer than %u bytes", MAX_URI_BYTES);
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
  if (ci && ci->header_size > MAX_HEAD_BYTES)
    return refuse(why, HUD_ETOOBIG, 431, "request headers larger than %u bytes", MAX_HEAD_BYTES);
  head_scan s = {.base = (uintptr_t)method, .end = (uintptr_t)method + (ci ? ci->header_size : 0), .in_place = !!ci};
  MHD_get_connection_values_n(conn, MHD_HEADER_KIND, scan_header, &s);
  /* After the last header: its line end and the empty line's, 2 to 4 bytes. */
  if (s.prev_end && s.end - s.prev_end > 4) s.cut = 1;
  if (s.in_place && s.cut) return refuse(why, HUD_EINVAL, 0, "a header holds a NUL byte or a folded line");
  if (s.n_length > 1) return refuse(why, HUD_EINVAL, 0, "more than one Content-Length header");
  if (s.n_length && s.n_transfer) return refuse(why, HUD_EINVAL, 0, "both Content-Length and Transfer-Encoding");
  return 0;
}

/* Splits a comma-separated list in place into at most MAX_ENVS pointers. */
static size_t split_envs(char *envs, const char **out) {
  size_t n = 0;
  for (char *save = NULL, *t = strtok_r(envs, ",", &save); t && n < MAX_ENVS; t = strtok_r(NULL, ",", &save))
    out[n++] = t;
  return n;
}

static const char *query_param(const req_ctx *c, const char *name) {
  for (size_t i = 0; i < c->n_query; i++)
    if (strcmp(c->query[i].name, name) == 0) return c->query[i].value;
  return NULL;
}

/* Roles: checked before the body and the handler, so a refused request stores and changes nothing. */
static int check_role(req_ctx *c, refusal *why) {
  const srv_route *r = c->route;
  unsigned need = r->flags & SRV_ROLES_ALL;
  if (!need) return refuse(why, HUD_ESERVER, 0, "route %s %s declares no role (server bug)", r->method, r->path);
  unsigned roles = c->roles;
  if (roles & SRV_ROLE_TRIAGE) roles |= SRV_ROLE_READ; /* triage reads what it acknowledges */
  if (roles & need) return 0;
  char have[64], needed[64];
  srv_auth_roles_format(c->roles, have);
  srv_auth_roles_format(need, needed);
  /* "triage,admin" -> "'triage' or 'admin'" */
  char names[96] = "'";
  size_t o = 1;
  for (const char *p = needed; *p && o + 8 < sizeof names; p++)
    o += (size_t)snprintf(names + o, sizeof names - o, "%s", *p == ',' ? "' or '" : (char[]){*p, 0});
  snprintf(names + o, sizeof names - o, "'");
  needed[strcspn(needed, ",")] = 0; /* counted under the first role the route accepts */
  srv_metrics_auth_refused(needed);
  return refuse(why, HUD_EFORBIDDEN, 0, "this API key lacks the %s role needed for %s %s (it has: %s)", names,
                r->method, r->path, have);
}

/* The API key (routes without SRV_ROUTE_PUBLIC) and the environment the query string names. */
static int authenticate(struct MHD_Connection *conn, req_ctx *c, refusal *why) {
  if (c->route->flags & SRV_ROUTE_PUBLIC) return 0;
  const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
  if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
    return refuse(why, HUD_EAUTH, 0, "missing API key: send 'Authorization: Bearer <key>'");
  const char *tok = auth + 7;
  while (*tok == ' ' || *tok == '\t') tok++;
  /* libmicrohttpd keeps a value's trailing blanks. */
  size_t n = strlen(tok);
  while (n && (tok[n - 1] == ' ' || tok[n - 1] == '\t')) n--;
  if (n >= SRV_KEY_MAX) return refuse(why, HUD_EAUTH, 0, "unknown or revoked API key");
  char key[SRV_KEY_MAX];
  memcpy(key, tok, n);
  key[n] = 0;
  int rc = srv_auth_check(c->h->store, key, &c->key_id, c->envs_buf, &c->roles);
  if (rc == HUD_EAUTH) return refuse(why, HUD_EAUTH, 0, "unknown or revoked API key");
  if (rc < 0) return refuse(why, HUD_ESTORE, 0, "cannot check the API key: %s", hud_strerror(rc));
  rc = check_role(c, why);
  if (rc < 0) return rc;
  c->n_envs = split_envs(c->envs_buf, c->envs);
  const char *env = query_param(c, "env");
  if (env && !*env) return refuse(why, HUD_EFIELD, 0, "env: must not be empty");
  for (size_t i = 0; env && i < c->n_envs; i++)
    if (strcmp(c->envs[i], env) == 0) return 0;
  if (env) return refuse(why, HUD_EFORBIDDEN, 0, "this API key does not grant access to environment '%s'", env);
  return 0;
}

/* Bodies are JSON: `application/json`, parameters such as `; charset=utf-8` allowed. */
static int is_json(const char *ct) {
  while (*ct == ' ' || *ct == '\t') ct++;
  size_t n = strlen("application/json");
  if (strncasecmp(ct, "application/json", n) != 0) return 0;
  ct += n;
  while (*ct == ' ' || *ct == '\t') ct++;
  return *ct == 0 || *ct == ';';
}

/* Takes N bytes of the global body budget; 0 when it is spent. */
static int budget_take(srv_http *h, size_t n) {
  size_t cur = atomic_load(&h->body_bytes);
  do {
    if (cur + n > h->body_budget) return 0;
  } while (!atomic_compare_exchange_weak(&h->body_bytes, &cur, cur + n));
  return 1;
}

static void drop_body(req_ctx *c) {
  free(c->body);
  c->body = NULL;
  c->len = c->cap = 0;
  atomic_fetch_sub(&c->h->body_bytes, c->reserved);
  c->reserved = 0;
}

/* The body's announced length against the route's limit and the budget, its media type. */
static int check_body_head(struct MHD_Connection *conn, req_ctx *c, refusal *why) {
  c->limit = c->route->body_limit ? c->route->body_limit : SRV_BODY_LIMIT_DEFAULT;
  const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
  const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
  unsigned long long n = 0;
  if (cl) {
    char *end;
    errno = 0;
    n = strtoull(cl, &end, 10);
    if (errno || *end || n > c->limit)
      return refuse(why, HUD_ETOOBIG, 0, "request body larger than the limit of %zu bytes", c->limit);
  }
  if (!(cl ? n > 0 : te != NULL)) return 0; /* no body */
  c->expect_body = 1;
  const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
  if (!ct || !is_json(ct))
    return refuse(why, HUD_EUNSUPPORTED, 0, "Content-Type must be application/json, got '%s'", ct ? ct : "(none)");
  if (cl && !budget_take(c->h, (size_t)n))
    return refuse(why, HUD_EBUSY, 0, "too many request bodies in flight; retry later");
  c->reserved = (size_t)n;
  return 0;
}

static enum MHD_Result begin_request(srv_http *h, struct MHD_Connection *conn, const char *url, const char *method,
                                     void **con_cls) {
  req_ctx *c = calloc(1, sizeof *c);
  if (!c) return MHD_NO;
  c->h = h;
  c->conn = conn;
  clock_gettime(CLOCK_MONOTONIC, &c->t0);
  atomic_fetch_add(&h->inflight, 1);
  *con_cls = c;
  const union MHD_ConnectionInfo *si = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  if (si) srv_conn_watch_headers_done(h->watch, si->socket_context);
  MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, c);
  refusal why = {0};
  if (check_head(conn, c, method, url, &why) < 0) return send_refusal(conn, c, &why);
  c->route = route_find(method, url, c, &c->allow);
  if (!c->route && c->allow) {
    refuse(&why, HUD_EINVAL, 405, "method %s not allowed on %s (allowed: %s)", method, url, c->allow);
    why.code = "method_not_allowed";
    return send_refusal(conn, c, &why);
  }
  if (!c->route) {
    refuse(&why, HUD_ENOTFOUND, 0, "no such endpoint: %s %s", method, url);
    return send_refusal(conn, c, &why);
  }
  if (authenticate(conn, c, &why) < 0 || check_body_head(conn, c, &why) < 0) return send_refusal(conn, c, &why);
  if (si && c->expect_body) srv_conn_watch_body(h->watch, si->socket_context, c->reserved ? c->reserved : c->limit);
  return MHD_YES;
}

/* Appends a piece of the body; past the limit or the budget the body is dropped and the rest discarded. */
static void take_body(req_ctx *c, const char *data, size_t n) {
  if (c->rejected) return;
  if (c->len + n > c->limit) {
    c->rejected = HUD_ETOOBIG;
    drop_body(c);
    return;
  }
  if (c->len + n > c->reserved) { /* no Content-Length: the budget is taken as the body comes */
    size_t step = c->len + n - c->reserved;
    step = (step + BUDGET_STEP - 1) / BUDGET_STEP * BUDGET_STEP;
    if (c->reserved + step > c->limit) step = c->limit - c->reserved;
    if (!budget_take(c->h, step)) {
      c->rejected = HUD_EBUSY;
      drop_body(c);
      return;
    }
    c->reserved += step;
  }
  if (c->len + n > c->cap) {
    unsigned char *nb = realloc(c->body, c->reserved);
    if (!nb) {
      c->rejected = HUD_ENOMEM;
      drop_body(c);
      return;
    }
    c->body = nb;
    c->cap = c->reserved;
  }
  memcpy(c->body + c->len, data, n);
  c->len += n;
}

/* ---- handlers ---- */

static void build_request(struct MHD_Connection *conn, req_ctx *c, const char *method, const char *url) {
  srv_request *req = &c->req;
  req->method = method;
  req->path = url;
  req->query = c->query;
  req->n_query = c->n_query;
  req->path_params = c->path_params;
  req->n_path_params = c->n_path_params;
  req->path_rest = c->path_rest ? c->path_rest : "";
  const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
  const char *ce = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Encoding");
  req->content_type = ct ? ct : "";
  req->content_encoding = ce ? ce : "";
  const char *cc = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Cache-Control");
  const char *pragma = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Pragma");
  req->fresh = (cc && strcasestr(cc, "no-cache")) || (pragma && strcasestr(pragma, "no-cache"));
  req->body = c->len ? c->body : NULL;
  req->body_len = c->len;
  req->store = c->h->store;
  if (!(c->route->flags & SRV_ROUTE_PUBLIC)) {
    req->key_id = c->key_id;
    req->roles = c->roles;
    req->envs = c->envs;
    req->n_envs = c->n_envs;
  }
}

static void run_handler(req_ctx *c) {
  int rc = c->route->handler(&c->req, &c->resp);
  if (rc < 0 && !c->resp.err_code[0]) fill_error(&c->resp, rc, 0, NULL, hud_strerror(rc));
}

/* On a worker: runs the handler, leaves the response and wakes the connection. C may be freed as soon as
 * the connection is resumed. */
static void run_job(void *arg, int canceled) {
  req_ctx *c = arg;
  if (canceled) fill_error(&c->resp, HUD_ESTORE, 0, NULL, "the server is shutting down; retry later");
  else run_handler(c);
  drop_body(c);
  struct MHD_Connection *conn = c->conn; /* C may be gone once the state says ready */
  atomic_store(&c->state, ST_READY);
  MHD_resume_connection(conn);
}

/* The body is complete: public routes (/healthz, /metrics) answer here on the polling thread; the others
 * go to a worker pool (ingest decodes to their own, bounded one) and the connection waits suspended. */
static enum MHD_Result finish_request(struct MHD_Connection *conn, req_ctx *c, const char *method, const char *url) {
  if (atomic_load(&c->state) == ST_READY) return send_response(conn, c, &c->resp);
  if (c->expect_body) {
    const union MHD_ConnectionInfo *si = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (si) srv_conn_watch_headers_done(c->h->watch, si->socket_context);
    c->expect_body = 0;
  }
  if (c->rejected) {
    refusal why = {0};
    if (c->rejected == HUD_ETOOBIG)
      refuse(&why, HUD_ETOOBIG, 0, "request body larger than the limit of %zu bytes", c->limit);
    else if (c->rejected == HUD_EBUSY) refuse(&why, HUD_EBUSY, 0, "too many request bodies in flight; retry later");
    else refuse(&why, c->rejected, 0, "%s", hud_strerror(c->rejected));
    return send_refusal(conn, c, &why);
  }
  build_request(conn, c, method, url);
  if (c->route->flags & SRV_ROUTE_PUBLIC) {
    run_handler(c);
    return send_response(conn, c, &c->resp);
  }
  srv_pool *pool = (c->route->flags & SRV_ROUTE_INGEST) ? c->h->ingest_pool : c->h->query_pool;
  atomic_store(&c->state, ST_QUEUED);
  MHD_suspend_connection(conn);
  int rc = srv_pool_submit(pool, run_job, c);
  if (rc < 0) {
    if (c->route->flags & SRV_ROUTE_INGEST) srv_metrics_rejected(reject_reason(HUD_EBUSY));
    fill_error(&c->resp, rc == HUD_EBUSY ? HUD_EBUSY : HUD_ESTORE, 0, NULL,
               rc == HUD_EBUSY ? "too many requests waiting; retry later" : "the server is shutting down");
    drop_body(c);
    atomic_store(&c->state, ST_READY);
    MHD_resume_connection(conn);
  }
  return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  req_ctx *c = *con_cls;
  if (!c) return begin_request(cls, conn, url, method, con_cls);
  if (*upload_data_size) {
    take_body(c, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  return finish_request(conn, c, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  srv_http *h = cls;
  const union MHD_ConnectionInfo *si = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  if (si) srv_conn_watch_idle(h->watch, si->socket_context);
  req_ctx *c = *con_cls;
  if (!c) return;
  for (size_t i = 0; i < c->n_path_params; i++) free((char *)c->path_params[i].name);
  free(c->path_copy);
  drop_body(c);
  free(c->resp.body);
  free(c);
  *con_cls = NULL;
  atomic_fetch_sub(&h->inflight, 1);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
  srv_http *h = cls;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    *socket_context = ci ? srv_conn_watch_opened(h->watch, ci->connect_fd) : NULL;
  } else {
    srv_conn_watch_closed(h->watch, *socket_context);
    *socket_context = NULL;
  }
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

/* libmicrohttpd's own messages, at most LOG_BURST every LOG_WINDOW seconds: under attack it reports every
 * refused or dropped connection, which would flood the log. */
#define LOG_BURST 10
#define LOG_WINDOW 10
static void mhd_log(void *cls, const char *fmt, va_list ap) {
  static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  static time_t window;
  static long shown, dropped;
  time_t now = time(NULL);
  pthread_mutex_lock(&mu);
  if (now - window >= LOG_WINDOW) {
    if (dropped) fprintf(stderr, "hud-server: http: %ld similar messages suppressed\n", dropped);
    window = now;
    shown = dropped = 0;
  }
  if (shown++ < LOG_BURST) {
    fputs("hud-server: http: ", stderr);
    vfprintf(stderr, fmt, ap);
  } else {
    dropped++;
  }
  pthread_mutex_unlock(&mu);
}

/* The connection limit: the option, else SRV_HTTP_MAX_CONNECTIONS, kept under the descriptor limit (the
 * store and the process need some too). */
static unsigned connection_limit(int opt) {
  unsigned want = opt > 0 ? (unsigned)opt : SRV_HTTP_MAX_CONNECTIONS;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)want + 128)
    want = rl.rlim_cur > 160 ? (unsigned)rl.rlim_cur - 128 : 32;
  return want;
}

/* Order matters: the pools stop first (a waiting job answers 503 and resumes its connection, as
 * libmicrohttpd must not stop with connections suspended) but stay valid while the polling threads may still
 * submit to them (keep-alive requests arriving during the stop get 503); they are freed after the daemon. */
static void free_parts(srv_http *h) {
  srv_pool_stop(h->ingest_pool);
  srv_pool_stop(h->query_pool);
  if (h->d) MHD_stop_daemon(h->d);
  h->d = NULL;
  srv_pool_free(h->ingest_pool);
  srv_pool_free(h->query_pool);
  h->ingest_pool = h->query_pool = NULL;
  srv_conn_watch_free(h->watch);
  h->watch = NULL;
}

int srv_http_start(const srv_http_options *opt, srv_http **out) {
  struct sockaddr_in sa;
  if (!opt || !opt->store || !out) return HUD_EINVAL;
  if (parse_listen(opt->listen ? opt->listen : "127.0.0.1:7700", &sa) < 0) return HUD_EINVAL;
  size_t budget = opt->body_memory ? opt->body_memory : SRV_HTTP_BODY_MEMORY;
  if (budget < HUD_MAX_BODY_BYTES) return HUD_EINVAL; /* the largest body must fit */
  srv_http *h = calloc(1, sizeof *h);
  if (!h) return HUD_ENOMEM;
  h->store = opt->store;
  h->body_budget = budget;
  int rc = srv_conn_watch_new(opt->header_timeout_ms > 0 ? opt->header_timeout_ms : SRV_HTTP_HEADER_TIMEOUT_MS,
                              &h->watch);
  if (rc == 0) rc = srv_pool_new(opt->ingest_workers > 0 ? opt->ingest_workers : SRV_HTTP_INGEST_WORKERS,
                                 INGEST_QUEUE, &h->ingest_pool);
  if (rc == 0) rc = srv_pool_new(opt->threads > 0 ? opt->threads : 4, QUERY_QUEUE, &h->query_pool);
  if (rc < 0) {
    free_parts(h);
    free(h);
    return rc;
  }
  /* poll(), not epoll: libmicrohttpd 0.9.75's edge-triggered epoll misses a client closing mid-upload after a
   * pause (the connection then lingers, holding its share of the body budget, until the idle timeout). */
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                   MHD_ALLOW_SUSPEND_RESUME;
  int tls = opt->tls_cert_pem && opt->tls_key_pem;
  if (tls) flags |= MHD_USE_TLS;
  unsigned per_ip = opt->max_per_ip < 0 ? 0 : opt->max_per_ip > 0 ? (unsigned)opt->max_per_ip : SRV_HTTP_MAX_PER_IP;
  struct MHD_OptionItem common[] = {
      {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL}, /* first, so it gets every message */
      {MHD_OPTION_SOCK_ADDR, 0, &sa},
      {MHD_OPTION_THREAD_POOL_SIZE, SRV_HTTP_POLL_THREADS, NULL},
      {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, h},
      {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, h},
      {MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL},
      {MHD_OPTION_CONNECTION_LIMIT, connection_limit(opt->max_connections), NULL},
      {MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, NULL},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, MHD_CONN_MEMORY, NULL},
      {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, (void *)opt->tls_cert_pem},
      {tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, (void *)opt->tls_key_pem},
      {MHD_OPTION_END, 0, NULL},
  };
  h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_ARRAY, common, MHD_OPTION_END);
  if (!h->d) {
    free_parts(h);
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
  free_parts(h);
  h->stopped = 1;
  return left;
}

void srv_http_free(srv_http *h) {
  if (!h) return;
  if (!h->stopped) srv_http_shutdown(h, 0);
  free(h);
}
