/* workspace/symbol: production's busiest functions (GET /v1/functions/top, by calls) whose name holds
 * the query (case-insensitive), each located in the workspace as the call hierarchy's items are. */
#define _GNU_SOURCE /* strcasestr */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "format.h"
#include "hud/err.h"
#include "locate.h"
#include "server.h"

enum { TOP_LIMIT = 1000, MAX_SYMBOLS = 100, KIND_METHOD = 6, KIND_FUNCTION = 12 };

typedef struct symbol_req {
  lsp_call *call;
  hud_top_response top;
  const hud_function_summary **hits;
  size_t n;
} symbol_req;

static void located(lsp_server *s, void *ud, lsp_loc *locs, size_t n_locs) {
  symbol_req *r = ud;
  lsp_call *h = r->call;
  lsp_rpc_error e = {.code = LSP_INTERNAL_ERROR, .message = "out of memory"};
  if (s->released || h->cancelled || n_locs < r->n) {
    lsp_call_finish(h, -1, &e);
    return;
  }
  lsp_symbols *out = h->result;
  out->items = hud_arena_calloc(h->arena, r->n + 1, sizeof *out->items);
  if (!out->items) {
    lsp_call_finish(h, -1, &e);
    return;
  }
  double minutes = (double)(r->top.to - r->top.from) / 60e9;
  for (size_t i = 0; i < r->n; i++) {
    const hud_function_summary *f = r->hits[i];
    lsp_symbol *y = &out->items[out->n++];
    char counts[160], container[600], uri[600];
    lsp_fmt_calls((double)f->calls, f->errors, minutes, "p95", f->p95, counts, sizeof counts);
    snprintf(container, sizeof container, "%s · %s", f->module_path ? f->module_path : "?", counts);
    y->name = f->name ? f->name : f->function_id;
    y->kind = strchr(y->name, '.') ? KIND_METHOD : KIND_FUNCTION;
    y->container = hud_arena_strdup(h->arena, container);
    if (locs[i].uri && locs[i].found) {
      y->uri = locs[i].uri;
      y->range = locs[i].selection;
    } else { /* not in the workspace: a hud: URI naming the module, as in the call hierarchy */
      snprintf(uri, sizeof uri, "hud:///%s", f->module_path ? f->module_path : "unknown");
      y->uri = hud_arena_strdup(h->arena, uri);
    }
  }
  lsp_call_finish(h, 0, NULL);
}

static void answered(hud_client *c, unsigned long id, const hud_api_error *e, void *resp, void *ud) {
  (void)c;
  (void)id;
  (void)resp;
  symbol_req *r = ud;
  lsp_call *h = r->call;
  lsp_server *s = h->srv;
  if (s->released || h->cancelled) {
    lsp_call_finish(h, 0, NULL);
    return;
  }
  if (e->code) {
    lsp_rpc_error err = {.code = LSP_INTERNAL_ERROR};
    snprintf(err.message, sizeof err.message, "backend: %s (%.300s)", hud_strerror(e->code), e->message);
    lsp_call_finish(h, -1, &err);
    return;
  }
  const lsp_symbol_params *p = h->params;
  r->hits = hud_arena_calloc(h->arena, MAX_SYMBOLS + 1, sizeof *r->hits);
  lsp_loc_query *q = hud_arena_calloc(h->arena, MAX_SYMBOLS + 1, sizeof *q);
  lsp_rpc_error oom = {.code = LSP_INTERNAL_ERROR, .message = "out of memory"};
  if (!r->hits || !q) {
    lsp_call_finish(h, -1, &oom);
    return;
  }
  for (size_t i = 0; i < r->top.n_items && r->n < MAX_SYMBOLS; i++) {
    const hud_function_summary *f = &r->top.items[i];
    if (f->calls <= 0 || !f->name || (*p->query && !strcasestr(f->name, p->query))) continue;
    q[r->n].module = f->module_path;
    q[r->n].qualname = f->name;
    r->hits[r->n++] = f;
  }
  if (r->n == 0) {
    lsp_call_finish(h, 0, NULL);
    return;
  }
  if (lsp_locate_start(s, h->arena, q, r->n, located, r) != 0) lsp_call_finish(h, -1, &oom);
}

static int workspace_symbol(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  lsp_server *s = call->srv;
  if (!s->backend) return 0; /* no backend: no production functions */
  lsp_call *h = lsp_call_defer(call);
  symbol_req *r = h ? hud_arena_calloc(h->arena, 1, sizeof *r) : NULL;
  if (!r) {
    if (h) lsp_call_finish(h, -1, &(lsp_rpc_error){.code = LSP_INTERNAL_ERROR, .message = "out of memory"});
    return h ? LSP_DEFERRED : -1;
  }
  r->call = h;
  int rc = lsp_backend_top_start(s->backend, TOP_LIMIT, h->arena, &r->top, answered, r);
  if (rc) { /* unconfigured: nothing to list */
    lsp_call_finish(h, 0, NULL);
  }
  return LSP_DEFERRED;
}

static const lsp_method methods[] = {
    {"workspace/symbol", lsp_decode_symbol, sizeof(lsp_symbol_params), workspace_symbol, lsp_encode_symbols,
     sizeof(lsp_symbols), 0},
};

const lsp_method_table lsp_m_symbol = {"symbol", methods, sizeof methods / sizeof methods[0]};
