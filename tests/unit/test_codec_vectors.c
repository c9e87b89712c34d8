/* Table-driven decoder tests: every .json file of tests/data/codec is a suite
 *
 *   {"type": "<decoder>", "base": <valid document>, "cases": [case, ...]}
 *
 * and each case derives an input from the base (or gives one outright) and states the outcome:
 *
 *   "name":    what the case shows
 *   "set":     {"a.b[2].c": value, ...}        replace or add members of the base
 *   "delete":  ["a.b", ...]                     remove members
 *   "raw":     {"path": "<json text>", ...}     put raw text there (numbers jansson cannot hold)
 *   "repeat":  {"path": ["ab", 3000], ...}      a string of "ab" repeated 3000 times
 *   "repeat_array": {"path": [value, 300]}      an array of 300 copies of value
 *   "text":    "<whole input>"                  ignore the base
 *   "hex":     "<whole input as hex bytes>"     ignore the base (invalid UTF-8, binary)
 *   "query":   "a=1&b=2"                        query-string decoders ("query:*" types)
 *   "path_id": "<uuid>"                         query:function/issue/issue_status, the id from the URL path
 *   "gzip":    true                              batch_body: gzip the input first
 *   "truncate": n / "append_hex": ".."           batch_body: damage the gzip stream
 *   "unknown": "ignore" | "reject"              unknown-field policy
 *   "expect":  "ok" | {"code": "ERANGE", "path": "...", "message": "...", "contains": "..."}
 *
 * An "ok" case must also re-encode and decode to the same text. Every error message must start
 * with its path. */
#define _DEFAULT_SOURCE /* scandir, alphasort */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "hud/codec.h"
#include "hud/err.h"

/* ---------------------------------------------------------------------------------------- */
/* Decoders by name. */

typedef int (*dec_fn)(const char *json, size_t len, const hud_decode_opts *o, hud_arena *a,
                      void **out, hud_codec_error *e, char **reencoded);

#define DEC(T)                                                                               \
  static int dec_##T(const char *json, size_t len, const hud_decode_opts *o, hud_arena *a,  \
                     void **out, hud_codec_error *e, char **re) {                            \
    T *v = hud_arena_alloc(a, sizeof *v);                                                   \
    int rc = T##_decode(json, len, o, a, v, e);                                              \
    *out = v;                                                                                \
    if (!rc && re) {                                                                         \
      hud_codec_error e2;                                                                    \
      rc = T##_encode(v, re, NULL, &e2);                                                     \
      if (rc) fail_msg("re-encode of a decoded " #T " failed: %s", e2.message);              \
    }                                                                                        \
    return rc;                                                                               \
  }

DEC(hud_function_decl)
DEC(hud_invocation)
DEC(hud_exception_flow)
DEC(hud_flow)
DEC(hud_flow_function)
DEC(hud_batch)
DEC(hud_ingest_response)
DEC(hud_sketch_bins)
DEC(hud_services_response)
DEC(hud_top_response)
DEC(hud_by_module_request)
DEC(hud_by_module_response)
DEC(hud_function_detail)
DEC(hud_callgraph_response)
DEC(hud_flows_response)
DEC(hud_issues_response)
DEC(hud_issue)
DEC(hud_issue_status_request)
DEC(hud_exception_flows_response)
DEC(hud_error_response)

static int dec_batch_body(const char *body, size_t len, const hud_decode_opts *o, hud_arena *a,
                          void **out, hud_codec_error *e, char **re) {
  hud_batch *v = hud_arena_alloc(a, sizeof *v);
  int rc = hud_batch_decode_body(body, len, false, o, a, v, e);
  *out = v;
  if (!rc && re) rc = hud_batch_encode(v, re, NULL, NULL);
  return rc;
}

static const struct {
  const char *name;
  dec_fn fn;
} decoders[] = {
    {"function_decl", dec_hud_function_decl},
    {"invocation", dec_hud_invocation},
    {"exception_flow", dec_hud_exception_flow},
    {"flow", dec_hud_flow},
    {"flow_function", dec_hud_flow_function},
    {"batch", dec_hud_batch},
    {"batch_body", dec_batch_body},
    {"ingest_response", dec_hud_ingest_response},
    {"sketch", dec_hud_sketch_bins},
    {"services_response", dec_hud_services_response},
    {"top_response", dec_hud_top_response},
    {"by_module_request", dec_hud_by_module_request},
    {"by_module_response", dec_hud_by_module_response},
    {"function_detail", dec_hud_function_detail},
    {"callgraph_response", dec_hud_callgraph_response},
    {"flows_response", dec_hud_flows_response},
    {"issues_response", dec_hud_issues_response},
    {"issue", dec_hud_issue},
    {"issue_status_request", dec_hud_issue_status_request},
    {"exception_flows_response", dec_hud_exception_flows_response},
    {"error_response", dec_hud_error_response},
};

static dec_fn find_decoder(const char *name) {
  for (size_t i = 0; i < sizeof decoders / sizeof decoders[0]; i++)
    if (strcmp(decoders[i].name, name) == 0) return decoders[i].fn;
  return NULL;
}

/* Query-string decoders: parse "a=1&b=2" and decode. */
static int query_decode(const char *type, const char *query, const char *path_id,
                        const hud_decode_opts *o, hud_arena *a, hud_codec_error *e, bool *known) {
  hud_query_param *p = NULL;
  size_t n = 0;
  *known = true;
  assert_int_equal(hud_query_parse(query, a, &p, &n), 0);
  if (strcmp(type, "query:services") == 0) {
    const char *svc = NULL;
    return hud_services_request_from_query(p, n, o, a, &svc, e);
  }
  if (strcmp(type, "query:top") == 0) {
    hud_top_request r;
    return hud_top_request_from_query(p, n, o, a, &r, e);
  }
  if (strcmp(type, "query:function") == 0) {
    hud_function_request r;
    return hud_function_request_from_query(path_id, p, n, o, a, &r, e);
  }
  if (strcmp(type, "query:callgraph") == 0) {
    hud_callgraph_request r;
    return hud_callgraph_request_from_query(p, n, o, a, &r, e);
  }
  if (strcmp(type, "query:flows") == 0) {
    hud_flows_request r;
    return hud_flows_request_from_query(p, n, o, a, &r, e);
  }
  if (strcmp(type, "query:exception_flows") == 0) {
    hud_exception_flows_request r;
    return hud_exception_flows_request_from_query(p, n, o, a, &r, e);
  }
  if (strcmp(type, "query:issue") == 0) {
    hud_issue_request r;
    return hud_issue_request_from_query(path_id, p, n, o, a, &r, e);
  }
  if (strcmp(type, "query:issue_status") == 0) {
    hud_issue_status_request r = {0};
    return hud_issue_status_request_from_query(path_id, p, n, o, a, &r, e);
  }
  if (strcmp(type, "query:issues") == 0) {
    hud_issues_request r;
    return hud_issues_request_from_query(p, n, o, a, &r, e);
  }
  *known = false;
  return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Path edits on the base document: "a.b[2].c". */

/* Finds the parent of the last path element; KEY and INDEX name the element. */
static json_t *walk(json_t *root, const char *path, char *key, size_t keycap, long *index) {
  json_t *cur = root;
  const char *p = path;
  for (;;) {
    char tok[256];
    long idx = -1;
    size_t n = 0;
    if (*p == '[') {
      idx = strtol(p + 1, (char **)&p, 10);
      p++; /* ']' */
    } else {
      while (*p && *p != '.' && *p != '[' && n + 1 < sizeof tok) tok[n++] = *p++;
    }
    tok[n] = '\0';
    if (*p == '.') p++;
    if (!*p) {
      snprintf(key, keycap, "%s", tok);
      *index = idx;
      return cur;
    }
    cur = idx >= 0 ? json_array_get(cur, (size_t)idx) : json_object_get(cur, tok);
    if (!cur) fail_msg("test data: path %s does not exist in the base", path);
  }
}

static void set_path(json_t *root, const char *path, json_t *value) {
  char key[256];
  long idx;
  json_t *parent = walk(root, path, key, sizeof key, &idx);
  if (idx >= 0) {
    if ((size_t)idx < json_array_size(parent))
      json_array_set_new(parent, (size_t)idx, value);
    else
      json_array_append_new(parent, value);
  } else {
    json_object_set_new(parent, key, value);
  }
}

static void delete_path(json_t *root, const char *path) {
  char key[256];
  long idx;
  json_t *parent = walk(root, path, key, sizeof key, &idx);
  if (idx >= 0)
    json_array_remove(parent, (size_t)idx);
  else if (json_object_del(parent, key))
    fail_msg("test data: cannot delete %s", path);
}

static char *replace_all(char *s, const char *from, const char *to) {
  for (;;) {
    char *at = strstr(s, from);
    if (!at) return s;
    size_t pre = (size_t)(at - s), fl = strlen(from), tl = strlen(to), sl = strlen(s);
    char *ns = malloc(sl - fl + tl + 1);
    memcpy(ns, s, pre);
    memcpy(ns + pre, to, tl);
    memcpy(ns + pre + tl, at + fl, sl - pre - fl + 1);
    free(s);
    s = ns;
  }
}

static unsigned char *from_hex(const char *h, size_t *len) {
  size_t n = strlen(h) / 2;
  unsigned char *b = malloc(n + 1);
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    sscanf(h + 2 * i, "%2x", &v);
    b[i] = (unsigned char)v;
  }
  *len = n;
  return b;
}

/* Builds the input bytes of CASE from BASE. Returns malloc'ed bytes. */
static char *build_input(const json_t *base, const json_t *cs, size_t *len) {
  const json_t *t;
  if ((t = json_object_get(cs, "text"))) {
    *len = json_string_length(t);
    char *s = malloc(*len + 1);
    memcpy(s, json_string_value(t), *len + 1);
    return s;
  }
  if ((t = json_object_get(cs, "hex"))) return (char *)from_hex(json_string_value(t), len);
  json_t *doc = json_deep_copy(base);
  const char *k;
  json_t *v;
  json_object_foreach(json_object_get(cs, "set"), k, v) set_path(doc, k, json_deep_copy(v));
  size_t i;
  json_array_foreach(json_object_get(cs, "delete"), i, v) delete_path(doc, json_string_value(v));
  json_object_foreach(json_object_get(cs, "repeat"), k, v) {
    const char *unit = json_string_value(json_array_get(v, 0));
    size_t times = (size_t)json_integer_value(json_array_get(v, 1)), ul = strlen(unit);
    char *s = malloc(ul * times + 1);
    for (size_t r = 0; r < times; r++) memcpy(s + r * ul, unit, ul);
    s[ul * times] = '\0';
    set_path(doc, k, json_string(s));
    free(s);
  }
  json_object_foreach(json_object_get(cs, "repeat_array"), k, v) {
    json_t *arr = json_array();
    for (json_int_t r = 0; r < json_integer_value(json_array_get(v, 1)); r++)
      json_array_append(arr, json_array_get(v, 0));
    set_path(doc, k, arr);
  }
  int nraw = 0;
  json_object_foreach(json_object_get(cs, "raw"), k, v) {
    char ph[32];
    snprintf(ph, sizeof ph, "@@RAW%d@@", nraw++);
    set_path(doc, k, json_string(ph));
  }
  char *s = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref(doc);
  nraw = 0;
  json_object_foreach(json_object_get(cs, "raw"), k, v) {
    char ph[32];
    snprintf(ph, sizeof ph, "\"@@RAW%d@@\"", nraw++);
    s = replace_all(s, ph, json_string_value(v));
  }
  *len = strlen(s);
  return s;
}

/* ---------------------------------------------------------------------------------------- */

static int code_from_name(const char *name) {
  for (int c = -1; c >= -30; c--)
    if (strcmp(hud_err_name(c), name) == 0) return c;
  fail_msg("test data: unknown error code %s", name);
  return 0;
}

static int run_case(const char *file, const char *type, const json_t *base, const json_t *cs,
                    int *n_ok, int *n_err) {
  const char *name = json_string_value(json_object_get(cs, "name"));
  if (!name) name = "(unnamed)";
  hud_decode_opts opts = {0};
  const char *unk = json_string_value(json_object_get(cs, "unknown"));
  if (unk) opts.unknown_fields = strcmp(unk, "ignore") == 0 ? HUD_UNKNOWN_IGNORE : HUD_UNKNOWN_REJECT;
  hud_arena *a = hud_arena_new();
  hud_codec_error e;
  memset(&e, 0, sizeof e);
  int rc;
  char *re = NULL;
  const json_t *expect = json_object_get(cs, "expect");
  bool want_ok = json_is_string(expect) && strcmp(json_string_value(expect), "ok") == 0;
  if (strncmp(type, "query:", 6) == 0) {
    bool known;
    const char *q = json_string_value(json_object_get(cs, "query"));
    rc = query_decode(type, q ? q : "", json_string_value(json_object_get(cs, "path_id")),
                      &opts, a, &e, &known);
    if (!known) fail_msg("%s: unknown type %s", file, type);
  } else {
    dec_fn fn = find_decoder(type);
    if (!fn) fail_msg("%s: unknown type %s", file, type);
    size_t len;
    char *in = build_input(base, cs, &len);
    if (json_is_true(json_object_get(cs, "gzip"))) {
      void *gz;
      size_t gl;
      assert_int_equal(hud_gzip_encode(in, len, 6, &gz, &gl), 0);
      free(in);
      const json_t *tr = json_object_get(cs, "truncate");
      if (tr) gl -= (size_t)json_integer_value(tr);
      const json_t *ap = json_object_get(cs, "append_hex");
      if (ap) {
        size_t xl;
        unsigned char *x = from_hex(json_string_value(ap), &xl);
        gz = realloc(gz, gl + xl);
        memcpy((char *)gz + gl, x, xl);
        gl += xl;
        free(x);
      }
      in = gz;
      len = gl;
    }
    void *out;
    rc = fn(in, len, &opts, a, &out, &e, want_ok ? &re : NULL);
    if (!rc && re) {
      /* The re-encoded text decodes again and encodes identically. */
      char *re2 = NULL;
      hud_codec_error e2;
      int rc2 = fn(re, strlen(re), &opts, a, &out, &e2, &re2);
      if (rc2) fail_msg("%s / %s: re-encoded text does not decode: %s", file, name, e2.message);
      if (strcmp(re, re2) != 0) fail_msg("%s / %s: second round trip differs", file, name);
      free(re2);
    }
    free(in);
  }
  free(re);
  int failures = 0;
  if (want_ok) {
    if (rc) {
      print_error("FAIL %s / %s: expected ok, got %s: %s\n", file, name, hud_err_name(rc), e.message);
      failures++;
    } else {
      (*n_ok)++;
    }
  } else {
    int want = code_from_name(json_string_value(json_object_get(expect, "code")));
    const char *path = json_string_value(json_object_get(expect, "path"));
    const char *msg = json_string_value(json_object_get(expect, "message"));
    const char *contains = json_string_value(json_object_get(expect, "contains"));
    if (rc != want || e.code != rc) {
      print_error("FAIL %s / %s: expected %s, got %s (%s)\n", file, name, hud_err_name(want),
                  rc ? hud_err_name(rc) : "ok", e.message);
      failures++;
    } else if (path && strcmp(path, e.path) != 0) {
      print_error("FAIL %s / %s: expected path '%s', got '%s' (%s)\n", file, name, path, e.path,
                  e.message);
      failures++;
    } else if (msg && strcmp(msg, e.message) != 0) {
      print_error("FAIL %s / %s: expected message '%s', got '%s'\n", file, name, msg, e.message);
      failures++;
    } else if (contains && !strstr(e.message, contains)) {
      print_error("FAIL %s / %s: message '%s' lacks '%s'\n", file, name, e.message, contains);
      failures++;
    } else if (e.path[0] && strncmp(e.message, e.path, strlen(e.path)) != 0) {
      print_error("FAIL %s / %s: message '%s' does not start with its path\n", file, name,
                  e.message);
      failures++;
    } else {
      (*n_err)++;
    }
  }
  hud_arena_free(a);
  return failures;
}

static void codec_vectors(void **state) {
  (void)state;
  const char *src = getenv("HUD_SOURCE_DIR");
  assert_non_null(src);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/tests/data/codec", src);
  struct dirent **ents;
  int n = scandir(dir, &ents, NULL, alphasort);
  if (n < 0) fail_msg("cannot read %s", dir);
  int files = 0, failures = 0, n_ok = 0, n_err = 0;
  for (int i = 0; i < n; i++) {
    const char *fn = ents[i]->d_name;
    size_t l = strlen(fn);
    if (l > 5 && strcmp(fn + l - 5, ".json") == 0) {
      char path[8192];
      snprintf(path, sizeof path, "%s/%s", dir, fn);
      json_error_t je;
      json_t *suite = json_load_file(path, 0, &je);
      if (!suite) fail_msg("%s:%d: %s", path, je.line, je.text);
      const char *type = json_string_value(json_object_get(suite, "type"));
      const json_t *base = json_object_get(suite, "base");
      if (!type) fail_msg("%s: no type", path);
      files++;
      if (base) {
        json_t *basecase = json_pack("{s:s,s:s}", "name", "base document", "expect", "ok");
        failures += run_case(fn, type, base, basecase, &n_ok, &n_err);
        json_decref(basecase);
      }
      size_t k;
      json_t *cs;
      json_array_foreach(json_object_get(suite, "cases"), k, cs)
          failures += run_case(fn, type, base, cs, &n_ok, &n_err);
      json_decref(suite);
    }
    free(ents[i]);
  }
  free(ents);
  print_message("codec vectors: %d files, %d valid cases, %d malformed cases, %d failures\n", files,
                n_ok, n_err, failures);
  assert_true(files >= 10);
  assert_int_equal(failures, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(codec_vectors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
