/* Call graph and flows. The call graph is walked here (engine-neutral) over three typed reads:
 * callees of a function, a function's totals, the window's exception paths. */
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "query_figures.h"
#include "query_internal.h"
#include "sat.h"

/* Functions kept in the graph: id -> index, open addressing. */
typedef struct g_nodes {
  int64_t *ids;
  int *lvl;
  size_t n, max;
  int64_t *keys;
  uint32_t *vals; /* index + 1 */
  size_t cap;
} g_nodes;

static size_t g_slot(const g_nodes *g, int64_t id) {
  uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
  size_t j = (size_t)(h ^ (h >> 31)) & (g->cap - 1);
  while (g->vals[j] && g->keys[j] != id) j = (j + 1) & (g->cap - 1);
  return j;
}

static long g_find(const g_nodes *g, int64_t id) {
  size_t j = g_slot(g, id);
  return g->vals[j] ? (long)g->vals[j] - 1 : -1;
}

static void g_add(g_nodes *g, int64_t id, int lvl) {
  size_t j = g_slot(g, id);
  g->keys[j] = id;
  g->vals[j] = (uint32_t)(g->n + 1);
  g->ids[g->n] = id;
  g->lvl[g->n++] = lvl;
}

static int g_init(g_nodes *g, size_t max) {
  memset(g, 0, sizeof *g);
  g->max = max;
  g->cap = 64;
  while (g->cap < 2 * max + 2) g->cap *= 2;
  g->ids = calloc(max ? max : 1, sizeof *g->ids);
  g->lvl = calloc(max ? max : 1, sizeof *g->lvl);
  g->keys = calloc(g->cap, sizeof *g->keys);
  g->vals = calloc(g->cap, sizeof *g->vals);
  return g->ids && g->lvl && g->keys && g->vals ? 0 : HUD_ENOMEM;
}

static void g_free(g_nodes *g) {
  free(g->ids);
  free(g->lvl);
  free(g->keys);
  free(g->vals);
}

typedef struct g_edge {
  long from, to; /* node indexes */
  int line;
  int64_t calls, sum;
  const char *type; /* exception edges */
} g_edge;

typedef struct g_edges {
  g_edge *v;
  size_t n, cap;
} g_edges;

static g_edge *g_edge_add(g_edges *e) {
  if (e->n == e->cap) {
    size_t nc = e->cap ? e->cap * 2 : 64;
    g_edge *nv = realloc(e->v, nc * sizeof *nv);
    if (!nv) return NULL;
    e->v = nv;
    e->cap = nc;
  }
  memset(&e->v[e->n], 0, sizeof e->v[e->n]);
  return &e->v[e->n++];
}

/* Callees of the nodes [A, B) of G: (*ROWS) holds those of node A, then A + 1, ..., NS[i - A] for
 * node i. One read when the engine batches (store_reads.h's callees_of), else one per node. */
static int g_callees(q_ctx *q, const g_nodes *g, size_t a, size_t b, srv_call_edge **rows, size_t *ns) {
  if (q->reads->callees_of) return q->reads->callees_of(q->rd, g->ids + a, b - a, rows, ns);
  srv_call_edge *all = NULL;
  size_t total = 0, cap = 0;
  for (size_t i = a; i < b; i++) {
    srv_call_edge *ce;
    int rc = sq_callees(q, g->ids[i], &ce, &ns[i - a]);
    if (rc < 0) return rc;
    if (total + ns[i - a] > cap) { /* doubling: the level's edges copied a bounded number of times */
      cap = 2 * (total + ns[i - a]);
      srv_call_edge *nv = hud_arena_calloc(q->arena, cap, sizeof *nv);
      if (!nv) return HUD_ENOMEM;
      if (total) memcpy(nv, all, total * sizeof *nv);
      all = nv;
    }
    if (ns[i - a]) memcpy(all + total, ce, ns[i - a] * sizeof *all);
    total += ns[i - a];
  }
  *rows = all;
  return 0;
}

/* Breadth first from the root: every callee within DEPTH levels, at most MAX_NODES functions. A
 * level's callees are read together (the next level's nodes are added after the whole level). */
static int g_walk(q_ctx *q, g_nodes *g, int depth, g_edges *calls, bool *truncated) {
  int rc = 0;
  for (size_t head = 0; head < g->n && rc == 0;) {
    size_t end = g->n; /* [head, end): one level, in the order its nodes were found */
    size_t *ns = calloc(end - head, sizeof *ns);
    srv_call_edge *ce = NULL;
    rc = ns ? g_callees(q, g, head, end, &ce, ns) : HUD_ENOMEM;
    for (size_t i = head, at = 0; rc == 0 && i < end; at += ns[i - head], i++) {
      size_t nce = ns[i - head];
      if (g->lvl[i] >= depth) {
        if (nce) *truncated = true; /* deeper calls exist: the graph was cut */
        continue;
      }
      for (size_t k = at; k < at + nce; k++) {
        long j = g_find(g, ce[k].fn);
        if (j < 0) {
          if (g->n >= g->max) {
            *truncated = true;
            continue;
          }
          g_add(g, ce[k].fn, g->lvl[i] + 1);
          j = (long)g->n - 1;
        }
        g_edge *e = g_edge_add(calls);
        if (!e) {
          rc = HUD_ENOMEM;
          break;
        }
        *e = (g_edge){(long)i, j, ce[k].line, ce[k].calls, ce[k].sum_duration, NULL};
      }
    }
    free(ns);
    head = end;
  }
  return rc;
}

/* Exception edges: raiser -> its caller along each propagation path, between kept nodes, summed per
 * (from, to, type). */
static int g_exceptions(q_ctx *q, const g_nodes *g, g_edges *xe) {
  srv_exc_path *xp;
  size_t n;
  int rc = sq_exception_paths(q, &xp, &n);
  for (size_t i = 0; i < n && rc == 0; i++) {
    int64_t chain[64];
    size_t nc = 0;
    chain[nc++] = xp[i].origin;
    for (size_t k = 0; k < xp[i].n_through && nc < 63; k++) chain[nc++] = xp[i].through[k];
    if (xp[i].caught) chain[nc++] = xp[i].caught;
    for (size_t k = 0; k + 1 < nc; k++) {
      long a = g_find(g, chain[k]), b = g_find(g, chain[k + 1]);
      if (a < 0 || b < 0) continue;
      size_t e = 0;
      while (e < xe->n && !(xe->v[e].from == a && xe->v[e].to == b && strcmp(xe->v[e].type, xp[i].type) == 0)) e++;
      if (e == xe->n) {
        g_edge *ne = g_edge_add(xe);
        if (!ne) return HUD_ENOMEM;
        *ne = (g_edge){a, b, 0, 0, 0, xp[i].type};
      }
      xe->v[e].calls = srv_sat_add(xe->v[e].calls, xp[i].count);
    }
  }
  return rc;
}

static int q_callgraph(q_ctx *q, int64_t root, int depth, int max_nodes, hud_callgraph_response *out) {
  memset(out, 0, sizeof *out);
  g_nodes g;
  g_edges calls = {0}, xe = {0};
  int rc = g_init(&g, (size_t)max_nodes);
  if (rc == 0) {
    g_add(&g, root, 0);
    rc = g_walk(q, &g, depth, &calls, &out->truncated);
  }
  if (rc == 0) {
    out->nodes = hud_arena_calloc(q->arena, g.n ? g.n : 1, sizeof *out->nodes);
    if (!out->nodes) rc = HUD_ENOMEM;
  }
  if (rc == 0 && q->reads->graph_nodes) {
    rc = q->reads->graph_nodes(q->rd, g.ids, g.n, out->nodes);
    if (rc == 0) out->n_nodes = g.n;
  } else {
    for (size_t i = 0; i < g.n && rc == 0; i++) rc = sq_graph_node(q, g.ids[i], &out->nodes[out->n_nodes++]);
  }
  if (rc == 0 && g.n) memcpy(out->root, out->nodes[0].function_id, sizeof(hud_uuid));
  if (rc == 0) rc = g_exceptions(q, &g, &xe);
  if (rc == 0) {
    out->edges = hud_arena_calloc(q->arena, calls.n + xe.n + 1, sizeof *out->edges);
    if (!out->edges) rc = HUD_ENOMEM;
  }
  for (size_t i = 0; i < calls.n && rc == 0; i++) {
    hud_graph_edge *e = &out->edges[out->n_edges++];
    memcpy(e->from, out->nodes[calls.v[i].from].function_id, sizeof(hud_uuid));
    memcpy(e->to, out->nodes[calls.v[i].to].function_id, sizeof(hud_uuid));
    e->kind = HUD_EDGE_CALL;
    e->line = calls.v[i].line;
    e->calls = calls.v[i].calls;
    e->sum_duration = calls.v[i].sum;
  }
  for (size_t i = 0; i < xe.n && rc == 0; i++) {
    hud_graph_edge *e = &out->edges[out->n_edges++];
    memcpy(e->from, out->nodes[xe.v[i].from].function_id, sizeof(hud_uuid));
    memcpy(e->to, out->nodes[xe.v[i].to].function_id, sizeof(hud_uuid));
    e->kind = HUD_EDGE_EXCEPTION;
    e->calls = xe.v[i].calls;
    e->exception_type = xe.v[i].type;
  }
  free(calls.v);
  free(xe.v);
  g_free(&g);
  return rc;
}

int q_h_callgraph(const srv_request *req, srv_response *resp) {
  q_ctx q;
  int rc = q_begin(req, resp, &q);
  if (rc < 0) return rc;
  hud_callgraph_request r;
  hud_codec_error e;
  rc = hud_callgraph_request_from_query(q.params, q.n_params, NULL, q.arena, &r, &e);
  if (rc < 0) return q_end(&q, q_fail_codec(&q, &e));
  if ((rc = q_scope(&q, &r.scope)) < 0) return q_end(&q, rc);
  int64_t root;
  rc = sq_fn_id(&q, r.root, &root);
  if (rc == HUD_ENOTFOUND) return q_end(&q, q_fail(&q, rc, "root: function %s is unknown", r.root));
  hud_callgraph_response out;
  if (rc == 0) rc = q_callgraph(&q, root, r.depth > 0 ? r.depth : 4, r.max_nodes > 0 ? r.max_nodes : 200, &out);
  if (rc < 0) return q_end(&q, q_fail(&q, rc, "store: %s", hud_strerror(rc)));
  return q_end(&q, Q_REPLY(&q, hud_callgraph_response_encode, &out));
}

int q_h_flows(const srv_request *req, srv_response *resp) {
  q_ctx q;
  int rc = q_begin(req, resp, &q);
  if (rc < 0) return rc;
  hud_flows_request r;
  hud_codec_error e;
  rc = hud_flows_request_from_query(q.params, q.n_params, NULL, q.arena, &r, &e);
  if (rc < 0) return q_end(&q, q_fail_codec(&q, &e));
  if ((rc = q_scope(&q, &r.scope)) < 0) return q_end(&q, rc);
  hud_flows_response out;
  srv_sums *sums;
  rc = sq_flows(&q, r.limit > 0 ? r.limit : 100, &out, &sums);
  for (size_t i = 0; rc == 0 && i < out.n_flows; i++) rc = q_flow_figures(&sums[i], &out.flows[i]);
  out.from = q.from;
  out.to = q.to;
  if (rc < 0) return q_end(&q, q_fail(&q, rc, "store: %s", hud_strerror(rc)));
  return q_end(&q, Q_REPLY(&q, hud_flows_response_encode, &out));
}
