/* Statistics against reference values.
 *
 * The tables below were computed once with Debian 12's /usr/bin/python3 (scipy 1.10.1, numpy
 * 1.24.2) and pasted here; the script is kept in this comment so they can be recomputed:
 *   Welch: scipy.stats.ttest_ind_from_stats(mean_b, sd_b, n_b, mean_a, sd_a, n_a, equal_var=False)
 *     for t and p; df = (va+vb)^2 / (va^2/(na-1) + vb^2/(nb-1)) with va = sd_a^2/n_a, vb likewise;
 *     "p check" = 2*scipy.stats.t.sf(|t|, df); CI = diff -/+ scipy.stats.t.ppf(0.5+c/2, df)*se.
 *   t/normal: scipy.stats.t.cdf, 2*scipy.stats.t.sf(|t|), scipy.stats.t.ppf, scipy.stats.norm.cdf
 *     and .ppf; scipy.special.betainc.
 *   Two proportions: pooled z by hand, p = 2*scipy.stats.norm.sf(|z|),
 *     CI = diff -/+ scipy.stats.norm.ppf(0.5+c/2) * sqrt(ra(1-ra)/na + rb(1-rb)/nb).
 *   Trend: scipy.stats.linregress(x, y) (slope, intercept, stderr, pvalue, rvalue^2).
 *   Summaries: exact integer arithmetic with fractions.Fraction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>

#include <cmocka.h>

#include "hud/err.h"
#include "hud/stats.h"

#define REL 1e-6

static void assert_rel(double got, double want, double rel, const char *what, int line) {
  double err = want == 0 ? fabs(got) : fabs(got - want) / fabs(want);
  if (!(err <= rel)) {
    fail_msg("line %d %s: got %.17g want %.17g (rel err %.3g)", line, what, got, want, err);
  }
}
#define ASSERT_REL(got, want) assert_rel((got), (want), REL, #got, __LINE__)

struct welch_case {
  uint64_t na;
  double mean_a, var_a;
  uint64_t nb;
  double mean_b, var_b, conf, t, df, p, p_check, ci_lo, ci_hi;
};
struct prop_case {
  uint64_t xa, na, xb, nb;
  double conf, z, p, ci_lo, ci_hi;
};

static const struct welch_case welch_cases[] = {
  {5, 10.0, 4.0, 7, 13.5, 9.610000000000001, 0.95, /* t */ 2.374392202237453, /* df */ 9.957986141251906, /* p */ 0.03908284907490213, /* p check */ 0.03908284907490213, /* ci */ 0.21370711822296728, 6.786292881777033},
  {30, 1200000.0, 90000000000.0, 45, 1050000.0, 168100000000.0, 0.99, /* t */ -1.8276984678035602, /* df */ 72.30032162478524, /* p */ 0.07172089745783095, /* p check */ 0.07172089745783095, /* ci */ -367121.73296823096, 67121.73296823094},
  {1000000, 250000.0, 8100000000.0, 1000000, 250300.0, 9025000000.0, 0.95, /* t */ 2.29248215970261, /* df */ 1994179.8270908683, /* p */ 0.021877939478830048, /* p check */ 0.021877939478830048, /* ci */ 43.514011765422254, 556.4859882345777},
  {12, 100.0, 1.0, 15, 112.0, 9.0, 0.9, /* t */ 14.516601093819213, /* df */ 17.723812132000546, /* p */ 2.807743863241834e-11, /* p check */ 2.807743863241834e-11, /* ci */ 10.565342923942481, 13.434657076057519},
  {1000000000, 3600000000000.0, 1e+18, 2000000000, 3600000200000.0, 1.44e+18, 0.95, /* t */ 4.822428221704121, /* df */ 2349428206.278658, /* p */ 1.418210799517563e-06, /* p check */ 1.418210799517563e-06, /* ci */ 118714.64351802519, 281285.3564819748},
  {8, 50.0, 0.0, 9, 47.0, 6.25, 0.95, /* t */ -3.5999999999999996, /* df */ 8.0, /* p */ 0.00698229823803436, /* p check */ 0.00698229823803436, /* ci */ -4.921670112527809, -1.0783298874721912},
  {2, 1.0, 0.25, 2, 3.0, 0.0625, 0.8, /* t */ 5.059644256269407, /* df */ 1.4705882352941178, /* p */ 0.06658937126933279, /* p check */ 0.06658937126933279, /* ci */ 1.1207095678035344, 2.8792904321964654},
};
static const double t_cdf_cases[][3] = { /* t, df, scipy.stats.t.cdf(t, df) */
  {0.5, 1.0, 0.6475836176504333},
  {-2.0, 1.0, 0.1475836176504332},
  {2.1, 2.5, 0.9277487776225781},
  {-1.3, 7.0, 0.11738391769618858},
  {3.7, 30.0, 0.9995677000733764},
  {6.0, 12.0, 0.9999689163056757},
  {0.01, 1000.0, 0.5039883590339064},
  {-4.5, 1000000.0, 3.398055252476946e-06},
  {2.0, 1000000000.0, 0.9772498679168433},
  {12.0, 30.0, 0.999999999999721},
};
static const double t_sf2_cases[][3] = { /* t, df, 2 * scipy.stats.t.sf(|t|, df) */
  {0.5, 1.0, 0.7048327646991336},
  {-2.0, 1.0, 0.2951672353008664},
  {2.1, 2.5, 0.1445024447548438},
  {-1.3, 7.0, 0.23476783539237717},
  {3.7, 30.0, 0.0008645998532472893},
  {6.0, 12.0, 6.216738864858567e-05},
  {0.01, 1000.0, 0.9920232819321873},
  {-4.5, 1000000.0, 6.796110504953892e-06},
  {2.0, 1000000000.0, 0.04550026416631333},
  {12.0, 30.0, 5.580185415199261e-13},
};
static const double t_ppf_cases[][3] = { /* p, df, scipy.stats.t.ppf(p, df) */
  {0.975, 1.0, 12.706204736432095},
  {0.995, 3.0, 5.84090929975643},
  {0.9, 10.0, 1.3721836411102863},
  {0.025, 4.5, -2.6589123472044043},
  {0.95, 100.0, 1.66023432606575},
  {0.9995, 2.0, 31.599054577041514},
  {0.975, 100000000.0, 1.9599640082627663},
  {1e-09, 5.0, -98.93722464837131},
};
static const double norm_ppf_cases[][2] = { /* p, scipy.stats.norm.ppf(p) */
  {0.5, 0.0},
  {0.975, 1.959963984540054},
  {0.995, 2.5758293035489004},
  {0.9, 1.2815515655446004},
  {0.025, -1.9599639845400545},
  {1e-10, -6.361340902404056},
  {0.999999, 4.753424308817087},
  {0.3, -0.5244005127080409},
};
static const double norm_cdf_cases[][2] = { /* z, scipy.stats.norm.cdf(z) */
  {-8.0, 6.22096057427174e-16},
  {-1.96, 0.024997895148220435},
  {0.0, 0.5},
  {0.3, 0.6179114221889526},
  {2.5, 0.9937903346742238},
  {6.0, 0.9999999990134123},
};
static const double betainc_cases[][4] = { /* a, b, x, scipy.special.betainc(a, b, x) */
  {0.5, 0.5, 0.3, 0.3690101195655454},
  {2.0, 3.0, 0.4, 0.5247999999999999},
  {10.0, 0.5, 0.99, 0.6579281751567843},
  {0.1, 20.0, 0.001, 0.7079970084234188},
  {50.0, 60.0, 0.45, 0.4642352914306064},
  {1.0, 1.0, 0.25, 0.25},
};
static const struct prop_case prop_cases[] = { /* by hand with scipy.stats.norm: pooled z, p = 2*norm.sf(|z|), Wald CI with norm.ppf */
  {12, 1000, 30, 1100, 0.95, /* z */ 2.496751135729437, /* p */ 0.012533688376410949, /* ci */ 0.003517320598588813, 0.027028133946865728},
  {0, 500, 7, 520, 0.95, /* z */ 2.6033209513428246, /* p */ 0.00923254782088482, /* ci */ 0.0035566228872347186, 0.023366454035842206},
  {450, 900, 400, 900, 0.99, /* z */ -2.360668426093902, /* p */ 0.0182420326556939, /* ci */ -0.11608075897970799, 0.004969647868596834},
  {3, 100000000, 9, 120000000, 0.9, /* z */ 1.4230249858855437, /* p */ 0.15472891223523694, /* ci */ -5.02626853829912e-09, 9.502626853829911e-08},
  {999, 1000, 1000, 1000, 0.95, /* z */ 1.0002500937891357, /* p */ 0.31718949224672377, /* ci */ -0.0009589837574297115, 0.0029589837574297132},
};
/* scipy.stats.linregress(x, y) */
static const double trend_x[] = {0.0, 60.0, 120.0, 180.0, 240.0, 300.0, 360.0, 420.0, 480.0, 540.0, 600.0, 660.0};
static const double trend_y[] = {1081.637, 1047.773, 1316.724, 1427.289, 1581.894, 1741.376, 1819.201, 2040.723, 2165.391, 2482.92, 2509.031, 2635.895};
static const double trend_ref[] = {/* slope */ 2.5382490675990677, /* intercept */ 983.1989743589743, /* stderr */ 0.0915107832991656, /* p */ 8.605437961219227e-11, /* r^2 */ 0.9871687935452739};
static const double trend2_x[] = {1700000000.0, 1700000300.0, 1700000600.0, 1700000900.0, 1700001200.0, 1700001500.0};
static const double trend2_y[] = {5.0, 4.0, 6.0, 5.0, 4.5, 5.2};
static const double trend2_ref[] = {/* slope */ 0.00014285714285714292, /* intercept */ -242852.3000000001, /* stderr */ 0.0005966649564829366, /* p */ 0.8225432092587375, /* r^2 */ 0.014128728414442713};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void summary_from_sums(void **state) {
  hud_summary s;
  /* 1, 2, 3, 4 by hand: mean 2.5, s^2 = 5/3. */
  assert_int_equal(hud_summary_from_sums(4, 10, 30, &s), 0);
  assert_int_equal(s.n, 4);
  ASSERT_REL(s.mean, 2.5);
  ASSERT_REL(s.var, 5.0 / 3.0);
  ASSERT_REL(s.sd, sqrt(5.0 / 3.0));
  /* One value: no spread. */
  assert_int_equal(hud_summary_from_sums(1, 7e9, 49e18, &s), 0);
  ASSERT_REL(s.mean, 7e9);
  assert_true(s.var == 0 && s.sd == 0);
  /* Durations of an hour (ns) with a spread of a second: 3.6e12 + k*1e6, k = 0..999; sums
   * rounded to double as they travel on the wire; exact answer from Fraction. */
  assert_int_equal(hud_summary_from_sums(1000, 3600499500000000.0, 1.29635967328335e+28, &s), 0);
  ASSERT_REL(s.mean, 3600499500000.0);
  ASSERT_REL(s.var, 8.341666666666667e+16);
  /* Identical values whose sums round: variance 0, not negative, not an error. */
  double v = 3600000000123.0;
  assert_int_equal(hud_summary_from_sums(3, 3 * v, 3 * v * v * (1 - 1e-15), &s), 0);
  assert_true(s.var == 0);
  /* Bad input. */
  assert_int_equal(hud_summary_from_sums(0, 0, 0, &s), HUD_EINVAL);
  assert_int_equal(hud_summary_from_sums(2, 2, -1, &s), HUD_EINVAL);
  assert_int_equal(hud_summary_from_sums(2, NAN, 1, &s), HUD_EINVAL);
  assert_int_equal(hud_summary_from_sums(2, 1, INFINITY, &s), HUD_EINVAL);
  assert_int_equal(hud_summary_from_sums(2, 10, 1, &s), HUD_EINVAL); /* sum^2/n > sum_sq */
}

static void moments_stable_at_large_counts(void **state) {
  /* 1e9 durations near 1e12 ns: 1e6 chunks of 1000 values, chunk j holds 500 x (B + d) and
   * 500 x (B + d + 2e6), d = (j % 5) * 1000, B = 1e12. Exact mean and s^2 from Fraction:
   * 1000001002000.0 and 1000002001000.002. Plain double sums could not give that (cv^2 ~ 1e-12). */
  hud_moments chunk[5] = {{0}};
  for (int r = 0; r < 5; r++) {
    for (int i = 0; i < 500; i++) {
      hud_moments_add(&chunk[r], 1e12 + r * 1000.0);
      hud_moments_add(&chunk[r], 1e12 + r * 1000.0 + 2e6);
    }
  }
  hud_moments all = {0};
  for (int j = 0; j < 1000000; j++) hud_moments_merge(&all, &chunk[j % 5]);
  hud_summary s;
  assert_int_equal(hud_moments_summary(&all, &s), 0);
  assert_int_equal(s.n, 1000000000);
  ASSERT_REL(s.mean, 1000001002000.0);
  ASSERT_REL(s.var, 1000002001000.002);
  /* Through the wire form the variance is gone (documented); the mean survives. */
  double sum, sum_sq;
  hud_moments_sums(&all, &sum, &sum_sq);
  hud_summary w;
  assert_int_equal(hud_summary_from_sums(all.n, sum, sum_sq, &w), 0);
  ASSERT_REL(w.mean, 1000001002000.0);
  /* Small case by hand: 2, 4, 4, 4, 5, 5, 7, 9 -> mean 5, s^2 = 32/7; sums 40 and 232. */
  hud_moments m = {0}, a = {0}, b = {0};
  const double xs[] = {2, 4, 4, 4, 5, 5, 7, 9};
  for (int i = 0; i < 8; i++) {
    hud_moments_add(&m, xs[i]);
    hud_moments_add(i < 3 ? &a : &b, xs[i]);
  }
  hud_moments_merge(&a, &b);
  assert_int_equal(hud_moments_summary(&m, &s), 0);
  ASSERT_REL(s.mean, 5);
  ASSERT_REL(s.var, 32.0 / 7.0);
  assert_int_equal(hud_moments_summary(&a, &s), 0);
  ASSERT_REL(s.var, 32.0 / 7.0);
  hud_moments_sums(&m, &sum, &sum_sq);
  ASSERT_REL(sum, 40);
  ASSERT_REL(sum_sq, 232);
  hud_moments empty = {0};
  assert_int_equal(hud_moments_summary(&empty, &s), HUD_EINVAL);
  hud_moments_merge(&a, &empty);
  assert_int_equal(a.n, 8);
}

static void welch_against_scipy(void **state) {
  for (size_t k = 0; k < COUNT(welch_cases); k++) {
    const struct welch_case *c = &welch_cases[k];
    hud_summary a = {c->na, c->mean_a, c->var_a, sqrt(c->var_a)};
    hud_summary b = {c->nb, c->mean_b, c->var_b, sqrt(c->var_b)};
    hud_ttest r;
    assert_int_equal(hud_welch_ttest(&a, &b, c->conf, &r), 0);
    ASSERT_REL(r.diff, c->mean_b - c->mean_a);
    ASSERT_REL(r.t, c->t);
    ASSERT_REL(r.df, c->df);
    ASSERT_REL(r.p, c->p);
    ASSERT_REL(r.p, c->p_check);
    ASSERT_REL(r.ci_lo, c->ci_lo);
    ASSERT_REL(r.ci_hi, c->ci_hi);
    assert_true(r.confidence == c->conf);
    /* Swapping the sides flips the sign and nothing else. */
    hud_ttest s;
    assert_int_equal(hud_welch_ttest(&b, &a, c->conf, &s), 0);
    ASSERT_REL(s.t, -c->t);
    ASSERT_REL(s.p, c->p);
    ASSERT_REL(s.ci_lo, -c->ci_hi);
  }
}

static void welch_degenerate(void **state) {
  hud_summary a = {10, 5, 1, 1}, b = {10, 6, 1, 1};
  hud_ttest r = {0};
  hud_summary one = {1, 5, 0, 0};
  assert_int_equal(hud_welch_ttest(&one, &b, 0.95, &r), HUD_EINVAL);
  assert_int_equal(hud_welch_ttest(&a, &one, 0.95, &r), HUD_EINVAL);
  hud_summary flat_a = {10, 5, 0, 0}, flat_b = {10, 6, 0, 0};
  assert_int_equal(hud_welch_ttest(&flat_a, &flat_b, 0.95, &r), HUD_ERANGE);
  assert_int_equal(hud_welch_ttest(&flat_a, &flat_a, 0.95, &r), HUD_ERANGE);
  hud_summary neg = {10, 5, -1, 0}, nan_mean = {10, NAN, 1, 1};
  assert_int_equal(hud_welch_ttest(&neg, &b, 0.95, &r), HUD_EINVAL);
  assert_int_equal(hud_welch_ttest(&a, &nan_mean, 0.95, &r), HUD_EINVAL);
  assert_int_equal(hud_welch_ttest(&a, &b, 0.0, &r), HUD_EINVAL);
  assert_int_equal(hud_welch_ttest(&a, &b, 1.0, &r), HUD_EINVAL);
  assert_int_equal(hud_welch_ttest(&a, &b, NAN, &r), HUD_EINVAL);
  /* The out-param is untouched on error. */
  assert_true(r.t == 0 && r.p == 0);
  /* Equal means: t = 0, p = 1, symmetric interval. */
  assert_int_equal(hud_welch_ttest(&a, &a, 0.95, &r), 0);
  assert_true(r.t == 0);
  ASSERT_REL(r.p, 1.0);
  ASSERT_REL(r.ci_lo, -r.ci_hi);
}

static void distributions_against_scipy(void **state) {
  for (size_t k = 0; k < COUNT(t_cdf_cases); k++) {
    ASSERT_REL(hud_t_cdf(t_cdf_cases[k][0], t_cdf_cases[k][1]), t_cdf_cases[k][2]);
    ASSERT_REL(hud_t_sf2(t_sf2_cases[k][0], t_sf2_cases[k][1]), t_sf2_cases[k][2]);
  }
  for (size_t k = 0; k < COUNT(t_ppf_cases); k++)
    ASSERT_REL(hud_t_quantile(t_ppf_cases[k][0], t_ppf_cases[k][1]), t_ppf_cases[k][2]);
  for (size_t k = 0; k < COUNT(norm_ppf_cases); k++) {
    double z = hud_normal_quantile(norm_ppf_cases[k][0]);
    if (norm_ppf_cases[k][1] == 0) assert_true(fabs(z) < 1e-15);
    else ASSERT_REL(z, norm_ppf_cases[k][1]);
  }
  for (size_t k = 0; k < COUNT(norm_cdf_cases); k++)
    ASSERT_REL(hud_normal_cdf(norm_cdf_cases[k][0]), norm_cdf_cases[k][1]);
  for (size_t k = 0; k < COUNT(betainc_cases); k++)
    ASSERT_REL(hud_betainc(betainc_cases[k][0], betainc_cases[k][1], betainc_cases[k][2]), betainc_cases[k][3]);
  /* By hand: t with 1 df is Cauchy, P(T <= 1) = 3/4; with 2 df, P(T <= t) = 1/2 + t / (2 sqrt(2 + t^2)). */
  ASSERT_REL(hud_t_cdf(1.0, 1.0), 0.75);
  ASSERT_REL(hud_t_cdf(3.0, 2.0), 0.5 + 3.0 / (2 * sqrt(11.0)));
  ASSERT_REL(hud_t_quantile(0.75, 1.0), 1.0);
  /* Round trips. */
  for (double p = 0.01; p < 1; p += 0.07) {
    ASSERT_REL(hud_t_cdf(hud_t_quantile(p, 3.3), 3.3), p);
    ASSERT_REL(hud_normal_cdf(hud_normal_quantile(p)), p);
  }
  assert_true(isnan(hud_t_quantile(0, 3)));
  assert_true(isnan(hud_t_quantile(1, 3)));
  assert_true(isnan(hud_t_cdf(1, 0)));
  assert_true(isnan(hud_t_cdf(NAN, 3)));
  assert_true(isnan(hud_normal_quantile(-0.1)));
  assert_true(isnan(hud_betainc(-1, 1, 0.5)));
  assert_true(isnan(hud_betainc(1, 1, 1.5)));
  assert_true(hud_betainc(2, 3, 0) == 0 && hud_betainc(2, 3, 1) == 1);
  assert_true(hud_t_sf2(INFINITY, 5) == 0);
  assert_true(hud_t_sf2(0, 5) == 1);
}

static void two_proportions_against_reference(void **state) {
  for (size_t k = 0; k < COUNT(prop_cases); k++) {
    const struct prop_case *c = &prop_cases[k];
    hud_ztest r;
    assert_int_equal(hud_two_proportion_ztest(c->xa, c->na, c->xb, c->nb, c->conf, &r), 0);
    ASSERT_REL(r.rate_a, (double)c->xa / c->na);
    ASSERT_REL(r.rate_b, (double)c->xb / c->nb);
    ASSERT_REL(r.z, c->z);
    ASSERT_REL(r.p, c->p);
    ASSERT_REL(r.ci_lo, c->ci_lo);
    ASSERT_REL(r.ci_hi, c->ci_hi);
  }
  /* By hand: 10/100 vs 20/100: pooled 0.15, se = sqrt(0.15*0.85*0.02), z = 0.1 / se. */
  hud_ztest r = {0};
  assert_int_equal(hud_two_proportion_ztest(10, 100, 20, 100, 0.95, &r), 0);
  ASSERT_REL(r.pooled, 0.15);
  ASSERT_REL(r.z, 0.1 / sqrt(0.15 * 0.85 * 0.02));
  /* Degenerate. */
  hud_ztest z = {0};
  assert_int_equal(hud_two_proportion_ztest(0, 100, 0, 200, 0.95, &z), HUD_ERANGE);     /* no errors */
  assert_int_equal(hud_two_proportion_ztest(100, 100, 200, 200, 0.95, &z), HUD_ERANGE); /* all errors */
  assert_int_equal(hud_two_proportion_ztest(1, 0, 1, 10, 0.95, &z), HUD_EINVAL);
  assert_int_equal(hud_two_proportion_ztest(1, 10, 0, 0, 0.95, &z), HUD_EINVAL);
  assert_int_equal(hud_two_proportion_ztest(11, 10, 1, 10, 0.95, &z), HUD_EINVAL);
  assert_int_equal(hud_two_proportion_ztest(1, 10, 2, 10, 1.5, &z), HUD_EINVAL);
  assert_true(z.z == 0 && z.p == 0);
  /* Counts near 2^64 do not overflow the pooled sums. */
  assert_int_equal(hud_two_proportion_ztest(UINT64_MAX / 2, UINT64_MAX, 1, 2, 0.95, &z), 0);
  assert_true(fabs(z.z) < 1e-6);
}

static void percent_change_cases(void **state) {
  double pc = 123;
  assert_int_equal(hud_percent_change(200, 250, &pc), 0);
  ASSERT_REL(pc, 25);
  assert_int_equal(hud_percent_change(200, 100, &pc), 0);
  ASSERT_REL(pc, -50);
  assert_int_equal(hud_percent_change(-200, -100, &pc), 0); /* rose, whatever the sign */
  ASSERT_REL(pc, 50);
  assert_int_equal(hud_percent_change(0, 0, &pc), 0);
  assert_true(pc == 0);
  assert_int_equal(hud_percent_change(5, 5, &pc), 0);
  assert_true(pc == 0);
  assert_int_equal(hud_percent_change(0, 3, &pc), HUD_ERANGE);
  assert_true(isinf(pc) && pc > 0);
  assert_int_equal(hud_percent_change(0, -3, &pc), HUD_ERANGE);
  assert_true(isinf(pc) && pc < 0);
  pc = 7;
  assert_int_equal(hud_percent_change(NAN, 3, &pc), HUD_EINVAL);
  assert_int_equal(hud_percent_change(1, INFINITY, &pc), HUD_EINVAL);
  assert_true(pc == 7);
  /* Large durations keep full precision: 1 ns on an hour. */
  assert_int_equal(hud_percent_change(3.6e12, 3.6e12 + 1, &pc), 0);
  ASSERT_REL(pc, 100.0 / 3.6e12);
}

static void check_trend(const double *x, const double *y, size_t n, const double *ref) {
  hud_trend t;
  assert_int_equal(hud_trend_fit(x, y, n, &t), 0);
  assert_int_equal(t.n, n);
  ASSERT_REL(t.slope, ref[0]);
  ASSERT_REL(t.intercept, ref[1]);
  ASSERT_REL(t.slope_se, ref[2]);
  ASSERT_REL(t.p, ref[3]);
  ASSERT_REL(t.r2, ref[4]);
  ASSERT_REL(t.df, (double)n - 2);
  ASSERT_REL(t.t, ref[0] / ref[2]);
}

static void trend_against_scipy(void **state) {
  check_trend(trend_x, trend_y, COUNT(trend_x), trend_ref);
  /* Unix-time x values (1.7e9 s): centring keeps the fit exact. */
  check_trend(trend2_x, trend2_y, COUNT(trend2_x), trend2_ref);
  hud_trend t = {0};
  /* Perfect line by hand: y = 3 + 2x. */
  const double x[] = {1, 2, 3, 4}, y[] = {5, 7, 9, 11};
  assert_int_equal(hud_trend_fit(x, y, 4, &t), 0);
  ASSERT_REL(t.slope, 2);
  ASSERT_REL(t.intercept, 3);
  assert_true(t.slope_se == 0 && t.p == 0 && isinf(t.t));
  ASSERT_REL(t.r2, 1);
  /* Flat: slope 0, p 1. */
  const double flat[] = {4, 4, 4, 4};
  assert_int_equal(hud_trend_fit(x, flat, 4, &t), 0);
  assert_true(t.slope == 0 && t.t == 0 && t.p == 1 && t.r2 == 0);
  /* Two points: a slope, no standard error. */
  assert_int_equal(hud_trend_fit(x, y, 2, &t), 0);
  ASSERT_REL(t.slope, 2);
  assert_true(isnan(t.slope_se) && isnan(t.p));
  /* Degenerate. */
  hud_trend u = {0};
  const double same[] = {3, 3, 3};
  assert_int_equal(hud_trend_fit(same, y, 3, &u), HUD_ERANGE);
  assert_int_equal(hud_trend_fit(x, y, 1, &u), HUD_EINVAL);
  assert_int_equal(hud_trend_fit(NULL, y, 3, &u), HUD_EINVAL);
  const double bad[] = {1, NAN, 3};
  assert_int_equal(hud_trend_fit(x, bad, 3, &u), HUD_EINVAL);
  assert_true(u.n == 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(summary_from_sums),
      cmocka_unit_test(moments_stable_at_large_counts),
      cmocka_unit_test(welch_against_scipy),
      cmocka_unit_test(welch_degenerate),
      cmocka_unit_test(distributions_against_scipy),
      cmocka_unit_test(two_proportions_against_reference),
      cmocka_unit_test(percent_change_cases),
      cmocka_unit_test(trend_against_scipy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
