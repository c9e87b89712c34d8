/* hud_sensor.node: the Node-API face of the Node sensor's native part.
 *
 *   instrument(source, modulePath, sourceUrl, lang[, prologue[, slots]]) ->
 *     {code, map, ids, names, startLines, inserts, instrumented, parseErrors}
 *   functions(source, modulePath, lang) ->
 *     {ids, names, startLines, endLines, async, parents, points, parseErrors}
 *   parses(code, lang) -> whether code parses with no error (a rewrite's check, rewrite.h)
 *
 * lang is "javascript", "typescript" or "tsx"; ids[k] / names[k] name enter(__hud_b + k), or
 * with slots (an Int32Array over the index's functions; undefined or null: none) function k enters __hud_b + slots[k]
 * and is left as it is when slots[k] < 0. inserts is a Uint32Array of (line, generated
 * column, length) triples (rewrite.h). functions() is the index alone, in the same order:
 * points is a Uint32Array of (line, column) pairs, 0-based, columns in UTF-16 units as source
 * maps count them: per function the start of its definition (the index's start_byte) and of its
 * name (or first token).
 * Each Node environment (main thread, loader thread, workers) has its own indexer, kept as
 * the environment's instance data. Errors are thrown as JS errors with hud's message. */
#include <node_api.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "hud/index.h"
#include "positions.h"
#include "rewrite.h"
#include "runtime.h"

#define NAPI_OK(call)                                                                            \
  do {                                                                                           \
    if ((call) != napi_ok) return NULL;                                                          \
  } while (0)

static void free_indexer(napi_env env, void *data, void *hint) { hud_indexer_free(data); }

static hud_indexer *env_indexer(napi_env env) {
  void *ix = NULL;
  if (napi_get_instance_data(env, &ix) == napi_ok && ix) return ix;
  hud_indexer *nix = NULL;
  if (hud_indexer_new(&nix)) return NULL;
  if (napi_set_instance_data(env, nix, free_indexer, NULL) != napi_ok) {
    hud_indexer_free(nix);
    return NULL;
  }
  return nix;
}

/* The call's arguments into ARGV (room for *ARGC; *ARGC then says how many were given). False
 * when fewer than MIN were given (a TypeError with USAGE is thrown) or N-API failed. */
static bool call_args(napi_env env, napi_callback_info info, size_t min, napi_value *argv, size_t *argc,
                      const char *usage) {
  if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok) return false;
  if (*argc >= min) return true;
  napi_throw_type_error(env, NULL, usage);
  return false;
}

/* A JS string argument as a malloc'd UTF-8 copy. */
static char *arg_str(napi_env env, napi_value v, size_t *len) {
  size_t n = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) return NULL;
  char *s = malloc(n + 1);
  if (!s) return NULL;
  if (napi_get_value_string_utf8(env, v, s, n + 1, &n) != napi_ok) {
    free(s);
    return NULL;
  }
  if (len) *len = n;
  return s;
}

static napi_value set_str(napi_env env, napi_value obj, const char *key, const char *s, size_t n) {
  napi_value v;
  NAPI_OK(napi_create_string_utf8(env, s, n, &v));
  NAPI_OK(napi_set_named_property(env, obj, key, v));
  return obj;
}

static napi_value result_to_js(napi_env env, const hsn_result *r) {
  napi_value obj, ids, names, lines, v, ab, ins;
  NAPI_OK(napi_create_object(env, &obj));
  if (!set_str(env, obj, "code", r->code, r->code_len)) return NULL;
  if (!set_str(env, obj, "map", r->map, NAPI_AUTO_LENGTH)) return NULL;
  NAPI_OK(napi_create_array_with_length(env, r->nfns, &ids));
  NAPI_OK(napi_create_array_with_length(env, r->nfns, &names));
  NAPI_OK(napi_create_array_with_length(env, r->nfns, &lines));
  for (size_t i = 0; i < r->nfns; i++) {
    NAPI_OK(napi_create_string_utf8(env, r->fns[i].function_id, NAPI_AUTO_LENGTH, &v));
    NAPI_OK(napi_set_element(env, ids, (uint32_t)i, v));
    NAPI_OK(napi_create_string_utf8(env, r->fns[i].qualname, NAPI_AUTO_LENGTH, &v));
    NAPI_OK(napi_set_element(env, names, (uint32_t)i, v));
    NAPI_OK(napi_create_int32(env, r->fns[i].start_line, &v));
    NAPI_OK(napi_set_element(env, lines, (uint32_t)i, v));
  }
  NAPI_OK(napi_set_named_property(env, obj, "ids", ids));
  NAPI_OK(napi_set_named_property(env, obj, "names", names));
  NAPI_OK(napi_set_named_property(env, obj, "startLines", lines));
  /* For the runtime's declarations: (start, end, flags: 1 async, 2 generator) and hashes. */
  napi_value meta, hashes;
  void *mdata = NULL;
  NAPI_OK(napi_create_arraybuffer(env, (r->nfns * 3 + 1) * sizeof(int32_t), &mdata, &ab));
  int32_t *m = mdata;
  NAPI_OK(napi_create_array_with_length(env, r->nfns, &hashes));
  for (size_t i = 0; i < r->nfns; i++) {
    m[3 * i] = r->fns[i].start_line;
    m[3 * i + 1] = r->fns[i].end_line;
    m[3 * i + 2] = (r->fns[i].is_async ? 1 : 0) | (r->fns[i].is_generator ? 2 : 0);
    NAPI_OK(napi_create_string_utf8(env, r->fns[i].source_hash, NAPI_AUTO_LENGTH, &v));
    NAPI_OK(napi_set_element(env, hashes, (uint32_t)i, v));
  }
  NAPI_OK(napi_create_typedarray(env, napi_int32_array, r->nfns * 3, ab, 0, &meta));
  NAPI_OK(napi_set_named_property(env, obj, "meta", meta));
  NAPI_OK(napi_set_named_property(env, obj, "hashes", hashes));
  void *data = NULL;
  NAPI_OK(napi_create_arraybuffer(env, r->nins * 3 * sizeof(uint32_t), &data, &ab));
  uint32_t *u = data;
  for (size_t i = 0; i < r->nins; i++) {
    u[3 * i] = r->ins[i].line;
    u[3 * i + 1] = r->ins[i].gen_col;
    u[3 * i + 2] = r->ins[i].len;
  }
  NAPI_OK(napi_create_typedarray(env, napi_uint32_array, r->nins * 3, ab, 0, &ins));
  NAPI_OK(napi_set_named_property(env, obj, "inserts", ins));
  NAPI_OK(napi_create_uint32(env, (uint32_t)r->instrumented, &v));
  NAPI_OK(napi_set_named_property(env, obj, "instrumented", v));
  NAPI_OK(napi_get_boolean(env, r->parse_errors != 0, &v));
  NAPI_OK(napi_set_named_property(env, obj, "parseErrors", v));
  return obj;
}

/* The Int32Array argument V in *DATA, *N; false when it is not one. An empty array may have
 * no data: *DATA is then a valid pointer to nothing. */
static bool arg_i32(napi_env env, napi_value v, const int32_t **data, size_t *n) {
  static const int32_t none[1];
  bool is = false;
  napi_typedarray_type t;
  void *d = NULL;
  *n = 0;
  *data = none;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &t, n, &d, NULL, NULL) != napi_ok || t != napi_int32_array) {
    *n = 0;
    return false;
  }
  if (d) *data = d;
  else *n = 0;
  return true;
}

static void throw_rc(napi_env env, int rc) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, NULL, hud_strerror(rc));
}

static napi_value js_instrument(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (!call_args(env, info, 4, argv, &argc, "instrument(source, modulePath, sourceUrl, lang[, prologue[, slots]])"))
    return NULL;
  size_t nslots = 0;
  napi_valuetype st = napi_undefined;
  if (argc > 5 && napi_typeof(env, argv[5], &st) != napi_ok) return NULL;
  bool has_slots = st != napi_undefined && st != napi_null;
  const int32_t *slots = NULL;
  if (has_slots && !arg_i32(env, argv[5], &slots, &nslots)) {
    napi_throw_type_error(env, NULL, "instrument: slots must be an Int32Array");
    return NULL;
  }
  size_t len = 0;
  char *src = arg_str(env, argv[0], &len), *mod = arg_str(env, argv[1], NULL);
  char *url = arg_str(env, argv[2], NULL), *lang = arg_str(env, argv[3], NULL);
  char *pro = argc > 4 ? arg_str(env, argv[4], NULL) : NULL; /* null: no prologue */
  hud_indexer *ix = env_indexer(env);
  napi_value ret = NULL;
  hsn_result *r = NULL;
  int rc = HUD_EINVAL;
  if (src && mod && url && lang && ix) {
    hud_lang l = hud_lang_from_name(lang);
    rc = l == HUD_LANG_JAVASCRIPT || l == HUD_LANG_TYPESCRIPT || l == HUD_LANG_TSX
             ? hsn_rewrite_slots(ix, l, mod, url, src, len, pro, slots, nslots, &r)
             : HUD_EINVAL;
  }
  if (rc) {
    throw_rc(env, rc);
  } else {
    ret = result_to_js(env, r);
  }
  hsn_result_free(r);
  free(src);
  free(mod);
  free(url);
  free(lang);
  free(pro);
  return ret;
}

/* {ids, names, startLines, endLines, async, parents, hashes, points, parseErrors} of IDX, the index of
 * SRC (LEN bytes), or NULL with a JS exception pending. */
static napi_value functions_to_js(napi_env env, const hud_index_result *idx, const char *src,
                                  size_t len) {
  napi_value obj, ids, names, starts, ends, async, parents, hashes, v, ab, pts;
  size_t nf = idx->nfuncs;
  if (napi_create_object(env, &obj) != napi_ok ||
      napi_create_array_with_length(env, nf, &ids) != napi_ok ||
      napi_create_array_with_length(env, nf, &names) != napi_ok ||
      napi_create_array_with_length(env, nf, &starts) != napi_ok ||
      napi_create_array_with_length(env, nf, &ends) != napi_ok ||
      napi_create_array_with_length(env, nf, &async) != napi_ok ||
      napi_create_array_with_length(env, nf, &parents) != napi_ok ||
      napi_create_array_with_length(env, nf, &hashes) != napi_ok)
    return NULL;
  for (size_t i = 0; i < nf; i++) {
    const hud_index_func *f = &idx->funcs[i];
    uint32_t k = (uint32_t)i;
    if (napi_create_string_utf8(env, f->function_id, NAPI_AUTO_LENGTH, &v) != napi_ok ||
        napi_set_element(env, ids, k, v) != napi_ok ||
        napi_create_string_utf8(env, f->qualname, NAPI_AUTO_LENGTH, &v) != napi_ok ||
        napi_set_element(env, names, k, v) != napi_ok ||
        napi_create_int32(env, f->start_line, &v) != napi_ok ||
        napi_set_element(env, starts, k, v) != napi_ok ||
        napi_create_int32(env, f->end_line, &v) != napi_ok ||
        napi_set_element(env, ends, k, v) != napi_ok ||
        napi_get_boolean(env, f->is_async, &v) != napi_ok ||
        napi_set_element(env, async, k, v) != napi_ok ||
        napi_create_int32(env, f->parent, &v) != napi_ok ||
        napi_set_element(env, parents, k, v) != napi_ok ||
        napi_create_string_utf8(env, f->source_code_hash, NAPI_AUTO_LENGTH, &v) != napi_ok ||
        napi_set_element(env, hashes, k, v) != napi_ok)
      return NULL;
  }
  void *data = NULL;
  if (napi_create_arraybuffer(env, nf * HSN_POINTS_PER_FN * sizeof(uint32_t), &data, &ab) != napi_ok)
    return NULL;
  if (hsn_points(idx, src, len, data)) {
    napi_throw_error(env, NULL, hud_strerror(HUD_ENOMEM));
    return NULL;
  }
  if (napi_create_typedarray(env, napi_uint32_array, nf * HSN_POINTS_PER_FN, ab, 0, &pts) != napi_ok ||
      napi_set_named_property(env, obj, "ids", ids) != napi_ok ||
      napi_set_named_property(env, obj, "names", names) != napi_ok ||
      napi_set_named_property(env, obj, "startLines", starts) != napi_ok ||
      napi_set_named_property(env, obj, "endLines", ends) != napi_ok ||
      napi_set_named_property(env, obj, "async", async) != napi_ok ||
      napi_set_named_property(env, obj, "parents", parents) != napi_ok ||
      napi_set_named_property(env, obj, "hashes", hashes) != napi_ok ||
      napi_set_named_property(env, obj, "points", pts) != napi_ok ||
      napi_get_boolean(env, idx->parse_errors, &v) != napi_ok ||
      napi_set_named_property(env, obj, "parseErrors", v) != napi_ok)
    return NULL;
  return obj;
}

static napi_value js_functions(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (!call_args(env, info, 3, argv, &argc, "functions(source, modulePath, lang)")) return NULL;
  size_t len = 0;
  char *src = arg_str(env, argv[0], &len), *mod = arg_str(env, argv[1], NULL);
  char *lang = arg_str(env, argv[2], NULL);
  hud_indexer *ix = env_indexer(env);
  hud_index_result *idx = NULL;
  int rc = HUD_EINVAL;
  if (src && mod && lang && ix) {
    hud_lang l = hud_lang_from_name(lang);
    rc = l == HUD_LANG_JAVASCRIPT || l == HUD_LANG_TYPESCRIPT || l == HUD_LANG_TSX
             ? hud_indexer_run(ix, l, mod, src, len, NULL, &idx)
             : HUD_EINVAL;
  }
  napi_value ret = NULL;
  if (rc) throw_rc(env, rc);
  else ret = functions_to_js(env, idx, src, len);
  hud_index_result_free(idx);
  free(src);
  free(mod);
  free(lang);
  return ret;
}

static napi_value js_parses(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (!call_args(env, info, 2, argv, &argc, "parses(code, lang)")) return NULL;
  size_t len = 0;
  char *code = arg_str(env, argv[0], &len), *lang = arg_str(env, argv[1], NULL);
  bool clean = false;
  int rc = code && lang ? hsn_parses_cleanly(hud_lang_from_name(lang), code, len, &clean) : HUD_EINVAL;
  napi_value ret = NULL;
  if (rc) throw_rc(env, rc);
  else if (napi_get_boolean(env, clean, &ret) != napi_ok) ret = NULL;
  free(code);
  free(lang);
  return ret;
}

static bool export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, name, fn) == napi_ok;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  if (hsn_runtime_init(env, exports) != 0) return NULL;
  if (!export_fn(env, exports, "instrument", js_instrument) ||
      !export_fn(env, exports, "functions", js_functions) || !export_fn(env, exports, "parses", js_parses))
    return NULL;
  return exports;
}
