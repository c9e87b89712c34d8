/* Function detail: figures, trend, errors by type, per-version comparison, callers and callees
 * (Enter follows a caller or callee). */
#include <curses.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hud/codec.h"
#include "tui.h"

typedef struct line {
  char text[1024];
  int tone;
  int link; /* row: 0 the function itself, then callers, then callees; -1 = not selectable */
  int loc_x, loc_len;       /* where the file:line text is in TEXT (loc_len 0: none) */
  const char *module_path;  /* its file, resolved under the source root for an OSC 8 link */
  int src;                  /* the line of the source shown (tui_src_line), -1 = not source */
} line;

typedef struct lines {
  line *v;
  size_t n, cap;
} lines;

static line *add(lines *ls, int tone, int link) {
  if (ls->n == ls->cap) return NULL;
  line *l = &ls->v[ls->n++];
  l->text[0] = '\0';
  l->tone = tone;
  l->link = link;
  l->loc_len = 0;
  l->module_path = NULL;
  l->src = -1;
  return l;
}

#define SPARK_BUCKETS 60

/* The response and the time axis it was asked with: the series leaves empty buckets out. */
typedef struct detail_resp {
  hud_function_detail d; /* first: the response is also a hud_function_detail */
  hud_time_ns from;
  int64_t bucket_ns;
} detail_resp;

static int fetch(hud_client *c, const tui_query *q, hud_arena *arena, void **resp, hud_api_error *err) {
  hud_function_request req = {0};
  tui_scope(q, &req.scope);
  snprintf(req.function_id, sizeof req.function_id, "%s", q->function_id);
  req.bucket_ns = q->window_ns / SPARK_BUCKETS / 1000000000LL * 1000000000LL; /* whole seconds */
  if (req.bucket_ns < 1000000000LL) req.bucket_ns = 1000000000LL;
  detail_resp *r = hud_arena_alloc(arena, sizeof *r);
  if (!r) return HUD_ENOMEM;
  r->from = req.scope.from;
  r->bucket_ns = req.bucket_ns;
  *resp = r;
  return hud_api_function(c, &req, arena, &r->d, err);
}

void tui_detail_sparks(const void *resp, bool unicode, size_t max, char *p95_line, char *calls_line, size_t cap) {
  const detail_resp *r = resp;
  const hud_function_detail *d = &r->d;
  size_t n = SPARK_BUCKETS + 1;
  double p95[SPARK_BUCKETS + 1], calls[SPARK_BUCKETS + 1];
  for (size_t i = 0; i < n; i++) p95[i] = calls[i] = NAN;
  for (size_t i = 0; i < d->n_series; i++) {
    int64_t k = (d->series[i].timestamp - r->from) / r->bucket_ns;
    if (k < 0 || (size_t)k >= n) continue;
    p95[k] = d->series[i].p95;
    calls[k] = (double)d->series[i].calls;
  }
  size_t from = n > max ? n - max : 0;
  char w[16];
  tui_fmt_window(r->bucket_ns, w, sizeof w);
  int k = snprintf(p95_line, cap, "p95 per %-5s ", w);
  tui_fmt_spark(p95 + from, n - from, unicode, p95_line + k, cap - (size_t)k);
  k = snprintf(calls_line, cap, "calls per %-3s ", w);
  tui_fmt_spark(calls + from, n - from, unicode, calls_line + k, cap - (size_t)k);
}

/* Two sparklines over the window, one glyph per bucket, blank where nothing ran; the newest that fit. */
static void sparklines(lines *ls, const detail_resp *r, const tui_ctx *ctx) {
  size_t max = ctx->cols > 20 ? (size_t)ctx->cols - 20 : 4;
  line *p = add(ls, TUI_TONE_NORMAL, -1), *c = add(ls, TUI_TONE_NORMAL, -1);
  char calls[sizeof c->text];
  if (p) tui_detail_sparks(r, ctx->unicode, max, p->text, c ? c->text : calls, sizeof p->text);
}

/* The source shown by the last draw: its first line (for `e` / `y` on a source row) and its line count
 * (kept across a refresh, so a selection in the source stays there). */
static int g_src_first;
static size_t g_src_rows;

/* Selectable rows: the function itself, its callers, its callees, then the source lines. */
static void index_rows(tui_vstate *st) {
  const hud_function_detail *d = st->data.resp;
  st->n_rows = 0;
  if (!d) return;
  free(st->rows);
  st->n_rows = 1 + d->n_callers + d->n_callees + g_src_rows;
  st->rows = calloc(st->n_rows + 1, sizeof *st->rows);
  if (!st->rows) {
    st->n_rows = 0;
    return;
  }
  for (size_t i = 0; i < st->n_rows; i++) st->rows[i] = i;
}

/* NAME, LOC, CALLS, MEAN, ERR in the peer columns for WIDTH. */
static void peer_cols(lines *ls, int tone, int link, int width, const char *name, const char *loc, const char *calls,
                      const char *mean, const char *err) {
  int nw = width >= 120 ? 36 : 24, lw = width >= 120 ? 40 : width - nw - 34;
  char n[300], l[300], c[40], m[40], e[40];
  tui_fit(name, (size_t)nw, false, true, n, sizeof n);
  tui_fit(loc, lw > 4 ? (size_t)lw : 4, false, true, l, sizeof l);
  tui_fit(calls, 7, true, true, c, sizeof c);
  tui_fit(mean, 8, true, true, m, sizeof m);
  tui_fit(err, 6, true, true, e, sizeof e);
  line *ln = add(ls, tone, link);
  if (ln) {
    snprintf(ln->text, sizeof ln->text, "  %s %s %s %s %s", n, l, c, m, e);
    ln->loc_x = 2 + (int)strlen(n) + 1;
    ln->loc_len = (int)strlen(l);
    while (ln->loc_len && l[ln->loc_len - 1] == ' ') ln->loc_len--;
  }
}

static void peer_line(lines *ls, const hud_call_peer *p, int link, bool caller, int width) {
  char name[256], loc[300], calls[32], mean[32], err[32];
  snprintf(name, sizeof name, "%s", p->name ? p->name : p->function_id[0] ? p->function_id : "(module level)");
  if (caller && p->line > 0) snprintf(loc, sizeof loc, "%s:%d", p->module_path ? p->module_path : "?", p->line);
  else if (!caller && p->line > 0) snprintf(loc, sizeof loc, "%d: %s", p->line, p->module_path ? p->module_path : "?");
  else snprintf(loc, sizeof loc, "%s", p->module_path ? p->module_path : "");
  tui_fmt_count(p->calls, calls, sizeof calls);
  tui_fmt_dur(p->mean_duration, mean, sizeof mean);
  tui_fmt_pct(p->calls ? (double)p->errors / (double)p->calls : 0, err, sizeof err);
  peer_cols(ls, p->errors ? TUI_TONE_BAD : TUI_TONE_NORMAL, link, width, name, loc, calls, mean, err);
  /* A caller's call site is a place in the caller's file; a callee's line is in ours (no link). */
  if (ls->n && caller && p->line > 0 && p->module_path) ls->v[ls->n - 1].module_path = p->module_path;
  else if (ls->n) ls->v[ls->n - 1].loc_len = 0;
}

static void version_line(lines *ls, const hud_version_stats *v, const hud_version_stats *older, int width) {
  char f[7][32], d[32] = "";
  tui_fmt_count(v->calls, f[0], sizeof f[0]);
  tui_fmt_pct(v->error_rate, f[1], sizeof f[1]);
  tui_fmt_dur(v->mean_duration, f[2], sizeof f[2]);
  tui_fmt_dur(v->p50, f[3], sizeof f[3]);
  tui_fmt_dur(v->p95, f[4], sizeof f[4]);
  tui_fmt_dur(v->p99, f[5], sizeof f[5]);
  int tone = TUI_TONE_NORMAL;
  if (older && older->mean_duration > 0) {
    double pct = 100.0 * (v->mean_duration - older->mean_duration) / older->mean_duration;
    tui_fmt_signed_pct(pct, d, sizeof d);
    if (pct >= 10) tone = TUI_TONE_BAD;
  }
  char ver[40];
  tui_fit(v->version ? v->version : "?", 12, false, true, ver, sizeof ver);
  line *l = add(ls, tone, -1);
  if (l)
    snprintf(l->text, sizeof l->text, "  %s %8s %7s %8s %8s %8s %8s %8s", ver, f[0], f[1], f[2], f[3], f[4], f[5], d);
}

static const char *module_of(const hud_function_detail *d) {
  const hud_function_decl *decl = d->declaration;
  return d->summary.module_path ? d->summary.module_path : decl && decl->module_path ? decl->module_path : NULL;
}

static void figures(lines *ls, const hud_function_detail *d, const tui_ctx *ctx) {
  const hud_function_summary *s = &d->summary;
  char a[8][32];
  line *l = add(ls, TUI_TONE_HEAD, 0);
  const hud_function_decl *decl = d->declaration;
  const char *mod = module_of(d);
  if (l) {
    const char *name = s->name ? s->name : s->function_id;
    if (s->start_line > 0)
      snprintf(l->text, sizeof l->text, "%s  %s:%d-%d%s", name, mod ? mod : "?", s->start_line, s->end_line,
               s->is_async ? "  async" : "");
    else
      snprintf(l->text, sizeof l->text, "%s  %s", name, mod ? mod : "?");
    l->loc_x = (int)strlen(name) + 2;
    l->loc_len = mod ? (int)strcspn(l->text + l->loc_x, " ") : 0;
    l->module_path = mod;
  }
  (void)decl;
  tui_fmt_count(s->calls, a[0], sizeof a[0]);
  tui_fmt_count(s->errors, a[1], sizeof a[1]);
  tui_fmt_pct(s->error_rate, a[2], sizeof a[2]);
  if (strcmp(a[2], "0") == 0) snprintf(a[2], sizeof a[2], "0%%");
  tui_fmt_dur(s->mean_duration, a[3], sizeof a[3]);
  tui_fmt_dur(s->self_duration_mean, a[4], sizeof a[4]);
  if ((l = add(ls, s->error_rate >= 0.01 ? TUI_TONE_BAD : TUI_TONE_NORMAL, -1)))
    snprintf(l->text, sizeof l->text, "calls %s  errors %s (%s)  mean %s  self %s", a[0], a[1], a[2], a[3], a[4]);
  tui_fmt_dur(s->p50, a[0], sizeof a[0]);
  tui_fmt_dur(s->p90, a[1], sizeof a[1]);
  tui_fmt_dur(s->p95, a[2], sizeof a[2]);
  tui_fmt_dur(s->p99, a[3], sizeof a[3]);
  if ((l = add(ls, TUI_TONE_NORMAL, -1)))
    snprintf(l->text, sizeof l->text, "p50 %s  p90 %s  p95 %s  p99 %s", a[0], a[1], a[2], a[3]);
  tui_fmt_trend(s->duration_trend, s->mean_duration, a[0], sizeof a[0]);
  tui_fmt_signed_pct(s->slowdown, a[1], sizeof a[1]);
  if ((l = add(ls, s->slowdown >= 10 ? TUI_TONE_BAD : TUI_TONE_NORMAL, -1))) {
    int n = snprintf(l->text, sizeof l->text, "trend %s/h  change %s", a[0], a[1]);
    if (s->previous_version) snprintf(l->text + n, sizeof l->text - (size_t)n, " vs %s", s->previous_version);
  }
}

/* One figure of the comparison: older, newer, change (relative, or in points for a rate). */
static void compare_row(lines *ls, const char *what, double older, double newer, int kind) {
  char a[32], b[32], c[32] = "";
  int tone = TUI_TONE_NORMAL;
  if (kind == 0) {
    tui_fmt_count((int64_t)older, a, sizeof a);
    tui_fmt_count((int64_t)newer, b, sizeof b);
  } else if (kind == 1) {
    tui_fmt_pct(older, a, sizeof a);
    tui_fmt_pct(newer, b, sizeof b);
    double pp = (newer - older) * 100;
    if (pp != 0) snprintf(c, sizeof c, "%+.2fpp", pp);
    else snprintf(c, sizeof c, "-");
    if (pp >= 1) tone = TUI_TONE_BAD;
  } else {
    tui_fmt_dur(older, a, sizeof a);
    tui_fmt_dur(newer, b, sizeof b);
  }
  if (kind != 1 && older > 0) {
    double pct = 100.0 * (newer - older) / older;
    tui_fmt_signed_pct(pct, c, sizeof c);
    if (kind == 2 && pct >= 10) tone = TUI_TONE_BAD;
    else if (kind == 2 && pct <= -10) tone = TUI_TONE_GOOD;
  }
  line *l = add(ls, tone, -1);
  if (l) snprintf(l->text, sizeof l->text, "  %-16s %10s %10s %10s", what, a, b, c);
}

/* `v`: the compared version (the picked one, else the newest) against the one before it, figure by figure. */
static void compare_table(lines *ls, const hud_function_detail *d, const tui_ctx *ctx) {
  size_t i = 0;
  for (size_t k = 0; ctx->version && ctx->version[0] && k < d->n_versions; k++)
    if (d->versions[k].version && strcmp(d->versions[k].version, ctx->version) == 0) i = k;
  line *l;
  if (i + 1 >= d->n_versions) {
    if ((l = add(ls, TUI_TONE_DIM, -1)))
      snprintf(l->text, sizeof l->text, "  version comparison: %s has no earlier version to compare with",
               d->n_versions ? d->versions[i].version : "the function");
    return;
  }
  const hud_version_stats *n = &d->versions[i], *o = &d->versions[i + 1];
  char vs[64];
  snprintf(vs, sizeof vs, "%s vs %s", n->version ? n->version : "?", o->version ? o->version : "?");
  if ((l = add(ls, TUI_TONE_HEAD, -1)))
    snprintf(l->text, sizeof l->text, "  %-16s %10.10s %10.10s %10s", vs, o->version ? o->version : "?",
             n->version ? n->version : "?", "change");
  compare_row(ls, "calls", (double)o->calls, (double)n->calls, 0);
  compare_row(ls, "error rate", o->error_rate, n->error_rate, 1);
  compare_row(ls, "mean", o->mean_duration, n->mean_duration, 2);
  compare_row(ls, "p50", o->p50, n->p50, 2);
  compare_row(ls, "p95", o->p95, n->p95, 2);
  compare_row(ls, "p99", o->p99, n->p99, 2);
}

static void build(const tui_vstate *st, const tui_ctx *ctx, lines *ls) {
  const hud_function_detail *d = st->data.resp;
  line *l;
  figures(ls, d, ctx);
  sparklines(ls, st->data.resp, ctx);
  if (d->errors_by_type.n && (l = add(ls, TUI_TONE_BAD, -1))) {
    size_t len = (size_t)snprintf(l->text, sizeof l->text, "errors by type:");
    for (size_t i = 0; i < d->errors_by_type.n && len < sizeof l->text; i++)
      len += (size_t)snprintf(l->text + len, sizeof l->text - len, " %s %lld", d->errors_by_type.items[i].key,
                              (long long)d->errors_by_type.items[i].count);
  }
  if (ctx->compare) {
    compare_table(ls, d, ctx);
  } else {
    if (d->n_versions && (l = add(ls, TUI_TONE_HEAD, -1)))
      snprintf(l->text, sizeof l->text, "  %-12s %8s %7s %8s %8s %8s %8s %8s", "version", "calls", "err%", "mean",
               "p50", "p95", "p99", "vs prev");
    for (size_t i = 0; i < d->n_versions; i++)
      version_line(ls, &d->versions[i], i + 1 < d->n_versions ? &d->versions[i + 1] : NULL, ctx->cols);
  }
  char head[64];
  snprintf(head, sizeof head, "callers (%zu)", d->n_callers);
  peer_cols(ls, TUI_TONE_HEAD, -1, ctx->cols, head, "call site", "calls", "mean", "err%");
  for (size_t i = 0; i < d->n_callers; i++) peer_line(ls, &d->callers[i], (int)(1 + i), true, ctx->cols);
  snprintf(head, sizeof head, "callees (%zu)", d->n_callees);
  peer_cols(ls, TUI_TONE_HEAD, -1, ctx->cols, head, "line: module", "calls", "mean", "err%");
  for (size_t i = 0; i < d->n_callees; i++)
    peer_line(ls, &d->callees[i], (int)(1 + d->n_callers + i), false, ctx->cols);
}

/* The function's source below the rest: its lines from the server, else SRC_DEF_LINES from its `def`. */
#define SRC_MAX_LINES 400
#define SRC_DEF_LINES 30

static const tui_src *source_of(const hud_function_detail *d, const tui_ctx *ctx) {
  const hud_function_summary *s = &d->summary;
  const hud_function_decl *decl = d->declaration;
  char path[4096];
  if (tui_source_resolve(ctx->root, module_of(d), path, sizeof path) != 0) return NULL;
  int from = s->start_line > 0 ? s->start_line : decl ? decl->start_line : 0;
  int to = s->start_line > 0 ? s->end_line : decl ? decl->end_line : 0;
  if (from <= 0) {
    from = tui_source_def_line(path, s->name);
    to = 0;
  }
  if (from <= 0) return NULL;
  if (to < from) to = from + SRC_DEF_LINES - 1;
  if (to - from >= SRC_MAX_LINES) to = from + SRC_MAX_LINES - 1;
  return tui_src_get(path, from, to);
}

static void source_lines(lines *ls, const hud_function_detail *d, const tui_src *src) {
  size_t n = tui_src_count(src);
  line *l = add(ls, TUI_TONE_HEAD, -1);
  if (l) {
    int first = tui_src_first(src);
    snprintf(l->text, sizeof l->text, "source  %s:%d-%d%s", module_of(d), first, first + (int)n - 1,
             tui_src_highlighted(src) ? "" : "  (plain)");
  }
  for (size_t i = 0; i < n; i++)
    if ((l = add(ls, TUI_TONE_NORMAL, (int)(1 + d->n_callers + d->n_callees + i)))) l->src = (int)i;
}

static bool build_all(const tui_vstate *st, const tui_ctx *ctx, lines *ls, const tui_src *src) {
  const hud_function_detail *d = st->data.resp;
  ls->cap = 24 + d->n_versions + d->n_callers + d->n_callees + tui_src_count(src) + 1;
  ls->n = 0;
  ls->v = calloc(ls->cap, sizeof *ls->v);
  if (!ls->v) return false;
  build(st, ctx, ls);
  if (src) source_lines(ls, d, src);
  return true;
}

/* Draws source line I in the tones of its classes (keywords bold without colour; the rest plain). */
static void draw_src(const tui_src *src, size_t i, int y, const tui_ctx *ctx, bool sel) {
  char text[2048];
  unsigned char cls[2048];
  tui_src_line(src, i, ctx->cols, ctx->unicode, text, cls, sizeof text);
  if (sel) {
    tui_put(y, 0, ctx->cols, text, TUI_TONE_NORMAL, true);
    return;
  }
  int attr[] = {
      [TUI_SRC_PLAIN] = A_NORMAL,
      [TUI_SRC_KEYWORD] = tui_term_attr(TUI_TONE_HEAD),
      [TUI_SRC_STRING] = tui_term_attr(TUI_TONE_GOOD),
      [TUI_SRC_COMMENT] = tui_term_attr(TUI_TONE_DIM),
      [TUI_SRC_NUMBER] = ctx->color ? tui_term_attr(TUI_TONE_BAD) & ~A_BOLD : A_NORMAL,
      [TUI_SRC_FUNC] = ctx->color ? A_BOLD : A_NORMAL,
      [TUI_SRC_GUTTER] = tui_term_attr(TUI_TONE_DIM),
  };
  move(y, 0);
  for (size_t a = 0, b; text[a]; a = b) {
    for (b = a + 1; text[b] && cls[b] == cls[a];) b++;
    attron(attr[cls[a]]);
    addnstr(text + a, (int)(b - a));
    attroff(attr[cls[a]]);
  }
}

/* The source rows follow the callees: the selection scrolls through them. */
static void count_rows(tui_vstate *st, const hud_function_detail *d, const tui_src *src) {
  size_t n = 1 + d->n_callers + d->n_callees + tui_src_count(src);
  if (st->n_rows == 0 || n == st->n_rows) return;
  size_t *rows = realloc(st->rows, (n + 1) * sizeof *rows);
  if (!rows) return;
  for (size_t i = 0; i < n; i++) rows[i] = i;
  st->rows = rows;
  st->n_rows = n;
  if (st->sel >= n) st->sel = n - 1;
}

static void draw(tui_vstate *st, const tui_ctx *ctx, int y, int h) {
  if (!st->data.resp) return;
  lines ls;
  const tui_src *src = source_of(st->data.resp, ctx);
  g_src_first = tui_src_first(src);
  g_src_rows = tui_src_count(src);
  count_rows(st, st->data.resp, src);
  if (!build_all(st, ctx, &ls, src)) return;
  size_t at = 0; /* the line of the selected link */
  for (size_t i = 0; i < ls.n; i++)
    if (ls.v[i].link == (int)st->sel) at = i;
  if (at < st->top) st->top = at > 0 && ls.v[at - 1].link < 0 ? at - 1 : at;
  if (at >= st->top + (size_t)h) st->top = at - (size_t)h + 1;
  if (st->top + (size_t)h > ls.n) st->top = ls.n > (size_t)h ? ls.n - (size_t)h : 0;
  for (int r = 0; r < h && st->top + (size_t)r < ls.n; r++) {
    const line *l = &ls.v[st->top + (size_t)r];
    bool sel = l->link >= 0 && l->link == (int)st->sel && st->n_rows;
    if (l->src >= 0) draw_src(src, (size_t)l->src, y + r, ctx, sel);
    else tui_put(y + r, 0, ctx->cols, l->text, l->tone, sel);
    if (y + r < TUI_HIT_LINES) st->hit[y + r] = l->link;
    char path[4096], text[1024];
    if (ctx->links && l->loc_len > 0 && l->loc_x + l->loc_len <= ctx->cols &&
        tui_source_resolve(ctx->root, l->module_path, path, sizeof path) == 0) {
      snprintf(text, sizeof text, "%.*s", l->loc_len, l->text + l->loc_x);
      tui_link_add(y + r, l->loc_x, text, path, l->tone, sel);
    }
  }
  free(ls.v);
}

static void print(const tui_vstate *st, const tui_ctx *ctx, FILE *out) {
  lines ls;
  const tui_src *src = st->data.resp ? source_of(st->data.resp, ctx) : NULL;
  if (!st->data.resp || !build_all(st, ctx, &ls, src)) return;
  for (size_t i = 0; i < ls.n; i++) {
    char *t = ls.v[i].text;
    unsigned char cls[sizeof ls.v[i].text];
    if (ls.v[i].src >= 0) tui_src_line(src, (size_t)ls.v[i].src, ctx->cols, false, t, cls, sizeof ls.v[i].text);
    size_t n = strlen(t);
    while (n && t[n - 1] == ' ') t[--n] = '\0';
    fprintf(out, "%s\n", t);
  }
  free(ls.v);
}

/* Row ROW (>= 1): a caller, then a callee. */
static const hud_call_peer *peer(const hud_function_detail *d, size_t row) {
  return row - 1 < d->n_callers ? &d->callers[row - 1] : &d->callees[row - 1 - d->n_callers];
}

/* The function itself opens at its first line; a caller at the call site; a callee at its definition. */
static bool selected(const tui_vstate *st, tui_fnref *out) {
  const hud_function_detail *d = st->data.resp;
  if (!d || st->sel >= st->n_rows) return false;
  memset(out, 0, sizeof *out);
  if (st->sel == 0) {
    const char *m = module_of(d);
    snprintf(out->name, sizeof out->name, "%s", d->summary.name ? d->summary.name : "");
    snprintf(out->module_path, sizeof out->module_path, "%s", m ? m : "");
    out->line = d->summary.start_line > 0 ? d->summary.start_line : d->declaration ? d->declaration->start_line : 0;
    return true;
  }
  if (st->sel > d->n_callers + d->n_callees) { /* a source line: that line of the function's file */
    const char *m = module_of(d);
    snprintf(out->name, sizeof out->name, "%s", d->summary.name ? d->summary.name : "");
    snprintf(out->module_path, sizeof out->module_path, "%s", m ? m : "");
    out->line = g_src_first + (int)(st->sel - 1 - d->n_callers - d->n_callees);
    return true;
  }
  const hud_call_peer *p = peer(d, st->sel);
  bool caller = st->sel - 1 < d->n_callers;
  snprintf(out->name, sizeof out->name, "%s", p->name ? p->name : "");
  snprintf(out->module_path, sizeof out->module_path, "%s", p->module_path ? p->module_path : "");
  out->line = caller ? p->line : 0;
  return true;
}

static int on_key(tui_vstate *st, const tui_ctx *ctx, int key, char id[HUD_UUID_STRLEN + 1], char *name,
                  size_t cap) {
  if (key == 'x' && st->function_id[0]) {
    const hud_function_detail *d = st->data.resp;
    snprintf(id, HUD_UUID_STRLEN + 1, "%s", st->function_id);
    snprintf(name, cap, "%s", st->function_name[0] ? st->function_name : d && d->summary.name ? d->summary.name : "");
    return TUI_K_SCOPED;
  }
  if (key != '\n' && key != '\r') return TUI_K_IGNORED;
  const hud_function_detail *d = st->data.resp;
  if (!d || st->sel >= st->n_rows || st->sel == 0 || st->sel > d->n_callers + d->n_callees) return TUI_K_HANDLED;
  const hud_call_peer *p = peer(d, st->sel);
  if (!p->function_id[0]) return TUI_K_HANDLED;
  snprintf(id, HUD_UUID_STRLEN + 1, "%s", p->function_id);
  snprintf(name, cap, "%s", p->name ? p->name : "");
  return TUI_K_DETAIL;
}

static int encode(const void *resp, char **json) { return hud_function_detail_encode(resp, json, NULL, NULL); }

const tui_view tui_view_detail = {
    .name = "detail",
    .title = "Detail",
    .key = '4',
    .footer = "Enter:follow 5:hot paths x:errors",
    .help = "Enter\tfollow the selected caller or callee (row 1: the function)\n"
            "x\texception paths this function raised, passed or caught\n"
            "j k\tbelow the callees: the function's source, line by line (e, y: that line)\n"
            "v\tthe current version against the previous one, figure by figure\n",
    .uses_function = true,
    .fetch = fetch,
    .index = index_rows,
    .draw = draw,
    .on_key = on_key,
    .selected = selected,
    .encode = encode,
    .print = print,
};
