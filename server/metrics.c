/* Prometheus counters and the /metrics and /healthz routes. */
#define _GNU_SOURCE
#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hud/codec.h"
#include "hud/err.h"
#include "http.h"

#define MAX_SERIES 256

typedef struct req_series {
  const char *route;
  int status;
  uint64_t count;
  double seconds;
} req_series;

static const double k_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define N_BUCKETS (sizeof k_buckets / sizeof k_buckets[0])

static const char *const k_reasons[] = {"parse", "invalid", "too_large", "auth", "version", "store", "busy"};
#define N_REASONS (sizeof k_reasons / sizeof k_reasons[0])

static const char *const k_roles[] = {"ingest", "read", "triage", "admin"};
#define N_ROLES (sizeof k_roles / sizeof k_roles[0])

static const char *const k_alert_outcomes[] = {"delivered", "failed", "retried", "dropped"};
#define N_ALERT_OUTCOMES (sizeof k_alert_outcomes / sizeof k_alert_outcomes[0])

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static req_series g_req[MAX_SERIES];
static size_t g_nreq;
static uint64_t g_store_buckets[N_BUCKETS + 1];
static uint64_t g_store_count;
static double g_store_sum;
static atomic_uint_fast64_t g_rows, g_batches, g_duplicates;
static atomic_uint_fast64_t g_rejected[N_REASONS];
static atomic_uint_fast64_t g_refused[N_ROLES];
static atomic_uint_fast64_t g_detect_passes, g_detect_us, g_detect_opened, g_detect_reopened, g_detect_resolved,
    g_detect_regressed, g_detect_alerted;
static atomic_uint_fast64_t g_alerts[N_ALERT_OUTCOMES];

void srv_metrics_request(const char *route, int status, double seconds) {
  pthread_mutex_lock(&g_lock);
  size_t i;
  for (i = 0; i < g_nreq; i++)
    if (g_req[i].status == status && strcmp(g_req[i].route, route) == 0) break;
  if (i == g_nreq && g_nreq < MAX_SERIES) g_req[g_nreq++] = (req_series){route, status, 0, 0};
  if (i < g_nreq) {
    g_req[i].count++;
    g_req[i].seconds += seconds;
  }
  pthread_mutex_unlock(&g_lock);
}

void srv_metrics_ingest_rows(uint64_t rows) { atomic_fetch_add(&g_rows, rows); }

void srv_metrics_ingest_batch(int duplicate) {
  atomic_fetch_add(&g_batches, 1);
  if (duplicate) atomic_fetch_add(&g_duplicates, 1);
}

void srv_metrics_rejected(const char *reason) {
  for (size_t i = 0; i < N_REASONS; i++)
    if (strcmp(k_reasons[i], reason) == 0) atomic_fetch_add(&g_rejected[i], 1);
}

void srv_metrics_auth_refused(const char *role) {
  for (size_t i = 0; i < N_ROLES; i++)
    if (strcmp(k_roles[i], role) == 0) atomic_fetch_add(&g_refused[i], 1);
}

void srv_metrics_detect_pass(double seconds, const srv_detect_counts *c) {
  unsigned opened = c->opened, reopened = c->reopened, resolved = c->resolved;
  atomic_fetch_add(&g_detect_regressed, c->regressed);
  atomic_fetch_add(&g_detect_alerted, c->alerted);
  atomic_fetch_add(&g_detect_passes, 1);
  atomic_fetch_add(&g_detect_us, (uint_fast64_t)(seconds * 1e6));
  atomic_fetch_add(&g_detect_opened, opened);
  atomic_fetch_add(&g_detect_reopened, reopened);
  atomic_fetch_add(&g_detect_resolved, resolved);
}

void srv_metrics_alert(const char *outcome) {
  for (size_t i = 0; i < N_ALERT_OUTCOMES; i++)
    if (strcmp(k_alert_outcomes[i], outcome) == 0) atomic_fetch_add(&g_alerts[i], 1);
}

void srv_metrics_store_latency(double seconds) {
  pthread_mutex_lock(&g_lock);
  size_t b = 0;
  while (b < N_BUCKETS && seconds > k_buckets[b]) b++;
  g_store_buckets[b]++;
  g_store_count++;
  g_store_sum += seconds;
  pthread_mutex_unlock(&g_lock);
}

int srv_metrics_render(char **out, size_t *len) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  if (!f) return HUD_ENOMEM;
  fprintf(f, "# HELP hud_http_requests_total HTTP requests answered, by route and status.\n"
             "# TYPE hud_http_requests_total counter\n");
  pthread_mutex_lock(&g_lock);
  for (size_t i = 0; i < g_nreq; i++)
    fprintf(f, "hud_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", g_req[i].route, g_req[i].status,
            (unsigned long long)g_req[i].count);
  fprintf(f, "# HELP hud_http_request_seconds_total Time spent answering requests, by route and status.\n"
             "# TYPE hud_http_request_seconds_total counter\n");
  for (size_t i = 0; i < g_nreq; i++)
    fprintf(f, "hud_http_request_seconds_total{route=\"%s\",status=\"%d\"} %.6f\n", g_req[i].route,
            g_req[i].status, g_req[i].seconds);
  fprintf(f, "# HELP hud_store_latency_seconds Duration of store transactions.\n"
             "# TYPE hud_store_latency_seconds histogram\n");
  uint64_t cum = 0;
  for (size_t b = 0; b < N_BUCKETS; b++) {
    cum += g_store_buckets[b];
    fprintf(f, "hud_store_latency_seconds_bucket{le=\"%g\"} %llu\n", k_buckets[b], (unsigned long long)cum);
  }
  cum += g_store_buckets[N_BUCKETS];
  fprintf(f, "hud_store_latency_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
  fprintf(f, "hud_store_latency_seconds_sum %.6f\nhud_store_latency_seconds_count %llu\n", g_store_sum,
          (unsigned long long)g_store_count);
  pthread_mutex_unlock(&g_lock);
  fprintf(f, "# HELP hud_ingest_rows_total Invocation rows stored.\n# TYPE hud_ingest_rows_total counter\n"
             "hud_ingest_rows_total %llu\n",
          (unsigned long long)atomic_load(&g_rows));
  fprintf(f, "# HELP hud_ingest_batches_total Batches acknowledged (duplicates included).\n"
             "# TYPE hud_ingest_batches_total counter\nhud_ingest_batches_total %llu\n",
          (unsigned long long)atomic_load(&g_batches));
  fprintf(f, "# HELP hud_ingest_duplicate_batches_total Retried batches acknowledged without storing.\n"
             "# TYPE hud_ingest_duplicate_batches_total counter\nhud_ingest_duplicate_batches_total %llu\n",
          (unsigned long long)atomic_load(&g_duplicates));
  fprintf(f, "# HELP hud_ingest_rejected_batches_total Batches refused, by reason.\n"
             "# TYPE hud_ingest_rejected_batches_total counter\n");
  for (size_t i = 0; i < N_REASONS; i++)
    fprintf(f, "hud_ingest_rejected_batches_total{reason=\"%s\"} %llu\n", k_reasons[i],
            (unsigned long long)atomic_load(&g_rejected[i]));
  fprintf(f, "# HELP hud_auth_refused_total Requests refused because the API key lacks the route's role, by role.\n"
             "# TYPE hud_auth_refused_total counter\n");
  for (size_t i = 0; i < N_ROLES; i++)
    fprintf(f, "hud_auth_refused_total{role=\"%s\"} %llu\n", k_roles[i], (unsigned long long)atomic_load(&g_refused[i]));
  fprintf(f, "# HELP hud_detect_passes_total Detection passes (one service each).\n"
             "# TYPE hud_detect_passes_total counter\nhud_detect_passes_total %llu\n"
             "# HELP hud_detect_pass_seconds_total Time spent in detection passes.\n"
             "# TYPE hud_detect_pass_seconds_total counter\nhud_detect_pass_seconds_total %.6f\n"
             "# HELP hud_issues_events_total Issue lifecycle events made by detection, by event.\n"
             "# TYPE hud_issues_events_total counter\n"
             "hud_issues_events_total{event=\"opened\"} %llu\nhud_issues_events_total{event=\"reopened\"} %llu\n"
             "hud_issues_events_total{event=\"resolved\"} %llu\nhud_issues_events_total{event=\"regressed\"} %llu\n"
             "# HELP hud_issues_alerts_total Alerts detection decided to send (one per issue event, before the\n"
             "# webhooks; counted without webhooks too).\n"
             "# TYPE hud_issues_alerts_total counter\nhud_issues_alerts_total %llu\n",
          (unsigned long long)atomic_load(&g_detect_passes), (double)atomic_load(&g_detect_us) / 1e6,
          (unsigned long long)atomic_load(&g_detect_opened), (unsigned long long)atomic_load(&g_detect_reopened),
          (unsigned long long)atomic_load(&g_detect_resolved), (unsigned long long)atomic_load(&g_detect_regressed),
          (unsigned long long)atomic_load(&g_detect_alerted));
  fprintf(f, "# HELP hud_alert_deliveries_total Webhook deliveries (one per issue event and webhook), by outcome;\n"
             "# retried counts attempts to be repeated, dropped those never sent (queue full or server stopping).\n"
             "# TYPE hud_alert_deliveries_total counter\n");
  for (size_t i = 0; i < N_ALERT_OUTCOMES; i++)
    fprintf(f, "hud_alert_deliveries_total{outcome=\"%s\"} %llu\n", k_alert_outcomes[i],
            (unsigned long long)atomic_load(&g_alerts[i]));
  if (fclose(f) != 0) {
    free(buf);
    return HUD_ENOMEM;
  }
  *out = buf;
  *len = n;
  return 0;
}

static int handle_metrics(const srv_request *req, srv_response *resp) {
  char *text;
  size_t len;
  int rc = srv_metrics_render(&text, &len);
  if (rc < 0) return rc;
  resp->status = 200;
  resp->body = text;
  resp->body_len = len;
  resp->content_type = "text/plain; version=0.0.4";
  return 0;
}

/* Healthy = the store answers a read. */
static int handle_healthz(const srv_request *req, srv_response *resp) {
  int rc = srv_store_ping(req->store);
  if (rc < 0) return srv_response_error(resp, 503, hud_api_error_code(HUD_ESTORE), "store: %s", hud_strerror(rc));
  return srv_response_json(resp, 200, strdup("{\"status\":\"ok\"}"));
}

const srv_route srv_metrics_routes[] = {
    {"GET", "/metrics", handle_metrics, SRV_ROUTE_PUBLIC, 0, "metrics"},
    {"GET", "/healthz", handle_healthz, SRV_ROUTE_PUBLIC, 0, "healthz"},
    {0},
};
