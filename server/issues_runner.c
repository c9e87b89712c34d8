/* The detection runner (issues_runner.h): a thread, per-service debounce, and the pass. */
#define _GNU_SOURCE
#include "issues_runner.h"

#include <math.h>
#include <pthread.h>
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
#define RN_HISTORY_PAIRS 12  /* past version pairs a unit's drift is learned from */
#define RN_HISTORY_MIN 2     /* a unit needs this many of them for a learned beta */

/* What was learned for a service, valid while its newest version is CUR. */
typedef struct rn_learned {
  int64_t sid, cur;
  srv_det_learned *v;
  size_t n;
  unsigned pairs; /* past comparisons they were learned from */
} rn_learned;

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
  pthread_mutex_t learn_mu; /* learned and each pass's use of it */
  rn_learned *learned;
  size_t n_learned;
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
  srv_detect_counts cnt;
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

/* Version VID's side for a versions comparison: its own span, the last `window` of it. */
static int rn_version_side(q_ctx *q, int64_t vid, const char *name, int64_t window, sq_side *out) {
  int64_t f, t;
  int rc = sq_version_span(q, vid, &f, &t);
  if (rc == 0) *out = (sq_side){vid, rn_max(f, t - window), t, name};
  return rc;
}

/* One past comparison (BASE -> CAND) run for its residuals into *RES. */
static int rn_history_pair(q_ctx *q, const sq_side *sides, srv_det_result *res) {
  srv_det_snapshot snaps[2];
  int rc = sq_det_snapshots(q, sides, 2, snaps);
  for (int k = 0; rc == 0 && k < 2; k++) {
    srv_det_fn *fns;
    size_t nf;
    if ((rc = sq_det_fns(q, sides[k].version_id, &fns, &nf)) == 0) snaps[k].fns = fns, snaps[k].n_fns = nf;
  }
  return rc == 0 ? srv_detect_run(&snaps[0], &snaps[1], NULL, res) : rc;
}

/* Learns how every unit follows the host from the pairs of versions before PREV (the newest pair, PREV ->
 * the current version, is the one under test), at most RN_HISTORY_PAIRS of them, into L. */
static int rn_learn(rn_pass *p, q_ctx *q, int64_t prev, const char *prev_name, rn_learned *l) {
  srv_det_result res[RN_HISTORY_PAIRS];
  const srv_det_result *refs[RN_HISTORY_PAIRS];
  size_t n = 0;
  int64_t window = p->r->o.window_s, cand = prev, base, fs, ls;
  const char *cand_name = prev_name, *base_name;
  int rc = 0;
  while (rc == 0 && n < RN_HISTORY_PAIRS) {
    rc = sq_previous_version(q, p->sid, cand, &base, &base_name, &fs, &ls);
    if (rc == HUD_ENOTFOUND) {
      rc = 0;
      break;
    }
    sq_side sides[2];
    if (rc == 0) rc = rn_version_side(q, base, base_name, window, &sides[0]);
    if (rc == 0) rc = rn_version_side(q, cand, cand_name, window, &sides[1]);
    if (rc == 0 && (rc = rn_history_pair(q, sides, &res[n])) == 0) refs[n] = &res[n], n++;
    cand = base;
    cand_name = base_name;
  }
  if (rc == 0) rc = srv_det_learn(refs, n, RN_HISTORY_MIN, &l->v, &l->n);
  l->pairs = (unsigned)n;
  for (size_t i = 0; i < n; i++) srv_det_result_free(&res[i]);
  return rc;
}

/* What was learned for P's service while CUR is its newest version (learned once per version),
 * or NULL. Called with learn_mu held; the result stays valid until it is released. */
static const rn_learned *rn_learned_for(rn_pass *p, q_ctx *q, int64_t cur, int64_t prev, const char *prev_name) {
  srv_issues_runner *r = p->r;
  size_t k = 0;
  while (k < r->n_learned && r->learned[k].sid != p->sid) k++;
  if (k < r->n_learned && r->learned[k].cur == cur) return &r->learned[k];
  rn_learned l = {.sid = p->sid, .cur = cur};
  int rc = prev ? rn_learn(p, q, prev, prev_name, &l) : 0;
  if (rc < 0) {
    fprintf(stderr, "hud-server: detection: %s/%s: drift history not read: %s\n", p->env, p->service, hud_strerror(rc));
    return NULL;
  }
  if (k == r->n_learned) {
    rn_learned *nl = realloc(r->learned, (r->n_learned + 1) * sizeof *nl);
    if (!nl) {
      srv_det_learned_free(l.v, l.n);
      return NULL;
    }
    r->learned = nl;
    r->n_learned++;
  } else {
    srv_det_learned_free(r->learned[k].v, r->learned[k].n);
  }
  r->learned[k] = l;
  return &r->learned[k];
}

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
  /* How each function and flow follows the host, as the service's history shows it. */
  srv_det_config cfg;
  srv_det_config_default(&cfg);
  srv_det_result rv = {0}, rw = {0};
  pthread_mutex_lock(&p->r->learn_mu);
  const rn_learned *l = rn_learned_for(p, q, cur, prev, prev_name);
  if (l) cfg.learned = l->v, cfg.n_learned = l->n;
  if (w == 2) rc = srv_detect_run(&snaps[0], &snaps[1], &cfg, &rv);
  if (rc == 0) rc = srv_detect_run(&snaps[w], &snaps[w + 1], &cfg, &rw);
  pthread_mutex_unlock(&p->r->learn_mu);
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

#define RN_NS 1000000000LL

static int rn_same(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* The version a finding names: its candidate side's, for versions and canary comparisons. */
static const char *rn_version_of(const rn_found *f) { return f->cmp == HUD_COMPARE_WINDOWS ? NULL : f->cand_label; }

/* Whether an alert now about version VERSION would repeat OLD's last one within the cooldown. SAME_VERSION:
 * only when the last alert named that version too. */
static int rn_cooling(const rn_pass *p, const srv_issue_row *old, const char *version, int same_version) {
  if (!old->alerted_at || p->now - old->alerted_at >= p->r->o.alert_cooldown_s * RN_NS) return 0;
  return !same_version || rn_same(old->alerted_version, version);
}

/* ROW as an earlier row OLD of the same issue found again now: status, run, pending alert and events
 * (*EVENT, *NOTE). */
static void rn_found_again(rn_pass *p, const rn_found *f, const srv_issue_row *old, srv_issue_row *row,
                           const char **event, const char **note) {
  row->first_seen = old->first_seen;
  row->times_reopened = old->times_reopened;
  row->status = old->status;
  row->status_changed_at = old->status_changed_at;
  row->found_since = old->found_since ? old->found_since : p->now;
  row->alerted_at = old->alerted_at;
  row->alerted_version = old->alerted_version;
  row->alert_pending = old->alert_pending;
  const char *version = rn_version_of(f);
  row->cand_version = version ? version : old->cand_version;
  char buf[256];
  if (strcmp(old->status, "resolved") == 0) {
    row->status = "open";
    row->status_changed_at = row->found_since = p->now;
    row->times_reopened++;
    *event = "reopened";
    p->cnt.reopened++;
    int cool = rn_cooling(p, old, version, 0);
    row->alert_pending = cool ? NULL : "reopened";
    if (cool) *note = "not alerted: within the alert cooldown of its last alert";
  } else if (version && old->cand_version && strcmp(version, old->cand_version) != 0) {
    /* The same root cause, worse again in a newer candidate: a regression of its own. */
    row->found_since = p->now;
    *event = "regressed";
    p->cnt.regressed++;
    int cool = rn_cooling(p, old, version, 1);
    row->alert_pending = cool ? NULL : "regressed";
    snprintf(buf, sizeof buf, "regressed again in %s (%s: %s -> %s)%s", version, row->comparison,
             row->base_label ? row->base_label : "?", version, cool ? "; not alerted: within the alert cooldown" : "");
    *note = hud_arena_strdup(p->a, buf);
  } else if (!rn_same(old->cand_label, row->cand_label) || strcmp(old->comparison, row->comparison) != 0) {
    snprintf(buf, sizeof buf, "%s: %s -> %s", row->comparison, row->base_label ? row->base_label : "?",
             row->cand_label ? row->cand_label : "?");
    *event = "updated";
    *note = hud_arena_strdup(p->a, buf);
  }
}

/* Sends ROW's pending alert once confirmed: at once for a new exception, else once found in passes
 * spanning alert_confirm_s. Muted issues are never alerted. */
static void rn_confirm(rn_pass *p, const rn_found *f, srv_issue_row *row) {
  if (strcmp(row->status, "muted") == 0) row->alert_pending = NULL;
  if (!row->alert_pending) return;
  int exception = strcmp(f->kind, "new_exception") == 0;
  if (!exception && p->now - row->found_since < p->r->o.alert_confirm_s * RN_NS) return;
  rn_alert_add(p, f, row->alert_pending);
  row->alerted_at = p->now;
  row->alerted_version = rn_version_of(f);
  row->alert_pending = NULL;
}

/* The write transaction: the stored rows are read again here, so a status changed by the API since
 * the pass's reads is respected. */
static int rn_apply(srv_issue_tx *tx, void *arg) {
  rn_pass *p = arg;
  p->n_alert = 0;
  memset(&p->cnt, 0, sizeof p->cnt);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < p->n_found; i++) {
    const rn_found *f = &p->found[i];
    srv_issue_row old;
    int got = srv_issue_tx_get(tx, p->sid, f->id, p->a, &old);
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
      row.first_seen = row.status_changed_at = row.found_since = p->now;
      row.cand_version = rn_version_of(f);
      row.alert_pending = event = "opened";
      p->cnt.opened++;
    } else {
      rn_found_again(p, f, &old, &row, &event, &note);
    }
    rn_confirm(p, f, &row);
    if ((rc = srv_issue_tx_put(tx, p->sid, &row)) < 0) break;
    if (event) rc = srv_issue_tx_event_add(tx, f->id, p->now, event, note);
  }
  /* Resolved once its metric returned and no pass found it for resolve_after_s: a pass on a release's
   * first seconds decides on little data. */
  for (size_t i = 0; rc == 0 && i < p->n_returned; i++) {
    srv_issue_row old;
    int got = srv_issue_tx_get(tx, p->sid, p->returned[i], p->a, &old);
    if (got == HUD_ENOTFOUND) continue;
    if (got < 0) return got;
    if (strcmp(old.status, "open") != 0 && strcmp(old.status, "acknowledged") != 0) continue;
    if (p->now - old.last_seen < p->r->o.resolve_after_s * RN_NS) continue;
    old.status = "resolved";
    old.status_changed_at = p->now;
    old.alert_pending = NULL;
    rc = srv_issue_tx_put(tx, p->sid, &old);
    if (rc == 0) rc = srv_issue_tx_event_add(tx, p->returned[i], p->now, "resolved", "the metric returned");
    p->cnt.resolved++;
  }
  p->cnt.alerted = (unsigned)p->n_alert;
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
    rc = p.alert && p.alert_event ? srv_store_issues_write(r->o.store, rn_apply, &p) : HUD_ENOMEM;
    if (rc == 0) rn_alerts(&p);
  }
  if (rc < 0 && resp.err_code[0] == 0)
    fprintf(stderr, "hud-server: detection: service %lld: %s\n", (long long)sid, hud_strerror(rc));
  else if (rc < 0)
    fprintf(stderr, "hud-server: detection: service %lld: %s\n", (long long)sid, resp.body ? resp.body : "");
  if (p.cnt.opened || p.cnt.reopened || p.cnt.resolved || p.cnt.regressed || p.cnt.alerted)
    fprintf(stderr,
            "hud-server: detection: %s/%s: %u opened, %u reopened, %u regressed, %u resolved, %u alerted (%.1f ms)\n",
            p.env ? p.env : "?", p.service ? p.service : "?", p.cnt.opened, p.cnt.reopened, p.cnt.regressed,
            p.cnt.resolved, p.cnt.alerted, (rn_mono() - t0) * 1e3);
  q_end(&q, rc);
  free(resp.body);
  if (rc < 0) memset(&p.cnt, 0, sizeof p.cnt); /* the write rolled back */
  srv_metrics_detect_pass(rn_mono() - t0, &p.cnt);
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
  pthread_mutex_init(&r->learn_mu, NULL);
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
  pthread_mutex_destroy(&r->learn_mu);
  for (size_t i = 0; i < r->n_learned; i++) srv_det_learned_free(r->learned[i].v, r->learned[i].n);
  free(r->learned);
  pthread_cond_destroy(&r->cv);
  free(r->svc);
  free(r);
}
