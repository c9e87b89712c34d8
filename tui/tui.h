/* hud-tui internals: the view table, per-view state, the fetch worker and the shared formatting.
 *
 * A view is one file (view_*.c) exporting a const tui_view: how to fetch its data (on the worker thread,
 * through hud/api.h), how to lay out its rows (a tui_table, shared by the screen and --once) and what its
 * own keys do. The framework (app.c) owns the terminal, the layout, the generic keys, the refresh timer
 * and the status line; views never touch the terminal outside the window area they are given. */
#ifndef TUI_H
#define TUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hud/api.h"
#include "hud/err.h"
#include "hud/model.h"

/* What one fetch needs: copied to the worker thread, so plain buffers only. */
typedef struct tui_query {
  char service[128];
  char env[64];       /* "" = the key's only environment */
  int64_t window_ns;  /* from = now - window */
  int sort;           /* view-specific sort column */
  int limit;
  char function_id[HUD_UUID_STRLEN + 1]; /* detail view */
  char version[128];  /* scope.version; "" = all versions */
  unsigned gen;       /* scope generation: answers for an older scope are dropped */
  char issue_id[HUD_UUID_STRLEN + 1]; /* TUI_JOB_ISSUE: the issue to change */
  char issue_status[16];              /* TUI_JOB_ISSUE: acknowledged, muted or open */
} tui_query;

/* One decoded response and the arena holding it (owned by the view state that keeps it). */
typedef struct tui_data {
  hud_arena *arena;
  void *resp;          /* the view's response type, inside ARENA */
  int64_t fetched_ms;  /* monotonic clock, ms */
} tui_data;

/* Tone of a cell: the framework maps it to colour or, without colour, to bold/plain. */
enum { TUI_TONE_NORMAL = 0, TUI_TONE_BAD, TUI_TONE_GOOD, TUI_TONE_DIM, TUI_TONE_HEAD };

#define TUI_HIT_LINES 256 /* screen lines the mouse can hit */
#define TUI_FLEX_MAX 56 /* widest a flexible column grows, unless it is the last one shown */

typedef struct tui_col {
  const char *head;
  int width;      /* columns; 0 = flexible, takes what is left (at least MIN) */
  int min;        /* flexible columns: smallest width */
  bool right;     /* right-aligned (numbers) */
  int need;       /* shown only when the terminal is at least this wide (0 = always) */
} tui_col;

struct tui_vstate;
struct tui_ctx;

/* Rows of a view as a table; the same callbacks feed the screen and --once. */
typedef struct tui_table {
  const tui_col *cols;
  size_t n_cols;
  /* Text of row ROW (an index of st->rows), column COL, into BUF; *TONE may be set. */
  void (*cell)(const struct tui_vstate *st, const struct tui_ctx *ctx, size_t row, size_t col, char *buf,
               size_t cap, int *tone);
} tui_table;

/* Per-view state, owned by the framework; views keep their own figures in DATA and ROWS. */
typedef struct tui_vstate {
  tui_data data;             /* the last good response; arena NULL = none yet */
  size_t *rows;              /* visible rows: indices into the response, after filter and sort */
  size_t n_rows;
  size_t sel, top;           /* selected row, first row on screen */
  int sort;                  /* index into the view's sort names */
  char filter[64];           /* filter: substring, or `~` and a regex ("" = none) */
  char function_id[HUD_UUID_STRLEN + 1]; /* detail: the function shown */
  char function_name[256];
  int view_sort;             /* sort before the version comparison switched it (Functions) */
  long hit[TUI_HIT_LINES];   /* row drawn on each screen line by the last draw, -1 = none (the mouse) */
  tui_data aux;              /* a view's second answer (Issues: the issue last changed, with its history) */
} tui_vstate;

/* A function a row stands for, for the editor and the clipboard (`e`, `y`). */
typedef struct tui_fnref {
  char name[256];
  char module_path[512];
  int line;                  /* 1-based; 0 = unknown (the editor opens the file at its `def NAME`) */
} tui_fnref;

#define TUI_DIRECT_COLOR 0x1000000 /* 24-bit RGB colour numbers (terminfo colors#0x1000000) */

/* Framework state that views may read. */
typedef struct tui_ctx {
  const char *url;
  const char *service;
  const char *env;
  int64_t window_ns;
  bool color, unicode;
  int colors;                /* colour tier: 0 (none), 8, 256 or TUI_DIRECT_COLOR */
  int cols, lines;           /* terminal size */
  const char *root;          /* source root for `e`, `y` and links ("" = the current directory) */
  bool links;                /* OSC 8 hyperlinks on file:line (terminal known to support them) */
  bool compare;              /* `v`: current version vs the previous one */
  const char *version;       /* the compared (or picked) version, "" = none known */
  const char *prev_version;  /* the version before it, "" = none known */
} tui_ctx;

/* What a view's key handler asks the framework to do. */
enum { TUI_K_IGNORED = 0, TUI_K_HANDLED, TUI_K_REFETCH, TUI_K_DETAIL, TUI_K_SCOPED, TUI_K_PATHS, TUI_K_ISSUE };

typedef struct tui_view {
  const char *name;          /* "functions": --view and --once */
  const char *title;         /* "Functions" */
  int key;                   /* digit that selects it */
  const char *footer;        /* the view's own keys, for the footer */
  const char *help;          /* lines for the ? overlay ("key\tmeaning\n" ...) */
  bool filterable;           /* `/` applies */
  bool uses_function;        /* about one function: the one Enter chose (shared by every such view) */
  bool scoped;               /* the whole service, or one function when a view's key returned TUI_K_SCOPED
                              * (its own choice, not shared); a key of the view may drop it */
  const char *const *sorts;  /* sort names, NULL-terminated; NULL = no sort */
  const int *sort_cols;      /* table column of each sort (for the header's marker) */
  const tui_table *table;    /* NULL: the view draws free-form (detail) */
  /* Worker thread: fills *RESP inside ARENA. Returns 0 or HUD_E* (ERR filled). */
  int (*fetch)(hud_client *c, const tui_query *q, hud_arena *arena, void **resp, hud_api_error *err);
  /* Rebuilds st->rows from st->data (filter, sort). */
  void (*index)(tui_vstate *st);
  /* Free-form views draw lines [Y, Y+H) themselves; NULL for table views. */
  void (*draw)(tui_vstate *st, const tui_ctx *ctx, int y, int h);
  /* Keys beyond the framework's; NULL = none. For TUI_K_DETAIL (open Detail) and TUI_K_SCOPED (open the
   * scoped view about that function), fills DETAIL_ID / DETAIL_NAME. TUI_K_PATHS (open Hot paths rooted at
   * DETAIL_ID): DETAIL_NAME holds the function's name, then after its NUL the title for the tab line.
   * TUI_K_ISSUE (change an issue's status on the server): DETAIL_ID the issue_id, DETAIL_NAME the status. */
  int (*on_key)(tui_vstate *st, const tui_ctx *ctx, int key, char detail_id[HUD_UUID_STRLEN + 1],
                char *detail_name, size_t name_cap);
  /* The function_id of the selected row for the sparkline pane (true with ID filled); NULL = no pane. */
  bool (*selected_id)(const tui_vstate *st, char id[HUD_UUID_STRLEN + 1]);
  /* A word for the tab line about how the view is laid out ("by calls"); NULL = none. */
  const char *(*mode)(const struct tui_vstate *st);
  /* The function of the selected row for `e` / `y`: true with *OUT filled; NULL = no function rows. */
  bool (*selected)(const tui_vstate *st, tui_fnref *out);
  /* JSON of the response for --once --json (malloc'ed). */
  int (*encode)(const void *resp, char **json);
  /* Plain-text rendering for free-form views in --once; NULL for table views. */
  void (*print)(const tui_vstate *st, const tui_ctx *ctx, FILE *out);
  /* Table views: the selected row's detail, drawn in lines [Y, Y+H) under the table; NULL = none. */
  void (*pane)(const tui_vstate *st, const tui_ctx *ctx, int y, int h);
  /* --once with a record named (--issue): row ROW's detail as text, ctx->cols wide; NULL = none. */
  void (*detail)(const tui_vstate *st, const tui_ctx *ctx, size_t row, FILE *out);
  /* The row (index into st->rows) of the record named KEY (Issues: an issue_id), -1 when none. */
  long (*find)(const tui_vstate *st, const char *key);
} tui_view;

/* The table of views, in key order; tui_nviews entries. */
extern const tui_view *const tui_views[];
extern const size_t tui_nviews;
const tui_view *tui_view_by_name(const char *name);

extern const tui_view tui_view_functions, tui_view_flows, tui_view_issues, tui_view_detail, tui_view_paths,
    tui_view_errors;

/* The sparkline lines ("p95 per 24m ...", "calls per 24m ...") of a Detail answer (the detail view's
 * fetch), at most MAX glyphs each, into buffers of CAP bytes. */
void tui_detail_sparks(const void *resp, bool unicode, size_t max, char *p95_line, char *calls_line, size_t cap);
/* Fills OUT (NULL strings as ""). */
void tui_fnref_set(tui_fnref *out, const char *name, const char *module_path, int line);
/* The query scope of Q: service, env (NULL when ""), from = now - window, to = now. */
void tui_scope(const tui_query *q, hud_query_scope *s);
/* Fills Q->service when it is empty: the only service the key sees (blocking). 0 or HUD_E* with ERR set. */
int tui_resolve_service(hud_client *c, tui_query *q, hud_api_error *err);
/* Draws S at (Y, X) in W columns with TONE; SEL = the selected row (reverse video). (app.c) */
void tui_put(int y, int x, int w, const char *s, int tone, bool sel);

/* ---- formatting (fmt.c); every function writes a NUL-terminated string of at most CAP-1 bytes ---- */
void tui_fmt_dur(double ns, char *buf, size_t cap);      /* "850ns" "12.3us" "4.56ms" "1.23s" "2m05s" "3h00m" "12d", "-" for 0 */
void tui_fmt_rate(double per_min, char *buf, size_t cap); /* "0.42" "12.3" "1.2k" ... "6.4P" */
void tui_fmt_count(int64_t n, char *buf, size_t cap);     /* "987" "12.3k" "4.5M" ... "9.2E" */
void tui_fmt_pct(double frac, char *buf, size_t cap);     /* 0.0123 -> "1.23%" */
void tui_fmt_signed_pct(double pct, char *buf, size_t cap); /* 12.3 -> "+12.3%", 0 -> "-" */
void tui_fmt_window(int64_t ns, char *buf, size_t cap);   /* "24h" "90m" "7d" */
void tui_fmt_age(int64_t ms, char *buf, size_t cap);      /* "3s" "2m05s" "1h02m" */
/* Sparkline of N values scaled to their maximum, one glyph per value (UTF-8 blocks or ASCII); NaN = blank. */
/* A duration trend per hour, signed ("+489ns"), "-" for none or for noise against MEAN. */
void tui_fmt_trend(double trend, double mean, char *buf, size_t cap);
void tui_fmt_spark(const double *v, size_t n, bool unicode, char *buf, size_t cap);
/* Calls per minute over the window [FROM, TO). */
double tui_per_min(int64_t calls, hud_time_ns from, hud_time_ns to);
/* Display width of a UTF-8 string: wcwidth() per character in a UTF-8 locale, else 1 per character. */
size_t tui_width(const char *s);
/* Copies S into BUF cut to WIDTH columns ("~" marks a cut), padded with spaces when PAD. */
void tui_fit(const char *s, size_t width, bool right, bool pad, char *buf, size_t cap);
/* The filter test (filter.c): NEEDLE is a case-insensitive substring of HAY, or, when NEEDLE starts with
 * `~`, the POSIX extended regex after it matches HAY (case-insensitive). An invalid regex matches nothing. */
bool tui_contains(const char *hay, const char *needle);
/* True when FILTER is an invalid regex, with the reason in BUF. */
bool tui_filter_error(const char *filter, char *buf, size_t cap);
/* Frees the compiled regex (at exit, for leak checkers). */
void tui_filter_free(void);
/* Monotonic milliseconds. */
int64_t tui_now_ms(void);

/* ---- --once (once.c) ---- */
typedef struct tui_once_opts {
  const char *view;
  const char *sort;
  int limit;
  bool json;
  const char *filter;
  const char *function_id;
  const char *issue_id;      /* Issues: print that issue's detail instead of the list */
} tui_once_opts;
/* Fetches one view, prints it to OUT; returns the exit status (0, 1 backend error, 2 usage). */
int tui_once(hud_client *c, const tui_query *q, const tui_once_opts *o, const tui_ctx *ctx, FILE *out);
/* Human sentence for a failed request (names 401, unreachable...), for the status line and --once. */
void tui_error_text(const hud_api_error *err, const char *url, char *buf, size_t cap);

/* Prints a table view's rows as plain text WIDTH columns wide. */
void tui_table_print(const tui_view *v, const tui_vstate *st, const tui_ctx *ctx, int width, FILE *out);
/* Widths of a table's columns for WIDTH terminal columns (0 = column hidden). */
void tui_table_layout(const tui_table *t, int width, int *widths);

/* ---- the fetch worker (worker.c): one background thread, one job slot, one result slot ---- */
typedef struct tui_worker tui_worker;
typedef struct tui_result {
  int view;              /* index into tui_views */
  int rc;                /* 0 or HUD_E* */
  hud_api_error err;
  tui_data data;         /* rc == 0: owned by the receiver */
  char service[128];     /* the service actually queried (resolved when the query had none) */
  char function_id[HUD_UUID_STRLEN + 1];
  unsigned gen;          /* the query's scope generation */
} tui_result;
/* Starts the thread; it uses C (not thread-safe: the worker is its only user from then on). */
int tui_worker_new(tui_worker **out, hud_client *c);
/* Queues a fetch of view VIEW, replacing a queued one not yet started; returns the view whose queued job
 * was dropped, or -1. */
int tui_worker_submit(tui_worker *w, int view, const tui_query *q);
/* Readable when a result is waiting (poll it with the keyboard; tui_worker_poll empties it). */
int tui_worker_fd(const tui_worker *w);
/* Side jobs, each with a slot of its own that a view's job never drops: KIND TUI_JOB_SERVICES fetches
 * /v1/services (data.resp a hud_services_response), TUI_JOB_SPARK the detail of Q's function_id for the
 * sparkline pane (a hud_function_detail). A queued side job of the same kind is replaced. */
#define TUI_JOB_SERVICES (-1)
#define TUI_JOB_SPARK (-2)
/* POST /v1/issues/{Q->issue_id}/status with Q->issue_status: data.resp a hud_issue (the updated issue). */
#define TUI_JOB_ISSUE (-3)
void tui_worker_submit_side(tui_worker *w, int kind, const tui_query *q);
/* Takes a finished side job of KIND (true) into *OUT. */
bool tui_worker_poll_side(tui_worker *w, int kind, tui_result *out);
/* Takes a finished result (true) into *OUT. */
bool tui_worker_poll(tui_worker *w, tui_result *out);
/* True while a request is running. */
bool tui_worker_busy(tui_worker *w);
/* Stops the thread when it is idle (returns true, everything freed); when a request is still running
 * (bounded by the client's timeout) returns false and leaves the thread to die with the process. */
bool tui_worker_free(tui_worker *w);

/* ---- the terminal (term.c) ---- */
/* Opens the terminal: locale, TERM (an unknown one falls back to vt100, then dumb), colours unless
 * NO_COLOR / NO_COLOR_FLAG / a terminal without them, in the richest tier terminfo offers (8, 256, direct RGB
 * colour), UTF-8 glyphs unless NO_UNICODE or a non-UTF-8
 * locale; installs SIGINT/SIGTERM/SIGHUP handlers. Sets ctx->color, unicode, cols, lines.
 * 0, or -1 with a message in ERR. */
int tui_term_open(bool no_color, bool no_unicode, tui_ctx *ctx, char *err, size_t cap);
/* Restores the terminal (idempotent). */
void tui_term_close(void);
/* The signal that asked us to stop, or 0. */
int tui_term_stop_signal(void);
/* Curses attributes of a tone (colour pair or bold/dim without colour). */
int tui_term_attr(int tone);
/* The terminal type used instead of an unknown TERM, or NULL. */
const char *tui_term_fallback(void);
/* Runs ARGV[0] (a path) with ARGV on the terminal, curses suspended, and waits; the screen is restored and
 * redrawn after. *STATUS: its exit status, -1 when it did not exit normally. 0, or -1 when it could not run. */
int tui_term_run(char *const argv[], int *status);
/* Glyphs: horizontal line, vertical line and corners, per ctx->unicode. */
const char *tui_glyph_h(void);

/* ---- a function's source lines, highlighted (source_view.c) ---- */
/* Classes of the bytes of a source line. */
enum { TUI_SRC_PLAIN = 0, TUI_SRC_KEYWORD, TUI_SRC_STRING, TUI_SRC_COMMENT, TUI_SRC_NUMBER, TUI_SRC_FUNC,
       TUI_SRC_GUTTER };
typedef struct tui_src tui_src;
/* Lines FROM..TO (1-based, inclusive; fewer at the end of the file) of the file PATH, classified with its
 * tree-sitter grammar when it has one, is at most 2 MiB and parses within 200 ms. NULL when the file or
 * line FROM is missing. Owned by source_view.c: valid until the next call or tui_src_drop(). */
const tui_src *tui_src_get(const char *path, int from, int to);
void tui_src_drop(void);
size_t tui_src_count(const tui_src *s);
int tui_src_first(const tui_src *s);
bool tui_src_highlighted(const tui_src *s);
/* Line I of S as display text of WIDTH columns: right-aligned line number, a blank, the code (tabs to
 * 8 columns, control characters and bytes that are not UTF-8 as `?`, non-ASCII as `?` unless UTF8, cut
 * with `~`). CLS gets a TUI_SRC_* class per byte of OUT; both CAP bytes. */
void tui_src_line(const tui_src *s, size_t i, int width, bool utf8, char *out, unsigned char *cls, size_t cap);

/* ---- source files, editor, clipboard (source.c) and hyperlinks (links.c) ---- */
/* MODULE_PATH under ROOT ("" or NULL: the current directory): ROOT/MODULE_PATH, else the shallowest
 * DIR/MODULE_PATH for a directory DIR below ROOT (depth 8, 4000 directories; hidden directories,
 * node_modules, __pycache__, site-packages and virtual environments skipped). Absolute path into OUT;
 * HUD_ENOTFOUND also for a module path that would leave ROOT. Answers are cached. */
int tui_source_resolve(const char *root, const char *module_path, char *out, size_t cap);
/* 1-based line of `def NAME`, `class NAME` or `function NAME` (NAME's last dotted part) in FILE, or 0. */
int tui_source_def_line(const char *file, const char *name);
/* FN's file under ctx->root and its line (FN's, else its definition's, else 0). 0 or HUD_ENOTFOUND. */
int tui_source_find(const tui_ctx *ctx, const tui_fnref *fn, char *path, size_t cap, int *line);
/* Runs `$VISUAL` / `$EDITOR` / `vi` as `EDITOR +LINE FILE` (without +LINE when LINE is 0) through
 * /bin/sh, on the terminal; as tui_term_run. */
int tui_edit(const char *file, int line, int *status);
/* TEXT to the terminal's clipboard: OSC 52 written to stdout (wrapped for GNU screen). 0 or HUD_E*. */
int tui_clipboard(const char *text);
/* Whether TERM is known to show OSC 8 hyperlinks (not dumb, linux, vt*, ansi, or screen outside tmux). */
bool tui_links_supported(const char *term);
/* Links of the current draw: TEXT drawn at (Y, X) with TONE (SEL: reversed) links to file ABS_PATH. */
void tui_links_reset(void);
void tui_link_add(int y, int x, const char *text, const char *abs_path, int tone, bool sel);
/* After refresh(): writes each link over its own text (see links.c for why the cursor stays true). */
void tui_links_flush(bool color);

/* ---- pickers (picker.c): an overlay list, arrows + Enter choose, Esc cancels, typing filters ---- */
#define TUI_PICK_MAX 128
typedef struct tui_picker {
  bool open;
  int kind;                  /* the caller's: what the list is of */
  char title[64];
  char empty[64];            /* shown when the list is empty ("loading...") */
  char items[TUI_PICK_MAX][128];
  size_t n, current;         /* current: the item in force (marked) */
  char filter[32];
  size_t sel;                /* index among the items matching the filter */
} tui_picker;
void tui_picker_open(tui_picker *p, int kind, const char *title);
/* Adds ITEM (a repeat is dropped); CURRENT marks the one in force. */
void tui_picker_add(tui_picker *p, const char *item, bool current);
/* Moves the selection onto the item in force. */
void tui_picker_focus_current(tui_picker *p);
/* 1: an item was chosen (*CHOSEN, index into items), -1: cancelled, 0: still open. */
int tui_picker_key(tui_picker *p, int ch, size_t *chosen);
void tui_picker_draw(const tui_picker *p);
/* A framed empty box (term.c). */
void tui_box(int y0, int x0, int h, int w);

/* ---- remembered between runs (state.c): the last view and each view's sort ---- */
#define TUI_STATE_VIEWS 16
typedef struct tui_state {
  char view[32];                                /* "" = none remembered */
  char sort_view[TUI_STATE_VIEWS][32], sort[TUI_STATE_VIEWS][32];
  size_t n_sorts;
} tui_state;
/* $XDG_STATE_HOME/hud/tui.state, else $HOME/.local/state/hud/tui.state; false when neither is set. */
bool tui_state_path(char *out, size_t cap);
/* Reads the file: names only, lines that do not parse skipped. 0, or HUD_ENOTFOUND / HUD_EIO / HUD_ETOOBIG
 * (*ST then empty); the caller goes on without. */
int tui_state_load(tui_state *st);
/* Writes the file atomically (a temporary file renamed over it), creating the directory (0700). */
int tui_state_save(const tui_state *st);

/* ---- the interactive program (app.c) ---- */
typedef struct tui_app_opts {
  const char *url;
  int interval_ms;
  const char *first_view;
  bool no_color, no_unicode, no_mouse, no_links;
  const char *sort;
  const char *filter;        /* the first view's filter (when it filters), NULL = none */
  const char *root;          /* source root ("" = the current directory) */
  const char *issue_id;      /* --issue: select this issue in Issues once it is listed; NULL = none */
} tui_app_opts;
int tui_app_run(hud_client *c, const tui_query *q, const tui_ctx *ctx, const tui_app_opts *o);

/* ---- milestones for benchmarks (timing.c): HUD_TUI_TIMING=FILE appends "<monotonic us> EVENT [detail]" ---- */
void tui_timing_open(void); /* reads HUD_TUI_TIMING; without it every mark is a no-op */
bool tui_timing_on(void);
void tui_timing_mark(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int64_t tui_now_us(void); /* monotonic microseconds */

#endif
