/* Open documents: their text, a line table, and a source index kept up to date through incremental
 * re-parses (hud_index_doc_edit). Documents in languages the index does not know keep only text. */
#ifndef LSP_DOCS_H
#define LSP_DOCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hud/index.h"
#include "types.h"

typedef struct lsp_doc {
  char *uri;
  char *path;        /* file system path of a file: URI, else NULL */
  int64_t version;
  hud_lang lang;
  hud_index_doc *ix; /* NULL: not indexed (unknown language, or the index refused the file) */
  char *text;        /* own copy when ix is NULL */
  size_t len, cap;
  size_t *lines;     /* byte offset of each line start; rebuilt lazily after edits */
  size_t n_lines;
  bool lines_ok;
  int folder;        /* workspace folder index, -1: none */
  char *rel;         /* path below the folder ('/' separated), or the path without its leading '/' */
  char *module;      /* module path mapped by the backend (longest suffix with data); NULL: none yet */
  bool lens_asked;   /* the client asked for lenses of this document */
  double last_edit_ms;
} lsp_doc;

typedef struct lsp_docs lsp_docs;

int lsp_docs_new(lsp_docs **out);
void lsp_docs_free(lsp_docs *d);

size_t lsp_docs_count(const lsp_docs *d);
lsp_doc *lsp_docs_at(lsp_docs *d, size_t i);
lsp_doc *lsp_docs_find(lsp_docs *d, const char *uri);

/* Opens (or reopens, replacing) URI with TEXT. REL is the path used for the index's module path.
 * *WARN (may be NULL) gets a note when the index refused the file (it is then kept as text). */
int lsp_docs_open(lsp_docs *d, const char *uri, const char *path, const char *rel, int folder, const char *text,
                  size_t len, int64_t version, char *warn, size_t warn_len, lsp_doc **out);
void lsp_docs_close(lsp_docs *d, const char *uri);

const char *lsp_doc_text(const lsp_doc *doc, size_t *len);
/* The index result, NULL for a document that is not indexed. */
const hud_index_result *lsp_doc_index(const lsp_doc *doc);

/* Applies one change (positions in ENC). HUD_ERANGE with WHY set when the range starts or ends past
 * the last line or ends before it starts; the document is then unchanged. */
int lsp_doc_apply(lsp_doc *doc, const lsp_text_change *ch, lsp_encoding enc, char *why, size_t why_len);

/* Byte offset of POS; HUD_ERANGE past the last line (a character past a line's end clamps). */
int lsp_doc_offset(lsp_doc *doc, lsp_pos pos, lsp_encoding enc, size_t *out);
/* Editor position of the byte (ROW, COLUMN) of the index. */
lsp_pos lsp_doc_pos(lsp_doc *doc, uint32_t row, uint32_t column, lsp_encoding enc);

#endif
