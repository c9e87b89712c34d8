/* Reasons for missing figures (explain.h). */
#include "explain.h"

#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "format.h"
#include "hud/config.h"
#include "hud/err.h"

static const char *say(char *out, size_t cap, const char *reason, const char *fmt, const char *a, const char *b,
                       const char *c) {
  snprintf(out, cap, fmt, a ? a : "", b ? b : "", c ? c : "");
  return reason;
}

/* The backend's state when it keeps DOC from having figures, else NULL. */
static const char *backend_reason(lsp_server *s, char *out, size_t cap) {
  const char *msg, *state = lsp_backend_state(s->backend, &msg);
  if (!s->backend || !strcmp(state, "unconfigured"))
    return say(out, cap, "unconfigured", "no service mapped: %s%s%s",
               *msg ? msg : "set `service` in initializationOptions or the hud config (section [lsp])", NULL, NULL);
  /* The messages name the failure ("backend unreachable", "refused the API key") and what to fix. */
  if (!strcmp(state, "unreachable")) return say(out, cap, "unreachable", "%s%s%s", msg, NULL, NULL);
  if (!strcmp(state, "unauthorized")) return say(out, cap, "unauthorized", "%s%s%s", msg, NULL, NULL);
  if (!strcmp(state, "error") && lsp_backend_last_error(s->backend) == HUD_ENOTFOUND)
    return say(out, cap, "service_not_found", "no such service: %s%s%s", msg, NULL, NULL);
  if (!strcmp(state, "error")) return say(out, cap, "error", "%s%s%s", msg, NULL, NULL);
  return NULL;
}

const char *lsp_explain_doc(lsp_server *s, const lsp_doc *doc, char *out, size_t cap) {
  if (!doc) return say(out, cap, "not_open", "the file is not open (send didOpen first)%s%s%s", NULL, NULL, NULL);
  if (doc->lang == HUD_LANG_UNKNOWN)
    return say(out, cap, "not_indexed", "%s: not a language hud indexes%s%s", doc->rel, NULL, NULL);
  if (!doc->indexable)
    return say(out, cap, "skipped", "%s was skipped by the index: %s%s (files over 16 MiB or whose parse takes over 10 s "
               "are kept as plain text)", doc->rel, hud_strerror(doc->index_rc), NULL);
  if (!lsp_doc_ready(doc))
    return say(out, cap, "waiting_index", "%s is still being indexed%s%s", doc->rel, NULL, NULL);
  int from = 0;
  const char *service = lsp_backend_service_of(s->backend, doc, &from);
  if (!service) service = hud_config_str(s->settings.cfg, HUD_CFG_SERVICE);
  char chosen[192] = ""; /* how the service was chosen, when discovered */
  if (from > 0)
    snprintf(chosen, sizeof chosen, "; service %s (discovered from %d matching module%s)", service, from,
             from == 1 ? "" : "s");
  const char *known = NULL;
  int data = lsp_backend_doc_data(s->backend, doc, &known);
  if (data == -2)
    return say(out, cap, "unconfigured", "no service configured, and no service of the key has data for the files of "
               "this folder (%s); set `service` or `services` in initializationOptions%s%s", doc->rel, NULL, NULL);
  char window[32];
  lsp_fmt_window(s->settings.window_s, window, sizeof window);
  const char *why = data == 1 ? NULL : backend_reason(s, out, cap);
  if (why) return why;
  if (data < 0)
    return say(out, cap, "connecting", "waiting for the first answer of %s (service %s)%s",
               hud_config_str(s->settings.cfg, HUD_CFG_URL), service, NULL);
  if (data == 0 && known)
    return say(out, cap, "no_calls", "no calls in the window: %s is a module of %s but none of its functions ran in "
               "the last %s", known, service, window);
  if (data == 0)
    return say(out, cap, "module_not_found", "module path not found among the modules of %s: no suffix of %s is one "
               "(the module paths the sensor reported differ%s)", service, doc->rel, NULL);
  const hud_index_result *ix = lsp_doc_index(doc);
  size_t with = 0;
  for (size_t i = 0; ix && i < ix->nfuncs; i++)
    if (lsp_backend_lookup(s->backend, doc, ix->funcs[i].qualname)) with++;
  if (!with)
    return say(out, cap, "no_calls", "no calls in the window: none of the functions of %s ran in the last %s%s",
               doc->module, window, NULL);
  char n[64];
  snprintf(n, sizeof n, "%zu of %zu functions", with, ix->nfuncs);
  char where[320];
  snprintf(where, sizeof where, "%s, last %s%s", doc->module, window, chosen);
  return say(out, cap, "ok", "%s have figures (module %s)%s", n, where, NULL);
}

const char *lsp_explain_func(lsp_server *s, const lsp_doc *doc, const char *qualname, char *out, size_t cap) {
  const char *why = lsp_explain_doc(s, doc, out, cap);
  if (strcmp(why, "ok") != 0) return why;
  char window[32];
  lsp_fmt_window(s->settings.window_s, window, sizeof window);
  if (lsp_backend_declared(s->backend, doc, doc->module, qualname))
    return say(out, cap, "no_calls", "no calls in the last %s (%s is declared in %s)", window, qualname, doc->module);
  return say(out, cap, "function_not_found", "%s is not among the functions production reported for %s "
             "(not instrumented, or renamed since deployed)%s", qualname, doc->module, NULL);
}
