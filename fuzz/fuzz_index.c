/* libFuzzer target for the source index: any bytes, any language, one-shot and incremental.
 *
 * Input layout: byte 0 picks the language (low bits), the Python 3.12 flag (bit 7) and
 * whether to test incremental edits (bit 6); bytes 1-2 an edit position; the rest is source.
 * The source is indexed with call sites; with bit 6 it is then opened as a document and
 * edited (a slice deleted and re-inserted, as a keystroke and its undo), and for clean parses
 * the incremental result must equal the one-shot result of the same text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "hud/index.h"

static hud_indexer *ix;

static int same(const hud_index_result *a, const hud_index_result *b) {
  if (a->nfuncs != b->nfuncs || a->ncalls != b->ncalls) return 0;
  for (size_t i = 0; i < a->nfuncs; i++) {
    const hud_index_func *x = &a->funcs[i], *y = &b->funcs[i];
    if (strcmp(x->qualname, y->qualname) || x->start_line != y->start_line ||
        x->end_line != y->end_line || x->is_async != y->is_async ||
        strcmp(x->source_code_hash, y->source_code_hash))
      return 0;
  }
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  if (!ix && hud_indexer_new(&ix) != 0) abort();
  hud_lang lang = (hud_lang)(1 + (data[0] & 0x3f) % (HUD_LANG_COUNT_ - 1));
  size_t pos = ((size_t)data[1] << 8 | data[2]);
  const char *src = (const char *)data + 3;
  size_t len = size - 3;
  hud_index_opts opts = {.flags = HUD_INDEX_CALLS | (data[0] & 0x80 ? HUD_INDEX_PY_INLINE_COMPREHENSIONS : 0),
                         .timeout_ms = 2000};

  hud_index_result *one = NULL;
  int rc = hud_indexer_run(ix, lang, "fuzz/input", src, len, &opts, &one);
  if (rc != 0 && rc != HUD_ETIMEOUT) abort();
  if (one) {
    for (size_t i = 0; i < one->nfuncs; i++) {
      const hud_index_func *f = &one->funcs[i];
      if (f->start_line < 1 || f->end_line < f->start_line || !f->qualname[0] ||
          f->parent >= (int)i)
        abort();
    }
    for (size_t i = 0; i < one->ncalls; i++)
      if (one->calls[i].enclosing >= (int)one->nfuncs) abort();
  }

  hud_index_doc *doc = NULL;
  rc = !(data[0] & 0x40) ? 1 : hud_index_doc_new(lang, "fuzz/input", src, len, &opts, &doc);
  if (rc == 0) {
    size_t at = len ? pos % (len + 1) : 0;
    size_t cut = len - at < 7 ? len - at : 7;
    char saved[8];
    memcpy(saved, src + at, cut);
    rc = hud_index_doc_edit(doc, at, cut, NULL, 0);
    if (rc == 0) rc = hud_index_doc_edit(doc, at, 0, saved, cut);
    if (rc == 0 && one) {
      size_t dl = 0;
      const char *t = hud_index_doc_text(doc, &dl);
      if (dl != len || memcmp(t, src, len) != 0) abort();
      /* tree-sitter's incremental parse can recover from errors differently than a fresh
       * parse; only clean parses must agree exactly. */
      if (!one->parse_errors && !hud_index_doc_result(doc)->parse_errors &&
          !same(one, hud_index_doc_result(doc)))
        abort();
    }
    hud_index_doc_free(doc);
  }
  hud_index_result_free(one);
  return 0;
}
