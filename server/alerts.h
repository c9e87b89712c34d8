/* Webhook alerts: one POST per new or reopened issue to each webhook of the issue's environment, in a thread
 * of its own (libcurl), retried with exponential backoff and jitter. Formats and headers: docs/alerts.md.
 *
 * srv_alerts_enqueue never blocks on the network: it builds the bodies (JSON, this is a transport edge)
 * and queues them. The queue is bounded; when full, the oldest pending delivery is dropped and counted
 * (srv_alerts_stats, hud_alert_deliveries_total{outcome="dropped"} in /metrics). */
#ifndef SRV_ALERTS_H
#define SRV_ALERTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct srv_alerts srv_alerts;

typedef enum srv_alert_format { SRV_ALERT_JSON = 0, SRV_ALERT_SLACK } srv_alert_format;

/* One webhook. Strings are owned by whoever made the target (srv_alert_target_clear for parsed ones);
 * srv_alerts_new copies them. */
typedef struct srv_alert_target {
  char *env;    /* environment whose issues go here; "*" = every environment */
  char *url;    /* http:// or https:// */
  srv_alert_format format;
  char *secret; /* HMAC key; NULL or "": requests are not signed */
} srv_alert_target;

/* What the detection runner knows of an issue when it alerts (opened, reopened, regressed). Every string
 * may be NULL except env, service, event, issue_id and headline. srv_alerts_enqueue copies what it needs. */
typedef struct srv_alert_issue {
  const char *env, *service, *event /* "opened"|"reopened"|"regressed" */, *issue_id, *kind, *headline, *function_id,
      *function_name, *module_path, *exception_type, *comparison, *base_label, *cand_label, *link_vscode,
      *link_tui, *link_api;
  double effect_ms_per_request; /* NaN: unknown */
  double effect_pct;            /* NaN: unknown; +inf: from zero */
  const char *top_flow;
  int code_changed;             /* 1, 0, -1 unknown */
  int64_t first_seen_ms;
} srv_alert_issue;

/* Delivery policy; zero fields take the defaults in brackets. */
typedef struct srv_alerts_limits {
  size_t queue_max;          /* pending deliveries, all webhooks together [256] */
  int max_attempts;          /* per delivery [6] */
  int backoff_base_ms;       /* wait before the 2nd attempt; doubles each time, with jitter [5000] */
  int backoff_max_ms;        /* one wait at most [300000] */
  int retry_after_max_ms;    /* a 429's Retry-After is honoured up to this [300000] */
  int attempt_timeout_ms;    /* one request, connecting included [10000] */
  int64_t deadline_ms;       /* a delivery is abandoned this long after it was queued [900000] */
  int drain_ms;              /* srv_alerts_free keeps delivering what is due this long at most [3000] */
} srv_alerts_limits;

/* Counts since srv_alerts_new. */
typedef struct srv_alerts_stats {
  uint64_t queued, delivered, failed, dropped, attempts;
} srv_alerts_stats;

/* Parses `ENV=URL[,format=slack|json][,secret-file=PATH][,secret-env=VAR]`. The secret is read now (a file:
 * its first line; a variable: its value). On error returns HUD_EINVAL with a reason in WHY. */
int srv_alert_target_parse(const char *spec, srv_alert_target *out, char *why, size_t whylen);
void srv_alert_target_clear(srv_alert_target *t);
/* "https://hooks.slack.com" of T's URL, for messages: a webhook's path is often its secret. */
void srv_alert_target_origin(const srv_alert_target *t, char *out, size_t len);

/* Starts the delivery thread. N may be 0 (enqueue then does nothing). *OUT: free with srv_alerts_free. */
int srv_alerts_new(const srv_alert_target *targets, size_t n, srv_alerts **out);
/* Same with a delivery policy (tests shorten the waits); LIMITS may be NULL. */
int srv_alerts_new_limits(const srv_alert_target *targets, size_t n, const srv_alerts_limits *limits,
                          srv_alerts **out);
/* Queues one delivery per webhook of IS->env; copies; never blocks on the network. 0, HUD_EINVAL (a
 * required field missing) or HUD_ENOMEM. A NULL A is a no-op (0). */
int srv_alerts_enqueue(srv_alerts *a, const srv_alert_issue *is);
/* Waits until nothing is queued or in flight, at most TIMEOUT_MS; 0 when idle, HUD_ETIMEOUT otherwise. */
int srv_alerts_flush(srv_alerts *a, int timeout_ms);
void srv_alerts_stats_get(srv_alerts *a, srv_alerts_stats *out);
/* Stops: keeps sending deliveries that are due for at most limits.drain_ms (a request in flight is cut at
 * that bound), then drops the rest (counted as dropped) and frees. NULL is a no-op. */
void srv_alerts_free(srv_alerts *a);

/* The body that would be sent for IS in FORMAT with this DELIVERY_ID; malloc'ed NUL-terminated text. */
int srv_alert_body(const srv_alert_issue *is, srv_alert_format format, const char *delivery_id, char **out);
/* "sha256=<hex>" of HMAC-SHA256(SECRET, "<TIMESTAMP>.<BODY>"); OUT holds at least 72 bytes. */
int srv_alert_sign(const char *secret, int64_t timestamp, const char *body, size_t body_len, char out[72]);

#endif
