/* The terminal: setup with fallbacks (TERM, colours, UTF-8), signal handling and restore on every exit. */
#define _GNU_SOURCE
#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tui.h"

static SCREEN *g_screen;
static bool g_color, g_unicode;
static const char *g_fallback;
static volatile sig_atomic_t g_stop;

enum { PAIR_HEADER = 1, PAIR_BAD, PAIR_GOOD, PAIR_DIM, PAIR_HEAD, PAIR_N };

static int g_colors; /* the tier in use: 0, 8, 256 or TUI_DIRECT_COLOR */

/* Foreground of each pair (and the title bar's background) per tier: 8 colours, the 256-colour cube and grey
 * ramp (softer tones, a grey for DIM), 24-bit RGB for direct-colour terminals. */
static const int tone_8[PAIR_N] = {COLOR_CYAN, COLOR_BLACK, COLOR_RED, COLOR_GREEN, COLOR_BLUE, COLOR_YELLOW};
static const int tone_256[PAIR_N] = {110, 234, 167, 71, 244, 179};
static const int tone_rgb[PAIR_N] = {0x87AFD7, 0x1C1C1C, 0xE06C75, 0x98C379, 0x8A8A8A, 0xE5C07B};

/* A direct-colour terminal: colour numbers are RGB values (terminfo colors#0x1000000, e.g. xterm-direct). A
 * terminal that only advertises RGB or Tc with 256 colours cannot take them through its setaf; we do not
 * redefine its palette (init_extended_color would change it for every program after us). */
static bool direct_colour(void) { return COLORS >= 0x1000000; }

/* Pairs for the richest tier the terminal has; falls back a tier when the pairs cannot be made. */
static int init_tones(void) {
  int bg = use_default_colors() == OK ? -1 : COLOR_BLACK;
  int tier = direct_colour() ? TUI_DIRECT_COLOR : COLORS >= 256 ? 256 : 8;
  for (;; tier = tier == TUI_DIRECT_COLOR ? 256 : 8) {
    const int *t = tier == TUI_DIRECT_COLOR ? tone_rgb : tier == 256 ? tone_256 : tone_8;
    if (tier == 256 && COLORS < 256) continue;
    int bad = init_extended_pair(PAIR_HEADER, t[1], t[0]) != OK;
    for (int p = PAIR_BAD; p < PAIR_N; p++) bad |= init_extended_pair(p, t[p], bg) != OK;
    if (!bad || tier == 8) return tier;
  }
}

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
  g_color = !no_color && !(nc && *nc) && has_colors() && start_color() == OK;
  if (g_color) g_colors = init_tones();
  ctx->colors = g_colors;
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

void tui_box(int y0, int x0, int h, int w) {
  const char *hz = tui_glyph_h(), *vt = g_unicode ? "\u2502" : "|";
  const char *c[4] = {"+", "+", "+", "+"};
  if (g_unicode) {
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
}

const char *tui_glyph_h(void) { return g_unicode ? "\u2500" : "-"; }

const char *tui_term_fallback(void) { return g_fallback; }

/* The program gets the terminal as the shell would give it (curses off, default signals) and we wait for
 * it; then the screen is taken back and drawn again whole. */
int tui_term_run(char *const argv[], int *status) {
  def_prog_mode();
  endwin();
  fflush(stdout);
  struct sigaction ign, oint, oquit;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGINT, &ign, &oint); /* Ctrl-C belongs to the editor meanwhile */
  sigaction(SIGQUIT, &ign, &oquit);
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    execv(argv[0], argv);
    _exit(127);
  }
  int rc = pid < 0 ? -1 : 0, st = 0;
  while (pid > 0 && waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) {
      rc = -1;
      break;
    }
  sigaction(SIGINT, &oint, NULL);
  sigaction(SIGQUIT, &oquit, NULL);
  reset_prog_mode();
  clearok(curscr, TRUE);
  refresh();
  *status = rc == 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return rc;
}
