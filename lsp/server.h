/* The language server's state and the method tables (one file per method family, m_*.c).
 *
 * Adding a method: write its params struct in types.h, its decoder (and result encoder) in codec.c,
 * its handler in the family's m_*.c table; a new family adds one line to the table of tables in
 * dispatch.c. docs/HACKING.md "Add an LSP method". */
#ifndef LSP_SERVER_H
#define LSP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "codec.h"
#include "types.h"

typedef struct lsp_transport lsp_transport;
typedef struct lsp_docs lsp_docs;
typedef struct lsp_backend lsp_backend;

typedef enum lsp_state {
  LSP_STATE_NEW = 0,      /* before initialize */
  LSP_STATE_INITIALIZED,  /* initialize answered (initialized may or may not have come) */
  LSP_STATE_SHUTDOWN,     /* shutdown answered: only exit is accepted */
} lsp_state;

/* Settings after initializationOptions and the shared configuration (settings.c, docs/lsp.md). */
typedef struct lsp_settings {
  struct hud_config *cfg;  /* url, key, service, env, timeouts: program section "lsp" */
  int64_t window_s;        /* query window, default 3600 */
  bool cli_known;          /* CLI_FLAGS was read (first apply) */
  unsigned cli_flags;      /* url, key, service, env given as hud-lsp's own flags (bits 0..3): never overridden */
  int64_t refresh_s;       /* background refresh period, default 30 */
  bool lens_on, hover_on, inlay_on, diags_on; /* per-kind toggles, all on by default */
  char lens_layout[256];   /* the lens title's template (format.h), checked */
  double min_cpm;          /* no lens below this many calls per minute (0: none) */
  double p95_warn_ms, err_rate_warn; /* a lens over either starts with a warning sign; < 0: none */
  size_t n_path_maps;
  struct lsp_path_map {
    char from[256], to[1024]; /* production's prefix; the workspace path (relative to the folder or absolute) */
  } path_maps[16];
  size_t n_services;
  struct lsp_folder_service {
    char folder[1024];     /* the folder's URI, name or path relative to the first folder, as configured */
    char service[128];
  } services[32];
} lsp_settings;

typedef struct lsp_server {
  uv_loop_t *loop;
  lsp_transport *tr;
  lsp_state state;
  bool exiting;
  int exit_code;
  lsp_encoding enc;
  bool lens_refresh;       /* the client handles workspace/codeLens/refresh */
  bool config_pull;        /* the client answers workspace/configuration */
  bool inlay_hints;        /* the client shows inlay hints (textDocument.inlayHint) */
  int64_t config_req;      /* id of our workspace/configuration request in flight (hud-N), 0: none */
  int trace;               /* 0 off, 1 messages, 2 verbose */
  lsp_settings settings;
  struct hud_config *base_cfg; /* the configuration from the command line, env and file (main) */
  size_t n_folders;
  char **folders;          /* workspace folder paths (no trailing '/'), malloc'ed */
  lsp_docs *docs;
  lsp_backend *backend;
  int64_t next_out_id;
  size_t frames_in, frames_bad;
  char settings_error[320]; /* shown once the client is initialized; "" when none */
  struct lsp_call *deferred; /* requests answered later (lsp_call_defer), in arrival order */
  bool released;           /* lsp_server_release ran: late completions only free their call */
} lsp_server;

struct lsp_method;

/* One incoming call, as the handler sees it. */
typedef struct lsp_call {
  lsp_server *srv;
  const lsp_id *id;        /* NULL for notifications */
  hud_arena *arena;        /* dies after the call is answered (its result encoded) */
  /* The dispatcher's (dispatch.c): what a deferred call needs to run again or answer later. */
  const struct lsp_method *m;
  void *params, *result;
  lsp_msg msg;             /* the message, owned by a deferred call */
  lsp_msg *msg_src;        /* the dispatcher's copy, taken by lsp_call_defer */
  lsp_id id_copy;
  bool heap, cancelled;
  const char *wait_uri;    /* waiting for this document's index (in ARENA); NULL: waiting for an answer */
  struct lsp_call *next;
} lsp_call;

/* 0 with *RESULT filled (requests), -1 with ERR set (requests answer it; notifications log it), or
 * LSP_DEFERRED: the call was deferred (lsp_call_wait_doc, lsp_call_defer) and is answered later. */
typedef int (*lsp_handler_fn)(lsp_call *call, const void *params, void *result, lsp_rpc_error *err);

#define LSP_DEFERRED 1

struct lsp_doc;
/* The handler needs DOC's index, which a worker is still building: the handler runs again, with the
 * same params, when it is ready (or the document closes). Returns LSP_DEFERRED, for the handler to
 * return; other requests are served meanwhile. */
int lsp_call_wait_doc(lsp_call *call, const struct lsp_doc *doc);
/* Takes the call out of the dispatcher (the handler then returns LSP_DEFERRED): the heap copy keeps
 * its params, result and arena until lsp_call_finish answers it (RC 0: the result; else ERR). A call
 * the client cancelled meanwhile is only freed. */
lsp_call *lsp_call_defer(lsp_call *call);
void lsp_call_finish(lsp_call *call, int rc, const lsp_rpc_error *err);
/* DOC's index is ready (or DOC closed): runs the calls waiting for it again. */
void lsp_server_doc_ready(lsp_server *s, const char *uri);
/* $/cancelRequest: a deferred request with ID is answered RequestCancelled now. */
void lsp_server_cancel(lsp_server *s, const lsp_id *id);
/* Frees the calls waiting for a document (at exit); calls waiting for an answer are freed by it. */
void lsp_server_drop_waiting(lsp_server *s);

enum {
  LSP_M_ANY_STATE = 1u << 0, /* accepted before initialize and after shutdown (exit, initialize) */
};

typedef struct lsp_method {
  const char *name;
  lsp_decode_fn decode;    /* NULL: params ignored */
  size_t params_size;
  lsp_handler_fn handle;
  lsp_encode_fn encode;    /* result encoder; NULL: JSON null */
  size_t result_size;
  unsigned flags;
} lsp_method;

typedef struct lsp_method_table {
  const char *family;
  const lsp_method *methods;
  size_t n;
} lsp_method_table;

/* The families (m_*.c). */
extern const lsp_method_table lsp_m_lifecycle, lsp_m_sync, lsp_m_lens, lsp_m_hover, lsp_m_hierarchy,
    lsp_m_command, lsp_m_workspace, lsp_m_symbol, lsp_m_inlay, lsp_m_errflows, lsp_m_panels;

/* The method named NAME, or NULL. */
const lsp_method *lsp_find_method(const char *name);

/* Handles one frame body from the transport (dispatch.c). */
void lsp_server_on_frame(lsp_server *s, const char *body, size_t len);
/* A framing error from the transport: answered as a ParseError with id null. */
void lsp_server_on_frame_error(lsp_server *s, const char *what);

/* Outgoing messages (dispatch.c). */
void lsp_notify(lsp_server *s, const char *method, lsp_encode_fn enc, const void *params);
/* Sends a request to the client; returns its number N (the id is "hud-N"). */
int64_t lsp_request_out(lsp_server *s, const char *method, lsp_encode_fn enc, const void *params);
/* A response of the client to one of our requests (m_workspace.c). */
void lsp_server_on_response(lsp_server *s, const lsp_msg *msg);
/* window/logMessage (type 1 error .. 4 log) and window/showMessage, printf-style. */
void lsp_log(lsp_server *s, int type, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void lsp_show(lsp_server *s, int type, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Adds the workspace folder PATH (taken; trailing '/' dropped; NULL is a no-op). 0 or -1. */
int lsp_server_add_folder(lsp_server *s, char *path);
/* The folder holding PATH (the deepest when folders nest), REL the path below it; -1 when none. */
int lsp_folder_of(const lsp_server *s, const char *path, const char **rel);

/* Ends the process's loop: stops reading and lets pending writes finish (main.c runs the loop out). */
void lsp_server_exit(lsp_server *s, int code);
/* Creates the backend the first time it is needed (after initialized, or at the first didOpen of a
 * client that skips initialized). */
void lsp_server_ensure_backend(lsp_server *s);
/* Frees the backend (its handles close on the loop: run it afterwards), the documents and the folders;
 * the transport is the caller's. */
void lsp_server_release(lsp_server *s);

#endif
