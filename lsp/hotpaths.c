/* hud/hotPaths' tree (hotpaths.h). */
#include "hotpaths.h"

#include <stdlib.h>
#include <string.h>

#include "hud/err.h"

typedef struct walk {
  const hud_callgraph_response *g;
  hud_arena *a;
  bool by_calls, truncated;
  size_t left;             /* nodes still allowed */
  double root_ms;          /* the root's total time: shares are of it */
  const char *path[64];    /* function ids from the root to the node being expanded */
  size_t depth;
} walk;

static const hud_graph_node *node_of(const hud_callgraph_response *g, const char *id) {
  for (size_t i = 0; i < g->n_nodes; i++)
    if (strcmp(g->nodes[i].function_id, id) == 0) return &g->nodes[i];
  return NULL;
}

static void set_node(lsp_node *n, const hud_callgraph_response *g, const char *id) {
  const hud_graph_node *gn = node_of(g, id);
  n->function_id = id;
  n->name = gn && gn->name ? gn->name : id;
  n->module_path = gn ? gn->module_path : NULL;
}

static int by_time(const void *x, const void *y) {
  const lsp_path_node *a = x, *b = y;
  if (a->total_ms != b->total_ms) return a->total_ms < b->total_ms ? 1 : -1;
  return strcmp(a->node.name, b->node.name);
}

static int by_calls(const void *x, const void *y) {
  const lsp_path_node *a = x, *b = y;
  if (a->calls != b->calls) return a->calls < b->calls ? 1 : -1;
  return strcmp(a->node.name, b->node.name);
}

static bool on_path(const walk *w, const char *id) {
  for (size_t i = 0; i < w->depth; i++)
    if (strcmp(w->path[i], id) == 0) return true;
  return false;
}

static lsp_path_node *child_for(lsp_path_node *kids, size_t n, const char *id) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(kids[i].node.function_id, id) == 0) return &kids[i];
  return NULL;
}

/* P's callees, merged per function (one edge per call site), with the exceptions they raised into P. */
static int expand(walk *w, lsp_path_node *p) {
  const hud_callgraph_response *g = w->g;
  const char *id = p->node.function_id;
  size_t k = 0;
  for (size_t i = 0; i < g->n_edges; i++) k += g->edges[i].kind == HUD_EDGE_CALL && !strcmp(g->edges[i].from, id);
  if (!k) return 0;
  lsp_path_node *kids = hud_arena_calloc(w->a, k, sizeof *kids);
  if (!kids) return HUD_ENOMEM;
  size_t n = 0;
  for (size_t i = 0; i < g->n_edges; i++) {
    const hud_graph_edge *e = &g->edges[i];
    if (e->kind != HUD_EDGE_CALL || strcmp(e->from, id) != 0) continue;
    lsp_path_node *c = child_for(kids, n, e->to);
    if (!c) {
      c = &kids[n++];
      set_node(&c->node, g, e->to);
    }
    c->calls += e->calls;
    c->total_ms += (double)e->sum_duration / 1e6;
  }
  for (size_t i = 0; i < g->n_edges; i++) {
    const hud_graph_edge *e = &g->edges[i];
    lsp_path_node *c = e->kind == HUD_EDGE_EXCEPTION && !strcmp(e->to, id) ? child_for(kids, n, e->from) : NULL;
    if (!c) continue;
    c->errors += e->calls;
    c->exception = true;
  }
  qsort(kids, n, sizeof *kids, w->by_calls ? by_calls : by_time);
  if (n > w->left) {
    n = w->left;
    w->truncated = true;
  }
  w->left -= n;
  p->children = kids;
  p->n_children = n;
  for (size_t i = 0; i < n; i++) {
    lsp_path_node *c = &kids[i];
    c->share = w->root_ms > 0 ? c->total_ms / w->root_ms : 0;
    if (on_path(w, c->node.function_id) || w->depth >= sizeof w->path / sizeof w->path[0]) continue;
    w->path[w->depth++] = c->node.function_id;
    int rc = expand(w, c);
    w->depth--;
    if (rc) return rc;
  }
  return 0;
}

int lsp_hot_paths_build(const hud_callgraph_response *g, const char *root, bool by_calls_, size_t cap, hud_arena *a,
                        lsp_path_node **out, bool *truncated) {
  const hud_graph_node *rn = node_of(g, root);
  *out = NULL;
  *truncated = false;
  if (!rn) return HUD_ENOTFOUND;
  lsp_path_node *r = hud_arena_calloc(a, 1, sizeof *r);
  if (!r) return HUD_ENOMEM;
  set_node(&r->node, g, rn->function_id);
  r->calls = rn->calls;
  r->errors = rn->errors;
  r->total_ms = (double)rn->sum_duration / 1e6;
  r->share = 1;
  walk w = {.g = g, .a = a, .by_calls = by_calls_, .left = cap ? cap - 1 : 0, .depth = 1};
  w.path[0] = r->node.function_id;
  w.root_ms = r->total_ms;
  int rc = expand(&w, r);
  *out = r;
  *truncated = w.truncated || g->truncated;
  return rc;
}
