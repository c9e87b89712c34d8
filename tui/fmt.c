/* Number, duration and text formatting shared by the screen and --once. */
#define _GNU_SOURCE
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "tui.h"

void tui_fmt_dur(double ns, char *buf, size_t cap) {
  double a = fabs(ns);
  const char *sign = ns < 0 ? "-" : "";
  if (!isfinite(ns) || a < 0.5) snprintf(buf, cap, "-");
  else if (a < 1e3) snprintf(buf, cap, "%.0fns", ns);
  else if (a < 1e4) snprintf(buf, cap, "%.2fus", ns / 1e3);
  else if (a < 1e6) snprintf(buf, cap, "%.1fus", ns / 1e3);
  else if (a < 1e7) snprintf(buf, cap, "%.2fms", ns / 1e6);
  else if (a < 1e9) snprintf(buf, cap, "%.1fms", ns / 1e6);
  else if (a < 6e10) snprintf(buf, cap, "%.2fs", ns / 1e9);
  /* Minutes and beyond in clock units, so that hours of a batch job still fit a 7-column cell. */
  else if (a < 3.6e12) snprintf(buf, cap, "%s%lldm%02llds", sign, (long long)(a / 6e10), (long long)fmod(a / 1e9, 60));
  else if (a < 3.6e15) snprintf(buf, cap, "%s%lldh%02lldm", sign, (long long)(a / 3.6e12), (long long)fmod(a / 6e10, 60));
  else snprintf(buf, cap, "%s%.0fd", sign, floor(a / 8.64e13));
}

/* V >= 1000 with an SI prefix: "12.3k" "4.5M" ... "9.2E" (int64's limit). */
static void fmt_si(double v, char *buf, size_t cap) {
  static const char units[] = "kMGTPE";
  size_t u = 0;
  v /= 1e3;
  while (v >= 999.95 && u + 1 < sizeof units - 1) {
    v /= 1e3;
    u++;
  }
  snprintf(buf, cap, "%.1f%c", v, units[u]);
}

void tui_fmt_rate(double v, char *buf, size_t cap) {
  if (!isfinite(v) || v <= 0) snprintf(buf, cap, "0");
  else if (v < 10) snprintf(buf, cap, "%.2f", v);
  else if (v < 999.95) snprintf(buf, cap, "%.1f", v);
  else fmt_si(v, buf, cap);
}

void tui_fmt_count(int64_t n, char *buf, size_t cap) {
  if (n < 10000) snprintf(buf, cap, "%lld", (long long)n);
  else fmt_si((double)n, buf, cap);
}

void tui_fmt_pct(double frac, char *buf, size_t cap) {
  double p = frac * 100;
  if (!isfinite(p) || p <= 0) snprintf(buf, cap, "0");
  else if (p < 10) snprintf(buf, cap, "%.2f%%", p);
  else snprintf(buf, cap, "%.1f%%", p);
}

void tui_fmt_signed_pct(double pct, char *buf, size_t cap) {
  if (isinf(pct)) snprintf(buf, cap, "new");
  else if (!isfinite(pct) || fabs(pct) < 0.05) snprintf(buf, cap, "-");
  /* Past +1000% a factor reads better and fits a column: +652344% is x6524. */
  else if (pct >= 1000) snprintf(buf, cap, "x%.0f", 1 + pct / 100);
  else snprintf(buf, cap, "%+.1f%%", pct);
}

void tui_fmt_window(int64_t ns, char *buf, size_t cap) {
  int64_t s = ns / 1000000000LL;
  if (s % 86400 == 0 && s > 86400) snprintf(buf, cap, "%lldd", (long long)(s / 86400));
  else if (s % 3600 == 0) snprintf(buf, cap, "%lldh", (long long)(s / 3600));
  else if (s % 60 == 0) snprintf(buf, cap, "%lldm", (long long)(s / 60));
  else snprintf(buf, cap, "%llds", (long long)s);
}

void tui_fmt_age(int64_t ms, char *buf, size_t cap) {
  int64_t s = ms / 1000;
  if (s < 60) snprintf(buf, cap, "%llds", (long long)s);
  else if (s < 3600) snprintf(buf, cap, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
  else snprintf(buf, cap, "%lldh%02lldm", (long long)(s / 3600), (long long)(s / 60 % 60));
}

void tui_fmt_spark(const double *v, size_t n, bool unicode, char *buf, size_t cap) {
  static const char *const blocks[] = {"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"};
  static const char ascii[] = "_.-:=+*#";
  double max = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(v[i]) && v[i] > max) max = v[i];
  size_t len = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    int k = max > 0 && isfinite(v[i]) ? (int)lround(v[i] / max * 7) : 0;
    if (k < 0) k = 0;
    const char *g = isnan(v[i]) ? " " : unicode ? blocks[k] : (char[]){ascii[k], 0};
    size_t gl = strlen(g);
    if (len + gl + 1 > cap) break;
    memcpy(buf + len, g, gl);
    len += gl;
    buf[len] = '\0';
  }
}

double tui_per_min(int64_t calls, hud_time_ns from, hud_time_ns to) {
  double minutes = (double)(to - from) / 60e9;
  return minutes > 0 ? (double)calls / minutes : 0;
}

/* Bytes of the UTF-8 sequence at S (1 for an invalid one) and its columns: wcwidth() in a UTF-8 locale (2 for
 * CJK and emoji, 0 for combining marks), 1 otherwise (a locale that cannot show it gets '?'). */
static size_t cp_len(const char *s, int *cols) {
  const unsigned char *u = (const unsigned char *)s;
  size_t n = u[0] < 0x80 ? 1 : (u[0] & 0xE0) == 0xC0 ? 2 : (u[0] & 0xF0) == 0xE0 ? 3 : (u[0] & 0xF8) == 0xF0 ? 4 : 0;
  for (size_t i = 1; i < n; i++)
    if ((u[i] & 0xC0) != 0x80) n = 0;
  *cols = 1;
  if (n == 0) return 1;
  if (n > 1 && MB_CUR_MAX > 1) {
    wchar_t wc;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    int w = mbrtowc(&wc, s, n, &st) == n ? wcwidth(wc) : -1;
    if (w >= 0) *cols = w;
  }
  return n;
}

size_t tui_width(const char *s) {
  size_t w = 0;
  int cols;
  while (s && *s) {
    s += cp_len(s, &cols);
    w += (size_t)cols;
  }
  return w;
}

/* Backend text made safe to print, into OUT: control characters (C0, DEL, C1), which would move the cursor or
 * start escape sequences, become a blank (tab, line breaks) or '?'; so do invalid UTF-8 and, in a locale that
 * is not UTF-8, every non-ASCII character. One column stays one column. */
static void printable(const char *s, char *out, size_t cap) {
  size_t o = 0;
  int cols;
  for (size_t n; *s && o + 5 < cap; s += n) {
    unsigned char c = (unsigned char)*s;
    n = cp_len(s, &cols);
    if (c == '\t' || c == '\n' || c == '\r') out[o++] = ' ';
    else if (c < 0x20 || c == 0x7f || (c >= 0x80 && n == 1) || (c == 0xc2 && (unsigned char)s[1] <= 0x9f))
      out[o++] = '?';
    else if (n > 1 && MB_CUR_MAX == 1) out[o++] = '?';
    else {
      memcpy(out + o, s, n);
      o += n;
    }
  }
  out[o] = '\0';
}

void tui_fit(const char *s, size_t width, bool right, bool pad, char *buf, size_t cap) {
  if (cap == 0) return;
  char clean[4096];
  printable(s ? s : "", clean, sizeof clean);
  s = clean;
  size_t w = tui_width(s), len = 0;
  if (w > width) {
    /* Keep what fits in WIDTH-1 columns (a wide character that would straddle the edge leaves a blank) and
     * mark the cut. */
    size_t used = 0;
    int cols;
    for (size_t n; *s && width > 0; s += n) {
      n = cp_len(s, &cols);
      if (used + (size_t)cols + 1 > width || len + n + 2 > cap) break;
      memcpy(buf + len, s, n);
      len += n;
      used += (size_t)cols;
    }
    while (width > 0 && used + 1 < width && len + 2 < cap) buf[len++] = ' ', used++;
    if (width > 0) buf[len++] = '~';
    buf[len] = '\0';
    return;
  }
  size_t gap = pad || right ? width - w : 0, sl = strlen(s);
  if (gap + sl + 1 > cap) gap = sl + 1 < cap ? cap - sl - 1 : 0;
  if (sl + 1 > cap) sl = cap - 1;
  if (right) {
    memset(buf, ' ', gap);
    memcpy(buf + gap, s, sl);
  } else {
    memcpy(buf, s, sl);
    memset(buf + sl, ' ', gap);
  }
  buf[gap + sl] = '\0';
}

int64_t tui_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tui_fmt_trend(double trend, double mean, char *buf, size_t cap) {
  /* A slope under a millionth of the mean is rounding in the sums (hours-long calls), not a trend. */
  double tr = fabs(trend) < 1e-6 * mean ? 0 : trend;
  char d[32];
  tui_fmt_dur(fabs(tr), d, sizeof d);
  snprintf(buf, cap, "%s%s", strcmp(d, "-") == 0 ? "" : tr > 0 ? "+" : "-", d);
}
