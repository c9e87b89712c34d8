/* The terminal: setup with fallbacks (TERM, colours, UTF-8), signal handling and restore on every exit. */
#define _GNU_SOURCE
#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"

static SCREEN *g_screen;
static bool g_color, g_unicode;
static const char *g_fallback;
static volatile sig_atomic_t g_stop;

enum { PAIR_HEADER = 1, PAIR_BAD, PAIR_GOOD, PAIR_DIM, PAIR_HEAD };

static void on_signal(int sig) { g_stop = sig; }

int tui_term_stop_signal(void) { return g_stop; }

static void install_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  /* No SA_RESTART: the wait for a key returns at once and the loop sees the flag. */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
}

/* newterm on TERM, else on the fallbacks; curses prints nothing and we keep control. */
static SCREEN *open_screen(char *err, size_t cap) {
  const char *term = getenv("TERM");
  const char *tries[] = {term && *term ? term : NULL, "vt100", "dumb"};
  for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
    if (!tries[i]) continue;
    SCREEN *s = newterm(tries[i], stdout, stdin);
    if (s) {
      if (i > 0 && term && *term) g_fallback = tries[i];
      return s;
    }
  }
  snprintf(err, cap, "cannot use terminal '%s' nor the vt100/dumb fallbacks", term ? term : "");
  return NULL;
}

int tui_term_open(bool no_color, bool no_unicode, tui_ctx *ctx, char *err, size_t cap) {
  setlocale(LC_ALL, "");
  if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
    snprintf(err, cap, "not a terminal (use --once for plain text)");
    return -1;
  }
  const char *nc = getenv("NO_COLOR");
  g_unicode = !no_unicode && strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
  g_screen = open_screen(err, cap);
  if (!g_screen) return -1;
  set_term(g_screen);
  install_signals();
  cbreak();
  noecho();
  nonl();
  keypad(stdscr, TRUE);
  curs_set(0);
  set_escdelay(25);
  g_color = !no_color && !(nc && *nc) && has_colors();
  if (g_color && start_color() == OK) {
    short bg = use_default_colors() == OK ? -1 : COLOR_BLACK;
    init_pair(PAIR_HEADER, COLOR_BLACK, COLOR_CYAN);
    init_pair(PAIR_BAD, COLOR_RED, bg);
    init_pair(PAIR_GOOD, COLOR_GREEN, bg);
    init_pair(PAIR_DIM, COLOR_BLUE, bg);
    init_pair(PAIR_HEAD, COLOR_YELLOW, bg);
  } else {
    g_color = false;
  }
  ctx->color = g_color;
  ctx->unicode = g_unicode;
  ctx->cols = COLS;
  ctx->lines = LINES;
  return 0;
}

void tui_term_close(void) {
  if (!g_screen) return;
  endwin();
  fflush(stdout);
  delscreen(g_screen);
  g_screen = NULL;
}

int tui_term_attr(int tone) {
  switch (tone) {
  case TUI_TONE_BAD: return g_color ? COLOR_PAIR(PAIR_BAD) | A_BOLD : A_BOLD;
  case TUI_TONE_GOOD: return g_color ? COLOR_PAIR(PAIR_GOOD) : A_NORMAL;
  case TUI_TONE_DIM: return g_color ? COLOR_PAIR(PAIR_DIM) : A_NORMAL;
  case TUI_TONE_HEAD: return g_color ? COLOR_PAIR(PAIR_HEAD) | A_BOLD : A_BOLD;
  case -1: return g_color ? COLOR_PAIR(PAIR_HEADER) : A_REVERSE; /* title bar */
  default: return A_NORMAL;
  }
}

const char *tui_glyph_h(void) { return g_unicode ? "\u2500" : "-"; }

const char *tui_term_fallback(void) { return g_fallback; }
