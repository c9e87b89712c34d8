#define _GNU_SOURCE /* asprintf */
/* Production functions located in the workspace (locate.h). */
#include "locate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "docs.h"
#include "hud/err.h"
#include "hud/index.h"
#include "hud/str.h"
#include "pathmap.h"
#include "position.h"
#include "uri.h"

typedef struct loc_file {
  char *path;
  char *text;       /* NULL: unreadable */
  size_t len;
  size_t *lines;
  size_t n_lines;
  hud_index_result *ix;
} loc_file;

typedef struct loc_q {
  char *qualname;
  int32_t line;
  char **cands;     /* files to try, in order */
  size_t n_cands;
  bool done;        /* resolved on the loop */
  char *uri;        /* out (malloc'ed on the worker) */
  lsp_loc out;
} loc_q;

typedef struct loc_job {
  uv_work_t req;
  lsp_server *s;
  hud_arena *a;
  lsp_locate_cb cb;
  void *ud;
  lsp_encoding enc;
  loc_q *qs;
  size_t n;
  loc_file *files;
  size_t n_files;
} loc_job;

/* Whether REL is MODULE or ends with "/" MODULE. */
static bool ends_with_module(const char *rel, const char *module) {
  size_t r = strlen(rel), m = strlen(module);
  if (r < m || strcmp(rel + r - m, module) != 0) return false;
  return r == m || rel[r - m - 1] == '/';
}

static const hud_index_func *find_func(const hud_index_result *ix, const char *qualname) {
  for (size_t i = 0; ix && qualname && i < ix->nfuncs; i++)
    if (strcmp(ix->funcs[i].qualname, qualname) == 0) return &ix->funcs[i];
  return NULL;
}

/* Adds DIR/PREFIX[:PREFIX_LEN]MODULE, or DIR alone when MODULE is NULL. */
static void add_cand(loc_q *q, const char *dir, const char *prefix, size_t prefix_len, const char *module) {
  char *p = NULL;
  if (module ? asprintf(&p, "%s/%.*s%s", dir, (int)prefix_len, prefix, module) < 0 : !(p = hud_strdup(dir))) return;
  for (size_t i = 0; i < q->n_cands; i++) {
    if (strcmp(q->cands[i], p) == 0) {
      free(p);
      return;
    }
  }
  char **c = realloc(q->cands, (q->n_cands + 1) * sizeof *c);
  if (!c) {
    free(p);
    return;
  }
  q->cands = c;
  q->cands[q->n_cands++] = p;
}

/* ---- on the loop ---- */

static lsp_doc *open_doc_for(lsp_server *s, const lsp_loc_query *in) {
  for (size_t i = 0; s->docs && i < lsp_docs_count(s->docs); i++) {
    lsp_doc *d = lsp_docs_at(s->docs, i);
    if (in->path ? (d->path && strcmp(d->path, in->path) == 0)
                 : (d->module && strcmp(d->module, in->module) == 0) || ends_with_module(d->rel, in->module))
      return d;
  }
  return NULL;
}

static void from_doc(lsp_server *s, lsp_doc *d, loc_q *q) {
  q->done = true;
  q->uri = hud_strdup(d->uri);
  const hud_index_func *f = find_func(lsp_doc_index(d), q->qualname);
  if (f) {
    q->out.found = true;
    q->out.selection.start = lsp_doc_pos(d, f->name_start.row, f->name_start.column, s->enc);
    q->out.selection.end = lsp_doc_pos(d, f->name_end.row, f->name_end.column, s->enc);
    q->out.range.start = lsp_doc_pos(d, (uint32_t)(f->start_line - 1), 0, s->enc);
    q->out.range.end = lsp_doc_line_range(d, (uint32_t)(f->end_line - 1), s->enc).end;
  }
  if (q->line > 0) {
    q->out.has_line = true;
    q->out.line = lsp_doc_line_range(d, (uint32_t)(q->line - 1), s->enc);
  }
}

static void plan(lsp_server *s, const lsp_loc_query *in, loc_q *q) {
  if (!in->module && !in->path) return; /* nothing to look for: not in the workspace */
  lsp_doc *d = open_doc_for(s, in);
  if (d && lsp_doc_index(d)) {
    from_doc(s, d, q);
    return;
  }
  if (d && d->path) add_cand(q, d->path, "", 0, NULL);
  if (in->path) add_cand(q, in->path, "", 0, NULL);
  if (!in->module) return;
  /* pathMaps: the directory production's prefix lives in, in each folder. */
  for (size_t m = 0; m < s->settings.n_path_maps; m++) {
    for (size_t f = 0; f < s->n_folders || (f == 0 && s->settings.path_maps[m].to[0] == '/'); f++) {
      char file[1400];
      if (lsp_pathmap_file(s, m, f, in->module, file, sizeof file) == 0) add_cand(q, file, "", 0, NULL);
    }
  }
  for (size_t f = 0; f < s->n_folders; f++) add_cand(q, s->folders[f], "", 0, in->module);
  /* The prefixes that map open documents to their modules (app/ for app/shop/db.py -> shop/db.py). */
  for (size_t i = 0; s->docs && i < lsp_docs_count(s->docs); i++) {
    lsp_doc *o = lsp_docs_at(s->docs, i);
    if (!o->module || o->folder < 0 || (size_t)o->folder >= s->n_folders || !ends_with_module(o->rel, o->module))
      continue;
    add_cand(q, s->folders[o->folder], o->rel, strlen(o->rel) - strlen(o->module), in->module);
  }
}

/* ---- on the worker: touches only the job ---- */

static loc_file *load(loc_job *j, hud_indexer **ixr, const char *path) {
  for (size_t i = 0; i < j->n_files; i++)
    if (strcmp(j->files[i].path, path) == 0) return &j->files[i];
  loc_file *fs = realloc(j->files, (j->n_files + 1) * sizeof *fs);
  if (!fs) return NULL;
  j->files = fs;
  loc_file *f = &j->files[j->n_files++];
  memset(f, 0, sizeof *f);
  f->path = hud_strdup(path);
  struct stat st;
  FILE *fp = stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size <= HUD_INDEX_MAX_BYTES
                 ? fopen(path, "rb")
                 : NULL;
  if (!fp) return f;
  f->text = malloc((size_t)st.st_size + 1);
  f->len = f->text ? fread(f->text, 1, (size_t)st.st_size, fp) : 0;
  fclose(fp);
  if (!f->text) return f;
  f->n_lines = 1;
  for (size_t i = 0; i < f->len; i++) f->n_lines += f->text[i] == '\n';
  f->lines = malloc(f->n_lines * sizeof *f->lines);
  if (f->lines) {
    size_t k = 0;
    f->lines[k++] = 0;
    for (size_t i = 0; i < f->len; i++)
      if (f->text[i] == '\n') f->lines[k++] = i + 1;
  }
  hud_lang lang = hud_lang_from_path(path);
  if (lang != HUD_LANG_UNKNOWN && (*ixr || hud_indexer_new(ixr) == 0))
    hud_indexer_run(*ixr, lang, path, f->text, f->len, NULL, &f->ix);
  return f;
}

static lsp_pos file_pos(const loc_file *f, uint32_t row, size_t col, lsp_encoding enc) {
  lsp_pos p = {.line = row, .character = (int64_t)col};
  if (!f->lines || row >= f->n_lines) return p;
  size_t s = f->lines[row], e = row + 1 < f->n_lines ? f->lines[row + 1] - 1 : f->len;
  if (e > s && f->text[e - 1] == '\r') e--;
  p.character = lsp_bytes_to_units(f->text + s, e - s, col == SIZE_MAX ? e - s : col, enc);
  return p;
}

static lsp_range file_line(const loc_file *f, uint32_t row, lsp_encoding enc) {
  lsp_range r = {{row, 0}, {row, 0}};
  if (!f->lines || row >= f->n_lines) return r;
  size_t s = f->lines[row], lead = 0;
  while (s + lead < f->len && (f->text[s + lead] == ' ' || f->text[s + lead] == '\t')) lead++;
  r.start = file_pos(f, row, lead, enc);
  r.end = file_pos(f, row, SIZE_MAX, enc);
  return r;
}

static void resolve(loc_job *j, hud_indexer **ixr, loc_q *q) {
  const loc_file *first = NULL, *hit = NULL;
  const hud_index_func *fn = NULL;
  for (size_t c = 0; c < q->n_cands && !hit; c++) {
    const loc_file *f = load(j, ixr, q->cands[c]);
    if (!f || !f->text) continue;
    if (!first) first = f;
    fn = find_func(f->ix, q->qualname);
    if (fn) hit = f;
  }
  const loc_file *f = hit ? hit : first;
  if (!f) return;
  q->uri = lsp_path_to_uri(f->path);
  if (fn) {
    q->out.found = true;
    q->out.selection.start = file_pos(f, fn->name_start.row, fn->name_start.column, j->enc);
    q->out.selection.end = file_pos(f, fn->name_end.row, fn->name_end.column, j->enc);
    q->out.range.start = file_pos(f, (uint32_t)(fn->start_line - 1), 0, j->enc);
    q->out.range.end = file_pos(f, (uint32_t)(fn->end_line - 1), SIZE_MAX, j->enc);
  }
  if (q->line > 0) {
    q->out.has_line = true;
    q->out.line = file_line(f, (uint32_t)(q->line - 1), j->enc);
  }
}

static void work(uv_work_t *req) {
  loc_job *j = req->data;
  hud_indexer *ixr = NULL;
  for (size_t i = 0; i < j->n; i++)
    if (!j->qs[i].done) resolve(j, &ixr, &j->qs[i]);
  hud_indexer_free(ixr);
}

static void job_free(loc_job *j) {
  for (size_t i = 0; i < j->n; i++) {
    loc_q *q = &j->qs[i];
    free(q->qualname);
    free(q->uri);
    for (size_t c = 0; c < q->n_cands; c++) free(q->cands[c]);
    free(q->cands);
  }
  for (size_t i = 0; i < j->n_files; i++) {
    free(j->files[i].path);
    free(j->files[i].text);
    free(j->files[i].lines);
    hud_index_result_free(j->files[i].ix);
  }
  free(j->files);
  free(j->qs);
  free(j);
}

static void done(uv_work_t *req, int status) {
  (void)status;
  loc_job *j = req->data;
  lsp_loc *locs = hud_arena_calloc(j->a, j->n + 1, sizeof *locs);
  for (size_t i = 0; locs && i < j->n; i++) {
    locs[i] = j->qs[i].out;
    locs[i].uri = j->qs[i].uri ? hud_arena_strdup(j->a, j->qs[i].uri) : NULL;
  }
  j->cb(j->s, j->ud, locs, locs ? j->n : 0);
  job_free(j);
}

int lsp_locate_start(lsp_server *s, hud_arena *a, const lsp_loc_query *q, size_t n, lsp_locate_cb cb, void *ud) {
  loc_job *j = calloc(1, sizeof *j);
  if (!j || !(j->qs = calloc(n + 1, sizeof *j->qs))) {
    free(j);
    return HUD_ENOMEM;
  }
  *j = (loc_job){.s = s, .a = a, .cb = cb, .ud = ud, .enc = s->enc, .qs = j->qs, .n = n};
  for (size_t i = 0; i < n; i++) {
    j->qs[i].qualname = q[i].qualname ? hud_strdup(q[i].qualname) : NULL;
    j->qs[i].line = q[i].line;
    plan(s, &q[i], &j->qs[i]);
  }
  j->req.data = j;
  if (uv_queue_work(s->loop, &j->req, work, done) != 0) {
    job_free(j);
    return HUD_ENOMEM;
  }
  return 0;
}
