/* Open documents (docs.h). */
#include "docs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "hud/str.h"
#include "position.h"

struct lsp_docs {
  lsp_doc **items;
  size_t n, cap;
};

int lsp_docs_new(lsp_docs **out) {
  *out = calloc(1, sizeof **out);
  return *out ? 0 : HUD_ENOMEM;
}

static void doc_free(lsp_doc *doc) {
  if (!doc) return;
  hud_index_doc_free(doc->ix);
  free(doc->uri);
  free(doc->path);
  free(doc->text);
  free(doc->lines);
  free(doc->rel);
  free(doc->module);
  free(doc);
}

void lsp_docs_free(lsp_docs *d) {
  if (!d) return;
  for (size_t i = 0; i < d->n; i++) doc_free(d->items[i]);
  free(d->items);
  free(d);
}

size_t lsp_docs_count(const lsp_docs *d) { return d->n; }
lsp_doc *lsp_docs_at(lsp_docs *d, size_t i) { return i < d->n ? d->items[i] : NULL; }

lsp_doc *lsp_docs_find(lsp_docs *d, const char *uri) {
  for (size_t i = 0; i < d->n; i++)
    if (strcmp(d->items[i]->uri, uri) == 0) return d->items[i];
  return NULL;
}

static int set_own_text(lsp_doc *doc, const char *text, size_t len) {
  char *t = malloc(len + 1);
  if (!t) return HUD_ENOMEM;
  memcpy(t, text, len);
  free(doc->text);
  doc->text = t;
  doc->len = doc->cap = len;
  return 0;
}

/* Indexes TEXT; a file the index refuses (too big, too slow) stays a plain text document. */
static int load(lsp_doc *doc, const char *text, size_t len, char *warn, size_t warn_len) {
  hud_index_doc_free(doc->ix);
  doc->ix = NULL;
  doc->lines_ok = false;
  if (doc->lang != HUD_LANG_UNKNOWN) {
    int rc = hud_index_doc_new(doc->lang, doc->rel, text, len, NULL, &doc->ix);
    if (rc == 0) {
      free(doc->text);
      doc->text = NULL;
      doc->len = doc->cap = 0;
      return 0;
    }
    if (rc == HUD_ENOMEM) return rc;
    if (warn) snprintf(warn, warn_len, "%s is not indexed: %s", doc->uri, hud_strerror(rc));
  }
  return set_own_text(doc, text, len);
}

int lsp_docs_open(lsp_docs *d, const char *uri, const char *path, const char *rel, int folder, const char *text,
                  size_t len, int64_t version, char *warn, size_t warn_len, lsp_doc **out) {
  if (warn && warn_len) warn[0] = '\0';
  lsp_docs_close(d, uri);
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 8;
    lsp_doc **items = realloc(d->items, cap * sizeof *items);
    if (!items) return HUD_ENOMEM;
    d->items = items;
    d->cap = cap;
  }
  lsp_doc *doc = calloc(1, sizeof *doc);
  if (!doc) return HUD_ENOMEM;
  doc->uri = hud_strdup(uri);
  doc->path = path ? hud_strdup(path) : NULL;
  doc->rel = hud_strdup(rel);
  doc->folder = folder;
  doc->version = version;
  doc->lang = path ? hud_lang_from_path(path) : HUD_LANG_UNKNOWN;
  int rc = (!doc->uri || !doc->rel || (path && !doc->path)) ? HUD_ENOMEM : load(doc, text, len, warn, warn_len);
  if (rc) {
    doc_free(doc);
    return rc;
  }
  d->items[d->n++] = doc;
  *out = doc;
  return 0;
}

void lsp_docs_close(lsp_docs *d, const char *uri) {
  for (size_t i = 0; i < d->n; i++) {
    if (strcmp(d->items[i]->uri, uri) != 0) continue;
    doc_free(d->items[i]);
    d->items[i] = d->items[--d->n];
    return;
  }
}

const char *lsp_doc_text(const lsp_doc *doc, size_t *len) {
  if (doc->ix) return hud_index_doc_text(doc->ix, len);
  *len = doc->len;
  return doc->text ? doc->text : "";
}

const hud_index_result *lsp_doc_index(const lsp_doc *doc) { return doc->ix ? hud_index_doc_result(doc->ix) : NULL; }

static int build_lines(lsp_doc *doc) {
  if (doc->lines_ok) return 0;
  size_t len;
  const char *t = lsp_doc_text(doc, &len);
  size_t n = 1;
  for (const char *p = t; (p = memchr(p, '\n', (size_t)(t + len - p))) != NULL; p++) n++;
  size_t *lines = realloc(doc->lines, n * sizeof *lines);
  if (!lines) return HUD_ENOMEM;
  lines[0] = 0;
  size_t k = 1;
  for (const char *p = t; (p = memchr(p, '\n', (size_t)(t + len - p))) != NULL; p++) lines[k++] = (size_t)(p - t) + 1;
  doc->lines = lines;
  doc->n_lines = n;
  doc->lines_ok = true;
  return 0;
}

/* Line ROW's bytes without its line break ("\n" or "\r\n"). */
static const char *line_of(lsp_doc *doc, size_t row, size_t *line_len) {
  size_t len;
  const char *t = lsp_doc_text(doc, &len);
  size_t s = doc->lines[row];
  size_t e = row + 1 < doc->n_lines ? doc->lines[row + 1] - 1 : len;
  if (e > s && t[e - 1] == '\r') e--;
  *line_len = e - s;
  return t + s;
}

int lsp_doc_offset(lsp_doc *doc, lsp_pos pos, lsp_encoding enc, size_t *out) {
  int rc = build_lines(doc);
  if (rc) return rc;
  if (pos.line < 0 || pos.character < 0 || (uint64_t)pos.line >= doc->n_lines) return HUD_ERANGE;
  size_t ll;
  const char *line = line_of(doc, (size_t)pos.line, &ll);
  *out = doc->lines[pos.line] + lsp_units_to_bytes(line, ll, pos.character, enc);
  return 0;
}

lsp_pos lsp_doc_pos(lsp_doc *doc, uint32_t row, uint32_t column, lsp_encoding enc) {
  lsp_pos p = {.line = row, .character = column};
  if (build_lines(doc) || row >= doc->n_lines) return p;
  size_t ll;
  const char *line = line_of(doc, row, &ll);
  p.character = lsp_bytes_to_units(line, ll, column, enc);
  return p;
}

static int splice_own(lsp_doc *doc, size_t start, size_t old_len, const char *text, size_t text_len) {
  size_t n = doc->len - old_len + text_len;
  if (n > doc->cap) {
    size_t cap = doc->cap ? doc->cap : 64;
    while (cap < n) cap *= 2;
    char *t = realloc(doc->text, cap + 1);
    if (!t) return HUD_ENOMEM;
    doc->text = t;
    doc->cap = cap;
  }
  memmove(doc->text + start + text_len, doc->text + start + old_len, doc->len - start - old_len);
  memcpy(doc->text + start, text, text_len);
  doc->len = n;
  return 0;
}

/* The index could not re-parse (timeout): rebuild the text by hand and index it from scratch. */
static int splice_rebuild(lsp_doc *doc, size_t start, size_t old_len, const char *text, size_t text_len) {
  size_t len;
  const char *t = lsp_doc_text(doc, &len);
  lsp_doc tmp = {0};
  int rc = set_own_text(&tmp, t, len);
  if (rc == 0) rc = splice_own(&tmp, start, old_len, text, text_len);
  if (rc == 0) rc = load(doc, tmp.text, tmp.len, NULL, 0);
  free(tmp.text);
  return rc;
}

int lsp_doc_apply(lsp_doc *doc, const lsp_text_change *ch, lsp_encoding enc, char *why, size_t why_len) {
  size_t len;
  lsp_doc_text(doc, &len);
  size_t s = 0, e = len;
  if (ch->has_range) {
    int rc = lsp_doc_offset(doc, ch->range.start, enc, &s);
    if (rc == 0) rc = lsp_doc_offset(doc, ch->range.end, enc, &e);
    if (rc == HUD_ERANGE || (rc == 0 && e < s)) {
      snprintf(why, why_len, "range %lld:%lld-%lld:%lld is outside the document (%zu lines) or reversed",
               (long long)ch->range.start.line, (long long)ch->range.start.character, (long long)ch->range.end.line,
               (long long)ch->range.end.character, doc->n_lines);
      return HUD_ERANGE;
    }
    if (rc) return rc;
  }
  doc->lines_ok = false;
  if (!doc->ix) return splice_own(doc, s, e - s, ch->text, ch->text_len);
  int rc = hud_index_doc_edit(doc->ix, s, e - s, ch->text, ch->text_len);
  if (rc == HUD_ETOOBIG || rc == HUD_ETIMEOUT) return splice_rebuild(doc, s, e - s, ch->text, ch->text_len);
  return rc;
}
