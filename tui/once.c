/* --once: one view printed as plain text (or its response as JSON), for scripts and ssh one-liners. */
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "tui.h"

void tui_error_text(const hud_api_error *err, const char *url, char *buf, size_t cap) {
  const char *msg = err->message[0] ? err->message : hud_strerror(err->code);
  /* Transport messages start with the request's URL: the base URL is said once, the query not at all. */
  size_t ul = strlen(url);
  const char *colon = ul && strncmp(msg, url, ul) == 0 ? strstr(msg + ul, ": ") : NULL;
  if (colon) msg = colon + 2;
  switch (err->code) {
  case HUD_EAUTH:
    snprintf(buf, cap, "401 unauthorized: the API key is missing or wrong (--key, HUD_KEY): %s", msg);
    break;
  case HUD_EFORBIDDEN: snprintf(buf, cap, "403 forbidden for this API key: %s", msg); break;
  case HUD_ECONNECT: snprintf(buf, cap, "backend unreachable at %s: %s", url, msg); break;
  case HUD_ETIMEOUT: snprintf(buf, cap, "backend at %s timed out: %s", url, msg); break;
  default:
    if (err->status)
      snprintf(buf, cap, "%s (HTTP %ld%s%s): %s", hud_strerror(err->code), err->status, err->wire_code[0] ? " " : "",
               err->wire_code, msg);
    else
      snprintf(buf, cap, "%s: %s", hud_strerror(err->code), msg);
  }
}

void tui_table_layout(const tui_table *t, int width, int *widths) {
  int used = 0, shown = 0, flex = -1;
  for (size_t i = 0; i < t->n_cols; i++) {
    const tui_col *c = &t->cols[i];
    widths[i] = c->need && width < c->need ? 0 : c->width;
    if (c->width == 0 && flex < 0 && !(c->need && width < c->need)) flex = (int)i;
    if (widths[i] || (int)i == flex) {
      used += widths[i];
      shown++;
    }
  }
  if (flex >= 0) {
    int rest = width - used - (shown - 1);
    widths[flex] = rest > t->cols[flex].min ? rest : t->cols[flex].min;
    bool last = true;
    for (size_t i = (size_t)flex + 1; i < t->n_cols; i++) last &= widths[i] == 0;
    /* Figures stay near the names; a last column has no figures after it. */
    if (widths[flex] > TUI_FLEX_MAX && !last) widths[flex] = TUI_FLEX_MAX;
  }
}

void tui_table_print(const tui_view *v, const tui_vstate *st, const tui_ctx *ctx, int width, FILE *out) {
  const tui_table *t = v->table;
  int w[32];
  tui_table_layout(t, width, w);
  char line[4096], cellbuf[1024], fit[1024];
  for (size_t r = 0; r <= st->n_rows; r++) {
    size_t len = 0;
    for (size_t c = 0; c < t->n_cols; c++) {
      if (!w[c]) continue;
      int tone = 0;
      if (r == 0) snprintf(cellbuf, sizeof cellbuf, "%s", t->cols[c].head);
      else t->cell(st, ctx, r - 1, c, cellbuf, sizeof cellbuf, &tone);
      tui_fit(cellbuf, (size_t)w[c], t->cols[c].right, true, fit, sizeof fit);
      len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", len ? " " : "", fit);
      if (len >= sizeof line) len = sizeof line - 1;
    }
    while (len && line[len - 1] == ' ') line[--len] = '\0';
    fprintf(out, "%s\n", line);
  }
}

static int sort_index(const tui_view *v, const char *name) {
  for (int i = 0; v->sorts && v->sorts[i]; i++)
    if (strcmp(v->sorts[i], name) == 0) return i;
  return -1;
}

int tui_once(hud_client *c, const tui_query *q0, const tui_once_opts *o, const tui_ctx *ctx, FILE *out) {
  const tui_view *v = tui_view_by_name(o->view ? o->view : "functions");
  if (!v) {
    fprintf(stderr, "hud-tui: unknown view '%s' (functions, flows, issues, detail, paths, errors)\n", o->view);
    return 2;
  }
  tui_query q = *q0;
  tui_vstate st = {0};
  if (o->sort) {
    st.sort = sort_index(v, o->sort);
    if (st.sort < 0) {
      fprintf(stderr, "hud-tui: view %s cannot sort by '%s'\n", v->name, o->sort);
      return 2;
    }
  }
  q.sort = st.sort;
  if (v->uses_function && !o->function_id) {
    fprintf(stderr, "hud-tui: --view %s needs --function ID\n", v->name);
    return 2;
  }
  if ((v->uses_function || v->scoped) && o->function_id)
    snprintf(q.function_id, sizeof q.function_id, "%s", o->function_id);
  if (o->filter) snprintf(st.filter, sizeof st.filter, "%s", o->filter);
  char why[256];
  if (tui_filter_error(st.filter, why, sizeof why)) {
    fprintf(stderr, "hud-tui: --filter: %s\n", why);
    return 2;
  }
  hud_api_error err = {0};
  if (tui_resolve_service(c, &q, &err) != 0) {
    char msg[1024];
    tui_error_text(&err, ctx->url, msg, sizeof msg);
    fprintf(stderr, "hud-tui: %s\n", msg);
    return 1;
  }
  st.data.arena = hud_arena_new();
  if (!st.data.arena) return 1;
  int rc = v->fetch(c, &q, st.data.arena, &st.data.resp, &err);
  if (rc != 0) {
    char msg[1024];
    tui_error_text(&err, ctx->url, msg, sizeof msg);
    fprintf(stderr, "hud-tui: %s\n", msg);
    hud_arena_free(st.data.arena);
    return 1;
  }
  v->index(&st);
  if (o->limit > 0 && st.n_rows > (size_t)o->limit) st.n_rows = (size_t)o->limit;
  int status = 0;
  long row = o->issue_id && v->find ? v->find(&st, o->issue_id) : -1;
  if (o->issue_id && row < 0) {
    fprintf(stderr, "hud-tui: issue %s is not among the active issues (muted or resolved issues are not listed)\n",
            o->issue_id);
    status = 1;
  } else if (o->issue_id && !o->json && v->detail) {
    v->detail(&st, ctx, (size_t)row, out);
  } else if (o->json) {
    char *json = NULL;
    if (v->encode(st.data.resp, &json) == 0) {
      fprintf(out, "%s\n", json);
    } else {
      fprintf(stderr, "hud-tui: cannot encode the response\n");
      status = 1;
    }
    free(json);
  } else if (v->table) {
    tui_table_print(v, &st, ctx, ctx->cols, out);
  } else {
    v->print(&st, ctx, out);
  }
  free(st.rows);
  hud_arena_free(st.data.arena);
  return status;
}
