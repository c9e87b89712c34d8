/* srv_issue <-> bytes: a version byte and a byte-order mark, then every field in declaration order;
 * integers and doubles as 8 bytes in host order, strings as a 4-byte length and the bytes. A store
 * copied to a host of the other byte order fails to decode its findings (found afresh later). */
#define _GNU_SOURCE
#include "issue_blob.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"

#define BLOB_VERSION 1
#define NULL_LEN UINT32_MAX

static const uint32_t k_order = 0x01020304u;

typedef struct wbuf {
  FILE *f;
} wbuf;

static void w_raw(wbuf *w, const void *p, size_t n) { fwrite(p, 1, n, w->f); }
static void w_u64(wbuf *w, uint64_t v) { w_raw(w, &v, sizeof v); }
static void w_i64(wbuf *w, int64_t v) { w_raw(w, &v, sizeof v); }
static void w_dbl(wbuf *w, double v) { w_raw(w, &v, sizeof v); }
static void w_str(wbuf *w, const char *s) {
  uint32_t n = s ? (uint32_t)strlen(s) : NULL_LEN;
  w_raw(w, &n, sizeof n);
  if (s) w_raw(w, s, n);
}

typedef struct rbuf {
  const unsigned char *p, *end;
  hud_arena *a;
  int bad;
} rbuf;

static void r_raw(rbuf *r, void *out, size_t n) {
  if (r->bad || (size_t)(r->end - r->p) < n) {
    r->bad = 1;
    memset(out, 0, n);
    return;
  }
  memcpy(out, r->p, n);
  r->p += n;
}
static uint64_t r_u64(rbuf *r) {
  uint64_t v;
  r_raw(r, &v, sizeof v);
  return v;
}
static int64_t r_i64(rbuf *r) {
  int64_t v;
  r_raw(r, &v, sizeof v);
  return v;
}
static double r_dbl(rbuf *r) {
  double v;
  r_raw(r, &v, sizeof v);
  return v;
}
static char *r_str(rbuf *r) {
  uint32_t n;
  r_raw(r, &n, sizeof n);
  if (r->bad || n == NULL_LEN) return NULL;
  if ((size_t)(r->end - r->p) < n) {
    r->bad = 1;
    return NULL;
  }
  char *s = hud_arena_alloc(r->a, (size_t)n + 1);
  if (!s) {
    r->bad = 1;
    return NULL;
  }
  memcpy(s, r->p, n);
  s[n] = 0;
  r->p += n;
  return s;
}

/* metric is a static string of detect.c: stored as text, given back as one of the known names. */
static const char *const k_metrics[] = {"self_duration", "calls_per_invocation", "mean_duration", "error_rate",
                                        "exceptions"};

static const char *metric_of(const char *s) {
  for (size_t i = 0; s && i < sizeof k_metrics / sizeof k_metrics[0]; i++)
    if (strcmp(s, k_metrics[i]) == 0) return k_metrics[i];
  return NULL;
}

static void w_flow(wbuf *w, const srv_issue_flow *f) {
  w_str(w, f->flow_id);
  w_dbl(w, f->base_mean_ns), w_dbl(w, f->cand_mean_ns), w_dbl(w, f->effect_ns), w_dbl(w, f->flow_effect_ns);
  w_dbl(w, f->base_rate), w_dbl(w, f->cand_rate);
  w_u64(w, f->base_calls), w_u64(w, f->cand_calls), w_u64(w, f->cand_errors);
  w_dbl(w, f->z), w_dbl(w, f->p_value), w_dbl(w, f->q_value);
  w_u64(w, f->n_path);
  for (size_t i = 0; i < f->n_path; i++) w_str(w, f->path[i]);
}

static void r_flow(rbuf *r, srv_issue_flow *f) {
  f->flow_id = r_str(r);
  f->base_mean_ns = r_dbl(r), f->cand_mean_ns = r_dbl(r), f->effect_ns = r_dbl(r), f->flow_effect_ns = r_dbl(r);
  f->base_rate = r_dbl(r), f->cand_rate = r_dbl(r);
  f->base_calls = r_u64(r), f->cand_calls = r_u64(r), f->cand_errors = r_u64(r);
  f->z = r_dbl(r), f->p_value = r_dbl(r), f->q_value = r_dbl(r);
  uint64_t n = r_u64(r);
  if (r->bad || n > 4096) {
    r->bad = 1;
    return;
  }
  f->path = hud_arena_calloc(r->a, n ? n : 1, sizeof *f->path);
  if (!f->path) {
    r->bad = 1;
    return;
  }
  for (size_t i = 0; i < n && !r->bad; i++) f->path[i] = r_str(r);
  f->n_path = n;
}

static void w_cause(wbuf *w, const srv_issue_cause *c) {
  w_str(w, c->function_id), w_str(w, c->exception_type);
  w_dbl(w, c->share), w_dbl(w, c->contribution), w_dbl(w, c->slower_part), w_dbl(w, c->more_calls_part);
  w_dbl(w, c->base_self_mean_ns), w_dbl(w, c->cand_self_mean_ns);
  w_dbl(w, c->base_calls_per_inv), w_dbl(w, c->cand_calls_per_inv);
  w_dbl(w, c->base_rate), w_dbl(w, c->cand_rate), w_dbl(w, c->p_value);
  w_u64(w, c->base_samples), w_u64(w, c->cand_samples), w_i64(w, c->depth);
}

static void r_cause(rbuf *r, srv_issue_cause *c) {
  c->function_id = r_str(r), c->exception_type = r_str(r);
  c->share = r_dbl(r), c->contribution = r_dbl(r), c->slower_part = r_dbl(r), c->more_calls_part = r_dbl(r);
  c->base_self_mean_ns = r_dbl(r), c->cand_self_mean_ns = r_dbl(r);
  c->base_calls_per_inv = r_dbl(r), c->cand_calls_per_inv = r_dbl(r);
  c->base_rate = r_dbl(r), c->cand_rate = r_dbl(r), c->p_value = r_dbl(r);
  c->base_samples = r_u64(r), c->cand_samples = r_u64(r), c->depth = (int)r_i64(r);
}

int srv_issue_blob_encode(const srv_issue *is, unsigned char **out, size_t *len) {
  char *buf = NULL;
  size_t n = 0;
  wbuf w = {open_memstream(&buf, &n)};
  if (!w.f) return HUD_ENOMEM;
  unsigned char v = BLOB_VERSION;
  w_raw(&w, &v, 1);
  w_raw(&w, &k_order, sizeof k_order);
  w_i64(&w, is->kind);
  w_str(&w, is->function_id), w_str(&w, is->exception_type), w_str(&w, is->metric);
  w_str(&w, is->base_label), w_str(&w, is->cand_label);
  w_i64(&w, is->base_from_ms), w_i64(&w, is->base_to_ms), w_i64(&w, is->cand_from_ms), w_i64(&w, is->cand_to_ms);
  w_dbl(&w, is->base_value), w_dbl(&w, is->cand_value);
  w_dbl(&w, is->effect), w_dbl(&w, is->effect_lo), w_dbl(&w, is->effect_hi);
  w_dbl(&w, is->rel_effect), w_dbl(&w, is->rel_lo), w_dbl(&w, is->rel_hi);
  w_dbl(&w, is->statistic), w_str(&w, is->statistic_name), w_dbl(&w, is->df);
  w_dbl(&w, is->p_value), w_dbl(&w, is->q_value), w_dbl(&w, is->confidence);
  w_dbl(&w, is->drift_sd), w_dbl(&w, is->drift_shift);
  w_u64(&w, is->base_n), w_u64(&w, is->cand_n), w_u64(&w, is->base_calls), w_u64(&w, is->cand_calls);
  w_u64(&w, is->base_errors), w_u64(&w, is->cand_errors);
  w_dbl(&w, is->base_sd_ns), w_dbl(&w, is->cand_sd_ns);
  w_i64(&w, is->code_changed), w_i64(&w, is->self_includes_uninstrumented);
  w_u64(&w, is->n_flows);
  for (size_t i = 0; i < is->n_flows; i++) w_flow(&w, &is->flows[i]);
  w_u64(&w, is->n_causes);
  for (size_t i = 0; i < is->n_causes; i++) w_cause(&w, &is->causes[i]);
  w_dbl(&w, is->explained);
  if (fclose(w.f) != 0) {
    free(buf);
    return HUD_ENOMEM;
  }
  *out = (unsigned char *)buf;
  *len = n;
  return 0;
}

int srv_issue_blob_decode(const void *blob, size_t len, hud_arena *arena, srv_issue *is) {
  memset(is, 0, sizeof *is);
  rbuf r = {blob, (const unsigned char *)blob + len, arena, 0};
  unsigned char v = 0;
  uint32_t order = 0;
  r_raw(&r, &v, 1);
  r_raw(&r, &order, sizeof order);
  if (r.bad || v != BLOB_VERSION || order != k_order) return HUD_EPARSE;
  int64_t kind = r_i64(&r);
  if (kind < SRV_ISSUE_DURATION || kind > SRV_ISSUE_NEW_EXCEPTION) return HUD_EPARSE;
  is->kind = (srv_issue_kind)kind;
  is->function_id = r_str(&r), is->exception_type = r_str(&r);
  char *metric = r_str(&r);
  is->metric = metric_of(metric);
  is->base_label = r_str(&r), is->cand_label = r_str(&r);
  is->base_from_ms = r_i64(&r), is->base_to_ms = r_i64(&r), is->cand_from_ms = r_i64(&r), is->cand_to_ms = r_i64(&r);
  is->base_value = r_dbl(&r), is->cand_value = r_dbl(&r);
  is->effect = r_dbl(&r), is->effect_lo = r_dbl(&r), is->effect_hi = r_dbl(&r);
  is->rel_effect = r_dbl(&r), is->rel_lo = r_dbl(&r), is->rel_hi = r_dbl(&r);
  is->statistic = r_dbl(&r);
  char *sname = r_str(&r);
  is->statistic_name = sname && strcmp(sname, "z") == 0 ? "z" : sname;
  is->df = r_dbl(&r);
  is->p_value = r_dbl(&r), is->q_value = r_dbl(&r), is->confidence = r_dbl(&r);
  is->drift_sd = r_dbl(&r), is->drift_shift = r_dbl(&r);
  is->base_n = r_u64(&r), is->cand_n = r_u64(&r), is->base_calls = r_u64(&r), is->cand_calls = r_u64(&r);
  is->base_errors = r_u64(&r), is->cand_errors = r_u64(&r);
  is->base_sd_ns = r_dbl(&r), is->cand_sd_ns = r_dbl(&r);
  is->code_changed = (int)r_i64(&r), is->self_includes_uninstrumented = (int)r_i64(&r);
  uint64_t nf = r_u64(&r);
  if (r.bad || nf > 4096) return HUD_EPARSE;
  is->flows = hud_arena_calloc(arena, nf ? nf : 1, sizeof *is->flows);
  if (!is->flows) return HUD_ENOMEM;
  for (size_t i = 0; i < nf && !r.bad; i++) r_flow(&r, &is->flows[i]);
  is->n_flows = nf;
  uint64_t nc = r_u64(&r);
  if (r.bad || nc > 4096) return HUD_EPARSE;
  is->causes = hud_arena_calloc(arena, nc ? nc : 1, sizeof *is->causes);
  if (!is->causes) return HUD_ENOMEM;
  for (size_t i = 0; i < nc && !r.bad; i++) r_cause(&r, &is->causes[i]);
  is->n_causes = nc;
  is->explained = r_dbl(&r);
  if (r.bad || r.p != r.end || (metric && !is->metric)) return HUD_EPARSE;
  return 0;
}
