/* Source index: naming rules per language, identity fields, broken input, limits,
 * incremental edits, and the hud-index program on a real directory tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hud/err.h"
#include "hud/identity.h"
#include "hud/index.h"

static hud_index_result *run(hud_lang lang, const char *src, unsigned flags) {
  hud_indexer *ix = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  hud_index_result *r = NULL;
  hud_index_opts o = {.flags = flags};
  assert_int_equal(hud_indexer_run(ix, lang, "pkg/mod.py", src, strlen(src), &o, &r), 0);
  hud_indexer_free(ix);
  return r;
}

/* Expected function: qualname, kind, start, end, async. */
typedef struct want {
  const char *qualname;
  hud_index_kind kind;
  int start, end;
  bool is_async;
} want;

static void expect(const hud_index_result *r, const want *w, size_t n) {
  for (size_t i = 0; i < r->nfuncs && i < n; i++) {
    const hud_index_func *f = &r->funcs[i];
    if (strcmp(f->qualname, w[i].qualname) || f->kind != w[i].kind ||
        f->start_line != w[i].start || f->end_line != w[i].end || f->is_async != w[i].is_async)
      fail_msg("function %zu: got %s %s %d-%d async=%d, want %s %s %d-%d async=%d", i,
               f->qualname, hud_index_kind_name(f->kind), f->start_line, f->end_line,
               f->is_async, w[i].qualname, hud_index_kind_name(w[i].kind), w[i].start,
               w[i].end, w[i].is_async);
  }
  if (r->nfuncs != n) {
    for (size_t i = 0; i < r->nfuncs; i++) print_message("  got %s\n", r->funcs[i].qualname);
    fail_msg("got %zu functions, want %zu", r->nfuncs, n);
  }
}

static const char PY[] =
    "import functools\n"                                   /* 1 */
    "\n"                                                   /* 2 */
    "def top(a, b=lambda: 1):\n"                           /* 3 */
    "    def inner():\n"                                   /* 4 */
    "        return [lambda: x for x in range(3)]\n"       /* 5 */
    "    return inner\n"                                   /* 6 */
    "\n"                                                   /* 7 */
    "class C:\n"                                           /* 8 */
    "    @staticmethod\n"                                  /* 9 */
    "    @functools.wraps(top)\n"                          /* 10 */
    "    def m(self):\n"                                   /* 11 */
    "        pass  # trailing comment\n"                   /* 12 */
    "        # comment inside the block\n"                 /* 13 */
    "\n"                                                   /* 14 */
    "    async def am(self):\n"                            /* 15 */
    "        yield 1\n"                                    /* 16 */
    "\n"                                                   /* 17 */
    "    class D:\n"                                       /* 18 */
    "        def n(self): return (lambda y: y)\n"          /* 19 */
    "\n"                                                   /* 20 */
    "def g():\n"                                           /* 21 */
    "    global h\n"                                       /* 22 */
    "    def h():\n"                                       /* 23 */
    "        pass\n"                                       /* 24 */
    "    class E:\n"                                       /* 25 */
    "        def k(self):\n"                               /* 26 */
    "            pass\n"                                   /* 27 */
    "    return (lambda: 0 for _ in (lambda: [1])())\n"    /* 28 */
    "\n"                                                   /* 29 */
    "async def co(\n"                                      /* 30 */
    "    x,\n"                                             /* 31 */
    "):\n"                                                 /* 32 */
    "    return '''a\n"                                    /* 33 */
    "b'''\n";                                              /* 34 */

/* The expectations are what CPython 3.11 reports (co_qualname, co_firstlineno, CO_COROUTINE
 * and CO_ASYNC_GENERATOR, ast end_lineno), checked with compile() when written. */
static void test_python_qualnames(void **state) {
  (void)state;
  hud_index_result *r = run(HUD_LANG_PYTHON, PY, 0);
  const want w[] = {
      {"top", HUD_INDEX_FUNCTION, 3, 6, false},
      {"<lambda>", HUD_INDEX_LAMBDA, 3, 3, false}, /* a default value runs in the module */
      {"top.<locals>.inner", HUD_INDEX_NESTED, 4, 5, false},
      {"top.<locals>.inner.<locals>.<listcomp>.<lambda>", HUD_INDEX_LAMBDA, 5, 5, false},
      {"C.m", HUD_INDEX_METHOD, 9, 12, false}, /* first decorator; comments do not count */
      {"C.am", HUD_INDEX_METHOD, 15, 16, true},
      {"C.D.n", HUD_INDEX_METHOD, 19, 19, false},
      {"C.D.n.<locals>.<lambda>", HUD_INDEX_LAMBDA, 19, 19, false},
      {"g", HUD_INDEX_FUNCTION, 21, 28, false},
      {"h", HUD_INDEX_FUNCTION, 23, 24, false}, /* declared global in g */
      {"g.<locals>.E.k", HUD_INDEX_METHOD, 26, 27, false},
      {"g.<locals>.<genexpr>.<lambda>", HUD_INDEX_LAMBDA, 28, 28, false},
      {"g.<locals>.<lambda>", HUD_INDEX_LAMBDA, 28, 28, false}, /* first iterable: outside */
      {"co", HUD_INDEX_FUNCTION, 30, 34, true},
  };
  expect(r, w, sizeof w / sizeof w[0]);
  assert_false(r->parse_errors);
  /* Parents: inner's parent is top; E.k's nearest reported ancestor is g. */
  assert_int_equal(r->funcs[2].parent, 0);
  assert_int_equal(r->funcs[10].parent, 8);
  assert_int_equal(r->funcs[0].parent, -1);
  /* Name range of C.m is the identifier m on line 11. */
  assert_int_equal(r->funcs[4].name_start.row, 10);
  assert_int_equal(r->funcs[4].name_start.column, 8);
  assert_int_equal(r->funcs[4].name_end.column, 9);
  hud_index_result_free(r);
}

static void test_python_312_inlines_comprehensions(void **state) {
  (void)state;
  hud_index_result *r = run(HUD_LANG_PYTHON, PY, HUD_INDEX_PY_INLINE_COMPREHENSIONS);
  assert_string_equal(r->funcs[3].qualname, "top.<locals>.inner.<locals>.<lambda>");
  assert_string_equal(r->funcs[11].qualname, "g.<locals>.<genexpr>.<lambda>"); /* still a scope */
  hud_index_result_free(r);
}

static void test_identity_fields(void **state) {
  (void)state;
  hud_index_result *r = run(HUD_LANG_PYTHON, PY, 0);
  for (size_t i = 0; i < r->nfuncs; i++) {
    const hud_index_func *f = &r->funcs[i];
    char id[HUD_UUID_STRLEN + 1], h[HUD_SHA1_HEXLEN + 1];
    assert_int_equal(hud_function_id("pkg/mod.py", f->qualname, id), 0);
    assert_string_equal(f->function_id, id);
    assert_int_equal(hud_source_hash(PY, strlen(PY), f->start_line, f->end_line, h), 0);
    assert_string_equal(f->source_code_hash, h);
  }
  /* Known value: C.m's lines 9-12, trailing spaces stripped, as the sensor computes it. */
  char h[HUD_SHA1_HEXLEN + 1];
  const char *lines = "    @staticmethod\n    @functools.wraps(top)\n    def m(self):\n"
                      "        pass  # trailing comment\n";
  hud_sha1_hex(lines, strlen(lines), h);
  assert_string_equal(r->funcs[4].source_code_hash, h);
  hud_index_result_free(r);
}

static void test_javascript_naming(void **state) {
  (void)state;
  const char *js =
      "export default function () {}\n"
      "function top(a) { function inner() {} return () => inner(); }\n"
      "async function* agen() {}\n"
      "const arrow = async (x) => x;\n"
      "const obj = { m() {}, n: function() {}, \"p\": () => 1, get g() { return 1 }, nested: { deep() {} } };\n"
      "class C extends B {\n"
      "  constructor() { super(); }\n"
      "  static async sm() {}\n"
      "  #priv() {}\n"
      "  field = () => {};\n"
      "}\n"
      "Foo.prototype.bar = function () {};\n"
      "module.exports.baz = function named() {};\n"
      "const K = class { k() {} };\n"
      "setTimeout(() => 1, 1);\n";
  hud_index_result *r = run(HUD_LANG_JAVASCRIPT, js, 0);
  const want w[] = {
      {"default", HUD_INDEX_FUNCTION, 1, 1, false},
      {"top", HUD_INDEX_FUNCTION, 2, 2, false},
      {"top.inner", HUD_INDEX_NESTED, 2, 2, false},
      {"top.<anonymous>", HUD_INDEX_LAMBDA, 2, 2, false},
      {"agen", HUD_INDEX_FUNCTION, 3, 3, true},
      {"arrow", HUD_INDEX_FUNCTION, 4, 4, true},
      {"obj.m", HUD_INDEX_METHOD, 5, 5, false},
      {"obj.n", HUD_INDEX_METHOD, 5, 5, false},
      {"obj.p", HUD_INDEX_METHOD, 5, 5, false},
      {"obj.get g", HUD_INDEX_METHOD, 5, 5, false},
      {"obj.nested.deep", HUD_INDEX_METHOD, 5, 5, false},
      {"C.constructor", HUD_INDEX_METHOD, 7, 7, false},
      {"C.sm", HUD_INDEX_METHOD, 8, 8, true},
      {"C.#priv", HUD_INDEX_METHOD, 9, 9, false},
      {"C.field", HUD_INDEX_METHOD, 10, 10, false},
      {"Foo.prototype.bar", HUD_INDEX_FUNCTION, 12, 12, false},
      {"named", HUD_INDEX_FUNCTION, 13, 13, false},
      {"K.k", HUD_INDEX_METHOD, 14, 14, false},
      {"<anonymous>", HUD_INDEX_LAMBDA, 15, 15, false},
  };
  expect(r, w, sizeof w / sizeof w[0]);
  hud_index_result_free(r);
}

static void test_typescript_naming(void **state) {
  (void)state;
  const char *ts = "abstract class A { abstract m(): void; n(): number { return 1; } }\n"
                   "function over(a: string): void;\n"
                   "function over(a: any) {}\n"
                   "export const h = <T,>(x: T): T => x;\n"
                   "namespace NS { export function f() {} }\n";
  hud_index_result *r = run(HUD_LANG_TYPESCRIPT, ts, 0);
  const want w[] = {
      {"A.n", HUD_INDEX_METHOD, 1, 1, false}, /* abstract and overload signatures: no body */
      {"over", HUD_INDEX_FUNCTION, 3, 3, false},
      {"h", HUD_INDEX_FUNCTION, 4, 4, false},
      {"NS.f", HUD_INDEX_METHOD, 5, 5, false},
  };
  expect(r, w, sizeof w / sizeof w[0]);
  hud_index_result_free(r);
  r = run(HUD_LANG_TSX, "const App = () => <div onClick={() => go()} />;\n", 0);
  const want wx[] = {{"App", HUD_INDEX_FUNCTION, 1, 1, false},
                     {"App.<anonymous>", HUD_INDEX_LAMBDA, 1, 1, false}};
  expect(r, wx, 2);
  hud_index_result_free(r);
}

static void test_go_naming(void **state) {
  (void)state;
  const char *go = "package main\n"
                   "var handler = func() {}\n"
                   "func F() {\n"
                   "\tf := func() {\n"
                   "\t\tg := func() {}\n"
                   "\t\tg()\n"
                   "\t}\n"
                   "\tf()\n"
                   "}\n"
                   "func (t T) M() {}\n"
                   "func (t *T) P() {}\n"
                   "func (l *List[K]) Push(v K) {}\n";
  hud_index_result *r = run(HUD_LANG_GO, go, 0);
  const want w[] = {
      {"glob..func1", HUD_INDEX_LAMBDA, 2, 2, false},
      {"F", HUD_INDEX_FUNCTION, 3, 9, false},
      {"F.func1", HUD_INDEX_LAMBDA, 4, 7, false},
      {"F.func1.1", HUD_INDEX_LAMBDA, 5, 5, false},
      {"T.M", HUD_INDEX_METHOD, 10, 10, false},
      {"(*T).P", HUD_INDEX_METHOD, 11, 11, false},
      {"(*List[...]).Push", HUD_INDEX_METHOD, 12, 12, false},
  };
  expect(r, w, sizeof w / sizeof w[0]);
  hud_index_result_free(r);
}

static void test_java_naming_and_calls(void **state) {
  (void)state;
  const char *java = "class Outer {\n"
                     "  Outer() {}\n"
                     "  void m() { Runnable r = new Runnable() { public void run() { go(); } }; this.x(1); }\n"
                     "  static class Inner { int f(int a) { return a; } }\n"
                     "  interface I { void g(); default void h() {} }\n"
                     "  enum E { A { void z() {} }; void y() {} }\n"
                     "}\n";
  hud_index_result *r = run(HUD_LANG_JAVA, java, HUD_INDEX_CALLS);
  const want w[] = {
      {"Outer.<init>", HUD_INDEX_METHOD, 2, 2, false},
      {"Outer.m", HUD_INDEX_METHOD, 3, 3, false},
      {"Outer.m.<anonymous>.run", HUD_INDEX_METHOD, 3, 3, false},
      {"Outer.Inner.f", HUD_INDEX_METHOD, 4, 4, false},
      {"Outer.I.h", HUD_INDEX_METHOD, 5, 5, false},
      {"Outer.E.A.z", HUD_INDEX_METHOD, 6, 6, false},
      {"Outer.E.y", HUD_INDEX_METHOD, 6, 6, false},
  };
  expect(r, w, sizeof w / sizeof w[0]);
  assert_int_equal(r->ncalls, 3);
  assert_string_equal(r->calls[0].callee, "Runnable");
  assert_int_equal(r->calls[0].enclosing, 1);
  assert_string_equal(r->calls[1].callee, "go");
  assert_int_equal(r->calls[1].enclosing, 2);
  assert_string_equal(r->calls[2].callee, "this.x");
  assert_int_equal(r->calls[2].enclosing, 1);
  hud_index_result_free(r);
}

static void test_python_calls(void **state) {
  (void)state;
  const char *py = "@deco(setup())\n"
                   "def f(x=default()):\n"
                   "    a.b.c(\n"
                   "        1)\n"
                   "    return [g(y) for y in h()]\n"
                   "main()\n";
  hud_index_result *r = run(HUD_LANG_PYTHON, py, HUD_INDEX_CALLS);
  assert_int_equal(r->nfuncs, 1);
  const struct {
    const char *callee;
    int line, enclosing;
  } w[] = {{"deco", 1, -1}, {"setup", 1, -1}, {"default", 2, -1}, {"a.b.c", 3, 0},
           {"g", 5, 0},     {"h", 5, 0},      {"main", 6, -1}};
  assert_int_equal(r->ncalls, sizeof w / sizeof w[0]);
  for (size_t i = 0; i < r->ncalls; i++) {
    assert_string_equal(r->calls[i].callee, w[i].callee);
    assert_int_equal((int)r->calls[i].start.row + 1, w[i].line);
    assert_int_equal(r->calls[i].enclosing, w[i].enclosing);
  }
  hud_index_result_free(r);
}

static void test_broken_source_keeps_the_rest(void **state) {
  (void)state;
  const char *py = "def before():\n"
                   "    pass\n"
                   "\n"
                   "def broken(:\n"
                   "    return ]]\n"
                   "\n"
                   "class K:\n"
                   "    def after(self):\n"
                   "        pass\n";
  hud_index_result *r = run(HUD_LANG_PYTHON, py, 0);
  assert_true(r->parse_errors);
  bool before = false, after = false;
  for (size_t i = 0; i < r->nfuncs; i++) {
    if (strcmp(r->funcs[i].qualname, "before") == 0) before = true;
    if (strcmp(r->funcs[i].qualname, "K.after") == 0) after = r->funcs[i].start_line == 8;
  }
  assert_true(before);
  assert_true(after);
  hud_index_result_free(r);

  /* A class whose block error recovery detaches (a dedented bracket continuation, as in
   * CPython's own test_compile.py) still names its methods. */
  const char *py2 = "class T:\n"
                    "    def a(self):\n"
                    "        pass\n"
                    "    def w(self):\n"
                    "        def f():\n"
                    "            (bar.\n"
                    "        baz)\n"
                    "            (bar.\n"
                    "        baz(\n"
                    "        ))\n"
                    "        return f\n"
                    "    def z(self):\n"
                    "        pass\n";
  r = run(HUD_LANG_PYTHON, py2, 0);
  for (size_t i = 0; i < r->nfuncs; i++)
    assert_true(strncmp(r->funcs[i].qualname, "T.", 2) == 0);
  assert_true(r->nfuncs >= 3);
  hud_index_result_free(r);
}

static void test_garbage_does_not_crash(void **state) {
  (void)state;
  hud_indexer *ix = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  unsigned seed = 12345;
  char *buf = malloc(1 << 16);
  assert_non_null(buf);
  for (int round = 0; round < 12; round++) {
    size_t n = (size_t)(1 << (4 + round % 10)); /* 16 B to 8 KiB */
    for (size_t i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      buf[i] = (char)(seed >> 16); /* NULs, invalid UTF-8, control bytes */
    }
    for (int l = HUD_LANG_UNKNOWN + 1; l < HUD_LANG_COUNT_; l++) {
      hud_index_result *r = NULL;
      hud_index_opts o = {.flags = HUD_INDEX_CALLS};
      assert_int_equal(hud_indexer_run(ix, (hud_lang)l, "g", buf, n, &o, &r), 0);
      hud_index_result_free(r);
    }
  }
  /* Invalid UTF-8 inside a name is kept byte for byte. */
  hud_index_result *r = NULL;
  const char *bad = "def f\xff\xfe():\n    pass\ndef ok():\n    pass\n";
  assert_int_equal(hud_indexer_run(ix, HUD_LANG_PYTHON, "g", bad, strlen(bad), NULL, &r), 0);
  bool ok = false;
  for (size_t i = 0; i < r->nfuncs; i++) ok |= strcmp(r->funcs[i].qualname, "ok") == 0;
  assert_true(ok);
  hud_index_result_free(r);
  /* Empty input and deep nesting. */
  assert_int_equal(hud_indexer_run(ix, HUD_LANG_PYTHON, "g", "", 0, NULL, &r), 0);
  assert_int_equal(r->nfuncs, 0);
  hud_index_result_free(r);
  size_t depth = 20000;
  for (size_t i = 0; i < depth; i++) buf[i] = '(';
  assert_int_equal(hud_indexer_run(ix, HUD_LANG_PYTHON, "g", buf, depth, NULL, &r), 0);
  hud_index_result_free(r);
  free(buf);
  /* Bad arguments. */
  assert_int_equal(hud_indexer_run(ix, HUD_LANG_UNKNOWN, "g", "x", 1, NULL, &r), HUD_EINVAL);
  assert_int_equal(hud_indexer_run(ix, HUD_LANG_PYTHON, NULL, "x", 1, NULL, &r), HUD_EINVAL);
  hud_indexer_free(ix);
}

static char *repeat_python(size_t target, size_t *len) {
  static const char unit[] = "def func_%06zu(a, b):\n"
                             "    total = 0\n"
                             "    for i in range(a):\n"
                             "        total += i * b  # accumulate\n"
                             "    return total\n"
                             "\n";
  char *buf = malloc(target + 256);
  assert_non_null(buf);
  size_t n = 0;
  for (size_t k = 0; n + 200 < target; k++) n += (size_t)sprintf(buf + n, unit, k);
  *len = n;
  return buf;
}

static void test_limits(void **state) {
  (void)state;
  hud_indexer *ix = NULL;
  hud_index_result *r = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  /* A 50 MB file: refused at once (over the 16 MiB limit), nothing parsed. */
  size_t len = 0;
  char *src = repeat_python(50u << 20, &len);
  time_t t0 = time(NULL);
  assert_int_equal(hud_indexer_run(ix, HUD_LANG_PYTHON, "g", src, len, NULL, &r), HUD_ETOOBIG);
  assert_int_equal(hud_indexer_run(ix, HUD_LANG_PYTHON, "g", src, (size_t)HUD_INDEX_MAX_BYTES + 1,
                                   NULL, &r),
                   HUD_ETOOBIG);
  hud_index_doc *doc = NULL;
  assert_int_equal(hud_index_doc_new(HUD_LANG_PYTHON, "g", src, len, NULL, &doc), HUD_ETOOBIG);
  assert_true(time(NULL) - t0 < 5);
  /* Just under the limit with a short timeout: indexed, or given up on; never a hang. */
  hud_index_opts o = {.timeout_ms = 2000};
  t0 = time(NULL);
  int rc = hud_indexer_run(ix, HUD_LANG_PYTHON, "g", src, (size_t)HUD_INDEX_MAX_BYTES - 4096, &o, &r);
  assert_true(rc == 0 || rc == HUD_ETIMEOUT);
  if (rc == 0) {
    assert_true(r->nfuncs > 100000);
    hud_index_result_free(r);
  }
  assert_true(time(NULL) - t0 < 120);
  /* The indexer is usable after a timeout. */
  assert_int_equal(hud_indexer_run(ix, HUD_LANG_PYTHON, "g", "def f(): pass\n", 14, NULL, &r), 0);
  assert_int_equal(r->nfuncs, 1);
  hud_index_result_free(r);
  free(src);
  hud_indexer_free(ix);
}

static void same_result(const hud_index_result *a, const hud_index_result *b) {
  assert_int_equal(a->nfuncs, b->nfuncs);
  for (size_t i = 0; i < a->nfuncs; i++) {
    assert_string_equal(a->funcs[i].qualname, b->funcs[i].qualname);
    assert_int_equal(a->funcs[i].start_line, b->funcs[i].start_line);
    assert_int_equal(a->funcs[i].end_line, b->funcs[i].end_line);
    assert_string_equal(a->funcs[i].source_code_hash, b->funcs[i].source_code_hash);
  }
}

static void test_incremental_edit(void **state) {
  (void)state;
  size_t len = 0;
  char *src = repeat_python(200u << 10, &len);
  hud_index_doc *doc = NULL;
  assert_int_equal(hud_index_doc_new(HUD_LANG_PYTHON, "pkg/big.py", src, len, NULL, &doc), 0);
  const hud_index_result *r0 = hud_index_doc_result(doc); /* dies at the first edit */
  size_t n0 = r0->nfuncs;
  assert_true(n0 > 1000);

  /* One character inside a body: same functions, that one's hash changes. */
  const char *at = strstr(src + len / 2, "total += i * b");
  size_t off = (size_t)(at - src) + strlen("total += i * ");
  char old_hash[HUD_SHA1_HEXLEN + 1] = {0};
  int target = -1;
  for (size_t i = 0; i < n0; i++)
    if (r0->funcs[i].start_byte <= off && off < r0->funcs[i].end_byte) {
      target = (int)i;
      memcpy(old_hash, r0->funcs[i].source_code_hash, sizeof old_hash);
    }
  assert_true(target >= 0);
  assert_int_equal(hud_index_doc_edit(doc, off, 1, "c", 1), 0);
  const hud_index_result *r1 = hud_index_doc_result(doc);
  assert_int_equal(r1->nfuncs, n0);
  assert_string_not_equal(r1->funcs[target].source_code_hash, old_hash);
  /* The incremental result equals a fresh index of the same text. */
  size_t tl = 0;
  const char *text = hud_index_doc_text(doc, &tl);
  assert_int_equal(tl, len);
  assert_int_equal(text[off], 'c');
  hud_indexer *ix = NULL;
  hud_index_result *fresh = NULL;
  assert_int_equal(hud_indexer_new(&ix), 0);
  assert_int_equal(hud_indexer_run(ix, HUD_LANG_PYTHON, "pkg/big.py", text, tl, NULL, &fresh), 0);
  same_result(r1, fresh);
  hud_index_result_free(fresh);

  /* Rename a function and add lines: names and later line numbers follow. */
  const char *def = strstr(text, "def func_000010");
  size_t doff = (size_t)(def - text) + 4;
  assert_int_equal(hud_index_doc_edit(doc, doff, 11, "renamed\n\n", 9), 0);
  r1 = hud_index_doc_result(doc);
  assert_string_equal(r1->funcs[10].qualname, "renamed");
  assert_int_equal(r1->funcs[11].start_line, 6 * 11 + 1 + 2);
  text = hud_index_doc_text(doc, &tl);
  assert_int_equal(hud_indexer_run(ix, HUD_LANG_PYTHON, "pkg/big.py", text, tl, NULL, &fresh), 0);
  same_result(r1, fresh);
  hud_index_result_free(fresh);

  /* Offsets from editor positions. */
  assert_int_equal(hud_index_doc_offset(doc, (hud_index_point){0, 4}), 4);
  assert_int_equal(hud_index_doc_offset(doc, (hud_index_point){1, 1000}),
                   (size_t)(strchr(strchr(text, '\n') + 1, '\n') - text));
  /* Out of range: refused, document unchanged. */
  assert_int_equal(hud_index_doc_edit(doc, tl + 1, 0, "x", 1), HUD_ERANGE);
  assert_int_equal(hud_index_doc_edit(doc, tl - 2, 5, "x", 1), HUD_ERANGE);
  size_t tl2 = 0;
  hud_index_doc_text(doc, &tl2);
  assert_int_equal(tl2, tl);
  hud_indexer_free(ix);
  hud_index_doc_free(doc);
  free(src);
}

static void test_lang_from_path(void **state) {
  (void)state;
  assert_int_equal(hud_lang_from_path("a/b/c.py"), HUD_LANG_PYTHON);
  assert_int_equal(hud_lang_from_path("x.mjs"), HUD_LANG_JAVASCRIPT);
  assert_int_equal(hud_lang_from_path("x.d.ts"), HUD_LANG_TYPESCRIPT);
  assert_int_equal(hud_lang_from_path("x.tsx"), HUD_LANG_TSX);
  assert_int_equal(hud_lang_from_path("main.go"), HUD_LANG_GO);
  assert_int_equal(hud_lang_from_path("A.java"), HUD_LANG_JAVA);
  assert_int_equal(hud_lang_from_path(".py"), HUD_LANG_UNKNOWN);
  assert_int_equal(hud_lang_from_path("Makefile"), HUD_LANG_UNKNOWN);
  assert_int_equal(hud_lang_from_name("tsx"), HUD_LANG_TSX);
  assert_null(hud_lang_name(HUD_LANG_UNKNOWN));
}

/* ---- hud-index, the program ---------------------------------------------------------- */

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static char *run_cmd(const char *cmd, int *status) {
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t cap = 1 << 16, n = 0;
  char *out = malloc(cap);
  size_t got;
  while ((got = fread(out + n, 1, cap - n - 1, p)) > 0) {
    n += got;
    if (n + 1 == cap) out = realloc(out, cap *= 2);
  }
  out[n] = '\0';
  *status = pclose(p);
  return out;
}

static void test_hud_index_program(void **state) {
  (void)state;
  const char *bd = getenv("HUD_BUILD_DIR");
  assert_non_null(bd);
  char dir[] = "/tmp/hud-index-test-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char p[512], cmd[2048];
#define MK(rel) (snprintf(p, sizeof p, "%s/%s", dir, rel), p)
  mkdir(MK("pkg"), 0755);
  mkdir(MK("pkg/sub"), 0755);
  mkdir(MK("node_modules"), 0755);
  mkdir(MK(".git"), 0755);
  mkdir(MK("gen"), 0755);
  mkdir(MK("pkg/__pycache__"), 0755);
  write_file(MK("pkg/orders.py"), "class Orders:\n    async def place(self):\n        pass\n");
  write_file(MK("pkg/sub/util.js"), "export function helper() {}\n");
  write_file(MK("node_modules/dep.js"), "function no() {}\n");
  write_file(MK(".git/hook.py"), "def no(): pass\n");
  write_file(MK("gen/out.py"), "def no(): pass\n");
  write_file(MK("pkg/__pycache__/x.py"), "def no(): pass\n");
  write_file(MK("pkg/skip_me.py"), "def no(): pass\n");
  write_file(MK("pkg/README.txt"), "def no(): pass\n");
  write_file(MK(".gitignore"), "# generated\n/gen/\n*skip_me.py\n");
  /* Two symlinks back to the root: walked once, not 2^64 times. */
  assert_int_equal(symlink(dir, MK("pkg/loop1")), 0);
  assert_int_equal(symlink(dir, MK("pkg/loop2")), 0);
  snprintf(cmd, sizeof cmd, "%s/index/hud-index -j 2 --root %s %s", bd, dir, dir);
  int st = 0;
  char *out = run_cmd(cmd, &st);
  assert_int_equal(st, 0);
  assert_null(strstr(out, "\"no\""));
  assert_null(strstr(out, "loop")); /* the loops lead back to the walked root */
  char id[HUD_UUID_STRLEN + 1];
  assert_int_equal(hud_function_id("pkg/orders.py", "Orders.place", id), 0);
  char line[1024];
  snprintf(line, sizeof line,
           "{\"file\":\"%s/pkg/orders.py\",\"module_path\":\"pkg/orders.py\",\"qualname\":"
           "\"Orders.place\",\"kind\":\"method\",\"start_line\":2,\"end_line\":3,\"is_async\":true,"
           "\"function_id\":\"%s\",\"source_code_hash\":\"",
           dir, id);
  if (!strstr(out, line)) fail_msg("missing line %s in:\n%s", line, out);
  assert_non_null(strstr(out, "\"module_path\":\"pkg/sub/util.js\",\"qualname\":\"helper\""));
  free(out);

  /* Without --root a Python file's module path starts at the first directory without
   * __init__.py (pkg has none yet); unreadable and unknown files are errors on stderr and
   * exit status 1, the rest is still printed. */
  snprintf(cmd, sizeof cmd,
           "cd %s && %s/index/hud-index ./pkg/orders.py missing.py pkg/README.txt 2>&1", dir, bd);
  out = run_cmd(cmd, &st);
  assert_int_equal(WEXITSTATUS(st), 1);
  assert_non_null(strstr(out, "\"file\":\"./pkg/orders.py\",\"module_path\":\"orders.py\""));
  assert_non_null(strstr(out, "missing.py"));
  assert_non_null(strstr(out, "unknown language"));
  free(out);

  /* Without --root a Python file's module_path starts at the first directory up from it
   * without __init__.py (docs/protocol.md), whatever the current directory. */
  write_file(MK("pkg/__init__.py"), "");
  snprintf(cmd, sizeof cmd, "cd / && %s/index/hud-index %s/pkg/sub/../orders.py", bd, dir);
  out = run_cmd(cmd, &st);
  assert_int_equal(st, 0);
  if (!strstr(out, "\"module_path\":\"pkg/orders.py\"")) fail_msg("module_path: %s", out);
  free(out);

  /* Invalid UTF-8 in a name still gives valid JSON (U+FFFD). */
  write_file(MK("pkg/bad.py"), "def f\xff():\n    pass\n");
  snprintf(cmd, sizeof cmd, "%s/index/hud-index %s 2>&1", bd, MK("pkg/bad.py"));
  out = run_cmd(cmd, &st);
  assert_int_equal(st, 0);
  assert_null(strchr(out, '\xff'));
  free(out);

  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
#undef MK
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_python_qualnames),
      cmocka_unit_test(test_python_312_inlines_comprehensions),
      cmocka_unit_test(test_identity_fields),
      cmocka_unit_test(test_javascript_naming),
      cmocka_unit_test(test_typescript_naming),
      cmocka_unit_test(test_go_naming),
      cmocka_unit_test(test_java_naming_and_calls),
      cmocka_unit_test(test_python_calls),
      cmocka_unit_test(test_broken_source_keeps_the_rest),
      cmocka_unit_test(test_garbage_does_not_crash),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_incremental_edit),
      cmocka_unit_test(test_lang_from_path),
      cmocka_unit_test(test_hud_index_program),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
