/* hud-tui's screens under tmux against the real hud-server holding the query fixture's two versions of
 * "shop": golden screens across sizes (80x24, 200x60), terminals (xterm-256color, vt100, an unknown one) and
 * locales (UTF-8, C); colour attributes; keys; resize. Exit paths and backend errors: test_tui_exits.c. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tui_driver.h"


static bool is_colour(int p) { return (p >= 30 && p <= 38) || (p >= 40 && p <= 48) || (p >= 90 && p <= 107); }
static bool is_reverse(int p) { return p == 7; }

/* True when some SGR sequence (ESC [ p;p;... m) of S has a parameter satisfying PRED. */
static bool sgr_has(const char *s, bool (*pred)(int)) {
  for (const char *p = strstr(s, "\033["); p; p = strstr(p + 1, "\033[")) {
    const char *q = p + 2;
    while (*q >= '0' && *q <= '9') {
      int v = (int)strtol(q, (char **)&q, 10);
      if (*q != ';' && *q != 'm') break;
      if (pred(v)) return true;
      if (*q == 'm') break;
      q++;
    }
  }
  return false;
}

static void functions_matrix(void **state) {
  td_ready("f1", 80, 24, TD_XTERM_UTF8, "", "functions_80x24_xterm_utf8");
  td_ready("f2", 200, 60, TD_XTERM_UTF8, "", "functions_200x60_xterm_utf8");
  td_ready("f3", 80, 24, TD_VT100_C, "", "functions_80x24_vt100_c");
  td_ready("f4", 200, 60, "TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 NO_COLOR=1", "--no-unicode",
              "functions_200x60_xterm_nocolor_nounicode");
  /* Colours where terminfo has them; none with NO_COLOR or on a vt100, which get reverse video instead. */
  const char *names[] = {"f1", "f3", "f4"};
  for (int i = 0; i < 3; i++) {
    char *sgr = td_screen_sgr(names[i]);
    assert_non_null(sgr);
    if (i == 0) assert_true(sgr_has(sgr, is_colour));
    else assert_false(sgr_has(sgr, is_colour));
    if (i > 0) assert_true(sgr_has(sgr, is_reverse));
    free(sgr);
  }
  td_kill("f1");
  td_kill("f2");
  td_kill("f3");
  td_kill("f4");
}

/* Colour tiers from terminfo, read back from tmux's cells (capture-pane -e): 256 colours give 38;5;N (the
 * dim grey 244 for the tabs), 8 colours plain 30-37 only, a direct-colour terminal (colors#0x1000000,
 * compiled here with tic from xterm-256color) 38;2;R;G;B. The text is the same screen each time. */
static void colour_tiers(void **state) {
  char dir[600], env[1024];
  snprintf(dir, sizeof dir, "%s/terminfo", td_tmpdir());
  int rc = td_sh("mkdir -p %s && printf '%%s\n' 'hud-direct|xterm with direct colour,' "
                 "'\tcolors#0x1000000, pairs#0x10000, RGB,' "
                 "'\tsetaf=\\E[%%?%%p1%%{8}%%<%%t3%%p1%%d%%e38;2;%%p1%%{65536}%%/%%d;%%p1%%{256}%%/%%{255}%%&%%d;%%p1%%{255}%%&%%d%%;m,' "
                 "'\tsetab=\\E[%%?%%p1%%{8}%%<%%t4%%p1%%d%%e48;2;%%p1%%{65536}%%/%%d;%%p1%%{256}%%/%%{255}%%&%%d;%%p1%%{255}%%&%%d%%;m,' "
                 "'\tuse=xterm-256color,' > %s/hud-direct.src && tic -x -o %s %s/hud-direct.src",
                 dir, dir, dir, dir);
  assert_int_equal(rc, 0);
  td_ready("c256", 80, 24, TD_XTERM_UTF8, "", "functions_80x24_xterm_utf8");
  td_ready("c8", 80, 24, "TERM=xterm LANG=C.UTF-8 LC_ALL=C.UTF-8", "", "functions_80x24_xterm_utf8");
  snprintf(env, sizeof env, "TERM=hud-direct TERMINFO=%s LANG=C.UTF-8 LC_ALL=C.UTF-8", dir);
  td_ready("c24", 80, 24, env, "", "functions_80x24_xterm_utf8");
  char *sgr = td_screen_sgr("c256");
  assert_non_null(sgr);
  assert_non_null(strstr(sgr, "38;5;244"));
  assert_null(strstr(sgr, "38;2;"));
  free(sgr);
  sgr = td_screen_sgr("c8");
  assert_non_null(sgr);
  assert_true(sgr_has(sgr, is_colour));
  assert_null(strstr(sgr, "38;5;"));
  assert_null(strstr(sgr, "38;2;"));
  free(sgr);
  sgr = td_screen_sgr("c24");
  assert_non_null(sgr);
  assert_non_null(strstr(sgr, "38;2;138;138;138")); /* the dim grey, 0x8A8A8A */
  free(sgr);
  td_kill("c256");
  td_kill("c8");
  td_kill("c24");
}

static void flows_and_issues(void **state) {
  td_ready("v1", 80, 24, TD_XTERM_UTF8, "", NULL);
  td_keys("v1", "2");
  td_expect("v1", "2xx 3809 5xx 191", "flows_80x24_xterm_utf8");
  td_keys("v1", "3");
  td_expect("v1", "first seen issue", "issues_80x24_xterm_utf8");
  td_kill("v1");
  td_ready("v2", 200, 60, TD_VT100_C, "--view issues", "issues_200x60_vt100_c");
  td_keys("v2", "Tab");
  td_expect("v2", "No function selected", NULL);
  td_keys("v2", "Tab");
  td_expect("v2", "q:quit Enter:detail c:order Tab", NULL); /* Hot paths, no function either */
  td_keys("v2", "Tab");
  td_expect("v2", "send_email -> escaped", NULL); /* Errors: the whole service */
  td_keys("v2", "Tab");
  td_expect("v2", "shop/render.py", NULL);
  td_keys("v2", "Tab");
  td_expect("v2", "(queue)", "flows_200x60_vt100_c");
  td_kill("v2");
}

/* Issues -> Enter (root cause) -> j Enter (its caller) -> Backspace -> Esc: back where we started. */
static void drill_and_back(void **state) {
  td_ready("d1", 80, 24, TD_XTERM_UTF8, "--view issues", NULL);
  td_keys("d1", "Enter"); /* row 1: fetch_order's issue */
  td_expect("d1", "fetch_order  shop/db.py:21-26", "detail_fetch_order_80x24_xterm_utf8");
  td_keys("d1", "Enter"); /* row 1 is the function itself: Enter stays */
  td_expect("d1", "row 1 of 2", NULL);
  td_keys("d1", "j Enter");
  td_expect("d1", "get_order  shop/orders.py:1-6", "detail_get_order_80x24_xterm_utf8");
  td_keys("d1", "BSpace");
  td_expect("d1", "fetch_order  shop/db.py:21-26", NULL);
  td_keys("d1", "Escape");
  td_expect("d1", "row 1 of 2", NULL);
  td_kill("d1");
}

/* Flows -> Enter (the flow's top function) -> 5 (its hot paths) -> Enter on a callee -> Esc back. */
static void flow_to_hot_paths(void **state) {
  td_ready("p1", 80, 24, TD_XTERM_UTF8, "--view flows", NULL);
  td_keys("p1", "Enter");
  td_expect("p1", "get_order  shop/orders.py:1-6", NULL);
  td_keys("p1", "5");
  td_expect("p1", "\u2514 fetch_order", "paths_get_order_80x24_xterm_utf8");
  td_keys("p1", "j Enter");
  td_expect("p1", "fetch_order  shop/db.py:21-26", NULL);
  td_keys("p1", "Escape");
  td_expect("p1", "row 2 of", NULL);
  td_kill("p1");
  td_ready("p2", 200, 60, TD_VT100_C, "--view flows", NULL);
  td_keys("p2", "j Enter");
  td_expect("p2", "checkout  shop/checkout.py", NULL);
  td_keys("p2", "5");
  td_expect("p2", "- charge", "paths_checkout_200x60_vt100_c");
  td_kill("p2");
  /* h on a flow: Hot paths rooted at its top function, titled with the flow; Esc back to Flows. A callee an
   * exception left is red with `!` (colour) or bold (vt100). */
  td_ready("p3", 200, 60, TD_VT100_C, "--view flows", NULL);
  td_keys("p3", "h");
  td_expect("p3", "flow GET /orders/<id>  by time", "paths_flow_get_order_200x60_vt100_c");
  char *sgr = td_screen_sgr("p3");
  assert_non_null(sgr);
  assert_true(strstr(sgr, "\033[1m- get ! ") || strstr(sgr, ";1m- get ! "));
  free(sgr);
  /* Enter on a callee and back: the tree keeps the flow's title. */
  td_keys("p3", "j Enter");
  td_expect("p3", "fetch_order  shop/db.py:21-26", NULL);
  td_keys("p3", "Escape");
  td_expect("p3", "flow GET /orders/<id>  by time", NULL);
  td_keys("p3", "Escape");
  td_expect("p3", "row 1 of 3", NULL);
  td_kill("p3");
  /* --filter applies to the first view too; an invalid regex stops before the terminal is taken. */
  td_ready("p5", 80, 24, TD_XTERM_UTF8, "--filter \"~^fetch_(order|items)$\"", NULL);
  td_expect("p5", "row 1 of 2 matching '~^fetch_(order|items)$'", NULL);
  td_kill("p5");
  int st = -1;
  char *out = td_sh_out(&st, "%s --url http://127.0.0.1:1 --service shop --filter '~(x' 2>&1", td_bin());
  assert_int_equal(st, 2);
  assert_non_null(strstr(out, "hud-tui: --filter: invalid regex '(x': "));
  free(out);
  td_ready("p4", 80, 24, TD_XTERM_UTF8, "--view flows", NULL);
  td_keys("p4", "h");
  td_expect("p4", "\u2514 get ! ", NULL);
  sgr = td_screen_sgr("p4");
  assert_non_null(sgr);
  const char *bang = strstr(sgr, "get ! ");
  assert_non_null(bang);
  /* The last SGR before the marked name sets the red of 256 colours (38;5;167). */
  const char *esc = bang;
  while (esc > sgr && !(esc[0] == '\033' && esc[1] == '[')) esc--;
  assert_true(strstr(esc, "38;5;167") && strstr(esc, "38;5;167") < bang);
  free(sgr);
  td_kill("p4");
}

/* Flows -> Enter (get_order) -> x (its exception paths) -> Enter (the origin's detail) -> Esc -> a (the
 * whole service) -> Esc (back to get_order's detail). */
static void errors_view(void **state) {
  td_ready("e1", 80, 24, TD_XTERM_UTF8, "--view flows", NULL);
  td_keys("e1", "Enter");
  td_expect("e1", "get_order  shop/orders.py:1-6", NULL);
  td_keys("e1", "x");
  td_expect("e1", "get \u2192 caught in get_order", "errors_get_order_80x24_xterm_utf8");
  td_keys("e1", "Enter");
  td_expect("e1", "get  shop/cache.py", NULL);
  td_keys("e1", "Escape");
  td_expect("e1", "get \u2192 caught in get_order", NULL);
  td_keys("e1", "a");
  td_expect("e1", "row 1 of 3", "errors_80x24_xterm_utf8");
  td_keys("e1", "j j '?'");
  td_expect("e1", "Keys (Errors view)", NULL);
  td_keys("e1", "q Escape");
  td_expect("e1", "get_order  shop/orders.py:1-6", NULL);
  td_kill("e1");
  td_ready("e2", 200, 60, TD_VT100_C, "--view errors", "errors_200x60_vt100_c");
  td_keys("e2", "/ S M T P Enter");
  td_expect("e2", "row 1 of 1 matching 'SMTP'", NULL);
  td_kill("e2");
}

static void sort_filter_move(void **state) {
  td_ready("s1", 80, 24, TD_XTERM_UTF8, "", NULL);
  td_keys("s1", "'>' '>'");
  td_expect("s1", "sort p95", "functions_sort_p95_80x24");
  td_keys("s1", "'<'");
  td_expect("s1", "sort p50", NULL);
  td_keys("s1", "s s s s s");
  td_expect("s1", "sort change", NULL);
  td_keys("s1", "G");
  td_expect("s1", "row 15 of 15", NULL);
  td_keys("s1", "g");
  td_expect("s1", "row 1 of 15", NULL);
  td_keys("s1", "NPage");
  td_expect("s1", "row 15 of 15", NULL);
  td_keys("s1", "PPage k j j");
  td_expect("s1", "row 3 of 15", NULL);
  td_keys("s1", "/ d b Enter");
  td_expect("s1", "row 1 of 3 matching 'db'", "functions_filter_db_80x24");
  td_keys("s1", "Escape");
  td_expect("s1", "row 1 of 15", NULL);
  /* `~`: an extended regex, case-insensitive; an invalid one says why on the status line and matches nothing. */
  td_keys("s1", "/");
  td_keys("s1", "-l '~^(FETCH|save)_order$'");
  td_keys("s1", "Enter");
  td_expect("s1", "row 1 of 2 matching '~^(FETCH|save)_order$'", "functions_filter_regex_80x24");
  td_keys("s1", "Escape /");
  td_keys("s1", "-l '~(x'");
  td_expect("s1", "invalid regex '(x'", NULL);
  td_keys("s1", "Enter");
  td_expect("s1", "invalid regex '(x': ", "functions_filter_bad_regex_80x24");
  td_keys("s1", "Escape");
  td_expect("s1", "row 1 of 15", NULL);
  td_keys("s1", "'?'");
  td_expect("s1", "Keys (Functions view)", "help_functions_80x24_xterm_utf8");
  td_keys("s1", "x P");
  td_expect("s1", "PAUSED", NULL);
  td_kill("s1");
}

static void resize(void **state) {
  td_ready("r1", 200, 60, TD_XTERM_UTF8, "", NULL);
  td_resize("r1", 80, 24);
  td_expect("r1", "?:help q:quit Enter:detail", "functions_80x24_xterm_utf8");
  td_resize("r1", 30, 6);
  char *s = td_screen("r1", "terminal too small", TD_WAIT_MS);
  assert_non_null(s);
  free(s);
  td_resize("r1", 200, 60);
  td_expect("r1", "shop/render.py", "functions_200x60_xterm_utf8");
  td_kill("r1");
}

/* The pane under Functions (30 lines and more) follows the selection: the row below's sparklines, and
 * none at 80x24. */
static void spark_pane(void **state) {
  (void)state;
  td_ready("sp", 200, 60, TD_XTERM_UTF8, "", NULL);
  td_keys("sp", "j");
  td_expect("sp", "\u2500\u2500 check_token \u2500\u2500", NULL);
  char *s = td_screen("sp", "calls per 24m", TD_WAIT_MS);
  assert_non_null(s);
  free(s);
  td_resize("sp", 80, 24);
  s = td_screen("sp", "row 2 of 15", TD_WAIT_MS);
  assert_non_null(s);
  assert_null(strstr(s, "calls per 24m"));
  free(s);
  td_kill("sp");
}

static int setup(void **state) { return td_setup(); }
static int teardown(void **state) {
  td_teardown();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(functions_matrix), cmocka_unit_test(flows_and_issues),
      cmocka_unit_test(colour_tiers), cmocka_unit_test(drill_and_back),   cmocka_unit_test(flow_to_hot_paths),   cmocka_unit_test(errors_view),   cmocka_unit_test(sort_filter_move),
      cmocka_unit_test(resize),           cmocka_unit_test(spark_pane),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
