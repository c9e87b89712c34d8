/* The ClickHouse HTTP client (server/ch_http.c) against a real clickhouse-server started here
 * (tests/server/ch_fixture.c): DDL, an INSERT of JSON rows with 64-bit extremes and an unknown field,
 * answers with unquoted 64-bit integers, refused statements with ClickHouse's own message (curl alone
 * reports success on a 500), bad URLs, and a server that is gone. Skipped where clickhouse-server is
 * not installed (scripts/dev.sh installs it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ch_fixture.h"
#include "ch_http.h"
#include "hud/err.h"

static chfix g_fix;
static int g_up;

static int setup(void **state) {
  (void)state;
  if (!chfix_available()) return 0;
  g_up = chfix_start(&g_fix) == 0;
  return g_up ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  if (g_up) chfix_stop(&g_fix);
  return 0;
}

static srv_ch *client(const char *url) {
  srv_ch_options o = {.url = url, .timeout_ms = 20000};
  srv_ch *c = NULL;
  char err[256];
  if (srv_ch_new(&o, &c, err, sizeof err) != 0) fail_msg("%s", err);
  return c;
}

static void bad_urls(void **state) {
  (void)state;
  const char *bad[] = {"http://127.0.0.1:8123/hud", "clickhouse://127.0.0.1/hud", "clickhouse://127.0.0.1:81x3/hud",
                       "clickhouse://127.0.0.1:8123/", "clickhouse://127.0.0.1:8123/hud;DROP", "clickhouse://:8123/hud",
                       "clickhouse://127.0.0.1:8123/hud?cluster=", "clickhouse://127.0.0.1:8123/hud?shards=2",
                       "clickhouse://127.0.0.1:8123/hud?cluster=a;DROP", "clickhouse://127.0.0.1:8123/?cluster=hud",
                       NULL};
  for (int i = 0; bad[i]; i++) {
    srv_ch_options o = {.url = bad[i]};
    srv_ch *c = (srv_ch *)1;
    char err[256] = "";
    assert_int_equal(srv_ch_new(&o, &c, err, sizeof err), HUD_ECONFIG);
    assert_null(c);
    assert_non_null(strstr(err, "store: "));
    assert_non_null(strstr(err, bad[i]));
  }
  srv_ch_options none = {0};
  srv_ch *c;
  assert_int_equal(srv_ch_new(&none, &c, NULL, 0), HUD_ECONFIG);
  srv_ch *ok = client("clickhouse://127.0.0.1:8123/hud_2");
  assert_string_equal(srv_ch_database(ok), "hud_2");
  assert_null(srv_ch_cluster(ok));
  srv_ch_free(ok);
  ok = client("clickhouse://127.0.0.1:8123/hud_2?cluster=two_shards");
  assert_string_equal(srv_ch_database(ok), "hud_2");
  assert_string_equal(srv_ch_cluster(ok), "two_shards");
  srv_ch_free(ok);
}

static void round_trip(void **state) {
  (void)state;
  if (!g_up) skip();
  srv_ch *c = client(g_fix.url);
  char err[512] = "", *out = NULL;
  size_t len = 0;
  assert_int_equal(srv_ch_query(c, 1, "CREATE DATABASE IF NOT EXISTS hud_test", NULL, 0, NULL, NULL, err, sizeof err), 0);
  assert_int_equal(srv_ch_query(c, 0, "CREATE TABLE t (id UInt64, n Int64, name String) ENGINE = MergeTree ORDER BY id",
                                NULL, 0, NULL, NULL, err, sizeof err),
                   0);
  static const char rows[] = "{\"id\":18446744073709551615,\"n\":-9223372036854775808,\"name\":\"caf\\u00e9 \\u2192\","
                             "\"unknown\":[1,2]}\n{\"id\":1,\"n\":9223372036854775807,\"name\":\"\"}\n";
  int rc = srv_ch_query(c, 0, "INSERT INTO t FORMAT JSONEachRow", rows, sizeof rows - 1, NULL, NULL, err, sizeof err);
  if (rc != 0) fail_msg("insert: %s", err);
  rc = srv_ch_query(c, 0, "SELECT id, n, name FROM t ORDER BY n FORMAT JSONEachRow", NULL, 0, &out, &len, err, sizeof err);
  if (rc != 0) fail_msg("select: %s", err);
  assert_int_equal(strlen(out), len);
  /* 64-bit integers come back as numbers, exact: the settings every request carries. */
  assert_string_equal(out, "{\"id\":18446744073709551615,\"n\":-9223372036854775808,\"name\":\"café →\"}\n"
                           "{\"id\":1,\"n\":9223372036854775807,\"name\":\"\"}\n");
  free(out);
  srv_ch_free(c);
}

static void refused_statements(void **state) {
  (void)state;
  if (!g_up) skip();
  srv_ch *c = client(g_fix.url);
  char err[512] = "", *out = (char *)1;
  assert_int_equal(srv_ch_query(c, 0, "SELEC 1", NULL, 0, &out, NULL, err, sizeof err), HUD_ESTORE);
  assert_null(out);
  assert_non_null(strstr(err, "clickhouse: HTTP "));
  assert_non_null(strstr(err, "Syntax error"));
  err[0] = 0;
  static const char row[] = "{\"id\":1}\n";
  assert_int_equal(srv_ch_query(c, 0, "INSERT INTO missing FORMAT JSONEachRow", row, sizeof row - 1, NULL, NULL, err,
                                sizeof err),
                   HUD_ESTORE);
  assert_non_null(strstr(err, "missing"));
  assert_null(strchr(err, '\n')); /* one line, no server stack */
  srv_ch_free(c);
}

/* Last: stops the server. */
static void server_gone(void **state) {
  (void)state;
  if (!g_up) skip();
  srv_ch *c = client(g_fix.url);
  chfix_stop(&g_fix);
  g_up = 0;
  char err[512] = "";
  assert_int_equal(srv_ch_query(c, 0, "SELECT 1", NULL, 0, NULL, NULL, err, sizeof err), HUD_ECONNECT);
  assert_non_null(strstr(err, "clickhouse: "));
  srv_ch_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(bad_urls), cmocka_unit_test(round_trip),
                                     cmocka_unit_test(refused_statements), cmocka_unit_test(server_gone)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
