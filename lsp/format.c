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

void lsp_fmt_lens_title(const hud_function_summary *f, double window_min, bool differs, const char *prod_version,
                        char *out, size_t cap) {
  char rate[32], p95[32], err[32], tr[32], prod[96] = "";
  lsp_fmt_count(window_min > 0 ? (double)f->calls / window_min : 0, rate, sizeof rate);
  lsp_fmt_percent(f->error_rate, err, sizeof err);
  trend(f, tr, sizeof tr);
  if (differs)
    snprintf(prod, sizeof prod, " · ≠ prod%s%.60s%s", prod_version ? " (" : "", prod_version ? prod_version : "",
             prod_version ? ")" : "");
  if (f->sampled_count > 0) {
    lsp_fmt_duration(f->p95, p95, sizeof p95);
    snprintf(out, cap, "⚡ %s/min · p95 %s%s · %s err%s", rate, p95, tr, err, prod);
  } else {
    snprintf(out, cap, "⚡ %s/min · %s err%s", rate, err, prod);
  }
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
