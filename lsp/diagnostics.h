/* textDocument/publishDiagnostics for live issues: a function of an open document that is the subject
 * or a root cause of an open issue (hud_api_issues, fetched by the backend with the figures) gets an
 * Information diagnostic on its name; diagnostics that went away are cleared. */
#ifndef LSP_DIAGNOSTICS_H
#define LSP_DIAGNOSTICS_H

#include "docs.h"
#include "hud/model.h"
#include "server.h"

/* Publishes DOC's diagnostics when they differ from what the client last got for it. */
void lsp_diags_doc(lsp_server *s, lsp_doc *doc);
/* The same for every open document (new issues arrived). */
void lsp_diags_all(lsp_server *s);
/* What changed in one line: the issue's headline (with " — code changed in this version" when the root
 * cause's code changed), or for servers without headlines "mean duration +87% since 1.1.0", "error rate
 * +150% in the last 30m" ("> 100×" when the change is capped). */
void lsp_issue_text(const hud_issue *is, char *out, size_t cap);
/* The diagnostic's text: lsp_issue_text, then (issues with a headline) one line per affected flow
 * (at most 3, "GET /orders/<id> +4.13 ms per request (+206%)"), whether the self time includes
 * uninstrumented calls, and p ("p < 1e-16"). */
void lsp_issue_long_text(const hud_issue *is, char *out, size_t cap);

#endif
