/* Regression detection with root cause (see detect.h for the method). */
#include "detect.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "hud/stats.h"
#include "sat.h"

/* ---- statistics: thin adapters over hud/stats.h (no test is implemented here) ---- */

typedef struct det_test {
  double stat, df, p, lo, hi; /* effect CI of cand - base */
} det_test;

/* Welch's t-test of cand vs base on sampled statistics; 0 or HUD_E*. */
static int det_welch(const srv_det_stats *b, const srv_det_stats *c, double confidence, det_test *t);
/* Two-proportion z-test of cand vs base error rates; 0 or HUD_E*. */
static int det_two_prop(uint64_t xb, uint64_t nb, uint64_t xc, uint64_t nc, double confidence,
                        det_test *t);
static double det_mean(const srv_det_stats *s);
static double det_var(const srv_det_stats *s);

/* ---- string interning ---- */

typedef struct det_strtab {
  const char **strs; /* borrowed */
  size_t n, cap;
  uint32_t *slots; /* index+1, 0 = empty */
  size_t nslots;
} det_strtab;

static uint64_t det_hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  return h;
}

static int det_strtab_grow(det_strtab *t) {
  size_t ns = t->nslots ? t->nslots * 2 : 64;
  uint32_t *slots = calloc(ns, sizeof *slots);
  if (!slots) return HUD_ENOMEM;
  for (size_t i = 0; i < t->n; i++) {
    size_t j = det_hash_str(t->strs[i]) & (ns - 1);
    while (slots[j]) j = (j + 1) & (ns - 1);
    slots[j] = (uint32_t)(i + 1);
  }
  free(t->slots);
  t->slots = slots;
  t->nslots = ns;
  return 0;
}

/* Index of S, -1 when absent. */
static int det_strtab_find(const det_strtab *t, const char *s) {
  if (!s || !*s || !t->nslots) return -1;
  size_t j = det_hash_str(s) & (t->nslots - 1);
  while (t->slots[j]) {
    uint32_t i = t->slots[j] - 1;
    if (strcmp(t->strs[i], s) == 0) return (int)i;
    j = (j + 1) & (t->nslots - 1);
  }
  return -1;
}

/* Index of S, added when absent; -1 for NULL/"" (no value); HUD_ENOMEM as -2. */
static int det_strtab_add(det_strtab *t, const char *s) {
  if (!s || !*s) return -1;
  int i = det_strtab_find(t, s);
  if (i >= 0) return i;
  if ((t->n + 1) * 2 > t->nslots && det_strtab_grow(t) < 0) return -2;
  if (t->n == t->cap) {
    size_t nc = t->cap ? t->cap * 2 : 64;
    const char **ns = realloc(t->strs, nc * sizeof *ns);
    if (!ns) return -2;
    t->strs = ns;
    t->cap = nc;
  }
  t->strs[t->n] = s;
  size_t j = det_hash_str(s) & (t->nslots - 1);
  while (t->slots[j]) j = (j + 1) & (t->nslots - 1);
  t->slots[j] = (uint32_t)(t->n + 1);
  return (int)t->n++;
}

static void det_strtab_free(det_strtab *t) {
  free(t->strs);
  free(t->slots);
  memset(t, 0, sizeof *t);
}

/* ---- aggregate table keyed by (flow, caller, callee) ---- */

enum {
  DET_NONE = -1, /* no flow / no caller */
  DET_ALL = -2,  /* summed over every flow */
  DET_ANY = -3,  /* summed over every caller */
};

typedef struct det_agg {
  int32_t flow, caller, callee;
  srv_det_stats st[2]; /* [0] base, [1] candidate */
} det_agg;

typedef struct det_aggtab {
  det_agg *v;
  size_t n, cap;
  uint32_t *slots;
  size_t nslots;
} det_aggtab;

static uint64_t det_hash_key(int32_t a, int32_t b, int32_t c) {
  uint64_t h = ((uint64_t)(uint32_t)a * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)(uint32_t)b * 0xC2B2AE3D27D4EB4Full) ^
               ((uint64_t)(uint32_t)c * 0x165667B19E3779F9ull);
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 32);
}

static int det_aggtab_grow(det_aggtab *t) {
  size_t ns = t->nslots ? t->nslots * 2 : 256;
  uint32_t *slots = calloc(ns, sizeof *slots);
  if (!slots) return HUD_ENOMEM;
  for (size_t i = 0; i < t->n; i++) {
    size_t j = det_hash_key(t->v[i].flow, t->v[i].caller, t->v[i].callee) & (ns - 1);
    while (slots[j]) j = (j + 1) & (ns - 1);
    slots[j] = (uint32_t)(i + 1);
  }
  free(t->slots);
  t->slots = slots;
  t->nslots = ns;
  return 0;
}

static det_agg *det_aggtab_find(const det_aggtab *t, int32_t flow, int32_t caller, int32_t callee) {
  if (!t->nslots) return NULL;
  size_t j = det_hash_key(flow, caller, callee) & (t->nslots - 1);
  while (t->slots[j]) {
    det_agg *a = &t->v[t->slots[j] - 1];
    if (a->flow == flow && a->caller == caller && a->callee == callee) return a;
    j = (j + 1) & (t->nslots - 1);
  }
  return NULL;
}

static det_agg *det_aggtab_get(det_aggtab *t, int32_t flow, int32_t caller, int32_t callee) {
  det_agg *a = det_aggtab_find(t, flow, caller, callee);
  if (a) return a;
  if ((t->n + 1) * 2 > t->nslots && det_aggtab_grow(t) < 0) return NULL;
  if (t->n == t->cap) {
    size_t nc = t->cap ? t->cap * 2 : 256;
    det_agg *nv = realloc(t->v, nc * sizeof *nv);
    if (!nv) return NULL;
    t->v = nv;
    t->cap = nc;
  }
  a = &t->v[t->n];
  memset(a, 0, sizeof *a);
  a->flow = flow;
  a->caller = caller;
  a->callee = callee;
  size_t j = det_hash_key(flow, caller, callee) & (t->nslots - 1);
  while (t->slots[j]) j = (j + 1) & (t->nslots - 1);
  t->slots[j] = (uint32_t)(t->n + 1);
  t->n++;
  return a;
}

static void det_aggtab_free(det_aggtab *t) {
  free(t->v);
  free(t->slots);
  memset(t, 0, sizeof *t);
}

static void det_stats_add(srv_det_stats *d, const srv_det_stats *s) {
  d->count = srv_sat_addu(d->count, s->count);
  d->sampled_count = srv_sat_addu(d->sampled_count, s->sampled_count);
  d->sum_ns += s->sum_ns;
  d->sumsq_ns = srv_sat_addf(d->sumsq_ns, s->sumsq_ns);
  d->self_sum_ns += s->self_sum_ns;
  d->errors = srv_sat_addu(d->errors, s->errors);
}

/* ---- the run's working state ---- */

typedef struct det_flowinfo {
  srv_det_stats st[2];
  bool seen[2];
  int32_t root; /* function index or DET_NONE */
} det_flowinfo;

/* Exceptions grouped per (flow, origin, type) and the functions they escaped. */
typedef struct det_excrow {
  int32_t flow;   /* DET_NONE outside flows */
  int32_t origin; /* function index */
  int32_t type;   /* index in types */
  bool escaped_flow;
  int side;
  uint64_t count;
  const srv_det_exc *src;
} det_excrow;

typedef struct det_ctx {
  const srv_det_config *cfg;
  const srv_det_snapshot *snap[2];
  det_strtab fns, flows, types;
  det_aggtab agg;
  det_flowinfo *flowinfo; /* flows.n entries */
  det_excrow *excs;
  size_t n_excs;
  uint32_t *adj; /* indices of call edges (caller >= 0) in agg, sorted by (flow, caller) */
  size_t n_adj;
} det_ctx;

typedef enum det_kind { DET_FLOW_DUR, DET_FN_DUR, DET_FLOW_ERR, DET_FN_ERR } det_kind;

typedef struct det_candidate {
  det_kind kind;
  int32_t subject; /* flow or function index */
  det_test t;
  srv_det_stats b, c;
} det_candidate;

void srv_det_config_default(srv_det_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->alpha = 0.001;
  cfg->min_samples = 100;
  cfg->min_calls = 200;
  cfg->min_errors = 5;
  cfg->min_abs_increase_ns = 100e3;
  cfg->min_flow_share = 0.05;
  cfg->min_rel_increase = 0.10;
  cfg->min_rate_increase = 0.005;
  cfg->min_rel_rate_increase = 0.5;
  cfg->error_dispersion = 4;
  cfg->min_new_baseline = 100;
  cfg->min_drift = 0.10;
  cfg->default_drift = 0.15;
  cfg->min_drift_units = 8;
  cfg->min_cause_share = 0.2;
  cfg->max_causes = 3;
}

const char *srv_issue_kind_name(srv_issue_kind k) {
  switch (k) {
  case SRV_ISSUE_DURATION: return "duration_regression";
  case SRV_ISSUE_ERRORS: return "error_rate_increase";
  case SRV_ISSUE_NEW_EXCEPTION: return "new_exception";
  }
  return "unknown";
}

static int det_load(det_ctx *x) {
  for (int side = 0; side < 2; side++) {
    const srv_det_snapshot *s = x->snap[side];
    for (size_t i = 0; i < s->n_calls; i++) {
      const srv_det_call *c = &s->calls[i];
      if (!c->function_id || !*c->function_id) return HUD_EINVAL;
      int f = det_strtab_add(&x->fns, c->function_id);
      int caller = det_strtab_add(&x->fns, c->caller_id);
      int flow = det_strtab_add(&x->flows, c->flow_id);
      if (f == -2 || caller == -2 || flow == -2) return HUD_ENOMEM;
      int32_t keys[4][3] = {{flow, caller, f}, {flow, DET_ANY, f}, {DET_ALL, caller, f}, {DET_ALL, DET_ANY, f}};
      for (int k = 0; k < 4; k++) {
        det_agg *a = det_aggtab_get(&x->agg, keys[k][0], keys[k][1], keys[k][2]);
        if (!a) return HUD_ENOMEM;
        det_stats_add(&a->st[side], &c->st);
      }
    }
    for (size_t i = 0; i < s->n_flows; i++) {
      if (!s->flows[i].flow_id || !*s->flows[i].flow_id) return HUD_EINVAL;
      if (det_strtab_add(&x->flows, s->flows[i].flow_id) == -2) return HUD_ENOMEM;
      if (det_strtab_add(&x->fns, s->flows[i].root_function_id) == -2) return HUD_ENOMEM;
    }
    for (size_t i = 0; i < s->n_excs; i++) {
      const srv_det_exc *e = &s->excs[i];
      if (!e->origin_id || !*e->origin_id || !e->type || (e->n_through && !e->through)) return HUD_EINVAL;
      if (det_strtab_add(&x->fns, e->origin_id) == -2 || det_strtab_add(&x->flows, e->flow_id) == -2 ||
          det_strtab_add(&x->types, e->type) == -2)
        return HUD_ENOMEM;
      for (size_t k = 0; k < e->n_through; k++)
        if (det_strtab_add(&x->fns, e->through[k]) == -2) return HUD_ENOMEM;
    }
  }
  x->flowinfo = calloc(x->flows.n ? x->flows.n : 1, sizeof *x->flowinfo);
  if (!x->flowinfo) return HUD_ENOMEM;
  for (size_t i = 0; i < x->flows.n; i++) x->flowinfo[i].root = DET_NONE;
  for (int side = 0; side < 2; side++) {
    const srv_det_snapshot *s = x->snap[side];
    for (size_t i = 0; i < s->n_flows; i++) {
      det_flowinfo *fi = &x->flowinfo[det_strtab_find(&x->flows, s->flows[i].flow_id)];
      det_stats_add(&fi->st[side], &s->flows[i].st);
      fi->seen[side] = true;
      int r = det_strtab_find(&x->fns, s->flows[i].root_function_id);
      if (r >= 0) fi->root = r;
    }
  }
  /* Flows known only through their calls: invocations are the root calls. */
  for (size_t i = 0; i < x->agg.n; i++) {
    const det_agg *a = &x->agg.v[i];
    if (a->flow < 0 || a->caller != DET_NONE) continue;
    det_flowinfo *fi = &x->flowinfo[a->flow];
    for (int side = 0; side < 2; side++) {
      if (x->snap[side]->n_flows && fi->seen[side]) continue;
      bool from_calls = true;
      for (size_t k = 0; k < x->snap[side]->n_flows; k++)
        if (strcmp(x->snap[side]->flows[k].flow_id, x->flows.strs[a->flow]) == 0) from_calls = false;
      if (!from_calls) continue;
      if (fi->root != DET_NONE && fi->root != a->callee) continue;
      srv_det_stats st = a->st[side];
      st.self_sum_ns = 0;
      det_stats_add(&fi->st[side], &st);
    }
  }
  size_t total = x->snap[0]->n_excs + x->snap[1]->n_excs;
  x->excs = calloc(total ? total : 1, sizeof *x->excs);
  if (!x->excs) return HUD_ENOMEM;
  for (int side = 0; side < 2; side++) {
    const srv_det_snapshot *s = x->snap[side];
    for (size_t i = 0; i < s->n_excs; i++) {
      const srv_det_exc *e = &s->excs[i];
      det_excrow *r = &x->excs[x->n_excs++];
      r->flow = det_strtab_find(&x->flows, e->flow_id);
      r->origin = det_strtab_find(&x->fns, e->origin_id);
      r->type = det_strtab_find(&x->types, e->type);
      r->escaped_flow = e->caught_in == NULL || !*e->caught_in;
      r->side = side;
      r->count = e->count;
      r->src = e;
    }
  }
  return 0;
}

/* ---- adjacency: call edges by (flow, caller) ---- */

/* qsort has no context argument: the table being sorted, per thread (handlers run on several). */
static _Thread_local const det_aggtab *g_sort_agg;

static int det_cmp_adj(const void *a, const void *b) {
  const det_agg *x = &g_sort_agg->v[*(const uint32_t *)a], *y = &g_sort_agg->v[*(const uint32_t *)b];
  if (x->flow != y->flow) return x->flow < y->flow ? -1 : 1;
  if (x->caller != y->caller) return x->caller < y->caller ? -1 : 1;
  return x->callee < y->callee ? -1 : x->callee > y->callee;
}

static int det_build_adj(det_ctx *x) {
  x->adj = malloc((x->agg.n ? x->agg.n : 1) * sizeof *x->adj);
  if (!x->adj) return HUD_ENOMEM;
  for (size_t i = 0; i < x->agg.n; i++)
    if (x->agg.v[i].caller >= 0) x->adj[x->n_adj++] = (uint32_t)i;
  g_sort_agg = &x->agg;
  qsort(x->adj, x->n_adj, sizeof *x->adj, det_cmp_adj);
  g_sort_agg = NULL;
  return 0;
}

/* [*LO, *HI) of adj: the edges of FLOW whose caller is CALLER. */
static void det_adj_range(const det_ctx *x, int32_t flow, int32_t caller, size_t *lo, size_t *hi) {
  size_t a = 0, b = x->n_adj;
  while (a < b) {
    size_t m = (a + b) / 2;
    const det_agg *e = &x->agg.v[x->adj[m]];
    if (e->flow < flow || (e->flow == flow && e->caller < caller)) a = m + 1;
    else b = m;
  }
  *lo = a;
  b = x->n_adj;
  while (a < b) {
    size_t m = (a + b) / 2;
    const det_agg *e = &x->agg.v[x->adj[m]];
    if (e->flow < flow || (e->flow == flow && e->caller <= caller)) a = m + 1;
    else b = m;
  }
  *hi = a;
}

/* ---- Benjamini–Hochberg ---- */

typedef struct det_pidx {
  double p;
  size_t i;
} det_pidx;

static int det_cmp_pidx(const void *a, const void *b) {
  const det_pidx *x = a, *y = b;
  if (x->p < y->p) return -1;
  if (x->p > y->p) return 1;
  return x->i < y->i ? -1 : x->i > y->i;
}

/* Q[i] = BH adjusted p-value of P[i] (step-up, monotone). */
static int det_bh(const det_candidate *cands, size_t m, double *q) {
  if (!m) return 0;
  det_pidx *v = malloc(m * sizeof *v);
  if (!v) return HUD_ENOMEM;
  for (size_t i = 0; i < m; i++) {
    v[i].p = isnan(cands[i].t.p) ? 1.0 : cands[i].t.p;
    v[i].i = i;
  }
  qsort(v, m, sizeof *v, det_cmp_pidx);
  double run = 1.0;
  for (size_t k = m; k-- > 0;) {
    double adj = v[k].p * (double)m / (double)(k + 1);
    if (adj < run) run = adj;
    q[v[k].i] = run;
  }
  free(v);
  return 0;
}

/* ---- root cause: durations ---- */

typedef struct det_contrib {
  int32_t fn;
  int depth;
  double m[2], s[2]; /* calls per subject invocation, mean self ns */
  double contribution, slower, more;
  const srv_det_stats *own[2]; /* the cause's own stats in the subject's scope */
} det_contrib;

static int det_cmp_contrib(const void *a, const void *b) {
  const det_contrib *x = a, *y = b;
  if (x->contribution > y->contribution) return -1;
  if (x->contribution < y->contribution) return 1;
  return x->fn - y->fn;
}

static double det_self_mean(const srv_det_stats *s) {
  return s && s->sampled_count ? s->self_sum_ns / (double)s->sampled_count : 0.0;
}

static char *det_strdup(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static void det_fill_contrib(det_contrib *c) {
  /* When one side has no timed call, take the other side's self time so that only the
   * change of calls per invocation counts. */
  double sb = c->s[0], sc = c->s[1];
  bool hb = c->own[0] && c->own[0]->sampled_count, hc = c->own[1] && c->own[1]->sampled_count;
  if (!hb && hc) sb = sc;
  if (!hc && hb) sc = sb;
  c->s[0] = sb;
  c->s[1] = sc;
  c->contribution = c->m[1] * sc - c->m[0] * sb;
  c->slower = c->m[1] * (sc - sb);
  c->more = (c->m[1] - c->m[0]) * sb;
}

/* Call depth of every function below ROOTS over edges of FLOW (DET_ALL for the global graph);
 * DEPTH[f] = -1 when not reached. Also returns the reached functions in BFS order. */
static int det_bfs(const det_ctx *x, int32_t flow, const int32_t *roots, size_t n_roots, int *depth,
                   int32_t *order, size_t *n_order) {
  size_t nf = x->fns.n;
  for (size_t i = 0; i < nf; i++) depth[i] = -1;
  size_t head = 0, tail = 0;
  for (size_t i = 0; i < n_roots; i++)
    if (depth[roots[i]] < 0) {
      depth[roots[i]] = 0;
      order[tail++] = roots[i];
    }
  while (head < tail) {
    int32_t g = order[head++];
    size_t lo, hi;
    det_adj_range(x, flow, g, &lo, &hi);
    for (size_t i = lo; i < hi; i++) {
      const det_agg *a = &x->agg.v[x->adj[i]];
      if (depth[a->callee] < 0) {
        depth[a->callee] = depth[g] + 1;
        order[tail++] = a->callee;
      }
    }
  }
  *n_order = tail;
  return 0;
}

/* Contributions of every function of flow FL to the change of its mean duration. */
static int det_flow_contribs(det_ctx *x, int32_t fl, det_contrib **out, size_t *n_out) {
  size_t nf = x->fns.n;
  const det_flowinfo *fi = &x->flowinfo[fl];
  int *depth = malloc((nf ? nf : 1) * sizeof *depth);
  int32_t *order = malloc((nf ? nf : 1) * sizeof *order);
  int32_t *roots = malloc((nf ? nf : 1) * sizeof *roots);
  det_contrib *v = calloc(nf ? nf : 1, sizeof *v);
  if (!depth || !order || !roots || !v) {
    free(depth), free(order), free(roots), free(v);
    return HUD_ENOMEM;
  }
  size_t n_roots = 0, n_order = 0;
  if (fi->root != DET_NONE) {
    roots[n_roots++] = fi->root;
  } else {
    for (size_t i = 0; i < x->agg.n; i++)
      if (x->agg.v[i].flow == fl && x->agg.v[i].caller == DET_NONE) roots[n_roots++] = x->agg.v[i].callee;
  }
  det_bfs(x, fl, roots, n_roots, depth, order, &n_order);
  size_t n = 0;
  double inv[2] = {(double)fi->st[0].count, (double)fi->st[1].count};
  for (size_t i = 0; i < x->agg.n; i++) {
    const det_agg *a = &x->agg.v[i];
    if (a->flow != fl || a->caller != DET_ANY) continue;
    det_contrib *c = &v[n++];
    c->fn = a->callee;
    c->depth = depth[a->callee];
    for (int side = 0; side < 2; side++) {
      c->m[side] = inv[side] > 0 ? (double)a->st[side].count / inv[side] : 0.0;
      c->s[side] = det_self_mean(&a->st[side]);
      c->own[side] = &a->st[side];
    }
    det_fill_contrib(c);
  }
  free(depth), free(order), free(roots);
  *out = v;
  *n_out = n;
  return 0;
}

/* Contributions of function F and the functions below it (global call graph) to the change of
 * F's mean duration, calls per invocation propagated along edges in topological order. */
static int det_function_contribs(det_ctx *x, int32_t f, det_contrib **out, size_t *n_out) {
  size_t nf = x->fns.n;
  int *depth = malloc(nf * sizeof *depth);
  int32_t *order = malloc(nf * sizeof *order);
  int *state = calloc(nf, sizeof *state);
  int32_t *topo = malloc(nf * sizeof *topo);
  int32_t *stack = malloc(nf * sizeof *stack);
  size_t *iter = malloc(nf * sizeof *iter);
  double *m = calloc(2 * nf, sizeof *m);
  det_contrib *v = calloc(nf, sizeof *v);
  int rc = 0;
  if (!depth || !order || !state || !topo || !stack || !iter || !m || !v) {
    rc = HUD_ENOMEM;
    goto done;
  }
  size_t n_order = 0;
  det_bfs(x, DET_ALL, &f, 1, depth, order, &n_order);
  /* Iterative DFS post-order from F over reached edges; back edges (recursion) are skipped. */
  size_t n_topo = 0, sp = 0;
  stack[sp] = f;
  iter[sp++] = 0;
  state[f] = 1;
  while (sp) {
    int32_t g = stack[sp - 1];
    size_t lo, hi;
    det_adj_range(x, DET_ALL, g, &lo, &hi);
    size_t i = iter[sp - 1] > lo ? iter[sp - 1] : lo;
    for (; i < hi; i++)
      if (state[x->agg.v[x->adj[i]].callee] == 0) break;
    if (i < hi) {
      iter[sp - 1] = i + 1;
      int32_t h = x->agg.v[x->adj[i]].callee;
      state[h] = 1;
      stack[sp] = h;
      iter[sp++] = 0;
    } else {
      state[g] = 2;
      topo[n_topo++] = g;
      sp--;
    }
  }
  /* Reverse post-order is a topological order of the DAG without back edges. */
  m[2 * f] = m[2 * f + 1] = 1.0;
  /* state[] is reused as the position in topo (+1) of every reached function. */
  for (size_t k = 0; k < n_topo; k++) state[topo[k]] = (int)k + 1;
  for (size_t k = n_topo; k-- > 0;) {
    int32_t g = topo[k];
    const det_agg *gt = det_aggtab_find(&x->agg, DET_ALL, DET_ANY, g);
    size_t lo, hi;
    det_adj_range(x, DET_ALL, g, &lo, &hi);
    for (size_t i = lo; i < hi; i++) {
      const det_agg *a = &x->agg.v[x->adj[i]];
      if (a->callee == f) continue;
      /* Skip back edges: the callee must come later in topological order. */
      if (!(state[a->callee] > 0 && (size_t)state[a->callee] - 1 < k)) continue;
      for (int side = 0; side < 2; side++) {
        double cg = gt ? (double)gt->st[side].count : 0.0;
        if (cg > 0) m[2 * a->callee + side] += m[2 * g + side] * (double)a->st[side].count / cg;
      }
    }
  }
  size_t n = 0;
  for (size_t k = n_topo; k-- > 0;) {
    int32_t g = topo[k];
    const det_agg *gt = det_aggtab_find(&x->agg, DET_ALL, DET_ANY, g);
    if (!gt) continue;
    det_contrib *c = &v[n++];
    c->fn = g;
    c->depth = depth[g];
    for (int side = 0; side < 2; side++) {
      c->m[side] = m[2 * g + side];
      c->s[side] = det_self_mean(&gt->st[side]);
      c->own[side] = &gt->st[side];
    }
    det_fill_contrib(c);
  }
  *out = v;
  *n_out = n;
  v = NULL;
done:
  free(depth), free(order), free(state), free(topo), free(stack), free(iter), free(m), free(v);
  return rc;
}

static int det_duration_causes(det_ctx *x, const det_candidate *cd, srv_issue *is) {
  det_contrib *v = NULL;
  size_t n = 0;
  int rc = cd->kind == DET_FLOW_DUR ? det_flow_contribs(x, cd->subject, &v, &n)
                                               : det_function_contribs(x, cd->subject, &v, &n);
  if (rc < 0) return rc;
  double total = 0;
  for (size_t i = 0; i < n; i++) total += v[i].contribution;
  is->explained = is->effect != 0 ? total / is->effect : 0.0;
  qsort(v, n, sizeof *v, det_cmp_contrib);
  size_t keep = 0;
  for (size_t i = 0; i < n && keep < x->cfg->max_causes; i++) {
    double share = is->effect > 0 ? v[i].contribution / is->effect : 0.0;
    if (v[i].contribution <= 0) break;
    if (keep > 0 && share < x->cfg->min_cause_share) break;
    keep++;
  }
  is->causes = calloc(keep ? keep : 1, sizeof *is->causes);
  if (!is->causes) {
    free(v);
    return HUD_ENOMEM;
  }
  for (size_t i = 0; i < keep; i++) {
    srv_issue_cause *c = &is->causes[i];
    const det_contrib *k = &v[i];
    c->function_id = det_strdup(x->fns.strs[k->fn]);
    if (!c->function_id) {
      free(v);
      return HUD_ENOMEM;
    }
    is->n_causes = i + 1;
    c->contribution = k->contribution;
    c->share = is->effect > 0 ? k->contribution / is->effect : 0.0;
    c->slower_part = k->slower;
    c->more_calls_part = k->more;
    c->base_self_mean_ns = k->s[0];
    c->cand_self_mean_ns = k->s[1];
    c->base_calls_per_inv = k->m[0];
    c->cand_calls_per_inv = k->m[1];
    c->depth = k->depth;
    c->base_samples = k->own[0] ? k->own[0]->sampled_count : 0;
    c->cand_samples = k->own[1] ? k->own[1]->sampled_count : 0;
    c->p_value = NAN;
    det_test t;
    if (k->own[0] && k->own[1] && c->base_samples >= 2 && c->cand_samples >= 2 &&
        det_welch(k->own[0], k->own[1], is->confidence, &t) == 0)
      c->p_value = t.p;
  }
  free(v);
  return 0;
}

/* ---- root cause: errors ---- */

typedef struct det_origin {
  int32_t origin, type;
  uint64_t count[2];
} det_origin;


static bool det_exc_escapes(const det_ctx *x, const det_excrow *r, int32_t f) {
  const srv_det_exc *e = r->src;
  if (r->origin == f) return !(e->caught_in && strcmp(e->caught_in, e->origin_id) == 0);
  for (size_t k = 0; k < e->n_through; k++)
    if (strcmp(e->through[k], x->fns.strs[f]) == 0) return !(e->caught_in && strcmp(e->caught_in, e->through[k]) == 0);
  return false;
}

typedef struct det_orow {
  det_origin o;
  double contribution, rb, rc;
} det_orow;

static int det_cmp_orow(const void *a, const void *b) {
  const det_orow *x = a, *y = b;
  if (x->contribution > y->contribution) return -1;
  if (x->contribution < y->contribution) return 1;
  if (x->o.origin != y->o.origin) return x->o.origin - y->o.origin;
  return x->o.type - y->o.type;
}

static int det_error_causes(det_ctx *x, const det_candidate *cd, srv_issue *is) {
  det_orow *rows = calloc(x->n_excs ? x->n_excs : 1, sizeof *rows);
  if (!rows) return HUD_ENOMEM;
  size_t n = 0;
  for (size_t i = 0; i < x->n_excs; i++) {
    const det_excrow *r = &x->excs[i];
    bool in;
    if (cd->kind == DET_FLOW_ERR)
      in = r->flow == cd->subject && r->escaped_flow;
    else
      in = det_exc_escapes(x, r, cd->subject);
    if (!in) continue;
    size_t k = 0;
    while (k < n && !(rows[k].o.origin == r->origin && rows[k].o.type == r->type)) k++;
    if (k == n) {
      rows[n].o.origin = r->origin;
      rows[n].o.type = r->type;
      n++;
    }
    rows[k].o.count[r->side] = srv_sat_addu(rows[k].o.count[r->side], r->count);
  }
  double denom[2] = {(double)cd->b.count, (double)cd->c.count};
  double total = 0;
  for (size_t k = 0; k < n; k++) {
    rows[k].rb = denom[0] > 0 ? (double)rows[k].o.count[0] / denom[0] : 0.0;
    rows[k].rc = denom[1] > 0 ? (double)rows[k].o.count[1] / denom[1] : 0.0;
    rows[k].contribution = rows[k].rc - rows[k].rb;
    total += rows[k].contribution;
  }
  is->explained = is->effect != 0 ? total / is->effect : 0.0;
  qsort(rows, n, sizeof *rows, det_cmp_orow);
  size_t keep = 0;
  for (size_t k = 0; k < n && keep < x->cfg->max_causes; k++) {
    double share = is->effect > 0 ? rows[k].contribution / is->effect : 0.0;
    if (rows[k].contribution <= 0) break;
    if (keep > 0 && share < x->cfg->min_cause_share) break;
    keep++;
  }
  is->causes = calloc(keep ? keep : 1, sizeof *is->causes);
  if (!is->causes) {
    free(rows);
    return HUD_ENOMEM;
  }
  for (size_t k = 0; k < keep; k++) {
    srv_issue_cause *c = &is->causes[k];
    c->function_id = det_strdup(x->fns.strs[rows[k].o.origin]);
    c->exception_type = det_strdup(x->types.strs[rows[k].o.type]);
    if (!c->function_id || !c->exception_type) {
      is->n_causes = k + 1;
      free(rows);
      return HUD_ENOMEM;
    }
    is->n_causes = k + 1;
    c->contribution = rows[k].contribution;
    c->share = is->effect > 0 ? rows[k].contribution / is->effect : 0.0;
    c->base_rate = rows[k].rb;
    c->cand_rate = rows[k].rc;
    c->p_value = NAN;
    c->depth = rows[k].o.origin == cd->subject ? 0 : -1;
    c->base_samples = rows[k].o.count[0];
    c->cand_samples = rows[k].o.count[1];
    det_test t;
    if (cd->b.count && cd->c.count &&
        det_two_prop(rows[k].o.count[0] > cd->b.count ? cd->b.count : rows[k].o.count[0], cd->b.count,
                     rows[k].o.count[1] > cd->c.count ? cd->c.count : rows[k].o.count[1], cd->c.count,
                     is->confidence, &t) == 0)
      c->p_value = t.p;
  }
  free(rows);
  return 0;
}

/* ---- the run ---- */

static int det_push(det_candidate **v, size_t *n, size_t *cap, const det_candidate *c) {
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 64;
    det_candidate *nv = realloc(*v, nc * sizeof *nv);
    if (!nv) return HUD_ENOMEM;
    *v = nv;
    *cap = nc;
  }
  (*v)[(*n)++] = *c;
  return 0;
}

static int det_collect(det_ctx *x, det_candidate **out, size_t *n_out) {
  const srv_det_config *cfg = x->cfg;
  det_candidate *v = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  for (int fn_pass = 0; fn_pass < 2 && rc == 0; fn_pass++) {
    size_t count = fn_pass ? x->fns.n : x->flows.n;
    for (size_t i = 0; i < count && rc == 0; i++) {
      srv_det_stats b, c;
      if (fn_pass) {
        const det_agg *a = det_aggtab_find(&x->agg, DET_ALL, DET_ANY, (int32_t)i);
        if (!a) continue;
        b = a->st[0];
        c = a->st[1];
      } else {
        b = x->flowinfo[i].st[0];
        c = x->flowinfo[i].st[1];
      }
      det_candidate cd = {.subject = (int32_t)i, .b = b, .c = c};
      if (b.sampled_count >= cfg->min_samples && c.sampled_count >= cfg->min_samples) {
        cd.kind = fn_pass ? DET_FN_DUR : DET_FLOW_DUR;
        if (det_welch(&b, &c, 1.0 - cfg->alpha, &cd.t) == 0) rc = det_push(&v, &n, &cap, &cd);
      }
      if (rc == 0 && b.count >= cfg->min_calls && c.count >= cfg->min_calls && b.errors <= b.count &&
          c.errors <= c.count && (b.errors || c.errors)) {
        cd.kind = fn_pass ? DET_FN_ERR : DET_FLOW_ERR;
        if (det_two_prop(b.errors, b.count, c.errors, c.count, 1.0 - cfg->alpha, &cd.t) == 0)
          rc = det_push(&v, &n, &cap, &cd);
      }
    }
  }
  if (rc < 0) {
    free(v);
    return rc;
  }
  *out = v;
  *n_out = n;
  return 0;
}

/* Relative effect (cand / base - 1) and its interval: the critical value the stats module used for
 * the effect's interval (half-width over standard error) applied to the delta-method error of the
 * ratio. *REL etc. are +inf when the baseline is 0. */
static void det_rel_ci(const det_candidate *cd, double *rel, double *lo, double *hi) {
  bool dur = cd->kind == DET_FLOW_DUR || cd->kind == DET_FN_DUR;
  double vb, vc, se_b2, se_c2;
  if (dur) {
    vb = det_mean(&cd->b);
    vc = det_mean(&cd->c);
    se_b2 = det_var(&cd->b) / (double)cd->b.sampled_count;
    se_c2 = det_var(&cd->c) / (double)cd->c.sampled_count;
  } else {
    vb = (double)cd->b.errors / (double)cd->b.count;
    vc = (double)cd->c.errors / (double)cd->c.count;
    se_b2 = vb * (1 - vb) / (double)cd->b.count;
    se_c2 = vc * (1 - vc) / (double)cd->c.count;
  }
  double se = sqrt(se_b2 + se_c2), crit = se > 0 ? (cd->t.hi - cd->t.lo) / (2 * se) : 0;
  if (!(vb > 0)) {
    *rel = *lo = *hi = INFINITY;
    return;
  }
  double r = vc / vb;
  double se_r = r * sqrt(se_b2 / (vb * vb) + (vc > 0 ? se_c2 / (vc * vc) : 0));
  *rel = r - 1;
  *lo = r - 1 - crit * se_r;
  *hi = r - 1 + crit * se_r;
}

static bool det_passes(const det_ctx *x, const det_candidate *cd, double q) {
  const srv_det_config *cfg = x->cfg;
  if (!(q <= cfg->alpha)) return false;
  if (cd->kind == DET_FLOW_DUR || cd->kind == DET_FN_DUR) {
    double mb = det_mean(&cd->b), mc = det_mean(&cd->c);
    double d = mc - mb;
    if (!(d > 0) || d < cfg->min_abs_increase_ns) return false;
    if (mb > 0 && d / mb < cfg->min_rel_increase) return false;
    return true;
  }
  if (cd->c.errors < cfg->min_errors) return false;
  double rb = (double)cd->b.errors / (double)cd->b.count, rc = (double)cd->c.errors / (double)cd->c.count;
  double d = rc - rb;
  if (!(d > 0) || d < cfg->min_rate_increase) return false;
  return rb > 0 ? d / rb >= cfg->min_rel_rate_increase : true;
}

/* Interim: the per-subject tests mapped onto the issue shape (one issue per subject). */
static int det_make_issue(det_ctx *x, const det_candidate *cd, double q, srv_issue *is) {
  const srv_det_snapshot *b = x->snap[0], *c = x->snap[1];
  bool dur = cd->kind == DET_FLOW_DUR || cd->kind == DET_FN_DUR;
  bool is_flow = cd->kind == DET_FLOW_DUR || cd->kind == DET_FLOW_ERR;
  is->kind = dur ? SRV_ISSUE_DURATION : SRV_ISSUE_ERRORS;
  is->metric = dur ? "mean_duration" : "error_rate";
  is->base_label = det_strdup(b->label ? b->label : "");
  is->cand_label = det_strdup(c->label ? c->label : "");
  if (!is->base_label || !is->cand_label) return HUD_ENOMEM;
  is->base_from_ms = b->from_ms;
  is->base_to_ms = b->to_ms;
  is->cand_from_ms = c->from_ms;
  is->cand_to_ms = c->to_ms;
  is->confidence = 1.0 - x->cfg->alpha;
  is->statistic = cd->t.stat;
  is->statistic_name = dur ? "t" : "z";
  is->df = cd->t.df;
  is->p_value = cd->t.p > DBL_MIN ? cd->t.p : DBL_MIN;
  is->q_value = q;
  is->effect_lo = cd->t.lo;
  is->effect_hi = cd->t.hi;
  is->base_calls = cd->b.count;
  is->cand_calls = cd->c.count;
  is->base_errors = cd->b.errors;
  is->cand_errors = cd->c.errors;
  is->base_sd_ns = sqrt(det_var(&cd->b));
  is->cand_sd_ns = sqrt(det_var(&cd->c));
  is->code_changed = -1;
  if (dur) {
    is->base_value = det_mean(&cd->b);
    is->cand_value = det_mean(&cd->c);
    is->base_n = cd->b.sampled_count;
    is->cand_n = cd->c.sampled_count;
  } else {
    is->base_value = (double)cd->b.errors / (double)cd->b.count;
    is->cand_value = (double)cd->c.errors / (double)cd->c.count;
    is->base_n = cd->b.count;
    is->cand_n = cd->c.count;
  }
  is->effect = is->cand_value - is->base_value;
  det_rel_ci(cd, &is->rel_effect, &is->rel_lo, &is->rel_hi);
  int rc = dur ? det_duration_causes(x, cd, is) : det_error_causes(x, cd, is);
  if (rc < 0) return rc;
  if (is->n_causes) {
    is->function_id = det_strdup(is->causes[0].function_id);
    if (!is->function_id) return HUD_ENOMEM;
    if (is->causes[0].exception_type && !(is->exception_type = det_strdup(is->causes[0].exception_type)))
      return HUD_ENOMEM;
  }
  if (is_flow) {
    is->flows = calloc(1, sizeof *is->flows);
    if (!is->flows) return HUD_ENOMEM;
    is->n_flows = 1;
    srv_issue_flow *f = &is->flows[0];
    f->flow_id = det_strdup(x->flows.strs[cd->subject]);
    if (!f->flow_id) return HUD_ENOMEM;
    f->base_mean_ns = det_mean(&cd->b);
    f->cand_mean_ns = det_mean(&cd->c);
    f->flow_effect_ns = f->cand_mean_ns - f->base_mean_ns;
    f->effect_ns = is->n_causes ? is->causes[0].contribution : f->flow_effect_ns;
    f->base_calls = cd->b.count;
    f->cand_calls = cd->c.count;
    f->z = cd->t.stat;
    f->p_value = cd->t.p;
    f->q_value = q;
  }
  return 0;
}

static int det_cmp_issue(const void *a, const void *b) {
  const srv_issue *x = a, *y = b;
  if (x->kind != y->kind) return (int)x->kind - (int)y->kind;
  if (x->q_value < y->q_value) return -1;
  if (x->q_value > y->q_value) return 1;
  return 0;
}

void srv_det_result_free(srv_det_result *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n_issues; i++) {
    srv_issue *is = &r->issues[i];
    for (size_t k = 0; k < is->n_causes; k++) {
      free(is->causes[k].function_id);
      free(is->causes[k].exception_type);
    }
    free(is->causes);
    for (size_t k = 0; k < is->n_flows; k++) {
      free(is->flows[k].flow_id);
      for (size_t j = 0; j < is->flows[k].n_path; j++) free(is->flows[k].path[j]);
      free(is->flows[k].path);
    }
    free(is->flows);
    free(is->function_id);
    free(is->exception_type);
    free(is->base_label);
    free(is->cand_label);
  }
  free(r->issues);
  memset(r, 0, sizeof *r);
}

static bool det_config_ok(const srv_det_config *c) {
  return c->alpha > 0 && c->alpha < 1 && c->min_samples >= 2 && c->min_calls >= 1 &&
         c->min_rel_increase >= 0 && c->min_abs_increase_ns >= 0 && c->min_rate_increase >= 0 &&
         c->min_rel_rate_increase >= 0 && c->min_cause_share >= 0 && c->max_causes >= 1;
}

int srv_detect_still(const srv_issue *issue, const srv_det_snapshot *cand, const srv_det_config *cfg,
                     int *returned) {
  (void)cfg;
  if (!issue || !cand || !returned) return HUD_EINVAL;
  return HUD_ENOTFOUND;
}

int srv_detect_run(const srv_det_snapshot *base, const srv_det_snapshot *cand, const srv_det_config *cfg,
                   srv_det_result *out) {
  if (!out) return HUD_EINVAL;
  memset(out, 0, sizeof *out);
  if (!base || !cand) return HUD_EINVAL;
  if ((base->n_calls && !base->calls) || (cand->n_calls && !cand->calls) || (base->n_flows && !base->flows) ||
      (cand->n_flows && !cand->flows) || (base->n_excs && !base->excs) || (cand->n_excs && !cand->excs))
    return HUD_EINVAL;
  srv_det_config defcfg;
  if (!cfg) {
    srv_det_config_default(&defcfg);
    cfg = &defcfg;
  }
  if (!det_config_ok(cfg)) return HUD_EINVAL;
  det_ctx x = {.cfg = cfg, .snap = {base, cand}};
  det_candidate *cands = NULL;
  double *q = NULL;
  size_t m = 0;
  int rc = det_load(&x);
  if (rc == 0) rc = det_build_adj(&x);
  if (rc == 0) rc = det_collect(&x, &cands, &m);
  if (rc == 0) {
    q = malloc((m ? m : 1) * sizeof *q);
    if (!q) rc = HUD_ENOMEM;
  }
  if (rc == 0) rc = det_bh(cands, m, q);
  if (rc == 0) {
    out->n_tests = m;
    size_t n_pass = 0;
    for (size_t i = 0; i < m; i++) n_pass += det_passes(&x, &cands[i], q[i]);
    out->issues = calloc(n_pass ? n_pass : 1, sizeof *out->issues);
    if (!out->issues) rc = HUD_ENOMEM;
    for (size_t i = 0; i < m && rc == 0; i++) {
      if (!det_passes(&x, &cands[i], q[i])) continue;
      rc = det_make_issue(&x, &cands[i], q[i], &out->issues[out->n_issues++]);
    }
    if (rc == 0) qsort(out->issues, out->n_issues, sizeof *out->issues, det_cmp_issue);
  }
  if (rc < 0) srv_det_result_free(out);
  free(cands);
  free(q);
  free(x.flowinfo);
  free(x.excs);
  free(x.adj);
  det_strtab_free(&x.fns);
  det_strtab_free(&x.flows);
  det_strtab_free(&x.types);
  det_aggtab_free(&x.agg);
  return rc;
}

/* ---- statistics adapters ---- */

static double det_mean(const srv_det_stats *s) {
  hud_summary m;
  return hud_summary_from_sums(s->sampled_count, s->sum_ns, s->sumsq_ns, &m) == 0 ? m.mean : 0.0;
}

static double det_var(const srv_det_stats *s) {
  hud_summary m;
  return hud_summary_from_sums(s->sampled_count, s->sum_ns, s->sumsq_ns, &m) == 0 ? m.var : 0.0;
}

static int det_welch(const srv_det_stats *b, const srv_det_stats *c, double confidence, det_test *t) {
  hud_summary sb, sc;
  hud_ttest r;
  int rc = hud_summary_from_sums(b->sampled_count, b->sum_ns, b->sumsq_ns, &sb);
  if (rc == 0) rc = hud_summary_from_sums(c->sampled_count, c->sum_ns, c->sumsq_ns, &sc);
  if (rc == 0) rc = hud_welch_ttest(&sb, &sc, confidence, &r);
  if (rc < 0) return rc;
  t->stat = r.t;
  t->df = r.df;
  t->p = r.p;
  t->lo = r.ci_lo;
  t->hi = r.ci_hi;
  return 0;
}

static int det_two_prop(uint64_t xb, uint64_t nb, uint64_t xc, uint64_t nc, double confidence, det_test *t) {
  hud_ztest r;
  int rc = hud_two_proportion_ztest(xb, nb, xc, nc, confidence, &r);
  if (rc < 0) return rc;
  t->stat = r.z;
  t->df = 0;
  t->p = r.p;
  t->lo = r.ci_lo;
  t->hi = r.ci_hi;
  return 0;
}
