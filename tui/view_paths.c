/* Hot paths: the call tree below the function shown by Detail, heaviest callee first (/v1/callgraph), or
 * most called first (`c`); a callee an exception propagated out of is marked `!` with its type. */
#include <stdlib.h>
#include <string.h>

#include "hud/codec.h"
#include "tui.h"

#define MAX_LINES 1000
#define DEPTH_BITS 6 /* rows[i] = edge << DEPTH_BITS | depth; the root's edge is n_edges */

enum { ORDER_TIME = 0, ORDER_CALLS }; /* st->sort */
static const int order_cols[] = {3, 1}; /* the head marked for each order: total, calls */

static const tui_col cols[] = {
    {"call path", 0, 20, false, 0}, {"calls", 7, 0, true, 0},  {"mean", 8, 0, true, 0},
    {"total", 8, 0, true, 0},       {"share", 6, 0, true, 0},  {"of root", 8, 0, true, 100},
    {"module", 24, 0, false, 110},
};

static int fetch(hud_client *c, const tui_query *q, hud_arena *arena, void **resp, hud_api_error *err) {
  hud_callgraph_request req = {.depth = 8, .max_nodes = 200};
  tui_scope(q, &req.scope);
  snprintf(req.root, sizeof req.root, "%s", q->function_id);
  hud_callgraph_response *r = hud_arena_alloc(arena, sizeof *r);
  if (!r) return HUD_ENOMEM;
  *resp = r;
  return hud_api_callgraph(c, &req, arena, r, err);
}

static const hud_graph_node *node(const hud_callgraph_response *g, const char *id) {
  for (size_t i = 0; i < g->n_nodes; i++)
    if (strcmp(g->nodes[i].function_id, id) == 0) return &g->nodes[i];
  return NULL;
}

static const hud_callgraph_response *g_graph;
static int g_order;

static int by_order(const void *a, const void *b) {
  const hud_graph_edge *x = &g_graph->edges[*(const size_t *)a], *y = &g_graph->edges[*(const size_t *)b];
  if (g_order == ORDER_CALLS && x->calls != y->calls) return x->calls < y->calls ? 1 : -1;
  if (x->sum_duration != y->sum_duration) return x->sum_duration < y->sum_duration ? 1 : -1;
  return strcmp(x->to, y->to);
}

/* The exception edges from FROM into TO: their total count, the most frequent type in *TYPE. */
static int64_t raised_into(const hud_callgraph_response *g, const char *from, const char *to, const char **type) {
  int64_t total = 0, best = 0;
  *type = NULL;
  for (size_t e = 0; e < g->n_edges; e++) {
    const hud_graph_edge *x = &g->edges[e];
    if (x->kind != HUD_EDGE_EXCEPTION || strcmp(x->from, from) != 0 || strcmp(x->to, to) != 0) continue;
    total += x->calls;
    if (x->calls > best || !*type) {
      best = x->calls;
      *type = x->exception_type;
    }
  }
  return total;
}

/* Depth-first from ID, children by time (or calls) on the edge; a function already on the path is not entered again. */
static void walk(tui_vstate *st, const hud_callgraph_response *g, const char *id, size_t depth, const char **path) {
  if (depth >= (1u << DEPTH_BITS) - 1) return;
  size_t *kids = calloc(g->n_edges + 1, sizeof *kids), n = 0;
  if (!kids) return;
  for (size_t e = 0; e < g->n_edges; e++)
    if (g->edges[e].kind == HUD_EDGE_CALL && strcmp(g->edges[e].from, id) == 0) kids[n++] = e;
  g_graph = g;
  g_order = st->sort;
  qsort(kids, n, sizeof *kids, by_order);
  path[depth] = id;
  for (size_t i = 0; i < n && st->n_rows < MAX_LINES; i++) {
    const char *to = g->edges[kids[i]].to;
    bool cycle = false;
    for (size_t d = 0; d <= depth; d++) cycle |= strcmp(path[d], to) == 0;
    st->rows[st->n_rows++] = kids[i] << DEPTH_BITS | (depth + 1);
    if (!cycle) walk(st, g, to, depth + 1, path);
  }
  free(kids);
}

static void index_rows(tui_vstate *st) {
  const hud_callgraph_response *g = st->data.resp;
  st->n_rows = 0;
  if (!g) return;
  free(st->rows);
  st->rows = calloc(MAX_LINES, sizeof *st->rows);
  if (!st->rows) return;
  const char *path[1u << DEPTH_BITS];
  st->rows[st->n_rows++] = g->n_edges << DEPTH_BITS;
  walk(st, g, g->root, 0, path);
}

/* Total time of row ROW's function on its path: the edge's, the root's for row 0. */
static int64_t row_total(const hud_callgraph_response *g, const tui_vstate *st, size_t row) {
  size_t e = st->rows[row] >> DEPTH_BITS;
  if (e < g->n_edges) return g->edges[e].sum_duration;
  const hud_graph_node *root = node(g, g->root);
  return root ? root->sum_duration : 0;
}

/* The row of ROW's parent: the nearest row above one level up. */
static size_t parent_row(const tui_vstate *st, size_t row) {
  size_t depth = st->rows[row] & ((1u << DEPTH_BITS) - 1);
  while (row > 0 && (st->rows[--row] & ((1u << DEPTH_BITS) - 1)) >= depth) {}
  return row;
}

static void share(int64_t part, int64_t whole, char *buf, size_t cap) {
  snprintf(buf, cap, "%.0f%%", whole ? 100.0 * (double)part / (double)whole : 0);
}

static void cell(const tui_vstate *st, const tui_ctx *ctx, size_t row, size_t col, char *buf, size_t cap,
                 int *tone) {
  const hud_callgraph_response *g = st->data.resp;
  size_t e = st->rows[row] >> DEPTH_BITS, depth = st->rows[row] & ((1u << DEPTH_BITS) - 1);
  const hud_graph_edge *edge = e < g->n_edges ? &g->edges[e] : NULL;
  const hud_graph_node *root = node(g, g->root), *n = node(g, edge ? edge->to : g->root);
  int64_t calls = edge ? edge->calls : root ? root->calls : 0;
  int64_t total = row_total(g, st, row);
  switch (col) {
  case 0: {
    size_t len = 0;
    buf[0] = '\0';
    for (size_t d = 0; d < depth && len + 4 < cap; d++)
      len += (size_t)snprintf(buf + len, cap - len, d + 1 == depth ? (ctx->unicode ? "\u2514 " : "- ") : "  ");
    len += (size_t)snprintf(buf + len, cap - len, "%s", n && n->name ? n->name : edge ? edge->to : g->root);
    const char *type;
    int64_t raised = edge && len < cap ? raised_into(g, edge->to, edge->from, &type) : 0;
    if (raised > 0) {
      char count[32];
      tui_fmt_count(raised, count, sizeof count);
      snprintf(buf + len, cap - len, " ! %s %s", type ? type : "?", count);
      *tone = TUI_TONE_BAD;
    }
    break;
  }
  case 1: tui_fmt_count(calls, buf, cap); break;
  case 2: tui_fmt_dur(calls ? (double)total / (double)calls : 0, buf, cap); break;
  case 3: tui_fmt_dur((double)total, buf, cap); break;
  case 4: {
    int64_t whole = row ? row_total(g, st, parent_row(st, row)) : total;
    share(total, whole, buf, cap);
    if (edge && root && 2 * total >= root->sum_duration) *tone = TUI_TONE_BAD; /* hot: half the root's time */
    break;
  }
  case 5:
    share(total, root ? root->sum_duration : 0, buf, cap);
    if (edge && root && 2 * total >= root->sum_duration) *tone = TUI_TONE_BAD;
    break;
  case 6: snprintf(buf, cap, "%s", n && n->module_path ? n->module_path : ""); break;
  default: buf[0] = '\0';
  }
}

static const tui_table table = {cols, sizeof cols / sizeof cols[0], cell};

static int on_key(tui_vstate *st, const tui_ctx *ctx, int key, char id[HUD_UUID_STRLEN + 1], char *name,
                  size_t cap) {
  if (key == 'c') {
    st->sort = st->sort == ORDER_CALLS ? ORDER_TIME : ORDER_CALLS;
    index_rows(st);
    st->sel = st->top = 0;
    return TUI_K_HANDLED;
  }
  if (key != '\r' && key != '\n') return TUI_K_IGNORED;
  const hud_callgraph_response *g = st->data.resp;
  if (!g || st->sel >= st->n_rows) return TUI_K_HANDLED;
  size_t e = st->rows[st->sel] >> DEPTH_BITS;
  const char *fid = e < g->n_edges ? g->edges[e].to : g->root;
  const hud_graph_node *n = node(g, fid);
  snprintf(id, HUD_UUID_STRLEN + 1, "%s", fid);
  snprintf(name, cap, "%s", n && n->name ? n->name : "");
  return TUI_K_DETAIL;
}

static bool selected(const tui_vstate *st, tui_fnref *out) {
  const hud_callgraph_response *g = st->data.resp;
  if (!g || st->sel >= st->n_rows) return false;
  size_t e = st->rows[st->sel] >> DEPTH_BITS;
  const hud_graph_node *n = node(g, e < g->n_edges ? g->edges[e].to : g->root);
  tui_fnref_set(out, n ? n->name : NULL, n ? n->module_path : NULL, 0);
  return true;
}

static const char *mode(const tui_vstate *st) { return st->sort == ORDER_CALLS ? "by calls" : "by time"; }

static int encode(const void *resp, char **json) { return hud_callgraph_response_encode(resp, json, NULL, NULL); }

const tui_view tui_view_paths = {
    .name = "paths",
    .title = "Hot paths",
    .key = '5',
    .footer = "Enter:detail c:order",
    .help = "(the call tree below the Detail view's function, heaviest callee first;\n"
            "share = time on the edge / the parent's time on its path, of root = / the root's total;\n"
            "a red `!` TYPE N: N exceptions (mostly TYPE) propagated out of that callee into its parent)\n"
            "Enter\tdetail of the selected function\nc\texpand by time / by calls (most called first)\n",
    .uses_function = true,
    .table = &table,
    .fetch = fetch,
    .index = index_rows,
    .on_key = on_key,
    .mode = mode,
    .sort_cols = order_cols,
    .selected = selected,
    .encode = encode,
};
