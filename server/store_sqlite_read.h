/* The SQLite store's read handle (store.h's srv_store_read), private to the SQLite files: a pooled
 * read connection, its read transaction, and the pre-aggregate bookkeeping of the request's window
 * (which whole hours and 10-minute blocks are clean, store_hours.h). No other file sees it. */
#ifndef SRV_STORE_SQLITE_READ_H
#define SRV_STORE_SQLITE_READ_H

#include <stdint.h>

#include "store.h"

struct sqlite3;

struct srv_store_read {
  const srv_store_ops *ops; /* first: store.c routes calls through it */
  srv_store *st;
  struct hud_arena *arena; /* where reads put what they return */
  struct sqlite3 *db;
  int in_tx; /* a read transaction is open (srv_store_read_window) */
  int64_t service_id, version_id, from_s, to_s; /* the window (srv_store_read_window); version 0 = all */
  /* Whole hours [hour_from, hour_to) of the window read from fn_hours, the edges [from_s, hour_from)
   * and [hour_to, to_s) from fn_slices; hour_from = hour_to = from_s when the window has no whole
   * hour or one of them is dirty (then everything comes from fn_slices). */
  int64_t hour_from, hour_to;
  /* The all-functions top-N scan also splits the edges: 10-minute blocks [blk_a, hour_from) and
   * [hour_to, blk_b) from fn_blocks / flow_fn_blocks, minutes [from_s, blk_a) and [blk_b, to_s);
   * blk_a = hour_from and blk_b = hour_to when a block there is dirty (or no hour split). */
  int64_t blk_a, blk_b;
  /* Statements a request runs once per function (the call-graph walk), prepared once per handle and
   * finalized by srv_sqlite_read_end (store_sqlite_query.c's SQ_ST_*). */
  struct sqlite3_stmt *stmts[2];
};

/* The engine's entries of srv_store_sqlite_ops (store_sqlite_read.c, store_sqlite_query.c). */
int srv_sqlite_read_begin(srv_store *st, int fresh, struct hud_arena *arena, srv_store_read **out);
int srv_sqlite_read_window(srv_store_read *rd, int64_t service_id, int64_t version_id, int64_t from_s, int64_t to_s,
                           int aggregates);
void srv_sqlite_read_snapshot_end(srv_store_read *rd);
void srv_sqlite_read_end(srv_store_read *rd);
extern const struct srv_store_reads srv_store_sqlite_reads;

/* What one store's queries keep between requests (store_sqlite_query.c), owned by the store. */
typedef struct srv_sqlite_qcache srv_sqlite_qcache;
srv_sqlite_qcache *srv_sqlite_qcache_new(void);
void srv_sqlite_qcache_free(srv_sqlite_qcache *c);
srv_sqlite_qcache *srv_sqlite_qcache_of(srv_store *st);
extern const srv_store_ops srv_store_sqlite_ops;

#endif
