/* An issue in words, the same in every client (hud-lsp, hud-tui): its headline, the change in percent,
 * milliseconds per request, one line per affected flow. Every function writes a NUL-terminated string of
 * at most CAP-1 bytes into OUT; UNICODE picks "→" and "×" over "->" and "x". */
#ifndef HUD_ISSUE_TEXT_H
#define HUD_ISSUE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "hud/model.h"

/* Relative change: "+206%", "-12%", "> 100×" when CAPPED or PCT ≥ 10000 (a µs baseline that became ms). */
void hud_issue_pct_text(double pct, bool capped, bool unicode, char *out, size_t cap);
/* Nanoseconds as milliseconds with three significant digits: "4.13 ms", "0.46 ms", "12.5 ms", "250 ms";
 * SIGN writes "+" before positive values. */
void hud_issue_ms_text(double ns, bool sign, char *out, size_t cap);
/* True for the kinds about failures (error_rate_increase, new_exception). */
bool hud_issue_is_errors(const hud_issue *is);
/* The headline the server wrote, else one built from the first issue shape:
 * "GET /orders/<id> mean duration +40.8% (1.0.0 → 1.1.0)", "POST /checkout error rate 1.2% → 4.1% (recent
 * window)". */
void hud_issue_headline(const hud_issue *is, bool unicode, char *out, size_t cap);
/* One affected flow of IS: "GET /orders/<id> +4.13 ms per request (+206%)"; for errors
 * "POST /checkout failures 0% → 5.45% of requests (new)". */
void hud_issue_flow_text(const hud_issue *is, const hud_affected_flow *f, bool unicode, char *out, size_t cap);

#endif
