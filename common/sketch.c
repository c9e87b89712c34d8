/* Log-binned duration sketch; the mapping and the folding rule are described in hud/sketch.h.
 *
 * Storage is one dense window of counters that grows (realloc) only when a value falls outside
 * it, so adding to a warm sketch never allocates. The window never exceeds HUD_SKETCH_MAX_BINS. */
#include "hud/sketch.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"

#define CUBIC_A (6.0 / 35.0)
#define CUBIC_B (-3.0 / 5.0)
#define CUBIC_C (10.0 / 7.0)
/* First window size; enough for ~1 octave at the default alpha. */
#define INITIAL_WINDOW 64

struct hud_sketch {
  double alpha;
  double mult; /* m in the header's formula */
  uint64_t count; /* all values, zero bin included */
  uint64_t zero_count;
  uint64_t *win; /* win[k] counts bin (base + k) */
  int32_t base;
  uint32_t win_len;
  bool has_bins; /* min_i/max_i are valid */
  int32_t min_i, max_i; /* non-empty range, max_i - min_i < HUD_SKETCH_MAX_BINS */
};

static bool alpha_ok(double alpha) {
  return alpha >= HUD_SKETCH_MIN_ALPHA && alpha < HUD_SKETCH_MAX_ALPHA;
}

static double multiplier(double alpha) {
  /* ln(gamma) = ln((1 + a) / (1 - a)) = 2 atanh(a), computed without cancellation. */
  return 1.0 / (CUBIC_C * 2.0 * atanh(alpha));
}

/* L(v) for v >= 1 (finite): exponent from the bits, cubic on the mantissa. */
static inline double approx_log2(double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  int e = (int)((bits >> 52) & 0x7ff) - 1023;
  uint64_t mbits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
  double s;
  memcpy(&s, &mbits, sizeof s);
  double x = s - 1.0;
  return (double)e + ((CUBIC_A * x + CUBIC_B) * x + CUBIC_C) * x;
}

static inline int32_t value_index(const hud_sketch *s, double v) {
  double t = approx_log2(v) * s->mult; /* >= 0 since v >= 1 */
  int32_t i = (int32_t)t;
  return i + ((double)i < t);
}

/* Inverse of L: the v with L(v) = g. Newton on the cubic, which is increasing with
 * derivative >= 26/35 on [0, 1], converges in a few steps. */
static double approx_exp2(double g) {
  double e = floor(g);
  double f = g - e;
  double x = f;
  for (int k = 0; k < 8; k++) {
    double p = ((CUBIC_A * x + CUBIC_B) * x + CUBIC_C) * x - f;
    double dp = (3.0 * CUBIC_A * x + 2.0 * CUBIC_B) * x + CUBIC_C;
    double nx = x - p / dp;
    if (nx < 0.0) nx = 0.0;
    if (nx > 1.0) nx = 1.0;
    if (nx == x) break;
    x = nx;
  }
  return ldexp(1.0 + x, (int)e);
}

/* Representative value of bin I: minimises the worst relative error over the bin. */
static double bin_value(const hud_sketch *s, int32_t i) {
  double lo = approx_exp2(((double)i - 1.0) / s->mult);
  double hi = approx_exp2((double)i / s->mult);
  if (!isfinite(hi)) return lo;
  return lo * (2.0 / (1.0 + lo / hi)); /* 2*lo*hi/(lo+hi) without overflow */
}

/* Largest index any finite double can get. */
static int32_t max_index(double mult) { return (int32_t)ceil(1024.0 * mult); }

hud_sketch *hud_sketch_new(double alpha) {
  if (!alpha_ok(alpha)) return NULL;
  hud_sketch *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->alpha = alpha;
  s->mult = multiplier(alpha);
  return s;
}

void hud_sketch_free(hud_sketch *s) {
  if (!s) return;
  free(s->win);
  free(s);
}

hud_sketch *hud_sketch_clone(const hud_sketch *s) {
  hud_sketch *c = malloc(sizeof *c);
  if (!c) return NULL;
  *c = *s;
  c->win = NULL;
  if (s->win_len) {
    c->win = malloc((size_t)s->win_len * sizeof *c->win);
    if (!c->win) {
      free(c);
      return NULL;
    }
    memcpy(c->win, s->win, (size_t)s->win_len * sizeof *c->win);
  }
  return c;
}

void hud_sketch_clear(hud_sketch *s) {
  if (s->win_len) memset(s->win, 0, (size_t)s->win_len * sizeof *s->win);
  s->count = 0;
  s->zero_count = 0;
  s->has_bins = false;
}

/* Makes the window cover [lo, hi] (hi - lo < HUD_SKETCH_MAX_BINS), keeping the counts.
 * UP says the range grows upwards, so the slack goes above. */
static int window_cover(hud_sketch *s, int32_t lo, int32_t hi, bool up) {
  if (s->win_len && lo >= s->base && (int64_t)hi < (int64_t)s->base + s->win_len) return 0;
  uint32_t need = (uint32_t)(hi - lo) + 1;
  uint32_t len = s->win_len ? s->win_len : INITIAL_WINDOW;
  while (len < need) len *= 2;
  if (len < 2 * need && need <= HUD_SKETCH_MAX_BINS / 2) len = 2 * need;
  if (len > HUD_SKETCH_MAX_BINS) len = HUD_SKETCH_MAX_BINS;
  int64_t nbase = up ? lo : (int64_t)hi - len + 1;
  if (nbase < 0) nbase = 0; /* indices are never negative */
  uint64_t *w = calloc(len, sizeof *w);
  if (!w) return HUD_ENOMEM;
  if (s->has_bins) {
    /* The live range [min_i, max_i] is inside [lo, hi] (callers fold first). */
    memcpy(w + (s->min_i - nbase), s->win + (s->min_i - s->base),
           (size_t)(s->max_i - s->min_i + 1) * sizeof *w);
  }
  free(s->win);
  s->win = w;
  s->win_len = len;
  s->base = (int32_t)nbase;
  return 0;
}

/* Folds every bin below FLOOR_I into FLOOR_I and moves the window to start there, full size,
 * so that it can hold up to FLOOR_I + HUD_SKETCH_MAX_BINS - 1. Needs FLOOR_I > min_i. The
 * only allocation happens first: on failure the sketch is unchanged. */
static int fold_to(hud_sketch *s, int32_t floor_i) {
  uint64_t *w = s->win;
  if (s->win_len != HUD_SKETCH_MAX_BINS) {
    w = malloc(HUD_SKETCH_MAX_BINS * sizeof *w);
    if (!w) return HUD_ENOMEM;
  }
  uint64_t sum = 0;
  for (int32_t k = s->min_i; k <= s->max_i && k < floor_i; k++) sum += s->win[k - s->base];
  size_t kept = 0;
  if (s->max_i >= floor_i) {
    kept = (size_t)(s->max_i - floor_i) + 1;
    memmove(w, s->win + (floor_i - s->base), kept * sizeof *w);
  }
  memset(w + kept, 0, (HUD_SKETCH_MAX_BINS - kept) * sizeof *w);
  if (w != s->win) {
    free(s->win);
    s->win = w;
    s->win_len = HUD_SKETCH_MAX_BINS;
  }
  s->base = floor_i;
  w[0] += sum;
  s->min_i = floor_i;
  if (s->max_i < floor_i) s->max_i = floor_i;
  return 0;
}

/* Adds N to bin I; the total counter is updated by the caller. On error nothing changed. */
static int add_index(hud_sketch *s, int32_t i, uint64_t n) {
  if (s->has_bins && i >= s->min_i && i <= s->max_i) {
    s->win[i - s->base] += n;
    return 0;
  }
  if (!s->has_bins) {
    int rc = window_cover(s, i, i, true);
    if (rc) return rc;
    s->has_bins = true;
    s->min_i = s->max_i = i;
    s->win[i - s->base] += n;
    return 0;
  }
  if (i > s->max_i) {
    int64_t floor_i = (int64_t)i - HUD_SKETCH_MAX_BINS + 1;
    int rc = floor_i > s->min_i ? fold_to(s, (int32_t)floor_i) : window_cover(s, s->min_i, i, true);
    if (rc) return rc;
    s->max_i = i;
    s->win[i - s->base] += n;
    return 0;
  }
  /* i < min_i: below the fold floor it lands on the floor. */
  int64_t floor_i = (int64_t)s->max_i - HUD_SKETCH_MAX_BINS + 1;
  if (i < floor_i) i = (int32_t)floor_i;
  int rc = window_cover(s, i, s->max_i, false);
  if (rc) return rc;
  s->min_i = i;
  s->win[i - s->base] += n;
  return 0;
}

int hud_sketch_add_n(hud_sketch *s, double value, uint64_t n) {
  /* Fast path: a value in an existing bin. One compare covers NaN, negatives and the zero bin. */
  if (__builtin_expect(value >= HUD_SKETCH_MIN_VALUE && value <= DBL_MAX, 1)) {
    int32_t i = value_index(s, value);
    if (__builtin_expect(s->has_bins && i >= s->min_i && i <= s->max_i && s->count <= UINT64_MAX - n, 1)) {
      s->win[i - s->base] += n;
      s->count += n;
      return 0;
    }
    if (n == 0) return 0;
    if (s->count > UINT64_MAX - n) return HUD_ERANGE;
    int rc = add_index(s, i, n);
    if (rc) return rc;
    s->count += n;
    return 0;
  }
  if (!(value >= 0.0) || value > DBL_MAX) return HUD_EINVAL;
  if (s->count > UINT64_MAX - n) return HUD_ERANGE;
  s->zero_count += n;
  s->count += n;
  return 0;
}

int hud_sketch_merge(hud_sketch *dst, const hud_sketch *src) {
  if (dst->alpha != src->alpha) return HUD_EINVAL;
  if (src->count == 0) return 0;
  if (dst->count > UINT64_MAX - src->count) return HUD_ERANGE;
  if (src->has_bins) {
    /* Shape DST's window for the final range first (the only step that allocates), so that
     * the merge either fails with DST unchanged or completes. */
    int32_t lo = src->min_i, hi = src->max_i;
    if (dst->has_bins) {
      if (dst->max_i > hi) hi = dst->max_i;
      if (dst->min_i < lo) lo = dst->min_i;
    }
    int64_t floor_i = (int64_t)hi - HUD_SKETCH_MAX_BINS + 1;
    if (lo < floor_i) lo = (int32_t)floor_i;
    int rc = 0;
    if (dst->has_bins && floor_i > dst->min_i) rc = fold_to(dst, (int32_t)floor_i);
    if (!rc) rc = window_cover(dst, lo, hi, true);
    if (rc) return rc;
    /* Each bin's count is <= src->count, so with the check above no bin overflows. Bins
     * below the fold floor land on it. */
    int32_t start = src->min_i > floor_i ? src->min_i : (int32_t)floor_i;
    uint64_t below = 0;
    for (int32_t i = src->min_i; i < start; i++) below += src->win[i - src->base];
    uint64_t *d = dst->win + (start - dst->base);
    const uint64_t *sw = src->win + (start - src->base);
    for (int32_t k = 0; k <= src->max_i - start; k++) d[k] += sw[k];
    dst->win[lo - dst->base] += below;
    dst->has_bins = true;
    dst->min_i = lo;
    dst->max_i = hi;
  }
  dst->zero_count += src->zero_count;
  dst->count += src->count;
  return 0;
}

int hud_sketch_quantile(const hud_sketch *s, double q, double *out) {
  if (!(q >= 0.0 && q <= 1.0)) return HUD_EINVAL;
  if (s->count == 0) return HUD_ENOTFOUND;
  /* rank in [0, count - 1]; an exact integer for counts up to 2^53. */
  double rank = floor(q * (double)(s->count - 1));
  if (rank < (double)s->zero_count) {
    *out = 0.0;
    return 0;
  }
  uint64_t cum = s->zero_count;
  for (int32_t i = s->min_i; i <= s->max_i; i++) {
    cum += s->win[i - s->base];
    if ((double)cum > rank) {
      *out = bin_value(s, i);
      return 0;
    }
  }
  *out = bin_value(s, s->max_i); /* rounding of huge counts */
  return 0;
}

uint64_t hud_sketch_count(const hud_sketch *s) { return s->count; }
double hud_sketch_alpha(const hud_sketch *s) { return s->alpha; }

size_t hud_sketch_bin_count(const hud_sketch *s) {
  size_t n = 0;
  if (!s->has_bins) return 0;
  for (int32_t i = s->min_i; i <= s->max_i; i++) n += s->win[i - s->base] != 0;
  return n;
}

int hud_sketch_export(const hud_sketch *s, hud_sketch_bins *out) {
  memset(out, 0, sizeof *out);
  out->alpha = s->alpha;
  out->zero_count = s->zero_count;
  if (!s->has_bins) return 0;
  size_t n = (size_t)(s->max_i - s->min_i) + 1;
  out->counts = malloc(n * sizeof *out->counts);
  if (!out->counts) return HUD_ENOMEM;
  memcpy(out->counts, s->win + (s->min_i - s->base), n * sizeof *out->counts);
  out->offset = s->min_i;
  out->n = n;
  return 0;
}

int hud_sketch_bins_check(const hud_sketch_bins *bins) {
  if (!bins) return HUD_EINVAL;
  if (!(isfinite(bins->alpha) && alpha_ok(bins->alpha))) return HUD_ERANGE;
  if (bins->n > HUD_SKETCH_MAX_BINS) return HUD_ETOOBIG;
  if (bins->n && !bins->counts) return HUD_EINVAL;
  if (bins->n) {
    if (bins->offset < 0) return HUD_ERANGE;
    if ((int64_t)bins->offset + (int64_t)bins->n - 1 > (int64_t)max_index(multiplier(bins->alpha))) return HUD_ERANGE;
  }
  uint64_t total = bins->zero_count;
  for (size_t k = 0; k < bins->n; k++) {
    if (total > UINT64_MAX - bins->counts[k]) return HUD_ERANGE;
    total += bins->counts[k];
  }
  return 0;
}

int hud_sketch_import(const hud_sketch_bins *bins, hud_sketch **out) {
  *out = NULL;
  int rc = hud_sketch_bins_check(bins);
  if (rc) return rc;
  uint64_t total = bins->zero_count;
  size_t first = bins->n, last = 0;
  for (size_t k = 0; k < bins->n; k++) {
    uint64_t c = bins->counts[k];
    if (c == 0) continue;
    total += c;
    if (first == bins->n) first = k;
    last = k;
  }
  hud_sketch *s = hud_sketch_new(bins->alpha);
  if (!s) return HUD_ENOMEM;
  if (first < bins->n) {
    int32_t lo = bins->offset + (int32_t)first, hi = bins->offset + (int32_t)last;
    if ((rc = window_cover(s, lo, hi, true))) {
      hud_sketch_free(s);
      return rc;
    }
    memcpy(s->win + (lo - s->base), bins->counts + first, (last - first + 1) * sizeof *s->win);
    s->has_bins = true;
    s->min_i = lo;
    s->max_i = hi;
  }
  s->zero_count = bins->zero_count;
  s->count = total;
  *out = s;
  return 0;
}

void hud_sketch_bins_free(hud_sketch_bins *bins) {
  if (!bins) return;
  free(bins->counts);
  bins->counts = NULL;
  bins->n = 0;
}
