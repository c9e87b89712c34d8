/* Human units for lenses and hovers (format.h). */
#include "format.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void trim_zero(char *s) {
  char *dot = strstr(s, ".0");
  if (dot && (dot[2] < '0' || dot[2] > '9')) memmove(dot, dot + 2, strlen(dot + 2) + 1);
}

void lsp_fmt_count(double x, char *out, size_t cap) {
  static const char *suffix[] = {"", "k", "M", "G", "T"};
  if (x < 0.1) {
    snprintf(out, cap, "%.2g", x);
    return;
  }
  int k = 0;
  while (x >= 999.5 && k < 4) {
    x /= 1000;
    k++;
  }
  snprintf(out, cap, x < 9.95 ? "%.1f%s" : "%.0f%s", x, suffix[k]);
  trim_zero(out);
}

void lsp_fmt_duration(double ns, char *out, size_t cap) {
  static const char *unit[] = {"ns", "µs", "ms", "s"};
  int k = 0;
  while (ns >= 999.5 && k < 3) {
    ns /= 1000;
    k++;
  }
  snprintf(out, cap, ns < 9.95 && k > 0 ? "%.1f %s" : "%.0f %s", ns, unit[k]);
  trim_zero(out);
}

void lsp_fmt_percent(double fraction, char *out, size_t cap) {
  double pct = fraction * 100;
  if (pct <= 0) snprintf(out, cap, "0%%");
  else if (pct < 0.1) snprintf(out, cap, "<0.1%%");
  else snprintf(out, cap, pct < 9.95 ? "%.1f%%" : "%.0f%%", pct);
  trim_zero(out);
}

void lsp_fmt_window(long long s, char *out, size_t cap) {
  if (s % 86400 == 0) snprintf(out, cap, "%lldd", s / 86400);
  else if (s % 3600 == 0) snprintf(out, cap, "%lldh", s / 3600);
  else if (s % 60 == 0) snprintf(out, cap, "%lldm", s / 60);
  else snprintf(out, cap, "%llds", s);
}

static void trend(const hud_function_summary *f, char *out, size_t cap) {
  out[0] = '\0';
  if (!f->previous_version || fabs(f->slowdown) < 1) return;
  snprintf(out, cap, " %s%.0f%%", f->slowdown > 0 ? "▲" : "▼", fabs(f->slowdown));
}

static const char *const placeholders[] = {"rate", "calls", "p50", "p95", "p99", "mean", "errors", "trend"};
enum { PH_N = 8, PH_FIRST_LATENCY = 2, PH_LAST_LATENCY = 5 };

/* The placeholder at P ("{name}"): its index, -1 unknown; *LEN its length with the braces. */
static int placeholder_at(const char *p, size_t *len) {
  const char *close = strchr(p, '}');
  if (!close) return -1;
  *len = (size_t)(close - p) + 1;
  for (int i = 0; i < PH_N; i++)
    if (strlen(placeholders[i]) == *len - 2 && strncmp(p + 1, placeholders[i], *len - 2) == 0) return i;
  return -1;
}

int lsp_fmt_layout_check(const char *layout, char *bad, size_t bad_cap) {
  for (const char *p = strchr(layout, '{'); p; p = strchr(p + 1, '{')) {
    size_t len = 0;
    if (placeholder_at(p, &len) >= 0) continue;
    const char *close = strchr(p, '}');
    snprintf(bad, bad_cap, "%.*s", close ? (int)(close - p) + 1 : (int)strlen(p), p);
    return -1;
  }
  return 0;
}

/* One part of the layout (LEN bytes at P) expanded into OUT; -1 when it needs a latency the function lacks. */
static int expand_part(const char *p, size_t len, char vals[PH_N][48], bool timed, char *out, size_t cap) {
  size_t n = 0;
  out[0] = '\0';
  for (size_t i = 0; i < len && n + 1 < cap;) {
    size_t plen = 0;
    int k = p[i] == '{' ? placeholder_at(p + i, &plen) : -1;
    if (k >= 0 && i + plen <= len) {
      if (!timed && k >= PH_FIRST_LATENCY && k <= PH_LAST_LATENCY) return -1;
      n += (size_t)snprintf(out + n, cap - n, "%s", vals[k]);
      if (n >= cap) n = cap - 1;
      i += plen;
    } else {
      out[n++] = p[i++];
      out[n] = '\0';
    }
  }
  return 0;
}

void lsp_fmt_lens_layout(const char *layout, const hud_function_summary *f, double window_min, bool differs,
                         const char *prod_version, bool warn, char *out, size_t cap) {
  char vals[PH_N][48];
  lsp_fmt_count(window_min > 0 ? (double)f->calls / window_min : 0, vals[0], sizeof vals[0]);
  strncat(vals[0], "/min", sizeof vals[0] - strlen(vals[0]) - 1);
  lsp_fmt_count((double)f->calls, vals[1], sizeof vals[1]);
  lsp_fmt_duration(f->p50, vals[2], sizeof vals[2]);
  lsp_fmt_duration(f->p95, vals[3], sizeof vals[3]);
  lsp_fmt_duration(f->p99, vals[4], sizeof vals[4]);
  lsp_fmt_duration(f->mean_duration, vals[5], sizeof vals[5]);
  lsp_fmt_percent(f->error_rate, vals[6], sizeof vals[6]);
  strncat(vals[6], " err", sizeof vals[6] - strlen(vals[6]) - 1);
  trend(f, vals[7], sizeof vals[7]);
  static const char sep[] = " · ";
  size_t n = (size_t)snprintf(out, cap, "%s", warn ? "⚠ " : "");
  bool first = true;
  for (const char *p = layout; n < cap;) {
    const char *e = strstr(p, sep);
    size_t len = e ? (size_t)(e - p) : strlen(p);
    char part[256];
    if (expand_part(p, len, vals, f->sampled_count > 0, part, sizeof part) == 0) {
      n += (size_t)snprintf(out + n, cap - n, "%s%s", first ? "" : sep, part);
      first = false;
    }
    if (!e) break;
    p = e + strlen(sep);
  }
  if (differs && n < cap)
    snprintf(out + n, cap - n, " · ≠ prod%s%.60s%s", prod_version ? " (" : "", prod_version ? prod_version : "",
             prod_version ? ")" : "");
}

void lsp_fmt_lens_title(const hud_function_summary *f, double window_min, bool differs, const char *prod_version,
                        char *out, size_t cap) {
  lsp_fmt_lens_layout(LSP_LENS_LAYOUT_DEFAULT, f, window_min, differs, prod_version, false, out, cap);
}

void lsp_fmt_calls(double calls, int64_t errors, double window_min, const char *label, double latency_ns, char *out,
                   size_t cap) {
  char rate[32], lat[32] = "", err[32] = "";
  lsp_fmt_count(window_min > 0 ? calls / window_min : 0, rate, sizeof rate);
  if (latency_ns > 0) {
    char d[24];
    lsp_fmt_duration(latency_ns, d, sizeof d);
    snprintf(lat, sizeof lat, " · %s %s", label, d);
  }
  if (errors > 0 && calls > 0) {
    char pc[16];
    lsp_fmt_percent((double)errors / calls, pc, sizeof pc);
    snprintf(err, sizeof err, " · %s err", pc);
  }
  snprintf(out, cap, "%s calls/min%s%s", rate, lat, err);
}

void lsp_fmt_hover(const hud_function_summary *f, double window_min, const char *window, const char *service,
                   const char *env, bool edited, char *out, size_t cap) {
  char rate[32], total[32], errs[32], er[32], p50[32], p95[32], p99[32], mean[32];
  lsp_fmt_count(window_min > 0 ? (double)f->calls / window_min : 0, rate, sizeof rate);
  lsp_fmt_count((double)f->calls, total, sizeof total);
  lsp_fmt_count((double)f->errors, errs, sizeof errs);
  lsp_fmt_percent(f->error_rate, er, sizeof er);
  lsp_fmt_duration(f->p50, p50, sizeof p50);
  lsp_fmt_duration(f->p95, p95, sizeof p95);
  lsp_fmt_duration(f->p99, p99, sizeof p99);
  lsp_fmt_duration(f->mean_duration, mean, sizeof mean);
  char latency[160];
  if (f->sampled_count > 0)
    snprintf(latency, sizeof latency, "p50 %s · p95 %s · p99 %s · mean %s", p50, p95, p99, mean);
  else
    snprintf(latency, sizeof latency, "no timed calls in the window");
  int n = snprintf(out, cap,
                   "**%s** — production, last %s (%s%s%s)\n\n"
                   "| | |\n|---|---|\n"
                   "| calls | %s/min (%s in the window) |\n"
                   "| latency | %s |\n"
                   "| errors | %s (%s calls) |\n",
                   f->name ? f->name : "?", window, service, env && *env ? " · " : "", env ? env : "", rate, total,
                   latency, er, errs);
  if (n > 0 && (size_t)n < cap && f->previous_version && fabs(f->slowdown) >= 1)
    n += snprintf(out + n, cap - (size_t)n, "| vs %s | mean %s%.0f%% |\n", f->previous_version,
                  f->slowdown > 0 ? "+" : "-", fabs(f->slowdown));
  if (n > 0 && (size_t)n < cap && edited)
    snprintf(out + n, cap - (size_t)n, "\n_Edited since deployed: the figures describe the deployed code._\n");
}
