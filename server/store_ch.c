/* The ClickHouse store engine (store.h's seam; docs/architecture.md, "The ClickHouse store"):
 * schema, ingest, keys, maintenance and the issue writes. The typed reads are store_ch_reads.c.
 *
 * An ingest is acknowledged after ClickHouse answered 200 to every INSERT of the batch and then to
 * its row in the `batches` ledger, written last: a batch id found in the ledger is answered as a
 * duplicate without writing anything. In cluster mode ("cluster mode" below) those INSERTs go to the
 * shard this node connects to, and the ledger is checked on every shard. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hud/err.h"
#include "issues_store.h"
#include "membudget.h"
#include "store_ch.h"
#include "store_fold.h"

extern const srv_store_ops srv_store_ch_ops;

/* ---- schema ----
 * ClickHouse 18.16: MergeTree family, no Map, DateTime64, TTL, window functions or JSONExtract.
 * Ids are Int64 hashes (store_ch.h); times are unix seconds like the SQLite schema (issues: ns).
 * Tables with a sketch are plain MergeTree (a String column is not summed); the others are
 * SummingMergeTree over their key. Merges are eventual, so every read sums with GROUP BY. */
#define SLICED_PARTITION " PARTITION BY intDiv(slice, 604800)" /* weeks: retention drops whole weeks cheaply */
static const char *const k_schema[] = {
    "CREATE TABLE IF NOT EXISTS meta (key String, value String) ENGINE = ReplacingMergeTree ORDER BY key",
    "CREATE TABLE IF NOT EXISTS batches (batch_id String, service_id Int64, version_id Int64, received_at Int64,"
    " host String, pid Int64, runtime String, sensor_version String, rows UInt64, seq Int64)"
    " ENGINE = ReplacingMergeTree ORDER BY batch_id",
    "CREATE TABLE IF NOT EXISTS services (id Int64, env String, name String) ENGINE = ReplacingMergeTree ORDER BY id",
    "CREATE TABLE IF NOT EXISTS versions (id Int64, service_id Int64, version String)"
    " ENGINE = ReplacingMergeTree ORDER BY (service_id, id)",
    "CREATE TABLE IF NOT EXISTS functions (service_id Int64, id Int64, function_id String, declared UInt8,"
    " name String, module_path String, file String, start_line Int64, end_line Int64, is_async UInt8,"
    " source_code_hash String, first_seen Int64, last_seen Int64) ENGINE = MergeTree ORDER BY (service_id, id)",
    "CREATE TABLE IF NOT EXISTS flows (service_id Int64, id Int64, flow_id String, kind String,"
    " method Nullable(String), route Nullable(String), task_name Nullable(String), queue Nullable(String),"
    " first_seen Int64, last_seen Int64) ENGINE = MergeTree ORDER BY (service_id, id)",
    "CREATE TABLE IF NOT EXISTS fn_versions (service_id Int64, fn Int64, version_id Int64, source_code_hash String,"
    " first_seen Int64, last_seen Int64) ENGINE = MergeTree ORDER BY (service_id, version_id, fn)",
    "CREATE TABLE IF NOT EXISTS version_spans (version_id Int64, service_id Int64, data_from Int64, data_to Int64)"
    " ENGINE = MergeTree ORDER BY (service_id, version_id)",
    "CREATE TABLE IF NOT EXISTS calls (service_id Int64, version_id Int64, slice Int64, width Int64, fn Int64,"
    " caller Int64, caller_module String, call_line Int64, flow Int64, count Int64, sampled_count Int64,"
    " sum_duration Int64, sum_squared_duration Float64, self_duration Int64, errors Int64, sketch String)"
    " ENGINE = MergeTree" SLICED_PARTITION " ORDER BY (service_id, caller, fn, slice)",
    /* The same rows ordered for reads inside one flow (a function's figures and sketch in a flow). */
    "CREATE TABLE IF NOT EXISTS calls_by_flow AS calls ENGINE = MergeTree" SLICED_PARTITION
    " ORDER BY (service_id, flow, fn, slice)",
    "CREATE TABLE IF NOT EXISTS fn_slices (service_id Int64, version_id Int64, slice Int64, width Int64, fn Int64,"
    " count Int64, sampled_count Int64, sum_duration Int64, sum_squared_duration Float64, self_duration Int64,"
    " errors Int64, sketch String) ENGINE = MergeTree" SLICED_PARTITION " ORDER BY (service_id, fn, slice)",
    "CREATE TABLE IF NOT EXISTS fn_errors (service_id Int64, version_id Int64, slice Int64, width Int64, fn Int64,"
    " type String, count Int64) ENGINE = SummingMergeTree" SLICED_PARTITION
    " ORDER BY (service_id, fn, slice, width, type, version_id)",
    "CREATE TABLE IF NOT EXISTS flow_slices (service_id Int64, version_id Int64, slice Int64, width Int64,"
    " flow Int64, count Int64, errors Int64, sampled_count Int64, sum_duration Int64,"
    " sum_squared_duration Float64, sketch String) ENGINE = MergeTree" SLICED_PARTITION
    " ORDER BY (service_id, flow, slice)",
    "CREATE TABLE IF NOT EXISTS flow_status (service_id Int64, version_id Int64, slice Int64, width Int64,"
    " flow Int64, status Int64, count Int64) ENGINE = SummingMergeTree" SLICED_PARTITION
    " ORDER BY (service_id, flow, slice, width, status, version_id)",
    "CREATE TABLE IF NOT EXISTS flow_errors (service_id Int64, version_id Int64, slice Int64, width Int64,"
    " flow Int64, type String, count Int64) ENGINE = SummingMergeTree" SLICED_PARTITION
    " ORDER BY (service_id, flow, slice, width, type, version_id)",
    "CREATE TABLE IF NOT EXISTS flow_functions (service_id Int64, version_id Int64, slice Int64, width Int64,"
    " flow Int64, fn Int64, count Int64, errors Int64, sampled_count Int64, sum_duration Int64,"
    " self_duration Int64) ENGINE = SummingMergeTree" SLICED_PARTITION
    " ORDER BY (service_id, flow, fn, slice, width, version_id)",
    "CREATE TABLE IF NOT EXISTS exception_flows (service_id Int64, version_id Int64, slice Int64, width Int64,"
    " flow Int64, type String, origin_fn Int64, origin_line Int64, path String, caught_fn Int64, count Int64)"
    " ENGINE = SummingMergeTree" SLICED_PARTITION
    " ORDER BY (service_id, slice, width, flow, type, origin_fn, origin_line, path, caught_fn, version_id)",
    "CREATE TABLE IF NOT EXISTS issues (service_id Int64, issue_id String, kind String,"
    " function_id Nullable(String), flow_id Nullable(String), exception_type Nullable(String), comparison String,"
    " status String, first_seen Int64, last_seen Int64, status_changed_at Int64, times_reopened Int64,"
    " base_label Nullable(String), cand_label Nullable(String), payload String, found_since Int64,"
    " alerted_at Int64, alert_pending Nullable(String), cand_version Nullable(String),"
    " alerted_version Nullable(String), finding Nullable(String), ver Int64)"
    " ENGINE = ReplacingMergeTree(ver) ORDER BY (service_id, issue_id)",
    "CREATE TABLE IF NOT EXISTS issue_events (issue_id String, at Int64, seq Int64, event String,"
    " note Nullable(String)) ENGINE = MergeTree ORDER BY (issue_id, seq)",
    "CREATE TABLE IF NOT EXISTS api_keys (id Int64, secret_hash String, envs String, label String,"
    " created_at Int64, revoked_at Int64, roles Nullable(String), ver Int64)"
    " ENGINE = ReplacingMergeTree(ver) ORDER BY id",
    /* ---- pre-merged sketches (store_ch_rollup.c): written by maintenance, never by ingest ----
     * sketch_spans: one merged sketch per (source, flow, fn, version) of a 10-minute block or an hour,
     * told apart per run by ver, ordered by span so that a window's spans are read alone;
     * sketch_span_marks: how many source rows a run merged per span. */
    "CREATE TABLE IF NOT EXISTS sketch_spans (service_id Int64, src Int64, flow Int64, fn Int64, version_id Int64,"
    " span Int64, width Int64, sketch String, ver Int64) ENGINE = MergeTree PARTITION BY intDiv(span, 604800)"
    " ORDER BY (service_id, src, flow, span, width, fn, version_id)",
    "CREATE TABLE IF NOT EXISTS sketch_span_marks (service_id Int64, src Int64, span Int64, width Int64, rows Int64,"
    " ver Int64) ENGINE = ReplacingMergeTree(ver) ORDER BY (service_id, src, span, width)",
};

/* The time-sliced tables, in store_fold.h's order. */
static const char *const k_sliced[SRV_FOLD_TABLES] = {"calls",       "fn_slices",   "fn_errors",      "flow_slices",
                                                      "flow_status", "flow_errors", "flow_functions", "exception_flows"};

/* ---- cluster mode ----
 * With clickhouse://HOST:PORT/DB?cluster=NAME (NAME: an entry of ClickHouse's <remote_servers>, HOST one
 * of its shards) every table X of k_schema becomes X_local on the ClickHouse this node connects to, with
 * the same engine, plus X = Distributed(NAME, DB, X_local, cityHash64(X's ORDER BY key)) there. Reads
 * name X and see every shard (a shard that does not answer fails the read: no partial figures). A batch
 * is written into this node's X_local tables only, so all of it lives on one shard and a shard that is
 * down fails the whole batch; the duplicate check reads the Distributed ledger (every shard). Other
 * writes (issues, events, keys) go through X with insert_distributed_sync=1: rows of one ORDER BY key
 * land on one shard, where ReplacingMergeTree and FINAL replace them. A table added to k_schema gets
 * all of this without more code. ClickHouse 18.16 has no distributed DDL without ZooKeeper: each node
 * creates the tables on its own shard (every shard needs a node, or one `hud-server keys list` run
 * against it). */

static const char k_create[] = "CREATE TABLE IF NOT EXISTS ";

/* TABLE as this node's writes of a batch name it: X_local in cluster mode (into OUT), else X. */
const char *srv_ch_shard_table(const srv_store *st, const char *table, char *out, size_t cap) {
  if (!srv_ch_cluster(st->ch)) return table;
  snprintf(out, cap, "%s_local", table);
  return out;
}

/* STMT (k_schema's shape: CREATE TABLE IF NOT EXISTS X (...|AS Y) ENGINE ... ORDER BY KEY) as X_local
 * (Y_local) into L and the Distributed table X over it into D. */
static int cluster_ddl(const srv_store *st, const char *stmt, hud_buf *l, hud_buf *d) {
  const char *name = stmt + sizeof k_create - 1, *ob = strstr(stmt, " ORDER BY ");
  if (strncmp(stmt, k_create, sizeof k_create - 1) != 0 || !ob) return HUD_EINVAL;
  size_t nlen = strcspn(name, " (");
  const char *rest = name + nlen;
  hud_buf_put(l, stmt, (size_t)(rest - stmt));
  hud_buf_puts(l, "_local");
  if (strncmp(rest, " AS ", 4) == 0) {
    size_t olen = strcspn(rest + 4, " ");
    hud_buf_put(l, rest, 4 + olen);
    hud_buf_puts(l, "_local");
    rest += 4 + olen;
  }
  hud_buf_puts(l, rest);
  const char *key = ob + 10;
  size_t klen = strlen(key);
  if (key[0] == '(' && klen > 1 && key[klen - 1] == ')') key++, klen -= 2;
  hud_buf_puts(d, k_create);
  hud_buf_put(d, name, nlen);
  hud_buf_puts(d, " AS ");
  hud_buf_put(d, name, nlen);
  hud_buf_puts(d, "_local ENGINE = Distributed(");
  hud_buf_puts(d, srv_ch_cluster(st->ch));
  hud_buf_puts(d, ", ");
  hud_buf_puts(d, srv_ch_database(st->ch));
  hud_buf_puts(d, ", ");
  hud_buf_put(d, name, nlen);
  hud_buf_puts(d, "_local, cityHash64(");
  hud_buf_put(d, key, klen);
  hud_buf_puts(d, "))");
  return l->oom || d->oom ? HUD_ENOMEM : 0;
}

static int exec_ddl(srv_store *st, const char *stmt) {
  if (!srv_ch_cluster(st->ch)) return srv_chs_exec(st, stmt, NULL, 0);
  hud_buf l = {0}, d = {0};
  int rc = cluster_ddl(st, stmt, &l, &d);
  char *ls = rc == 0 ? hud_buf_take(&l, NULL) : NULL, *ds = rc == 0 ? hud_buf_take(&d, NULL) : NULL;
  if (rc == 0 && (!ls || !ds)) rc = HUD_ENOMEM;
  if (rc == 0) rc = srv_chs_exec(st, ls, NULL, 0);
  if (rc == 0) rc = srv_chs_exec(st, ds, NULL, 0);
  free(ls);
  free(ds);
  hud_buf_free(&l);
  hud_buf_free(&d);
  return rc;
}

/* The URL and the database agree: with ?cluster=NAME, NAME is a cluster this ClickHouse is a shard of
 * and (TABLES: once created) the tables are Distributed; without, they are not (a database is one mode
 * or the other). HUD_ECONFIG with the reason on stderr. */
static int check_mode(srv_store *st, int tables) {
  const char *cl = srv_ch_cluster(st->ch);
  hud_buf b = {0};
  hud_buf_puts(&b, "SELECT (SELECT count() FROM system.clusters WHERE cluster = ");
  srv_ch_sql_str(&b, cl ? cl : "");
  hud_buf_puts(&b, "), (SELECT count() FROM system.clusters WHERE is_local AND cluster = ");
  srv_ch_sql_str(&b, cl ? cl : "");
  hud_buf_puts(&b, "), (SELECT count() FROM system.tables WHERE engine = 'Distributed' AND name = 'batches'"
                   " AND database = ");
  srv_ch_sql_str(&b, srv_ch_database(st->ch));
  hud_buf_putc(&b, ')');
  char *sql = hud_buf_take(&b, NULL);
  if (!sql) return HUD_ENOMEM;
  srv_ch_rows r;
  int rc = srv_chs_select(st, sql, 3, &r);
  free(sql);
  if (rc < 0) return rc;
  int64_t shards = r.rows ? srv_ch_i64(&r, 0, 0) : 0, mine = r.rows ? srv_ch_i64(&r, 0, 1) : 0;
  int dist = r.rows && srv_ch_i64(&r, 0, 2) > 0;
  srv_ch_rows_free(&r);
  const char *db = srv_ch_database(st->ch);
  if (cl && !shards) fprintf(stderr, "hud-server: store: ClickHouse has no cluster '%s' in its remote_servers\n", cl);
  else if (cl && !mine)
    fprintf(stderr, "hud-server: store: this ClickHouse is not a shard of cluster '%s' (a node writes into the shard"
                    " it connects to)\n", cl);
  else if (cl && tables && !dist)
    fprintf(stderr, "hud-server: store: database '%s' holds single-node tables; a cluster needs a database of its own\n",
            db);
  else if (!cl && tables && dist)
    fprintf(stderr, "hud-server: store: database '%s' is a cluster's (Distributed tables): add ?cluster=NAME\n", db);
  else return 0;
  return HUD_ECONFIG;
}

static int create_schema(srv_store *st) {
  hud_buf b = {0};
  hud_buf_puts(&b, "CREATE DATABASE IF NOT EXISTS ");
  hud_buf_puts(&b, srv_ch_database(st->ch));
  char *sql = hud_buf_take(&b, NULL);
  char err[700] = "";
  int rc = sql ? srv_ch_query(st->ch, 1, sql, NULL, 0, NULL, NULL, err, sizeof err) : HUD_ENOMEM;
  if (rc < 0) fprintf(stderr, "hud-server: store: %s\n", err[0] ? err : hud_strerror(rc));
  free(sql);
  if (rc == 0 && srv_ch_cluster(st->ch)) rc = check_mode(st, 0); /* before creating anything */
  for (size_t i = 0; rc == 0 && i < sizeof k_schema / sizeof *k_schema; i++) rc = exec_ddl(st, k_schema[i]);
  if (rc == 0) rc = check_mode(st, 1);
  return rc;
}

/* ---- open, free ---- */

static void ch_free(srv_store *st);

static int ch_new(const char *url, srv_store **out) {
  srv_store *st = calloc(1, sizeof *st);
  if (!st) return HUD_ENOMEM;
  st->ops = &srv_store_ch_ops;
  pthread_mutex_init(&st->ingest_mu, NULL);
  pthread_mutex_init(&st->issues_mu, NULL);
  pthread_mutex_init(&st->cb_mu, NULL);
  char err[300] = "";
  srv_ch_options o = {.url = url, .timeout_ms = 30000};
  int rc = srv_ch_new(&o, &st->ch, err, sizeof err);
  if (rc < 0) {
    fprintf(stderr, "hud-server: %s\n", err[0] ? err : hud_strerror(rc));
    ch_free(st);
    return rc;
  }
  if ((rc = create_schema(st)) < 0) {
    ch_free(st);
    return rc == HUD_ECONNECT || rc == HUD_ETIMEOUT || rc == HUD_ECONFIG ? rc : HUD_ESTORE;
  }
  *out = st;
  return 0;
}

static int ch_open(const srv_store_options *opt, srv_store **out) {
  srv_store *st;
  int rc = ch_new(opt->path, &st);
  if (rc < 0) return rc;
  st->opt = *opt;
  st->opt.path = NULL; /* not kept: the caller owns it */
  if (st->opt.rollup_after_s <= 0) st->opt.rollup_after_s = 86400;
  size_t mem = opt->fold_memory_bytes ? opt->fold_memory_bytes : (size_t)256 << 20;
  if (!(st->budget = srv_membudget_new(mem / 2))) {
    ch_free(st);
    return HUD_ENOMEM;
  }
  *out = st;
  return 0;
}

static int ch_open_keys(const char *location, srv_store **out) {
  int rc = ch_new(location, out);
  if (rc == 0) (*out)->keys_only = 1;
  return rc;
}

static void ch_free(srv_store *st) {
  if (!st) return;
  srv_ch_free(st->ch);
  srv_membudget_free(st->budget);
  free(st->seen);
  pthread_mutex_destroy(&st->ingest_mu);
  pthread_mutex_destroy(&st->issues_mu);
  pthread_mutex_destroy(&st->cb_mu);
  free(st);
}

static int ch_ping(srv_store *st) {
  srv_ch_rows r;
  int rc = srv_chs_select(st, "SELECT 1", 1, &r);
  if (rc == 0) srv_ch_rows_free(&r);
  return rc;
}

static struct srv_membudget *ch_decode_budget(srv_store *st) { return st->budget; }

static void ch_on_fold(srv_store *st, void (*fn)(void *arg, const int64_t *service_ids, size_t n), void *arg) {
  pthread_mutex_lock(&st->cb_mu);
  st->on_fold = fn;
  st->on_fold_arg = arg;
  pthread_mutex_unlock(&st->cb_mu);
}

static int ch_disk_full(srv_store *st) {
  (void)st;
  return 0;
}

/* ---- ingest ---- */

static int ch_batch_known(srv_store *st, const char *batch_id) {
  hud_buf b = {0};
  hud_buf_puts(&b, "SELECT count() FROM batches WHERE batch_id = ");
  srv_ch_sql_str(&b, batch_id);
  char *sql = hud_buf_take(&b, NULL);
  if (!sql) return HUD_ENOMEM;
  srv_ch_rows r;
  int rc = srv_chs_select(st, sql, 1, &r);
  free(sql);
  if (rc < 0) return rc;
  rc = r.rows && srv_ch_i64(&r, 0, 0) > 0;
  srv_ch_rows_free(&r);
  return rc;
}

static int64_t rollup_cutoff(const srv_store *st, int64_t now) {
  int64_t c = now - st->opt.rollup_after_s;
  return c - ((c % 3600) + 3600) % 3600;
}

/* One INSERT of BODY's rows into TABLE (nothing when empty). */
static int insert_rows(srv_store *st, const char *table, hud_buf *body) {
  if (body->oom) {
    hud_buf_free(body);
    return HUD_ENOMEM;
  }
  if (!body->n) return 0;
  char sql[160];
  snprintf(sql, sizeof sql, "INSERT INTO %s FORMAT TabSeparated", table);
  int rc = srv_chs_exec(st, sql, body->p, body->n);
  hud_buf_free(body);
  return rc;
}

/* insert_rows for a batch's rows: into this node's shard in cluster mode (X_local), so that a batch
 * is stored on one shard or not at all. */
static int insert_batch_rows(srv_store *st, const char *table, hud_buf *body) {
  char local[96];
  return insert_rows(st, srv_ch_shard_table(st, table, local, sizeof local), body);
}

static void put_sketch(hud_buf *b, const srv_fold_row *r, int *rc) {
  unsigned char *blob = NULL;
  size_t len = 0;
  srv_bins_acc a = r->sketch; /* encoding may normalise bins in place: the fold is freed after */
  if (r->sketch.set && srv_acc_encode(&a, &blob, &len) < 0) *rc = HUD_ENOMEM;
  srv_ch_tsv_str(b, blob ? (const char *)blob : "", blob ? len : 0, '\n');
  free(blob);
}

/* "uuid uuid ..." as "id id ...". */
static void put_path(hud_buf *b, int64_t sid, const char *path) {
  hud_buf p = {0};
  for (const char *s = path ? path : ""; *s;) {
    size_t len = strcspn(s, " ");
    char u[HUD_UUID_STRLEN + 1];
    snprintf(u, sizeof u, "%.*s", (int)(len < HUD_UUID_STRLEN ? len : HUD_UUID_STRLEN), s);
    char id[24];
    snprintf(id, sizeof id, "%s%lld", p.n ? " " : "", (long long)srv_ch_fn_id(sid, u));
    hud_buf_puts(&p, id);
    s += len;
    while (*s == ' ') s++;
  }
  srv_ch_tsv_str(b, p.p ? p.p : "", p.n, '\t');
  hud_buf_free(&p);
}

/* One accumulated row as TabSeparated in its table's column order. */
static int put_row(hud_buf *b, const srv_fold_row *r) {
  int64_t sid = r->sid;
  int64_t fn = srv_ch_fn_id(sid, r->fn), caller = srv_ch_fn_id(sid, r->caller), flow = srv_ch_flow_id(sid, r->flow);
  int rc = 0;
  srv_ch_tsv_i64(b, sid, '\t');
  srv_ch_tsv_i64(b, r->vid, '\t');
  srv_ch_tsv_i64(b, r->slice, '\t');
  srv_ch_tsv_i64(b, r->width, '\t');
  switch (r->table) {
  case SRV_FOLD_CALLS:
    srv_ch_tsv_i64(b, fn, '\t');
    srv_ch_tsv_i64(b, caller, '\t');
    srv_ch_tsv_str(b, r->text ? r->text : "", r->text ? strlen(r->text) : 0, '\t');
    srv_ch_tsv_i64(b, r->num, '\t');
    srv_ch_tsv_i64(b, flow, '\t');
    /* fallthrough */
  case SRV_FOLD_FN_SLICES:
    if (r->table == SRV_FOLD_FN_SLICES) srv_ch_tsv_i64(b, fn, '\t');
    srv_ch_tsv_i64(b, r->count, '\t');
    srv_ch_tsv_i64(b, r->sampled, '\t');
    srv_ch_tsv_i64(b, r->sum, '\t');
    srv_ch_tsv_f64(b, r->sumsq, '\t');
    srv_ch_tsv_i64(b, r->self, '\t');
    srv_ch_tsv_i64(b, r->errors, '\t');
    put_sketch(b, r, &rc);
    break;
  case SRV_FOLD_FN_ERRORS:
  case SRV_FOLD_FLOW_ERRORS:
    srv_ch_tsv_i64(b, r->table == SRV_FOLD_FN_ERRORS ? fn : flow, '\t');
    srv_ch_tsv_str(b, r->text ? r->text : "", r->text ? strlen(r->text) : 0, '\t');
    srv_ch_tsv_i64(b, r->count, '\n');
    break;
  case SRV_FOLD_FLOW_SLICES:
    srv_ch_tsv_i64(b, flow, '\t');
    srv_ch_tsv_i64(b, r->count, '\t');
    srv_ch_tsv_i64(b, r->errors, '\t');
    srv_ch_tsv_i64(b, r->sampled, '\t');
    srv_ch_tsv_i64(b, r->sum, '\t');
    srv_ch_tsv_f64(b, r->sumsq, '\t');
    put_sketch(b, r, &rc);
    break;
  case SRV_FOLD_FLOW_STATUS:
    srv_ch_tsv_i64(b, flow, '\t');
    srv_ch_tsv_i64(b, r->num, '\t');
    srv_ch_tsv_i64(b, r->count, '\n');
    break;
  case SRV_FOLD_FLOW_FUNCTIONS:
    srv_ch_tsv_i64(b, flow, '\t');
    srv_ch_tsv_i64(b, fn, '\t');
    srv_ch_tsv_i64(b, r->count, '\t');
    srv_ch_tsv_i64(b, r->errors, '\t');
    srv_ch_tsv_i64(b, r->sampled, '\t');
    srv_ch_tsv_i64(b, r->sum, '\t');
    srv_ch_tsv_i64(b, r->self, '\n');
    break;
  case SRV_FOLD_EXC_FLOWS:
    srv_ch_tsv_i64(b, flow, '\t');
    srv_ch_tsv_str(b, r->text ? r->text : "", r->text ? strlen(r->text) : 0, '\t');
    srv_ch_tsv_i64(b, fn, '\t');
    srv_ch_tsv_i64(b, r->num, '\t');
    put_path(b, sid, r->path);
    srv_ch_tsv_i64(b, caller, '\t');
    srv_ch_tsv_i64(b, r->count, '\n');
    break;
  default:
    return HUD_EINVAL;
  }
  return rc;
}

/* 1 when ID is new to ST's set of written first-seen rows (and now in it), 0 when known or out of
 * memory (the row is then written again: a duplicate first-seen row changes no answer). */
static int seen_add(srv_store *st, int64_t id) {
  if (2 * (st->seen_n + 1) > st->seen_cap) {
    size_t cap = st->seen_cap ? st->seen_cap * 2 : 1024;
    int64_t *v = calloc(cap, sizeof *v);
    if (!v) return 1;
    for (size_t i = 0; i < st->seen_cap; i++)
      if (st->seen[i])
        for (size_t j = (uint64_t)st->seen[i] % cap;; j = (j + 1) % cap)
          if (!v[j]) {
            v[j] = st->seen[i];
            break;
          }
    free(st->seen);
    st->seen = v;
    st->seen_cap = cap;
  }
  for (size_t j = (uint64_t)id % st->seen_cap;; j = (j + 1) % st->seen_cap) {
    if (st->seen[j] == id) return 0;
    if (!st->seen[j]) {
      st->seen[j] = id;
      st->seen_n++;
      return 1;
    }
  }
}

/* A function referenced by the batch and not seen before (undeclared row: first/last seen only). */
static void put_fn_ref(srv_store *st, hud_buf *b, int64_t sid, const char *uuid, int64_t now) {
  if (!uuid || !uuid[0] || !seen_add(st, srv_ch_fn_id(sid, uuid))) return;
  srv_ch_tsv_i64(b, sid, '\t');
  srv_ch_tsv_i64(b, srv_ch_fn_id(sid, uuid), '\t');
  srv_ch_tsv_str(b, uuid, strlen(uuid), '\t');
  hud_buf_puts(b, "0\t\t\t\t0\t0\t0\t\t");
  srv_ch_tsv_i64(b, now, '\t');
  srv_ch_tsv_i64(b, now, '\n');
}

static void put_flow_ref(srv_store *st, hud_buf *b, int64_t sid, const char *uuid, int64_t now) {
  if (!uuid || !uuid[0] || !seen_add(st, srv_ch_flow_id(sid, uuid))) return;
  srv_ch_tsv_i64(b, sid, '\t');
  srv_ch_tsv_i64(b, srv_ch_flow_id(sid, uuid), '\t');
  srv_ch_tsv_str(b, uuid, strlen(uuid), '\t');
  hud_buf_puts(b, "unknown\t\\N\t\\N\t\\N\t\\N\t");
  srv_ch_tsv_i64(b, now, '\t');
  srv_ch_tsv_i64(b, now, '\n');
}

static void put_opt(hud_buf *b, const char *s, char end) { srv_ch_tsv_str(b, s, s ? strlen(s) : 0, end); }

/* Declarations, flow details, code hashes per version, referenced ids and version spans of fold F. */
static int write_entities(srv_store *st, const srv_fold *f, int64_t now) {
  hud_buf fns = {0}, flows = {0}, vers = {0}, spans = {0};
  for (const srv_fold_decl *e = srv_fold_decls(f); e; e = e->next) {
    const hud_function_decl *d = &e->d;
    int64_t id = srv_ch_fn_id(e->sid, d->function_id);
    srv_ch_tsv_i64(&fns, e->sid, '\t');
    srv_ch_tsv_i64(&fns, id, '\t');
    put_opt(&fns, d->function_id, '\t');
    hud_buf_puts(&fns, "1\t");
    put_opt(&fns, d->name ? d->name : "", '\t');
    put_opt(&fns, d->module_path ? d->module_path : "", '\t');
    put_opt(&fns, d->file ? d->file : "", '\t');
    srv_ch_tsv_i64(&fns, d->start_line, '\t');
    srv_ch_tsv_i64(&fns, d->end_line, '\t');
    srv_ch_tsv_i64(&fns, d->is_async ? 1 : 0, '\t');
    put_opt(&fns, d->source_code_hash, '\t');
    srv_ch_tsv_i64(&fns, e->first, '\t');
    srv_ch_tsv_i64(&fns, e->last, '\n');
    srv_ch_tsv_i64(&vers, e->sid, '\t');
    srv_ch_tsv_i64(&vers, id, '\t');
    srv_ch_tsv_i64(&vers, e->vid, '\t');
    put_opt(&vers, d->source_code_hash, '\t');
    srv_ch_tsv_i64(&vers, e->first, '\t');
    srv_ch_tsv_i64(&vers, e->last, '\n');
  }
  for (const srv_fold_flow *e = srv_fold_flows(f); e; e = e->next) {
    srv_ch_tsv_i64(&flows, e->sid, '\t');
    srv_ch_tsv_i64(&flows, srv_ch_flow_id(e->sid, e->flow), '\t');
    put_opt(&flows, e->flow, '\t');
    put_opt(&flows, e->kind == HUD_FLOW_ENDPOINT ? "endpoint" : "consumer", '\t');
    put_opt(&flows, e->method, '\t');
    put_opt(&flows, e->route, '\t');
    put_opt(&flows, e->task_name, '\t');
    put_opt(&flows, e->queue, '\t');
    srv_ch_tsv_i64(&flows, e->first, '\t');
    srv_ch_tsv_i64(&flows, e->last, '\n');
  }
  int64_t sid = 0, vid = 0, from = INT64_MAX, to = INT64_MIN;
  for (int t = 0; t < SRV_FOLD_TABLES; t++)
    for (const srv_fold_row *r = srv_fold_rows(f, t); r; r = r->next) {
      sid = r->sid;
      vid = r->vid;
      put_fn_ref(st, &fns, r->sid, r->fn, now);
      put_fn_ref(st, &fns, r->sid, r->caller, now);
      put_flow_ref(st, &flows, r->sid, r->flow, now);
      for (const char *s = r->path ? r->path : ""; *s;) {
        size_t len = strcspn(s, " ");
        char u[HUD_UUID_STRLEN + 1];
        snprintf(u, sizeof u, "%.*s", (int)(len < HUD_UUID_STRLEN ? len : HUD_UUID_STRLEN), s);
        put_fn_ref(st, &fns, r->sid, u, now);
        s += len;
        while (*s == ' ') s++;
      }
      if (t == SRV_FOLD_CALLS || t == SRV_FOLD_FLOW_SLICES) {
        if (r->slice < from) from = r->slice;
        if (r->slice + r->width > to) to = r->slice + r->width;
      }
    }
  if (from < to) {
    srv_ch_tsv_i64(&spans, vid, '\t');
    srv_ch_tsv_i64(&spans, sid, '\t');
    srv_ch_tsv_i64(&spans, from, '\t');
    srv_ch_tsv_i64(&spans, to, '\n');
  }
  int rc = insert_batch_rows(st, "functions", &fns);
  if (rc == 0) rc = insert_batch_rows(st, "flows", &flows);
  if (rc == 0) rc = insert_batch_rows(st, "fn_versions", &vers);
  if (rc == 0) rc = insert_batch_rows(st, "version_spans", &spans);
  hud_buf_free(&fns);
  hud_buf_free(&flows);
  hud_buf_free(&vers);
  hud_buf_free(&spans);
  return rc;
}

static int write_identity(srv_store *st, const char *env, const hud_batch *b, int64_t sid, int64_t vid) {
  hud_buf s = {0}, v = {0};
  srv_ch_tsv_i64(&s, sid, '\t');
  put_opt(&s, env, '\t');
  put_opt(&s, b->service, '\n');
  srv_ch_tsv_i64(&v, vid, '\t');
  srv_ch_tsv_i64(&v, sid, '\t');
  put_opt(&v, b->service_version ? b->service_version : "", '\n');
  int rc = insert_batch_rows(st, "services", &s);
  if (rc == 0) rc = insert_batch_rows(st, "versions", &v);
  hud_buf_free(&s);
  hud_buf_free(&v);
  return rc;
}

static int write_ledger(srv_store *st, const hud_batch *b, int64_t sid, int64_t vid, int64_t now) {
  hud_buf l = {0};
  put_opt(&l, b->batch_id, '\t');
  srv_ch_tsv_i64(&l, sid, '\t');
  srv_ch_tsv_i64(&l, vid, '\t');
  srv_ch_tsv_i64(&l, now, '\t');
  put_opt(&l, b->host ? b->host : "", '\t');
  srv_ch_tsv_i64(&l, b->pid, '\t');
  put_opt(&l, b->runtime ? b->runtime : "", '\t');
  put_opt(&l, b->sensor_version ? b->sensor_version : "", '\t');
  srv_ch_tsv_i64(&l, (int64_t)b->n_invocations, '\t');
  struct timespec ts; /* the order of acknowledgement: ties of first_seen between versions */
  clock_gettime(CLOCK_REALTIME, &ts);
  srv_ch_tsv_i64(&l, (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec, '\n');
  return insert_batch_rows(st, "batches", &l);
}

static int write_batch(srv_store *st, const char *env, const hud_batch *b, int64_t now, int64_t *sid_out) {
  int64_t sid = srv_ch_service_id(env, b->service);
  int64_t vid = srv_ch_version_id(sid, b->service_version ? b->service_version : "");
  *sid_out = sid;
  srv_fold *f = srv_fold_new(1 << 20);
  if (!f) return HUD_ENOMEM;
  int rc = srv_fold_add(f, 0, sid, vid, now, rollup_cutoff(st, now), b);
  if (rc == 0) rc = srv_fold_finish(f);
  if (rc == 0) rc = write_identity(st, env, b, sid, vid);
  if (rc == 0) rc = write_entities(st, f, now);
  for (int t = 0; rc == 0 && t < SRV_FOLD_TABLES; t++) {
    hud_buf body = {0};
    for (const srv_fold_row *r = srv_fold_rows(f, t); rc == 0 && r; r = r->next) rc = put_row(&body, r);
    if (rc == 0 && t == SRV_FOLD_CALLS && body.n) {
      hud_buf copy = {0};
      hud_buf_put(&copy, body.p, body.n);
      rc = insert_batch_rows(st, "calls_by_flow", &copy);
    }
    if (rc == 0) rc = insert_batch_rows(st, k_sliced[t], &body);
    hud_buf_free(&body);
  }
  srv_fold_free(f);
  /* The ledger row last: a batch is known (a retry a duplicate) only once all of it is stored. */
  if (rc == 0) rc = write_ledger(st, b, sid, vid, now);
  return rc;
}

static int ch_ingest(srv_store *st, const char *env, const hud_batch *batch, int64_t now, srv_ingest_result *result) {
  memset(result, 0, sizeof *result);
  if (st->keys_only) return HUD_EINVAL;
  pthread_mutex_lock(&st->ingest_mu);
  int64_t sid = 0;
  int rc = ch_batch_known(st, batch->batch_id);
  if (rc == 1) result->duplicate = 1;
  else if (rc == 0) rc = write_batch(st, env, batch, now, &sid);
  if (rc < 0) { /* rows of the set may not have been written: write them again */
    free(st->seen);
    st->seen = NULL;
    st->seen_n = st->seen_cap = 0;
  }
  pthread_mutex_unlock(&st->ingest_mu);
  if (rc == 1) return 0;
  if (rc < 0) return rc;
  result->rows = batch->n_invocations;
  pthread_mutex_lock(&st->cb_mu);
  if (st->on_fold) st->on_fold(st->on_fold_arg, &sid, 1);
  pthread_mutex_unlock(&st->cb_mu);
  return 0;
}

/* ---- API keys ---- */

static void hex(const unsigned char *h, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", h[i]);
}

static int key_put(srv_store *st, const srv_key_info *k, const char *hash_hex, int64_t ver) {
  hud_buf b = {0};
  srv_ch_tsv_i64(&b, k->id, '\t');
  put_opt(&b, hash_hex, '\t');
  put_opt(&b, k->envs, '\t');
  put_opt(&b, k->label, '\t');
  srv_ch_tsv_i64(&b, k->created_at, '\t');
  srv_ch_tsv_i64(&b, k->revoked_at, '\t');
  put_opt(&b, k->roles[0] ? k->roles : NULL, '\t');
  srv_ch_tsv_i64(&b, ver, '\n');
  return insert_rows(st, "api_keys", &b);
}

static int ch_key_insert(srv_store *st, const unsigned char hash[32], const char *envs, const char *roles,
                         const char *label, int64_t now, int64_t *id) {
  srv_ch_rows r;
  pthread_mutex_lock(&st->ingest_mu);
  int rc = srv_chs_select(st, "SELECT max(id) FROM api_keys", 1, &r);
  if (rc == 0) {
    srv_key_info k = {.id = (r.rows ? srv_ch_i64(&r, 0, 0) : 0) + 1, .created_at = now};
    srv_ch_rows_free(&r);
    snprintf(k.envs, sizeof k.envs, "%s", envs ? envs : "");
    snprintf(k.roles, sizeof k.roles, "%s", roles ? roles : "");
    snprintf(k.label, sizeof k.label, "%s", label ? label : "");
    char h[65];
    hex(hash, 32, h);
    rc = key_put(st, &k, h, 1);
    if (rc == 0) *id = k.id;
  }
  pthread_mutex_unlock(&st->ingest_mu);
  return rc;
}

#define KEY_COLS "id, envs, label, created_at, revoked_at, roles, secret_hash, ver"

static void key_row(const srv_ch_rows *r, size_t i, srv_key_info *k) {
  memset(k, 0, sizeof *k);
  k->id = srv_ch_i64(r, i, 0);
  snprintf(k->envs, sizeof k->envs, "%s", srv_ch_cell(r, i, 1) ? srv_ch_cell(r, i, 1) : "");
  snprintf(k->label, sizeof k->label, "%s", srv_ch_cell(r, i, 2) ? srv_ch_cell(r, i, 2) : "");
  k->created_at = srv_ch_i64(r, i, 3);
  k->revoked_at = srv_ch_i64(r, i, 4);
  snprintf(k->roles, sizeof k->roles, "%s", srv_ch_cell(r, i, 5) ? srv_ch_cell(r, i, 5) : "");
}

static int key_select(srv_store *st, int64_t id, srv_ch_rows *r) {
  char sql[200];
  if (id) snprintf(sql, sizeof sql, "SELECT " KEY_COLS " FROM api_keys FINAL WHERE id = %lld", (long long)id);
  else snprintf(sql, sizeof sql, "SELECT " KEY_COLS " FROM api_keys FINAL ORDER BY id");
  return srv_chs_select(st, sql, 8, r);
}

static int ch_key_get(srv_store *st, int64_t id, srv_key_info *info, unsigned char hash[32]) {
  srv_ch_rows r;
  int rc = key_select(st, id, &r);
  if (rc < 0) return rc;
  const char *h = r.rows ? srv_ch_cell(&r, 0, 6) : NULL;
  if (!h || strlen(h) != 64) {
    rc = HUD_ENOTFOUND;
  } else {
    key_row(&r, 0, info);
    for (int i = 0; i < 32; i++) {
      unsigned v;
      sscanf(h + 2 * i, "%2x", &v);
      hash[i] = (unsigned char)v;
    }
  }
  srv_ch_rows_free(&r);
  return rc;
}

static int ch_key_list(srv_store *st, int (*fn)(const srv_key_info *k, void *arg), void *arg) {
  srv_ch_rows r;
  int rc = key_select(st, 0, &r);
  for (size_t i = 0; rc == 0 && i < r.rows; i++) {
    srv_key_info k;
    key_row(&r, i, &k);
    rc = fn(&k, arg);
  }
  if (r.text) srv_ch_rows_free(&r);
  return rc;
}

static int ch_key_revoke(srv_store *st, int64_t id, int64_t now) {
  srv_ch_rows r;
  pthread_mutex_lock(&st->ingest_mu);
  int rc = key_select(st, id, &r);
  if (rc == 0) {
    if (!r.rows || srv_ch_i64(&r, 0, 4) != 0) {
      rc = HUD_ENOTFOUND; /* as the SQLite engine: only an active key is revoked */
    } else {
      srv_key_info k;
      key_row(&r, 0, &k);
      k.revoked_at = now;
      rc = key_put(st, &k, srv_ch_cell(&r, 0, 6), srv_ch_i64(&r, 0, 7) + 1);
    }
    srv_ch_rows_free(&r);
  }
  pthread_mutex_unlock(&st->ingest_mu);
  return rc;
}

/* ---- maintenance ---- */

/* Retention deletes old slices (an ALTER TABLE ... DELETE mutation, applied by ClickHouse in the
 * background) and expired resolved issues. Minute rows are kept (reads sum them); their sketches are
 * merged per block and hour besides (srv_ch_rollup).
 * In cluster mode on this node's shard only (a Distributed table takes no mutation): each shard's
 * nodes expire its rows. */
static int ch_maintain(srv_store *st, int64_t now, srv_maintain_result *res) {
  memset(res, 0, sizeof *res);
  int rc = 0;
  if (st->opt.retention_s > 0) {
    int64_t cutoff = now - st->opt.retention_s;
    for (int t = 0; rc == 0 && t <= SRV_FOLD_TABLES; t++) {
      char sql[200];
      char local[96];
      snprintf(sql, sizeof sql, "ALTER TABLE %s DELETE WHERE slice < %lld",
               srv_ch_shard_table(st, t < SRV_FOLD_TABLES ? k_sliced[t] : "calls_by_flow", local, sizeof local),
               (long long)cutoff);
      rc = srv_chs_exec(st, sql, NULL, 0);
    }
  }
  if (rc == 0 && st->opt.issue_retention_s > 0) {
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT issue_id FROM issues FINAL WHERE status = 'resolved'"
             " AND greatest(last_seen, status_changed_at) < %lld",
             (long long)((now - st->opt.issue_retention_s) * 1000000000LL));
    srv_ch_rows r;
    if ((rc = srv_chs_select(st, sql, 1, &r)) < 0) return rc;
    hud_buf ids = {0};
    for (size_t i = 0; i < r.rows; i++) {
      if (i) hud_buf_putc(&ids, ',');
      srv_ch_sql_str(&ids, srv_ch_cell(&r, i, 0));
    }
    res->issues_deleted = r.rows;
    srv_ch_rows_free(&r);
    static const char *const tabs[] = {"issue_events", "issues"};
    for (int k = 0; rc == 0 && ids.n && k < 2; k++) {
      hud_buf q = {0};
      char local[96];
      hud_buf_puts(&q, "ALTER TABLE ");
      hud_buf_puts(&q, srv_ch_shard_table(st, tabs[k], local, sizeof local));
      hud_buf_puts(&q, " DELETE WHERE issue_id IN (");
      hud_buf_put(&q, ids.p, ids.n);
      hud_buf_putc(&q, ')');
      char *s = hud_buf_take(&q, NULL);
      rc = s ? srv_chs_exec(st, s, NULL, 0) : HUD_ENOMEM;
      free(s);
    }
    hud_buf_free(&ids);
  }
  if (rc == 0) rc = srv_ch_rollup(st, now);
  return rc;
}

/* ---- issue writes ----
 * Rows are versioned (ReplacingMergeTree(ver), read with FINAL); a transaction's rows and events are
 * buffered and inserted when FN returns 0, or before one of its reads. Under issues_mu within one
 * process; two nodes may interleave their read-modify-writes (the later row wins). */

typedef struct ch_issue_tx {
  const srv_issue_tx_ops *ops;
  srv_store *st;
  hud_buf rows, events;
} ch_issue_tx;

static int64_t next_ver(srv_store *st) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t v = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
  if (v <= st->issue_seq) v = st->issue_seq + 1;
  return st->issue_seq = v;
}

static int tx_flush(ch_issue_tx *t) {
  int rc = insert_rows(t->st, "issues", &t->rows);
  if (rc == 0) rc = insert_rows(t->st, "issue_events", &t->events);
  hud_buf_free(&t->rows);
  hud_buf_free(&t->events);
  return rc;
}

static int tx_get(srv_issue_tx *tx, int64_t sid, const char *issue_id, hud_arena *a, srv_issue_row *out) {
  ch_issue_tx *t = (ch_issue_tx *)tx;
  int rc = t->rows.n || t->events.n ? tx_flush(t) : 0;
  return rc < 0 ? rc : srv_ch_issue_get(t->st, sid, issue_id, a, out);
}

static int tx_put(srv_issue_tx *tx, int64_t sid, const srv_issue_row *r) {
  ch_issue_tx *t = (ch_issue_tx *)tx;
  hud_buf *b = &t->rows;
  srv_ch_tsv_i64(b, sid, '\t');
  put_opt(b, r->issue_id, '\t');
  put_opt(b, r->kind, '\t');
  put_opt(b, r->function_id, '\t');
  put_opt(b, r->flow_id, '\t');
  put_opt(b, r->exception_type, '\t');
  put_opt(b, r->comparison, '\t');
  put_opt(b, r->status, '\t');
  srv_ch_tsv_i64(b, r->first_seen, '\t');
  srv_ch_tsv_i64(b, r->last_seen, '\t');
  srv_ch_tsv_i64(b, r->status_changed_at, '\t');
  srv_ch_tsv_i64(b, r->times_reopened, '\t');
  put_opt(b, r->base_label, '\t');
  put_opt(b, r->cand_label, '\t');
  put_opt(b, r->payload, '\t');
  srv_ch_tsv_i64(b, r->found_since, '\t');
  srv_ch_tsv_i64(b, r->alerted_at, '\t');
  put_opt(b, r->alert_pending, '\t');
  put_opt(b, r->cand_version, '\t');
  put_opt(b, r->alerted_version, '\t');
  srv_ch_tsv_str(b, r->finding, r->finding_len, '\t');
  srv_ch_tsv_i64(b, next_ver(t->st), '\n');
  return b->oom ? HUD_ENOMEM : 0;
}

static int tx_event_add(srv_issue_tx *tx, const char *issue_id, int64_t at, const char *event, const char *note) {
  ch_issue_tx *t = (ch_issue_tx *)tx;
  hud_buf *b = &t->events;
  put_opt(b, issue_id, '\t');
  srv_ch_tsv_i64(b, at, '\t');
  srv_ch_tsv_i64(b, next_ver(t->st), '\t');
  put_opt(b, event, '\t');
  put_opt(b, note, '\n');
  return b->oom ? HUD_ENOMEM : 0;
}

static const srv_issue_tx_ops k_tx_ops = {tx_get, tx_put, tx_event_add};

static int ch_issues_write(srv_store *st, int (*fn)(srv_issue_tx *tx, void *arg), void *arg) {
  ch_issue_tx t = {.ops = &k_tx_ops, .st = st};
  pthread_mutex_lock(&st->issues_mu);
  int rc = fn((srv_issue_tx *)&t, arg);
  if (rc == 0) rc = tx_flush(&t);
  hud_buf_free(&t.rows);
  hud_buf_free(&t.events);
  pthread_mutex_unlock(&st->issues_mu);
  return rc;
}

/* ---- read handles ---- */

static int ch_read_begin(srv_store *st, int fresh, struct hud_arena *arena, srv_store_read **out) {
  (void)fresh; /* an acknowledged batch is in the tables already: every read is fresh */
  srv_store_read *rd = calloc(1, sizeof *rd);
  if (!rd) return HUD_ENOMEM;
  rd->ops = &srv_store_ch_ops;
  rd->st = st;
  rd->arena = arena;
  *out = rd;
  return 0;
}

static int ch_read_window(srv_store_read *rd, int64_t service_id, int64_t version_id, int64_t from_s, int64_t to_s,
                          int aggregates) {
  (void)aggregates;
  rd->service_id = service_id;
  rd->version_id = version_id;
  rd->fns_loaded = rd->fns_loaded && rd->fns_service == service_id;
  rd->from_s = from_s;
  rd->to_s = to_s;
  return 0;
}

static void ch_read_snapshot_end(srv_store_read *rd) { (void)rd; }

static void ch_read_end(srv_store_read *rd) { free(rd); }

/* clickhouse://host:port/database */
static int ch_accepts(const char *location) { return strncmp(location, "clickhouse://", 13) == 0; }

const srv_store_ops srv_store_ch_ops = {
    .name = "clickhouse",
    .accepts = ch_accepts,
    .open = ch_open,
    .open_keys = ch_open_keys,
    .free = ch_free,
    .ping = ch_ping,
    .ingest = ch_ingest,
    .batch_known = ch_batch_known,
    .decode_budget = ch_decode_budget,
    .on_fold = ch_on_fold,
    .key_insert = ch_key_insert,
    .key_get = ch_key_get,
    .key_list = ch_key_list,
    .key_revoke = ch_key_revoke,
    .disk_full = ch_disk_full,
    .maintain = ch_maintain,
    .issues_write = ch_issues_write,
    .read_begin = ch_read_begin,
    .read_window = ch_read_window,
    .read_snapshot_end = ch_read_snapshot_end,
    .read_end = ch_read_end,
    .reads = &srv_store_ch_reads,
};
