/* hud-lsp's pure helpers: human units, windows, UTF-16/UTF-8 columns, file: URIs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "diagnostics.h"
#include "docs.h"
#include "format.h"
#include "hud/err.h"
#include "hud/identity.h"
#include "pathmap.h"
#include "position.h"
#include "settings.h"
#include "uri.h"

static void expect_count(double x, const char *want) {
  char out[32];
  lsp_fmt_count(x, out, sizeof out);
  assert_string_equal(out, want);
}

static void expect_duration(double ns, const char *want) {
  char out[32];
  lsp_fmt_duration(ns, out, sizeof out);
  assert_string_equal(out, want);
}

static void expect_percent(double f, const char *want) {
  char out[32];
  lsp_fmt_percent(f, out, sizeof out);
  assert_string_equal(out, want);
}

static void test_units(void **state) {
  (void)state;
  expect_count(0.05, "0.05");
  expect_count(0.5, "0.5");
  expect_count(7.0, "7");
  expect_count(9.96, "10");
  expect_count(38, "38");
  expect_count(999.4, "999");
  expect_count(999.6, "1k");
  expect_count(1200, "1.2k");
  expect_count(12345, "12k");
  expect_count(3.4e6, "3.4M");
  expect_duration(850, "850 ns");
  expect_duration(250e3, "250 µs");
  expect_duration(1.5e6, "1.5 ms");
  expect_duration(38e6, "38 ms");
  expect_duration(1.2e9, "1.2 s");
  expect_duration(95e9, "95 s");
  expect_percent(0, "0%");
  expect_percent(0.0004, "<0.1%");
  expect_percent(0.004, "0.4%");
  expect_percent(0.12, "12%");
  expect_percent(1, "100%");
}

/* lensLayout: placeholders, unknown ones named, parts with a missing latency left out. */
static void test_layout(void **state) {
  (void)state;
  char bad[32], t[256];
  assert_int_equal(lsp_fmt_layout_check(LSP_LENS_LAYOUT_DEFAULT, bad, sizeof bad), 0);
  assert_int_equal(lsp_fmt_layout_check("{rate} {p99x} {calls}", bad, sizeof bad), -1);
  assert_string_equal(bad, "{p99x}");
  assert_int_equal(lsp_fmt_layout_check("{rate} {open", bad, sizeof bad), -1);
  assert_string_equal(bad, "{open");
  hud_function_summary f = {.calls = 72000, .errors = 288, .error_rate = 0.004, .sampled_count = 10, .p50 = 10e6,
                            .p95 = 38e6, .p99 = 40e6, .mean_duration = 13e6};
  lsp_fmt_lens_layout("{calls} · p50 {p50} · p99 {p99} · {errors}{trend}", &f, 60, false, NULL, true, t, sizeof t);
  assert_string_equal(t, "⚠ 72k · p50 10 ms · p99 40 ms · 0.4% err");
  f.sampled_count = 0;
  lsp_fmt_lens_layout("{calls} · p50 {p50} · mean {mean} · {rate}", &f, 60, true, "2.0", false, t, sizeof t);
  assert_string_equal(t, "72k · 1.2k/min · ≠ prod (2.0)");
}

/* pathMaps both ways: a file below TO gets FROM + its path below TO (FROM's leading '/' dropped), and
 * a module path under FROM is looked for below TO, relative to a folder or absolute. */
static void test_pathmap(void **state) {
  (void)state;
  static lsp_server s;
  char *folders[] = {"/ws/a", "/ws/b"};
  s.folders = folders;
  s.n_folders = 2;
  s.settings.n_path_maps = 2;
  strcpy(s.settings.path_maps[0].from, "/app/");
  strcpy(s.settings.path_maps[0].to, "services/shop/src/");
  strcpy(s.settings.path_maps[1].from, "lib");
  strcpy(s.settings.path_maps[1].to, "/opt/vendor");
  char out[256];
  assert_int_equal(lsp_pathmap_module(&s, "/ws/b/services/shop/src/orders/api.py", 1, out, sizeof out), 0);
  assert_string_equal(out, "app/orders/api.py");
  assert_int_equal(lsp_pathmap_module(&s, "/ws/b/services/shop/srcx/api.py", 1, out, sizeof out), -1);
  assert_int_equal(lsp_pathmap_module(&s, "/opt/vendor/x/y.py", -1, out, sizeof out), 0);
  assert_string_equal(out, "lib/x/y.py");
  assert_int_equal(lsp_pathmap_file(&s, 0, 0, "app/orders/api.py", out, sizeof out), 0);
  assert_string_equal(out, "/ws/a/services/shop/src/orders/api.py");
  assert_int_equal(lsp_pathmap_file(&s, 0, 1, "/app/orders/api.py", out, sizeof out), 0);
  assert_string_equal(out, "/ws/b/services/shop/src/orders/api.py");
  assert_int_equal(lsp_pathmap_file(&s, 0, 0, "apps/orders/api.py", out, sizeof out), -1);
  assert_int_equal(lsp_pathmap_file(&s, 1, 0, "lib/x/y.py", out, sizeof out), 0);
  assert_string_equal(out, "/opt/vendor/x/y.py");
}

static void test_title(void **state) {
  (void)state;
  hud_function_summary f = {.calls = 72000, .errors = 288, .error_rate = 0.004, .sampled_count = 10, .p95 = 38e6};
  char t[160];
  lsp_fmt_lens_title(&f, 60, false, NULL, t, sizeof t);
  assert_string_equal(t, "⚡ 1.2k/min · p95 38 ms · 0.4% err");
  f.previous_version = "1.0.0";
  f.slowdown = 12.4;
  lsp_fmt_lens_title(&f, 60, false, NULL, t, sizeof t);
  assert_string_equal(t, "⚡ 1.2k/min · p95 38 ms ▲12% · 0.4% err");
  f.slowdown = -8;
  lsp_fmt_lens_title(&f, 60, false, NULL, t, sizeof t);
  assert_string_equal(t, "⚡ 1.2k/min · p95 38 ms ▼8% · 0.4% err");
  f.slowdown = 0.5; /* under 1%: no arrow */
  f.sampled_count = 0; /* nothing timed: no percentile rather than a zero */
  lsp_fmt_lens_title(&f, 60, false, NULL, t, sizeof t);
  assert_string_equal(t, "⚡ 1.2k/min · 0.4% err");
  /* The code on screen differs from production's: said, with the version production runs when known. */
  lsp_fmt_lens_title(&f, 60, true, "1.1.0", t, sizeof t);
  assert_string_equal(t, "⚡ 1.2k/min · 0.4% err · ≠ prod (1.1.0)");
  lsp_fmt_lens_title(&f, 60, true, NULL, t, sizeof t);
  assert_string_equal(t, "⚡ 1.2k/min · 0.4% err · ≠ prod");
  /* Call hierarchy details: the figures of a function or of one call edge. */
  lsp_fmt_calls(72000, 288, 60, "p95", 38e6, t, sizeof t);
  assert_string_equal(t, "1.2k calls/min · p95 38 ms · 0.4% err");
  lsp_fmt_calls(600, 0, 60, "mean", 2.5e6, t, sizeof t);
  assert_string_equal(t, "10 calls/min · mean 2.5 ms");
  lsp_fmt_calls(30, 0, 60, "mean", 0, t, sizeof t);
  assert_string_equal(t, "0.5 calls/min");
}

static void test_window(void **state) {
  (void)state;
  assert_int_equal(lsp_parse_window("1h"), 3600);
  assert_int_equal(lsp_parse_window("15m"), 900);
  assert_int_equal(lsp_parse_window("90s"), 90);
  assert_int_equal(lsp_parse_window("2d"), 172800);
  assert_int_equal(lsp_parse_window("600"), 600);
  assert_int_equal(lsp_parse_window("1hh"), -1);
  assert_int_equal(lsp_parse_window("h"), -1);
  assert_int_equal(lsp_parse_window("-5m"), -1);
  assert_int_equal(lsp_parse_window(""), -1);
  char w[16];
  lsp_fmt_window(3600, w, sizeof w);
  assert_string_equal(w, "1h");
  lsp_fmt_window(900, w, sizeof w);
  assert_string_equal(w, "15m");
  lsp_fmt_window(172800, w, sizeof w);
  assert_string_equal(w, "2d");
}

static void test_positions(void **state) {
  (void)state;
  const char *l = "a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80z"; /* a é 中 😀 z: bytes 0,1,3,6,10 */
  size_t n = strlen(l);
  assert_int_equal(lsp_units_to_bytes(l, n, 0, LSP_ENC_UTF16), 0);
  assert_int_equal(lsp_units_to_bytes(l, n, 2, LSP_ENC_UTF16), 3);
  assert_int_equal(lsp_units_to_bytes(l, n, 3, LSP_ENC_UTF16), 6);
  assert_int_equal(lsp_units_to_bytes(l, n, 4, LSP_ENC_UTF16), 10); /* inside the pair: after it */
  assert_int_equal(lsp_units_to_bytes(l, n, 5, LSP_ENC_UTF16), 10);
  assert_int_equal(lsp_units_to_bytes(l, n, 6, LSP_ENC_UTF16), 11);
  assert_int_equal(lsp_units_to_bytes(l, n, 99, LSP_ENC_UTF16), 11); /* clamps to the line */
  assert_int_equal(lsp_units_to_bytes(l, n, 7, LSP_ENC_UTF8), 7);
  assert_int_equal(lsp_units_to_bytes(l, n, 99, LSP_ENC_UTF8), 11);
  assert_int_equal(lsp_bytes_to_units(l, n, 10, LSP_ENC_UTF16), 5);
  assert_int_equal(lsp_bytes_to_units(l, n, 11, LSP_ENC_UTF16), 6);
  assert_int_equal(lsp_bytes_to_units(l, n, 10, LSP_ENC_UTF8), 10);
  /* malformed UTF-8: one unit per byte, never reading past the line */
  const char *bad = "\xf0\x9f" "x\xc3";
  assert_int_equal(lsp_units_to_bytes(bad, 4, 3, LSP_ENC_UTF16), 3);
  assert_int_equal(lsp_bytes_to_units(bad, 4, 4, LSP_ENC_UTF16), 4);
}

/* The cached function ids are hud_function_id's, under the document's current module path, also once
 * the cache started over (more names than it keeps). */
static void test_function_ids(void **state) {
  (void)state;
  lsp_doc doc = {.module = "shop/db.py", .fnids = lsp_fnids_new()};
  assert_non_null(doc.fnids);
  char got[HUD_UUID_STRLEN + 1], want[HUD_UUID_STRLEN + 1], name[32];
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 70000; i += round ? 1 : 7000) {
      snprintf(name, sizeof name, "Pool.f_%d", i % 70000);
      assert_int_equal(lsp_doc_function_id(&doc, name, got), 0);
      hud_function_id(doc.module, name, want);
      assert_string_equal(got, want);
    }
  }
  assert_int_equal(lsp_doc_function_id(&doc, "Pool.f_69999", got), 0); /* cached */
  doc.module = "app/shop/db.py"; /* mapped again: other ids */
  assert_int_equal(lsp_doc_function_id(&doc, "Pool.f_69999", got), 0);
  hud_function_id("app/shop/db.py", "Pool.f_69999", want);
  assert_string_equal(got, want);
  doc.module = NULL;
  assert_int_equal(lsp_doc_function_id(&doc, "Pool.f_0", got), HUD_EINVAL);
  lsp_fnids_free(doc.fnids);
}

/* Issues in words: the headline with the flows in ms per request, never "+268450%" nor "p=0". */
static void test_issue_text(void **state) {
  (void)state;
  char b[2048];
  hud_issue old = {.kind = HUD_ISSUE_DURATION_REGRESSION, .comparison = HUD_COMPARE_VERSIONS, .effect_pct = 268450,
                   .current = {.version = "v2"}};
  lsp_issue_text(&old, b, sizeof b);
  assert_string_equal(b, "mean duration > 100\u00d7 since v2");
  old.effect_pct = 87;
  lsp_issue_long_text(&old, b, sizeof b);
  assert_string_equal(b, "mean duration +87% since v2");
  hud_affected_flow flows[4] = {
      {.name = "POST /orders", .baseline_mean = 2e6, .current_mean = 6.13e6, .effect = 4.13e6, .effect_pct = 206.5},
      {.name = "GET /quote", .baseline_mean = 1e7, .current_mean = 1.04e7, .effect = 4.13e5, .effect_pct = 4.13},
      {.name = "c"}, {.name = "d"}};
  hud_issue is = {.kind = HUD_ISSUE_DURATION_REGRESSION, .headline = "apply_discounts self time +4.13 ms per call (v1 \u2192 v2)",
                  .code_changed = 1, .p_text = "< 1e-16", .p_value = 2.2e-308, .n_affected_flows = 4,
                  .affected_flows = flows, .self_includes_uninstrumented = true};
  lsp_issue_long_text(&is, b, sizeof b);
  assert_string_equal(b, "apply_discounts self time +4.13 ms per call (v1 \u2192 v2) \u2014 code changed in this version\n"
                         "POST /orders +4.13 ms per request (+206%)\n"
                         "GET /quote +0.41 ms per request (+4.1%)\n"
                         "c 0.00 ms per request (+0.0%)\n"
                         "and 1 more flow\n"
                         "its self time includes calls that are not instrumented\n"
                         "p < 1e-16");
  is.code_changed = -1;
  is.n_affected_flows = 0;
  is.self_includes_uninstrumented = false;
  is.p_text = "3.2e-05";
  lsp_issue_long_text(&is, b, sizeof b);
  assert_string_equal(b, "apply_discounts self time +4.13 ms per call (v1 \u2192 v2)\np = 3.2e-05");
}

static void test_uri(void **state) {
  (void)state;
  char *p = lsp_uri_to_path("file:///home/me/My%20Project/a.py");
  assert_string_equal(p, "/home/me/My Project/a.py");
  free(p);
  p = lsp_uri_to_path("file://localhost/srv/x.py");
  assert_string_equal(p, "/srv/x.py");
  free(p);
  assert_null(lsp_uri_to_path("untitled:Untitled-1"));
  assert_null(lsp_uri_to_path("file://host/share/x.py"));
  assert_null(lsp_uri_to_path("file:///a%2"));
  assert_null(lsp_uri_to_path("file:///a%00b"));
  assert_string_equal(lsp_path_below("/ws/a/b.py", "/ws"), "a/b.py");
  assert_string_equal(lsp_path_below("/ws/a/b.py", "/ws/"), "a/b.py");
  assert_null(lsp_path_below("/wsx/a.py", "/ws"));
  assert_null(lsp_path_below("/ws", "/ws"));
  /* Paths to URIs and back (call hierarchy items of files that are not open). */
  p = lsp_path_to_uri("/home/me/My Project/é#1.py");
  assert_string_equal(p, "file:///home/me/My%20Project/%C3%A9%231.py");
  char *back = lsp_uri_to_path(p);
  assert_string_equal(back, "/home/me/My Project/é#1.py");
  free(back);
  free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_units), cmocka_unit_test(test_title), cmocka_unit_test(test_issue_text),
      cmocka_unit_test(test_layout), cmocka_unit_test(test_pathmap), cmocka_unit_test(test_window),
      cmocka_unit_test(test_positions), cmocka_unit_test(test_uri), cmocka_unit_test(test_function_ids),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
