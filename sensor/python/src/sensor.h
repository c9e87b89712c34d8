/* Internal interface of the Python sensor's native module (_hud_sensor).
 *
 * Threading: everything marked "GIL" is read and written only while holding the GIL, which
 * is what makes the hot path free of atomics: CPython 3.11-3.13 (default builds) run at most
 * one thread of Python code at a time, and every hook is called from Python code. The sender
 * thread takes the GIL only for the snapshot (a pointer swap plus line-number lookups). */
#ifndef HUD_SENSOR_INTERNAL_H
#define HUD_SENSOR_INTERNAL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hud/model.h"
#include "hud/sketch.h"

#define SNS_NONE 0xffffffffu  /* no caller / no function */
/* Functions kept per exception path: the origin and the protocol's limit of propagated ones.
 * A longer path keeps its first SNS_XF_MAX_PATH and is counted as cut (dropped.exception_flows). */
#define SNS_XF_MAX_PATH (1 + HUD_MAX_PROPAGATION)
#define SNS_SKETCH_ALPHA HUD_SKETCH_DEFAULT_ALPHA /* the store merges sketches of one alpha only */

/* One instrumented code object (a function of the application). */
typedef struct sns_fn {
  /* Hot: sampling state. */
  uint32_t countdown;   /* calls until the next timed call */
  uint32_t interval;    /* current sampling interval (1 = time every call) */
  uint64_t win_start;   /* ticks: start of the current one-second sampling window */
  uint32_t win_samples; /* timed calls in that window */
  uint32_t timed_live;  /* timed calls of it running now */
  /* Cold: identity. Written once by sns_declare (GIL), read by the sender afterwards. */
  PyObject *code;       /* strong ref once bound; keeps line tables alive */
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
extern uint32_t sns_nfns; /* GIL for writes; the sender reads it under the GIL in snapshots */
static inline sns_fn *sns_fn_at(uint32_t i) { return &sns_fn_pages[i / SNS_FN_PAGE][i % SNS_FN_PAGE]; }

/* Aggregate of one (function, caller, call site, flow) in one period. */
typedef struct sns_edge {
  uint32_t fn;          /* SNS_NONE = empty slot */
  uint32_t caller;      /* SNS_NONE = no instrumented caller */
  uint32_t off;         /* call-site instruction index in the caller's code */
  uint32_t flow;        /* 0 = no flow */
  int64_t count, sampled, sum_ns, self_ns;
  double sumsq;
  hud_sketch *sketch;   /* lazily created on the first timed call */
  int32_t line;         /* call-site line, resolved at snapshot */
} sns_edge;

/* Exceptions escaping a function, per edge key and type. */
typedef struct sns_exc {
  uint32_t fn, caller, off, flow;
  const char *type;     /* interned by the type-name cache, lives for the process */
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
  int64_t extra_ns;     /* sensor CPU spent in Python (the import-time rewrite) */
  int64_t dropped_invocations, dropped_xflows;
  int64_t cut_xflows;   /* exception paths longer than SNS_XF_MAX_PATH (kept cut) */
} sns_period;

/* A flow (endpoint or queue consumer); registered once, lives for the process. */
typedef struct sns_flowdef {
  hud_flow_kind kind;
  char *method, *route, *task, *queue;
  hud_uuid flow_id;
} sns_flowdef;

extern sns_period *sns_cur;     /* GIL */
extern sns_flowdef *sns_flowdefs; /* index 0 unused */
extern uint32_t sns_nflows;

/* Clock. */
/* Flows (hot.c keeps them; flow.c enters and leaves them). GIL. */
uint32_t sns_flow_endpoint(const char *method, const char *route); /* 0 with a Python error set */
void sns_flow_add(uint32_t idx, int status, int64_t dur_ns, const char *type_name);
const char *sns_type_name(PyTypeObject *t); /* interned for the process */
PyObject *sns_flow_var(void);               /* borrowed */
int sns_flow_init(PyObject *module);        /* adds flow.c's functions */

uint64_t sns_ticks(void);
double sns_ns_per_tick(void);
hud_time_ns sns_wall_ns(void);

/* Memory the sensor holds (approximate, bytes). */
extern int64_t sns_mem_bytes;
void *sns_calloc(size_t n, size_t size);
void sns_free(void *p, size_t size);

/* Period tables (GIL). */
sns_period *sns_period_new(void);
void sns_period_clear(sns_period *p);
sns_edge *sns_edge_get(sns_period *p, uint32_t fn, uint32_t caller, uint32_t off, uint32_t flow);
sns_edge *sns_edge_find(const sns_period *p, uint32_t fn, uint32_t caller, uint32_t off, uint32_t flow);

/* Sender (send.c). */
typedef struct sns_settings {
  double interval_s;
  double budget;
  int backlog_max;
  char *service, *version, *environment, *host, *runtime, *log_file;
  hud_tag *tags;
  size_t n_tags;
} sns_settings;

int sns_sender_start(PyObject *cfg_dict);
int sns_sender_flush(double timeout_s);   /* call with the GIL; releases it while waiting */
int sns_sender_shutdown(double timeout_s);
void sns_sender_before_fork(void);
void sns_sender_after_fork_parent(void);
void sns_sender_after_fork_child(void);
PyObject *sns_sender_stats(void);
void sns_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Called by the sender under the GIL: closes the open exception paths and swaps periods.
 * FINAL: the last snapshot before exit (calls still running stay in the retired period).
 * Returns the retired period (owned by the sender until sns_period_clear). */
sns_period *sns_snapshot_locked(sns_period *fresh, bool final, uint32_t *nfns_out);
/* Recomputes the sampling quota from the retired period (no GIL needed). */
void sns_adapt_sampling(const sns_period *retired, double interval_s, double budget);
extern double sns_cal_call_ns, sns_cal_sample_ns;

#endif
