/* Call hierarchy from production data: textDocument/prepareCallHierarchy (the function at the position,
 * from the index), callHierarchy/incomingCalls and callHierarchy/outgoingCalls (the callers and callees
 * of GET /v1/functions/{id}, each located in the workspace by locate.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "docs.h"
#include "format.h"
#include "hud/err.h"
#include "locate.h"
#include "server.h"
#include "uri.h"

enum { KIND_METHOD = 6, KIND_FUNCTION = 12 };

static double window_min(const lsp_server *s) { return (double)s->settings.window_s / 60.0; }

/* The function whose name holds OFF, else the innermost one whose definition holds it. */
const hud_index_func *lsp_func_at(const hud_index_result *ix, uint32_t row, uint32_t col, size_t off) {
  const hud_index_func *best = NULL;
  for (size_t i = 0; i < ix->nfuncs; i++) {
    const hud_index_func *f = &ix->funcs[i];
    if (f->name_start.row == row && col >= f->name_start.column && col <= f->name_end.column) return f;
    bool inside = off >= f->start_byte && off < f->end_byte;
    if (inside && (!best || f->end_byte - f->start_byte < best->end_byte - best->start_byte)) best = f;
  }
  return best;
}

static int oom(lsp_rpc_error *err) {
  err->code = LSP_INTERNAL_ERROR;
  snprintf(err->message, sizeof err->message, "out of memory");
  return -1;
}

static int prepare(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  lsp_server *s = call->srv;
  const lsp_doc_pos_params *p = params;
  lsp_hier_items *out = result;
  lsp_doc *doc = lsp_docs_find(s->docs, p->uri);
  if (!doc) {
    err->code = LSP_INVALID_PARAMS;
    snprintf(err->message, sizeof err->message, "prepareCallHierarchy: %s is not open (send didOpen first)", p->uri);
    return -1;
  }
  if (!lsp_doc_ready(doc)) return lsp_call_wait_doc(call, doc);
  const hud_index_result *ix = lsp_doc_index(doc);
  size_t off, line_off;
  lsp_pos line_start = {.line = p->position.line, .character = 0};
  if (!ix || lsp_doc_offset(doc, p->position, s->enc, &off) || lsp_doc_offset(doc, line_start, s->enc, &line_off))
    return 0; /* null */
  const hud_index_func *f = lsp_func_at(ix, (uint32_t)p->position.line, (uint32_t)(off - line_off), off);
  if (!f) return 0;
  const hud_function_summary *sum = lsp_backend_lookup(s->backend, doc, f->qualname);
  char id[HUD_UUID_STRLEN + 1], detail[160];
  if (sum) snprintf(id, sizeof id, "%s", sum->function_id);
  else if (!doc->module || hud_function_id(doc->module, f->qualname, id) != 0)
    snprintf(id, sizeof id, "%s", f->function_id);
  if (sum) lsp_fmt_calls((double)sum->calls, sum->errors, lsp_backend_window_min(s->backend, doc), "p95", sum->p95,
                         detail, sizeof detail);
  else snprintf(detail, sizeof detail, "no calls in the window");
  out->items = hud_arena_calloc(call->arena, 1, sizeof *out->items);
  if (!out->items) return oom(err);
  lsp_hier_item *it = &out->items[0];
  it->name = f->qualname ? hud_arena_strdup(call->arena, f->qualname) : "";
  it->kind = f->kind == HUD_INDEX_METHOD ? KIND_METHOD : KIND_FUNCTION;
  it->detail = hud_arena_strdup(call->arena, detail);
  it->uri = doc->uri;
  it->range.start = lsp_doc_pos(doc, (uint32_t)(f->start_line - 1), 0, s->enc);
  it->range.end = lsp_doc_line_range(doc, (uint32_t)(f->end_line - 1), s->enc).end;
  it->selection.start = lsp_doc_pos(doc, f->name_start.row, f->name_start.column, s->enc);
  it->selection.end = lsp_doc_pos(doc, f->name_end.row, f->name_end.column, s->enc);
  it->function_id = hud_arena_strdup(call->arena, id);
  it->module = doc->module ? hud_arena_strdup(call->arena, doc->module) : NULL;
  out->found = true;
  out->n = 1;
  return 0;
}

/* One incomingCalls / outgoingCalls on its way: the backend's answer, then the locations. */
typedef struct hier_req {
  lsp_call *call;
  bool outgoing;
  lsp_hier_item item;
  hud_function_detail detail;
  const hud_call_peer *peers;
  size_t n;
} hier_req;

/* An item for PEER: in the workspace when LOC has a file, else listed with its module path. */
static void peer_item(lsp_server *s, hud_arena *a, const hud_call_peer *peer, const lsp_loc *loc, lsp_hier_item *it) {
  char counts[128], detail[512];
  lsp_fmt_calls((double)peer->calls, peer->errors, window_min(s), "mean", peer->mean_duration, counts, sizeof counts);
  const char *module = peer->module_path && *peer->module_path ? peer->module_path : NULL;
  if (loc->uri) snprintf(detail, sizeof detail, "%s", counts);
  else snprintf(detail, sizeof detail, "%s · %s", module ? module : "not instrumented", counts);
  /* No function: module-level code, a framework or C code calling in. */
  it->name = peer->name ? peer->name : peer->function_id[0] ? peer->function_id : "<uninstrumented caller>";
  it->kind = strchr(it->name, '.') ? KIND_METHOD : KIND_FUNCTION;
  it->detail = hud_arena_strdup(a, detail);
  if (loc->uri) {
    it->uri = loc->uri;
  } else {
    /* Not in the workspace: a hud: URI naming the module, so that the item still shows. */
    char uri[600];
    snprintf(uri, sizeof uri, "hud:///%s", module ? module : "uninstrumented");
    it->uri = hud_arena_strdup(a, uri);
  }
  if (loc->found) {
    it->range = loc->range;
    it->selection = loc->selection;
  }
  it->function_id = peer->function_id;
  it->module = module;
}

/* The call already made for PEER's function (it has several call sites), or NULL. */
static lsp_hier_call *call_for(lsp_hier_calls *out, const hud_call_peer *peer) {
  for (size_t i = 0; peer->function_id[0] && i < out->n; i++)
    if (strcmp(out->items[i].item.function_id, peer->function_id) == 0) return &out->items[i];
  return NULL;
}

static size_t sites_of(const hier_req *r, const hud_call_peer *peer) {
  size_t k = 0;
  for (size_t i = 0; i < r->n; i++)
    k += peer->function_id[0] ? strcmp(r->peers[i].function_id, peer->function_id) == 0 : &r->peers[i] == peer;
  return k;
}

static void located(lsp_server *s, void *ud, lsp_loc *locs, size_t n_locs) {
  hier_req *r = ud;
  lsp_call *h = r->call;
  lsp_rpc_error e = {.code = LSP_INTERNAL_ERROR, .message = "out of memory"};
  if (s->released || h->cancelled || n_locs < (r->outgoing ? 2 * r->n : r->n)) {
    lsp_call_finish(h, -1, &e);
    return;
  }
  lsp_hier_calls *out = h->result;
  out->outgoing = r->outgoing;
  out->items = hud_arena_calloc(h->arena, r->n + 1, sizeof *out->items);
  if (!out->items) {
    lsp_call_finish(h, -1, &e);
    return;
  }
  for (size_t i = 0; i < r->n; i++) {
    const hud_call_peer *peer = &r->peers[i];
    const lsp_loc *site = r->outgoing ? &locs[r->n + i] : &locs[i];
    lsp_hier_call *c = call_for(out, peer);
    if (!c) {
      c = &out->items[out->n++];
      peer_item(s, h->arena, peer, &locs[i], &c->item);
      c->ranges = hud_arena_calloc(h->arena, sites_of(r, peer), sizeof *c->ranges);
      if (!c->ranges) {
        lsp_call_finish(h, -1, &e);
        return;
      }
    }
    if (site->has_line) c->ranges[c->n_ranges++] = site->line;
  }
  lsp_call_finish(h, 0, NULL);
}

static void answered(hud_client *c, unsigned long id, const hud_api_error *e, void *resp, void *ud) {
  (void)c;
  (void)id;
  (void)resp;
  hier_req *r = ud;
  lsp_call *h = r->call;
  lsp_server *s = h->srv;
  lsp_rpc_error err = {.code = LSP_INTERNAL_ERROR};
  if (s->released || h->cancelled || e->code == HUD_ENOTFOUND) { /* unknown to the backend: no calls */
    lsp_call_finish(h, 0, NULL);
    return;
  }
  if (e->code) {
    snprintf(err.message, sizeof err.message, "backend: %s (%.300s)", hud_strerror(e->code), e->message);
    lsp_call_finish(h, -1, &err);
    return;
  }
  r->peers = r->outgoing ? r->detail.callees : r->detail.callers;
  r->n = r->outgoing ? r->detail.n_callees : r->detail.n_callers;
  /* The peers' functions; for outgoing calls also the call sites, which are in the item's own file. */
  size_t nq = r->outgoing ? 2 * r->n : r->n;
  lsp_loc_query *q = hud_arena_calloc(h->arena, nq + 1, sizeof *q);
  char *item_path = lsp_uri_to_path(r->item.uri);
  int rc = q ? 0 : HUD_ENOMEM;
  for (size_t i = 0; q && i < r->n; i++) {
    const hud_call_peer *peer = &r->peers[i];
    q[i].module = peer->module_path && *peer->module_path ? peer->module_path : NULL;
    q[i].qualname = peer->name;
    q[i].line = r->outgoing ? 0 : peer->line;
    if (r->outgoing) {
      q[r->n + i].path = item_path ? hud_arena_strdup(h->arena, item_path) : NULL;
      q[r->n + i].module = item_path ? NULL : r->item.module;
      q[r->n + i].line = peer->line;
    }
  }
  free(item_path);
  if (rc == 0) rc = lsp_locate_start(s, h->arena, q, nq, located, r);
  if (rc) {
    snprintf(err.message, sizeof err.message, "out of memory");
    lsp_call_finish(h, -1, &err);
  }
}

static int calls(lsp_call *call, const void *params, void *result, lsp_rpc_error *err, bool outgoing) {
  const lsp_hier_params *p = params;
  ((lsp_hier_calls *)result)->outgoing = outgoing;
  if (!p->item.function_id[0]) return 0; /* module-level code: nothing to ask */
  hier_req *r = hud_arena_calloc(call->arena, 1, sizeof *r);
  if (!r) return oom(err);
  r->outgoing = outgoing;
  r->item = p->item;
  r->call = lsp_call_defer(call);
  if (!r->call) return oom(err);
  int rc = lsp_backend_function_start(call->srv->backend, p->item.function_id, r->call->arena, &r->detail, answered, r);
  if (rc) {
    /* No backend (unconfigured) or the request could not start: no calls, said as an empty list. */
    lsp_call_finish(r->call, 0, NULL);
  }
  return LSP_DEFERRED;
}

static int incoming(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  return calls(call, params, result, err, false);
}

static int outgoing(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  return calls(call, params, result, err, true);
}

static const lsp_method methods[] = {
    {"textDocument/prepareCallHierarchy", lsp_decode_doc_pos, sizeof(lsp_doc_pos_params), prepare,
     lsp_encode_hier_items, sizeof(lsp_hier_items), 0},
    {"callHierarchy/incomingCalls", lsp_decode_hier, sizeof(lsp_hier_params), incoming, lsp_encode_hier_calls,
     sizeof(lsp_hier_calls), 0},
    {"callHierarchy/outgoingCalls", lsp_decode_hier, sizeof(lsp_hier_params), outgoing, lsp_encode_hier_calls,
     sizeof(lsp_hier_calls), 0},
};

const lsp_method_table lsp_m_hierarchy = {"hierarchy", methods, sizeof methods / sizeof methods[0]};
