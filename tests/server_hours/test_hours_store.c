/* fn_hours against fn_slices, call_hours and flow_fn_hours against calls in-process (the clock has to move for rollup and retention): after
 * every fold and maintenance pass each completed hour's fn_hours rows are exactly the sums of its fn_slices
 * rows (per version and all versions), through late minute data, rollup to hourly rows, late data
 * into hourly rows and retention; no hour is counted twice. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batchgen.h"
#include "harness.h"
#include "hud/err.h"
#include "store.h"

static long long q_int(srv_store *st, const char *fmt, ...) {
  char sql[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(sql, sizeof sql, fmt, ap);
  va_end(ap);
  sqlite3 *db;
  assert_int_equal(srv_store_sqlite_reader(st, &db), 0);
  sqlite3_stmt *q;
  long long v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
  if (sqlite3_step(q) == SQLITE_ROW) v = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  srv_store_sqlite_reader_release(st, db);
  return v;
}

/* Groups of fn_slices (per hour, function and version; version 0 = all) whose fn_hours row is
 * missing or differs, plus fn_hours rows without any fn_slices row; dirty hours excluded. */
static long long unit_mismatches(srv_store *st, const char *table, const char *unit, int width) {
  static const char agg[] =
      "SELECT service_id, (slice / %d) * %d AS hour, fn, %s AS v, SUM(count) AS c, SUM(errors) AS e,"
      " SUM(sampled_count) AS s, SUM(sum_duration) AS d, SUM(self_duration) AS f,"
      " hud_sketch_count(hud_sketch_agg(sketch)) AS k, hud_sketch_quantile(hud_sketch_agg(sketch), 0.95) AS p"
      " FROM fn_slices GROUP BY service_id, hour, fn%s";
  char sql[4096];
  long long bad = 0;
  for (int all = 0; all < 2; all++) {
    char inner[1024];
    snprintf(inner, sizeof inner, agg, width, width, all ? "0" : "version_id", all ? "" : ", version_id");
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM (%s) x LEFT JOIN %s h ON h.service_id = x.service_id AND h.%s = x.hour"
             " AND h.fn = x.fn AND h.version_id = x.v"
             " WHERE NOT EXISTS (SELECT 1 FROM %ss_dirty d WHERE d.service_id = x.service_id AND d.%s = x.hour)"
             " AND (h.fn IS NULL OR h.count <> x.c OR h.errors <> x.e OR h.sampled_count <> x.s"
             " OR h.sum_duration <> x.d OR h.self_duration <> x.f OR hud_sketch_count(h.sketch) IS NOT x.k"
             " OR hud_sketch_quantile(h.sketch, 0.95) IS NOT x.p)",
             inner, table, unit, unit, unit);
    bad += q_int(st, "%s", sql);
  }
  bad += q_int(st,
               "SELECT COUNT(*) FROM %s h WHERE NOT EXISTS (SELECT 1 FROM fn_slices s WHERE"
               " s.service_id = h.service_id AND s.fn = h.fn AND s.slice >= h.%s AND s.slice < h.%s + %d"
               " AND (h.version_id = 0 OR s.version_id = h.version_id))",
               table, unit, unit, width);
  return bad;
}

/* fn_hours and fn_blocks against fn_slices. */
static long long mismatches(srv_store *st) {
  return unit_mismatches(st, "fn_hours", "hour", 3600) + unit_mismatches(st, "fn_blocks", "block", 600);
}

/* The same for call_hours against calls: groups of calls rows (per hour and edge key) whose
 * call_hours row is missing or differs, and call_hours rows that no calls group explains. */
static long long call_mismatches(srv_store *st) {
  static const char agg[] =
      "(SELECT service_id, (slice / 3600) * 3600 AS hour, fn, caller, caller_module, call_line, flow, version_id,"
      " SUM(count) AS c, SUM(sampled_count) AS n, SUM(sum_duration) AS d, TOTAL(sum_squared_duration) AS q,"
      " SUM(self_duration) AS f, SUM(errors) AS e FROM calls"
      " GROUP BY service_id, hour, fn, caller, caller_module, call_line, flow, version_id)";
  static const char key[] =
      "h.service_id = x.service_id AND h.hour = x.hour AND h.fn = x.fn AND h.caller = x.caller AND"
      " h.caller_module = x.caller_module AND h.call_line = x.call_line AND h.flow = x.flow AND"
      " h.version_id = x.version_id";
  long long bad = q_int(st,
                        "SELECT COUNT(*) FROM %s x LEFT JOIN call_hours h ON %s WHERE NOT EXISTS (SELECT 1 FROM"
                        " hours_dirty d WHERE d.service_id = x.service_id AND d.hour = x.hour) AND (h.fn IS NULL"
                        " OR h.count <> x.c OR h.sampled_count <> x.n OR h.sum_duration <> x.d OR h.self_duration <> x.f"
                        " OR h.errors <> x.e OR abs(h.sum_squared_duration - x.q) > 1e-9 * abs(x.q))",
                        agg, key);
  bad += q_int(st, "SELECT COUNT(*) FROM call_hours h WHERE NOT EXISTS (SELECT 1 FROM %s x WHERE %s)", agg, key);
  return bad;
}

/* The same for flow_fn_hours against calls: groups of calls rows per hour, flow, function and
 * version (0 = all versions) whose flow_fn_hours row is missing or differs (sums, sketch count and
 * p95), and flow_fn_hours rows no group explains. */
static long long flow_unit_mismatches(srv_store *st, const char *table, const char *unit, int width) {
  static const char agg[] =
      "(SELECT service_id, (slice / %d) * %d AS hour, flow, fn, %s AS v, SUM(count) AS c, SUM(errors) AS e,"
      " SUM(sampled_count) AS s, SUM(sum_duration) AS d, TOTAL(sum_squared_duration) AS q, SUM(self_duration) AS f,"
      " hud_sketch_count(hud_sketch_agg(sketch)) AS k, hud_sketch_quantile(hud_sketch_agg(sketch), 0.95) AS p"
      " FROM calls GROUP BY service_id, hour, flow, fn%s)";
  char key[256];
  snprintf(key, sizeof key,
           "h.service_id = x.service_id AND h.%s = x.hour AND h.flow = x.flow AND h.fn = x.fn AND h.version_id = x.v",
           unit);
  char inner[1024];
  long long bad = 0;
  for (int all = 0; all < 2; all++) {
    snprintf(inner, sizeof inner, agg, width, width, all ? "0" : "version_id", all ? "" : ", version_id");
    bad += q_int(st,
                 "SELECT COUNT(*) FROM %s x LEFT JOIN %s h ON %s WHERE NOT EXISTS (SELECT 1 FROM"
                 " %ss_dirty d WHERE d.service_id = x.service_id AND d.%s = x.hour) AND (h.fn IS NULL"
                 " OR h.count <> x.c OR h.errors <> x.e OR h.sampled_count <> x.s OR h.sum_duration <> x.d"
                 " OR h.self_duration <> x.f OR abs(h.sum_squared_duration - x.q) > 1e-9 * abs(x.q)"
                 " OR hud_sketch_count(h.sketch) IS NOT x.k OR hud_sketch_quantile(h.sketch, 0.95) IS NOT x.p)",
                 inner, table, key, unit, unit);
  }
  bad += q_int(st,
               "SELECT COUNT(*) FROM %s h WHERE NOT EXISTS (SELECT 1 FROM calls x WHERE"
               " x.service_id = h.service_id AND x.flow = h.flow AND x.fn = h.fn AND x.slice >= h.%s"
               " AND x.slice < h.%s + %d AND (h.version_id = 0 OR x.version_id = h.version_id))",
               table, unit, unit, width);
  return bad;
}

/* flow_fn_hours and flow_fn_blocks against calls. */
static long long flow_mismatches(srv_store *st) {
  return flow_unit_mismatches(st, "flow_fn_hours", "hour", 3600) +
         flow_unit_mismatches(st, "flow_fn_blocks", "block", 600);
}

static int64_t ingest(srv_store *st, hud_arena *a, uint64_t seed, const char *version, int64_t ts, int64_t now) {
  hud_batch b;
  batchgen_opts bo = {.seed = seed, .version = version, .n_invocations = 80, .timestamp = ts * 1000000000LL};
  assert_int_equal(batchgen_make(&bo, a, &b), 0);
  int64_t total = 0;
  for (size_t k = 0; k < b.n_invocations; k++) total += b.invocations[k].count;
  srv_ingest_result r;
  assert_int_equal(srv_store_ingest(st, "prod", &b, now, &r), 0);
  assert_int_equal(r.duplicate, 0);
  return total;
}

static void hours_follow_ingest_rollup_and_retention(void **state) {
  (void)state;
  srvh h;
  assert_int_equal(srvh_tmpdir(&h), 0);
  srv_store *st;
  srv_store_options o = {.path = h.db, .rollup_after_s = 3600, .retention_s = 7 * 86400};
  assert_int_equal(srv_store_open(&o, &st), 0);
  int64_t H = 1700000000;
  H -= H % 3600;
  hud_arena *a = hud_arena_new();
  int64_t in_h = 0;
  in_h += ingest(st, a, 1, "1.0.0", H, H + 5);
  in_h += ingest(st, a, 2, "1.0.0", H + 60, H + 65);
  in_h += ingest(st, a, 3, "2.0.0", H + 60, H + 70);
  in_h += ingest(st, a, 4, "2.0.0", H + 3540, H + 3545);
  ingest(st, a, 5, "2.0.0", H + 3660, H + 3665); /* the next hour, still running at the pass below */
  /* The fold (received up to H + 3665) builds hour H, which has ended; the running hour stays dirty. */
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM hours_dirty"), 1);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM fn_hours WHERE version_id = 0 AND hour = %lld", (long long)H),
                   in_h);

  srv_maintain_result mr;
  assert_int_equal(srv_store_maintain(st, H + 3600 + 120, &mr), 0);
  assert_int_equal(mr.rolled_up, 0);
  /* The completed hour is built, the running one is left for later. */
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM hours_dirty"), 1);
  assert_int_equal(q_int(st, "SELECT hour FROM hours_dirty"), H + 3600);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM fn_hours WHERE version_id = 0 AND hour = %lld", (long long)H),
                   in_h);
  assert_true(q_int(st, "SELECT COUNT(DISTINCT version_id) FROM fn_hours WHERE hour = %lld", (long long)H) == 3);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM call_hours WHERE hour = %lld", (long long)H), in_h);
  assert_true(q_int(st, "SELECT COUNT(*) FROM call_hours WHERE hour = %lld", (long long)H) > 0);
  assert_true(q_int(st, "SELECT COUNT(*) FROM flow_fn_hours WHERE hour = %lld", (long long)H) > 0);
  /* Hour H's blocks are built with it (batches at :00, :01 and :59: blocks :00 and :50 at least). */
  assert_true(q_int(st, "SELECT COUNT(DISTINCT block) FROM fn_blocks WHERE block >= %lld AND block < %lld",
                    (long long)H, (long long)H + 3600) >= 2);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM flow_fn_blocks WHERE version_id = 0 AND block >= %lld"
                             " AND block < %lld", (long long)H, (long long)H + 3600),
                   in_h);
  assert_int_equal(mismatches(st), 0);
  assert_int_equal(call_mismatches(st), 0);
  assert_int_equal(flow_mismatches(st), 0);

  /* Late minute data into the built hour re-dirties it; the fold that writes it rebuilds it. */
  in_h += ingest(st, a, 6, "1.0.0", H + 120, H + 3600 + 200);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM hours_dirty WHERE hour = %lld", (long long)H), 0);
  assert_int_equal(srv_store_maintain(st, H + 3600 + 300, &mr), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM hours_dirty WHERE hour = %lld", (long long)H), 0);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM fn_hours WHERE version_id = 0 AND hour = %lld", (long long)H),
                   in_h);
  assert_int_equal(mismatches(st), 0);
  assert_int_equal(call_mismatches(st), 0);
  assert_int_equal(flow_mismatches(st), 0);

  /* Rollup folds hour H's minute rows into hourly rows: fn_hours still counts them once. */
  assert_int_equal(srv_store_maintain(st, H + 2 * 3600 + 60, &mr), 0);
  assert_true(mr.rolled_up > 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM fn_slices WHERE width = 60 AND slice < %lld", (long long)H + 3600),
                   0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM calls WHERE width = 60 AND slice < %lld", (long long)H + 3600), 0);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM call_hours WHERE hour = %lld", (long long)H), in_h);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM fn_hours WHERE version_id = 0 AND hour = %lld", (long long)H),
                   in_h);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM hours_dirty WHERE hour < %lld", (long long)H + 2 * 3600), 0);
  assert_int_equal(mismatches(st), 0);
  assert_int_equal(call_mismatches(st), 0);
  assert_int_equal(flow_mismatches(st), 0);

  /* Late data for hour H now lands in its hourly rows; the hour is rebuilt again. */
  in_h += ingest(st, a, 7, "2.0.0", H + 1800, H + 3 * 3600);
  assert_int_equal(srv_store_maintain(st, H + 3 * 3600 + 60, &mr), 0);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM fn_hours WHERE version_id = 0 AND hour = %lld", (long long)H),
                   in_h);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM fn_slices WHERE slice >= %lld AND slice < %lld", (long long)H,
                         (long long)H + 3600),
                   in_h);
  assert_int_equal(mismatches(st), 0);
  assert_int_equal(call_mismatches(st), 0);
  assert_int_equal(flow_mismatches(st), 0);

  /* Retention: the hours' rows go with their slices. */
  assert_int_equal(srv_store_maintain(st, H + 8 * 86400, &mr), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM fn_slices"), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM fn_hours"), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM call_hours"), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM flow_fn_hours"), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM fn_blocks"), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM flow_fn_blocks"), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM blocks_dirty"), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM hours_dirty"), 0);

  hud_arena_free(a);
  srv_store_free(st);
  srvh_cleanup(&h);
}

/* COUNT(*) of SQL on the tables as last folded (no fold is asked for). */
static long long q_int_recent(srv_store *st, const char *sql) {
  sqlite3 *db;
  assert_int_equal(srv_store_sqlite_reader_recent(st, &db), 0);
  sqlite3_stmt *q;
  long long v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
  if (sqlite3_step(q) == SQLITE_ROW) v = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  srv_store_sqlite_reader_release(st, db);
  return v;
}

/* A fold on the folder's clock builds pre-aggregates at most every 30 s; a fresh read always finds
 * the ended hours of what it sees built (a transaction of its own when nothing is left to fold). */
static void fresh_read_finds_hours_built(void **state) {
  (void)state;
  srvh h;
  assert_int_equal(srvh_tmpdir(&h), 0);
  srv_store *st;
  srv_store_options o = {.path = h.db, .rollup_after_s = 86400, .fold_interval_ms = 20};
  assert_int_equal(srv_store_open(&o, &st), 0);
  int64_t H = 1700000000;
  H -= H % 3600;
  hud_arena *a = hud_arena_new();
  ingest(st, a, 1, "1.0.0", H + 60, H + 3600 + 30);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM hours_dirty"), 0); /* fresh: built */
  /* Late data for the ended hour, folded by the folder (its clock, 20 ms) right after that build. */
  ingest(st, a, 2, "1.0.0", H + 120, H + 3600 + 40);
  long long dirty = -1;
  for (int i = 0; i < 200 && dirty != 1; i++) {
    usleep(10 * 1000);
    dirty = q_int_recent(st, "SELECT COUNT(*) FROM hours_dirty");
  }
  assert_int_equal(dirty, 1); /* folded, not built: the last build was < 30 s ago */
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM hours_dirty"), 0);
  assert_int_equal(mismatches(st), 0);
  hud_arena_free(a);
  srv_store_free(st);
  srvh_cleanup(&h);
}

/* A store written before fn_hours existed: opening it marks its hours dirty and the first pass
 * builds them. */
static void old_store_is_backfilled(void **state) {
  (void)state;
  srvh h;
  assert_int_equal(srvh_tmpdir(&h), 0);
  srv_store *st;
  srv_store_options o = {.path = h.db, .rollup_after_s = 3600};
  assert_int_equal(srv_store_open(&o, &st), 0);
  int64_t H = 1700000000;
  H -= H % 3600;
  hud_arena *a = hud_arena_new();
  int64_t total = ingest(st, a, 1, "1.0.0", H + 60, H + 65);
  total += ingest(st, a, 2, "1.0.0", H + 3600 + 60, H + 3600 + 65);
  srv_store_free(st);
  /* Make it look old: no hourly tables, no triggers. */
  sqlite3 *db;
  assert_int_equal(sqlite3_open(h.db, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db,
                                "DROP TRIGGER IF EXISTS fn_slices_hours_ins; DROP TRIGGER IF EXISTS fn_slices_hours_upd;"
                                " DROP TRIGGER fn_slices_hours_del; DROP TABLE fn_hours; DROP TABLE call_hours;"
                                " DROP TABLE flow_fn_hours; DROP TABLE fn_blocks; DROP TABLE flow_fn_blocks;"
                                " DROP TABLE blocks_dirty;"
                                " DROP TABLE hours_dirty;",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(srv_store_open(&o, &st), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM hours_dirty"), 2);
  srv_maintain_result mr;
  assert_int_equal(srv_store_maintain(st, H + 2 * 3600 + 10, &mr), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM hours_dirty"), 0);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM fn_hours WHERE version_id = 0"), total);
  assert_int_equal(mismatches(st), 0);
  assert_int_equal(call_mismatches(st), 0);
  assert_int_equal(flow_mismatches(st), 0);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM call_hours"), total);
  srv_store_free(st);
  /* A store from before call_hours only (fn_hours built): its hours are rebuilt once, both tables. */
  assert_int_equal(sqlite3_open(h.db, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "DROP TABLE call_hours;", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(srv_store_open(&o, &st), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM hours_dirty"), 2);
  assert_int_equal(srv_store_maintain(st, H + 2 * 3600 + 20, &mr), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM hours_dirty"), 0);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM call_hours"), total);
  assert_int_equal(mismatches(st), 0);
  assert_int_equal(call_mismatches(st), 0);
  assert_int_equal(flow_mismatches(st), 0);
  srv_store_free(st);
  /* A store from before flow_fn_hours only: the same. */
  assert_int_equal(sqlite3_open(h.db, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "DROP TABLE flow_fn_hours;", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(srv_store_open(&o, &st), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM hours_dirty"), 2);
  assert_int_equal(srv_store_maintain(st, H + 2 * 3600 + 30, &mr), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM hours_dirty"), 0);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM flow_fn_hours WHERE version_id = 0"), total);
  assert_int_equal(flow_mismatches(st), 0);
  hud_arena_free(a);
  srv_store_free(st);
  srvh_cleanup(&h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hours_follow_ingest_rollup_and_retention),
      cmocka_unit_test(old_store_is_backfilled),
      cmocka_unit_test(fresh_read_finds_hours_built),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
