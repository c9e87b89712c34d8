/* Statistics over the aggregates the sensor sends: mean/standard deviation from count, sum and
 * sum of squares, Welch's t-test (duration regressions), the two-proportion z-test (error-rate
 * changes), percent change and a least-squares trend over time slices.
 *
 * Every function returns 0 or a negative HUD_E* code and writes its result through an
 * out-parameter, which is left untouched on error (except hud_percent_change, see there).
 * Conventions: "a" is the baseline (before, previous version), "b" the candidate (after,
 * current); differences are b - a. p-values are two-sided. Degenerate input:
 *   HUD_EINVAL  malformed: NaN/inf, negative counts or variances, n too small for the test
 *               (n < 2 for a t-test), successes > trials, confidence outside (0, 1);
 *   HUD_ERANGE  well-formed but the test is undefined: zero variance on both sides (t-test),
 *               pooled proportion 0 or 1 (z-test: no events or only events on both sides),
 *               all x equal (trend), zero baseline (percent change).
 * Everything is computed in long double where cancellation matters. Thread-safe, no state. */
#ifndef HUD_STATS_H
#define HUD_STATS_H

#include <stddef.h>
#include <stdint.h>

/* A sample summarised by its size, mean and sample standard deviation (n - 1 denominator). */
typedef struct hud_summary {
  uint64_t n;
  double mean;
  double var; /* sample variance, s^2 */
  double sd;  /* sqrt(var) */
} hud_summary;

/* Summary from COUNT values whose sum is SUM and sum of squares is SUM_SQ (e.g. ns and ns^2).
 * COUNT >= 1 (HUD_EINVAL for 0); with COUNT == 1 var = sd = 0. SUM_SQ must be >= 0 and
 * consistent with SUM (SUM^2 <= COUNT * SUM_SQ up to rounding, HUD_EINVAL otherwise); a slightly
 * negative difference from rounding gives var = 0. Precision is bounded by the inputs: the
 * variance carries an absolute error of about 1e-16 * SUM_SQ / (COUNT - 1), i.e. a relative
 * error of ~1e-16 / cv^2 (cv = sd / mean); fine for durations, see hud_moments otherwise. */
int hud_summary_from_sums(uint64_t count, double sum, double sum_sq, hud_summary *out);

/* Running count and sums of (x - shift) and (x - shift)^2 in long double, shift = the first
 * value: no cancellation when the spread is tiny next to the mean (durations of hours, counts
 * of 1e9), and no division on the hot path. Zero-initialise to start; merge adds two. */
typedef struct hud_moments {
  uint64_t n;
  double shift;
  long double s1; /* sum of (x - shift) */
  long double s2; /* sum of (x - shift)^2 */
} hud_moments;
void hud_moments_add(hud_moments *m, double x);
void hud_moments_merge(hud_moments *dst, const hud_moments *src);
int hud_moments_summary(const hud_moments *m, hud_summary *out); /* HUD_EINVAL when n == 0 */
/* The wire form: sum and sum of squares (rounded to double). */
void hud_moments_sums(const hud_moments *m, double *sum, double *sum_sq);

/* Welch's unequal-variance t-test of mean(b) - mean(a). */
typedef struct hud_ttest {
  double diff;       /* mean_b - mean_a */
  double se;         /* sqrt(var_a/n_a + var_b/n_b) */
  double t;          /* diff / se */
  double df;         /* Welch–Satterthwaite degrees of freedom */
  double p;          /* two-sided p-value */
  double confidence; /* as requested, e.g. 0.95 */
  double ci_lo, ci_hi; /* confidence interval of diff: diff -/+ t_{(1+c)/2, df} * se */
} hud_ttest;
/* Reads n, mean and var (not sd) of each side. Needs n >= 2 on both sides (HUD_EINVAL) and
 * var_a + var_b > 0 (HUD_ERANGE). One side with zero variance is fine (df = n_other - 1). */
int hud_welch_ttest(const hud_summary *a, const hud_summary *b, double confidence, hud_ttest *out);

/* Two-proportion z-test of rate_b - rate_a (e.g. errors / calls). */
typedef struct hud_ztest {
  double rate_a, rate_b; /* x / n */
  double diff;           /* rate_b - rate_a */
  double pooled;         /* (x_a + x_b) / (n_a + n_b) */
  double se_pooled;      /* sqrt(pooled (1 - pooled) (1/n_a + 1/n_b)), used for z */
  double z;              /* diff / se_pooled */
  double p;              /* two-sided p-value */
  double confidence;
  double se;             /* unpooled sqrt(ra(1-ra)/n_a + rb(1-rb)/n_b), used for the CI */
  double ci_lo, ci_hi;   /* Wald interval of diff: diff -/+ z_{(1+c)/2} * se */
} hud_ztest;
/* Needs n_a, n_b >= 1 and x <= n (HUD_EINVAL); pooled in (0, 1) (HUD_ERANGE otherwise). */
int hud_two_proportion_ztest(uint64_t x_a, uint64_t n_a, uint64_t x_b, uint64_t n_b,
                             double confidence, hud_ztest *out);

/* 100 * (b - a) / |a|: +50 means b is 50% above a, whatever the sign of a. a == b gives 0
 * (also when both are 0). a == 0 with b != 0: *OUT = +inf or -inf (the sign of b) and
 * HUD_ERANGE, so that callers can show "new" instead of a number. NaN/inf: HUD_EINVAL. */
int hud_percent_change(double a, double b, double *out);

/* Ordinary least squares y = intercept + slope * x over N points (time slices). */
typedef struct hud_trend {
  size_t n;
  double slope, intercept;
  double slope_se; /* standard error of the slope; NaN when n == 2 */
  double t;        /* slope / slope_se; NaN when n == 2; 0 when every y is equal */
  double df;       /* n - 2 */
  double p;        /* two-sided p-value of slope != 0; NaN when n == 2 */
  double r2;       /* coefficient of determination; 1 for a perfect fit, 0 when y is constant */
} hud_trend;
/* N >= 2 and finite values (HUD_EINVAL); HUD_ERANGE when every x is the same. */
int hud_trend_fit(const double *x, const double *y, size_t n, hud_trend *out);

/* Distribution functions used by the tests above, exposed for reuse. Accurate to ~1e-12
 * relative in the ranges the tests use. */
/* Regularised incomplete beta I_x(a, b), a, b > 0, x in [0, 1]; NaN on bad arguments. */
double hud_betainc(double a, double b, double x);
/* Student t with DF > 0 degrees of freedom: P(T <= t), and the two-sided tail P(|T| >= |t|). */
double hud_t_cdf(double t, double df);
double hud_t_sf2(double t, double df);
/* Inverse of hud_t_cdf for p in (0, 1); NaN on bad arguments. */
double hud_t_quantile(double p, double df);
/* Standard normal CDF and its inverse (p in (0, 1); NaN on bad arguments). */
double hud_normal_cdf(double z);
double hud_normal_quantile(double p);

#endif
