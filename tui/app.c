/* The interactive framework: layout (header, tabs, view area, status line, footer), keys, the refresh
 * timer with back-off on errors, navigation history, the help overlay. Views come from tui_views[]. */
#define _GNU_SOURCE
#include <curses.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hud/err.h"
#include "tui.h"

#define MAX_VIEWS 8
#define BACK_MAX 32
#define RETRY_MAX_MS 30000

typedef struct back_entry {
  int view;
  size_t sel, top;
  char id[HUD_UUID_STRLEN + 1];
  char name[256];
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
} app;

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
  char win[32], age[32], buf[512], right[64] = "";
  tui_fmt_window(a->q.window_ns, win, sizeof win);
  if (st->data.arena) tui_fmt_age(tui_now_ms() - st->data.fetched_ms, age, sizeof age);
  const char *sep = a->ctx.unicode ? " \u00b7 " : " | ";
  snprintf(buf, sizeof buf, " hud-tui%s%s%senv %s%slast %s%sdata %s%s", sep, a->service[0] ? a->service : "?", sep,
           a->q.env[0] ? a->q.env : "(key's)", sep, win, sep, st->data.arena ? age : "none", st->data.arena ? " ago" : "");
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
  /* Narrow terminals: the filter alone (the sort column is marked in the heads anyway). */
  if (len && x + (int)tui_width(right) + 2 >= COLS) right[len - 2] = '\0';
  if (right[0] && x + (int)tui_width(right) + 2 < COLS) put_right(1, right, tui_term_attr(TUI_TONE_HEAD));
}

static int body_rows(void) { return LINES - 5; } /* header, tabs, column heads, status, footer */

static void draw_table(app *a, const tui_view *v, tui_vstate *st, int y, int h) {
  const tui_table *t = v->table;
  int w[32];
  tui_table_layout(t, COLS, w);
  int sort_col = v->sorts && v->sort_cols ? v->sort_cols[st->sort] : -1;
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
    snprintf(buf, sizeof buf, "/%s_   (Enter keeps, Esc clears)", st->filter);
    tui_put(y, 0, COLS, buf, TUI_TONE_NORMAL, false);
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
  const char *fb = tui_term_fallback();
  if (fb) {
    snprintf(buf, sizeof buf, "unknown TERM '%s': using %s", getenv("TERM") ? getenv("TERM") : "", fb);
    tui_put(y, 0, COLS, buf, TUI_TONE_DIM, false);
    return;
  }
  if (!st->data.arena || (tui_views[a->view] == &tui_view_detail && !st->n_rows)) return;
  if (st->filter[0])
    snprintf(buf, sizeof buf, "row %zu of %zu matching '%s'", st->n_rows ? st->sel + 1 : 0, st->n_rows, st->filter);
  else
    snprintf(buf, sizeof buf, "row %zu of %zu", st->n_rows ? st->sel + 1 : 0, st->n_rows);
  tui_put(y, 0, COLS, buf, TUI_TONE_DIM, false);
}

static void draw_footer(app *a) {
  char buf[512];
  snprintf(buf, sizeof buf, "?:help q:quit %s Tab,1-%zu:views Esc:back P:pause", tui_views[a->view]->footer,
           tui_nviews);
  tui_put(LINES - 1, 0, COLS, buf, TUI_TONE_NORMAL, false);
}

static const char generic_help[] =
    "j k, Up Down\tmove the selection\n"
    "PgUp PgDn\tone page up / down\n"
    "g G, Home End\tfirst / last row\n"
    "Enter\tdrill in\n"
    "Esc Backspace\tback to where Enter came from\n"
    "Tab, 1-6\tnext view (Shift-Tab: previous), a view by number\n"
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
  const char *hz = tui_glyph_h(), *vt = a->ctx.unicode ? "\u2502" : "|";
  const char *c[4] = {"+", "+", "+", "+"};
  if (a->ctx.unicode) {
    c[0] = "\u250c";
    c[1] = "\u2510";
    c[2] = "\u2514";
    c[3] = "\u2518";
  }
  for (int y = y0; y < y0 + h; y++) {
    move(y, x0);
    for (int x = 0; x < w; x++) {
      bool top = y == y0, bot = y == y0 + h - 1, side = x == 0 || x == w - 1;
      const char *g = " ";
      if ((top || bot) && side) g = c[(bot ? 2 : 0) + (x == w - 1)];
      else if (top || bot) g = hz;
      else if (side) g = vt;
      addstr(g);
    }
  }
  int y = y0 + 1;
  char title[128];
  snprintf(title, sizeof title, "Keys (%s view)", v->title);
  tui_put(y++, x0 + 2, w - 4, title, TUI_TONE_HEAD, false);
  help_lines(generic_help, x0 + 2, &y, w - 4, y0 + h - 1);
  if (v->help) help_lines(v->help, x0 + 2, &y, w - 4, y0 + h - 1);
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
  draw_header(a);
  draw_tabs(a);
  int y = 2, h = LINES - 4 - (a->err[0] ? 1 : 0);
  if (v->uses_function && !st->function_id[0])
    tui_put(y + 1, 2, COLS - 4, "No function selected: press Enter on a row of Functions, Flows or Issues.",
            TUI_TONE_DIM, false);
  else if (!st->data.arena)
    tui_put(y + 1, 2, COLS - 4, a->err[0] ? "(no data: see the status line)" : "loading...", TUI_TONE_DIM, false);
  else if (v->table)
    draw_table(a, v, st, y, h);
  else
    v->draw(st, &a->ctx, y, h);
  draw_status(a);
  draw_footer(a);
  if (a->help) draw_help(a);
  refresh();
  if (t0) {
    bool data = st->data.arena != NULL;
    tui_timing_mark(data && !a->shown ? "first-screen" : "drawn", "%s %lld %s", a->fresh ? "data" : "other",
                    (long long)(tui_now_us() - t0), v->name);
    a->shown = a->shown || data;
    a->fresh = false;
  }
}

/* ---------------------------------------------------------------- fetching */

static void submit(app *a, int view) {
  tui_vstate *st = &a->st[view];
  if (tui_views[view]->uses_function && !st->function_id[0]) return;
  tui_query q = a->q;
  snprintf(q.service, sizeof q.service, "%s", a->service);
  q.sort = st->sort;
  snprintf(q.function_id, sizeof q.function_id, "%s", st->function_id);
  int dropped = tui_worker_submit(a->w, view, &q);
  if (dropped >= 0) {
    a->inflight[dropped] = false;
    a->next_fetch[dropped] = 0;
  }
  a->inflight[view] = true;
}

static void apply(app *a, tui_result *r) {
  int64_t now = tui_now_ms();
  tui_vstate *st = &a->st[r->view];
  a->inflight[r->view] = false;
  if (r->service[0] && !a->service[0]) snprintf(a->service, sizeof a->service, "%s", r->service);
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
    a->fails = 0;
    a->err[0] = '\0';
    a->fresh = r->view == a->view;
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

static void tick(app *a) {
  if (a->paused) return;
  tui_result r;
  if (tui_worker_poll(a->w, &r)) {
    apply(a, &r);
    a->dirty = true;
  }
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
  const tui_vstate *d = &a->st[detail_index()];
  _Static_assert(sizeof b->id == sizeof d->function_id && sizeof b->name == sizeof d->function_name, "sizes");
  memcpy(b->id, d->function_id, sizeof b->id);
  memcpy(b->name, d->function_name, sizeof b->name);
  set_function(a, id, name);
  switch_view(a, detail_index());
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
  if (tui_views[b->view]->uses_function && b->id[0]) set_function(a, b->id, b->name);
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

static void move_sel(tui_vstate *st, long delta) {
  if (!st->n_rows) return;
  long s = (long)st->sel + delta;
  if (s < 0) s = 0;
  if (s >= (long)st->n_rows) s = (long)st->n_rows - 1;
  st->sel = (size_t)s;
}

static void on_key(app *a, int ch) {
  if (a->help) {
    a->help = false;
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

int tui_app_run(hud_client *c, const tui_query *q, const tui_ctx *ctx, const tui_app_opts *o) {
  static app a; /* large; one per process */
  memset(&a, 0, sizeof a);
  a.c = c;
  a.o = o;
  a.q = *q;
  a.ctx = *ctx;
  snprintf(a.service, sizeof a.service, "%s", q->service);
  a.view = view_index(o->first_view);
  for (size_t v = 0; v < tui_nviews; v++)
    if (tui_views[v]->uses_function || tui_views[v]->scoped) snprintf(a.st[v].function_id, sizeof a.st[v].function_id, "%s", q->function_id);
  if (o->sort && tui_views[a.view]->sorts)
    for (int i = 0; tui_views[a.view]->sorts[i]; i++)
      if (strcmp(tui_views[a.view]->sorts[i], o->sort) == 0) a.st[a.view].sort = i;
  char err[256];
  if (tui_term_open(o->no_color, o->no_unicode, &a.ctx, err, sizeof err) < 0) {
    fprintf(stderr, "hud-tui: %s\n", err);
    return 1;
  }
  a.ctx.service = a.service;
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
  bool joined = tui_worker_free(a.w);
  for (size_t i = 0; i < MAX_VIEWS; i++) {
    hud_arena_free(a.st[i].data.arena);
    free(a.st[i].rows);
  }
  if (sig) {
    signal(sig, SIG_DFL);
    raise(sig);
  }
  if (!joined) _exit(0); /* a request is still running on the worker: do not free its client under it */
  return 0;
}
