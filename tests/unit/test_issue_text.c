/* An issue in words (hud/issue_text.h): the figures people read, capped and never "+0%". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hud/issue_text.h"

static void percent_and_ms(void **state) {
  (void)state;
  char b[64];
  hud_issue_pct_text(206.5, false, true, b, sizeof b);
  assert_string_equal(b, "+206%");
  hud_issue_pct_text(4.04, false, true, b, sizeof b);
  assert_string_equal(b, "+4.0%");
  hud_issue_pct_text(268450, false, true, b, sizeof b);
  assert_string_equal(b, "> 100\u00d7");
  hud_issue_pct_text(10000, true, false, b, sizeof b);
  assert_string_equal(b, "> 100x");
  hud_issue_ms_text(4.13e6, true, b, sizeof b);
  assert_string_equal(b, "+4.13 ms");
  hud_issue_ms_text(4.6e5, true, b, sizeof b);
  assert_string_equal(b, "+0.46 ms");
  hud_issue_ms_text(1.25e7, false, b, sizeof b);
  assert_string_equal(b, "12.5 ms");
  hud_issue_ms_text(2.5e8, false, b, sizeof b);
  assert_string_equal(b, "250 ms");
  hud_issue_ms_text(-1.5e6, true, b, sizeof b);
  assert_string_equal(b, "-1.50 ms");
}

static void headline_and_flows(void **state) {
  (void)state;
  char b[256];
  hud_issue is = {.kind = HUD_ISSUE_DURATION_REGRESSION, .comparison = HUD_COMPARE_VERSIONS,
                  .subject_name = "GET /orders/<id>", .effect_pct = 40.8,
                  .baseline = {.version = "1.0.0"}, .current = {.version = "1.1.0"}};
  hud_issue_headline(&is, true, b, sizeof b);
  assert_string_equal(b, "GET /orders/<id> mean duration +41% (1.0.0 \u2192 1.1.0)");
  is.kind = HUD_ISSUE_ERROR_RATE_INCREASE;
  is.comparison = HUD_COMPARE_WINDOWS;
  is.baseline.error_rate = 0.012;
  is.current.error_rate = 0.041;
  hud_issue_headline(&is, false, b, sizeof b);
  assert_string_equal(b, "GET /orders/<id> error rate 1.2% -> 4.1% (recent window)");
  is.headline = "apply_discounts self time +4.13 ms per call (v1 \u2192 v2)";
  hud_issue_headline(&is, false, b, sizeof b);
  assert_string_equal(b, is.headline);

  hud_affected_flow f = {.name = "POST /orders", .baseline_mean = 2e6, .current_mean = 6.13e6, .effect = 4.13e6,
                         .effect_pct = 206.5};
  is.kind = HUD_ISSUE_DURATION_REGRESSION;
  hud_issue_flow_text(&is, &f, true, b, sizeof b);
  assert_string_equal(b, "POST /orders +4.13 ms per request (+206%)");
  /* A new exception: from 0, said as new, never +0%. */
  is.kind = HUD_ISSUE_NEW_EXCEPTION;
  f = (hud_affected_flow){.name = "POST /checkout", .current_error_rate = 0.0545};
  hud_issue_flow_text(&is, &f, true, b, sizeof b);
  assert_string_equal(b, "POST /checkout failures 0% \u2192 5.45% of requests (new)");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(percent_and_ms), cmocka_unit_test(headline_and_flows)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
