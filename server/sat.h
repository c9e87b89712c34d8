/* Saturating arithmetic for stored counters and durations: the server never wraps (docs/protocol.md,
 * Counts). Counts and duration sums stop at INT64_MAX, sums of squared durations at SRV_SUMSQ_MAX, sketch
 * bins at INT64_MAX each. One write key must not be able to turn a service's figures negative. */
#ifndef SRV_SAT_H
#define SRV_SAT_H

#include <stddef.h>
#include <stdint.h>

/* The largest sum of squared durations kept (ns^2): finite, so means and deviations stay finite. */
#define SRV_SUMSQ_MAX 1e308
/* The same as SQL text (the upserts clamp with MIN(..., SRV_SUMSQ_MAX_SQL)). */
#define SRV_SUMSQ_MAX_SQL "1e308"

static inline int64_t srv_sat_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

/* Counts kept as uint64 (detection, sketch bins) stop at INT64_MAX too: they leave as JSON int64. Any
 * A and B, so a damaged blob's count cannot wrap it either. */
static inline uint64_t srv_sat_addu(uint64_t a, uint64_t b) {
  uint64_t r = a + b;
  return r < a || r > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : r;
}

static inline double srv_sat_addf(double a, double b) {
  double r = a + b;
  return r > SRV_SUMSQ_MAX ? SRV_SUMSQ_MAX : r < -SRV_SUMSQ_MAX ? -SRV_SUMSQ_MAX : r;
}

/* Keeps a sketch's total (ZERO plus the N COUNTS) at most INT64_MAX, so that hud_sketch_import accepts
 * it and two of them merge without overflow: while it is larger every count is halved (a count > 0
 * stays > 0). The ranks, hence the quantiles, stay about where they were. */
static inline void srv_sat_bins_fit(uint64_t *zero, uint64_t *counts, size_t n) {
  for (;;) {
    uint64_t total = *zero;
    for (size_t i = 0; i < n; i++) total = srv_sat_addu(total, counts[i]);
    if (total < (uint64_t)INT64_MAX) return;
    *zero = *zero / 2 + (*zero & 1);
    for (size_t i = 0; i < n; i++) counts[i] = counts[i] / 2 + (counts[i] & 1);
  }
}

#endif
