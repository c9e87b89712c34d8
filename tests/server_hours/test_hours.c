/* Hourly pre-aggregates: every day-window answer read through fn_hours and call_hours (whole hours) plus minute
 * slices (partial-hour edges) must equal the answer read from minute slices only. The reference
 * is the same server binary with HUD_SERVER_HOURLY=off on the same SQLite file. Data: the synthetic
 * service ingested over HTTP at minutes spread over four past hours, two versions; then late data
 * into an hour that is already materialized. */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"
#include "hud/codec.h"
#include "hud/err.h"
#include "synth.h"
#include "synth_batch.h"

#define NS 1000000000LL
#define N_OUTS 4
#define SLOW_OUT N_OUTS /* a late batch 4x slower: moves the p95 of the functions it calls */

typedef struct fixture {
  srvh h;
  char key[128];
  synth_out outs[N_OUTS + 1];
  int64_t t0; /* start of the first whole hour of the data (unix s) */
  int batch_seq;
} fixture;

static fixture *g;

static int ingest_at(int out, const char *version, int64_t ts) {
  hud_arena *a = hud_arena_new();
  hud_batch b;
  char *json = NULL, id[64];
  size_t len = 0;
  hud_codec_error e;
  snprintf(id, sizeof id, "7c1e0b2a-5d3f-4e6a-8b9c-%012x", ++g->batch_seq);
  int rc = synth_batch(&g->outs[out], version, id, ts * NS, a, &b);
  if (rc == 0) rc = hud_batch_encode(&b, &json, &len, &e);
  if (rc == 0) rc = srvh_ingest_json(g->h.port, g->key, json, len);
  free(json);
  hud_arena_free(a);
  return rc;
}

static int start(int hourly) {
  if (hourly) unsetenv("HUD_SERVER_HOURLY");
  else setenv("HUD_SERVER_HOURLY", "off", 1);
  int rc = srvh_start(&g->h, NULL);
  unsetenv("HUD_SERVER_HOURLY");
  return rc;
}

static int setup(void **state) {
  g = calloc(1, sizeof *g);
  if (!g || srvh_tmpdir(&g->h) < 0 || start(1) < 0 || srvh_key(&g->h, "prod", g->key) < 0) return -1;
  for (int i = 0; i < N_OUTS; i++) {
    /* 1.1.0 has fetch_order 3x slower: a deployment with a change (the slowdown sort and the
     * compare figures have something to show; issues are stored by the runner, not compared here). */
    static const synth_change slower = {"fetch_order", 3.0, -1, 0, NULL};
    synth_params p = {.seed = 11 + (uint64_t)i, .invocations = 150, .sample_rate = 0.7, .drift = 1.0 + 0.2 * i,
                      .sketches = 1, .changes = i < 2 ? NULL : &slower, .n_changes = i < 2 ? 0 : 1};
    if (synth_run(&p, i < 2 ? "1.0.0" : "1.1.0", &g->outs[i]) < 0) return -1;
  }
  synth_params slow = {.seed = 99, .invocations = 150, .sample_rate = 0.7, .drift = 4.0, .sketches = 1};
  if (synth_run(&slow, "1.0.0", &g->outs[SLOW_OUT]) < 0) return -1;
  g->t0 = (int64_t)time(NULL) / 3600 * 3600 - 4 * 3600;
  /* Minutes (from t0) on both sides of hour boundaries and in the partial hours of the windows. */
  static const int minutes[] = {-25, -3, 0, 7, 31, 59, 60, 61, 95, 119, 120, 150, 179, 180, 201, 215, 239};
  for (size_t i = 0; i < sizeof minutes / sizeof *minutes; i++) {
    int o = (int)(i % N_OUTS);
    if (ingest_at(o, o < 2 ? "1.0.0" : "1.1.0", g->t0 + minutes[i] * 60LL) < 0) return -1;
    if (i % 3 == 0 && ingest_at((o + 2) % N_OUTS, (o + 2) % N_OUTS < 2 ? "1.0.0" : "1.1.0", g->t0 + minutes[i] * 60LL) < 0)
      return -1;
  }
  *state = g;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (!g) return 0;
  if (g->h.pid) srvh_stop(&g->h, 15);
  for (int i = 0; i <= N_OUTS; i++) synth_out_free(&g->outs[i]);
  srvh_cleanup(&g->h);
  free(g);
  g = NULL;
  return 0;
}

/* ---- the queries compared ---- */

typedef struct window {
  int64_t from_min, to_min; /* minutes from t0; both 0 = the default 24 h window */
  const char *version;
} window;

static const window k_windows[] = {
    {-20, 217, NULL},      /* three whole hours, both edges partial */
    {7, 150, NULL},        /* one whole hour */
    {0, 240, NULL},        /* aligned: four whole hours, no edges */
    {-20, 217, "1.1.0"},   /* version rows of fn_hours */
    {30, 90, NULL},        /* no whole hour: minute slices only */
    {0, 0, NULL},          /* the default 24 h window */
};
#define N_WINDOWS (sizeof k_windows / sizeof *k_windows)

static hud_query_scope scope_of(const window *w) {
  hud_query_scope s = {.service = "shop", .version = w->version};
  if (w->from_min || w->to_min) {
    s.from = (g->t0 + w->from_min * 60) * NS;
    s.to = (g->t0 + w->to_min * 60) * NS;
  }
  return s;
}

#define N_SORTS 6
#define N_DETAIL 3
#define Q_GRAPH (N_SORTS + 1 + N_DETAIL)
#define Q_ISSUES (Q_GRAPH + 1)
#define Q_FLOW (Q_ISSUES + 1) /* top-N in a flow by calls, p95, duration trend, error trend */
#define N_QUERIES (Q_FLOW + 4)
static const char *const k_detail_fns[N_DETAIL] = {"fetch_order", "charge", "get"};

/* Answers of every query for every window, as parsed JSON. */
typedef struct answers {
  json_t *a[N_WINDOWS][N_QUERIES];
} answers;

static json_t *request(const char *method, const char *path, const char *body) {
  srvh_resp r;
  assert_int_equal(srvh_request(g->h.port, method, path, g->key, body, body ? strlen(body) : 0, NULL, &r), 0);
  if (r.status != 200) fprintf(stderr, "%s %s: %ld %s\n", method, path, r.status, r.body);
  assert_int_equal(r.status, 200);
  json_error_t e;
  json_t *j = json_loadb(r.body, r.len, 0, &e);
  assert_non_null(j);
  srvh_resp_free(&r);
  return j;
}

/* The sort keys (computed for every function by the all-functions pass: merged sketches, in-pass
 * slowdown, trend sums) must order the page the way its own figures (sq_fn_page, another path) do:
 * items non-increasing in the sorted field (trends up to rounding). */
static void assert_sorted_by_page_figures(const json_t *a, int k) {
  static const char *const field[N_SORTS] = {"calls", "p95", "error_rate", "duration_trend", "error_trend",
                                             "slowdown"};
  json_t *items = json_object_get(a, "items");
  for (size_t i = 1; i < json_array_size(items); i++) {
    double x = json_number_value(json_object_get(json_array_get(items, i - 1), field[k]));
    double y = json_number_value(json_object_get(json_array_get(items, i), field[k]));
    if (!(y <= x + 1e-9 * fabs(x))) fprintf(stderr, "%s: item %zu %.17g > item %zu %.17g\n", field[k], i, y, i - 1, x);
    assert_true(y <= x + 1e-9 * fabs(x));
  }
}

static void collect(answers *out) {
  static const char *paths[] = {"shop/db.py", "shop/payments.py", "shop/cache.py", "shop/orders.py"};
  for (size_t w = 0; w < N_WINDOWS; w++) {
    hud_query_scope s = scope_of(&k_windows[w]);
    for (int k = 0; k < N_SORTS; k++) {
      hud_top_request r = {.scope = s, .sort = (hud_sort)(HUD_SORT_CALLS + k), .limit = 50};
      char *t = NULL;
      assert_int_equal(hud_top_request_to_target(&r, &t), 0);
      out->a[w][k] = request("GET", t, NULL);
      free(t);
      assert_sorted_by_page_figures(out->a[w][k], k);
    }
    hud_by_module_request bm = {.scope = s, .n_module_paths = 4, .module_paths = paths};
    char *json;
    size_t len;
    assert_int_equal(hud_by_module_request_encode(&bm, &json, &len, NULL), 0);
    out->a[w][N_SORTS] = request("POST", "/v1/functions/by-module", json);
    free(json);
    for (int d = 0; d < N_DETAIL; d++) {
      /* The default window's detail has time buckets that move with the clock: compared elsewhere. */
      if (!s.from) {
        out->a[w][N_SORTS + 1 + d] = NULL;
        continue;
      }
      hud_function_request fr = {.scope = s};
      snprintf(fr.function_id, sizeof fr.function_id, "%s", synth_fns()[synth_fn_index(k_detail_fns[d])].id);
      char *t = NULL;
      assert_int_equal(hud_function_request_to_target(&fr, &t), 0);
      out->a[w][N_SORTS + 1 + d] = request("GET", t, NULL);
      free(t);
    }
    /* Call edges (call_hours for whole hours): the graph from the endpoint's root, and detection. */
    hud_callgraph_request cg = {.scope = s};
    snprintf(cg.root, sizeof cg.root, "%s", synth_fns()[synth_fn_index("get_order")].id);
    char *t = NULL;
    assert_int_equal(hud_callgraph_request_to_target(&cg, &t), 0);
    out->a[w][Q_GRAPH] = request("GET", t, NULL);
    free(t);
    /* Top-N in a flow: flow_fn_hours (sums, merged sketches, trend sums) for the whole hours. */
    static const hud_sort flow_sorts[4] = {HUD_SORT_CALLS, HUD_SORT_P95, HUD_SORT_DURATION_TREND,
                                           HUD_SORT_ERROR_TREND};
    for (int k = 0; k < 4; k++) {
      hud_top_request fr = {.scope = s, .sort = flow_sorts[k], .limit = 50};
      synth_flow_uuid(0, fr.flow_id);
      assert_int_equal(hud_top_request_to_target(&fr, &t), 0);
      out->a[w][Q_FLOW + k] = request("GET", t, NULL);
      free(t);
    }
    /* Issues are not an answer of the window: the detection runner stores them (their times
     * follow the clock), tests/server_query/test_issues.c covers them. */
    out->a[w][Q_ISSUES] = NULL;
  }
}

static void answers_free(answers *a) {
  for (size_t w = 0; w < N_WINDOWS; w++)
    for (int k = 0; k < N_QUERIES; k++) json_decref(a->a[w][k]);
}

/* Exact equality, except: trends (least-squares slopes) are computed from per-hour sums instead of
 * point by point, so they may differ by rounding (relative 1e-9), so may a standard deviation
 * (relative 1e-12); the default window's from/to follow the clock. */
static int json_same(const json_t *x, const json_t *y, const char *key, char *where, size_t cap) {
  if (key && (!strcmp(key, "from") || !strcmp(key, "to")) && json_is_string(x) && json_is_string(y)) return 1;
  if (key && !strcmp(key, "detected_at")) return 1; /* the time of the request */
  if (json_is_number(x) && json_is_number(y)) {
    double a = json_number_value(x), b = json_number_value(y);
    if (a == b) return 1;
    if (key && strstr(key, "trend") && fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b))) return 1;
    /* stddev comes from a sum of squares (REAL) added in another order. */
    if (key && strstr(key, "stddev") && fabs(a - b) <= 1e-12 * fmax(fabs(a), fabs(b))) return 1;
    /* Detection's tests use those variances too. */
    if (key && (!strcmp(key, "p_value") || !strcmp(key, "confidence") || !strncmp(key, "ci_", 3)) &&
        fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b)))
      return 1;
    snprintf(where, cap, "%s: %.17g vs %.17g", key ? key : "?", a, b);
    return 0;
  }
  if (json_typeof(x) != json_typeof(y)) {
    snprintf(where, cap, "%s: types differ", key ? key : "?");
    return 0;
  }
  if (json_is_object(x)) {
    if (json_object_size(x) != json_object_size(y)) {
      snprintf(where, cap, "%s: object sizes differ", key ? key : "?");
      return 0;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)x, k, v) {
      json_t *o = json_object_get(y, k);
      if (!o) {
        snprintf(where, cap, "%s missing", k);
        return 0;
      }
      if (!json_same(v, o, k, where, cap)) return 0;
    }
    return 1;
  }
  if (json_is_array(x)) {
    if (json_array_size(x) != json_array_size(y)) {
      snprintf(where, cap, "%s: %zu vs %zu items", key ? key : "?", json_array_size(x), json_array_size(y));
      return 0;
    }
    for (size_t i = 0; i < json_array_size(x); i++)
      if (!json_same(json_array_get(x, i), json_array_get(y, i), key, where, cap)) return 0;
    return 1;
  }
  if (json_equal((json_t *)x, (json_t *)y)) return 1;
  snprintf(where, cap, "%s: values differ", key ? key : "?");
  return 0;
}

static void assert_same_answers(const answers *h, const answers *m) {
  for (size_t w = 0; w < N_WINDOWS; w++)
    for (int k = 0; k < N_QUERIES; k++) {
      if (!h->a[w][k] && !m->a[w][k]) continue;
      char where[256] = "";
      if (!json_same(h->a[w][k], m->a[w][k], NULL, where, sizeof where)) {
        char *a = json_dumps(h->a[w][k], JSON_COMPACT), *b = json_dumps(m->a[w][k], JSON_COMPACT);
        fprintf(stderr, "window %zu query %d differs (%s)\nhourly: %.600s\nminute: %.600s\n", w, k, where, a, b);
        free(a);
        free(b);
        fail();
      }
    }
}

static long long sql(const char *fmt, ...) {
  char q[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(q, sizeof q, fmt, ap);
  va_end(ap);
  return srvh_sql_int(g->h.db, q);
}

/* Calls of function NAME in the top-N answer A (by calls), -1 when absent. */
static long long calls_of(const json_t *a, const char *name) {
  json_t *items = json_object_get(a, "items");
  for (size_t i = 0; i < json_array_size(items); i++) {
    json_t *it = json_array_get(items, i);
    if (!strcmp(json_string_value(json_object_get(it, "name")), name))
      return json_integer_value(json_object_get(it, "calls"));
  }
  return -1;
}

static void hourly_answers_equal_minute_answers_with_late_data(void **state) {
  (void)state;
  /* The fold that a fresh query waits for builds the ended hours of what it writes; the query reads them. */
  answers h1, m1, h2, m2;
  collect(&h1);
  assert_true(sql("SELECT COUNT(*) FROM fn_hours WHERE hour >= %lld AND hour < %lld", (long long)g->t0,
                  (long long)g->t0 + 4 * 3600) > 0);
  assert_int_equal(sql("SELECT COUNT(*) FROM hours_dirty WHERE hour >= %lld AND hour < %lld", (long long)g->t0,
                       (long long)g->t0 + 4 * 3600), 0);
  /* Hour rows equal their minute rows (all versions, row 0). */
  assert_int_equal(sql("SELECT SUM(count) FROM fn_hours WHERE version_id = 0 AND hour = %lld", (long long)g->t0 + 3600),
                   sql("SELECT SUM(count) FROM fn_slices WHERE slice >= %lld AND slice < %lld", (long long)g->t0 + 3600,
                       (long long)g->t0 + 7200));
  /* call_hours were built with fn_hours and hold the minute rows' sums. */
  assert_int_equal(sql("SELECT SUM(count) FROM call_hours WHERE hour = %lld", (long long)g->t0 + 3600),
                   sql("SELECT SUM(count) FROM calls WHERE slice >= %lld AND slice < %lld", (long long)g->t0 + 3600,
                       (long long)g->t0 + 7200));
  /* The compared answers are not empty: the graph has edges, callers exist. */
  assert_true(json_array_size(json_object_get(h1.a[0][Q_GRAPH], "edges")) > 0);
  assert_true(json_array_size(json_object_get(h1.a[0][N_SORTS + 1], "callers")) > 0);
  assert_true(json_array_size(json_object_get(h1.a[0][Q_FLOW], "items")) > 0);
  assert_int_equal(srvh_stop(&g->h, 15), 0);
  assert_int_equal(start(0), 0);
  collect(&m1);
  assert_same_answers(&h1, &m1);

  /* Late data into an hour that is already materialized: it must show at once. */
  assert_int_equal(srvh_stop(&g->h, 15), 0);
  assert_int_equal(start(1), 0);
  /* Warm the server's cache of merged hours (p95 sort) first: the late rows must invalidate it. */
  answers warm;
  collect(&warm);
  answers_free(&warm);
  hud_top_request tr = {.scope = scope_of(&k_windows[0]), .sort = HUD_SORT_P95, .limit = 50};
  char *target = NULL;
  assert_int_equal(hud_top_request_to_target(&tr, &target), 0);
  json_decref(request("GET", target, NULL)); /* window 0 (collect's first p95 query) is the cached one */
  free(target);
  assert_int_equal(ingest_at(1, "1.0.0", g->t0 + 65 * 60), 0);
  assert_int_equal(ingest_at(SLOW_OUT, "1.0.0", g->t0 + 70 * 60), 0);
  /* Not asserted: hours_dirty holding the hour right after the ack (write-behind ingest marks it
   * when the batch is folded, which a fresh query waits for, and that fold rebuilds it). The answers
   * below must show the late rows. */
  collect(&h2);
  assert_int_equal(sql("SELECT COUNT(*) FROM hours_dirty WHERE hour = %lld", (long long)g->t0 + 3600), 0);
  int fo = synth_fn_index("fetch_order");
  long long late = 0;
  for (int o = 1; o <= SLOW_OUT; o += SLOW_OUT - 1)
    for (size_t i = 0; i < g->outs[o].n_rows; i++)
      if (g->outs[o].rows[i].fn == fo) late += (long long)g->outs[o].rows[i].st.count;
  assert_true(late > 0);
  assert_int_equal(calls_of(h2.a[0][0], "fetch_order"), calls_of(h1.a[0][0], "fetch_order") + late);
  assert_int_equal(srvh_stop(&g->h, 15), 0);
  assert_int_equal(start(0), 0);
  collect(&m2);
  assert_same_answers(&h2, &m2);
  answers_free(&h1);
  answers_free(&m1);
  answers_free(&h2);
  answers_free(&m2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hourly_answers_equal_minute_answers_with_late_data),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
