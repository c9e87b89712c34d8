/* The SQLite store's read handle (store_sqlite_read.h): a pooled connection and the window's split
 * between minute slices, 10-minute blocks and hours. Reading never writes: what is dirty is read from
 * the minute slices (exact either way); the fold and maintenance build the rest. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "store_hours.h"
#include "store_sqlite_read.h"

/* Memory map for readers (capped by SQLite's compile-time maximum, 2 GB on Debian). */
#define READ_MMAP_SIZE "4294967296"

int srv_sqlite_read_begin(srv_store *st, int fresh, struct hud_arena *arena, srv_store_read **out) {
  *out = NULL;
  srv_store_read *rd = calloc(1, sizeof *rd);
  if (!rd) return HUD_ENOMEM;
  rd->ops = &srv_store_sqlite_ops;
  rd->st = st;
  rd->arena = arena;
  int rc = fresh ? srv_store_sqlite_reader(st, &rd->db) : srv_store_sqlite_reader_recent(st, &rd->db);
  if (rc < 0) {
    free(rd);
    return rc;
  }
  /* Day-window queries read tens of MB of pages; with SQLite's default 2 MB cache each one comes
   * back through a pread (measured ~1/3 of a day-window top-N's CPU here). The same 64 MB as the
   * writer's cache keeps the hourly tables and recent minutes in the pool's connections; the
   * memory map serves the rest. Both are no-ops once set on a connection. */
  sqlite3_exec(rd->db, "PRAGMA cache_size = -65536; PRAGMA mmap_size = " READ_MMAP_SIZE, NULL, NULL, NULL);
  *out = rd;
  return 0;
}

void srv_sqlite_read_snapshot_end(srv_store_read *rd) {
  if (rd && rd->in_tx) sqlite3_exec(rd->db, "COMMIT", NULL, NULL, NULL);
  if (rd) rd->in_tx = 0;
}

void srv_sqlite_read_end(srv_store_read *rd) {
  if (!rd) return;
  for (size_t i = 0; i < sizeof rd->stmts / sizeof *rd->stmts; i++) sqlite3_finalize(rd->stmts[i]);
  srv_sqlite_read_snapshot_end(rd);
  srv_store_sqlite_reader_release(rd->st, rd->db);
  free(rd);
}

/* Fixes the window; with AGGREGATES, chooses the whole hours of the window that come from fn_hours: the reads that follow run in one
 * read transaction in which no hour of [hour_from, hour_to) is dirty, or the split is dropped. */
int srv_sqlite_read_window(srv_store_read *rd, int64_t service_id, int64_t version_id, int64_t from_s, int64_t to_s,
                           int aggregates) {
  rd->service_id = service_id;
  rd->version_id = version_id;
  rd->from_s = from_s;
  rd->to_s = to_s;
  int64_t h0 = (from_s + 3599) / 3600 * 3600, h1 = to_s / 3600 * 3600;
  rd->hour_from = rd->hour_to = rd->blk_a = rd->blk_b = from_s;
  if (!aggregates) return 0;
  /* HUD_SERVER_HOURLY=off reads minute slices only: the reference the exactness tests compare with. */
  const char *sw = getenv("HUD_SERVER_HOURLY");
  if (sw && strcmp(sw, "off") == 0) return 0;
  if (from_s < 0 || h1 <= h0) return 0;
  /* The completed 10-minute blocks of the partial hours at the edges. */
  int64_t b0 = (from_s + 599) / 600 * 600, b1 = to_s / 600 * 600;
  if (!rd->in_tx) {
    if (sqlite3_exec(rd->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) return 0;
    rd->in_tx = 1;
  }
  int64_t dirty = 1;
  if (srv_hours_dirty_count(rd->db, service_id, h0, h1, &dirty) == 0 && dirty == 0) {
    rd->hour_from = rd->blk_a = h0;
    rd->hour_to = rd->blk_b = h1;
    int64_t da = 1, db = 1;
    if (srv_blocks_dirty_count(rd->db, service_id, b0, h0, &da) == 0 && da == 0 &&
        srv_blocks_dirty_count(rd->db, service_id, h1, b1, &db) == 0 && db == 0) {
      rd->blk_a = b0;
      rd->blk_b = b1;
    }
  }
  return 0;
}
