/* The function's source in Detail under tmux against the real hud-server: fetch_order's lines (21-26 by the
 * server) read from ROOT/shop/db.py, with line numbers, tabs expanded, a long line cut with `~`, a byte that is
 * not UTF-8 as `?`; highlighted (capture-pane -e: the keyword `def` carries an attribute, colour on xterm,
 * bold on vt100); the selection scrolls into it and `e` opens the selected source line. */
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

static char g_root[1024], g_db[PATH_MAX], g_editor[1024], g_argv[1024];

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* ROOT/shop/db.py: twenty lines before fetch_order (lines 21-26), four after. */
static void make_tree(void) {
  const char *t = td_tmpdir();
  td_sh("mkdir -p %s/root/shop", t);
  snprintf(g_root, sizeof g_root, "%s/root", t);
  char p[PATH_MAX], text[4096];
  size_t n = 0;
  n += (size_t)snprintf(text + n, sizeof text - n, "import sqlite3\n");
  for (int i = 2; i <= 20; i++) n += (size_t)snprintf(text + n, sizeof text - n, "# line %d\n", i);
  snprintf(text + n, sizeof text - n,
           "def fetch_order(order_id):\n"
           "    \"\"\"Load one order (caf\xc3\xa9).\"\"\"\n"
           "\tquery = \"SELECT * FROM orders WHERE id = ?\"\n"
           "    rows = db.execute(query, (order_id, 42))  # a comment long enough to pass the eightieth column\n"
           "    name = \"caf\xe9\"\n"
           "    return rows[0] if rows else None\n"
           "\n"
           "def after():\n"
           "    pass\n");
  snprintf(p, sizeof p, "%s/shop/db.py", g_root);
  write_file(p, text);
  assert_non_null(realpath(p, g_db));
  snprintf(g_argv, sizeof g_argv, "%s/argv", t);
  snprintf(g_editor, sizeof g_editor, "%s/ed.sh", t);
  char script[4096];
  snprintf(script, sizeof script, "#!/bin/sh\nprintf '%%s\\n' \"$@\" > %s.tmp\nmv %s.tmp %s\n", g_argv, g_argv, g_argv);
  write_file(g_editor, script);
  chmod(g_editor, 0755);
}

static void open_detail(const char *name, int w, int h, const char *env) {
  char e[4096], args[PATH_MAX + 64];
  snprintf(e, sizeof e, "%s EDITOR=%s VISUAL=", env, g_editor);
  snprintf(args, sizeof args, "--root %s", g_root);
  td_start(name, w, h, e, args);
  char *s = td_screen(name, TD_READY, TD_WAIT_MS);
  assert_non_null(s);
  free(s);
  td_keys(name, "/ f e t c h _ o Enter Enter");
  s = td_screen(name, "fetch_order  shop/db.py:21-26", TD_WAIT_MS); /* keys before the data would be lost */
  assert_non_null(s);
  free(s);
}

/* The line of S (capture-pane -e) holding TEXT has an SGR sequence right before WORD. */
static bool word_has_sgr(const char *s, const char *text, const char *word) {
  const char *l = strstr(s, text);
  if (!l) return false;
  while (l > s && l[-1] != '\n') l--;
  const char *end = strchr(l, '\n'), *w = strstr(l, word);
  if (!w || (end && w > end) || w - l < 3 || w[-1] != 'm') return false;
  for (const char *p = w - 1; p > l; p--)
    if (p[-1] == '\033' && p[0] == '[') return true;
  return false;
}

static void source_80x24(void **state) {
  (void)state;
  open_detail("s1", 80, 24, TD_XTERM_UTF8);
  td_keys("s1", "G");
  td_expect("s1", "return rows", "detail_source_80x24_xterm_utf8");
  char *s = td_screen_sgr("s1");
  assert_non_null(s);
  assert_true(word_has_sgr(s, "21 ", "def"));
  assert_true(word_has_sgr(s, "22 ", "\"\"\"Load"));
  free(s);
  /* `e` on the selected source line (the last, 26) opens that line. */
  td_keys("s1", "k e");
  char *argv = NULL;
  for (int i = 0; i < 100 && !argv; i++) {
    FILE *f = fopen(g_argv, "r");
    if (f) {
      argv = calloc(1, 4096);
      assert_non_null(argv);
      if (fread(argv, 1, 4095, f) == 0) argv[0] = '\0';
      fclose(f);
    } else {
      usleep(50000);
    }
  }
  assert_non_null(argv);
  char want[PATH_MAX + 16];
  snprintf(want, sizeof want, "+25\n%s\n", g_db);
  assert_string_equal(argv, want);
  free(argv);
  td_kill("s1");
}

static void source_200x60_vt100(void **state) {
  (void)state;
  open_detail("s2", 200, 60, TD_VT100_C);
  td_expect("s2", "return rows", "detail_source_200x60_vt100_c");
  char *s = td_screen_sgr("s2");
  assert_non_null(s);
  assert_true(word_has_sgr(s, "21 ", "def")); /* bold without colour */
  free(s);
  td_kill("s2");
}

static int setup(void **state) {
  (void)state;
  if (td_setup() < 0) return -1;
  make_tree();
  return 0;
}
static int teardown(void **state) {
  (void)state;
  td_teardown();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(source_80x24), cmocka_unit_test(source_200x60_vt100)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
