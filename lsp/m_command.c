/* workspace/executeCommand: hud.explain (why a file has no lenses), hud.refresh (ask the backend
 * again now), hud.copyDeepLink (the query API's URL of a function), hud.showDetail / showCallers /
 * showCallees (a function's figures, callers or callees as a message); textDocument/codeAction offers
 * the last three on a function with figures (for clients without lenses or call hierarchy) and
 * hud.explain on one without. */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "explain.h"
#include "format.h"
#include "hud/codec.h"
#include "hud/config.h"
#include "hud/err.h"
#include "hud/issue_text.h"
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

typedef enum show_kind { SHOW_DETAIL, SHOW_CALLERS, SHOW_CALLEES } show_kind;

typedef struct show_req {
  lsp_call *call;
  show_kind kind;
  hud_function_detail detail;
} show_req;

/* "view_cart (shop/views.py:4) 200 calls/min · mean 12 ms" per peer, one a line. */
static void peers_text(const hud_call_peer *peers, size_t n, double minutes, char *out, size_t cap) {
  size_t len = strlen(out);
  for (size_t i = 0; i < n && len < cap; i++) {
    const hud_call_peer *p = &peers[i];
    char counts[160], line[24] = "";
    lsp_fmt_calls((double)p->calls, p->errors, minutes, "mean", p->mean_duration, counts, sizeof counts);
    if (p->line > 0) snprintf(line, sizeof line, ":%d", p->line);
    int k = snprintf(out + len, cap - len, "\n%s (%s%s) %s", p->name ? p->name : "<uninstrumented caller>",
                     p->module_path && *p->module_path ? p->module_path : "not instrumented", line, counts);
    if (k > 0) len += (size_t)k;
  }
}

/* Finishes a command whose backend answer cannot be used (editor gone, cancelled, backend error): true then. */
static bool settled_early(lsp_call *h, const hud_api_error *e) {
  if (h->srv->released || h->cancelled) {
    lsp_call_finish(h, 0, NULL);
    return true;
  }
  if (!e->code) return false;
  lsp_rpc_error err = {.code = LSP_INTERNAL_ERROR};
  snprintf(err.message, sizeof err.message, "backend: %s (%.300s)", hud_strerror(e->code), e->message);
  lsp_call_finish(h, -1, &err);
  return true;
}

static void shown(hud_client *c, unsigned long id, const hud_api_error *e, void *resp, void *ud) {
  (void)c;
  (void)id;
  (void)resp;
  show_req *r = ud;
  lsp_call *h = r->call;
  lsp_server *s = h->srv;
  if (settled_early(h, e)) return;
  const hud_function_summary *f = &r->detail.summary;
  double minutes = (double)s->settings.window_s / 60.0;
  char window[32], counts[160], text[4096];
  lsp_fmt_window(s->settings.window_s, window, sizeof window);
  lsp_fmt_calls((double)f->calls, f->errors, minutes, "p95", f->p95, counts, sizeof counts);
  static const char *what[] = {"", "callers", "callees"};
  snprintf(text, sizeof text, "%s (%s), last %s: %s%s%s", f->name ? f->name : f->function_id,
           f->module_path ? f->module_path : "?", window, counts, r->kind == SHOW_DETAIL ? "" : "\n",
           what[r->kind]);
  if (r->kind == SHOW_CALLERS) peers_text(r->detail.callers, r->detail.n_callers, minutes, text, sizeof text);
  if (r->kind == SHOW_CALLEES) peers_text(r->detail.callees, r->detail.n_callees, minutes, text, sizeof text);
  if ((r->kind == SHOW_CALLERS && !r->detail.n_callers) || (r->kind == SHOW_CALLEES && !r->detail.n_callees))
    snprintf(text + strlen(text), sizeof text - strlen(text), ": none in the window");
  lsp_exec_result *out = h->result;
  out->kind = 3;
  out->message = hud_arena_strdup(h->arena, text);
  lsp_show(s, 3, "hud: %s", text);
  lsp_call_finish(h, 0, NULL);
}

static int show(lsp_call *call, const lsp_exec_params *p, show_kind kind, lsp_rpc_error *err) {
  if (p->n_args < 1 || !is_function_id(p->args[0]))
    return arg_error(err, "hud.show*: arguments[0] must be a function_id (a lens's argument)");
  lsp_call *h = lsp_call_defer(call);
  show_req *r = h ? hud_arena_calloc(h->arena, 1, sizeof *r) : NULL;
  lsp_rpc_error e = {.code = LSP_INTERNAL_ERROR, .message = "out of memory"};
  if (!r) {
    if (h) lsp_call_finish(h, -1, &e);
    return h ? LSP_DEFERRED : -1;
  }
  r->call = h;
  r->kind = kind;
  if (lsp_backend_function_start(call->srv->backend, p->args[0], h->arena, &r->detail, shown, r) != 0) {
    snprintf(e.message, sizeof e.message, "no backend: %s", "set `service` (and `url`, `key`) in the settings");
    lsp_call_finish(h, -1, &e);
  }
  return LSP_DEFERRED;
}

/* hud.issueStatus: the server's answer (the updated issue) as a message, then the issues again. */
typedef struct status_req {
  lsp_call *call;
  hud_issue issue;
} status_req;

static void status_set(hud_client *c, unsigned long id, const hud_api_error *e, void *resp, void *ud) {
  (void)c;
  (void)id;
  (void)resp;
  status_req *r = ud;
  lsp_call *h = r->call;
  lsp_server *s = h->srv;
  /* A read-only key: the server's 403 says which role is needed. */
  if (settled_early(h, e)) return;
  char head[1024], text[1200];
  hud_issue_headline(&r->issue, true, head, sizeof head);
  snprintf(text, sizeof text, "issue %s: %s", r->issue.status, head);
  lsp_exec_result *out = h->result;
  out->kind = 3;
  out->message = hud_arena_strdup(h->arena, text);
  lsp_show(s, 3, "hud: %s", text);
  lsp_backend_refresh(s->backend);
  lsp_call_finish(h, 0, NULL);
}

static int issue_status(lsp_call *call, const lsp_exec_params *p, lsp_rpc_error *err) {
  if (p->n_args < 2 || !is_function_id(p->args[0]) || !hud_issue_status_settable(p->args[1]))
    return arg_error(err, "hud.issueStatus: arguments are an issue_id, then acknowledged, muted or open (and a note)");
  lsp_call *h = lsp_call_defer(call);
  status_req *r = h ? hud_arena_calloc(h->arena, 1, sizeof *r) : NULL;
  lsp_rpc_error e = {.code = LSP_INTERNAL_ERROR, .message = "out of memory"};
  if (!r) {
    if (h) lsp_call_finish(h, -1, &e);
    return h ? LSP_DEFERRED : -1;
  }
  r->call = h;
  if (lsp_backend_issue_status_start(call->srv->backend, p->args[0], p->args[1], p->n_args > 2 ? p->args[2] : NULL,
                                     h->arena, &r->issue, status_set, r) != 0) {
    snprintf(e.message, sizeof e.message, "no backend: %s", "set `service` (and `url`, `key`) in the settings");
    lsp_call_finish(h, -1, &e);
  }
  return LSP_DEFERRED;
}

static int execute(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  const lsp_exec_params *p = params;
  lsp_exec_result *out = result;
  if (!strcmp(p->command, "hud.showDetail")) return show(call, p, SHOW_DETAIL, err);
  if (!strcmp(p->command, "hud.showCallers")) return show(call, p, SHOW_CALLERS, err);
  if (!strcmp(p->command, "hud.showCallees")) return show(call, p, SHOW_CALLEES, err);
  if (!strcmp(p->command, "hud.issueStatus")) return issue_status(call, p, err);
  if (!strcmp(p->command, "hud.explain")) return explain(call, p, out, err);
  if (!strcmp(p->command, "hud.copyDeepLink")) return deep_link(call, p, out, err);
  if (!strcmp(p->command, "hud.refresh")) {
    lsp_backend_refresh(call->srv->backend);
    return 0;
  }
  err->code = LSP_INVALID_PARAMS;
  snprintf(err->message, sizeof err->message, "unknown command %.200s (hud.explain, hud.refresh, hud.copyDeepLink, "
           "hud.showDetail, hud.showCallers, hud.showCallees, hud.issueStatus)",
           p->command);
  return -1;
}

static void add(lsp_commands *out, hud_arena *a, const char *command, const char *what, const char *name,
                const char *arg) {
  char title[300];
  snprintf(title, sizeof title, "hud: %s%.200s", what, name);
  lsp_command *c = &out->items[out->n++];
  c->title = hud_arena_strdup(a, title);
  c->command = command;
  c->argument = arg;
}

static int code_action(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  lsp_server *s = call->srv;
  const lsp_doc_pos_params *p = params;
  lsp_commands *out = result;
  lsp_doc *doc = lsp_docs_find(s->docs, p->uri);
  if (!doc) return arg_error(err, "codeAction: the document is not open (send didOpen first)");
  if (!lsp_doc_ready(doc)) return lsp_call_wait_doc(call, doc);
  const hud_index_result *ix = lsp_doc_index(doc);
  size_t off, line_off;
  lsp_pos line_start = {.line = p->position.line, .character = 0};
  if (!ix || lsp_doc_offset(doc, p->position, s->enc, &off) || lsp_doc_offset(doc, line_start, s->enc, &line_off))
    return 0;
  const hud_index_func *f = lsp_func_at(ix, (uint32_t)p->position.line, (uint32_t)(off - line_off), off);
  if (!f) return 0;
  const hud_function_summary *sum = lsp_backend_lookup(s->backend, doc, f->qualname);
  if (!sum) {
    add(out, call->arena, "hud.explain", "why no production figures for ", f->qualname, doc->uri);
    return 0;
  }
  add(out, call->arena, "hud.showDetail", "production detail of ", f->qualname, sum->function_id);
  add(out, call->arena, "hud.showCallers", "production callers of ", f->qualname, sum->function_id);
  add(out, call->arena, "hud.showCallees", "production callees of ", f->qualname, sum->function_id);
  /* The active issue whose root cause is this function: acknowledge or mute it here. */
  const hud_issues_response *issues = lsp_backend_issues(s->backend);
  for (size_t k = 0; issues && k < issues->n_issues; k++) {
    const hud_issue *is = &issues->issues[k];
    bool root = is->n_root_causes ? !strcmp(is->root_causes[0].function_id, sum->function_id)
                                  : is->subject_kind == HUD_SUBJECT_FUNCTION && !strcmp(is->subject_id, sum->function_id);
    if (!root || !is->status || !strcmp(is->status, HUD_ISSUE_MUTED)) continue;
    char head[1024];
    hud_issue_headline(is, true, head, sizeof head);
    const char *id = hud_arena_strdup(call->arena, is->issue_id);
    if (strcmp(is->status, HUD_ISSUE_ACKNOWLEDGED) != 0) {
      add(out, call->arena, "hud.issueStatus", "acknowledge ", head, id);
      out->items[out->n - 1].argument2 = HUD_ISSUE_ACKNOWLEDGED;
    }
    add(out, call->arena, "hud.issueStatus", "mute ", head, id);
    out->items[out->n - 1].argument2 = HUD_ISSUE_MUTED;
    break; /* room for one issue's actions */
  }
  return 0;
}

static const lsp_method methods[] = {
    {"textDocument/codeAction", lsp_decode_code_action, sizeof(lsp_doc_pos_params), code_action, lsp_encode_commands,
     sizeof(lsp_commands), 0},
    {"workspace/executeCommand", lsp_decode_exec, sizeof(lsp_exec_params), execute, lsp_encode_exec,
     sizeof(lsp_exec_result), 0},
};

const lsp_method_table lsp_m_command = {"command", methods, sizeof methods / sizeof methods[0]};
