/* A detection finding (srv_issue) as the wire's hud_issue: names, the headline a person reads first,
 * numbers made safe to print (no 0 p-value, relative changes capped), affected flows, call path and
 * links (docs/detection.md, "Issues"). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alerts.h"
#include "hud/err.h"
#include "hud/identity.h"
#include "query_internal.h"

#define Q_PCT_CAP 10000.0 /* effect_pct beyond this (> 100x, or from 0) is shown as ">100x" */

void q_issue_id(const char *env, const char *service, const srv_issue *is, hud_uuid out) {
  const char *subject = is->function_id ? is->function_id : is->n_flows ? is->flows[0].flow_id : "";
  char key[1024];
  int n = snprintf(key, sizeof key, "issue:%s|%s|%s|%s|%s", env, service, srv_issue_kind_name(is->kind), subject,
                   is->exception_type ? is->exception_type : "");
  hud_uuid5(HUD_FUNCTION_ID_NAMESPACE, key, n < (int)sizeof key ? (size_t)n : sizeof key - 1, out);
}

static double q_fin(double x, double dflt) { return isfinite(x) ? x : dflt; }

/* Percent with the cap; *CAPPED set when clamped (an infinite or huge ratio). */
static double q_pct(double rel, bool *capped) {
  double pct = 100.0 * rel;
  if (!isfinite(pct) || pct > Q_PCT_CAP) {
    if (capped) *capped = true;
    return isnan(pct) ? 0.0 : Q_PCT_CAP;
  }
  return pct;
}

/* "4.13 ms", "310 us", "1.2 s" (magnitude only). */
static void q_dur(double ns, char *buf, size_t len) {
  double a = fabs(ns);
  if (a >= 1e9) snprintf(buf, len, "%.3g s", a / 1e9);
  else if (a >= 1e5) snprintf(buf, len, "%.3g ms", a / 1e6);
  else snprintf(buf, len, "%.3g us", a / 1e3);
}

static const char *q_sign(double x) { return x < 0 ? "-" : "+"; }

/* "shop.pricing.quote" from module path "shop/pricing.py" and qualname "quote". */
static void q_dotted(const char *module_path, const char *name, char *buf, size_t len) {
  if (!module_path || !*module_path) {
    snprintf(buf, len, "%s", name);
    return;
  }
  size_t o = 0;
  const char *dot = strrchr(module_path, '.'), *slash = strrchr(module_path, '/');
  size_t mlen = dot && (!slash || dot > slash) ? (size_t)(dot - module_path) : strlen(module_path);
  for (size_t i = 0; i < mlen && o + 1 < len; i++) buf[o++] = module_path[i] == '/' ? '.' : module_path[i];
  buf[o] = 0;
  if (o >= 9 && strcmp(buf + o - 9, ".__init__") == 0) buf[o -= 9] = 0; /* a package's own functions */
  snprintf(buf + o, len - o, ".%s", name);
}

static void q_sides(const srv_issue *is, hud_comparison_kind cmp, char *buf, size_t len) {
  if (cmp == HUD_COMPARE_WINDOWS)
    snprintf(buf, len, "%s vs %s", is->cand_label ? is->cand_label : "recent",
             is->base_label ? is->base_label : "before");
  else
    snprintf(buf, len, "%s \u2192 %s%s", is->base_label ? is->base_label : "?", is->cand_label ? is->cand_label : "?",
             cmp == HUD_COMPARE_CANARY ? ", canary" : "");
}

static int q_headline(q_ctx *q, const srv_issue *is, const hud_issue *h, hud_comparison_kind cmp, const char **out) {
  char sides[160], buf[768], e[32], who[512];
  q_sides(is, cmp, sides, sizeof sides);
  const char *name = h->subject_name ? h->subject_name : h->subject_id;
  size_t nflows = is->n_flows;
  if (is->kind == SRV_ISSUE_NEW_EXCEPTION) {
    q_dotted(h->module_path, name, who, sizeof who);
    const char *in = cmp == HUD_COMPARE_WINDOWS ? "in the last hour" : "in";
    snprintf(buf, sizeof buf, "%s new %s%s%s from %s, reaching %zu flow%s", is->exception_type ? is->exception_type : "exception",
             in, cmp == HUD_COMPARE_WINDOWS ? "" : " ", cmp == HUD_COMPARE_WINDOWS ? "" : (is->cand_label ? is->cand_label : "?"),
             who, nflows, nflows == 1 ? "" : "s");
  } else if (is->kind == SRV_ISSUE_ERRORS) {
    snprintf(buf, sizeof buf, "%s from %s: error rate %.2g%% \u2192 %.2g%% (%s)", is->exception_type ? is->exception_type : "errors",
             name, 100 * q_fin(is->base_value, 0), 100 * q_fin(is->cand_value, 0), sides);
  } else if (!is->function_id) {
    q_dur(is->n_flows ? is->flows[0].effect_ns : is->effect, e, sizeof e);
    snprintf(buf, sizeof buf, "%s %s%s per request (%s)", name, q_sign(is->effect), e, sides);
  } else if (is->metric && strcmp(is->metric, "calls_per_invocation") == 0) {
    snprintf(buf, sizeof buf, "%s called %.3g \u2192 %.3g times per request (%s)", name, q_fin(is->base_value, 0),
             q_fin(is->cand_value, 0), sides);
  } else {
    q_dur(is->effect, e, sizeof e);
    bool self = is->metric && strcmp(is->metric, "self_duration") == 0;
    snprintf(buf, sizeof buf, "%s %s%s%s per call (%s)", name, self ? "self time " : "", q_sign(is->effect), e, sides);
  }
  *out = hud_arena_strdup(q->arena, buf);
  return *out ? 0 : HUD_ENOMEM;
}

static void q_sample(const srv_issue *is, int cand, bool versions, hud_sample *s) {
  s->version = versions ? (cand ? is->cand_label : is->base_label) : NULL;
  s->from = (cand ? is->cand_from_ms : is->base_from_ms) * 1000000LL;
  s->to = (cand ? is->cand_to_ms : is->base_to_ms) * 1000000LL;
  s->count = (int64_t)(cand ? is->cand_calls : is->base_calls);
  s->sampled_count = (int64_t)(cand ? is->cand_n : is->base_n);
  s->errors = (int64_t)(cand ? is->cand_errors : is->base_errors);
  bool ns = is->kind == SRV_ISSUE_DURATION && is->metric && strcmp(is->metric, "calls_per_invocation") != 0;
  s->mean_duration = ns ? q_fin(cand ? is->cand_value : is->base_value, 0) : 0.0;
  s->stddev_duration = q_fin(cand ? is->cand_sd_ns : is->base_sd_ns, 0);
  s->error_rate = s->count ? (double)s->errors / (double)s->count : 0.0;
}

static int q_cause(q_ctx *q, const srv_issue *is, const srv_issue_cause *c, hud_root_cause *out) {
  snprintf(out->function_id, sizeof out->function_id, "%s", c->function_id ? c->function_id : "");
  sq_name_of_function(q, out->function_id, &out->name, &out->module_path);
  out->share = q_fin(c->share, 0);
  out->p_value = isfinite(c->p_value) ? (c->p_value > 0 ? c->p_value : DBL_MIN) : 1.0;
  char buf[512], a[32], b[32], d[32];
  if (is->kind == SRV_ISSUE_DURATION) {
    bool calls = c->more_calls_part > c->slower_part;
    out->metric = calls ? "calls_per_invocation" : "self_duration";
    out->baseline_value = q_fin(calls ? c->base_calls_per_inv : c->base_self_mean_ns, 0);
    out->current_value = q_fin(calls ? c->cand_calls_per_inv : c->cand_self_mean_ns, 0);
    q_dur(c->base_self_mean_ns, a, sizeof a);
    q_dur(c->cand_self_mean_ns, b, sizeof b);
    q_dur(c->contribution, d, sizeof d);
    snprintf(buf, sizeof buf,
             "self time %s -> %s per call, %.3g -> %.3g calls per request: %s%s per request, %.0f%% of the change"
             " (%.0f%% from slower calls, %.0f%% from more calls)",
             a, b, q_fin(c->base_calls_per_inv, 0), q_fin(c->cand_calls_per_inv, 0), q_sign(c->contribution), d,
             100 * q_fin(c->share, 0), c->contribution > 0 ? 100 * q_fin(c->slower_part / c->contribution, 0) : 0.0,
             c->contribution > 0 ? 100 * q_fin(c->more_calls_part / c->contribution, 0) : 0.0);
  } else {
    out->metric = "error_origin";
    out->baseline_value = q_fin(c->base_rate, 0);
    out->current_value = q_fin(c->cand_rate, 0);
    out->exception_type = c->exception_type ? hud_arena_strdup(q->arena, c->exception_type) : NULL;
    snprintf(buf, sizeof buf, "raises %s: %.3g%% -> %.3g%% of requests (%llu -> %llu)",
             c->exception_type ? c->exception_type : "exceptions", 100 * q_fin(c->base_rate, 0),
             100 * q_fin(c->cand_rate, 0), (unsigned long long)c->base_samples, (unsigned long long)c->cand_samples);
  }
  out->evidence = hud_arena_strdup(q->arena, buf);
  return out->evidence ? 0 : HUD_ENOMEM;
}

static int q_flows(q_ctx *q, const srv_issue *is, hud_issue *h) {
  h->affected_flows = hud_arena_calloc(q->arena, is->n_flows ? is->n_flows : 1, sizeof *h->affected_flows);
  if (!h->affected_flows) return HUD_ENOMEM;
  for (size_t i = 0; i < is->n_flows; i++) {
    const srv_issue_flow *f = &is->flows[i];
    hud_affected_flow *o = &h->affected_flows[h->n_affected_flows++];
    snprintf(o->flow_id, sizeof o->flow_id, "%s", f->flow_id ? f->flow_id : "");
    sq_name_of_flow(q, o->flow_id, &o->name);
    o->baseline_mean = q_fin(f->base_mean_ns, 0);
    o->current_mean = q_fin(f->cand_mean_ns, 0);
    o->effect = q_fin(f->effect_ns, 0);
    o->effect_pct = f->base_mean_ns > 0 ? q_pct(f->effect_ns / f->base_mean_ns, NULL) : 0.0;
    o->baseline_error_rate = q_fin(f->base_rate, 0);
    o->current_error_rate = q_fin(f->cand_rate, 0);
    o->count = (int64_t)f->cand_calls;
  }
  if (!is->n_flows || !is->flows[0].n_path) return 0;
  const srv_issue_flow *top = &is->flows[0];
  h->call_path = hud_arena_calloc(q->arena, top->n_path, sizeof *h->call_path);
  if (!h->call_path) return HUD_ENOMEM;
  for (size_t i = 0; i < top->n_path; i++) {
    hud_path_step *s = &h->call_path[h->n_call_path++];
    const char *mod;
    snprintf(s->function_id, sizeof s->function_id, "%s", top->path[i] ? top->path[i] : "");
    sq_name_of_function(q, s->function_id, &s->name, &mod);
  }
  return 0;
}

/* Percent-encodes S for a query string (environment and service names). */
static void q_urlenc(const char *s, char *buf, size_t len) {
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < len; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p))
      buf[o++] = (char)*p;
    else
      o += (size_t)snprintf(buf + o, len - o, "%%%02X", *p);
  }
  buf[o] = 0;
}

/* Quotes S for a POSIX shell when it needs it. */
static void q_shq(const char *s, char *buf, size_t len) {
  if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._/:") == strlen(s)) {
    snprintf(buf, len, "%s", s);
    return;
  }
  size_t o = 0;
  buf[o++] = '\'';
  for (const char *p = s; *p && o + 6 < len; p++) {
    if (*p == '\'') o += (size_t)snprintf(buf + o, len - o, "'\\''");
    else buf[o++] = *p;
  }
  buf[o++] = '\'';
  buf[o] = 0;
}

static int q_links(q_ctx *q, const hud_issue *h, const char *public_url, hud_issue_links *l) {
  char buf[2048], e[256], s[512];
  if (h->subject_kind == HUD_SUBJECT_FUNCTION) {
    snprintf(buf, sizeof buf, "vscode://hud-dev.hud/function?id=%s&issue=%s", h->subject_id, h->issue_id);
    if (!(l->vscode = hud_arena_strdup(q->arena, buf))) return HUD_ENOMEM;
  }
  if (!public_url || !*public_url) return 0;
  size_t ul = strlen(public_url);
  while (ul > 0 && public_url[ul - 1] == '/') ul--;
  char u[1024], qe[256], qs[512];
  snprintf(u, sizeof u, "%.*s", (int)ul, public_url);
  q_shq(q->env, e, sizeof e);
  q_shq(q->service, s, sizeof s);
  char qu[1100];
  q_shq(u, qu, sizeof qu);
  snprintf(buf, sizeof buf, "hud-tui --url %s --env %s --service %s --issue %s", qu, e, s, h->issue_id);
  if (!(l->tui = hud_arena_strdup(q->arena, buf))) return HUD_ENOMEM;
  q_urlenc(q->env, qe, sizeof qe);
  q_urlenc(q->service, qs, sizeof qs);
  snprintf(buf, sizeof buf, "%s/v1/issues/%s?env=%s&service=%s", u, h->issue_id, qe, qs);
  return (l->api = hud_arena_strdup(q->arena, buf)) ? 0 : HUD_ENOMEM;
}

int q_issue_from_finding(q_ctx *q, const srv_issue *is, const q_issue_meta *m, hud_issue *h) {
  memset(h, 0, sizeof *h);
  snprintf(h->issue_id, sizeof h->issue_id, "%s", m->issue_id);
  h->kind = is->kind == SRV_ISSUE_DURATION ? HUD_ISSUE_DURATION_REGRESSION
            : is->kind == SRV_ISSUE_ERRORS ? HUD_ISSUE_ERROR_RATE_INCREASE
                                           : HUD_ISSUE_NEW_EXCEPTION;
  bool flow = !is->function_id && is->n_flows;
  h->subject_kind = flow ? HUD_SUBJECT_FLOW : HUD_SUBJECT_FUNCTION;
  snprintf(h->subject_id, sizeof h->subject_id, "%s",
           flow ? is->flows[0].flow_id : is->function_id ? is->function_id : "");
  if (flow) sq_name_of_flow(q, h->subject_id, &h->subject_name);
  else sq_name_of_function(q, h->subject_id, &h->subject_name, &h->module_path);
  if (!h->subject_name) h->subject_name = hud_arena_strdup(q->arena, h->subject_id);
  h->comparison = m->comparison;
  bool versions = m->comparison != HUD_COMPARE_WINDOWS;
  q_sample(is, 0, versions, &h->baseline);
  q_sample(is, 1, versions, &h->current);
  h->metric = is->metric ? is->metric : "mean_duration";
  h->effect = q_fin(is->effect, 0);
  h->effect_pct = q_pct(is->rel_effect, &h->effect_pct_capped);
  h->ci_low = q_fin(is->effect_lo, 0);
  h->ci_high = q_fin(is->effect_hi, 0);
  h->confidence = q_fin(is->confidence, 0);
  h->p_value = isfinite(is->p_value) ? (is->p_value > 0 ? is->p_value : DBL_MIN) : 1.0;
  h->q_value = isfinite(is->q_value) ? (is->q_value > 0 ? is->q_value : DBL_MIN) : 1.0;
  h->statistic = q_fin(is->statistic, 0);
  h->statistic_name = is->statistic_name ? is->statistic_name : "z";
  h->df = q_fin(is->df, 0);
  char pt[32];
  if (h->p_value < 1e-16) snprintf(pt, sizeof pt, "< 1e-16");
  else snprintf(pt, sizeof pt, "%.2g", h->p_value);
  h->p_text = hud_arena_strdup(q->arena, pt);
  h->drift_pct = 100.0 * (exp(q_fin(is->drift_sd, 0)) - 1.0);
  h->host_shift_pct = 100.0 * (exp(q_fin(is->drift_shift, 0)) - 1.0);
  h->code_changed = (int8_t)(is->code_changed > 0 ? 1 : is->code_changed == 0 ? 0 : -1);
  h->self_includes_uninstrumented = is->self_includes_uninstrumented != 0;
  h->status = m->status;
  h->detected_at = h->first_seen = m->first_seen;
  h->last_seen = m->last_seen;
  h->status_changed_at = m->status_changed_at;
  h->times_reopened = m->times_reopened;
  h->root_causes = hud_arena_calloc(q->arena, is->n_causes ? is->n_causes : 1, sizeof *h->root_causes);
  if (!h->root_causes || !h->p_text) return HUD_ENOMEM;
  int rc = 0;
  for (size_t k = 0; rc == 0 && k < is->n_causes; k++)
    if ((rc = q_cause(q, is, &is->causes[k], &h->root_causes[k])) == 0) h->n_root_causes++;
  if (rc == 0) rc = q_flows(q, is, h);
  if (rc == 0) rc = q_headline(q, is, h, m->comparison, &h->headline);
  if (rc == 0) rc = q_links(q, h, m->public_url, &h->links);
  return rc;
}

void q_issue_alert_view(const hud_issue *h, const char *env, const char *service, const char *comparison,
                        srv_alert_issue *out) {
  memset(out, 0, sizeof *out);
  out->env = env;
  out->service = service;
  out->issue_id = h->issue_id;
  out->kind = h->kind == HUD_ISSUE_DURATION_REGRESSION ? "duration_regression"
              : h->kind == HUD_ISSUE_ERROR_RATE_INCREASE ? "error_rate_increase"
                                                         : "new_exception";
  out->headline = h->headline;
  if (h->subject_kind == HUD_SUBJECT_FUNCTION) {
    out->function_id = h->subject_id;
    out->function_name = h->subject_name;
    out->module_path = h->module_path;
  }
  out->exception_type = h->n_root_causes ? h->root_causes[0].exception_type : NULL;
  out->comparison = comparison;
  out->base_label = h->baseline.version;
  out->cand_label = h->current.version;
  out->link_vscode = h->links.vscode;
  out->link_tui = h->links.tui;
  out->link_api = h->links.api;
  out->effect_ms_per_request = h->n_affected_flows ? h->affected_flows[0].effect / 1e6 : NAN;
  out->effect_pct = h->n_affected_flows ? h->affected_flows[0].effect_pct : h->effect_pct;
  out->top_flow = h->n_affected_flows ? h->affected_flows[0].name : NULL;
  out->code_changed = h->code_changed;
  out->first_seen_ms = h->first_seen / 1000000LL;
}
