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
/* What changed, as the diagnostics say it: "mean duration +87% since 1.1.0", "error rate +150% in the
 * last 30m". */
void lsp_issue_text(const hud_issue *is, char *out, size_t cap);

#endif
