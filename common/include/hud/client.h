/* The backend HTTP client (libcurl): used blocking by hud-tui and driven by an event loop in hud-lsp.
 *
 * Every request carries `Authorization: Bearer <key>` (when a key is configured) and
 * `User-Agent: hud/<version>`, uses the configured connect and total time limits, verifies TLS unless
 * `insecure` is set, and refuses response bodies beyond `max_response_bytes`. Redirects are not followed
 * (the key must not travel to another host); a 3xx is HUD_EHTTP.
 *
 * Errors (hud_result.err):
 *   refused / unreachable / DNS / connection lost  HUD_ECONNECT     401  HUD_EAUTH
 *   connect or total time limit                    HUD_ETIMEOUT     403  HUD_EFORBIDDEN
 *   TLS handshake or certificate verification      HUD_ETLS         404  HUD_ENOTFOUND
 *   body over max_response_bytes, or 413           HUD_ETOOBIG      5xx  HUD_ESERVER
 *   bad URL in the configuration                   HUD_ECONFIG      other non-2xx  HUD_EHTTP
 *   request canceled (hud_client_cancel, free)     HUD_ECANCELED
 *
 * A client is used from one thread at a time. */
#ifndef HUD_CLIENT_H
#define HUD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "hud/config.h"

typedef struct hud_client hud_client;

typedef struct hud_param {
  const char *name;
  const char *value; /* both URL-encoded by the client */
} hud_param;

typedef struct hud_request {
  const char *method;      /* "GET", "POST", ...; NULL: POST when there is a body, else GET */
  const char *path;        /* appended to the configured base URL, e.g. "/v1/functions" */
  const hud_param *params; /* query parameters, in order */
  size_t n_params;
  const char *body;        /* request body (JSON), sent as application/json; may be NULL */
  size_t body_len;
  bool gzip;               /* compress the body (zlib) and send Content-Encoding: gzip */
} hud_request;

/* The outcome of a request. All strings are owned by the result and freed by hud_result_clear. */
typedef struct hud_result {
  int err;            /* 0 or a HUD_E* code (table above) */
  long status;        /* HTTP status; 0 when no response came */
  char *body;         /* response body, NUL-terminated (also for error statuses); NULL if none */
  size_t body_len;
  char *error_code;   /* "code" of a `{"error":{"code","message"}}` body, or NULL */
  char *message;      /* on error: human-readable detail (the server's message when it sent one, else
                         libcurl's or a status line); NULL on success */
  double elapsed_ms;  /* wall time of the transfer */
} hud_result;

void hud_result_clear(hud_result *res);

/* Creates a client from CFG (url, key, timeouts, ca_file, insecure, max_response_bytes are copied: CFG may
 * be freed afterwards). HUD_ECONFIG for a URL libcurl cannot use, a key with blanks or control characters,
 * or a ca_file that cannot be read. On error, ERR (may be NULL) gets a message naming the key and where its
 * value came from, e.g. "ca_file /x.pem (env HUD_CA_FILE): No such file or directory". */
int hud_client_new(hud_client **out, const hud_config *cfg, char *err, size_t errlen);
/* Cancels pending non-blocking requests (their callbacks run with HUD_ECANCELED) and frees. */
void hud_client_free(hud_client *c);

/* ---- blocking ---- */

/* Performs REQ and fills *RES (always, also on error: clear it with hud_result_clear).
 * Returns RES->err. */
int hud_client_do(hud_client *c, const hud_request *req, hud_result *res);
/* GET PATH?params. */
int hud_client_get(hud_client *c, const char *path, const hud_param *params, size_t n_params, hud_result *res);
/* POST PATH with a JSON body, gzip-compressed when GZIP. */
int hud_client_post_json(hud_client *c, const char *path, const char *json, size_t len, bool gzip,
                         hud_result *res);

/* ---- non-blocking, for an event loop ----
 *
 * The client never blocks here: libcurl's multi interface runs the transfers and tells the loop which
 * sockets to watch and when to wake it, through the two hooks below (curl_multi_socket_action style).
 * The loop then reports readiness with hud_client_on_socket / hud_client_on_timeout; completed
 * requests call their callback from inside those two calls. With libuv: watch_socket starts/stops a
 * uv_poll_t per socket, set_timer starts/stops one uv_timer_t (tests/client/test_client_async.c has
 * the whole adapter, about 60 lines). DNS is resolved in libcurl's resolver thread, not in the loop. */

enum { HUD_POLL_IN = 1, HUD_POLL_OUT = 2 };

typedef struct hud_client_loop {
  /* Watch FD for EVENTS (HUD_POLL_IN | HUD_POLL_OUT); EVENTS == 0: stop watching FD (it may be closed next). */
  void (*watch_socket)(void *loop_ud, int fd, int events);
  /* Call hud_client_on_timeout once TIMEOUT_MS have passed (0: as soon as possible, from the loop, not
   * from inside this hook); TIMEOUT_MS < 0: cancel the timer. One timer, restarted by each call. */
  void (*set_timer)(void *loop_ud, long timeout_ms);
  void *loop_ud;
} hud_client_loop;

/* Installs the hooks; needed before hud_client_start. */
int hud_client_attach_loop(hud_client *c, const hud_client_loop *loop);

/* Called once per request when it ends. RES is owned by the client and cleared after the callback
 * returns: take RES->body (set it to NULL) to keep it. The callback may start new requests but must not
 * free the client. */
typedef void (*hud_client_cb)(hud_client *c, unsigned long id, hud_result *res, void *ud);

/* Starts REQ (copied: REQ and its strings may die after the call). *ID (may be NULL) identifies it for
 * hud_client_cancel. The callback never runs from inside hud_client_start. */
int hud_client_start(hud_client *c, const hud_request *req, hud_client_cb cb, void *ud, unsigned long *id);
/* Cancels request ID: its callback runs now with HUD_ECANCELED. HUD_ENOTFOUND if it already ended. */
int hud_client_cancel(hud_client *c, unsigned long id);
/* The loop reports that FD is ready for EVENTS (HUD_POLL_IN | HUD_POLL_OUT; 0 if unknown or error). */
void hud_client_on_socket(hud_client *c, int fd, int events);
/* The loop reports that the timer set through set_timer expired. */
void hud_client_on_timeout(hud_client *c);
/* Number of non-blocking requests still running. */
size_t hud_client_pending(const hud_client *c);

#endif
