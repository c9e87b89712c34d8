/* hud-tui's golden matrix under tmux against the real hud-server holding the query fixture: the Functions
 * and Issues views at 80x24 and 200x60, on xterm-256color and vt100, in a UTF-8 and the C locale (all
 * eight combinations each; goldens <view>_<W>x<H>_<xterm|vt100>_<utf8|c>.txt, some shared with
 * test_tui_screens). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tui_driver.h"

static void matrix(const char *view, const char *marker) {
  static const struct {
    int w, h;
  } sizes[] = {{80, 24}, {200, 60}};
  static const struct {
    const char *name, *env;
  } terms[] = {{"xterm", "TERM=xterm-256color"}, {"vt100", "TERM=vt100"}};
  static const struct {
    const char *name, *env;
  } locales[] = {{"utf8", "LANG=C.UTF-8 LC_ALL=C.UTF-8"}, {"c", "LANG=C LC_ALL=C"}};
  int k = 0;
  for (size_t s = 0; s < 2; s++)
    for (size_t t = 0; t < 2; t++)
      for (size_t l = 0; l < 2; l++) {
        char name[32], golden[96], env[128], args[64];
        snprintf(name, sizeof name, "m%d", k++);
        snprintf(golden, sizeof golden, "%s_%dx%d_%s_%s", view, sizes[s].w, sizes[s].h, terms[t].name, locales[l].name);
        snprintf(env, sizeof env, "%s %s", terms[t].env, locales[l].env);
        snprintf(args, sizeof args, "--view %s", view);
        td_start(name, sizes[s].w, sizes[s].h, env, args);
        td_expect(name, marker, golden);
        td_kill(name);
      }
}

static void functions_matrix(void **state) { matrix("functions", TD_READY); }
static void issues_matrix(void **state) { matrix("issues", TD_READY); }

static int setup(void **state) { return td_setup(); }
static int teardown(void **state) {
  td_teardown();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(functions_matrix), cmocka_unit_test(issues_matrix)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
