/* Regression detection with root cause.
 *
 * Pure functions over typed aggregates: no store, no JSON. The caller builds two snapshots of the
 * same service and environment — a baseline (previous version or previous window) and a candidate
 * (new version or recent window), each over its own span of data — and gets back one issue per
 * root cause, each with its statistics, the flows it slows (or fails) and the call path to it.
 *
 * The unit of evidence is what varies between deployments, not the single call. Testable units:
 *  - a function's self time per call (all its calls, every flow);
 *  - the calls of a function per call of its caller in a flow (each call edge below the flow's
 *    root), so that an N+1 is blamed on the function called more often, not on what it calls;
 *  - a flow's mean duration per request;
 *  - the rate per request of an exception (origin function, type) escaping a flow.
 * For a duration unit r = log(cand_mean / base_mean) with sampling variance v by the delta method
 * (var / (n mean^2) per side; calls: Poisson, 1/count per side). The common drift delta (a busy
 * host slows everything) and the between-deployment spread tau are estimated from the comparison
 * itself: median and 1.4826 MAD of r over the function self times with min_samples on both sides
 * (most functions did not change), the median sampling variance taken off; tau >= min_drift.
 * With fewer than min_drift_units such functions: delta = 0 and tau = max(min_drift,
 * default_drift). z = (r - beta delta) / sqrt(tau_u^2 + v): beta (1 unless learned) is how the
 * unit follows the host and tau_u the larger of tau and the unit's learned spread (cfg->learned);
 * no shift is taken off call counts. p is
 * one-sided (an increase), floored at DBL_MIN (never 0), q is Benjamini–Hochberg over every unit
 * tested in the run. Error rates: two-proportion z with the variance multiplied by
 * error_dispersion (requests are not independent between deployments either).
 *
 * An issue needs q <= alpha AND floors relative to each flow's size: the change the cause makes in
 * at least one flow (net of the host's shift) is >= min_abs_increase_ns and >= min_flow_share of that flow's
 * baseline mean per request. A function in no flow: its self time per call rose by
 * >= min_abs_increase_ns and >= min_rel_increase of its mean duration.
 *
 * Grouping: ONE issue per root cause and comparison, keyed by (kind, function, exception type).
 * A flow that regressed (its own test and floors) is attributed to the function with the largest
 * positive contribution in the exact decomposition of its change,
 *   delta_mean = sum_f (m'_f s'_f - m_f s_f)
 * (m_f calls of f per invocation of the flow, s_f mean self time of f; the candidate's self times
 * taken net of delta), split into "slower" m'(s' - s) and "more calls" (m' - m) s. When the top
 * contribution is mostly "more calls", the blame moves up the flow's call path to the function whose
 * calls per call of its caller rose most (the N+1 itself). A flow whose top contribution explains
 * < min_cause_share of its change gets an issue with function_id NULL.
 * A function whose own unit passes (q and floors) is an issue too, keyed the same way, so that the
 * flows it slows and a regression no flow shows (a cron job) both land on one issue.
 * New exceptions: a (type, origin) escaping a flow on the candidate side and never seen on the
 * baseline side (anywhere), while the baseline had >= min_new_baseline invocations of that flow:
 * an issue from the first occurrence, whatever the rate. */
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
/* A function's code identity on one side: issues say whether the root cause's code changed. */
typedef struct srv_det_fn {
  const char *function_id;
  const char *source_code_hash; /* NULL: unknown */
} srv_det_fn;

typedef struct srv_det_snapshot {
  const char *label;     /* version string or window description, copied into issues */
  int64_t from_ms;       /* first slice with data on this side (unix ms), 0 if unknown */
  int64_t to_ms;         /* end of the last slice with data (exclusive) */
  const srv_det_call *calls;
  size_t n_calls;
  const srv_det_flow *flows;
  size_t n_flows;
  const srv_det_exc *excs;
  size_t n_excs;
  const srv_det_fn *fns; /* optional: code hashes (functions not listed: unknown) */
  size_t n_fns;
} srv_det_snapshot;

typedef struct srv_det_config {
  double alpha;                 /* FDR level for Benjamini–Hochberg; confidence = 1 - alpha (0.001) */
  uint64_t min_samples;         /* duration units: sampled calls per side (100) */
  uint64_t min_calls;           /* error units: invocations of the flow per side (200) */
  uint64_t min_errors;          /* error rate increases: candidate errors (5) */
  double min_abs_increase_ns;   /* floor per request in a flow, or per call outside flows (0.1 ms) */
  double min_flow_share;        /* floor relative to the flow's baseline mean per request (0.05) */
  double min_rel_increase;      /* functions in no flow: relative to their mean duration (0.10) */
  double min_rate_increase;     /* errors: absolute rate increase (0.005 = 0.5 point) */
  double min_rel_rate_increase; /* errors: relative rate increase (0.5 = +50%) */
  double error_dispersion;      /* errors: variance multiplier of the two-proportion test (4) */
  uint64_t min_new_baseline;    /* new exceptions: baseline invocations of the flow (100) */
  double min_drift;             /* tau's floor, log scale (0.10 ~ 10% between deployments) */
  double default_drift;         /* tau when too few functions to estimate it (0.15) */
  size_t min_drift_units;       /* functions needed to estimate delta and tau (8) */
  double min_cause_share;       /* a flow's cause explains at least this share of its change (0.2);
                                   also the share of secondary causes */
  size_t max_causes;            /* at most this many causes listed per issue (3) */
  /* How each function's self time and each flow's mean follow the host, learned from the service's
   * own history (srv_det_learn): the shift taken off a unit is beta * delta instead of delta, and its
   * tau the larger of the run's and its learned one. NULL: beta = 1 and the run's tau everywhere (the
   * default). Borrowed for the duration of the run; sorted by key (as
   * srv_det_learn returns them). */
  const struct srv_det_learned *learned;
  size_t n_learned;
} srv_det_config;

/* Fills the defaults given above. */
void srv_det_config_default(srv_det_config *cfg);

typedef enum srv_issue_kind { SRV_ISSUE_DURATION = 0, SRV_ISSUE_ERRORS, SRV_ISSUE_NEW_EXCEPTION } srv_issue_kind;

/* "duration_regression", "error_rate_increase", "new_exception". */
const char *srv_issue_kind_name(srv_issue_kind k);

/* One function that explains (part of) an issue, in the issue's most affected flow. */
typedef struct srv_issue_cause {
  char *function_id;
  char *exception_type;   /* error issues: the type raised there; NULL for duration issues */
  double share;           /* contribution / sum of the positive contributions: 0..1 */
  double contribution;    /* ns per flow invocation (duration) or rate points (errors) */
  double slower_part;     /* duration: m' * (s' - s), the part due to slower self time */
  double more_calls_part; /* duration: (m' - m) * s, the part due to more calls per invocation */
  double base_self_mean_ns, cand_self_mean_ns;     /* duration: mean self time per call (raw) */
  double base_calls_per_inv, cand_calls_per_inv;   /* duration: calls per flow invocation */
  double base_rate, cand_rate;                     /* errors: exceptions per flow invocation */
  double p_value;   /* one-sided p of the cause's own unit for the issue's metric; NaN untested */
  uint64_t base_samples, cand_samples;             /* sampled calls (duration) or exceptions */
  int depth;        /* call depth below the flow's root (0 = the root); -1 unknown */
} srv_issue_cause;

/* A flow an issue affects. */
typedef struct srv_issue_flow {
  char *flow_id;
  double base_mean_ns, cand_mean_ns; /* the flow's mean per request */
  double effect_ns;                  /* this issue's cause's contribution, ns per request, as measured
                                        (the candidate's self time with the host's shift in it) */
  double flow_effect_ns;             /* the flow's whole change, cand - base mean */
  double base_rate, cand_rate;       /* errors: failures per request caused by this issue's exception */
  uint64_t base_calls, cand_calls, cand_errors; /* invocations; cand_errors of this issue's exception */
  double z, p_value, q_value;        /* the flow's own test (NaN when untested) */
  char **path;                       /* function ids, flow root first, the cause last */
  size_t n_path;                     /* 0 when the cause is not reached from the flow's root */
} srv_issue_flow;

typedef struct srv_issue {
  srv_issue_kind kind;
  char *function_id;     /* the root cause; NULL: a flow regressed and nothing explains it (flows[0] is it) */
  char *exception_type;  /* errors and new exceptions; NULL for durations */
  const char *metric;    /* static: "self_duration" | "calls_per_invocation" | "mean_duration" |
                            "error_rate" | "exceptions" */
  char *base_label, *cand_label;
  int64_t base_from_ms, base_to_ms, cand_from_ms, cand_to_ms; /* each side's own span */
  double base_value, cand_value; /* in the metric's unit (ns, calls per invocation, rate, count) */
  /* effect = base_value * rel_effect: the change as measured (cand - base; delta is not taken off:
   * drift_shift says how much of it the host explains); rel: cand/base - 1, +inf when base is 0;
   * intervals at `confidence` from the sampling variance (durations, calls: log scale; rates: Wald
   * with the dispersion). The test (statistic, p, q) is the one that allows for delta and tau. */
  double effect, effect_lo, effect_hi, rel_effect, rel_lo, rel_hi;
  double statistic;      /* z of the deciding unit (drift included) */
  const char *statistic_name; /* "z" */
  double df;             /* 0 for z */
  double p_value;        /* one-sided, never 0: floored at DBL_MIN (underflow means "< 1e-300") */
  double q_value;        /* Benjamini–Hochberg over the run; new exceptions: = p (not in the family) */
  double confidence;     /* 1 - alpha */
  double drift_sd, drift_shift; /* tau and the shift taken off the deciding unit (beta * delta; log scale) */
  uint64_t base_n, cand_n;      /* sampled calls (duration) or invocations (errors) of the deciding unit */
  uint64_t base_calls, cand_calls, base_errors, cand_errors;
  double base_sd_ns, cand_sd_ns; /* self_duration: sd of self time per call, estimated as the duration's
                                    coefficient of variation times the self mean (exact for leaves);
                                    mean_duration: the flow's sd per request; otherwise 0 */
  int code_changed;              /* source_code_hash of the cause differs: 1, same: 0, unknown: -1 */
  int self_includes_uninstrumented; /* self time rose and the code did not change */
  srv_issue_flow *flows;         /* affected flows, largest effect first */
  size_t n_flows;
  srv_issue_cause *causes;       /* causes[0] = the root cause, then secondary ones (share >= min_cause_share) */
  size_t n_causes;
  double explained;              /* sum of all contributions / the top flow's change (net of delta) */
} srv_issue;

/* What a comparison says about one duration unit: the material of learned drift.
 * Key: "s\x1f<function>" (self time), "f\x1f<flow>" (mean per request). */
typedef struct srv_det_residual {
  char *key;
  double r;     /* log ratio cand / base */
  double delta; /* the run's common shift */
  double v;     /* sampling variance of r */
} srv_det_residual;

typedef struct srv_det_result {
  srv_issue *issues; /* sorted: kind, then q-value, then function/flow id */
  size_t n_issues;
  size_t n_tests;    /* units tested (the BH family size) */
  double drift_shift, drift_sd; /* delta and tau (log scale) */
  size_t n_drift_units;         /* function self times they were estimated from */
  /* Every function self time and flow mean tested, except self times whose function's source hash
   * differs between the sides. */
  srv_det_residual *residuals;
  size_t n_residuals;
} srv_det_result;

/* How one unit follows the host, learned from past comparisons: on a busy host a function that
 * waits (a sleep, a lock, the GIL) slows several times more than one that computes. */
typedef struct srv_det_learned {
  char *key;     /* as srv_det_residual */
  double beta;   /* r ~ beta * delta; 1 = like the median function */
  double tau;    /* how far r strays from beta * delta beyond sampling (log scale); 0 = unknown */
  unsigned n;    /* comparisons it was learned from */
} srv_det_learned;

/* Learns beta for each unit from the residuals of past comparisons HIST (N of them, any order): a
 * regression of r on delta through the origin over the comparisons where |delta| >= 0.1 (the host
 * moved; elsewhere a step in r is a change and says nothing about the host), shrunk towards 1 (as if
 * two comparisons with a 10% shift had shown beta = 1), each |r| clipped at log 4 (a bigger step is
 * a change, not drift), beta kept within [0, 6]. Then tau: tau^2 = mean over the comparisons of
 * (r - beta delta)^2 (clipped at log 4 as well) minus the mean sampling variance, from >= 3
 * comparisons (0 otherwise). Units seen in fewer than MIN_PAIRS comparisons are left out. *OUT sorted
 * by key, owned by the caller (srv_det_learned_free). HUD_ENOMEM, HUD_EINVAL. */
int srv_det_learn(const srv_det_result *const *hist, size_t n, unsigned min_pairs, srv_det_learned **out,
                  size_t *n_out);
void srv_det_learned_free(srv_det_learned *l, size_t n);

/* Compares CAND against BASE. *OUT is filled and owned by the caller (srv_det_result_free).
 * CFG NULL: defaults. HUD_EINVAL on a NULL required pointer or a bad config;
 * HUD_ENOMEM on allocation failure (OUT is then empty). */
int srv_detect_run(const srv_det_snapshot *base, const srv_det_snapshot *cand,
                   const srv_det_config *cfg, srv_det_result *out);
void srv_det_result_free(srv_det_result *r);

/* Whether the metric of ISSUE returned: CAND (newer data) is tested against the baseline stored in
 * ISSUE (base_value, base_n, base_sd_ns, flows[0]) with the issue's drift_sd and no drift shift,
 * one-sided at alpha without multiplicity correction. *RETURNED = 1 when CAND no longer shows the
 * issue (not significant, or under the floors; a new exception: none in CAND while its flow had
 * >= min_new_baseline invocations), 0 when it still does. Returns 0, HUD_ENOTFOUND when CAND has
 * too little data to say (then *RETURNED is untouched), HUD_EINVAL on NULL arguments. */
int srv_detect_still(const srv_issue *issue, const srv_det_snapshot *cand, const srv_det_config *cfg,
                     int *returned);

#endif
