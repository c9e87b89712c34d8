/* Diagnostics for live issues (diagnostics.h). */
#include "diagnostics.h"

void lsp_diags_doc(lsp_server *s, lsp_doc *doc) {
  (void)s;
  (void)doc;
}

void lsp_diags_all(lsp_server *s) {
  for (size_t i = 0; s->docs && i < lsp_docs_count(s->docs); i++) lsp_diags_doc(s, lsp_docs_at(s->docs, i));
}
