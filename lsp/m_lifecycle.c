/* Lifecycle methods: initialize, initialized, shutdown, exit, $/cancelRequest, $/setTrace. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "diagnostics.h"
#include "docs.h"
#include "hud/str.h"
#include "hud/version.h"
#include "server.h"
#include "settings.h"
#include "uri.h"

int lsp_server_add_folder(lsp_server *s, char *path) {
  if (!path) return 0;
  char **f = realloc(s->folders, (s->n_folders + 1) * sizeof *f);
  if (!f) {
    free(path);
    return -1;
  }
  s->folders = f;
  size_t n = strlen(path);
  while (n > 1 && path[n - 1] == '/') path[--n] = '\0';
  for (size_t i = 0; i < s->n_folders; i++) {
    if (strcmp(s->folders[i], path) == 0) { /* already a folder */
      free(path);
      return 0;
    }
  }
  s->folders[s->n_folders++] = path;
  return 0;
}

/* A document's index caught up with its text: the requests waiting for it run, its diagnostics are
 * published. */
static void on_doc_ready(void *ud, lsp_doc *doc, const char *warn) {
  lsp_server *s = ud;
  if (warn) lsp_log(s, 2, "hud: %s", warn);
  lsp_server_doc_ready(s, doc->uri);
  lsp_diags_doc(s, doc);
}

static int initialize(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  lsp_server *s = call->srv;
  const lsp_initialize_params *p = params;
  if (s->state != LSP_STATE_NEW) {
    err->code = LSP_INVALID_REQUEST;
    snprintf(err->message, sizeof err->message, "initialize was already received");
    return -1;
  }
  s->enc = p->offers_utf8 ? LSP_ENC_UTF8 : LSP_ENC_UTF16;
  s->lens_refresh = p->lens_refresh;
  s->config_pull = p->config_pull;
  s->inlay_hints = p->inlay_hints;
  s->trace = p->trace && strcmp(p->trace, "verbose") == 0 ? 2 : p->trace && strcmp(p->trace, "messages") == 0;
  for (size_t i = 0; i < p->n_folders; i++) lsp_server_add_folder(s, lsp_uri_to_path(p->folders[i].uri));
  if (!s->n_folders && p->root_uri) lsp_server_add_folder(s, lsp_uri_to_path(p->root_uri));
  if (!s->n_folders && p->root_path) lsp_server_add_folder(s, hud_strdup(p->root_path));
  if (lsp_settings_apply(s, &p->opts, s->settings_error, sizeof s->settings_error) == 0) s->settings_error[0] = '\0';
  if (!s->docs && lsp_docs_new(s->loop, on_doc_ready, s, &s->docs) != 0) {
    err->code = LSP_INTERNAL_ERROR;
    snprintf(err->message, sizeof err->message, "out of memory");
    return -1;
  }
  lsp_initialize_result *r = result;
  r->encoding = s->enc;
  r->inlay_hints = s->inlay_hints;
  r->version = HUD_VERSION_STRING;
  s->state = LSP_STATE_INITIALIZED;
  return 0;
}

void lsp_server_ensure_backend(lsp_server *s) {
  if (s->backend || s->state != LSP_STATE_INITIALIZED) return;
  if (s->settings_error[0]) lsp_show(s, 1, "hud: %s", s->settings_error);
  if (lsp_backend_new(s, &s->backend) != 0) lsp_log(s, 1, "hud: out of memory creating the backend");
}

static int initialized(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  lsp_server_ensure_backend(call->srv);
  return 0;
}

static int shutdown_(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  call->srv->state = LSP_STATE_SHUTDOWN;
  return 0;
}

static int exit_(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  lsp_server_exit(call->srv, call->srv->state == LSP_STATE_SHUTDOWN ? 0 : 1);
  return 0;
}

/* Only deferred requests (waiting for an index or the backend) can still be cancelled. */
static int cancel(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  const lsp_cancel_params *p = params;
  lsp_server_cancel(call->srv, &p->id);
  return 0;
}

static int set_trace(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  const lsp_set_trace_params *p = params;
  call->srv->trace = strcmp(p->value, "verbose") == 0 ? 2 : strcmp(p->value, "messages") == 0;
  return 0;
}

static const lsp_method methods[] = {
    {"initialize", lsp_decode_initialize, sizeof(lsp_initialize_params), initialize, lsp_encode_initialize,
     sizeof(lsp_initialize_result), LSP_M_ANY_STATE},
    {"initialized", NULL, 0, initialized, NULL, 0, 0},
    {"shutdown", NULL, 0, shutdown_, lsp_encode_null, 0, 0},
    {"exit", NULL, 0, exit_, NULL, 0, LSP_M_ANY_STATE},
    {"$/cancelRequest", lsp_decode_cancel, sizeof(lsp_cancel_params), cancel, NULL, 0, 0},
    {"$/setTrace", lsp_decode_set_trace, sizeof(lsp_set_trace_params), set_trace, NULL, 0, 0},
};

const lsp_method_table lsp_m_lifecycle = {"lifecycle", methods, sizeof methods / sizeof methods[0]};
