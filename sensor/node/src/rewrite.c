/* Source rewrite of the Node sensor (see rewrite.h). One pass over the source emits the
 * instrumented text, the insertion list and the source map together. */
#include "rewrite.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>

#include "hud/buf.h"
#include "blockscope.h"
#include "hud/err.h"
#include "sbuf.h"

const TSLanguage *tree_sitter_javascript(void);
const TSLanguage *tree_sitter_typescript(void);
const TSLanguage *tree_sitter_tsx(void);

/* Opens, then closes (cmp_ins). The RESUME/SUSPEND/FA kinds mark where an async function or a
 * generator suspends and resumes, so that the runtime's current call follows it:
 *   await X  ->  __hud.v(await __hud.s(__hud_h,__hud_p,X,__hud_z=1),RESUME)   (yield likewise)
 *   catch (e) { / finally {  ->  ... {RESUME;   (resumed by a rejection, or reached synchronously)
 *   for await (L of X) B  ->  {for await (L of  __hud.fa(__hud_h,()=>(__hud_z=1,__hud_p),X)) {RESUME;B};RESUME}
 *     (the wrapper's next() suspends; the body and the statement after the loop resume; when
 *     X is a name or a chain of them, X,"X", and when a call of one, X,"C(...)": the runtime
 *     then throws V8's TypeError itself, which would name our call)
 *   RESUME = __hud_p=__hud.r(__hud_h,__hud_p,__hud_i,__hud_z),__hud_z=0
 * __hud_p is the runtime's current call when the function started or last resumed: it is put
 * back where the function suspends and ends (a `let` in functions that can suspend). A function
 * that can suspend also keeps its call's edge (__hud_i) and whether it suspended since it last
 * resumed (__hud_z): handles name functions, so another call of the same function may be the
 * current one when it resumes. The texts above leave out the MARK comments (below). */
enum {
  INS_PROLOGUE,
  INS_OPEN_BLOCK,
  INS_OPEN_DIRECTIVE,
  INS_OPEN_EXPR,
  INS_RESUME_OPEN,
  INS_SUSPEND,
  INS_RESUME_STMT,
  INS_FA_BLOCK,
  INS_FA_OPEN,
  INS_FA_BODY_OPEN,
  INS_RET_OPEN,
  INS_RET_BARE,
  INS_CLOSE_BLOCK,
  INS_CLOSE_EXPR,
  INS_RESUME_CLOSE,
  INS_SUSPEND_BARE,
  INS_FA_CLOSE,
  INS_FA_BODY_CLOSE,
  INS_FA_END,
  INS_RET_CLOSE
};

/* Set in an OPEN's and CLOSE's n when the function can suspend (its __hud_p is a `let`). */
#define SUSP_BIT 0x80000000u
/* Set in an OPEN's and CLOSE's n when the function ends without a `finally` of ours: neither
 * can suspend nor has a `finally` of its own (whose code runs after a return). V8's try/finally
 * costs about half a nanosecond per call, its try/catch nothing; the function ends where it
 * returns instead:
 *   return X;  ->  return __hud.x(__hud_h,__hud_p,X);     return;  ->  return __hud.x(__hud_h,__hud_p);
 *   ...}catch(__hud_e){__hud.fail(__hud_h,__hud_p,__hud_e);__hud.exit(__hud_h,__hud_p);throw __hud_e}__hud.exit(__hud_h,__hud_p)}
 * (the last exit for a body that runs off its end). */
#define PLAIN_BIT 0x40000000u
#define EXIT "__hud.exit(__hud_h,__hud_p)"
#define RET_X " __hud.x(__hud_h,__hud_p," /* its returned value follows */
/* Marks the insertions whose text alone could be the source's (a bracket), so that
 * lib/fntext.js can take every insertion out of a function's toString() text again. */
#define MARK "/*__hud*/"
#define RESUME "__hud_p=__hud.r(__hud_h,__hud_p,__hud_i,__hud_z),__hud_z=0"
#define RESUME_ARG "," RESUME

typedef struct ins {
  uint32_t off;    /* source byte the text goes before */
  uint32_t nstart; /* start byte of the function node, orders insertions at one offset */
  int kind;
  uint32_t n;     /* BASE + k */
  int64_t parent; /* an OPEN's: the n of the function whose flow it takes (lexical), -1: none */
  bool decl;      /* an OPEN's: its function keeps its flow for nested ones (__hud_f<n>) */
  uint32_t seq;   /* order added: the walk adds a node's before its descendants' */
} ins;

/* An instrumented function node and its body's bytes; DFS order = by start. */
typedef struct fnode {
  uint32_t start, end, bstart, bend;
  size_t open; /* its OPEN in rw.ins */
  uint32_t n;
  bool suspends; /* async or a generator */
  bool plain;    /* ends where it returns (PLAIN_BIT) */
} fnode;

typedef struct fkey {
  uint32_t end, start, i;
} fkey;


typedef struct rw {
  const char *src;
  size_t len;
  const hud_index_result *idx;
  fkey *order; /* index funcs sorted by (end_byte, start_byte) */
  bool *used;
  ins *ins;
  size_t nins, capins;
  uint32_t *leaves; /* token start bytes, ascending */
  size_t nleaves, capleaves;
  const int32_t *slots; /* index function -> table entry, < 0: left as it is; NULL: itself */
  size_t nslots;
  const char *prologue;
  bool prologue_semi; /* the prologue follows the module's directives */
  size_t instrumented;
  hsn_result *r;
  fnode *fnodes;
  size_t nfnodes, capfnodes;
  size_t nsuspending; /* fnodes that can suspend */
} rw;

static int cmp_func_end(const void *a, const void *b) {
  const fkey *x = a, *y = b;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  return 0;
}

/* At one offset closes come first, inner functions' closes before outer ones; then opens,
 * outer before inner; one function's own open and close (an empty body) in that order. */
static int cmp_ins(const void *a, const void *b) {
  const ins *x = a, *y = b;
  if (x->off != y->off) return x->off < y->off ? -1 : 1;
  if ((x->kind == INS_PROLOGUE) != (y->kind == INS_PROLOGUE)) return x->kind == INS_PROLOGUE ? -1 : 1;
  /* A bare return's insertion ends its statement: a close (`return}` puts it before the body's). */
  bool cx = x->kind >= INS_CLOSE_BLOCK || x->kind == INS_RET_BARE;
  bool cy = y->kind >= INS_CLOSE_BLOCK || y->kind == INS_RET_BARE; /* see the enum */
  if (cx != cy && x->nstart == y->nstart) return cx ? 1 : -1; /* an empty body: open, close */
  if (cx != cy) return cx ? -1 : 1;
  if (x->nstart != y->nstart) return (x->nstart > y->nstart) == cx ? -1 : 1;
  /* Nodes that start together (a for-await body that is a `yield` statement): the inner one,
   * added later, opens last and closes first. */
  if (x->seq != y->seq) return (x->seq > y->seq) == cx ? -1 : 1;
  return 0;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static bool is_function_node(const char *t) {
  static const char *const types[] = {"function_declaration", "generator_function_declaration",
                                      "function_expression",  "function",
                                      "generator_function",   "arrow_function",
                                      "method_definition"};
  for (size_t i = 0; i < sizeof types / sizeof *types; i++)
    if (strcmp(t, types[i]) == 0) return true;
  return false;
}

/* The index entry of function node [S, E): same end, the latest start not after S (an
 * entry starts earlier when decorators belong to it). -1 when the index did not name it. */
static int match_func(rw *w, uint32_t s, uint32_t e) {
  size_t lo = 0, hi = w->idx->nfuncs;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (w->order[mid].end < e) lo = mid + 1;
    else hi = mid;
  }
  int best = -1;
  for (size_t i = lo; i < w->idx->nfuncs; i++) {
    const fkey *f = &w->order[i];
    if (f->end != e || f->start > s) break;
    if (!w->used[f->i]) best = (int)f->i;
  }
  return best;
}

/* Room for one more SIZE-byte item in the array at *(void **)ITEMS (N used, *CAP allocated,
 * FIRST the first capacity): the growth of the rewrite's lists. */
static int grow(void *items, size_t *cap, size_t n, size_t size, size_t first) {
  if (n < *cap) return 0;
  size_t c = *cap ? *cap * 2 : first;
  void *p = realloc(*(void **)items, c * size);
  if (!p) return HUD_ENOMEM;
  *(void **)items = p;
  *cap = c;
  return 0;
}

static int add_ins(rw *w, uint32_t off, uint32_t nstart, int kind, uint32_t n) {
  if (grow(&w->ins, &w->capins, w->nins, sizeof *w->ins, 64)) return HUD_ENOMEM;
  w->ins[w->nins] = (ins){off, nstart, kind, n, -1, false, (uint32_t)w->nins};
  w->nins++;
  return 0;
}

/* End of N's last token. Its own end can lie further: the grammar's automatic-semicolon scanner
 * looks past a comment on the same line, and the tree then hangs that comment on the block
 * before it (`} // note` ends the block after "note"). */
static uint32_t code_end(TSNode n) {
  for (;;) {
    uint32_t k = ts_node_child_count(n);
    while (k > 0 && ts_node_is_extra(ts_node_child(n, k - 1))) k--;
    if (k == 0) return ts_node_end_byte(n);
    n = ts_node_child(n, k - 1);
  }
}

/* Whether statement ST is a string alone (a directive), a comment on its line aside. */
static bool is_string_statement(TSNode st) {
  uint32_t strings = 0, n = ts_node_named_child_count(st);
  for (uint32_t i = 0; i < n; i++) {
    TSNode c = ts_node_named_child(st, i);
    if (ts_node_is_extra(c)) continue;
    if (strcmp(ts_node_type(c), "string") != 0) return false;
    strings++;
  }
  return strings == 1;
}

/* End of the body's directive prologue ("use strict"; ...), or 0 when it has none. */
static uint32_t directives_end(TSNode body) {
  uint32_t end = 0;
  uint32_t n = ts_node_named_child_count(body);
  for (uint32_t i = 0; i < n; i++) {
    TSNode st = ts_node_named_child(body, i);
    const char *t = ts_node_type(st);
    if (strcmp(t, "comment") == 0 || strcmp(t, "hash_bang_line") == 0) continue;
    if (strcmp(t, "expression_statement") != 0 || !is_string_statement(st)) break;
    end = code_end(st);
  }
  return end;
}

/* Whether function node FN is a generator or async (it can suspend). */
static bool can_suspend(TSNode fn, bool *is_gen) {
  const char *t = ts_node_type(fn);
  *is_gen = strstr(t, "generator") != NULL;
  bool async = false;
  uint32_t n = ts_node_child_count(fn);
  for (uint32_t i = 0; i < n; i++) {
    TSNode c = ts_node_child(fn, i);
    if (ts_node_is_named(c)) {
      if (strcmp(ts_node_type(c), "property_identifier") && strcmp(ts_node_type(c), "private_property_identifier") &&
          strcmp(ts_node_type(c), "computed_property_name"))
        break;
      continue;
    }
    const char *ct = ts_node_type(c);
    if (!strcmp(ct, "*")) *is_gen = true;
    if (!strcmp(ct, "async")) async = true;
  }
  return async || *is_gen;
}

static int add_fnode(rw *w, fnode f) {
  if (grow(&w->fnodes, &w->capfnodes, w->nfnodes, sizeof *w->fnodes, 32)) return HUD_ENOMEM;
  w->fnodes[w->nfnodes++] = f;
  return 0;
}

static fnode *find_fnode(rw *w, uint32_t s, uint32_t e) {
  size_t lo = 0, hi = w->nfnodes;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (w->fnodes[mid].start < s) lo = mid + 1;
    else hi = mid;
  }
  for (; lo < w->nfnodes && w->fnodes[lo].start == s; lo++)
    if (w->fnodes[lo].end == e) return &w->fnodes[lo];
  return NULL;
}

/* Whether N's nearest enclosing function is an instrumented one that can suspend (so that
 * __hud_h there is its handle). Its start byte in *FS. */
static bool in_suspendable(rw *w, TSNode n, uint32_t *fs) {
  uint32_t s = ts_node_start_byte(n);
  for (TSNode p = ts_node_parent(n); !ts_node_is_null(p); p = ts_node_parent(p)) {
    if (!is_function_node(ts_node_type(p))) continue;
    /* A method's computed name runs in the function around it (`{ *[yield]() {} }`). */
    TSNode body = ts_node_child_by_field_name(p, "body", 4);
    if (!ts_node_is_null(body) && (s < ts_node_start_byte(body) || s >= ts_node_end_byte(body))) continue;
    const fnode *f = find_fnode(w, ts_node_start_byte(p), ts_node_end_byte(p));
    if (!f || !f->suspends) return false;
    *fs = f->start;
    return true;
  }
  return false;
}

/* A character of a plain chain (below). */
static bool chain_char(char ch) {
  unsigned char c = (unsigned char)ch;
  return isalnum(c) || c == '_' || c == '$' || c == '.' || c == '[' || c == ']';
}

/* Whether index X of a subscript is one V8 prints as written: a name, or a decimal integer. */
static bool plain_index(const rw *w, TSNode x) {
  if (!strcmp(ts_node_type(x), "identifier")) return true;
  uint32_t s = ts_node_start_byte(x), e = ts_node_end_byte(x);
  if (strcmp(ts_node_type(x), "number") || e - s > 15 || (w->src[s] == '0' && e - s > 1)) return false;
  for (uint32_t i = s; i < e; i++)
    if (!isdigit((unsigned char)w->src[i])) return false;
  return true;
}

/* Whether X is a name, `this` or a chain of `.name`s and `[index]`es (plain_index) on one,
 * written without spaces: what V8 prints of it in "X is not async iterable", so the runtime can
 * throw that error itself. */
static bool plain_chain(const rw *w, TSNode x) {
  const char *t = ts_node_type(x);
  uint32_t s = ts_node_start_byte(x), e = ts_node_end_byte(x);
  if (e - s > 200) return false;
  for (uint32_t i = s; i < e; i++)
    if (!chain_char(w->src[i])) return false;
  if (!strcmp(t, "identifier") || !strcmp(t, "this")) return true;
  if (ts_node_named_child_count(x) != 2) return false; /* an optional chain has three */
  TSNode obj = ts_node_child_by_field_name(x, "object", 6);
  if (!strcmp(t, "subscript_expression")) {
    TSNode index = ts_node_child_by_field_name(x, "index", 5);
    return !ts_node_is_null(index) && plain_index(w, index) && plain_chain(w, obj);
  }
  if (strcmp(t, "member_expression")) return false;
  TSNode prop = ts_node_child_by_field_name(x, "property", 8);
  return !ts_node_is_null(prop) && !strcmp(ts_node_type(prop), "property_identifier") && plain_chain(w, obj);
}

/* Whether X is a call of a plain chain without an index (`f(a)`, `this.items()`), which V8 prints
 * as `f(...)`. Not an optional call (`f?.()`), whose message V8 words otherwise, nor a tagged
 * template. */
static bool plain_call(const rw *w, TSNode x) {
  if (strcmp(ts_node_type(x), "call_expression")) return false;
  TSNode fn = ts_node_child_by_field_name(x, "function", 8), args = ts_node_child_by_field_name(x, "arguments", 9);
  if (ts_node_is_null(fn) || ts_node_is_null(args) || strcmp(ts_node_type(args), "arguments")) return false;
  for (uint32_t i = 0, nc = ts_node_child_count(x); i < nc; i++)
    if (!strcmp(ts_node_type(ts_node_child(x, i)), "optional_chain")) return false;
  /* A callee with an index: where V8 puts the column is not checked. */
  for (uint32_t i = ts_node_start_byte(fn); i < ts_node_end_byte(fn); i++)
    if (w->src[i] == '[') return false;
  return plain_chain(w, fn);
}

/* INS_FA_CLOSE's n: X is a call, whose callee's text goes along (plain_call). */
#define FA_CALL_BIT 0x80000000u

/* Whether a loop's body BODY is one V8 takes: the grammar also takes a declaration, and an
 * expression statement that starts `let [`, which the block put around a body would make compile. */
static bool single_statement(const rw *w, TSNode body) {
  const char *t = ts_node_type(body);
  if (!strcmp(t, "lexical_declaration") || !strcmp(t, "class_declaration") || !strcmp(t, "function_declaration") ||
      !strcmp(t, "generator_function_declaration"))
    return false;
  if (strcmp(t, "expression_statement")) return true;
  uint32_t i = ts_node_start_byte(body), e = ts_node_end_byte(body);
  if (e - i < 3 || memcmp(w->src + i, "let", 3)) return true;
  for (i += 3; i < e && isspace((unsigned char)w->src[i]);) i++;
  return i >= e || w->src[i] != '[';
}

/* for await (see the enum); labels stay on the loop. */
static int instrument_for_await(rw *w, TSNode n) {
  TSNode right = ts_node_child_by_field_name(n, "right", 5), body = ts_node_child_by_field_name(n, "body", 4);
  if (ts_node_is_null(right) || ts_node_is_null(body) || !single_statement(w, body)) return 0;
  TSNode outer = n;
  while (!ts_node_is_null(ts_node_parent(outer)) && !strcmp(ts_node_type(ts_node_parent(outer)), "labeled_statement"))
    outer = ts_node_parent(outer);
  uint32_t s = ts_node_start_byte(outer), e = code_end(outer);
  int rc = add_ins(w, s, s, INS_FA_BLOCK, 0);
  if (!rc) rc = add_ins(w, ts_node_start_byte(right), s, INS_FA_OPEN, 0);
  /* n: 1 + the start of X when the runtime is given its text (plain_chain), else 0. */
  uint32_t named = plain_chain(w, right) ? ts_node_start_byte(right) + 1
                   : plain_call(w, right) ? (ts_node_start_byte(right) + 1) | FA_CALL_BIT
                                          : 0;
  if (!rc) rc = add_ins(w, code_end(right), s, INS_FA_CLOSE, named);
  if (!rc && !strcmp(ts_node_type(body), "statement_block")) {
    rc = add_ins(w, ts_node_start_byte(body) + 1, s, INS_RESUME_STMT, 0);
  } else if (!rc) {
    rc = add_ins(w, ts_node_start_byte(body), s, INS_FA_BODY_OPEN, 0);
    if (!rc) rc = add_ins(w, code_end(body), ts_node_start_byte(body), INS_FA_BODY_CLOSE, 0);
  }
  if (!rc) rc = add_ins(w, e, s, INS_FA_END, 0);
  return rc;
}

static bool is_for_await(TSNode n) {
  if (strcmp(ts_node_type(n), "for_in_statement")) return false;
  uint32_t nc = ts_node_child_count(n);
  for (uint32_t i = 0; i < nc; i++) {
    TSNode c = ts_node_child(n, i);
    if (!ts_node_is_named(c) && !strcmp(ts_node_type(c), "await")) return true;
  }
  return false;
}

/* Whether SRC holds a line terminator in [A, B) (in a comment too: a comment that holds one
 * counts as one). `return` and `yield` take no operand across one, which the grammar does not
 * always see (a lone CR; a comment after yield). */
static bool breaks_line(const char *src, uint32_t a, uint32_t b) {
  for (uint32_t i = a; i < b; i++) {
    unsigned char c = (unsigned char)src[i];
    if (c == '\n' || c == '\r') return true;
    if (c == 0xE2 && i + 2 < b && (unsigned char)src[i + 1] == 0x80 &&
        ((unsigned char)src[i + 2] == 0xA8 || (unsigned char)src[i + 2] == 0xA9))
      return true;
  }
  return false;
}

/* Whether N, or N in parentheses, is what an assignment, ++/-- or a for-in head writes to. */
static bool is_target(TSNode n) {
  TSNode p = ts_node_parent(n);
  while (!ts_node_is_null(p) && !strcmp(ts_node_type(p), "parenthesized_expression")) {
    n = p;
    p = ts_node_parent(p);
  }
  if (ts_node_is_null(p)) return false;
  const char *t = ts_node_type(p);
  if (!strcmp(t, "update_expression")) return true;
  if (strcmp(t, "assignment_expression") && strcmp(t, "augmented_assignment_expression") && strcmp(t, "for_in_statement"))
    return false;
  TSNode left = ts_node_child_by_field_name(p, "left", 4);
  return !ts_node_is_null(left) && ts_node_eq(left, n);
}

/* Whether `yield` N stands where V8 takes one (an AssignmentExpression's place), or `await` N
 * where it takes a UnaryExpression. The grammar takes either as any operand (`yield 3 + yield 4`,
 * `(yield)++`, `yield.x`): such a source does not compile, and the parentheses of __hud.v()
 * around it would make it compile. */
static bool operand_compiles(TSNode n, bool yield) {
  if (is_target(n)) return false;
  TSNode p = ts_node_parent(n);
  if (ts_node_is_null(p)) return true;
  const char *t = ts_node_type(p);
  if (!yield) {
    /* `await x ** 2`: a unary expression is no left operand of `**`. */
    TSNode op = ts_node_child_by_field_name(p, "operator", 8), left = ts_node_child_by_field_name(p, "left", 4);
    return strcmp(t, "binary_expression") || ts_node_is_null(op) || strcmp(ts_node_type(op), "**") ||
           ts_node_is_null(left) || !ts_node_eq(left, n);
  }
  if (!strcmp(t, "ternary_expression")) {
    TSNode cond = ts_node_child_by_field_name(p, "condition", 9);
    return ts_node_is_null(cond) || !ts_node_eq(cond, n);
  }
  static const char *const takes_no_yield[] = {
      "unary_expression", "binary_expression", "update_expression", "await_expression", "member_expression",
      "subscript_expression", "call_expression", "new_expression", "template_string",
  };
  for (size_t i = 0; i < sizeof takes_no_yield / sizeof *takes_no_yield; i++)
    if (!strcmp(t, takes_no_yield[i])) return false;
  /* In a for(;;) head's first part an `in` of its operand would be taken for for-in's. */
  for (TSNode c = n; !ts_node_is_null(p); c = p, p = ts_node_parent(p)) {
    t = ts_node_type(p);
    if (!strcmp(t, "for_statement")) {
      TSNode init = ts_node_child_by_field_name(p, "initializer", 11);
      return ts_node_is_null(init) || !ts_node_eq(init, c);
    }
    if (!strcmp(t, "parenthesized_expression") || !strcmp(t, "arguments") || is_function_node(t) ||
        (strstr(t, "statement") && strcmp(t, "expression_statement")))
      return true;
  }
  return true;
}

/* await/yield, for await and the blocks a rejection resumes in (see the enum). */
static int instrument_suspension(rw *w, TSNode n) {
  const char *t = ts_node_type(n);
  uint32_t fs, ns = ts_node_start_byte(n);
  if (is_for_await(n)) return in_suspendable(w, n, &fs) ? instrument_for_await(w, n) : 0;
  bool point = !strcmp(t, "await_expression") || !strcmp(t, "yield_expression");
  bool block = !strcmp(t, "catch_clause") || !strcmp(t, "finally_clause");
  if ((!point && !block) || !in_suspendable(w, n, &fs)) return 0;
  if (point && !operand_compiles(n, t[0] == 'y')) return 0;
  if (block) {
    TSNode body = ts_node_child_by_field_name(n, "body", 4);
    if (ts_node_is_null(body) || strcmp(ts_node_type(body), "statement_block")) return 0;
    return add_ins(w, ts_node_start_byte(body) + 1, ns, INS_RESUME_STMT, 0);
  }
  /* The keyword (and yield's '*'): the operand follows it. */
  uint32_t kw_end = ns, nc = ts_node_child_count(n);
  bool operand = false;
  for (uint32_t i = 0; i < nc; i++) {
    TSNode c = ts_node_child(n, i);
    if (ts_node_is_named(c) && strcmp(ts_node_type(c), "comment")) {
      /* `yield` then a line break: a yield of nothing, and the operand a statement of its own. */
      operand = !(t[0] == 'y' && kw_end == ns + 5 && breaks_line(w->src, kw_end, ts_node_start_byte(c)));
      break;
    }
    if (!ts_node_is_named(c)) kw_end = ts_node_end_byte(c);
  }
  /* `yield` then a line break then `*`: V8 rejects it, the grammar takes it for `yield*`. */
  if (t[0] == 'y' && kw_end > ns + 5 && breaks_line(w->src, ns + 5, kw_end - 1)) return 0;
  int rc = add_ins(w, ns, ns, INS_RESUME_OPEN, 0);
  if (!rc && operand) rc = add_ins(w, kw_end, ns, INS_SUSPEND, 0);
  if (!rc) rc = add_ins(w, operand ? code_end(n) : kw_end, ns, operand ? INS_RESUME_CLOSE : INS_SUSPEND_BARE, 0);
  return rc;
}

/* The nearest instrumented function whose body holds FN (not its parameters): FN's calls that
 * start with no instrumented call below them take the flow of that function's call. */
static fnode *lexical_parent(rw *w, TSNode fn) {
  uint32_t s = ts_node_start_byte(fn);
  for (TSNode p = ts_node_parent(fn); !ts_node_is_null(p); p = ts_node_parent(p)) {
    if (!is_function_node(ts_node_type(p))) continue;
    fnode *f = find_fnode(w, ts_node_start_byte(p), ts_node_end_byte(p));
    if (f && s >= f->bstart && s < f->bend) return f;
  }
  return NULL;
}

/* Whether N holds a `finally` of its own function (not of a nested function's). */
static bool has_own_finally(TSNode n) {
  uint32_t nc = ts_node_named_child_count(n);
  for (uint32_t i = 0; i < nc; i++) {
    TSNode c = ts_node_named_child(n, i);
    const char *t = ts_node_type(c);
    if (!strcmp(t, "finally_clause")) return true;
    if (!is_function_node(t) && strcmp(t, "class_body") && has_own_finally(c)) return true;
  }
  return false;
}

/* A `return` of a function that ends where it returns (PLAIN_BIT): the call ends once the
 * returned value is computed. */
static int instrument_return(rw *w, TSNode n) {
  for (TSNode p = ts_node_parent(n); !ts_node_is_null(p); p = ts_node_parent(p)) {
    if (!is_function_node(ts_node_type(p))) continue;
    const fnode *f = find_fnode(w, ts_node_start_byte(p), ts_node_end_byte(p));
    if (!f || !f->plain) return 0;
    uint32_t ns = ts_node_start_byte(n), kw = ns + 6; /* after `return` */
    TSNode arg = {0};
    for (uint32_t i = 0; i < ts_node_named_child_count(n); i++) {
      TSNode c = ts_node_named_child(n, i);
      if (strcmp(ts_node_type(c), "comment")) {
        arg = c;
        break;
      }
    }
    if (ts_node_is_null(arg) || breaks_line(w->src, kw, ts_node_start_byte(arg)))
      return add_ins(w, kw, ns, INS_RET_BARE, 0);
    /* `return a, b` returns b: as x()'s arguments the comma would pass a instead. */
    uint32_t seq = strcmp(ts_node_type(arg), "sequence_expression") == 0;
    int rc = add_ins(w, kw, ns, INS_RET_OPEN, seq);
    return rc ? rc : add_ins(w, code_end(arg), ns, INS_RET_CLOSE, seq);
  }
  return 0;
}

static int instrument_node(rw *w, TSNode fn) {
  TSNode body = ts_node_child_by_field_name(fn, "body", 4);
  if (ts_node_is_null(body)) return 0; /* overload signature, abstract method */
  int k = match_func(w, ts_node_start_byte(fn), ts_node_end_byte(fn));
  if (k < 0) return 0;
  w->used[k] = true;
  if (w->slots && ((size_t)k >= w->nslots || w->slots[k] < 0)) return 0;
  bool gen = false, suspends = can_suspend(fn, &gen);
  w->r->fns[k].is_generator = gen;
  uint32_t n = w->slots ? (uint32_t)w->slots[k] : (uint32_t)k, ns = ts_node_start_byte(fn);
  uint32_t bs = ts_node_start_byte(body), be = code_end(body);
  bool plain = !suspends && !has_own_finally(body);
  uint32_t open_n = n | (suspends ? SUSP_BIT : 0) | (plain ? PLAIN_BIT : 0);
  int rc;
  fnode *parent = lexical_parent(w, fn);
  size_t open = w->nins;
  if (strcmp(ts_node_type(body), "statement_block") == 0) {
    if (be - bs < 2 || !hsn_body_takes_a_block(w->src, fn, body)) return 0;
    uint32_t d = directives_end(body);
    rc = d ? add_ins(w, d, ns, INS_OPEN_DIRECTIVE, open_n) : add_ins(w, bs + 1, ns, INS_OPEN_BLOCK, open_n);
    if (!rc) rc = add_ins(w, be - 1, ns, INS_CLOSE_BLOCK, open_n);
  } else {
    /* V8 reads `=> {` as a block: an expression body that starts with `{` does not compile. */
    if (w->src[bs] == '{') return 0;
    rc = add_ins(w, bs, ns, INS_OPEN_EXPR, open_n);
    if (!rc) rc = add_ins(w, be, ns, INS_CLOSE_EXPR, open_n);
  }
  if (!rc && parent) {
    w->ins[open].parent = parent->n;
    w->ins[parent->open].decl = true;
  }
  if (!rc) rc = add_fnode(w, (fnode){ns, ts_node_end_byte(fn), bs, be, open, n, suspends, plain});
  if (!rc && suspends) w->nsuspending++;
  if (!rc) w->instrumented++;
  return rc;
}

static int add_leaf(rw *w, uint32_t off) {
  if (grow(&w->leaves, &w->capleaves, w->nleaves, sizeof *w->leaves, 1024)) return HUD_ENOMEM;
  w->leaves[w->nleaves++] = off;
  return 0;
}

/* Depth-first walk: instruments function nodes and records every token start. */
static int walk(rw *w, TSNode root) {
  TSTreeCursor cur = ts_tree_cursor_new(root);
  int rc = 0;
  for (;;) {
    TSNode n = ts_tree_cursor_current_node(&cur);
    if (ts_node_child_count(n) == 0) {
      if (ts_node_end_byte(n) > ts_node_start_byte(n)) rc = add_leaf(w, ts_node_start_byte(n));
    } else if (ts_node_is_named(n) && is_function_node(ts_node_type(n))) {
      rc = instrument_node(w, n);
    } else if (ts_node_is_named(n) && !strcmp(ts_node_type(n), "return_statement")) {
      rc = instrument_return(w, n);
    } else if (ts_node_is_named(n) && w->nsuspending) {
      rc = instrument_suspension(w, n);
    }
    if (rc) break;
    if (ts_tree_cursor_goto_first_child(&cur)) continue;
    while (!ts_tree_cursor_goto_next_sibling(&cur))
      if (!ts_tree_cursor_goto_parent(&cur)) goto done;
  }
done:
  ts_tree_cursor_delete(&cur);
  return rc;
}

/* An OPEN's declarations: enter(), given the lexical parent's flow (__hud_f<parent>) when there
 * is one, then this call's flow kept for nested functions when it has any. __hud_p is read by a
 * call, __hud.p(), not a load of __hud.c: V8 names an anonymous function that has no name of its
 * own (a promise executor, an arrow in an array) after a declaration that opens its body with
 * a load (`at __hud_p (...)` in error.stack), never after one that opens with a call. */
static void open_decls(const ins *in, char *buf, size_t cap) {
  uint32_t n = in->n & ~(SUSP_BIT | PLAIN_BIT);
  char arg[24] = "", keep[40] = "";
  bool susp = (in->n & SUSP_BIT) != 0;
  if (in->parent >= 0) snprintf(arg, sizeof arg, ",__hud_f%u", (unsigned)in->parent);
  if (in->decl) snprintf(keep, sizeof keep, ",__hud_f%u=__hud.f", n);
  snprintf(buf, cap, "%s __hud_p=__hud.p(),__hud_h=__hud.enter(__hud_b+%u%s)%s%s", susp ? "let" : "const", n, arg,
           susp ? ",__hud_i=__hud.i(__hud_h),__hud_z=0" : "", keep);
}

/* The text of insertion IN (SRC: the source, for a for-await's expression). */
static const char *ins_text(const ins *in, const char *src, char *buf, size_t cap) {
  int kind = in->kind;
  uint32_t n = in->n;
  char decls[256];
  switch (kind) {
  case INS_PROLOGUE: return NULL;
  case INS_OPEN_DIRECTIVE:
  case INS_OPEN_BLOCK:
    open_decls(in, decls, sizeof decls);
    snprintf(buf, cap, "%s%s;try{", kind == INS_OPEN_DIRECTIVE ? ";" : "", decls);
    break;
  case INS_OPEN_EXPR:
    open_decls(in, decls, sizeof decls);
    snprintf(buf, cap, "{" MARK "%s;try{return%s", decls, n & PLAIN_BIT ? RET_X : "(");
    break;
  case INS_CLOSE_BLOCK:
  case INS_CLOSE_EXPR:
    if (n & PLAIN_BIT) {
      snprintf(buf, cap, "%s}catch(__hud_e){__hud.fail(__hud_h,__hud_p,__hud_e);" EXIT ";throw __hud_e}%s",
               kind == INS_CLOSE_EXPR ? MARK ")" : "", kind == INS_CLOSE_EXPR ? "}" : EXIT);
      break;
    }
    /* A function that can suspend may end resumed by a rejection, gen.return() or gen.throw()
     * with nothing of its own run since: RESUME first, so that it gives back what is current. */
    snprintf(buf, cap,
             "%s}catch(__hud_e){__hud.fail(__hud_h,__hud_p,__hud_e%s);throw __hud_e}"
             "finally{%s__hud.exit(__hud_h,__hud_p)}%s",
             kind == INS_CLOSE_EXPR ? MARK ")" : "", n & SUSP_BIT ? ",__hud_i" : "", n & SUSP_BIT ? RESUME ";" : "",
             kind == INS_CLOSE_EXPR ? "}" : "");
    break;
  case INS_RET_OPEN: return n ? RET_X MARK "(" : RET_X;
  case INS_RET_BARE: return " __hud.x(__hud_h,__hud_p)";
  case INS_RET_CLOSE: return n ? MARK ")" MARK ")" : MARK ")";
  case INS_RESUME_OPEN: return "__hud.v(";
  case INS_SUSPEND: return " __hud.s(__hud_h,__hud_p,";
  case INS_RESUME_CLOSE: return ",__hud_z=1)" RESUME_ARG ")";
  case INS_SUSPEND_BARE: return " __hud.s(__hud_h,__hud_p,void 0,__hud_z=1)" RESUME_ARG ")";
  case INS_RESUME_STMT: return RESUME ";";
  case INS_FA_BLOCK: return "{" MARK;
  case INS_FA_OPEN: return " __hud.fa(__hud_h,()=>(__hud_z=1,__hud_p),"; /* minified `of(x)`: not `of__hud` */
  case INS_FA_BODY_OPEN: return "{" MARK RESUME ";";
  case INS_FA_CLOSE: /* n: 1 + the start of X when its text goes along (plain_chain), else 0 */
    if (!n) return MARK ")";
    if (n & FA_CALL_BIT) { /* the callee: the chain's characters from X's start */
      const char *c = src + (n & ~FA_CALL_BIT) - 1, *e = c;
      while (chain_char(*e)) e++;
      snprintf(buf, cap, MARK ",\"%.*s(...)\")", (int)(e - c), c);
      break;
    }
    snprintf(buf, cap, MARK ",\"%.*s\")", (int)(in->off - (n - 1)), src + n - 1);
    break;
  case INS_FA_BODY_CLOSE: return MARK "}";
  case INS_FA_END: return ";" RESUME "}";
  }
  return buf;
}

/* UTF-16 units of the UTF-8 byte C (counted on lead bytes; invalid bytes count one). */
static unsigned utf16_units(unsigned char c) {
  if (c >= 0x80 && c < 0xc0) return 0;
  return c >= 0xf0 ? 2 : 1;
}

/* Whether byte P ends a line as V8 counts lines: \n, \r not followed by \n, U+2028, U+2029
 * (the last byte of E2 80 A8 / E2 80 A9). Stack frames' line numbers are V8's. */
static bool ends_line(const char *src, size_t len, size_t p) {
  unsigned char c = (unsigned char)src[p];
  if (c == '\n') return true;
  if (c == '\r') return p + 1 >= len || src[p + 1] != '\n';
  return (c == 0xa8 || c == 0xa9) && p >= 2 && (unsigned char)src[p - 2] == 0xe2 &&
         (unsigned char)src[p - 1] == 0x80;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void vlq(hud_buf *m, long v) {
  unsigned long u = v < 0 ? ((unsigned long)(-v) << 1) | 1u : (unsigned long)v << 1;
  do {
    unsigned digit = u & 31u;
    u >>= 5;
    if (u) digit |= 32u;
    hud_buf_putc(m, b64[digit]);
  } while (u);
}

typedef struct mapstate {
  long prev_gen_col, prev_line, prev_col;
  bool line_has_seg;
} mapstate;

static void map_segment(hud_buf *m, mapstate *st, long gen_col, long line, long col) {
  if (st->line_has_seg) hud_buf_putc(m, ',');
  vlq(m, gen_col - st->prev_gen_col);
  vlq(m, 0);
  vlq(m, line - st->prev_line);
  vlq(m, col - st->prev_col);
  st->prev_gen_col = gen_col;
  st->prev_line = line;
  st->prev_col = col;
  st->line_has_seg = true;
}

static int emit(rw *w, const char *source_url, hsn_result *r) {
  hud_buf code = {0}, map = {0};
  mapstate st = {0};
  size_t ii = 0, li = 0;
  uint32_t line = 0, col = 0, shift = 0;
  bool line_start = true;
  char buf[512];
  if (!(r->ins = calloc(w->nins + 1, sizeof *r->ins))) return HUD_ENOMEM; /* + a ';' */
  hud_buf_puts(&map, "{\"version\":3,\"sources\":[");
  sbuf_json_str(&map, source_url ? source_url : "");
  hud_buf_puts(&map, "],\"names\":[],\"mappings\":\"");
  for (size_t p = 0; p <= w->len; p++) {
    for (; ii < w->nins && w->ins[ii].off == p; ii++) {
      const ins *in = &w->ins[ii];
      const char *t = in->kind == INS_PROLOGUE ? w->prologue : ins_text(in, w->src, buf, sizeof buf);
      if (w->ins[ii].kind == INS_PROLOGUE && w->prologue_semi) {
        r->ins[r->nins++] = (hsn_insert){line, col + shift, 1};
        hud_buf_putc(&code, ';');
        shift++;
      }
      size_t tl = strlen(t);
      r->ins[r->nins++] = (hsn_insert){line, col + shift, (uint32_t)tl};
      hud_buf_put(&code, t, tl);
      shift += (uint32_t)tl;
    }
    if (p == w->len) break;
    bool leaf = false;
    while (li < w->nleaves && w->leaves[li] <= p) leaf |= w->leaves[li++] == p;
    if (leaf || line_start) map_segment(&map, &st, (long)(col + shift), (long)line, (long)col);
    line_start = false;
    unsigned char c = (unsigned char)w->src[p];
    hud_buf_putc(&code, (char)c);
    if (ends_line(w->src, w->len, p)) {
      line++, col = 0, shift = 0, line_start = true;
      hud_buf_putc(&map, ';');
      st.prev_gen_col = 0;
      st.line_has_seg = false;
    } else {
      col += utf16_units(c);
    }
  }
  hud_buf_puts(&map, "\"}");
  if (code.oom || map.oom) {
    hud_buf_free(&code);
    hud_buf_free(&map);
    return HUD_ENOMEM;
  }
  r->code = hud_buf_take(&code, &r->code_len);
  r->map = hud_buf_take(&map, NULL);
  return 0;
}

static const TSLanguage *ts_lang(hud_lang lang) {
  switch (lang) {
  case HUD_LANG_JAVASCRIPT: return tree_sitter_javascript();
  case HUD_LANG_TYPESCRIPT: return tree_sitter_typescript();
  case HUD_LANG_TSX: return tree_sitter_tsx();
  default: return NULL;
  }
}

static int fill_table(const hud_index_result *idx, hsn_result *r) {
  if (!(r->fns = calloc(idx->nfuncs ? idx->nfuncs : 1, sizeof *r->fns))) return HUD_ENOMEM;
  for (size_t i = 0; i < idx->nfuncs; i++) {
    const hud_index_func *f = &idx->funcs[i];
    hsn_fn *d = &r->fns[i];
    if (!(d->qualname = strdup(f->qualname))) return HUD_ENOMEM;
    r->nfns = i + 1;
    memcpy(d->function_id, f->function_id, sizeof d->function_id);
    d->start_line = f->start_line;
    d->end_line = f->end_line;
    d->is_async = f->is_async;
    memcpy(d->source_hash, f->source_code_hash, sizeof d->source_hash);
  }
  return 0;
}

/* The prologue goes first, or at the start of line 2 after a hashbang line. */
static uint32_t prologue_offset(const char *src, size_t len) {
  if (len < 2 || src[0] != '#' || src[1] != '!') return 0;
  const char *nl = memchr(src, '\n', len);
  return nl ? (uint32_t)(nl + 1 - src) : (uint32_t)len;
}

int hsn_rewrite(hud_indexer *ix, hud_lang lang, const char *module_path, const char *source_url,
                const char *src, size_t len, const char *prologue, hsn_result **out) {
  return hsn_rewrite_slots(ix, lang, module_path, source_url, src, len, prologue, NULL, 0, out);
}

int hsn_rewrite_slots(hud_indexer *ix, hud_lang lang, const char *module_path,
                      const char *source_url, const char *src, size_t len, const char *prologue,
                      const int32_t *slots, size_t nslots, hsn_result **out) {
  const TSLanguage *tl = ts_lang(lang);
  if (!ix || !tl || !module_path || !src || !out) return HUD_EINVAL;
  *out = NULL;
  hud_index_result *idx = NULL;
  int rc = hud_indexer_run(ix, lang, module_path, src, len, NULL, &idx);
  if (rc) return rc;
  hsn_result *r = calloc(1, sizeof *r);
  rw w = {.src = src, .len = len, .idx = idx, .prologue = prologue, .r = r, .slots = slots, .nslots = nslots};
  TSParser *parser = ts_parser_new();
  TSTree *tree = NULL;
  if (!r || !parser) {
    rc = HUD_ENOMEM;
    goto out;
  }
  r->parse_errors = idx->parse_errors;
  if ((rc = fill_table(idx, r))) goto out;
  w.order = malloc((idx->nfuncs + 1) * sizeof *w.order);
  w.used = calloc(idx->nfuncs + 1, sizeof *w.used);
  if (!w.order || !w.used) {
    rc = HUD_ENOMEM;
    goto out;
  }
  for (size_t i = 0; i < idx->nfuncs; i++)
    w.order[i] = (fkey){idx->funcs[i].end_byte, idx->funcs[i].start_byte, (uint32_t)i};
  if (idx->nfuncs) qsort(w.order, idx->nfuncs, sizeof *w.order, cmp_func_end);
  ts_parser_set_language(parser, tl);
  if (!(tree = ts_parser_parse_string(parser, NULL, src, (uint32_t)len))) {
    rc = HUD_ENOMEM;
    goto out;
  }
  /* A tree with errors is left as it is: an insertion inside a misparsed region could turn
   * valid code the grammar does not know into invalid code. */
  if (!idx->parse_errors) {
    if (prologue && *prologue && !strchr(prologue, '\n')) {
      uint32_t d = directives_end(ts_tree_root_node(tree));
      w.prologue_semi = d != 0;
      rc = add_ins(&w, d ? d : prologue_offset(src, len), 0, INS_PROLOGUE, 0);
    }
    if (rc || (rc = walk(&w, ts_tree_root_node(tree)))) goto out;
    if (w.nins) qsort(w.ins, w.nins, sizeof *w.ins, cmp_ins);
    if (w.nleaves) qsort(w.leaves, w.nleaves, sizeof *w.leaves, cmp_u32);
  }
  rc = emit(&w, source_url, r);
  r->instrumented = w.instrumented;
out:
  if (tree) ts_tree_delete(tree);
  if (parser) ts_parser_delete(parser);
  free(w.order);
  free(w.used);
  free(w.ins);
  free(w.leaves);
  free(w.fnodes);
  hud_index_result_free(idx);
  if (rc) {
    hsn_result_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

int hsn_parses_cleanly(hud_lang lang, const char *code, size_t len, bool *clean) {
  const TSLanguage *tl = ts_lang(lang);
  if (!tl || !code || !clean) return HUD_EINVAL;
  if (len > UINT32_MAX) return HUD_ETOOBIG;
  TSParser *parser = ts_parser_new();
  if (!parser) return HUD_ENOMEM;
  ts_parser_set_language(parser, tl);
  TSTree *tree = ts_parser_parse_string(parser, NULL, code, (uint32_t)len);
  if (tree) {
    *clean = !ts_node_has_error(ts_tree_root_node(tree));
    ts_tree_delete(tree);
  }
  ts_parser_delete(parser);
  return tree ? 0 : HUD_ENOMEM;
}

void hsn_result_free(hsn_result *r) {
  if (!r) return;
  for (size_t i = 0; i < r->nfns; i++) free(r->fns[i].qualname);
  free(r->fns);
  free(r->code);
  free(r->map);
  free(r->ins);
  free(r);
}
