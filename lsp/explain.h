/* Why a file has no lenses, or a function no figures (hud.explain, hover): one reason and a sentence. */
#ifndef LSP_EXPLAIN_H
#define LSP_EXPLAIN_H

#include <stddef.h>

#include "docs.h"
#include "server.h"

/* The reason DOC (NULL: not open) has no lenses, or "ok" when it has some; the sentence in OUT.
 * Reasons: not_open, not_indexed (language the index does not know), skipped (too big, a parse over
 * its time limit, or not parseable), waiting_index, unconfigured (no service), unreachable,
 * unauthorized (key rejected), service_not_found (the service has no data in the environment), error, connecting, module_not_found, no_calls, ok. */
const char *lsp_explain_doc(lsp_server *s, const lsp_doc *doc, char *out, size_t cap);
/* The same for the function QUALNAME of DOC, which has no figures: the file's reason when it has no
 * lenses, else no_calls (declared, no calls in the window) or function_not_found. */
const char *lsp_explain_func(lsp_server *s, const lsp_doc *doc, const char *qualname, char *out, size_t cap);

#endif
