/* Hourly pre-aggregates of fn_slices and calls (server/store_sqlite_hours.c), so that day-long
 * windows read 24 rows per function (or call edge) instead of ~1440 minute rows.
 *
 *   fn_hours(service_id, hour, fn, version_id, count, errors, sampled_count, sum_duration,
 *            sum_squared_duration REAL, self_duration, sketch BLOB,
 *            dn, du, duu, dy, duy, en, eu, euu, ey, euy  -- trend sums, see below
 *            PRIMARY KEY(service_id, hour, fn, version_id)) WITHOUT ROWID;  INDEX fn_hours_fn(fn, hour)
 *            INDEX fn_hours_scan(service_id, version_id, hour, fn, <every column but sketch>)  -- covering
 *     One row per function and hour = the sum of EVERY fn_slices row (minute and hourly widths) whose
 *     slice lies in [hour, hour + 3600), per version, plus a row with version_id = 0 for all versions
 *     together (versions.id starts at 1). Counters add, sketches merge (exactly: bin counts add).
 *     Trend sums: the query's trends are least-squares fits over the window's slices (one point per
 *     slice, versions summed); an hour keeps, over its points, with u = (slice - hour) / 3600 and
 *     y = mean duration (d*) or error rate (e*) of the point: n = points with y defined, sum u,
 *     sum u^2, sum y, sum u*y. The query shifts them by the hour's offset in the window.
 *   call_hours(service_id, hour, fn, caller, caller_module, call_line, flow, version_id, count,
 *            sampled_count, sum_duration, sum_squared_duration REAL, self_duration, errors,
 *            PRIMARY KEY(service_id, hour, fn, caller, caller_module, call_line, flow, version_id))
 *            WITHOUT ROWID;  INDEX call_hours_fn(fn, hour), INDEX call_hours_caller(caller, hour)
 *     One row per call edge, version and hour = the sum of every calls row (any width) whose slice
 *     lies in [hour, hour + 3600). Per version only (no version 0 row): readers filter versions as
 *     on calls. No sketches: no query reads call-edge percentiles.
 *   flow_fn_hours(service_id, flow, version_id, hour, fn, <fn_hours' columns from count to euy>,
 *            PRIMARY KEY(service_id, flow, version_id, hour, fn)) WITHOUT ROWID;
 *            INDEX flow_fn_hours_fn(fn, flow, hour), INDEX flow_fn_hours_hour(service_id, hour),
 *            INDEX flow_fn_hours_scan(service_id, flow, version_id, hour, fn, <every column but sketch>)
 *     fn_hours for one flow: the sum of every calls row of the flow, function and hour (callers
 *     summed), per version plus version_id 0 for all versions, with the merged sketch and the trend
 *     sums over the points a flow's top-N fits (one per slice: that slice's calls rows of the flow
 *     and function summed).
 *   fn_blocks(service_id, version_id, block, fn, <fn_hours' columns from count to euy>,
 *            PRIMARY KEY(service_id, version_id, block, fn)) WITHOUT ROWID;  INDEX (service_id, block)
 *   flow_fn_blocks(service_id, flow, version_id, block, fn, <the same>,
 *            PRIMARY KEY(service_id, flow, version_id, block, fn)) WITHOUT ROWID;  INDEX (service_id, block),
 *            INDEX flow_fn_blocks_fn(fn, flow, block)
 *     fn_hours and flow_fn_hours per 10-minute block (block = slice - slice mod 600; trend sums with
 *     u in hours from the block's start), for the partial hours at a top-N window's edges.
 *   blocks_dirty(service_id, block, PRIMARY KEY(service_id, block)) WITHOUT ROWID
 *     As hours_dirty for the blocks: ingest marks the block of every timestamp and the first block
 *     of its hour (where a late row in an hourly slice lands); the fn_slices DELETE trigger marks
 *     the deleted rows' blocks. A fold rebuilds the ended blocks of the hours it builds and of the
 *     running hour (srv_hours_settle; at most every 30 s and for every fresh read); maintenance every
 *     ended block still dirty. Queries never build.
 *   hours_gen(service_id INTEGER PRIMARY KEY, gen)
 *     Incremented in the transaction that rebuilds any hour of the service: equal generations (read
 *     in a read transaction) mean equal fn_hours and call_hours rows, so merged hours can be cached.
 *   hours_dirty(service_id, hour, PRIMARY KEY(service_id, hour)) WITHOUT ROWID
 *     Hours whose fn_hours, call_hours and flow_fn_hours rows are stale (one mark for all tables). Ingest adds the hours of every batch it stores
 *     (srv_hours_mark_batch, one call in the ingest transaction); a DELETE trigger on fn_slices adds
 *     the hours whose rows rollup and retention delete (the rollup's hourly upserts always come with
 *     the deletion of that hour's minute rows). No INSERT/UPDATE trigger: it would make every ingest
 *     upsert open a statement journal (measured several times slower on large batches).
 *     calls needs no trigger of its own: ingest writes a fn_slices row for the (service, slice,
 *     width, version) of every calls row, and rollup/retention delete both tables' rows of the
 *     same slices, so fn_slices' DELETE trigger marks every hour whose calls rows change.
 *
 * Invariant: for an hour NOT in hours_dirty, fn_hours holds exactly the aggregate of fn_slices for it
 * and call_hours and flow_fn_hours those of calls; for a block NOT in blocks_dirty, fn_blocks and
 * flow_fn_blocks likewise.
 * Readers therefore take whole hours from fn_hours only when none of them is dirty (checked inside
 * the same read transaction), the partial-hour edges from fn_slices, and never both for one hour:
 * no double counting with the rollup (which only moves rows within fn_slices and re-dirties the hour). */
#ifndef SRV_STORE_HOURS_H
#define SRV_STORE_HOURS_H

#include <stdint.h>

struct sqlite3;

/* Creates fn_hours, call_hours, flow_fn_hours, hours_dirty and the triggers when missing (inside the caller's
 * transaction). When any of the hourly tables is new and the store has rows (a store from before that
 * table), every stored hour is marked dirty so the next materialization builds them. */
int srv_hours_schema(struct sqlite3 *db);

/* Rebuilds the fn_hours, call_hours and flow_fn_hours rows of every dirty hour in [from_hour, to_hour) of SERVICE_ID (0 = every
 * service) and clears their dirty marks; *DONE (may be NULL) receives the number of hours rebuilt.
 * Runs in the caller's write transaction. */
int srv_hours_materialize(struct sqlite3 *db, int64_t service_id, int64_t from_hour, int64_t to_hour,
                          uint64_t *done);

/* Marks dirty the hours (of any slice width) of every invocation of B, stored for SERVICE_ID in
 * the caller's (ingest) transaction. */
struct hud_batch;
int srv_hours_mark_batch(struct sqlite3 *db, int64_t service_id, const struct hud_batch *b);

/* Number of dirty hours of SERVICE_ID in [from_hour, to_hour) on connection DB (a reader is fine). */
int srv_hours_dirty_count(struct sqlite3 *db, int64_t service_id, int64_t from_hour, int64_t to_hour,
                          int64_t *n);

/* Generation of SERVICE_ID's hourly rows (hours_gen; 0 when never built), read on DB. */
int srv_hours_generation(struct sqlite3 *db, int64_t service_id, int64_t *gen);

/* Most dirty hours one fold builds (srv_hours_settle); more are left to maintenance, and queries over
 * them read minute slices meanwhile. */
#define SRV_HOURS_SETTLE_MAX 48

/* Fold path (in a fold's write transaction): rebuilds the SRV_HOURS_SETTLE_MAX most recent dirty
 * hours of SERVICE_ID (0 = every service) that ended by NOW (a receive time), with their blocks, and
 * the dirty blocks of NOW's hour that ended by NOW. Queries never build anything: they read what is
 * clean and fall back to minute slices for the rest. *DONE (may be NULL): hours rebuilt. */
int srv_hours_settle(struct sqlite3 *db, int64_t service_id, int64_t now, uint64_t *done);

/* 10-minute blocks (fn_blocks, flow_fn_blocks; see the top of this file): rebuilds the dirty blocks
 * of SERVICE_ID (0 = every service) in [from, to) in the caller's write transaction. */
int srv_blocks_materialize(struct sqlite3 *db, int64_t service_id, int64_t from, int64_t to, uint64_t *done);

/* Number of dirty blocks of SERVICE_ID in [from, to) on DB (0 when to <= from). */
int srv_blocks_dirty_count(struct sqlite3 *db, int64_t service_id, int64_t from, int64_t to, int64_t *n);

#endif
