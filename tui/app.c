/* The interactive framework: layout (header, tabs, view area, status line, footer), keys, the refresh
 * timer with back-off on errors, navigation history, the help overlay. Views come from tui_views[]. */
#define _GNU_SOURCE
#include <curses.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hud/err.h"
#include "hud/issue_text.h"
#include "tui.h"

#define MAX_VIEWS 8
#define BACK_MAX 32
#define RETRY_MAX_MS 30000

typedef struct back_entry {
  int view;
  size_t sel, top;
  char id[HUD_UUID_STRLEN + 1];
  char name[256];
  char title[256]; /* the view's own tab-line name (Hot paths from a flow), restored on the way back */
} back_entry;

typedef struct app {
  hud_client *c;
  tui_worker *w;
  const tui_app_opts *o;
  tui_query q;
  tui_ctx ctx;
  char service[128];
  int view;
  tui_vstate st[MAX_VIEWS];
  bool inflight[MAX_VIEWS];
  int64_t next_fetch[MAX_VIEWS];
  int fails;           /* consecutive failed fetches */
  char err[1024];      /* last backend error, "" after a success */
  int64_t retry_at;
  bool paused, help, editing, quit, dirty;
  bool fresh, shown; /* HUD_TUI_TIMING: new data not drawn yet; a screen with data drawn once */
  back_entry back[BACK_MAX];
  int n_back;
  char msg[1024];      /* one-off status message (e, y, pickers), cleared by the next key */
  bool msg_bad;
  unsigned gen;        /* scope generation (service, env, version, window, comparison) */
  char version[128];   /* picked version, "" = all versions */
  bool compare;        /* `v` */
  char cmp_version[128], prev_version[128];
  hud_arena *svc_arena;            /* the last /v1/services answer */
  const hud_services_response *svc;
  bool svc_asked;
  tui_picker pick;
  /* The sparkline pane under Functions: the selected row's detail, asked 150 ms after the selection
   * settles, kept until the view's next refresh. */
  hud_arena *spark_arena;
  const void *spark;
  char spark_id[HUD_UUID_STRLEN + 1], spark_want[HUD_UUID_STRLEN + 1];
  int64_t spark_due;
  bool spark_inflight, spark_stale;
  char spark_err[512];
  int tab_x[MAX_VIEWS], tab_w[MAX_VIEWS];
  char root[4096];
  char want_issue[HUD_UUID_STRLEN + 1]; /* --issue: selected in Issues once listed, "" = done */
  bool issue_inflight;                  /* a status change is on its way */
} app;

enum { PICK_SERVICE = 1, PICK_ENV, PICK_VERSION, PICK_WINDOW };

static void say(app *a, bool bad, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(app *a, bool bad, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(a->msg, sizeof a->msg, fmt, ap);
  va_end(ap);
  a->msg_bad = bad;
}

/* ---------------------------------------------------------------- drawing helpers */

void tui_put(int y, int x, int w, const char *s, int tone, bool sel) {
  if (w <= 0 || y < 0 || y >= LINES || x >= COLS) return;
  if (x + w > COLS) w = COLS - x;
  char buf[2048];
  tui_fit(s, (size_t)w, false, sel, buf, sizeof buf);
  int attr = tui_term_attr(tone) | (sel ? A_REVERSE : 0);
  attron(attr);
  mvaddstr(y, x, buf);
  attroff(attr);
}

static void fill(int y, int attr) {
  attron(attr);
  mvhline(y, 0, ' ', COLS);
  attroff(attr);
}

static void put_right(int y, const char *s, int attr) {
  int w = (int)tui_width(s);
  if (w >= COLS) return;
  char fit[1024];
  tui_fit(s, (size_t)w, false, false, fit, sizeof fit); /* backend text: no control characters */
  attron(attr);
  mvaddstr(y, COLS - w - 1, fit);
  attroff(attr);
}

static void draw_header(app *a) {
  const tui_vstate *st = &a->st[a->view];
  char win[32], age[32], buf[1024], right[64] = "";
  tui_fmt_window(a->q.window_ns, win, sizeof win);
  if (st->data.arena) tui_fmt_age(tui_now_ms() - st->data.fetched_ms, age, sizeof age);
  const char *sep = a->ctx.unicode ? " \u00b7 " : " | ";
  char ver[300] = "";
  if (a->compare)
    snprintf(ver, sizeof ver, "%s%s vs %s", sep, a->cmp_version[0] ? a->cmp_version : "newest",
             a->prev_version[0] ? a->prev_version : "previous");
  else if (a->version[0])
    snprintf(ver, sizeof ver, "%sversion %s", sep, a->version);
  snprintf(buf, sizeof buf, " hud-tui%s%s%senv %s%s%slast %s%sdata %s%s", sep, a->service[0] ? a->service : "?", sep,
           a->q.env[0] ? a->q.env : "(key's)", ver, sep, win, sep, st->data.arena ? age : "none",
           st->data.arena ? " ago" : "");
  int attr = tui_term_attr(-1);
  fill(0, attr);
  if (a->paused) snprintf(right, sizeof right, "PAUSED");
  else if (a->inflight[a->view]) snprintf(right, sizeof right, "loading...");
  attron(attr | A_BOLD);
  char fit[1024];
  tui_fit(buf, (size_t)(COLS - (int)strlen(right) - 2), false, false, fit, sizeof fit);
  mvaddstr(0, 0, fit);
  attroff(attr | A_BOLD);
  if (right[0]) put_right(0, right, attr | A_BOLD);
}

static void draw_tabs(app *a) {
  int x = 0;
  for (size_t i = 0; i < tui_nviews && x < COLS; i++) {
    char t[64];
    snprintf(t, sizeof t, " %c %s ", tui_views[i]->key, tui_views[i]->title);
    tui_put(1, x, (int)strlen(t), t, (int)i == a->view ? TUI_TONE_NORMAL : TUI_TONE_DIM, (int)i == a->view);
    a->tab_x[i] = x;
    a->tab_w[i] = (int)strlen(t);
    x += (int)strlen(t) - 1; /* the next tab's leading blank doubles as the gap */
  }
  x++;
  const tui_view *v = tui_views[a->view];
  const tui_vstate *st = &a->st[a->view];
  char right[256] = "";
  size_t len = 0;
  if (st->filter[0] || a->editing)
    len += (size_t)snprintf(right + len, sizeof right - len, "filter /%s  ", st->filter);
  if (v->sorts) snprintf(right + len, sizeof right - len, "sort %s", v->sorts[st->sort]);
  else if ((v->uses_function || v->scoped) && st->function_name[0]) snprintf(right + len, sizeof right - len, "%s", st->function_name);
  /* The view's mode last, dropped first when the line is too narrow (the heads mark the order too). */
  size_t base = strlen(right);
  if (v->mode) snprintf(right + base, sizeof right - base, "%s%s", base ? "  " : "", v->mode(st));
  if (x + (int)tui_width(right) + 2 >= COLS) right[base] = '\0';
  /* Narrow terminals: the filter alone (the sort column is marked in the heads anyway). */
  if (len && x + (int)tui_width(right) + 2 >= COLS) right[len - 2] = '\0';
  if (right[0] && x + (int)tui_width(right) + 2 < COLS) put_right(1, right, tui_term_attr(TUI_TONE_HEAD));
}

static int body_rows(void) { return LINES - 5; } /* header, tabs, column heads, status, footer */

static void draw_table(app *a, const tui_view *v, tui_vstate *st, int y, int h) {
  const tui_table *t = v->table;
  int w[32];
  tui_table_layout(t, COLS, w);
  int sort_col = v->sort_cols ? v->sort_cols[st->sort] : -1;
  char cellbuf[1024], fit[1024];
  int x = 0;
  for (size_t c = 0; c < t->n_cols; c++) {
    if (!w[c]) continue;
    snprintf(cellbuf, sizeof cellbuf, "%s%s", t->cols[c].head,
             (int)c == sort_col ? (a->ctx.unicode ? "\u25bc" : "*") : "");
    tui_fit(cellbuf, (size_t)w[c], t->cols[c].right, true, fit, sizeof fit);
    tui_put(y, x, w[c], fit, TUI_TONE_HEAD, false);
    x += w[c] + 1;
  }
  int rows = h - 1;
  if (rows < 1) return;
  if (st->sel < st->top) st->top = st->sel;
  if (st->sel >= st->top + (size_t)rows) st->top = st->sel - (size_t)rows + 1;
  if (st->top + (size_t)rows > st->n_rows) st->top = st->n_rows > (size_t)rows ? st->n_rows - (size_t)rows : 0;
  for (int r = 0; r < rows && st->top + (size_t)r < st->n_rows; r++) {
    size_t row = st->top + (size_t)r;
    bool sel = row == st->sel;
    if (y + 1 + r < TUI_HIT_LINES) st->hit[y + 1 + r] = (long)row;
    if (sel) fill(y + 1 + r, A_REVERSE);
    x = 0;
    for (size_t c = 0; c < t->n_cols; c++) {
      if (!w[c]) continue;
      int tone = TUI_TONE_NORMAL;
      t->cell(st, &a->ctx, row, c, cellbuf, sizeof cellbuf, &tone);
      tui_fit(cellbuf, (size_t)w[c], t->cols[c].right, true, fit, sizeof fit);
      tui_put(y + 1 + r, x, w[c], fit, tone, sel);
      x += w[c] + 1;
    }
  }
  if (st->n_rows == 0)
    tui_put(y + 2, 2, COLS - 4, st->filter[0] ? "(nothing matches the filter)" : "(no data in this window)",
            TUI_TONE_DIM, false);
}

static void draw_status(app *a) {
  const tui_vstate *st = &a->st[a->view];
  char buf[1400];
  int y = LINES - 2;
  if (a->editing) {
    char why[256];
    bool bad = tui_filter_error(st->filter, why, sizeof why);
    snprintf(buf, sizeof buf, "/%s_   %s", st->filter, bad ? why : "(Enter keeps, Esc clears; ~ starts a regex)");
    tui_put(y, 0, COLS, buf, bad ? TUI_TONE_BAD : TUI_TONE_NORMAL, false);
    return;
  }
  if (a->err[0]) {
    char retry[32], age[32];
    int64_t left = a->retry_at - tui_now_ms();
    tui_fmt_age(left > 0 ? left + 999 : 0, retry, sizeof retry);
    if (st->data.arena) tui_fmt_age(tui_now_ms() - st->data.fetched_ms, age, sizeof age);
    /* Two lines: what failed, then what happens next and what the screen shows. */
    tui_put(y - 1, 0, COLS, a->err, TUI_TONE_BAD, false);
    snprintf(buf, sizeof buf, "retry in %s; %s%s%s", retry, st->data.arena ? "showing the data from " : "no data yet",
             st->data.arena ? age : "", st->data.arena ? " ago" : "");
    tui_put(y, 0, COLS, buf, TUI_TONE_BAD, false);
    return;
  }
  if (a->msg[0]) {
    tui_put(y, 0, COLS, a->msg, a->msg_bad ? TUI_TONE_BAD : TUI_TONE_NORMAL, false);
    return;
  }
  const char *fb = tui_term_fallback();
  if (fb) {
    snprintf(buf, sizeof buf, "unknown TERM '%s': using %s", getenv("TERM") ? getenv("TERM") : "", fb);
    tui_put(y, 0, COLS, buf, TUI_TONE_DIM, false);
    return;
  }
  if (!st->data.arena || (tui_views[a->view] == &tui_view_detail && !st->n_rows)) return;
  char why[256];
  if (tui_filter_error(st->filter, why, sizeof why)) {
    tui_put(y, 0, COLS, why, TUI_TONE_BAD, false);
    return;
  }
  if (st->filter[0])
    snprintf(buf, sizeof buf, "row %zu of %zu matching '%s'", st->n_rows ? st->sel + 1 : 0, st->n_rows, st->filter);
  else
    snprintf(buf, sizeof buf, "row %zu of %zu", st->n_rows ? st->sel + 1 : 0, st->n_rows);
  tui_put(y, 0, COLS, buf, TUI_TONE_DIM, false);
}

static void draw_footer(app *a) {
  char buf[512];
  int n = snprintf(buf, sizeof buf, "?:help q:quit %s Tab,1-%zu:views Esc:back P:pause", tui_views[a->view]->footer,
                   tui_nviews);
  /* The keys below only where they fit whole. */
  static const char *const more[] = {" e:edit", " y:copy", " v:versions", " S,E,V,w:scope"};
  for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
    if (n + (int)strlen(more[i]) <= COLS && (i > 1 || tui_views[a->view]->selected))
      n += snprintf(buf + n, sizeof buf - (size_t)n, "%s", more[i]);
  tui_put(LINES - 1, 0, COLS, buf, TUI_TONE_NORMAL, false);
}

static const char generic_help[] =
    "j k, Up Down\tmove the selection\n"
    "PgUp PgDn\tone page up / down\n"
    "g G, Home End\tfirst / last row\n"
    "Enter\tdrill in\n"
    "Esc Backspace\tback to where Enter came from\n"
    "Tab, 1-6\tnext view (Shift-Tab: previous), a view by number\n"
    "e y\topen the function in $EDITOR / copy its file:line\n"
    "v\tcompare the current version with the previous one\n"
    "S E V w\tpick service / environment / version / time window\n"
    "mouse\tclick selects, again drills in; wheel scrolls; tabs\n"
    "r\trefresh now\n"
    "P\tpause: freeze the display, stop fetching\n"
    "?\tthis help (any key closes)\n"
    "q\tquit\n";

static void help_lines(const char *text, int x, int *y, int w, int ymax) {
  const char *p = text;
  while (*p && *y < ymax) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    char l[256], out[512];
    snprintf(l, sizeof l, "%.*s", (int)len, p);
    char *tab = strchr(l, '\t');
    if (tab) {
      *tab = '\0';
      snprintf(out, sizeof out, "%-14s %s", l, tab + 1);
    } else {
      snprintf(out, sizeof out, "%s", l);
    }
    tui_put((*y)++, x, w, out, TUI_TONE_NORMAL, false);
    p = nl ? nl + 1 : p + len;
  }
}

static void draw_help(app *a) {
  const tui_view *v = tui_views[a->view];
  int n = 0;
  for (const char *p = generic_help; *p; p++) n += *p == '\n';
  for (const char *p = v->help; p && *p; p++) n += *p == '\n';
  int w = COLS - 4 < 72 ? COLS - 4 : 72, h = n + 3 < LINES - 2 ? n + 3 : LINES - 2;
  int x0 = (COLS - w) / 2, y0 = (LINES - h) / 2;
  tui_box(y0, x0, h, w);
  int y = y0 + 1;
  char title[128];
  snprintf(title, sizeof title, "Keys (%s view)", v->title);
  tui_put(y++, x0 + 2, w - 4, title, TUI_TONE_HEAD, false);
  help_lines(generic_help, x0 + 2, &y, w - 4, y0 + h - 1);
  if (v->help) help_lines(v->help, x0 + 2, &y, w - 4, y0 + h - 1);
}

#define PANE_LINES 3
#define PANE_MIN_LINES 30

/* The pane shows when the view has one, the terminal is tall enough and there are rows. */
static bool pane_shown(const app *a) {
  const tui_view *v = tui_views[a->view];
  const tui_vstate *st = &a->st[a->view];
  return v->selected_id && LINES >= PANE_MIN_LINES && st->data.arena && st->n_rows > 0;
}

static void draw_pane(app *a, int y) {
  const tui_view *v = tui_views[a->view];
  tui_fnref ref;
  memset(&ref, 0, sizeof ref);
  if (v->selected) v->selected(&a->st[a->view], &ref);
  char head[600];
  snprintf(head, sizeof head, "%s %s %s", a->ctx.unicode ? "\u2500\u2500" : "--", ref.name[0] ? ref.name : "?",
           a->ctx.unicode ? "\u2500\u2500" : "--");
  tui_put(y, 0, COLS, head, TUI_TONE_DIM, false);
  if (strcmp(a->spark_id, a->spark_want) != 0) {
    tui_put(y + 1, 1, COLS - 2, "loading...", TUI_TONE_DIM, false);
    return;
  }
  if (!a->spark) {
    char e[600];
    snprintf(e, sizeof e, "(no series: %s)", a->spark_err);
    tui_put(y + 1, 1, COLS - 2, e, TUI_TONE_DIM, false);
    return;
  }
  char p95[1024], calls[1024];
  tui_detail_sparks(a->spark, a->ctx.unicode, COLS > 20 ? (size_t)COLS - 20 : 4, p95, calls, sizeof p95);
  tui_put(y + 1, 1, COLS - 2, p95, TUI_TONE_NORMAL, false);
  tui_put(y + 2, 1, COLS - 2, calls, TUI_TONE_NORMAL, false);
}

static void draw(app *a) {
  int64_t t0 = tui_timing_on() ? tui_now_us() : 0;
  erase();
  a->ctx.cols = COLS;
  a->ctx.lines = LINES;
  if (COLS < 40 || LINES < 8) {
    mvaddstr(0, 0, "hud-tui: terminal too small (40x8 at least)");
    refresh();
    return;
  }
  const tui_view *v = tui_views[a->view];
  tui_vstate *st = &a->st[a->view];
  for (int i = 0; i < TUI_HIT_LINES; i++) st->hit[i] = -1;
  tui_links_reset();
  a->ctx.compare = a->compare;
  draw_header(a);
  draw_tabs(a);
  int y = 2, h = LINES - 4 - (a->err[0] ? 1 : 0);
  if (v->uses_function && !st->function_id[0])
    tui_put(y + 1, 2, COLS - 4, "No function selected: press Enter on a row of Functions, Flows or Issues.",
            TUI_TONE_DIM, false);
  else if (!st->data.arena)
    tui_put(y + 1, 2, COLS - 4, a->err[0] ? "(no data: see the status line)" : "loading...", TUI_TONE_DIM, false);
  else if (v->table && v->pane && st->n_rows > 0 && h >= 12) {
    int ph = h * 2 / 5 < 16 ? h * 2 / 5 : 16;
    draw_table(a, v, st, y, h - ph);
    v->pane(st, &a->ctx, y + h - ph, ph);
  } else if (v->table && pane_shown(a)) {
    draw_table(a, v, st, y, h - PANE_LINES);
    draw_pane(a, y + h - PANE_LINES);
  } else if (v->table)
    draw_table(a, v, st, y, h);
  else
    v->draw(st, &a->ctx, y, h);
  draw_status(a);
  draw_footer(a);
  if (a->help || a->pick.open) tui_links_reset(); /* an overlay may cover them */
  if (a->help) draw_help(a);
  if (a->pick.open) tui_picker_draw(&a->pick);
  refresh();
  tui_links_flush(a->ctx.color);
  if (t0) {
    bool data = st->data.arena != NULL;
    tui_timing_mark(data && !a->shown ? "first-screen" : "drawn", "%s %lld %s", a->fresh ? "data" : "other",
                    (long long)(tui_now_us() - t0), v->name);
    a->shown = a->shown || data;
    a->fresh = false;
  }
}

/* ---------------------------------------------------------------- fetching */

static void compared_versions(app *a);

static void submit(app *a, int view) {
  tui_vstate *st = &a->st[view];
  if (tui_views[view]->uses_function && !st->function_id[0]) return;
  tui_query q = a->q;
  snprintf(q.service, sizeof q.service, "%s", a->service);
  q.sort = st->sort;
  q.gen = a->gen;
  snprintf(q.function_id, sizeof q.function_id, "%s", st->function_id);
  /* The comparison narrows Functions to the compared version; a picked version narrows every view. */
  const char *ver = a->compare && tui_views[view] == &tui_view_functions ? a->cmp_version : a->version;
  snprintf(q.version, sizeof q.version, "%s", ver);
  int dropped = tui_worker_submit(a->w, view, &q);
  if (dropped >= 0) {
    a->inflight[dropped] = false;
    a->next_fetch[dropped] = 0;
  }
  a->inflight[view] = true;
}

/* --issue: the issue's row once Issues lists it (an issue that is muted or resolved is not in the list). */
static void select_wanted(app *a, tui_vstate *st, const tui_view *v) {
  long row = v->find(st, a->want_issue);
  if (row >= 0) st->sel = (size_t)row;
  else say(a, true, "issue %s is not among the active issues (muted or resolved issues are not listed)", a->want_issue);
  a->want_issue[0] = '\0';
}

static int issues_index(void) {
  for (size_t i = 0; i < tui_nviews; i++)
    if (tui_views[i] == &tui_view_issues) return (int)i;
  return 0;
}

/* `a` / `m` in Issues: the server's answer, then the list again (a muted issue leaves it). */
static void apply_issue(app *a, tui_result *r) {
  a->issue_inflight = false;
  int iv = issues_index();
  if (r->rc) {
    char e[1024];
    tui_error_text(&r->err, a->o->url, e, sizeof e);
    if (r->rc == HUD_EFORBIDDEN)
      say(a, true, "cannot change the issue: this API key lacks the triage role (%s)", r->err.message);
    else
      say(a, true, "cannot change the issue: %s", e);
    return;
  }
  tui_vstate *st = &a->st[iv];
  hud_arena_free(st->aux.arena);
  st->aux = r->data;
  const hud_issue *is = r->data.resp;
  char head[600];
  hud_issue_headline(is, a->ctx.unicode, head, sizeof head);
  say(a, false, "issue %s: %s", is->status ? is->status : "?", head);
  if (!a->inflight[iv]) a->next_fetch[iv] = 0;
}

static void change_issue(app *a, const char *id, const char *status) {
  if (a->issue_inflight) {
    say(a, true, "a status change is already on its way");
    return;
  }
  tui_query q = a->q;
  snprintf(q.service, sizeof q.service, "%s", a->service);
  snprintf(q.issue_id, sizeof q.issue_id, "%s", id);
  snprintf(q.issue_status, sizeof q.issue_status, "%s", status);
  q.gen = a->gen;
  tui_worker_submit_side(a->w, TUI_JOB_ISSUE, &q);
  a->issue_inflight = true;
  say(a, false, "setting the issue %s...", status);
}

static void apply(app *a, tui_result *r) {
  int64_t now = tui_now_ms();
  tui_vstate *st = &a->st[r->view];
  a->inflight[r->view] = false;
  if (r->gen != a->gen) {
    hud_arena_free(r->data.arena); /* asked before the scope changed */
    return;
  }
  if (r->service[0] && !a->service[0]) {
    snprintf(a->service, sizeof a->service, "%s", r->service);
    compared_versions(a);
  }
  if (strcmp(r->function_id, st->function_id) != 0) {
    hud_arena_free(r->data.arena); /* answer for a function we already left: ask for the one shown */
    a->next_fetch[r->view] = 0;
    return;
  }
  if (r->rc == 0) {
    hud_arena_free(st->data.arena);
    st->data = r->data;
    tui_views[r->view]->index(st);
    if (st->sel >= st->n_rows) st->sel = st->n_rows ? st->n_rows - 1 : 0;
    if (a->want_issue[0] && tui_views[r->view]->find) select_wanted(a, st, tui_views[r->view]);
    a->fails = 0;
    a->err[0] = '\0';
    a->fresh = r->view == a->view;
    if (tui_views[r->view]->selected_id) a->spark_stale = true; /* the pane follows the refresh */
    a->next_fetch[r->view] = now + a->o->interval_ms;
    return;
  }
  tui_error_text(&r->err, a->o->url, a->err, sizeof a->err);
  int shift = a->fails < 5 ? a->fails : 5;
  int64_t delay = 1000LL << shift;
  a->fails++;
  a->retry_at = now + (delay < RETRY_MAX_MS ? delay : RETRY_MAX_MS);
  a->next_fetch[r->view] = a->retry_at;
}

/* The service's environment in scope (the only one when none is named), or NULL. */
static const hud_environment_info *scope_env(const app *a) {
  for (size_t i = 0; a->svc && i < a->svc->n_services; i++) {
    const hud_service_info *s = &a->svc->services[i];
    if (strcmp(s->name, a->service) != 0) continue;
    for (size_t e = 0; e < s->n_environments; e++)
      if (a->q.env[0] ? strcmp(s->environments[e].name, a->q.env) == 0 : s->n_environments == 1)
        return &s->environments[e];
  }
  return NULL;
}

static void refetch_all(app *a, bool clear);
static void fill_picker(app *a);

/* The compared version (the picked one, else the newest) and the one before it, from /v1/services. */
static void compared_versions(app *a) {
  const hud_environment_info *env = scope_env(a);
  char cur[sizeof a->cmp_version], prev[sizeof a->prev_version];
  snprintf(cur, sizeof cur, "%s", a->version);
  prev[0] = '\0';
  for (size_t i = 0; env && i < env->n_versions; i++) {
    if (!cur[0]) snprintf(cur, sizeof cur, "%s", env->versions[i].version);
    if (strcmp(env->versions[i].version, cur) == 0) {
      if (i + 1 < env->n_versions) snprintf(prev, sizeof prev, "%s", env->versions[i + 1].version);
      break;
    }
  }
  bool changed = strcmp(cur, a->cmp_version) != 0;
  snprintf(a->cmp_version, sizeof a->cmp_version, "%s", cur);
  snprintf(a->prev_version, sizeof a->prev_version, "%s", prev);
  if (changed && a->compare) refetch_all(a, false);
}

static void apply_services(app *a, tui_result *r) {
  if (r->rc != 0) {
    char e[1024];
    tui_error_text(&r->err, a->o->url, e, sizeof e);
    say(a, true, "services list: %s", e);
    return;
  }
  hud_arena_free(a->svc_arena);
  a->svc_arena = r->data.arena;
  a->svc = r->data.resp;
  compared_versions(a);
  if (a->pick.open && a->pick.kind != PICK_WINDOW) fill_picker(a); /* keeps the filter and the selection */
}

static void apply_spark(app *a, tui_result *r) {
  a->spark_inflight = false;
  if (r->gen != a->gen || strcmp(r->function_id, a->spark_want) != 0) {
    hud_arena_free(r->data.arena); /* moved on since */
    return;
  }
  hud_arena_free(a->spark_arena);
  a->spark_arena = r->data.arena; /* NULL on failure: the pane says why until the next refresh */
  a->spark = r->rc == 0 ? r->data.resp : NULL;
  if (r->rc) tui_error_text(&r->err, a->o->url, a->spark_err, sizeof a->spark_err);
  snprintf(a->spark_id, sizeof a->spark_id, "%s", r->function_id);
  a->spark_stale = false;
}

/* Asks for the selected row's detail once the selection rested 150 ms; again after a refresh. */
static void want_spark(app *a) {
  char id[HUD_UUID_STRLEN + 1];
  if (!pane_shown(a) || !tui_views[a->view]->selected_id(&a->st[a->view], id)) return;
  int64_t now = tui_now_ms();
  if (strcmp(id, a->spark_want) != 0) {
    snprintf(a->spark_want, sizeof a->spark_want, "%s", id);
    a->spark_due = now + 150;
    a->dirty = true;
  }
  bool have = strcmp(a->spark_id, a->spark_want) == 0 && !a->spark_stale;
  if (a->spark_inflight || have || now < a->spark_due) return;
  tui_query q = a->q;
  snprintf(q.service, sizeof q.service, "%s", a->service);
  snprintf(q.version, sizeof q.version, "%s", a->version);
  snprintf(q.function_id, sizeof q.function_id, "%s", a->spark_want);
  q.gen = a->gen;
  tui_worker_submit_side(a->w, TUI_JOB_SPARK, &q);
  a->spark_inflight = true;
}

static void tick(app *a) {
  tui_result r;
  if (tui_worker_poll_side(a->w, TUI_JOB_SERVICES, &r)) {
    apply_services(a, &r);
    a->dirty = true;
  }
  if (tui_worker_poll_side(a->w, TUI_JOB_ISSUE, &r)) {
    apply_issue(a, &r);
    a->dirty = true;
  }
  if (a->paused) return;
  if (!a->svc_asked) {
    tui_worker_submit_side(a->w, TUI_JOB_SERVICES, &a->q);
    a->svc_asked = true;
  }
  if (tui_worker_poll(a->w, &r)) {
    apply(a, &r);
    a->dirty = true;
  }
  if (tui_worker_poll_side(a->w, TUI_JOB_SPARK, &r)) {
    apply_spark(a, &r);
    a->dirty = true;
  }
  want_spark(a);
  if (!a->inflight[a->view] && tui_now_ms() >= a->next_fetch[a->view]) {
    submit(a, a->view);
    a->dirty = true;
  }
}

/* ---------------------------------------------------------------- navigation */

static void switch_view(app *a, int v) {
  if (v < 0 || v >= (int)tui_nviews) return;
  a->view = v;
  tui_vstate *st = &a->st[v];
  int64_t now = tui_now_ms();
  if (!a->inflight[v] && (!st->data.arena || now - st->data.fetched_ms >= a->o->interval_ms) &&
      a->next_fetch[v] > now && !a->err[0])
    a->next_fetch[v] = 0;
}

static int detail_index(void) {
  for (size_t i = 0; i < tui_nviews; i++)
    if (tui_views[i] == &tui_view_detail) return (int)i;
  return 0;
}

/* Every view about one function now shows ID. */
static void set_function(app *a, const char *id, const char *name) {
  for (size_t v = 0; v < tui_nviews; v++) {
    tui_vstate *st = &a->st[v];
    if (!tui_views[v]->uses_function || strcmp(st->function_id, id) == 0) continue;
    snprintf(st->function_id, sizeof st->function_id, "%s", id);
    snprintf(st->function_name, sizeof st->function_name, "%s", name);
    hud_arena_free(st->data.arena);
    st->data.arena = NULL;
    st->data.resp = NULL;
    st->n_rows = st->sel = st->top = 0;
    a->inflight[v] = false;
    a->next_fetch[v] = 0;
  }
}

static void go_detail(app *a, const char *id, const char *name) {
  if (a->n_back == BACK_MAX) {
    memmove(a->back, a->back + 1, sizeof a->back[0] * (BACK_MAX - 1));
    a->n_back--;
  }
  back_entry *b = &a->back[a->n_back++];
  b->view = a->view;
  b->sel = a->st[a->view].sel;
  b->top = a->st[a->view].top;
  memcpy(b->title, a->st[a->view].function_name, sizeof b->title);
  const tui_vstate *d = &a->st[detail_index()];
  _Static_assert(sizeof b->title == sizeof d->function_name && sizeof b->id == sizeof d->function_id && sizeof b->name == sizeof d->function_name, "sizes");
  memcpy(b->id, d->function_id, sizeof b->id);
  memcpy(b->name, d->function_name, sizeof b->name);
  set_function(a, id, name);
  switch_view(a, detail_index());
}

/* Hot paths rooted at ID (named NAME), its tab line saying TITLE; Esc comes back here. */
static void go_paths(app *a, const char *id, const char *name, const char *title) {
  int v = 0;
  while (v < (int)tui_nviews && tui_views[v] != &tui_view_paths) v++;
  if (v == (int)tui_nviews) return;
  go_detail(a, id, name);
  snprintf(a->st[v].function_name, sizeof a->st[v].function_name, "%s", title[0] ? title : name);
  switch_view(a, v);
}

/* The scoped view (Errors) about ID, with a way back to where the key was pressed. */
static void go_scoped(app *a, const char *id, const char *name) {
  int v = 0;
  while (v < (int)tui_nviews && !tui_views[v]->scoped) v++;
  if (v == (int)tui_nviews) return;
  tui_vstate *st = &a->st[v];
  if (strcmp(st->function_id, id) != 0) {
    snprintf(st->function_id, sizeof st->function_id, "%s", id);
    hud_arena_free(st->data.arena);
    st->data.arena = NULL;
    st->data.resp = NULL;
    st->n_rows = 0;
    a->inflight[v] = false;
    a->next_fetch[v] = 0;
  }
  snprintf(st->function_name, sizeof st->function_name, "%s", name);
  st->sel = st->top = 0;
  if (a->n_back == BACK_MAX) {
    memmove(a->back, a->back + 1, sizeof a->back[0] * (BACK_MAX - 1));
    a->n_back--;
  }
  back_entry *b = &a->back[a->n_back++];
  b->view = a->view;
  b->sel = a->st[a->view].sel;
  b->top = a->st[a->view].top;
  memcpy(b->title, a->st[a->view].function_name, sizeof b->title);
  const tui_vstate *d = &a->st[detail_index()];
  memcpy(b->id, d->function_id, sizeof b->id);
  memcpy(b->name, d->function_name, sizeof b->name);
  switch_view(a, v);
}

static void go_back(app *a) {
  if (a->n_back == 0) {
    if (a->st[a->view].filter[0]) {
      a->st[a->view].filter[0] = '\0';
      tui_views[a->view]->index(&a->st[a->view]);
    }
    return;
  }
  back_entry *b = &a->back[--a->n_back];
  if (tui_views[b->view]->uses_function && b->id[0]) {
    set_function(a, b->id, b->name);
    memcpy(a->st[b->view].function_name, b->title, sizeof b->title);
  }
  switch_view(a, b->view);
  a->st[b->view].sel = b->sel; /* kept in range when the data comes (apply) */
  a->st[b->view].top = b->top;
}

static void edit_filter(app *a, int ch) {
  tui_vstate *st = &a->st[a->view];
  size_t len = strlen(st->filter);
  if (ch == 27) {
    st->filter[0] = '\0';
    a->editing = false;
  } else if (ch == '\r' || ch == '\n' || ch == KEY_ENTER) {
    a->editing = false;
    return;
  } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
    if (len) st->filter[len - 1] = '\0';
  } else if (ch >= 32 && ch < 127 && len + 1 < sizeof st->filter) {
    st->filter[len] = (char)ch;
    st->filter[len + 1] = '\0';
  } else {
    return;
  }
  tui_views[a->view]->index(st);
  st->sel = st->top = 0;
}

/* A new scope: answers in flight are dropped (generation) and every view is fetched again; CLEAR drops the
 * data on screen too (it belongs to another service, environment, version or window). */
static void refetch_all(app *a, bool clear) {
  a->gen++;
  for (size_t v = 0; v < tui_nviews; v++) {
    a->inflight[v] = false;
    a->next_fetch[v] = 0;
    if (!clear) continue;
    hud_arena_free(a->st[v].data.arena);
    a->st[v].data.arena = NULL;
    a->st[v].data.resp = NULL;
    a->st[v].n_rows = a->st[v].sel = a->st[v].top = 0;
  }
  a->err[0] = '\0';
  a->fails = 0;
  a->retry_at = 0;
}

/* ---------------------------------------------------------------- e, y, v */

static bool selected_fn(app *a, tui_fnref *fn) {
  const tui_view *v = tui_views[a->view];
  if (!v->selected || !v->selected(&a->st[a->view], fn)) {
    say(a, true, "no function on this row");
    return false;
  }
  if (!fn->module_path[0]) {
    say(a, true, "%s: the server knows no file for it", fn->name[0] ? fn->name : "this function");
    return false;
  }
  return true;
}

static void edit_selected(app *a) {
  tui_fnref fn;
  char path[4096];
  int line = 0, status = 0;
  if (!selected_fn(a, &fn)) return;
  if (tui_source_find(&a->ctx, &fn, path, sizeof path, &line) < 0) {
    say(a, true, "%s not found under %s (--root DIR)", fn.module_path, a->root[0] ? a->root : "the current directory");
    return;
  }
  if (tui_edit(path, line, &status) < 0) say(a, true, "cannot run the editor ($VISUAL, $EDITOR, vi)");
  else if (status != 0) say(a, true, "the editor exited with status %d (%s)", status, path);
  else if (line > 0) say(a, false, "edited %s:%d", path, line);
  else say(a, false, "edited %s (no line known for %s)", path, fn.name);
}

static void copy_selected(app *a) {
  tui_fnref fn;
  char path[4096], text[4200];
  int line = 0;
  if (!selected_fn(a, &fn)) return;
  if (tui_source_find(&a->ctx, &fn, path, sizeof path, &line) < 0) {
    snprintf(path, sizeof path, "%s", fn.module_path); /* not here: the module path still says where */
    line = fn.line;
  }
  if (line > 0) snprintf(text, sizeof text, "%s:%d", path, line);
  else snprintf(text, sizeof text, "%s", path);
  if (tui_clipboard(text) < 0) say(a, true, "cannot write to the terminal's clipboard");
  else say(a, false, "copied %s (OSC 52)", text);
}

static int sort_index(const tui_view *v, const char *name) {
  for (int i = 0; v->sorts && v->sorts[i]; i++)
    if (strcmp(v->sorts[i], name) == 0) return i;
  return -1;
}

/* `v`: views that can sort by change do so while comparing, and go back to their sort after. */
static void toggle_compare(app *a) {
  a->compare = !a->compare;
  for (size_t v = 0; v < tui_nviews; v++) {
    int ch = sort_index(tui_views[v], "change");
    if (ch < 0) continue;
    tui_vstate *st = &a->st[v];
    if (a->compare) st->view_sort = st->sort;
    st->sort = a->compare ? ch : st->view_sort;
    if (st->data.arena) tui_views[v]->index(st);
  }
  compared_versions(a);
  refetch_all(a, false);
  if (a->compare)
    say(a, false, "comparing %s with %s (v again: all versions)", a->cmp_version[0] ? a->cmp_version : "the newest version",
        a->prev_version[0] ? a->prev_version : "the previous one");
  else
    say(a, false, "all versions");
}

/* ---------------------------------------------------------------- pickers */

static const char *const windows[] = {"15m", "1h", "6h", "24h", "7d"};
static const int64_t window_min[] = {15, 60, 360, 1440, 10080};

static void fill_picker(app *a) {
  tui_picker *p = &a->pick;
  p->n = 0;
  snprintf(p->empty, sizeof p->empty, "%s", a->svc ? "(none)" : "loading...");
  if (p->kind == PICK_WINDOW) {
    for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++)
      tui_picker_add(p, windows[i], a->q.window_ns == window_min[i] * 60000000000LL);
    return;
  }
  if (!a->svc) return;
  if (p->kind == PICK_ENV) tui_picker_add(p, "(the key's environment)", !a->q.env[0]);
  if (p->kind == PICK_VERSION) tui_picker_add(p, "all versions", !a->version[0]);
  for (size_t i = 0; i < a->svc->n_services; i++) {
    const hud_service_info *s = &a->svc->services[i];
    if (p->kind == PICK_SERVICE) tui_picker_add(p, s->name, strcmp(s->name, a->service) == 0);
    if (strcmp(s->name, a->service) != 0) continue;
    for (size_t e = 0; e < s->n_environments; e++) {
      const hud_environment_info *env = &s->environments[e];
      if (p->kind == PICK_ENV) tui_picker_add(p, env->name, strcmp(env->name, a->q.env) == 0);
      if (p->kind != PICK_VERSION || (a->q.env[0] && strcmp(env->name, a->q.env) != 0)) continue;
      for (size_t v = 0; v < env->n_versions; v++)
        tui_picker_add(p, env->versions[v].version, strcmp(env->versions[v].version, a->version) == 0);
    }
  }
}

static void open_picker(app *a, int kind) {
  static const char *const titles[] = {"", "Service", "Environment", "Version", "Time window"};
  tui_picker_open(&a->pick, kind, titles[kind]);
  if (kind != PICK_WINDOW) tui_worker_submit_side(a->w, TUI_JOB_SERVICES, &a->q); /* fresh names */
  fill_picker(a);
  tui_picker_focus_current(&a->pick);
}

/* Every view about one function forgets it (another service has other functions). */
static void forget_function(app *a) {
  for (size_t v = 0; v < tui_nviews; v++) {
    a->st[v].function_id[0] = '\0';
    a->st[v].function_name[0] = '\0';
  }
  a->n_back = 0;
}

static void picked(app *a, size_t i) {
  const char *item = a->pick.items[i];
  bool first = i == 0 && (a->pick.kind == PICK_ENV || a->pick.kind == PICK_VERSION);
  switch (a->pick.kind) {
  case PICK_SERVICE:
    if (strcmp(a->service, item) == 0) return;
    snprintf(a->service, sizeof a->service, "%s", item);
    forget_function(a);
    break;
  case PICK_ENV: snprintf(a->q.env, sizeof a->q.env, "%.63s", first ? "" : item); break;
  case PICK_VERSION: snprintf(a->version, sizeof a->version, "%s", first ? "" : item); break;
  case PICK_WINDOW: a->q.window_ns = window_min[i] * 60000000000LL; break;
  default: return;
  }
  a->ctx.window_ns = a->q.window_ns;
  compared_versions(a);
  refetch_all(a, true);
}

static void picker_key(app *a, int ch) {
  size_t i;
  if (ch == KEY_ENTER) ch = '\r';
  if (tui_picker_key(&a->pick, ch, &i) == 1) picked(a, i);
}

static void move_sel(tui_vstate *st, long delta) {
  if (!st->n_rows) return;
  long s = (long)st->sel + delta;
  if (s < 0) s = 0;
  if (s >= (long)st->n_rows) s = (long)st->n_rows - 1;
  st->sel = (size_t)s;
}

static void on_key(app *a, int ch);

/* Click: select the row (on the selected row: drill in, so a double click drills in too); wheel: scroll;
 * click on a tab: that view. */
static void on_mouse(app *a) {
  MEVENT m;
  if (getmouse(&m) != OK) return;
  if (a->help) {
    a->help = false;
    return;
  }
  if (a->pick.open || a->editing) return;
  tui_vstate *st = &a->st[a->view];
  if (m.bstate & BUTTON4_PRESSED) move_sel(st, -3);
  else if (m.bstate & BUTTON5_PRESSED) move_sel(st, 3);
  if (!(m.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED))) return;
  if (m.y == 1) {
    for (size_t i = 0; i < tui_nviews; i++)
      if (m.x >= a->tab_x[i] && m.x < a->tab_x[i] + a->tab_w[i] - 1) switch_view(a, (int)i);
    return;
  }
  if (m.y < 0 || m.y >= TUI_HIT_LINES || st->hit[m.y] < 0) return;
  size_t row = (size_t)st->hit[m.y];
  if (row == st->sel || (m.bstate & BUTTON1_DOUBLE_CLICKED)) on_key(a, '\r');
  else st->sel = row;
}

static void on_key(app *a, int ch) {
  if (ch != KEY_MOUSE) a->msg[0] = '\0';
  if (ch == KEY_MOUSE) {
    on_mouse(a);
    return;
  }
  if (a->help) {
    a->help = false;
    return;
  }
  if (a->pick.open) {
    picker_key(a, ch);
    return;
  }
  if (a->editing) {
    edit_filter(a, ch);
    return;
  }
  const tui_view *v = tui_views[a->view];
  tui_vstate *st = &a->st[a->view];
  long page = body_rows() > 1 ? body_rows() - 1 : 1;
  if (ch == KEY_ENTER) ch = '\r';
  switch (ch) {
  case 'q': a->quit = true; return;
  case '?': a->help = true; return;
  case 'P': a->paused = !a->paused; return;
  case '\t': switch_view(a, (a->view + 1) % (int)tui_nviews); return;
  case KEY_BTAB: switch_view(a, (a->view + (int)tui_nviews - 1) % (int)tui_nviews); return;
  case KEY_UP: case 'k': move_sel(st, -1); return;
  case KEY_DOWN: case 'j': move_sel(st, 1); return;
  case KEY_PPAGE: move_sel(st, -page); return;
  case KEY_NPAGE: move_sel(st, page); return;
  case KEY_HOME: case 'g': move_sel(st, -(long)st->n_rows); return;
  case KEY_END: case 'G': move_sel(st, (long)st->n_rows); return;
  case KEY_BACKSPACE: case 127: case 8: case 27: go_back(a); return;
  case 'r': a->next_fetch[a->view] = 0; a->retry_at = 0; return;
  case 'e': edit_selected(a); return;
  case 'y': copy_selected(a); return;
  case 'v': toggle_compare(a); return;
  case 'S': open_picker(a, PICK_SERVICE); return;
  case 'E': open_picker(a, PICK_ENV); return;
  case 'V': open_picker(a, PICK_VERSION); return;
  case 'w': open_picker(a, PICK_WINDOW); return;
  case '/':
    if (v->filterable) a->editing = true;
    return;
  default: break;
  }
  for (size_t i = 0; i < tui_nviews; i++)
    if (tui_views[i]->key == ch) {
      switch_view(a, (int)i);
      return;
    }
  if (!v->on_key) return;
  char id[HUD_UUID_STRLEN + 1] = "", name[256] = "";
  int r = v->on_key(st, &a->ctx, ch, id, name, sizeof name);
  if (r == TUI_K_REFETCH) {
    v->index(st);
    st->sel = st->top = 0;
    if (!a->inflight[a->view]) a->next_fetch[a->view] = 0;
  } else if (r == TUI_K_DETAIL && id[0]) {
    go_detail(a, id, name);
  } else if (r == TUI_K_SCOPED && id[0]) {
    go_scoped(a, id, name);
  } else if (r == TUI_K_PATHS && id[0]) {
    go_paths(a, id, name, name + strlen(name) + 1);
  } else if (r == TUI_K_ISSUE && id[0]) {
    change_issue(a, id, name);
  }
}

/* ---------------------------------------------------------------- the loop */

/* Sleeps until a key, a finished fetch or MS pass (a signal ends it too): a response is drawn as soon as
 * it is decoded, not at the next tick. */
static void wait_input(const app *a, int ms) {
  struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = tui_worker_fd(a->w), .events = POLLIN}};
  poll(p, 2, ms);
}

static int view_index(const char *name) {
  for (size_t i = 0; name && i < tui_nviews; i++)
    if (strcmp(tui_views[i]->name, name) == 0) return (int)i;
  return 0;
}

/* The last view and sorts (tui.state); --view and --sort given on the command line win. */
static void remember(app *a, const tui_app_opts *o) {
  tui_state s;
  if (tui_state_load(&s) != 0) s.view[0] = '\0';
  a->view = view_index(o->first_view ? o->first_view : s.view[0] ? s.view : NULL);
  for (size_t i = 0; i < s.n_sorts; i++) {
    const tui_view *v = tui_view_by_name(s.sort_view[i]);
    int k = v ? sort_index(v, s.sort[i]) : -1;
    for (size_t j = 0; k >= 0 && j < tui_nviews; j++)
      if (tui_views[j] == v) a->st[j].sort = k;
  }
}

static void save_state(app *a) {
  tui_state s;
  memset(&s, 0, sizeof s);
  snprintf(s.view, sizeof s.view, "%s", tui_views[a->view]->name);
  for (size_t v = 0; v < tui_nviews && s.n_sorts < TUI_STATE_VIEWS; v++) {
    if (!tui_views[v]->sorts) continue;
    const tui_vstate *st = &a->st[v];
    int sort = a->compare && sort_index(tui_views[v], "change") >= 0 ? st->view_sort : st->sort; /* not v's */
    snprintf(s.sort_view[s.n_sorts], sizeof s.sort_view[0], "%s", tui_views[v]->name);
    snprintf(s.sort[s.n_sorts++], sizeof s.sort[0], "%s", tui_views[v]->sorts[sort]);
  }
  tui_state_save(&s); /* best effort: a read-only home costs the memory, nothing else */
}

int tui_app_run(hud_client *c, const tui_query *q, const tui_ctx *ctx, const tui_app_opts *o) {
  static app a; /* large; one per process */
  memset(&a, 0, sizeof a);
  a.c = c;
  a.o = o;
  a.q = *q;
  a.ctx = *ctx;
  snprintf(a.service, sizeof a.service, "%s", q->service);
  snprintf(a.root, sizeof a.root, "%s", o->root ? o->root : "");
  snprintf(a.want_issue, sizeof a.want_issue, "%s", o->issue_id ? o->issue_id : "");
  remember(&a, o);
  for (size_t v = 0; v < tui_nviews; v++)
    if (tui_views[v]->uses_function || tui_views[v]->scoped) snprintf(a.st[v].function_id, sizeof a.st[v].function_id, "%s", q->function_id);
  if (o->sort && sort_index(tui_views[a.view], o->sort) >= 0) a.st[a.view].sort = sort_index(tui_views[a.view], o->sort);
  char err[256];
  if (o->filter && tui_views[a.view]->filterable) {
    snprintf(a.st[a.view].filter, sizeof a.st[a.view].filter, "%s", o->filter);
    if (tui_filter_error(o->filter, err, sizeof err)) {
      fprintf(stderr, "hud-tui: --filter: %s\n", err);
      return 2;
    }
  }
  if (tui_term_open(o->no_color, o->no_unicode, &a.ctx, err, sizeof err) < 0) {
    fprintf(stderr, "hud-tui: %s\n", err);
    return 1;
  }
  a.ctx.service = a.service;
  a.ctx.root = a.root;
  a.ctx.version = a.cmp_version;
  a.ctx.prev_version = a.prev_version;
  a.ctx.links = !o->no_links && tui_links_supported(getenv("TERM"));
  if (!o->no_mouse) {
    mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0); /* presses as they come: a click on the selected row is the double click */
  }
  if (tui_worker_new(&a.w, c) < 0) {
    tui_term_close();
    fprintf(stderr, "hud-tui: cannot start the fetch thread\n");
    return 1;
  }
  timeout(0); /* the wait is wait_input's */
  a.dirty = true;
  int64_t last_draw = 0;
  bool typed = false; /* curses may hold more keys than the terminal has left: read them before sleeping */
  while (!a.quit && !tui_term_stop_signal()) {
    tick(&a);
    int64_t now = tui_now_ms();
    if (a.dirty || now - last_draw >= 1000) {
      draw(&a);
      last_draw = now;
      a.dirty = false;
    }
    if (!typed) wait_input(&a, 100);
    int ch = getch();
    typed = ch != ERR;
    if (ch == ERR) continue;
    a.dirty = true;
    if (ch != KEY_RESIZE) on_key(&a, ch);
  }
  int sig = tui_term_stop_signal();
  tui_term_close();
  save_state(&a);
  bool joined = tui_worker_free(a.w);
  hud_arena_free(a.svc_arena);
  hud_arena_free(a.spark_arena);
  for (size_t i = 0; i < MAX_VIEWS; i++) {
    hud_arena_free(a.st[i].data.arena);
    hud_arena_free(a.st[i].aux.arena);
    free(a.st[i].rows);
  }
  if (sig) {
    signal(sig, SIG_DFL);
    raise(sig);
  }
  if (!joined) _exit(0); /* a request is still running on the worker: do not free its client under it */
  return 0;
}
