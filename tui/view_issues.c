/* Issues: one row per root cause the server found (its headline, status, the flows it affects); the pane
 * under the list tells the selected one: affected flows in ms per request, call path, code change,
 * statistics, history. `a` / `m` acknowledge and mute it on the server. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hud/codec.h"
#include "hud/issue_text.h"
#include "tui.h"

/* The headline last: it takes the rest of the line instead of being cut at the flexible columns' cap. */
static const tui_col cols[] = {
    {"status", 12, 0, false, 0}, {"flows", 5, 0, true, 0},  {"first seen", 10, 0, true, 0},
    {"p", 9, 0, true, 100},      {"issue", 0, 24, false, 0},
};

static int fetch(hud_client *c, const tui_query *q, hud_arena *arena, void **resp, hud_api_error *err) {
  /* No status: the server's default, the active issues (open and acknowledged). */
  hud_issues_request req = {.limit = q->limit > 0 ? q->limit : 100};
  tui_scope(q, &req.scope);
  hud_issues_response *r = hud_arena_alloc(arena, sizeof *r);
  if (!r) return HUD_ENOMEM;
  *resp = r;
  return hud_api_issues(c, &req, arena, r, err);
}

static void index_rows(tui_vstate *st) {
  const hud_issues_response *r = st->data.resp;
  st->n_rows = 0;
  if (!r) return;
  free(st->rows);
  st->rows = calloc(r->n_issues + 1, sizeof *st->rows);
  if (!st->rows) return;
  for (size_t i = 0; i < r->n_issues; i++) {
    char head[1024];
    hud_issue_headline(&r->issues[i], true, head, sizeof head);
    if (tui_contains(head, st->filter)) st->rows[st->n_rows++] = i;
  }
}

static const hud_issue *issue_at(const tui_vstate *st, size_t row) {
  const hud_issues_response *r = st->data.resp;
  return r && row < st->n_rows ? &r->issues[st->rows[row]] : NULL;
}

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "3h02m ago"; "-" when the server did not say (servers that do not store issues). */
static void ago(hud_time_ns t, char *buf, size_t cap) {
  if (!t) {
    snprintf(buf, cap, "-");
    return;
  }
  int64_t s = (wall_ms() - t / 1000000) / 1000;
  if (s < 0) s = 0;
  /* Coarse, so that it fits its column: "45s", "12m", "5h", "3d". */
  if (s < 60) snprintf(buf, cap, "%llds ago", (long long)s);
  else if (s < 3600) snprintf(buf, cap, "%lldm ago", (long long)(s / 60));
  else if (s < 48 * 3600) snprintf(buf, cap, "%lldh ago", (long long)(s / 3600));
  else snprintf(buf, cap, "%lldd ago", (long long)(s / 86400));
}

/* p for people: the server's text, else the old rule ("<1e-6"). */
static void p_text(const hud_issue *is, char *buf, size_t cap) {
  if (is->p_text) snprintf(buf, cap, "%s", is->p_text);
  else if (!isfinite(is->p_value)) snprintf(buf, cap, "-");
  else if (is->p_value < 1e-6) snprintf(buf, cap, "<1e-6");
  else if (is->p_value < 0.001) snprintf(buf, cap, "%.0e", is->p_value);
  else snprintf(buf, cap, "%.3f", is->p_value);
}

static int status_tone(const char *status) {
  if (!status || !strcmp(status, HUD_ISSUE_OPEN)) return TUI_TONE_BAD;
  if (!strcmp(status, HUD_ISSUE_ACKNOWLEDGED)) return TUI_TONE_NORMAL;
  return TUI_TONE_DIM;
}

static void cell(const tui_vstate *st, const tui_ctx *ctx, size_t row, size_t col, char *buf, size_t cap,
                 int *tone) {
  const hud_issue *is = issue_at(st, row);
  switch (col) {
  case 0:
    snprintf(buf, cap, "%s", is->status ? is->status : "open");
    *tone = status_tone(is->status);
    break;
  case 1:
    if (is->n_affected_flows) snprintf(buf, cap, "%zu", is->n_affected_flows);
    else snprintf(buf, cap, "-");
    break;
  case 2: ago(is->first_seen, buf, cap); break;
  case 3: p_text(is, buf, cap); break;
  case 4: hud_issue_headline(is, ctx->unicode, buf, cap); break;
  default: buf[0] = '\0';
  }
}

static const tui_table table = {cols, sizeof cols / sizeof cols[0], cell};

/* ---- the pane ---- */

typedef struct lines {
  char text[16][512];
  int tone[16];
  int n;
} lines;

static void add(lines *l, int tone, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(lines *l, int tone, const char *fmt, ...) {
  if (l->n >= 16) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(l->text[l->n], sizeof l->text[0], fmt, ap);
  va_end(ap);
  l->tone[l->n++] = tone;
}

/* "status open · first seen 3h02m ago · last seen 5s ago · reopened 1×". */
static void status_line(const hud_issue *is, const tui_ctx *ctx, lines *l) {
  const char *sep = ctx->unicode ? " \u00b7 " : " | ";
  char first[48], last[48], buf[512];
  ago(is->first_seen, first, sizeof first);
  ago(is->last_seen, last, sizeof last);
  int n = snprintf(buf, sizeof buf, "status %s%sfirst seen %s%slast seen %s", is->status ? is->status : "open", sep,
                   first, sep, last);
  if (is->times_reopened > 0 && n > 0 && (size_t)n < sizeof buf)
    snprintf(buf + n, sizeof buf - (size_t)n, "%sreopened %d%s", sep, (int)is->times_reopened,
             ctx->unicode ? "\u00d7" : "x");
  add(l, status_tone(is->status), "%s", buf);
}

/* "p < 1e-16 · q < 1e-16 · z 41.5 · drift allowance 10% · 1.0.0 → 1.1.0". */
static void stats_line(const hud_issue *is, const tui_ctx *ctx, lines *l) {
  const char *sep = ctx->unicode ? " \u00b7 " : " | ";
  char p[48], buf[512];
  p_text(is, p, sizeof p);
  int n = snprintf(buf, sizeof buf, "p %s%s", p[0] == '<' ? "" : "= ", p);
  if (is->statistic_name && n > 0 && (size_t)n < sizeof buf) {
    char q[32]; /* q is shown like p: never as a number that suggests certainty */
    if (is->q_value < 1e-16) snprintf(q, sizeof q, "< 1e-16");
    else snprintf(q, sizeof q, "%.2g", is->q_value);
    n += snprintf(buf + n, sizeof buf - (size_t)n, "%sq %s%s%s %.3g", sep, q, sep, is->statistic_name, is->statistic);
  }
  if (is->drift_pct > 0 && n > 0 && (size_t)n < sizeof buf)
    n += snprintf(buf + n, sizeof buf - (size_t)n, "%sdrift allowance %.0f%%", sep, is->drift_pct);
  if (fabs(is->host_shift_pct) >= 0.5 && n > 0 && (size_t)n < sizeof buf)
    n += snprintf(buf + n, sizeof buf - (size_t)n, "%shost shift %+.0f%% taken off", sep, is->host_shift_pct);
  const char *arrow = ctx->unicode ? " \u2192 " : " -> ";
  if (is->comparison != HUD_COMPARE_WINDOWS && n > 0 && (size_t)n < sizeof buf)
    snprintf(buf + n, sizeof buf - (size_t)n, "%s%s%s%s%s", sep, is->baseline.version ? is->baseline.version : "?",
             arrow, is->current.version ? is->current.version : "?",
             is->comparison == HUD_COMPARE_CANARY ? " (canary, same minutes)" : "");
  else if (n > 0 && (size_t)n < sizeof buf)
    snprintf(buf + n, sizeof buf - (size_t)n, "%srecent window vs the one before", sep);
  add(l, TUI_TONE_NORMAL, "%s", buf);
}

/* A value of the issue's metric, signed when SIGN: durations in ms, rates in % (differences in points). */
static void metric_text(const hud_issue *is, double v, bool sign, char *buf, size_t cap) {
  const char *m = is->metric ? is->metric : "";
  if (!strcmp(m, "exceptions"))
    snprintf(buf, cap, sign ? "%+.0f" : "%.0f", v);
  else if (!strcmp(m, "calls_per_invocation"))
    snprintf(buf, cap, sign ? "%+.3g calls" : "%.3g calls", v);
  else if (!strcmp(m, "error_rate") || hud_issue_is_errors(is))
    snprintf(buf, cap, sign ? "%+.2fpp" : "%.2f%%", v * 100);
  else
    hud_issue_ms_text(v, sign, buf, cap);
}

/* "mean_duration 6.07 ms → 8.55 ms: +2.48 ms (+41%), 99.9% interval +2.17 ms .. +2.79 ms". */
static void effect_line(const hud_issue *is, const tui_ctx *ctx, lines *l) {
  bool errors = hud_issue_is_errors(is);
  char a[48], b[48], e[48], lo[48], hi[48], pct[32];
  bool count = is->metric && !strcmp(is->metric, "exceptions");
  double va = count ? (double)is->baseline.errors : errors ? is->baseline.error_rate : is->baseline.mean_duration;
  double vb = count ? (double)is->current.errors : errors ? is->current.error_rate : is->current.mean_duration;
  /* The root cause's own values when the issue's metric is the cause's (self time, calls per request). */
  const hud_root_cause *c = is->n_root_causes ? &is->root_causes[0] : NULL;
  if (c && c->metric && is->metric && !strcmp(c->metric, is->metric)) {
    va = c->baseline_value;
    vb = c->current_value;
  }
  metric_text(is, va, false, a, sizeof a);
  metric_text(is, vb, false, b, sizeof b);
  metric_text(is, is->effect, true, e, sizeof e);
  metric_text(is, is->ci_low, true, lo, sizeof lo);
  metric_text(is, is->ci_high, true, hi, sizeof hi);
  if ((errors && is->baseline.error_rate == 0) || is->kind == HUD_ISSUE_NEW_EXCEPTION) snprintf(pct, sizeof pct, "new");
  else hud_issue_pct_text(is->effect_pct, is->effect_pct_capped, ctx->unicode, pct, sizeof pct);
  add(l, TUI_TONE_NORMAL, "%s %s %s %s: %s (%s), %.3g%% interval %s .. %s", is->metric ? is->metric : "?", a,
      ctx->unicode ? "\u2192" : "->", b, e, pct, is->confidence * 100, lo, hi);
}

static void flows_table(const hud_issue *is, const tui_ctx *ctx, int width, lines *l) {
  if (!is->n_affected_flows) return;
  bool errors = hud_issue_is_errors(is);
  const char *arrow = ctx->unicode ? "\u2192" : "->";
  int nw = width - 46 > 16 ? width - 46 : 16; /* the pane's lines are WIDTH - 2 wide */
  char name[512], fit[512];
  snprintf(name, sizeof name, "affected flows");
  tui_fit(name, (size_t)nw, false, true, fit, sizeof fit);
  add(l, TUI_TONE_HEAD, "%s %12s %19s %9s", fit, errors ? "failures" : "ms/request", "before -> after", "%");
  for (size_t i = 0; i < is->n_affected_flows && l->n < 12; i++) {
    const hud_affected_flow *f = &is->affected_flows[i];
    tui_fit(f->name ? f->name : f->flow_id, (size_t)nw, false, true, fit, sizeof fit);
    char eff[32], a[32], b[32], ab[80], pct[32];
    if (errors) {
      snprintf(eff, sizeof eff, "%+.2fpp", (f->current_error_rate - f->baseline_error_rate) * 100);
      snprintf(a, sizeof a, "%.2f%%", f->baseline_error_rate * 100);
      snprintf(b, sizeof b, "%.2f%%", f->current_error_rate * 100);
      snprintf(pct, sizeof pct, "%s", f->baseline_error_rate == 0 ? "new" : "");
    } else {
      hud_issue_ms_text(f->effect, true, eff, sizeof eff);
      hud_issue_ms_text(f->baseline_mean, false, a, sizeof a);
      hud_issue_ms_text(f->current_mean, false, b, sizeof b);
      hud_issue_pct_text(f->effect_pct, false, ctx->unicode, pct, sizeof pct);
    }
    snprintf(ab, sizeof ab, "%s %s %s", a, arrow, b);
    char abfit[80];
    tui_fit(ab, 19, true, true, abfit, sizeof abfit);
    add(l, TUI_TONE_NORMAL, "%s %12s %s %9s", fit, eff, abfit, pct);
  }
  if (is->n_affected_flows > 6 && l->n >= 12) add(l, TUI_TONE_DIM, "(%zu flows in all)", is->n_affected_flows);
}

static void path_line(const hud_issue *is, const tui_ctx *ctx, lines *l) {
  if (!is->n_call_path) return;
  char buf[512] = "call path: ";
  size_t n = strlen(buf);
  for (size_t i = 0; i < is->n_call_path && n < sizeof buf; i++)
    n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? (ctx->unicode ? " \u2192 " : " -> ") : "",
                          is->call_path[i].name ? is->call_path[i].name : is->call_path[i].function_id);
  add(l, TUI_TONE_NORMAL, "%s", buf);
}

/* The first issue shape: the root causes and their evidence instead of flows. */
static void causes_lines(const hud_issue *is, lines *l) {
  for (size_t i = 0; i < is->n_root_causes && i < 3; i++) {
    const hud_root_cause *c = &is->root_causes[i];
    add(l, TUI_TONE_NORMAL, "root cause %s (%.0f%%)%s%s", c->name ? c->name : c->function_id, c->share * 100,
        c->evidence ? ": " : "", c->evidence ? c->evidence : "");
  }
}

static void history_line(const hud_issue *is, lines *l) {
  char buf[512] = "history:";
  size_t n = strlen(buf);
  for (size_t i = 0; i < is->n_history && n < sizeof buf; i++) {
    char t[HUD_TIME_STRLEN + 1] = "?";
    hud_time_format(is->history[i].at, t);
    if (strlen(t) >= 16) { /* "2024-08-19 10:14" */
      t[10] = ' ';
      t[16] = '\0';
    }
    n += (size_t)snprintf(buf + n, sizeof buf - n, " %s %s%s%s%s", t + 5, is->history[i].event,
                          is->history[i].note ? " (" : "", is->history[i].note ? is->history[i].note : "",
                          is->history[i].note ? ")" : "");
  }
  add(l, TUI_TONE_DIM, "%s", buf);
}

/* What the pane and --once --issue say of IS, WIDTH columns wide. */
static void issue_lines(const tui_vstate *st, const hud_issue *is, const tui_ctx *ctx, int width, lines *out) {
  lines l = {.n = 0};
  char head[600];
  hud_issue_headline(is, ctx->unicode, head, sizeof head);
  const char *bar = ctx->unicode ? "\u2500\u2500" : "--";
  add(&l, TUI_TONE_HEAD, "%s %s %s", bar, head, bar);
  status_line(is, ctx, &l);
  if (is->code_changed == 1) add(&l, TUI_TONE_BAD, "code changed in this version (the likely culprit)");
  else if (is->code_changed == 0 && is->headline) add(&l, TUI_TONE_NORMAL, "code unchanged in this version");
  if (is->self_includes_uninstrumented)
    add(&l, TUI_TONE_NORMAL, "its self time includes calls that are not instrumented (or its data changed)");
  effect_line(is, ctx, &l);
  stats_line(is, ctx, &l);
  flows_table(is, ctx, width, &l);
  path_line(is, ctx, &l);
  if (!is->n_affected_flows) causes_lines(is, &l);
  /* History comes with one issue's answer: the one `a` / `m` changed last. */
  const hud_issue *changed = st->aux.resp;
  if (changed && !strcmp(changed->issue_id, is->issue_id) && changed->n_history) history_line(changed, &l);
  *out = l;
}

static void pane(const tui_vstate *st, const tui_ctx *ctx, int y, int h) {
  const hud_issue *is = issue_at(st, st->sel);
  if (!is) return;
  static lines l; /* 8 KiB: not on the stack of every draw */
  issue_lines(st, is, ctx, ctx->cols, &l);
  for (int i = 0; i < l.n && i < h; i++) tui_put(y + i, i ? 1 : 0, ctx->cols - (i ? 2 : 0), l.text[i], l.tone[i], false);
}

static void detail(const tui_vstate *st, const tui_ctx *ctx, size_t row, FILE *out) {
  const hud_issue *is = issue_at(st, row);
  if (!is) return;
  static lines l;
  issue_lines(st, is, ctx, ctx->cols + 2, &l);
  for (int i = 0; i < l.n; i++) fprintf(out, "%s\n", l.text[i]);
}

/* ---- keys ---- */

static int on_key(tui_vstate *st, const tui_ctx *ctx, int key, char id[HUD_UUID_STRLEN + 1], char *name,
                  size_t cap) {
  (void)ctx;
  const hud_issue *is = issue_at(st, st->sel);
  if (key == 'a' || key == 'm') {
    if (!is) return TUI_K_HANDLED;
    const char *now = is->status ? is->status : HUD_ISSUE_OPEN;
    const char *want = key == 'a' ? (strcmp(now, HUD_ISSUE_ACKNOWLEDGED) ? HUD_ISSUE_ACKNOWLEDGED : HUD_ISSUE_OPEN)
                                  : (strcmp(now, HUD_ISSUE_MUTED) ? HUD_ISSUE_MUTED : HUD_ISSUE_OPEN);
    snprintf(id, HUD_UUID_STRLEN + 1, "%s", is->issue_id);
    snprintf(name, cap, "%s", want);
    return TUI_K_ISSUE;
  }
  if (key != '\n' && key != '\r') return TUI_K_IGNORED;
  if (!is) return TUI_K_HANDLED;
  if (is->n_root_causes) {
    snprintf(id, HUD_UUID_STRLEN + 1, "%s", is->root_causes[0].function_id);
    snprintf(name, cap, "%s", is->root_causes[0].name ? is->root_causes[0].name : "");
  } else if (is->subject_kind == HUD_SUBJECT_FUNCTION) {
    snprintf(id, HUD_UUID_STRLEN + 1, "%s", is->subject_id);
    snprintf(name, cap, "%s", is->subject_name ? is->subject_name : "");
  } else {
    return TUI_K_HANDLED;
  }
  return TUI_K_DETAIL;
}

/* The issue's first root cause (the function to look at). */
static bool selected(const tui_vstate *st, tui_fnref *out) {
  const hud_issue *is = issue_at(st, st->sel);
  if (!is || !is->n_root_causes) return false;
  tui_fnref_set(out, is->root_causes[0].name, is->root_causes[0].module_path ? is->root_causes[0].module_path
                                                                            : is->module_path, 0);
  return true;
}

static long find(const tui_vstate *st, const char *issue_id) {
  for (size_t i = 0; i < st->n_rows; i++)
    if (!strcmp(issue_at(st, i)->issue_id, issue_id)) return (long)i;
  return -1;
}

static int encode(const void *resp, char **json) { return hud_issues_response_encode(resp, json, NULL, NULL); }

const tui_view tui_view_issues = {
    .name = "issues",
    .title = "Issues",
    .key = '3',
    .footer = "Enter:root cause a:acknowledge m:mute /:filter",
    .help = "Enter\tdetail of the issue's root-cause function\n"
            "a\tacknowledge the issue (again: back to open)\n"
            "m\tmute the issue: no alerts, hidden from the list (again: unmute)\n"
            "/\tfilter by headline\n",
    .filterable = true,
    .table = &table,
    .fetch = fetch,
    .index = index_rows,
    .on_key = on_key,
    .selected = selected,
    .encode = encode,
    .pane = pane,
    .detail = detail,
    .find = find,
};
