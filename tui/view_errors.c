/* Errors: exception paths (/v1/exception-flows), where an exception was raised, the functions it passed
 * and where it was caught or escaped; the whole service, or one function when Detail's `x` chose it. */
#include <stdlib.h>
#include <string.h>

#include "hud/codec.h"
#include "tui.h"

static const tui_col cols[] = {
    {"exception", 18, 0, false, 0},
    {"count", 7, 0, true, 0},
    {"origin module", 24, 0, false, 150},
    {"raised in -> through -> caught in", 0, 24, false, 0},
};

static int fetch(hud_client *c, const tui_query *q, hud_arena *arena, void **resp, hud_api_error *err) {
  hud_exception_flows_request req = {.limit = q->limit > 0 ? q->limit : 100};
  tui_scope(q, &req.scope);
  snprintf(req.function_id, sizeof req.function_id, "%s", q->function_id);
  hud_exception_flows_response *r = hud_arena_alloc(arena, sizeof *r);
  if (!r) return HUD_ENOMEM;
  *resp = r;
  return hud_api_exception_flows(c, &req, arena, r, err);
}

static const char *ref_name(const hud_function_ref *f) { return f->name ? f->name : f->function_id; }

/* "charge -> checkout -> escaped", "get -> caught in get_order". */
static void path_text(const hud_exception_flow_summary *x, bool unicode, char *buf, size_t cap) {
  const char *arrow = unicode ? " \u2192 " : " -> ";
  size_t len = (size_t)snprintf(buf, cap, "%s", ref_name(&x->origin));
  for (size_t i = 0; i < x->n_propagated && len < cap; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%s%s", arrow, ref_name(&x->propagated_through[i]));
  if (len >= cap) return;
  if (x->caught_in) snprintf(buf + len, cap - len, "%scaught in %s", arrow, ref_name(x->caught_in));
  else snprintf(buf + len, cap - len, "%sescaped", arrow);
}

/* Rows keep the server's order (count, descending); the filter matches the type or any function name. */
static void index_rows(tui_vstate *st) {
  const hud_exception_flows_response *r = st->data.resp;
  st->n_rows = 0;
  if (!r) return;
  free(st->rows);
  st->rows = calloc(r->n_flows + 1, sizeof *st->rows);
  if (!st->rows) return;
  for (size_t i = 0; i < r->n_flows; i++) {
    char path[2048];
    path_text(&r->flows[i], false, path, sizeof path);
    if (tui_contains(r->flows[i].exception_type, st->filter) || tui_contains(path, st->filter))
      st->rows[st->n_rows++] = i;
  }
}

static void cell(const tui_vstate *st, const tui_ctx *ctx, size_t row, size_t col, char *buf, size_t cap,
                 int *tone) {
  const hud_exception_flows_response *r = st->data.resp;
  const hud_exception_flow_summary *x = &r->flows[st->rows[row]];
  switch (col) {
  case 0: snprintf(buf, cap, "%s", x->exception_type); break;
  case 1: tui_fmt_count(x->count, buf, cap); break;
  case 2: snprintf(buf, cap, "%s", x->origin.module_path ? x->origin.module_path : ""); break;
  case 3:
    path_text(x, ctx->unicode, buf, cap);
    if (x->escaped) *tone = TUI_TONE_BAD;
    break;
  default: buf[0] = '\0';
  }
}

static const tui_table table = {cols, sizeof cols / sizeof cols[0], cell};

static int on_key(tui_vstate *st, const tui_ctx *ctx, int key, char id[HUD_UUID_STRLEN + 1], char *name,
                  size_t cap) {
  if (key == 'a' && st->function_id[0]) {
    /* Back to the whole service: what is on screen was about one function. */
    st->function_id[0] = st->function_name[0] = '\0';
    hud_arena_free(st->data.arena);
    st->data.arena = NULL;
    st->data.resp = NULL;
    return TUI_K_REFETCH;
  }
  if (key != '\n' && key != '\r') return TUI_K_IGNORED;
  const hud_exception_flows_response *r = st->data.resp;
  if (!r || st->sel >= st->n_rows) return TUI_K_HANDLED;
  const hud_function_ref *o = &r->flows[st->rows[st->sel]].origin;
  snprintf(id, HUD_UUID_STRLEN + 1, "%s", o->function_id);
  snprintf(name, cap, "%s", o->name ? o->name : "");
  return TUI_K_DETAIL;
}

/* `e` / `y` go to the function that raised the exception (at its `def`: the flow has no line). */
static bool selected(const tui_vstate *st, tui_fnref *out) {
  const hud_exception_flows_response *r = st->data.resp;
  if (!r || st->sel >= st->n_rows) return false;
  const hud_function_ref *o = &r->flows[st->rows[st->sel]].origin;
  tui_fnref_set(out, o->name, o->module_path, 0);
  return true;
}

static int encode(const void *resp, char **json) {
  return hud_exception_flows_response_encode(resp, json, NULL, NULL);
}

const tui_view tui_view_errors = {
    .name = "errors",
    .title = "Errors",
    .key = '6',
    .footer = "Enter:origin /:filter a:all",
    .help = "(exception paths, most frequent first: where each was raised, the functions it\n"
            "passed and where it was caught, or that it escaped; x in Detail shows those of\n"
            "one function)\n"
            "Enter\tdetail of the function that raised it\n/\tfilter by exception type or function\n"
            "a\tthe whole service again (after x in Detail)\n",
    .filterable = true,
    .scoped = true,
    .table = &table,
    .fetch = fetch,
    .index = index_rows,
    .on_key = on_key,
    .selected = selected,
    .encode = encode,
};
