/* A function's source lines for Detail: read from the file under the source root, highlighted with the
 * tree-sitter grammars of hud_grammars (keywords, strings, comments, numbers, function names), cut to the
 * screen with line numbers. Bad files (too big, not parsing, not UTF-8) still show as plain text. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tree_sitter/api.h>
#include <wchar.h>

#include "hud/err.h"
#include "hud/index.h"
#include "tui.h"

#define SRC_MAX_BYTES (2u * 1024u * 1024u) /* parsed and highlighted up to this size */
#define SRC_SCAN_BYTES (64u * 1024u * 1024u) /* bigger files: read this far for the lines, plain */
#define SRC_PARSE_US 200000u                 /* a parse that takes longer is dropped: plain text */
#define SRC_TAB 8

const TSLanguage *tree_sitter_python(void);
const TSLanguage *tree_sitter_javascript(void);
const TSLanguage *tree_sitter_typescript(void);
const TSLanguage *tree_sitter_tsx(void);
const TSLanguage *tree_sitter_go(void);
const TSLanguage *tree_sitter_java(void);

struct tui_src {
  char path[4096];
  int from, to;         /* requested lines */
  struct timespec mtime;
  off_t size;
  char *text;           /* the lines kept, from line FIRST */
  unsigned char *cls;   /* a TUI_SRC_* class per byte of TEXT */
  size_t *start;        /* byte offset of each kept line in TEXT; N + 1 entries */
  size_t n;
  int first;
  bool highlighted;
};

static const TSLanguage *language(const char *path) {
  switch (hud_lang_from_path(path)) {
  case HUD_LANG_PYTHON: return tree_sitter_python();
  case HUD_LANG_JAVASCRIPT: return tree_sitter_javascript();
  case HUD_LANG_TYPESCRIPT: return tree_sitter_typescript();
  case HUD_LANG_TSX: return tree_sitter_tsx();
  case HUD_LANG_GO: return tree_sitter_go();
  case HUD_LANG_JAVA: return tree_sitter_java();
  default: return NULL;
  }
}

static bool in(const char *t, const char *const *set) {
  for (; *set; set++)
    if (strcmp(t, *set) == 0) return true;
  return false;
}

static const char *const k_strings[] = {"string", "template_string", "interpreted_string_literal",
                                        "raw_string_literal", "string_literal", "character_literal",
                                        "rune_literal", "text_block", "concatenated_string", NULL};
static const char *const k_numbers[] = {"integer", "float", "number", "int_literal", "float_literal",
                                        "imaginary_literal", "decimal_integer_literal", "hex_integer_literal",
                                        "octal_integer_literal", "binary_integer_literal",
                                        "decimal_floating_point_literal", "hex_floating_point_literal", NULL};
static const char *const k_consts[] = {"true", "false", "none", "null", "nil", "undefined", "null_literal", NULL};
static const char *const k_defs[] = {"function_definition", "function_declaration", "method_declaration",
                                     "method_definition", "generator_function_declaration",
                                     "constructor_declaration", "class_definition", "class_declaration", NULL};

static void mark(unsigned char *cls, uint32_t a, uint32_t b, uint32_t lo, uint32_t hi, int c) {
  if (a < lo) a = lo;
  if (b > hi) b = hi;
  for (uint32_t i = a; i < b; i++) cls[i - lo] = (unsigned char)c;
}

/* Classifies the bytes [LO, HI) of SRC by the nodes of TREE that overlap them. */
static void classify(TSTree *tree, const char *src, uint32_t lo, uint32_t hi, unsigned char *cls) {
  TSTreeCursor cur = ts_tree_cursor_new(ts_tree_root_node(tree));
  for (;;) {
    TSNode n = ts_tree_cursor_current_node(&cur);
    uint32_t a = ts_node_start_byte(n), b = ts_node_end_byte(n);
    const char *t = ts_node_type(n);
    bool descend = b > lo && a < hi;
    if (descend) {
      if (strstr(t, "comment")) mark(cls, a, b, lo, hi, TUI_SRC_COMMENT), descend = false;
      else if (in(t, k_strings)) mark(cls, a, b, lo, hi, TUI_SRC_STRING), descend = false;
      else if (in(t, k_numbers)) mark(cls, a, b, lo, hi, TUI_SRC_NUMBER), descend = false;
      else if (ts_node_child_count(n) == 0 && (in(t, k_consts) || (!ts_node_is_named(n) && t[0] >= 'a' && t[0] <= 'z')))
        mark(cls, a, b, lo, hi, TUI_SRC_KEYWORD);
      else if (in(t, k_defs)) {
        TSNode name = ts_node_child_by_field_name(n, "name", 4);
        if (!ts_node_is_null(name)) mark(cls, ts_node_start_byte(name), ts_node_end_byte(name), lo, hi, TUI_SRC_FUNC);
      }
    }
    (void)src;
    if (descend && ts_tree_cursor_goto_first_child(&cur)) continue;
    while (!ts_tree_cursor_goto_next_sibling(&cur))
      if (!ts_tree_cursor_goto_parent(&cur)) {
        ts_tree_cursor_delete(&cur);
        return;
      }
  }
}

/* Reads at most CAP bytes of PATH; *LEN the bytes read. */
static char *slurp(const char *path, size_t cap, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = malloc(cap + 1);
  size_t n = buf ? fread(buf, 1, cap, f) : 0;
  fclose(f);
  if (buf) buf[n] = '\0';
  *len = n;
  return buf;
}

static int load(tui_src *s, const char *path, int from, int to, const struct stat *sb) {
  bool small = (uint64_t)sb->st_size <= SRC_MAX_BYTES;
  size_t len;
  char *all = slurp(path, small ? SRC_MAX_BYTES : SRC_SCAN_BYTES, &len);
  if (!all) return HUD_EIO;
  size_t lo = 0, line = 1;
  while (line < (size_t)from && lo < len) {
    const char *nl = memchr(all + lo, '\n', len - lo);
    if (!nl) break;
    lo = (size_t)(nl - all) + 1, line++;
  }
  s->first = (int)line;
  s->start = calloc((size_t)(to - from) + 2, sizeof *s->start);
  if (!s->start || line != (size_t)from || lo >= len) {
    free(all);
    return s->start ? HUD_ENOTFOUND : HUD_ENOMEM;
  }
  size_t hi = lo;
  for (int l = from; l <= to && hi < len; l++) {
    s->start[s->n++] = hi - lo;
    const char *nl = memchr(all + hi, '\n', len - hi);
    hi = nl ? (size_t)(nl - all) + 1 : len;
  }
  s->start[s->n] = hi - lo;
  s->text = malloc(hi - lo + 1);
  s->cls = calloc(hi - lo + 1, 1);
  if (!s->text || !s->cls) {
    free(all);
    return HUD_ENOMEM;
  }
  memcpy(s->text, all + lo, hi - lo);
  const TSLanguage *lang = small ? language(path) : NULL;
  TSParser *p = lang ? ts_parser_new() : NULL;
  if (p && ts_parser_set_language(p, lang)) {
    ts_parser_set_timeout_micros(p, SRC_PARSE_US);
    TSTree *t = ts_parser_parse_string(p, NULL, all, (uint32_t)len);
    if (t) {
      classify(t, all, (uint32_t)lo, (uint32_t)hi, s->cls);
      s->highlighted = true;
      ts_tree_delete(t);
    }
  }
  if (p) ts_parser_delete(p);
  free(all);
  return 0;
}

void tui_src_free(tui_src *s) {
  if (!s) return;
  free(s->text);
  free(s->cls);
  free(s->start);
  free(s);
}

/* One file at a time is shown: the last one loaded is kept until another is asked for or it changes. */
static tui_src *g_cache;

const tui_src *tui_src_get(const char *path, int from, int to) {
  struct stat sb;
  if (!path || from < 1 || to < from || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return NULL;
  tui_src *c = g_cache;
  if (c && strcmp(c->path, path) == 0 && c->from == from && c->to == to && c->size == sb.st_size &&
      c->mtime.tv_sec == sb.st_mtim.tv_sec && c->mtime.tv_nsec == sb.st_mtim.tv_nsec)
    return c;
  tui_src_free(g_cache);
  g_cache = NULL;
  tui_src *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  snprintf(s->path, sizeof s->path, "%s", path);
  s->from = from, s->to = to, s->size = sb.st_size, s->mtime = sb.st_mtim;
  if (load(s, path, from, to, &sb) != 0) {
    tui_src_free(s);
    return NULL;
  }
  return g_cache = s;
}

void tui_src_drop(void) {
  tui_src_free(g_cache);
  g_cache = NULL;
}

size_t tui_src_count(const tui_src *s) { return s ? s->n : 0; }
int tui_src_first(const tui_src *s) { return s ? s->first : 0; }
bool tui_src_highlighted(const tui_src *s) { return s && s->highlighted; }

/* Bytes of one UTF-8 character at P (at most N), 0 when it is not valid UTF-8; its code point in *CP. */
static size_t utf8_char(const unsigned char *p, size_t n, uint32_t *cp) {
  size_t k = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
  if (!k || k > n) return 0;
  uint32_t c = k == 1 ? p[0] : k == 2 ? p[0] & 0x1fu : k == 3 ? p[0] & 0x0fu : p[0] & 0x07u;
  for (size_t i = 1; i < k; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    c = c << 6 | (p[i] & 0x3fu);
  }
  static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < min[k] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
  *cp = c;
  return k;
}

/* Appends N bytes of S with class C to OUT/CLS (room permitting). */
static void emit(char *out, unsigned char *cls, size_t cap, size_t *at, const char *s, size_t n, int c) {
  if (*at + n >= cap) return;
  memcpy(out + *at, s, n);
  memset(cls + *at, c, n);
  *at += n;
}

void tui_src_line(const tui_src *s, size_t i, int width, bool utf8, char *out, unsigned char *cls, size_t cap) {
  size_t at = 0;
  out[0] = '\0';
  if (!s || i >= s->n || cap < 8) return;
  char num[32];
  int digits = snprintf(num, sizeof num, "%d", s->first + (int)s->n - 1);
  int k = snprintf(num, sizeof num, "%*d ", digits, s->first + (int)i);
  emit(out, cls, cap, &at, num, (size_t)k, TUI_SRC_GUTTER);
  int col = k, max = width;
  const unsigned char *p = (const unsigned char *)s->text + s->start[i];
  size_t n = s->start[i + 1] - s->start[i];
  while (n && (p[n - 1] == '\n' || p[n - 1] == '\r')) n--;
  const unsigned char *c = s->cls + s->start[i];
  for (size_t j = 0; j < n;) {
    uint32_t cp = 0;
    size_t b = utf8_char(p + j, n - j, &cp);
    int w = 1, cl = c[j];
    char g[8];
    size_t gl = 1;
    if (b == 0) g[0] = '?', b = 1;                               /* not UTF-8 */
    else if (cp == '\t') w = SRC_TAB - (col - k) % SRC_TAB, g[0] = ' ';
    else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) g[0] = '?';
    else if (cp < 0x80) g[0] = (char)cp;
    else if (!utf8) g[0] = '?';
    else {
      int ww = wcwidth((wchar_t)cp);
      if (ww < 0) g[0] = '?';
      else memcpy(g, p + j, b), gl = b, w = ww;
    }
    bool last = j + b >= n;
    if (col + w > max - (last ? 0 : 1)) { /* no room for it and the cut mark */
      emit(out, cls, cap, &at, "~", 1, TUI_SRC_GUTTER);
      break;
    }
    for (int t = 0; t < (cp == '\t' ? w : 1); t++) emit(out, cls, cap, &at, g, gl, cl);
    col += w;
    j += b;
  }
  out[at] = '\0';
}
