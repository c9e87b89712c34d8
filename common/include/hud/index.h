/* The source index: every function of a source file named exactly as the runtime names it.
 *
 * Input is a file's module path and bytes; output is the list of functions (qualified name,
 * kind, lines, name range, async-ness, function_id, source_code_hash) and, on request, the
 * call sites. Parsing uses tree-sitter with the grammars of grammars/ and our queries in
 * grammars/queries/<lang>/{definitions,calls}.scm.
 *
 * Naming rules: Python follows CPython 3.11's __qualname__ (docs/protocol.md "Function
 * identity"); JavaScript/TypeScript follow docs/protocol.md "Function naming for JavaScript
 * and TypeScript"; Go uses the runtime's names without the package ("F", "T.M", "(*T).M",
 * "F.func1"); Java uses "Outer.Inner.method" with "<init>" for constructors.
 *
 * Limits (bad input never crashes or hangs, it gets an error or a partial result):
 * - sources larger than HUD_INDEX_MAX_BYTES (16 MiB) are refused with HUD_ETOOBIG before
 *   parsing: a tree-sitter tree takes about 50 bytes of memory per source byte (a 50 MB file
 *   peaked at 2.5 GB and ~20 CPU-seconds when allowed), which no editor session should pay;
 * - a parse that takes longer than the timeout (default HUD_INDEX_TIMEOUT_MS, 10 s) is
 *   abandoned with HUD_ETIMEOUT (generated files of a few MB can take seconds);
 * - syntax errors: tree-sitter recovers, functions outside the broken region are still
 *   reported and the result says parse_errors = true;
 * - invalid UTF-8 is indexed byte for byte (names keep the raw bytes; JSON writers must
 *   escape them, see hud-index);
 * - qualified names are cut at HUD_INDEX_MAX_QUALNAME bytes, callee texts at
 *   HUD_INDEX_MAX_CALLEE bytes.
 *
 * Thread safety: a hud_indexer or a hud_index_doc is used by one thread at a time; any
 * number of them may run in parallel (the compiled queries are shared read-only). */
#ifndef HUD_INDEX_H
#define HUD_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hud/identity.h"

#define HUD_INDEX_MAX_BYTES (16u * 1024u * 1024u)
#define HUD_INDEX_TIMEOUT_MS 10000u
#define HUD_INDEX_MAX_QUALNAME 1024
#define HUD_INDEX_MAX_CALLEE 256

typedef enum hud_lang {
  HUD_LANG_UNKNOWN = 0,
  HUD_LANG_PYTHON,
  HUD_LANG_JAVASCRIPT,
  HUD_LANG_TYPESCRIPT,
  HUD_LANG_TSX,
  HUD_LANG_GO,
  HUD_LANG_JAVA,
  HUD_LANG_COUNT_
} hud_lang;

/* Language of a path by its extension (.py .pyi .js .mjs .cjs .jsx .ts .mts .cts .tsx .go
 * .java); HUD_LANG_UNKNOWN otherwise. */
hud_lang hud_lang_from_path(const char *path);
/* "python", "javascript", "typescript", "tsx", "go", "java"; NULL for unknown. Static. */
const char *hud_lang_name(hud_lang lang);
/* Inverse of hud_lang_name; HUD_LANG_UNKNOWN when NAME is not one of them. */
hud_lang hud_lang_from_name(const char *name);

typedef enum hud_index_kind {
  HUD_INDEX_FUNCTION = 0, /* module level (or package level) function */
  HUD_INDEX_METHOD,       /* defined directly in a class, object literal or with a receiver */
  HUD_INDEX_NESTED,       /* defined inside another function */
  HUD_INDEX_LAMBDA        /* Python lambda, JS anonymous function, Go func literal */
} hud_index_kind;

/* "function", "method", "nested", "lambda". Static. */
const char *hud_index_kind_name(hud_index_kind kind);

/* A position: 0-based row, 0-based byte column (tree-sitter's convention). */
typedef struct hud_index_point {
  uint32_t row;
  uint32_t column;
} hud_index_point;

typedef struct hud_index_func {
  char *qualname; /* NUL-terminated, owned by the result */
  hud_index_kind kind;
  int start_line; /* 1-based; first decorator line for decorated Python functions */
  int end_line;   /* 1-based, inclusive: last line of the last statement */
  hud_index_point name_start, name_end; /* the name (or the `lambda`/`function` keyword) */
  uint32_t start_byte, end_byte;        /* the definition, decorators included */
  int parent;                           /* index of the enclosing reported function, or -1 */
  bool is_async;
  char function_id[HUD_UUID_STRLEN + 1];
  char source_code_hash[HUD_SHA1_HEXLEN + 1];
} hud_index_func;

typedef struct hud_index_call {
  char *callee; /* callee expression text, whitespace runs folded to one space; owned */
  hud_index_point start, end; /* range of the callee expression */
  int enclosing;              /* index of the innermost enclosing function, or -1 */
  uint32_t start_byte;        /* of the callee expression */
} hud_index_call;

typedef struct hud_index_result {
  hud_lang lang;
  char *module_path; /* owned */
  hud_index_func *funcs;
  size_t nfuncs;
  hud_index_call *calls; /* only with HUD_INDEX_CALLS */
  size_t ncalls;
  bool parse_errors; /* the syntax tree holds ERROR or MISSING nodes */
} hud_index_result;

enum {
  HUD_INDEX_CALLS = 1u << 0, /* also collect call sites */
  /* Python 3.12+ inlines list/set/dict comprehensions (PEP 709): a lambda inside one is
   * then "f.<locals>.<lambda>" rather than 3.11's "f.<locals>.<listcomp>.<lambda>". */
  HUD_INDEX_PY_INLINE_COMPREHENSIONS = 1u << 1,
};

typedef struct hud_index_opts {
  unsigned flags;      /* HUD_INDEX_* bits */
  unsigned timeout_ms; /* 0 means HUD_INDEX_TIMEOUT_MS */
} hud_index_opts;

void hud_index_result_free(hud_index_result *res);

/* --- One-shot indexing ------------------------------------------------------------- */

typedef struct hud_indexer hud_indexer; /* parsers and query cursors of one thread */

int hud_indexer_new(hud_indexer **out);
void hud_indexer_free(hud_indexer *ix);

/* Indexes SRC (LEN bytes, need not be NUL-terminated) as language LANG. MODULE_PATH is the
 * '/'-separated relative path used in function_id. On success *OUT is a new result the
 * caller frees with hud_index_result_free. OPTS may be NULL.
 * Errors: HUD_EINVAL (bad arguments, unknown language), HUD_ETOOBIG, HUD_ETIMEOUT,
 * HUD_ENOMEM. */
int hud_indexer_run(hud_indexer *ix, hud_lang lang, const char *module_path, const char *src,
                    size_t len, const hud_index_opts *opts, hud_index_result **out);

/* --- Incremental documents (the language server's view of an open file) ------------ */

typedef struct hud_index_doc hud_index_doc;

/* Parses and indexes a copy of SRC. *OUT is owned by the caller (hud_index_doc_free). */
int hud_index_doc_new(hud_lang lang, const char *module_path, const char *src, size_t len,
                      const hud_index_opts *opts, hud_index_doc **out);
void hud_index_doc_free(hud_index_doc *doc);

/* Replaces bytes [START, START + OLD_LEN) of the document with TEXT (TEXT_LEN bytes), then
 * re-parses reusing the previous tree (ts_tree_edit) and re-indexes. On error the document
 * is left unchanged. HUD_ERANGE when the range is outside the document. */
int hud_index_doc_edit(hud_index_doc *doc, size_t start, size_t old_len, const char *text,
                       size_t text_len);

/* Byte offset of a 0-based (row, byte column) position, clamped to the row's end and the
 * document's end; for converting editor positions before hud_index_doc_edit. */
size_t hud_index_doc_offset(const hud_index_doc *doc, hud_index_point pt);

/* The current result; valid until the next edit or hud_index_doc_free. */
const hud_index_result *hud_index_doc_result(const hud_index_doc *doc);
/* The current text (not NUL-terminated); valid until the next edit or free. */
const char *hud_index_doc_text(const hud_index_doc *doc, size_t *len);

#endif
