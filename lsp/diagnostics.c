/* Diagnostics for live issues (diagnostics.h). */
#define _GNU_SOURCE /* asprintf */
#include "diagnostics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "hud/issue_text.h"
#include "hud/str.h"
#include "locate.h"

enum { SEVERITY_INFORMATION = 3 };

/* One computation for one document: its diagnostics wait for the root causes' locations. */
typedef struct diag_job {
  hud_arena *a;
  const char *uri;
  uint64_t seq;
  lsp_diag *items;
  size_t n;
  int *query_of;   /* items[i]'s location query, -1: none */
} diag_job;

/* The headline (and "code changed in this version"); servers without headlines: "mean duration +87% since
 * 1.1.0", "error rate +150% in the last 30m". */
void lsp_issue_text(const hud_issue *is, char *out, size_t cap) {
  if (is->headline) {
    snprintf(out, cap, "%s%s", is->headline, is->code_changed == 1 ? " \u2014 code changed in this version" : "");
    return;
  }
  const char *what = hud_issue_is_errors(is) ? "error rate" : "mean duration";
  char when[96];
  if (is->comparison == HUD_COMPARE_VERSIONS && is->current.version)
    snprintf(when, sizeof when, "since %s", is->current.version);
  else
    snprintf(when, sizeof when, "in the last %lldm", (long long)((is->current.to - is->current.from) / 60000000000LL));
  char pct[32];
  hud_issue_pct_text(is->effect_pct, is->effect_pct_capped, true, pct, sizeof pct);
  snprintf(out, cap, "%s %s %s", what, pct, when);
}

void lsp_issue_long_text(const hud_issue *is, char *out, size_t cap) {
  lsp_issue_text(is, out, cap);
  if (!is->headline) return;
  size_t n = strlen(out);
  enum { FLOWS_SHOWN = 3 };
  for (size_t i = 0; i < is->n_affected_flows && i < FLOWS_SHOWN && n < cap; i++) {
    char f[512];
    hud_issue_flow_text(is, &is->affected_flows[i], true, f, sizeof f);
    n += (size_t)snprintf(out + n, cap - n, "\n%s", f);
  }
  if (is->n_affected_flows > FLOWS_SHOWN && n < cap)
    n += (size_t)snprintf(out + n, cap - n, "\nand %zu more flow%s", is->n_affected_flows - FLOWS_SHOWN,
                          is->n_affected_flows - FLOWS_SHOWN > 1 ? "s" : "");
  if (is->self_includes_uninstrumented && n < cap)
    n += (size_t)snprintf(out + n, cap - n, "\nits self time includes calls that are not instrumented");
  if (is->p_text && n < cap)
    snprintf(out + n, cap - n, "\np %s%s", is->p_text[0] == '<' ? "" : "= ", is->p_text);
}

static const char *cause_name(hud_arena *a, const hud_root_cause *c) {
  char buf[600];
  snprintf(buf, sizeof buf, "%s:%s", c->module_path ? c->module_path : "?", c->name ? c->name : c->function_id);
  return hud_arena_strdup(a, buf);
}

static void publish(lsp_server *s, diag_job *j) {
  lsp_doc *doc = s->docs ? lsp_docs_find(s->docs, j->uri) : NULL;
  if (!doc || doc->diag_seq != j->seq) return; /* closed, or a newer computation is on its way */
  /* The text of what would be sent: unchanged diagnostics are not sent again. */
  size_t cap = 64;
  for (size_t i = 0; i < j->n; i++)
    cap += strlen(j->items[i].message) + 64 + (j->items[i].related_uri ? strlen(j->items[i].related_uri) : 0);
  char *text = malloc(cap), *p = text;
  if (!text) return;
  *p = '\0';
  for (size_t i = 0; i < j->n; i++)
    p += snprintf(p, cap - (size_t)(p - text), "%lld:%s:%s:%lld\n", (long long)j->items[i].range.start.line,
                  j->items[i].message, j->items[i].related_uri ? j->items[i].related_uri : "",
                  (long long)j->items[i].related_range.start.line);
  bool same = doc->diag_last ? strcmp(doc->diag_last, text) == 0 : j->n == 0;
  if (same) {
    free(text);
    return;
  }
  free(doc->diag_last);
  doc->diag_last = text;
  lsp_diag_params params = {.uri = doc->uri, .version = doc->version, .n = j->n, .items = j->items};
  lsp_notify(s, "textDocument/publishDiagnostics", lsp_encode_diagnostics, &params);
}

static void located(lsp_server *s, void *ud, lsp_loc *locs, size_t n) {
  diag_job *j = ud;
  if (!s->released) {
    for (size_t i = 0; i < j->n; i++) {
      int q = j->query_of[i];
      if (q < 0 || (size_t)q >= n || !locs[q].uri) continue;
      j->items[i].related_uri = locs[q].uri;
      j->items[i].related_range = locs[q].found ? locs[q].selection : (lsp_range){0};
    }
    publish(s, j);
  }
  hud_arena_free(j->a);
}

/* The message for function ID, the subject of IS (SUBJECT) or one of its root causes; *CAUSE gets
 * the root cause to point at (NULL: none). */
static const char *message(hud_arena *a, const hud_issue *is, const char *id, bool subject,
                           const hud_root_cause **cause) {
  char change[2048], buf[2600];
  lsp_issue_long_text(is, change, sizeof change);
  *cause = NULL;
  if (subject) {
    const hud_root_cause *c = is->n_root_causes ? &is->root_causes[0] : NULL;
    if (c && strcmp(c->function_id, is->subject_id) != 0) *cause = c;
    /* Issues with a headline are about their root cause: name it only when it is another function. */
    if (is->headline && *cause) snprintf(buf, sizeof buf, "%s\nroot cause: %s", change, cause_name(a, c));
    else if (c && !is->headline) snprintf(buf, sizeof buf, "%s (root cause: %s)", change, cause_name(a, c));
    else snprintf(buf, sizeof buf, "%s", change);
  } else if (is->headline) {
    /* A secondary cause: the share it explains, and the issue's one line. */
    const hud_root_cause *c = NULL;
    for (size_t k = 0; k < is->n_root_causes && !c; k++)
      if (!strcmp(is->root_causes[k].function_id, id)) c = &is->root_causes[k];
    lsp_issue_text(is, change, sizeof change);
    snprintf(buf, sizeof buf, "explains %.0f%% of: %s", c ? 100 * c->share : 0.0, change);
  } else {
    snprintf(buf, sizeof buf, "root cause of %s: %s", is->subject_name ? is->subject_name : is->subject_id, change);
  }
  return hud_arena_strdup(a, buf);
}

static bool is_cause(const hud_issue *is, const char *id) {
  for (size_t k = 0; k < is->n_root_causes; k++)
    if (strcmp(is->root_causes[k].function_id, id) == 0) return true;
  return false;
}

void lsp_diags_doc(lsp_server *s, lsp_doc *doc) {
  const hud_issues_response *issues = lsp_backend_issues(s->backend);
  const hud_index_result *ix = lsp_doc_index(doc);
  if (!issues || !ix) return; /* nothing known yet, or the index is on its way (it calls again) */
  hud_arena *a = hud_arena_new();
  diag_job *j = a ? hud_arena_calloc(a, 1, sizeof *j) : NULL;
  if (!j) {
    hud_arena_free(a);
    return;
  }
  j->a = a;
  j->uri = hud_arena_strdup(a, doc->uri);
  j->seq = ++doc->diag_seq;
  size_t cap = 64, nq = 0;
  j->items = hud_arena_calloc(a, cap, sizeof *j->items);
  j->query_of = hud_arena_calloc(a, cap, sizeof *j->query_of);
  lsp_loc_query *q = hud_arena_calloc(a, cap, sizeof *q);
  /* Turned off: the empty list clears what the client got before. */
  for (size_t i = 0; s->settings.diags_on && doc->module && j->items && j->query_of && q && i < ix->nfuncs; i++) {
    const hud_index_func *f = &ix->funcs[i];
    char id[HUD_UUID_STRLEN + 1];
    if (lsp_doc_function_id(doc, f->qualname, id) != 0) continue;
    for (size_t k = 0; k < issues->n_issues && j->n < cap; k++) {
      const hud_issue *is = &issues->issues[k];
      bool subject = is->subject_kind == HUD_SUBJECT_FUNCTION && strcmp(is->subject_id, id) == 0;
      if (!subject && !is_cause(is, id)) continue;
      const hud_root_cause *cause;
      const char *msg = message(a, is, id, subject, &cause);
      bool dup = false;
      for (size_t d = 0; msg && d < j->n; d++)
        dup |= j->items[d].range.start.line == f->name_start.row && strcmp(j->items[d].message, msg) == 0;
      if (dup || !msg) continue;
      lsp_diag *dg = &j->items[j->n];
      dg->range.start = lsp_doc_pos(doc, f->name_start.row, f->name_start.column, s->enc);
      dg->range.end = lsp_doc_pos(doc, f->name_end.row, f->name_end.column, s->enc);
      dg->severity = SEVERITY_INFORMATION;
      dg->message = msg;
      j->query_of[j->n] = -1;
      if (cause && cause->module_path) {
        q[nq] = (lsp_loc_query){.module = cause->module_path, .qualname = cause->name};
        dg->related_message = cause_name(a, cause);
        j->query_of[j->n] = (int)nq++;
      }
      j->n++;
    }
  }
  /* Root causes are located in the workspace first (a worker may read their files). */
  if (lsp_locate_start(s, a, q, nq, located, j) != 0) hud_arena_free(a);
}

void lsp_diags_all(lsp_server *s) {
  for (size_t i = 0; s->docs && i < lsp_docs_count(s->docs); i++) lsp_diags_doc(s, lsp_docs_at(s->docs, i));
}
