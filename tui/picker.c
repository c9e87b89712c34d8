/* A picker: a small overlay list over the screen (service, environment, version, time window). Arrow keys
 * and Enter choose, Esc cancels, typing filters the list. */
#include <curses.h>
#include <string.h>

#include "tui.h"

void tui_picker_open(tui_picker *p, int kind, const char *title) {
  memset(p, 0, sizeof *p);
  p->open = true;
  p->kind = kind;
  snprintf(p->title, sizeof p->title, "%s", title);
}

void tui_picker_add(tui_picker *p, const char *item, bool current) {
  if (p->n == TUI_PICK_MAX) return;
  for (size_t i = 0; i < p->n; i++)
    if (strcmp(p->items[i], item) == 0) return; /* versions repeat across environments */
  snprintf(p->items[p->n], sizeof p->items[0], "%s", item);
  if (current) p->current = p->n;
  p->n++;
}

/* Indices of the items matching the filter, in order; their count. */
static size_t visible(const tui_picker *p, size_t *idx) {
  size_t n = 0;
  for (size_t i = 0; i < p->n; i++)
    if (tui_contains(p->items[i], p->filter)) idx[n++] = i;
  return n;
}

void tui_picker_focus_current(tui_picker *p) {
  size_t idx[TUI_PICK_MAX], n = visible(p, idx);
  for (size_t i = 0; i < n; i++)
    if (idx[i] == p->current) p->sel = i;
}

int tui_picker_key(tui_picker *p, int ch, size_t *chosen) {
  size_t idx[TUI_PICK_MAX], n = visible(p, idx), len = strlen(p->filter);
  switch (ch) {
  case 27: p->open = false; return -1;
  case '\r': case '\n': case KEY_ENTER:
    if (!n) return 0;
    *chosen = idx[p->sel < n ? p->sel : 0];
    p->open = false;
    return 1;
  case KEY_UP: if (p->sel) p->sel--; return 0;
  case KEY_DOWN: if (p->sel + 1 < n) p->sel++; return 0;
  case KEY_PPAGE: case KEY_HOME: p->sel = 0; return 0;
  case KEY_NPAGE: case KEY_END: p->sel = n ? n - 1 : 0; return 0;
  case KEY_BACKSPACE: case 127: case 8:
    if (len) p->filter[len - 1] = '\0';
    break;
  default:
    if (ch < 32 || ch >= 127 || ch == '/' || len + 1 >= sizeof p->filter) return 0;
    p->filter[len] = (char)ch;
    p->filter[len + 1] = '\0';
  }
  p->sel = 0;
  return 0;
}

void tui_picker_draw(const tui_picker *p) {
  size_t idx[TUI_PICK_MAX], n = visible(p, idx);
  int w = 40 < COLS - 4 ? 40 : COLS - 4, rows = LINES - 8 < 12 ? LINES - 8 : 12;
  if (rows > (int)p->n) rows = (int)p->n; /* as tall as the list */
  if (rows < 1) rows = 1;
  int h = rows + 4, x0 = (COLS - w) / 2, y0 = (LINES - h) / 2;
  tui_box(y0, x0, h, w);
  char line[256];
  snprintf(line, sizeof line, "%s%s%s", p->title, p->filter[0] ? "  /" : "", p->filter);
  tui_put(y0 + 1, x0 + 2, w - 4, line, TUI_TONE_HEAD, false);
  size_t top = p->sel >= (size_t)rows ? p->sel - (size_t)rows + 1 : 0;
  for (int r = 0; r < rows && top + (size_t)r < n; r++) {
    size_t i = idx[top + (size_t)r];
    snprintf(line, sizeof line, "%s %s", i == p->current ? "*" : " ", p->items[i]);
    tui_put(y0 + 2 + r, x0 + 1, w - 2, line, TUI_TONE_NORMAL, top + (size_t)r == p->sel);
  }
  if (!n) tui_put(y0 + 2, x0 + 2, w - 4, p->n ? "(nothing matches)" : p->empty, TUI_TONE_DIM, false);
  tui_put(y0 + h - 2, x0 + 2, w - 4, "Enter:choose Esc:cancel type:filter", TUI_TONE_DIM, false);
}
