/* Query API against the real hud-server on loopback with a real SQLite file: two versions of the
 * synthetic service are ingested over HTTP (POST /v1/ingest), then every query is checked against
 * figures computed from the simulation itself. Version 1.1.0 has fetch_order twice as slow and
 * charge failing 8% of the time instead of 1%. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "query_fixture.h"
#include "hud/codec.h"
#include "hud/err.h"
#include "hud/identity.h"
#include "synth.h"
#include "synth_batch.h"

#define INV QF_INV
#define NS QF_NS

static query_fixture *g;

static int setup(void **state) {
  g = query_fixture_start();
  *state = g;
  return g ? 0 : -1;
}

static int teardown(void **state) {
  query_fixture_stop(g);
  g = NULL;
  return 0;
}

/* GET PATH with KEY; returns the status, body in *BODY (free()). */
static long get(const char *path, const char *key, char **body) {
  srvh_resp r;
  assert_int_equal(srvh_request(g->h.port, "GET", path, key, NULL, 0, NULL, &r), 0);
  *body = r.body ? r.body : strdup("");
  return r.status;
}

static const char *fid(const char *qualname) { return synth_fns()[synth_fn_index(qualname)].id; }

/* Totals of function FN over both snapshots (or only SNAP when not NULL). */
typedef struct totals {
  int64_t calls, errors, sampled;
  double sum, self;
} totals;

static totals fn_totals(const synth_out *only, int fn) {
  totals t = {0};
  const synth_out *outs[2] = {&g->a, &g->b};
  for (int k = 0; k < 2; k++) {
    if (only && outs[k] != only) continue;
    for (size_t i = 0; i < outs[k]->n_rows; i++) {
      const synth_row *r = &outs[k]->rows[i];
      if (r->fn != fn) continue;
      t.calls += (int64_t)r->st.count;
      t.errors += (int64_t)r->st.errors;
      t.sampled += (int64_t)r->st.sampled_count;
      t.sum += (double)(int64_t)r->sum_int_ns;
      t.self += (double)(int64_t)r->self_int_ns;
    }
  }
  return t;
}

static double merged_quantile(int fn, double q) {
  hud_sketch *m = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
  const synth_out *outs[2] = {&g->a, &g->b};
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < outs[k]->n_rows; i++)
      if (outs[k]->rows[i].fn == fn && outs[k]->rows[i].sketch) hud_sketch_merge(m, outs[k]->rows[i].sketch);
  double v = 0;
  hud_sketch_quantile(m, q, &v);
  hud_sketch_free(m);
  return v;
}

static char *top_target(hud_sort sort, int limit) {
  hud_top_request r = {.scope = {.service = "shop", .from = g->from, .to = g->to}, .sort = sort, .limit = limit};
  char *t = NULL;
  assert_int_equal(hud_top_request_to_target(&r, &t), 0);
  return t;
}

static void services_lists_versions_of_visible_envs(void **state) {
  char *body;
  assert_int_equal(get("/v1/services", g->key, &body), 200);
  hud_arena *a = hud_arena_new();
  hud_services_response s;
  assert_int_equal(hud_services_response_decode(body, strlen(body), NULL, a, &s, NULL), 0);
  assert_int_equal(s.n_services, 1);
  assert_string_equal(s.services[0].name, "shop");
  assert_int_equal(s.services[0].n_environments, 1);
  assert_string_equal(s.services[0].environments[0].name, "prod");
  assert_int_equal(s.services[0].environments[0].n_versions, 2);
  assert_string_equal(s.services[0].environments[0].versions[0].version, "1.1.0"); /* newest first */
  assert_string_equal(s.services[0].environments[0].versions[1].version, "1.0.0");
  free(body);
  /* The staging key sees nothing of prod. */
  assert_int_equal(get("/v1/services", g->other_key, &body), 200);
  assert_int_equal(hud_services_response_decode(body, strlen(body), NULL, a, &s, NULL), 0);
  assert_int_equal(s.n_services, 0);
  free(body);
  hud_arena_free(a);
}

static void top_by_calls_has_exact_figures(void **state) {
  char *t = top_target(HUD_SORT_CALLS, 3), *body;
  assert_int_equal(get(t, g->key, &body), 200);
  hud_arena *a = hud_arena_new();
  hud_top_response r;
  assert_int_equal(hud_top_response_decode(body, strlen(body), NULL, a, &r, NULL), 0);
  assert_int_equal(r.n_items, 3);
  assert_int_equal(r.sort, HUD_SORT_CALLS);
  /* render_item: 3 per order; check_token (once per order and per checkout) ties with compute_price:
   * ties come in uuid order, the same in every store engine. */
  assert_string_equal(r.items[0].function_id, fid("render_item"));
  const char *ct = fid("check_token"), *cp = fid("compute_price");
  assert_string_equal(r.items[1].function_id, strcmp(ct, cp) < 0 ? ct : cp);
  assert_string_equal(r.items[2].function_id, strcmp(ct, cp) < 0 ? cp : ct);
  for (size_t i = 0; i < r.n_items; i++) {
    int fn = synth_fn_index(r.items[i].name);
    assert_true(fn >= 0);
    totals t0 = fn_totals(NULL, fn);
    assert_int_equal(r.items[i].calls, t0.calls);
    assert_int_equal(r.items[i].errors, t0.errors);
    assert_int_equal(r.items[i].sampled_count, t0.sampled);
    assert_float_equal(r.items[i].mean_duration, t0.sum / (double)t0.sampled, 1e-6 * t0.sum / (double)t0.sampled);
    assert_float_equal(r.items[i].self_duration_mean, t0.self / (double)t0.sampled, 1e-6 * t0.self / (double)t0.sampled);
    assert_float_equal(r.items[i].p95, merged_quantile(fn, 0.95), 1e-6 * r.items[i].p95);
    assert_float_equal(r.items[i].p50, merged_quantile(fn, 0.50), 1e-6 * r.items[i].p50);
    assert_non_null(r.items[i].module_path);
    assert_string_equal(r.items[i].module_path, synth_fns()[fn].module_path);
    if (i) assert_true(r.items[i - 1].calls >= r.items[i].calls);
  }
  assert_int_equal(r.items[0].calls, 3 * 2 * INV);
  assert_int_equal(r.items[1].calls, 2 * 2 * INV);
  free(body);
  free(t);
  hud_arena_free(a);
}

static void top_by_slowdown_and_p95(void **state) {
  char *t = top_target(HUD_SORT_SLOWDOWN, 5), *body;
  assert_int_equal(get(t, g->key, &body), 200);
  hud_arena *a = hud_arena_new();
  hud_top_response r;
  assert_int_equal(hud_top_response_decode(body, strlen(body), NULL, a, &r, NULL), 0);
  assert_true(r.n_items >= 1);
  assert_string_equal(r.items[0].function_id, fid("fetch_order"));
  totals ta = fn_totals(&g->a, synth_fn_index("fetch_order")), tb = fn_totals(&g->b, synth_fn_index("fetch_order"));
  double expect = 100.0 * ((tb.sum / (double)tb.sampled) / (ta.sum / (double)ta.sampled) - 1.0);
  assert_float_equal(r.items[0].slowdown, expect, 1e-6 * fabs(expect));
  assert_true(expect > 80 && expect < 120);
  assert_non_null(r.items[0].previous_version);
  assert_string_equal(r.items[0].previous_version, "1.0.0");
  /* Two slices ten minutes apart: the trend is the change of the mean per hour. */
  double slope = (tb.sum / (double)tb.sampled - ta.sum / (double)ta.sampled) * 6.0;
  assert_float_equal(r.items[0].duration_trend, slope, 1e-6 * fabs(slope));
  free(body);
  free(t);
  /* The same ranking by duration trend (computed in the scan instead of per item). */
  t = top_target(HUD_SORT_DURATION_TREND, 1);
  assert_int_equal(get(t, g->key, &body), 200);
  assert_int_equal(hud_top_response_decode(body, strlen(body), NULL, a, &r, NULL), 0);
  assert_int_equal(r.n_items, 1);
  /* fetch_order or get_order (which inherits its +2 ms): whichever moved most, with its exact slope. */
  double best = -INFINITY;
  int best_fn = -1;
  for (size_t fn = 0; fn < synth_fn_count(); fn++) {
    totals xa = fn_totals(&g->a, (int)fn), xb = fn_totals(&g->b, (int)fn);
    double sl = (xb.sum / (double)xb.sampled - xa.sum / (double)xa.sampled) * 6.0;
    if (sl > best) best = sl, best_fn = (int)fn;
  }
  assert_true(best_fn == synth_fn_index("fetch_order") || best_fn == synth_fn_index("get_order"));
  assert_string_equal(r.items[0].function_id, synth_fns()[best_fn].id);
  assert_float_equal(r.items[0].duration_trend, best, 1e-6 * best);
  free(body);
  free(t);
  /* p95: charge (20 ms median) is the slowest function, then its caller checkout. */
  t = top_target(HUD_SORT_P95, 2);
  assert_int_equal(get(t, g->key, &body), 200);
  assert_int_equal(hud_top_response_decode(body, strlen(body), NULL, a, &r, NULL), 0);
  assert_int_equal(r.n_items, 2);
  assert_string_equal(r.items[0].function_id, fid("checkout"));
  assert_string_equal(r.items[1].function_id, fid("charge"));
  assert_true(r.items[0].p95 >= r.items[1].p95);
  free(body);
  free(t);
  hud_arena_free(a);
}

/* error_rate: cache.get raises KeyError on 30% of calls (caught by get_order), far above the rest. */
static void top_by_error_rate(void **state) {
  char *t = top_target(HUD_SORT_ERROR_RATE, 3), *body;
  assert_int_equal(get(t, g->key, &body), 200);
  hud_arena *a = hud_arena_new();
  hud_top_response r;
  assert_int_equal(hud_top_response_decode(body, strlen(body), NULL, a, &r, NULL), 0);
  assert_int_equal(r.n_items, 3);
  assert_string_equal(r.items[0].function_id, fid("get"));
  totals tg = fn_totals(NULL, synth_fn_index("get"));
  assert_float_equal(r.items[0].error_rate, (double)tg.errors / (double)tg.calls, 1e-12);
  assert_true(r.items[0].error_rate > 0.25 && r.items[0].error_rate < 0.35);
  assert_true(r.items[1].error_rate >= r.items[2].error_rate);
  assert_true(r.items[0].error_rate > r.items[1].error_rate);
  free(body);
  free(t);
  hud_arena_free(a);
}

static void by_module_returns_every_function_of_the_files(void **state) {
  const char *paths[] = {"shop/db.py", "shop/cache.py"};
  /* The window reaches now: declarations are dated by their arrival. */
  hud_by_module_request req = {.scope = {.service = "shop", .from = g->from, .to = ((hud_time_ns)time(NULL) + 60) * NS},
                               .n_module_paths = 2, .module_paths = paths};
  char *json;
  size_t len;
  assert_int_equal(hud_by_module_request_encode(&req, &json, &len, NULL), 0);
  srvh_resp r;
  assert_int_equal(srvh_request(g->h.port, "POST", "/v1/functions/by-module", g->key, json, len, NULL, &r), 0);
  assert_int_equal(r.status, 200);
  hud_arena *a = hud_arena_new();
  hud_by_module_response out;
  assert_int_equal(hud_by_module_response_decode(r.body, r.len, NULL, a, &out, NULL), 0);
  assert_int_equal(out.n_items, 5); /* fetch_order, fetch_items, save_order, get, unused_helper */
  int seen = 0;
  for (size_t i = 0; i < out.n_items; i++) {
    if (strcmp(out.items[i].name, "unused_helper") == 0) {
      assert_int_equal(out.items[i].calls, 0);
      assert_int_equal(out.items[i].start_line, 500);
      assert_string_equal(out.items[i].module_path, "shop/db.py");
      continue;
    }
    int fn = synth_fn_index(out.items[i].name);
    assert_true(fn >= 0);
    seen |= 1 << fn;
    assert_int_equal(out.items[i].calls, fn_totals(NULL, fn).calls);
    assert_true(strcmp(out.items[i].module_path, "shop/db.py") == 0 || strcmp(out.items[i].module_path, "shop/cache.py") == 0);
    assert_int_equal(out.items[i].start_line, 10 * fn + 1);
  }
  assert_int_equal(seen, (1 << 2) | (1 << 3) | (1 << 9) | (1 << 11));
  srvh_resp_free(&r);
  free(json);
  hud_arena_free(a);
}

static void function_detail_has_callers_versions_errors(void **state) {
  hud_function_request req = {.scope = {.service = "shop", .from = g->from, .to = g->to}};
  snprintf(req.function_id, sizeof req.function_id, "%s", fid("charge"));
  char *t, *body;
  assert_int_equal(hud_function_request_to_target(&req, &t), 0);
  assert_int_equal(get(t, g->key, &body), 200);
  hud_arena *a = hud_arena_new();
  hud_function_detail d;
  hud_codec_error e;
  if (hud_function_detail_decode(body, strlen(body), NULL, a, &d, &e) != 0) fail_msg("%s", e.message);
  int fn = synth_fn_index("charge");
  totals all = fn_totals(NULL, fn), ta = fn_totals(&g->a, fn), tb = fn_totals(&g->b, fn);
  assert_non_null(d.declaration);
  assert_string_equal(d.declaration->name, "charge");
  assert_string_equal(d.declaration->module_path, "shop/payments.py");
  assert_int_equal(d.summary.calls, all.calls);
  assert_int_equal(d.n_callers, 1);
  assert_string_equal(d.callers[0].function_id, fid("checkout"));
  assert_int_equal(d.callers[0].line, 44);
  assert_int_equal(d.callers[0].calls, all.calls);
  assert_int_equal(d.callers[0].errors, all.errors);
  assert_int_equal(d.n_callees, 0);
  assert_int_equal(d.errors_by_type.n, 1);
  assert_string_equal(d.errors_by_type.items[0].key, "PaymentDeclined");
  assert_int_equal(d.errors_by_type.items[0].count, all.errors);
  assert_int_equal(d.n_versions, 2);
  assert_string_equal(d.versions[0].version, "1.1.0");
  assert_int_equal(d.versions[0].calls, tb.calls);
  assert_int_equal(d.versions[0].errors, tb.errors);
  assert_int_equal(d.versions[1].calls, ta.calls);
  assert_true(d.versions[0].error_rate > d.versions[1].error_rate);
  /* Two one-minute slices ten minutes apart: two points in the series. */
  int64_t sum = 0;
  for (size_t i = 0; i < d.n_series; i++) sum += d.series[i].calls;
  assert_int_equal(d.n_series, 2);
  assert_int_equal(sum, all.calls);
  free(body);
  free(t);
  /* Callees of get_order, with call-site lines. */
  snprintf(req.function_id, sizeof req.function_id, "%s", fid("get_order"));
  assert_int_equal(hud_function_request_to_target(&req, &t), 0);
  assert_int_equal(get(t, g->key, &body), 200);
  assert_int_equal(hud_function_detail_decode(body, strlen(body), NULL, a, &d, NULL), 0);
  assert_int_equal(d.n_callees, 5);
  int lines = 0;
  for (size_t i = 0; i < d.n_callees; i++) {
    assert_int_equal(d.callees[i].calls, 2 * INV);
    lines += d.callees[i].line;
  }
  assert_int_equal(lines, 12 + 13 + 15 + 16 + 18);
  free(body);
  free(t);
  hud_arena_free(a);
}

static void callgraph_has_weighted_and_exception_edges(void **state) {
  hud_callgraph_request req = {.scope = {.service = "shop", .from = g->from, .to = g->to}, .depth = 4, .max_nodes = 50};
  snprintf(req.root, sizeof req.root, "%s", fid("get_order"));
  char *t, *body;
  assert_int_equal(hud_callgraph_request_to_target(&req, &t), 0);
  assert_int_equal(get(t, g->key, &body), 200);
  hud_arena *a = hud_arena_new();
  hud_callgraph_response r;
  assert_int_equal(hud_callgraph_response_decode(body, strlen(body), NULL, a, &r, NULL), 0);
  assert_string_equal(r.root, fid("get_order"));
  assert_int_equal(r.n_nodes, 7);
  assert_false(r.truncated);
  int calls = 0, exc = 0;
  for (size_t i = 0; i < r.n_edges; i++) {
    const hud_graph_edge *e = &r.edges[i];
    if (e->kind == HUD_EDGE_CALL) {
      calls++;
      if (strcmp(e->to, fid("render_item")) == 0) {
        assert_string_equal(e->from, fid("render_order"));
        assert_int_equal(e->calls, 3 * 2 * INV);
        assert_int_equal(e->line, 31);
        assert_true(e->sum_duration > 0);
      }
    } else {
      exc++;
      assert_int_equal(e->kind, HUD_EDGE_EXCEPTION);
      assert_string_equal(e->from, fid("get"));
      assert_string_equal(e->to, fid("get_order"));
      assert_string_equal(e->exception_type, "KeyError");
      assert_int_equal(e->calls, fn_totals(NULL, synth_fn_index("get")).errors);
    }
  }
  assert_int_equal(calls, 6);
  assert_int_equal(exc, 1);
  free(body);
  free(t);
  /* Depth 1 cuts render_item off. */
  req.depth = 1;
  assert_int_equal(hud_callgraph_request_to_target(&req, &t), 0);
  assert_int_equal(get(t, g->key, &body), 200);
  assert_int_equal(hud_callgraph_response_decode(body, strlen(body), NULL, a, &r, NULL), 0);
  assert_int_equal(r.n_nodes, 6);
  assert_true(r.truncated);
  free(body);
  free(t);
  hud_arena_free(a);
}

static void flows_have_status_codes_and_functions(void **state) {
  hud_flows_request req = {.scope = {.service = "shop", .from = g->from, .to = g->to}};
  char *t, *body;
  assert_int_equal(hud_flows_request_to_target(&req, &t), 0);
  assert_int_equal(get(t, g->key, &body), 200);
  hud_arena *a = hud_arena_new();
  hud_flows_response r;
  assert_int_equal(hud_flows_response_decode(body, strlen(body), NULL, a, &r, NULL), 0);
  assert_int_equal(r.n_flows, 3);
  int found = 0;
  for (size_t i = 0; i < r.n_flows; i++) {
    const hud_flow_summary *f = &r.flows[i];
    assert_int_equal(f->calls, 2 * INV);
    if (f->route && strcmp(f->route, "/checkout") == 0) {
      found = 1;
      assert_string_equal(f->method, "POST");
      int64_t errs = (int64_t)(g->a.flow_st[1].errors + g->b.flow_st[1].errors);
      assert_int_equal(f->errors, errs);
      assert_int_equal(f->n_status_codes, 2);
      assert_int_equal(f->status_codes[0].status, 200);
      assert_int_equal(f->status_codes[0].count, 2 * INV - errs);
      assert_int_equal(f->status_codes[1].status, 500);
      assert_int_equal(f->status_codes[1].count, errs);
      assert_int_equal(f->n_functions, 6);
      assert_string_equal(f->functions[0].function_id, fid("checkout")); /* most total time: the root */
      assert_true(f->p95 > f->p50 && f->p99 >= f->p95);
    }
    if (f->kind == HUD_FLOW_QUEUE_CONSUMER) assert_string_equal(f->task_name, "send_email");
  }
  assert_true(found);
  free(body);
  free(t);
  hud_arena_free(a);
}

/* The detection runner stores one issue per root cause after the fold (no query runs detection):
 * fetch_order's self time, reaching GET /orders/<id>, and charge's PaymentDeclined. */
static void issues_name_root_causes(void **state) {
  hud_issues_request req = {.scope = {.service = "shop"}, .status = "all"};
  char *t, *body = NULL;
  assert_int_equal(hud_issues_request_to_target(&req, &t), 0);
  hud_arena *a = hud_arena_new();
  hud_issues_response r = {0};
  hud_codec_error e;
  for (int ms = 0; ms < 30000; ms += 200) {
    free(body);
    assert_int_equal(get(t, g->key, &body), 200);
    if (hud_issues_response_decode(body, strlen(body), NULL, a, &r, &e) != 0) fail_msg("%s: %s", e.message, body);
    if (r.n_issues >= 2) break;
    usleep(200 * 1000);
  }
  const hud_issue *slow = NULL, *err = NULL;
  for (size_t i = 0; i < r.n_issues; i++) {
    const hud_issue *is = &r.issues[i];
    assert_int_equal(is->comparison, HUD_COMPARE_VERSIONS);
    assert_int_equal(is->subject_kind, HUD_SUBJECT_FUNCTION);
    if (is->kind == HUD_ISSUE_DURATION_REGRESSION) assert_null(slow), slow = is;
    if (is->kind == HUD_ISSUE_ERROR_RATE_INCREASE) assert_null(err), err = is;
  }
  assert_non_null(slow);
  assert_string_equal(slow->subject_id, fid("fetch_order"));
  assert_string_equal(slow->subject_name, "fetch_order");
  assert_string_equal(slow->metric, "self_duration");
  assert_string_equal(slow->baseline.version, "1.0.0");
  assert_string_equal(slow->current.version, "1.1.0");
  assert_true(slow->ci_low > 0 && slow->ci_low < slow->effect && slow->effect < slow->ci_high);
  assert_true(slow->p_value < 1e-6 && slow->p_value > 0);
  assert_true(slow->n_affected_flows >= 1);
  assert_string_equal(slow->affected_flows[0].name, "GET /orders/<id>");
  assert_true(slow->n_root_causes >= 1);
  assert_string_equal(slow->root_causes[0].function_id, fid("fetch_order"));
  assert_string_equal(slow->root_causes[0].name, "fetch_order");
  assert_string_equal(slow->root_causes[0].metric, "self_duration");
  assert_non_null(slow->root_causes[0].evidence);
  assert_non_null(err);
  assert_string_equal(err->subject_id, fid("charge"));
  assert_int_equal(err->n_root_causes, 1);
  assert_string_equal(err->root_causes[0].function_id, fid("charge"));
  assert_string_equal(err->root_causes[0].exception_type, "PaymentDeclined");
  assert_string_equal(err->root_causes[0].metric, "error_origin");
  /* Nothing about functions that did not change. */
  for (size_t i = 0; i < r.n_issues; i++) {
    const hud_issue *is = &r.issues[i];
    assert_true(strcmp(is->root_causes[0].function_id, fid("fetch_order")) == 0 ||
                strcmp(is->root_causes[0].function_id, fid("charge")) == 0);
  }
  free(body);
  free(t);
  hud_arena_free(a);
}

static void errors_are_clear(void **state) {
  char *body, *t;
  char path[512];
  snprintf(path, sizeof path, "/v1/functions/top?service=shop");
  assert_int_equal(get(path, NULL, &body), 401);
  free(body);
  snprintf(path, sizeof path, "/v1/functions/top?service=shop&env=prod");
  assert_int_equal(get(path, g->other_key, &body), 403);
  free(body);
  snprintf(path, sizeof path, "/v1/functions/top?service=nope");
  assert_int_equal(get(path, g->key, &body), 404);
  assert_non_null(strstr(body, "\"error\""));
  free(body);
  snprintf(path, sizeof path, "/v1/functions/top?service=shop&sort=fastest");
  assert_int_equal(get(path, g->key, &body), 400);
  assert_non_null(strstr(body, "sort"));
  free(body);
  snprintf(path, sizeof path, "/v1/functions/top?service=shop&bogus=1");
  assert_int_equal(get(path, g->key, &body), 400);
  free(body);
  hud_function_request req = {.scope = {.service = "shop"}};
  snprintf(req.function_id, sizeof req.function_id, "%s", "00000000-0000-5000-8000-000000000000");
  assert_int_equal(hud_function_request_to_target(&req, &t), 0);
  assert_int_equal(get(t, g->key, &body), 404);
  free(body);
  free(t);
  assert_int_equal(get("/v1/functions/not-a-uuid?service=shop", g->key, &body), 400);
  free(body);
  srvh_resp r;
  assert_int_equal(srvh_request(g->h.port, "POST", "/v1/functions/by-module", g->key, "{\"service\":", 11, NULL, &r), 0);
  assert_int_equal(r.status, 400);
  srvh_resp_free(&r);
}

/* ---- exception flows: a service of its own (env qa) with known paths ---- */

enum { XF_HANDLE, XF_LOAD, XF_QUERY, XF_PARSE, XF_CACHE, XF_GHOST, XF_N };
static const char *const xf_names[XF_N] = {"handle", "Service.load", "query", "parse", "cached", "ghost"};
static const char *const xf_modules[XF_N] = {"app/api.py", "app/service.py", "app/db.py", "app/util.py",
                                             "app/cache.py", "app/ghost.py"};
static hud_uuid xf_ids[XF_N];
static char xf_key[128];
static hud_uuid xf_flow_get, xf_flow_post;

/* One exception_flow record: PATH is a -1-terminated list of XF_* indexes, CAUGHT -1 = escaped. */
static void xf_record(hud_exception_flow *e, hud_arena *a, const char *type, int origin, const int *path, int caught,
                      const char *flow, hud_time_ns ts, int64_t count) {
  memset(e, 0, sizeof *e);
  e->exception_type = type;
  memcpy(e->origin_function_id, xf_ids[origin], sizeof(hud_uuid));
  while (path[e->n_propagated] >= 0) e->n_propagated++;
  e->propagated_through = hud_arena_calloc(a, e->n_propagated + 1, sizeof(hud_uuid));
  for (size_t k = 0; k < e->n_propagated; k++) memcpy(e->propagated_through[k], xf_ids[path[k]], sizeof(hud_uuid));
  if (caught >= 0) memcpy(e->caught_in_function_id, xf_ids[caught], sizeof(hud_uuid));
  e->escaped = caught < 0;
  memcpy(e->flow_id, flow, sizeof(hud_uuid));
  e->timestamp = ts;
  e->timeslice = 60 * NS;
  e->count = count;
}

static void xf_send(const char *version, const char *batch_id, hud_exception_flow *xs, size_t n, bool declare) {
  hud_arena *a = hud_arena_new();
  hud_function_decl d[XF_N];
  memset(d, 0, sizeof d);
  for (int i = 0; i < XF_GHOST; i++) { /* ghost is never declared */
    memcpy(d[i].function_id, xf_ids[i], sizeof(hud_uuid));
    d[i].name = xf_names[i];
    d[i].module_path = xf_modules[i];
    char file[64];
    snprintf(file, sizeof file, "/srv/%s", xf_modules[i]);
    d[i].file = hud_arena_strdup(a, file);
    d[i].start_line = 10 * i + 1;
    d[i].end_line = 10 * i + 5;
    snprintf(d[i].source_code_hash, sizeof d[i].source_code_hash, "%040d", i + 1);
  }
  hud_batch b = {.schema_version = HUD_SCHEMA_VERSION, .service = "errs", .service_version = version,
                 .host = "h", .pid = 1, .runtime = "cpython 3.11.2", .sensor_version = "0.1.0",
                 .sent_at = g->t0, .n_declarations = declare ? XF_GHOST : 0, .declarations = d,
                 .n_exception_flows = n, .exception_flows = xs};
  snprintf(b.batch_id, sizeof b.batch_id, "%s", batch_id);
  char *json = NULL;
  size_t len = 0;
  hud_codec_error e;
  if (hud_batch_encode(&b, &json, &len, &e) != 0) fail_msg("encode: %s", e.message);
  assert_int_equal(srvh_ingest_json(g->h.port, xf_key, json, len), 0);
  free(json);
  hud_arena_free(a);
}

/* Once: a qa key and two batches of two versions. In the window [t0 - 1 h, t0 + 1 h):
 *   KeyError      query -> Service.load -> caught in handle     7 (t0) + 3 (t0+60 s) + 4 (1.1, t0+120 s) = 14
 *   ValueError    parse -> Service.load -> handle -> escaped    5 (t0, POST flow), 100 more two hours earlier
 *   TimeoutError  ghost (never declared) -> caught in Service.load  2
 *   KeyError      query -> cached -> caught in handle           1 */
static void xf_ingest(void) {
  if (xf_key[0]) return;
  assert_int_equal(srvh_key(&g->h, "qa", xf_key), 0);
  for (int i = 0; i < XF_N; i++) hud_function_id(xf_modules[i], xf_names[i], xf_ids[i]);
  hud_flow_id_endpoint("GET", "/items", xf_flow_get);
  hud_flow_id_endpoint("POST", "/items", xf_flow_post);
  static const int via_load[] = {XF_LOAD, -1}, via_load_handle[] = {XF_LOAD, XF_HANDLE, -1}, none[] = {-1},
                   via_cache[] = {XF_CACHE, -1};
  hud_arena *a = hud_arena_new();
  hud_exception_flow x1[6];
  xf_record(&x1[0], a, "KeyError", XF_QUERY, via_load, XF_HANDLE, xf_flow_get, g->t0, 7);
  xf_record(&x1[1], a, "KeyError", XF_QUERY, via_load, XF_HANDLE, xf_flow_get, g->t0 + 60 * NS, 3);
  xf_record(&x1[2], a, "ValueError", XF_PARSE, via_load_handle, -1, xf_flow_post, g->t0, 5);
  xf_record(&x1[3], a, "ValueError", XF_PARSE, via_load_handle, -1, xf_flow_post, g->t0 - 7200 * NS, 100);
  xf_record(&x1[4], a, "TimeoutError", XF_GHOST, none, XF_LOAD, xf_flow_get, g->t0, 2);
  xf_record(&x1[5], a, "KeyError", XF_QUERY, via_cache, XF_HANDLE, xf_flow_get, g->t0, 1);
  xf_send("1.0", "7d1e0c52-9a0b-4c1e-8f3a-2b6c1d000001", x1, 6, true);
  hud_exception_flow x2[1];
  xf_record(&x2[0], a, "KeyError", XF_QUERY, via_load, XF_HANDLE, xf_flow_get, g->t0 + 120 * NS, 4);
  xf_send("1.1", "7d1e0c52-9a0b-4c1e-8f3a-2b6c1d000002", x2, 1, false);
  hud_arena_free(a);
}

/* GET /v1/exception-flows for the qa service; FN and FLOW may be NULL. */
static void xf_get(hud_arena *a, hud_time_ns from, hud_time_ns to, const char *fn, const char *flow, int limit,
                   hud_exception_flows_response *out) {
  hud_exception_flows_request r = {.scope = {.service = "errs", .from = from, .to = to}, .limit = limit};
  if (fn) snprintf(r.function_id, sizeof r.function_id, "%s", fn);
  if (flow) snprintf(r.flow_id, sizeof r.flow_id, "%s", flow);
  char *t, *body;
  assert_int_equal(hud_exception_flows_request_to_target(&r, &t), 0);
  long st = get(t, xf_key, &body);
  if (st != 200) fail_msg("%s: %ld %s", t, st, body);
  hud_codec_error e;
  if (hud_exception_flows_response_decode(body, strlen(body), NULL, a, out, &e) != 0) fail_msg("%s: %s", e.message, body);
  free(body);
  free(t);
}

static void xf_expect(const hud_exception_flow_summary *x, const char *type, int64_t count, int origin,
                      const int *path, int caught) {
  assert_string_equal(x->exception_type, type);
  assert_int_equal(x->count, count);
  assert_string_equal(x->origin.function_id, xf_ids[origin]);
  size_t n = 0;
  while (path[n] >= 0) n++;
  assert_int_equal(x->n_propagated, n);
  for (size_t k = 0; k < n; k++) {
    assert_string_equal(x->propagated_through[k].function_id, xf_ids[path[k]]);
    assert_string_equal(x->propagated_through[k].name, xf_names[path[k]]);
    assert_string_equal(x->propagated_through[k].module_path, xf_modules[path[k]]);
  }
  assert_int_equal(x->escaped, caught < 0);
  if (caught < 0) {
    assert_null(x->caught_in);
  } else {
    assert_non_null(x->caught_in);
    assert_string_equal(x->caught_in->function_id, xf_ids[caught]);
    assert_string_equal(x->caught_in->name, xf_names[caught]);
  }
}

static const int p_load[] = {XF_LOAD, -1}, p_load_handle[] = {XF_LOAD, XF_HANDLE, -1}, p_none[] = {-1},
                 p_cache[] = {XF_CACHE, -1};

static void exception_flows_are_summed_and_ranked(void **state) {
  xf_ingest();
  hud_arena *a = hud_arena_new();
  hud_exception_flows_response r;
  hud_time_ns from = g->t0 - 3600 * NS, to = g->t0 + 3600 * NS;
  xf_get(a, from, to, NULL, NULL, 0, &r);
  assert_int_equal(r.from, from);
  assert_int_equal(r.to, to);
  assert_int_equal(r.n_flows, 4);
  xf_expect(&r.flows[0], "KeyError", 14, XF_QUERY, p_load, XF_HANDLE); /* two slices, two versions */
  assert_string_equal(r.flows[0].origin.name, "query");
  assert_string_equal(r.flows[0].origin.module_path, "app/db.py");
  xf_expect(&r.flows[1], "ValueError", 5, XF_PARSE, p_load_handle, -1);
  xf_expect(&r.flows[2], "TimeoutError", 2, XF_GHOST, p_none, XF_LOAD);
  assert_null(r.flows[2].origin.name); /* never declared */
  assert_null(r.flows[2].origin.module_path);
  xf_expect(&r.flows[3], "KeyError", 1, XF_QUERY, p_cache, XF_HANDLE);
  /* limit keeps the largest. */
  xf_get(a, from, to, NULL, NULL, 2, &r);
  assert_int_equal(r.n_flows, 2);
  assert_int_equal(r.flows[1].count, 5);
  /* A window from t0 + 1 min: the t0 slice is out. */
  xf_get(a, g->t0 + 60 * NS, to, NULL, NULL, 0, &r);
  assert_int_equal(r.n_flows, 1);
  xf_expect(&r.flows[0], "KeyError", 7, XF_QUERY, p_load, XF_HANDLE);
  /* A window reaching two hours back also counts the older ValueErrors. */
  xf_get(a, g->t0 - 3 * 3600 * NS, to, NULL, NULL, 0, &r);
  xf_expect(&r.flows[0], "ValueError", 105, XF_PARSE, p_load_handle, -1);
  /* One flow. */
  xf_get(a, from, to, NULL, xf_flow_post, 0, &r);
  assert_int_equal(r.n_flows, 1);
  assert_string_equal(r.flows[0].exception_type, "ValueError");
  /* One version. */
  hud_exception_flows_request vr = {.scope = {.service = "errs", .version = "1.1", .from = from, .to = to}};
  char *t, *body;
  assert_int_equal(hud_exception_flows_request_to_target(&vr, &t), 0);
  assert_int_equal(get(t, xf_key, &body), 200);
  assert_int_equal(hud_exception_flows_response_decode(body, strlen(body), NULL, a, &r, NULL), 0);
  assert_int_equal(r.n_flows, 1);
  assert_int_equal(r.flows[0].count, 4);
  free(body);
  free(t);
  hud_arena_free(a);
}

static void exception_flows_by_function(void **state) {
  xf_ingest();
  hud_arena *a = hud_arena_new();
  hud_exception_flows_response r;
  hud_time_ns from = g->t0 - 3600 * NS, to = g->t0 + 3600 * NS;
  /* The origin. */
  xf_get(a, from, to, xf_ids[XF_PARSE], NULL, 0, &r);
  assert_int_equal(r.n_flows, 1);
  xf_expect(&r.flows[0], "ValueError", 5, XF_PARSE, p_load_handle, -1);
  /* On the path of two, catcher of one. */
  xf_get(a, from, to, xf_ids[XF_LOAD], NULL, 0, &r);
  assert_int_equal(r.n_flows, 3);
  xf_expect(&r.flows[0], "KeyError", 14, XF_QUERY, p_load, XF_HANDLE);
  xf_expect(&r.flows[1], "ValueError", 5, XF_PARSE, p_load_handle, -1);
  xf_expect(&r.flows[2], "TimeoutError", 2, XF_GHOST, p_none, XF_LOAD);
  /* The catcher of two, the end of one path. */
  xf_get(a, from, to, xf_ids[XF_HANDLE], NULL, 0, &r);
  assert_int_equal(r.n_flows, 3);
  xf_expect(&r.flows[0], "KeyError", 14, XF_QUERY, p_load, XF_HANDLE);
  xf_expect(&r.flows[1], "ValueError", 5, XF_PARSE, p_load_handle, -1);
  xf_expect(&r.flows[2], "KeyError", 1, XF_QUERY, p_cache, XF_HANDLE);
  /* Only in the middle of one path. */
  xf_get(a, from, to, xf_ids[XF_CACHE], NULL, 0, &r);
  assert_int_equal(r.n_flows, 1);
  assert_int_equal(r.flows[0].count, 1);
  hud_arena_free(a);
}

/* The synthetic shop: cache.get's KeyErrors are all caught in get_order. */
static void exception_flows_of_the_simulation(void **state) {
  hud_exception_flows_request req = {.scope = {.service = "shop", .from = g->from, .to = g->to}};
  snprintf(req.function_id, sizeof req.function_id, "%s", fid("get"));
  char *t, *body;
  assert_int_equal(hud_exception_flows_request_to_target(&req, &t), 0);
  assert_int_equal(get(t, g->key, &body), 200);
  hud_arena *a = hud_arena_new();
  hud_exception_flows_response r;
  assert_int_equal(hud_exception_flows_response_decode(body, strlen(body), NULL, a, &r, NULL), 0);
  assert_int_equal(r.n_flows, 1);
  assert_string_equal(r.flows[0].exception_type, "KeyError");
  assert_int_equal(r.flows[0].count, fn_totals(NULL, synth_fn_index("get")).errors);
  assert_string_equal(r.flows[0].origin.name, "get");
  assert_int_equal(r.flows[0].n_propagated, 0);
  assert_string_equal(r.flows[0].caught_in->function_id, fid("get_order"));
  free(body);
  free(t);
  hud_arena_free(a);
}

static void exception_flows_errors(void **state) {
  xf_ingest();
  char *body, path[256];
  assert_int_equal(get("/v1/exception-flows?service=errs", NULL, &body), 401);
  free(body);
  assert_int_equal(get("/v1/exception-flows?service=errs", "hud_0000000000_0000000000000000000000000000000000000000000000000000000000000000", &body), 401);
  free(body);
  assert_int_equal(get("/v1/exception-flows?service=errs&function_id=not-a-uuid", xf_key, &body), 400);
  assert_non_null(strstr(body, "function_id"));
  free(body);
  assert_int_equal(get("/v1/exception-flows?service=errs&limit=0", xf_key, &body), 400);
  free(body);
  assert_int_equal(get("/v1/exception-flows?service=errs&limit=1001", xf_key, &body), 400);
  free(body);
  assert_int_equal(get("/v1/exception-flows?service=errs&bogus=1", xf_key, &body), 400);
  free(body);
  snprintf(path, sizeof path, "/v1/exception-flows?service=errs&function_id=%s", "00000000-0000-5000-8000-000000000000");
  assert_int_equal(get(path, xf_key, &body), 404);
  assert_non_null(strstr(body, "function_id"));
  free(body);
  snprintf(path, sizeof path, "/v1/exception-flows?service=errs&flow_id=%s", "00000000-0000-5000-8000-000000000000");
  assert_int_equal(get(path, xf_key, &body), 404);
  free(body);
  /* prod's key does not see qa. */
  assert_int_equal(get("/v1/exception-flows?service=errs&env=qa", g->key, &body), 403);
  free(body);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(services_lists_versions_of_visible_envs),
      cmocka_unit_test(top_by_calls_has_exact_figures),
      cmocka_unit_test(top_by_slowdown_and_p95),
      cmocka_unit_test(top_by_error_rate),
      cmocka_unit_test(by_module_returns_every_function_of_the_files),
      cmocka_unit_test(function_detail_has_callers_versions_errors),
      cmocka_unit_test(callgraph_has_weighted_and_exception_edges),
      cmocka_unit_test(flows_have_status_codes_and_functions),
      cmocka_unit_test(issues_name_root_causes),
      cmocka_unit_test(errors_are_clear),
      cmocka_unit_test(exception_flows_are_summed_and_ranked),
      cmocka_unit_test(exception_flows_by_function),
      cmocka_unit_test(exception_flows_of_the_simulation),
      cmocka_unit_test(exception_flows_errors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
