/* The alerts' queue and delivery thread: one request at a time (libcurl multi, so a stop cuts a request short),
 * earliest due first, retried with exponential backoff and jitter. Policy and headers: docs/alerts.md. */
#define _GNU_SOURCE
#include "alerts.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hud/err.h"
#include "hud/version.h"
#include "metrics.h"

typedef struct delivery {
  size_t target;
  char *body;
  size_t body_len;
  char id[37];
  char event[48];
  int attempts;
  int64_t queued_at, next_at; /* monotonic ms */
} delivery;

struct srv_alerts {
  srv_alert_target *targets;
  size_t n_targets;
  srv_alerts_limits lim;
  pthread_mutex_t mu;
  pthread_cond_t cv;   /* work queued or stop */
  pthread_cond_t idle; /* the queue emptied */
  delivery **q;        /* pending, oldest first; not the one in flight */
  size_t nq;
  int in_flight, stopping;
  int64_t drain_end;   /* monotonic ms, set by srv_alerts_free */
  srv_alerts_stats st;
  CURL *easy;
  CURLM *multi;
  unsigned seed;
  pthread_t thread;
};

typedef enum outcome { SENT, RETRY, GIVE_UP } outcome;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline_ts(int64_t at_ms, struct timespec *ts) {
  ts->tv_sec = (time_t)(at_ms / 1000);
  ts->tv_nsec = (long)(at_ms % 1000) * 1000000L;
}

static void delivery_free(delivery *d) {
  if (!d) return;
  free(d->body);
  free(d);
}

static void set_defaults(srv_alerts_limits *l) {
  if (!l->queue_max) l->queue_max = 256;
  if (!l->max_attempts) l->max_attempts = 6;
  if (!l->backoff_base_ms) l->backoff_base_ms = 5000;
  if (!l->backoff_max_ms) l->backoff_max_ms = 300000;
  if (!l->retry_after_max_ms) l->retry_after_max_ms = 300000;
  if (!l->attempt_timeout_ms) l->attempt_timeout_ms = 10000;
  if (!l->deadline_ms) l->deadline_ms = 900000;
  if (!l->drain_ms) l->drain_ms = 3000;
}

/* A random (version 4) UUID: the delivery id, the same for every attempt of one delivery. */
static void uuid4(char out[37]) {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1)
    for (size_t i = 0; i < sizeof b; i++) b[i] = (unsigned char)rand();
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
           b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* ---- one attempt ---- */

typedef struct reply {
  int64_t retry_after_ms; /* -1: none */
} reply;

static size_t on_header(char *line, size_t size, size_t n, void *ud) {
  reply *r = ud;
  size_t len = size * n;
  if (len > 12 && strncasecmp(line, "Retry-After:", 12) == 0) {
    char v[64];
    snprintf(v, sizeof v, "%.*s", (int)(len - 12), line + 12);
    v[strcspn(v, "\r\n")] = 0;
    char *s = v + strspn(v, " \t"), *end;
    long secs = strtol(s, &end, 10);
    if (end != s && *end == 0 && secs >= 0) {
      r->retry_after_ms = (int64_t)secs * 1000;
    } else {
      time_t at = curl_getdate(s, NULL); /* an HTTP date */
      if (at > 0) r->retry_after_ms = at > time(NULL) ? (int64_t)(at - time(NULL)) * 1000 : 0;
    }
  }
  return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud) { return size * n; }

static struct curl_slist *headers_for(const srv_alert_target *t, const delivery *d) {
  char h[160];
  struct curl_slist *l = curl_slist_append(NULL, "Content-Type: application/json");
  l = curl_slist_append(l, "User-Agent: hud-server/" HUD_VERSION_STRING);
  snprintf(h, sizeof h, "X-Hud-Event: %s", d->event);
  l = curl_slist_append(l, h);
  snprintf(h, sizeof h, "X-Hud-Delivery: %s", d->id);
  l = curl_slist_append(l, h);
  int64_t ts = (int64_t)time(NULL);
  snprintf(h, sizeof h, "X-Hud-Timestamp: %lld", (long long)ts);
  l = curl_slist_append(l, h);
  char sig[72];
  if (t->secret && t->secret[0] && srv_alert_sign(t->secret, ts, d->body, d->body_len, sig) == 0) {
    snprintf(h, sizeof h, "X-Hud-Signature: %s", sig);
    l = curl_slist_append(l, h);
  }
  l = curl_slist_append(l, "Expect:"); /* no 100-continue round trip */
  return l;
}

/* Runs the transfer, cut short when the stop's drain time is over. */
static CURLcode perform(srv_alerts *a) {
  curl_multi_add_handle(a->multi, a->easy);
  CURLcode res = CURLE_OPERATION_TIMEDOUT;
  for (int running = 1; running;) {
    if (curl_multi_perform(a->multi, &running) != CURLM_OK) break;
    pthread_mutex_lock(&a->mu);
    int cut = a->stopping && now_ms() >= a->drain_end;
    pthread_mutex_unlock(&a->mu);
    if (!running || cut) break;
    curl_multi_poll(a->multi, NULL, 0, 100, NULL);
  }
  int left;
  for (CURLMsg *m; (m = curl_multi_info_read(a->multi, &left));)
    if (m->msg == CURLMSG_DONE) res = m->data.result;
  curl_multi_remove_handle(a->multi, a->easy);
  return res;
}

static outcome attempt(srv_alerts *a, delivery *d, int64_t *retry_after_ms, char *why, size_t whylen) {
  const srv_alert_target *t = &a->targets[d->target];
  reply r = {-1};
  struct curl_slist *h = headers_for(t, d);
  CURL *e = a->easy;
  curl_easy_reset(e);
  curl_easy_setopt(e, CURLOPT_URL, t->url);
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->body);
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->body_len);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)a->lim.attempt_timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)a->lim.attempt_timeout_ms);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &r);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  CURLcode res = perform(a);
  curl_slist_free_all(h);
  long status = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  *retry_after_ms = -1;
  if (res != CURLE_OK) {
    snprintf(why, whylen, "%s", curl_easy_strerror(res));
    return RETRY; /* connection refused, DNS, TLS, timeout, reset: the receiver may come back */
  }
  snprintf(why, whylen, "HTTP %ld", status);
  if (status >= 200 && status < 300) return SENT;
  if (status == 429) *retry_after_ms = r.retry_after_ms;
  if (status >= 500 || status == 429 || status == 408) return RETRY;
  return GIVE_UP; /* another 4xx (or a redirect, not followed): the same request would fail again */
}

/* The wait before attempt number D->attempts + 1. */
static int64_t backoff_ms(srv_alerts *a, const delivery *d, int64_t retry_after_ms) {
  if (retry_after_ms >= 0)
    return retry_after_ms < a->lim.retry_after_max_ms ? retry_after_ms : a->lim.retry_after_max_ms;
  int64_t w = a->lim.backoff_base_ms;
  for (int i = 1; i < d->attempts && w < a->lim.backoff_max_ms; i++) w *= 2;
  if (w > a->lim.backoff_max_ms) w = a->lim.backoff_max_ms;
  /* Equal jitter: half fixed, half random, so many servers do not retry in step. */
  return w / 2 + (int64_t)(rand_r(&a->seed) % (unsigned)(w / 2 + 1));
}

/* ---- the thread ---- */

static void finish(srv_alerts *a, delivery *d, outcome o, const char *why) {
  char origin[200];
  srv_alert_target_origin(&a->targets[d->target], origin, sizeof origin);
  pthread_mutex_lock(&a->mu);
  if (o == SENT) a->st.delivered++;
  else a->st.failed++;
  pthread_mutex_unlock(&a->mu);
  srv_metrics_alert(o == SENT ? "delivered" : "failed");
  if (o != SENT)
    fprintf(stderr, "hud-server: webhook %s (%s): delivery %s of %s given up after %d attempt(s): %s\n", origin,
            a->targets[d->target].env, d->id, d->event, d->attempts, why);
  delivery_free(d);
}

static void deliver(srv_alerts *a, delivery *d) {
  int64_t retry_after;
  char why[200];
  d->attempts++;
  pthread_mutex_lock(&a->mu);
  a->st.attempts++;
  pthread_mutex_unlock(&a->mu);
  outcome o = attempt(a, d, &retry_after, why, sizeof why);
  if (o == RETRY && d->attempts < a->lim.max_attempts) {
    d->next_at = now_ms() + backoff_ms(a, d, retry_after);
    if (d->next_at <= d->queued_at + a->lim.deadline_ms) {
      srv_metrics_alert("retried");
      pthread_mutex_lock(&a->mu);
      /* Back in the queue: it was taken out, so there is room unless enqueue filled it meanwhile. */
      delivery **q = realloc(a->q, (a->nq + 1) * sizeof *q);
      if (q) {
        a->q = q;
        a->q[a->nq++] = d;
        pthread_mutex_unlock(&a->mu);
        return;
      }
      pthread_mutex_unlock(&a->mu);
    }
  }
  finish(a, d, o == SENT ? SENT : GIVE_UP, why);
}

/* Index of the pending delivery due first; nq must be > 0. */
static size_t earliest(const srv_alerts *a) {
  size_t best = 0;
  for (size_t i = 1; i < a->nq; i++)
    if (a->q[i]->next_at < a->q[best]->next_at) best = i;
  return best;
}

static void drop_all_locked(srv_alerts *a) {
  for (size_t i = 0; i < a->nq; i++) {
    delivery_free(a->q[i]);
    a->st.dropped++;
    srv_metrics_alert("dropped");
  }
  a->nq = 0;
}

static void *run(void *arg) {
  srv_alerts *a = arg;
  pthread_mutex_lock(&a->mu);
  for (;;) {
    int64_t now = now_ms();
    if (a->stopping && (a->nq == 0 || now >= a->drain_end)) break;
    if (a->nq == 0) {
      pthread_cond_broadcast(&a->idle);
      pthread_cond_wait(&a->cv, &a->mu);
      continue;
    }
    size_t i = earliest(a);
    int64_t due = a->q[i]->next_at;
    if (a->stopping && due >= a->drain_end) break;
    if (due > now) {
      struct timespec ts;
      deadline_ts(due, &ts);
      pthread_cond_timedwait(&a->cv, &a->mu, &ts);
      continue;
    }
    delivery *d = a->q[i];
    memmove(a->q + i, a->q + i + 1, (a->nq - i - 1) * sizeof *a->q);
    a->nq--;
    a->in_flight = 1;
    pthread_mutex_unlock(&a->mu);
    deliver(a, d);
    pthread_mutex_lock(&a->mu);
    a->in_flight = 0;
  }
  drop_all_locked(a);
  pthread_cond_broadcast(&a->idle);
  pthread_mutex_unlock(&a->mu);
  return NULL;
}

/* ---- the handle ---- */

static int copy_targets(srv_alerts *a, const srv_alert_target *t, size_t n) {
  a->targets = calloc(n ? n : 1, sizeof *a->targets);
  if (!a->targets) return HUD_ENOMEM;
  a->n_targets = n;
  for (size_t i = 0; i < n; i++) {
    srv_alert_target *c = &a->targets[i];
    c->format = t[i].format;
    if (!t[i].env || !t[i].url) return HUD_EINVAL;
    if (!(c->env = strdup(t[i].env)) || !(c->url = strdup(t[i].url))) return HUD_ENOMEM;
    if (t[i].secret && t[i].secret[0] && !(c->secret = strdup(t[i].secret))) return HUD_ENOMEM;
  }
  return 0;
}

static void destroy(srv_alerts *a) {
  for (size_t i = 0; i < a->n_targets; i++) srv_alert_target_clear(&a->targets[i]);
  free(a->targets);
  for (size_t i = 0; i < a->nq; i++) delivery_free(a->q[i]);
  free(a->q);
  if (a->easy) curl_easy_cleanup(a->easy);
  if (a->multi) curl_multi_cleanup(a->multi);
  pthread_cond_destroy(&a->cv);
  pthread_cond_destroy(&a->idle);
  pthread_mutex_destroy(&a->mu);
  free(a);
}

int srv_alerts_new_limits(const srv_alert_target *targets, size_t n, const srv_alerts_limits *limits,
                          srv_alerts **out) {
  *out = NULL;
  srv_alerts *a = calloc(1, sizeof *a);
  if (!a) return HUD_ENOMEM;
  if (limits) a->lim = *limits;
  set_defaults(&a->lim);
  pthread_mutex_init(&a->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&a->cv, &ca);
  pthread_cond_init(&a->idle, &ca);
  pthread_condattr_destroy(&ca);
  a->seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)a;
  int rc = copy_targets(a, targets, n);
  if (rc == 0 && (!(a->easy = curl_easy_init()) || !(a->multi = curl_multi_init()))) rc = HUD_ENOMEM;
  if (rc == 0 && pthread_create(&a->thread, NULL, run, a) != 0) rc = HUD_ENOMEM;
  if (rc < 0) {
    destroy(a);
    return rc;
  }
  *out = a;
  return 0;
}

int srv_alerts_new(const srv_alert_target *targets, size_t n, srv_alerts **out) {
  return srv_alerts_new_limits(targets, n, NULL, out);
}

static int env_matches(const char *target_env, const char *env) {
  return strcmp(target_env, "*") == 0 || strcmp(target_env, env) == 0;
}

static delivery *make_delivery(const srv_alert_issue *is, const srv_alert_target *t, size_t ti, int *rc) {
  delivery *d = calloc(1, sizeof *d);
  if (!d) {
    *rc = HUD_ENOMEM;
    return NULL;
  }
  uuid4(d->id);
  snprintf(d->event, sizeof d->event, "issue.%s", is->event);
  d->target = ti;
  d->queued_at = d->next_at = now_ms();
  *rc = srv_alert_body(is, t->format, d->id, &d->body);
  if (*rc < 0) {
    free(d);
    return NULL;
  }
  d->body_len = strlen(d->body);
  return d;
}

/* Adds D, dropping the oldest pending delivery when the queue is full. */
static int push(srv_alerts *a, delivery *d) {
  pthread_mutex_lock(&a->mu);
  if (a->nq >= a->lim.queue_max) {
    delivery_free(a->q[0]);
    memmove(a->q, a->q + 1, (a->nq - 1) * sizeof *a->q);
    a->nq--;
    a->st.dropped++;
    srv_metrics_alert("dropped");
  }
  delivery **q = realloc(a->q, (a->nq + 1) * sizeof *q);
  if (!q) {
    pthread_mutex_unlock(&a->mu);
    delivery_free(d);
    return HUD_ENOMEM;
  }
  a->q = q;
  a->q[a->nq++] = d;
  a->st.queued++;
  pthread_cond_signal(&a->cv);
  pthread_mutex_unlock(&a->mu);
  return 0;
}

/* The event goes into a header: a short lowercase word. */
static int event_ok(const char *e) {
  size_t n = strlen(e);
  if (n == 0 || n > 32) return 0;
  for (; *e; e++)
    if (!((*e >= 'a' && *e <= 'z') || *e == '_')) return 0;
  return 1;
}

int srv_alerts_enqueue(srv_alerts *a, const srv_alert_issue *is) {
  if (!a) return 0;
  if (!is || !is->env || !is->service || !is->event || !is->issue_id || !is->headline || !event_ok(is->event))
    return HUD_EINVAL;
  for (size_t i = 0; i < a->n_targets; i++) {
    if (!env_matches(a->targets[i].env, is->env)) continue;
    int rc;
    delivery *d = make_delivery(is, &a->targets[i], i, &rc);
    if (!d || (rc = push(a, d)) < 0) return rc;
  }
  return 0;
}

int srv_alerts_flush(srv_alerts *a, int timeout_ms) {
  if (!a) return 0;
  int64_t end = now_ms() + timeout_ms;
  struct timespec ts;
  deadline_ts(end, &ts);
  pthread_mutex_lock(&a->mu);
  int rc = 0;
  while ((a->nq || a->in_flight) && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&a->idle, &a->mu, &ts);
  int busy = a->nq || a->in_flight;
  pthread_mutex_unlock(&a->mu);
  return busy ? HUD_ETIMEOUT : 0;
}

void srv_alerts_stats_get(srv_alerts *a, srv_alerts_stats *out) {
  memset(out, 0, sizeof *out);
  if (!a) return;
  pthread_mutex_lock(&a->mu);
  *out = a->st;
  pthread_mutex_unlock(&a->mu);
}

void srv_alerts_free(srv_alerts *a) {
  if (!a) return;
  pthread_mutex_lock(&a->mu);
  a->stopping = 1;
  a->drain_end = now_ms() + a->lim.drain_ms;
  pthread_cond_broadcast(&a->cv);
  pthread_mutex_unlock(&a->mu);
  curl_multi_wakeup(a->multi);
  pthread_join(a->thread, NULL);
  destroy(a);
}
