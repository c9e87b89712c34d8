/* What the query API computes from stored rows (engine-neutral): a function's figures (sums, means,
 * rates, trend slopes), its slowdown against the previous version, its percentiles. A store's reads
 * hand typed rows (below) to these accumulators; no store decides what a figure means.
 *
 * Trends are least-squares fits over the window's points, one point per slice (versions summed),
 * x = hours since the window's start, y = the point's mean duration (points with sampled calls) or
 * error rate (points with calls). A pre-aggregated span (an hour, a 10-minute block) carries the
 * fit's sums over its own points (srv_trend_part) so that it need not list them. */
#ifndef SRV_QUERY_FIGURES_H
#define SRV_QUERY_FIGURES_H

#include <stdbool.h>
#include <stdint.h>

#include "hud/codec.h"
#include "sketch_bins.h"
#include "store_reads.h"

/* One function's figures over one time span of one version (or of all: version_id 0). */
typedef struct srv_fn_row {
  int64_t fn, version_id;
  int64_t slice; /* start of the span, unix s */
  int64_t count, errors, sampled;
  double sum, sumsq, self; /* ns */
} srv_fn_row;

/* The fit's sums over the points of a span starting at S: n points with y defined, sum u, sum u^2,
 * sum y, sum u*y, with u = (point - S) / 3600. */
typedef struct srv_trend_part {
  int64_t n;
  double u, uu, y, uy;
} srv_trend_part;

typedef struct q_point {
  int64_t slice;
  int64_t count, errors, sampled;
  double sum;
} q_point;

typedef struct q_tsum {
  long double n, sx, sxx, sy, sxy;
} q_tsum;

/* A function's figures being accumulated. Zero-initialise; q_fig_free() after. */
typedef struct q_fig {
  int64_t fn;
  int64_t count, errors, sampled;
  double sum, sumsq, self;
  q_point *pts; /* the points of the minute rows, in slice order per read */
  size_t n_pts, cap_pts;
  int spans;        /* spans with trend sums were added */
  q_tsum td, te;    /* their duration and error-rate sums, shifted into the window */
  int64_t ver_n[2], ver_sum[2]; /* sampled calls and their duration, previous [0] / current [1] version */
  srv_bins_acc sketch;          /* merged sketch, when percentiles are asked */
} q_fig;

/* Adds a minute (or stored hourly) row; POINTS: keep it as a trend point (a row of the same slice as
 * the last one joins its point). */
int q_fig_add(q_fig *f, const srv_fn_row *r, bool points);
/* Adds a pre-aggregated span with its trend sums D (duration) and E (error rate); NULL: no trends. */
void q_fig_add_span(q_fig *f, const srv_fn_row *r, const srv_trend_part *d, const srv_trend_part *e, int64_t from_s);
/* Adds sampled calls and their summed duration of the previous (CURRENT 0) or current version. */
void q_fig_add_version(q_fig *f, int current, int64_t sampled, int64_t sum);
/* Fills calls, errors, error_rate, sampled_count, mean_duration, self_duration_mean and both trends. */
void q_fig_summary(const q_fig *f, int64_t from_s, hud_function_summary *out);
/* The version sums F accumulated. */
void q_fig_version_sums(const q_fig *f, srv_version_sums *out);
/* Fills slowdown and previous_version (PREV_NAME) from VS by the one rule of q_slowdown. */
void q_apply_slowdown(const srv_version_sums *vs, const char *prev_name, hud_function_summary *out);
void q_fig_free(q_fig *f);

/* The slowdown rule: both versions have sampled calls with a positive mean duration in the window;
 * then *PCT = the mean's change in percent and 1 is returned, else 0. N and SUM: previous [0],
 * current [1]. */
int q_slowdown(const int64_t n[2], const int64_t sum[2], double *pct);

/* p50, p90, p95 and p99 of merged sketch K into OUT (0 when K is empty or invalid). */
int q_fig_percentiles(srv_bins_acc *k, hud_function_summary *out);
/* Quantiles QS[0..N) of a stored merged sketch BLOB (LEN 0: none) into OUT, all 0 when it has no
 * values; HUD_EPARSE for a bad blob. */
int q_blob_quantiles(const unsigned char *blob, size_t len, const double *qs, size_t n, double *out);

/* Figures from a read's sums (store_reads.h): a series point, a version's figures, a flow's figures
 * (rates, means, stddev, percentiles of the merged sketch). HUD_EPARSE for a bad sketch blob. */
int q_point_of(const srv_series_row *r, hud_time_point *out);
int q_version_of(const srv_version_row *r, hud_version_stats *out);
int q_flow_figures(const srv_sums *s, hud_flow_summary *out);
/* Exception paths in the API's order (count descending, then type, origin uuid, the path's uuids,
 * catcher uuid with escaped first: the same in every engine), at most LIMIT kept. */
void q_exception_flows_order(hud_exception_flows_response *out, int limit);
/* p50/p90/p95/p99 of a function from its merged sketch K. */
int q_sketch_percentiles(const srv_sketch_ref *k, hud_function_summary *out);

#endif
