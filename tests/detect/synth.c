/* Synthetic service for detection tests (see synth.h). */
#include "synth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "hud/identity.h"

static synth_fn g_fns[] = {
    {"shop/orders.py", "get_order", ""},        /* 0 */
    {"shop/auth.py", "check_token", ""},        /* 1 */
    {"shop/db.py", "fetch_order", ""},          /* 2 */
    {"shop/db.py", "fetch_items", ""},          /* 3 */
    {"shop/render.py", "render_order", ""},     /* 4 */
    {"shop/render.py", "render_item", ""},      /* 5 */
    {"shop/checkout.py", "checkout", ""},       /* 6 */
    {"shop/cart.py", "Cart.total", ""},         /* 7 */
    {"shop/pricing.py", "compute_price", ""},   /* 8 */
    {"shop/db.py", "save_order", ""},           /* 9 */
    {"shop/payments.py", "charge", ""},         /* 10 */
    {"shop/cache.py", "get", ""},               /* 11 */
    {"worker/email.py", "send_email", ""},      /* 12 */
    {"worker/templates.py", "render_template", ""}, /* 13 */
    {"worker/smtp.py", "deliver", ""},          /* 14 */
};
enum { N_FNS = sizeof g_fns / sizeof g_fns[0] };

typedef struct node {
  int fn, parent, line;
  double calls;      /* mean calls per parent invocation (integer part + Bernoulli fraction) */
  double median_ns, sigma;
  double raise_prob;
  const char *raise_type;
  const char *catches; /* exception type caught here (NULL: none) */
} node;

static const node g_nodes[] = {
    /* flow 0: GET /orders/<id> */
    {0, -1, 0, 1, 300e3, 0.5, 0, NULL, "KeyError"},
    {1, 0, 12, 1, 200e3, 0.4, 0, NULL, NULL},
    {11, 0, 13, 1, 50e3, 0.3, 0.3, "KeyError", NULL},
    {2, 0, 15, 1, 2e6, 0.6, 0, NULL, NULL},
    {3, 0, 16, 1, 1.5e6, 0.6, 0, NULL, NULL},
    {4, 0, 18, 1, 800e3, 0.5, 0, NULL, NULL},
    {5, 5, 31, 3, 100e3, 0.4, 0, NULL, NULL},
    /* flow 1: POST /checkout */
    {6, -1, 0, 1, 500e3, 0.5, 0, NULL, NULL},
    {1, 7, 40, 1, 200e3, 0.4, 0, NULL, NULL},
    {7, 7, 41, 1, 300e3, 0.5, 0, NULL, NULL},
    {8, 9, 52, 2, 400e3, 0.5, 0, NULL, NULL},
    {9, 7, 43, 1, 3e6, 0.5, 0, NULL, NULL},
    {10, 7, 44, 1, 20e6, 0.7, 0.01, "PaymentDeclined", NULL},
    /* flow 2: send_email (queue consumer) */
    {12, -1, 0, 1, 1e6, 0.5, 0, NULL, NULL},
    {13, 13, 8, 1, 1e6, 0.5, 0, NULL, NULL},
    {14, 13, 9, 1, 10e6, 0.8, 0.005, "SMTPError", NULL},
};
enum { N_NODES = sizeof g_nodes / sizeof g_nodes[0] };

static const struct {
  const char *name, *kind;
  int root_node;
} g_flows[] = {
    {"GET /orders/<id>", "endpoint", 0},
    {"POST /checkout", "endpoint", 7},
    {"send_email", "consumer", 13},
};
enum { N_FLOWS = sizeof g_flows / sizeof g_flows[0] };

static int g_ids_ready;

const synth_fn *synth_fns(void) {
  if (!g_ids_ready) {
    for (int i = 0; i < N_FNS; i++) hud_function_id(g_fns[i].module_path, g_fns[i].qualname, g_fns[i].id);
    g_ids_ready = 1;
  }
  return g_fns;
}

size_t synth_fn_count(void) { return N_FNS; }

int synth_fn_index(const char *qualname) {
  for (int i = 0; i < N_FNS; i++)
    if (strcmp(g_fns[i].qualname, qualname) == 0) return i;
  return -1;
}

size_t synth_flow_count(void) { return N_FLOWS; }
const char *synth_flow_name(int flow) { return g_flows[flow].name; }
const char *synth_flow_kind(int flow) { return g_flows[flow].kind; }
int synth_flow_root(int flow) { return g_nodes[g_flows[flow].root_node].fn; }

/* ---- random numbers: splitmix64 + Box-Muller ---- */

typedef struct rng {
  uint64_t s;
} rng;

static uint64_t rng_next(rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double rng_unit(rng *r) { return ((double)(rng_next(r) >> 11) + 0.5) / 9007199254740992.0; }

static double rng_normal(rng *r) {
  double u1 = rng_unit(r), u2 = rng_unit(r);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ---- simulation ---- */

typedef struct sim {
  const synth_params *p;
  rng r;
  synth_out *out;
  size_t cap_rows, cap_exc;
  int flow;
  double self_factor[N_FNS], calls_factor[N_FNS], raise_prob[N_FNS];
  const char *raise_type[N_FNS];
  int children[N_NODES][N_NODES];
  int n_children[N_NODES];
  int oom;
} sim;

typedef struct exc {
  const char *type;
  int origin;
  int path[SYNTH_MAX_DEPTH];
  int n_path;
} exc;

static synth_row *row_get(sim *s, int fn, int caller, int line) {
  synth_out *o = s->out;
  for (size_t i = 0; i < o->n_rows; i++)
    if (o->rows[i].flow == s->flow && o->rows[i].fn == fn && o->rows[i].caller == caller &&
        o->rows[i].call_line == line)
      return &o->rows[i];
  if (o->n_rows == s->cap_rows) {
    size_t nc = s->cap_rows ? s->cap_rows * 2 : 64;
    synth_row *nr = realloc(o->rows, nc * sizeof *nr);
    if (!nr) return NULL;
    o->rows = nr;
    s->cap_rows = nc;
  }
  synth_row *r = &o->rows[o->n_rows++];
  memset(r, 0, sizeof *r);
  r->flow = s->flow;
  r->fn = fn;
  r->caller = caller;
  r->call_line = line;
  return r;
}

static void exc_record(sim *s, const exc *e, int caught) {
  synth_out *o = s->out;
  for (size_t i = 0; i < o->n_exc_rows; i++) {
    synth_exc_row *x = &o->exc_rows[i];
    if (x->flow == s->flow && x->origin == e->origin && x->caught == caught && strcmp(x->type, e->type) == 0 &&
        x->n_path == e->n_path && memcmp(x->path, e->path, (size_t)e->n_path * sizeof(int)) == 0) {
      x->count++;
      return;
    }
  }
  if (o->n_exc_rows == s->cap_exc) {
    size_t nc = s->cap_exc ? s->cap_exc * 2 : 16;
    synth_exc_row *nr = realloc(o->exc_rows, nc * sizeof *nr);
    if (!nr) {
      s->oom = 1;
      return;
    }
    o->exc_rows = nr;
    s->cap_exc = nc;
  }
  synth_exc_row *x = &o->exc_rows[o->n_exc_rows++];
  memset(x, 0, sizeof *x);
  x->flow = s->flow;
  x->origin = e->origin;
  x->caught = caught;
  x->type = e->type;
  x->n_path = e->n_path;
  memcpy(x->path, e->path, (size_t)e->n_path * sizeof(int));
  x->count = 1;
}

/* Runs one call of node N; returns its duration and sets *E when an exception escapes it. */
static double sim_call(sim *s, int n, exc *e, int *raised) {
  const node *nd = &g_nodes[n];
  int fn = nd->fn;
  double self = nd->median_ns * s->self_factor[fn] * s->p->drift * exp(nd->sigma * rng_normal(&s->r));
  double total = self;
  *raised = 0;
  for (int k = 0; k < s->n_children[n] && !*raised; k++) {
    int c = s->children[n][k];
    double mean = g_nodes[c].calls * s->calls_factor[g_nodes[c].fn];
    int times = (int)mean + (rng_unit(&s->r) < mean - floor(mean) ? 1 : 0);
    for (int t = 0; t < times && !*raised; t++) {
      exc ce;
      int craised;
      total += sim_call(s, c, &ce, &craised);
      if (!craised) continue;
      if (nd->catches && strcmp(nd->catches, ce.type) == 0) {
        exc_record(s, &ce, fn);
      } else {
        *e = ce;
        if (e->n_path < SYNTH_MAX_DEPTH) e->path[e->n_path++] = fn;
        *raised = 1;
      }
    }
  }
  if (!*raised && rng_unit(&s->r) < s->raise_prob[fn]) {
    e->type = s->raise_type[fn] ? s->raise_type[fn] : nd->raise_type ? nd->raise_type : "RuntimeError";
    e->origin = fn;
    e->n_path = 0;
    *raised = 1;
  }
  synth_row *r = row_get(s, fn, nd->parent < 0 ? -1 : g_nodes[nd->parent].fn, nd->line);
  if (!r) {
    s->oom = 1;
    return total;
  }
  r->st.count++;
  /* Durations are whole nanoseconds, as the sensor measures them. */
  total = floor(total);
  self = floor(self);
  if (rng_unit(&s->r) < s->p->sample_rate) {
    r->st.sampled_count++;
    r->st.sum_ns += total;
    r->st.sumsq_ns += total * total;
    r->st.self_sum_ns += self;
    r->sum_int_ns += total;
    r->self_int_ns += self;
    if (s->p->sketches) {
      if (!r->sketch && !(r->sketch = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA))) s->oom = 1;
      if (r->sketch) hud_sketch_add(r->sketch, total);
    }
  }
  if (*raised) {
    r->st.errors++;
    int k = 0;
    while (k < r->n_exc_types && strcmp(r->exc_types[k], e->type) != 0) k++;
    if (k == r->n_exc_types && k < SYNTH_MAX_EXC_TYPES) r->exc_types[r->n_exc_types++] = e->type;
    if (k < SYNTH_MAX_EXC_TYPES) r->exc_counts[k]++;
  }
  return total;
}

static int build_views(synth_out *o, const char *label) {
  const synth_fn *fns = synth_fns();
  o->calls = calloc(o->n_rows ? o->n_rows : 1, sizeof *o->calls);
  o->flows = calloc(N_FLOWS, sizeof *o->flows);
  o->excs = calloc(o->n_exc_rows ? o->n_exc_rows : 1, sizeof *o->excs);
  o->through = calloc(o->n_exc_rows * SYNTH_MAX_DEPTH + 1, sizeof *o->through);
  if (!o->calls || !o->flows || !o->excs || !o->through) return HUD_ENOMEM;
  for (size_t i = 0; i < o->n_rows; i++) {
    const synth_row *r = &o->rows[i];
    o->calls[i].flow_id = g_flows[r->flow].name;
    o->calls[i].function_id = fns[r->fn].id;
    o->calls[i].caller_id = r->caller < 0 ? NULL : fns[r->caller].id;
    o->calls[i].st = r->st;
  }
  for (int f = 0; f < N_FLOWS; f++) {
    o->flows[f].flow_id = g_flows[f].name;
    o->flows[f].root_function_id = fns[synth_flow_root(f)].id;
    o->flows[f].st = o->flow_st[f];
  }
  for (size_t i = 0; i < o->n_exc_rows; i++) {
    const synth_exc_row *x = &o->exc_rows[i];
    const char **th = &o->through[i * SYNTH_MAX_DEPTH];
    for (int k = 0; k < x->n_path; k++) th[k] = fns[x->path[k]].id;
    o->excs[i].flow_id = g_flows[x->flow].name;
    o->excs[i].type = x->type;
    o->excs[i].origin_id = fns[x->origin].id;
    o->excs[i].through = th;
    o->excs[i].n_through = (size_t)x->n_path;
    o->excs[i].caught_in = x->caught < 0 ? NULL : fns[x->caught].id;
    o->excs[i].count = x->count;
  }
  o->snap.label = label;
  o->snap.calls = o->calls;
  o->snap.n_calls = o->n_rows;
  o->snap.flows = o->flows;
  o->snap.n_flows = N_FLOWS;
  o->snap.excs = o->excs;
  o->snap.n_excs = o->n_exc_rows;
  return 0;
}

int synth_run(const synth_params *p, const char *label, synth_out *out) {
  memset(out, 0, sizeof *out);
  sim *s = calloc(1, sizeof *s);
  if (!s) return HUD_ENOMEM;
  s->p = p;
  s->r.s = p->seed * 0x2545F4914F6CDD1Dull + 1;
  s->out = out;
  for (int i = 0; i < N_FNS; i++) {
    s->self_factor[i] = 1;
    s->calls_factor[i] = 1;
    s->raise_prob[i] = 0;
  }
  for (int n = 0; n < N_NODES; n++)
    if (g_nodes[n].raise_prob > 0) s->raise_prob[g_nodes[n].fn] = g_nodes[n].raise_prob;
  for (size_t i = 0; i < p->n_changes; i++) {
    int f = synth_fn_index(p->changes[i].qualname);
    if (f < 0) continue;
    if (p->changes[i].self_factor > 0) s->self_factor[f] = p->changes[i].self_factor;
    if (p->changes[i].calls_factor > 0) s->calls_factor[f] = p->changes[i].calls_factor;
    if (p->changes[i].raise_prob >= 0) s->raise_prob[f] = p->changes[i].raise_prob;
    if (p->changes[i].raise_type) s->raise_type[f] = p->changes[i].raise_type;
  }
  if (p->fn_drift_sigma > 0) {
    rng d = {p->drift_seed * 0x9E3779B97F4A7C15ull + 7};
    for (int i = 0; i < N_FNS; i++) s->self_factor[i] *= exp(p->fn_drift_sigma * rng_normal(&d));
  }
  for (int n = 0; n < N_NODES; n++)
    if (g_nodes[n].parent >= 0) s->children[g_nodes[n].parent][s->n_children[g_nodes[n].parent]++] = n;
  for (int f = 0; f < N_FLOWS && !s->oom; f++) {
    s->flow = f;
    for (size_t i = 0; i < p->invocations && !s->oom; i++) {
      exc e;
      int raised;
      double d = sim_call(s, g_flows[f].root_node, &e, &raised);
      srv_det_stats *fs = &out->flow_st[f];
      fs->count++;
      fs->sampled_count++;
      fs->sum_ns += d;
      fs->sumsq_ns += d * d;
      out->flow_sum_int_ns[f] += d;
      if (p->sketches) {
        if (!out->flow_sketch[f] && !(out->flow_sketch[f] = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA))) s->oom = 1;
        if (out->flow_sketch[f]) hud_sketch_add(out->flow_sketch[f], d);
      }
      if (raised) {
        fs->errors++;
        exc_record(s, &e, -1);
      }
      out->flow_status[f][raised ? 1 : 0]++;
    }
  }
  int rc = s->oom ? HUD_ENOMEM : build_views(out, label);
  free(s);
  if (rc < 0) synth_out_free(out);
  return rc;
}

void synth_out_free(synth_out *out) {
  for (size_t i = 0; i < out->n_rows; i++) hud_sketch_free(out->rows[i].sketch);
  for (int f = 0; f < 8; f++) hud_sketch_free(out->flow_sketch[f]);
  free(out->rows);
  free(out->exc_rows);
  free(out->calls);
  free(out->flows);
  free(out->excs);
  free(out->through);
  memset(out, 0, sizeof *out);
}
