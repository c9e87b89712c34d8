/* textDocument/inlayHint, for clients that advertise inlay hints: at each call site of the functions
 * in the range that ran in production, how often production made that call (`×1.2k/min`), from the
 * callees of each function's GET /v1/functions/{id}. The hint goes after the callee's name on the call
 * line (the end of the line when the name is not on it).
 *
 * The call sites of each function are cached per document until its text changes or new figures
 * arrive: requests for the same version (scrolling, the client asking again) need no backend call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "format.h"
#include "hud/err.h"
#include "server.h"

enum { MAX_FUNCS = 32 };

typedef struct site {
  int32_t line;            /* 1-based call line in the function's file, > 0 */
  const char *name;        /* the callee's qualified name, NULL: unknown */
  int64_t calls;
} site;

typedef struct fn_sites {
  hud_uuid id;
  size_t n;
  site *sites;
} fn_sites;

struct lsp_inlay_cache {
  uint64_t gen, epoch;     /* the document's generation and the backend's figures it holds */
  const lsp_backend *backend;
  hud_arena *a;
  size_t n, cap;
  fn_sites *fns;
};

typedef struct inlay_req {
  lsp_call *call;
  size_t pending, n;
  uint64_t gen, epoch;     /* the cache's key when the request started */
  fn_sites fns[MAX_FUNCS];
  hud_function_detail details[MAX_FUNCS]; /* fetched: fns[i] with no sites yet */
  bool fetched[MAX_FUNCS];
} inlay_req;

void lsp_inlay_cache_free(lsp_inlay_cache *c) {
  if (!c) return;
  hud_arena_free(c->a);
  free(c->fns);
  free(c);
}

/* DOC's cache, emptied when the text or the figures changed since it was filled; NULL: out of memory. */
static lsp_inlay_cache *cache_of(lsp_server *s, lsp_doc *doc) {
  lsp_inlay_cache *c = doc->inlays;
  if (!c && !(c = doc->inlays = calloc(1, sizeof *c))) return NULL;
  uint64_t epoch = lsp_backend_epoch(s->backend);
  if (c->a && c->gen == doc->gen && c->epoch == epoch && c->backend == s->backend) return c;
  hud_arena_free(c->a);
  c->a = hud_arena_new();
  c->n = 0;
  c->gen = doc->gen;
  c->epoch = epoch;
  c->backend = s->backend;
  return c->a ? c : NULL;
}

static const fn_sites *cached(const lsp_inlay_cache *c, const char *id) {
  for (size_t i = 0; c && i < c->n; i++)
    if (strcmp(c->fns[i].id, id) == 0) return &c->fns[i];
  return NULL;
}

/* A copy of F's sites in A (NULL: out of memory). */
static int copy_sites(hud_arena *a, const fn_sites *f, fn_sites *out) {
  memcpy(out->id, f->id, sizeof out->id);
  out->n = 0;
  out->sites = hud_arena_calloc(a, f->n + 1, sizeof *out->sites);
  if (!out->sites) return -1;
  for (size_t i = 0; i < f->n; i++) {
    out->sites[i] = f->sites[i];
    out->sites[i].name = f->sites[i].name ? hud_arena_strdup(a, f->sites[i].name) : NULL;
  }
  out->n = f->n;
  return 0;
}

/* The sites of a fetched function's callees (those with a known line). */
static void sites_of(hud_arena *a, const hud_function_detail *d, fn_sites *out) {
  out->sites = hud_arena_calloc(a, d->n_callees + 1, sizeof *out->sites);
  out->n = 0;
  for (size_t k = 0; out->sites && k < d->n_callees; k++) {
    const hud_call_peer *c = &d->callees[k];
    if (c->line > 0) out->sites[out->n++] = (site){.line = c->line, .name = c->name, .calls = c->calls};
  }
}

/* Keeps the fetched sites of R in DOC's cache, when it still describes the same text and figures. */
static void remember(lsp_server *s, lsp_doc *doc, inlay_req *r) {
  lsp_inlay_cache *c = doc->inlays;
  if (!c || !c->a || c->gen != r->gen || c->epoch != r->epoch || c->backend != s->backend) return;
  for (size_t i = 0; i < r->n; i++) {
    if (!r->fetched[i] || cached(c, r->fns[i].id)) continue;
    if (c->n == c->cap) {
      size_t cap = c->cap ? 2 * c->cap : 16;
      fn_sites *fns = realloc(c->fns, cap * sizeof *fns);
      if (!fns) return;
      c->fns = fns;
      c->cap = cap;
    }
    if (copy_sites(c->a, &r->fns[i], &c->fns[c->n]) == 0) c->n++;
  }
}

/* Where the hint for a call of CALLEE on ROW goes: after the last part of its name on that line. */
static lsp_pos hint_pos(lsp_server *s, lsp_doc *doc, uint32_t row, const char *callee) {
  size_t off, len;
  const char *text = lsp_doc_text(doc, &len);
  lsp_range line = lsp_doc_line_range(doc, row, s->enc);
  if (lsp_doc_offset(doc, (lsp_pos){.line = row, .character = 0}, s->enc, &off)) return line.end;
  const char *start = text + off, *nl = memchr(start, '\n', len - off);
  size_t n = nl ? (size_t)(nl - start) : len - off;
  const char *name = callee ? strrchr(callee, '.') : NULL;
  name = name ? name + 1 : callee;
  size_t k = name ? strlen(name) : 0;
  for (size_t i = 0; k && i + k <= n; i++)
    if (!memcmp(start + i, name, k) && (i + k == n || start[i + k] == '(' || start[i + k] == ' '))
      return lsp_doc_pos(doc, row, (uint32_t)(i + k), s->enc);
  return line.end;
}

static void build(inlay_req *r, lsp_doc *doc) {
  lsp_call *h = r->call;
  lsp_server *s = h->srv;
  const lsp_inlay_params *p = h->params;
  lsp_inlays *out = h->result;
  size_t total = 0;
  for (size_t i = 0; i < r->n; i++) total += r->fns[i].n;
  if (!total) return;
  out->items = hud_arena_calloc(h->arena, total, sizeof *out->items);
  if (!out->items) return;
  double minutes = (double)s->settings.window_s / 60.0;
  for (size_t i = 0; i < r->n; i++) {
    for (size_t k = 0; k < r->fns[i].n; k++) {
      const site *c = &r->fns[i].sites[k];
      if (c->line - 1 < p->range.start.line || c->line - 1 > p->range.end.line) continue;
      char rate[32], label[48];
      lsp_fmt_count(minutes > 0 ? (double)c->calls / minutes : 0, rate, sizeof rate);
      snprintf(label, sizeof label, "×%s/min", rate);
      lsp_inlay *x = &out->items[out->n++];
      x->position = hint_pos(s, doc, (uint32_t)(c->line - 1), c->name);
      x->label = hud_arena_strdup(h->arena, label);
    }
  }
}

static void answered(hud_client *c, unsigned long id, const hud_api_error *e, void *resp, void *ud) {
  (void)c;
  (void)id;
  (void)resp;
  inlay_req *r = ud;
  /* A function the backend does not know (or a failure) has no hints; a failure is not cached. */
  for (size_t i = 0; e && e->code && e->code != HUD_ENOTFOUND && i < r->n; i++)
    if (resp == &r->details[i]) r->fetched[i] = false;
  if (--r->pending) return;
  lsp_server *s = r->call->srv;
  lsp_doc *doc = s->released ? NULL : lsp_docs_find(s->docs, ((const lsp_inlay_params *)r->call->params)->uri);
  for (size_t i = 0; i < r->n; i++)
    if (r->fetched[i]) sites_of(r->call->arena, &r->details[i], &r->fns[i]);
  if (doc && !r->call->cancelled) {
    remember(s, doc, r);
    build(r, doc);
  }
  lsp_call_finish(r->call, 0, NULL);
}

static int inlay_hint(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  lsp_server *s = call->srv;
  const lsp_inlay_params *p = params;
  lsp_doc *doc = lsp_docs_find(s->docs, p->uri);
  if (!doc) {
    err->code = LSP_INVALID_PARAMS;
    snprintf(err->message, sizeof err->message, "inlayHint: %s is not open (send didOpen first)", p->uri);
    return -1;
  }
  if (!s->inlay_hints || !s->settings.inlay_on) return 0; /* not advertised to this client, or turned off */
  if (!lsp_doc_ready(doc)) return lsp_call_wait_doc(call, doc);
  const hud_index_result *ix = lsp_doc_index(doc);
  const hud_function_summary *sums[MAX_FUNCS];
  size_t n = 0;
  for (size_t i = 0; ix && i < ix->nfuncs && n < MAX_FUNCS; i++) {
    const hud_index_func *f = &ix->funcs[i];
    if (f->end_line - 1 < p->range.start.line || f->start_line - 1 > p->range.end.line) continue;
    const hud_function_summary *sum = lsp_backend_lookup(s->backend, doc, f->qualname);
    if (sum) sums[n++] = sum;
  }
  if (!n) return 0;
  lsp_inlay_cache *cache = cache_of(s, doc);
  inlay_req *r = hud_arena_calloc(call->arena, 1, sizeof *r);
  if (!r) {
    err->code = LSP_INTERNAL_ERROR;
    snprintf(err->message, sizeof err->message, "out of memory");
    return -1;
  }
  r->gen = doc->gen;
  r->epoch = lsp_backend_epoch(s->backend);
  r->pending = 1; /* held until every request started: a quick answer cannot finish the call early */
  for (size_t i = 0; i < n; i++) {
    const fn_sites *known = cached(cache, sums[i]->function_id);
    fn_sites *f = &r->fns[r->n];
    snprintf(f->id, sizeof f->id, "%s", sums[i]->function_id);
    if (known) {
      if (copy_sites(call->arena, known, f) == 0) r->n++;
      continue;
    }
    if (!r->call && !(r->call = lsp_call_defer(call))) {
      err->code = LSP_INTERNAL_ERROR;
      snprintf(err->message, sizeof err->message, "out of memory");
      return -1;
    }
    r->pending++;
    if (lsp_backend_function_start(s->backend, f->id, r->call->arena, &r->details[r->n], answered, r) == 0)
      r->fetched[r->n++] = true;
    else
      r->pending--;
  }
  if (!r->call) { /* every function's sites were cached: answered now */
    r->call = call;
    build(r, doc);
    return 0;
  }
  answered(NULL, 0, NULL, NULL, r);
  return LSP_DEFERRED;
}

static const lsp_method methods[] = {
    {"textDocument/inlayHint", lsp_decode_inlay, sizeof(lsp_inlay_params), inlay_hint, lsp_encode_inlays,
     sizeof(lsp_inlays), 0},
};

const lsp_method_table lsp_m_inlay = {"inlay", methods, sizeof methods / sizeof methods[0]};
