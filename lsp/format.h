/* Human units for lens titles and hovers: rates ("1.2k/min"), durations ("38 ms"), percentages. */
#ifndef LSP_FORMAT_H
#define LSP_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hud/model.h"

/* "0.05", "7.5", "38", "1.2k", "12k", "3.4M" (trailing ".0" dropped). */
void lsp_fmt_count(double x, char *out, size_t cap);
/* Nanoseconds as "850 ns", "250 µs", "1.5 ms", "38 ms", "1.2 s". */
void lsp_fmt_duration(double ns, char *out, size_t cap);
/* A fraction 0..1 as "0.4%", "<0.1%", "12%", "0%". */
void lsp_fmt_percent(double fraction, char *out, size_t cap);
/* A window in seconds as "1h", "15m", "90s", "2d". */
void lsp_fmt_window(long long seconds, char *out, size_t cap);

/* The lens title: `⚡ 1.2k/min · p95 38 ms ▲12% · 0.4% err` (the trend only when the server compared
 * with a previous version and the change is at least 1%), then ` · ≠ prod (1.1.0)` when DIFFERS (the
 * code on screen is not production's; PROD_VERSION, the version production runs, may be NULL).
 * WINDOW_MIN: minutes of the query window. */
void lsp_fmt_lens_title(const hud_function_summary *f, double window_min, bool differs, const char *prod_version,
                        char *out, size_t cap);

/* The default lens template: the title above. */
#define LSP_LENS_LAYOUT_DEFAULT "⚡ {rate} · p95 {p95}{trend} · {errors}"
/* 0 when every {placeholder} of LAYOUT is known (rate calls p50 p95 p99 mean errors trend), else -1
 * with the first unknown one's name in BAD. */
int lsp_fmt_layout_check(const char *layout, char *bad, size_t bad_cap);
/* The lens title from LAYOUT: its parts between " · " with a latency placeholder are left out when the
 * function has no timed calls; then the ≠ prod part as lsp_fmt_lens_title; WARN puts "⚠ " first. */
void lsp_fmt_lens_layout(const char *layout, const hud_function_summary *f, double window_min, bool differs,
                         const char *prod_version, bool warn, char *out, size_t cap);
/* A call hierarchy item's detail: "1.2k calls/min · p95 38 ms" (LABEL "p95" or "mean", LATENCY_NS 0:
 * left out), then " · 0.4% err" when ERRORS > 0. */
void lsp_fmt_calls(double calls, int64_t errors, double window_min, const char *label, double latency_ns, char *out,
                   size_t cap);
/* The hover's markdown. EDITED: the function's code on screen differs from the deployed one the
 * figures describe (source_code_hash), said in one line at the end. */
void lsp_fmt_hover(const hud_function_summary *f, double window_min, const char *window, const char *service,
                   const char *env, bool edited, char *out, size_t cap);

#endif
