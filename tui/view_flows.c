/* Flows: HTTP endpoints and queue consumers, with their status-code breakdown. */
#include <stdlib.h>
#include <string.h>

#include "hud/codec.h"
#include "tui.h"

enum { S_CALLS, S_P95, S_ERRORS, S_COUNT };
static const char *const sorts[] = {"calls", "p95", "errors", NULL};

static const int sort_cols[S_COUNT] = {2, 5, 3};

static const tui_col cols[] = {
    {"flow", 0, 14, false, 0}, {"kind", 8, 0, false, 110}, {"calls/min", 10, 0, true, 0}, {"err%", 6, 0, true, 0},
    {"p50", 7, 0, true, 90},   {"p95", 7, 0, true, 0},     {"p99", 7, 0, true, 0},       {"status", 22, 0, false, 0},
    {"top function", 28, 0, false, 140},
};

static int fetch(hud_client *c, const tui_query *q, hud_arena *arena, void **resp, hud_api_error *err) {
  hud_flows_request req = {.limit = q->limit > 0 ? q->limit : 100};
  tui_scope(q, &req.scope);
  hud_flows_response *r = hud_arena_alloc(arena, sizeof *r);
  if (!r) return HUD_ENOMEM;
  *resp = r;
  return hud_api_flows(c, &req, arena, r, err);
}

static void flow_name(const hud_flow_summary *f, char *buf, size_t cap) {
  if (f->kind == HUD_FLOW_ENDPOINT)
    snprintf(buf, cap, "%s %s", f->method ? f->method : "?", f->route ? f->route : "?");
  else if (f->queue)
    snprintf(buf, cap, "%s [%s]", f->task_name ? f->task_name : "?", f->queue);
  else
    snprintf(buf, cap, "%s", f->task_name ? f->task_name : "?");
}

static double key_of(const hud_flow_summary *f, int sort) {
  if (sort == S_P95) return f->p95;
  if (sort == S_ERRORS) return f->error_rate;
  return (double)f->calls;
}

static const hud_flow_summary *g_flows;
static int g_sort;

static int cmp(const void *a, const void *b) {
  const hud_flow_summary *x = &g_flows[*(const size_t *)a], *y = &g_flows[*(const size_t *)b];
  double kx = key_of(x, g_sort), ky = key_of(y, g_sort);
  if (kx != ky) return kx < ky ? 1 : -1;
  return strcmp(x->flow_id, y->flow_id);
}

static void index_rows(tui_vstate *st) {
  const hud_flows_response *r = st->data.resp;
  st->n_rows = 0;
  if (!r) return;
  free(st->rows);
  st->rows = calloc(r->n_flows + 1, sizeof *st->rows);
  if (!st->rows) return;
  for (size_t i = 0; i < r->n_flows; i++) {
    char name[512];
    flow_name(&r->flows[i], name, sizeof name);
    if (tui_contains(name, st->filter)) st->rows[st->n_rows++] = i;
  }
  g_flows = r->flows;
  g_sort = st->sort;
  qsort(st->rows, st->n_rows, sizeof *st->rows, cmp);
}

/* "2xx 1960 5xx 40": responses per status class, classes in order. */
static void status_classes(const hud_flow_summary *f, char *buf, size_t cap) {
  int64_t by_class[6] = {0};
  for (size_t i = 0; i < f->n_status_codes; i++) {
    int c = f->status_codes[i].status / 100;
    if (c >= 1 && c <= 5) by_class[c] += f->status_codes[i].count;
  }
  size_t len = 0;
  buf[0] = '\0';
  for (int c = 1; c <= 5 && len < cap; c++) {
    if (!by_class[c]) continue;
    char n[32];
    tui_fmt_count(by_class[c], n, sizeof n);
    len += (size_t)snprintf(buf + len, cap - len, "%s%dxx %s", len ? " " : "", c, n);
  }
  if (len == 0) snprintf(buf, cap, f->kind == HUD_FLOW_ENDPOINT ? "-" : "(queue)");
}

static void cell(const tui_vstate *st, const tui_ctx *ctx, size_t row, size_t col, char *buf, size_t cap,
                 int *tone) {
  const hud_flows_response *r = st->data.resp;
  const hud_flow_summary *f = &r->flows[st->rows[row]];
  switch (col) {
  case 0: flow_name(f, buf, cap); break;
  case 1: snprintf(buf, cap, "%s", f->kind == HUD_FLOW_ENDPOINT ? "endpoint" : "consumer"); break;
  case 2: tui_fmt_rate(tui_per_min(f->calls, r->from, r->to), buf, cap); break;
  case 3:
    tui_fmt_pct(f->error_rate, buf, cap);
    if (f->error_rate >= 0.01) *tone = TUI_TONE_BAD;
    break;
  case 4: tui_fmt_dur(f->p50, buf, cap); break;
  case 5: tui_fmt_dur(f->p95, buf, cap); break;
  case 6: tui_fmt_dur(f->p99, buf, cap); break;
  case 7: status_classes(f, buf, cap); break;
  case 8: snprintf(buf, cap, "%s", f->n_functions && f->functions[0].name ? f->functions[0].name : ""); break;
  default: buf[0] = '\0';
  }
}

static const tui_table table = {cols, sizeof cols / sizeof cols[0], cell};

static int on_key(tui_vstate *st, const tui_ctx *ctx, int key, char id[HUD_UUID_STRLEN + 1], char *name,
                  size_t cap) {
  if (key == 's' || key == '>' || key == '<') {
    st->sort = (st->sort + (key == '<' ? S_COUNT - 1 : 1)) % S_COUNT;
    st->sel = st->top = 0;
    return TUI_K_HANDLED;
  }
  if (key == '\n' || key == '\r' || key == 'h') {
    const hud_flows_response *r = st->data.resp;
    if (!r || st->sel >= st->n_rows) return TUI_K_HANDLED;
    const hud_flow_summary *f = &r->flows[st->rows[st->sel]];
    if (!f->n_functions) return TUI_K_HANDLED;
    snprintf(id, HUD_UUID_STRLEN + 1, "%s", f->functions[0].function_id);
    int n = snprintf(name, cap, "%s", f->functions[0].name ? f->functions[0].name : "");
    if (key != 'h') return TUI_K_DETAIL;
    /* After the name's NUL: the title, "flow GET /orders/<id>". */
    if (n < 0 || (size_t)n + 7 >= cap) return TUI_K_HANDLED;
    memcpy(name + n + 1, "flow ", 6);
    flow_name(f, name + n + 6, cap - (size_t)n - 6);
    return TUI_K_PATHS;
  }
  return TUI_K_IGNORED;
}

static int encode(const void *resp, char **json) { return hud_flows_response_encode(resp, json, NULL, NULL); }

const tui_view tui_view_flows = {
    .name = "flows",
    .title = "Flows",
    .key = '2',
    .footer = "Enter:fn h:paths /:filter s:sort", /* fits 80 columns whole */
    .help = "Enter\tdetail of the flow's top function (by total time)\n"
            "h\thot paths rooted at the flow's top function, titled with the flow\n/\tfilter by route or task\n"
            "s > <\tcycle the sort column\n",
    .filterable = true,
    .sorts = sorts,
    .sort_cols = sort_cols,
    .table = &table,
    .fetch = fetch,
    .index = index_rows,
    .on_key = on_key,
    .encode = encode,
};
