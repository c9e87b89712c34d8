/* Mergeable duration sketch with bounded size and relative-error quantiles.
 *
 * Log-binned (DDSketch-style). The index of a value v >= HUD_SKETCH_MIN_VALUE is
 *   i = ceil(L(v) * m),  m = 1 / (C * ln(gamma)),  gamma = (1 + alpha) / (1 - alpha), C = 10/7,
 * where L is a cheap, monotone approximation of log2 (no log() on the hot path): with
 * v = (1 + x) * 2^e, x in [0, 1) (exact, from the IEEE-754 bits),
 *   L(v) = e + ((A * x + B) * x + C) * x,  A = 6/35, B = -3/5, C = 10/7
 * (the cubic of DDSketch's "cubically interpolated mapping"). dL/dlog2(v) >= C * ln 2 on the
 * whole range, so with this m every bin spans a value ratio of at most gamma, and the bin's
 * representative 2*lo*hi/(lo+hi) is within relative error alpha of every value in it.
 * Bin i holds the values whose L(v) * m lies in (i - 1, i]. Implementations in other languages
 * (the wire form carries indices) must use this exact mapping.
 *
 * Quantile q estimates the element of 0-based rank floor(q * (count - 1)) of the sorted data,
 * within relative error alpha (values below HUD_SKETCH_MIN_VALUE are reported as 0).
 * The number of bins is capped (HUD_SKETCH_MAX_BINS); when the indices span more than that,
 * every bin below (max_index - HUD_SKETCH_MAX_BINS + 1) is folded into that bin, which only
 * affects the lowest quantiles. The folded state depends only on the multiset of values, so
 * merging stays exact, associative and commutative.
 * Values are durations in nanoseconds. A sketch is not thread-safe. */
#ifndef HUD_SKETCH_H
#define HUD_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define HUD_SKETCH_DEFAULT_ALPHA 0.005 /* ~1% bin width: ≤ 0.5% relative error */
#define HUD_SKETCH_MAX_BINS 4096
/* Values below this (ns) are counted in the zero bin. */
#define HUD_SKETCH_MIN_VALUE 1.0
/* Accepted alpha range: [HUD_SKETCH_MIN_ALPHA, HUD_SKETCH_MAX_ALPHA). The lower bound keeps
 * every bin index of a finite double within int32. */
#define HUD_SKETCH_MIN_ALPHA 1e-4
#define HUD_SKETCH_MAX_ALPHA 0.5

typedef struct hud_sketch hud_sketch;

/* New empty sketch; ALPHA in [HUD_SKETCH_MIN_ALPHA, HUD_SKETCH_MAX_ALPHA). Returns NULL on bad ALPHA or out of memory.
 * The caller owns it and releases it with hud_sketch_free(). */
hud_sketch *hud_sketch_new(double alpha);
void hud_sketch_free(hud_sketch *s);
/* Deep copy; NULL on out of memory. */
hud_sketch *hud_sketch_clone(const hud_sketch *s);
void hud_sketch_clear(hud_sketch *s);

/* Adds VALUE (ns, >= 0, finite) N times. HUD_EINVAL for negative or non-finite values. */
int hud_sketch_add_n(hud_sketch *s, double value, uint64_t n);
static inline int hud_sketch_add(hud_sketch *s, double value) { return hud_sketch_add_n(s, value, 1); }

/* DST += SRC. Both must have the same alpha (HUD_EINVAL otherwise). Merge is associative
 * and commutative. */
int hud_sketch_merge(hud_sketch *dst, const hud_sketch *src);

/* Q in [0, 1]. HUD_ENOTFOUND when the sketch is empty. */
int hud_sketch_quantile(const hud_sketch *s, double q, double *out);
uint64_t hud_sketch_count(const hud_sketch *s);
double hud_sketch_alpha(const hud_sketch *s);
/* Number of non-empty bins (the serialised size grows with it). */
size_t hud_sketch_bin_count(const hud_sketch *s);

/* The sketch as plain data, the form the wire codec encodes.
 * counts[k] is the count of bin (offset + k); zero_count counts values < HUD_SKETCH_MIN_VALUE. */
typedef struct hud_sketch_bins {
  double alpha;
  uint64_t zero_count;
  int32_t offset;
  size_t n;
  uint64_t *counts; /* n entries, malloc'ed; released by hud_sketch_bins_free() */
} hud_sketch_bins;

/* Fills OUT (caller-owned struct, counts allocated here). Trims empty bins at both ends. */
int hud_sketch_export(const hud_sketch *s, hud_sketch_bins *out);
/* Builds a new sketch from BINS; validates alpha, offset range and size (HUD_ERANGE /
 * HUD_ETOOBIG). *OUT is owned by the caller. */
int hud_sketch_import(const hud_sketch_bins *bins, hud_sketch **out);
/* What hud_sketch_import() would answer, without building the sketch: 0 or its error. */
int hud_sketch_bins_check(const hud_sketch_bins *bins);
void hud_sketch_bins_free(hud_sketch_bins *bins);

#endif
