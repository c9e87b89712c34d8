/* hud-tui's actions under tmux against the real hud-server: `e` runs $EDITOR (a script that writes its argv)
 * on the file resolved under --root and the screen comes back; `y` puts file:line in tmux's buffer (OSC 52);
 * OSC 8 links in the detail view (raw output through pipe-pane) without disturbing the screen; the view and
 * sorts remembered across runs; the mouse (SGR reports typed into the pane); `v`; the pickers. */
#define _GNU_SOURCE
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tui_driver.h"

static char g_src[1024], g_db[PATH_MAX], g_editor[1024], g_argv[1024];

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* SRC/repo/shop/db.py (found by the bounded search), a decoy under .git (skipped), and the editor script. */
static void make_tree(void) {
  const char *t = td_tmpdir();
  td_sh("mkdir -p %s/src/repo/shop %s/src/.git/shop %s/empty", t, t, t);
  snprintf(g_src, sizeof g_src, "%s/src", t);
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/src/repo/shop/db.py", t);
  write_file(p, "import sqlite3\n\ndef fetch_order(order_id):\n    return None\n");
  assert_non_null(realpath(p, g_db));
  snprintf(p, sizeof p, "%s/src/.git/shop/db.py", t);
  write_file(p, "decoy\n");
  snprintf(g_argv, sizeof g_argv, "%s/argv", t);
  snprintf(g_editor, sizeof g_editor, "%s/ed.sh", t);
  char script[2048];
  /* Writes its arguments, then scribbles over the screen as an editor would. */
  snprintf(script, sizeof script,
           "#!/bin/sh\nprintf '%%s\\n' \"$@\" > %s.tmp\nmv %s.tmp %s\nprintf '\\033[2J\\033[HEDITOR WAS HERE\\n'\n"
           "sleep 0.2\n",
           g_argv, g_argv, g_argv);
  write_file(g_editor, script);
  chmod(g_editor, 0755);
}

/* The editor's argv once written (NULL after 5 s), the file removed. */
static char *take_argv(void) {
  for (int i = 0; i < 100; i++) {
    FILE *f = fopen(g_argv, "r");
    if (f) {
      char *buf = calloc(1, 4096);
      size_t n = fread(buf, 1, 4095, f);
      fclose(f);
      buf[n] = '\0';
      unlink(g_argv);
      return buf;
    }
    usleep(50000);
  }
  return NULL;
}

static void start_with_root(const char *name, const char *env, const char *root) {
  char e[2048], args[PATH_MAX + 64];
  snprintf(e, sizeof e, "%s EDITOR=%s VISUAL=", env, g_editor);
  snprintf(args, sizeof args, "--root %s", root);
  td_start(name, 80, 24, e, args);
  char *s = td_screen(name, TD_READY, TD_WAIT_MS);
  assert_non_null(s);
  free(s);
}

static void editor(void **state) {
  start_with_root("e1", TD_XTERM_UTF8, g_src);
  /* Functions: the summary's first line. */
  td_keys("e1", "/ f e t c h _ o Enter e");
  char *s = td_screen("e1", "edited ", TD_WAIT_MS);
  assert_non_null(s);
  assert_non_null(strstr(s, "function ")); /* the table is back */
  assert_non_null(strstr(s, "fetch_order"));
  assert_null(strstr(s, "EDITOR WAS HERE"));
  free(s);
  char *argv = take_argv(), want[PATH_MAX + 32];
  snprintf(want, sizeof want, "+21\n%s\n", g_db);
  assert_non_null(argv);
  assert_string_equal(argv, want);
  free(argv);
  /* Issues: the root cause has no line; the editor opens at its `def`. */
  td_keys("e1", "Escape 3");
  td_expect("e1", "first seen issue", NULL);
  td_keys("e1", "e"); /* row 1: fetch_order's issue (most recently confirmed, durations first) */
  s = td_screen("e1", "edited ", TD_WAIT_MS);
  assert_non_null(s);
  assert_non_null(strstr(s, "first seen issue"));
  free(s);
  argv = take_argv();
  snprintf(want, sizeof want, "+3\n%s\n", g_db);
  assert_non_null(argv);
  assert_string_equal(argv, want);
  free(argv);
  td_kill("e1");
  /* Not under the root: the status line says so and nothing runs. */
  char empty[PATH_MAX];
  snprintf(empty, sizeof empty, "%s/empty", td_tmpdir());
  start_with_root("e2", TD_XTERM_UTF8, empty);
  td_keys("e2", "/ f e t c h _ o Enter e");
  s = td_screen("e2", "shop/db.py not found under", TD_WAIT_MS);
  assert_non_null(s);
  free(s);
  assert_int_equal(access(g_argv, F_OK), -1);
  td_kill("e2");
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  char *buf = calloc(1, 1 << 20);
  size_t n = fread(buf, 1, (1 << 20) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

/* Detail of fetch_order with the pane's raw output kept in DIR/NAME.raw. */
static char *detail_raw(const char *name, const char *env, const char *extra) {
  char e[2048], args[PATH_MAX + 64], raw[PATH_MAX];
  snprintf(e, sizeof e, "%s", env);
  snprintf(args, sizeof args, "--root %s %s", g_src, extra);
  snprintf(raw, sizeof raw, "%s/%s.raw", td_tmpdir(), name);
  td_start(name, 80, 24, e, args);
  td_sh("tmux -L %s pipe-pane -o -t %s 'cat >> %s'", td_sock(), name, raw);
  char *s = td_screen(name, TD_READY, TD_WAIT_MS);
  assert_non_null(s);
  free(s);
  td_keys(name, "/ f e t c h _ o Enter Enter");
  return strdup(raw);
}

/* True when an SGR sequence of S (ESC [ p;p;... m) has parameter 7 (reverse). */
static bool sgr_reverse(const char *s) {
  for (const char *p = strstr(s, "\033["); p; p = strstr(p + 1, "\033[")) {
    const char *q = p + 2;
    while (*q >= '0' && *q <= '9') {
      long v = strtol(q, (char **)&q, 10);
      if (*q != ';' && *q != 'm') break;
      if (v == 7) return true;
      if (*q == 'm') break;
      q++;
    }
  }
  return false;
}

static void copy_and_links(void **state) {
  char *raw = detail_raw("y1", TD_XTERM_UTF8, "");
  /* Links written beside curses leave its screen as it was: the same as without them. */
  sleep(2); /* the header's age redrawn over them twice */
  td_expect("y1", "fetch_order  shop/db.py:21-26", "detail_fetch_order_80x24_xterm_utf8");
  char *out = slurp(raw), want[PATH_MAX * 2];
  assert_non_null(out);
  snprintf(want, sizeof want, "%s\033\\shop/db.py:21-26\033]8;;\033\\", g_db);
  assert_non_null(strstr(out, "\033]8;;file://"));
  assert_non_null(strstr(out, want));
  free(out);
  td_keys("y1", "y");
  char *s = td_screen("y1", "copied ", TD_WAIT_MS);
  assert_non_null(s);
  free(s);
  char *buf = td_sh_out(NULL, "tmux -L %s show-buffer", td_sock());
  snprintf(want, sizeof want, "%s:21", g_db);
  assert_non_null(buf);
  assert_string_equal(buf, want);
  free(buf);
  /* Curses moves the cursor relative to where it believes it is: a cursor left elsewhere by the links
   * would put these updates (selection, status line) on the wrong lines. */
  td_keys("y1", "j");
  td_expect("y1", "row 2 of 2", "detail_fetch_order_caller_80x24_xterm_utf8");
  /* The selected caller's link is written reversed; the attributes after it must be curses' again: the
   * title bar, redrawn each second (its age), never turns reversed. */
  sleep(2);
  char *sgr = td_screen_sgr("y1");
  assert_non_null(sgr);
  char *nl = strchr(sgr, '\n');
  if (nl) *nl = '\0';
  assert_false(sgr_reverse(sgr));
  free(sgr);
  td_kill("y1");
  free(raw);
  /* No links on a vt100, nor with --no-links. */
  const char *env[] = {TD_VT100_C, TD_XTERM_UTF8};
  const char *extra[] = {"", "--no-links"};
  for (int i = 0; i < 2; i++) {
    char name[8];
    snprintf(name, sizeof name, "y%d", i + 2);
    raw = detail_raw(name, env[i], extra[i]);
    s = td_screen(name, "fetch_order  shop/db.py:21-26", TD_WAIT_MS);
    assert_non_null(s);
    free(s);
    out = slurp(raw);
    assert_non_null(out);
    assert_null(strstr(out, "\033]8;"));
    free(out);
    free(raw);
    td_kill(name);
  }
}

/* PATH's text once it holds WANT (5 s at most), else NULL. */
static char *wait_file(const char *path, const char *want) {
  for (int i = 0; i < 100; i++) {
    char *f = slurp(path);
    if (f && strstr(f, want)) return f;
    free(f);
    usleep(50000);
  }
  return NULL;
}

static void remembered(void **state) {
  td_ready("st1", 80, 24, TD_XTERM_UTF8, "", NULL);
  td_keys("st1", "2 s");
  td_expect("st1", "sort p95", NULL);
  td_keys("st1", "1 '<'");
  td_expect("st1", "sort change", NULL);
  td_keys("st1", "2");
  td_expect("st1", "sort p95", NULL);
  td_keys("st1", "q");
  char st1[PATH_MAX];
  snprintf(st1, sizeof st1, "%s/state-st1/hud/tui.state", td_tmpdir());
  char *f = wait_file(st1, "view = flows\n"); /* written on the way out */
  assert_non_null(f);
  free(f);
  td_kill("st1");
  td_start("st1", 80, 24, TD_XTERM_UTF8, "");
  td_expect("st1", "sort p95", NULL); /* Flows, sorted by p95 */
  char *s = td_screen("st1", "2xx", TD_WAIT_MS);
  assert_non_null(s);
  free(s);
  td_keys("st1", "1");
  td_expect("st1", "sort change", NULL); /* Functions kept its own sort */
  td_kill("st1");
  /* Flags win over the file. */
  td_start("st1", 80, 24, TD_XTERM_UTF8, "--view issues");
  td_expect("st1", "first seen issue", NULL); /* the Issues table */
  td_kill("st1");
  /* A corrupt file is ignored. */
  char dir[PATH_MAX], path[PATH_MAX + 32];
  snprintf(dir, sizeof dir, "%s/state-st2/hud", td_tmpdir());
  td_sh("mkdir -p %s && head -c 3000 /dev/urandom > %s/tui.state && printf 'view = \\nview=../x\\nsort.functions = ' >> "
        "%s/tui.state",
        dir, dir, dir);
  td_ready("st2", 80, 24, TD_XTERM_UTF8, "", NULL);
  td_expect("st2", "sort calls", NULL);
  td_keys("st2", "q");
  snprintf(path, sizeof path, "%s/tui.state", dir);
  f = wait_file(path, "view = functions\n"); /* and replaced on exit by a good one */
  assert_non_null(f);
  assert_non_null(strstr(f, "view = functions\n"));
  free(f);
  td_kill("st2");
}

static void mouse(void **state) {
  td_ready("m1", 80, 24, TD_XTERM_UTF8, "", NULL);
  td_bytes("m1", "\\033[<0;5;6M\\033[<0;5;6m"); /* press + release on the third row */
  td_expect("m1", "row 3 of 15", NULL);
  td_bytes("m1", "\\033[<0;5;6M\\033[<0;5;6m"); /* again: drill in */
  td_expect("m1", "compute_price  shop/", NULL);
  td_keys("m1", "Escape");
  td_expect("m1", "row 3 of 15", NULL);
  td_bytes("m1", "\\033[<65;5;6M"); /* wheel down */
  td_expect("m1", "row 6 of 15", NULL);
  td_bytes("m1", "\\033[<0;25;2M\\033[<0;25;2m"); /* the "3 Issues" tab */
  td_expect("m1", "first seen issue", NULL);
  td_kill("m1");
}

static void compare(void **state) {
  td_ready("v1", 80, 24, TD_XTERM_UTF8, "", NULL);
  td_keys("v1", "v");
  td_expect("v1", "1.1.0 vs 1.0.0 \u00b7 last 24h", NULL);
  td_expect("v1", "sort change", "functions_compare_80x24_xterm_utf8");
  td_keys("v1", "Enter");
  td_expect("v1", "1.0.0      1.1.0     change", "detail_compare_80x24_xterm_utf8");
  td_keys("v1", "v");
  td_expect("v1", "vs prev", NULL);
  td_keys("v1", "1");
  td_expect("v1", "sort calls", NULL);
  td_kill("v1");
}

static void pickers(void **state) {
  td_ready("k1", 80, 24, TD_XTERM_UTF8, "", NULL);
  td_keys("k1", "w");
  td_expect("k1", "Time window", "picker_window_80x24_xterm_utf8");
  /* 7d: the fixture's rows are all inside it, whatever the time of day (1h held some or none). */
  td_keys("k1", "Down Enter");
  td_expect("k1", "env prod \u00b7 last 7d", NULL);
  td_keys("k1", "V");
  td_expect("k1", "1.0.0", "picker_version_80x24_xterm_utf8");
  td_keys("k1", "0 . 0 Enter");
  td_expect("k1", "env prod \u00b7 version 1.0.0 \u00b7 last 7d", NULL);
  td_keys("k1", "E");
  td_expect("k1", "the key's environment", NULL);
  td_keys("k1", "Escape S");
  td_expect("k1", "* shop", NULL);
  td_keys("k1", "Escape");
  char *s = td_screen("k1", "version 1.0.0", TD_WAIT_MS);
  assert_non_null(s);
  assert_null(strstr(s, "Service"));
  free(s);
  td_kill("k1");
}

static int setup(void **state) {
  if (td_setup() < 0) return -1;
  make_tree();
  return 0;
}
static int teardown(void **state) {
  td_teardown();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(editor),  cmocka_unit_test(copy_and_links), cmocka_unit_test(remembered),
      cmocka_unit_test(mouse),   cmocka_unit_test(compare),        cmocka_unit_test(pickers),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
