/* hud-server ingest against the real binary on loopback with a real SQLite file: round trips, gzip,
 * idempotency, auth, every malformed-input class (nothing stored), /metrics, /healthz, SIGTERM. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "batchgen.h"
#include "harness.h"
#include "hud/codec.h"

static srvh g_srv;
static char g_key[128], g_key_staging[128], g_key_multi[128];

static int setup(void **state) {
  if (srvh_tmpdir(&g_srv) < 0) return -1;
  if (srvh_key(&g_srv, "prod", g_key) < 0 || srvh_key(&g_srv, "staging", g_key_staging) < 0 ||
      srvh_key(&g_srv, "prod,staging", g_key_multi) < 0)
    return -1;
  return srvh_start(&g_srv, NULL);
}

static int teardown(void **state) {
  int st = srvh_stop(&g_srv, SIGTERM);
  srvh_cleanup(&g_srv);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* A server of the test's own (fresh store, one "prod" key), for tests that stop or configure it. */
static void own_server(srvh *s, char key[128], const char *const *extra) {
  assert_int_equal(srvh_tmpdir(s), 0);
  assert_int_equal(srvh_key(s, "prod", key), 0);
  assert_int_equal(srvh_start(s, extra), 0);
}

/* SIGTERM: the server must exit 0; then its directory goes. */
static void stop_clean(srvh *s) {
  int st = srvh_stop(s, SIGTERM);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  srvh_cleanup(s);
}

/* A valid batch for SEED as JSON (or gzip). */
static void make_body(uint64_t seed, size_t n_inv, int gzip, void **body, size_t *len, int64_t *total_calls) {
  hud_arena *a = hud_arena_new();
  hud_batch b;
  batchgen_opts o = {.seed = seed, .n_invocations = n_inv};
  assert_int_equal(batchgen_make(&o, a, &b), 0);
  if (total_calls) {
    *total_calls = 0;
    for (size_t i = 0; i < b.n_invocations; i++) *total_calls += b.invocations[i].count;
  }
  assert_int_equal(batchgen_encode(&b, gzip, body, len), 0);
  hud_arena_free(a);
}

static long post(const char *key, const void *body, size_t len, const char *enc, char **resp_body) {
  srvh_resp r;
  assert_int_equal(srvh_request(g_srv.port, "POST", "/v1/ingest", key, body, len, enc, &r), 0);
  if (resp_body)
    *resp_body = r.body;
  else
    free(r.body);
  return r.status;
}

/* Acknowledged batches reach the tables through the store's write-behind fold, which every query
 * waits for: a query first, then the file shows every acknowledged batch. */
static void sync_store(void) {
  srvh_resp r;
  assert_int_equal(srvh_request(g_srv.port, "GET", "/v1/services", g_key, NULL, 0, NULL, &r), 0);
  assert_int_equal(r.status, 200);
  srvh_resp_free(&r);
}

static long long stored_calls(void) {
  sync_store();
  return srvh_sql_int(g_srv.db, "SELECT COALESCE(SUM(count), 0) FROM calls");
}
static long long stored_batches(void) { return srvh_sql_int(g_srv.db, "SELECT COUNT(*) FROM batches"); }

static void test_health_and_metrics(void **state) {
  srvh_resp r;
  assert_int_equal(srvh_request(g_srv.port, "GET", "/healthz", NULL, NULL, 0, NULL, &r), 0);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "ok"));
  srvh_resp_free(&r);
  assert_int_equal(srvh_request(g_srv.port, "GET", "/metrics", NULL, NULL, 0, NULL, &r), 0);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "hud_http_requests_total{route=\"healthz\",status=\"200\"} 1"));
  assert_non_null(strstr(r.body, "hud_store_latency_seconds_bucket"));
  srvh_resp_free(&r);
  assert_int_equal(srvh_request(g_srv.port, "GET", "/nope", NULL, NULL, 0, NULL, &r), 0);
  assert_int_equal(r.status, 404);
  assert_non_null(strstr(r.body, "\"error\""));
  srvh_resp_free(&r);
  assert_int_equal(srvh_request(g_srv.port, "GET", "/v1/ingest", g_key, NULL, 0, NULL, &r), 0);
  assert_int_equal(r.status, 405);
  srvh_resp_free(&r);
}

static void test_roundtrip_plain_and_gzip(void **state) {
  long long calls0 = stored_calls(), batches0 = stored_batches();
  void *body;
  size_t len;
  int64_t total1, total2;
  make_body(1001, 300, 0, &body, &len, &total1);
  char *resp;
  assert_int_equal(post(g_key, body, len, NULL, &resp), 200);
  assert_non_null(strstr(resp, "\"duplicate\":false"));
  free(resp);
  free(body);
  make_body(1002, 300, 1, &body, &len, &total2);
  assert_int_equal(post(g_key, body, len, "gzip", NULL), 200);
  free(body);
  assert_int_equal(stored_batches(), batches0 + 2);
  assert_int_equal(stored_calls(), calls0 + total1 + total2);
  /* The per-function table carries the same totals, the declarations arrived, sketches merged. */
  assert_int_equal(srvh_sql_int(g_srv.db, "SELECT SUM(count) FROM fn_slices"), calls0 + total1 + total2);
  assert_true(srvh_sql_int(g_srv.db, "SELECT COUNT(*) FROM functions WHERE name LIKE 'Handler%.run'"
                                     " AND module_path LIKE 'shop/%'") == 50);
  assert_int_equal(srvh_sql_int(g_srv.db, "SELECT COUNT(*) FROM fn_slices WHERE sketch IS NULL"), 0);
  assert_int_equal(srvh_sql_int(g_srv.db, "SELECT COUNT(*) FROM services s JOIN versions v ON v.service_id = s.id"
                                          " WHERE s.env = 'prod' AND s.name = 'shop' AND v.version = '1.0.0'"),
                   1);
  assert_true(srvh_sql_int(g_srv.db, "SELECT COUNT(*) FROM flows WHERE kind = 'endpoint'") >= 3);
  assert_true(srvh_sql_int(g_srv.db, "SELECT COUNT(*) FROM exception_flows") >= 1);
  assert_true(srvh_sql_int(g_srv.db, "SELECT COUNT(*) FROM flow_functions") >= 1);
  assert_true(srvh_sql_int(g_srv.db, "SELECT COUNT(*) FROM calls WHERE caller <> 0") > 0);
  /* /metrics counted the rows and the store transactions. */
  srvh_resp r;
  assert_int_equal(srvh_request(g_srv.port, "GET", "/metrics", NULL, NULL, 0, NULL, &r), 0);
  const char *rows = "\nhud_ingest_rows_total ", *txs = "\nhud_store_latency_seconds_count ";
  const char *m = strstr(r.body, rows);
  assert_non_null(m);
  assert_true(atoll(m + strlen(rows)) >= 600);
  m = strstr(r.body, txs);
  assert_non_null(m);
  assert_true(atoll(m + strlen(txs)) >= 2);
  assert_non_null(strstr(r.body, "hud_http_requests_total{route=\"ingest\",status=\"200\"}"));
  srvh_resp_free(&r);
}

static void test_idempotent_retry(void **state) {
  void *body;
  size_t len;
  int64_t total;
  make_body(2001, 100, 1, &body, &len, &total);
  assert_int_equal(post(g_key, body, len, "gzip", NULL), 200);
  long long calls = stored_calls(), batches = stored_batches();
  char *resp;
  assert_int_equal(post(g_key, body, len, "gzip", &resp), 200);
  assert_non_null(strstr(resp, "\"duplicate\":true"));
  free(resp);
  assert_int_equal(stored_calls(), calls);
  assert_int_equal(stored_batches(), batches);
  free(body);
}

typedef struct racer {
  const void *body;
  size_t len;
  long status;
  int duplicate;
} racer;

static void *race_post(void *arg) {
  racer *r = arg;
  srvh_resp resp;
  if (srvh_request(g_srv.port, "POST", "/v1/ingest", g_key, r->body, r->len, "gzip", &resp) == 0) {
    r->status = resp.status;
    r->duplicate = strstr(resp.body, "\"duplicate\":true") != NULL;
  }
  srvh_resp_free(&resp);
  return NULL;
}

/* The same batch sent by several connections at once (they may land in one group commit): all are
 * acknowledged, exactly one stores it. */
static void test_concurrent_retries(void **state) {
  void *body;
  size_t len;
  int64_t total;
  make_body(2101, 200, 1, &body, &len, &total);
  long long calls = stored_calls(), batches = stored_batches();
  racer r[6];
  pthread_t th[6];
  for (int i = 0; i < 6; i++) {
    r[i] = (racer){body, len, 0, 0};
    assert_int_equal(pthread_create(&th[i], NULL, race_post, &r[i]), 0);
  }
  int stored = 0;
  for (int i = 0; i < 6; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(r[i].status, 200);
    stored += !r[i].duplicate;
  }
  assert_int_equal(stored, 1);
  assert_int_equal(stored_batches(), batches + 1);
  assert_int_equal(stored_calls(), calls + total);
  free(body);
}

static void test_auth(void **state) {
  void *body;
  size_t len;
  make_body(3001, 20, 0, &body, &len, NULL);
  long long calls = stored_calls();
  assert_int_equal(post(NULL, body, len, NULL, NULL), 401);
  assert_int_equal(post("hud_1_0000000000000000000000000000000000000000000000000000000000000000", body, len, NULL,
                        NULL),
                   401);
  assert_int_equal(post("garbage", body, len, NULL, NULL), 401);
  char wrong[128];
  snprintf(wrong, sizeof wrong, "%s", g_key);
  wrong[strlen(wrong) - 1] = wrong[strlen(wrong) - 1] == 'a' ? 'b' : 'a';
  assert_int_equal(post(wrong, body, len, NULL, NULL), 401);
  assert_int_equal(stored_calls(), calls);
  free(body);

  /* A batch naming an environment its key does not grant: 403. */
  hud_arena *a = hud_arena_new();
  hud_batch b;
  batchgen_opts o = {.seed = 3002, .n_invocations = 20};
  assert_int_equal(batchgen_make(&o, a, &b), 0);
  b.environment = "prod";
  assert_int_equal(batchgen_encode(&b, 0, &body, &len), 0);
  assert_int_equal(post(g_key_staging, body, len, NULL, NULL), 403);
  assert_int_equal(stored_calls(), calls);
  /* The multi-environment key may name it; without a name it must (400). */
  assert_int_equal(post(g_key_multi, body, len, NULL, NULL), 200);
  free(body);
  b.environment = NULL;
  snprintf(b.batch_id, sizeof b.batch_id, "%s", "0b7a1a9e-3f43-5b8e-9b0e-000000000001");
  assert_int_equal(batchgen_encode(&b, 0, &body, &len), 0);
  assert_int_equal(post(g_key_multi, body, len, NULL, NULL), 400);
  free(body);
  hud_arena_free(a);
  /* A query-string environment outside the key's: 403 before any handler. */
  srvh_resp r;
  assert_int_equal(srvh_request(g_srv.port, "POST", "/v1/ingest?env=prod", g_key_staging, "{}", 2, NULL, &r), 0);
  assert_int_equal(r.status, 403);
  srvh_resp_free(&r);

  /* Revoked keys stop working at once. */
  char key[128];
  assert_int_equal(srvh_key(&g_srv, "prod", key), 0);
  make_body(3003, 10, 0, &body, &len, NULL);
  assert_int_equal(post(key, body, len, NULL, NULL), 200);
  char id[32];
  snprintf(id, sizeof id, "%.*s", (int)strcspn(key + 4, "_"), key + 4);
  const char *args[] = {"keys", "revoke", id, NULL};
  assert_int_equal(srvh_cli(&g_srv, args, NULL, 0), 0);
  free(body);
  make_body(3004, 10, 0, &body, &len, NULL);
  assert_int_equal(post(key, body, len, NULL, NULL), 401);
  free(body);
  const char *list[] = {"keys", "list", NULL};
  char out[4096];
  assert_int_equal(srvh_cli(&g_srv, list, out, sizeof out), 0);
  assert_non_null(strstr(out, "revoked"));
  assert_null(strstr(out, key + 10)); /* the secret is never shown again */
}

/* Replaces the first FROM in TEXT by TO; the result is malloc'ed. */
static char *replace(const char *text, const char *from, const char *to) {
  const char *p = strstr(text, from);
  assert_non_null(p);
  char *out;
  assert_true(asprintf(&out, "%.*s%s%s", (int)(p - text), text, to, p + strlen(from)) > 0);
  return out;
}

static void expect_rejected(const char *what, const void *body, size_t len, const char *enc, long status,
                            const char *needle) {
  long long calls = stored_calls(), batches = stored_batches();
  char *resp;
  long got = post(g_key, body, len, enc, &resp);
  if (got != status || (needle && !strstr(resp, needle)))
    fail_msg("%s: expected %ld with '%s', got %ld: %s", what, status, needle ? needle : "", got, resp);
  assert_non_null(strstr(resp, "\"error\""));
  free(resp);
  assert_int_equal(stored_calls(), calls);
  assert_int_equal(stored_batches(), batches);
}

static void test_malformed_inputs(void **state) {
  void *body;
  size_t len;
  make_body(4001, 50, 0, &body, &len, NULL);
  char *json = body;
  char *bad;

  void *gz;
  size_t gzlen;
  assert_int_equal(hud_gzip_encode(json, len, 6, &gz, &gzlen), 0);
  expect_rejected("truncated gzip", gz, gzlen / 2, "gzip", 400, NULL);
  free(gz);
  expect_rejected("not json", "hello", 5, NULL, 400, NULL);
  expect_rejected("truncated json", json, len / 2, NULL, 400, NULL);
  bad = replace(json, "\"pid\":4242", "\"pid\":\"4242\"");
  expect_rejected("wrong type", bad, strlen(bad), NULL, 400, "pid");
  free(bad);
  bad = replace(json, "\"pid\":4242", "\"pid\":123456789012345678901234567890");
  expect_rejected("huge number", bad, strlen(bad), NULL, 400, NULL);
  free(bad);
  bad = replace(json, "\"count\":", "\"count\":-");
  expect_rejected("negative count", bad, strlen(bad), NULL, 400, "count");
  free(bad);
  bad = replace(json, "{", "{\"bogus_field\":1,");
  expect_rejected("unknown field", bad, strlen(bad), NULL, 400, "bogus_field");
  free(bad);
  bad = replace(json, "\"service\":\"shop\"", "\"service\":\"sh\xff\xfeop\"");
  expect_rejected("invalid utf-8", bad, strlen(bad), NULL, 400, NULL);
  free(bad);
  bad = replace(json, "\"schema_version\":1", "\"schema_version\":99");
  expect_rejected("schema version", bad, strlen(bad), NULL, 400, "supported");
  free(bad);
  size_t depth = 100000;
  char *deep = malloc(2 * depth + 1);
  memset(deep, '[', depth);
  memset(deep + depth, ']', depth);
  deep[2 * depth] = 0;
  expect_rejected("deep nesting", deep, 2 * depth, NULL, 400, NULL);
  bad = replace(json, "{", "{\"tags\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],");
  expect_rejected("deep nesting in a field", bad, strlen(bad), NULL, 400, NULL);
  free(bad);
  free(deep);
  expect_rejected("empty body", "", 0, NULL, 400, NULL);

  /* Over the body limit (8 MiB): 413, announced by Content-Length. */
  size_t big = (8u << 20) + 1024;
  char *huge = malloc(big);
  memset(huge, ' ', big);
  expect_rejected("oversize", huge, big, NULL, 413, NULL);
  free(huge);
  /* A gzip bomb: small on the wire, over the decoded limit (64 MiB). */
  size_t bomb = (size_t)70 << 20;
  char *spaces = malloc(bomb);
  memset(spaces, ' ', bomb);
  assert_int_equal(hud_gzip_encode(spaces, bomb, 1, &gz, &gzlen), 0);
  free(spaces);
  expect_rejected("gzip bomb", gz, gzlen, "gzip", 413, NULL);
  free(gz);

  /* One bad record at the end of an otherwise valid batch: nothing of it is stored. */
  hud_arena *a = hud_arena_new();
  hud_batch b;
  batchgen_opts o = {.seed = 4002, .n_invocations = 100};
  assert_int_equal(batchgen_make(&o, a, &b), 0);
  b.invocations[99].sketch->alpha = 0.02;
  void *body2;
  size_t len2;
  assert_int_equal(batchgen_encode(&b, 0, &body2, &len2), 0);
  expect_rejected("bad last record", body2, len2, NULL, 400, "invocations[99].sketch");
  free(body2);
  b.invocations[99].sketch->alpha = HUD_SKETCH_DEFAULT_ALPHA;
  b.invocations[50].timestamp += 48LL * 3600 * 1000000000LL;
  assert_int_equal(batchgen_encode(&b, 0, &body2, &len2), 0);
  expect_rejected("future timestamp", body2, len2, NULL, 400, "invocations[50].timestamp");
  free(body2);
  hud_arena_free(a);
  free(body);

  /* The rejections were counted. */
  srvh_resp r;
  assert_int_equal(srvh_request(g_srv.port, "GET", "/metrics", NULL, NULL, 0, NULL, &r), 0);
  assert_non_null(strstr(r.body, "hud_ingest_rejected_batches_total{reason=\"too_large\"} 2"));
  assert_null(strstr(r.body, "hud_ingest_rejected_batches_total{reason=\"parse\"} 0\n"));
  srvh_resp_free(&r);
}

/* --fold-memory bounds what acknowledged batches hold in memory: beyond twice the bound an ingest
 * waits for the fold, so the journal never grows far. Each batch here is its own minute (no key
 * merges), about 3 MB merged; with the default 256 MB the journal would only shrink at the 5 s fold. */
static void test_fold_memory_bound(void **state) {
  srvh s;
  char key[128];
  const char *const extra[] = {"--fold-memory", "8", NULL};
  own_server(&s, key, extra);
  hud_time_ns base = ((hud_time_ns)time(NULL) / 60) * 60 * 1000000000LL;
  long long total = 0, most = 0;
  for (int i = 0; i < 30; i++) {
    hud_arena *a = hud_arena_new();
    hud_batch b;
    batchgen_opts o = {.seed = 7100 + (uint64_t)i, .n_invocations = 1000, .n_functions = 300,
                       .timestamp = base - (hud_time_ns)i * 60000000000LL};
    assert_int_equal(batchgen_make(&o, a, &b), 0);
    for (size_t k = 0; k < b.n_invocations; k++) total += b.invocations[k].count;
    void *body;
    size_t len;
    assert_int_equal(batchgen_encode(&b, 1, &body, &len), 0);
    hud_arena_free(a);
    srvh_resp r;
    assert_int_equal(srvh_request(s.port, "POST", "/v1/ingest", key, body, len, "gzip", &r), 0);
    assert_int_equal(r.status, 200);
    srvh_resp_free(&r);
    free(body);
    long long j = srvh_sql_int(s.db, "SELECT COUNT(*) FROM journal");
    if (j > most) most = j;
  }
  assert_true(most <= 10);
  srvh_resp r;
  assert_int_equal(srvh_request(s.port, "GET", "/v1/services", key, NULL, 0, NULL, &r), 0);
  srvh_resp_free(&r);
  assert_int_equal(srvh_sql_int(s.db, "SELECT SUM(count) FROM calls"), total);
  stop_clean(&s);
}

/* Queries read the tables as last folded (at most --fold-every behind) unless they send
 * Cache-Control: no-cache, which waits for every acknowledged batch. With an hour between folds,
 * a batch just acknowledged is invisible to a plain query and visible to a no-cache one. */
static void test_reads_recent_or_fresh(void **state) {
  srvh s;
  char key[128];
  const char *const extra[] = {"--fold-every", "1h", NULL};
  own_server(&s, key, extra);
  void *body;
  size_t len;
  make_body(7300, 40, 1, &body, &len, NULL);
  srvh_resp r;
  assert_int_equal(srvh_request(s.port, "POST", "/v1/ingest", key, body, len, "gzip", &r), 0);
  assert_int_equal(r.status, 200);
  srvh_resp_free(&r);
  free(body);
  const char *top = "/v1/functions/top?service=shop&sort=calls&limit=5";
  srvh_fresh_reads = false;
  assert_int_equal(srvh_request(s.port, "GET", top, key, NULL, 0, NULL, &r), 0);
  srvh_fresh_reads = true;
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "\"items\":[]"));
  srvh_resp_free(&r);
  assert_int_equal(srvh_sql_int(s.db, "SELECT COUNT(*) FROM journal"), 1);
  assert_int_equal(srvh_request(s.port, "GET", top, key, NULL, 0, NULL, &r), 0);
  assert_int_equal(r.status, 200);
  assert_null(strstr(r.body, "\"items\":[]"));
  assert_non_null(strstr(r.body, "\"function_id\""));
  srvh_resp_free(&r);
  assert_int_equal(srvh_sql_int(s.db, "SELECT COUNT(*) FROM journal"), 0);
  /* Once folded, plain queries see it too. */
  srvh_fresh_reads = false;
  assert_int_equal(srvh_request(s.port, "GET", top, key, NULL, 0, NULL, &r), 0);
  srvh_fresh_reads = true;
  assert_non_null(strstr(r.body, "\"function_id\""));
  srvh_resp_free(&r);
  stop_clean(&s);
}

static void test_sigterm_graceful(void **state) {
  srvh s;
  char key[128];
  own_server(&s, key, NULL);
  void *body;
  size_t len;
  int64_t total;
  make_body(5001, 50, 1, &body, &len, &total);
  srvh_resp r;
  assert_int_equal(srvh_request(s.port, "POST", "/v1/ingest", key, body, len, "gzip", &r), 0);
  assert_int_equal(r.status, 200);
  srvh_resp_free(&r);
  free(body);
  /* Stopped right after the acknowledgement, most likely before the write-behind fold ran. */
  int st = srvh_stop(&s, SIGTERM);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  /* Stopped cleanly: the journal was folded into the tables and the WAL checkpointed on close. */
  assert_int_equal(srvh_sql_int(s.db, "SELECT COUNT(*) FROM batches"), 1);
  assert_int_equal(srvh_sql_int(s.db, "SELECT COUNT(*) FROM journal"), 0);
  assert_int_equal(srvh_sql_int(s.db, "SELECT SUM(count) FROM calls"), total);
  assert_int_equal(srvh_sql_int(s.db, "SELECT SUM(count) FROM fn_slices"), total);
  srvh_cleanup(&s);
}

/* SIGTERM while a batch is being uploaded: the server stops accepting but answers that request,
 * stores the batch, then exits 0. The upload is paced by hand so the request is surely in flight. */
static void test_sigterm_finishes_in_flight(void **state) {
  srvh s;
  char key[128];
  own_server(&s, key, NULL);
  void *body;
  size_t len;
  make_body(7001, 100, 1, &body, &len, NULL);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s.port)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  char hdr[512];
  int hl = snprintf(hdr, sizeof hdr,
                    "POST /v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                    "Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n"
                    "Connection: close\r\n\r\n",
                    key, len);
  assert_int_equal(write(fd, hdr, (size_t)hl), hl);
  size_t half = len / 2;
  assert_int_equal(write(fd, body, half), (ssize_t)half);
  struct timespec pause = {0, 300 * 1000 * 1000};
  nanosleep(&pause, NULL);
  kill(s.pid, SIGTERM);
  nanosleep(&pause, NULL);
  /* New connections are refused from now on. */
  srvh_resp r;
  assert_int_not_equal(srvh_request(s.port, "GET", "/healthz", NULL, NULL, 0, NULL, &r), 0);
  srvh_resp_free(&r);
  assert_int_equal(write(fd, (char *)body + half, len - half), (ssize_t)(len - half));
  char resp[2048];
  size_t got = 0;
  for (;;) {
    ssize_t n = read(fd, resp + got, sizeof resp - 1 - got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  resp[got] = 0;
  close(fd);
  free(body);
  if (strncmp(resp, "HTTP/1.1 200", 12) != 0) fail_msg("in-flight request not answered: %s", resp);
  int st = srvh_stop(&s, 0);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  assert_int_equal(srvh_sql_int(s.db, "SELECT COUNT(*) FROM batches"), 1);
  assert_int_equal(srvh_sql_int(s.db, "SELECT COUNT(*) FROM journal"), 0);
  assert_true(srvh_sql_int(s.db, "SELECT SUM(count) FROM calls") > 0);
  srvh_cleanup(&s);
}

static void test_tls(void **state) {
  srvh s;
  assert_int_equal(srvh_tmpdir(&s), 0);
  char cmd[1400], cert[600], keyf[600];
  snprintf(cert, sizeof cert, "%s/cert.pem", s.dir);
  snprintf(keyf, sizeof keyf, "%s/key.pem", s.dir);
  snprintf(cmd, sizeof cmd,
           "openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s' -days 1 -subj /CN=127.0.0.1"
           " >/dev/null 2>&1",
           keyf, cert);
  assert_int_equal(system(cmd), 0);
  char key[128];
  assert_int_equal(srvh_key(&s, "prod", key), 0);
  const char *extra[] = {"--tls-cert", cert, "--tls-key", keyf, NULL};
  assert_int_equal(srvh_start(&s, extra), 0);
  void *body;
  size_t len;
  make_body(6001, 20, 1, &body, &len, NULL);
  srvh_resp r;
  assert_int_equal(srvh_request_tls(s.port, "POST", "/v1/ingest", key, body, len, "gzip", &r), 0);
  assert_int_equal(r.status, 200);
  srvh_resp_free(&r);
  free(body);
  /* Plain HTTP to the TLS port gets no answer. */
  assert_int_not_equal(srvh_request(s.port, "GET", "/healthz", NULL, NULL, 0, NULL, &r) == 0 && r.status == 200, 1);
  srvh_resp_free(&r);
  assert_int_equal(srvh_sql_int(s.db, "SELECT COUNT(*) FROM batches"), 1);
  stop_clean(&s);
}

static void test_cli_errors(void **state) {
  char out[4096];
  const char *help[] = {"--help", NULL};
  assert_int_equal(srvh_cli(&g_srv, help, out, sizeof out), 0);
  assert_non_null(strstr(out, "keys create"));
  const char *bad_dur[] = {"--retention", "5x", NULL};
  assert_int_equal(srvh_cli(&g_srv, bad_dur, NULL, 0), 2);
  const char *bad_listen[] = {"--listen", "nowhere", NULL};
  assert_int_equal(srvh_cli(&g_srv, bad_listen, NULL, 0), 1);
  const char *no_env[] = {"keys", "create", NULL};
  assert_int_equal(srvh_cli(&g_srv, no_env, NULL, 0), 2);
  const char *bad_env[] = {"keys", "create", "--env", "pr od", "--role", "read", NULL};
  assert_int_equal(srvh_cli(&g_srv, bad_env, NULL, 0), 1);
  const char *bad_revoke[] = {"keys", "revoke", "999", NULL};
  assert_int_equal(srvh_cli(&g_srv, bad_revoke, NULL, 0), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_health_and_metrics), cmocka_unit_test(test_roundtrip_plain_and_gzip),
      cmocka_unit_test(test_idempotent_retry),   cmocka_unit_test(test_concurrent_retries),
      cmocka_unit_test(test_auth),
      cmocka_unit_test(test_malformed_inputs),   cmocka_unit_test(test_sigterm_graceful),
      cmocka_unit_test(test_sigterm_finishes_in_flight), cmocka_unit_test(test_tls),
      cmocka_unit_test(test_fold_memory_bound), cmocka_unit_test(test_reads_recent_or_fresh),
      cmocka_unit_test(test_cli_errors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
