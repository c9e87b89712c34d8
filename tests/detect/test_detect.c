/* Detection engine on synthetic services: planted regressions are found and blamed on the
 * right function; unchanged services (many seeds, with load drift) raise nothing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "detect.h"
#include "hud/err.h"
#include "synth.h"

#define N_SEEDS 20
#ifndef N_CONTROL_SEEDS
#define N_CONTROL_SEEDS 100 /* bench-style runs: -DN_CONTROL_SEEDS=1000 */
#endif

static const char *fn_id(const char *qualname) { return synth_fns()[synth_fn_index(qualname)].id; }

/* Base with seed S, candidate with seed S + 1000 and CHANGES; both with INV invocations per flow. */
static void run_pair(uint64_t s, size_t inv, double sample_rate, double drift, const synth_change *changes,
                     size_t n_changes, srv_det_result *res) {
  synth_params pb = {.seed = s, .invocations = inv, .sample_rate = sample_rate, .drift = 1.0};
  synth_params pc = {.seed = s + 1000, .invocations = inv, .sample_rate = sample_rate, .drift = drift,
                     .changes = changes, .n_changes = n_changes};
  synth_out b, c;
  assert_int_equal(synth_run(&pb, "1.0.0", &b), 0);
  assert_int_equal(synth_run(&pc, "1.1.0", &c), 0);
  assert_int_equal(srv_detect_run(&b.snap, &c.snap, NULL, res), 0);
  synth_out_free(&b);
  synth_out_free(&c);
}

static const srv_issue *find_issue(const srv_det_result *r, srv_issue_kind k, const char *subject) {
  for (size_t i = 0; i < r->n_issues; i++)
    if (r->issues[i].kind == k && strcmp(r->issues[i].subject, subject) == 0) return &r->issues[i];
  return NULL;
}

static void dump(const srv_det_result *r) {
  const synth_fn *fns = synth_fns();
  for (size_t i = 0; i < r->n_issues; i++) {
    const srv_issue *is = &r->issues[i];
    const char *subj = is->subject;
    for (size_t f = 0; f < synth_fn_count(); f++)
      if (strcmp(fns[f].id, subj) == 0) subj = fns[f].qualname;
    fprintf(stderr, "  %s %s: %.4g -> %.4g (%+.1f%% [%+.1f, %+.1f]) p=%.3g q=%.3g n=%llu/%llu\n",
            srv_issue_kind_name(is->kind), subj, is->base_value, is->cand_value, 100 * is->rel_effect,
            100 * is->rel_lo, 100 * is->rel_hi, is->p_value, is->q_value, (unsigned long long)is->base_n,
            (unsigned long long)is->cand_n);
    for (size_t k = 0; k < is->n_causes; k++) {
      const char *cn = is->causes[k].function_id;
      for (size_t f = 0; f < synth_fn_count(); f++)
        if (strcmp(fns[f].id, cn) == 0) cn = fns[f].qualname;
      fprintf(stderr, "    cause %s share %.2f (slower %.3g, more calls %.3g) %s\n", cn, is->causes[k].share,
              is->causes[k].slower_part, is->causes[k].more_calls_part,
              is->causes[k].exception_type ? is->causes[k].exception_type : "");
    }
  }
}

/* fetch_order twice as slow: the endpoint's issue blames fetch_order, so do the function issues
 * of fetch_order itself and of its caller get_order. */
static void planted_slow_function_is_root_cause(void **state) {
  synth_change ch = {"fetch_order", 2.0, -1, 0};
  for (uint64_t s = 1; s <= N_SEEDS; s++) {
    srv_det_result r;
    run_pair(s, 2000, 1.0, 1.0, &ch, 1, &r);
    const srv_issue *fl = find_issue(&r, SRV_ISSUE_FLOW_DURATION, "GET /orders/<id>");
    if (!fl) dump(&r);
    assert_non_null(fl);
    assert_true(fl->n_causes >= 1);
    assert_string_equal(fl->causes[0].function_id, fn_id("fetch_order"));
    assert_true(fl->causes[0].share > 0.8 && fl->causes[0].share < 1.2);
    assert_true(fl->causes[0].slower_part > 0.9 * fl->causes[0].contribution);
    assert_true(fl->causes[0].depth == 1);
    assert_true(fl->p_value < 1e-6 && fl->q_value <= 0.001);
    assert_true(fl->effect_lo > 0 && fl->effect_lo < fl->effect && fl->effect < fl->effect_hi);
    assert_true(fl->rel_lo > 0.2 && fl->rel_effect > fl->rel_lo && fl->rel_hi > fl->rel_effect);
    assert_true(fabs(fl->explained - 1.0) < 0.05); /* every ns of the flow is some function's self time */
    assert_string_equal(fl->base_label, "1.0.0");
    assert_string_equal(fl->cand_label, "1.1.0");
    assert_int_equal(fl->base_n, 2000);

    const srv_issue *fo = find_issue(&r, SRV_ISSUE_FUNCTION_DURATION, fn_id("fetch_order"));
    assert_non_null(fo);
    assert_string_equal(fo->causes[0].function_id, fn_id("fetch_order"));
    assert_int_equal(fo->causes[0].depth, 0);
    const srv_issue *go = find_issue(&r, SRV_ISSUE_FUNCTION_DURATION, fn_id("get_order"));
    assert_non_null(go);
    assert_string_equal(go->causes[0].function_id, fn_id("fetch_order"));
    assert_true(go->causes[0].share > 0.8);
    /* Nothing else moved. */
    for (size_t i = 0; i < r.n_issues; i++) {
      const srv_issue *is = &r.issues[i];
      assert_true(is == fl || is == fo || is == go);
    }
    srv_det_result_free(&r);
  }
}

/* No change at all, and a +-3% load drift between the two snapshots: nothing is raised. */
static void control_raises_nothing(void **state) {
  size_t tests = 0, alarms = 0;
  for (uint64_t s = 1; s <= N_CONTROL_SEEDS; s++) {
    double drift = 0.97 + 0.06 * (double)(s % 7) / 6.0;
    srv_det_result r;
    run_pair(s * 7919, 2000, s % 2 ? 1.0 : 0.5, drift, NULL, 0, &r);
    if (r.n_issues) {
      fprintf(stderr, "seed %llu drift %.3f:\n", (unsigned long long)s, drift);
      dump(&r);
    }
    alarms += r.n_issues;
    tests += r.n_tests;
    assert_true(r.n_tests >= 18); /* every flow and function was tested, not skipped */
    srv_det_result_free(&r);
  }
  fprintf(stderr, "control: %zu seeds, %zu tests, %zu false issues\n", (size_t)N_CONTROL_SEEDS, tests, alarms);
  assert_int_equal(alarms, 0);
}

/* charge declines 4% of payments instead of 1%: the checkout endpoint's error issue names charge
 * (the origin) and PaymentDeclined; checkout's own function issue too. */
static void error_spike_names_origin(void **state) {
  synth_change ch = {"charge", 0, 0.04, 0};
  for (uint64_t s = 1; s <= N_SEEDS; s++) {
    srv_det_result r;
    run_pair(s, 2000, 1.0, 1.0, &ch, 1, &r);
    const srv_issue *fl = find_issue(&r, SRV_ISSUE_FLOW_ERRORS, "POST /checkout");
    if (!fl) dump(&r);
    assert_non_null(fl);
    assert_true(fl->cand_value > fl->base_value);
    assert_true(fl->effect_lo > 0);
    assert_int_equal(fl->n_causes, 1);
    assert_string_equal(fl->causes[0].function_id, fn_id("charge"));
    assert_string_equal(fl->causes[0].exception_type, "PaymentDeclined");
    assert_true(fabs(fl->causes[0].share - 1.0) < 1e-9); /* the only failure source of the flow */
    const srv_issue *fc = find_issue(&r, SRV_ISSUE_FUNCTION_ERRORS, fn_id("checkout"));
    assert_non_null(fc);
    assert_string_equal(fc->causes[0].function_id, fn_id("charge"));
    const srv_issue *ch_is = find_issue(&r, SRV_ISSUE_FUNCTION_ERRORS, fn_id("charge"));
    assert_non_null(ch_is);
    assert_int_equal(ch_is->causes[0].depth, 0);
    for (size_t i = 0; i < r.n_issues; i++)
      assert_true(&r.issues[i] == fl || &r.issues[i] == fc || &r.issues[i] == ch_is);
    srv_det_result_free(&r);
  }
}

/* +30% on one function with 2000 calls (about 0.45 ms on a 1.5 ms query): caught every time,
 * even with half of the calls timed. Also prints the detection rate by effect size. */
static void small_change_is_caught(void **state) {
  synth_change ch = {"fetch_items", 1.3, -1, 0};
  for (uint64_t s = 1; s <= N_SEEDS; s++) {
    srv_det_result r;
    run_pair(s, 2000, s % 2 ? 1.0 : 0.5, 1.0, &ch, 1, &r);
    const srv_issue *fi = find_issue(&r, SRV_ISSUE_FUNCTION_DURATION, fn_id("fetch_items"));
    if (!fi) dump(&r);
    assert_non_null(fi);
    assert_string_equal(fi->causes[0].function_id, fn_id("fetch_items"));
    assert_true(fi->rel_effect > 0.15 && fi->rel_effect < 0.45);
    assert_true(fi->rel_lo < 0.3 && fi->rel_hi > 0.3); /* the interval covers the truth */
    srv_det_result_free(&r);
  }
  static const double factors[] = {1.05, 1.10, 1.15, 1.20, 1.30};
  for (size_t k = 0; k < sizeof factors / sizeof factors[0]; k++) {
    int hits = 0;
    synth_change c2 = {"fetch_items", factors[k], -1, 0};
    for (uint64_t s = 1; s <= N_SEEDS; s++) {
      srv_det_result r;
      run_pair(s + 500, 2000, 1.0, 1.0, &c2, 1, &r);
      hits += find_issue(&r, SRV_ISSUE_FUNCTION_DURATION, fn_id("fetch_items")) != NULL;
      srv_det_result_free(&r);
    }
    fprintf(stderr, "fetch_items %+.0f%% at 2000 calls: caught in %d/%d seeds\n", 100 * (factors[k] - 1), hits,
            N_SEEDS);
  }
}

/* render_item now called 12 times per order instead of 3 (an N+1): blamed on render_item, as
 * "more calls", not "slower". */
static void more_calls_attributed(void **state) {
  synth_change ch = {"render_item", 0, -1, 4.0};
  srv_det_result r;
  run_pair(3, 2000, 1.0, 1.0, &ch, 1, &r);
  const srv_issue *fl = find_issue(&r, SRV_ISSUE_FLOW_DURATION, "GET /orders/<id>");
  if (!fl) dump(&r);
  assert_non_null(fl);
  assert_string_equal(fl->causes[0].function_id, fn_id("render_item"));
  assert_true(fl->causes[0].more_calls_part > 0.8 * fl->causes[0].contribution);
  assert_true(fabs(fl->causes[0].cand_calls_per_inv - 12.0) < 0.01);
  assert_true(fabs(fl->causes[0].base_calls_per_inv - 3.0) < 0.01);
  assert_int_equal(fl->causes[0].depth, 2);
  const srv_issue *ro = find_issue(&r, SRV_ISSUE_FUNCTION_DURATION, fn_id("render_order"));
  assert_non_null(ro);
  assert_string_equal(ro->causes[0].function_id, fn_id("render_item"));
  srv_det_result_free(&r);
}

/* Too few calls: even a 2x change stays quiet (the guard), and the tests are not counted. */
static void few_samples_do_not_alert(void **state) {
  synth_change ch = {"fetch_order", 2.0, -1, 0};
  srv_det_result r;
  run_pair(5, 60, 1.0, 1.0, &ch, 1, &r);
  assert_int_equal(r.n_issues, 0);
  /* Only render_item (3 per order), compute_price (2 per checkout) and check_token (in two flows)
   * reach 100 calls. */
  assert_int_equal(r.n_tests, 3);
  srv_det_result_free(&r);
}

/* Hand-built snapshots with figures computed by hand. Flow F: root A (self 1 ms) calls B once
 * (self 1 ms, becomes 1.3 ms). 100 sampled invocations each side, sd 0.1 ms everywhere. */
static void hand_computed_figures(void **state) {
  const double ms = 1e6, n = 100, sd = 0.1 * ms;
  /* sumsq = (n - 1) sd^2 + n mean^2 */
#define ST(mean, self) {100, 100, n * (mean), (n - 1) * sd * sd + n * (mean) * (mean), n * (self), 0}
  srv_det_call cb[] = {{"F", "A", NULL, ST(2 * ms, 1 * ms)}, {"F", "B", "A", ST(1 * ms, 1 * ms)}};
  srv_det_call cc[] = {{"F", "A", NULL, ST(2.3 * ms, 1 * ms)}, {"F", "B", "A", ST(1.3 * ms, 1.3 * ms)}};
  srv_det_flow fb[] = {{"F", "A", ST(2 * ms, 0)}};
  srv_det_flow fc[] = {{"F", "A", ST(2.3 * ms, 0)}};
#undef ST
  srv_det_snapshot b = {.label = "w1", .from_ms = 1000, .to_ms = 2000, .calls = cb, .n_calls = 2, .flows = fb, .n_flows = 1};
  srv_det_snapshot c = {.label = "w2", .from_ms = 2000, .to_ms = 3000, .calls = cc, .n_calls = 2, .flows = fc, .n_flows = 1};
  srv_det_result r;
  assert_int_equal(srv_detect_run(&b, &c, NULL, &r), 0);
  assert_int_equal(r.n_tests, 3); /* durations of F, A, B; no errors anywhere */
  const srv_issue *fl = find_issue(&r, SRV_ISSUE_FLOW_DURATION, "F");
  assert_non_null(fl);
  /* t = 0.3 ms / sqrt(2 * 0.01 ms^2 / 100) = 21.2132; df = 198 (equal variances and sizes). */
  assert_float_equal(fl->statistic, 21.213203, 1e-4);
  assert_float_equal(fl->df, 198.0, 1e-6);
  assert_float_equal(fl->effect, 0.3 * ms, 1e-3);
  assert_float_equal(fl->rel_effect, 0.15, 1e-12);
  assert_true(fl->effect_lo > 0.25 * ms && fl->effect_hi < 0.35 * ms);
  assert_int_equal(fl->n_causes, 1);
  assert_string_equal(fl->causes[0].function_id, "B");
  assert_float_equal(fl->causes[0].share, 1.0, 1e-12);
  assert_float_equal(fl->causes[0].contribution, 0.3 * ms, 1e-6);
  assert_float_equal(fl->causes[0].base_self_mean_ns, 1 * ms, 1e-6);
  assert_float_equal(fl->causes[0].cand_self_mean_ns, 1.3 * ms, 1e-6);
  assert_int_equal(fl->causes[0].depth, 1);
  assert_int_equal(fl->base_from_ms, 1000);
  assert_int_equal(fl->cand_to_ms, 3000);
  assert_float_equal(fl->explained, 1.0, 1e-12);
  /* B: +30%; A: +15%, all of it through B. */
  const srv_issue *bi = find_issue(&r, SRV_ISSUE_FUNCTION_DURATION, "B");
  assert_non_null(bi);
  assert_float_equal(bi->rel_effect, 0.3, 1e-12);
  const srv_issue *ai = find_issue(&r, SRV_ISSUE_FUNCTION_DURATION, "A");
  assert_non_null(ai);
  assert_string_equal(ai->causes[0].function_id, "B");
  assert_float_equal(ai->causes[0].share, 1.0, 1e-12);
  srv_det_result_free(&r);

  /* The same with a stricter relative guard of 20%: only B remains. */
  srv_det_config cfg;
  srv_det_config_default(&cfg);
  cfg.min_rel_increase = 0.20;
  assert_int_equal(srv_detect_run(&b, &c, &cfg, &r), 0);
  assert_int_equal(r.n_issues, 1);
  assert_string_equal(r.issues[0].subject, "B");
  srv_det_result_free(&r);
}

/* Recursion (A -> B -> A) and a function called from two places: the walk terminates and blames B. */
static void recursion_and_shared_callee(void **state) {
  const double ms = 1e6, n = 200, sd = 0.1 * ms;
#define ST(cnt, mean, self) {(uint64_t)(cnt), (uint64_t)(cnt), (cnt) * (mean), ((cnt) - 1) * sd * sd + (cnt) * (mean) * (mean), (cnt) * (self), 0}
  srv_det_call cb[] = {{NULL, "A", NULL, ST(n, 3 * ms, 1 * ms)}, {NULL, "B", "A", ST(n, 2 * ms, 1 * ms)},
                       {NULL, "A", "B", ST(n, 1 * ms, 1 * ms)}, {NULL, "B", "C", ST(n, 1 * ms, 1 * ms)},
                       {NULL, "C", NULL, ST(n, 2 * ms, 1 * ms)}};
  srv_det_call cc[] = {{NULL, "A", NULL, ST(n, 4 * ms, 1 * ms)}, {NULL, "B", "A", ST(n, 3 * ms, 2 * ms)},
                       {NULL, "A", "B", ST(n, 1 * ms, 1 * ms)}, {NULL, "B", "C", ST(n, 2 * ms, 2 * ms)},
                       {NULL, "C", NULL, ST(n, 3 * ms, 1 * ms)}};
#undef ST
  srv_det_snapshot b = {.label = "a", .calls = cb, .n_calls = 5}, c = {.label = "b", .calls = cc, .n_calls = 5};
  srv_det_result r;
  assert_int_equal(srv_detect_run(&b, &c, NULL, &r), 0);
  const srv_issue *ci = find_issue(&r, SRV_ISSUE_FUNCTION_DURATION, "C");
  assert_non_null(ci);
  assert_string_equal(ci->causes[0].function_id, "B");
  assert_float_equal(ci->causes[0].share, 1.0, 1e-9);
  const srv_issue *bi = find_issue(&r, SRV_ISSUE_FUNCTION_DURATION, "B");
  assert_non_null(bi);
  assert_string_equal(bi->causes[0].function_id, "B");
  srv_det_result_free(&r);
}

static void bad_input_is_rejected(void **state) {
  srv_det_result r;
  srv_det_snapshot e = {0};
  assert_int_equal(srv_detect_run(NULL, &e, NULL, &r), HUD_EINVAL);
  assert_int_equal(srv_detect_run(&e, NULL, NULL, &r), HUD_EINVAL);
  assert_int_equal(srv_detect_run(&e, &e, NULL, NULL), HUD_EINVAL);
  srv_det_snapshot bad = {.n_calls = 3, .calls = NULL};
  assert_int_equal(srv_detect_run(&bad, &e, NULL, &r), HUD_EINVAL);
  srv_det_call nofn[] = {{"F", NULL, NULL, {1, 1, 1, 1, 1, 0}}};
  srv_det_snapshot s1 = {.calls = nofn, .n_calls = 1};
  assert_int_equal(srv_detect_run(&s1, &e, NULL, &r), HUD_EINVAL);
  srv_det_config cfg;
  srv_det_config_default(&cfg);
  cfg.alpha = 0;
  assert_int_equal(srv_detect_run(&e, &e, &cfg, &r), HUD_EINVAL);
  cfg.alpha = 0.01;
  cfg.max_causes = 0;
  assert_int_equal(srv_detect_run(&e, &e, &cfg, &r), HUD_EINVAL);
  /* Empty snapshots: no tests, no issues. */
  assert_int_equal(srv_detect_run(&e, &e, NULL, &r), 0);
  assert_int_equal(r.n_issues, 0);
  assert_int_equal(r.n_tests, 0);
  srv_det_result_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hand_computed_figures),
      cmocka_unit_test(planted_slow_function_is_root_cause),
      cmocka_unit_test(control_raises_nothing),
      cmocka_unit_test(error_spike_names_origin),
      cmocka_unit_test(small_change_is_caught),
      cmocka_unit_test(more_calls_attributed),
      cmocka_unit_test(few_samples_do_not_alert),
      cmocka_unit_test(recursion_and_shared_callee),
      cmocka_unit_test(bad_input_is_rejected),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
