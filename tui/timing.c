/* HUD_TUI_TIMING=FILE: hud-tui appends the monotonic time of its milestones to FILE (bench/tui.sh reads
 * them). One line per event, "<CLOCK_MONOTONIC microseconds> <event> [detail]", written with one write()
 * on an O_APPEND descriptor so that the fetch thread and the main loop never interleave inside a line. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tui.h"

static int g_fd = -1;

void tui_timing_open(void) {
  const char *path = getenv("HUD_TUI_TIMING");
  if (path && *path && g_fd < 0) g_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

bool tui_timing_on(void) { return g_fd >= 0; }

int64_t tui_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void tui_timing_mark(const char *event, const char *fmt, ...) {
  if (g_fd < 0) return;
  char line[256];
  int n = snprintf(line, sizeof line, "%lld %s", (long long)tui_now_us(), event);
  if (fmt && n > 0 && (size_t)n < sizeof line - 2) {
    line[n++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m > 0) n += m < (int)(sizeof line - (size_t)n - 1) ? m : (int)(sizeof line - (size_t)n - 2);
  }
  if (n <= 0 || (size_t)n >= sizeof line - 1) n = (int)sizeof line - 2;
  line[n++] = '\n';
  ssize_t w = write(g_fd, line, (size_t)n);
  (void)w; /* timing is best effort: a full disk must not stop the program */
}
