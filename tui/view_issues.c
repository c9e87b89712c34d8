/* Issues: regressions the server detected (slower, more errors), with effect, confidence and root cause. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hud/codec.h"
#include "tui.h"

static const tui_col cols[] = {
    {"issue", 7, 0, false, 0},          {"subject", 0, 14, false, 0}, {"effect", 7, 0, true, 0},
    {"before -> after", 17, 0, true, 100}, {"CI of effect", 19, 0, true, 150}, {"p", 7, 0, true, 0},
    {"versions", 13, 0, false, 0},     {"root cause", 22, 0, false, 0},
};

static int fetch(hud_client *c, const tui_query *q, hud_arena *arena, void **resp, hud_api_error *err) {
  hud_issues_request req = {.status = "open", .limit = q->limit > 0 ? q->limit : 100};
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
  for (size_t i = 0; i < r->n_issues; i++)
    if (tui_contains(r->issues[i].subject_name, st->filter)) st->rows[st->n_rows++] = i;
}

static bool is_duration(const hud_issue *is) { return is->kind == HUD_ISSUE_DURATION_REGRESSION; }

/* A value of the issue's metric: a duration or a rate. */
static void metric(const hud_issue *is, double v, bool sign, char *buf, size_t cap) {
  char t[32];
  if (is_duration(is)) tui_fmt_dur(fabs(v), t, sizeof t);
  else snprintf(t, sizeof t, sign ? "%.2fpp" : "%.2f%%", fabs(v) * 100); /* differences of rates: points */
  snprintf(buf, cap, "%s%s", sign ? (v < 0 ? "-" : "+") : "", t);
}

static void fmt_p(double p, char *buf, size_t cap) {
  if (!isfinite(p)) snprintf(buf, cap, "-");
  else if (p < 1e-6) snprintf(buf, cap, "<1e-6");
  else if (p < 0.001) snprintf(buf, cap, "%.0e", p);
  else snprintf(buf, cap, "%.3f", p);
}

static void cell(const tui_vstate *st, const tui_ctx *ctx, size_t row, size_t col, char *buf, size_t cap,
                 int *tone) {
  const hud_issues_response *r = st->data.resp;
  const hud_issue *is = &r->issues[st->rows[row]];
  const char *arrow = ctx->unicode ? "\u2192" : "->";
  char a[32], b[32];
  switch (col) {
  case 0: snprintf(buf, cap, "%s", is_duration(is) ? "slower" : "errors"); *tone = TUI_TONE_BAD; break;
  case 1: snprintf(buf, cap, "%s%s", is->subject_kind == HUD_SUBJECT_FLOW ? "" : "fn ", is->subject_name ? is->subject_name : is->subject_id); break;
  case 2:
    if (is_duration(is)) tui_fmt_signed_pct(is->effect_pct, buf, cap);
    else metric(is, is->effect, true, buf, cap);
    *tone = TUI_TONE_BAD;
    break;
  case 3:
    if (is_duration(is)) {
      metric(is, is->baseline.mean_duration, false, a, sizeof a);
      metric(is, is->current.mean_duration, false, b, sizeof b);
    } else {
      metric(is, is->baseline.error_rate, false, a, sizeof a);
      metric(is, is->current.error_rate, false, b, sizeof b);
    }
    snprintf(buf, cap, "%s%s%s", a, arrow, b);
    break;
  case 4:
    metric(is, is->ci_low, true, a, sizeof a);
    metric(is, is->ci_high, true, b, sizeof b);
    snprintf(buf, cap, "%s..%s", a, b);
    break;
  case 5: fmt_p(is->p_value, buf, cap); break;
  case 6:
    if (is->comparison == HUD_COMPARE_VERSIONS)
      snprintf(buf, cap, "%s%s%s", is->baseline.version ? is->baseline.version : "?", arrow,
               is->current.version ? is->current.version : "?");
    else
      snprintf(buf, cap, "window");
    break;
  case 7:
    if (is->n_root_causes) {
      const hud_root_cause *rc = &is->root_causes[0];
      snprintf(buf, cap, "%s (%.0f%%)", rc->name ? rc->name : rc->function_id, rc->share * 100);
    } else {
      snprintf(buf, cap, "-");
    }
    break;
  default: buf[0] = '\0';
  }
}

static const tui_table table = {cols, sizeof cols / sizeof cols[0], cell};

static int on_key(tui_vstate *st, const tui_ctx *ctx, int key, char id[HUD_UUID_STRLEN + 1], char *name,
                  size_t cap) {
  if (key != '\n' && key != '\r') return TUI_K_IGNORED;
  const hud_issues_response *r = st->data.resp;
  if (!r || st->sel >= st->n_rows) return TUI_K_HANDLED;
  const hud_issue *is = &r->issues[st->rows[st->sel]];
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
  const hud_issues_response *r = st->data.resp;
  if (!r || st->sel >= st->n_rows) return false;
  const hud_issue *is = &r->issues[st->rows[st->sel]];
  if (!is->n_root_causes) return false;
  tui_fnref_set(out, is->root_causes[0].name, is->root_causes[0].module_path, 0);
  return true;
}

static int encode(const void *resp, char **json) { return hud_issues_response_encode(resp, json, NULL, NULL); }

const tui_view tui_view_issues = {
    .name = "issues",
    .title = "Issues",
    .key = '3',
    .footer = "Enter:root cause /:filter",
    .help = "Enter\tdetail of the issue's root-cause function\n/\tfilter by subject\n",
    .filterable = true,
    .table = &table,
    .fetch = fetch,
    .index = index_rows,
    .on_key = on_key,
    .selected = selected,
    .encode = encode,
};
