/* The Node sensor's runtime over the shared core (sensor/core): the native half of `__hud`.
 *
 * A call from JS into Node-API costs ~80 ns, so the untimed path never makes one: lib/runtime.js
 * keeps the current call and counts each call of an edge in memory that lives here, in C, and
 * that JS sees as typed arrays (external ArrayBuffers):
 *   the edge table: kf[i] = callee + 1 (0 = empty slot), kc[i] = caller (-1 = none), kfl[i] =
 *   flow (0 = none, flows.c), ki[i] = the edge's id (fixed for the process: idfn[id], idc[id],
 *   idfl[id] are its callee, caller and flow); cnt[id] = its calls (a uint32 that wraps);
 *   cd[n] = calls of function n until its next timed call; slotfn[s], slotfl[s] = function and
 *   flow of timed frame s.
 * JS only increments cnt[] (untimed calls) and decrements cd[]. Everything else is a call in:
 *   edge(n, c, fl, line, inc) -> id a new edge (inserted under `mu`, its call counted unless
 *                        !inc; -(id + 1) when the table moved: JS reloads it)
 *   timed(n, c, ph, own, id) a timed call starts and is counted (own: the sampling countdown
 *                        ran out; else its parent, handle ph, is sampled and wants its self
 *                        time) -> handle < 0
 *   exitTimed(h), fail(h, err), table(...), start(cfg), flush(s), shutdown(s), counts(), stats()
 * The sender's snapshot (under `mu`) adds each edge's calls since the last snapshot to the
 * retired period (counts only grow, modulo 2^32; aligned 4-byte loads and stores are single-copy
 * atomic, so a concurrent increment is seen now or at the next snapshot, never torn). Handles are small
 * integers (V8 keeps them unboxed): an untimed call's edge id, a timed call's -(2 * slot) when
 * sampled, -(2 * slot + 1) when timed for its parent. Only the main thread's environment
 * records (lib/runtime.js installs no-ops in workers). An edge's call-site line is that of its
 * first call (JS reads it from the stack when it makes the edge), the edge's `off` in the core;
 * edges() lists them for tests. */
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "flows.h"
#include "hud/err.h"
#include "hud/version.h"
#include "runtime.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- the edge table JS counts in ---- */
#define ECAP0 4096u
#define ECAP_MAX (1u << 22)
static int32_t *kf, *kc, *ki, *kfl; /* kfl: the flow of the edge (0: none; flows.c) */
static uint32_t ecap, en;
static int64_t edges_dropped;
#define CD_CAP (1u << 20) /* functions with a sampling countdown (virtual memory until touched) */
static int32_t *cd;
#define IDS (ECAP_MAX / 2) /* edge ids (virtual memory until touched); id 0: unknown */
static int32_t *idfn, *idc, *idfl;
static uint32_t *idline; /* the call-site line of the edge's first call (0: unknown), its `off` */
static uint32_t *cnt;  /* calls per edge id (JS increments them; they never move) */
static uint32_t *prev; /* cnt[id] at the last snapshot (C only) */
static int64_t *tot;   /* calls up to the last snapshot (C only) */

static inline uint32_t ehash(int32_t n, int32_t c, int32_t fl) {
  return ((uint32_t)(n + 1) * 0x9E3779B1u) ^ ((uint32_t)(c + 2) * 0x85EBCA77u) ^
         ((uint32_t)fl * 0xC2B2AE35u); /* = lib/runtime.js */
}

static bool etable_alloc(uint32_t cap, int32_t **f, int32_t **c, int32_t **fl, int32_t **k) {
  *f = calloc(cap, sizeof **f);
  *c = calloc(cap, sizeof **c);
  *fl = calloc(cap, sizeof **fl);
  *k = calloc(cap, sizeof **k);
  if (*f && *c && *fl && *k) {
    sns_mem_bytes += (int64_t)cap * (int64_t)(4 * sizeof(int32_t));
    return true;
  }
  free(*f), free(*c), free(*fl), free(*k);
  return false;
}

static uint32_t eslot(int32_t n, int32_t c, int32_t fl) {
  uint32_t i = ehash(n, c, fl) & (ecap - 1);
  while (kf[i] && !(kf[i] == n + 1 && kc[i] == c && kfl[i] == fl)) i = (i + 1) & (ecap - 1);
  return i;
}

/* Doubles the table (under mu, called from JS, which reloads the table before it counts
 * again). The old arrays stay allocated: V8 holds views of them until it collects them. */
static bool egrow(void) {
  if (ecap >= ECAP_MAX) return false;
  int32_t *of = kf, *oc = kc, *ofl = kfl, *ok = ki;
  uint32_t ocap = ecap;
  if (!etable_alloc(ocap * 2, &kf, &kc, &kfl, &ki)) {
    kf = of, kc = oc, kfl = ofl, ki = ok;
    return false;
  }
  ecap = ocap * 2;
  for (uint32_t i = 0; i < ocap; i++) {
    if (!of[i]) continue;
    uint32_t j = eslot(of[i] - 1, oc[i], ofl[i]);
    kf[j] = of[i], kc[j] = oc[i], kfl[j] = ofl[i], ki[j] = ok[i];
  }
  return true;
}

/* Calls since the last snapshot into P (sender, under mu). */
static void collect(sns_period *p) {
  for (uint32_t id = 1; id <= en; id++) {
    uint32_t d = cnt[id] - prev[id];
    if (!d) continue;
    prev[id] += d;
    tot[id] += d;
    sns_edge *e = sns_edge_get(p, (uint32_t)idfn[id], idc[id] < 0 ? SNS_NONE : (uint32_t)idc[id], idline[id],
                               (uint32_t)idfl[id]);
    if (e)
      e->count += (int64_t)d;
    else
      p->dropped_invocations += (int64_t)d;
  }
}

/* ---- timed frames ---- */
typedef struct frame {
  uint64_t t0;
  int64_t child_ns;
  uint32_t fn, caller, off, flow; /* off: the call-site line of its edge */
  uint32_t parent, parent_gen; /* the sampled frame that was on top at entry (self time) */
  uint32_t gen, period;
  bool own, live;
} frame;
#define FRAMES (1u << 16) /* timed calls alive at once (suspended ones that never end stay) */
static frame frames[FRAMES];
static int32_t slotfn[FRAMES], slotfl[FRAMES]; /* function and flow of each timed frame */
static uint32_t free_frames[FRAMES], nfree;
static uint32_t period_gen;
static int64_t *errs; /* escapes per function, for counts() */

/* ---- helpers ---- */
static double arg_num(napi_env env, napi_value v) {
  double x = -1;
  napi_get_value_double(env, v, &x);
  return x;
}

static napi_value num(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

/* Handles and ids go back as int32: V8 keeps them small integers, so JS code stays on them. */
static napi_value int32(napi_env env, int32_t x) {
  napi_value v;
  napi_create_int32(env, x, &v);
  return v;
}

static napi_value external(napi_env env, void *data, size_t bytes, napi_typedarray_type t, size_t n) {
  napi_value ab, arr;
  if (napi_create_external_arraybuffer(env, data, bytes, NULL, NULL, &ab) != napi_ok ||
      napi_create_typedarray(env, t, n, ab, 0, &arr) != napi_ok)
    return NULL;
  return arr;
}

/* tables() -> {kf, kc, kfl, ki, mask, cnt, idfn, idfl, cd, slotfn, slotfl} */
static napi_value js_tables(napi_env env, napi_callback_info info) {
  napi_value o, v;
  napi_create_object(env, &o);
  pthread_mutex_lock(&mu);
  struct {
    const char *k;
    napi_value v;
  } f[] = {{"kf", external(env, kf, ecap * sizeof *kf, napi_int32_array, ecap)},
           {"kc", external(env, kc, ecap * sizeof *kc, napi_int32_array, ecap)},
           {"ki", external(env, ki, ecap * sizeof *ki, napi_int32_array, ecap)},
           {"cnt", external(env, cnt, IDS * sizeof *cnt, napi_int32_array, IDS)},
           {"idfn", external(env, idfn, IDS * sizeof *idfn, napi_int32_array, IDS)},
           {"mask", num(env, ecap - 1)},
           {"cd", external(env, cd, CD_CAP * sizeof *cd, napi_int32_array, CD_CAP)},
           {"slotfn", external(env, slotfn, sizeof slotfn, napi_int32_array, FRAMES)},
           {"kfl", external(env, kfl, ecap * sizeof *kfl, napi_int32_array, ecap)},
           {"idfl", external(env, idfl, IDS * sizeof *idfl, napi_int32_array, IDS)},
           {"slotfl", external(env, slotfl, sizeof slotfl, napi_int32_array, FRAMES)}};
  pthread_mutex_unlock(&mu);
  for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
    if (!f[i].v) {
      napi_throw_error(env, NULL, "hud: cannot share the sensor's tables");
      return NULL;
    }
    napi_set_named_property(env, o, f[i].k, f[i].v);
  }
  (void)v;
  return o;
}

/* edge(n, c, flow, line) -> id, or -(id + 1) when the table moved (JS reloads it). Counts the
 * call. LINE: the call site's line in the caller (0: unknown), kept from the edge's first call. */
static napi_value js_edge(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t n = (int32_t)arg_num(env, argv[0]), c = (int32_t)arg_num(env, argv[1]);
  int32_t fl = argc > 2 ? (int32_t)arg_num(env, argv[2]) : 0;
  double line = argc > 3 ? arg_num(env, argv[3]) : 0;
  bool inc = true; /* false: a timed call, which timed() counts */
  if (argc > 4) napi_get_value_bool(env, argv[4], &inc);
  if (!(line >= 0 && line < 1e9)) line = 0;
  if (fl < 0 || (uint32_t)fl > sns_nflows) fl = 0;
  bool moved = false;
  int32_t id = 0;
  pthread_mutex_lock(&mu);
  if (n >= 0 && (uint32_t)n < sns_nfns && c >= -1 && (c < 0 || (uint32_t)c < sns_nfns)) {
    if (2 * (en + 1) > ecap) moved = egrow();
    if (2 * (en + 1) <= ecap && en + 1 < IDS) {
      uint32_t i = eslot(n, c, fl);
      if (!kf[i]) {
        en++;
        idfn[en] = n;
        idc[en] = c;
        idfl[en] = fl;
        idline[en] = (uint32_t)line;
        ki[i] = (int32_t)en;
        kc[i] = c;
        kfl[i] = fl;
        kf[i] = n + 1;
      }
      id = ki[i];
      if (inc) cnt[id]++;
    } else {
      edges_dropped++;
      sns_cur->dropped_invocations++;
    }
  }
  pthread_mutex_unlock(&mu);
  return int32(env, moved ? -(id + 1) : id);
}

/* timed(n, c, parent_handle, own, id) -> handle */
static napi_value js_timed(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t n = (int32_t)arg_num(env, argv[0]), c = (int32_t)arg_num(env, argv[1]);
  double ph = arg_num(env, argv[2]);
  bool own = false;
  napi_get_value_bool(env, argv[3], &own);
  double h = arg_num(env, argv[4]); /* the edge id: the handle when no slot is free */
  pthread_mutex_lock(&mu);
  /* The call is counted here, with its frame: one snapshot sees both or neither. */
  if (h >= 1 && h <= en) cnt[(uint32_t)h]++;
  if (n >= 0 && (uint32_t)n < sns_nfns) {
    sns_fn *fn = sns_fn_at((uint32_t)n);
    if (own) {
      sns_sample_next(sns_cur, fn);
      if ((uint32_t)n < CD_CAP) cd[n] = (int32_t)fn->countdown;
    }
    uint32_t parent = ph < 0 && ((uint64_t)-ph & 1) == 0 ? (uint32_t)(-ph / 2) : 0;
    if (nfree && (own || parent)) {
      uint32_t s = free_frames[--nfree];
      frame *f = &frames[s];
      f->fn = (uint32_t)n;
      f->caller = c < 0 ? SNS_NONE : (uint32_t)c;
      f->flow = h >= 1 && h <= en ? (uint32_t)idfl[(uint32_t)h] : 0; /* its edge's */
      f->off = h >= 1 && h <= en ? idline[(uint32_t)h] : 0;
      f->own = own;
      f->live = true;
      f->period = period_gen;
      f->child_ns = 0;
      f->parent = parent && parent < FRAMES && frames[parent].live ? parent : 0;
      f->parent_gen = f->parent ? frames[parent].gen : 0;
      slotfn[s] = n;
      slotfl[s] = (int32_t)f->flow;
      h = -(2.0 * s + (own ? 0 : 1));
      f->t0 = sns_ticks();
    }
  }
  pthread_mutex_unlock(&mu);
  return int32(env, (int32_t)h);
}

static uint32_t slot_of(double h) { return h < 0 ? (uint32_t)((uint64_t)-h >> 1) : 0; }

static napi_value js_exit_timed(napi_env env, napi_callback_info info) {
  uint64_t t1 = sns_ticks();
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t s = argc ? slot_of(arg_num(env, argv[0])) : 0;
  pthread_mutex_lock(&mu);
  if (s && s < FRAMES && frames[s].live) {
    frame *f = &frames[s];
    int64_t d = (int64_t)((double)(t1 - f->t0) * sns_ns_per_tick());
    if (d < 0) d = 0;
    if (f->parent) {
      frame *pf = &frames[f->parent];
      if (pf->live && pf->gen == f->parent_gen) pf->child_ns += d;
    }
    if (f->own) sns_record_timed(sns_cur, f->fn, f->caller, f->off, f->flow, d, d - f->child_ns);
    f->live = false;
    f->gen++;
    free_frames[nfree++] = s;
  }
  pthread_mutex_unlock(&mu);
  return NULL;
}

/* ---- exceptions: the type is the constructor's name, interned (a rare path) ---- */
static const char *type_name(napi_env env, napi_value err) {
  char buf[256];
  size_t n = 0;
  napi_valuetype t;
  if (napi_typeof(env, err, &t) != napi_ok) return "?";
  napi_value ctor, name;
  if (!((t == napi_object || t == napi_function) &&
        napi_get_named_property(env, err, "constructor", &ctor) == napi_ok &&
        napi_get_named_property(env, ctor, "name", &name) == napi_ok &&
        napi_get_value_string_utf8(env, name, buf, sizeof buf, &n) == napi_ok && n > 0)) {
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

/* Identity of the last escaped error (exception paths): a weak reference compared with strict
 * equality; each new error gets a new number. */
static napi_ref last_err;
static uintptr_t last_err_id;
static int thread_marker;

static uintptr_t err_identity(napi_env env, napi_value err) {
  napi_valuetype t;
  if (napi_typeof(env, err, &t) != napi_ok || (t != napi_object && t != napi_function)) return ++last_err_id;
  if (last_err) {
    napi_value prev_v;
    bool same = false;
    if (napi_get_reference_value(env, last_err, &prev_v) == napi_ok && prev_v &&
        napi_strict_equals(env, prev_v, err, &same) == napi_ok && same)
      return last_err_id;
    napi_delete_reference(env, last_err);
    last_err = NULL;
  }
  napi_create_reference(env, err, 0, &last_err);
  return ++last_err_id;
}

/* fail(h, err): err escapes the call h. */
static napi_value js_fail(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) return NULL;
  double h = arg_num(env, argv[0]);
  const char *tn = type_name(env, argv[1]);
  uintptr_t id = err_identity(env, argv[1]);
  pthread_mutex_lock(&mu);
  uint32_t fn = SNS_NONE, caller = SNS_NONE, flow = 0, off = 0;
  if (h < 0) {
    uint32_t s = slot_of(h);
    if (s && s < FRAMES && frames[s].live)
      fn = frames[s].fn, caller = frames[s].caller, flow = frames[s].flow, off = frames[s].off;
  } else if (h >= 1 && h <= en) {
    fn = (uint32_t)idfn[(uint32_t)h];
    caller = idc[(uint32_t)h] < 0 ? SNS_NONE : (uint32_t)idc[(uint32_t)h];
    flow = (uint32_t)idfl[(uint32_t)h];
    off = idline[(uint32_t)h];
  }
  if (fn < sns_nfns && (caller == SNS_NONE || caller < sns_nfns)) {
    /* The edge must exist in this period even if the call began in the previous one. */
    if (!sns_edge_get(sns_cur, fn, caller, off, flow)) sns_cur->dropped_invocations++;
    sns_exc *x = sns_exc_get(sns_cur, fn, caller, off, flow, tn);
    if (x) x->count++;
    errs[fn]++;
    sns_xpath_escape(&thread_marker, (const void *)id, tn, flow, fn, caller);
  }
  pthread_mutex_unlock(&mu);
  return NULL;
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

/* table(ids, names, file, module_path, meta: Int32Array [start, end, flags]*, hashes) -> base */
static napi_value js_table(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t n = 0;
  if (argc < 6 || napi_get_array_length(env, argv[1], &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "table(ids, names, file, module_path, meta, hashes)");
    return NULL;
  }
  int32_t *meta = NULL;
  size_t mlen = 0, boff;
  napi_typedarray_type tt;
  napi_value ab;
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
  int rc = f && mp ? 0 : HUD_ENOMEM;
  for (uint32_t k = 0; k < n && !rc; k++) {
    char qn[1024], hash[HUD_SHA1_HEXLEN + 1];
    if (!str_at(env, argv[1], k, qn, sizeof qn)) snprintf(qn, sizeof qn, "?");
    if (!str_at(env, argv[5], k, hash, sizeof hash)) hash[0] = 0;
    uint32_t idx;
    int32_t fl = meta[3 * k + 2];
    rc = sns_fn_declare(f, mp, qn, NULL, 0, meta[3 * k], meta[3 * k + 1], fl & 1, (fl & 2) != 0,
                        hash[0] ? hash : NULL, &idx);
    if (!rc && idx < CD_CAP) cd[idx] = 1;   /* the first call is timed */
  }
  pthread_mutex_unlock(&mu);
  if (rc) {
    napi_throw_error(env, NULL, hud_strerror(rc));
    return NULL;
  }
  return num(env, base);
}

/* ---- the sender ---- */
void hsn_lock(void) { pthread_mutex_lock(&mu); }
void hsn_unlock(void) { pthread_mutex_unlock(&mu); }

static bool rt_lock(void) {
  pthread_mutex_lock(&mu);
  return true;
}
static void rt_unlock(void) { pthread_mutex_unlock(&mu); }

/* The calls counted by JS since the last snapshot go to the retired period; a timed call still
 * running is counted where it will end (as in CPython, sensor/python). */
static void snapshot_hook(sns_period *old, sns_period *fresh, bool final) {
  collect(old);
  for (uint32_t k = 1; k < FRAMES && !final; k++) {
    frame *f = &frames[k];
    if (!f->live || !f->own || f->period != period_gen) continue;
    sns_edge *oe = sns_edge_find(old, f->fn, f->caller, f->off, f->flow);
    if (!oe || oe->count <= oe->sampled) continue;
    sns_edge *ne = sns_edge_get(fresh, f->fn, f->caller, f->off, f->flow);
    if (!ne) continue;
    oe->count--;
    ne->count++;
  }
  period_gen++;
  for (uint32_t k = 1; k < FRAMES; k++)
    if (frames[k].live) frames[k].period = period_gen;
}

/* An edge's `off` is its call-site line already. */
static int32_t call_line(const sns_fn *caller, uint32_t off) {
  (void)caller;
  return (int32_t)off;
}

static const sns_rt_ops ops = {
    .lock = rt_lock, .unlock = rt_unlock, .move_running = snapshot_hook, .call_line = call_line};

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

/* start({service, version, environment, host, runtime, log_file, interval, budget, backlog,
 *        tags: [[k, v]..], url, key}) */
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
    memset(d, 0, n * sizeof *d);
    for (uint32_t id = 1; id <= en; id++)
      d[2 * (size_t)idfn[id]] += (double)tot[id] + (double)(cnt[id] - prev[id]);
    for (uint32_t f = 0; f < sns_nfns; f++) d[2 * (size_t)f + 1] = (double)errs[f];
  }
  pthread_mutex_unlock(&mu);
  napi_create_typedarray(env, napi_float64_array, n, ab, 0, &ret);
  return ret;
}

/* edges() -> Float64Array [callee, caller (-1: none), line, calls] per edge, for the process. */
static napi_value js_edges(napi_env env, napi_callback_info info) {
  pthread_mutex_lock(&mu);
  size_t n = 4 * (size_t)en;
  napi_value ab, ret;
  void *data = NULL;
  if (napi_create_arraybuffer(env, n * sizeof(double), &data, &ab) == napi_ok) {
    double *d = data;
    for (uint32_t id = 1; id <= en; id++, d += 4) {
      d[0] = idfn[id], d[1] = idc[id], d[2] = idline[id];
      d[3] = (double)tot[id] + (double)(cnt[id] - prev[id]);
    }
  }
  pthread_mutex_unlock(&mu);
  napi_create_typedarray(env, napi_float64_array, n, ab, 0, &ret);
  return ret;
}

static void set_num(napi_env env, napi_value o, const char *k, double v) {
  napi_set_named_property(env, o, k, num(env, v));
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
  set_num(env, o, "edges", en);
  set_num(env, o, "edges_dropped", (double)edges_dropped);
  set_num(env, o, "memory_bytes", (double)sns_mem_bytes);
  set_num(env, o, "quota", sns_quota);
  set_num(env, o, "timed_call_ns", sns_cal_sample_ns);
  set_num(env, o, "timed_alive", FRAMES - 1 - nfree);
  pthread_mutex_unlock(&mu);
  return o;
}

static int core_rc;
static double core_sample_ns; /* the core's own part of a timed call */
/* The hooks' cost beyond the core's own work, for the sampling budget and the self-reported
 * overhead: the JS side of a call, ~7 ns (docs/architecture.md); a timed call adds its two calls
 * into the addon, measured by lib/runtime.js at start (calibrate()), assumed 160 ns until then. */
#define TIMED_JS_NS 160.0
static void core_init(void) {
  core_rc = sns_core_init(7.0, TIMED_JS_NS);
  core_sample_ns = sns_cal_sample_ns - TIMED_JS_NS;
  ecap = ECAP0;
  cd = calloc(CD_CAP, sizeof *cd);
  errs = calloc(SNS_FN_PAGE * (size_t)SNS_FN_PAGES, sizeof *errs);
  idfn = calloc(IDS, sizeof *idfn);
  idc = calloc(IDS, sizeof *idc);
  idfl = calloc(IDS, sizeof *idfl);
  idline = calloc(IDS, sizeof *idline);
  cnt = calloc(IDS, sizeof *cnt);
  prev = calloc(IDS, sizeof *prev);
  tot = calloc(IDS, sizeof *tot);
  if (!core_rc && (!cd || !errs || !idfn || !idc || !idfl || !idline || !cnt || !prev || !tot ||
                   !etable_alloc(ecap, &kf, &kc, &kfl, &ki)))
    core_rc = HUD_ENOMEM;
  if (idfn) idfn[0] = -3; /* id 0: an edge the table had no room for; its calls make none (js_edge) */
  for (uint32_t s = FRAMES - 1; s >= 1; s--) free_frames[nfree++] = s;
}

/* calibrate(ns): a timed call's two calls into the addon cost NS here. */
static napi_value js_calibrate(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  double ns = argc ? arg_num(env, argv[0]) : 0;
  if (ns > 0 && ns < 1e6) {
    pthread_mutex_lock(&mu);
    sns_cal_sample_ns = core_sample_ns + ns;
    pthread_mutex_unlock(&mu);
  }
  return NULL;
}

int hsn_runtime_init(napi_env env, napi_value exports) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, core_init); /* the loader thread loads the addon too */
  if (core_rc != 0) return -1;
  static const struct {
    const char *name;
    napi_callback cb;
  } fns[] = {{"tables", js_tables}, {"edge", js_edge},   {"timed", js_timed},       {"exitTimed", js_exit_timed},
             {"calibrate", js_calibrate},
             {"fail", js_fail},     {"table", js_table}, {"start", js_start},       {"flush", js_flush},
             {"shutdown", js_shutdown}, {"counts", js_counts}, {"edges", js_edges}, {"stats", js_stats}};
  for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &f) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, f) != napi_ok)
      return -1;
  }
  return hsn_flows_init(env, exports);
}

/* ---- for flows.c: the exception path keys of the last escaped errors ----
 * err_identity() keeps one weak reference, the last escaped error's. Node reports a rejection
 * as unhandled once the turn's microtasks ran, after other escapes maybe (several rejections in
 * one turn), so fail() is wrapped to keep the previous errors' references and ids too. */
#define KEPT 16
static struct {
  napi_ref ref;
  uintptr_t id;
} kept[KEPT];
static uint32_t kept_next;

static napi_value js_fail_keep(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], prev_v;
  bool same = true;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 2 && last_err && napi_get_reference_value(env, last_err, &prev_v) == napi_ok && prev_v &&
      napi_strict_equals(env, prev_v, argv[1], &same) == napi_ok && !same) {
    if (kept[kept_next].ref) napi_delete_reference(env, kept[kept_next].ref);
    kept[kept_next].ref = NULL;
    if (napi_create_reference(env, prev_v, 0, &kept[kept_next].ref) == napi_ok) kept[kept_next].id = last_err_id;
    kept_next = (kept_next + 1) % KEPT;
  }
  return js_fail(env, info);
}

/* Replaces EXPORTS.fail with the wrapper above. 0 or -1. */
int hsn_keep_escapes(napi_env env, napi_value exports) {
  napi_value f;
  if (napi_create_function(env, "fail", NAPI_AUTO_LENGTH, js_fail_keep, NULL, &f) != napi_ok ||
      napi_set_named_property(env, exports, "fail", f) != napi_ok)
    return -1;
  return 0;
}

static bool is_ref_of(napi_env env, napi_ref ref, napi_value v) {
  napi_value x;
  bool same = false;
  return ref && napi_get_reference_value(env, ref, &x) == napi_ok && x && napi_strict_equals(env, x, v, &same) == napi_ok &&
         same;
}

bool hsn_last_escape(napi_env env, napi_value err, const void **thread, const void **exc) {
  napi_valuetype t;
  if (napi_typeof(env, err, &t) != napi_ok || (t != napi_object && t != napi_function)) return false;
  *thread = &thread_marker;
  if (is_ref_of(env, last_err, err)) {
    *exc = (const void *)last_err_id;
    return true;
  }
  for (uint32_t k = 0; k < KEPT; k++) {
    uint32_t i = (kept_next + KEPT - 1 - k) % KEPT; /* newest first */
    if (is_ref_of(env, kept[i].ref, err)) {
      *exc = (const void *)kept[i].id;
      return true;
    }
  }
  return false;
}
