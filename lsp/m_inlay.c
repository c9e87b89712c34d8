/* textDocument/inlayHint, for clients that advertise inlay hints: at each call site of the functions
 * in the range that ran in production, how often production made that call (`×1.2k/min`), from the
 * callees of each function's GET /v1/functions/{id}. The hint goes after the callee's name on the call
 * line (the end of the line when the name is not on it). */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "format.h"
#include "server.h"

enum { MAX_FUNCS = 32 };

typedef struct inlay_req {
  lsp_call *call;
  size_t pending, n;
  hud_function_detail details[MAX_FUNCS];
} inlay_req;

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

static void build(inlay_req *r) {
  lsp_call *h = r->call;
  lsp_server *s = h->srv;
  const lsp_inlay_params *p = h->params;
  lsp_inlays *out = h->result;
  lsp_doc *doc = lsp_docs_find(s->docs, p->uri);
  size_t total = 0;
  for (size_t i = 0; i < r->n; i++) total += r->details[i].n_callees;
  if (!doc || !total) return;
  out->items = hud_arena_calloc(h->arena, total, sizeof *out->items);
  if (!out->items) return;
  double minutes = (double)s->settings.window_s / 60.0;
  for (size_t i = 0; i < r->n; i++) {
    for (size_t k = 0; k < r->details[i].n_callees; k++) {
      const hud_call_peer *c = &r->details[i].callees[k];
      if (c->line <= 0 || c->line - 1 < p->range.start.line || c->line - 1 > p->range.end.line) continue;
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
  (void)e; /* a function the backend does not know (or a failure) has no hints */
  (void)resp;
  inlay_req *r = ud;
  if (--r->pending) return;
  if (!r->call->srv->released && !r->call->cancelled) build(r);
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
  if (!s->inlay_hints) return 0; /* not advertised to this client */
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
  lsp_call *h = lsp_call_defer(call);
  inlay_req *r = h ? hud_arena_calloc(h->arena, 1, sizeof *r) : NULL;
  if (!r) {
    if (h) lsp_call_finish(h, -1, &(lsp_rpc_error){.code = LSP_INTERNAL_ERROR, .message = "out of memory"});
    return h ? LSP_DEFERRED : -1;
  }
  r->call = h;
  r->pending = 1; /* held until every request started: a quick answer cannot finish the call early */
  for (size_t i = 0; i < n; i++) {
    r->pending++;
    if (lsp_backend_function_start(s->backend, sums[i]->function_id, h->arena, &r->details[r->n], answered, r) == 0)
      r->n++;
    else
      r->pending--;
  }
  answered(NULL, 0, NULL, NULL, r);
  return LSP_DEFERRED;
}

static const lsp_method methods[] = {
    {"textDocument/inlayHint", lsp_decode_inlay, sizeof(lsp_inlay_params), inlay_hint, lsp_encode_inlays,
     sizeof(lsp_inlays), 0},
};

const lsp_method_table lsp_m_inlay = {"inlay", methods, sizeof methods / sizeof methods[0]};
