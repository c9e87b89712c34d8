/* hud/errorFlows (the editors' panels, docs/lsp.md): the exception paths a function raised, passed on or
 * caught, from GET /v1/exception-flows over the window; every function of them located in the
 * workspace as for the call hierarchy. Backend failures and a position without a function with figures
 * are answered as {"error": {"reason", "message"}}, so that a panel can say why. */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "docs.h"
#include "explain.h"
#include "hud/err.h"
#include "locate.h"
#include "server.h"

typedef struct ef_req {
  lsp_call *call;
  hud_exception_flows_response resp;
  lsp_ef_node target;
  lsp_ef_node **nodes; /* every node of the answer, in the order of the locate queries */
  size_t n_nodes;
} ef_req;

static int fail(lsp_errflows_result *out, hud_arena *a, const char *reason, const char *message) {
  out->reason = reason;
  out->message = hud_arena_strdup(a, message);
  return 0;
}

/* The reason of a failed backend request, as the other panel requests say it (the target is always a
 * function, so a 404 is function_not_found). */
static const char *reason_of(int code) {
  return code == HUD_ENOTFOUND ? "function_not_found" : lsp_backend_error_reason(code);
}

static void node_of(const hud_function_ref *f, lsp_ef_node *n) {
  n->function_id = f->function_id;
  n->name = f->name;
  n->module_path = f->module_path;
}

static void located(lsp_server *s, void *ud, lsp_loc *locs, size_t n) {
  ef_req *r = ud;
  lsp_call *h = r->call;
  if (s->released || h->cancelled) {
    lsp_call_finish(h, 0, NULL);
    return;
  }
  for (size_t i = 0; i < n && i < r->n_nodes; i++)
    if (locs[i].uri && locs[i].found) {
      r->nodes[i]->uri = locs[i].uri;
      r->nodes[i]->range = locs[i].range;
    }
  lsp_call_finish(h, 0, NULL);
}

/* The answer's functions, target first, each to be located. */
static int fill(ef_req *r, lsp_errflows_result *out, hud_arena *a) {
  const hud_exception_flows_response *x = &r->resp;
  out->from_ms = x->from / 1000000;
  out->to_ms = x->to / 1000000;
  out->function = r->target;
  out->flows = hud_arena_calloc(a, x->n_flows + 1, sizeof *out->flows);
  size_t cap = 1;
  for (size_t i = 0; i < x->n_flows; i++) cap += 2 + x->flows[i].n_propagated;
  r->nodes = hud_arena_calloc(a, cap, sizeof *r->nodes);
  if (!out->flows || !r->nodes) return HUD_ENOMEM;
  r->nodes[r->n_nodes++] = &out->function;
  for (size_t i = 0; i < x->n_flows; i++) {
    const hud_exception_flow_summary *f = &x->flows[i];
    lsp_ef_flow *o = &out->flows[out->n_flows++];
    o->type = f->exception_type;
    o->count = f->count;
    node_of(&f->origin, &o->origin);
    r->nodes[r->n_nodes++] = &o->origin;
    o->through = hud_arena_calloc(a, f->n_propagated + 1, sizeof *o->through);
    if (!o->through) return HUD_ENOMEM;
    for (size_t k = 0; k < f->n_propagated; k++) {
      node_of(&f->propagated_through[k], &o->through[o->n_through]);
      r->nodes[r->n_nodes++] = &o->through[o->n_through++];
    }
    if (f->caught_in) {
      o->caught = hud_arena_calloc(a, 1, sizeof *o->caught);
      if (!o->caught) return HUD_ENOMEM;
      node_of(f->caught_in, o->caught);
      r->nodes[r->n_nodes++] = o->caught;
    }
    /* A target given by id gets its name from the paths it is on. */
    const hud_function_ref *refs[2] = {&f->origin, f->caught_in};
    for (size_t k = 0; k < 2 && !out->function.name; k++)
      if (refs[k] && strcmp(refs[k]->function_id, out->function.function_id) == 0) node_of(refs[k], &out->function);
    for (size_t k = 0; k < f->n_propagated && !out->function.name; k++)
      if (strcmp(f->propagated_through[k].function_id, out->function.function_id) == 0)
        node_of(&f->propagated_through[k], &out->function);
  }
  return 0;
}

static void answered(hud_client *c, unsigned long id, const hud_api_error *e, void *resp, void *ud) {
  (void)c;
  (void)id;
  (void)resp;
  ef_req *r = ud;
  lsp_call *h = r->call;
  lsp_server *s = h->srv;
  lsp_errflows_result *out = h->result;
  if (s->released || h->cancelled) {
    lsp_call_finish(h, 0, NULL);
    return;
  }
  if (e->code) {
    char msg[700];
    snprintf(msg, sizeof msg, "backend: %s (%.500s)", hud_strerror(e->code), e->message);
    fail(out, h->arena, reason_of(e->code), msg);
    lsp_call_finish(h, 0, NULL);
    return;
  }
  lsp_loc_query *q = NULL;
  int rc = fill(r, out, h->arena);
  if (rc == 0) q = hud_arena_calloc(h->arena, r->n_nodes + 1, sizeof *q);
  for (size_t i = 0; q && i < r->n_nodes; i++) {
    q[i].module = r->nodes[i]->module_path;
    q[i].qualname = r->nodes[i]->name;
  }
  if (!q || lsp_locate_start(s, h->arena, q, r->n_nodes, located, r) != 0) {
    lsp_rpc_error err = {.code = LSP_INTERNAL_ERROR, .message = "out of memory"};
    lsp_call_finish(h, -1, &err);
  }
}

enum { ANSWERED = 2 }; /* resolve(): OUT holds the error answer */

/* The function of P: by id, or the one around the position with figures (then *TARGET has its name).
 * 0, LSP_DEFERRED (waiting for the document's index) or ANSWERED. */
static int resolve(lsp_call *call, const lsp_errflows_params *p, lsp_ef_node *target, lsp_errflows_result *out) {
  lsp_server *s = call->srv;
  if (p->function_id) {
    target->function_id = p->function_id;
    return 0;
  }
  lsp_doc *doc = lsp_docs_find(s->docs, p->uri);
  char msg[1024];
  if (!doc) {
    const char *why = lsp_explain_doc(s, NULL, msg, sizeof msg);
    return fail(out, call->arena, why, msg) + ANSWERED;
  }
  if (!lsp_doc_ready(doc)) return lsp_call_wait_doc(call, doc);
  const hud_index_result *ix = lsp_doc_index(doc);
  size_t off, line_off;
  lsp_pos line_start = {.line = p->position.line, .character = 0};
  const hud_index_func *f = NULL;
  if (ix && !lsp_doc_offset(doc, p->position, s->enc, &off) && !lsp_doc_offset(doc, line_start, s->enc, &line_off))
    f = lsp_func_at(ix, (uint32_t)p->position.line, (uint32_t)(off - line_off), off);
  if (!f) {
    snprintf(msg, sizeof msg, "no function at line %lld of %s", (long long)p->position.line + 1, doc->rel);
    return fail(out, call->arena, "no_function", msg) + ANSWERED;
  }
  const hud_function_summary *sum = lsp_backend_lookup(s->backend, doc, f->qualname);
  if (!sum) {
    lsp_explain_func(s, doc, f->qualname, msg, sizeof msg);
    return fail(out, call->arena, "no_function", msg) + ANSWERED;
  }
  target->function_id = hud_arena_strdup(call->arena, sum->function_id);
  target->name = sum->name ? hud_arena_strdup(call->arena, sum->name) : NULL;
  target->module_path = sum->module_path ? hud_arena_strdup(call->arena, sum->module_path) : NULL;
  return 0;
}

static int error_flows(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  lsp_errflows_result *out = result;
  lsp_ef_node target = {0};
  int rc = resolve(call, params, &target, out);
  if (rc == ANSWERED) return 0;
  if (rc == LSP_DEFERRED) return rc;
  lsp_call *h = lsp_call_defer(call);
  ef_req *r = h ? hud_arena_calloc(h->arena, 1, sizeof *r) : NULL;
  if (!r) {
    lsp_rpc_error e = {.code = LSP_INTERNAL_ERROR, .message = "out of memory"};
    if (h) lsp_call_finish(h, -1, &e);
    *err = e;
    return h ? LSP_DEFERRED : -1;
  }
  r->call = h;
  r->target = target;
  r->target.function_id = hud_arena_strdup(h->arena, target.function_id);
  if (target.name) r->target.name = hud_arena_strdup(h->arena, target.name);
  if (target.module_path) r->target.module_path = hud_arena_strdup(h->arena, target.module_path);
  rc = lsp_backend_exception_flows_start(h->srv->backend, r->target.function_id, h->arena, &r->resp, answered, r);
  if (rc) {
    fail(h->result, h->arena, reason_of(rc), rc == HUD_ECONFIG ? "no service mapped: set `service` (and `url`, `key`) "
                                                                 "in the settings" : hud_strerror(rc));
    lsp_call_finish(h, 0, NULL);
  }
  return LSP_DEFERRED;
}

static const lsp_method methods[] = {
    {"hud/errorFlows", lsp_decode_errflows, sizeof(lsp_errflows_params), error_flows, lsp_encode_errflows,
     sizeof(lsp_errflows_result), 0},
};

const lsp_method_table lsp_m_errflows = {"errflows", methods, sizeof methods / sizeof methods[0]};
