/* Function ids of a document's functions, cached (docs.h lsp_doc_function_id). An id is a SHA-1
 * (uuid5) of the module path and the qualified name, about half a microsecond each: the lenses and
 * the diagnostics of a 1000-function file computed two thousand of them after every keystroke. */
#include <stdlib.h>
#include <string.h>

#include "docs.h"
#include "hud/err.h"
#include "hud/identity.h"
#include "hud/str.h"

typedef struct fnid {
  char *qualname;            /* NULL: empty slot */
  char id[HUD_UUID_STRLEN + 1];
} fnid;

struct lsp_fnids {
  char *module;              /* the module path the ids were computed with */
  fnid *slots;
  size_t cap, n;             /* cap: a power of two */
};

enum { MAX_ENTRIES = 1 << 16 }; /* names typed one character at a time pile up: start over past this */

static size_t hash(const char *s) {
  size_t h = 14695981039346656037ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static void clear(lsp_fnids *c) {
  for (size_t i = 0; i < c->cap; i++) free(c->slots[i].qualname);
  free(c->slots);
  free(c->module);
  memset(c, 0, sizeof *c);
}

void lsp_fnids_free(lsp_fnids *c) {
  if (!c) return;
  clear(c);
  free(c);
}

static fnid *slot(fnid *slots, size_t cap, const char *qualname) {
  size_t i = hash(qualname) & (cap - 1);
  while (slots[i].qualname && strcmp(slots[i].qualname, qualname) != 0) i = (i + 1) & (cap - 1);
  return &slots[i];
}

static int grow(lsp_fnids *c) {
  size_t cap = c->cap ? 2 * c->cap : 256;
  fnid *slots = calloc(cap, sizeof *slots);
  if (!slots) return HUD_ENOMEM;
  for (size_t i = 0; i < c->cap; i++)
    if (c->slots[i].qualname) *slot(slots, cap, c->slots[i].qualname) = c->slots[i];
  free(c->slots);
  c->slots = slots;
  c->cap = cap;
  return 0;
}

lsp_fnids *lsp_fnids_new(void) { return calloc(1, sizeof(lsp_fnids)); }

int lsp_doc_function_id(const lsp_doc *doc, const char *qualname, char out[HUD_UUID_STRLEN + 1]) {
  if (!doc->module || !qualname) return HUD_EINVAL;
  lsp_fnids *c = doc->fnids;
  if (!c) return hud_function_id(doc->module, qualname, out);
  if (c->module && (strcmp(c->module, doc->module) != 0 || c->n >= MAX_ENTRIES)) clear(c);
  if (!c->module && !(c->module = hud_strdup(doc->module))) return hud_function_id(doc->module, qualname, out);
  if (2 * (c->n + 1) > c->cap && grow(c) != 0) return hud_function_id(doc->module, qualname, out);
  fnid *e = slot(c->slots, c->cap, qualname);
  if (!e->qualname) {
    int rc = hud_function_id(doc->module, qualname, e->id);
    if (rc) return rc;
    if (!(e->qualname = hud_strdup(qualname))) return hud_function_id(doc->module, qualname, out);
    c->n++;
  }
  memcpy(out, e->id, sizeof e->id);
  return 0;
}
