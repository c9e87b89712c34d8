/* The ClickHouse store as a cluster: two real clickhouse-servers on loopback forming cluster "hud" (one
 * shard each, tests/server/ch_fixture.c; skipped when clickhouse-server is not installed), one
 * hud-server node per shard (clickhouse://127.0.0.1:PORT_i/hud_test?cluster=hud), and a hud-server on
 * a SQLite file fed the same batches as the reference.
 *
 * One node per shard because a node writes a batch into the shard it connects to (server/store_ch.c,
 * "cluster mode"): two nodes on one shard would leave the other empty and prove nothing about reads
 * across shards. Proven here:
 *   - the nodes ingest concurrently, each into its own shard (both shards hold ledger rows), and a
 *     batch retried through the other node is stored once (the ledger is checked on every shard);
 *   - every query route answers through either node exactly what the SQLite server answers (figures
 *     to 1e-9, orders; answers.h);
 *   - keys revoked through one shard are refused by both nodes, each key listed once (api_keys is
 *     ReplacingMergeTree read with FINAL: its rows of one key must land on one shard);
 *   - a batch acknowledged by the node of shard 2 survives clickhouse-server 2 killed (SIGKILL) and
 *     restarted; while it is down an ingest through either node and a query fail visibly (503), and
 *     the batch retried after the restart is counted once;
 *   - maintenance (merged sketch spans, retention) runs on each node's shard, answers unchanged. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "answers.h"
#include "ch_fixture.h"
#include "ch_http.h"
#include "harness.h"
#include "hud/codec.h"
#include "synth.h"
#include "synth_batch.h"

#define NS 1000000000LL
#define INV 1500
#define BATCHES 8 /* concurrently: even ones through node 0, odd ones through node 1 */

typedef struct world {
  chfix ch[2];
  srvh lite, node[2];
  char key_lite[128], key[128];
  synth_out run[BATCHES + 2];
  hud_time_ns t0;
  char from[32], to[32];
  int64_t calls; /* invocations stored so far (each batch once) */
} world;

static world *g;

static int64_t calls_of(const synth_out *o) {
  int64_t n = 0;
  for (size_t r = 0; r < o->n_rows; r++) n += (int64_t)o->rows[r].st.count;
  return n;
}

/* Batch I's JSON: two batches of 1.0.0, two of 1.1.0, and so on, one minute apart, each with its own
 * id. Every minute runs slower than the one before (drift), so that every duration trend is clearly
 * not 0: an order by a slope that is 0 up to rounding would depend on each engine's rounding. */
static char *batch_json(int i, size_t *len) {
  char id[40];
  snprintf(id, sizeof id, "5d0c7e11-8b2a-4c3e-9f00-%012d", i);
  hud_arena *a = hud_arena_new();
  hud_batch b;
  char *json = NULL;
  hud_codec_error e;
  if (synth_batch(&g->run[i], i % 4 < 2 ? "1.0.0" : "1.1.0", id, g->t0 + (hud_time_ns)i * 60 * NS, a, &b) != 0 ||
      hud_batch_encode(&b, &json, len, &e) != 0)
    json = NULL;
  hud_arena_free(a);
  return json;
}

static int64_t batch_calls(int i) { return calls_of(&g->run[i]); }

/* POSTs batch I to PORT (KEY); the HTTP status, or -1. */
static long post(int port, const char *key, int i) {
  size_t len = 0;
  char *json = batch_json(i, &len);
  srvh_resp r = {0};
  long status = json && srvh_request(port, "POST", "/v1/ingest", key, json, len, NULL, &r) == 0 ? r.status : -1;
  if (status != 200 && r.body) fprintf(stderr, "ingest of batch %d: %ld %s\n", i, status, r.body);
  srvh_resp_free(&r);
  free(json);
  return status;
}

typedef struct feeder {
  int node, failed;
} feeder;

static void *feed(void *arg) {
  feeder *f = arg;
  for (int i = f->node; i < BATCHES; i += 2)
    if (post(g->node[f->node].port, g->key, i) != 200) f->failed = 1;
  return NULL;
}

static void iso(hud_time_ns t, char out[32]) {
  time_t s = (time_t)(t / NS);
  struct tm tm;
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&s, &tm));
}

static int setup(void **state) {
  (void)state;
  if (!chfix_available()) {
    fprintf(stderr, "clickhouse-server is not installed: skipped\n");
    return 0;
  }
  curl_global_init(CURL_GLOBAL_ALL);
  g = calloc(1, sizeof *g);
  if (!g || chfix_cluster_start(g->ch, 2, "hud") < 0) return -1;
  if (srvh_tmpdir(&g->lite) < 0 || srvh_start(&g->lite, NULL) < 0 || srvh_key(&g->lite, "prod", g->key_lite) < 0)
    return -1;
  for (int i = 0; i < 2; i++) {
    if (srvh_tmpdir(&g->node[i]) < 0) return -1;
    snprintf(g->node[i].db, sizeof g->node[i].db, "%s", g->ch[i].url);
    if (srvh_start(&g->node[i], NULL) < 0) return -1;
  }
  if (srvh_key(&g->node[0], "prod", g->key) < 0) return -1; /* a key made on one shard serves both nodes */
  synth_change ch[] = {{.qualname = "fetch_order", .self_factor = 2.0, .raise_prob = -1}};
  for (int i = 0; i < BATCHES + 2; i++) {
    synth_params p = {.seed = 7 + (uint64_t)i, .invocations = INV, .sample_rate = 1.0, .drift = 1.0 + 0.05 * i,
                      .sketches = 1};
    if (i % 4 >= 2) p.changes = ch, p.n_changes = 1;
    if (synth_run(&p, i % 4 < 2 ? "1.0.0" : "1.1.0", &g->run[i]) < 0) return -1;
  }
  time_t now = time(NULL);
  g->t0 = ((hud_time_ns)now / 3600 * 3600 - 3600) * NS;
  iso(g->t0 - 3600 * NS, g->from);
  iso(g->t0 + 3600 * NS, g->to);
  for (int i = 0; i < BATCHES; i++) {
    if (post(g->lite.port, g->key_lite, i) != 200) return -1;
    g->calls += batch_calls(i);
  }
  feeder f[2] = {{0, 0}, {1, 0}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    if (pthread_create(&t[i], NULL, feed, &f[i]) != 0) return -1;
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  if (f[0].failed || f[1].failed) return -1;
  /* A retry through the other node: acknowledged, stored once. */
  return post(g->node[1].port, g->key, 0) == 200 ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  if (!g) return 0;
  srvh *all[] = {&g->lite, &g->node[0], &g->node[1]};
  for (int i = 0; i < 3; i++) {
    if (all[i]->pid) srvh_stop(all[i], 15);
    srvh_cleanup(all[i]);
  }
  for (int i = 0; i < 2; i++)
    if (g->ch[i].dir[0]) chfix_stop(&g->ch[i]);
  for (int i = 0; i < BATCHES + 2; i++) synth_out_free(&g->run[i]);
  free(g);
  g = NULL;
  return 0;
}

#define SKIP_WITHOUT_CH()                                                                                          \
  do {                                                                                                             \
    if (!g) skip();                                                                                                \
  } while (0)

/* PATH answered 200 and alike by the SQLite server and by both nodes; the SQLite answer (caller frees). */
static json_t *check(const char *method, const char *path, const char *body) {
  answers_server lite = {g->lite.port, g->key_lite, "sqlite"};
  answers_server nodes[2] = {{g->node[0].port, g->key, "node 0"}, {g->node[1].port, g->key, "node 1"}};
  return answers_alike(&lite, nodes, 2, method, path, body);
}

static int64_t total_calls(json_t *top) {
  int64_t n = 0;
  size_t i;
  json_t *it;
  json_array_foreach(json_object_get(top, "items"), i, it) n += json_integer_value(json_object_get(it, "calls"));
  return n;
}

/* The integer SQL answers on shard I alone (ClickHouse's HTTP interface; -1 on error). */
static long long shard_int(int i, const char *sql) {
  srv_ch_options o = {.url = g->ch[i].url, .timeout_ms = 10000};
  srv_ch *c = NULL;
  char err[300] = "", *out = NULL;
  long long n = -1;
  if (srv_ch_new(&o, &c, err, sizeof err) == 0 && srv_ch_query(c, 0, sql, NULL, 0, &out, NULL, err, sizeof err) == 0)
    n = strtoll(out, NULL, 10);
  else fprintf(stderr, "%s\n", err);
  free(out);
  srv_ch_free(c);
  return n;
}

/* Rows of TABLE on shard I alone (its _local table). */
static long long shard_rows(int i, const char *table) {
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT count() FROM %s_local", table);
  return shard_int(i, sql);
}

/* Each node wrote whole batches into its own shard: shard I holds the ledger rows and every minute of
 * the batches node I received (batch J is minute J: even ones through node 0), none of the others';
 * the retry of batch 0 through node 1 was not stored again. */
static void batches_spread_over_shards(void **state) {
  (void)state;
  SKIP_WITHOUT_CH();
  for (int i = 0; i < 2; i++) {
    assert_int_equal(shard_rows(i, "batches"), BATCHES / 2);
    static const char *const tables[] = {"fn_slices", "calls", "calls_by_flow", "flow_slices", "flow_functions"};
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
      char sql[300];
      snprintf(sql, sizeof sql,
               "SELECT uniqExact(slice) * 1000 + countIf(intDiv(slice - %lld, 60) %% 2 != %d) FROM %s_local",
               (long long)(g->t0 / NS), i, tables[t]);
      assert_int_equal(shard_int(i, sql), BATCHES / 2 * 1000); /* its minutes, and no other's */
    }
  }
}

/* Every query route through either node: the SQLite server's answer. */
static void queries_through_either_node(void **state) {
  (void)state;
  SKIP_WITHOUT_CH();
  json_decref(check("GET", "/v1/services", NULL));
  static const char *const sorts[] = {"calls", "p95", "error_rate", "duration_trend", "slowdown"};
  char path[600];
  for (size_t i = 0; i < sizeof sorts / sizeof *sorts; i++) {
    snprintf(path, sizeof path, "/v1/functions/top?service=shop&from=%s&to=%s&sort=%s&limit=100", g->from, g->to,
             sorts[i]);
    json_decref(check("GET", path, NULL));
  }
  snprintf(path, sizeof path, "/v1/functions/top?service=shop&from=%s&to=%s&limit=100", g->from, g->to);
  json_t *top = check("GET", path, NULL);
  assert_int_equal(total_calls(top), g->calls);
  size_t i, n = 0;
  json_t *it;
  json_array_foreach(json_object_get(top, "items"), i, it) {
    if (n++ == 6) break;
    const char *id = json_string_value(json_object_get(it, "function_id"));
    snprintf(path, sizeof path, "/v1/functions/%s?service=shop&from=%s&to=%s", id, g->from, g->to);
    json_decref(check("GET", path, NULL));
    snprintf(path, sizeof path, "/v1/callgraph?service=shop&from=%s&to=%s&root=%s", g->from, g->to, id);
    json_decref(check("GET", path, NULL));
  }
  json_decref(top);
  snprintf(path, sizeof path, "/v1/flows?service=shop&from=%s&to=%s", g->from, g->to);
  json_decref(check("GET", path, NULL));
  snprintf(path, sizeof path, "/v1/exception-flows?service=shop&from=%s&to=%s", g->from, g->to);
  json_decref(check("GET", path, NULL));
  const synth_fn *f = synth_fns();
  char body[2048];
  int len = snprintf(body, sizeof body, "{\"service\":\"shop\",\"from\":\"%s\",\"to\":\"%s\",\"module_paths\":[",
                     g->from, g->to);
  for (size_t k = 0; k < synth_fn_count() && k < 6; k++)
    len += snprintf(body + len, sizeof body - (size_t)len, "%s\"%s\"", k ? "," : "", f[k].module_path);
  snprintf(body + len, sizeof body - (size_t)len, "]}");
  json_decref(check("POST", "/v1/functions/by-module", body));
}

static int key_status(int port, const char *key) {
  srvh_resp r;
  if (srvh_request(port, "GET", "/v1/services", key, NULL, 0, NULL, &r) < 0) return -1;
  int s = (int)r.status;
  srvh_resp_free(&r);
  return s;
}

/* Keys made through shard 1's node store, revoked through shard 2's: refused by both nodes, listed once. */
static void keys_replaced_on_one_shard(void **state) {
  (void)state;
  SKIP_WITHOUT_CH();
  enum { KEYS = 8 };
  char keys[KEYS][128];
  for (int k = 0; k < KEYS; k++) {
    assert_int_equal(srvh_key(&g->node[0], "prod", keys[k]), 0);
    assert_int_equal(key_status(g->node[1].port, keys[k]), 200);
  }
  for (int k = 0; k < KEYS; k++) {
    char id[24];
    snprintf(id, sizeof id, "%lld", strtoll(keys[k] + 4, NULL, 10)); /* hud_ID_secret */
    const char *args[] = {"keys", "revoke", id, NULL};
    assert_int_equal(srvh_cli(&g->node[1], args, NULL, 0), 0);
  }
  for (int k = 0; k < KEYS; k++)
    for (int n = 0; n < 2; n++) assert_int_equal(key_status(g->node[n].port, keys[k]), 401);
  const char *list[] = {"keys", "list", NULL};
  char out[8192];
  assert_int_equal(srvh_cli(&g->node[0], list, out, sizeof out), 0);
  int lines = 0, revoked = 0;
  for (const char *p = out; (p = strchr(p, '\n')); p++) lines++;
  for (const char *p = out; (p = strstr(p, "revoked")); p++) revoked++;
  assert_int_equal(lines, 1 + 1 + KEYS); /* the header, the test's own key, the revoked ones */
  assert_int_equal(revoked, KEYS);
}

/* A URL whose mode does not match ClickHouse or the database is refused at start, naming why. */
static void mismatched_urls_refused(void **state) {
  (void)state;
  SKIP_WITHOUT_CH();
  static const struct {
    const char *suffix, *why;
  } cases[] = {{"?cluster=nope", "no cluster 'nope'"}, {"", "is a cluster's"}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char db[200], cmd[800];
    snprintf(db, sizeof db, "%s", g->ch[0].url);
    snprintf(strchr(db, '?'), sizeof db - (size_t)(strchr(db, '?') - db), "%s", cases[i].suffix);
    snprintf(cmd, sizeof cmd, "'%s' keys list --db '%s' 2>&1", srvh_binary(), db);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[2048] = "";
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    assert_int_equal(WEXITSTATUS(pclose(p)), 1);
    if (!strstr(out, cases[i].why)) fail_msg("%s: %s", db, out);
  }
}

/* Both nodes restarted with a retention: their start-up maintenance merges the closed hours'
 * sketches (sketch_spans, written through the Distributed table: each shard gets its share) and
 * expires old rows with mutations of each node's own shard, the merged spans' tables included (a
 * Distributed table takes no mutation). Answers still equal the SQLite server's. */
static void maintenance_on_each_shard(void **state) {
  (void)state;
  SKIP_WITHOUT_CH();
  static const char *const extra[] = {"--retention", "30d", NULL};
  for (int i = 0; i < 2; i++) {
    assert_int_equal(srvh_stop(&g->node[i], 15), 0);
    assert_int_equal(srvh_start(&g->node[i], extra), 0);
  }
  assert_true(shard_rows(0, "sketch_spans") + shard_rows(1, "sketch_spans") > 0);
  for (int i = 0; i < 2; i++) {
    long long m = shard_int(i, "SELECT count() FROM system.mutations WHERE table = 'sketch_span_marks_local'");
    assert_true(m > 0);
  }
  queries_through_either_node(state);
}

/* SIGKILL of shard 2's clickhouse-server: what it acknowledged is there after the restart; while it
 * is down ingests and queries fail visibly; the retry is counted once. */
static void shard_killed_and_restarted(void **state) {
  (void)state;
  SKIP_WITHOUT_CH();
  int acked = BATCHES, retried = BATCHES + 1;
  assert_int_equal(post(g->node[1].port, g->key, acked), 200);
  assert_int_equal(post(g->lite.port, g->key_lite, acked), 200);
  g->calls += batch_calls(acked);
  chfix_kill(&g->ch[1]);
  for (int n = 0; n < 2; n++) {
    assert_int_equal(post(g->node[n].port, g->key, retried), 503); /* nothing acknowledged that is not stored */
  }
  char path[400];
  snprintf(path, sizeof path, "/v1/functions/top?service=shop&from=%s&to=%s&limit=100", g->from, g->to);
  long s;
  json_decref(answers_request(g->node[0].port, g->key, "GET", path, NULL, &s));
  assert_int_equal(s, 503); /* never a partial answer */
  assert_int_equal(chfix_kill_restart(&g->ch[1]), 0);
  assert_int_equal(post(g->node[0].port, g->key, retried), 200); /* the sensor's retry, through either node */
  assert_int_equal(post(g->node[1].port, g->key, retried), 200); /* and again: a duplicate */
  assert_int_equal(post(g->lite.port, g->key_lite, retried), 200);
  g->calls += batch_calls(retried);
  json_t *top = check("GET", path, NULL);
  assert_int_equal(total_calls(top), g->calls);
  json_decref(top);
  assert_int_equal(shard_rows(1, "batches"), BATCHES / 2 + 1);
  queries_through_either_node(state);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(batches_spread_over_shards),
      cmocka_unit_test(queries_through_either_node),
      cmocka_unit_test(keys_replaced_on_one_shard),
      cmocka_unit_test(mismatched_urls_refused),
      cmocka_unit_test(maintenance_on_each_shard),
      cmocka_unit_test(shard_killed_and_restarted), /* last: more data after */
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
