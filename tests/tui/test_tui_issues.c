/* hud-tui's Issues view on the issue shape with headlines, under tmux, against a loopback listener that
 * answers with recorded JSON in that shape (tests/support/httpd_fixture): the list (status, flows, first
 * seen, headline), the pane (affected flows in ms per request, call path, code change, p as text, drift),
 * --issue selecting an issue, `a` posting the status change and showing the history it answers, and a
 * read-only key's 403 said on the status line. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "httpd_fixture.h"
#include "tui_driver.h"

#define ID1 "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
#define ID2 "2c5f39cb-3fb2-42e3-994f-1127e4ddb538"
#define FN_APPLY "7c974e7c-105c-500a-b205-89c23deafc8e"

#define SAMPLE(v, n, e, r)                                                                                        \
  "{\"version\":\"" v "\",\"from\":\"2024-08-19T09:00:00Z\",\"to\":\"2024-08-19T10:00:00Z\",\"count\":" n          \
  ",\"sampled_count\":" n ",\"errors\":" e ",\"mean_duration\":2000000,\"stddev_duration\":1000,\"error_rate\":" r "}"

/* apply_discounts: 1.5 µs -> 4.13 ms per call (capped), two flows, code changed. */
#define ISSUE1(status, extra)                                                                                     \
  "{\"issue_id\":\"" ID1 "\",\"kind\":\"duration_regression\",\"subject_kind\":\"function\",\"subject_id\":\""     \
  FN_APPLY "\",\"subject_name\":\"apply_discounts\",\"module_path\":\"shop/pricing.py\",\"comparison\":\"versions\","   \
  "\"baseline\":" SAMPLE("v1", "1000", "0", "0") ",\"current\":" SAMPLE("v2", "900", "0", "0") ","                 \
  "\"metric\":\"self_duration\",\"effect\":4128500,\"effect_pct\":10000,\"effect_pct_capped\":true,"               \
  "\"ci_low\":4000000,\"ci_high\":4200000,\"confidence\":0.999,\"statistic\":41.5,\"statistic_name\":\"z\","         \
  "\"df\":0,\"p_value\":2.2e-308,\"p_text\":\"< 1e-16\",\"q_value\":1e-300,\"drift_pct\":10,\"host_shift_pct\":35,\"code_changed\":true,"     \
  "\"detected_at\":\"2024-08-19T10:00:00Z\",\"first_seen\":\"2024-08-19T10:00:00Z\","                             \
  "\"last_seen\":\"2024-08-19T11:00:00Z\",\"times_reopened\":0,\"status\":\"" status "\","                          \
  "\"headline\":\"apply_discounts self time +4.13 ms per call (v1 \\u2192 v2)\","                                   \
  "\"root_causes\":[{\"function_id\":\"" FN_APPLY "\",\"name\":\"apply_discounts\",\"module_path\":\"shop/pricing.py\"," \
  "\"metric\":\"self_duration\",\"baseline_value\":1500,\"current_value\":4130000,\"share\":1,\"p_value\":2.2e-308}],"   \
  "\"affected_flows\":[{\"flow_id\":\"05fc0d6e-f176-524c-b2ef-1981f240c4bf\",\"name\":\"POST /orders\","              \
  "\"baseline_mean\":2000000,\"current_mean\":6130000,\"effect\":4130000,\"effect_pct\":206.5,\"count\":900},"          \
  "{\"flow_id\":\"b6756516-086d-54d0-8796-eb2e259bf0b7\",\"name\":\"GET /quote\",\"baseline_mean\":10000000,"          \
  "\"current_mean\":10413000,\"effect\":413000,\"effect_pct\":4.13,\"count\":50}],"                                   \
  "\"call_path\":[{\"function_id\":\"41fe11d7-9fd1-58ea-a155-3ca0ac583a3a\",\"name\":\"create_order\"},"               \
  "{\"function_id\":\"" FN_APPLY "\",\"name\":\"apply_discounts\"}]" extra "}"

/* A new KeyError reaching POST /checkout. */
#define ISSUE2                                                                                                    \
  "{\"issue_id\":\"" ID2 "\",\"kind\":\"new_exception\",\"subject_kind\":\"function\",\"subject_id\":\""            \
  "41fe11d7-9fd1-58ea-a155-3ca0ac583a3a\",\"subject_name\":\"price\",\"comparison\":\"canary\","                    \
  "\"baseline\":" SAMPLE("v1", "1000", "0", "0") ",\"current\":" SAMPLE("v2", "1000", "20", "0.02") ","             \
  "\"metric\":\"exceptions\",\"effect\":20,\"effect_pct\":10000,\"effect_pct_capped\":true,\"ci_low\":10,"          \
  "\"ci_high\":30,\"confidence\":0.999,\"p_value\":3.2e-05,\"p_text\":\"3.2e-05\",\"code_changed\":false,"          \
  "\"detected_at\":\"2024-08-19T10:00:00Z\",\"first_seen\":\"2024-08-19T10:00:00Z\",\"status\":\"acknowledged\","   \
  "\"headline\":\"new KeyError in price reaching POST /checkout (v1 \\u2192 v2)\",\"root_causes\":[],"              \
  "\"affected_flows\":[{\"flow_id\":\"05fc0d6e-f176-524c-b2ef-1981f240c4bf\",\"name\":\"POST /checkout\","            \
  "\"baseline_mean\":2000000,\"current_mean\":2000000,\"effect\":0,\"effect_pct\":0,\"baseline_error_rate\":0,"       \
  "\"current_error_rate\":0.02,\"count\":1000}]}"

#define HISTORY                                                                                                   \
  ",\"history\":[{\"at\":\"2024-08-19T10:00:00Z\",\"event\":\"opened\"},"                                           \
  "{\"at\":\"2024-08-19T10:20:00Z\",\"event\":\"acknowledged\"}]"

static httpd *g_h;

static int setup(void **state) {
  (void)state;
  if (td_setup_tmux() < 0 || !(g_h = httpd_start())) return -1;
  httpd_route_simple(g_h, "GET", "/v1/issues", 200, "{\"issues\":[" ISSUE1("open", "") "," ISSUE2 "]}");
  httpd_route_simple(g_h, "GET", "/v1/services", 200, "{\"services\":[]}");
  httpd_route_simple(g_h, "POST", "/v1/issues/" ID1 "/status", 200, ISSUE1("acknowledged", HISTORY));
  return 0;
}

static int teardown(void **state) {
  (void)state;
  td_teardown();
  httpd_stop(g_h);
  return 0;
}

static void start(const char *name, int w, int h, const char *args) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "env XDG_STATE_HOME=%s/state-%s " TD_XTERM_UTF8 " %s --url %s --key k --service shop --env prod %s",
           td_tmpdir(), name, td_bin(), httpd_url(g_h), args);
  td_start_cmd(name, w, h, cmd);
}

/* The POST requests received so far with BODY. */
static size_t posts_with(const char *body) {
  size_t n = 0;
  for (size_t i = 0; i < httpd_request_count(g_h); i++) {
    const httpd_request *r = httpd_request_at(g_h, i);
    if (!strcmp(r->method, "POST") && r->decoded && !strcmp((const char *)r->decoded, body)) n++;
  }
  return n;
}

static void list_pane_and_status_changes(void **state) {
  (void)state;
  start("is", 120, 32, "--view issues");
  td_expect("is", "row 1 of 2", "issues_shape_120x32_xterm_utf8");
  td_keys("is", "j");
  td_expect("is", "0.00% \u2192 2.00%", NULL);
  td_expect("is", "row 2 of 2", "issues_shape_new_exception_120x32_xterm_utf8");
  /* `a`: posted, then the answer's history in the pane. */
  td_keys("is", "k a");
  td_expect("is", "issue acknowledged: apply_discounts self time", NULL);
  td_expect("is", "history: 08-19 10:00 opened 08-19 10:20 acknowledged", NULL);
  assert_int_equal(posts_with("{\"status\":\"acknowledged\"}"), 1);
  /* A key without the triage role: the server's 403, said on the status line. */
  httpd_route_simple(g_h, "POST", "/v1/issues/" ID1 "/status", 403,
                     "{\"error\":{\"code\":\"forbidden\",\"message\":\"this API key lacks the 'triage' role\"}}");
  td_keys("is", "m");
  td_expect("is", "cannot change the issue: this API key lacks the triage role", NULL);
  assert_int_equal(posts_with("{\"status\":\"muted\"}"), 1);
  td_kill("is");
}

/* The alert's hud-tui link: --issue ID opens Issues with that issue selected; an unknown one is said. */
static void issue_flag(void **state) {
  (void)state;
  start("flag", 120, 32, "--issue " ID2);
  td_expect("flag", "row 2 of 2", NULL);
  td_expect("flag", "new KeyError in price reaching POST /checkout (v1 \u2192 v2) \u2500\u2500", NULL);
  td_kill("flag");
  start("flag2", 120, 32, "--issue 00000000-0000-5000-8000-000000000000");
  td_expect("flag2", "is not among the active issues", NULL);
  td_kill("flag2");
  char *out = td_sh_out(NULL, "%s --issue nope 2>&1; echo rc=$?", td_bin());
  assert_non_null(strstr(out, "--issue needs an issue id"));
  assert_non_null(strstr(out, "rc=2"));
  free(out);
  /* --once: the issue's detail as text, for scripts and ssh. */
  int st = -1;
  out = td_sh_out(&st, "%s --once --width 100 --url %s --key k --service shop --env prod --issue " ID1,
                  td_bin(), httpd_url(g_h));
  assert_int_equal(st, 0);
  assert_true(td_golden("once_issue_shape_100", out));
  free(out);
  out = td_sh_out(&st, "%s --once --url %s --key k --service shop --env prod "
                  "--issue 00000000-0000-5000-8000-000000000000 2>&1", td_bin(), httpd_url(g_h));
  assert_int_equal(st, 1);
  assert_non_null(strstr(out, "is not among the active issues"));
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(list_pane_and_status_changes),
      cmocka_unit_test(issue_flag),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
