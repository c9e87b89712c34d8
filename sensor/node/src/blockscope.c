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

/* Whether pattern P (an identifier or a destructuring) holds one of NS. Identifiers of default
 * values count too: a body left unwrapped for nothing, never a wrong one. */
static bool binds(const names *ns, TSNode p) {
  const char *t = ts_node_type(p);
  if (!strcmp(t, "identifier") || !strcmp(t, "shorthand_property_identifier_pattern")) return declared(ns, p);
  for (uint32_t i = 0, c = ts_node_named_child_count(p); i < c; i++)
    if (binds(ns, ts_node_named_child(p, i))) return true;
  return false;
}

static bool scope_of_its_own(const char *t) {
  return !strcmp(t, "function_declaration") || !strcmp(t, "generator_function_declaration") ||
         !strcmp(t, "function_expression") || !strcmp(t, "function") || !strcmp(t, "generator_function") ||
         !strcmp(t, "arrow_function") || !strcmp(t, "method_definition") || !strcmp(t, "class_body");
}

/* Whether a `var` below N (not in nested functions or classes) declares one of NS. */
static bool var_clash(const names *ns, TSNode n) {
  for (uint32_t i = 0, c = ts_node_named_child_count(n); i < c; i++) {
    TSNode k = ts_node_named_child(n, i);
    const char *t = ts_node_type(k);
    if (scope_of_its_own(t)) continue;
    if (!strcmp(t, "variable_declaration")) {
      for (uint32_t j = 0, d = ts_node_named_child_count(k); j < d; j++) {
        TSNode name = ts_node_child_by_field_name(ts_node_named_child(k, j), "name", 4);
        if (!ts_node_is_null(name) && binds(ns, name)) return true;
      }
      continue;
    }
    if (!strcmp(t, "for_in_statement")) {
      TSNode kind = ts_node_child_by_field_name(k, "kind", 4), left = ts_node_child_by_field_name(k, "left", 4);
      if (!ts_node_is_null(kind) && !strcmp(ts_node_type(kind), "var") && !ts_node_is_null(left) && binds(ns, left))
        return true;
    }
    if (var_clash(ns, k)) return true;
  }
  return false;
}

bool hsn_body_takes_a_block(const char *src, TSNode body) {
  names ns = {.src = src};
  bool ok = true;
  for (uint32_t i = 0, c = ts_node_named_child_count(body); ok && i < c; i++) {
    TSNode st = ts_node_named_child(body, i);
    const char *t = ts_node_type(st);
    if (strcmp(t, "function_declaration") && strcmp(t, "generator_function_declaration")) continue;
    TSNode id = ts_node_child_by_field_name(st, "name", 4);
    if (ts_node_is_null(id)) continue;
    if (declared(&ns, id)) ok = false;
    fname nm = {ts_node_start_byte(id), ts_node_end_byte(id) - ts_node_start_byte(id)};
    hud_buf_put(&ns.b, (const char *)&nm, sizeof nm);
  }
  /* Out of memory: not wrapped, never a wrong wrap. */
  ok = ok && !ns.b.oom && (count(&ns) == 0 || !var_clash(&ns, body));
  hud_buf_free(&ns.b);
  return ok;
}
