/* The sensors' shared C core (sns_): what a sensor records and sends, whatever the runtime.
 *
 * Per-function table, per-period edge/exception/path/flow tables with duration sketches, the
 * sampling budget, the clock, batch building (common/ codec) and the sender thread (common/
 * client). The runtime (sensor/python: CPython; sensor/node: Node-API) finds callers, call
 * sites and exception types and calls in here; what the core needs of it is in sns_rt_ops.
 *
 * Threading: the tables are written only by the runtime's one thread of application code at a
 * time (the GIL in CPython, the JS thread in Node); the hot path takes no lock and no atomic.
 * The sender thread reads them only inside sns_rt_ops.lock/unlock (a pointer swap plus the
 * runtime's own work), and the retired period outside it. */
#ifndef HUD_SENSOR_CORE_H
#define HUD_SENSOR_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "hud/model.h"
#include "hud/sketch.h"

#define SNS_NONE 0xffffffffu  /* no caller / no function */
/* Functions kept per exception path: the origin and the protocol's limit of propagated ones.
 * A longer path keeps its first SNS_XF_MAX_PATH and is counted as cut (dropped.exception_flows). */
#define SNS_XF_MAX_PATH (1 + HUD_MAX_PROPAGATION)
#define SNS_SKETCH_ALPHA HUD_SKETCH_DEFAULT_ALPHA /* the store merges sketches of one alpha only */

/* One instrumented function of the application. */
typedef struct sns_fn {
  /* Hot: sampling state. */
  uint32_t countdown;   /* calls until the next timed call */
  uint32_t interval;    /* current sampling interval (1 = time every call) */
  uint64_t win_start;   /* ticks: start of the current one-second sampling window */
  uint32_t win_samples; /* timed calls in that window */
  uint32_t timed_live;  /* timed calls of it running now */
  /* Cold: identity. Written once by sns_fn_declare, read by the sender afterwards. */
  void *rt;             /* the runtime's (CPython: the code object, a strong reference) */
  const char *qualname;
  const char *file;
  const char *module_path;
  int32_t start_line, end_line;
  bool is_async, is_generator;
  hud_uuid function_id;
  char source_hash[HUD_SHA1_HEXLEN + 1];
} sns_fn;

#define SNS_FN_PAGE 1024
#define SNS_FN_PAGES 4096
extern sns_fn *sns_fn_pages[SNS_FN_PAGES];
extern uint32_t sns_nfns; /* the sender reads it under the runtime lock */
static inline sns_fn *sns_fn_at(uint32_t i) { return &sns_fn_pages[i / SNS_FN_PAGE][i % SNS_FN_PAGE]; }

/* Aggregate of one (function, caller, call site, flow) in one period. */
typedef struct sns_edge {
  uint32_t fn;          /* SNS_NONE = empty slot */
  uint32_t caller;      /* SNS_NONE = no instrumented caller */
  uint32_t off;         /* call site in the caller, in the runtime's units (sns_rt_ops.call_line) */
  uint32_t flow;        /* 0 = no flow */
  int64_t count, sampled, sum_ns, self_ns;
  double sumsq;
  hud_sketch *sketch;   /* lazily created on the first timed call */
  int32_t line;         /* call-site line, resolved at snapshot */
} sns_edge;

/* Exceptions escaping a function, per edge key and type. */
typedef struct sns_exc {
  uint32_t fn, caller, off, flow;
  const char *type;     /* interned (sns_intern), lives for the process */
  int64_t count;
} sns_exc;

/* One finished exception path (origin -> propagated -> caught), per raising line. */
typedef struct sns_xflow {
  uint64_t hash;        /* 0 = empty */
  const char *type;
  uint32_t flow;
  uint32_t catcher;     /* SNS_NONE = escaped */
  int32_t origin_line;
  uint32_t n;           /* path[0] is the origin */
  uint32_t *path;       /* n entries (sns_calloc), freed when the period is cleared */
  int64_t count;
} sns_xflow;

#define SNS_FLOW_MAX_STATUS 16
#define SNS_FLOW_MAX_EXC 8
typedef struct sns_flow_stat {
  int64_t count, errors, sum_ns;
  double sumsq;
  hud_sketch *sketch;
  int32_t status[SNS_FLOW_MAX_STATUS];
  int64_t status_count[SNS_FLOW_MAX_STATUS];
  const char *exc[SNS_FLOW_MAX_EXC];
  int64_t exc_count[SNS_FLOW_MAX_EXC];
} sns_flow_stat;

/* Everything recorded during one flush period. Two exist; the sender swaps them. */
typedef struct sns_period {
  hud_time_ns start_wall;
  uint64_t start_ticks;
  sns_edge *edges;
  uint32_t ecap, en;    /* capacity (power of two), used */
  sns_exc *excs;
  uint32_t xcap, xn;
  sns_xflow *xflows;
  uint32_t fcap, fn;
  sns_flow_stat *flows; /* indexed by flow id (1..) */
  uint32_t flows_cap;
  uint64_t calls, samples;
  int64_t extra_ns;     /* sensor CPU spent outside the hooks (the import-time rewrite) */
  int64_t dropped_invocations, dropped_xflows;
  int64_t cut_xflows;   /* exception paths longer than SNS_XF_MAX_PATH (kept cut) */
} sns_period;

/* A flow (endpoint or queue consumer); registered once, lives for the process. */
typedef struct sns_flowdef {
  hud_flow_kind kind;
  char *method, *route, *task, *queue;
  hud_uuid flow_id;
} sns_flowdef;

extern sns_period *sns_cur;
extern sns_flowdef *sns_flowdefs; /* index 0 unused */
extern uint32_t sns_nflows;
extern bool sns_flows_used;       /* a flow has been registered: runtimes skip flow lookups before */

/* ---- clock (ticks: rdtsc with an invariant TSC, else CLOCK_MONOTONIC ns) ---- */
extern bool sns_use_tsc;
extern double sns_ns_per_tick_v;
extern uint64_t sns_ticks_per_sec;
static inline uint64_t sns_mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static inline uint64_t sns_ticks(void) {
#if defined(__x86_64__)
  if (sns_use_tsc) {
    unsigned lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
  }
#endif
  return sns_mono_ns();
}
static inline double sns_ns_per_tick(void) { return sns_ns_per_tick_v; }
hud_time_ns sns_wall_ns(void);

/* ---- memory the sensor holds (approximate, bytes) ---- */
extern int64_t sns_mem_bytes;
void *sns_calloc(size_t n, size_t size);
void sns_free(void *p, size_t size);
char *sns_dupstr(const char *s);
/* A name interned by content for the process (takes ownership of NAME, a malloc'd string
 * counted in sns_mem_bytes); equal names give one pointer. */
char *sns_intern(char *name);

/* ---- set-up: clock, first period, calibration of the hooks' cost ----
 * CALL_NS / SAMPLE_NS: what a call into the hook and a timed call cost the runtime beyond the
 * core's own work (measured separately, docs/architecture.md). Returns 0 or HUD_ENOMEM. */
int sns_core_init(double call_ns, double sample_ns);

/* ---- functions ---- */
/* Declares one function; *IDX is its index. FILE and MODULE_PATH must live for the process
 * (sns_dupstr). The source hash of lines START..END: HASH when given (computed where the source
 * was), else from SRC/LEN, the module's source. Returns 0, HUD_ETOOBIG (too many functions) or
 * HUD_ENOMEM. */
int sns_fn_declare(const char *file, const char *module_path, const char *qualname, const char *src, size_t len,
                   int32_t start, int32_t end, bool is_async, bool is_generator, const char *hash, uint32_t *idx);

/* ---- period tables ---- */
sns_period *sns_period_new(void);
void sns_period_clear(sns_period *p);
sns_edge *sns_edge_find(const sns_period *p, uint32_t fn, uint32_t caller, uint32_t off, uint32_t flow);
sns_edge *sns_edge_insert(sns_period *p, uint32_t fn, uint32_t caller, uint32_t off, uint32_t flow);
sns_exc *sns_exc_get(sns_period *p, uint32_t fn, uint32_t caller, uint32_t off, uint32_t flow, const char *type);

static inline uint32_t sns_mix4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  /* Two independent multiplies; the high half of each product is well mixed. */
  uint64_t x = (((uint64_t)a << 32) | b) * 0x9E3779B97F4A7C15ull;
  uint64_t y = (((uint64_t)c << 32) | d) * 0xC2B2AE3D27D4EB4Full;
  return (uint32_t)((x ^ y) >> 32) ^ (uint32_t)((x ^ y) >> 11);
}

/* The edge's aggregate, created if new; NULL when the table is full (the caller counts a drop).
 * Inline: the lookup is the hot path of every hook. */
static inline sns_edge *sns_edge_get(sns_period *p, uint32_t fn, uint32_t caller, uint32_t off, uint32_t flow) {
  uint32_t mask = p->ecap - 1, h = sns_mix4(fn, caller, off, flow) & mask;
  for (;;) {
    sns_edge *e = &p->edges[h];
    if (e->fn == fn && e->caller == caller && e->off == off && e->flow == flow) return e;
    if (e->fn == SNS_NONE) return sns_edge_insert(p, fn, caller, off, flow);
    h = (h + 1) & mask;
  }
}

/* Counts one call of FN on its edge. */
static inline void sns_count(sns_period *p, uint32_t fn, uint32_t caller, uint32_t off, uint32_t flow) {
  sns_edge *e = sns_edge_get(p, fn, caller, off, flow);
  if (e)
    e->count++;
  else
    p->dropped_invocations++;
}

/* ---- sampling: each function keeps within its per-second quota of timed calls ---- */
extern uint32_t sns_quota;
/* FN's countdown ran out: this call is timed (counted in P's samples); sets the next countdown
 * so that FN keeps within the quota. */
static inline void sns_sample_next(sns_period *p, sns_fn *fn) {
  uint64_t now = sns_ticks();
  if (now - fn->win_start > sns_ticks_per_sec) {
    if (fn->win_samples < sns_quota / 4 && fn->interval > 1) fn->interval /= 2;
    fn->win_start = now;
    fn->win_samples = 0;
  }
  if (++fn->win_samples > sns_quota && fn->interval < (1u << 24)) fn->interval *= 2;
  fn->countdown = fn->interval;
  p->samples++;
}
/* Whether this call of FN is to be timed. */
static inline bool sns_sample_due(sns_period *p, sns_fn *fn) {
  if (--fn->countdown != 0) return false;
  sns_sample_next(p, fn);
  return true;
}
/* A timed call of FN on its edge ended: duration and self time (ns). */
void sns_record_timed(sns_period *p, uint32_t fn, uint32_t caller, uint32_t off, uint32_t flow, int64_t dur_ns,
                      int64_t self_ns);
/* Recomputes the quota from the retired period so that timing stays within BUDGET (a CPU share). */
void sns_adapt_sampling(const sns_period *retired, double budget);
/* The same from the running period CUR (under the runtime lock), before the first retired one:
 * lowers the quota when CUR's edges already need a lower one, never raises it. */
void sns_adapt_sampling_early(const sns_period *cur, double budget);
extern double sns_cal_call_ns, sns_cal_sample_ns;

/* ---- exception paths: one open path per thread of the runtime ----
 * An exception (EXC, identity only) escapes FN (nearest instrumented caller CALLER) in thread
 * THREAD. The open path continues when the same exception escapes the function that was the
 * caller of the last escape; otherwise a new path starts and the record is returned so that the
 * runtime can set its origin_line; NULL when the path continued. */
typedef struct sns_xrec {
  const void *thread;
  const void *exc;
  const char *type;
  uint32_t flow;
  uint32_t expected;    /* nearest instrumented caller at the last escape */
  int32_t origin_line;
  bool cut;             /* longer than path[] */
  uint32_t n;
  uint32_t path[SNS_XF_MAX_PATH];
} sns_xrec;
sns_xrec *sns_xpath_escape(const void *thread, const void *exc, const char *type, uint32_t flow, uint32_t fn,
                           uint32_t caller);
/* Closes every open path into the current period (done by each snapshot). */
void sns_xpaths_close(void);
/* EXC, the exception of THREAD's open path, escaped the flow (Node: an unhandled rejection; no
 * caller awaited it): the path closes with no catcher. A path of EXC closed lately in the current
 * period (another exception escaped meanwhile) moves from its catcher to escaped. False when
 * neither is found. */
bool sns_xpath_escaped(const void *thread, const void *exc);

/* ---- flows ---- */
/* Registers (or finds) a flow; *IDX its index. Returns 0, HUD_EINVAL or HUD_ETOOBIG. */
int sns_flow_register(hud_flow_kind kind, const char *method, const char *route, const char *task,
                      const char *queue, uint32_t *idx);
/* One finished flow: STATUS (HTTP, or 0), duration, TYPE_NAME (interned) if it raised. */
void sns_flow_add(uint32_t idx, int status, int64_t dur_ns, const char *type_name);
/* The same into period P (a snapshot's retired period, from the runtime's hook). */
void sns_flow_add_in(sns_period *p, uint32_t idx, int status, int64_t dur_ns, const char *type_name);

/* ---- the core's own (between its files) ---- */
void sns_clock_refine(void);  /* over the whole time since start-up, at each snapshot */
void sns_xpaths_forget(void); /* drops open paths (fork child) */

/* ---- what the core needs of the runtime ---- */
typedef struct sns_rt_ops {
  /* Excludes the application's code (CPython: takes the GIL). False when the runtime is gone. */
  bool (*lock)(void);
  void (*unlock)(void);
  /* Under the lock, after the swap: moves the runtime's running timed calls from OLD to FRESH
   * (not at the FINAL snapshot). May be NULL. */
  void (*move_running)(sns_period *old, sns_period *fresh, bool final);
  /* Under the lock: the line of call site OFF in function CALLER, or 0. May be NULL. */
  int32_t (*call_line)(const sns_fn *caller, uint32_t off);
} sns_rt_ops;

/* ---- the sender ---- */
typedef struct sns_settings {
  double interval_s;    /* flush period */
  double budget;        /* CPU share for timing */
  int backlog_max;      /* batches kept while the backend is down */
  char *service, *version, *environment, *host, *runtime, *log_file; /* owned (malloc), may be NULL */
  const char *sensor_version; /* static, e.g. "hud-python/1.2.3" */
  hud_tag *tags;        /* owned */
  size_t n_tags;
  /* Client settings given by the application (init arguments): key/value pairs of
   * hud_config keys (url, key, timeout_ms, ...), applied over file and environment. */
  const char *flags[2 * 8];
  size_t n_flags;
} sns_settings;

typedef struct sns_sender_stats {
  bool running;
  int64_t batches_sent, batches_failed, send_errors, dropped_batches, last_status, exception_paths_cut;
  int n_backlog;
  size_t backlog_bytes;
  uint32_t declarations_sent;
  uint64_t calls_total, samples_total;
  char last_error[256];
} sns_sender_stats;

/* Starts the sender (once; a second call does nothing). Takes the owned strings of S. OPS lives
 * for the process. Returns 0 or a negative code with a message in ERR. */
int sns_sender_start(sns_settings *s, const sns_rt_ops *ops, char *err, size_t errlen);
/* Waits up to TIMEOUT_S until a flush requested now was attempted; 0 when sent. Called
 * without the runtime lock. */
int sns_sender_flush(double timeout_s);
/* Final flush and stop; afterwards the sender never takes the runtime lock again. */
int sns_sender_shutdown(double timeout_s);
void sns_sender_before_fork(void);
void sns_sender_after_fork_parent(void);
/* In the child: a fresh period and sender (the parent sends what it recorded). */
void sns_core_after_fork_child(void);
void sns_sender_get_stats(sns_sender_stats *out);
void sns_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
