/* Sketch micro-benchmark: ns per add (warm sketch, so no allocation), per merge, per quantile,
 * and the quantile error on a lognormal sample. Figures only; no thresholds here. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hud/sketch.h"
#include "hud/stats.h"

#define N 1000000

static uint64_t rng = 12345;
static double unit(void) {
  uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(void) {
  double *v = malloc(N * sizeof *v);
  for (int i = 0; i < N; i++) {
    double u1 = unit(), u2 = unit();
    v[i] = exp(log(1e5) + sqrt(-2 * log(u1 + 1e-300)) * cos(6.283185307179586 * u2));
  }
  hud_sketch *s = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
  for (int i = 0; i < N; i++) hud_sketch_add(s, v[i]); /* warm: window sized */
  hud_sketch_clear(s);
  double best = 1e30;
  for (int rep = 0; rep < 5; rep++) {
    hud_sketch_clear(s);
    double t0 = now_ns();
    for (int i = 0; i < N; i++) hud_sketch_add(s, v[i]);
    double dt = (now_ns() - t0) / N;
    if (dt < best) best = dt;
  }
  printf("sketch add:      %.2f ns/value (alpha %.3g, warm, best of 5 x %d)\n", best,
         HUD_SKETCH_DEFAULT_ALPHA, N);

  /* What the index would cost with log(): the same loop computing ceil(log(v) / ln(gamma)). */
  double inv = 1.0 / log((1 + HUD_SKETCH_DEFAULT_ALPHA) / (1 - HUD_SKETCH_DEFAULT_ALPHA));
  volatile int64_t sink = 0;
  double lbest = 1e30;
  for (int rep = 0; rep < 5; rep++) {
    double t0 = now_ns();
    int64_t acc = 0;
    for (int i = 0; i < N; i++) acc += (int64_t)ceil(log(v[i]) * inv);
    sink = acc;
    double dt = (now_ns() - t0) / N;
    if (dt < lbest) lbest = dt;
  }
  printf("  for reference, ceil(log(v)*k) alone: %.2f ns/value\n", lbest);
  (void)sink;

  /* The stable mean/variance accumulator next to it (long double Welford). */
  double mbest = 1e30;
  for (int rep = 0; rep < 5; rep++) {
    hud_moments m = {0};
    double t0 = now_ns();
    for (int i = 0; i < N; i++) hud_moments_add(&m, v[i]);
    double dt = (now_ns() - t0) / N;
    if (dt < mbest) mbest = dt;
    if (m.n != N) return 1;
  }
  printf("moments add:     %.2f ns/value (hud_moments, long double)\n", mbest);

  /* Merge: two sketches of 100k values each (~800 bins). */
  hud_sketch *a = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA), *b = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
  for (int i = 0; i < 100000; i++) {
    hud_sketch_add(a, v[i]);
    hud_sketch_add(b, v[N - 1 - i]);
  }
  const int M = 20000;
  double t0 = now_ns();
  for (int i = 0; i < M; i++) hud_sketch_merge(a, b);
  double merge_ns = (now_ns() - t0) / M;
  printf("sketch merge:    %.0f ns/merge (%zu bins into %zu bins)\n", merge_ns, hud_sketch_bin_count(b),
         hud_sketch_bin_count(a));

  double q;
  t0 = now_ns();
  for (int i = 0; i < M; i++) hud_sketch_quantile(s, 0.99, &q);
  printf("sketch quantile: %.0f ns/query (p99, %zu bins)\n", (now_ns() - t0) / M, hud_sketch_bin_count(s));

  hud_sketch_bins bins;
  hud_sketch_export(s, &bins);
  qsort(v, N, sizeof *v, cmp);
  double worst = 0;
  static const double qs[] = {0.5, 0.9, 0.95, 0.99, 0.999};
  printf("lognormal(ln 100us, 1), %d values: bins %zu, dense length %zu\n", N, hud_sketch_bin_count(s), bins.n);
  for (int k = 0; k < 5; k++) {
    double ex = v[(size_t)floor(qs[k] * (N - 1))];
    hud_sketch_quantile(s, qs[k], &q);
    double err = fabs(q - ex) / ex;
    if (err > worst) worst = err;
    printf("  p%-5g exact %12.1f sketch %12.1f rel err %.4f%%\n", qs[k] * 100, ex, q, 100 * err);
  }
  for (int k = 0; k <= 10000; k++) {
    double qq = k / 10000.0, ex = v[(size_t)floor(qq * (N - 1))];
    hud_sketch_quantile(s, qq, &q);
    double err = fabs(q - ex) / ex;
    if (err > worst) worst = err;
  }
  printf("  max rel err over 10001 quantiles: %.4f%% (bound %.2f%%)\n", 100 * worst, 100 * HUD_SKETCH_DEFAULT_ALPHA);
  hud_sketch_bins_free(&bins);
  hud_sketch_free(a);
  hud_sketch_free(b);
  hud_sketch_free(s);
  free(v);
  return 0;
}
