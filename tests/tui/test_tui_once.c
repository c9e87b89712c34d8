/* hud-tui --once against the real hud-server: plain-text goldens, JSON through the codec, exit statuses
 * and messages on backend errors. `test_tui_once --serve` keeps the fixture up for manual runs. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hud/codec.h"
#include "tui_driver.h"

static char *once(int *status, const char *args) {
  query_fixture *f = td_fixture();
  return td_sh_out(status, "%s --url http://127.0.0.1:%d --key %s --service shop --env prod --once %s 2>&1", td_bin(),
                   f->h.port, f->key, args);
}

static void functions_text(void **state) {
  int st;
  char *out = once(&st, "--view functions --sort p95 --limit 20 --width 120");
  assert_non_null(out);
  assert_int_equal(st, 0);
  assert_true(td_golden("once_functions_p95_120", out));
  free(out);
}

static void flows_text(void **state) {
  int st;
  char *out = once(&st, "--view flows --width 160");
  assert_int_equal(st, 0);
  assert_true(td_golden("once_flows_160", out));
  free(out);
}

static void issues_text(void **state) {
  int st;
  char *out = once(&st, "--view issues --width 200");
  assert_int_equal(st, 0);
  assert_true(td_golden("once_issues_200", out));
  free(out);
}

static void errors_text(void **state) {
  int st;
  char *out = once(&st, "--view errors --width 160");
  assert_int_equal(st, 0);
  assert_true(td_golden("once_errors_160", out));
  free(out);
  /* One function: checkout is on the path of charge's PaymentDeclined, nothing else. */
  char args[256];
  snprintf(args, sizeof args, "--view errors --function %s --width 100",
           synth_fns()[synth_fn_index("checkout")].id);
  out = once(&st, args);
  assert_int_equal(st, 0);
  assert_true(td_golden("once_errors_checkout_100", out));
  free(out);
}

/* --filter: a substring, or after `~` an extended regex (case-insensitive); an invalid regex exits 2. */
static void filter_regex(void **state) {
  int st;
  char *out = once(&st, "--filter '~^(FETCH|save)_order$' --width 80");
  assert_int_equal(st, 0);
  assert_non_null(strstr(out, "\nfetch_order "));
  assert_non_null(strstr(out, "\nsave_order "));
  assert_null(strstr(out, "\nfetch_items "));
  free(out);
  out = once(&st, "--filter '~(x' --width 80");
  assert_int_equal(st, 2);
  assert_non_null(strstr(out, "hud-tui: --filter: invalid regex '(x': "));
  free(out);
}

static void errors_json(void **state) {
  int st;
  char args[256];
  snprintf(args, sizeof args, "--view errors --function %s --json", synth_fns()[synth_fn_index("get_order")].id);
  char *out = once(&st, args);
  assert_int_equal(st, 0);
  hud_arena *a = hud_arena_new();
  hud_exception_flows_response r;
  hud_codec_error e;
  if (hud_exception_flows_response_decode(out, strlen(out), NULL, a, &r, &e) != 0) fail_msg("%s: %s", e.message, out);
  assert_int_equal(r.n_flows, 1);
  assert_string_equal(r.flows[0].exception_type, "KeyError");
  assert_string_equal(r.flows[0].caught_in->name, "get_order");
  hud_arena_free(a);
  free(out);
}

static void functions_json(void **state) {
  int st;
  char *out = once(&st, "--view functions --sort calls --limit 5 --json");
  assert_int_equal(st, 0);
  hud_arena *a = hud_arena_new();
  hud_top_response r;
  hud_codec_error e;
  if (hud_top_response_decode(out, strlen(out), NULL, a, &r, &e) != 0) fail_msg("%s: %s", e.message, out);
  assert_int_equal(r.n_items, 5);
  assert_int_equal(r.sort, HUD_SORT_CALLS);
  for (size_t i = 1; i < r.n_items; i++) assert_true(r.items[i - 1].calls >= r.items[i].calls);
  hud_arena_free(a);
  free(out);
}

static void backend_down(void **state) {
  int st;
  char *out = td_sh_out(&st, "%s --url http://127.0.0.1:9 --service shop --once --connect-timeout-ms 2000 2>&1", td_bin());
  assert_int_equal(st, 1);
  assert_non_null(strstr(out, "hud-tui: backend unreachable at http://127.0.0.1:9"));
  free(out);
}

static void wrong_key(void **state) {
  int st;
  char *out = td_sh_out(&st, "%s --url http://127.0.0.1:%d --key hud_wrong --service shop --once 2>&1", td_bin(),
                        td_fixture()->h.port);
  assert_int_equal(st, 1);
  assert_non_null(strstr(out, "hud-tui: 401 unauthorized"));
  free(out);
}

static void bad_flags(void **state) {
  int st;
  char *out = td_sh_out(&st, "%s --once --view nope 2>&1", td_bin());
  assert_int_equal(st, 2);
  assert_non_null(strstr(out, "unknown view 'nope'"));
  free(out);
  out = td_sh_out(&st, "%s --url http://127.0.0.1:%d --key %s --service shop --once --sort slowest 2>&1", td_bin(),
                  td_fixture()->h.port, td_fixture()->key);
  assert_int_equal(st, 2);
  assert_non_null(strstr(out, "cannot sort by 'slowest'"));
  free(out);
}

static int setup(void **state) { return td_setup(); }
static int teardown(void **state) {
  td_teardown();
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--serve") == 0) {
    if (td_setup() < 0) return 1;
    printf("--url http://127.0.0.1:%d --key %s --service shop --env prod\n", td_fixture()->h.port, td_fixture()->key);
    fflush(stdout);
    pause();
    return 0;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(functions_text), cmocka_unit_test(flows_text), cmocka_unit_test(issues_text),
      cmocka_unit_test(errors_text), cmocka_unit_test(filter_regex), cmocka_unit_test(errors_json),
      cmocka_unit_test(functions_json), cmocka_unit_test(backend_down), cmocka_unit_test(wrong_key),
      cmocka_unit_test(bad_flags),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
