/* Issues: detection runs on demand over the requested scope (see docs/protocol.md, "Issues").
 *
 * Two comparisons per request:
 *  - versions: the scope's version (default: the newest deployment) against the version deployed
 *    before it, both over the query window (a deployment inside the window is compared across it);
 *  - windows: the second half of the query window against the first half (all versions, or the
 *    scope's version).
 * Results are not stored: every request recomputes them from the aggregates, so an issue is
 * "open" while the data shows it and disappears when it no longer does. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hud/err.h"
#include "hud/identity.h"
#include "query_internal.h"

typedef struct q_issues {
  hud_issue *v;
  size_t n, cap;
} q_issues;

/* An issue whose root cause is unknown is about its flow (flows[0]); otherwise about its function. */
static bool q_is_flow_issue(const srv_issue *is) { return !is->function_id && is->n_flows; }
static bool q_is_duration_kind(srv_issue_kind k) { return k == SRV_ISSUE_DURATION; }
static const char *q_subject(const srv_issue *is) {
  return is->function_id ? is->function_id : is->n_flows ? is->flows[0].flow_id : "";
}

static double q_finite(double x) { return isfinite(x) ? x : 0.0; }

static void q_fmt_ns(double ns, char *buf, size_t len) {
  if (fabs(ns) >= 1e9) snprintf(buf, len, "%.3g s", ns / 1e9);
  else if (fabs(ns) >= 1e6) snprintf(buf, len, "%.3g ms", ns / 1e6);
  else snprintf(buf, len, "%.3g us", ns / 1e3);
}

static int q_cause(q_ctx *q, const srv_issue *is, const srv_issue_cause *c, hud_root_cause *rc_out) {
  snprintf(rc_out->function_id, sizeof rc_out->function_id, "%s", c->function_id);
  sq_name_of_function(q, c->function_id, &rc_out->name, &rc_out->module_path);
  rc_out->share = q_finite(c->share);
  rc_out->p_value = isfinite(c->p_value) ? c->p_value : 1.0;
  char buf[512], a[32], b[32], d[32];
  if (q_is_duration_kind(is->kind)) {
    bool calls = c->more_calls_part > c->slower_part;
    rc_out->metric = calls ? "calls_per_invocation" : "self_duration";
    rc_out->baseline_value = calls ? c->base_calls_per_inv : c->base_self_mean_ns;
    rc_out->current_value = calls ? c->cand_calls_per_inv : c->cand_self_mean_ns;
    q_fmt_ns(c->base_self_mean_ns, a, sizeof a);
    q_fmt_ns(c->cand_self_mean_ns, b, sizeof b);
    q_fmt_ns(c->contribution, d, sizeof d);
    snprintf(buf, sizeof buf,
             "self time %s -> %s per call, %.2f -> %.2f calls per invocation: +%s per invocation, %.0f%% of the change"
             " (%.0f%% from slower calls, %.0f%% from more calls)",
             a, b, c->base_calls_per_inv, c->cand_calls_per_inv, d, 100 * q_finite(c->share),
             c->contribution > 0 ? 100 * c->slower_part / c->contribution : 0.0,
             c->contribution > 0 ? 100 * c->more_calls_part / c->contribution : 0.0);
  } else {
    rc_out->metric = "error_origin";
    rc_out->baseline_value = c->base_rate;
    rc_out->current_value = c->cand_rate;
    rc_out->exception_type = c->exception_type ? hud_arena_strdup(q->arena, c->exception_type) : NULL;
    snprintf(buf, sizeof buf, "raises %s: %.3g%% -> %.3g%% of invocations (%llu -> %llu), %.0f%% of the increase",
             c->exception_type ? c->exception_type : "exceptions", 100 * c->base_rate, 100 * c->cand_rate,
             (unsigned long long)c->base_samples, (unsigned long long)c->cand_samples, 100 * q_finite(c->share));
  }
  rc_out->evidence = hud_arena_strdup(q->arena, buf);
  return rc_out->evidence ? 0 : HUD_ENOMEM;
}

static void q_sample(const srv_issue *is, int side, const char *version, hud_sample *s) {
  s->version = version;
  s->from = (side ? is->cand_from_ms : is->base_from_ms) * 1000000LL;
  s->to = (side ? is->cand_to_ms : is->base_to_ms) * 1000000LL;
  s->count = (int64_t)(side ? is->cand_calls : is->base_calls);
  s->sampled_count = (int64_t)(side ? is->cand_n : is->base_n);
  s->errors = (int64_t)(side ? is->cand_errors : is->base_errors);
  s->mean_duration = is->kind == SRV_ISSUE_DURATION ? (side ? is->cand_value : is->base_value) : 0.0;
  s->stddev_duration = side ? is->cand_sd_ns : is->base_sd_ns;
  s->error_rate = s->count ? (double)s->errors / (double)s->count : 0.0;
}

static int q_add_issues(q_ctx *q, const srv_det_result *res, hud_comparison_kind cmp, q_issues *out,
                        hud_time_ns now) {
  for (size_t i = 0; i < res->n_issues; i++) {
    const srv_issue *is = &res->issues[i];
    if (out->n == out->cap) {
      size_t nc = out->cap ? out->cap * 2 : 16;
      hud_issue *nv = hud_arena_calloc(q->arena, nc, sizeof *nv);
      if (!nv) return HUD_ENOMEM;
      if (out->n) memcpy(nv, out->v, out->n * sizeof *nv);
      out->v = nv;
      out->cap = nc;
    }
    hud_issue *h = &out->v[out->n++];
    bool dur = q_is_duration_kind(is->kind), flow = q_is_flow_issue(is);
    const char *subject = q_subject(is);
    char fp[512];
    snprintf(fp, sizeof fp, "issue:%s|%s|%s|%s|%s|%s", q->env, q->service, srv_issue_kind_name(is->kind),
             subject, is->base_label, is->cand_label);
    hud_uuid5(HUD_FUNCTION_ID_NAMESPACE, fp, strlen(fp), h->issue_id);
    h->kind = dur ? HUD_ISSUE_DURATION_REGRESSION : HUD_ISSUE_ERROR_RATE_INCREASE;
    h->subject_kind = flow ? HUD_SUBJECT_FLOW : HUD_SUBJECT_FUNCTION;
    snprintf(h->subject_id, sizeof h->subject_id, "%s", subject);
    const char *mod = NULL;
    if (flow)
      sq_name_of_flow(q, subject, &h->subject_name);
    else
      sq_name_of_function(q, subject, &h->subject_name, &mod);
    if (!h->subject_name) h->subject_name = hud_arena_strdup(q->arena, subject);
    h->comparison = cmp;
    bool ver = cmp == HUD_COMPARE_VERSIONS;
    q_sample(is, 0, ver ? hud_arena_strdup(q->arena, is->base_label) : NULL, &h->baseline);
    q_sample(is, 1, ver ? hud_arena_strdup(q->arena, is->cand_label) : NULL, &h->current);
    h->metric = is->metric;
    h->effect = is->effect;
    h->effect_pct = isfinite(is->rel_effect) ? 100 * is->rel_effect : 0.0;
    h->ci_low = is->effect_lo;
    h->ci_high = is->effect_hi;
    h->confidence = is->confidence;
    h->p_value = is->p_value;
    h->detected_at = now;
    h->status = "open";
    h->root_causes = hud_arena_calloc(q->arena, is->n_causes ? is->n_causes : 1, sizeof *h->root_causes);
    if (!h->root_causes) return HUD_ENOMEM;
    for (size_t k = 0; k < is->n_causes; k++) {
      int rc = q_cause(q, is, &is->causes[k], &h->root_causes[k]);
      if (rc < 0) return rc;
      h->n_root_causes++;
    }
  }
  return 0;
}

static int q_compare(q_ctx *q, const srv_det_snapshot *b, const srv_det_snapshot *c, hud_comparison_kind cmp,
                     q_issues *out, hud_time_ns now) {
  srv_det_result res;
  int rc = srv_detect_run(b, c, NULL, &res);
  if (rc < 0) return rc;
  rc = q_add_issues(q, &res, cmp, out, now);
  srv_det_result_free(&res);
  return rc;
}

int q_h_issues(const srv_request *req, srv_response *resp) {
  q_ctx q;
  int rc = q_begin(req, resp, &q);
  if (rc < 0) return rc;
  hud_issues_request r;
  hud_codec_error e;
  rc = hud_issues_request_from_query(q.params, q.n_params, NULL, q.arena, &r, &e);
  if (rc < 0) return q_end(&q, q_fail_codec(&q, &e));
  if ((rc = q_scope(&q, &r.scope)) < 0) return q_end(&q, rc);
  const char *status = r.status ? r.status : "open";
  if (strcmp(status, "open") && strcmp(status, "resolved") && strcmp(status, "all"))
    return q_end(&q, q_fail(&q, HUD_EFIELD, "status: expected open, resolved or all"));
  int limit = r.limit > 0 ? r.limit : 100;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  hud_time_ns now = (hud_time_ns)ts.tv_sec * 1000000000LL + ts.tv_nsec;
  q_issues out = {0};
  /* Nothing is stored, so nothing is ever "resolved". */
  if (strcmp(status, "resolved") != 0) {
    sq_side sides[4];
    size_t n = 0;
    int64_t cur = q.version_id, fs, ls, prev = 0, pfs, pls;
    const char *cur_name = q.version, *prev_name = NULL;
    rc = cur ? 0 : sq_latest_version(&q, q.service_id, &cur, &cur_name, &fs, &ls);
    if (rc == 0) rc = sq_previous_version(&q, q.service_id, cur, &prev, &prev_name, &pfs, &pls);
    if (rc == 0) {
      sides[n++] = (sq_side){prev, q.from_s, q.to_s, prev_name};
      sides[n++] = (sq_side){cur, q.from_s, q.to_s, cur_name};
    }
    if (rc == HUD_ENOTFOUND) rc = 0;
    int64_t mid = q.from_s + (q.to_s - q.from_s) / 2;
    char lb[96], lc[96];
    char t0[HUD_TIME_STRLEN + 1], t1[HUD_TIME_STRLEN + 1], t2[HUD_TIME_STRLEN + 1];
    hud_time_format(q.from_s * 1000000000LL, t0);
    hud_time_format(mid * 1000000000LL, t1);
    hud_time_format(q.to_s * 1000000000LL, t2);
    snprintf(lb, sizeof lb, "%s/%s", t0, t1);
    snprintf(lc, sizeof lc, "%s/%s", t1, t2);
    size_t w = n;
    sides[n++] = (sq_side){q.version_id, q.from_s, mid, lb};
    sides[n++] = (sq_side){q.version_id, mid, q.to_s, lc};
    srv_det_snapshot snaps[4];
    if (rc == 0) rc = sq_det_snapshots(&q, sides, n, snaps);
    if (rc == 0 && w == 2) rc = q_compare(&q, &snaps[0], &snaps[1], HUD_COMPARE_VERSIONS, &out, now);
    if (rc == 0) rc = q_compare(&q, &snaps[w], &snaps[w + 1], HUD_COMPARE_WINDOWS, &out, now);
  }
  if (rc < 0) return q_end(&q, q_fail(&q, rc, "detection: %s", hud_strerror(rc)));
  hud_issues_response resp_out = {.n_issues = out.n < (size_t)limit ? out.n : (size_t)limit, .issues = out.v};
  return q_end(&q, Q_REPLY(&q, hud_issues_response_encode, &resp_out));
}
