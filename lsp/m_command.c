/* workspace/executeCommand: hud.explain (why a file has no lenses), hud.refresh (ask the backend
 * again now), hud.copyDeepLink (the query API's URL of a function). */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "explain.h"
#include "hud/config.h"
#include "server.h"

static int arg_error(lsp_rpc_error *err, const char *what) {
  err->code = LSP_INVALID_PARAMS;
  snprintf(err->message, sizeof err->message, "%s", what);
  return -1;
}

static int explain(lsp_call *call, const lsp_exec_params *p, lsp_exec_result *out, lsp_rpc_error *err) {
  if (p->n_args < 1) return arg_error(err, "hud.explain: arguments[0] must be the document's URI");
  lsp_server *s = call->srv;
  lsp_doc *doc = lsp_docs_find(s->docs, p->args[0]);
  if (doc && !lsp_doc_ready(doc)) return lsp_call_wait_doc(call, doc);
  char msg[1024];
  out->kind = 1;
  out->reason = lsp_explain_doc(s, doc, msg, sizeof msg);
  out->message = hud_arena_strdup(call->arena, msg);
  lsp_show(s, 3, "hud: %s", msg);
  return 0;
}

static bool is_function_id(const char *id) {
  if (strlen(id) != 36) return false;
  for (const char *c = id; *c; c++)
    if (!strchr("0123456789abcdef-", *c)) return false;
  return true;
}

static int deep_link(lsp_call *call, const lsp_exec_params *p, lsp_exec_result *out, lsp_rpc_error *err) {
  if (p->n_args < 1 || !is_function_id(p->args[0]))
    return arg_error(err, "hud.copyDeepLink: arguments[0] must be a function_id (a lens's argument)");
  const hud_config *cfg = call->srv->settings.cfg;
  const char *env = hud_config_str(cfg, HUD_CFG_ENV);
  char url[1024];
  snprintf(url, sizeof url, "%s/v1/functions/%s?service=%s%s%s", hud_config_str(cfg, HUD_CFG_URL), p->args[0],
           hud_config_str(cfg, HUD_CFG_SERVICE), env && *env ? "&env=" : "", env && *env ? env : "");
  out->kind = 2;
  out->url = hud_arena_strdup(call->arena, url);
  return 0;
}

static int execute(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  const lsp_exec_params *p = params;
  lsp_exec_result *out = result;
  if (!strcmp(p->command, "hud.explain")) return explain(call, p, out, err);
  if (!strcmp(p->command, "hud.copyDeepLink")) return deep_link(call, p, out, err);
  if (!strcmp(p->command, "hud.refresh")) {
    lsp_backend_refresh(call->srv->backend);
    return 0;
  }
  err->code = LSP_INVALID_PARAMS;
  snprintf(err->message, sizeof err->message, "unknown command %.200s (hud.explain, hud.refresh, hud.copyDeepLink)",
           p->command);
  return -1;
}

static const lsp_method methods[] = {
    {"workspace/executeCommand", lsp_decode_exec, sizeof(lsp_exec_params), execute, lsp_encode_exec,
     sizeof(lsp_exec_result), 0},
};

const lsp_method_table lsp_m_command = {"command", methods, sizeof methods / sizeof methods[0]};
