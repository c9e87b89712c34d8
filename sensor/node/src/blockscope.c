/* blockscope.h: names declared at a body's top level against its var names. */
#include "blockscope.h"

#include <string.h>

#include "hud/buf.h"

typedef struct fname {
  uint32_t start, len;
} fname;

/* The names of a body's top-level function declarations, in a byte buffer. */
typedef struct names {
  const char *src;
  hud_buf b;
} names;

static size_t count(const names *ns) {
  return ns->b.n / sizeof(fname);
}

static bool declared(const names *ns, TSNode id) {
  uint32_t s = ts_node_start_byte(id), l = ts_node_end_byte(id) - s;
  for (size_t i = 0; i < count(ns); i++) {
    fname nm;
    memcpy(&nm, ns->b.p + i * sizeof nm, sizeof nm);
    if (nm.len == l && memcmp(ns->src + s, ns->src + nm.start, l) == 0) return true;
  }
  return false;
}

static void add_name(names *ns, TSNode id) {
  fname nm = {ts_node_start_byte(id), ts_node_end_byte(id) - ts_node_start_byte(id)};
  hud_buf_put(&ns->b, (const char *)&nm, sizeof nm);
}

static TSNode field(TSNode n, const char *name) {
  return ts_node_child_by_field_name(n, name, (uint32_t)strlen(name));
}

/* Adds the names pattern P binds (a parameter list, an identifier, a destructuring), default
 * values aside. */
static void add_bound(names *ns, TSNode p) {
  const char *t = ts_node_type(p);
  if (!strcmp(t, "identifier") || !strcmp(t, "shorthand_property_identifier_pattern")) {
    add_name(ns, p);
  } else if (!strcmp(t, "assignment_pattern") || !strcmp(t, "object_assignment_pattern")) {
    TSNode l = field(p, "left");
    if (!ts_node_is_null(l)) add_bound(ns, l);
  } else if (!strcmp(t, "pair_pattern")) {
    TSNode v = field(p, "value");
    if (!ts_node_is_null(v)) add_bound(ns, v);
  } else if (!strcmp(t, "formal_parameters") || !strcmp(t, "array_pattern") || !strcmp(t, "object_pattern") ||
             !strcmp(t, "rest_pattern")) {
    uint32_t c = ts_node_named_child_count(p);
    for (uint32_t i = 0; i < c; i++) add_bound(ns, ts_node_named_child(p, i));
  }
}

/* Whether pattern P (an identifier or a destructuring) holds one of NS. Identifiers of default
 * values count too: a body left unwrapped for nothing, never a wrong one. */
static bool binds(const names *ns, TSNode p) {
  const char *t = ts_node_type(p);
  if (!strcmp(t, "identifier") || !strcmp(t, "shorthand_property_identifier_pattern")) return declared(ns, p);
  uint32_t c = ts_node_named_child_count(p);
  for (uint32_t i = 0; i < c; i++)
    if (binds(ns, ts_node_named_child(p, i))) return true;
  return false;
}

static bool scope_of_its_own(const char *t) {
  return !strcmp(t, "function_declaration") || !strcmp(t, "generator_function_declaration") ||
         !strcmp(t, "function_expression") || !strcmp(t, "function") || !strcmp(t, "generator_function") ||
         !strcmp(t, "arrow_function") || !strcmp(t, "method_definition") || !strcmp(t, "class_body");
}

/* Whether `var` statement or for-in/of head N declares one of NS. */
static bool var_declares(const names *ns, TSNode n, const char *t) {
  if (!strcmp(t, "for_in_statement")) {
    TSNode kind = ts_node_child_by_field_name(n, "kind", 4), left = ts_node_child_by_field_name(n, "left", 4);
    return !ts_node_is_null(kind) && !strcmp(ts_node_type(kind), "var") && !ts_node_is_null(left) && binds(ns, left);
  }
  uint32_t c = ts_node_named_child_count(n);
  for (uint32_t i = 0; i < c; i++) {
    TSNode name = ts_node_child_by_field_name(ts_node_named_child(n, i), "name", 4);
    if (!ts_node_is_null(name) && binds(ns, name)) return true;
  }
  return false;
}

static bool is_function_declaration(const char *t) {
  return !strcmp(t, "function_declaration") || !strcmp(t, "generator_function_declaration");
}

/* Whether, below BODY (not in nested functions or classes), a `var` declares one of NS, or a
 * function declared in a nested block shares a name with NS. Sloppy code copies such a
 * function to the function's own binding when its block runs (Annex B.3.3), but not once that
 * binding is the block-scoped one of `try {}`. A cursor: it moves to a sibling in constant time,
 * where ts_node_named_child(n, i) walks from the first. */
static bool var_clash(const names *ns, TSNode body) {
  TSTreeCursor cur = ts_tree_cursor_new(body);
  bool clash = false;
  int depth = 1;
  if (ts_tree_cursor_goto_first_child(&cur)) {
    for (;;) {
      TSNode n = ts_tree_cursor_current_node(&cur);
      const char *t = ts_node_type(n);
      bool descend = ts_node_is_named(n) && !scope_of_its_own(t);
      if (descend && (!strcmp(t, "variable_declaration") || !strcmp(t, "for_in_statement")) && var_declares(ns, n, t)) {
        clash = true;
        break;
      }
      if (depth > 1 && is_function_declaration(t)) {
        TSNode id = field(n, "name");
        if (!ts_node_is_null(id) && declared(ns, id)) {
          clash = true;
          break;
        }
      }
      if (descend && ts_tree_cursor_goto_first_child(&cur)) {
        depth++;
        continue;
      }
      while (!ts_tree_cursor_goto_next_sibling(&cur)) {
        depth--;
        if (!ts_tree_cursor_goto_parent(&cur) || ts_node_eq(ts_tree_cursor_current_node(&cur), body)) goto done;
      }
    }
  }
done:
  ts_tree_cursor_delete(&cur);
  return clash;
}

/* Whether a name in A is also in B. */
static bool overlap(const names *a, const names *b) {
  for (size_t i = 0; i < count(a); i++) {
    fname x;
    memcpy(&x, a->b.p + i * sizeof x, sizeof x);
    for (size_t j = 0; j < count(b); j++) {
      fname y;
      memcpy(&y, b->b.p + j * sizeof y, sizeof y);
      if (x.len == y.len && memcmp(a->src + x.start, b->src + y.start, x.len) == 0) return true;
    }
  }
  return false;
}

bool hsn_body_takes_a_block(const char *src, TSNode fn, TSNode body) {
  names fns = {.src = src}, lex = {.src = src}, params = {.src = src};
  bool ok = true;
  TSTreeCursor cur = ts_tree_cursor_new(body);
  for (bool more = ts_tree_cursor_goto_first_child(&cur); ok && more; more = ts_tree_cursor_goto_next_sibling(&cur)) {
    TSNode st = ts_tree_cursor_current_node(&cur);
    const char *t = ts_node_type(st);
    if (!strcmp(t, "lexical_declaration")) {
      uint32_t c = ts_node_named_child_count(st);
      for (uint32_t i = 0; i < c; i++) {
        TSNode name = field(ts_node_named_child(st, i), "name");
        if (!ts_node_is_null(name)) add_bound(&lex, name);
      }
      continue;
    }
    TSNode id = field(st, "name");
    if (!strcmp(t, "class_declaration") && !ts_node_is_null(id)) add_name(&lex, id);
    if (!is_function_declaration(t) || ts_node_is_null(id)) continue;
    if (declared(&fns, id)) ok = false;
    add_name(&fns, id);
  }
  ts_tree_cursor_delete(&cur);
  /* A parameter declared again by let, const or class is a SyntaxError that `try {}` would hide. */
  if (ok && count(&lex) > 0) {
    TSNode ps = field(fn, "parameters");
    if (ts_node_is_null(ps)) ps = field(fn, "parameter");
    if (!ts_node_is_null(ps)) add_bound(&params, ps);
    ok = !overlap(&lex, &params);
  }
  /* Out of memory: not wrapped, never a wrong wrap. */
  ok = ok && !fns.b.oom && !lex.b.oom && !params.b.oom && (count(&fns) == 0 || !var_clash(&fns, body));
  hud_buf_free(&fns.b);
  hud_buf_free(&lex.b);
  hud_buf_free(&params.b);
  return ok;
}
