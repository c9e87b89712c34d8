/* The detection runner (issues_runner.h): a thread, per-service debounce, and the pass. */
#define _GNU_SOURCE
#include "issues_runner.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hud/codec.h"
#include "hud/err.h"
#include "issue_blob.h"
#include "issues_store.h"
#include "metrics.h"
#include "query_internal.h"

#define RN_CANARY_RECENT_S 900 /* both versions served in the last 15 minutes: side by side */
#define RN_WINDOW_RECENT_S 3600
#define RN_WINDOW_BEFORE_S 86400
#define RN_MIN_OVERLAP_S 300 /* a deploy hands over within a minute or two; a canary serves beside the stable version */

typedef struct rn_service {
  int64_t sid;
  int dirty;
  double last; /* monotonic time of its last pass */
} rn_service;

struct srv_issues_runner {
  srv_issues_runner_options o;
  pthread_t th;
  int started, stop;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  rn_service *svc;
  size_t n_svc, cap_svc;
};

static double rn_mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static hud_time_ns rn_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (hud_time_ns)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- one pass ---- */

/* A finding of this pass under its issue id. */
typedef struct rn_found {
  hud_uuid id;
  const srv_issue *is;
  hud_comparison_kind cmp;
  const char *payload; /* {"issues": [hud_issue]} (status fields are the stored row's at read time) */
  const void *finding;
  size_t finding_len;
  const char *kind, *function_id, *flow_id, *exception_type, *base_label, *cand_label;
  srv_alert_issue alert; /* event set when the write opens or reopens it */
} rn_found;

typedef struct rn_pass {
  srv_issues_runner *r;
  int64_t sid;
  const char *env, *service;
  hud_time_ns now;
  hud_arena *a;
  rn_found *found;
  size_t n_found;
  const char **returned; /* ids of active issues whose metric returned */
  size_t n_returned;
  /* Events made by the write, for alerts and metrics. */
  const rn_found **alert;
  const char **alert_event;
  size_t n_alert;
  unsigned opened, reopened, resolved;
} rn_pass;

static const char *rn_cmp_name(hud_comparison_kind c) {
  return c == HUD_COMPARE_WINDOWS ? "windows" : c == HUD_COMPARE_VERSIONS ? "versions" : "canary";
}

static hud_comparison_kind rn_cmp_of(const char *s) {
  return strcmp(s, "windows") == 0 ? HUD_COMPARE_WINDOWS : strcmp(s, "versions") == 0 ? HUD_COMPARE_VERSIONS
                                                                                       : HUD_COMPARE_CANARY;
}

static char *rn_dup_free(hud_arena *a, char *s) {
  char *d = s ? hud_arena_strdup(a, s) : NULL;
  free(s);
  return d;
}

/* Adds the findings of RES (comparison CMP); a root cause already found by an earlier comparison of
 * this pass keeps that finding. */
static int rn_add_found(rn_pass *p, q_ctx *q, const srv_det_result *res, hud_comparison_kind cmp) {
  rn_found *nf = hud_arena_calloc(p->a, p->n_found + res->n_issues + 1, sizeof *nf);
  if (!nf) return HUD_ENOMEM;
  if (p->n_found) memcpy(nf, p->found, p->n_found * sizeof *nf);
  p->found = nf;
  for (size_t i = 0; i < res->n_issues; i++) {
    rn_found *f = &p->found[p->n_found];
    q_issue_id(p->env, p->service, &res->issues[i], f->id);
    size_t k = 0;
    while (k < p->n_found && strcmp(p->found[k].id, f->id) != 0) k++;
    if (k < p->n_found) continue;
    const srv_issue *is = f->is = &res->issues[i];
    f->cmp = cmp;
    hud_issue *h = hud_arena_calloc(p->a, 1, sizeof *h);
    if (!h) return HUD_ENOMEM;
    q_issue_meta m = {f->id, cmp, "open", p->now, p->now, p->now, 0, p->r->o.public_url};
    int rc = q_issue_from_finding(q, is, &m, h);
    if (rc < 0) return rc;
    f->kind = srv_issue_kind_name(is->kind);
    f->function_id = is->function_id ? hud_arena_strdup(p->a, is->function_id) : NULL;
    f->flow_id = !is->function_id && is->n_flows ? hud_arena_strdup(p->a, is->flows[0].flow_id) : NULL;
    f->exception_type = is->exception_type ? hud_arena_strdup(p->a, is->exception_type) : NULL;
    f->base_label = is->base_label ? hud_arena_strdup(p->a, is->base_label) : NULL;
    f->cand_label = is->cand_label ? hud_arena_strdup(p->a, is->cand_label) : NULL;
    q_issue_alert_view(h, p->env, p->service, rn_cmp_name(cmp), &f->alert);
    f->alert.exception_type = f->exception_type;
    f->alert.base_label = f->base_label;
    f->alert.cand_label = f->cand_label;
    hud_issues_response one = {1, h};
    char *json = NULL;
    hud_codec_error e;
    if ((rc = hud_issues_response_encode(&one, &json, NULL, &e)) < 0) {
      fprintf(stderr, "hud-server: detection: cannot encode an issue: %s\n", e.message);
      return rc;
    }
    if (!(f->payload = rn_dup_free(p->a, json))) return HUD_ENOMEM;
    unsigned char *blob;
    size_t len;
    if ((rc = srv_issue_blob_encode(f->is, &blob, &len)) < 0) return rc;
    void *copy = hud_arena_alloc(p->a, len ? len : 1);
    if (copy) memcpy(copy, blob, len);
    free(blob);
    if (!copy) return HUD_ENOMEM;
    f->finding = copy;
    f->finding_len = len;
    p->n_found++;
  }
  return 0;
}

/* Active stored issues not found in this pass whose metric returned on the newest data. */
static int rn_check_returned(rn_pass *p, q_ctx *q, const srv_det_snapshot *ver_cand,
                             const srv_det_snapshot *win_cand) {
  srv_issue_row *rows;
  size_t n;
  int rc = sq_issues_list(q, p->sid, SRV_ISSUES_ACTIVE, 0, 1, &rows, &n);
  if (rc < 0) return rc;
  p->returned = hud_arena_calloc(p->a, n ? n : 1, sizeof *p->returned);
  if (!p->returned) return HUD_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    size_t k = 0;
    while (k < p->n_found && strcmp(p->found[k].id, rows[i].issue_id) != 0) k++;
    if (k < p->n_found || !rows[i].finding) continue;
    srv_issue is;
    if (srv_issue_blob_decode(rows[i].finding, rows[i].finding_len, p->a, &is) < 0) continue;
    const srv_det_snapshot *cand = rn_cmp_of(rows[i].comparison) == HUD_COMPARE_WINDOWS ? win_cand : ver_cand;
    int back = 0;
    if (!cand || srv_detect_still(&is, cand, NULL, &back) < 0 || !back) continue;
    p->returned[p->n_returned++] = hud_arena_strdup(p->a, rows[i].issue_id);
  }
  return 0;
}

static int64_t rn_max(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t rn_min(int64_t a, int64_t b) { return a < b ? a : b; }

/* Reads, detects and prepares the writes of service P->sid through Q. */
static int rn_detect(rn_pass *p, q_ctx *q, const char **envs) {
  int64_t window = p->r->o.window_s, now_s = p->now / 1000000000LL;
  int rc = sq_service_of(q, p->sid, &p->env, &p->service);
  if (rc < 0) return rc == HUD_ENOTFOUND ? 0 : rc;
  envs[0] = p->env;
  int64_t cur, prev = 0, fs, ls, cf, ct, pf = 0, pt = 0;
  const char *cur_name, *prev_name = NULL;
  rc = sq_latest_version(q, p->sid, &cur, &cur_name, &fs, &ls);
  if (rc < 0) return rc == HUD_ENOTFOUND ? 0 : rc;
  if ((rc = sq_version_span(q, cur, &cf, &ct)) < 0) return rc;
  rc = sq_previous_version(q, p->sid, cur, &prev, &prev_name, &fs, &ls);
  if (rc == 0) rc = sq_version_span(q, prev, &pf, &pt);
  if (rc == HUD_ENOTFOUND) prev = 0, rc = 0;
  if (rc < 0) return rc;
  sq_side sides[4];
  size_t n = 0;
  hud_comparison_kind vcmp = HUD_COMPARE_VERSIONS;
  if (prev) {
    int64_t recent = now_s - RN_CANARY_RECENT_S, a = rn_max(cf, pf), b = rn_min(ct, pt);
    a = rn_max(a, b - window);
    if (ct > recent && pt > recent && b - a >= RN_MIN_OVERLAP_S) {
      vcmp = HUD_COMPARE_CANARY;
      sides[0] = (sq_side){prev, a, b, prev_name};
      sides[1] = (sq_side){cur, a, b, cur_name};
    } else {
      sides[0] = (sq_side){prev, rn_max(pf, pt - window), pt, prev_name};
      sides[1] = (sq_side){cur, rn_max(cf, ct - window), ct, cur_name};
    }
    n = 2;
  }
  size_t w = n;
  sides[n++] = (sq_side){cur, now_s - RN_WINDOW_RECENT_S - RN_WINDOW_BEFORE_S, now_s - RN_WINDOW_RECENT_S,
                         "the 24 h before"};
  sides[n++] = (sq_side){cur, now_s - RN_WINDOW_RECENT_S, now_s + 1, "the last hour"};
  int64_t lo = sides[0].from_s;
  for (size_t k = 1; k < n; k++) lo = rn_min(lo, sides[k].from_s);
  hud_query_scope sc = {.environment = p->env, .service = p->service, .from = lo * 1000000000LL,
                        .to = (now_s + 1) * 1000000000LL};
  if ((rc = q_scope(q, &sc)) < 0) return rc;
  srv_det_snapshot snaps[4];
  if ((rc = sq_det_snapshots(q, sides, n, snaps)) < 0) return rc;
  /* Each side's own span: the sides of a version comparison are spans already; windows are cut
   * to the version's span. */
  for (size_t k = 0; k < n; k++) {
    int64_t a = k < w ? sides[k].from_s : rn_max(sides[k].from_s, cf);
    int64_t b = k < w ? sides[k].to_s : rn_min(sides[k].to_s, ct);
    snaps[k].from_ms = a < b ? a * 1000 : 0;
    snaps[k].to_ms = a < b ? b * 1000 : 0;
    srv_det_fn *fns;
    size_t nf;
    if ((rc = sq_det_fns(q, sides[k].version_id, &fns, &nf)) < 0) return rc;
    snaps[k].fns = fns;
    snaps[k].n_fns = nf;
  }
  srv_det_result rv = {0}, rw = {0};
  if (w == 2) rc = srv_detect_run(&snaps[0], &snaps[1], NULL, &rv);
  if (rc == 0) rc = srv_detect_run(&snaps[w], &snaps[w + 1], NULL, &rw);
  if (rc == 0 && w == 2) rc = rn_add_found(p, q, &rv, vcmp);
  if (rc == 0) rc = rn_add_found(p, q, &rw, HUD_COMPARE_WINDOWS);
  if (rc == 0) rc = rn_check_returned(p, q, w == 2 ? &snaps[1] : NULL, &snaps[w + 1]);
  /* What the write needs was copied (payload, blob, ids, the alert view). */
  for (size_t i = 0; i < p->n_found; i++) p->found[i].is = NULL;
  srv_det_result_free(&rv);
  srv_det_result_free(&rw);
  return rc;
}

static int rn_alert_add(rn_pass *p, const rn_found *f, const char *event) {
  p->alert[p->n_alert] = f;
  p->alert_event[p->n_alert++] = event;
  return 0;
}

/* The write transaction: the stored rows are read again here, so a status changed by the API since
 * the pass's reads is respected. */
static int rn_apply(sqlite3 *db, void *arg) {
  rn_pass *p = arg;
  p->n_alert = p->opened = p->reopened = p->resolved = 0;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < p->n_found; i++) {
    const rn_found *f = &p->found[i];
    const srv_issue_row *fr = NULL;
    srv_issue_row old;
    int got = srv_issues_get(db, p->sid, f->id, p->a, &old);
    if (got < 0 && got != HUD_ENOTFOUND) return got;
    srv_issue_row row = {0};
    memcpy(row.issue_id, f->id, sizeof row.issue_id);
    row.kind = f->kind;
    row.function_id = f->function_id;
    row.flow_id = f->flow_id;
    row.exception_type = f->exception_type;
    row.comparison = rn_cmp_name(f->cmp);
    row.last_seen = p->now;
    row.base_label = f->base_label;
    row.cand_label = f->cand_label;
    row.finding = f->finding;
    row.finding_len = f->finding_len;
    row.payload = f->payload;
    const char *event = NULL, *note = NULL;
    if (got == HUD_ENOTFOUND) {
      row.status = "open";
      row.first_seen = row.status_changed_at = p->now;
      event = "opened";
      p->opened++;
    } else {
      fr = &old;
      row.first_seen = fr->first_seen;
      row.times_reopened = fr->times_reopened;
      row.status = fr->status;
      row.status_changed_at = fr->status_changed_at;
      if (strcmp(fr->status, "resolved") == 0) {
        row.status = "open";
        row.status_changed_at = p->now;
        row.times_reopened++;
        event = "reopened";
        p->reopened++;
      } else if (!fr->cand_label || !row.cand_label || strcmp(fr->cand_label, row.cand_label) != 0 ||
                 strcmp(fr->comparison, row.comparison) != 0) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s: %s -> %s", row.comparison, row.base_label ? row.base_label : "?",
                 row.cand_label ? row.cand_label : "?");
        event = "updated";
        note = hud_arena_strdup(p->a, buf);
      }
    }
    if ((rc = srv_issues_put(db, p->sid, &row)) < 0) break;
    if (event) rc = srv_issues_event_add(db, f->id, p->now, event, note);
    if (rc == 0 && event && strcmp(event, "updated") != 0 && strcmp(row.status, "muted") != 0)
      rn_alert_add(p, f, event);
  }
  for (size_t i = 0; rc == 0 && i < p->n_returned; i++) {
    srv_issue_row old;
    int got = srv_issues_get(db, p->sid, p->returned[i], p->a, &old);
    if (got == HUD_ENOTFOUND) continue;
    if (got < 0) return got;
    if (strcmp(old.status, "open") != 0 && strcmp(old.status, "acknowledged") != 0) continue;
    rc = srv_issues_set_status(db, p->returned[i], "resolved", p->now);
    if (rc == 0) rc = srv_issues_event_add(db, p->returned[i], p->now, "resolved", "the metric returned");
    p->resolved++;
  }
  return rc;
}

static void rn_alerts(rn_pass *p) {
  for (size_t i = 0; i < p->n_alert; i++) {
    const rn_found *f = p->alert[i];
    srv_alert_issue ai = f->alert;
    ai.event = p->alert_event[i];
    int rc = srv_alerts_enqueue(p->r->o.alerts, &ai);
    if (rc < 0) fprintf(stderr, "hud-server: detection: alert for issue %s not queued: %s\n", f->id, hud_strerror(rc));
  }
}

int srv_issues_runner_pass(srv_issues_runner *r, int64_t sid) {
  double t0 = rn_mono();
  const char *envs[1] = {""};
  srv_request req = {.method = "GET", .path = "", .envs = envs, .n_envs = 1, .store = r->o.store};
  srv_response resp = {0};
  q_ctx q;
  int rc = q_begin(&req, &resp, &q);
  if (rc < 0) {
    free(resp.body);
    return rc;
  }
  rn_pass p = {.r = r, .sid = sid, .now = rn_now_ns(), .a = q.arena};
  rc = rn_detect(&p, &q, envs);
  /* The read transaction ends before the write (a long-lived snapshot keeps the WAL from being reset). */
  srv_store_read_snapshot_end(q.rd);
  if (rc == 0 && (p.n_found || p.n_returned)) {
    p.alert = hud_arena_calloc(p.a, p.n_found + 1, sizeof *p.alert);
    p.alert_event = hud_arena_calloc(p.a, p.n_found + 1, sizeof *p.alert_event);
    rc = p.alert && p.alert_event ? srv_store_sqlite_write(r->o.store, rn_apply, &p) : HUD_ENOMEM;
    if (rc == 0) rn_alerts(&p);
  }
  if (rc < 0 && resp.err_code[0] == 0)
    fprintf(stderr, "hud-server: detection: service %lld: %s\n", (long long)sid, hud_strerror(rc));
  else if (rc < 0)
    fprintf(stderr, "hud-server: detection: service %lld: %s\n", (long long)sid, resp.body ? resp.body : "");
  if (p.opened || p.reopened || p.resolved)
    fprintf(stderr, "hud-server: detection: %s/%s: %u opened, %u reopened, %u resolved (%.1f ms)\n",
            p.env ? p.env : "?", p.service ? p.service : "?", p.opened, p.reopened, p.resolved,
            (rn_mono() - t0) * 1e3);
  q_end(&q, rc);
  free(resp.body);
  srv_metrics_detect_pass(rn_mono() - t0, p.opened, p.reopened, p.resolved);
  return rc;
}

/* ---- the thread ---- */

static void rn_on_fold(void *arg, const int64_t *sids, size_t n) {
  srv_issues_runner *r = arg;
  pthread_mutex_lock(&r->mu);
  for (size_t i = 0; i < n; i++) {
    size_t k = 0;
    while (k < r->n_svc && r->svc[k].sid != sids[i]) k++;
    if (k == r->n_svc) {
      if (r->n_svc == r->cap_svc) {
        size_t nc = r->cap_svc ? r->cap_svc * 2 : 16;
        rn_service *ns = realloc(r->svc, nc * sizeof *ns);
        if (!ns) continue; /* woken again by its next fold */
        r->svc = ns;
        r->cap_svc = nc;
      }
      r->svc[r->n_svc++] = (rn_service){sids[i], 0, -1e9};
    }
    r->svc[k].dirty = 1;
  }
  pthread_cond_signal(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

static void *rn_main(void *arg) {
  srv_issues_runner *r = arg;
  pthread_setname_np(pthread_self(), "hud-detect");
  double interval = r->o.interval_ms / 1000.0;
  pthread_mutex_lock(&r->mu);
  while (!r->stop) {
    double now = rn_mono(), wake = now + 3600;
    long due = -1;
    for (size_t k = 0; k < r->n_svc; k++) {
      if (!r->svc[k].dirty) continue;
      double at = r->svc[k].last + interval;
      if (at <= now && (due < 0 || r->svc[k].last < r->svc[due].last)) due = (long)k;
      if (at < wake) wake = at;
    }
    if (due >= 0) {
      int64_t sid = r->svc[due].sid;
      r->svc[due].dirty = 0;
      r->svc[due].last = now;
      pthread_mutex_unlock(&r->mu);
      srv_issues_runner_pass(r, sid);
      pthread_mutex_lock(&r->mu);
      continue;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double d = wake - now;
    if (d < 0.001) d = 0.001;
    ts.tv_sec += (time_t)d;
    ts.tv_nsec += (long)((d - (double)(time_t)d) * 1e9);
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(&r->cv, &r->mu, &ts);
  }
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

int srv_issues_runner_new(const srv_issues_runner_options *o, srv_issues_runner **out) {
  if (!o || !o->store || !out) return HUD_EINVAL;
  srv_issues_runner *r = calloc(1, sizeof *r);
  if (!r) return HUD_ENOMEM;
  r->o = *o;
  if (r->o.interval_ms <= 0) r->o.interval_ms = 5000;
  if (r->o.window_s <= 0) r->o.window_s = 86400;
  pthread_mutex_init(&r->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&r->cv, &ca);
  pthread_condattr_destroy(&ca);
  if (pthread_create(&r->th, NULL, rn_main, r) != 0) {
    srv_issues_runner_free(r);
    return HUD_ENOMEM;
  }
  r->started = 1;
  srv_store_on_fold(o->store, rn_on_fold, r);
  *out = r;
  return 0;
}

void srv_issues_runner_free(srv_issues_runner *r) {
  if (!r) return;
  srv_store_on_fold(r->o.store, NULL, NULL);
  if (r->started) {
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->th, NULL);
  }
  pthread_mutex_destroy(&r->mu);
  pthread_cond_destroy(&r->cv);
  free(r->svc);
  free(r);
}
