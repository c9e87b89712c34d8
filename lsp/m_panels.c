/* Requests for editor panels (docs/lsp.md "Requests for editor panels"): hud/functionDetail,
 * hud/callGraph, hud/hotPaths, hud/issues and hud/flows. Each resolves its target, asks hud-server
 * (backend.c), locates the functions of the answer in the workspace as the call hierarchy does
 * (locate.c) and answers a typed result; a failure of the backend is an answer with a reason, not a
 * JSON-RPC error, so that a panel can say why it is empty. */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "diagnostics.h"
#include "docs.h"
#include "explain.h"
#include "hotpaths.h"
#include "hud/codec.h"
#include "hud/config.h"
#include "hud/err.h"
#include "hud/issue_text.h"
#include "locate.h"
#include "server.h"

enum { HOT_DEPTH = 8, HOT_MAX_NODES = 200, HOT_CAP = 1000, FLOWS_ALL = 1000 };
enum { ANSWERED = LSP_DEFERRED + 1 }; /* target(): the head says why there is no target */

typedef enum panel_kind { P_DETAIL, P_GRAPH, P_HOT, P_ISSUES, P_FLOWS } panel_kind;

/* One panel request on its way: the backend's answers, then the locations of its nodes. */
typedef struct panel_req {
  lsp_call *call;
  panel_kind kind;
  hud_uuid root;
  int pending;             /* backend answers still to come */
  int err_code;            /* the first failure, HUD_E* */
  char err_msg[512];
  hud_function_detail detail;
  hud_callgraph_response graph;
  hud_flows_response flows;
  hud_issues_response issues;
  lsp_node **nodes;        /* to locate */
  size_t n_nodes, cap_nodes;
  size_t *q_of;            /* each node's location query */
} panel_req;

static int oom(lsp_rpc_error *err) {
  err->code = LSP_INTERNAL_ERROR;
  snprintf(err->message, sizeof err->message, "out of memory");
  return -1;
}

static lsp_panel_head *head_of(lsp_call *h) { return h->result; /* every panel result starts with its head */ }

static void set_reason(lsp_call *h, const char *reason, const char *message) {
  lsp_panel_head *head = head_of(h);
  head->reason = reason;
  head->message = hud_arena_strdup(h->arena, message);
}

static void node_set(lsp_node *n, const char *id, const char *name, const char *module) {
  n->function_id = id ? id : "";
  n->name = name ? name : id && *id ? id : "<uninstrumented caller>";
  n->module_path = module && *module ? module : NULL;
}

/* N is located before the answer (only functions with a module path can be). */
static void want(panel_req *r, lsp_node *n) {
  if (!n->module_path || !n->function_id[0]) return;
  if (r->n_nodes == r->cap_nodes) {
    size_t cap = r->cap_nodes ? 2 * r->cap_nodes : 32;
    lsp_node **grown = hud_arena_calloc(r->call->arena, cap, sizeof *grown);
    if (!grown) return; /* out of memory: listed without a location */
    if (r->n_nodes) memcpy(grown, r->nodes, r->n_nodes * sizeof *grown);
    r->nodes = grown;
    r->cap_nodes = cap;
  }
  r->nodes[r->n_nodes++] = n;
}

/* ---- the answer ---- */

static void located(lsp_server *s, void *ud, lsp_loc *locs, size_t n_locs) {
  panel_req *r = ud;
  for (size_t i = 0; !s->released && i < r->n_nodes; i++) {
    lsp_node *n = r->nodes[i];
    const lsp_loc *l = r->q_of[i] < n_locs ? &locs[r->q_of[i]] : NULL;
    if (l && l->uri && l->found) {
      n->uri = l->uri;
      n->range = l->selection;
    }
  }
  lsp_call_finish(r->call, 0, NULL);
}

/* Locates R's nodes (one query per function), then answers. */
static void locate(panel_req *r) {
  lsp_call *h = r->call;
  if (!r->n_nodes) {
    lsp_call_finish(h, 0, NULL);
    return;
  }
  lsp_loc_query *q = hud_arena_calloc(h->arena, r->n_nodes, sizeof *q);
  size_t nq = 0;
  r->q_of = hud_arena_calloc(h->arena, r->n_nodes, sizeof *r->q_of);
  if (!q || !r->q_of) {
    lsp_call_finish(h, 0, NULL); /* out of memory: the nodes stay without a location */
    return;
  }
  for (size_t i = 0; i < r->n_nodes; i++) {
    const lsp_node *n = r->nodes[i];
    size_t k = 0;
    while (k < nq && (strcmp(q[k].qualname, n->name) != 0 || strcmp(q[k].module, n->module_path) != 0)) k++;
    if (k == nq) q[nq++] = (lsp_loc_query){.module = n->module_path, .qualname = n->name};
    r->q_of[i] = k;
  }
  if (lsp_locate_start(h->srv, h->arena, q, nq, located, r) != 0) lsp_call_finish(h, 0, NULL);
}

/* ---- building each answer ---- */

static double window_min(const lsp_panel_head *h) { return (double)(h->to_ms - h->from_ms) / 60000.0; }

static void peers(panel_req *r, const hud_call_peer *src, size_t n, lsp_peer **out) {
  lsp_fn_detail *res = r->call->result;
  *out = n ? hud_arena_calloc(r->call->arena, n, sizeof **out) : NULL;
  for (size_t i = 0; *out && i < n; i++) {
    lsp_peer *p = &(*out)[i];
    node_set(&p->node, src[i].function_id, src[i].name, src[i].module_path);
    p->calls = src[i].calls;
    p->errors = src[i].errors;
    p->line = src[i].line;
    p->per_min = window_min(&res->head) > 0 ? (double)src[i].calls / window_min(&res->head) : 0;
    p->mean_ms = src[i].mean_duration / 1e6;
    want(r, &p->node);
  }
}

static void build_detail(panel_req *r) {
  lsp_fn_detail *res = r->call->result;
  const hud_function_detail *d = &r->detail;
  const char *name = d->summary.name ? d->summary.name : d->declaration ? d->declaration->name : NULL;
  const char *module = d->summary.module_path ? d->summary.module_path
                       : d->declaration                 ? d->declaration->module_path
                                                        : NULL;
  node_set(&res->function, r->root, name, module);
  want(r, &res->function);
  res->d = d;
  res->window_min = window_min(&res->head);
  peers(r, d->callers, d->n_callers, &res->callers);
  peers(r, d->callees, d->n_callees, &res->callees);
  if ((d->n_callers && !res->callers) || (d->n_callees && !res->callees)) set_reason(r->call, "error", "out of memory");
}

static lsp_graph_node *graph_node(lsp_call_graph *g, const char *id) {
  for (size_t i = 0; i < g->n_nodes; i++)
    if (strcmp(g->nodes[i].node.function_id, id) == 0) return &g->nodes[i];
  return NULL;
}

/* The edge FROM -> TO of that kind (and exception type), added when new. */
static lsp_graph_edge *graph_edge(lsp_call_graph *g, const char *from, const char *to, bool exc, const char *type) {
  for (size_t i = 0; i < g->n_edges; i++) {
    lsp_graph_edge *e = &g->edges[i];
    if (!strcmp(e->from, from) && !strcmp(e->to, to) && e->exception == exc &&
        (!exc || !strcmp(e->exception_type ? e->exception_type : "", type ? type : "")))
      return e;
  }
  lsp_graph_edge *e = &g->edges[g->n_edges++];
  *e = (lsp_graph_edge){.from = from, .to = to, .exception = exc, .exception_type = type};
  return e;
}

static void build_graph(panel_req *r, size_t max_nodes) {
  lsp_call *h = r->call;
  lsp_call_graph *res = h->result;
  const hud_callgraph_response *g = &r->graph;
  const hud_function_detail *d = &r->detail;
  res->root = r->root;
  res->truncated = g->truncated;
  res->nodes = hud_arena_calloc(h->arena, g->n_nodes + d->n_callers + 1, sizeof *res->nodes);
  res->edges = hud_arena_calloc(h->arena, g->n_edges + d->n_callers + 1, sizeof *res->edges);
  if (!res->nodes || !res->edges) {
    set_reason(h, "error", "out of memory");
    return;
  }
  for (size_t i = 0; i < g->n_nodes; i++) {
    lsp_graph_node *n = &res->nodes[res->n_nodes++];
    node_set(&n->node, g->nodes[i].function_id, g->nodes[i].name, g->nodes[i].module_path);
    n->calls = g->nodes[i].calls;
    n->errors = g->nodes[i].errors;
    n->total_ms = (double)g->nodes[i].sum_duration / 1e6;
    n->self_ms = (double)g->nodes[i].self_duration / 1e6;
  }
  for (size_t i = 0; i < g->n_edges; i++) {
    const hud_graph_edge *e = &g->edges[i];
    bool exc = e->kind == HUD_EDGE_EXCEPTION;
    lsp_graph_edge *x = graph_edge(res, e->from, e->to, exc, e->exception_type);
    x->calls += e->calls;
    x->total_ms += (double)e->sum_duration / 1e6;
  }
  /* The callers' side: one node per instrumented caller (the figures of its calls to the root), one
   * edge caller -> root unless the graph has it (recursion). */
  size_t n_graph_edges = res->n_edges;
  for (size_t i = 0; i < d->n_callers; i++) {
    const hud_call_peer *c = &d->callers[i];
    if (!c->function_id[0]) continue; /* not a function: the framework calling in */
    lsp_graph_node *n = graph_node(res, c->function_id);
    if (!n && res->n_nodes >= max_nodes) {
      res->truncated = true;
      continue;
    }
    bool fresh = !n;
    if (fresh) {
      n = &res->nodes[res->n_nodes++];
      node_set(&n->node, c->function_id, c->name, c->module_path);
    }
    lsp_graph_edge *e = NULL;
    for (size_t k = 0; k < n_graph_edges && !e; k++)
      if (!res->edges[k].exception && !strcmp(res->edges[k].from, c->function_id) && !strcmp(res->edges[k].to, r->root))
        e = &res->edges[k];
    if (e) continue;
    e = graph_edge(res, n->node.function_id, r->root, false, NULL);
    e->calls += c->calls;
    e->total_ms += (double)c->sum_duration / 1e6;
    if (fresh || n->total_ms == 0) {
      n->calls += c->calls;
      n->errors += c->errors;
      n->total_ms += (double)c->sum_duration / 1e6;
    }
  }
  for (size_t i = 0; i < res->n_nodes; i++) want(r, &res->nodes[i].node);
}

static void want_tree(panel_req *r, lsp_path_node *p) {
  want(r, &p->node);
  for (size_t i = 0; i < p->n_children; i++) want_tree(r, &p->children[i]);
}

static void build_hot(panel_req *r) {
  lsp_call *h = r->call;
  lsp_hot_paths *res = h->result;
  const lsp_panel_params *p = h->params;
  res->by_calls = p->by_calls;
  int rc = lsp_hot_paths_build(&r->graph, r->root, p->by_calls, HOT_CAP, h->arena, &res->root, &res->truncated);
  if (rc == HUD_ENOTFOUND) set_reason(h, "no_calls", "the function made no calls in the window");
  else if (rc) set_reason(h, "error", "out of memory");
  else want_tree(r, res->root);
}

static const char *time_text(hud_arena *a, hud_time_ns t) {
  char buf[HUD_TIME_STRLEN + 1];
  return t && hud_time_format(t, buf) == 0 ? hud_arena_strdup(a, buf) : NULL;
}

/* The figures of the issue shape with headlines: status, affected flows, call path, p for people. */
static void issue_more(hud_arena *a, const hud_issue *is, lsp_issue_item *it) {
  char buf[1024];
  hud_issue_headline(is, true, buf, sizeof buf);
  it->headline = hud_arena_strdup(a, buf);
  it->status = is->status;
  it->p_text = is->p_text;
  it->first_seen = time_text(a, is->first_seen);
  it->last_seen = time_text(a, is->last_seen);
  it->vscode_link = is->links.vscode;
  it->code_changed = is->code_changed;
  it->effect_pct_capped = is->effect_pct_capped || is->effect_pct >= 10000;
  it->self_includes_uninstrumented = is->self_includes_uninstrumented;
  it->q_value = is->q_value;
  it->drift_pct = is->drift_pct;
  it->host_shift_pct = is->host_shift_pct;
  it->times_reopened = is->times_reopened;
  it->flows = hud_arena_calloc(a, is->n_affected_flows + 1, sizeof *it->flows);
  for (size_t k = 0; it->flows && k < is->n_affected_flows; k++) {
    const hud_affected_flow *f = &is->affected_flows[k];
    lsp_issue_flow *x = &it->flows[it->n_flows++];
    hud_issue_flow_text(is, f, true, buf, sizeof buf);
    *x = (lsp_issue_flow){.flow_id = f->flow_id, .name = f->name ? f->name : f->flow_id,
                          .text = hud_arena_strdup(a, buf), .ms_per_request = f->effect / 1e6,
                          .effect_pct = f->effect_pct, .baseline_ms = f->baseline_mean / 1e6,
                          .current_ms = f->current_mean / 1e6, .baseline_error_rate = f->baseline_error_rate,
                          .current_error_rate = f->current_error_rate, .requests = f->count};
  }
  it->path = hud_arena_calloc(a, is->n_call_path + 1, sizeof *it->path);
  for (size_t k = 0; it->path && k < is->n_call_path; k++)
    node_set(&it->path[it->n_path++], is->call_path[k].function_id, is->call_path[k].name, NULL);
}

static void build_issues(panel_req *r) {
  lsp_call *h = r->call;
  lsp_issue_list *res = h->result;
  res->items = hud_arena_calloc(h->arena, r->issues.n_issues + 1, sizeof *res->items);
  for (size_t i = 0; res->items && i < r->issues.n_issues; i++) {
    const hud_issue *is = &r->issues.issues[i];
    lsp_issue_item *it = &res->items[res->n++];
    char msg[256];
    lsp_issue_text(is, msg, sizeof msg);
    it->issue_id = is->issue_id;
    it->kind = is->kind == HUD_ISSUE_ERROR_RATE_INCREASE ? "errors"
               : is->kind == HUD_ISSUE_NEW_EXCEPTION    ? "new_exception"
                                                        : "regression";
    issue_more(h->arena, is, it);
    it->message = hud_arena_strdup(h->arena, msg);
    it->subject_name = is->subject_name ? is->subject_name : is->subject_id;
    if (is->subject_kind == HUD_SUBJECT_FLOW) it->subject_flow_id = is->subject_id;
    else it->subject_function_id = is->subject_id;
    it->effect_pct = is->effect_pct;
    it->confidence = is->confidence;
    it->baseline_version = is->baseline.version;
    it->current_version = is->current.version;
    it->causes = hud_arena_calloc(h->arena, is->n_root_causes + 1, sizeof *it->causes);
    for (size_t k = 0; it->causes && k < is->n_root_causes; k++) {
      const hud_root_cause *c = &is->root_causes[k];
      lsp_cause *x = &it->causes[it->n_causes++];
      node_set(&x->node, c->function_id, c->name, c->module_path);
      x->share = c->share;
      x->evidence = c->evidence;
      want(r, &x->node);
    }
  }
  if (!res->items) set_reason(h, "error", "out of memory");
}

static const char *flow_name(hud_arena *a, const hud_flow_summary *f) {
  if (f->kind != HUD_FLOW_ENDPOINT) return f->task_name ? f->task_name : f->flow_id;
  char buf[600];
  snprintf(buf, sizeof buf, "%s %s", f->method ? f->method : "?", f->route ? f->route : "?");
  return hud_arena_strdup(a, buf);
}

static void build_flows(panel_req *r) {
  lsp_call *h = r->call;
  lsp_flow_list *res = h->result;
  double minutes = window_min(&res->head);
  res->items = hud_arena_calloc(h->arena, r->flows.n_flows + 1, sizeof *res->items);
  for (size_t i = 0; res->items && i < r->flows.n_flows; i++) {
    const hud_flow_summary *f = &r->flows.flows[i];
    lsp_flow_item *it = &res->items[res->n++];
    it->flow_id = f->flow_id;
    it->kind = f->kind == HUD_FLOW_ENDPOINT ? "endpoint" : "consumer";
    it->name = flow_name(h->arena, f);
    it->calls = f->calls;
    it->per_min = minutes > 0 ? (double)f->calls / minutes : 0;
    it->error_rate = f->error_rate;
    it->p95_ms = f->p95 / 1e6;
    it->has_top = f->n_functions > 0;
    if (it->has_top) {
      node_set(&it->top, f->functions[0].function_id, f->functions[0].name, f->functions[0].module_path);
      want(r, &it->top);
    }
  }
  if (!res->items) set_reason(h, "error", "out of memory");
}

/* ---- the backend's answers ---- */

static void note_failure(panel_req *r, const hud_api_error *e) {
  if (r->err_code) return;
  r->err_code = e->code;
  snprintf(r->err_msg, sizeof r->err_msg, "%s", e->message);
}

/* The reason of a failed request: the hud.explain reasons, *_not_found for a 404. */
static void answer_failure(panel_req *r) {
  lsp_server *s = r->call->srv;
  const char *url = hud_config_str(s->settings.cfg, HUD_CFG_URL);
  char msg[900];
  const char *reason = lsp_backend_error_reason(r->err_code);
  if (r->err_code == HUD_ENOTFOUND) {
    bool fn = r->kind == P_DETAIL || r->kind == P_GRAPH || (r->kind == P_HOT && r->root[0]);
    reason = fn ? "function_not_found" : "service_not_found";
    snprintf(msg, sizeof msg, "%s: %s", fn ? "no figures for this function in the window" : "no such service",
             r->err_msg);
  } else if (r->err_code == HUD_ECONFIG) {
    const char *m;
    lsp_backend_state(s->backend, &m);
    snprintf(msg, sizeof msg, "%s", *m ? m : "no backend: set `service` in initializationOptions or the hud config");
  } else {
    snprintf(msg, sizeof msg, "hud-server %s: %s (%s)", url ? url : "", hud_strerror(r->err_code), r->err_msg);
  }
  set_reason(r->call, reason, msg);
  lsp_call_finish(r->call, 0, NULL);
}

static void start_graph(panel_req *r, int32_t depth, int32_t max_nodes);

/* hotPaths of a flow: its top function by time is the root. */
static void flow_root(panel_req *r) {
  const lsp_panel_params *p = r->call->params;
  for (size_t i = 0; i < r->flows.n_flows; i++) {
    const hud_flow_summary *f = &r->flows.flows[i];
    if (strcmp(f->flow_id, p->flow_id) != 0) continue;
    if (!f->n_functions) break;
    snprintf(r->root, sizeof r->root, "%s", f->functions[0].function_id);
    start_graph(r, HOT_DEPTH, HOT_MAX_NODES);
    return;
  }
  char msg[200];
  snprintf(msg, sizeof msg, "no function of flow %s ran in the window", p->flow_id);
  set_reason(r->call, "no_function", msg);
  lsp_call_finish(r->call, 0, NULL);
}

static void answered(hud_client *c, unsigned long id, const hud_api_error *e, void *resp, void *ud) {
  (void)c;
  (void)id;
  (void)resp;
  panel_req *r = ud;
  lsp_call *h = r->call;
  if (e->code) note_failure(r, e);
  if (--r->pending) return;
  if (h->srv->released || h->cancelled) {
    lsp_call_finish(h, 0, NULL);
    return;
  }
  if (r->err_code) {
    answer_failure(r);
    return;
  }
  const lsp_panel_params *p = h->params;
  switch (r->kind) {
  case P_DETAIL: build_detail(r); break;
  case P_GRAPH: build_graph(r, p->max_nodes ? (size_t)p->max_nodes : 100); break;
  case P_HOT:
    if (!r->root[0]) {
      flow_root(r);
      return;
    }
    build_hot(r);
    break;
  case P_ISSUES: build_issues(r); break;
  case P_FLOWS: build_flows(r); break;
  }
  if (head_of(h)->reason) lsp_call_finish(h, 0, NULL);
  else locate(r);
}

/* After a backend _start: counts the answer to come, or the failure to start. */
static void started(panel_req *r, int rc) {
  lsp_panel_head *head = head_of(r->call);
  if (rc == 0) {
    r->pending++;
    lsp_backend_last_window(r->call->srv->backend, &head->from_ms, &head->to_ms);
  } else if (!r->err_code) {
    r->err_code = rc;
    snprintf(r->err_msg, sizeof r->err_msg, "%s", hud_strerror(rc));
  }
}

/* Runs the answers' end once every request started (a start that failed counts as answered). */
static void all_started(panel_req *r) {
  r->pending++;
  hud_api_error none = {0};
  answered(NULL, 0, &none, NULL, r);
}

static void start_graph(panel_req *r, int32_t depth, int32_t max_nodes) {
  started(r, lsp_backend_callgraph_start(r->call->srv->backend, r->root, depth, max_nodes, r->call->arena, &r->graph,
                                         answered, r));
  all_started(r);
}

/* ---- target ---- */

/* The innermost function enclosing P's position that has figures, into ROOT. 0 found; ANSWERED (the head
 * says why not); LSP_DEFERRED waiting for the document's index. */
static int target_at(lsp_call *call, const lsp_panel_params *p, char *root) {
  lsp_server *s = call->srv;
  lsp_doc *doc = lsp_docs_find(s->docs, p->uri);
  char why[700];
  if (doc && doc->indexable && !lsp_doc_ready(doc)) return lsp_call_wait_doc(call, doc);
  const hud_index_result *ix = doc ? lsp_doc_index(doc) : NULL;
  size_t off = 0;
  bool at = ix && lsp_doc_offset(doc, p->position, s->enc, &off) == 0;
  const hud_index_func *best = NULL;
  const hud_function_summary *sum = NULL;
  for (size_t i = 0; at && i < ix->nfuncs; i++) {
    const hud_index_func *f = &ix->funcs[i];
    if (off < f->start_byte || off >= f->end_byte) continue;
    if (best && f->end_byte - f->start_byte >= best->end_byte - best->start_byte) continue;
    const hud_function_summary *fs = lsp_backend_lookup(s->backend, doc, f->qualname);
    if (fs) {
      best = f;
      sum = fs;
    }
  }
  if (sum) {
    snprintf(root, HUD_UUID_STRLEN + 1, "%s", sum->function_id);
    return 0;
  }
  const char *reason = lsp_explain_doc(s, doc, why, sizeof why);
  /* The file has figures (or production knows its module): the position is not in one of its functions. */
  if (!strcmp(reason, "ok") || !strcmp(reason, "no_calls") || !strcmp(reason, "module_not_found")) {
    char msg[900];
    snprintf(msg, sizeof msg, "no function with production figures encloses line %lld of %s (%s)",
             (long long)p->position.line + 1, doc->rel, why);
    set_reason(call, "no_function", msg);
  } else {
    set_reason(call, reason, why);
  }
  return ANSWERED;
}

/* The request's root function: functionId, else the position's (hotPaths may name a flow instead). */
static int target(lsp_call *call, const lsp_panel_params *p, bool flow_ok, char *root, lsp_rpc_error *err) {
  root[0] = '\0';
  if (p->function_id) {
    snprintf(root, HUD_UUID_STRLEN + 1, "%s", p->function_id);
    return 0;
  }
  if (flow_ok && p->flow_id) return 0;
  if (p->uri) return target_at(call, p, root);
  err->code = LSP_INVALID_PARAMS;
  snprintf(err->message, sizeof err->message, "invalid params: give functionId%s or textDocument and position",
           flow_ok ? ", flowId" : "");
  return -1;
}

/* ---- the methods ---- */

static int run(lsp_call *call, panel_kind kind, lsp_rpc_error *err) {
  const lsp_panel_params *p = call->params;
  hud_uuid root = "";
  if (kind == P_DETAIL || kind == P_GRAPH || kind == P_HOT) {
    int rc = target(call, p, kind == P_HOT, root, err);
    if (rc) return rc == ANSWERED ? 0 : rc;
  }
  lsp_call *h = lsp_call_defer(call);
  panel_req *r = h ? hud_arena_calloc(h->arena, 1, sizeof *r) : NULL;
  if (!r) {
    if (h) lsp_call_finish(h, -1, &(lsp_rpc_error){.code = LSP_INTERNAL_ERROR, .message = "out of memory"});
    return h ? LSP_DEFERRED : oom(err);
  }
  r->call = h;
  r->kind = kind;
  memcpy(r->root, root, sizeof r->root);
  lsp_backend *b = h->srv->backend;
  switch (kind) {
  case P_DETAIL: started(r, lsp_backend_function_start(b, root, h->arena, &r->detail, answered, r)); break;
  case P_GRAPH:
    started(r, lsp_backend_function_start(b, root, h->arena, &r->detail, answered, r));
    started(r, lsp_backend_callgraph_start(b, root, p->depth ? (int32_t)p->depth : 3,
                                           p->max_nodes ? (int32_t)p->max_nodes : 100, h->arena, &r->graph, answered, r));
    break;
  case P_HOT:
    if (root[0]) started(r, lsp_backend_callgraph_start(b, root, HOT_DEPTH, HOT_MAX_NODES, h->arena, &r->graph,
                                                        answered, r));
    else started(r, lsp_backend_flows_start(b, FLOWS_ALL, h->arena, &r->flows, answered, r));
    break;
  case P_ISSUES: started(r, lsp_backend_issues_start(b, h->arena, &r->issues, answered, r)); break;
  case P_FLOWS:
    started(r, lsp_backend_flows_start(b, p->limit ? (int32_t)p->limit : 100, h->arena, &r->flows, answered, r));
    break;
  }
  all_started(r);
  return LSP_DEFERRED;
}

static int function_detail(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  (void)params;
  (void)result;
  return run(call, P_DETAIL, err);
}

static int call_graph(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  (void)params;
  (void)result;
  return run(call, P_GRAPH, err);
}

static int hot_paths(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  (void)params;
  (void)result;
  return run(call, P_HOT, err);
}

static int issues(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  (void)params;
  (void)result;
  return run(call, P_ISSUES, err);
}

static int flows(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  (void)params;
  (void)result;
  return run(call, P_FLOWS, err);
}

static const lsp_method methods[] = {
    {"hud/functionDetail", lsp_decode_panel, sizeof(lsp_panel_params), function_detail, lsp_encode_fn_detail,
     sizeof(lsp_fn_detail), 0},
    {"hud/callGraph", lsp_decode_panel, sizeof(lsp_panel_params), call_graph, lsp_encode_call_graph,
     sizeof(lsp_call_graph), 0},
    {"hud/hotPaths", lsp_decode_panel, sizeof(lsp_panel_params), hot_paths, lsp_encode_hot_paths,
     sizeof(lsp_hot_paths), 0},
    {"hud/issues", lsp_decode_panel, sizeof(lsp_panel_params), issues, lsp_encode_issue_list, sizeof(lsp_issue_list),
     0},
    {"hud/flows", lsp_decode_panel, sizeof(lsp_panel_params), flows, lsp_encode_flow_list, sizeof(lsp_flow_list), 0},
};

const lsp_method_table lsp_m_panels = {"panels", methods, sizeof methods / sizeof methods[0]};
