/* The SQLite store: schema, WAL, one durable transaction per batch, idempotency, per-minute slices
 * rolled up to hourly ones, retention, sketch SQL functions and the reader pool. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "hud/err.h"
#include "hud/model.h"
#include "issues_store.h"
#include "membudget.h"
#include "metrics.h"
#include "sat.h"
#include "sketch_bins.h"
#include "store.h"
#include "store_fold.h"
#include "store_hours.h"
#include "store_sqlite_read.h"

#define DEFAULT_ROLLUP_S (24 * 3600)
#define MAX_READERS 32
#define FOLD_INTERVAL_MS_DEFAULT 5000
/* Write-behind memory (srv_store_options.fold_memory_bytes): the accumulators; batches being decoded
 * get half as much more (srv_store_decode_budget); see fold_soft. */
#define FOLD_MEMORY_DEFAULT ((size_t)256 << 20)
#define IDLE_RELEASE_S 2.0
#define FOLD_HOOK_SIDS 64 /* services one fold reports (fold_services) */
/* A fold rebuilds the pre-aggregates of ended hours and blocks at most this often unless a fresh read
 * waits for it: late data re-dirties ended blocks, and rebuilding them every fold cost a backfill
 * ~40% of its ingest rate (bench/store.sh). */
#define SETTLE_INTERVAL_S 30.0
#define WRITER_CACHE_MAX ((size_t)64 << 20) /* the writer's SQLite page cache, at most a quarter of it */

/* Sketch SQL functions add bins through the one accumulator of sketch_bins.h. */
typedef srv_bins_acc bins_acc;
#define acc_free srv_acc_free
#define acc_add_blob srv_acc_add_blob
#define acc_encode srv_acc_encode

/* ---- SQL functions ---- */

static int arg_sketch(sqlite3_value *v, hud_sketch **out) {
  *out = NULL;
  if (sqlite3_value_type(v) == SQLITE_NULL) return 0;
  const void *b = sqlite3_value_blob(v);
  int n = sqlite3_value_bytes(v);
  return srv_sketch_blob_decode(b, (size_t)n, out);
}

static void result_acc(sqlite3_context *ctx, bins_acc *a) {
  unsigned char *blob;
  size_t len;
  if (acc_encode(a, &blob, &len) < 0) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_blob(ctx, blob, (int)len, free);
}

static int acc_add_value(bins_acc *a, sqlite3_value *v) {
  if (sqlite3_value_type(v) == SQLITE_NULL) return 0;
  const void *b = sqlite3_value_blob(v);
  return acc_add_blob(a, b, (size_t)sqlite3_value_bytes(v));
}

static void fn_sketch_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_value(ctx, sqlite3_value_type(argv[0]) == SQLITE_NULL ? argv[1] : argv[0]);
    return;
  }
  bins_acc a = {0};
  int rc = acc_add_value(&a, argv[0]);
  if (rc == 0) rc = acc_add_value(&a, argv[1]);
  if (rc < 0)
    sqlite3_result_error(ctx, "hud_sketch_merge: bad or incompatible sketch blob", -1);
  else
    result_acc(ctx, &a);
  acc_free(&a);
}

typedef struct agg_state {
  bins_acc acc;
  int bad;
} agg_state;

static void fn_sketch_agg_step(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  agg_state *st = sqlite3_aggregate_context(ctx, sizeof *st);
  if (!st) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  if (acc_add_value(&st->acc, argv[0]) < 0) st->bad = 1;
}

static void fn_sketch_agg_final(sqlite3_context *ctx) {
  agg_state *st = sqlite3_aggregate_context(ctx, 0);
  if (!st || !st->acc.set) {
    sqlite3_result_null(ctx);
  } else if (st->bad) {
    sqlite3_result_error(ctx, "hud_sketch_agg: bad or incompatible sketch blob", -1);
  } else {
    result_acc(ctx, &st->acc);
  }
  if (st) acc_free(&st->acc);
}

static void fn_sketch_quantile(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  hud_sketch *s;
  double v;
  if (arg_sketch(argv[0], &s) < 0 || !s || hud_sketch_quantile(s, sqlite3_value_double(argv[1]), &v) < 0) {
    sqlite3_result_null(ctx);
  } else {
    sqlite3_result_double(ctx, v);
  }
  hud_sketch_free(s);
}

static void fn_sketch_count(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  bins_acc a = {0};
  uint64_t n = 0;
  if (acc_add_value(&a, argv[0]) == 0) {
    n = a.zero;
    for (size_t i = 0; i < a.n; i++) n = srv_sat_addu(n, a.counts[i]);
  }
  acc_free(&a);
  sqlite3_result_int64(ctx, (sqlite3_int64)n);
}

/* hud_sum(x): SUM() that saturates (sat.h) where SUM() fails with "integer overflow": integers stop at
 * INT64_MAX, reals at SRV_SUMSQ_MAX. As SUM(): NULL without values, a real once a value is real. */
typedef struct sum_state {
  int64_t i;
  double d;
  int any, real;
} sum_state;

static void fn_sum_step(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  int t = sqlite3_value_numeric_type(argv[0]);
  if (t == SQLITE_NULL) return;
  sum_state *st = sqlite3_aggregate_context(ctx, sizeof *st);
  if (!st) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  st->any = 1;
  if (t == SQLITE_INTEGER) {
    st->i = srv_sat_add(st->i, sqlite3_value_int64(argv[0]));
  } else {
    st->real = 1;
    st->d = srv_sat_addf(st->d, sqlite3_value_double(argv[0]));
  }
}

static void fn_sum_final(sqlite3_context *ctx) {
  sum_state *st = sqlite3_aggregate_context(ctx, 0);
  if (!st || !st->any) sqlite3_result_null(ctx);
  else if (st->real) sqlite3_result_double(ctx, srv_sat_addf(st->d, (double)st->i));
  else sqlite3_result_int64(ctx, st->i);
}

static int register_functions(sqlite3 *db) {
  int f = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
  if (sqlite3_create_function(db, "hud_sketch_merge", 2, f, NULL, fn_sketch_merge, NULL, NULL) ||
      sqlite3_create_function(db, "hud_sketch_agg", 1, f, NULL, NULL, fn_sketch_agg_step, fn_sketch_agg_final) ||
      sqlite3_create_function(db, "hud_sketch_quantile", 2, f, NULL, fn_sketch_quantile, NULL, NULL) ||
      sqlite3_create_function(db, "hud_sketch_count", 1, f, NULL, fn_sketch_count, NULL, NULL) ||
      sqlite3_create_function(db, "hud_sum", 1, f, NULL, NULL, fn_sum_step, fn_sum_final))
    return HUD_ESTORE;
  return 0;
}

/* ---- time-sliced tables, described once ---- */

typedef struct sliced_table {
  const char *name;
  const char *keys[7];  /* "name TYPE" between width and version_id in the primary key */
  const char *sums[7];  /* "name TYPE", added on conflict */
  int sketch;
  const char *index;    /* extra index column list, NULL = none */
  const char *index2;
} sliced_table;

enum { T_CALLS, T_FN_SLICES, T_FN_ERRORS, T_FLOW_SLICES, T_FLOW_STATUS, T_FLOW_ERRORS, T_FLOW_FUNCTIONS,
       T_EXC_FLOWS, T_COUNT };

static const sliced_table k_tables[T_COUNT] = {
    [T_CALLS] = {"calls",
                 {"fn INTEGER", "caller INTEGER", "caller_module TEXT", "call_line INTEGER", "flow INTEGER"},
                 {"count INTEGER", "sampled_count INTEGER", "sum_duration INTEGER", "sum_squared_duration REAL",
                  "self_duration INTEGER", "errors INTEGER"},
                 1, "fn, slice", "caller, slice"},
    [T_FN_SLICES] = {"fn_slices",
                     {"fn INTEGER"},
                     {"count INTEGER", "sampled_count INTEGER", "sum_duration INTEGER", "sum_squared_duration REAL",
                      "self_duration INTEGER", "errors INTEGER"},
                     1, "fn, slice", NULL},
    [T_FN_ERRORS] = {"fn_errors", {"fn INTEGER", "type TEXT"}, {"count INTEGER"}, 0, "fn, slice", NULL},
    [T_FLOW_SLICES] = {"flow_slices",
                       {"flow INTEGER"},
                       {"count INTEGER", "errors INTEGER", "sampled_count INTEGER", "sum_duration INTEGER",
                        "sum_squared_duration REAL"},
                       1, "flow, slice", NULL},
    [T_FLOW_STATUS] = {"flow_status", {"flow INTEGER", "status INTEGER"}, {"count INTEGER"}, 0, NULL, NULL},
    [T_FLOW_ERRORS] = {"flow_errors", {"flow INTEGER", "type TEXT"}, {"count INTEGER"}, 0, NULL, NULL},
    [T_FLOW_FUNCTIONS] = {"flow_functions",
                          {"flow INTEGER", "fn INTEGER"},
                          {"count INTEGER", "errors INTEGER", "sampled_count INTEGER", "sum_duration INTEGER",
                           "self_duration INTEGER"},
                          0, "fn, slice", NULL},
    [T_EXC_FLOWS] = {"exception_flows",
                     {"flow INTEGER", "type TEXT", "origin_fn INTEGER", "origin_line INTEGER", "path TEXT",
                      "caught_fn INTEGER"},
                     {"count INTEGER"},
                     0, "origin_fn, slice", NULL},
};

static size_t count_cols(const char *const *cols) {
  size_t n = 0;
  while (n < 7 && cols[n]) n++;
  return n;
}

/* Appends the column NAMES of COLS ("a, b"), each prefixed with PREFIX. */
static void append_names(FILE *f, const char *const *cols, const char *prefix, const char *sep_first) {
  for (size_t i = 0; i < count_cols(cols); i++) {
    const char *sp = strchr(cols[i], ' ');
    fprintf(f, "%s%s%.*s", i == 0 ? sep_first : ", ", prefix, (int)(sp - cols[i]), cols[i]);
  }
}

static char *table_ddl(const sliced_table *t) {
  char *s = NULL;
  size_t n;
  FILE *f = open_memstream(&s, &n);
  fprintf(f, "CREATE TABLE IF NOT EXISTS %s (service_id INTEGER NOT NULL, version_id INTEGER NOT NULL, "
             "slice INTEGER NOT NULL, width INTEGER NOT NULL",
          t->name);
  for (size_t i = 0; i < count_cols(t->keys); i++) fprintf(f, ", %s NOT NULL", t->keys[i]);
  for (size_t i = 0; i < count_cols(t->sums); i++) fprintf(f, ", %s NOT NULL DEFAULT 0", t->sums[i]);
  if (t->sketch) fprintf(f, ", sketch BLOB");
  fprintf(f, ", PRIMARY KEY (service_id, slice, width");
  append_names(f, t->keys, "", ", ");
  fprintf(f, ", version_id)) WITHOUT ROWID;\n");
  if (t->index) fprintf(f, "CREATE INDEX IF NOT EXISTS %s_%.*s ON %s(%s);\n", t->name,
                        (int)strcspn(t->index, ","), t->index, t->name, t->index);
  if (t->index2) fprintf(f, "CREATE INDEX IF NOT EXISTS %s_%.*s ON %s(%s);\n", t->name,
                         (int)strcspn(t->index2, ","), t->index2, t->name, t->index2);
  fclose(f);
  return s;
}

/* "col = col + excluded.col" that saturates (sat.h): integers (never negative) stop at INT64_MAX rather
 * than turning into a REAL, reals at SRV_SUMSQ_MAX rather than infinity. */
static void append_sum_update(FILE *f, const char *col, int first) {
  int len = (int)strcspn(col, " ");
  if (strstr(col, " REAL"))
    fprintf(f, "%s%.*s = MIN(%.*s + excluded.%.*s, " SRV_SUMSQ_MAX_SQL ")", first ? "" : ", ", len, col, len, col,
            len, col);
  else
    fprintf(f, "%s%.*s = CASE WHEN excluded.%.*s > 9223372036854775807 - %.*s THEN 9223372036854775807 ELSE %.*s"
               " + excluded.%.*s END",
            first ? "" : ", ", len, col, len, col, len, col, len, col, len, col);
}

/* INSERT ... ON CONFLICT DO UPDATE adding the sums and merging the sketch. Parameters: service_id,
 * version_id, slice, width, keys..., sums..., [sketch]. */
static char *table_upsert(const sliced_table *t) {
  char *s = NULL;
  size_t n;
  FILE *f = open_memstream(&s, &n);
  size_t nk = count_cols(t->keys), ns = count_cols(t->sums);
  fprintf(f, "INSERT INTO %s (service_id, version_id, slice, width", t->name);
  append_names(f, t->keys, "", ", ");
  append_names(f, t->sums, "", ", ");
  if (t->sketch) fprintf(f, ", sketch");
  fprintf(f, ") VALUES (?");
  for (size_t i = 1; i < 4 + nk + ns + (size_t)t->sketch; i++) fprintf(f, ", ?");
  fprintf(f, ") ON CONFLICT (service_id, slice, width");
  append_names(f, t->keys, "", ", ");
  fprintf(f, ", version_id) DO UPDATE SET ");
  for (size_t i = 0; i < ns; i++) append_sum_update(f, t->sums[i], i == 0);
  if (t->sketch) fprintf(f, ", sketch = hud_sketch_merge(sketch, excluded.sketch)");
  fclose(f);
  return s;
}

/* Folds minute rows older than ?1 into hourly rows. */
static char *table_rollup(const sliced_table *t) {
  char *s = NULL;
  size_t n;
  FILE *f = open_memstream(&s, &n);
  size_t ns = count_cols(t->sums);
  fprintf(f, "INSERT INTO %s (service_id, version_id, slice, width", t->name);
  append_names(f, t->keys, "", ", ");
  append_names(f, t->sums, "", ", ");
  if (t->sketch) fprintf(f, ", sketch");
  fprintf(f, ") SELECT service_id, version_id, (slice / 3600) * 3600, 3600");
  append_names(f, t->keys, "", ", ");
  for (size_t i = 0; i < ns; i++) {
    int len = (int)strcspn(t->sums[i], " ");
    fprintf(f, ", hud_sum(%.*s)", len, t->sums[i]);
  }
  if (t->sketch) fprintf(f, ", hud_sketch_agg(sketch)");
  fprintf(f, " FROM %s WHERE width = 60 AND slice < ?1 GROUP BY service_id, version_id, (slice / 3600)", t->name);
  append_names(f, t->keys, "", ", ");
  fprintf(f, " ON CONFLICT (service_id, slice, width");
  append_names(f, t->keys, "", ", ");
  fprintf(f, ", version_id) DO UPDATE SET ");
  for (size_t i = 0; i < ns; i++) append_sum_update(f, t->sums[i], i == 0);
  if (t->sketch) fprintf(f, ", sketch = hud_sketch_merge(sketch, excluded.sketch)");
  fclose(f);
  return s;
}

static const char k_schema[] =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);\n"
    "CREATE TABLE IF NOT EXISTS api_keys (id INTEGER PRIMARY KEY, secret_hash BLOB NOT NULL, envs TEXT NOT NULL,"
    " label TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, revoked_at INTEGER, roles TEXT);\n"
    "CREATE TABLE IF NOT EXISTS services (id INTEGER PRIMARY KEY, env TEXT NOT NULL, name TEXT NOT NULL,"
    " first_seen INTEGER, last_seen INTEGER, UNIQUE (env, name));\n"
    "CREATE TABLE IF NOT EXISTS versions (id INTEGER PRIMARY KEY, service_id INTEGER NOT NULL,"
    " version TEXT NOT NULL, first_seen INTEGER, last_seen INTEGER, UNIQUE (service_id, version));\n"
    "CREATE TABLE IF NOT EXISTS batches (batch_id TEXT PRIMARY KEY, service_id INTEGER, version_id INTEGER,"
    " received_at INTEGER, host TEXT, pid INTEGER, runtime TEXT, sensor_version TEXT, rows INTEGER)"
    " WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS batches_received ON batches(received_at);\n"
    "CREATE TABLE IF NOT EXISTS functions (id INTEGER PRIMARY KEY, service_id INTEGER NOT NULL,"
    " function_id TEXT NOT NULL, name TEXT, module_path TEXT, file TEXT, start_line INTEGER, end_line INTEGER,"
    " is_async INTEGER, source_code_hash TEXT, first_seen INTEGER, last_seen INTEGER,"
    " UNIQUE (service_id, function_id));\n"
    "CREATE INDEX IF NOT EXISTS functions_module ON functions(service_id, module_path);\n"
    "CREATE TABLE IF NOT EXISTS flows (id INTEGER PRIMARY KEY, service_id INTEGER NOT NULL,"
    " flow_id TEXT NOT NULL, kind TEXT NOT NULL, method TEXT, route TEXT, task_name TEXT, queue TEXT,"
    " first_seen INTEGER, last_seen INTEGER, UNIQUE (service_id, flow_id));\n"
    /* Detected issues (server/issues_runner.c writes them, server/query_issues.c reads them). */
    "CREATE TABLE IF NOT EXISTS issues (issue_id TEXT PRIMARY KEY, service_id INTEGER NOT NULL,"
    " kind TEXT NOT NULL, function_id TEXT, flow_id TEXT, exception_type TEXT, comparison TEXT NOT NULL,"
    " status TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    " status_changed_at INTEGER NOT NULL, times_reopened INTEGER NOT NULL DEFAULT 0,"
    " base_label TEXT, cand_label TEXT, finding BLOB, payload TEXT NOT NULL, found_since INTEGER NOT NULL DEFAULT 0,"
    " alerted_at INTEGER NOT NULL DEFAULT 0, alert_pending TEXT, cand_version TEXT, alerted_version TEXT)"
    " WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS issues_service ON issues(service_id, status, last_seen);\n"
    "CREATE TABLE IF NOT EXISTS issue_events (id INTEGER PRIMARY KEY, issue_id TEXT NOT NULL, at INTEGER NOT NULL,"
    " event TEXT NOT NULL, note TEXT);\n"
    "CREATE INDEX IF NOT EXISTS issue_events_issue ON issue_events(issue_id, id);\n"
    /* The code hash each version declared for a function (detection's code_changed). */
    "CREATE TABLE IF NOT EXISTS fn_versions (service_id INTEGER NOT NULL, fn INTEGER NOT NULL,"
    " version_id INTEGER NOT NULL, source_code_hash TEXT, first_seen INTEGER, last_seen INTEGER,"
    " PRIMARY KEY (service_id, version_id, fn)) WITHOUT ROWID;\n"
    /* Each version's span of data (first slice, end of the last slice), kept at fold time. */
    "CREATE TABLE IF NOT EXISTS version_spans (version_id INTEGER PRIMARY KEY, service_id INTEGER NOT NULL,"
    " data_from INTEGER NOT NULL, data_to INTEGER NOT NULL);\n"
    /* Acknowledged batches not yet folded into the tables (write-behind): records in the binary
     * form of store_fold.h; AUTOINCREMENT so an id is never reused. */
    "CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY AUTOINCREMENT, service_id INTEGER NOT NULL,"
    " version_id INTEGER NOT NULL, received_at INTEGER NOT NULL, data BLOB NOT NULL);\n";

/* ---- the store ---- */

/* Writer-side cache of uuid -> row id, valid only for committed rows (cleared on rollback). */
typedef struct id_cache_entry {
  int64_t service_id;
  char uuid[HUD_UUID_STRLEN + 1];
  int64_t id;
  int used;
} id_cache_entry;

typedef struct id_cache {
  id_cache_entry *slots;
  size_t cap, n;
} id_cache;

struct srv_store {
  const srv_store_ops *ops; /* first: store.c routes calls through it */
  srv_sqlite_qcache *qcache; /* the queries' caches (store_sqlite_query.c) */
  srv_store_options opt;
  char *path;
  int lock_fd; /* flock(2) on PATH.lock while serving; -1 for a key-admin store */
  /* Write-behind memory: the folder starts early beyond FOLD_SOFT merged bytes, ingest waits while
   * the accumulator and the one being written (WORK_BYTES) hold more than FOLD_HARD. */
  size_t fold_soft, fold_hard, work_bytes;
  double last_merge; /* when a batch was last merged (idle_release after IDLE_RELEASE_S) */
  int released;
  srv_membudget *decode_budget;
  /* The writer connection, taken in arrival order (a ticket lock): with a plain mutex the ingest
   * threads, which take it back to back, starved the folder for whole load runs. */
  pthread_mutex_t wlock;
  pthread_cond_t wcond;
  uint64_t w_next, w_serving;
  sqlite3 *w;
  sqlite3_stmt *upsert[T_COUNT];
  sqlite3_stmt *st_batch, *st_service, *st_service_id, *st_version, *st_version_id, *st_decl, *st_fn_get,
      *st_fn_ins, *st_flow_up, *st_flow_id, *st_flow_fix, *st_fn_ver, *st_vspan;
  id_cache fns, flows;
  pthread_mutex_t rlock;
  pthread_cond_t rcond;
  /* Group commit: batches waiting for the writer; one waiting thread at a time (the leader) stores
   * all of them in one transaction, each under its own savepoint. */
  pthread_mutex_t qlock;
  pthread_cond_t qcond;
  struct pending *queue, **queue_tail;
  int leader;
  sqlite3 *readers[MAX_READERS];
  int rbusy[MAX_READERS];
  int nreaders;
  /* Write-behind (see "ingest" below). flock guards the accumulator and the counters; the fold takes
   * wlock before flock. */
  sqlite3_stmt *st_journal_ins, *st_journal_del, *st_journal_all;
  pthread_mutex_t flock, fold_mutex;
  pthread_cond_t fcond; /* wakes the folder */
  pthread_cond_t dcond; /* a fold finished (or failed) */
  srv_fold *acc, *spare;
  uint64_t acked;         /* batches acknowledged (their records merged into acc or journaled for a rebuild) */
  uint64_t folded;        /* the first FOLDED of them are in the tables */
  uint64_t fold_failures, folded_batches;
  int fold_request, need_rebuild, stop;
  /* Pre-aggregates of ended hours and blocks (fold_settle): built by a fold at most every
   * SETTLE_INTERVAL_S, and by the next fold whenever a fresh read asks (settle_request), so that a
   * fresh read sees them built. settle_pending: a fold since the last build skipped it; settle_now:
   * the newest receive time of those folds. Under flock. */
  int settle_request, settle_pending;
  int64_t settle_now;
  double last_settle;
  int64_t rebuilt_upto;   /* journal ids up to this were read into acc by a rebuild */
  double acc_since;       /* when acc received its first batch */
  double fold_interval_s;
  pthread_t folder;
  int folder_running;
  /* The fold hook; hook_lock is held while it is called, so srv_store_on_fold(NULL) returns only
   * once no call is running (the runner it calls may be freed right after). */
  pthread_mutex_t hook_lock;
  void (*on_fold)(void *arg, const int64_t *sids, size_t n);
  void *on_fold_arg;
};

static int fold_once(srv_store *st);
static int fold_sync(srv_store *st);

static void writer_lock(srv_store *st) {
  pthread_mutex_lock(&st->wlock);
  uint64_t me = st->w_next++;
  while (st->w_serving != me) pthread_cond_wait(&st->wcond, &st->wlock);
  pthread_mutex_unlock(&st->wlock);
}

static void writer_unlock(srv_store *st) {
  pthread_mutex_lock(&st->wlock);
  st->w_serving++;
  pthread_cond_broadcast(&st->wcond);
  pthread_mutex_unlock(&st->wlock);
}
static void *folder_main(void *arg);

static uint64_t hash_key(int64_t sid, const char *uuid) {
  uint64_t h = 1469598103934665603ull ^ (uint64_t)sid;
  for (const char *p = uuid; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
  return h;
}

static int cache_get(id_cache *c, int64_t sid, const char *uuid, int64_t *id) {
  if (!c->cap) return 0;
  for (size_t i = hash_key(sid, uuid) & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
    id_cache_entry *e = &c->slots[i];
    if (!e->used) return 0;
    if (e->service_id == sid && strcmp(e->uuid, uuid) == 0) {
      *id = e->id;
      return 1;
    }
  }
}

static void cache_clear(id_cache *c) {
  free(c->slots);
  memset(c, 0, sizeof *c);
}

static void cache_put(id_cache *c, int64_t sid, const char *uuid, int64_t id) {
  if ((c->n + 1) * 2 > c->cap) {
    if (c->cap >= (1u << 22)) {
      cache_clear(c); /* bounded memory: start over */
    }
    size_t ncap = c->cap ? c->cap * 2 : 1024;
    id_cache_entry *old = c->slots;
    size_t ocap = c->cap;
    c->slots = calloc(ncap, sizeof *c->slots);
    if (!c->slots) {
      c->slots = old;
      return;
    }
    c->cap = ncap;
    c->n = 0;
    for (size_t i = 0; i < ocap; i++)
      if (old[i].used) cache_put(c, old[i].service_id, old[i].uuid, old[i].id);
    free(old);
  }
  size_t i = hash_key(sid, uuid) & (c->cap - 1);
  while (c->slots[i].used) i = (i + 1) & (c->cap - 1);
  c->slots[i].used = 1;
  c->slots[i].service_id = sid;
  c->slots[i].id = id;
  snprintf(c->slots[i].uuid, sizeof c->slots[i].uuid, "%s", uuid);
  c->n++;
}

/* A full disk is logged once, until a fold commits again: every batch would repeat it, and the
 * statements cleaning up after it fail in turn ("cannot rollback - no transaction is active"). Only a
 * fold clears it: small journal commits can still fit in the WAL while the fold that frees the
 * backlog fails, and clearing on them made the log alternate every fold interval. */
static atomic_int g_disk_full;

/* Disk-full is noticed where SQLite reports it (log_error has no store): one flag per process. */
static int sqlite_disk_full(srv_store *st) {
  (void)st;
  return atomic_load(&g_disk_full);
}

static void log_error(sqlite3 *db, const char *msg) {
  if (sqlite3_errcode(db) == SQLITE_FULL) {
    if (!atomic_exchange(&g_disk_full, 1))
      fprintf(stderr, "hud-server: store: disk full: batches are refused until space is freed\n");
  } else if (!atomic_load(&g_disk_full)) {
    fprintf(stderr, "hud-server: store: %s\n", msg ? msg : sqlite3_errmsg(db));
  }
}

static void committed(void) {
  if (atomic_exchange(&g_disk_full, 0)) fprintf(stderr, "hud-server: store: writing again\n");
}

static int exec(sqlite3 *db, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
    log_error(db, err);
    sqlite3_free(err);
    return HUD_ESTORE;
  }
  return 0;
}

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **st) {
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
    fprintf(stderr, "hud-server: store: %s in: %s\n", sqlite3_errmsg(db), sql);
    return HUD_ESTORE;
  }
  return 0;
}

static int open_conn(const char *path, int readonly, sqlite3 **out) {
  sqlite3 *db = NULL;
  int flags = (readonly ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
              SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
    fprintf(stderr, "hud-server: cannot open %s: %s\n", path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return HUD_ESTORE;
  }
  sqlite3_busy_timeout(db, 10000);
  if (register_functions(db) < 0 || exec(db, "PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;") < 0 ||
      (readonly && exec(db, "PRAGMA query_only=ON;") < 0)) {
    sqlite3_close(db);
    return HUD_ESTORE;
  }
  *out = db;
  return 0;
}

/* Version 1 files have api_keys without roles: the column is added, NULL (the key's old powers). */
static int migrate_key_roles(sqlite3 *db) {
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM pragma_table_info('api_keys') WHERE name = 'roles'", -1, &q,
                         NULL) != SQLITE_OK)
    return HUD_ESTORE;
  int has = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
  sqlite3_finalize(q);
  if (has < 0) return HUD_ESTORE;
  return has ? 0 : exec(db, "ALTER TABLE api_keys ADD COLUMN roles TEXT");
}

/* Version 2 files have the never-written issues table of the first design (fingerprint, payload):
 * it is dropped before the current one is created. */
static int migrate_issues(sqlite3 *db) {
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM pragma_table_info('issues') WHERE name = 'fingerprint'", -1, &q,
                         NULL) != SQLITE_OK)
    return HUD_ESTORE;
  int old = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
  sqlite3_finalize(q);
  if (old < 0) return HUD_ESTORE;
  return old ? exec(db, "DROP INDEX IF EXISTS issues_service; DROP TABLE issues") : 0;
}

/* Version 3 files have issues without the lifecycle's columns: they are added, as if each active issue had
 * been alerted when its status last changed (what version 3 did) and found since it was first seen. */
static int migrate_issue_lifecycle(sqlite3 *db) {
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM pragma_table_info('issues') WHERE name = 'found_since'", -1, &q,
                         NULL) != SQLITE_OK)
    return HUD_ESTORE;
  int has = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
  sqlite3_finalize(q);
  if (has < 0) return HUD_ESTORE;
  if (has) return 0;
  return exec(db, "ALTER TABLE issues ADD COLUMN found_since INTEGER NOT NULL DEFAULT 0;"
                  "ALTER TABLE issues ADD COLUMN alerted_at INTEGER NOT NULL DEFAULT 0;"
                  "ALTER TABLE issues ADD COLUMN alert_pending TEXT;"
                  "ALTER TABLE issues ADD COLUMN cand_version TEXT;"
                  "ALTER TABLE issues ADD COLUMN alerted_version TEXT;"
                  "UPDATE issues SET found_since = first_seen, alerted_at = CASE WHEN status = 'muted' THEN 0"
                  " ELSE status_changed_at END, cand_version = CASE WHEN comparison = 'windows' THEN NULL"
                  " ELSE cand_label END;"
                  "UPDATE issues SET alerted_version = cand_version WHERE alerted_at > 0;");
}

/* The schema version the file records (0 for a new file). */
static int schema_version(sqlite3 *db) {
  sqlite3_stmt *q;
  int ver = 0;
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &q, NULL) == SQLITE_OK) {
    ver = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
    sqlite3_finalize(q);
  }
  return ver;
}

static int create_schema(srv_store *st) {
  if (exec(st->w, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;") < 0)
    return HUD_ESTORE;
  /* A newer schema than ours means a newer server wrote the file: refuse rather than corrupt it. */
  int ver = schema_version(st->w);
  if (ver > SRV_STORE_SCHEMA_VERSION) {
    fprintf(stderr, "hud-server: %s has schema version %d, this build knows %d\n", st->path, ver,
            SRV_STORE_SCHEMA_VERSION);
    return HUD_ESTORE;
  }
  if (exec(st->w, "BEGIN IMMEDIATE") < 0) return HUD_ESTORE;
  int rc = migrate_issues(st->w);
  if (rc == 0) rc = exec(st->w, k_schema);
  if (rc == 0) rc = migrate_key_roles(st->w);
  if (rc == 0) rc = migrate_issue_lifecycle(st->w);
  for (int t = 0; rc == 0 && t < T_COUNT; t++) {
    char *ddl = table_ddl(&k_tables[t]);
    rc = ddl ? exec(st->w, ddl) : HUD_ENOMEM;
    free(ddl);
  }
  if (rc == 0) rc = srv_hours_schema(st->w); /* hourly pre-aggregates, store_sqlite_hours.c */
  char meta[128];
  snprintf(meta, sizeof meta, "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', '%d')",
           SRV_STORE_SCHEMA_VERSION);
  if (rc == 0) rc = exec(st->w, meta);
  if (rc == 0) return exec(st->w, "COMMIT");
  exec(st->w, "ROLLBACK");
  return rc;
}

/* The writer's page cache counts against the ingest memory too: a quarter of it, at most 64 MiB.
 * Readers keep SQLite's default (2 MB each). */
static int writer_cache(srv_store *st, size_t mem) {
  size_t bytes = mem / 4 < WRITER_CACHE_MAX ? mem / 4 : WRITER_CACHE_MAX;
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA cache_size=-%zu", bytes >> 10);
  return exec(st->w, sql);
}

static srv_membudget *sqlite_decode_budget(srv_store *st) { return st->decode_budget; }

static int prepare_writer(srv_store *st) {
  for (int t = 0; t < T_COUNT; t++) {
    char *sql = table_upsert(&k_tables[t]);
    int rc = sql ? prep(st->w, sql, &st->upsert[t]) : HUD_ENOMEM;
    free(sql);
    if (rc < 0) return rc;
  }
  if (prep(st->w,
           "INSERT INTO batches (batch_id, service_id, version_id, received_at, host, pid, runtime,"
           " sensor_version, rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
           &st->st_batch) < 0 ||
      prep(st->w,
           "INSERT INTO services (env, name, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3)"
           " ON CONFLICT (env, name) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen)",
           &st->st_service) < 0 ||
      prep(st->w, "SELECT id FROM services WHERE env = ? AND name = ?", &st->st_service_id) < 0 ||
      prep(st->w,
           "INSERT INTO versions (service_id, version, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3)"
           " ON CONFLICT (service_id, version) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen)",
           &st->st_version) < 0 ||
      prep(st->w, "SELECT id FROM versions WHERE service_id = ? AND version = ?", &st->st_version_id) < 0 ||
      prep(st->w,
           "INSERT INTO functions (service_id, function_id, name, module_path, file, start_line, end_line,"
           " is_async, source_code_hash, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?11, ?10)"
           " ON CONFLICT (service_id, function_id) DO UPDATE SET name = excluded.name,"
           " module_path = COALESCE(excluded.module_path, module_path), file = excluded.file,"
           " start_line = excluded.start_line, end_line = excluded.end_line, is_async = excluded.is_async,"
           " source_code_hash = excluded.source_code_hash, last_seen = MAX(COALESCE(last_seen, 0), excluded.last_seen),"
           " first_seen = COALESCE(first_seen, excluded.first_seen) RETURNING id",
           &st->st_decl) < 0 ||
      prep(st->w, "SELECT id FROM functions WHERE service_id = ? AND function_id = ?", &st->st_fn_get) < 0 ||
      prep(st->w,
           "INSERT INTO functions (service_id, function_id, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3)"
           " RETURNING id",
           &st->st_fn_ins) < 0 ||
      prep(st->w,
           "INSERT INTO flows (service_id, flow_id, kind, method, route, task_name, queue, first_seen, last_seen)"
           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?9, ?8) ON CONFLICT (service_id, flow_id) DO UPDATE SET"
           " last_seen = MAX(last_seen, excluded.last_seen) RETURNING id",
           &st->st_flow_up) < 0 ||
      prep(st->w, "SELECT id FROM flows WHERE service_id = ? AND flow_id = ?", &st->st_flow_id) < 0 ||
      prep(st->w,
           "UPDATE flows SET kind = ?2, method = ?3, route = ?4, task_name = ?5, queue = ?6"
           " WHERE id = ?1 AND kind = 'unknown'",
           &st->st_flow_fix) < 0 ||
      prep(st->w,
           "INSERT INTO fn_versions (service_id, fn, version_id, source_code_hash, first_seen, last_seen)"
           " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (service_id, version_id, fn) DO UPDATE SET"
           " source_code_hash = excluded.source_code_hash, last_seen = MAX(last_seen, excluded.last_seen)",
           &st->st_fn_ver) < 0 ||
      prep(st->w,
           "INSERT INTO version_spans (version_id, service_id, data_from, data_to) VALUES (?1, ?2, ?3, ?4)"
           " ON CONFLICT (version_id) DO UPDATE SET data_from = MIN(data_from, excluded.data_from),"
           " data_to = MAX(data_to, excluded.data_to)",
           &st->st_vspan) < 0 ||
      prep(st->w, "INSERT INTO journal (service_id, version_id, received_at, data) VALUES (?, ?, ?, ?)",
           &st->st_journal_ins) < 0 ||
      prep(st->w, "DELETE FROM journal WHERE id = ?", &st->st_journal_del) < 0 ||
      prep(st->w, "SELECT id, service_id, version_id, received_at, data FROM journal ORDER BY id",
           &st->st_journal_all) < 0)
    return HUD_ESTORE;
  return 0;
}

static void finalize_writer(srv_store *st) {
  for (int t = 0; t < T_COUNT; t++) sqlite3_finalize(st->upsert[t]);
  sqlite3_stmt **all[] = {&st->st_batch, &st->st_service, &st->st_service_id, &st->st_version,
                          &st->st_version_id, &st->st_decl, &st->st_fn_get, &st->st_fn_ins,
                          &st->st_flow_up, &st->st_flow_id, &st->st_flow_fix, &st->st_fn_ver, &st->st_vspan, &st->st_journal_ins,
                          &st->st_journal_del, &st->st_journal_all};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    sqlite3_finalize(*all[i]);
    *all[i] = NULL;
  }
}

/* The store with its locks initialised and no connection (srv_store_free() releases it). */
static void sqlite_free(srv_store *st);

static srv_store *store_new(const srv_store_options *opt) {
  srv_store *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  st->ops = &srv_store_sqlite_ops;
  st->qcache = srv_sqlite_qcache_new();
  if (!st->qcache) {
    free(st);
    return NULL;
  }
  st->lock_fd = -1;
  st->opt = *opt;
  st->path = strdup(opt->path);
  if (st->opt.rollup_after_s <= 0) st->opt.rollup_after_s = DEFAULT_ROLLUP_S;
  if (st->opt.retention_s < 0) st->opt.retention_s = 0;
  st->nreaders = opt->readers > 0 ? (opt->readers > MAX_READERS ? MAX_READERS : opt->readers) : 4;
  pthread_mutex_init(&st->wlock, NULL);
  pthread_cond_init(&st->wcond, NULL);
  pthread_mutex_init(&st->rlock, NULL);
  pthread_cond_init(&st->rcond, NULL);
  pthread_mutex_init(&st->qlock, NULL);
  pthread_cond_init(&st->qcond, NULL);
  pthread_mutex_init(&st->flock, NULL);
  pthread_mutex_init(&st->fold_mutex, NULL);
  pthread_mutex_init(&st->hook_lock, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&st->fcond, &ca);
  pthread_condattr_destroy(&ca);
  pthread_cond_init(&st->dcond, NULL);
  st->queue_tail = &st->queue;
  return st;
}

/* Takes PATH.lock exclusively (serving). HUD_EBUSY when another store holds it. */
static int serve_lock(srv_store *st) {
  char *lock;
  if (asprintf(&lock, "%s.lock", st->path) < 0) return HUD_ENOMEM;
  int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600); /* never truncate a planted link */
  if (fd < 0) fprintf(stderr, "hud-server: cannot open %s: %s\n", lock, strerror(errno));
  free(lock);
  if (fd < 0) return HUD_ESTORE;
  if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
    int e = errno;
    close(fd);
    return e == EWOULDBLOCK ? HUD_EBUSY : HUD_ESTORE;
  }
  /* Who serves, for the message a second server prints (main.c); informative only. */
  char pid[32];
  int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  int written = ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) == n;
  (void)written;
  st->lock_fd = fd;
  return 0;
}

static int sqlite_open(const srv_store_options *opt, srv_store **out) {
  if (!opt || !opt->path || !out) return HUD_EINVAL;
  srv_store *st = store_new(opt);
  if (!st) return HUD_ENOMEM;
  /* Before anything touches the file: a second server must not replay the first one's journal. */
  int rc = st->path ? serve_lock(st) : HUD_ENOMEM;
  if (rc < 0) {
    sqlite_free(st);
    return rc;
  }
  st->fold_interval_s = (opt->fold_interval_ms > 0 ? opt->fold_interval_ms : FOLD_INTERVAL_MS_DEFAULT) / 1000.0;
  size_t mem = opt->fold_memory_bytes ? opt->fold_memory_bytes : FOLD_MEMORY_DEFAULT;
  st->fold_hard = mem;
  st->fold_soft = mem / 2;
  st->acc = srv_fold_new(st->fold_soft / 2);
  st->spare = srv_fold_new(st->fold_soft / 2);
  st->decode_budget = srv_membudget_new(mem / 2);
  rc = st->acc && st->spare && st->decode_budget ? open_conn(st->path, 0, &st->w) : HUD_ENOMEM;
  if (rc == 0) rc = writer_cache(st, mem);
  if (rc == 0) rc = create_schema(st);
  if (rc == 0) rc = prepare_writer(st);
  for (int i = 0; rc == 0 && i < st->nreaders; i++) rc = open_conn(st->path, 1, &st->readers[i]);
  if (rc == 0) {
    /* Batches acknowledged before a crash (or a failed final fold) are still journaled: fold them
     * now, so the tables are complete before anyone reads. If that fails they stay journaled and the
     * folder retries. */
    st->need_rebuild = 1;
    if (fold_once(st) < 0) fprintf(stderr, "hud-server: store: journal not folded yet; will retry\n");
    if (pthread_create(&st->folder, NULL, folder_main, st) == 0) st->folder_running = 1;
    else rc = HUD_ENOMEM;
  }
  if (rc < 0) {
    sqlite_free(st);
    return rc;
  }
  *out = st;
  return 0;
}

static int sqlite_open_keys(const char *path, srv_store **out) {
  if (!path || !out) return HUD_EINVAL;
  srv_store_options opt = {.path = path};
  srv_store *st = store_new(&opt);
  if (!st) return HUD_ENOMEM;
  st->nreaders = 1;
  int rc = st->path ? open_conn(st->path, 0, &st->w) : HUD_ENOMEM;
  if (rc == 0) {
    /* A server's fold may hold the write lock for a while; our commits leave checkpoints to it. */
    sqlite3_busy_timeout(st->w, 30000);
    rc = exec(st->w, "PRAGMA wal_autocheckpoint=0;");
  }
  /* Only a new or older file needs the schema written (a short transaction). */
  if (rc == 0 && schema_version(st->w) != SRV_STORE_SCHEMA_VERSION) rc = create_schema(st);
  if (rc == 0) rc = open_conn(st->path, 1, &st->readers[0]);
  if (rc < 0) {
    sqlite_free(st);
    return rc;
  }
  *out = st;
  return 0;
}

static void sqlite_free(srv_store *st) {
  if (!st) return;
  if (st->folder_running) {
    pthread_mutex_lock(&st->flock);
    st->stop = 1;
    pthread_cond_signal(&st->fcond);
    pthread_cond_broadcast(&st->dcond);
    pthread_mutex_unlock(&st->flock);
    pthread_join(st->folder, NULL);
    st->folder_running = 0;
  }
  /* The last fold; what it cannot write stays in the journal for the next start. */
  if (st->w && st->st_journal_all && fold_once(st) < 0)
    fprintf(stderr, "hud-server: store: final fold failed; the journal keeps the batches\n");
  pthread_mutex_lock(&st->rlock);
  for (;;) {
    int busy = 0;
    for (int i = 0; i < st->nreaders; i++) busy |= st->rbusy[i];
    if (!busy) break;
    pthread_cond_wait(&st->rcond, &st->rlock);
  }
  for (int i = 0; i < st->nreaders; i++) sqlite3_close(st->readers[i]);
  pthread_mutex_unlock(&st->rlock);
  writer_lock(st);
  finalize_writer(st);
  if (st->w) sqlite3_close(st->w);
  writer_unlock(st);
  cache_clear(&st->fns);
  cache_clear(&st->flows);
  pthread_mutex_destroy(&st->wlock);
  pthread_cond_destroy(&st->wcond);
  pthread_mutex_destroy(&st->rlock);
  pthread_cond_destroy(&st->rcond);
  pthread_mutex_destroy(&st->qlock);
  pthread_cond_destroy(&st->qcond);
  srv_fold_free(st->acc);
  srv_fold_free(st->spare);
  srv_membudget_free(st->decode_budget);
  pthread_mutex_destroy(&st->flock);
  pthread_mutex_destroy(&st->fold_mutex);
  pthread_mutex_destroy(&st->hook_lock);
  pthread_cond_destroy(&st->fcond);
  pthread_cond_destroy(&st->dcond);
  if (st->lock_fd >= 0) close(st->lock_fd); /* releases the flock */
  srv_sqlite_qcache_free(st->qcache);
  free(st->path);
  free(st);
}

srv_sqlite_qcache *srv_sqlite_qcache_of(srv_store *st) { return st->qcache; }

/* ---- readers ---- */

/* A reader without waiting for the fold: for the store's own reads of tables ingest does not fill. */
static int reader_borrow(srv_store *st, sqlite3 **db) {
  pthread_mutex_lock(&st->rlock);
  for (;;) {
    for (int i = 0; i < st->nreaders; i++)
      if (!st->rbusy[i]) {
        st->rbusy[i] = 1;
        *db = st->readers[i];
        pthread_mutex_unlock(&st->rlock);
        return 0;
      }
    pthread_cond_wait(&st->rcond, &st->rlock);
  }
}

int srv_store_sqlite_reader(srv_store *st, sqlite3 **db) {
  if (st->ops != &srv_store_sqlite_ops) return HUD_EUNSUPPORTED;
  int rc = fold_sync(st); /* every batch acknowledged so far is visible to this read */
  if (rc < 0) return rc;
  return reader_borrow(st, db);
}

int srv_store_sqlite_reader_recent(srv_store *st, sqlite3 **db) {
  return st->ops == &srv_store_sqlite_ops ? reader_borrow(st, db) : HUD_EUNSUPPORTED;
}

void srv_store_sqlite_reader_release(srv_store *st, sqlite3 *db) {
  pthread_mutex_lock(&st->rlock);
  for (int i = 0; i < st->nreaders; i++)
    if (st->readers[i] == db) st->rbusy[i] = 0;
  pthread_cond_broadcast(&st->rcond);
  pthread_mutex_unlock(&st->rlock);
}

static int sqlite_batch_known(srv_store *st, const char *batch_id) {
  sqlite3 *db;
  int rc = reader_borrow(st, &db);
  if (rc < 0) return rc;
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM batches WHERE batch_id = ?", -1, &q, NULL) != SQLITE_OK) {
    srv_store_sqlite_reader_release(st, db);
    return HUD_ESTORE;
  }
  sqlite3_bind_text(q, 1, batch_id, -1, SQLITE_STATIC);
  int s = sqlite3_step(q);
  rc = s == SQLITE_ROW ? 1 : s == SQLITE_DONE ? 0 : HUD_ESTORE;
  sqlite3_finalize(q);
  srv_store_sqlite_reader_release(st, db);
  return rc;
}

static int sqlite_ping(srv_store *st) {
  sqlite3 *db;
  int rc = reader_borrow(st, &db);
  if (rc < 0) return rc;
  rc = exec(db, "SELECT count(*) FROM meta");
  srv_store_sqlite_reader_release(st, db);
  return rc;
}

static double now_mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int srv_store_sqlite_write(srv_store *st, int (*fn)(sqlite3 *db, void *arg), void *arg) {
  if (st->ops != &srv_store_sqlite_ops) return HUD_EUNSUPPORTED;
  writer_lock(st);
  double t0 = now_mono();
  int rc = exec(st->w, "BEGIN IMMEDIATE");
  if (rc == 0) {
    rc = fn(st->w, arg);
    if (rc == 0) rc = exec(st->w, "COMMIT");
    if (rc != 0) {
      exec(st->w, "ROLLBACK");
      cache_clear(&st->fns);
      cache_clear(&st->flows);
    }
  }
  srv_metrics_store_latency(now_mono() - t0);
  writer_unlock(st);
  return rc;
}

/* ---- keys ---- */

static int sqlite_key_insert(srv_store *st, const unsigned char hash[32], const char *envs, const char *roles,
                         const char *label, int64_t now, int64_t *id) {
  writer_lock(st);
  sqlite3_stmt *q;
  int rc = HUD_ESTORE;
  if (sqlite3_prepare_v2(st->w,
                         "INSERT INTO api_keys (secret_hash, envs, label, created_at, roles) VALUES (?, ?, ?, ?, ?)",
                         -1, &q, NULL) == SQLITE_OK) {
    sqlite3_bind_blob(q, 1, hash, 32, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 2, envs, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 3, label, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 4, now);
    sqlite3_bind_text(q, 5, roles, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) == SQLITE_DONE) {
      *id = sqlite3_last_insert_rowid(st->w);
      rc = 0;
    }
    sqlite3_finalize(q);
  }
  writer_unlock(st);
  return rc;
}

static void key_row(sqlite3_stmt *q, srv_key_info *k) {
  memset(k, 0, sizeof *k);
  k->id = sqlite3_column_int64(q, 0);
  snprintf(k->envs, sizeof k->envs, "%s", (const char *)sqlite3_column_text(q, 1));
  const unsigned char *label = sqlite3_column_text(q, 2);
  snprintf(k->label, sizeof k->label, "%s", label ? (const char *)label : "");
  k->created_at = sqlite3_column_int64(q, 3);
  k->revoked_at = sqlite3_column_int64(q, 4);
  const unsigned char *roles = sqlite3_column_text(q, 5);
  snprintf(k->roles, sizeof k->roles, "%s", roles ? (const char *)roles : "");
}

static int sqlite_key_get(srv_store *st, int64_t id, srv_key_info *info, unsigned char hash[32]) {
  sqlite3 *db;
  int rc = reader_borrow(st, &db);
  if (rc < 0) return rc;
  sqlite3_stmt *q;
  rc = HUD_ESTORE;
  if (sqlite3_prepare_v3(db, "SELECT id, envs, label, created_at, revoked_at, roles, secret_hash FROM api_keys WHERE id = ?",
                         -1, 0, &q, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(q, 1, id);
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW && sqlite3_column_bytes(q, 6) == 32) {
      key_row(q, info);
      memcpy(hash, sqlite3_column_blob(q, 6), 32);
      rc = 0;
    } else if (s == SQLITE_DONE || s == SQLITE_ROW) {
      rc = HUD_ENOTFOUND;
    }
    sqlite3_finalize(q);
  }
  srv_store_sqlite_reader_release(st, db);
  return rc;
}

static int sqlite_key_list(srv_store *st, int (*fn)(const srv_key_info *k, void *arg), void *arg) {
  sqlite3 *db;
  int rc = reader_borrow(st, &db);
  if (rc < 0) return rc;
  sqlite3_stmt *q;
  rc = HUD_ESTORE;
  if (sqlite3_prepare_v2(db, "SELECT id, envs, label, created_at, revoked_at, roles FROM api_keys ORDER BY id", -1, &q,
                         NULL) == SQLITE_OK) {
    rc = 0;
    srv_key_info k;
    while (rc == 0 && sqlite3_step(q) == SQLITE_ROW) {
      key_row(q, &k);
      rc = fn(&k, arg);
    }
    sqlite3_finalize(q);
  }
  srv_store_sqlite_reader_release(st, db);
  return rc;
}

static int sqlite_key_revoke(srv_store *st, int64_t id, int64_t now) {
  writer_lock(st);
  sqlite3_stmt *q;
  int rc = HUD_ESTORE;
  if (sqlite3_prepare_v2(st->w, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", -1, &q,
                         NULL) == SQLITE_OK) {
    sqlite3_bind_int64(q, 1, now);
    sqlite3_bind_int64(q, 2, id);
    if (sqlite3_step(q) == SQLITE_DONE) rc = sqlite3_changes(st->w) ? 0 : HUD_ENOTFOUND;
    sqlite3_finalize(q);
  }
  writer_unlock(st);
  return rc;
}

/* ---- ingest: journal, then write-behind fold ----
 *
 * An ingest request stores its batch id (idempotency) and the batch's records in a compact binary
 * form (store_fold.h) as one row of `journal`, in one small transaction shared by concurrent callers
 * (group commit, one savepoint per batch), and is acknowledged once that is committed. Then its
 * records are merged in memory into the accumulator (st->acc). The folder thread writes the
 * accumulator to the real tables in one transaction that also deletes the journal rows it covers,
 * so every batch is counted exactly once: either its journal row is there (and will be folded, also
 * after a crash: open replays the journal) or its rows are in the tables. Keys recur across batches
 * (the same function, caller and flow every minute), so the fold writes far fewer rows than were
 * received. Every read through srv_store_sqlite_reader() first waits for the fold of every batch
 * acknowledged before it started. */


static int step_done(sqlite3 *db, sqlite3_stmt *q) {
  int s = sqlite3_step(q);
  sqlite3_reset(q);
  if (s != SQLITE_DONE && s != SQLITE_ROW) {
    log_error(db, NULL);
    return HUD_ESTORE;
  }
  return 0;
}

static int step_id(sqlite3 *db, sqlite3_stmt *q, int64_t *id) {
  int s = sqlite3_step(q);
  int rc = 0;
  if (s == SQLITE_ROW) {
    *id = sqlite3_column_int64(q, 0);
  } else {
    if (s != SQLITE_DONE) log_error(db, NULL);
    rc = s == SQLITE_DONE ? HUD_ENOTFOUND : HUD_ESTORE;
  }
  sqlite3_reset(q);
  return rc;
}

static void bind_text_or_null(sqlite3_stmt *q, int i, const char *s) {
  if (s)
    sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(q, i);
}

/* functions.id of UUID in service SID, creating a placeholder row when no declaration came yet. */
static int fn_id(srv_store *st, int64_t sid, int64_t now, const char *uuid, int64_t *id) {
  if (!uuid[0]) {
    *id = 0;
    return 0;
  }
  if (cache_get(&st->fns, sid, uuid, id)) return 0;
  sqlite3_bind_int64(st->st_fn_get, 1, sid);
  sqlite3_bind_text(st->st_fn_get, 2, uuid, -1, SQLITE_STATIC);
  int rc = step_id(st->w, st->st_fn_get, id);
  if (rc == HUD_ENOTFOUND) {
    sqlite3_bind_int64(st->st_fn_ins, 1, sid);
    sqlite3_bind_text(st->st_fn_ins, 2, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st->st_fn_ins, 3, now);
    rc = step_id(st->w, st->st_fn_ins, id);
  }
  if (rc == 0) cache_put(&st->fns, sid, uuid, *id);
  return rc;
}

static int flow_id(srv_store *st, int64_t sid, int64_t now, const char *uuid, int64_t *id) {
  if (!uuid[0]) {
    *id = 0;
    return 0;
  }
  if (cache_get(&st->flows, sid, uuid, id)) return 0;
  sqlite3_bind_int64(st->st_flow_id, 1, sid);
  sqlite3_bind_text(st->st_flow_id, 2, uuid, -1, SQLITE_STATIC);
  int rc = step_id(st->w, st->st_flow_id, id);
  if (rc == HUD_ENOTFOUND) {
    /* A flow referenced before its aggregate arrived: record it with unknown kind details. */
    sqlite3_stmt *q = st->st_flow_up;
    sqlite3_bind_int64(q, 1, sid);
    sqlite3_bind_text(q, 2, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, "unknown", -1, SQLITE_STATIC);
    for (int i = 4; i <= 7; i++) sqlite3_bind_null(q, i);
    sqlite3_bind_int64(q, 8, now);
    sqlite3_bind_int64(q, 9, now);
    rc = step_id(st->w, q, id);
  }
  if (rc == 0) cache_put(&st->flows, sid, uuid, *id);
  return rc;
}

static int fold_declarations(srv_store *st, const srv_fold *f) {
  for (const srv_fold_decl *e = srv_fold_decls(f); e; e = e->next) {
    const hud_function_decl *d = &e->d;
    sqlite3_stmt *q = st->st_decl;
    sqlite3_bind_int64(q, 1, e->sid);
    sqlite3_bind_text(q, 2, d->function_id, -1, SQLITE_STATIC);
    bind_text_or_null(q, 3, d->name);
    bind_text_or_null(q, 4, d->module_path);
    bind_text_or_null(q, 5, d->file);
    sqlite3_bind_int(q, 6, d->start_line);
    sqlite3_bind_int(q, 7, d->end_line);
    sqlite3_bind_int(q, 8, d->is_async);
    sqlite3_bind_text(q, 9, d->source_code_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 10, e->last);
    sqlite3_bind_int64(q, 11, e->first);
    int64_t id, cached;
    int rc = step_id(st->w, q, &id);
    if (rc < 0) return rc;
    if (!cache_get(&st->fns, e->sid, d->function_id, &cached)) cache_put(&st->fns, e->sid, d->function_id, id);
    sqlite3_stmt *v = st->st_fn_ver;
    sqlite3_bind_int64(v, 1, e->sid);
    sqlite3_bind_int64(v, 2, id);
    sqlite3_bind_int64(v, 3, e->vid);
    sqlite3_bind_text(v, 4, d->source_code_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(v, 5, e->first);
    sqlite3_bind_int64(v, 6, e->last);
    if ((rc = step_done(st->w, v)) < 0) return rc;
  }
  return 0;
}

static int fold_flows(srv_store *st, const srv_fold *f) {
  for (const srv_fold_flow *e = srv_fold_flows(f); e; e = e->next) {
    const char *kind = e->kind == HUD_FLOW_ENDPOINT ? "endpoint" : "consumer";
    sqlite3_stmt *q = st->st_flow_up;
    sqlite3_bind_int64(q, 1, e->sid);
    sqlite3_bind_text(q, 2, e->flow, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, kind, -1, SQLITE_STATIC);
    bind_text_or_null(q, 4, e->method);
    bind_text_or_null(q, 5, e->route);
    bind_text_or_null(q, 6, e->task_name);
    bind_text_or_null(q, 7, e->queue);
    sqlite3_bind_int64(q, 8, e->last);
    sqlite3_bind_int64(q, 9, e->first);
    int64_t flow, cached;
    int rc = step_id(st->w, q, &flow);
    if (rc < 0) return rc;
    if (!cache_get(&st->flows, e->sid, e->flow, &cached)) cache_put(&st->flows, e->sid, e->flow, flow);
    /* A placeholder made earlier learns its kind now. */
    sqlite3_stmt *fix = st->st_flow_fix;
    sqlite3_bind_int64(fix, 1, flow);
    sqlite3_bind_text(fix, 2, kind, -1, SQLITE_STATIC);
    bind_text_or_null(fix, 3, e->method);
    bind_text_or_null(fix, 4, e->route);
    bind_text_or_null(fix, 5, e->task_name);
    bind_text_or_null(fix, 6, e->queue);
    if ((rc = step_done(st->w, fix)) < 0) return rc;
  }
  return 0;
}

/* "uuid uuid ..." -> "id id ..." (malloc'ed). */
static int path_ids(srv_store *st, int64_t sid, int64_t now, const char *path, char **out) {
  size_t n = strlen(path);
  char *res = malloc(n + 2), *o = res;
  if (!res) return HUD_ENOMEM;
  *o = 0;
  for (const char *p = path; *p;) {
    size_t len = strcspn(p, " ");
    hud_uuid u;
    snprintf(u, sizeof u, "%.*s", (int)(len < HUD_UUID_STRLEN ? len : HUD_UUID_STRLEN), p);
    int64_t id;
    int rc = fn_id(st, sid, now, u, &id);
    if (rc < 0) {
      free(res);
      return rc;
    }
    /* An id has at most as many digits as a uuid has characters. */
    o += sprintf(o, "%s%lld", o == res ? "" : " ", (long long)id);
    p += len;
    while (*p == ' ') p++;
  }
  *out = res;
  return 0;
}

/* One accumulated row into its table (parameters in the order of table_upsert()). */
static int fold_row(srv_store *st, const srv_fold_row *r, int64_t now) {
  sqlite3_stmt *q = st->upsert[r->table];
  int64_t fn = 0, caller = 0, flow = 0;
  char *path = NULL;
  int rc = 0;
  if ((rc = fn_id(st, r->sid, now, r->fn, &fn)) < 0 || (rc = fn_id(st, r->sid, now, r->caller, &caller)) < 0 ||
      (rc = flow_id(st, r->sid, now, r->flow, &flow)) < 0)
    return rc;
  sqlite3_bind_int64(q, 1, r->sid);
  sqlite3_bind_int64(q, 2, r->vid);
  sqlite3_bind_int64(q, 3, r->slice);
  sqlite3_bind_int64(q, 4, r->width);
  int k = 5;
  switch (r->table) {
  case T_CALLS:
    sqlite3_bind_int64(q, k++, fn);
    sqlite3_bind_int64(q, k++, caller);
    sqlite3_bind_text(q, k++, r->text ? r->text : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, k++, r->num);
    sqlite3_bind_int64(q, k++, flow);
    goto edge_sums;
  case T_FN_SLICES:
    sqlite3_bind_int64(q, k++, fn);
  edge_sums:
    sqlite3_bind_int64(q, k++, r->count);
    sqlite3_bind_int64(q, k++, r->sampled);
    sqlite3_bind_int64(q, k++, r->sum);
    sqlite3_bind_double(q, k++, r->sumsq);
    sqlite3_bind_int64(q, k++, r->self);
    sqlite3_bind_int64(q, k++, r->errors);
    break;
  case T_FN_ERRORS:
    sqlite3_bind_int64(q, k++, fn);
    sqlite3_bind_text(q, k++, r->text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, k++, r->count);
    break;
  case T_FLOW_SLICES:
    sqlite3_bind_int64(q, k++, flow);
    sqlite3_bind_int64(q, k++, r->count);
    sqlite3_bind_int64(q, k++, r->errors);
    sqlite3_bind_int64(q, k++, r->sampled);
    sqlite3_bind_int64(q, k++, r->sum);
    sqlite3_bind_double(q, k++, r->sumsq);
    break;
  case T_FLOW_STATUS:
    sqlite3_bind_int64(q, k++, flow);
    sqlite3_bind_int64(q, k++, r->num);
    sqlite3_bind_int64(q, k++, r->count);
    break;
  case T_FLOW_ERRORS:
    sqlite3_bind_int64(q, k++, flow);
    sqlite3_bind_text(q, k++, r->text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, k++, r->count);
    break;
  case T_FLOW_FUNCTIONS:
    sqlite3_bind_int64(q, k++, flow);
    sqlite3_bind_int64(q, k++, fn);
    sqlite3_bind_int64(q, k++, r->count);
    sqlite3_bind_int64(q, k++, r->errors);
    sqlite3_bind_int64(q, k++, r->sampled);
    sqlite3_bind_int64(q, k++, r->sum);
    sqlite3_bind_int64(q, k++, r->self);
    break;
  case T_EXC_FLOWS:
    if ((rc = path_ids(st, r->sid, now, r->path ? r->path : "", &path)) < 0) return rc;
    sqlite3_bind_int64(q, k++, flow);
    sqlite3_bind_text(q, k++, r->text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, k++, fn);
    sqlite3_bind_int64(q, k++, r->num);
    sqlite3_bind_text(q, k++, path, -1, free);
    sqlite3_bind_int64(q, k++, caller);
    sqlite3_bind_int64(q, k++, r->count);
    break;
  default:
    return HUD_EINVAL;
  }
  if (k_tables[r->table].sketch) {
    if (r->aux) {
      sqlite3_bind_blob(q, k, r->aux, (int)r->aux_len, SQLITE_STATIC); /* fold_prepare() encoded it */
    } else if (r->sketch.set) {
      unsigned char *blob;
      size_t len;
      bins_acc a = r->sketch; /* acc_encode may fold bins in place: the fold is discarded after */
      if ((rc = acc_encode(&a, &blob, &len)) < 0) return rc;
      sqlite3_bind_blob(q, k, blob, (int)len, free);
    } else {
      sqlite3_bind_null(q, k);
    }
  }
  return step_done(st->w, q);
}

/* Marks the hours of the folded call rows dirty: one srv_hours_mark_batch call per service, with a
 * batch holding one invocation per distinct slice (the first call row of that slice; the marking
 * reads timestamps only). A full copy of every folded row cost a third of the fold in page faults. */
static int fold_hours(srv_store *st, const srv_fold *f) {
  size_t cap = 64, n = 0;
  hud_invocation *inv = calloc(cap, sizeof *inv);
  int64_t *sid = calloc(cap, sizeof *sid);
  int rc = inv && sid ? 0 : HUD_ENOMEM;
  for (const srv_fold_row *r = srv_fold_rows(f, T_CALLS); rc == 0 && r; r = r->next) {
    hud_time_ns ts = r->slice * 1000000000LL;
    size_t i = n;
    while (i > 0 && !(sid[i - 1] == r->sid && inv[i - 1].timestamp == ts)) i--;
    if (i > 0) continue;
    if (n == cap) {
      hud_invocation *ni = realloc(inv, 2 * cap * sizeof *ni);
      int64_t *ns = ni ? realloc(sid, 2 * cap * sizeof *ns) : NULL;
      if (ni) inv = ni;
      if (ns) sid = ns;
      if (!ni || !ns) {
        rc = HUD_ENOMEM;
        break;
      }
      cap *= 2;
    }
    hud_invocation *v = &inv[n];
    memset(v, 0, sizeof *v);
    memcpy(v->function_id, r->fn, sizeof v->function_id);
    memcpy(v->flow_id, r->flow, sizeof v->flow_id);
    v->caller.caller_module_path = "";
    v->timestamp = ts;
    v->timeslice = r->width * 1000000000LL;
    v->count = r->count;
    sid[n++] = r->sid;
  }
  /* Group by service: sort-free, services are few. */
  for (size_t i = 0; rc == 0 && i < n; i++) {
    if (sid[i] == INT64_MIN) continue;
    int64_t s = sid[i];
    size_t m = 0;
    hud_invocation *batch_inv = malloc((n - i) * sizeof *batch_inv);
    if (!batch_inv) {
      rc = HUD_ENOMEM;
      break;
    }
    for (size_t j = i; j < n; j++)
      if (sid[j] == s) {
        batch_inv[m++] = inv[j];
        sid[j] = INT64_MIN;
      }
    hud_batch b = {0};
    b.n_invocations = m;
    b.invocations = batch_inv;
    rc = srv_hours_mark_batch(st->w, s, &b);
    free(batch_inv);
  }
  free(inv);
  free(sid);
  return rc;
}

/* The work of a fold that needs no database, done before taking the writer so that ingest keeps
 * committing meanwhile: fn_slices rows, sketch blobs. */
static int fold_prepare(srv_fold *f) {
  int rc = srv_fold_finish(f);
  for (int t = 0; rc == 0 && t < T_COUNT; t++) {
    if (!k_tables[t].sketch) continue;
    for (srv_fold_row *r = (srv_fold_row *)srv_fold_rows(f, t); rc == 0 && r; r = r->next) {
      if (!r->sketch.set) continue;
      bins_acc a = r->sketch; /* acc_encode may fold bins in place: the fold is discarded after */
      unsigned char *blob;
      size_t len;
      if ((rc = acc_encode(&a, &blob, &len)) == 0) {
        r->aux = blob;
        r->aux_len = len;
      }
    }
  }
  return rc;
}

static void fold_release(srv_fold *f) {
  for (int t = 0; t < T_COUNT; t++)
    for (srv_fold_row *r = (srv_fold_row *)srv_fold_rows(f, t); r; r = r->next) {
      free(r->aux);
      r->aux = NULL;
    }
}

/* Widens each version's span of data (version_spans) to the slices of F's call and flow rows. */
static int fold_spans(srv_store *st, const srv_fold *f) {
  typedef struct {
    int64_t sid, vid, from, to;
  } span;
  span sp[64];
  size_t n = 0;
  int rc = 0;
  static const int tables[] = {T_CALLS, T_FLOW_SLICES};
  for (size_t t = 0; t < 2; t++)
    for (const srv_fold_row *r = srv_fold_rows(f, tables[t]); r; r = r->next) {
      size_t i = 0;
      while (i < n && sp[i].vid != r->vid) i++;
      if (i == n) {
        if (n == sizeof sp / sizeof sp[0]) continue; /* more versions in one fold: the next fold widens them */
        sp[n++] = (span){r->sid, r->vid, r->slice, r->slice + r->width};
      }
      if (r->slice < sp[i].from) sp[i].from = r->slice;
      if (r->slice + r->width > sp[i].to) sp[i].to = r->slice + r->width;
    }
  for (size_t i = 0; rc == 0 && i < n; i++) {
    sqlite3_bind_int64(st->st_vspan, 1, sp[i].vid);
    sqlite3_bind_int64(st->st_vspan, 2, sp[i].sid);
    sqlite3_bind_int64(st->st_vspan, 3, sp[i].from);
    sqlite3_bind_int64(st->st_vspan, 4, sp[i].to);
    rc = step_done(st->w, st->st_vspan);
  }
  return rc;
}

/* Writes accumulator F and deletes the journal rows it covers, in the caller's transaction; SETTLE
 * (not 0): also builds the pre-aggregates of the hours and blocks that ended by the receive time
 * SETTLE (store_hours.h), here and in maintenance only, so that reads never write. */
static int fold_write(srv_store *st, srv_fold *f, int64_t settle) {
  int64_t now = srv_fold_now(f);
  int rc = srv_fold_finish(f);
  if (rc == 0) rc = fold_declarations(st, f);
  if (rc == 0) rc = fold_flows(st, f);
  for (int t = 0; rc == 0 && t < T_COUNT; t++)
    for (const srv_fold_row *r = srv_fold_rows(f, t); rc == 0 && r; r = r->next) rc = fold_row(st, r, now);
  if (rc == 0) rc = fold_hours(st, f);
  if (rc == 0 && settle) rc = srv_hours_settle(st->w, 0, settle > now ? settle : now, NULL);
  if (rc == 0) rc = fold_spans(st, f);
  size_t n;
  const int64_t *ids = srv_fold_journal_ids(f, &n);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    sqlite3_bind_int64(st->st_journal_del, 1, ids[i]);
    rc = step_done(st->w, st->st_journal_del);
  }
  return rc;
}

static double now_mono(void);

/* Slices starting before this go straight to hourly rows. */
static int64_t rollup_cutoff_of(const srv_store *st, int64_t now) {
  int64_t c = now - st->opt.rollup_after_s;
  return c - ((c % 3600) + 3600) % 3600;
}

/* Loads every journal row into st->acc (emptied first). Caller holds wlock and flock. */
static int fold_rebuild(srv_store *st) {
  srv_fold_reset(st->acc);
  hud_arena *arena = hud_arena_new();
  if (!arena) return HUD_ENOMEM;
  int rc = 0;
  int64_t max_id = st->rebuilt_upto;
  uint64_t n = 0;
  sqlite3_stmt *q = st->st_journal_all;
  int s;
  while (rc == 0 && (s = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(q, 0);
    hud_batch b;
    const void *blob = sqlite3_column_blob(q, 4);
    int len = sqlite3_column_bytes(q, 4);
    if (srv_journal_decode(blob, (size_t)len, arena, &b) < 0) {
      /* Never dropped: it stays in the journal for a later build to read. */
      fprintf(stderr, "hud-server: store: journal entry %lld is damaged; kept, not folded\n", (long long)id);
    } else {
      int64_t now = sqlite3_column_int64(q, 3);
      rc = srv_fold_add(st->acc, id, sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2), now,
                        rollup_cutoff_of(st, now), &b);
      n++;
    }
    if (id > max_id) max_id = id;
    hud_arena_reset(arena);
  }
  if (rc == 0 && s != SQLITE_DONE) {
    fprintf(stderr, "hud-server: store: reading the journal: %s\n", sqlite3_errmsg(st->w));
    rc = HUD_ESTORE;
  }
  sqlite3_reset(q);
  hud_arena_free(arena);
  if (rc < 0) {
    srv_fold_reset(st->acc);
    return rc;
  }
  if (n) fprintf(stderr, "hud-server: store: %llu journaled batch(es) to fold\n", (unsigned long long)n);
  st->rebuilt_upto = max_id;
  st->need_rebuild = 0;
  return 0;
}

/* The distinct services of F's call, flow and exception rows (at most FOLD_HOOK_SIDS; services are
 * few per server, and a fold beyond that wakes the rest at their next fold). */
static size_t fold_services(const srv_fold *f, int64_t *sids) {
  static const int tables[] = {T_CALLS, T_FLOW_SLICES, T_EXC_FLOWS};
  size_t n = 0;
  for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
    for (const srv_fold_row *r = srv_fold_rows(f, tables[t]); r && n < FOLD_HOOK_SIDS; r = r->next) {
      size_t i = 0;
      while (i < n && sids[i] != r->sid) i++;
      if (i == n) sids[n++] = r->sid;
    }
  return n;
}

/* Folds what is accumulated now. Callers: the folder thread, open, free, maintenance; one at a time
 * (fold_mutex): a rebuild must never read the journal rows of a fold still being written. */
/* A transaction that only builds the pre-aggregates folds skipped (settle_pending), for a fresh read.
 * Caller holds the writer and flock (released meanwhile). */
static int settle_only(srv_store *st) {
  int64_t now = st->settle_now;
  pthread_mutex_unlock(&st->flock);
  int rc = exec(st->w, "BEGIN IMMEDIATE");
  if (rc == 0) {
    rc = srv_hours_settle(st->w, 0, now, NULL);
    if (rc == 0) rc = exec(st->w, "COMMIT");
    if (rc < 0) exec(st->w, "ROLLBACK");
  }
  pthread_mutex_lock(&st->flock);
  if (rc == 0 && st->settle_now == now) st->settle_pending = 0;
  st->last_settle = now_mono();
  return rc;
}

static int fold_once(srv_store *st) {
  pthread_mutex_lock(&st->fold_mutex);
  writer_lock(st);
  pthread_mutex_lock(&st->flock);
  int rc = 0;
  if (st->need_rebuild) rc = fold_rebuild(st);
  size_t njid;
  srv_fold_journal_ids(st->acc, &njid);
  uint64_t target = st->acked;
  int want_settle = st->settle_request;
  st->settle_request = 0;
  int settle = want_settle || now_mono() - st->last_settle >= SETTLE_INTERVAL_S;
  if (rc < 0 || njid == 0) {
    if (rc == 0 && want_settle && st->settle_pending) rc = settle_only(st);
    if (rc == 0) st->folded = target;
    else st->fold_failures++;
    pthread_cond_broadcast(&st->dcond);
    pthread_mutex_unlock(&st->flock);
    writer_unlock(st);
    pthread_mutex_unlock(&st->fold_mutex);
    return rc;
  }
  int64_t settle_at = settle ? (st->settle_pending ? st->settle_now : 1) : 0; /* 1: the fold's own time */
  srv_fold *work = st->acc;
  st->acc = st->spare;
  st->spare = NULL;
  st->acc_since = 0;
  st->work_bytes = srv_fold_bytes(work);
  pthread_mutex_unlock(&st->flock);
  /* Until it commits, WORK's batches stay journaled: a crash meanwhile replays them. */
  writer_unlock(st);
  int prep = fold_prepare(work);
  writer_lock(st);

  double t0 = now_mono();
  rc = prep < 0 ? prep : exec(st->w, "BEGIN IMMEDIATE");
  if (rc == 0) {
    rc = fold_write(st, work, settle_at);
    if (rc == 0) rc = exec(st->w, "COMMIT");
    if (rc < 0) exec(st->w, "ROLLBACK");
  }
  if (rc < 0) {
    /* Ids cached inside the rolled-back transaction may not exist. */
    cache_clear(&st->fns);
    cache_clear(&st->flows);
  }
  srv_metrics_store_latency(now_mono() - t0);
  int64_t sids[FOLD_HOOK_SIDS];
  size_t nsids = rc == 0 ? fold_services(work, sids) : 0;
  int64_t fold_now = srv_fold_now(work);
  fold_release(work);
  srv_fold_reset(work);
  pthread_mutex_lock(&st->flock);
  st->spare = work;
  st->work_bytes = 0;
  if (rc == 0) {
    st->folded = target;
    st->folded_batches += njid;
    if (settle) {
      st->settle_pending = 0;
      st->last_settle = now_mono();
    } else {
      if (!st->settle_pending || fold_now > st->settle_now) st->settle_now = fold_now;
      st->settle_pending = 1;
    }
    committed();
  } else {
    /* The journal still has every batch of WORK: rebuild the accumulator from it next time. */
    st->need_rebuild = 1;
    st->fold_failures++;
  }
  pthread_cond_broadcast(&st->dcond);
  pthread_mutex_unlock(&st->flock);
  writer_unlock(st);
  pthread_mutex_unlock(&st->fold_mutex);
  if (nsids) {
    pthread_mutex_lock(&st->hook_lock);
    if (st->on_fold) st->on_fold(st->on_fold_arg, sids, nsids);
    pthread_mutex_unlock(&st->hook_lock);
  }
  return rc;
}

static void sqlite_on_fold(srv_store *st, void (*fn)(void *arg, const int64_t *service_ids, size_t n), void *arg) {
  pthread_mutex_lock(&st->hook_lock);
  st->on_fold = fn;
  st->on_fold_arg = arg;
  pthread_mutex_unlock(&st->hook_lock);
}

/* Idle (nothing merged for IDLE_RELEASE_S): gives back what the accumulators keep for reuse and
 * the writer's page cache, then the memory malloc keeps (in the arena of every thread that
 * decoded a batch) to the system. Not after every fold: under load that cost the next fold. */
static void idle_release(srv_store *st) {
  pthread_mutex_lock(&st->fold_mutex);
  writer_lock(st);
  pthread_mutex_lock(&st->flock);
  size_t njid;
  srv_fold_journal_ids(st->acc, &njid);
  if (njid == 0 && !st->need_rebuild) {
    srv_fold_shrink(st->acc);
    srv_fold_shrink(st->spare);
  }
  pthread_mutex_unlock(&st->flock);
  sqlite3_db_release_memory(st->w);
  writer_unlock(st);
  pthread_mutex_unlock(&st->fold_mutex);
  malloc_trim(0);
}

static void *folder_main(void *arg) {
  srv_store *st = arg;
  pthread_setname_np(pthread_self(), "hud-folder");
  pthread_mutex_lock(&st->flock);
  int failing = 0;
  while (!st->stop) {
    size_t njid;
    srv_fold_journal_ids(st->acc, &njid);
    int have = njid > 0 || st->need_rebuild;
    double due = st->acc_since + st->fold_interval_s;
    int now_due = (have && (st->fold_request || now_mono() >= due || srv_fold_bytes(st->acc) > st->fold_soft)) ||
                  (st->settle_request && st->settle_pending);
    if (now_due && !failing) {
      st->fold_request = 0;
      pthread_mutex_unlock(&st->flock);
      int rc = fold_once(st);
      pthread_mutex_lock(&st->flock);
      failing = rc < 0;
      continue;
    }
    double quiet = st->last_merge + IDLE_RELEASE_S;
    if (!have && !failing && !st->released && now_mono() >= quiet) {
      st->released = 1;
      pthread_mutex_unlock(&st->flock);
      idle_release(st);
      pthread_mutex_lock(&st->flock);
      continue;
    }
    /* Sleep until due, woken by a request; after a failure retry once a second. */
    double wake = failing ? now_mono() + 1.0 : have ? due : !st->released ? quiet : now_mono() + 3600;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double d = wake - now_mono();
    if (d < 0.001) d = 0.001;
    ts.tv_sec += (time_t)d;
    ts.tv_nsec += (long)((d - (double)(time_t)d) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    int w = pthread_cond_timedwait(&st->fcond, &st->flock, &ts);
    if (failing && w != 0) failing = 0; /* a second passed: try again */
    if (failing && st->fold_request) failing = 0;
  }
  pthread_mutex_unlock(&st->flock);
  return NULL;
}

/* Waits until every batch acknowledged before the call is in the tables. HUD_EBUSY when a fold
 * fails meanwhile (the batches stay journaled). */
static int fold_sync(srv_store *st) {
  pthread_mutex_lock(&st->flock);
  uint64_t target = st->acked;
  int rc = 0;
  /* Folded, and the pre-aggregates of what is folded built (a fresh read sees them). */
  if (st->folded < target || st->settle_pending) {
    uint64_t failures = st->fold_failures;
    while ((st->folded < target || st->settle_pending) && st->fold_failures == failures) {
      st->fold_request = 1;
      st->settle_request = 1;
      pthread_cond_signal(&st->fcond);
      pthread_cond_wait(&st->dcond, &st->flock);
    }
    if (st->folded < target || st->settle_pending) rc = HUD_EBUSY;
  }
  pthread_mutex_unlock(&st->flock);
  return rc;
}

/* Far behind (memory): while the accumulator and the fold being written hold more than fold_hard,
 * wait for folds before merging more (the batch stays journaled meanwhile). A batch always merges
 * when nothing else is held, so one larger than the bound still goes through. Caller holds flock. */
static void merge_wait(srv_store *st) {
  for (;;) {
    size_t njid;
    srv_fold_journal_ids(st->acc, &njid);
    if (srv_fold_bytes(st->acc) + st->work_bytes <= st->fold_hard || (njid == 0 && st->work_bytes == 0) ||
        st->stop)
      return;
    uint64_t failures = st->fold_failures, folded = st->folded_batches;
    st->fold_request = 1;
    pthread_cond_signal(&st->fcond);
    while (st->folded_batches == folded && st->fold_failures == failures && !st->stop)
      pthread_cond_wait(&st->dcond, &st->flock);
    if (st->fold_failures != failures) return;
  }
}

typedef struct pending {
  const char *env;
  const hud_batch *b;
  int64_t now;
  const unsigned char *blob;
  size_t blob_len;
  int64_t sid, vid, jid;
  int rc; /* 0 stored, 1 duplicate, < 0 error */
  int done;
  struct pending *next;
} pending;

static int journal_tx(srv_store *st, pending *p) {
  sqlite3 *db = st->w;
  const hud_batch *b = p->b;
  const char *version = b->service_version ? b->service_version : "";
  sqlite3_bind_text(st->st_service, 1, p->env, -1, SQLITE_STATIC);
  sqlite3_bind_text(st->st_service, 2, b->service, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st->st_service, 3, p->now);
  int rc = step_done(db, st->st_service);
  sqlite3_bind_text(st->st_service_id, 1, p->env, -1, SQLITE_STATIC);
  sqlite3_bind_text(st->st_service_id, 2, b->service, -1, SQLITE_STATIC);
  if (rc == 0) rc = step_id(db, st->st_service_id, &p->sid);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st->st_version, 1, p->sid);
  sqlite3_bind_text(st->st_version, 2, version, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st->st_version, 3, p->now);
  rc = step_done(db, st->st_version);
  sqlite3_bind_int64(st->st_version_id, 1, p->sid);
  sqlite3_bind_text(st->st_version_id, 2, version, -1, SQLITE_STATIC);
  if (rc == 0) rc = step_id(db, st->st_version_id, &p->vid);
  if (rc < 0) return rc;

  sqlite3_stmt *q = st->st_batch;
  sqlite3_bind_text(q, 1, b->batch_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(q, 2, p->sid);
  sqlite3_bind_int64(q, 3, p->vid);
  sqlite3_bind_int64(q, 4, p->now);
  bind_text_or_null(q, 5, b->host);
  sqlite3_bind_int64(q, 6, b->pid);
  bind_text_or_null(q, 7, b->runtime);
  bind_text_or_null(q, 8, b->sensor_version);
  sqlite3_bind_int64(q, 9, (int64_t)b->n_invocations);
  if ((rc = step_done(db, q)) < 0) return rc;
  if (sqlite3_changes(db) == 0) return 1; /* seen before (stored or journaled): a no-op, rolled back */
  q = st->st_journal_ins;
  sqlite3_bind_int64(q, 1, p->sid);
  sqlite3_bind_int64(q, 2, p->vid);
  sqlite3_bind_int64(q, 3, p->now);
  sqlite3_bind_blob(q, 4, p->blob, (int)p->blob_len, SQLITE_STATIC);
  if ((rc = step_done(db, q)) < 0) return rc;
  p->jid = sqlite3_last_insert_rowid(db);
  return 0;
}

/* Journals GROUP in one transaction; a batch that fails rolls back to its savepoint alone. The
 * commit (and its fsync) is shared, which is what makes concurrent senders cheap. */
static void store_group(srv_store *st, pending *group) {
  writer_lock(st);
  double t0 = now_mono();
  int rc = exec(st->w, "BEGIN IMMEDIATE");
  for (pending *p = group; p; p = p->next) {
    if (rc < 0) {
      p->rc = rc;
      continue;
    }
    if (exec(st->w, "SAVEPOINT batch") < 0) {
      p->rc = HUD_ESTORE;
      continue;
    }
    p->rc = journal_tx(st, p);
    if (p->rc != 0) exec(st->w, "ROLLBACK TO batch");
    exec(st->w, "RELEASE batch");
  }
  if (rc == 0 && exec(st->w, "COMMIT") < 0) {
    exec(st->w, "ROLLBACK");
    for (pending *p = group; p; p = p->next) p->rc = HUD_ESTORE;
  }
  srv_metrics_store_latency(now_mono() - t0);
  writer_unlock(st);
}

static int sqlite_ingest(srv_store *st, const char *env, const hud_batch *batch, int64_t now, srv_ingest_result *result) {
  memset(result, 0, sizeof *result);
  pending me = {env, batch, now, NULL, 0, 0, 0, 0, 0, 0, NULL};
  unsigned char *blob;
  size_t blob_len;
  int rc = srv_journal_encode(batch, &blob, &blob_len);
  if (rc < 0) return rc;
  me.blob = blob;
  me.blob_len = blob_len;
  pthread_mutex_lock(&st->qlock);
  *st->queue_tail = &me;
  st->queue_tail = &me.next;
  while (!me.done) {
    if (st->leader) {
      pthread_cond_wait(&st->qcond, &st->qlock);
      continue;
    }
    st->leader = 1;
    pending *group = st->queue;
    st->queue = NULL;
    st->queue_tail = &st->queue;
    pthread_mutex_unlock(&st->qlock);
    store_group(st, group);
    pthread_mutex_lock(&st->qlock);
    for (pending *p = group, *next; p; p = next) {
      next = p->next; /* P may return and vanish as soon as done is set */
      p->done = 1;
    }
    st->leader = 0;
    pthread_cond_broadcast(&st->qcond);
  }
  pthread_mutex_unlock(&st->qlock);
  free(blob);
  if (me.rc == 1) {
    result->duplicate = 1;
    return 0;
  }
  if (me.rc < 0) return me.rc;

  /* Durable now. Merge it for the folder, unless a rebuild from the journal already read it. */
  pthread_mutex_lock(&st->flock);
  merge_wait(st);
  if (me.jid > st->rebuilt_upto && !st->need_rebuild) {
    size_t njid;
    srv_fold_journal_ids(st->acc, &njid);
    if (njid == 0) {
      st->acc_since = now_mono();
      pthread_cond_signal(&st->fcond); /* the folder sleeps until there is something to fold */
    }
    st->last_merge = now_mono();
    st->released = 0;
    if (srv_fold_add(st->acc, me.jid, me.sid, me.vid, now, rollup_cutoff_of(st, now), batch) < 0) {
      st->need_rebuild = 1; /* part of it may be in: start over from the journal */
      pthread_cond_signal(&st->fcond);
    }
  }
  ++st->acked;
  int pressure = srv_fold_bytes(st->acc) > st->fold_soft;
  if (pressure) pthread_cond_signal(&st->fcond);
  pthread_mutex_unlock(&st->flock);
  result->rows = batch->n_invocations;
  return 0;
}

/* ---- maintenance ---- */

typedef struct maint_ctx {
  srv_store *st;
  int64_t now;
  srv_maintain_result *res;
} maint_ctx;

static int maintain_tx(sqlite3 *db, void *arg) {
  maint_ctx *m = arg;
  int64_t cutoff = m->now - m->st->opt.rollup_after_s;
  cutoff -= ((cutoff % 3600) + 3600) % 3600; /* only whole hours are folded */
  for (int t = 0; t < T_COUNT; t++) {
    char *sql = table_rollup(&k_tables[t]);
    sqlite3_stmt *q;
    if (!sql) return HUD_ENOMEM;
    int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
    free(sql);
    if (rc != SQLITE_OK) {
      fprintf(stderr, "hud-server: rollup: %s\n", sqlite3_errmsg(db));
      return HUD_ESTORE;
    }
    sqlite3_bind_int64(q, 1, cutoff);
    rc = step_done(db, q);
    sqlite3_finalize(q);
    if (rc < 0) return rc;
    char del[160];
    snprintf(del, sizeof del, "DELETE FROM %s WHERE width = 60 AND slice < %lld", k_tables[t].name,
             (long long)cutoff);
    if (exec(db, del) < 0) return HUD_ESTORE;
    m->res->rolled_up += (uint64_t)sqlite3_changes(db);
    if (m->st->opt.retention_s > 0) {
      snprintf(del, sizeof del, "DELETE FROM %s WHERE slice < %lld", k_tables[t].name,
               (long long)(m->now - m->st->opt.retention_s));
      if (exec(db, del) < 0) return HUD_ESTORE;
      m->res->deleted += (uint64_t)sqlite3_changes(db);
    }
  }
  if (m->st->opt.retention_s > 0) {
    char del[160];
    snprintf(del, sizeof del, "DELETE FROM batches WHERE received_at < %lld",
             (long long)(m->now - m->st->opt.retention_s));
    if (exec(db, del) < 0) return HUD_ESTORE;
  }
  /* Issue times are ns; an open, acknowledged or muted issue is kept whatever its age. */
  int64_t keep = m->st->opt.issue_retention_s;
  if (keep > 0 && keep < m->now) {
    int rc = srv_issues_expire(db, (m->now - keep) * 1000000000LL, &m->res->issues_deleted);
    if (rc < 0) return rc;
  }
  /* Rebuild the pre-aggregates of completed hours touched since the last pass, and the completed
   * blocks of the running hour. */
  int64_t hour = m->now - ((m->now % 3600) + 3600) % 3600, block = m->now - ((m->now % 600) + 600) % 600;
  int rc = srv_hours_materialize(db, 0, INT64_MIN, hour, NULL);
  if (rc == 0 && block > hour) rc = srv_blocks_materialize(db, 0, hour, block, NULL);
  return rc;
}

static int sqlite_maintain(srv_store *st, int64_t now, srv_maintain_result *res) {
  srv_maintain_result local;
  if (!res) res = &local;
  memset(res, 0, sizeof *res);
  maint_ctx m = {st, now, res};
  /* Fold first: rollup and retention then see every acknowledged batch, and the fold (which takes
   * the writer too) never interleaves with them. */
  int rc = fold_once(st);
  if (rc < 0) return rc;
  rc = srv_store_sqlite_write(st, maintain_tx, &m);
  pthread_mutex_lock(&st->flock);
  if (rc == 0 && st->settle_pending && st->settle_now <= now) st->settle_pending = 0; /* built it all */
  pthread_mutex_unlock(&st->flock);
  return rc;
}

/* ---- the engine ---- */

/* A SQLite file: any location that is not a URL (or a sqlite:// one). */
static int sqlite_accepts(const char *location) {
  return strncmp(location, "sqlite://", 9) == 0 || strstr(location, "://") == NULL;
}

const srv_store_ops srv_store_sqlite_ops = {
    .name = "sqlite",
    .accepts = sqlite_accepts,
    .open = sqlite_open,
    .open_keys = sqlite_open_keys,
    .free = sqlite_free,
    .ping = sqlite_ping,
    .ingest = sqlite_ingest,
    .batch_known = sqlite_batch_known,
    .decode_budget = sqlite_decode_budget,
    .on_fold = sqlite_on_fold,
    .key_insert = sqlite_key_insert,
    .key_get = sqlite_key_get,
    .key_list = sqlite_key_list,
    .key_revoke = sqlite_key_revoke,
    .disk_full = sqlite_disk_full,
    .maintain = sqlite_maintain,
    .issues_write = srv_sqlite_issues_write,
    .read_begin = srv_sqlite_read_begin,
    .read_window = srv_sqlite_read_window,
    .read_snapshot_end = srv_sqlite_read_snapshot_end,
    .read_end = srv_sqlite_read_end,
    .reads = &srv_store_sqlite_reads,
};
