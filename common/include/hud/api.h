/* Typed calls of hud-server's query API (docs/protocol.md "Query API"), for hud-lsp and hud-tui.
 *
 * One call per route, each in two forms:
 *   hud_api_X(client, &req, arena, &resp, &err)                 blocking (hud_client_do)
 *   hud_api_X_start(client, &req, arena, &resp, cb, ud, &id)    non-blocking (hud_client_start): the client
 *       must be attached to an event loop (hud_client_attach_loop; hud/client_uv.h for libuv).
 * Callers never build URLs nor touch JSON: requests are the typed structs of hud/model.h, responses are
 * decoded by the codec into *RESP, every pointer of which lives in ARENA (the caller's; free or reset it
 * when done with the response). Decoding ignores members it does not know, so a newer server can add
 * figures without breaking older editors.
 *
 * Errors: the return value (and ERR->code) is 0 or a HUD_E* code:
 *   transport     HUD_ECONNECT, HUD_ETIMEOUT, HUD_ETLS, HUD_ECANCELED, HUD_ECONFIG (see hud/client.h)
 *   HTTP status   the code named by the server's error body (`{"error":{"code":...}}`, decoded by the codec,
 *                 hud_api_error_from_code), e.g. HUD_EAUTH (401), HUD_EFORBIDDEN (403), HUD_EFIELD (400
 *                 invalid_field), HUD_EBUSY (429 rate_limited), HUD_ESTORE (503 unavailable); without such a
 *                 body the client's status mapping (hud/client.h)
 *   response      HUD_EPARSE / HUD_EFIELD / HUD_ERANGE when a 2xx body does not decode (ERR says where)
 * ERR (may be NULL) also carries the HTTP status, the wire code and the server's message. */
#ifndef HUD_API_H
#define HUD_API_H

#include <stddef.h>

#include "hud/client.h"
#include "hud/model.h"

typedef struct hud_api_error {
  int code;             /* 0 or HUD_E* */
  long status;          /* HTTP status; 0 when no response came */
  char wire_code[48];   /* the error body's "code" (e.g. "invalid_field"), "" when none */
  char field[256];      /* the error body's "field", or the response field that failed to decode; "" if none */
  char message[512];    /* human-readable: the server's message, the transport's, or the decoder's */
  double elapsed_ms;    /* wall time of the request */
} hud_api_error;

/* GET /v1/services */
typedef struct hud_services_request {
  const char *service; /* NULL: every service the key sees */
} hud_services_request;

int hud_api_services(hud_client *c, const hud_services_request *req, hud_arena *arena,
                     hud_services_response *resp, hud_api_error *err);
/* GET /v1/functions/top */
int hud_api_top(hud_client *c, const hud_top_request *req, hud_arena *arena, hud_top_response *resp,
                hud_api_error *err);
/* POST /v1/functions/by-module: every function of some modules (the editor's call for open files). */
int hud_api_by_module(hud_client *c, const hud_by_module_request *req, hud_arena *arena,
                      hud_by_module_response *resp, hud_api_error *err);
/* GET /v1/functions/{function_id} */
int hud_api_function(hud_client *c, const hud_function_request *req, hud_arena *arena,
                     hud_function_detail *resp, hud_api_error *err);
/* GET /v1/callgraph */
int hud_api_callgraph(hud_client *c, const hud_callgraph_request *req, hud_arena *arena,
                      hud_callgraph_response *resp, hud_api_error *err);
/* GET /v1/flows */
int hud_api_flows(hud_client *c, const hud_flows_request *req, hud_arena *arena, hud_flows_response *resp,
                  hud_api_error *err);
/* GET /v1/issues */
int hud_api_issues(hud_client *c, const hud_issues_request *req, hud_arena *arena, hud_issues_response *resp,
                   hud_api_error *err);
/* GET /v1/issues/{issue_id}: one issue with its history. */
int hud_api_issue(hud_client *c, const hud_issue_request *req, hud_arena *arena, hud_issue *resp,
                  hud_api_error *err);
/* POST /v1/issues/{issue_id}/status: acknowledge, mute or reopen; RESP is the updated issue. A key
 * without the triage or admin role gets HUD_EFORBIDDEN (403). */
int hud_api_issue_status(hud_client *c, const hud_issue_status_request *req, hud_arena *arena, hud_issue *resp,
                         hud_api_error *err);
/* GET /v1/exception-flows */
int hud_api_exception_flows(hud_client *c, const hud_exception_flows_request *req, hud_arena *arena,
                            hud_exception_flows_response *resp, hud_api_error *err);

/* ---- non-blocking ----
 * REQ is copied at the call. ARENA and RESP belong to the caller and must stay valid until the callback
 * has run (cancel the request before freeing them). The callback runs once, from hud_client_on_socket /
 * hud_client_on_timeout / hud_client_cancel / hud_client_free, never from inside the _start call; RESP is
 * filled when ERR->code is 0. *ID (may be NULL) is the client's request id, for hud_client_cancel.
 * A start that fails returns the error and never calls CB. */
typedef void (*hud_api_cb)(hud_client *c, unsigned long id, const hud_api_error *err, void *resp, void *ud);

int hud_api_services_start(hud_client *c, const hud_services_request *req, hud_arena *arena,
                           hud_services_response *resp, hud_api_cb cb, void *ud, unsigned long *id);
int hud_api_top_start(hud_client *c, const hud_top_request *req, hud_arena *arena, hud_top_response *resp,
                      hud_api_cb cb, void *ud, unsigned long *id);
int hud_api_by_module_start(hud_client *c, const hud_by_module_request *req, hud_arena *arena,
                            hud_by_module_response *resp, hud_api_cb cb, void *ud, unsigned long *id);
int hud_api_function_start(hud_client *c, const hud_function_request *req, hud_arena *arena,
                           hud_function_detail *resp, hud_api_cb cb, void *ud, unsigned long *id);
int hud_api_callgraph_start(hud_client *c, const hud_callgraph_request *req, hud_arena *arena,
                            hud_callgraph_response *resp, hud_api_cb cb, void *ud, unsigned long *id);
int hud_api_flows_start(hud_client *c, const hud_flows_request *req, hud_arena *arena, hud_flows_response *resp,
                        hud_api_cb cb, void *ud, unsigned long *id);
int hud_api_issues_start(hud_client *c, const hud_issues_request *req, hud_arena *arena,
                         hud_issues_response *resp, hud_api_cb cb, void *ud, unsigned long *id);
int hud_api_issue_start(hud_client *c, const hud_issue_request *req, hud_arena *arena, hud_issue *resp,
                        hud_api_cb cb, void *ud, unsigned long *id);
int hud_api_issue_status_start(hud_client *c, const hud_issue_status_request *req, hud_arena *arena,
                               hud_issue *resp, hud_api_cb cb, void *ud, unsigned long *id);
int hud_api_exception_flows_start(hud_client *c, const hud_exception_flows_request *req, hud_arena *arena,
                                  hud_exception_flows_response *resp, hud_api_cb cb, void *ud, unsigned long *id);

#endif
