/* The contract between hud-server's HTTP layer (server/http.c, infrastructure engineer) and the
 * request handlers (ingest in server/ingest.c; the query API in server/routes_query.c, query engineer).
 *
 * How a request reaches a handler:
 *  1. libmicrohttpd's polling threads receive the request head. Before any body byte is read
 *     (server/http.c, the first access-handler call), the request is answered at once when:
 *     the head is malformed (NUL byte in a header, two Content-Length headers, Content-Length with
 *     Transfer-Encoding → 400; target over 8 KiB → 414, headers over 16 KiB → 431); no route has the
 *     path (404) or the path has another method (405; HEAD is served by the GET route, without body);
 *     the API key is missing, unknown or revoked (401, unless the route has SRV_ROUTE_PUBLIC); the key
 *     lacks the route's role (SRV_ROLE_*, flags below: 403 naming the role; a non-public route that
 *     declares no role is refused for every key with 500); the
 *     query string has `env=` empty (400) or not one of the key's environments (403, so a handler that
 *     reads `env` may trust it); Content-Length exceeds the route's limit (SRV_BODY_LIMIT_DEFAULT unless
 *     the route says otherwise; 413); a body comes with a Content-Type other than application/json
 *     (415; parameters such as `; charset=utf-8` are fine, a missing Content-Type is refused too); the
 *     bodies already held by all connections leave no room for this one in the server's budget (429 with
 *     Retry-After). Handlers that list data across environments MUST restrict themselves to req->envs.
 *  2. The body is buffered (a body without Content-Length that outgrows the limit or the budget is
 *     discarded and answered 413 / 429).
 *  3. Routes with SRV_ROUTE_PUBLIC (/healthz, /metrics) run on the polling thread: keep them cheap.
 *     Every other handler runs on a worker pool while the connection waits suspended: SRV_ROUTE_INGEST
 *     routes on the ingest workers (a few at once, which bounds decode memory), the rest on the query
 *     workers. A full queue is answered 429 with Retry-After. Handlers may block on the store. They fill
 *     *resp. Their return value: 0 = use *resp as filled; negative HUD_E* = the layer answers with the
 *     code and status of docs/protocol.md's error table (hud_api_error_code(), hud_api_http_status():
 *     EPARSE/EFIELD/ERANGE/EINVAL/EVERSION → 400, EAUTH → 401, EFORBIDDEN → 403, ENOTFOUND → 404,
 *     ETOOBIG → 413, EUNSUPPORTED → 415, EBUSY → 429 (too many requests), ESTORE → 503 (store
 *     unavailable), anything else → 500) unless the handler already set an error.
 *  4. Errors go out as {"error": {"code": "<code>", "message": "<message>"}} (docs/protocol.md); use the
 *     table's codes (hud_api_error_code()). 429 and 503 carry `Retry-After: 1`.
 *
 * Paths: segments written `{name}` capture one path segment (percent-decoded), e.g.
 * "/v1/functions/{id}"; read them with srv_request_path_param(). A route path ending in "/ *"
 * (without the space) matches any rest of the path (srv_request_path_rest()).
 *
 * Adding query routes: define `const srv_route srv_query_routes[]` in server/routes_query.c, ending with a
 * zeroed entry ({0}). Until that file exists, server/CMakeLists.txt compiles a generated empty table,
 * so either side builds alone. */
#ifndef SRV_ROUTES_H
#define SRV_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define SRV_BODY_LIMIT_DEFAULT (64u * 1024u)

typedef struct srv_kv {
  const char *name;
  const char *value; /* "" for a bare `?flag` */
} srv_kv;

/* Everything a handler may read. All pointers are owned by the HTTP layer and stay valid until the
 * handler returns; copy what you keep. Strings are NUL-terminated. */
typedef struct srv_request {
  const char *method; /* "GET", "POST", ... */
  const char *path;   /* decoded path without the query string, e.g. "/v1/functions/abc" */
  const srv_kv *query; /* decoded query parameters in order of appearance (repeats kept) */
  size_t n_query;
  const srv_kv *path_params; /* captured {name} segments */
  size_t n_path_params;
  const char *path_rest; /* what a trailing "/ *" matched, "" otherwise */
  const char *content_type;     /* header value or "" */
  const char *content_encoding; /* header value or "" (e.g. "gzip") */
  bool fresh; /* "Cache-Control: no-cache" (or "Pragma: no-cache"): read every batch acknowledged so far */
  const unsigned char *body; /* raw body bytes as sent (not decompressed); NULL when empty */
  size_t body_len;
  /* The authenticated key (NULL envs / 0 for SRV_ROUTE_PUBLIC routes). */
  int64_t key_id;
  unsigned roles;          /* the key's SRV_ROLE_* bits */
  const char *const *envs; /* environments this key may see */
  size_t n_envs;
  srv_store *store; /* the server's store; thread-safe (see store.h) */
} srv_request;

/* What a handler produces. Use the helpers below; they take care of ownership. */
typedef struct srv_response {
  int status;        /* HTTP status; 200 when left at 0 with a body */
  char *body;        /* JSON text, malloc'ed, freed by the HTTP layer; NULL for no body */
  size_t body_len;
  const char *content_type; /* static string; "application/json" when NULL */
  char err_code[48];        /* set by srv_response_error() */
} srv_response;

/* Takes ownership of JSON (malloc'ed, NUL-terminated text). Returns 0, or HUD_EINVAL when JSON is NULL. */
int srv_response_json(srv_response *resp, int status, char *json);
/* Copies TEXT (any content type, e.g. "text/plain; version=0.0.4"). */
int srv_response_text(srv_response *resp, int status, const char *content_type, const char *text, size_t len);
/* Error body {"error":{"code":CODE,"message":...}}; CODE is a short snake_case token such as
 * "bad_request", "not_found", "invalid_field". Returns 0 so handlers can `return srv_response_error(...)`. */
int srv_response_error(srv_response *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* First query parameter named NAME, or NULL. */
const char *srv_request_param(const srv_request *req, const char *name);
/* Captured {NAME} path segment, or NULL. */
const char *srv_request_path_param(const srv_request *req, const char *name);
/* 1 when ENV is one of the key's environments. */
int srv_request_env_allowed(const srv_request *req, const char *env);

typedef int (*srv_handler)(const srv_request *req, srv_response *resp);

/* Route flags. Every route is SRV_ROUTE_PUBLIC or declares the one role a key needs for it; the
 * same bits are a key's roles (auth.h). A request whose key lacks the route's role is answered 403
 * before the handler runs; a non-public route that declares no role is refused for every key. */
enum {
  SRV_ROUTE_PUBLIC = 1u << 0, /* no API key needed; runs on the polling thread (/healthz, /metrics) */
  SRV_ROLE_INGEST = 1u << 1,  /* sending batches: POST /v1/ingest (the sensors' keys) */
  SRV_ROLE_READ = 1u << 2,    /* the query API (editors, hud-tui, scripts) */
  SRV_ROLE_ADMIN = 1u << 3,   /* routes that change the server's state (settings, issues, keys) */
  SRV_ROUTE_INGEST = 1u << 4, /* runs on the ingest workers; counted in hud_ingest_rejected_batches_total */
  SRV_ROLE_TRIAGE = 1u << 5,  /* changing an issue's status (acknowledge, mute); a triage key also reads */
};
#define SRV_ROLES_ALL (SRV_ROLE_INGEST | SRV_ROLE_READ | SRV_ROLE_TRIAGE | SRV_ROLE_ADMIN)
/* A route may accept several roles (any one suffices), e.g. SRV_ROLE_TRIAGE | SRV_ROLE_ADMIN. */

typedef struct srv_route {
  const char *method; /* "GET", "POST"; NULL ends a table */
  const char *path;   /* pattern, see above */
  srv_handler handler;
  unsigned flags;     /* SRV_ROUTE_PUBLIC or the SRV_ROLE_* a key needs, and SRV_ROUTE_INGEST */
  size_t body_limit;  /* max body bytes; 0 = SRV_BODY_LIMIT_DEFAULT */
  const char *name;   /* metrics label, e.g. "functions_top"; the path pattern when NULL */
} srv_route;

/* The query API (server/routes_query.c, owned by the query engineer). Zero-terminated. */
extern const srv_route srv_query_routes[];

#endif
