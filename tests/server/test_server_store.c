/* The SQLite store in-process (the clock has to be moved for rollup and retention, which a running
 * server cannot do): rollup keeps counts and sketches, old data goes straight to hourly slices,
 * retention deletes, sketch SQL functions, key storage, sketch blob round trip. */
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
#include <string.h>
#include <time.h>

#include "batchgen.h"
#include "harness.h"
#include "hud/err.h"
#include "store.h"

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
  assert_int_equal(srv_store_key_insert(st, hash, "prod,staging", "ci", 1000, &id), 0);
  srv_key_info k;
  assert_int_equal(srv_store_key_get(st, id, &k, got), 0);
  assert_memory_equal(hash, got, 32);
  assert_string_equal(k.envs, "prod,staging");
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rollup_retention),
      cmocka_unit_test(test_sketch_blob_roundtrip),
      cmocka_unit_test(test_keys_storage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
