/* An issue in words (hud/issue_text.h). */
#include "hud/issue_text.h"

#include <math.h>
#include <stdio.h>

void hud_issue_pct_text(double pct, bool capped, bool unicode, char *out, size_t cap) {
  if (capped || pct >= 10000) snprintf(out, cap, "> 100%s", unicode ? "\u00d7" : "x");
  else if (fabs(pct) >= 9.95) snprintf(out, cap, "%+.0f%%", pct);
  else snprintf(out, cap, "%+.1f%%", pct);
}

void hud_issue_ms_text(double ns, bool sign, char *out, size_t cap) {
  double ms = ns / 1e6, a = fabs(ms);
  const char *fmt = a >= 99.95 ? "%.0f ms" : a >= 9.995 ? "%.1f ms" : a >= 0.9995 || a == 0 ? "%.2f ms" : "%.2g ms";
  char num[64];
  snprintf(num, sizeof num, fmt, ms);
  snprintf(out, cap, "%s%s", sign && ms > 0 ? "+" : "", num);
}

bool hud_issue_is_errors(const hud_issue *is) {
  return is->kind == HUD_ISSUE_ERROR_RATE_INCREASE || is->kind == HUD_ISSUE_NEW_EXCEPTION;
}

/* A rate as a percentage with three significant digits: "5.45%", "1.2%", "0%". */
static void rate(double r, char *out, size_t cap) { snprintf(out, cap, "%.3g%%", r * 100); }

static void versions(const hud_issue *is, bool unicode, char *out, size_t cap) {
  if (is->comparison == HUD_COMPARE_WINDOWS || !is->current.version)
    snprintf(out, cap, "recent window");
  else
    snprintf(out, cap, "%s %s %s", is->baseline.version ? is->baseline.version : "?", unicode ? "\u2192" : "->",
             is->current.version);
}

void hud_issue_headline(const hud_issue *is, bool unicode, char *out, size_t cap) {
  if (is->headline) {
    snprintf(out, cap, "%s", is->headline);
    return;
  }
  const char *who = is->subject_name ? is->subject_name : is->subject_id;
  char when[300], what[96];
  versions(is, unicode, when, sizeof when);
  if (hud_issue_is_errors(is)) {
    char a[32], b[32];
    rate(is->baseline.error_rate, a, sizeof a);
    rate(is->current.error_rate, b, sizeof b);
    snprintf(what, sizeof what, "error rate %s %s %s", a, unicode ? "\u2192" : "->", b);
  } else {
    char p[32];
    hud_issue_pct_text(is->effect_pct, is->effect_pct_capped, unicode, p, sizeof p);
    snprintf(what, sizeof what, "mean duration %s", p);
  }
  snprintf(out, cap, "%s %s (%s)", who, what, when);
}

void hud_issue_flow_text(const hud_issue *is, const hud_affected_flow *f, bool unicode, char *out, size_t cap) {
  const char *name = f->name ? f->name : f->flow_id;
  if (hud_issue_is_errors(is)) {
    char a[32], b[32];
    rate(f->baseline_error_rate, a, sizeof a);
    rate(f->current_error_rate, b, sizeof b);
    snprintf(out, cap, "%s failures %s %s %s of requests%s", name, a, unicode ? "\u2192" : "->", b,
             f->baseline_error_rate == 0 ? " (new)" : "");
    return;
  }
  char ms[48], pct[32];
  hud_issue_ms_text(f->effect, true, ms, sizeof ms);
  hud_issue_pct_text(f->effect_pct, false, unicode, pct, sizeof pct);
  snprintf(out, cap, "%s %s per request (%s)", name, ms, pct);
}
