/* Document synchronization: didOpen, didChange (incremental), didClose, didSave. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "backend.h"
#include "docs.h"
#include "server.h"
#include "uri.h"

/* The folder holding PATH (the deepest when folders nest) and the path below it. */
int lsp_folder_of(const lsp_server *s, const char *path, const char **rel) {
  int best = -1;
  size_t best_len = 0;
  for (size_t i = 0; i < s->n_folders; i++) {
    const char *r = lsp_path_below(path, s->folders[i]);
    if (r && strlen(s->folders[i]) >= best_len) {
      best = (int)i;
      best_len = strlen(s->folders[i]);
      *rel = r;
    }
  }
  return best;
}

static int did_open(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  lsp_server *s = call->srv;
  const lsp_did_open_params *p = params;
  lsp_server_ensure_backend(s);
  char *path = lsp_uri_to_path(p->uri);
  const char *rel = p->uri;
  int folder = -1;
  if (path) {
    folder = lsp_folder_of(s, path, &rel);
    if (folder < 0) rel = path + 1;
  }
  lsp_doc *doc;
  int rc = lsp_docs_open(s->docs, p->uri, path, rel, folder, p->text, p->text_len, p->version, &doc);
  free(path);
  if (rc) {
    snprintf(err->message, sizeof err->message, "didOpen %s: out of memory", p->uri);
    return -1;
  }
  if (doc->lang != HUD_LANG_UNKNOWN) lsp_backend_want(s->backend, folder);
  return 0;
}

static int did_change(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  lsp_server *s = call->srv;
  const lsp_did_change_params *p = params;
  lsp_doc *doc = lsp_docs_find(s->docs, p->uri);
  if (!doc) {
    snprintf(err->message, sizeof err->message, "didChange for %s, which is not open: ignored", p->uri);
    return -1;
  }
  for (size_t i = 0; i < p->n_changes; i++) {
    char why[256] = "";
    int rc = lsp_doc_apply(doc, &p->changes[i], s->enc, why, sizeof why);
    if (rc) {
      lsp_doc_flush(s->docs, doc); /* the changes before this one are applied */
      snprintf(err->message, sizeof err->message, "didChange %s (version %lld), change %zu: %s; %s", p->uri,
               (long long)p->version, i, why[0] ? why : "out of memory",
               "the document may now differ from the editor's: close and reopen it");
      return -1;
    }
  }
  doc->version = p->version;
  lsp_doc_flush(s->docs, doc);
  return 0;
}

static int did_close(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  const lsp_doc_params *p = params;
  if (!lsp_docs_find(call->srv->docs, p->uri)) {
    snprintf(err->message, sizeof err->message, "didClose for %s, which is not open: ignored", p->uri);
    return -1;
  }
  lsp_docs_close(call->srv->docs, p->uri);
  lsp_server_doc_ready(call->srv, p->uri); /* its waiting requests learn it is gone */
  return 0;
}

/* Saving changes nothing the server tracks: the buffer is already current. */
static int did_save(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) { return 0; }

static const lsp_method methods[] = {
    {"textDocument/didOpen", lsp_decode_did_open, sizeof(lsp_did_open_params), did_open, NULL, 0, 0},
    {"textDocument/didChange", lsp_decode_did_change, sizeof(lsp_did_change_params), did_change, NULL, 0, 0},
    {"textDocument/didClose", lsp_decode_doc, sizeof(lsp_doc_params), did_close, NULL, 0, 0},
    {"textDocument/didSave", lsp_decode_doc, sizeof(lsp_doc_params), did_save, NULL, 0, 0},
};

const lsp_method_table lsp_m_sync = {"sync", methods, sizeof methods / sizeof methods[0]};
