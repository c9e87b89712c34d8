/* Query latency benchmark (bench/query.sh).
 *
 *   query_bench gen --db PATH --rows N [--functions F] [--part K/N --now T]
 *     fills a store (PATH: a SQLite file or clickhouse://...) through srv_store_ingest() (in-process,
 *     no HTTP) with N invocation rows:
 *     F functions in F/10 modules, 5 call edges per function per minute across 3 flows, one batch
 *     per minute ending now (older minutes land in hourly slices, as the server stores them), each
 *     row with 8 sampled durations and their sketch, two versions (the newer one for the last 6 h).
 *     Writes the data's end (unix seconds) to PATH.at. --part K/N: only batches K, K+N, K+2N, ... (N
 *     processes, one per part, write the whole set between them, e.g. one per cluster shard); --now T:
 *     the data's end (T, unix seconds, instead of now: the same for every part).
 *   query_bench measure --port P --key K [--n 40] [--functions F] [--at T]
 *     times the query API over HTTP against a running hud-server on that store and prints
 *     p50/p95 per query, windows ending at T (the data's end; default now). */
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hud/codec.h"
#include "hud/err.h"
#include "hud/identity.h"
#include "hud/model.h"
#include "issues_runner.h"
#include "store.h"

#define EDGES 5
#define FLOWS 3
#define SAMPLES 8

static uint64_t rng_s = 88172645463325252ull;
static double unit(void) {
  rng_s ^= rng_s << 13;
  rng_s ^= rng_s >> 7;
  rng_s ^= rng_s << 17;
  return ((double)(rng_s >> 11) + 0.5) / 9007199254740992.0;
}
static double normal(void) { return sqrt(-2 * log(unit())) * cos(6.283185307179586 * unit()); }

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int gen(const char *db, long rows, int nfn, int part, int parts, int64_t at) {
  srv_store_options opt = {.path = db};
  srv_store *st;
  int rc = srv_store_open(&opt, &st);
  if (rc < 0) {
    fprintf(stderr, "query_bench: cannot open %s: %s\n", db, hud_strerror(rc));
    return 1;
  }
  char (*ids)[HUD_UUID_STRLEN + 1] = calloc((size_t)nfn, sizeof *ids);
  char (*mods)[32] = calloc((size_t)nfn, sizeof *mods);
  char (*names)[32] = calloc((size_t)nfn, sizeof *names);
  for (int i = 0; i < nfn; i++) {
    snprintf(mods[i], sizeof mods[i], "pkg/mod%03d.py", i / 10);
    snprintf(names[i], sizeof names[i], "fn%d", i);
    hud_function_id(mods[i], names[i], ids[i]);
  }
  static const char *routes[FLOWS] = {"/orders/<id>", "/checkout", "/search"};
  hud_uuid flow_ids[FLOWS];
  for (int f = 0; f < FLOWS; f++) hud_flow_id_endpoint("GET", routes[f], flow_ids[f]);
  /* Ten minutes per batch: fewer durable commits while generating. */
  const int mpb = 10;
  long per_min = (long)nfn * EDGES, per_batch = per_min * mpb;
  long minutes = (rows + per_min - 1) / per_min;
  long batches = (minutes + mpb - 1) / mpb;
  int64_t now = (at > 0 ? at : (int64_t)time(NULL)) / 60 * 60;
  int64_t start = now - batches * mpb * 60;
  char at_path[4096];
  snprintf(at_path, sizeof at_path, "%s.at", db);
  FILE *af = fopen(at_path, "w");
  if (af) {
    fprintf(af, "%lld\n", (long long)now);
    fclose(af);
  }
  hud_arena *a = hud_arena_new();
  double t0 = now_s();
  long stored = 0;
  for (long m = 0; m < batches; m++) {
    if (m % parts != part) continue;
    hud_arena_reset(a);
    hud_batch b = {0};
    b.schema_version = HUD_SCHEMA_VERSION;
    char seed[64];
    snprintf(seed, sizeof seed, "query-bench-batch-%ld", m);
    hud_uuid5(HUD_FUNCTION_ID_NAMESPACE, seed, strlen(seed), b.batch_id);
    b.service = "shop";
    int64_t ts0 = start + m * mpb * 60;
    b.service_version = ts0 >= now - 6 * 3600 ? "2.0.0" : "1.0.0";
    b.host = "bench";
    b.pid = 1;
    b.runtime = "cpython 3.11";
    b.sensor_version = "0.1.0";
    b.sent_at = (ts0 + mpb * 60) * 1000000000LL;
    if (m == 0 || m == batches - 1) {
      b.n_declarations = (size_t)nfn;
      b.declarations = hud_arena_calloc(a, (size_t)nfn, sizeof *b.declarations);
      for (int i = 0; i < nfn; i++) {
        hud_function_decl *d = &b.declarations[i];
        memcpy(d->function_id, ids[i], sizeof d->function_id);
        d->name = names[i];
        d->module_path = mods[i];
        d->file = mods[i];
        d->start_line = 1 + 20 * (i % 10);
        d->end_line = d->start_line + 10;
        snprintf(d->source_code_hash, sizeof d->source_code_hash, "%040d", i);
      }
    }
    b.n_flows = FLOWS * mpb;
    b.flows = hud_arena_calloc(a, FLOWS * mpb, sizeof *b.flows);
    for (int f = 0; f < FLOWS * mpb; f++) {
      int64_t ts = ts0 + (f / FLOWS) * 60;
      hud_flow *fl = &b.flows[f];
      memcpy(fl->flow_id, flow_ids[f % FLOWS], sizeof fl->flow_id);
      fl->kind = HUD_FLOW_ENDPOINT;
      fl->method = "GET";
      fl->route = routes[f % FLOWS];
      fl->timestamp = ts * 1000000000LL;
      fl->timeslice = 60000000000LL;
      fl->count = 100;
      fl->sampled_count = 100;
      fl->sum_duration = 100 * 5000000LL;
      fl->sum_squared_duration = 100 * 2.5e13 * 1.2;
    }
    b.n_invocations = (size_t)per_batch;
    b.invocations = hud_arena_calloc(a, (size_t)per_batch, sizeof *b.invocations);
    if (!b.invocations || !b.flows) {
      fprintf(stderr, "query_bench: out of memory\n");
      return 1;
    }
    hud_sketch *sk = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
    for (int mm = 0; mm < mpb; mm++)
    for (int i = 0; i < nfn; i++) {
      int64_t ts = ts0 + mm * 60;
      for (int k = 0; k < EDGES; k++) {
        hud_invocation *v = &b.invocations[mm * per_min + i * EDGES + k];
        memcpy(v->function_id, ids[i], sizeof v->function_id);
        int caller = (i + nfn - 1 - 7 * k) % nfn;
        v->has_caller = true;
        memcpy(v->caller.caller_function_id, ids[caller], sizeof(hud_uuid));
        v->caller.caller_module_path = mods[caller];
        v->caller.line = 3 + k;
        memcpy(v->flow_id, flow_ids[k % FLOWS], sizeof(hud_uuid));
        v->timestamp = ts * 1000000000LL;
        v->timeslice = 60000000000LL;
        v->count = 20 + (int64_t)(unit() * 20);
        v->sampled_count = SAMPLES;
        hud_sketch_clear(sk);
        double med = 1e6 * (1 + i % 10);
        for (int s = 0; s < SAMPLES; s++) {
          double d = floor(med * exp(0.5 * normal()));
          v->sum_duration += (int64_t)d;
          v->sum_squared_duration += d * d;
          hud_sketch_add(sk, d);
        }
        v->self_duration = v->sum_duration / 2;
        hud_sketch_bins bins;
        if (hud_sketch_export(sk, &bins) == 0) {
          v->sketch = hud_arena_calloc(a, 1, sizeof *v->sketch);
          *v->sketch = bins;
          v->sketch->counts = hud_arena_calloc(a, bins.n ? bins.n : 1, sizeof(uint64_t));
          memcpy(v->sketch->counts, bins.counts, bins.n * sizeof(uint64_t));
          hud_sketch_bins_free(&bins);
        }
        if (i % 50 == 0 && k == 0) {
          v->exceptions.n = 1;
          v->exceptions.items = hud_arena_calloc(a, 1, sizeof *v->exceptions.items);
          v->exceptions.items[0].key = "ValueError";
          v->exceptions.items[0].count = 1;
        }
      }
    }
    hud_sketch_free(sk);
    srv_ingest_result res;
    rc = srv_store_ingest(st, "prod", &b, now, &res);
    if (rc < 0) {
      fprintf(stderr, "query_bench: ingest failed: %s\n", hud_strerror(rc));
      return 1;
    }
    stored += (long)res.rows;
    if ((m + 1) % 20 == 0)
      fprintf(stderr, "query_bench: %ld rows stored (%.0f rows/s)\n", stored, (double)stored / (now_s() - t0));
  }
  printf("generated %ld invocation rows (%d functions, %ld minutes) in %.1f s\n", stored, nfn, batches * mpb,
         now_s() - t0);
  hud_arena_free(a);
  free(ids);
  free(mods);
  free(names);
  srv_store_free(st);
  return 0;
}

static size_t sink(char *p, size_t sz, size_t n, void *arg) {
  (void)p;
  *(size_t *)arg += sz * n;
  return sz * n;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Times N requests; prints p50/p95 in ms. */
static int timed(CURL *c, int port, const char *key, const char *label, const char *method, const char *path,
                 const char *body, int n) {
  char url[2048], auth[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
  struct curl_slist *h = curl_slist_append(NULL, auth);
  h = curl_slist_append(h, "Content-Type: application/json");
  double *t = calloc((size_t)n, sizeof *t);
  size_t bytes = 0;
  long status = 0;
  for (int i = 0; i < n; i++) {
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &bytes);
    if (strcmp(method, "POST") == 0) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    bytes = 0;
    double t0 = now_s();
    CURLcode cc = curl_easy_perform(c);
    t[i] = (now_s() - t0) * 1e3;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK || status != 200) {
      fprintf(stderr, "query_bench: %s: %s status %ld\n", label, curl_easy_strerror(cc), status);
      free(t);
      curl_slist_free_all(h);
      return 1;
    }
  }
  qsort(t, (size_t)n, sizeof *t, cmp_d);
  printf("%-40s p50 %8.1f ms   p95 %8.1f ms   (%d requests, %zu bytes)\n", label, t[n / 2],
         t[(int)ceil(0.95 * n) - 1], n, bytes);
  fflush(stdout);
  free(t);
  curl_slist_free_all(h);
  return 0;
}

/* "&from=...&to=..." for [FROM, TO] (unix seconds), '+' percent-encoded. */
static void window_param(int64_t from, int64_t to, char *out, size_t cap) {
  char f[HUD_TIME_STRLEN + 1], t[HUD_TIME_STRLEN + 1];
  hud_time_format(from * 1000000000LL, f);
  hud_time_format(to * 1000000000LL, t);
  snprintf(out, cap, "&from=%s&to=%s", f, t);
  for (char *p = out; *p; p++)
    if (*p == '+') {
      memmove(p + 3, p + 1, strlen(p + 1) + 1);
      memcpy(p, "%2B", 3);
    }
}

/* The by-module body for MODS (JSON array text) over [FROM, TO]. */
static void by_module_body(int64_t from, int64_t to, const char *mods, char *out, size_t cap) {
  char f[HUD_TIME_STRLEN + 1], t[HUD_TIME_STRLEN + 1];
  hud_time_format(from * 1000000000LL, f);
  hud_time_format(to * 1000000000LL, t);
  snprintf(out, cap, "{\"service\":\"shop\",\"from\":\"%s\",\"to\":\"%s\",\"module_paths\":%s}", f, t, mods);
}

static const char *const k_sorts[] = {"calls", "p95", "error_rate", "duration_trend", "error_trend", "slowdown"};
static const char *const k_flow_sorts[] = {"calls", "p95", "duration_trend", "error_trend"};

/* Every top-N sort, in a flow too, and per-file over [FROM, TO]; TAG names the window. */
static int measure_window(CURL *c, int port, const char *key, int n, const char *mod, int64_t from, int64_t to,
                          const char *tag) {
  char win[160], path[512], label[96], body[1024];
  int rc = 0;
  window_param(from, to, win, sizeof win);
  for (size_t k = 0; k < sizeof k_sorts / sizeof *k_sorts; k++) {
    snprintf(label, sizeof label, "top-N %s, %s", k_sorts[k], tag);
    snprintf(path, sizeof path, "/v1/functions/top?service=shop&sort=%s&limit=20%s", k_sorts[k], win);
    rc |= timed(c, port, key, label, "GET", path, NULL, n);
  }
  /* An endpoint's slowest functions (the terminal UI's flow view): top-N inside one flow. */
  hud_uuid flow;
  hud_flow_id_endpoint("GET", "/checkout", flow);
  for (size_t k = 0; k < sizeof k_flow_sorts / sizeof *k_flow_sorts; k++) {
    snprintf(label, sizeof label, "top-N in a flow, %s, %s", k_flow_sorts[k], tag);
    snprintf(path, sizeof path, "/v1/functions/top?service=shop&flow_id=%s&sort=%s&limit=20%s", flow, k_flow_sorts[k],
             win);
    rc |= timed(c, port, key, label, "GET", path, NULL, n);
  }
  char mods[64];
  snprintf(mods, sizeof mods, "[\"%s\"]", mod);
  by_module_body(from, to, mods, body, sizeof body);
  snprintf(label, sizeof label, "per-file (1 module, 10 fns), %s", tag);
  rc |= timed(c, port, key, label, "POST", "/v1/functions/by-module", body, n);
  by_module_body(from, to,
                 "[\"pkg/mod001.py\",\"pkg/mod002.py\",\"pkg/mod003.py\",\"pkg/mod004.py\",\"pkg/mod005.py\"]",
                 body, sizeof body);
  snprintf(label, sizeof label, "per-file (5 modules, 50 fns), %s", tag);
  rc |= timed(c, port, key, label, "POST", "/v1/functions/by-module", body, n);
  return rc;
}

/* Windows end at AT, the end of the generated data (query.sh passes it), not at the clock: a store
 * generated yesterday is still measured over its data. */
static int measure(int port, const char *key, int n, int nfn, int64_t at) {
  CURL *c = curl_easy_init();
  if (!c) return 1;
  char mod[32], id[HUD_UUID_STRLEN + 1], path[512], win[160];
  int rc = 0;
  snprintf(mod, sizeof mod, "pkg/mod%03d.py", 7 % (nfn / 10));
  rc |= measure_window(c, port, key, n, mod, at - 86400, at, "24 h");
  snprintf(path, sizeof path, "/v1/functions/top?service=shop&sort=calls&limit=20");
  rc |= timed(c, port, key, "top-N calls, 24 h to now (default)", "GET", path, NULL, n);
  window_param(at - 3600, at, win, sizeof win);
  snprintf(path, sizeof path, "/v1/functions/top?service=shop&sort=calls&limit=20%s", win);
  rc |= timed(c, port, key, "top-N calls, 1 h", "GET", path, NULL, n);
  /* The worst point for the pre-aggregates: both edges of the window cut 10-minute blocks one
   * second in, so ~20 minutes of minute rows are read besides whole hours and blocks. */
  int64_t end = at / 600 * 600 - 1;
  rc |= measure_window(c, port, key, n, mod, end - 86400 + 2, end, "24 h, worst-case edges");
  hud_function_id("pkg/mod000.py", "fn3", id);
  window_param(at - 86400, at, win, sizeof win);
  snprintf(path, sizeof path, "/v1/functions/%s?service=shop%s", id, win);
  rc |= timed(c, port, key, "function detail, 24 h", "GET", path, NULL, n);
  snprintf(path, sizeof path, "/v1/callgraph?service=shop&root=%s%s", id, win);
  rc |= timed(c, port, key, "call graph (depth 4, 200 nodes), 24 h", "GET", path, NULL, n);
  window_param(at - 3600, at, win, sizeof win);
  snprintf(path, sizeof path, "/v1/issues?service=shop%s", win);
  rc |= timed(c, port, key, "issues (stored), 1 h", "GET", path, NULL, n > 10 ? 10 : n);
  window_param(at - 86400, at, win, sizeof win);
  snprintf(path, sizeof path, "/v1/issues?service=shop%s", win);
  rc |= timed(c, port, key, "issues (stored), 24 h", "GET", path, NULL, n > 10 ? 10 : n);
  curl_easy_cleanup(c);
  return rc;
}

/* Times detection passes over the generated store's service (what the server's runner does after
 * a fold): N passes, p50 and max printed. */
static int detect(const char *db, int n) {
  srv_store_options opt = {.path = db};
  srv_store *st;
  int rc = srv_store_open(&opt, &st);
  if (rc < 0) {
    fprintf(stderr, "query_bench: cannot open %s: %s\n", db, hud_strerror(rc));
    return 1;
  }
  srv_issues_runner_options ro = {.store = st, .interval_ms = 3600000};
  srv_issues_runner *r;
  if (srv_issues_runner_new(&ro, &r) < 0) return 1;
  double *t = calloc((size_t)n, sizeof *t);
  for (int i = 0; i < n && rc == 0; i++) {
    double t0 = now_s();
    rc = srv_issues_runner_pass(r, 1);
    t[i] = (now_s() - t0) * 1e3;
  }
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
      double x = t[j];
      t[j] = t[j - 1];
      t[j - 1] = x;
    }
  printf("detection pass (service 1): p50 %.1f ms, max %.1f ms over %d passes (rc %d)\n", t[n / 2], t[n - 1], n, rc);
  free(t);
  srv_issues_runner_free(r);
  srv_store_free(st);
  return rc < 0;
}

int main(int argc, char **argv) {
  const char *db = NULL, *key = NULL;
  long rows = 10000000;
  int nfn = 1000, port = 0, n = 40;
  int64_t at = 0;
  int part = 0, parts = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--db")) db = argv[i + 1];
    else if (!strcmp(argv[i], "--rows")) rows = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--functions")) nfn = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--key")) key = argv[i + 1];
    else if (!strcmp(argv[i], "--n")) n = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--at") || !strcmp(argv[i], "--now")) at = atoll(argv[i + 1]);
    else if (!strcmp(argv[i], "--part") && sscanf(argv[i + 1], "%d/%d", &part, &parts) != 2) parts = 0;
  }
  if (parts < 1 || part < 0 || part >= parts) {
    fprintf(stderr, "query_bench: --part K/N needs 0 <= K < N\n");
    return 2;
  }
  if (nfn < 10) nfn = 10;
  if (argc >= 2 && !strcmp(argv[1], "gen") && db) return gen(db, rows, nfn, part, parts, at);
  if (argc >= 2 && !strcmp(argv[1], "detect") && db) return detect(db, n > 0 ? n : 10);
  if (argc >= 2 && !strcmp(argv[1], "measure") && port > 0 && key && n > 0)
    return measure(port, key, n, nfn, at > 0 ? at : (int64_t)time(NULL));
  fprintf(stderr, "usage: query_bench gen --db PATH [--rows N] [--functions F] [--part K/N] [--now UNIX_SECONDS]\n"
                  "       query_bench measure --port P --key K [--n N] [--functions F] [--at UNIX_SECONDS]\n"
                  "       query_bench detect --db PATH [--n N]\n");
  return 2;
}
