/* Open documents and their off-loop indexing (docs.h). */
#include "docs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "hud/str.h"
#include "position.h"

struct lsp_doc_edit {
  size_t start, old_len;
  char *text;
  size_t text_len;
  lsp_doc_edit *next;
};

/* One trip to a worker: a fresh parse of TEXT, or EDITS applied to IX in order. */
struct lsp_index_job {
  uv_work_t req;
  lsp_docs *d;
  lsp_doc *doc;
  uint64_t gen;         /* the generation the result describes */
  hud_lang lang;
  char *rel;
  char *text;           /* fresh parse: a copy of the text */
  size_t len;
  lsp_doc_edit *edits;  /* else: the edits, owned by the job */
  hud_index_doc *ix;    /* in: the index to edit; out: the result (NULL when refused) */
  int rc;
  double ms;
};

struct lsp_docs {
  uv_loop_t *loop;
  lsp_docs_ready_fn on_ready;
  void *ud;
  lsp_doc **items;
  size_t n, cap;
};

int lsp_docs_new(uv_loop_t *loop, lsp_docs_ready_fn on_ready, void *ud, lsp_docs **out) {
  *out = calloc(1, sizeof **out);
  if (!*out) return HUD_ENOMEM;
  (*out)->loop = loop;
  (*out)->on_ready = on_ready;
  (*out)->ud = ud;
  return 0;
}

static void edits_free(lsp_doc_edit *e) {
  while (e) {
    lsp_doc_edit *next = e->next;
    free(e->text);
    free(e);
    e = next;
  }
}

static void doc_free(lsp_doc *doc) {
  if (!doc) return;
  hud_index_doc_free(doc->ix);
  edits_free(doc->edits);
  free(doc->uri);
  free(doc->path);
  free(doc->text);
  free(doc->lines);
  free(doc->rel);
  free(doc->module);
  free(doc->diag_last);
  lsp_fnids_free(doc->fnids);
  lsp_inlay_cache_free(doc->inlays);
  free(doc);
}

/* A document with a job in flight is freed by the job's end. */
static void doc_release(lsp_doc *doc) {
  if (doc->job) doc->closed = true;
  else doc_free(doc);
}

void lsp_docs_free(lsp_docs *d) {
  if (!d) return;
  for (size_t i = 0; i < d->n; i++) doc_release(d->items[i]);
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

static int set_text(lsp_doc *doc, const char *text, size_t len) {
  char *t = malloc(len + 1);
  if (!t) return HUD_ENOMEM;
  memcpy(t, text, len);
  free(doc->text);
  doc->text = t;
  doc->len = doc->cap = len;
  return 0;
}

static int splice(char **buf, size_t *len, size_t *cap, size_t start, size_t old_len, const char *text,
                  size_t text_len) {
  size_t n = *len - old_len + text_len;
  if (n > *cap || !*buf) {
    size_t c = *cap ? *cap : 64;
    while (c < n) c *= 2;
    char *t = realloc(*buf, c + 1);
    if (!t) return HUD_ENOMEM;
    *buf = t;
    *cap = c;
  }
  memmove(*buf + start + text_len, *buf + start + old_len, *len - start - old_len);
  memcpy(*buf + start, text, text_len);
  *len = n;
  return 0;
}

/* ---- the worker's side: touches only the job ---- */

static double ms_since(uint64_t t0) { return (double)(uv_hrtime() - t0) / 1e6; }

/* An edit the index could not re-parse (timeout, too big): rebuild the text and parse it again. */
static int rebuild(lsp_index_job *j, const lsp_doc_edit *e) {
  size_t len, cap;
  const char *t = hud_index_doc_text(j->ix, &len);
  char *copy = malloc(len + 1);
  if (!copy) return HUD_ENOMEM;
  memcpy(copy, t, len);
  cap = len;
  int rc = splice(&copy, &len, &cap, e->start, e->old_len, e->text, e->text_len);
  hud_index_doc_free(j->ix);
  j->ix = NULL;
  if (rc == 0) rc = hud_index_doc_new(j->lang, j->rel, copy, len, NULL, &j->ix);
  free(copy);
  return rc;
}

static void job_work(uv_work_t *req) {
  lsp_index_job *j = req->data;
  uint64_t t0 = uv_hrtime();
  if (j->text) {
    j->rc = hud_index_doc_new(j->lang, j->rel, j->text, j->len, NULL, &j->ix);
  } else {
    for (lsp_doc_edit *e = j->edits; e && j->ix; e = e->next) {
      j->rc = hud_index_doc_edit(j->ix, e->start, e->old_len, e->text, e->text_len);
      if (j->rc == HUD_ETOOBIG || j->rc == HUD_ETIMEOUT) j->rc = rebuild(j, e);
      if (j->rc) {
        hud_index_doc_free(j->ix);
        j->ix = NULL;
      }
    }
  }
  j->ms = ms_since(t0);
}

/* ---- the loop's side ---- */

static void job_start(lsp_docs *d, lsp_doc *doc);

static void job_free(lsp_index_job *j) {
  hud_index_doc_free(j->ix);
  edits_free(j->edits);
  free(j->text);
  free(j->rel);
  free(j);
}

static void job_done(uv_work_t *req, int status) {
  lsp_index_job *j = req->data;
  lsp_doc *doc = j->doc;
  doc->job = NULL;
  if (doc->closed) {
    job_free(j);
    doc_free(doc);
    return;
  }
  lsp_docs *d = j->d;
  doc->index_ms = j->ms;
  char warn[512] = "";
  if (doc->reload && j->gen < doc->gen) {
    /* A full replacement came while this job ran: its result is stale. */
  } else if (status != 0 || j->rc) {
    doc->indexable = false; /* kept as plain text */
    doc->index_rc = status ? HUD_EIO : j->rc;
    doc->reload = false;
    edits_free(doc->edits);
    doc->edits = doc->edits_tail = NULL;
    snprintf(warn, sizeof warn, "%s is not indexed: %s", doc->uri,
             status ? uv_strerror(status) : hud_strerror(j->rc));
  } else {
    hud_index_doc_free(doc->ix);
    doc->ix = j->ix;
    j->ix = NULL;
    doc->ix_gen = j->gen;
  }
  job_free(j);
  if (lsp_doc_ready(doc)) {
    if (d->on_ready) d->on_ready(d->ud, doc, warn[0] ? warn : NULL);
  } else {
    job_start(d, doc);
  }
}

static void job_start(lsp_docs *d, lsp_doc *doc) {
  if (doc->job || !doc->indexable || doc->ix_gen == doc->gen) return;
  lsp_index_job *j = calloc(1, sizeof *j);
  if (!j) return;
  j->d = d;
  j->doc = doc;
  j->gen = doc->gen;
  j->lang = doc->lang;
  j->rel = hud_strdup(doc->rel);
  if (doc->reload || !doc->ix) {
    j->text = malloc(doc->len + 1);
    if (j->text) memcpy(j->text, doc->text, doc->len);
    j->len = doc->len;
    edits_free(doc->edits);
    doc->reload = false;
  } else {
    j->edits = doc->edits;
    j->ix = doc->ix; /* the worker's until the job ends */
    doc->ix = NULL;
  }
  doc->edits = doc->edits_tail = NULL;
  j->req.data = j;
  if (!j->rel || (!j->text && !j->ix) || uv_queue_work(d->loop, &j->req, job_work, job_done) != 0) {
    doc->ix = j->ix; /* not started: the document stays unindexed until the next change */
    j->ix = NULL;
    job_free(j);
    return;
  }
  doc->job = j;
}

int lsp_docs_open(lsp_docs *d, const char *uri, const char *path, const char *rel, int folder, const char *text,
                  size_t len, int64_t version, lsp_doc **out) {
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
  doc->fnids = lsp_fnids_new(); /* NULL: ids are computed at each use */
  doc->folder = folder;
  doc->version = version;
  doc->lang = path ? hud_lang_from_path(path) : HUD_LANG_UNKNOWN;
  doc->indexable = doc->lang != HUD_LANG_UNKNOWN;
  doc->gen = 1;
  int rc = (!doc->uri || !doc->rel || (path && !doc->path)) ? HUD_ENOMEM : set_text(doc, text, len);
  if (rc) {
    doc_free(doc);
    return rc;
  }
  d->items[d->n++] = doc;
  *out = doc;
  job_start(d, doc);
  return 0;
}

void lsp_docs_close(lsp_docs *d, const char *uri) {
  for (size_t i = 0; i < d->n; i++) {
    if (strcmp(d->items[i]->uri, uri) != 0) continue;
    doc_release(d->items[i]);
    d->items[i] = d->items[--d->n];
    return;
  }
}

const char *lsp_doc_text(const lsp_doc *doc, size_t *len) {
  *len = doc->len;
  return doc->text ? doc->text : "";
}

bool lsp_doc_ready(const lsp_doc *doc) { return !doc->indexable || (!doc->job && doc->ix_gen == doc->gen); }

const hud_index_result *lsp_doc_index(const lsp_doc *doc) {
  return doc->indexable && lsp_doc_ready(doc) && doc->ix ? hud_index_doc_result(doc->ix) : NULL;
}

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

lsp_range lsp_doc_line_range(lsp_doc *doc, uint32_t row, lsp_encoding enc) {
  lsp_range r = {{row, 0}, {row, 0}};
  if (build_lines(doc) || row >= doc->n_lines) return r;
  size_t ll, lead = 0;
  const char *line = line_of(doc, row, &ll);
  while (lead < ll && (line[lead] == ' ' || line[lead] == '\t')) lead++;
  r.start.character = lsp_bytes_to_units(line, ll, lead, enc);
  r.end.character = lsp_bytes_to_units(line, ll, ll, enc);
  return r;
}

int lsp_doc_apply(lsp_doc *doc, const lsp_text_change *ch, lsp_encoding enc, char *why, size_t why_len) {
  size_t s = 0, e = doc->len;
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
  lsp_doc_edit *ed = NULL;
  if (doc->indexable && ch->has_range && !doc->reload) {
    ed = calloc(1, sizeof *ed);
    if (!ed || !(ed->text = malloc(ch->text_len + 1))) {
      free(ed);
      return HUD_ENOMEM;
    }
    memcpy(ed->text, ch->text, ch->text_len);
    *ed = (lsp_doc_edit){.start = s, .old_len = e - s, .text = ed->text, .text_len = ch->text_len};
  }
  int rc = splice(&doc->text, &doc->len, &doc->cap, s, e - s, ch->text, ch->text_len);
  if (rc) {
    if (ed) free(ed->text);
    free(ed);
    return rc;
  }
  doc->lines_ok = false;
  doc->gen++;
  if (!doc->indexable) return 0;
  if (!ch->has_range) {
    /* A full replacement: the next job parses from scratch, queued edits are moot. */
    edits_free(doc->edits);
    doc->edits = doc->edits_tail = NULL;
    doc->reload = true;
  } else if (ed) {
    if (doc->edits_tail) doc->edits_tail->next = ed;
    else doc->edits = ed;
    doc->edits_tail = ed;
  }
  return 0;
}

void lsp_doc_flush(lsp_docs *d, lsp_doc *doc) { job_start(d, doc); }
