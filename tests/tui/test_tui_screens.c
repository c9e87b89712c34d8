/* hud-tui's screens under tmux against the real hud-server holding the query fixture's two versions of
 * "shop": golden screens across sizes (80x24, 200x60), terminals (xterm-256color, vt100, an unknown one) and
 * locales (UTF-8, C); keys; resize; backend down; the terminal restored on q, SIGINT, SIGTERM and SIGHUP. */
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

#define XTERM_UTF8 "TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8"
#define VT100_C "TERM=vt100 LANG=C LC_ALL=C"
#define READY "row 1 of"
#define WAIT_MS 15000

/* Starts NAME, waits for the first full screen and checks it against golden GOLDEN (NULL: no check). */
static void start_ready(const char *name, int w, int h, const char *env, const char *args, const char *golden) {
  td_start(name, w, h, env, args);
  char *s = td_screen(name, READY, WAIT_MS);
  assert_non_null(s);
  if (golden) assert_true(td_golden(golden, s));
  free(s);
}

static void expect(const char *name, const char *marker, const char *golden) {
  char *s = td_screen(name, marker, WAIT_MS);
  assert_non_null(s);
  if (golden) assert_true(td_golden(golden, s));
  free(s);
}

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
  start_ready("f1", 80, 24, XTERM_UTF8, "", "functions_80x24_xterm_utf8");
  start_ready("f2", 200, 60, XTERM_UTF8, "", "functions_200x60_xterm_utf8");
  start_ready("f3", 80, 24, VT100_C, "", "functions_80x24_vt100_c");
  start_ready("f4", 200, 60, "TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 NO_COLOR=1", "--no-unicode",
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

static void flows_and_issues(void **state) {
  start_ready("v1", 80, 24, XTERM_UTF8, "", NULL);
  td_keys("v1", "2");
  expect("v1", "2xx 3894 5xx 106", "flows_80x24_xterm_utf8");
  td_keys("v1", "3");
  expect("v1", "charge (100%)", "issues_80x24_xterm_utf8");
  td_kill("v1");
  start_ready("v2", 200, 60, VT100_C, "--view issues", "issues_200x60_vt100_c");
  td_keys("v2", "Tab");
  expect("v2", "No function selected", NULL);
  td_keys("v2", "Tab");
  expect("v2", "shop/render.py", NULL);
  td_keys("v2", "Tab");
  expect("v2", "(queue)", "flows_200x60_vt100_c");
  td_kill("v2");
}

/* Issues -> Enter (root cause) -> Enter (its caller) -> Backspace -> Esc: back where we started. */
static void drill_and_back(void **state) {
  start_ready("d1", 80, 24, XTERM_UTF8, "--view issues", NULL);
  td_keys("d1", "j Enter");
  expect("d1", "fetch_order  shop/db.py:21-26", "detail_fetch_order_80x24_xterm_utf8");
  td_keys("d1", "Enter");
  expect("d1", "get_order  shop/orders.py:1-6", "detail_get_order_80x24_xterm_utf8");
  td_keys("d1", "BSpace");
  expect("d1", "fetch_order  shop/db.py:21-26", NULL);
  td_keys("d1", "Escape");
  expect("d1", "row 2 of 6", NULL);
  td_kill("d1");
}

static void sort_filter_move(void **state) {
  start_ready("s1", 80, 24, XTERM_UTF8, "", NULL);
  td_keys("s1", "'>' '>'");
  expect("s1", "sort p95", "functions_sort_p95_80x24");
  td_keys("s1", "'<'");
  expect("s1", "sort p50", NULL);
  td_keys("s1", "s s s s s");
  expect("s1", "sort change", NULL);
  td_keys("s1", "G");
  expect("s1", "row 15 of 15", NULL);
  td_keys("s1", "g");
  expect("s1", "row 1 of 15", NULL);
  td_keys("s1", "NPage");
  expect("s1", "row 15 of 15", NULL);
  td_keys("s1", "PPage k j j");
  expect("s1", "row 3 of 15", NULL);
  td_keys("s1", "/ d b Enter");
  expect("s1", "row 1 of 3 matching 'db'", "functions_filter_db_80x24");
  td_keys("s1", "Escape");
  expect("s1", "row 1 of 15", NULL);
  td_keys("s1", "'?'");
  expect("s1", "Keys (Functions view)", "help_functions_80x24_xterm_utf8");
  td_keys("s1", "x P");
  expect("s1", "PAUSED", NULL);
  td_kill("s1");
}

static void resize(void **state) {
  start_ready("r1", 200, 60, XTERM_UTF8, "", NULL);
  td_resize("r1", 80, 24);
  expect("r1", "?:help q:quit Enter:detail", "functions_80x24_xterm_utf8");
  td_resize("r1", 30, 6);
  char *s = td_screen("r1", "terminal too small", WAIT_MS);
  assert_non_null(s);
  free(s);
  td_resize("r1", 200, 60);
  expect("r1", "shop/render.py", "functions_200x60_xterm_utf8");
  td_kill("r1");
}

static void unknown_term(void **state) {
  td_start("u1", 80, 24, "TERM=no-such-terminal-hud LANG=C.UTF-8 LC_ALL=C.UTF-8", "");
  expect("u1", "unknown TERM 'no-such-terminal-hud': using vt100", NULL);
  char *s = td_screen("u1", "fetch_order", WAIT_MS);
  assert_non_null(s);
  free(s);
  td_kill("u1");
}

/* Runs hud-tui in a shell that saves `stty -a` before and after; returns the session's directory. */
static void start_wrapped(const char *name, const char *url_args, char dir[512]) {
  snprintf(dir, 512, "%s/%s", td_tmpdir(), name);
  mkdir(dir, 0700);
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "sh -c \"trap : INT; stty -a > %s/before; env " XTERM_UTF8 " %s %s --service shop --env prod; "
           "echo \\$? > %s/rc; stty -a > %s/after\"",
           dir, td_bin(), url_args, dir, dir);
  td_start_cmd(name, 80, 24, cmd);
}

static char *slurp(const char *dir, const char *file) {
  char path[600];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  for (int i = 0; i < 200; i++) { /* the shell writes it right after hud-tui ends */
    FILE *f = fopen(path, "r");
    if (f) {
      char *buf = calloc(1, 65536);
      size_t n = fread(buf, 1, 65535, f);
      fclose(f);
      if (n > 0 && buf[n - 1] == '\n') return buf;
      free(buf);
    }
    usleep(50000);
  }
  return NULL;
}

/* The terminal's modes after hud-tui ended equal the ones before; RC is its exit status. */
static void assert_restored(const char *dir, int rc) {
  char *after = slurp(dir, "after"), *before = slurp(dir, "before"), *got = slurp(dir, "rc");
  assert_non_null(after);
  assert_non_null(before);
  assert_string_equal(before, after);
  assert_non_null(got);
  assert_int_equal(atoi(got), rc);
  free(after);
  free(before);
  free(got);
}

static void restore_on_exit_paths(void **state) {
  char url[512], dir[512];
  snprintf(url, sizeof url, "--url http://127.0.0.1:%d --key %s", td_fixture()->h.port, td_fixture()->key);
  struct {
    const char *name;
    int sig; /* 0: key q; SIGINT: key C-c */
  } cases[] = {{"x_q", 0}, {"x_hup", SIGHUP}, {"x_int", SIGINT}, {"x_term", SIGTERM}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    start_wrapped(cases[i].name, url, dir);
    char *s = td_screen(cases[i].name, READY, WAIT_MS);
    assert_non_null(s);
    free(s);
    if (cases[i].sig == 0) td_keys(cases[i].name, "q");
    else if (cases[i].sig == SIGINT) td_keys(cases[i].name, "C-c");
    else {
      int pid = td_pane_pid(cases[i].name, true);
      assert_true(pid > 0);
      kill(pid, cases[i].sig);
    }
    assert_restored(dir, cases[i].sig ? 128 + cases[i].sig : 0);
    td_kill(cases[i].name);
  }
}

static void backend_down(void **state) {
  char dir[512];
  start_wrapped("down", "--url http://127.0.0.1:9 --connect-timeout-ms 2000", dir);
  expect("down", "backend unreachable at http://127.0.0.1:9", "backend_down_80x24_xterm_utf8");
  td_keys("down", "q");
  assert_restored(dir, 0);
  td_kill("down");
}

/* The backend stops answering after the first screen: the data stays, with its age, and comes back. */
static void stale_data_kept(void **state) {
  start_ready("st", 80, 24, XTERM_UTF8, "--interval 1 --timeout-ms 1000", NULL);
  pid_t srv = td_fixture()->h.pid;
  kill(srv, SIGSTOP);
  char *s = td_screen("st", "showing the data from", WAIT_MS);
  kill(srv, SIGCONT);
  assert_non_null(s);
  assert_non_null(strstr(s, "timed out"));
  assert_non_null(strstr(s, "fetch_order                 2.78  2.89ms  8.95ms  14.4ms"));
  free(s);
  s = td_screen("st", READY, WAIT_MS); /* the status line is back to normal after a good fetch */
  assert_non_null(s);
  assert_null(strstr(s, "retry in"));
  free(s);
  td_kill("st");
}

static int setup(void **state) { return td_setup(); }
static int teardown(void **state) {
  td_teardown();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(functions_matrix), cmocka_unit_test(flows_and_issues),
      cmocka_unit_test(drill_and_back),   cmocka_unit_test(sort_filter_move),
      cmocka_unit_test(resize),           cmocka_unit_test(unknown_term),
      cmocka_unit_test(restore_on_exit_paths), cmocka_unit_test(backend_down),
      cmocka_unit_test(stale_data_kept),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
