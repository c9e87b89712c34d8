/* The core's tables: clock, memory accounting, functions, per-period edges, exceptions,
 * exception paths and flows, and the sampling quota. Written by the runtime's application
 * thread (core.h); nothing here allocates on the path of an untimed call to a known edge. */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "hud/identity.h"

sns_fn *sns_fn_pages[SNS_FN_PAGES];
uint32_t sns_nfns;
sns_period *sns_cur;
sns_flowdef *sns_flowdefs;
uint32_t sns_nflows;
bool sns_flows_used;
static uint32_t flowdefs_cap;
int64_t sns_mem_bytes;
double sns_cal_call_ns = 25.0, sns_cal_sample_ns = 60.0;
uint32_t sns_quota = 2000; /* timed calls per function per second (adapted) */

/* ---- clock ---- */
bool sns_use_tsc;
double sns_ns_per_tick_v = 1.0;
uint64_t sns_ticks_per_sec = 1000000000ull;
static uint64_t cal_t0, cal_ns0;

hud_time_ns sns_wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (hud_time_ns)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* rdtsc only with an invariant TSC; calibrated against CLOCK_MONOTONIC, refined by every
 * snapshot over the whole time since start-up so that long sleeps are measured exactly. */
static void clock_init(void) {
#if defined(__x86_64__)
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (f) {
    char line[4096];
    bool c = false, n = false;
    while (fgets(line, sizeof line, f)) {
      if (strncmp(line, "flags", 5) == 0) {
        c = strstr(line, " constant_tsc") != NULL;
        n = strstr(line, " nonstop_tsc") != NULL;
        break;
      }
    }
    fclose(f);
    sns_use_tsc = c && n && !getenv("HUD_NO_TSC");
  }
#endif
  if (!sns_use_tsc) {
    sns_ns_per_tick_v = 1.0;
    sns_ticks_per_sec = 1000000000ull;
    return;
  }
  cal_t0 = sns_ticks();
  cal_ns0 = sns_mono_ns();
  uint64_t end = cal_ns0 + 5000000; /* 5 ms */
  while (sns_mono_ns() < end) {
  }
  uint64_t t1 = sns_ticks(), n1 = sns_mono_ns();
  sns_ns_per_tick_v = (double)(n1 - cal_ns0) / (double)(t1 - cal_t0);
  sns_ticks_per_sec = (uint64_t)(1e9 / sns_ns_per_tick_v);
}

void sns_clock_refine(void) {
  if (!sns_use_tsc) return;
  uint64_t t1 = sns_ticks(), n1 = sns_mono_ns();
  if (n1 - cal_ns0 > 100000000ull && t1 > cal_t0) {
    sns_ns_per_tick_v = (double)(n1 - cal_ns0) / (double)(t1 - cal_t0);
    sns_ticks_per_sec = (uint64_t)(1e9 / sns_ns_per_tick_v);
  }
}

/* ---- memory ---- */
void *sns_calloc(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (p) sns_mem_bytes += (int64_t)(n * size);
  return p;
}
void sns_free(void *p, size_t size) {
  if (!p) return;
  free(p);
  sns_mem_bytes -= (int64_t)size;
}

char *sns_dupstr(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) {
    memcpy(d, s, n);
    sns_mem_bytes += (int64_t)n;
  }
  return d;
}

/* Names are interned by content: distinct classes may share a name (a class defined in a
 * function, one per call), and the wire keys exceptions by name. */
#define NAMES 2048
static char *names[NAMES];

char *sns_intern(char *name) {
  uint32_t h = 2166136261u;
  for (const char *c = name; *c; c++) h = (h ^ (unsigned char)*c) * 16777619u;
  for (uint32_t k = 0; k < NAMES; k++) {
    uint32_t j = (h + k) % NAMES;
    if (!names[j]) {
      names[j] = name;
      return name;
    }
    if (strcmp(names[j], name) == 0) {
      sns_mem_bytes -= (int64_t)strlen(name) + 1;
      free(name);
      return names[j];
    }
  }
  return name; /* table full: still a valid (if not shared) name */
}

/* Duration sketches, counted at a rough size (a warm window) from creation to release. */
#define SKETCH_BYTES 1024
static hud_sketch *sketch_new(void) {
  hud_sketch *sk = hud_sketch_new(SNS_SKETCH_ALPHA);
  if (sk) sns_mem_bytes += SKETCH_BYTES;
  return sk;
}
static void sketch_free(hud_sketch *sk) {
  if (!sk) return;
  hud_sketch_free(sk);
  sns_mem_bytes -= SKETCH_BYTES;
}

/* ---- functions ---- */
int sns_fn_declare(const char *file, const char *module_path, const char *qualname, const char *src, size_t len,
                   int32_t start, int32_t end, bool is_async, bool is_generator, const char *hash, uint32_t *idx) {
  if ((uint64_t)sns_nfns + 1 > (uint64_t)SNS_FN_PAGE * SNS_FN_PAGES) return HUD_ETOOBIG;
  uint32_t i = sns_nfns;
  if (!sns_fn_pages[i / SNS_FN_PAGE]) {
    sns_fn_pages[i / SNS_FN_PAGE] = sns_calloc(SNS_FN_PAGE, sizeof(sns_fn));
    if (!sns_fn_pages[i / SNS_FN_PAGE]) return HUD_ENOMEM;
  }
  sns_fn *fn = sns_fn_at(i);
  memset(fn, 0, sizeof *fn);
  fn->interval = 1;
  fn->countdown = 1;
  fn->qualname = sns_dupstr(qualname);
  if (!fn->qualname) return HUD_ENOMEM;
  fn->file = file;
  fn->module_path = module_path;
  fn->start_line = start;
  fn->end_line = end;
  fn->is_async = is_async;
  fn->is_generator = is_generator;
  hud_function_id(module_path, qualname, fn->function_id);
  if (hash && strlen(hash) == HUD_SHA1_HEXLEN)
    memcpy(fn->source_hash, hash, HUD_SHA1_HEXLEN + 1);
  else if (!src || hud_source_hash(src, len, start, end, fn->source_hash) != 0)
    hud_sha1_hex("", 0, fn->source_hash);
  sns_nfns = i + 1;
  *idx = i;
  return 0;
}

/* ---- period tables ---- */
#define EDGE_MAX (1u << 20)
#define EXC_MAX (1u << 16)
#define XF_MAX (1u << 14)

sns_period *sns_period_new(void) {
  sns_period *p = sns_calloc(1, sizeof *p);
  if (!p) return NULL;
  p->ecap = 1024;
  p->edges = sns_calloc(p->ecap, sizeof *p->edges);
  p->xcap = 64;
  p->excs = sns_calloc(p->xcap, sizeof *p->excs);
  p->fcap = 64;
  p->xflows = sns_calloc(p->fcap, sizeof *p->xflows);
  if (!p->edges || !p->excs || !p->xflows) return NULL;
  for (uint32_t i = 0; i < p->ecap; i++) p->edges[i].fn = SNS_NONE;
  for (uint32_t i = 0; i < p->xcap; i++) p->excs[i].fn = SNS_NONE;
  p->start_wall = sns_wall_ns();
  p->start_ticks = sns_ticks();
  return p;
}

void sns_period_clear(sns_period *p) {
  for (uint32_t i = 0; i < p->ecap; i++) {
    sketch_free(p->edges[i].sketch);
  }
  /* Shrink tables that grew for a burst, so that memory follows the current load. */
  if (p->ecap > 4 * (p->en + 256) && p->ecap > 1024) {
    sns_free(p->edges, p->ecap * sizeof *p->edges);
    p->ecap = 1024;
    while (p->ecap < 2 * p->en) p->ecap *= 2;
    p->edges = sns_calloc(p->ecap, sizeof *p->edges);
  } else {
    memset(p->edges, 0, p->ecap * sizeof *p->edges);
  }
  for (uint32_t i = 0; i < p->ecap; i++) p->edges[i].fn = SNS_NONE;
  memset(p->excs, 0, p->xcap * sizeof *p->excs);
  for (uint32_t i = 0; i < p->xcap; i++) p->excs[i].fn = SNS_NONE;
  for (uint32_t i = 0; i < p->fcap; i++)
    if (p->xflows[i].hash) sns_free(p->xflows[i].path, p->xflows[i].n * sizeof *p->xflows[i].path);
  memset(p->xflows, 0, p->fcap * sizeof *p->xflows);
  for (uint32_t i = 0; i < p->flows_cap; i++) {
    sketch_free(p->flows[i].sketch);
  }
  if (p->flows) memset(p->flows, 0, p->flows_cap * sizeof *p->flows);
  p->en = p->xn = p->fn = 0;
  p->calls = p->samples = 0;
  p->extra_ns = 0;
  p->dropped_invocations = p->dropped_xflows = p->cut_xflows = 0;
}

static bool edge_grow(sns_period *p) {
  if (p->ecap >= EDGE_MAX) return false;
  uint32_t ncap = p->ecap * 2;
  sns_edge *ne = sns_calloc(ncap, sizeof *ne);
  if (!ne) return false;
  for (uint32_t i = 0; i < ncap; i++) ne[i].fn = SNS_NONE;
  for (uint32_t i = 0; i < p->ecap; i++) {
    sns_edge *e = &p->edges[i];
    if (e->fn == SNS_NONE) continue;
    uint32_t h = sns_mix4(e->fn, e->caller, e->off, e->flow) & (ncap - 1);
    while (ne[h].fn != SNS_NONE) h = (h + 1) & (ncap - 1);
    ne[h] = *e;
  }
  sns_free(p->edges, p->ecap * sizeof *p->edges);
  p->edges = ne;
  p->ecap = ncap;
  return true;
}

sns_edge *sns_edge_find(const sns_period *p, uint32_t fn, uint32_t caller, uint32_t off, uint32_t flow) {
  uint32_t mask = p->ecap - 1, h = sns_mix4(fn, caller, off, flow) & mask;
  for (;;) {
    sns_edge *e = &p->edges[h];
    if (e->fn == SNS_NONE) return NULL;
    if (e->fn == fn && e->caller == caller && e->off == off && e->flow == flow) return e;
    h = (h + 1) & mask;
  }
}

/* Insertion (and growth): the cold half of sns_edge_get, out of line so that the lookup
 * inlined into the hooks stays small. */
__attribute__((noinline)) sns_edge *sns_edge_insert(sns_period *p, uint32_t fn, uint32_t caller, uint32_t off,
                                                    uint32_t flow) {
  if (2 * (p->en + 1) > p->ecap && !edge_grow(p)) return NULL; /* bounded: the caller counts the drop */
  uint32_t mask = p->ecap - 1, h = sns_mix4(fn, caller, off, flow) & mask;
  while (p->edges[h].fn != SNS_NONE) h = (h + 1) & mask;
  sns_edge *e = &p->edges[h];
  e->fn = fn;
  e->caller = caller;
  e->off = off;
  e->flow = flow;
  p->en++;
  return e;
}

sns_exc *sns_exc_get(sns_period *p, uint32_t fn, uint32_t caller, uint32_t off, uint32_t flow, const char *type) {
  for (;;) {
    uint32_t mask = p->xcap - 1;
    uint32_t h = (sns_mix4(fn, caller, off, flow) ^ (uint32_t)((uintptr_t)type >> 4)) & mask;
    for (;;) {
      sns_exc *x = &p->excs[h];
      if (x->fn == SNS_NONE) break;
      if (x->fn == fn && x->caller == caller && x->off == off && x->flow == flow && x->type == type) return x;
      h = (h + 1) & mask;
    }
    if (2 * (p->xn + 1) <= p->xcap) {
      sns_exc *x = &p->excs[h];
      x->fn = fn, x->caller = caller, x->off = off, x->flow = flow, x->type = type;
      p->xn++;
      return x;
    }
    if (p->xcap >= EXC_MAX) return NULL;
    uint32_t ncap = p->xcap * 2;
    sns_exc *nx = sns_calloc(ncap, sizeof *nx);
    if (!nx) return NULL;
    for (uint32_t i = 0; i < ncap; i++) nx[i].fn = SNS_NONE;
    for (uint32_t i = 0; i < p->xcap; i++) {
      sns_exc *o = &p->excs[i];
      if (o->fn == SNS_NONE) continue;
      uint32_t k = (sns_mix4(o->fn, o->caller, o->off, o->flow) ^ (uint32_t)((uintptr_t)o->type >> 4)) & (ncap - 1);
      while (nx[k].fn != SNS_NONE) k = (k + 1) & (ncap - 1);
      nx[k] = *o;
    }
    sns_free(p->excs, p->xcap * sizeof *p->excs);
    p->excs = nx;
    p->xcap = ncap;
  }
}

/* ---- timed calls and the quota ---- */
void sns_record_timed(sns_period *p, uint32_t fn, uint32_t caller, uint32_t off, uint32_t flow, int64_t d,
                      int64_t self_ns) {
  sns_edge *e = sns_edge_get(p, fn, caller, off, flow);
  if (!e) return;
  e->sampled++;
  e->sum_ns += d;
  e->sumsq += (double)d * (double)d;
  e->self_ns += self_ns > 0 ? self_ns : 0;
  if (!e->sketch) e->sketch = sketch_new();
  if (e->sketch) hud_sketch_add(e->sketch, (double)d);
}

/* Timed calls per function per second so that timing stays within the CPU budget, shared by
 * the edges that were called in P; counting itself is not sampled. */
static uint32_t quota_for(const sns_period *p, double budget) {
  uint32_t active = 0;
  for (uint32_t i = 0; i < p->ecap; i++)
    if (p->edges[i].fn != SNS_NONE) active++;
  double per_sec = budget * 1e9 / (sns_cal_sample_ns > 1 ? sns_cal_sample_ns : 1);
  double q = per_sec / (active ? active : 1);
  if (q < 20) q = 20;
  if (q > 100000) q = 100000;
  return (uint32_t)q;
}

void sns_adapt_sampling(const sns_period *retired, double budget) {
  __atomic_store_n(&sns_quota, quota_for(retired, budget), __ATOMIC_RELAXED);
}

void sns_adapt_sampling_early(const sns_period *cur, double budget) {
  /* Lower only: a partial period knows of fewer edges than the whole one will, so it can
   * show that the quota is too high, never that it is too low. */
  uint32_t q = quota_for(cur, budget);
  if (q < __atomic_load_n(&sns_quota, __ATOMIC_RELAXED)) __atomic_store_n(&sns_quota, q, __ATOMIC_RELAXED);
}

/* ---- exception paths in flight, one per runtime thread ---- */
#define XTHREADS 64
static sns_xrec xrecs[XTHREADS];

/* Adds R's path to P; the record's hash, or 0 when it was dropped. */
static uint64_t xflow_add(sns_period *p, const sns_xrec *r) {
  uint64_t h = 1469598103934665603ull;
#define H(v) (h = (h ^ (uint64_t)(v)) * 1099511628211ull)
  H((uintptr_t)r->type);
  H(r->flow);
  H(r->expected);
  H((uint32_t)r->origin_line);
  for (uint32_t i = 0; i < r->n; i++) H(r->path[i]);
#undef H
  if (!h) h = 1;
  if (r->cut) p->cut_xflows++;
  for (;;) {
    uint32_t mask = p->fcap - 1, k = (uint32_t)h & mask;
    for (;;) {
      sns_xflow *x = &p->xflows[k];
      if (!x->hash) break;
      if (x->hash == h && x->type == r->type && x->flow == r->flow && x->catcher == r->expected &&
          x->origin_line == r->origin_line && x->n == r->n &&
          memcmp(x->path, r->path, r->n * sizeof r->path[0]) == 0) {
        x->count++;
        return h;
      }
      k = (k + 1) & mask;
    }
    if (2 * (p->fn + 1) <= p->fcap) {
      sns_xflow *x = &p->xflows[k];
      x->path = sns_calloc(r->n, sizeof *x->path);
      if (!x->path) {
        p->dropped_xflows++;
        return 0;
      }
      x->hash = h;
      x->type = r->type;
      x->flow = r->flow;
      x->catcher = r->expected;
      x->origin_line = r->origin_line;
      x->n = r->n;
      memcpy(x->path, r->path, r->n * sizeof r->path[0]);
      x->count = 1;
      p->fn++;
      return h;
    }
    if (p->fcap >= XF_MAX) {
      p->dropped_xflows++;
      return 0;
    }
    uint32_t ncap = p->fcap * 2;
    sns_xflow *nx = sns_calloc(ncap, sizeof *nx);
    if (!nx) {
      p->dropped_xflows++;
      return 0;
    }
    for (uint32_t i = 0; i < p->fcap; i++) {
      if (!p->xflows[i].hash) continue;
      uint32_t j = (uint32_t)p->xflows[i].hash & (ncap - 1);
      while (nx[j].hash) j = (j + 1) & (ncap - 1);
      nx[j] = p->xflows[i];
    }
    sns_free(p->xflows, p->fcap * sizeof *p->xflows);
    p->xflows = nx;
    p->fcap = ncap;
  }
}

/* The paths closed last in the current period, by (thread, exception) and record hash: a
 * Node rejection is reported unhandled after its path was closed (caught in the caller) when
 * another exception escaped in between, e.g. several rejections in one turn of the event loop
 * (sns_xpath_escaped). Cleared at each snapshot. */
#define XRECENT 64
static struct {
  const void *thread, *exc;
  uint64_t hash;
} xrecent[XRECENT];
static uint32_t xrecent_next;

static void xrec_close(sns_xrec *r) {
  if (r->thread && r->n) {
    uint64_t h = xflow_add(sns_cur, r);
    xrecent[xrecent_next].thread = r->thread;
    xrecent[xrecent_next].exc = r->exc;
    xrecent[xrecent_next].hash = h;
    xrecent_next = (xrecent_next + 1) % XRECENT;
  }
  r->thread = NULL;
  r->n = 0;
  r->cut = false;
  r->exc = NULL;
}

void sns_xpaths_close(void) {
  for (int k = 0; k < XTHREADS; k++) xrec_close(&xrecs[k]);
  memset(xrecent, 0, sizeof xrecent); /* those paths go with the retired period */
}

void sns_xpaths_forget(void) {
  memset(xrecs, 0, sizeof xrecs);
  memset(xrecent, 0, sizeof xrecent);
}

static sns_xrec *xrec_of(const void *thread) {
  return &xrecs[(uint32_t)(((uintptr_t)thread >> 4) * 2654435761u) % XTHREADS];
}

/* Moves one count of the current period's record HASH (a path closed with a catcher) to the
 * same path escaped. */
static bool xflow_escape(uint64_t hash) {
  sns_period *p = sns_cur;
  uint32_t mask = p->fcap - 1;
  sns_xflow *x = NULL;
  for (uint32_t k = (uint32_t)hash & mask; p->xflows[k].hash; k = (k + 1) & mask)
    if (p->xflows[k].hash == hash) {
      x = &p->xflows[k];
      break;
    }
  if (!x || x->count < 1) return false;
  if (x->catcher == SNS_NONE) return true;
  static sns_xrec t; /* under the runtime's lock; too large for the stack */
  t.thread = NULL;
  t.type = x->type;
  t.flow = x->flow;
  t.expected = SNS_NONE;
  t.origin_line = x->origin_line;
  t.cut = false; /* counted when it closed */
  t.n = x->n;
  memcpy(t.path, x->path, x->n * sizeof *x->path);
  x->count--; /* a record left at 0 is not sent */
  xflow_add(p, &t);
  return true;
}

bool sns_xpath_escaped(const void *thread, const void *exc) {
  sns_xrec *r = xrec_of(thread);
  if (r->thread == thread && r->exc == exc && r->n) {
    r->expected = SNS_NONE;
    xrec_close(r);
    return true;
  }
  for (uint32_t k = 0; k < XRECENT; k++) {
    uint32_t i = (xrecent_next + XRECENT - 1 - k) % XRECENT; /* newest first */
    if (xrecent[i].thread != thread || xrecent[i].exc != exc || !xrecent[i].hash) continue;
    bool done = xflow_escape(xrecent[i].hash);
    xrecent[i].hash = 0;
    return done;
  }
  return false;
}

/* Object identity alone is not enough to continue a path: a freed exception's address is soon
 * reused by the next one, hence the expected function. */
sns_xrec *sns_xpath_escape(const void *thread, const void *exc, const char *type, uint32_t flow, uint32_t fn,
                           uint32_t caller) {
  sns_xrec *r = xrec_of(thread);
  if (r->thread == thread && r->exc == exc && r->expected == fn) {
    if (r->n < SNS_XF_MAX_PATH)
      r->path[r->n++] = fn;
    else
      r->cut = true;
    r->expected = caller;
    return NULL;
  }
  xrec_close(r);
  r->thread = thread;
  r->exc = exc;
  r->type = type;
  r->flow = flow;
  r->expected = caller;
  r->origin_line = 0;
  r->n = 1;
  r->path[0] = fn;
  return r;
}

/* ---- flows ---- */
static bool same(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

int sns_flow_register(hud_flow_kind kind, const char *method, const char *route, const char *task,
                      const char *queue, uint32_t *idx) {
  char up[32];
  if (method) {
    size_t k = 0;
    for (; method[k] && k < sizeof up - 1; k++)
      up[k] = (char)(method[k] >= 'a' && method[k] <= 'z' ? method[k] - 32 : method[k]);
    up[k] = 0;
    method = up;
  }
  /* Linear search is fine: flows are few and the runtime caches the index. */
  for (uint32_t i = 1; i <= sns_nflows; i++) {
    sns_flowdef *d = &sns_flowdefs[i];
    if (d->kind == kind && same(method, d->method) && same(route, d->route) && same(task, d->task)) {
      *idx = i;
      return 0;
    }
  }
  if (sns_nflows >= 100000) return HUD_ETOOBIG;
  if (sns_nflows + 1 >= flowdefs_cap) {
    uint32_t ncap = flowdefs_cap ? flowdefs_cap * 2 : 64;
    sns_flowdef *nd = sns_calloc(ncap, sizeof *nd);
    if (!nd) return HUD_ENOMEM;
    /* The old array may be read by the sender right now: retire it without freeing. */
    if (sns_flowdefs) memcpy(nd, sns_flowdefs, flowdefs_cap * sizeof *nd);
    sns_flowdefs = nd;
    flowdefs_cap = ncap;
  }
  sns_flowdef *d = &sns_flowdefs[sns_nflows + 1];
  d->kind = kind;
  d->method = method ? sns_dupstr(method) : NULL;
  d->route = route ? sns_dupstr(route) : NULL;
  d->task = task ? sns_dupstr(task) : NULL;
  d->queue = queue ? sns_dupstr(queue) : NULL;
  int rc = kind == HUD_FLOW_ENDPOINT ? hud_flow_id_endpoint(method, route, d->flow_id)
                                     : hud_flow_id_queue(task, d->flow_id);
  if (rc != 0) return HUD_EINVAL;
  sns_nflows++;
  sns_flows_used = true;
  *idx = sns_nflows;
  return 0;
}

static sns_flow_stat *flow_stat(sns_period *p, uint32_t flow) {
  if (flow >= p->flows_cap) {
    uint32_t ncap = p->flows_cap ? p->flows_cap : 16;
    while (ncap <= flow) ncap *= 2;
    sns_flow_stat *nf = sns_calloc(ncap, sizeof *nf);
    if (!nf) return NULL;
    if (p->flows) {
      memcpy(nf, p->flows, p->flows_cap * sizeof *nf);
      sns_free(p->flows, p->flows_cap * sizeof *nf);
    }
    p->flows = nf;
    p->flows_cap = ncap;
  }
  return &p->flows[flow];
}

void sns_flow_add(uint32_t idx, int status, int64_t dur, const char *tn) {
  sns_flow_add_in(sns_cur, idx, status, dur, tn);
}

void sns_flow_add_in(sns_period *p, uint32_t idx, int status, int64_t dur, const char *tn) {
  if (idx == 0 || idx > sns_nflows) return;
  sns_flow_stat *fs = flow_stat(p, idx);
  if (!fs) return;
  fs->count++;
  if (dur < 0) dur = 0;
  fs->sum_ns += dur;
  fs->sumsq += (double)dur * (double)dur;
  if (!fs->sketch) fs->sketch = sketch_new();
  if (fs->sketch) hud_sketch_add(fs->sketch, (double)dur);
  bool err = tn != NULL || status >= 500;
  if (err) fs->errors++;
  if (status >= 100 && status <= 599) {
    for (int k = 0; k < SNS_FLOW_MAX_STATUS; k++) {
      if (fs->status[k] == status || fs->status[k] == 0) {
        fs->status[k] = status;
        fs->status_count[k]++;
        break;
      }
    }
  }
  if (tn) {
    for (int k = 0; k < SNS_FLOW_MAX_EXC; k++) {
      if (fs->exc[k] == tn || !fs->exc[k]) {
        fs->exc[k] = tn;
        fs->exc_count[k]++;
        break;
      }
    }
  }
}

/* ---- set-up ---- */
/* Cost of the core's part of the hooks, measured once on a private function record. */
static void calibrate(double call_ns, double sample_ns) {
  sns_period *p = sns_cur;
  enum { N = 20000 };
  uint64_t t0 = sns_ticks();
  for (int k = 0; k < N; k++) {
    sns_edge *e = sns_edge_get(p, SNS_NONE - 1, SNS_NONE, (uint32_t)k & 1, 0);
    if (e) e->count++;
  }
  uint64_t t1 = sns_ticks();
  for (int k = 0; k < N; k++) {
    uint64_t a = sns_ticks();
    uint64_t b = sns_ticks();
    (void)a, (void)b;
  }
  uint64_t t2 = sns_ticks();
  sns_cal_call_ns = (double)(t1 - t0) * sns_ns_per_tick_v / N + call_ns;
  sns_cal_sample_ns = (double)(t2 - t1) * sns_ns_per_tick_v / N + sample_ns;
  sns_period_clear(p);
}

int sns_core_init(double call_ns, double sample_ns) {
  if (sns_cur) return 0;
  clock_init();
  sns_cur = sns_period_new();
  if (!sns_cur) return HUD_ENOMEM;
  calibrate(call_ns, sample_ns);
  return 0;
}
