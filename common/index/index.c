/* The source index: tree-sitter parse, our queries, naming rules (see hud/index.h).
 *
 * How it works: the definitions query yields one match per definition-like node (functions,
 * lambdas, classes, comprehensions, Python `global` names). Matches of the same node merge
 * into one item. Items and call sites are sorted by position and swept once with a stack of
 * open scopes; the innermost scope whose inside (@body minus @hole) holds an item names it.
 * That reproduces CPython's rule that decorators, default values and base classes belong to
 * the enclosing scope, and 3.11's comprehension scopes. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include "hud/index.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>

#include "hud/buf.h"
#include "hud/err.h"
#include "hud/identity.h"
#include "idx_queries.h"

const TSLanguage *tree_sitter_python(void);
const TSLanguage *tree_sitter_javascript(void);
const TSLanguage *tree_sitter_typescript(void);
const TSLanguage *tree_sitter_tsx(void);
const TSLanguage *tree_sitter_go(void);
const TSLanguage *tree_sitter_java(void);

/* ---- languages ---------------------------------------------------------------------- */

typedef struct idx_lang {
  const char *name;
  const TSLanguage *(*language)(void);
  const char *defs_src;
  const char *calls_src;
  const char *anonymous; /* segment of an unnamed function or class */
} idx_lang;

static const idx_lang idx_langs[HUD_LANG_COUNT_] = {
    [HUD_LANG_PYTHON] = {"python", tree_sitter_python, idx_query_python_definitions,
                         idx_query_python_calls, "<lambda>"},
    [HUD_LANG_JAVASCRIPT] = {"javascript", tree_sitter_javascript,
                             idx_query_javascript_definitions, idx_query_javascript_calls,
                             "<anonymous>"},
    [HUD_LANG_TYPESCRIPT] = {"typescript", tree_sitter_typescript,
                             idx_query_typescript_definitions, idx_query_typescript_calls,
                             "<anonymous>"},
    [HUD_LANG_TSX] = {"tsx", tree_sitter_tsx, idx_query_typescript_definitions,
                      idx_query_typescript_calls, "<anonymous>"},
    [HUD_LANG_GO] = {"go", tree_sitter_go, idx_query_go_definitions, idx_query_go_calls,
                     "func"},
    [HUD_LANG_JAVA] = {"java", tree_sitter_java, idx_query_java_definitions,
                       idx_query_java_calls, "<anonymous>"},
};

const char *hud_lang_name(hud_lang lang) {
  if (lang <= HUD_LANG_UNKNOWN || lang >= HUD_LANG_COUNT_) return NULL;
  return idx_langs[lang].name;
}

hud_lang hud_lang_from_name(const char *name) {
  if (!name) return HUD_LANG_UNKNOWN;
  for (int l = HUD_LANG_UNKNOWN + 1; l < HUD_LANG_COUNT_; l++)
    if (strcmp(idx_langs[l].name, name) == 0) return (hud_lang)l;
  return HUD_LANG_UNKNOWN;
}

hud_lang hud_lang_from_path(const char *path) {
  static const struct {
    const char *ext;
    hud_lang lang;
  } exts[] = {
      {".py", HUD_LANG_PYTHON},      {".pyi", HUD_LANG_PYTHON},     {".js", HUD_LANG_JAVASCRIPT},
      {".mjs", HUD_LANG_JAVASCRIPT}, {".cjs", HUD_LANG_JAVASCRIPT}, {".jsx", HUD_LANG_JAVASCRIPT},
      {".ts", HUD_LANG_TYPESCRIPT},  {".mts", HUD_LANG_TYPESCRIPT}, {".cts", HUD_LANG_TYPESCRIPT},
      {".tsx", HUD_LANG_TSX},        {".go", HUD_LANG_GO},          {".java", HUD_LANG_JAVA},
  };
  if (!path) return HUD_LANG_UNKNOWN;
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  const char *dot = strrchr(base, '.');
  if (!dot || dot == base) return HUD_LANG_UNKNOWN;
  if (strcmp(dot, ".ts") == 0 && strlen(base) > 5 &&
      strcmp(base + strlen(base) - 5, ".d.ts") == 0)
    return HUD_LANG_TYPESCRIPT; /* declarations only: indexed, usually yields nothing */
  for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
    if (strcmp(dot, exts[i].ext) == 0) return exts[i].lang;
  return HUD_LANG_UNKNOWN;
}

const char *hud_index_kind_name(hud_index_kind kind) {
  switch (kind) {
  case HUD_INDEX_FUNCTION: return "function";
  case HUD_INDEX_METHOD: return "method";
  case HUD_INDEX_NESTED: return "nested";
  case HUD_INDEX_LAMBDA: return "lambda";
  }
  return "function";
}

/* ---- compiled queries (shared, read-only after init) ------------------------------- */

enum idx_cap {
  CAP_OTHER = 0,
  CAP_FUNCTION,
  CAP_LAMBDA,
  CAP_CLASS,
  CAP_OBJECT,
  CAP_COMPREHENSION,
  CAP_GLOBAL,
  CAP_NAME,
  CAP_BODY,
  CAP_HOLE,
  CAP_DECORATED,
  CAP_RECEIVER,
  CAP_CALL,
  CAP_CALLEE,
  CAP_CALLEE_OBJECT,
  CAP_ORPHAN,
};

typedef struct idx_query {
  TSQuery *q;
  uint8_t *roles; /* capture id -> enum idx_cap */
} idx_query;

static idx_query idx_defs[HUD_LANG_COUNT_], idx_calls[HUD_LANG_COUNT_];
static int idx_init_rc;
static pthread_once_t idx_once = PTHREAD_ONCE_INIT;

static uint8_t idx_role_of(const char *name, uint32_t len) {
  static const struct {
    const char *name;
    uint8_t role;
  } roles[] = {
      {"function", CAP_FUNCTION}, {"lambda", CAP_LAMBDA},       {"class", CAP_CLASS},
      {"object", CAP_OBJECT},     {"comprehension", CAP_COMPREHENSION},
      {"global", CAP_GLOBAL},     {"name", CAP_NAME},           {"body", CAP_BODY},
      {"hole", CAP_HOLE},         {"decorated", CAP_DECORATED}, {"receiver", CAP_RECEIVER},
      {"call", CAP_CALL},         {"callee", CAP_CALLEE},       {"callee.object", CAP_CALLEE_OBJECT},
      {"orphan.class", CAP_ORPHAN},
  };
  for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
    if (strlen(roles[i].name) == len && memcmp(roles[i].name, name, len) == 0)
      return roles[i].role;
  return CAP_OTHER;
}

static int idx_compile(hud_lang lang, const char *src, idx_query *out) {
  uint32_t err_off = 0;
  TSQueryError err = TSQueryErrorNone;
  out->q = ts_query_new(idx_langs[lang].language(), src, (uint32_t)strlen(src), &err_off, &err);
  if (!out->q) {
    fprintf(stderr, "hud_index: query for %s does not compile (error %d at byte %u)\n",
            idx_langs[lang].name, (int)err, err_off);
    return HUD_EPARSE;
  }
  uint32_t n = ts_query_capture_count(out->q);
  out->roles = calloc(n ? n : 1, 1);
  if (!out->roles) return HUD_ENOMEM;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t len = 0;
    const char *name = ts_query_capture_name_for_id(out->q, i, &len);
    out->roles[i] = idx_role_of(name, len);
  }
  return 0;
}

static void idx_init(void) {
  for (int l = HUD_LANG_UNKNOWN + 1; l < HUD_LANG_COUNT_; l++) {
    if (ts_language_version(idx_langs[l].language()) > TREE_SITTER_LANGUAGE_VERSION ||
        ts_language_version(idx_langs[l].language()) < TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION) {
      fprintf(stderr, "hud_index: grammar %s has ABI %u, the runtime takes %u-%u\n",
              idx_langs[l].name, ts_language_version(idx_langs[l].language()),
              TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION, TREE_SITTER_LANGUAGE_VERSION);
      idx_init_rc = HUD_EVERSION;
      return;
    }
  }
}

/* A language's queries are compiled at its first use: compiling them all costs ~150 ms, which a
 * language server would otherwise pay before its first file's lenses. */
static pthread_mutex_t idx_lang_mu = PTHREAD_MUTEX_INITIALIZER;
static int idx_lang_rc[HUD_LANG_COUNT_];
static bool idx_lang_done[HUD_LANG_COUNT_];

static int idx_lang_ready(hud_lang lang) {
  if (lang <= HUD_LANG_UNKNOWN || lang >= HUD_LANG_COUNT_) return 0;
  pthread_mutex_lock(&idx_lang_mu);
  if (!idx_lang_done[lang]) {
    int rc = idx_compile(lang, idx_langs[lang].defs_src, &idx_defs[lang]);
    if (!rc) rc = idx_compile(lang, idx_langs[lang].calls_src, &idx_calls[lang]);
    idx_lang_rc[lang] = rc;
    idx_lang_done[lang] = true;
  }
  int rc = idx_lang_rc[lang];
  pthread_mutex_unlock(&idx_lang_mu);
  return rc;
}

/* ---- the indexer -------------------------------------------------------------------- */

struct hud_indexer {
  TSParser *parser[HUD_LANG_COUNT_];
  TSQueryCursor *cursor;
};

int hud_indexer_new(hud_indexer **out) {
  if (!out) return HUD_EINVAL;
  *out = NULL;
  pthread_once(&idx_once, idx_init);
  if (idx_init_rc) return idx_init_rc;
  hud_indexer *ix = calloc(1, sizeof *ix);
  if (!ix) return HUD_ENOMEM;
  ix->cursor = ts_query_cursor_new();
  if (!ix->cursor) {
    free(ix);
    return HUD_ENOMEM;
  }
  *out = ix;
  return 0;
}

void hud_indexer_free(hud_indexer *ix) {
  if (!ix) return;
  for (int l = 0; l < HUD_LANG_COUNT_; l++)
    if (ix->parser[l]) ts_parser_delete(ix->parser[l]);
  ts_query_cursor_delete(ix->cursor);
  free(ix);
}

static TSParser *idx_parser(hud_indexer *ix, hud_lang lang) {
  if (!ix->parser[lang]) {
    TSParser *p = ts_parser_new();
    if (!p) return NULL;
    if (!ts_parser_set_language(p, idx_langs[lang].language())) {
      ts_parser_delete(p);
      return NULL;
    }
    ix->parser[lang] = p;
  }
  return ix->parser[lang];
}

/* Parses SRC, optionally reusing OLD (already ts_tree_edit-ed). NULL *OUT on timeout. */
static int idx_parse(hud_indexer *ix, hud_lang lang, const TSTree *old, const char *src,
                     size_t len, const hud_index_opts *opts, TSTree **out) {
  *out = NULL;
  if (len > HUD_INDEX_MAX_BYTES) return HUD_ETOOBIG;
  TSParser *p = idx_parser(ix, lang);
  if (!p) return HUD_ENOMEM;
  unsigned ms = opts && opts->timeout_ms ? opts->timeout_ms : HUD_INDEX_TIMEOUT_MS;
  ts_parser_set_timeout_micros(p, (uint64_t)ms * 1000u);
  TSTree *t = ts_parser_parse_string(p, old, src ? src : "", (uint32_t)len);
  if (!t) {
    ts_parser_reset(p); /* do not resume the abandoned parse next time */
    return HUD_ETIMEOUT;
  }
  *out = t;
  return 0;
}

static bool idx_is_space(char ch);

/* ---- extraction --------------------------------------------------------------------- */

enum { EV_FUNCTION = 1, EV_LAMBDA, EV_CLASS, EV_OBJECT, EV_COMPREHENSION, EV_GLOBAL, EV_CALL };

typedef struct idx_event {
  TSNode node;
  uint32_t start, end; /* node bytes: the sort key */
  uint8_t type;
  bool has_name, has_body, has_hole, has_deco, has_recv, has_obj, orphan;
  uint32_t name_prio;
  TSNode name;   /* @name, or @callee for calls */
  TSNode recv;   /* @receiver */
  TSNode obj;    /* @callee.object */
  uint32_t body_s, body_e, hole_s, hole_e;
  TSPoint deco_start;
  uint32_t deco_start_byte;
} idx_event;

typedef struct idx_scope {
  const idx_event *ev;
  char *qualname; /* owned, or borrowed from the result for reported functions */
  bool owned;
  int func;        /* index in the result when reported, else -1 */
  int nearest;     /* nearest reported function at or above, or -1 */
  int counter;     /* Go closure numbering */
  uint32_t col;    /* column of the definition's first line (Python layout fallback) */
  uint32_t *globals; /* pairs (start byte, length) of `global` names */
  size_t nglobals, capglobals;
} idx_scope;

typedef struct idx_ctx {
  hud_lang lang;
  unsigned flags;
  const char *src;
  size_t len;
  uint32_t *line_start; /* byte offset of each line */
  size_t nlines;
  idx_event *ev;
  size_t nev, capev;
  idx_scope *stack;
  size_t nstack, capstack;
  idx_scope *layout; /* Python def/class by indentation, for trees with errors */
  size_t nlayout, caplayout;
  hud_index_result *res;
  size_t capfuncs, capcalls;
  int file_counter;
} idx_ctx;

/* Makes room for one more element in a doubling array (FIRST elements on first use). */
static int idx_reserve(void **arr, size_t *cap, size_t n, size_t elem, size_t first) {
  if (n < *cap) return 0;
  size_t ncap = *cap ? *cap * 2 : first;
  void *p = realloc(*arr, ncap * elem);
  if (!p) return HUD_ENOMEM;
  *arr = p;
  *cap = ncap;
  return 0;
}
#define IDX_RESERVE(arr, n, cap, first) idx_reserve((void **)&(arr), &(cap), (n), sizeof *(arr), (first))

static int idx_push_event(idx_ctx *c, const idx_event *e) {
  if (IDX_RESERVE(c->ev, c->nev, c->capev, 256)) return HUD_ENOMEM;
  c->ev[c->nev++] = *e;
  return 0;
}

/* A `class` header that error recovery left loose inside an ERROR node (tree-sitter-python
 * loses the class when, for instance, a bracketed continuation line is dedented): the class
 * body is taken to run until the next code line indented no deeper than the header, which
 * is what Python's own layout rule says. Lines inside strings and lines starting with a
 * closing bracket do not end it. */
static uint32_t idx_orphan_class_end(const idx_ctx *c, TSNode root, TSNode kw) {
  TSPoint hp = ts_node_start_point(kw);
  uint32_t hdr_col = hp.column;
  size_t line = (size_t)hp.row + 1;
  for (; line < c->nlines; line++) {
    uint32_t s = c->line_start[line];
    uint32_t e = line + 1 < c->nlines ? c->line_start[line + 1] : (uint32_t)c->len;
    uint32_t col = 0, i = s;
    for (; i < e; i++) {
      char ch = c->src[i];
      if (ch == ' ') col++;
      else if (ch == '\t') col = (col / 8 + 1) * 8;
      else if (ch == '\f') col = 0;
      else break;
    }
    if (i >= e) continue;
    char ch = c->src[i];
    if (ch == '\n' || ch == '\r' || ch == '#' || ch == ')' || ch == ']' || ch == '}') continue;
    if (col > hdr_col) continue;
    TSNode at = ts_node_descendant_for_byte_range(root, i, i + 1);
    const char *t = ts_node_type(at);
    if (strcmp(t, "string_content") == 0 || strcmp(t, "escape_sequence") == 0) continue;
    /* The end of the previous non-blank line. */
    uint32_t end = s;
    while (end > 0 && idx_is_space(c->src[end - 1])) end--;
    return end;
  }
  return (uint32_t)c->len;
}

/* Error recovery can put an ERROR node between a definition's header and the block it then
 * calls the body (the real body is inside the ERROR): the inside then starts after the name. */
static void idx_widen_body(idx_event *e) {
  uint32_t cnt = ts_node_child_count(e->node);
  for (uint32_t i = 0; i < cnt; i++) {
    TSNode ch = ts_node_child(e->node, i);
    if (ts_node_start_byte(ch) >= e->body_s) break;
    if (ts_node_is_missing(ch) || strcmp(ts_node_type(ch), "ERROR") == 0) {
      e->body_s = ts_node_end_byte(e->name);
      return;
    }
  }
}

static int idx_collect_defs(idx_ctx *c, TSQueryCursor *cur, TSNode root, TSNode node) {
  const idx_query *q = &idx_defs[c->lang];
  ts_query_cursor_exec(cur, q->q, node);
  TSQueryMatch m;
  while (ts_query_cursor_next_match(cur, &m)) {
    idx_event e;
    memset(&e, 0, sizeof e);
    for (uint16_t i = 0; i < m.capture_count; i++) {
      TSNode n = m.captures[i].node;
      switch (q->roles[m.captures[i].index]) {
      case CAP_FUNCTION: e.type = EV_FUNCTION; e.node = n; break;
      case CAP_LAMBDA: e.type = EV_LAMBDA; e.node = n; break;
      case CAP_CLASS: e.type = EV_CLASS; e.node = n; break;
      case CAP_OBJECT: e.type = EV_OBJECT; e.node = n; break;
      case CAP_COMPREHENSION: e.type = EV_COMPREHENSION; e.node = n; break;
      case CAP_GLOBAL: e.type = EV_GLOBAL; e.node = n; break;
      case CAP_ORPHAN: e.type = EV_CLASS; e.node = n; e.orphan = true; break;
      case CAP_NAME:
        e.has_name = true;
        e.name = n;
        e.name_prio = m.pattern_index;
        break;
      case CAP_BODY:
        e.has_body = true;
        e.body_s = ts_node_start_byte(n);
        e.body_e = ts_node_end_byte(n);
        break;
      case CAP_HOLE:
        e.has_hole = true;
        e.hole_s = ts_node_start_byte(n);
        e.hole_e = ts_node_end_byte(n);
        break;
      case CAP_DECORATED:
        e.has_deco = true;
        e.deco_start = ts_node_start_point(n);
        e.deco_start_byte = ts_node_start_byte(n);
        break;
      case CAP_RECEIVER:
        e.has_recv = true;
        e.recv = n;
        break;
      default: break;
      }
    }
    if (!e.type) continue;
    if (e.type == EV_COMPREHENSION && (c->flags & HUD_INDEX_PY_INLINE_COMPREHENSIONS) &&
        strcmp(ts_node_type(e.node), "generator_expression") != 0)
      continue;
    e.start = ts_node_start_byte(e.node);
    e.end = ts_node_end_byte(e.node);
    if (e.has_body && e.has_name && ts_node_has_error(e.node)) idx_widen_body(&e);
    if (e.orphan) {
      if (!e.has_name) continue;
      e.has_body = true;
      e.body_s = ts_node_end_byte(e.name);
      e.end = e.body_e = idx_orphan_class_end(c, root, e.node);
      if (e.end <= e.body_s) continue;
    }
    int rc = idx_push_event(c, &e);
    if (rc) return rc;
  }
  return 0;
}

static int idx_collect_calls(idx_ctx *c, TSQueryCursor *cur, TSNode node) {
  const idx_query *q = &idx_calls[c->lang];
  ts_query_cursor_exec(cur, q->q, node);
  TSQueryMatch m;
  while (ts_query_cursor_next_match(cur, &m)) {
    idx_event e;
    memset(&e, 0, sizeof e);
    for (uint16_t i = 0; i < m.capture_count; i++) {
      TSNode n = m.captures[i].node;
      switch (q->roles[m.captures[i].index]) {
      case CAP_CALL: e.type = EV_CALL; e.node = n; break;
      case CAP_CALLEE: e.has_name = true; e.name = n; break;
      case CAP_CALLEE_OBJECT: e.has_obj = true; e.obj = n; break;
      default: break;
      }
    }
    if (e.type != EV_CALL || !e.has_name) continue;
    e.start = ts_node_start_byte(e.node);
    e.end = ts_node_end_byte(e.node);
    int rc = idx_push_event(c, &e);
    if (rc) return rc;
  }
  return 0;
}

static int idx_event_cmp(const void *pa, const void *pb) {
  const idx_event *a = pa, *b = pb;
  if (a->start != b->start) return a->start < b->start ? -1 : 1;
  if (a->end != b->end) return a->end > b->end ? -1 : 1;
  /* Same range: calls first (an IIFE's call is not inside the function it calls), then
   * definitions, merged below when they are the same node. */
  bool ca = a->type == EV_CALL, cb = b->type == EV_CALL;
  if (ca != cb) return ca ? -1 : 1;
  uint16_t sa = ts_node_symbol(a->node), sb = ts_node_symbol(b->node);
  if (sa != sb) return sa < sb ? -1 : 1;
  return 0;
}

static bool idx_same_node(const idx_event *a, const idx_event *b) {
  return a->start == b->start && a->end == b->end && a->type != EV_CALL && b->type != EV_CALL &&
         a->type != EV_GLOBAL && b->type != EV_GLOBAL &&
         ts_node_symbol(a->node) == ts_node_symbol(b->node);
}

/* Folds the matches of one node into DST (the first of them). */
static void idx_merge(idx_event *dst, const idx_event *src) {
  if (src->type == EV_FUNCTION) dst->type = EV_FUNCTION; /* a named function beats a lambda */
  if (src->has_name && (!dst->has_name || src->name_prio < dst->name_prio)) {
    dst->has_name = true;
    dst->name = src->name;
    dst->name_prio = src->name_prio;
  }
  if (src->has_body && !dst->has_body) {
    dst->has_body = true;
    dst->body_s = src->body_s;
    dst->body_e = src->body_e;
  }
  if (src->has_hole && !dst->has_hole) {
    dst->has_hole = true;
    dst->hole_s = src->hole_s;
    dst->hole_e = src->hole_e;
  }
  if (src->has_deco && (!dst->has_deco || src->deco_start_byte < dst->deco_start_byte)) {
    dst->has_deco = true;
    dst->deco_start = src->deco_start;
    dst->deco_start_byte = src->deco_start_byte;
  }
  if (src->has_recv && !dst->has_recv) {
    dst->has_recv = true;
    dst->recv = src->recv;
  }
}

static void idx_sort_merge(idx_ctx *c) {
  if (!c->nev) return;
  qsort(c->ev, c->nev, sizeof c->ev[0], idx_event_cmp);
  size_t w = 0;
  for (size_t r = 1; r < c->nev; r++) {
    if (idx_same_node(&c->ev[w], &c->ev[r]))
      idx_merge(&c->ev[w], &c->ev[r]);
    else
      c->ev[++w] = c->ev[r];
  }
  c->nev = w + 1;
}

static bool idx_is_space(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* Node text without whitespace (names never need it; member chains may span lines). */
static void buf_node_text(hud_buf *b, const idx_ctx *c, TSNode n, size_t limit) {
  uint32_t s = ts_node_start_byte(n), e = ts_node_end_byte(n);
  if (e > c->len) e = (uint32_t)c->len;
  size_t put = 0;
  for (uint32_t i = s; i < e && put < limit; i++) {
    if (idx_is_space(c->src[i])) continue;
    hud_buf_put(b, c->src + i, 1);
    put++;
  }
}

/* Whether a direct child of N before its body is the anonymous token TOK. */
static bool idx_has_token(TSNode n, const char *tok, uint32_t max_children) {
  uint32_t cnt = ts_node_child_count(n);
  if (cnt > max_children) cnt = max_children;
  for (uint32_t i = 0; i < cnt; i++) {
    TSNode ch = ts_node_child(n, i);
    if (!ts_node_is_named(ch) && strcmp(ts_node_type(ch), tok) == 0) return true;
  }
  return false;
}

static bool idx_is_async(const idx_ctx *c, const idx_event *e) {
  switch (c->lang) {
  case HUD_LANG_PYTHON:
    if (e->type == EV_LAMBDA) return false;
    return ts_node_child_count(e->node) > 0 &&
           strcmp(ts_node_type(ts_node_child(e->node, 0)), "async") == 0;
  case HUD_LANG_JAVASCRIPT:
  case HUD_LANG_TYPESCRIPT:
  case HUD_LANG_TSX: return idx_has_token(e->node, "async", 8);
  default: return false;
  }
}

/* End of the last real token of N: trailing comments and zero-width tokens do not count,
 * as in Python's ast end_lineno. */
static TSPoint idx_last_token_end(TSNode n) {
  for (int guard = 0; guard < 100000; guard++) {
    uint32_t cnt = ts_node_child_count(n);
    if (cnt == 0) break;
    bool found = false;
    for (uint32_t i = cnt; i-- > 0;) {
      TSNode ch = ts_node_child(n, i);
      if (ts_node_is_extra(ch) || ts_node_start_byte(ch) == ts_node_end_byte(ch)) continue;
      n = ch;
      found = true;
      break;
    }
    if (!found) break;
  }
  TSPoint p = ts_node_end_point(n);
  return p;
}

static const char *idx_comprehension_name(TSNode n) {
  const char *t = ts_node_type(n);
  if (strcmp(t, "list_comprehension") == 0) return "<listcomp>";
  if (strcmp(t, "set_comprehension") == 0) return "<setcomp>";
  if (strcmp(t, "dictionary_comprehension") == 0) return "<dictcomp>";
  return "<genexpr>";
}

/* Go receiver as the runtime prints it: "T", "(*T)", generic "T[...]". */
static void idx_go_receiver(hud_buf *b, const idx_ctx *c, TSNode recv) {
  hud_buf t = {0};
  buf_node_text(&t, c, recv, HUD_INDEX_MAX_QUALNAME);
  const char *s = t.p ? t.p : "";
  bool ptr = s[0] == '*';
  if (ptr) s++;
  const char *br = strchr(s, '[');
  if (ptr) hud_buf_puts(b, "(*");
  hud_buf_put(b, s, br ? (size_t)(br - s) : strlen(s));
  if (br) hud_buf_puts(b, "[...]");
  if (ptr) hud_buf_puts(b, ")");
  free(t.p);
}

static void idx_segment(hud_buf *b, idx_ctx *c, const idx_event *e, idx_scope *parent) {
  if (e->type == EV_COMPREHENSION) {
    hud_buf_puts(b, idx_comprehension_name(e->node));
    return;
  }
  if (c->lang == HUD_LANG_JAVA) {
    const char *t = ts_node_type(e->node);
    if (strcmp(t, "constructor_declaration") == 0 ||
        strcmp(t, "compact_constructor_declaration") == 0) {
      hud_buf_puts(b, "<init>");
      return;
    }
  }
  if (c->lang == HUD_LANG_GO && e->type == EV_LAMBDA) {
    /* F.func1, F.func1.1, package-level glob..func1 (numbered per file here). */
    char num[32];
    idx_scope *f = NULL;
    for (idx_scope *s = parent; s && s >= c->stack; s--)
      if (s->ev->type == EV_FUNCTION || s->ev->type == EV_LAMBDA) {
        f = s;
        break;
      }
    if (!f) {
      snprintf(num, sizeof num, "glob..func%d", ++c->file_counter);
    } else if (f->ev->type == EV_FUNCTION) {
      snprintf(num, sizeof num, "func%d", ++f->counter);
    } else {
      snprintf(num, sizeof num, "%d", ++f->counter);
    }
    hud_buf_puts(b, num);
    return;
  }
  if (e->has_name) {
    if (c->lang == HUD_LANG_GO && e->has_recv) {
      idx_go_receiver(b, c, e->recv);
      hud_buf_puts(b, ".");
    }
    if ((c->lang == HUD_LANG_JAVASCRIPT || c->lang == HUD_LANG_TYPESCRIPT ||
         c->lang == HUD_LANG_TSX) &&
        strcmp(ts_node_type(e->node), "method_definition") == 0) {
      /* V8 names accessors "get x" / "set x". */
      uint32_t cnt = ts_node_child_count(e->node);
      for (uint32_t i = 0; i < cnt && i < 6; i++) {
        TSNode ch = ts_node_child(e->node, i);
        if (ts_node_start_byte(ch) >= ts_node_start_byte(e->name)) break;
        const char *t = ts_node_type(ch);
        if (!ts_node_is_named(ch) && (strcmp(t, "get") == 0 || strcmp(t, "set") == 0)) {
          hud_buf_puts(b, t);
          hud_buf_puts(b, " ");
        }
      }
    }
    TSNode n = e->name;
    const char *nt = ts_node_type(n);
    if (strcmp(nt, "string") == 0 && ts_node_end_byte(n) - ts_node_start_byte(n) >= 2) {
      /* {"key": function () {}} is named key */
      uint32_t s = ts_node_start_byte(n) + 1, en = ts_node_end_byte(n) - 1;
      for (uint32_t i = s; i < en && i < c->len; i++)
        if (!idx_is_space(c->src[i])) hud_buf_put(b, c->src + i, 1);
      return;
    }
    buf_node_text(b, c, n, HUD_INDEX_MAX_QUALNAME);
    return;
  }
  hud_buf_puts(b, idx_langs[c->lang].anonymous);
}

/* Whether a Python scope declares NAME global (then a definition of NAME inside it gets a
 * top-level qualname: CPython's force_global). */
static bool idx_declared_global(const idx_ctx *c, const idx_scope *s, const char *name,
                                size_t len) {
  for (size_t i = 0; i < s->nglobals; i++)
    if (s->globals[2 * i + 1] == len && memcmp(c->src + s->globals[2 * i], name, len) == 0)
      return true;
  return false;
}

static int idx_add_global(idx_scope *s, uint32_t start, uint32_t len) {
  if (s->nglobals == s->capglobals) {
    size_t cap = s->capglobals ? s->capglobals * 2 : 4;
    uint32_t *n = realloc(s->globals, cap * 2 * sizeof *n);
    if (!n) return HUD_ENOMEM;
    s->globals = n;
    s->capglobals = cap;
  }
  s->globals[2 * s->nglobals] = start;
  s->globals[2 * s->nglobals + 1] = len;
  s->nglobals++;
  return 0;
}

static void idx_scope_release(idx_scope *s) {
  if (s->owned) free(s->qualname);
  free(s->globals);
  memset(s, 0, sizeof *s);
}

static bool idx_inside(const idx_event *scope, uint32_t pos) {
  if (scope->has_body && (pos < scope->body_s || pos >= scope->body_e)) return false;
  if (scope->has_hole && pos >= scope->hole_s && pos < scope->hole_e) return false;
  return true;
}

static int idx_build_line_index(idx_ctx *c) {
  size_t cap = c->len / 32 + 16, n = 0;
  uint32_t *ls = malloc(cap * sizeof *ls);
  if (!ls) return HUD_ENOMEM;
  ls[n++] = 0;
  const char *p = c->src, *end = c->src + c->len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) break;
    if (n == cap) {
      cap *= 2;
      uint32_t *m = realloc(ls, cap * sizeof *m);
      if (!m) {
        free(ls);
        return HUD_ENOMEM;
      }
      ls = m;
    }
    ls[n++] = (uint32_t)(nl + 1 - c->src);
    p = nl + 1;
  }
  c->line_start = ls;
  c->nlines = n;
  return 0;
}

static int idx_add_func(idx_ctx *c, const idx_event *e, idx_scope *parent_scope, char *qualname,
                        hud_index_kind kind, const char *module_path, int *out_index) {
  hud_index_result *r = c->res;
  if (IDX_RESERVE(r->funcs, r->nfuncs, c->capfuncs, 64)) return HUD_ENOMEM;
  hud_index_func *f = &r->funcs[r->nfuncs];
  memset(f, 0, sizeof *f);
  f->qualname = qualname;
  f->kind = kind;
  TSPoint sp = e->has_deco ? e->deco_start : ts_node_start_point(e->node);
  f->start_byte = e->has_deco ? e->deco_start_byte : e->start;
  f->end_byte = e->end;
  TSPoint ep = idx_last_token_end(e->node);
  f->start_line = (int)sp.row + 1;
  f->end_line = (int)ep.row + 1;
  if (ep.column == 0 && ep.row > sp.row) f->end_line--;
  if (f->end_line < f->start_line) f->end_line = f->start_line;
  TSNode nm = e->node;
  if (e->has_name)
    nm = e->name;
  else if (ts_node_child_count(e->node) > 0)
    nm = ts_node_child(e->node, 0);
  TSPoint ns = ts_node_start_point(nm), ne = ts_node_end_point(nm);
  f->name_start = (hud_index_point){ns.row, ns.column};
  f->name_end = (hud_index_point){ne.row, ne.column};
  f->parent = parent_scope ? parent_scope->nearest : -1;
  f->is_async = idx_is_async(c, e);
  int rc = hud_function_id(module_path, qualname, f->function_id);
  if (rc) return rc;
  /* Hash from the function's first line on, so that the cost is the function's size. */
  size_t off = (size_t)f->start_line - 1 < c->nlines ? c->line_start[f->start_line - 1] : c->len;
  rc = hud_source_hash(c->src + off, c->len - off, 1, f->end_line - f->start_line + 1,
                       f->source_code_hash);
  if (rc) memset(f->source_code_hash, 0, sizeof f->source_code_hash);
  *out_index = (int)r->nfuncs++;
  return 0;
}

static int idx_add_call(idx_ctx *c, const idx_event *e, const idx_scope *parent) {
  hud_index_result *r = c->res;
  if (IDX_RESERVE(r->calls, r->ncalls, c->capcalls, 256)) return HUD_ENOMEM;
  TSNode from = e->has_obj ? e->obj : e->name;
  uint32_t s = ts_node_start_byte(from), en = ts_node_end_byte(e->name);
  if (en > c->len) en = (uint32_t)c->len;
  hud_buf b = {0};
  size_t put = 0;
  bool space = false;
  for (uint32_t i = s; i < en && put < HUD_INDEX_MAX_CALLEE; i++) {
    if (idx_is_space(c->src[i])) {
      space = put > 0;
      continue;
    }
    if (space) {
      hud_buf_put(&b, " ", 1);
      put++;
      space = false;
    }
    hud_buf_put(&b, c->src + i, 1);
    put++;
  }
  if (!b.p) hud_buf_puts(&b, "");
  if (b.oom) {
    free(b.p);
    return HUD_ENOMEM;
  }
  hud_index_call *call = &r->calls[r->ncalls++];
  call->callee = b.p;
  TSPoint ps = ts_node_start_point(from), pe = ts_node_end_point(e->name);
  call->start = (hud_index_point){ps.row, ps.column};
  call->end = (hud_index_point){pe.row, pe.column};
  call->enclosing = parent ? parent->nearest : -1;
  call->start_byte = s;
  return 0;
}

static int idx_push_scope(idx_ctx *c, const idx_scope *s) {
  if (IDX_RESERVE(c->stack, c->nstack, c->capstack, 32)) return HUD_ENOMEM;
  c->stack[c->nstack++] = *s;
  return 0;
}

/* Python's layout says what error recovery may have lost: a def or class indented deeper
 * than the def or class above it is inside that one. Used only for trees with errors, and
 * only where the tree's answer contradicts the indentation. */
static idx_scope *idx_layout_parent(idx_ctx *c, const idx_event *e, uint32_t col,
                                    idx_scope *tree_parent) {
  while (c->nlayout && c->layout[c->nlayout - 1].col >= col)
    idx_scope_release(&c->layout[--c->nlayout]);
  if (!c->nlayout) return tree_parent;
  idx_scope *lp = &c->layout[c->nlayout - 1];
  if (!tree_parent) return col > 0 ? lp : NULL;
  uint8_t t = tree_parent->ev->type;
  bool tree_is_stmt = t == EV_FUNCTION || t == EV_CLASS;
  if (!tree_is_stmt || tree_parent->col >= col) return lp;
  return tree_parent;
}

static int idx_layout_push(idx_ctx *c, const idx_scope *s) {
  if (IDX_RESERVE(c->layout, c->nlayout, c->caplayout, 16)) return HUD_ENOMEM;
  idx_scope copy = {.ev = s->ev, .qualname = strdup(s->qualname), .owned = true,
                    .func = s->func, .nearest = s->nearest, .col = s->col};
  if (!copy.qualname) return HUD_ENOMEM;
  c->layout[c->nlayout++] = copy;
  return 0;
}

static int idx_sweep(idx_ctx *c, const char *module_path) {
  bool python = c->lang == HUD_LANG_PYTHON;
  bool layout = python && c->res->parse_errors;
  for (size_t i = 0; i < c->nev; i++) {
    const idx_event *e = &c->ev[i];
    while (c->nstack && c->stack[c->nstack - 1].ev->end <= e->start)
      idx_scope_release(&c->stack[--c->nstack]);
    idx_scope *parent = NULL;
    for (size_t k = c->nstack; k-- > 0;)
      if (e->start < c->stack[k].ev->end && idx_inside(c->stack[k].ev, e->start)) {
        parent = &c->stack[k];
        break;
      }
    uint32_t col = e->has_deco ? e->deco_start.column : ts_node_start_point(e->node).column;
    bool stmt = e->type == EV_FUNCTION || e->type == EV_CLASS;
    if (layout && stmt) parent = idx_layout_parent(c, e, col, parent);
    if (e->type == EV_CALL) {
      int rc = idx_add_call(c, e, parent);
      if (rc) return rc;
      continue;
    }
    if (e->type == EV_GLOBAL) {
      if (parent) {
        int rc = idx_add_global(parent, e->start, e->end - e->start);
        if (rc) return rc;
      }
      continue;
    }
    hud_buf seg = {0};
    idx_segment(&seg, c, e, parent);
    if (!seg.p) hud_buf_puts(&seg, "");
    if (seg.oom) {
      free(seg.p);
      return HUD_ENOMEM;
    }
    hud_buf q = {0};
    bool force_global = python && parent && (e->type == EV_FUNCTION || e->type == EV_CLASS) &&
                        idx_declared_global(c, parent, seg.p, seg.n);
    if (parent && !force_global && !(c->lang == HUD_LANG_GO && e->has_recv)) {
      hud_buf_puts(&q, parent->qualname);
      if (python && (parent->ev->type == EV_FUNCTION || parent->ev->type == EV_LAMBDA))
        hud_buf_puts(&q, ".<locals>");
      hud_buf_puts(&q, ".");
    }
    hud_buf_put(&q, seg.p, seg.n > HUD_INDEX_MAX_QUALNAME ? HUD_INDEX_MAX_QUALNAME : seg.n);
    free(seg.p);
    if (q.oom) {
      free(q.p);
      return HUD_ENOMEM;
    }
    if (q.n > HUD_INDEX_MAX_QUALNAME) {
      q.n = HUD_INDEX_MAX_QUALNAME;
      q.p[q.n] = '\0';
    }
    idx_scope s = {.ev = e, .qualname = q.p, .owned = true, .func = -1,
                   .nearest = parent ? parent->nearest : -1, .col = col};
    if (e->type == EV_FUNCTION || e->type == EV_LAMBDA) {
      hud_index_kind kind;
      if (e->type == EV_LAMBDA)
        kind = HUD_INDEX_LAMBDA;
      else if (e->has_recv)
        kind = HUD_INDEX_METHOD;
      else if (!parent)
        kind = HUD_INDEX_FUNCTION;
      else if (parent->ev->type == EV_CLASS || parent->ev->type == EV_OBJECT)
        kind = HUD_INDEX_METHOD;
      else if (force_global)
        kind = HUD_INDEX_FUNCTION;
      else
        kind = HUD_INDEX_NESTED;
      int idx = -1;
      int rc = idx_add_func(c, e, parent, q.p, kind, module_path, &idx);
      if (rc) {
        free(q.p);
        return rc;
      }
      s.owned = false; /* the result owns it now */
      s.func = idx;
      s.nearest = idx;
    }
    int rc = layout && stmt ? idx_layout_push(c, &s) : 0;
    if (!rc) rc = idx_push_scope(c, &s);
    if (rc) {
      if (s.owned) free(s.qualname);
      return rc;
    }
  }
  while (c->nstack) idx_scope_release(&c->stack[--c->nstack]);
  return 0;
}

void hud_index_result_free(hud_index_result *res) {
  if (!res) return;
  for (size_t i = 0; i < res->nfuncs; i++) free(res->funcs[i].qualname);
  for (size_t i = 0; i < res->ncalls; i++) free(res->calls[i].callee);
  free(res->funcs);
  free(res->calls);
  free(res->module_path);
  free(res);
}

/* Indexes the subtree NODE of ROOT, appending to C->res (NODE is the root, or a top-level
 * statement: scopes never cross top-level statements). */
static int idx_extract_node(idx_ctx *c, TSQueryCursor *cur, TSNode root, TSNode node,
                            const char *module_path) {
  c->nev = 0;
  int rc = idx_collect_defs(c, cur, root, node);
  if (!rc && (c->flags & HUD_INDEX_CALLS)) rc = idx_collect_calls(c, cur, node);
  if (!rc) {
    idx_sort_merge(c);
    rc = idx_sweep(c, module_path);
  }
  while (c->nstack) idx_scope_release(&c->stack[--c->nstack]);
  while (c->nlayout) idx_scope_release(&c->layout[--c->nlayout]);
  return rc;
}

static int idx_ctx_init(idx_ctx *c, hud_lang lang, const char *module_path, const char *src,
                        size_t len, unsigned flags, bool parse_errors) {
  memset(c, 0, sizeof *c);
  int qrc = idx_lang_ready(lang);
  if (qrc) return qrc;
  hud_index_result *res = calloc(1, sizeof *res);
  if (!res) return HUD_ENOMEM;
  res->lang = lang;
  res->parse_errors = parse_errors;
  res->module_path = strdup(module_path);
  *c = (idx_ctx){.lang = lang, .flags = flags, .src = src ? src : "", .len = len, .res = res};
  int rc = res->module_path ? idx_build_line_index(c) : HUD_ENOMEM;
  if (rc) {
    hud_index_result_free(res);
    c->res = NULL;
  }
  return rc;
}

/* Frees the work areas; hands the result over (or frees it on error). */
static int idx_ctx_finish(idx_ctx *c, int rc, hud_index_result **out) {
  while (c->nstack) idx_scope_release(&c->stack[--c->nstack]);
  while (c->nlayout) idx_scope_release(&c->layout[--c->nlayout]);
  free(c->layout);
  free(c->stack);
  free(c->ev);
  free(c->line_start);
  hud_index_result *res = c->res;
  if (rc) {
    hud_index_result_free(res);
    return rc;
  }
  /* Shrink to fit: results can live long in the language server. */
  if (res->nfuncs && res->nfuncs < c->capfuncs) {
    hud_index_func *f = realloc(res->funcs, res->nfuncs * sizeof *f);
    if (f) res->funcs = f;
  }
  *out = res;
  return 0;
}

static int idx_extract(hud_indexer *ix, hud_lang lang, const char *module_path, const char *src,
                       size_t len, TSTree *tree, unsigned flags, hud_index_result **out) {
  *out = NULL;
  TSNode root = ts_tree_root_node(tree);
  idx_ctx c;
  int rc = idx_ctx_init(&c, lang, module_path, src, len, flags, ts_node_has_error(root));
  if (rc) return rc;
  rc = idx_extract_node(&c, ix->cursor, root, root, module_path);
  return idx_ctx_finish(&c, rc, out);
}

static int idx_check_args(hud_lang lang, const char *module_path, const char *src, size_t len) {
  if (lang <= HUD_LANG_UNKNOWN || lang >= HUD_LANG_COUNT_ || !module_path || (!src && len))
    return HUD_EINVAL;
  if (len > HUD_INDEX_MAX_BYTES) return HUD_ETOOBIG;
  return 0;
}

int hud_indexer_run(hud_indexer *ix, hud_lang lang, const char *module_path, const char *src,
                    size_t len, const hud_index_opts *opts, hud_index_result **out) {
  if (!ix || !out) return HUD_EINVAL;
  *out = NULL;
  int rc = idx_check_args(lang, module_path, src, len);
  if (rc) return rc;
  TSTree *tree = NULL;
  rc = idx_parse(ix, lang, NULL, src, len, opts, &tree);
  if (rc) return rc;
  rc = idx_extract(ix, lang, module_path, src, len, tree, opts ? opts->flags : 0, out);
  ts_tree_delete(tree);
  return rc;
}

/* ---- incremental documents ---------------------------------------------------------- */

struct hud_index_doc {
  hud_indexer *ix;
  hud_lang lang;
  hud_index_opts opts;
  char *module_path;
  char *text;
  size_t len;
  TSTree *tree;
  hud_index_result *res;
};

int hud_index_doc_new(hud_lang lang, const char *module_path, const char *src, size_t len,
                      const hud_index_opts *opts, hud_index_doc **out) {
  if (!out) return HUD_EINVAL;
  *out = NULL;
  int rc = idx_check_args(lang, module_path, src, len);
  if (rc) return rc;
  hud_index_doc *d = calloc(1, sizeof *d);
  if (!d) return HUD_ENOMEM;
  d->lang = lang;
  if (opts) d->opts = *opts;
  d->module_path = strdup(module_path);
  d->text = malloc(len ? len : 1);
  rc = (!d->module_path || !d->text) ? HUD_ENOMEM : hud_indexer_new(&d->ix);
  if (!rc) {
    if (len) memcpy(d->text, src, len);
    d->len = len;
    rc = idx_parse(d->ix, lang, NULL, d->text, len, &d->opts, &d->tree);
  }
  if (!rc) rc = idx_extract(d->ix, lang, d->module_path, d->text, len, d->tree, d->opts.flags, &d->res);
  if (rc) {
    hud_index_doc_free(d);
    return rc;
  }
  *out = d;
  return 0;
}

void hud_index_doc_free(hud_index_doc *d) {
  if (!d) return;
  if (d->tree) ts_tree_delete(d->tree);
  hud_index_result_free(d->res);
  hud_indexer_free(d->ix);
  free(d->text);
  free(d->module_path);
  free(d);
}

static TSPoint idx_point_at(const char *s, size_t off) {
  TSPoint p = {0, 0};
  const char *cur = s, *end = s + off;
  for (;;) {
    const char *nl = memchr(cur, '\n', (size_t)(end - cur));
    if (!nl) break;
    p.row++;
    cur = nl + 1;
  }
  p.column = (uint32_t)(end - cur);
  return p;
}

static TSPoint idx_point_after(TSPoint start, const char *text, size_t len) {
  TSPoint p = start;
  const char *cur = text, *end = text + len;
  for (;;) {
    const char *nl = len ? memchr(cur, '\n', (size_t)(end - cur)) : NULL;
    if (!nl) break;
    p.row++;
    p.column = 0;
    cur = nl + 1;
  }
  p.column += (uint32_t)(end - cur);
  return p;
}

/* ---- incremental re-index ---------------------------------------------------------- */

static hud_index_point idx_shift_point(hud_index_point p, const TSInputEdit *ed) {
  if (p.row == ed->old_end_point.row)
    p.column = p.column - ed->old_end_point.column + ed->new_end_point.column;
  p.row = p.row - ed->old_end_point.row + ed->new_end_point.row;
  return p;
}

static bool idx_touches(uint32_t s1, uint32_t e1, uint32_t s2, uint32_t e2) {
  return s1 <= e2 && s2 <= e1;
}

/* Re-indexes after an edit by top-level statements: a statement the edit and tree-sitter's
 * changed ranges do not touch (nor share a line with the edit, since hashes are by line)
 * keeps its previous functions, shifted; the others are indexed again. Scopes never cross
 * top-level statements, so the result equals a full index (the fuzz target checks it). */
static int idx_extract_incremental(hud_index_doc *d, const TSTree *edited, TSTree *fresh,
                                   const TSInputEdit *ed, const char *src, size_t len,
                                   hud_index_result **out) {
  *out = NULL;
  const hud_index_result *old = d->res;
  TSNode root = ts_tree_root_node(fresh);
  idx_ctx c;
  int rc = idx_ctx_init(&c, d->lang, d->module_path, src, len, d->opts.flags, false);
  if (rc) return rc;
  uint32_t nr = 0;
  TSRange *ranges = ts_tree_get_changed_ranges(edited, fresh, &nr);
  int64_t db = (int64_t)ed->new_end_byte - (int64_t)ed->old_end_byte;
  int64_t drow = (int64_t)ed->new_end_point.row - (int64_t)ed->old_end_point.row;
  size_t oi = 0, oc = 0;
  TSTreeCursor tc = ts_tree_cursor_new(root);
  bool more = ts_tree_cursor_goto_first_child(&tc);
  for (; more && !rc; more = ts_tree_cursor_goto_next_sibling(&tc)) {
    TSNode ch = ts_tree_cursor_current_node(&tc);
    uint32_t cs = ts_node_start_byte(ch), ce = ts_node_end_byte(ch);
    TSPoint sp = ts_node_start_point(ch), ep = ts_node_end_point(ch);
    bool dirty = idx_touches(cs, ce, ed->start_byte, ed->new_end_byte) ||
                 idx_touches(sp.row, ep.row, ed->start_point.row, ed->new_end_point.row);
    for (uint32_t i = 0; i < nr && !dirty; i++)
      dirty = idx_touches(cs, ce, ranges[i].start_byte, ranges[i].end_byte);
    if (dirty) {
      rc = idx_extract_node(&c, d->ix->cursor, root, ch, d->module_path);
      continue;
    }
    bool after = cs >= ed->new_end_byte;
    uint32_t ocs = after ? (uint32_t)(cs - db) : cs, oce = after ? (uint32_t)(ce - db) : ce;
    while (oi < old->nfuncs && old->funcs[oi].start_byte < ocs) oi++;
    size_t first_old = oi, first_new = c.res->nfuncs;
    for (; oi < old->nfuncs && old->funcs[oi].start_byte < oce && !rc; oi++) {
      if (IDX_RESERVE(c.res->funcs, c.res->nfuncs, c.capfuncs, 64)) {
        rc = HUD_ENOMEM;
        break;
      }
      hud_index_func f = old->funcs[oi];
      f.qualname = strdup(f.qualname);
      if (!f.qualname) {
        rc = HUD_ENOMEM;
        break;
      }
      if (f.parent >= 0) f.parent = (int)(f.parent - (int)first_old + (int)first_new);
      if (after) {
        f.start_byte = (uint32_t)(f.start_byte + db);
        f.end_byte = (uint32_t)(f.end_byte + db);
        f.start_line = (int)(f.start_line + drow);
        f.end_line = (int)(f.end_line + drow);
        f.name_start = idx_shift_point(f.name_start, ed);
        f.name_end = idx_shift_point(f.name_end, ed);
      }
      c.res->funcs[c.res->nfuncs++] = f;
    }
    while (oc < old->ncalls && old->calls[oc].start_byte < ocs) oc++;
    for (; oc < old->ncalls && old->calls[oc].start_byte < oce && !rc; oc++) {
      if (IDX_RESERVE(c.res->calls, c.res->ncalls, c.capcalls, 256)) {
        rc = HUD_ENOMEM;
        break;
      }
      hud_index_call k = old->calls[oc];
      k.callee = strdup(k.callee);
      if (!k.callee) {
        rc = HUD_ENOMEM;
        break;
      }
      if (k.enclosing >= 0) k.enclosing = (int)(k.enclosing - (int)first_old + (int)first_new);
      if (after) {
        k.start_byte = (uint32_t)(k.start_byte + db);
        k.start = idx_shift_point(k.start, ed);
        k.end = idx_shift_point(k.end, ed);
      }
      c.res->calls[c.res->ncalls++] = k;
    }
  }
  ts_tree_cursor_delete(&tc);
  free(ranges);
  return idx_ctx_finish(&c, rc, out);
}

int hud_index_doc_edit(hud_index_doc *d, size_t start, size_t old_len, const char *text,
                       size_t text_len) {
  if (!d || (!text && text_len)) return HUD_EINVAL;
  if (start > d->len || old_len > d->len - start) return HUD_ERANGE;
  size_t nlen = d->len - old_len + text_len;
  if (nlen > HUD_INDEX_MAX_BYTES) return HUD_ETOOBIG;
  char *nt = malloc(nlen ? nlen : 1);
  if (!nt) return HUD_ENOMEM;
  memcpy(nt, d->text, start);
  if (text_len) memcpy(nt + start, text, text_len);
  memcpy(nt + start + text_len, d->text + start + old_len, d->len - start - old_len);

  TSInputEdit ed;
  ed.start_byte = (uint32_t)start;
  ed.old_end_byte = (uint32_t)(start + old_len);
  ed.new_end_byte = (uint32_t)(start + text_len);
  ed.start_point = idx_point_at(d->text, start);
  ed.old_end_point = idx_point_after(ed.start_point, d->text + start, old_len);
  ed.new_end_point = idx_point_after(ed.start_point, text ? text : "", text_len);

  /* Edit a copy so that the document is intact when the re-parse fails. */
  TSTree *edited = ts_tree_copy(d->tree);
  if (!edited) {
    free(nt);
    return HUD_ENOMEM;
  }
  ts_tree_edit(edited, &ed);
  TSTree *fresh = NULL;
  int rc = idx_parse(d->ix, d->lang, edited, nt, nlen, &d->opts, &fresh);
  hud_index_result *res = NULL;
  if (!rc) {
    /* Go numbers closures across the file and broken trees are named with the layout of
     * the whole file: those are indexed whole. (A previous result with errors is fine to
     * reuse: the layout rule only overrides the tree inside broken statements, which the
     * changed ranges cover.) */
    bool local = d->lang != HUD_LANG_GO && !ts_node_has_error(ts_tree_root_node(fresh));
    if (local)
      rc = idx_extract_incremental(d, edited, fresh, &ed, nt, nlen, &res);
    else
      rc = idx_extract(d->ix, d->lang, d->module_path, nt, nlen, fresh, d->opts.flags, &res);
  }
  ts_tree_delete(edited);
  if (rc) {
    if (fresh) ts_tree_delete(fresh);
    free(nt);
    return rc;
  }
  ts_tree_delete(d->tree);
  hud_index_result_free(d->res);
  free(d->text);
  d->tree = fresh;
  d->res = res;
  d->text = nt;
  d->len = nlen;
  return 0;
}

size_t hud_index_doc_offset(const hud_index_doc *d, hud_index_point pt) {
  if (!d) return 0;
  size_t off = 0;
  for (uint32_t r = 0; r < pt.row; r++) {
    const char *nl = off < d->len ? memchr(d->text + off, '\n', d->len - off) : NULL;
    if (!nl) return d->len;
    off = (size_t)(nl - d->text) + 1;
  }
  const char *nl = off < d->len ? memchr(d->text + off, '\n', d->len - off) : NULL;
  size_t line_end = nl ? (size_t)(nl - d->text) : d->len;
  size_t want = off + pt.column;
  return want < line_end ? want : line_end;
}

const hud_index_result *hud_index_doc_result(const hud_index_doc *d) { return d ? d->res : NULL; }

const char *hud_index_doc_text(const hud_index_doc *d, size_t *len) {
  if (!d) return NULL;
  if (len) *len = d->len;
  return d->text;
}
