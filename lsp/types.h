/* The typed messages of hud-lsp: what the codec (codec.c) decodes from the client's JSON and
 * encodes back. Handlers see only these structs, never JSON.
 *
 * Ownership: every pointer of a decoded struct lives in the hud_arena of the message being handled
 * and dies when the handler returns; keep a copy to hold on to anything. */
#ifndef LSP_TYPES_H
#define LSP_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* JSON-RPC error codes (JSON-RPC 2.0 and the LSP specification). */
enum {
  LSP_PARSE_ERROR = -32700,
  LSP_INVALID_REQUEST = -32600,
  LSP_METHOD_NOT_FOUND = -32601,
  LSP_INVALID_PARAMS = -32602,
  LSP_INTERNAL_ERROR = -32603,
  LSP_SERVER_NOT_INITIALIZED = -32002,
  LSP_REQUEST_CANCELLED = -32800,
};

typedef struct lsp_rpc_error {
  int code;          /* 0: none */
  char message[512];
} lsp_rpc_error;

typedef enum lsp_id_kind { LSP_ID_NONE = 0, LSP_ID_INT, LSP_ID_STR, LSP_ID_NULL } lsp_id_kind;

/* A request id: an integer or a string (LSP_ID_NULL: `"id": null` in an error about an unreadable
 * request). */
typedef struct lsp_id {
  lsp_id_kind kind;
  int64_t num;
  const char *str;
} lsp_id;

/* Position encodings of LSP 3.17 (general.positionEncodings). */
typedef enum lsp_encoding { LSP_ENC_UTF16 = 0, LSP_ENC_UTF8 } lsp_encoding;

typedef struct lsp_pos {
  int64_t line;      /* 0-based; int64 so that negative or huge input is seen, not wrapped */
  int64_t character; /* in units of the negotiated encoding */
} lsp_pos;

typedef struct lsp_range {
  lsp_pos start, end;
} lsp_range;

typedef struct lsp_folder {
  const char *uri;
  const char *name;
} lsp_folder;

/* A pair of strings of an option: pathMaps (from, to), services (folder, service). */
typedef struct lsp_str_pair {
  const char *a, *b;
} lsp_str_pair;

/* The initializationOptions hud-lsp knows (docs/lsp.md); NULL / -1 when absent. */
typedef struct lsp_init_options {
  const char *url, *key, *service, *env;
  const char *window;        /* "1h", "15m", "90s", "2d" */
  int64_t window_s;          /* the same as a number of seconds; -1 when absent */
  int64_t refresh_s;         /* background refresh period; -1 when absent */
  int lens, hover, inlay, diags; /* per-kind toggles: 1 on, 0 off, -1 absent */
  const char *lens_layout;   /* the lens title's template */
  double min_cpm;            /* minCallsPerMinute; -1 when absent */
  double p95_warn_ms;        /* p95WarnMs; -1 when absent */
  double err_rate_warn;      /* errorRateWarn (a fraction); -1 when absent */
  bool has_path_maps, has_services; /* the option was given (possibly empty) */
  size_t n_path_maps, n_services;
  lsp_str_pair *path_maps;   /* from, to */
  lsp_str_pair *services;    /* folder (URI, name or relative path), service */
} lsp_init_options;

typedef struct lsp_initialize_params {
  const char *root_uri;      /* NULL when absent or null */
  const char *root_path;
  size_t n_folders;
  lsp_folder *folders;
  bool offers_utf8;          /* general.positionEncodings holds "utf-8" */
  bool lens_refresh;         /* workspace.codeLens.refreshSupport */
  bool config_pull;          /* workspace.configuration: the client answers workspace/configuration */
  bool inlay_hints;          /* textDocument.inlayHint: the client shows inlay hints */
  const char *client_name;
  const char *trace;         /* "off" | "messages" | "verbose" */
  lsp_init_options opts;
} lsp_initialize_params;

typedef struct lsp_initialize_result {
  lsp_encoding encoding;
  bool inlay_hints;          /* advertise inlayHintProvider */
  const char *version;
} lsp_initialize_result;

typedef struct lsp_cancel_params {
  lsp_id id;
} lsp_cancel_params;

typedef struct lsp_set_trace_params {
  const char *value;
} lsp_set_trace_params;

typedef struct lsp_did_open_params {
  const char *uri;
  const char *language_id;
  int64_t version;
  const char *text;
  size_t text_len;
} lsp_did_open_params;

typedef struct lsp_text_change {
  bool has_range;            /* false: TEXT replaces the whole document */
  lsp_range range;
  const char *text;
  size_t text_len;
} lsp_text_change;

typedef struct lsp_did_change_params {
  const char *uri;
  int64_t version;
  size_t n_changes;
  lsp_text_change *changes;
} lsp_did_change_params;

/* didClose, didSave, codeLens: only the document matters. */
typedef struct lsp_doc_params {
  const char *uri;
} lsp_doc_params;

typedef struct lsp_doc_pos_params {
  const char *uri;
  lsp_pos position;
} lsp_doc_pos_params;

typedef struct lsp_lens {
  lsp_range range;
  const char *title;
  const char *function_id;   /* command argument */
} lsp_lens;

typedef struct lsp_lens_list {
  size_t n;
  lsp_lens *items;
} lsp_lens_list;

typedef struct lsp_hover {
  bool found;                /* false: the result is null */
  const char *markdown;
  lsp_range range;
} lsp_hover;

/* A CallHierarchyItem. DATA carries the function's identity back to incomingCalls / outgoingCalls. */
typedef struct lsp_hier_item {
  const char *name;          /* qualified name */
  int kind;                  /* SymbolKind: 12 function, 6 method */
  const char *detail;        /* the figures; the module path first when the function is not in the workspace */
  const char *uri;
  lsp_range range, selection;
  const char *function_id;   /* data.function_id, "" when unknown */
  const char *module;        /* data.module, NULL when unknown */
} lsp_hier_item;

/* prepareCallHierarchy's answer: FOUND false is null. */
typedef struct lsp_hier_items {
  bool found;
  size_t n;
  lsp_hier_item *items;
} lsp_hier_items;

typedef struct lsp_hier_params {
  lsp_hier_item item;
} lsp_hier_params;

/* One incoming (ITEM = from) or outgoing (ITEM = to) call with its call sites. */
typedef struct lsp_hier_call {
  lsp_hier_item item;
  size_t n_ranges;
  lsp_range *ranges;
} lsp_hier_call;

typedef struct lsp_hier_calls {
  bool outgoing;
  size_t n;
  lsp_hier_call *items;
} lsp_hier_calls;

/* textDocument/publishDiagnostics (severity 3: Information). */
typedef struct lsp_diag {
  lsp_range range;
  int severity;
  const char *message;
  const char *related_uri;   /* NULL: no relatedInformation */
  lsp_range related_range;
  const char *related_message;
} lsp_diag;

typedef struct lsp_diag_params {
  const char *uri;
  int64_t version;           /* < 0: not sent */
  size_t n;
  const lsp_diag *items;
} lsp_diag_params;

/* workspace/didChangeConfiguration: SETTINGS.hud (else SETTINGS itself) read as initializationOptions. */
typedef struct lsp_config_params {
  lsp_init_options opts;
} lsp_config_params;

/* workspace/didChangeWorkspaceFolders. */
typedef struct lsp_folders_params {
  size_t n_added, n_removed;
  lsp_folder *added, *removed;
} lsp_folders_params;

/* textDocument/codeAction: Command objects (title, command, one string argument). */
typedef struct lsp_command {
  const char *title, *command, *argument;
  const char *argument2;     /* NULL: one argument */
} lsp_command;

typedef struct lsp_commands {
  size_t n;
  lsp_command items[8];
} lsp_commands;

/* textDocument/inlayHint. */
typedef struct lsp_inlay_params {
  const char *uri;
  lsp_range range;
} lsp_inlay_params;

typedef struct lsp_inlay {
  lsp_pos position;
  const char *label;
} lsp_inlay;

typedef struct lsp_inlays {
  size_t n;
  lsp_inlay *items;
} lsp_inlays;

/* workspace/symbol. */
typedef struct lsp_symbol_params {
  const char *query;
} lsp_symbol_params;

/* A SymbolInformation: a production function, its module and figures in CONTAINER. */
typedef struct lsp_symbol {
  const char *name, *container, *uri;
  int kind;
  lsp_range range;
} lsp_symbol;

typedef struct lsp_symbols {
  size_t n;
  lsp_symbol *items;
} lsp_symbols;

/* workspace/executeCommand: ARGS are the string arguments (an object argument gives its "uri"). */
typedef struct lsp_exec_params {
  const char *command;
  size_t n_args;
  const char *args[4];
} lsp_exec_params;

/* hud.explain's answer {"reason", "message"}; hud.copyDeepLink's {"url"}; hud.show*'s {"message"};
 * KIND 0 is null. */
typedef struct lsp_exec_result {
  int kind;                  /* 0 null, 1 explain, 2 link, 3 message */
  const char *reason, *message, *url;
} lsp_exec_result;

/* hud/errorFlows params: {"functionId"} or {"textDocument": {"uri"}, "position"}. */
typedef struct lsp_errflows_params {
  const char *function_id;   /* NULL: the function around POSITION in URI */
  const char *uri;
  lsp_pos position;
} lsp_errflows_params;

/* A function in a panel answer: "location" only when found in the workspace (URI not NULL). */
typedef struct lsp_ef_node {
  const char *function_id, *name, *module_path; /* name, module_path NULL when never declared */
  const char *uri;
  lsp_range range;
} lsp_ef_node;

typedef struct lsp_ef_flow {
  const char *type;
  int64_t count;
  lsp_ef_node origin;
  size_t n_through;
  lsp_ef_node *through;
  lsp_ef_node *caught;       /* NULL: escaped */
} lsp_ef_flow;

/* hud/errorFlows' answer; REASON set: only {"error": {"reason", "message"}}. */
typedef struct lsp_errflows_result {
  const char *reason, *message;
  int64_t from_ms, to_ms;
  lsp_ef_node function;
  size_t n_flows;
  lsp_ef_flow *flows;
} lsp_errflows_result;

/* window/showMessage and window/logMessage: 1 error, 2 warning, 3 info, 4 log. */
typedef struct lsp_message_params {
  int type;
  const char *message;
} lsp_message_params;

/* hud/status: the backend connection as the editor should show it. */
typedef struct lsp_status_params {
  const char *state;         /* "connecting" | "ok" | "unreachable" | "unauthorized" | "error" | "unconfigured" */
  const char *message;       /* human detail, "" when ok */
  const char *url;
  const char *service;
  int64_t modules;           /* module paths with data */
} lsp_status_params;

/* ---- Requests for editor panels (m_panels.c; docs/lsp.md "Requests for editor panels") ---- */

/* The params of every hud/ panel request; what a method does not read is ignored. The target is
 * FUNCTION_ID, else FLOW_ID (hotPaths), else the function enclosing POSITION in URI. */
typedef struct lsp_panel_params {
  const char *function_id, *flow_id, *uri; /* NULL when absent */
  lsp_pos position;
  int64_t depth, max_nodes, limit;         /* 0 when absent */
  bool by_calls;                           /* hotPaths "by": "calls" (default "time") */
} lsp_panel_params;

/* What every panel answer starts with: REASON non-NULL makes it {"error": {reason, message}}. */
typedef struct lsp_panel_head {
  const char *reason, *message;
  int64_t from_ms, to_ms;                  /* the window (Unix ms) */
} lsp_panel_head;

/* A production function, located in the workspace when URI is set (RANGE: its name). */
typedef struct lsp_node {
  const char *function_id;                 /* "" : not instrumented (a caller) */
  const char *name;
  const char *module_path;                 /* NULL: unknown */
  const char *uri;                         /* NULL: not found in the workspace */
  lsp_range range;
} lsp_node;

/* A caller or callee of hud/functionDetail: one per call site, as the server lists them. */
typedef struct lsp_peer {
  lsp_node node;
  int64_t calls, errors, line;
  double per_min, mean_ms;
} lsp_peer;

typedef struct lsp_fn_detail {
  lsp_panel_head head;
  lsp_node function;
  const struct hud_function_detail *d;     /* the server's figures (ns: the codec turns them into ms) */
  double window_min;
  lsp_peer *callers, *callees;             /* d->n_callers, d->n_callees */
} lsp_fn_detail;

typedef struct lsp_graph_node {
  lsp_node node;
  int64_t calls, errors;
  double total_ms, self_ms;
} lsp_graph_node;

typedef struct lsp_graph_edge {
  const char *from, *to;
  bool exception;
  const char *exception_type;              /* exception edges */
  int64_t calls;
  double total_ms;
} lsp_graph_edge;

typedef struct lsp_call_graph {
  lsp_panel_head head;
  const char *root;
  bool truncated;
  size_t n_nodes, n_edges;
  lsp_graph_node *nodes;
  lsp_graph_edge *edges;
} lsp_call_graph;

typedef struct lsp_path_node {
  lsp_node node;
  int64_t calls, errors;
  double total_ms, share;
  bool exception;                          /* an exception edge leads from it to its parent */
  size_t n_children;
  struct lsp_path_node *children;
} lsp_path_node;

typedef struct lsp_hot_paths {
  lsp_panel_head head;
  bool by_calls, truncated;
  lsp_path_node *root;
} lsp_hot_paths;

typedef struct lsp_cause {
  lsp_node node;
  double share;
  const char *evidence;                    /* NULL: none */
} lsp_cause;

/* A flow an issue makes slower or failing (hud/issues). */
typedef struct lsp_issue_flow {
  const char *flow_id, *name, *text;       /* text: "GET /orders/<id> +4.13 ms per request (+206%)" */
  double ms_per_request, effect_pct, baseline_ms, current_ms;
  double baseline_error_rate, current_error_rate;
  int64_t requests;
} lsp_issue_flow;

typedef struct lsp_issue_item {
  const char *issue_id, *kind, *message;   /* kind "regression" | "errors" | "new_exception" */
  const char *subject_name, *subject_function_id, *subject_flow_id; /* one of the ids is NULL */
  double effect_pct, confidence;
  const char *baseline_version, *current_version; /* NULL: null */
  size_t n_causes;
  lsp_cause *causes;
  const char *status, *headline, *p_text;  /* headline: the server's or one built from the figures */
  const char *first_seen, *last_seen;      /* RFC 3339; NULL: null */
  const char *vscode_link;                 /* NULL: null */
  int code_changed;                        /* -1: null */
  bool effect_pct_capped, self_includes_uninstrumented;
  double q_value, drift_pct, host_shift_pct;
  int32_t times_reopened;
  size_t n_flows;
  lsp_issue_flow *flows;
  size_t n_path;
  lsp_node *path;                          /* flow root -> root cause */
} lsp_issue_item;

typedef struct lsp_issue_list {
  lsp_panel_head head;
  size_t n;
  lsp_issue_item *items;
} lsp_issue_list;

typedef struct lsp_flow_item {
  const char *flow_id, *kind, *name;       /* kind "endpoint" | "consumer" */
  int64_t calls;
  double per_min, error_rate, p95_ms;
  bool has_top;
  lsp_node top;                            /* the function with the most time in the flow */
} lsp_flow_item;

typedef struct lsp_flow_list {
  lsp_panel_head head;
  size_t n;
  lsp_flow_item *items;
} lsp_flow_list;

#endif
