/* Hourly pre-aggregates of fn_slices and calls: schema, dirty-hour triggers and the materializer. The design
 * and the invariant the query side relies on are in store_hours.h. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "hud/err.h"
#include "hud/model.h"
#include "store.h"
#include "store_hours.h"

/* The delete trigger (rollup and retention delete the rows they fold or drop) tests NOT EXISTS
 * rather than INSERT OR IGNORE: the firing statement's conflict policy overrides the trigger's. */
static const char k_hours_schema[] =
    "CREATE TABLE IF NOT EXISTS fn_hours (service_id INTEGER NOT NULL, hour INTEGER NOT NULL,"
    " fn INTEGER NOT NULL, version_id INTEGER NOT NULL, count INTEGER NOT NULL, errors INTEGER NOT NULL,"
    " sampled_count INTEGER NOT NULL, sum_duration INTEGER NOT NULL, sum_squared_duration REAL NOT NULL,"
    " self_duration INTEGER NOT NULL, sketch BLOB,"
    " dn INTEGER NOT NULL, du REAL NOT NULL, duu REAL NOT NULL, dy REAL NOT NULL, duy REAL NOT NULL,"
    " en INTEGER NOT NULL, eu REAL NOT NULL, euu REAL NOT NULL, ey REAL NOT NULL, euy REAL NOT NULL,"
    " PRIMARY KEY (service_id, hour, fn, version_id)) WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS fn_hours_fn ON fn_hours(fn, hour);\n"
    /* Covering index for the all-functions scan (top-N): no sketch blobs read. */
    "CREATE INDEX IF NOT EXISTS fn_hours_scan ON fn_hours(service_id, version_id, hour, fn, count, errors,"
    " sampled_count, sum_duration, sum_squared_duration, self_duration, dn, du, duu, dy, duy, en, eu, euu, ey,"
    " euy);\n"
    /* Call edges per hour: the same key as calls without the slice width, one row per version (no
     * all-versions row: without sketches, summing a version or two per hour is cheap). */
    "CREATE TABLE IF NOT EXISTS call_hours (service_id INTEGER NOT NULL, hour INTEGER NOT NULL,"
    " fn INTEGER NOT NULL, caller INTEGER NOT NULL, caller_module TEXT NOT NULL, call_line INTEGER NOT NULL,"
    " flow INTEGER NOT NULL, version_id INTEGER NOT NULL, count INTEGER NOT NULL, sampled_count INTEGER NOT NULL,"
    " sum_duration INTEGER NOT NULL, sum_squared_duration REAL NOT NULL, self_duration INTEGER NOT NULL,"
    " errors INTEGER NOT NULL,"
    " PRIMARY KEY (service_id, hour, fn, caller, caller_module, call_line, flow, version_id)) WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS call_hours_fn ON call_hours(fn, hour);\n"
    "CREATE INDEX IF NOT EXISTS call_hours_caller ON call_hours(caller, hour);\n"
    /* Functions per flow and hour (from calls): what fn_hours is for the whole service, so that a
     * flow's top-N sorts by p95 or by a trend without reading the window's minute edges of calls. */
    "CREATE TABLE IF NOT EXISTS flow_fn_hours (service_id INTEGER NOT NULL, flow INTEGER NOT NULL,"
    " version_id INTEGER NOT NULL, hour INTEGER NOT NULL, fn INTEGER NOT NULL, count INTEGER NOT NULL,"
    " errors INTEGER NOT NULL, sampled_count INTEGER NOT NULL, sum_duration INTEGER NOT NULL,"
    " sum_squared_duration REAL NOT NULL, self_duration INTEGER NOT NULL, sketch BLOB,"
    " dn INTEGER NOT NULL, du REAL NOT NULL, duu REAL NOT NULL, dy REAL NOT NULL, duy REAL NOT NULL,"
    " en INTEGER NOT NULL, eu REAL NOT NULL, euu REAL NOT NULL, ey REAL NOT NULL, euy REAL NOT NULL,"
    " PRIMARY KEY (service_id, flow, version_id, hour, fn)) WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS flow_fn_hours_fn ON flow_fn_hours(fn, flow, hour);\n"
    "CREATE INDEX IF NOT EXISTS flow_fn_hours_hour ON flow_fn_hours(service_id, hour);\n"
    "CREATE INDEX IF NOT EXISTS flow_fn_hours_scan ON flow_fn_hours(service_id, flow, version_id, hour, fn, count,"
    " errors, sampled_count, sum_duration, sum_squared_duration, self_duration, dn, du, duu, dy, duy, en, eu, euu,"
    " ey, euy);\n"
    /* 10-minute blocks of the same (store_hours.h): the partial hours at a window's edges. */
    "CREATE TABLE IF NOT EXISTS fn_blocks (service_id INTEGER NOT NULL, version_id INTEGER NOT NULL,"
    " block INTEGER NOT NULL, fn INTEGER NOT NULL, count INTEGER NOT NULL, errors INTEGER NOT NULL,"
    " sampled_count INTEGER NOT NULL, sum_duration INTEGER NOT NULL, sum_squared_duration REAL NOT NULL,"
    " self_duration INTEGER NOT NULL, sketch BLOB,"
    " dn INTEGER NOT NULL, du REAL NOT NULL, duu REAL NOT NULL, dy REAL NOT NULL, duy REAL NOT NULL,"
    " en INTEGER NOT NULL, eu REAL NOT NULL, euu REAL NOT NULL, ey REAL NOT NULL, euy REAL NOT NULL,"
    " PRIMARY KEY (service_id, version_id, block, fn)) WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS fn_blocks_block ON fn_blocks(service_id, block);\n"
    "CREATE TABLE IF NOT EXISTS flow_fn_blocks (service_id INTEGER NOT NULL, flow INTEGER NOT NULL,"
    " version_id INTEGER NOT NULL, block INTEGER NOT NULL, fn INTEGER NOT NULL, count INTEGER NOT NULL,"
    " errors INTEGER NOT NULL, sampled_count INTEGER NOT NULL, sum_duration INTEGER NOT NULL,"
    " sum_squared_duration REAL NOT NULL, self_duration INTEGER NOT NULL, sketch BLOB,"
    " dn INTEGER NOT NULL, du REAL NOT NULL, duu REAL NOT NULL, dy REAL NOT NULL, duy REAL NOT NULL,"
    " en INTEGER NOT NULL, eu REAL NOT NULL, euu REAL NOT NULL, ey REAL NOT NULL, euy REAL NOT NULL,"
    " PRIMARY KEY (service_id, flow, version_id, block, fn)) WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS flow_fn_blocks_block ON flow_fn_blocks(service_id, block);\n"
    "CREATE INDEX IF NOT EXISTS flow_fn_blocks_fn ON flow_fn_blocks(fn, flow, block);\n"
    "CREATE TABLE IF NOT EXISTS blocks_dirty (service_id INTEGER NOT NULL, block INTEGER NOT NULL,"
    " PRIMARY KEY (service_id, block)) WITHOUT ROWID;\n"
    /* Bumped with every rebuilt hour: a reader that sees the same generation sees the same fn_hours
     * and call_hours rows of the service (what a cache of merged hours is keyed on). */
    "CREATE TABLE IF NOT EXISTS hours_gen (service_id INTEGER PRIMARY KEY, gen INTEGER NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS hours_dirty (service_id INTEGER NOT NULL, hour INTEGER NOT NULL,"
    " PRIMARY KEY (service_id, hour)) WITHOUT ROWID;\n"
    /* Ingest marks its hours itself (srv_hours_mark_batch): a row trigger on fn_slices would give
     * every ingest upsert a statement journal, measured 3-10x slower on large batches. */
    "DROP TRIGGER IF EXISTS fn_slices_hours_ins;\n"
    "DROP TRIGGER IF EXISTS fn_slices_hours_upd;\n"
    /* Recreated: stores from before the blocks have the trigger without its second statement. */
    "DROP TRIGGER IF EXISTS fn_slices_hours_del;\n"
    "CREATE TRIGGER fn_slices_hours_del AFTER DELETE ON fn_slices BEGIN"
    " INSERT INTO hours_dirty (service_id, hour) SELECT old.service_id, (old.slice / 3600) * 3600 WHERE NOT EXISTS"
    " (SELECT 1 FROM hours_dirty WHERE service_id = old.service_id AND hour = (old.slice / 3600) * 3600);"
    " INSERT INTO blocks_dirty (service_id, block) SELECT old.service_id, (old.slice / 600) * 600 WHERE NOT EXISTS"
    " (SELECT 1 FROM blocks_dirty WHERE service_id = old.service_id AND block = (old.slice / 600) * 600);"
    " END;\n";

/* One unit (an hour, or a 10-minute block: W seconds) of one service: per-version rows and the
 * all-versions row (version_id 0). The inner selects make one point per slice (and version), as the
 * query's trend fit sees them; u is in hours from the unit's start in both widths. */
#define HOURS_MAT_FN(TABLE, KEY, W) \
    "INSERT INTO " TABLE " (service_id, " KEY ", fn, version_id, count, errors, sampled_count, sum_duration," \
    " sum_squared_duration, self_duration, sketch, dn, du, duu, dy, duy, en, eu, euu, ey, euy)" \
    " SELECT ?1, ?2, fn, v, hud_sum(c), hud_sum(e), hud_sum(s), hud_sum(d), hud_sum(q), hud_sum(f), hud_sketch_agg(k)," HOURS_MAT_TREND \
    " FROM (SELECT fn, v, u, c, e, s, d, q, f, k," HOURS_MAT_YR \
    "       FROM (SELECT fn, version_id AS v, (slice - ?2) / 3600.0 AS u," HOURS_MAT_SUMS " FROM fn_slices" \
    "             WHERE service_id = ?1 AND slice >= ?2 AND slice < ?2 + " W " GROUP BY fn, version_id, slice" \
    "             UNION ALL" \
    "             SELECT fn, 0, (slice - ?2) / 3600.0," HOURS_MAT_SUMS \
    "             FROM fn_slices WHERE service_id = ?1 AND slice >= ?2 AND slice < ?2 + " W " GROUP BY fn, slice))" \
    " GROUP BY fn, v"
#define HOURS_MAT_TREND \
    " SUM(s > 0), TOTAL(CASE WHEN s > 0 THEN u END), TOTAL(CASE WHEN s > 0 THEN u * u END)," \
    " TOTAL(CASE WHEN s > 0 THEN y END), TOTAL(CASE WHEN s > 0 THEN u * y END)," \
    " SUM(c > 0), TOTAL(CASE WHEN c > 0 THEN u END), TOTAL(CASE WHEN c > 0 THEN u * u END)," \
    " TOTAL(CASE WHEN c > 0 THEN r END), TOTAL(CASE WHEN c > 0 THEN u * r END)"
#define HOURS_MAT_YR \
    " CASE WHEN s > 0 THEN CAST(d AS REAL) / s END AS y, CASE WHEN c > 0 THEN CAST(e AS REAL) / c END AS r"
#define HOURS_MAT_SUMS \
    " hud_sum(count) AS c, hud_sum(errors) AS e, hud_sum(sampled_count) AS s, hud_sum(sum_duration) AS d," \
    " hud_sum(sum_squared_duration) AS q, hud_sum(self_duration) AS f, hud_sketch_agg(sketch) AS k"

/* The same per flow, from calls: the points are a flow's calls rows of one function and slice
 * (callers summed). */
#define HOURS_MAT_FLOW(TABLE, KEY, W) \
    "INSERT INTO " TABLE " (service_id, flow, version_id, " KEY ", fn, count, errors, sampled_count, sum_duration," \
    " sum_squared_duration, self_duration, sketch, dn, du, duu, dy, duy, en, eu, euu, ey, euy)" \
    " SELECT ?1, flow, v, ?2, fn, hud_sum(c), hud_sum(e), hud_sum(s), hud_sum(d), hud_sum(q), hud_sum(f), hud_sketch_agg(k)," HOURS_MAT_TREND \
    " FROM (SELECT flow, fn, v, u, c, e, s, d, q, f, k," HOURS_MAT_YR \
    "       FROM (SELECT flow, fn, version_id AS v, (slice - ?2) / 3600.0 AS u," HOURS_MAT_SUMS " FROM calls" \
    "             WHERE service_id = ?1 AND slice >= ?2 AND slice < ?2 + " W " GROUP BY flow, fn, version_id, slice" \
    "             UNION ALL" \
    "             SELECT flow, fn, 0, (slice - ?2) / 3600.0," HOURS_MAT_SUMS \
    "             FROM calls WHERE service_id = ?1 AND slice >= ?2 AND slice < ?2 + " W " GROUP BY flow, fn, slice))" \
    " GROUP BY flow, fn, v"

/* An hour from its six blocks (built first, srv_hours_materialize): sums add, sketches merge, and
 * the trend sums shift by each block's offset h in the hour (u_hour = h + u_block). */
#define HOURS_FROM_BLOCKS(TABLE, BLOCKS, KEYS, HEAD) \
    "INSERT INTO " TABLE " (" HEAD ", count, errors, sampled_count, sum_duration, sum_squared_duration," \
    " self_duration, sketch, dn, du, duu, dy, duy, en, eu, euu, ey, euy)" \
    " SELECT ?1, ?2, " KEYS ", hud_sum(count), hud_sum(errors), hud_sum(sampled_count), hud_sum(sum_duration)," \
    " hud_sum(sum_squared_duration), hud_sum(self_duration), hud_sketch_agg(sketch)," \
    " SUM(dn), TOTAL(dn * h + du), TOTAL(dn * h * h + 2 * h * du + duu), TOTAL(dy), TOTAL(h * dy + duy)," \
    " SUM(en), TOTAL(en * h + eu), TOTAL(en * h * h + 2 * h * eu + euu), TOTAL(ey), TOTAL(h * ey + euy)" \
    " FROM (SELECT *, (block - ?2) / 3600.0 AS h FROM " BLOCKS \
    "       WHERE service_id = ?1 AND block >= ?2 AND block < ?2 + 3600) GROUP BY " KEYS

static const char k_materialize[] =
    HOURS_FROM_BLOCKS("fn_hours", "fn_blocks", "fn, version_id", "service_id, hour, fn, version_id");
static const char k_materialize_flows[] =
    HOURS_FROM_BLOCKS("flow_fn_hours", "flow_fn_blocks", "flow, version_id, fn", "service_id, hour, flow, version_id, fn");
static const char k_materialize_blocks[] = HOURS_MAT_FN("fn_blocks", "block", "600");
static const char k_materialize_flow_blocks[] = HOURS_MAT_FLOW("flow_fn_blocks", "block", "600");

/* One hour of one service's call edges. */
static const char k_materialize_calls[] =
    "INSERT INTO call_hours (service_id, hour, fn, caller, caller_module, call_line, flow, version_id, count,"
    " sampled_count, sum_duration, sum_squared_duration, self_duration, errors)"
    " SELECT ?1, ?2, fn, caller, caller_module, call_line, flow, version_id, hud_sum(count), hud_sum(sampled_count),"
    " hud_sum(sum_duration), hud_sum(sum_squared_duration), hud_sum(self_duration), hud_sum(errors) FROM calls"
    " WHERE service_id = ?1 AND slice >= ?2 AND slice < ?2 + 3600"
    " GROUP BY fn, caller, caller_module, call_line, flow, version_id";

static int hours_exec(sqlite3 *db, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "hud-server: hourly aggregates: %s\n", err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    return HUD_ESTORE;
  }
  return 0;
}

static int hours_prep(sqlite3 *db, const char *sql, sqlite3_stmt **st) {
  if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
    fprintf(stderr, "hud-server: hourly aggregates: %s\n", sqlite3_errmsg(db));
    *st = NULL;
    return HUD_ESTORE;
  }
  return 0;
}

static int hours_table_exists(sqlite3 *db, const char *name, int *exists) {
  sqlite3_stmt *st;
  int rc = hours_prep(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", &st);
  if (rc < 0) return rc;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  *exists = sqlite3_step(st) == SQLITE_ROW;
  sqlite3_finalize(st);
  return 0;
}

int srv_hours_schema(sqlite3 *db) {
  int fn_existed, calls_existed, flows_existed, blocks_existed;
  int rc = hours_table_exists(db, "fn_hours", &fn_existed);
  if (rc == 0) rc = hours_table_exists(db, "call_hours", &calls_existed);
  if (rc == 0) rc = hours_table_exists(db, "flow_fn_hours", &flows_existed);
  if (rc == 0) rc = hours_table_exists(db, "fn_blocks", &blocks_existed);
  if (rc == 0) rc = hours_exec(db, k_hours_schema);
  /* A store written before these tables existed: every stored hour needs building once (an hour is
   * rebuilt in every table, so a store that only lacks call_hours or flow_fn_hours rebuilds all). */
  if (rc == 0 && !fn_existed)
    rc = hours_exec(db, "INSERT OR IGNORE INTO hours_dirty (service_id, hour)"
                        " SELECT DISTINCT service_id, (slice / 3600) * 3600 FROM fn_slices");
  if (rc == 0 && (!calls_existed || !flows_existed))
    rc = hours_exec(db, "INSERT OR IGNORE INTO hours_dirty (service_id, hour)"
                        " SELECT DISTINCT service_id, (slice / 3600) * 3600 FROM calls");
  if (rc == 0 && !blocks_existed)
    rc = hours_exec(db, "INSERT OR IGNORE INTO blocks_dirty (service_id, block)"
                        " SELECT DISTINCT service_id, (slice / 600) * 600 FROM fn_slices");
  return rc;
}

typedef struct hour_key {
  int64_t service_id, hour;
} hour_key;

/* Rebuilds every dirty unit (hour or block) of SEL_SQL's table in [from, to): runs the statements
 * SQLS (bound ?1 service, ?2 unit start) for each, in order. */
static int rebuild_units(sqlite3 *db, int64_t service_id, int64_t from, int64_t to, uint64_t *done,
                         const char *sel_sql, const char *const *sqls, size_t n_sqls) {
  sqlite3_stmt *sel = NULL, *steps[8] = {0};
  hour_key *keys = NULL;
  size_t n = 0, cap = 0;
  int rc = hours_prep(db, sel_sql, &sel);
  if (rc == 0) {
    sqlite3_bind_int64(sel, 1, service_id);
    sqlite3_bind_int64(sel, 2, from);
    sqlite3_bind_int64(sel, 3, to);
    int s;
    while ((s = sqlite3_step(sel)) == SQLITE_ROW) {
      if (n == cap) {
        size_t nc = cap ? cap * 2 : 64;
        hour_key *nk = realloc(keys, nc * sizeof *nk);
        if (!nk) {
          rc = HUD_ENOMEM;
          break;
        }
        keys = nk;
        cap = nc;
      }
      keys[n++] = (hour_key){sqlite3_column_int64(sel, 0), sqlite3_column_int64(sel, 1)};
    }
    if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
  }
  sqlite3_finalize(sel);
  for (size_t j = 0; j < n_sqls && rc == 0; j++) rc = hours_prep(db, sqls[j], &steps[j]);
  for (size_t i = 0; i < n && rc == 0; i++) {
    for (size_t j = 0; j < n_sqls && rc == 0; j++) {
      sqlite3_reset(steps[j]);
      sqlite3_bind_int64(steps[j], 1, keys[i].service_id);
      sqlite3_bind_int64(steps[j], 2, keys[i].hour);
      if (sqlite3_step(steps[j]) != SQLITE_DONE) {
        fprintf(stderr, "hud-server: hourly aggregates: %s\n", sqlite3_errmsg(db));
        rc = HUD_ESTORE;
      }
    }
    if (rc == 0 && done) (*done)++;
  }
  for (size_t j = 0; j < n_sqls; j++) sqlite3_finalize(steps[j]);
  free(keys);
  return rc;
}

static const char *const k_hour_steps[] = {
    "DELETE FROM fn_hours WHERE service_id = ?1 AND hour = ?2",
    k_materialize,
    "DELETE FROM call_hours WHERE service_id = ?1 AND hour = ?2",
    k_materialize_calls,
    "DELETE FROM flow_fn_hours WHERE service_id = ?1 AND hour = ?2",
    k_materialize_flows,
    "INSERT INTO hours_gen (service_id, gen) VALUES (?1, 1) ON CONFLICT (service_id) DO UPDATE SET gen = gen + 1",
    "DELETE FROM hours_dirty WHERE service_id = ?1 AND hour = ?2",
};

static const char *const k_block_steps[] = {
    "DELETE FROM fn_blocks WHERE service_id = ?1 AND block = ?2",
    k_materialize_blocks,
    "DELETE FROM flow_fn_blocks WHERE service_id = ?1 AND block = ?2",
    k_materialize_flow_blocks,
    "DELETE FROM blocks_dirty WHERE service_id = ?1 AND block = ?2",
};

int srv_hours_materialize(sqlite3 *db, int64_t service_id, int64_t from_hour, int64_t to_hour, uint64_t *done) {
  if (done) *done = 0;
  /* The blocks first: fn_hours and flow_fn_hours are summed from them (one pass over the minute
   * rows instead of two). Both marks come together (ingest, trigger), so clean blocks are exact. */
  int rc = srv_blocks_materialize(db, service_id, from_hour, to_hour, NULL);
  if (rc == 0)
    rc = rebuild_units(db, service_id, from_hour, to_hour, done,
                       "SELECT service_id, hour FROM hours_dirty WHERE (?1 = 0 OR service_id = ?1)"
                       " AND hour >= ?2 AND hour < ?3",
                       k_hour_steps, sizeof k_hour_steps / sizeof *k_hour_steps);
  return rc;
}

int srv_blocks_materialize(sqlite3 *db, int64_t service_id, int64_t from, int64_t to, uint64_t *done) {
  if (done) *done = 0;
  return rebuild_units(db, service_id, from, to, done,
                       "SELECT service_id, block FROM blocks_dirty WHERE (?1 = 0 OR service_id = ?1)"
                       " AND block >= ?2 AND block < ?3",
                       k_block_steps, sizeof k_block_steps / sizeof *k_block_steps);
}

int srv_blocks_dirty_count(sqlite3 *db, int64_t service_id, int64_t from, int64_t to, int64_t *n) {
  sqlite3_stmt *st;
  *n = 0;
  if (to <= from) return 0;
  int rc = hours_prep(db, "SELECT COUNT(*) FROM blocks_dirty WHERE service_id = ?1 AND block >= ?2 AND block < ?3",
                      &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, service_id);
  sqlite3_bind_int64(st, 2, from);
  sqlite3_bind_int64(st, 3, to);
  if (sqlite3_step(st) == SQLITE_ROW) *n = sqlite3_column_int64(st, 0);
  else rc = HUD_ESTORE;
  sqlite3_finalize(st);
  return rc;
}

int srv_hours_dirty_count(sqlite3 *db, int64_t service_id, int64_t from_hour, int64_t to_hour, int64_t *n) {
  sqlite3_stmt *st;
  *n = 0;
  int rc = hours_prep(db, "SELECT COUNT(*) FROM hours_dirty WHERE service_id = ?1 AND hour >= ?2 AND hour < ?3",
                      &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, service_id);
  sqlite3_bind_int64(st, 2, from_hour);
  sqlite3_bind_int64(st, 3, to_hour);
  if (sqlite3_step(st) == SQLITE_ROW) *n = sqlite3_column_int64(st, 0);
  else rc = HUD_ESTORE;
  sqlite3_finalize(st);
  return rc;
}

int srv_hours_generation(sqlite3 *db, int64_t service_id, int64_t *gen) {
  sqlite3_stmt *st;
  *gen = 0;
  int rc = hours_prep(db, "SELECT gen FROM hours_gen WHERE service_id = ?1", &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, service_id);
  int s = sqlite3_step(st);
  if (s == SQLITE_ROW) *gen = sqlite3_column_int64(st, 0);
  else if (s != SQLITE_DONE) rc = HUD_ESTORE;
  sqlite3_finalize(st);
  return rc;
}

int srv_hours_mark_batch(sqlite3 *db, int64_t service_id, const hud_batch *b) {
  /* A batch spans a few hours at most: remember the last few marked, the statement is idempotent. */
  int64_t seen[16];
  size_t n_seen = 0, next = 0;
  sqlite3_stmt *st = NULL;
  int rc = 0;
  for (size_t i = 0; i < b->n_invocations && rc == 0; i++) {
    hud_time_ns ts = b->invocations[i].timestamp;
    int64_t s = ts / 1000000000 - (ts < 0 && ts % 1000000000 ? 1 : 0);
    int64_t h = s - (((s % 3600) + 3600) % 3600);
    size_t k = 0;
    while (k < n_seen && seen[k] != h) k++;
    if (k < n_seen) continue;
    seen[next] = h;
    next = (next + 1) % (sizeof seen / sizeof *seen);
    if (n_seen < sizeof seen / sizeof *seen) n_seen++;
    if (!st && (rc = hours_prep(db,
                                "INSERT INTO hours_dirty (service_id, hour) SELECT ?1, ?2 WHERE NOT EXISTS"
                                " (SELECT 1 FROM hours_dirty WHERE service_id = ?1 AND hour = ?2)",
                                &st)) < 0)
      break;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, service_id);
    sqlite3_bind_int64(st, 2, h);
    if (sqlite3_step(st) != SQLITE_DONE) {
      fprintf(stderr, "hud-server: hourly aggregates: %s\n", sqlite3_errmsg(db));
      rc = HUD_ESTORE;
    }
  }
  sqlite3_finalize(st);
  /* Blocks: the block of each timestamp and that of its hour's start (a late row stored in an
   * hourly slice lands in the hour's first block). */
  int64_t bseen[16];
  n_seen = next = 0;
  st = NULL;
  for (size_t i = 0; i < b->n_invocations && rc == 0; i++) {
    hud_time_ns ts = b->invocations[i].timestamp;
    int64_t s = ts / 1000000000 - (ts < 0 && ts % 1000000000 ? 1 : 0);
    int64_t blk[2] = {s - (((s % 600) + 600) % 600), s - (((s % 3600) + 3600) % 3600)};
    for (int w = 0; w < 2 && rc == 0; w++) {
      size_t k = 0;
      while (k < n_seen && bseen[k] != blk[w]) k++;
      if (k < n_seen) continue;
      bseen[next] = blk[w];
      next = (next + 1) % (sizeof bseen / sizeof *bseen);
      if (n_seen < sizeof bseen / sizeof *bseen) n_seen++;
      if (!st && (rc = hours_prep(db,
                                  "INSERT INTO blocks_dirty (service_id, block) SELECT ?1, ?2 WHERE NOT EXISTS"
                                  " (SELECT 1 FROM blocks_dirty WHERE service_id = ?1 AND block = ?2)",
                                  &st)) < 0)
        break;
      sqlite3_reset(st);
      sqlite3_bind_int64(st, 1, service_id);
      sqlite3_bind_int64(st, 2, blk[w]);
      if (sqlite3_step(st) != SQLITE_DONE) {
        fprintf(stderr, "hud-server: hourly aggregates: %s\n", sqlite3_errmsg(db));
        rc = HUD_ESTORE;
      }
    }
  }
  sqlite3_finalize(st);
  return rc;
}

int srv_hours_settle(sqlite3 *db, int64_t service_id, int64_t now, uint64_t *done) {
  if (done) *done = 0;
  int64_t hour_now = now - (((now % 3600) + 3600) % 3600), block_now = now - (((now % 600) + 600) % 600);
  sqlite3_stmt *sel;
  int rc = hours_prep(db,
                      "SELECT service_id, hour FROM hours_dirty WHERE (?1 = 0 OR service_id = ?1) AND hour < ?2"
                      " ORDER BY hour DESC LIMIT ?3",
                      &sel);
  if (rc < 0) return rc;
  hour_key keys[SRV_HOURS_SETTLE_MAX];
  size_t n = 0;
  sqlite3_bind_int64(sel, 1, service_id);
  sqlite3_bind_int64(sel, 2, hour_now);
  sqlite3_bind_int(sel, 3, SRV_HOURS_SETTLE_MAX);
  int s;
  while (n < SRV_HOURS_SETTLE_MAX && (s = sqlite3_step(sel)) == SQLITE_ROW)
    keys[n++] = (hour_key){sqlite3_column_int64(sel, 0), sqlite3_column_int64(sel, 1)};
  if (n < SRV_HOURS_SETTLE_MAX && s != SQLITE_DONE) rc = HUD_ESTORE;
  sqlite3_finalize(sel);
  /* Each hour with its blocks (an hour is summed from its blocks); then the ended blocks of the
   * running hour, which a window's edge reads. */
  for (size_t i = 0; i < n && rc == 0; i++) {
    uint64_t k = 0;
    rc = srv_hours_materialize(db, keys[i].service_id, keys[i].hour, keys[i].hour + 3600, &k);
    if (done) *done += k;
  }
  if (rc == 0 && block_now > hour_now) rc = srv_blocks_materialize(db, service_id, hour_now, block_now, NULL);
  return rc;
}
