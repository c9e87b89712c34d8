/* kill -9 during a bounded load: every batch the server acknowledged is in the database after a
 * restart, and no batch is stored in part (the stored call totals are exactly those of the stored
 * batches). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "batchgen.h"
#include "harness.h"
#include "hud/codec.h"

#define WORKERS 3
#define MAX_PER_WORKER 400

typedef struct sent {
  hud_uuid batch_id;
  int64_t calls;
  int acked;
} sent;

static atomic_int g_acked;

typedef struct worker {
  int id;
  int port;
  const char *key;
  atomic_int *stop;
  sent batches[MAX_PER_WORKER];
  int n;
} worker;

static void *run_worker(void *arg) {
  worker *w = arg;
  while (!atomic_load(w->stop) && w->n < MAX_PER_WORKER) {
    hud_arena *a = hud_arena_new();
    hud_batch b;
    batchgen_opts o = {.seed = (uint64_t)(w->id * 100000 + w->n + 1), .n_invocations = 200};
    if (batchgen_make(&o, a, &b) < 0) break;
    sent *s = &w->batches[w->n++];
    memcpy(s->batch_id, b.batch_id, sizeof s->batch_id);
    for (size_t i = 0; i < b.n_invocations; i++) s->calls += b.invocations[i].count;
    void *body;
    size_t len;
    if (batchgen_encode(&b, 1, &body, &len) < 0) {
      hud_arena_free(a);
      break;
    }
    hud_arena_free(a);
    srvh_resp r;
    if (srvh_request(w->port, "POST", "/v1/ingest", w->key, body, len, "gzip", &r) == 0 && r.status == 200) {
      s->acked = 1;
      atomic_fetch_add(&g_acked, 1);
    }
    srvh_resp_free(&r);
    free(body);
  }
  return NULL;
}

static void test_kill9_loses_no_acknowledged_batch(void **state) {
  srvh s;
  assert_int_equal(srvh_tmpdir(&s), 0);
  char key[128];
  assert_int_equal(srvh_key(&s, "prod", key), 0);
  assert_int_equal(srvh_start(&s, NULL), 0);

  static worker w[WORKERS];
  atomic_int stop = 0;
  pthread_t th[WORKERS];
  for (int i = 0; i < WORKERS; i++) {
    w[i] = (worker){.id = i + 1, .port = s.port, .key = key, .stop = &stop};
    assert_int_equal(pthread_create(&th[i], NULL, run_worker, &w[i]), 0);
  }
  /* Let some batches through, then kill in the middle of the load. */
  for (int i = 0; i < 400; i++) {
    if (atomic_load(&g_acked) >= 30) break;
    struct timespec ts = {0, 25 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  int st = srvh_stop(&s, SIGKILL);
  assert_true(WIFSIGNALED(st));
  atomic_store(&stop, 1);
  for (int i = 0; i < WORKERS; i++) pthread_join(th[i], NULL);

  /* Restart on the same file: WAL recovery, then the server answers again. */
  assert_int_equal(srvh_start(&s, NULL), 0);
  srvh_resp r;
  assert_int_equal(srvh_request(s.port, "GET", "/healthz", NULL, NULL, 0, NULL, &r), 0);
  assert_int_equal(r.status, 200);
  srvh_resp_free(&r);

  int acked = 0, stored = 0;
  long long expect_calls = 0;
  for (int k = 0; k < WORKERS; k++) {
    for (int j = 0; j < w[k].n; j++) {
      sent *b = &w[k].batches[j];
      char sql[200];
      snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM batches WHERE batch_id = '%s'", b->batch_id);
      long long in_db = srvh_sql_int(s.db, sql);
      if (b->acked) {
        acked++;
        if (in_db != 1) fail_msg("acknowledged batch %s is missing after kill -9", b->batch_id);
      }
      if (in_db == 1) {
        stored++;
        expect_calls += b->calls;
      }
    }
  }
  fprintf(stderr, "durability: %d batches acknowledged before kill -9, %d stored\n", acked, stored);
  assert_true(acked >= 30);
  assert_int_equal(srvh_sql_int(s.db, "SELECT COUNT(*) FROM batches"), stored);
  assert_int_equal(srvh_sql_int(s.db, "SELECT COALESCE(SUM(count), 0) FROM calls"), expect_calls);
  assert_int_equal(srvh_sql_int(s.db, "SELECT COALESCE(SUM(count), 0) FROM fn_slices"), expect_calls);
  st = srvh_stop(&s, SIGTERM);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  srvh_cleanup(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill9_loses_no_acknowledged_batch)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
