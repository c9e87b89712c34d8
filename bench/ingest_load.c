/* Ingest load generator: posts realistic gzip batches to a running hud-server over N keep-alive
 * connections and prints acknowledged invocation rows per second and request latencies.
 *
 * usage: ingest_load --port P --key KEY [--connections 4] [--batches 600] [--rows 1000]
 *                    [--functions 300] [--minutes 30] [--distinct N] [--resend N] [--tag T]
 * Bodies are prepared (JSON + gzip) before the clock starts, so the figure is the server's.
 * --distinct N: only N batches are generated (sketches are slow to make), the others reuse their
 * records under their own batch id. --resend N: after the load, the first N batches are sent again
 * one at a time and the time of these duplicates is printed next to that of their first post.
 * --tag T: part of every batch id, so that loads run side by side in the same minute (one per node of a
 * cluster) send distinct batches. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batchgen.h"
#include "hud/codec.h"
#include "hud/identity.h"

typedef struct body {
  void *data;
  size_t len;
  size_t rows;
} body;

static int g_port = 7700;
static const char *g_key = "";
static const char *g_tag = "";
static body *g_bodies;
static size_t g_nbodies;
static atomic_size_t g_next;
static atomic_size_t g_rows_ok, g_batches_ok, g_failed;
static double *g_lat;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t sz, size_t n, void *arg) { return sz * n; }

static CURL *client(struct curl_slist **h) {
  CURL *c = curl_easy_init();
  static char url[128], auth[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/ingest", g_port);
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", g_key);
  *h = curl_slist_append(NULL, "Content-Type: application/json");
  *h = curl_slist_append(*h, "Content-Encoding: gzip");
  *h = curl_slist_append(*h, "Expect:");
  *h = curl_slist_append(*h, auth);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, *h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  return c;
}

/* Posts body I once on C; the HTTP status, its time in *SECONDS. */
static long post(CURL *c, size_t i, double *seconds) {
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, g_bodies[i].data);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)g_bodies[i].len);
  double t0 = now_s();
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  *seconds = now_s() - t0;
  return status;
}

static void *worker(void *arg) {
  struct curl_slist *h;
  CURL *c = client(&h);
  for (;;) {
    size_t i = atomic_fetch_add(&g_next, 1);
    if (i >= g_nbodies) break;
    if (post(c, i, &g_lat[i]) == 200) {
      atomic_fetch_add(&g_rows_ok, g_bodies[i].rows);
      atomic_fetch_add(&g_batches_ok, 1);
    } else {
      atomic_fetch_add(&g_failed, 1);
    }
  }
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return NULL;
}

typedef struct prep_arg {
  size_t from, to, rows, functions, minutes, distinct;
} prep_arg;

/* Each body is its own batch (own id, own minute, own process), like many sensors reporting.
 * Batch I has the records of template I * DISTINCT / BATCHES. */
static void *prepare(void *arg) {
  prep_arg *p = arg;
  hud_time_ns base = ((hud_time_ns)time(NULL) / 60) * 60 * 1000000000LL;
  hud_arena *a = hud_arena_new();
  hud_batch b;
  char *json = NULL, *id = NULL;
  size_t made = SIZE_MAX, jl = 0;
  for (size_t i = p->from; a && i < p->to; i++) {
    size_t t = i * p->distinct / g_nbodies;
    if (t != made) { /* encoding is slow too: the JSON of a template is made once, ids patched in */
      batchgen_opts o = {.seed = 1000000 + t, .n_invocations = p->rows, .n_functions = p->functions,
                         .n_flows = 5, .timestamp = base - (hud_time_ns)(t % p->minutes) * 60000000000LL};
      hud_arena_reset(a);
      free(json);
      json = NULL;
      if (batchgen_make(&o, a, &b) < 0 || batchgen_encode(&b, 0, (void **)&json, &jl) < 0) break;
      id = strstr(json, b.batch_id);
      made = t;
    }
    char name[128];
    snprintf(name, sizeof name, "ingest-load-%s%zu-%lld", g_tag, i, (long long)base);
    hud_uuid5(HUD_FUNCTION_ID_NAMESPACE, name, strlen(name), b.batch_id);
    memcpy(id, b.batch_id, HUD_UUID_STRLEN);
    if (hud_gzip_encode(json, jl, 1, &g_bodies[i].data, &g_bodies[i].len) < 0) break;
    g_bodies[i].rows = b.n_invocations;
  }
  for (size_t i = p->from; i < p->to; i++)
    if (!g_bodies[i].data) {
      fprintf(stderr, "ingest_load: cannot prepare batch %zu\n", i);
      exit(1);
    }
  free(json);
  hud_arena_free(a);
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int conns = 4;
  size_t batches = 600, rows = 1000, functions = 300, minutes = 30, distinct = 0, resend = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--port")) g_port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--key")) g_key = argv[i + 1];
    else if (!strcmp(argv[i], "--connections")) conns = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--batches")) batches = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--rows")) rows = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--functions")) functions = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--minutes")) minutes = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--distinct")) distinct = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--resend")) resend = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--tag")) g_tag = argv[i + 1];
    else {
      fprintf(stderr, "ingest_load: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (conns < 1 || conns > 256 || !batches || !rows || !functions || !minutes) {
    fprintf(stderr, "ingest_load: bad arguments\n");
    return 2;
  }
  if (!distinct || distinct > batches) distinct = batches;
  if (resend > batches) resend = batches;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  g_nbodies = batches;
  g_bodies = calloc(batches, sizeof *g_bodies);
  g_lat = calloc(batches, sizeof *g_lat);
  double tp = now_s();
  pthread_t pt[2];
  prep_arg pa[2] = {{0, batches / 2, rows, functions, minutes, distinct},
                    {batches / 2, batches, rows, functions, minutes, distinct}};
  for (int i = 0; i < 2; i++) pthread_create(&pt[i], NULL, prepare, &pa[i]);
  for (int i = 0; i < 2; i++) pthread_join(pt[i], NULL);
  size_t bytes = 0;
  for (size_t i = 0; i < batches; i++) bytes += g_bodies[i].len;
  fprintf(stderr, "ingest_load: prepared %zu batches x %zu rows (%.1f KiB gzip each) in %.1f s\n", batches, rows,
          (double)bytes / (double)batches / 1024, now_s() - tp);

  pthread_t *th = calloc((size_t)conns, sizeof *th);
  double t0 = now_s();
  for (int i = 0; i < conns; i++) pthread_create(&th[i], NULL, worker, NULL);
  for (int i = 0; i < conns; i++) pthread_join(th[i], NULL);
  double el = now_s() - t0;
  double first = 0, dup = 0;
  size_t dup_ok = 0;
  if (resend) {
    struct curl_slist *h;
    CURL *c = client(&h);
    for (size_t i = 0; i < resend; i++) {
      double s;
      first += g_lat[i];
      if (post(c, i, &s) == 200) dup_ok++; /* the server answers a duplicate with 200 */
      dup += s;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
  }
  qsort(g_lat, batches, sizeof *g_lat, cmp_double);
  size_t ok = atomic_load(&g_batches_ok);
  printf("ingest: %zu connections, %zu/%zu batches acknowledged (%zu failed), %zu rows/batch\n", (size_t)conns, ok,
         batches, atomic_load(&g_failed), rows);
  printf("ingest: %.0f invocation rows/s (%.1f batches/s, %.1f s)\n", (double)atomic_load(&g_rows_ok) / el,
         (double)ok / el, el);
  printf("ingest: request latency p50 %.1f ms, p95 %.1f ms, p99 %.1f ms\n", 1e3 * g_lat[batches / 2],
         1e3 * g_lat[(size_t)(batches * 0.95)], 1e3 * g_lat[(size_t)(batches * 0.99)]);
  if (resend)
    printf("ingest: duplicates: %zu/%zu resent batches answered, %.1f ms each (first posts under load: %.1f ms)\n",
           dup_ok, resend, 1e3 * dup / (double)resend, 1e3 * first / (double)resend);
  for (size_t i = 0; i < batches; i++) free(g_bodies[i].data);
  free(g_bodies);
  free(g_lat);
  free(th);
  curl_global_cleanup();
  return atomic_load(&g_failed) ? 1 : 0;
}
