/* Regression detection with root cause.
 *
 * Pure functions over typed aggregates: no store, no JSON. The caller (the issues query)
 * builds two snapshots of the same service and environment — a baseline (previous version or
 * previous window) and a candidate (new version or recent window) — and gets back a list of
 * issues, each with its statistics and the functions that explain it.
 *
 * Tests performed per run:
 *  - duration of every flow and every function: Welch's t-test on the sampled statistics
 *    (sampled_count, sum, sum of squares);
 *  - error rate of every flow and every function: two-proportion z-test on (errors, calls).
 * An issue is raised when all of these hold:
 *  - both sides have enough data (min_samples sampled calls for durations, min_calls calls and
 *    min_errors candidate errors for error rates);
 *  - the Benjamini–Hochberg adjusted p-value (q-value) over every test of the run is <= alpha,
 *    which bounds the expected share of false issues in a run by alpha (and the chance of any
 *    false issue at all by alpha when nothing changed);
 *  - the increase is at least min_rel_increase relative and min_abs_increase_ns absolute, and the
 *    lower end of its relative interval at 1 - alpha is at least min_rel_ci_low (durations), or
 *    min_rate_increase absolute and min_rel_rate_increase relative (errors).
 *
 * Root cause of a duration issue: the change of the subject's mean is split exactly over the
 * functions of its call tree as  delta = sum_f (m'_f * s'_f - m_f * s_f)  where m_f is the calls
 * of f per invocation of the subject and s_f the mean self time of f. For a flow, m_f and s_f are
 * exact (aggregates are kept per flow); for a function, the tree below it is walked over the
 * global call graph and m_f propagated along edges (the gprof assumption: a callee behaves the
 * same whoever calls it). Each contribution is further split into "slower" (m' * ds) and
 * "called more often" (dm * s).
 * Root cause of an error issue: the exception origins (where the exception was raised) whose
 * rate per invocation of the subject increased, with their share of the rate increase. */
#ifndef SRV_DETECT_H
#define SRV_DETECT_H

#include <stddef.h>
#include <stdint.h>

/* Figures of one set of calls, summed over a snapshot. Durations in nanoseconds. */
typedef struct srv_det_stats {
  uint64_t count;         /* exact number of calls (invocations for a flow) */
  uint64_t sampled_count; /* calls whose duration was measured */
  double sum_ns;          /* sum of durations over sampled calls */
  double sumsq_ns;        /* sum of squared durations over sampled calls */
  double self_sum_ns;     /* sum of self (exclusive) durations over sampled calls */
  uint64_t errors;        /* calls that ended with an exception escaping (flows: failed requests) */
} srv_det_stats;

/* One invocation aggregate key (function, caller, flow) summed over the snapshot. */
typedef struct srv_det_call {
  const char *flow_id;     /* NULL or "" when the call belongs to no flow */
  const char *function_id; /* required */
  const char *caller_id;   /* NULL or "": a root of its flow (or an unknown caller) */
  srv_det_stats st;
} srv_det_call;

/* One flow (an endpoint or a queue consumer). */
typedef struct srv_det_flow {
  const char *flow_id;          /* required, e.g. "GET /orders/<id>" */
  const char *root_function_id; /* NULL: every call of the flow with no caller is a root */
  srv_det_stats st;             /* invocations of the flow; self_sum_ns is unused */
} srv_det_flow;

/* Exceptions of one (type, origin, path, flow), with their count. */
typedef struct srv_det_exc {
  const char *flow_id;     /* NULL or "" outside flows */
  const char *type;        /* exception type, e.g. "KeyError" */
  const char *origin_id;   /* function where it was raised; required */
  const char *const *through; /* functions it escaped from after the origin, innermost first */
  size_t n_through;
  const char *caught_in; /* function that caught it; NULL: escaped the flow */
  uint64_t count;
} srv_det_exc;

/* Everything known about one side of the comparison. Pointers are borrowed for the duration of
 * srv_detect_run() only. */
typedef struct srv_det_snapshot {
  const char *label;     /* version string or window description, copied into issues */
  int64_t from_ms;       /* window start (unix ms), 0 if not a window */
  int64_t to_ms;         /* window end (exclusive) */
  const srv_det_call *calls;
  size_t n_calls;
  const srv_det_flow *flows;
  size_t n_flows;
  const srv_det_exc *excs;
  size_t n_excs;
} srv_det_snapshot;

typedef struct srv_det_config {
  double alpha;                  /* FDR level for Benjamini–Hochberg; confidence = 1 - alpha */
  uint64_t min_samples;          /* min sampled calls per side (duration tests) */
  uint64_t min_calls;            /* min calls per side (error tests) */
  uint64_t min_errors;           /* min errors on the candidate side (error tests) */
  double min_rel_increase;       /* duration: min relative increase of the mean (0.10 = +10%) */
  double min_abs_increase_ns;    /* duration: min absolute increase of the mean */
  double min_rate_increase;      /* errors: min absolute increase of the rate (0.005 = 0.5 pt) */
  double min_rel_rate_increase;  /* errors: min relative increase of the rate */
  double min_cause_share;        /* a root cause besides the first explains at least this share */
  size_t max_causes;             /* at most this many root causes per issue */
  int test_functions;            /* 0: flows only */
  double min_rel_ci_low;         /* duration: the lower end of the relative effect's interval at
                                    1 - alpha must reach this (0.05 = "surely at least +5%") */
} srv_det_config;

/* Defaults: alpha 0.001, min_samples 100, min_calls 200, min_errors 10, +10% and +0.25 ms with the
 * interval above +5%, +0.5 points and +50% error rate, causes with share >= 0.2, at most 3. */
void srv_det_config_default(srv_det_config *cfg);

typedef enum srv_issue_kind {
  SRV_ISSUE_FLOW_DURATION = 0,
  SRV_ISSUE_FUNCTION_DURATION,
  SRV_ISSUE_FLOW_ERRORS,
  SRV_ISSUE_FUNCTION_ERRORS,
} srv_issue_kind;

/* "flow_duration", "function_duration", "flow_errors", "function_errors". */
const char *srv_issue_kind_name(srv_issue_kind k);

/* One function that explains (part of) an issue. */
typedef struct srv_issue_cause {
  char *function_id;
  char *exception_type;   /* error issues: the type raised there; NULL for duration issues */
  double share;           /* contribution / subject's change (may exceed 1 when others improved) */
  double contribution;    /* ns per subject invocation (duration) or rate points (errors) */
  double slower_part;     /* duration: m' * (s' - s), the part due to slower self time */
  double more_calls_part; /* duration: (m' - m) * s, the part due to more calls per invocation */
  double base_self_mean_ns, cand_self_mean_ns;     /* duration: mean self time per call */
  double base_calls_per_inv, cand_calls_per_inv;   /* duration: calls per subject invocation */
  double base_rate, cand_rate;                     /* errors: exceptions per subject invocation */
  double p_value;   /* duration: Welch p of the cause's own duration (NaN when not testable) */
  uint64_t base_samples, cand_samples;             /* sampled calls of the cause */
  int depth;        /* call depth below the subject (0 = the subject itself) */
} srv_issue_cause;

typedef struct srv_issue {
  srv_issue_kind kind;
  char *subject;     /* flow id or function id */
  char *base_label;  /* baseline version or window */
  char *cand_label;
  int64_t base_from_ms, base_to_ms, cand_from_ms, cand_to_ms;
  double base_value; /* mean ns (duration) or error rate */
  double cand_value;
  double effect;     /* cand - base */
  double effect_lo, effect_hi; /* two-sided CI of the effect at level `confidence` */
  double rel_effect; /* effect / base (percent change / 100); +inf when base is 0 */
  double rel_lo, rel_hi;
  double statistic;  /* Welch t or two-proportion z */
  double df;         /* Welch degrees of freedom; 0 for z */
  double p_value;    /* two-sided, unadjusted */
  double q_value;    /* Benjamini–Hochberg adjusted over the run's tests */
  double confidence; /* 1 - alpha */
  uint64_t base_n, cand_n;         /* sampled calls (duration) or calls (errors) */
  uint64_t base_calls, cand_calls; /* exact calls */
  uint64_t base_errors, cand_errors;
  uint64_t base_sampled, cand_sampled;   /* sampled calls (both kinds) */
  double base_mean_ns, cand_mean_ns;     /* mean duration over sampled calls (both kinds) */
  double base_sd_ns, cand_sd_ns;         /* sample standard deviation of the duration */
  srv_issue_cause *causes;
  size_t n_causes;
  double explained; /* sum of all contributions / effect (duration: ~1 when the tree is complete) */
} srv_issue;

typedef struct srv_det_result {
  srv_issue *issues; /* sorted: kind order above, then q-value, then subject */
  size_t n_issues;
  size_t n_tests; /* tests that passed the sample-size guards (the BH family size) */
} srv_det_result;

/* Compares CAND against BASE. *OUT is filled and owned by the caller (srv_det_result_free).
 * CFG NULL: defaults. HUD_EINVAL on a NULL required pointer or a bad config;
 * HUD_ENOMEM on allocation failure (OUT is then empty). */
int srv_detect_run(const srv_det_snapshot *base, const srv_det_snapshot *cand,
                   const srv_det_config *cfg, srv_det_result *out);
void srv_det_result_free(srv_det_result *r);

#endif
