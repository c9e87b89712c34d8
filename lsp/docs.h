/* Open documents: their text, a line table, and a source index built off the loop.
 *
 * The text is the loop's and always current. The index (hud_index_doc) is built and kept up to date
 * on libuv's worker threads (uv_queue_work): didOpen parses from scratch, didChange queues the edits
 * and a worker applies them incrementally (hud_index_doc_edit). While a job runs the worker owns the
 * index; edits that arrive meanwhile wait for the next job. Each change bumps the document's
 * generation; an index is served only when it describes the current one (lsp_doc_ready), and a job
 * whose result a full replacement made stale is dropped. Documents in languages the index does not
 * know keep only text. */
#ifndef LSP_DOCS_H
#define LSP_DOCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hud/index.h"
#include "types.h"

typedef struct lsp_doc_edit lsp_doc_edit;
typedef struct lsp_fnids lsp_fnids;
typedef struct lsp_inlay_cache lsp_inlay_cache;
typedef struct lsp_index_job lsp_index_job;

typedef struct lsp_doc {
  char *uri;
  char *path;        /* file system path of a file: URI, else NULL */
  int64_t version;
  hud_lang lang;
  bool indexable;    /* known language, not refused by the index */
  int index_rc;      /* why the index refused the file (HUD_E*), 0 when it did not */
  hud_index_doc *ix; /* the loop's when no job runs; NULL before the first job ends */
  char *text;        /* the current text */
  size_t len, cap;
  size_t *lines;     /* byte offset of each line start; rebuilt lazily after edits */
  size_t n_lines;
  bool lines_ok;
  uint64_t gen;      /* bumped by every change */
  uint64_t ix_gen;   /* the generation the index describes */
  lsp_index_job *job; /* in flight, NULL when none */
  lsp_doc_edit *edits, *edits_tail; /* applied to the index by the next job */
  bool reload;       /* the next job parses the text from scratch (a full replacement) */
  bool closed;       /* closed while a job ran: freed when it ends */
  double index_ms;   /* the last job's time on its worker */
  int folder;        /* workspace folder index, -1: none */
  char *rel;         /* path below the folder ('/' separated), or the path without its leading '/' */
  char *module;      /* module path mapped by the backend (longest suffix with data); NULL: none yet */
  bool lens_asked;   /* the client asked for lenses of this document */
  uint64_t diag_seq; /* diagnostics.c: the newest computation for it (older ones are not published) */
  char *diag_last;   /* what the client last got, as text; NULL: nothing yet */
  lsp_inlay_cache *inlays; /* m_inlay.c: the call sites behind its hints, for this generation */
  lsp_fnids *fnids;  /* fnids.c: function ids under MODULE, by qualified name (NULL: none, out of memory) */
} lsp_doc;

typedef struct lsp_docs lsp_docs;

/* The function_id of QUALNAME in DOC's mapped module (hud_function_id(doc->module, QUALNAME)), cached
 * per document across edits (fnids.c). 0, HUD_EINVAL without a module, or hud_function_id's error. */
int lsp_doc_function_id(const lsp_doc *doc, const char *qualname, char out[HUD_UUID_STRLEN + 1]);
lsp_fnids *lsp_fnids_new(void);
void lsp_inlay_cache_free(lsp_inlay_cache *c); /* m_inlay.c */
void lsp_fnids_free(lsp_fnids *c);

/* The function whose name holds (ROW, COL), else the innermost one whose definition holds byte OFF;
 * NULL (m_hierarchy.c). */
const hud_index_func *lsp_func_at(const hud_index_result *ix, uint32_t row, uint32_t col, size_t off);

/* Called on the loop when DOC's index caught up with its text (or the index refused the file: WARN
 * then says why, else NULL). */
typedef void (*lsp_docs_ready_fn)(void *ud, lsp_doc *doc, const char *warn);

int lsp_docs_new(uv_loop_t *loop, lsp_docs_ready_fn on_ready, void *ud, lsp_docs **out);
/* Frees every document; those with a job in flight are freed when it ends (run the loop). */
void lsp_docs_free(lsp_docs *d);

size_t lsp_docs_count(const lsp_docs *d);
lsp_doc *lsp_docs_at(lsp_docs *d, size_t i);
lsp_doc *lsp_docs_find(lsp_docs *d, const char *uri);

/* Opens (or reopens, replacing) URI with TEXT and starts indexing it on a worker. REL is the path
 * used for the index's module path. */
int lsp_docs_open(lsp_docs *d, const char *uri, const char *path, const char *rel, int folder, const char *text,
                  size_t len, int64_t version, lsp_doc **out);
void lsp_docs_close(lsp_docs *d, const char *uri);

const char *lsp_doc_text(const lsp_doc *doc, size_t *len);
/* Whether the index describes the current text (always true for documents that are not indexed). */
bool lsp_doc_ready(const lsp_doc *doc);
/* The index result when ready, NULL otherwise or for a document that is not indexed. */
const hud_index_result *lsp_doc_index(const lsp_doc *doc);

/* Applies one change to the text (positions in ENC) and queues it for the index. HUD_ERANGE with WHY
 * set when the range starts or ends past the last line or ends before it starts; the document is
 * then unchanged. */
int lsp_doc_apply(lsp_doc *doc, const lsp_text_change *ch, lsp_encoding enc, char *why, size_t why_len);
/* Starts the job that brings the index up to date with the changes applied so far. */
void lsp_doc_flush(lsp_docs *d, lsp_doc *doc);

/* Byte offset of POS; HUD_ERANGE past the last line (a character past a line's end clamps). */
int lsp_doc_offset(lsp_doc *doc, lsp_pos pos, lsp_encoding enc, size_t *out);
/* Editor position of the byte (ROW, COLUMN) of the index. */
lsp_pos lsp_doc_pos(lsp_doc *doc, uint32_t row, uint32_t column, lsp_encoding enc);
/* The range of line ROW without its leading blanks and its line break (a call site). */
lsp_range lsp_doc_line_range(lsp_doc *doc, uint32_t row, lsp_encoding enc);

#endif
