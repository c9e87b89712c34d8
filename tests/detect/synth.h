/* A synthetic Python-like service for detection tests: a few flows (endpoints and a queue
 * consumer) over a shared set of functions, simulated invocation by invocation with lognormal
 * self times, random exceptions that propagate up the call tree until a function catches them,
 * per-call sampling, and the aggregates the sensor would send, summed per (flow, function, caller).
 *
 * Changes can be planted per function (self time factor, raise probability, calls factor) to
 * build a candidate snapshot with a known regression; a global drift factor models the
 * load-dependent noise between two windows. */
#ifndef SYNTH_H
#define SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "detect.h"
#include "hud/sketch.h"

#define SYNTH_MAX_FNS 32
#define SYNTH_MAX_DEPTH 16

typedef struct synth_fn {
  const char *module_path; /* e.g. "shop/db.py" */
  const char *qualname;    /* e.g. "fetch_order" */
  char id[37];             /* hud_function_id(module_path, qualname) */
} synth_fn;

/* A planted change, applied to every call of the named function (qualname). */
typedef struct synth_change {
  const char *qualname;
  double self_factor;  /* multiplies the self time; 0 = unchanged */
  double raise_prob;   /* new probability to raise; < 0 = unchanged */
  double calls_factor; /* multiplies calls per parent invocation; 0 = unchanged */
  const char *raise_type; /* the type it raises; NULL = unchanged */
} synth_change;

typedef struct synth_params {
  uint64_t seed;
  size_t invocations;    /* per flow */
  double sample_rate;    /* probability that a call's duration is measured (1 = all) */
  double drift;          /* multiplies every self time (1 = none): a busy or idle host */
  double fn_drift_sigma; /* each function's self time times exp(sigma N(0,1)), drawn per
                            function from drift_seed: what differs between two deployments of
                            the same code (process, data, neighbours); 0 = none */
  uint64_t drift_seed;
  const synth_change *changes;
  size_t n_changes;
  int sketches;          /* 1: also collect duration sketches per row and per flow */
} synth_params;

#define SYNTH_MAX_EXC_TYPES 4

/* Per (flow, function, caller) aggregate, with the call line of the caller. */
typedef struct synth_row {
  int flow, fn, caller; /* caller -1 for the flow's root */
  int call_line;
  srv_det_stats st;
  double sum_int_ns;     /* sum of durations rounded to whole ns per call (what the wire carries) */
  double self_int_ns;
  const char *exc_types[SYNTH_MAX_EXC_TYPES]; /* exceptions escaping fn on this edge, by type */
  uint64_t exc_counts[SYNTH_MAX_EXC_TYPES];
  int n_exc_types;
  hud_sketch *sketch; /* sampled durations (params.sketches) */
} synth_row;

typedef struct synth_exc_row {
  int flow, origin, caught; /* caught -1: escaped the flow */
  const char *type;
  int path[SYNTH_MAX_DEPTH]; /* functions escaped after the origin, innermost first */
  int n_path;
  uint64_t count;
} synth_exc_row;

/* One simulated snapshot. The srv_det_* views point into this struct. */
typedef struct synth_out {
  synth_row *rows;
  size_t n_rows;
  synth_exc_row *exc_rows;
  size_t n_exc_rows;
  srv_det_stats flow_st[8];
  double flow_sum_int_ns[8];
  hud_sketch *flow_sketch[8];
  uint64_t flow_status[8][2]; /* [flow][0] = 2xx count, [1] = 5xx count */
  /* Views for srv_detect_run(). */
  srv_det_call *calls;
  srv_det_flow *flows;
  srv_det_exc *excs;
  const char **through; /* storage of excs[].through */
  srv_det_snapshot snap;
} synth_out;

/* The service's functions and flows (static tables). */
size_t synth_fn_count(void);
const synth_fn *synth_fns(void); /* ids filled on first call */
int synth_fn_index(const char *qualname);
size_t synth_flow_count(void);
const char *synth_flow_name(int flow);
const char *synth_flow_kind(int flow); /* "endpoint" | "consumer" */
int synth_flow_root(int flow);         /* function index */

/* Simulates P->invocations invocations of every flow. Returns 0 or HUD_ENOMEM. */
int synth_run(const synth_params *p, const char *label, synth_out *out);
void synth_out_free(synth_out *out);

#endif
