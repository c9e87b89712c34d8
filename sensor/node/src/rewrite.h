/* The Node sensor's source rewrite: a module's text in, the instrumented text out.
 *
 * Every function the source index reports (common/index, the same naming code as hud-index,
 * so ids are identical by construction) gets an enter/exit pair on the global `__hud`:
 *   { const __hud_p = __hud.c, __hud_h = __hud.enter(__hud_b + k); try { BODY } catch (__hud_e) {
 *     __hud.fail(__hud_h, __hud_e); throw __hud_e } finally { __hud.exit(__hud_h, __hud_p) } }
 * (__hud.c: the current call, which the function puts back when it ends; a `let` where the
 * function can suspend, see rewrite.c). A function with nested instrumented functions keeps its
 * call's flow (`, __hud_f<k> = __hud.f` after enter) and a nested one passes its lexical parent's
 * to enter (`enter(__hud_b + k, __hud_f<parent>)`): lib/runtime.js, the current flow.
 * written on the body's own lines (inserted text holds no newline, so no line moves), after
 * the body's directive prologue ("use strict" stays first). k indexes the result's table of
 * functions; __hud_b is the module's base in the runtime's table, set by PROLOGUE. Arrow functions with an expression body get a block body that
 * returns the expression. Parameters, names and the function's own tokens are untouched, so
 * fn.name and fn.length are unchanged; fn.toString() shows the instrumented text.
 *
 * Positions: columns shift on lines that received text. The result carries the insertions
 * (line, generated UTF-16 column, length) for exact position mapping and a source map (v3,
 * one segment per token) for tools. */
#ifndef HSN_REWRITE_H
#define HSN_REWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hud/index.h"

typedef struct hsn_fn {
  char *qualname; /* owned */
  char function_id[HUD_UUID_STRLEN + 1];
  int start_line, end_line;
  int is_async, is_generator;
  char source_hash[HUD_SHA1_HEXLEN + 1];
} hsn_fn;

typedef struct hsn_insert {
  uint32_t line;    /* 0-based */
  uint32_t gen_col; /* UTF-16 column in the generated line where the inserted text starts */
  uint32_t len;     /* its length (ASCII, so bytes = UTF-16 units) */
} hsn_insert;

typedef struct hsn_result {
  char *code; /* NUL-terminated, owned */
  size_t code_len;
  char *map; /* source map JSON, NUL-terminated, owned */
  hsn_fn *fns; /* the table: entry k is enter(__hud_b + k) */
  size_t nfns;
  hsn_insert *ins; /* in generated order */
  size_t nins;
  size_t instrumented; /* functions that received enter/exit */
  int parse_errors;
} hsn_result;

/* Rewrites SRC (LEN bytes, UTF-8) of language LANG (javascript, typescript, tsx).
 * MODULE_PATH names the functions (docs/protocol.md); SOURCE_URL goes into the map's
 * "sources". PROLOGUE (may be NULL; no newline) is inserted before the first token (after a
 * hashbang line and after the module's own directives), where the runtime registers the
 * module's table and sets __hud_b. On success *OUT is owned by the caller (hsn_result_free).
 * Errors: HUD_EINVAL, HUD_ENOMEM, HUD_ETOOBIG, HUD_ETIMEOUT. */
int hsn_rewrite(hud_indexer *ix, hud_lang lang, const char *module_path, const char *source_url,
                const char *src, size_t len, const char *prologue, hsn_result **out);
/* As hsn_rewrite, with the enter numbers chosen by the caller: the index's function k (the
 * order of r->fns) enters __hud_b + SLOTS[k], or is left as it is when SLOTS[k] < 0 or
 * k >= NSLOTS. The compiled output of TypeScript uses it to enter the .ts functions' table
 * (lib/tsmap.js). */
int hsn_rewrite_slots(hud_indexer *ix, hud_lang lang, const char *module_path,
                      const char *source_url, const char *src, size_t len, const char *prologue,
                      const int32_t *slots, size_t nslots, hsn_result **out);
void hsn_result_free(hsn_result *r);
/* *CLEAN: whether CODE (LEN bytes) parses in LANG with no error. The ES module loader checks a
 * rewrite with it: a module whose text it breaks would not load, and nothing compiles the text
 * there to find out. Errors: HUD_EINVAL, HUD_ENOMEM, HUD_ETOOBIG. */
int hsn_parses_cleanly(hud_lang lang, const char *code, size_t len, bool *clean);

#endif
