/* Regression detection with root cause (see detect.h for the method). */
#include "detect.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "hud/stats.h"
#include "sat.h"

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
  struct det_unit *units; /* every unit tested */
  size_t n_units, cap_units;
  double delta, tau;      /* common drift and between-deployment spread (log scale) */
  size_t n_drift;
  int32_t *flow_unit;     /* flows.n: index of the flow's unit in units, -1 untested */
  struct det_contrib *contrib; /* per agg row (flow, any caller, fn): its part of the flow's change */
  /* fns.n, flows.n: how each follows the host, learned from the service's history (NULL: beta 1, the run's tau) */
  const srv_det_learned **fn_learned, **flow_learned;
} det_ctx;

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

/* ---- units: what is tested ---- */

typedef enum det_ukind { DET_U_SELF, DET_U_EDGE, DET_U_FLOW, DET_U_ERR } det_ukind;

typedef struct det_unit {
  det_ukind kind;
  int32_t fn;        /* SELF: the function; EDGE: the callee; ERR: the origin; FLOW: DET_NONE */
  int32_t flow;      /* EDGE, FLOW, ERR; DET_NONE for SELF */
  int32_t caller;    /* EDGE */
  int32_t type;      /* ERR */
  double base, cand; /* mean self ns, calls per call of the caller, mean ns per request, rate */
  double r, v;       /* log ratio and its sampling variance (durations and calls) */
  double se;         /* ERR: unpooled standard error of the rate difference, dispersion included */
  double z, p, q;
  uint64_t nb, nc;   /* sampled calls, caller calls, sampled invocations, invocations */
  uint64_t xb, xc;   /* ERR: exceptions */
} det_unit;

/* Exceptions escaping a flow, per (flow, origin, type), both sides. */
typedef struct det_egroup {
  int32_t flow, origin, type;
  uint64_t x[2];
  bool new_type; /* (origin, type) never seen on the baseline side */
} det_egroup;

/* One function's part of one flow's change (candidate self time net of delta). */
typedef struct det_contrib {
  bool present;
  double m[2], s[2]; /* calls per flow invocation, mean self ns (s[1] net of delta) */
  double contribution, slower, more;
  double raw; /* the contribution with the candidate's self time as measured (delta not taken off) */
} det_contrib;

static double det_mean(const srv_det_stats *s) {
  return s->sampled_count ? s->sum_ns / (double)s->sampled_count : 0.0;
}

/* Squared coefficient of variation of the duration per call (0 when unknown). */
static double det_cv2(const srv_det_stats *s) {
  hud_summary m;
  if (s->sampled_count < 2 || hud_summary_from_sums(s->sampled_count, s->sum_ns, s->sumsq_ns, &m) < 0) return 0.0;
  return m.mean > 0 ? m.var / (m.mean * m.mean) : 0.0;
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

/* One-sided p of an increase, never 0. */
static double det_p_upper(double z) {
  if (isnan(z)) return 1.0;
  double p = hud_normal_cdf(-z);
  return p > DBL_MIN ? p : DBL_MIN;
}

static det_unit *det_unit_new(det_ctx *x, det_ukind kind) {
  if (x->n_units == x->cap_units) {
    size_t nc = x->cap_units ? x->cap_units * 2 : 64;
    det_unit *nv = realloc(x->units, nc * sizeof *nv);
    if (!nv) return NULL;
    x->units = nv;
    x->cap_units = nc;
  }
  det_unit *u = &x->units[x->n_units++];
  memset(u, 0, sizeof *u);
  u->kind = kind;
  u->fn = u->flow = u->caller = u->type = DET_NONE;
  u->z = u->q = NAN;
  u->p = 1.0;
  return u;
}

static int det_units_durations(det_ctx *x) {
  const srv_det_config *cfg = x->cfg;
  for (size_t f = 0; f < x->fns.n; f++) {
    const det_agg *a = det_aggtab_find(&x->agg, DET_ALL, DET_ANY, (int32_t)f);
    if (!a || a->st[0].sampled_count < cfg->min_samples || a->st[1].sampled_count < cfg->min_samples) continue;
    double sb = det_self_mean(&a->st[0]), sc = det_self_mean(&a->st[1]);
    if (!(sb > 0 && sc > 0)) continue;
    det_unit *u = det_unit_new(x, DET_U_SELF);
    if (!u) return HUD_ENOMEM;
    u->fn = (int32_t)f;
    u->base = sb;
    u->cand = sc;
    u->nb = a->st[0].sampled_count;
    u->nc = a->st[1].sampled_count;
    /* Self time has no sum of squares: the duration's coefficient of variation stands for it. */
    u->r = log(sc / sb);
    u->v = det_cv2(&a->st[0]) / (double)u->nb + det_cv2(&a->st[1]) / (double)u->nc;
  }
  for (size_t i = 0; i < x->agg.n; i++) {
    const det_agg *a = &x->agg.v[i];
    if (a->flow < 0 || a->caller < 0) continue;
    const det_agg *cg = det_aggtab_find(&x->agg, a->flow, DET_ANY, a->caller);
    if (!cg || cg->st[0].count < cfg->min_samples || cg->st[1].count < cfg->min_samples) continue;
    if (!a->st[0].count || !a->st[1].count) continue;
    det_unit *u = det_unit_new(x, DET_U_EDGE);
    if (!u) return HUD_ENOMEM;
    u->fn = a->callee;
    u->flow = a->flow;
    u->caller = a->caller;
    u->nb = cg->st[0].count;
    u->nc = cg->st[1].count;
    u->base = (double)a->st[0].count / (double)u->nb;
    u->cand = (double)a->st[1].count / (double)u->nc;
    u->r = log(u->cand / u->base);
    u->v = 1.0 / (double)a->st[0].count + 1.0 / (double)a->st[1].count; /* Poisson counts */
  }
  for (size_t fl = 0; fl < x->flows.n; fl++) {
    const det_flowinfo *fi = &x->flowinfo[fl];
    if (fi->st[0].sampled_count < cfg->min_samples || fi->st[1].sampled_count < cfg->min_samples) continue;
    double mb = det_mean(&fi->st[0]), mc = det_mean(&fi->st[1]);
    if (!(mb > 0 && mc > 0)) continue;
    det_unit *u = det_unit_new(x, DET_U_FLOW);
    if (!u) return HUD_ENOMEM;
    u->flow = (int32_t)fl;
    u->base = mb;
    u->cand = mc;
    u->nb = fi->st[0].sampled_count;
    u->nc = fi->st[1].sampled_count;
    u->r = log(mc / mb);
    u->v = det_cv2(&fi->st[0]) / (double)u->nb + det_cv2(&fi->st[1]) / (double)u->nc;
  }
  return 0;
}

static int det_cmp_egroup(const void *a, const void *b) {
  const det_egroup *x = a, *y = b;
  if (x->origin != y->origin) return x->origin < y->origin ? -1 : 1;
  if (x->type != y->type) return x->type < y->type ? -1 : 1;
  return x->flow < y->flow ? -1 : x->flow > y->flow;
}

/* Groups the exceptions that escaped a flow by (flow, origin, type), sorted by (origin, type,
 * flow); marks the (origin, type) pairs the baseline never shows (caught or not) as new. */
static int det_egroups(det_ctx *x, det_egroup **out, size_t *n_out) {
  det_egroup *g = calloc(x->n_excs ? x->n_excs : 1, sizeof *g);
  if (!g) return HUD_ENOMEM;
  size_t n = 0;
  for (size_t i = 0; i < x->n_excs; i++) {
    const det_excrow *r = &x->excs[i];
    /* Every row counts for "seen on the baseline"; flow DET_NONE or caught rows only for that. */
    g[n] = (det_egroup){.flow = r->flow >= 0 && r->escaped_flow ? r->flow : DET_NONE, .origin = r->origin,
                        .type = r->type};
    g[n].x[r->side] = r->count;
    n++;
  }
  qsort(g, n, sizeof *g, det_cmp_egroup);
  size_t m = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    bool seen_base = false;
    while (j < n && g[j].origin == g[i].origin && g[j].type == g[i].type) seen_base |= g[j++].x[0] > 0;
    for (size_t k = i; k < j; k++) {
      if (g[k].flow == DET_NONE) continue;
      if (m && g[m - 1].flow == g[k].flow && g[m - 1].origin == g[k].origin && g[m - 1].type == g[k].type) {
        g[m - 1].x[0] = srv_sat_addu(g[m - 1].x[0], g[k].x[0]);
        g[m - 1].x[1] = srv_sat_addu(g[m - 1].x[1], g[k].x[1]);
      } else {
        g[m] = g[k];
        g[m++].new_type = !seen_base;
      }
    }
    i = j;
  }
  *out = g;
  *n_out = m;
  return 0;
}

/* Rate units of existing exception types: two proportions, variance times error_dispersion. */
static int det_units_errors(det_ctx *x, const det_egroup *g, size_t n) {
  const srv_det_config *cfg = x->cfg;
  for (size_t k = 0; k < n; k++) {
    if (g[k].new_type) continue;
    const det_flowinfo *fi = &x->flowinfo[g[k].flow];
    uint64_t nb = fi->st[0].count, nc = fi->st[1].count, xb = g[k].x[0], xc = g[k].x[1];
    if (nb < cfg->min_calls || nc < cfg->min_calls || xb > nb || xc > nc || !(xb + xc)) continue;
    det_unit *u = det_unit_new(x, DET_U_ERR);
    if (!u) return HUD_ENOMEM;
    u->fn = g[k].origin;
    u->flow = g[k].flow;
    u->type = g[k].type;
    u->nb = nb;
    u->nc = nc;
    u->xb = xb;
    u->xc = xc;
    u->base = (double)xb / (double)nb;
    u->cand = (double)xc / (double)nc;
    double pooled = (double)(xb + xc) / (double)(nb + nc);
    double se0 = sqrt(cfg->error_dispersion * pooled * (1 - pooled) * (1.0 / (double)nb + 1.0 / (double)nc));
    u->se = sqrt(cfg->error_dispersion *
                 (u->base * (1 - u->base) / (double)nb + u->cand * (1 - u->cand) / (double)nc));
    u->z = se0 > 0 ? (u->cand - u->base) / se0 : 0.0;
    u->p = det_p_upper(u->z);
  }
  return 0;
}

static int det_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double det_median(double *v, size_t n) {
  qsort(v, n, sizeof *v, det_cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The key of a function's self time (KIND 's') or a flow's mean ('f') in learned drift. */
static bool det_key(char kind, const char *id, char *buf, size_t len) {
  int n = snprintf(buf, len, "%c\x1f%s", kind, id);
  return n > 0 && (size_t)n < len;
}

static int det_cmp_learned_key(const void *k, const void *e) {
  return strcmp(k, ((const srv_det_learned *)e)->key);
}

static const srv_det_learned *det_learned_of(const srv_det_config *cfg, char kind, const char *id) {
  char key[1024];
  if (!cfg->n_learned || !det_key(kind, id, key, sizeof key)) return NULL;
  return bsearch(key, cfg->learned, cfg->n_learned, sizeof *cfg->learned, det_cmp_learned_key);
}

static int det_learned(det_ctx *x) {
  x->fn_learned = calloc(x->fns.n ? x->fns.n : 1, sizeof *x->fn_learned);
  x->flow_learned = calloc(x->flows.n ? x->flows.n : 1, sizeof *x->flow_learned);
  if (!x->fn_learned || !x->flow_learned) return HUD_ENOMEM;
  for (size_t i = 0; i < x->fns.n; i++) x->fn_learned[i] = det_learned_of(x->cfg, 's', x->fns.strs[i]);
  for (size_t i = 0; i < x->flows.n; i++) x->flow_learned[i] = det_learned_of(x->cfg, 'f', x->flows.strs[i]);
  return 0;
}

/* The host's shift expected in FN's self time / FLOW's mean (log scale). */
static double det_fn_shift(const det_ctx *x, int32_t fn) {
  return (x->fn_learned[fn] ? x->fn_learned[fn]->beta : 1.0) * x->delta;
}
static double det_flow_shift(const det_ctx *x, int32_t flow) {
  return (x->flow_learned[flow] ? x->flow_learned[flow]->beta : 1.0) * x->delta;
}

/* A busy host makes calls slower, not more numerous: no shift is taken off call counts. */
static double det_unit_shift(const det_ctx *x, const det_unit *u) {
  return u->kind == DET_U_SELF ? det_fn_shift(x, u->fn) : u->kind == DET_U_FLOW ? det_flow_shift(x, u->flow) : 0.0;
}

/* The drift allowed for U: the run's tau, or the unit's own spread when its history shows more. */
static double det_unit_tau(const det_ctx *x, const det_unit *u) {
  const srv_det_learned *l = u->kind == DET_U_SELF ? x->fn_learned[u->fn]
                             : u->kind == DET_U_FLOW ? x->flow_learned[u->flow] : NULL;
  return l && l->tau > x->tau ? l->tau : x->tau;
}

/* delta and tau from the self-time units (most functions did not change), then every z and p. */
static int det_drift_and_z(det_ctx *x) {
  const srv_det_config *cfg = x->cfg;
  size_t n = 0;
  for (size_t i = 0; i < x->n_units; i++) n += x->units[i].kind == DET_U_SELF;
  x->n_drift = n;
  x->delta = 0;
  x->tau = cfg->min_drift > cfg->default_drift ? cfg->min_drift : cfg->default_drift;
  if (n >= cfg->min_drift_units && n > 0) {
    double *r = malloc(n * sizeof *r), *v = malloc(n * sizeof *v);
    if (!r || !v) {
      free(r), free(v);
      return HUD_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < x->n_units; i++)
      if (x->units[i].kind == DET_U_SELF) {
        r[k] = x->units[i].r;
        v[k++] = x->units[i].v;
      }
    x->delta = det_median(r, n);
    for (size_t i = 0; i < n; i++) r[i] = fabs(r[i] - x->delta);
    double s = 1.4826 * det_median(r, n);
    double t2 = s * s - det_median(v, n); /* spread beyond what sampling explains */
    x->tau = t2 > 0 ? sqrt(t2) : 0.0;
    if (x->tau < cfg->min_drift) x->tau = cfg->min_drift;
    free(r), free(v);
  }
  for (size_t i = 0; i < x->n_units; i++) {
    det_unit *u = &x->units[i];
    if (u->kind == DET_U_ERR) continue;
    double tau = det_unit_tau(x, u);
    u->z = (u->r - det_unit_shift(x, u)) / sqrt(tau * tau + u->v);
    u->p = det_p_upper(u->z);
  }
  return 0;
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

/* units[i].q = BH adjusted p over every unit (step-up, monotone). */
static int det_bh(det_ctx *x) {
  size_t m = x->n_units;
  if (!m) return 0;
  det_pidx *v = malloc(m * sizeof *v);
  if (!v) return HUD_ENOMEM;
  for (size_t i = 0; i < m; i++) {
    v[i].p = isnan(x->units[i].p) ? 1.0 : x->units[i].p;
    v[i].i = i;
  }
  qsort(v, m, sizeof *v, det_cmp_pidx);
  double run = 1.0;
  for (size_t k = m; k-- > 0;) {
    double adj = v[k].p * (double)m / (double)(k + 1);
    if (adj < run) run = adj;
    x->units[v[k].i].q = run > DBL_MIN ? run : DBL_MIN;
  }
  free(v);
  return 0;
}

static int det_index_flow_units(det_ctx *x) {
  x->flow_unit = malloc((x->flows.n ? x->flows.n : 1) * sizeof *x->flow_unit);
  if (!x->flow_unit) return HUD_ENOMEM;
  for (size_t i = 0; i < x->flows.n; i++) x->flow_unit[i] = -1;
  for (size_t i = 0; i < x->n_units; i++)
    if (x->units[i].kind == DET_U_FLOW) x->flow_unit[x->units[i].flow] = (int32_t)i;
  return 0;
}

/* ---- the exact decomposition of every flow's change ---- */

static void det_fill_contrib(det_contrib *c, bool hb, bool hc) {
  /* When one side has no timed call, take the other side's self time so that only the
   * change of calls per invocation counts. */
  if (!hb && hc) c->s[0] = c->s[1];
  if (!hc && hb) c->s[1] = c->s[0];
  c->contribution = c->m[1] * c->s[1] - c->m[0] * c->s[0];
  c->slower = c->m[1] * (c->s[1] - c->s[0]);
  c->more = (c->m[1] - c->m[0]) * c->s[0];
}

/* One entry per aggregate row (sparse: flows x functions would not fit big services). */
static int det_contribs(det_ctx *x) {
  x->contrib = calloc(x->agg.n ? x->agg.n : 1, sizeof *x->contrib);
  if (!x->contrib) return HUD_ENOMEM;
  for (size_t i = 0; i < x->agg.n; i++) {
    const det_agg *a = &x->agg.v[i];
    if (a->flow < 0 || a->caller != DET_ANY) continue;
    double shrink = exp(-det_fn_shift(x, a->callee));
    const det_flowinfo *fi = &x->flowinfo[a->flow];
    det_contrib *c = &x->contrib[i];
    c->present = a->st[0].count || a->st[1].count;
    for (int side = 0; side < 2; side++) {
      double inv = (double)fi->st[side].count;
      c->m[side] = inv > 0 ? (double)a->st[side].count / inv : 0.0;
      c->s[side] = det_self_mean(&a->st[side]) * (side ? shrink : 1.0);
    }
    det_contrib measured = *c;
    measured.s[1] = det_self_mean(&a->st[1]);
    det_fill_contrib(&measured, a->st[0].sampled_count > 0, a->st[1].sampled_count > 0);
    det_fill_contrib(c, a->st[0].sampled_count > 0, a->st[1].sampled_count > 0);
    c->raw = measured.contribution;
  }
  return 0;
}

static const det_contrib *det_contrib_at(const det_ctx *x, int32_t flow, int32_t fn) {
  static const det_contrib none;
  const det_agg *a = det_aggtab_find(&x->agg, flow, DET_ANY, fn);
  return a ? &x->contrib[a - x->agg.v] : &none;
}

/* The flow's change net of delta: cand e^-delta - base, per request. */
static double det_flow_change(const det_ctx *x, int32_t flow) {
  const det_flowinfo *fi = &x->flowinfo[flow];
  return det_mean(&fi->st[1]) * exp(-det_flow_shift(x, flow)) - det_mean(&fi->st[0]);
}

static bool det_flow_floor(const det_ctx *x, int32_t flow, double effect_ns) {
  double base = det_mean(&x->flowinfo[flow].st[0]);
  return effect_ns >= x->cfg->min_abs_increase_ns && effect_ns >= x->cfg->min_flow_share * base;
}

/* ---- grouping: one working issue per root cause ---- */

typedef struct det_wissue {
  srv_issue_kind kind;
  int32_t fn, type, flow; /* flow: issues with no function (the flow regressed, nothing explains it) */
  int32_t self_unit, edge_unit, err_unit, flow_unit; /* deciding candidates (index in units, -1) */
} det_wissue;

typedef struct det_wlist {
  det_wissue *v;
  size_t n, cap;
} det_wlist;

static det_wissue *det_wget(det_wlist *l, srv_issue_kind kind, int32_t fn, int32_t type, int32_t flow) {
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].kind == kind && l->v[i].fn == fn && l->v[i].type == type && l->v[i].flow == flow) return &l->v[i];
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 16;
    det_wissue *nv = realloc(l->v, nc * sizeof *nv);
    if (!nv) return NULL;
    l->v = nv;
    l->cap = nc;
  }
  det_wissue *w = &l->v[l->n++];
  *w = (det_wissue){kind, fn, type, flow, -1, -1, -1, -1};
  return w;
}

/* Keeps in *SLOT the unit of lowest q. */
static void det_wkeep(const det_ctx *x, int32_t *slot, size_t u) {
  if (*slot < 0 || x->units[u].q < x->units[*slot].q) *slot = (int32_t)u;
}

/* Mean duration per call of FN in FLOW (inclusive), baseline side when timed there. */
static double det_fn_mean_in_flow(const det_ctx *x, int32_t flow, int32_t fn) {
  const det_agg *a = det_aggtab_find(&x->agg, flow, DET_ANY, fn);
  if (!a) return 0.0;
  return a->st[0].sampled_count ? det_mean(&a->st[0]) : det_mean(&a->st[1]) * exp(-det_fn_shift(x, fn));
}

static bool det_fn_in_any_flow(const det_ctx *x, int32_t fn) {
  for (size_t fl = 0; fl < x->flows.n; fl++)
    if (det_contrib_at(x, (int32_t)fl, fn)->present) return true;
  return false;
}

static int det_calls_origin(const det_ctx *x, int32_t flow, int32_t top, int32_t *out);

static int det_group(det_ctx *x, const det_egroup *g, size_t n_g, det_wlist *l) {
  const srv_det_config *cfg = x->cfg;
  for (size_t i = 0; i < x->n_units; i++) {
    const det_unit *u = &x->units[i];
    if (!(u->q <= cfg->alpha)) continue;
    det_wissue *w = NULL;
    if (u->kind == DET_U_FLOW) {
      double change = det_flow_change(x, u->flow);
      if (!det_flow_floor(x, u->flow, change)) continue;
      int32_t top = DET_NONE;
      double best = 0;
      for (size_t f = 0; f < x->fns.n; f++) {
        const det_contrib *c = det_contrib_at(x, u->flow, (int32_t)f);
        if (c->present && c->contribution > best) best = c->contribution, top = (int32_t)f;
      }
      int rc = top != DET_NONE ? det_calls_origin(x, u->flow, top, &top) : 0;
      if (rc < 0) return rc;
      if (top != DET_NONE && best >= cfg->min_cause_share * change)
        w = det_wget(l, SRV_ISSUE_DURATION, top, DET_NONE, DET_NONE);
      else
        w = det_wget(l, SRV_ISSUE_DURATION, DET_NONE, DET_NONE, u->flow);
      if (!w) return HUD_ENOMEM;
      det_wkeep(x, &w->flow_unit, i);
    } else if (u->kind == DET_U_SELF) {
      double d = u->cand * exp(-det_fn_shift(x, u->fn)) - u->base; /* per call, net of the host's shift */
      bool pass = false;
      if (!det_fn_in_any_flow(x, u->fn)) {
        const det_agg *a = det_aggtab_find(&x->agg, DET_ALL, DET_ANY, u->fn);
        pass = d >= cfg->min_abs_increase_ns && d >= cfg->min_rel_increase * det_mean(&a->st[0]);
      }
      for (size_t fl = 0; fl < x->flows.n && !pass; fl++) {
        const det_contrib *c = det_contrib_at(x, (int32_t)fl, u->fn);
        pass = c->present && det_flow_floor(x, (int32_t)fl, c->m[1] * d);
      }
      if (!pass) continue;
      if (!(w = det_wget(l, SRV_ISSUE_DURATION, u->fn, DET_NONE, DET_NONE))) return HUD_ENOMEM;
      det_wkeep(x, &w->self_unit, i);
    } else if (u->kind == DET_U_EDGE) {
      const det_contrib *c = det_contrib_at(x, u->flow, u->fn);
      /* More calls also bring what the callee calls: its inclusive mean per call. */
      double d = (c->m[1] - c->m[0]) * det_fn_mean_in_flow(x, u->flow, u->fn);
      if (!(u->r > 0) || !det_flow_floor(x, u->flow, d)) continue;
      if (!(w = det_wget(l, SRV_ISSUE_DURATION, u->fn, DET_NONE, DET_NONE))) return HUD_ENOMEM;
      det_wkeep(x, &w->edge_unit, i);
    } else {
      double diff = u->cand - u->base;
      if (u->xc < cfg->min_errors || !(diff >= cfg->min_rate_increase)) continue;
      if (u->base > 0 && diff / u->base < cfg->min_rel_rate_increase) continue;
      if (!(w = det_wget(l, SRV_ISSUE_ERRORS, u->fn, u->type, DET_NONE))) return HUD_ENOMEM;
      det_wkeep(x, &w->err_unit, i);
    }
  }
  for (size_t k = 0; k < n_g; k++) {
    if (!g[k].new_type || !g[k].x[1]) continue;
    if (x->flowinfo[g[k].flow].st[0].count < cfg->min_new_baseline) continue;
    if (!det_wget(l, SRV_ISSUE_NEW_EXCEPTION, g[k].origin, g[k].type, DET_NONE)) return HUD_ENOMEM;
  }
  return 0;
}

/* ---- from working issues to srv_issue ---- */

/* PARENT[f] over FLOW's call edges, BFS from the flow's root(s): -1 a root, -2 not reached (until
 * TARGET is). PARENT has fns.n entries. */
static int det_parents(const det_ctx *x, int32_t flow, int32_t target, int32_t *parent) {
  size_t nf = x->fns.n;
  int32_t *queue = malloc((nf ? nf : 1) * sizeof *queue);
  if (!queue) return HUD_ENOMEM;
  for (size_t i = 0; i < nf; i++) parent[i] = -2;
  size_t head = 0, tail = 0;
  const det_flowinfo *fi = &x->flowinfo[flow];
  if (fi->root != DET_NONE) {
    parent[fi->root] = -1;
    queue[tail++] = fi->root;
  } else {
    for (size_t i = 0; i < x->agg.n; i++) {
      const det_agg *a = &x->agg.v[i];
      if (a->flow == flow && a->caller == DET_NONE && parent[a->callee] == -2) {
        parent[a->callee] = -1;
        queue[tail++] = a->callee;
      }
    }
  }
  while (head < tail && parent[target] == -2) {
    int32_t gfn = queue[head++];
    size_t lo, hi;
    det_adj_range(x, flow, gfn, &lo, &hi);
    for (size_t i = lo; i < hi; i++) {
      int32_t c = x->agg.v[x->adj[i]].callee;
      if (parent[c] == -2) {
        parent[c] = gfn;
        queue[tail++] = c;
      }
    }
  }
  free(queue);
  return 0;
}

/* Function ids from FLOW's root to TARGET (BFS); *N = 0 when unreached. */
static int det_path(const det_ctx *x, int32_t flow, int32_t target, char ***out, size_t *n_out) {
  *out = NULL;
  *n_out = 0;
  int32_t *parent = malloc((x->fns.n ? x->fns.n : 1) * sizeof *parent);
  if (!parent) return HUD_ENOMEM;
  int rc = det_parents(x, flow, target, parent);
  if (rc == 0 && parent[target] != -2) {
    size_t n = 0;
    for (int32_t f = target; f >= 0; f = parent[f]) n++;
    char **p = calloc(n, sizeof *p);
    if (!p) rc = HUD_ENOMEM;
    size_t k = n;
    for (int32_t f = target; rc == 0 && f >= 0; f = parent[f])
      if (!(p[--k] = det_strdup(x->fns.strs[f]))) rc = HUD_ENOMEM;
    *out = p;
    *n_out = p ? n : 0;
  }
  free(parent);
  return rc;
}

/* A flow's top contribution that comes from more calls: blame the function on its path whose calls
 * per call of its caller rose the most (the N+1 itself, not what it calls). */
static int det_calls_origin(const det_ctx *x, int32_t flow, int32_t top, int32_t *out) {
  *out = top;
  const det_contrib *c = det_contrib_at(x, flow, top);
  if (!(c->more > c->slower)) return 0;
  int32_t *parent = malloc((x->fns.n ? x->fns.n : 1) * sizeof *parent);
  if (!parent) return HUD_ENOMEM;
  int rc = det_parents(x, flow, top, parent);
  double best = log(1.1); /* below +10% per call of the caller: keep the top contribution */
  for (int32_t f = top; rc == 0 && f >= 0 && parent[f] >= 0; f = parent[f]) {
    const det_agg *e = det_aggtab_find(&x->agg, flow, parent[f], f);
    const det_agg *cg = det_aggtab_find(&x->agg, flow, DET_ANY, parent[f]);
    if (!e || !cg || !e->st[0].count || !e->st[1].count || !cg->st[0].count || !cg->st[1].count) continue;
    double r = log(((double)e->st[1].count / (double)cg->st[1].count) / ((double)e->st[0].count / (double)cg->st[0].count));
    if (r > best) best = r, *out = f;
  }
  free(parent);
  return rc;
}

static const det_unit *det_flow_unit(const det_ctx *x, int32_t flow) {
  return x->flow_unit[flow] >= 0 ? &x->units[x->flow_unit[flow]] : NULL;
}

static const char *det_hash_of(const srv_det_snapshot *s, const char *fn) {
  for (size_t i = 0; i < s->n_fns; i++)
    if (s->fns[i].function_id && strcmp(s->fns[i].function_id, fn) == 0) return s->fns[i].source_code_hash;
  return NULL;
}

static int det_cmp_flow_effect(const void *a, const void *b) {
  const srv_issue_flow *x = a, *y = b;
  double ex = x->effect_ns, ey = y->effect_ns;
  if (ex != ey) return ex > ey ? -1 : 1;
  return strcmp(x->flow_id, y->flow_id);
}

/* Appends an entry for FLOW to IS->flows (capacity: flows.n, allocated by the caller). */
static srv_issue_flow *det_add_flow(const det_ctx *x, srv_issue *is, int32_t flow) {
  srv_issue_flow *f = &is->flows[is->n_flows];
  memset(f, 0, sizeof *f);
  if (!(f->flow_id = det_strdup(x->flows.strs[flow]))) return NULL;
  is->n_flows++;
  const det_flowinfo *fi = &x->flowinfo[flow];
  f->base_mean_ns = det_mean(&fi->st[0]);
  f->cand_mean_ns = det_mean(&fi->st[1]);
  f->flow_effect_ns = f->cand_mean_ns - f->base_mean_ns;
  f->base_calls = fi->st[0].count;
  f->cand_calls = fi->st[1].count;
  const det_unit *u = det_flow_unit(x, flow);
  f->z = u ? u->z : NAN;
  f->p_value = u ? u->p : NAN;
  f->q_value = u ? u->q : NAN;
  return f;
}

/* The flows of a duration issue: every flow where its cause adds time, largest first. */
static int det_duration_flows(const det_ctx *x, const det_wissue *w, srv_issue *is) {
  is->flows = calloc(x->flows.n ? x->flows.n : 1, sizeof *is->flows);
  if (!is->flows) return HUD_ENOMEM;
  for (size_t fl = 0; fl < x->flows.n; fl++) {
    double eff;
    if (w->fn == DET_NONE) {
      if ((int32_t)fl != w->flow) continue;
      eff = det_flow_change(x, w->flow);
    } else {
      const det_contrib *c = det_contrib_at(x, (int32_t)fl, w->fn);
      /* Extra calls also bring what they call: their cost is the callee's inclusive time. */
      double dm = c->m[1] - c->m[0], below = det_fn_mean_in_flow(x, (int32_t)fl, w->fn) - c->s[0];
      double extra = dm > 0 && below > 0 ? dm * below : 0.0;
      if (!c->present || !(c->contribution + extra > 0)) continue;
      eff = c->raw + extra; /* shown as measured, like the flow's before/after */
    }
    srv_issue_flow *f = det_add_flow(x, is, (int32_t)fl);
    if (!f) return HUD_ENOMEM;
    f->effect_ns = w->fn == DET_NONE ? f->flow_effect_ns : eff;
  }
  qsort(is->flows, is->n_flows, sizeof *is->flows, det_cmp_flow_effect);
  return 0;
}

/* The flows of an error issue: every flow its exception escapes more often, largest rise first. */
static int det_error_flows(const det_ctx *x, const det_wissue *w, const det_egroup *g, size_t n_g, srv_issue *is) {
  is->flows = calloc(x->flows.n ? x->flows.n : 1, sizeof *is->flows);
  if (!is->flows) return HUD_ENOMEM;
  for (size_t k = 0; k < n_g; k++) {
    if (g[k].origin != w->fn || g[k].type != w->type) continue;
    const det_flowinfo *fi = &x->flowinfo[g[k].flow];
    double nb = (double)fi->st[0].count, nc = (double)fi->st[1].count;
    double rb = nb > 0 ? (double)g[k].x[0] / nb : 0.0, rc = nc > 0 ? (double)g[k].x[1] / nc : 0.0;
    if (!(rc > rb)) continue;
    srv_issue_flow *f = det_add_flow(x, is, g[k].flow);
    if (!f) return HUD_ENOMEM;
    f->base_rate = rb;
    f->cand_rate = rc;
    f->cand_errors = g[k].x[1];
    f->effect_ns = rc - rb; /* sort key; rates are the figures of an error issue */
    for (size_t i = 0; i < x->n_units; i++) {
      const det_unit *u = &x->units[i];
      if (u->kind == DET_U_ERR && u->flow == g[k].flow && u->fn == w->fn && u->type == w->type) {
        f->z = u->z;
        f->p_value = u->p;
        f->q_value = u->q;
      }
    }
    is->base_errors += g[k].x[0];
    is->cand_errors += g[k].x[1];
  }
  qsort(is->flows, is->n_flows, sizeof *is->flows, det_cmp_flow_effect);
  for (size_t i = 0; i < is->n_flows; i++) is->flows[i].effect_ns = 0;
  return 0;
}

typedef struct det_crow {
  int32_t fn;
  double contribution;
} det_crow;

static int det_cmp_crow(const void *a, const void *b) {
  const det_crow *x = a, *y = b;
  if (x->contribution != y->contribution) return x->contribution > y->contribution ? -1 : 1;
  return x->fn - y->fn;
}

static int det_fill_cause(const det_ctx *x, int32_t flow, int32_t fn, double pos_sum, srv_issue_cause *c) {
  if (!(c->function_id = det_strdup(x->fns.strs[fn]))) return HUD_ENOMEM;
  c->p_value = NAN;
  c->depth = -1;
  const det_agg *a = det_aggtab_find(&x->agg, DET_ALL, DET_ANY, fn);
  if (a) {
    c->base_self_mean_ns = det_self_mean(&a->st[0]);
    c->cand_self_mean_ns = det_self_mean(&a->st[1]);
    c->base_samples = a->st[0].sampled_count;
    c->cand_samples = a->st[1].sampled_count;
  }
  for (size_t i = 0; i < x->n_units; i++)
    if (x->units[i].kind == DET_U_SELF && x->units[i].fn == fn) c->p_value = x->units[i].p;
  if (flow == DET_NONE) return 0;
  const det_contrib *k = det_contrib_at(x, flow, fn);
  c->contribution = k->contribution;
  c->share = pos_sum > 0 && k->contribution > 0 ? k->contribution / pos_sum : 0.0;
  c->slower_part = k->slower;
  c->more_calls_part = k->more;
  c->base_calls_per_inv = k->m[0];
  c->cand_calls_per_inv = k->m[1];
  return 0;
}

/* causes[0] = the root cause, then the flow's other contributions with share >= min_cause_share. */
static int det_duration_causes(const det_ctx *x, const det_wissue *w, int32_t flow, srv_issue *is) {
  size_t nf = x->fns.n, n = 0;
  det_crow *v = calloc(nf ? nf : 1, sizeof *v);
  is->causes = calloc(x->cfg->max_causes, sizeof *is->causes);
  if (!v || !is->causes) {
    free(v);
    return HUD_ENOMEM;
  }
  double pos = 0, total = 0;
  if (flow != DET_NONE)
    for (size_t f = 0; f < nf; f++) {
      const det_contrib *c = det_contrib_at(x, flow, (int32_t)f);
      if (!c->present) continue;
      total += c->contribution;
      if (c->contribution > 0) pos += c->contribution;
      if (c->contribution > 0 && (int32_t)f != w->fn) v[n++] = (det_crow){(int32_t)f, c->contribution};
    }
  qsort(v, n, sizeof *v, det_cmp_crow);
  int rc = 0;
  if (w->fn != DET_NONE) rc = det_fill_cause(x, flow, w->fn, pos, &is->causes[is->n_causes++]);
  for (size_t i = 0; i < n && rc == 0 && is->n_causes < x->cfg->max_causes; i++) {
    if (!(pos > 0) || v[i].contribution / pos < x->cfg->min_cause_share) break;
    rc = det_fill_cause(x, flow, v[i].fn, pos, &is->causes[is->n_causes++]);
  }
  if (flow != DET_NONE) {
    double change = det_flow_change(x, flow);
    is->explained = change > 0 ? total / change : 0.0;
  }
  free(v);
  return rc;
}

/* Fills the statistics of IS from unit U: z, p, q and the interval of the metric at `confidence`
 * (log scale with tau for durations and calls; Wald with the dispersion for rates). */
static void det_stats_from(const det_ctx *x, const det_unit *u, srv_issue *is) {
  double crit = hud_normal_quantile(1.0 - x->cfg->alpha / 2);
  is->statistic = u->z;
  is->p_value = u->p;
  is->q_value = u->q;
  is->base_n = u->nb;
  is->cand_n = u->nc;
  if (u->kind == DET_U_ERR) return;
  /* The change as measured (what before/after show) and its sampling interval; the test is what
   * allows for the host's shift and the drift. */
  double half = crit * sqrt(u->v);
  is->rel_effect = exp(u->r) - 1;
  is->rel_lo = exp(u->r - half) - 1;
  is->rel_hi = exp(u->r + half) - 1;
  is->drift_shift = det_unit_shift(x, u);
  is->drift_sd = det_unit_tau(x, u);
}

static void det_rate_interval(const det_ctx *x, const det_unit *u, srv_issue *is) {
  double crit = hud_normal_quantile(1.0 - x->cfg->alpha / 2);
  is->effect = is->cand_value - is->base_value;
  double se = u ? u->se : 0.0;
  is->effect_lo = is->effect - crit * se;
  is->effect_hi = is->effect + crit * se;
  if (!(is->base_value > 0)) {
    is->rel_effect = is->rel_lo = is->rel_hi = INFINITY;
    return;
  }
  is->rel_effect = is->cand_value / is->base_value - 1;
  double lv = u && u->xb && u->xc ? x->cfg->error_dispersion * (1.0 / (double)u->xb + 1.0 / (double)u->xc) : 0.0;
  double l = log(is->cand_value / is->base_value), half = crit * sqrt(lv);
  is->rel_lo = u && u->xb && u->xc ? exp(l - half) - 1 : is->rel_effect;
  is->rel_hi = u && u->xb && u->xc ? exp(l + half) - 1 : is->rel_effect;
}

static int det_make_duration(const det_ctx *x, const det_wissue *w, srv_issue *is) {
  int rc = det_duration_flows(x, w, is);
  if (rc < 0) return rc;
  int32_t top = DET_NONE;
  for (size_t fl = 0; is->n_flows && fl < x->flows.n; fl++)
    if (strcmp(x->flows.strs[fl], is->flows[0].flow_id) == 0) top = (int32_t)fl;
  if ((rc = det_duration_causes(x, w, top, is)) < 0) return rc;
  const det_unit *su = w->self_unit >= 0 ? &x->units[w->self_unit] : NULL;
  const det_unit *eu = w->edge_unit >= 0 ? &x->units[w->edge_unit] : NULL;
  const det_unit *fu = w->flow_unit >= 0 ? &x->units[w->flow_unit] : NULL;
  if (w->fn == DET_NONE) {
    is->metric = "mean_duration";
    const det_flowinfo *fi = &x->flowinfo[w->flow];
    is->base_value = det_mean(&fi->st[0]);
    is->cand_value = det_mean(&fi->st[1]);
    is->base_calls = fi->st[0].count;
    is->cand_calls = fi->st[1].count;
    is->base_errors = fi->st[0].errors;
    is->cand_errors = fi->st[1].errors;
    is->base_sd_ns = sqrt(det_cv2(&fi->st[0])) * is->base_value;
    is->cand_sd_ns = sqrt(det_cv2(&fi->st[1])) * is->cand_value;
    det_stats_from(x, fu, is);
  } else {
    /* The metric: what the deciding units say; with both (or none), the larger part in the top flow. */
    bool calls = eu && !su;
    if ((eu && su) || (!eu && !su))
      calls = is->n_causes && is->causes[0].more_calls_part > is->causes[0].slower_part;
    const det_agg *a = det_aggtab_find(&x->agg, DET_ALL, DET_ANY, w->fn);
    if (a) {
      is->base_calls = a->st[0].count;
      is->cand_calls = a->st[1].count;
      is->base_errors = a->st[0].errors;
      is->cand_errors = a->st[1].errors;
    }
    const det_unit *metric_unit = NULL; /* the cause's own unit for the metric, tested or not */
    for (size_t i = 0; i < x->n_units; i++) {
      const det_unit *u = &x->units[i];
      if (u->fn != w->fn) continue;
      if (!calls && u->kind == DET_U_SELF) metric_unit = u;
      if (calls && u->kind == DET_U_EDGE && top != DET_NONE && u->flow == top &&
          (!metric_unit || u->q < metric_unit->q))
        metric_unit = u;
    }
    if (calls) {
      is->metric = "calls_per_invocation";
      const det_contrib *c = top != DET_NONE ? det_contrib_at(x, top, w->fn) : NULL;
      is->base_value = c ? c->m[0] : 0.0;
      is->cand_value = c ? c->m[1] : 0.0;
    } else {
      is->metric = "self_duration";
      is->base_value = a ? det_self_mean(&a->st[0]) : 0.0;
      is->cand_value = a ? det_self_mean(&a->st[1]) : 0.0;
      /* Self time has no sum of squares: its sd is estimated with the duration's coefficient of variation. */
      is->base_sd_ns = a ? sqrt(det_cv2(&a->st[0])) * is->base_value : 0.0;
      is->cand_sd_ns = a ? sqrt(det_cv2(&a->st[1])) * is->cand_value : 0.0;
    }
    const det_unit *decide = calls ? (eu ? eu : su) : (su ? su : eu);
    if (!decide) decide = fu;
    if (metric_unit) det_stats_from(x, metric_unit, is);
    if (decide) {
      is->statistic = decide->z;
      is->p_value = decide->p;
      is->q_value = decide->q;
      if (!metric_unit) {
        is->base_n = decide->nb;
        is->cand_n = decide->nc;
      }
    }
    if (!metric_unit) { /* untested metric: the point estimate and tau only */
      double crit = hud_normal_quantile(1.0 - x->cfg->alpha / 2);
      double c = is->base_value > 0 && is->cand_value > 0 ? log(is->cand_value / is->base_value) : 0.0;
      is->rel_effect = exp(c) - 1;
      is->rel_lo = exp(c - crit * x->tau) - 1;
      is->rel_hi = exp(c + crit * x->tau) - 1;
    }
    const char *hb = det_hash_of(x->snap[0], x->fns.strs[w->fn]), *hc = det_hash_of(x->snap[1], x->fns.strs[w->fn]);
    is->code_changed = hb && hc ? strcmp(hb, hc) != 0 : -1;
    is->self_includes_uninstrumented = !calls && is->code_changed == 0;
  }
  is->effect = is->base_value * is->rel_effect;
  is->effect_lo = is->base_value * is->rel_lo;
  is->effect_hi = is->base_value * is->rel_hi;
  if (!(is->base_value > 0)) is->rel_effect = is->rel_lo = is->rel_hi = INFINITY;
  for (size_t i = 0; i < is->n_flows && w->fn != DET_NONE; i++) {
    int32_t fl = det_strtab_find(&x->flows, is->flows[i].flow_id);
    if ((rc = det_path(x, fl, w->fn, &is->flows[i].path, &is->flows[i].n_path)) < 0) return rc;
    if (i == 0 && is->n_causes) is->causes[0].depth = (int)is->flows[i].n_path - 1;
  }
  return 0;
}

static int det_make_errors(const det_ctx *x, const det_wissue *w, const det_egroup *g, size_t n_g, srv_issue *is) {
  int rc = det_error_flows(x, w, g, n_g, is);
  if (rc < 0) return rc;
  is->exception_type = det_strdup(x->types.strs[w->type]);
  is->causes = calloc(1, sizeof *is->causes);
  if (!is->exception_type || !is->causes) return HUD_ENOMEM;
  srv_issue_cause *c = &is->causes[is->n_causes++];
  if (!(c->function_id = det_strdup(x->fns.strs[w->fn])) || !(c->exception_type = det_strdup(is->exception_type)))
    return HUD_ENOMEM;
  c->share = 1.0;
  c->depth = -1;
  c->p_value = NAN;
  const srv_issue_flow *f0 = is->n_flows ? &is->flows[0] : NULL;
  if (f0) {
    is->base_calls = f0->base_calls;
    is->cand_calls = f0->cand_calls;
    c->base_rate = f0->base_rate;
    c->cand_rate = f0->cand_rate;
    c->contribution = f0->cand_rate - f0->base_rate;
  }
  const det_unit *u = w->err_unit >= 0 ? &x->units[w->err_unit] : NULL;
  if (w->kind == SRV_ISSUE_ERRORS) {
    is->metric = "error_rate";
    is->base_value = u ? u->base : f0 ? f0->base_rate : 0.0;
    is->cand_value = u ? u->cand : f0 ? f0->cand_rate : 0.0;
    if (u) {
      det_stats_from(x, u, is);
      c->p_value = u->p;
    }
    det_rate_interval(x, u, is);
    c->base_samples = u ? u->xb : 0;
    c->cand_samples = u ? u->xc : 0;
  } else {
    /* A new exception is an issue from its first occurrence; p is the exact conditional chance of
     * seeing all K on the candidate side if the two sides shared one rate (information only). */
    is->metric = "exceptions";
    uint64_t nb = 0, nc = 0;
    for (size_t i = 0; i < is->n_flows; i++) nb += is->flows[i].base_calls, nc += is->flows[i].cand_calls;
    double k = (double)is->cand_errors, share = nb + nc ? (double)nc / (double)(nb + nc) : 1.0;
    double p = pow(share, k);
    is->p_value = p > DBL_MIN ? p : DBL_MIN;
    is->q_value = is->p_value;
    is->statistic = is->p_value < 1 ? -hud_normal_quantile(is->p_value) : 0.0;
    is->base_n = nb;
    is->cand_n = nc;
    is->base_value = 0;
    is->cand_value = k;
    double crit = hud_normal_quantile(1.0 - x->cfg->alpha / 2);
    is->effect = k;
    is->effect_lo = k - crit * sqrt(k) > 0 ? k - crit * sqrt(k) : 0.0;
    is->effect_hi = k + crit * sqrt(k);
    is->rel_effect = is->rel_lo = is->rel_hi = INFINITY;
    c->base_samples = is->base_errors;
    c->cand_samples = is->cand_errors;
  }
  const char *hb = det_hash_of(x->snap[0], x->fns.strs[w->fn]), *hc = det_hash_of(x->snap[1], x->fns.strs[w->fn]);
  is->code_changed = hb && hc ? strcmp(hb, hc) != 0 : -1;
  for (size_t i = 0; i < is->n_flows; i++) {
    int32_t fl = det_strtab_find(&x->flows, is->flows[i].flow_id);
    if ((rc = det_path(x, fl, w->fn, &is->flows[i].path, &is->flows[i].n_path)) < 0) return rc;
    if (i == 0) c->depth = (int)is->flows[i].n_path - 1;
  }
  return 0;
}

static int det_make_issue(const det_ctx *x, const det_wissue *w, const det_egroup *g, size_t n_g, srv_issue *is) {
  const srv_det_snapshot *b = x->snap[0], *c = x->snap[1];
  is->kind = w->kind;
  is->base_label = det_strdup(b->label ? b->label : "");
  is->cand_label = det_strdup(c->label ? c->label : "");
  if (!is->base_label || !is->cand_label) return HUD_ENOMEM;
  if (w->fn != DET_NONE && !(is->function_id = det_strdup(x->fns.strs[w->fn]))) return HUD_ENOMEM;
  is->base_from_ms = b->from_ms;
  is->base_to_ms = b->to_ms;
  is->cand_from_ms = c->from_ms;
  is->cand_to_ms = c->to_ms;
  is->confidence = 1.0 - x->cfg->alpha;
  is->statistic_name = "z";
  is->df = 0;
  is->statistic = NAN;
  is->p_value = 1.0;
  is->q_value = 1.0;
  is->drift_sd = x->tau;
  is->drift_shift = x->delta;
  is->code_changed = -1;
  if (w->kind == SRV_ISSUE_DURATION) return det_make_duration(x, w, is);
  return det_make_errors(x, w, g, n_g, is);
}

static const char *det_issue_key(const srv_issue *is) {
  return is->function_id ? is->function_id : is->n_flows ? is->flows[0].flow_id : "";
}

static int det_cmp_issue(const void *a, const void *b) {
  const srv_issue *x = a, *y = b;
  if (x->kind != y->kind) return (int)x->kind - (int)y->kind;
  if (x->q_value < y->q_value) return -1;
  if (x->q_value > y->q_value) return 1;
  int k = strcmp(det_issue_key(x), det_issue_key(y));
  return k ? k : strcmp(x->exception_type ? x->exception_type : "", y->exception_type ? y->exception_type : "");
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
  for (size_t i = 0; i < r->n_residuals; i++) free(r->residuals[i].key);
  free(r->residuals);
  memset(r, 0, sizeof *r);
}

static bool det_config_ok(const srv_det_config *c) {
  return c->alpha > 0 && c->alpha < 1 && c->min_samples >= 2 && c->min_calls >= 1 && c->min_rel_increase >= 0 &&
         c->min_abs_increase_ns >= 0 && c->min_flow_share >= 0 && c->min_rate_increase >= 0 &&
         c->min_rel_rate_increase >= 0 && c->error_dispersion >= 1 && c->min_drift >= 0 && c->default_drift >= 0 &&
         c->min_cause_share >= 0 && c->max_causes >= 1;
}

static void det_ctx_free(det_ctx *x) {
  free(x->flowinfo);
  free(x->excs);
  free(x->adj);
  free(x->units);
  free(x->contrib);
  free(x->flow_unit);
  free(x->fn_learned);
  free(x->flow_learned);
  det_strtab_free(&x->fns);
  det_strtab_free(&x->flows);
  det_strtab_free(&x->types);
  det_aggtab_free(&x->agg);
}

/* Whether FN's source hash differs between the sides (both known). */
static bool det_code_changed(const det_ctx *x, int32_t fn) {
  if (fn < 0) return false;
  const char *hb = det_hash_of(x->snap[0], x->fns.strs[fn]), *hc = det_hash_of(x->snap[1], x->fns.strs[fn]);
  return hb && hc && strcmp(hb, hc) != 0;
}

/* The run's duration and call units as residuals (learned drift's material). */
static int det_residuals(const det_ctx *x, srv_det_result *out) {
  out->residuals = calloc(x->n_units ? x->n_units : 1, sizeof *out->residuals);
  if (!out->residuals) return HUD_ENOMEM;
  char key[1024];
  for (size_t i = 0; i < x->n_units; i++) {
    const det_unit *u = &x->units[i];
    if (u->kind == DET_U_SELF ? det_code_changed(x, u->fn) : u->kind != DET_U_FLOW) continue;
    const char *id = u->kind == DET_U_SELF ? x->fns.strs[u->fn] : x->flows.strs[u->flow];
    if (!det_key(u->kind == DET_U_SELF ? 's' : 'f', id, key, sizeof key)) continue;
    srv_det_residual *r = &out->residuals[out->n_residuals];
    if (!(r->key = det_strdup(key))) return HUD_ENOMEM;
    r->r = u->r;
    r->delta = x->delta;
    r->v = u->v;
    out->n_residuals++;
  }
  return 0;
}

static bool det_snapshot_ok(const srv_det_snapshot *s) {
  return !((s->n_calls && !s->calls) || (s->n_flows && !s->flows) || (s->n_excs && !s->excs) ||
           (s->n_fns && !s->fns));
}

int srv_detect_run(const srv_det_snapshot *base, const srv_det_snapshot *cand, const srv_det_config *cfg,
                   srv_det_result *out) {
  if (!out) return HUD_EINVAL;
  memset(out, 0, sizeof *out);
  if (!base || !cand || !det_snapshot_ok(base) || !det_snapshot_ok(cand)) return HUD_EINVAL;
  srv_det_config defcfg;
  if (!cfg) {
    srv_det_config_default(&defcfg);
    cfg = &defcfg;
  }
  if (!det_config_ok(cfg)) return HUD_EINVAL;
  det_ctx x = {.cfg = cfg, .snap = {base, cand}};
  det_egroup *g = NULL;
  size_t n_g = 0;
  det_wlist l = {0};
  int rc = det_load(&x);
  if (rc == 0) rc = det_build_adj(&x);
  if (rc == 0) rc = det_units_durations(&x);
  if (rc == 0) rc = det_egroups(&x, &g, &n_g);
  if (rc == 0) rc = det_units_errors(&x, g, n_g);
  if (rc == 0) rc = det_learned(&x);
  if (rc == 0) rc = det_drift_and_z(&x);
  if (rc == 0) rc = det_bh(&x);
  if (rc == 0) rc = det_index_flow_units(&x);
  if (rc == 0) rc = det_contribs(&x);
  if (rc == 0) rc = det_group(&x, g, n_g, &l);
  if (rc == 0) rc = det_residuals(&x, out);
  if (rc == 0) {
    out->n_tests = x.n_units;
    out->drift_shift = x.delta;
    out->drift_sd = x.tau;
    out->n_drift_units = x.n_drift;
    out->issues = calloc(l.n ? l.n : 1, sizeof *out->issues);
    if (!out->issues) rc = HUD_ENOMEM;
    for (size_t i = 0; i < l.n && rc == 0; i++) rc = det_make_issue(&x, &l.v[i], g, n_g, &out->issues[out->n_issues++]);
    if (rc == 0) qsort(out->issues, out->n_issues, sizeof *out->issues, det_cmp_issue);
  }
  if (rc < 0) srv_det_result_free(out);
  free(g);
  free(l.v);
  det_ctx_free(&x);
  return rc;
}
