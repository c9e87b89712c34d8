/* Store ingest cost in-process (no HTTP, no JSON): feeds srv_store_ingest with batchgen batches of
 * the bench/ingest.sh shape (300 functions, 1000 rows, 5 endpoints, one minute of 30 per batch, so
 * each (fn, caller, flow, minute) key recurs ~20 times) from T threads, then waits until everything
 * acknowledged is readable (a read through the store's reader, which folds a write-behind journal),
 * and prints wall and CPU microseconds per invocation row.
 *
 * usage: store_ingest [--batches 600] [--rows 1000] [--functions 300] [--minutes 30] [--threads 2]
 *                     [--db PATH]   (default: a fresh file in a temporary directory, removed after) */
#define _GNU_SOURCE
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batchgen.h"
#include "hud/err.h"
#include "store.h"
#include "store_fold.h"

static hud_batch *g_batches;
static size_t g_n;
static atomic_size_t g_next;
static atomic_size_t g_failed;
static srv_store *g_st;
static int64_t g_now;

static double clk(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker(void *arg) {
  (void)arg;
  for (;;) {
    size_t i = atomic_fetch_add(&g_next, 1);
    if (i >= g_n) break;
    srv_ingest_result r;
    if (srv_store_ingest(g_st, "bench", &g_batches[i], g_now, &r) < 0 || r.duplicate) atomic_fetch_add(&g_failed, 1);
  }
  return NULL;
}

static long long read_int(const char *sql) {
  sqlite3 *db;
  long long v = -1;
  if (srv_store_sqlite_reader(g_st, &db) < 0) return -1;
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
    if (sqlite3_step(q) == SQLITE_ROW) v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
  }
  srv_store_sqlite_reader_release(g_st, db);
  return v;
}

int main(int argc, char **argv) {
  size_t batches = 600, rows = 1000, functions = 300, minutes = 30;
  int threads = 2;
  const char *db = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--batches")) batches = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--rows")) rows = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--functions")) functions = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--minutes")) minutes = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--db")) db = argv[i + 1];
    else {
      fprintf(stderr, "store_ingest: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (!batches || !rows || !functions || !minutes || threads < 1 || threads > 64) {
    fprintf(stderr, "store_ingest: bad arguments\n");
    return 2;
  }
  char dir[] = "/tmp/hud-store-bench-XXXXXX", path[600];
  if (!db) {
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "%s/hud.db", dir);
    db = path;
  }
  g_now = (int64_t)time(NULL);
  hud_time_ns base = (g_now / 60) * 60 * 1000000000LL;
  hud_arena *arena = hud_arena_new();
  g_batches = calloc(batches, sizeof *g_batches);
  if (!arena || !g_batches) return 1;
  for (size_t i = 0; i < batches; i++) {
    batchgen_opts o = {.seed = 1000000 + i, .n_invocations = rows, .n_functions = functions, .n_flows = 5,
                       .timestamp = base - (hud_time_ns)(i % minutes) * 60000000000LL};
    if (batchgen_make(&o, arena, &g_batches[i]) < 0) return 1;
  }
  g_n = batches;
  unsigned char *blob;
  size_t blob_len = 0;
  if (srv_journal_encode(&g_batches[0], &blob, &blob_len) == 0) free(blob);
  fprintf(stderr, "store_ingest: journal entry %.1f KiB per batch (%.0f bytes/row)\n", blob_len / 1024.0,
          (double)blob_len / (double)rows);
  srv_store_options so = {.path = db};
  if (srv_store_open(&so, &g_st) < 0) {
    fprintf(stderr, "store_ingest: cannot open %s\n", db);
    return 1;
  }
  pthread_t th[64];
  double w0 = clk(CLOCK_MONOTONIC), c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
  for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, worker, NULL);
  for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
  double w1 = clk(CLOCK_MONOTONIC), c1 = clk(CLOCK_PROCESS_CPUTIME_ID);
  long long calls = read_int("SELECT COALESCE(SUM(count), 0) FROM calls"); /* sees every acknowledged batch */
  double w2 = clk(CLOCK_MONOTONIC), c2 = clk(CLOCK_PROCESS_CPUTIME_ID);
  long long expect = 0;
  for (size_t i = 0; i < batches; i++)
    for (size_t k = 0; k < g_batches[i].n_invocations; k++) expect += g_batches[i].invocations[k].count;
  double nrows = (double)(batches * rows);
  printf("store_ingest: %zu batches x %zu rows, %d threads, %zu failed\n", batches, rows, threads,
         atomic_load(&g_failed));
  printf("store_ingest: acknowledged in %.2f s: %.2f us/row wall, %.2f us/row CPU (%.0f rows/s)\n", w1 - w0,
         1e6 * (w1 - w0) / nrows, 1e6 * (c1 - c0) / nrows, nrows / (w1 - w0));
  printf("store_ingest: readable after %.2f s: %.2f us/row wall, %.2f us/row CPU (%.0f rows/s)\n", w2 - w0,
         1e6 * (w2 - w0) / nrows, 1e6 * (c2 - c0) / nrows, nrows / (w2 - w0));
  printf("store_ingest: calls.count sum %lld, expected %lld: %s\n", calls, expect, calls == expect ? "ok" : "MISMATCH");
  srv_store_free(g_st);
  hud_arena_free(arena);
  if (db == path) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "store_ingest: could not remove %s\n", dir);
  }
  return calls == expect && !atomic_load(&g_failed) ? 0 : 1;
}
