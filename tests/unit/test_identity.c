/* Identity vectors computed independently with Python's uuid and hashlib. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "hud/err.h"
#include "hud/identity.h"

static void function_id_matches_python_uuid5(void **state) {
  char id[HUD_UUID_STRLEN + 1];
  assert_int_equal(hud_function_id("shop/orders.py", "Cart.add.<locals>.check", id), 0);
  assert_string_equal(id, "6952473c-2a18-5ca2-8ffb-4532d214af71");
}

static void uuid5_rejects_bad_namespace(void **state) {
  char id[HUD_UUID_STRLEN + 1];
  assert_int_equal(hud_uuid5("not-a-uuid", "x", 1, id), HUD_EINVAL);
  assert_int_equal(hud_uuid5("09c84c8d-8691-5743-8311-698989d60e1", "x", 1, id), HUD_EINVAL);
  assert_int_equal(hud_uuid5("09c84c8d-8691-5743-8311-698989d60e14", "x", 1, id), 0);
  /* RFC 4122 appendix-style check: uuid5(NAMESPACE_DNS, "python.org"). */
  assert_int_equal(hud_uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org", 10, id), 0);
  assert_string_equal(id, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
}

static void source_hash_normalises_trailing_space_and_crlf(void **state) {
  const char src[] = "x=1\n@dec\ndef f(a):  \r\n\treturn a \n\ny=2\n";
  char h[HUD_SHA1_HEXLEN + 1];
  assert_int_equal(hud_source_hash(src, sizeof src - 1, 2, 4, h), 0);
  assert_string_equal(h, "4d9b471347eac9196e070ad9c025ff638d49bd41");
  /* The same function with LF endings and no trailing blanks hashes the same. */
  const char clean[] = "x=1\n@dec\ndef f(a):\n\treturn a\n\ny=2\n";
  char h2[HUD_SHA1_HEXLEN + 1];
  assert_int_equal(hud_source_hash(clean, sizeof clean - 1, 2, 4, h2), 0);
  assert_string_equal(h, h2);
}

static void source_hash_range_checks(void **state) {
  const char src[] = "a\nb\nc\n";
  char h[HUD_SHA1_HEXLEN + 1];
  assert_int_equal(hud_source_hash(src, sizeof src - 1, 3, 3, h), 0);
  assert_int_equal(hud_source_hash(src, sizeof src - 1, 3, 4, h), HUD_ERANGE);
  assert_int_equal(hud_source_hash(src, sizeof src - 1, 4, 4, h), HUD_ERANGE);
  assert_int_equal(hud_source_hash(src, sizeof src - 1, 0, 1, h), HUD_ERANGE);
  assert_int_equal(hud_source_hash(src, sizeof src - 1, 2, 1, h), HUD_ERANGE);
  /* No final newline: the last line still counts. */
  assert_int_equal(hud_source_hash("a\nb", 3, 2, 2, h), 0);
  char h2[HUD_SHA1_HEXLEN + 1];
  assert_int_equal(hud_source_hash("a\nb\n", 4, 2, 2, h2), 0);
  assert_string_equal(h, h2);
}

static void sha1_hex_known_vector(void **state) {
  char h[HUD_SHA1_HEXLEN + 1];
  hud_sha1_hex("abc", 3, h);
  assert_string_equal(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(function_id_matches_python_uuid5),
      cmocka_unit_test(uuid5_rejects_bad_namespace),
      cmocka_unit_test(source_hash_normalises_trailing_space_and_crlf),
      cmocka_unit_test(source_hash_range_checks),
      cmocka_unit_test(sha1_hex_known_vector),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
