/* A function's figures from typed rows (query_figures.h). */
#include "query_figures.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "hud/stats.h"
#include "sat.h"

int q_fig_add(q_fig *f, const srv_fn_row *r, bool points) {
  f->count = srv_sat_add(f->count, r->count);
  f->errors = srv_sat_add(f->errors, r->errors);
  f->sampled = srv_sat_add(f->sampled, r->sampled);
  f->sum += r->sum;
  f->sumsq = srv_sat_addf(f->sumsq, r->sumsq);
  f->self += r->self;
  if (!points) return 0;
  if (f->n_pts && f->pts[f->n_pts - 1].slice == r->slice) {
    q_point *p = &f->pts[f->n_pts - 1];
    p->count = srv_sat_add(p->count, r->count);
    p->errors = srv_sat_add(p->errors, r->errors);
    p->sampled = srv_sat_add(p->sampled, r->sampled);
    p->sum += r->sum;
    return 0;
  }
  if (f->n_pts == f->cap_pts) {
    size_t nc = f->cap_pts ? f->cap_pts * 2 : 16;
    q_point *np = realloc(f->pts, nc * sizeof *np);
    if (!np) return HUD_ENOMEM;
    f->pts = np;
    f->cap_pts = nc;
  }
  f->pts[f->n_pts++] = (q_point){r->slice, r->count, r->errors, r->sampled, r->sum};
  return 0;
}

/* Adds a span's sums P shifted to x = h + u, h = the span's offset in the window (hours). */
static void q_tsum_add(q_tsum *s, const srv_trend_part *p, long double h) {
  long double n = (long double)p->n, u = p->u;
  s->n += n;
  s->sx += n * h + u;
  s->sxx += n * h * h + 2 * h * u + p->uu;
  s->sy += p->y;
  s->sxy += h * p->y + p->uy;
}

void q_fig_add_span(q_fig *f, const srv_fn_row *r, const srv_trend_part *d, const srv_trend_part *e, int64_t from_s) {
  q_fig_add(f, r, false);
  if (d && e) {
    long double h = (long double)(r->slice - from_s) / 3600.0L;
    q_tsum_add(&f->td, d, h);
    q_tsum_add(&f->te, e, h);
  }
  f->spans = 1;
}

void q_fig_add_version(q_fig *f, int current, int64_t sampled, int64_t sum) {
  f->ver_n[current] = srv_sat_add(f->ver_n[current], sampled);
  f->ver_sum[current] = srv_sat_add(f->ver_sum[current], sum);
}

/* SLOPE, or 0 when it moves the mean MEAN by less than 1e-9 of it per hour: that is the rounding of
 * the sums, whose sign depends on how they were added (an hour's trend sums or its minute points),
 * so engines would order flat functions differently. */
static double q_flat(double slope, long double mean) {
  return fabsl((long double)slope) <= 1e-9L * fabsl(mean) ? 0 : slope;
}

static double q_tsum_slope(const q_tsum *s) {
  long double den = s->n * s->sxx - s->sx * s->sx;
  if (s->n < 2 || !(den > 0)) return 0;
  return q_flat((double)((s->n * s->sxy - s->sx * s->sy) / den), s->sy / s->n);
}

/* Slopes per hour of the mean duration and of the error rate (0 when undefined). */
static void q_trends(const q_fig *a, int64_t from_s, double *dur, double *err) {
  *dur = *err = 0;
  if (a->spans) {
    /* The same least-squares fit over the same points, from the spans' sums plus the edge points. */
    q_tsum td = a->td, te = a->te;
    for (size_t i = 0; i < a->n_pts; i++) {
      long double x = (long double)(a->pts[i].slice - from_s) / 3600.0L;
      if (a->pts[i].sampled > 0) {
        long double y = (long double)(a->pts[i].sum / (double)a->pts[i].sampled);
        td.n += 1, td.sx += x, td.sxx += x * x, td.sy += y, td.sxy += x * y;
      }
      if (a->pts[i].count > 0) {
        long double y = (long double)((double)a->pts[i].errors / (double)a->pts[i].count);
        te.n += 1, te.sx += x, te.sxx += x * x, te.sy += y, te.sxy += x * y;
      }
    }
    *dur = q_tsum_slope(&td);
    *err = q_tsum_slope(&te);
    return;
  }
  if (a->n_pts < 2) return;
  double *x = malloc(2 * a->n_pts * sizeof *x);
  if (!x) return;
  double *y = x + a->n_pts;
  size_t n = 0;
  long double sy = 0;
  hud_trend t;
  for (size_t i = 0; i < a->n_pts; i++)
    if (a->pts[i].sampled > 0) {
      x[n] = (double)(a->pts[i].slice - from_s) / 3600.0;
      y[n] = a->pts[i].sum / (double)a->pts[i].sampled;
      sy += y[n++];
    }
  if (n >= 2 && hud_trend_fit(x, y, n, &t) == 0) *dur = q_flat(t.slope, sy / (long double)n);
  n = 0, sy = 0;
  for (size_t i = 0; i < a->n_pts; i++)
    if (a->pts[i].count > 0) {
      x[n] = (double)(a->pts[i].slice - from_s) / 3600.0;
      y[n] = (double)a->pts[i].errors / (double)a->pts[i].count;
      sy += y[n++];
    }
  if (n >= 2 && hud_trend_fit(x, y, n, &t) == 0) *err = q_flat(t.slope, sy / (long double)n);
  free(x);
}

void q_fig_summary(const q_fig *a, int64_t from_s, hud_function_summary *it) {
  it->calls = a->count;
  it->errors = a->errors;
  it->error_rate = a->count ? (double)a->errors / (double)a->count : 0.0;
  it->sampled_count = a->sampled;
  it->mean_duration = a->sampled ? a->sum / (double)a->sampled : 0.0;
  it->self_duration_mean = a->sampled ? a->self / (double)a->sampled : 0.0;
  q_trends(a, from_s, &it->duration_trend, &it->error_trend);
}

int q_slowdown(const int64_t n[2], const int64_t sum[2], double *pct) {
  if (n[0] <= 0 || n[1] <= 0 || sum[0] <= 0 || sum[1] <= 0) return 0;
  return hud_percent_change((double)sum[0] / (double)n[0], (double)sum[1] / (double)n[1], pct) == 0;
}

void q_fig_version_sums(const q_fig *f, srv_version_sums *out) {
  memcpy(out->n, f->ver_n, sizeof out->n);
  memcpy(out->sum, f->ver_sum, sizeof out->sum);
}

void q_apply_slowdown(const srv_version_sums *vs, const char *prev_name, hud_function_summary *out) {
  double pct;
  out->slowdown = 0;
  out->previous_version = NULL;
  if (q_slowdown(vs->n, vs->sum, &pct)) {
    out->slowdown = pct;
    out->previous_version = prev_name;
  }
}

void q_fig_free(q_fig *f) {
  free(f->pts);
  srv_acc_free(&f->sketch);
  memset(f, 0, sizeof *f);
}

int q_fig_percentiles(srv_bins_acc *k, hud_function_summary *out) {
  static const double qs[4] = {0.5, 0.9, 0.95, 0.99};
  double v[4];
  bool have;
  out->p50 = out->p90 = out->p95 = out->p99 = 0;
  int rc = srv_acc_quantiles(k, qs, 4, v, &have);
  if (rc == 0 && have) {
    out->p50 = v[0];
    out->p90 = v[1];
    out->p95 = v[2];
    out->p99 = v[3];
  }
  return rc;
}

int q_blob_quantiles(const unsigned char *blob, size_t len, const double *qs, size_t n, double *out) {
  for (size_t i = 0; i < n; i++) out[i] = 0;
  if (!blob || !len) return 0;
  srv_bins_acc a = {0};
  int rc = srv_acc_add_blob(&a, blob, len);
  bool have = false;
  double v[8];
  if (rc == 0 && n <= 8) rc = srv_acc_quantiles(&a, qs, n, v, &have);
  srv_acc_free(&a);
  for (size_t i = 0; rc == 0 && have && i < n; i++) out[i] = v[i];
  return rc;
}

int q_point_of(const srv_series_row *r, hud_time_point *p) {
  static const double qs[2] = {0.5, 0.95};
  double v[2];
  p->timestamp = r->start * 1000000000LL;
  p->calls = r->s.count;
  p->errors = r->s.errors;
  p->mean_duration = r->s.sampled ? r->s.sum / (double)r->s.sampled : 0.0;
  int rc = q_blob_quantiles(r->s.sketch.blob, r->s.sketch.len, qs, 2, v);
  p->p50 = v[0];
  p->p95 = v[1];
  return rc;
}

int q_version_of(const srv_version_row *r, hud_version_stats *v) {
  static const double qs[3] = {0.5, 0.95, 0.99};
  double q[3];
  memset(v, 0, sizeof *v);
  v->version = r->version;
  v->first_seen = r->first_seen * 1000000000LL;
  v->last_seen = r->last_seen * 1000000000LL;
  v->calls = r->s.count;
  v->errors = r->s.errors;
  v->error_rate = v->calls ? (double)v->errors / (double)v->calls : 0.0;
  v->sampled_count = r->s.sampled;
  hud_summary sm;
  if (v->sampled_count > 0 && hud_summary_from_sums((uint64_t)v->sampled_count, r->s.sum, r->s.sumsq, &sm) == 0) {
    v->mean_duration = sm.mean;
    v->stddev_duration = sm.sd;
  }
  int rc = q_blob_quantiles(r->s.sketch.blob, r->s.sketch.len, qs, 3, q);
  v->p50 = q[0];
  v->p95 = q[1];
  v->p99 = q[2];
  return rc;
}

int q_flow_figures(const srv_sums *s, hud_flow_summary *f) {
  static const double qs[3] = {0.5, 0.95, 0.99};
  double q[3];
  f->calls = s->count;
  f->errors = s->errors;
  f->error_rate = f->calls ? (double)f->errors / (double)f->calls : 0.0;
  f->mean_duration = s->sampled ? s->sum / (double)s->sampled : 0.0;
  int rc = q_blob_quantiles(s->sketch.blob, s->sketch.len, qs, 3, q);
  f->p50 = q[0];
  f->p95 = q[1];
  f->p99 = q[2];
  return rc;
}

int q_sketch_percentiles(const srv_sketch_ref *k, hud_function_summary *it) {
  static const double qs[4] = {0.5, 0.9, 0.95, 0.99};
  double q[4];
  int rc = q_blob_quantiles(k->blob, k->len, qs, 4, q);
  it->p50 = q[0];
  it->p90 = q[1];
  it->p95 = q[2];
  it->p99 = q[3];
  return rc;
}

static int q_ref_cmp(const hud_function_ref *a, const hud_function_ref *b) {
  return strcmp(a ? a->function_id : "", b ? b->function_id : "");
}

static int q_exc_cmp(const void *pa, const void *pb) {
  const hud_exception_flow_summary *a = pa, *b = pb;
  if (a->count != b->count) return a->count > b->count ? -1 : 1;
  int c = strcmp(a->exception_type ? a->exception_type : "", b->exception_type ? b->exception_type : "");
  if (c == 0) c = q_ref_cmp(&a->origin, &b->origin);
  for (size_t i = 0; c == 0 && i < a->n_propagated && i < b->n_propagated; i++)
    c = q_ref_cmp(&a->propagated_through[i], &b->propagated_through[i]);
  if (c == 0 && a->n_propagated != b->n_propagated) c = a->n_propagated < b->n_propagated ? -1 : 1;
  if (c == 0) c = q_ref_cmp(a->caught_in, b->caught_in);
  return c;
}

void q_exception_flows_order(hud_exception_flows_response *out, int limit) {
  if (out->n_flows > 1) qsort(out->flows, out->n_flows, sizeof *out->flows, q_exc_cmp);
  if (limit >= 0 && out->n_flows > (size_t)limit) out->n_flows = (size_t)limit;
}
