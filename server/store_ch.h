/* The ClickHouse store engine's internals (server/store_ch*.c): the store and read handles, the
 * ids, and the SQL text helpers its files share. Not for code outside the engine: the rest of the
 * server sees only srv_store_ch_ops (store.h's seam).
 *
 * Statements go over ClickHouse's HTTP interface (ch_http.h); rows travel as TabSeparated, both ways:
 * sketch blobs are binary, and TSV carries any byte with four escapes where JSON strings cannot. */
#ifndef SRV_STORE_CH_H
#define SRV_STORE_CH_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ch_http.h"
#include "hud/buf.h"
#include "hud/model.h"
#include "store.h"

struct srv_store {
  const srv_store_ops *ops;
  srv_ch *ch;
  srv_store_options opt;
  int keys_only;
  pthread_mutex_t ingest_mu; /* one batch at a time: the duplicate check and the ledger row */
  pthread_mutex_t issues_mu; /* srv_store_issues_write's read-modify-write */
  pthread_mutex_t cb_mu;
  void (*on_fold)(void *arg, const int64_t *service_ids, size_t n);
  void *on_fold_arg;
  struct srv_membudget *budget;
  int64_t issue_seq; /* versions of issue rows within a nanosecond (under issues_mu) */
  /* Ids of functions and flows whose first-seen row this process wrote (under ingest_mu): a function
   * referenced by every batch gets one such row, as in the SQLite engine, not one per batch. */
  int64_t *seen;
  size_t seen_n, seen_cap;
};

struct srv_store_read {
  const srv_store_ops *ops;
  srv_store *st;
  hud_arena *arena;
  int64_t service_id, version_id, from_s, to_s;
  /* The service's functions, read once per handle on first need (store_ch_reads.c). */
  void *fns;
  size_t n_fns;
  int64_t fns_service;
  int fns_loaded;
  /* The last service's versions, read once per handle. */
  void *vers;
  size_t n_vers;
  int64_t vers_service; /* 0: none read */
  /* The last window's split into fresh merged spans and minute rows per source (store_ch_reads.c),
   * its strings in the arena: a request's sketch reads ask once. */
  struct srv_ch_plan_cache {
    int64_t service_id, from_s, to_s;
    const char *spans, *rest;
    int set;
  } plans[2];
};

/* ---- ids ----
 * Ids are hashes (63 bits, never 0) rather than counters: every hud-server node in front of one
 * ClickHouse derives the same id for the same service, version, function or flow without asking. */
int64_t srv_ch_service_id(const char *env, const char *name);
int64_t srv_ch_version_id(int64_t sid, const char *version);
int64_t srv_ch_fn_id(int64_t sid, const char *uuid);   /* 0 for "" */
int64_t srv_ch_flow_id(int64_t sid, const char *uuid); /* 0 for "" */

/* ---- statements ---- */

/* Runs SQL (BODY: an INSERT's TabSeparated rows, or NULL); ClickHouse's refusal goes to stderr. */
int srv_chs_exec(srv_store *st, const char *sql, const char *body, size_t len);

/* A TabSeparated answer parsed in place: cell (r, c) is cells[r * cols + c] (NULL for \N) with its
 * length in lens (blobs may hold NUL). */
typedef struct srv_ch_rows {
  char *text;
  char **cells;
  size_t *lens;
  size_t rows, cols;
} srv_ch_rows;
/* Runs a SELECT of COLS columns (FORMAT TabSeparated is appended). Free with srv_ch_rows_free. */
int srv_chs_select(srv_store *st, const char *sql, size_t cols, srv_ch_rows *out);
void srv_ch_rows_free(srv_ch_rows *r);
/* Runs a SELECT of COLS Int64 columns (FORMAT RowBinary is appended): *ROWS rows of values, row after
 * row, in *OUT (malloc'ed; the caller frees). Far leaner than srv_chs_select for answers of many rows
 * (no text either side). HUD_ESTORE when the answer is not whole rows of COLS 8-byte values: every
 * column must be Int64 (wrap others in toInt64()). */
int srv_chs_select_i64(srv_store *st, const char *sql, size_t cols, int64_t **out, size_t *rows);
const char *srv_ch_cell(const srv_ch_rows *r, size_t row, size_t col);
int64_t srv_ch_i64(const srv_ch_rows *r, size_t row, size_t col);
double srv_ch_f64(const srv_ch_rows *r, size_t row, size_t col);

/* SQL text: a quoted string literal; TabSeparated fields (escaped), a tab or a newline after each. */
void srv_ch_sql_str(hud_buf *b, const char *s);
void srv_ch_tsv_str(hud_buf *b, const void *s, size_t n, char end);
void srv_ch_tsv_i64(hud_buf *b, int64_t v, char end);
void srv_ch_tsv_f64(hud_buf *b, double v, char end);

/* The issue rows' columns, shared by the writes (store_ch.c) and the reads (store_ch_reads.c). */
#define SRV_CH_ISSUE_COLS                                                                                   \
  "issue_id, kind, function_id, flow_id, exception_type, comparison, status, first_seen, last_seen,"       \
  " status_changed_at, times_reopened, base_label, cand_label, payload, found_since, alerted_at,"          \
  " alert_pending, cand_version, alerted_version, finding"
struct srv_issue_row;
int srv_ch_issue_get(srv_store *st, int64_t sid, const char *issue_id, hud_arena *a, struct srv_issue_row *out);

/* ---- pre-merged sketches (store_ch_rollup.c) ----
 * Sources: 0 = fn_slices (flow 0), 1 = calls_by_flow (per flow). */
#define SRV_CH_SPAN_FNS 0
#define SRV_CH_SPAN_FLOWS 1
/* Maintenance: merges the sketches of every closed 10-minute block and hour not yet merged (or that
 * gained rows since) into sketch_spans, and drops merges older than the retention. */
int srv_ch_rollup(srv_store *st, int64_t now);
/* The table a mutation of TABLE must name: TABLE, or in cluster mode this node's shard's TABLE_local
 * (written into OUT; a Distributed table takes no mutation). Valid as long as TABLE and OUT. */
const char *srv_ch_shard_table(const srv_store *st, const char *table, char *out, size_t cap);
/* How a read of SRC's sketches over [FROM_S, TO_S) of service SID splits: SPANS, a condition on
 * sketch_spans naming the merged spans still fresh; REST, one on the source's slice naming the rest
 * of the window (NULL: nothing left). SPANS NULL: none fresh, read the whole window's minute rows. */
typedef struct srv_ch_span_plan {
  char *spans, *rest;
} srv_ch_span_plan;
int srv_ch_spans_plan(srv_store *st, int src, int64_t sid, int64_t from_s, int64_t to_s, srv_ch_span_plan *p);
void srv_ch_span_plan_free(srv_ch_span_plan *p);

extern const struct srv_store_reads srv_store_ch_reads;

#endif
