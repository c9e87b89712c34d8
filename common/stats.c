/* Statistics; conventions and error cases are documented in hud/stats.h. */
#include "hud/stats.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>

#include "hud/err.h"

/* ---- distributions ---------------------------------------------------------------------- */

static long double lgamma_ld(long double x) {
  int sign;
  return lgammal_r(x, &sign); /* the _r form: lgammal writes the global signgam */
}

/* Continued fraction for I_x(a, b) (modified Lentz), good for x < (a + 1) / (a + b + 2).
 * Converges in O(sqrt(max(a, b))) steps in the worst case, so the cap is generous. */
static long double betacf(long double a, long double b, long double x) {
  const long double tiny = 1e-4000L, eps = 4 * LDBL_EPSILON;
  long double qab = a + b, qap = a + 1, qam = a - 1;
  long double c = 1, d = 1 - qab * x / qap;
  if (fabsl(d) < tiny) d = tiny;
  d = 1 / d;
  long double h = d;
  for (long m = 1; m <= 2000000; m++) {
    long double m2 = 2.0L * m;
    long double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (fabsl(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (fabsl(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (fabsl(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (fabsl(c) < tiny) c = tiny;
    d = 1 / d;
    long double del = d * c;
    h *= del;
    if (fabsl(del - 1) < eps) break;
  }
  return h;
}

/* I_x(a, b) given x, y = 1 - x and their logarithms, each computed by the caller without
 * cancellation. */
static long double ibeta(long double a, long double b, long double x, long double y,
                         long double lnx, long double lny) {
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  long double lbeta = lgamma_ld(a) + lgamma_ld(b) - lgamma_ld(a + b);
  long double front = expl(a * lnx + b * lny - lbeta);
  if (x < (a + 1) / (a + b + 2)) return front * betacf(a, b, x) / a;
  return 1 - front * betacf(b, a, y) / b;
}

double hud_betainc(double a, double b, double x) {
  if (!(a > 0 && b > 0 && x >= 0 && x <= 1) || isinf(a) || isinf(b)) return NAN;
  long double lx = x, ly = 1.0L - lx;
  return (double)ibeta(a, b, lx, ly, logl(lx), log1pl(-lx));
}

/* Two-sided tail P(|T| >= |t|) = I_{df/(df+t^2)}(df/2, 1/2), in long double. */
static long double t_tail2(long double t, long double df) {
  if (t == 0) return 1;
  if (isinf(t)) return 0;
  long double t2 = t * t;
  long double x = df / (df + t2), y = t2 / (df + t2);
  long double lnx = -log1pl(t2 / df);
  long double lny = 2 * logl(fabsl(t)) - logl(df + t2);
  return ibeta(df / 2, 0.5L, x, y, lnx, lny);
}

double hud_t_sf2(double t, double df) {
  if (isnan(t) || !(df > 0) || isinf(df)) return NAN;
  return (double)t_tail2(t, df);
}

double hud_t_cdf(double t, double df) {
  if (isnan(t) || !(df > 0) || isinf(df)) return NAN;
  long double half = t_tail2(t, df) / 2;
  return (double)(t > 0 ? 1 - half : half);
}

static long double t_pdf(long double t, long double df) {
  return expl(lgamma_ld((df + 1) / 2) - lgamma_ld(df / 2) - 0.5L * logl(df * 3.14159265358979323846264338327950288L) -
              (df + 1) / 2 * log1pl(t * t / df));
}

double hud_normal_cdf(double z) {
  if (isnan(z)) return NAN;
  return (double)(0.5L * erfcl(-(long double)z / 1.41421356237309504880168872420969808L));
}

static long double normal_pdf(long double z) {
  return expl(-z * z / 2) / 2.50662827463100050241576528481104525L;
}

/* Solves TAIL(t) = TARGET for t >= 0 where TAIL decreases from TAIL(0) >= TARGET, with
 * -DTAIL its derivative's magnitude: Newton steps kept inside a shrinking bracket. */
typedef long double (*tail_fn)(long double t, long double param);
static double solve_tail(tail_fn tail, tail_fn dtail, long double param, long double target,
                         long double guess) {
  long double lo = 0, hi = 1;
  while (tail(hi, param) > target) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300L) return INFINITY;
  }
  long double t = guess > lo && guess < hi ? guess : (lo + hi) / 2;
  for (int it = 0; it < 400; it++) {
    long double f = tail(t, param) - target;
    if (f > 0) lo = t;
    else hi = t;
    if (f == 0) break;
    long double nt = t + f / dtail(t, param); /* tail' = -dtail */
    if (!(nt > lo && nt < hi)) nt = (lo + hi) / 2;
    if (fabsl(nt - t) <= 1e-17L * fabsl(nt) || hi - lo <= 1e-17L * hi) {
      t = nt;
      break;
    }
    t = nt;
  }
  return (double)t;
}

static long double t_tail2_fn(long double t, long double df) { return t_tail2(t, df); }
static long double t_dtail2_fn(long double t, long double df) { return 2 * t_pdf(t, df); }
static long double n_tail_fn(long double z, long double unused) {
  return 0.5L * erfcl(z / 1.41421356237309504880168872420969808L);
}
static long double n_dtail_fn(long double z, long double unused) { return normal_pdf(z); }

double hud_normal_quantile(double p) {
  if (!(p > 0 && p < 1)) return NAN;
  if (p == 0.5) return 0;
  long double tail = p < 0.5 ? p : 1.0L - p;
  long double guess = sqrtl(-2 * logl(tail));
  double z = solve_tail(n_tail_fn, n_dtail_fn, 0, tail, guess);
  return p < 0.5 ? -z : z;
}

double hud_t_quantile(double p, double df) {
  if (!(p > 0 && p < 1) || !(df > 0) || isinf(df)) return NAN;
  if (p == 0.5) return 0;
  long double tail = p < 0.5 ? p : 1.0L - p;
  double z = hud_normal_quantile((double)(1 - tail));
  double t = solve_tail(t_tail2_fn, t_dtail2_fn, df, 2 * tail, z);
  return p < 0.5 ? -t : t;
}

/* ---- summaries -------------------------------------------------------------------------- */

static int summary_ld(uint64_t count, long double sum, long double sum_sq, hud_summary *out) {
  if (count == 0) return HUD_EINVAL;
  if (!isfinite(sum) || !isfinite(sum_sq) || sum_sq < 0) return HUD_EINVAL;
  long double n = (long double)count;
  long double mean = sum / n;
  long double var = 0;
  if (count > 1) {
    long double m2 = sum_sq - sum * mean;
    /* A slightly negative M2 is rounding of a (near) zero variance; a clearly negative one
     * means the sums do not belong together. */
    if (m2 < 0) {
      if (m2 < -1e-9L * sum_sq) return HUD_EINVAL;
      m2 = 0;
    }
    var = m2 / (n - 1);
  }
  out->n = count;
  out->mean = (double)mean;
  out->var = (double)var;
  out->sd = (double)sqrtl(var);
  return 0;
}

int hud_summary_from_sums(uint64_t count, double sum, double sum_sq, hud_summary *out) {
  return summary_ld(count, sum, sum_sq, out);
}

void hud_moments_add(hud_moments *m, double x) {
  if (m->n == 0) m->shift = x;
  long double d = (long double)x - m->shift;
  m->n++;
  m->s1 += d;
  m->s2 += d * d;
}

void hud_moments_merge(hud_moments *dst, const hud_moments *src) {
  if (src->n == 0) return;
  if (dst->n == 0) {
    *dst = *src;
    return;
  }
  /* Re-express SRC's sums around DST's shift. */
  long double delta = (long double)src->shift - dst->shift, ns = (long double)src->n;
  dst->s2 += src->s2 + 2 * delta * src->s1 + ns * delta * delta;
  dst->s1 += src->s1 + ns * delta;
  dst->n += src->n;
}

int hud_moments_summary(const hud_moments *m, hud_summary *out) {
  if (m->n == 0 || !isfinite(m->shift) || !isfinite(m->s1) || !isfinite(m->s2)) return HUD_EINVAL;
  long double n = (long double)m->n;
  long double var = 0;
  if (m->n > 1) {
    var = (m->s2 - m->s1 * m->s1 / n) / (n - 1);
    if (var < 0) var = 0;
  }
  out->n = m->n;
  out->mean = (double)(m->shift + m->s1 / n);
  out->var = (double)var;
  out->sd = (double)sqrtl(var);
  return 0;
}

void hud_moments_sums(const hud_moments *m, double *sum, double *sum_sq) {
  long double n = (long double)m->n, k = m->shift;
  *sum = (double)(n * k + m->s1);
  *sum_sq = (double)(m->s2 + 2 * k * m->s1 + n * k * k);
}

/* ---- tests ------------------------------------------------------------------------------ */

static bool confidence_ok(double c) { return c > 0 && c < 1; }

static bool sample_ok(const hud_summary *s) {
  return s->n >= 2 && isfinite(s->mean) && isfinite(s->var) && s->var >= 0;
}

int hud_welch_ttest(const hud_summary *a, const hud_summary *b, double confidence, hud_ttest *out) {
  if (!sample_ok(a) || !sample_ok(b) || !confidence_ok(confidence)) return HUD_EINVAL;
  long double na = (long double)a->n, nb = (long double)b->n;
  long double va = a->var / na, vb = b->var / nb;
  long double se2 = va + vb;
  if (!(se2 > 0)) return HUD_ERANGE;
  long double se = sqrtl(se2);
  long double diff = (long double)b->mean - (long double)a->mean;
  long double t = diff / se;
  long double df = se2 * se2 / (va * va / (na - 1) + vb * vb / (nb - 1));
  if (!isfinite(t) || !isfinite(df)) return HUD_ERANGE;
  double q = hud_t_quantile(0.5 + confidence / 2, (double)df);
  out->diff = (double)diff;
  out->se = (double)se;
  out->t = (double)t;
  out->df = (double)df;
  out->p = (double)t_tail2(t, df);
  out->confidence = confidence;
  out->ci_lo = (double)(diff - q * se);
  out->ci_hi = (double)(diff + q * se);
  return 0;
}

int hud_two_proportion_ztest(uint64_t x_a, uint64_t n_a, uint64_t x_b, uint64_t n_b,
                             double confidence, hud_ztest *out) {
  if (n_a == 0 || n_b == 0 || x_a > n_a || x_b > n_b || !confidence_ok(confidence)) return HUD_EINVAL;
  long double na = (long double)n_a, nb = (long double)n_b;
  long double ra = x_a / na, rb = x_b / nb;
  long double pooled = ((long double)x_a + (long double)x_b) / (na + nb);
  if (!(pooled > 0 && pooled < 1)) return HUD_ERANGE;
  long double se_pooled = sqrtl(pooled * (1 - pooled) * (1 / na + 1 / nb));
  long double diff = rb - ra;
  long double z = diff / se_pooled;
  long double se = sqrtl(ra * (1 - ra) / na + rb * (1 - rb) / nb);
  long double zq = hud_normal_quantile(0.5 + confidence / 2);
  out->rate_a = (double)ra;
  out->rate_b = (double)rb;
  out->diff = (double)diff;
  out->pooled = (double)pooled;
  out->se_pooled = (double)se_pooled;
  out->z = (double)z;
  out->p = (double)erfcl(fabsl(z) / 1.41421356237309504880168872420969808L);
  out->confidence = confidence;
  out->se = (double)se;
  out->ci_lo = (double)(diff - zq * se);
  out->ci_hi = (double)(diff + zq * se);
  return 0;
}

int hud_percent_change(double a, double b, double *out) {
  if (!isfinite(a) || !isfinite(b)) return HUD_EINVAL;
  if (a == b) {
    *out = 0;
    return 0;
  }
  if (a == 0) {
    *out = copysign(INFINITY, b);
    return HUD_ERANGE;
  }
  *out = (double)(100.0L * ((long double)b - a) / fabsl(a));
  return 0;
}

int hud_trend_fit(const double *x, const double *y, size_t n, hud_trend *out) {
  if (n < 2 || !x || !y) return HUD_EINVAL;
  long double sx = 0, sy = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(x[i]) || !isfinite(y[i])) return HUD_EINVAL;
    sx += x[i];
    sy += y[i];
  }
  long double mx = sx / n, my = sy / n;
  long double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < n; i++) {
    long double dx = x[i] - mx, dy = y[i] - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (!(sxx > 0)) return HUD_ERANGE;
  long double slope = sxy / sxx;
  long double intercept = my - slope * mx;
  long double sse = 0;
  for (size_t i = 0; i < n; i++) {
    long double r = (long double)y[i] - my - slope * ((long double)x[i] - mx);
    sse += r * r;
  }
  out->n = n;
  out->slope = (double)slope;
  out->intercept = (double)intercept;
  out->df = (double)n - 2;
  out->r2 = syy > 0 ? (double)(1 - sse / syy) : 0;
  if (out->r2 < 0) out->r2 = 0;
  if (n == 2) {
    out->slope_se = out->t = out->p = NAN;
    return 0;
  }
  long double se = sqrtl(sse / (n - 2) / sxx);
  out->slope_se = (double)se;
  if (se > 0) {
    long double t = slope / se;
    out->t = (double)t;
    out->p = (double)t_tail2(t, n - 2);
  } else if (slope == 0) {
    out->t = 0;
    out->p = 1;
  } else {
    out->t = copysign(INFINITY, (double)slope);
    out->p = 0;
  }
  return 0;
}
