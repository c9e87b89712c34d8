/* The Node sensor's runtime over the shared core (sensor/core): the bodies of `__hud`.
 *
 *   enter(n) -> h         counts the call of function n on its edge (caller = the instrumented
 *                         function running now: the top of a shadow stack) and times it when the
 *                         core's sampling says so; h names the call's frame record.
 *   exit(h)               the call returns or throws: ends its timing, pops it.
 *   fail(h, err)          err escapes the call: counted per type (err.constructor.name).
 *   s(h, x) -> x          the call suspends at await/yield x: pops it (rewrite.c).
 *   r(h, v) -> v          the call resumed: pushes it again, so its callees see it as caller.
 *   table(ids, names, file, module_path, meta, hashes) -> base   declares a module's functions.
 *   start(cfg), flush(s), shutdown(s), counts(), stats()
 *
 * Only the main thread's environment records (lib/runtime.js installs no-ops in workers). The
 * hooks hold `mu` while they touch the core, the sender takes it for its snapshot (the role of
 * the GIL in CPython); uncontended, it is two atomic operations per hook. Call sites are not
 * resolved: an edge's caller is known, its line is 0. */
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "hud/err.h"
#include "hud/version.h"
#include "runtime.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- frames: one record per running (or suspended) call, and the shadow stack ---- */
typedef struct frame {
  uint64_t t0;
  int64_t child_ns;
  uint32_t fn, caller;
  uint32_t parent, parent_gen; /* the own-timed frame that was on top at entry (self time) */
  uint32_t gen, period;
  uint8_t timed;               /* 0, OWN (sampled), or FOR_PARENT (its parent's self time) */
  bool live;
} frame;
enum { OWN = 1, FOR_PARENT = 2 };

#define FRAMES_MAX (1u << 20) /* suspended calls that never finish (dropped generators) stay */
#define STACK_MAX (1u << 16)
static frame *frames;
static uint32_t nframes, frames_cap;
static uint32_t *free_frames;
static uint32_t nfree;
static uint32_t stack[STACK_MAX];
static uint32_t depth;
static uint32_t period_gen;
static int64_t frames_dropped;
/* Per function, for the process: calls and escapes (counts(), for tests and introspection). */
static int64_t *totals;
static size_t totals_cap;

static uint32_t frame_new(void) {
  if (nfree) return free_frames[--nfree];
  if (nframes + 1 >= frames_cap) {
    uint32_t ncap = frames_cap ? frames_cap * 2 : 4096;
    if (ncap > FRAMES_MAX) return 0;
    frame *nf = realloc(frames, ncap * sizeof *nf);
    uint32_t *nl = realloc(free_frames, ncap * sizeof *nl);
    if (nf) frames = nf;
    if (nl) free_frames = nl;
    if (!nf || !nl) return 0;
    memset(frames + frames_cap, 0, (ncap - frames_cap) * sizeof *frames);
    sns_mem_bytes += (int64_t)(ncap - frames_cap) * (int64_t)(sizeof *nf + sizeof *nl);
    frames_cap = ncap;
    if (nframes == 0) nframes = 1; /* 0 is "no frame" */
  }
  return nframes++;
}

static void frame_free(uint32_t h) {
  frames[h].live = false;
  frames[h].gen++;
  free_frames[nfree++] = h;
}

/* Takes H off the shadow stack (with anything left above it); false when it is not there. */
static bool unstack(uint32_t h) {
  for (uint32_t i = depth, k = 0; i > 0 && k < 64; i--, k++) {
    if (stack[i - 1] == h) {
      depth = i - 1;
      return true;
    }
  }
  return false;
}

static inline uint32_t arg_u32(napi_env env, napi_value v) {
  uint32_t x = SNS_NONE;
  if (napi_get_value_uint32(env, v, &x) != napi_ok) return SNS_NONE;
  return x;
}

static napi_value js_enter(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], ret;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t n = argc ? arg_u32(env, argv[0]) : SNS_NONE, h = 0;
  pthread_mutex_lock(&mu);
  if (n < sns_nfns) {
    uint32_t top = depth ? stack[depth - 1] : 0;
    uint32_t caller = top ? frames[top].fn : SNS_NONE;
    sns_period *p = sns_cur;
    sns_count(p, n, caller, 0, 0);
    totals[2 * n]++;
    h = frame_new();
    if (h) {
      frame *f = &frames[h];
      f->fn = n;
      f->caller = caller;
      f->live = true;
      f->period = period_gen;
      f->child_ns = 0;
      f->parent = top && frames[top].timed == OWN ? top : 0;
      f->parent_gen = f->parent ? frames[top].gen : 0;
      f->timed = sns_sample_due(p, sns_fn_at(n)) ? OWN : f->parent ? FOR_PARENT : 0;
      if (depth < STACK_MAX) stack[depth++] = h;
      if (f->timed) f->t0 = sns_ticks();
    } else {
      frames_dropped++;
    }
  }
  pthread_mutex_unlock(&mu);
  napi_create_uint32(env, h, &ret);
  return ret;
}

static napi_value js_exit(napi_env env, napi_callback_info info) {
  uint64_t t1 = sns_ticks();
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t h = argc ? arg_u32(env, argv[0]) : 0;
  pthread_mutex_lock(&mu);
  if (h && h < nframes && frames[h].live) {
    frame *f = &frames[h];
    unstack(h);
    if (f->timed) {
      int64_t d = (int64_t)((double)(t1 - f->t0) * sns_ns_per_tick());
      if (d < 0) d = 0;
      if (f->parent) {
        frame *pf = &frames[f->parent];
        if (pf->live && pf->gen == f->parent_gen) pf->child_ns += d;
      }
      if (f->timed == OWN) sns_record_timed(sns_cur, f->fn, f->caller, 0, 0, d, d - f->child_ns);
    }
    frame_free(h);
  }
  pthread_mutex_unlock(&mu);
  return NULL;
}

/* ---- exception types: the constructor's name, interned (a rare path) ---- */
static const char *type_name(napi_env env, napi_value err) {
  char buf[256];
  size_t n = 0;
  napi_valuetype t;
  if (napi_typeof(env, err, &t) != napi_ok) return "?";
  napi_value ctor, name;
  if ((t == napi_object || t == napi_function) && napi_get_named_property(env, err, "constructor", &ctor) == napi_ok &&
      napi_get_named_property(env, ctor, "name", &name) == napi_ok &&
      napi_get_value_string_utf8(env, name, buf, sizeof buf, &n) == napi_ok && n > 0) {
  } else {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    static const char *const names[] = {"undefined", "null", "boolean", "number", "string",
                                        "symbol",    "object", "function", "external", "bigint"};
    snprintf(buf, sizeof buf, "%s", (unsigned)t < 10 ? names[t] : "?");
  }
  char *s = sns_dupstr(buf);
  return s ? sns_intern(s) : "?";
}

/* Identity of the last escaped error (for exception paths): a weak reference, compared with
 * strict equality; each new error gets a new number. */
static napi_ref last_err;
static uintptr_t last_err_id;
static int env_marker;

static uintptr_t err_identity(napi_env env, napi_value err) {
  napi_valuetype t;
  if (napi_typeof(env, err, &t) != napi_ok || (t != napi_object && t != napi_function)) return ++last_err_id;
  if (last_err) {
    napi_value prev;
    bool same = false;
    if (napi_get_reference_value(env, last_err, &prev) == napi_ok && prev &&
        napi_strict_equals(env, prev, err, &same) == napi_ok && same)
      return last_err_id;
    napi_delete_reference(env, last_err);
    last_err = NULL;
  }
  napi_create_reference(env, err, 0, &last_err);
  return ++last_err_id;
}

static napi_value js_fail(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) return NULL;
  uint32_t h = arg_u32(env, argv[0]);
  if (!h || h == SNS_NONE) return NULL;
  const char *tn = type_name(env, argv[1]);
  uintptr_t id = err_identity(env, argv[1]);
  pthread_mutex_lock(&mu);
  frame *f = &frames[h];
  if (h >= nframes || !f->live) {
    pthread_mutex_unlock(&mu);
    return NULL;
  }
  /* The edge must exist in this period even if the call began in the previous one. */
  if (!sns_edge_get(sns_cur, f->fn, f->caller, 0, 0)) sns_cur->dropped_invocations++;
  sns_exc *x = sns_exc_get(sns_cur, f->fn, f->caller, 0, 0, tn);
  if (x) x->count++;
  totals[2 * f->fn + 1]++;
  sns_xpath_escape(&env_marker, (const void *)id, tn, 0, f->fn, f->caller);
  pthread_mutex_unlock(&mu);
  return NULL;
}

/* s(h, x): suspension at await/yield. */
static napi_value js_suspend(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {NULL, NULL};
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t h = argc ? arg_u32(env, argv[0]) : 0;
  pthread_mutex_lock(&mu);
  if (h && h < nframes && frames[h].live) unstack(h);
  pthread_mutex_unlock(&mu);
  if (argc < 2) napi_get_undefined(env, &argv[1]);
  return argv[1];
}

/* r(h, v): resumption (after the await/yield, or entering a catch/finally block). */
static napi_value js_resume(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {NULL, NULL};
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t h = argc ? arg_u32(env, argv[0]) : 0;
  pthread_mutex_lock(&mu);
  if (h && h < nframes && frames[h].live && (depth == 0 || stack[depth - 1] != h) && depth < STACK_MAX)
    stack[depth++] = h;
  pthread_mutex_unlock(&mu);
  if (argc < 2) napi_get_undefined(env, &argv[1]);
  return argv[1];
}

/* ---- declarations ---- */
static char *str_at(napi_env env, napi_value arr, uint32_t i, char *buf, size_t cap) {
  napi_value v;
  size_t n;
  if (napi_get_element(env, arr, i, &v) != napi_ok || napi_get_value_string_utf8(env, v, buf, cap, &n) != napi_ok)
    return NULL;
  return buf;
}

static char *arg_dup(napi_env env, napi_value v) {
  size_t n = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) return NULL;
  char *s = malloc(n + 1);
  if (s && napi_get_value_string_utf8(env, v, s, n + 1, &n) != napi_ok) {
    free(s);
    return NULL;
  }
  return s;
}

static bool totals_ensure(size_t nfns) {
  if (2 * nfns <= totals_cap) return true;
  size_t ncap = totals_cap ? totals_cap : 2048;
  while (ncap < 2 * nfns) ncap *= 2;
  int64_t *nt = realloc(totals, ncap * sizeof *nt);
  if (!nt) return false;
  memset(nt + totals_cap, 0, (ncap - totals_cap) * sizeof *nt);
  sns_mem_bytes += (int64_t)((ncap - totals_cap) * sizeof *nt);
  totals = nt;
  totals_cap = ncap;
  return true;
}

/* table(ids, names, file, module_path, meta: Int32Array [start, end, flags]*, hashes) -> base */
static napi_value js_table(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], ret;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t n = 0;
  if (argc < 6 || napi_get_array_length(env, argv[1], &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "table(ids, names, file, module_path, meta, hashes)");
    return NULL;
  }
  int32_t *meta = NULL;
  size_t mlen = 0;
  napi_typedarray_type tt;
  napi_value ab;
  size_t boff;
  if (napi_get_typedarray_info(env, argv[4], &tt, &mlen, (void **)&meta, &ab, &boff) != napi_ok ||
      tt != napi_int32_array || mlen < 3 * (size_t)n) {
    napi_throw_type_error(env, NULL, "table: meta must be an Int32Array of 3 per function");
    return NULL;
  }
  char *file = arg_dup(env, argv[2]), *mod = arg_dup(env, argv[3]);
  char *f = file ? sns_dupstr(file) : NULL, *mp = mod ? sns_dupstr(mod) : NULL;
  free(file);
  free(mod);
  pthread_mutex_lock(&mu);
  uint32_t base = sns_nfns;
  int rc = f && mp && totals_ensure((size_t)sns_nfns + n) ? 0 : HUD_ENOMEM;
  for (uint32_t k = 0; k < n && !rc; k++) {
    char qn[1024], hash[HUD_SHA1_HEXLEN + 1];
    if (!str_at(env, argv[1], k, qn, sizeof qn)) snprintf(qn, sizeof qn, "?");
    if (!str_at(env, argv[5], k, hash, sizeof hash)) hash[0] = 0;
    uint32_t idx;
    int32_t fl = meta[3 * k + 2];
    rc = sns_fn_declare(f, mp, qn, NULL, 0, meta[3 * k], meta[3 * k + 1], fl & 1, (fl & 2) != 0,
                        hash[0] ? hash : NULL, &idx);
  }
  pthread_mutex_unlock(&mu);
  if (rc) {
    napi_throw_error(env, NULL, hud_strerror(rc));
    return NULL;
  }
  napi_create_uint32(env, base, &ret);
  return ret;
}

/* ---- the sender ---- */
static bool rt_lock(void) {
  pthread_mutex_lock(&mu);
  return true;
}
static void rt_unlock(void) { pthread_mutex_unlock(&mu); }

/* A timed call still running is counted where it will end (as in CPython, sensor/python). */
static void move_running(sns_period *old, sns_period *fresh, bool final) {
  for (uint32_t k = 1; k < nframes && !final; k++) {
    frame *f = &frames[k];
    if (!f->live || f->timed != OWN || f->period != period_gen) continue;
    sns_edge *oe = sns_edge_find(old, f->fn, f->caller, 0, 0);
    if (!oe || oe->count <= oe->sampled) continue;
    sns_edge *ne = sns_edge_get(fresh, f->fn, f->caller, 0, 0);
    if (!ne) continue;
    oe->count--;
    ne->count++;
  }
  period_gen++;
  for (uint32_t k = 1; k < nframes; k++)
    if (frames[k].live) frames[k].period = period_gen;
}

static const sns_rt_ops ops = {.lock = rt_lock, .unlock = rt_unlock, .move_running = move_running};

static char *prop_str(napi_env env, napi_value o, const char *k) {
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(env, o, k, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok || t != napi_string)
    return NULL;
  return arg_dup(env, v);
}

static double prop_num(napi_env env, napi_value o, const char *k, double dflt) {
  napi_value v;
  double x;
  if (napi_get_named_property(env, o, k, &v) != napi_ok || napi_get_value_double(env, v, &x) != napi_ok) return dflt;
  return x;
}

/* start({service, version, environment, host, log_file, interval, budget, backlog, tags: [[k, v]..],
 *        url, key}) */
static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) return NULL;
  napi_value o = argv[0];
  sns_settings s;
  memset(&s, 0, sizeof s);
  s.service = prop_str(env, o, "service");
  s.version = prop_str(env, o, "version");
  s.environment = prop_str(env, o, "environment");
  s.host = prop_str(env, o, "host");
  s.runtime = prop_str(env, o, "runtime");
  s.log_file = prop_str(env, o, "log_file");
  s.sensor_version = "hud-node/" HUD_VERSION_STRING;
  s.interval_s = prop_num(env, o, "interval", 10.0);
  s.budget = prop_num(env, o, "budget", 0.01);
  s.backlog_max = (int)prop_num(env, o, "backlog", 30);
  napi_value tags;
  uint32_t nt = 0;
  if (napi_get_named_property(env, o, "tags", &tags) == napi_ok && napi_get_array_length(env, tags, &nt) == napi_ok &&
      nt) {
    s.tags = calloc(nt, sizeof *s.tags);
    for (uint32_t i = 0; i < nt && s.tags; i++) {
      napi_value kv;
      char k[256], v[1024];
      if (napi_get_element(env, tags, i, &kv) != napi_ok || !str_at(env, kv, 0, k, sizeof k) ||
          !str_at(env, kv, 1, v, sizeof v))
        continue;
      s.tags[s.n_tags].key = strdup(k);
      s.tags[s.n_tags].value = strdup(v);
      s.n_tags++;
    }
  }
  static const char *const keys[] = {"url", "key"};
  char *vals[2] = {0};
  for (size_t i = 0; i < 2; i++) {
    if ((vals[i] = prop_str(env, o, keys[i]))) {
      s.flags[2 * s.n_flags] = keys[i];
      s.flags[2 * s.n_flags + 1] = vals[i];
      s.n_flags++;
    }
  }
  char err[600] = "";
  int rc = sns_sender_start(&s, &ops, err, sizeof err);
  free(vals[0]);
  free(vals[1]);
  if (rc) napi_throw_error(env, NULL, err[0] ? err : hud_strerror(rc));
  return NULL;
}

static napi_value timed_call(napi_env env, napi_callback_info info, int (*fn)(double)) {
  size_t argc = 1;
  napi_value argv[1], ret;
  double t = 2.0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc) napi_get_value_double(env, argv[0], &t);
  napi_get_boolean(env, fn(t) == 0, &ret);
  return ret;
}
static napi_value js_flush(napi_env env, napi_callback_info info) { return timed_call(env, info, sns_sender_flush); }
static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  return timed_call(env, info, sns_sender_shutdown);
}

/* counts() -> Float64Array [calls, escapes] per function, for the process. */
static napi_value js_counts(napi_env env, napi_callback_info info) {
  pthread_mutex_lock(&mu);
  size_t n = 2 * (size_t)sns_nfns;
  napi_value ab, ret;
  void *data = NULL;
  if (napi_create_arraybuffer(env, n * sizeof(double), &data, &ab) == napi_ok) {
    double *d = data;
    for (size_t i = 0; i < n; i++) d[i] = (double)totals[i];
  }
  pthread_mutex_unlock(&mu);
  napi_create_typedarray(env, napi_float64_array, n, ab, 0, &ret);
  return ret;
}

static void set_num(napi_env env, napi_value o, const char *k, double v) {
  napi_value x;
  napi_create_double(env, v, &x);
  napi_set_named_property(env, o, k, x);
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  sns_sender_stats st;
  sns_sender_get_stats(&st);
  napi_value o, v;
  napi_create_object(env, &o);
  napi_get_boolean(env, st.running, &v);
  napi_set_named_property(env, o, "running", v);
  set_num(env, o, "batches_sent", (double)st.batches_sent);
  set_num(env, o, "batches_failed", (double)st.batches_failed);
  set_num(env, o, "send_errors", (double)st.send_errors);
  set_num(env, o, "backlog", st.n_backlog);
  set_num(env, o, "dropped_batches", (double)st.dropped_batches);
  set_num(env, o, "calls_total", (double)st.calls_total);
  set_num(env, o, "samples_total", (double)st.samples_total);
  napi_create_string_utf8(env, st.last_error, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, o, "last_error", v);
  pthread_mutex_lock(&mu);
  set_num(env, o, "functions", sns_nfns);
  set_num(env, o, "memory_bytes", (double)sns_mem_bytes);
  set_num(env, o, "quota", sns_quota);
  set_num(env, o, "frames_dropped", (double)frames_dropped);
  set_num(env, o, "depth", depth);
  pthread_mutex_unlock(&mu);
  return o;
}

static int core_rc;
static void core_init(void) {
  /* +N-API's own cost of a call from JS (measured by bench/sensor_node.sh, docs/architecture.md). */
  core_rc = sns_core_init(60.0, 40.0);
}

int hsn_runtime_init(napi_env env, napi_value exports) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, core_init); /* the loader thread loads the addon too */
  if (core_rc != 0) return -1;
  static const struct {
    const char *name;
    napi_callback cb;
  } fns[] = {{"enter", js_enter}, {"exit", js_exit},         {"fail", js_fail},   {"s", js_suspend},
             {"r", js_resume},    {"table", js_table},       {"start", js_start}, {"flush", js_flush},
             {"shutdown", js_shutdown}, {"counts", js_counts}, {"stats", js_stats}};
  for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &f) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, f) != napi_ok)
      return -1;
  }
  return 0;
}
