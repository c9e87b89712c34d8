/* The Node sensor's runtime over the shared core (sensor/core): the native half of `__hud`.
 *
 * A call from JS into Node-API costs ~80 ns, so the untimed path never makes one: lib/runtime.js
 * keeps the current call and counts calls in memory that lives here, in C, and that JS sees as
 * typed arrays (external ArrayBuffers):
 *   the edge table: kf[i] = callee + 1 (0 = empty slot), kc[i] = caller (-1 = none), kfl[i] =
 *   flow (0 = none, flows.c), ki[i] = the edge's id (fixed for the process: idfn[id], idc[id],
 *   idfl[id] are its callee, caller and flow); cnt[id] = its calls (a uint32 that wraps);
 *   ru[8n..8n+4] = function n's run (RUN_* below): its calls in a row from one caller in one
 *   flow, counted by decrementing its calls left until its next timed call; slotfn[s], slotfl[s]
 *   = function and flow of timed frame s.
 * An edge's calls are cnt[id] plus the run of its callee while the run is on it. JS decrements a
 * run's L; when a call comes from another caller or flow, it adds the run's calls to cnt[] and
 * moves the run to the new edge inside an odd sequence number (Q), so that the sender, which
 * reads cnt[] first and then the runs, skips a run being moved and never counts a call twice:
 * its calls are then seen at the next snapshot (totals()). Everything else is a call in:
 *   edge(n, c, fl, line, inc) -> id a new edge (inserted under `mu`, its call counted unless
 *                        !inc; -(id + 1) when the table moved: JS reloads it)
 *   timed(n, c, ph, own, id, w) a timed call of edge id starts and is counted (own: n's
 *                        countdown ran out, the run gets the next one; else its parent, handle
 *                        ph, is sampled and wants its self time, the call standing for w of its
 *                        calls, kids[slot] counting them) -> handle < 0, or n when no frame is
 *                        free
 *   exitTimed(h), fail(h, err), table(...), start(cfg), flush(s), shutdown(s), counts(), stats()
 * Each environment (the main thread, each worker) has its own tables (rt below), made at its
 * first tables() or table() and handed to every native as its callback data; its functions are
 * numbered in it, and mapped to the core's functions, which environments that load the same
 * code share. The sender's snapshot (under `mu`) adds each edge's calls since the last snapshot,
 * in every environment, to the retired period (counts only grow, modulo 2^32; aligned 4-byte
 * loads and stores are single-copy atomic, so a concurrent decrement is seen now or at the next
 * snapshot, never torn; the run protocol assumes x86-64's store order); an ended environment's
 * tables are freed once collected. Handles are small integers (V8 keeps them unboxed): an
 * untimed call's function number, a timed call's -(2 * slot) when sampled, -(2 * slot + 1) when
 * timed for its parent. An edge's call-site line is that of
 * its first call (JS reads it from the stack when it makes the edge), the edge's `off` in the
 * core; edges() lists them for tests. */
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

#define ECAP0 4096u
#define ECAP_MAX (1u << 22)
#define CD_CAP (1u << 20) /* functions with a run (virtual memory until touched); others are never timed */
/* A function's run: 8 int32 from runs[8n] (lib/runtime.js): the key of its last call, its calls
 * left until its next timed call (>= 1), S (the run's calls are S - L), the run's edge id, the
 * sequence number (odd while JS moves the run). */
#define RUN_STRIDE 8
enum { RUN_K, RUN_L, RUN_S, RUN_E, RUN_Q };
#define RUN_MISS (-0x7fffffff)
#define IDS (ECAP_MAX / 2) /* edge ids (virtual memory until touched); id 0: unknown */
#define FRAMES (1u << 16) /* timed calls alive at once per environment (suspended ones that never end stay) */
/* the mailbox of timed() and exitTimed() (= lib/runtime.js) */
enum { MB_N, MB_C, MB_PH, MB_OWN, MB_ID, MB_H, MB_W, MB_LEN = 8 };
#define KEPT 16           /* the last escaped errors whose exception paths flowEscaped() finds */
/* The ring of finished requests and jobs (lib/runtime.js flowDone): int32 cells, the head (JS's
 * next entry, written by JS only) and the tail (the next entry to drain, written under mu only)
 * on cache lines of their own, then FQ_CAP entries of (flow, status, ns % 2^30, ns / 2^30). */
#define FQ_CAP 1024u
enum { FQ_HEAD = 0, FQ_TAIL = 16, FQ_DATA = 32, FQ_LEN = FQ_DATA + 4 * FQ_CAP };

typedef struct frame {
  uint64_t t0, ta;
  double child_ns; /* its timed children's durations, each times its w (ns) */
  uint32_t fn, caller, off, flow; /* the core's functions; off: the call-site line of its edge */
  uint32_t parent, parent_gen; /* the sampled frame that was on top at entry (self time) */
  uint32_t w;                  /* how many of the parent's children its duration stands for */
  uint64_t wsum;               /* its children's w, added as they end */
  uint32_t gen, period;
  bool own, live;
} frame;

typedef struct old_table {
  struct old_table *next;
  int32_t *kf, *kc, *kfl, *ki;
  uint32_t cap;
} old_table;

/* One environment's tables (the main thread's, a worker's): its JS counts in them alone, the
 * sender reads them under `mu`. Its functions are numbered from 0 in the order its modules
 * declared them; fng[n] is function n's index in the core, shared by every environment that
 * loaded the same code, so that a worker's calls add up with the main thread's. */
typedef struct hsn_rt {
  struct hsn_rt *next;
  uint32_t key;       /* its exception paths' thread key (never reused) */
  bool ready, retired;
  /* the edge table: kf[i] = callee + 1 (0 = empty), kc[i] = caller (-1 = none), kfl[i] = flow,
   * ki[i] = the edge's id; idfn[id], idc[id], idfl[id], idline[id] the edge's callee, caller,
   * flow and call-site line; cnt[id] its calls (uint32, wraps); prev/tot: the snapshot's */
  int32_t *kf, *kc, *ki, *kfl;
  uint32_t ecap, en;
  old_table *old; /* earlier edge tables: V8 may hold views of them until the environment ends */
  int32_t *runs;  /* function n's run from runs[RUN_STRIDE * n] */
  int32_t *idfn, *idc, *idfl;
  uint32_t *idline, *cnt, *prev;
  uint32_t *snap; /* each edge's calls as totals() last read them (modulo 2^32) */
  int64_t *tot;
  uint32_t *fng, nfn, fncap;
  frame *frames;
  int32_t *slotfn, *slotfl; /* function (this environment's) and flow of each timed frame */
  int32_t *kids;            /* calls a sampled frame has made so far (counted by lib/runtime.js) */
  uint32_t *free_frames, nfree, fresh;
  /* timed()'s and exitTimed()'s arguments, written by lib/runtime.js (MB_*): reading five
   * Node-API arguments cost more than the rest of a timed call's entry */
  int32_t *mb;
  int32_t *fq; /* finished requests and jobs (FQ_*), drained into the core at each snapshot */
  /* the last escaped error (a weak reference) and the ones before it (flowEscaped) */
  napi_ref last_err;
  uintptr_t last_err_id;
  struct {
    napi_ref ref;
    uintptr_t id;
  } kept[KEPT];
  uint32_t kept_next;
} rt;
static rt *rts;         /* every environment's tables (under mu) */
static uint32_t rt_keys;
static int64_t edges_dropped;
static uint32_t period_gen;
static int64_t *errs; /* escapes per core function, for counts() */
static int64_t *gone; /* calls per core function of the environments freed (counts()) */

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

static void etable_free(uint32_t cap, int32_t *f, int32_t *c, int32_t *fl, int32_t *k) {
  free(f), free(c), free(fl), free(k);
  sns_mem_bytes -= (int64_t)cap * (int64_t)(4 * sizeof(int32_t));
}

static uint32_t eslot(const rt *r, int32_t n, int32_t c, int32_t fl) {
  uint32_t i = ehash(n, c, fl) & (r->ecap - 1);
  while (r->kf[i] && !(r->kf[i] == n + 1 && r->kc[i] == c && r->kfl[i] == fl)) i = (i + 1) & (r->ecap - 1);
  return i;
}

/* Doubles R's edge table (under mu, called from JS, which reloads the table before it counts
 * again). The old arrays stay allocated until the environment ends: V8 holds views of them. */
static bool egrow(rt *r) {
  if (r->ecap >= ECAP_MAX) return false;
  old_table *o = malloc(sizeof *o);
  if (!o) return false;
  *o = (old_table){r->old, r->kf, r->kc, r->kfl, r->ki, r->ecap};
  if (!etable_alloc(o->cap * 2, &r->kf, &r->kc, &r->kfl, &r->ki)) {
    r->kf = o->kf, r->kc = o->kc, r->kfl = o->kfl, r->ki = o->ki;
    free(o);
    return false;
  }
  r->old = o;
  r->ecap = o->cap * 2;
  for (uint32_t i = 0; i < o->cap; i++) {
    if (!o->kf[i]) continue;
    uint32_t j = eslot(r, o->kf[i] - 1, o->kc[i], o->kfl[i]);
    r->kf[j] = o->kf[i], r->kc[j] = o->kc[i], r->kfl[j] = o->kfl[i], r->ki[j] = o->ki[i];
  }
  return true;
}

/* Frees R's fixed-size arrays (made by rt_ready) and clears them. */
static void rt_arrays_free(rt *r) {
  void **a[] = {(void **)&r->runs, (void **)&r->idfn, (void **)&r->idc,  (void **)&r->idfl,
                (void **)&r->idline, (void **)&r->cnt, (void **)&r->prev, (void **)&r->tot, (void **)&r->snap,
                (void **)&r->frames, (void **)&r->slotfn, (void **)&r->slotfl, (void **)&r->kids,
                (void **)&r->free_frames, (void **)&r->mb, (void **)&r->fq};
  for (size_t i = 0; i < sizeof a / sizeof *a; i++) {
    free(*a[i]);
    *a[i] = NULL;
  }
}

/* The arrays of R, made at its environment's first tables() or table() (under mu). The loader
 * thread's environment, which runs no application code, never makes them. */
static bool rt_ready(rt *r) {
  if (r->ready) return true;
  r->ecap = ECAP0;
  r->runs = calloc((size_t)CD_CAP * RUN_STRIDE, sizeof *r->runs);
  r->idfn = calloc(IDS, sizeof *r->idfn);
  r->idc = calloc(IDS, sizeof *r->idc);
  r->idfl = calloc(IDS, sizeof *r->idfl);
  r->idline = calloc(IDS, sizeof *r->idline);
  r->cnt = calloc(IDS, sizeof *r->cnt);
  r->prev = calloc(IDS, sizeof *r->prev);
  r->tot = calloc(IDS, sizeof *r->tot);
  r->snap = calloc(IDS, sizeof *r->snap);
  r->frames = calloc(FRAMES, sizeof *r->frames);
  r->slotfn = calloc(FRAMES, sizeof *r->slotfn);
  r->slotfl = calloc(FRAMES, sizeof *r->slotfl);
  r->kids = calloc(FRAMES, sizeof *r->kids);
  r->free_frames = calloc(FRAMES, sizeof *r->free_frames);
  r->mb = calloc(MB_LEN, sizeof *r->mb);
  r->fq = calloc(FQ_LEN, sizeof *r->fq);
  if (!r->runs || !r->idfn || !r->idc || !r->idfl || !r->idline || !r->cnt || !r->prev || !r->tot || !r->snap ||
      !r->frames ||
      !r->slotfn || !r->slotfl || !r->kids || !r->free_frames || !r->mb || !r->fq ||
      !etable_alloc(r->ecap, &r->kf, &r->kc, &r->kfl, &r->ki)) {
    rt_arrays_free(r);
    return false;
  }
  r->idfn[0] = -3; /* id 0: an edge the table had no room for; its calls make none (js_edge) */
  r->fresh = 1;    /* frame 0 is no frame */
  r->ready = true;
  return true;
}

static void rt_free(rt *r) {
  if (r->ready) {
    rt_arrays_free(r);
    etable_free(r->ecap, r->kf, r->kc, r->kfl, r->ki);
    for (old_table *o = r->old, *nx; o; o = nx) {
      nx = o->next;
      etable_free(o->cap, o->kf, o->kc, o->kfl, o->ki);
      free(o);
    }
  }
  sns_mem_bytes -= (int64_t)r->fncap * (int64_t)sizeof *r->fng;
  free(r->fng);
  free(r);
}

/* The core's function of R's function N (N valid), or SNS_NONE for -1. */
static inline uint32_t gfn(const rt *r, int32_t n) { return n < 0 ? SNS_NONE : r->fng[n]; }

/* Reads every edge's calls into snap[]: cnt[] first, then each run not being moved (RUN_Q
 * even and unchanged across the read) added to its edge. A run being moved is left out: its
 * calls are in neither place yet or already in cnt[], so a read is never above the true count
 * (under mu: the sender's, or JS's own thread, whose runs then stand still). */
static void totals(rt *r) {
  for (uint32_t id = 1; id <= r->en; id++) r->snap[id] = __atomic_load_n(&r->cnt[id], __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  uint32_t nf = r->nfn < CD_CAP ? r->nfn : CD_CAP;
  for (uint32_t n = 0; n < nf; n++) {
    int32_t *u = r->runs + (size_t)RUN_STRIDE * n;
    int32_t q = __atomic_load_n(&u[RUN_Q], __ATOMIC_ACQUIRE);
    if (q & 1) continue;
    uint32_t l = (uint32_t)__atomic_load_n(&u[RUN_L], __ATOMIC_ACQUIRE);
    uint32_t s0 = (uint32_t)__atomic_load_n(&u[RUN_S], __ATOMIC_ACQUIRE);
    int32_t e = __atomic_load_n(&u[RUN_E], __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&u[RUN_Q], __ATOMIC_ACQUIRE) != q) continue;
    if (e >= 1 && (uint32_t)e <= r->en) r->snap[e] += s0 - l;
  }
}

/* Calls of edge ID of R not yet collected, as totals() last read them (a read below an earlier
 * one, a run skipped, counts nothing). */
static uint32_t pending(const rt *r, uint32_t id) {
  int32_t d = (int32_t)(r->snap[id] - r->prev[id]);
  return d > 0 ? (uint32_t)d : 0;
}

/* Calls of edge ID of R so far (after totals()). */
static double calls_of(const rt *r, uint32_t id) { return (double)r->tot[id] + (double)pending(r, id); }

/* R's finished requests and jobs not drained yet into period P (under mu). JS wrote an entry's
 * cells before the head that covers it (on x86 in program order, elsewhere with Atomics.store),
 * and reuses a cell only once the tail is past it. */
static void fq_drain(rt *r, sns_period *p) {
  int32_t *q = r->fq;
  uint32_t head = (uint32_t)__atomic_load_n(&q[FQ_HEAD], __ATOMIC_ACQUIRE);
  uint32_t tail = (uint32_t)q[FQ_TAIL];
  if (head - tail > FQ_CAP) tail = head - FQ_CAP; /* never: JS drains a full ring first */
  for (; tail != head; tail++) {
    const int32_t *e = q + FQ_DATA + 4 * (tail & (FQ_CAP - 1));
    int64_t ns = (int64_t)e[3] * (1 << 30) + e[2];
    sns_flow_add_in(p, (uint32_t)e[0], e[1], ns > 0 ? ns : 0, NULL);
  }
  __atomic_store_n(&q[FQ_TAIL], (int32_t)tail, __ATOMIC_RELEASE);
}

void hsn_flow_drain(hsn_rt *r) {
  pthread_mutex_lock(&mu);
  if (r && r->ready) fq_drain(r, sns_cur);
  pthread_mutex_unlock(&mu);
}

/* Frees the tables of an ended environment, unlinked (under mu); its calls stay in counts(). */
static void rt_bury(rt *r) {
  if (r->ready) {
    totals(r);
    fq_drain(r, sns_cur);
  }
  for (uint32_t id = 1; r->ready && id <= r->en; id++) gone[gfn(r, r->idfn[id])] += (int64_t)calls_of(r, id);
  rt_free(r);
}

/* Calls since the last snapshot into P (sender, under mu). */
static void collect(rt *r, sns_period *p) {
  fq_drain(r, p);
  totals(r);
  for (uint32_t id = 1; id <= r->en; id++) {
    uint32_t d = pending(r, id);
    if (!d) continue;
    r->prev[id] += d;
    r->tot[id] += d;
    sns_edge *e = sns_edge_get(p, gfn(r, r->idfn[id]), gfn(r, r->idc[id]), r->idline[id], (uint32_t)r->idfl[id]);
    if (e)
      e->count += (int64_t)d;
    else
      p->dropped_invocations += (int64_t)d;
  }
}

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

/* The callback's environment tables (its data) and up to *ARGC arguments. */
static rt *args(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, NULL, &data) != napi_ok) *argc = 0;
  return data;
}

/* tables() -> {kf, kc, kfl, ki, mask, cnt, idfl, ru, slotfn, slotfl, kids, mb, fq}: this environment's */
static napi_value js_tables(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  rt *r = args(env, info, &argc, NULL);
  napi_value o;
  napi_create_object(env, &o);
  pthread_mutex_lock(&mu);
  if (!rt_ready(r)) {
    pthread_mutex_unlock(&mu);
    napi_throw_error(env, NULL, "hud: no memory for the sensor's tables");
    return NULL;
  }
  struct {
    const char *k;
    napi_value v;
  } f[] = {{"kf", external(env, r->kf, r->ecap * sizeof *r->kf, napi_int32_array, r->ecap)},
           {"kc", external(env, r->kc, r->ecap * sizeof *r->kc, napi_int32_array, r->ecap)},
           {"ki", external(env, r->ki, r->ecap * sizeof *r->ki, napi_int32_array, r->ecap)},
           {"cnt", external(env, r->cnt, IDS * sizeof *r->cnt, napi_int32_array, IDS)},
           {"mask", num(env, r->ecap - 1)},
           {"ru", external(env, r->runs, (size_t)CD_CAP * RUN_STRIDE * sizeof *r->runs, napi_int32_array,
                           (size_t)CD_CAP * RUN_STRIDE)},
           {"slotfn", external(env, r->slotfn, FRAMES * sizeof *r->slotfn, napi_int32_array, FRAMES)},
           {"kfl", external(env, r->kfl, r->ecap * sizeof *r->kfl, napi_int32_array, r->ecap)},
           {"idfl", external(env, r->idfl, IDS * sizeof *r->idfl, napi_int32_array, IDS)},
           {"slotfl", external(env, r->slotfl, FRAMES * sizeof *r->slotfl, napi_int32_array, FRAMES)},
           {"kids", external(env, r->kids, FRAMES * sizeof *r->kids, napi_int32_array, FRAMES)},
           {"mb", external(env, r->mb, MB_LEN * sizeof *r->mb, napi_int32_array, MB_LEN)},
           {"fq", external(env, r->fq, FQ_LEN * sizeof *r->fq, napi_int32_array, FQ_LEN)}};
  pthread_mutex_unlock(&mu);
  for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
    if (!f[i].v) {
      napi_throw_error(env, NULL, "hud: cannot share the sensor's tables");
      return NULL;
    }
    napi_set_named_property(env, o, f[i].k, f[i].v);
  }
  return o;
}

/* Whether N is one of R's functions (C: or -1, none). */
static inline bool is_fn(const rt *r, int32_t n) { return n >= 0 && (uint32_t)n < r->nfn; }

/* edge(n, c, flow, line) -> id, or -(id + 1) when the table moved (JS reloads it). Counts the
 * call. LINE: the call site's line in the caller (0: unknown), kept from the edge's first call. */
static napi_value js_edge(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  rt *r = args(env, info, &argc, argv);
  if (argc < 2) return int32(env, 0);
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
  if (r->ready && is_fn(r, n) && (c == -1 || is_fn(r, c))) {
    if (2 * (r->en + 1) > r->ecap) moved = egrow(r);
    if (2 * (r->en + 1) <= r->ecap && r->en + 1 < IDS) {
      uint32_t i = eslot(r, n, c, fl);
      if (!r->kf[i]) {
        uint32_t e = ++r->en;
        r->idfn[e] = n;
        r->idc[e] = c;
        r->idfl[e] = fl;
        r->idline[e] = (uint32_t)line;
        r->ki[i] = (int32_t)e;
        r->kc[i] = c;
        r->kfl[i] = fl;
        r->kf[i] = n + 1;
      }
      id = r->ki[i];
      if (inc) r->cnt[id]++;
    } else {
      edges_dropped++;
      sns_cur->dropped_invocations++;
    }
  }
  pthread_mutex_unlock(&mu);
  return int32(env, moved ? -(id + 1) : id);
}

static uint64_t timed_total; /* timed frames taken (stats()) */

/* A free timed frame of R, or 0 when all are taken. */
static uint32_t frame_take(rt *r) {
  if (r->nfree) return r->free_frames[--r->nfree];
  return r->fresh < FRAMES ? r->fresh++ : 0;
}

/* timed() -> h (a timed frame's handle, or n when no frame is free), its arguments in mb[]: n
 * (the function), c (its caller's function), ph (the caller's handle), own (its countdown ran
 * out), id (its edge), w (for a child of a sampled call: how many of its calls this one's
 * duration stands for in the parent's self time; lib/runtime.js times a long call's children
 * at a stride). */
static napi_value js_timed(napi_env env, napi_callback_info info) {
  uint64_t ta = sns_ticks();
  size_t argc = 0;
  rt *r = args(env, info, &argc, NULL);
  if (!r || !r->mb) return int32(env, 0);
  int32_t n = r->mb[MB_N], c = r->mb[MB_C];
  double ph = r->mb[MB_PH];
  bool own = r->mb[MB_OWN] != 0;
  double id = r->mb[MB_ID];
  int32_t h = n;
  pthread_mutex_lock(&mu);
  /* The call is counted here, with its frame: one snapshot sees both or neither. */
  bool edge = r->ready && id >= 1 && id <= r->en;
  if (edge) r->cnt[(uint32_t)id]++;
  if (r->ready && is_fn(r, n)) {
    sns_fn *fn = sns_fn_at(r->fng[n]);
    if (own) {
      sns_sample_next(sns_cur, fn);
      if ((uint32_t)n < CD_CAP) { /* the run's calls (S - L) stay as they are */
        int32_t *u = r->runs + (size_t)RUN_STRIDE * (uint32_t)n;
        u[RUN_S] = (int32_t)((uint32_t)u[RUN_S] + fn->countdown - (uint32_t)u[RUN_L]);
        u[RUN_L] = (int32_t)fn->countdown;
      }
    }
    uint32_t parent = ph < 0 && ((uint64_t)-ph & 1) == 0 ? (uint32_t)(-ph / 2) : 0;
    uint32_t s = own || parent ? frame_take(r) : 0;
    if (s) {
      frame *f = &r->frames[s];
      f->fn = r->fng[n];
      f->caller = is_fn(r, c) ? r->fng[c] : SNS_NONE;
      f->flow = edge ? (uint32_t)r->idfl[(uint32_t)id] : 0; /* its edge's */
      f->off = edge ? r->idline[(uint32_t)id] : 0;
      f->own = own;
      f->live = true;
      f->period = period_gen;
      f->child_ns = 0;
      f->wsum = 0;
      f->parent = parent && parent < FRAMES && r->frames[parent].live ? parent : 0;
      f->parent_gen = f->parent ? r->frames[parent].gen : 0;
      f->w = r->mb[MB_W] > 0 ? (uint32_t)r->mb[MB_W] : 0;
      r->kids[s] = 0;
      timed_total++;
      r->slotfn[s] = n;
      r->slotfl[s] = (int32_t)f->flow;
      h = -(int32_t)(2 * s + (own ? 0 : 1));
      f->t0 = sns_ticks();
      f->ta = ta;
    }
  }
  pthread_mutex_unlock(&mu);
  return int32(env, h);
}

/* A timed call's cost measured where it runs (under mu): its ticks in the addon from timed()'s
 * entry to the frame's start and from exitTimed()'s entry to its end, the timed calls measured,
 * and how many of them were the sampled ones (the others time a sampled call's callees for its
 * self time): the running app's caches make it several times what calibrate() measures in a
 * loop. At each snapshot it becomes the sampling budget's cost of a sampled call (cost_update). */
static uint64_t cost_ticks, cost_calls, cost_own;
#define COST_MAX_TICKS (sns_ticks_per_sec / 10000) /* 100 us: the thread was preempted, not counted */
static uint32_t slot_of(double h) { return h < 0 ? (uint32_t)((uint64_t)-h >> 1) : 0; }

/* exitTimed(): the timed call mb[MB_H] ends. */
static napi_value js_exit_timed(napi_env env, napi_callback_info info) {
  uint64_t t1 = sns_ticks();
  size_t argc = 0;
  rt *r = args(env, info, &argc, NULL);
  if (!r || !r->mb) return NULL;
  uint32_t s = slot_of(r->mb[MB_H]);
  pthread_mutex_lock(&mu);
  if (r->ready && s && s < FRAMES && r->frames[s].live) {
    frame *f = &r->frames[s];
    int64_t d = (int64_t)((double)(t1 - f->t0) * sns_ns_per_tick());
    if (d < 0) d = 0;
    if (f->parent) {
      frame *pf = &r->frames[f->parent];
      if (pf->live && pf->gen == f->parent_gen) {
        pf->child_ns += (double)d * f->w;
        pf->wsum += f->w;
      }
    }
    /* Children timed at a stride: the last one's w may stand for more calls than were made. */
    uint32_t kids = (uint32_t)r->kids[s];
    double child = f->wsum > kids && kids ? f->child_ns * kids / (double)f->wsum : f->child_ns;
    int64_t self = child >= (double)d ? 0 : d - (int64_t)child;
    if (f->own) sns_record_timed(sns_cur, f->fn, f->caller, f->off, f->flow, d, self);
    uint64_t spent = (f->t0 - f->ta) + (sns_ticks() - t1);
    if (spent < COST_MAX_TICKS) {
      cost_ticks += spent;
      cost_calls++;
      cost_own += f->own;
    }
    f->live = false;
    f->gen++;
    r->free_frames[r->nfree++] = s;
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

/* Identity of the last escaped error in R's environment (exception paths): a weak reference
 * compared with strict equality; each new error gets a new number. */
static uintptr_t err_identity(napi_env env, rt *r, napi_value err) {
  napi_valuetype t;
  if (napi_typeof(env, err, &t) != napi_ok || (t != napi_object && t != napi_function)) return ++r->last_err_id;
  if (r->last_err) {
    napi_value prev_v;
    bool same = false;
    if (napi_get_reference_value(env, r->last_err, &prev_v) == napi_ok && prev_v &&
        napi_strict_equals(env, prev_v, err, &same) == napi_ok && same)
      return r->last_err_id;
    napi_delete_reference(env, r->last_err);
    r->last_err = NULL;
  }
  napi_create_reference(env, err, 0, &r->last_err);
  return ++r->last_err_id;
}

/* Spread as the core expects of pointers (it drops their low 4 bits when it hashes them). */
static const void *thread_key(const rt *r) { return (const void *)((uintptr_t)r->key << 4); }

/* fail(h, err): err escapes the call h. */
static napi_value js_fail(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  rt *r = args(env, info, &argc, argv);
  if (argc < 2) return NULL;
  double h = arg_num(env, argv[0]);
  const char *tn = type_name(env, argv[1]);
  uintptr_t id = err_identity(env, r, argv[1]);
  pthread_mutex_lock(&mu);
  uint32_t fn = SNS_NONE, caller = SNS_NONE, flow = 0, off = 0;
  if (!r->ready) {
  } else if (h < 0) {
    uint32_t s = slot_of(h);
    if (s && s < FRAMES && r->frames[s].live) {
      const frame *f = &r->frames[s];
      fn = f->fn, caller = f->caller, flow = f->flow, off = f->off;
    }
  } else if (h >= 1 && h <= r->en) {
    fn = gfn(r, r->idfn[(uint32_t)h]);
    caller = gfn(r, r->idc[(uint32_t)h]);
    flow = (uint32_t)r->idfl[(uint32_t)h];
    off = r->idline[(uint32_t)h];
  }
  if (fn < sns_nfns && (caller == SNS_NONE || caller < sns_nfns)) {
    /* The edge must exist in this period even if the call began in the previous one. */
    if (!sns_edge_get(sns_cur, fn, caller, off, flow)) sns_cur->dropped_invocations++;
    sns_exc *x = sns_exc_get(sns_cur, fn, caller, off, flow, tn);
    if (x) x->count++;
    errs[fn]++;
    sns_xpath_escape(thread_key(r), (const void *)id, tn, flow, fn, caller);
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

/* The core's functions by what makes them the same code (file, qualified name, lines, source
 * hash), so that a module loaded by several environments (workers) declares its functions once:
 * dmap[i] = index + 1 (0: empty), open addressing, at most half full (under mu). */
static uint32_t *dmap, dcap;

static uint32_t dhash(const char *file, const char *qn, int32_t start, int32_t end) {
  uint32_t h = 2166136261u;
  for (const char *c = file; *c; c++) h = (h ^ (unsigned char)*c) * 16777619u;
  for (const char *c = qn; *c; c++) h = (h ^ (unsigned char)*c) * 16777619u;
  return (h ^ (uint32_t)start * 0x9E3779B1u) ^ (uint32_t)end * 0x85EBCA77u;
}

static uint32_t *dfind(const char *file, const char *qn, int32_t start, int32_t end, const char *hash) {
  for (uint32_t i = dhash(file, qn, start, end) & (dcap - 1);; i = (i + 1) & (dcap - 1)) {
    if (!dmap[i]) return &dmap[i];
    const sns_fn *fn = sns_fn_at(dmap[i] - 1);
    if (fn->start_line == start && fn->end_line == end && strcmp(fn->qualname, qn) == 0 &&
        strcmp(fn->file, file) == 0 && (!hash[0] || strcmp(fn->source_hash, hash) == 0))
      return &dmap[i];
  }
}

static bool dgrow(void) {
  if (2 * (sns_nfns + 1) <= dcap) return true;
  uint32_t ocap = dcap, *old = dmap;
  dmap = sns_calloc(dcap = ocap ? 2 * ocap : 4096, sizeof *dmap);
  if (!dmap) {
    dmap = old, dcap = ocap;
    return false;
  }
  for (uint32_t i = 0; i < ocap; i++) {
    if (!old[i]) continue;
    const sns_fn *fn = sns_fn_at(old[i] - 1);
    uint32_t j = dhash(fn->file, fn->qualname, fn->start_line, fn->end_line) & (dcap - 1);
    while (dmap[j]) j = (j + 1) & (dcap - 1);
    dmap[j] = old[i];
  }
  sns_free(old, ocap * sizeof *old);
  return true;
}

static bool fng_reserve(rt *r, uint32_t n) {
  if (r->nfn + n <= r->fncap) return true;
  uint32_t cap = r->fncap ? r->fncap : 256;
  while (cap < r->nfn + n) cap *= 2;
  uint32_t *g = realloc(r->fng, cap * sizeof *g);
  if (!g) return false;
  sns_mem_bytes += (int64_t)(cap - r->fncap) * (int64_t)sizeof *g;
  r->fng = g, r->fncap = cap;
  return true;
}

/* table(ids, names, file, module_path, meta: Int32Array [start, end, flags]*, hashes) -> base:
 * the module's functions are base + k in this environment (each one's first call timed). */
static napi_value js_table(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  rt *r = args(env, info, &argc, argv);
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
  bool used = false; /* f and mp belong to a new declaration */
  pthread_mutex_lock(&mu);
  uint32_t base = r->nfn;
  int rc = f && mp && rt_ready(r) && fng_reserve(r, n) ? 0 : HUD_ENOMEM;
  for (uint32_t k = 0; k < n && !rc; k++) {
    char qn[1024], hash[HUD_SHA1_HEXLEN + 1];
    if (!str_at(env, argv[1], k, qn, sizeof qn)) snprintf(qn, sizeof qn, "?");
    if (!str_at(env, argv[5], k, hash, sizeof hash)) hash[0] = 0;
    int32_t start = meta[3 * k], end = meta[3 * k + 1], fl = meta[3 * k + 2];
    if (!dgrow()) {
      rc = HUD_ENOMEM;
      break;
    }
    uint32_t *slot = dfind(f, qn, start, end, hash);
    if (!*slot) {
      uint32_t idx;
      rc = sns_fn_declare(f, mp, qn, NULL, 0, start, end, fl & 1, (fl & 2) != 0, hash[0] ? hash : NULL, &idx);
      if (rc) break;
      used = true;
      *slot = idx + 1;
    }
    r->fng[base + k] = *slot - 1;
    if (base + k < CD_CAP) { /* no key yet; the first call is timed */
      int32_t *u = r->runs + (size_t)RUN_STRIDE * (base + k);
      u[RUN_K] = RUN_MISS, u[RUN_L] = 1, u[RUN_S] = 1, u[RUN_E] = 0;
    }
  }
  if (!rc) r->nfn = base + n;
  pthread_mutex_unlock(&mu);
  if (!used) {
    if (f) sns_free(f, strlen(f) + 1);
    if (mp) sns_free(mp, strlen(mp) + 1);
  }
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

/* R's timed calls still running are counted where they will end (as in CPython, sensor/python). */
static void move_running(rt *r, sns_period *old, sns_period *fresh) {
  for (uint32_t k = 1; k < r->fresh; k++) {
    frame *f = &r->frames[k];
    if (!f->live || !f->own || f->period != period_gen) continue;
    sns_edge *oe = sns_edge_find(old, f->fn, f->caller, f->off, f->flow);
    if (!oe || oe->count <= oe->sampled) continue;
    sns_edge *ne = sns_edge_get(fresh, f->fn, f->caller, f->off, f->flow);
    if (!ne) continue;
    oe->count--;
    ne->count++;
  }
}

/* The calls counted by every environment since the last snapshot go to the retired period; an
 * ended environment's tables are freed once collected. */
static void cost_update(void);
static void snapshot_hook(sns_period *old, sns_period *fresh, bool final) {
  cost_update();
  /* Every environment's counts first: a running call is moved only from an edge whose calls
   * (any thread's) outnumber its timed ones. */
  for (rt *r = rts; r; r = r->next)
    if (r->ready) collect(r, old);
  for (rt *r = rts; r && !final; r = r->next)
    if (r->ready) move_running(r, old, fresh);
  period_gen++;
  for (rt **pr = &rts; *pr;) {
    rt *r = *pr;
    if (r->retired) {
      *pr = r->next;
      rt_bury(r);
      continue;
    }
    for (uint32_t k = 1; k < r->fresh; k++)
      if (r->frames[k].live) r->frames[k].period = period_gen;
    pr = &r->next;
  }
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

/* counts() -> Float64Array [calls, escapes] per function of this environment, for the process
 * (every environment's calls, ended ones' too; a function this environment declared twice has
 * them at its first number). */
static napi_value js_counts(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  rt *r = args(env, info, &argc, NULL);
  napi_value ab, ret;
  void *data = NULL;
  pthread_mutex_lock(&mu);
  size_t n = 2 * (size_t)r->nfn;
  double *g = calloc(sns_nfns + 1, sizeof *g);
  if (g && napi_create_arraybuffer(env, n * sizeof(double), &data, &ab) == napi_ok) {
    double *d = data;
    memset(d, 0, n * sizeof *d);
    for (uint32_t f = 0; f < sns_nfns; f++) g[f] = (double)gone[f];
    for (rt *o = rts; o; o = o->next) {
      if (o->ready) totals(o);
      for (uint32_t id = 1; o->ready && id <= o->en; id++) g[gfn(o, o->idfn[id])] += calls_of(o, id);
    }
    for (uint32_t k = 0; k < r->nfn; k++) {
      uint32_t f = r->fng[k];
      if (g[f] < 0) continue; /* given to an earlier number */
      d[2 * (size_t)k] = g[f];
      d[2 * (size_t)k + 1] = (double)errs[f];
      g[f] = -1;
    }
  }
  pthread_mutex_unlock(&mu);
  free(g);
  if (!data) {
    napi_throw_error(env, NULL, "hud: no memory for counts()");
    return NULL;
  }
  napi_create_typedarray(env, napi_float64_array, n, ab, 0, &ret);
  return ret;
}

/* edges() -> Float64Array [callee, caller (-1: none), line, calls] per edge of this environment. */
static napi_value js_edges(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  rt *r = args(env, info, &argc, NULL);
  pthread_mutex_lock(&mu);
  size_t n = r->ready ? 4 * (size_t)r->en : 0;
  napi_value ab, ret;
  void *data = NULL;
  if (r->ready) totals(r);
  if (napi_create_arraybuffer(env, n * sizeof(double), &data, &ab) == napi_ok) {
    double *d = data;
    for (uint32_t id = 1; 4 * (size_t)id <= n; id++, d += 4) {
      d[0] = r->idfn[id], d[1] = r->idc[id], d[2] = r->idline[id];
      d[3] = calls_of(r, id);
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
  uint32_t edges = 0, alive = 0;
  for (const rt *r = rts; r; r = r->next) edges += r->en, alive += r->fresh ? r->fresh - 1 - r->nfree : 0;
  set_num(env, o, "functions", sns_nfns);
  set_num(env, o, "edges", edges);
  set_num(env, o, "edges_dropped", (double)edges_dropped);
  set_num(env, o, "memory_bytes", (double)sns_mem_bytes);
  set_num(env, o, "quota", sns_quota);
  set_num(env, o, "timed_call_ns", sns_cal_sample_ns);
  set_num(env, o, "timed_alive", alive);
  set_num(env, o, "timed_calls", (double)timed_total);
  pthread_mutex_unlock(&mu);
  return o;
}

static int core_rc;
static double core_sample_ns; /* the core's own part of a timed call, calibrated */
/* The hooks' cost beyond the core's own work, for the sampling budget and the self-reported
 * overhead: the JS side of a call, ~7 ns (docs/architecture.md); a timed call adds its two calls
 * into the addon, measured by lib/runtime.js at start (calibrate()), assumed 160 ns until then. */
#define TIMED_JS_NS 160.0
static double timed_js_ns = TIMED_JS_NS;
/* The cost of a sampled call (sns_cal_sample_ns) from the timed calls measured since the last
 * snapshot, once there were enough (under mu, in the sender's thread, before it adapts the
 * quota): per timed call, the calls into the addon (calibrated) and the addon's part measured in
 * place; per sampled call, its callees' timed calls too. */
static void cost_update(void) {
  if (cost_own >= 64) {
    double c_ns = (double)cost_ticks * sns_ns_per_tick() / (double)cost_calls;
    sns_cal_sample_ns = (timed_js_ns + c_ns) * (double)cost_calls / (double)cost_own;
  }
  cost_ticks = cost_calls = cost_own = 0;
}
static void core_init(void) {
  core_rc = sns_core_init(7.0, TIMED_JS_NS);
  core_sample_ns = sns_cal_sample_ns - TIMED_JS_NS;
  errs = calloc(SNS_FN_PAGE * (size_t)SNS_FN_PAGES, sizeof *errs);
  gone = calloc(SNS_FN_PAGE * (size_t)SNS_FN_PAGES, sizeof *gone);
  if (!core_rc && (!errs || !gone)) core_rc = HUD_ENOMEM;
}

/* calibrate(ns): a timed call's two calls into the addon cost NS here. */
static napi_value js_calibrate(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  double ns = argc ? arg_num(env, argv[0]) : 0;
  if (ns > 0 && ns < 1e6) {
    pthread_mutex_lock(&mu);
    timed_js_ns = ns;
    sns_cal_sample_ns = core_sample_ns + ns;
    pthread_mutex_unlock(&mu);
  }
  return NULL;
}

/* The environment ends (its cleanup hook): its tables are freed once the sender collected
 * them, now when no sender runs (their calls kept in gone[] for counts()). */
static void rt_retire(void *arg) {
  rt *r = arg;
  sns_sender_stats st;
  sns_sender_get_stats(&st);
  pthread_mutex_lock(&mu);
  r->retired = true;
  if (!st.running) {
    for (rt **pr = &rts; *pr; pr = &(*pr)->next)
      if (*pr == r) {
        *pr = r->next;
        rt_bury(r);
        break;
      }
  }
  pthread_mutex_unlock(&mu);
}

static napi_value js_fail_keep(napi_env env, napi_callback_info info);

int hsn_runtime_init(napi_env env, napi_value exports) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, core_init); /* the loader thread loads the addon too */
  if (core_rc != 0) return -1;
  rt *r = calloc(1, sizeof *r);
  if (!r) return -1;
  pthread_mutex_lock(&mu);
  r->key = ++rt_keys;
  r->next = rts;
  rts = r;
  pthread_mutex_unlock(&mu);
  if (napi_add_env_cleanup_hook(env, rt_retire, r) != napi_ok) return -1;
  static const struct {
    const char *name;
    napi_callback cb;
  } fns[] = {{"tables", js_tables}, {"edge", js_edge},   {"timed", js_timed},       {"exitTimed", js_exit_timed},
             {"calibrate", js_calibrate},
             {"fail", js_fail_keep},     {"table", js_table}, {"start", js_start},       {"flush", js_flush},
             {"shutdown", js_shutdown}, {"counts", js_counts}, {"edges", js_edges}, {"stats", js_stats}};
  for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, r, &f) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, f) != napi_ok)
      return -1;
  }
  return hsn_flows_init(env, exports, r);
}

/* ---- for flows.c: the exception path keys of the last escaped errors ----
 * err_identity() keeps one weak reference, the last escaped error's. Node reports a rejection
 * as unhandled once the turn's microtasks ran, after other escapes maybe (several rejections in
 * one turn), so fail() keeps the previous errors' references and ids too. */
static napi_value js_fail_keep(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], prev_v;
  bool same = true;
  rt *r = args(env, info, &argc, argv);
  if (argc >= 2 && r->last_err && napi_get_reference_value(env, r->last_err, &prev_v) == napi_ok && prev_v &&
      napi_strict_equals(env, prev_v, argv[1], &same) == napi_ok && !same) {
    uint32_t k = r->kept_next;
    if (r->kept[k].ref) napi_delete_reference(env, r->kept[k].ref);
    r->kept[k].ref = NULL;
    if (napi_create_reference(env, prev_v, 0, &r->kept[k].ref) == napi_ok) r->kept[k].id = r->last_err_id;
    r->kept_next = (k + 1) % KEPT;
  }
  return js_fail(env, info);
}

static bool is_ref_of(napi_env env, napi_ref ref, napi_value v) {
  napi_value x;
  bool same = false;
  return ref && napi_get_reference_value(env, ref, &x) == napi_ok && x && napi_strict_equals(env, x, v, &same) == napi_ok &&
         same;
}


bool hsn_last_escape(napi_env env, hsn_rt *r, napi_value err, const void **thread, const void **exc) {
  napi_valuetype t;
  if (napi_typeof(env, err, &t) != napi_ok || (t != napi_object && t != napi_function)) return false;
  *thread = thread_key(r);
  if (is_ref_of(env, r->last_err, err)) {
    *exc = (const void *)r->last_err_id;
    return true;
  }
  for (uint32_t k = 0; k < KEPT; k++) {
    uint32_t i = (r->kept_next + KEPT - 1 - k) % KEPT; /* newest first */
    if (is_ref_of(env, r->kept[i].ref, err)) {
      *exc = (const void *)r->kept[i].id;
      return true;
    }
  }
  return false;
}
