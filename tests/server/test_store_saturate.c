/* The store in-process, where the clock can move: rollup of minute rows at the int64 limit into
 * hourly rows (the SQL rollup: hud_sum and the saturating conflict update), a late batch into those
 * hourly rows, and the hourly pre-aggregates over them. Counters stay integers at INT64_MAX. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "batchgen.h"
#include "harness.h"
#include "hud/err.h"
#include "store.h"
#include "store_hours.h"

static long long q_int(srv_store *st, const char *sql) {
  sqlite3 *db;
  assert_int_equal(srv_store_sqlite_reader(st, &db), 0);
  sqlite3_stmt *q;
  long long v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
  if (sqlite3_step(q) == SQLITE_ROW) v = sqlite3_column_int64(q, 0);
  else fail_msg("%s: %s", sql, sqlite3_errmsg(db));
  sqlite3_finalize(q);
  srv_store_sqlite_reader_release(st, db);
  return v;
}

/* A generated batch whose invocations all sit at the int64 limit. */
static void poisoned(hud_arena *a, uint64_t seed, int64_t ts, hud_batch *b) {
  batchgen_opts bo = {.seed = seed, .n_invocations = 40, .timestamp = ts * 1000000000LL, .with_sketches = -1};
  assert_int_equal(batchgen_make(&bo, a, b), 0);
  for (size_t k = 0; k < b->n_invocations; k++) {
    hud_invocation *v = &b->invocations[k];
    v->count = v->sampled_count = v->sum_duration = v->self_duration = INT64_MAX;
    v->sum_squared_duration = 1e308;
  }
}

static void test_rollup_saturates(void **state) {
  (void)state;
  srvh h;
  assert_int_equal(srvh_tmpdir(&h), 0);
  srv_store *st;
  srv_store_options o = {.path = h.db, .rollup_after_s = 3600, .retention_s = 0};
  assert_int_equal(srv_store_open(&o, &st), 0);
  int64_t now = 1700000000;
  now -= now % 3600;
  hud_arena *a = hud_arena_new();
  srv_ingest_result r;
  for (int i = 0; i < 3; i++) { /* three minutes of one hour */
    hud_batch b;
    poisoned(a, 20 + (uint64_t)i, now + 60 * i, &b);
    assert_int_equal(srv_store_ingest(st, "prod", &b, now + 60 * i + 5, &r), 0);
  }
  assert_int_equal(q_int(st, "SELECT COUNT(DISTINCT slice) FROM fn_slices WHERE width = 60"), 3);
  /* The hourly pre-aggregates of those minutes (hud_sum over saturated rows), built by maintenance
   * once the hour has ended (no rollup yet: nothing older than rollup_after). */
  srv_maintain_result mr;
  assert_int_equal(srv_store_maintain(st, now + 3600 + 60, &mr), 0);
  assert_int_equal(mr.rolled_up, 0);
  assert_true(q_int(st, "SELECT COUNT(*) FROM fn_hours") > 0);
  assert_int_equal(q_int(st, "SELECT MAX(count) FROM fn_hours"), INT64_MAX);

  assert_int_equal(srv_store_maintain(st, now + 2 * 3600 + 60, &mr), 0);
  assert_true(mr.rolled_up > 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM fn_slices WHERE width = 60"), 0);
  /* A late batch adds to the hourly rows (the upsert). */
  hud_batch late;
  poisoned(a, 99, now + 120, &late);
  assert_int_equal(srv_store_ingest(st, "prod", &late, now + 3 * 3600, &r), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM fn_slices WHERE width = 60"), 0);
  static const char *const tables[] = {"calls", "fn_slices"};
  for (size_t t = 0; t < 2; t++) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM %s WHERE typeof(count) <> 'integer' OR typeof(sum_duration) <> 'integer'"
             " OR typeof(self_duration) <> 'integer' OR count < 0 OR sum_duration < 0 OR sampled_count < 0"
             " OR NOT (sum_squared_duration BETWEEN 0 AND 1e308)",
             tables[t]);
    assert_int_equal(q_int(st, sql), 0);
    snprintf(sql, sizeof sql, "SELECT MIN(count) FROM %s", tables[t]);
    assert_int_equal(q_int(st, sql), INT64_MAX);
  }
  assert_int_equal(q_int(st, "SELECT hud_sum(count) FROM calls"), INT64_MAX);
  hud_arena_free(a);
  srv_store_free(st);
  srvh_cleanup(&h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rollup_saturates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
