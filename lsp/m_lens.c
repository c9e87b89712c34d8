/* textDocument/codeLens: one lens per function with production data, above its name. */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "docs.h"
#include "format.h"
#include "server.h"

/* Over p95WarnMs (timed calls only) or errorRateWarn. */
static bool warns(const lsp_settings *st, const hud_function_summary *f) {
  if (st->p95_warn_ms >= 0 && f->sampled_count > 0 && f->p95 / 1e6 > st->p95_warn_ms) return true;
  return st->err_rate_warn >= 0 && f->error_rate > st->err_rate_warn;
}

static int code_lens(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  lsp_server *s = call->srv;
  const lsp_doc_params *p = params;
  lsp_lens_list *out = result;
  lsp_doc *doc = lsp_docs_find(s->docs, p->uri);
  if (!doc) {
    err->code = LSP_INVALID_PARAMS;
    snprintf(err->message, sizeof err->message, "codeLens: %s is not open (send didOpen first)", p->uri);
    return -1;
  }
  /* Asked before the figures came: the answer will send workspace/codeLens/refresh. */
  doc->lens_asked = true;
  if (!lsp_doc_ready(doc)) return lsp_call_wait_doc(call, doc);
  const hud_index_result *ix = lsp_doc_index(doc);
  if (!s->settings.lens_on || !ix || !ix->nfuncs || !doc->module) return 0;
  out->items = hud_arena_calloc(call->arena, ix->nfuncs, sizeof *out->items);
  if (!out->items) {
    err->code = LSP_INTERNAL_ERROR;
    snprintf(err->message, sizeof err->message, "out of memory");
    return -1;
  }
  double window_min = lsp_backend_window_min(s->backend, doc);
  for (size_t i = 0; i < ix->nfuncs; i++) {
    const hud_index_func *f = &ix->funcs[i];
    const hud_function_summary *sum = lsp_backend_lookup(s->backend, doc, f->qualname);
    if (!sum) continue; /* no data: no lens, never a zero */
    /* The code on screen is not the code production runs (docs/protocol.md "source_code_hash"). */
    bool differs = sum->source_code_hash[0] && strcmp(sum->source_code_hash, f->source_code_hash) != 0;
    if (window_min > 0 && (double)sum->calls / window_min < s->settings.min_cpm) continue; /* below the threshold */
    char title[512];
    lsp_fmt_lens_layout(s->settings.lens_layout, sum, window_min, differs, lsp_backend_prod_version_doc(s->backend, doc),
                        warns(&s->settings, sum), title, sizeof title);
    lsp_lens *l = &out->items[out->n++];
    l->range.start = lsp_doc_pos(doc, f->name_start.row, f->name_start.column, s->enc);
    l->range.end = lsp_doc_pos(doc, f->name_end.row, f->name_end.column, s->enc);
    l->title = hud_arena_strdup(call->arena, title);
    l->function_id = sum->function_id;
  }
  return 0;
}

static const lsp_method methods[] = {
    {"textDocument/codeLens", lsp_decode_doc, sizeof(lsp_doc_params), code_lens, lsp_encode_lenses,
     sizeof(lsp_lens_list), 0},
};

const lsp_method_table lsp_m_lens = {"lens", methods, sizeof methods / sizeof methods[0]};
