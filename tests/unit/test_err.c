#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "hud/err.h"

static void every_code_has_a_name_and_message(void **state) {
#define CHECK_(name, val, msg)                                  \
  assert_string_equal(hud_err_name(HUD_##name), #name);         \
  assert_string_equal(hud_strerror(HUD_##name), msg);           \
  assert_true(HUD_##name < 0);
  HUD_ERRNO_MAP(CHECK_)
#undef CHECK_
  assert_string_equal(hud_err_name(HUD_OK), "OK");
  assert_string_equal(hud_strerror(12345), "unknown error");
  assert_string_equal(hud_err_name(-9999), "EUNKNOWN");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_code_has_a_name_and_message),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
