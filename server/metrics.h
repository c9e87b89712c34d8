/* Process-wide counters for /metrics (Prometheus text format). Lock-free or briefly locked: safe
 * from any thread. */
#ifndef SRV_METRICS_H
#define SRV_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* One answered request: ROUTE is the route's metrics name (static string), STATUS the HTTP status. */
void srv_metrics_request(const char *route, int status, double seconds);
/* Invocation rows stored by an acknowledged batch. */
void srv_metrics_ingest_rows(uint64_t rows);
void srv_metrics_ingest_batch(int duplicate);
/* A batch refused; REASON one of "parse", "invalid", "too_large", "auth", "version", "store", "busy"
 * (429: bodies in flight over the budget, or the ingest queue full). */
void srv_metrics_rejected(const char *reason);
/* A request refused (403) because its API key lacks ROLE ("ingest", "read", "triage" or "admin"). */
void srv_metrics_auth_refused(const char *role);
/* Duration of one store operation (ingest transaction, maintenance). */
void srv_metrics_store_latency(double seconds);
/* What one detection pass changed: issue events by kind, and the alerts it decided to send. */
typedef struct srv_detect_counts {
  unsigned opened, reopened, resolved, regressed, alerted;
} srv_detect_counts;
/* One detection pass over one service (server/issues_runner.c) and what it changed. */
void srv_metrics_detect_pass(double seconds, const srv_detect_counts *c);
/* A webhook delivery's OUTCOME: "delivered", "failed" (given up), "retried" (an attempt to be repeated) or
 * "dropped" (the queue was full, or the server stopped before it could be sent). */
void srv_metrics_alert(const char *outcome);
/* Renders every metric; *OUT malloc'ed (caller frees). */
int srv_metrics_render(char **out, size_t *len);

#endif
