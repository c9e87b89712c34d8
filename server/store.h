/* hud-server's storage interface: the seam between what the server computes and where rows live.
 *
 * An engine is one file set exporting a const srv_store_ops (below): SQLite (srv_store_sqlite_ops in
 * server/store_sqlite.c, the default: any path) and ClickHouse (srv_store_ch_ops in server/store_ch.c,
 * locations clickhouse://HOST:PORT/DATABASE; its tables and guarantees: server/store_ch.c and
 * docs/architecture.md). server/store.c lists the engines once and routes every srv_store_* call to the
 * handle's engine. Writes are typed calls (ingest, keys, maintenance, the issue writes of
 * srv_store_issues_write). Reads go through a read handle (srv_store_read_begin/_window/_end) and the
 * engine's typed reads (server/store_reads.h), which sum stored rows over a window and return typed
 * rows; what the figures mean (means, rates, trend fits, the slowdown rule, percentiles of merged
 * sketches, the call-graph walk) is computed by engine-neutral code (server/query_figures.c,
 * query_graph.c, query_functions.c). Reads never write: pre-aggregates are built by the engine when it
 * folds and maintains. Ties in the orders reads return are broken by uuid, never by an engine's ids.
 *
 * Not yet engine-neutral: the SQLite engine groups detection inputs into comparison sides in its own
 * passes (store_sqlite_query.c); the ClickHouse engine answers the same reads with one GROUP BY per side.
 *
 * The SQLite engine (everything below this paragraph that names tables or SQL). Every connection
 * (readers and the writer) has these SQL functions registered:
 *   hud_sketch_agg(blob)            aggregate: merged sketch blob of the group (NULL when no input)
 *   hud_sketch_merge(a, b)          scalar: merged blob of two (either may be NULL)
 *   hud_sketch_quantile(blob, q)    scalar: quantile q in [0,1] in ns, NULL for NULL/empty
 *   hud_sketch_count(blob)          scalar: number of values in the sketch
 * e.g. SELECT fn, SUM(count), hud_sketch_quantile(hud_sketch_agg(sketch), 0.95) FROM fn_slices
 *      WHERE service_id = ?1 AND slice >= ?2 AND slice < ?3 GROUP BY fn;
 * They add bins through the one accumulator and blob codec of server/sketch_bins.h.
 *
 * SCHEMA (srv_store_sqlite.c creates it; SRV_STORE_SCHEMA_VERSION in table meta). All times are
 * unix seconds (UTC). Durations are nanoseconds. Ids `fn`, `caller`, `origin_fn`, `caught_fn` are
 * functions.id (INTEGER, per service), never the UUID text; 0 means "none/root/escaped".
 *
 *   meta(key TEXT PRIMARY KEY, value TEXT)
 *   api_keys(id INTEGER PRIMARY KEY, secret_hash BLOB, envs TEXT  -- comma-separated
 *            , label TEXT, created_at INTEGER, revoked_at INTEGER NULL,
 *            roles TEXT NULL)  -- comma-separated role names (auth.h); NULL: made before roles (v1)
 *   services(id INTEGER PRIMARY KEY, env TEXT, name TEXT, first_seen, last_seen, UNIQUE(env, name))
 *   versions(id INTEGER PRIMARY KEY, service_id, version TEXT, first_seen, last_seen,
 *            UNIQUE(service_id, version))                     -- deployments
 *   batches(batch_id TEXT PRIMARY KEY, service_id, version_id, received_at, host, pid, runtime,
 *           sensor_version, rows)                              -- idempotency ledger
 *   functions(id INTEGER PRIMARY KEY, service_id, function_id TEXT  -- the UUID
 *           , name, module_path, file, start_line, end_line, is_async, source_code_hash,
 *           first_seen, last_seen, UNIQUE(service_id, function_id))
 *           INDEX functions_module(service_id, module_path)
 *           name/module_path are NULL until a declaration for the function arrives.
 *   flows(id INTEGER PRIMARY KEY, service_id, flow_id TEXT  -- the UUID of hud_flow
 *           , kind TEXT  -- 'endpoint' | 'consumer'
 *           , method, route, task_name, queue, first_seen, last_seen, UNIQUE(service_id, flow_id))
 *
 *   Time-sliced tables: `slice` = start of the slice, `width` = 60 (per-minute, recent) or 3600
 *   (hourly, after --rollup-after); a window query must sum both widths (WHERE slice >= a AND slice < b).
 *   Counters add, sketches merge when rows meet (ingest of the same slice twice, rollup).
 *
 *   calls(service_id, version_id, slice, width, fn, caller, caller_module TEXT, call_line, flow,
 *         count, sampled_count, sum_duration, sum_squared_duration REAL, self_duration, errors, sketch BLOB,
 *         PRIMARY KEY(service_id, slice, width, fn, caller, caller_module, call_line, flow, version_id))
 *         WITHOUT ROWID;  INDEX calls_fn(fn, slice), INDEX calls_caller(caller, slice)
 *         -- one row per call edge; errors = calls that raised out of fn (sum of its exceptions map);
 *         -- caller_module is the caller's module path only when caller = 0 (module-level code), else ''.
 *   fn_slices(service_id, version_id, slice, width, fn, count, sampled_count, sum_duration,
 *         sum_squared_duration REAL, self_duration, errors, sketch BLOB,
 *         PRIMARY KEY(service_id, slice, width, fn, version_id))  WITHOUT ROWID
 *         INDEX fn_slices_fn(fn, slice)
 *         -- calls collapsed over caller/call_line/flow: use it for top-N and per-file queries.
 *   fn_errors(service_id, version_id, slice, width, fn, type TEXT, count,
 *         PRIMARY KEY(service_id, slice, width, fn, type, version_id))  WITHOUT ROWID
 *         INDEX fn_errors_fn(fn, slice)
 *   flow_slices(service_id, version_id, slice, width, flow, count, errors, sampled_count, sum_duration,
 *         sum_squared_duration REAL, sketch BLOB, PRIMARY KEY(service_id, slice, width, flow, version_id))
 *         WITHOUT ROWID;  INDEX flow_slices_flow(flow, slice)
 *   flow_status(service_id, version_id, slice, width, flow, status INTEGER, count,
 *         PRIMARY KEY(service_id, slice, width, flow, status, version_id))  WITHOUT ROWID
 *   flow_errors(service_id, version_id, slice, width, flow, type TEXT, count,
 *         PRIMARY KEY(service_id, slice, width, flow, type, version_id))  WITHOUT ROWID
 *         -- exceptions escaping the flow, by type
 *   flow_functions(service_id, version_id, slice, width, flow, fn, count, errors, sampled_count,
 *         sum_duration, self_duration, PRIMARY KEY(service_id, slice, width, flow, fn, version_id))
 *         WITHOUT ROWID;  INDEX flow_functions_fn(fn, slice)
 *   exception_flows(service_id, version_id, slice, width, flow, type TEXT, origin_fn, origin_line, path TEXT,
 *         caught_fn, count,
 *         PRIMARY KEY(service_id, slice, width, flow, type, origin_fn, origin_line, path, caught_fn, version_id))
 *         WITHOUT ROWID;  INDEX exception_flows_origin(origin_fn, slice)
 *         -- path: functions.id the exception propagated through (origin's caller first, origin and
 *         -- catcher excluded), space-separated; caught_fn = 0: escaped.
 *   fn_hours, call_hours, flow_fn_hours, fn_blocks, flow_fn_blocks, hours_dirty, blocks_dirty, hours_gen:
 *         hourly and 10-minute pre-aggregates (server/store_hours.h documents them): ingest and a DELETE
 *         trigger mark hours and blocks dirty; a fold rebuilds the ended ones (at most every 30 s, and
 *         for every fresh read), maintenance the rest. The SQLite reads take a window's clean whole hours from fn_hours and only its
 *         partial-hour edges from fn_slices, so day windows read ~24 rows per function instead of
 *         ~1440; answers are the same as summing fn_slices.
 *   issues(issue_id TEXT PRIMARY KEY, service_id, kind TEXT, function_id TEXT, flow_id TEXT,
 *         exception_type TEXT, comparison TEXT, status TEXT  -- open | acknowledged | muted | resolved
 *         , first_seen, last_seen, status_changed_at  -- unix ns
 *         , times_reopened, base_label, cand_label, finding BLOB  -- the detection result (issue_blob.h)
 *         , payload TEXT  -- the hud_issue as the codec encodes it in {"issues": [...]}
 *         , found_since, alerted_at  -- unix ns (0: never alerted)
 *         , alert_pending, cand_version, alerted_version TEXT  -- the lifecycle (issues_store.h)
 *         ) WITHOUT ROWID;  INDEX issues_service(service_id, status, last_seen)
 *         -- written only by the detection runner (server/issues_runner.c) and the status route.
 *   issue_events(id INTEGER PRIMARY KEY, issue_id, at  -- unix ns
 *         , event TEXT  -- opened | resolved | reopened | regressed | acknowledged | muted | unmuted | updated
 *         , note TEXT)  INDEX issue_events_issue(issue_id, id)
 *   fn_versions(service_id, fn, version_id, source_code_hash, first_seen, last_seen,
 *         PRIMARY KEY(service_id, version_id, fn)) WITHOUT ROWID
 *         -- the code hash each version declared (written with the declarations at fold time).
 *   version_spans(version_id INTEGER PRIMARY KEY, service_id, data_from, data_to)
 *         -- first slice and end of the last slice of each version's call and flow rows (fold time;
 *         -- retention does not shrink it). Versions folded before it existed have no row.
 *   journal(id INTEGER PRIMARY KEY AUTOINCREMENT, service_id, version_id, received_at, data BLOB)
 *         -- write-behind (see srv_store_ingest): acknowledged batches not yet folded into the tables
 *         -- above, records in the binary form of server/store_fold.h. Not for queries.
 *
 * Threads: every function here is safe to call from any thread. Writes are serialised internally.
 */
#ifndef SRV_STORE_H
#define SRV_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "hud/sketch.h"

/* 2: api_keys.roles (a v1 file gains the column when opened). 3: issues, issue_events, fn_versions (a
 * v2 file's unused issues table is replaced). 4: the issues' lifecycle columns (found_since, alerted_at,
 * alert_pending, cand_version, alerted_version; a v3 file gains them when opened). */
#define SRV_STORE_SCHEMA_VERSION 4

typedef struct srv_store srv_store;
struct sqlite3;
struct hud_arena;
struct hud_batch; /* hud/model.h */

typedef struct srv_store_options {
  const char *path;           /* the location: a SQLite file (created with its directory's permissions
                                 if missing) or clickhouse://HOST:PORT/DATABASE (created if missing) */
  int64_t rollup_after_s;     /* minute slices older than this become hourly; default 24 h */
  int64_t retention_s;        /* slices older than this are deleted; 0 = keep (hud-server passes its
                                 --retention, default 30 days) */
  int readers;                /* read connections in the pool; default 4 */
  int fold_interval_ms;       /* write-behind: acknowledged batches are folded into the tables at
                                 least this often (and whenever a read needs them); default 5000 */
  size_t fold_memory_bytes;   /* write-behind memory, default 256 MiB: the accumulators (merged batches
                                 and the fold being written) fold early beyond half of it and a batch
                                 waits before merging beyond it; batches being decoded get half as
                                 much more (srv_store_decode_budget); the writer's page cache a quarter
                                 (at most 64 MiB). Less memory means fewer merges per key: more SQLite
                                 work per row */
  int64_t issue_retention_s;  /* resolved issues unchanged for this long are deleted with their events;
                                 0 = keep (hud-server passes its --issue-retention, default 90 days) */
} srv_store_options;

/* Opens (creating the schema when needed) for serving. *OUT owned by the caller, released with
 * srv_store_free(). HUD_ESTORE when the file cannot be opened or has a newer schema. One process
 * serves a file: the store holds an exclusive flock(2) on PATH.lock until srv_store_free(), and
 * HUD_EBUSY means another store (another hud-server) holds it; a second one would fold the same
 * journal again and count every batch twice. */
int srv_store_open(const srv_store_options *opt, srv_store **out);
/* Opens PATH for key administration only (`hud-server keys`), also while a server serves it: no
 * journal replay, no folder, no maintenance, no lock; the srv_store_key_* functions and
 * srv_store_free() are all it may be used for. Each key change is one short transaction (waits
 * up to 30 s for the server's writer), seen by the server's next request. Creates or upgrades the
 * schema when the file is new or older. */
int srv_store_open_keys(const char *path, srv_store **out);
/* Closes every connection (waits for running readers to be released). NULL is a no-op. */
void srv_store_free(srv_store *st);

/* 0 when the store answers a trivial read (for /healthz). */
int srv_store_ping(srv_store *st);

/* ---- ingest ---- */

typedef struct srv_ingest_result {
  int duplicate;          /* 1: the batch id was already stored; nothing was changed */
  uint64_t rows;          /* invocation rows stored (0 when duplicate) */
} srv_ingest_result;

/* Stores a validated batch for environment ENV durably before returning. SQLite: committed = on disk
 * in the WAL with synchronous=FULL. ClickHouse: every INSERT of the batch answered 200, then its row
 * in the batch ledger (docs/architecture.md says what that survives). Concurrent callers share one transaction (group commit), each
 * batch under its own savepoint: a failing batch changes nothing and does not affect the others. NOW is
 * the receive time (unix s) used for first/last seen and for choosing per-minute or hourly slices. A batch id seen before → result->duplicate = 1, 0 returned.
 * Write-behind (SQLite backend): what is committed is the batch id and the batch's records in a
 * journal table; a folder thread merges the journaled batches in memory and writes them to the tables
 * above in one transaction that deletes their journal rows (at least every fold_interval_ms, before
 * every fresh read, before maintenance, at srv_store_free; srv_store_open folds what a crash left)
 * and rebuilds the pre-aggregates of ended hours and blocks (at most every 30 s; always before a
 * fresh read returns). Readers never see
 * part of a batch nor miss an acknowledged one. */
int srv_store_ingest(srv_store *st, const char *env, const struct hud_batch *batch, int64_t now,
                     srv_ingest_result *result);
/* 1 while the last write failed because the disk is full (until a write commits again). */
int srv_store_disk_full(srv_store *st);

/* 1 when a batch of BATCH_ID is stored (or journaled), 0 when not, or a negative HUD_E*. A cheap
 * read for answering a re-sent batch without decoding it; srv_store_ingest still decides. */
int srv_store_batch_known(srv_store *st, const char *batch_id);

/* The budget that ingest charges decoded batches to (half of fold_memory_bytes; the oldest decode
 * always proceeds). Owned by the store. */
struct srv_membudget;
struct srv_membudget *srv_store_decode_budget(srv_store *st);

/* ---- API keys ---- */

typedef struct srv_key_info {
  int64_t id;
  char envs[256];   /* comma-separated */
  char roles[64];   /* comma-separated role names; "" for a key made before roles (NULL column) */
  char label[128];
  int64_t created_at;
  int64_t revoked_at; /* 0 when active */
} srv_key_info;

/* Inserts a key whose secret hashes (SHA-256) to HASH, with ROLES (text, see srv_key_info); *ID
 * receives its id. */
int srv_store_key_insert(srv_store *st, const unsigned char hash[32], const char *envs, const char *roles,
                         const char *label, int64_t now, int64_t *id);
/* Fetches key ID with its hash; HUD_ENOTFOUND when absent. */
int srv_store_key_get(srv_store *st, int64_t id, srv_key_info *info, unsigned char hash[32]);
/* Calls FN for every key, oldest first. */
int srv_store_key_list(srv_store *st, int (*fn)(const srv_key_info *k, void *arg), void *arg);
/* Marks the key revoked (HUD_ENOTFOUND when absent). */
int srv_store_key_revoke(srv_store *st, int64_t id, int64_t now);

/* FN(ARG, SERVICE_IDS, N) is called after every committed fold with the services (services.id) whose
 * rows it wrote; detection wakes on it. It runs on the folding thread after the store's locks are
 * released: it must return quickly (signal a thread) and not wait for the store. NULL removes it. */
void srv_store_on_fold(srv_store *st, void (*fn)(void *arg, const int64_t *service_ids, size_t n), void *arg);

/* ---- maintenance ---- */

typedef struct srv_maintain_result {
  uint64_t rolled_up; /* minute rows folded into hourly rows */
  uint64_t deleted;   /* rows dropped by retention */
  uint64_t issues_deleted; /* resolved issues dropped by issue_retention_s */
} srv_maintain_result;

/* Rolls minute slices older than NOW - rollup_after into hourly ones, applies retention (data and
 * resolved issues; NOW: unix s), and builds the pre-aggregates of every ended hour and block still
 * dirty. */
int srv_store_maintain(srv_store *st, int64_t now, srv_maintain_result *res);

/* ---- stored issues: writes ----
 *
 * The detection runner and the status route change issues (issues_store.h's rows) in one
 * read-modify-write: FN(TX, ARG) reads the rows it changes through TX and writes whole rows and
 * history events back. The SQLite engine runs FN in one write transaction (rolled back when FN
 * returns non-zero; its value is returned); the ClickHouse engine serialises FN within the process
 * (its writes are not undone on failure: see docs/architecture.md). */
typedef struct srv_issue_tx srv_issue_tx;
struct srv_issue_row;
typedef struct srv_issue_tx_ops {
  /* The row of ISSUE_ID in service SID (strings and finding in A); HUD_ENOTFOUND when none. */
  int (*get)(srv_issue_tx *tx, int64_t sid, const char *issue_id, struct hud_arena *a, struct srv_issue_row *out);
  /* Inserts or replaces the whole row R of service SID. */
  int (*put)(srv_issue_tx *tx, int64_t sid, const struct srv_issue_row *r);
  /* Appends one history event of ISSUE_ID at AT (unix ns; NOTE may be NULL). */
  int (*event_add)(srv_issue_tx *tx, const char *issue_id, int64_t at, const char *event, const char *note);
} srv_issue_tx_ops;
int srv_store_issues_write(srv_store *st, int (*fn)(srv_issue_tx *tx, void *arg), void *arg);
int srv_issue_tx_get(srv_issue_tx *tx, int64_t sid, const char *issue_id, struct hud_arena *a,
                     struct srv_issue_row *out);
int srv_issue_tx_put(srv_issue_tx *tx, int64_t sid, const struct srv_issue_row *r);
int srv_issue_tx_event_add(srv_issue_tx *tx, const char *issue_id, int64_t at, const char *event, const char *note);

/* ---- reads ----
 *
 * A request reads through one handle: a consistent view of the store (as of the last fold, or FRESH:
 * after every batch acknowledged before the call is folded; HUD_EBUSY when that fold fails). Reads
 * never write. The typed reads are the engine's srv_store_reads (store_reads.h); what the figures
 * mean is computed by engine-neutral code (query_figures.h, query_graph.c, query_functions.c). */
typedef struct srv_store_read srv_store_read;
struct hud_arena;
struct srv_store_reads;
/* *OUT owned by the caller, released with srv_store_read_end(); what reads return lives in ARENA. */
int srv_store_read_begin(srv_store *st, int fresh, struct hud_arena *arena, srv_store_read **out);
/* Fixes the service, version (0 = all) and window [FROM_S, TO_S) that the following reads cover.
 * AGGREGATES: the reads will sum time-sliced rows (the engine then picks its pre-aggregates for the
 * window and holds one snapshot from here on); 0 for reads of stored issues and names only. */
int srv_store_read_window(srv_store_read *rd, int64_t service_id, int64_t version_id, int64_t from_s, int64_t to_s,
                          int aggregates);
/* Ends the snapshot the window opened (the handle stays usable): before a long write, so that a
 * reader does not hold old data. */
void srv_store_read_snapshot_end(srv_store_read *rd);
void srv_store_read_end(srv_store_read *rd);
/* The typed reads of RD's engine. */
const struct srv_store_reads *srv_store_read_ops(const srv_store_read *rd);

/* ---- engines ----
 *
 * An engine is one file exporting a const srv_store_ops (SQLite: srv_store_sqlite_ops in
 * store_sqlite.c); server/store.c lists the engines once, opens a location with the first that
 * accepts it and routes every srv_store_* call above through the handle's table. An engine's store
 * and read handle structs begin with their `const srv_store_ops *ops`. Entries mean what the
 * srv_store_* function of the same name says. */
typedef struct srv_store_ops {
  const char *name;
  int (*accepts)(const char *location); /* 1: this engine serves LOCATION (path or URL) */
  int (*open)(const srv_store_options *opt, srv_store **out);
  int (*open_keys)(const char *location, srv_store **out);
  void (*free)(srv_store *st);
  int (*ping)(srv_store *st);
  int (*ingest)(srv_store *st, const char *env, const struct hud_batch *batch, int64_t now, srv_ingest_result *result);
  int (*batch_known)(srv_store *st, const char *batch_id);
  struct srv_membudget *(*decode_budget)(srv_store *st);
  void (*on_fold)(srv_store *st, void (*fn)(void *arg, const int64_t *service_ids, size_t n), void *arg);
  int (*key_insert)(srv_store *st, const unsigned char hash[32], const char *envs, const char *roles,
                    const char *label, int64_t now, int64_t *id);
  int (*key_get)(srv_store *st, int64_t id, srv_key_info *info, unsigned char hash[32]);
  int (*key_list)(srv_store *st, int (*fn)(const srv_key_info *k, void *arg), void *arg);
  int (*key_revoke)(srv_store *st, int64_t id, int64_t now);
  int (*disk_full)(srv_store *st);
  int (*maintain)(srv_store *st, int64_t now, srv_maintain_result *res);
  int (*issues_write)(srv_store *st, int (*fn)(srv_issue_tx *tx, void *arg), void *arg);
  int (*read_begin)(srv_store *st, int fresh, struct hud_arena *arena, srv_store_read **out);
  int (*read_window)(srv_store_read *rd, int64_t service_id, int64_t version_id, int64_t from_s, int64_t to_s,
                     int aggregates);
  void (*read_snapshot_end)(srv_store_read *rd);
  void (*read_end)(srv_store_read *rd);
  const struct srv_store_reads *reads;
} srv_store_ops;

/* ---- SQLite backend: raw connections (tests and tools) ---- */

/* Borrows a read-only connection (PRAGMA query_only) from the pool, blocking while all are in use.
 * First waits until every batch acknowledged before the call is in the tables (write-behind, see
 * srv_store_ingest); HUD_EBUSY when that fold fails (the batches stay journaled: retry later).
 * Give it back with srv_store_sqlite_reader_release() from the same thread; do not close it.
 * Prepared statements must be finalized (or cached per connection with sqlite3_set_auxdata-like
 * care) before release. HUD_EUNSUPPORTED on a non-SQLite backend. */
int srv_store_sqlite_reader(srv_store *st, struct sqlite3 **db);
/* The same without waiting for the fold: the tables as of the last fold, at most fold_interval_ms
 * behind ingest. What the query API reads (srv_store_read_begin) unless a request asks for fresh data: under heavy
 * ingest a fold per query would cost every query the fold (~0.5 s at 100k rows/s) and cut the
 * merges that make ingest cheap. */
int srv_store_sqlite_reader_recent(srv_store *st, struct sqlite3 **db);
void srv_store_sqlite_reader_release(srv_store *st, struct sqlite3 *db);

/* Runs FN(db, ARG) on the writer connection inside BEGIN IMMEDIATE ... COMMIT (ROLLBACK when FN
 * returns non-zero; its value is returned). */
int srv_store_sqlite_write(srv_store *st, int (*fn)(struct sqlite3 *db, void *arg), void *arg);

/* ---- sketch blobs ---- */

/* The blob codec and the bin accumulator are server/sketch_bins.h (engine-neutral). */
#include "sketch_bins.h"

#endif
