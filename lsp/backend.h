/* The production figures behind the lenses: one POST /v1/functions/by-module per workspace folder
 * for the open files (non-blocking, on the server's loop), the answers cached per module path and
 * refreshed in the background; the connection state reported as hud/status, failures shown once.
 *
 * Module mapping: a document at a/b/shop/db.py below its folder asks for every suffix of that path
 * (a/b/shop/db.py, b/shop/db.py, shop/db.py, db.py) and is mapped to the longest one with data. */
#ifndef LSP_BACKEND_H
#define LSP_BACKEND_H

#include "docs.h"
#include "hud/api.h"
#include "hud/model.h"
#include "server.h"

/* Creates the backend from S->settings. A configuration that cannot work (bad URL) is not an error:
 * the backend stays "unconfigured", says so once, and lenses stay empty. Each folder gets its service
 * from `services`, else `service`; a folder with neither asks each of the key's services (at most 20)
 * for its open files and takes the one with the most matched functions with calls. */
int lsp_backend_new(lsp_server *s, lsp_backend **out);
/* Cancels what is in flight and closes the timer (run the loop afterwards). NULL is a no-op. */
void lsp_backend_free(lsp_backend *b);

/* The open files of FOLDER (-1: files outside every folder) changed: query soon. */
void lsp_backend_want(lsp_backend *b, int folder);

/* The figures of a function of DOC: by function_id computed with the mapped module path, then by
 * qualified name; only functions with calls in the window. NULL: no data. */
const hud_function_summary *lsp_backend_lookup(lsp_backend *b, const lsp_doc *doc, const char *qualname);
/* Minutes of the window of the answer behind DOC's figures. */
double lsp_backend_window_min(lsp_backend *b, const lsp_doc *doc);

/* GET /v1/functions/{FUNCTION_ID} over the window (call hierarchy): the answer in *OUT (in A), then CB on
 * the loop (HUD_ECANCELED when the backend closes first). HUD_ECONFIG without a backend. */
int lsp_backend_function_start(lsp_backend *b, const char *function_id, hud_arena *a, hud_function_detail *out,
                               hud_api_cb cb, void *ud);
/* GET /v1/functions/top over the window, sorted by calls (workspace/symbol): as lsp_backend_function_start. */
int lsp_backend_top_start(lsp_backend *b, int32_t limit, hud_arena *a, hud_top_response *out, hud_api_cb cb,
                          void *ud);
/* GET /v1/exception-flows of FUNCTION_ID over the window (hud/errorFlows): as lsp_backend_function_start. */
int lsp_backend_exception_flows_start(lsp_backend *b, const char *function_id, hud_arena *a,
                                      hud_exception_flows_response *out, hud_api_cb cb, void *ud);
/* GET /v1/callgraph below ROOT (DEPTH 1..16, MAX_NODES 1..1000), GET /v1/flows, GET /v1/issues (active: open and acknowledged) over
 * the window (panels): as lsp_backend_function_start. */
int lsp_backend_callgraph_start(lsp_backend *b, const char *root, int32_t depth, int32_t max_nodes, hud_arena *a,
                                hud_callgraph_response *out, hud_api_cb cb, void *ud);
int lsp_backend_flows_start(lsp_backend *b, int32_t limit, hud_arena *a, hud_flows_response *out, hud_api_cb cb,
                            void *ud);
int lsp_backend_issues_start(lsp_backend *b, hud_arena *a, hud_issues_response *out, hud_api_cb cb, void *ud);
/* POST /v1/issues/{ISSUE_ID}/status (STATUS acknowledged | muted | open, NOTE may be NULL) in the main
 * service: the updated issue in *OUT, as lsp_backend_function_start; HUD_EFIELD for another STATUS. */
int lsp_backend_issue_status_start(lsp_backend *b, const char *issue_id, const char *status, const char *note,
                                   hud_arena *a, hud_issue *out, hud_api_cb cb, void *ud);
/* How many figures answers arrived (a new one may bring other figures: caches of them start over). */
uint64_t lsp_backend_epoch(const lsp_backend *b);
/* The window (Unix ms) of the request started last by one of the _start functions. */
void lsp_backend_last_window(const lsp_backend *b, int64_t *from_ms, int64_t *to_ms);
/* hud.explain's reason for a failed request's HUD_E* CODE: unauthorized, unreachable, unconfigured, error. */
const char *lsp_backend_error_reason(int code);
/* The open issues of the last answer of GET /v1/issues (asked with the figures); NULL before one came. */
const hud_issues_response *lsp_backend_issues(lsp_backend *b);

/* The newest version of the service in the environment (GET /v1/services, asked with the issues);
 * NULL until known. */
const char *lsp_backend_prod_version(const lsp_backend *b);
/* hud.refresh: every folder's figures and the issues are asked for again now. */
void lsp_backend_refresh(lsp_backend *b);
/* The connection state as in hud/status ("connecting" before the first request; B may be NULL) and,
 * in *MESSAGE, what went wrong ("" when ok). */
const char *lsp_backend_state(const lsp_backend *b, const char **message);
/* HUD_E* of the last failed figures request (HUD_ENOTFOUND: the service has no data), 0 after a success. */
int lsp_backend_last_error(const lsp_backend *b);
/* What the last answer for DOC's folder says of DOC: -2 no service configured and none of the key's has
 * data for its folder's files; -1 no answer yet; 1 mapped to a module with
 * calls; 0 not mapped, *KNOWN then the longest suffix of its path the service declared (functions
 * without calls in the window) or NULL when none is among the service's modules. */
int lsp_backend_doc_data(lsp_backend *b, const lsp_doc *doc, const char **known);
/* The service of DOC's folder (`services`, else `service`, else discovered; NULL: none yet) and, when
 * discovered, from how many matching modules in *DISCOVERED_FROM (0: configured). */
const char *lsp_backend_service_of(lsp_backend *b, const lsp_doc *doc, int *discovered_from);
/* The newest version of DOC's folder's service (as lsp_backend_prod_version). */
const char *lsp_backend_prod_version_doc(const lsp_backend *b, const lsp_doc *doc);
/* The function QUALNAME of MODULE in the last answer for DOC's folder, with or without calls; NULL. */
const hud_function_summary *lsp_backend_declared(lsp_backend *b, const lsp_doc *doc, const char *module,
                                                 const char *qualname);

#endif
