/* The Node sensor's rewrite (sensor/node/src/rewrite.c) under ASan/UBSan: exact output for
 * the forms it covers, the insertion list, the source map's shape, and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hud/err.h"
#include "hud/index.h"
#include "positions.h"
#include "rewrite.h"

#define OPEN(k) "const __hud_p=__hud.p(),__hud_h=__hud.enter(__hud_b+" #k ");try{"
#define RES "__hud_p=__hud.r(__hud_h,__hud_p,__hud_i,__hud_z),__hud_z=0"
#define OPENS(k) "let __hud_p=__hud.p(),__hud_h=__hud.enter(__hud_b+" #k "),__hud_i=__hud.i(__hud_h),__hud_z=0;try{" /* can suspend */
/* Taking the lexical parent's flow (P), keeping its own for nested functions (D), both. */
#define OPENP(k, p) "const __hud_p=__hud.p(),__hud_h=__hud.enter(__hud_b+" #k ",__hud_f" #p ");try{"
#define OPEND(k) "const __hud_p=__hud.p(),__hud_h=__hud.enter(__hud_b+" #k "),__hud_f" #k "=__hud.f;try{"
#define OPENPD(k, p) "const __hud_p=__hud.p(),__hud_h=__hud.enter(__hud_b+" #k ",__hud_f" #p "),__hud_f" #k "=__hud.f;try{"
/* A function ending in a finally of ours (it has a finally of its own), ending where it returns
 * (a block body: CLOSE; an expression body: RETX ... CLOSEX), and its `return X` (RET X ")"). */
#define CLOSEF "}catch(__hud_e){__hud.fail(__hud_h,__hud_p,__hud_e);throw __hud_e}finally{__hud.exit(__hud_h,__hud_p)}"
#define CATCH "}catch(__hud_e){__hud.fail(__hud_h,__hud_p,__hud_e);__hud.exit(__hud_h,__hud_p);throw __hud_e}"
#define CLOSE CATCH "__hud.exit(__hud_h,__hud_p)"
#define RET " __hud.x(__hud_h,__hud_p,"
#define RETX "return" RET
/* The mark of an insertion that alone could be a bracket of the source's (lib/fntext.js). */
#define M "/*__hud*/"
#define RETC M ")"
#define CLOSEX M ")" CATCH
#define CLOSES /* can suspend */ \
  "}catch(__hud_e){__hud.fail(__hud_h,__hud_p,__hud_e,__hud_i);throw __hud_e}finally{" RES ";" \
  "__hud.exit(__hud_h,__hud_p)}"

static hsn_result *rewrite(hud_indexer *ix, const char *src, const char *prologue) {
  hsn_result *r = NULL;
  assert_int_equal(hsn_rewrite(ix, HUD_LANG_JAVASCRIPT, "m.js", "file:///m.js", src, strlen(src),
                               prologue, &r),
                   0);
  return r;
}

static void rewrites_blocks_arrows_and_directives(void **state) {
  hud_indexer *ix = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  hsn_result *r = rewrite(ix,
                          "'use strict'\n"
                          "function f() { 'use strict'; return 1 }\n"
                          "const g = (x) => x + 1;\n"
                          "function e() {}\n",
                          "P;");
  assert_string_equal(r->code, "'use strict';P;\n"
                               "function f() { 'use strict';;" OPEN(0) " return" RET " 1" RETC " " CLOSE "}\n"
                               "const g = (x) => {" M OPEN(1) RETX "x + 1" CLOSEX "};\n"
                               "function e() {" OPEN(2) CLOSE "}\n");
  assert_int_equal(r->instrumented, 3);
  assert_int_equal(r->nfns, 3);
  assert_string_equal(r->fns[0].qualname, "f");
  assert_string_equal(r->fns[1].qualname, "g");
  char id[HUD_UUID_STRLEN + 1];
  assert_int_equal(hud_function_id("m.js", "g", id), 0);
  assert_string_equal(r->fns[1].function_id, id);
  /* Insertions: ';' and the prologue on line 0, then two per function and per return, in
   * generated order. */
  assert_int_equal(r->nins, 10);
  assert_int_equal(r->ins[0].line, 0);
  assert_int_equal(r->ins[0].gen_col, 12);
  assert_int_equal(r->ins[0].len, 1);
  assert_int_equal(r->ins[1].gen_col, 13);
  assert_int_equal(r->ins[1].len, 2);
  assert_int_equal(r->ins[2].line, 1);
  assert_int_equal(r->ins[2].gen_col, strlen("function f() { 'use strict';"));
  /* The map has one ';' per source line break and names the source. */
  const char *m = strstr(r->map, "\"mappings\":\"");
  assert_non_null(m);
  size_t semis = 0;
  for (const char *p = m; *p; p++) semis += *p == ';';
  assert_int_equal(semis, 4);
  assert_non_null(strstr(r->map, "\"sources\":[\"file:///m.js\"]"));
  hsn_result_free(r);
  hud_indexer_free(ix);
}

static void nested_arrows_close_inner_first(void **state) {
  hud_indexer *ix = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  hsn_result *r = rewrite(ix, "const c = (a) => (b) => a + b;", NULL);
  assert_string_equal(r->code, "const c = (a) => {" M OPEND(0) RETX "(b) => {" M OPENP(1, 0) RETX "a + b" CLOSEX
                               "}" CLOSEX "};");
  hsn_result_free(r);
  hud_indexer_free(ix);
}

/* A nested function takes the flow of the nearest instrumented function whose body holds it; a
 * parameter's default is outside the body (the body's declarations are not visible there). */
static void nested_functions_take_the_lexical_flow(void **state) {
  hud_indexer *ix = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  hsn_result *r = rewrite(ix, "function a(cb = () => 1) { return function b() { return () => 2 } }", NULL);
  assert_string_equal(r->code, "function a(cb = () => {" M OPEN(1) RETX "1" CLOSEX "}) {" OPEND(0)
                               " return" RET " function b() {" OPENPD(2, 0) " return" RET " () => {" M OPENP(3, 2) RETX "2"
                               CLOSEX "}" RETC " " CLOSE "}" RETC " " CLOSE "}");
  hsn_result_free(r);
  hud_indexer_free(ix);
}

static void columns_count_utf16_units(void **state) {
  hud_indexer *ix = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  /* "é" is 2 bytes, 1 UTF-16 unit; "😀" 4 bytes, 2 units. */
  hsn_result *r = rewrite(ix, "const s = 'é😀'; function f() {}", NULL);
  assert_int_equal(r->nins, 2);
  assert_int_equal(r->ins[0].gen_col, strlen("const s = 'x12'; function f() {"));
  hsn_result_free(r);
  hud_indexer_free(ix);
}

static void lines_end_where_v8_ends_them(void **state) {
  hud_indexer *ix = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  /* A lone \r and U+2028 (in a string) end lines for V8; \r\n is one line end. */
  hsn_result *r = rewrite(ix, "const a = 1;\rconst s = '\xe2\x80\xa8';\r\nfunction f() {}", NULL);
  assert_int_equal(r->nins, 2);
  assert_int_equal(r->ins[0].line, 3);
  assert_int_equal(r->ins[0].gen_col, strlen("function f() {"));
  hsn_result_free(r);
  hud_indexer_free(ix);
}

static void typescript_signatures_are_not_functions(void **state) {
  hud_indexer *ix = NULL;
  hsn_result *r = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  const char *src = "abstract class A { abstract m(): void; n(x: number): number { return x } }\n"
                    "function o(a: string): void;\nfunction o(a: any) {}\n";
  assert_int_equal(hsn_rewrite(ix, HUD_LANG_TYPESCRIPT, "a.ts", "", src, strlen(src), NULL, &r), 0);
  assert_int_equal(r->instrumented, 2);
  assert_string_equal(r->fns[0].qualname, "A.n");
  assert_non_null(strstr(r->code, "abstract m(): void; n(x: number): number {" OPEN(0) " return" RET " x" RETC " " CLOSE "}"));
  assert_non_null(strstr(r->code, "function o(a: string): void;\nfunction o(a: any) {" OPEN(1) CLOSE "}"));
  hsn_result_free(r);
  hud_indexer_free(ix);
}

static void syntax_errors_leave_the_source_alone(void **state) {
  hud_indexer *ix = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  const char *src = "function f() { return 1 }\nfunction g( {\n";
  hsn_result *r = rewrite(ix, src, "P;");
  assert_true(r->parse_errors);
  assert_int_equal(r->instrumented, 0);
  assert_string_equal(r->code, src);
  hsn_result_free(r);
  hud_indexer_free(ix);
}

/* Only a function's own returns end its call; one with a finally of its own (which runs after
 * its return, in the call) ends in a finally of ours; a bare return, one whose value is on
 * the next line (ASI: returns undefined) and one of a sequence (`return a, b` returns b, as
 * TypeScript's scanner relies on) keep their meaning; a bare return right before the body's end
 * (minified: `return}`) ends before the body's close. */
static void calls_end_where_they_return(void **state) {
  hud_indexer *ix = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  hsn_result *r = rewrite(ix,
                          "function a(x) { if (x) return; try { return b(x) } catch (e) { return 2 } }\n"
                          "function c() { try { return 1 } finally { d(function () { return 3 }) } }\n"
                          "function z() { return\n 5 }\n"
                          "function k() { return {v: 1}}\n"
                          "function s() { return p += 2, t = 3 }\n"
                          "function m(a){if(a)return}\n",
                          NULL);
  assert_string_equal(r->code,
                      "function a(x) {" OPEN(0) " if (x) return __hud.x(__hud_h,__hud_p); try { return" RET
                      " b(x)" RETC " } catch (e) { return" RET " 2" RETC " } " CLOSE "}\n"
                      "function c() {" OPEND(1) " try { return 1 } finally { d(function () {" OPENP(2, 1) " return" RET
                      " 3" RETC " " CLOSE "}) } " CLOSEF "}\n"
                      "function z() {" OPEN(3) " return __hud.x(__hud_h,__hud_p)\n 5 " CLOSE "}\n"
                      "function k() {" OPEN(4) " return" RET " {v: 1}" RETC CLOSE "}\n"
                      "function s() {" OPEN(5) " return" RET M "( p += 2, t = 3" RETC RETC " " CLOSE "}\n"
                      "function m(a){" OPEN(6) "if(a)return __hud.x(__hud_h,__hud_p)" CLOSE "}\n");
  hsn_result_free(r);
  hud_indexer_free(ix);
}

/* A body whose top-level function declaration shares its name with a `var` of the function or
 * with another declaration is left alone: in `try { BODY }` the declaration is block-scoped and
 * the name clashes (SyntaxError; the util package's promisify, bundled by Vue). So is one where a
 * function of that name is declared in a nested block (sloppy code replaces the outer one with it
 * when the block runs, Annex B.3.3, which stops inside `try {}`), and one that declares a
 * parameter again with `let` (a SyntaxError that `try {}` would hide). Nested functions are still
 * instrumented, and a `var` of a nested function does not count. */
static void bodies_that_need_function_scope_are_left_alone(void **state) {
  hud_indexer *ix = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  hsn_result *r = rewrite(ix,
                          "function p(o) { var fn = o.c; function fn() {} return fn }\n"
                          "function d() { function a() {} function a() {} }\n"
                          "function e(x) { for (var [k, {m: q}] of x) {} function q() {} }\n"
                          "function ok() { function z() { var ok2 } var ok2; { let z } }\n"
                          "function b() { { function z() {} } function z() {} }\n"
                          "function c(a, {b}) { let b; }\n",
                          NULL);
  assert_string_equal(r->code,
                      "function p(o) { var fn = o.c; function fn() {" OPEN(1) CLOSE "} return fn }\n"
                      "function d() { function a() {" OPEN(3) CLOSE "} function a() {" OPEN(4) CLOSE "} }\n"
                      "function e(x) { for (var [k, {m: q}] of x) {} function q() {" OPEN(6) CLOSE "} }\n"
                      "function ok() {" OPEND(7) " function z() {" OPENP(8, 7) " var ok2 " CLOSE "} var ok2; { let z } " CLOSE "}\n"
                      "function b() { { function z() {" OPEN(10) CLOSE "} } function z() {" OPEN(11) CLOSE "} }\n"
                      "function c(a, {b}) { let b; }\n");
  assert_int_equal(r->instrumented, 8);
  hsn_result_free(r);
  hud_indexer_free(ix);
}

/* The ES module loader's check of a rewrite: a text whose function close went into a comment
 * (the rewrite's bug before comments_after_a_brace_stay_after_it) does not parse cleanly. */
static void parses_cleanly_tells_a_broken_rewrite(void **state) {
  bool clean = false;
  const char *good = "function t(v) {" OPEN(0) "\n  v++;\n" CLOSE "} // note.\n";
  const char *bad = "function t(v) {" OPEN(0) "\n  v++;\n} // note" CLOSE "}.\n";
  assert_int_equal(hsn_parses_cleanly(HUD_LANG_JAVASCRIPT, good, strlen(good), &clean), 0);
  assert_true(clean);
  assert_int_equal(hsn_parses_cleanly(HUD_LANG_JAVASCRIPT, bad, strlen(bad), &clean), 0);
  assert_false(clean);
  assert_int_equal(hsn_parses_cleanly(HUD_LANG_PYTHON, good, strlen(good), &clean), HUD_EINVAL);
}

/* Compiled TypeScript: the caller numbers the functions (the .ts table) and leaves some out. */
static void slots_renumber_and_leave_out(void **state) {
  hud_indexer *ix = NULL;
  hsn_result *r = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  const char *src = "function a() { return 1 }\nfunction b() { return 2 }\nconst c = () => 3;\n";
  const int32_t slots[] = {-1, 7};
  assert_int_equal(hsn_rewrite_slots(ix, HUD_LANG_JAVASCRIPT, "m.js", "", src, strlen(src), NULL, slots,
                                     2, &r),
                   0);
  assert_int_equal(r->instrumented, 1);
  assert_string_equal(r->code, "function a() { return 1 }\n"
                               "function b() {" OPEN(7) " return" RET " 2" RETC " " CLOSE "}\n"
                               "const c = () => 3;\n");
  assert_int_equal(r->nfns, 3); /* the index's own table is still reported */
  hsn_result_free(r);
  hud_indexer_free(ix);
}

/* Async functions and generators: await/yield pop and push the shadow stack, catch/finally
 * blocks and for-await loops resume; sync functions and top-level await are left alone. */
#define R "__hud.v("
#define S " __hud.s(__hud_h,__hud_p,"
#define RC ",__hud_z=1)," RES ")"
#define R0 RES ";"
#define FA "__hud.fa(__hud_h,()=>(__hud_z=1,__hud_p),"
static void suspensions_pop_and_push(void **state) {
  hud_indexer *ix = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  hsn_result *r = rewrite(ix,
                          "async function a(x) { try { await x } catch (e) { f() } }\n"
                          "function* g() { const v = yield 1; yield; yield* g() }\n"
                          "async () => await await x;\n"
                          "function s() { try { f() } catch { } }\n"
                          "await top;\n",
                          NULL);
  assert_string_equal(r->code,
                      "async function a(x) {" OPENS(0) " try { " R "await" S " x" RC " } catch (e) {" R0
                      " f() } " CLOSES "}\n"
                      "function* g() {" OPENS(1) " const v = " R "yield" S " 1" RC "; " R "yield __hud.s(__hud_h,__hud_p,void 0" RC "; " R
                      "yield*" S " g()" RC " " CLOSES "}\n"
                      "async () => {" M OPENS(2) "return(" R "await" S " " R "await" S " x" RC RC M ")" CLOSES "};\n"
                      "function s() {" OPEN(3) " try { f() } catch { } " CLOSE "}\n"
                      "await top;\n");
  assert_false(r->fns[0].is_generator);
  assert_true(r->fns[1].is_generator);
  hsn_result_free(r);
  r = rewrite(ix,
              "async function l(it) { for await (const x of it) f(x); out: for await (const y of it) { g(y) } }\n",
              NULL);
  /* A name is given as text too: the runtime throws V8's "it is not async iterable" itself. */
  assert_string_equal(r->code, "async function l(it) {" OPENS(0) " {" M "for await (const x of  " FA "it" M ",\"it\")) {" M R0
                               "f(x);" M "};" RES "} {" M "out: for await (const y of  " FA "it" M ",\"it\")) {" R0
                               " g(y) };" RES "} " CLOSES "}\n");
  hsn_result_free(r);
  /* So is a chain of names written without spaces; anything else is not. */
  r = rewrite(ix, "async function n(o) { for await (const x of this.q.r) f(x); for await (const y of o . a) f(y) }\n", NULL);
  assert_string_equal(r->code, "async function n(o) {" OPENS(0) " {" M "for await (const x of  " FA "this.q.r" M ",\"this.q.r\")) {" M R0
                               "f(x);" M "};" RES "} {" M "for await (const y of  " FA "o . a" M ")) {" M R0 "f(y)" M "};" RES "} " CLOSES "}\n");
  hsn_result_free(r);
  /* A call of such a chain gives its text as V8 prints it; an optional call (which V8 words
   * otherwise) does not, nor a call of anything else. */
  r = rewrite(ix, "async function c(o) { for await (const x of this.q.r(1, o)) f(x); for await (const y of o.a?.()) f(y) }\n", NULL);
  assert_string_equal(r->code, "async function c(o) {" OPENS(0) " {" M "for await (const x of  " FA "this.q.r(1, o)" M ",\"this.q.r(...)\")) {"
                               M R0 "f(x);" M "};" RES "} {" M "for await (const y of  " FA "o.a?.()" M ")) {" M R0 "f(y)" M "};" RES "} " CLOSES "}\n");
  hsn_result_free(r);
  /* A chain with an index that is a name or a decimal number is given as text too; another
   * index (a string, a chain) is not. */
  r = rewrite(ix, "async function k(o, i) { for await (const x of o.l[i].z) f(x); for await (const y of o['k']) f(y) }\n", NULL);
  assert_string_equal(r->code, "async function k(o, i) {" OPENS(0) " {" M "for await (const x of  " FA "o.l[i].z" M ",\"o.l[i].z\")) {" M R0
                               "f(x);" M "};" RES "} {" M "for await (const y of  " FA "o['k']" M ")) {" M R0 "f(y)" M "};" RES "} " CLOSES "}\n");
  hsn_result_free(r);
  /* Minified (esbuild): `of(` with no space still parses after the wrapper goes in. */
  r = rewrite(ix, "async function m(it){for await(const x of(0,it))f(x)}\n", NULL);
  assert_string_equal(r->code, "async function m(it){" OPENS(0) "{" M "for await(const x of " FA "(0,it)" M ")){" M R0
                               "f(x)" M "};" RES "}" CLOSES "}\n");
  hsn_result_free(r);
  /* A body that is a `yield` statement starts and ends with it: the yield closes first (axios's
   * minified ES module did not compile). */
  r = rewrite(ix, "async function* o(e,t){for await(const n of e)yield*vt(n,t)}\n", NULL);
  assert_string_equal(r->code, "async function* o(e,t){" OPENS(0) "{" M "for await(const n of  " FA "e" M ",\"e\")){" M R0
                               R "yield*" S "vt(n,t)" RC M "};" RES "}" CLOSES "}\n");
  hsn_result_free(r);
  hud_indexer_free(ix);
}

/* A comment after a closing brace on its line: the grammar hangs it on the block before it (its
 * automatic-semicolon scanner looks past it), so a block's end is its brace, not the node's end.
 * Seen in React's development build. The same holds of a directive's statement. */
static void comments_after_a_brace_stay_after_it(void **state) {
  hud_indexer *ix = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  hsn_result *r = rewrite(ix,
                          "function t(v) {\n  v++;\n} // note.\n"
                          "var f = () => {\n} /* a */ // b.\n"
                          "async function l(it) {\n  for await (const x of it) {\n  } // c.\n  g();\n}\n",
                          NULL);
  assert_string_equal(r->code,
                      "function t(v) {" OPEN(0) "\n  v++;\n" CLOSE "} // note.\n"
                      "var f = () => {" OPEN(1) "\n" CLOSE "} /* a */ // b.\n"
                      "async function l(it) {" OPENS(2) "\n  {" M "for await (const x of  " FA "it" M ",\"it\")) {" R0
                      "\n  };" RES "} // c.\n  g();\n" CLOSES "}\n");
  hsn_result_free(r);
  /* So is a directive's: one with a comment after it is still a directive, and stays first. */
  r = rewrite(ix, "'use strict' // top.\nfunction d() {\n  'use strict' // d.\n  return 1;\n}\n", "P;");
  assert_string_equal(r->code, "'use strict';P; // top.\nfunction d() {\n  'use strict';" OPEN(0) " // d.\n  return" RET " 1" RETC ";\n" CLOSE "}\n");
  hsn_result_free(r);
  hud_indexer_free(ix);
}

/* Source maps count UTF-16 units: é is 2 bytes and 1 unit, U+1F600 4 bytes and 2 units. */
static void points_count_utf16_units(void **state) {
  hud_indexer *ix = NULL;
  hud_index_result *idx = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  const char *src = "const s = '\xc3\xa9\xf0\x9f\x98\x80'; function f() {}\n"
                    "class K {\n  @d m() {}\n}\n";
  assert_int_equal(hud_indexer_run(ix, HUD_LANG_TYPESCRIPT, "a.ts", src, strlen(src), NULL, &idx), 0);
  assert_int_equal(idx->nfuncs, 2);
  uint32_t p[2 * HSN_POINTS_PER_FN];
  assert_int_equal(hsn_points(idx, src, strlen(src), p), 0);
  /* f: "const s = 'é😀'; " is 17 units before `function`, 26 before `f`. */
  assert_int_equal(p[0], 0);
  assert_int_equal(p[1], 17);
  assert_int_equal(p[2], 0);
  assert_int_equal(p[3], 26);
  /* K.m: a TypeScript method starts at its name (its decorators are the class body's). */
  assert_int_equal(p[4], 2);
  assert_int_equal(p[5], 5);
  assert_int_equal(p[6], 2);
  assert_int_equal(p[7], 5);
  hud_index_result_free(idx);
  hud_indexer_free(ix);
}

static void bad_arguments(void **state) {
  hud_indexer *ix = NULL;
  hsn_result *r = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  assert_int_equal(hsn_rewrite(ix, HUD_LANG_PYTHON, "m.py", "", "def f(): pass", 13, NULL, &r),
                   HUD_EINVAL);
  assert_int_equal(hsn_rewrite(NULL, HUD_LANG_JAVASCRIPT, "m.js", "", "x", 1, NULL, &r), HUD_EINVAL);
  assert_null(r);
  /* Empty source: nothing to do, still a result. */
  assert_int_equal(hsn_rewrite(ix, HUD_LANG_JAVASCRIPT, "m.js", "", "", 0, "P;", &r), 0);
  assert_string_equal(r->code, "P;");
  hsn_result_free(r);
  hud_indexer_free(ix);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rewrites_blocks_arrows_and_directives),
      cmocka_unit_test(nested_arrows_close_inner_first),
      cmocka_unit_test(nested_functions_take_the_lexical_flow),
      cmocka_unit_test(calls_end_where_they_return),
      cmocka_unit_test(bodies_that_need_function_scope_are_left_alone),
      cmocka_unit_test(columns_count_utf16_units),
      cmocka_unit_test(lines_end_where_v8_ends_them),
      cmocka_unit_test(typescript_signatures_are_not_functions),
      cmocka_unit_test(syntax_errors_leave_the_source_alone),
      cmocka_unit_test(slots_renumber_and_leave_out),
      cmocka_unit_test(points_count_utf16_units),
      cmocka_unit_test(suspensions_pop_and_push),
      cmocka_unit_test(comments_after_a_brace_stay_after_it),
      cmocka_unit_test(parses_cleanly_tells_a_broken_rewrite),
      cmocka_unit_test(bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
