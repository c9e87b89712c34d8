/* OSC 8 hyperlinks on file:line text, written beside curses.
 *
 * curses cannot hold escape sequences in its cells, so links are written after refresh(), straight to the
 * terminal, over the very text curses drew there: save cursor (DECSC, which also saves the character
 * attributes), move to the text, set the text's attributes, OSC 8 open, the same characters, OSC 8 close,
 * restore cursor (DECRC). The cells end up holding what curses believes they hold, and the cursor and the
 * current attributes are back where curses left them, so its bookkeeping for the next refresh stays true.
 * Only for terminals known to take OSC 8 (and DECSC/DECRC): xterm-like ones, tmux. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"

#define MAX_LINKS 64

typedef struct hlink {
  int y, x, tone;
  bool sel;
  char text[256];
  char url[1024];
} hlink;

static hlink g_links[MAX_LINKS];
static size_t g_n;

bool tui_links_supported(const char *term) {
  if (!term || !*term || tui_term_fallback()) return false;
  static const char *const no[] = {"dumb", "linux", "vt", "ansi", "cons", "sun", "wy", "pcansi"};
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    if (strncmp(term, no[i], strlen(no[i])) == 0) return false;
  if (strncmp(term, "screen", 6) == 0 && !getenv("TMUX")) return false; /* GNU screen drops them */
  return true;
}

void tui_links_reset(void) { g_n = 0; }

/* file://HOST/PATH with the bytes a URL cannot hold percent-encoded. */
static void file_url(const char *path, char *out, size_t cap) {
  char host[256] = "";
  if (gethostname(host, sizeof host) != 0) host[0] = '\0';
  host[sizeof host - 1] = '\0';
  size_t n = (size_t)snprintf(out, cap, "file://%s", host);
  for (const unsigned char *p = (const unsigned char *)path; *p && n + 4 < cap; p++) {
    bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                 strchr("/-._~", *p);
    n += (size_t)snprintf(out + n, cap - n, plain ? "%c" : "%%%02X", *p);
  }
}

void tui_link_add(int y, int x, const char *text, const char *abs_path, int tone, bool sel) {
  if (g_n == MAX_LINKS || !*text) return;
  hlink *l = &g_links[g_n++];
  l->y = y;
  l->x = x;
  l->tone = tone;
  l->sel = sel;
  snprintf(l->text, sizeof l->text, "%s", text);
  file_url(abs_path, l->url, sizeof l->url);
}

/* The SGR parameters tui_put gives TONE (term.c's colour pairs: default background). */
static const char *sgr(int tone, bool color) {
  switch (tone) {
  case TUI_TONE_BAD: return color ? ";1;31" : ";1";
  case TUI_TONE_GOOD: return color ? ";32" : "";
  case TUI_TONE_DIM: return color ? ";34" : "";
  case TUI_TONE_HEAD: return color ? ";1;33" : ";1";
  default: return "";
  }
}

void tui_links_flush(bool color) {
  char buf[2048];
  for (size_t i = 0; i < g_n; i++) {
    const hlink *l = &g_links[i];
    int n = snprintf(buf, sizeof buf, "\0337\033[%d;%dH\033[0%s%sm\033]8;;%s\033\\%s\033]8;;\033\\\0338", l->y + 1,
                     l->x + 1, sgr(l->tone, color), l->sel ? ";7" : "", l->url, l->text);
    if (n > 0 && n < (int)sizeof buf && write(STDOUT_FILENO, buf, (size_t)n) < 0) break;
  }
  g_n = 0;
}
