/* textDocument/hover on a function's definition line: its production figures in markdown. */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "docs.h"
#include "explain.h"
#include "format.h"
#include "hud/config.h"
#include "server.h"

/* The function defined on the hovered line: the one whose name holds the position, else the first
 * one whose name is on that line. */
static const hud_index_func *func_at(const hud_index_result *ix, uint32_t row, uint32_t col) {
  const hud_index_func *first = NULL;
  for (size_t i = 0; i < ix->nfuncs; i++) {
    const hud_index_func *f = &ix->funcs[i];
    if (f->name_start.row != row) continue;
    if (col >= f->name_start.column && col <= f->name_end.column) return f;
    if (!first) first = f;
  }
  return first;
}

static int hover(lsp_call *call, const void *params, void *result, lsp_rpc_error *err) {
  lsp_server *s = call->srv;
  const lsp_doc_pos_params *p = params;
  lsp_hover *out = result;
  lsp_doc *doc = lsp_docs_find(s->docs, p->uri);
  if (!doc) {
    err->code = LSP_INVALID_PARAMS;
    snprintf(err->message, sizeof err->message, "hover: %s is not open (send didOpen first)", p->uri);
    return -1;
  }
  if (!s->settings.hover_on) return 0;
  if (!lsp_doc_ready(doc)) return lsp_call_wait_doc(call, doc);
  size_t off, line_off;
  lsp_pos line_start = {.line = p->position.line, .character = 0};
  const hud_index_result *ix = lsp_doc_index(doc);
  if (!ix || lsp_doc_offset(doc, p->position, s->enc, &off) || lsp_doc_offset(doc, line_start, s->enc, &line_off))
    return 0; /* past the end or not indexed: no hover */
  const hud_index_func *f = func_at(ix, (uint32_t)p->position.line, (uint32_t)(off - line_off));
  if (!f) return 0;
  const hud_function_summary *sum = lsp_backend_lookup(s->backend, doc, f->qualname);
  char window[32], md[2048];
  out->range.start = lsp_doc_pos(doc, f->name_start.row, f->name_start.column, s->enc);
  out->range.end = lsp_doc_pos(doc, f->name_end.row, f->name_end.column, s->enc);
  if (!sum) { /* a function without figures: why */
    char why[1024];
    lsp_explain_func(s, doc, f->qualname, why, sizeof why);
    snprintf(md, sizeof md, "**%s** — no production figures: %s\n", f->qualname, why);
    out->found = true;
    out->markdown = hud_arena_strdup(call->arena, md);
    return 0;
  }
  lsp_fmt_window(s->settings.window_s, window, sizeof window);
  /* The newest declaration's hash against the code on screen (docs/protocol.md "source_code_hash"). */
  bool edited = sum->source_code_hash[0] && strcmp(sum->source_code_hash, f->source_code_hash) != 0;
  int from;
  const char *service = lsp_backend_service_of(s->backend, doc, &from);
  lsp_fmt_hover(sum, lsp_backend_window_min(s->backend, doc), window,
                service ? service : hud_config_str(s->settings.cfg, HUD_CFG_SERVICE),
                hud_config_str(s->settings.cfg, HUD_CFG_ENV), edited, md, sizeof md);
  double window_min = lsp_backend_window_min(s->backend, doc);
  double per_min = window_min > 0 ? (double)sum->calls / window_min : 0;
  size_t n = strlen(md);
  if (per_min < s->settings.min_cpm && n < sizeof md) { /* the lens is left out: say why */
    char rate[32], min[32];
    lsp_fmt_count(per_min, rate, sizeof rate);
    lsp_fmt_count(s->settings.min_cpm, min, sizeof min);
    snprintf(md + n, sizeof md - n, "\n_No lens: %s calls/min is below the threshold (minCallsPerMinute %s)._\n", rate,
             min);
  }
  out->found = true;
  out->markdown = hud_arena_strdup(call->arena, md);
  return 0;
}

static const lsp_method methods[] = {
    {"textDocument/hover", lsp_decode_doc_pos, sizeof(lsp_doc_pos_params), hover, lsp_encode_hover,
     sizeof(lsp_hover), 0},
};

const lsp_method_table lsp_m_hover = {"hover", methods, sizeof methods / sizeof methods[0]};
