/* The SQLite store in-process (the clock has to be moved for rollup and retention, which a running
 * server cannot do): rollup keeps counts and sketches, old data goes straight to hourly slices,
 * retention deletes, sketch SQL functions, key storage, sketch blob round trip, issue retention and the
 * issues' schema 4 migration. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batchgen.h"
#include "harness.h"
#include "hud/err.h"
#include "issues_store.h"
#include "store.h"
#include "store_fold.h"
#include "query_figures.h"

#include <sys/wait.h>
#include <unistd.h>

static long long q_int(srv_store *st, const char *sql) {
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

static double q_double(srv_store *st, const char *sql) {
  sqlite3 *db;
  assert_int_equal(srv_store_sqlite_reader(st, &db), 0);
  sqlite3_stmt *q;
  double v = NAN;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
  if (sqlite3_step(q) == SQLITE_ROW) v = sqlite3_column_double(q, 0);
  sqlite3_finalize(q);
  srv_store_sqlite_reader_release(st, db);
  return v;
}

static void test_rollup_retention(void **state) {
  srvh h;
  assert_int_equal(srvh_tmpdir(&h), 0);
  srv_store *st;
  srv_store_options o = {.path = h.db, .rollup_after_s = 3600, .retention_s = 7 * 86400};
  assert_int_equal(srv_store_open(&o, &st), 0);

  int64_t now = 1700000000; /* fixed clock */
  now -= now % 3600;
  hud_arena *a = hud_arena_new();
  int64_t total = 0;
  uint64_t sampled = 0;
  /* Three batches in three different minutes of the same hour. */
  for (int i = 0; i < 3; i++) {
    hud_batch b;
    batchgen_opts bo = {.seed = 10 + (uint64_t)i, .n_invocations = 120,
                        .timestamp = (now + 60 * i) * 1000000000LL};
    assert_int_equal(batchgen_make(&bo, a, &b), 0);
    for (size_t k = 0; k < b.n_invocations; k++) {
      total += b.invocations[k].count;
      sampled += (uint64_t)b.invocations[k].sampled_count;
    }
    srv_ingest_result r;
    assert_int_equal(srv_store_ingest(st, "prod", &b, now + 60 * i + 5, &r), 0);
    assert_int_equal(r.duplicate, 0);
    assert_int_equal(r.rows, 120);
  }
  assert_int_equal(q_int(st, "SELECT COUNT(DISTINCT slice) FROM fn_slices WHERE width = 60"), 3);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM calls"), total);
  assert_int_equal(q_int(st, "SELECT SUM(hud_sketch_count(sketch)) FROM calls"), (long long)sampled);
  double p50_before = q_double(st, "SELECT hud_sketch_quantile(hud_sketch_agg(sketch), 0.5) FROM fn_slices");
  assert_true(p50_before > 1e4 && p50_before < 1e8);

  /* Nothing is old enough yet. */
  srv_maintain_result mr;
  assert_int_equal(srv_store_maintain(st, now + 600, &mr), 0);
  assert_int_equal(mr.rolled_up, 0);

  /* Two hours later the hour is folded: one hourly row per key, same totals and sketches. */
  assert_int_equal(srv_store_maintain(st, now + 2 * 3600 + 60, &mr), 0);
  assert_true(mr.rolled_up > 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM fn_slices WHERE width = 60"), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM calls WHERE width = 60"), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(DISTINCT slice) FROM fn_slices WHERE width = 3600"), 1);
  assert_int_equal(q_int(st, "SELECT MIN(slice) FROM fn_slices"), now);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM calls"), total);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM fn_slices"), total);
  assert_int_equal(q_int(st, "SELECT SUM(hud_sketch_count(sketch)) FROM calls"), (long long)sampled);
  double p50_after = q_double(st, "SELECT hud_sketch_quantile(hud_sketch_agg(sketch), 0.5) FROM fn_slices");
  assert_true(fabs(p50_after - p50_before) <= 1e-9 * p50_before);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM flow_status"),
                   q_int(st, "SELECT SUM(count) FROM flow_slices"));

  /* A late batch for that hour goes straight into the hourly rows and adds up. */
  hud_batch late;
  batchgen_opts lo = {.seed = 99, .n_invocations = 50, .timestamp = (now + 120) * 1000000000LL};
  assert_int_equal(batchgen_make(&lo, a, &late), 0);
  int64_t late_total = 0;
  for (size_t k = 0; k < late.n_invocations; k++) late_total += late.invocations[k].count;
  srv_ingest_result r;
  assert_int_equal(srv_store_ingest(st, "prod", &late, now + 3 * 3600, &r), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM fn_slices WHERE width = 60"), 0);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM fn_slices"), total + late_total);
  /* Same batch again: duplicate, nothing added. */
  assert_int_equal(srv_store_ingest(st, "prod", &late, now + 3 * 3600, &r), 0);
  assert_int_equal(r.duplicate, 1);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM fn_slices"), total + late_total);

  /* Past retention everything of that hour is gone. */
  assert_int_equal(srv_store_maintain(st, now + 8 * 86400, &mr), 0);
  assert_true(mr.deleted > 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM calls"), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM fn_slices"), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM exception_flows"), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM batches"), 0);
  /* Declarations and deployments stay (they are small and name things). */
  assert_true(q_int(st, "SELECT COUNT(*) FROM functions") > 0);

  hud_arena_free(a);
  srv_store_free(st);
  srvh_cleanup(&h);
}

static void test_sketch_blob_roundtrip(void **state) {
  hud_sketch *s = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
  for (int i = 1; i <= 1000; i++) hud_sketch_add(s, i * 1000.0);
  hud_sketch_add(s, 0.1);
  unsigned char *blob;
  size_t len;
  assert_int_equal(srv_sketch_blob_encode(s, &blob, &len), 0);
  hud_sketch *d;
  assert_int_equal(srv_sketch_blob_decode(blob, len, &d), 0);
  assert_int_equal(hud_sketch_count(d), 1001);
  double q1, q2;
  assert_int_equal(hud_sketch_quantile(s, 0.9, &q1), 0);
  assert_int_equal(hud_sketch_quantile(d, 0.9, &q2), 0);
  assert_true(q1 == q2);
  /* Garbage and truncation are refused. */
  hud_sketch *bad;
  assert_int_equal(srv_sketch_blob_decode(blob, len - 1, &bad), HUD_EPARSE);
  blob[0] = 'X';
  assert_int_equal(srv_sketch_blob_decode(blob, len, &bad), HUD_EPARSE);
  free(blob);
  hud_sketch_free(d);
  hud_sketch_free(s);
}

/* The one bin accumulator merges blobs into what the library's own merge gives: the same quantiles
 * (srv_acc_quantiles) and the same blob as hud_sketch_agg's (srv_acc_encode), for sketches with
 * different ranges, one empty and one with zero values. */
static void test_bins_merge_equals_library(void **state) {
  hud_sketch *parts[4], *lib = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
  srv_bins_acc acc = {0};
  uint64_t x = 7;
  for (int k = 0; k < 4; k++) {
    parts[k] = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
    for (int i = 0; k != 2 && i < 500; i++) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      double v = k == 3 && i % 50 == 0 ? 0.5 : (double)(x >> 40) * (k + 1) * 10.0;
      hud_sketch_add(parts[k], v);
    }
    unsigned char *blob;
    size_t len;
    assert_int_equal(srv_sketch_blob_encode(parts[k], &blob, &len), 0);
    assert_int_equal(srv_acc_add_blob(&acc, blob, len), 0);
    free(blob);
    assert_int_equal(hud_sketch_merge(lib, parts[k]), 0);
  }
  static const double qs[5] = {0.0, 0.5, 0.9, 0.99, 1.0};
  double got[5], want;
  bool have;
  assert_int_equal(srv_acc_quantiles(&acc, qs, 5, got, &have), 0);
  assert_true(have);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(hud_sketch_quantile(lib, qs[i], &want), 0);
    assert_true(got[i] == want);
  }
  unsigned char *a, *b;
  size_t la, lb;
  assert_int_equal(srv_acc_encode(&acc, &a, &la), 0);
  assert_int_equal(srv_sketch_blob_encode(lib, &b, &lb), 0);
  assert_true(la == lb && memcmp(a, b, la) == 0);
  /* A blob of another alpha does not merge. */
  hud_sketch *other = hud_sketch_new(0.05);
  hud_sketch_add(other, 10.0);
  unsigned char *ob;
  size_t ol;
  assert_int_equal(srv_sketch_blob_encode(other, &ob, &ol), 0);
  assert_int_equal(srv_acc_add_blob(&acc, ob, ol), HUD_EINVAL);
  free(ob);
  free(a);
  free(b);
  srv_acc_free(&acc);
  hud_sketch_free(other);
  hud_sketch_free(lib);
  for (int k = 0; k < 4; k++) hud_sketch_free(parts[k]);
}

/* The slowdown rule: both versions with timed calls and a positive mean, else none. */
static void test_slowdown_rule(void **state) {
  double pct = -1;
  int64_t n[2] = {10, 20}, sum[2] = {1000, 3000};
  assert_int_equal(q_slowdown(n, sum, &pct), 1);
  assert_true(fabs(pct - 50.0) < 1e-9);
  int64_t none[2] = {0, 20}, zero[2] = {1000, 0};
  assert_int_equal(q_slowdown(none, sum, &pct), 0);
  assert_int_equal(q_slowdown(n, zero, &pct), 0);
}

/* A flat trend is 0 however its points were summed: from minute points alone (the ClickHouse engine)
 * or from hourly trend sums plus the edge points (SQLite's pre-aggregates). Means that differ only by
 * the rounding of sum / sampled gave slopes of 1e-13 of either sign, so a top-N by trend ordered the
 * flat functions differently per engine. */
static void test_flat_trend_is_zero_both_ways(void **state) {
  (void)state;
  const int64_t from = 1700000000 / 3600 * 3600, hours = 3;
  q_fig pts = {0}, spans = {0};
  for (int64_t h = 0; h < hours; h++) {
    srv_trend_part d = {0}, e = {0};
    srv_fn_row hr = {.fn = 1, .slice = from + h * 3600};
    for (int m = 0; m < 60; m++) {
      int64_t sampled = 3 + (m * 7 + h) % 11, count = 4 * sampled;
      srv_fn_row r = {.fn = 1, .slice = from + h * 3600 + m * 60, .count = count, .errors = count / 4,
                      .sampled = sampled, .sum = (double)sampled * 1000.1};
      assert_int_equal(q_fig_add(&pts, &r, true), 0);
      if (h == hours - 1) { /* the last hour stays minute points on both sides */
        assert_int_equal(q_fig_add(&spans, &r, true), 0);
        continue;
      }
      double u = m / 60.0, y = r.sum / (double)r.sampled, ey = (double)r.errors / (double)r.count;
      d.n++, d.u += u, d.uu += u * u, d.y += y, d.uy += u * y;
      e.n++, e.u += u, e.uu += u * u, e.y += ey, e.uy += u * ey;
      hr.count += r.count, hr.errors += r.errors, hr.sampled += r.sampled, hr.sum += r.sum;
    }
    if (h < hours - 1) q_fig_add_span(&spans, &hr, &d, &e, from);
  }
  hud_function_summary a = {0}, b = {0};
  q_fig_summary(&pts, from, &a);
  q_fig_summary(&spans, from, &b);
  q_fig_free(&pts);
  q_fig_free(&spans);
  assert_true(a.duration_trend == 0.0 && b.duration_trend == 0.0);
  assert_true(a.error_trend == 0.0 && b.error_trend == 0.0);
}

/* Engines are chosen by location: a URL no engine serves is refused, nothing is created. */
static void test_unknown_engine_refused(void **state) {
  srv_store *st = NULL;
  srv_store_options o = {.path = "postgres://127.0.0.1:5432/hud"};
  assert_int_equal(srv_store_open(&o, &st), HUD_EUNSUPPORTED);
  assert_null(st);
  assert_int_equal(srv_store_open_keys("postgres://127.0.0.1:5432/hud", &st), HUD_EUNSUPPORTED);
  assert_int_equal(access("postgres:", F_OK), -1);
  /* A ClickHouse URL with nothing listening: the ClickHouse engine says so, no other engine takes it. */
  o.path = "clickhouse://127.0.0.1:1/hud";
  assert_int_equal(srv_store_open(&o, &st), HUD_ECONNECT);
  assert_null(st);
}

static int count_keys(const srv_key_info *k, void *arg) {
  (*(int *)arg)++;
  return 0;
}

static void test_keys_storage(void **state) {
  srvh h;
  assert_int_equal(srvh_tmpdir(&h), 0);
  srv_store *st;
  srv_store_options o = {.path = h.db};
  assert_int_equal(srv_store_open(&o, &st), 0);
  unsigned char hash[32] = {1, 2, 3}, got[32];
  int64_t id;
  assert_int_equal(srv_store_key_insert(st, hash, "prod,staging", "read", "ci", 1000, &id), 0);
  srv_key_info k;
  assert_int_equal(srv_store_key_get(st, id, &k, got), 0);
  assert_memory_equal(hash, got, 32);
  assert_string_equal(k.envs, "prod,staging");
  assert_string_equal(k.roles, "read");
  assert_int_equal(k.revoked_at, 0);
  assert_int_equal(srv_store_key_get(st, id + 1, &k, got), HUD_ENOTFOUND);
  assert_int_equal(srv_store_key_revoke(st, id, 2000), 0);
  assert_int_equal(srv_store_key_revoke(st, id, 2001), HUD_ENOTFOUND);
  assert_int_equal(srv_store_key_get(st, id, &k, got), 0);
  assert_int_equal(k.revoked_at, 2000);
  int n = 0;
  assert_int_equal(srv_store_key_list(st, count_keys, &n), 0);
  assert_int_equal(n, 1);
  srv_store_free(st);
  /* Reopening keeps everything (and the schema is not recreated). */
  assert_int_equal(srv_store_open(&o, &st), 0);
  n = 0;
  assert_int_equal(srv_store_key_list(st, count_keys, &n), 0);
  assert_int_equal(n, 1);
  srv_store_free(st);
  srvh_cleanup(&h);
}

/* ---- write-behind: journal, fold, replay ---- */

/* A few batches of different minutes, versions and shapes (declarations, flows, exceptions). */
#define WB_BATCHES 12
static void wb_batches(hud_arena *a, int64_t now, hud_batch *b, int64_t *total, int64_t *sampled) {
  *total = 0;
  *sampled = 0;
  for (int i = 0; i < WB_BATCHES; i++) {
    batchgen_opts o = {.seed = 500 + (uint64_t)i, .n_invocations = 150, .n_functions = 40,
                       .version = i % 3 ? "1.0.0" : "1.1.0",
                       .timestamp = (now - 60 * (i % 4)) * 1000000000LL};
    assert_int_equal(batchgen_make(&o, a, &b[i]), 0);
    for (size_t k = 0; k < b[i].n_invocations; k++) {
      *total += b[i].invocations[k].count;
      *sampled += b[i].invocations[k].sampled_count;
    }
  }
}

static void test_journal_blob_roundtrip(void **state) {
  hud_arena *a = hud_arena_new();
  hud_batch b, d;
  batchgen_opts o = {.seed = 77, .n_invocations = 300};
  assert_int_equal(batchgen_make(&o, a, &b), 0);
  b.invocations[3].has_caller = true;
  b.invocations[3].caller.caller_function_id[0] = 0;
  b.invocations[3].caller.caller_module_path = "shop/__main__.py";
  b.flows[1].sketch = b.invocations[0].sketch;
  unsigned char *blob;
  size_t len;
  assert_int_equal(srv_journal_encode(&b, &blob, &len), 0);
  assert_int_equal(srv_journal_decode(blob, len, a, &d), 0);
  assert_int_equal(d.n_declarations, b.n_declarations);
  assert_int_equal(d.n_invocations, b.n_invocations);
  assert_int_equal(d.n_flows, b.n_flows);
  assert_int_equal(d.n_flow_functions, b.n_flow_functions);
  assert_int_equal(d.n_exception_flows, b.n_exception_flows);
  for (size_t i = 0; i < b.n_declarations; i++) {
    assert_string_equal(d.declarations[i].function_id, b.declarations[i].function_id);
    assert_string_equal(d.declarations[i].name, b.declarations[i].name);
    assert_string_equal(d.declarations[i].module_path, b.declarations[i].module_path);
    assert_string_equal(d.declarations[i].source_code_hash, b.declarations[i].source_code_hash);
    assert_int_equal(d.declarations[i].end_line, b.declarations[i].end_line);
  }
  for (size_t i = 0; i < b.n_invocations; i++) {
    const hud_invocation *x = &b.invocations[i], *y = &d.invocations[i];
    assert_string_equal(x->function_id, y->function_id);
    assert_int_equal(x->has_caller, y->has_caller);
    if (x->has_caller) {
      assert_string_equal(x->caller.caller_function_id, y->caller.caller_function_id);
      assert_string_equal(x->caller.caller_module_path, y->caller.caller_module_path);
      assert_int_equal(x->caller.line, y->caller.line);
    }
    assert_string_equal(x->flow_id, y->flow_id);
    assert_int_equal(x->timestamp, y->timestamp);
    assert_int_equal(x->count, y->count);
    assert_int_equal(x->sum_duration, y->sum_duration);
    assert_true(x->sum_squared_duration == y->sum_squared_duration);
    assert_int_equal(x->self_duration, y->self_duration);
    assert_int_equal(x->sketch->n, y->sketch->n);
    assert_int_equal(x->sketch->offset, y->sketch->offset);
    assert_memory_equal(x->sketch->counts, y->sketch->counts, x->sketch->n * sizeof(uint64_t));
    assert_int_equal(x->exceptions.n, y->exceptions.n);
    for (size_t e = 0; e < x->exceptions.n; e++) {
      assert_string_equal(x->exceptions.items[e].key, y->exceptions.items[e].key);
      assert_int_equal(x->exceptions.items[e].count, y->exceptions.items[e].count);
    }
  }
  assert_string_equal(d.flows[0].route, b.flows[0].route);
  assert_int_equal(d.flows[0].status_codes[1].count, b.flows[0].status_codes[1].count);
  assert_non_null(d.flows[1].sketch);
  assert_string_equal(d.exception_flows[0].propagated_through[0], b.exception_flows[0].propagated_through[0]);
  assert_true(d.exception_flows[0].escaped);
  /* Every truncation and a flipped version byte are refused, never read past the end. */
  for (size_t cut = 0; cut < len; cut += 1 + cut / 8) {
    hud_batch t;
    assert_int_equal(srv_journal_decode(blob, cut, a, &t), HUD_EPARSE);
  }
  blob[1] = 9;
  assert_int_equal(srv_journal_decode(blob, len, a, &d), HUD_EPARSE);
  free(blob);
  hud_arena_free(a);
}

static long long db_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
  long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  return v;
}

/* Every column of every ingest table of DB A equals DB B's (sum_squared_duration up to rounding:
 * the same additions in another order). */
static void assert_same_tables(const char *a, const char *b) {
  sqlite3 *db;
  assert_int_equal(sqlite3_open_v2(a, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  char q[900];
  snprintf(q, sizeof q, "ATTACH '%s' AS other", b);
  assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
  static const char *const exact[] = {"fn_errors", "flow_status", "flow_errors", "flow_functions", "exception_flows"};
  for (size_t t = 0; t < sizeof exact / sizeof *exact; t++) {
    /* flow_errors stays empty: batchgen's flows carry no exceptions. */
    snprintf(q, sizeof q, "SELECT COUNT(*) FROM main.%s", exact[t]);
    if (strcmp(exact[t], "flow_errors") != 0) assert_true(db_int(db, q) > 0);
    snprintf(q, sizeof q,
             "SELECT (SELECT COUNT(*) FROM (SELECT * FROM main.%s EXCEPT SELECT * FROM other.%s))"
             " + (SELECT COUNT(*) FROM (SELECT * FROM other.%s EXCEPT SELECT * FROM main.%s))",
             exact[t], exact[t], exact[t], exact[t]);
    if (db_int(db, q) != 0) fail_msg("%s differs", exact[t]);
  }
  static const struct {
    const char *table, *keys, *cols;
  } sq[] = {
      {"calls", "fn, caller, caller_module, call_line, flow", "count, sampled_count, sum_duration, self_duration, errors, sketch"},
      {"fn_slices", "fn", "count, sampled_count, sum_duration, self_duration, errors, sketch"},
      {"flow_slices", "flow", "count, errors, sampled_count, sum_duration, sketch"},
  };
  for (size_t t = 0; t < sizeof sq / sizeof *sq; t++) {
    snprintf(q, sizeof q, "SELECT (SELECT COUNT(*) FROM main.%s) - (SELECT COUNT(*) FROM other.%s)", sq[t].table,
             sq[t].table);
    assert_int_equal(db_int(db, q), 0);
    snprintf(q, sizeof q, "SELECT COUNT(*) FROM main.%s WHERE sketch IS NOT NULL", sq[t].table);
    if (t < 2) assert_true(db_int(db, q) > 0); /* batchgen's flows carry no sketch */
    snprintf(q, sizeof q,
             "SELECT COUNT(*) FROM (SELECT service_id, version_id, slice, width, %s, %s FROM main.%s EXCEPT"
             " SELECT service_id, version_id, slice, width, %s, %s FROM other.%s)",
             sq[t].keys, sq[t].cols, sq[t].table, sq[t].keys, sq[t].cols, sq[t].table);
    if (db_int(db, q) != 0) fail_msg("%s differs", sq[t].table);
    snprintf(q, sizeof q,
             "SELECT COUNT(*) FROM main.%s m JOIN other.%s o USING (service_id, version_id, slice, width, %s)"
             " WHERE abs(o.sum_squared_duration - m.sum_squared_duration) > 1e-9 * abs(m.sum_squared_duration)",
             sq[t].table, sq[t].table, sq[t].keys);
    if (db_int(db, q) != 0) fail_msg("%s: sum_squared_duration differs", sq[t].table);
  }
  sqlite3_close(db);
}

/* Folding many batches at once gives the same tables as folding each batch alone (the store before
 * write-behind stored one batch per transaction); duplicates while journaled are not counted. */
static void test_fold_many_equals_fold_each(void **state) {
  srvh h1, h2;
  assert_int_equal(srvh_tmpdir(&h1), 0);
  assert_int_equal(srvh_tmpdir(&h2), 0);
  int64_t now = 1700000000;
  hud_arena *a = hud_arena_new();
  hud_batch b[WB_BATCHES];
  int64_t total, sampled;
  wb_batches(a, now, b, &total, &sampled);

  srv_store *each, *many;
  srv_store_options o1 = {.path = h1.db, .fold_interval_ms = 3600 * 1000};
  srv_store_options o2 = {.path = h2.db, .fold_interval_ms = 3600 * 1000};
  assert_int_equal(srv_store_open(&o1, &each), 0);
  assert_int_equal(srv_store_open(&o2, &many), 0);
  srv_ingest_result r;
  for (int i = 0; i < WB_BATCHES; i++) {
    assert_int_equal(srv_store_ingest(each, "prod", &b[i], now + i, &r), 0);
    assert_int_equal(r.duplicate, 0);
    assert_int_equal(q_int(each, "SELECT COUNT(*) FROM journal"), 0); /* the read folded it */
    assert_int_equal(srv_store_ingest(many, "prod", &b[i], now + i, &r), 0);
    assert_int_equal(r.rows, b[i].n_invocations);
    /* A retry while the batch sits in the journal: acknowledged, not counted again. */
    assert_int_equal(srv_store_ingest(many, "prod", &b[i], now + i, &r), 0);
    assert_int_equal(r.duplicate, 1);
  }
  assert_int_equal(q_int(many, "SELECT SUM(count) FROM calls"), total);
  assert_int_equal(q_int(many, "SELECT SUM(count) FROM fn_slices"), total);
  assert_int_equal(q_int(many, "SELECT SUM(hud_sketch_count(sketch)) FROM calls"), sampled);
  assert_int_equal(q_int(many, "SELECT COUNT(*) FROM journal"), 0);
  assert_int_equal(q_int(many, "SELECT COUNT(*) FROM batches"), WB_BATCHES);
  assert_int_equal(q_int(many, "SELECT COUNT(*) FROM versions"), 2);
  assert_int_equal(q_int(many, "SELECT COUNT(*) FROM functions WHERE name IS NULL"), 0);
  assert_int_equal(q_int(many, "SELECT COUNT(*) FROM flows WHERE kind = 'unknown'"), 0);
  assert_int_equal(q_int(many, "SELECT COUNT(*) FROM hours_dirty"), q_int(each, "SELECT COUNT(*) FROM hours_dirty"));
  srv_store_free(each);
  srv_store_free(many);
  assert_same_tables(h1.db, h2.db);
  hud_arena_free(a);
  srvh_cleanup(&h1);
  srvh_cleanup(&h2);
}

/* A process that dies with batches acknowledged but not folded: the next open replays the journal,
 * exactly once, and the batch ids stay known (a retry is a duplicate). */
static void test_crash_replays_journal(void **state) {
  srvh h;
  assert_int_equal(srvh_tmpdir(&h), 0);
  int64_t now = 1700000000;
  hud_arena *a = hud_arena_new();
  hud_batch b[WB_BATCHES];
  int64_t total, sampled;
  wb_batches(a, now, b, &total, &sampled);
  srv_store_options o = {.path = h.db, .fold_interval_ms = 3600 * 1000};
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    srv_store *st;
    if (srv_store_open(&o, &st) < 0) _exit(2);
    srv_ingest_result r;
    for (int i = 0; i < WB_BATCHES; i++)
      if (srv_store_ingest(st, "prod", &b[i], now + i, &r) < 0 || r.duplicate) _exit(3);
    _exit(0); /* no srv_store_free: the fold never happens */
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(srvh_sql_int(h.db, "SELECT COUNT(*) FROM journal"), WB_BATCHES);
  assert_int_equal(srvh_sql_int(h.db, "SELECT COUNT(*) FROM calls"), 0);

  srv_store *st;
  assert_int_equal(srv_store_open(&o, &st), 0);
  /* Open folded the journal before returning: the file alone shows everything. */
  assert_int_equal(srvh_sql_int(h.db, "SELECT COUNT(*) FROM journal"), 0);
  assert_int_equal(srvh_sql_int(h.db, "SELECT SUM(count) FROM calls"), total);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM fn_slices"), total);
  assert_int_equal(q_int(st, "SELECT SUM(hud_sketch_count(sketch)) FROM fn_slices"), sampled);
  srv_ingest_result r;
  assert_int_equal(srv_store_ingest(st, "prod", &b[3], now + 100, &r), 0);
  assert_int_equal(r.duplicate, 1);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM calls"), total);
  srv_store_free(st);
  hud_arena_free(a);
  srvh_cleanup(&h);
}

static int add_trap(sqlite3 *db, void *arg) {
  return sqlite3_exec(db, "CREATE TEMP TRIGGER trap BEFORE INSERT ON main.flow_status BEGIN SELECT RAISE(ABORT, 'trap'); END",
                      NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int drop_trap(sqlite3 *db, void *arg) {
  return sqlite3_exec(db, "DROP TRIGGER temp.trap", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* A fold that fails: ingest keeps acknowledging (journal), reads report the store as busy instead
 * of answering without the batches, and once the store works again nothing is lost or doubled. */
static void test_failing_fold_loses_nothing(void **state) {
  srvh h;
  assert_int_equal(srvh_tmpdir(&h), 0);
  int64_t now = 1700000000;
  hud_arena *a = hud_arena_new();
  hud_batch b[WB_BATCHES];
  int64_t total, sampled;
  wb_batches(a, now, b, &total, &sampled);
  srv_store *st;
  srv_store_options o = {.path = h.db, .fold_interval_ms = 3600 * 1000};
  assert_int_equal(srv_store_open(&o, &st), 0);
  srv_ingest_result r;
  int64_t first = 0;
  for (size_t k = 0; k < b[0].n_invocations; k++) first += b[0].invocations[k].count;
  assert_int_equal(srv_store_ingest(st, "prod", &b[0], now, &r), 0);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM calls"), first);
  assert_int_equal(srv_store_sqlite_write(st, add_trap, NULL), 0);
  for (int i = 1; i < WB_BATCHES; i++) {
    assert_int_equal(srv_store_ingest(st, "prod", &b[i], now + i, &r), 0);
    assert_int_equal(r.duplicate, 0);
  }
  sqlite3 *db;
  assert_int_equal(srv_store_sqlite_reader(st, &db), HUD_EBUSY);
  /* Still failing: a retried batch is still a duplicate, ingest still works. */
  assert_int_equal(srv_store_ingest(st, "prod", &b[5], now + 50, &r), 0);
  assert_int_equal(r.duplicate, 1);
  assert_int_equal(srv_store_sqlite_write(st, drop_trap, NULL), 0);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM calls"), total);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM fn_slices"), total);
  assert_int_equal(q_int(st, "SELECT SUM(hud_sketch_count(sketch)) FROM calls"), sampled);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM journal"), 0);
  srv_store_free(st);
  hud_arena_free(a);
  srvh_cleanup(&h);
}

/* Concurrent ingest and reads: every read sees at least every batch acknowledged before it began. */
typedef struct conc {
  srv_store *st;
  hud_batch *b;
  int n;
  int64_t now;
  _Atomic long long acked_calls;
  _Atomic int done;
} conc;

static void *conc_ingest(void *arg) {
  conc *c = arg;
  for (int i = 0; i < c->n; i++) {
    srv_ingest_result r;
    if (srv_store_ingest(c->st, "prod", &c->b[i], c->now, &r) == 0 && !r.duplicate) {
      long long n = 0;
      for (size_t k = 0; k < c->b[i].n_invocations; k++) n += c->b[i].invocations[k].count;
      c->acked_calls += n;
    }
  }
  c->done = 1;
  return NULL;
}

static void test_reads_see_acknowledged_batches(void **state) {
  srvh h;
  assert_int_equal(srvh_tmpdir(&h), 0);
  int64_t now = 1700000000;
  hud_arena *a = hud_arena_new();
  enum { N = 60 };
  hud_batch b[N];
  for (int i = 0; i < N; i++) {
    batchgen_opts o = {.seed = 9000 + (uint64_t)i, .n_invocations = 200, .timestamp = (now - 60 * (i % 5)) * 1000000000LL};
    assert_int_equal(batchgen_make(&o, a, &b[i]), 0);
  }
  srv_store *st;
  srv_store_options o = {.path = h.db, .fold_interval_ms = 3600 * 1000};
  assert_int_equal(srv_store_open(&o, &st), 0);
  conc c = {st, b, N, now, 0, 0};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, conc_ingest, &c), 0);
  int reads = 0;
  while (!c.done) {
    long long before = c.acked_calls;
    long long seen = q_int(st, "SELECT COALESCE(SUM(count), 0) FROM calls");
    if (seen < before) fail_msg("a read saw %lld calls, %lld were acknowledged before it", seen, before);
    reads++;
  }
  pthread_join(th, NULL);
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM calls"), c.acked_calls);
  assert_true(reads > 0);
  srv_store_free(st);
  hud_arena_free(a);
  srvh_cleanup(&h);
}

/* With nobody reading, the folder still folds on its own every fold_interval_ms (the journal does not
 * grow for the whole life of the process). */
/* Key administration beside a serving store: it neither replays the journal nor takes the serve lock,
 * its key is seen at once; a second serving open of the file is refused (HUD_EBUSY). */
static void test_keys_beside_serving_store(void **state) {
  srvh h;
  assert_int_equal(srvh_tmpdir(&h), 0);
  int64_t now = 1700000000;
  hud_arena *a = hud_arena_new();
  hud_batch b[WB_BATCHES];
  int64_t total, sampled;
  wb_batches(a, now, b, &total, &sampled);
  srv_store_options o = {.path = h.db, .fold_interval_ms = 3600 * 1000};
  srv_store *st, *keys, *second = NULL;
  assert_int_equal(srv_store_open(&o, &st), 0);
  srv_ingest_result r;
  for (int i = 0; i < WB_BATCHES; i++) assert_int_equal(srv_store_ingest(st, "prod", &b[i], now + i, &r), 0);
  assert_int_equal(srvh_sql_int(h.db, "SELECT COUNT(*) FROM journal"), WB_BATCHES);

  assert_int_equal(srv_store_open(&o, &second), HUD_EBUSY);
  assert_null(second);
  assert_int_equal(srv_store_open_keys(h.db, &keys), 0);
  unsigned char hash[32] = {9}, got[32];
  int64_t id;
  assert_int_equal(srv_store_key_insert(keys, hash, "prod", "ingest", "beside", now, &id), 0);
  srv_store_free(keys);
  /* The journal is the server's alone: still there, nothing folded by the key store. */
  assert_int_equal(srvh_sql_int(h.db, "SELECT COUNT(*) FROM journal"), WB_BATCHES);
  assert_int_equal(srvh_sql_int(h.db, "SELECT COUNT(*) FROM calls"), 0);
  srv_key_info k;
  assert_int_equal(srv_store_key_get(st, id, &k, got), 0);
  assert_string_equal(k.roles, "ingest");
  assert_int_equal(q_int(st, "SELECT SUM(count) FROM calls"), total); /* counted once */
  srv_store_free(st);
  assert_int_equal(srvh_sql_int(h.db, "SELECT SUM(count) FROM calls"), total);
  /* Closed: the file may be served again. */
  assert_int_equal(srv_store_open(&o, &st), 0);
  srv_store_free(st);
  hud_arena_free(a);
  srvh_cleanup(&h);
}

static void test_folder_folds_unasked(void **state) {
  srvh h;
  assert_int_equal(srvh_tmpdir(&h), 0);
  int64_t now = 1700000000;
  hud_arena *a = hud_arena_new();
  hud_batch b[WB_BATCHES];
  int64_t total, sampled;
  wb_batches(a, now, b, &total, &sampled);
  srv_store *st;
  srv_store_options o = {.path = h.db, .fold_interval_ms = 100};
  assert_int_equal(srv_store_open(&o, &st), 0);
  srv_ingest_result r;
  for (int i = 0; i < WB_BATCHES; i++) assert_int_equal(srv_store_ingest(st, "prod", &b[i], now + i, &r), 0);
  /* Read the file, not through the store (a store read would fold). Bounded: 10 s. */
  long long calls = -1;
  for (int i = 0; i < 200; i++) {
    calls = srvh_sql_int(h.db, "SELECT COALESCE(SUM(count), 0) FROM calls");
    if (calls == total) break;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  assert_int_equal(calls, total);
  assert_int_equal(srvh_sql_int(h.db, "SELECT COUNT(*) FROM journal"), 0);
  srv_store_free(st);
  hud_arena_free(a);
  srvh_cleanup(&h);
}

/* Issues of issue_retention's test: (id, status, last change in days before the clock). */
typedef struct ret_issue {
  const char *id, *status;
  int days;
} ret_issue;

static const ret_issue k_ret[] = {
    {"00000000-0000-5000-8000-000000000001", "resolved", 10},  {"00000000-0000-5000-8000-000000000002", "resolved", 1},
    {"00000000-0000-5000-8000-000000000003", "open", 10},      {"00000000-0000-5000-8000-000000000004", "muted", 10},
    {"00000000-0000-5000-8000-000000000005", "acknowledged", 10},
};

static int put_issues(sqlite3 *db, void *arg) {
  int64_t now = *(const int64_t *)arg;
  for (size_t i = 0; i < sizeof k_ret / sizeof k_ret[0]; i++) {
    int64_t at = (now - k_ret[i].days * 86400LL) * 1000000000LL;
    srv_issue_row r = {.kind = "duration_regression", .function_id = "f", .comparison = "versions",
                       .status = k_ret[i].status, .first_seen = at - 1000, .last_seen = at - 1000,
                       .status_changed_at = at, .payload = "{\"issues\": []}", .found_since = at - 1000};
    snprintf(r.issue_id, sizeof r.issue_id, "%s", k_ret[i].id);
    int rc = srv_issues_put(db, 1, &r);
    if (rc == 0) rc = srv_issues_event_add(db, k_ret[i].id, at - 1000, "opened", NULL);
    if (rc == 0) rc = srv_issues_event_add(db, k_ret[i].id, at, "resolved", "the metric returned");
    if (rc < 0) return rc;
  }
  return 0;
}

/* Resolved issues unchanged for issue_retention_s go with their events at maintenance; open, muted and
 * acknowledged ones, and recently resolved ones, stay. */
static void test_issue_retention(void **state) {
  srvh h;
  assert_int_equal(srvh_tmpdir(&h), 0);
  srv_store *st;
  srv_store_options o = {.path = h.db, .issue_retention_s = 7 * 86400};
  assert_int_equal(srv_store_open(&o, &st), 0);
  int64_t now = (int64_t)time(NULL);
  assert_int_equal(srv_store_sqlite_write(st, put_issues, &now), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM issues"), 5);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM issue_events"), 10);
  srv_maintain_result mr;
  assert_int_equal(srv_store_maintain(st, now, &mr), 0);
  assert_int_equal(mr.issues_deleted, 1);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM issues"), 4);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM issues WHERE issue_id LIKE '%0001'"), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM issue_events"), 8);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM issue_events WHERE issue_id LIKE '%0001'"), 0);
  /* Later, the recently resolved one is old enough too; the others stay whatever their age. */
  assert_int_equal(srv_store_maintain(st, now + 30 * 86400, &mr), 0);
  assert_int_equal(mr.issues_deleted, 1);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM issues WHERE status = 'resolved'"), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM issues"), 3);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM issue_events"), 6);
  srv_store_free(st);
  /* 0 keeps them all. */
  o.issue_retention_s = 0;
  assert_int_equal(srv_store_open(&o, &st), 0);
  assert_int_equal(srv_store_maintain(st, now + 3650 * 86400LL, &mr), 0);
  assert_int_equal(q_int(st, "SELECT COUNT(*) FROM issues"), 3);
  srv_store_free(st);
  srvh_cleanup(&h);
}

static void sql(const char *path, const char *text) {
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  if (sqlite3_exec(db, text, NULL, NULL, NULL) != SQLITE_OK) fail_msg("%s: %s", text, sqlite3_errmsg(db));
  sqlite3_close(db);
}

/* A schema 3 file gains the lifecycle columns when opened: its open issue counts as alerted when its status
 * last changed, for the version it names. */
static void test_issue_lifecycle_migrated(void **state) {
  srvh h;
  assert_int_equal(srvh_tmpdir(&h), 0);
  srv_store *st;
  srv_store_options o = {.path = h.db};
  assert_int_equal(srv_store_open(&o, &st), 0);
  srv_store_free(st);
  sql(h.db, "ALTER TABLE issues DROP COLUMN found_since; ALTER TABLE issues DROP COLUMN alerted_at;"
            "ALTER TABLE issues DROP COLUMN alert_pending; ALTER TABLE issues DROP COLUMN cand_version;"
            "ALTER TABLE issues DROP COLUMN alerted_version;"
            "UPDATE meta SET value = '3' WHERE key = 'schema_version';"
            "INSERT INTO issues (issue_id, service_id, kind, comparison, status, first_seen, last_seen,"
            " status_changed_at, base_label, cand_label, payload) VALUES ('a', 1, 'duration_regression',"
            " 'versions', 'open', 100, 300, 200, 'v1', 'v2', '{}'), ('b', 1, 'duration_regression', 'windows',"
            " 'muted', 100, 300, 200, 'the 24 h before', 'the last hour', '{}');");
  assert_int_equal(srv_store_open(&o, &st), 0);
  assert_int_equal(q_int(st, "SELECT value FROM meta WHERE key = 'schema_version'"), SRV_STORE_SCHEMA_VERSION);
  assert_int_equal(q_int(st, "SELECT found_since FROM issues WHERE issue_id = 'a'"), 100);
  assert_int_equal(q_int(st, "SELECT alerted_at FROM issues WHERE issue_id = 'a'"), 200);
  assert_int_equal(q_int(st, "SELECT cand_version = 'v2' AND alerted_version = 'v2' FROM issues WHERE issue_id = 'a'"),
                   1);
  assert_int_equal(q_int(st, "SELECT alerted_at FROM issues WHERE issue_id = 'b'"), 0);
  assert_int_equal(q_int(st, "SELECT cand_version IS NULL AND alert_pending IS NULL FROM issues WHERE issue_id = 'b'"),
                   1);
  srv_store_free(st);
  srvh_cleanup(&h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rollup_retention),
      cmocka_unit_test(test_sketch_blob_roundtrip),
      cmocka_unit_test(test_bins_merge_equals_library),
      cmocka_unit_test(test_slowdown_rule),
      cmocka_unit_test(test_flat_trend_is_zero_both_ways),
      cmocka_unit_test(test_unknown_engine_refused),
      cmocka_unit_test(test_keys_storage),
      cmocka_unit_test(test_journal_blob_roundtrip),
      cmocka_unit_test(test_fold_many_equals_fold_each),
      cmocka_unit_test(test_crash_replays_journal),
      cmocka_unit_test(test_failing_fold_loses_nothing),
      cmocka_unit_test(test_reads_see_acknowledged_batches),
      cmocka_unit_test(test_folder_folds_unasked),
      cmocka_unit_test(test_keys_beside_serving_store),
      cmocka_unit_test(test_issue_retention),
      cmocka_unit_test(test_issue_lifecycle_migrated),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
