/* Functions: the service's functions over the window, sortable and filterable (the default view). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hud/codec.h"
#include "tui.h"

enum { S_CALLS, S_P50, S_P95, S_P99, S_ERRORS, S_TREND, S_CHANGE, S_COUNT };
static const char *const sorts[] = {"calls", "p50", "p95", "p99", "errors", "trend", "change", NULL};
/* The server's order that brings the rows of each local sort into the top N. */
static const hud_sort server_sort[S_COUNT] = {HUD_SORT_CALLS, HUD_SORT_P95, HUD_SORT_P95, HUD_SORT_P95,
                                              HUD_SORT_ERROR_RATE, HUD_SORT_DURATION_TREND, HUD_SORT_SLOWDOWN};

static const int sort_cols[S_COUNT] = {2, 3, 4, 5, 6, 7, 8};

static const tui_col cols[] = {
    {"function", 0, 12, false, 0}, {"module", 24, 0, false, 150}, {"calls/min", 10, 0, true, 0},
    {"p50", 7, 0, true, 0},        {"p95", 7, 0, true, 0},        {"p99", 7, 0, true, 0},
    {"err%", 6, 0, true, 0},       {"trend/h", 8, 0, true, 0},    {"change", 7, 0, true, 0},
    {"vs", 8, 0, false, 110},
};

static int fetch(hud_client *c, const tui_query *q, hud_arena *arena, void **resp, hud_api_error *err) {
  hud_top_request req = {.sort = server_sort[q->sort >= 0 && q->sort < S_COUNT ? q->sort : 0],
                         .limit = q->limit > 0 ? q->limit : 200};
  tui_scope(q, &req.scope);
  hud_top_response *r = hud_arena_alloc(arena, sizeof *r);
  if (!r) return HUD_ENOMEM;
  *resp = r;
  return hud_api_top(c, &req, arena, r, err);
}

static double key_of(const hud_function_summary *f, int sort) {
  switch (sort) {
  case S_P50: return f->p50;
  case S_P95: return f->p95;
  case S_P99: return f->p99;
  case S_ERRORS: return f->error_rate;
  case S_TREND: return f->duration_trend;
  case S_CHANGE: return f->slowdown;
  default: return (double)f->calls;
  }
}

/* qsort has no context argument: the sort in progress. */
static const hud_function_summary *g_items;
static int g_sort;

static int cmp(const void *a, const void *b) {
  const hud_function_summary *x = &g_items[*(const size_t *)a], *y = &g_items[*(const size_t *)b];
  double kx = key_of(x, g_sort), ky = key_of(y, g_sort);
  if (kx != ky) return kx < ky ? 1 : -1;
  int c = strcmp(x->name ? x->name : "", y->name ? y->name : "");
  return c ? c : strcmp(x->function_id, y->function_id);
}

static void index_rows(tui_vstate *st) {
  const hud_top_response *r = st->data.resp;
  st->n_rows = 0;
  if (!r) return;
  free(st->rows);
  st->rows = calloc(r->n_items + 1, sizeof *st->rows);
  if (!st->rows) return;
  for (size_t i = 0; i < r->n_items; i++) {
    const hud_function_summary *f = &r->items[i];
    if (tui_contains(f->name, st->filter) || tui_contains(f->module_path, st->filter)) st->rows[st->n_rows++] = i;
  }
  g_items = r->items;
  g_sort = st->sort;
  qsort(st->rows, st->n_rows, sizeof *st->rows, cmp);
}

static void cell(const tui_vstate *st, const tui_ctx *ctx, size_t row, size_t col, char *buf, size_t cap,
                 int *tone) {
  const hud_top_response *r = st->data.resp;
  const hud_function_summary *f = &r->items[st->rows[row]];
  switch (col) {
  case 0: snprintf(buf, cap, "%s", f->name ? f->name : f->function_id); break;
  case 1: snprintf(buf, cap, "%s", f->module_path ? f->module_path : "?"); break;
  case 2: tui_fmt_rate(tui_per_min(f->calls, r->from, r->to), buf, cap); break;
  case 3: tui_fmt_dur(f->p50, buf, cap); break;
  case 4: tui_fmt_dur(f->p95, buf, cap); break;
  case 5: tui_fmt_dur(f->p99, buf, cap); break;
  case 6:
    tui_fmt_pct(f->error_rate, buf, cap);
    if (f->error_rate >= 0.01) *tone = TUI_TONE_BAD;
    break;
  case 7: {
    tui_fmt_trend(f->duration_trend, f->mean_duration, buf, cap);
    if (f->mean_duration > 0 && f->duration_trend > 0.1 * f->mean_duration) *tone = TUI_TONE_BAD;
    break;
  }
  case 8:
    tui_fmt_signed_pct(f->slowdown, buf, cap);
    if (f->slowdown >= 10) *tone = TUI_TONE_BAD;
    else if (f->slowdown <= -10) *tone = TUI_TONE_GOOD;
    break;
  case 9: snprintf(buf, cap, "%s", f->previous_version ? f->previous_version : ""); break;
  default: buf[0] = '\0';
  }
}

static const tui_table table = {cols, sizeof cols / sizeof cols[0], cell};

static int on_key(tui_vstate *st, const tui_ctx *ctx, int key, char id[HUD_UUID_STRLEN + 1], char *name,
                  size_t cap) {
  if (key == 's' || key == '>') {
    st->sort = (st->sort + 1) % S_COUNT;
    return TUI_K_REFETCH;
  }
  if (key == '<') {
    st->sort = (st->sort + S_COUNT - 1) % S_COUNT;
    return TUI_K_REFETCH;
  }
  if (key == '\n' || key == '\r') {
    const hud_top_response *r = st->data.resp;
    if (!r || st->sel >= st->n_rows) return TUI_K_HANDLED;
    const hud_function_summary *f = &r->items[st->rows[st->sel]];
    snprintf(id, HUD_UUID_STRLEN + 1, "%s", f->function_id);
    snprintf(name, cap, "%s", f->name ? f->name : "");
    return TUI_K_DETAIL;
  }
  return TUI_K_IGNORED;
}

static bool selected(const tui_vstate *st, tui_fnref *out) {
  const hud_top_response *r = st->data.resp;
  if (!r || st->sel >= st->n_rows) return false;
  const hud_function_summary *f = &r->items[st->rows[st->sel]];
  tui_fnref_set(out, f->name, f->module_path, f->start_line);
  return true;
}

static bool selected_id(const tui_vstate *st, char id[HUD_UUID_STRLEN + 1]) {
  const hud_top_response *r = st->data.resp;
  if (!r || st->sel >= st->n_rows) return false;
  snprintf(id, HUD_UUID_STRLEN + 1, "%s", r->items[st->rows[st->sel]].function_id);
  return id[0] != '\0';
}

static int encode(const void *resp, char **json) { return hud_top_response_encode(resp, json, NULL, NULL); }

const tui_view tui_view_functions = {
    .name = "functions",
    .title = "Functions",
    .key = '1',
    .footer = "Enter:detail /:filter s,<,>:sort",
    .help = "Enter\tdetail of the selected function\n/\tfilter by name or module (Esc clears)\n"
            "s >\tnext sort column\n<\tprevious sort column\n",
    .filterable = true,
    .sorts = sorts,
    .sort_cols = sort_cols,
    .table = &table,
    .fetch = fetch,
    .index = index_rows,
    .on_key = on_key,
    .selected = selected,
    .selected_id = selected_id,
    .encode = encode,
};
