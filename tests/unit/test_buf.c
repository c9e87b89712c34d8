/* hud/buf.h: text grows across many puts, stays NUL-terminated, and take hands it over and resets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hud/buf.h"

static void grows_and_takes(void **state) {
  (void)state;
  hud_buf b = {0};
  for (int i = 0; i < 1000; i++) hud_buf_puts(&b, "ab");
  hud_buf_putc(&b, '!');
  hud_buf_put(&b, "xyz", 0);
  assert_false(b.oom);
  assert_int_equal(b.n, 2001);
  assert_int_equal(strlen(b.p), 2001);
  size_t len = 0;
  char *t = hud_buf_take(&b, &len);
  assert_int_equal(len, 2001);
  assert_memory_equal(t, "abab", 4);
  assert_int_equal(t[2000], '!');
  assert_null(b.p);
  assert_int_equal(b.n, 0);
  free(t);
}

static void empty_take_is_an_empty_string(void **state) {
  (void)state;
  hud_buf b = {0};
  size_t len = 7;
  char *t = hud_buf_take(&b, &len);
  assert_non_null(t);
  assert_string_equal(t, "");
  assert_int_equal(len, 0);
  free(t);
  hud_buf_puts(&b, "kept until freed");
  hud_buf_free(&b);
  assert_null(b.p);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(grows_and_takes), cmocka_unit_test(empty_take_is_an_empty_string)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
