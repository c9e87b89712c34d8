/* Duration sketch: accuracy against exact quantiles, exact merges, the wire form, folding,
 * and rejection of bad input. Data come from a fixed-seed PRNG so every run is identical. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <float.h>
#include <math.h>

#include <cmocka.h>

#include "hud/err.h"
#include "hud/sketch.h"

#define N_SAMPLES 200000

/* splitmix64: small, fixed, good enough for test data. */
static uint64_t rng_state;
static uint64_t rng_next(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static double rng_unit(void) { return (double)(rng_next() >> 11) * 0x1.0p-53; } /* [0, 1) */
static double rng_normal(void) {
  double u1 = rng_unit(), u2 = rng_unit();
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

enum dist { UNIFORM, LOGNORMAL, BIMODAL, LOGUNIFORM_WIDE };
static const char *dist_name[] = {"uniform[1us,1ms]", "lognormal(ln 100us, 1)",
                                  "bimodal(50us/5ms)", "loguniform[1ns,1h]"};

static double draw(enum dist d) {
  switch (d) {
  case UNIFORM:
    return 1e3 + rng_unit() * (1e6 - 1e3);
  case LOGNORMAL:
    return exp(log(1e5) + rng_normal());
  case BIMODAL:
    /* 70% fast path around 50us, 30% slow path around 5ms. */
    if (rng_unit() < 0.7) return exp(log(5e4) + 0.2 * rng_normal());
    return exp(log(5e6) + 0.3 * rng_normal());
  case LOGUNIFORM_WIDE:
    return exp(rng_unit() * log(3.6e12));
  }
  return 0;
}

static double *gen(enum dist d, size_t n, uint64_t seed) {
  double *v = malloc(n * sizeof *v);
  assert_non_null(v);
  rng_state = seed;
  for (size_t i = 0; i < n; i++) v[i] = draw(d);
  return v;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The element the sketch estimates: 0-based rank floor(q * (n - 1)). */
static double exact_quantile(const double *sorted, size_t n, double q) {
  return sorted[(size_t)floor(q * (double)(n - 1))];
}

/* Length of the sketch as compact JSON in the codec's shape {"a":..,"z":..,"o":..,"c":[..]}
 * with every count written out (no zero runs); for comparison only. */
static size_t json_size(const hud_sketch_bins *b) {
  char buf[64];
  size_t len = (size_t)snprintf(buf, sizeof buf, "{\"a\":%.17g,\"z\":%llu,\"o\":%d,\"c\":[", b->alpha,
                                (unsigned long long)b->zero_count, b->offset);
  for (size_t k = 0; k < b->n; k++)
    len += (size_t)snprintf(buf, sizeof buf, "%s%llu", k ? "," : "", (unsigned long long)b->counts[k]);
  return len + 2;
}

/* The same with each run of empty bins written as one negative number -k: the form the codec
 * sends (docs/protocol.md), so this is the size on the wire. */
static size_t json_size_rle(const hud_sketch_bins *b) {
  char buf[64];
  size_t len = (size_t)snprintf(buf, sizeof buf, "{\"a\":%.17g,\"z\":%llu,\"o\":%d,\"c\":[", b->alpha,
                                (unsigned long long)b->zero_count, b->offset);
  int first = 1;
  for (size_t k = 0; k < b->n;) {
    size_t run = 0;
    while (k + run < b->n && b->counts[k + run] == 0) run++;
    if (run) {
      len += (size_t)snprintf(buf, sizeof buf, "%s-%zu", first ? "" : ",", run);
      k += run;
    } else {
      len += (size_t)snprintf(buf, sizeof buf, "%s%llu", first ? "" : ",", (unsigned long long)b->counts[k]);
      k++;
    }
    first = 0;
  }
  return len + 2;
}

static void assert_same_bins(const hud_sketch *a, const hud_sketch *b) {
  hud_sketch_bins x, y;
  assert_int_equal(hud_sketch_export(a, &x), 0);
  assert_int_equal(hud_sketch_export(b, &y), 0);
  assert_true(x.alpha == y.alpha);
  assert_int_equal(x.zero_count, y.zero_count);
  assert_int_equal(x.n, y.n);
  if (x.n) {
    assert_int_equal(x.offset, y.offset);
    assert_memory_equal(x.counts, y.counts, x.n * sizeof *x.counts);
  }
  assert_int_equal(hud_sketch_count(a), hud_sketch_count(b));
  hud_sketch_bins_free(&x);
  hud_sketch_bins_free(&y);
}

/* Checks every quantile on a 0.001 grid plus the named ones; returns the max relative error. */
static double check_accuracy(enum dist d, double alpha, int print) {
  double *v = gen(d, N_SAMPLES, 42 + (uint64_t)d);
  hud_sketch *s = hud_sketch_new(alpha);
  assert_non_null(s);
  for (size_t i = 0; i < N_SAMPLES; i++) assert_int_equal(hud_sketch_add(s, v[i]), 0);
  assert_int_equal(hud_sketch_count(s), N_SAMPLES);
  qsort(v, N_SAMPLES, sizeof *v, cmp_double);

  static const double named[] = {0.0, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0};
  double named_err[7];
  double max_err = 0;
  for (int k = 0; k < 7; k++) {
    double est, ex = exact_quantile(v, N_SAMPLES, named[k]);
    assert_int_equal(hud_sketch_quantile(s, named[k], &est), 0);
    named_err[k] = fabs(est - ex) / ex;
    if (named_err[k] > max_err) max_err = named_err[k];
  }
  for (int k = 0; k <= 1000; k++) {
    double q = k / 1000.0, est, ex = exact_quantile(v, N_SAMPLES, q);
    assert_int_equal(hud_sketch_quantile(s, q, &est), 0);
    double err = fabs(est - ex) / ex;
    if (err > max_err) max_err = err;
  }
  /* The guarantee, with room only for floating-point rounding at bin edges. */
  assert_true(max_err <= alpha * (1 + 1e-9));

  hud_sketch_bins b;
  assert_int_equal(hud_sketch_export(s, &b), 0);
  if (print) {
    printf("[sketch] %-24s alpha=%.3g n=%d max_rel_err=%.5f%% (p50 %.5f%% p90 %.5f%% p95 %.5f%% "
           "p99 %.5f%% p99.9 %.5f%%) bins=%zu dense_len=%zu wire_json_bytes=%zu (without zero runs %zu)\n",
           dist_name[d], alpha, N_SAMPLES, 100 * max_err, 100 * named_err[1], 100 * named_err[2],
           100 * named_err[3], 100 * named_err[4], 100 * named_err[5], hud_sketch_bin_count(s), b.n,
           json_size_rle(&b), json_size(&b));
  }
  hud_sketch_bins_free(&b);
  hud_sketch_free(s);
  free(v);
  return max_err;
}

static void accuracy_known_distributions(void **state) {
  for (int d = UNIFORM; d <= LOGUNIFORM_WIDE; d++) check_accuracy((enum dist)d, HUD_SKETCH_DEFAULT_ALPHA, 1);
  /* Coarser sketches keep their own guarantee. */
  check_accuracy(LOGNORMAL, 0.01, 1);
  check_accuracy(LOGNORMAL, 0.02, 1);
  check_accuracy(BIMODAL, 0.02, 1);
}

/* Small sketches, as a sensor sends them per time slice. */
static void size_of_small_sketches(void **state) {
  static const int sizes[] = {10, 100, 1000, 10000};
  for (int k = 0; k < 4; k++) {
    double *v = gen(LOGNORMAL, (size_t)sizes[k], 7);
    hud_sketch *s = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
    for (int i = 0; i < sizes[k]; i++) assert_int_equal(hud_sketch_add(s, v[i]), 0);
    hud_sketch_bins b;
    assert_int_equal(hud_sketch_export(s, &b), 0);
    assert_true(hud_sketch_bin_count(s) <= (size_t)sizes[k]);
    assert_true(b.n >= hud_sketch_bin_count(s));
    printf("[sketch] lognormal n=%-6d bins=%zu dense_len=%zu wire_json_bytes=%zu (without zero runs %zu)\n", sizes[k],
           hud_sketch_bin_count(s), b.n, json_size_rle(&b), json_size(&b));
    hud_sketch_bins_free(&b);
    hud_sketch_free(s);
    free(v);
  }
}

/* Every single value comes back within alpha: covers the mapping over the whole range,
 * including the edges of octaves where the cubic meets the exponent. */
static void single_values_within_alpha(void **state) {
  const double alphas[] = {HUD_SKETCH_MIN_ALPHA, 0.001, HUD_SKETCH_DEFAULT_ALPHA, 0.02, 0.1, 0.49};
  for (int a = 0; a < 6; a++) {
    hud_sketch *s = hud_sketch_new(alphas[a]);
    assert_non_null(s);
    double worst = 0;
    rng_state = 99;
    for (int i = 0; i < 200000; i++) {
      double v;
      if (i < 2 * 1000) {
        /* Powers of two and their neighbours. */
        int e = i / 2 % 1000;
        v = ldexp(1.0, e);
        if (i % 2) v = nextafter(v, INFINITY);
      } else {
        v = exp(rng_unit() * 700.0);
      }
      hud_sketch_clear(s);
      assert_int_equal(hud_sketch_add(s, v), 0);
      double est;
      assert_int_equal(hud_sketch_quantile(s, 0.5, &est), 0);
      double err = fabs(est - v) / v;
      if (err > worst) worst = err;
    }
    assert_true(worst <= alphas[a] * (1 + 1e-9));
    /* The bins are not needlessly narrow: the worst case comes close to alpha. */
    assert_true(worst >= alphas[a] * 0.9);
    hud_sketch_free(s);
  }
  /* The extremes of the value range. */
  hud_sketch *s = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
  double est;
  assert_int_equal(hud_sketch_add(s, DBL_MAX), 0);
  assert_int_equal(hud_sketch_quantile(s, 1.0, &est), 0);
  assert_true(fabs(est - DBL_MAX) / DBL_MAX <= HUD_SKETCH_DEFAULT_ALPHA * (1 + 1e-9));
  hud_sketch_clear(s);
  assert_int_equal(hud_sketch_add(s, 1.0), 0);
  assert_int_equal(hud_sketch_quantile(s, 0.0, &est), 0);
  assert_true(fabs(est - 1.0) <= HUD_SKETCH_DEFAULT_ALPHA * (1 + 1e-9));
  hud_sketch_free(s);
}

static void zero_bin_and_add_n(void **state) {
  hud_sketch *s = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
  hud_sketch *t = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
  assert_int_equal(hud_sketch_add(s, 0.0), 0);
  assert_int_equal(hud_sketch_add(s, 0.999), 0);
  double est;
  assert_int_equal(hud_sketch_quantile(s, 1.0, &est), 0);
  assert_true(est == 0.0);
  assert_int_equal(hud_sketch_bin_count(s), 0);
  assert_int_equal(hud_sketch_count(s), 2);
  for (int i = 0; i < 8; i++) assert_int_equal(hud_sketch_add(s, 1234.5), 0);
  assert_int_equal(hud_sketch_quantile(s, 0.1, &est), 0); /* rank 0 */
  assert_true(est == 0.0);
  assert_int_equal(hud_sketch_quantile(s, 0.5, &est), 0);
  assert_true(fabs(est - 1234.5) / 1234.5 <= HUD_SKETCH_DEFAULT_ALPHA);
  /* add_n is the same as n adds. */
  assert_int_equal(hud_sketch_add_n(t, 0.5, 2), 0);
  assert_int_equal(hud_sketch_add_n(t, 1234.5, 8), 0);
  assert_int_equal(hud_sketch_add_n(t, 99.0, 0), 0);
  assert_same_bins(s, t);
  /* clear empties, and the sketch is reusable. */
  hud_sketch_clear(s);
  assert_int_equal(hud_sketch_count(s), 0);
  assert_int_equal(hud_sketch_quantile(s, 0.5, &est), HUD_ENOTFOUND);
  assert_int_equal(hud_sketch_add(s, 5.0), 0);
  assert_int_equal(hud_sketch_bin_count(s), 1);
  hud_sketch_free(s);
  hud_sketch_free(t);
}

static void merge_exact_associative_commutative(void **state) {
  for (int d = UNIFORM; d <= LOGUNIFORM_WIDE; d++) {
    const size_t n = 120000;
    double *v = gen((enum dist)d, n, 1000 + (uint64_t)d);
    hud_sketch *all = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
    hud_sketch *p[3];
    for (int k = 0; k < 3; k++) p[k] = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
    for (size_t i = 0; i < n; i++) {
      assert_int_equal(hud_sketch_add(all, v[i]), 0);
      /* Uneven, interleaved parts. */
      assert_int_equal(hud_sketch_add(p[(i * 7 + i / 3) % 3], v[i]), 0);
    }
    /* (p0 + p1) + p2 */
    hud_sketch *l = hud_sketch_clone(p[0]);
    assert_int_equal(hud_sketch_merge(l, p[1]), 0);
    assert_int_equal(hud_sketch_merge(l, p[2]), 0);
    /* p0 + (p1 + p2) */
    hud_sketch *r12 = hud_sketch_clone(p[1]);
    assert_int_equal(hud_sketch_merge(r12, p[2]), 0);
    hud_sketch *r = hud_sketch_clone(p[0]);
    assert_int_equal(hud_sketch_merge(r, r12), 0);
    /* (p2 + p0) + p1, into an empty sketch */
    hud_sketch *c = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
    assert_int_equal(hud_sketch_merge(c, p[2]), 0);
    assert_int_equal(hud_sketch_merge(c, p[0]), 0);
    assert_int_equal(hud_sketch_merge(c, p[1]), 0);
    assert_same_bins(l, all);
    assert_same_bins(r, all);
    assert_same_bins(c, all);
    /* Merging a sketch into itself doubles every bin. */
    hud_sketch *twice = hud_sketch_clone(all);
    assert_int_equal(hud_sketch_merge(twice, twice), 0);
    hud_sketch *two = hud_sketch_clone(all);
    assert_int_equal(hud_sketch_merge(two, all), 0);
    assert_same_bins(twice, two);
    assert_int_equal(hud_sketch_count(twice), 2 * n);
    hud_sketch_free(twice);
    hud_sketch_free(two);
    /* Merging an empty sketch changes nothing. */
    hud_sketch *e = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
    assert_int_equal(hud_sketch_merge(l, e), 0);
    assert_same_bins(l, all);
    hud_sketch_free(e);
    for (int k = 0; k < 3; k++) hud_sketch_free(p[k]);
    hud_sketch_free(l);
    hud_sketch_free(r12);
    hud_sketch_free(r);
    hud_sketch_free(c);
    hud_sketch_free(all);
    free(v);
  }
}

static void merge_rejects_other_alpha_and_overflow(void **state) {
  hud_sketch *a = hud_sketch_new(0.005), *b = hud_sketch_new(0.01);
  assert_int_equal(hud_sketch_add(a, 10), 0);
  assert_int_equal(hud_sketch_add(b, 10), 0);
  assert_int_equal(hud_sketch_merge(a, b), HUD_EINVAL);
  assert_int_equal(hud_sketch_count(a), 1);
  hud_sketch *c = hud_sketch_new(0.005);
  assert_int_equal(hud_sketch_add_n(c, 10, UINT64_MAX - 1), 0);
  assert_int_equal(hud_sketch_add_n(c, 10, 2), HUD_ERANGE);
  assert_int_equal(hud_sketch_merge(c, a), 0); /* exactly UINT64_MAX */
  assert_int_equal(hud_sketch_merge(c, a), HUD_ERANGE);
  assert_int_equal(hud_sketch_count(c), UINT64_MAX);
  hud_sketch_free(a);
  hud_sketch_free(b);
  hud_sketch_free(c);
}

static void export_import_round_trip(void **state) {
  double *v = gen(BIMODAL, 50000, 5);
  hud_sketch *s = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
  for (int i = 0; i < 50000; i++) assert_int_equal(hud_sketch_add(s, v[i]), 0);
  assert_int_equal(hud_sketch_add_n(s, 0.0, 17), 0);
  hud_sketch_bins b;
  assert_int_equal(hud_sketch_export(s, &b), 0);
  assert_int_equal(b.zero_count, 17);
  assert_true(b.counts[0] != 0 && b.counts[b.n - 1] != 0); /* trimmed */
  hud_sketch *t;
  assert_int_equal(hud_sketch_import(&b, &t), 0);
  assert_same_bins(s, t);
  for (int k = 0; k <= 100; k++) {
    double x, y;
    assert_int_equal(hud_sketch_quantile(s, k / 100.0, &x), 0);
    assert_int_equal(hud_sketch_quantile(t, k / 100.0, &y), 0);
    assert_true(x == y);
  }
  /* An imported sketch keeps working: merge and add. */
  assert_int_equal(hud_sketch_merge(t, s), 0);
  assert_int_equal(hud_sketch_add(t, 3e9), 0);
  assert_int_equal(hud_sketch_count(t), 2 * 50017 + 1);
  hud_sketch_bins_free(&b);
  hud_sketch_free(t);
  /* Empty sketch. */
  hud_sketch *e = hud_sketch_new(0.01);
  assert_int_equal(hud_sketch_export(e, &b), 0);
  assert_int_equal(b.n, 0);
  assert_null(b.counts);
  assert_int_equal(hud_sketch_import(&b, &t), 0);
  assert_int_equal(hud_sketch_count(t), 0);
  assert_true(hud_sketch_alpha(t) == 0.01);
  hud_sketch_bins_free(&b);
  hud_sketch_free(t);
  hud_sketch_free(e);
  hud_sketch_free(s);
  free(v);
}

static void import_trims_zero_ends(void **state) {
  uint64_t counts[] = {0, 0, 3, 0, 5, 0};
  hud_sketch_bins b = {.alpha = 0.005, .zero_count = 1, .offset = 100, .n = 6, .counts = counts};
  hud_sketch *s;
  assert_int_equal(hud_sketch_import(&b, &s), 0);
  assert_int_equal(hud_sketch_count(s), 9);
  assert_int_equal(hud_sketch_bin_count(s), 2);
  hud_sketch_bins o;
  assert_int_equal(hud_sketch_export(s, &o), 0);
  assert_int_equal(o.offset, 102);
  assert_int_equal(o.n, 3);
  assert_int_equal(o.counts[0], 3);
  assert_int_equal(o.counts[2], 5);
  hud_sketch_bins_free(&o);
  hud_sketch_free(s);
  /* All-zero counts: an empty sketch apart from the zero bin. */
  uint64_t zeros[4] = {0};
  hud_sketch_bins z = {.alpha = 0.005, .zero_count = 2, .offset = 0, .n = 4, .counts = zeros};
  assert_int_equal(hud_sketch_import(&z, &s), 0);
  assert_int_equal(hud_sketch_count(s), 2);
  assert_int_equal(hud_sketch_bin_count(s), 0);
  hud_sketch_free(s);
}

static void import_rejects_bad_input(void **state) {
  uint64_t counts[] = {1, 2, 3};
  hud_sketch *s = (hud_sketch *)&s; /* must be reset to NULL on error */
  hud_sketch_bins b = {.alpha = 0.005, .offset = 10, .n = 3, .counts = counts};
  const double bad_alpha[] = {0.0, -0.005, 0.5, 0.7, 1e-5, NAN, INFINITY, -INFINITY};
  for (int k = 0; k < 8; k++) {
    b.alpha = bad_alpha[k];
    assert_int_equal(hud_sketch_import(&b, &s), HUD_ERANGE);
    assert_null(s);
  }
  b.alpha = 0.005;
  b.offset = -1;
  assert_int_equal(hud_sketch_import(&b, &s), HUD_ERANGE);
  b.offset = INT32_MAX;
  assert_int_equal(hud_sketch_import(&b, &s), HUD_ERANGE);
  b.offset = INT32_MAX - 2; /* offset + n - 1 fits int32 but no double maps there */
  assert_int_equal(hud_sketch_import(&b, &s), HUD_ERANGE);
  b.offset = INT32_MIN;
  assert_int_equal(hud_sketch_import(&b, &s), HUD_ERANGE);
  b.offset = 10;
  b.counts = NULL;
  assert_int_equal(hud_sketch_import(&b, &s), HUD_EINVAL);
  b.counts = counts;
  b.n = HUD_SKETCH_MAX_BINS + 1; /* rejected before counts is read */
  assert_int_equal(hud_sketch_import(&b, &s), HUD_ETOOBIG);
  b.n = SIZE_MAX;
  assert_int_equal(hud_sketch_import(&b, &s), HUD_ETOOBIG);
  b.n = 3;
  counts[1] = UINT64_MAX - 1; /* 1 + (max - 1) + 3 overflows */
  assert_int_equal(hud_sketch_import(&b, &s), HUD_ERANGE);
  counts[1] = UINT64_MAX - 4;
  assert_int_equal(hud_sketch_import(&b, &s), 0); /* exactly UINT64_MAX */
  assert_int_equal(hud_sketch_count(s), UINT64_MAX);
  hud_sketch_free(s);
  b.zero_count = 1;
  assert_int_equal(hud_sketch_import(&b, &s), HUD_ERANGE);
  assert_int_equal(hud_sketch_import(NULL, &s), HUD_EINVAL);
  /* The highest valid index is accepted: a full-width import at the top. */
  hud_sketch *t = hud_sketch_new(0.005);
  assert_int_equal(hud_sketch_add(t, DBL_MAX), 0);
  hud_sketch_bins top;
  assert_int_equal(hud_sketch_export(t, &top), 0);
  assert_int_equal(hud_sketch_import(&top, &s), 0);
  hud_sketch_free(s);
  top.offset += 2;
  assert_int_equal(hud_sketch_import(&top, &s), HUD_ERANGE);
  hud_sketch_bins_free(&top);
  hud_sketch_free(t);

  /* Hostile-but-bounded random forms: each is accepted or rejected, never crashes, and an
   * accepted one answers queries. */
  uint64_t *rc = calloc(HUD_SKETCH_MAX_BINS + 8, sizeof *rc);
  rng_state = 2024;
  for (int it = 0; it < 3000; it++) {
    hud_sketch_bins h;
    uint64_t r = rng_next();
    h.alpha = (r & 1) ? 0.005 : (double)(int64_t)rng_next() / 1e18;
    h.zero_count = (r & 2) ? rng_next() : rng_next() % 5;
    h.offset = (r & 4) ? (int32_t)rng_next() : (int32_t)(rng_next() % 10000);
    h.n = (r & 8) ? rng_next() % (HUD_SKETCH_MAX_BINS + 8) : rng_next() % 50;
    for (size_t k = 0; k < h.n; k++) rc[k] = (r & 16) ? rng_next() : rng_next() % 3;
    h.counts = rc;
    int ret = hud_sketch_import(&h, &s);
    if (ret == 0) {
      double q;
      int qr = hud_sketch_quantile(s, 0.99, &q);
      assert_true(qr == 0 || qr == HUD_ENOTFOUND);
      if (qr == 0) assert_true(q >= 0 && !isnan(q));
      hud_sketch_free(s);
    } else {
      assert_true(ret == HUD_ERANGE || ret == HUD_ETOOBIG);
      assert_null(s);
    }
  }
  free(rc);
}

static void rejects_bad_values_and_args(void **state) {
  assert_null(hud_sketch_new(0.0));
  assert_null(hud_sketch_new(0.5));
  assert_null(hud_sketch_new(-0.1));
  assert_null(hud_sketch_new(NAN));
  assert_null(hud_sketch_new(HUD_SKETCH_MIN_ALPHA / 2));
  hud_sketch *s = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
  assert_int_equal(hud_sketch_add(s, -1.0), HUD_EINVAL);
  assert_int_equal(hud_sketch_add(s, -0.0), 0); /* -0 is zero */
  assert_int_equal(hud_sketch_add(s, NAN), HUD_EINVAL);
  assert_int_equal(hud_sketch_add(s, INFINITY), HUD_EINVAL);
  assert_int_equal(hud_sketch_add(s, -INFINITY), HUD_EINVAL);
  assert_int_equal(hud_sketch_count(s), 1);
  double q;
  assert_int_equal(hud_sketch_quantile(s, -0.01, &q), HUD_EINVAL);
  assert_int_equal(hud_sketch_quantile(s, 1.01, &q), HUD_EINVAL);
  assert_int_equal(hud_sketch_quantile(s, NAN, &q), HUD_EINVAL);
  hud_sketch_free(s);
  hud_sketch_free(NULL);
}

/* Folding: the state after folding depends only on the data, not on the order or on how
 * it was split, and the upper quantiles keep their guarantee. */
static void folding_is_bounded_and_order_free(void **state) {
  const double alpha = 0.05; /* ~7 bins per octave: 4096 bins span ~2^590 */
  const int n = 30000;
  double *v = malloc((size_t)n * sizeof *v);
  rng_state = 77;
  for (int i = 0; i < n; i++) v[i] = exp(rng_unit() * 700.0); /* 1 .. 1e304: ~1010 octaves */
  hud_sketch *fwd = hud_sketch_new(alpha), *rev = hud_sketch_new(alpha), *asc = hud_sketch_new(alpha);
  hud_sketch *p[4];
  for (int k = 0; k < 4; k++) p[k] = hud_sketch_new(alpha);
  for (int i = 0; i < n; i++) {
    assert_int_equal(hud_sketch_add(fwd, v[i]), 0);
    assert_int_equal(hud_sketch_add(rev, v[n - 1 - i]), 0);
    assert_int_equal(hud_sketch_add(p[i % 4], v[i]), 0);
  }
  double *sorted = malloc((size_t)n * sizeof *sorted);
  memcpy(sorted, v, (size_t)n * sizeof *v);
  qsort(sorted, (size_t)n, sizeof *sorted, cmp_double);
  for (int i = 0; i < n; i++) assert_int_equal(hud_sketch_add(asc, sorted[i]), 0);
  hud_sketch *m = hud_sketch_new(alpha);
  assert_int_equal(hud_sketch_merge(m, p[3]), 0);
  assert_int_equal(hud_sketch_merge(m, p[1]), 0);
  assert_int_equal(hud_sketch_merge(p[2], p[0]), 0);
  assert_int_equal(hud_sketch_merge(m, p[2]), 0);
  assert_same_bins(fwd, rev);
  assert_same_bins(fwd, asc);
  assert_same_bins(fwd, m);

  hud_sketch_bins b;
  assert_int_equal(hud_sketch_export(fwd, &b), 0);
  assert_true(b.n <= HUD_SKETCH_MAX_BINS);
  assert_true(b.n > HUD_SKETCH_MAX_BINS - 10); /* it really folded */
  assert_int_equal(hud_sketch_count(fwd), n);
  hud_sketch_bins_free(&b);
  /* The low quantiles are folded upwards; the high ones stay within alpha. */
  double est;
  assert_int_equal(hud_sketch_quantile(fwd, 0.0, &est), 0);
  assert_true(est > sorted[0] * 1e10);
  int good = 0;
  for (int k = 500; k <= 1000; k++) {
    double qq = k / 1000.0, ex = exact_quantile(sorted, (size_t)n, qq);
    assert_int_equal(hud_sketch_quantile(fwd, qq, &est), 0);
    if (fabs(est - ex) / ex <= alpha * (1 + 1e-9)) good++;
  }
  assert_int_equal(good, 501);
  /* A value far below everything lands on the floor bin, not outside the cap. */
  assert_int_equal(hud_sketch_add(fwd, 1.0), 0);
  assert_int_equal(hud_sketch_export(fwd, &b), 0);
  assert_true(b.n <= HUD_SKETCH_MAX_BINS);
  hud_sketch_bins_free(&b);
  /* One jump that leaves nothing of the old window. */
  hud_sketch *j = hud_sketch_new(0.005), *jr = hud_sketch_new(0.005);
  assert_int_equal(hud_sketch_add_n(j, 2.0, 3), 0);
  assert_int_equal(hud_sketch_add(j, 1e300), 0);
  assert_int_equal(hud_sketch_add(jr, 1e300), 0);
  assert_int_equal(hud_sketch_add_n(jr, 2.0, 3), 0);
  assert_same_bins(j, jr);
  hud_sketch_free(j);
  hud_sketch_free(jr);

  for (int k = 0; k < 4; k++) hud_sketch_free(p[k]);
  hud_sketch_free(m);
  hud_sketch_free(fwd);
  hud_sketch_free(rev);
  hud_sketch_free(asc);
  free(sorted);
  free(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(accuracy_known_distributions),
      cmocka_unit_test(size_of_small_sketches),
      cmocka_unit_test(single_values_within_alpha),
      cmocka_unit_test(zero_bin_and_add_n),
      cmocka_unit_test(merge_exact_associative_commutative),
      cmocka_unit_test(merge_rejects_other_alpha_and_overflow),
      cmocka_unit_test(export_import_round_trip),
      cmocka_unit_test(import_trims_zero_ends),
      cmocka_unit_test(import_rejects_bad_input),
      cmocka_unit_test(rejects_bad_values_and_args),
      cmocka_unit_test(folding_is_bounded_and_order_free),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
