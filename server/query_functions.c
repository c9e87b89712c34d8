/* Function queries: services list, top-N, functions of modules, one function's detail. */
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "query_figures.h"
#include "query_internal.h"

int q_h_services(const srv_request *req, srv_response *resp) {
  q_ctx q;
  int rc = q_begin(req, resp, &q);
  if (rc < 0) return rc;
  const char *service = NULL;
  hud_codec_error e;
  rc = hud_services_request_from_query(q.params, q.n_params, NULL, q.arena, &service, &e);
  if (rc < 0) return q_end(&q, q_fail_codec(&q, &e));
  hud_services_response out;
  rc = sq_services(&q, service, &out);
  if (rc < 0) return q_end(&q, q_fail(&q, rc, "store: %s", hud_strerror(rc)));
  return q_end(&q, Q_REPLY(&q, hud_services_response_encode, &out));
}

typedef struct q_sorted {
  hud_function_summary *it;
  int64_t fn;
  double key;
} q_sorted;

static int q_cmp_sorted(const void *a, const void *b) {
  const q_sorted *x = a, *y = b;
  if (x->key != y->key) return x->key > y->key ? -1 : 1;
  if (x->it->calls != y->it->calls) return x->it->calls > y->it->calls ? -1 : 1;
  return x->fn < y->fn ? -1 : x->fn > y->fn;
}

/* Ties (same key and calls) in the uuids' order: store ids are the engine's own (SQLite counts, ClickHouse
 * hashes), uuids are the same everywhere. Only the runs that reach into the first LIMIT are looked up. */
static int q_cmp_uuid(const void *a, const void *b) {
  const q_sorted *x = a, *y = b;
  return strcmp(x->it->function_id, y->it->function_id);
}

static int q_ties_by_uuid(q_ctx *q, q_sorted *v, size_t n, size_t limit) {
  int rc = 0;
  for (size_t i = 0; i < n && i < limit && rc == 0;) {
    size_t j = i + 1;
    while (j < n && v[j].key == v[i].key && v[j].it->calls == v[i].it->calls) j++;
    if (j - i > 1) {
      for (size_t k = i; k < j && rc == 0; k++) rc = sq_fn_meta(q, v[k].fn, v[k].it);
      if (rc == 0) qsort(v + i, j - i, sizeof *v, q_cmp_uuid);
    }
    i = j;
  }
  return rc;
}

static double q_sort_key(hud_sort s, const hud_function_summary *it) {
  switch (s) {
  case HUD_SORT_P95: return it->p95;
  case HUD_SORT_ERROR_RATE: return it->error_rate;
  case HUD_SORT_DURATION_TREND: return it->duration_trend;
  case HUD_SORT_ERROR_TREND: return it->error_trend;
  case HUD_SORT_SLOWDOWN: return it->slowdown;
  case HUD_SORT_CALLS:
  default: return (double)it->calls;
  }
}

/* The versions a slowdown compares: the scope's version (or the newest deployed) and the one deployed
 * before it (*PREV_NAME); {0, 0} when there is no such pair. */
static int q_versions(q_ctx *q, srv_version_pair *vp, const char **prev_name) {
  int64_t cur = q->version_id, fs, ls;
  const char *cur_name;
  *vp = (srv_version_pair){0, 0};
  *prev_name = NULL;
  int rc = cur ? 0 : sq_latest_version(q, q->service_id, &cur, &cur_name, &fs, &ls);
  if (rc == 0) rc = sq_previous_version(q, q->service_id, cur, &vp->prev, prev_name, &fs, &ls);
  if (rc == HUD_ENOTFOUND) {
    vp->prev = 0;
    return 0;
  }
  if (rc == 0) vp->cur = cur;
  return rc;
}

/* Slowdowns of ITEMS (functions FNS) by the one rule (query_figures.h). */
static int q_slowdowns(q_ctx *q, hud_function_summary *items, const int64_t *fns, size_t n) {
  srv_version_pair vp;
  const char *prev_name;
  int rc = q_versions(q, &vp, &prev_name);
  srv_version_sums *vs = n ? hud_arena_calloc(q->arena, n, sizeof *vs) : NULL;
  if (rc == 0 && n && !vs) rc = HUD_ENOMEM;
  if (rc == 0 && n) rc = sq_fn_version_sums(q, fns, n, vp, vs);
  for (size_t i = 0; rc == 0 && i < n; i++) q_apply_slowdown(&vs[i], prev_name, &items[i]);
  return rc;
}

/* Every figure of a page of functions, slowdown included. */
static int q_page(q_ctx *q, const int64_t *fns, size_t n, hud_function_summary *items) {
  srv_version_pair vp;
  const char *prev_name;
  int rc = q_versions(q, &vp, &prev_name);
  srv_version_sums *vs = n ? hud_arena_calloc(q->arena, n, sizeof *vs) : NULL;
  if (rc == 0 && n && !vs) rc = HUD_ENOMEM;
  if (rc == 0 && n) rc = sq_fn_page(q, fns, n, vp, items, vs);
  for (size_t i = 0; rc == 0 && i < n; i++) q_apply_slowdown(&vs[i], prev_name, &items[i]);
  return rc;
}

/* Fills metadata, percentiles and slowdown of ITEMS (those not yet filled). */
static int q_finish_items(q_ctx *q, hud_function_summary *items, const int64_t *fns, size_t n, int64_t flow,
                          bool have_pct, bool have_slowdown) {
  int rc = 0;
  srv_sketch_ref *ks = NULL; /* the page's sketches in one read when the engine batches them */
  if (!have_pct && n && q->reads->fn_sketches) {
    ks = hud_arena_calloc(q->arena, n, sizeof *ks);
    rc = ks ? q->reads->fn_sketches(q->rd, fns, n, flow, ks) : HUD_ENOMEM;
  }
  for (size_t i = 0; i < n && rc == 0; i++) {
    rc = sq_fn_meta(q, fns[i], &items[i]);
    srv_sketch_ref k;
    if (rc == 0 && !have_pct) {
      if (ks) k = ks[i];
      else rc = sq_fn_sketch(q, fns[i], flow, &k);
      if (rc == 0) rc = q_sketch_percentiles(&k, &items[i]);
    }
  }
  if (rc == 0 && !have_slowdown) rc = q_slowdowns(q, items, fns, n);
  return rc;
}

int q_h_top(const srv_request *req, srv_response *resp) {
  q_ctx q;
  int rc = q_begin(req, resp, &q);
  if (rc < 0) return rc;
  hud_top_request r;
  hud_codec_error e;
  rc = hud_top_request_from_query(q.params, q.n_params, NULL, q.arena, &r, &e);
  if (rc < 0) return q_end(&q, q_fail_codec(&q, &e));
  if ((rc = q_scope(&q, &r.scope)) < 0) return q_end(&q, rc);
  hud_sort sort = r.sort ? r.sort : HUD_SORT_CALLS;
  int limit = r.limit > 0 ? r.limit : 20;
  q_fn_filter f = {0};
  if (r.flow_id[0]) {
    rc = sq_flow_id(&q, r.flow_id, &f.flow);
    if (rc == HUD_ENOTFOUND) return q_end(&q, q_fail(&q, rc, "flow_id: unknown flow %s", r.flow_id));
    if (rc < 0) return q_end(&q, q_fail(&q, rc, "store: %s", hud_strerror(rc)));
  }
  hud_function_summary *items;
  int64_t *fns;
  size_t n;
  /* The scan of the whole window keeps per-slice points only when sorting by a trend; otherwise the
   * trends of the page's items come from indexed reads afterwards (in a flow too: a store without
   * trend sums per span would send every (function, slice) of the flow for 20 functions' trends). */
  bool trend_sort = sort == HUD_SORT_DURATION_TREND || sort == HUD_SORT_ERROR_TREND;
  f.no_trends = !trend_sort;
  f.p95 = sort == HUD_SORT_P95;
  const char *prev_name = NULL;
  if (sort == HUD_SORT_SLOWDOWN && !f.flow && !q.version_id) rc = q_versions(&q, &f.versions, &prev_name);
  srv_version_sums *vs = NULL;
  if (rc == 0) rc = sq_fn_summaries(&q, &f, &items, &fns, &n, &vs);
  for (size_t i = 0; rc == 0 && vs && i < n; i++) q_apply_slowdown(&vs[i], prev_name, &items[i]);
  bool have_pct = false, have_slow = false;
  /* Sorting by a figure that needs more than the sums: compute it for every function first. */
  /* The p95 sort key comes from the summaries pass; the page's percentiles are read below. */
  if (rc == 0 && sort == HUD_SORT_SLOWDOWN) {
    if (!vs) rc = q_slowdowns(&q, items, fns, n);
    have_slow = true;
  }
  q_sorted *v = NULL;
  if (rc == 0 && n) {
    v = malloc(n * sizeof *v);
    if (!v) rc = HUD_ENOMEM;
  }
  hud_top_response out = {.from = q.from, .to = q.to, .sort = sort};
  if (rc == 0) {
    for (size_t i = 0; i < n; i++) v[i] = (q_sorted){&items[i], fns[i], q_sort_key(sort, &items[i])};
    if (n) qsort(v, n, sizeof *v, q_cmp_sorted);
    rc = q_ties_by_uuid(&q, v, n, (size_t)limit);
    out.n_items = n < (size_t)limit ? n : (size_t)limit;
    out.items = hud_arena_calloc(q.arena, out.n_items ? out.n_items : 1, sizeof *out.items);
    int64_t *top_fns = hud_arena_calloc(q.arena, out.n_items ? out.n_items : 1, sizeof *top_fns);
    if (!out.items || !top_fns) rc = HUD_ENOMEM;
    for (size_t i = 0; i < out.n_items && rc == 0; i++) {
      out.items[i] = *v[i].it;
      top_fns[i] = v[i].fn;
    }
    if (rc == 0 && !f.flow) {
      /* The page's figures in one indexed pass per function (same values as the scan, plus trends,
       * percentiles and slowdown). */
      rc = q_page(&q, top_fns, out.n_items, out.items);
      have_pct = have_slow = true;
    } else if (rc == 0 && f.no_trends && out.n_items) {
      q_fn_filter tf = {.fns = top_fns, .n_fns = out.n_items, .flow = f.flow};
      hud_function_summary *ti;
      int64_t *tfns;
      size_t tn;
      srv_version_sums *tvs;
      rc = sq_fn_summaries(&q, &tf, &ti, &tfns, &tn, &tvs);
      for (size_t i = 0; i < tn && rc == 0; i++)
        for (size_t k = 0; k < out.n_items; k++)
          if (top_fns[k] == tfns[i]) {
            out.items[k].duration_trend = ti[i].duration_trend;
            out.items[k].error_trend = ti[i].error_trend;
          }
    }
    if (rc == 0) rc = q_finish_items(&q, out.items, top_fns, out.n_items, f.flow, have_pct, have_slow);
  }
  free(v);
  if (rc < 0) return q_end(&q, q_fail(&q, rc, "store: %s", hud_strerror(rc)));
  return q_end(&q, Q_REPLY(&q, hud_top_response_encode, &out));
}

int q_h_by_module(const srv_request *req, srv_response *resp) {
  q_ctx q;
  int rc = q_begin(req, resp, &q);
  if (rc < 0) return rc;
  hud_by_module_request r;
  hud_codec_error e;
  rc = hud_by_module_request_decode(req->body ? (const char *)req->body : "", req->body_len, NULL, q.arena, &r, &e);
  if (rc < 0) return q_end(&q, q_fail_codec(&q, &e));
  if ((rc = q_scope(&q, &r.scope)) < 0) return q_end(&q, rc);
  int64_t *module_fns;
  size_t n_module_fns;
  hud_by_module_response out = {.from = q.from, .to = q.to};
  rc = sq_fns_of_modules(&q, r.module_paths, r.n_module_paths, &module_fns, &n_module_fns);
  int64_t *fns = NULL;
  hud_function_summary *all = NULL;
  if (rc == 0 && n_module_fns) {
    all = hud_arena_calloc(q.arena, n_module_fns, sizeof *all);
    out.items = hud_arena_calloc(q.arena, n_module_fns, sizeof *out.items);
    fns = hud_arena_calloc(q.arena, n_module_fns, sizeof *fns);
    if (!all || !out.items || !fns) rc = HUD_ENOMEM;
  }
  if (rc == 0 && n_module_fns) rc = q_page(&q, module_fns, n_module_fns, all);
  /* Every function of the modules with activity in the window, plus those declared in it without
   * calls (zero figures), so the editor can tell "not called" from "unknown". */
  for (size_t i = 0; i < n_module_fns && rc == 0; i++) {
    if (all[i].calls == 0) {
      int d = sq_fn_declared_in(&q, module_fns[i]);
      if (d < 0) rc = d;
      if (d <= 0) continue;
    }
    out.items[out.n_items] = all[i];
    fns[out.n_items++] = module_fns[i];
  }
  if (rc == 0) rc = q_finish_items(&q, out.items, fns, out.n_items, 0, true, true);
  if (rc < 0) return q_end(&q, q_fail(&q, rc, "store: %s", hud_strerror(rc)));
  return q_end(&q, Q_REPLY(&q, hud_by_module_response_encode, &out));
}

/* FN's callers (CALLERS) or callees with their mean duration per call. */
static int q_peers(q_ctx *q, int64_t fn, bool callers, hud_call_peer **out, size_t *n) {
  srv_peer_row *rows;
  *out = NULL;
  int rc = sq_fn_peers(q, fn, callers, &rows, n);
  if (rc == 0 && *n && !(*out = hud_arena_calloc(q->arena, *n, sizeof **out))) rc = HUD_ENOMEM;
  for (size_t i = 0; rc == 0 && i < *n; i++) {
    (*out)[i] = rows[i].peer;
    (*out)[i].mean_duration = rows[i].sampled ? (double)rows[i].peer.sum_duration / (double)rows[i].sampled : 0.0;
  }
  if (rc < 0) *n = 0;
  return rc;
}

/* One function's page: its declaration, figures over the window (with percentiles and slowdown), a
 * series of about 60 points (whole minutes) unless BUCKET_NS is given, callers, callees, errors by
 * type and figures per version. */
static int q_function_detail(q_ctx *q, int64_t fn, int64_t bucket_ns, hud_function_detail *d) {
  memset(d, 0, sizeof *d);
  int rc = sq_fn_decl(q, fn, &d->declaration);
  if (rc < 0) return rc;
  q_fn_filter f = {.fns = &fn, .n_fns = 1};
  hud_function_summary *items;
  int64_t *fns;
  size_t n;
  srv_version_sums *vs;
  rc = sq_fn_summaries(q, &f, &items, &fns, &n, &vs);
  if (rc < 0) return rc;
  if (n) d->summary = items[0];
  rc = sq_fn_meta(q, fn, &d->summary);
  srv_sketch_ref k;
  if (rc == 0 && (rc = sq_fn_sketch(q, fn, 0, &k)) == 0) rc = q_sketch_percentiles(&k, &d->summary);
  if (rc == 0) rc = q_slowdowns(q, &d->summary, &fn, 1);
  int64_t bucket_s = bucket_ns > 0 ? (bucket_ns + 999999999LL) / 1000000000LL : 0;
  if (bucket_s <= 0) {
    bucket_s = ((q->to_s - q->from_s) / 60 + 59) / 60 * 60;
    if (bucket_s < 60) bucket_s = 60;
  }
  srv_series_row *pts;
  size_t n_pts;
  if (rc == 0) rc = sq_fn_series(q, fn, bucket_s, &pts, &n_pts);
  if (rc == 0 && n_pts) {
    d->series = hud_arena_calloc(q->arena, n_pts, sizeof *d->series);
    if (!d->series) rc = HUD_ENOMEM;
  }
  for (size_t i = 0; rc == 0 && i < n_pts; i++) rc = q_point_of(&pts[i], &d->series[d->n_series++]);
  if (rc == 0) rc = q_peers(q, fn, true, &d->callers, &d->n_callers);
  if (rc == 0) rc = q_peers(q, fn, false, &d->callees, &d->n_callees);
  if (rc == 0) rc = sq_fn_errors_by_type(q, fn, &d->errors_by_type);
  srv_version_row *vers;
  size_t n_vers;
  if (rc == 0) rc = sq_fn_versions(q, fn, &vers, &n_vers);
  if (rc == 0 && n_vers) {
    d->versions = hud_arena_calloc(q->arena, n_vers, sizeof *d->versions);
    if (!d->versions) rc = HUD_ENOMEM;
  }
  for (size_t i = 0; rc == 0 && i < n_vers; i++) rc = q_version_of(&vers[i], &d->versions[d->n_versions++]);
  return rc;
}

int q_h_function(const srv_request *req, srv_response *resp) {
  q_ctx q;
  int rc = q_begin(req, resp, &q);
  if (rc < 0) return rc;
  hud_function_request r;
  hud_codec_error e;
  const char *id = srv_request_path_param(req, "id");
  rc = hud_function_request_from_query(id ? id : "", q.params, q.n_params, NULL, q.arena, &r, &e);
  if (rc < 0) return q_end(&q, q_fail_codec(&q, &e));
  if ((rc = q_scope(&q, &r.scope)) < 0) return q_end(&q, rc);
  int64_t fn;
  rc = sq_fn_id(&q, r.function_id, &fn);
  if (rc == HUD_ENOTFOUND)
    return q_end(&q, q_fail(&q, rc, "function %s is unknown in service '%s'", r.function_id, q.service));
  hud_function_detail d;
  if (rc == 0) rc = q_function_detail(&q, fn, r.bucket_ns, &d);
  if (rc < 0) return q_end(&q, q_fail(&q, rc, "store: %s", hud_strerror(rc)));
  return q_end(&q, Q_REPLY(&q, hud_function_detail_encode, &d));
}
