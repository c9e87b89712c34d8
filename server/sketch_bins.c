/* The sketch-bin accumulator and the blob codec (sketch_bins.h). */
#include "sketch_bins.h"

#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "sat.h"

/* ---- the accumulator ---- */

void srv_acc_free(srv_bins_acc *a) {
  if (!a->borrowed) free(a->counts);
  memset(a, 0, sizeof *a);
}

int srv_acc_begin(srv_bins_acc *a, double alpha) {
  if (!a->set) {
    a->set = 1;
    a->alpha = alpha;
    return 0;
  }
  return a->alpha == alpha ? 0 : HUD_EINVAL;
}

/* Growth leaves empty bins on the side that grew (trimmed when encoded), so an accumulator that keeps
 * receiving sketches of a similar range stops reallocating and moving its bins after a few merges. */
int64_t srv_acc_cover(srv_bins_acc *a, int64_t off, size_t n) {
  if (a->n && off >= a->offset && off + (int64_t)n <= a->offset + (int64_t)a->n) return off - a->offset;
  int64_t lo, hi;
  if (!a->n) {
    int64_t pad = (int64_t)n / 2 + 4;
    lo = off - pad;
    hi = off + (int64_t)n + pad;
  } else {
    lo = a->offset;
    hi = a->offset + (int64_t)a->n;
    int64_t pad = (hi - lo) / 2 + 4;
    if (off < lo) lo = off - pad;
    if (off + (int64_t)n > hi) hi = off + (int64_t)n + pad;
  }
  size_t need = (size_t)(hi - lo);
  if (need > a->cap) {
    uint64_t *c;
    if (a->borrowed) {
      c = malloc(need * sizeof *c);
      if (c && a->n) memcpy(c, a->counts, a->n * sizeof *c);
    } else {
      c = realloc(a->counts, need * sizeof *c);
    }
    if (!c) return -1;
    a->counts = c;
    a->cap = need;
    a->borrowed = 0;
  }
  if (!a->n) {
    memset(a->counts, 0, need * sizeof *a->counts);
  } else {
    size_t shift = (size_t)(a->offset - lo);
    if (shift) {
      memmove(a->counts + shift, a->counts, a->n * sizeof *a->counts);
      memset(a->counts, 0, shift * sizeof *a->counts);
    }
    size_t old_end = shift + a->n;
    if (need > old_end) memset(a->counts + old_end, 0, (need - old_end) * sizeof *a->counts);
  }
  a->offset = lo;
  a->n = need;
  return off - lo;
}

int srv_acc_add_bins(srv_bins_acc *a, const hud_sketch_bins *b) {
  if (srv_acc_begin(a, b->alpha) < 0) return HUD_EINVAL;
  a->zero = srv_sat_addu(a->zero, b->zero_count);
  if (!b->n) return 0;
  int64_t at = srv_acc_cover(a, b->offset, b->n);
  if (at < 0) return HUD_ENOMEM;
  /* Sampled sketches are sparse (a few dozen values over hundreds of bins): touch only what counts. */
  uint64_t *dst = a->counts + at;
  for (size_t i = 0; i < b->n; i++)
    if (b->counts[i]) dst[i] = srv_sat_addu(dst[i], b->counts[i]);
  return 0;
}

int srv_acc_merge(srv_bins_acc *a, const srv_bins_acc *src) {
  if (!src->set) return 0;
  if (srv_acc_begin(a, src->alpha) < 0) return HUD_EINVAL;
  a->zero = srv_sat_addu(a->zero, src->zero);
  if (!src->n) return 0;
  int64_t at = srv_acc_cover(a, src->offset, src->n);
  if (at < 0) return HUD_ENOMEM;
  for (size_t i = 0; i < src->n; i++) a->counts[at + (int64_t)i] = srv_sat_addu(a->counts[at + (int64_t)i], src->counts[i]);
  return 0;
}

int srv_acc_add_blob(srv_bins_acc *a, const void *blob, size_t len) {
  srv_sketch_blob h;
  if (srv_sketch_blob_open(blob, len, &h) < 0) return HUD_EPARSE;
  const unsigned char *p = h.bins, *end = h.end;
  if (srv_acc_begin(a, h.alpha) < 0) return HUD_EINVAL;
  a->zero = srv_sat_addu(a->zero, h.zero);
  uint64_t n = h.n;
  if (!n) return p == end ? 0 : HUD_EPARSE;
  int64_t at = srv_acc_cover(a, h.offset, (size_t)n);
  if (at < 0) return HUD_ENOMEM;
  uint64_t *d = a->counts + at;
  for (uint64_t i = 0; i < n; i++) {
    /* Minute sketches are sparse: eight one-byte counts at a time, all-zero words skipped. */
    while (i + 8 <= n && end - p >= 8) {
      uint64_t w;
      memcpy(&w, p, 8);
      if (w & 0x8080808080808080ull) break;
      if (w)
        for (int k = 0; k < 8; k++) d[i + (uint64_t)k] = srv_sat_addu(d[i + (uint64_t)k], p[k]);
      i += 8;
      p += 8;
    }
    if (i >= n) break;
    /* One-byte counts are the common case. */
    if (p < end && !(*p & 0x80)) {
      d[i] = srv_sat_addu(d[i], *p++);
      continue;
    }
    uint64_t v;
    if (srv_varint(&p, end, &v) < 0) return HUD_EPARSE;
    d[i] = srv_sat_addu(d[i], v);
  }
  return p == end ? 0 : HUD_EPARSE;
}

void srv_acc_view(srv_bins_acc *a, hud_sketch_bins *out) {
  size_t lo = 0, hi = a->n;
  while (lo < hi && !a->counts[lo]) lo++;
  while (hi > lo && !a->counts[hi - 1]) hi--;
  if (hi - lo > HUD_SKETCH_MAX_BINS) {
    size_t floor_i = hi - HUD_SKETCH_MAX_BINS;
    for (size_t i = lo; i < floor_i; i++) {
      a->counts[floor_i] = srv_sat_addu(a->counts[floor_i], a->counts[i]);
      a->counts[i] = 0;
    }
    lo = floor_i;
  }
  srv_sat_bins_fit(&a->zero, a->counts + lo, hi - lo);
  *out = (hud_sketch_bins){a->alpha, a->zero, (int32_t)(a->offset + (int64_t)lo), hi - lo, a->counts + lo};
}

int srv_acc_quantiles(srv_bins_acc *a, const double *qs, size_t n, double *out, bool *have) {
  *have = false;
  if (!a->set) return 0;
  hud_sketch_bins b;
  srv_acc_view(a, &b);
  if (hud_sketch_bins_check(&b) != 0) return 0;
  hud_sketch *k;
  int rc = hud_sketch_import(&b, &k);
  if (rc < 0) return rc == HUD_ENOMEM ? rc : 0;
  bool ok = hud_sketch_count(k) > 0;
  for (size_t i = 0; i < n && ok; i++) ok = hud_sketch_quantile(k, qs[i], &out[i]) == 0;
  hud_sketch_free(k);
  *have = ok;
  return 0;
}

int srv_acc_encode(srv_bins_acc *a, unsigned char **out, size_t *len) {
  hud_sketch_bins b;
  srv_acc_view(a, &b);
  return srv_sketch_bins_encode(&b, out, len);
}

/* ---- blobs ---- */

static void put_varint(unsigned char **p, uint64_t v) {
  while (v >= 0x80) {
    *(*p)++ = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  *(*p)++ = (unsigned char)v;
}

int srv_varint(const unsigned char **p, const unsigned char *end, uint64_t *v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p >= end) return HUD_EPARSE;
    unsigned char b = *(*p)++;
    r |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = r;
      return 0;
    }
  }
  return HUD_EPARSE;
}

int srv_sketch_bins_encode(const hud_sketch_bins *b, unsigned char **out, size_t *len) {
  unsigned char *buf = malloc(2 + 8 + 10 * 3 + 10 * b->n);
  if (!buf) return HUD_ENOMEM;
  unsigned char *p = buf;
  *p++ = 'S';
  *p++ = 1;
  uint64_t bits;
  memcpy(&bits, &b->alpha, 8);
  for (int i = 0; i < 8; i++) *p++ = (unsigned char)(bits >> (8 * i));
  put_varint(&p, b->zero_count);
  put_varint(&p, ((uint64_t)(int64_t)b->offset << 1) ^ (uint64_t)((int64_t)b->offset >> 63));
  put_varint(&p, b->n);
  for (size_t i = 0; i < b->n; i++) put_varint(&p, b->counts[i]);
  *out = buf;
  *len = (size_t)(p - buf);
  return 0;
}

int srv_sketch_blob_encode(const hud_sketch *s, unsigned char **out, size_t *len) {
  hud_sketch_bins b;
  int rc = hud_sketch_export(s, &b);
  if (rc < 0) return rc;
  rc = srv_sketch_bins_encode(&b, out, len);
  hud_sketch_bins_free(&b);
  return rc;
}

int srv_sketch_blob_open(const void *blob, size_t len, srv_sketch_blob *out) {
  const unsigned char *p = blob, *end = p + len;
  if (len < 10 || p[0] != 'S' || p[1] != 1) return HUD_EPARSE;
  uint64_t bits = 0;
  for (int i = 0; i < 8; i++) bits |= (uint64_t)p[2 + i] << (8 * i);
  p += 10;
  memcpy(&out->alpha, &bits, 8);
  uint64_t zz;
  if (srv_varint(&p, end, &out->zero) < 0 || srv_varint(&p, end, &zz) < 0 || srv_varint(&p, end, &out->n) < 0)
    return HUD_EPARSE;
  out->offset = (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
  if (out->offset < INT32_MIN || out->offset > INT32_MAX || out->n > (uint64_t)(end - p)) return HUD_EPARSE;
  out->bins = p;
  out->end = end;
  return 0;
}

int srv_sketch_blob_decode(const void *blob, size_t len, hud_sketch **out) {
  srv_sketch_blob h;
  if (srv_sketch_blob_open(blob, len, &h) < 0) return HUD_EPARSE;
  const unsigned char *p = h.bins;
  hud_sketch_bins b = {.alpha = h.alpha, .zero_count = h.zero, .offset = (int32_t)h.offset, .n = (size_t)h.n};
  b.counts = calloc(b.n ? b.n : 1, sizeof *b.counts);
  if (!b.counts) return HUD_ENOMEM;
  for (size_t i = 0; i < b.n; i++)
    if (srv_varint(&p, h.end, &b.counts[i]) < 0) {
      free(b.counts);
      return HUD_EPARSE;
    }
  int rc = p == h.end ? hud_sketch_import(&b, out) : HUD_EPARSE;
  free(b.counts);
  return rc;
}
