/* Mergeable duration sketch with bounded size and relative-error quantiles.
 *
 * Log-binned (DDSketch-style): a value v > 0 falls in bin i = ceil(log_gamma(v)) with
 * gamma = (1 + alpha) / (1 - alpha), so any quantile is returned within relative error alpha
 * of a value of the data set. The number of bins is capped (HUD_SKETCH_MAX_BINS); when the cap
 * is reached the lowest bins are folded together, which only affects the lowest quantiles.
 * Values are durations in nanoseconds. */
#ifndef HUD_SKETCH_H
#define HUD_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define HUD_SKETCH_DEFAULT_ALPHA 0.005 /* ~1% bin width: ≤ 0.5% relative error */
#define HUD_SKETCH_MAX_BINS 4096
/* Values below this (ns) are counted in the zero bin. */
#define HUD_SKETCH_MIN_VALUE 1.0

typedef struct hud_sketch hud_sketch;

/* New empty sketch; ALPHA in (0, 0.5). Returns NULL on bad ALPHA or out of memory.
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
void hud_sketch_bins_free(hud_sketch_bins *bins);

#endif
