/* hud-server's one sketch-bin accumulator and its one blob codec (engine-neutral).
 *
 * Merging DDSketches of one alpha is adding their bin counts, so every place that merges sketches
 * (the write-behind fold, the SQL aggregate hud_sketch_agg of the SQLite store, the query side's
 * percentiles) adds bins here instead of building a hud_sketch per input. Quantiles are answered by
 * hud/sketch.h on the merged bins (trimmed, folded beyond HUD_SKETCH_MAX_BINS and kept within int64
 * exactly as a stored blob is), so every path gives the library's answer.
 *
 * Blob (what stores keep): 'S' 1 | alpha (8 bytes, IEEE little endian) | zero_count | zigzag(offset)
 * | n | counts[n], integers as LEB128 varints. */
#ifndef SRV_SKETCH_BINS_H
#define SRV_SKETCH_BINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hud/sketch.h"

/* Bins [offset, offset + n) with their counts; empty ends are allowed (trimmed when encoded).
 * COUNTS is malloc'ed (CAP entries) unless BORROWED: then it lies in its owner's memory (a slab) and
 * is never freed or grown in place (growth copies to the heap). Zero-initialise to start. */
typedef struct srv_bins_acc {
  int set;
  double alpha;
  uint64_t zero;
  int64_t offset;
  size_t n, cap;
  uint64_t *counts;
  int borrowed;
} srv_bins_acc;

void srv_acc_free(srv_bins_acc *a);
/* 0, or HUD_EINVAL when ALPHA differs from the accumulated one. */
int srv_acc_begin(srv_bins_acc *a, double alpha);
/* Makes A cover bins [off, off + n) and returns the index of OFF in A->counts, or -1 (no memory).
 * Growth leaves empty bins on the side that grew. */
int64_t srv_acc_cover(srv_bins_acc *a, int64_t off, size_t n);
/* Adds sketch bins B, a blob, or another accumulator SRC. HUD_EINVAL for another alpha, HUD_EPARSE
 * for a bad blob (A may then hold part of it). */
int srv_acc_add_bins(srv_bins_acc *a, const hud_sketch_bins *b);
int srv_acc_add_blob(srv_bins_acc *a, const void *blob, size_t len);
int srv_acc_merge(srv_bins_acc *a, const srv_bins_acc *src);
/* The merged sketch as stored: empty ends trimmed, bins beyond HUD_SKETCH_MAX_BINS folded onto the
 * lowest kept one, the total kept within int64 (sat.h). OUT points into A's counts (valid while A is
 * unchanged); A itself is normalised. */
void srv_acc_view(srv_bins_acc *a, hud_sketch_bins *out);
/* Quantiles QS[0..N) of the merged sketch through hud/sketch.h into OUT; *HAVE = false when nothing
 * was merged or the bins are not a valid sketch (what SQL's NULL answer is). */
int srv_acc_quantiles(srv_bins_acc *a, const double *qs, size_t n, double *out, bool *have);
/* Encodes the merged sketch as a malloc'ed blob (*OUT, *LEN; caller frees). */
int srv_acc_encode(srv_bins_acc *a, unsigned char **out, size_t *len);

/* ---- blobs ---- */

/* Encodes S (or bins B) into a malloc'ed blob (*OUT, *LEN; caller frees). */
int srv_sketch_blob_encode(const hud_sketch *s, unsigned char **out, size_t *len);
int srv_sketch_bins_encode(const hud_sketch_bins *b, unsigned char **out, size_t *len);
/* Decodes a blob; *OUT owned by the caller. HUD_EPARSE on garbage. */
int srv_sketch_blob_decode(const void *blob, size_t len, hud_sketch **out);
/* A blob's header, for code that reads its bins without building a hud_sketch: the N counts are
 * LEB128 varints from BINS to END (read them with srv_varint). HUD_EPARSE on garbage. */
typedef struct srv_sketch_blob {
  double alpha;
  uint64_t zero;
  int64_t offset; /* bin index of the first count */
  uint64_t n;
  const unsigned char *bins, *end;
} srv_sketch_blob;
int srv_sketch_blob_open(const void *blob, size_t len, srv_sketch_blob *out);
int srv_varint(const unsigned char **p, const unsigned char *end, uint64_t *v);

#endif
