/* Workspace notifications: workspace/didChangeConfiguration (the settings read again, pulled with
 * workspace/configuration from clients that answer it) and workspace/didChangeWorkspaceFolders
 * (multi-root: folders added and removed). Either one restarts the backend: the figures are asked
 * for again and the open documents mapped again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "docs.h"
#include "hud/str.h"
#include "server.h"
#include "settings.h"
#include "uri.h"

static void restart_backend(lsp_server *s) {
  lsp_backend_free(s->backend); /* its requests in flight end with HUD_ECANCELED */
  s->backend = NULL;
  lsp_server_ensure_backend(s);
  for (size_t i = 0; s->docs && i < lsp_docs_count(s->docs); i++) {
    lsp_doc *doc = lsp_docs_at(s->docs, i);
    if (doc->lang != HUD_LANG_UNKNOWN) lsp_backend_want(s->backend, doc->folder);
  }
}

static void apply(lsp_server *s, const lsp_init_options *o) {
  if (lsp_settings_apply(s, o, s->settings_error, sizeof s->settings_error) == 0) s->settings_error[0] = '\0';
  restart_backend(s); /* names a setting that cannot work, as at initialized */
}

static int did_change_config(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  lsp_server *s = call->srv;
  const lsp_config_params *p = params;
  if (s->config_pull) { /* the settings pushed may be null or partial: ask for the section */
    s->config_req = lsp_request_out(s, "workspace/configuration", lsp_encode_config_request, NULL);
    return 0;
  }
  apply(s, &p->opts);
  return 0;
}

void lsp_server_on_response(lsp_server *s, const lsp_msg *msg) {
  char want[32];
  snprintf(want, sizeof want, "hud-%lld", (long long)s->config_req);
  if (!s->config_req || msg->id.kind != LSP_ID_STR || strcmp(msg->id.str, want) != 0) return;
  s->config_req = 0;
  if (s->state != LSP_STATE_INITIALIZED) return;
  hud_arena *a = hud_arena_new();
  lsp_init_options o;
  lsp_rpc_error err = {0};
  if (!a) return;
  if (lsp_codec_config_result(msg, a, &o, &err) == 0) apply(s, &o);
  else lsp_log(s, 2, "hud: workspace/configuration: %s", err.message);
  hud_arena_free(a);
}

static void remove_folder(lsp_server *s, const char *uri) {
  char *path = lsp_uri_to_path(uri);
  if (!path) return;
  size_t n = strlen(path);
  while (n > 1 && path[n - 1] == '/') path[--n] = '\0';
  for (size_t i = 0; i < s->n_folders; i++) {
    if (strcmp(s->folders[i], path) != 0) continue;
    free(s->folders[i]);
    memmove(&s->folders[i], &s->folders[i + 1], (s->n_folders - i - 1) * sizeof *s->folders);
    s->n_folders--;
    break;
  }
  free(path);
}

/* Every open document's folder and path below it, after the folders changed. */
static void refile_docs(lsp_server *s) {
  for (size_t i = 0; s->docs && i < lsp_docs_count(s->docs); i++) {
    lsp_doc *doc = lsp_docs_at(s->docs, i);
    if (!doc->path) continue;
    const char *rel = NULL;
    int folder = lsp_folder_of(s, doc->path, &rel);
    char *r = hud_strdup(folder < 0 ? doc->path + 1 : rel);
    if (!r) continue;
    free(doc->rel);
    doc->rel = r;
    doc->folder = folder;
    free(doc->module); /* mapped again by the next answer */
    doc->module = NULL;
  }
}

static int did_change_folders(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  lsp_server *s = call->srv;
  const lsp_folders_params *p = params;
  for (size_t i = 0; i < p->n_removed; i++) remove_folder(s, p->removed[i].uri);
  for (size_t i = 0; i < p->n_added; i++) {
    char *path = lsp_uri_to_path(p->added[i].uri);
    lsp_server_add_folder(s, path);
  }
  refile_docs(s);
  restart_backend(s);
  return 0;
}

static const lsp_method methods[] = {
    {"workspace/didChangeConfiguration", lsp_decode_config, sizeof(lsp_config_params), did_change_config, NULL, 0, 0},
    {"workspace/didChangeWorkspaceFolders", lsp_decode_folders, sizeof(lsp_folders_params), did_change_folders, NULL,
     0, 0},
};

const lsp_method_table lsp_m_workspace = {"workspace", methods, sizeof methods / sizeof methods[0]};
